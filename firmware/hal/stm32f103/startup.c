/*
 * Vector table of the application on the STM32F103 board: the Cortex-M3 system exceptions, then
 * the F103 IRQs up to USART1 = 37 (TIM2 = 28). The reset handler and the spinning fault and
 * default handlers are the shared Cortex-M3 ones (firmware/hal/cm3/cm3_start.c: C run-time
 * set-up, then the main loop of firmware/core/fw_main.c; a fault spins until the IWDG resets
 * the MCU); SysTick, TIM2 and USART1 are hal_stm32f103.c's. IRQ numbers: TIM2_IRQn = 28,
 * USART1_IRQn = 37 in ST's stm32f103xb.h ([CMSIS], see hal_stm32f103.h).
 */
#include <stdint.h>

#include "cm3_start.h"
#include "hal_stm32f103.h"

extern uint32_t _estack;

#define IRQ_TIM2   28
#define IRQ_USART1 37

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + 38])(void) = {
    [0] = (void (*)(void))(&_estack),
    [1] = Reset_Handler,
    [2] = cm3_fault_handler,	/* NMI (clock security system; not enabled) */
    [3] = cm3_fault_handler,	/* HardFault */
    [4] = cm3_fault_handler,	/* MemManage */
    [5] = cm3_fault_handler,	/* BusFault */
    [6] = cm3_fault_handler,	/* UsageFault */
    [11] = cm3_default_handler, /* SVCall */
    [12] = cm3_default_handler, /* DebugMon */
    [14] = cm3_default_handler, /* PendSV */
    [15] = f103_systick_handler,
    [16 ... 16 + IRQ_TIM2 - 1] = cm3_default_handler,
    [16 + IRQ_TIM2] = f103_tim2_handler,
    [16 + IRQ_TIM2 + 1 ... 16 + IRQ_USART1 - 1] = cm3_default_handler,
    [16 + IRQ_USART1] = f103_usart1_handler,
};
