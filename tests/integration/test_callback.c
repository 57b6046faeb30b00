/*
 * Integration test of the call-back (gateway/callback.c) through rinkid, modem-sim and
 * tetra-sim: a roster worker with a PIN rings the gateway, types the PIN and the
 * officer's ISSI as DTMF (modem-sim's dtmf command, the modem's key URC), and rinkid
 * dials the radio (tetra-sim sees ATD<ISSI> and answers); the release ends the phone
 * call and the call log holds the call-back incident. Then the wrong-PIN path with its
 * lock-out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "harness.h"
#include "roster.h"

#include "../calllog_read.h"

#define AINO "+358401234567"

static struct h_rig rig;

/* The newest incident of rinkid's call log. */
static void read_newest(struct logged *l)
{
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	logged_newest(db, l);
	gw_db_close(db);
}

static void set_pin(const char *handle, const char *pin)
{
	struct gw_db *db;
	char hash[GW_ROSTER_PIN_HASH_MAX];
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_int_equal(gw_roster_hash_pin(pin, hash), 0);
	assert_int_equal(gw_db_worker_set_pin(db, handle, hash), 0);
	gw_db_close(db);
}

/* The worker presses keys: one modem DTMF report each. */
static void press(const char *keys)
{
	for (; *keys; keys++) {
		assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf %c", *keys), 0);
		h_pump(&rig, 120); /* apart: not one press reported twice */
	}
}

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	set_pin("aino", "2468");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig);
	return h_rinkid_status() == 0 ? 0 : -1;
}

static void test_callback_to_radio(void **state)
{
	(void)state;
	size_t mp = 0, rp = 0;
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "dial-reply answer"), 0);
	assert_int_equal(h_start_rinkid(&rig, NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "call active", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "call_in aino fi", 3000), 0);
	press("2468#");
	assert_int_equal(h_wait_log(&rig, "pin_ok aino", 3000), 0);
	press("2269001#");
	assert_int_equal(h_wait_event(&rig.radio, &rp, "dial ", 3000), 0);
	const char *ev = strstr(rig.radio.events, "event dial ");
	assert_non_null(ev);
	assert_non_null(strstr(ev, " 2269001 cci="));
	int cci = atoi(strstr(ev, "cci=") + 4);
	assert_int_equal(h_wait_log(&rig, "connected 2269001", 3000), 0);
	/* the officer ends the call: the worker's phone is hung up */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "closed: connected", 3000), 0);
	struct logged l;
	read_newest(&l);
	assert_string_equal(l.line, "callback");
	assert_string_equal(l.outcome, "connected");
	assert_string_equal(l.accepted, "aino");
	assert_string_equal(l.kinds, "open,call_in,pin_ok,dial,connected,released,close,");
	assert_null(strstr(l.details, "2468"));
	/* the PIN never reaches the log either */
	assert_int_equal(h_log_count(&rig, "2468"), 0);
}

static void test_callback_wrong_pin(void **state)
{
	(void)state;
	size_t mp = 0;
	assert_int_equal(h_start_rinkid(&rig, "callback.lockout_s 120"), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "call active", 3000), 0);
	press("1111#");
	press("1357#");
	press("9999#");
	assert_int_equal(h_wait_log(&rig, "phone locked out for 120 s", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "closed: pin_failed", 3000), 0);
	struct logged l;
	read_newest(&l);
	assert_string_equal(l.line, "callback");
	assert_string_equal(l.outcome, "pin_failed");
	assert_string_equal(l.kinds, "open,call_in,pin_bad,pin_bad,pin_bad,locked_out,close,");
	/* no dial went to the radio */
	assert_int_equal(h_count_events(&rig.radio, "event dial "), 0);
	/* locked out: the next call is hung up unanswered */
	h_pump(&rig, 500);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "locked out for 1", 3000), 0);
	assert_int_equal(h_count_events(&rig.modem, "call active"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_callback_to_radio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_callback_wrong_pin, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
