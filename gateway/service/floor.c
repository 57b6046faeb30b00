/*
 * floor: simplex floor control of the bridged call, from the phone side's talk, as a
 * machine on the fsm engine (core/fsm.h).
 *
 * States say what we hold of the radio: IDLE (no bridged call), DUPLEX (nothing to hold:
 * the gate stays open), FREE (simplex, nothing asked), ASKED (AT+CTXD sent, or told to
 * wait) and HELD (granted). Two facts ride beside the state: whether another party talks
 * (+CTXG with a talker until +CDTXC) and whether the worker talks (the VAD). Talk start
 * asks for the floor from FREE; talk end gives it up (AT+CUTXC) from ASKED or HELD. The
 * gate follows from state and facts alone (apply_gate): open in IDLE and DUPLEX, and in
 * HELD while nobody else talks, so the worker's speech before the grant, while queued,
 * refused, told to wait or interrupted, and over another talker, is dropped (silence goes
 * out). A refusal or an interruption ends our claim for this talk: the next talk start
 * asks again. A grant that arrives after the talk ended is given back at once. Each step is
 * a "floor" event in the call log, at most GW_FLOOR_EVENTS_PER_MIN a minute; the rest are
 * counted and named in the summary event written when the call ends.
 */
#include "service/floor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/fsm.h"
#include "core/log.h"

enum st { ST_IDLE, ST_DUPLEX, ST_FREE, ST_ASKED, ST_HELD, ST_COUNT };

/* The worker's talk, the call's end, and one event per gw_pei_floor (radio's report). */
enum ev {
	EV_TALK_ON,
	EV_TALK_OFF,
	EV_STOP,
	EV_GRANTED,
	EV_OTHER,
	EV_QUEUED,
	EV_REFUSED,
	EV_WAIT,
	EV_INTERRUPTED,
	EV_CEASED,
	EV_COUNT
};

struct gw_floor {
	struct gw_loop *loop;
	struct gw_floor_ops ops;
	struct gw_fsm_inst fi;
	int cci;      /* -1: idle */
	bool other;   /* another party talks (+CTXG with a talker until +CDTXC) */
	bool talking; /* the phone side talks (VAD) */
	int gate;     /* last state given to ops.gate: 1 open, 0 closed, -1 not yet */
	int64_t asked_ms;
	int64_t win_ms; /* start of the current rate-limit minute */
	int win_n;	/* events written in it */
	struct gw_floor_stats st;
};

static void event(struct gw_floor *f, bool limited, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A call-log "floor" event (and a log line and an event-stream line); limited ones count
   against the minute. */
static void event(struct gw_floor *f, bool limited, const char *fmt, ...)
{
	char detail[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	LOGP(GW_LOG_CALL, GW_LOG_INFO, "floor of radio call %d: %s", f->cci, detail);
	if (gw_event_on()) { /* as many as the log lines: the limit is the call log's */
		struct gw_event e;
		gw_event_begin(&e, "floor");
		gw_event_int(&e, "cci", f->cci);
		gw_event_str(&e, "detail", detail);
		gw_event_emit(&e);
	}
	if (limited) {
		int64_t now = gw_loop_now_ms(f->loop);
		if (now - f->win_ms >= 60000) {
			f->win_ms = now;
			f->win_n = 0;
		}
		if (f->win_n >= GW_FLOOR_EVENTS_PER_MIN) {
			f->st.suppressed++;
			return;
		}
		f->win_n++;
	}
	if (f->ops.event)
		f->ops.event(f->ops.arg, "floor", detail);
}

/* The gate follows the floor: open without a simplex call, or while we alone hold it. */
static void apply_gate(struct gw_floor *f)
{
	int st = f->fi.state;
	int open = st == ST_IDLE || st == ST_DUPLEX || (st == ST_HELD && !f->other);
	if (open == f->gate)
		return;
	f->gate = open;
	f->ops.gate(f->ops.arg, open);
}

/* Give up what we hold or asked for (AT+CUTXC): to FREE, or to IDLE at the call's end. */
static void cease(struct gw_floor *f, const char *why, int to)
{
	int rc = f->ops.tx_cease(f->ops.arg, f->cci);
	f->st.ceases++;
	if (rc < 0 && rc != -ENOENT && rc != -EALREADY)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "floor of radio call %d: cannot give it up: %s",
		     f->cci, strerror(-rc));
	event(f, true, "cease (%s)", why);
	gw_fsm_state_chg(&f->fi, to);
}

static void ask(struct gw_floor *f)
{
	int rc = f->ops.tx_request(f->ops.arg, f->cci);
	if (rc < 0 && rc != -EALREADY) {
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "floor of radio call %d: cannot ask for it: %s",
		     f->cci, strerror(-rc));
		return;
	}
	f->asked_ms = gw_loop_now_ms(f->loop);
	f->st.requests++;
	event(f, true, "request");
	gw_fsm_state_chg(&f->fi, ST_ASKED);
}

static void summary(struct gw_floor *f)
{
	event(f, false,
	      "summary: %llu requests, %llu grants, %llu refused, %llu interrupted, "
	      "%llu other talkers, %llu events not logged",
	      (unsigned long long)f->st.requests, (unsigned long long)f->st.grants,
	      (unsigned long long)f->st.refusals, (unsigned long long)f->st.interruptions,
	      (unsigned long long)f->st.others, (unsigned long long)f->st.suppressed);
}

static const char *talker_of(const void *data)
{
	const char *t = data;
	return t && *t ? t : "unknown";
}

/* DUPLEX: the radio's floor reports are logged and change nothing. */
static void act_duplex(struct gw_fsm_inst *fi, int ev, const void *data)
{
	(void)data;
	struct gw_floor *f = fi->priv;
	if (ev == EV_STOP)
		gw_fsm_state_chg(fi, ST_IDLE);
	else if (ev >= EV_GRANTED)
		event(f, true, "%s in a duplex call (ignored)", gw_fsm_event_name(fi->fsm, ev));
}

/* FREE, ASKED and HELD: simplex. What an event does depends on what we hold. */
static void act_simplex(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_floor *f = fi->priv;
	int st = fi->state;
	bool claim = st == ST_ASKED || st == ST_HELD;
	switch (ev) {
	case EV_TALK_ON:
		if (st == ST_FREE)
			ask(f);
		break;
	case EV_TALK_OFF:
		if (claim)
			cease(f, "talk ended", ST_FREE);
		break;
	case EV_STOP:
		if (claim)
			cease(f, "call ends", ST_IDLE);
		else
			gw_fsm_state_chg(fi, ST_IDLE);
		summary(f);
		break;
	case EV_GRANTED:
		f->other = false;
		f->st.grants++;
		event(f, true, "granted after %lld ms",
		      (long long)(gw_loop_now_ms(f->loop) - f->asked_ms));
		gw_fsm_state_chg(fi, ST_HELD);
		if (!f->talking)
			cease(f, "talk ended before the grant", ST_FREE);
		break;
	case EV_OTHER:
		f->other = true;
		f->st.others++;
		event(f, true, "other talker %s", talker_of(data));
		/* the radio dropped our claim with the other talker's grant */
		gw_fsm_state_chg(fi, ST_FREE);
		break;
	case EV_CEASED:
		f->other = false;
		event(f, true, "the other talker ceased");
		break;
	case EV_QUEUED:
	case EV_WAIT:
		event(f, true, "%s", gw_fsm_event_name(fi->fsm, ev));
		if (st == ST_HELD) /* told to wait: no transmission until granted again */
			gw_fsm_state_chg(fi, ST_ASKED);
		break;
	case EV_REFUSED:
		f->st.refusals++;
		event(f, true, "%s", gw_fsm_event_name(fi->fsm, ev));
		gw_fsm_state_chg(fi, ST_FREE); /* this talk lost the floor: the next one asks */
		break;
	case EV_INTERRUPTED:
		f->st.interruptions++;
		event(f, true, "%s by %s", gw_fsm_event_name(fi->fsm, ev), talker_of(data));
		gw_fsm_state_chg(fi, ST_FREE);
		break;
	}
}

#define EVB(e) GW_FSM_EV_BIT(EV_##e)
#define STB(s) GW_FSM_ST_BIT(ST_##s)
#define RADIO                                                                                      \
	(EVB(GRANTED) | EVB(OTHER) | EVB(QUEUED) | EVB(REFUSED) | EVB(WAIT) | EVB(INTERRUPTED) |   \
	 EVB(CEASED))
#define SIMPLEX (EVB(TALK_ON) | EVB(TALK_OFF) | EVB(STOP) | RADIO)

static const struct gw_fsm_state states[ST_COUNT] = {
    [ST_IDLE] = {.name = "IDLE", .out_states = STB(DUPLEX) | STB(FREE), .timer = GW_FSM_NO_TIMER},
    [ST_DUPLEX] = {.name = "DUPLEX",
		   .in_events = EVB(TALK_ON) | EVB(TALK_OFF) | EVB(STOP) | RADIO,
		   .out_states = STB(IDLE),
		   .timer = GW_FSM_NO_TIMER,
		   .action = act_duplex},
    [ST_FREE] = {.name = "FREE",
		 .in_events = SIMPLEX,
		 .out_states = STB(IDLE) | STB(FREE) | STB(ASKED) | STB(HELD),
		 .timer = GW_FSM_NO_TIMER,
		 .action = act_simplex},
    [ST_ASKED] = {.name = "ASKED",
		  .in_events = SIMPLEX,
		  .out_states = STB(IDLE) | STB(FREE) | STB(HELD),
		  .timer = GW_FSM_NO_TIMER,
		  .action = act_simplex},
    [ST_HELD] = {.name = "HELD",
		 .in_events = SIMPLEX,
		 .out_states = STB(IDLE) | STB(FREE) | STB(ASKED) | STB(HELD),
		 .timer = GW_FSM_NO_TIMER,
		 .action = act_simplex},
};

/* Event names as the call log has always written them (gw_pei_floor_name's words). */
static const char *const event_names[EV_COUNT] = {
    [EV_TALK_ON] = "TALK_ON", [EV_TALK_OFF] = "TALK_OFF",  [EV_STOP] = "STOP",
    [EV_GRANTED] = "granted", [EV_OTHER] = "other talker", [EV_QUEUED] = "queued",
    [EV_REFUSED] = "refused", [EV_WAIT] = "wait",	   [EV_INTERRUPTED] = "interrupted",
    [EV_CEASED] = "ceased",
};

static const struct gw_fsm floor_fsm = {
    .name = "floor",
    .states = states,
    .nstates = ST_COUNT,
    .event_names = event_names,
    .nevents = EV_COUNT,
    .log_cat = GW_LOG_CALL,
};

int gw_floor_new(struct gw_loop *loop, const struct gw_floor_ops *ops, struct gw_floor **out)
{
	if (gw_fsm_check(&floor_fsm) < 0)
		return -EINVAL;
	struct gw_floor *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->loop = loop;
	f->ops = *ops;
	f->cci = -1;
	f->gate = -1;
	gw_fsm_inst_init(&f->fi, &floor_fsm, loop, f, "idle", ST_IDLE);
	*out = f;
	return 0;
}

void gw_floor_free(struct gw_floor *f)
{
	if (f)
		gw_fsm_term(&f->fi, 0);
	free(f);
}

void gw_floor_start(struct gw_floor *f, int cci, bool simplex)
{
	if (!f)
		return;
	if (f->fi.state != ST_IDLE) /* a start without a stop: begin afresh, as if idle */
		gw_fsm_state_chg(&f->fi, ST_IDLE);
	memset(&f->st, 0, sizeof(f->st));
	f->cci = cci;
	f->other = false;
	f->talking = false;
	f->gate = -1;
	f->win_ms = gw_loop_now_ms(f->loop);
	f->win_n = 0;
	char id[16];
	snprintf(id, sizeof(id), "%d", cci);
	gw_fsm_inst_set_id(&f->fi, id);
	gw_fsm_state_chg(&f->fi, simplex ? ST_FREE : ST_DUPLEX);
	apply_gate(f);
	if (simplex)
		event(f, false, "simplex: the worker's talk asks for the floor");
	else
		LOGP(GW_LOG_CALL, GW_LOG_INFO, "radio call %d is duplex: no floor control", cci);
}

void gw_floor_stop(struct gw_floor *f)
{
	if (!f || f->cci < 0)
		return;
	gw_fsm_dispatch(&f->fi, EV_STOP, NULL);
	apply_gate(f); /* IDLE: the gate's default, open */
	f->cci = -1;
	f->gate = -1;
	gw_fsm_inst_set_id(&f->fi, "idle");
}

void gw_floor_talk(struct gw_floor *f, bool talking)
{
	if (!f || f->cci < 0 || talking == f->talking)
		return;
	f->talking = talking;
	gw_fsm_dispatch(&f->fi, talking ? EV_TALK_ON : EV_TALK_OFF, NULL);
	apply_gate(f);
}

int gw_floor_event(struct gw_floor *f, int cci, enum gw_pei_floor ev, const char *talker)
{
	static const int map[] = {
	    [GW_PEI_FLOOR_GRANTED] = EV_GRANTED, [GW_PEI_FLOOR_OTHER] = EV_OTHER,
	    [GW_PEI_FLOOR_QUEUED] = EV_QUEUED,	 [GW_PEI_FLOOR_REFUSED] = EV_REFUSED,
	    [GW_PEI_FLOOR_WAIT] = EV_WAIT,	 [GW_PEI_FLOOR_INTERRUPTED] = EV_INTERRUPTED,
	    [GW_PEI_FLOOR_CEASED] = EV_CEASED,
	};
	if (!f || f->cci < 0 || cci != f->cci || (unsigned)ev >= sizeof(map) / sizeof(map[0]))
		return 0;
	gw_fsm_dispatch(&f->fi, map[ev], talker);
	apply_gate(f);
	return 1;
}

int gw_floor_gate_open(const struct gw_floor *f)
{
	return f->gate != 0;
}

int gw_floor_stats(const struct gw_floor *f, struct gw_floor_stats *st)
{
	*st = f->st;
	return 0;
}
