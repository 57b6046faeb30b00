/*
 * status: what an operator sees of the gateway. The board's LEDs follow the radio, the
 * modem and the calls; systemd's STATUS= line names the devices and the live incident or
 * call-back; the watchdog pings only while no device has been down for minutes; the I/O
 * board going silent (or coming back) is an event of the live incident or of the system.
 */
#ifndef GW_STATUS_H
#define GW_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "board/io.h"
#include "core/conf.h"
#include "core/loop.h"
#include "core/notify.h"
#include "service/call.h"
#include "service/callback.h"
#include "store/db.h"

/* A device down this long makes the gateway unhealthy (no watchdog pings). */
#define GW_STATUS_DOWN_UNHEALTHY_MS (5 * 60 * 1000)

struct gw_status_ops {
	/* Set a board LED; called only when the pattern changes. Returns 0, -ENODEV (no
	   board: the pattern is not remembered) or -errno. NULL: no board. */
	int (*led)(void *arg, enum gw_io_led which, enum gw_io_led_pattern p);
	void *arg;
};

struct gw_status;

/*
 * Create the status and its systemd notifier (watchdog while gw_status_healthy()). conf
 * is borrowed (io.port names the board in its events). Returns 0 and *out, or -errno.
 */
int gw_status_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_status_ops *ops,
		  struct gw_status **out);
/* Free the status and its notifier (sends nothing). NULL is fine. */
void gw_status_free(struct gw_status *s);
/* The incident and call-back machines and the call log, once built (each may be NULL). */
void gw_status_attach(struct gw_status *s, struct gw_db *db, struct gw_calls *calls,
		      struct gw_callback *callback);

/* The radio terminal (kind "radio") or the modem ("modem") is up or down: log, its LED,
   STATUS=. kind is a string literal. */
void gw_status_device(struct gw_status *s, const char *kind, bool up);
/* Whether the radio and the modem are up. */
bool gw_status_radio_up(const struct gw_status *s);
bool gw_status_modem_up(const struct gw_status *s);
/*
 * The I/O board is up or down (st: its last status). Its going silent, and its answer after
 * that (not its first answer), are an event of the live incident, else a system event.
 */
void gw_status_board(struct gw_status *s, bool up, const struct gw_io_status *st);
/* The on-call LED for the incident's state st and the call-back's cst: lit while either is
   bridged, blinking fast while either is otherwise live, off when both are idle. */
void gw_status_on_call(struct gw_status *s, enum gw_call_state st, enum gw_cb_state cst);
/* Send systemd's STATUS= line for the devices and the live call, when it changed. */
void gw_status_update(struct gw_status *s);
/* False once the radio or the modem has been down GW_STATUS_DOWN_UNHEALTHY_MS. */
bool gw_status_healthy(const struct gw_status *s);
/* Seconds since gw_status_new(). */
int64_t gw_status_uptime_s(const struct gw_status *s);
/* READY=1 with the first STATUS= (before the loop runs), and STOPPING=1 (after it). */
void gw_status_ready(struct gw_status *s);
void gw_status_stopping(struct gw_status *s);

#endif
