/*
 * answer_latency: how soon rinkid sees that a paged worker answered, with AT+CLCC polling
 * alone and with a vendor call-state URC as the accelerator.
 *
 * Two runs of N pages each through rinkid and both simulators, modem.clcc_poll_ms 500:
 * modem-sim without a dialect and modem.vendor generic (the answer is seen at the next
 * poll), then modem-sim --dialect huawei and modem.vendor huawei (^CONN asks AT+CLCC at
 * once). The worker answers 1.00, 1.05, ... s after the ATD, so the answer falls at every
 * phase of the poll. Measured from modem-sim's "call active <t_ns>" event to rinkid's log
 * line "call to <n>: answered" (both CLOCK_MONOTONIC). Prints mean, p50 and max per run.
 *
 *   build/bench/answer_latency [N]   (RINKI_BIN: binaries, default build)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define AINO "+358401234567"

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Time (ns) of the n-th (1-based) line of rinkid's log containing needle, or -1. */
static int64_t log_time(const struct h_rig *r, const char *needle, int n)
{
	FILE *f = fopen(r->log, "r");
	char line[2048];
	int64_t t = -1;
	while (f && fgets(line, sizeof(line), f)) {
		long long s, us;
		if (strstr(line, needle) && --n == 0 && sscanf(line, "%lld.%lld", &s, &us) == 2) {
			t = s * 1000000000LL + us * 1000;
			break;
		}
	}
	if (f)
		fclose(f);
	return t;
}

/* t_ns of the n-th (1-based) "event call active <t_ns>" of modem-sim, or -1. */
static int64_t active_time(const struct h_sim *s, int n)
{
	const char *p = s->events;
	long long t;
	while ((p = strstr(p, "event call active ")) != NULL) {
		if (--n == 0 && sscanf(p, "event call active %lld", &t) == 1)
			return t;
		p++;
	}
	return -1;
}

static int run(const char *dialect, const char *vendor, int n, int64_t *d)
{
	struct h_rig r;
	char conf[128];
	size_t mp = 0;
	int rc = -1;
	snprintf(conf, sizeof(conf), "modem.vendor %s\nmodem.clcc_poll_ms 500", vendor);
	if (h_rig_init(&r) < 0)
		goto out;
	r.modem_dialect = dialect; /* h_rig_init clears the rig */
	if (h_start_sims(&r) < 0 || h_start_rinkid(&r, conf) < 0)
		goto out;
	for (int k = 0; k < n; k++) {
		if (h_cmd(&r.modem, NULL, 0, "callee %s answer %.2f", AINO, 1.0 + 0.05 * (k % 10)) <
			0 ||
		    h_cmd(&r.radio, NULL, 0, "call 2269001 cci=1") < 0 ||
		    h_wait_event(&r.modem, &mp, "event call active", 5000) < 0 ||
		    h_wait_log_count(&r, "call to " AINO ": answered", k + 1, 5000) < 0) {
			fprintf(stderr, "answer_latency: page %d not answered, see %s\n", k + 1,
				r.log);
			goto out;
		}
		int64_t a = active_time(&r.modem, k + 1),
			b = log_time(&r, "call to " AINO ": answered", k + 1);
		if (a < 0 || b < 0)
			goto out;
		d[k] = b - a;
		if (h_cmd(&r.radio, NULL, 0, "release 1 1") < 0 ||
		    h_wait_log_count(&r, "incident closed", k + 1, 5000) < 0)
			goto out;
		h_pump(&r, 100);
	}
	rc = 0;
out:
	h_rig_fini(&r);
	return rc;
}

static void report(const char *what, int64_t *d, int n)
{
	int64_t sum = 0;
	for (int i = 0; i < n; i++)
		sum += d[i];
	qsort(d, (size_t)n, sizeof(*d), cmp64);
	printf("answer -> rinkid sees it, %-28s mean %6.1f ms  p50 %6.1f ms  max %6.1f ms  (%d "
	       "pages)\n",
	       what, (double)sum / n / 1e6, (double)d[n / 2] / 1e6, (double)d[n - 1] / 1e6, n);
}

int main(int argc, char **argv)
{
	h_bench_bin();
	int n = argc > 1 ? atoi(argv[1]) : 10;
	if (n < 1 || n > 200)
		n = 10;
	int64_t *poll = calloc((size_t)n, sizeof(int64_t));
	int64_t *urc = calloc((size_t)n, sizeof(int64_t));
	if (!poll || !urc || run(NULL, "generic", n, poll) < 0 ||
	    run("huawei", "huawei", n, urc) < 0)
		return 1;
	report("CLCC polling (500 ms):", poll, n);
	report("huawei ^CONN accelerator:", urc, n);
	free(poll);
	free(urc);
	return 0;
}
