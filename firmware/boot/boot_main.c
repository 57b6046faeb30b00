/*
 * Bootloader main loop. Everything it decides is in firmware/core (fw_boot, fw_boot_proto),
 * which the host tests run against a fake flash; this file only moves bytes between the
 * HAL's polled UART and the protocol engine and acts on its verdict.
 */
#include "boot_main.h"

#include "fw_boot.h"
#include "fw_boot_hal.h"
#include "fw_boot_proto.h"

static struct fw_boot boot;
static struct fw_bootp proto;

void boot_main(void)
{
	fw_boot_init(&boot, hal_boot_layout());
	fw_boot_reject_failed(&boot);
	fw_bootp_init(&proto, &boot, hal_boot_take_request(), hal_boot_time_ms());
	for (;;) {
		int c = hal_boot_uart_getc();
		uint32_t now = hal_boot_time_ms();

		if (c < 0)
			hal_boot_idle();
		else if (fw_bootp_rx(&proto, (uint8_t)c, now))
			hal_boot_uart_write(proto.tx, proto.tx_len);
		int r = fw_bootp_poll(&proto, now);
		if (r == FW_BOOTP_RESET)
			hal_boot_reset();
		if (r >= 0)
			hal_boot_start(fw_boot_app_addr(&boot, (unsigned)r));
	}
}
