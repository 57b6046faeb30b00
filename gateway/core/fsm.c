/*
 * fsm: one engine for every state machine of rinkid (see fsm.h for the model).
 *
 * Everything the engine checks comes from the const description: whether a state accepts
 * an event (its in_events, or the machine's allstate_events), whether it may move to a
 * state (its out_states), which named timer its entry arms and for how long (the
 * instance's value, from the table's default unless the config set it). A refusal is
 * logged with the instance's prefix and returned as -EPERM, so a caller can tell. One
 * timer per instance: a state that arms a timer replaces the previous one, and its expiry
 * becomes the timer's event through the ordinary dispatch. Children are an intrusive list;
 * termination runs depth-first, children before their parent, and a terminated instance
 * refuses everything. Every state change is also a "state" line of the event stream
 * (core/event.h) with the machine, the instance and both states, every termination an
 * "fsm_end" line.
 */
#include "core/fsm.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/event.h"
#include "core/text.h"

const char *gw_fsm_state_name(const struct gw_fsm *fsm, int state)
{
	if (!fsm || state < 0 || state >= fsm->nstates || !fsm->states[state].name)
		return "?";
	return fsm->states[state].name;
}

const char *gw_fsm_event_name(const struct gw_fsm *fsm, int ev)
{
	if (!fsm || !fsm->event_names || ev < 0 || ev >= fsm->nevents || !fsm->event_names[ev])
		return "?";
	return fsm->event_names[ev];
}

const char *gw_fsm_inst_state_name(const struct gw_fsm_inst *fi)
{
	return gw_fsm_state_name(fi->fsm, fi->state);
}

int gw_fsm_check(const struct gw_fsm *fsm)
{
	const char *why = NULL;
	if (!fsm || !fsm->name || !fsm->states)
		why = "no name or no states";
	else if (fsm->nstates < 1 || fsm->nstates > GW_FSM_STATES_MAX)
		why = "state count out of range";
	else if (fsm->nevents < 0 || fsm->nevents > GW_FSM_EVENTS_MAX)
		why = "event count out of range";
	else if (fsm->ntimers < 0 || fsm->ntimers > GW_FSM_TIMERS_MAX ||
		 (fsm->ntimers && !fsm->timers))
		why = "timer count out of range";
	else if (fsm->allstate_events && !fsm->allstate_action)
		why = "all-state events without an all-state action";
	else if (fsm->nevents < GW_FSM_EVENTS_MAX && fsm->allstate_events >> fsm->nevents)
		why = "all-state event out of range";
	for (int s = 0; !why && s < fsm->nstates; s++) {
		const struct gw_fsm_state *st = &fsm->states[s];
		if (!st->name)
			why = "a state without a name";
		else if (st->timer != GW_FSM_NO_TIMER &&
			 (st->timer < 0 || st->timer >= fsm->ntimers))
			why = "a state's timer out of range";
		else if (fsm->nevents < GW_FSM_EVENTS_MAX && st->in_events >> fsm->nevents)
			why = "a state accepts an event out of range";
		else if (fsm->nstates < GW_FSM_STATES_MAX && st->out_states >> fsm->nstates)
			why = "a state moves to a state out of range";
		else if (st->in_events && !st->action)
			why = "a state accepts events but has no action";
	}
	for (int t = 0; !why && t < fsm->ntimers; t++)
		if (fsm->timers[t].event < 0 || fsm->timers[t].event >= fsm->nevents ||
		    fsm->timers[t].default_ms < 0)
			why = "a timer's event or default out of range";
	if (why) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "fsm %s: %s", fsm && fsm->name ? fsm->name : "?",
		     why);
		return -EINVAL;
	}
	return 0;
}

static void on_timer(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_fsm_inst *fi = arg;
	int t = fi->timer_running;
	assert(t >= 0 && t < fi->fsm->ntimers);
	fi->timer_running = GW_FSM_NO_TIMER;
	LOGPFSM(fi, GW_LOG_DEBUG, "timer %s expired", fi->fsm->timers[t].name);
	gw_fsm_dispatch(fi, fi->fsm->timers[t].event, NULL);
}

void gw_fsm_inst_set_id(struct gw_fsm_inst *fi, const char *id)
{
	(void)gw_text_copy(fi->id, sizeof(fi->id), id);
}

int gw_fsm_inst_init(struct gw_fsm_inst *fi, const struct gw_fsm *fsm, struct gw_loop *loop,
		     void *priv, const char *id, int initial)
{
	if (!fi || !fsm || !loop || initial < 0 || initial >= fsm->nstates ||
	    fsm->ntimers > GW_FSM_TIMERS_MAX)
		return -EINVAL;
	memset(fi, 0, sizeof(*fi));
	fi->fsm = fsm;
	fi->loop = loop;
	fi->priv = priv;
	fi->state = initial;
	fi->timer_running = GW_FSM_NO_TIMER;
	fi->parent_term_event = -1;
	gw_fsm_inst_set_id(fi, id);
	for (int t = 0; t < fsm->ntimers; t++)
		fi->timer_ms[t] = fsm->timers[t].default_ms;
	gw_timer_init(&fi->timer, on_timer, fi);
	if (fsm->states[initial].timer != GW_FSM_NO_TIMER)
		gw_fsm_timer_start(fi, fsm->states[initial].timer,
				   fi->timer_ms[fsm->states[initial].timer]);
	return 0;
}

int gw_fsm_inst_adopt(struct gw_fsm_inst *parent, struct gw_fsm_inst *child, int term_event)
{
	if (!parent || !child || parent == child || parent->terminated || child->terminated ||
	    child->parent || term_event < 0 || term_event >= parent->fsm->nevents)
		return -EINVAL;
	child->parent = parent;
	child->parent_term_event = term_event;
	child->sibling = parent->children;
	parent->children = child;
	return 0;
}

int gw_fsm_timer_set_ms(struct gw_fsm_inst *fi, int t, int64_t ms)
{
	if (t < 0 || t >= fi->fsm->ntimers || ms < 0)
		return -EINVAL;
	fi->timer_ms[t] = ms;
	return 0;
}

void gw_fsm_timer_start(struct gw_fsm_inst *fi, int t, int64_t ms)
{
	assert(t >= 0 && t < fi->fsm->ntimers && ms >= 0);
	fi->timer_running = t;
	gw_timer_schedule(fi->loop, &fi->timer, ms);
}

void gw_fsm_timer_stop(struct gw_fsm_inst *fi)
{
	gw_timer_cancel(fi->loop, &fi->timer);
	fi->timer_running = GW_FSM_NO_TIMER;
}

int gw_fsm_dispatch(struct gw_fsm_inst *fi, int ev, const void *data)
{
	if (fi->terminated)
		return -ESRCH;
	if (ev < 0 || ev >= fi->fsm->nevents)
		return -EINVAL;
	uint32_t bit = GW_FSM_EV_BIT(ev);
	const struct gw_fsm_state *st = &fi->fsm->states[fi->state];
	if (fi->fsm->allstate_events & bit) {
		LOGPFSM(fi, GW_LOG_DEBUG, "event %s (all states)", gw_fsm_event_name(fi->fsm, ev));
		fi->fsm->allstate_action(fi, ev, data);
	} else if (st->in_events & bit) {
		LOGPFSM(fi, GW_LOG_DEBUG, "event %s", gw_fsm_event_name(fi->fsm, ev));
		st->action(fi, ev, data);
	} else {
		LOGPFSM(fi, GW_LOG_ERROR, "event %s not accepted in this state, rejected",
			gw_fsm_event_name(fi->fsm, ev));
		return -EPERM;
	}
	return fi->terminated ? -ESRCH : fi->state;
}

static int change(struct gw_fsm_inst *fi, int to, int t, int64_t ms)
{
	if (fi->terminated)
		return -ESRCH;
	if (to < 0 || to >= fi->fsm->nstates ||
	    !(fi->fsm->states[fi->state].out_states & GW_FSM_ST_BIT(to))) {
		LOGPFSM(fi, GW_LOG_ERROR, "transition to %s not allowed, rejected",
			gw_fsm_state_name(fi->fsm, to));
		return -EPERM;
	}
	int prev = fi->state;
	const struct gw_fsm_state *next = &fi->fsm->states[to];
	gw_fsm_timer_stop(fi);
	if (prev != to && fi->fsm->states[prev].onleave)
		fi->fsm->states[prev].onleave(fi, to);
	LOGPFSM(fi, GW_LOG_DEBUG, "-> %s", next->name);
	if (gw_event_on()) {
		struct gw_event e;
		gw_event_begin(&e, "state");
		gw_event_str(&e, "fsm", fi->fsm->name);
		gw_event_str(&e, "id", fi->id);
		gw_event_str(&e, "from", fi->fsm->states[prev].name);
		gw_event_str(&e, "to", next->name);
		gw_event_emit(&e);
	}
	fi->state = to;
	if (t != GW_FSM_NO_TIMER)
		gw_fsm_timer_start(fi, t, ms);
	else if (next->timer != GW_FSM_NO_TIMER)
		gw_fsm_timer_start(fi, next->timer, fi->timer_ms[next->timer]);
	if (prev != to && next->onenter)
		next->onenter(fi, prev);
	return 0;
}

int gw_fsm_state_chg(struct gw_fsm_inst *fi, int to)
{
	return change(fi, to, GW_FSM_NO_TIMER, 0);
}

int gw_fsm_state_chg_ms(struct gw_fsm_inst *fi, int to, int t, int64_t ms)
{
	if (t < 0 || t >= fi->fsm->ntimers || ms < 0)
		return -EINVAL;
	return change(fi, to, t, ms);
}

static void unlink_child(struct gw_fsm_inst *parent, struct gw_fsm_inst *child)
{
	for (struct gw_fsm_inst **p = &parent->children; *p; p = &(*p)->sibling)
		if (*p == child) {
			*p = child->sibling;
			child->sibling = NULL;
			return;
		}
}

void gw_fsm_term(struct gw_fsm_inst *fi, int cause)
{
	if (fi->terminated)
		return;
	fi->terminated = true;
	LOGPFSM(fi, GW_LOG_DEBUG, "terminating (cause %d)", cause);
	if (gw_event_on()) {
		struct gw_event e;
		gw_event_begin(&e, "fsm_end");
		gw_event_str(&e, "fsm", fi->fsm->name);
		gw_event_str(&e, "id", fi->id);
		gw_event_str(&e, "state", gw_fsm_inst_state_name(fi));
		gw_event_int(&e, "cause", cause);
		gw_event_emit(&e);
	}
	while (fi->children) {
		struct gw_fsm_inst *c = fi->children;
		fi->children = c->sibling;
		c->sibling = NULL;
		c->parent = NULL; /* the parent is going: it hears nothing of its children */
		gw_fsm_term(c, cause);
	}
	gw_fsm_timer_stop(fi);
	if (fi->fsm->cleanup)
		fi->fsm->cleanup(fi, cause);
	struct gw_fsm_inst *parent = fi->parent;
	if (parent) {
		unlink_child(parent, fi);
		fi->parent = NULL;
		gw_fsm_dispatch(parent, fi->parent_term_event, &cause);
	}
}
