/*
 * Unit tests for gateway/floor.c with fake ops (recording every request, cease, gate
 * change and call-log event) and the loop's test clock:
 *  - simplex: talk asks, the gate opens only on our grant, talk end ceases and closes;
 *  - another talker while we hold the floor closes the gate until it ceases;
 *  - refused and interrupted: gate closed, no cease, the next talk asks again;
 *  - queued / told to wait: gate closed; a grant after the talk ended is given back;
 *  - duplex: gate open, nothing asked, floor events ignored;
 *  - call end ceases a held floor and opens the gate; events of other calls are not ours;
 *  - call-log events are rate-limited and the summary counts what was left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "service/floor.h"
#include "core/log.h"
#include "core/loop.h"

struct fake {
	int requests, ceases, gate_calls, events;
	int gate; /* last gate given: 1 open, 0 closed, -1 none */
	int request_rc;
	char last_event[160];
};

static int fake_request(void *arg, int cci)
{
	struct fake *f = arg;
	assert_int_equal(cci, 3);
	f->requests++;
	return f->request_rc;
}
static int fake_cease(void *arg, int cci)
{
	struct fake *f = arg;
	assert_int_equal(cci, 3);
	f->ceases++;
	return 0;
}
static void fake_gate(void *arg, bool open)
{
	struct fake *f = arg;
	f->gate_calls++;
	f->gate = open;
}
static void fake_event(void *arg, const char *kind, const char *detail)
{
	struct fake *f = arg;
	assert_string_equal(kind, "floor");
	f->events++;
	snprintf(f->last_event, sizeof(f->last_event), "%s", detail);
}

struct rig {
	struct gw_loop *loop;
	struct gw_floor *fl;
	struct fake fk;
};

static int setup(void **state)
{
	static struct rig r;
	memset(&r, 0, sizeof(r));
	r.fk.gate = -1;
	r.loop = gw_loop_new();
	gw_loop_clock_override(r.loop, 1000, 1700000000000LL);
	struct gw_floor_ops ops = {.tx_request = fake_request,
				   .tx_cease = fake_cease,
				   .gate = fake_gate,
				   .event = fake_event,
				   .arg = &r.fk};
	assert_int_equal(gw_floor_new(r.loop, &ops, &r.fl), 0);
	*state = &r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;
	gw_floor_free(r->fl);
	gw_loop_free(r->loop);
	return 0;
}

static void test_simplex_talk_grant_cease(void **state)
{
	struct rig *r = *state;
	gw_floor_start(r->fl, 3, true);
	assert_int_equal(r->fk.gate, 0); /* closed until our grant */
	assert_int_equal(r->fk.requests, 0);
	gw_floor_talk(r->fl, true);
	assert_int_equal(r->fk.requests, 1);
	assert_int_equal(r->fk.gate, 0); /* waiting: the talk is dropped */
	gw_floor_talk(r->fl, true);	 /* no change, no second request */
	assert_int_equal(r->fk.requests, 1);
	gw_loop_clock_advance(r->loop, 120);
	assert_int_equal(gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, ""), 1);
	assert_int_equal(r->fk.gate, 1);
	assert_string_equal(r->fk.last_event, "granted after 120 ms");
	assert_int_equal(gw_floor_gate_open(r->fl), 1);
	gw_floor_talk(r->fl, false);
	assert_int_equal(r->fk.ceases, 1);
	assert_int_equal(r->fk.gate, 0);
	gw_floor_stop(r->fl);
	assert_int_equal(r->fk.ceases, 1); /* nothing held any more */
	assert_int_equal(r->fk.gate, 1);   /* the default again */
	struct gw_floor_stats st;
	gw_floor_stats(r->fl, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.grants, 1);
	assert_int_equal(st.ceases, 1);
}

static void test_other_talker_while_held(void **state)
{
	struct rig *r = *state;
	gw_floor_start(r->fl, 3, true);
	gw_floor_talk(r->fl, true);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, "");
	assert_int_equal(r->fk.gate, 1);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_OTHER, "2269002");
	assert_int_equal(r->fk.gate, 0);
	assert_string_equal(r->fk.last_event, "other talker 2269002");
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_CEASED, "");
	assert_int_equal(r->fk.gate, 0); /* the floor is free, not ours */
	gw_floor_talk(r->fl, false);
	assert_int_equal(r->fk.ceases, 0); /* our claim went with the other's grant */
	gw_floor_talk(r->fl, true);
	assert_int_equal(r->fk.requests, 2);
}

static void test_refused_and_interrupted(void **state)
{
	struct rig *r = *state;
	gw_floor_start(r->fl, 3, true);
	gw_floor_talk(r->fl, true);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_REFUSED, "");
	assert_int_equal(r->fk.gate, 0);
	gw_floor_talk(r->fl, false);
	assert_int_equal(r->fk.ceases, 0);
	gw_floor_talk(r->fl, true); /* the next talk asks again */
	assert_int_equal(r->fk.requests, 2);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, "");
	assert_int_equal(r->fk.gate, 1);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_INTERRUPTED, "2269009");
	assert_int_equal(r->fk.gate, 0);
	assert_string_equal(r->fk.last_event, "interrupted by 2269009");
	gw_floor_talk(r->fl, false);
	assert_int_equal(r->fk.ceases, 0);
	assert_int_equal(r->fk.requests, 2); /* not asked again within the same talk */
	gw_floor_talk(r->fl, true);
	assert_int_equal(r->fk.requests, 3);
}

static void test_queued_wait_and_late_grant(void **state)
{
	struct rig *r = *state;
	gw_floor_start(r->fl, 3, true);
	gw_floor_talk(r->fl, true);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_QUEUED, "");
	assert_int_equal(r->fk.gate, 0);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, "");
	assert_int_equal(r->fk.gate, 1);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_WAIT, "");
	assert_int_equal(r->fk.gate, 0);
	gw_floor_talk(r->fl, false); /* told to wait, then silent: the claim is given up */
	assert_int_equal(r->fk.ceases, 1);
	/* a grant that comes after the talk ended goes back at once */
	gw_floor_talk(r->fl, true);
	gw_floor_talk(r->fl, false);
	assert_int_equal(r->fk.ceases, 2);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, "");
	assert_int_equal(r->fk.ceases, 3);
	assert_int_equal(r->fk.gate, 0);
}

static void test_duplex(void **state)
{
	struct rig *r = *state;
	gw_floor_start(r->fl, 3, false);
	assert_int_equal(r->fk.gate, 1);
	gw_floor_talk(r->fl, true);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_OTHER, "2269002");
	gw_floor_talk(r->fl, false);
	assert_int_equal(r->fk.requests, 0);
	assert_int_equal(r->fk.ceases, 0);
	assert_int_equal(r->fk.gate, 1);
	assert_int_equal(r->fk.gate_calls, 1);
	gw_floor_stop(r->fl);
	assert_int_equal(r->fk.ceases, 0);
}

static void test_call_end_and_other_calls(void **state)
{
	struct rig *r = *state;
	/* idle: nothing is ours */
	assert_int_equal(gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, ""), 0);
	gw_floor_talk(r->fl, true);
	assert_int_equal(r->fk.requests, 0);
	gw_floor_talk(r->fl, false);
	gw_floor_start(r->fl, 3, true);
	gw_floor_talk(r->fl, true);
	assert_int_equal(gw_floor_event(r->fl, 5, GW_PEI_FLOOR_GRANTED, ""), 0); /* a busy call */
	assert_int_equal(r->fk.gate, 0);
	gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, "");
	gw_floor_stop(r->fl);
	assert_int_equal(r->fk.ceases, 1);
	assert_int_equal(r->fk.gate, 1);
	assert_non_null(strstr(r->fk.last_event, "summary: 1 requests, 1 grants"));
	gw_floor_stop(r->fl); /* twice (ATH, then CLOSED): once */
	assert_int_equal(r->fk.ceases, 1);
	/* a request the radio driver already has counts as asked */
	r->fk.request_rc = -EALREADY;
	gw_floor_start(r->fl, 3, true);
	gw_floor_talk(r->fl, true);
	gw_floor_stop(r->fl);
	assert_int_equal(r->fk.ceases, 2);
	/* a request that failed is not held */
	r->fk.request_rc = -ENOTCONN;
	gw_floor_start(r->fl, 3, true);
	gw_floor_talk(r->fl, true);
	gw_floor_stop(r->fl);
	assert_int_equal(r->fk.ceases, 2);
	gw_floor_stop(NULL);
	gw_floor_talk(NULL, true);
	assert_int_equal(gw_floor_event(NULL, 3, GW_PEI_FLOOR_GRANTED, ""), 0);
}

static void test_events_rate_limited(void **state)
{
	struct rig *r = *state;
	gw_floor_start(r->fl, 3, true);
	int start_events = r->fk.events;
	/* 30 request/grant/cease rounds in one minute: 90 events */
	for (int i = 0; i < 30; i++) {
		gw_floor_talk(r->fl, true);
		gw_floor_event(r->fl, 3, GW_PEI_FLOOR_GRANTED, "");
		gw_floor_talk(r->fl, false);
		gw_loop_clock_advance(r->loop, 1000);
	}
	assert_int_equal(r->fk.events - start_events, GW_FLOOR_EVENTS_PER_MIN);
	/* a new minute: logged again */
	gw_loop_clock_advance(r->loop, 60000);
	gw_floor_talk(r->fl, true);
	assert_int_equal(r->fk.events - start_events, GW_FLOOR_EVENTS_PER_MIN + 1);
	assert_string_equal(r->fk.last_event, "request");
	gw_floor_stop(r->fl); /* the cease, then the summary, which is never left out */
	char want[160];
	snprintf(want, sizeof(want),
		 "summary: 31 requests, 30 grants, 0 refused, 0 interrupted, 0 other talkers, "
		 "%d events not logged",
		 90 - GW_FLOOR_EVENTS_PER_MIN);
	assert_string_equal(r->fk.last_event, want);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_simplex_talk_grant_cease, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_talker_while_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_and_interrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queued_wait_and_late_grant, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplex, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_end_and_other_calls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_rate_limited, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
