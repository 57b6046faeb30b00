/*
 * Fake flash and bootloader HAL for the host tests of the boot code (fw_boot_hal.h): a small
 * NOR flash in RAM with 1 KiB sectors that enforces erase-before-program, counts every erase
 * and program, and can lose power at the N-th one: the operation is then done in part (how
 * much is chosen by fake_flash_cut) and control returns to fake_flash_power_jmp by longjmp.
 * The UART, clock, reset and start of the bootloader HAL are recorded for the tests.
 */
#ifndef FAKE_FLASH_H
#define FAKE_FLASH_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_boot_hal.h"

#define FAKE_FLASH_SECTOR 0x400u
#define FAKE_SLOT_SIZE	  0x3000u /* 12 KiB */
#define FAKE_SLOT_A	  0x1000u
#define FAKE_SLOT_B	  (FAKE_SLOT_A + FAKE_SLOT_SIZE)
#define FAKE_NCTR	  (FAKE_SLOT_B + FAKE_SLOT_SIZE) /* two sectors: nonce counter */
#define FAKE_FLASH_SIZE	  (FAKE_NCTR + 2u * FAKE_FLASH_SECTOR)
#define FAKE_BOARD	  0x7E57u

/* How an operation cut by power loss is left. */
enum fake_cut {
	FAKE_CUT_NONE,	  /* nothing of it happened */
	FAKE_CUT_HALF,	  /* the first half of the bytes were done */
	FAKE_CUT_GARBAGE, /* the first half done, the byte after it left half-programmed */
	FAKE_CUT_MODES
};

extern uint8_t fake_flash[FAKE_FLASH_SIZE];
extern unsigned fake_flash_ops;	    /* erases + programs since fake_flash_reset() */
extern unsigned fake_flash_fail_at; /* power fails at this operation (1-based); 0 = never */
extern enum fake_cut fake_flash_cut;
extern jmp_buf *fake_flash_power_jmp;  /* where a power loss lands (must be set if fail_at) */
extern unsigned fake_flash_violations; /* programs of a 1 over a 0, and out-of-range access */
extern const struct fw_boot_layout fake_layout;

extern bool fake_boot_request;	  /* hal_boot_take_request() returns and clears it */
extern unsigned fake_boot_enters; /* hal_boot_enter() calls */

/* Erased flash, counters zero, no failure armed, no request. */
void fake_flash_reset(void);

#endif /* FAKE_FLASH_H */
