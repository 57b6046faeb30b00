/*
 * The firmware's main loop, the same on every target (fw_main.c). A target's reset handler
 * (firmware/hal/cm3/cm3_start.c on Cortex-M3) calls it once RAM is set up.
 */
#ifndef FW_MAIN_H
#define FW_MAIN_H

#include <stdint.h>

/*
 * Start the HAL (hal_init) and the application (fw_app_init), then poll it and hal_idle()
 * forever. Built with FW_BOOT_APP (a slot image) it also runs the boot control: vectors is
 * the address of this image's vector table (which slot it is); otherwise vectors is unused.
 */
__attribute__((noreturn)) void fw_main_run(uint32_t vectors);

#endif /* FW_MAIN_H */
