/*
 * C run-time set-up shared by every Cortex-M3 image of every target (application and
 * bootloader): copy .data from its load address in flash and zero .bss, with the symbols each
 * target's sections.ld defines. Inline, so a reset handler needs nothing but the stack that the
 * core loads from the vector table.
 */
#ifndef CM3_CRT_H
#define CM3_CRT_H

#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;

/* Make RAM what C expects (.data initialised, .bss zero). First thing a reset handler does. */
static inline void cm3_crt_init(void)
{
	uint32_t *src = &_sidata, *dst = &_sdata;

	while (dst < &_edata)
		*dst++ = *src++;
	for (dst = &_sbss; dst < &_ebss; dst++)
		*dst = 0;
}

#endif /* CM3_CRT_H */
