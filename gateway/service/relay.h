/*
 * relay: text messages between an officer's radio and the on-call phone.
 *
 * An officer's SDS text (or a status SDS whose code a route names) goes by SMS to the
 * first worker on duty for the line the officer routes to (outside the line's office hours,
 * of its after-hours line, logged as an "after_hours" event), and opens a thread; the worker's SMS
 * reply goes back to that officer by SDS. Each officer text is one entry in the call log (outcome
 * "message relayed"); replies are later events of that entry. Bodies are logged as events of kind
 * "sds_text"/"sms_text" so retention can blank them later.
 *
 * Every message goes through an outbox with no small fixed cap (GW_RELAY_OUTBOX_MAX is a
 * bound on memory, far above any real flood): a send the driver refuses (full, not ready)
 * or that fails later (send_sms_async: a stall, a network error) is tried again with
 * back-off, GW_RELAY_TRIES times within GW_RELAY_GIVE_UP_MS; one that finally fails is
 * logged ("sms_failed"/"sds_failed") and its sender is told: the officer by SDS, the
 * worker by SMS.
 */
#ifndef GW_RELAY_H
#define GW_RELAY_H

#include <stdint.h>

#include "core/conf.h"
#include "store/db.h"
#include "core/loop.h"
#include "store/roster.h"

struct gw_relay;

/* A send's end (the shape of gw_modem_sms_cb): rc 0 sent, else failed; mr unused. */
typedef void (*gw_relay_done_fn)(void *done_arg, int rc, int mr);

struct gw_relay_ops {
	/*
	 * Each returns 0 or negative errno (the message could not be queued now; -EINVAL and
	 * -EMSGSIZE are final, anything else is tried again).
	 */
	int (*send_sms)(void *arg, const char *number, const char *text);
	int (*send_sds)(void *arg, const char *issi, const char *text);
	/*
	 * Optional, used instead of send_sms when set: as send_sms, and when it returns >= 0
	 * done(done_arg, rc, mr) is called once the modem has sent it (rc 0) or given up
	 * (rc != 0: tried again). gw_modem_send_sms fits it as it is.
	 */
	int (*send_sms_async)(void *arg, const char *number, const char *text,
			      gw_relay_done_fn done, void *done_arg);
	void *arg;
};

#define GW_RELAY_TRIES	    8		     /* sends of one message at most ... */
#define GW_RELAY_GIVE_UP_MS (10 * 60 * 1000) /* ... and for this long at most */
#define GW_RELAY_OUTBOX_MAX 1000	     /* messages waiting, a bound on memory */

/* How long a worker's reply still finds its officer. */
#define GW_RELAY_THREAD_MS (2 * 60 * 60 * 1000)

/*
 * db may be NULL (nothing logged). Returns 0 or -ENOMEM. A message whose async send is in
 * flight at gw_relay_free is left to its done callback, which then only frees it.
 */
int gw_relay_new(struct gw_loop *loop, struct gw_db *db, const struct gw_relay_ops *ops,
		 struct gw_relay **out);
void gw_relay_free(struct gw_relay *r);
void gw_relay_set_roster(struct gw_relay *r, const struct gw_roster *roster);

/*
 * The language of the texts officers get (prompt.language: "fi", "sv" or "en"; others
 * read as "fi"). Workers get theirs from the roster. Default "fi".
 */
void gw_relay_set_officer_lang(struct gw_relay *r, const char *lang);

/*
 * A text SDS from an officer. Returns 1 when it is on its way to a worker (sent, or
 * waiting in the outbox; the entry's outcome, "message relayed" or "message failed", is
 * written when that is known), 0 when no worker is on duty (the officer is told by SDS),
 * -EBUSY when that radio sent more than 10 texts in a minute (dropped; a call-log entry
 * with outcome "message rate_limited" records it), or negative errno.
 */
int gw_relay_officer_text(struct gw_relay *r, const char *issi, const char *text);

/*
 * An SMS from a phone. Returns 1 when it answered an open thread (on its way to the
 * officer through the outbox), 0 when the sender has no open thread (logged, dropped), or
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
