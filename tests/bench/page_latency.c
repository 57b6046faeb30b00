/*
 * page_latency: how fast an officer's call becomes a page.
 *
 * Measures, for N incoming calls, the time from tetra-sim starting the write
 * of +CTICN to modem-sim reading the end of the ATD for the first worker (both
 * CLOCK_MONOTONIC, reported by the simulators; the time after write() returns
 * can already be later than the reader's, so the start is used). The floor is the same path
 * with a bare relay in rinkid's place: a process that reads from the radio pty
 * and writes a fixed ATD to the modem pty, no parsing, no database. The two
 * runs use the same simulators, so only the middle differs. Prints p50/p99
 * of both and their ratio. Target (DESIGN.md): p99 ratio <= 1.5.
 *
 *   build/bench/page_latency [N]   (RINKI_BIN: binaries, default build;
 *                                   PAGE_GAP_MS: idle time between calls, default 50)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t pct(int64_t *v, int n, int p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	int i = (n * p + 99) / 100 - 1;
	return v[i < 0 ? 0 : i];
}

static int open_raw(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY);
	struct termios t;
	if (fd < 0 || tcgetattr(fd, &t) < 0)
		return -1;
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
	return fd;
}

/*
 * The floor: the same two simulators, with a bare relay in rinkid's place that
 * writes a fixed ATD to the modem for every line it reads from the radio.
 */
/* Scheduling of the process in the middle (relay or rinkid): 0 normal, else SCHED_FIFO prio. */
static int rt_prio;

static int floor_run(int n, int gap_ms, int64_t *out)
{
	static struct h_rig rig;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	int rc = h_cmd(&rig.modem, NULL, 0, "callee default noanswer");
	pid_t pid = fork();
	if (pid == 0) {
		struct sched_param sp = {.sched_priority = rt_prio};
		if (rt_prio && sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			_exit(1);
		int radio = open_raw(rig.radio.link), modem = open_raw(rig.modem.link);
		char buf[512];
		if (radio < 0 || modem < 0)
			_exit(1);
		for (;;) {
			ssize_t r = read(radio, buf, sizeof(buf));
			if (r <= 0)
				_exit(0);
			if (memchr(buf, '\n', (size_t)r) && memmem(buf, (size_t)r, "+CTICN", 6)) {
				static const char atd[] = "ATD+358401234567;\r";
				if (write(modem, atd, sizeof(atd) - 1) < 0)
					_exit(1);
			}
		}
	}
	rig.rinkid = pid; /* stopped by h_rig_fini like rinkid */
	usleep(100000);
	for (int i = 0; i < n && rc == 0; i++) {
		char reply[128];
		long long t0 = 0;
		size_t mp = 0;
		rig.modem.elen = 0;
		rig.modem.events[0] = '\0';
		char *t;
		if (h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001 cci=%d", i % 200 + 1) <
			0 ||
		    !(t = strstr(reply, "t0=")) || sscanf(t, "t0=%lld", &t0) != 1 ||
		    h_wait_event(&rig.modem, &mp, "event dial", 3000) < 0) {
			rc = -1;
			break;
		}
		out[i] = h_event_time(&rig.modem, "event dial") - t0;
		/* the relay sends no hang-up: end the sims' calls by their control channels */
		if (h_cmd(&rig.radio, NULL, 0, "release %d 1", i % 200 + 1) < 0 ||
		    h_cmd(&rig.modem, NULL, 0, "hangup") < 0)
			rc = -1;
		h_pump(&rig, gap_ms);
	}
	h_rig_fini(&rig);
	return rc;
}

static int rinkid_run(int n, int gap_ms, int64_t *out)
{
	char rt_extra[128];
	/* rinkid sets its own priority from its configuration, as in production */
	snprintf(rt_extra, sizeof(rt_extra),
		 "log.level notice\nmodem.clcc_poll_ms 500\n"
		 "run.rt_priority %d",
		 rt_prio);
	static struct h_rig rig;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	rig.quiet = 1;
	if (h_cmd(&rig.modem, NULL, 0, "callee default noanswer") < 0 ||
	    h_start_rinkid(&rig, rt_extra) < 0) {
		h_rig_fini(&rig);
		return -1;
	}
	size_t mp = 0;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char reply[128];
		long long t0 = 0;
		int cci = i % 200 + 1;
		rig.modem.elen = 0;
		rig.modem.events[0] = '\0';
		mp = 0;
		if (h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001 cci=%d", cci) < 0) {
			rc = -1;
			break;
		}
		char *t = strstr(reply, "t0=");
		if (!t || sscanf(t, "t0=%lld", &t0) != 1) {
			rc = -1;
			break;
		}
		if (h_wait_event(&rig.modem, &mp, "event dial", 3000) < 0) {
			rc = -1;
			break;
		}
		int64_t t1 = h_event_time(&rig.modem, "event dial");
		out[i] = t1 - t0;
		/* end the incident before the next one */
		if (h_cmd(&rig.radio, NULL, 0, "release %d 1", cci) < 0 ||
		    h_wait_event(&rig.modem, &mp, "AT+CHUP", 3000) < 0)
			rc = -1;
		/* let the closed incident's call-log commit finish: measure from idle */
		h_pump(&rig, gap_ms);
	}
	h_rig_fini(&rig);
	return rc;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	if (n < 10 || n > 100000) {
		fprintf(stderr, "usage: page_latency [N >= 10]\n");
		return 2;
	}
	int64_t *fl = calloc((size_t)n, sizeof(*fl)), *rk = calloc((size_t)n, sizeof(*rk));
	if (!fl || !rk)
		return 1;
	int gap_ms = getenv("PAGE_GAP_MS") ? atoi(getenv("PAGE_GAP_MS")) : 50;
	printf("page latency, %d calls %d ms apart (+CTICN write started -> ATD read), "
	       "microseconds\n",
	       n, gap_ms);
	/* both sides under the normal scheduler, then both under SCHED_FIFO 10 (when allowed) */
	static const int prios[] = {0, 10};
	for (size_t k = 0; k < sizeof(prios) / sizeof(prios[0]); k++) {
		rt_prio = prios[k];
		if (rt_prio && geteuid() != 0) {
			printf("  (SCHED_FIFO needs root: skipped)\n");
			break;
		}
		if (floor_run(n, gap_ms, fl) < 0) {
			fprintf(stderr, "page_latency: floor relay failed\n");
			return 1;
		}
		if (rinkid_run(n, gap_ms, rk) < 0) {
			fprintf(stderr, "page_latency: rinkid run failed\n");
			return 1;
		}
		double f50 = (double)pct(fl, n, 50) / 1000, f99 = (double)pct(fl, n, 99) / 1000;
		double r50 = (double)pct(rk, n, 50) / 1000, r99 = (double)pct(rk, n, 99) / 1000;
		printf(" %s:\n", rt_prio ? "relay and rinkid SCHED_FIFO 10 (run.rt_priority 10)"
					 : "relay and rinkid under the normal scheduler");
		printf("  bare pty relay (floor): p50 %8.1f  p99 %8.1f\n", f50, f99);
		printf("  rinkid:                 p50 %8.1f  p99 %8.1f\n", r50, r99);
		printf("  ratio rinkid/floor:     p50 %8.2f  p99 %8.2f   (target p99 <= 1.5)\n",
		       r50 / f50, r99 / f99);
	}
	free(fl);
	free(rk);
	return 0;
}
