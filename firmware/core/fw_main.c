/*
 * Main loop of the application, portable across targets: hal_init(), fw_app_init(), then one
 * fw_app_poll() and hal_idle() per pass. A slot image (built with FW_BOOT_APP, started by the
 * bootloader) also runs the boot control (fw_boot_app.h) in front of the application, which
 * stops polling it when an unconfirmed trial ends so the hardware watchdog resets the board.
 */
#include "fw_main.h"

#include "fw_app.h"
#include "fw_boot_app.h"
#include "hal.h"

static struct fw_app app;
#ifdef FW_BOOT_APP
static struct fw_boot_app boot_app;
#endif

void fw_main_run(uint32_t vectors)
{
	hal_init();
	fw_app_init(&app);
#ifdef FW_BOOT_APP
	fw_boot_app_attach(&boot_app, &app.mb, vectors, hal_time_ms());
	for (;;) {
		if (fw_boot_app_poll(&boot_app, hal_time_ms()) == FW_BOOT_APP_RUN)
			fw_app_poll(&app);
		hal_idle();
	}
#else
	(void)vectors;
	for (;;) {
		fw_app_poll(&app);
		hal_idle();
	}
#endif
}
