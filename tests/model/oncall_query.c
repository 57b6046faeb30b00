/*
 * oncall_query: the roster query side of the independent model test (test_south_savo.py).
 * It opens a rinki database, builds the roster snapshot around one instant (so one
 * horizon covers the model's year) and answers, for every instant read from stdin (UTC ms,
 * one per line), each line's duty order (gw_roster_chain) and escalation plan
 * (gw_roster_plan) as one output line per service line:
 *   MS LINE DUTY PLAN AFTER
 * with DUTY and PLAN comma-separated handles ("-" for none; PLAN ends with "+fallback"
 * handle when there is one) and AFTER the after-hours line or "-".
 * The roster's zone is Europe/Helsinki from the tz database, as rinkid loads it (the default
 * roster.timezone).
 * Usage: oncall_query DB BUILD_MS. Exit 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/db.h"
#include "store/roster.h"

/* Print the handles of n steps (or "-"), comma-separated. */
static void put_handles(const char *const *h, int n)
{
	if (n <= 0)
		fputs("-", stdout);
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", h[i]);
}

/* One instant: every line's duty and plan. Returns 0 or a negative errno. */
static int answer(const struct gw_roster *r, int64_t ms)
{
	for (size_t i = 0; i < gw_roster_line_count(r); i++) {
		const char *line = gw_roster_line_code(r, i);
		struct gw_roster_step steps[GW_ROSTER_CHAIN_MAX];
		struct gw_roster_plan plan;
		const char *h[GW_ROSTER_CHAIN_MAX + 1];
		int n = gw_roster_chain(r, line, ms, steps, GW_ROSTER_CHAIN_MAX);
		int rc;

		if (n < 0)
			return n;
		printf("%" PRId64 " %s ", ms, line);
		for (int k = 0; k < n; k++)
			h[k] = steps[k].handle;
		put_handles(h, n);
		if ((rc = gw_roster_plan(r, line, ms, &plan)) < 0)
			return rc;
		putchar(' ');
		for (int k = 0; k < plan.n_steps; k++)
			h[k] = plan.steps[k].handle;
		put_handles(h, plan.n_steps);
		if (plan.has_fallback)
			printf("+%s", plan.fallback.handle);
		printf(" %s\n", plan.after_hours_line ? plan.after_hours_line : "-");
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gw_db *db;
	struct gw_roster *r;
	char buf[64];
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: oncall_query DB BUILD_MS\n");
		return 1;
	}
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	if (gw_roster_set_timezone("Europe/Helsinki", buf, sizeof(buf)) < 0) {
		fprintf(stderr, "oncall_query: %s\n", buf);
		return 1;
	}
	if ((rc = gw_db_open_flags(argv[1], GW_DB_NOCREATE, &db)) < 0) {
		fprintf(stderr, "oncall_query: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	rc = gw_roster_load_at(db, strtoll(argv[2], NULL, 10), &r);
	gw_db_close(db);
	if (rc < 0) {
		fprintf(stderr, "oncall_query: roster: %s\n", strerror(-rc));
		return 1;
	}
	while (fgets(buf, sizeof(buf), stdin)) {
		char *end;
		long long ms = strtoll(buf, &end, 10);
		if (end == buf || (*end != '\n' && *end)) {
			fprintf(stderr, "oncall_query: not an instant: %s", buf);
			rc = -EINVAL;
			break;
		}
		if ((rc = answer(r, ms)) < 0) {
			fprintf(stderr, "oncall_query: at %lld: %s\n", ms, strerror(-rc));
			break;
		}
	}
	gw_roster_free(r);
	return rc < 0 || fflush(stdout) != 0 ? 1 : 0;
}
