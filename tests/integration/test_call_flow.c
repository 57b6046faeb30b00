/*
 * Integration: rinkid, tetra-sim and modem-sim as separate processes over
 * pseudo-terminals, the demo roster in a real database. Each test plays one
 * authority call and checks the AT traffic both simulators saw and the
 * incident rinkid wrote to the call log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "harness.h"
#include "sds.h"
#include "sms.h"

#define AINO  "+358401234567"
#define MIKKO "+358401234568"

static struct h_rig rig;

struct logged {
	char outcome[32], accepted[32], line[16], name[64], caller[20];
	int cause, has_cause, ended;
	char kinds[1024];
};
static void inc_cb(const struct gw_db_incident *inc, void *arg)
{
	struct logged *l = arg;
	snprintf(l->outcome, sizeof(l->outcome), "%s", inc->outcome ? inc->outcome : "");
	snprintf(l->accepted, sizeof(l->accepted), "%s", inc->accepted_by ? inc->accepted_by : "");
	snprintf(l->line, sizeof(l->line), "%s", inc->line ? inc->line : "");
	snprintf(l->name, sizeof(l->name), "%s", inc->caller_name ? inc->caller_name : "");
	snprintf(l->caller, sizeof(l->caller), "%s", inc->caller);
	l->cause = inc->cause;
	l->has_cause = inc->has_cause;
	l->ended = inc->ended;
}
static void ev_cb(const struct gw_db_event *ev, void *arg)
{
	struct logged *l = arg;
	strncat(l->kinds, ev->kind, sizeof(l->kinds) - strlen(l->kinds) - 2);
	strcat(l->kinds, ",");
}
static int64_t newest_id;
static void id_cb(const struct gw_db_incident *inc, void *arg)
{
	(void)arg;
	newest_id = inc->id;
}
/* Incident id (0: the newest) with its events. */
static void read_incident_id(struct logged *l, int64_t id)
{
	memset(l, 0, sizeof(*l));
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_int_equal(gw_db_incident_list(db, 1, id_cb, NULL), 1);
	if (!id)
		id = newest_id;
	assert_int_equal(gw_db_incident_get(db, id, inc_cb, l), 0);
	assert_true(gw_db_event_list(db, id, ev_cb, l) > 0);
	gw_db_close(db);
}

static void read_incident(struct logged *l)
{
	read_incident_id(l, 0);
}

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig);
	/* rinkid must stop cleanly on SIGTERM (sanitizers report through the exit code) */
	return h_rinkid_status() == 0 ? 0 : -1;
}

static void test_demo_call(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s noanswer", AINO), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s answer 1", MIKKO), 0);
	assert_int_equal(h_start_rinkid(&rig, "call.ring_time 5\ncall.rounds 1"), 0);

	/* bad input on both ports first: logged and skipped, nothing breaks */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "raw GARBAGE LINE"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "rawbytes 2b435449434e3a00310d0a"), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "raw +UNKNOWN: 1,2"), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "raw OK"), 0);
	/* a line of 5400 bytes, sent in three parts (the control channel takes 4 KB lines) */
	char part[1800 * 2 + 1];
	for (int i = 0; i < 1800; i++)
		memcpy(part + 2 * i, "41", 2);
	part[sizeof(part) - 1] = '\0';
	for (int i = 0; i < 3; i++)
		assert_int_equal(h_cmd(&rig.radio, NULL, 0, "rawbytes %s", part), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "rawbytes 0d0a"), 0);
	assert_int_equal(h_wait_log(&rig, "line over 4096 bytes discarded", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "unknown line skipped: GARBAGE LINE", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "line with NUL bytes skipped", 3000), 0);

	/* the officer calls */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event rx ", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "rx", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	/* no answer within 5 s: hang up, next worker */
	assert_int_equal(h_wait_event(&rig.modem, &mp, "AT+CHUP", 7000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" MIKKO ";", 3000), 0);
	/* answered is not accepted: Mikko presses 4 */
	assert_int_equal(h_wait_log(&rig, "Mikko Korhonen answered", 5000), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_log(&rig, "bridged: officer 2269001 and Mikko Korhonen", 5000), 0);
	/* junk and a second authority call during the live call change nothing but the log */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "raw +CTCR: 1"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "rawbytes 00ff0d0a"), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "raw NO DIALTONE"), 0);
	assert_int_equal(h_wait_log(&rig, "malformed +CTCR skipped", 3000), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269002 cci=2"), 0);
	assert_int_equal(h_wait_log(&rig, "second authority call 2 from 2269002", 3000), 0);
	/* the officer ends the call */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "AT+CHUP", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "incident closed: completed", 3000), 0);

	struct logged l;
	read_incident_id(&l, 2); /* the second call's own entry (busy treatment) */
	assert_string_equal(l.caller, "2269002");
	assert_string_equal(l.outcome, "busy");
	read_incident_id(&l, 1);
	assert_string_equal(l.caller, "2269001");
	assert_string_equal(l.name, "Poliisi, Mikkeli");
	assert_string_equal(l.line, "sos");
	assert_true(l.ended);
	assert_string_equal(l.outcome, "completed");
	assert_string_equal(l.accepted, "mikko");
	assert_true(l.has_cause);
	assert_int_equal(l.cause, 1);
	assert_non_null(strstr(l.kinds, "open,page,"));
	assert_non_null(strstr(l.kinds, "ring_timeout,page,"));
	assert_non_null(strstr(l.kinds, "phone_answered,dtmf,accepted,bridged,second_call,"
					"radio_released,close,"));
	/* the first worker got the SMS page, in GSM 7-bit, naming the caller */
	size_t sp = 0;
	assert_int_equal(h_wait_event(&rig.modem, &sp, "event sms-out", 100), 0);
	char hex[600];
	const char *ev = strstr(rig.modem.events, "event sms-out");
	assert_int_equal(sscanf(ev, "event sms-out %*s %*s %599s", hex), 1);
	assert_non_null(strstr(hex, "0C915348103254760000")); /* to +358401234567, GSM 7-bit */
	/* each worker was dialled exactly once */
	assert_int_equal(h_count_events(&rig.modem, "ATD" AINO ";"), 1);
	assert_int_equal(h_count_events(&rig.modem, "ATD" MIKKO ";"), 1);
}

static void test_nobody_answers(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s busy", AINO), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s reject", MIKKO), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	assert_int_equal(h_start_rinkid(&rig, "call.ring_time 5\ncall.rounds 1"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" MIKKO ";", 3000), 0);
	/* third on the chain (the supervisor) never answers: one ring time */
	assert_int_equal(h_wait_event(&rig.modem, &mp, "AT+CHUP", 8000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATH", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "incident closed: unanswered", 3000), 0);
	struct logged l;
	read_incident(&l);
	assert_string_equal(l.outcome, "unanswered");
	assert_string_equal(l.accepted, "");
	assert_non_null(strstr(l.kinds, "unreached,sds,sms,close,"));
	/* the officer was told by SDS, in Finnish, and it decodes */
	size_t sp = 0;
	assert_int_equal(h_wait_event(&rig.radio, &sp, "event sds-out 2269001", 3000), 0);
	char hex[600];
	const char *ev = strstr(rig.radio.events, "event sds-out 2269001");
	assert_int_equal(sscanf(ev, "event sds-out 2269001 %599s", hex), 1);
	static struct gw_sds_msg msg;
	assert_int_equal(gw_sds_decode(GW_SDS_AI_SDSTL, (int)strlen(hex) * 4, hex, &msg, NULL), 0);
	assert_int_equal(msg.kind, GW_SDS_TEXT);
	assert_non_null(strstr(msg.text.text, "päivystäjää ei tavoitettu"));
	/* and the first worker a missed-call SMS */
	assert_int_equal(h_wait_event(&rig.modem, &sp, "event sms-out", 3000), 0);
	/* the radio leg was released by rinkid */
	assert_int_equal(h_count_events(&rig.radio, "event rx") >= 2, 1);
}

static void test_officer_hangs_up_while_paging(void **state)
{
	(void)state;
	size_t mp = 0;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	assert_int_equal(h_start_rinkid(&rig, NULL), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 13"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "AT+CHUP", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "incident closed: abandoned", 3000), 0);
	struct logged l;
	read_incident(&l);
	assert_string_equal(l.outcome, "abandoned");
	assert_int_equal(l.cause, 13);
	/* nobody else is paged after the officer left */
	h_pump(&rig, 300);
	assert_int_equal(h_count_events(&rig.modem, "ATD" MIKKO), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_demo_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nobody_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_officer_hangs_up_while_paging, setup, teardown),
	};
	return cmocka_run_group_tests_name("integration: call flow", tests, NULL, NULL);
}
