/*
 * call_priv: what the incident's files (call.c, call_leg.c) share and nobody else may use:
 * the incident and manager structs, the legs, and the helpers both call. Include only from
 * gateway/service/call*.c.
 */
#ifndef GW_CALL_PRIV_H
#define GW_CALL_PRIV_H

#include "service/call.h"
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "service/callback.h"
#include "core/e164.h"
#include "core/event.h"
#include "core/fsm.h"
#include "core/log.h"
#include "service/msgcat.h"

#define CHAIN_MAX 16

/*
 * SMS accept codes: every SMS page carries a two-digit code for that phone, unique among
 * the live ones. It accepts only from the number it went to, until call.ack_code_ttl runs
 * out or its incident closes. Codes are handed out in turn (10 .. 99, then 10 again), so a
 * code comes back as late as it can; a spent code stays in the table until its slot is
 * reused, so a late reply is told "expired" rather than "unknown".
 */
#define ACK_CODES    32
#define ACK_CODE_MIN 10
#define ACK_CODE_MAX 99

struct ack_code {
	int code; /* 0: slot never used */
	char phone[32];
	int seq;	    /* the incident's local number (gw_call.seq) */
	int64_t expires_ms; /* monotonic */
};

/* The timers, once: public table (gw_call_tdefs) and the engine's (call_timers). */

struct gw_call;

/* The officer's radio call, a child machine of the incident ("radio(<cci>){<STATE>}"). */
struct radio_leg {
	struct gw_fsm_inst fi; /* terminated: the call is released (or the incident closed) */
	int cci;
	int simplex; /* the radio call is simplex (+CTICN simplex field 1) */
};

/* The worker's phone call, a child machine of the incident ("phone(<number>){<STATE>}"). */
struct phone_leg {
	struct gw_fsm_inst fi; /* not initialised before the first dial; terminated: ended */
};

struct step {
	char handle[32];
	char name[64];
	char phone[32];
	int ring_s; /* this step's ring time */
};

struct gw_call {
	struct gw_calls *mgr;
	struct gw_fsm_inst fi; /* its state and timer; id "new<seq>" until the call log gives one */
	int64_t id;	       /* call log id; 0 when the database refused the incident */
	int seq;	       /* local number for log lines when id is 0 */
	struct radio_leg radio; /* the officer's call: adopted on creation, ends with it */
	struct phone_leg phone; /* the worker's call being paged; a new one per dial */
	char caller[GW_PEI_ID_MAX];
	char caller_name[64];
	char line[16];
	char after_line[16]; /* outside line's office hours: the line paged instead, else "" */
	char line_name[64];
	char line_name_fi[96];
	char line_name_sv[96];
	struct step chain[CHAIN_MAX + 1]; /* the plan's steps, then its fallback */
	int nchain, step, round;	  /* nchain: steps tried in rounds */
	int rounds;
	int fallback;	      /* index of the fallback in chain[], -1 when the plan has none */
	int paged_upto;	      /* highest chain index dialled so far (-1: none) */
	int pre_accepted;     /* the worker being dialled accepted by SMS: bridge on answer */
	int sms_accepted;     /* chain index of the worker who accepted by SMS, -1: none */
	int accept_redials;   /* redials of that worker so far (call.accept_retries at most) */
	int sms_paged;	      /* the SMS page went out (once, to the first worker paged) */
	int64_t started_ms;   /* wall clock */
	int64_t started_mono; /* monotonic, for durations */
	int64_t page_mono;    /* when the current step was dialled */
	int64_t bridged_mono;
	struct gw_timer rest; /* the rest of the start, after the modem answered the ATD */
	bool staffed, dialled;
};

/* A busy caller's radio call, until its release is logged in its busy entry. */
#define BUSY_MAX 4
struct busy_call {
	int cci;
	int64_t id;
};

/* gw_calls_first_page's first page (number, "" for nobody) per line (a pointer into the
   roster) for one time and roster snapshot. */
#define FIRST_MEMO 32
struct first_memo {
	int64_t wall_ms;
	unsigned gen;
	const struct gw_roster *roster;
	int n;
	struct {
		const char *line;
		char phone[32];
	} e[FIRST_MEMO];
};

struct gw_calls {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_db *db;
	struct gw_call_ops ops;
	const struct gw_roster *roster;
	struct gw_call *live; /* &slot while an incident is live, else NULL */
	struct gw_call slot;  /* one incident at a time: no allocation on the paging path */
	int64_t last_id;
	int seq;
	struct ack_code codes[ACK_CODES];
	int next_code;
	int64_t closed_mono;	   /* when slot's incident closed (monotonic ms), 0: not yet */
	struct gw_dtmf_dedup keys; /* last key report, to join modem and in-band reports */
	struct busy_call busy[BUSY_MAX]; /* cci 0: free */
	struct gw_callback *callback;	 /* worker call-backs; NULL: none */
	unsigned roster_gen;		 /* gw_calls_set_roster calls */
	struct gw_call probe;		 /* gw_calls_first_page's routing scratch */
	struct first_memo memo;		 /* its first pages per line, for one time and roster */
};

/* "call(<id>){<STATE>}: "; before the call log has given an id: "call(new<seq>)". */
#define LOGCALL(c, level, fmt, ...) LOGPFSM(&(c)->fi, level, fmt, ##__VA_ARGS__)
enum { RADIO_EV_CONNECTED, RADIO_EV_RELEASED, RADIO_EV_COUNT };
enum { PHONE_EV_ALERTING, PHONE_EV_ANSWERED, PHONE_EV_ENDED, PHONE_EV_COUNT };

struct gw_call;
struct gw_calls;
struct gw_fsm;
struct gw_fsm_inst;
struct gw_fsm_state;
struct radio_leg;
struct step;

void call_log_event(struct gw_call *c, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
;
void call_fmt_duration(int64_t ms, char *buf, size_t len);
int call_set_state(struct gw_call *c, enum gw_call_state to);
void call_codes_spend(struct gw_call *c);
bool call_leg_live(const struct gw_fsm_inst *fi);
extern const struct gw_fsm call_radio_fsm;
extern const struct gw_fsm call_phone_fsm;
void call_radio_leg_start(struct gw_call *c, int cci, int simplex);
struct radio_leg *call_radio_leg_of(struct gw_calls *m, int cci);
void call_radio_answer(struct gw_call *c);
void call_radio_hangup(struct gw_call *c);
void call_phone_hangup(struct gw_call *c);
void call_close_incident(struct gw_call *c, const char *outcome, int cause,
			 const char *accepted_by);
void call_closed(struct gw_fsm_inst *fi, int cause);
int call_page_step(struct gw_call *c);
/* The language the worker with this phone reads: the roster's, else prompt.language. */
const char *calls_worker_lang(const struct gw_calls *m, const char *phone);
const char *call_worker_lang(const struct gw_call *c, const char *phone);
/* The line's name for a text in lang: the Finnish name for "fi", else the roster's name. */
const char *call_line_text_in(const struct gw_call *c, const char *lang);
void call_caller_text(const struct gw_call *c, char *buf, size_t len);
const char *call_line_text(const struct gw_call *c);
void call_send_sms(struct gw_call *c, const struct step *s, const char *kind, const char *text);
void call_tell_officer(struct gw_call *c, const char *kind, const char *text);

#endif
