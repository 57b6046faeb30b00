/*
 * pager: the first page of an authority call looked up before its incident is built
 * (issue #13), from a table of the current wall-clock second.
 *
 * Once a second, while a page may start, the table is rebuilt by the incident's own routing
 * (gw_calls_first_page) for every ISSI of the directory, for that second and that roster
 * generation. A lookup answers only within the same second and generation, for the exact
 * ISSI; anything else is the normal path's.
 */
#ifndef GW_PAGER_H
#define GW_PAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "service/call.h"

struct gw_pager;

struct gw_pager_ops {
	/* The devices a page needs are ready and nothing else owns the modem (no page test).
	   Asked at every rebuild and lookup. */
	bool (*ready)(void *arg);
	void *arg;
};

/* Create the table for calls' routing; its once-a-second rebuild runs on loop. 0 or -ENOMEM. */
int gw_pager_new(struct gw_loop *loop, struct gw_calls *calls, const struct gw_pager_ops *ops,
		 struct gw_pager **out);
/* Stop the rebuilds and free the table (NULL is fine). */
void gw_pager_free(struct gw_pager *p);

/*
 * Rebuild the table for the wall second of wall_ms (UTC ms), as the timer does each second.
 * Without a roster, while a page may not start (ops.ready, gw_calls_may_page) or when the
 * roster can change within that second (gw_roster_steady), the table is left empty.
 * Returns the number of entries, or -ENOMEM (the table is then empty).
 */
int gw_pager_refresh(struct gw_pager *p, int64_t wall_ms);

/*
 * A page may have become possible (an incident or a call-back ended, a device came up, a
 * page test ended, a roster was set): rebuild on the loop's next turn, unless the table of
 * this second is good; at most once a second besides the timer's rebuild. NULL is fine.
 */
void gw_pager_kick(struct gw_pager *p);

/*
 * The number gw_calls_radio_incoming_at(..., wall_ms) would page first for an individual
 * speech call from caller (exactly the directory's ISSI), or NULL: not in the table, a
 * table of another second or roster generation, or a page may not start now.
 */
const char *gw_pager_lookup(const struct gw_pager *p, const char *caller, int64_t wall_ms);

struct gw_pager_stats {
	unsigned rebuilds; /* tables built (also empty ones) */
	unsigned entries;  /* in the current table */
	unsigned unsteady; /* seconds skipped because the roster changes within them */
	int64_t build_ns;  /* CPU time of the last rebuild (CLOCK_THREAD_CPUTIME_ID) */
};
/* The counters. */
const struct gw_pager_stats *gw_pager_stats(const struct gw_pager *p);

#endif
