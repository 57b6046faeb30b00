/*
 * Unit tests for gateway/service/pager.c: the table of first pages looked up before an
 * incident is built must name exactly whom the incident pages first. The incident runs for
 * real (gateway/service/call.c with fake legs, no call log); rosters are random CSV files
 * imported into a database in a temporary directory; the clock is frozen.
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
#include "service/call.h"
#include "service/pager.h"
#include "store/db.h"
#include "store/roster.h"

/* 2026-11-25T12:00:00Z, a Wednesday */
#define T0_WALL 1795608000000LL
#define HOUR_MS 3600000LL

struct fx {
	char dir[64], path[128];
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_db *db;
	struct gw_roster *roster, *old;
	struct gw_calls *calls;
	struct gw_pager *pager;
	bool ready;
	char dialled[64]; /* the first number the incident dialled */
	int ndials;
	int64_t mono;
};

static int op_ok_cci(void *arg, int cci)
{
	(void)arg;
	(void)cci;
	return 0;
}
static int op_dial(void *arg, const char *number)
{
	struct fx *f = arg;
	if (f->ndials++ == 0)
		snprintf(f->dialled, sizeof(f->dialled), "%s", number);
	return 0;
}
static int op_ok(void *arg)
{
	(void)arg;
	return 0;
}
static int op_text(void *arg, const char *to, const char *text)
{
	(void)arg;
	(void)to;
	(void)text;
	return 0;
}
static void op_announce(void *arg, const char *org)
{
	(void)arg;
	(void)org;
}
static bool pager_ready(void *arg)
{
	return ((struct fx *)arg)->ready;
}

static void parse_err(const char *file, unsigned line, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* Replace the roster with csv (loaded as of T0) and hand it to the incidents. */
static void load_roster(struct fx *f, const char *csv)
{
	struct gw_db_roster r;
	int rc = gw_roster_parse_csv("test.csv", csv, strlen(csv), &r, parse_err, NULL);
	if (rc != 0)
		fail_msg("roster does not parse:\n%s", csv);
	assert_int_equal(gw_db_roster_replace(f->db, &r), 0);
	gw_db_roster_clear(&r);
	gw_roster_free(f->old);
	f->old = f->roster; /* kept one generation: a table may still point at it */
	assert_int_equal(gw_roster_load_at(f->db, T0_WALL, &f->roster), 0);
	gw_calls_set_roster(f->calls, f->roster);
}

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	/* thousands of incidents: their notices and warnings are not under test */
	gw_log_set_level(GW_LOG_CALL, GW_LOG_ERROR);
	snprintf(f.dir, sizeof(f.dir), "/tmp/rinki-pager-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/rinki.db", f.dir);
	assert_int_equal(gw_db_open(f.path, &f.db), 0);
	f.loop = gw_loop_new();
	f.mono = 5000;
	gw_loop_clock_override(f.loop, f.mono, T0_WALL);
	gw_conf_defaults(&f.conf);
	struct gw_call_ops ops = {.radio_answer = op_ok_cci,
				  .radio_hangup = op_ok_cci,
				  .phone_dial = op_dial,
				  .phone_hangup = op_ok,
				  .phone_sms = op_text,
				  .phone_reject = op_ok,
				  .radio_sds = op_text,
				  .announce = op_announce,
				  .arg = &f};
	/* no call log: the incident's routing and paging are what is under test */
	assert_int_equal(gw_calls_new(f.loop, &f.conf, NULL, &ops, &f.calls), 0);
	struct gw_pager_ops pops = {.ready = pager_ready, .arg = &f};
	assert_int_equal(gw_pager_new(f.loop, f.calls, &pops, &f.pager), 0);
	f.ready = true;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	gw_pager_free(f->pager);
	gw_calls_free(f->calls);
	gw_roster_free(f->roster);
	gw_roster_free(f->old);
	gw_db_close(f->db);
	gw_loop_free(f->loop);
	static const char *const ext[] = {"", "-wal", "-shm", ".key", ".anchor"};
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s/rinki.db%s", f->dir, ext[i]);
		unlink(p);
	}
	assert_int_equal(rmdir(f->dir), 0);
	return 0;
}

/* Set the frozen clock to wall (monotonic time only moves forward). */
static void clock_at(struct fx *f, int64_t wall)
{
	f->mono += 1000;
	gw_loop_clock_override(f->loop, f->mono, wall);
}

/*
 * Run the normal path for caller at wall: the incident starts, whatever it dials first is
 * in f->dialled ("" when nothing), and the officer hangs up so the next one may start.
 */
static void normal_path(struct fx *f, const char *caller, int64_t wall)
{
	struct gw_pei_call_in in = {.cci = 7, .comms_type = 0};
	snprintf(in.calling, sizeof(in.calling), "%s", caller);
	f->dialled[0] = '\0';
	f->ndials = 0;
	gw_calls_radio_incoming_at(f->calls, &in, wall);
	gw_calls_radio_released(f->calls, 7, 1);
	assert_true(gw_calls_may_page(f->calls));
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of a UTC ms time. */
static void fmt_utc(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

#define NW 6
static const char *const lines[] = {"sos", "mhs", "lsp"};
static const char *const callers[] = {
    "2269001",		 "2269015", "2275001", "2275123", "3000001", /* the directory */
    "09011638302269001",					     /* a directory ISSI as a TSI */
    "02269001",							     /* ... with a leading zero */
    "7777777",							     /* not in the directory */
};
#define N_DIR 5

/* Duty and override edges of the last random roster, to test right at them. */
static int64_t edges[256];
static int nedges;

/* A time near T0 for a shift or override: whole minutes, or (1 in 3) any millisecond. */
static int64_t rand_time(void)
{
	int64_t t = T0_WALL - 6 * HOUR_MS + (int64_t)(rand() % (16 * 60)) * 60000;
	if (rand() % 3 == 0)
		t += rand() % 60000;
	if (nedges < 256)
		edges[nedges++] = t;
	return t;
}

/*
 * A random roster: three lines (lsp sometimes with office hours whose after-hours line is
 * sos or mhs), six workers (some inactive), shifts, overrides, escalation chains with and
 * without fallback, routes by prefix and by a time window, five directory entries. Lines
 * may have nobody on duty.
 */
static void random_roster(char *csv, size_t len)
{
	size_t n = 0;
	char a[40], b[40];
	nedges = 0;
#define ADD(...) (n += (size_t)snprintf(csv + n, len - n, __VA_ARGS__), assert_true(n < len))
	ADD("line,sos,Sos,Sos,Sos\nline,mhs,Mhs,Mhs,Mhs\n");
	if (rand() % 2)
		ADD("line,lsp,Lsp,Lsp,Lsp,mon-fri,%02d:00-%02d:30,%s\n", 6 + rand() % 6,
		    12 + rand() % 8, rand() % 2 ? "sos" : "mhs");
	else
		ADD("line,lsp,Lsp,Lsp,Lsp\n");
	for (int w = 0; w < NW; w++)
		ADD("worker,w%d,Worker %d,+35840000000%d,,%d\n", w, w, w, rand() % 8 ? 1 : 0);
	for (int l = 0; l < 3; l++)
		for (int w = 0, pos = 1; w < NW; w++) {
			if (rand() % 5 >= 2)
				continue;
			int64_t s = rand_time(), e = s + (1 + rand() % 10) * HOUR_MS / 2;
			if (rand() % 3 == 0)
				e += rand() % 60000;
			if (nedges < 256)
				edges[nedges++] = e;
			fmt_utc(s, a, sizeof(a));
			fmt_utc(e, b, sizeof(b));
			ADD("shift,%s,w%d,%s,%s,%d\n", lines[l], w, a, b, pos++);
		}
	for (int k = rand() % 3; k > 0; k--) {
		int64_t s = rand_time(), e = s + (1 + rand() % 6) * HOUR_MS / 2;
		if (nedges < 256)
			edges[nedges++] = e;
		fmt_utc(s, a, sizeof(a));
		fmt_utc(e, b, sizeof(b));
		int w = rand() % NW, by = (w + 1 + rand() % (NW - 1)) % NW;
		const char *l = rand() % 3 ? lines[rand() % 3] : "";
		switch (rand() % 3) {
		case 0:
			ADD("override,remove,%s,w%d,%s,%s\n", l, w, a, b);
			break;
		case 1:
			ADD("override,add,%s,w%d,%s,%s,%d\n", l[0] ? l : "sos", w, a, b,
			    1 + rand() % 3);
			break;
		default:
			ADD("override,replace,%s,w%d,%s,%s,w%d\n", l, w, a, b, by);
		}
	}
	for (int l = 0; l < 3; l++) {
		if (rand() % 3 == 0) {
			ADD("chain_step,%s,1,person,w%d\n", lines[l], rand() % NW);
			ADD("chain_step,%s,2,oncall,%s\n", lines[l], lines[(l + 1) % 3]);
		}
		if (rand() % 2) {
			if (rand() % 2)
				ADD("chain,%s,%d,w%d\n", lines[l], 1 + rand() % 3, rand() % NW);
			else
				ADD("chain,%s,%d,\n", lines[l], 1 + rand() % 3);
		}
	}
	ADD("route,sos,,0\nroute,mhs,2275,10\n");
	if (rand() % 2)
		ADD("route,lsp,22690,10,,%02d:%02d-%02d:00\n", 8 + rand() % 8, rand() % 60,
		    16 + rand() % 6);
	else
		ADD("route,lsp,226901,10\n");
	for (int i = 0; i < N_DIR; i++)
		ADD("directory,%s,Org %d\n", callers[i], i);
#undef ADD
}

/*
 * Property: over random rosters, times (random ones and right at every duty and override
 * edge) and callers, whenever the table names a number the incident dials exactly that
 * number first, and whenever it has a table for the second, a directory caller without an
 * entry is one the incident pages nobody for. Callers outside the directory (or not in its
 * exact form) never have an entry.
 */
static void test_table_pages_whom_the_incident_pages(void **state)
{
	struct fx *f = *state;
	static char csv[16384];
	int hits = 0, none = 0, tables = 0, unsteady = 0;
	srand(1313);
	for (int r = 0; r < 60; r++) {
		random_roster(csv, sizeof(csv));
		load_roster(f, csv);
		int ne = nedges;
		int64_t ts[64 + 3 * 256];
		int nt = 0;
		for (int k = 0; k < 24; k++)
			ts[nt++] = T0_WALL - 8 * HOUR_MS + (int64_t)rand() % (20 * HOUR_MS);
		for (int k = 0; k < ne; k++)
			for (int d = -1; d <= 1; d++)
				ts[nt++] = edges[k] + d;
		for (int k = 0; k < nt; k++) {
			int64_t t = ts[k];
			clock_at(f, t);
			int rc = gw_pager_refresh(f->pager, t);
			assert_true(rc >= 0);
			int64_t sec = t / 1000;
			bool steady = gw_roster_steady(f->roster, sec * 1000, sec * 1000 + 1000);
			tables += steady;
			unsteady += !steady;
			for (size_t c = 0; c < sizeof(callers) / sizeof(callers[0]); c++) {
				/* the call comes later within the same second */
				int64_t t2 = sec * 1000 + (t % 1000) + rand() % (1000 - t % 1000);
				char want[32] = "";
				const char *p = gw_pager_lookup(f->pager, callers[c], t2);
				if (p)
					snprintf(want, sizeof(want), "%s", p);
				normal_path(f, callers[c], t2);
				if (p) {
					assert_true(steady && c < N_DIR);
					assert_string_equal(f->dialled, want);
					hits++;
				} else if (steady && c < N_DIR) {
					assert_string_equal(f->dialled, "");
					none++;
				}
			}
		}
	}
	/* the property was exercised both ways, and seconds with an edge inside were met */
	assert_true(hits > 1000);
	assert_true(none > 100);
	assert_true(unsteady > 10);
	(void)tables;
}

static const char base_csv[] = "line,sos,Sos,Sos,Sos\n"
			       "worker,aino,Aino,+358401234567,\n"
			       "worker,mikko,Mikko,+358401234568,\n"
			       "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
			       "shift,sos,mikko,2026-11-25T00:00Z,2026-11-26T00:00Z,2\n"
			       "route,sos,,0\n"
			       "directory,2269001,Poliisi\n";

/* A table is for one second: the next second (even the next millisecond) has none. */
static void test_second_boundary(void **state)
{
	struct fx *f = *state;
	load_roster(f, base_csv);
	int64_t t = T0_WALL + 999;
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL), 1);
	assert_string_equal(gw_pager_lookup(f->pager, "2269001", t), "+358401234567");
	assert_null(gw_pager_lookup(f->pager, "2269001", t + 1));
	assert_null(gw_pager_lookup(f->pager, "2269001", T0_WALL - 1));
	assert_null(gw_pager_lookup(f->pager, "7777777", t)); /* not in the directory */
}

/* A roster set after the table was built: no answer until the next rebuild. */
static void test_roster_change_between_build_and_call(void **state)
{
	struct fx *f = *state;
	load_roster(f, base_csv);
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL), 1);
	/* Aino is removed in the new roster: the old table would page her */
	static char csv[1024];
	snprintf(csv, sizeof(csv),
		 "%soverride,remove,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z\n", base_csv);
	load_roster(f, csv);
	assert_null(gw_pager_lookup(f->pager, "2269001", T0_WALL + 10));
	normal_path(f, "2269001", T0_WALL + 10);
	assert_string_equal(f->dialled, "+358401234568");
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL + 20), 1);
	assert_string_equal(gw_pager_lookup(f->pager, "2269001", T0_WALL + 30), "+358401234568");
}

/* A duty edge inside the second: no table for it (the page differs within it). */
static void test_edge_inside_the_second(void **state)
{
	struct fx *f = *state;
	static char csv[1024];
	snprintf(csv, sizeof(csv),
		 "%soverride,remove,sos,aino,2026-11-25T12:00:00.500Z,2026-11-25T13:00Z\n",
		 base_csv);
	load_roster(f, csv);
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL), 0);
	assert_int_equal(gw_pager_stats(f->pager)->unsteady, 1);
	assert_null(gw_pager_lookup(f->pager, "2269001", T0_WALL + 100));
	/* why: the incident pages Aino at .499 and Mikko at .500 */
	normal_path(f, "2269001", T0_WALL + 499);
	assert_string_equal(f->dialled, "+358401234567");
	normal_path(f, "2269001", T0_WALL + 500);
	assert_string_equal(f->dialled, "+358401234568");
	/* the next second is steady again */
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL + 1000), 1);
	assert_string_equal(gw_pager_lookup(f->pager, "2269001", T0_WALL + 1000), "+358401234568");
}

/* A roster with no directory (or an empty one, as at a start without a roster): an empty
   table, no answer, and nothing handed to qsort or bsearch without an array. */
static void test_empty_directory(void **state)
{
	struct fx *f = *state;
	load_roster(f, "line,sos,Sos,Sos,Sos\n"
		       "worker,aino,Aino,+358401234567,\n"
		       "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
		       "route,sos,,0\n");
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL), 0);
	assert_int_equal(gw_pager_stats(f->pager)->entries, 0);
	assert_null(gw_pager_lookup(f->pager, "2269001", T0_WALL));
	normal_path(f, "2269001", T0_WALL);
	assert_string_equal(f->dialled, "+358401234567"); /* the normal path still pages */
}

/* Busy (an incident live), not ready (a device, a page test): no table and no answer. */
static void test_only_while_a_page_may_start(void **state)
{
	struct fx *f = *state;
	load_roster(f, base_csv);
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL), 1);
	struct gw_pei_call_in in = {.cci = 3, .calling = "2269001"};
	gw_calls_radio_incoming_at(f->calls, &in, T0_WALL);
	assert_false(gw_calls_may_page(f->calls));
	assert_null(gw_pager_lookup(f->pager, "2269001", T0_WALL + 1)); /* busy */
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL + 1000), 0);
	gw_calls_radio_released(f->calls, 3, 1);
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL + 2000), 1);
	f->ready = false;
	assert_null(gw_pager_lookup(f->pager, "2269001", T0_WALL + 2001));
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL + 3000), 0);
	f->ready = true;
	/* nobody on duty and no fallback: no entry, and the incident pages nobody */
	clock_at(f, T0_WALL + 2 * 86400000LL);
	assert_int_equal(gw_pager_refresh(f->pager, T0_WALL + 2 * 86400000LL), 0);
	normal_path(f, "2269001", T0_WALL + 2 * 86400000LL);
	assert_string_equal(f->dialled, "");
}

/* The rebuild runs on its timer once a second, just after the second starts. */
static void test_rebuilt_once_a_second(void **state)
{
	struct fx *f = *state;
	load_roster(f, base_csv);
	gw_loop_clock_advance(f->loop, 1); /* the first rebuild, queued at creation */
	unsigned before = gw_pager_stats(f->pager)->rebuilds;
	assert_true(before >= 1);
	for (int i = 0; i < 10000; i += 7)
		gw_loop_clock_advance(f->loop, 7);
	unsigned n = gw_pager_stats(f->pager)->rebuilds - before;
	assert_in_range(n, 9, 10);
	int64_t now = gw_loop_wall_ms(f->loop);
	assert_string_equal(gw_pager_lookup(f->pager, "2269001", now), "+358401234567");
}

/* Not a timing assertion: the CPU time of a rebuild for a 1,000-worker directory, printed. */
static void test_rebuild_cost_1000(void **state)
{
	struct fx *f = *state;
	size_t cap = 1 << 20, n = 0;
	char *csv = malloc(cap);
	assert_non_null(csv);
#define ADD(...) (n += (size_t)snprintf(csv + n, cap - n, __VA_ARGS__), assert_true(n < cap))
	for (int l = 0; l < 20; l++)
		ADD("line,l%02d,L,L,L\n", l);
	for (int w = 0; w < 1000; w++) {
		ADD("worker,w%d,W %d,+358409%06d,%d\n", w, w, w, 3000000 + w);
		ADD("shift,l%02d,w%d,2026-11-25T00:00Z,2026-11-26T00:00Z,%d\n", w % 20, w,
		    w / 20 + 1);
		ADD("directory,%d,Org %d\n", 2200000 + w, w);
	}
	for (int l = 0; l < 20; l++)
		ADD("route,l%02d,22%02d,10\n", l, l);
	ADD("route,l00,,0\n");
#undef ADD
	load_roster(f, csv);
	free(csv);
	int64_t best = -1;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(gw_pager_refresh(f->pager, T0_WALL + i * 1000), 1000);
		int64_t ns = gw_pager_stats(f->pager)->build_ns;
		if (best < 0 || ns < best)
			best = ns;
	}
	printf("pager: rebuild for 1000 directory entries, 1000 workers, 20 lines: %lld us CPU "
	       "(best of 5)\n",
	       (long long)(best / 1000));
	normal_path(f, "2200999", T0_WALL + 4000);
	assert_string_equal(gw_pager_lookup(f->pager, "2200999", T0_WALL + 4000), f->dialled);
}

/* An incident that closes within a second: the kick rebuilds the table on the loop's next
   turn (not at the next second), once a second at most. */
static void test_kick_after_the_incident(void **state)
{
	struct fx *f = *state;
	load_roster(f, base_csv);
	gw_loop_clock_advance(f->loop, 1); /* the rebuild queued at creation */
	int64_t now = gw_loop_wall_ms(f->loop);
	struct gw_pei_call_in in = {.cci = 3, .calling = "2269001"};
	gw_calls_radio_incoming_at(f->calls, &in, now);
	gw_loop_clock_advance(f->loop, 1000 - now % 1000 + 1); /* next second: busy, no table */
	now = gw_loop_wall_ms(f->loop);
	assert_null(gw_pager_lookup(f->pager, "2269001", now));
	unsigned before = gw_pager_stats(f->pager)->rebuilds;
	gw_calls_radio_released(f->calls, 3, 1);
	gw_pager_kick(f->pager);
	gw_pager_kick(f->pager);
	gw_loop_clock_advance(f->loop, 0);
	assert_int_equal(gw_pager_stats(f->pager)->rebuilds, before + 1);
	assert_string_equal(gw_pager_lookup(f->pager, "2269001", now), "+358401234567");
	/* a good table: no rebuild; once a second at most */
	gw_pager_kick(f->pager);
	gw_loop_clock_advance(f->loop, 0);
	assert_int_equal(gw_pager_stats(f->pager)->rebuilds, before + 1);
	gw_calls_set_roster(f->calls, f->roster); /* a new generation */
	gw_pager_kick(f->pager);
	gw_loop_clock_advance(f->loop, 0);
	assert_int_equal(gw_pager_stats(f->pager)->rebuilds, before + 1);
	assert_null(gw_pager_lookup(f->pager, "2269001", now));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_table_pages_whom_the_incident_pages, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_second_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roster_change_between_build_and_call, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_edge_inside_the_second, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_while_a_page_may_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebuilt_once_a_second, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kick_after_the_incident, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebuild_cost_1000, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
