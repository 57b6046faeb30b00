/*
 * sync_util: what the county-sync tests and benches share (test_sync, test_sync_drills,
 * test_standby, tests/bench/sync_*): the clocks and a pause, the test's own look at the
 * county database (libpq) and at a gateway's local call log (sqlite3, read-only), the
 * exactly-once comparison of the two, rinki-sync as a process and its status file, and
 * configuration files. Used next to pg_rig (the scratch county server).
 */
#ifndef RINKI_SYNC_UTIL_H
#define RINKI_SYNC_UTIL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pg_rig.h"

/* CLOCK_MONOTONIC in milliseconds (for deadlines of bounded waits). */
int64_t su_mono_ms(void);

/* CLOCK_REALTIME in milliseconds since the epoch (the clock rinkid stamps events with). */
int64_t su_wall_ms(void);

/* Sleep ms milliseconds (ms >= 0), between polls of a bounded wait. */
void su_pause_ms(int ms);

/* rm -rf dir (a child process, reaped). 0 when rm exited 0, else -1. */
int su_rm_rf(const char *dir);

/*
 * *pg, connected to conninfo again when it is NULL or its connection is not OK (the old
 * one finished). Returns *pg (check PQstatus: it may be a failed connection).
 */
PGconn *su_conn(PGconn **pg, const char *conninfo);

/* Start the scratch county server r (pg_rig_start) and connect *pg to it. 0, or -1 when
 * either failed (the server may be up: su_county_down() still). */
int su_county_up(struct pg_rig *r, PGconn **pg);

/* Close *pg (NULL afterwards), stop the server r and remove its directory. */
void su_county_down(struct pg_rig *r, PGconn **pg);

/* One integer from sql on pg, with up to one text parameter ($1 = param, or NULL for none).
 * -1 on any error, a NULL value or not exactly one row. */
int64_t su_q_i64(PGconn *pg, const char *sql, const char *param);

/* How many events of gateway gw the county holds (call_events), or -1. */
int64_t su_county_count(PGconn *pg, const char *gw);

/* How many events the local call log at db_path holds (incident_events), or -1. */
int64_t su_local_count(const char *db_path);

/*
 * The rows of sql_pg on pg ($1 = gw) equal those of sql_lite on the local log at db_path
 * one for one, in order, each row one text column. Returns how many, or -1 (printing the
 * first difference on stderr).
 */
int64_t su_same_rows(PGconn *pg, const char *gw, const char *db_path, const char *sql_pg,
		     const char *sql_lite);

/* Exactly once: the county's (seq, hash) rows of gw equal the local (id, hash) rows, in
 * order. Count or -1. */
int64_t su_same_log(PGconn *pg, const char *gw, const char *db_path);

/* The county's incident rows of gw equal the local incidents, every column, in id order.
 * Count or -1. */
int64_t su_same_incidents(PGconn *pg, const char *gw, const char *db_path);

/*
 * Start bin_dir/rinki-sync -c conf [opt] (opt NULL for none), stdout and stderr appended
 * to log. The pid, or -1 when fork failed.
 */
pid_t su_sync_start(const char *bin_dir, const char *conf, const char *opt, const char *log);

/* Send *pid sig and reap it; *pid becomes 0. Its wait status, or -1 when *pid <= 0. */
int su_sync_stop(pid_t *pid, int sig);

/* Run bin_dir/rinki-sync -c conf args (args may hold several words), stdout and stderr
 * into out (len > 0, NUL-terminated, cut). Its exit status, or -1. */
int su_sync_run(const char *bin_dir, const char *conf, const char *args, char *out, size_t len);

/* The status (or metrics) file at path has the line exactly (bounded wait, wait_ms). 0 or -1 (said
 * on stderr). */
int su_wait_status(const char *path, const char *line, int wait_ms);

/* Write the file path (created 0600 or truncated; O_NOFOLLOW) with the printf-formatted
 * text. 0 or -1. */
int su_write_file(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
