/*
 * sync_lag: how long an event waits between its commit in the gateway's log and its
 * arrival in the county database while rinki-sync runs; printed, never asserted.
 *
 * A scratch PostgreSQL 15 server (tests/integration/pg_rig), rinki-sync (the release
 * build, $RINKI_BIN, default build/) running with county.poll_ms POLL_MS (argument 1,
 * default 200), and EVENTS events written one at a time by the gateway's store code at
 * RATE per second, each stamped with the wall clock at its commit. The lag of an event is
 * the county's `received` (the start of the transaction that inserted it, the server's
 * clock: the same machine) minus that stamp; p50, p99 and max over all events, once every
 * event is in the county.
 */
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
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

#define EVENTS	600
#define RATE	20 /* events per second */
#define WAIT_MS 60000

/* One integer (or -1) from sql on pg. */
static long long q(PGconn *pg, const char *sql)
{
	return su_q_i64(pg, sql, NULL);
}

int main(int argc, char **argv)
{
	const char *bin_dir = getenv("RINKI_BIN") ? getenv("RINKI_BIN") : "build";
	int poll_ms = argc > 1 ? atoi(argv[1]) : 200;
	char dir[] = "/tmp/rinki-lag-XXXXXX", db[64], conf[64], out[96];
	struct pg_rig rig;
	struct gw_db *gdb = NULL;
	PGconn *pg = NULL;
	pid_t pid = -1;
	int64_t inc = 0;
	int rc = 1;

	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	if (poll_ms < 100 || poll_ms > 60000 || !mkdtemp(dir) || pg_rig_start(&rig) < 0)
		return 1;
	snprintf(db, sizeof(db), "%s/rinki.db", dir);
	snprintf(conf, sizeof(conf), "%s/rinki.conf", dir);
	snprintf(out, sizeof(out), "%s/sync.log", dir);
	pg = PQconnectdb(rig.conninfo);
	if (PQstatus(pg) != CONNECTION_OK || gw_db_open(db, &gdb) < 0 ||
	    su_write_file(
		conf,
		"db.path %s\ncounty.conninfo %s\ncounty.gateway_id lag\ncounty.poll_ms %d\n"
		"county.status_file %s/sync.status\nlog.level warn\n",
		db, rig.conninfo, poll_ms, dir) < 0) {
		fprintf(stderr, "sync_lag: setup failed\n");
		goto out;
	}
	pid = su_sync_start(bin_dir, conf, NULL, out);
	if (pid < 0)
		goto out;
	for (int n = 0; n < EVENTS; n++) {
		int64_t t = su_wall_ms();
		int r;
		if (n % 10 == 0) {
			struct gw_incident_rec rec = {
			    .started_ms = t, .caller = "2269001", .line = "sos", .radio_cci = 3};
			r = gw_db_incident_open(gdb, &rec, &inc);
		} else if (n % 10 == 9) {
			r = gw_db_incident_close(gdb, inc, t, "completed", -1, "aino");
		} else {
			r = gw_db_event_append(gdb, inc, t, "page", "aino +358401234567 step 1");
		}
		if (r < 0) {
			fprintf(stderr, "sync_lag: local write failed\n");
			goto out;
		}
		su_pause_ms(1000 / RATE);
	}
	for (int64_t end = su_wall_ms() + WAIT_MS;
	     q(pg, "SELECT count(*) FROM call_events WHERE gateway = 'lag'") < EVENTS;) {
		if (su_wall_ms() > end) {
			fprintf(stderr, "sync_lag: not every event reached the county (see %s)\n",
				out);
			goto out;
		}
		su_pause_ms(50);
	}
	static const char lag[] = "(extract(epoch FROM received) * 1000)::int8 - t_ms";
	char sql[3][256];
	const double ps[2] = {0.5, 0.99};
	for (int i = 0; i < 2; i++)
		snprintf(sql[i], sizeof(sql[i]),
			 "SELECT percentile_disc(%.2f) WITHIN GROUP (ORDER BY %s) FROM call_events"
			 " WHERE gateway = 'lag'",
			 ps[i], lag);
	snprintf(sql[2], sizeof(sql[2]), "SELECT max(%s) FROM call_events WHERE gateway = 'lag'",
		 lag);
	printf("sync_lag: %d events at %d/s, county.poll_ms %d, PostgreSQL 15 (Unix socket, "
	       "fsync off): commit to county p50 %lld ms, p99 %lld ms, max %lld ms\n",
	       EVENTS, RATE, poll_ms, q(pg, sql[0]), q(pg, sql[1]), q(pg, sql[2]));
	rc = 0;
out:
	su_sync_stop(&pid, SIGTERM);
	gw_db_close(gdb);
	PQfinish(pg);
	pg_rig_fini(&rig);
	if (su_rm_rf(dir) < 0)
		rc = 1;
	return rc;
}
