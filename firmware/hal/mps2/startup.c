/*
 * Vector table of the application on QEMU mps2-an385 (Cortex-M3). The reset handler and the
 * spinning fault and default handlers are the shared Cortex-M3 ones (firmware/hal/cm3/
 * cm3_start.c: C run-time set-up, then the main loop of firmware/core/fw_main.c); the NMI (the
 * watchdog's first expiry), SysTick, UART0 receive and TIMER0 handlers are hal_mps2.c's.
 */
#include <stdint.h>

#include "cm3_start.h"
#include "hal_mps2.h"

extern uint32_t _estack;

__attribute__((section(".isr_vector"), used)) static void (*const vectors[])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
    mps2_nmi_handler,  /* the watchdog's first expiry */
    cm3_fault_handler, /* HardFault */
    cm3_fault_handler, /* MemManage */
    cm3_fault_handler, /* BusFault */
    cm3_fault_handler, /* UsageFault */
    0,
    0,
    0,
    0,
    cm3_default_handler, /* SVCall */
    cm3_default_handler, /* DebugMon */
    0,
    cm3_default_handler,   /* PendSV */
    mps2_systick_handler,  /* SysTick */
    mps2_uart0_rx_handler, /* IRQ0: UART0 RX */
    cm3_default_handler,   /* IRQ1: UART0 TX */
    cm3_default_handler,   /* IRQ2 */
    cm3_default_handler,   /* IRQ3 */
    cm3_default_handler,   /* IRQ4 */
    cm3_default_handler,   /* IRQ5 */
    cm3_default_handler,   /* IRQ6 */
    cm3_default_handler,   /* IRQ7 */
    mps2_timer0_handler,   /* IRQ8: TIMER0, the inter-frame gap */
};
