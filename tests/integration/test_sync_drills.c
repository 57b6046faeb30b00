/*
 * Integration drills for the county sync (issue #17): rinki-sync against a real PostgreSQL
 * server (tests/integration/pg_rig.c) while the county database goes away or the gateways'
 * clocks disagree.
 *
 * (1) County down during real incidents: rinkid, tetra-sim and modem-sim as processes
 * (tests/integration/harness.c), rinki-sync on rinkid's own configuration and call log.
 * Officers' calls are made one after another (each paged, then hung up by the officer);
 * after 30 % of them the county server is stopped (immediate: a crash), rinki-sync must
 * report "state down", the calls go on, and the server is started again after 60 % of them
 * and at least RINKI_DRILL_DOWN_S seconds (default 3; `make sync-drills` runs 60).
 * RINKI_DRILL_INCIDENTS sets the number of calls (default 100), RINKI_DRILL_GAP_MS the idle
 * time after each (default 0; `make sync-drills` 1000, so that the calls span the outage). Every
 * local event must then be in the county exactly once: the county's (seq, hash) rows of the gateway
 * equal the local (id, hash) rows one for one, the incident rows equal, rinki-sync --verify intact.
 *
 * (2) Clock skew: two gateways whose wall clocks are 5 minutes ahead and 5 minutes behind,
 * their call logs written through the store API, alternately, in real time, with both
 * rinki-syncs running; halfway through the fast gateway's clock is stepped back 10 minutes
 * (NTP correcting it), so its own log runs backwards in time. The county must keep each
 * gateway's order by its sequence: same (seq, hash) lists as the local logs, --verify intact
 * for both, and ordering by time would have given another order (the drill really skewed).
 *
 * Waits are bounded waits on conditions (30 s or more), never "sleep, then assert".
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pg_rig.h"
#include "sync_util.h"
#include "store/db.h"

#define WAIT_MS 60000
#define POLL_MS 20

static struct {
	struct pg_rig rig;
	PGconn *pg; /* the test's own connection */
} srv;

/* ---- small helpers (the rest in sync_util) ---------------------------------------------- */

static int env_int(const char *name, int def, int lo, int hi)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: want %d..%d, got '%s'\n", name, lo, hi, s);
		exit(2);
	}
	return (int)v;
}

static PGconn *db_conn(void)
{
	return su_conn(&srv.pg, srv.rig.conninfo);
}

static int64_t county_count(const char *gw)
{
	return su_county_count(db_conn(), gw);
}

/* Wait until the county holds as many events of gw as the local log. 0, or -1 after WAIT_MS. */
static int wait_caught_up(const char *gw, const char *db_path)
{
	int64_t end = su_mono_ms() + WAIT_MS;
	while (su_mono_ms() < end) {
		int64_t local = su_local_count(db_path);
		if (local > 0 && county_count(gw) == local)
			return 0;
		su_pause_ms(POLL_MS);
	}
	fprintf(stderr, "timeout: %s has %lld events in the county, %lld locally\n", gw,
		(long long)county_count(gw), (long long)su_local_count(db_path));
	return -1;
}

static int64_t same_log(const char *gw, const char *db_path)
{
	return su_same_log(db_conn(), gw, db_path);
}

static int64_t same_incidents(const char *gw, const char *db_path)
{
	return su_same_incidents(db_conn(), gw, db_path);
}

/* Start rinki-sync -c conf, stdout and stderr to log. The pid. */
static pid_t sync_start(const char *conf, const char *log)
{
	pid_t pid = su_sync_start(h_bin(), conf, NULL, log);
	assert_true(pid >= 0);
	return pid;
}

/* SIGTERM and reap; true when it exited 0. */
static bool sync_stop(pid_t *pid)
{
	int st = su_sync_stop(pid, SIGTERM);
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The status file has the line exactly (bounded wait). 0 or -1. */
static int wait_status(const char *path, const char *line)
{
	return su_wait_status(path, line, WAIT_MS);
}

/* rinki-sync -c conf --verify: its exit status, its output in out. */
static int run_verify(const char *conf, char *out, size_t len)
{
	return su_sync_run(h_bin(), conf, "--verify", out, len);
}

/* The county conf lines for gateway id, status file in dir. */
static void county_conf(char *buf, size_t len, const char *id, const char *dir)
{
	snprintf(buf, len,
		 "county.conninfo %s application_name=rinki-sync-drill\ncounty.gateway_id %s\n"
		 "county.batch 50\ncounty.poll_ms 100\ncounty.retry_max 1\n"
		 "county.status_file %s/sync.status\ncounty.metrics_file %s/sync.prom\n",
		 srv.rig.conninfo, id, dir, dir);
}

/* ---- drill 1: the county down during real incidents ------------------------------------- */

static struct h_rig rig;
static pid_t rig_sync;

/*
 * Wait (bounded) until the metrics file at path holds the line want: rinki-sync replaces its
 * status file and its metrics file one after the other, so a status line seen is no proof
 * that the metrics file already says the same.
 */
static bool metrics_say(const char *path, const char *want)
{
	return su_wait_status(path, want, WAIT_MS) == 0;
}

/* rinkictl -c conf -s sock status [--json] into out; its exit status. */
static int rinkictl_status(const char *json, char *out, size_t len)
{
	char bin[300], sock[300], path[300];
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(sock, sizeof(sock), "%s/ctl.sock", rig.dir);
	snprintf(path, sizeof(path), "%s/status.out", rig.dir);
	unlink(path);
	char *argv[] = {bin, "-c", rig.conf, "-s", sock, "status", (char *)json, NULL};
	int rc = h_run(argv, path);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(out, 1, len - 1, f) : 0;
	if (f)
		fclose(f);
	out[n] = '\0';
	return rc;
}

/* One officer's call: paged (the modem dials), then the officer hangs up; the incident ends. */
static void one_incident(int i)
{
	char reply[128];
	size_t mp = 0;
	int cci = i % 200 + 1;

	rig.modem.elen = 0;
	rig.modem.events[0] = '\0';
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001 cci=%d", cci), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event dial", 5000), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	assert_int_equal(h_wait_ev_count(&rig, i + 1, 5000, "incident_end", NULL), 0);
}

static void test_county_down(void **state)
{
	int n = env_int("RINKI_DRILL_INCIDENTS", 100, 10, 100000);
	int down_s = env_int("RINKI_DRILL_DOWN_S", 3, 1, 3600);
	int gap_ms = env_int("RINKI_DRILL_GAP_MS", 0, 0, 60000);
	char conf[1024], log[200], status[200], prom[200], out[4096], want[96];
	int64_t stopped_at = 0, down_ms = 0, at_stop = 0;
	(void)state;

	assert_int_equal(h_rig_init(&rig), 0);
	assert_int_equal(h_start_sims(&rig), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	county_conf(conf, sizeof(conf), "drill-down", rig.dir);
	assert_int_equal(h_start_rinkid(&rig, conf), 0);
	snprintf(log, sizeof(log), "%s/sync.log", rig.dir);
	snprintf(status, sizeof(status), "%s/sync.status", rig.dir);
	snprintf(prom, sizeof(prom), "%s/sync.prom", rig.dir);
	rig_sync = sync_start(rig.conf, log);
	assert_int_equal(wait_status(status, "state ok"), 0);

	for (int i = 0; i < n; i++) {
		if (i == n * 3 / 10) {
			at_stop = county_count("drill-down");
			assert_int_equal(pg_rig_stop_server(&srv.rig, "immediate"), 0);
			stopped_at = su_mono_ms();
		}
		one_incident(i);
		if (gap_ms)
			h_pump(&rig, gap_ms);
		if (stopped_at && !srv.rig.up && i == n * 3 / 10) {
			/* rinki-sync has new events to push and finds the county away: its status,
			   its metrics and rinkictl status say so */
			assert_int_equal(wait_status(status, "state down"), 0);
			snprintf(want, sizeof(want), "rinki_sync_up{gateway=\"drill-down\"} 0");
			assert_true(metrics_say(prom, want));
			assert_int_equal(rinkictl_status(NULL, out, sizeof(out)), 0);
			assert_non_null(strstr(out, "\ncounty    down: backlog "));
		}
		if (!srv.rig.up && i + 1 >= n * 6 / 10 &&
		    su_mono_ms() - stopped_at >= down_s * 1000) {
			down_ms = su_mono_ms() - stopped_at;
			assert_int_equal(pg_rig_start_server(&srv.rig), 0);
		}
	}
	if (!srv.rig.up) { /* the calls were over before the outage was: hold it to its length */
		while (su_mono_ms() - stopped_at < down_s * 1000)
			su_pause_ms(100);
		down_ms = su_mono_ms() - stopped_at;
		assert_int_equal(pg_rig_start_server(&srv.rig), 0);
	}
	/* back: status and metrics say so while rinkid is still up (the exit status is rinkid's
	   health: the county away or not, it pages) */
	assert_int_equal(wait_status(status, "state ok"), 0);
	assert_int_equal(rinkictl_status("--json", out, sizeof(out)), 0);
	assert_true(strncmp(out, "{\"county\":{\"state\":\"ok\",\"backlog\":", 34) == 0);
	/* rinkid stopped: everything it will ever write for these calls is in the log */
	assert_int_equal(h_kill_rinkid(&rig, SIGTERM), 0);
	assert_int_equal(wait_caught_up("drill-down", rig.db), 0);
	assert_int_equal(wait_status(status, "backlog 0"), 0);
	assert_int_equal(wait_status(status, "state ok"), 0);
	snprintf(want, sizeof(want), "rinki_sync_backlog_events{gateway=\"drill-down\"} 0");
	assert_true(metrics_say(prom, want));
	snprintf(want, sizeof(want), "rinki_sync_up{gateway=\"drill-down\"} 1");
	assert_true(metrics_say(prom, want));
	int64_t events = same_log("drill-down", rig.db);
	assert_true(events > at_stop);
	assert_int_equal(same_incidents("drill-down", rig.db), n);
	assert_true(sync_stop(&rig_sync));
	assert_int_equal(run_verify(rig.conf, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "drill-down: %lld events, intact", (long long)events);
	assert_non_null(strstr(out, want));
	printf("  %d incidents, %lld events; county down %.1f s from incident %d with %lld events "
	       "in it; all there exactly once afterwards\n",
	       n, (long long)events, (double)down_ms / 1000, n * 3 / 10, (long long)at_stop);
}

static int rig_teardown(void **state)
{
	(void)state;
	if (rig_sync > 0) {
		kill(rig_sync, SIGKILL);
		waitpid(rig_sync, NULL, 0);
		rig_sync = 0;
	}
	h_rig_fini(&rig);
	if (!srv.rig.up)
		return pg_rig_start_server(&srv.rig);
	return 0;
}

/* ---- drill 2: clock skew between two gateways ------------------------------------------- */

struct skewed {
	const char *id;
	char dir[64], db[96], conf[96], log[96], status[96];
	struct gw_db *h;
	int64_t skew_ms; /* added to the wall clock for this gateway's timestamps */
	int64_t incident, events;
	pid_t sync;
};

static struct skewed gws[2];

static void skewed_init(struct skewed *g, const char *id, int64_t skew_ms)
{
	char dir[sizeof(g->dir)] = "/tmp/rinki-skew-XXXXXX", cc[512];

	memset(g, 0, sizeof(*g));
	g->id = id;
	g->skew_ms = skew_ms;
	assert_non_null(mkdtemp(dir));
	memcpy(g->dir, dir, sizeof(dir));
	snprintf(g->db, sizeof(g->db), "%s/rinki.db", dir);
	snprintf(g->conf, sizeof(g->conf), "%s/rinki.conf", dir);
	snprintf(g->log, sizeof(g->log), "%s/sync.log", dir);
	snprintf(g->status, sizeof(g->status), "%s/sync.status", dir);
	assert_int_equal(gw_db_open(g->db, &g->h), 0);
	county_conf(cc, sizeof(cc), id, dir);
	assert_int_equal(su_write_file(g->conf, "db.path %s\n%s", g->db, cc), 0);
}

/* One event at this gateway's clock: an incident opened, a page, or the incident closed. */
static void skewed_event(struct skewed *g)
{
	int64_t t = su_wall_ms() + g->skew_ms;
	int k = (int)(g->events % 4);

	if (k == 0) {
		struct gw_incident_rec rec = {
		    .started_ms = t, .caller = "2269001", .line = "sos", .radio_cci = 3};
		assert_int_equal(gw_db_incident_open(g->h, &rec, &g->incident), 0);
	} else if (k == 3) {
		assert_int_equal(gw_db_incident_close(g->h, g->incident, t, "accepted", -1, "aino"),
				 0);
	} else {
		assert_int_equal(gw_db_event_append(g->h, g->incident, t, "page", "+358401234567"),
				 0);
	}
	g->events++;
}

/* Whether the county's events of gw ordered by time differ from their order by seq. */
static bool time_order_differs(const char *gw)
{
	const char *v[] = {gw};
	PGresult *res = PQexecParams(db_conn(),
				     "SELECT seq FROM call_events WHERE gateway = $1"
				     " ORDER BY t_ms, seq",
				     1, NULL, v, NULL, NULL, 0);
	bool differs = false;

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	for (int i = 1; i < PQntuples(res); i++)
		if (strtoll(PQgetvalue(res, i, 0), NULL, 10) <
		    strtoll(PQgetvalue(res, i - 1, 0), NULL, 10))
			differs = true;
	PQclear(res);
	return differs;
}

static void test_clock_skew(void **state)
{
	const int pairs = 200;
	char out[4096], want[96];
	(void)state;

	skewed_init(&gws[0], "drill-ahead", 5 * 60 * 1000);
	skewed_init(&gws[1], "drill-behind", -5 * 60 * 1000);
	for (int k = 0; k < 2; k++)
		gws[k].sync = sync_start(gws[k].conf, gws[k].log);
	for (int i = 0; i < pairs; i++) {
		if (i == pairs / 2) /* NTP steps the fast clock back to 5 minutes behind */
			gws[0].skew_ms = -5 * 60 * 1000;
		skewed_event(&gws[0]);
		skewed_event(&gws[1]);
		if (i % 20 == 0) /* let some batches go while the logs grow */
			su_pause_ms(50);
	}
	for (int k = 0; k < 2; k++) {
		assert_int_equal(wait_caught_up(gws[k].id, gws[k].db), 0);
		assert_int_equal(same_log(gws[k].id, gws[k].db), pairs);
		assert_int_equal(same_incidents(gws[k].id, gws[k].db), pairs / 4);
		assert_true(sync_stop(&gws[k].sync));
	}
	/* the drill did skew: by time, the ahead gateway's log runs backwards; behind's does not */
	assert_true(time_order_differs("drill-ahead"));
	assert_false(time_order_differs("drill-behind"));
	assert_int_equal(run_verify(gws[0].conf, out, sizeof(out)), 0);
	for (int k = 0; k < 2; k++) {
		snprintf(want, sizeof(want), "%s: %d events, intact", gws[k].id, pairs);
		assert_non_null(strstr(out, want));
	}
}

static int skew_teardown(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		if (gws[k].sync > 0) {
			kill(gws[k].sync, SIGKILL);
			waitpid(gws[k].sync, NULL, 0);
			gws[k].sync = 0;
		}
		gw_db_close(gws[k].h);
		gws[k].h = NULL;
		if (gws[k].dir[0]) {
			char *argv[] = {"rm", "-rf", gws[k].dir, NULL};
			h_run(argv, NULL);
			gws[k].dir[0] = '\0';
		}
	}
	return 0;
}

static int server_up(void **state)
{
	(void)state;
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
	    cmocka_unit_test_teardown(test_county_down, rig_teardown),
	    cmocka_unit_test_teardown(test_clock_skew, skew_teardown),
	};
	return cmocka_run_group_tests(tests, server_up, server_down);
}
