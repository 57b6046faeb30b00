/*
 * Interrupt handlers of the mps2-an385 HAL, referenced by the vector table in startup.c.
 */
#ifndef HAL_MPS2_H
#define HAL_MPS2_H

/* NMI: first expiry of the CMSDK watchdog; records the cause and waits for the reset. */
void mps2_nmi_handler(void);
/* SysTick, 1 ms. */
void mps2_systick_handler(void);
/* UART0 receive: queue bytes, restart the gap timer. */
void mps2_uart0_rx_handler(void);
/* TIMER0 expiry: queue HAL_UART_GAP. */
void mps2_timer0_handler(void);

#endif /* HAL_MPS2_H */
