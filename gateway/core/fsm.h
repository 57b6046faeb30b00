/*
 * fsm: the one state-machine engine of rinkid (in the spirit of libosmocore's osmo_fsm).
 *
 * A machine is a const description (struct gw_fsm): a table of states, each with the events
 * it accepts, the states it may move to, its action, onenter/onleave hooks and the timer
 * armed on entry; events accepted in every state (all-state events) with their own action;
 * a table of named timers with defaults (the config may override them per instance).
 * An instance (struct gw_fsm_inst) is embedded in its owner's struct: the engine allocates
 * nothing. An event a state does not accept, or a transition a state does not allow, is
 * logged as "<fsm>(<id>){<STATE}>: ... rejected" and refused with -EPERM, never silently
 * ignored. An instance may have children (a call's radio and phone legs): terminating a
 * parent terminates its children first, and a child that terminates reports its end to the
 * parent as the event the parent chose, with the cause as data.
 */
#ifndef GW_FSM_H
#define GW_FSM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/log.h"
#include "core/loop.h"

#define GW_FSM_NO_TIMER	  (-1)
#define GW_FSM_TIMERS_MAX 8
#define GW_FSM_STATES_MAX 32
#define GW_FSM_EVENTS_MAX 32
#define GW_FSM_EV_BIT(e)  (1u << (e))
#define GW_FSM_ST_BIT(s)  (1u << (s))

struct gw_fsm_inst;

/* An action: the event and its data (may be NULL). It may change state or terminate. */
typedef void (*gw_fsm_action_fn)(struct gw_fsm_inst *fi, int event, const void *data);

struct gw_fsm_state {
	const char *name;
	uint32_t in_events;  /* GW_FSM_EV_BIT of each event accepted here */
	uint32_t out_states; /* GW_FSM_ST_BIT of each state it may move to (itself: re-entry) */
	int timer;	     /* index into gw_fsm.timers armed on entry, or GW_FSM_NO_TIMER */
	gw_fsm_action_fn action;
	void (*onenter)(struct gw_fsm_inst *fi, int prev_state); /* after the state changed */
	void (*onleave)(struct gw_fsm_inst *fi, int next_state); /* before it changes */
};

/* A named timer: when it fires, its event is dispatched to the instance. */
struct gw_fsm_timer {
	const char *name; /* as the config names it, e.g. "call.ring_time" */
	int event;
	int64_t default_ms;
	const char *desc;
};

struct gw_fsm {
	const char *name; /* log prefix: "<name>(<id>){<STATE>}: " */
	const struct gw_fsm_state *states;
	int nstates;
	const char *const *event_names;
	int nevents;
	const struct gw_fsm_timer *timers;
	int ntimers;
	uint32_t allstate_events; /* accepted in every state, handled by allstate_action */
	gw_fsm_action_fn allstate_action;
	enum gw_log_cat log_cat;
	/* Called once when an instance terminates, after its children and before its parent
	 * hears of it. May be NULL. */
	void (*cleanup)(struct gw_fsm_inst *fi, int cause);
};

struct gw_fsm_inst {
	const struct gw_fsm *fsm;
	struct gw_loop *loop;
	void *priv; /* the owner */
	char id[32];
	int state;
	bool terminated;
	struct gw_timer timer;
	int timer_running; /* index of the armed named timer, or GW_FSM_NO_TIMER */
	int64_t timer_ms[GW_FSM_TIMERS_MAX]; /* per-instance values, from defaults */
	struct gw_fsm_inst *parent;
	int parent_term_event;
	struct gw_fsm_inst *children; /* first child; each links the next by sibling */
	struct gw_fsm_inst *sibling;
};

/*
 * Check a description once (at start-up or in a test): sizes within the limits, every
 * state named, timers and events in range. Returns 0, or -EINVAL with a log line.
 */
int gw_fsm_check(const struct gw_fsm *fsm);

/*
 * Set up fi (embedded in priv's struct) in state initial with the timers' defaults.
 * id names the instance in log lines (truncated to 31 bytes). Arms the initial state's
 * timer. Returns 0 or -EINVAL.
 */
int gw_fsm_inst_init(struct gw_fsm_inst *fi, const struct gw_fsm *fsm, struct gw_loop *loop,
		     void *priv, const char *id, int initial);

/*
 * Make child a child of parent: when child terminates, term_event is dispatched to parent
 * with a pointer to the int cause as data; when parent terminates first, child is
 * terminated before it. Returns 0, or -EINVAL when either is terminated or child has a
 * parent already.
 */
int gw_fsm_inst_adopt(struct gw_fsm_inst *parent, struct gw_fsm_inst *child, int term_event);

/* Rename the instance in log lines (e.g. once the call log has given an id). */
void gw_fsm_inst_set_id(struct gw_fsm_inst *fi, const char *id);

/* Set the value of named timer t for this instance (config). Returns 0 or -EINVAL. */
int gw_fsm_timer_set_ms(struct gw_fsm_inst *fi, int t, int64_t ms);

/*
 * Feed an event. Accepted when the current state's in_events or the machine's
 * allstate_events has it. Returns the state after the action, -EPERM (logged) when the
 * event is not accepted here, -ESRCH when fi is terminated, -EINVAL when ev is out of range.
 */
int gw_fsm_dispatch(struct gw_fsm_inst *fi, int ev, const void *data);

/*
 * Move to state to: onleave of the old state (when it changes), the change, onenter of the
 * new one (when it changes), then the new state's timer (re)armed with this instance's
 * value, or cancelled when it has none. Re-entering the same state is a transition like
 * any other and must be in out_states. Returns 0, -EPERM (logged) when not allowed,
 * -ESRCH when fi is terminated.
 */
int gw_fsm_state_chg(struct gw_fsm_inst *fi, int to);

/* Like gw_fsm_state_chg, then arm named timer t for ms instead of the state's own. */
int gw_fsm_state_chg_ms(struct gw_fsm_inst *fi, int to, int t, int64_t ms);

/* Arm named timer t for ms in the current state (replacing any armed timer). */
void gw_fsm_timer_start(struct gw_fsm_inst *fi, int t, int64_t ms);
/* Cancel the armed timer, if any. */
void gw_fsm_timer_stop(struct gw_fsm_inst *fi);

/*
 * Terminate fi with cause: its children first (with the same cause), its timer cancelled,
 * the machine's cleanup, then the parent's term_event. Events to a terminated instance are
 * refused with -ESRCH. Terminating twice is harmless.
 */
void gw_fsm_term(struct gw_fsm_inst *fi, int cause);

/* Names for log lines and status: the current state's, a state's and an event's ("?"). */
const char *gw_fsm_inst_state_name(const struct gw_fsm_inst *fi);
const char *gw_fsm_state_name(const struct gw_fsm *fsm, int state);
const char *gw_fsm_event_name(const struct gw_fsm *fsm, int ev);

/* A log line with the instance's prefix "<fsm>(<id>){<STATE>}: ". */
#define LOGPFSM(fi, level, fmt, ...)                                                               \
	LOGP((fi)->fsm->log_cat, level, "%s(%s){%s}: " fmt, (fi)->fsm->name, (fi)->id,             \
	     gw_fsm_inst_state_name(fi), ##__VA_ARGS__)

#endif
