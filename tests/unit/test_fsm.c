/*
 * Unit tests for gateway/core/fsm.c: a small machine (a door: CLOSED, OPEN, LOCKED) whose
 * actions and hooks append to a trace, run on the loop's fake clock. Each test asserts the
 * trace, the return codes and the log lines of refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/event.h"
#include "core/fsm.h"

enum { ST_CLOSED, ST_OPEN, ST_LOCKED, ST_COUNT };
enum { EV_PUSH, EV_PULL, EV_LOCK, EV_T_AUTOCLOSE, EV_ALARM, EV_CHILD_DONE, EV_COUNT };
enum { T_AUTOCLOSE, T_COUNT };

static char trace[512];
static char logbuf[1024];

static void tr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tr(const char *fmt, ...)
{
	size_t n = strlen(trace);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(trace + n, sizeof(trace) - n, fmt, ap);
	va_end(ap);
}

static void sink(enum gw_log_cat cat, enum gw_log_level level, const char *line, void *arg)
{
	(void)cat;
	(void)arg;
	if (level <= GW_LOG_ERROR) {
		strncat(logbuf, line, sizeof(logbuf) - strlen(logbuf) - 2);
		strcat(logbuf, "\n");
	}
}

static void act(struct gw_fsm_inst *fi, int ev, const void *data)
{
	(void)data;
	tr("%s:%s ", gw_fsm_inst_state_name(fi), gw_fsm_event_name(fi->fsm, ev));
	switch (ev) {
	case EV_PUSH:
		gw_fsm_state_chg(fi, ST_OPEN);
		break;
	case EV_PULL:
	case EV_T_AUTOCLOSE:
		gw_fsm_state_chg(fi, ST_CLOSED);
		break;
	case EV_LOCK:
		gw_fsm_state_chg(fi, ST_LOCKED);
		break;
	case EV_CHILD_DONE:
		tr("cause=%d ", *(const int *)data);
		break;
	}
}

static void allstate(struct gw_fsm_inst *fi, int ev, const void *data)
{
	(void)data;
	tr("all:%s@%s ", gw_fsm_event_name(fi->fsm, ev), gw_fsm_inst_state_name(fi));
}

static void enter_open(struct gw_fsm_inst *fi, int prev)
{
	tr("enter(%s<-%s) ", gw_fsm_inst_state_name(fi), gw_fsm_state_name(fi->fsm, prev));
}

static void leave_open(struct gw_fsm_inst *fi, int next)
{
	tr("leave(%s->%s) ", gw_fsm_inst_state_name(fi), gw_fsm_state_name(fi->fsm, next));
}

static void cleanup(struct gw_fsm_inst *fi, int cause)
{
	tr("cleanup(%s,%d) ", fi->id, cause);
}

static const struct gw_fsm_state states[ST_COUNT] = {
    [ST_CLOSED] = {.name = "CLOSED",
		   .in_events = GW_FSM_EV_BIT(EV_PUSH) | GW_FSM_EV_BIT(EV_LOCK) |
				GW_FSM_EV_BIT(EV_CHILD_DONE),
		   .out_states = GW_FSM_ST_BIT(ST_OPEN) | GW_FSM_ST_BIT(ST_LOCKED),
		   .timer = GW_FSM_NO_TIMER,
		   .action = act},
    [ST_OPEN] = {.name = "OPEN",
		 .in_events = GW_FSM_EV_BIT(EV_PULL) | GW_FSM_EV_BIT(EV_T_AUTOCLOSE) |
			      GW_FSM_EV_BIT(EV_PUSH) | GW_FSM_EV_BIT(EV_CHILD_DONE),
		 .out_states = GW_FSM_ST_BIT(ST_CLOSED) | GW_FSM_ST_BIT(ST_OPEN),
		 .timer = T_AUTOCLOSE,
		 .action = act,
		 .onenter = enter_open,
		 .onleave = leave_open},
    /* LOCKED accepts nothing but the all-state alarm, and may go nowhere. */
    [ST_LOCKED] = {.name = "LOCKED", .timer = GW_FSM_NO_TIMER},
};

static const char *const event_names[EV_COUNT] = {"PUSH",	 "PULL",  "LOCK",
						  "T_AUTOCLOSE", "ALARM", "CHILD_DONE"};

static const struct gw_fsm_timer timers[T_COUNT] = {
    {"door.autoclose", EV_T_AUTOCLOSE, 5000, "an open door closes by itself"},
};

static const struct gw_fsm door = {
    .name = "door",
    .states = states,
    .nstates = ST_COUNT,
    .event_names = event_names,
    .nevents = EV_COUNT,
    .timers = timers,
    .ntimers = T_COUNT,
    .allstate_events = GW_FSM_EV_BIT(EV_ALARM),
    .allstate_action = allstate,
    .log_cat = GW_LOG_CALL,
    .cleanup = cleanup,
};

static struct gw_loop *loop;

static int setup(void **state)
{
	(void)state;
	trace[0] = logbuf[0] = '\0';
	loop = gw_loop_new();
	if (!loop)
		return -1;
	gw_loop_clock_override(loop, 1000, 1700000000000);
	gw_log_set_sink(sink, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gw_log_set_sink(NULL, NULL);
	gw_loop_free(loop);
	return 0;
}

static void test_check_description(void **state)
{
	(void)state;
	assert_int_equal(gw_fsm_check(&door), 0);
	struct gw_fsm bad = door;
	bad.nstates = 2; /* CLOSED may move to LOCKED, which is now out of range */
	assert_int_equal(gw_fsm_check(&bad), -EINVAL);
	assert_non_null(strstr(logbuf, "out of range"));
	struct gw_fsm_state no_action[ST_COUNT];
	memcpy(no_action, states, sizeof(no_action));
	no_action[ST_OPEN].action = NULL;
	bad = door;
	bad.states = no_action;
	assert_int_equal(gw_fsm_check(&bad), -EINVAL);
	assert_non_null(strstr(logbuf, "no action"));
}

static void test_events_hooks_and_refusals(void **state)
{
	(void)state;
	struct gw_fsm_inst fi;
	assert_int_equal(gw_fsm_inst_init(&fi, &door, loop, NULL, "d1", ST_CLOSED), 0);
	assert_int_equal(gw_fsm_dispatch(&fi, EV_PUSH, NULL), ST_OPEN);
	/* re-entering OPEN is a transition, but not a change: no hooks */
	assert_int_equal(gw_fsm_dispatch(&fi, EV_PUSH, NULL), ST_OPEN);
	assert_int_equal(gw_fsm_dispatch(&fi, EV_PULL, NULL), ST_CLOSED);
	assert_string_equal(trace, "CLOSED:PUSH enter(OPEN<-CLOSED) OPEN:PUSH "
				   "OPEN:PULL leave(OPEN->CLOSED) ");
	/* PULL is not accepted in CLOSED: refused, logged with the prefix, state kept */
	trace[0] = '\0';
	assert_int_equal(gw_fsm_dispatch(&fi, EV_PULL, NULL), -EPERM);
	assert_string_equal(trace, "");
	assert_int_equal(fi.state, ST_CLOSED);
	assert_non_null(strstr(logbuf, "door(d1){CLOSED}: event PULL not accepted"));
	/* a transition the state does not allow: refused, state kept */
	assert_int_equal(gw_fsm_state_chg(&fi, ST_CLOSED), -EPERM);
	assert_non_null(strstr(logbuf, "door(d1){CLOSED}: transition to CLOSED not allowed"));
	/* out of range */
	assert_int_equal(gw_fsm_dispatch(&fi, EV_COUNT, NULL), -EINVAL);
	assert_int_equal(gw_fsm_dispatch(&fi, -1, NULL), -EINVAL);
	gw_fsm_term(&fi, 0);
}

static void test_allstate_event(void **state)
{
	(void)state;
	struct gw_fsm_inst fi;
	assert_int_equal(gw_fsm_inst_init(&fi, &door, loop, NULL, "d2", ST_CLOSED), 0);
	assert_int_equal(gw_fsm_dispatch(&fi, EV_LOCK, NULL), ST_LOCKED);
	/* LOCKED takes nothing of its own, but the all-state alarm everywhere */
	assert_int_equal(gw_fsm_dispatch(&fi, EV_PUSH, NULL), -EPERM);
	assert_int_equal(gw_fsm_dispatch(&fi, EV_ALARM, NULL), ST_LOCKED);
	assert_string_equal(trace, "CLOSED:LOCK all:ALARM@LOCKED ");
	gw_fsm_term(&fi, 0);
}

static void test_timer_from_table_and_override(void **state)
{
	(void)state;
	struct gw_fsm_inst fi;
	assert_int_equal(gw_fsm_inst_init(&fi, &door, loop, NULL, "d3", ST_CLOSED), 0);
	gw_fsm_dispatch(&fi, EV_PUSH, NULL);
	assert_int_equal(gw_timer_remaining(loop, &fi.timer), 5000);
	gw_loop_clock_advance(loop, 4999);
	assert_int_equal(fi.state, ST_OPEN);
	gw_loop_clock_advance(loop, 1);
	assert_int_equal(fi.state, ST_CLOSED);
	assert_non_null(strstr(trace, "OPEN:T_AUTOCLOSE leave(OPEN->CLOSED)"));
	/* leaving the state cancelled its timer */
	assert_int_equal(gw_timer_remaining(loop, &fi.timer), -1);

	/* the config's value replaces the default for this instance */
	assert_int_equal(gw_fsm_timer_set_ms(&fi, T_AUTOCLOSE, 250), 0);
	assert_int_equal(gw_fsm_timer_set_ms(&fi, T_COUNT, 250), -EINVAL);
	gw_fsm_dispatch(&fi, EV_PUSH, NULL);
	assert_int_equal(gw_timer_remaining(loop, &fi.timer), 250);
	/* re-entry re-arms the state's timer */
	gw_loop_clock_advance(loop, 200);
	gw_fsm_dispatch(&fi, EV_PUSH, NULL);
	assert_int_equal(gw_timer_remaining(loop, &fi.timer), 250);
	/* an explicit time on a change wins over the table */
	gw_fsm_dispatch(&fi, EV_PULL, NULL);
	assert_int_equal(gw_fsm_state_chg_ms(&fi, ST_OPEN, T_AUTOCLOSE, 42), 0);
	assert_int_equal(gw_timer_remaining(loop, &fi.timer), 42);
	gw_loop_clock_advance(loop, 42);
	assert_int_equal(fi.state, ST_CLOSED);
	gw_fsm_term(&fi, 0);
}

static void test_children_report_to_parent(void **state)
{
	(void)state;
	struct gw_fsm_inst parent, a, b;
	assert_int_equal(gw_fsm_inst_init(&parent, &door, loop, NULL, "p", ST_CLOSED), 0);
	assert_int_equal(gw_fsm_inst_init(&a, &door, loop, NULL, "a", ST_CLOSED), 0);
	assert_int_equal(gw_fsm_inst_init(&b, &door, loop, NULL, "b", ST_CLOSED), 0);
	assert_int_equal(gw_fsm_inst_adopt(&parent, &a, EV_CHILD_DONE), 0);
	assert_int_equal(gw_fsm_inst_adopt(&parent, &b, EV_CHILD_DONE), 0);
	assert_int_equal(gw_fsm_inst_adopt(&parent, &a, EV_CHILD_DONE), -EINVAL);
	/* a child that ends tells its parent, with its cause */
	gw_fsm_term(&a, 7);
	assert_string_equal(trace, "cleanup(a,7) CLOSED:CHILD_DONE cause=7 ");
	assert_int_equal(gw_fsm_dispatch(&a, EV_PUSH, NULL), -ESRCH);
	gw_fsm_term(&a, 8); /* twice: harmless, nothing more */
	assert_string_equal(trace, "cleanup(a,7) CLOSED:CHILD_DONE cause=7 ");
	/* the parent's end takes the remaining child first, and the parent hears nothing */
	trace[0] = '\0';
	gw_fsm_term(&parent, 3);
	assert_string_equal(trace, "cleanup(b,3) cleanup(p,3) ");
	assert_true(b.terminated);
	assert_int_equal(gw_fsm_dispatch(&parent, EV_PUSH, NULL), -ESRCH);
	assert_int_equal(gw_fsm_state_chg(&b, ST_OPEN), -ESRCH);
}

static void test_term_cancels_timer(void **state)
{
	(void)state;
	struct gw_fsm_inst fi;
	assert_int_equal(gw_fsm_inst_init(&fi, &door, loop, NULL, "d4", ST_OPEN), 0);
	/* the initial state's timer is armed at init */
	assert_int_equal(gw_timer_remaining(loop, &fi.timer), 5000);
	gw_fsm_term(&fi, 1);
	assert_int_equal(gw_timer_remaining(loop, &fi.timer), -1);
	gw_loop_clock_advance(loop, 10000);
	assert_string_equal(trace, "cleanup(d4,1) ");
}

/* Every state change and the end are lines of the event stream, on the loop's clock; a
   refused transition is none. */
static void test_changes_on_event_stream(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_fsm.XXXXXX", path[64], buf[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ev", dir);
	assert_int_equal(gw_event_open(path, loop), 0);
	struct gw_fsm_inst fi;
	assert_int_equal(gw_fsm_inst_init(&fi, &door, loop, NULL, "d\"5", ST_CLOSED), 0);
	assert_int_equal(gw_fsm_dispatch(&fi, EV_PUSH, NULL), ST_OPEN);
	assert_int_equal(gw_fsm_state_chg(&fi, ST_LOCKED), -EPERM);
	gw_loop_clock_advance(loop, 7);
	gw_fsm_term(&fi, 3);
	gw_event_close();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "{\"t_ms\":1700000000000,\"type\":\"state\",\"fsm\":\"door\","
				 "\"id\":\"d\\\"5\",\"from\":\"CLOSED\",\"to\":\"OPEN\"}\n"
				 "{\"t_ms\":1700000000007,\"type\":\"fsm_end\",\"fsm\":\"door\","
				 "\"id\":\"d\\\"5\",\"state\":\"OPEN\",\"cause\":3}\n");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_check_description, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_hooks_and_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_allstate_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_from_table_and_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_children_report_to_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_term_cancels_timer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_on_event_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
