/*
 * Unit tests for gateway/call.c: the incident FSM driven with fake radio and
 * phone legs, a frozen clock and a real database in a temporary directory.
 * The trace of leg actions is the behaviour under test.
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

#include "service/call.h"
#include "store/db.h"
#include "store/roster.h"

/* 2026-11-25T12:00:00Z */
#define T0_WALL 1795608000000LL

static const char roster_csv[] =
    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
    "worker,aino,Aino Virtanen,+358401234567,\n"
    "worker,mikko,Mikko Korhonen,+358401234568,\n"
    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
    "shift,sos,mikko,2026-11-25T00:00Z,2026-11-26T00:00Z,2\n"
    "route,sos,,0\n"
    "directory,2269001,\"Poliisi, Mikkeli\"\n";

struct fx {
	char dir[64], path[128];
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_db *db;
	struct gw_roster *roster;
	struct gw_calls *calls;
	char trace[2048];
};

static void tr(struct fx *f, const char *s)
{
	strncat(f->trace, s, sizeof(f->trace) - strlen(f->trace) - 1);
	strncat(f->trace, ";", sizeof(f->trace) - strlen(f->trace) - 1);
}

static int op_answer(void *arg, int cci)
{
	char b[32];
	snprintf(b, sizeof(b), "ATA %d", cci);
	tr(arg, b);
	return 0;
}
static int op_hangup_radio(void *arg, int cci)
{
	char b[32];
	snprintf(b, sizeof(b), "ATH %d", cci);
	tr(arg, b);
	return 0;
}
static int op_dial(void *arg, const char *number)
{
	char b[64];
	snprintf(b, sizeof(b), "ATD %s", number);
	tr(arg, b);
	return 0;
}
static int op_hangup_phone(void *arg)
{
	tr(arg, "CHUP");
	return 0;
}
static int op_reject(void *arg)
{
	tr(arg, "REJECT");
	return 0;
}
static char last_sms[320], last_sds[320];
static int op_sms(void *arg, const char *number, const char *text)
{
	char b[64];
	snprintf(b, sizeof(b), "SMS %s", number);
	tr(arg, b);
	snprintf(last_sms, sizeof(last_sms), "%s", text);
	return 0;
}
static int op_sds(void *arg, const char *issi, const char *text)
{
	char b[64];
	snprintf(b, sizeof(b), "SDS %s", issi);
	tr(arg, b);
	snprintf(last_sds, sizeof(last_sds), "%s", text);
	return 0;
}

static char last_announce[64];
static int announces;
static void op_announce(void *arg, const char *org)
{
	(void)arg;
	announces++;
	snprintf(last_announce, sizeof(last_announce), "%s", org ? org : "(none)");
}

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/rinki-call-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/rinki.db", f.dir);
	assert_int_equal(gw_db_open(f.path, &f.db), 0);
	struct gw_db_roster r;
	assert_int_equal(
	    gw_roster_parse_csv("test.csv", roster_csv, strlen(roster_csv), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f.db, &r), 0);
	gw_db_roster_clear(&r);
	assert_int_equal(gw_roster_load(f.db, &f.roster), 0);

	f.loop = gw_loop_new();
	gw_loop_clock_override(f.loop, 5000, T0_WALL);
	gw_conf_defaults(&f.conf);
	f.conf.ring_time_s = 25;
	f.conf.rounds = 2;
	struct gw_call_ops ops = {.radio_answer = op_answer,
				  .radio_hangup = op_hangup_radio,
				  .phone_dial = op_dial,
				  .phone_hangup = op_hangup_phone,
				  .phone_sms = op_sms,
				  .phone_reject = op_reject,
				  .radio_sds = op_sds,
				  .announce = op_announce,
				  .arg = &f};
	announces = 0;
	last_announce[0] = 0;
	assert_int_equal(gw_calls_new(f.loop, &f.conf, f.db, &ops, &f.calls), 0);
	gw_calls_set_roster(f.calls, f.roster);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[160];
	gw_calls_free(f->calls);
	gw_roster_free(f->roster);
	gw_db_close(f->db);
	gw_loop_free(f->loop);
	snprintf(p, sizeof(p), "%s/rinki.db", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/rinki.db-wal", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/rinki.db-shm", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/rinki.db.key", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/rinki.db.anchor", f->dir);
	unlink(p);
	assert_int_equal(rmdir(f->dir), 0);
	return 0;
}

static void incoming(struct fx *f, int cci, const char *from)
{
	struct gw_pei_call_in in = {.cci = cci, .hook = 0, .simplex = 0, .comms_type = 0};
	snprintf(in.calling, sizeof(in.calling), "%s", from);
	gw_calls_radio_incoming(f->calls, &in);
	gw_calls_phone_dial_acked(f->calls); /* the modem answers the ATD: the start goes on */
}

/* Collected from the call log of one incident. */
struct logged {
	char outcome[32], accepted[32], line[16], name[64];
	int cause, has_cause, ended;
	char kinds[512];
	char pages[512]; /* the details of the "page" events, each followed by ';' */
};
static void inc_cb(const struct gw_db_incident *inc, void *arg)
{
	struct logged *l = arg;
	snprintf(l->outcome, sizeof(l->outcome), "%s", inc->outcome ? inc->outcome : "");
	snprintf(l->accepted, sizeof(l->accepted), "%s", inc->accepted_by ? inc->accepted_by : "");
	snprintf(l->line, sizeof(l->line), "%s", inc->line ? inc->line : "");
	snprintf(l->name, sizeof(l->name), "%s", inc->caller_name ? inc->caller_name : "");
	l->cause = inc->cause;
	l->has_cause = inc->has_cause;
	l->ended = inc->ended;
}
static void ev_cb(const struct gw_db_event *ev, void *arg)
{
	struct logged *l = arg;
	strncat(l->kinds, ev->kind, sizeof(l->kinds) - strlen(l->kinds) - 2);
	strcat(l->kinds, ",");
	if (strcmp(ev->kind, "page") == 0 && ev->detail &&
	    strlen(l->pages) + strlen(ev->detail) + 2 < sizeof(l->pages)) {
		strcat(l->pages, ev->detail);
		strcat(l->pages, ";");
	}
}
static void read_log(struct fx *f, struct logged *l)
{
	memset(l, 0, sizeof(*l));
	int64_t id = gw_calls_last_id(f->calls);
	assert_true(id > 0);
	assert_int_equal(gw_db_incident_get(f->db, id, inc_cb, l), 0);
	assert_true(gw_db_event_list(f->db, id, ev_cb, l) > 0);
}

static void test_answered_then_radio_releases(void **state)
{
	struct fx *f = *state;
	incoming(f, 1, "2269001");
	/* ATD goes out before ATA: paging is never delayed by the radio leg */
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 1;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	/* first worker: no answer within the ring time */
	gw_loop_clock_advance(f->loop, 24999);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 1;");
	gw_loop_clock_advance(f->loop, 1);
	assert_string_equal(f->trace,
			    "ATD +358401234567;SMS +358401234567;ATA 1;CHUP;ATD +358401234568;");
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ALERTING);
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	/* answered is not accepted: the worker must press 4 */
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	gw_calls_phone_dtmf(f->calls, '7');
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	gw_calls_phone_dtmf(f->calls, '4');
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
	/* the ring timer no longer runs once bridged */
	gw_loop_clock_advance(f->loop, 60000);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
	gw_calls_radio_released(f->calls, 1, 1);
	assert_string_equal(
	    f->trace, "ATD +358401234567;SMS +358401234567;ATA 1;CHUP;ATD +358401234568;CHUP;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);

	struct logged l;
	read_log(f, &l);
	assert_true(l.ended);
	assert_string_equal(l.outcome, "completed");
	assert_string_equal(l.accepted, "mikko");
	assert_string_equal(l.line, "sos");
	assert_string_equal(l.name, "Poliisi, Mikkeli");
	assert_true(l.has_cause);
	assert_int_equal(l.cause, 1);
	assert_string_equal(l.kinds,
			    "open,page,ack_code,sms,ring_timeout,page,phone_alerting,"
			    "phone_answered,dtmf,dtmf,accepted,bridged,radio_released,close,");
	assert_non_null(strstr(last_sms, "VIRVE-puhelu: Poliisi, Mikkeli (2269001)"));
}

static void test_nobody_answers(void **state)
{
	struct fx *f = *state;
	incoming(f, 3, "2269001");
	/* busy, then ring time out, for two rounds */
	gw_calls_phone_ended(f->calls, GW_MODEM_END_BUSY);
	gw_loop_clock_advance(f->loop, 25000);
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_ANSWER);
	gw_loop_clock_advance(f->loop, 25000);
	assert_string_equal(
	    f->trace,
	    "ATD +358401234567;SMS +358401234567;ATA 3;ATD +358401234568;CHUP;"
	    "ATD +358401234567;ATD +358401234568;CHUP;SDS 2269001;SMS +358401234567;ATH 3;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "unanswered");
	assert_string_equal(l.accepted, "");
	assert_non_null(strstr(l.kinds, "unreached,sds,sms,close,"));
	/* the officer is told in Finnish, with the line's Finnish name */
	assert_string_equal(last_sds, "Sosiaali- ja kriisipäivystys: päivystäjää ei tavoitettu. "
				      "Yritä uudelleen hetken kuluttua.");
	assert_non_null(strstr(last_sms, "Vastaamaton VIRVE-puhelu"));
}

/* Nobody on duty and no fallback: the officer is told, the call released, the incident
   closed "unstaffed"; no chain step is looked at (there is none: UBSan checks the index). */
static void test_unstaffed_line(void **state)
{
	struct fx *f = *state;
	gw_loop_clock_advance(f->loop, 2 * 86400000LL); /* the roster's shifts are over */
	incoming(f, 3, "2269001");
	assert_string_equal(f->trace, "ATA 3;SDS 2269001;ATH 3;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "unstaffed");
	assert_non_null(strstr(l.kinds, "unstaffed,"));
}

static void test_officer_hangs_up_while_paging(void **state)
{
	struct fx *f = *state;
	incoming(f, 2, "2269001");
	gw_calls_radio_connected(f->calls, 2);
	gw_calls_radio_released(f->calls, 2, 13);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 2;CHUP;");
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "abandoned");
	assert_int_equal(l.cause, 13);
	/* a later ring timer must not fire for a closed incident */
	gw_loop_clock_advance(f->loop, 60000);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 2;CHUP;");
}

static void test_rejects_undeclared_event(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_calls_dispatch(f->calls, GW_CALL_EV_PHONE_ANSWERED, NULL), -ENOENT);
	incoming(f, 4, "2269001");
	char d = '4';
	/* DTMF is not declared while paging */
	assert_int_equal(gw_calls_dispatch(f->calls, GW_CALL_EV_DTMF, &d), -EPERM);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	/* START only in NEW */
	assert_int_equal(gw_calls_dispatch(f->calls, GW_CALL_EV_START, NULL), -EPERM);
	/* a release for another cci does not touch this incident */
	gw_calls_radio_released(f->calls, 9, 1);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
}

static void test_phone_hangs_up_when_bridged(void **state)
{
	struct fx *f = *state;
	incoming(f, 5, "2269001");
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	gw_calls_phone_dtmf(f->calls, '4');
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_CARRIER);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 5;ATH 5;");
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "completed");
	assert_string_equal(l.accepted, "aino");
	assert_false(l.has_cause);
}

static void test_own_hangup_is_not_news(void **state)
{
	struct fx *f = *state;
	incoming(f, 6, "2269001");
	/* the modem reports our own hang-up: it must not advance the chain */
	gw_calls_phone_ended(f->calls, GW_MODEM_END_LOCAL);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 6;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
}

static void test_voicemail_guard(void **state)
{
	struct fx *f = *state;
	f->conf.rounds = 1;
	incoming(f, 7, "2269001");
	/* Aino's voicemail answers: no key within the accept time */
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	gw_loop_clock_advance(f->loop, 19999);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	gw_loop_clock_advance(f->loop, 1);
	assert_string_equal(f->trace,
			    "ATD +358401234567;SMS +358401234567;ATA 7;CHUP;ATD +358401234568;");
	/* Mikko answers and passes with 5 */
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	gw_calls_phone_dtmf(f->calls, '*'); /* repeat: restarts the accept time */
	gw_loop_clock_advance(f->loop, 15000);
	gw_calls_phone_dtmf(f->calls, '5');
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 7;CHUP;ATD "
				      "+358401234568;CHUP;SDS 2269001;SMS +358401234567;ATH 7;");
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "unanswered");
	assert_non_null(strstr(l.kinds, "phone_answered,accept_timeout,page,"));
	assert_non_null(strstr(l.kinds, "dtmf,dtmf,declined,unreached,sds,sms,close,"));
}

static void test_answer_on_accept_policy(void **state)
{
	struct fx *f = *state;
	f->conf.radio_answer = GW_RADIO_ANSWER_ON_ACCEPT;
	incoming(f, 8, "2269001");
	/* the radio leg is answered only when a worker accepted */
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;");
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;");
	gw_calls_phone_dtmf(f->calls, '4');
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 8;");
}

/* The modem's report and the in-band detector's of one key press are one key. */
static void test_key_from_both_sources_is_one_press(void **state)
{
	struct fx *f = *state;
	struct logged l;
	incoming(f, 3, "2269001");
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	gw_calls_phone_key(f->calls, '7', GW_DTMF_SRC_MODEM);
	gw_loop_clock_advance(f->loop, GW_DTMF_DEDUP_MS);
	gw_calls_phone_key(f->calls, '7', GW_DTMF_SRC_INBAND); /* same press */
	gw_loop_clock_advance(f->loop, 100);
	gw_calls_phone_key(f->calls, '7', GW_DTMF_SRC_INBAND); /* a second press */
	gw_loop_clock_advance(f->loop, GW_DTMF_DEDUP_MS + 1);
	gw_calls_phone_key(f->calls, '7', GW_DTMF_SRC_MODEM); /* too late: a third */
	gw_loop_clock_advance(f->loop, 1000);
	gw_calls_phone_key(f->calls, '4', GW_DTMF_SRC_INBAND);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
	gw_calls_phone_key(f->calls, '4', GW_DTMF_SRC_MODEM); /* same press: not logged */
	gw_calls_radio_released(f->calls, 3, 1);
	read_log(f, &l);
	assert_non_null(strstr(l.kinds, "phone_answered,dtmf,dtmf,dtmf,dtmf,accepted,bridged,"
					"radio_released,"));
}

/* The announcement is asked for on answering and again on '*', naming the organisation. */
static void test_announce_on_answer_and_star(void **state)
{
	struct fx *f = *state;
	incoming(f, 4, "2269001");
	assert_int_equal(announces, 0);
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(announces, 1);
	assert_string_equal(last_announce, "Poliisi, Mikkeli");
	gw_calls_phone_dtmf(f->calls, '7');
	assert_int_equal(announces, 1);
	gw_calls_phone_dtmf(f->calls, '*');
	assert_int_equal(announces, 2);
	gw_calls_phone_dtmf(f->calls, '4');
	assert_int_equal(announces, 2);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
}

static int page_code(void);
/* "<code>a" for the last SMS page, as a worker replies to it. */
static const char *page_reply(void)
{
	static char reply[16];
	snprintf(reply, sizeof(reply), "%da", page_code());
	return reply;
}

static void test_sms_accept_while_ringing(void **state)
{
	struct fx *f = *state;
	incoming(f, 9, "2269001");
	/* Aino's phone rings; she answers the SMS page with its code */
	assert_int_equal(gw_calls_phone_sms(f->calls, "0401234567", page_reply()), 1);
	/* the answer then bridges without asking for 4 */
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
	struct logged l;
	gw_calls_radio_released(f->calls, 9, 1);
	read_log(f, &l);
	assert_string_equal(l.accepted, "aino");
	assert_non_null(strstr(l.kinds, "sms_accept,sms,phone_answered,accepted,bridged,"));
	/* she was told the gateway calls her, without asking for 4 */
	assert_string_equal(last_sms, "Otit puhelun. Soitamme sinulle nyt: vastaa puheluun.");
}

/*
 * An SMS accept means "I take it, call me": escalation stops at that worker. A missed call
 * to them is redialled call.accept_retries times; only then does the chain go on, with an
 * accept_lapsed event and the worker told. Their answer is bridged without the
 * announcement.
 */
static void test_sms_accept_call_me(void **state)
{
	struct fx *f = *state;
	f->conf.accept_retries = 2;
	incoming(f, 9, "2269001");
	assert_int_equal(gw_calls_phone_sms(f->calls, "0401234567", page_reply()), 1);
	f->trace[0] = '\0';
	/* her phone rings out: called again, twice, never Mikko meanwhile */
	gw_loop_clock_advance(f->loop, 25000);
	assert_string_equal(f->trace, "CHUP;ATD +358401234567;");
	gw_calls_phone_ended(f->calls, GW_MODEM_END_BUSY);
	assert_string_equal(f->trace, "CHUP;ATD +358401234567;ATD +358401234567;");
	/* the third miss: the accept lapses, she is told, Mikko is paged */
	gw_loop_clock_advance(f->loop, 25000);
	assert_string_equal(f->trace, "CHUP;ATD +358401234567;ATD +358401234567;CHUP;"
				      "SMS +358401234567;ATD +358401234568;");
	assert_string_equal(last_sms, "Emme tavoittaneet sinua kuittauksesi jälkeen: puhelu "
				      "(Sosiaali- ja kriisipäivystys) siirtyi seuraavalle "
				      "päivystäjälle.");
	/* Mikko answers and is asked for 4 as usual */
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	gw_calls_phone_dtmf(f->calls, '4');
	gw_calls_radio_released(f->calls, 9, 1);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.accepted, "mikko");
	assert_non_null(strstr(l.kinds, "ring_timeout,accept_redial,phone_ended,accept_redial,"
					"ring_timeout,accept_lapsed,sms,page,"));

	/* again, and she answers the first redial: bridged at once, no announcement */
	incoming(f, 10, "2269001");
	assert_int_equal(gw_calls_phone_sms(f->calls, "0401234567", page_reply()), 1);
	gw_loop_clock_advance(f->loop, 25000);
	int before = announces;
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
	assert_int_equal(announces, before);
	gw_calls_radio_released(f->calls, 10, 1);
	read_log(f, &l);
	assert_string_equal(l.accepted, "aino");
	assert_non_null(strstr(l.kinds, "accept_redial,phone_answered,accepted,bridged,"));

	/* with call.accept_retries 0 the chain goes on at the first miss, still logged */
	f->conf.accept_retries = 0;
	incoming(f, 11, "2269001");
	assert_int_equal(gw_calls_phone_sms(f->calls, "0401234567", page_reply()), 1);
	f->trace[0] = '\0';
	gw_loop_clock_advance(f->loop, 25000);
	assert_string_equal(f->trace, "CHUP;SMS +358401234567;ATD +358401234568;");
	gw_calls_radio_released(f->calls, 11, 1);
	read_log(f, &l);
	assert_non_null(strstr(l.kinds, "ring_timeout,accept_lapsed,sms,page,"));
}

static void test_sms_accept_by_earlier_worker(void **state)
{
	struct fx *f = *state;
	incoming(f, 10, "2269001");
	char reply[16];
	snprintf(reply, sizeof(reply), "%d kuittaus", page_code());
	gw_loop_clock_advance(f->loop, 25000); /* Aino did not answer: Mikko is dialled */
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 10;CHUP;"
				      "ATD +358401234568;");
	/* now Aino replies "37 kuittaus": Mikko's call is dropped, Aino is dialled */
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234567", reply), 1);
	assert_string_equal(f->trace,
			    "ATD +358401234567;SMS +358401234567;ATA 10;CHUP;"
			    "ATD +358401234568;CHUP;ATD +358401234567;SMS +358401234567;");
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
}

static void test_sms_not_an_accept(void **state)
{
	struct fx *f = *state;
	/* no live call: not consumed (the relay may take it) */
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234567", "4"), 0);
	incoming(f, 11, "2269001");
	char reply[16];
	snprintf(reply, sizeof(reply), "%s", page_reply());
	/* not a code; a code from someone not paged yet (Mikko is second) */
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234567", "tulossa"), 0);
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234568", "4"), 0);
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358409999999", "ok"), 0);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	/* in ANNOUNCE an accept by SMS from the same worker bridges at once */
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234567", reply), 1);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
}

static void test_parse_sms_reply(void **state)
{
	(void)state;
	int code = -1;
	assert_int_equal(gw_call_parse_sms_reply(" Kuittaus! ", &code), GW_CALL_REPLY_ACCEPT);
	assert_int_equal(gw_call_parse_sms_reply("4", &code), GW_CALL_REPLY_ACCEPT);
	assert_int_equal(gw_call_parse_sms_reply("37a", &code), GW_CALL_REPLY_CODE);
	assert_int_equal(code, 37);
	assert_int_equal(gw_call_parse_sms_reply(" 05 OK.", &code), GW_CALL_REPLY_CODE);
	assert_int_equal(code, 5);
	assert_int_equal(gw_call_parse_sms_reply("42", &code), GW_CALL_REPLY_CODE);
	assert_int_equal(gw_call_parse_sms_reply("42 4", &code), GW_CALL_REPLY_CODE);
	assert_int_equal(gw_call_parse_sms_reply("11 kuittaus", &code), GW_CALL_REPLY_CODE);
	assert_int_equal(code, 11);
	static const char *const none[] = {"",		 "3",	"374",	"424",	 "37b",
					   "37 tulossa", "a37", "37aa", "ok 37", "1 2"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(gw_call_parse_sms_reply(none[i], &code), GW_CALL_REPLY_NONE);
}

/* The code of the last SMS page ("... vastaa tähän 37a."), or -1. */
static int page_code(void)
{
	const char *p = strstr(last_sms, "vastaa tähän ");
	int code;
	return p && sscanf(p, "vastaa tähän %da.", &code) == 1 ? code : -1;
}

static void test_sms_code_accept(void **state)
{
	struct fx *f = *state;
	incoming(f, 20, "2269001");
	int code = page_code();
	assert_true(code >= 10 && code <= 99);
	char reply[16];
	snprintf(reply, sizeof(reply), "%da", code);
	/* another roster worker with Aino's code: unknown for that phone, told so */
	f->trace[0] = '\0';
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234568", reply), 1);
	assert_string_equal(f->trace, "SMS +358401234568;");
	assert_non_null(strstr(last_sms, "ei tunneta"));
	/* a number not in the roster: rejected, logged, no reply */
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358409999999", reply), 1);
	assert_string_equal(f->trace, "SMS +358401234568;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	/* Aino with her code, in another form: she takes the call */
	snprintf(reply, sizeof(reply), "%d ok", code);
	assert_int_equal(gw_calls_phone_sms(f->calls, "0401234567", reply), 1);
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
	gw_calls_radio_released(f->calls, 20, 1);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.accepted, "aino");
	assert_non_null(
	    strstr(l.kinds, "ack_code,sms,ack_rejected,sms_accept,sms,phone_answered,"));
	/* the call is over: the code is spent, and a late reply is told so */
	f->trace[0] = '\0';
	assert_int_equal(gw_calls_phone_sms(f->calls, "0401234567", reply), 1);
	assert_string_equal(f->trace, "SMS 0401234567;");
	assert_non_null(strstr(last_sms, "vanhentunut"));
	/* the next incident's code is another one */
	incoming(f, 21, "2269001");
	assert_int_not_equal(page_code(), code);
	assert_true(page_code() >= 10);
}

static void test_sms_code_expires(void **state)
{
	struct fx *f = *state;
	f->conf.ack_code_ttl_s = 60;
	incoming(f, 22, "2269001");
	int code = page_code();
	char reply[16];
	snprintf(reply, sizeof(reply), "%da", code);
	/* round 2 pages Aino again at 50 s; at 61 s her code is no longer valid */
	gw_loop_clock_advance(f->loop, 60999);
	gw_loop_clock_advance(f->loop, 1);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	f->trace[0] = '\0';
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234567", reply), 1);
	assert_string_equal(f->trace, "SMS +358401234567;");
	assert_non_null(strstr(last_sms, "vanhentunut"));
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	/* a bare accept is no way round it: she is told to use the code */
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234567", "ok"), 1);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	gw_calls_radio_released(f->calls, 22, 1);
	struct logged l;
	read_log(f, &l);
	assert_non_null(strstr(l.kinds, "ack_expired,ack_no_code,"));
	assert_null(strstr(l.kinds, "sms_accept"));
}

/*
 * A number is an identity: a sender whose number only ends like a worker's (another
 * country's +46..., an alphanumeric "A401234567", digits with no prefix) is not that
 * worker, whatever it sends, and never takes the call.
 */
static void test_sms_spoofed_sender_never_accepts(void **state)
{
	struct fx *f = *state;
	incoming(f, 23, "2269001");
	int code = page_code();
	char reply[16];
	snprintf(reply, sizeof(reply), "%da", code);
	static const char *const fakes[] = {"+46401234567", "A401234567",     "401234567",
					    "358401234567", "+3584012345670", "+358 40 123 4567"};
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		gw_calls_phone_sms(f->calls, fakes[i], reply);
		gw_calls_phone_sms(f->calls, fakes[i], "ok");
		gw_calls_phone_sms(f->calls, fakes[i], "4");
		assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	}
	/* nothing was accepted: her answering phone (or its voicemail) hears the announcement */
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	/* the phone itself, in national form, with its code: the call is hers */
	assert_int_equal(gw_calls_phone_sms(f->calls, "0401234567", reply), 1);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_BRIDGED);
	gw_calls_radio_released(f->calls, 23, 1);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.accepted, "aino");
	const char *first = strstr(l.kinds, "sms_accept,");
	assert_non_null(first);
	assert_null(strstr(first + 1, "sms_accept,")); /* hers alone */
	assert_true(strstr(l.kinds, "phone_answered,") < first);
}

/* An accept by SMS needs the page's code: a bare "ok" from a paged worker is told so. */
static void test_sms_accept_needs_code(void **state)
{
	struct fx *f = *state;
	incoming(f, 24, "2269001");
	f->trace[0] = '\0';
	static const char *const bare[] = {"ok", "4", "a", "Kuittaus"};
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234567", bare[i]), 1);
		assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	}
	assert_non_null(strstr(f->trace, "SMS +358401234567;"));
	assert_non_null(strstr(last_sms, "koodi"));
	/* from someone not paged: not consumed, no answer */
	f->trace[0] = '\0';
	assert_int_equal(gw_calls_phone_sms(f->calls, "+358401234568", "ok"), 0);
	assert_string_equal(f->trace, "");
	gw_calls_radio_released(f->calls, 24, 1);
	struct logged l;
	read_log(f, &l);
	assert_non_null(strstr(l.kinds, "ack_no_code,"));
}

static void test_incoming_phone_calls_rejected(void **state)
{
	struct fx *f = *state;
	/* not in the roster, withheld, a roster worker with no incident: all hung up */
	assert_int_equal(gw_calls_phone_incoming(f->calls, "+358409876543"), 0);
	assert_int_equal(gw_calls_phone_incoming(f->calls, ""), 0);
	assert_int_equal(gw_calls_phone_incoming(f->calls, "0401234568"), 0);
	assert_string_equal(f->trace, "REJECT;REJECT;REJECT;");
	/* Aino, being paged, calls in: hung up, noted in the incident, paging goes on */
	incoming(f, 30, "2269001");
	f->trace[0] = '\0';
	assert_int_equal(gw_calls_phone_incoming(f->calls, "+358401234567"), 0);
	assert_string_equal(f->trace, "REJECT;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	/* Mikko, not paged yet: hung up, not in this incident's log */
	assert_int_equal(gw_calls_phone_incoming(f->calls, "+358401234568"), 0);
	assert_string_equal(f->trace, "REJECT;REJECT;");
	gw_calls_radio_released(f->calls, 30, 1);
	struct logged l;
	read_log(f, &l);
	assert_non_null(strstr(l.kinds, "sms,call_in,radio_released,"));
}

static void test_phone_cause_logged(void **state)
{
	struct fx *f = *state;
	/* no incident yet: nothing to log it in */
	gw_calls_phone_cause(f->calls, "+358401234567", "User busy");
	incoming(f, 31, "2269001");
	enum gw_modem_end busy = GW_MODEM_END_BUSY;
	gw_calls_phone_ended(f->calls, busy);
	/* Mikko is dialled; then Aino's cause comes, and one for a number not paged */
	gw_calls_phone_cause(f->calls, "0401234567", "User busy");
	gw_calls_phone_cause(f->calls, "+358409876543", "Normal call clearing");
	gw_calls_radio_released(f->calls, 31, 1);
	/* just after the close, Mikko's (the last page's) cause still belongs to it */
	gw_loop_clock_advance(f->loop, 9000);
	gw_calls_phone_cause(f->calls, "+358401234568", "Normal call clearing");
	/* much later it does not */
	gw_loop_clock_advance(f->loop, 2000);
	gw_calls_phone_cause(f->calls, "+358401234568", "Normal call clearing");
	struct logged l;
	read_log(f, &l);
	assert_non_null(strstr(l.kinds, "phone_ended,page,phone_cause,radio_released,close,"
					"phone_cause,"));
	assert_null(strstr(l.kinds, "phone_cause,phone_cause"));
	assert_null(strstr(l.kinds, "close,phone_cause,phone_cause"));
}

/* A line with an explicit chain: per-step ring time, one round, then the fallback. */
static const char chain_csv[] =
    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
    "worker,aino,Aino Virtanen,+358401234567,\n"
    "worker,mikko,Mikko Korhonen,+358401234568,\n"
    "worker,leena,Leena Mäkinen,+358401234569,\n"
    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
    "chain_step,sos,1,oncall,sos,10\n"
    "chain_step,sos,2,person,mikko,15\n"
    "chain,sos,1,leena,30\n"
    "route,sos,,0\n";

static void test_unknown_caller_served_and_flagged(void **state)
{
	struct fx *f = *state;
	incoming(f, 13, "3000123");
	/* not in the directory: paged all the same */
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 13;");
	gw_calls_radio_released(f->calls, 13, 1);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.name, "");
	assert_non_null(strstr(l.kinds, "unknown_caller"));
}

/* A second authority call while one is live: busy entry and SDS, nothing sent to any leg. */
static void test_busy_second_call(void **state)
{
	struct fx *f = *state;
	snprintf(f->conf.busy_fallback, sizeof(f->conf.busy_fallback), "0401234599");
	snprintf(f->conf.busy_text, sizeof(f->conf.busy_text),
		 "Varattu, soita {fallback} / call {fallback}.");
	incoming(f, 1, "2269001");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	f->trace[0] = '\0';
	incoming(f, 2, "3000123");
	assert_string_equal(f->trace, "SDS 3000123;");
	assert_string_equal(last_sds, "Varattu, soita 0401234599 / call 0401234599.");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	assert_int_equal(gw_calls_last_id(f->calls), 1);
	/* the busy caller gives up: logged in the busy entry, the live call untouched */
	gw_calls_radio_released(f->calls, 2, 1);
	assert_string_equal(f->trace, "SDS 3000123;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	struct logged l;
	memset(&l, 0, sizeof(l));
	assert_int_equal(gw_db_incident_get(f->db, 2, inc_cb, &l), 0);
	assert_true(gw_db_event_list(f->db, 2, ev_cb, &l) > 0);
	assert_string_equal(l.outcome, "busy");
	assert_string_equal(l.kinds, "open,busy,unknown_caller,sds,close,radio_released,");
	gw_calls_radio_released(f->calls, 1, 1);
	read_log(f, &l);
	assert_string_equal(l.outcome, "abandoned");
	assert_non_null(strstr(l.kinds, "second_call,"));
	/* without a fallback the built-in text only says to try again, in prompt.language */
	f->conf.busy_fallback[0] = f->conf.busy_text[0] = '\0';
	incoming(f, 3, "2269001");
	incoming(f, 4, "2269002");
	assert_string_equal(last_sds, "rinki varattu, toinen viranomaispuhelu kesken: soita "
				      "hetken päästä uudelleen.");
	snprintf(f->conf.prompt_language, sizeof(f->conf.prompt_language), "sv");
	incoming(f, 5, "2269002");
	assert_string_equal(last_sds,
			    "Upptaget, ett annat myndighetssamtal pågår: ring igen om en stund.");
	snprintf(f->conf.prompt_language, sizeof(f->conf.prompt_language), "en");
	snprintf(f->conf.busy_fallback, sizeof(f->conf.busy_fallback), "0401234599");
	incoming(f, 6, "2269002");
	assert_string_equal(last_sds,
			    "Busy with another authority call: try again or call 0401234599.");
}

/*
 * Texts go in the reader's language: the worker's SMS (page, missed call, code replies) in
 * the roster's language for that worker, the officer's SDS in prompt.language, each with
 * the line's name in that language.
 */
static const char lang_csv[] =
    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
    "worker,aino,Aino Virtanen,+358401234567,,1,sv\n"
    "worker,mikko,Mikko Korhonen,+358401234568,,1,en\n"
    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
    "shift,sos,mikko,2026-11-25T00:00Z,2026-11-26T00:00Z,2\n"
    "route,sos,,0\n"
    "directory,2269001,\"Poliisi, Mikkeli\"\n";

static void test_texts_in_readers_language(void **state)
{
	struct fx *f = *state;
	struct gw_db_roster r;
	struct gw_roster *ro;
	assert_int_equal(
	    gw_roster_parse_csv("lang.csv", lang_csv, strlen(lang_csv), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f->db, &r), 0);
	gw_db_roster_clear(&r);
	assert_int_equal(gw_roster_load_at(f->db, T0_WALL, &ro), 0);
	gw_calls_set_roster(f->calls, ro);
	f->conf.rounds = 1;
	snprintf(f->conf.prompt_language, sizeof(f->conf.prompt_language), "en");
	incoming(f, 3, "2269001");
	/* Aino reads Swedish: her page, with the Swedish line name and her code */
	const char *p = strstr(last_sms, "VIRVE-samtal: Poliisi, Mikkeli (2269001), Social- och "
					 "krisjour. Svara och tryck 4, eller svara här ");
	assert_non_null(p);
	int code = atoi(last_sms + strlen("VIRVE-samtal: Poliisi, Mikkeli (2269001), Social- och "
					  "krisjour. Svara och tryck 4, eller svara här "));
	assert_true(code >= 10 && code <= 99);
	/* a code nobody issued: told in her language */
	last_sms[0] = '\0';
	gw_calls_phone_sms(f->calls, "+358401234567", code == 99 ? "98a" : "99a");
	assert_non_null(strstr(last_sms, "är okänd"));
	/* Mikko reads English: a bare "ok" from him is told to use the code, in English */
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_ANSWER);
	last_sms[0] = '\0';
	gw_calls_phone_sms(f->calls, "+358401234568", "ok");
	assert_string_equal(last_sms, "Accept the call with the code in the message (e.g. 37a) or "
				      "answer the call and press 4.");
	/* nobody took it: the officer (prompt.language en) and Aino (sv) are told */
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_ANSWER);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);
	assert_string_equal(last_sds, "Social and crisis on-call: no on-call worker reached. Try "
				      "again in a moment.");
	assert_string_equal(last_sms, "Obesvarat VIRVE-samtal: Poliisi, Mikkeli (2269001), Social- "
				      "och krisjour. Ingen svarade.");
	gw_calls_set_roster(f->calls, f->roster);
	gw_roster_free(ro);
}

static void outcome_of(struct fx *f, int64_t id, struct logged *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(gw_db_incident_get(f->db, id, inc_cb, l), 0);
	assert_true(gw_db_event_list(f->db, id, ev_cb, l) > 0);
}

/*
 * The terminal reboots mid-call: the radio leg is lost, reported (a restart release) or
 * not (the officer's retry arrives first, with the same call identifier, as the terminal
 * numbers calls from 1 again). In every stage of the incident: it closes with outcome
 * radio_lost and the phone leg is hung up; the retry is a new incident, paged like any,
 * never "busy"; and the retry's own release closes the retry only.
 */
static void test_radio_lost_then_retry(void **state)
{
	struct fx *f = *state;
	enum { PAGING, ANNOUNCE, BRIDGED };
	for (int reported = 0; reported < 2; reported++) {
		for (int stage = PAGING; stage <= BRIDGED; stage++) {
			incoming(f, 4, "2269001");
			int64_t first = gw_calls_last_id(f->calls);
			if (stage >= ANNOUNCE)
				gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
			if (stage == BRIDGED)
				gw_calls_phone_dtmf(f->calls, '4');
			assert_int_equal(gw_calls_state(f->calls),
					 stage == PAGING     ? GW_CALL_ST_PAGING
					 : stage == ANNOUNCE ? GW_CALL_ST_ANNOUNCE
							     : GW_CALL_ST_BRIDGED);
			f->trace[0] = '\0';
			if (reported)
				gw_calls_radio_released(f->calls, 4, GW_PEI_CAUSE_RESTART);
			incoming(f, 4, "2269001");
			/* the lost incident: closed as radio_lost, its phone leg hung up */
			struct logged l;
			outcome_of(f, first, &l);
			assert_true(l.ended);
			assert_string_equal(l.outcome, "radio_lost");
			assert_non_null(strstr(f->trace, "CHUP;"));
			/* the retry: a new incident, paging the first worker again */
			int64_t retry = gw_calls_last_id(f->calls);
			assert_true(retry > first);
			assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
			assert_non_null(strstr(f->trace, "CHUP;ATD +358401234567;"));
			outcome_of(f, retry, &l);
			assert_false(l.ended);
			/* its release is its own: the lost incident keeps its outcome */
			gw_calls_radio_released(f->calls, 4, 1);
			outcome_of(f, retry, &l);
			assert_string_equal(l.outcome, "abandoned");
			outcome_of(f, first, &l);
			assert_string_equal(l.outcome, "radio_lost");
			assert_int_equal(l.cause, GW_PEI_CAUSE_RESTART);
		}
	}
}

static void test_plan_ring_times_and_fallback(void **state)
{
	struct fx *f = *state;
	struct gw_db_roster r;
	struct gw_roster *plan_roster;
	assert_int_equal(
	    gw_roster_parse_csv("chain.csv", chain_csv, strlen(chain_csv), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f->db, &r), 0);
	gw_db_roster_clear(&r);
	assert_int_equal(gw_roster_load_at(f->db, T0_WALL, &plan_roster), 0);
	gw_calls_set_roster(f->calls, plan_roster);
	incoming(f, 12, "2269001");
	/* Aino rings 10 s, Mikko 15 s, then (one round only) Leena, the fallback, 30 s */
	gw_loop_clock_advance(f->loop, 10000);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 12;CHUP;"
				      "ATD +358401234568;");
	gw_loop_clock_advance(f->loop, 14999);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 12;CHUP;"
				      "ATD +358401234568;");
	gw_loop_clock_advance(f->loop, 1);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 12;CHUP;"
				      "ATD +358401234568;CHUP;ATD +358401234569;");
	gw_loop_clock_advance(f->loop, 30000);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "unanswered");
	/* the fallback's page says so: the report counts who took a call from it */
	assert_string_equal(l.pages, "aino +358401234567 step 1 round 1;"
				     "mikko +358401234568 step 2 round 1;"
				     "leena +358401234569 step 3 round 2 fallback;");
	gw_calls_set_roster(f->calls, f->roster);
	gw_roster_free(plan_roster);
}

/*
 * A call for a line outside its office hours (Wednesday 14:00 local, the line's office
 * 08:00-13:00) pages the after-hours line's worker, and the call log says so; in office
 * hours (the next run, 08:00-16:00) the line's own worker with no such event.
 */
static void test_after_hours_line(void **state)
{
	struct fx *f = *state;
	static const char *const hours[] = {"08:00-13:00", "08:00-16:00"};

	for (int k = 0; k < 2; k++) {
		char csv[1024];
		struct gw_db_roster r;
		struct gw_roster *ro;
		struct logged l;
		snprintf(csv, sizeof(csv),
			 "line,lsp,Lastensuojelu,Barnskydd,Child protection,mon-fri,%s,sos\n"
			 "line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
			 "worker,aino,Aino Virtanen,+358401234567,\n"
			 "worker,mikko,Mikko Korhonen,+358401234568,\n"
			 "shift,lsp,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
			 "shift,sos,mikko,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
			 "route,lsp,,0\n",
			 hours[k]);
		assert_int_equal(
		    gw_roster_parse_csv("office.csv", csv, strlen(csv), &r, NULL, NULL), 0);
		assert_int_equal(gw_db_roster_replace(f->db, &r), 0);
		gw_db_roster_clear(&r);
		assert_int_equal(gw_roster_load_at(f->db, T0_WALL, &ro), 0);
		gw_calls_set_roster(f->calls, ro);
		f->trace[0] = '\0';
		incoming(f, 20 + k, "2269001");
		read_log(f, &l);
		assert_string_equal(l.line, "lsp");
		if (k == 0) {
			assert_non_null(strstr(f->trace, "ATD +358401234568;"));
			assert_string_equal(l.pages, "mikko +358401234568 step 1 round 1;");
			assert_non_null(strstr(l.kinds, "after_hours,page,"));
		} else {
			assert_non_null(strstr(f->trace, "ATD +358401234567;"));
			assert_string_equal(l.pages, "aino +358401234567 step 1 round 1;");
			assert_null(strstr(l.kinds, "after_hours"));
		}
		gw_calls_radio_released(f->calls, 20 + k, 1);
		gw_calls_set_roster(f->calls, f->roster);
		gw_roster_free(ro);
	}
}

/*
 * The page leaves first and alone: until the modem has answered the ATD, nothing else of
 * the start (SMS, ATA, the call log) is done, however often the loop wakes meanwhile, so
 * the modem's reader gets the CPU (#13). Its answer runs the rest at once, and only once.
 */
static void test_page_before_the_rest(void **state)
{
	struct fx *f = *state;
	struct gw_pei_call_in in = {.cci = 1};
	snprintf(in.calling, sizeof(in.calling), "2269001");
	gw_calls_radio_incoming(f->calls, &in);
	assert_string_equal(f->trace, "ATD +358401234567;");
	assert_int_equal(gw_calls_last_id(f->calls), 0); /* not committed yet */
	gw_loop_clock_advance(f->loop, 0);		 /* the loop slept, woken by another fd */
	gw_loop_clock_advance(f->loop, GW_CALL_REST_MS - 1);
	assert_string_equal(f->trace, "ATD +358401234567;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_NEW);
	gw_calls_phone_dial_acked(f->calls);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 1;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	assert_true(gw_calls_last_id(f->calls) > 0);
	/* a second answer and the bound passing change nothing */
	gw_calls_phone_dial_acked(f->calls);
	gw_loop_clock_advance(f->loop, GW_CALL_REST_MS);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 1;");
}

/*
 * A modem that never answers the ATD (some hold the OK until the call is answered) delays
 * the rest, and with it the officer's ATA, by GW_CALL_REST_MS and no more.
 */
static void test_rest_bounded_without_the_modems_answer(void **state)
{
	struct fx *f = *state;
	struct gw_pei_call_in in = {.cci = 3};
	snprintf(in.calling, sizeof(in.calling), "2269001");
	gw_calls_radio_incoming(f->calls, &in);
	gw_loop_clock_advance(f->loop, GW_CALL_REST_MS - 1);
	assert_string_equal(f->trace, "ATD +358401234567;");
	gw_loop_clock_advance(f->loop, 1);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 3;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	assert_true(gw_calls_last_id(f->calls) > 0);
	/* the answer that comes late is no second start */
	gw_calls_phone_dial_acked(f->calls);
	assert_string_equal(f->trace, "ATD +358401234567;SMS +358401234567;ATA 3;");
}

/*
 * An event that reaches the incident before the modem answered the ATD (the officer's
 * release read in the same chunk as the call) finds the start done: the incident is
 * opened, then closed.
 */
static void test_event_before_the_rest_in_order(void **state)
{
	struct fx *f = *state;
	struct gw_pei_call_in in = {.cci = 1};
	struct logged l;
	snprintf(in.calling, sizeof(in.calling), "2269001");
	gw_calls_radio_incoming(f->calls, &in);
	gw_calls_radio_released(f->calls, 1, 1);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);
	assert_true(strncmp(f->trace, "ATD +358401234567;SMS +358401234567;ATA 1;", 42) == 0);
	read_log(f, &l);
	assert_true(l.ended);
	assert_true(strncmp(l.kinds, "open,", 5) == 0);
	char before[sizeof(f->trace)];
	snprintf(before, sizeof(before), "%s", f->trace);
	gw_loop_clock_advance(f->loop, GW_CALL_REST_MS); /* nothing of the start is left */
	gw_calls_phone_dial_acked(f->calls);
	assert_string_equal(f->trace, before);
}

/*
 * The radio leg owns the officer's call: its cci and simplex flag while the incident is
 * live, nothing once it closed. An event that closes the incident returns CLOSED.
 */
static void test_radio_leg_owns_the_officers_call(void **state)
{
	struct fx *f = *state;
	struct gw_pei_call_in in = {.cci = 7, .simplex = 1};
	snprintf(in.calling, sizeof(in.calling), "2269001");
	gw_calls_radio_incoming(f->calls, &in);
	assert_int_equal(gw_calls_radio_cci(f->calls), 7);
	assert_int_equal(gw_calls_radio_simplex(f->calls), 1);
	/* connected: the incident hears it through the leg and logs it */
	gw_calls_radio_connected(f->calls, 7);
	int cause = 1;
	assert_int_equal(gw_calls_dispatch(f->calls, GW_CALL_EV_RADIO_RELEASED, &cause),
			 GW_CALL_ST_CLOSED);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);
	assert_int_equal(gw_calls_radio_cci(f->calls), -1);
	assert_int_equal(gw_calls_radio_simplex(f->calls), 0);
	/* the terminal's own report of that release comes after: no incident for it */
	gw_calls_radio_released(f->calls, 7, 1);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "abandoned");
	assert_string_equal(l.kinds,
			    "open,page,ack_code,sms,radio_connected,radio_released,close,");
}

/*
 * The phone leg owns the worker's call: ringing, then answered; a ringing report after the
 * answer is refused by the leg and changes nothing; the remote end ends the leg and the
 * incident pages the next worker on a new leg (no hang-up of ours: the call is gone).
 */
static void test_phone_leg_owns_the_workers_call(void **state)
{
	struct fx *f = *state;
	incoming(f, 8, "2269001");
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ALERTING);
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ALERTING);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	f->trace[0] = '\0';
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_CARRIER);
	assert_string_equal(f->trace, "ATD +358401234568;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	gw_calls_phone_progress(f->calls, GW_MODEM_CALL_ACTIVE);
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_ANNOUNCE);
	gw_calls_radio_released(f->calls, 8, 1);
	assert_string_equal(f->trace, "ATD +358401234568;CHUP;");
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.kinds, "open,page,ack_code,sms,phone_alerting,phone_answered,"
				     "phone_ended,page,phone_answered,radio_released,close,");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_answered_then_radio_releases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nobody_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accept_call_me, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_texts_in_readers_language, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unstaffed_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_officer_hangs_up_while_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejects_undeclared_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_phone_hangs_up_when_bridged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_hangup_is_not_news, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_voicemail_guard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_answer_on_accept_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_from_both_sources_is_one_press, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_announce_on_answer_and_star, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accept_while_ringing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accept_by_earlier_worker, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_not_an_accept, setup, teardown),
	    cmocka_unit_test(test_parse_sms_reply),
	    cmocka_unit_test_setup_teardown(test_sms_code_accept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_code_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_spoofed_sender_never_accepts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accept_needs_code, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_incoming_phone_calls_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_phone_cause_logged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plan_ring_times_and_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_after_hours_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_second_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_radio_lost_then_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_caller_served_and_flagged, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_radio_leg_owns_the_officers_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_page_before_the_rest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rest_bounded_without_the_modems_answer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_event_before_the_rest_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_phone_leg_owns_the_workers_call, setup, teardown),
	};
	return cmocka_run_group_tests_name("call", tests, NULL, NULL);
}
