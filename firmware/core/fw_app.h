/*
 * The firmware application: Modbus slave + I/O logic + watchdog policy, driven by the main
 * loop (fw_main.c): fw_app_init() once after hal_init(), then fw_app_poll() and hal_idle()
 * forever.
 */
#ifndef FW_APP_H
#define FW_APP_H

#include "fw_io.h"
#include "fw_modbus.h"
#include "fw_wdt.h"

struct fw_app {
	struct fw_mb mb;
	struct fw_io io;
	struct fw_wdt wdt;
};

/* Initialise every part; hal_init() must have run. */
void fw_app_init(struct fw_app *app);

/*
 * One pass of the main loop: handle queued UART events (answering complete frames), run the
 * I/O tick and the watchdog policy. Does nothing once a test stall was requested.
 */
void fw_app_poll(struct fw_app *app);

#endif /* FW_APP_H */
