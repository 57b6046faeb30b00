/*
 * Watchdog policy: the hardware watchdog is kicked only while the main loop is healthy, i.e.
 * every required part of the loop has checked in since the last kick and the clock moves.
 */
#ifndef FW_WDT_H
#define FW_WDT_H

#include <stdbool.h>
#include <stdint.h>

#define FW_WDT_KICK_MS 50 /* kick at most this often; the hardware time-out is much longer */

/* Check-in bits. */
#define FW_WDT_CHK_UART 0x01 /* receive queue drained */
#define FW_WDT_CHK_IO	0x02 /* I/O timers and inputs serviced */
#define FW_WDT_CHK_ALL	(FW_WDT_CHK_UART | FW_WDT_CHK_IO)

struct fw_wdt {
	uint8_t seen;
	uint32_t last_kick;
	uint32_t kicks;
};

/* Start the policy at time now (ms); the first kick is due FW_WDT_KICK_MS later. */
void fw_wdt_init(struct fw_wdt *w, uint32_t now);

/* Record that the part of the loop named by bit (FW_WDT_CHK_*) ran. */
void fw_wdt_checkin(struct fw_wdt *w, uint8_t bit);

/*
 * Kick the hardware watchdog (hal_wdt_kick) if every FW_WDT_CHK_ALL bit was checked in and at
 * least FW_WDT_KICK_MS passed since the last kick; then clear the check-ins. Returns true if it
 * kicked. A stuck clock never reaches FW_WDT_KICK_MS, so it never kicks.
 */
bool fw_wdt_service(struct fw_wdt *w, uint32_t now);

#endif /* FW_WDT_H */
