/*
 * report: the call log's figures for duty coordinators and managers over any time range.
 *
 * Every incident started in the range is counted exactly once, in one of four kinds:
 * an authority call (a radio call to the gateway), an officer's text, a status SDS, or a
 * call-back (a worker's call put through to a radio, which is no authority call). An
 * authority call has one outcome:
 *   completed   accepted and bridged, ended by either side
 *   unanswered  the whole chain was paged and nobody accepted
 *   unstaffed   nobody on duty and no fallback: nobody could be paged (a roster gap)
 *   busy        another authority call was live (the caller got the busy SDS)
 *   abandoned   the officer hung up before a worker accepted
 *   failed      the radio was lost, rinkid stopped (interrupted), or an unknown outcome
 *   open        still going when the report was made
 * and whoever accepted it: the first worker paged, a later step, the fallback, or nobody.
 * Time to accept (start of the incident to the first "accepted" event) is given as p50,
 * p90 (nearest rank) and max over the accepted calls. Figures per service line, per
 * caller organisation (the directory's name; callers not in it are one group), per
 * municipality (the caller's directory entry's municipality as the directory says now,
 * member or contract; callers without one are one group) and per weekday and hour of the
 * start (Europe/Helsinki).
 *
 * For charts the authority calls are also counted per local (Helsinki) day of the range,
 * per local weekday and hour, and the accepted ones per time-to-accept bin.
 *
 * The self-check: calls + texts + statuses + call-backs must equal the incidents the
 * database counts in the range on its own, the outcomes must add up to the calls, the
 * lines, organisations, municipalities and weekday-hours must each add up to the total,
 * the per-day counts to the calls, and the bins to the accepted calls.
 */
#ifndef GW_REPORT_H
#define GW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/db.h"
#include "store/roster.h"

enum gw_report_format { GW_REPORT_TEXT, GW_REPORT_CSV, GW_REPORT_JSON };

struct gw_report_figures {
	int64_t calls; /* authority calls */
	int64_t completed, unanswered, unstaffed, busy, abandoned, failed, open;
	int64_t by_first, by_later, by_fallback, by_nobody;
	int64_t accepted_within; /* accepted within within_ms of the start */
	int64_t escalated;	 /* more than one "page" event: step 2 or a later round */
	int64_t accept_p50, accept_p90, accept_max; /* ms; -1 when no call was accepted */
	int64_t texts, statuses, callbacks;
};

struct gw_report_group {
	/* line code ("" unrouted), organisation or municipality ("" none); NULL: weekday-hour */
	char *key;
	char *membership; /* a municipality's: "member", "contract" (NULL otherwise) */
	struct gw_report_figures f;
	int64_t *acc; /* times to accept (ms) */
	size_t n_acc, cap_acc;
};

/* Time-to-accept bins: bin i holds waits up to gw_report_acc_upper_ms[i] (the last: any). */
#define GW_REPORT_ACC_BINS 10
extern const int64_t gw_report_acc_upper_ms[GW_REPORT_ACC_BINS];

/* Longest range gw_report_build() takes, in local days (about 110 years). */
#define GW_REPORT_DAYS_MAX 40000

struct gw_report {
	int64_t from_ms, to_ms, within_ms;
	int64_t day0;	  /* local date of from_ms as days since 1970-01-01 */
	size_t n_days;	  /* local dates the range touches: day0 .. day0 + n_days - 1 */
	int64_t *per_day; /* authority calls started on each of those dates */
	int64_t acc_bins[GW_REPORT_ACC_BINS]; /* accepted calls by time to accept */
	int64_t in_range; /* incidents in the range as the database counts them */
	struct gw_report_figures total;
	struct gw_report_group all;		      /* the totals' accept times */
	struct gw_report_group *lines, *orgs, *munis; /* sorted by key */
	size_t n_lines, n_orgs, n_munis;
	struct gw_report_group week[7][24]; /* by local weekday (0 Monday) and hour of start */
	struct gw_report_group *gateways;   /* the county report's gateways, sorted; else none */
	size_t n_gateways;
};

/*
 * Read the incidents started in [from_ms, to_ms) and count them. Returns 0 and *out (free
 * with gw_report_free), -EINVAL for an empty or reversed range, -E2BIG for a range over
 * GW_REPORT_DAYS_MAX local days, -ENOMEM or -errno.
 */
int gw_report_build(struct gw_db *db, int64_t from_ms, int64_t to_ms, int64_t within_ms,
		    struct gw_report **out);

/*
 * A report fed incident by incident (the county report, tools/sync): gw_report_new() for
 * [from_ms, to_ms) (0 and *out, -EINVAL for an empty or reversed range, or -ENOMEM),
 * gw_report_add() once per incident started in the range (one with inc->gateway set is
 * also counted in that gateway's figures; 0 or -ENOMEM), then gw_report_finish() with
 * the incidents the source counts on its own, for the self-check.
 */
int gw_report_new(int64_t from_ms, int64_t to_ms, int64_t within_ms, struct gw_report **out);
int gw_report_add(struct gw_report *r, const struct gw_db_report_inc *inc);
void gw_report_finish(struct gw_report *r, int64_t in_range);

/* Incidents the report counted (calls + texts + statuses + call-backs). */
int64_t gw_report_counted(const struct gw_report *r);

/*
 * True when every incident is counted exactly once: counted == in_range, the outcomes of
 * every group add up to its calls and so do the who-took-it counts, the per-day and
 * weekday x hour counts add up to the calls and the accept bins to the accepted calls.
 */
bool gw_report_balanced(const struct gw_report *r);

/*
 * Write r as text, CSV (RFC 4180, one table: total, line, organisation, municipality and
 * weekday-hour rows, the last only where there were incidents; spreadsheet formulas
 * defused) or JSON (the weekday-hours likewise). names (may be NULL) gives the lines' names. The
 * text and JSON forms include the self-check. Returns 0 or -errno (write error).
 */
int gw_report_write(const struct gw_report *r, const struct gw_roster *names,
		    enum gw_report_format fmt, FILE *f);

/* Free a report. NULL is ignored. */
void gw_report_free(struct gw_report *r);

#endif
