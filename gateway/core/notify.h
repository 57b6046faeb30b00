/*
 * notify: the systemd service notification protocol (sd_notify(3)) without libsystemd.
 *
 * Messages are newline-separated VAR=value assignments sent as one datagram to the UNIX
 * socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Outside
 * systemd (no $NOTIFY_SOCKET) every call does nothing and succeeds. The watchdog pings
 * (WATCHDOG=1) come from a loop timer at half of $WATCHDOG_USEC, and only while the
 * owner's healthy() says so, so a stuck loop or a sick gateway stops them.
 */
#ifndef GW_NOTIFY_H
#define GW_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

struct gw_notify;

/* The gateway's own judgement: true while a restart would not help. */
typedef bool (*gw_notify_healthy_fn)(void *arg);

/*
 * Send msg as one datagram to $NOTIFY_SOCKET. Returns 1 sent, 0 when $NOTIFY_SOCKET is
 * unset, -EAFNOSUPPORT for an address that is neither a path nor "@name", or -errno.
 */
int gw_notify_send(const char *msg);

/*
 * Set up the watchdog from $WATCHDOG_USEC (ignored when $WATCHDOG_PID names another
 * process). healthy may be NULL (always healthy). Returns 0 and *out, also outside
 * systemd; -EINVAL for a malformed $WATCHDOG_USEC; -ENOMEM.
 */
int gw_notify_new(struct gw_loop *loop, gw_notify_healthy_fn healthy, void *arg,
		  struct gw_notify **out);
/* Stop the watchdog timer and free. Sends nothing. NULL is fine. */
void gw_notify_free(struct gw_notify *n);

/* Watchdog ping period in ms (half of $WATCHDOG_USEC), 0 when the watchdog is off. */
int64_t gw_notify_watchdog_ms(const struct gw_notify *n);

/*
 * "READY=1" with "STATUS=<status>" (status may be NULL), and start the watchdog pings.
 * Call once the devices are open and the database is checked. Returns as gw_notify_send().
 */
int gw_notify_ready(struct gw_notify *n, const char *status);

/*
 * "STATUS=<text>", sent only when the text differs from the last one. Newlines in the
 * text become spaces. Returns as gw_notify_send(); 0 as well when unchanged.
 */
int gw_notify_status(struct gw_notify *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "STOPPING=1" (before the shutdown work). Returns as gw_notify_send(). */
int gw_notify_stopping(struct gw_notify *n);

#endif
