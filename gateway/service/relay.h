/*
 * relay: text messages between an officer's radio and the on-call phone.
 *
 * An officer's SDS text (or a status SDS whose code a route names) goes by SMS to the
 * first worker on duty for the line the officer routes to, and opens a thread; the worker's SMS
 * reply goes back to that officer by SDS. Each officer text is one entry in the call log (outcome
 * "message relayed"); replies are later events of that entry. Bodies are logged as events of kind
 * "sds_text"/"sms_text" so retention can blank them later.
 */
#ifndef GW_RELAY_H
#define GW_RELAY_H

#include <stdint.h>

#include "core/conf.h"
#include "store/db.h"
#include "core/loop.h"
#include "store/roster.h"

struct gw_relay;

struct gw_relay_ops {
	/* Each returns 0 or negative errno (the message could not be queued). */
	int (*send_sms)(void *arg, const char *number, const char *text);
	int (*send_sds)(void *arg, const char *issi, const char *text);
	void *arg;
};

/* How long a worker's reply still finds its officer. */
#define GW_RELAY_THREAD_MS (2 * 60 * 60 * 1000)

/* db may be NULL (nothing logged). Returns 0 or -ENOMEM. */
int gw_relay_new(struct gw_loop *loop, struct gw_db *db, const struct gw_relay_ops *ops,
		 struct gw_relay **out);
void gw_relay_free(struct gw_relay *r);
void gw_relay_set_roster(struct gw_relay *r, const struct gw_roster *roster);

/*
 * A text SDS from an officer. Returns 1 when relayed to a worker, 0 when no
 * worker is on duty (the officer is told by SDS), -EBUSY when that radio sent
 * more than 10 texts in a minute (dropped; a call-log entry with outcome
 * "message rate_limited" records it), or negative errno.
 */
int gw_relay_officer_text(struct gw_relay *r, const char *issi, const char *text);

/*
 * An SMS from a phone. Returns 1 when it answered an open thread (relayed to
 * the officer), 0 when the sender has no open thread (logged, dropped), or
 * negative errno.
 */
int gw_relay_worker_text(struct gw_relay *r, const char *from, const char *text);

/*
 * A status SDS from an officer (code 0..65535; meaning: its name for people, may be NULL).
 * Only when a route names that code for issi now: an SMS "status 0x8002 (meaning) from
 * <ISSI>/<org>" to that line's first worker on duty, logged as a call-log entry (event
 * "sds_status") like a text, and a thread for the reply. Returns -ENOENT when no route names
 * the code (nothing sent or logged), else as gw_relay_officer_text().
 */
int gw_relay_officer_status(struct gw_relay *r, const char *issi, int code, const char *meaning);

#endif
