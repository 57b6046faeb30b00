/*
 * call: the authority-call (incident) state machine.
 *
 * One incident runs from an officer's individual call to the release of every
 * leg. States, the events each accepts, where each may go and its timeout are
 * one table in call.c, run by the fsm engine (core/fsm.h); an event a state does
 * not declare is logged and rejected. The officer's radio call and the worker's
 * phone call are child machines of the incident (its legs): each owns its call's
 * state and reports its end to the incident as an event with the cause. Drivers
 * report through gw_calls_*() entry points; the machine acts through the ops and
 * writes the call log through db.
 */
#ifndef GW_CALL_H
#define GW_CALL_H

#include <stdint.h>

#include "core/conf.h"
#include "store/db.h"
#include "voice/dtmf.h"
#include "core/loop.h"
#include "phone/modem.h"
#include "radio/pei.h"
#include "store/roster.h"

enum gw_call_state {
	GW_CALL_ST_NEW,
	GW_CALL_ST_PAGING,   /* dialling / ringing a worker of the chain */
	GW_CALL_ST_ANNOUNCE, /* the phone answered: announcement, waiting for the accept key */
	GW_CALL_ST_BRIDGED,  /* the worker accepted: radio and phone joined */
	GW_CALL_ST_CLOSED,
	GW_CALL_ST_COUNT
};

enum gw_call_event {
	GW_CALL_EV_START,
	GW_CALL_EV_RADIO_CONNECTED,
	GW_CALL_EV_RADIO_RELEASED, /* the radio leg ended; data: int cause (PEI) */
	GW_CALL_EV_PHONE_ALERTING,
	GW_CALL_EV_PHONE_ANSWERED,
	GW_CALL_EV_PHONE_ENDED, /* the phone leg ended; data: int cause (enum gw_modem_end) */
	GW_CALL_EV_DTMF,	/* data: char digit */
	GW_CALL_EV_T_RING,	/* ring time of a chain step ran out */
	GW_CALL_EV_T_ACCEPT,	/* no accept key within the accept time */
	GW_CALL_EV_SMS_ACCEPT,	/* a paged worker accepted by SMS; data: int chain step */
	GW_CALL_EV_COUNT
};

/* Timeouts, one table (call.c): the state that arms it, its config key, its event. */
enum gw_call_timer { GW_CALL_T_RING, GW_CALL_T_ACCEPT, GW_CALL_T_COUNT };
struct gw_call_tdef {
	enum gw_call_timer id;
	const char *conf_key;	  /* rinki.conf key holding the value in seconds */
	enum gw_call_event event; /* what its expiry feeds to the state machine */
	const char *desc;
};
extern const struct gw_call_tdef gw_call_tdefs[GW_CALL_T_COUNT];

/* What the machine does to the legs. Each returns 0 or negative errno. */
struct gw_call_ops {
	int (*radio_answer)(void *arg, int cci);
	int (*radio_hangup)(void *arg, int cci);
	/* Nobody was reached: tell the officer by voice, then release the leg. May be NULL
	   (radio_hangup is used). */
	int (*radio_unreached)(void *arg, int cci);
	int (*phone_dial)(void *arg, const char *number);
	int (*phone_hangup)(void *arg);
	/* Messages; may be NULL when the gateway has no such channel. */
	int (*phone_sms)(void *arg, const char *number, const char *text);
	int (*radio_sds)(void *arg, const char *issi, const char *text);
	/* Hang up the call ringing in on the phone (gw_calls_phone_incoming); may be NULL. */
	int (*phone_reject)(void *arg);
	/* The live incident changed state (CLOSED when it ended); may be NULL. */
	void (*state)(void *arg, enum gw_call_state st);
	/* The worker should hear the announcement (again): on answering and on '*'. org is
	   the caller's organisation from the directory, NULL when unknown. May be NULL. */
	void (*announce)(void *arg, const char *org);
	void *arg;
};

struct gw_calls;
struct gw_call;

/* Create the incident manager. db may be NULL (nothing logged; tests). Returns 0 or -ENOMEM. */
int gw_calls_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		 const struct gw_call_ops *ops, struct gw_calls **out);
/* Free the manager and any live incident (legs are not touched). */
void gw_calls_free(struct gw_calls *calls);
/*
 * Offer roster workers' calls to the call-back (gateway/callback) while no incident is
 * live, and route its keys and phone end there while it is; a call-back makes authority
 * calls busy as an incident does. NULL: no call-back (the default).
 */
struct gw_callback;
void gw_calls_set_callback(struct gw_calls *calls, struct gw_callback *cb);
/* Use this roster snapshot for the next incidents (the caller keeps ownership). */
void gw_calls_set_roster(struct gw_calls *calls, const struct gw_roster *roster);

/* Driver entry points. */
/*
 * An officer's individual call: starts the incident. While one is live the call is busy:
 * an entry of its own (outcome "busy"), an SDS to its caller (call.busy_text), not
 * answered nor hung up (ATH would clear the live call too); its later release is logged
 * in that entry.
 */
void gw_calls_radio_incoming(struct gw_calls *calls, const struct gw_pei_call_in *in);
/* gw_calls_radio_incoming() with the incident started at wall_ms (UTC ms) instead of now:
   the time its page was looked up at (gw_calls_first_page), so routing is for that time. */
void gw_calls_radio_incoming_at(struct gw_calls *calls, const struct gw_pei_call_in *in,
				int64_t wall_ms);
/*
 * The number an individual speech call from caller, starting at wall_ms, would page first
 * if no incident or call-back were live: the same routing (route, plan, after-hours line,
 * fallback) and first step as gw_calls_radio_incoming(). Returns 1 with the number in phone,
 * 0 when it would page nobody (no roster, nobody on duty and no fallback, an empty number),
 * -E2BIG when phone is too small.
 */
int gw_calls_first_page(struct gw_calls *calls, const char *caller, int64_t wall_ms, char *phone,
			size_t len);
/* True while an authority call would start an incident: none live, no call-back live. */
bool gw_calls_may_page(const struct gw_calls *calls);
/* The roster snapshot in use (NULL: none) and how many times one was set (its generation). */
const struct gw_roster *gw_calls_roster(const struct gw_calls *calls);
unsigned gw_calls_roster_gen(const struct gw_calls *calls);
void gw_calls_radio_connected(struct gw_calls *calls, int cci);
void gw_calls_radio_released(struct gw_calls *calls, int cci, int cause);
void gw_calls_phone_progress(struct gw_calls *calls, enum gw_modem_call_state st);
/*
 * The modem answered the page's ATD (OK or a final code): its reader has the command, so
 * the rest of the incident's start runs now. Without it the rest runs GW_CALL_REST_MS
 * after the ATD, or when anything else reaches the incident first.
 */
void gw_calls_phone_dial_acked(struct gw_calls *calls);
#define GW_CALL_REST_MS 2
void gw_calls_phone_ended(struct gw_calls *calls, enum gw_modem_end why);
/* The radio's port went away (up = 0) or came back with the terminal initialised (1). */
void gw_calls_radio_link(struct gw_calls *calls, int up);
/*
 * The I/O board went silent (up = 0) or answers again (1); detail says which and why. Noted
 * as an event ("board_down"/"board_up") of the live incident: returns 1, or 0 when none is
 * live (the caller logs a system event instead).
 */
int gw_calls_board_link(struct gw_calls *calls, int up, const char *detail);
/* A key pressed on the worker's phone (modem URC or in-band detector). */
void gw_calls_phone_dtmf(struct gw_calls *calls, char digit);
/*
 * A key report from one source. Where the modem's reports and the in-band detector
 * meet: the same key from the other source within GW_DTMF_DEDUP_MS of an accepted
 * report is the same press and dropped (logged at debug); else gw_calls_phone_dtmf().
 */
void gw_calls_phone_key(struct gw_calls *calls, char digit, enum gw_dtmf_src src);
/*
 * An SMS from a phone (from: the sender's number, compared as gw_e164_same). The code of
 * that worker's SMS page ("37a", "37", "37 ok"), from a worker already paged for the live
 * incident, makes that worker take the call: rinkid connects them and bridges on answer
 * without asking for 4 again. A bare accept ("4", "ok", "kuittaus", "a") accepts nothing:
 * a paged worker is told by SMS to use the code. A code that is expired or unknown for
 * that phone gets a reply SMS; a code from a number not in the roster is logged and
 * dropped. Returns 1 when consumed (every coded reply, a paged worker's bare accept),
 * else 0.
 */
int gw_calls_phone_sms(struct gw_calls *calls, const char *from, const char *text);

/* What an SMS reply says (gw_call_parse_sms_reply). */
enum gw_call_reply { GW_CALL_REPLY_NONE, GW_CALL_REPLY_ACCEPT, GW_CALL_REPLY_CODE };
/*
 * Classify an SMS text: a bare accept word, a two-digit page code with an optional accept
 * word ("37", "37a", "37 ok"; *code set to 37), or neither. Never fails.
 */
enum gw_call_reply gw_call_parse_sms_reply(const char *text, int *code);

/*
 * The network's reason (AT+CEER text) for the end of the call to number: a phone_cause
 * event in the call log of the live incident, or of the one that closed just before,
 * when number was paged for it. Otherwise nothing.
 */
void gw_calls_phone_cause(struct gw_calls *calls, const char *number, const char *text);

/*
 * Someone calls the gateway's phone number ("" when withheld). A roster worker's call while
 * no incident is live is offered to the call-back (gw_calls_set_callback; PIN, then the
 * officer's radio): returns 1 when it took it. Otherwise the call is rejected: a number not
 * in the roster logged as such; a roster worker with a log line saying why, plus a call_in
 * event when the live incident has paged them. Returns 0 when rejected, or the negative
 * errno of ops.phone_reject (-ENOTSUP when there is none).
 */
int gw_calls_phone_incoming(struct gw_calls *calls, const char *number);

/*
 * Feed one event to the live incident. Returns the new state (GW_CALL_ST_CLOSED when the
 * event closed it), -ENOENT when no incident is live, -EPERM when the state does not
 * accept the event.
 */
int gw_calls_dispatch(struct gw_calls *calls, enum gw_call_event ev, const void *data);

/* The live incident's state, or GW_CALL_ST_CLOSED when none is live. */
enum gw_call_state gw_calls_state(const struct gw_calls *calls);
/* The phone of the worker being paged or hearing the announcement; NULL when none. */
const char *gw_calls_paged_phone(const struct gw_calls *calls);
/* The live incident's caller organisation from the directory; NULL when unknown or none. */
const char *gw_calls_caller_org(const struct gw_calls *calls);
/* The live incident's service line code ("" when unrouted); NULL when none is live. */
const char *gw_calls_line(const struct gw_calls *calls);
/* Database id of the live (or last) incident, 0 when none yet. */
int64_t gw_calls_last_id(const struct gw_calls *calls);
/* The live incident's radio call: its CC instance, or -1 when no incident is live. */
int gw_calls_radio_cci(const struct gw_calls *calls);
/* 1 when the live incident's radio call is simplex (+CTICN simplex field 1), else 0. */
int gw_calls_radio_simplex(const struct gw_calls *calls);

const char *gw_call_state_name(enum gw_call_state st);
const char *gw_call_event_name(enum gw_call_event ev);

#endif
