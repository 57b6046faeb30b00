/*
 * Integration: rinkid, tetra-sim and modem-sim as separate processes over
 * pseudo-terminals, the demo roster in a real database. Each test plays one
 * authority call and checks the AT traffic both simulators saw and the
 * incident rinkid wrote to the call log. A group call on a monitored
 * talkgroup (radio.monitor_gssi) is never paged and leaves group_talk/group_call
 * rows; received statuses are logged with their configured (sds.status.<value>)
 * or built-in meaning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "harness.h"
#include "radio/sds.h"
#include "phone/sms.h"

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

struct sysev {
	char kind[16][16];
	char detail[16][200];
	int64_t t[16];
	int n;
};
static void sys_cb(const struct gw_db_event *ev, void *arg)
{
	struct sysev *s = arg;
	if (s->n == 16)
		return;
	snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", ev->kind);
	snprintf(s->detail[s->n], sizeof(s->detail[0]), "%s", ev->detail ? ev->detail : "");
	s->t[s->n++] = ev->t_ms;
}
static void count_cb(const struct gw_db_incident *inc, void *arg)
{
	(void)inc;
	(*(int *)arg)++;
}

/* The number after "<key> " in an event detail; -1 when missing. */
static long field(const char *detail, const char *key)
{
	char k[32];
	snprintf(k, sizeof(k), "%s ", key);
	const char *p = strstr(detail, k);
	return p ? strtol(p + strlen(k), NULL, 10) : -1;
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
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "at_skipped", "device=radio", "reason=overlong", NULL),
	    0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "at_skipped", "device=radio",
					     "reason=unknown", "line=GARBAGE LINE", NULL),
			 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "at_skipped", "device=radio", "reason=nul", NULL), 0);

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
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=phone_answered",
					     "detail~mikko ", NULL),
			 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=bridged", "detail=mikko", NULL),
	    0);
	/* junk and a second authority call during the live call change nothing but the log */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "raw +CTCR: 1"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "rawbytes 00ff0d0a"), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "raw NO DIALTONE"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "at_skipped", "device=radio",
					     "reason=malformed", "line=+CTCR: 1", NULL),
			 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269002 cci=2"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=busy",
					     "caller=2269002", "live=1", NULL),
			 0);
	/* the officer ends the call */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "AT+CHUP", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "call=1",
					     "outcome=completed", "accepted_by=mikko", NULL),
			 0);

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
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=unanswered", NULL), 0);
	struct logged l;
	read_incident(&l);
	assert_string_equal(l.outcome, "unanswered");
	assert_string_equal(l.accepted, "");
	assert_non_null(strstr(l.kinds, "unreached,sds,sms,close,"));
	/* the network's reason for Aino's busy line (AT+CEER) is in the log */
	assert_non_null(strstr(l.kinds, "phone_cause"));
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

static int setup_huawei(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0)
		return -1;
	rig.modem_dialect = "huawei";
	return h_start_sims(&rig) < 0 ? -1 : 0;
}

/*
 * Field report: the ^CEND of the worker's call rinkid just hung up comes after the OK of
 * the next worker's ATD, and the new call is missing from AT+CLCC for a while. The second
 * worker's page must go on (their phone rings and they answer), not end at once and skip
 * them while it rings. The sim leaves the call out of its first two AT+CLCC answers
 * (counted, not timed: a loaded rinkid polls late) and rinkid's grace is far longer than
 * those two polls can take, so the scenario happens whatever the machine's speed; the
 * grace's own length is the unit test's (test_modem, fake clock).
 */
static void test_stale_call_end_does_not_skip_next_worker(void **state)
{
	(void)state;
	size_t mp = 0;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s noanswer", AINO), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s answer 2", MIKKO), 0);
	assert_int_equal(h_start_rinkid(&rig,
					"modem.vendor huawei\ncall.ring_time 5\ncall.rounds 1\n"
					"modem.clcc_grace_ms 20000"),
			 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event call alerting", 3000), 0);
	/* from Aino's hang-up on: the late ^CEND, and the next call listed late */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "late-end on"), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "clcc-late 2"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" MIKKO ";", 10000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event late-end ^CEND", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event clcc-late " MIKKO, 3000), 0);
	/* Mikko's phone rings until he answers: nobody else is dialled meanwhile */
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event call active", 8000), 0);
	assert_int_equal(h_count_events(&rig.modem, "event dial "), 2);
	assert_int_equal(h_wait_log(&rig, "call to " MIKKO ": answered", 3000), 0);
	/* both answers without the call were given, to rinkid's polls after the late ^CEND */
	assert_int_equal(h_count_events(&rig.modem, "event clcc-late " MIKKO), 2);
}

/*
 * Field report: the terminal rebooted silently mid-call (no banner, no +CTCR) and came
 * back in its power-up state (echo on, first command refused with +CME ERROR: 35).
 * rinkid must notice it from its liveness probe, end the incident as radio_lost, run the
 * whole init again (ATE0 and the service profile), and take the officer's retry, which
 * comes with the same call identifier, as a new incident.
 */
static void test_silent_radio_reboot_mid_call(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	struct logged l;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	assert_int_equal(h_start_rinkid(&rig, "radio.probe_idle 1"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001 cci=1"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	read_incident(&l);
	int64_t first = newest_id;
	assert_int_equal(l.ended, 0);
	/* silent for 2.5 s, then back in the power-up state */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "reboot-silent 2.5"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "event power-up", 5000), 0);
	assert_int_equal(h_wait_log(&rig, "terminal back in its power-up state", 8000), 0);
	/* the whole init again: echo off, the service profile */
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATE0", 8000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "AT+CTSP=", 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=radio_lost", NULL), 0);
	read_incident_id(&l, first);
	assert_string_equal(l.outcome, "radio_lost");
	assert_int_equal(h_wait_event(&rig.modem, &mp, "AT+CHUP", 3000), 0);
	/* the officer calls again: same call identifier, a new incident, paged at once */
	assert_int_equal(h_wait_ev_count(&rig, 2, 5000, "device", "device=radio", "up=true", NULL),
			 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001 cci=1"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	/* the page leaves before the incident is written (#13): wait for the rest of the start */
	assert_int_equal(h_wait_ev_count(&rig, 2, 5000, "incident", NULL), 0);
	read_incident(&l);
	assert_true(newest_id > first);
	assert_int_equal(l.ended, 0);
	assert_string_equal(l.outcome, "");
}

/* Byte offset in rinkid's event stream of the first line holding needle, or -1. */
static long ev_offset(const char *needle)
{
	static char buf[65536];
	FILE *f = fopen(rig.events, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strstr(buf, needle);
	return p ? (long)(p - buf) : -1;
}

/*
 * Wait until rinkid has the answer to AT+COPS?, the last command the modem's start queues
 * (the init, AT+CMGL=4, then the first health poll: AT+CPIN?, AT+CREG?, AT+CSQ, AT+COPS?):
 * rinkictl status shows the operator it names. With modem.probe_idle and
 * modem.health_interval far beyond the test, rinkid then writes nothing to the modem until
 * something happens. 0, or -1 when it did not come within H_WAIT_MIN_MS.
 */
static int wait_modem_idle(void)
{
	char bin[256], sock[160], out[200], text[4096];
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(sock, sizeof(sock), "%s/ctl.sock", rig.dir);
	snprintf(out, sizeof(out), "%s/status.out", rig.dir);
	char *argv[] = {bin, "-s", sock, "status", "--json", NULL};
	for (int i = 0; i < H_WAIT_MIN_MS / 50; i++) {
		remove(out);
		if (h_run(argv, out) == 0) {
			FILE *f = fopen(out, "r");
			size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
			if (f)
				fclose(f);
			text[n] = '\0';
			if (strstr(text, "\"operator\":\"Elisa\""))
				return 0;
		}
		h_pump(&rig, 50);
	}
	fprintf(stderr, "wait_modem_idle: the modem's first health poll did not end\n");
	return -1;
}

static void test_officer_hangs_up_while_paging(void **state)
{
	(void)state;
	size_t mp = 0;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	assert_int_equal(h_start_rinkid(&rig, "modem.probe_idle 600\nmodem.health_interval 3600"),
			 0);
	/* the order of page_sent and radio_call below holds for a call that finds the modem's
	   line free: a command in flight (the start's, above) holds the ATD back until its
	   answer (test_modem's test_dial_sent_when_written), and the call is reported meanwhile */
	assert_int_equal(wait_modem_idle(), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 13"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "AT+CHUP", 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=abandoned", "cause=13", NULL),
	    0);
	struct logged l;
	read_incident(&l);
	assert_string_equal(l.outcome, "abandoned");
	assert_int_equal(l.cause, 13);
	/* nobody else is paged after the officer left */
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_count_events(&rig.modem, "ATD" MIKKO), 0);
	/* the incident has ended (above), so no timer of it is left to page: one page in all */
	assert_int_equal(h_ev_count(&rig, "page_sent", NULL), 1);
	assert_int_equal(h_ev_count(&rig, "fsm_end", "fsm=call", NULL), 1);
	/* nothing is written before the ATD: the call is reported after its page (rinkid(8)) */
	long sent = ev_offset("\"type\":\"page_sent\"");
	long incoming = ev_offset("\"type\":\"radio_call\",\"event\":\"incoming\"");
	assert_true(sent >= 0 && incoming >= 0);
	assert_true(sent < incoming);
}

static void test_monitored_group_logged_not_paged(void **state)
{
	(void)state;
	char reply[128];
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	assert_int_equal(h_start_rinkid(&rig, "radio.monitor_gssi 9001, 9002\n"
					      "sds.status.0x8002 Paikalla\n"
					      "sds.status.32771 Matkalla"),
			 0);
	assert_int_equal(h_wait_log(&rig, "monitoring group calls on 9001,9002", 3000), 0);
	/* the group call on 9001 (GTSI form): caller, a second talker, the caller again */
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "group 2269001 02440000100009001"),
			 0);
	int cci = 0;
	assert_int_equal(sscanf(reply, "ok cci=%d", &cci), 1);
	assert_int_equal(h_wait_log(&rig, "on monitored group 9001 from 2269001", 3000), 0);
	h_pump(&rig, 300);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "talker %d 2269002", cci), 0);
	h_pump(&rig, 300);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "cease %d", cci), 0);
	h_pump(&rig, 100);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "talker %d 2269001", cci), 0);
	h_pump(&rig, 200);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	assert_int_equal(h_wait_log(&rig, "group_call: gssi 9001", 3000), 0);
	/* nobody was paged, no incident was opened */
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_count_events(&rig.modem, "ATD"), 0);
	assert_int_equal(h_log_count(&rig, "ATA"), 0);
	/* the stream saw the call come and go, and no incident or page for it */
	assert_int_equal(h_ev_count(&rig, "radio_call", "event=incoming", "caller=2269001", NULL),
			 1);
	assert_int_equal(h_ev_count(&rig, "radio_call", "event=released", NULL), 1);
	assert_int_equal(h_ev_count(&rig, "incident", NULL), 0);
	assert_int_equal(h_ev_count(&rig, "page_sent", NULL), 0);

	/* a group call on a group not monitored goes to the call manager as before (which
	   pages individual calls only): not monitored, not logged as a group call */
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "group 2269001 9003"), 0);
	assert_int_equal(sscanf(reply, "ok cci=%d", &cci), 1);
	assert_int_equal(h_wait_log(&rig, "is not an individual speech call", 3000), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_log_count(&rig, "group_call:"), 1);

	/* statuses: configured (hex and decimal keys) and built-in meanings */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-status 2269001 8002"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-status 2269001 8003"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-status 2269001 8004"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-status 2269001 0"), 0);
	assert_int_equal(h_wait_log(&rig, "status 0x8002 (Paikalla) from 2269001", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "status 0x8003 (Matkalla) from 2269001", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "status 0x8004 (user-defined status)", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "status 0x0000 (emergency)", 3000), 0);

	/* the call log: three spurts and the call, as system events */
	struct gw_db *db;
	struct sysev s = {0};
	int incidents = 0;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_true(gw_db_system_event_list(db, sys_cb, &s) >= 0);
	assert_int_equal(gw_db_incident_list(db, 10, count_cb, &incidents), 0);
	int64_t bad = -1;
	assert_int_equal(gw_db_log_verify(db, &bad), 0);
	gw_db_close(db);
	assert_int_equal(s.n, 4);
	static const char *const who[] = {"2269001", "2269002", "2269001"};
	static const long min_ms[] = {250, 250, 150};
	for (int i = 0; i < 3; i++) {
		assert_string_equal(s.kind[i], "group_talk");
		assert_int_equal(field(s.detail[i], "gssi"), 9001);
		assert_non_null(strstr(s.detail[i], who[i]));
		assert_true(field(s.detail[i], "ms") >= min_ms[i]);
		assert_true(field(s.detail[i], "ms") < 3000);
		if (i)
			assert_true(s.t[i] >= s.t[i - 1] + min_ms[i - 1]);
	}
	assert_string_equal(s.kind[3], "group_call");
	assert_int_equal(field(s.detail[3], "gssi"), 9001);
	assert_non_null(strstr(s.detail[3], "caller 2269001"));
	assert_int_equal(field(s.detail[3], "talks"), 3);
	assert_int_equal(field(s.detail[3], "cause"), 1);
	assert_true(field(s.detail[3], "ms") >= 850);
	assert_true(s.t[3] <= s.t[0]); /* the call row carries the call's start */
}

/* Decoded text of the newest "event sms-out" (as its recipient reads it). */
static void last_sms_text(char *out, size_t len)
{
	const char *ev = NULL, *p = rig.modem.events;
	while ((p = strstr(p, "event sms-out")) != NULL)
		ev = p++;
	assert_non_null(ev);
	char hex[1024], deliver[1024], err[128];
	assert_int_equal(sscanf(ev, "event sms-out %*s %*s %1023s", hex), 1);
	static const uint8_t scts[7] = {0x62, 0x11, 0x52, 0x21, 0x00, 0x00, 0x80};
	static struct gw_sms_msg m;
	assert_true(gw_sms_submit_to_deliver(hex, "+358401234567", scts, deliver, sizeof(deliver),
					     err, sizeof(err)) > 0);
	assert_int_equal(gw_sms_decode(deliver, &m, err, sizeof(err)), GW_SMS_DELIVER);
	snprintf(out, len, "%s", m.text);
}

/* An SMS from number with text arrives at the modem. */
static void sms_from(const char *number, const char *text)
{
	static const uint8_t scts[7] = {0x62, 0x11, 0x52, 0x21, 0x00, 0x00, 0x80};
	struct gw_sms_submit sub;
	struct gw_sms_pdu pdu;
	char deliver[1024], err[128];
	gw_sms_submit_defaults(&sub);
	sub.to = "+358409999999";
	sub.text = text;
	assert_int_equal(gw_sms_encode(&sub, &pdu, 1, err, sizeof(err)), 1);
	assert_true(gw_sms_submit_to_deliver(pdu.hex, number, scts, deliver, sizeof(deliver), err,
					     sizeof(err)) > 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "sms-in %s", deliver), 0);
}

/*
 * The SMS page's code: a wrong or foreign code is answered or dropped, the right one accepts.
 * Aino's phone rings until the test has her answer (answer-out), not for a set time: the
 * replies must all come while it rings, however slow the machine.
 */
static void test_sms_code_accept(void **state)
{
	(void)state;
	size_t mp = 0;
	char text[400], reply[16];
	int code;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s noanswer", AINO), 0);
	assert_int_equal(h_start_rinkid(&rig, "call.ring_time 60"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 3000), 0);
	last_sms_text(text, sizeof(text));
	const char *p = strstr(text, "vastaa tähän ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "vastaa tähän %da.", &code), 1);
	/* Mikko (in the roster) with Aino's code: told it is unknown for him */
	snprintf(reply, sizeof(reply), "%da", code);
	sms_from(MIKKO, reply);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 3000), 0);
	last_sms_text(text, sizeof(text));
	assert_non_null(strstr(text, "ei tunneta"));
	/* a number not in the roster: logged, no answer */
	sms_from("+358409876543", reply);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "kind=ack_rejected",
					     "detail~from +358409876543: not in the roster", NULL),
			 0);
	/* Aino with her code: she takes the call, bridged when she answers */
	sms_from(AINO, reply);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "kind=sms_accept",
					     "detail=aino", NULL),
			 0);
	/* "call me": she is told the gateway calls her */
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 3000), 0);
	last_sms_text(text, sizeof(text));
	assert_non_null(strstr(text, "Soitamme sinulle nyt"));
	/* her phone still rings: she answers, and is bridged without the announcement */
	assert_int_equal(h_ev_count(&rig, "incident_event", "kind=phone_answered", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "answer-out"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "kind=accepted",
					     "detail=aino by SMS, then answered", NULL),
			 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 6000, "incident_event", "kind=bridged", "detail=aino", NULL),
	    0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=completed",
					     "accepted_by=aino", NULL),
			 0);
	/* her code is spent with the call: a late reply is told so */
	size_t before = (size_t)h_count_events(&rig.modem, "event sms-out");
	sms_from(AINO, reply);
	assert_int_equal(h_wait_log(&rig, "(aino): expired, told so", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 3000), 0);
	assert_int_equal((size_t)h_count_events(&rig.modem, "event sms-out"), before + 1);
	struct logged l;
	read_incident(&l);
	assert_string_equal(l.accepted, "aino");
	assert_non_null(strstr(l.kinds, "ack_code,"));
	/* in this order (phone_alerting may come between them, as the machine is loaded) */
	const char *rej = strstr(l.kinds, "ack_rejected,");
	assert_non_null(rej);
	assert_non_null(strstr(rej, "sms_accept,"));
}

/* Calls to the gateway's phone number are hung up: strangers and roster workers alike. */
static void test_incoming_call_rejected(void **state)
{
	(void)state;
	size_t mp = 0;
	assert_int_equal(h_start_rinkid(&rig, NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring +358409876543"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "from +358409876543, not in the roster: rejected", 3000),
			 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "from Aino Virtanen (" AINO "): no call-back", 3000), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring withheld"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "from a withheld number, not in the roster", 3000), 0);
	/* the modem is free again: a page goes out as usual */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_demo_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nobody_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_officer_hangs_up_while_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silent_radio_reboot_mid_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_call_end_does_not_skip_next_worker,
					    setup_huawei, teardown),
	    cmocka_unit_test_setup_teardown(test_monitored_group_logged_not_paged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_code_accept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_incoming_call_rejected, setup, teardown),
	};
	return cmocka_run_group_tests_name("integration: call flow", tests, NULL, NULL);
}
