/*
 * The application's reset handler, the same on every Cortex-M3 target: set up RAM for C
 * (cm3_crt.h) and run the portable main loop (fw_main.c) with the address of the image's
 * vector table, which the bootloader's boot control needs to tell which slot it runs from.
 * The vector table itself is the target's (firmware/hal/<target>/startup.c).
 */
#include "cm3_start.h"

#include <stdint.h>

#include "cm3_crt.h"
#include "fw_main.h"

extern uint32_t _svectors[]; /* sections.ld: start of .isr_vector */

void Reset_Handler(void)
{
	cm3_crt_init();
	fw_main_run((uint32_t)_svectors);
}

void cm3_fault_handler(void)
{
	for (;;)
		;
}

void cm3_default_handler(void)
{
	for (;;)
		;
}
