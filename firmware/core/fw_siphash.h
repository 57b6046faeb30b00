/*
 * SipHash-2-4 (Aumasson and Bernstein), the keyed 64-bit MAC the application checks before it
 * enters the bootloader (fw_boot_app.c, hw/bootloader.md): small enough for the MCU, the same
 * function as libsodium's crypto_shorthash_siphash24() that rinki-flash uses on the host.
 */
#ifndef FW_SIPHASH_H
#define FW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define FW_SIPHASH_KEY_SIZE 16u

/* SipHash-2-4 of the len bytes at in under the 16-byte key; the 64-bit result. */
uint64_t fw_siphash(const uint8_t key[FW_SIPHASH_KEY_SIZE], const void *in, size_t len);

#endif /* FW_SIPHASH_H */
