/*
 * Unit tests for gateway/pei.c: the line parsers, and the driver over a real
 * pseudo-terminal whose far end this test plays as the TETRA terminal
 * (resync after +CME ERROR: 35, probes and reopen on silence, re-init after a
 * terminal restart, release of live calls at shutdown).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "radio/pei.h"
#include "pty_peer.h"

static void test_cticn_full(void **state)
{
	(void)state;
	struct gw_pei_call_in c;
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,4,1002,1,1,0,1,1,0,1000,1", &c), 0);
	assert_int_equal(c.cci, 1);
	assert_int_equal(c.calling_type, 4);
	assert_string_equal(c.calling, "1002");
	assert_int_equal(c.hook, 1);
	assert_int_equal(c.simplex, 1);
	assert_int_equal(c.comms_type, 1);
	assert_string_equal(c.called, "1000");
	assert_int_equal(c.priority, 1);
	/* 17-digit TSI form */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 12,0,0,5,09011638300023404,1,1,0,1,1,5,"
					    "09011638300000001,0",
					    &c),
			 0);
	assert_int_equal(c.cci, 12);
	assert_string_equal(c.calling, "09011638300023404");
	assert_string_equal(c.called, "09011638300000001");
}

static void test_cticn_optional_fields(void **state)
{
	(void)state;
	struct gw_pei_call_in c;
	/* minimal form and empty optional fields */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 3,0,0", &c), 0);
	assert_int_equal(c.cci, 3);
	assert_int_equal(c.hook, -1);
	assert_string_equal(c.calling, "");
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 3,0,0,,,0,,,,,,,", &c), 0);
	assert_int_equal(c.hook, 0);
	assert_int_equal(c.priority, -1);
	/* quoted identity, priority 15 */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 3,0,0,0,\"2269001\",0,0,0,0,1,0,1001,15", &c),
			 0);
	assert_string_equal(c.calling, "2269001");
	assert_int_equal(c.priority, 15);
}

static void test_cticn_bad(void **state)
{
	(void)state;
	struct gw_pei_call_in c;
	assert_int_equal(gw_pei_parse_cticn("+CTICN:", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTICN: x,0,0", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,0,12a4", &c), -EINVAL);
	/* identity over 17 digits */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,5,123456789012345678", &c), -EINVAL);
	/* too many fields */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,0,1,0,0,0,0,1,0,1,0,9", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTCC: 1", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 70000,0,0", &c), -EINVAL);
}

static void test_ctcc_ctcr(void **state)
{
	(void)state;
	int cci, cause;
	assert_int_equal(gw_pei_parse_ctcc("+CTCC: 1,1,1,0,0,1,1", &cci), 0);
	assert_int_equal(cci, 1);
	assert_int_equal(gw_pei_parse_ctcc("+CTCC: 7", &cci), 0);
	assert_int_equal(cci, 7);
	assert_int_equal(gw_pei_parse_ctcc("+CTCC: ", &cci), -EINVAL);
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1,13", &cci, &cause), 0);
	assert_int_equal(cci, 1);
	assert_int_equal(cause, 13);
	assert_string_equal(gw_pei_cause_name(cause), "timer expiry");
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1", &cci, &cause), -EINVAL);
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1,2,3", &cci, &cause), -EINVAL);
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1,999", &cci, &cause), -EINVAL);
	assert_string_equal(gw_pei_cause_name(1), "user request");
	assert_string_equal(gw_pei_cause_name(25), "reserved");
	assert_string_equal(gw_pei_cause_name(40), "security parameter mismatch");
	assert_string_equal(gw_pei_cause_name(41), "unknown");
}

static void test_floor_parse(void **state)
{
	(void)state;
	/* reference lines (TL:1715, the +CDTXC example), the 4-field own grant, and more */
	static const struct {
		const char *line;
		int cci;
		enum gw_pei_floor ev;
		const char *who;
	} ok[] = {
	    {"+CTXG: 1,3,0,0,3,09011638300023404", 1, GW_PEI_FLOOR_OTHER, "09011638300023404"},
	    {"+CDTXC: 1,0", 1, GW_PEI_FLOOR_CEASED, ""},
	    {"+CTXG: 5,0,0,0", 5, GW_PEI_FLOOR_GRANTED, ""},
	    {"+CTXG: 5,0,0,0,,", 5, GW_PEI_FLOOR_GRANTED, ""},
	    {"+CTXG: 5,0,0,0,0,2269001", 5, GW_PEI_FLOOR_OTHER, "2269001"},
	    {"+CTXG: 5,1,0,0", 5, GW_PEI_FLOOR_REFUSED, ""},
	    {"+CTXG: 5,2,1,0", 5, GW_PEI_FLOOR_QUEUED, ""},
	    {"+CTXI: 5,0,0,0,2269002", 5, GW_PEI_FLOOR_INTERRUPTED, "2269002"},
	    {"+CTXW: 7,0", 7, GW_PEI_FLOOR_WAIT, ""},
	};
	/* TxGrant out of range, no cci, bad identities, other prefixes */
	static const char *const bad[] = {
	    "+CTXG: 5,4,0,0",
	    "+CTXG: 5",
	    "+CTXG: ,0,0,0",
	    "+CTXG: 1,3,0,0,3,0901x",
	    "+CTXG: 1,3,0,0,3,123456789012345678",
	    "+CDTXC:",
	    "+CTCC: 1",
	};
	int cci;
	enum gw_pei_floor ev;
	char who[GW_PEI_ID_MAX];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(gw_pei_parse_floor(ok[i].line, &cci, &ev, who), 0);
		assert_int_equal(cci, ok[i].cci);
		assert_int_equal(ev, ok[i].ev);
		assert_string_equal(who, ok[i].who);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_pei_parse_floor(bad[i], &cci, &ev, who), -EINVAL);
	assert_string_equal(gw_pei_floor_name(GW_PEI_FLOOR_OTHER), "other talker");
}

struct drv {
	struct pty_peer dev;
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_pei *pei;
	int ready, downs, incoming, released[4], nreleased;
	int sds_states[8], nstates;
	char sds_from[20], sds_text[1024];
	int nsds;
	int floor_ev[8], floor_cci[8], nfloor;
	char floor_who[20];
	int dial_st[8], dial_cci[8], dial_cause[8], dial_handle, ndial, connected;
	int orphans[4], norphans;
	int early, early_before_incoming; /* ops.early calls; incoming() calls before the last */
	bool early_urgent;		  /* what ops.early answers */
	char early_calling[GW_PEI_ID_MAX];
};

static bool d_early(void *arg, const struct gw_pei_call_in *c)
{
	struct drv *d = arg;
	d->early++;
	d->early_before_incoming = d->incoming;
	snprintf(d->early_calling, sizeof(d->early_calling), "%s", c->calling);
	return d->early_urgent;
}

static void d_orphan(void *arg, int cci)
{
	struct drv *d = arg;
	if (d->norphans < 4)
		d->orphans[d->norphans++] = cci;
}

static void d_dial_state(void *arg, int handle, int cci, enum gw_pei_dial_state st, int cause)
{
	struct drv *d = arg;
	d->dial_handle = handle;
	if (d->ndial < 8) {
		d->dial_st[d->ndial] = st;
		d->dial_cci[d->ndial] = cci;
		d->dial_cause[d->ndial++] = cause;
	}
}

static void d_floor(void *arg, int cci, enum gw_pei_floor ev, const char *talker)
{
	struct drv *d = arg;
	if (d->nfloor < 8) {
		d->floor_cci[d->nfloor] = cci;
		d->floor_ev[d->nfloor++] = ev;
	}
	snprintf(d->floor_who, sizeof(d->floor_who), "%s", talker);
}

static void d_ready(void *arg, int up)
{
	struct drv *d = arg;
	d->ready = up;
	if (!up)
		d->downs++;
}
static void d_incoming(void *arg, const struct gw_pei_call_in *c)
{
	(void)c;
	((struct drv *)arg)->incoming++;
}
static void d_connected(void *arg, int cci)
{
	(void)cci;
	((struct drv *)arg)->connected++;
}
static void d_released(void *arg, int cci, int cause)
{
	struct drv *d = arg;
	(void)cause;
	if (d->nreleased < 4)
		d->released[d->nreleased++] = cci;
}

static void d_sds_in(void *arg, const char *from, const struct gw_sds_msg *m)
{
	struct drv *d = arg;
	d->nsds++;
	snprintf(d->sds_from, sizeof(d->sds_from), "%s", from);
	snprintf(d->sds_text, sizeof(d->sds_text), "%s",
		 m->kind == GW_SDS_TEXT ? m->text.text : "");
}
static void d_sds_state(void *arg, int handle, enum gw_pei_sds_state st, int detail)
{
	struct drv *d = arg;
	(void)handle;
	(void)detail;
	if (d->nstates < 8)
		d->sds_states[d->nstates++] = st;
}

static const char *const generic_init[] = {"ATE0", "AT+CTOM=0", "AT+CTSP=2,0,0", "AT+CTSP=1,3,130",
					   "AT+CTSP=2,2,20"};

/* Answer the init after its first "AT" and check the driver reports ready. */
static void finish_init(struct drv *d)
{
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	for (size_t i = 0; i < sizeof(generic_init) / sizeof(generic_init[0]); i++) {
		pty_peer_expect(&d->dev, generic_init[i]);
		pty_peer_send(&d->dev, "\r\nOK\r\n");
	}
	pty_peer_expect(&d->dev, "AT+CNUMF?");
	pty_peer_send(&d->dev, "\r\n+CNUMF: 6,02440000100001001\r\n\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CLCC");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ready, 1);
}

static int drv_setup(void **state)
{
	static struct drv d;
	memset(&d, 0, sizeof(d));
	d.loop = gw_loop_new();
	const char *path = pty_peer_open(&d.dev, d.loop);
	gw_conf_defaults(&d.conf);
	snprintf(d.conf.radio_port, sizeof(d.conf.radio_port), "%s", path);
	d.conf.radio_probe_idle_s = 1;
	d.conf.radio_health_interval_s = 3600;
	struct gw_pei_ops ops = {.ready = d_ready,
				 .incoming = d_incoming,
				 .connected = d_connected,
				 .released = d_released,
				 .sds_in = d_sds_in,
				 .sds_state = d_sds_state,
				 .floor = d_floor,
				 .dial_state = d_dial_state,
				 .orphan = d_orphan,
				 .early = d_early,
				 .arg = &d};
	assert_int_equal(gw_pei_new(d.loop, &d.conf, &ops, &d.pei), 0);
	*state = &d;
	return 0;
}

static int drv_teardown(void **state)
{
	struct drv *d = *state;
	gw_pei_free(d->pei);
	gw_loop_free(d->loop);
	close(d->dev.master);
	return 0;
}

static void test_resync_after_cme35(void **state)
{
	struct drv *d = *state;
	/* the terminal still chews on old bytes: two syntax errors, then it is in step */
	pty_peer_expect(&d->dev, "AT");
	pty_peer_send(&d->dev, "\r\n+CME ERROR: 35\r\n");
	pty_peer_expect(&d->dev, "AT");
	pty_peer_send(&d->dev, "\r\n+CME ERROR: 35\r\n");
	pty_peer_expect(&d->dev, "AT");
	assert_int_equal(d->ready, 0);
	finish_init(d);
	/* the health poll follows the init */
	pty_peer_expect(&d->dev, "AT+CREG?");
}

static void test_restart_reinit_and_lost_call(void **state)
{
	struct drv *d = *state;
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	pty_peer_expect(&d->dev, "AT+CREG?");
	pty_peer_send(&d->dev, "\r\n+CREG: 1,1,2440001\r\n\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CSQ?");
	pty_peer_send(&d->dev, "\r\n+CSQ: 25,99\r\n\r\nOK\r\n");
	pty_peer_send(&d->dev, "\r\n+CTICN: 4,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->incoming, 1);
	struct gw_pei_health h;
	gw_pei_health(d->pei, &h);
	assert_int_equal(h.live_calls, 1);
	assert_int_equal(h.reg_stat, 1);
	assert_int_equal(h.rssi_dbm, -63);
	assert_string_equal(h.identity, "02440000100001001");
	/* the terminal reboots: its banner; the call is gone, the init runs again */
	pty_peer_send(&d->dev, "\r\n+CTOM: 0\r\n");
	pty_peer_expect(&d->dev, "AT");
	assert_int_equal(d->nreleased, 1);
	assert_int_equal(d->released[0], 4);
	assert_int_equal(d->downs, 1);
	assert_int_equal(gw_pei_live_calls(d->pei), 0);
	finish_init(d);
}

/* Freeze the loop's clock: from here timers run only on advance. */
static void freeze(struct drv *d)
{
	gw_loop_clock_override(d->loop, gw_loop_now_ms(d->loop), gw_loop_wall_ms(d->loop));
}

/*
 * Move the frozen clock from one timer to the next until the driver writes a line, which
 * must start with want. The driver writes inside the advance (the timer's callback writes
 * to the port), and a read of the pty master takes in what the other end has written
 * (n_tty flushes the pty's buffer work on read), so a timer that wrote nothing is known
 * after one short look, not after a wait for a line that does not come.
 */
static void advance_to(struct drv *d, const char *want)
{
	char line[128];
	for (int i = 0; i < 20; i++) {
		int64_t next = gw_loop_next_timer_ms(d->loop);
		if (next < 0)
			fail_msg("no timer left, and '%s' not sent", want);
		gw_loop_clock_advance(d->loop, next);
		if (pty_peer_line(&d->dev, line, sizeof(line), 100)) {
			if (strncmp(line, want, strlen(want)) != 0)
				fail_msg("device expected '%s', got '%s'", want, line);
			return;
		}
	}
	fail_msg("'%s' not sent after 20 timers", want);
}

static void test_silence_probes_then_reopen(void **state)
{
	struct drv *d = *state;
	freeze(d);
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	pty_peer_expect(&d->dev, "AT+CREG?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CSQ?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	/* then silence: a probe after the idle time (radio.probe_idle 1 s); answered, all is
	   well */
	int64_t t0 = gw_loop_now_ms(d->loop);
	advance_to(d, "AT");
	assert_true(gw_loop_now_ms(d->loop) - t0 >= 1000); /* not before the idle time */
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	/* the terminal stops answering: three probes go unanswered, then the port reopens
	   and the init starts again */
	for (int i = 0; i < 3; i++)
		advance_to(d, "AT");
	assert_int_equal(d->downs, 0);
	advance_to(d, "AT");
	assert_int_equal(d->downs, 1);
	assert_int_equal(d->ready, 0);
	finish_init(d);
}

/* The next line the driver writes is exactly want (pty_peer_expect takes a prefix). */
static void expect_exact(struct drv *d, const char *want)
{
	char line[128];
	if (!pty_peer_line(&d->dev, line, sizeof(line), 3000))
		fail_msg("device never received '%s'", want);
	if (strcmp(line, want) != 0)
		fail_msg("device expected exactly '%s', got '%s'", want, line);
}

/* All init commands in order, the identity query last. */
static const char *init_cmd(size_t k)
{
	static const size_t n = sizeof(generic_init) / sizeof(generic_init[0]);
	return k == 0 ? "AT" : k <= n ? generic_init[k - 1] : k == n + 1 ? "AT+CNUMF?" : "AT+CLCC";
}

/*
 * Whichever init step goes unanswered (the terminal rebooting, or gone), the terminal is
 * not declared ready: the init gives up and starts over with "AT", and only a complete
 * init makes it ready. Fake clock: a step's timeout is an advance, not a wait.
 */
static void test_ready_only_after_complete_init(void **state)
{
	struct drv *d = *state;
	const size_t nsteps = sizeof(generic_init) / sizeof(generic_init[0]) + 3;
	freeze(d);
	for (size_t k = 0; k < nsteps; k++) {
		expect_exact(d, "AT");
		for (size_t i = 0; i < k; i++) {
			if (i > 0)
				expect_exact(d, init_cmd(i));
			pty_peer_send(&d->dev, "\r\nOK\r\n");
		}
		if (k > 0)
			expect_exact(d, init_cmd(k));
		/* step k is never answered */
		gw_loop_clock_advance(d->loop, 2000);
		pty_peer_run(&d->dev, 20);
		assert_int_equal(d->ready, 0);
		/* nothing but a fresh start of the init follows (after a pause) */
		char line[64];
		assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 50), 0);
		gw_loop_clock_advance(d->loop, 5000);
	}
	expect_exact(d, "AT");
	finish_init(d);
}

/* A terminal ready with one live call (cci 4); the health poll answered. */
static void ready_with_call(struct drv *d)
{
	expect_exact(d, "AT");
	finish_init(d);
	pty_peer_expect(&d->dev, "AT+CREG?");
	pty_peer_send(&d->dev, "\r\n+CREG: 1,1,2440001\r\n\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CSQ?");
	pty_peer_send(&d->dev, "\r\n+CSQ: 25,99\r\n\r\nOK\r\n");
	pty_peer_send(&d->dev, "\r\n+CTICN: 4,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->incoming, 1);
	assert_int_equal(gw_pei_live_calls(d->pei), 1);
}

/*
 * The terminal reboots without a word (no +CTOM banner, no +CTCR) and comes back in its
 * power-up state. The liveness probe recognises it by any of its signs: the command
 * echoed, the first command refused with +CME ERROR: 35, or an operating mode other
 * than the one the init set. Each time the lost call is reported and the init runs again.
 */
static void test_probe_recognises_power_up_state(void **state)
{
	struct drv *d = *state;
	static const char *const answers[] = {
	    "AT+CTOM?\r\r\n+CTOM: 0\r\n\r\nOK\r\n", /* echo on */
	    "\r\n+CME ERROR: 35\r\n",		    /* first command refused */
	    "\r\n+CTOM: 1\r\n\r\nOK\r\n",	    /* mode not the one set */
	};
	freeze(d);
	ready_with_call(d);
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		d->nreleased = 0;
		int downs = d->downs;
		/* idle: the probe asks the operating mode; an answer as set changes nothing */
		gw_loop_clock_advance(d->loop, 1000);
		pty_peer_expect(&d->dev, "AT+CTOM?");
		pty_peer_send(&d->dev, "\r\n+CTOM: 0\r\n\r\nOK\r\n");
		pty_peer_run(&d->dev, 20);
		assert_int_equal(d->nreleased, 0);
		assert_int_equal(d->ready, 1);
		/* the terminal rebooted silently in between */
		gw_loop_clock_advance(d->loop, 1000);
		pty_peer_expect(&d->dev, "AT+CTOM?");
		pty_peer_send(&d->dev, answers[i]);
		expect_exact(d, "AT");
		assert_int_equal(d->nreleased, 1);
		assert_int_equal(d->released[0], 4);
		assert_int_equal(d->downs, downs + 1);
		assert_int_equal(gw_pei_live_calls(d->pei), 0);
		/* the init runs again in full: echo off and the service profile resent */
		finish_init(d);
		pty_peer_expect(&d->dev, "AT+CREG?");
		pty_peer_send(&d->dev, "\r\nOK\r\n");
		pty_peer_expect(&d->dev, "AT+CSQ?");
		pty_peer_send(&d->dev, "\r\nOK\r\n");
		/* the officer calls again, with the same call identifier */
		pty_peer_send(&d->dev, "\r\n+CTICN: 4,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
		pty_peer_run(&d->dev, 20);
		assert_int_equal(gw_pei_live_calls(d->pei), 1);
	}
}

/* One probe after the idle time, answered with answer; then whatever the driver does. */
static void probe(struct drv *d, const char *answer)
{
	gw_loop_clock_advance(d->loop, 1000);
	pty_peer_expect(&d->dev, "AT+CTOM?");
	pty_peer_send(&d->dev, answer);
	pty_peer_run(&d->dev, 20);
}

/* The health poll after an init, answered. */
static void health_answered(struct drv *d)
{
	pty_peer_expect(&d->dev, "AT+CREG?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CSQ?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_run(&d->dev, 20);
}

/*
 * A sign of the power-up state only counts when the init set what it contradicts: echo
 * only when ATE0 was accepted (a terminal that refuses ATE0 echoes for ever), the mode and
 * a refused AT+CTOM? only when AT+CTOM= was accepted. And a terminal that answers like a
 * freshly booted one on the first probe after three inits in a row is not rebooting: the
 * sign is then no longer taken for one (until the port reopens), so the init cannot loop.
 */
static void test_power_up_signs_never_loop(void **state)
{
	struct drv *d = *state;
	static const char *const echo = "AT+CTOM?\r\r\n+CTOM: 0\r\n\r\nOK\r\n";
	freeze(d);
	/* the terminal refuses ATE0 (and keeps echoing): the echo is not a reboot */
	expect_exact(d, "AT");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	for (size_t k = 0; k < sizeof(generic_init) / sizeof(generic_init[0]); k++) {
		pty_peer_expect(&d->dev, generic_init[k]);
		pty_peer_send(&d->dev, k == 0 ? "\r\nERROR\r\n" : "\r\nOK\r\n");
	}
	pty_peer_expect(&d->dev, "AT+CNUMF?");
	pty_peer_send(&d->dev, "\r\n+CNUMF: 6,02440000100001001\r\n\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CLCC");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ready, 1);
	health_answered(d);
	int downs = d->downs;
	for (int i = 0; i < 3; i++) {
		probe(d, echo);
		char line[64];
		assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 50), 0);
		assert_int_equal(d->downs, downs);
	}
	/* a full init (ATE0 accepted) after an announced restart; then echo on every probe */
	pty_peer_send(&d->dev, "\r\n+CTOM: 0\r\n");
	expect_exact(d, "AT");
	finish_init(d);
	health_answered(d);
	downs = d->downs;
	for (int i = 0; i < 3; i++) {
		probe(d, echo);
		expect_exact(d, "AT");
		assert_int_equal(d->downs, downs + i + 1);
		finish_init(d);
		health_answered(d);
	}
	/* the fourth time in a row it is the terminal's way, not a reboot */
	probe(d, echo);
	char line[64];
	assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 50), 0);
	assert_int_equal(d->downs, downs + 3);
	assert_int_equal(d->ready, 1);
}

static void test_shutdown_releases_live_calls(void **state)
{
	struct drv *d = *state;
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	assert_int_equal(gw_pei_shutdown(d->pei), 0); /* nothing live: nothing sent */
	pty_peer_send(&d->dev, "\r\n+CTICN: 2,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_send(&d->dev, "\r\n+CTCC: 2,0,0,0,0,0,1\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(gw_pei_shutdown(d->pei), 1);
	char line[64];
	/* the health poll may be first in the queue; ATH is urgent and goes next */
	do {
		assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 1000), 1);
		if (strcmp(line, "ATH") != 0)
			pty_peer_send(&d->dev, "\r\nOK\r\n");
	} while (strcmp(line, "ATH") != 0);
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTCR: 2,1\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(gw_pei_live_calls(d->pei), 0);
}

/* Answer OK to whatever the driver sends until it sends want (health polls may come first). */
static void expect_skipping(struct drv *d, const char *want)
{
	char line[128];
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 1000), 1);
		if (strcmp(line, want) == 0)
			return;
		pty_peer_send(&d->dev, "\r\nOK\r\n");
	}
	fail_msg("%s never came", want);
}

/*
 * A hang-up names its call: ATH (which clears every call of the terminal) goes only while
 * that call is live. A call already released, or never known, sends nothing, so it cannot
 * cut a newer call that holds the terminal now.
 */
static void test_hangup_only_own_live_call(void **state)
{
	struct drv *d = *state;
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	pty_peer_send(&d->dev, "\r\n+CTICN: 1,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_send(&d->dev, "\r\n+CTCC: 1,0,0,0,0,0,1\r\n");
	pty_peer_send(&d->dev, "\r\n+CTCR: 1,1\r\n");
	pty_peer_send(&d->dev, "\r\n+CTICN: 2,0,0,0,2269002,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nreleased, 1);
	assert_int_equal(gw_pei_live_calls(d->pei), 1);
	int queued = gw_pei_pending(d->pei); /* the health poll may wait in the queue */
	assert_int_equal(gw_pei_hangup(d->pei, 1), -ENOENT); /* released already */
	assert_int_equal(gw_pei_hangup(d->pei, 7), -ENOENT); /* never known */
	assert_int_equal(gw_pei_hangup(d->pei, -1), -ENOENT);
	assert_int_equal(gw_pei_pending(d->pei), queued); /* nothing queued */
	assert_int_equal(gw_pei_live_calls(d->pei), 1);
	/* call 2's own hang-up goes */
	assert_int_equal(gw_pei_hangup(d->pei, 2), 0);
	assert_int_equal(gw_pei_pending(d->pei), queued + 1);
	expect_skipping(d, "ATH");
}

static void test_floor_control(void **state)
{
	struct drv *d = *state;
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	assert_int_equal(gw_pei_tx_request(d->pei, 3), -ENOENT);
	pty_peer_send(&d->dev, "\r\n+CTICN: 3,0,0,0,2269001,1,1,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(gw_pei_tx_cease(d->pei, 3), -EALREADY);
	/* the officer talks first (TSI form), then stops */
	pty_peer_send(&d->dev, "\r\n+CTXG: 3,3,0,0,5,02440000102269001\r\n\r\n+CDTXC: 3,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nfloor, 2);
	assert_int_equal(d->floor_cci[0], 3);
	assert_int_equal(d->floor_ev[0], GW_PEI_FLOOR_OTHER);
	assert_int_equal(d->floor_ev[1], GW_PEI_FLOOR_CEASED);
	/* we ask: AT+CTXD, granted */
	assert_int_equal(gw_pei_tx_request(d->pei, 3), 0);
	assert_int_equal(gw_pei_tx_request(d->pei, 3), -EALREADY);
	expect_skipping(d, "AT+CTXD=3,1");
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTXG: 3,0,0,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nfloor, 3);
	assert_int_equal(d->floor_ev[2], GW_PEI_FLOOR_GRANTED);
	/* a floor indication for a call we do not know, and a bad one: skipped */
	pty_peer_send(&d->dev, "\r\n+CTXG: 9,0,0,0\r\n\r\n+CTXG: 3,7,0,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nfloor, 3);
	/* we stop: AT+CUTXC */
	assert_int_equal(gw_pei_tx_cease(d->pei, 3), 0);
	expect_skipping(d, "AT+CUTXC=3");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	/* a request the terminal refuses, then one pre-empted */
	assert_int_equal(gw_pei_tx_request(d->pei, 3), 0);
	expect_skipping(d, "AT+CTXD=3,1");
	pty_peer_send(&d->dev, "\r\n+CME ERROR: 3\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nfloor, 4);
	assert_int_equal(d->floor_ev[3], GW_PEI_FLOOR_REFUSED);
	assert_int_equal(gw_pei_tx_request(d->pei, 3), 0);
	expect_skipping(d, "AT+CTXD=3,1");
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTXG: 3,2,0,0\r\n\r\n+CTXG: 3,0,0,0\r\n"
			       "\r\n+CTXI: 3,0,0,0,2269002\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nfloor, 7);
	assert_int_equal(d->floor_ev[4], GW_PEI_FLOOR_QUEUED);
	assert_int_equal(d->floor_ev[5], GW_PEI_FLOOR_GRANTED);
	assert_int_equal(d->floor_ev[6], GW_PEI_FLOOR_INTERRUPTED);
	assert_string_equal(d->floor_who, "2269002");
	assert_int_equal(gw_pei_tx_cease(d->pei, 3), -EALREADY);
}

static void test_shutdown_ceases_floor_first(void **state)
{
	struct drv *d = *state;
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	pty_peer_send(&d->dev, "\r\n+CTICN: 2,0,0,0,2269001,1,1,0,0,1,0,1001,0\r\n");
	pty_peer_send(&d->dev, "\r\n+CTICN: 4,0,0,0,2269002,1,1,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(gw_pei_tx_request(d->pei, 4), 0);
	expect_skipping(d, "AT+CTXD=4,1");
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTXG: 4,0,0,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(gw_pei_shutdown(d->pei), 2);
	/* only the call whose floor we hold gets AT+CUTXC, and before the ATH */
	expect_skipping(d, "AT+CUTXC=4");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "ATH");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
}

static void test_dial(void **state)
{
	struct drv *d = *state;
	assert_int_equal(gw_pei_dial(d->pei, "2269001", true), -ENOTCONN);
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	assert_int_equal(gw_pei_parse_ctocp("+CTOCP: 3,2", &(int){0}, &(int){0}), 0);
	assert_int_equal(gw_pei_parse_ctocp("+CTOCP: 3", &(int){0}, &(int){0}), -EINVAL);
	assert_int_equal(gw_pei_dial(d->pei, "22a", true), -EINVAL);
	assert_int_equal(gw_pei_dial(d->pei, "123456789", true), -EINVAL); /* neither SSI nor TSI */
	/* simplex to an SSI: parameters, dial, paged, answered, floor, released */
	int h = gw_pei_dial(d->pei, "2269001", true);
	assert_true(h > 0);
	assert_int_equal(gw_pei_dial(d->pei, "2269002", true), -EBUSY);
	expect_skipping(d, "AT+CTSDC=0,0,0,0,1,0,0,1,0,0");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "ATD2269001");
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTOCP: 6,2,0,0,0,1,1,0,0,0\r\n"
			       "\r\n+CTCC: 6,0,1,0,0,0,1\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ndial, 2);
	assert_int_equal(d->dial_handle, h);
	assert_int_equal(d->dial_st[0], GW_PEI_DIAL_PROGRESS);
	assert_int_equal(d->dial_cci[0], 6);
	assert_int_equal(d->dial_cause[0], 2);
	assert_int_equal(d->dial_st[1], GW_PEI_DIAL_CONNECTED);
	assert_int_equal(d->connected, 0); /* not an incoming call's connect */
	assert_int_equal(gw_pei_live_calls(d->pei), 1);
	assert_int_equal(gw_pei_tx_request(d->pei, 6), 0);
	expect_skipping(d, "AT+CTXD=6,1");
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTCR: 6,1\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ndial, 3);
	assert_int_equal(d->dial_st[2], GW_PEI_DIAL_RELEASED);
	assert_int_equal(d->dial_cause[2], 1);
	assert_int_equal(d->nreleased, 0);
	assert_int_equal(gw_pei_live_calls(d->pei), 0);
	/* duplex to a TSI, rejected by the called party (release before any +CTOCP) */
	h = gw_pei_dial(d->pei, "02440000102269002", false);
	expect_skipping(d, "AT+CTSDC=0,5,0,0,0,0,0,1,0,0");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "ATD02440000102269002");
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTCR: 7,11\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ndial, 4);
	assert_int_equal(d->dial_handle, h);
	assert_int_equal(d->dial_st[3], GW_PEI_DIAL_RELEASED);
	assert_int_equal(d->dial_cause[3], 11);
	/* the terminal refuses the dial itself */
	h = gw_pei_dial(d->pei, "2269003", true);
	expect_skipping(d, "AT+CTSDC=0,0,0,0,1,0,0,1,0,0");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "ATD2269003");
	pty_peer_send(&d->dev, "\r\n+CME ERROR: 3\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ndial, 5);
	assert_int_equal(d->dial_st[4], GW_PEI_DIAL_FAILED);
	assert_int_equal(d->dial_cci[4], -1);
	assert_int_equal(d->dial_cause[4], 3);
	/* a +CTOCP nobody asked for is skipped; the next dial is free to go */
	pty_peer_send(&d->dev, "\r\n+CTOCP: 9,2\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ndial, 5);
	assert_true(gw_pei_dial(d->pei, "2269003", true) > h);
}

static void test_sds_send_and_delivery(void **state)
{
	struct drv *d = *state;
	char data[600], line[128];
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	pty_peer_expect(&d->dev, "AT+CREG?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CSQ?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	assert_int_equal(gw_pei_send_sds(d->pei, "12a", "x"), -EINVAL);
	int h = gw_pei_send_sds(d->pei, "2269001", "Päivystäjä tavoitettu");
	assert_true(h > 0);
	/* the SDS type is set first, then the text goes with its data at once */
	pty_peer_expect(&d->dev, "AT+CTSDS=12,0,0,0,1");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 1000), 1);
	assert_int_equal(strncmp(line, "AT+CMGS=2269001,", 16), 0);
	assert_int_equal(pty_peer_until(&d->dev, 0x1a, data, sizeof(data), 1000), 1);
	/* 82, receipt report requested, ref 1, ISO-8859-1; 'ä' is E4 */
	assert_int_equal(strncmp(data, "82", 2), 0);
	assert_non_null(strstr(data, "50E46976797374E46AE4"));
	assert_int_equal(atoi(line + 16), (int)strlen(data) * 4);
	pty_peer_send(&d->dev, "\r\n+CMGS: 7\r\n\r\nOK\r\n");
	pty_peer_run(&d->dev, 20);
	/* the network took it: sent, not delivered */
	pty_peer_send(&d->dev, "\r\n+CMGS: 7,4,1\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nstates, 2);
	assert_int_equal(d->sds_states[0], GW_PEI_SDS_ACCEPTED);
	assert_int_equal(d->sds_states[1], GW_PEI_SDS_SENT);
	/* a report from someone else, or for another ref, is not ours */
	pty_peer_send(&d->dev, "\r\n+CTSDSR: 12,2269002,0,1001,0,32\r\n82100001\r\n");
	pty_peer_send(&d->dev, "\r\n+CTSDSR: 12,2269001,0,1001,0,32\r\n82100009\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nstates, 2);
	/* the destination's receipt report: delivered (TSI form of the same ISSI) */
	pty_peer_send(&d->dev, "\r\n+CTSDSR: 12,02440000102269001,0,1001,0,32\r\n82100001\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->nstates, 3);
	assert_int_equal(d->sds_states[2], GW_PEI_SDS_DELIVERED);
}

static void test_sds_receive_acknowledged(void **state)
{
	struct drv *d = *state;
	char data[128], line[128];
	pty_peer_expect(&d->dev, "AT");
	finish_init(d);
	pty_peer_expect(&d->dev, "AT+CREG?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CSQ?");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	/* "testmessage" (ftl's example) asking for a receipt report: 82 04 ... ref 9C */
	pty_peer_send(&d->dev, "\r\n+CTSDSR: 12,1234567,0,2345678,0,120\r\n"
			       "82049C01746573746D657373616765\r\n");
	pty_peer_expect(&d->dev, "AT+CTSDS=12,0,0,0,1");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 1000), 1);
	assert_string_equal(line, "AT+CMGS=1234567,32");
	assert_int_equal(pty_peer_until(&d->dev, 0x1a, data, sizeof(data), 1000), 1);
	assert_string_equal(data, "8210009C");
	assert_int_equal(d->nsds, 1);
	assert_string_equal(d->sds_from, "1234567");
	assert_string_equal(d->sds_text, "testmessage");
	/* a status SDS and garbage after the header */
	pty_peer_send(&d->dev, "\r\n+CMGS: 1\r\n\r\nOK\r\n");
	pty_peer_send(&d->dev, "\r\n+CTSDSR: 13,1234567,0,2345678,0,16\r\n8002\r\n");
	pty_peer_send(&d->dev, "\r\n+CTSDSR: 12,1234567,0,2345678,0,64\r\nZZ\r\n");
	pty_peer_send(&d->dev, "\r\n+CTSDSR: 12,x,0\r\n00\r\n");
	pty_peer_run(&d->dev, 50);
	assert_int_equal(d->nsds, 2);
}

static void test_ctsdsr_header(void **state)
{
	(void)state;
	int ai, bits;
	char from[20], to[20];
	assert_int_equal(
	    gw_pei_parse_ctsdsr("+CTSDSR: 12,23404,0,23401,0,112", &ai, from, to, &bits), 0);
	assert_int_equal(ai, 12);
	assert_string_equal(from, "23404");
	assert_string_equal(to, "23401");
	assert_int_equal(bits, 112);
	assert_int_equal(gw_pei_parse_ctsdsr("+CTSDSR: 13,2345678,16", &ai, from, to, &bits), 0);
	assert_string_equal(from, "");
	assert_string_equal(to, "2345678");
	assert_int_equal(gw_pei_parse_ctsdsr("+CTSDSR: 12,2345678,0,84", &ai, from, to, &bits), 0);
	assert_int_equal(bits, 84);
	assert_int_equal(gw_pei_parse_ctsdsr("+CTSDSR: 12,1,0,2,0,16,0", &ai, from, to, &bits), 0);
	assert_int_equal(gw_pei_parse_ctsdsr("+CTSDSR: 12,1,0,2,0", &ai, from, to, &bits), -EINVAL);
	assert_int_equal(gw_pei_parse_ctsdsr("+CTSDSR: 12,1,0,2,0,9999", &ai, from, to, &bits),
			 -EINVAL);
	assert_int_equal(gw_pei_parse_ctsdsr("+CTSDSR: 12,1a,0,2,0,16", &ai, from, to, &bits),
			 -EINVAL);
}

/*
 * After a crash the terminal still carries the officer's call (and a second one): the
 * call list after the init names them, both are told as orphans, one ATH releases them,
 * and only its answer makes the terminal ready. A terminal that refuses AT+CLCC is ready.
 */
static void test_orphaned_calls_released_at_start(void **state)
{
	struct drv *d = *state;
	int n = 0;
	assert_int_equal(gw_pei_parse_clcc("+CLCC: 4,1,0,0,0", &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(gw_pei_parse_clcc("+CLCC: x,1,0,0,0", &n), -EINVAL);
	assert_int_equal(gw_pei_parse_clcc("+CLCC: 70000,1", &n), -EINVAL);
	assert_int_equal(gw_pei_parse_clcc("+CTCC: 4,1", &n), -EINVAL);

	expect_exact(d, "AT");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	for (size_t i = 0; i < sizeof(generic_init) / sizeof(generic_init[0]); i++) {
		pty_peer_expect(&d->dev, generic_init[i]);
		pty_peer_send(&d->dev, "\r\nOK\r\n");
	}
	pty_peer_expect(&d->dev, "AT+CNUMF?");
	pty_peer_send(&d->dev, "\r\n+CNUMF: 6,02440000100001001\r\n\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CLCC");
	pty_peer_send(&d->dev, "\r\n+CLCC: 4,1,0,0,0\r\n+CLCC: 7,1,4,0,0\r\n\r\nOK\r\n");
	pty_peer_expect(&d->dev, "ATH");
	assert_int_equal(d->ready, 0);
	assert_int_equal(d->norphans, 2);
	assert_int_equal(d->orphans[0], 4);
	assert_int_equal(d->orphans[1], 7);
	pty_peer_send(&d->dev, "\r\nOK\r\n\r\n+CTCR: 4,1\r\n\r\n+CTCR: 7,1\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ready, 1);
	assert_int_equal(gw_pei_live_calls(d->pei), 0);
}

static void test_no_call_list_is_ready(void **state)
{
	struct drv *d = *state;
	expect_exact(d, "AT");
	pty_peer_send(&d->dev, "\r\nOK\r\n");
	for (size_t i = 0; i < sizeof(generic_init) / sizeof(generic_init[0]); i++) {
		pty_peer_expect(&d->dev, generic_init[i]);
		pty_peer_send(&d->dev, "\r\nOK\r\n");
	}
	pty_peer_expect(&d->dev, "AT+CNUMF?");
	pty_peer_send(&d->dev, "\r\n+CNUMF: 6,02440000100001001\r\n\r\nOK\r\n");
	pty_peer_expect(&d->dev, "AT+CLCC");
	pty_peer_send(&d->dev, "\r\n+CME ERROR: 35\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->ready, 1);
	assert_int_equal(d->norphans, 0);
}

/*
 * ops.early sees a ready terminal's +CTICN before the engine handles it, only when it is the
 * first line of a read and complete: not one whose start came in an earlier read, not one
 * behind another line, not an incomplete or malformed one. incoming() comes for every one.
 */
static void test_early_cticn(void **state)
{
	struct drv *d = *state;
	pty_peer_send(&d->dev, "\r\n+CTICN: 3,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->early, 0); /* the terminal is not ready yet */
	expect_exact(d, "AT");
	finish_init(d);
	pty_peer_send(&d->dev, "\r\n+CTICN: 4,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->early, 1);
	assert_string_equal(d->early_calling, "2269001");
	assert_int_equal(d->early_before_incoming, d->incoming - 1); /* before its incoming() */
	/* its start came in an earlier read */
	pty_peer_send(&d->dev, "\r\n+CTI");
	pty_peer_run(&d->dev, 20);
	pty_peer_send(&d->dev, "CN: 5,0,0,0,2269002,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	/* behind another line */
	pty_peer_send(&d->dev, "\r\n+CTCR: 5,1\r\n+CTICN: 6,0,0,0,2269002,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	/* its end comes in a later read */
	pty_peer_send(&d->dev, "\r\n+CTICN: 7,0,0,0,2269002,0,0");
	pty_peer_run(&d->dev, 20);
	pty_peer_send(&d->dev, ",0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	/* the engine holds the start of another line: "X+CTICN: ..." is no +CTICN */
	pty_peer_send(&d->dev, "\r\nX");
	pty_peer_run(&d->dev, 20);
	pty_peer_send(&d->dev, "+CTICN: 9,0,0,0,2269002,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	/* malformed */
	pty_peer_send(&d->dev, "\r\n+CTICN: 8,0,0,0,22x9002\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->early, 1);
	assert_int_equal(d->incoming, 5); /* 3 (before ready), 4, 5, 6, 7 */
}

/*
 * A +CTICN whose page went ahead (ops.early true): its bytes, and any read after them, go to
 * the engine in order, not in the loop iteration that wrote ahead, but GW_PEI_HOLD_MS
 * later at the latest, or when the owner asks (gw_pei_feed_held).
 */
static void test_early_cticn_held(void **state)
{
	struct drv *d = *state;
	expect_exact(d, "AT");
	finish_init(d);
	d->early_urgent = true;
	int incoming = d->incoming;
	pty_peer_send(&d->dev, "\r\n+CTICN: 4,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n+CTCR: 4,1\r\n");
	for (int i = 0; i < 100 && !d->early; i++)
		gw_loop_run_once(d->loop, 20);
	assert_int_equal(d->early, 1);
	assert_int_equal(d->incoming, incoming); /* not in the iteration that wrote ahead */
	assert_int_equal(d->nreleased, 0);
	for (int i = 0; i < 100 && d->incoming == incoming; i++)
		gw_loop_run_once(d->loop, 20); /* GW_PEI_HOLD_MS at the latest */
	assert_int_equal(d->incoming, incoming + 1);
	assert_int_equal(d->nreleased, 1); /* then what followed it */
	assert_int_equal(d->released[0], 4);
	assert_int_equal(gw_pei_live_calls(d->pei), 0);
	/* or at once when the owner asks (the modem's answer came) */
	pty_peer_send(&d->dev, "\r\n+CTICN: 6,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	for (int i = 0; i < 100 && d->early < 2; i++)
		gw_loop_run_once(d->loop, 20);
	assert_int_equal(d->incoming, incoming + 1);
	gw_pei_feed_held(d->pei);
	assert_int_equal(d->incoming, incoming + 2);
	gw_pei_feed_held(d->pei); /* nothing held: nothing happens */
	assert_int_equal(d->incoming, incoming + 2);
	/* the next call is handled as ever */
	d->early_urgent = false;
	pty_peer_send(&d->dev, "\r\n+CTICN: 5,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	pty_peer_run(&d->dev, 20);
	assert_int_equal(d->early, 3);
	assert_int_equal(d->incoming, incoming + 3);
}

/*
 * Shutting down while a +CTICN whose page went ahead is held: it reaches the engine first
 * (its incoming(), so its incident is built and logged), and its call is released with the
 * others, never left up unseen.
 */
static void test_shutdown_feeds_the_held_call(void **state)
{
	struct drv *d = *state;
	expect_exact(d, "AT");
	finish_init(d);
	d->early_urgent = true;
	int incoming = d->incoming;
	pty_peer_send(&d->dev, "\r\n+CTICN: 4,0,0,0,2269001,0,0,0,0,1,0,1001,0\r\n");
	for (int i = 0; i < 100 && !d->early; i++)
		gw_loop_run_once(d->loop, 20);
	assert_int_equal(d->early, 1);
	assert_int_equal(d->incoming, incoming); /* held */
	assert_int_equal(gw_pei_shutdown(d->pei), 1);
	assert_int_equal(d->incoming, incoming + 1);
	char line[64];
	do {
		assert_int_equal(pty_peer_line(&d->dev, line, sizeof(line), 1000), 1);
		if (strcmp(line, "ATH") != 0)
			pty_peer_send(&d->dev, "\r\nOK\r\n");
	} while (strcmp(line, "ATH") != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cticn_full),
	    cmocka_unit_test(test_cticn_optional_fields),
	    cmocka_unit_test(test_cticn_bad),
	    cmocka_unit_test(test_ctcc_ctcr),
	    cmocka_unit_test(test_floor_parse),
	    cmocka_unit_test_setup_teardown(test_floor_control, drv_setup, drv_teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_ceases_floor_first, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_dial, drv_setup, drv_teardown),
	    cmocka_unit_test_setup_teardown(test_orphaned_calls_released_at_start, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_no_call_list_is_ready, drv_setup, drv_teardown),
	    cmocka_unit_test_setup_teardown(test_early_cticn, drv_setup, drv_teardown),
	    cmocka_unit_test_setup_teardown(test_early_cticn_held, drv_setup, drv_teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_feeds_the_held_call, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_resync_after_cme35, drv_setup, drv_teardown),
	    cmocka_unit_test_setup_teardown(test_ready_only_after_complete_init, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_probe_recognises_power_up_state, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_power_up_signs_never_loop, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_restart_reinit_and_lost_call, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_silence_probes_then_reopen, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_hangup_only_own_live_call, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_releases_live_calls, drv_setup,
					    drv_teardown),
	    cmocka_unit_test_setup_teardown(test_sds_send_and_delivery, drv_setup, drv_teardown),
	    cmocka_unit_test_setup_teardown(test_sds_receive_acknowledged, drv_setup, drv_teardown),
	    cmocka_unit_test(test_ctsdsr_header),
	};
	return cmocka_run_group_tests_name("pei", tests, NULL, NULL);
}
