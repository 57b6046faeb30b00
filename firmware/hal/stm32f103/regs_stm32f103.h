/*
 * STM32F103 register definitions used by the HAL (hal_stm32f103.c), the flash code
 * (flash_stm32f103.c) and the bootloader (boot_stm32f103.c): one place for the facts and their
 * sources.
 *
 * Register facts (addresses, offsets, bit positions, key values, IRQ numbers) were checked
 * against these public sources; each group below names its tag. Facts only, no code
 * taken. What could not be checked is listed in hw/stm32f103-facts.md. Nothing has run on a
 * real board yet.
 *   [CMSIS]   ST's CMSIS device header stm32f103xb.h, STMicroelectronics/STM32CubeF1,
 *             Drivers/CMSIS/Device/ST/STM32F1xx/Include/, commit 660179d4
 *   [LL-IWDG] ST's stm32f1xx_ll_iwdg.h (STM32CubeF1 HAL driver): KR keys, PR codes
 *   [LL-GPIO] ST's stm32f1xx_ll_gpio.h (STM32CubeF1 HAL driver): CNF/MODE codes, pull via ODR
 *   [SVD]     docs.rs crate stm32f1 (generated from ST's SVD): FLASH_ACR.LATENCY ranges
 *   [DS]      STM32F103x8/xB datasheet, features: "internal 40 kHz RC" (LSI)
 *   [QEMU]    ARMv7-M core registers (SysTick, NVIC, SCB) as used by firmware/hal/mps2, which
 *             run in the QEMU tests on the same Cortex-M3 core
 */
#ifndef REGS_STM32F103_H
#define REGS_STM32F103_H

#include <stdbool.h>
#include <stdint.h>

#include "pins.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

/* RCC: base, offsets, CR/CFGR/CSR/APB2ENR/APB1ENR bits [CMSIS]. */
#define RCC		 0x40021000u
#define RCC_CR		 REG(RCC + 0x00)
#define RCC_CFGR	 REG(RCC + 0x04)
#define RCC_APB2ENR	 REG(RCC + 0x18)
#define RCC_APB1ENR	 REG(RCC + 0x1C)
#define RCC_CSR		 REG(RCC + 0x24)
#define RCC_CR_HSEON	 (1u << 16)
#define RCC_CR_HSERDY	 (1u << 17)
#define RCC_CR_PLLON	 (1u << 24)
#define RCC_CR_PLLRDY	 (1u << 25)
#define RCC_CFGR_SW_PLL	 0x2u
#define RCC_CFGR_SWS_PLL (0x2u << 2)
#define RCC_CFGR_PPRE1_2 (0x4u << 8)  /* APB1 = HCLK / 2 (36 MHz max) */
#define RCC_CFGR_PLLSRC	 (1u << 16)   /* PLL from HSE */
#define RCC_CFGR_PLLMUL9 (0x7u << 18) /* x9 */
#define RCC_CSR_RMVF	 (1u << 24)
#define RCC_CSR_IWDGRSTF (1u << 29)
#define RCC_APB2_AFIO	 (1u << 0)
#define RCC_APB2_IOPA	 (1u << 2)
#define RCC_APB2_IOPB	 (1u << 3)
#define RCC_APB2_IOPC	 (1u << 4)
#define RCC_APB2_USART1	 (1u << 14)
#define RCC_APB1_TIM2	 (1u << 0)

/* FLASH interface: address, offsets, bits, keys [CMSIS]; 2 wait states for 48 < SYSCLK <= 72 MHz
 * [SVD]. */
#define FLASH_ACR	    REG(0x40022000u)
#define FLASH_ACR_LATENCY_2 0x2u
#define FLASH_ACR_PRFTBE    (1u << 4)
#define FLASH_KEYR	    REG(0x40022004u)
#define FLASH_SR	    REG(0x4002200Cu)
#define FLASH_CR	    REG(0x40022010u)
#define FLASH_AR	    REG(0x40022014u)
#define FLASH_KEY1	    0x45670123u
#define FLASH_KEY2	    0xCDEF89ABu
#define FLASH_SR_BSY	    (1u << 0)
#define FLASH_SR_PGERR	    (1u << 2)
#define FLASH_SR_WRPRTERR   (1u << 4)
#define FLASH_SR_EOP	    (1u << 5)
#define FLASH_CR_PG	    (1u << 0)
#define FLASH_CR_PER	    (1u << 1)
#define FLASH_CR_STRT	    (1u << 6)
#define FLASH_CR_LOCK	    (1u << 7)
#define FLASH_SR_ERR	    (FLASH_SR_PGERR | FLASH_SR_WRPRTERR)

/* GPIO: bases A..C, CRL/CRH/IDR/ODR/BSRR offsets [CMSIS]; CNF:MODE codes [LL-GPIO]. */
#define GPIO_BASE(port)	   (0x40010800u + 0x400u * (port)) /* A = 0x40010800, B, C, ... */
#define GPIO_CR(port, pin) REG(GPIO_BASE(port) + ((pin) < 8 ? 0x00u : 0x04u))
#define GPIO_IDR(port)	   REG(GPIO_BASE(port) + 0x08u)
#define GPIO_ODR(port)	   REG(GPIO_BASE(port) + 0x0Cu)
#define GPIO_BSRR(port)	   REG(GPIO_BASE(port) + 0x10u)
/* CNF:MODE nibbles. */
#define GPIO_OUT_PP_2MHZ 0x2u
#define GPIO_AF_PP_50MHZ 0xBu
#define GPIO_IN_PULL	 0x8u /* pull-up or -down as ODR says */

/* USART1: base, SR/DR/BRR/CR1 offsets and bits, IRQ 37 [CMSIS]. */
#define USART1	       0x40013800u
#define USART_SR       REG(USART1 + 0x00)
#define USART_DR       REG(USART1 + 0x04)
#define USART_BRR      REG(USART1 + 0x08)
#define USART_CR1      REG(USART1 + 0x0C)
#define USART_SR_ORE   (1u << 3)
#define USART_SR_RXNE  (1u << 5)
#define USART_SR_TC    (1u << 6)
#define USART_SR_TXE   (1u << 7)
#define USART_CR1_RE   (1u << 2)
#define USART_CR1_TE   (1u << 3)
#define USART_CR1_RXNE (1u << 5)
#define USART_CR1_UE   (1u << 13)
#define USART1_IRQ     37

/* TIM2: base, register offsets, CR1/DIER/SR/EGR bits, IRQ 28 [CMSIS]. */
#define TIM2	     0x40000000u
#define TIM2_CR1     REG(TIM2 + 0x00)
#define TIM2_DIER    REG(TIM2 + 0x0C)
#define TIM2_SR	     REG(TIM2 + 0x10)
#define TIM2_EGR     REG(TIM2 + 0x14)
#define TIM2_CNT     REG(TIM2 + 0x24)
#define TIM2_PSC     REG(TIM2 + 0x28)
#define TIM2_ARR     REG(TIM2 + 0x2C)
#define TIM_CR1_CEN  (1u << 0)
#define TIM_CR1_URS  (1u << 2)
#define TIM_CR1_OPM  (1u << 3)
#define TIM_DIER_UIE (1u << 0)
#define TIM_SR_UIF   (1u << 0)
#define TIM_EGR_UG   (1u << 0)
#define TIM2_IRQ     28

/* IWDG: base, offsets, PR/RLR widths [CMSIS]; keys, PR code 3 = /32 [LL-IWDG]. */
#define IWDG_KR		REG(0x40003000u)
#define IWDG_PR		REG(0x40003004u)
#define IWDG_RLR	REG(0x40003008u)
#define IWDG_SR		REG(0x4000300Cu)
#define IWDG_KEY_ACCESS 0x5555u
#define IWDG_KEY_RELOAD 0xAAAAu
#define IWDG_KEY_START	0xCCCCu
#define IWDG_PR_DIV32	0x3u
/* LSI 40 kHz nominal [DS] (30..60 kHz: unverified): /32 and 625 counts = 500 ms (333..667 ms). */
#define IWDG_RELOAD 625u

/* Cortex-M3 core registers [QEMU]. */
#define SCB_AIRCR	  REG(0xE000ED0Cu)
#define AIRCR_SYSRESETREQ 0x05FA0004u
#define SYST_CSR	  REG(0xE000E010u)
#define SYST_RVR	  REG(0xE000E014u)
#define SYST_CVR	  REG(0xE000E018u)
#define NVIC_ISER(n)	  REG(0xE000E100u + 4u * ((n) / 32u))
#define NVIC_ICPR(n)	  REG(0xE000E280u + 4u * ((n) / 32u))
#define NVIC_BIT(n)	  (1u << ((n) % 32u))
#define SCB_VTOR	  REG(0xE000ED08u)
#define SCB_ICSR	  REG(0xE000ED04u)
#define ICSR_PENDSTCLR	  (1u << 25)
#define SYST_COUNTFLAG	  (1u << 16)
#define NVIC_ICER(n)	  REG(0xE000E180u + 4u * ((n) / 32u))

/* Set the CNF:MODE nibble of one pin. */
static inline void f103_pin_mode(unsigned port, unsigned pin, uint32_t mode)
{
	volatile uint32_t *cr = &GPIO_CR(port, pin);
	unsigned shift = (pin % 8u) * 4u;

	*cr = (*cr & ~(0xFu << shift)) | (mode << shift);
}

/* Drive one pin's output (or its pull direction for an input with pull) through BSRR. */
static inline void f103_pin_set(unsigned port, unsigned pin, bool high)
{
	GPIO_BSRR(port) = high ? 1u << pin : 1u << (pin + 16u);
}

/*
 * USART1 on PA9 (TX, AF push-pull) and PA10 (RX, pull-up) as hw/pins.csv gives them (pins.h),
 * 8N1 at baud from the APB2 clock pclk_hz, transmitter and receiver on, plus cr1_extra (e.g.
 * USART_CR1_RXNE). Enables the clocks of port A, AFIO and USART1.
 */
_Static_assert(PIN_UART_TX_PORT == 0 && PIN_UART_TX_PIN == 9 && PIN_UART_RX_PORT == 0 &&
		   PIN_UART_RX_PIN == 10,
	       "hw/pins.csv: USART1 without remap is PA9 (TX) / PA10 (RX)");
static inline void f103_usart1_init(uint32_t pclk_hz, uint32_t baud, uint32_t cr1_extra)
{
	RCC_APB2ENR |= RCC_APB2_AFIO | RCC_APB2_IOPA | RCC_APB2_USART1;
	f103_pin_mode(PIN_UART_TX_PORT, PIN_UART_TX_PIN, GPIO_AF_PP_50MHZ);
	f103_pin_set(PIN_UART_RX_PORT, PIN_UART_RX_PIN, true);
	f103_pin_mode(PIN_UART_RX_PORT, PIN_UART_RX_PIN, GPIO_IN_PULL);
	USART_BRR = (pclk_hz + baud / 2u) / baud;
	USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | cr1_extra;
}

#endif /* REGS_STM32F103_H */
