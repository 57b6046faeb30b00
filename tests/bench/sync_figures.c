/*
 * sync_figures: the county sync's figures of issue #17 in one run; printed, never asserted.
 *
 * A scratch PostgreSQL 15 server (tests/integration/pg_rig: Unix socket, fsync off) and
 * the release binaries ($RINKI_BIN, default build/ under make bench).
 *
 * (1) Page latency with rinki-sync running vs not, interleaved, and the sync lag while
 * incidents flow. Two rigs of rinkid and the simulators (tests/integration/harness): on one
 * rinki-sync runs on rinkid's configuration and call log (county.poll_ms SYNC_POLL_MS,
 * default 1000, the shipped default), on the other none. N officers' calls a side (argument
 * 1, default 100), alternately on each side (A B, B A, ...), each paged and hung up by the
 * officer, 50 ms idle between pairs. Page latency as page_latency measures it (+CTICN write
 * started -> ATD read, the simulators' CLOCK_MONOTONIC). Sync lag: per event, the county's
 * `received` (the start of the transaction that inserted it, the server's clock) minus the
 * event's `t_ms` (rinkid's wall clock at the event; same machine), so it includes rinkid's
 * own call-log commit and rinki-sync's poll interval.
 *
 * (2) Backlog drain after an hour offline: the county server stopped, a local log of an
 * hour at a busy rate written (SYNC_INCIDENTS, default 3,600 incidents an hour, 8 events
 * each: 28,800 events; one incident a second is far above any one on-call line's rate, so
 * this is an upper bound), rinki-sync running (county.retry_max 1, batch 500, the default)
 * and retrying; then the server is started again. Printed: the time from the server up to
 * the first row in the county, and from the first row to the last (events per second).
 */
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "harness.h"
#include "pg_rig.h"
#include "sync_util.h"
#include "store/db.h"

#define WAIT_MS 300000

static struct pg_rig pg;
static PGconn *conn;

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile of v[0..n) (sorts v). */
static int64_t pct(int64_t *v, int n, int p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	int i = (n * p + 99) / 100 - 1;
	return v[i < 0 ? 0 : i];
}

static PGconn *db(void)
{
	return su_conn(&conn, pg.conninfo);
}

static int64_t county_count(const char *gw)
{
	return su_county_count(db(), gw);
}

/* ---- (1) page latency with and without rinki-sync, and the sync lag --------------------- */

struct side {
	struct h_rig rig;
	int64_t *lat;
	int calls;
};

/* rinkid and the simulators; with_sync: rinkid's conf also has the county keys. */
static int side_start(struct side *s, bool with_sync, int poll_ms)
{
	char conf[1024] = "log.level notice\nmodem.clcc_poll_ms 500\n";
	if (h_rig_init(&s->rig) < 0 || h_start_sims(&s->rig) < 0)
		return -1;
	if (with_sync)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
			 "county.conninfo %s\ncounty.gateway_id lag-a\ncounty.poll_ms %d\n"
			 "county.retry_max 1\ncounty.status_file %s/sync.status\n",
			 pg.conninfo, poll_ms, s->rig.dir);
	s->rig.quiet = 1;
	if (h_cmd(&s->rig.modem, NULL, 0, "callee default noanswer") < 0 ||
	    h_start_rinkid(&s->rig, conf) < 0)
		return -1;
	return 0;
}

/* One call: paged (its latency to s->lat[i]), hung up by the officer, the incident over. */
static int one_call(struct side *s, int i)
{
	struct h_rig *rig = &s->rig;
	char reply[128], *t;
	long long t0 = 0;
	size_t mp = 0;
	int cci = i % 200 + 1;

	rig->modem.elen = 0;
	rig->modem.events[0] = '\0';
	if (h_cmd(&rig->radio, reply, sizeof(reply), "call 2269001 cci=%d", cci) < 0 ||
	    !(t = strstr(reply, "t0=")) || sscanf(t, "t0=%lld", &t0) != 1 ||
	    h_wait_event(&rig->modem, &mp, "event dial", 3000) < 0)
		return -1;
	s->lat[i] = h_event_time(&rig->modem, "event dial") - t0;
	if (h_cmd(&rig->radio, NULL, 0, "release %d 1", cci) < 0)
		return -1;
	s->calls++;
	return h_wait_ev_count(rig, s->calls, 5000, "incident_end", NULL);
}

static int part_latency(int n, int poll_ms)
{
	static struct side with, without;
	char slog[256];
	pid_t sync = 0;
	int rc = -1;

	with.lat = calloc((size_t)n, sizeof(int64_t));
	without.lat = calloc((size_t)n, sizeof(int64_t));
	if (!with.lat || !without.lat)
		return -1;
	if (side_start(&with, true, poll_ms) < 0 || side_start(&without, false, 0) < 0)
		goto out;
	snprintf(slog, sizeof(slog), "%s/sync.log", with.rig.dir);
	sync = su_sync_start(h_bin(), with.rig.conf, NULL, slog);
	if (sync < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		struct side *a = i % 2 ? &without : &with, *b = i % 2 ? &with : &without;
		if (one_call(a, i) < 0 || one_call(b, i) < 0)
			goto out;
		h_pump(&with.rig, 25);
		h_pump(&without.rig, 25);
	}
	int64_t local = su_local_count(with.rig.db), end = su_mono_ms() + WAIT_MS;
	while (county_count("lag-a") != local && su_mono_ms() < end)
		su_pause_ms(20);
	if (county_count("lag-a") != local) {
		fprintf(stderr, "sync_figures: the county has %lld of %lld events (see %s)\n",
			(long long)county_count("lag-a"), (long long)local, slog);
		goto out;
	}
	PGresult *res = PQexec(db(), "SELECT (extract(epoch FROM received) * 1000)::bigint - t_ms"
				     " FROM call_events WHERE gateway = 'lag-a'");
	int rows = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
	int64_t *lag = calloc((size_t)rows + 1, sizeof(int64_t));
	for (int i = 0; lag && i < rows; i++)
		lag[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	PQclear(res);
	if (!lag || rows == 0) {
		free(lag);
		goto out;
	}
	printf(" sync lag, event in rinkid -> county transaction (%d events of %d incidents, "
	       "county.poll_ms %d), ms: p50 %lld  p99 %lld  max %lld\n",
	       rows, n, poll_ms, (long long)pct(lag, rows, 50), (long long)pct(lag, rows, 99),
	       (long long)pct(lag, rows, 100));
	free(lag);
	printf(" page latency (+CTICN write started -> ATD read), %d calls a side interleaved, "
	       "microseconds:\n",
	       n);
	printf("  rinki-sync running:     p50 %8.1f  p90 %8.1f  p99 %8.1f\n",
	       pct(with.lat, n, 50) / 1000.0, pct(with.lat, n, 90) / 1000.0,
	       pct(with.lat, n, 99) / 1000.0);
	printf("  no rinki-sync:          p50 %8.1f  p90 %8.1f  p99 %8.1f\n",
	       pct(without.lat, n, 50) / 1000.0, pct(without.lat, n, 90) / 1000.0,
	       pct(without.lat, n, 99) / 1000.0);
	rc = 0;
out:
	su_sync_stop(&sync, SIGTERM);
	h_rig_fini(&with.rig);
	h_rig_fini(&without.rig);
	free(with.lat);
	free(without.lat);
	return rc;
}

/* ---- (2) the backlog of an hour offline ------------------------------------------------- */

static int write_hour(const char *path, int incidents)
{
	struct gw_db *h;
	int64_t inc = 0, n = 0, total = (int64_t)incidents * 8;
	int64_t t0 = 1765000000000LL, step = 3600000 / 8 / (incidents ? incidents : 1);

	if (gw_db_open(path, &h) < 0)
		return -1;
	while (n < total) {
		int64_t t = t0 + n * (step ? step : 1);
		if (n % 500 == 0 && gw_db_batch_begin(h) < 0)
			return -1;
		if (n % 8 == 0) {
			struct gw_incident_rec rec = {
			    .started_ms = t, .caller = "2269001", .line = "sos", .radio_cci = 3};
			if (gw_db_incident_open(h, &rec, &inc) < 0)
				return -1;
		} else if (n % 8 == 7) {
			if (gw_db_incident_close(h, inc, t, "accepted", -1, "aino") < 0)
				return -1;
		} else if (gw_db_event_append(h, inc, t, "page", "aino +358401234567 step 1") < 0) {
			return -1;
		}
		n++;
		if ((n % 500 == 0 || n == total) && gw_db_batch_commit(h) < 0)
			return -1;
	}
	gw_db_close(h);
	return 0;
}

static int part_backlog(int incidents)
{
	char dir[] = "/tmp/rinki-figs-XXXXXX", dbp[64], conf[64], log[64];
	int64_t total = (int64_t)incidents * 8, t_up, t_first = 0, t_done = 0, end;
	pid_t sync = 0;
	int rc = -1;

	if (!mkdtemp(dir))
		return -1;
	snprintf(dbp, sizeof(dbp), "%s/rinki.db", dir);
	snprintf(conf, sizeof(conf), "%s/rinki.conf", dir);
	snprintf(log, sizeof(log), "%s/sync.log", dir);
	if (su_write_file(conf,
			  "db.path %s\ncounty.conninfo %s\ncounty.gateway_id hour-a\n"
			  "county.retry_max 1\ncounty.status_file %s/sync.status\nlog.level warn\n",
			  dbp, pg.conninfo, dir) < 0)
		goto out;
	if (pg_rig_stop_server(&pg, "fast") < 0)
		goto out;
	PQfinish(conn);
	conn = NULL;
	sync = su_sync_start(h_bin(), conf, NULL, log); /* finds the county away and retries */
	if (sync < 0 || write_hour(dbp, incidents) < 0)
		goto out;
	if (pg_rig_start_server(&pg) < 0)
		goto out;
	t_up = su_mono_ms();
	end = t_up + WAIT_MS;
	while (su_mono_ms() < end) {
		int64_t c = county_count("hour-a");
		if (c > 0 && !t_first)
			t_first = su_mono_ms();
		if (c == total) {
			t_done = su_mono_ms();
			break;
		}
		su_pause_ms(5);
	}
	if (!t_done) {
		fprintf(stderr, "sync_figures: the backlog did not drain (see %s)\n", log);
		goto out;
	}
	printf(" backlog of an hour offline (%d incidents x 8 = %lld events, batch 500, "
	       "county.retry_max 1): first row %.2f s after the server was up, all in %.2f s "
	       "after that: %.0f events/s\n",
	       incidents, (long long)total, (t_first - t_up) / 1000.0, (t_done - t_first) / 1000.0,
	       (double)total * 1000.0 / (double)(t_done - t_first > 0 ? t_done - t_first : 1));
	rc = 0;
out:
	su_sync_stop(&sync, SIGTERM);
	if (!pg.up)
		pg_rig_start_server(&pg);
	if (su_rm_rf(dir) < 0)
		rc = -1;
	return rc;
}

int main(int argc, char **argv)
{
	h_bench_bin();
	int n = argc > 1 ? atoi(argv[1]) : 100;
	int poll_ms = getenv("SYNC_POLL_MS") ? atoi(getenv("SYNC_POLL_MS")) : 1000;
	int incidents = getenv("SYNC_INCIDENTS") ? atoi(getenv("SYNC_INCIDENTS")) : 3600;
	int rc;

	if (n < 10 || n > 100000 || poll_ms < 100 || poll_ms > 60000 || incidents < 1 ||
	    incidents > 1000000) {
		fprintf(stderr, "usage: sync_figures [N >= 10]  (SYNC_POLL_MS 100..60000, "
				"SYNC_INCIDENTS 1..1000000)\n");
		return 2;
	}
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	if (pg_rig_start(&pg) < 0)
		return 1;
	printf("sync_figures: PostgreSQL 15 (Unix socket, fsync off), binaries in %s\n", h_bin());
	rc = part_latency(n, poll_ms);
	if (rc == 0)
		rc = part_backlog(incidents);
	su_county_down(&pg, &conn);
	return rc == 0 ? 0 : 1;
}
