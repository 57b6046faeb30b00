/*
 * Unit tests for gateway/relay.c: officer text -> SMS to the worker on duty,
 * the worker's reply -> SDS to that officer, with the call log written to a
 * real database in a temporary directory and the clock frozen.
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

#include "service/relay.h"

#define T0_WALL 1795608000000LL /* 2026-11-25T12:00:00Z */

static const char roster_csv[] =
    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
    "line,lsp,Lastensuojelun päivystys,Barnskyddsjour,Child protection on-call\n"
    "worker,aino,Aino Virtanen,+358401234567,\n"
    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
    "route,sos,,0\n"
    "route,lsp,2270,10\n"
    "directory,2269001,\"Poliisi, Mikkeli\"\n"
    /* violence-work coordination: Mikko; radios 2281... route there in the evening
       (16:00-08:00 Helsinki), and status 0x8002 (32770) from anyone goes there */
    "line,vwc,Väkivaltatyön koordinaatio,Samordning av våldsarbete,Violence work\n"
    "worker,mikko,Mikko Korhonen,+358401234568,\n"
    "shift,vwc,mikko,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
    "route,vwc,2281,0,,16:00-08:00\n"
    "route,vwc,,0,,,,32770\n";

struct fx {
	char dir[64], path[128];
	struct gw_loop *loop;
	struct gw_db *db;
	struct gw_roster *roster;
	struct gw_relay *relay;
	char sms_to[32], sms[512], sds_to[32], sds[512];
	int nsms, nsds, fail;
	int fail_n;	/* the next this many SMS sends fail with -EBUSY (a full modem) */
	int sds_fail;	/* every SDS send fails with this (0: none) */
	int nsms_tries; /* SMS sends asked for, failed or not */
};

static int op_sms(void *arg, const char *number, const char *text)
{
	struct fx *f = arg;
	f->nsms_tries++;
	if (f->fail || (f->fail_n > 0 && f->fail_n--))
		return -EBUSY;
	f->nsms++;
	snprintf(f->sms_to, sizeof(f->sms_to), "%s", number);
	snprintf(f->sms, sizeof(f->sms), "%s", text);
	return 0;
}
static int op_sds(void *arg, const char *issi, const char *text)
{
	struct fx *f = arg;
	if (f->sds_fail)
		return f->sds_fail;
	f->nsds++;
	snprintf(f->sds_to, sizeof(f->sds_to), "%s", issi);
	snprintf(f->sds, sizeof(f->sds), "%s", text);
	return 0;
}

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/rinki-relay-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/rinki.db", f.dir);
	assert_int_equal(gw_db_open(f.path, &f.db), 0);
	struct gw_db_roster r;
	assert_int_equal(
	    gw_roster_parse_csv("t.csv", roster_csv, strlen(roster_csv), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f.db, &r), 0);
	gw_db_roster_clear(&r);
	assert_int_equal(gw_roster_load(f.db, &f.roster), 0);
	f.loop = gw_loop_new();
	gw_loop_clock_override(f.loop, 1000, T0_WALL);
	struct gw_relay_ops ops = {.send_sms = op_sms, .send_sds = op_sds, .arg = &f};
	assert_int_equal(gw_relay_new(f.loop, f.db, &ops, &f.relay), 0);
	gw_relay_set_roster(f.relay, f.roster);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	gw_relay_free(f->relay);
	gw_roster_free(f->roster);
	gw_db_close(f->db);
	gw_loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Other radios texting cannot make the relay forget one that floods (no LRU to evict it). */
static void test_flood_limit_not_forgotten(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "x"), 1);
	for (int i = 0; i < 40; i++) {
		char issi[24];
		snprintf(issi, sizeof(issi), "22691%02d", i);
		assert_int_equal(gw_relay_officer_text(f->relay, issi, "y"), 1);
	}
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "x"), -EBUSY);
	gw_loop_clock_advance(f->loop, 60000);
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "x"), 1);
}

static char kinds[512];
static int64_t newest;
static void id_cb(const struct gw_db_incident *inc, void *arg)
{
	(void)arg;
	newest = inc->id;
}
static void ev_cb(const struct gw_db_event *ev, void *arg)
{
	(void)arg;
	strncat(kinds, ev->kind, sizeof(kinds) - strlen(kinds) - 2);
	strcat(kinds, ",");
}

static void test_text_and_reply(void **state)
{
	struct fx *f = *state;
	assert_int_equal(
	    gw_relay_officer_text(f->relay, "2269001", "Tarvitaan apua, Porrassalmenkatu 5"), 1);
	assert_string_equal(f->sms_to, "+358401234567");
	assert_string_equal(f->sms, "VIRVE Poliisi, Mikkeli (2269001): Tarvitaan apua, "
				    "Porrassalmenkatu 5 (vastaa tähän viestiin)");
	/* the reply comes from the national form of the same number */
	gw_loop_clock_advance(f->loop, 60000);
	assert_int_equal(gw_relay_worker_text(f->relay, "0401234567", "Tulen 15 min"), 1);
	assert_string_equal(f->sds_to, "2269001");
	assert_string_equal(f->sds, "aino: Tulen 15 min");
	/* a stranger's SMS is not relayed */
	assert_int_equal(gw_relay_worker_text(f->relay, "+358501112233", "hei"), 0);
	assert_int_equal(f->nsds, 1);
	/* the log has the thread */
	kinds[0] = '\0';
	assert_int_equal(gw_db_incident_list(f->db, 1, id_cb, NULL), 1);
	assert_true(gw_db_event_list(f->db, newest, ev_cb, NULL) > 0);
	assert_string_equal(kinds, "open,sds_text,sms,close,sms_text,sds,");
	/* threads expire */
	gw_loop_clock_advance(f->loop, GW_RELAY_THREAD_MS);
	assert_int_equal(gw_relay_worker_text(f->relay, "0401234567", "myöhässä"), 0);
}

static void test_nobody_on_duty(void **state)
{
	struct fx *f = *state;
	/* 2270... routes to child protection, which has nobody on duty */
	assert_int_equal(gw_relay_officer_text(f->relay, "2270123", "lapsi yksin kotona"), 0);
	assert_int_equal(f->nsms, 0);
	assert_string_equal(f->sds_to, "2270123");
	assert_string_equal(
	    f->sds, "Lastensuojelun päivystys: ei päivystäjää vuorossa, viestiä ei välitetty.");
}

/*
 * Each reader in their language: the officer's SDS in the officers' language
 * (prompt.language), the worker's SMS in the roster's language for that worker, each with
 * the line's name in that language.
 */
static void test_texts_in_readers_language(void **state)
{
	struct fx *f = *state;
	gw_relay_set_officer_lang(f->relay, "sv");
	assert_int_equal(gw_relay_officer_text(f->relay, "2270123", "barn ensamt hemma"), 0);
	assert_string_equal(
	    f->sds, "Barnskyddsjour: ingen jourhavande i tjänst, meddelandet förmedlades inte.");
	gw_relay_set_officer_lang(f->relay, "en");
	assert_int_equal(gw_relay_officer_text(f->relay, "2270124", "child alone"), 0);
	assert_string_equal(f->sds, "Child protection on-call: nobody on duty, the message was not "
				    "relayed.");
	/* Aino has no language column: the roster's default, Finnish, not the officers' */
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "Need help"), 1);
	assert_string_equal(f->sms, "VIRVE Poliisi, Mikkeli (2269001): Need help (vastaa tähän "
				    "viestiin)");
	/* with Swedish in the roster she reads Swedish */
	static const char sv_csv[] =
	    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
	    "worker,aino,Aino Virtanen,+358401234567,,1,sv\n"
	    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
	    "route,sos,,0\n";
	struct gw_db_roster r;
	struct gw_roster *ro;
	assert_int_equal(gw_roster_parse_csv("sv.csv", sv_csv, strlen(sv_csv), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f->db, &r), 0);
	gw_db_roster_clear(&r);
	assert_int_equal(gw_roster_load_at(f->db, T0_WALL, &ro), 0);
	gw_relay_set_roster(f->relay, ro);
	assert_int_equal(gw_relay_officer_text(f->relay, "2269002", "Behöver hjälp"), 1);
	assert_string_equal(f->sms, "VIRVE 2269002: Behöver hjälp (svara på det här meddelandet)");
	gw_relay_set_roster(f->relay, f->roster);
	gw_roster_free(ro);
}

/*
 * A text for a line outside its office hours (child protection's 08:00-13:00; 12:00Z is
 * 14:00 in Helsinki) goes to the after-hours line's worker, and the call log says so.
 */
static void test_after_hours_text(void **state)
{
	struct fx *f = *state;
	static const char csv[] =
	    "line,sos,Sosiaali- ja kriisipäivystys,Socialjour,Social on-call\n"
	    "line,lsp,Lastensuojelun päivystys,Barnskyddsjour,Child protection,mon-fri,"
	    "08:00-13:00,sos\n"
	    "worker,aino,Aino Virtanen,+358401234567,\n"
	    "worker,mikko,Mikko Korhonen,+358401234568,\n"
	    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
	    "shift,lsp,mikko,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
	    "route,lsp,,0\n";
	struct gw_db_roster r;
	struct gw_roster *ro;

	assert_int_equal(gw_roster_parse_csv("o.csv", csv, strlen(csv), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f->db, &r), 0);
	gw_db_roster_clear(&r);
	assert_int_equal(gw_roster_load_at(f->db, T0_WALL, &ro), 0);
	gw_relay_set_roster(f->relay, ro);
	assert_int_equal(gw_relay_officer_text(f->relay, "2270123", "lapsi yksin kotona"), 1);
	assert_string_equal(f->sms_to, "+358401234567");
	kinds[0] = '\0';
	newest = 0;
	assert_int_equal(gw_db_incident_list(f->db, 1, id_cb, NULL), 1);
	assert_true(gw_db_event_list(f->db, newest, ev_cb, NULL) > 0);
	assert_non_null(strstr(kinds, "after_hours,"));
	gw_relay_set_roster(f->relay, f->roster);
	gw_roster_free(ro);
}

static char outcome[64], details[1024];
static int nlisted;
static void list_cb(const struct gw_db_incident *inc, void *arg)
{
	(void)arg;
	nlisted++;
	if (!newest)
		newest = inc->id;
}
static void inc_cb(const struct gw_db_incident *inc, void *arg)
{
	(void)arg;
	snprintf(outcome, sizeof(outcome), "%s|%s|%lld", inc->outcome ? inc->outcome : "",
		 inc->caller, (long long)inc->started_ms);
}
static void detail_cb(const struct gw_db_event *ev, void *arg)
{
	(void)arg;
	size_t n = strlen(details);
	snprintf(details + n, sizeof(details) - n, "%s %s|", ev->kind,
		 ev->detail ? ev->detail : "");
}

/* Run the loop's clock forward in 1 s steps (the relay's retry timer fires on its own). */
static void run_s(struct fx *f, int seconds)
{
	for (int i = 0; i < seconds; i++)
		gw_loop_clock_advance(f->loop, 1000);
}

/*
 * A modem that cannot take more SMS for a while (-EBUSY: its 8 sends in flight) makes
 * no text fail: 20 texts from 20 radios wait, are retried with back-off, all go out.
 */
static void test_busy_modem_texts_wait(void **state)
{
	struct fx *f = *state;
	f->fail_n = 1000;
	for (int i = 0; i < 20; i++) {
		char issi[24];
		snprintf(issi, sizeof(issi), "22690%02d", i);
		assert_int_equal(gw_relay_officer_text(f->relay, issi, "odota"), 1);
	}
	assert_int_equal(f->nsms, 0);
	run_s(f, 20);
	assert_int_equal(f->nsms, 0);
	int tries = f->nsms_tries;
	assert_true(tries > 20 && tries < 20 * 6); /* retried, backing off */
	f->fail_n = 0;
	run_s(f, 120);
	assert_int_equal(f->nsms, 20);
	assert_int_equal(f->nsds, 0); /* nobody was told of a failure */
	/* each entry says relayed, and a reply finds its officer */
	assert_int_equal(gw_db_incident_get(f->db, 20, inc_cb, NULL), 0);
	assert_int_equal(strncmp(outcome, "message relayed|", 16), 0);
	assert_int_equal(gw_relay_worker_text(f->relay, "+358401234567", "selvä"), 1);
}

/* A text that cannot go out after all its tries: logged as failed, and the officer told. */
static void test_text_fails_officer_told(void **state)
{
	struct fx *f = *state;
	f->fail = 1;
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "x"), 1);
	run_s(f, 15 * 60);
	assert_int_equal(f->nsms, 0);
	assert_int_equal(f->nsds, 1);
	assert_string_equal(f->sds_to, "2269001");
	assert_non_null(strstr(f->sds, "ei voitu välittää"));
	assert_int_equal(gw_db_incident_get(f->db, 1, inc_cb, NULL), 0);
	assert_int_equal(strncmp(outcome, "message failed|", 15), 0);
	details[0] = '\0';
	assert_true(gw_db_event_list(f->db, 1, detail_cb, NULL) > 0);
	assert_non_null(strstr(details, "sms_failed aino"));
	/* no thread: a reply is not taken for this text */
	f->fail = 0;
	assert_int_equal(gw_relay_worker_text(f->relay, "+358401234567", "?"), 0);
}

/* A reply that cannot reach the officer (here: too long for an SDS): the worker is told. */
static void test_reply_fails_worker_told(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "Missä?"), 1);
	f->sds_fail = -EMSGSIZE;
	assert_int_equal(gw_relay_worker_text(f->relay, "0401234567", "pitkä vastaus"), 1);
	run_s(f, 5);
	assert_int_equal(f->nsms, 2);
	assert_string_equal(f->sms_to, "0401234567");
	assert_non_null(strstr(f->sms, "ei voitu välittää"));
	/* a busy radio is waited for instead */
	f->sds_fail = -EBUSY;
	assert_int_equal(gw_relay_worker_text(f->relay, "0401234567", "toinen"), 1);
	run_s(f, 10);
	f->sds_fail = 0;
	run_s(f, 60);
	assert_int_equal(f->nsds, 1);
	assert_string_equal(f->sds, "aino: toinen");
	assert_int_equal(f->nsms, 2);
}

static void *pending_done_arg;
static gw_relay_done_fn pending_done;
static int nasync;
static int op_sms_async(void *arg, const char *number, const char *text, gw_relay_done_fn done,
			void *done_arg)
{
	struct fx *f = arg;
	nasync++;
	snprintf(f->sms_to, sizeof(f->sms_to), "%s", number);
	snprintf(f->sms, sizeof(f->sms), "%s", text);
	pending_done = done;
	pending_done_arg = done_arg;
	return 0;
}

/*
 * A send the modem took but that stalls (no +CMGS within its time: -ETIMEDOUT later) is
 * tried again; the entry says relayed only once the modem said so.
 */
static void test_stalled_send_retried(void **state)
{
	struct fx *f = *state;
	struct gw_relay_ops ops = {
	    .send_sms = op_sms, .send_sms_async = op_sms_async, .send_sds = op_sds, .arg = f};
	gw_relay_free(f->relay);
	assert_int_equal(gw_relay_new(f->loop, f->db, &ops, &f->relay), 0);
	gw_relay_set_roster(f->relay, f->roster);
	nasync = 0;
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "kiire"), 1);
	assert_int_equal(nasync, 1);
	assert_int_equal(gw_db_incident_get(f->db, 1, inc_cb, NULL), 0);
	assert_int_equal(strncmp(outcome, "|", 1), 0); /* still open */
	run_s(f, 30);
	assert_int_equal(nasync, 1); /* in flight: not sent twice */
	pending_done(pending_done_arg, -ETIMEDOUT, -1);
	run_s(f, 10);
	assert_int_equal(nasync, 2);
	pending_done(pending_done_arg, 0, 17);
	assert_int_equal(gw_db_incident_get(f->db, 1, inc_cb, NULL), 0);
	assert_int_equal(strncmp(outcome, "message relayed|", 16), 0);
	assert_int_equal(f->nsds, 0);
}

static void test_flood_is_limited(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "x"), 1);
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "x"), -EBUSY);
	assert_int_equal(f->nsms, 10);
	/* another radio is not affected; the window passes */
	assert_int_equal(gw_relay_officer_text(f->relay, "2269002", "y"), 1);
	gw_loop_clock_advance(f->loop, 60000);
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "z"), 1);
	assert_int_equal(f->nsms, 12);
}

/* Each text the limit drops is an entry of its own: who, when, how long, why; the body is
   an sds_text event like any officer text's (retention blanks it the same way). */
static void test_dropped_text_logged(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "x"), 1);
	gw_loop_clock_advance(f->loop, 5000);
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "Lähetä äkkiä"), -EBUSY);
	assert_int_equal(f->nsms, 10);
	nlisted = 0;
	newest = 0;
	assert_int_equal(gw_db_incident_list(f->db, 100, list_cb, NULL), 11);
	assert_int_equal(nlisted, 11);
	assert_int_equal(gw_db_incident_get(f->db, newest, inc_cb, NULL), 0);
	char want[96];
	snprintf(want, sizeof(want), "message rate_limited|2269001|%lld", T0_WALL + 5000);
	assert_string_equal(outcome, want);
	details[0] = '\0';
	assert_true(gw_db_event_list(f->db, newest, detail_cb, NULL) > 0);
	assert_non_null(strstr(details,
			       "|rate_limited from 2269001, 12 characters, over 10 texts a "
			       "minute|sds_text Lähetä äkkiä|close "));
	assert_true(gw_db_kind_is_body("sds_text"));
	/* a second dropped text is a second entry */
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "y"), -EBUSY);
	assert_int_equal(gw_db_incident_list(f->db, 100, list_cb, NULL), 12);
}

/*
 * A reply belongs to a thread only from the worker's own number: one that only ends like
 * it (another country, an alphanumeric sender, no prefix) is not relayed to the officer.
 */
static void test_spoofed_reply_not_relayed(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "Missä olet?"), 1);
	static const char *const fakes[] = {"+46401234567", "A401234567", "401234567",
					    "358401234567", "+358 40 123 4567"};
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++)
		assert_int_equal(gw_relay_worker_text(f->relay, fakes[i], "valhe"), 0);
	assert_int_equal(f->nsds, 0);
	assert_int_equal(gw_relay_worker_text(f->relay, "+358401234567", "tosi"), 1);
	assert_int_equal(f->nsds, 1);
}

/* A text routes by the time it was received (the loop's clock), not the machine's. */
static void test_text_routed_at_receipt(void **state)
{
	struct fx *f = *state;
	/* 12:00Z is 14:00 in Helsinki: the evening route does not hold, the default does */
	assert_int_equal(gw_relay_officer_text(f->relay, "2281001", "päivällä"), 1);
	assert_string_equal(f->sms_to, "+358401234567");
	/* 15:00Z is 17:00 in Helsinki: the evening route to violence-work coordination */
	gw_loop_clock_advance(f->loop, 3 * 3600 * 1000);
	assert_int_equal(gw_relay_officer_text(f->relay, "2281001", "illalla"), 1);
	assert_string_equal(f->sms_to, "+358401234568");
	/* a route naming a status never takes a text */
	assert_int_equal(gw_relay_officer_text(f->relay, "2269001", "teksti"), 1);
	assert_string_equal(f->sms_to, "+358401234567");
}

/* A status a route names goes to that line's worker as an SMS, logged, with a thread. */
static void test_status_relayed(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gw_relay_officer_status(f->relay, "2269001", 0x8002, "kohteessa"), 1);
	assert_int_equal(f->nsms, 1);
	assert_string_equal(f->sms_to, "+358401234568");
	assert_string_equal(f->sms, "status 0x8002 (kohteessa) from 2269001/Poliisi, Mikkeli");
	kinds[0] = '\0';
	assert_int_equal(gw_db_incident_list(f->db, 1, id_cb, NULL), 1);
	details[0] = '\0';
	assert_true(gw_db_event_list(f->db, newest, detail_cb, NULL) > 0);
	assert_non_null(strstr(details, "|sds_status 0x8002 (kohteessa)|sms mikko|close "));
	/* the worker's reply goes back to the officer */
	assert_int_equal(gw_relay_worker_text(f->relay, "0401234568", "Selvä"), 1);
	assert_string_equal(f->sds_to, "2269001");
	assert_string_equal(f->sds, "mikko: Selvä");
	/* no directory name: the ISSI alone */
	assert_int_equal(gw_relay_officer_status(f->relay, "2270555", 0x8002, "kohteessa"), 1);
	assert_string_equal(f->sms, "status 0x8002 (kohteessa) from 2270555");
	/* a status no route names: nothing sent, nothing logged (rinkid only logs it) */
	assert_int_equal(gw_relay_officer_status(f->relay, "2269001", 0x8003, "vapaa"), -ENOENT);
	assert_int_equal(f->nsms, 2);
	assert_int_equal(gw_db_incident_list(f->db, 100, list_cb, NULL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_text_and_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nobody_on_duty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_texts_in_readers_language, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_after_hours_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_modem_texts_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_fails_officer_told, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_fails_worker_told, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_send_retried, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flood_is_limited, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flood_limit_not_forgotten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_text_logged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spoofed_reply_not_relayed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_routed_at_receipt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_relayed, setup, teardown),
	};
	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
