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
#include "sync_util.h"
#include "store/db.h"

#define EVENTS 10000

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
	char dir[] = "/tmp/rinki-drain-XXXXXX", db[64], conf[64], out[96];
	struct pg_rig rig;
	PGconn *pg;
	int rc = 1;

	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	if (!mkdtemp(dir) || pg_rig_start(&rig) < 0)
		return 1;
	snprintf(db, sizeof(db), "%s/rinki.db", dir);
	snprintf(conf, sizeof(conf), "%s/rinki.conf", dir);
	snprintf(out, sizeof(out), "%s/sync.log", dir);
	pg = PQconnectdb(rig.conninfo);
	if (PQstatus(pg) != CONNECTION_OK || write_log(db) < 0) {
		fprintf(stderr, "sync_drain: setup failed\n");
		goto out;
	}
	printf("sync_drain: %d events in the local log; rinki-sync --once into PostgreSQL 15 "
	       "(Unix socket, fsync off)\n",
	       EVENTS);
	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		char gw[32];
		int64_t t0, t1, count;
		pid_t pid;
		int st;

		snprintf(gw, sizeof(gw), "drain-%d", batches[i]);
		if (su_write_file(
			conf,
			"db.path %s\ncounty.conninfo %s\ncounty.gateway_id %s\n"
			"county.batch %d\ncounty.status_file %s/sync.status\nlog.level warn\n",
			db, rig.conninfo, gw, batches[i], dir) < 0)
			goto out;
		t0 = su_mono_ms();
		pid = su_sync_start(bin_dir, conf, "--once", out);
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "sync_drain: rinki-sync --once failed (see %s)\n", out);
			goto out;
		}
		t1 = su_mono_ms();
		count = su_county_count(pg, gw);
		printf("  batch %5d: %6.2f s, %8.0f events/s, %lld events in the county\n",
		       batches[i], (t1 - t0) / 1000.0, EVENTS * 1000.0 / (double)(t1 - t0),
		       (long long)count);
		if (count != EVENTS) {
			fprintf(stderr, "sync_drain: the county has %lld events, not %d\n",
				(long long)count, EVENTS);
			goto out;
		}
	}
	rc = 0;
out:
	PQfinish(pg);
	pg_rig_fini(&rig);
	if (su_rm_rf(dir) < 0)
		rc = 1;
	return rc;
}
