/*
 * The HAL functions the bootloader core (fw_boot, fw_boot_proto) and the application's boot
 * control (fw_boot_app) need beyond hal.h: the flash, the slot layout, the "stay in the
 * bootloader" request across a reset, and the bootloader's own polled UART and clock. One
 * implementation per target (firmware/hal/<target>/), plus the fakes of the host tests
 * (tests/unit/fw/fake_flash.c).
 */
#ifndef FW_BOOT_HAL_H
#define FW_BOOT_HAL_H

#include <stdbool.h>
#include <stdint.h>

/* Where the slots are. Slots are whole sectors; the first sector holds the header area. */
struct fw_boot_layout {
	uint32_t slot_addr[2]; /* slot A, slot B */
	uint32_t slot_size;    /* bytes per slot, header area included */
	uint32_t sector_size;  /* erase unit */
	uint32_t nctr_addr;    /* two sectors for the entry nonce counter (fw_nctr.h) */
	uint16_t board_id;     /* RINKI_BOARD_ID_* of this board */
};

/* The board's layout; never NULL. */
const struct fw_boot_layout *hal_boot_layout(void);

/* Erase the sector that starts at addr (all bits to 1). Returns 0, or -1 on failure. */
int hal_flash_erase(uint32_t addr);

/*
 * Program len bytes at addr. Programming only clears bits: writing a 1 over a 0 fails (the
 * sector needs an erase first). Returns 0, or -1 on failure.
 */
int hal_flash_write(uint32_t addr, const void *buf, uint32_t len);

/* Read len bytes at addr. */
void hal_flash_read(uint32_t addr, void *buf, uint32_t len);

/* Application: make the next bootloader run stay in the bootloader, then reset. No return. */
void hal_boot_enter(void);

/* Bootloader: true if the application asked to stay (hal_boot_enter); clears the request. */
bool hal_boot_take_request(void);

/* Bootloader: next received byte 0..255, or -1 if none. Never blocks. */
int hal_boot_uart_getc(void);

/* Bootloader: sleep until a byte may have arrived or about 1 ms passed. */
void hal_boot_idle(void);

/* Bootloader: send len bytes; returns when the last one has left the UART. */
void hal_boot_uart_write(const uint8_t *buf, uint16_t len);

/* Bootloader: milliseconds since it started; call at least every ms to keep it counting. */
uint32_t hal_boot_time_ms(void);

/* Bootloader: reset the MCU. No return. */
void hal_boot_reset(void);

/* Bootloader: start the application whose vector table is at vectors. No return. */
void hal_boot_start(uint32_t vectors);

#endif /* FW_BOOT_HAL_H */
