/*
 * test_roster: the in-memory snapshot (routing, chains, directory) and the CSV import.
 *
 * Rosters are written as CSV text, imported into a database in a mkdtemp directory
 * and loaded back, so every test goes through the same path as rinkictl and rinkid.
 * A year of generated shifts is checked against a brute-force scan.
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
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store/db.h"
#include "core/log.h"
#include "store/roster.h"
#include "store/roster_fields.h"

static char dir[] = "/tmp/rinki-test-roster-XXXXXX";
static char dbpath[256], csvpath[256];
static struct gw_db *db;

/* Errors reported by the parser, as "file:line: reason". */
static char errs[32][300];
static int n_errs;

static void on_err(const char *file, unsigned line, const char *reason, void *arg)
{
	(void)arg;
	if (n_errs < 32)
		snprintf(errs[n_errs], sizeof(errs[0]), "%s:%u: %s", file, line, reason);
	n_errs++;
}

/* True when some reported error starts with prefix and contains text. */
static bool has_err(const char *prefix, const char *text)
{
	for (int i = 0; i < n_errs && i < 32; i++)
		if (strncmp(errs[i], prefix, strlen(prefix)) == 0 && strstr(errs[i], text))
			return true;
	for (int i = 0; i < n_errs && i < 32; i++)
		print_message("  reported: %s\n", errs[i]);
	print_message("  missing: %s...%s\n", prefix, text);
	return false;
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/roster.db", dir);
	snprintf(csvpath, sizeof(csvpath), "%s/r.csv", dir);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	return 0;
}

static int group_teardown(void **state)
{
	const char *suffix[] = {"", "-wal", "-shm", ".key", ".anchor"};
	char f[300];

	(void)state;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", dbpath, suffix[i]);
		unlink(f);
	}
	unlink(csvpath);
	return rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	n_errs = 0;
	return gw_db_open(dbpath, &db);
}

static int teardown(void **state)
{
	(void)state;
	gw_db_close(db);
	db = NULL;
	return 0;
}

static int import_text(const char *text)
{
	FILE *f = fopen(csvpath, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	n_errs = 0;
	return gw_roster_import_file(db, csvpath, on_err, NULL, NULL);
}

/* A Helsinki wall-clock time (roster file syntax). */
static int64_t lt(const char *local)
{
	char why[240];
	int64_t ms;
	assert_int_equal(gw_roster_parse_local_time(local, &ms, why, sizeof(why)), 0);
	return ms;
}

static struct gw_roster *load(void)
{
	struct gw_roster *r;
	assert_int_equal(gw_roster_load(db, &r), 0);
	return r;
}

static int64_t t(const char *iso)
{
	int64_t ms;
	assert_int_equal(gw_roster_parse_time(iso, &ms), 0);
	return ms;
}

/* The chain at an instant as "h1,h2,..." (empty when nobody). */
static const char *chain(const struct gw_roster *r, const char *line, int64_t at)
{
	static char buf[256];
	struct gw_roster_step s[GW_ROSTER_CHAIN_MAX];
	int n = gw_roster_chain(r, line, at, s, GW_ROSTER_CHAIN_MAX);

	assert_true(n >= 0);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, s[i].handle);
	}
	return buf;
}

static const char *base_roster =
    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
    "line,mhs,Mielenterveys- ja päihdepäivystys,Mentalvårdsjour,Mental health on-call\n"
    "worker,aino,Aino Virtanen,+358401234567,\n"
    "worker,mikko,Mikko Korhonen,+358401234568,\n"
    "worker,leena,Leena Mäkinen,+358401234569,\n"
    "worker,olli,Olli Salonen,+358401234578,,0\n";

static char *export_text(void);
static const char *plan_str(const struct gw_roster *r, const char *line, int64_t at,
			    struct gw_roster_plan *p);

/* ---- time ---------------------------------------------------------------------------- */

static void test_parse_time(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(t("1970-01-01T00:00Z"), 0);
	assert_int_equal(t("2026-01-01T00:00Z"), 1767225600000);
	assert_int_equal(t("2026-01-01T02:00+02:00"), 1767225600000);
	assert_int_equal(t("2026-01-01T02:00+0200"), 1767225600000);
	assert_int_equal(t("2025-12-31T21:00-03"), 1767225600000);
	assert_int_equal(t("2026-01-01T00:00:01.5Z"), 1767225601500);
	assert_int_equal(t("2026-01-01T00:00:01.123456Z"), 1767225601123);
	assert_int_equal(t("2028-02-29T00:00Z") - t("2028-02-28T00:00Z"), 86400000);
	assert_int_equal(t("2026-03-01T00:00Z") - t("2026-02-28T00:00Z"), 86400000);
	const char *bad[] = {
	    "2026-02-29T00:00Z", /* not a leap year */
	    "2026-13-01T00:00Z",
	    "2026-01-32T00:00Z",
	    "2026-01-01T24:00Z",
	    "2026-01-01T00:60Z",
	    "2026-01-01T00:00", /* no zone */
	    "2026-01-01 00:00Z",
	    "2026-01-01T00:00Zx",
	    "2026-01-01T00:00+15:00",
	    "2026-01-01T00:00+02:",
	    "2026-01-01T00:00:00.Z",
	    "1969-12-31T23:59Z",
	    "",
	    "26-01-01T00:00Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gw_roster_parse_time(bad[i], &ms) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
}

/* ---- chains -------------------------------------------------------------------------- */

static void test_shift_boundaries(void **state)
{
	char csv[2048];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%sshift,sos,aino,2026-03-01T08:00+02:00,2026-03-01T16:00+02:00,1\n"
		 "shift,sos,mikko,2026-03-01T16:00+02:00,2026-03-02T08:00+02:00,1\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load();
	int64_t start = t("2026-03-01T06:00Z"), end = t("2026-03-01T14:00Z");
	assert_string_equal(chain(r, "sos", start - 1), "");
	assert_string_equal(chain(r, "sos", start), "aino");   /* at the start: on duty */
	assert_string_equal(chain(r, "sos", end - 1), "aino"); /* last ms */
	assert_string_equal(chain(r, "sos", end), "mikko");    /* at the end: handed off */
	assert_string_equal(chain(r, "sos", t("2026-03-02T06:00Z")), ""); /* mikko's end */
	assert_string_equal(chain(r, "mhs", start), "");		  /* known line, nobody */
	gw_roster_free(r);
}

static void test_chain_order(void **state)
{
	char csv[2048];
	struct gw_roster_step s[GW_ROSTER_CHAIN_MAX];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 /* listed out of order on purpose */
		 "shift,sos,leena,2026-01-01T00:00Z,2027-01-01T00:00Z,3\n"
		 "shift,sos,mikko,2026-03-01T06:00Z,2026-03-01T18:00Z,2\n"
		 "shift,sos,aino,2026-03-01T06:00Z,2026-03-01T18:00Z,1\n"
		 /* same position as mikko but starts earlier: goes first among the 2s */
		 "shift,mhs,mikko,2026-03-01T08:00Z,2026-03-01T12:00Z,2\n"
		 "shift,mhs,aino,2026-03-01T06:00Z,2026-03-01T12:00Z,2\n"
		 /* inactive worker: never in a chain */
		 "shift,sos,olli,2026-03-01T06:00Z,2026-03-01T18:00Z,1\n"
		 /* leena twice on mhs (a shift and an add override): listed once, at the
		  * better place; two overlapping shifts of one worker are refused */
		 "shift,mhs,leena,2026-01-01T00:00Z,2027-01-01T00:00Z,1\n"
		 "override,add,mhs,leena,2026-03-01T00:00Z,2026-03-02T00:00Z,3\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load();
	int64_t noon = t("2026-03-01T10:00Z");
	assert_string_equal(chain(r, "sos", noon), "aino,mikko,leena");
	assert_string_equal(chain(r, "sos", t("2026-03-01T19:00Z")), "leena");
	assert_string_equal(chain(r, "mhs", noon), "leena,aino,mikko");
	assert_int_equal(gw_roster_chain(r, "sos", noon, s, 2), 2);
	assert_string_equal(s[0].handle, "aino");
	assert_string_equal(s[0].name, "Aino Virtanen");
	assert_string_equal(s[0].phone, "+358401234567");
	assert_string_equal(s[1].handle, "mikko");
	assert_int_equal(gw_roster_chain(r, "sos", noon, s, 0), 0);
	assert_int_equal(gw_roster_chain(r, "nope", noon, s, 4), -ENOENT);
	assert_int_equal(gw_roster_chain(r, NULL, noon, s, 4), -ENOENT);
	gw_roster_free(r);
}

/* A year of 8-hour shifts in three positions plus long overlapping ones, against a scan. */
static void test_year_of_shifts(void **state)
{
	static const char *who[] = {"aino", "mikko", "leena"};
	struct gw_db_roster in = {0};
	struct gw_db_line line = {.code = "sos", .name_fi = "a", .name_sv = "b", .name_en = "c"};
	struct gw_db_worker w[3];
	size_t n = 0, cap = 365 * 3 * 3 + 8;
	struct gw_db_shift *sh = calloc(cap, sizeof(*sh));
	struct gw_roster *r;
	int64_t y0 = t("2026-01-01T00:00Z");

	(void)state;
	assert_non_null(sh);
	for (int i = 0; i < 3; i++)
		w[i] = (struct gw_db_worker){.handle = (char *)who[i],
					     .name = (char *)who[i],
					     .phone = "+358400000000",
					     .active = true};
	for (int d = 0; d < 365; d++)
		for (int k = 0; k < 3; k++)
			for (int p = 0; p < 3; p++) {
				int64_t s0 = y0 + ((int64_t)d * 3 + k) * 8 * 3600000;
				sh[n++] = (struct gw_db_shift){"sos", (char *)who[(d + k + p) % 3],
							       s0,    s0 + 8 * 3600000,
							       p + 1, NULL};
			}
	/* Long and odd shifts that overlap many short ones. */
	sh[n++] = (struct gw_db_shift){"sos", "leena", y0, y0 + 365LL * 86400000, 4, NULL};
	sh[n++] = (struct gw_db_shift){
	    "sos", "aino", y0 + 100LL * 86400000 + 1, y0 + 200LL * 86400000 - 7, 1, NULL};
	sh[n++] = (struct gw_db_shift){"sos", "mikko", y0 - 86400000, y0 + 3600000, 2, NULL};
	in.lines = &line;
	in.n_lines = 1;
	in.workers = w;
	in.n_workers = 3;
	in.shifts = sh;
	in.n_shifts = n;
	assert_int_equal(gw_db_roster_replace(db, &in), 0);
	r = load();

	srand(12345);
	for (int q = 0; q < 3000; q++) {
		int64_t at = y0 - 2 * 86400000 + (int64_t)rand() % (369LL * 86400000);
		if (q % 7 == 0) /* land on shift edges often */
			at = sh[rand() % n].start_ms + (q % 2 ? 0 : -1);
		if (q % 11 == 0)
			at = sh[rand() % n].end_ms;
		/* Brute force: covering shifts ordered by (position, start), first place only. */
		const struct gw_db_shift *c[16];
		int nc = 0;
		for (size_t i = 0; i < n; i++) {
			if (!(sh[i].start_ms <= at && at < sh[i].end_ms))
				continue;
			int j = nc++;
			assert_true(nc <= 16);
			while (j > 0 && (c[j - 1]->position > sh[i].position ||
					 (c[j - 1]->position == sh[i].position &&
					  c[j - 1]->start_ms > sh[i].start_ms))) {
				c[j] = c[j - 1];
				j--;
			}
			c[j] = &sh[i];
		}
		char want[256] = "";
		for (int i = 0; i < nc; i++) {
			bool dup = false;
			for (int j = 0; j < i; j++)
				dup |= strcmp(c[j]->worker, c[i]->worker) == 0;
			if (dup)
				continue;
			if (*want)
				strcat(want, ",");
			strcat(want, c[i]->worker);
		}
		const char *got = chain(r, "sos", at);
		if (strcmp(got, want) != 0)
			fail_msg("at %lld: got '%s', want '%s'", (long long)at, got, want);
	}
	gw_roster_free(r);
	free(sh);
}

/* ---- routes and directory ------------------------------------------------------------ */

static void test_route_and_directory(void **state)
{
	char csv[2048];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "line,lsp,Lastensuojelu,Barnskydd,Child protection\n"
		 "route,sos,,0\n"
		 "route,mhs,2269,10\n"
		 "route,lsp,22695,-5\n" /* longer beats higher priority */
		 "route,sos,2275,1\n"
		 "route,mhs,2275,2\n" /* same prefix: higher priority wins */
		 "directory,2269001,\"Poliisi, Mikkeli\"\n"
		 "directory,00023404,Pelastus\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load();
	assert_string_equal(gw_roster_route(r, "2269001"), "mhs");
	assert_string_equal(gw_roster_route(r, "2269501"), "lsp");
	assert_string_equal(gw_roster_route(r, "2275001"), "mhs");
	assert_string_equal(gw_roster_route(r, "1234567"), "sos");
	assert_string_equal(gw_roster_route(r, "226"), "sos");
	assert_string_equal(gw_roster_route(r, "garbage"), "sos"); /* default still answers */
	/* TSI form: the SSI part decides. */
	assert_string_equal(gw_roster_route(r, "02440000102269001"), "mhs");
	assert_string_equal(gw_roster_route(r, "02269001"), "mhs");

	assert_string_equal(gw_roster_org(r, "2269001"), "Poliisi, Mikkeli");
	assert_string_equal(gw_roster_org(r, "09011638302269001"), "Poliisi, Mikkeli");
	assert_string_equal(gw_roster_org(r, "23404"), "Pelastus");
	assert_string_equal(gw_roster_org(r, "09011638300023404"), "Pelastus");
	assert_null(gw_roster_org(r, "2269002"));
	assert_null(gw_roster_org(r, "x"));
	assert_null(gw_roster_org(r, "226900100")); /* 9 digits: neither SSI nor TSI */

	assert_string_equal(gw_roster_line_name(r, "lsp"), "Child protection");
	assert_null(gw_roster_line_name(r, "xyz"));
	assert_int_equal(gw_roster_line_count(r), 3);
	assert_string_equal(gw_roster_line_code(r, 0), "lsp");
	assert_string_equal(gw_roster_line_code(r, 2), "sos");
	assert_null(gw_roster_line_code(r, 3));
	gw_roster_free(r);

	/* Without a default route an unmatched caller has no line. */
	snprintf(csv, sizeof(csv), "%sroute,mhs,2269,10\n", base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load();
	assert_null(gw_roster_route(r, "1234567"));
	assert_string_equal(gw_roster_route(r, "2269001"), "mhs");
	gw_roster_free(r);
}

/* ---- CSV ----------------------------------------------------------------------------- */

static void test_csv_syntax(void **state)
{
	/* BOM, CRLF, comments, blanks, quotes with "" and commas, trailing comment. */
	const char *csv = "\xef\xbb\xbf# roster\r\n"
			  "\r\n"
			  "line,sos,\"Sosiaali, kriisi\",\"Sv \"\"jour\"\"\",En\r\n"
			  "   # indented comment\r\n"
			  "worker,aino,  Aino Virtanen  ,+358401234567,\r\n"
			  "route,sos,,0          # default route: empty prefix\r\n"
			  "directory,2269001,\"Poliisi, Mikkeli\"   # police\n"
			  "directory,2269002,Poliisi#2\n"
			  "shift,sos,aino,2026-01-01T00:00Z,2027-01-01T00:00Z,1";
	struct gw_db_roster out;

	(void)state;
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("x.csv", csv, strlen(csv), &out, on_err, NULL), 0);
	assert_int_equal(n_errs, 0);
	assert_int_equal(out.n_lines, 1);
	assert_string_equal(out.lines[0].name_fi, "Sosiaali, kriisi");
	assert_string_equal(out.lines[0].name_sv, "Sv \"jour\"");
	assert_string_equal(out.workers[0].name, "Aino Virtanen");
	assert_null(out.workers[0].issi);
	assert_true(out.workers[0].active);
	assert_int_equal(out.n_routes, 1);
	assert_string_equal(out.routes[0].prefix, "");
	assert_int_equal(out.routes[0].priority, 0);
	assert_string_equal(out.dirs[0].org, "Poliisi, Mikkeli");
	assert_string_equal(out.dirs[1].org, "Poliisi#2");
	assert_int_equal(out.n_shifts, 1);
	assert_int_equal(out.shifts[0].end_ms, 1798761600000);
	gw_db_roster_clear(&out);
}

static void test_csv_errors(void **state)
{
	const char *csv =
	    "line,sos,Sosiaali,Social,Social\n"			       /* 1 */
	    "worker,aino,Aino Virtanen,+358401234567,\n"	       /* 2 */
	    "shift,sos,aino,2026-01-01T24:00,2027-01-01T00:00Z,1\n"    /* 3: no such hour */
	    "shift,sos,nobody,2026-01-01T00:00Z,2027-01-01T00:00Z,1\n" /* 4 */
	    "shift,xyz,aino,2026-01-01T00:00Z,2027-01-01T00:00Z,1\n"   /* 5 */
	    "route,xyz,,0\n"					       /* 6 */
	    "directory,\"2269001\",\"Poliisi,\n"		       /* 7: quoted newline */
	    "Mikkeli\"\n"					       /* 8 */
	    "worker,aino,Aino Again,+358401234567,\n"		       /* 9: duplicate */
	    "shift,sos,aino,2026-01-02T00:00Z,2026-01-01T00:00Z,1\n"   /* 10: ends first */
	    "shift,sos,aino,2026-01-01T00:00Z\n"		       /* 11: too few */
	    "bogus,1,2\n"					       /* 12 */
	    "worker,bad handle,X,+358401234567,\n"		       /* 13 */
	    "worker,pia,Pia,12ab,\n"				       /* 14 */
	    "route,sos,0226,1\n"				       /* 15 */
	    "directory,2269001,\"x\"y\n"			       /* 16 */
	    "line,lsp,a\"b,c,d\n"				       /* 17 */
	    "directory,123,\"unterminated\n"			       /* 18 */
	    "line,more,after,the,quote\n";			       /* 19 */
	struct gw_db_roster out;

	(void)state;
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("r.csv", csv, strlen(csv), &out, on_err, NULL),
			 -EINVAL);
	assert_int_equal(out.n_lines + out.n_workers + out.n_shifts, 0);
	assert_true(has_err("r.csv:3: ", "bad start time '2026-01-01T24:00'"));
	assert_true(has_err("r.csv:4: ", "unknown worker 'nobody'"));
	assert_true(has_err("r.csv:5: ", "unknown line 'xyz'"));
	assert_true(has_err("r.csv:6: ", "unknown line 'xyz'"));
	assert_true(has_err("r.csv:7: ", "field 3 has a control character")); /* newline */
	assert_true(has_err("r.csv:9: ", "duplicate worker 'aino' (first on line 2)"));
	assert_true(has_err("r.csv:10: ", "must end after it starts"));
	assert_true(has_err("r.csv:11: ", "shift: 4 fields, want shift,LINE,WORKER"));
	assert_true(has_err("r.csv:12: ", "unknown record type 'bogus'"));
	assert_true(has_err("r.csv:13: ", "bad worker handle"));
	assert_true(has_err("r.csv:14: ", "bad phone number '12ab'"));
	assert_true(has_err("r.csv:15: ", "bad caller prefix '0226'"));
	assert_true(has_err("r.csv:16: ", "text after a closing quote"));
	assert_true(has_err("r.csv:17: ", "quote inside an unquoted field"));
	assert_true(has_err("r.csv:18: ", "unterminated quoted field"));
	assert_int_equal(n_errs, 15);
	/* Reported in file order, cross-row checks included. */
	for (int i = 1; i < n_errs; i++)
		assert_true(atoi(strchr(errs[i - 1], ':') + 1) <= atoi(strchr(errs[i], ':') + 1));

	/* An empty file is refused rather than wiping the roster. */
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("e.csv", "# nothing\n", 10, &out, on_err, NULL),
			 -EINVAL);
	assert_true(has_err("e.csv:0: ", "empty roster"));
	/* A control character in a field. */
	static const char ctl[] = "line,a,x\x01y,b,c\n";
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("c.csv", ctl, sizeof(ctl) - 1, &out, on_err, NULL),
			 -EINVAL);
	assert_true(has_err("c.csv:1: ", "field 3 has a control character"));
}

/* Wrong encodings are refused as a whole file, with what to do; UTF-8 with a BOM is fine. */
static void test_csv_encodings(void **state)
{
	static const char latin1[] = "line,sos,S,S,S\nworker,leena,Leena M\xe4kinen,+358401,\n";
	static const char broken[] = "line,a,\xc3\x28,b,c\n";
	static const char utf16[] = "\xff\xfel\0i\0n\0e\0";
	static const char nul[] = "line,b,x\0y,b,c\n";
	static const char bom[] = "\xef\xbb\xbfline,sos,Sosiaalipäivystys,S,S\n";
	struct gw_db_roster out;

	(void)state;
	n_errs = 0;
	assert_int_equal(
	    gw_roster_parse_csv("l.csv", latin1, sizeof(latin1) - 1, &out, on_err, NULL), -EINVAL);
	assert_true(has_err("l.csv:2: ", "not UTF-8 (byte 0xe4"));
	assert_true(has_err("l.csv:2: ", "ISO-8859-1"));
	assert_int_equal(n_errs, 1); /* one clear message, not one per row */
	n_errs = 0;
	assert_int_equal(
	    gw_roster_parse_csv("b.csv", broken, sizeof(broken) - 1, &out, on_err, NULL), -EINVAL);
	assert_true(has_err("b.csv:1: ", "not UTF-8 (byte 0xc3"));
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("w.csv", utf16, sizeof(utf16) - 1, &out, on_err, NULL),
			 -EINVAL);
	assert_true(has_err("w.csv:0: ", "UTF-16"));
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("n.csv", nul, sizeof(nul) - 1, &out, on_err, NULL),
			 -EINVAL);
	assert_true(has_err("n.csv:0: ", "NUL bytes"));
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("m.csv", bom, sizeof(bom) - 1, &out, on_err, NULL), 0);
	assert_int_equal(n_errs, 0);
	assert_string_equal(out.lines[0].code, "sos"); /* the BOM is not part of "line" */
	assert_string_equal(out.lines[0].name_fi, "Sosiaalipäivystys");
	gw_db_roster_clear(&out);
}

static void test_import_all_or_nothing(void **state)
{
	char good[2048], bad[2048];
	struct gw_roster *r;

	(void)state;
	snprintf(good, sizeof(good),
		 "%sshift,sos,aino,2026-01-01T00:00Z,2027-01-01T00:00Z,1\nroute,sos,,0\n",
		 base_roster);
	assert_int_equal(import_text(good), 0);
	assert_int_equal(gw_db_roster_changed(db), 1);

	/* Many good rows and one bad one: nothing at all is applied. */
	snprintf(bad, sizeof(bad),
		 "line,lsp,L,L,L\n"
		 "worker,riikka,Riikka Heikkinen,+358401234573,\n"
		 "shift,lsp,riikka,2026-01-01T00:00Z,2027-01-01T00:00Z,1\n"
		 "route,lsp,,0\n"
		 "shift,lsp,riikka,2026-01-01T00:00Z,2027-01-01T00:00Z,x\n");
	assert_int_equal(import_text(bad), -EINVAL);
	assert_true(has_err(csvpath, ":5: bad position 'x'"));
	assert_int_equal(gw_db_roster_changed(db), 0);
	r = load();
	assert_string_equal(chain(r, "sos", t("2026-06-01T00:00Z")), "aino");
	assert_null(gw_roster_line_name(r, "lsp"));
	assert_string_equal(gw_roster_route(r, "1"), "sos");
	gw_roster_free(r);

	/* Fixed the wrong way (a second, overlapping shift of riikka): still refused. */
	bad[strlen(bad) - strlen("x\n")] = '\0';
	strcat(bad, "1\n");
	assert_int_equal(import_text(bad), -EINVAL);
	assert_true(has_err(csvpath, ":5: shift of riikka on lsp overlaps the shift on line 3"));
	assert_int_equal(gw_db_roster_changed(db), 0);

	/* A good import replaces the whole roster: sos is gone. */
	snprintf(bad, sizeof(bad),
		 "line,lsp,L,L,L\n"
		 "worker,riikka,Riikka Heikkinen,+358401234573,\n"
		 "shift,lsp,riikka,2026-01-01T00:00Z,2027-01-01T00:00Z,1\n"
		 "route,lsp,,0\n"
		 "shift,lsp,riikka,2027-01-01T00:00Z,2028-01-01T00:00Z,1\n");
	assert_int_equal(import_text(bad), 0);
	r = load();
	assert_null(gw_roster_line_name(r, "sos"));
	assert_string_equal(chain(r, "lsp", t("2026-06-01T00:00Z")), "riikka");
	assert_string_equal(gw_roster_route(r, "1"), "lsp");
	gw_roster_free(r);

	/* A missing file is reported and changes nothing. */
	n_errs = 0;
	assert_int_equal(gw_roster_import_file(db, "/nonexistent/r.csv", on_err, NULL, NULL),
			 -ENOENT);
	assert_true(has_err("/nonexistent/r.csv:0: ", "cannot read"));
}

static void test_demo_roster(void **state)
{
	struct gw_roster_counts c;
	struct gw_roster *r;

	(void)state;
	/* Run from the repository root, as make does. */
	assert_int_equal(gw_roster_import_file(db, "tools/demo/roster.csv", on_err, NULL, &c), 0);
	assert_int_equal(c.lines, 4);
	assert_true(c.workers >= 10);
	assert_true(c.rotations >= 1); /* the demo uses rotations for at least one line */
	const char *instants[] = {"2026-01-05T06:00Z", "2026-07-01T05:00Z", "2027-01-01T06:00Z",
				  "2027-12-31T23:59:59.999Z"};
	for (size_t i = 0; i < 4; i++) {
		int64_t at = t(instants[i]);
		assert_int_equal(gw_roster_load_at(db, at, &r), 0); /* rotation horizon */
		assert_string_equal(chain(r, "sos", at), "aino,mikko,leena");
		assert_int_equal(strlen(chain(r, "mhs", at)) > 0, 1);
		assert_int_equal(strlen(chain(r, "lsp", at)) > 0, 1);
		assert_int_equal(strlen(chain(r, "vwc", at)) > 0, 1);
		gw_roster_free(r);
	}
	/* mhs: Juha and Sanna swap weekly at Monday 08:00 Helsinki time. */
	assert_int_equal(gw_roster_load_at(db, t("2026-01-05T00:00Z"), &r), 0);
	assert_string_equal(chain(r, "mhs", t("2026-01-05T05:59Z")), "maria");
	assert_string_equal(chain(r, "mhs", t("2026-01-05T06:00Z")), "juha,sanna,maria");
	assert_string_equal(chain(r, "mhs", t("2026-01-12T06:00Z")), "sanna,juha,maria");
	assert_string_equal(gw_roster_org(r, "2269001"), "Poliisi, Mikkeli");
	assert_string_equal(gw_roster_route(r, "2269001"), "sos");
	gw_roster_free(r);
}

/* ---- time zone ----------------------------------------------------------------------- */

static void test_helsinki_time(void **state)
{
	(void)state;
	/* 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC. */
	assert_int_equal(gw_roster_utc_offset_min(t("2026-03-29T00:59:59.999Z")), 120);
	assert_int_equal(gw_roster_utc_offset_min(t("2026-03-29T01:00Z")), 180);
	assert_int_equal(gw_roster_utc_offset_min(t("2026-10-25T00:59:59.999Z")), 180);
	assert_int_equal(gw_roster_utc_offset_min(t("2026-10-25T01:00Z")), 120);
	assert_int_equal(gw_roster_local_to_utc(2026, 1, 15, 8 * 60), t("2026-01-15T08:00+02:00"));
	assert_int_equal(gw_roster_local_to_utc(2026, 7, 15, 8 * 60), t("2026-07-15T08:00+03:00"));
	/* 03:30 does not exist on 29 March: the gap's end, 04:00 summer time. */
	assert_int_equal(gw_roster_local_to_utc(2026, 3, 29, 210), t("2026-03-29T01:00Z"));
	/* 03:30 happens twice on 25 October: halfway through the two elapsed hours. */
	assert_int_equal(gw_roster_local_to_utc(2026, 10, 25, 210), t("2026-10-25T01:00Z"));
	assert_int_equal(gw_roster_local_to_utc(2026, 10, 25, 240), t("2026-10-25T04:00+02:00"));
	/* Day 32 of a month is the 1st of the next (callers use it for "the next day"). */
	assert_int_equal(gw_roster_local_to_utc(2026, 12, 32, 0), t("2027-01-01T00:00+02:00"));

	/* Against the C library's tz database (tzdata, in DEB_PKGS), every hour of 2025-2029. */
	if (access("/usr/share/zoneinfo/Europe/Helsinki", R_OK) != 0)
		fail_msg("no /usr/share/zoneinfo/Europe/Helsinki: install tzdata (make deps)");
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", "Europe/Helsinki", 1);
	tzset();
	for (int64_t ts = t("2025-01-01T00:30Z") / 1000; ts < t("2030-01-01T00:00Z") / 1000;
	     ts += 3600) {
		time_t tt = (time_t)ts;
		struct tm tm;
		assert_non_null(localtime_r(&tt, &tm));
		if (gw_roster_utc_offset_min(ts * 1000) * 60 != tm.tm_gmtoff)
			fail_msg("offset at %lld: %d min, libc %ld s", (long long)ts,
				 gw_roster_utc_offset_min(ts * 1000), tm.tm_gmtoff);
		/* Wall clock back to UTC, except in the repeated autumn hour (split in two). */
		int min = tm.tm_hour * 60 + tm.tm_min;
		int64_t back =
		    gw_roster_local_to_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, min);
		if (back != ts * 1000 && !(tm.tm_mon == 9 && tm.tm_hour == 3))
			fail_msg("local %04d-%02d-%02d %02d:%02d -> %lld, want %lld",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, (long long)back, (long long)ts * 1000);
	}
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

static struct gw_roster *load_at(const char *iso)
{
	struct gw_roster *r;
	assert_int_equal(gw_roster_load_at(db, t(iso), &r), 0);
	return r;
}

/*
 * roster.timezone: another zone than Helsinki moves every wall-clock time of the roster
 * (the demo's Monday 08:00 rotation switch, the clock-change rules, the printed zone),
 * and a bad or missing zone is refused with the zone in use kept.
 */
static void test_timezone_stockholm(void **state)
{
	char buf[64], why[256];
	bool tzdb = false;
	struct gw_roster *r;
	int64_t ms;

	(void)state;
	assert_int_equal(gw_roster_set_timezone("Europe/Stockholm", why, sizeof(why)), 0);
	assert_string_equal(gw_roster_timezone(&tzdb), "Europe/Stockholm");
	assert_true(tzdb);
	assert_int_equal(gw_roster_utc_offset_min(t("2026-01-15T12:00Z")), 60);
	assert_int_equal(gw_roster_utc_offset_min(t("2026-07-15T12:00Z")), 120);
	assert_int_equal(gw_roster_local_to_utc(2026, 1, 15, 8 * 60), t("2026-01-15T07:00Z"));
	assert_int_equal(gw_roster_local_to_utc(2026, 7, 15, 8 * 60), t("2026-07-15T06:00Z"));
	/* the written rules in Stockholm's night: 02:30 in the gap is its end, 01:00 UTC;
	   the repeated 02:00-02:59 shares 00:00-02:00 UTC */
	assert_int_equal(gw_roster_local_to_utc(2026, 3, 29, 150), t("2026-03-29T01:00Z"));
	assert_int_equal(gw_roster_local_to_utc(2026, 3, 29, 119), t("2026-03-29T00:59Z"));
	assert_int_equal(gw_roster_local_to_utc(2026, 10, 25, 120), t("2026-10-25T00:00Z"));
	assert_int_equal(gw_roster_local_to_utc(2026, 10, 25, 150), t("2026-10-25T01:00Z"));
	assert_int_equal(gw_roster_local_to_utc(2026, 10, 25, 180), t("2026-10-25T02:00Z"));
	gw_roster_format_clock(t("2026-01-15T14:00Z"), GW_CLOCK_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-15 15:00 CET");
	gw_roster_format_clock(t("2026-07-01T13:00Z"), GW_CLOCK_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "2026-07-01 15:00 CEST");
	gw_roster_format_time(t("2026-01-15T14:00Z"), buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-15T15:00+01:00");
	assert_int_equal(gw_roster_parse_local_time("2026-01-15T08:00", &ms, why, sizeof(why)), 0);
	assert_int_equal(ms, t("2026-01-15T07:00Z"));
	assert_int_equal(
	    gw_roster_parse_local_time("2026-01-15T08:00+02:00", &ms, why, sizeof(why)), -ERANGE);
	assert_non_null(strstr(why, "not Europe/Stockholm's offset"));
	assert_non_null(strstr(why, "a summer offset on a winter date"));

	/* a roster's local times: 08:00 is 07:00 UTC, and the shift ends in the gap's end */
	char csv[4096];
	snprintf(csv, sizeof(csv),
		 "%s"
		 "shift,sos,aino,2026-01-05T08:00,2026-01-05T16:00,1\n"
		 "shift,sos,mikko,2026-03-28T20:00,2026-03-29T02:30,1\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-01-01T00:00Z");
	assert_string_equal(chain(r, "sos", t("2026-01-05T06:59Z")), "");
	assert_string_equal(chain(r, "sos", t("2026-01-05T07:00Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-01-05T14:59Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-01-05T15:00Z")), "");
	assert_string_equal(chain(r, "sos", t("2026-03-28T19:00Z")), "mikko");
	assert_string_equal(chain(r, "sos", t("2026-03-29T00:59Z")), "mikko");
	assert_string_equal(chain(r, "sos", t("2026-03-29T01:00Z")), "");
	gw_roster_free(r);

	/* refused: the zone in use stays */
	assert_int_equal(gw_roster_set_timezone("../etc/passwd", why, sizeof(why)), -EINVAL);
	assert_int_equal(gw_roster_set_timezone("/etc/localtime", why, sizeof(why)), -EINVAL);
	assert_int_equal(gw_roster_set_timezone("Nowhere/Atlantis", why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "Nowhere/Atlantis"));
	assert_string_equal(gw_roster_timezone(NULL), "Europe/Stockholm");
	assert_int_equal(gw_roster_utc_offset_min(t("2026-01-15T12:00Z")), 60);

	/* back to Helsinki from the tz database, as the other tests run */
	assert_int_equal(gw_roster_set_timezone("Europe/Helsinki", why, sizeof(why)), 0);
	assert_int_equal(gw_roster_utc_offset_min(t("2026-01-15T12:00Z")), 120);
}

/* The built-in EU rule (no tz database zone loaded) gives the same Helsinki times. */
static int builtin_rule(void **state)
{
	(void)state;
	return gw_roster_set_timezone(NULL, NULL, 0);
}

static int tzdb_helsinki(void **state)
{
	char why[256];

	(void)state;
	if (gw_roster_set_timezone("Europe/Helsinki", why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\n", why);
		return -1;
	}
	return 0;
}

/* The clock changes of 2026-2030 (dates checked against tzdata), the written rules. */
static const struct dst_night {
	int y, spring_d, autumn_d; /* last Sundays of March and October */
} dst_nights[] = {
    {2026, 29, 25}, {2027, 28, 31}, {2028, 26, 29}, {2029, 25, 28}, {2030, 31, 27},
};

/*
 * Times for people: Helsinki wall clock and its zone's abbreviation, the same as the C
 * library's tz database gives for Europe/Helsinki at every hour of 2025-2029 (so EET and
 * EEST switch at the right instants), and the same bytes whatever TZ the process has.
 */
static void test_clock_for_people(void **state)
{
	char buf[48];
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	gw_roster_format_clock(t("2026-01-15T14:00Z"), GW_CLOCK_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-15 16:00 EET");
	gw_roster_format_clock(t("2026-07-01T13:00:05.250Z"), GW_CLOCK_MS, buf, sizeof(buf));
	assert_string_equal(buf, "2026-07-01 16:00:05.250 EEST");
	gw_roster_format_clock(t("2026-03-29T00:59:59.999Z"), GW_CLOCK_MS, buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29 02:59:59.999 EET");
	gw_roster_format_clock(t("2026-03-29T01:00Z"), GW_CLOCK_SEC, buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29 04:00:00 EEST");
	gw_roster_format_clock(t("2026-10-25T00:30Z"), GW_CLOCK_SEC, buf, sizeof(buf));
	assert_string_equal(buf, "2026-10-25 03:30:00 EEST");
	gw_roster_format_clock(t("2026-10-25T01:30Z"), GW_CLOCK_SEC, buf, sizeof(buf));
	assert_string_equal(buf, "2026-10-25 03:30:00 EET");
	gw_roster_format_clock(-1, GW_CLOCK_SEC, buf, sizeof(buf));
	assert_string_equal(buf, "@-1");
	gw_roster_format_clock(t("2026-01-15T14:00Z"), GW_CLOCK_SEC, buf, 12);
	assert_string_equal(buf, "2026-01-15 ");

	/* tzdata's answers first, with TZ set once (each change of TZ makes tzset() read the
	   zone file again: once per hour of five years was most of this test's time) */
	const int64_t from = t("2025-01-01T00:30Z") / 1000, to = t("2030-01-01T00:00Z") / 1000;
	size_t hours = (size_t)((to - from + 3599) / 3600);
	char(*wants)[48] = calloc(hours, sizeof(*wants));
	assert_non_null(wants);
	setenv("TZ", "Europe/Helsinki", 1);
	tzset();
	for (size_t h = 0; h < hours; h++) {
		time_t tt = (time_t)(from + (int64_t)h * 3600);
		struct tm tm;
		assert_non_null(localtime_r(&tt, &tm));
		assert_true(strftime(wants[h], sizeof(wants[h]), "%Y-%m-%d %H:%M:%S %Z", &tm) > 0);
	}
	/* the process's own zone: UTC, then New York; the same bytes in both (and as tzdata) */
	for (int z = 0; z < 2; z++) {
		setenv("TZ", z ? "America/New_York" : "UTC", 1);
		tzset();
		for (size_t h = 0; h < hours; h++) {
			int64_t ts = from + (int64_t)h * 3600;
			gw_roster_format_clock(ts * 1000, GW_CLOCK_SEC, buf, sizeof(buf));
			if (strcmp(buf, wants[h]) != 0)
				fail_msg("at %lld (TZ %s): '%s', tzdata '%s'", (long long)ts,
					 z ? "America/New_York" : "UTC", buf, wants[h]);
		}
	}
	free(wants);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

static void test_dst_transitions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dst_nights) / sizeof(dst_nights[0]); i++) {
		const struct dst_night *n = &dst_nights[i];
		char iso[40];
		snprintf(iso, sizeof(iso), "%d-03-%02dT01:00Z", n->y, n->spring_d);
		int64_t sw_spring = t(iso); /* the switches are at 01:00 UTC */
		snprintf(iso, sizeof(iso), "%d-10-%02dT01:00Z", n->y, n->autumn_d);
		int64_t sw_autumn = t(iso);
		assert_int_equal(gw_roster_utc_offset_min(sw_spring - 1), 120);
		assert_int_equal(gw_roster_utc_offset_min(sw_spring), 180);
		assert_int_equal(gw_roster_utc_offset_min(sw_autumn - 1), 180);
		assert_int_equal(gw_roster_utc_offset_min(sw_autumn), 120);
		/* spring: 02:59 EET; 03:00, 03:30, 03:59 do not exist: the gap's end; 04:00 */
		assert_int_equal(gw_roster_local_to_utc(n->y, 3, n->spring_d, 179),
				 sw_spring - 60000);
		assert_int_equal(gw_roster_local_to_utc(n->y, 3, n->spring_d, 180), sw_spring);
		assert_int_equal(gw_roster_local_to_utc(n->y, 3, n->spring_d, 210), sw_spring);
		assert_int_equal(gw_roster_local_to_utc(n->y, 3, n->spring_d, 239), sw_spring);
		assert_int_equal(gw_roster_local_to_utc(n->y, 3, n->spring_d, 240), sw_spring);
		assert_int_equal(gw_roster_local_to_utc(n->y, 3, n->spring_d, 241),
				 sw_spring + 60000);
		/* autumn: 02:59 EEST; 03:00 + x is 2x after the first 03:00 (00:00Z); 04:00 EET */
		int64_t first = sw_autumn - 3600000;
		assert_int_equal(gw_roster_local_to_utc(n->y, 10, n->autumn_d, 179), first - 60000);
		assert_int_equal(gw_roster_local_to_utc(n->y, 10, n->autumn_d, 180), first);
		assert_int_equal(gw_roster_local_to_utc(n->y, 10, n->autumn_d, 181),
				 first + 120000);
		assert_int_equal(gw_roster_local_to_utc(n->y, 10, n->autumn_d, 210), sw_autumn);
		assert_int_equal(gw_roster_local_to_utc(n->y, 10, n->autumn_d, 239),
				 first + 118 * 60000);
		assert_int_equal(gw_roster_local_to_utc(n->y, 10, n->autumn_d, 240),
				 first + 120 * 60000);
		assert_int_equal(gw_roster_local_to_utc(n->y, 10, n->autumn_d, 241),
				 first + 121 * 60000);

		/* The same as roster times: local, and with offsets checked against the zone. */
		char s[48], why[240];
		int64_t ms;
		snprintf(s, sizeof(s), "%d-03-%02dT03:30", n->y, n->spring_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), 0);
		assert_int_equal(ms, sw_spring);
		snprintf(s, sizeof(s), "%d-03-%02dT03:30+02:00", n->y, n->spring_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), -ERANGE);
		snprintf(s, sizeof(s), "%d-03-%02dT02:59+02:00", n->y, n->spring_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), 0);
		snprintf(s, sizeof(s), "%d-03-%02dT02:59+03:00", n->y, n->spring_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), -ERANGE);
		snprintf(s, sizeof(s), "%d-03-%02dT04:00+03:00", n->y, n->spring_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), 0);
		assert_int_equal(ms, sw_spring);
		snprintf(s, sizeof(s), "%d-10-%02dT03:30", n->y, n->autumn_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), 0);
		assert_int_equal(ms, sw_autumn);
		/* either 03:30 of the autumn night, named by its offset */
		snprintf(s, sizeof(s), "%d-10-%02dT03:30+03:00", n->y, n->autumn_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), 0);
		assert_int_equal(ms, first + 30 * 60000);
		snprintf(s, sizeof(s), "%d-10-%02dT03:30+02:00", n->y, n->autumn_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), 0);
		assert_int_equal(ms, sw_autumn + 30 * 60000);
		snprintf(s, sizeof(s), "%d-10-%02dT04:00+03:00", n->y, n->autumn_d);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), -ERANGE);
		snprintf(s, sizeof(s), "%d-07-01T12:00+02:00", n->y);
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), -ERANGE);
		assert_non_null(strstr(why, "+02:00 is not Europe/Helsinki's offset then (+03:00, "
					    "summer time): a winter offset on a summer date"));
		snprintf(s, sizeof(s), "%d-07-01T09:00Z", n->y); /* UTC stays UTC */
		assert_int_equal(gw_roster_parse_local_time(s, &ms, why, sizeof(why)), 0);
		assert_int_equal(ms % 86400000, 9 * 3600000);
	}
}

/* Roster CSV times are Helsinki time; a wrong offset is an error naming file:line. */
static void test_csv_local_times(void **state)
{
	char csv[4096];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "shift,sos,aino,2026-03-28T20:00,2026-03-29T03:30,1\n"	 /* ends at the gap's end */
		 "shift,sos,mikko,2026-03-29T03:30,2026-03-29T12:00,1\n" /* so no hole */
		 "shift,mhs,aino,2026-10-24T20:00,2026-10-25T03:30,1\n"	 /* 20:00 EEST - 01:00Z */
		 "shift,mhs,mikko,2026-10-25T03:30,2026-10-25T08:00,1\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-03-20T00:00Z");
	assert_string_equal(chain(r, "sos", t("2026-03-28T18:00Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-29T00:59:59.999Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-29T01:00Z")), "mikko");
	gw_roster_free(r);
	r = load_at("2026-10-20T00:00Z");
	assert_string_equal(chain(r, "mhs", t("2026-10-24T16:59Z")), "");
	assert_string_equal(chain(r, "mhs", t("2026-10-24T17:00Z")), "aino");
	/* aino 20:00 EEST to the autumn hour's middle: 8 elapsed hours; mikko 7 */
	assert_string_equal(chain(r, "mhs", t("2026-10-25T00:59:59.999Z")), "aino");
	assert_string_equal(chain(r, "mhs", t("2026-10-25T01:00Z")), "mikko");
	assert_string_equal(chain(r, "mhs", t("2026-10-25T05:59Z")), "mikko");
	assert_string_equal(chain(r, "mhs", t("2026-10-25T06:00Z")), "");
	gw_roster_free(r);

	/* A winter offset on a summer date: refused, file:line named, nothing imported. */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "shift,sos,aino,2026-06-01T08:00+02:00,2026-06-01T16:00+03:00,1\n"
		 "shift,sos,aino,2026-12-01T08:00+03:00,2026-12-01T16:00+02:00,1\n",
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	char where[300];
	int lines = 0;
	for (const char *p = base_roster; *p; p++)
		lines += *p == '\n';
	snprintf(where, sizeof(where), "%s:%d: ", csvpath, lines + 1);
	assert_true(has_err(where, "start time '2026-06-01T08:00+02:00': +02:00 is not "
				   "Europe/Helsinki's offset then (+03:00, summer time): a "
				   "winter offset on a summer date"));
	snprintf(where, sizeof(where), "%s:%d: ", csvpath, lines + 2);
	assert_true(has_err(where, "+03:00 is not Europe/Helsinki's offset then (+02:00, "
				   "winter time): a summer offset on a winter date"));
	assert_int_equal(n_errs, 2);
}

/* ---- rotations ----------------------------------------------------------------------- */

static void test_rotation_dst(void **state)
{
	char csv[4096];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 /* weekly, Monday 08:00 local, from Monday 23 March 2026 (DST on the 29th) */
		 "rotation,week,sos,weekly,2026-03-23,08:00,1\n"
		 "rotation_member,week,1,aino\n"
		 "rotation_member,week,2,mikko\n"
		 "rotation_member,week,3,leena\n"
		 /* daily at 08:00 on mhs over the spring change, ends 2026-04-02 08:00 */
		 "rotation,day,mhs,daily,2026-03-27,08:00,1,all,2026-04-02\n"
		 "rotation_member,day,1,aino\n"
		 "rotation_member,day,2,mikko\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-03-20T00:00Z");
	/* Before the first handoff: nobody; then 08:00 EET = 06:00Z. */
	assert_string_equal(chain(r, "sos", t("2026-03-23T05:59:59.999Z")), "");
	assert_string_equal(chain(r, "sos", t("2026-03-23T06:00Z")), "aino");
	/* Handoff a week later at 08:00 EEST = 05:00Z, not 06:00Z: the week had 167 hours. */
	assert_string_equal(chain(r, "sos", t("2026-03-30T04:59:59.999Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-30T05:00Z")), "mikko");
	assert_string_equal(chain(r, "sos", t("2026-04-06T05:00Z")), "leena");
	assert_string_equal(chain(r, "sos", t("2026-04-13T05:00Z")), "aino"); /* round again */
	/* Autumn: week 30 (aino) hands off to week 31 (mikko) on 26 October at 08:00 EET. */
	assert_string_equal(chain(r, "sos", t("2026-10-26T05:59:59.999Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-10-26T06:00Z")), "mikko");
	/* Daily: the 28th 08:00 EET (06:00Z) to the 29th 08:00 EEST (05:00Z) is 23 hours. */
	assert_string_equal(chain(r, "mhs", t("2026-03-28T06:00Z")), "mikko");
	assert_string_equal(chain(r, "mhs", t("2026-03-29T04:59:59.999Z")), "mikko");
	assert_string_equal(chain(r, "mhs", t("2026-03-29T05:00Z")), "aino");
	assert_string_equal(chain(r, "mhs", t("2026-04-01T05:00Z")), "mikko");
	assert_string_equal(chain(r, "mhs", t("2026-04-02T04:59Z")), "mikko");
	assert_string_equal(chain(r, "mhs", t("2026-04-02T05:00Z")), ""); /* ended */
	/* Outside the horizon a line with rotations cannot answer, and says so. */
	struct gw_roster_step st[4];
	assert_int_equal(gw_roster_chain(r, "sos", t("2026-03-12T00:00Z"), st, 4), -ERANGE);
	assert_int_equal(gw_roster_chain(r, "sos", t("2027-04-25T00:00Z"), st, 4), -ERANGE);
	/* The snapshot asks to be rebuilt a day after it was built. */
	assert_false(gw_roster_stale(r, t("2026-03-20T23:59Z")));
	assert_true(gw_roster_stale(r, t("2026-03-21T00:00Z")));
	gw_roster_free(r);

	/* The autumn change in a daily rotation: 25 October lasts 25 hours. */
	r = load_at("2026-10-20T00:00Z");
	/* day 0 = 27 March (aino); 24 October is day 211 (mikko) but the rotation ended. */
	assert_string_equal(chain(r, "mhs", t("2026-10-24T12:00Z")), "");
	assert_string_equal(chain(r, "sos", t("2026-10-26T06:00Z")), "mikko");
	gw_roster_free(r);
}

/* ---- shift patterns ------------------------------------------------------------------ */

/* A 12-hour two-shift pattern: D D N N and four days off, four members two days apart. */
static void test_pattern(void **state)
{
	char csv[4096];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "worker,pia,Pia,+358401234580,\n"
		 "pattern,twelve,sos,2026-03-27,D D N N - - - -,D=07:00 N=19:00,1\n"
		 "rotation_member,twelve,1,aino\n"
		 "rotation_member,twelve,2,mikko\n"
		 "rotation_member,twelve,3,leena\n"
		 "rotation_member,twelve,4,pia\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-03-20T00:00Z");
	/* day 0, 27 March: aino at cycle day 0 (D), pia at day 2 (N; she started 6 days ago) */
	assert_string_equal(chain(r, "sos", t("2026-03-27T04:59Z")), "");
	assert_string_equal(chain(r, "sos", t("2026-03-27T05:00Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-27T16:59Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-27T17:00Z")), "pia");
	assert_string_equal(chain(r, "sos", t("2026-03-28T05:00Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-28T17:00Z")), "pia");
	/* 29 March, summer time from 01:00Z: pia's night ends at 07:00 EEST (04:00Z), 11 h */
	assert_string_equal(chain(r, "sos", t("2026-03-29T03:59Z")), "pia");
	assert_string_equal(chain(r, "sos", t("2026-03-29T04:00Z")), "mikko");
	assert_string_equal(chain(r, "sos", t("2026-03-29T16:00Z")), "aino");
	/* 1 April (day 5): leena's day 1 (D), mikko's day 3 (N) */
	assert_string_equal(chain(r, "sos", t("2026-04-01T04:00Z")), "leena");
	assert_string_equal(chain(r, "sos", t("2026-04-01T16:00Z")), "mikko");
	/* exactly one worker on duty at every minute for a year, across both clock changes */
	for (int64_t at = t("2026-03-27T05:00Z"); at < t("2027-03-20T00:00Z"); at += 60000) {
		const char *c = chain(r, "sos", at);
		if (!*c || strchr(c, ','))
			fail_msg("at %lld: '%s'", (long long)at, c);
	}
	gw_roster_free(r);
	/* it comes back from the export the same */
	char *text = export_text();
	assert_non_null(
	    strstr(text, "pattern,twelve,sos,2026-03-27,D D N N - - - -,D=07:00 N=19:00,1,2,\n"));
	assert_int_equal(import_text(text), 0);
	char *again = export_text();
	assert_string_equal(text, again);
	free(text);
	free(again);

	/* shifts with their own end: office days Mon-Fri 08:00-16:00, from Monday 2 March */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "pattern,office,mhs,2026-03-02,W W W W W - -,W=08:00-16:00,1\n"
		 "rotation_member,office,1,leena\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-03-01T00:00Z");
	assert_string_equal(chain(r, "mhs", t("2026-03-02T05:59Z")), "");
	assert_string_equal(chain(r, "mhs", t("2026-03-02T06:00Z")), "leena");
	assert_string_equal(chain(r, "mhs", t("2026-03-02T13:59Z")), "leena");
	assert_string_equal(chain(r, "mhs", t("2026-03-02T14:00Z")), "");
	assert_string_equal(chain(r, "mhs", t("2026-03-06T10:00Z")), "leena"); /* Friday */
	assert_string_equal(chain(r, "mhs", t("2026-03-07T10:00Z")), "");      /* Saturday */
	assert_string_equal(chain(r, "mhs", t("2026-03-09T10:00Z")), "leena");
	gw_roster_free(r);

	/* errors, each with its line */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "pattern,p1,sos,2026-01-01,D D N,D=07:00 N=19:00,1\n"	       /* 7 */
		 "rotation_member,p1,1,aino\n"				       /* 8 */
		 "rotation_member,p1,2,mikko\n"				       /* 9 */
		 "pattern,p2,sos,2026-01-01,D X -,D=07:00,1\n"		       /* 10 */
		 "pattern,p3,sos,2026-01-01,D -,D=07:00 E=07:00,1\n"	       /* 11 */
		 "pattern,p4,sos,2026-01-01,D -,D=7:00,1\n"		       /* 12 */
		 "pattern,p5,sos,2026-01-01,D -,D=07:00,1,2\n"		       /* 13 */
		 "pattern,p6,sos,2026-01-01,W W W W W - -,W=08:00-16:00,2,1\n" /* 14 */
		 "rotation_member,p6,1,leena\n",			       /* 15 */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(
	    has_err(csvpath, ":7: pattern p1: 2 members do not share a 3-day cycle evenly"));
	assert_true(has_err(csvpath, ":10: pattern p2: cycle day 2 is 'X'"));
	assert_true(has_err(csvpath, ":11: pattern p3: shifts D and E: the same name or start"));
	assert_true(has_err(csvpath, ":12: pattern p4: bad shift 'D=7:00'"));
	assert_true(has_err(csvpath, ":13: bad step '2' (days between members' starts, 0-1"));
	assert_int_equal(n_errs, 5);
}

/* The South Savo model (tools/demo/south-savo.csv): 40 rows, every line covered. */
static void test_south_savo(void **state)
{
	FILE *f = fopen("tools/demo/south-savo.csv", "r");
	char line[512];
	int rows = 0;
	struct gw_roster_plan p;
	struct gw_roster *r;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		rows += line[0] != '#' && line[0] != '\n';
	fclose(f);
	assert_true(rows <= 40);
	n_errs = 0;
	assert_int_equal(gw_roster_import_file(db, "tools/demo/south-savo.csv", on_err, NULL, NULL),
			 0);
	r = load_at("2026-06-01T00:00Z");
	/* social and crisis, mental health: one worker at every minute of a year */
	for (int64_t at = t("2026-06-01T00:00Z"); at < t("2027-06-01T00:00Z"); at += 60000) {
		for (int k = 0; k < 2; k++) {
			const char *c = chain(r, k ? "mhs" : "sos", at);
			if (!*c || strchr(c, ','))
				fail_msg("%s at %lld: '%s'", k ? "mhs" : "sos", (long long)at, c);
		}
	}
	/* Monday 8 June 2026: sos day 158 of its 10-day cycle: eeva (day 0 at 150) by day */
	assert_string_equal(chain(r, "sos", t("2026-06-08T10:00+03:00")), "eeva");
	/* child protection: own staff in office hours, then the social on-call */
	assert_string_equal(plan_str(r, "lsp", t("2026-06-08T10:00+03:00"), &p), "riikka/0,eeva/0");
	assert_string_equal(plan_str(r, "lsp", t("2026-06-08T16:00+03:00"), &p), "eeva/0");
	assert_string_equal(plan_str(r, "lsp", t("2026-06-13T10:00+03:00"), &p), "mikko/0");
	/* violence work: the coordinator in office hours, the social on-call always */
	assert_string_equal(plan_str(r, "vwc", t("2026-06-08T15:59+03:00"), &p), "katja/0,eeva/0");
	assert_string_equal(plan_str(r, "vwc", t("2026-06-08T19:00+03:00"), &p), "olli/0");
	/* routes */
	assert_string_equal(gw_roster_route(r, "2275001"), "mhs");
	assert_string_equal(gw_roster_route(r, "2269501"), "lsp");
	assert_string_equal(gw_roster_route(r, "2269009"), "vwc");
	assert_string_equal(gw_roster_route(r, "2271001"), "sos");
	gw_roster_free(r);
}

/* ---- coverage ------------------------------------------------------------------------ */

struct gaps {
	char text[1024];
};

static void on_gap(const struct gw_roster_gap *g, void *arg)
{
	struct gaps *x = arg;
	char a[40], b[40];
	size_t n = strlen(x->text);
	gw_roster_format_time(g->from_ms, a, sizeof(a));
	gw_roster_format_time(g->to_ms, b, sizeof(b));
	snprintf(x->text + n, sizeof(x->text) - n, "%s %s..%s%s%s|", g->line, a, b,
		 g->fallback ? " fallback " : "", g->fallback ? g->fallback : "");
}

static void test_gaps(void **state)
{
	char csv[4096];
	struct gw_roster *r;
	struct gaps g = {0};

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "shift,sos,aino,2026-06-01T08:00,2026-06-02T08:00,1\n"
		 "shift,sos,mikko,2026-06-02T10:00,2026-06-03T00:00,1\n"
		 "shift,sos,leena,2026-06-01T08:00,2026-06-03T00:00,2\n"
		 "override,remove,,leena,2026-06-02T07:00,2026-06-02T09:00\n"
		 "override,remove,sos,aino,2026-06-01T12:00,2026-06-01T13:00\n"
		 "chain,mhs,,leena\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-06-01T00:00Z");
	/* sos: leena is second all along, but off 07-09: the gap is 08:00-09:00 local;
	 * aino's removal at 12-13 leaves leena. mhs: nobody at all, the fallback only. */
	assert_int_equal(
	    gw_roster_gaps(r, lt("2026-06-01T08:00"), lt("2026-06-03T02:00"), on_gap, &g), 3);
	assert_string_equal(g.text, "mhs 2026-06-01T08:00+03:00..2026-06-03T02:00+03:00 fallback "
				    "leena|sos 2026-06-02T08:00+03:00..2026-06-02T09:00+03:00|"
				    "sos 2026-06-03T00:00+03:00..2026-06-03T02:00+03:00|");
	/* covered: none */
	memset(&g, 0, sizeof(g));
	assert_int_equal(
	    gw_roster_gaps(r, lt("2026-06-01T08:00"), lt("2026-06-02T08:00"), on_gap, &g),
	    1); /* mhs only */
	assert_int_equal(
	    gw_roster_gaps(r, lt("2026-06-02T09:00"), lt("2026-06-02T09:00"), on_gap, &g), -EINVAL);
	assert_int_equal(
	    gw_roster_gaps(r, lt("2028-06-02T09:00"), lt("2028-06-03T09:00"), on_gap, &g), -ERANGE);
	gw_roster_free(r);

	/* The South Savo model has no gap in a year. */
	n_errs = 0;
	assert_int_equal(gw_roster_import_file(db, "tools/demo/south-savo.csv", on_err, NULL, NULL),
			 0);
	r = load_at("2026-06-01T00:00Z");
	memset(&g, 0, sizeof(g));
	assert_int_equal(
	    gw_roster_gaps(r, lt("2026-06-01T00:00"), lt("2027-06-01T00:00"), on_gap, &g), 0);
	assert_string_equal(g.text, "");
	gw_roster_free(r);
}

/* iCalendar: text escaped, content lines folded at 75 octets, stretches joined. */
static void test_ics(void **state)
{
	char csv[4096], *text = NULL;
	size_t len = 0;
	struct gw_roster *r;
	FILE *f;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "worker,pia,\"Pia, P; \\Testi\",+358401234580,\n"
		 "shift,sos,pia,2026-06-01T08:00,2026-06-01T12:00,1\n"
		 "shift,sos,pia,2026-06-01T12:00,2026-06-01T20:00,1\n" /* joined with the first */
		 "shift,sos,aino,2026-06-01T08:00,2026-06-02T08:00,2\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-06-01T00:00Z");
	f = open_memstream(&text, &len);
	assert_int_equal(gw_roster_write_ics(r, "pia", NULL, lt("2026-06-01T00:00"),
					     lt("2026-06-02T00:00"), 0, f),
			 1);
	fclose(f);
	assert_non_null(strstr(text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
	assert_non_null(strstr(text, "\r\nDTSTART:20260601T050000Z\r\nDTEND:20260601T170000Z\r\n"));
	assert_non_null(
	    strstr(text, "SUMMARY:Sosiaali- ja kriisipäivystys: Pia\\, P\\; \\\\Testi (1.)"));
	assert_non_null(strstr(text, "DTSTAMP:19700101T000000Z\r\n"));
	/* no content line over 75 octets; the long DESCRIPTION is folded */
	for (char *p = text, *e; (e = strstr(p, "\r\n")); p = e + 2)
		assert_true(e - p <= 75);
	assert_non_null(strstr(text, "\r\n "));
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_int_equal(gw_roster_write_ics(r, NULL, "sos", lt("2026-06-01T00:00"),
					     lt("2026-06-02T00:00"), 0, f),
			 2);
	fclose(f);
	free(text);
	gw_roster_free(r);
}

/* ---- overrides ----------------------------------------------------------------------- */

static void test_overrides(void **state)
{
	char csv[4096];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "worker,juha,Juha Nieminen,+358401234570,\n"
		 "shift,sos,aino,2026-03-01T00:00Z,2026-04-01T00:00Z,1\n"
		 "shift,sos,mikko,2026-03-01T00:00Z,2026-04-01T00:00Z,2\n"
		 "shift,mhs,aino,2026-03-01T00:00Z,2026-04-01T00:00Z,1\n"
		 /* leena stands in for aino on sos only */
		 "override,replace,sos,aino,2026-03-10T00:00Z,2026-03-12T00:00Z,leena\n"
		 /* ... but is off sick one morning (every line): the substitute is removed */
		 "override,remove,,leena,2026-03-11T00:00Z,2026-03-11T12:00Z\n"
		 /* juha is added, and a remove does not take an added person away */
		 "override,add,sos,juha,2026-03-11T00:00Z,2026-03-13T00:00Z,3\n"
		 "override,remove,,juha,2026-03-12T00:00Z,2026-03-12T06:00Z\n"
		 /* overlapping replaces chain: mikko -> aino, and aino -> leena */
		 "override,replace,sos,mikko,2026-03-20T00:00Z,2026-03-22T00:00Z,aino\n"
		 "override,replace,sos,aino,2026-03-21T00:00Z,2026-03-23T00:00Z,leena\n"
		 /* a replace on every line, by an inactive worker: nobody in that place */
		 "override,replace,,aino,2026-03-25T00:00Z,2026-03-26T00:00Z,olli\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-03-05T00:00Z");
	assert_string_equal(chain(r, "sos", t("2026-03-09T23:59Z")), "aino,mikko");
	assert_string_equal(chain(r, "sos", t("2026-03-10T00:00Z")), "leena,mikko");
	assert_string_equal(chain(r, "mhs", t("2026-03-10T00:00Z")), "aino"); /* sos only */
	assert_string_equal(chain(r, "sos", t("2026-03-11T06:00Z")), "mikko,juha");
	assert_string_equal(chain(r, "sos", t("2026-03-11T12:00Z")), "leena,mikko,juha");
	assert_string_equal(chain(r, "sos", t("2026-03-12T03:00Z")), "aino,mikko,juha");
	assert_string_equal(chain(r, "sos", t("2026-03-13T00:00Z")), "aino,mikko");
	assert_string_equal(chain(r, "sos", t("2026-03-20T12:00Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-21T12:00Z")), "leena");
	assert_string_equal(chain(r, "sos", t("2026-03-22T12:00Z")), "leena,mikko");
	assert_string_equal(chain(r, "sos", t("2026-03-25T12:00Z")), "mikko");
	assert_string_equal(chain(r, "mhs", t("2026-03-25T12:00Z")), "");
	gw_roster_free(r);

	/* Bad overrides are reported by line. */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "override,replace,sos,aino,2026-03-10T00:00Z,2026-03-12T00:00Z,aino\n"	  /* 7 */
		 "override,add,,aino,2026-03-10T00:00Z,2026-03-12T00:00Z,1\n"		  /* 8 */
		 "override,swap,sos,aino,2026-03-10T00:00Z,2026-03-12T00:00Z\n"		  /* 9 */
		 "override,remove,sos,aino,2026-03-12T00:00Z,2026-03-10T00:00Z\n"	  /* 10 */
		 "override,replace,sos,aino,2026-03-10T00:00Z,2026-03-12T00:00Z,nobody\n" /* 11 */
		 "override,add,sos,aino,2026-03-10T00:00Z,2026-03-12T00:00Z\n",		  /* 12 */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":7: a worker cannot replace themselves"));
	assert_true(has_err(csvpath, ":8: an add override needs a line"));
	assert_true(has_err(csvpath, ":9: bad override kind 'swap'"));
	assert_true(has_err(csvpath, ":10: override must end after it starts"));
	assert_true(has_err(csvpath, ":11: override by unknown worker 'nobody'"));
	assert_true(has_err(csvpath, ":12: bad position"));
}

/* ---- holidays and office hours ------------------------------------------------------- */

static void test_holidays(void **state)
{
	char csv[4096];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "rotation,office,sos,weekly,2026-12-07,08:00,1,office\n"
		 "rotation_member,office,1,aino\n"
		 "rotation,nights,sos,daily,2026-12-07,16:00,1,after\n"
		 "rotation_member,nights,1,mikko\n"
		 "holiday,2026-12-24,Jouluaatto\n"
		 "holiday,2026-12-25,Joulupäivä\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-12-10T00:00Z");
	/* Wednesday 23 December: office 08-16 local (06-14Z), the rest after hours. */
	assert_string_equal(chain(r, "sos", t("2026-12-23T05:59Z")), "mikko");
	assert_string_equal(chain(r, "sos", t("2026-12-23T06:00Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-12-23T13:59Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-12-23T14:00Z")), "mikko");
	/* Thursday 24 and Friday 25 December are holidays: after-hours all day. */
	assert_string_equal(chain(r, "sos", t("2026-12-24T10:00Z")), "mikko");
	assert_string_equal(chain(r, "sos", t("2026-12-25T10:00Z")), "mikko");
	/* Saturday: a weekend. Monday 28th: office again. */
	assert_string_equal(chain(r, "sos", t("2026-12-26T10:00Z")), "mikko");
	assert_string_equal(chain(r, "sos", t("2026-12-28T10:00Z")), "aino");
	gw_roster_free(r);

	/* A holiday twice, or not a date. */
	snprintf(csv, sizeof(csv),
		 "%sholiday,2026-12-24,a\nholiday,2026-12-24,b\n"
		 "holiday,2026-02-30,c\n",
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":8: duplicate holiday '2026-12-24' (first on line 7)"));
	assert_true(has_err(csvpath, ":9: bad holiday date '2026-02-30'"));
}

/*
 * The computed Finnish holidays, every day of 2026 and 2027 against the lists published
 * for those years (Easter 5 April 2026 and 28 March 2027): exactly these days, no other.
 */
static void test_fi_holidays(void **state)
{
	static const char *const want[] = {
	    "2026-01-01 Uudenvuodenpäivä",
	    "2026-01-06 Loppiainen",
	    "2026-04-03 Pitkäperjantai",
	    "2026-04-05 Pääsiäispäivä",
	    "2026-04-06 2. pääsiäispäivä",
	    "2026-05-01 Vappu",
	    "2026-05-14 Helatorstai",
	    "2026-05-24 Helluntaipäivä",
	    "2026-06-19 Juhannusaatto",
	    "2026-06-20 Juhannuspäivä",
	    "2026-10-31 Pyhäinpäivä",
	    "2026-12-06 Itsenäisyyspäivä",
	    "2026-12-24 Jouluaatto",
	    "2026-12-25 Joulupäivä",
	    "2026-12-26 Tapaninpäivä",
	    "2027-01-01 Uudenvuodenpäivä",
	    "2027-01-06 Loppiainen",
	    "2027-03-26 Pitkäperjantai",
	    "2027-03-28 Pääsiäispäivä",
	    "2027-03-29 2. pääsiäispäivä",
	    "2027-05-01 Vappu",
	    "2027-05-06 Helatorstai",
	    "2027-05-16 Helluntaipäivä",
	    "2027-06-25 Juhannusaatto",
	    "2027-06-26 Juhannuspäivä",
	    "2027-11-06 Pyhäinpäivä",
	    "2027-12-06 Itsenäisyyspäivä",
	    "2027-12-24 Jouluaatto",
	    "2027-12-25 Joulupäivä",
	    "2027-12-26 Tapaninpäivä",
	};
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t found = 0;

	(void)state;
	for (int y = 2026; y <= 2027; y++)
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= mdays[m - 1]; d++) {
				const char *name = gw_roster_fi_holiday(y, m, d);
				char got[64];
				if (!name)
					continue;
				snprintf(got, sizeof(got), "%04d-%02d-%02d %s", y, m, d, name);
				assert_true(found < sizeof(want) / sizeof(want[0]));
				assert_string_equal(got, want[found]);
				found++;
			}
	assert_int_equal(found, sizeof(want) / sizeof(want[0]));
	/* Easter on its earliest and latest dates, and a date that is not one. */
	assert_string_equal(gw_roster_fi_holiday(2285, 3, 22), "Pääsiäispäivä");
	assert_string_equal(gw_roster_fi_holiday(2038, 4, 25), "Pääsiäispäivä");
	assert_null(gw_roster_fi_holiday(2027, 2, 29));
}

/* Office-hours rotations stop on the computed holidays with no holiday record at all. */
static void test_fi_holidays_office(void **state)
{
	char csv[4096];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "rotation,office,sos,weekly,2027-03-01,08:00,1,office\n"
		 "rotation_member,office,1,aino\n"
		 "rotation,nights,sos,daily,2027-03-01,16:00,1,after\n"
		 "rotation_member,nights,1,mikko\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2027-03-20T00:00Z");
	/* Thursday 25 March at noon: office; Good Friday and Easter Monday: after hours. */
	assert_string_equal(chain(r, "sos", lt("2027-03-25T12:00")), "aino");
	assert_string_equal(chain(r, "sos", lt("2027-03-26T12:00")), "mikko");
	assert_string_equal(chain(r, "sos", lt("2027-03-29T12:00")), "mikko");
	assert_string_equal(chain(r, "sos", lt("2027-03-30T12:00")), "aino");
	/* Ascension Day, Thursday 6 May */
	assert_string_equal(chain(r, "sos", lt("2027-05-06T09:00")), "mikko");
	assert_string_equal(chain(r, "sos", lt("2027-05-07T09:00")), "aino");
	gw_roster_free(r);
}

static void on_holiday(const char *date, const char *name, void *arg)
{
	char *buf = arg;
	size_t n = strlen(buf);
	snprintf(buf + n, 256 - n, "%s %s|", date, name);
}

/*
 * A line with office hours: in them its own plan, outside them (evenings, weekends,
 * computed and local holidays) its after-hours line's plan, which the plan names; the
 * line's own duty listing is not changed. Coverage cuts at the office edges.
 */
static void test_office_hours_line(void **state)
{
	char csv[4096];
	struct gw_roster_plan p;
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "line,lsp,Lastensuojelu,Barnskydd,Child protection,mon-fri,08:00-16:00,sos\n"
		 "%s"
		 "shift,lsp,aino,2027-03-01T00:00,2027-04-01T00:00,1\n"
		 "shift,sos,mikko,2027-03-01T00:00,2027-04-01T00:00,1\n"
		 "holiday,2027-03-24,Local day\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2027-03-10T00:00Z");
	/* Tuesday 23 March: 08:00-16:00 local is aino's, the edges exact. */
	assert_string_equal(plan_str(r, "lsp", lt("2027-03-23T07:59:59"), &p), "mikko/0");
	assert_string_equal(p.after_hours_line, "sos");
	assert_string_equal(plan_str(r, "lsp", lt("2027-03-23T08:00"), &p), "aino/0");
	assert_null(p.after_hours_line);
	assert_true(gw_roster_office_at(r, "lsp", lt("2027-03-23T15:59:59")));
	assert_string_equal(plan_str(r, "lsp", lt("2027-03-23T16:00"), &p), "mikko/0");
	assert_string_equal(p.after_hours_line, "sos");
	/* a local holiday, Good Friday (computed) and a Saturday: after hours all day */
	assert_string_equal(plan_str(r, "lsp", lt("2027-03-24T10:00"), &p), "mikko/0");
	assert_string_equal(plan_str(r, "lsp", lt("2027-03-26T10:00"), &p), "mikko/0");
	assert_string_equal(plan_str(r, "lsp", lt("2027-03-27T10:00"), &p), "mikko/0");
	assert_false(gw_roster_office_at(r, "lsp", lt("2027-03-27T10:00")));
	assert_true(gw_roster_office_at(r, "sos", lt("2027-03-27T10:00")));
	/* the duty itself is aino's all day */
	assert_string_equal(chain(r, "lsp", lt("2027-03-27T10:00")), "aino");
	/* the holidays of a week, computed and local, in date order */
	char hols[256] = "";
	assert_int_equal(gw_roster_holidays(r, lt("2027-03-23T00:00"), lt("2027-03-29T00:00:01"),
					    on_holiday, hols),
			 4);
	assert_string_equal(hols, "2027-03-24 Local day|2027-03-26 Pitkäperjantai|"
				  "2027-03-28 Pääsiäispäivä|2027-03-29 2. pääsiäispäivä|");
	assert_int_equal(
	    gw_roster_holidays(r, lt("2027-03-23T00:00"), lt("2027-03-23T00:00"), on_holiday, hols),
	    -EINVAL);
	gw_roster_free(r);

	/* Office hours with nobody after hours: a gap from 16:00 to 08:00 the next day. */
	snprintf(csv, sizeof(csv),
		 "line,lsp,Lastensuojelu,Barnskydd,Child protection,mon-fri,08:00-16:00,mhs\n"
		 "%s"
		 "shift,lsp,aino,2027-03-01T00:00,2027-04-01T00:00,1\n"
		 "shift,mhs,mikko,2027-03-01T00:00,2027-03-23T20:00,1\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2027-03-10T00:00Z");
	struct gaps g = {""};
	assert_int_equal(
	    gw_roster_gaps(r, lt("2027-03-23T12:00"), lt("2027-03-24T12:00"), on_gap, &g), 3);
	assert_string_equal(g.text, "lsp 2027-03-23T20:00+02:00..2027-03-24T08:00+02:00|"
				    "mhs 2027-03-23T20:00+02:00..2027-03-24T12:00+02:00|"
				    "sos 2027-03-23T12:00+02:00..2027-03-24T12:00+02:00|");
	gw_roster_free(r);

	/* Bad office hours: not all three, the line itself, an unknown line, two steps. */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "line,a1,A,A,A,mon-fri,08:00-16:00\n"	   /* 7 */
		 "line,a2,A,A,A,mon-fri,16:00-08:00,sos\n" /* 8 */
		 "line,a3,A,A,A,mon-fri,08:00-16:00,a3\n"  /* 9 */
		 "line,a4,A,A,A,mon-fri,08:00-16:00,zzz\n" /* 10 */
		 "line,a5,A,A,A,mon-fri,08:00-16:00,a6\n"  /* 11 */
		 "line,a6,A,A,A,sat,08:00-16:00,sos\n"	   /* 12 */
		 "line,a7,A,A,A,moon,08:00-16:00,sos\n",   /* 13 */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":7: line a1: office days, office hours and after-hours line "
				     "go together"));
	assert_true(has_err(csvpath, ":8: office hours '16:00-08:00' must end after they start"));
	assert_true(has_err(csvpath, ":9: line a3 cannot be its own after-hours line"));
	assert_true(has_err(csvpath, ":10: after-hours line of a4 is unknown: 'zzz'"));
	assert_true(has_err(csvpath, ":11: after-hours line a6 of a5 has office hours itself"));
	assert_true(has_err(csvpath, ":13: bad days 'moon'"));
}

/*
 * A directory entry's municipality and membership (for the report): read, stored, exported
 * back; both or neither, member or contract, one membership per municipality.
 */
static void test_directory_municipality(void **state)
{
	char csv[4096];
	char *out;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "directory,2269001,\"Poliisi, Mikkeli\",Mikkeli,member\n"
		 "directory,2269060,Pelastus,Sulkava,contract\n"
		 "directory,2269070,Tulli\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	out = export_text();
	assert_non_null(strstr(out, "directory,2269001,\"Poliisi, Mikkeli\",Mikkeli,member\n"));
	assert_non_null(strstr(out, "directory,2269060,Pelastus,Sulkava,contract\n"));
	assert_non_null(strstr(out, "directory,2269070,Tulli\n"));
	free(out);
	snprintf(csv, sizeof(csv),
		 "%s"
		 "directory,2269001,P,Mikkeli\n"	   /* 7 */
		 "directory,2269002,P,Mikkeli,owner\n"	   /* 8 */
		 "directory,2269003,P,Mikkeli,member\n"	   /* 9 */
		 "directory,2269004,P,Mikkeli,contract\n", /* 10 */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":7: directory 2269001: a municipality needs member or "
				     "contract"));
	assert_true(has_err(csvpath, ":8: bad membership 'owner' (member or contract)"));
	assert_true(has_err(csvpath, ":10: municipality Mikkeli is a contract here, a member on "
				     "line 9"));
}

/* ---- escalation plans ---------------------------------------------------------------- */

static const char *plan_str(const struct gw_roster *r, const char *line, int64_t at,
			    struct gw_roster_plan *p)
{
	static char buf[512];

	assert_true(gw_roster_plan(r, line, at, p) >= 0);
	buf[0] = '\0';
	for (int i = 0; i < p->n_steps; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s/%d", i ? "," : "",
			 p->steps[i].handle, p->steps[i].ring_s);
	if (p->has_fallback)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " then %s/%d",
			 p->fallback.handle, p->fallback.ring_s);
	return buf;
}

static void test_plan(void **state)
{
	char csv[4096];
	struct gw_roster_plan p;
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "line,lsp,Lastensuojelu,Barnskydd,Child protection\n"
		 "line,vwc,Väkivaltatyö,Våldsarbete,Violence work\n"
		 "%s"
		 "worker,juha,Juha Nieminen,+358401234570,\n"
		 "shift,sos,aino,2026-03-01T00:00Z,2026-04-01T00:00Z,1\n"
		 "shift,sos,mikko,2026-03-01T00:00Z,2026-04-01T00:00Z,2\n"
		 "shift,mhs,juha,2026-03-01T00:00Z,2026-04-01T00:00Z,1\n"
		 "shift,mhs,aino,2026-03-01T00:00Z,2026-04-01T00:00Z,2\n"
		 /* mhs: the first on duty of sos, leena (40 s), everyone on mhs (15 s) */
		 "chain_step,mhs,1,oncall,sos\n"
		 "chain_step,mhs,2,person,leena,40\n"
		 "chain_step,mhs,3,duty,mhs,15\n"
		 "chain,mhs,3,mikko,60\n"
		 /* sos: no steps: its duty order, with settings */
		 "chain,sos,2,leena\n"
		 /* lsp: nobody at all; vwc: only a fallback who is on leave */
		 "chain,vwc,,olli\n"
		 "override,remove,,leena,2026-03-15T00:00Z,2026-03-16T00:00Z\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load_at("2026-03-05T00:00Z");
	int64_t at = t("2026-03-10T12:00Z");
	/* aino is the first of sos and is on mhs too: once, at her first place. */
	assert_string_equal(plan_str(r, "mhs", at, &p), "aino/0,leena/40,juha/15 then mikko/60");
	assert_int_equal(p.n_steps, 3);
	assert_int_equal(p.rounds, 3);
	assert_true(p.explicit_chain);
	assert_false(p.empty);
	assert_string_equal(p.steps[1].phone, "+358401234569");
	/* leena removed for a day (every line): her person step is skipped. */
	assert_string_equal(plan_str(r, "mhs", t("2026-03-15T12:00Z"), &p),
			    "aino/0,juha/15 then mikko/60");
	/* The duty order when there are no steps; the chain's rounds and fallback apply. */
	assert_string_equal(plan_str(r, "sos", at, &p), "aino/0,mikko/0 then leena/0");
	assert_int_equal(p.rounds, 2);
	assert_false(p.explicit_chain);
	/* Nobody: said so, never silently. */
	assert_string_equal(plan_str(r, "lsp", at, &p), "");
	assert_true(p.empty);
	assert_int_equal(p.rounds, 0);
	assert_string_equal(plan_str(r, "vwc", at, &p), "");
	assert_true(p.empty); /* the fallback is inactive */
	/* After March nobody is on sos, so mhs's oncall step gives nobody. */
	assert_string_equal(plan_str(r, "mhs", t("2026-04-10T12:00Z"), &p),
			    "leena/40 then mikko/60");
	assert_int_equal(gw_roster_plan(r, "nope", at, &p), -ENOENT);
	/* The old interface still gives the duty order. */
	assert_string_equal(chain(r, "mhs", at), "juha,aino");
	gw_roster_free(r);

	/* Chain records are checked. */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "chain_step,sos,1,person,nobody\n" /* 7 */
		 "chain_step,sos,1,oncall,mhs\n"    /* 8: order twice */
		 "chain_step,sos,2,oncall,xyz\n"    /* 9 */
		 "chain_step,sos,3,someone,aino\n"  /* 10 */
		 "chain_step,sos,4,person,aino,3\n" /* 11: ring too short */
		 "chain,sos,9,leena\n"		    /* 12 */
		 "chain,mhs,,nobody\n"		    /* 13 */
		 "chain,mhs,2,\n",		    /* 14: twice */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":7: chain step names unknown worker 'nobody'"));
	assert_true(has_err(csvpath, ":8: line sos has two chain steps with order 1"));
	assert_true(has_err(csvpath, ":9: chain step names unknown line 'xyz'"));
	assert_true(has_err(csvpath, ":10: bad step kind 'someone'"));
	assert_true(has_err(csvpath, ":11: bad ring time '3'"));
	assert_true(has_err(csvpath, ":12: bad rounds '9'"));
	assert_true(has_err(csvpath, ":13: chain fallback is unknown worker 'nobody'"));
	assert_true(has_err(csvpath, ":14: duplicate chain settings for line 'mhs'"));
}

/* ---- rotation records ---------------------------------------------------------------- */

static void test_rotation_errors(void **state)
{
	char csv[4096];

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "rotation,r1,sos,monthly,2026-01-05,08:00,1\n"		      /* 7 */
		 "rotation,r2,sos,weekly,2026-13-05,08:00,1\n"		      /* 8 */
		 "rotation,r3,sos,weekly,2026-01-05,8:00,1\n"		      /* 9 */
		 "rotation,r4,sos,weekly,2026-01-05,08:00,1,nights\n"	      /* 10 */
		 "rotation,r5,xyz,daily,2026-01-05,08:00,1\n"		      /* 11 */
		 "rotation_member,r5,1,aino\n"				      /* 12 */
		 "rotation,r6,sos,daily,2026-01-05,08:00,1\n"		      /* 13: no members */
		 "rotation,r7,sos,daily,2026-01-05,08:00,1\n"		      /* 14: a gap */
		 "rotation_member,r7,1,aino\n"				      /* 15 */
		 "rotation_member,r7,3,mikko\n"				      /* 16 */
		 "rotation_member,r7,1,leena\n"				      /* 17: order twice */
		 "rotation_member,r9,1,aino\n"				      /* 18 */
		 "rotation_member,r5,2,nobody\n"			      /* 19 */
		 "rotation,r5,sos,daily,2026-01-05,08:00,2\n"		      /* 20: name twice */
		 "rotation,r8,sos,daily,2026-01-05,08:00,1,all,2026-01-05\n", /* 21 */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":7: bad rotation kind 'monthly'"));
	assert_true(has_err(csvpath, ":8: bad start date '2026-13-05'"));
	assert_true(has_err(csvpath, ":9: bad handoff time '8:00'"));
	assert_true(has_err(csvpath, ":10: bad hours 'nights'"));
	assert_true(has_err(csvpath, ":11: rotation on unknown line 'xyz'"));
	assert_true(has_err(csvpath, ":13: rotation r6 has no rotation_member records"));
	assert_true(has_err(csvpath, ":14: rotation r7: member orders must run 1..N"));
	assert_true(has_err(csvpath, ":17: rotation r7 has two members with order 1"));
	assert_true(has_err(csvpath, ":18: member of unknown rotation 'r9'"));
	assert_true(has_err(csvpath, ":19: rotation member is unknown worker 'nobody'"));
	assert_true(has_err(csvpath, ":20: duplicate rotation 'r5' (first on line 11)"));
	assert_true(has_err(csvpath, ":21: rotation must end after it starts"));
	assert_int_equal(gw_db_roster_changed(db), 0); /* nothing written */
}

/* ---- export and import back ---------------------------------------------------------- */

static char *export_text(void)
{
	struct gw_db_roster d;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(gw_db_roster_read(db, &d), 0);
	assert_int_equal(gw_roster_write_csv(&d, f), 0);
	fclose(f);
	gw_db_roster_clear(&d);
	return text;
}

/* One kind's table: what the reader, the export and the insert rely on. */
static void check_kind(const struct roster_kind *k)
{
	int cols = 0, checks = 0, seen[16] = {0};

	print_message("  kind %s\n", k->name);
	assert_true(k->n_fields > 0 && k->n_fields <= 16);
	for (int j = 0; j < k->n_fields; j++) {
		const struct roster_field *fd = &k->fields[j];
		assert_true(fd->off < k->size);
		if (!fd->csv) {
			assert_null(fd->parse); /* read from CSV only in a column */
			continue;
		}
		assert_int_equal(fd->csv, ++cols); /* columns in order, none missing */
		if (fd->parse && !fd->optional)
			assert_true(fd->csv < k->min); /* a required column is always there */
	}
	if (k->more) /* it writes the last columns itself (an override's POSITION|BY) */
		assert_true(cols + 1 <= k->max);
	else
		assert_int_equal(cols + 1, k->max);
	/* the check order names every field read from CSV once, and the check once */
	for (int i = 0; i < (k->order ? k->n_order : 0); i++) {
		if (k->order[i] == RF_CHECK) {
			checks++;
			continue;
		}
		assert_true(k->order[i] >= 0 && k->order[i] < k->n_fields);
		seen[k->order[i]]++;
	}
	if (k->order) {
		assert_int_equal(checks, k->check ? 1 : 0);
		for (int j = 0; j < k->n_fields; j++)
			assert_int_equal(seen[j], k->fields[j].csv && k->fields[j].parse ? 1 : 0);
	}
}

/* The kind tables (roster_fields.c) are consistent with the record syntax they describe. */
static void test_kind_tables(void **state)
{
	(void)state;
	for (int t = 0; t < T_COUNT; t++) {
		assert_int_equal(roster_kinds[t].type, t);
		check_kind(&roster_kinds[t]);
	}
	assert_int_equal(roster_pattern_kind.type, T_ROT);
	check_kind(&roster_pattern_kind);
}

/* Records in a roster CSV without quoted line breaks: lines not blank and not comments. */
static size_t count_records(const char *text)
{
	size_t n = 0;

	for (const char *p = text; *p;) {
		const char *e = strchrnul(p, '\n');
		size_t skip = strspn(p, " \t");
		if (p + skip < e && p[skip] != '#' && p[skip] != '\r')
			n++;
		p = *e ? e + 1 : e;
	}
	return n;
}

/*
 * Each demo roster, exported, imported again and exported again, gives the same bytes;
 * the export keeps every record, and its text parsed and written without the database is
 * the same text too.
 */
static void test_export_demo_files_stable(void **state)
{
	static const char *const files[] = {"tools/demo/roster.csv", "tools/demo/south-savo.csv"};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct gw_db_roster d;
		char *src, *text1, *text2, *text3 = NULL;
		size_t len, len3 = 0;
		FILE *f = fopen(files[i], "r");

		assert_non_null(f);
		src = calloc(1, 1 << 20);
		assert_non_null(src);
		len = fread(src, 1, (1 << 20) - 1, f);
		fclose(f);
		assert_true(len > 0);
		assert_int_equal(gw_roster_import_file(db, files[i], on_err, NULL, NULL), 0);
		text1 = export_text();
		assert_int_equal(count_records(text1), count_records(src));
		assert_int_equal(import_text(text1), 0);
		text2 = export_text();
		assert_string_equal(text1, text2);

		assert_int_equal(
		    gw_roster_parse_csv("x.csv", text1, strlen(text1), &d, on_err, NULL), 0);
		f = open_memstream(&text3, &len3);
		assert_non_null(f);
		assert_int_equal(gw_roster_write_csv(&d, f), 0);
		fclose(f);
		gw_db_roster_clear(&d);
		assert_string_equal(text1, text3);
		free(src);
		free(text1);
		free(text2);
		free(text3);
	}
}

static void test_export_round_trip(void **state)
{
	static const char extra[] =
	    "worker,pia,\"Pia \"\"P\"\" Testi, #1\",+358401111111,2269999\n"
	    "worker,eve,=HYPERLINK(x),0401111112,\n"
	    "worker,eve2,\"''@x\",+358401111113,\n"
	    "override,add,sos,pia,2026-03-01T00:00:00.250Z,2026-03-02T00:00Z,2\n"
	    "override,remove,,aino,2026-03-05T00:00+02:00,2026-03-06T00:00+02:00\n"
	    "override,replace,mhs,juha,2026-03-07T00:00Z,2026-03-08T00:00:30Z,sanna\n"
	    "holiday,2028-12-24,\" Jouluaatto \"\n"
	    "chain,sos,,leena,30\n"
	    "chain_step,lsp,1,person,pia,45\n"
	    "route,lsp,2269,3,sat+sun,20:00-06:30,except,\n"
	    "route,vwc,,0,mon+wed-fri+sun,,only,65535\n"
	    "temp_roster,xmas,sos,2026-12-20,2027-01-07,08:00\n"
	    "shift,sos,pia,2026-12-01T00:00Z,2027-02-01T00:00Z,1,xmas\n"
	    "rotation,xmas-r,sos,weekly,2026-12-21,08:00,2,,,xmas\n"
	    "rotation_member,xmas-r,1,pia\n";
	struct gw_roster *r1, *r2;
	char *buf, *text1, *text2;
	size_t len;
	FILE *f;

	(void)state;
	/* The demo roster plus what it does not use. */
	f = fopen("tools/demo/roster.csv", "r");
	assert_non_null(f);
	buf = calloc(1, 1 << 20);
	assert_non_null(buf);
	len = fread(buf, 1, (1 << 20) - sizeof(extra), f);
	fclose(f);
	memcpy(buf + len, extra, sizeof(extra));
	assert_int_equal(import_text(buf), 0);
	free(buf);
	text1 = export_text();
	assert_int_equal(import_text(text1), 0);
	text2 = export_text();
	assert_string_equal(text1, text2);
	/* times come back as Helsinki wall clock with their offset */
	assert_non_null(strstr(text1, "override,add,sos,pia,2026-03-01T02:00:00.250+02:00,"));
	assert_non_null(strstr(text1, "override,remove,,aino,2026-03-05T00:00+02:00,"));
	assert_non_null(
	    strstr(text1, "shift,sos,aino,2025-12-31T08:00+02:00,2027-01-01T08:00+02:00,1\n"));
	assert_non_null(strstr(text1, "\"Pia \"\"P\"\" Testi, #1\""));
	assert_non_null(strstr(text1, "\" Jouluaatto \""));
	/* cells a spreadsheet would run are neutralised, and read back as they were */
	assert_non_null(strstr(text1, "worker,eve,\"'=HYPERLINK(x)\",0401111112,"));
	assert_non_null(strstr(text1, ",\"'+358401111111\","));
	assert_non_null(strstr(text1, "worker,eve2,\"''@x\","));
	assert_null(strstr(text1, ",=HYPERLINK"));
	assert_non_null(strstr(text1, "route,lsp,2269,3,sat+sun,20:00-06:30,except,\n"));
	assert_non_null(strstr(text1, "route,vwc,,0,mon+wed-fri+sun,,only,65535\n"));
	assert_non_null(strstr(text1, "route,sos,,0\n"));
	assert_non_null(strstr(text1, "temp_roster,xmas,sos,2026-12-20,2027-01-07,08:00\n"));
	assert_non_null(strstr(text1, ",1,xmas\n"));
	assert_non_null(strstr(text1, "rotation,xmas-r,sos,weekly,2026-12-21,08:00,2,all,,xmas\n"));

	/* And the two rosters answer alike. */
	assert_int_equal(gw_roster_load_at(db, t("2026-03-01T00:00Z"), &r2), 0);
	assert_int_equal(import_text(text1), 0);
	assert_int_equal(gw_roster_load_at(db, t("2026-03-01T00:00Z"), &r1), 0);
	for (int64_t at = t("2026-03-01T00:00Z"); at < t("2026-03-10T00:00Z"); at += 3600000) {
		for (size_t i = 0; i < gw_roster_line_count(r1); i++) {
			const char *code = gw_roster_line_code(r1, i);
			struct gw_roster_plan a, b;
			char ca[256];
			snprintf(ca, sizeof(ca), "%s", chain(r1, code, at));
			assert_string_equal(ca, chain(r2, code, at));
			snprintf(ca, sizeof(ca), "%s", plan_str(r1, code, at, &a));
			assert_string_equal(ca, plan_str(r2, code, at, &b));
		}
	}
	gw_roster_free(r1);
	gw_roster_free(r2);
	free(text1);
	free(text2);
}

/* ---- routing by time, holidays and status ------------------------------------------- */

static time_t ts(const char *iso)
{
	return (time_t)(t(iso) / 1000);
}

static void test_route_conditions(void **state)
{
	char csv[4096];
	struct gw_roster *r;
	const char *c = "1234567";

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "line,lsp,Lastensuojelu,Barnskydd,Child protection\n"
		 "line,vwc,Väkivaltatyö,Våldsarbete,Violence work\n"
		 "line,hol,Pyhä,Helg,Holiday\n"
		 "route,sos,,0\n"
		 "route,mhs,,0,,16:00-08:00\n"	  /* evenings and nights, every day */
		 "route,lsp,,0,sat+sun\n"	  /* weekends (same specificity as mhs) */
		 "route,vwc,,0,fri,22:00-06:00\n" /* Friday night: two conditions */
		 "route,hol,,0,,,only\n"	  /* public holidays */
		 "route,lsp,2269,0\n"		  /* police: prefix beats conditions */
		 "route,vwc,,0,,,,3\n"		  /* status 3 from anyone */
		 "route,hol,2269,0,mon-fri,08:00-16:00,except,5\n" /* police status 5 */
		 "holiday,2026-04-03,Pitkäperjantai\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load();
	/* Wednesday 2026-03-11 (winter time, UTC+2). */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-11T12:00+02:00")), "sos");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-11T15:59+02:00")), "sos");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-11T16:00+02:00")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-12T07:59+02:00")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-12T08:00+02:00")), "sos");
	/* Weekend: days only by day; evening ties with the window: the earlier route. */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-14T12:00+02:00")), "lsp");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-14T20:00+02:00")), "mhs");
	/* Friday night, across midnight: Saturday 05:59 is still Friday's window. */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-13T21:59+02:00")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-13T22:00+02:00")), "vwc");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-14T05:59+02:00")), "vwc");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-14T06:00+02:00")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-14T23:00+02:00")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-12T23:00+02:00")), "mhs");
	/* Good Friday: holiday by day, Friday night still more specific. */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-04-03T12:00+03:00")), "hol");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-04-03T23:00+03:00")), "vwc");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-04-02T12:00+03:00")), "sos");
	/* DST starts Sunday 2026-03-29 01:00Z: 05:00Z is 08:00 local, not 07:00. */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-29T04:59Z")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-29T05:00Z")), "lsp");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-29T12:59Z")), "lsp");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-29T13:00Z")), "mhs");
	/* DST ends Sunday 2026-10-25 01:00Z: 16:00 local is 14:00Z again. */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-10-25T05:59Z")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-10-25T06:00Z")), "lsp");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-10-25T13:30Z")), "lsp");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-10-25T14:00Z")), "mhs");
	/* Saturday 2026-10-24 was summer time: 05:00Z is 08:00 local. */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-10-24T04:59Z")), "mhs");
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-10-24T05:00Z")), "lsp");

	/* Police: the prefix wins over time conditions; status routes first. */
	const char *p = "2269001";
	assert_string_equal(gw_roster_route_at(r, p, -1, ts("2026-03-14T05:59+02:00")), "lsp");
	assert_string_equal(gw_roster_route_at(r, p, 3, ts("2026-03-11T12:00+02:00")), "vwc");
	assert_string_equal(gw_roster_route_at(r, p, 4, ts("2026-03-11T12:00+02:00")), "lsp");
	assert_string_equal(gw_roster_route_at(r, p, 5, ts("2026-03-11T12:00+02:00")), "hol");
	assert_string_equal(gw_roster_route_at(r, p, 5, ts("2026-03-11T16:00+02:00")), "lsp");
	assert_string_equal(gw_roster_route_at(r, p, 5, ts("2026-03-14T12:00+02:00")), "lsp");
	assert_string_equal(gw_roster_route_at(r, p, 5, ts("2026-04-03T12:00+03:00")), "lsp");
	assert_string_equal(gw_roster_route_at(r, c, 5, ts("2026-03-11T12:00+02:00")), "sos");
	assert_string_equal(gw_roster_route_at(r, c, 3, ts("2026-03-14T05:59+02:00")), "vwc");
	/* A voice call never takes a status route. */
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-11T12:00+02:00")), "sos");
	gw_roster_free(r);

	/* Without a default, nothing matches outside the window. */
	snprintf(csv, sizeof(csv), "%sroute,mhs,,0,mon-fri,08:00-16:00\n", base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load();
	assert_string_equal(gw_roster_route_at(r, c, -1, ts("2026-03-11T08:00+02:00")), "mhs");
	assert_null(gw_roster_route_at(r, c, -1, ts("2026-03-11T16:00+02:00")));
	assert_null(gw_roster_route_at(r, c, -1, ts("2026-03-15T12:00+02:00")));
	gw_roster_free(r);

	/* Bad conditions, and what is (not) a repeat. */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "route,sos,,0,mon-xyz\n"	      /* 7 */
		 "route,sos,,0,mon+\n"		      /* 8 */
		 "route,sos,,0,,8:00-16:00\n"	      /* 9 */
		 "route,sos,,0,,16:00-16:00\n"	      /* 10 */
		 "route,sos,,0,,,yes\n"		      /* 11 */
		 "route,sos,,0,,,,70000\n"	      /* 12 */
		 "route,sos,,0,sat+sun,,,\n"	      /* 13 */
		 "route,mhs,,0,sat-sun\n"	      /* 14: the same as 13 */
		 "route,mhs,,0,fri-mon,22:00-06:00\n" /* 15: wraps, fine */
		 "route,sos,,0,,,,1,x\n",	      /* 16 */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":7: bad days 'mon-xyz'"));
	assert_true(has_err(csvpath, ":8: bad days 'mon+'"));
	assert_true(has_err(csvpath, ":9: bad window '8:00-16:00'"));
	assert_true(has_err(csvpath, ":10: bad window '16:00-16:00'"));
	assert_true(has_err(csvpath, ":11: bad holidays 'yes'"));
	assert_true(has_err(csvpath, ":12: bad status code '70000'"));
	assert_true(has_err(csvpath, ":14: route prefix '' if 'sat+sun,,,' with priority 0 is"));
	assert_true(has_err(csvpath, ":16: route: 9 fields"));
	assert_int_equal(n_errs, 8);
}

/* ---- temporary rosters --------------------------------------------------------------- */

static void test_temp_roster(void **state)
{
	char csv[4096];
	struct gw_roster *r;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "shift,sos,aino,2026-01-01T00:00Z,2028-01-01T00:00Z,1\n"
		 "rotation,mhs-r,mhs,daily,2026-12-01,08:00,1\n"
		 "rotation_member,mhs-r,1,mikko\n"
		 "rotation_member,mhs-r,2,leena\n"
		 /* Christmas cover on sos: 2026-12-20 08:00 to 2027-01-07 08:00 Helsinki. */
		 "temp_roster,xmas,sos,2026-12-20,2027-01-07,08:00\n"
		 "shift,sos,mikko,2026-12-01T00:00Z,2027-02-01T00:00Z,1,xmas\n"
		 "shift,sos,aino,2026-12-01T00:00Z,2027-02-01T00:00Z,3,xmas\n" /* no overlap */
		 "rotation,xmas-r,sos,weekly,2026-12-21,08:00,2,,,xmas\n"
		 "rotation_member,xmas-r,1,leena\n"
		 "rotation_member,xmas-r,2,aino\n"
		 "override,remove,sos,mikko,2026-12-24T06:00Z,2026-12-25T06:00Z\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	assert_int_equal(gw_roster_load_at(db, t("2026-12-15T00:00Z"), &r), 0);
	assert_string_equal(chain(r, "sos", t("2026-12-20T05:59:59.999Z")), "aino");
	assert_null(gw_roster_temp_at(r, "sos", t("2026-12-20T05:59:59.999Z")));
	assert_string_equal(chain(r, "sos", t("2026-12-20T06:00Z")), "mikko,aino");
	assert_string_equal(gw_roster_temp_at(r, "sos", t("2026-12-20T06:00Z")), "xmas");
	assert_null(gw_roster_temp_at(r, "mhs", t("2026-12-20T06:00Z")));
	assert_null(gw_roster_temp_at(r, "nope", t("2026-12-20T06:00Z")));
	assert_string_equal(chain(r, "sos", t("2026-12-21T05:59Z")), "mikko,aino");
	assert_string_equal(chain(r, "sos", t("2026-12-21T06:00Z")), "mikko,leena,aino");
	/* Overrides still apply inside a temporary roster. */
	assert_string_equal(chain(r, "sos", t("2026-12-24T12:00Z")), "leena,aino");
	assert_string_equal(chain(r, "sos", t("2026-12-28T06:00Z")), "mikko,aino");
	assert_string_equal(chain(r, "sos", t("2027-01-07T05:59:59.999Z")), "mikko,leena,aino");
	assert_string_equal(gw_roster_temp_at(r, "sos", t("2027-01-07T05:59:59.999Z")), "xmas");
	assert_string_equal(chain(r, "sos", t("2027-01-07T06:00Z")), "aino");
	assert_null(gw_roster_temp_at(r, "sos", t("2027-01-07T06:00Z")));
	/* Other lines keep their own rotation. */
	assert_string_equal(chain(r, "mhs", t("2026-12-24T12:00Z")), "leena");
	assert_string_equal(chain(r, "mhs", t("2026-12-25T12:00Z")), "mikko");
	gw_roster_free(r);

	/* A handoff in the DST gap (03:30 on 2026-03-29 does not exist): the gap's end. */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "shift,sos,aino,2026-01-01T00:00Z,2028-01-01T00:00Z,1\n"
		 "temp_roster,spring,sos,2026-03-28,2026-03-29,03:30\n"
		 "shift,sos,leena,2026-03-01T00:00Z,2026-04-01T00:00Z,1,spring\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);
	assert_int_equal(gw_roster_load_at(db, t("2026-03-20T00:00Z"), &r), 0);
	assert_string_equal(chain(r, "sos", t("2026-03-28T01:29Z")), "aino");
	assert_string_equal(chain(r, "sos", t("2026-03-28T01:30Z")), "leena");
	assert_string_equal(chain(r, "sos", t("2026-03-29T00:59Z")), "leena");
	assert_string_equal(chain(r, "sos", t("2026-03-29T01:00Z")), "aino");
	gw_roster_free(r);

	/* Errors. */
	snprintf(csv, sizeof(csv),
		 "%s"
		 "temp_roster,a,sos,2026-12-20,2027-01-07\n"		       /* 7 */
		 "temp_roster,b,sos,2027-01-06,2027-01-10\n"		       /* 8 */
		 "temp_roster,c,mhs,2027-01-06,2027-01-10\n"		       /* 9 */
		 "temp_roster,a,mhs,2028-01-06,2028-01-10\n"		       /* 10 */
		 "temp_roster,d,sos,2027-02-10,2027-02-10\n"		       /* 11 */
		 "temp_roster,e,xyz,2027-02-10,2027-02-11\n"		       /* 12 */
		 "temp_roster,f,sos,2027-02-10,2027-02-11,25:00\n"	       /* 13 */
		 "shift,sos,aino,2026-12-01T00:00Z,2026-12-02T00:00Z,1,nope\n" /* 14 */
		 "shift,sos,aino,2026-12-01T00:00Z,2026-12-02T00:00Z,1,c\n"    /* 15 */
		 "rotation,r,sos,daily,2026-12-01,08:00,1,,,c\n"	       /* 16 */
		 "rotation_member,r,1,aino\n"				       /* 17 */
		 "temp_roster,,sos,2027-02-10,2027-02-11\n"		       /* 18 */
		 "shift,sos,aino,2026-12-01T12:00Z,2026-12-03T00:00Z,1\n"      /* 19 */
		 "shift,sos,aino,2026-12-01T12:00Z,2026-12-03T00:00Z,1,a\n",   /* 20 */
		 base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, ":8: temporary roster b overlaps a (line 7) on line sos"));
	assert_true(has_err(csvpath, ":10: duplicate temporary roster 'a' (first on line 7)"));
	assert_true(has_err(csvpath, ":11: temporary roster must end after it starts"));
	assert_true(has_err(csvpath, ":12: temporary roster on unknown line 'xyz'"));
	assert_true(has_err(csvpath, ":13: bad handoff time '25:00'"));
	assert_true(has_err(csvpath, ":14: shift names unknown temporary roster 'nope'"));
	assert_true(
	    has_err(csvpath, ":15: shift on line sos names temporary roster c of line mhs"));
	assert_true(has_err(csvpath, ":16: rotation on line sos names temporary roster c of line"));
	assert_true(has_err(csvpath, ":18: temporary roster name is empty"));
	assert_int_equal(n_errs, 9); /* 19 and 20 overlap but are in different plans */
}

/* ---- worker language and PIN --------------------------------------------------------- */

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_worker_lang_pin(void **state)
{
	char csv[2048], hash[GW_ROSTER_PIN_HASH_MAX], *text;
	struct gw_roster *r;
	double t0, ms;

	(void)state;
	snprintf(csv, sizeof(csv),
		 "%s"
		 "worker,stina,Stina Lind,+358401234590,,1,sv\n"
		 "worker,john,John Smith,+358401234591,,,en\n"
		 "worker,gone,Gone,+358401234592,,0,fi\n",
		 base_roster);
	assert_int_equal(import_text(csv), 0);

	/* Bad PINs are refused before hashing. */
	assert_int_equal(gw_roster_hash_pin("123", hash), -EINVAL);
	assert_int_equal(gw_roster_hash_pin("123456789", hash), -EINVAL);
	assert_int_equal(gw_roster_hash_pin("12a4", hash), -EINVAL);
	assert_int_equal(gw_roster_hash_pin("", hash), -EINVAL);
	assert_int_equal(gw_roster_hash_pin("4711", hash), 0);
	assert_null(strstr(hash, "4711"));
	assert_non_null(strstr(hash, "$argon2id$"));
	assert_int_equal(gw_db_worker_set_pin(db, "stina", hash), 0);
	assert_int_equal(gw_db_worker_set_pin(db, "nobody", hash), -ENOENT);
	assert_int_equal(gw_roster_hash_pin("12345678", hash), 0);
	assert_int_equal(gw_db_worker_set_pin(db, "gone", hash), 0);
	/* The same PIN twice gives two hashes (random salt). */
	{
		char h2[GW_ROSTER_PIN_HASH_MAX];
		assert_int_equal(gw_roster_hash_pin("12345678", h2), 0);
		assert_string_not_equal(hash, h2);
	}

	r = load();
	assert_string_equal(gw_roster_worker_lang(r, "+358401234590"), "sv");
	assert_string_equal(gw_roster_worker_lang(r, "+358401234591"), "en");
	assert_string_equal(gw_roster_worker_lang(r, "+358401234567"), "fi"); /* default */
	assert_null(gw_roster_worker_lang(r, "+358401234592"));		      /* inactive */
	assert_null(gw_roster_worker_lang(r, "+358409999999"));
	assert_null(gw_roster_worker_lang(r, NULL));

	t0 = mono_ms();
	assert_int_equal(gw_roster_check_pin(r, "+358401234590", "4711"), 0);
	ms = mono_ms() - t0;
	print_message("  PIN check (match): %.1f ms (this build)\n", ms);
	t0 = mono_ms();
	assert_int_equal(gw_roster_check_pin(r, "+358401234590", "4712"), -EACCES);
	print_message("  PIN check (wrong): %.1f ms (this build)\n", mono_ms() - t0);
	assert_int_equal(gw_roster_check_pin(r, "+358401234590", "47111"), -EACCES);
	assert_int_equal(gw_roster_check_pin(r, "+358401234590", ""), -EACCES);
	assert_int_equal(gw_roster_check_pin(r, "+358401234590", NULL), -EACCES);
	assert_int_equal(gw_roster_check_pin(r, "+358401234591", "4711"), -ENOENT); /* no PIN */
	assert_int_equal(gw_roster_check_pin(r, "+358401234592", "12345678"), -ENOENT);
	assert_int_equal(gw_roster_check_pin(r, "+358409999999", "4711"), -ENOENT);
	gw_roster_free(r);

	/* Export carries the language, never the PIN or its hash; a re-import keeps the PIN. */
	text = export_text();
	assert_non_null(strstr(text, "worker,stina,Stina Lind,\"'+358401234590\",,1,sv\n"));
	assert_non_null(strstr(text, "worker,aino,Aino Virtanen,\"'+358401234567\",,1,fi\n"));
	assert_null(strstr(text, "argon2"));
	assert_null(strstr(text, "4711"));
	assert_int_equal(import_text(text), 0);
	free(text);
	r = load();
	assert_int_equal(gw_roster_check_pin(r, "+358401234590", "4711"), 0);
	gw_roster_free(r);
	/* A handle the new roster drops loses its PIN, also when it comes back later. */
	assert_int_equal(import_text(base_roster), 0);
	snprintf(csv, sizeof(csv), "%sworker,stina,Stina Lind,+358401234590,,1,sv\n", base_roster);
	assert_int_equal(import_text(csv), 0);
	r = load();
	assert_int_equal(gw_roster_check_pin(r, "+358401234590", "4711"), -ENOENT);
	gw_roster_free(r);

	/* Bad languages. */
	snprintf(csv, sizeof(csv), "%sworker,x,X,+358401234599,,1,de\n", base_roster);
	assert_int_equal(import_text(csv), -EINVAL);
	assert_true(has_err(csvpath, "bad language 'de' (fi, sv or en)"));
	{
		struct gw_db_worker w = {.handle = "x",
					 .name = "X",
					 .phone = "+358401234599",
					 .active = true,
					 .lang = "FI"};
		char why[160];
		assert_int_equal(gw_roster_check_worker(&w, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "language"));
		w.lang = "sv";
		assert_int_equal(gw_roster_check_worker(&w, why, sizeof(why)), 0);
	}
}

/* PINs are peppered with a key only rinkid's user reads: a stolen database alone does not
   give the PINs away to a 10^8 guess. Hashes made before the pepper keep working. */
static void test_pin_pepper(void **state)
{
	char pdir[] = "/tmp/rinki-pepper-XXXXXX", path[64], other[64], cmd[96];
	char legacy[GW_ROSTER_PIN_HASH_MAX], peppered[GW_ROSTER_PIN_HASH_MAX];
	struct stat st;
	(void)state;
	assert_non_null(mkdtemp(pdir));
	snprintf(path, sizeof(path), "%s/rinki.db.pepper", pdir);
	snprintf(other, sizeof(other), "%s/other.pepper", pdir);

	gw_roster_pepper_forget();
	assert_int_equal(gw_roster_hash_pin("4711", legacy), 0);
	/* no pepper file and not allowed to make one */
	assert_int_equal(gw_roster_pepper_load(path, false), -ENOENT);
	/* made on first load: 32 random bytes, the owner's only */
	assert_int_equal(gw_roster_pepper_load(path, true), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(gw_roster_hash_pin("4711", peppered), 0);
	assert_true(strncmp(peppered, "pep1:$argon2id$", 15) == 0);
	assert_int_equal(gw_roster_verify_pin(peppered, "4711"), 0);
	assert_int_equal(gw_roster_verify_pin(peppered, "4712"), -EACCES);
	assert_int_equal(gw_roster_verify_pin(legacy, "4711"), 0); /* an old hash still works */
	assert_int_equal(gw_roster_verify_pin(legacy, "4712"), -EACCES);
	/* the hash alone (without the pepper) is not the PIN's argon2 hash */
	assert_int_not_equal(crypto_pwhash_str_verify(peppered + 5, "4711", 4), 0);
	/* loaded again: the same pepper */
	gw_roster_pepper_forget();
	assert_int_equal(gw_roster_verify_pin(peppered, "4711"), -ENOKEY);
	assert_int_equal(gw_roster_pepper_load(path, true), 0);
	assert_int_equal(gw_roster_verify_pin(peppered, "4711"), 0);
	/* another pepper: the PIN no longer matches */
	assert_int_equal(gw_roster_pepper_load(other, true), 0);
	assert_int_equal(gw_roster_verify_pin(peppered, "4711"), -EACCES);
	/* a pepper others may read, a short one, a symlink: refused */
	assert_int_equal(chmod(other, 0640), 0);
	assert_int_equal(gw_roster_pepper_load(other, false), -EPERM);
	assert_int_equal(truncate(other, 16), 0);
	assert_int_equal(chmod(other, 0600), 0);
	assert_int_equal(gw_roster_pepper_load(other, false), -EINVAL);
	snprintf(cmd, sizeof(cmd), "%s/link", pdir);
	assert_int_equal(symlink(path, cmd), 0);
	assert_true(gw_roster_pepper_load(cmd, false) < 0);
	gw_roster_pepper_forget();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pdir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test(test_pin_pepper),
	    cmocka_unit_test_setup_teardown(test_shift_boundaries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_year_of_shifts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_route_and_directory, setup, teardown),
	    cmocka_unit_test(test_csv_syntax),
	    cmocka_unit_test(test_csv_errors),
	    cmocka_unit_test_setup_teardown(test_import_all_or_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_demo_roster, setup, teardown),
	    cmocka_unit_test(test_csv_encodings),
	    cmocka_unit_test(test_helsinki_time),
	    cmocka_unit_test(test_dst_transitions),
	    cmocka_unit_test(test_clock_for_people),
	    cmocka_unit_test_setup_teardown(test_csv_local_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_dst, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pattern, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_south_savo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gaps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_holidays, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_demo_files_stable, setup, teardown),
	    cmocka_unit_test(test_kind_tables),
	    cmocka_unit_test_setup_teardown(test_worker_lang_pin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_route_conditions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_temp_roster, setup, teardown),
	    cmocka_unit_test(test_fi_holidays),
	    cmocka_unit_test_setup_teardown(test_fi_holidays_office, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_office_hours_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_directory_municipality, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timezone_stockholm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helsinki_time, builtin_rule, tzdb_helsinki),
	    cmocka_unit_test_setup_teardown(test_dst_transitions, builtin_rule, tzdb_helsinki),
	    cmocka_unit_test_setup_teardown(test_clock_for_people, builtin_rule, tzdb_helsinki),
	};
	/* every test runs with Europe/Helsinki from the tz database, as rinkid does; the last
	   three again with the built-in rule */
	if (tzdb_helsinki(NULL) < 0)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
