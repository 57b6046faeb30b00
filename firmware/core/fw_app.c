/*
 * Main-loop glue of the firmware: drains the HAL's UART event queue into the Modbus frame
 * assembler, sends replies, applies a changed slave address after the reply that changed it,
 * then runs the I/O tick and the watchdog policy. One pass never blocks beyond one reply.
 */
#include "fw_app.h"

#include "hal.h"

/* Handle at most this many UART events per pass, so the I/O tick still runs every ms. */
#define UART_EVENTS_PER_PASS 64

void fw_app_init(struct fw_app *app)
{
	uint32_t now = hal_time_ms();

	fw_io_init(&app->io, &app->mb.stats, now);
	fw_mb_init(&app->mb, app->io.slave_addr, &fw_io_mb_ops, &app->io);
	fw_wdt_init(&app->wdt, now);
}

static void uart_events(struct fw_app *app)
{
	for (int i = 0; i < UART_EVENTS_PER_PASS; i++) {
		int ev = hal_uart_getc();

		if (ev == HAL_UART_EMPTY)
			return;
		if (ev == HAL_UART_GAP) {
			uint16_t n = fw_mb_rx_gap(&app->mb);
			if (n)
				hal_uart_write(app->mb.tx, n);
			app->mb.addr = app->io.slave_addr;
		} else if (ev == HAL_UART_OVERRUN) {
			fw_mb_rx_overrun(&app->mb);
		} else {
			fw_mb_rx_byte(&app->mb, (uint8_t)ev);
		}
	}
}

void fw_app_poll(struct fw_app *app)
{
	if (app->io.stalled)
		return;
	uart_events(app);
	fw_wdt_checkin(&app->wdt, FW_WDT_CHK_UART);
	fw_io_tick(&app->io, hal_time_ms());
	fw_wdt_checkin(&app->wdt, FW_WDT_CHK_IO);
	fw_wdt_service(&app->wdt, hal_time_ms());
}
