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
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "roster.h"

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
	const char *suffix[] = {"", "-wal", "-shm"};
	char f[300];

	(void)state;
	for (int i = 0; i < 3; i++) {
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
		 /* leena twice on mhs: listed once, at the better place */
		 "shift,mhs,leena,2026-01-01T00:00Z,2027-01-01T00:00Z,1\n"
		 "shift,mhs,leena,2026-03-01T00:00Z,2026-03-02T00:00Z,3\n",
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
	struct gw_db_line line = {"sos", "a", "b", "c"};
	struct gw_db_worker w[3];
	size_t n = 0, cap = 365 * 3 * 3 + 8;
	struct gw_db_shift *sh = calloc(cap, sizeof(*sh));
	struct gw_roster *r;
	int64_t y0 = t("2026-01-01T00:00Z");

	(void)state;
	assert_non_null(sh);
	for (int i = 0; i < 3; i++)
		w[i] = (struct gw_db_worker){(char *)who[i], (char *)who[i], "+358400000000", NULL,
					     true};
	for (int d = 0; d < 365; d++)
		for (int k = 0; k < 3; k++)
			for (int p = 0; p < 3; p++) {
				int64_t s0 = y0 + ((int64_t)d * 3 + k) * 8 * 3600000;
				sh[n++] = (struct gw_db_shift){"sos", (char *)who[(d + k + p) % 3],
							       s0, s0 + 8 * 3600000, p + 1};
			}
	/* Long and odd shifts that overlap many short ones. */
	sh[n++] = (struct gw_db_shift){"sos", "leena", y0, y0 + 365LL * 86400000, 4};
	sh[n++] = (struct gw_db_shift){"sos", "aino", y0 + 100LL * 86400000 + 1,
				       y0 + 200LL * 86400000 - 7, 1};
	sh[n++] = (struct gw_db_shift){"sos", "mikko", y0 - 86400000, y0 + 3600000, 2};
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
	    "shift,sos,aino,2026-01-01T00:00,2027-01-01T00:00Z,1\n"    /* 3: no zone */
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
	assert_true(has_err("r.csv:3: ", "bad start time '2026-01-01T00:00'"));
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
	/* Invalid UTF-8 and NUL bytes. */
	static const char enc[] = "line,a,\xc3\x28,b,c\nline,b,x\0y,b,c\n";
	n_errs = 0;
	assert_int_equal(gw_roster_parse_csv("u.csv", enc, sizeof(enc) - 1, &out, on_err, NULL),
			 -EINVAL);
	assert_true(has_err("u.csv:1: ", "field 3 has a control character or is not UTF-8"));
	assert_true(has_err("u.csv:2: ", "NUL byte"));
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

	/* A good import replaces the whole roster: sos is gone. */
	bad[strlen(bad) - strlen("x\n")] = '\0';
	strcat(bad, "1\n");
	/* the now-duplicate shift row is allowed: two identical shifts are harmless */
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
	r = load();
	const char *instants[] = {"2026-01-01T00:00Z", "2026-07-01T05:00Z", "2027-01-01T06:00Z",
				  "2027-12-31T23:59:59.999Z"};
	for (size_t i = 0; i < 4; i++) {
		int64_t at = t(instants[i]);
		assert_string_equal(chain(r, "sos", at), "aino,mikko,leena");
		assert_int_equal(strlen(chain(r, "mhs", at)) > 0, 1);
		assert_int_equal(strlen(chain(r, "lsp", at)) > 0, 1);
		assert_int_equal(strlen(chain(r, "vwc", at)) > 0, 1);
	}
	assert_string_equal(gw_roster_org(r, "2269001"), "Poliisi, Mikkeli");
	assert_string_equal(gw_roster_route(r, "2269001"), "sos");
	gw_roster_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test_setup_teardown(test_shift_boundaries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_year_of_shifts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_route_and_directory, setup, teardown),
	    cmocka_unit_test(test_csv_syntax),
	    cmocka_unit_test(test_csv_errors),
	    cmocka_unit_test_setup_teardown(test_import_all_or_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_demo_roster, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
