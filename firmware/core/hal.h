/*
 * Hardware abstraction the portable firmware core (fw_*) is written against. One
 * implementation per target (firmware/hal/<target>/), plus the fake used by the host unit
 * tests (tests/unit/fw/fake_hal.c). No function here may block longer than one UART frame.
 */
#ifndef FW_HAL_H
#define FW_HAL_H

#include <stdbool.h>
#include <stdint.h>

/* Logical pins. Outputs first, then inputs. */
enum hal_pin {
	HAL_PIN_PTT,	   /* out: PTT relay */
	HAL_PIN_AUX,	   /* out: spare relay */
	HAL_PIN_LED_RADIO, /* out: LED "radio ok" */
	HAL_PIN_LED_MODEM, /* out: LED "modem ok" */
	HAL_PIN_LED_CALL,  /* out: LED "on call" */
	HAL_PIN_LED_FAULT, /* out: LED "fault" */
	HAL_PIN_COR,	   /* in: squelch / COR, raw (not debounced) */
	HAL_PIN_SPARE1,	   /* in */
	HAL_PIN_SPARE2,	   /* in */
	HAL_PIN_COUNT
};

/* Why the MCU last came out of reset. */
enum hal_reset_cause {
	HAL_RESET_POWER, /* power-on, or unknown */
	HAL_RESET_WDT,	 /* hardware watchdog expired */
};

/* hal_uart_getc() results other than a received byte 0..255. */
#define HAL_UART_EMPTY	 (-1)  /* nothing queued */
#define HAL_UART_GAP	 0x100 /* line silent for the inter-frame gap after the bytes before */
#define HAL_UART_OVERRUN 0x101 /* received bytes were lost at this point of the stream */

/* Words of RAM that survive a warm (watchdog) reset; contents undefined after power-on. */
#define HAL_RETAINED_WORDS 4

/* Set up clocks, UART, timers, pins (outputs off) and the hardware watchdog. */
void hal_init(void);

/* Board identity for RINKI_IREG_BOARD_ID (RINKI_BOARD_ID_*). */
uint16_t hal_board_id(void);

/* Milliseconds since hal_init(); wraps after 2^32 ms. Safe to call from anywhere. */
uint32_t hal_time_ms(void);

/*
 * Modbus inter-frame gap in microseconds at baud: 3.5 characters of 10 bits (8N1: start,
 * 8 data, stop), rounded up, and a fixed 1.75 ms above 19200 baud (Modbus over serial line
 * 2.5.1.1). Every board uses it; only the QEMU test image overrides it (firmware.mk
 * FW_QEMU_GAP_US, 5 ms, because QEMU times the gap on a shared host clock).
 */
#define HAL_UART_GAP_US(baud) ((baud) > 19200u ? 1750u : (35u * 1000000u + (baud)-1u) / (baud))

/*
 * Next receive event, in arrival order: a byte (0..255), HAL_UART_GAP, HAL_UART_OVERRUN, or
 * HAL_UART_EMPTY when nothing is queued. Never blocks. The gap is timed by the HAL from the
 * last byte (HAL_UART_GAP_US, unless the build sets FW_UART_GAP_US).
 */
int hal_uart_getc(void);

/* Transmit len bytes; returns when the last byte is handed to the UART. */
void hal_uart_write(const uint8_t *buf, uint16_t len);

/* Drive an output pin (true = active/energised). Ignored for input pins. */
void hal_gpio_write(enum hal_pin pin, bool on);

/* Level of a pin: the raw input level, or the last level written for an output. */
bool hal_gpio_read(enum hal_pin pin);

/* Restart the hardware watchdog. Only the core's watchdog policy calls this. */
void hal_wdt_kick(void);

/* Cause of the last reset; valid from hal_init() on. */
enum hal_reset_cause hal_reset_cause(void);

/* HAL_RETAINED_WORDS words that keep their value across warm resets (see above). */
uint32_t *hal_retained(void);

/* Sleep until the next interrupt unless a receive event is already queued. */
void hal_idle(void);

#ifdef FW_HAL_TEST_INPUTS
/* Test build only: force the raw level of an input pin. */
void hal_test_set_input(enum hal_pin pin, bool level);
#endif

#endif /* FW_HAL_H */
