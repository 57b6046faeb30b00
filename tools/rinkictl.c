/*
 * rinkictl: the administrator's command line for rinki's database.
 *
 * It opens the same SQLite file as rinkid (WAL lets it read while rinkid writes) and
 * uses only the gateway's db and roster modules, so every write goes through the one
 * API rinkid watches (gw_db_roster_changed). Commands: who is on call and the escalation
 * plan, the call log (list, one incident, hash-chain check, CSV export), the monthly
 * report, retention of message bodies, the roster CSV import and export, the directory
 * import, and small roster edits (workers, overrides). Listings take --json (one JSON
 * document on stdout). Every command takes --help.
 *
 * Changes (roster and directory import, overrides, worker add, disable/enable and PIN
 * reset) go to a running rinkid over its control socket (ctl_client), which checks,
 * applies and logs them with who asked; only when rinkid is not running does rinkictl
 * write the file itself, and then only as the state directory's owner (root becomes that
 * owner first), so no ordering of first-time steps leaves files rinkid cannot use.
 *
 * Exit status: 0 ok; 1 failed (database or file error, invalid input file, broken
 * chain); 2 usage (bad command line); 3 not found (no such worker, override, incident or
 * line).
 */
#include "store/db.h"
#include "core/conf.h"
#include "core/e164.h"
#include "core/log.h"
#include "core/priv.h"
#include "ctl/ctl_client.h"
#include "ctl/ctl_proto.h"
#include "core/text.h"
#include "store/report.h"
#include "store/roster.h"
#include "store/roster_list.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_DB     "/var/lib/rinki/rinki.db"
#define DEFAULT_CONF   "/etc/rinki/rinki.conf"
#define EXIT_USAGE     2
#define EXIT_NOT_FOUND 3
#define CHANGE_WAIT_MS 120000 /* a big roster import is checked before the answer */
#define NOT_RUNNING    (-1)   /* ctl_change: no rinkid answers; write directly */

/* The control socket changes go to (-s, $RINKI_SOCKET, or the default). */
static const char *ctl_socket_path = RINKI_CTL_SOCKET_DEFAULT;
#define DEFAULT_LIMIT  20
#define DEFAULT_WITHIN 60

static const char *prog = "rinkictl";

/* Every command with its synopsis and what it does (the --help text). */
static const struct ctl_cmd_help {
	const char *cmd, *synopsis, *text;
} ctl_help[] = {
    {"oncall", "oncall [--line L] [--at TIME] [--json]",
     "Who is on duty per service line, in ring order, and the escalation plan (chain steps,\n"
     "ring times, rounds, fallback) at TIME (default: now)."},
    {"log", "log [--limit N] [--json]", "The latest incidents, newest first (default 20)."},
    {"log show", "log show ID", "One incident with all its events."},
    {"log verify", "log verify",
     "Check the call log's hash chain; exit 1 when it is broken. Prints the head hash to\n"
     "record elsewhere."},
    {"log export", "log export [--from D] [--to D]",
     "Incidents started in [from, to) with their events as CSV (RFC 4180)."},
    {"report", "report --month YYYY-MM | --from D --to D [--within N] [--csv|--json]",
     "The authority calls started in the month or in [from, to) (Helsinki time): by outcome\n"
     "(completed, unanswered, unstaffed, busy, abandoned by the officer, failed, open), who\n"
     "took them (first worker, a later step, the fallback, nobody), time to accept (p50,\n"
     "p90, max; how many within N seconds, default 60); texts, statuses and call-backs\n"
     "apart; per line and per caller organisation. A check that every incident in the\n"
     "range is counted once is printed (CSV: on stderr); exit 1 when it fails."},
    {"retention", "retention run --days N",
     "Remove message bodies (event kinds sms_text and sds_text) older than N days; every\n"
     "other event and the incidents stay, the hash chain stays verifiable, and a\n"
     "\"retention\" event records the run. Then the call recordings (\"recording\" events)\n"
     "older than N days are deleted, recorded by a \"recording_retention\" event."},
    {"roster import", "roster import FILE [--replace] [--preview] [--days N]",
     "Through a running rinkid (--preview: only say what would change). Validate FILE (format: "
     "tools/demo/roster.csv) and replace the imported (base) roster\n"
     "with it; every bad row is reported and nothing changes unless the whole file is\n"
     "valid. Manual changes (override add, worker add/disable/enable) are kept and listed;\n"
     "those FILE now has itself move into the base; those naming a worker or line FILE\n"
     "lacks are listed and refuse the import, unless --replace drops them. Then the\n"
     "coverage of the next N days (default 14) as roster check prints it."},
    {"roster check", "roster check [--days N] [--from TIME]",
     "Every gap in the next N days (default 14, at most 366; from TIME, default now): each\n"
     "line, from, to, and whether only the line's fallback or nobody would be paged;\n"
     "\"covered\" when there is none. Exit 1 when there are gaps."},
    {"roster ics", "roster ics [--worker H] [--line L] [--from D] [--days N] [FILE]",
     "The duty from D (default now) for N days (default 31) as an iCalendar file (RFC\n"
     "5545) for a calendar app: one event per stretch of duty, of worker H or line L\n"
     "(default: everyone, every line), after rotations, patterns and overrides."},
    {"roster export", "roster export [FILE]",
     "Write the roster as CSV (to FILE or stdout) that roster import reads back."},
    {"roster temp", "roster temp [--json]",
     "The temporary rosters (the roster CSV's temp_roster records): name, line, the local\n"
     "range they replace the line's normal shifts and rotations in, and how many shifts\n"
     "and rotations they have. oncall names the one in effect."},
    {"directory import", "directory import FILE",
     "Replace the ISSI directory with FILE's directory,ISSI,ORGANISATION records."},
    {"worker add", "worker add HANDLE NAME PHONE [--issi ISSI] [--lang fi|sv|en] [--inactive]",
     "Add a worker (language default fi: the language rinki speaks to them). A manual\n"
     "change: roster import keeps it until the file has the worker too."},
    {"worker list", "worker list [--json]", "All workers, with language and whether a PIN is set."},
    {"worker pin", "worker pin HANDLE",
     "Set the worker's PIN (4-8 digits), read from the terminal (asked twice, not shown)\n"
     "or from one line of standard input. Only a salted argon2id hash is stored."},
    {"worker pin-reset", "worker pin-reset HANDLE",
     "Remove the worker's PIN (through a running rinkid); call-backs need a new one."},
    {"worker disable", "worker disable HANDLE",
     "Mark a worker inactive: kept, never rung (worker enable HANDLE undoes it). A manual\n"
     "change: roster import keeps it."},
    {"worker enable", "worker enable HANDLE", "Mark a worker active again."},
    {"worker set", "worker set HANDLE [--lang fi|sv|en] [--phone NUMBER]",
     "Change a worker's language or phone (E.164, or 00.../0... as dialled in Finland;\n"
     "stored in its E.164 form). A manual change: roster import keeps it until the file\n"
     "has the same."},
    {"override add",
     "override add add|remove|replace WORKER FROM TO [--line L] [--by B] [--position N]",
     "add: WORKER is on duty on line L at position N too; remove: WORKER is off duty\n"
     "(no --line: on every line); replace: B takes WORKER's places (no --line: every\n"
     "line). FROM and TO are TIMEs or local dates. A manual change: roster import keeps\n"
     "it."},
    {"override list", "override list [--json]",
     "All overrides: the manual ones with their ids, the imported ones (from the roster\n"
     "file) without."},
    {"override remove", "override remove ID",
     "Delete a manual override (an imported one goes with the roster file)."},
    {"config show", "config show [-c FILE]",
     "The configuration rinkid runs with: FILE (default /etc/rinki/rinki.conf) over the\n"
     "built-in defaults, every key with its value (\"#key\": not set). Errors name\n"
     "file:line."},
    {"config check", "config check [-c FILE] [--at TIME] [--no-roster]",
     "What rinkid checks before it starts, on this machine: ctl.group and\n"
     "ctl.admin_group exist, the voice prompts of prompt.language are in prompt.dir\n"
     "(errors); no voice bridge, no key source for accepting, other languages' prompts\n"
     "missing, and every service line of db.path's roster with nobody on duty at TIME\n"
     "(default now) or in the 14 days after (warnings; --no-roster: the database is not\n"
     "opened, as in the unit's ExecStartPre). Exit 1 on any error."},
    {"probe", "probe [--timeout MS] [--baud N] [--by-id DIR] [--cards FILE] [PATH...]",
     "Find the board's devices: ask every serial port under /dev/serial/by-id (or DIR)\n"
     "and each PATH a few read-only AT questions (MS each, default 500), tell the TETRA\n"
     "PEI (AT+GMI?, AT+GMM?, AT+CNUMF?) from the modem (AT+CGMI, AT+CGMM, ATI) and their\n"
     "vendors, list the sound cards (/proc/asound/cards, or FILE) and print the\n"
     "rinki.conf lines to use. A port another process holds open is skipped. Exit 0 when\n"
     "a PEI and a modem were found, else 1."},
    {"user add", "user add NAME ROLE [--lang fi|sv|en] [-c FILE] [--allow-root]",
     "Add an account of the web console (rinki-web): ROLE coordinator, manager or\n"
     "technician. The password is read from the terminal (twice, not shown) or as one line\n"
     "of standard input. The accounts file is web.users of FILE (default\n"
     "/etc/rinki/rinki.conf), opened as web.user (root stays root with --allow-root, for\n"
     "tests only); the same code as rinki-web user add. Every user command takes -c FILE\n"
     "and --allow-root."},
    {"user passwd", "user passwd NAME [-c FILE]",
     "Set a web console account's password (read as for user add); its lockout ends and\n"
     "its sessions end."},
    {"user disable", "user disable|enable NAME [-c FILE]",
     "Disable a web console account (its sessions end; it cannot log in) or enable it."},
    {"user list", "user list [-c FILE]", "The web console's accounts: name, role, language."},
    {"status", "[-s SOCKET] status [--json]",
     "Ask the running rinkid (control socket, tools/rinkictl_status.c) how it is: radio,\n"
     "modem, board, incident, call-back, database, counters, and its health. Exit status\n"
     "(for monitoring): 0 healthy, 1 degraded (radio or modem not ready, board down, call\n"
     "log spooled), 2 down (neither radio nor modem ready, or rinkid unreachable), 3 unknown."},
    {"page-test", "[-s SOCKET] page-test NUMBER", "Have rinkid ring NUMBER as a test page."},
    {"sds", "[-s SOCKET] sds send ISSI TEXT...", "Have rinkid send an SDS text."},
    {"events-sync", "[-s SOCKET] events-sync",
     "Return once rinkid's event stream (events.file) holds every line it queued before;\n"
     "exit 1 when they are not written within 5 s, a write failed or rinkid is not there."},
};

/* Roster coverage and calendar (tools/rinkictl_roster.c). */
#define DEFAULT_CHECK_DAYS 14
int ctl_roster_check_main(const char *dbpath, int argc, char **argv);
int ctl_roster_ics_main(const char *dbpath, int argc, char **argv);
int ctl_roster_coverage(struct gw_db *db, const char *dbpath, int64_t from_ms, long days,
			FILE *out);

/* Commands that talk to rinkid over its control socket (tools/rinkictl_status.c). */
int ctl_status_main(const char *socket_path, int argc, char **argv);
/* status's county line reads this status file of rinki-sync's ("" or NULL: none). */
void ctl_status_set_county(const char *status_file);
/* The config commands (tools/rinkictl_config.c). */
int ctl_config_main(const char *dbpath, int argc, char **argv);
/* probe (tools/rinkictl_probe.c). */
int ctl_probe_main(const char *dbpath, int argc, char **argv);
/* The web console's accounts (tools/rinkictl_user.c). */
int ctl_user_main(const char *dbpath, int argc, char **argv);

/*
 * The roster's zone (roster.timezone) from conf_path, for every time read and printed, and
 * rinki-sync's status file for status's county line when a county sync is set up: when
 * the file was named (given) it must load; the default file may be absent (Europe/Helsinki),
 * and when it cannot be read the times are Helsinki's, said on stderr. Returns 0 or 1.
 */
static int load_zone(const char *conf_path, bool given)
{
	static struct gw_conf conf; /* large */
	char why[384];

	gw_conf_defaults(&conf);
	if (!given && access(conf_path, F_OK) != 0)
		return 0;
	if (gw_conf_load(&conf, conf_path) < 0) {
		if (given)
			return 1; /* each error was reported */
		fprintf(stderr, "%s: %s cannot be read: times are Europe/Helsinki\n", prog,
			conf_path);
		return 0;
	}
	/* with a county sync configured, status shows rinki-sync's status file too */
	if (conf.county_conninfo[0])
		ctl_status_set_county(conf.county_status_file);
	if (gw_roster_set_timezone(conf.roster_timezone, why, sizeof(why)) < 0) {
		bool builtin = strcmp(conf.roster_timezone, "Europe/Helsinki") == 0;
		fprintf(stderr, "%s: roster.timezone: %s%s\n", prog, why,
			builtin ? " (the built-in EU rule for Helsinki is used)" : "");
		return builtin ? 0 : 1;
	}
	return 0;
}

static void ctl_usage(FILE *f)
{
	fprintf(f, "usage: %s [-d DBPATH] [-s SOCKET] [-c CONF] COMMAND [ARGS]\n\ncommands:\n",
		prog);
	for (size_t i = 0; i < sizeof(ctl_help) / sizeof(ctl_help[0]); i++)
		fprintf(f, "  %s\n", ctl_help[i].synopsis);
	fprintf(f,
		"\n"
		"COMMAND --help explains one command.\n"
		"TIME is ISO 8601: local time (2026-03-01T14:00), or with a zone (Z, or an\n"
		"offset that must be the local one then: 2026-03-01T14:00+02:00).\n"
		"Local time is CONF's roster.timezone (default %s when it exists; without\n"
		"it Europe/Helsinki).\n"
		"D is a TIME or a local date YYYY-MM-DD (--from: its start, --to: its end).\n"
		"DBPATH defaults to $RINKI_DB, else %s.\n"
		"Exit status: 0 ok, 1 failed, 2 usage, 3 not found.\n",
		DEFAULT_CONF, DEFAULT_DB);
}

/* The help of the command whose name is the longest prefix of words; 0, or 2 if none. */
static int ctl_command_help(const char *w1, const char *w2)
{
	const struct ctl_cmd_help *best = NULL;
	char two[64];

	snprintf(two, sizeof(two), "%s %s", w1, w2 ? w2 : "");
	for (size_t i = 0; i < sizeof(ctl_help) / sizeof(ctl_help[0]); i++) {
		if (w2 && strcmp(ctl_help[i].cmd, two) == 0) {
			best = &ctl_help[i];
			break;
		}
		if (!best && strcmp(ctl_help[i].cmd, w1) == 0)
			best = &ctl_help[i];
	}
	if (!best) {
		bool any = false;
		for (size_t i = 0; i < sizeof(ctl_help) / sizeof(ctl_help[0]); i++)
			if (strncmp(ctl_help[i].cmd, w1, strlen(w1)) == 0 &&
			    ctl_help[i].cmd[strlen(w1)] == ' ') {
				if (!any)
					printf("%s commands:\n", w1);
				printf("  %s %s\n", prog, ctl_help[i].synopsis);
				any = true;
			}
		if (any)
			return 0;
		fprintf(stderr, "%s: no command '%s'\n", prog, w1);
		return EXIT_USAGE;
	}
	printf("usage: %s [-d DBPATH] %s\n\n%s\n", prog, best->synopsis, best->text);
	return 0;
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

/* Helsinki wall clock of a UTC ms timestamp with its zone, whatever TZ says:
   "YYYY-MM-DD HH:MM:SS EET" (".mmm" before the zone when ms). */
static const char *ctl_local_time(int64_t t_ms, bool ms, char *buf, size_t len)
{
	gw_roster_format_clock(t_ms, ms ? GW_CLOCK_MS : GW_CLOCK_SEC, buf, len);
	return buf;
}

/* Print s padded to width columns, counting UTF-8 characters rather than bytes. */
static const char *T(const char *s);

static void ctl_put_padded(const char *s, int width)
{
	int cols = 0;

	s = T(s); /* escaped first: the padding counts what is shown */
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

/* ---- changes through rinkid ------------------------------------------------------------ */

/*
 * Send change line (with fd, -1: none) to rinkid and print its answer: "+ error" lines
 * to stderr, other "+" lines to stdout. Returns NOT_RUNNING when no rinkid listens (no
 * socket, or a stale one), 0 with the final ok line in final, or an exit status (the
 * failure printed).
 */
static int ctl_change(const char *line, int fd, char *final, size_t len)
{
	static char reply[GW_CTL_CLIENT_REPLY_MAX];
	int rc =
	    gw_ctl_client_request(ctl_socket_path, line, fd, reply, sizeof(reply), CHANGE_WAIT_MS);
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		return NOT_RUNNING;
	if (rc == -EACCES)
		return ctl_fail("%s: no access: changes need root or membership of rinki-admin "
				"(ctl.admin_group) and rinki-status (ctl.group)",
				ctl_socket_path);
	if (rc < 0)
		return ctl_fail("%s: no answer from rinkid: %s", ctl_socket_path, strerror(-rc));
	for (const char *p = reply; p[0] == '+';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		struct gw_ctl_msg m;
		char err[160];
		const char *text = NULL;
		/* "+ what key=value ... text=..." parses as a reply line once "+ " is dropped */
		if (n > 2 && gw_ctl_parse(p + 2, n - 2, &m, err, sizeof(err)) == 0)
			text = gw_ctl_msg_get(&m, "text");
		bool is_err = strncmp(p, "+ error", 7) == 0;
		FILE *out = is_err ? stderr : stdout;
		if (text && is_err)
			fprintf(out, "row %s: %s\n", gw_ctl_msg_get(&m, "row"), T(text));
		else if (text)
			fprintf(out, "%s: %s\n", m.nargs ? m.args[0].value : "", T(text));
		else
			fprintf(out, "%.*s\n", (int)n, p + 2 < p + n ? p + 2 : p);
		if (!nl)
			break;
		p = nl + 1;
	}
	const char *fin = gw_ctl_client_final(reply);
	if (rc == 1) {
		const char *text = fin + 4;
		const char *sp = strchr(text, ' ');
		text = sp ? sp + 1 : text;
		ctl_fail("rinkid: %s", text);
		if (strncmp(fin, "err usage no ", 13) == 0 || strstr(fin, "unknown worker or line"))
			return EXIT_NOT_FOUND;
		if (strncmp(fin, "err denied", 10) == 0)
			return 1;
		return 1;
	}
	snprintf(final, len, "%s", fin);
	return 0;
}

/*
 * rinkid is not running: may this process write the database at dbpath directly? Root
 * becomes the state directory's owner first. 0, or an exit status (printed).
 */
static int ctl_direct(const char *dbpath)
{
	char dir[PATH_MAX], why[300];
	snprintf(dir, sizeof(dir), "%s", dbpath);
	int rc = gw_priv_become_owner(dirname(dir), why, sizeof(why));
	if (rc < 0)
		return ctl_fail("rinkid is not running (%s) and %s", ctl_socket_path, why);
	return 0;
}

/* The value of key in an ok line, or "" (points into a static copy). */
static const char *ok_value(const char *final, const char *key)
{
	static struct gw_ctl_msg m;
	char err[160];
	if (gw_ctl_parse(final, strlen(final), &m, err, sizeof(err)) < 0)
		return "";
	const char *v = gw_ctl_msg_get(&m, key);
	return v ? v : "";
}

/* Append " key=<encoded value>" to line (len bytes). False when it does not fit. */
static bool put_arg(char *line, size_t len, const char *key, const char *value)
{
	size_t n = strlen(line);
	int k = snprintf(line + n, len - n, " %s=", key);
	if (k < 0 || (size_t)k >= len - n)
		return false;
	n += (size_t)k;
	return gw_ctl_encode(line + n, len - n, value) >= 0;
}

/* ---- shared helpers ------------------------------------------------------------------ */

/*
 * A --from/--to argument: a TIME with zone, or a local (Helsinki) date YYYY-MM-DD meaning
 * its start (end_of_day false) or the start of the next day (true). False when malformed.
 */
static bool ctl_parse_date(const char *s, bool end_of_day, int64_t *ms)
{
	return gw_roster_parse_when(s, end_of_day, ms) == 0;
}

/*
 * One CSV field (RFC 4180): quoted, with quotes doubled, when it holds , " CR or LF, and
 * neutralised when a spreadsheet would run it as a formula (gw_text_csv_put).
 */
static void ctl_csv_field(const char *s, bool last)
{
	gw_text_csv_put(stdout, s, 0);
	fputs(last ? "\r\n" : ",", stdout);
}

/*
 * s made safe for a terminal (gw_text_term: control characters escaped), in one of a few
 * rotating buffers so that several can go into one printf. NULL gives "-".
 */
static const char *T(const char *s)
{
	static char buf[8][1024];
	static unsigned next;
	return gw_text_term(s, buf[next++ % 8], sizeof(buf[0]));
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

/* A JSON string (RFC 8259): quotes, backslash and control characters escaped; NULL: null. */
static void ctl_json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* "key": as the start of an object member, with a comma before all but the first. */
static void ctl_json_key(const char *key, bool *first)
{
	if (!*first)
		putchar(',');
	*first = false;
	ctl_json_str(key);
	putchar(':');
}

static void ctl_json_kv_str(const char *key, const char *v, bool *first)
{
	ctl_json_key(key, first);
	ctl_json_str(v);
}

static void ctl_json_kv_int(const char *key, int64_t v, bool *first)
{
	ctl_json_key(key, first);
	printf("%" PRId64, v);
}

static void ctl_json_kv_time(const char *key, int64_t t_ms, bool *first)
{
	char t[48];
	ctl_json_kv_str(key, ctl_utc(t_ms, t, sizeof(t)), first);
}

static int ctl_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return ctl_fail("writing the output: %s", strerror(errno ? errno : EIO));
	return 0;
}

/* True when args hold --help or -h (every command takes it). */
static bool ctl_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static void ctl_csv_error(const char *file, unsigned line, const char *reason, void *arg)
{
	(*(int *)arg)++;
	if (line)
		fprintf(stderr, "%s:%u: %s\n", file, line, reason);
	else
		fprintf(stderr, "%s: %s\n", file, reason);
}

/* ---- oncall -------------------------------------------------------------------------- */

static void ctl_print_plan_step(int i, const struct gw_roster_plan_step *s)
{
	char ring[16] = "default";

	if (s->ring_s)
		snprintf(ring, sizeof(ring), "%d s", s->ring_s);
	if (i)
		printf("  %2d. ", i);
	else
		printf(" then ");
	ctl_put_padded(s->name, 24);
	printf(" %-16s %-10s ring %s\n", s->phone, s->handle, ring);
}

static void ctl_print_chain(const struct gw_roster *r, const char *line, int64_t at)
{
	struct gw_roster_step steps[GW_ROSTER_CHAIN_MAX];
	struct gw_roster_plan plan;
	int n = gw_roster_chain(r, line, at, steps, GW_ROSTER_CHAIN_MAX);

	const char *temp = gw_roster_temp_at(r, line, at);
	printf("%s  %s%s%s%s\n", T(line), T(gw_roster_line_name(r, line)),
	       temp ? "  (temporary roster " : "", temp ? T(temp) : "", temp ? ")" : "");
	if (n == 0)
		printf("   (nobody on duty)\n");
	if (n < 0)
		printf("   (cannot tell: %s)\n", strerror(-n));
	for (int i = 0; i < n; i++) {
		printf("  %2d. ", i + 1);
		ctl_put_padded(steps[i].name, 24);
		printf(" %-16s %s\n", steps[i].phone, steps[i].handle);
	}
	if (gw_roster_plan(r, line, at, &plan) < 0 ||
	    (!plan.explicit_chain && !plan.has_fallback && !plan.rounds && !plan.after_hours_line))
		return;
	if (plan.after_hours_line)
		printf("  after hours: calls page line %s\n", T(plan.after_hours_line));
	printf("  escalation chain");
	if (plan.rounds)
		printf(", %d round%s", plan.rounds, plan.rounds == 1 ? "" : "s");
	printf(":\n");
	for (int i = 0; i < plan.n_steps; i++)
		ctl_print_plan_step(i + 1, &plan.steps[i]);
	if (plan.has_fallback)
		ctl_print_plan_step(0, &plan.fallback);
	if (plan.empty)
		printf("   (nobody to page: the officer is told)\n");
}

static void ctl_json_step(const char *handle, const char *name, const char *phone, int ring_s,
			  bool with_ring)
{
	bool first = true;

	putchar('{');
	ctl_json_kv_str("handle", handle, &first);
	ctl_json_kv_str("name", name, &first);
	ctl_json_kv_str("phone", phone, &first);
	if (with_ring)
		ctl_json_kv_int("ring_s", ring_s, &first);
	putchar('}');
}

static void ctl_json_line(const struct gw_roster *r, const char *line, int64_t at)
{
	struct gw_roster_step steps[GW_ROSTER_CHAIN_MAX];
	struct gw_roster_plan plan;
	int n = gw_roster_chain(r, line, at, steps, GW_ROSTER_CHAIN_MAX);
	bool first = true;

	putchar('{');
	ctl_json_kv_str("line", line, &first);
	ctl_json_kv_str("name", gw_roster_line_name(r, line), &first);
	ctl_json_kv_str("name_fi", gw_roster_line_name_fi(r, line), &first);
	ctl_json_kv_str("temp_roster", gw_roster_temp_at(r, line, at), &first);
	ctl_json_key("duty", &first);
	putchar('[');
	for (int i = 0; i < n; i++) {
		if (i)
			putchar(',');
		ctl_json_step(steps[i].handle, steps[i].name, steps[i].phone, 0, false);
	}
	putchar(']');
	ctl_json_key("plan", &first);
	if (gw_roster_plan(r, line, at, &plan) < 0) {
		fputs("null}", stdout);
		return;
	}
	bool pf = true;
	putchar('{');
	ctl_json_key("steps", &pf);
	putchar('[');
	for (int i = 0; i < plan.n_steps; i++) {
		if (i)
			putchar(',');
		ctl_json_step(plan.steps[i].handle, plan.steps[i].name, plan.steps[i].phone,
			      plan.steps[i].ring_s, true);
	}
	putchar(']');
	ctl_json_kv_int("rounds", plan.rounds, &pf);
	ctl_json_key("fallback", &pf);
	if (plan.has_fallback)
		ctl_json_step(plan.fallback.handle, plan.fallback.name, plan.fallback.phone,
			      plan.fallback.ring_s, true);
	else
		fputs("null", stdout);
	ctl_json_key("explicit_chain", &pf);
	fputs(plan.explicit_chain ? "true" : "false", stdout);
	ctl_json_key("empty", &pf);
	fputs(plan.empty ? "true" : "false", stdout);
	ctl_json_kv_str("after_hours_line", plan.after_hours_line, &pf);
	fputs("}}", stdout);
}

static int ctl_oncall(const char *dbpath, int argc, char **argv)
{
	const char *line = NULL;
	struct gw_roster *r = NULL;
	struct gw_db *db = NULL;
	int64_t at = (int64_t)time(NULL) * 1000;
	bool json = false;
	char when[40];
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--line") == 0 && i + 1 < argc) {
			line = argv[++i];
		} else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			char why[240];
			if (gw_roster_parse_local_time(argv[++i], &at, why, sizeof(why)) < 0)
				return ctl_bad_usage("--at: %s", why);
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			return ctl_bad_usage("oncall: unexpected '%s'", argv[i]);
		}
	}
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_roster_load_at(db, at, &r); /* the rotation horizon around --at */
	gw_db_close(db);
	if (rc < 0)
		return ctl_fail("%s: cannot load the roster: %s", dbpath, strerror(-rc));
	if (line && !gw_roster_line_name(r, line)) {
		gw_roster_free(r);
		ctl_fail("no service line '%s'", line);
		return EXIT_NOT_FOUND;
	}
	if (gw_roster_line_count(r) == 0) {
		rc = ctl_fail("%s: the roster is empty (rinkictl roster import FILE)", dbpath);
		gw_roster_free(r);
		return rc;
	}
	if (json) {
		bool first = true;
		putchar('{');
		ctl_json_kv_time("at", at, &first);
		ctl_json_key("lines", &first);
		putchar('[');
		for (size_t i = 0; i < gw_roster_line_count(r); i++) {
			const char *code = gw_roster_line_code(r, i);
			if (line && strcmp(code, line) != 0)
				continue;
			if (!line && i)
				putchar(',');
			ctl_json_line(r, code, at);
		}
		fputs("]}\n", stdout);
		gw_roster_free(r);
		return ctl_flush();
	}
	printf("on call at %s\n\n", ctl_local_time(at, false, when, sizeof(when)));
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
	return ctl_flush();
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
	printf(" %-5s %-12s %5s  %s\n", T(inc->line), inc->outcome ? T(inc->outcome) : "(open)",
	       cause, T(inc->accepted_by));
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
	printf("  caller       %s (%s)\n", T(inc->caller),
	       inc->caller_name ? T(inc->caller_name) : "unknown");
	printf("  line         %s\n", T(inc->line));
	printf("  radio cci    %d\n", inc->radio_cci);
	printf("  outcome      %s\n", T(inc->outcome));
	if (inc->has_cause)
		printf("  cause        %d\n", inc->cause);
	else
		printf("  cause        -\n");
	printf("  accepted by  %s\n", T(inc->accepted_by));
}

static void ctl_print_event(const struct gw_db_event *ev, void *arg)
{
	int64_t start = *(int64_t *)arg;
	char t[40];

	printf("  %s  %+8.3f  %-12s %s\n", ctl_local_time(ev->t_ms, true, t, sizeof(t)),
	       (double)(ev->t_ms - start) / 1000.0, T(ev->kind),
	       ev->removed  ? "(removed by retention)"
	       : ev->detail ? T(ev->detail)
			    : "");
}

static int ctl_log_show(struct gw_db *db, const char *dbpath, const char *arg)
{
	int64_t start = 0;
	long id;
	int rc;

	if (!ctl_parse_int(arg, 1, LONG_MAX, &id))
		return ctl_bad_usage("log show: bad incident id '%s'", arg);
	rc = gw_db_incident_get(db, id, ctl_print_incident, &start);
	if (rc == -ENOENT) {
		ctl_fail("%s: no incident %ld", dbpath, id);
		return EXIT_NOT_FOUND;
	}
	if (rc < 0)
		return ctl_fail("%s: cannot read incident %ld: %s", dbpath, id, strerror(-rc));
	printf("events:\n");
	rc = gw_db_event_list(db, id, ctl_print_event, &start);
	if (rc < 0)
		return ctl_fail("%s: cannot read events: %s", dbpath, strerror(-rc));
	return 0;
}

static void ctl_json_incident(const struct gw_db_incident *inc, void *arg)
{
	bool first = true;

	if ((*(int *)arg)++)
		putchar(',');
	putchar('{');
	ctl_json_kv_int("id", inc->id, &first);
	ctl_json_kv_time("started", inc->started_ms, &first);
	if (inc->ended) {
		ctl_json_kv_time("ended", inc->ended_ms, &first);
	} else {
		ctl_json_key("ended", &first);
		fputs("null", stdout);
	}
	ctl_json_kv_str("caller", inc->caller, &first);
	ctl_json_kv_str("caller_name", inc->caller_name, &first);
	ctl_json_kv_str("line", inc->line, &first);
	ctl_json_kv_int("radio_cci", inc->radio_cci, &first);
	ctl_json_kv_str("outcome", inc->outcome, &first);
	ctl_json_key("cause", &first);
	if (inc->has_cause)
		printf("%d", inc->cause);
	else
		fputs("null", stdout);
	ctl_json_kv_str("accepted_by", inc->accepted_by, &first);
	putchar('}');
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
	switch (v.anchor) {
	case GW_DB_ANCHOR_NONE:
		printf("anchor: none (the call log was never anchored)\n");
		break;
	case GW_DB_ANCHOR_OK:
		printf("anchor: event %" PRId64 ", MAC checked\n", v.anchor_id);
		break;
	case GW_DB_ANCHOR_BEHIND:
		printf("anchor: event %" PRId64 ", MAC checked; later events not anchored (written "
		       "without the key)\n",
		       v.anchor_id);
		break;
	case GW_DB_ANCHOR_UNKEYED:
		printf("anchor: event %" PRId64 " is there; MAC not checked (the key is not "
		       "readable: run as rinkid's user or root)\n",
		       v.anchor_id);
		break;
	}
	return 0;
}

/* ---- log export ---------------------------------------------------------------------- */

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
	bool json = false;
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
			if (strcmp(argv[i], "--json") == 0) {
				json = true;
			} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
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
	if (json) {
		int n = 0;
		fputs("{\"incidents\":[", stdout);
		rc = gw_db_incident_list(db, (int)limit, ctl_json_incident, &n);
		gw_db_close(db);
		if (rc < 0)
			return ctl_fail("%s: cannot read the call log: %s", dbpath, strerror(-rc));
		fputs("]}\n", stdout);
		return ctl_flush();
	}
	printf("%6s  %-23s  %-17s %-28s %-5s %-12s %5s  %s\n", "ID", "STARTED", "CALLER",
	       "CALLER NAME", "LINE", "OUTCOME", "CAUSE", "ACCEPTED BY");
	rc = gw_db_incident_list(db, (int)limit, ctl_print_incident_row, NULL);
	gw_db_close(db);
	if (rc < 0)
		return ctl_fail("%s: cannot read the call log: %s", dbpath, strerror(-rc));
	if (rc == 0)
		printf("(no incidents)\n");
	return 0;
}

/* ---- report -------------------------------------------------------------------------- */

static int ctl_report(const char *dbpath, int argc, char **argv)
{
	enum gw_report_format fmt = GW_REPORT_TEXT;
	struct gw_roster *names = NULL;
	struct gw_report *rep;
	struct gw_db *db;
	const char *month = NULL;
	int64_t from = INT64_MIN, to = INT64_MAX;
	long within = DEFAULT_WITHIN;
	int y, m, n = -1, rc;

	for (int i = 0; i < argc; i++) {
		bool is_to = strcmp(argv[i], "--to") == 0;
		if (strcmp(argv[i], "--month") == 0 && i + 1 < argc) {
			month = argv[++i];
		} else if ((is_to || strcmp(argv[i], "--from") == 0) && i + 1 < argc) {
			if (!ctl_parse_date(argv[++i], is_to, is_to ? &to : &from))
				return ctl_bad_usage("report: bad date '%s'", argv[i]);
		} else if (strcmp(argv[i], "--within") == 0 && i + 1 < argc) {
			if (!ctl_parse_int(argv[++i], 1, 86400, &within))
				return ctl_bad_usage("bad --within '%s' (1-86400 seconds)",
						     argv[i]);
		} else if (strcmp(argv[i], "--csv") == 0) {
			fmt = GW_REPORT_CSV;
		} else if (strcmp(argv[i], "--json") == 0) {
			fmt = GW_REPORT_JSON;
		} else {
			return ctl_bad_usage("report: unexpected '%s'", argv[i]);
		}
	}
	if (month && (from != INT64_MIN || to != INT64_MAX))
		return ctl_bad_usage("report: --month or --from/--to, not both");
	if (month) {
		if (sscanf(month, "%4d-%2d%n", &y, &m, &n) != 2 || n != 7 || month[n] || y < 1970 ||
		    m < 1 || m > 12)
			return ctl_bad_usage("report: bad month '%s' (YYYY-MM)", month);
		from = gw_roster_local_to_utc(y, m, 1, 0);
		to = gw_roster_local_to_utc(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1, 0);
	} else if (from == INT64_MIN || to == INT64_MAX) {
		return ctl_bad_usage("report: --month YYYY-MM, or --from D and --to D");
	} else if (from >= to) {
		return ctl_bad_usage("report: --from is not before --to");
	}
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	if (gw_roster_load(db, &names) < 0)
		names = NULL; /* names are a nicety: the figures come from the call log */
	rc = gw_report_build(db, from, to, (int64_t)within * 1000, &rep);
	gw_db_close(db);
	if (rc < 0) {
		gw_roster_free(names);
		return ctl_fail("%s: cannot read the call log: %s", dbpath, strerror(-rc));
	}
	rc = gw_report_write(rep, names, fmt, stdout);
	if (rc == 0 && !gw_report_balanced(rep))
		rc = ctl_fail("report: the check failed: %" PRId64
			      " incidents in the range, %" PRId64 " counted",
			      rep->in_range, gw_report_counted(rep));
	else if (rc == 0 && fmt == GW_REPORT_CSV)
		fprintf(stderr,
			"check: %" PRId64 " incidents in the range, %" PRId64 " counted: ok\n",
			rep->in_range, gw_report_counted(rep));
	gw_report_free(rep);
	gw_roster_free(names);
	if (rc < 0)
		return ctl_fail("report: write error: %s", strerror(-rc));
	return rc;
}

/* ---- retention ----------------------------------------------------------------------- */

static int ctl_retention(const char *dbpath, int argc, char **argv)
{
	int64_t removed = 0, now = (int64_t)time(NULL) * 1000;
	struct gw_db *db;
	long days = 0;
	char when[40];
	int rc;

	if (argc < 1 || strcmp(argv[0], "run") != 0)
		return ctl_bad_usage("usage: retention run --days N");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			if (!ctl_parse_int(argv[++i], 1, 36500, &days))
				return ctl_bad_usage("bad --days '%s' (1-36500)", argv[i]);
		} else {
			return ctl_bad_usage("retention run: unexpected '%s'", argv[i]);
		}
	}
	if (!days)
		return ctl_bad_usage("retention run: --days N is required");
	if ((rc = ctl_direct(dbpath)) != 0)
		return rc;
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_db_retention_run(db, now, (int)days, &removed);
	int64_t recs = 0;
	int rrc = rc < 0 ? 0 : gw_db_recording_retention(db, now, (int)days, &recs);
	gw_db_close(db);
	if (rc == -EBUSY)
		return ctl_fail("%s: call-log records still wait in the spool; run it again when "
				"rinkid has written them",
				dbpath);
	if (rc < 0)
		return ctl_fail("%s: retention failed, nothing removed: %s", dbpath, strerror(-rc));
	printf("removed %" PRId64 " message bod%s older than %ld days (before %s)\n", removed,
	       removed == 1 ? "y" : "ies", days,
	       ctl_local_time(now - days * 86400000LL, false, when, sizeof(when)));
	if (rrc < 0)
		return ctl_fail("%s: recordings not removed: %s", dbpath, strerror(-rrc));
	printf("removed %" PRId64 " recording%s\n", recs, recs == 1 ? "" : "s");
	return ctl_flush();
}

/* ---- roster and directory ------------------------------------------------------------ */

/* Read the whole roster of dbpath into *d. 0, or the exit status after the message. */
static int ctl_read_roster(const char *dbpath, struct gw_db_roster *d)
{
	struct gw_db *db;
	int rc;

	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_db_roster_read(db, d);
	gw_db_close(db);
	if (rc < 0)
		return ctl_fail("%s: cannot read the roster: %s", dbpath, strerror(-rc));
	return 0;
}

/*
 * Open file for writing an export: never through a symlink (O_NOFOLLOW), only a regular
 * file, emptied only once it is known to be one. NULL with errno set on failure.
 */
static FILE *open_export(const char *file)
{
	struct stat st;
	int fd =
	    open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd < 0)
		return NULL;
	int err = fstat(fd, &st) < 0	 ? errno
		  : !S_ISREG(st.st_mode) ? EINVAL /* a device, a FIFO: not an export file */
		  : ftruncate(fd, 0) < 0 ? errno
					 : 0;
	if (err) {
		close(fd);
		errno = err;
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		err = errno;
		close(fd);
		errno = err;
	}
	return f;
}

static int ctl_roster_export(const char *dbpath, const char *file)
{
	struct gw_db_roster d;
	FILE *f = stdout;
	int rc;

	if ((rc = ctl_read_roster(dbpath, &d)) != 0)
		return rc;
	if (file && !(f = open_export(file))) {
		rc = -errno;
		gw_db_roster_clear(&d);
		return ctl_fail("%s: %s", file, strerror(-rc));
	}
	rc = gw_roster_write_csv(&d, f);
	if (file && fclose(f) != 0 && rc == 0)
		rc = -errno;
	gw_db_roster_clear(&d);
	if (rc < 0)
		return ctl_fail("%s: cannot write: %s", file ? file : "stdout", strerror(-rc));
	return 0;
}

/*
 * A roster listing (gw_roster_list: "workers", "overrides", "temp_rosters") as a table or
 * JSON on stdout.
 */
static int ctl_roster_listing(const char *dbpath, const char *name, bool json)
{
	struct gw_db_roster d;
	int rc;

	if ((rc = ctl_read_roster(dbpath, &d)) != 0)
		return rc;
	rc = gw_roster_list(&d, name, json, stdout);
	gw_db_roster_clear(&d);
	if (rc < 0)
		return ctl_fail("listing %s: %s", name, strerror(-rc));
	return ctl_flush();
}

/* What an import did with one manual change (rinkictl's overrides, disables, workers). */
static void ctl_manual_change(enum gw_db_manual_fate fate, const char *what, void *arg)
{
	static const char *const says[] = {
	    [GW_DB_MANUAL_KEPT] = "kept manual change",
	    [GW_DB_MANUAL_IN_BASE] = "in the imported roster now (manual copy removed)",
	    [GW_DB_MANUAL_CONFLICT] = "would drop manual change",
	    [GW_DB_MANUAL_DROPPED] = "dropped manual change",
	};
	(void)arg;
	fprintf(fate == GW_DB_MANUAL_CONFLICT ? stderr : stdout, "%s: %s\n", says[fate], what);
}

static int ctl_roster(const char *dbpath, int argc, char **argv)
{
	struct gw_roster_counts c;
	struct gw_db *db;
	int errors = 0, rc;
	bool print_cov = false;

	if (argc >= 1 && strcmp(argv[0], "export") == 0) {
		if (argc > 2)
			return ctl_bad_usage("usage: roster export [FILE]");
		return ctl_roster_export(dbpath, argc == 2 ? argv[1] : NULL);
	}
	if (argc >= 1 && strcmp(argv[0], "temp") == 0) {
		if (argc == 1 || (argc == 2 && strcmp(argv[1], "--json") == 0))
			return ctl_roster_listing(dbpath, "temp_rosters", argc == 2);
		return ctl_bad_usage("usage: roster temp [--json]");
	}
	if (argc >= 1 && strcmp(argv[0], "check") == 0)
		return ctl_roster_check_main(dbpath, argc, argv);
	if (argc >= 1 && strcmp(argv[0], "ics") == 0)
		return ctl_roster_ics_main(dbpath, argc, argv);
	bool replace = false, preview = false;
	long days = DEFAULT_CHECK_DAYS;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--replace") == 0)
			replace = true;
		else if (strcmp(argv[i], "--preview") == 0)
			preview = true;
		else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc &&
			 ctl_parse_int(argv[i + 1], 1, 366, &days))
			i++;
		else
			argc = 0; /* usage below */
	}
	if (argc < 2 || strcmp(argv[0], "import") != 0)
		return ctl_bad_usage(
		    "usage: roster import FILE [--replace] [--preview] [--days N] | roster "
		    "export [FILE] | roster temp | roster check [--days N]");
	int fd = open(argv[1], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ctl_fail("%s: %s", argv[1], strerror(errno));
	char final[RINKI_CTL_REPLY_MAX];
	rc = ctl_change(preview	  ? "roster-import mode=preview"
			: replace ? "roster-import mode=apply replace=1"
				  : "roster-import mode=apply",
			fd, final, sizeof(final));
	close(fd);
	if (rc != NOT_RUNNING) {
		if (rc != 0)
			return rc;
		printf("%s %s through rinkid: %s lines, %s workers, %s shifts, %s rotations, "
		       "%s overrides (was %s lines, %s workers)%s\n",
		       preview ? "checked" : "imported", argv[1], ok_value(final, "lines"),
		       ok_value(final, "workers"), ok_value(final, "shifts"),
		       ok_value(final, "rotations"), ok_value(final, "overrides"),
		       ok_value(final, "was_lines"), ok_value(final, "was_workers"),
		       strcmp(ok_value(final, "errors"), "0") != 0 ? " -- has errors" : "");
		if (preview)
			return strcmp(ok_value(final, "errors"), "0") == 0 &&
				       strcmp(ok_value(final, "conflicts"), "0") == 0
				   ? 0
				   : 1;
		return ctl_flush();
	}
	if (preview)
		return ctl_fail("roster import --preview needs a running rinkid (%s)",
				ctl_socket_path);
	if ((rc = ctl_direct(dbpath)) != 0)
		return rc;
	if ((rc = ctl_open(dbpath, 0, &db)) != 0)
		return rc;
	rc = gw_roster_import(db, argv[1], replace ? GW_DB_IMPORT_REPLACE : 0, ctl_csv_error,
			      ctl_manual_change, &errors, &c);
	if (rc == 0)
		print_cov = true;
	gw_db_close(db);
	if (rc == -ECANCELED)
		return ctl_fail("%s: nothing imported: the manual changes above name workers or "
				"lines %s lacks; put them in the file, or import with --replace "
				"to drop them",
				argv[1], argv[1]);
	if (rc < 0 && errors)
		return ctl_fail("%s: %d error%s, nothing imported", argv[1], errors,
				errors == 1 ? "" : "s");
	if (rc < 0)
		return ctl_fail("%s: import failed, nothing imported: %s", argv[1], strerror(-rc));
	printf("imported %s into %s: %zu lines, %zu workers, %zu shifts, %zu rotations, "
	       "%zu overrides, %zu chain steps, %zu routes, %zu directory entries, %zu "
	       "holidays\n",
	       argv[1], dbpath, c.lines, c.workers, c.shifts, c.rotations, c.overrides, c.steps,
	       c.routes, c.dirs, c.holidays);
	/* The roster is in; what it covers is news, not a failure of the import. */
	if (print_cov && (rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) == 0) {
		rc =
		    ctl_roster_coverage(db, dbpath, (int64_t)time(NULL) / 60 * 60000, days, stdout);
		gw_db_close(db);
		return rc < 0 ? 1 : ctl_flush();
	}
	return rc == 0 ? 0 : 1;
}

static int ctl_directory(const char *dbpath, int argc, char **argv)
{
	struct gw_db *db;
	int errors = 0, rc;
	size_t n = 0;

	if (argc != 2 || strcmp(argv[0], "import") != 0)
		return ctl_bad_usage("usage: directory import FILE");
	/* through rinkid when it runs: it reads the file (sent as a descriptor) and logs who */
	int fd = open(argv[1], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ctl_fail("%s: %s", argv[1], strerror(errno));
	char final[RINKI_CTL_REPLY_MAX];
	rc = ctl_change("directory-import", fd, final, sizeof(final));
	close(fd);
	if (rc == 0) {
		printf("imported %s directory entr%s from %s through rinkid (was %s)\n",
		       ok_value(final, "entries"),
		       strcmp(ok_value(final, "entries"), "1") == 0 ? "y" : "ies", argv[1],
		       ok_value(final, "was_entries"));
		return ctl_flush();
	}
	if (rc != NOT_RUNNING)
		return rc;
	if ((rc = ctl_direct(dbpath)) != 0)
		return rc;
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_roster_import_directory_file(db, argv[1], ctl_csv_error, &errors, &n);
	gw_db_close(db);
	if (rc < 0 && errors)
		return ctl_fail("%s: %d error%s, nothing imported", argv[1], errors,
				errors == 1 ? "" : "s");
	if (rc < 0)
		return ctl_fail("%s: import failed, nothing imported: %s", argv[1], strerror(-rc));
	printf("imported %zu directory entr%s from %s\n", n, n == 1 ? "y" : "ies", argv[1]);
	return 0;
}

/* ---- workers ------------------------------------------------------------------------- */

/* Read one line into buf without its newline; on a terminal without echo. 0 or -1 (EOF). */
static int ctl_read_secret(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	int rc = 0;

	if (tty) {
		fputs(prompt, stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (!fgets(buf, (int)len, stdin))
		rc = -1;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return rc;
}

/* worker pin HANDLE: the PIN from the terminal (twice) or one stdin line, hashed here. */
static int ctl_worker_pin(const char *dbpath, const char *handle)
{
	char pin[64] = "", again[64] = "", hash[GW_ROSTER_PIN_HASH_MAX];
	struct gw_db *db;
	int rc;

	if (ctl_read_secret("PIN (4-8 digits): ", pin, sizeof(pin)) < 0)
		return ctl_fail("worker pin: no PIN given");
	if (!gw_roster_pin_ok(pin)) {
		explicit_bzero(pin, sizeof(pin));
		return ctl_fail("worker pin: a PIN is 4-8 digits");
	}
	if (isatty(STDIN_FILENO) &&
	    (ctl_read_secret("again: ", again, sizeof(again)) < 0 || strcmp(pin, again) != 0)) {
		explicit_bzero(pin, sizeof(pin));
		explicit_bzero(again, sizeof(again));
		return ctl_fail("worker pin: the two PINs differ");
	}
	/* through rinkid, which hashes it with its pepper and logs who set it (not the PIN) */
	char line[RINKI_CTL_REQ_MAX] = "worker-set", final[RINKI_CTL_REPLY_MAX];
	if (!put_arg(line, sizeof(line), "worker", handle) ||
	    !put_arg(line, sizeof(line), "pin", pin))
		rc = ctl_bad_usage("worker pin: handle too long");
	else
		rc = ctl_change(line, -1, final, sizeof(final));
	explicit_bzero(line, sizeof(line));
	if (rc == 0)
		printf("PIN of worker %s set\n", handle);
	if (rc != NOT_RUNNING) {
		explicit_bzero(pin, sizeof(pin));
		explicit_bzero(again, sizeof(again));
		return rc;
	}
	char pepper[PATH_MAX];
	snprintf(pepper, sizeof(pepper), "%s.pepper", dbpath);
	if ((rc = ctl_direct(dbpath)) != 0 || (rc = gw_roster_pepper_load(pepper, true)) < 0) {
		explicit_bzero(pin, sizeof(pin));
		explicit_bzero(again, sizeof(again));
		return rc > 0
			   ? rc
			   : ctl_fail("%s: cannot read the PIN pepper: %s", pepper, strerror(-rc));
	}
	rc = gw_roster_hash_pin(pin, hash);
	explicit_bzero(pin, sizeof(pin));
	explicit_bzero(again, sizeof(again));
	if (rc < 0)
		return ctl_fail("worker pin: cannot hash the PIN: %s", strerror(-rc));
	if ((rc = ctl_direct(dbpath)) != 0)
		return rc;
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_db_worker_set_pin(db, handle, hash);
	gw_db_close(db);
	if (rc == -ENOENT) {
		ctl_fail("no worker '%s'", handle);
		return EXIT_NOT_FOUND;
	}
	if (rc < 0)
		return ctl_fail("%s: cannot set the PIN of %s: %s", dbpath, handle, strerror(-rc));
	printf("PIN of worker %s set\n", handle);
	return 0;
}

/* worker set HANDLE [--lang fi|sv|en] [--phone NUMBER]: through rinkid, else directly. */
static int ctl_worker_set(const char *dbpath, int argc, char **argv)
{
	const char *lang = NULL, *phone = NULL;
	char e164[GW_E164_MAX], what[96];
	struct gw_db *db;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
			lang = argv[++i];
		else if (strcmp(argv[i], "--phone") == 0 && i + 1 < argc)
			phone = argv[++i];
		else
			return ctl_bad_usage("usage: worker set HANDLE [--lang fi|sv|en] "
					     "[--phone NUMBER]");
	}
	if (argc < 2 || (!lang && !phone))
		return ctl_bad_usage("usage: worker set HANDLE [--lang fi|sv|en] [--phone NUMBER]");
	if (lang && strcmp(lang, "fi") != 0 && strcmp(lang, "sv") != 0 && strcmp(lang, "en") != 0)
		return ctl_bad_usage("worker set: --lang is fi, sv or en");
	if (phone && gw_e164_canon(phone, e164) < 0)
		return ctl_bad_usage("worker set: --phone %s is no phone number", phone);
	snprintf(what, sizeof(what), "%s%s%s%s%s", phone ? "phone " : "", phone ? e164 : "",
		 phone && lang ? ", " : "", lang ? "language " : "", lang ? lang : "");

	char line[RINKI_CTL_REQ_MAX] = "worker-set", final[RINKI_CTL_REPLY_MAX];
	if (!put_arg(line, sizeof(line), "worker", argv[1]))
		return ctl_bad_usage("worker set: handle too long");
	if (lang)
		put_arg(line, sizeof(line), "lang", lang);
	if (phone)
		put_arg(line, sizeof(line), "phone", e164);
	rc = ctl_change(line, -1, final, sizeof(final));
	if (rc == 0)
		printf("worker %s: %s\n", argv[1], what);
	if (rc != NOT_RUNNING)
		return rc;
	if ((rc = ctl_direct(dbpath)) != 0)
		return rc;
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_db_worker_set_details(db, argv[1], phone ? e164 : NULL, lang);
	gw_db_close(db);
	if (rc == -ENOENT) {
		ctl_fail("no worker '%s'", argv[1]);
		return EXIT_NOT_FOUND;
	}
	if (rc < 0)
		return ctl_fail("%s: cannot change worker %s: %s", dbpath, argv[1], strerror(-rc));
	printf("worker %s: %s\n", argv[1], what);
	return 0;
}

static int ctl_worker(const char *dbpath, int argc, char **argv)
{
	struct gw_db *db;
	char why[160];
	int rc;

	if (argc >= 1 && strcmp(argv[0], "list") == 0) {
		if (argc == 1 || (argc == 2 && strcmp(argv[1], "--json") == 0))
			return ctl_roster_listing(dbpath, "workers", argc == 2);
		return ctl_bad_usage("usage: worker list [--json]");
	}
	if (argc >= 1 && (strcmp(argv[0], "disable") == 0 || strcmp(argv[0], "enable") == 0)) {
		bool enable = argv[0][0] == 'e';
		if (argc != 2)
			return ctl_bad_usage("usage: worker %s HANDLE", argv[0]);
		char line[RINKI_CTL_REQ_MAX] = "worker-set", final[RINKI_CTL_REPLY_MAX];
		if (!put_arg(line, sizeof(line), "worker", argv[1]))
			return ctl_bad_usage("worker %s: handle too long", argv[0]);
		put_arg(line, sizeof(line), "disabled", enable ? "0" : "1");
		rc = ctl_change(line, -1, final, sizeof(final));
		if (rc == 0)
			printf("worker %s %s\n", argv[1],
			       enable ? "enabled" : "disabled (never rung)");
		if (rc != NOT_RUNNING)
			return rc;
		if ((rc = ctl_direct(dbpath)) != 0)
			return rc;
		if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
			return rc;
		rc = gw_db_worker_set_active(db, argv[1], enable);
		gw_db_close(db);
		if (rc == -ENOENT) {
			ctl_fail("no worker '%s'", argv[1]);
			return EXIT_NOT_FOUND;
		}
		if (rc < 0)
			return ctl_fail("%s: cannot change worker %s: %s", dbpath, argv[1],
					strerror(-rc));
		printf("worker %s %s\n", argv[1], enable ? "enabled" : "disabled (never rung)");
		return 0;
	}
	if (argc >= 1 && strcmp(argv[0], "set") == 0)
		return ctl_worker_set(dbpath, argc, argv);
	if (argc >= 1 && strcmp(argv[0], "pin") == 0) {
		if (argc != 2)
			return ctl_bad_usage("usage: worker pin HANDLE");
		return ctl_worker_pin(dbpath, argv[1]);
	}
	if (argc >= 1 && strcmp(argv[0], "pin-reset") == 0) {
		char line[RINKI_CTL_REQ_MAX] = "worker-set", final[RINKI_CTL_REPLY_MAX];
		if (argc != 2)
			return ctl_bad_usage("usage: worker pin-reset HANDLE");
		if (!put_arg(line, sizeof(line), "worker", argv[1]))
			return ctl_bad_usage("worker pin-reset: handle too long");
		put_arg(line, sizeof(line), "pin_reset", "1");
		rc = ctl_change(line, -1, final, sizeof(final));
		if (rc == 0)
			printf("PIN of worker %s reset\n", argv[1]);
		if (rc != NOT_RUNNING)
			return rc;
		if ((rc = ctl_direct(dbpath)) != 0)
			return rc;
		if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
			return rc;
		rc = gw_db_worker_clear_pin(db, argv[1]);
		gw_db_close(db);
		if (rc == -ENOENT) {
			ctl_fail("no worker '%s'", argv[1]);
			return EXIT_NOT_FOUND;
		}
		if (rc < 0)
			return ctl_fail("%s: cannot reset the PIN of %s: %s", dbpath, argv[1],
					strerror(-rc));
		printf("PIN of worker %s reset\n", argv[1]);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "add") != 0)
		return ctl_bad_usage("usage: worker add|list|set|pin|pin-reset|disable|enable ...");
	struct gw_db_worker w = {.active = true};
	char issi[32] = "";
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--issi") == 0 && i + 1 < argc) {
			snprintf(issi, sizeof(issi), "%s", argv[++i]);
			w.issi = issi;
		} else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
			w.lang = argv[++i];
		} else if (strcmp(argv[i], "--inactive") == 0) {
			w.active = false;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			return ctl_bad_usage("worker add: unknown option '%s'", argv[i]);
		} else if (pos < 3) {
			char **slot[] = {&w.handle, &w.name, &w.phone};
			*slot[pos++] = argv[i];
		} else {
			return ctl_bad_usage("worker add: unexpected '%s'", argv[i]);
		}
	}
	if (pos != 3)
		return ctl_bad_usage("usage: worker add HANDLE NAME PHONE [--issi ISSI] "
				     "[--lang fi|sv|en] [--inactive]");
	if (gw_roster_check_worker(&w, why, sizeof(why)) < 0)
		return ctl_bad_usage("worker add: %s", why);
	if (w.issi && !*w.issi)
		w.issi = NULL;
	/* through rinkid when it runs: it checks, adds and logs who */
	char line[RINKI_CTL_REQ_MAX] = "worker-add", final[RINKI_CTL_REPLY_MAX];
	if (!put_arg(line, sizeof(line), "worker", w.handle) ||
	    !put_arg(line, sizeof(line), "name", w.name) ||
	    !put_arg(line, sizeof(line), "phone", w.phone) ||
	    (w.issi && !put_arg(line, sizeof(line), "issi", w.issi)) ||
	    (w.lang && !put_arg(line, sizeof(line), "lang", w.lang)) ||
	    (!w.active && !put_arg(line, sizeof(line), "disabled", "1")))
		return ctl_bad_usage("worker add: too long for one request");
	rc = ctl_change(line, -1, final, sizeof(final));
	if (rc == 0) {
		printf("worker %s added\n", w.handle);
		return ctl_flush();
	}
	if (rc != NOT_RUNNING)
		return rc;
	if ((rc = ctl_direct(dbpath)) != 0)
		return rc;
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_db_worker_add(db, &w);
	gw_db_close(db);
	if (rc == -EEXIST)
		return ctl_fail("worker '%s' exists already", w.handle);
	if (rc < 0)
		return ctl_fail("%s: cannot add worker %s: %s", dbpath, w.handle, strerror(-rc));
	printf("worker %s added\n", w.handle);
	return 0;
}

/* ---- overrides ----------------------------------------------------------------------- */

static int ctl_override(const char *dbpath, int argc, char **argv)
{
	struct gw_db_override o = {0};
	const char *from_s = "", *to_s = "";
	struct gw_db *db;
	char why[160];
	int64_t id;
	long v;
	int rc;

	if (argc >= 1 && strcmp(argv[0], "list") == 0) {
		if (argc == 1 || (argc == 2 && strcmp(argv[1], "--json") == 0))
			return ctl_roster_listing(dbpath, "overrides", argc == 2);
		return ctl_bad_usage("usage: override list [--json]");
	}
	if (argc >= 1 && strcmp(argv[0], "remove") == 0) {
		if (argc != 2 || !ctl_parse_int(argv[1], 1, LONG_MAX, &v))
			return ctl_bad_usage("usage: override remove ID");
		char line[RINKI_CTL_REQ_MAX], final[RINKI_CTL_REPLY_MAX];
		snprintf(line, sizeof(line), "override-del id=%ld", v);
		rc = ctl_change(line, -1, final, sizeof(final));
		if (rc == 0)
			printf("override %ld removed\n", v);
		if (rc != NOT_RUNNING)
			return rc;
		if ((rc = ctl_direct(dbpath)) != 0)
			return rc;
		if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
			return rc;
		rc = gw_db_override_remove(db, v);
		gw_db_close(db);
		if (rc == -ENOENT) {
			ctl_fail("no override %ld", v);
			return EXIT_NOT_FOUND;
		}
		if (rc < 0)
			return ctl_fail("%s: cannot remove override %ld: %s", dbpath, v,
					strerror(-rc));
		printf("override %ld removed\n", v);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "add") != 0)
		return ctl_bad_usage("usage: override add|list|remove ...");
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--line") == 0 && i + 1 < argc) {
			o.line = argv[++i];
		} else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
			o.by = argv[++i];
		} else if (strcmp(argv[i], "--position") == 0 && i + 1 < argc) {
			if (!ctl_parse_int(argv[++i], 1, 99, &v))
				return ctl_bad_usage("bad --position '%s' (1-99)", argv[i]);
			o.position = (int)v;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			return ctl_bad_usage("override add: unknown option '%s'", argv[i]);
		} else if (pos == 0) {
			o.kind = argv[i];
			pos++;
		} else if (pos == 1) {
			o.worker = argv[i];
			pos++;
		} else if (pos == 2 || pos == 3) {
			*(pos == 2 ? &from_s : &to_s) = argv[i];
			if (!ctl_parse_date(argv[i], pos == 3, pos == 2 ? &o.start_ms : &o.end_ms))
				return ctl_bad_usage(
				    "bad time '%s' (TIME with a zone, or YYYY-MM-DD)", argv[i]);
			pos++;
		} else {
			return ctl_bad_usage("override add: unexpected '%s'", argv[i]);
		}
	}
	if (pos != 4)
		return ctl_bad_usage("usage: override add KIND WORKER FROM TO [--line L] [--by B] "
				     "[--position N]");
	if (o.kind && strcmp(o.kind, "add") == 0 && !o.position)
		o.position = 1; /* an extra person rings first unless told otherwise */
	if (gw_roster_check_override(&o, why, sizeof(why)) < 0)
		return ctl_bad_usage("override add: %s", why);
	char line[RINKI_CTL_REQ_MAX] = "override-add", final[RINKI_CTL_REPLY_MAX], pos_s[8];
	bool fits = put_arg(line, sizeof(line), "kind", o.kind) &&
		    put_arg(line, sizeof(line), "worker", o.worker) &&
		    put_arg(line, sizeof(line), "from", from_s) &&
		    put_arg(line, sizeof(line), "to", to_s) &&
		    (!o.line || put_arg(line, sizeof(line), "line", o.line)) &&
		    (!o.by || put_arg(line, sizeof(line), "by_worker", o.by));
	if (fits && o.position) {
		snprintf(pos_s, sizeof(pos_s), "%d", o.position);
		fits = put_arg(line, sizeof(line), "position", pos_s);
	}
	if (!fits)
		return ctl_bad_usage("override add: arguments too long");
	rc = ctl_change(line, -1, final, sizeof(final));
	if (rc == 0)
		printf("override %s added\n", ok_value(final, "id"));
	if (rc != NOT_RUNNING)
		return rc;
	if ((rc = ctl_direct(dbpath)) != 0)
		return rc;
	if ((rc = ctl_open(dbpath, GW_DB_NOCREATE, &db)) != 0)
		return rc;
	rc = gw_db_override_add(db, &o, &id);
	gw_db_close(db);
	if (rc == -ENOENT) {
		ctl_fail("override add: unknown worker or line (%s%s%s%s%s)", o.worker,
			 o.by ? ", " : "", o.by ? o.by : "", o.line ? ", line " : "",
			 o.line ? o.line : "");
		return EXIT_NOT_FOUND;
	}
	if (rc < 0)
		return ctl_fail("%s: cannot add the override: %s", dbpath, strerror(-rc));
	printf("override %" PRId64 " added\n", id);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const char *dbpath, int argc, char **argv);
	} cmds[] = {
	    {"oncall", ctl_oncall},	  {"log", ctl_log},	      {"report", ctl_report},
	    {"retention", ctl_retention}, {"roster", ctl_roster},     {"directory", ctl_directory},
	    {"worker", ctl_worker},	  {"override", ctl_override}, {"config", ctl_config_main},
	    {"probe", ctl_probe_main},	  {"user", ctl_user_main},
	};
	const char *dbpath = getenv("RINKI_DB");
	const char *socket_path = NULL, *conf_path = DEFAULT_CONF;
	bool conf_given = false;
	int i = 1;

	if (!dbpath || !*dbpath)
		dbpath = DEFAULT_DB;
	gw_log_init(prog, false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			dbpath = argv[++i];
		} else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf_path = argv[++i];
			conf_given = true;
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
	if (strcmp(cmd, "help") == 0) {
		if (i == argc) {
			ctl_usage(stdout);
			return 0;
		}
		return ctl_command_help(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
	}
	if (strcmp(cmd, "config") != 0 && load_zone(conf_path, conf_given) != 0)
		return 1;
	const char *env_sock = getenv(RINKI_CTL_SOCKET_ENV);
	if (socket_path)
		ctl_socket_path = socket_path;
	else if (env_sock && *env_sock)
		ctl_socket_path = env_sock;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "page-test") == 0 ||
	    strcmp(cmd, "sds") == 0 || strcmp(cmd, "events-sync") == 0)
		return ctl_status_main(socket_path, argc - i + 1, argv + i - 1);
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (strcmp(cmd, cmds[k].name) != 0)
			continue;
		if (ctl_wants_help(argc - i, argv + i))
			return ctl_command_help(cmd,
						i < argc && argv[i][0] != '-' ? argv[i] : NULL);
		return cmds[k].fn(dbpath, argc - i, argv + i);
	}
	return ctl_bad_usage("unknown command '%s'", cmd);
}
