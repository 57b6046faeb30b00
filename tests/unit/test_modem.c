/*
 * Unit tests for gateway/modem.c over a real pseudo-terminal: this test holds
 * the master side and plays the modem, so serial (libserialport), the AT
 * engine and the modem driver run exactly as in production.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "modem.h"
#include "pty_peer.h"

struct fx {
	struct pty_peer dev;
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_modem *m;
	int ready;
	int progress[8], nprogress;
	int ended, end_why;
};

static void on_ready(void *arg, int up)
{
	((struct fx *)arg)->ready = up;
}
static void on_progress(void *arg, enum gw_modem_call_state st)
{
	struct fx *f = arg;
	if (f->nprogress < 8)
		f->progress[f->nprogress++] = st;
}
static void on_ended(void *arg, enum gw_modem_end why)
{
	struct fx *f = arg;
	f->ended++;
	f->end_why = why;
}

static int keys[8], nkeys;
static void on_dtmf(void *arg, char d)
{
	(void)arg;
	if (nkeys < 8)
		keys[nkeys++] = d;
}

static void expect(struct fx *f, const char *want)
{
	pty_peer_expect(&f->dev, want);
}

static void reply(struct fx *f, const char *s)
{
	pty_peer_send(&f->dev, s);
}

static void run_for(struct fx *f, int ms)
{
	pty_peer_run(&f->dev, ms);
}

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	f.loop = gw_loop_new();
	const char *path = pty_peer_open(&f.dev, f.loop);
	gw_conf_defaults(&f.conf);
	snprintf(f.conf.modem_port, sizeof(f.conf.modem_port), "%s", path);
	f.conf.clcc_poll_ms = 100;
	struct gw_modem_ops ops = {.ready = on_ready,
				   .progress = on_progress,
				   .ended = on_ended,
				   .dtmf = on_dtmf,
				   .arg = &f};
	assert_int_equal(gw_modem_new(f.loop, &f.conf, &ops, &f.m), 0);
	static const char *const init[] = {"AT",	"ATE0",		 "AT+CMEE=2",
					   "AT+CLIP=1", "AT+CCWA=0,0,1", "AT+CMGF=0"};
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		expect(&f, init[i]);
		reply(&f, "\r\nOK\r\n");
	}
	expect(&f, "AT+CPIN?");
	reply(&f, "\r\n+CPIN: READY\r\n\r\nOK\r\n");
	run_for(&f, 20);
	assert_int_equal(f.ready, 1);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	gw_modem_free(f->m);
	gw_loop_free(f->loop);
	close(f->dev.master);
	return 0;
}

static void test_clcc_is_the_truth(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_modem_dial(f->m, "+358401234567"), 0);
	assert_int_equal(gw_modem_dial(f->m, "+358401234568"), -EBUSY);
	expect(f, "ATD+358401234567;");
	reply(f, "\r\nOK\r\n");
	/* OK of ATD is not an answer */
	run_for(f, 20);
	assert_int_equal(f->nprogress, 0);
	expect(f, "AT+CLCC");
	reply(f, "\r\n+CLCC: 1,0,3,0,0,\"+358401234567\",145\r\n\r\nOK\r\n");
	expect(f, "AT+CLCC");
	assert_int_equal(f->nprogress, 1);
	assert_int_equal(f->progress[0], GW_MODEM_CALL_ALERTING);
	reply(f, "\r\n+CLCC: 1,0,0,0,0,\"+358401234567\",145\r\n\r\nOK\r\n");
	expect(f, "AT+CLCC");
	assert_int_equal(f->nprogress, 2);
	assert_int_equal(f->progress[1], GW_MODEM_CALL_ACTIVE);
	/* the remote hangs up: the code is confirmed by the list before the call ends */
	reply(f, "\r\nOK\r\n\r\nNO CARRIER\r\n");
	expect(f, "AT+CLCC");
	assert_int_equal(f->ended, 0);
	reply(f, "\r\nOK\r\n");
	run_for(f, 20);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end_why, GW_MODEM_END_NO_CARRIER);
	expect(f, "AT+CEER");
	assert_int_equal(gw_modem_call_state(f->m), GW_MODEM_CALL_IDLE);
}

static void test_busy_after_ok(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_modem_dial(f->m, "0401234567"), 0);
	expect(f, "ATD0401234567;");
	reply(f, "\r\nOK\r\n");
	expect(f, "AT+CLCC");
	reply(f, "\r\n+CLCC: 1,0,2,0,0,\"0401234567\",129\r\n\r\nOK\r\n\r\nBUSY\r\n");
	expect(f, "AT+CLCC");
	reply(f, "\r\nOK\r\n");
	run_for(f, 20);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end_why, GW_MODEM_END_BUSY);
}

static void test_stray_code_does_not_end_a_live_call(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_modem_dial(f->m, "0401234567"), 0);
	expect(f, "ATD0401234567;");
	reply(f, "\r\nOK\r\n");
	expect(f, "AT+CLCC");
	reply(f, "\r\n+CLCC: 1,0,0,0,0,\"0401234567\",129\r\n\r\nOK\r\n");
	expect(f, "AT+CLCC");
	reply(f, "\r\n+CLCC: 1,0,0,0,0,\"0401234567\",129\r\n\r\nOK\r\n");
	/* a stray NO DIALTONE while the list still shows the call active */
	reply(f, "\r\nNO DIALTONE\r\n");
	expect(f, "AT+CLCC");
	reply(f, "\r\n+CLCC: 1,0,0,0,0,\"0401234567\",129\r\n\r\nOK\r\n");
	run_for(f, 20);
	assert_int_equal(f->ended, 0);
	assert_int_equal(gw_modem_call_state(f->m), GW_MODEM_CALL_ACTIVE);
	/* polling goes on as before */
	expect(f, "AT+CLCC");
}

static void test_call_vanishes_from_list(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_modem_dial(f->m, "0401234567"), 0);
	expect(f, "ATD0401234567;");
	reply(f, "\r\nOK\r\n");
	expect(f, "AT+CLCC");
	reply(f, "\r\n+CLCC: 1,0,3,0,0,\"0401234567\",129\r\n\r\nOK\r\n");
	/* one empty list is tolerated, the second ends the call */
	expect(f, "AT+CLCC");
	reply(f, "\r\nOK\r\n");
	expect(f, "AT+CLCC");
	assert_int_equal(f->ended, 0);
	reply(f, "\r\nOK\r\n");
	run_for(f, 20);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end_why, GW_MODEM_END_GONE);
}

static void test_dtmf_reports(void **state)
{
	(void)state;
	assert_int_equal(gw_modem_parse_dtmf("+QTONEDET: 52"), '4');
	assert_int_equal(gw_modem_parse_dtmf("+QTONEDET: 35"), '#');
	assert_int_equal(gw_modem_parse_dtmf("+RXDTMF: 5"), '5');
	assert_int_equal(gw_modem_parse_dtmf("+DTMF:*"), '*');
	assert_int_equal(gw_modem_parse_dtmf("+QTONEDET: 65"), 'A');
	assert_int_equal(gw_modem_parse_dtmf("+QTONEDET: 120"), -EINVAL);
	assert_int_equal(gw_modem_parse_dtmf("+QTONEDET: 0"), -EINVAL);
	assert_int_equal(gw_modem_parse_dtmf("+DTMF: 45"), -EINVAL);
	assert_int_equal(gw_modem_parse_dtmf("+DTMF: x"), -EINVAL);
	assert_int_equal(gw_modem_parse_dtmf("+DTMF:"), -EINVAL);
	assert_int_equal(gw_modem_parse_dtmf("+CLCC: 1"), -EINVAL);
}

static void test_dtmf_only_in_active_call(void **state)
{
	struct fx *f = *state;
	nkeys = 0;
	/* no call: ignored */
	reply(f, "\r\n+QTONEDET: 52\r\n");
	run_for(f, 20);
	assert_int_equal(f->nprogress, 0);
	assert_int_equal(gw_modem_dial(f->m, "0401234567"), 0);
	expect(f, "ATD0401234567;");
	reply(f, "\r\nOK\r\n");
	expect(f, "AT+CLCC");
	reply(f, "\r\n+CLCC: 1,0,0,0,0,\"0401234567\",129\r\n\r\nOK\r\n");
	run_for(f, 20);
	reply(f, "\r\n+QTONEDET: 52\r\n\r\n+RXDTMF: 5\r\n\r\n+DTMF: 99\r\n");
	run_for(f, 20);
	assert_int_equal(nkeys, 2);
	assert_int_equal(keys[0], '4');
	assert_int_equal(keys[1], '5');
}

static void test_local_hangup_and_bad_numbers(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_modem_dial(f->m, "12"), -EINVAL);
	assert_int_equal(gw_modem_dial(f->m, "+35840;ATH"), -EINVAL);
	assert_int_equal(gw_modem_dial(f->m, "0401234567"), 0);
	expect(f, "ATD0401234567;");
	assert_int_equal(gw_modem_hangup(f->m), 0);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end_why, GW_MODEM_END_LOCAL);
	reply(f, "\r\nOK\r\n");
	expect(f, "AT+CHUP");
	reply(f, "\r\nOK\r\n");
	/* no polling once the call is gone: nothing more is written for 3 poll periods */
	char line[128];
	assert_int_equal(pty_peer_line(&f->dev, line, sizeof(line), 300), 0);
}

static void test_port_lost(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_modem_dial(f->m, "0401234567"), 0);
	expect(f, "ATD0401234567;");
	close(f->dev.master);
	f->dev.master = open("/dev/null", O_RDWR);
	run_for(f, 50);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end_why, GW_MODEM_END_PORT);
	assert_int_equal(f->ready, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_clcc_is_the_truth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_after_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_vanishes_from_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stray_code_does_not_end_a_live_call, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_local_hangup_and_bad_numbers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_port_lost, setup, teardown),
	    cmocka_unit_test(test_dtmf_reports),
	    cmocka_unit_test_setup_teardown(test_dtmf_only_in_active_call, setup, teardown),
	};
	return cmocka_run_group_tests_name("modem", tests, NULL, NULL);
}
