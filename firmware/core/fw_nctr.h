/*
 * The entry nonce counter: a 32-bit counter in two reserved flash sectors that only ever goes
 * up, across resets and power loss, so a nonce made from it is never shown twice (hw/
 * bootloader.md). Shared by the bootloader and the application, which take turns with it.
 */
#ifndef FW_NCTR_H
#define FW_NCTR_H

#include <stdint.h>

#include "fw_boot_hal.h"

/* Words of a counter sector's header: the sector's base value and its complement. */
#define FW_NCTR_HDR_WORDS 2u
/* The counter refuses to go past this (a value must never wrap around). */
#define FW_NCTR_MAX 0xFFFFFF00u

/* The counter's value as it is in flash (0 before its first step). Reads only. */
uint32_t fw_nctr_value(const struct fw_boot_layout *lay);

/*
 * Step the counter by one in flash and return the new value in *val: 0, or -1 if a flash
 * write failed or the counter is at FW_NCTR_MAX. A value is returned only once the flash holds
 * it, so whatever power loss does, no two calls ever return the same value.
 */
int fw_nctr_step(const struct fw_boot_layout *lay, uint32_t *val);

#endif /* FW_NCTR_H */
