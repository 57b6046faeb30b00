/*
 * floor: simplex floor control of the bridged call, from the phone side's talk.
 *
 * Per call we keep what we asked of the radio (nothing, asked, held), whether another
 * party talks, and whether the worker talks. Talk start asks for the floor (AT+CTXD)
 * unless we hold or asked for it; talk end gives it up (AT+CUTXC). The radio's answer
 * decides the gate: open only while we hold the floor and nobody else talks, so the
 * worker's speech before the grant, while queued, refused, told to wait or
 * interrupted, and over another talker, is dropped (silence goes out). A refusal or
 * an interruption ends our claim for this talk: the next talk start asks again. A
 * grant that arrives after the talk ended is given back at once. Each step is a
 * "floor" event in the call log, at most GW_FLOOR_EVENTS_PER_MIN a minute; the rest
 * are counted and named in the summary event written when the call ends.
 */
#include "service/floor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum own { OWN_NONE, OWN_ASKED, OWN_HELD };

struct gw_floor {
	struct gw_loop *loop;
	struct gw_floor_ops ops;
	int cci; /* -1: idle */
	bool simplex;
	enum own own;
	bool other;   /* another party talks (+CTXG with a talker until +CDTXC) */
	bool talking; /* the phone side talks (VAD) */
	int gate;     /* last state given to ops.gate: 1 open, 0 closed, -1 not yet */
	int64_t asked_ms;
	int64_t win_ms; /* start of the current rate-limit minute */
	int win_n;	/* events written in it */
	struct gw_floor_stats st;
};

int gw_floor_new(struct gw_loop *loop, const struct gw_floor_ops *ops, struct gw_floor **out)
{
	struct gw_floor *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->loop = loop;
	f->ops = *ops;
	f->cci = -1;
	f->gate = -1;
	*out = f;
	return 0;
}

void gw_floor_free(struct gw_floor *f)
{
	free(f);
}

static void event(struct gw_floor *f, bool limited, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A call-log "floor" event (and a log line); limited ones count against the minute. */
static void event(struct gw_floor *f, bool limited, const char *fmt, ...)
{
	char detail[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	LOGP(GW_LOG_CALL, GW_LOG_INFO, "floor of radio call %d: %s", f->cci, detail);
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

/* The gate follows the floor: open in a duplex call, or while we alone hold it. */
static void apply_gate(struct gw_floor *f)
{
	int open = !f->simplex || (f->own == OWN_HELD && !f->other);
	if (open == f->gate)
		return;
	f->gate = open;
	f->ops.gate(f->ops.arg, open);
}

static void cease(struct gw_floor *f, const char *why)
{
	if (f->own == OWN_NONE)
		return;
	int rc = f->ops.tx_cease(f->ops.arg, f->cci);
	f->own = OWN_NONE;
	f->st.ceases++;
	if (rc < 0 && rc != -ENOENT && rc != -EALREADY)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "floor of radio call %d: cannot give it up: %s",
		     f->cci, strerror(-rc));
	event(f, true, "cease (%s)", why);
}

void gw_floor_start(struct gw_floor *f, int cci, bool simplex)
{
	if (!f)
		return;
	memset(&f->st, 0, sizeof(f->st));
	f->cci = cci;
	f->simplex = simplex;
	f->own = OWN_NONE;
	f->other = false;
	f->talking = false;
	f->gate = -1;
	f->win_ms = gw_loop_now_ms(f->loop);
	f->win_n = 0;
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
	if (f->simplex) {
		cease(f, "call ends");
		event(f, false,
		      "summary: %llu requests, %llu grants, %llu refused, %llu interrupted, "
		      "%llu other talkers, %llu events not logged",
		      (unsigned long long)f->st.requests, (unsigned long long)f->st.grants,
		      (unsigned long long)f->st.refusals, (unsigned long long)f->st.interruptions,
		      (unsigned long long)f->st.others, (unsigned long long)f->st.suppressed);
	}
	f->simplex = false; /* the gate's default: open */
	apply_gate(f);
	f->cci = -1;
	f->gate = -1;
}

void gw_floor_talk(struct gw_floor *f, bool talking)
{
	if (!f || f->cci < 0 || talking == f->talking)
		return;
	f->talking = talking;
	if (!f->simplex)
		return;
	if (!talking) {
		cease(f, "talk ended");
		apply_gate(f);
		return;
	}
	if (f->own != OWN_NONE)
		return;
	int rc = f->ops.tx_request(f->ops.arg, f->cci);
	if (rc < 0 && rc != -EALREADY) {
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "floor of radio call %d: cannot ask for it: %s",
		     f->cci, strerror(-rc));
		return;
	}
	f->own = OWN_ASKED;
	f->asked_ms = gw_loop_now_ms(f->loop);
	f->st.requests++;
	event(f, true, "request");
}

int gw_floor_event(struct gw_floor *f, int cci, enum gw_pei_floor ev, const char *talker)
{
	if (!f || f->cci < 0 || cci != f->cci)
		return 0;
	const char *who = talker && *talker ? talker : "unknown";
	if (!f->simplex) {
		event(f, true, "%s in a duplex call (ignored)", gw_pei_floor_name(ev));
		return 1;
	}
	switch (ev) {
	case GW_PEI_FLOOR_GRANTED:
		f->own = OWN_HELD;
		f->other = false;
		f->st.grants++;
		event(f, true, "granted after %lld ms",
		      (long long)(gw_loop_now_ms(f->loop) - f->asked_ms));
		if (!f->talking)
			cease(f, "talk ended before the grant");
		break;
	case GW_PEI_FLOOR_OTHER:
		f->other = true;
		f->own = OWN_NONE; /* the radio dropped our claim with the other talker's grant */
		f->st.others++;
		event(f, true, "other talker %s", who);
		break;
	case GW_PEI_FLOOR_CEASED:
		f->other = false;
		event(f, true, "the other talker ceased");
		break;
	case GW_PEI_FLOOR_QUEUED:
	case GW_PEI_FLOOR_WAIT:
		if (f->own == OWN_HELD)
			f->own = OWN_ASKED; /* told to wait: no transmission until granted again */
		event(f, true, "%s", gw_pei_floor_name(ev));
		break;
	case GW_PEI_FLOOR_REFUSED:
	case GW_PEI_FLOOR_INTERRUPTED:
		f->own = OWN_NONE; /* this talk has lost the floor: the next one asks again */
		if (ev == GW_PEI_FLOOR_REFUSED)
			f->st.refusals++;
		else
			f->st.interruptions++;
		event(f, true, "%s%s%s", gw_pei_floor_name(ev),
		      ev == GW_PEI_FLOOR_INTERRUPTED ? " by " : "",
		      ev == GW_PEI_FLOOR_INTERRUPTED ? who : "");
		break;
	}
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
