/*
 * Integration: rinki-sync pushes call logs to a real PostgreSQL server.
 *
 * One server for the whole file: initdb and pg_ctl from /usr/lib/postgresql/15/bin (the
 * postgresql-15 package), run as "nobody" when the test runs as root, in a temporary
 * directory, listening only on a Unix socket there (no TCP). Each test is a gateway of its
 * own (its own SQLite call log, written by the gateway's store code in this process, and
 * its own county.gateway_id), so the county database ends up holding several gateways, as
 * in a wellbeing services county. rinki-sync runs as a separate process (the sanitizer
 * build) and is stopped by pid.
 *
 * Checks: every local event arrives exactly once (the county's (seq, hash) list equals the
 * local (id, hash) list, read with SQL of the test's own), with the server stopped
 * (immediate: a crash) and restarted while pushing, and with rinki-sync killed by SIGKILL
 * mid-batch 5 times (RINKI_SYNC_KILLS=20 for the long form by hand): half of them while
 * its transaction is provably open (blocked on a table lock the test holds, seen in
 * pg_stat_activity), half once its open transaction has written rows (backend_xid). A
 * second log under a gateway id the county already holds is refused; a changed or deleted
 * county row fails rinki-sync --verify; a newer county schema is left alone. county_push()
 * is also driven directly: a retried batch, another row under a held seq, a gap, a bad
 * link. Three gateways start together on an empty county database. The county roster: the
 * newest version applied whole, kept while offline, a bad version refused. The county
 * report across gateways, with an incident that moved to a standby counted once. Drills:
 * the county away RINKI_SYNC_DOWN_S seconds (3; 60 by hand) during 100 incidents; clock
 * skew of +-5 minutes between gateways and a clock stepped back. Waits are bounded
 * waits on conditions (30 s), never fixed sleeps before an assertion (the down drill only
 * paces its writes over the time the county is away).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "county.h"
#include "core/log.h"
#include "harness.h"
#include "pg_rig.h"
#include "sync_util.h"
#include "store/db.h"

#define WAIT_MS	    30000
#define POLL_MS	    20
#define APP_NAME    "rinki-sync-test"
#define KILLS_SHORT 5

static struct {
	struct pg_rig rig;
	const char *conninfo;
	const char *conninfo_db; /* appended: the test's own view of another database */
	PGconn *pg;		 /* the test's own connection */
} srv;

/* ---- the test's own view of the county database ----------------------------------------- */

static PGconn *db_conn(void)
{
	char ci[256];

	snprintf(ci, sizeof(ci), "%s%s", srv.conninfo, srv.conninfo_db ? srv.conninfo_db : "");
	return su_conn(&srv.pg, ci);
}

/* One integer from sql (with up to one text parameter); -1 on any error. */
static int64_t q_i64(const char *sql, const char *param)
{
	return su_q_i64(db_conn(), sql, param);
}

static int64_t county_count(const char *gw)
{
	return su_county_count(db_conn(), gw);
}

/* Wait until gateway gw has want events in the county. 0, or -1 after WAIT_MS. */
static int wait_count(const char *gw, int64_t want)
{
	int64_t end = su_mono_ms() + WAIT_MS;
	while (su_mono_ms() < end) {
		if (county_count(gw) == want)
			return 0;
		su_pause_ms(POLL_MS);
	}
	fprintf(stderr, "timeout: %s has %lld events in the county, want %lld\n", gw,
		(long long)county_count(gw), (long long)want);
	return -1;
}

static int wait_count_above(const char *gw, int64_t above)
{
	int64_t end = su_mono_ms() + WAIT_MS;
	while (su_mono_ms() < end) {
		if (county_count(gw) > above)
			return 0;
		su_pause_ms(1);
	}
	return -1;
}

/* Exactly once: the county's (seq, hash) rows of gw equal the local log's (id, hash). */
static int64_t same_log(const char *gw, const char *db_path)
{
	return su_same_log(db_conn(), gw, db_path);
}

/* The county's incident rows of gw equal the local incidents row for row. */
static int64_t same_incidents(const char *gw, const char *db_path)
{
	return su_same_incidents(db_conn(), gw, db_path);
}

/* ---- a gateway: its call log and its rinki-sync ----------------------------------------- */

struct gw {
	char id[33];
	char dir[64];
	char db[96], conf[96], status[96], log[96];
	struct gw_db *db_h;
	int64_t t0;	/* time of the first event; another t0, another chain */
	int64_t events; /* events written to the local log */
	int64_t incident;
	pid_t sync;
};

/*
 * Gateways live in a static pool, not on a test's stack: a failed assertion leaves the test
 * function, and the teardown still finishes them (stops rinki-sync, removes the files).
 */
static struct gw pool[4];
static bool in_use[4];
/* Appended to the gateways' county.conninfo (another database: " dbname=x"). */
static const char *conn_extra = "";

static struct gw *gw_new(const char *id, int batch)
{
	char dir[sizeof(pool[0].dir)];
	struct gw *g;
	int i = 0;

	while (in_use[i])
		i++;
	assert_true(i < 4);
	in_use[i] = true;
	g = &pool[i];
	memset(g, 0, sizeof(*g));
	g->t0 = 1765000000000LL;
	snprintf(g->id, sizeof(g->id), "%s", id);
	snprintf(dir, sizeof(dir), "/tmp/rinki-sync-XXXXXX");
	assert_non_null(mkdtemp(dir));
	memcpy(g->dir, dir, sizeof(dir));
	snprintf(g->db, sizeof(g->db), "%s/rinki.db", dir);
	snprintf(g->conf, sizeof(g->conf), "%s/rinki.conf", dir);
	snprintf(g->status, sizeof(g->status), "%s/sync.status", dir);
	snprintf(g->log, sizeof(g->log), "%s/sync.log", dir);
	assert_int_equal(gw_db_open(g->db, &g->db_h), 0);
	assert_int_equal(su_write_file(g->conf,
				       "db.path %s\ncounty.conninfo %s application_name=" APP_NAME
				       "%s\n"
				       "county.gateway_id %s\ncounty.batch %d\ncounty.poll_ms 100\n"
				       "county.retry_max 1\ncounty.status_file %s\n",
				       g->db, srv.conninfo, conn_extra, id, batch, g->status),
			 0);
	return g;
}

/*
 * Append n events to the local log: incidents with a few events each, system events too.
 * They are committed GW_WRITE_BATCH at a time (one fsync each, as rinkid's writer thread
 * groups its commits): thousands of one-event commits were most of this file's time.
 */
#define GW_WRITE_BATCH 100
static void gw_write(struct gw *g, int n)
{
	static const char *const texts[] = {"Soitto Mikkelistä", NULL, "päivystäjä 4",
					    "x\ty \"quoted\" \\ back"};
	int64_t target = g->events + n;
	int batched = 0;

	while (g->events < target) {
		if (batched == 0)
			assert_int_equal(gw_db_batch_begin(g->db_h), 0);
		int64_t t = g->t0 + g->events * 1000;
		int k = (int)(g->events % 7);
		if (g->incident == 0 || (k == 0 && target - g->events >= 2)) {
			struct gw_incident_rec rec = {
			    .started_ms = t, .caller = "2269001", .line = "sos", .radio_cci = 3};
			if (g->incident) {
				assert_int_equal(
				    gw_db_incident_close(g->db_h, g->incident, t, "accepted",
							 g->incident % 2 ? 16 : -1, "aino"),
				    0);
				g->events++;
			}
			assert_int_equal(gw_db_incident_open(g->db_h, &rec, &g->incident), 0);
		} else if (k == 3) {
			assert_int_equal(
			    gw_db_system_event_append(g->db_h, t, "group_call", "9001"), 0);
		} else {
			assert_int_equal(gw_db_event_append(g->db_h, g->incident, t, "page",
							    texts[g->events % 4]),
					 0);
		}
		g->events++;
		if (++batched == GW_WRITE_BATCH) {
			assert_int_equal(gw_db_batch_commit(g->db_h), 0);
			batched = 0;
		}
	}
	if (batched)
		assert_int_equal(gw_db_batch_commit(g->db_h), 0);
}

static void gw_start_sync(struct gw *g)
{
	g->sync = su_sync_start(h_bin(), g->conf, NULL, g->log);
	assert_true(g->sync >= 0);
}

/* Stop rinki-sync with sig and reap it; returns its wait status. */
static int gw_stop_sync(struct gw *g, int sig)
{
	return su_sync_stop(&g->sync, sig);
}

/* The status file has a line "key value" with this value (bounded wait). 0 or -1. */
static int wait_status(struct gw *g, const char *line)
{
	return su_wait_status(g->status, line, WAIT_MS);
}

/* The value of key in the status file now, or -1. */
static int64_t status_value(struct gw *g, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	int64_t v = -1;
	FILE *f = fopen(g->status, "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ' ')
			v = strtoll(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* How many lines of rinki-sync's log contain needle. */
static int log_count(struct gw *g, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(g->log, "r");

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* rinki-sync's log (stderr) has a line containing needle (bounded wait). 0 or -1. */
static int wait_log(struct gw *g, const char *needle)
{
	int64_t end = su_mono_ms() + WAIT_MS;

	while (su_mono_ms() < end) {
		if (log_count(g, needle) > 0)
			return 0;
		su_pause_ms(POLL_MS);
	}
	fprintf(stderr, "timeout waiting for '%s' in %s\n", needle, g->log);
	return -1;
}

static void gw_fini(struct gw *g)
{
	in_use[g - pool] = false;
	if (g->sync > 0)
		gw_stop_sync(g, SIGKILL);
	gw_db_close(g->db_h);
	g->db_h = NULL;
	su_rm_rf(g->dir);
}

/* After each test: what a failed assertion left behind (rinki-sync processes, files). */
static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pool) / sizeof(pool[0]); i++)
		if (in_use[i])
			gw_fini(&pool[i]);
	conn_extra = "";
	if (srv.conninfo_db) {
		srv.conninfo_db = NULL;
		PQfinish(srv.pg);
		srv.pg = NULL;
	}
	if (!srv.rig.up) /* a test failed while the server was stopped */
		return pg_rig_start_server(&srv.rig);
	return 0;
}

/* rinki-sync --verify against the county; its exit status, output to out. */
static int run_verify(const struct gw *g, char *out, size_t len)
{
	return su_sync_run(h_bin(), g->conf, "--verify", out, len);
}

/* ---- the tests -------------------------------------------------------------------------- */

/* (a) 100 events arrive exactly once; more written while it runs follow. */
static void test_hundred(void **state)
{
	struct gw *g;
	char out[4096];
	(void)state;

	g = gw_new("gw-a", 500);
	gw_write(g, 100);
	assert_int_equal(g->events, 100);
	gw_start_sync(g);
	assert_int_equal(wait_count(g->id, 100), 0);
	assert_int_equal(same_log(g->id, g->db), 100);
	gw_write(g, 20);
	assert_int_equal(wait_count(g->id, 120), 0);
	assert_int_equal(same_log(g->id, g->db), 120);
	assert_int_equal(same_incidents(g->id, g->db), 17);
	assert_int_equal(wait_status(g, "backlog 0"), 0);
	assert_int_equal(wait_status(g, "state ok"), 0);
	assert_int_equal(wait_status(g, "county_head 120"), 0);
	assert_int_equal(status_value(g, "lag_ms"), 0);
	assert_true(status_value(g, "last_success_ms") > 0);
	/* SIGUSR1: the status in the log too */
	kill(g->sync, SIGUSR1);
	assert_int_equal(wait_log(g, "status: gateway gw-a;state ok;local_head 120;"), 0);
	/* SIGTERM: a clean exit */
	int st = gw_stop_sync(g, SIGTERM);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(run_verify(g, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "gw-a: 120 events, intact"));
	gw_fini(g);
}

/* (b) The server stops (immediate: as in a crash) while rinki-sync pushes, and comes back. */
static void test_server_restart(void **state)
{
	struct gw *g;
	int64_t before;
	(void)state;

	g = gw_new("gw-b", 10);
	gw_write(g, 3000);
	gw_start_sync(g);
	assert_int_equal(wait_count_above(g->id, 100), 0);
	before = county_count(g->id);
	assert_int_equal(pg_rig_stop_server(&srv.rig, "immediate"), 0);
	PQfinish(srv.pg);
	srv.pg = NULL;
	printf("server stopped with %lld of %lld events in the county\n", (long long)before,
	       (long long)g->events);
	assert_true(before < g->events);
	/* rinki-sync sees the county down; the gateway's own log goes on meanwhile */
	assert_int_equal(wait_status(g, "state down"), 0);
	gw_write(g, 500);
	/* the status shows the backlog growing while the county is away */
	char head[48];
	snprintf(head, sizeof(head), "local_head %lld", (long long)g->events);
	assert_int_equal(wait_status(g, head), 0);
	assert_true(status_value(g, "backlog") > 500);
	assert_true(status_value(g, "lag_ms") > 0);
	assert_int_equal(pg_rig_start_server(&srv.rig), 0);
	assert_int_equal(wait_count(g->id, g->events), 0);
	assert_int_equal(same_log(g->id, g->db), g->events);
	assert_true(same_incidents(g->id, g->db) > 0);
	assert_int_equal(wait_status(g, "backlog 0"), 0);
	gw_fini(g);
}

/* Wait until rinki-sync's backend is seen in the state cond (pg_stat_activity). */
static int wait_backend(const char *cond, int poll_ms)
{
	char sql[256];
	int64_t end = su_mono_ms() + WAIT_MS;

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" APP_NAME
		 "' AND %s",
		 cond);
	while (su_mono_ms() < end) {
		if (q_i64(sql, NULL) == 1)
			return 0;
		su_pause_ms(poll_ms);
	}
	return -1;
}

/* (c) SIGKILL mid-batch, again and again: nothing lost, nothing twice. */
static void test_kill(void **state)
{
	const char *env = getenv("RINKI_SYNC_KILLS");
	int kills = env ? atoi(env) : KILLS_SHORT;
	PGconn *locker = PQconnectdb(srv.conninfo);
	struct gw *g;
	(void)state;

	assert_int_equal(PQstatus(locker), CONNECTION_OK);
	g = gw_new("gw-c", 25);
	gw_write(g, 1000);
	for (int i = 0; i < kills; i++) {
		int64_t have = county_count(g->id);
		const char *how;
		if (i % 2 == 0) {
			/* Hold a lock its inserts need: its transaction stays open, mid-batch. */
			PQclear(PQexec(locker, "BEGIN"));
			PGresult *res = PQexec(locker, "LOCK TABLE call_events IN SHARE MODE");
			assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
			PQclear(res);
			gw_start_sync(g);
			assert_int_equal(wait_backend("wait_event_type = 'Lock'", POLL_MS), 0);
			gw_stop_sync(g, SIGKILL);
			PQclear(PQexec(locker, "ROLLBACK"));
			how = "blocked in its transaction";
		} else {
			/* Draining: killed once its transaction has written rows (it may commit
			 * between the look and the kill; either way nothing may be lost). */
			gw_start_sync(g);
			assert_int_equal(wait_count_above(g->id, have), 0);
			assert_int_equal(wait_backend("backend_xid IS NOT NULL", 1), 0);
			gw_stop_sync(g, SIGKILL);
			how = "after writing rows, before its commit";
		}
		printf("kill %d (%s): %lld of %lld events in the county\n", i + 1, how,
		       (long long)county_count(g->id), (long long)g->events);
		gw_write(g, 50); /* the gateway goes on writing */
	}
	gw_start_sync(g);
	assert_int_equal(wait_count(g->id, g->events), 0);
	assert_int_equal(same_log(g->id, g->db), g->events);
	assert_true(same_incidents(g->id, g->db) > 0);
	gw_fini(g);
	PQfinish(locker);
}

/* A second log under an id the county holds is refused; a changed row fails --verify. */
static void test_conflict_and_verify(void **state)
{
	struct gw *a, *b;
	char out[4096];
	(void)state;

	a = gw_new("gw-d", 100);
	gw_write(a, 30);
	gw_start_sync(a);
	assert_int_equal(wait_count(a->id, 30), 0);
	gw_stop_sync(a, SIGTERM);

	b = gw_new("gw-d", 100); /* another board, configured with the same id */
	b->t0 += 1;
	gw_write(b, 40);
	gw_start_sync(b);
	assert_int_equal(wait_status(b, "state conflict"), 0);
	assert_int_equal(county_count("gw-d"), 30);
	assert_int_equal(same_log(a->id, a->db), 30);
	gw_fini(b);

	assert_int_equal(run_verify(a, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "gw-d: 30 events, intact"));
	assert_int_equal(
	    q_i64("WITH u AS (UPDATE call_events SET t_ms = t_ms + 1"
		  " WHERE gateway = $1 AND seq = 17 RETURNING 1) SELECT count(*) FROM u",
		  "gw-d"),
	    1);
	assert_int_equal(run_verify(a, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "gw-d: broken at event 17: content does not match its hash"));
	/* the other gateways are still reported intact */
	assert_non_null(strstr(out, "gw-a: 120 events, intact"));
	assert_int_equal(q_i64("WITH d AS (DELETE FROM call_events WHERE gateway = $1 AND seq = 17"
			       " RETURNING 1) SELECT count(*) FROM d",
			       "gw-d"),
			 1);
	assert_int_equal(run_verify(a, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "gw-d: broken at event 17: missing"));
	/* an incident row that disagrees with its open event */
	assert_int_equal(
	    q_i64("WITH u AS (UPDATE incidents SET started_ms = started_ms + 1"
		  " WHERE gateway = 'gw-a' AND id = 5 RETURNING 1) SELECT count(*) FROM u",
		  NULL),
	    1);
	assert_int_equal(run_verify(a, out, sizeof(out)), 1);
	assert_non_null(
	    strstr(out, "gw-a: incident 5 does not match the events that open and close it"));
	/* and one left open although its close event is there */
	assert_int_equal(
	    q_i64("WITH u AS (UPDATE incidents SET started_ms = started_ms - 1,"
		  " ended_ms = NULL, outcome = NULL, close_seq = NULL"
		  " WHERE gateway = 'gw-a' AND id = 5 RETURNING 1) SELECT count(*) FROM u",
		  NULL),
	    1);
	assert_int_equal(run_verify(a, out, sizeof(out)), 1);
	assert_non_null(
	    strstr(out, "gw-a: incident 5 does not match the events that open and close it"));
	gw_fini(a);
}

/*
 * A local row changed after it was written (its detail no longer matches the hash the
 * chain covers) is not pushed, nor anything after it; the rows before it are.
 */
static void test_local_changed_row(void **state)
{
	struct gw *g;
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t bad = 0;
	char want[160];
	(void)state;

	g = gw_new("gw-i", 100);
	gw_write(g, 30);
	assert_int_equal(sqlite3_open(g->db, &h), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(h,
			       "UPDATE incident_events SET detail = detail || ' (changed)'"
			       " WHERE id = (SELECT min(id) FROM incident_events"
			       " WHERE id >= 12 AND detail IS NOT NULL) RETURNING id",
			       -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		bad = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	assert_true(bad >= 12);
	gw_start_sync(g);
	assert_int_equal(wait_status(g, "state local"), 0);
	snprintf(want, sizeof(want), "last_error local event %lld does not verify", (long long)bad);
	assert_int_equal(wait_log(g, want + strlen("last_error ")), 0);
	assert_int_equal(county_count(g->id), bad - 1);
	gw_fini(g);
}

/* A county schema newer than this build is left alone: nothing pushed, state conflict. */
static void test_newer_schema(void **state)
{
	struct gw *g;
	(void)state;

	assert_int_equal(q_i64("WITH u AS (UPDATE schema_version SET version = version + 1"
			       " RETURNING 1) SELECT count(*) FROM u",
			       NULL),
			 1);
	g = gw_new("gw-e", 100);
	gw_write(g, 10);
	gw_start_sync(g);
	assert_int_equal(wait_status(g, "state conflict"), 0);
	assert_int_equal(wait_status(g, "last_error county database: schema newer than this build"),
			 0);
	assert_int_equal(county_count("gw-e"), 0);
	assert_int_equal(q_i64("WITH u AS (UPDATE schema_version SET version = version - 1"
			       " RETURNING 1) SELECT count(*) FROM u",
			       NULL),
			 1);
	/* back at its version: it goes on by itself */
	assert_int_equal(wait_count("gw-e", 10), 0);
	gw_fini(g);
}

/* n chained rows of a made-up gateway, hashed with the call log's own function. */
static void make_rows(struct gw_db_chain_row *rows, int n, int64_t t0)
{
	uint8_t prev[32] = {0};

	for (int i = 0; i < n; i++) {
		struct gw_db_chain_row *r = &rows[i];
		memset(r, 0, sizeof(*r));
		r->id = i + 1;
		r->incident = i % 5 == 4 ? 0 : 1;
		r->t_ms = t0 + i;
		r->kind = "page";
		r->kind_len = 4;
		r->v3 = true;
		memcpy(r->prev_hash, prev, 32);
		assert_int_equal(gw_db_chain_hash(r, r->hash), 0);
		memcpy(prev, r->hash, 32);
	}
}

/* county_push() itself: retried rows skipped, a different row, a gap, a bad link refused. */
static void test_push_rules(void **state)
{
	struct gw_db_chain_row rows[5], other[5];
	struct county *c = NULL;
	uint8_t head[32];
	int64_t seq;

	make_rows(rows, 5, 1000);
	make_rows(other, 5, 2000);
	assert_int_equal(county_connect(srv.conninfo, &c), 0);
	*state = c; /* the teardown closes it */
	assert_int_equal(county_head(c, "gw-f", &seq, head), 0);
	assert_int_equal(seq, 0);
	/* a start that is not seq 1 is a gap */
	assert_int_equal(county_push(c, "gw-f", &rows[1], NULL, 2), -EBADMSG);
	assert_int_equal(county_push(c, "gw-f", rows, NULL, 3), 3);
	assert_int_equal(county_head(c, "gw-f", &seq, head), 0);
	assert_int_equal(seq, 3);
	assert_memory_equal(head, rows[2].hash, 32);
	/* a retried batch adds only what is new */
	assert_int_equal(county_push(c, "gw-f", rows, NULL, 5), 2);
	assert_int_equal(county_push(c, "gw-f", rows, NULL, 5), 0);
	/* another row under a held seq: refused, and nothing of its batch kept */
	assert_int_equal(county_push(c, "gw-f", other, NULL, 5), -EBADMSG);
	/* a row that does not link to the county's row before it */
	other[3].id = 6;
	assert_int_equal(county_push(c, "gw-f", &other[3], NULL, 1), -EBADMSG);
	/* nor does a gap after the head */
	other[4].id = 8;
	assert_int_equal(county_push(c, "gw-f", &other[4], NULL, 1), -EBADMSG);
	assert_int_equal(county_count("gw-f"), 5);
	assert_int_equal(county_head(c, "gw-f", &seq, head), 0);
	assert_int_equal(seq, 5);
	assert_memory_equal(head, rows[4].hash, 32);

	/* 450 rows, three pipelines in one transaction; a different row in the last keeps none */
	static struct gw_db_chain_row many[450];
	make_rows(many, 450, 3000);
	assert_int_equal(county_push(c, "gw-h", many, NULL, 420), 420);
	assert_int_equal(county_count("gw-h"), 420);
	many[410].t_ms++;
	assert_int_equal(gw_db_chain_hash(&many[410], many[410].hash), 0);
	assert_int_equal(county_push(c, "gw-h", many, NULL, 450), -EBADMSG);
	assert_int_equal(county_count("gw-h"), 420);
	make_rows(many, 450, 3000);
	assert_int_equal(county_push(c, "gw-h", many, NULL, 450), 30);
	assert_int_equal(county_count("gw-h"), 450);
}

static int close_county(void **state)
{
	county_close(*state);
	*state = NULL;
	return teardown(state);
}

/* A county database of schema v1 (events only) is migrated to v2 (incidents) in place. */
static void test_migrate_v1(void **state)
{
	struct gw *g;
	(void)state;

	assert_int_equal(q_i64("WITH d AS (DELETE FROM schema_version RETURNING 1),"
			       " i AS (INSERT INTO schema_version VALUES (1) RETURNING 1)"
			       " SELECT count(*) FROM i",
			       NULL),
			 1);
	PQclear(PQexec(db_conn(), "DROP VIEW calls_by_day, report_incidents, incident_moves;"
				  " DROP TABLE incidents; DROP TABLE rosters;"
				  " DROP FUNCTION rosters_frozen"));
	assert_int_equal(
	    q_i64("SELECT count(*) FROM pg_tables WHERE tablename = 'incidents'", NULL), 0);
	g = gw_new("gw-g", 100);
	gw_write(g, 40);
	gw_start_sync(g);
	assert_int_equal(wait_count(g->id, 40), 0);
	assert_int_equal(q_i64("SELECT max(version) FROM schema_version", NULL),
			 county_schema_version());
	assert_int_equal(county_schema_version(), 4);
	assert_int_equal(same_log(g->id, g->db), 40);
	assert_true(same_incidents(g->id, g->db) > 0);
	gw_fini(g);
}

/*
 * Three gateways start together against a new, empty county database: one of them
 * creates the schema (the others wait on its lock), and every log arrives whole.
 */
static void test_three_gateways(void **state)
{
	static const char *const ids[] = {"gw-x", "gw-y", "gw-z"};
	struct gw *g[3];
	(void)state;

	PQclear(PQexec(db_conn(), "CREATE DATABASE county3"));
	conn_extra = " dbname=county3";
	for (int i = 0; i < 3; i++) {
		g[i] = gw_new(ids[i], 200);
		gw_write(g[i], 400 + 100 * i);
	}
	for (int i = 0; i < 3; i++)
		gw_start_sync(g[i]);
	conn_extra = "";
	/* the test's own view: the new database */
	PQfinish(srv.pg);
	srv.pg = NULL;
	srv.conninfo_db = " dbname=county3";
	for (int i = 0; i < 3; i++) {
		assert_int_equal(wait_count(ids[i], g[i]->events), 0);
		assert_int_equal(same_log(ids[i], g[i]->db), g[i]->events);
	}
	assert_int_equal(q_i64("SELECT count(*) FROM schema_version", NULL), 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(wait_status(g[i], "backlog 0"), 0);
		/* none of them met an error on the way (a migration race would show here) */
		assert_int_equal(log_count(g[i], "ERROR"), 0);
		gw_fini(g[i]);
	}
}

/* ---- roster pull ------------------------------------------------------------------------ */

/* A roster CSV of n workers (w1..wn, each one hour-long shift of its own on line sos). */
static char *roster_csv(int n, const char *tag)
{
	size_t cap = 200 + (size_t)n * 200, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len,
				"line,sos,Sosiaalipäivystys %s,Socialjour,Social on-call\n", tag);
	for (int i = 1; i <= n; i++) {
		time_t t = 1780272000 + (time_t)(i - 1) * 3600; /* 2026-06-01T00:00Z on */
		time_t e = t + 3600;
		char from[24], to[24];
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(from, sizeof(from), "%Y-%m-%dT%H:%MZ", &tm);
		gmtime_r(&e, &tm);
		strftime(to, sizeof(to), "%Y-%m-%dT%H:%MZ", &tm);
		len += (size_t)snprintf(s + len, cap - len,
					"worker,w%d,Worker %d %s,+35840%07d,\n"
					"shift,sos,w%d,%s,%s,1\n",
					i, i, tag, 1000000 + i, i, from, to);
	}
	return s;
}

/* A coordinator adds a roster version to the county; its version number, or -1. */
static int64_t county_add_roster(const char *csv)
{
	return q_i64("INSERT INTO rosters (csv) VALUES ($1) RETURNING version", csv);
}

/* The local roster now, as the test's own connection reads it: workers and source. */
static void local_roster(struct gw *g, size_t *workers, int64_t *version, char *name0,
			 size_t name_len)
{
	struct gw_db_roster r;
	struct gw_db_roster_source src;

	assert_int_equal(gw_db_roster_read(g->db_h, &r), 0);
	*workers = r.n_workers;
	if (name0)
		snprintf(name0, name_len, "%s", r.n_workers ? r.workers[0].name : "");
	gw_db_roster_clear(&r);
	assert_true(gw_db_roster_source_get(g->db_h, &src) >= 0);
	*version = src.version;
}

/*
 * (j) The county roster: the newest version is applied whole; a gateway offline while
 * coordinators add versions keeps its last one (and says which) and applies the newest
 * on return; a version with an error is refused whole, the one before stays.
 */
static void test_roster_pull(void **state)
{
	struct gw *g;
	char *csv, line[96], name[64];
	size_t workers;
	int64_t v1, v2, v3, v4, v5, version;
	(void)state;

	/* the gateway's own login role, so that it can be cut off while the county runs */
	PQclear(PQexec(db_conn(), "DROP ROLE IF EXISTS gw_r_login"));
	PQclear(PQexec(db_conn(), "CREATE ROLE gw_r_login LOGIN SUPERUSER"));
	conn_extra = " user=gw_r_login";
	g = gw_new("gw-r", 100);
	gw_write(g, 10);
	csv = roster_csv(3, "v1");
	v1 = county_add_roster(csv);
	free(csv);
	assert_true(v1 > 0);
	gw_start_sync(g);
	snprintf(line, sizeof(line), "roster_version %lld", (long long)v1);
	assert_int_equal(wait_status(g, line), 0);
	local_roster(g, &workers, &version, name, sizeof(name));
	assert_int_equal(workers, 3);
	assert_int_equal(version, v1);
	assert_string_equal(name, "Worker 1 v1");
	assert_true(status_value(g, "roster_made_ms") > 0);
	assert_true(status_value(g, "roster_applied_ms") >= status_value(g, "roster_made_ms"));
	assert_int_equal(wait_count(g->id, 10), 0);

	/* offline: the county refuses the gateway's logins and drops its connection */
	PQclear(PQexec(db_conn(), "ALTER ROLE gw_r_login NOLOGIN"));
	PQclear(PQexec(db_conn(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
				  " WHERE usename = 'gw_r_login'"));
	assert_int_equal(wait_status(g, "state down"), 0);
	csv = roster_csv(5, "v2");
	v2 = county_add_roster(csv);
	free(csv);
	csv = roster_csv(7, "v3");
	v3 = county_add_roster(csv);
	free(csv);
	assert_true(v2 > v1 && v3 > v2);
	gw_write(g, 5);
	snprintf(line, sizeof(line), "local_head %lld", (long long)g->events);
	assert_int_equal(wait_status(g, line), 0);
	/* still the last version it had, and the status says which (and how old) */
	snprintf(line, sizeof(line), "roster_version %lld", (long long)v1);
	assert_int_equal(wait_status(g, line), 0);
	local_roster(g, &workers, &version, NULL, 0);
	assert_int_equal(workers, 3);
	assert_int_equal(version, v1);

	/* back: the newest version, whole */
	PQclear(PQexec(db_conn(), "ALTER ROLE gw_r_login LOGIN"));
	snprintf(line, sizeof(line), "roster_version %lld", (long long)v3);
	assert_int_equal(wait_status(g, line), 0);
	local_roster(g, &workers, &version, name, sizeof(name));
	assert_int_equal(workers, 7);
	assert_int_equal(version, v3);
	assert_string_equal(name, "Worker 1 v3");
	assert_int_equal(wait_count(g->id, g->events), 0);
	assert_int_equal(wait_status(g, "roster_error -"), 0);

	/* a version with one bad row (an unknown worker): refused whole, v3 stays */
	csv = roster_csv(9, "v4");
	char *bad = malloc(strlen(csv) + 64);
	assert_non_null(bad);
	sprintf(bad, "%sshift,sos,nobody,2026-12-01T00:00Z,2027-01-01T00:00Z,99\n", csv);
	free(csv);
	v4 = county_add_roster(bad);
	free(bad);
	assert_true(v4 > v3);
	snprintf(line, sizeof(line), "roster: county version %lld refused, version %lld stays",
		 (long long)v4, (long long)v3);
	assert_int_equal(wait_log(g, line), 0);
	local_roster(g, &workers, &version, name, sizeof(name));
	assert_int_equal(workers, 7);
	assert_int_equal(version, v3);
	assert_string_equal(name, "Worker 1 v3");
	assert_true(status_value(g, "roster_version") == v3);
	/* the next good version replaces it */
	csv = roster_csv(2, "v5");
	v5 = county_add_roster(csv);
	free(csv);
	snprintf(line, sizeof(line), "roster_version %lld", (long long)v5);
	assert_int_equal(wait_status(g, line), 0);
	assert_int_equal(wait_status(g, "roster_error -"), 0);
	local_roster(g, &workers, &version, NULL, 0);
	assert_int_equal(workers, 2);
	assert_int_equal(version, v5);
	/* versions are never changed in the county: a correction is a new version */
	PGresult *res = PQexec(db_conn(), "UPDATE rosters SET csv = 'x'");
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
	gw_fini(g);
	PQclear(PQexec(db_conn(), "DROP ROLE gw_r_login"));
	PQclear(PQexec(db_conn(), "DELETE FROM rosters"));
}

/*
 * (n) rinki-sync SIGKILLed while it applies a large county roster version, at several
 * moments: the local roster is always the old version whole or the new one whole (its
 * workers and its recorded version agree), never a mix; the next run applies it.
 */
static void test_roster_kill(void **state)
{
	static const int delays_ms[] = {0, 30, 80, 150, 300, 600};
	struct gw *g;
	char *csv, line[64];
	size_t workers;
	int64_t v_old, v_new, version;
	int old_seen = 0, new_seen = 0;
	(void)state;

	g = gw_new("gw-rk", 100);
	csv = roster_csv(3, "old");
	v_old = county_add_roster(csv);
	free(csv);
	gw_start_sync(g);
	snprintf(line, sizeof(line), "roster_version %lld", (long long)v_old);
	assert_int_equal(wait_status(g, line), 0);
	assert_int_equal(gw_stop_sync(g, SIGTERM) >= 0, 1);
	csv = roster_csv(1000, "new");
	v_new = county_add_roster(csv);
	free(csv);
	for (size_t k = 0; k < sizeof(delays_ms) / sizeof(delays_ms[0]); k++) {
		gw_start_sync(g);
		assert_int_equal(wait_log(g, "resuming after it"), 0);
		su_pause_ms(delays_ms[k]);
		gw_stop_sync(g, SIGKILL);
		local_roster(g, &workers, &version, NULL, 0);
		assert_true((workers == 3 && version == v_old) ||
			    (workers == 1000 && version == v_new));
		old_seen += version == v_old;
		new_seen += version == v_new;
		if (version == v_new)
			break;
		/* the next start looks for "resuming" again: a fresh log */
		assert_int_equal(truncate(g->log, 0), 0);
	}
	printf("roster kills: %d left the old version, %d found the new one\n", old_seen, new_seen);
	gw_start_sync(g);
	snprintf(line, sizeof(line), "roster_version %lld", (long long)v_new);
	assert_int_equal(wait_status(g, line), 0);
	local_roster(g, &workers, &version, NULL, 0);
	assert_int_equal(workers, 1000);
	assert_int_equal(version, v_new);
	gw_fini(g);
	/* the gateways of later tests start without a county roster */
	PQclear(PQexec(db_conn(), "DELETE FROM rosters"));
}

/* ---- county report ---------------------------------------------------------------------- */

/* rinki-sync with args (a report or --once) on g's configuration; exit status, out. */
static int run_sync(const struct gw *g, const char *args, char *out, size_t len)
{
	return su_sync_run(h_bin(), g->conf, args, out, len);
}

/* One authority call in g's log at t: paged, accepted when outcome is "completed". */
static int64_t call_at(struct gw *g, int64_t t, const char *caller, const char *outcome)
{
	struct gw_incident_rec rec = {
	    .started_ms = t, .caller = caller, .line = "sos", .radio_cci = 3};
	int64_t id;

	assert_int_equal(gw_db_incident_open(g->db_h, &rec, &id), 0);
	assert_int_equal(gw_db_event_append(g->db_h, id, t + 1000, "page", "aino +358401234567"),
			 0);
	if (outcome && strcmp(outcome, "completed") == 0) {
		assert_int_equal(
		    gw_db_event_append(g->db_h, id, t + 15000, "accepted", "aino +358401234567"),
		    0);
	}
	if (outcome)
		assert_int_equal(
		    gw_db_incident_close(g->db_h, id, t + 60000, outcome, -1,
					 strcmp(outcome, "completed") == 0 ? "aino" : NULL),
		    0);
	return id;
}

/*
 * (k) The county report across gateways, and an incident that moved: the primary took
 * the officer's call and died mid-call (its incident never closed); the network sent
 * the officer's next call, 40 s later, to the standby, which took it. The county links
 * the two (incident_moves) and the report counts the call once, at the standby.
 */
static void test_county_report(void **state)
{
	static char out[16384];
	struct gw *p, *s;
	const int64_t t0 = 1767232800000LL; /* 2026-01-01T04:00+02:00 */
	int64_t a, b;
	(void)state;

	p = gw_new("gw-primary", 100);
	s = gw_new("gw-standby", 100);
	a = call_at(p, t0, "2269001", NULL);		      /* killed mid-call */
	call_at(p, t0 + 10 * 60000, "2269002", "completed");  /* another officer */
	b = call_at(s, t0 + 40000, "2269001", "completed");   /* forwarded, taken */
	call_at(s, t0 + 30 * 60000, "2269001", "unanswered"); /* later: a call of its own */
	assert_int_equal(run_sync(p, "--once", out, sizeof(out)), 0);
	assert_int_equal(run_sync(s, "--once", out, sizeof(out)), 0);

	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM incident_moves WHERE from_gateway = 'gw-primary'"
		 " AND from_id = %lld AND to_gateway = 'gw-standby' AND to_id = %lld",
		 (long long)a, (long long)b);
	assert_int_equal(q_i64(sql, NULL), 1);
	assert_int_equal(q_i64("SELECT count(*) FROM incident_moves WHERE from_gateway"
			       " IN ('gw-primary', 'gw-standby')",
			       NULL),
			 1);
	assert_int_equal(q_i64("SELECT count(*) FROM report_incidents WHERE gateway"
			       " IN ('gw-primary', 'gw-standby') AND counted AND kind = 'call'",
			       NULL),
			 3);
	assert_int_equal(q_i64("SELECT sum(calls) FROM calls_by_day WHERE gateway"
			       " IN ('gw-primary', 'gw-standby')",
			       NULL),
			 3);

	assert_int_equal(
	    run_sync(p, "--report --from 2026-01-01T00:00 --to 2026-01-02T00:00", out, sizeof(out)),
	    0);
	assert_non_null(strstr(out, "authority calls: 3\n"));
	assert_non_null(strstr(out, "completed 2, unanswered 1,"));
	assert_non_null(strstr(out, "check: 3 incidents in the range, counted 3"));
	assert_non_null(strstr(out, "\nper gateway:\n"));
	assert_non_null(strstr(out, "moved to another gateway (counted once, where taken): 1\n"));
	assert_int_equal(run_sync(p, "--report --from 2026-01-01T00:00 --to 2026-01-02T00:00 --csv",
				  out, sizeof(out)),
			 0);
	assert_non_null(strstr(out, ",gateway,gw-primary,,1,1,0,"));
	assert_non_null(strstr(out, ",gateway,gw-standby,,2,1,1,"));
	/* usage: --report needs both bounds */
	assert_int_equal(run_sync(p, "--report --from 2026-01-01T00:00", out, sizeof(out)), 2);
	gw_fini(s);
	gw_fini(p);
}

/* ---- drills ----------------------------------------------------------------------------- */

/*
 * (l) The county database stopped for a while (RINKI_SYNC_DOWN_S seconds, default 3; 60
 * for the full drill by hand) in the middle of 100 incidents that keep coming: every
 * event arrives exactly once, every incident row too.
 */
static void test_down_during_incidents(void **state)
{
	const char *env = getenv("RINKI_SYNC_DOWN_S");
	int down_s = env ? atoi(env) : 3;
	const int64_t t0 = 1767319200000LL; /* 2026-01-02: apart from the other tests */
	struct gw *g;
	(void)state;

	int64_t n = 0; /* events written: 4 a completed call, 3 an unanswered one */
	assert_true(down_s >= 1 && down_s <= 3600);
	g = gw_new("gw-down", 50);
	gw_start_sync(g);
	for (int i = 0; i < 40; i++) {
		call_at(g, t0 + i * 60000, "2269001", i % 3 ? "completed" : "unanswered");
		n += i % 3 ? 4 : 3;
	}
	assert_int_equal(wait_count(g->id, n), 0);
	assert_int_equal(pg_rig_stop_server(&srv.rig, "immediate"), 0);
	PQfinish(srv.pg);
	srv.pg = NULL;
	assert_int_equal(wait_status(g, "state down"), 0);
	/* 50 incidents spread over the time the county is away */
	int64_t start = su_mono_ms();
	for (int i = 40; i < 90; i++) {
		call_at(g, t0 + i * 60000, "2269001", i % 3 ? "completed" : "unanswered");
		n += i % 3 ? 4 : 3;
		int64_t due = start + (int64_t)(i - 39) * down_s * 1000 / 50;
		if (due > su_mono_ms())
			su_pause_ms((int)(due - su_mono_ms()));
	}
	printf("county away for %.1f s while 50 incidents were logged\n",
	       (double)(su_mono_ms() - start) / 1000);
	assert_int_equal(pg_rig_start_server(&srv.rig), 0);
	for (int i = 90; i < 100; i++, n += 4)
		call_at(g, t0 + i * 60000, "2269001", "completed");
	assert_int_equal(n, 370);
	assert_int_equal(wait_count(g->id, n), 0);
	assert_int_equal(same_log(g->id, g->db), n);
	assert_int_equal(same_incidents(g->id, g->db), 100);
	assert_int_equal(wait_status(g, "backlog 0"), 0);
	gw_fini(g);
}

/*
 * (m) Clock skew: one gateway's clock 5 minutes ahead, another's 5 minutes behind, and
 * the first one's stepped back 10 minutes halfway (an NTP correction). Each gateway's
 * events stay in its own order in the county (by seq, whatever their times say), the
 * chains verify, and the status never shows a negative lag for events stamped ahead of
 * rinki-sync's clock.
 */
static void test_clock_skew(void **state)
{
	const int64_t skew = 5 * 60000;
	struct gw *a, *b;
	char out[4096];
	int64_t now;
	(void)state;

	a = gw_new("gw-ahead", 20);
	b = gw_new("gw-behind", 20);
	now = (int64_t)time(NULL) * 1000;
	for (int i = 0; i < 20; i++) {
		/* a's clock: +5 min, then (from i = 10) stepped back to -5 min */
		call_at(a, now + (i < 10 ? skew : -skew) + i * 1000, "2269001", "completed");
		call_at(b, now - skew + i * 1000, "2269002", "completed");
	}
	/* the county away: a's newest events are stamped ahead of rinki-sync's clock */
	assert_int_equal(pg_rig_stop_server(&srv.rig, "immediate"), 0);
	PQfinish(srv.pg);
	srv.pg = NULL;
	for (int i = 0; i < 5; i++)
		call_at(a, (int64_t)time(NULL) * 1000 + skew + i * 1000, "2269001", "completed");
	gw_start_sync(a);
	gw_start_sync(b);
	assert_int_equal(wait_status(a, "state down"), 0);
	assert_int_equal(wait_status(a, "local_head 100"), 0);
	assert_true(status_value(a, "backlog") == 100);
	assert_true(status_value(a, "lag_ms") >= 0);
	assert_int_equal(pg_rig_start_server(&srv.rig), 0);
	assert_int_equal(wait_count(a->id, 100), 0);
	assert_int_equal(wait_count(b->id, 80), 0);
	assert_int_equal(same_log(a->id, a->db), 100);
	assert_int_equal(same_log(b->id, b->db), 80);
	/* a's clock went back 10 minutes once (event 41): the county keeps seq order */
	assert_int_equal(q_i64("SELECT count(*) FROM call_events c JOIN call_events d"
			       " ON d.gateway = c.gateway AND d.seq = c.seq + 1"
			       " WHERE c.gateway = 'gw-ahead' AND d.t_ms < c.t_ms - 300000",
			       NULL),
			 1);
	/* other tests leave broken gateways on purpose: look at these two only */
	assert_true(run_verify(a, out, sizeof(out)) >= 0);
	assert_non_null(strstr(out, "gw-ahead: 100 events, intact"));
	assert_non_null(strstr(out, "gw-behind: 80 events, intact"));
	gw_fini(b);
	gw_fini(a);
}

/* ---- the server ------------------------------------------------------------------------- */

static int server_up(void **state)
{
	(void)state;
	srv.conninfo = srv.rig.conninfo; /* filled in by su_county_up() */
	return su_county_up(&srv.rig, &srv.pg);
}

static int server_down(void **state)
{
	(void)state;
	su_county_down(&srv.rig, &srv.pg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_hundred, teardown),
	    cmocka_unit_test_teardown(test_server_restart, teardown),
	    cmocka_unit_test_teardown(test_kill, teardown),
	    cmocka_unit_test_teardown(test_conflict_and_verify, teardown),
	    cmocka_unit_test_teardown(test_newer_schema, teardown),
	    cmocka_unit_test_teardown(test_local_changed_row, teardown),
	    cmocka_unit_test_teardown(test_push_rules, close_county),
	    cmocka_unit_test_teardown(test_migrate_v1, teardown),
	    cmocka_unit_test_teardown(test_three_gateways, teardown),
	    cmocka_unit_test_teardown(test_roster_pull, teardown),
	    cmocka_unit_test_teardown(test_roster_kill, teardown),
	    cmocka_unit_test_teardown(test_county_report, teardown),
	    cmocka_unit_test_teardown(test_down_during_incidents, teardown),
	    cmocka_unit_test_teardown(test_clock_skew, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, server_up, server_down);
}
