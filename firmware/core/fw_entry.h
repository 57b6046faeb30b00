/*
 * Authenticated entry into the bootloader, the part the application and the bootloader share:
 * the entry key (FW_ENTRY_KEY, built in), the one-time nonce made from the flash counter
 * (fw_nctr.h) and the check of the host's MAC over it (include/rinki/fwimage.h).
 */
#ifndef FW_ENTRY_H
#define FW_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_boot_hal.h"

/* The nonce the board shows now: SipHash of the counter's value in flash. Reads only. */
uint64_t fw_entry_nonce(const struct fw_boot_layout *lay);

/*
 * Check mac against the nonce shown (fw_entry_nonce) and use that nonce up: the counter is
 * stepped in flash first, so the nonce is never shown again, after a reset or power loss
 * either. True only if the step was stored and mac is SipHash-2-4(key, RINKI_BOOT_ENTRY_TAG ||
 * nonce || board id).
 */
bool fw_entry_check(const struct fw_boot_layout *lay, uint64_t mac);

#endif /* FW_ENTRY_H */
