/*
 * Firmware version, reported in RINKI_IREG_FW_MAJOR/MINOR/PATCH. The 32-bit build hash
 * (RINKI_IREG_BUILD_HASH_*) comes from FW_BUILD_HASH, set by firmware/firmware.mk.
 */
#ifndef FW_VERSION_H
#define FW_VERSION_H

#define FW_VERSION_MAJOR 0
#define FW_VERSION_MINOR 1
#define FW_VERSION_PATCH 0

#ifndef FW_BUILD_HASH
#define FW_BUILD_HASH 0x00000000u
#endif

#endif /* FW_VERSION_H */
