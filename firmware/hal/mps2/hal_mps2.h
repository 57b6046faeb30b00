/*
 * mps2-an385 target facts shared by the application HAL, the flash code and the bootloader,
 * and the interrupt handlers of the application HAL, referenced by the vector table in
 * startup.c.
 */
#ifndef HAL_MPS2_H
#define HAL_MPS2_H

#define MPS2_SYSCLK_HZ 25000000u
#ifndef FW_UART_BAUD
#define FW_UART_BAUD 115200u
#endif
#define MPS2_UART_BAUD FW_UART_BAUD

/*
 * Flash map (QEMU's code RAM, treated as NOR flash): bootloader 0x0000-0x0FFF, slot A
 * 0x1000-0xAFFF, slot B 0xB000-0x14FFF, entry nonce counter (fw_nctr.h) 0x15000-0x157FF;
 * 1 KiB sectors. The link scripts repeat these.
 */
#define MPS2_SECTOR_SIZE 0x400u
#define MPS2_SLOT_A	 0x00001000u
#define MPS2_SLOT_B	 0x0000B000u
#define MPS2_SLOT_SIZE	 0x0000A000u
#define MPS2_NCTR	 0x00015000u /* 2 sectors */

/*
 * Retained words (link.ld): 0..3 the core's (HAL_RETAINED_WORDS), 4 the watchdog flag, 5 the
 * request to stay in the bootloader.
 */
#define MPS2_RETAINED_WDT_FLAG 4
#define MPS2_RETAINED_BOOT_REQ 5
#define MPS2_BOOT_REQ_MAGIC    0x544F4F42u /* "BOOT" */

/* NMI: first expiry of the CMSDK watchdog; records the cause and waits for the reset. */
void mps2_nmi_handler(void);
/* SysTick, 1 ms. */
void mps2_systick_handler(void);
/* UART0 receive: queue bytes, restart the gap timer. */
void mps2_uart0_rx_handler(void);
/* TIMER0 expiry: queue HAL_UART_GAP. */
void mps2_timer0_handler(void);

#endif /* HAL_MPS2_H */
