/*
 * The Cortex-M3 part of the bootloader, the same on every target (boot_cm3.h): a vector table
 * with only the reset entry live (no handler ever runs: interrupts stay masked, and a fault
 * spins until a reset), the reset handler (RAM set up by firmware/hal/cm3/cm3_crt.h, shared
 * with the application), the millisecond clock polled from SysTick's COUNTFLAG, the request
 * word, the reset by SYSRESETREQ and the jump into an application slot.
 * Core register addresses are ARMv7-M's (the same on mps2-an385 and STM32F103).
 */
#include <stdbool.h>
#include <stdint.h>

#include "boot_cm3.h"
#include "boot_main.h"
#include "cm3_crt.h"
#include "fw_boot_hal.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define SYST_CSR	  REG(0xE000E010u)
#define SYST_COUNTFLAG	  (1u << 16)
#define SCB_ICSR	  REG(0xE000ED04u)
#define ICSR_PENDSTCLR	  (1u << 25)
#define SCB_VTOR	  REG(0xE000ED08u)
#define SCB_AIRCR	  REG(0xE000ED0Cu)
#define AIRCR_SYSRESETREQ 0x05FA0004u
#define NVIC_ICER0	  REG(0xE000E180u)
#define NVIC_ICPR0	  REG(0xE000E280u)

extern uint32_t _estack;

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
	__asm volatile("cpsid i" ::: "memory");
	cm3_crt_init();
	boot_target_init();
	boot_main();
}

bool hal_boot_take_request(void)
{
	volatile uint32_t *w = boot_target_request_word();
	bool req = *w == BOOT_REQ_MAGIC;

	*w = 0;
	return req;
}

uint32_t hal_boot_time_ms(void)
{
	if (SYST_CSR & SYST_COUNTFLAG) /* reading clears it */
		ticks++;
	return ticks;
}

void hal_boot_reset(void)
{
	boot_target_drain();
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
	boot_target_stop();
	SYST_CSR = 0;
	NVIC_ICER0 = 0xFFFFFFFFu;
	NVIC_ICPR0 = 0xFFFFFFFFu;
	SCB_ICSR = ICSR_PENDSTCLR;
	SCB_VTOR = addr;
	__asm volatile("dsb\n\tisb\n\tcpsie i" ::: "memory");
	__asm volatile("msr msp, %0\n\tbx %1" : : "r"(vt[0]), "r"(vt[1]) : "memory");
	for (;;)
		;
}
