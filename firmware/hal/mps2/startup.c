/*
 * Reset and exception entry for QEMU mps2-an385 (Cortex-M3): the vector table, the reset
 * handler (copy .data, zero .bss, run main) and main itself, the firmware's main loop. Faults
 * spin until the hardware watchdog resets the machine. Built with FW_BOOT_APP for a slot
 * (started by the bootloader), the loop also runs the boot control (fw_boot_app.h), which
 * stops it when an unconfirmed trial ends.
 */
#include <stdint.h>

#include "fw_app.h"
#include "fw_boot_app.h"
#include "hal.h"
#include "hal_mps2.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

void Reset_Handler(void);
static void Fault_Handler(void);
static void Default_Handler(void);
int main(void);

static struct fw_app app;
#ifdef FW_BOOT_APP
static struct fw_boot_app boot_app;
#endif

__attribute__((section(".isr_vector"), used)) static void (*const vectors[])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
    mps2_nmi_handler, /* the watchdog's first expiry */
    Fault_Handler,    /* HardFault */
    Fault_Handler,    /* MemManage */
    Fault_Handler,    /* BusFault */
    Fault_Handler,    /* UsageFault */
    0,
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler,	   /* PendSV */
    mps2_systick_handler,  /* SysTick */
    mps2_uart0_rx_handler, /* IRQ0: UART0 RX */
    Default_Handler,	   /* IRQ1: UART0 TX */
    Default_Handler,	   /* IRQ2 */
    Default_Handler,	   /* IRQ3 */
    Default_Handler,	   /* IRQ4 */
    Default_Handler,	   /* IRQ5 */
    Default_Handler,	   /* IRQ6 */
    Default_Handler,	   /* IRQ7 */
    mps2_timer0_handler,   /* IRQ8: TIMER0, the inter-frame gap */
};

void Reset_Handler(void)
{
	uint32_t *src = &_sidata, *dst = &_sdata;

	while (dst < &_edata)
		*dst++ = *src++;
	for (dst = &_sbss; dst < &_ebss; dst++)
		*dst = 0;
	main();
	for (;;)
		;
}

static void Fault_Handler(void)
{
	for (;;)
		;
}

static void Default_Handler(void)
{
	for (;;)
		;
}

int main(void)
{
	hal_init();
	fw_app_init(&app);
#ifdef FW_BOOT_APP
	fw_boot_app_attach(&boot_app, &app.mb, (uint32_t)vectors, hal_time_ms());
	for (;;) {
		if (fw_boot_app_poll(&boot_app, hal_time_ms()) == FW_BOOT_APP_RUN)
			fw_app_poll(&app);
		hal_idle();
	}
#else
	for (;;) {
		fw_app_poll(&app);
		hal_idle();
	}
#endif
}
