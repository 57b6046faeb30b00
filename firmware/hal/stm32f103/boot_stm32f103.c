/*
 * Bootloader target code for the STM32F103 board: the UART half of the bootloader's HAL
 * (fw_boot_hal.h) and the target hooks of boot_cm3.h (vector table, reset, clock and jump are
 * firmware/boot/boot_cm3.c). USART1 and SysTick are polled. It runs on the 8 MHz HSI as the chip
 * comes out of reset (no crystal, no PLL: fewer ways to fail, and the application sets its own
 * clock from that reset-like state); 115200 baud is then BRR 69, 0.6 % fast. No interrupt is
 * used. The IWDG is off after a reset unless the option bytes start it in hardware; the idle
 * call reloads it anyway, so the bootloader also works on a board configured that way. Flash,
 * layout and sectors: flash_stm32f103.c, shared with the application. Not run on hardware.
 */
#include <stdint.h>

#include "boot_cm3.h"
#include "fw_boot_hal.h"
#include "hal_stm32f103.h"
#include "regs_stm32f103.h"

#define BOOT_SYSCLK_HZ 8000000u /* HSI after reset */

_Static_assert(F103_BOOT_REQ_MAGIC == BOOT_REQ_MAGIC, "application and bootloader disagree");

extern uint32_t _sretained[];

void boot_target_init(void)
{
	SYST_RVR = BOOT_SYSCLK_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 0x5; /* core clock, enable, no interrupt: COUNTFLAG is polled */
	f103_usart1_init(BOOT_SYSCLK_HZ, FW_UART_BAUD, 0);
}

volatile uint32_t *boot_target_request_word(void)
{
	return &_sretained[F103_RETAINED_BOOT_REQ];
}

int hal_boot_uart_getc(void)
{
	uint32_t sr = USART_SR;

	if (!(sr & (USART_SR_RXNE | USART_SR_ORE)))
		return -1;
	return (int)(USART_DR & 0xFF); /* SR then DR also clears ORE; the lost byte shows as CRC */
}

void hal_boot_idle(void)
{
	IWDG_KR = IWDG_KEY_RELOAD;
}

void hal_boot_uart_write(const uint8_t *buf, uint16_t len)
{
	for (uint16_t i = 0; i < len; i++) {
		while (!(USART_SR & USART_SR_TXE))
			;
		USART_DR = buf[i];
	}
	boot_target_drain();
}

void boot_target_drain(void)
{
	while (!(USART_SR & USART_SR_TC))
		;
}

void boot_target_stop(void)
{
	boot_target_drain();
	USART_CR1 = 0;
}
