/*
 * sync_drain: how fast rinki-sync drains a backlog into the county database; printed,
 * never asserted.
 *
 * A scratch PostgreSQL 15 server (tests/integration/pg_rig: Unix socket, fsync off, so
 * the figure is rinki-sync's and the protocol's, not a disk's), one local call log of
 * 10,000 events (incidents of 10 events: open, 8 pages, close) written by the gateway's
 * store code, then `rinki-sync --once` (the release build, $RINKI_BIN, default build/)
 * per batch size, each under a gateway id of its own: the time from its start to its exit,
 * and events per second. The county's row count is checked after each run.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "pg_rig.h"
#include "store/db.h"

#define EVENTS 10000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_log(const char *path)
{
	struct gw_db *db;
	int64_t inc = 0, n = 0;

	if (gw_db_open(path, &db) < 0)
		return -1;
	while (n < EVENTS) {
		int64_t t = 1765000000000LL + n * 1000;
		if (n % 500 == 0 && gw_db_batch_begin(db) < 0)
			return -1;
		if (n % 10 == 0) {
			struct gw_incident_rec rec = {
			    .started_ms = t, .caller = "2269001", .line = "sos", .radio_cci = 3};
			if (gw_db_incident_open(db, &rec, &inc) < 0)
				return -1;
		} else if (n % 10 == 9) {
			if (gw_db_incident_close(db, inc, t, "accepted", -1, "aino") < 0)
				return -1;
		} else if (gw_db_event_append(db, inc, t, "page", "aino +358401234567 step 1") <
			   0) {
			return -1;
		}
		n++;
		if (n % 500 == 0 && gw_db_batch_commit(db) < 0)
			return -1;
	}
	gw_db_close(db);
	return 0;
}

int main(void)
{
	static const int batches[] = {10, 100, 500, 2000};
	const char *bin_dir = getenv("RINKI_BIN") ? getenv("RINKI_BIN") : "build";
	char dir[] = "/tmp/rinki-drain-XXXXXX", db[64], conf[64], bin[256], out[96];
	struct pg_rig rig;
	PGconn *pg;
	int rc = 1;

	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	if (!mkdtemp(dir) || pg_rig_start(&rig) < 0)
		return 1;
	snprintf(db, sizeof(db), "%s/rinki.db", dir);
	snprintf(conf, sizeof(conf), "%s/rinki.conf", dir);
	snprintf(out, sizeof(out), "%s/sync.log", dir);
	snprintf(bin, sizeof(bin), "%s/rinki-sync", bin_dir);
	pg = PQconnectdb(rig.conninfo);
	if (PQstatus(pg) != CONNECTION_OK || write_log(db) < 0) {
		fprintf(stderr, "sync_drain: setup failed\n");
		goto out;
	}
	printf("sync_drain: %d events in the local log; rinki-sync --once into PostgreSQL 15 "
	       "(Unix socket, fsync off)\n",
	       EVENTS);
	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		char gw[32], count[32];
		FILE *f = fopen(conf, "w");
		double t0, t1;
		pid_t pid;
		int st;

		snprintf(gw, sizeof(gw), "drain-%d", batches[i]);
		if (!f)
			goto out;
		fprintf(f,
			"db.path %s\ncounty.conninfo %s\ncounty.gateway_id %s\ncounty.batch %d\n"
			"county.status_file %s/sync.status\nlog.level warn\n",
			db, rig.conninfo, gw, batches[i], dir);
		fclose(f);
		t0 = now_s();
		pid = fork();
		if (pid == 0) {
			int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (fd >= 0)
				dup2(fd, 2);
			execl(bin, bin, "-c", conf, "--once", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "sync_drain: %s failed (see %s)\n", bin, out);
			goto out;
		}
		t1 = now_s();
		const char *v[] = {gw};
		PGresult *res =
		    PQexecParams(pg, "SELECT count(*) FROM call_events WHERE gateway = $1", 1, NULL,
				 v, NULL, NULL, 0);
		snprintf(count, sizeof(count), "%s",
			 PQresultStatus(res) == PGRES_TUPLES_OK ? PQgetvalue(res, 0, 0) : "?");
		PQclear(res);
		printf("  batch %5d: %6.2f s, %8.0f events/s, %s events in the county\n",
		       batches[i], t1 - t0, EVENTS / (t1 - t0), count);
		if (atoi(count) != EVENTS) {
			fprintf(stderr, "sync_drain: the county has %s events, not %d\n", count,
				EVENTS);
			goto out;
		}
	}
	rc = 0;
out:
	PQfinish(pg);
	pg_rig_fini(&rig);
	snprintf(bin, sizeof(bin), "rm -rf %s", dir);
	if (system(bin) != 0)
		rc = 1;
	return rc;
}
