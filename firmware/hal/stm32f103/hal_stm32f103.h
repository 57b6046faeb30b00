/*
 * STM32F103 (Blue Pill class board, rev A) target facts shared by the application HAL and the
 * flash code, and the interrupt handlers of the application HAL referenced by the vector table
 * in startup.c.
 * Register definitions: regs_stm32f103.h.
 */
#ifndef HAL_STM32F103_H
#define HAL_STM32F103_H

#ifndef FW_UART_BAUD
#define FW_UART_BAUD 115200u
#endif

/*
 * Flash map (STM32F103C8: 64 KiB at 0x08000000 [CMSIS FLASH_BASE], 1 KiB pages: page size
 * unverified, hw/stm32f103-facts.md): bootloader 0x08000000-0x08000FFF,
 * slot A 0x08001000-0x080083FF, slot B 0x08008400-0x0800F7FF, entry nonce counter (fw_nctr.h)
 * 0x0800F800-0x0800FFFF (its two pages were taken from the slots, 30 KiB each before). The link
 * scripts repeat these.
 */
#define F103_FLASH_BASE	 0x08000000u
#define F103_SECTOR_SIZE 0x400u
#define F103_SLOT_A	 0x08001000u
#define F103_SLOT_B	 0x08008400u
#define F103_SLOT_SIZE	 0x00007400u
#define F103_NCTR	 0x0800F800u /* 2 pages */

/* Retained words (link.ld), as on mps2: 0..3 the core's, 4 unused, 5 the boot request. */
#define F103_RETAINED_BOOT_REQ 5
#define F103_BOOT_REQ_MAGIC    0x544F4F42u /* "BOOT" */

/* SysTick, 1 ms. */
void f103_systick_handler(void);
/* USART1: queue received bytes, restart the gap timer. */
void f103_usart1_handler(void);
/* TIM2 update: queue HAL_UART_GAP. */
void f103_tim2_handler(void);

#endif /* HAL_STM32F103_H */
