/*
 * sync_page: page latency with the county sync on and off, in the same run; printed,
 * never asserted.
 *
 * Two gateways, each a rinkid (release build, $RINKI_BIN, default build) with its own
 * tetra-sim and modem-sim: on one, rinki-sync runs against a scratch PostgreSQL 15
 * (tests/integration/pg_rig; county.poll_ms 200) and pushes every event of its call log
 * while the calls come; the other has no sync. Calls alternate between them (off, on,
 * on, off, ...) so load that changes during the run falls on both. The latency is, as in
 * page_latency, from tetra-sim starting the write of +CTICN to modem-sim reading the end
 * of the first worker's ATD (both the simulators' CLOCK_MONOTONIC). p50/p90/p99 in
 * microseconds and the ratio on/off; the county's event count at the end shows the sync
 * kept up.
 *
 *   build/bench/sync_page [N]   (N calls a side, default 200)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pg_rig.h"

struct side {
	struct h_rig rig;
	int64_t *lat;
};

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(int64_t *v, int n, int p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	int i = (n * p + 99) / 100 - 1;
	return (double)v[i < 0 ? 0 : i] / 1000;
}

static int side_start(struct side *s)
{
	struct h_rig *rig = &s->rig;
	if (h_rig_init(rig) < 0 || h_start_sims(rig) < 0)
		return -1;
	rig->quiet = 1;
	if (h_cmd(&rig->modem, NULL, 0, "callee default noanswer") < 0 ||
	    h_start_rinkid(rig, "log.level notice\nmodem.clcc_poll_ms 500") < 0)
		return -1;
	return 0;
}

/* One call: +CTICN written -> ATD read into s->lat[i]; then the officer hangs up. */
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
	return h_wait_event(&rig->modem, &mp, "AT+CHUP", 3000);
}

int main(int argc, char **argv)
{
	static struct side off, on;
	struct pg_rig county;
	char conf[160], bin[256], log[160];
	int n = argc > 1 ? atoi(argv[1]) : 200, rc = 1;
	pid_t sync = -1;

	if (n < 10 || n > 100000) {
		fprintf(stderr, "usage: sync_page [N >= 10]\n");
		return 2;
	}
	off.lat = calloc((size_t)n, sizeof(int64_t));
	on.lat = calloc((size_t)n, sizeof(int64_t));
	if (!off.lat || !on.lat || pg_rig_start(&county) < 0)
		return 1;
	if (side_start(&off) < 0 || side_start(&on) < 0) {
		fprintf(stderr, "sync_page: setup failed\n");
		goto out;
	}
	snprintf(conf, sizeof(conf), "%s/sync.conf", on.rig.dir);
	snprintf(log, sizeof(log), "%s/sync.log", on.rig.dir);
	snprintf(bin, sizeof(bin), "%s/rinki-sync", h_bin());
	FILE *f = fopen(conf, "w");
	if (!f)
		goto out;
	fprintf(f,
		"db.path %s\ncounty.conninfo %s\ncounty.gateway_id on\ncounty.poll_ms 200\n"
		"county.status_file %s/sync.status\nlog.level warn\n",
		on.rig.db, county.conninfo, on.rig.dir);
	fclose(f);
	sync = fork();
	if (sync == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		execl(bin, bin, "-c", conf, (char *)NULL);
		_exit(127);
	}
	if (sync < 0)
		goto out;
	h_pump(&on.rig, 500);
	for (int i = 0; i < n; i++) {
		struct side *first = i % 2 ? &on : &off, *second = i % 2 ? &off : &on;
		if (one_call(first, i) < 0 || one_call(second, i) < 0) {
			fprintf(stderr, "sync_page: a call did not page\n");
			goto out;
		}
		h_pump(&off.rig, 25);
		h_pump(&on.rig, 25);
	}
	double a[3], b[3];
	static const int ps[3] = {50, 90, 99};
	for (int k = 0; k < 3; k++) {
		a[k] = pct(off.lat, n, ps[k]);
		b[k] = pct(on.lat, n, ps[k]);
	}
	printf("page latency, %d calls a side, sync off and on interleaved (+CTICN write started "
	       "-> ATD read), microseconds\n",
	       n);
	printf("  sync off:           p50 %8.1f  p90 %8.1f  p99 %8.1f\n", a[0], a[1], a[2]);
	printf("  sync on:            p50 %8.1f  p90 %8.1f  p99 %8.1f\n", b[0], b[1], b[2]);
	printf("  ratio on/off:       p50 %8.2f  p90 %8.2f  p99 %8.2f\n", b[0] / a[0], b[1] / a[1],
	       b[2] / a[2]);
	snprintf(bin, sizeof(bin), "cat %s/sync.status | grep -E '^(state|backlog|county_head)'",
		 on.rig.dir);
	if (system(bin) != 0)
		fprintf(stderr, "sync_page: no sync status\n");
	rc = 0;
out:
	if (sync > 0) {
		kill(sync, SIGTERM);
		waitpid(sync, NULL, 0);
	}
	h_rig_fini(&off.rig);
	h_rig_fini(&on.rig);
	pg_rig_fini(&county);
	free(off.lat);
	free(on.lat);
	return rc;
}
