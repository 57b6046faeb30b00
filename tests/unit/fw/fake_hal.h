/*
 * Fake HAL for the host unit tests of firmware/core: a settable clock, a scripted UART
 * receive queue and a capture buffer for transmitted bytes, pins in RAM, a watchdog kick
 * counter, retained words and a settable reset cause. Plus helpers that drive a struct fw_app
 * the way the target's main loop does.
 */
#ifndef FAKE_HAL_H
#define FAKE_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_app.h"
#include "hal.h"

#define FAKE_BOARD_ID 0x7E57u

extern uint32_t fake_time;
extern bool fake_pins[HAL_PIN_COUNT];
extern unsigned fake_wdt_kicks;
extern enum hal_reset_cause fake_reset_cause;
extern uint32_t fake_retained[HAL_RETAINED_WORDS];

/* Power-on state: time 0, queues empty, pins low, no kicks, retained words zero. */
void fake_hal_reset(void);

/* Queue received bytes / a gap / an overrun marker. */
void fake_uart_feed(const uint8_t *buf, size_t n);
void fake_uart_gap(void);
void fake_uart_overrun(void);

/* Move up to cap transmitted bytes into buf; returns how many. */
size_t fake_uart_take(uint8_t *buf, size_t cap);

/* Append the Modbus CRC to a frame of n bytes in buf (room for 2 more); returns n + 2. */
size_t fake_add_crc(uint8_t *buf, size_t n);

/*
 * Send the frame req[0..n) with a CRC appended, then a gap, run one loop pass and return the
 * reply length (0 = none) with the reply in rsp (cap bytes).
 */
size_t fake_transact(struct fw_app *app, const uint8_t *req, size_t n, uint8_t *rsp, size_t cap);

/* Advance the clock 1 ms at a time up to now + ms, running one loop pass per ms. */
void fake_run(struct fw_app *app, uint32_t ms);

#endif /* FAKE_HAL_H */
