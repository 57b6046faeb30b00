/*
 * HAL for the real board, rev A: STM32F103 (Cortex-M3), 8 MHz crystal and PLL to 72 MHz (HSI
 * 8 MHz if the crystal does not start). USART1 (PA9/PA10) with an RX interrupt into the receive
 * event queue of firmware/core/fw_rxq.c, TIM2 as a one-shot inter-frame gap timer restarted by
 * every received byte, SysTick as the 1 ms clock, the independent watchdog (IWDG, LSI clock),
 * GPIO from the generated pin header (hw/pins.csv via tools/pins-gen.sh) and the entry into the
 * bootloader by SYSRESETREQ. Unlike the mps2 watchdog the IWDG has no early interrupt: the reset
 * cause comes from RCC_CSR. Register facts: checked against the sources tagged in hal_stm32f103.h
 * (each group below names its tag); what is not checked is listed in hw/stm32f103-facts.md. Not yet
 * run on hardware.
 */
#include <stddef.h>
#include <stdint.h>

#include "fw_boot_hal.h"
#include "fw_rxq.h"
#include "hal.h"
#include "hal_stm32f103.h"
#include "regs_stm32f103.h"
#include "pins.h"
#include "rinki/regmap.h"

/* Modbus inter-frame gap: 3.5 characters of 10 bits (8N1), 1.75 ms above 19200 baud (hal.h). */
#ifndef FW_UART_GAP_US
#define FW_UART_GAP_US HAL_UART_GAP_US(FW_UART_BAUD)
#endif
_Static_assert(FW_UART_GAP_US <= 65535u, "gap does not fit TIM2 at 1 MHz");
_Static_assert(FW_UART_GAP_US == HAL_UART_GAP_US(FW_UART_BAUD),
	       "the board ships the documented inter-frame gap (hw/registers.md)");

#ifndef PINS_FOR_stm32f103
#error "pins.h is not the one generated for target stm32f103"
#endif
_Static_assert(PINS_HAL_COUNT == HAL_PIN_COUNT, "hw/pins.csv and hal.h disagree on the pins");
_Static_assert(PINS_HAL_PORT_MASK < 1u << 3, "hw/pins.csv: stm32f103 HAL pins on ports A..C only");
struct pin_def {
	uint8_t port, pin, active_low;
};
static const struct pin_def pins[HAL_PIN_COUNT] = {PINS_HAL_TABLE};

static uint32_t sysclk_hz;
static volatile uint32_t ticks_ms;
static struct fw_rxq rxq; /* pushed by the UART and gap-timer handlers */
static uint8_t out_level[HAL_PIN_COUNT];
static enum hal_reset_cause reset_cause;
#ifdef FW_HAL_TEST_INPUTS
static uint8_t test_forced[HAL_PIN_COUNT], test_level[HAL_PIN_COUNT];
#endif

extern uint32_t _sretained[];
#define boot_req (*(volatile uint32_t *)&_sretained[F103_RETAINED_BOOT_REQ])
_Static_assert(F103_RETAINED_BOOT_REQ >= HAL_RETAINED_WORDS, "retained words overlap");

static inline void irq_off(void)
{
	__asm volatile("cpsid i" ::: "memory");
}

static inline void irq_on(void)
{
	__asm volatile("cpsie i" ::: "memory");
}

/* 72 MHz from the 8 MHz crystal; stays on HSI 8 MHz if the crystal or PLL does not start. */
static void clock_init(void)
{
	sysclk_hz = 8000000u;
	RCC_CR |= RCC_CR_HSEON;
	for (uint32_t n = 0; !(RCC_CR & RCC_CR_HSERDY); n++)
		if (n > 100000u)
			return;
	FLASH_ACR = FLASH_ACR_PRFTBE | FLASH_ACR_LATENCY_2; /* 2 wait states above 48 MHz */
	RCC_CFGR = RCC_CFGR_PLLSRC | RCC_CFGR_PLLMUL9 | RCC_CFGR_PPRE1_2;
	RCC_CR |= RCC_CR_PLLON;
	for (uint32_t n = 0; !(RCC_CR & RCC_CR_PLLRDY); n++)
		if (n > 100000u)
			return;
	RCC_CFGR |= RCC_CFGR_SW_PLL;
	while ((RCC_CFGR & (0x3u << 2)) != RCC_CFGR_SWS_PLL)
		;
	sysclk_hz = 72000000u;
}

static void gpio_init(void)
{
	RCC_APB2ENR |= RCC_APB2_AFIO | RCC_APB2_IOPA | RCC_APB2_IOPB | RCC_APB2_IOPC;
	for (unsigned i = 0; i < HAL_PIN_COUNT; i++) {
		const struct pin_def *p = &pins[i];

		if (i < HAL_PIN_COR) {
			f103_pin_set(p->port, p->pin, p->active_low); /* inactive before output */
			f103_pin_mode(p->port, p->pin, GPIO_OUT_PP_2MHZ);
		} else {
			f103_pin_set(p->port, p->pin, p->active_low); /* pull towards inactive */
			f103_pin_mode(p->port, p->pin, GPIO_IN_PULL);
		}
	}
}

void hal_init(void)
{
	fw_rxq_init(&rxq); /* before the receive interrupts are on */
	reset_cause = RCC_CSR & RCC_CSR_IWDGRSTF ? HAL_RESET_WDT : HAL_RESET_POWER;
	RCC_CSR |= RCC_CSR_RMVF;

	/* The watchdog first: a hang in the clock start-up must not go unnoticed. */
	IWDG_KR = IWDG_KEY_START;
	IWDG_KR = IWDG_KEY_ACCESS;
	IWDG_PR = IWDG_PR_DIV32;
	IWDG_RLR = IWDG_RELOAD;
	IWDG_KR = IWDG_KEY_RELOAD;

	clock_init();
	gpio_init();

	SYST_RVR = sysclk_hz / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 0x7; /* core clock, interrupt, enable */

	/* TIM2 at 1 MHz, one-shot, update interrupt only on overflow (URS). */
	RCC_APB1ENR |= RCC_APB1_TIM2;
	TIM2_CR1 = 0;
	TIM2_PSC = sysclk_hz / 1000000u - 1u; /* timer clock = sysclk (APB1 /2, x2) or HSI */
	TIM2_ARR = FW_UART_GAP_US;
	TIM2_EGR = TIM_EGR_UG; /* load PSC */
	TIM2_SR = 0;
	TIM2_DIER = TIM_DIER_UIE;

	f103_usart1_init(sysclk_hz, FW_UART_BAUD, USART_CR1_RXNE); /* USART1 on APB2 = sysclk */
	NVIC_ISER(USART1_IRQ) = NVIC_BIT(USART1_IRQ);
	NVIC_ISER(TIM2_IRQ) = NVIC_BIT(TIM2_IRQ);
}

uint16_t hal_board_id(void)
{
	return RINKI_BOARD_ID_REV_A;
}

uint32_t hal_time_ms(void)
{
	return ticks_ms;
}

void f103_systick_handler(void)
{
	ticks_ms++;
}

void f103_usart1_handler(void)
{
	uint32_t sr = USART_SR;

	if (!(sr & (USART_SR_RXNE | USART_SR_ORE)))
		return;
	uint16_t byte = (uint16_t)(USART_DR & 0xFF); /* SR then DR read also clears ORE */
	if (sr & USART_SR_ORE)
		fw_rxq_push(&rxq, HAL_UART_OVERRUN);
	fw_rxq_push(&rxq, byte);

	/* Restart the one-shot gap timer, dropping an expiry that is already pending. */
	TIM2_CR1 = 0;
	TIM2_CNT = 0;
	TIM2_SR = 0;
	NVIC_ICPR(TIM2_IRQ) = NVIC_BIT(TIM2_IRQ);
	TIM2_CR1 = TIM_CR1_URS | TIM_CR1_OPM | TIM_CR1_CEN;
}

void f103_tim2_handler(void)
{
	TIM2_SR = 0;
	fw_rxq_push(&rxq, HAL_UART_GAP);
}

int hal_uart_getc(void)
{
	return fw_rxq_pop(&rxq);
}

void hal_uart_write(const uint8_t *buf, uint16_t len)
{
	for (uint16_t i = 0; i < len; i++) {
		while (!(USART_SR & USART_SR_TXE))
			;
		USART_DR = buf[i];
	}
}

void hal_gpio_write(enum hal_pin pin, bool on)
{
	if (pin >= HAL_PIN_COR)
		return;
	out_level[pin] = on;
	f103_pin_set(pins[pin].port, pins[pin].pin, on != (bool)pins[pin].active_low);
}

bool hal_gpio_read(enum hal_pin pin)
{
	if (pin >= HAL_PIN_COUNT)
		return false;
	if (pin < HAL_PIN_COR)
		return out_level[pin];
#ifdef FW_HAL_TEST_INPUTS
	if (test_forced[pin])
		return test_level[pin];
#endif
	bool high = GPIO_IDR(pins[pin].port) >> pins[pin].pin & 1u;
	return high != (bool)pins[pin].active_low;
}

#ifdef FW_HAL_TEST_INPUTS
void hal_test_set_input(enum hal_pin pin, bool level)
{
	if (pin >= HAL_PIN_COR && pin < HAL_PIN_COUNT) {
		test_forced[pin] = 1;
		test_level[pin] = level;
	}
}
#endif

void hal_wdt_kick(void)
{
	IWDG_KR = IWDG_KEY_RELOAD;
}

enum hal_reset_cause hal_reset_cause(void)
{
	return reset_cause;
}

uint32_t *hal_retained(void)
{
	return _sretained;
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
	/* Let the reply that asked for it leave the UART, then reset. */
	uint32_t t0 = hal_time_ms();
	while (!(USART_SR & USART_SR_TC) && hal_time_ms() - t0 < 5)
		;
	boot_req = F103_BOOT_REQ_MAGIC;
	__asm volatile("dsb" ::: "memory");
	SCB_AIRCR = AIRCR_SYSRESETREQ;
	__asm volatile("dsb" ::: "memory");
	for (;;)
		;
}
