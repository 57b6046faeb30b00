/*
 * Watchdog policy. The main loop checks in once per pass for each of its parts; the hardware
 * watchdog is restarted only when all of them did and time advanced. A part that hangs, a
 * stalled loop or a dead SysTick therefore ends in a hardware reset.
 */
#include "fw_wdt.h"

#include "hal.h"

void fw_wdt_init(struct fw_wdt *w, uint32_t now)
{
	w->seen = 0;
	w->last_kick = now;
	w->kicks = 0;
}

void fw_wdt_checkin(struct fw_wdt *w, uint8_t bit)
{
	w->seen |= bit;
}

bool fw_wdt_service(struct fw_wdt *w, uint32_t now)
{
	if ((w->seen & FW_WDT_CHK_ALL) != FW_WDT_CHK_ALL || now - w->last_kick < FW_WDT_KICK_MS)
		return false;
	hal_wdt_kick();
	w->seen = 0;
	w->last_kick = now;
	w->kicks++;
	return true;
}
