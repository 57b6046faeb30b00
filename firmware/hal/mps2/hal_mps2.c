/*
 * HAL for QEMU mps2-an385 (Cortex-M3, 25 MHz): UART0 (CMSDK APB UART, RX interrupt into the
 * receive event queue of firmware/core/fw_rxq.c), TIMER0 as a one-shot inter-frame gap timer
 * restarted by every received byte, the ms clock read from TIMER1 free-running (SysTick only
 * wakes the loop every ms and brings the clock up to date), the CMSDK APB watchdog (first expiry
 * NMI, second reset), and GPIO simulated in RAM because the machine has no GPIO model (pin levels
 * at the indices and active levels hw/pins.csv gives target mps2, through the generated pins.h),
 * and the entry into the bootloader (fw_boot_hal.h) by SYSRESETREQ. Register facts are from
 * shared/reference/firmware-qemu.md; the timer IRQ number (8) was checked by running it.
 *
 * Why the clock is not a count of SysTick interrupts: QEMU runs with -icount sleep=on
 * (tests/integration/qemu_rig.c), so while the guest sleeps its clock follows the host's, and a
 * wake-up the host schedules late moves it on by the whole delay at once. The SysTick periods
 * that expired meanwhile pend one interrupt, not one each, so a counted clock fell behind the
 * clock the watchdog counts down on: on a host that woke QEMU about 10 ms late every time, the
 * 50 counted ms between kicks (fw_wdt.h) were 500 ms of watchdog time, and the board reset in
 * the middle of a Modbus transaction (issue #12). TIMER1 counts the same clock as the watchdog.
 */
#include <stddef.h>
#include <stdint.h>

#include "fw_boot_hal.h"
#include "fw_rxq.h"
#include "hal.h"
#include "hal_mps2.h"
#include "pins.h"
#include "rinki/regmap.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define SYSCLK_HZ MPS2_SYSCLK_HZ

/* Modbus inter-frame gap: 3.5 characters of 10 bits (8N1), 1.75 ms above 19200 baud (hal.h). */
#ifndef FW_UART_GAP_US
#define FW_UART_GAP_US HAL_UART_GAP_US(FW_UART_BAUD)
#endif

#define UART0		  0x40004000u
#define UART_DATA	  REG(UART0 + 0x00)
#define UART_STATE	  REG(UART0 + 0x04)
#define UART_CTRL	  REG(UART0 + 0x08)
#define UART_INT	  REG(UART0 + 0x0C)
#define UART_BAUDDIV	  REG(UART0 + 0x10)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TXEN	  0x1u
#define UART_CTRL_RXEN	  0x2u
#define UART_CTRL_RXIE	  0x8u
#define UART_INT_RX	  0x2u
#define UART0_RX_IRQ	  0

#define TIMER0		 0x40000000u
#define TIMER_CTRL	 REG(TIMER0 + 0x00)
#define TIMER_VALUE	 REG(TIMER0 + 0x04)
#define TIMER_RELOAD	 REG(TIMER0 + 0x08)
#define TIMER_INT	 REG(TIMER0 + 0x0C)
#define TIMER_CTRL_EN	 0x1u
#define TIMER_CTRL_IRQEN 0x8u
#define TIMER0_IRQ	 8

#define TIMER1	      0x40001000u /* free-running, the ms clock's source */
#define TIMER1_CTRL   REG(TIMER1 + 0x00)
#define TIMER1_VALUE  REG(TIMER1 + 0x04)
#define TIMER1_RELOAD REG(TIMER1 + 0x08)
#define CYCLES_PER_MS (SYSCLK_HZ / 1000u)

#define WDT		  0x40008000u
#define WDT_LOAD	  REG(WDT + 0x000)
#define WDT_CONTROL	  REG(WDT + 0x008)
#define WDT_INTCLR	  REG(WDT + 0x00C)
#define WDT_LOCK	  REG(WDT + 0xC00)
#define WDT_UNLOCK_KEY	  0x1ACCE551u
#define WDT_CONTROL_INTEN 0x1u
#define WDT_CONTROL_RESEN 0x2u
#define WDT_TIMEOUT_MS	  500u /* NMI after this, reset after twice this */

#define SCB_AIRCR	  REG(0xE000ED0Cu)
#define AIRCR_SYSRESETREQ 0x05FA0004u

#define SYST_CSR   REG(0xE000E010u)
#define SYST_RVR   REG(0xE000E014u)
#define SYST_CVR   REG(0xE000E018u)
#define NVIC_ISER0 REG(0xE000E100u)
#define NVIC_ISPR0 REG(0xE000E200u)
#define NVIC_ICPR0 REG(0xE000E280u)

#define WDT_FLAG_MAGIC 0x57445446u /* "WDTF" */

/* The ms clock: written only by the SysTick handler, from TIMER1's down-count. */
static volatile uint32_t ticks_ms;
static uint32_t clock_last;   /* TIMER1_VALUE at the last update */
static uint32_t clock_cycles; /* cycles counted since then that make no whole ms yet */
static struct fw_rxq rxq;     /* pushed by the UART and gap-timer handlers */
/* Pins from hw/pins.csv (tools/pins-gen.sh): each HAL pin is a level in sim_level[]. */
#ifndef PINS_FOR_mps2
#error "pins.h is not the one generated for target mps2"
#endif
_Static_assert(PINS_HAL_COUNT == HAL_PIN_COUNT, "hw/pins.csv and hal.h disagree on the pins");
_Static_assert(PINS_HAL_PORT_MASK == 1u << PINS_PORT_SIM,
	       "hw/pins.csv: mps2 has no GPIO, every HAL pin must be on port SIM");
struct pin_def {
	uint8_t port, pin, active_low;
};
static const struct pin_def pins[HAL_PIN_COUNT] = {PINS_HAL_TABLE};
static uint8_t sim_level[PINS_SIM_COUNT]; /* the "wire" level of each simulated pin */

static enum hal_reset_cause reset_cause;

/* Retained RAM (link.ld): HAL_RETAINED_WORDS for the core, then the HAL's (hal_mps2.h). */
extern uint32_t _sretained[];
#define retained _sretained
#define wdt_flag (*(volatile uint32_t *)&_sretained[MPS2_RETAINED_WDT_FLAG])
#define boot_req (*(volatile uint32_t *)&_sretained[MPS2_RETAINED_BOOT_REQ])
_Static_assert(MPS2_RETAINED_WDT_FLAG >= HAL_RETAINED_WORDS, "retained words overlap");

static inline void irq_off(void)
{
	__asm volatile("cpsid i" ::: "memory");
}

static inline void irq_on(void)
{
	__asm volatile("cpsie i" ::: "memory");
}

void hal_init(void)
{
	fw_rxq_init(&rxq); /* before the receive interrupts are on */
	reset_cause = wdt_flag == WDT_FLAG_MAGIC ? HAL_RESET_WDT : HAL_RESET_POWER;
	wdt_flag = 0;

	WDT_LOCK = WDT_UNLOCK_KEY;
	WDT_LOAD = SYSCLK_HZ / 1000u * WDT_TIMEOUT_MS;
	WDT_CONTROL = WDT_CONTROL_INTEN | WDT_CONTROL_RESEN;
	WDT_LOCK = 0;

	/* TIMER1 counts down from 2^32 - 1 and wraps after 2^32 cycles (172 s, far more than
	   the 1 ms between updates), so differences mod 2^32 are elapsed cycles. */
	TIMER1_CTRL = 0;
	TIMER1_RELOAD = 0xFFFFFFFFu;
	TIMER1_VALUE = 0xFFFFFFFFu;
	TIMER1_CTRL = TIMER_CTRL_EN;
	clock_last = TIMER1_VALUE;
	clock_cycles = 0;
	ticks_ms = 0;

	SYST_RVR = SYSCLK_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 0x7; /* core clock, interrupt, enable */

	TIMER_CTRL = 0;
	TIMER_INT = 1;

	for (unsigned i = 0; i < HAL_PIN_COUNT; i++) /* outputs off, inputs inactive */
		sim_level[pins[i].pin] = pins[i].active_low;

	UART_BAUDDIV = SYSCLK_HZ / FW_UART_BAUD;
	UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXIE;
	NVIC_ISER0 = (1u << UART0_RX_IRQ) | (1u << TIMER0_IRQ);
	/*
	 * A byte that came in before RXIE was set (QEMU's UART takes one even with RX off, e.g.
	 * while the bootloader hands over) raises no interrupt, and the 1-byte buffer then takes
	 * no more: the UART would stay deaf. Run the handler once to drain it.
	 */
	NVIC_ISPR0 = 1u << UART0_RX_IRQ;
}

uint16_t hal_board_id(void)
{
	return RINKI_BOARD_ID_QEMU_MPS2;
}

uint32_t hal_time_ms(void)
{
	return ticks_ms;
}

/* Every ms, or later when QEMU was not run: add the whole ms TIMER1 counted since the last. */
void mps2_systick_handler(void)
{
	uint32_t now = TIMER1_VALUE;

	clock_cycles += clock_last - now; /* a down-counter: elapsed cycles, mod 2^32 */
	clock_last = now;
	ticks_ms += clock_cycles / CYCLES_PER_MS;
	clock_cycles %= CYCLES_PER_MS;
}

void mps2_uart0_rx_handler(void)
{
	uint32_t gap = SYSCLK_HZ / 1000000u * FW_UART_GAP_US;

	UART_INT = UART_INT_RX; /* clear before reading DATA */
	while (UART_STATE & UART_STATE_RXFULL)
		fw_rxq_push(&rxq, (uint16_t)(UART_DATA & 0xFF));

	/* Restart the one-shot gap timer, dropping an expiry that is already pending. */
	TIMER_CTRL = 0;
	TIMER_INT = 1;
	NVIC_ICPR0 = 1u << TIMER0_IRQ;
	TIMER_RELOAD = gap;
	TIMER_VALUE = gap;
	TIMER_CTRL = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
}

void mps2_timer0_handler(void)
{
	TIMER_CTRL = 0;
	TIMER_INT = 1;
	fw_rxq_push(&rxq, HAL_UART_GAP);
}

int hal_uart_getc(void)
{
	return fw_rxq_pop(&rxq);
}

void hal_uart_write(const uint8_t *buf, uint16_t len)
{
	for (uint16_t i = 0; i < len; i++) {
		while (UART_STATE & UART_STATE_TXFULL)
			;
		UART_DATA = buf[i];
	}
}

void hal_gpio_write(enum hal_pin pin, bool on)
{
	if (pin < HAL_PIN_COR)
		sim_level[pins[pin].pin] = on != (bool)pins[pin].active_low;
}

bool hal_gpio_read(enum hal_pin pin)
{
	return pin < HAL_PIN_COUNT && sim_level[pins[pin].pin] != (bool)pins[pin].active_low;
}

#ifdef FW_HAL_TEST_INPUTS
/* level is the logical one (true = active), as hal_gpio_read() returns it. */
void hal_test_set_input(enum hal_pin pin, bool level)
{
	if (pin >= HAL_PIN_COR && pin < HAL_PIN_COUNT)
		sim_level[pins[pin].pin] = level != (bool)pins[pin].active_low;
}
#endif

void hal_wdt_kick(void)
{
	WDT_LOCK = WDT_UNLOCK_KEY;
	WDT_INTCLR = 1; /* clears the interrupt and reloads the counter */
	WDT_LOCK = 0;
}

void mps2_nmi_handler(void)
{
	wdt_flag = WDT_FLAG_MAGIC;
	for (;;)
		;
}

enum hal_reset_cause hal_reset_cause(void)
{
	return reset_cause;
}

uint32_t *hal_retained(void)
{
	return retained;
}

void hal_idle(void)
{
	irq_off();
	if (fw_rxq_empty(&rxq))
		__asm volatile("wfi");
	irq_on();
}

void hal_boot_enter(void)
{
	/* Let the reply that asked for it leave the UART (about 1 ms at 115200), then reset. */
	uint32_t t0 = hal_time_ms();
	while (hal_time_ms() - t0 < 2)
		;
	boot_req = MPS2_BOOT_REQ_MAGIC;
	__asm volatile("dsb" ::: "memory");
	SCB_AIRCR = AIRCR_SYSRESETREQ;
	__asm volatile("dsb" ::: "memory");
	for (;;)
		;
}
