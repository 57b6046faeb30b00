/*
 * Integration: the rinkictl binary as an administrator uses it, on a real database in a
 * mkdtemp directory. Exit codes (0 ok, 1 failed, 2 usage, 3 not found), --help for every
 * command, --json listings checked with a small JSON parser (and with python3 -m
 * json.tool when python3 is installed), worker and override edits seen by oncall, roster
 * export -> import -> export giving the same bytes, the directory import, the monthly
 * report on a month of calls seeded through the gateway's db API, retention keeping
 * the call log verifiable, and the roster listings byte for byte against golden files
 * (tests/data/rinkictl). Every child is waited for by pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/db.h"
#include "harness.h"
#include "core/log.h"
#include "store/roster.h"

static char dir[] = "/tmp/rinki-ctl-XXXXXX";
static char dbpath[128], outpath[128], errpath[128];
static char out[1 << 16], err[1 << 14];
static const char *in_path; /* the child's stdin when set, else /dev/null */

static int slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Run argv with stdout and stderr to their own files, read back into out and err. */
static int run_argv(char *const argv[])
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int i = open(in_path ? in_path : "/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || i < 0)
			_exit(126);
		dup2(i, 0);
		dup2(o, 1);
		dup2(e, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	slurp(outpath, out, sizeof(out));
	slurp(errpath, err, sizeof(err));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* rinkictl -d DB args... (NULL-terminated); returns the exit status. */
static int ctl(const char *first, ...)
{
	char bin[256];
	char *argv[32];
	int n = 0;
	va_list ap;

	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	argv[n++] = bin;
	argv[n++] = "-d";
	argv[n++] = dbpath;
	va_start(ap, first);
	for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(argv);
}

/* ---- a small JSON validator (RFC 8259 syntax) ----------------------------------------- */

static const char *js_value(const char *p, int depth);

static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *js_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *js_number(const char *p)
{
	const char *s = p;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p > s ? p : NULL;
}

static const char *js_value(const char *p, int depth)
{
	p = js_ws(p);
	if (depth > 64)
		return NULL;
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';
		p = js_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				if (!(p = js_string(js_ws(p))))
					return NULL;
				p = js_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if (!(p = js_value(p, depth + 1)))
				return NULL;
			p = js_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return js_string(p);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	return js_number(p);
}

static bool json_ok(const char *text)
{
	const char *end = js_value(text, 0);
	return end && *js_ws(end) == '\0';
}

/* out must be one JSON document: our parser, and python3's when there is one. */
static void assert_json(void)
{
	char py[] = "python3", *argv[] = {py, "-m", "json.tool", NULL, NULL};
	char copy[128];

	if (!json_ok(out))
		fail_msg("not JSON: %s", out);
	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return;
	snprintf(copy, sizeof(copy), "%s/doc.json", dir);
	write_file(copy, out);
	argv[3] = copy;
	char *keep = strdup(out); /* run_argv() overwrites out */
	assert_non_null(keep);
	assert_int_equal(run_argv(argv), 0);
	snprintf(out, sizeof(out), "%s", keep);
	free(keep);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/rinki.db", dir);
	snprintf(outpath, sizeof(outpath), "%s/out", dir);
	snprintf(errpath, sizeof(errpath), "%s/err", dir);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_usage_and_help(void **state)
{
	static const char *const cmds[][2] = {
	    {"oncall", NULL},	     {"log", NULL},	   {"log", "show"},
	    {"log", "verify"},	     {"log", "export"},	   {"report", NULL},
	    {"retention", "run"},    {"roster", "import"}, {"roster", "export"},
	    {"directory", "import"}, {"worker", "add"},	   {"worker", "list"},
	    {"worker", "disable"},   {"override", "add"},  {"override", "list"},
	    {"worker", "pin"},	     {"roster", "temp"},   {"override", "remove"},
	    {"config", "show"},	     {"config", "check"},  {"probe", NULL},
	    {"roster", "check"},     {"roster", "ics"},	   {"worker", "set"},
	};

	(void)state;
	assert_int_equal(ctl("--help", NULL), 0);
	assert_non_null(strstr(out, "Exit status: 0 ok, 1 failed, 2 usage, 3 not found"));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc = cmds[i][1] ? ctl(cmds[i][0], cmds[i][1], "--help", NULL)
				    : ctl(cmds[i][0], "--help", NULL);
		if (rc != 0 || !strstr(out, "usage: rinkictl"))
			fail_msg("%s %s --help: exit %d, %s", cmds[i][0],
				 cmds[i][1] ? cmds[i][1] : "", rc, out);
	}
	assert_int_equal(ctl("help", "override", NULL), 0);
	assert_non_null(strstr(out, "override remove ID"));
	assert_int_equal(ctl(NULL), 2);
	assert_non_null(strstr(err, "no command given"));
	assert_int_equal(ctl("bogus", NULL), 2);
	assert_int_equal(ctl("report", "--month", "2026-13", NULL), 2);
	assert_int_equal(ctl("retention", "run", NULL), 2);
	assert_int_equal(ctl("worker", "add", "x", NULL), 2);
	/* No database yet: a clear error, not a new empty file. */
	assert_int_equal(ctl("oncall", NULL), 1);
	assert_non_null(strstr(err, "no such database"));
	assert_int_not_equal(access(dbpath, F_OK), 0);
}

static void test_roster_and_edits(void **state)
{
	char f1[128], f2[128], bad[128], text1[1 << 15], text2[1 << 15];

	(void)state;
	assert_int_equal(ctl("roster", "import", "tools/demo/roster.csv", NULL), 0);
	assert_non_null(strstr(out, "2 rotations"));
	/* A Latin-1 file: refused with what to do, nothing changed. */
	snprintf(bad, sizeof(bad), "%s/latin1.csv", dir);
	write_file(bad, "line,sos,Sosiaalip\xe4ivystys,S,S\n");
	assert_int_equal(ctl("roster", "import", bad, NULL), 1);
	assert_non_null(strstr(err, "not UTF-8"));
	assert_non_null(strstr(err, "nothing imported"));

	assert_int_equal(ctl("oncall", "--json", "--at", "2026-03-30T06:00Z", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "\"line\":\"mhs\""));
	assert_non_null(strstr(out, "\"ring_s\":20"));
	assert_int_equal(ctl("oncall", "--line", "nope", NULL), 3);

	assert_int_equal(
	    ctl("worker", "add", "pia", "Pia Testi", "+358401111111", "--issi", "0012345", NULL),
	    0);
	assert_int_equal(ctl("worker", "add", "pia", "Pia", "+358401111111", NULL), 1);
	assert_non_null(strstr(err, "exists already"));
	assert_int_equal(ctl("worker", "add", "bad handle", "X", "+358401111111", NULL), 2);
	assert_int_equal(ctl("worker", "disable", "nobody", NULL), 3);
	assert_int_equal(ctl("worker", "list", "--json", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "{\"handle\":\"pia\",\"name\":\"Pia Testi\","
				    "\"phone\":\"+358401111111\",\"issi\":\"12345\","
				    "\"lang\":\"fi\",\"active\":true,\"pin_set\":false,"
				    "\"manual_add\":true,\"manual_active\":false}"));

	/* Language and PIN: the PIN read from stdin, only a hash stored, never shown. */
	char pinfile[128];
	static char dbtext[1 << 21];
	snprintf(pinfile, sizeof(pinfile), "%s/pin.txt", dir);
	assert_int_equal(
	    ctl("worker", "add", "stina", "Stina Lind", "+358401111112", "--lang", "sv", NULL), 0);
	assert_int_equal(ctl("worker", "add", "x", "X", "+358401111113", "--lang", "de", NULL), 2);
	assert_non_null(strstr(err, "bad language 'de'"));
	in_path = pinfile;
	write_file(pinfile, "12ab\n");
	assert_int_equal(ctl("worker", "pin", "stina", NULL), 1);
	assert_non_null(strstr(err, "4-8 digits"));
	write_file(pinfile, "");
	assert_int_equal(ctl("worker", "pin", "stina", NULL), 1);
	write_file(pinfile, "271828\n");
	assert_int_equal(ctl("worker", "pin", "nobody", NULL), 3);
	assert_int_equal(ctl("worker", "pin", "stina", NULL), 0);
	assert_null(strstr(out, "271828"));
	in_path = NULL;
	assert_int_equal(ctl("worker", "pin", NULL), 2);
	assert_int_equal(ctl("worker", "list", NULL), 0);
	assert_non_null(strstr(out, "LANG PIN  MANUAL"));
	assert_non_null(strstr(out, "no     fi   -    -\n")); /* olli: inactive, no PIN */
	assert_non_null(strstr(out, "yes    sv   set  added\n"));
	assert_int_equal(ctl("worker", "list", "--json", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "\"lang\":\"sv\",\"active\":true,\"pin_set\":true,"));
	assert_null(strstr(out, "argon2"));
	assert_int_equal(ctl("roster", "export", NULL), 0);
	assert_non_null(strstr(out, "worker,stina,Stina Lind,\"'+358401111112\",,1,sv\n"));
	assert_null(strstr(out, "argon2"));
	assert_null(strstr(out, "271828"));
	/* Not in the database file in clear either (nor in its WAL). */
	for (int k = 0; k < 2; k++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", dbpath, k ? "-wal" : "");
		int n = slurp(p, dbtext, sizeof(dbtext));
		for (int j = 0; n > 0 && j + 6 <= n; j++)
			assert_false(memcmp(dbtext + j, "271828", 6) == 0);
	}

	/* Pia replaces Aino on sos: oncall shows it; removing the override undoes it. */
	assert_int_equal(ctl("override", "add", "replace", "aino", "2026-03-01", "2026-03-02",
			     "--line", "sos", "--by", "pia", NULL),
			 0);
	assert_non_null(strstr(out, "override 1 added"));
	assert_int_equal(ctl("oncall", "--line", "sos", "--at", "2026-03-01T12:00Z", NULL), 0);
	assert_non_null(strstr(out, "1. Pia Testi"));
	assert_int_equal(ctl("override", "add", "add", "nobody", "2026-03-01", "2026-03-02",
			     "--line", "sos", NULL),
			 3);
	assert_int_equal(ctl("override", "add", "swap", "aino", "2026-03-01", "2026-03-02", NULL),
			 2);
	assert_int_equal(ctl("override", "list", "--json", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "\"kind\":\"replace\""));
	assert_non_null(strstr(out, "\"from\":\"2026-02-28T22:00:00.000Z\"")); /* local date */
	assert_int_equal(ctl("worker", "disable", "pia", NULL), 0);
	assert_int_equal(ctl("oncall", "--line", "sos", "--at", "2026-03-01T12:00Z", NULL), 0);
	assert_null(strstr(out, "Pia Testi"));
	assert_int_equal(ctl("worker", "enable", "pia", NULL), 0);
	/* an imported worker's phone (stored in its E.164 form) and language */
	assert_int_equal(
	    ctl("worker", "set", "aino", "--lang", "sv", "--phone", "0409999999", NULL), 0);
	assert_non_null(strstr(out, "worker aino: phone +358409999999, language sv\n"));
	assert_int_equal(ctl("worker", "set", "aino", "--lang", "de", NULL), 2);
	assert_int_equal(ctl("worker", "set", "aino", "--phone", "12ab", NULL), 2);
	assert_int_equal(ctl("worker", "set", "aino", NULL), 2);
	assert_int_equal(ctl("worker", "set", "nobody", "--lang", "fi", NULL), 3);
	assert_int_equal(ctl("worker", "list", "--json", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "\"handle\":\"aino\",\"name\":\"Aino Virtanen\","
				    "\"phone\":\"+358409999999\""));

	/* The coordinators import their file again: the manual changes stay, and say so. */
	assert_int_equal(ctl("roster", "import", "tools/demo/roster.csv", NULL), 0);
	assert_non_null(
	    strstr(out, "kept manual change: worker aino: phone +358409999999, language sv\n"));
	assert_non_null(strstr(out, "kept manual change: override 1: replace aino by pia on sos, "
				    "2026-02-28T22:00Z .. 2026-03-02T22:00Z\n"));
	assert_non_null(
	    strstr(out, "kept manual change: worker pia: added with rinkictl, enabled\n"));
	assert_int_equal(ctl("oncall", "--line", "sos", "--at", "2026-03-01T12:00Z", NULL), 0);
	assert_non_null(strstr(out, "1. Pia Testi"));
	/* A file without Aino would drop the override: refused, nothing changed. */
	snprintf(f1, sizeof(f1), "%s/noaino.csv", dir);
	write_file(f1, "line,sos,S,S,S\nworker,mikko,Mikko,+358401234568,\n"
		       "shift,sos,mikko,2026-01-01T00:00Z,2027-01-01T00:00Z,1\n");
	assert_int_equal(ctl("roster", "import", f1, NULL), 1);
	assert_non_null(strstr(err, "would drop manual change: override 1: replace aino by pia"));
	assert_non_null(strstr(err, "nothing imported"));
	assert_int_equal(ctl("oncall", "--line", "sos", "--at", "2026-03-01T12:00Z", NULL), 0);
	assert_non_null(strstr(out, "1. Pia Testi"));
	assert_int_equal(ctl("override", "list", NULL), 0);
	assert_non_null(strstr(out, "    1  manual   replace  sos    aino         pia"));

	/* Export, import into another database, export again: the same bytes. */
	snprintf(f1, sizeof(f1), "%s/e1.csv", dir);
	snprintf(f2, sizeof(f2), "%s/e2.csv", dir);
	assert_int_equal(ctl("roster", "export", f1, NULL), 0);
	char other[128], bin[256];
	snprintf(other, sizeof(other), "%s/other.db", dir);
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	char *imp[] = {bin, "-d", other, "roster", "import", f1, NULL};
	assert_int_equal(run_argv(imp), 0);
	char *exp[] = {bin, "-d", other, "roster", "export", f2, NULL};
	assert_int_equal(run_argv(exp), 0);
	assert_true(slurp(f1, text1, sizeof(text1)) > 0);
	assert_true(slurp(f2, text2, sizeof(text2)) > 0);
	assert_string_equal(text1, text2);
	assert_non_null(strstr(text1, "override,replace,sos,aino,2026-03-01T00:00+02:00,"));

	assert_int_equal(ctl("override", "remove", "1", NULL), 0);
	assert_int_equal(ctl("override", "remove", "1", NULL), 3);
	assert_int_equal(ctl("override", "list", NULL), 0);
	assert_non_null(strstr(out, "(no overrides)"));

	/* The directory alone. */
	snprintf(f1, sizeof(f1), "%s/dir.csv", dir);
	write_file(f1, "directory,2269001,\"Poliisi, Mikkeli\"\ndirectory,2260000,Testi\n");
	assert_int_equal(ctl("directory", "import", f1, NULL), 0);
	assert_non_null(strstr(out, "imported 2 directory entries"));
	write_file(f1, "directory,2269001,x\nline,a,b,c,d\n");
	assert_int_equal(ctl("directory", "import", f1, NULL), 1);
	assert_non_null(strstr(err, ":2: a directory file holds directory records only"));

	/* --replace drops what the file cannot carry, and lists it. */
	assert_int_equal(ctl("override", "add", "remove", "aino", "2026-03-01", "2026-03-02", NULL),
			 0);
	snprintf(f1, sizeof(f1), "%s/noaino.csv", dir);
	assert_int_equal(ctl("roster", "import", f1, "--replace", NULL), 0);
	assert_non_null(
	    strstr(out, "dropped manual change: override 2: remove aino on every line"));
	assert_non_null(
	    strstr(out, "dropped manual change: worker aino: phone +358409999999, language sv"));
	assert_int_equal(ctl("override", "list", NULL), 0);
	assert_non_null(strstr(out, "(no overrides)"));
	assert_int_equal(ctl("roster", "import", "tools/demo/roster.csv", NULL), 0);
}

/* March 2026 (Helsinki): the report's figures, then retention and the chain. */
static void test_report_and_retention(void **state)
{
	int64_t m0 = gw_roster_local_to_utc(2026, 3, 1, 0);
	struct gw_db *db;

	(void)state;
	assert_int_equal(gw_db_open(dbpath, &db), 0);
	for (int i = 0; i < 12; i++) {
		struct gw_incident_rec rec = {.started_ms = m0 + i * 86400000LL,
					      .caller = "2269001",
					      .line = i < 7 || i > 9 ? "sos" : "mhs"};
		int64_t id, t0 = rec.started_ms;
		int pages = i < 10 ? i % 3 + 1 : 0;
		bool accepted = i < 10 && i % 4 != 3, first = i % 3 == 0;
		const char *outcome = i == 10	 ? "busy"
				      : i == 11	 ? "message relayed"
				      : accepted ? "completed"
						 : "unanswered";
		assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
		for (int p = 0; p < pages; p++)
			assert_int_equal(gw_db_event_append(db, id, t0 + 100 + p, "page",
							    p ? "mikko x" : "aino x"),
					 0);
		assert_int_equal(gw_db_event_append(db, id, t0 + 200, "sds_text", "viesti"), 0);
		if (accepted) /* 3 and 7 unanswered; answer times 10 s, 40 s, 70 s, ... */
			assert_int_equal(gw_db_event_append(db, id, t0 + (10 + 30 * (i % 3)) * 1000,
							    "accepted", first ? "aino" : "mikko"),
					 0);
		assert_int_equal(gw_db_incident_close(db, id, t0 + 300000, outcome, -1,
						      accepted ? (first ? "aino" : "mikko") : NULL),
				 0);
	}
	gw_db_close(db);
	/* The busy call (10) and the text (11) are no unanswered calls. sos: 0-6, 10:
	 * completed 0 1 2 4 5 6, unanswered 3, busy 10; first worker 0 6, a later step 1 2 4
	 * 5; accept times 10 40 70 40 70 10 s: p50 40, p90 70, within 60 s: 4. mhs: 7-9:
	 * unanswered 7; first 9, later 8; 70 and 10 s: p50 10, p90 70. */
	assert_int_equal(ctl("report", "--month", "2026-03", "--csv", NULL), 0);
	assert_non_null(strstr(out, "from,to,scope,key,name,calls,completed,unanswered,unstaffed,"
				    "busy,abandoned,failed,open,first_worker,later_step,fallback,"
				    "nobody,accepted_within_60s,accept_p50_s,accept_p90_s,"
				    "accept_max_s,texts,statuses,callbacks\r\n"));
	assert_non_null(strstr(out, ",line,mhs,Mental health and substance on-call,3,2,1,0,0,0,0,"
				    "0,1,1,0,1,1,10.0,70.0,70.0,0,0,0\r\n"));
	assert_non_null(strstr(out, ",line,sos,Social and crisis on-call,8,6,1,0,1,0,0,0,2,4,0,2,"
				    "4,40.0,70.0,70.0,1,0,0\r\n"));
	assert_non_null(
	    strstr(out, ",total,,,11,8,2,0,1,0,0,0,3,5,0,3,5,40.0,70.0,70.0,1,0,0\r\n"));
	assert_non_null(strstr(err, "check: 12 incidents in the range, 12 counted: ok"));
	assert_int_equal(ctl("report", "--month", "2026-03", "--within", "100", "--csv", NULL), 0);
	assert_non_null(strstr(out, ",total,,,11,8,2,0,1,0,0,0,3,5,0,3,8,40.0,70.0,70.0,"));
	assert_int_equal(ctl("report", "--from", "2026-03-11", "--to", "2026-03-12", NULL), 0);
	assert_non_null(strstr(out, "report 2026-03-11T00:00+02:00 .. 2026-03-13T00:00+02:00"));
	assert_non_null(strstr(out, "authority calls: 1\n"));
	assert_non_null(strstr(out, "busy 1,"));
	assert_non_null(strstr(out, "texts: 1, statuses: 0, call-backs: 0\n"));
	assert_non_null(strstr(out, "check: 2 incidents in the range, counted 2 "));
	assert_int_equal(ctl("report", "--month", "2026-03", "--json", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "\"check\":{\"incidents\":12,\"counted\":12,\"ok\":true}"));
	assert_int_equal(ctl("report", "--month", "2026-04", "--csv", NULL), 0);
	assert_non_null(strstr(out, ",total,,,0,0,0,0,0,0,0,0,0,0,0,0,0,,,,0,0,0\r\n"));
	assert_int_equal(ctl("report", NULL), 2);
	assert_int_equal(ctl("report", "--month", "2026-03", "--from", "2026-03-01", NULL), 2);
	assert_int_equal(ctl("report", "--from", "2026-03-02", "--to", "2026-03-01", NULL), 2);

	assert_int_equal(ctl("log", "--json", "--limit", "3", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "\"line\":\"mhs\""));
	assert_int_equal(ctl("log", "show", "999", NULL), 3);

	/* Every body is older than 30 days now; the chain verifies after they go. */
	assert_int_equal(ctl("retention", "run", "--days", "30", NULL), 0);
	assert_non_null(strstr(out, "removed 12 message bodies older than 30 days"));
	assert_int_equal(ctl("log", "verify", NULL), 0);
	assert_non_null(strstr(out, "chain intact"));
	assert_int_equal(ctl("log", "show", "1", NULL), 0);
	assert_non_null(strstr(out, "(removed by retention)"));
	assert_non_null(strstr(out, "accepted"));
}

/* A temporary roster: imported with the roster, listed, named by oncall at its bounds. */
static void test_temp_roster_cli(void **state)
{
	static char csv[1 << 16];
	char path[128];
	FILE *f = fopen("tools/demo/roster.csv", "r");
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(csv, 1, sizeof(csv) - 512, f);
	fclose(f);
	snprintf(csv + n, sizeof(csv) - n,
		 "temp_roster,xmas,sos,2026-12-20,2027-01-07,08:00\n"
		 "shift,sos,maria,2026-12-01T00:00Z,2027-02-01T00:00Z,1,xmas\n");
	snprintf(path, sizeof(path), "%s/temp.csv", dir);
	write_file(path, csv);
	assert_int_equal(ctl("roster", "import", path, NULL), 0);
	assert_int_equal(ctl("roster", "temp", NULL), 0);
	assert_non_null(strstr(out, "xmas             sos    2026-12-20 08:00  2027-01-07 08:00  "
				    "     1         0\n"));
	assert_int_equal(ctl("roster", "temp", "--json", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "{\"name\":\"xmas\",\"line\":\"sos\",\"from\":\"2026-12-20 "
				    "08:00\",\"to\":\"2027-01-07 08:00\",\"shifts\":1,"
				    "\"rotations\":0}"));
	assert_int_equal(ctl("roster", "temp", "x", NULL), 2);
	assert_int_equal(ctl("oncall", "--line", "sos", "--at", "2026-12-20T05:59Z", NULL), 0);
	assert_null(strstr(out, "temporary roster"));
	assert_non_null(strstr(out, "1. Aino Virtanen"));
	assert_int_equal(ctl("oncall", "--line", "sos", "--at", "2026-12-20T06:00Z", NULL), 0);
	assert_non_null(strstr(out, "(temporary roster xmas)"));
	assert_non_null(strstr(out, "1. Maria Saarinen"));
	assert_null(strstr(out, "Aino"));
	assert_int_equal(ctl("oncall", "--json", "--at", "2026-12-24T12:00Z", NULL), 0);
	assert_json();
	assert_non_null(strstr(out, "\"line\":\"sos\""));
	assert_non_null(strstr(out, "\"temp_roster\":\"xmas\""));
	assert_int_equal(ctl("roster", "export", NULL), 0);
	assert_non_null(strstr(out, "temp_roster,xmas,sos,2026-12-20,2027-01-07,08:00\n"));
}

/*
 * config show and config check on a file as a technician writes it: a typo in ctl.group
 * and a voice bridge without its prompts are errors (exit 1), a working file passes with
 * its warnings, and the roster check reads db.path's roster.
 */
static void test_config_check(void **state)
{
	char conf[200], text[1024];
	(void)state;
	snprintf(conf, sizeof(conf), "%s/rinki.conf", dir);
	snprintf(text, sizeof(text),
		 "db.path %s\nctl.group rinki-no-such-grp\nmodem.vendor quectel\n", dbpath);
	write_file(conf, text);
	assert_int_equal(ctl("config", "show", "-c", conf, NULL), 0);
	assert_non_null(strstr(out, "\nctl.group rinki-no-such-grp\n"));
	assert_non_null(strstr(out, "\n#io.port\n"));
	assert_int_equal(ctl("config", "check", "-c", conf, NULL), 1);
	assert_non_null(strstr(out, ": error: ctl.group: no group 'rinki-no-such-grp'"));
	assert_non_null(strstr(out, "1 error(s)"));

	/* the bridge with the prompts make built: no error; then with none */
	snprintf(text, sizeof(text),
		 "db.path %s\nmodem.vendor quectel\naudio.radio null\naudio.phone null\n"
		 "prompt.dir build/prompts\n",
		 dbpath);
	write_file(conf, text);
	assert_int_equal(ctl("config", "check", "-c", conf, "--at", "2026-03-02T10:00Z", NULL), 0);
	assert_non_null(strstr(out, ": 0 error(s), "));
	assert_null(strstr(out, "prompt.dir"));
	snprintf(text, sizeof(text),
		 "db.path %s\naudio.radio null\naudio.phone null\nprompt.dir %s/none\n", dbpath,
		 dir);
	write_file(conf, text);
	assert_int_equal(ctl("config", "check", "-c", conf, NULL), 1);
	assert_non_null(strstr(out, ": error: prompt.dir: 11 prompt(s) of prompt.language fi"));
	/* --no-roster (the unit's ExecStartPre): the same errors, the database left alone */
	snprintf(text, sizeof(text), "db.path %s/none.db\nctl.admin_group rinki-admn\n", dir);
	write_file(conf, text);
	assert_int_equal(ctl("config", "check", "-c", conf, "--no-roster", NULL), 1);
	assert_non_null(strstr(out, ": error: ctl.admin_group: no group 'rinki-admn'"));
	assert_null(strstr(out, "db.path"));
	assert_int_equal(ctl("config", "check", "-c", conf, NULL), 1);
	assert_non_null(strstr(out, ": warning: db.path: no database yet"));

	/* a line of the roster with nobody on duty: a warning naming it, and only it */
	char csv[200];
	snprintf(csv, sizeof(csv), "%s/gap.csv", dir);
	write_file(csv, "line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
			"line,lsp,Lastensuojelu,Barnskydd,Child protection\n"
			"worker,aino,Aino Virtanen,+358401234567,\n"
			"shift,sos,aino,2026-02-01T00:00Z,2026-04-01T00:00Z,1\n");
	assert_int_equal(ctl("roster", "import", csv, NULL), 0);
	unlink(csv);
	/* groups by number: the default groups may be missing here (two more warnings) */
	snprintf(text, sizeof(text),
		 "db.path %s\nmodem.vendor quectel\nctl.group 0\nctl.admin_group 0\n", dbpath);
	write_file(conf, text);
	assert_int_equal(ctl("config", "check", "-c", conf, "--at", "2026-03-02T10:00Z", NULL), 0);
	assert_non_null(strstr(out, ": warning: roster: line lsp: nobody on duty now or in the "
				    "next 14 days"));
	assert_null(strstr(out, "line sos"));
	assert_non_null(strstr(out, ": 0 error(s), 2 warning(s)\n")); /* + no voice bridge */
	/* three weeks later sos's shifts end within the 14 days */
	assert_int_equal(ctl("config", "check", "-c", conf, "--at", "2026-03-23T10:00Z", NULL), 0);
	assert_non_null(
	    strstr(out, "line sos: nobody on duty from 2026-04-01 03:00 (Europe/Helsinki)"));
	assert_int_equal(ctl("config", "check", "-c", conf, "--at", "tomorrow", NULL), 2);
	unlink(conf);
}

/*
 * An export file is never written through a symlink: a link planted where an admin (maybe
 * root) exports to is refused and its target left as it was; a regular file is replaced.
 */
static void test_export_never_through_symlink(void **state)
{
	char target[128], link[128], text[256];

	(void)state;
	snprintf(target, sizeof(target), "%s/precious", dir);
	snprintf(link, sizeof(link), "%s/export.csv", dir);
	write_file(target, "precious, not an export\n");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(ctl("roster", "export", link, NULL), 1);
	assert_non_null(strstr(err, "export.csv"));
	slurp(target, text, sizeof(text));
	assert_string_equal(text, "precious, not an export\n");
	unlink(link);
	write_file(link, "an older export that is longer than the new one will be, by far; "
			 "it must not leave a tail behind\n");
	assert_int_equal(ctl("roster", "export", link, NULL), 0);
	slurp(link, text, sizeof(text));
	assert_int_equal(strncmp(text, "# rinki roster", 14), 0);
	assert_null(strstr(text, "tail behind"));
}

/*
 * What came from outside (an SMS body, a caller's name) is shown as data: no escape
 * sequence reaches the terminal from log or log show, and no CSV cell of log export
 * starts a formula.
 */
static void test_output_is_data(void **state)
{
	struct gw_db *db;
	int64_t id;
	char idtext[24];

	(void)state;
	assert_int_equal(gw_db_open(dbpath, &db), 0);
	struct gw_incident_rec rec = {.started_ms = gw_roster_local_to_utc(2026, 4, 1, 0),
				      .caller = "2269001",
				      .caller_name = "Poliisi\x1b[2J\x1b]0;owned\x07",
				      .line = "sos"};
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(gw_db_event_append(db, id, rec.started_ms + 1, "sms_text",
					    "=HYPERLINK(\"http://x\",\"y\")\x1b[31m\xc2\x9b"
					    "1m\r\nfake line"),
			 0);
	assert_int_equal(gw_db_event_append(db, id, rec.started_ms + 2, "sds_text", "+1+cmd|x"), 0);
	assert_int_equal(gw_db_incident_close(db, id, rec.started_ms + 3, "completed", -1, NULL),
			 0);
	gw_db_close(db);
	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);

	assert_int_equal(ctl("log", "show", idtext, NULL), 0);
	assert_null(strchr(out, '\x1b'));
	assert_null(strstr(out, "\xc2\x9b"));
	assert_null(strchr(out, '\r'));
	assert_non_null(strstr(out, "Poliisi\\e[2J\\e]0;owned\\x07"));
	assert_non_null(strstr(out, "\\e[31m\\u009b1m\\r\\nfake line"));
	assert_int_equal(ctl("log", NULL), 0);
	assert_null(strchr(out, '\x1b'));

	assert_int_equal(ctl("log", "export", "--from", "2026-04-01", "--to", "2026-04-02", NULL),
			 0);
	assert_non_null(strstr(out, ",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")"));
	assert_non_null(strstr(out, ",\"'+1+cmd|x\"\r\n"));
	assert_null(strstr(out, ",=HYPERLINK"));
}

/* Coverage: every gap of the next N days, or an explicit "covered"; exit 1 on gaps. */
static void test_roster_check(void **state)
{
	char path[128];

	(void)state;
	assert_int_equal(ctl("roster", "import", "tools/demo/south-savo.csv", "--replace", NULL),
			 0);
	/* the import ends with the coverage of the next 14 days (from now: either form) */
	assert_non_null(strstr(out, " (14 days)"));
	assert_int_equal(ctl("roster", "check", "--from", "2026-06-01", "--days", "366", NULL), 0);
	assert_non_null(strstr(out, "covered: every line has someone on duty from "
				    "2026-06-01T00:00+03:00 to 2027-06-02T00:00+03:00 (366 days)\n"
				    "holidays (after hours all day):\n"
				    "  2026-06-19  Juhannusaatto\n"
				    "  2026-06-20  Juhannuspäivä\n"
				    "  2026-10-31  Pyhäinpäivä\n"));
	snprintf(path, sizeof(path), "%s/gaps.csv", dir);
	write_file(path, "line,sos,S,S,S\nline,mhs,M,M,M\nworker,a,A,+358401234567,\n"
			 "shift,sos,a,2026-06-01T08:00,2026-06-02T08:00,1\n"
			 "shift,sos,a,2026-06-02T10:00,2026-06-10T08:00,1\nchain,mhs,,a\n");
	assert_int_equal(ctl("roster", "import", path, "--replace", NULL), 0);
	assert_int_equal(ctl("roster", "check", "--from", "2026-06-01T08:00", "--days", "2", NULL),
			 1);
	assert_non_null(strstr(out, "mhs    2026-06-01T08:00+03:00    2026-06-03T08:00+03:00    "
				    "    48:00  only the fallback a\n"));
	assert_non_null(strstr(out, "sos    2026-06-02T08:00+03:00    2026-06-02T10:00+03:00    "
				    "     2:00  nobody\n"));
	assert_non_null(
	    strstr(out, "2 gaps from 2026-06-01T08:00+03:00 to 2026-06-03T08:00+03:00"));
	assert_int_equal(ctl("roster", "check", "--days", "0", NULL), 2);
	assert_int_equal(ctl("roster", "check", "--days", "400", NULL), 2);
	assert_int_equal(ctl("roster", "import", "tools/demo/roster.csv", "--replace", NULL), 0);
}

/*
 * The duty as iCalendar, checked by tests/integration/check_ics.py with Debian's
 * python3-icalendar (RFC 5545 syntax, folding, CRLF, unique UIDs, UTC times).
 */
static void test_roster_ics(void **state)
{
	char path[128];
	char *py[] = {"/usr/bin/python3", "tests/integration/check_ics.py", path, NULL};

	(void)state;
	assert_int_equal(ctl("roster", "import", "tools/demo/south-savo.csv", "--replace", NULL),
			 0);
	snprintf(path, sizeof(path), "%s/eeva.ics", dir);
	assert_int_equal(ctl("roster", "ics", "--worker", "eeva", "--from", "2026-06-01", "--days",
			     "10", path, NULL),
			 0);
	assert_non_null(strstr(out, "eeva.ics: 5 events"));
	/* Eeva is member 5 of the 10-day sos pattern (step 2) from 1 January: on 31 May she is
	 * on cycle day 2 (N), 1 June day 3 (N), 8 and 9 June D, 10 June N; shifts that overlap
	 * the range's ends come whole. */
	assert_int_equal(run_argv(py), 0);
	assert_string_equal(
	    out, "2026-05-31T16:00Z 2026-06-01T04:00Z Sosiaali- ja kriisipäivystys: Eeva "
		 "Lindholm (1.)\n"
		 "2026-06-01T16:00Z 2026-06-02T04:00Z Sosiaali- ja kriisipäivystys: Eeva "
		 "Lindholm (1.)\n"
		 "2026-06-08T04:00Z 2026-06-08T16:00Z Sosiaali- ja kriisipäivystys: Eeva "
		 "Lindholm (1.)\n"
		 "2026-06-09T04:00Z 2026-06-09T16:00Z Sosiaali- ja kriisipäivystys: Eeva "
		 "Lindholm (1.)\n"
		 "2026-06-10T16:00Z 2026-06-11T04:00Z Sosiaali- ja kriisipäivystys: Eeva "
		 "Lindholm (1.)\n"
		 "5 events\n");
	/* A line: child protection's office days, 1-12 June (ten weekdays); week 21 of the
	 * weekly rotation from 5 January is Pekka's, week 22 Riikka's. */
	snprintf(path, sizeof(path), "%s/lsp.ics", dir);
	assert_int_equal(ctl("roster", "ics", "--line", "lsp", "--from", "2026-06-01", "--days",
			     "12", path, NULL),
			 0);
	assert_int_equal(run_argv(py), 0);
	assert_non_null(strstr(out, "2026-06-01T05:00Z 2026-06-01T13:00Z Lastensuojelun päivystys: "
				    "Pekka Koskinen (1.)\n"));
	assert_non_null(strstr(out, "2026-06-08T05:00Z 2026-06-08T13:00Z Lastensuojelun päivystys: "
				    "Riikka Heikkinen (1.)\n"));
	assert_non_null(strstr(out, "\n10 events\n"));
	/* The check catches a broken file: a line longer than 75 octets. */
	write_file(path,
		   "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nX-LONG:"
		   "0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
		   "END:VCALENDAR\r\n");
	assert_int_equal(run_argv(py), 1);
	assert_non_null(strstr(err, "more than 75"));
	assert_int_equal(ctl("roster", "ics", "--worker", "nobody", NULL), 3);
	assert_int_equal(ctl("roster", "ics", "--line", "xyz", NULL), 3);
	assert_int_equal(ctl("roster", "import", "tools/demo/roster.csv", "--replace", NULL), 0);
}

/*
 * Every time rinkictl prints is Helsinki wall clock with its zone (EET, summer EEST),
 * whatever the machine's TZ: the log listing, log show, oncall and the override list give
 * (and report and roster check, which name the zone by its name or offset) give
 * the same bytes under TZ=UTC and TZ=America/New_York, and an incident at 16:00 Helsinki
 * (14:00 UTC in winter, 13:00 UTC in summer) prints as 16:00 with the right zone.
 */
static void test_times_helsinki_whatever_tz(void **state)
{
	static char first[sizeof(out)];
	const int64_t winter = 1768485600000LL; /* 2026-01-15T14:00Z */
	const int64_t summer = 1782910800000LL; /* 2026-07-01T13:00Z */
	const char *const zones[] = {"UTC", "America/New_York"};
	const char *const cmds[][5] = {
	    {"log", NULL},
	    {"log", "show", "1", NULL},
	    {"log", "show", "2", NULL},
	    {"oncall", "--at", "2026-01-15T16:00", NULL},
	    {"oncall", "--at", "2026-07-01T16:00", NULL},
	    {"override", "list", NULL},
	    {"report", "--from", "2026-01-01", "--to", "2026-07-31"},
	    {"roster", "check", "--from", "2026-07-01T16:00"},
	};
	const char *const want[] = {
	    "2026-01-15 16:00:00 EET",
	    "2026-07-01 16:00:00 EEST",
	    "2026-01-15 16:00:00.000 EET",
	    "2026-07-01 16:00:00.000 EEST",
	    "2026-07-01 16:00:30.000 EEST",
	    "on call at 2026-01-15 16:00:00 EET\n",
	    "on call at 2026-07-01 16:00:00 EEST\n",
	    "report 2026-01-01T00:00+02:00 .. 2026-08-01T00:00+03:00 (Europe/Helsinki)\n",
	    "from 2026-07-01T16:00+03:00"};
	static char all[2][sizeof(out)];
	char keep[sizeof(dbpath)];
	const char *tz = getenv("TZ");
	char *tz_was = tz ? strdup(tz) : NULL;
	struct gw_db *db;
	int64_t id;

	(void)state;
	memcpy(keep, dbpath, sizeof(keep));
	snprintf(dbpath, sizeof(dbpath), "%s/tz.db", dir);
	assert_int_equal(ctl("roster", "import", "tools/demo/roster.csv", NULL), 0);
	assert_int_equal(gw_db_open(dbpath, &db), 0);
	for (int i = 0; i < 2; i++) {
		int64_t t = i ? summer : winter;
		struct gw_incident_rec rec = {.started_ms = t, .caller = "2269001", .line = "sos"};
		assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
		assert_int_equal(gw_db_event_append(db, id, t + 30000, "accepted", "aino"), 0);
		assert_int_equal(gw_db_incident_close(db, id, t + 60000, "completed", -1, "aino"),
				 0);
	}
	gw_db_close(db);
	for (int z = 0; z < 2; z++) {
		assert_int_equal(setenv("TZ", zones[z], 1), 0);
		all[z][0] = '\0';
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			int rc =
			    ctl(cmds[c][0], cmds[c][1], cmds[c][2], cmds[c][3], cmds[c][4], NULL);
			assert_true(rc == 0 || (rc == 1 && !strcmp(cmds[c][0], "roster")));
			strncat(all[z], out, sizeof(all[z]) - strlen(all[z]) - 1);
		}
	}
	if (tz_was)
		setenv("TZ", tz_was, 1);
	else
		unsetenv("TZ");
	free(tz_was);
	memcpy(first, all[0], sizeof(first));
	if (strcmp(first, all[1]) != 0)
		print_message("TZ=UTC:\n%s\nTZ=America/New_York:\n%s\n", first, all[1]);
	assert_string_equal(first, all[1]);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		if (!strstr(first, want[w]))
			print_message("missing '%s' in:\n%s\n", want[w], first);
		assert_non_null(strstr(first, want[w]));
	}
	assert_null(strstr(first, "local time"));

	/* -c CONF with roster.timezone Europe/Stockholm: the same instants in CET/CEST */
	char conf[300];
	snprintf(conf, sizeof(conf), "%s/stockholm.conf", dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fputs("roster.timezone Europe/Stockholm\n", f);
	fclose(f);
	assert_int_equal(ctl("-c", conf, "log", "show", "1", NULL), 0);
	assert_non_null(strstr(out, "2026-01-15 15:00:00.000 CET"));
	assert_int_equal(ctl("-c", conf, "log", "show", "2", NULL), 0);
	assert_non_null(strstr(out, "2026-07-01 15:00:00.000 CEST"));
	assert_int_equal(ctl("-c", conf, "oncall", "--at", "2026-01-15T15:00", NULL), 0);
	assert_non_null(strstr(out, "on call at 2026-01-15 15:00:00 CET\n"));
	assert_int_equal(
	    ctl("-c", conf, "report", "--from", "2026-01-01", "--to", "2026-07-31", NULL), 0);
	assert_non_null(strstr(out, "(Europe/Stockholm)\n"));
	/* a zone the tz database lacks: refused, not printed in another zone */
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("roster.timezone Europe/Stokholm\n", f);
	fclose(f);
	assert_int_equal(ctl("-c", conf, "log", NULL), 1);
	assert_non_null(strstr(err, "Europe/Stokholm"));
	memcpy(dbpath, keep, sizeof(dbpath));
}

/*
 * Every roster listing (worker list, override list, roster temp; text and --json) on each
 * demo roster, plain and with imported overrides, a temporary roster and manual changes
 * on top, gives the bytes of its golden file (tests/data/rinkictl/listings-NAME.txt, taken
 * from the listings as they were written by hand per kind). On a difference the output is
 * left in build/listings-NAME.actual.
 */
static void listings_golden(const char *csv, const char *name)
{
	static const char *const cmds[][3] = {
	    {"worker", "list", NULL},	{"worker", "list", "--json"},
	    {"override", "list", NULL}, {"override", "list", "--json"},
	    {"roster", "temp", NULL},	{"roster", "temp", "--json"},
	};
	static char all[1 << 17], want[1 << 17], text[1 << 16];
	char keep[sizeof(dbpath)], path[160], pinfile[160];
	FILE *f;
	size_t n;

	memcpy(keep, dbpath, sizeof(keep));
	snprintf(dbpath, sizeof(dbpath), "%s/golden-%s.db", dir, name);
	all[0] = '\0';
	for (int round = 0; round < 2; round++) {
		if (round == 0) {
			assert_int_equal(ctl("roster", "import", csv, NULL), 0);
		} else {
			assert_non_null(f = fopen(csv, "r"));
			n = fread(text, 1, sizeof(text) - 1024, f);
			fclose(f);
			snprintf(text + n, sizeof(text) - n,
				 "override,add,sos,aino,2026-04-01T08:00,2026-04-02T08:00,2\n"
				 "override,remove,,aino,2026-05-01T08:00,2026-05-03T08:00\n"
				 "override,replace,sos,aino,2026-07-01T08:00+03:00,"
				 "2026-07-02T08:00,mikko\n"
				 "temp_roster,xmas,sos,2026-12-20,2027-01-07,08:00\n"
				 "temp_roster,summer,mhs,2026-06-20,2026-08-01\n"
				 "shift,sos,aino,2026-12-01T00:00Z,2027-02-01T00:00Z,1,xmas\n"
				 "rotation,xmasrot,sos,weekly,2026-12-20,08:00,2,all,,xmas\n"
				 "rotation_member,xmasrot,1,maria\n");
			snprintf(path, sizeof(path), "%s/golden-%s.csv", dir, name);
			write_file(path, text);
			assert_int_equal(ctl("roster", "import", path, NULL), 0);
			assert_int_equal(ctl("worker", "add", "pia", "Pia Testi-Äijälä",
					     "+358401111111", "--issi", "0012345", NULL),
					 0);
			assert_int_equal(ctl("worker", "add", "stina", "Stina Lind",
					     "+358401111112", "--lang", "sv", NULL),
					 0);
			assert_int_equal(ctl("worker", "disable", "stina", NULL), 0);
			assert_int_equal(ctl("worker", "disable", "mikko", NULL), 0);
			snprintf(pinfile, sizeof(pinfile), "%s/golden-pin.txt", dir);
			write_file(pinfile, "271828\n");
			in_path = pinfile;
			assert_int_equal(ctl("worker", "pin", "pia", NULL), 0);
			in_path = NULL;
			assert_int_equal(ctl("override", "add", "replace", "aino", "2026-03-01",
					     "2026-03-02", "--line", "sos", "--by", "pia", NULL),
					 0);
			assert_int_equal(ctl("override", "add", "add", "pia", "2026-10-25T02:00",
					     "2026-10-25T05:00", "--line", "mhs", "--position", "1",
					     NULL),
					 0);
		}
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			int rc = ctl(cmds[c][0], cmds[c][1], cmds[c][2], NULL);
			size_t len = strlen(all);
			snprintf(all + len, sizeof(all) - len, "$ %s %s%s%s (exit %d)\n%s%s",
				 cmds[c][0], cmds[c][1], cmds[c][2] ? " " : "",
				 cmds[c][2] ? cmds[c][2] : "", rc, out, err);
			if (cmds[c][2])
				assert_json();
		}
	}
	snprintf(path, sizeof(path), "tests/data/rinkictl/listings-%s.txt", name);
	assert_true(slurp(path, want, sizeof(want)) > 0);
	if (strcmp(all, want) != 0) {
		snprintf(path, sizeof(path), "build/listings-%s.actual", name);
		write_file(path, all);
		print_message("listings of %s differ from tests/data/rinkictl/listings-%s.txt: "
			      "see %s\n",
			      csv, name, path);
	}
	assert_string_equal(all, want);
	memcpy(dbpath, keep, sizeof(dbpath));
}

static void test_listings_golden(void **state)
{
	(void)state;
	listings_golden("tools/demo/roster.csv", "roster");
	listings_golden("tools/demo/south-savo.csv", "south-savo");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage_and_help),
	    cmocka_unit_test(test_roster_and_edits),
	    cmocka_unit_test(test_report_and_retention),
	    cmocka_unit_test(test_temp_roster_cli),
	    cmocka_unit_test(test_config_check),
	    cmocka_unit_test(test_export_never_through_symlink),
	    cmocka_unit_test(test_output_is_data),
	    cmocka_unit_test(test_roster_check),
	    cmocka_unit_test(test_roster_ics),
	    cmocka_unit_test(test_times_helsinki_whatever_tz),
	    cmocka_unit_test(test_listings_golden),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
