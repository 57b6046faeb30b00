/*
 * The bootloader's main loop, target-independent: reject a failed trial, then run the
 * protocol engine over the HAL's polled UART until it says to start a slot or to reset.
 */
#ifndef BOOT_MAIN_H
#define BOOT_MAIN_H

/* Run the bootloader; called by the target's reset handler. Never returns. */
void boot_main(void);

#endif /* BOOT_MAIN_H */
