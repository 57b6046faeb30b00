/*
 * Bootloader target code for QEMU mps2-an385: the UART half of the bootloader's HAL
 * (fw_boot_hal.h) and the target hooks of boot_cm3.h. UART0 and SysTick are polled; the UART
 * receive and SysTick interrupts are enabled only to wake the core from WFI (PRIMASK stays
 * set, so no handler runs). Busy polling also works but QEMU then feeds the UART three times
 * slower. The watchdog stays off, as it is after every reset; the application starts it.
 */
#include <stdint.h>

#include "boot_cm3.h"
#include "fw_boot_hal.h"
#include "hal_mps2.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART0		  0x40004000u
#define UART_DATA	  REG(UART0 + 0x00)
#define UART_STATE	  REG(UART0 + 0x04)
#define UART_CTRL	  REG(UART0 + 0x08)
#define UART_BAUDDIV	  REG(UART0 + 0x10)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TXEN	  0x1u
#define UART_CTRL_RXEN	  0x2u
#define UART_CTRL_RXIE	  0x8u
#define UART_INT	  REG(UART0 + 0x0C)
#define UART_INT_RX	  0x2u
#define UART0_RX_IRQ	  0

#define SYST_CSR       REG(0xE000E010u)
#define SYST_RVR       REG(0xE000E014u)
#define SYST_CVR       REG(0xE000E018u)
#define SCB_ICSR       REG(0xE000ED04u)
#define ICSR_PENDSTCLR (1u << 25)
#define NVIC_ISER0     REG(0xE000E100u)
#define NVIC_ICPR0     REG(0xE000E280u)

_Static_assert(MPS2_BOOT_REQ_MAGIC == BOOT_REQ_MAGIC, "application and bootloader disagree");

extern uint32_t _sretained[];

void boot_target_init(void)
{
	SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 0x7; /* core clock, enable, interrupt (wake-up only) */
	UART_BAUDDIV = MPS2_SYSCLK_HZ / MPS2_UART_BAUD;
	UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXIE;
	NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

volatile uint32_t *boot_target_request_word(void)
{
	return &_sretained[MPS2_RETAINED_BOOT_REQ];
}

int hal_boot_uart_getc(void)
{
	if (!(UART_STATE & UART_STATE_RXFULL))
		return -1;
	return (int)(UART_DATA & 0xFF);
}

void hal_boot_idle(void)
{
	UART_INT = UART_INT_RX;
	NVIC_ICPR0 = 1u << UART0_RX_IRQ;
	SCB_ICSR = ICSR_PENDSTCLR;
	if (!(UART_STATE & UART_STATE_RXFULL))
		__asm volatile("wfi" ::: "memory");
}

void hal_boot_uart_write(const uint8_t *buf, uint16_t len)
{
	for (uint16_t i = 0; i < len; i++) {
		while (UART_STATE & UART_STATE_TXFULL)
			;
		UART_DATA = buf[i];
	}
	while (UART_STATE & UART_STATE_TXFULL)
		;
}

void boot_target_drain(void)
{
	/* Let the last reply byte leave the shift register (about 0.1 ms at 115200). */
	uint32_t t0 = hal_boot_time_ms();
	while (hal_boot_time_ms() - t0 < 2)
		;
}

void boot_target_stop(void)
{
	UART_CTRL = 0;
	UART_INT = UART_INT_RX;
}
