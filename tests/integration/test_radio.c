/*
 * Integration: the pei driver in this process against tetra-sim as a separate
 * process over a pseudo-terminal. Outgoing individual calls (answered,
 * rejected, refused, unanswered then answered), simplex floor control (our
 * grant, a queued grant, another talker, pre-emption) as the sim plays them,
 * and SDS held back while a transmission is on (the sim refuses them then).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "radio/pei.h"

static struct h_rig rig;

struct radio {
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_pei *pei;
	int ready;
	int dial_st[16], dial_cci[16], dial_cause[16], ndial;
	int floor_ev[16], nfloor;
	char talker[20];
	int sds_st[16], nsds;
};
static struct radio R;

static void r_ready(void *arg, int up)
{
	((struct radio *)arg)->ready = up;
}
static void r_incoming(void *arg, const struct gw_pei_call_in *c)
{
	(void)arg;
	(void)c;
}
static void r_connected(void *arg, int cci)
{
	(void)arg;
	(void)cci;
}
static void r_released(void *arg, int cci, int cause)
{
	(void)arg;
	(void)cci;
	(void)cause;
}
static void r_dial(void *arg, int handle, int cci, enum gw_pei_dial_state st, int cause)
{
	struct radio *r = arg;
	(void)handle;
	if (r->ndial < 16) {
		r->dial_st[r->ndial] = st;
		r->dial_cci[r->ndial] = cci;
		r->dial_cause[r->ndial++] = cause;
	}
}
static void r_floor(void *arg, int cci, enum gw_pei_floor ev, const char *talker)
{
	struct radio *r = arg;
	(void)cci;
	if (r->nfloor < 16)
		r->floor_ev[r->nfloor++] = ev;
	snprintf(r->talker, sizeof(r->talker), "%s", talker);
}

static void r_sds_state(void *arg, int handle, enum gw_pei_sds_state st, int detail)
{
	struct radio *r = arg;
	(void)handle;
	(void)detail;
	if (r->nsds < 16)
		r->sds_st[r->nsds++] = st;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the driver's loop and the sims' control sockets until expr holds (or ms pass, at
   least H_WAIT_MIN_MS: the limit only bounds a failure). */
#define UNTIL(expr, ms)                                                                            \
	do {                                                                                       \
		int64_t end_ = mono_ms() + ((ms) < H_WAIT_MIN_MS ? H_WAIT_MIN_MS : (ms));          \
		while (!(expr) && mono_ms() < end_) {                                              \
			gw_loop_run_once(R.loop, 5);                                               \
			h_pump(&rig, 1);                                                           \
		}                                                                                  \
		assert_true(expr);                                                                 \
	} while (0)

/*
 * Instead of "sleep, then check nothing happened": the driver writes all it would now, the
 * radio sim answers a "state" round trip (it reads its pty first, so it has seen and
 * answered all of that), and the driver takes in the answers.
 */
static void settle(void)
{
	while (gw_loop_run_once(R.loop, 0) > 0)
		;
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "state"), 0);
	while (gw_loop_run_once(R.loop, 0) > 0)
		;
}

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	memset(&R, 0, sizeof(R));
	R.loop = gw_loop_new();
	gw_conf_defaults(&R.conf);
	snprintf(R.conf.radio_port, sizeof(R.conf.radio_port), "%s", rig.radio.link);
	struct gw_pei_ops ops = {.ready = r_ready,
				 .incoming = r_incoming,
				 .connected = r_connected,
				 .released = r_released,
				 .floor = r_floor,
				 .dial_state = r_dial,
				 .sds_state = r_sds_state,
				 .arg = &R};
	if (gw_pei_new(R.loop, &R.conf, &ops, &R.pei) < 0)
		return -1;
	UNTIL(R.ready, 5000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gw_pei_free(R.pei);
	gw_loop_free(R.loop);
	h_rig_fini(&rig);
	return 0;
}

static void test_dial_outcomes(void **state)
{
	(void)state;
	char reply[128];
	/* answered at once: simplex parameters reach the sim, then our floor */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "dial-reply answer"), 0);
	assert_true(gw_pei_dial(R.pei, "2269001", true) > 0);
	UNTIL(R.ndial == 2, 3000);
	assert_int_equal(R.dial_st[0], GW_PEI_DIAL_PROGRESS);
	assert_int_equal(R.dial_cause[0], 2);
	assert_int_equal(R.dial_st[1], GW_PEI_DIAL_CONNECTED);
	int cci = R.dial_cci[1];
	UNTIL(h_count_events(&rig.radio, "AT+CTSDC=0,0,0,0,1,0,0,1,0,0") == 1, 1000);
	UNTIL(h_count_events(&rig.radio, "2269001 cci=") == 1, 1000);
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "state"), 0);
	char want[32];
	snprintf(want, sizeof(want), " %d:active", cci);
	assert_non_null(strstr(reply, want));
	assert_int_equal(gw_pei_tx_request(R.pei, cci), 0);
	UNTIL(R.nfloor == 1, 3000);
	assert_int_equal(R.floor_ev[0], GW_PEI_FLOOR_GRANTED);
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "state"), 0);
	snprintf(want, sizeof(want), " %d:tx", cci);
	assert_non_null(strstr(reply, want));
	assert_int_equal(gw_pei_tx_cease(R.pei, cci), 0);
	UNTIL(h_count_events(&rig.radio, "AT+CUTXC=") == 1, 3000);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	UNTIL(R.ndial == 3, 3000);
	assert_int_equal(R.dial_st[2], GW_PEI_DIAL_RELEASED);
	assert_int_equal(R.dial_cause[2], 1);
	assert_int_equal(gw_pei_live_calls(R.pei), 0);

	/* rejected by the called party with cause 2 (busy) */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "dial-reply reject 2"), 0);
	assert_true(gw_pei_dial(R.pei, "2269002", false) > 0);
	UNTIL(R.ndial == 5, 3000);
	assert_int_equal(R.dial_st[4], GW_PEI_DIAL_RELEASED);
	assert_int_equal(R.dial_cause[4], 2);
	UNTIL(h_count_events(&rig.radio, "AT+CTSDC=0,0,0,0,0,0,0,1,0,0") == 1, 1000);

	/* refused by the terminal */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "dial-reply refuse"), 0);
	assert_true(gw_pei_dial(R.pei, "2269003", true) > 0);
	UNTIL(R.ndial == 6, 3000);
	assert_int_equal(R.dial_st[5], GW_PEI_DIAL_FAILED);
	assert_int_equal(R.dial_cause[5], 3);

	/* nobody answers for a while, then the called party picks up (TSI form) */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "dial-reply ignore"), 0);
	assert_true(gw_pei_dial(R.pei, "02440000102269004", true) > 0);
	UNTIL(R.ndial == 7, 3000);
	assert_int_equal(R.dial_st[6], GW_PEI_DIAL_PROGRESS);
	settle();
	assert_int_equal(R.ndial, 7);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "answer-out %d", R.dial_cci[6]), 0);
	UNTIL(R.ndial == 8, 3000);
	assert_int_equal(R.dial_st[7], GW_PEI_DIAL_CONNECTED);
	assert_int_equal(R.dial_cci[7], R.dial_cci[6]);
}

static void test_floor_with_sim(void **state)
{
	(void)state;
	char reply[128];
	/* an incoming simplex call; the officer talks, stops; we ask and wait in the queue */
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001 hook=1 simplex=1"),
			 0);
	int cci = 0;
	assert_int_equal(sscanf(reply, "ok cci=%d", &cci), 1);
	UNTIL(gw_pei_live_calls(R.pei) == 1, 3000);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "talker %d 02440000102269001", cci), 0);
	UNTIL(R.nfloor == 1, 3000);
	assert_int_equal(R.floor_ev[0], GW_PEI_FLOOR_OTHER);
	assert_string_equal(R.talker, "02440000102269001");
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "cease %d", cci), 0);
	UNTIL(R.nfloor == 2, 3000);
	assert_int_equal(R.floor_ev[1], GW_PEI_FLOOR_CEASED);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "floor-reply queue"), 0);
	assert_int_equal(gw_pei_tx_request(R.pei, cci), 0);
	UNTIL(R.nfloor == 3, 3000);
	assert_int_equal(R.floor_ev[2], GW_PEI_FLOOR_QUEUED);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "grant %d", cci), 0);
	UNTIL(R.nfloor == 4, 3000);
	assert_int_equal(R.floor_ev[3], GW_PEI_FLOOR_GRANTED);
	/* pre-empted by another party, then a refused request */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "interrupt %d 2269009", cci), 0);
	UNTIL(R.nfloor == 5, 3000);
	assert_int_equal(R.floor_ev[4], GW_PEI_FLOOR_INTERRUPTED);
	assert_string_equal(R.talker, "2269009");
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "floor-reply refuse"), 0);
	assert_int_equal(gw_pei_tx_request(R.pei, cci), 0);
	UNTIL(R.nfloor == 6, 3000);
	assert_int_equal(R.floor_ev[5], GW_PEI_FLOOR_REFUSED);
	assert_int_equal(gw_pei_tx_cease(R.pei, cci), -EALREADY);
}

static void test_sds_waits_for_transmissions(void **state)
{
	(void)state;
	char reply[128];
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-during-tx refuse"), 0);
	/* a group call: its caller talks, then a second talker; the SDS waits for both */
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "group 2269001 9001"), 0);
	int cci = 0;
	assert_int_equal(sscanf(reply, "ok cci=%d", &cci), 1);
	UNTIL(gw_pei_live_calls(R.pei) == 1, 3000);
	assert_true(gw_pei_send_sds(R.pei, "2269005", "odota") > 0);
	settle();
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "talker %d 2269002", cci), 0);
	UNTIL(R.nfloor == 1, 3000);
	settle();
	assert_int_equal(h_count_events(&rig.radio, "AT+CMGS"), 0);
	assert_int_equal(R.nsds, 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "cease %d", cci), 0);
	UNTIL(h_count_events(&rig.radio, "event sds-out 2269005") == 1, 3000);
	UNTIL(R.nsds == 2, 3000);
	assert_int_equal(R.sds_st[0], GW_PEI_SDS_ACCEPTED);
	assert_int_equal(R.sds_st[1], GW_PEI_SDS_SENT);
	/* our own transmission: held until we give up the floor */
	assert_int_equal(gw_pei_tx_request(R.pei, cci), 0);
	UNTIL(R.nfloor == 3, 3000);
	assert_int_equal(R.floor_ev[2], GW_PEI_FLOOR_GRANTED);
	assert_true(gw_pei_send_sds(R.pei, "2269006", "hetki") > 0);
	settle();
	assert_int_equal(h_count_events(&rig.radio, "AT+CMGS=2269006"), 0);
	assert_int_equal(gw_pei_tx_cease(R.pei, cci), 0);
	UNTIL(h_count_events(&rig.radio, "event sds-out 2269006") == 1, 3000);
	/* nothing was ever refused: no try was spent on a transmission */
	assert_int_equal(h_count_events(&rig.radio, "sds-refused"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dial_outcomes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_floor_with_sim, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sds_waits_for_transmissions, setup, teardown),
	};
	return cmocka_run_group_tests_name("integration: radio", tests, NULL, NULL);
}
