/*
 * callback: a worker's call to the gateway put through to an officer's radio, as a machine
 * on the fsm engine (core/fsm.h).
 *
 * states[] gives, per state, the events it accepts, the states it may go to, its action and
 * the named timer its entry arms; the engine refuses (logs "callback(<id>){<STATE>}: ...
 * rejected", -EPERM) anything else, and every state's onenter tells the owner (ops.state).
 * Three named timers, one armed at a time, each replaced by the next state's: the key time
 * of the PIN and ISSI stages (callback.key_time, from the end of their prompt and restarted
 * by every key), the dial guard (call.ring_time) and the gap after the last prompt before
 * hanging up. Both config keys are live (SIGHUP): the instance takes them before each event
 * from outside. Keys are collected in a fixed buffer: '#' ends an entry, '*' clears it. The
 * PIN is checked with gw_roster_check_pin (argon2id, some ms on the loop) and its digits are
 * never logged. Wrong PINs count per worker (roster handle) and per number (E.164) across
 * calls and restarts; the third within callback.lockout_s locks out that worker and that
 * number for callback.lockout_s. The records are kept in the database (gw_db_lockout_*,
 * wall-clock times), loaded at start, and never evicted: one exists only for a roster worker
 * with a PIN who typed a wrong one, so there are at most two per such worker. Every step is
 * an event of the call-back's incident (line "callback"), opened when the call is answered.
 */
#include "service/callback.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/e164.h"
#include "core/event.h"
#include "core/fsm.h"
#include "core/log.h"
#include "voice/prompt.h"

#define PIN_TRIES   3 /* wrong PINs before the lock-out */
#define ISSI_TRIES  3 /* bad radio numbers before goodbye */
#define KEYS_MAX    24
#define GOODBYE_GAP 300 /* ms after the last prompt before hanging up */
#define CB_LANGS    3

static const char *const langs[CB_LANGS] = {"fi", "sv", "en"};

/* The machine's named timers (one armed at a time). */
enum { T_KEY, T_DIAL, T_GOODBYE, T_COUNT };

struct lockout {
	char key[80];	      /* "worker:<handle>" or "phone:<E.164>" */
	int fails;	      /* wrong PINs in the window that ends callback.lockout_s after ... */
	int64_t last_fail_ms; /* ... the last one (wall clock) */
	int64_t until_ms;     /* wall clock; 0: not locked */
};

struct gw_callback {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_db *db;
	struct gw_callback_ops ops;
	const struct gw_roster *roster;
	struct gw_prompt prompts[CB_LANGS][GW_CB_PROMPT_COUNT]; /* n 0: not loaded */

	struct gw_fsm_inst fi; /* state, timer; id: the call-log id, or -seq without one */
	int64_t id;	       /* call-log id of the live (or last) call-back; 0: none */
	int seq;	       /* local number for log lines */
	char phone[32];	       /* the worker's phone as in the roster */
	char caller[32];       /* the number the call came from (same E.164 as phone) */
	char handle[32];       /* ... and handle */
	char name[64];	       /* ... and name (status) */
	int lang;	       /* index into langs[] */
	char keys[KEYS_MAX + 1];
	int nkeys, overflow;
	int issi_bad;
	char issi[GW_PEI_ID_MAX];
	int dial_handle;     /* the radio dial in flight or up; 0 none */
	int cci;	     /* its call, once named; -1 unknown */
	int radio_hung;	     /* ATH sent for cci */
	const char *outcome; /* for the close after the last prompt */
	int cause;
	struct lockout *lock; /* every record, grown as needed, never evicted */
	size_t nlock, caplock;
};

/* ---- names ------------------------------------------------------------------------------ */

static const char *const event_names[GW_CB_EV_COUNT] = {
    [GW_CB_EV_KEY] = "key",
    [GW_CB_EV_T_KEY] = "key time out",
    [GW_CB_EV_T_DIAL] = "dial time out",
    [GW_CB_EV_RADIO_CONNECTED] = "radio connected",
    [GW_CB_EV_RADIO_ENDED] = "radio ended",
    [GW_CB_EV_PHONE_ENDED] = "phone ended",
    [GW_CB_EV_T_GOODBYE] = "goodbye played",
};
static const char *const prompt_names[GW_CB_PROMPT_COUNT] = {
    [GW_CB_PROMPT_PIN] = "cb_pin",
    [GW_CB_PROMPT_ISSI] = "cb_issi",
    [GW_CB_PROMPT_WRONG] = "cb_wrong_pin",
    [GW_CB_PROMPT_HOLD] = "cb_hold",
    [GW_CB_PROMPT_NOANSWER] = "cb_no_answer",
    [GW_CB_PROMPT_GOODBYE] = "cb_goodbye",
};

const char *gw_cb_prompt_name(enum gw_cb_prompt p)
{
	return p < GW_CB_PROMPT_COUNT ? prompt_names[p] : "?";
}

/* "callback(<id>){<STATE>}: " */
#define LOGCB(cb, level, fmt, ...) LOGPFSM(&(cb)->fi, level, fmt, ##__VA_ARGS__)

/* ---- call log --------------------------------------------------------------------------- */

/* A worker's call to the gateway not taken as a call-back: a "callback_refused" line. */
static void emit_refused(const char *number, const char *why)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "callback_refused");
	gw_event_str(&e, "from", number);
	gw_event_str(&e, "why", why);
	gw_event_emit(&e);
}

static void log_event(struct gw_callback *cb, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_event(struct gw_callback *cb, const char *kind, const char *fmt, ...)
{
	char detail[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	LOGCB(cb, GW_LOG_INFO, "%s %s", kind, detail);
	if (cb->db && cb->id) {
		int rc =
		    gw_db_event_append(cb->db, cb->id, gw_loop_wall_ms(cb->loop), kind, detail);
		if (rc < 0)
			LOGCB(cb, GW_LOG_ERROR, "call log write failed (%s): %s", strerror(-rc),
			      kind);
	}
	if (gw_event_on()) { /* after the write, as the incident's */
		struct gw_event e;
		gw_event_begin(&e, "incident_event");
		gw_event_int(&e, "call", cb->id);
		gw_event_str(&e, "line", "callback");
		gw_event_str(&e, "kind", kind);
		gw_event_str(&e, "detail", detail);
		gw_event_emit(&e);
	}
}

static void log_close(struct gw_callback *cb, const char *outcome, int cause)
{
	LOGCB(cb, GW_LOG_NOTICE, "closed: %s", outcome);
	if (cb->db && cb->id) {
		int rc = gw_db_incident_close(cb->db, cb->id, gw_loop_wall_ms(cb->loop), outcome,
					      cause, cb->handle);
		if (rc < 0)
			LOGCB(cb, GW_LOG_ERROR, "call log close failed: %s", strerror(-rc));
	}
	if (gw_event_on()) {
		struct gw_event e;
		gw_event_begin(&e, "incident_end");
		gw_event_int(&e, "call", cb->id);
		gw_event_str(&e, "line", "callback");
		gw_event_str(&e, "outcome", outcome);
		gw_event_int(&e, "cause", cause);
		gw_event_str(&e, "accepted_by", cb->handle[0] ? cb->handle : NULL);
		gw_event_emit(&e);
	}
}

/* ---- the legs --------------------------------------------------------------------------- */

/* Play prompt p to the worker; returns its length in ms (0 without voice). */
static int64_t say(struct gw_callback *cb, enum gw_cb_prompt p)
{
	const struct gw_prompt *pr = &cb->prompts[cb->lang][p];
	if (!pr->n || !cb->ops.play)
		return 0;
	cb->ops.play(cb->ops.arg, pr->pcm, pr->n);
	return (int64_t)pr->n * 1000 / pr->rate;
}

/* A key stage: its prompt, an empty entry and the key time from the prompt's end. */
static void ask(struct gw_callback *cb, enum gw_cb_prompt p)
{
	cb->nkeys = 0;
	cb->overflow = 0;
	cb->keys[0] = '\0';
	int64_t ms = say(cb, p);
	gw_fsm_timer_start(&cb->fi, T_KEY, ms + cb->fi.timer_ms[T_KEY]);
}

/* The last prompt, then (after the goodbye gap) hang up and close with outcome. */
static void goodbye(struct gw_callback *cb, enum gw_cb_prompt p, const char *outcome, int cause)
{
	cb->outcome = outcome;
	cb->cause = cause;
	int64_t ms = say(cb, p);
	gw_fsm_state_chg_ms(&cb->fi, GW_CB_ST_GOODBYE, T_GOODBYE, ms + cb->fi.timer_ms[T_GOODBYE]);
}

static void radio_hangup(struct gw_callback *cb)
{
	if (!cb->dial_handle || cb->radio_hung)
		return;
	if (cb->cci < 0) {
		LOGCB(cb, GW_LOG_INFO, "radio call not named yet: hung up when it is");
		return; /* gw_callback_dial_state hangs it up */
	}
	cb->radio_hung = 1;
	int rc = cb->ops.radio_hangup(cb->ops.arg, cb->cci);
	if (rc < 0)
		LOGCB(cb, GW_LOG_ERROR, "radio call %d not hung up: %s", cb->cci, strerror(-rc));
}

/* The call-back is over: the phone is gone or hung up by us. */
static void finish(struct gw_callback *cb, const char *outcome, int cause)
{
	if (cb->ops.bridge) /* the prompts ran the voice path too */
		cb->ops.bridge(cb->ops.arg, 0);
	log_close(cb, outcome, cause);
	gw_fsm_state_chg(&cb->fi, GW_CB_ST_IDLE);
}

static void phone_hangup(struct gw_callback *cb)
{
	int rc = cb->ops.phone_hangup(cb->ops.arg);
	if (rc < 0)
		LOGCB(cb, GW_LOG_ERROR, "phone not hung up: %s", strerror(-rc));
}

static void phone_gone(struct gw_callback *cb, const void *data, const char *outcome)
{
	enum gw_modem_end why = *(const enum gw_modem_end *)data;
	log_event(cb, "phone_ended", "%s %s", cb->handle, gw_modem_end_name(why));
	radio_hangup(cb);
	finish(cb, outcome, -1);
}

/* ---- PIN lock-outs ---------------------------------------------------------------------- */

/* The lock-out keys of a worker and of a number: "worker:<handle>", "phone:<E.164>". */
static void worker_key(char *out, size_t len, const char *handle)
{
	snprintf(out, len, "worker:%s", handle);
}
static int phone_key(char *out, size_t len, const char *phone)
{
	char e164[GW_E164_MAX];
	if (gw_e164_canon(phone, e164) < 0)
		return -EINVAL;
	snprintf(out, len, "phone:%s", e164);
	return 0;
}

static struct lockout *lock_find(const struct gw_callback *cb, const char *key)
{
	for (size_t i = 0; i < cb->nlock; i++)
		if (strcmp(cb->lock[i].key, key) == 0)
			return &cb->lock[i];
	return NULL;
}

/* The record of key, made (zeroed) when there is none. NULL only when out of memory. */
static struct lockout *lock_get(struct gw_callback *cb, const char *key)
{
	struct lockout *l = lock_find(cb, key);
	if (l)
		return l;
	if (cb->nlock == cb->caplock) {
		size_t cap = cb->caplock ? 2 * cb->caplock : 16;
		struct lockout *n = realloc(cb->lock, cap * sizeof(*n));
		if (!n)
			return NULL;
		cb->lock = n;
		cb->caplock = cap;
	}
	l = &cb->lock[cb->nlock++];
	memset(l, 0, sizeof(*l));
	snprintf(l->key, sizeof(l->key), "%s", key);
	return l;
}

static void lock_store(struct gw_callback *cb, const struct lockout *l)
{
	if (!cb->db)
		return;
	struct gw_db_lockout r = {l->key, l->fails, l->last_fail_ms, l->until_ms};
	int rc = gw_db_lockout_put(cb->db, &r);
	if (rc < 0)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "PIN lock-out of %s not saved: %s", l->key,
		     strerror(-rc));
}

static void lock_loaded(const struct gw_db_lockout *r, void *arg)
{
	struct gw_callback *cb = arg;
	struct lockout *l = lock_get(cb, r->key);
	if (!l)
		return;
	l->fails = r->fails;
	l->last_fail_ms = r->last_fail_ms;
	l->until_ms = r->until_ms;
}

/* One wrong PIN on record key at now; 1 when it locks key out. */
static int lock_count(struct gw_callback *cb, const char *key, int64_t now, int64_t win)
{
	struct lockout *l = lock_get(cb, key);
	if (!l)
		return 1; /* cannot count: lock out rather than allow guessing */
	if (now - l->last_fail_ms > win)
		l->fails = 0; /* earlier failures are old news */
	l->fails++;
	l->last_fail_ms = now;
	int locked = l->fails >= PIN_TRIES;
	if (locked) {
		l->fails = 0;
		if (win > 0)
			l->until_ms = now + win;
	}
	lock_store(cb, l);
	return locked;
}

/* A wrong PIN, counted for the worker and for the number: 1 when it locked them out. */
static int pin_failed(struct gw_callback *cb)
{
	int64_t now = gw_loop_wall_ms(cb->loop), win = (int64_t)cb->conf->callback_lockout_s * 1000;
	char wk[80], pk[80];
	worker_key(wk, sizeof(wk), cb->handle);
	int locked = lock_count(cb, wk, now, win);
	if (phone_key(pk, sizeof(pk), cb->caller) == 0)
		locked |= lock_count(cb, pk, now, win);
	int fails = lock_find(cb, wk) ? lock_find(cb, wk)->fails : 0;
	log_event(cb, "pin_bad", "%s attempt %d of %d", cb->handle, locked ? PIN_TRIES : fails,
		  PIN_TRIES);
	if (!locked)
		return 0;
	if (win > 0) {
		LOGCB(cb, GW_LOG_WARN, "%s: %d wrong PINs, worker and phone locked out for %d s",
		      cb->handle, PIN_TRIES, cb->conf->callback_lockout_s);
		log_event(cb, "locked_out", "%s for %d s", cb->handle,
			  cb->conf->callback_lockout_s);
	}
	return 1;
}

/* The right PIN: the worker's and the number's counts start again. */
static void pin_right(struct gw_callback *cb)
{
	char key[80];
	struct lockout *l;
	worker_key(key, sizeof(key), cb->handle);
	if ((l = lock_find(cb, key)) && l->fails) {
		l->fails = 0;
		lock_store(cb, l);
	}
	if (phone_key(key, sizeof(key), cb->caller) == 0 && (l = lock_find(cb, key)) && l->fails) {
		l->fails = 0;
		lock_store(cb, l);
	}
}

/* ---- the machine ------------------------------------------------------------------------ */

/* '#' in the PIN stage. */
static void pin_entered(struct gw_callback *cb)
{
	int rc = cb->overflow ? -EACCES : gw_roster_check_pin(cb->roster, cb->phone, cb->keys);
	memset(cb->keys, 0, sizeof(cb->keys)); /* the digits are not kept */
	cb->nkeys = 0;
	if (rc == 0) {
		pin_right(cb);
		log_event(cb, "pin_ok", "%s", cb->handle);
		gw_fsm_state_chg(&cb->fi, GW_CB_ST_ISSI);
		ask(cb, GW_CB_PROMPT_ISSI);
		return;
	}
	if (rc != -EACCES) {
		log_event(cb, "pin_error", "%s %s", cb->handle, strerror(-rc));
		goodbye(cb, GW_CB_PROMPT_GOODBYE, "no_pin", -1);
		return;
	}
	if (pin_failed(cb))
		goodbye(cb, GW_CB_PROMPT_GOODBYE, "pin_failed", -1);
	else
		ask(cb, GW_CB_PROMPT_WRONG);
}

/* '#' in the ISSI stage. */
static void issi_entered(struct gw_callback *cb)
{
	char id[GW_PEI_ID_MAX];
	if (cb->overflow || gw_callback_parse_id(cb->keys, id) < 0) {
		log_event(cb, "issi_bad", "%s %d digit(s)", cb->handle,
			  cb->overflow ? KEYS_MAX : cb->nkeys);
		if (++cb->issi_bad >= ISSI_TRIES)
			goodbye(cb, GW_CB_PROMPT_GOODBYE, "bad_number", -1);
		else
			ask(cb, GW_CB_PROMPT_ISSI);
		return;
	}
	snprintf(cb->issi, sizeof(cb->issi), "%s", id);
	int h = cb->ops.radio_dial(cb->ops.arg, id, cb->conf->callback_simplex);
	if (h <= 0) {
		log_event(cb, "dial_failed", "%s %s", id, strerror(h < 0 ? -h : EIO));
		goodbye(cb, GW_CB_PROMPT_NOANSWER, "no_answer", -1);
		return;
	}
	cb->dial_handle = h;
	cb->cci = -1;
	cb->radio_hung = 0;
	log_event(cb, "dial", "%s %s", id, cb->conf->callback_simplex ? "simplex" : "duplex");
	gw_fsm_state_chg(&cb->fi, GW_CB_ST_DIALING); /* the dial guard runs */
	say(cb, GW_CB_PROMPT_HOLD);
}

static void on_key(struct gw_callback *cb, char d)
{
	if (d == '*') {
		cb->nkeys = 0;
		cb->overflow = 0;
		cb->keys[0] = '\0';
		LOGCB(cb, GW_LOG_DEBUG, "entry cleared");
	} else if (d >= '0' && d <= '9') {
		if (cb->nkeys < KEYS_MAX) {
			cb->keys[cb->nkeys++] = d;
			cb->keys[cb->nkeys] = '\0';
		} else {
			cb->overflow = 1;
		}
	} else if (d == '#') {
		gw_fsm_timer_stop(&cb->fi);
		if (cb->fi.state == GW_CB_ST_PIN)
			pin_entered(cb);
		else
			issi_entered(cb);
		return;
	} else {
		LOGCB(cb, GW_LOG_DEBUG, "key %c ignored", d);
	}
	gw_fsm_timer_start(&cb->fi, T_KEY, cb->fi.timer_ms[T_KEY]);
}

/* PIN and ISSI: keys, their time-out, the worker's hang-up. */
static void act_keys(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_callback *cb = fi->priv;
	if (ev == GW_CB_EV_KEY) {
		on_key(cb, *(const char *)data);
	} else if (ev == GW_CB_EV_T_KEY) {
		log_event(cb, "timeout", "%s %s", cb->handle,
			  fi->state == GW_CB_ST_PIN ? "pin" : "issi");
		goodbye(cb, GW_CB_PROMPT_GOODBYE, "timeout", -1);
	} else { /* GW_CB_EV_PHONE_ENDED */
		phone_gone(cb, data, "abandoned");
	}
}

static void act_dialing(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_callback *cb = fi->priv;
	switch (ev) {
	case GW_CB_EV_KEY:
		LOGCB(cb, GW_LOG_DEBUG, "key %c while dialling, ignored", *(const char *)data);
		break;
	case GW_CB_EV_RADIO_CONNECTED:
		log_event(cb, "connected", "%s cci %d", cb->issi, cb->cci);
		gw_fsm_state_chg(fi, GW_CB_ST_BRIDGED);
		if (cb->ops.bridge)
			cb->ops.bridge(cb->ops.arg, 1);
		break;
	case GW_CB_EV_RADIO_ENDED: {
		int cause = *(const int *)data;
		log_event(cb, "radio_failed", "%s cause %d (%s)", cb->issi, cause,
			  cause >= 0 ? gw_pei_cause_name(cause) : "refused");
		goodbye(cb, GW_CB_PROMPT_NOANSWER, "no_answer", cause);
		break;
	}
	case GW_CB_EV_T_DIAL:
		log_event(cb, "timeout", "%s radio %s", cb->handle, cb->issi);
		radio_hangup(cb);
		goodbye(cb, GW_CB_PROMPT_NOANSWER, "no_answer", -1);
		break;
	case GW_CB_EV_PHONE_ENDED:
		phone_gone(cb, data, "abandoned");
		break;
	}
}

static void act_bridged(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_callback *cb = fi->priv;
	if (ev == GW_CB_EV_RADIO_ENDED) {
		int cause = *(const int *)data;
		log_event(cb, "released", "%s cause %d (%s)", cb->issi, cause,
			  gw_pei_cause_name(cause));
		cb->dial_handle = 0;
		finish(cb, "connected", cause);
		phone_hangup(cb); /* after the close: its end is no news to us */
	} else if (ev == GW_CB_EV_PHONE_ENDED) {
		phone_gone(cb, data, "connected");
	} /* GW_CB_EV_KEY: keys in the conversation are not ours */
}

static void act_goodbye(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_callback *cb = fi->priv;
	switch (ev) {
	case GW_CB_EV_RADIO_CONNECTED: /* too late: the worker is being told it did not answer */
		log_event(cb, "connected_late", "%s cci %d", cb->issi, cb->cci);
		radio_hangup(cb);
		break;
	case GW_CB_EV_RADIO_ENDED:
		log_event(cb, "released", "%s cause %d (%s)", cb->issi, *(const int *)data,
			  gw_pei_cause_name(*(const int *)data));
		break;
	case GW_CB_EV_T_GOODBYE:
		finish(cb, cb->outcome, cb->cause);
		phone_hangup(cb);
		break;
	case GW_CB_EV_PHONE_ENDED: /* any radio call was hung up on the way here */
		log_event(cb, "phone_ended", "%s %s", cb->handle,
			  gw_modem_end_name(*(const enum gw_modem_end *)data));
		finish(cb, cb->outcome, cb->cause);
		break;
	} /* GW_CB_EV_KEY: the last prompt plays to its end */
}

/* Every state's entry: the owner hears of the change (status, LEDs, voice). */
static void entered(struct gw_fsm_inst *fi, int prev)
{
	(void)prev;
	struct gw_callback *cb = fi->priv;
	if (cb->ops.state)
		cb->ops.state(cb->ops.arg, fi->state);
}

#define EVB(e)	  GW_FSM_EV_BIT(GW_CB_EV_##e)
#define STB(s)	  GW_FSM_ST_BIT(GW_CB_ST_##s)
#define KEY_STAGE (EVB(KEY) | EVB(T_KEY) | EVB(PHONE_ENDED))
#define RADIO	  (EVB(RADIO_CONNECTED) | EVB(RADIO_ENDED))

static const struct gw_fsm_state states[GW_CB_ST_COUNT] = {
    [GW_CB_ST_IDLE] = {.name = "IDLE",
		       .out_states = STB(PIN),
		       .timer = GW_FSM_NO_TIMER,
		       .onenter = entered},
    [GW_CB_ST_PIN] = {.name = "PIN",
		      .in_events = KEY_STAGE,
		      .out_states = STB(ISSI) | STB(GOODBYE) | STB(IDLE),
		      .timer = T_KEY,
		      .action = act_keys,
		      .onenter = entered},
    [GW_CB_ST_ISSI] = {.name = "ISSI",
		       .in_events = KEY_STAGE,
		       .out_states = STB(DIALING) | STB(GOODBYE) | STB(IDLE),
		       .timer = T_KEY,
		       .action = act_keys,
		       .onenter = entered},
    [GW_CB_ST_DIALING] = {.name = "DIALING",
			  .in_events = EVB(KEY) | RADIO | EVB(T_DIAL) | EVB(PHONE_ENDED),
			  .out_states = STB(BRIDGED) | STB(GOODBYE) | STB(IDLE),
			  .timer = T_DIAL,
			  .action = act_dialing,
			  .onenter = entered},
    [GW_CB_ST_BRIDGED] = {.name = "BRIDGED",
			  .in_events = EVB(KEY) | EVB(RADIO_ENDED) | EVB(PHONE_ENDED),
			  .out_states = STB(IDLE),
			  .timer = GW_FSM_NO_TIMER,
			  .action = act_bridged,
			  .onenter = entered},
    [GW_CB_ST_GOODBYE] = {.name = "GOODBYE",
			  .in_events = EVB(KEY) | RADIO | EVB(T_GOODBYE) | EVB(PHONE_ENDED),
			  .out_states = STB(IDLE),
			  .timer = T_GOODBYE,
			  .action = act_goodbye,
			  .onenter = entered},
};

/* Defaults as gw_conf_defaults; the live values are set per instance (conf_timers). The
   goodbye gap is armed with the last prompt's length added (gw_fsm_state_chg_ms). */
static const struct gw_fsm_timer timers[T_COUNT] = {
    [T_KEY] = {"callback.key_time", GW_CB_EV_T_KEY, 10000,
	       "no key in the PIN or ISSI stage (from the prompt's end, or the last key)"},
    [T_DIAL] = {"call.ring_time", GW_CB_EV_T_DIAL, 25000, "the radio did not answer"},
    [T_GOODBYE] = {"goodbye gap", GW_CB_EV_T_GOODBYE, GOODBYE_GAP,
		   "after the last prompt, before the phone is hung up"},
};

static const struct gw_fsm cb_fsm = {
    .name = "callback",
    .states = states,
    .nstates = GW_CB_ST_COUNT,
    .event_names = event_names,
    .nevents = GW_CB_EV_COUNT,
    .timers = timers,
    .ntimers = T_COUNT,
    .log_cat = GW_LOG_CALL,
};

const char *gw_cb_state_name(enum gw_cb_state st)
{
	return gw_fsm_state_name(&cb_fsm, (int)st);
}
const char *gw_cb_event_name(enum gw_cb_event ev)
{
	return gw_fsm_event_name(&cb_fsm, (int)ev);
}

/* callback.key_time and call.ring_time are live keys, read when their timer is armed: only
   events from outside (and the offer) arm them, so each takes the config first. */
static void conf_timers(struct gw_callback *cb)
{
	gw_fsm_timer_set_ms(&cb->fi, T_KEY, (int64_t)cb->conf->callback_key_time_s * 1000);
	gw_fsm_timer_set_ms(&cb->fi, T_DIAL, (int64_t)cb->conf->ring_time_s * 1000);
}

/* Feed one event from outside. Returns the new state, or -EPERM (logged) when the state
   does not accept it. */
static int feed(struct gw_callback *cb, enum gw_cb_event ev, const void *data)
{
	conf_timers(cb);
	return gw_fsm_dispatch(&cb->fi, ev, data);
}

const char *gw_callback_worker(const struct gw_callback *cb)
{
	return gw_callback_live(cb) ? cb->name : "";
}

/* ---- entry points ----------------------------------------------------------------------- */

int gw_callback_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		    const struct gw_callback_ops *ops, struct gw_callback **out)
{
	if (gw_fsm_check(&cb_fsm) < 0)
		return -EINVAL;
	struct gw_callback *cb = calloc(1, sizeof(*cb));
	if (!cb)
		return -ENOMEM;
	cb->loop = loop;
	cb->conf = conf;
	cb->db = db;
	cb->ops = *ops;
	cb->cci = -1;
	gw_fsm_inst_init(&cb->fi, &cb_fsm, loop, cb, "0", GW_CB_ST_IDLE);
	if (db) {
		int rc = gw_db_lockout_list(db, lock_loaded, cb);
		if (rc < 0) {
			LOGP(GW_LOG_CALL, GW_LOG_ERROR, "PIN lock-outs not read: %s",
			     strerror(-rc));
			free(cb->lock);
			free(cb);
			return rc;
		}
	}
	*out = cb;
	return 0;
}

void gw_callback_free(struct gw_callback *cb)
{
	if (!cb)
		return;
	gw_fsm_term(&cb->fi, 0);
	for (int l = 0; l < CB_LANGS; l++)
		for (int p = 0; p < GW_CB_PROMPT_COUNT; p++)
			gw_prompt_clear(&cb->prompts[l][p]);
	free(cb->lock);
	free(cb);
}

void gw_callback_set_roster(struct gw_callback *cb, const struct gw_roster *roster)
{
	cb->roster = roster;
}

int gw_callback_load_prompts(struct gw_callback *cb, const char *dir, unsigned int rate)
{
	for (int l = 0; l < CB_LANGS; l++)
		for (int p = 0; p < GW_CB_PROMPT_COUNT; p++) {
			gw_prompt_clear(&cb->prompts[l][p]);
			int rc = gw_prompt_load(dir, langs[l], prompt_names[p], rate,
						&cb->prompts[l][p]);
			if (rc < 0)
				return rc;
		}
	return 0;
}

bool gw_callback_live(const struct gw_callback *cb)
{
	return cb && cb->fi.state != GW_CB_ST_IDLE;
}

int64_t gw_callback_id(const struct gw_callback *cb)
{
	return cb && cb->fi.state != GW_CB_ST_IDLE ? cb->id : 0;
}

enum gw_cb_state gw_callback_state(const struct gw_callback *cb)
{
	return cb ? (enum gw_cb_state)cb->fi.state : GW_CB_ST_IDLE;
}

static int64_t left_of(const struct gw_callback *cb, const char *key, int64_t now)
{
	const struct lockout *l = lock_find(cb, key);
	return l && l->until_ms > now ? l->until_ms - now : 0;
}

int64_t gw_callback_lockout_left(const struct gw_callback *cb, const char *phone)
{
	int64_t now = gw_loop_wall_ms(cb->loop), left = 0, w = 0;
	char key[80];
	struct gw_roster_step step;
	if (phone_key(key, sizeof(key), phone) == 0)
		left = left_of(cb, key, now);
	if (cb->roster && gw_roster_worker_by_phone(cb->roster, phone, &step) == 0) {
		worker_key(key, sizeof(key), step.handle);
		w = left_of(cb, key, now);
	}
	return w > left ? w : left;
}

/* A call-back answered: worker w calling from number; the incident opened, the log prefix
   renamed after it, the config's timers taken. */
static void begin(struct gw_callback *cb, const struct gw_roster_step *w, const char *number)
{
	cb->seq++;
	cb->id = 0;
	snprintf(cb->phone, sizeof(cb->phone), "%s", w->phone);
	snprintf(cb->caller, sizeof(cb->caller), "%s", number);
	snprintf(cb->handle, sizeof(cb->handle), "%s", w->handle);
	snprintf(cb->name, sizeof(cb->name), "%s", w->name ? w->name : "");
	const char *lang = gw_roster_worker_lang(cb->roster, w->phone);
	cb->lang = 0;
	for (int l = 0; lang && l < CB_LANGS; l++)
		if (!strcmp(lang, langs[l]))
			cb->lang = l;
	cb->issi_bad = 0;
	cb->issi[0] = '\0';
	cb->dial_handle = 0;
	cb->cci = -1;
	cb->radio_hung = 0;
	if (cb->db) {
		struct gw_incident_rec rec = {.started_ms = gw_loop_wall_ms(cb->loop),
					      .caller = number,
					      .caller_name = w->name,
					      .line = "callback",
					      .radio_cci = 0};
		if (gw_db_incident_open(cb->db, &rec, &cb->id) < 0)
			cb->id = 0;
	}
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)(cb->id ? cb->id : -cb->seq));
	gw_fsm_inst_set_id(&cb->fi, id);
	conf_timers(cb);
}

int gw_callback_offer(struct gw_callback *cb, const char *number)
{
	struct gw_roster_step w;
	if (!cb || !cb->roster || !number[0] ||
	    gw_roster_worker_by_phone(cb->roster, number, &w) < 0)
		return 0;
	if (cb->fi.state != GW_CB_ST_IDLE) {
		LOGCB(cb, GW_LOG_NOTICE,
		      "call from %s (%s) while this call-back is live: not taken", w.name, number);
		emit_refused(number, "busy");
		return 0;
	}
	/* an empty PIN is never hashed: -ENOENT no PIN (or not active), -EACCES has one */
	if (gw_roster_check_pin(cb->roster, w.phone, "") != -EACCES) {
		LOGP(GW_LOG_CALL, GW_LOG_NOTICE,
		     "call to the gateway from %s (%s): no PIN set (or not active), no call-back",
		     w.name, number);
		emit_refused(number, "no_pin");
		return 0;
	}
	int64_t left = gw_callback_lockout_left(cb, number);
	if (left > 0) {
		LOGP(GW_LOG_CALL, GW_LOG_WARN,
		     "call to the gateway from %s (%s): locked out for %lld s more after wrong "
		     "PINs, no call-back",
		     w.name, number, (long long)((left + 999) / 1000));
		emit_refused(number, "locked_out");
		return 0;
	}
	int rc = cb->ops.phone_answer(cb->ops.arg);
	if (rc < 0) {
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "call-back from %s not answered: %s", w.name,
		     strerror(-rc));
		return rc;
	}
	begin(cb, &w, number);
	gw_fsm_state_chg(&cb->fi, GW_CB_ST_PIN);
	log_event(cb, "call_in", "%s %s", w.handle, langs[cb->lang]);
	ask(cb, GW_CB_PROMPT_PIN);
	return 1;
}

void gw_callback_key(struct gw_callback *cb, char digit)
{
	if (!gw_callback_live(cb))
		return;
	feed(cb, GW_CB_EV_KEY, &digit);
}

void gw_callback_phone_ended(struct gw_callback *cb, enum gw_modem_end why)
{
	if (!gw_callback_live(cb))
		return;
	feed(cb, GW_CB_EV_PHONE_ENDED, &why);
}

/* A report of the dial after the call-back ended (the worker hung up while the radio call
   was being set up): forgotten once over, else hung up as soon as it is named. */
static void dial_after_end(struct gw_callback *cb, enum gw_pei_dial_state st, int over)
{
	LOGP(GW_LOG_CALL, GW_LOG_INFO, "call-back radio call %d %s after its end", cb->cci,
	     gw_pei_dial_state_name(st));
	if (over)
		cb->dial_handle = 0;
	else if (cb->cci >= 0 && !cb->radio_hung) {
		cb->radio_hung = 1;
		cb->ops.radio_hangup(cb->ops.arg, cb->cci);
	}
}

int gw_callback_dial_state(struct gw_callback *cb, int handle, int cci, enum gw_pei_dial_state st,
			   int cause)
{
	if (!cb || !cb->dial_handle || handle != cb->dial_handle)
		return 0;
	if (cci >= 0 && cb->cci < 0)
		cb->cci = cci;
	int over = st == GW_PEI_DIAL_RELEASED || st == GW_PEI_DIAL_FAILED;
	int st_now = cb->fi.state;
	int ours =
	    st_now == GW_CB_ST_DIALING || st_now == GW_CB_ST_BRIDGED || st_now == GW_CB_ST_GOODBYE;
	if (!ours) {
		dial_after_end(cb, st, over);
		return 1;
	}
	if (st == GW_PEI_DIAL_PROGRESS) {
		LOGCB(cb, GW_LOG_DEBUG, "radio call %d progress %d", cci, cause);
		if (st_now == GW_CB_ST_GOODBYE && cb->cci >= 0)
			radio_hangup(cb); /* named only now: the time-out's hang-up */
		return 1;
	}
	if (over) {
		cb->dial_handle = 0;
		if (st == GW_PEI_DIAL_FAILED)
			cause = -1;
		feed(cb, GW_CB_EV_RADIO_ENDED, &cause);
	} else {
		feed(cb, GW_CB_EV_RADIO_CONNECTED, &cci);
	}
	return 1;
}

int gw_callback_parse_id(const char *digits, char out[GW_PEI_ID_MAX])
{
	size_t n = strlen(digits);
	if (n == 0 || strspn(digits, "0123456789") != n)
		return -EINVAL;
	if (n <= 8) {
		unsigned long v = strtoul(digits, NULL, 10);
		if (v < 1 || v > 16777215)
			return -EINVAL;
		snprintf(out, GW_PEI_ID_MAX, "%lu", v);
		return 0;
	}
	if (n != 17) /* a TSI: MCC (4), MNC (5), SSI (8) */
		return -EINVAL;
	unsigned long mcc =
	    strtoul((char[5]){digits[0], digits[1], digits[2], digits[3], 0}, NULL, 10);
	unsigned long mnc =
	    strtoul((char[6]){digits[4], digits[5], digits[6], digits[7], digits[8], 0}, NULL, 10);
	unsigned long ssi = strtoul(digits + 9, NULL, 10);
	if (mcc > 1023 || mnc > 16383 || ssi < 1 || ssi > 16777215)
		return -EINVAL;
	memcpy(out, digits, 18);
	return 0;
}
