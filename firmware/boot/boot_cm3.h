/*
 * The Cortex-M3 part of the bootloader shared by the targets (boot_cm3.c): vector table, reset
 * handler, SysTick clock, the "stay" request, reset and the jump into a slot. Each target
 * (firmware/hal/<target>/boot_<target>.c) supplies its UART half of fw_boot_hal.h and the
 * hooks below.
 */
#ifndef BOOT_CM3_H
#define BOOT_CM3_H

#include <stdint.h>

/* Value the application leaves in the request word to keep the next boot in the bootloader. */
#define BOOT_REQ_MAGIC 0x544F4F42u /* "BOOT" */

/*
 * Target start-up, called with interrupts masked after .data/.bss are set up and before
 * boot_main(): the clock, SysTick running at 1 ms with COUNTFLAG (hal_boot_time_ms polls it),
 * the UART.
 */
void boot_target_init(void);

/* Return once the last byte handed to the UART has left it (before a reset). */
void boot_target_drain(void);

/* Turn off what boot_target_init() started, except SysTick, before the jump into a slot. */
void boot_target_stop(void);

/* The retained RAM word that carries the request across the reset; never NULL. */
volatile uint32_t *boot_target_request_word(void);

#endif /* BOOT_CM3_H */
