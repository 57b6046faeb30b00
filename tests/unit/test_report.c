/*
 * test_report: the call-log report over a real database file.
 *
 * One month (March 2026, Helsinki time) of incidents with known outcomes, written through
 * the call-log API as rinkid writes them (call, busy call, text, status, call-back, an
 * open call, one outside the range on each side), is compared with figures worked out by
 * hand in the comments: outcomes, who took each call, the accept-time percentiles, per line,
 * per caller organisation, per municipality (member or contract, from the directory), per
 * weekday and hour, the self-check, and the CSV and JSON forms.
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
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "store/db.h"
#include "store/report.h"
#include "store/roster.h"

#define S 1000LL

static char dir[] = "/tmp/rinki-test-report-XXXXXX";
static char path[256];
static int64_t m0, m1; /* March 2026 in Helsinki time */

static const char *const POL = "Poliisi, Mikkeli", *const PEL =
						       "Etelä-Savon pelastuslaitos, Mikkeli";

struct ev {
	int64_t after_ms;
	const char *kind, *detail;
};

/*
 * The callers: the police's radio (Mikkeli, a member municipality), two of the rescue
 * services' (one in Mikkeli, one as a TSI in Sulkava, a contract municipality) and one not
 * in the directory.
 */
static const char *const POL_ISSI = "2269001", *const PEL_ISSI = "2269050",
			 *const PEL_SULKAVA_TSI = "02440163802269060", *const STRANGER = "3000123";

/* One incident at t from caller: its events (NULL-kind terminated), closed with outcome
 * (NULL: open). */
static void seed_from(struct gw_db *db, int64_t t, const char *caller, const char *line,
		      const char *org, const char *outcome, const char *accepted,
		      const struct ev *ev)
{
	struct gw_incident_rec rec = {
	    .started_ms = t, .caller = caller, .caller_name = org, .line = line};
	int64_t id;

	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	for (; ev && ev->kind; ev++)
		assert_int_equal(gw_db_event_append(db, id, t + ev->after_ms, ev->kind, ev->detail),
				 0);
	if (outcome)
		assert_int_equal(gw_db_incident_close(db, id, t + 600 * S, outcome, -1, accepted),
				 0);
}

/* As seed_from, the caller the organisation's first radio (or a stranger). */
static void seed(struct gw_db *db, int64_t t, const char *line, const char *org,
		 const char *outcome, const char *accepted, const struct ev *ev)
{
	seed_from(db, t,
		  !org	       ? STRANGER
		  : org == POL ? POL_ISSI
			       : PEL_ISSI,
		  line, org, outcome, accepted, ev);
}

#define PAGE(who, step, round)                                                                     \
	{                                                                                          \
		10 * (step) * (round), "page", who " +35840 step " #step " round " #round          \
	}
#define ACC(s, who)                                                                                \
	{                                                                                          \
		(s) * S, "accepted", who " dtmf"                                                   \
	}

static void seed_month(struct gw_db *db)
{
	int64_t d = 86400 * S;
	const struct ev first[] = {PAGE("aino", 1, 1), ACC(12, "aino"), {0}};
	const struct ev later[] = {PAGE("aino", 1, 1), PAGE("mikko", 2, 1), ACC(40, "mikko"), {0}};
	const struct ev unans[] = {PAGE("aino", 1, 1),
				   PAGE("mikko", 2, 1),
				   PAGE("aino", 1, 2),
				   PAGE("mikko", 2, 2),
				   {5 * S, "unreached", "2 rounds"},
				   {0}};
	const struct ev busy[] = {{0, "busy", "live 1"}, {0, "sds", "busy"}, {0}};
	const struct ev aband[] = {PAGE("aino", 1, 1), {3 * S, "radio_released", "1"}, {0}};
	const struct ev fallb[] = {PAGE("juha", 1, 1),
				   PAGE("sanna", 2, 1),
				   {70 * S, "page", "maria +35840 step 3 round 2 fallback"},
				   ACC(75, "maria"),
				   {0}};
	const struct ev lost[] = {PAGE("juha", 1, 1), ACC(5, "juha"), {0}};
	const struct ev intr[] = {PAGE("juha", 1, 1), {0}};
	const struct ev unst[] = {{0, "unstaffed", "line sos"}, {0}};
	const struct ev text[] = {{0, "sds_text", "hei"}, {0, "sms", "aino"}, {0}};
	const struct ev stat[] = {{0, "sds_status", "0x8002"}, {0, "sms", "juha"}, {0}};
	const struct ev cb[] = {{0, "call_in", "aino"}, {0, "pin_ok", NULL}, {0}};
	const struct ev sms_acc[] = {
	    PAGE("aino", 1, 1), {30 * S, "sms_accept", "aino"}, ACC(30, "aino"), {0}};
	const struct ev open[] = {PAGE("aino", 1, 1), {0}};
	const struct ev drop[] = {{0, "rate_limited", "x"}, {0, "sds_text", "spam"}, {0}};

	seed(db, m0 - 1, "sos", POL, "completed", "aino", first);      /* February: not counted */
	seed(db, m0, "sos", POL, "completed", "aino", first);	       /* 1 */
	seed(db, m0 + 1 * d, "sos", POL, "completed", "mikko", later); /* 2 */
	seed(db, m0 + 2 * d, "sos", PEL, "unanswered", NULL, unans);   /* 3 */
	seed(db, m0 + 3 * d, "sos", POL, "busy", NULL, busy);	       /* 4 */
	seed(db, m0 + 4 * d, "sos", NULL, "abandoned", NULL, aband);   /* 5 */
	seed_from(db, m0 + 5 * d, PEL_SULKAVA_TSI, "mhs", PEL, "completed", "maria", fallb); /* 6 */
	seed(db, m0 + 6 * d, "mhs", POL, "radio lost", "juha", lost);			     /* 7 */
	seed(db, m0 + 7 * d, "mhs", POL, "interrupted", NULL, intr);			     /* 8 */
	seed(db, m0 + 8 * d, "sos", POL, "unstaffed", NULL, unst);			     /* 9 */
	seed(db, m0 + 9 * d, "sos", POL, "message relayed", "aino", text); /* 10 */
	seed_from(db, m0 + 10 * d, PEL_SULKAVA_TSI, "mhs", PEL, "message relayed", "juha",
		  stat);							/* 11 */
	seed(db, m0 + 11 * d, "callback", NULL, "connected", "aino", cb);	/* 12 */
	seed(db, m0 + 12 * d, "sos", POL, "completed", "aino", sms_acc);	/* 13 */
	seed(db, m0 + 13 * d, "sos", NULL, "message rate_limited", NULL, drop); /* 15 */
	seed(db, m1 - 1, "sos", PEL, NULL, NULL, open);				/* 14 */
	seed(db, m1, "sos", POL, "completed", "aino", first); /* April: not counted */
}

static int group_setup(void **state)
{
	struct gw_db *db;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	snprintf(path, sizeof(path), "%s/r.db", dir);
	m0 = gw_roster_local_to_utc(2026, 3, 1, 0);
	m1 = gw_roster_local_to_utc(2026, 4, 1, 0);
	if (gw_db_open(path, &db) < 0)
		return -1;
	struct gw_db_dir dirs[] = {
	    {.issi = (char *)POL_ISSI,
	     .org = (char *)POL,
	     .municipality = "Mikkeli",
	     .membership = "member"},
	    {.issi = (char *)PEL_ISSI,
	     .org = (char *)PEL,
	     .municipality = "Mikkeli",
	     .membership = "member"},
	    {.issi = "2269060",
	     .org = (char *)PEL,
	     .municipality = "Sulkava",
	     .membership = "contract"},
	};
	if (gw_db_directory_replace(db, dirs, 3) < 0)
		return -1;
	seed_month(db);
	gw_db_close(db);
	return 0;
}

static int group_teardown(void **state)
{
	char f[300];
	const char *suffix[] = {"", "-wal", "-shm", ".spool", ".anchor", ".key", ".queue"};

	(void)state;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		unlink(f);
	}
	return rmdir(dir);
}

static struct gw_report *build(int64_t from, int64_t to)
{
	struct gw_db *db;
	struct gw_report *r;

	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_report_build(db, from, to, 60 * S, &r), 0);
	gw_db_close(db);
	return r;
}

static void expect(const struct gw_report_figures *f, const int64_t want[19])
{
	const int64_t got[19] = {f->calls,	     f->completed,   f->unanswered,
				 f->unstaffed,	     f->busy,	     f->abandoned,
				 f->failed,	     f->open,	     f->by_first,
				 f->by_later,	     f->by_fallback, f->by_nobody,
				 f->accepted_within, f->accept_p50,  f->accept_p90,
				 f->accept_max,	     f->texts,	     f->statuses,
				 f->callbacks};
	for (int i = 0; i < 19; i++) {
		if (got[i] != want[i])
			fail_msg("figure %d: got %lld, want %lld", i, (long long)got[i],
				 (long long)want[i]);
	}
}

static const struct gw_report_group *find(const struct gw_report_group *g, size_t n,
					  const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].key, key) == 0)
			return &g[i];
	fail_msg("no group '%s'", key);
	return NULL;
}

/*
 * By hand: calls 1-9, 13, 14 (11); completed 1 2 6 13, unanswered 3, unstaffed 9, busy 4,
 * abandoned 5, failed 7 (radio lost) 8 (interrupted), open 14. Taken by the first worker
 * 1 7 13, a later step 2, the fallback 6, nobody 3 4 5 8 9 14. Accept times 12 40 75 5 30
 * s: sorted 5 12 30 40 75, p50 = 3rd = 30 s, p90 = 5th = 75 s, within 60 s: 4. Texts 10
 * 15, status 11, call-back 12: 15 incidents.
 */
static void test_month_by_hand(void **state)
{
	struct gw_report *r = build(m0, m1);
	(void)state;

	assert_int_equal(r->in_range, 15);
	assert_int_equal(gw_report_counted(r), 15);
	assert_true(gw_report_balanced(r));
	expect(&r->total, (const int64_t[19]){11, 4, 1, 1, 1, 1, 2, 1, 3, 1, 1, 6, 4, 30 * S,
					      75 * S, 75 * S, 2, 1, 1});
	/* sos: 1 2 3 4 5 9 13 14, texts 10 15; accepts 12 40 30: p50 30, p90 40 */
	assert_int_equal(r->n_lines, 2);
	expect(&find(r->lines, r->n_lines, "sos")->f,
	       (const int64_t[19]){8, 3, 1, 1, 1, 1, 0, 1, 2, 1, 0, 5, 3, 30 * S, 40 * S, 40 * S, 2,
				   0, 0});
	/* mhs: 6 7 8, status 11; accepts 75 5: p50 = 1st = 5, p90 = 2nd = 75 */
	expect(&find(r->lines, r->n_lines, "mhs")->f,
	       (const int64_t[19]){3, 1, 0, 0, 0, 0, 2, 0, 1, 0, 1, 1, 1, 5 * S, 75 * S, 75 * S, 0,
				   1, 0});
	/* organisations: police 1 2 4 7 8 9 13 + text 10; rescue 3 6 14 + status 11; callers
	 * not in the directory: 5 + text 15. The call-back is in the total only. */
	assert_int_equal(r->n_orgs, 3);
	assert_string_equal(r->orgs[0].key, "");
	expect(&r->orgs[0].f,
	       (const int64_t[19]){1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, -1, -1, -1, 1, 0, 0});
	assert_string_equal(r->orgs[1].key, PEL);
	expect(&r->orgs[1].f, (const int64_t[19]){3, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 2, 0, 75 * S,
						  75 * S, 75 * S, 0, 1, 0});
	assert_string_equal(r->orgs[2].key, POL);
	expect(&r->orgs[2].f, (const int64_t[19]){7, 3, 0, 1, 1, 0, 2, 0, 3, 1, 0, 3, 4, 12 * S,
						  40 * S, 40 * S, 1, 0, 0});
	/*
	 * Municipalities (by the caller's directory entry; 6 and 11 came from the rescue
	 * services' radio in Sulkava): none 5 + text 15; Mikkeli (member) 1 2 3 4 7 8 9 13 14 +
	 * text 10, accepts 12 40 5 30: p50 = 2nd of 5 12 30 40 = 12, p90 = 4th = 40; Sulkava
	 * (contract) 6 + status 11, the fallback after 75 s.
	 */
	assert_int_equal(r->n_munis, 3);
	assert_string_equal(r->munis[0].key, "");
	assert_null(r->munis[0].membership);
	expect(&r->munis[0].f,
	       (const int64_t[19]){1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, -1, -1, -1, 1, 0, 0});
	assert_string_equal(r->munis[1].key, "Mikkeli");
	assert_string_equal(r->munis[1].membership, "member");
	expect(&r->munis[1].f, (const int64_t[19]){9, 3, 1, 1, 1, 0, 2, 1, 3, 1, 0, 5, 4, 12 * S,
						   40 * S, 40 * S, 1, 0, 0});
	assert_string_equal(r->munis[2].key, "Sulkava");
	assert_string_equal(r->munis[2].membership, "contract");
	expect(&r->munis[2].f, (const int64_t[19]){1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 75 * S,
						   75 * S, 75 * S, 0, 1, 0});
	/*
	 * Weekday and hour of the start (1 March 2026 was a Sunday; all at local midnight but
	 * 14, Tuesday 31 March 23:59): Sun 1 8, Mon 2 9, Tue 3 + text 10, Wed 4 + status 11,
	 * Thu 5 (the call-back 12 is no authority call), Fri 6 13, Sat 7 + text 15, Tue 23h 14.
	 */
	static const struct {
		int day, hour, calls, texts, statuses;
	} cells[] = {{6, 0, 2, 0, 0}, {0, 0, 2, 0, 0}, {1, 0, 1, 1, 0}, {2, 0, 1, 0, 1},
		     {3, 0, 1, 0, 0}, {4, 0, 2, 0, 0}, {5, 0, 1, 1, 0}, {1, 23, 1, 0, 0}};
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++) {
			const struct gw_report_figures *f = &r->week[d][h].f;
			int64_t want[3] = {0, 0, 0};
			for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
				if (cells[i].day == d && cells[i].hour == h) {
					want[0] = cells[i].calls;
					want[1] = cells[i].texts;
					want[2] = cells[i].statuses;
				}
			if (f->calls != want[0] || f->texts != want[1] || f->statuses != want[2])
				fail_msg("weekday %d hour %d: %lld/%lld/%lld", d, h,
					 (long long)f->calls, (long long)f->texts,
					 (long long)f->statuses);
		}
	/* Sunday 00: 1 (completed, the first worker after 12 s) and 8 (interrupted) */
	expect(&r->week[6][0].f, (const int64_t[19]){2, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 12 * S,
						     12 * S, 12 * S, 0, 0, 0});
	gw_report_free(r);
}

struct rows {
	int n;
	struct gw_db_report_row row[4];
	char line[4][16];
};

static void on_row(const struct gw_db_report_row *row, void *arg)
{
	struct rows *r = arg;
	if (r->n < 4) {
		r->row[r->n] = *row;
		snprintf(r->line[r->n], sizeof(r->line[0]), "%s", row->line);
	}
	r->n++;
}

/*
 * The per-line rows (gw_db_report, what rinki-web shows) count the same way. Before
 * (checked against the old build), sos read 10 calls (the two texts too) and 7 unanswered
 * (calls - answered: busy, abandoned, open and both texts with them) and mhs 4 calls (the
 * status too), 2 unanswered; now sos has 8 calls of which 2 reached nobody (3 unanswered,
 * 9 unstaffed), 1 busy, 1 abandoned, and mhs 3 calls, none unanswered.
 */
static void test_line_rows(void **state)
{
	struct gw_db *db;
	struct rows r = {0};

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_report(db, m0, m1, 60 * S, on_row, &r), 2);
	gw_db_close(db);
	assert_string_equal(r.line[0], "mhs");
	/* 6 (fallback, 75 s, 3 pages), 7 (juha, 5 s), 8 (interrupted) */
	assert_int_equal(r.row[0].calls, 3);
	assert_int_equal(r.row[0].answered, 2);
	assert_int_equal(r.row[0].answered_within, 1);
	assert_int_equal(r.row[0].escalated, 1);
	assert_int_equal(r.row[0].unanswered, 0);
	assert_string_equal(r.line[1], "sos");
	/* 1, 2, 3, 4, 5, 9, 13, 14; escalated: 2 (2 pages) and 3 (4 pages) */
	assert_int_equal(r.row[1].calls, 8);
	assert_int_equal(r.row[1].answered, 3);
	assert_int_equal(r.row[1].answered_within, 3);
	assert_int_equal(r.row[1].escalated, 2);
	assert_int_equal(r.row[1].unanswered, 2);
	assert_int_equal(r.row[1].busy, 1);
	assert_int_equal(r.row[1].abandoned, 1);
}

/* A range inside the month: days 2-5 (local dates 2026-03-03 .. 2026-03-06). */
static void test_sub_range(void **state)
{
	struct gw_report *r =
	    build(gw_roster_local_to_utc(2026, 3, 3, 0), gw_roster_local_to_utc(2026, 3, 7, 0));
	(void)state;
	/* 3 unanswered, 4 busy, 5 abandoned, 6 completed by the fallback at 75 s */
	expect(&r->total, (const int64_t[19]){4, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 3, 0, 75 * S, 75 * S,
					      75 * S, 0, 0, 0});
	assert_true(gw_report_balanced(r));
	gw_report_free(r);
	struct gw_db *db;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_report_build(db, m1, m0, 60 * S, &r), -EINVAL);
	assert_null(r);
	gw_db_close(db);
}

/* The check fails when a figure does not add up, and the text says so. */
static void test_check_catches_a_miscount(void **state)
{
	struct gw_report *r = build(m0, m1);
	char buf[8192];
	FILE *f;
	(void)state;

	r->total.texts--; /* one incident lost */
	assert_false(gw_report_balanced(r));
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_TEXT, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "check: 15 incidents in the range, counted 14 "));
	assert_non_null(strstr(buf, "MISMATCH"));
	r->total.texts++;
	r->lines[0].f.busy++; /* a call counted under two outcomes */
	assert_false(gw_report_balanced(r));
	r->lines[0].f.busy--;
	assert_true(gw_report_balanced(r));
	r->munis[1].f.calls++; /* a call in two municipalities */
	r->munis[1].f.completed++;
	r->munis[1].f.by_first++;
	assert_false(gw_report_balanced(r));
	r->munis[1].f.calls--;
	r->munis[1].f.completed--;
	r->munis[1].f.by_first--;
	r->week[3][7].f.texts++; /* a text counted at two hours */
	assert_false(gw_report_balanced(r));
	gw_report_free(r);
}

static void test_formats(void **state)
{
	struct gw_report *r = build(m0, m1);
	static char buf[16384];
	FILE *f;
	(void)state;

	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_TEXT, f), 0);
	fclose(f);
	assert_non_null(strstr(
	    buf, "report 2026-03-01T00:00+02:00 .. 2026-04-01T00:00+03:00 (Europe/Helsinki)\n"
		 "authority calls: 11\n"
		 "  outcome: completed 4, unanswered 1, unstaffed 1, busy 1, "
		 "abandoned by the officer 1, failed 2, open 1\n"
		 "  taken by: first worker 3, a later step 1, fallback 1, nobody 6\n"
		 "  time to accept: p50 30.0 s, p90 75.0 s, max 75.0 s; within 60 "
		 "s: 4\ntexts: 2, statuses: 1, call-backs: 1\n"
		 "check: 15 incidents in the range, counted 15 (11 calls + 2 texts "
		 "+ 1 statuses + 1 call-backs): ok\n"));

	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_CSV, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "from,to,scope,key,name,calls,completed,unanswered,unstaffed,"
				    "busy,abandoned,failed,open,first_worker,later_step,fallback,"
				    "nobody,accepted_within_60s,accept_p50_s,accept_p90_s,"
				    "accept_max_s,texts,statuses,callbacks\r\n"));
	/* the month crosses the change to summer time: each end with its own offset */
	assert_non_null(strstr(buf, "2026-03-01T00:00+02:00,2026-04-01T00:00+03:00,total,,,11,4,1,"
				    "1,1,1,2,1,"
				    "3,1,1,6,4,30.0,75.0,75.0,2,1,1\r\n"));
	assert_non_null(
	    strstr(buf, ",line,mhs,,3,1,0,0,0,0,2,0,1,0,1,1,1,5.0,75.0,75.0,0,1,0\r\n"));
	assert_non_null(strstr(buf, ",organisation,,(not in the directory),1,0,0,0,0,1,0,0,0,0,0,"
				    "1,0,,,,1,0,0\r\n"));
	assert_non_null(strstr(buf, ",organisation,\"Poliisi, Mikkeli\",\"Poliisi, Mikkeli\",7,"));
	assert_non_null(strstr(buf, ",municipality,Sulkava,contract municipality,1,1,0,0,0,0,0,0,"
				    "0,0,1,0,0,75.0,75.0,75.0,0,1,0\r\n"));
	assert_non_null(strstr(buf, ",municipality,Mikkeli,member municipality,9,"));
	assert_non_null(strstr(buf, ",municipality,,(no municipality),1,"));
	assert_non_null(strstr(buf, ",weekday_hour,sun 00,sun 00:00-00:59,2,1,0,0,0,0,1,0,1,0,0,"
				    "1,1,12.0,12.0,12.0,0,0,0\r\n"));
	assert_non_null(strstr(buf, ",weekday_hour,tue 23,tue 23:00-23:59,1,"));
	assert_null(strstr(buf, ",weekday_hour,tue 22,"));

	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_JSON, f), 0);
	fclose(f);
	assert_non_null(
	    strstr(buf, "{\"from\":\"2026-03-01T00:00+02:00\",\"to\":\"2026-04-01T00:00+03:00\","
			"\"within_s\":60,\"check\":{\"incidents\":15,\"counted\":15,"
			"\"ok\":true},\"total\":{\"scope\":\"total\",\"calls\":11,"));
	assert_non_null(strstr(buf, "{\"organisation\":\"\",\"calls\":1,\"completed\":0,"));
	assert_non_null(strstr(buf, "\"accept_p50_s\":null"));
	assert_non_null(strstr(buf,
			       "\"municipalities\":[{\"municipality\":\"\",\"membership\":null,"
			       "\"calls\":1,"));
	assert_non_null(strstr(buf, "{\"municipality\":\"Sulkava\",\"membership\":\"contract\","
				    "\"calls\":1,\"completed\":1,"));
	assert_non_null(
	    strstr(buf, "\"weekday_hours\":[{\"weekday\":\"mon\",\"hour\":0,\"calls\":2,"));
	gw_report_free(r);
}

/* Every time printed carries its offset: across the end of summer time (25 October 2026,
   04:00 EEST -> 03:00 EET) the same local clock time is two instants, told apart only by
   the offset, in the CSV, the JSON and the text. */
static void test_times_carry_their_zone(void **state)
{
	(void)state;
	struct tm t0 = {
	    .tm_year = 2026 - 1900, .tm_mon = 9, .tm_mday = 25, .tm_hour = 0, .tm_min = 30};
	int64_t a = (int64_t)timegm(&t0) * 1000;      /* 03:30 summer time */
	struct gw_report *r = build(a, a + 3600 * S); /* 03:30 winter time */
	static char buf[16384];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_CSV, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\r\n2026-10-25T03:30+03:00,2026-10-25T03:30+02:00,total,"));
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_JSON, f), 0);
	fclose(f);
	assert_non_null(
	    strstr(buf, "{\"from\":\"2026-10-25T03:30+03:00\",\"to\":\"2026-10-25T03:30+02:00\","));
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_TEXT, f), 0);
	fclose(f);
	assert_non_null(strstr(
	    buf, "report 2026-10-25T03:30+03:00 .. 2026-10-25T03:30+02:00 (Europe/Helsinki)\n"));
	gw_report_free(r);
	/* a range over the change, from and to at local midnight */
	r = build(gw_roster_local_to_utc(2026, 10, 20, 0), gw_roster_local_to_utc(2026, 11, 1, 0));
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_CSV, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\r\n2026-10-20T00:00+03:00,2026-11-01T00:00+02:00,total,"));
	gw_report_free(r);
}

/*
 * The charts' counts by hand: 1 March 2026 (day 0) was a Sunday. Calls 1-9 on days 0-8 and
 * 13 on day 12 start at local 00:00; call 14 at 31 March 23:59:59.999 (summer time since
 * the 29th): Sunday 0 and 7, Monday 1 and 8, Tuesday 2, Wednesday 3, Thursday 4, Friday 5
 * and 12, Saturday 6 at hour 0; Tuesday 30 at hour 23. Accepts 5 12 30 40 75 s fall in
 * the bins up to 10, 20, 30, 45 and 90 s.
 */
static void test_charts_by_hand(void **state)
{
	struct gw_report *r = build(m0, m1);
	(void)state;

	assert_int_equal(r->n_days, 31);
	assert_int_equal(r->day0, 20513); /* 2026-03-01 */
	for (size_t i = 0; i < r->n_days; i++)
		assert_int_equal(r->per_day[i], i <= 8 || i == 12 || i == 30 ? 1 : 0);
	const int64_t h0[7] = {2, 2, 1, 1, 1, 2, 1}; /* Sunday first */
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++) {
			int64_t n = r->week[(d + 6) % 7][h].f.calls; /* week[]: Monday first */
			if (n != (h == 0 ? h0[d] : h == 23 && d == 2 ? 1 : 0))
				fail_msg("weekday %d hour %d: %lld", d, h, (long long)n);
		}
	const int64_t bins[GW_REPORT_ACC_BINS] = {1, 1, 1, 1, 0, 1, 0, 0, 0, 0};
	assert_memory_equal(r->acc_bins, bins, sizeof(bins));
	assert_true(gw_report_balanced(r));
	r->per_day[3]++; /* a call on two days */
	assert_false(gw_report_balanced(r));
	r->per_day[3]--;
	r->week[4][5].f.calls++;
	assert_false(gw_report_balanced(r));
	r->week[4][5].f.calls--;
	r->acc_bins[9]++;
	assert_false(gw_report_balanced(r));
	gw_report_free(r);

	/* a range from mid-day: its first day is that local date; an evening call on it */
	r = build(m0 + 12 * 3600 * S, m0 + 2 * 86400 * S + 1);
	assert_int_equal(r->n_days, 3);
	assert_int_equal(r->day0, 20513);
	assert_int_equal(r->per_day[0], 0);
	assert_int_equal(r->per_day[1], 1);
	assert_int_equal(r->per_day[2], 1);
	assert_true(gw_report_balanced(r));
	gw_report_free(r);

	struct gw_db *db;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_report_build(db, 0, (GW_REPORT_DAYS_MAX + 1) * 86400LL * S, 0, &r),
			 -E2BIG);
	assert_null(r);
	gw_db_close(db);
}

/* A name that a spreadsheet would run as a formula is defused in the CSV. */
static void test_csv_defuses_formulas(void **state)
{
	struct gw_db *db;
	struct gw_report *r;
	static char buf[8192];
	int64_t t = gw_roster_local_to_utc(2027, 1, 5, 12 * 60);
	const struct ev ev[] = {{0, "unstaffed", "x"}, {0}};
	FILE *f;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	seed(db, t, "sos", "=HYPERLINK(\"x\")", "unstaffed", NULL, ev);
	assert_int_equal(gw_report_build(db, t, t + 1, 60 * S, &r), 0);
	gw_db_close(db);
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_CSV, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, ",organisation,\"'=HYPERLINK(\"\"x\"\")\","));
	gw_report_free(r);
}

/* The county report: incidents fed one by one, each also counted under its gateway. */
static void test_gateways(void **state)
{
	struct gw_report *r;
	char buf[8192];
	FILE *f;
	const int64_t t = 1765000000000LL;
	struct gw_db_report_inc a = {.id = 1,
				     .started_ms = t,
				     .line = "sos",
				     .caller = "2269001",
				     .outcome = "completed",
				     .accept_ms = t + 20 * S,
				     .accepted = "aino +358401234567",
				     .first_page = "aino +358401234567",
				     .pages = 1,
				     .gateway = "mikkeli-1"};
	struct gw_db_report_inc b = a, c = a;

	(void)state;
	b.id = 7;
	b.started_ms = t + 60 * S;
	b.outcome = "unanswered";
	b.accepted = NULL;
	b.pages = 3;
	b.gateway = "savonlinna-1";
	c.id = 2;
	c.started_ms = t + 90 * S;
	c.accept_ms = t + 130 * S;
	c.gateway = "mikkeli-1";
	assert_int_equal(gw_report_new(t, t + 3600 * S, 60 * S, &r), 0);
	assert_int_equal(gw_report_add(r, &a), 0);
	assert_int_equal(gw_report_add(r, &b), 0);
	assert_int_equal(gw_report_add(r, &c), 0);
	gw_report_finish(r, 3);
	assert_true(gw_report_balanced(r));
	assert_int_equal(r->total.calls, 3);
	assert_int_equal(r->n_gateways, 2);
	assert_string_equal(r->gateways[0].key, "mikkeli-1");
	assert_int_equal(r->gateways[0].f.calls, 2);
	assert_int_equal(r->gateways[0].f.completed, 2);
	assert_int_equal(r->gateways[0].f.accept_p50, 20 * S);
	assert_int_equal(r->gateways[0].f.accept_max, 40 * S);
	assert_string_equal(r->gateways[1].key, "savonlinna-1");
	assert_int_equal(r->gateways[1].f.unanswered, 1);
	assert_int_equal(r->gateways[1].f.escalated, 1);
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_CSV, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, ",gateway,mikkeli-1,,2,"));
	assert_non_null(strstr(buf, ",gateway,savonlinna-1,,1,"));
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_TEXT, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "check: 3 incidents in the range, counted 3"));
	assert_non_null(strstr(buf, "\nper gateway:\nGATEWAY"));
	assert_non_null(strstr(buf, "\nsavonlinna-1 "));
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(gw_report_write(r, NULL, GW_REPORT_JSON, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, ",\"gateways\":[{\"gateway\":\"mikkeli-1\",\"calls\":2,"));
	/* the source counting one more than was fed: the check says so */
	gw_report_finish(r, 4);
	assert_false(gw_report_balanced(r));
	gw_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_month_by_hand),
	    cmocka_unit_test(test_line_rows),
	    cmocka_unit_test(test_sub_range),
	    cmocka_unit_test(test_check_catches_a_miscount),
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_times_carry_their_zone),
	    cmocka_unit_test(test_csv_defuses_formulas),
	    cmocka_unit_test(test_charts_by_hand),
	    cmocka_unit_test(test_gateways),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
