/*
 * sync_util: the helpers the county-sync tests and benches share (see sync_util.h): clocks,
 * the county and local counts, the exactly-once row comparison, rinki-sync as a child
 * process, its status file, configuration files. One copy, so that every test compares
 * the county with the local log the same way.
 */
#include "sync_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 20

int64_t su_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t su_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void su_pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int su_rm_rf(const char *dir)
{
	char *argv[] = {"rm", "-rf", (char *)dir, NULL};
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

PGconn *su_conn(PGconn **pg, const char *conninfo)
{
	if (!*pg || PQstatus(*pg) != CONNECTION_OK) {
		PQfinish(*pg);
		*pg = PQconnectdb(conninfo);
	}
	return *pg;
}

int su_county_up(struct pg_rig *r, PGconn **pg)
{
	if (pg_rig_start(r) < 0)
		return -1;
	return PQstatus(su_conn(pg, r->conninfo)) == CONNECTION_OK ? 0 : -1;
}

void su_county_down(struct pg_rig *r, PGconn **pg)
{
	PQfinish(*pg);
	*pg = NULL;
	pg_rig_fini(r);
}

int64_t su_q_i64(PGconn *pg, const char *sql, const char *param)
{
	const char *v[] = {param};
	PGresult *res = PQexecParams(pg, sql, param ? 1 : 0, NULL, v, NULL, NULL, 0);
	int64_t n = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return n;
}

int64_t su_county_count(PGconn *pg, const char *gw)
{
	return su_q_i64(pg, "SELECT count(*) FROM call_events WHERE gateway = $1", gw);
}

int64_t su_local_count(const char *db_path)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM incident_events", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

int64_t su_same_rows(PGconn *pg, const char *gw, const char *db_path, const char *sql_pg,
		     const char *sql_lite)
{
	const char *v[] = {gw};
	PGresult *res = PQexecParams(pg, sql_pg, 1, NULL, v, NULL, NULL, 0);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = 0, rows = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK ||
	    sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, sql_lite, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: query failed: %s\n", gw, PQerrorMessage(pg));
		n = -1;
		goto out;
	}
	rows = PQntuples(res);
	while (n >= 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *local = (const char *)sqlite3_column_text(st, 0);
		if (!local || n >= rows || strcmp(PQgetvalue(res, n, 0), local) != 0) {
			fprintf(stderr, "%s: local row %s, county row %lld: %s\n", gw,
				local ? local : "(null)", (long long)n + 1,
				n < rows ? PQgetvalue(res, n, 0) : "(none)");
			n = -1;
		} else {
			n++;
		}
	}
	if (n >= 0 && n != rows) {
		fprintf(stderr, "%s: county has %lld rows, local log %lld\n", gw, (long long)rows,
			(long long)n);
		n = -1;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	PQclear(res);
	return n;
}

int64_t su_same_log(PGconn *pg, const char *gw, const char *db_path)
{
	return su_same_rows(
	    pg, gw, db_path,
	    "SELECT seq || ' ' || encode(hash, 'hex') FROM call_events"
	    " WHERE gateway = $1 ORDER BY seq",
	    "SELECT id || ' ' || lower(hex(hash)) FROM incident_events ORDER BY id");
}

int64_t su_same_incidents(PGconn *pg, const char *gw, const char *db_path)
{
#define INC_COLS                                                                                   \
	"id || '|' || started_ms || '|' || caller || '|' || coalesce(caller_name, '') || '|'"      \
	" || coalesce(line, '') || '|' || radio_cci || '|' || coalesce(ended_ms, -1) || '|'"       \
	" || coalesce(outcome, '') || '|' || coalesce(cause, -1) || '|'"                           \
	" || coalesce(accepted_by, '')"
	return su_same_rows(pg, gw, db_path,
			    "SELECT " INC_COLS " FROM incidents WHERE gateway = $1 ORDER BY id",
			    "SELECT " INC_COLS " FROM incidents ORDER BY id");
#undef INC_COLS
}

pid_t su_sync_start(const char *bin_dir, const char *conf, const char *opt, const char *log)
{
	char bin[256];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/rinki-sync", bin_dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "-c", conf, opt, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int su_sync_stop(pid_t *pid, int sig)
{
	int st = -1;

	if (*pid <= 0)
		return -1;
	kill(*pid, sig);
	waitpid(*pid, &st, 0);
	*pid = 0;
	return st;
}

int su_sync_run(const char *bin_dir, const char *conf, const char *args, char *out, size_t len)
{
	char cmd[768];
	FILE *p;
	size_t n;
	int st;

	if (snprintf(cmd, sizeof(cmd), "%s/rinki-sync -c %s %s 2>&1", bin_dir, conf, args) >=
	    (int)sizeof(cmd))
		return -1;
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int su_wait_status(const char *path, const char *line, int wait_ms)
{
	int64_t end = su_mono_ms() + wait_ms;
	char want[160], buf[8192];

	snprintf(want, sizeof(want), "\n%s\n", line);
	while (su_mono_ms() < end) {
		FILE *f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf + 1, 1, sizeof(buf) - 2, f);
			fclose(f);
			buf[0] = '\n';
			buf[n + 1] = '\0';
			if (strstr(buf, want))
				return 0;
		}
		su_pause_ms(POLL_MS);
	}
	fprintf(stderr, "timeout waiting for status '%s' in %s\n", line, path);
	return -1;
}

int su_write_file(const char *path, const char *fmt, ...)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	va_list ap;
	int rc;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	va_start(ap, fmt);
	rc = vfprintf(f, fmt, ap) < 0 ? -1 : 0;
	va_end(ap);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
