/*
 * Start of the application on every Cortex-M3 target (cm3_start.c): the reset handler and the
 * handlers that spin until the hardware watchdog resets the MCU. Each target's startup.c puts
 * them into its vector table (section .isr_vector, first in flash; sections.ld marks its
 * address as _svectors) next to the target's own interrupt handlers.
 */
#ifndef CM3_START_H
#define CM3_START_H

/* Reset entry: C run-time set-up (cm3_crt.h), then fw_main_run(); never returns. */
void Reset_Handler(void);

/* Faults: spin until the hardware watchdog resets the MCU. */
void cm3_fault_handler(void);

/* Exceptions and interrupts the firmware does not use: spin the same way. */
void cm3_default_handler(void);

#endif /* CM3_START_H */
