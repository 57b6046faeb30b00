/*
 * roster: the in-memory snapshot that answers "which line, who, and in what order,
 * right now?" on the paging path, plus the coordinators' CSV import and export.
 *
 * A snapshot owns a copy of the roster tables (struct gw_db_roster) and resolves them
 * once, at build time, into one flat list of duty intervals per line: one-off shifts as
 * they are, rotations expanded period by period and shift patterns day by day, member by
 * member (expand_pattern) over a horizon (7 days back to 400 days
 * ahead of the build time; rinkid rebuilds daily, see gw_roster_stale), then the
 * overrides applied in a fixed order (replace, then remove, then add; each kind by start
 * time). Each line's intervals are sorted by start and read as an implicit balanced tree
 * (midpoint = node) where each node keeps the latest end in its subtree, which turns
 * "who covers t" into O(log n + k log n) without any allocation or disk access.
 * Escalation chains are resolved at lookup (gw_roster_plan): person steps, "the first
 * on duty of line X" and "everyone on duty of line X" steps, rounds and a fallback.
 * A temporary roster cuts its line's normal intervals out of its date range and clips
 * its own shifts and rotations to it (add_planned), before the overrides. Routes are
 * sorted once by specificity, so routing is the first match of a linear walk.
 *
 * Local time is the zone of roster.timezone (Europe/Helsinki unless set), read once from
 * the system tz database (core/tz.c, loaded by gw_roster_set_timezone at start) so that a
 * lookup never reads a file and the result does not depend on the process's TZ. Without a
 * loaded zone (the tz database lacks Europe/Helsinki) it is Helsinki by the EU rule
 * (UTC+2, summer time UTC+3 from 01:00 UTC on the last Sunday of March to 01:00 UTC on
 * the last Sunday of October, the rule since 1996); rinkid warns then.
 *
 * The module is six files behind one private header (roster_priv.h): roster_time.c
 * (local time), this file (snapshot, queries, coverage gaps, duty listing, PINs
 * and languages), roster_csv.c (the CSV reader and import), roster_fields.c (each record
 * kind as a table of fields, and the field reading and export driven by it),
 * roster_check.c (field and cross-row checks, shift patterns) and roster_ics.c (the
 * iCalendar export).
 *
 * The CSV parser takes a buffer, follows RFC 4180 quoting, and reports every bad
 * row as file:line before anything is written; cross-row checks (unknown line or
 * worker, duplicates, overlapping shifts) run after the whole file is read so the file's
 * row order is free.
 */
#include "store/roster_priv.h"

/* ---- snapshot ------------------------------------------------------------------------ */

struct rshift {
	int64_t start, end;
	int64_t maxend; /* latest end in this node's subtree (see file comment) */
	int position;
	const struct gw_db_worker *w;
};

struct rline;

/* A chain step resolved: a worker (person) or a line (oncall, duty). */
struct rstep {
	enum { STEP_PERSON, STEP_ONCALL, STEP_DUTY } kind;
	const struct gw_db_worker *w;
	const struct rline *target;
	int ring_s;
};

struct rline {
	const struct gw_db_line *l;
	struct rshift *shifts; /* duty intervals, sorted by start (owned) */
	size_t n, cap;
	bool rotations;	     /* some of its duty comes from rotations (horizon applies) */
	struct rstep *steps; /* explicit escalation chain (owned), NULL: the duty order */
	size_t n_steps;
	int rounds;
	const struct gw_db_worker *fallback;
	int fallback_ring_s;
	const struct rline *after; /* its office hours' after-hours line, NULL: none */
};

/* A remove or replace override as lookups of person steps apply it. */
struct rovr {
	bool replace;
	const struct rline *line; /* NULL: every line */
	const struct gw_db_worker *w, *by;
	int64_t start, end;
};

/* A temporary roster: [start, end) in UTC ms on line. */
struct rtemp {
	const struct gw_db_temp *t;
	const struct rline *line;
	int64_t start, end;
};

struct rroute {
	const char *prefix;
	size_t len;
	int priority;
	size_t order;
	const char *line;
	const struct gw_db_route *c; /* its conditions */
	int n_cond;		     /* how many of days, window, holidays it sets */
};

struct gw_roster {
	struct gw_db_roster data;
	struct rline *lines; /* sorted by code */
	size_t n_lines;
	struct rroute *routes; /* longest prefix first, then priority, then order */
	size_t n_routes;
	const struct gw_db_dir **dirs; /* sorted by canonical issi */
	size_t n_dirs;
	const struct gw_db_worker **wk; /* sorted by handle */
	struct rovr *ovr;		/* replaces first, then removes, each by start */
	size_t n_ovr;
	int64_t *holidays; /* local day numbers, sorted */
	size_t n_holidays;
	struct rtemp *temps; /* temporary rosters, by start */
	size_t n_temps;
	int64_t built_ms, from_ms, to_ms; /* build time and rotation horizon [from, to) */
};

/*
 * Canonical SSI of a caller: the SSI (or the SSI part of a 17-digit TSI) without
 * leading zeros. Returns false (key untouched) when s is not digits of such a length.
 */
bool roster_ssi_key(const char *s, char key[SSI_DIGITS + 1])
{
	size_t len = strlen(s);

	if (len == 0 || (len > SSI_DIGITS && len != TSI_DIGITS))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	if (len == TSI_DIGITS)
		s += TSI_DIGITS - SSI_DIGITS;
	while (*s == '0' && s[1])
		s++;
	strcpy(key, s);
	return true;
}

static int cmp_rline_code(const void *k, const void *e)
{
	return strcmp(k, ((const struct rline *)e)->l->code);
}

static const struct rline *find_line(const struct gw_roster *r, const char *code)
{
	if (!code)
		return NULL;
	return bsearch(code, r->lines, r->n_lines, sizeof(*r->lines), cmp_rline_code);
}

static int cmp_rline(const void *a, const void *b)
{
	return strcmp(((const struct rline *)a)->l->code, ((const struct rline *)b)->l->code);
}

static int cmp_worker_ptr(const void *a, const void *b)
{
	const struct gw_db_worker *const *x = a, *const *y = b;
	return strcmp((*x)->handle, (*y)->handle);
}

static int cmp_worker_key(const void *k, const void *e)
{
	return strcmp(k, (*(const struct gw_db_worker *const *)e)->handle);
}

static const struct gw_db_worker *find_worker(const struct gw_roster *r, const char *handle)
{
	const struct gw_db_worker *const *w;

	if (!handle)
		return NULL;
	w = bsearch(handle, r->wk, r->data.n_workers, sizeof(*r->wk), cmp_worker_key);
	return w ? *w : NULL;
}

bool roster_lang_ok(const char *s)
{
	return s && (strcmp(s, "fi") == 0 || strcmp(s, "sv") == 0 || strcmp(s, "en") == 0);
}

/*
 * The worker a phone number names: the active one with that number (gw_e164_same, first
 * by handle when several share it), or NULL. A linear walk: tens of workers.
 */
static const struct gw_db_worker *worker_by_phone(const struct gw_roster *r, const char *phone)
{
	if (!r || !phone)
		return NULL;
	for (size_t i = 0; i < r->data.n_workers; i++)
		if (r->wk[i]->active && gw_e164_same(r->wk[i]->phone, phone))
			return r->wk[i];
	return NULL;
}

static int cmp_rshift(const void *a, const void *b)
{
	const struct rshift *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return 0;
}

/* The order routes are tried in: see gw_roster_route_at() in roster.h. */
static int cmp_rroute(const void *a, const void *b)
{
	const struct rroute *x = a, *y = b;
	if (x->c->has_status != y->c->has_status)
		return x->c->has_status ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	if (x->n_cond != y->n_cond)
		return x->n_cond > y->n_cond ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_dir_ptr(const void *a, const void *b)
{
	const struct gw_db_dir *const *x = a, *const *y = b;
	return strcmp((*x)->issi, (*y)->issi);
}

static int cmp_dir_key(const void *k, const void *e)
{
	return strcmp(k, (*(const struct gw_db_dir *const *)e)->issi);
}

static int cmp_rtemp(const void *a, const void *b)
{
	const struct rtemp *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Fill maxend over s[lo, hi) as an implicit tree rooted at the midpoint; returns the max. */
static int64_t build_maxend(struct rshift *s, size_t lo, size_t hi)
{
	if (lo >= hi)
		return INT64_MIN;
	size_t mid = lo + (hi - lo) / 2;
	int64_t m = s[mid].end;
	int64_t l = build_maxend(s, lo, mid);
	int64_t h = build_maxend(s, mid + 1, hi);
	if (l > m)
		m = l;
	if (h > m)
		m = h;
	s[mid].maxend = m;
	return m;
}

/* Append a duty interval to a line; false on ENOMEM. Empty intervals are dropped. */
static bool add_interval(struct rline *l, int64_t start, int64_t end, int position,
			 const struct gw_db_worker *w)
{
	if (end <= start)
		return true;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct rshift *p = reallocarray(l->shifts, ncap, sizeof(*p));
		if (!p)
			return false;
		l->shifts = p;
		l->cap = ncap;
	}
	l->shifts[l->n++] =
	    (struct rshift){.start = start, .end = end, .position = position, .w = w};
	return true;
}

/* A computed Finnish public holiday (roster_fi_holiday) or one of the roster's own. */
static bool is_holiday(const struct gw_roster *r, int64_t day)
{
	return roster_fi_holiday(day) ||
	       bsearch(&day, r->holidays, r->n_holidays, sizeof(*r->holidays), cmp_i64) != NULL;
}

static const struct rtemp *find_temp(const struct gw_roster *r, const char *name)
{
	for (size_t i = 0; name && i < r->n_temps; i++)
		if (strcmp(r->temps[i].t->name, name) == 0)
			return &r->temps[i];
	return NULL;
}

/*
 * Add normal or temporary-roster duty to l: a temporary roster's roster_duty (temp set) only
 * within its range, the line's normal duty only outside the ranges of the line's
 * temporary rosters. False on ENOMEM.
 */
static bool add_planned(const struct gw_roster *r, struct rline *l, int64_t start, int64_t end,
			int position, const struct gw_db_worker *w, const struct rtemp *temp)
{
	int64_t cursor = start;

	if (temp)
		return add_interval(l, start > temp->start ? start : temp->start,
				    end < temp->end ? end : temp->end, position, w);
	for (size_t i = 0; i < r->n_temps && cursor < end; i++) {
		const struct rtemp *x = &r->temps[i];
		if (x->line != l || x->end <= cursor || x->start >= end)
			continue;
		if (!add_interval(l, cursor, x->start, position, w))
			return false;
		cursor = x->end;
	}
	return add_interval(l, cursor, end, position, w);
}

/*
 * Add [start, end) of w to l, restricted to hours: office hours (Mon-Fri 08:00-16:00
 * local, not on holidays), the rest ("after"), or all of it.
 */
static bool add_hours(const struct gw_roster *r, struct rline *l, enum hours hours, int64_t start,
		      int64_t end, int position, const struct gw_db_worker *w,
		      const struct rtemp *temp)
{
	int64_t cursor = start;

	if (hours == HOURS_ALL)
		return add_planned(r, l, start, end, position, w, temp);
	for (int64_t day = roster_utc_to_local_day(start, NULL) - 1;; day++) {
		int64_t o1 = roster_local_to_utc(day, OFFICE_FROM_MIN),
			o2 = roster_local_to_utc(day, OFFICE_TO_MIN);
		if (o1 >= end)
			break;
		if (roster_weekday(day) >= 5 || is_holiday(r, day) || o2 <= cursor)
			continue;
		if (hours == HOURS_OFFICE) {
			if (!add_planned(r, l, o1 > start ? o1 : start, o2 < end ? o2 : end,
					 position, w, temp))
				return false;
		} else {
			if (o1 > cursor && !add_planned(r, l, cursor, o1, position, w, temp))
				return false;
			cursor = o2;
		}
	}
	return hours == HOURS_OFFICE || add_planned(r, l, cursor, end, position, w, temp);
}

/*
 * Expand a shift pattern over the horizon: on day d (counted from START_DATE), member k
 * (1..n) works the shift of cycle day (d - (k - 1) * step) mod days, from its local start
 * to its local end (the clock-change rules of roster_local_to_utc apply to both edges).
 */
static int expand_pattern(struct gw_roster *r, struct rline *l, const struct gw_db_rotation *x,
			  const struct rtemp *temp, const struct gw_db_worker *const *members,
			  int n, int64_t d0, int64_t dend)
{
	struct pattern p;
	char why[160];

	if (roster_pattern_parse(x->cycle, x->shifts, &p, why, sizeof(why)) < 0 || x->step < 0) {
		LOGP(GW_LOG_DB, GW_LOG_WARN, "roster: pattern %s is malformed (%s): skipped",
		     x->name, x->step < 0 ? "no step" : why);
		return 0;
	}
	int64_t first = roster_utc_to_local_day(r->from_ms, NULL) - 2; /* a night shift */
	int64_t last = roster_utc_to_local_day(r->to_ms, NULL) + 1;
	for (int64_t day = first > d0 ? first : d0; day <= last && day < dend; day++) {
		for (int k = 1; k <= n; k++) {
			int64_t idx =
			    roster_floor_div(day - d0 - (int64_t)(k - 1) * x->step, p.days);
			idx = day - d0 - (int64_t)(k - 1) * x->step - idx * p.days;
			int sh = p.day[idx];
			if (!sh || !members[k])
				continue;
			const struct pattern_shift *ps = &p.shift[sh - 1];
			int64_t s =
			    roster_local_to_utc(day + ps->start_min / 1440, ps->start_min % 1440);
			int64_t e =
			    roster_local_to_utc(day + ps->end_min / 1440, ps->end_min % 1440);
			if (e <= r->from_ms || s >= r->to_ms)
				continue;
			if (!add_planned(r, l, s > r->from_ms ? s : r->from_ms,
					 e < r->to_ms ? e : r->to_ms, x->position, members[k],
					 temp))
				return -ENOMEM;
		}
	}
	return 0;
}

/* Expand one rotation over the snapshot's horizon into its line's intervals. */
static int expand_rotation(struct gw_roster *r, const struct gw_db_rotation *x)
{
	struct rline *l = (struct rline *)find_line(r, x->line);
	const struct rtemp *temp = find_temp(r, x->temp);
	const struct gw_db_worker *members[100] = {0};
	int64_t d0, dend = INT64_MAX;
	int n = 0, period;
	enum hours hours;

	if (!l || !roster_parse_date(x->start_date, &d0) ||
	    (x->end_date && !roster_parse_date(x->end_date, &dend)) || (x->temp && !temp)) {
		LOGP(GW_LOG_DB, GW_LOG_WARN, "roster: rotation %s is malformed: skipped", x->name);
		return 0;
	}
	period = strcmp(x->kind, "weekly") == 0 ? 7 : 1;
	hours = strcmp(x->hours, "office") == 0	 ? HOURS_OFFICE
		: strcmp(x->hours, "after") == 0 ? HOURS_AFTER
						 : HOURS_ALL;
	for (size_t i = 0; i < r->data.n_members; i++) {
		const struct gw_db_member *m = &r->data.members[i];
		if (strcmp(m->rotation, x->name) != 0 || m->order < 1 || m->order > 99)
			continue;
		members[m->order] = find_worker(r, m->worker);
		if (m->order > n)
			n = m->order;
	}
	l->rotations = true;
	if (n == 0)
		return 0;
	if (x->cycle)
		return expand_pattern(r, l, x, temp, members, n, d0, dend);
	/* The first period that can reach the horizon, then one period after another. */
	int64_t k = roster_floor_div(roster_utc_to_local_day(r->from_ms, NULL) - 1 - d0, period);
	if (k < 0)
		k = 0;
	for (;; k++) {
		int64_t day = d0 + k * period;
		if (day >= dend)
			break;
		int64_t s = roster_local_to_utc(day, x->handoff_min);
		int64_t e =
		    roster_local_to_utc(day + period < dend ? day + period : dend, x->handoff_min);
		if (s >= r->to_ms)
			break;
		const struct gw_db_worker *w = members[k % n + 1];
		if (!w || e <= r->from_ms)
			continue; /* a gap in the member numbers: nobody for that turn */
		if (!add_hours(r, l, hours, s > r->from_ms ? s : r->from_ms,
			       e < r->to_ms ? e : r->to_ms, x->position, w, temp))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Apply a replace (by != NULL) or remove override to l: w's intervals overlapping
 * [a, b) lose that part, which goes to by (replace) or nobody (remove).
 */
static bool apply_cut(struct rline *l, const struct gw_db_worker *w, const struct gw_db_worker *by,
		      int64_t a, int64_t b)
{
	size_t n = l->n;

	for (size_t i = 0; i < n; i++) {
		struct rshift s = l->shifts[i];
		if (s.w != w || s.end <= a || s.start >= b)
			continue;
		int64_t m1 = s.start > a ? s.start : a, m2 = s.end < b ? s.end : b;
		l->shifts[i].w = NULL; /* dropped; the pieces are appended */
		if (!add_interval(l, s.start, m1, s.position, w) ||
		    !add_interval(l, m2, s.end, s.position, w) ||
		    (by && !add_interval(l, m1, m2, s.position, by)))
			return false;
	}
	return true;
}

static int ovr_rank(const struct gw_db_override *o)
{
	return strcmp(o->kind, "replace") == 0 ? 0 : strcmp(o->kind, "remove") == 0 ? 1 : 2;
}

static int cmp_override(const void *a, const void *b)
{
	const struct gw_db_override *x = *(const struct gw_db_override *const *)a;
	const struct gw_db_override *y = *(const struct gw_db_override *const *)b;
	if (ovr_rank(x) != ovr_rank(y))
		return ovr_rank(x) - ovr_rank(y);
	if (x->start_ms != y->start_ms)
		return x->start_ms < y->start_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Overrides in the order they apply: replaces, removes, adds; each kind by start. */
static int apply_overrides(struct gw_roster *r)
{
	struct gw_db_roster *d = &r->data;
	const struct gw_db_override **o = calloc(d->n_overrides + 1, sizeof(*o));
	int rc = -ENOMEM;

	r->ovr = calloc(d->n_overrides + 1, sizeof(*r->ovr));
	if (!o || !r->ovr)
		goto out;
	for (size_t i = 0; i < d->n_overrides; i++)
		o[i] = &d->overrides[i];
	qsort(o, d->n_overrides, sizeof(*o), cmp_override);
	for (size_t i = 0; i < d->n_overrides; i++) {
		const struct gw_db_worker *w = find_worker(r, o[i]->worker);
		const struct gw_db_worker *by = find_worker(r, o[i]->by);
		struct rline *l = (struct rline *)find_line(r, o[i]->line);
		int rank = ovr_rank(o[i]);

		if (!w || (o[i]->line && !l) || (rank == 0 && !by) || (rank == 2 && !l)) {
			LOGP(GW_LOG_DB, GW_LOG_WARN,
			     "roster: override %lld names unknown rows: "
			     "skipped",
			     (long long)o[i]->id);
			continue;
		}
		if (rank == 2) {
			if (!add_interval(l, o[i]->start_ms, o[i]->end_ms, o[i]->position, w))
				goto out;
			continue;
		}
		r->ovr[r->n_ovr++] = (struct rovr){
		    rank == 0, l, w, rank == 0 ? by : NULL, o[i]->start_ms, o[i]->end_ms};
		for (size_t k = 0; k < r->n_lines; k++) {
			struct rline *x = &r->lines[k];
			if ((!l || l == x) &&
			    !apply_cut(x, w, rank == 0 ? by : NULL, o[i]->start_ms, o[i]->end_ms))
				goto out;
		}
	}
	rc = 0;
out:
	free(o);
	return rc;
}

/* Escalation chains: each line's steps in order, and its settings. */
static int build_chains(struct gw_roster *r)
{
	struct gw_db_roster *d = &r->data;

	for (size_t i = 0; i < d->n_chains; i++) {
		struct rline *l = (struct rline *)find_line(r, d->chains[i].line);
		if (!l)
			continue;
		l->rounds = d->chains[i].rounds;
		l->fallback = find_worker(r, d->chains[i].fallback);
		l->fallback_ring_s = d->chains[i].fallback_ring_s;
	}
	/* Steps come from the database ordered by line, then order. */
	for (size_t i = 0; i < d->n_steps; i++) {
		const struct gw_db_chain_step *c = &d->steps[i];
		struct rline *l = (struct rline *)find_line(r, c->line);
		struct rstep st = {.ring_s = c->ring_s};

		if (!l)
			continue;
		if (strcmp(c->kind, "person") == 0) {
			st.kind = STEP_PERSON;
			st.w = find_worker(r, c->who);
		} else {
			st.kind = strcmp(c->kind, "duty") == 0 ? STEP_DUTY : STEP_ONCALL;
			st.target = find_line(r, c->who);
		}
		if (!st.w && !st.target) {
			LOGP(GW_LOG_DB, GW_LOG_WARN,
			     "roster: chain step %d of %s names %s: skipped", c->order, c->line,
			     c->who);
			continue;
		}
		if (!l->steps && !(l->steps = calloc(d->n_steps, sizeof(*l->steps))))
			return -ENOMEM;
		l->steps[l->n_steps++] = st;
	}
	return 0;
}

static int build(struct gw_roster *r)
{
	struct gw_db_roster *d = &r->data;
	size_t n_shifts = 0;
	int rc;

	r->lines = calloc(d->n_lines ? d->n_lines : 1, sizeof(*r->lines));
	r->routes = calloc(d->n_routes ? d->n_routes : 1, sizeof(*r->routes));
	r->dirs = calloc(d->n_dirs ? d->n_dirs : 1, sizeof(*r->dirs));
	r->wk = calloc(d->n_workers ? d->n_workers : 1, sizeof(*r->wk));
	r->holidays = calloc(d->n_holidays ? d->n_holidays : 1, sizeof(*r->holidays));
	r->temps = calloc(d->n_temps ? d->n_temps : 1, sizeof(*r->temps));
	if (!r->lines || !r->routes || !r->dirs || !r->wk || !r->holidays || !r->temps)
		return -ENOMEM;

	for (size_t i = 0; i < d->n_lines; i++)
		r->lines[i].l = &d->lines[i];
	r->n_lines = d->n_lines;
	qsort(r->lines, r->n_lines, sizeof(*r->lines), cmp_rline);
	for (size_t i = 0; i < d->n_workers; i++)
		r->wk[i] = &d->workers[i];
	qsort(r->wk, d->n_workers, sizeof(*r->wk), cmp_worker_ptr);
	for (size_t i = 0; i < d->n_holidays; i++)
		if (roster_parse_date(d->holidays[i].date, &r->holidays[r->n_holidays]))
			r->n_holidays++;
	qsort(r->holidays, r->n_holidays, sizeof(*r->holidays), cmp_i64);
	for (size_t i = 0; i < d->n_temps; i++) {
		struct rtemp *x = &r->temps[r->n_temps];
		int64_t d0, d1;
		if (!(x->line = find_line(r, d->temps[i].line)) ||
		    !roster_parse_date(d->temps[i].from_date, &d0) ||
		    !roster_parse_date(d->temps[i].to_date, &d1)) {
			LOGP(GW_LOG_DB, GW_LOG_WARN,
			     "roster: temporary roster %s is malformed: skipped", d->temps[i].name);
			continue;
		}
		x->t = &d->temps[i];
		x->start = roster_local_to_utc(d0, d->temps[i].handoff_min);
		x->end = roster_local_to_utc(d1, d->temps[i].handoff_min);
		r->n_temps++;
	}
	qsort(r->temps, r->n_temps, sizeof(*r->temps), cmp_rtemp);

	/* Duty intervals: one-off shifts, rotations, then the overrides. */
	for (size_t i = 0; i < d->n_shifts; i++) {
		const struct gw_db_shift *s = &d->shifts[i];
		struct rline *l = (struct rline *)find_line(r, s->line);
		const struct gw_db_worker *w = find_worker(r, s->worker);
		const struct rtemp *temp = find_temp(r, s->temp);

		if (!l || !w || (s->temp && !temp)) {
			LOGP(GW_LOG_DB, GW_LOG_WARN,
			     "roster: shift of %s on %s names unknown rows: "
			     "skipped",
			     s->worker, s->line);
			continue;
		}
		if (!add_planned(r, l, s->start_ms, s->end_ms, s->position, w, temp))
			return -ENOMEM;
		n_shifts++;
	}
	for (size_t i = 0; i < d->n_rotations; i++)
		if ((rc = expand_rotation(r, &d->rotations[i])) < 0)
			return rc;
	if ((rc = apply_overrides(r)) < 0 || (rc = build_chains(r)) < 0)
		return rc;
	for (size_t i = 0; i < r->n_lines; i++) {
		struct rline *l = &r->lines[i];
		if (l->l->office && !(l->after = find_line(r, l->l->after_line)))
			LOGP(GW_LOG_DB, GW_LOG_WARN,
			     "roster: after-hours line %s of %s is unknown: office hours ignored",
			     l->l->after_line, l->l->code);
	}
	for (size_t i = 0; i < r->n_lines; i++) {
		struct rline *l = &r->lines[i];
		size_t k = 0;
		for (size_t j = 0; j < l->n; j++) /* drop what the overrides cut away */
			if (l->shifts[j].w)
				l->shifts[k++] = l->shifts[j];
		l->n = k;
		if (l->n)
			qsort(l->shifts, l->n, sizeof(struct rshift), cmp_rshift);
		build_maxend(l->shifts, 0, l->n);
	}

	for (size_t i = 0; i < d->n_routes; i++) {
		const struct rline *l = find_line(r, d->routes[i].line);
		if (!l) {
			LOGP(GW_LOG_DB, GW_LOG_WARN, "roster: route to unknown line %s skipped",
			     d->routes[i].line);
			continue;
		}
		r->routes[r->n_routes++] = (struct rroute){
		    .prefix = d->routes[i].prefix,
		    .len = strlen(d->routes[i].prefix),
		    .priority = d->routes[i].priority,
		    .order = i,
		    .line = l->l->code,
		    .c = &d->routes[i],
		    .n_cond = (d->routes[i].days != 0) + d->routes[i].window +
			      (d->routes[i].holidays != GW_DB_ROUTE_HOL_ANY),
		};
	}
	qsort(r->routes, r->n_routes, sizeof(*r->routes), cmp_rroute);

	for (size_t i = 0; i < d->n_dirs; i++) {
		char key[SSI_DIGITS + 1];
		if (!roster_ssi_key(d->dirs[i].issi, key)) {
			LOGP(GW_LOG_DB, GW_LOG_WARN, "roster: directory ISSI %s is not an ISSI",
			     d->dirs[i].issi);
			continue;
		}
		strcpy(d->dirs[i].issi, key); /* never longer than the original */
		r->dirs[r->n_dirs++] = &d->dirs[i];
	}
	qsort(r->dirs, r->n_dirs, sizeof(*r->dirs), cmp_dir_ptr);
	LOGP(GW_LOG_DB, GW_LOG_INFO,
	     "roster loaded: %zu lines, %zu workers, %zu shifts, %zu rotations, %zu overrides, "
	     "%zu chain steps, %zu routes, %zu directory entries",
	     r->n_lines, d->n_workers, n_shifts, d->n_rotations, d->n_overrides, d->n_steps,
	     r->n_routes, r->n_dirs);
	return 0;
}

int gw_roster_load_at(struct gw_db *db, int64_t now_ms, struct gw_roster **out)
{
	struct gw_roster *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->built_ms = now_ms;
	r->from_ms = now_ms - HORIZON_BACK_MS;
	r->to_ms = now_ms + HORIZON_AHEAD_MS;
	if ((rc = gw_db_roster_read(db, &r->data)) < 0 || (rc = build(r)) < 0) {
		gw_roster_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int gw_roster_load(struct gw_db *db, struct gw_roster **out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return gw_roster_load_at(db, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out);
}

const struct gw_db_roster_source *gw_roster_source(const struct gw_roster *r)
{
	return &r->data.source;
}

bool gw_roster_stale(const struct gw_roster *r, int64_t now_ms)
{
	return now_ms < r->built_ms - DAY_MS || now_ms >= r->built_ms + DAY_MS;
}

void gw_roster_free(struct gw_roster *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->lines && i < r->n_lines; i++) {
		free(r->lines[i].shifts);
		free(r->lines[i].steps);
	}
	gw_db_roster_clear(&r->data);
	free(r->lines);
	free(r->routes);
	free(r->dirs);
	free(r->wk);
	free(r->ovr);
	free(r->holidays);
	free(r->temps);
	free(r);
}

const char *gw_roster_temp_at(const struct gw_roster *r, const char *line, int64_t t_ms)
{
	const struct rline *l = find_line(r, line);

	for (size_t i = 0; l && i < r->n_temps; i++)
		if (r->temps[i].line == l && r->temps[i].start <= t_ms && t_ms < r->temps[i].end)
			return r->temps[i].t->name;
	return NULL;
}

/* ---- worker PIN and language ----------------------------------------------------------- */

_Static_assert(GW_ROSTER_PIN_HASH_MAX >= crypto_pwhash_STRBYTES + 5, "PIN hash buffer too small");

bool gw_roster_pin_ok(const char *pin)
{
	return pin && roster_digits_ok(pin, GW_ROSTER_PIN_MIN, GW_ROSTER_PIN_MAX);
}

/* The loaded pepper (gw_roster_pepper_load); process-wide, read-only once loaded. */
static unsigned char pepper[GW_ROSTER_PEPPER_BYTES];
static bool have_pepper;

#define PEPPER_TAG "pep1:"

int gw_roster_pepper_load(const char *path, bool create)
{
	unsigned char buf[GW_ROSTER_PEPPER_BYTES];
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (sodium_init() < 0)
			return -EIO;
		randombytes_buf(buf, sizeof(buf));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		ssize_t n = write(fd, buf, sizeof(buf));
		int rc = n == (ssize_t)sizeof(buf) && fsync(fd) == 0 ? 0 : n < 0 ? -errno : -EIO;
		close(fd);
		if (rc < 0) {
			unlink(path);
			sodium_memzero(buf, sizeof(buf));
			return rc;
		}
		LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%s: new PIN pepper", path);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || (st.st_mode & 077))
		rc = -EPERM;
	else if (st.st_size != GW_ROSTER_PEPPER_BYTES ||
		 read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		rc = -EINVAL;
	close(fd);
	if (rc < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR,
		     "%s: not a usable PIN pepper (%d bytes, mode 0600): %s", path,
		     GW_ROSTER_PEPPER_BYTES, strerror(-rc));
		sodium_memzero(buf, sizeof(buf));
		return rc;
	}
	memcpy(pepper, buf, sizeof(pepper));
	sodium_memzero(buf, sizeof(buf));
	have_pepper = true;
	return 0;
}

bool gw_roster_pepper_loaded(void)
{
	return have_pepper;
}

void gw_roster_pepper_forget(void)
{
	sodium_memzero(pepper, sizeof(pepper));
	have_pepper = false;
}

/* What is argon2-hashed for pin with the pepper: HMAC-SHA256(pepper, pin) in hex. */
static void peppered_input(const char *pin, char hex[2 * crypto_auth_hmacsha256_BYTES + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, pepper, sizeof(pepper));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)pin, strlen(pin));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, 2 * crypto_auth_hmacsha256_BYTES + 1, mac, sizeof(mac));
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

int gw_roster_hash_pin(const char *pin, char out[GW_ROSTER_PIN_HASH_MAX])
{
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1], str[crypto_pwhash_STRBYTES];
	const char *in = pin;
	if (!gw_roster_pin_ok(pin))
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (have_pepper) {
		peppered_input(pin, hex);
		in = hex;
	}
	int rc = crypto_pwhash_str_alg(str, in, strlen(in), GW_ROSTER_PIN_OPSLIMIT,
				       GW_ROSTER_PIN_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13);
	sodium_memzero(hex, sizeof(hex));
	if (rc != 0)
		return -ENOMEM; /* libsodium's only failure here: the memory limit */
	snprintf(out, GW_ROSTER_PIN_HASH_MAX, "%s%s", have_pepper ? PEPPER_TAG : "", str);
	return 0;
}

int gw_roster_verify_pin(const char *hash, const char *pin)
{
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
	if (!gw_roster_pin_ok(pin))
		return -EACCES; /* not even a PIN: no need to hash it */
	if (sodium_init() < 0)
		return -EIO;
	if (strncmp(hash, PEPPER_TAG, strlen(PEPPER_TAG)) != 0) /* made before the pepper */
		return crypto_pwhash_str_verify(hash, pin, strlen(pin)) == 0 ? 0 : -EACCES;
	if (!have_pepper)
		return -ENOKEY;
	peppered_input(pin, hex);
	int rc = crypto_pwhash_str_verify(hash + strlen(PEPPER_TAG), hex, strlen(hex));
	sodium_memzero(hex, sizeof(hex));
	return rc == 0 ? 0 : -EACCES;
}

int gw_roster_check_pin(const struct gw_roster *r, const char *phone, const char *pin)
{
	const struct gw_db_worker *w = worker_by_phone(r, phone);

	if (!w || !w->pin_hash)
		return -ENOENT;
	return gw_roster_verify_pin(w->pin_hash, pin);
}

const char *gw_roster_worker_lang(const struct gw_roster *r, const char *phone)
{
	const struct gw_db_worker *w = worker_by_phone(r, phone);

	if (!w)
		return NULL;
	return roster_lang_ok(w->lang) ? w->lang : "fi";
}

/* Whether a route's day, window and holiday conditions hold at local day, minute. */
static bool route_time_ok(const struct gw_roster *r, const struct gw_db_route *c, int64_t day,
			  int min)
{
	if (c->window) {
		if (c->from_min < c->to_min) {
			if (min < c->from_min || min >= c->to_min)
				return false;
		} else if (min < c->to_min) {
			day--; /* the part after midnight of a window that began the day before */
		} else if (min < c->from_min) {
			return false;
		}
	}
	if (c->days && !(c->days & (1 << roster_weekday(day))))
		return false;
	if (c->holidays != GW_DB_ROUTE_HOL_ANY &&
	    is_holiday(r, day) != (c->holidays == GW_DB_ROUTE_HOL_ONLY))
		return false;
	return true;
}

/* The first route in cmp_rroute order matching; named: only one that names status. */
static const char *route_find(const struct gw_roster *r, const char *caller, int status, time_t t,
			      bool named)
{
	char key[SSI_DIGITS + 1];
	const char *k = caller;
	int min;
	int64_t day = roster_utc_to_local_day((int64_t)t * 1000, &min);

	if (!caller)
		return NULL;
	if (roster_ssi_key(caller, key))
		k = key;
	for (size_t i = 0; i < r->n_routes; i++) {
		const struct rroute *rt = &r->routes[i];
		if (strncmp(k, rt->prefix, rt->len) != 0 ||
		    (rt->c->has_status && rt->c->status != status) ||
		    (named && !rt->c->has_status) ||
		    (rt->n_cond && !route_time_ok(r, rt->c, day, min)))
			continue;
		return rt->line;
	}
	return NULL;
}

const char *gw_roster_route_at(const struct gw_roster *r, const char *caller, int status, time_t t)
{
	return route_find(r, caller, status, t, false);
}

const char *gw_roster_route_status_at(const struct gw_roster *r, const char *caller, int status,
				      time_t t)
{
	return status < 0 ? NULL : route_find(r, caller, status, t, true);
}

const char *gw_roster_route(const struct gw_roster *r, const char *caller)
{
	return gw_roster_route_at(r, caller, -1, time(NULL));
}

/* Candidates covering an instant, kept ordered by (position, start) and bounded. */
struct cover {
	const struct rshift *s[MAX_COVER];
	int n;
};

bool roster_before(const struct rshift *a, const struct rshift *b)
{
	return a->position != b->position ? a->position < b->position : a->start < b->start;
}

static void cover_add(struct cover *c, const struct rshift *s)
{
	int i = c->n;

	if (c->n == MAX_COVER) {
		if (!roster_before(s, c->s[MAX_COVER - 1]))
			return;
		i = MAX_COVER - 1;
	} else {
		c->n++;
	}
	while (i > 0 && roster_before(s, c->s[i - 1])) {
		c->s[i] = c->s[i - 1];
		i--;
	}
	c->s[i] = s;
}

/* Visit shifts in s[lo, hi) covering t (start <= t < end); see build_maxend. */
static void stab(const struct rshift *s, size_t lo, size_t hi, int64_t t, struct cover *c)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s[mid].maxend <= t)
			return;
		stab(s, lo, mid, t, c);
		if (s[mid].start > t)
			return;
		if (s[mid].end > t && s[mid].w->active)
			cover_add(c, &s[mid]);
		lo = mid + 1;
	}
}

/* The duty order of l at t: active workers, each once. Count (<= max) or -ERANGE. */
int roster_duty(const struct gw_roster *r, const struct rline *l, int64_t t,
		const struct gw_db_worker **out, int max)
{
	struct cover c;
	int n = 0;

	if (l->rotations && (t < r->from_ms || t >= r->to_ms))
		return -ERANGE;
	c.n = 0;
	stab(l->shifts, 0, l->n, t, &c);
	for (int i = 0; i < c.n && n < max; i++) {
		const struct gw_db_worker *w = c.s[i]->w;
		bool dup = false;
		for (int j = 0; j < i && !dup; j++)
			dup = c.s[j]->w == w;
		if (!dup)
			out[n++] = w;
	}
	return n;
}

int gw_roster_chain(const struct gw_roster *r, const char *line, int64_t t_ms,
		    struct gw_roster_step *steps, int max)
{
	const struct rline *l = find_line(r, line);
	const struct gw_db_worker *w[GW_ROSTER_CHAIN_MAX];
	int n;

	if (!l)
		return -ENOENT;
	if (max > GW_ROSTER_CHAIN_MAX)
		max = GW_ROSTER_CHAIN_MAX;
	if (max <= 0)
		return 0;
	n = roster_duty(r, l, t_ms, w, max);
	for (int i = 0; i < n; i++)
		steps[i] = (struct gw_roster_step){
		    .handle = w[i]->handle, .name = w[i]->name, .phone = w[i]->phone};
	return n;
}

/* A person step at t on line l: replace and remove overrides applied; NULL when off. */
static const struct gw_db_worker *person_at(const struct gw_roster *r, const struct rline *l,
					    const struct gw_db_worker *w, int64_t t)
{
	for (size_t i = 0; i < r->n_ovr && w; i++) {
		const struct rovr *o = &r->ovr[i];
		if (o->w == w && o->start <= t && t < o->end && (!o->line || o->line == l))
			w = o->replace ? o->by : NULL;
	}
	return w && w->active ? w : NULL;
}

static void plan_add(struct gw_roster_plan *p, const struct gw_db_worker *w, int ring_s)
{
	for (int i = 0; i < p->n_steps; i++)
		if (strcmp(p->steps[i].handle, w->handle) == 0)
			return; /* each worker once, at their first place */
	if (p->n_steps == GW_ROSTER_CHAIN_MAX)
		return;
	p->steps[p->n_steps++] = (struct gw_roster_plan_step){
	    .handle = w->handle, .name = w->name, .phone = w->phone, .ring_s = ring_s};
}

/* Whether l is in its office hours at t (true without office hours). */
static bool office_at(const struct gw_roster *r, const struct rline *l, int64_t t)
{
	int min;
	int64_t day;

	if (!l->after)
		return true;
	day = roster_utc_to_local_day(t, &min);
	return (l->l->office_days & (1 << roster_weekday(day))) && !is_holiday(r, day) &&
	       min >= l->l->office_from && min < l->l->office_to;
}

bool gw_roster_office_at(const struct gw_roster *r, const char *line, int64_t t_ms)
{
	const struct rline *l = find_line(r, line);

	return !l || office_at(r, l, t_ms);
}

const char *gw_roster_after_hours_line(const struct gw_roster *r, const char *line, int64_t t_ms)
{
	const struct rline *l = find_line(r, line);

	return l && !office_at(r, l, t_ms) ? l->after->l->code : NULL;
}

int gw_roster_plan(const struct gw_roster *r, const char *line, int64_t t_ms,
		   struct gw_roster_plan *out)
{
	const struct rline *l = find_line(r, line);
	const struct gw_db_worker *w[GW_ROSTER_CHAIN_MAX];
	const char *after = NULL;
	int n;

	memset(out, 0, sizeof(*out));
	if (!l)
		return -ENOENT;
	if (!office_at(r, l, t_ms)) {
		l = l->after; /* its own office hours are not followed: one step only */
		after = l->l->code;
	}
	out->after_hours_line = after;
	out->rounds = l->rounds;
	out->explicit_chain = l->n_steps > 0;
	if (!l->n_steps) {
		if ((n = roster_duty(r, l, t_ms, w, GW_ROSTER_CHAIN_MAX)) < 0)
			return n;
		for (int i = 0; i < n; i++)
			plan_add(out, w[i], 0);
	}
	for (size_t i = 0; i < l->n_steps; i++) {
		const struct rstep *s = &l->steps[i];
		const struct gw_db_worker *p;

		switch (s->kind) {
		case STEP_PERSON:
			if ((p = person_at(r, l, s->w, t_ms)))
				plan_add(out, p, s->ring_s);
			break;
		case STEP_ONCALL:
		case STEP_DUTY:
			n = roster_duty(r, s->target, t_ms, w,
					s->kind == STEP_ONCALL ? 1 : GW_ROSTER_CHAIN_MAX);
			if (n < 0)
				return n;
			for (int k = 0; k < n; k++)
				plan_add(out, w[k], s->ring_s);
			break;
		}
	}
	if (l->fallback) {
		const struct gw_db_worker *p = person_at(r, l, l->fallback, t_ms);
		if (p) {
			out->has_fallback = true;
			out->fallback = (struct gw_roster_plan_step){.handle = p->handle,
								     .name = p->name,
								     .phone = p->phone,
								     .ring_s = l->fallback_ring_s};
		}
	}
	out->empty = out->n_steps == 0 && !out->has_fallback;
	return out->n_steps;
}

const char *gw_roster_org(const struct gw_roster *r, const char *issi)
{
	char key[SSI_DIGITS + 1];
	const struct gw_db_dir *const *d;

	if (!issi || !roster_ssi_key(issi, key))
		return NULL;
	d = bsearch(key, r->dirs, r->n_dirs, sizeof(*r->dirs), cmp_dir_key);
	return d ? (*d)->org : NULL;
}

size_t gw_roster_dir_count(const struct gw_roster *r)
{
	return r->n_dirs;
}

const char *gw_roster_dir_issi(const struct gw_roster *r, size_t i)
{
	return i < r->n_dirs ? r->dirs[i]->issi : NULL;
}

/* e is an edge strictly inside (from, to). */
static bool edge_inside(int64_t e, int64_t from_ms, int64_t to_ms)
{
	return e > from_ms && e < to_ms;
}

bool gw_roster_steady(const struct gw_roster *r, int64_t from_ms, int64_t to_ms)
{
	if (to_ms <= from_ms || from_ms < r->from_ms || to_ms > r->to_ms)
		return false;
	/* whole minutes (office hours, rotation and pattern hand-offs, route windows, days)
	   cannot fall inside a span of a second that starts on a whole second; these can */
	if (to_ms - from_ms > 1000 || from_ms % 1000 != 0)
		return false;
	for (size_t i = 0; i < r->n_lines; i++)
		for (size_t j = 0; j < r->lines[i].n; j++)
			if (edge_inside(r->lines[i].shifts[j].start, from_ms, to_ms) ||
			    edge_inside(r->lines[i].shifts[j].end, from_ms, to_ms))
				return false;
	for (size_t i = 0; i < r->n_ovr; i++)
		if (edge_inside(r->ovr[i].start, from_ms, to_ms) ||
		    edge_inside(r->ovr[i].end, from_ms, to_ms))
			return false;
	for (size_t i = 0; i < r->n_temps; i++)
		if (edge_inside(r->temps[i].start, from_ms, to_ms) ||
		    edge_inside(r->temps[i].end, from_ms, to_ms))
			return false;
	return true;
}

int gw_roster_worker_by_phone(const struct gw_roster *r, const char *number,
			      struct gw_roster_step *out)
{
	for (size_t i = 0; r && i < r->data.n_workers; i++) {
		const struct gw_db_worker *w = r->wk[i];

		if (w->phone && gw_e164_same(w->phone, number)) {
			*out = (struct gw_roster_step){w->handle, w->name, w->phone};
			return 0;
		}
	}
	return -ENOENT;
}

const char *gw_roster_line_name(const struct gw_roster *r, const char *line)
{
	const struct rline *l = find_line(r, line);
	return l ? l->l->name_en : NULL;
}

const char *gw_roster_line_name_fi(const struct gw_roster *r, const char *line)
{
	const struct rline *l = find_line(r, line);
	return l ? l->l->name_fi : NULL;
}

const char *gw_roster_line_name_in(const struct gw_roster *r, const char *line, const char *lang)
{
	const struct rline *l = find_line(r, line);
	if (!l)
		return NULL;
	const char *n = !lang			  ? NULL
			: strcmp(lang, "sv") == 0 ? l->l->name_sv
			: strcmp(lang, "en") == 0 ? l->l->name_en
						  : NULL;
	return n && *n ? n : l->l->name_fi;
}

size_t gw_roster_line_count(const struct gw_roster *r)
{
	return r->n_lines;
}

const char *gw_roster_line_code(const struct gw_roster *r, size_t i)
{
	return i < r->n_lines ? r->lines[i].l->code : NULL;
}

/* ---- coverage ------------------------------------------------------------------------ */

static int cmp_edge(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int gw_roster_holidays(const struct gw_roster *r, int64_t from_ms, int64_t to_ms,
		       void (*fn)(const char *date, const char *name, void *arg), void *arg)
{
	int n = 0;

	if (to_ms <= from_ms)
		return -EINVAL;
	for (int64_t day = roster_utc_to_local_day(from_ms, NULL),
		     last = roster_utc_to_local_day(to_ms - 1, NULL);
	     day <= last; day++) {
		const char *name = roster_fi_holiday(day);
		char date[16];
		int64_t d;

		for (size_t i = 0; !name && i < r->data.n_holidays; i++)
			if (roster_parse_date(r->data.holidays[i].date, &d) && d == day)
				name = r->data.holidays[i].name;
		if (!name)
			continue;
		roster_format_date(day, date, sizeof(date));
		fn(date, name, arg);
		n++;
	}
	return n;
}

int gw_roster_gaps(const struct gw_roster *r, int64_t from_ms, int64_t to_ms, gw_roster_gap_fn fn,
		   void *arg)
{
	size_t n = 2, k = 0;
	int64_t *edge;
	int gaps = 0, rc = 0;

	if (to_ms <= from_ms)
		return -EINVAL;
	if (from_ms < r->from_ms || to_ms > r->to_ms)
		return -ERANGE;
	/*
	 * The plan can change only where a duty interval or an override starts or ends, or
	 * where a line's office hours do (each day's two edges, whatever day it is).
	 */
	int64_t d0 = roster_utc_to_local_day(from_ms, NULL),
		d1 = roster_utc_to_local_day(to_ms, NULL);
	for (size_t i = 0; i < r->n_lines; i++)
		n += 2 * r->lines[i].n + (r->lines[i].after ? 2 * (size_t)(d1 - d0 + 1) : 0);
	n += 2 * r->n_ovr;
	if (!(edge = malloc(n * sizeof(*edge))))
		return -ENOMEM;
	edge[k++] = from_ms;
	edge[k++] = to_ms;
	for (size_t i = 0; i < r->n_lines; i++)
		for (size_t j = 0; j < r->lines[i].n; j++) {
			edge[k++] = r->lines[i].shifts[j].start;
			edge[k++] = r->lines[i].shifts[j].end;
		}
	for (size_t i = 0; i < r->n_ovr; i++) {
		edge[k++] = r->ovr[i].start;
		edge[k++] = r->ovr[i].end;
	}
	for (size_t i = 0; i < r->n_lines; i++)
		for (int64_t d = d0; r->lines[i].after && d <= d1; d++) {
			edge[k++] = roster_local_to_utc(d, r->lines[i].l->office_from);
			edge[k++] = roster_local_to_utc(d, r->lines[i].l->office_to);
		}
	qsort(edge, k, sizeof(*edge), cmp_edge);
	for (size_t i = 0; i < r->n_lines && rc >= 0; i++) {
		const char *code = r->lines[i].l->code;
		struct gw_roster_gap g = {.line = code, .from_ms = -1};
		for (size_t e = 0; e < k && rc >= 0; e++) {
			struct gw_roster_plan p;
			if (edge[e] < from_ms || (e && edge[e] == edge[e - 1]))
				continue;
			bool open = g.from_ms >= 0;
			if (edge[e] >= to_ms || (rc = gw_roster_plan(r, code, edge[e], &p)) < 0 ||
			    p.n_steps > 0) {
				if (open) { /* the gap ends here */
					g.to_ms = edge[e] < to_ms ? edge[e] : to_ms;
					fn(&g, arg);
					gaps++;
					g.from_ms = -1;
				}
				if (edge[e] >= to_ms)
					break;
				continue;
			}
			if (!open) {
				g.from_ms = edge[e];
				g.fallback = p.has_fallback ? p.fallback.handle : NULL;
			}
		}
	}
	free(edge);
	return rc < 0 ? rc : gaps;
}

int gw_roster_horizon(const struct gw_roster *r, int64_t *from_ms, int64_t *to_ms)
{
	*from_ms = r->from_ms;
	*to_ms = r->to_ms;
	return 0;
}

/* ---- duty listing -------------------------------------------------------------------- */

static int cmp_duty(const void *a, const void *b)
{
	const struct rshift *x = a, *y = b;
	int c = strcmp(x->w->handle, y->w->handle);
	if (!c)
		c = x->position - y->position;
	if (!c)
		c = x->start < y->start ? -1 : x->start > y->start;
	return c;
}

int gw_roster_duty_each(const struct gw_roster *r, int64_t from_ms, int64_t to_ms,
			gw_roster_duty_fn fn, void *arg)
{
	int count = 0;

	if (to_ms <= from_ms)
		return -EINVAL;
	if (from_ms < r->from_ms || to_ms > r->to_ms)
		return -ERANGE;
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct rline *l = &r->lines[i];
		struct rshift *s = malloc((l->n + 1) * sizeof(*s));
		size_t n = 0;
		if (!s)
			return -ENOMEM;
		for (size_t j = 0; j < l->n; j++)
			if (l->shifts[j].w->active && l->shifts[j].end > from_ms &&
			    l->shifts[j].start < to_ms)
				s[n++] = l->shifts[j];
		qsort(s, n, sizeof(*s), cmp_duty);
		for (size_t j = 0; j < n;) {
			struct gw_roster_duty d = {.line = l->l->code,
						   .handle = s[j].w->handle,
						   .name = s[j].w->name,
						   .position = s[j].position,
						   .start_ms = s[j].start,
						   .end_ms = s[j].end};
			/* one stretch: the same worker and place, touching or overlapping */
			for (j++; j < n && s[j].w == s[j - 1].w && s[j].position == d.position &&
				  s[j].start <= d.end_ms;
			     j++)
				if (s[j].end > d.end_ms)
					d.end_ms = s[j].end;
			d.whole_start_ms = d.start_ms;
			d.whole_end_ms = d.end_ms;
			if (d.start_ms < from_ms)
				d.start_ms = from_ms;
			if (d.end_ms > to_ms)
				d.end_ms = to_ms;
			fn(&d, arg);
			count++;
		}
		free(s);
	}
	return count;
}

const char *gw_roster_worker_name(const struct gw_roster *r, const char *handle)
{
	const struct gw_db_worker *w = find_worker(r, handle);
	return w ? w->name : NULL;
}
