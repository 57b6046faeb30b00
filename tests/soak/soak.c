/*
 * soak: a load run of the release rinkid against the simulators, by hand (make soak).
 *
 * 1. 100 SDS texts a second for 60 s (tetra-sim sds-text) from 1,000 radios in turn (rinkid
 *    drops more than 10 a minute from one radio), each logged and relayed or answered;
 * 2. 1,000 back-to-back authority calls (call, first worker dialled, officer hangs up);
 * 3. ~100 authority calls with rinkid under valgrind (memcheck, leak check at exit).
 * Every 5 s rinkid's RSS and open fd count are printed; at the end the rows in the call
 * log are counted against what was sent, and valgrind's summary is printed.
 * Environment: RINKI_BIN (default build), SOAK_SDS_SECONDS (60), SOAK_INCIDENTS (1000),
 * SOAK_VG_INCIDENTS (100). Exit status 0 when every count matches and valgrind is clean.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SAMPLE_MS   5000
#define SENDER_BASE 3000000L
#define SENDERS	    1000

static struct h_rig rig;
static int64_t t_start, next_sample;
static int failures;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *s = getenv(name);
	char *end;
	if (!s || !*s)
		return def;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "soak: %s must be %ld..%ld, using %ld\n", name, lo, hi, def);
		return def;
	}
	return v;
}

/* VmRSS of pid in kB; -1 when unreadable. */
static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void sample(const char *phase, long done)
{
	int64_t t = now_ms();
	if (t < next_sample)
		return;
	next_sample = t + SAMPLE_MS;
	printf("  t=%5.1fs %-10s done=%-6ld rss=%ld kB fds=%d\n", (t - t_start) / 1000.0, phase,
	       done, rss_kb(rig.rinkid), h_fd_count(rig.rinkid));
	fflush(stdout);
}

/* The sims' event buffers are 64 KB: drop what was seen so the next wait has room. */
static void drop_events(struct h_sim *s, size_t *pos)
{
	h_pump(&rig, 0);
	s->elen = 0;
	s->events[0] = '\0';
	*pos = 0;
}

static long long query(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_open_v2(rig.db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else {
		fprintf(stderr, "soak: %s: %s\n", sql, sqlite3_errmsg(h));
	}
	sqlite3_close(h);
	return v;
}

static void expect(const char *what, long long got, long long want)
{
	printf("  %-44s %lld (expected %lld) %s\n", what, got, want,
	       got == want ? "ok" : "MISMATCH");
	if (got != want)
		failures++;
}

/* One authority call: dialled, then the officer hangs up. 0 or -1. */
static int one_incident(size_t *mp)
{
	char reply[128];
	int cci;
	if (h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001") < 0 ||
	    sscanf(reply, "ok cci=%d", &cci) != 1)
		return -1;
	if (h_wait_event(&rig.modem, mp, "ATD+358401234567;", 5000) < 0)
		return -1;
	if (h_cmd(&rig.radio, NULL, 0, "release %d 13", cci) < 0)
		return -1;
	/* the close hangs up the phone leg: the next call may start */
	if (h_wait_event(&rig.modem, mp, "AT+CHUP", 5000) < 0)
		return -1;
	return 0;
}

static int incidents(const char *phase, long n)
{
	size_t mp = 0;
	drop_events(&rig.modem, &mp); /* no earlier ATD or CHUP may match */
	int64_t t0 = now_ms();
	for (long i = 0; i < n; i++) {
		if (one_incident(&mp) < 0) {
			fprintf(stderr, "soak: incident %ld of %ld failed, see %s\n", i + 1, n,
				rig.log);
			return -1;
		}
		if (i % 50 == 49)
			drop_events(&rig.modem, &mp);
		sample(phase, i + 1);
	}
	int64_t ms = now_ms() - t0;
	printf("  %ld incidents in %.1f s (%.1f ms each)\n", n, ms / 1000.0, (double)ms / n);
	return 0;
}

/* Wait until the call log holds want rows for sql (rinkid may still be writing). */
static long long settle(const char *sql, long long want, int timeout_ms)
{
	long long v = -1;
	int64_t end = now_ms() + timeout_ms;
	do {
		v = query(sql);
		if (v >= want)
			break;
		h_pump(&rig, 200);
	} while (now_ms() < end);
	return v;
}

static int phase_load(long sds_seconds, long n_incidents)
{
	printf("== phase 1: 100 SDS/s for %ld s\n", sds_seconds);
	size_t rp = 0;
	long sent = 0;
	int64_t t0 = now_ms();
	next_sample = 0;
	sample("sds", 0);
	for (;;) {
		int64_t t = now_ms();
		if (t - t0 >= sds_seconds * 1000)
			break;
		/* keep to the schedule: message k is due at t0 + 10 ms * k */
		while (sent < (t - t0) / 10 + 1) {
			/* 1,000 senders: rinkid drops more than 10 texts a minute from one radio */
			if (h_cmd(&rig.radio, NULL, 0, "sds-text %ld soak message %ld",
				  SENDER_BASE + sent % SENDERS, sent) < 0) {
				fprintf(stderr, "soak: sds-text %ld refused\n", sent);
				return -1;
			}
			sent++;
		}
		drop_events(&rig.radio, &rp);
		drop_events(&rig.modem, &rp);
		sample("sds", sent);
		usleep(2000);
	}
	double secs = (now_ms() - t0) / 1000.0;
	printf("  %ld SDS sent in %.1f s (%.1f/s)\n", sent, secs, sent / secs);
	long long got =
	    settle("SELECT count(*) FROM incident_events WHERE kind = 'sds_text'", sent, 30000);
	expect("sds_text events in the call log", got, sent);
	long long sms = query("SELECT count(*) FROM incident_events WHERE kind IN ('sms', "
			      "'sms_failed') AND incident IN (SELECT incident FROM "
			      "incident_events WHERE kind = 'sds_text')");
	printf("  relayed SMS events logged for them: %lld\n", sms);
	sample("sds-end", sent);

	printf("== phase 2: %ld back-to-back incidents\n", n_incidents);
	long long before = query("SELECT count(*) FROM incidents WHERE radio_cci >= 0");
	if (incidents("incidents", n_incidents) < 0)
		return -1;
	long long after = settle("SELECT count(*) FROM incidents WHERE radio_cci >= 0 AND "
				 "ended_ms IS NOT NULL",
				 before + n_incidents, 10000);
	expect("authority incidents closed in the call log", after - before, n_incidents);
	expect("of them abandoned",
	       query("SELECT count(*) FROM incidents WHERE outcome = 'abandoned'"), n_incidents);
	next_sample = 0;
	sample("end", n_incidents);
	return 0;
}

/* A directory with the tools of RINKI_BIN and a rinkid that runs under valgrind. */
static int valgrind_bin(char *dir, size_t len, const char *vglog)
{
	char real[PATH_MAX], path[PATH_MAX + 32];
	const char *bin = h_bin();
	if (!realpath(bin, real))
		return -1;
	snprintf(dir, len, "%s/vgbin", rig.dir);
	if (mkdir(dir, 0700) < 0)
		return -1;
	const char *tools[] = {"rinkictl", "tetra-sim", "modem-sim"};
	for (size_t i = 0; i < 3; i++) {
		char target[PATH_MAX + 32];
		snprintf(target, sizeof(target), "%s/%s", real, tools[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, tools[i]);
		if (symlink(target, path) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/rinkid", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"#!/bin/sh\nexec valgrind --leak-check=full --show-leak-kinds=definite,indirect "
		"--errors-for-leak-kinds=definite,indirect --track-fds=no --log-file=%s "
		"%s/rinkid \"$@\"\n",
		vglog, real);
	fclose(f);
	return chmod(path, 0755);
}

static int phase_valgrind(long n)
{
	printf("== phase 3: %ld incidents with rinkid under valgrind\n", n);
	if (system("valgrind --version >/dev/null 2>&1") != 0) {
		printf("  valgrind not installed: skipped\n");
		return 0;
	}
	char dir[200], vglog[200], old[PATH_MAX];
	snprintf(vglog, sizeof(vglog), "%s/valgrind.log", rig.dir);
	snprintf(old, sizeof(old), "%s", h_bin());
	if (valgrind_bin(dir, sizeof(dir), vglog) < 0) {
		fprintf(stderr, "soak: cannot set up %s: %s\n", dir, strerror(errno));
		return -1;
	}
	setenv("RINKI_BIN", dir, 1);
	rig.quiet = 1;
	/* keep the first run's log; and h_start_rinkid must not find its "ready" lines */
	char keep[200];
	snprintf(keep, sizeof(keep), "%s/rinkid-load.log", rig.dir);
	rename(rig.log, keep);
	int64_t t0 = now_ms();
	int rc = h_start_rinkid(&rig, "call.ring_time 5\ncall.rounds 1");
	setenv("RINKI_BIN", old, 1);
	if (rc < 0)
		return -1;
	printf("  rinkid up under valgrind in %.1f s\n", (now_ms() - t0) / 1000.0);
	next_sample = 0;
	if (incidents("valgrind", n) < 0)
		return -1;
	/* SIGTERM, and wait as long as valgrind's leak check takes */
	t0 = now_ms();
	h_kill_rinkid(&rig, SIGTERM);
	printf("  rinkid stopped in %.1f s; valgrind says:\n", (now_ms() - t0) / 1000.0);
	FILE *f = fopen(vglog, "r");
	if (!f) {
		fprintf(stderr, "soak: no %s\n", vglog);
		return -1;
	}
	char line[512];
	int clean = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "== ");
		if (!p)
			continue;
		p += 3;
		if (strstr(p, "ERROR SUMMARY") || strstr(p, "definitely lost") ||
		    strstr(p, "indirectly lost") || strstr(p, "in use at exit") ||
		    strstr(p, "Invalid") || strstr(p, "uninitialised"))
			printf("    %s", p);
		if (strstr(p, "ERROR SUMMARY: 0 errors"))
			clean = 1;
	}
	fclose(f);
	if (!clean) {
		printf("  valgrind: NOT clean, full log %s\n", vglog);
		failures++;
	}
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	long sds_s = env_long("SOAK_SDS_SECONDS", 60, 1, 3600);
	long n_inc = env_long("SOAK_INCIDENTS", 1000, 1, 1000000);
	long n_vg = env_long("SOAK_VG_INCIDENTS", 100, 0, 100000);
	if (!getenv("RINKI_BIN"))
		setenv("RINKI_BIN", "build", 1);
	setenv("RINKI_KEEP", "1", 1); /* the log, db and valgrind log stay for reading */
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return 1;
	/* nobody answers: every incident is the officer hanging up while the first worker rings */
	if (h_cmd(&rig.modem, NULL, 0, "callee default noanswer") < 0)
		return 1;
	rig.quiet = 1;
	t_start = now_ms();
	if (h_start_rinkid(&rig, "call.ring_time 5\ncall.rounds 1") < 0)
		return 1;
	printf("soak: rinkid %s/rinkid pid %ld, files in %s\n", h_bin(), (long)rig.rinkid, rig.dir);
	if (phase_load(sds_s, n_inc) < 0)
		failures++;
	if (h_kill_rinkid(&rig, SIGTERM) < 0)
		failures++;
	if (n_vg > 0 && phase_valgrind(n_vg) < 0)
		failures++;
	char ctl[256];
	snprintf(ctl, sizeof(ctl), "%s/rinkictl", h_bin());
	char *argv[] = {ctl, "-d", rig.db, "log", "verify", NULL};
	char out[200];
	snprintf(out, sizeof(out), "%s/verify.out", rig.dir);
	int v = h_run(argv, out);
	expect("rinkictl log verify exit status", v, 0);
	if (!failures && getenv("SOAK_TIDY")) /* make test's short run: keep files only to read */
		unsetenv("RINKI_KEEP");
	h_rig_fini(&rig);
	printf("soak: %s\n", failures ? "FAILED" : "passed");
	return failures ? 1 : 0;
}
