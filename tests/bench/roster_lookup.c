/*
 * roster_lookup: what the paging path and the call log cost, measured, not asserted.
 *
 *  1. Roster lookups: a year of 8-hour shifts in three positions on 4 lines, 50 workers,
 *     plus a weekly rotation per line and a few hundred overrides, in a real database;
 *     the snapshot is built once, then gw_roster_chain() and gw_roster_plan() are timed
 *     at random instants of the year (ns per lookup, and the snapshot build time).
 *  2. Durable event appends: gw_db_event_append() with synchronous=FULL in WAL mode, one
 *     transaction (one fsync) per event, so each event is on disk before the call
 *     returns and rinkid acts on it; and for comparison batches of 10 (gw_db_batch_*),
 *     which are durable only at the commit.
 *
 * The database lives in $RINKI_BENCH_DIR (default: build/), not /tmp, so the fsync cost
 * is the real disk's. It needs the gateway objects: see the Makefile rule in the
 * roster_lookup report (build/bench/roster_lookup links $(REL_GW) and $(PKG_LIBS)).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/db.h"
#include "core/log.h"
#include "store/roster.h"

#define LINES	   4
#define WORKERS	   50
#define DAYS	   366
#define LOOKUPS	   200000
#define APPENDS	   2000
#define DAY_MS	   86400000LL
#define YEAR_START 1767225600000LL /* 2026-01-01T00:00Z */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		perror("strdup");
		exit(1);
	}
	return d;
}

static void rm_db(const char *path)
{
	const char *suffix[] = {"", "-wal", "-shm", ".spool"};
	char f[600];

	for (size_t i = 0; i < 4; i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		unlink(f);
	}
}

/* The year's roster as the database layer takes it. */
static void make_roster(struct gw_db_roster *r)
{
	static const char *const codes[LINES] = {"sos", "mhs", "lsp", "vwc"};
	char b[64];
	size_t k = 0;

	memset(r, 0, sizeof(*r));
	r->lines = calloc(LINES, sizeof(*r->lines));
	r->workers = calloc(WORKERS, sizeof(*r->workers));
	r->shifts = calloc((size_t)LINES * DAYS * 9, sizeof(*r->shifts));
	r->rotations = calloc(LINES, sizeof(*r->rotations));
	r->members = calloc(LINES * 4, sizeof(*r->members));
	r->overrides = calloc(LINES * 100, sizeof(*r->overrides));
	if (!r->lines || !r->workers || !r->shifts || !r->rotations || !r->members ||
	    !r->overrides) {
		perror("calloc");
		exit(1);
	}
	for (int i = 0; i < LINES; i++)
		r->lines[r->n_lines++] = (struct gw_db_line){.code = xstrdup(codes[i]),
							     .name_fi = xstrdup("fi"),
							     .name_sv = xstrdup("sv"),
							     .name_en = xstrdup("en")};
	for (int i = 0; i < WORKERS; i++) {
		snprintf(b, sizeof(b), "w%02d", i);
		r->workers[r->n_workers++] =
		    (struct gw_db_worker){.handle = xstrdup(b),
					  .name = xstrdup(b),
					  .phone = xstrdup("+358400000000"),
					  .active = true};
	}
	/* Each line has its own 12 workers; three 8-hour shifts a day, three positions. */
	for (int l = 0; l < LINES; l++)
		for (int d = 0; d < DAYS; d++)
			for (int s = 0; s < 3; s++)
				for (int p = 0; p < 3; p++) {
					int64_t t0 = YEAR_START + d * DAY_MS + s * 8 * 3600000LL;
					snprintf(b, sizeof(b), "w%02d",
						 l * 12 + (d + s + p * 4) % 12);
					r->shifts[k++] = (struct gw_db_shift){
					    xstrdup(codes[l]),	xstrdup(b), t0,
					    t0 + 8 * 3600000LL, p + 1,	    NULL};
				}
	r->n_shifts = k;
	for (int l = 0; l < LINES; l++) {
		snprintf(b, sizeof(b), "week-%s", codes[l]);
		r->rotations[r->n_rotations++] = (struct gw_db_rotation){
		    .name = xstrdup(b),
		    .line = xstrdup(codes[l]),
		    .kind = xstrdup("weekly"),
		    .start_date = xstrdup("2026-01-05"),
		    .hours = xstrdup("all"),
		    .handoff_min = 8 * 60,
		    .position = 4,
		};
		for (int m = 0; m < 4; m++) {
			snprintf(b, sizeof(b), "w%02d", 48 + m % 2);
			r->members[r->n_members++] =
			    (struct gw_db_member){xstrdup(r->rotations[l].name), xstrdup(b), m + 1};
		}
		for (int o = 0; o < 100; o++) {
			int64_t t0 = YEAR_START + (int64_t)(o * 3 + l) * DAY_MS;
			snprintf(b, sizeof(b), "w%02d", l * 12 + o % 12);
			r->overrides[r->n_overrides++] = (struct gw_db_override){
			    .kind = xstrdup(o % 2 ? "remove" : "replace"),
			    .line = xstrdup(codes[l]),
			    .worker = xstrdup(b),
			    .by = o % 2 ? NULL : xstrdup("w49"),
			    .start_ms = t0,
			    .end_ms = t0 + DAY_MS / 2,
			};
		}
	}
}

static int bench_lookups(const char *path)
{
	struct gw_db_roster data;
	struct gw_roster *r;
	struct gw_db *db;
	struct gw_roster_step steps[GW_ROSTER_CHAIN_MAX];
	struct gw_roster_plan plan;
	int64_t t0, sum = 0;
	int rc;

	rm_db(path);
	make_roster(&data);
	if ((rc = gw_db_open(path, &db)) < 0 || (rc = gw_db_roster_replace(db, &data)) < 0) {
		fprintf(stderr, "roster_lookup: database: %s\n", strerror(-rc));
		return 1;
	}
	t0 = now_ns();
	rc = gw_roster_load_at(db, YEAR_START + 8 * DAY_MS, &r); /* horizon: the year */
	int64_t build_ns = now_ns() - t0;
	if (rc < 0) {
		fprintf(stderr, "roster_lookup: load: %s\n", strerror(-rc));
		return 1;
	}
	printf("roster: %d lines, %d workers, %zu shifts, %zu rotations, %zu overrides\n", LINES,
	       WORKERS, data.n_shifts, data.n_rotations, data.n_overrides);
	printf("snapshot build (read + expand + index): %.1f ms\n", build_ns / 1e6);

	int64_t *at = malloc(LOOKUPS * sizeof(*at));
	if (!at)
		return 1;
	srand(42);
	for (int i = 0; i < LOOKUPS; i++) /* inside the year and the horizon */
		at[i] = YEAR_START + DAY_MS +
			(int64_t)((double)rand() / RAND_MAX * 364 * (double)DAY_MS);
	static const char *const codes[LINES] = {"sos", "mhs", "lsp", "vwc"};
	t0 = now_ns();
	int errors = 0;
	for (int i = 0; i < LOOKUPS; i++) {
		int n = gw_roster_chain(r, codes[i % LINES], at[i], steps, GW_ROSTER_CHAIN_MAX);
		errors += n < 0;
		sum += n > 0 ? n : 0;
	}
	int64_t chain_ns = now_ns() - t0;
	t0 = now_ns();
	for (int i = 0; i < LOOKUPS; i++)
		errors += gw_roster_plan(r, codes[i % LINES], at[i], &plan) < 0;
	int64_t plan_ns = now_ns() - t0;
	printf("gw_roster_chain: %.0f ns per lookup (%d lookups, %.2f workers on duty on "
	       "average, %d errors)\n",
	       (double)chain_ns / LOOKUPS, LOOKUPS, (double)sum / LOOKUPS, errors);
	printf("gw_roster_plan:  %.0f ns per lookup\n", (double)plan_ns / LOOKUPS);
	free(at);
	gw_roster_free(r);
	gw_db_roster_clear(&data);
	gw_db_close(db);
	rm_db(path);
	return 0;
}

static int bench_appends(const char *path)
{
	struct gw_incident_rec rec = {.started_ms = YEAR_START, .caller = "2269001"};
	struct gw_db *db;
	int64_t id, t0, ns;
	int rc;

	rm_db(path);
	if ((rc = gw_db_open(path, &db)) < 0 || (rc = gw_db_incident_open(db, &rec, &id)) < 0) {
		fprintf(stderr, "roster_lookup: database: %s\n", strerror(-rc));
		return 1;
	}
	t0 = now_ns();
	for (int i = 0; i < APPENDS; i++)
		if ((rc = gw_db_event_append(db, id, YEAR_START + i, "page",
					     "w01 +358400000000 "
					     "step 1 round 1")) < 0) {
			fprintf(stderr, "roster_lookup: append: %s\n", strerror(-rc));
			return 1;
		}
	ns = now_ns() - t0;
	printf("durable event appends (synchronous=FULL, one commit each): %.0f/s "
	       "(%.0f us each, %d events)\n",
	       APPENDS / (ns / 1e9), ns / 1e3 / APPENDS, APPENDS);
	t0 = now_ns();
	for (int i = 0; i < APPENDS; i += 10) {
		gw_db_batch_begin(db);
		for (int k = 0; k < 10; k++)
			gw_db_event_append(db, id, YEAR_START + i + k, "page", "batched");
		if ((rc = gw_db_batch_commit(db)) < 0) {
			fprintf(stderr, "roster_lookup: batch: %s\n", strerror(-rc));
			return 1;
		}
	}
	ns = now_ns() - t0;
	printf("event appends in batches of 10 (durable at each commit): %.0f/s\n",
	       APPENDS / (ns / 1e9));
	struct gw_db_verify v;
	rc = gw_db_log_verify_report(db, &v);
	printf("chain after %" PRId64 " events: %s\n", v.events, rc == 0 ? "intact" : "BROKEN");
	gw_db_close(db);
	rm_db(path);
	return rc == 0 ? 0 : 1;
}

int main(void)
{
	const char *dir = getenv("RINKI_BENCH_DIR");
	char path[512];

	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	snprintf(path, sizeof(path), "%s/roster_lookup-%d.db", dir && *dir ? dir : "build",
		 (int)getpid());
	if (bench_lookups(path) != 0)
		return 1;
	return bench_appends(path);
}
