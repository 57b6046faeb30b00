/*
 * Fake HAL implementation for the firmware core's host unit tests (see fake_hal.h).
 */
#include "fake_hal.h"

#include <string.h>

#include "fw_modbus.h"

#define RXQ_LEN 4096
#define TXQ_LEN 4096

uint32_t fake_time;
bool fake_pins[HAL_PIN_COUNT];
unsigned fake_wdt_kicks;
enum hal_reset_cause fake_reset_cause;
uint32_t fake_retained[HAL_RETAINED_WORDS];

static int rxq[RXQ_LEN];
static size_t rx_head, rx_tail;
static uint8_t txq[TXQ_LEN];
static size_t tx_len;

void fake_hal_reset(void)
{
	fake_time = 0;
	memset(fake_pins, 0, sizeof(fake_pins));
	fake_wdt_kicks = 0;
	fake_reset_cause = HAL_RESET_POWER;
	memset(fake_retained, 0, sizeof(fake_retained));
	rx_head = rx_tail = 0;
	tx_len = 0;
}

static void rx_push(int ev)
{
	if (rx_head < RXQ_LEN)
		rxq[rx_head++] = ev;
}

void fake_uart_feed(const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rx_push(buf[i]);
}

void fake_uart_gap(void)
{
	rx_push(HAL_UART_GAP);
}

void fake_uart_overrun(void)
{
	rx_push(HAL_UART_OVERRUN);
}

size_t fake_uart_take(uint8_t *buf, size_t cap)
{
	size_t n = tx_len < cap ? tx_len : cap;

	memcpy(buf, txq, n);
	memmove(txq, txq + n, tx_len - n);
	tx_len -= n;
	return n;
}

size_t fake_add_crc(uint8_t *buf, size_t n)
{
	uint16_t crc = fw_mb_crc16(buf, (uint16_t)n);

	buf[n] = (uint8_t)crc;
	buf[n + 1] = (uint8_t)(crc >> 8);
	return n + 2;
}

size_t fake_transact(struct fw_app *app, const uint8_t *req, size_t n, uint8_t *rsp, size_t cap)
{
	uint8_t frame[FW_MB_ADU_MAX + 2];

	memcpy(frame, req, n);
	n = fake_add_crc(frame, n);
	fake_uart_feed(frame, n);
	fake_uart_gap();
	fw_app_poll(app);
	return fake_uart_take(rsp, cap);
}

void fake_run(struct fw_app *app, uint32_t ms)
{
	for (uint32_t i = 0; i < ms; i++) {
		fake_time++;
		fw_app_poll(app);
	}
}

/* --- the HAL ------------------------------------------------------------- */

void hal_init(void)
{
}

uint16_t hal_board_id(void)
{
	return FAKE_BOARD_ID;
}

uint32_t hal_time_ms(void)
{
	return fake_time;
}

int hal_uart_getc(void)
{
	if (rx_tail == rx_head) {
		rx_head = rx_tail = 0;
		return HAL_UART_EMPTY;
	}
	return rxq[rx_tail++];
}

void hal_uart_write(const uint8_t *buf, uint16_t len)
{
	for (uint16_t i = 0; i < len && tx_len < TXQ_LEN; i++)
		txq[tx_len++] = buf[i];
}

void hal_gpio_write(enum hal_pin pin, bool on)
{
	if (pin < HAL_PIN_COR)
		fake_pins[pin] = on;
}

bool hal_gpio_read(enum hal_pin pin)
{
	return pin < HAL_PIN_COUNT && fake_pins[pin];
}

void hal_wdt_kick(void)
{
	fake_wdt_kicks++;
}

enum hal_reset_cause hal_reset_cause(void)
{
	return fake_reset_cause;
}

uint32_t *hal_retained(void)
{
	return fake_retained;
}

void hal_idle(void)
{
}

#ifdef FW_HAL_TEST_INPUTS
void hal_test_set_input(enum hal_pin pin, bool level)
{
	if (pin >= HAL_PIN_COR && pin < HAL_PIN_COUNT)
		fake_pins[pin] = level;
}
#endif
