/*
 * Bootloader target code for QEMU mps2-an385: vector table, reset handler, and the
 * bootloader's HAL (fw_boot_hal.h): UART0 and SysTick polled, reset by SYSRESETREQ, and the
 * jump into an application slot. No handler ever runs: interrupts stay masked (PRIMASK), the
 * UART receive and SysTick interrupts are enabled only to wake the core from WFI. (Busy
 * polling also works but QEMU then feeds the UART three times slower.) The watchdog stays
 * off, as it is after every reset; the application starts it.
 */
#include <stdint.h>

#include "boot_main.h"
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

#define SYST_CSR	  REG(0xE000E010u)
#define SYST_RVR	  REG(0xE000E014u)
#define SYST_CVR	  REG(0xE000E018u)
#define SYST_COUNTFLAG	  (1u << 16)
#define SCB_VTOR	  REG(0xE000ED08u)
#define SCB_AIRCR	  REG(0xE000ED0Cu)
#define AIRCR_SYSRESETREQ 0x05FA0004u
#define SCB_ICSR	  REG(0xE000ED04u)
#define ICSR_PENDSTCLR	  (1u << 25)
#define NVIC_ISER0	  REG(0xE000E100u)
#define NVIC_ICER0	  REG(0xE000E180u)
#define NVIC_ICPR0	  REG(0xE000E280u)

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern uint32_t _sretained[];

void Reset_Handler(void);
static void Spin_Handler(void);

static uint32_t ticks;

__attribute__((section(".isr_vector"), used)) static void (*const vectors[])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Spin_Handler, /* NMI */
    Spin_Handler,					     /* HardFault */
};

static void Spin_Handler(void)
{
	for (;;)
		;
}

void Reset_Handler(void)
{
	uint32_t *src = &_sidata, *dst = &_sdata;

	__asm volatile("cpsid i" ::: "memory");
	while (dst < &_edata)
		*dst++ = *src++;
	for (dst = &_sbss; dst < &_ebss; dst++)
		*dst = 0;
	SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 0x7; /* core clock, enable, interrupt (wake-up only) */
	UART_BAUDDIV = MPS2_SYSCLK_HZ / MPS2_UART_BAUD;
	UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXIE;
	NVIC_ISER0 = 1u << UART0_RX_IRQ;
	boot_main();
}

bool hal_boot_take_request(void)
{
	bool req = _sretained[MPS2_RETAINED_BOOT_REQ] == MPS2_BOOT_REQ_MAGIC;

	_sretained[MPS2_RETAINED_BOOT_REQ] = 0;
	return req;
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

uint32_t hal_boot_time_ms(void)
{
	if (SYST_CSR & SYST_COUNTFLAG) /* reading clears it */
		ticks++;
	return ticks;
}

void hal_boot_reset(void)
{
	/* Let the last reply byte leave the shift register (about 0.1 ms at 115200). */
	uint32_t t0 = hal_boot_time_ms();
	while (hal_boot_time_ms() - t0 < 2)
		;
	__asm volatile("dsb" ::: "memory");
	SCB_AIRCR = AIRCR_SYSRESETREQ;
	__asm volatile("dsb" ::: "memory");
	for (;;)
		;
}

void hal_boot_start(uint32_t addr)
{
	const volatile uint32_t *vt = (const volatile uint32_t *)addr;

	/* Leave as after reset: no interrupt source on or pending, PRIMASK clear. */
	SYST_CSR = 0;
	UART_CTRL = 0;
	UART_INT = UART_INT_RX;
	NVIC_ICER0 = 0xFFFFFFFFu;
	NVIC_ICPR0 = 0xFFFFFFFFu;
	SCB_ICSR = ICSR_PENDSTCLR;
	SCB_VTOR = addr;
	__asm volatile("dsb\n\tisb\n\tcpsie i" ::: "memory");
	__asm volatile("msr msp, %0\n\tbx %1" : : "r"(vt[0]), "r"(vt[1]) : "memory");
	for (;;)
		;
}
