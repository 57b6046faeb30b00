/*
 * rinkictl: the administrator's command line for rinki's database.
 *
 * It opens the same SQLite file as rinkid (WAL lets it read while rinkid writes) and
 * uses only the gateway's db and roster modules, so every write goes through the one
 * API rinkid watches (gw_db_roster_changed). Commands: who is on call, the call log,
 * one incident's timeline, the call log's hash-chain check and CSV export, and the roster
 * CSV import. Exit status: 0 ok, 1 error (or a broken chain), 2 usage.
 */
#include "db.h"
#include "log.h"
#include "roster.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_DB    "/var/lib/rinki/rinki.db"
#define EXIT_USAGE    2
#define DEFAULT_LIMIT 20

static const char *prog = "rinkictl";

static void ctl_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: %s [-d DBPATH] COMMAND\n"
	    "\n"
	    "commands:\n"
	    "  oncall [--line L] [--at TIME]   escalation chain per service line, in ring order\n"
	    "  log [--limit N]                 latest incidents, newest first (default %d)\n"
	    "  log show ID                     one incident with all its events\n"
	    "  log verify                      check the call log's hash chain (exit 1: broken)\n"
	    "  log export [--from D] [--to D]  incidents with their events as CSV (RFC 4180)\n"
	    "  roster import FILE              validate FILE and replace the roster with it\n"
	    "\n"
	    "TIME is ISO 8601 with a zone, e.g. 2026-03-01T14:00+02:00 or 2026-03-01T12:00Z.\n"
	    "D is a TIME or a local date YYYY-MM-DD (--from: its start, --to: its end); export\n"
	    "selects incidents started in [from, to).\n"
	    "DBPATH defaults to $RINKI_DB, else %s.\n",
	    prog, DEFAULT_LIMIT, DEFAULT_DB);
}

__attribute__((format(printf, 1, 2))) static int ctl_bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	ctl_usage(stderr);
	return EXIT_USAGE;
}

__attribute__((format(printf, 1, 2))) static int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return EXIT_FAILURE;
}

/* Local time of a UTC ms timestamp: "YYYY-MM-DD HH:MM:SS" (+ ".mmm" when ms). */
static const char *ctl_local_time(int64_t t_ms, bool ms, char *buf, size_t len)
{
	time_t t = (time_t)(t_ms / 1000);
	struct tm tm;
	size_t n;

	if (t_ms < 0 || !localtime_r(&t, &tm) ||
	    !(n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))) {
		snprintf(buf, len, "@%" PRId64, t_ms);
		return buf;
	}
	if (ms)
		snprintf(buf + n, len - n, ".%03d", (int)(t_ms % 1000));
	return buf;
}

/* Print s padded to width columns, counting UTF-8 characters rather than bytes. */
static void ctl_put_padded(const char *s, int width)
{
	int cols = 0;

	for (const char *p = s; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			cols++;
	fputs(s, stdout);
	for (; cols < width; cols++)
		putchar(' ');
}

static bool ctl_parse_int(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s && !*end && !errno && *v >= min && *v <= max;
}

static int ctl_open(const char *path, unsigned flags, struct gw_db **db)
{
	int rc = gw_db_open_flags(path, flags, db);

	if (rc == -ENOENT)
		return ctl_fail("%s: no such database (import a roster to create it)", path);
	if (rc == -EPROTO)
		return ctl_fail("%s: made by a newer rinki; upgrade rinkictl", path);
	if (rc < 0)
		return ctl_fail("%s: cannot open: %s", path, strerror(-rc));
	return 0;
}

/* ---- oncall -------------------------------------------------------------------------- */

static void ctl_print_chain(const struct gw_roster *r, const char *line, int64_t at)
{
	struct gw_roster_step steps[GW_ROSTER_CHAIN_MAX];
	int n = gw_roster_chain(r, line, at, steps, GW_ROSTER_CHAIN_MAX);

	printf("%s  %s\n", line, gw_roster_line_name(r, line));
	if (n == 0)
		printf("   (nobody on duty)\n");
	for (int i = 0; i < n; i++) {
		printf("  %2d. ", i + 1);
		ctl_put_padded(steps[i].name, 24);
		printf(" %-16s %s\n", steps[i].phone, steps[i].handle);
	}
}

static int ctl_oncall(const char *dbpath, int argc, char **argv)
{
	const char *line = NULL;
	struct gw_roster *r = NULL;
	struct gw_db *db = NULL;
	int64_t at = (int64_t)time(NULL) * 1000;
	char when[40];
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--line") == 0 && i + 1 < argc) {
			line = argv[++i];
		} else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			if (gw_roster_parse_time(argv[++i], &at) < 0)
				return ctl_bad_usage("bad time '%s'", argv[i]);
		} else {
			return ctl_bad_usage("oncall: unexpected '%s'", argv[i]);
		}
	}
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_roster_load(db, &r);
	gw_db_close(db);
	if (rc < 0)
		return ctl_fail("%s: cannot load the roster: %s", dbpath, strerror(-rc));
	if (line && !gw_roster_line_name(r, line)) {
		rc = ctl_fail("no service line '%s'", line);
		gw_roster_free(r);
		return rc;
	}
	if (gw_roster_line_count(r) == 0) {
		rc = ctl_fail("%s: the roster is empty (rinkictl roster import FILE)", dbpath);
		gw_roster_free(r);
		return rc;
	}
	printf("on call at %s (local time)\n\n", ctl_local_time(at, false, when, sizeof(when)));
	if (line) {
		ctl_print_chain(r, line, at);
	} else {
		for (size_t i = 0; i < gw_roster_line_count(r); i++) {
			if (i)
				putchar('\n');
			ctl_print_chain(r, gw_roster_line_code(r, i), at);
		}
	}
	gw_roster_free(r);
	return 0;
}

/* ---- log ----------------------------------------------------------------------------- */

static void ctl_print_incident_row(const struct gw_db_incident *inc, void *arg)
{
	char when[40], cause[16] = "-";

	(void)arg;
	if (inc->has_cause)
		snprintf(cause, sizeof(cause), "%d", inc->cause);
	printf("%6" PRId64 "  %s  ", inc->id, ctl_local_time(inc->started_ms, false, when, 40));
	ctl_put_padded(inc->caller, 17);
	putchar(' ');
	ctl_put_padded(inc->caller_name ? inc->caller_name : "-", 28);
	printf(" %-5s %-12s %5s  %s\n", inc->line ? inc->line : "-",
	       inc->outcome ? inc->outcome : "(open)", cause,
	       inc->accepted_by ? inc->accepted_by : "-");
}

static void ctl_print_incident(const struct gw_db_incident *inc, void *arg)
{
	char t[40];

	*(int64_t *)arg = inc->started_ms;
	printf("incident %" PRId64 "\n", inc->id);
	printf("  started      %s\n", ctl_local_time(inc->started_ms, true, t, sizeof(t)));
	if (inc->ended)
		printf("  ended        %s (%.1f s)\n", ctl_local_time(inc->ended_ms, true, t, 40),
		       (double)(inc->ended_ms - inc->started_ms) / 1000.0);
	else
		printf("  ended        (still open)\n");
	printf("  caller       %s (%s)\n", inc->caller,
	       inc->caller_name ? inc->caller_name : "unknown");
	printf("  line         %s\n", inc->line ? inc->line : "-");
	printf("  radio cci    %d\n", inc->radio_cci);
	printf("  outcome      %s\n", inc->outcome ? inc->outcome : "-");
	if (inc->has_cause)
		printf("  cause        %d\n", inc->cause);
	else
		printf("  cause        -\n");
	printf("  accepted by  %s\n", inc->accepted_by ? inc->accepted_by : "-");
}

static void ctl_print_event(const struct gw_db_event *ev, void *arg)
{
	int64_t start = *(int64_t *)arg;
	char t[40];

	printf("  %s  %+8.3f  %-12s %s\n", ctl_local_time(ev->t_ms, true, t, sizeof(t)),
	       (double)(ev->t_ms - start) / 1000.0, ev->kind, ev->detail ? ev->detail : "");
}

static int ctl_log_show(struct gw_db *db, const char *dbpath, const char *arg)
{
	int64_t start = 0;
	long id;
	int rc;

	if (!ctl_parse_int(arg, 1, LONG_MAX, &id))
		return ctl_bad_usage("log show: bad incident id '%s'", arg);
	rc = gw_db_incident_get(db, id, ctl_print_incident, &start);
	if (rc == -ENOENT)
		return ctl_fail("%s: no incident %ld", dbpath, id);
	if (rc < 0)
		return ctl_fail("%s: cannot read incident %ld: %s", dbpath, id, strerror(-rc));
	printf("events:\n");
	rc = gw_db_event_list(db, id, ctl_print_event, &start);
	if (rc < 0)
		return ctl_fail("%s: cannot read events: %s", dbpath, strerror(-rc));
	return 0;
}

/* ---- log verify ---------------------------------------------------------------------- */

static int ctl_log_verify(struct gw_db *db, const char *dbpath)
{
	struct gw_db_verify v;
	int rc;

	if (gw_db_spool_pending(db))
		fprintf(stderr,
			"%s: warning: call-log records still wait in %s.spool (the database "
			"is busy or unavailable); they are not verified\n",
			prog, dbpath);
	rc = gw_db_log_verify_report(db, &v);
	if (rc < 0)
		return ctl_fail("%s: cannot verify the call log: %s", dbpath, strerror(-rc));
	if (rc == 1) {
		if (v.bad_event)
			printf("chain broken at event %" PRId64, v.bad_event);
		else
			printf("chain broken");
		if (v.bad_incident)
			printf(" (incident %" PRId64 ")", v.bad_incident);
		printf(": %s\n", v.reason);
		return EXIT_FAILURE;
	}
	printf("chain intact: %" PRId64 " events\n", v.events);
	printf("incidents checked: %" PRId64 "\nhead: ", v.incidents);
	for (size_t i = 0; i < sizeof(v.head); i++)
		printf("%02x", v.head[i]);
	putchar('\n');
	return 0;
}

/* ---- log export ---------------------------------------------------------------------- */

/*
 * A --from/--to argument: a TIME with zone, or a local date YYYY-MM-DD meaning its start
 * (end_of_day false) or the start of the next day (true). False when malformed.
 */
static bool ctl_parse_date(const char *s, bool end_of_day, int64_t *ms)
{
	struct tm tm = {0};
	int y, mo, d, n = -1;
	time_t t;

	if (gw_roster_parse_time(s, ms) == 0)
		return true;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || s[n] != '\0')
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 ||
	    tm.tm_mday != d)
		return false; /* 2026-02-30 and the like */
	if (end_of_day) {
		tm = (struct tm){
		    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d + 1, .tm_isdst = -1};
		if ((t = mktime(&tm)) == (time_t)-1)
			return false;
	}
	*ms = (int64_t)t * 1000;
	return true;
}

/* One CSV field (RFC 4180): quoted, with quotes doubled, when it holds , " CR or LF. */
static void ctl_csv_field(const char *s, bool last)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else if (s) {
		fputs(s, stdout);
	}
	fputs(last ? "\r\n" : ",", stdout);
}

/* UTC ISO 8601 with milliseconds, e.g. 2026-03-01T12:00:00.250Z. */
static const char *ctl_utc(int64_t t_ms, char *buf, size_t len)
{
	time_t t = (time_t)(t_ms / 1000);
	struct tm tm;

	if (t_ms < 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "@%" PRId64, t_ms);
		return buf;
	}
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03dZ", (int)(t_ms % 1000));
	return buf;
}

struct ctl_export {
	struct gw_db *db;
	const struct gw_db_incident *cur; /* valid during its event callbacks */
	int events;
	int rc;
};

static void ctl_export_incident_cols(const struct gw_db_incident *inc)
{
	char t[48], n[24];

	snprintf(n, sizeof(n), "%" PRId64, inc->id);
	ctl_csv_field(n, false);
	ctl_csv_field(ctl_utc(inc->started_ms, t, sizeof(t)), false);
	ctl_csv_field(inc->ended ? ctl_utc(inc->ended_ms, t, sizeof(t)) : NULL, false);
	ctl_csv_field(inc->caller, false);
	ctl_csv_field(inc->caller_name, false);
	ctl_csv_field(inc->line, false);
	snprintf(n, sizeof(n), "%d", inc->radio_cci);
	ctl_csv_field(n, false);
	ctl_csv_field(inc->outcome, false);
	snprintf(n, sizeof(n), "%d", inc->cause);
	ctl_csv_field(inc->has_cause ? n : NULL, false);
	ctl_csv_field(inc->accepted_by, false);
}

static void ctl_export_event(const struct gw_db_event *ev, void *arg)
{
	struct ctl_export *x = arg;
	char t[48], n[24];

	ctl_export_incident_cols(x->cur);
	snprintf(n, sizeof(n), "%" PRId64, ev->id);
	ctl_csv_field(n, false);
	ctl_csv_field(ctl_utc(ev->t_ms, t, sizeof(t)), false);
	ctl_csv_field(ev->kind, false);
	ctl_csv_field(ev->detail, true);
	x->events++;
}

static void ctl_export_incident(const struct gw_db_incident *inc, void *arg)
{
	struct ctl_export *x = arg;
	int rc;

	if (x->rc < 0)
		return;
	x->cur = inc;
	x->events = 0;
	rc = gw_db_event_list(x->db, inc->id, ctl_export_event, x);
	if (rc < 0)
		x->rc = rc;
	else if (x->events == 0) { /* an incident without events still gets its row */
		ctl_export_incident_cols(inc);
		fputs(",,,\r\n", stdout);
	}
}

static int ctl_log_export(struct gw_db *db, const char *dbpath, int64_t from, int64_t to)
{
	struct ctl_export x = {.db = db};
	int n;

	fputs("incident,started_utc,ended_utc,caller,caller_name,line,radio_cci,outcome,cause,"
	      "accepted_by,event,event_utc,kind,detail\r\n",
	      stdout);
	n = gw_db_incident_range(db, from, to, ctl_export_incident, &x);
	if (n < 0 || x.rc < 0)
		return ctl_fail("%s: cannot read the call log: %s", dbpath,
				strerror(-(n < 0 ? n : x.rc)));
	if (fflush(stdout) != 0)
		return ctl_fail("writing the export: %s", strerror(errno));
	return 0;
}

static int ctl_log(const char *dbpath, int argc, char **argv)
{
	struct gw_db *db;
	long limit = DEFAULT_LIMIT;
	const char *show = NULL;
	int rc;

	if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
		if (argc != 1)
			return ctl_bad_usage("log verify takes no arguments");
		if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
			return rc;
		rc = ctl_log_verify(db, dbpath);
		gw_db_close(db);
		return rc;
	}
	if (argc >= 1 && strcmp(argv[0], "export") == 0) {
		int64_t from = INT64_MIN, to = INT64_MAX;
		for (int i = 1; i < argc; i++) {
			bool is_to = strcmp(argv[i], "--to") == 0;
			if ((is_to || strcmp(argv[i], "--from") == 0) && i + 1 < argc) {
				if (!ctl_parse_date(argv[++i], is_to, is_to ? &to : &from))
					return ctl_bad_usage("bad date '%s'", argv[i]);
			} else {
				return ctl_bad_usage("log export: unexpected '%s'", argv[i]);
			}
		}
		if (from >= to)
			return ctl_bad_usage("log export: --from is not before --to");
		if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
			return rc;
		rc = ctl_log_export(db, dbpath, from, to);
		gw_db_close(db);
		return rc;
	}
	if (argc >= 1 && strcmp(argv[0], "show") == 0) {
		if (argc != 2)
			return ctl_bad_usage("log show takes one incident id");
		show = argv[1];
	} else {
		for (int i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
				if (!ctl_parse_int(argv[++i], 1, 1000000, &limit))
					return ctl_bad_usage("bad limit '%s' (1-1000000)", argv[i]);
			} else {
				return ctl_bad_usage("log: unexpected '%s'", argv[i]);
			}
		}
	}
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	if (show) {
		rc = ctl_log_show(db, dbpath, show);
		gw_db_close(db);
		return rc;
	}
	printf("%6s  %-19s  %-17s %-28s %-5s %-12s %5s  %s\n", "ID", "STARTED", "CALLER",
	       "CALLER NAME", "LINE", "OUTCOME", "CAUSE", "ACCEPTED BY");
	rc = gw_db_incident_list(db, (int)limit, ctl_print_incident_row, NULL);
	gw_db_close(db);
	if (rc < 0)
		return ctl_fail("%s: cannot read the call log: %s", dbpath, strerror(-rc));
	if (rc == 0)
		printf("(no incidents)\n");
	return 0;
}

/* ---- roster import ------------------------------------------------------------------- */

static void ctl_csv_error(const char *file, unsigned line, const char *reason, void *arg)
{
	(*(int *)arg)++;
	if (line)
		fprintf(stderr, "%s:%u: %s\n", file, line, reason);
	else
		fprintf(stderr, "%s: %s\n", file, reason);
}

static int ctl_roster(const char *dbpath, int argc, char **argv)
{
	struct gw_roster_counts c;
	struct gw_db *db;
	int errors = 0, rc;

	if (argc != 2 || strcmp(argv[0], "import") != 0)
		return ctl_bad_usage("usage: roster import FILE");
	if ((rc = ctl_open(dbpath, 0, &db)) != 0)
		return rc;
	rc = gw_roster_import_file(db, argv[1], ctl_csv_error, &errors, &c);
	gw_db_close(db);
	if (rc < 0 && errors)
		return ctl_fail("%s: %d error%s, nothing imported", argv[1], errors,
				errors == 1 ? "" : "s");
	if (rc < 0)
		return ctl_fail("%s: import failed, nothing imported: %s", argv[1], strerror(-rc));
	printf("imported %s into %s: %zu lines, %zu workers, %zu shifts, %zu routes, "
	       "%zu directory entries\n",
	       argv[1], dbpath, c.lines, c.workers, c.shifts, c.routes, c.dirs);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dbpath = getenv("RINKI_DB");
	int i = 1;

	if (!dbpath || !*dbpath)
		dbpath = DEFAULT_DB;
	gw_log_init(prog, false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			dbpath = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			ctl_usage(stdout);
			return 0;
		} else {
			return ctl_bad_usage("unknown option '%s'", argv[i]);
		}
	}
	if (i == argc)
		return ctl_bad_usage("no command given");
	const char *cmd = argv[i++];
	if (strcmp(cmd, "oncall") == 0)
		return ctl_oncall(dbpath, argc - i, argv + i);
	if (strcmp(cmd, "log") == 0)
		return ctl_log(dbpath, argc - i, argv + i);
	if (strcmp(cmd, "roster") == 0)
		return ctl_roster(dbpath, argc - i, argv + i);
	return ctl_bad_usage("unknown command '%s'", cmd);
}
