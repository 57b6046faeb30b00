/*
 * roster: the in-memory snapshot that answers "which line, who, and in what order,
 * right now?" on the paging path, plus the coordinators' CSV import and export.
 *
 * A snapshot owns a copy of the roster tables (struct gw_db_roster) and resolves them
 * once, at build time, into one flat list of duty intervals per line: one-off shifts as
 * they are, rotations expanded period by period over a horizon (7 days back to 400 days
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
 * Local time is Europe/Helsinki, computed here by the EU rule (UTC+2, summer time UTC+3
 * from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October,
 * the rule since 1996) rather than through the C library's TZ database: the result does
 * not depend on the machine's TZ or tzdata, and a lookup never reads a file. Should the
 * EU drop summer time, helsinki_offset_min() is the one place to change.
 *
 * The CSV parser takes a buffer, follows RFC 4180 quoting, and reports every bad
 * row as file:line before anything is written; cross-row checks (unknown line or
 * worker, duplicates, overlapping shifts) run after the whole file is read so the file's
 * row order is free.
 */
#include "roster.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define SSI_DIGITS	 8
#define TSI_DIGITS	 17
#define MAX_FILE_BYTES	 (64u << 20)
#define MAX_FIELDS	 10
#define MAX_RECORD_BYTES 4096
#define MAX_COVER	 128 /* shifts considered at one instant before ordering */
#define DAY_MS		 86400000LL
#define HORIZON_BACK_MS	 (7 * DAY_MS)
#define HORIZON_AHEAD_MS (400 * DAY_MS)
#define OFFICE_FROM_MIN	 (8 * 60) /* office hours: Mon-Fri 08:00-16:00, not on holidays */
#define OFFICE_TO_MIN	 (16 * 60)

/* ---- time ---------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

/* The date of a day number (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Day of the week of a day number: 0 Monday .. 6 Sunday (1970-01-01 was a Thursday). */
static int weekday(int64_t day)
{
	return (int)(((day % 7) + 7 + 3) % 7);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* UTC ms of an EU summer-time switch: the last Sunday of month m at 01:00 UTC. */
static int64_t eu_switch_ms(int y, int m)
{
	int64_t last = days_from_civil(y, m, days_in_month(y, m));
	last -= (weekday(last) + 1) % 7;
	return (last * 86400 + 3600) * 1000;
}

/* Europe/Helsinki's offset from UTC at t_ms, in minutes (120 or 180). */
static int helsinki_offset_min(int64_t t_ms)
{
	int y, m, d;

	civil_from_days(floor_div(t_ms, DAY_MS), &y, &m, &d);
	return t_ms >= eu_switch_ms(y, 3) && t_ms < eu_switch_ms(y, 10) ? 180 : 120;
}

int gw_roster_utc_offset_min(int64_t t_ms)
{
	return helsinki_offset_min(t_ms);
}

/*
 * UTC ms of local (Helsinki) minute min of day number day. A local time that occurs
 * twice (autumn, 03:00-03:59) is its first occurrence; one that does not exist (spring,
 * 03:00-03:59) is read with the winter offset, i.e. an hour later on the clock.
 */
static int64_t local_to_utc(int64_t day, int min)
{
	int64_t local = day * DAY_MS + (int64_t)min * 60000;
	int64_t summer = local - 180 * 60000, winter = local - 120 * 60000;

	if (helsinki_offset_min(summer) == 180)
		return summer;
	return winter;
}

int64_t gw_roster_local_to_utc(int y, int m, int d, int minute)
{
	return local_to_utc(days_from_civil(y, m, d), minute);
}

/* Local day number and minute of the day of t_ms. */
static int64_t utc_to_local_day(int64_t t_ms, int *min)
{
	int64_t local = t_ms + (int64_t)helsinki_offset_min(t_ms) * 60000;
	int64_t day = floor_div(local, DAY_MS);
	if (min)
		*min = (int)((local - day * DAY_MS) / 60000);
	return day;
}

/* Read exactly n digits at *p into *v and advance. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return false;
		*v = *v * 10 + (ch - '0');
	}
	*p += n;
	return true;
}

/* "YYYY-MM-DD" (a real date, 1970..9999) to its day number. */
static bool parse_date(const char *s, int64_t *day)
{
	int y, m, d;
	const char *p = s;

	if (!s || !digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &m) || *p++ != '-' ||
	    !digits(&p, 2, &d) || *p)
		return false;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*day = days_from_civil(y, m, d);
	return true;
}

/* "HH:MM" (00:00..23:59) to minutes after midnight. */
static bool parse_hhmm(const char *s, int *min)
{
	int h, m;
	const char *p = s;

	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &m) || *p || h > 23 || m > 59)
		return false;
	*min = h * 60 + m;
	return true;
}

int gw_roster_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0, frac = 0, oh = 0, om = 0, sign = 1;
	const char *p = s;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d) || *p++ != 'T' || !digits(&p, 2, &h) || *p++ != ':' ||
	    !digits(&p, 2, &mi))
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &sec))
			return -EINVAL;
		if (*p == '.') {
			int n = 0;
			p++;
			for (; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			if (n == 0 || n > 9)
				return -EINVAL;
			for (; n < 3; n++)
				frac *= 10;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if ((p[-1] == ':' || *p) && !digits(&p, 2, &om))
			return -EINVAL;
		if (oh > 14 || om > 59 || (oh == 14 && om > 0))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return -EINVAL;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	return 0;
}

/* UTC ISO 8601 as the CSV export writes it: minutes, seconds and ms only when needed. */
static void format_utc(int64_t ms, char *buf, size_t len)
{
	int64_t day = floor_div(ms, DAY_MS), rest = ms - day * DAY_MS;
	int y, m, d, sec = (int)(rest / 1000 % 60), frac = (int)(rest % 1000);
	int n;

	civil_from_days(day, &y, &m, &d);
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d", y, m, d, (int)(rest / 3600000),
		     (int)(rest / 60000 % 60));
	if (n > 0 && (size_t)n < len && (sec || frac))
		n += snprintf(buf + n, len - (size_t)n, ":%02d", sec);
	if (n > 0 && (size_t)n < len && frac)
		n += snprintf(buf + n, len - (size_t)n, ".%03d", frac);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "Z");
}

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
static bool ssi_key(const char *s, char key[SSI_DIGITS + 1])
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

static bool digits_ok(const char *s, size_t min, size_t max);

static bool lang_ok(const char *s)
{
	return s && (strcmp(s, "fi") == 0 || strcmp(s, "sv") == 0 || strcmp(s, "en") == 0);
}

/*
 * The worker a phone number names: the active one with exactly that number (first by
 * handle when several share it), or NULL. A linear walk: tens of workers.
 */
static const struct gw_db_worker *worker_by_phone(const struct gw_roster *r, const char *phone)
{
	if (!r || !phone)
		return NULL;
	for (size_t i = 0; i < r->data.n_workers; i++)
		if (r->wk[i]->active && strcmp(r->wk[i]->phone, phone) == 0)
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

static bool is_holiday(const struct gw_roster *r, int64_t day)
{
	return bsearch(&day, r->holidays, r->n_holidays, sizeof(*r->holidays), cmp_i64) != NULL;
}

enum hours { HOURS_ALL, HOURS_OFFICE, HOURS_AFTER };

static const struct rtemp *find_temp(const struct gw_roster *r, const char *name)
{
	for (size_t i = 0; name && i < r->n_temps; i++)
		if (strcmp(r->temps[i].t->name, name) == 0)
			return &r->temps[i];
	return NULL;
}

/*
 * Add normal or temporary-roster duty to l: a temporary roster's duty (temp set) only
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
	for (int64_t day = utc_to_local_day(start, NULL) - 1;; day++) {
		int64_t o1 = local_to_utc(day, OFFICE_FROM_MIN),
			o2 = local_to_utc(day, OFFICE_TO_MIN);
		if (o1 >= end)
			break;
		if (weekday(day) >= 5 || is_holiday(r, day) || o2 <= cursor)
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

/* Expand one rotation over the snapshot's horizon into its line's intervals. */
static int expand_rotation(struct gw_roster *r, const struct gw_db_rotation *x)
{
	struct rline *l = (struct rline *)find_line(r, x->line);
	const struct rtemp *temp = find_temp(r, x->temp);
	const struct gw_db_worker *members[100] = {0};
	int64_t d0, dend = INT64_MAX;
	int n = 0, period;
	enum hours hours;

	if (!l || !parse_date(x->start_date, &d0) ||
	    (x->end_date && !parse_date(x->end_date, &dend)) || (x->temp && !temp)) {
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
	/* The first period that can reach the horizon, then one period after another. */
	int64_t k = floor_div(utc_to_local_day(r->from_ms, NULL) - 1 - d0, period);
	if (k < 0)
		k = 0;
	for (;; k++) {
		int64_t day = d0 + k * period;
		if (day >= dend)
			break;
		int64_t s = local_to_utc(day, x->handoff_min);
		int64_t e = local_to_utc(day + period < dend ? day + period : dend, x->handoff_min);
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
		if (parse_date(d->holidays[i].date, &r->holidays[r->n_holidays]))
			r->n_holidays++;
	qsort(r->holidays, r->n_holidays, sizeof(*r->holidays), cmp_i64);
	for (size_t i = 0; i < d->n_temps; i++) {
		struct rtemp *x = &r->temps[r->n_temps];
		int64_t d0, d1;
		if (!(x->line = find_line(r, d->temps[i].line)) ||
		    !parse_date(d->temps[i].from_date, &d0) ||
		    !parse_date(d->temps[i].to_date, &d1)) {
			LOGP(GW_LOG_DB, GW_LOG_WARN,
			     "roster: temporary roster %s is malformed: skipped", d->temps[i].name);
			continue;
		}
		x->t = &d->temps[i];
		x->start = local_to_utc(d0, d->temps[i].handoff_min);
		x->end = local_to_utc(d1, d->temps[i].handoff_min);
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
		if (!ssi_key(d->dirs[i].issi, key)) {
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

_Static_assert(GW_ROSTER_PIN_HASH_MAX >= crypto_pwhash_STRBYTES, "PIN hash buffer too small");

bool gw_roster_pin_ok(const char *pin)
{
	return pin && digits_ok(pin, GW_ROSTER_PIN_MIN, GW_ROSTER_PIN_MAX);
}

int gw_roster_hash_pin(const char *pin, char out[GW_ROSTER_PIN_HASH_MAX])
{
	if (!gw_roster_pin_ok(pin))
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_pwhash_str_alg(out, pin, strlen(pin), GW_ROSTER_PIN_OPSLIMIT,
				  GW_ROSTER_PIN_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM; /* libsodium's only failure here: the memory limit */
	return 0;
}

int gw_roster_check_pin(const struct gw_roster *r, const char *phone, const char *pin)
{
	const struct gw_db_worker *w = worker_by_phone(r, phone);

	if (!w || !w->pin_hash)
		return -ENOENT;
	if (!gw_roster_pin_ok(pin))
		return -EACCES; /* not even a PIN: no need to hash it */
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_pwhash_str_verify(w->pin_hash, pin, strlen(pin)) != 0)
		return -EACCES;
	return 0;
}

const char *gw_roster_worker_lang(const struct gw_roster *r, const char *phone)
{
	const struct gw_db_worker *w = worker_by_phone(r, phone);

	if (!w)
		return NULL;
	return lang_ok(w->lang) ? w->lang : "fi";
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
	if (c->days && !(c->days & (1 << weekday(day))))
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
	int64_t day = utc_to_local_day((int64_t)t * 1000, &min);

	if (!caller)
		return NULL;
	if (ssi_key(caller, key))
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

static bool before(const struct rshift *a, const struct rshift *b)
{
	return a->position != b->position ? a->position < b->position : a->start < b->start;
}

static void cover_add(struct cover *c, const struct rshift *s)
{
	int i = c->n;

	if (c->n == MAX_COVER) {
		if (!before(s, c->s[MAX_COVER - 1]))
			return;
		i = MAX_COVER - 1;
	} else {
		c->n++;
	}
	while (i > 0 && before(s, c->s[i - 1])) {
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
static int duty(const struct gw_roster *r, const struct rline *l, int64_t t,
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
	n = duty(r, l, t_ms, w, max);
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

int gw_roster_plan(const struct gw_roster *r, const char *line, int64_t t_ms,
		   struct gw_roster_plan *out)
{
	const struct rline *l = find_line(r, line);
	const struct gw_db_worker *w[GW_ROSTER_CHAIN_MAX];
	int n;

	memset(out, 0, sizeof(*out));
	if (!l)
		return -ENOENT;
	out->rounds = l->rounds;
	out->explicit_chain = l->n_steps > 0;
	if (!l->n_steps) {
		if ((n = duty(r, l, t_ms, w, GW_ROSTER_CHAIN_MAX)) < 0)
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
			n = duty(r, s->target, t_ms, w,
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

	if (!issi || !ssi_key(issi, key))
		return NULL;
	d = bsearch(key, r->dirs, r->n_dirs, sizeof(*r->dirs), cmp_dir_key);
	return d ? (*d)->org : NULL;
}

/* The last nine digits of n into buf (10 bytes); false when n has fewer. */
static bool phone_tail(const char *n, char *buf)
{
	char d[32];
	size_t k = 0;

	for (; *n && k < sizeof(d); n++)
		if (*n >= '0' && *n <= '9')
			d[k++] = *n;
	if (k < 9)
		return false;
	memcpy(buf, d + k - 9, 9);
	buf[9] = '\0';
	return true;
}

bool gw_roster_same_phone(const char *a, const char *b)
{
	char x[10], y[10];

	return a && b && phone_tail(a, x) && phone_tail(b, y) && strcmp(x, y) == 0;
}

int gw_roster_worker_by_phone(const struct gw_roster *r, const char *number,
			      struct gw_roster_step *out)
{
	for (size_t i = 0; r && i < r->data.n_workers; i++) {
		const struct gw_db_worker *w = r->wk[i];

		if (w->phone && gw_roster_same_phone(w->phone, number)) {
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

size_t gw_roster_line_count(const struct gw_roster *r)
{
	return r->n_lines;
}

const char *gw_roster_line_code(const struct gw_roster *r, size_t i)
{
	return i < r->n_lines ? r->lines[i].l->code : NULL;
}

/* ---- CSV parser ---------------------------------------------------------------------- */

enum {
	T_LINE,
	T_WORKER,
	T_SHIFT,
	T_ROUTE,
	T_DIR,
	T_ROT,
	T_MEMBER,
	T_OVR,
	T_STEP,
	T_CHAIN,
	T_HOLIDAY,
	T_TEMP,
	T_COUNT
};

/* One reported problem, kept until the file is fully checked. */
struct perr {
	unsigned line, seq;
	char *msg;
};

struct parser {
	const char *file;
	gw_roster_err_fn err;
	void *arg;
	const char *begin, *p, *end;
	unsigned lineno;  /* line the scanner is on */
	unsigned recline; /* line the current record started on */
	int errors;
	bool oom;
	bool dir_only; /* a directory file: directory records only, no line needed */
	struct gw_db_roster *out;
	size_t cap[T_COUNT];
	unsigned *src[T_COUNT]; /* source line of every row, per record type */
	size_t src_cap[T_COUNT];
	struct perr *perrs;
	size_t n_perrs, cap_perrs;
};

static void emit(const struct parser *ps, unsigned line, const char *msg)
{
	if (ps->err)
		ps->err(ps->file, line, msg, ps->arg);
	else
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s:%u: %s", ps->file, line, msg);
}

/* Record a problem; they are reported sorted by line once the whole file is checked. */
__attribute__((format(printf, 3, 4))) static void report(struct parser *ps, unsigned line,
							 const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps->errors++;
	if (ps->n_perrs == ps->cap_perrs) {
		size_t ncap = ps->cap_perrs ? ps->cap_perrs * 2 : 16;
		struct perr *p = reallocarray(ps->perrs, ncap, sizeof(*p));
		if (!p) {
			emit(ps, line, msg); /* out of order, but not lost */
			return;
		}
		ps->perrs = p;
		ps->cap_perrs = ncap;
	}
	struct perr *e = &ps->perrs[ps->n_perrs];
	if (!(e->msg = strdup(msg))) {
		emit(ps, line, msg);
		return;
	}
	e->line = line;
	e->seq = (unsigned)ps->n_perrs++;
}

static int cmp_perr(const void *a, const void *b)
{
	const struct perr *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flush_errors(struct parser *ps)
{
	if (ps->n_perrs)
		qsort(ps->perrs, ps->n_perrs, sizeof(*ps->perrs), cmp_perr);
	for (size_t i = 0; i < ps->n_perrs; i++) {
		emit(ps, ps->perrs[i].line, ps->perrs[i].msg);
		free(ps->perrs[i].msg);
	}
	free(ps->perrs);
	ps->perrs = NULL;
	ps->n_perrs = ps->cap_perrs = 0;
}

static void *push(struct parser *ps, void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = reallocarray(*arr, ncap, elem);
		if (!p) {
			ps->oom = true;
			return NULL;
		}
		*arr = p;
		*cap = ncap;
	}
	void *slot = (char *)*arr + (*n)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

/* Append a row of type t (remembering its source line); NULL on allocation failure. */
static void *add_row(struct parser *ps, int t)
{
	static const size_t elem[T_COUNT] = {
	    sizeof(struct gw_db_line),	     sizeof(struct gw_db_worker),
	    sizeof(struct gw_db_shift),	     sizeof(struct gw_db_route),
	    sizeof(struct gw_db_dir),	     sizeof(struct gw_db_rotation),
	    sizeof(struct gw_db_member),     sizeof(struct gw_db_override),
	    sizeof(struct gw_db_chain_step), sizeof(struct gw_db_chain),
	    sizeof(struct gw_db_holiday),    sizeof(struct gw_db_temp),
	};
	struct gw_db_roster *o = ps->out;
	void **arr[T_COUNT] = {
	    (void **)&o->lines,	  (void **)&o->workers,	  (void **)&o->shifts,
	    (void **)&o->routes,  (void **)&o->dirs,	  (void **)&o->rotations,
	    (void **)&o->members, (void **)&o->overrides, (void **)&o->steps,
	    (void **)&o->chains,  (void **)&o->holidays,  (void **)&o->temps,
	};
	size_t *n[T_COUNT] = {&o->n_lines, &o->n_workers,   &o->n_shifts,   &o->n_routes,
			      &o->n_dirs,  &o->n_rotations, &o->n_members,  &o->n_overrides,
			      &o->n_steps, &o->n_chains,    &o->n_holidays, &o->n_temps};
	size_t n_src = *n[t];
	unsigned *src = push(ps, (void **)&ps->src[t], &n_src, &ps->src_cap[t], sizeof(unsigned));
	if (!src)
		return NULL;
	*src = ps->recline;
	return push(ps, arr[t], n[t], &ps->cap[t], elem[t]);
}

static char *sdup(struct parser *ps, const char *s)
{
	char *d = strdup(s);
	if (!d)
		ps->oom = true;
	return d;
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most avail bytes; p[0] >= 0x80), or 0
 * when it is not one: overlong forms, surrogates and code points above U+10FFFF refused.
 */
static unsigned utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned c = p[0], n;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail <= n)
		return 0;
	for (unsigned k = 1; k <= n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

/* Well-formed UTF-8 without control characters (tab allowed). */
static bool text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	while (*p) {
		unsigned c = *p, n = 1;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return false;
		} else if ((n = utf8_seq(p, left)) == 0) {
			return false;
		}
		p += n;
		left -= n;
	}
	return true;
}

/*
 * Offset of the first byte that is not well-formed UTF-8 in buf[0..len), or len. Control
 * characters are fine here (the rows check them).
 */
static size_t utf8_bad_at(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		unsigned n = p[i] < 0x80 ? 1 : utf8_seq(p + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

/*
 * The file as a whole must be UTF-8 (a BOM is skipped by the caller). Reports UTF-16/32
 * and legacy 8-bit encodings with what to do about them. False when it is not UTF-8.
 */
static bool check_encoding(struct parser *ps)
{
	const char *b = ps->p;
	size_t len = (size_t)(ps->end - ps->p), bad;
	unsigned line = 1;

	if (ps->p - ps->begin == 0 && len >= 2 &&
	    ((b[0] == '\xff' && b[1] == '\xfe') || (b[0] == '\xfe' && b[1] == '\xff'))) {
		report(ps, 0,
		       "the file is UTF-16 (it starts with a UTF-16 byte order mark): "
		       "save it as UTF-8");
		return false;
	}
	if (memchr(b, '\0', len < 4096 ? len : 4096)) {
		report(ps, 0,
		       "the file has NUL bytes: UTF-16 or a binary file? save it as UTF-8 "
		       "text");
		return false;
	}
	bad = utf8_bad_at(b, len);
	if (bad == len)
		return true;
	for (size_t i = 0; i < bad; i++)
		line += b[i] == '\n' || (b[i] == '\r' && (i + 1 == len || b[i + 1] != '\n'));
	report(ps, line,
	       "the file is not UTF-8 (byte 0x%02x here; ISO-8859-1 or Windows-1252?): save it as "
	       "UTF-8; nothing imported",
	       (unsigned char)b[bad]);
	return false;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool at_eol(const struct parser *ps)
{
	return ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r';
}

static void skip_eol(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '\n')
		ps->p++;
	ps->lineno++;
}

static void skip_line(struct parser *ps)
{
	while (!at_eol(ps))
		ps->p++;
	skip_eol(ps);
}

/* A record as read: fields point into buf. */
struct record {
	char buf[MAX_RECORD_BYTES];
	char *f[MAX_FIELDS];
	int n;
	bool too_long, too_many;
	const char *why; /* first syntax problem, or NULL */
};

static void put(struct record *rec, size_t *len, char ch)
{
	if (*len < sizeof(rec->buf) - 1)
		rec->buf[(*len)++] = ch;
	else
		rec->too_long = true;
}

/*
 * Read a quoted field body (the opening quote already consumed). Returns false at end
 * of input without the closing quote.
 */
static bool read_quoted(struct parser *ps, struct record *rec, size_t *len)
{
	for (;;) {
		if (ps->p == ps->end)
			return false;
		char ch = *ps->p++;
		if (ch == '"') {
			if (ps->p == ps->end || *ps->p != '"')
				return true;
			ps->p++;
		} else if (ch == '\r' || ch == '\n') {
			if (ch == '\r' && ps->p < ps->end && *ps->p == '\n')
				ps->p++;
			ps->lineno++;
			ch = '\n';
		} else if (ch == '\0' && !rec->why) {
			rec->why = "NUL byte in a field";
		}
		put(rec, len, ch);
	}
}

/* Read an unquoted field up to ',', the end of the line or a comment. */
static void read_plain(struct parser *ps, struct record *rec, size_t *len, size_t start)
{
	while (!at_eol(ps) && *ps->p != ',') {
		char ch = *ps->p;
		if (ch == '#' && ps->p > ps->begin && is_blank(ps->p[-1]))
			break;
		if (ch == '"' && !rec->why)
			rec->why = "quote inside an unquoted field (quote the whole field)";
		if (ch == '\0' && !rec->why)
			rec->why = "NUL byte in a field";
		put(rec, len, ch);
		ps->p++;
	}
	while (*len > start && is_blank(rec->buf[*len - 1]))
		(*len)--;
}

/* Skip blank lines and comment lines; returns false at the end of input. */
static bool skip_to_record(struct parser *ps)
{
	for (;;) {
		const char *q = ps->p;
		while (q < ps->end && is_blank(*q))
			q++;
		if (q == ps->end)
			return false;
		if (*q != '\n' && *q != '\r' && *q != '#')
			return true;
		ps->p = q;
		skip_line(ps);
	}
}

/*
 * Read one record into rec. Returns 1 with a record, 0 at the end of input, -1 after
 * reporting a bad record (the scanner is then past it). A line starting with '#', or an
 * unquoted '#' after a blank, comments out the rest of the line; blank lines are skipped.
 */
static int read_record(struct parser *ps, struct record *rec)
{
	size_t len = 0;

	if (!skip_to_record(ps))
		return 0;
	ps->recline = ps->lineno;
	rec->n = 0;
	rec->too_long = rec->too_many = false;
	rec->why = NULL;
	for (;;) {
		size_t start = len;

		while (ps->p < ps->end && is_blank(*ps->p))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '"') {
			unsigned qline = ps->lineno;
			ps->p++;
			if (!read_quoted(ps, rec, &len)) {
				report(ps, qline, "unterminated quoted field");
				return -1;
			}
			while (ps->p < ps->end && is_blank(*ps->p))
				ps->p++;
			if (!at_eol(ps) && *ps->p != ',' && *ps->p != '#') {
				if (!rec->why)
					rec->why = "text after a closing quote";
				while (!at_eol(ps) && *ps->p != ',')
					ps->p++;
			}
		} else {
			read_plain(ps, rec, &len, start);
		}
		if (len < sizeof(rec->buf))
			rec->buf[len++] = '\0';
		else
			rec->too_long = true;
		if (rec->n < MAX_FIELDS)
			rec->f[rec->n++] = rec->buf + start;
		else
			rec->too_many = true;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		skip_line(ps); /* past a trailing comment, if any, and the line end */
		break;
	}
	if (rec->why)
		report(ps, ps->recline, "%s", rec->why);
	else if (rec->too_long)
		report(ps, ps->recline, "record longer than %d bytes", MAX_RECORD_BYTES);
	else if (rec->too_many)
		report(ps, ps->recline, "more than %d fields", MAX_FIELDS);
	else
		return 1;
	return -1;
}

/* ---- field checks -------------------------------------------------------------------- */

static bool code_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

static bool digits_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool int_ok(const char *s, long min, long max, int *v)
{
	char *end;
	long x;

	if (!*s || is_blank(*s))
		return false;
	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return false;
	*v = (int)x;
	return true;
}

static bool phone_ok(const char *s)
{
	return digits_ok(s[0] == '+' ? s + 1 : s, 3, 15);
}

/* Each row parser returns false after reporting the first problem of its row. */
static bool need_text(struct parser *ps, const char *what, const char *s)
{
	if (!*s) {
		report(ps, ps->recline, "%s is empty", what);
		return false;
	}
	if (strlen(s) > 200) {
		report(ps, ps->recline, "%s is longer than 200 bytes", what);
		return false;
	}
	return true;
}

static bool need_code(struct parser *ps, const char *what, const char *s)
{
	if (code_ok(s, 16, "_-"))
		return true;
	report(ps, ps->recline, "bad %s '%s' (1-16 letters, digits, '_' or '-')", what, s);
	return false;
}

static bool need_handle(struct parser *ps, const char *s)
{
	if (code_ok(s, 32, "._-"))
		return true;
	report(ps, ps->recline, "bad worker handle '%s' (1-32 letters, digits, '.', '_' or '-')",
	       s);
	return false;
}

static bool need_time(struct parser *ps, const char *what, const char *s, int64_t *ms)
{
	if (gw_roster_parse_time(s, ms) == 0)
		return true;
	report(ps, ps->recline, "bad %s time '%s' (want e.g. 2026-01-01T00:00Z or +02:00)", what,
	       s);
	return false;
}

/* Checks shared with rinkictl (worker add, override add); why gets the first problem. */
__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int gw_roster_check_worker(struct gw_db_worker *w, char *why, size_t len)
{
	char issi[SSI_DIGITS + 1];

	if (!w->handle || !code_ok(w->handle, 32, "._-"))
		return bad(why, len,
			   "bad worker handle '%s' (1-32 letters, digits, '.', '_' or "
			   "'-')",
			   w->handle ? w->handle : "");
	if (!w->name || !*w->name || strlen(w->name) > 200 || !text_ok(w->name))
		return bad(why, len, "bad name (1-200 bytes of UTF-8 text)");
	if (!w->phone || !phone_ok(w->phone))
		return bad(why, len, "bad phone number '%s' (+ and 3-15 digits)",
			   w->phone ? w->phone : "");
	if (w->issi && *w->issi) {
		if (!ssi_key(w->issi, issi) || strcmp(issi, "0") == 0)
			return bad(why, len, "bad ISSI '%s' (1-8 digits or a 17-digit TSI)",
				   w->issi);
		strcpy(w->issi, issi); /* never longer */
	}
	if (w->lang && !lang_ok(w->lang))
		return bad(why, len, "bad language '%s' (fi, sv or en)", w->lang);
	return 0;
}

int gw_roster_check_override(const struct gw_db_override *o, char *why, size_t len)
{
	bool add = o->kind && strcmp(o->kind, "add") == 0;
	bool replace = o->kind && strcmp(o->kind, "replace") == 0;

	if (!add && !replace && !(o->kind && strcmp(o->kind, "remove") == 0))
		return bad(why, len, "bad override kind '%s' (add, remove or replace)",
			   o->kind ? o->kind : "");
	if (o->line && !code_ok(o->line, 16, "_-"))
		return bad(why, len, "bad line code '%s'", o->line);
	if (add && !o->line)
		return bad(why, len, "an add override needs a line");
	if (!o->worker || !code_ok(o->worker, 32, "._-"))
		return bad(why, len, "bad worker handle '%s'", o->worker ? o->worker : "");
	if (replace && (!o->by || !code_ok(o->by, 32, "._-")))
		return bad(why, len, "a replace override needs the handle of the substitute");
	if (!replace && o->by)
		return bad(why, len, "only a replace override names a substitute");
	if (replace && strcmp(o->by, o->worker) == 0)
		return bad(why, len, "a worker cannot replace themselves ('%s')", o->worker);
	if (o->end_ms <= o->start_ms)
		return bad(why, len, "override must end after it starts");
	if (add ? o->position < 1 || o->position > 99 : o->position != 0)
		return bad(why, len, "bad position %d (add: 1-99, others: none)", o->position);
	return 0;
}

static void row_line(struct parser *ps, char **f)
{
	struct gw_db_line *l;

	if (!need_code(ps, "line code", f[1]) || !need_text(ps, "Finnish name", f[2]) ||
	    !need_text(ps, "Swedish name", f[3]) || !need_text(ps, "English name", f[4]))
		return;
	if (!(l = add_row(ps, T_LINE)))
		return;
	l->code = sdup(ps, f[1]);
	l->name_fi = sdup(ps, f[2]);
	l->name_sv = sdup(ps, f[3]);
	l->name_en = sdup(ps, f[4]);
}

static void row_worker(struct parser *ps, char **f, int n)
{
	struct gw_db_worker *w;
	int active = 1;
	char issi[SSI_DIGITS + 1] = "";

	if (!need_handle(ps, f[1]) || !need_text(ps, "name", f[2]))
		return;
	if (!phone_ok(f[3])) {
		report(ps, ps->recline, "bad phone number '%s' (+ and 3-15 digits)", f[3]);
		return;
	}
	if (*f[4] && (!ssi_key(f[4], issi) || strcmp(issi, "0") == 0)) {
		report(ps, ps->recline, "bad ISSI '%s' (1-8 digits or a 17-digit TSI)", f[4]);
		return;
	}
	if (n > 5 && *f[5] && !int_ok(f[5], 0, 1, &active)) {
		report(ps, ps->recline, "bad active flag '%s' (1 or 0)", f[5]);
		return;
	}
	if (n > 6 && *f[6] && !lang_ok(f[6])) {
		report(ps, ps->recline, "bad language '%s' (fi, sv or en)", f[6]);
		return;
	}
	if (!(w = add_row(ps, T_WORKER)))
		return;
	w->handle = sdup(ps, f[1]);
	w->name = sdup(ps, f[2]);
	w->phone = sdup(ps, f[3]);
	w->issi = *issi ? sdup(ps, issi) : NULL;
	w->active = active;
	w->lang = sdup(ps, n > 6 && *f[6] ? f[6] : "fi");
}

/* The optional TEMP_ROSTER field f[i] of a shift or rotation: 1 none, 0 ok, -1 reported. */
static int temp_field(struct parser *ps, char **f, int n, int i)
{
	if (n <= i || !*f[i])
		return 1;
	if (code_ok(f[i], 32, "._-"))
		return 0;
	report(ps, ps->recline,
	       "bad temporary roster name '%s' (1-32 letters, digits, '.', '_' or '-')", f[i]);
	return -1;
}

static void row_shift(struct parser *ps, char **f, int n)
{
	struct gw_db_shift *s;
	int64_t start, end;
	int pos;

	if (!need_code(ps, "line code", f[1]) || !need_handle(ps, f[2]) ||
	    !need_time(ps, "start", f[3], &start) || !need_time(ps, "end", f[4], &end))
		return;
	if (end <= start) {
		report(ps, ps->recline, "shift must end after it starts (%s, %s)", f[3], f[4]);
		return;
	}
	if (!int_ok(f[5], 1, 99, &pos)) {
		report(ps, ps->recline, "bad position '%s' (1-99)", f[5]);
		return;
	}
	int temp = temp_field(ps, f, n, 6);
	if (temp < 0 || !(s = add_row(ps, T_SHIFT)))
		return;
	s->temp = temp == 0 ? sdup(ps, f[6]) : NULL;
	s->line = sdup(ps, f[1]);
	s->worker = sdup(ps, f[2]);
	s->start_ms = start;
	s->end_ms = end;
	s->position = pos;
}

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_index(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/*
 * Weekdays "mon-fri", "sat+sun", "fri-mon" (ranges may wrap), "mon+wed-fri": names and
 * ranges joined by '+'. Returns the mask (bit 0 Monday), or -1.
 */
static int parse_days(const char *s)
{
	int mask = 0;

	while (*s) {
		size_t n = strcspn(s, "+-");
		int a = day_index(s, n), b = a;
		s += n;
		if (*s == '-') {
			n = strcspn(++s, "+-");
			b = day_index(s, n);
			s += n;
		}
		if (a < 0 || b < 0 || *s == '-')
			return -1;
		for (int d = a;; d = (d + 1) % 7) {
			mask |= 1 << d;
			if (d == b)
				break;
		}
		if (*s == '+' && !*++s)
			return -1;
	}
	return mask;
}

/* A day mask as parse_days() reads it: runs of three or more days as ranges. */
static void format_days(int mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int d = 0; d < 7; d++) {
		int e = d;
		if (!(mask & (1 << d)))
			continue;
		while (e + 1 < 7 && (mask & (1 << (e + 1))))
			e++;
		if (e - d >= 2) {
			n += (size_t)snprintf(buf + n, len - n, "%s%s-%s", n ? "+" : "",
					      day_names[d], day_names[e]);
			d = e;
		} else {
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "+" : "", day_names[d]);
		}
		if (n >= len)
			return;
	}
}

static const char *const hol_names[] = {"any", "only", "except"};

/* The condition fields of a route as the CSV writes them: days, window, holidays, status. */
struct route_cond_text {
	char days[40], window[48], holidays[8], status[16];
};

static void route_cond_format(const struct gw_db_route *rt, struct route_cond_text *t)
{
	format_days(rt->days, t->days, sizeof(t->days));
	t->window[0] = t->status[0] = '\0';
	if (rt->window)
		snprintf(t->window, sizeof(t->window), "%02d:%02d-%02d:%02d", rt->from_min / 60,
			 rt->from_min % 60, rt->to_min / 60, rt->to_min % 60);
	snprintf(t->holidays, sizeof(t->holidays), "%s",
		 rt->holidays == GW_DB_ROUTE_HOL_ANY ? "" : hol_names[rt->holidays]);
	if (rt->has_status)
		snprintf(t->status, sizeof(t->status), "%d", rt->status);
}

static bool route_has_cond(const struct gw_db_route *rt)
{
	return rt->days || rt->window || rt->holidays || rt->has_status;
}

/* The optional condition fields of a route row (f[4..n)); false after a report. */
static bool route_conditions(struct parser *ps, char **f, int n, struct gw_db_route *c)
{
	char from[8], to[8];

	if (n > 4 && *f[4] && (c->days = parse_days(f[4])) <= 0) {
		c->days = 0;
		report(ps, ps->recline, "bad days '%s' (e.g. mon-fri, sat+sun; empty: every day)",
		       f[4]);
		return false;
	}
	if (n > 5 && *f[5]) {
		if (strlen(f[5]) != 11 || f[5][5] != '-' ||
		    (memcpy(from, f[5], 5), from[5] = '\0', !parse_hhmm(from, &c->from_min)) ||
		    (memcpy(to, f[5] + 6, 5), to[5] = '\0', !parse_hhmm(to, &c->to_min)) ||
		    c->from_min == c->to_min) {
			report(ps, ps->recline,
			       "bad window '%s' (HH:MM-HH:MM local time, e.g. 16:00-08:00; empty: "
			       "all day)",
			       f[5]);
			return false;
		}
		c->window = true;
	}
	if (n > 6 && *f[6]) {
		for (c->holidays = 2; c->holidays >= 0; c->holidays--)
			if (strcmp(f[6], hol_names[c->holidays]) == 0)
				break;
		if (c->holidays < 0) {
			c->holidays = 0;
			report(ps, ps->recline, "bad holidays '%s' (any, only or except)", f[6]);
			return false;
		}
	}
	if (n > 7 && *f[7]) {
		if (!int_ok(f[7], 0, 65535, &c->status)) {
			report(ps, ps->recline, "bad status code '%s' (0-65535; empty: any)", f[7]);
			return false;
		}
		c->has_status = true;
	}
	return true;
}

static void row_route(struct parser *ps, char **f, int n)
{
	struct gw_db_route *rt, c = {0};
	int prio;

	if (!need_code(ps, "line code", f[1]))
		return;
	if (!digits_ok(f[2], 0, SSI_DIGITS) || f[2][0] == '0') {
		report(ps, ps->recline,
		       "bad caller prefix '%s' (empty or up to 8 digits, not starting with 0)",
		       f[2]);
		return;
	}
	if (!int_ok(f[3], -1000, 1000, &prio)) {
		report(ps, ps->recline, "bad priority '%s' (-1000..1000)", f[3]);
		return;
	}
	if (!route_conditions(ps, f, n, &c))
		return;
	if (!(rt = add_row(ps, T_ROUTE)))
		return;
	*rt = c;
	rt->line = sdup(ps, f[1]);
	rt->prefix = sdup(ps, f[2]);
	rt->priority = prio;
}

static void row_dir(struct parser *ps, char **f)
{
	struct gw_db_dir *d;
	char issi[SSI_DIGITS + 1];

	if (!ssi_key(f[1], issi) || strcmp(issi, "0") == 0) {
		report(ps, ps->recline, "bad ISSI '%s' (1-8 digits or a 17-digit TSI)", f[1]);
		return;
	}
	if (!need_text(ps, "organisation", f[2]))
		return;
	if (!(d = add_row(ps, T_DIR)))
		return;
	d->issi = sdup(ps, issi);
	d->org = sdup(ps, f[2]);
}

static bool need_date(struct parser *ps, const char *what, const char *s)
{
	int64_t day;

	if (parse_date(s, &day))
		return true;
	report(ps, ps->recline, "bad %s date '%s' (want YYYY-MM-DD)", what, s);
	return false;
}

static bool need_ring(struct parser *ps, const char *s, int *ring_s)
{
	*ring_s = 0;
	if (!*s || int_ok(s, GW_ROSTER_RING_MIN_S, GW_ROSTER_RING_MAX_S, ring_s))
		return true;
	report(ps, ps->recline, "bad ring time '%s' (empty for the default, or %d-%d seconds)", s,
	       GW_ROSTER_RING_MIN_S, GW_ROSTER_RING_MAX_S);
	return false;
}

static bool need_rotation_name(struct parser *ps, const char *s)
{
	if (code_ok(s, 32, "._-"))
		return true;
	report(ps, ps->recline, "bad rotation name '%s' (1-32 letters, digits, '.', '_' or '-')",
	       s);
	return false;
}

static void row_rotation(struct parser *ps, char **f, int n)
{
	static const char *const hours[] = {"all", "office", "after"};
	const char *h = n > 7 && *f[7] ? f[7] : "all";
	const char *end = n > 8 && *f[8] ? f[8] : NULL;
	struct gw_db_rotation *x;
	int64_t d0, d1;
	int handoff, pos;
	bool hours_ok = false;

	if (!need_rotation_name(ps, f[1]) || !need_code(ps, "line code", f[2]))
		return;
	if (strcmp(f[3], "daily") != 0 && strcmp(f[3], "weekly") != 0) {
		report(ps, ps->recline, "bad rotation kind '%s' (daily or weekly)", f[3]);
		return;
	}
	if (!need_date(ps, "start", f[4]) || (end && !need_date(ps, "end", end)))
		return;
	if (!parse_hhmm(f[5], &handoff)) {
		report(ps, ps->recline, "bad handoff time '%s' (HH:MM, local time)", f[5]);
		return;
	}
	if (!int_ok(f[6], 1, 99, &pos)) {
		report(ps, ps->recline, "bad position '%s' (1-99)", f[6]);
		return;
	}
	for (size_t i = 0; i < sizeof(hours) / sizeof(hours[0]); i++)
		hours_ok |= strcmp(h, hours[i]) == 0;
	if (!hours_ok) {
		report(ps, ps->recline, "bad hours '%s' (all, office or after)", h);
		return;
	}
	parse_date(f[4], &d0);
	if (end && (!parse_date(end, &d1) || d1 <= d0)) {
		report(ps, ps->recline, "rotation must end after it starts (%s, %s)", f[4], end);
		return;
	}
	int temp = temp_field(ps, f, n, 9);
	if (temp < 0 || !(x = add_row(ps, T_ROT)))
		return;
	x->temp = temp == 0 ? sdup(ps, f[9]) : NULL;
	x->name = sdup(ps, f[1]);
	x->line = sdup(ps, f[2]);
	x->kind = sdup(ps, f[3]);
	x->start_date = sdup(ps, f[4]);
	x->end_date = end ? sdup(ps, end) : NULL;
	x->handoff_min = handoff;
	x->position = pos;
	x->hours = sdup(ps, h);
}

static void row_member(struct parser *ps, char **f)
{
	struct gw_db_member *m;
	int order;

	if (!need_rotation_name(ps, f[1]))
		return;
	if (!int_ok(f[2], 1, 99, &order)) {
		report(ps, ps->recline, "bad member order '%s' (1-99)", f[2]);
		return;
	}
	if (!need_handle(ps, f[3]) || !(m = add_row(ps, T_MEMBER)))
		return;
	m->rotation = sdup(ps, f[1]);
	m->order = order;
	m->worker = sdup(ps, f[3]);
}

static void row_override(struct parser *ps, char **f, int n)
{
	struct gw_db_override *o, tmp = {0};
	char why[160];

	tmp.kind = f[1];
	tmp.line = *f[2] ? f[2] : NULL;
	tmp.worker = f[3];
	if (!need_time(ps, "start", f[4], &tmp.start_ms) ||
	    !need_time(ps, "end", f[5], &tmp.end_ms))
		return;
	if (strcmp(f[1], "add") == 0 && (n < 7 || !int_ok(f[6], 1, 99, &tmp.position))) {
		report(ps, ps->recline, "bad position '%s' (an add override needs 1-99)",
		       n < 7 ? "" : f[6]);
		return;
	}
	if (strcmp(f[1], "replace") == 0)
		tmp.by = n > 6 && *f[6] ? f[6] : NULL;
	else if (strcmp(f[1], "remove") == 0 && n > 6 && *f[6]) {
		report(ps, ps->recline, "a remove override takes no 7th field");
		return;
	}
	if (gw_roster_check_override(&tmp, why, sizeof(why)) < 0) {
		report(ps, ps->recline, "%s", why);
		return;
	}
	if (!(o = add_row(ps, T_OVR)))
		return;
	o->kind = sdup(ps, tmp.kind);
	o->line = tmp.line ? sdup(ps, tmp.line) : NULL;
	o->worker = sdup(ps, tmp.worker);
	o->by = tmp.by ? sdup(ps, tmp.by) : NULL;
	o->start_ms = tmp.start_ms;
	o->end_ms = tmp.end_ms;
	o->position = tmp.position;
}

static void row_step(struct parser *ps, char **f, int n)
{
	struct gw_db_chain_step *c;
	int order, ring = 0;
	bool person = strcmp(f[3], "person") == 0;

	if (!need_code(ps, "line code", f[1]))
		return;
	if (!int_ok(f[2], 1, 99, &order)) {
		report(ps, ps->recline, "bad step order '%s' (1-99)", f[2]);
		return;
	}
	if (!person && strcmp(f[3], "oncall") != 0 && strcmp(f[3], "duty") != 0) {
		report(ps, ps->recline, "bad step kind '%s' (person, oncall or duty)", f[3]);
		return;
	}
	if ((person && !need_handle(ps, f[4])) || (!person && !need_code(ps, "line code", f[4])))
		return;
	if (n > 5 && !need_ring(ps, f[5], &ring))
		return;
	if (!(c = add_row(ps, T_STEP)))
		return;
	c->line = sdup(ps, f[1]);
	c->order = order;
	c->kind = sdup(ps, f[3]);
	c->who = sdup(ps, f[4]);
	c->ring_s = ring;
}

static void row_chain(struct parser *ps, char **f, int n)
{
	struct gw_db_chain *c;
	int rounds = 0, ring = 0;

	if (!need_code(ps, "line code", f[1]))
		return;
	if (*f[2] && !int_ok(f[2], 1, 5, &rounds)) {
		report(ps, ps->recline, "bad rounds '%s' (empty for the default, or 1-5)", f[2]);
		return;
	}
	if (*f[3] && !need_handle(ps, f[3]))
		return;
	if (n > 4 && !need_ring(ps, f[4], &ring))
		return;
	if (!(c = add_row(ps, T_CHAIN)))
		return;
	c->line = sdup(ps, f[1]);
	c->rounds = rounds;
	c->fallback = *f[3] ? sdup(ps, f[3]) : NULL;
	c->fallback_ring_s = ring;
}

static void row_holiday(struct parser *ps, char **f)
{
	struct gw_db_holiday *h;

	if (!need_date(ps, "holiday", f[1]) || !need_text(ps, "holiday name", f[2]))
		return;
	if (!(h = add_row(ps, T_HOLIDAY)))
		return;
	h->date = sdup(ps, f[1]);
	h->name = sdup(ps, f[2]);
}

static void row_temp(struct parser *ps, char **f, int n)
{
	struct gw_db_temp *x;
	int64_t d0, d1;
	int handoff = 0;

	if (temp_field(ps, f, n, 1) != 0) {
		if (!*f[1])
			report(ps, ps->recline, "temporary roster name is empty");
		return;
	}
	if (!need_code(ps, "line code", f[2]) || !need_date(ps, "from", f[3]) ||
	    !need_date(ps, "to", f[4]))
		return;
	if (n > 5 && *f[5] && !parse_hhmm(f[5], &handoff)) {
		report(ps, ps->recline, "bad handoff time '%s' (HH:MM, local time)", f[5]);
		return;
	}
	parse_date(f[3], &d0);
	parse_date(f[4], &d1);
	if (d1 <= d0) {
		report(ps, ps->recline, "temporary roster must end after it starts (%s, %s)", f[3],
		       f[4]);
		return;
	}
	if (!(x = add_row(ps, T_TEMP)))
		return;
	x->name = sdup(ps, f[1]);
	x->line = sdup(ps, f[2]);
	x->from_date = sdup(ps, f[3]);
	x->to_date = sdup(ps, f[4]);
	x->handoff_min = handoff;
}

static const struct {
	const char *name;
	int type;
	int min, max; /* field count including the type */
	const char *syntax;
} rectypes[] = {
    {"line", T_LINE, 5, 5, "line,CODE,NAME_FI,NAME_SV,NAME_EN"},
    {"worker", T_WORKER, 5, 7, "worker,HANDLE,NAME,PHONE,ISSI[,ACTIVE[,LANG]]"},
    {"shift", T_SHIFT, 6, 7, "shift,LINE,WORKER,START,END,POSITION[,TEMP_ROSTER]"},
    {"route", T_ROUTE, 4, 8,
     "route,LINE,CALLER_PREFIX,PRIORITY[,DAYS[,WINDOW[,HOLIDAYS[,STATUS]]]]"},
    {"directory", T_DIR, 3, 3, "directory,ISSI,ORGANISATION"},
    {"rotation", T_ROT, 7, 10,
     "rotation,NAME,LINE,daily|weekly,START_DATE,HANDOFF,POSITION[,HOURS[,END_DATE[,"
     "TEMP_ROSTER]]]"},
    {"rotation_member", T_MEMBER, 4, 4, "rotation_member,ROTATION,ORDER,WORKER"},
    {"override", T_OVR, 6, 7, "override,add|remove|replace,LINE,WORKER,START,END[,POSITION|BY]"},
    {"chain_step", T_STEP, 5, 6, "chain_step,LINE,ORDER,person|oncall|duty,WHO[,RING_S]"},
    {"chain", T_CHAIN, 4, 5, "chain,LINE,ROUNDS,FALLBACK[,FALLBACK_RING_S]"},
    {"holiday", T_HOLIDAY, 3, 3, "holiday,DATE,NAME"},
    {"temp_roster", T_TEMP, 5, 6, "temp_roster,NAME,LINE,FROM_DATE,TO_DATE[,HANDOFF]"},
};

static void parse_row(struct parser *ps, struct record *rec)
{
	size_t i;

	for (int k = 0; k < rec->n; k++)
		if (!text_ok(rec->f[k])) {
			report(ps, ps->recline, "field %d has a control character or is not UTF-8",
			       k + 1);
			return;
		}
	for (i = 0; i < sizeof(rectypes) / sizeof(rectypes[0]); i++)
		if (strcmp(rec->f[0], rectypes[i].name) == 0)
			break;
	if (i == sizeof(rectypes) / sizeof(rectypes[0])) {
		report(ps, ps->recline,
		       "unknown record type '%.40s' (line, worker, shift, route, directory, "
		       "rotation, rotation_member, override, chain_step, chain, holiday, "
		       "temp_roster)",
		       rec->f[0]);
		return;
	}
	if (ps->dir_only && rectypes[i].type != T_DIR) {
		report(ps, ps->recline, "a directory file holds directory records only, not %s",
		       rectypes[i].name);
		return;
	}
	if (rec->n < rectypes[i].min || rec->n > rectypes[i].max) {
		report(ps, ps->recline, "%s: %d fields, want %s", rectypes[i].name, rec->n,
		       rectypes[i].syntax);
		return;
	}
	switch (rectypes[i].type) {
	case T_LINE:
		row_line(ps, rec->f);
		break;
	case T_WORKER:
		row_worker(ps, rec->f, rec->n);
		break;
	case T_SHIFT:
		row_shift(ps, rec->f, rec->n);
		break;
	case T_ROUTE:
		row_route(ps, rec->f, rec->n);
		break;
	case T_DIR:
		row_dir(ps, rec->f);
		break;
	case T_ROT:
		row_rotation(ps, rec->f, rec->n);
		break;
	case T_MEMBER:
		row_member(ps, rec->f);
		break;
	case T_OVR:
		row_override(ps, rec->f, rec->n);
		break;
	case T_STEP:
		row_step(ps, rec->f, rec->n);
		break;
	case T_CHAIN:
		row_chain(ps, rec->f, rec->n);
		break;
	case T_HOLIDAY:
		row_holiday(ps, rec->f);
		break;
	case T_TEMP:
		row_temp(ps, rec->f, rec->n);
		break;
	}
}

/* ---- cross-row checks ---------------------------------------------------------------- */

struct keyed {
	const char *key;
	int prio; /* routes only */
	unsigned src;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->src < y->src ? -1 : x->src > y->src;
}

static int cmp_keyed_key(const void *k, const void *e)
{
	return strcmp(k, ((const struct keyed *)e)->key);
}

/* Sort keys and report every repeat. */
static void index_unique(struct parser *ps, struct keyed *k, size_t n, const char *what)
{
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 1; i < n; i++)
		if (strcmp(k[i].key, k[i - 1].key) == 0 && k[i].prio == k[i - 1].prio)
			report(ps, k[i].src, "duplicate %s '%s' (first on line %u)", what, k[i].key,
			       k[i - 1].src);
}

/* Sort k and report each (key, order) pair seen twice; fmt gets key, order, first line. */
static void index_unique_order(struct parser *ps, struct keyed *k, size_t n, const char *fmt)
{
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 1; i < n; i++)
		if (strcmp(k[i].key, k[i - 1].key) == 0 && k[i].prio == k[i - 1].prio)
			report(ps, k[i].src, fmt, k[i].key, k[i].prio, k[i - 1].src);
}

static bool known(const char *key, const struct keyed *k, size_t n)
{
	return key && bsearch(key, k, n, sizeof(*k), cmp_keyed_key) != NULL;
}

/* Shifts by line, worker, start: to find a worker's overlapping shifts on one line. */
static const struct gw_db_shift *overlap_base;

static int cmp_shift_idx(const void *a, const void *b)
{
	const struct gw_db_shift *x = &overlap_base[*(const size_t *)a];
	const struct gw_db_shift *y = &overlap_base[*(const size_t *)b];
	int c = strcmp(x->line, y->line);
	if (!c)
		c = strcmp(x->worker, y->worker);
	if (!c)
		c = strcmp(x->temp ? x->temp : "", y->temp ? y->temp : "");
	if (!c && x->start_ms != y->start_ms)
		c = x->start_ms < y->start_ms ? -1 : 1;
	return c;
}

static void check_overlaps(struct parser *ps)
{
	const struct gw_db_roster *o = ps->out;
	size_t *idx = calloc(o->n_shifts + 1, sizeof(*idx));
	size_t last = 0;

	if (!idx) {
		ps->oom = true;
		return;
	}
	for (size_t i = 0; i < o->n_shifts; i++)
		idx[i] = i;
	overlap_base = o->shifts; /* qsort has no context argument; single-threaded use */
	qsort(idx, o->n_shifts, sizeof(*idx), cmp_shift_idx);
	for (size_t i = 1; i < o->n_shifts; i++) {
		const struct gw_db_shift *p = &o->shifts[idx[last]], *s = &o->shifts[idx[i]];
		if (strcmp(p->line, s->line) != 0 || strcmp(p->worker, s->worker) != 0 ||
		    strcmp(p->temp ? p->temp : "", s->temp ? s->temp : "") != 0) {
			last = i;
			continue;
		}
		if (s->start_ms < p->end_ms) {
			char a[40], b[40];
			format_utc(s->start_ms, a, sizeof(a));
			format_utc(p->end_ms, b, sizeof(b));
			report(ps, ps->src[T_SHIFT][idx[i]],
			       "shift of %s on %s overlaps the shift on line %u (starts %s, before "
			       "that one ends %s)",
			       s->worker, s->line, ps->src[T_SHIFT][idx[last]], a, b);
		}
		if (s->end_ms > p->end_ms)
			last = i; /* compare the next one with whichever ends later */
	}
	free(idx);
}

/* The local date range of a temporary roster in UTC ms (checked dates). */
static void temp_range(const struct gw_db_temp *x, int64_t *a, int64_t *b)
{
	int64_t d0 = 0, d1 = 0;

	parse_date(x->from_date, &d0);
	parse_date(x->to_date, &d1);
	*a = local_to_utc(d0, x->handoff_min);
	*b = local_to_utc(d1, x->handoff_min);
}

/*
 * Temporary rosters: known line, no two overlapping on one line, and the shifts and
 * rotations naming one are on its line. lines is sorted (index_unique).
 */
static void cross_check_temps(struct parser *ps, const struct keyed *lines)
{
	const struct gw_db_roster *o = ps->out;

	for (size_t i = 0; i < o->n_temps; i++) {
		const struct gw_db_temp *x = &o->temps[i];
		int64_t a, b;
		if (!known(x->line, lines, o->n_lines)) {
			report(ps, ps->src[T_TEMP][i], "temporary roster on unknown line '%s'",
			       x->line);
			continue;
		}
		temp_range(x, &a, &b);
		for (size_t j = 0; j < i; j++) {
			int64_t c, d;
			temp_range(&o->temps[j], &c, &d);
			if (strcmp(o->temps[j].line, x->line) == 0 && a < d && c < b)
				report(ps, ps->src[T_TEMP][i],
				       "temporary roster %s overlaps %s (line %u) on line %s",
				       x->name, o->temps[j].name, ps->src[T_TEMP][j], x->line);
		}
	}
	for (size_t i = 0; i < o->n_shifts + o->n_rotations; i++) {
		bool sh = i < o->n_shifts;
		const char *temp = sh ? o->shifts[i].temp : o->rotations[i - o->n_shifts].temp;
		const char *line = sh ? o->shifts[i].line : o->rotations[i - o->n_shifts].line;
		unsigned src = sh ? ps->src[T_SHIFT][i] : ps->src[T_ROT][i - o->n_shifts];
		const struct gw_db_temp *x = NULL;
		if (!temp)
			continue;
		for (size_t j = 0; j < o->n_temps && !x; j++)
			if (strcmp(o->temps[j].name, temp) == 0)
				x = &o->temps[j];
		if (!x)
			report(ps, src, "%s names unknown temporary roster '%s'",
			       sh ? "shift" : "rotation", temp);
		else if (strcmp(x->line, line) != 0)
			report(ps, src, "%s on line %s names temporary roster %s of line %s",
			       sh ? "shift" : "rotation", line, temp, x->line);
	}
}

static void cross_check(struct parser *ps)
{
	struct gw_db_roster *o = ps->out;
	size_t nk = o->n_lines + o->n_workers + o->n_routes + o->n_dirs + o->n_rotations +
		    o->n_members + o->n_steps + o->n_chains + o->n_holidays + o->n_temps;
	struct keyed *k = calloc(nk ? nk : 1, sizeof(*k));
	struct keyed *lines, *workers, *routes, *dirs, *rots, *members, *steps, *chains, *hols;
	struct keyed *temps;
	char(*rkeys)[160] = calloc(o->n_routes ? o->n_routes : 1, sizeof(*rkeys));

	if (!k || !rkeys) {
		free(k);
		free(rkeys);
		ps->oom = true;
		return;
	}
	lines = k;
	workers = lines + o->n_lines;
	routes = workers + o->n_workers;
	dirs = routes + o->n_routes;
	rots = dirs + o->n_dirs;
	members = rots + o->n_rotations;
	steps = members + o->n_members;
	chains = steps + o->n_steps;
	hols = chains + o->n_chains;
	temps = hols + o->n_holidays;
	for (size_t i = 0; i < o->n_lines; i++)
		lines[i] = (struct keyed){o->lines[i].code, 0, ps->src[T_LINE][i]};
	for (size_t i = 0; i < o->n_workers; i++)
		workers[i] = (struct keyed){o->workers[i].handle, 0, ps->src[T_WORKER][i]};
	for (size_t i = 0; i < o->n_routes; i++) {
		const struct gw_db_route *rt = &o->routes[i];
		struct route_cond_text ct;
		const char *key = rt->prefix;
		if (route_has_cond(rt)) { /* the same prefix under other conditions is no repeat */
			route_cond_format(rt, &ct);
			snprintf(rkeys[i], sizeof(rkeys[i]), "%s' if '%s,%s,%s,%s", rt->prefix,
				 ct.days, ct.window, ct.holidays, ct.status);
			key = rkeys[i];
		}
		routes[i] = (struct keyed){key, rt->priority, ps->src[T_ROUTE][i]};
	}
	for (size_t i = 0; i < o->n_dirs; i++)
		dirs[i] = (struct keyed){o->dirs[i].issi, 0, ps->src[T_DIR][i]};
	for (size_t i = 0; i < o->n_rotations; i++)
		rots[i] = (struct keyed){o->rotations[i].name, 0, ps->src[T_ROT][i]};
	for (size_t i = 0; i < o->n_members; i++)
		members[i] = (struct keyed){o->members[i].rotation, o->members[i].order,
					    ps->src[T_MEMBER][i]};
	for (size_t i = 0; i < o->n_steps; i++)
		steps[i] = (struct keyed){o->steps[i].line, o->steps[i].order, ps->src[T_STEP][i]};
	for (size_t i = 0; i < o->n_chains; i++)
		chains[i] = (struct keyed){o->chains[i].line, 0, ps->src[T_CHAIN][i]};
	for (size_t i = 0; i < o->n_holidays; i++)
		hols[i] = (struct keyed){o->holidays[i].date, 0, ps->src[T_HOLIDAY][i]};
	index_unique(ps, lines, o->n_lines, "line");
	index_unique(ps, workers, o->n_workers, "worker");
	index_unique(ps, dirs, o->n_dirs, "directory ISSI");
	index_unique(ps, rots, o->n_rotations, "rotation");
	index_unique(ps, chains, o->n_chains, "chain settings for line");
	index_unique(ps, hols, o->n_holidays, "holiday");
	for (size_t i = 0; i < o->n_temps; i++)
		temps[i] = (struct keyed){o->temps[i].name, 0, ps->src[T_TEMP][i]};
	index_unique(ps, temps, o->n_temps, "temporary roster");
	cross_check_temps(ps, lines);
	index_unique_order(ps, routes, o->n_routes,
			   "route prefix '%s' with priority %d is ambiguous (also on line %u)");
	index_unique_order(ps, members, o->n_members,
			   "rotation %s has two members with order %d (also on line %u)");
	index_unique_order(ps, steps, o->n_steps,
			   "line %s has two chain steps with order %d (also on line %u)");

	for (size_t i = 0; i < o->n_shifts; i++) {
		const struct gw_db_shift *s = &o->shifts[i];
		if (!known(s->line, lines, o->n_lines))
			report(ps, ps->src[T_SHIFT][i], "shift on unknown line '%s'", s->line);
		else if (!known(s->worker, workers, o->n_workers))
			report(ps, ps->src[T_SHIFT][i], "shift of unknown worker '%s'", s->worker);
	}
	for (size_t i = 0; i < o->n_routes; i++)
		if (!known(o->routes[i].line, lines, o->n_lines))
			report(ps, ps->src[T_ROUTE][i], "route to unknown line '%s'",
			       o->routes[i].line);
	for (size_t i = 0; i < o->n_rotations; i++) {
		const struct gw_db_rotation *x = &o->rotations[i];
		bool seen[100] = {false};
		int count = 0, max = 0;
		if (!known(x->line, lines, o->n_lines))
			report(ps, ps->src[T_ROT][i], "rotation on unknown line '%s'", x->line);
		for (size_t j = 0; j < o->n_members; j++)
			if (strcmp(o->members[j].rotation, x->name) == 0) {
				int ord = o->members[j].order; /* 1..99, checked per row */
				count += !seen[ord];
				seen[ord] = true;
				if (ord > max)
					max = ord;
			}
		if (count == 0)
			report(ps, ps->src[T_ROT][i], "rotation %s has no rotation_member records",
			       x->name);
		else if (max != count)
			report(ps, ps->src[T_ROT][i],
			       "rotation %s: member orders must run 1..N without gaps", x->name);
	}
	for (size_t i = 0; i < o->n_members; i++) {
		const struct gw_db_member *m = &o->members[i];
		if (!known(m->rotation, rots, o->n_rotations))
			report(ps, ps->src[T_MEMBER][i], "member of unknown rotation '%s'",
			       m->rotation);
		else if (!known(m->worker, workers, o->n_workers))
			report(ps, ps->src[T_MEMBER][i], "rotation member is unknown worker '%s'",
			       m->worker);
	}
	for (size_t i = 0; i < o->n_overrides; i++) {
		const struct gw_db_override *v = &o->overrides[i];
		if (v->line && !known(v->line, lines, o->n_lines))
			report(ps, ps->src[T_OVR][i], "override on unknown line '%s'", v->line);
		else if (!known(v->worker, workers, o->n_workers))
			report(ps, ps->src[T_OVR][i], "override of unknown worker '%s'", v->worker);
		else if (v->by && !known(v->by, workers, o->n_workers))
			report(ps, ps->src[T_OVR][i], "override by unknown worker '%s'", v->by);
	}
	for (size_t i = 0; i < o->n_steps; i++) {
		const struct gw_db_chain_step *c = &o->steps[i];
		bool person = strcmp(c->kind, "person") == 0;
		if (!known(c->line, lines, o->n_lines))
			report(ps, ps->src[T_STEP][i], "chain step of unknown line '%s'", c->line);
		else if (person && !known(c->who, workers, o->n_workers))
			report(ps, ps->src[T_STEP][i], "chain step names unknown worker '%s'",
			       c->who);
		else if (!person && !known(c->who, lines, o->n_lines))
			report(ps, ps->src[T_STEP][i], "chain step names unknown line '%s'",
			       c->who);
	}
	for (size_t i = 0; i < o->n_chains; i++) {
		const struct gw_db_chain *c = &o->chains[i];
		if (!known(c->line, lines, o->n_lines))
			report(ps, ps->src[T_CHAIN][i], "chain settings of unknown line '%s'",
			       c->line);
		else if (c->fallback && !known(c->fallback, workers, o->n_workers))
			report(ps, ps->src[T_CHAIN][i], "chain fallback is unknown worker '%s'",
			       c->fallback);
	}
	if (!ps->oom)
		check_overlaps(ps);
	if (o->n_lines == 0 && ps->errors == 0 && !ps->dir_only)
		report(ps, 0, "no line records: refusing an empty roster");
	free(k);
	free(rkeys);
}

static int parse(const char *file, const char *buf, size_t len, bool dir_only,
		 struct gw_db_roster *out, gw_roster_err_fn err, void *arg)
{
	struct parser ps = {
	    .file = file,
	    .err = err,
	    .arg = arg,
	    .begin = buf,
	    .p = buf,
	    .end = buf + len,
	    .lineno = 1,
	    .dir_only = dir_only,
	    .out = out,
	};
	struct record *rec = malloc(sizeof(*rec));
	int rc;

	memset(out, 0, sizeof(*out));
	if (!rec)
		return -ENOMEM;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	if (check_encoding(&ps)) {
		while (!ps.oom && (rc = read_record(&ps, rec)) != 0)
			if (rc > 0)
				parse_row(&ps, rec);
		if (!ps.oom)
			cross_check(&ps);
	}
	free(rec);
	for (int t = 0; t < T_COUNT; t++)
		free(ps.src[t]);
	flush_errors(&ps);
	if (ps.oom || ps.errors) {
		gw_db_roster_clear(out);
		return ps.oom ? -ENOMEM : -EINVAL;
	}
	return 0;
}

int gw_roster_parse_csv(const char *file, const char *buf, size_t len, struct gw_db_roster *out,
			gw_roster_err_fn err, void *arg)
{
	return parse(file, buf, len, false, out, err, arg);
}

int gw_roster_parse_directory_csv(const char *file, const char *buf, size_t len,
				  struct gw_db_roster *out, gw_roster_err_fn err, void *arg)
{
	return parse(file, buf, len, true, out, err, arg);
}

/* Read a whole regular file (at most MAX_FILE_BYTES). 0 and *buf (free it), or -errno. */
static int read_file(const char *path, char **buf, size_t *len, gw_roster_err_fn err, void *arg)
{
	char reason[160];
	struct stat st;
	size_t got = 0;
	int fd, rc;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > MAX_FILE_BYTES) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto fail;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		rc = -ENOMEM;
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
fail:
	snprintf(reason, sizeof(reason), "cannot read: %s", strerror(-rc));
	if (err)
		err(path, 0, reason, arg);
	else
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: %s", path, reason);
	if (fd >= 0)
		close(fd);
	free(*buf);
	*buf = NULL;
	return rc;
}

/* Read path and parse it with one of the CSV parsers into *data. 0 or negative errno. */
static int read_csv(const char *path,
		    int (*parse_fn)(const char *, const char *, size_t, struct gw_db_roster *,
				    gw_roster_err_fn, void *),
		    struct gw_db_roster *data, gw_roster_err_fn err, void *arg)
{
	char *buf;
	size_t len;
	int rc = read_file(path, &buf, &len, err, arg);
	if (rc < 0)
		return rc;
	rc = parse_fn(path, buf, len, data, err, arg);
	free(buf);
	return rc;
}

int gw_roster_import_file(struct gw_db *db, const char *path, gw_roster_err_fn err, void *arg,
			  struct gw_roster_counts *counts)
{
	struct gw_db_roster data;
	int rc = read_csv(path, gw_roster_parse_csv, &data, err, arg);
	if (rc < 0)
		return rc;
	rc = gw_db_roster_replace(db, &data);
	if (rc == 0 && counts)
		*counts = (struct gw_roster_counts){
		    .lines = data.n_lines,
		    .workers = data.n_workers,
		    .shifts = data.n_shifts,
		    .routes = data.n_routes,
		    .dirs = data.n_dirs,
		    .rotations = data.n_rotations,
		    .overrides = data.n_overrides,
		    .steps = data.n_steps,
		    .holidays = data.n_holidays,
		};
	gw_db_roster_clear(&data);
	return rc;
}

int gw_roster_import_directory_file(struct gw_db *db, const char *path, gw_roster_err_fn err,
				    void *arg, size_t *count)
{
	struct gw_db_roster data;
	int rc = read_csv(path, gw_roster_parse_directory_csv, &data, err, arg);
	if (rc < 0)
		return rc;
	rc = gw_db_directory_replace(db, data.dirs, data.n_dirs);
	if (rc == 0 && count)
		*count = data.n_dirs;
	gw_db_roster_clear(&data);
	return rc;
}

/* ---- CSV export ---------------------------------------------------------------------- */

/* One field, quoted when the parser would otherwise read it differently. */
static void put_field(FILE *f, const char *s, bool last)
{
	size_t n = s ? strlen(s) : 0;

	if (s && (strpbrk(s, ",\"\r\n#") || (n && (is_blank(s[0]) || is_blank(s[n - 1]))))) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else if (s) {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void put_int(FILE *f, int v, bool omit_zero, bool last)
{
	char b[16];
	snprintf(b, sizeof(b), "%d", v);
	put_field(f, omit_zero && v == 0 ? "" : b, last);
}

/* A local time of day (minutes after midnight) as HH:MM. */
static void put_hhmm(FILE *f, int min, bool last)
{
	char b[16];
	snprintf(b, sizeof(b), "%02d:%02d", min / 60 % 24, min % 60);
	put_field(f, b, last);
}

static void put_time(FILE *f, int64_t ms, bool last)
{
	char b[40];
	format_utc(ms, b, sizeof(b));
	put_field(f, b, last);
}

int gw_roster_write_csv(const struct gw_db_roster *d, FILE *f)
{
	fputs("# rinki roster, written by rinkictl roster export (times in UTC).\n"
	      "# Import it with: rinkictl roster import FILE\n",
	      f);
	for (size_t i = 0; i < d->n_lines; i++) {
		put_field(f, "line", false);
		put_field(f, d->lines[i].code, false);
		put_field(f, d->lines[i].name_fi, false);
		put_field(f, d->lines[i].name_sv, false);
		put_field(f, d->lines[i].name_en, true);
	}
	for (size_t i = 0; i < d->n_workers; i++) {
		const struct gw_db_worker *w = &d->workers[i];
		put_field(f, "worker", false);
		put_field(f, w->handle, false);
		put_field(f, w->name, false);
		put_field(f, w->phone, false);
		put_field(f, w->issi ? w->issi : "", false);
		put_int(f, w->active, false, false);
		put_field(f, lang_ok(w->lang) ? w->lang : "fi", true); /* never the PIN hash */
	}
	for (size_t i = 0; i < d->n_temps; i++) {
		const struct gw_db_temp *x = &d->temps[i];
		put_field(f, "temp_roster", false);
		put_field(f, x->name, false);
		put_field(f, x->line, false);
		put_field(f, x->from_date, false);
		put_field(f, x->to_date, false);
		put_hhmm(f, x->handoff_min, true);
	}
	for (size_t i = 0; i < d->n_shifts; i++) {
		const struct gw_db_shift *s = &d->shifts[i];
		put_field(f, "shift", false);
		put_field(f, s->line, false);
		put_field(f, s->worker, false);
		put_time(f, s->start_ms, false);
		put_time(f, s->end_ms, false);
		put_int(f, s->position, false, !s->temp);
		if (s->temp)
			put_field(f, s->temp, true);
	}
	for (size_t i = 0; i < d->n_rotations; i++) {
		const struct gw_db_rotation *x = &d->rotations[i];
		put_field(f, "rotation", false);
		put_field(f, x->name, false);
		put_field(f, x->line, false);
		put_field(f, x->kind, false);
		put_field(f, x->start_date, false);
		put_hhmm(f, x->handoff_min, false);
		put_int(f, x->position, false, false);
		put_field(f, x->hours, false);
		put_field(f, x->end_date ? x->end_date : "", !x->temp);
		if (x->temp)
			put_field(f, x->temp, true);
	}
	for (size_t i = 0; i < d->n_members; i++) {
		put_field(f, "rotation_member", false);
		put_field(f, d->members[i].rotation, false);
		put_int(f, d->members[i].order, false, false);
		put_field(f, d->members[i].worker, true);
	}
	for (size_t i = 0; i < d->n_overrides; i++) {
		const struct gw_db_override *o = &d->overrides[i];
		bool add = strcmp(o->kind, "add") == 0, remove = strcmp(o->kind, "remove") == 0;
		put_field(f, "override", false);
		put_field(f, o->kind, false);
		put_field(f, o->line ? o->line : "", false);
		put_field(f, o->worker, false);
		put_time(f, o->start_ms, false);
		put_time(f, o->end_ms, remove);
		if (add)
			put_int(f, o->position, false, true);
		else if (!remove)
			put_field(f, o->by, true);
	}
	for (size_t i = 0; i < d->n_steps; i++) {
		const struct gw_db_chain_step *c = &d->steps[i];
		put_field(f, "chain_step", false);
		put_field(f, c->line, false);
		put_int(f, c->order, false, false);
		put_field(f, c->kind, false);
		put_field(f, c->who, false);
		put_int(f, c->ring_s, true, true);
	}
	for (size_t i = 0; i < d->n_chains; i++) {
		const struct gw_db_chain *c = &d->chains[i];
		put_field(f, "chain", false);
		put_field(f, c->line, false);
		put_int(f, c->rounds, true, false);
		put_field(f, c->fallback ? c->fallback : "", false);
		put_int(f, c->fallback_ring_s, true, true);
	}
	for (size_t i = 0; i < d->n_routes; i++) {
		const struct gw_db_route *rt = &d->routes[i];
		bool cond = route_has_cond(rt);
		struct route_cond_text ct;
		put_field(f, "route", false);
		put_field(f, rt->line, false);
		put_field(f, rt->prefix, false);
		put_int(f, rt->priority, false, !cond);
		if (!cond)
			continue;
		route_cond_format(rt, &ct);
		put_field(f, ct.days, false);
		put_field(f, ct.window, false);
		put_field(f, ct.holidays, false);
		put_field(f, ct.status, true);
	}
	for (size_t i = 0; i < d->n_dirs; i++) {
		put_field(f, "directory", false);
		put_field(f, d->dirs[i].issi, false);
		put_field(f, d->dirs[i].org, true);
	}
	for (size_t i = 0; i < d->n_holidays; i++) {
		put_field(f, "holiday", false);
		put_field(f, d->holidays[i].date, false);
		put_field(f, d->holidays[i].name, true);
	}
	if (fflush(f) != 0 || ferror(f))
		return -(errno ? errno : EIO);
	return 0;
}
