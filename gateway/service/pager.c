/*
 * pager: the table of first pages, ISSI -> number, for one wall-clock second and one roster
 * snapshot (issue #13: the page's ATD is written before the incident is built).
 *
 * Exact by construction: each entry is what gw_calls_first_page() gives, which runs the
 * incident's own route() and first step (after-hours line, fallback included) for the
 * second's first millisecond; gw_roster_steady() proves nothing routing depends on changes
 * within the second (a duty or override edge may fall on any millisecond: such a second
 * gets no table), and the incident started from a lookup takes the lookup's time as its
 * start (gw_calls_radio_incoming_at), so it routes within the same second. A lookup checks
 * the second, the roster generation and again that a page may start. Callers the routing
 * would page nobody for have no entry; callers outside the directory never have one.
 *
 * The rebuild runs on a timer just after each second starts: one wake-up a second, well
 * under a microsecond per directory entry (gw_pager_stats' build_ns, printed by
 * tests/unit/test_pager for 1,000 entries). When a page becomes possible again within a
 * second (the incident closed), gw_pager_kick rebuilds on the loop's next turn, at most
 * once a second, so back-to-back calls need not wait for the next second.
 */
#include "service/pager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/roster.h"

struct entry {
	char issi[24];
	char phone[32];
};

struct gw_pager {
	struct gw_loop *loop;
	struct gw_calls *calls;
	struct gw_pager_ops ops;
	struct gw_timer tick;
	struct gw_timer kick;
	int64_t kicked;	   /* the wall second of the last gw_pager_kick rebuild */
	struct entry *tab; /* sorted by issi */
	size_t n, cap;
	int64_t second; /* wall second the table is for; -1: none */
	unsigned gen;	/* roster generation it was built from */
	struct gw_pager_stats st;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->issi, ((const struct entry *)b)->issi);
}

static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool may_start(const struct gw_pager *p)
{
	return gw_calls_may_page(p->calls) && (!p->ops.ready || p->ops.ready(p->ops.arg));
}

int gw_pager_refresh(struct gw_pager *p, int64_t wall_ms)
{
	int64_t t0 = cpu_ns();
	int64_t sec = wall_ms / 1000;
	const struct gw_roster *r = gw_calls_roster(p->calls);
	p->n = 0;
	p->second = -1;
	p->st.rebuilds++;
	p->st.entries = 0;
	if (!r || !may_start(p))
		goto out;
	if (!gw_roster_steady(r, sec * 1000, sec * 1000 + 1000)) {
		p->st.unsteady++;
		goto out;
	}
	size_t nd = gw_roster_dir_count(r);
	if (nd > p->cap) {
		struct entry *t = realloc(p->tab, nd * sizeof(*t));
		if (!t)
			return -ENOMEM;
		p->tab = t;
		p->cap = nd;
	}
	for (size_t i = 0; i < nd; i++) {
		const char *issi = gw_roster_dir_issi(r, i);
		struct entry *e = &p->tab[p->n];
		size_t len = strlen(issi);
		if (len >= sizeof(e->issi))
			continue;
		if (gw_calls_first_page(p->calls, issi, sec * 1000, e->phone, sizeof(e->phone)) !=
		    1)
			continue;
		memcpy(e->issi, issi, len + 1);
		p->n++;
	}
	if (p->n > 1) /* an empty directory has no array at all */
		qsort(p->tab, p->n, sizeof(*p->tab), cmp_entry);
	p->second = sec;
	p->gen = gw_calls_roster_gen(p->calls);
	p->st.entries = (unsigned)p->n;
out:
	p->st.build_ns = cpu_ns() - t0;
	return (int)p->n;
}

/* Just after the next wall second starts: at most one wake-up a second. */
static void on_tick(struct gw_loop *loop, void *arg)
{
	struct gw_pager *p = arg;
	int64_t now = gw_loop_wall_ms(loop);
	gw_pager_refresh(p, now);
	gw_timer_schedule(loop, &p->tick, 1000 - now % 1000 + 1);
}

static void on_kick(struct gw_loop *loop, void *arg)
{
	gw_pager_refresh(arg, gw_loop_wall_ms(loop));
}

void gw_pager_kick(struct gw_pager *p)
{
	if (!p)
		return;
	int64_t sec = gw_loop_wall_ms(p->loop) / 1000;
	if ((p->second == sec && p->gen == gw_calls_roster_gen(p->calls)) || p->kicked == sec)
		return;
	p->kicked = sec;
	gw_timer_schedule(p->loop, &p->kick, 0);
}

const char *gw_pager_lookup(const struct gw_pager *p, const char *caller, int64_t wall_ms)
{
	if (p->n == 0 || p->second < 0 || wall_ms / 1000 != p->second ||
	    p->gen != gw_calls_roster_gen(p->calls) || !may_start(p))
		return NULL;
	struct entry key;
	size_t len = strlen(caller);
	if (len >= sizeof(key.issi))
		return NULL;
	memcpy(key.issi, caller, len + 1);
	const struct entry *e = bsearch(&key, p->tab, p->n, sizeof(*p->tab), cmp_entry);
	return e ? e->phone : NULL;
}

int gw_pager_new(struct gw_loop *loop, struct gw_calls *calls, const struct gw_pager_ops *ops,
		 struct gw_pager **out)
{
	struct gw_pager *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->calls = calls;
	p->ops = *ops;
	p->second = -1;
	p->kicked = -1;
	gw_timer_init(&p->tick, on_tick, p);
	gw_timer_init(&p->kick, on_kick, p);
	gw_timer_schedule(loop, &p->tick, 0);
	*out = p;
	return 0;
}

void gw_pager_free(struct gw_pager *p)
{
	if (!p)
		return;
	gw_timer_cancel(p->loop, &p->tick);
	gw_timer_cancel(p->loop, &p->kick);
	free(p->tab);
	free(p);
}

const struct gw_pager_stats *gw_pager_stats(const struct gw_pager *p)
{
	return &p->st;
}
