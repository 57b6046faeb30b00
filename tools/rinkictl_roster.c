/*
 * rinkictl_roster: "rinkictl roster check" (every coverage gap of the next N days, or
 * "covered") and "rinkictl roster ics" (the duty as an iCalendar file), and the coverage
 * report that "roster import" ends with. Everything comes from the roster snapshot
 * (gw_roster_gaps, gw_roster_write_ics); times are printed as Helsinki wall clock with
 * their offset, the way roster files write them.
 */
#include "store/db.h"
#include "store/roster.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE	   2
#define EXIT_NOT_FOUND	   3
#define DEFAULT_CHECK_DAYS 14

int ctl_roster_check_main(const char *dbpath, int argc, char **argv);
int ctl_roster_ics_main(const char *dbpath, int argc, char **argv);
int ctl_roster_coverage(struct gw_db *db, const char *dbpath, int64_t from_ms, long days,
			FILE *out);

__attribute__((format(printf, 1, 2))) static int rfail(const char *fmt, ...)
{
	va_list ap;

	fputs("rinkictl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

__attribute__((format(printf, 1, 2))) static int rusage(const char *fmt, ...)
{
	va_list ap;

	fputs("rinkictl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(rinkictl roster --help lists the roster commands)\n", stderr);
	return EXIT_USAGE;
}

static bool parse_int(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s && !*end && !errno && *v >= min && *v <= max;
}

/* --from: a roster time (Helsinki wall clock, or with a zone) or a local date. */
static bool parse_from(const char *s, int64_t *ms)
{
	char why[240], iso[32];

	if (gw_roster_parse_local_time(s, ms, why, sizeof(why)) == 0)
		return true;
	if (strlen(s) != 10)
		return false;
	snprintf(iso, sizeof(iso), "%sT00:00", s);
	return gw_roster_parse_local_time(iso, ms, why, sizeof(why)) == 0;
}

static int open_db(const char *path, struct gw_db **db)
{
	int rc = gw_db_open_flags(path, GW_DB_NOCREATE, db);

	if (rc == -ENOENT)
		return rfail("%s: no such database (import a roster to create it)", path);
	if (rc < 0)
		return rfail("%s: cannot open: %s", path, strerror(-rc));
	return 0;
}

static int flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return rfail("writing the output: %s", strerror(errno ? errno : EIO));
	return 0;
}

/* ---- coverage ------------------------------------------------------------------------ */

struct ctl_gaps {
	int n;
	FILE *out;
};

static void ctl_gap(const struct gw_roster_gap *g, void *arg)
{
	struct ctl_gaps *x = arg;
	char a[48], b[48];
	int64_t min = (g->to_ms - g->from_ms) / 60000;

	gw_roster_format_time(g->from_ms, a, sizeof(a));
	gw_roster_format_time(g->to_ms, b, sizeof(b));
	if (x->n++ == 0)
		fprintf(x->out, "%-6s %-25s %-25s %9s  %s\n", "LINE", "FROM", "TO", "LENGTH",
			"WHO IS PAGED");
	fprintf(x->out, "%-6s %-25s %-25s %6" PRId64 ":%02d  %s%s\n", g->line, a, b, min / 60,
		(int)(min % 60), g->fallback ? "only the fallback " : "nobody",
		g->fallback ? g->fallback : "");
}

static void ctl_holiday(const char *date, const char *name, void *arg)
{
	fprintf(arg, "  %s  %s\n", date, name);
}

/*
 * Every gap of the roster in db from from_ms for days days, printed to out; "covered"
 * when there is none; then the holidays of the range (after hours all day). Returns the
 * number of gaps, or -1 after an error message.
 */
int ctl_roster_coverage(struct gw_db *db, const char *dbpath, int64_t from_ms, long days, FILE *out)
{
	struct ctl_gaps x = {.out = out};
	struct gw_roster *r;
	char a[48], b[48];
	int64_t to_ms = from_ms + days * 86400000LL;
	int rc = gw_roster_load_at(db, from_ms, &r);

	if (rc < 0) {
		rfail("%s: cannot read the roster: %s", dbpath, strerror(-rc));
		return -1;
	}
	gw_roster_format_time(from_ms, a, sizeof(a));
	gw_roster_format_time(to_ms, b, sizeof(b));
	rc = gw_roster_gaps(r, from_ms, to_ms, ctl_gap, &x);
	if (rc < 0) {
		gw_roster_free(r);
		rfail("coverage check: %s", strerror(-rc));
		return -1;
	}
	if (rc == 0)
		fprintf(out, "covered: every line has someone on duty from %s to %s (%ld days)\n",
			a, b, days);
	else
		fprintf(
		    out,
		    "%d gap%s from %s to %s (%ld days): a call to the line then finds nobody on "
		    "duty\n",
		    rc, rc == 1 ? "" : "s", a, b, days);
	fprintf(out, "holidays (after hours all day):\n");
	if (gw_roster_holidays(r, from_ms, to_ms, ctl_holiday, out) == 0)
		fprintf(out, "  none\n");
	gw_roster_free(r);
	return rc;
}

/* roster check [--days N] [--from TIME]: exit 0 covered, 1 gaps. */
int ctl_roster_check_main(const char *dbpath, int argc, char **argv)
{
	int64_t from = (int64_t)time(NULL) / 60 * 60000; /* now, to the minute */
	long days = DEFAULT_CHECK_DAYS;
	struct gw_db *db;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			if (!parse_int(argv[++i], 1, 366, &days))
				return rusage("bad --days '%s' (1-366)", argv[i]);
		} else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			if (!parse_from(argv[++i], &from))
				return rusage("bad --from '%s'", argv[i]);
		} else {
			return rusage("usage: roster check [--days N] [--from TIME]");
		}
	}
	if ((rc = open_db(dbpath, &db)) != 0)
		return rc;
	rc = ctl_roster_coverage(db, dbpath, from, days, stdout);
	gw_db_close(db);
	if (rc < 0)
		return 1;
	return flush() != 0 ? 1 : rc > 0;
}

/*
 * roster ics [--worker H] [--line L] [--from D] [--days N] [FILE]: the duty as iCalendar.
 * The file is created new or truncated, not followed through a symlink.
 */
int ctl_roster_ics_main(const char *dbpath, int argc, char **argv)
{
	const char *handle = NULL, *line = NULL, *file = NULL;
	int64_t from = (int64_t)time(NULL) / 60 * 60000;
	long days = 31;
	struct gw_roster *r;
	struct gw_db *db;
	FILE *f = stdout;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--worker") == 0 && i + 1 < argc) {
			handle = argv[++i];
		} else if (strcmp(argv[i], "--line") == 0 && i + 1 < argc) {
			line = argv[++i];
		} else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			if (!parse_int(argv[++i], 1, 366, &days))
				return rusage("bad --days '%s' (1-366)", argv[i]);
		} else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			if (!parse_from(argv[++i], &from))
				return rusage("bad --from '%s'", argv[i]);
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			return rusage("usage: roster ics [--worker H] [--line L] [--from D] "
				      "[--days N] [FILE]");
		}
	}
	if ((rc = open_db(dbpath, &db)) != 0)
		return rc;
	rc = gw_roster_load_at(db, from, &r);
	gw_db_close(db);
	if (rc < 0)
		return rfail("%s: cannot read the roster: %s", dbpath, strerror(-rc));
	if (line && !gw_roster_line_name(r, line)) {
		gw_roster_free(r);
		rfail("no line '%s'", line);
		return EXIT_NOT_FOUND;
	}
	if (handle && !gw_roster_worker_name(r, handle)) {
		gw_roster_free(r);
		rfail("no worker '%s'", handle);
		return EXIT_NOT_FOUND;
	}
	if (file) {
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			rc = -errno;
			if (fd >= 0)
				close(fd);
			gw_roster_free(r);
			return rfail("%s: %s", file, strerror(-rc));
		}
	}
	rc = gw_roster_write_ics(r, handle, line, from, from + days * 86400000LL,
				 (int64_t)time(NULL) * 1000, f);
	if (file && fclose(f) != 0 && rc >= 0)
		rc = -errno;
	gw_roster_free(r);
	if (rc < 0)
		return rfail("%s: cannot write the calendar: %s", file ? file : "stdout",
			     strerror(-rc));
	if (file)
		printf("%s: %d event%s\n", file, rc, rc == 1 ? "" : "s");
	return file ? flush() : 0;
}
