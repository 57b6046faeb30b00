/*
 * Reset and exception entry for the STM32F103 board: the vector table (Cortex-M3 system
 * exceptions, then the F103 IRQs up to USART1 = 37; TIM2 = 28), the reset handler (copy .data,
 * zero .bss, run main) and main, the firmware's main loop. Faults spin until the IWDG resets
 * the MCU. Built with FW_BOOT_APP for a slot, the loop also runs the boot control
 * (fw_boot_app.h). IRQ numbers: TIM2_IRQn = 28, USART1_IRQn = 37 in ST's stm32f103xb.h
 * ([CMSIS], see hal_stm32f103.h).
 */
#include <stdint.h>

#include "fw_app.h"
#include "fw_boot_app.h"
#include "hal.h"
#include "hal_stm32f103.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

void Reset_Handler(void);
static void Fault_Handler(void);
static void Default_Handler(void);
int main(void);

static struct fw_app app;
#ifdef FW_BOOT_APP
static struct fw_boot_app boot_app;
#endif

#define IRQ_TIM2   28
#define IRQ_USART1 37

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + 38])(void) = {
    [0] = (void (*)(void))(&_estack),
    [1] = Reset_Handler,
    [2] = Fault_Handler,    /* NMI (clock security system; not enabled) */
    [3] = Fault_Handler,    /* HardFault */
    [4] = Fault_Handler,    /* MemManage */
    [5] = Fault_Handler,    /* BusFault */
    [6] = Fault_Handler,    /* UsageFault */
    [11] = Default_Handler, /* SVCall */
    [12] = Default_Handler, /* DebugMon */
    [14] = Default_Handler, /* PendSV */
    [15] = f103_systick_handler,
    [16 ... 16 + IRQ_TIM2 - 1] = Default_Handler,
    [16 + IRQ_TIM2] = f103_tim2_handler,
    [16 + IRQ_TIM2 + 1 ... 16 + IRQ_USART1 - 1] = Default_Handler,
    [16 + IRQ_USART1] = f103_usart1_handler,
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
