/*
 * The application's side of the bootloader: the boot control registers (fwimage.h) put in
 * front of the I/O data model, entry into the bootloader on an authenticated request (a
 * SipHash MAC over a one-time nonce under the entry key, fw_entry.h), the self-confirmation
 * when the host writes RINKI_BOOT_CTL_CONFIRM, and the trial timer that ends an unconfirmed
 * image by letting the hardware watchdog reset the board (the bootloader then rolls back).
 */
#ifndef FW_BOOT_APP_H
#define FW_BOOT_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_boot.h"
#include "fw_modbus.h"

/* Time the host has to confirm a new image after it started. */
#ifndef FW_BOOT_TRIAL_MS
#define FW_BOOT_TRIAL_MS 120000u
#endif

/* fw_boot_app_poll() results. */
enum fw_boot_app_run {
	FW_BOOT_APP_RUN,  /* keep running the main loop */
	FW_BOOT_APP_STOP, /* trial over, unconfirmed: stop the loop so the watchdog resets */
};

struct fw_boot_app {
	struct fw_boot boot;
	const struct fw_mb_ops *next_ops; /* the data model behind the boot registers */
	void *next_arg;
	int8_t running; /* slot the application runs from, -1 if none matches */
	bool enter;	/* RINKI_BOOT_CTL_ENTER written: reset after the reply */
	bool expired;
	bool entry_ok;	    /* the check pass of an ENTER accepted its MAC */
	uint16_t mac[4];    /* RINKI_HREG_BOOT_MAC as written, high word first */
	uint64_t nonce;	    /* the one-time entry nonce the host must sign (fw_entry_nonce) */
	uint32_t trial_end; /* valid while the running slot is TRIAL */
};

/*
 * Put the boot registers in front of mb's data model and read the slots. vectors: the
 * address of the running application's vector table (which slot it is); now: the time (ms).
 */
void fw_boot_app_attach(struct fw_boot_app *a, struct fw_mb *mb, uint32_t vectors, uint32_t now);

/*
 * Call once per main-loop pass, after the UART was serviced. Enters the bootloader
 * (hal_boot_enter) once the reply to RINKI_BOOT_CTL_ENTER is out; returns FW_BOOT_APP_STOP
 * from the end of an unconfirmed trial on.
 */
enum fw_boot_app_run fw_boot_app_poll(struct fw_boot_app *a, uint32_t now);

#endif /* FW_BOOT_APP_H */
