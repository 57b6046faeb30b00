/*
 * roster: the in-memory snapshot that answers "which line, and who, right now?"
 * on the paging path, plus the coordinators' CSV import.
 *
 * A snapshot owns a copy of the roster tables (struct gw_db_roster) and indexes it:
 * lines and the directory sorted for binary search, routes sorted so the first
 * prefix match is the answer, and each line's shifts sorted by start. Shifts may
 * overlap and have any length (a year-long supervisor shift beside 8-hour ones),
 * so a plain binary search on start does not find every shift covering an instant;
 * the sorted array is read as an implicit balanced tree (midpoint = node) where
 * each node keeps the latest end in its subtree, which turns "who covers t" into
 * O(log n + k log n) without any allocation.
 *
 * The CSV parser takes a buffer, follows RFC 4180 quoting, and reports every bad
 * row as file:line before anything is written; cross-row checks (unknown line or
 * worker, duplicates) run after the whole file is read so the file's row order is
 * free.
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
#include <unistd.h>

#define SSI_DIGITS	 8
#define TSI_DIGITS	 17
#define MAX_FILE_BYTES	 (64u << 20)
#define MAX_FIELDS	 8
#define MAX_RECORD_BYTES 4096
#define MAX_COVER	 128 /* shifts considered at one instant before ordering */

/* ---- snapshot ------------------------------------------------------------------------ */

struct rshift {
	int64_t start, end;
	int64_t maxend; /* latest end in this node's subtree (see file comment) */
	int position;
	const struct gw_db_worker *w;
};

struct rline {
	const struct gw_db_line *l;
	struct rshift *shifts; /* slice of gw_roster.shifts, sorted by start */
	size_t n;
};

struct rroute {
	const char *prefix;
	size_t len;
	int priority;
	size_t order;
	const char *line;
};

struct gw_roster {
	struct gw_db_roster data;
	struct rline *lines; /* sorted by code */
	size_t n_lines;
	struct rshift *shifts;
	struct rroute *routes; /* longest prefix first, then priority, then order */
	size_t n_routes;
	const struct gw_db_dir **dirs; /* sorted by canonical issi */
	size_t n_dirs;
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

static int cmp_rshift(const void *a, const void *b)
{
	const struct rshift *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return 0;
}

static int cmp_rroute(const void *a, const void *b)
{
	const struct rroute *x = a, *y = b;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
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

static int build(struct gw_roster *r)
{
	struct gw_db_roster *d = &r->data;
	const struct gw_db_worker **wk = NULL;
	size_t n_shifts = 0;
	int rc = -ENOMEM;

	r->lines = calloc(d->n_lines ? d->n_lines : 1, sizeof(*r->lines));
	r->shifts = calloc(d->n_shifts ? d->n_shifts : 1, sizeof(*r->shifts));
	r->routes = calloc(d->n_routes ? d->n_routes : 1, sizeof(*r->routes));
	r->dirs = calloc(d->n_dirs ? d->n_dirs : 1, sizeof(*r->dirs));
	wk = calloc(d->n_workers ? d->n_workers : 1, sizeof(*wk));
	if (!r->lines || !r->shifts || !r->routes || !r->dirs || !wk)
		goto out;

	for (size_t i = 0; i < d->n_lines; i++)
		r->lines[i].l = &d->lines[i];
	r->n_lines = d->n_lines;
	qsort(r->lines, r->n_lines, sizeof(*r->lines), cmp_rline);
	for (size_t i = 0; i < d->n_workers; i++)
		wk[i] = &d->workers[i];
	qsort(wk, d->n_workers, sizeof(*wk), cmp_worker_ptr);

	/* Shifts: count per line, carve slices, fill, sort each slice by start. */
	size_t *line_of = calloc(d->n_shifts ? d->n_shifts : 1, sizeof(*line_of));
	if (!line_of)
		goto out;
	for (size_t i = 0; i < d->n_shifts; i++) {
		const struct rline *l = find_line(r, d->shifts[i].line);
		line_of[i] = SIZE_MAX;
		if (!l) {
			LOGP(GW_LOG_DB, GW_LOG_WARN, "roster: shift on unknown line %s skipped",
			     d->shifts[i].line);
			continue;
		}
		line_of[i] = (size_t)(l - r->lines);
		r->lines[line_of[i]].n++;
	}
	for (size_t i = 0, off = 0; i < r->n_lines; i++) {
		r->lines[i].shifts = r->shifts + off;
		off += r->lines[i].n;
		r->lines[i].n = 0;
	}
	for (size_t i = 0; i < d->n_shifts; i++) {
		const struct gw_db_shift *s = &d->shifts[i];
		const struct gw_db_worker *const *w;

		if (line_of[i] == SIZE_MAX)
			continue;
		w = bsearch(s->worker, wk, d->n_workers, sizeof(*wk), cmp_worker_key);
		if (!w) {
			LOGP(GW_LOG_DB, GW_LOG_WARN, "roster: shift of unknown worker %s skipped",
			     s->worker);
			continue;
		}
		struct rline *l = &r->lines[line_of[i]];
		l->shifts[l->n++] = (struct rshift){
		    .start = s->start_ms, .end = s->end_ms, .position = s->position, .w = *w};
		n_shifts++;
	}
	free(line_of);
	for (size_t i = 0; i < r->n_lines; i++) {
		qsort(r->lines[i].shifts, r->lines[i].n, sizeof(struct rshift), cmp_rshift);
		build_maxend(r->lines[i].shifts, 0, r->lines[i].n);
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
	     "roster loaded: %zu lines, %zu workers, %zu shifts, %zu routes, %zu directory entries",
	     r->n_lines, d->n_workers, n_shifts, r->n_routes, r->n_dirs);
	rc = 0;
out:
	free(wk);
	return rc;
}

int gw_roster_load(struct gw_db *db, struct gw_roster **out)
{
	struct gw_roster *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	if ((rc = gw_db_roster_read(db, &r->data)) < 0 || (rc = build(r)) < 0) {
		gw_roster_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void gw_roster_free(struct gw_roster *r)
{
	if (!r)
		return;
	gw_db_roster_clear(&r->data);
	free(r->lines);
	free(r->shifts);
	free(r->routes);
	free(r->dirs);
	free(r);
}

const char *gw_roster_route(const struct gw_roster *r, const char *caller)
{
	char key[SSI_DIGITS + 1];
	const char *k = caller;

	if (!caller)
		return NULL;
	if (ssi_key(caller, key))
		k = key;
	for (size_t i = 0; i < r->n_routes; i++)
		if (strncmp(k, r->routes[i].prefix, r->routes[i].len) == 0)
			return r->routes[i].line;
	return NULL;
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

int gw_roster_chain(const struct gw_roster *r, const char *line, int64_t t_ms,
		    struct gw_roster_step *steps, int max)
{
	const struct rline *l = find_line(r, line);
	struct cover c;
	int n = 0;

	if (!l)
		return -ENOENT;
	if (max > GW_ROSTER_CHAIN_MAX)
		max = GW_ROSTER_CHAIN_MAX;
	c.n = 0;
	stab(l->shifts, 0, l->n, t_ms, &c);
	for (int i = 0; i < c.n && n < max; i++) {
		const struct gw_db_worker *w = c.s[i]->w;
		bool dup = false;
		for (int j = 0; j < i && !dup; j++)
			dup = c.s[j]->w == w;
		if (dup)
			continue;
		steps[n++] = (struct gw_roster_step){
		    .handle = w->handle, .name = w->name, .phone = w->phone};
	}
	return n;
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

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
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

/* ---- CSV parser ---------------------------------------------------------------------- */

enum { T_LINE, T_WORKER, T_SHIFT, T_ROUTE, T_DIR, T_COUNT };

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
	    sizeof(struct gw_db_line),	sizeof(struct gw_db_worker), sizeof(struct gw_db_shift),
	    sizeof(struct gw_db_route), sizeof(struct gw_db_dir),
	};
	struct gw_db_roster *o = ps->out;
	void **arr[T_COUNT] = {(void **)&o->lines, (void **)&o->workers, (void **)&o->shifts,
			       (void **)&o->routes, (void **)&o->dirs};
	size_t *n[T_COUNT] = {&o->n_lines, &o->n_workers, &o->n_shifts, &o->n_routes, &o->n_dirs};
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

/* Well-formed UTF-8 without control characters (tab allowed). */
static bool text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n;
		uint32_t cp;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return false;
			p++;
			continue;
		}
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
			return false;
		}
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
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
	if (!(w = add_row(ps, T_WORKER)))
		return;
	w->handle = sdup(ps, f[1]);
	w->name = sdup(ps, f[2]);
	w->phone = sdup(ps, f[3]);
	w->issi = *issi ? sdup(ps, issi) : NULL;
	w->active = active;
}

static void row_shift(struct parser *ps, char **f)
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
	if (!(s = add_row(ps, T_SHIFT)))
		return;
	s->line = sdup(ps, f[1]);
	s->worker = sdup(ps, f[2]);
	s->start_ms = start;
	s->end_ms = end;
	s->position = pos;
}

static void row_route(struct parser *ps, char **f)
{
	struct gw_db_route *rt;
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
	if (!(rt = add_row(ps, T_ROUTE)))
		return;
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

static const struct {
	const char *name;
	int type;
	int min, max; /* field count including the type */
	const char *syntax;
} rectypes[] = {
    {"line", T_LINE, 5, 5, "line,CODE,NAME_FI,NAME_SV,NAME_EN"},
    {"worker", T_WORKER, 5, 6, "worker,HANDLE,NAME,PHONE,ISSI[,ACTIVE]"},
    {"shift", T_SHIFT, 6, 6, "shift,LINE,WORKER,START,END,POSITION"},
    {"route", T_ROUTE, 4, 4, "route,LINE,CALLER_PREFIX,PRIORITY"},
    {"directory", T_DIR, 3, 3, "directory,ISSI,ORGANISATION"},
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
		       "unknown record type '%.40s' (line, worker, shift, route, directory)",
		       rec->f[0]);
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
		row_shift(ps, rec->f);
		break;
	case T_ROUTE:
		row_route(ps, rec->f);
		break;
	case T_DIR:
		row_dir(ps, rec->f);
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

static void cross_check(struct parser *ps)
{
	struct gw_db_roster *o = ps->out;
	size_t nk = o->n_lines + o->n_workers + o->n_routes + o->n_dirs;
	struct keyed *k = calloc(nk ? nk : 1, sizeof(*k));
	struct keyed *lines, *workers, *routes, *dirs;

	if (!k) {
		ps->oom = true;
		return;
	}
	lines = k;
	workers = lines + o->n_lines;
	routes = workers + o->n_workers;
	dirs = routes + o->n_routes;
	for (size_t i = 0; i < o->n_lines; i++)
		lines[i] = (struct keyed){o->lines[i].code, 0, ps->src[T_LINE][i]};
	for (size_t i = 0; i < o->n_workers; i++)
		workers[i] = (struct keyed){o->workers[i].handle, 0, ps->src[T_WORKER][i]};
	for (size_t i = 0; i < o->n_routes; i++)
		routes[i] =
		    (struct keyed){o->routes[i].prefix, o->routes[i].priority, ps->src[T_ROUTE][i]};
	for (size_t i = 0; i < o->n_dirs; i++)
		dirs[i] = (struct keyed){o->dirs[i].issi, 0, ps->src[T_DIR][i]};
	index_unique(ps, lines, o->n_lines, "line");
	index_unique(ps, workers, o->n_workers, "worker");
	index_unique(ps, dirs, o->n_dirs, "directory ISSI");
	qsort(routes, o->n_routes, sizeof(*routes), cmp_keyed);
	for (size_t i = 1; i < o->n_routes; i++)
		if (strcmp(routes[i].key, routes[i - 1].key) == 0 &&
		    routes[i].prio == routes[i - 1].prio)
			report(ps, routes[i].src,
			       "route prefix '%s' with priority %d is ambiguous (also on line %u)",
			       routes[i].key, routes[i].prio, routes[i - 1].src);

	for (size_t i = 0; i < o->n_shifts; i++) {
		const struct gw_db_shift *s = &o->shifts[i];
		if (!bsearch(s->line, lines, o->n_lines, sizeof(*lines), cmp_keyed_key))
			report(ps, ps->src[T_SHIFT][i], "shift on unknown line '%s'", s->line);
		else if (!bsearch(s->worker, workers, o->n_workers, sizeof(*workers),
				  cmp_keyed_key))
			report(ps, ps->src[T_SHIFT][i], "shift of unknown worker '%s'", s->worker);
	}
	for (size_t i = 0; i < o->n_routes; i++)
		if (!bsearch(o->routes[i].line, lines, o->n_lines, sizeof(*lines), cmp_keyed_key))
			report(ps, ps->src[T_ROUTE][i], "route to unknown line '%s'",
			       o->routes[i].line);
	if (o->n_lines == 0 && ps->errors == 0)
		report(ps, 0, "no line records: refusing an empty roster");
	free(k);
}

int gw_roster_parse_csv(const char *file, const char *buf, size_t len, struct gw_db_roster *out,
			gw_roster_err_fn err, void *arg)
{
	struct parser ps = {
	    .file = file,
	    .err = err,
	    .arg = arg,
	    .begin = buf,
	    .p = buf,
	    .end = buf + len,
	    .lineno = 1,
	    .out = out,
	};
	struct record *rec = malloc(sizeof(*rec));
	int rc;

	memset(out, 0, sizeof(*out));
	if (!rec)
		return -ENOMEM;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	while (!ps.oom && (rc = read_record(&ps, rec)) != 0)
		if (rc > 0)
			parse_row(&ps, rec);
	free(rec);
	if (!ps.oom)
		cross_check(&ps);
	for (int t = 0; t < T_COUNT; t++)
		free(ps.src[t]);
	flush_errors(&ps);
	if (ps.oom || ps.errors) {
		gw_db_roster_clear(out);
		return ps.oom ? -ENOMEM : -EINVAL;
	}
	return 0;
}

int gw_roster_import_file(struct gw_db *db, const char *path, gw_roster_err_fn err, void *arg,
			  struct gw_roster_counts *counts)
{
	struct gw_db_roster data;
	char reason[160];
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto io_fail;
	}
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > MAX_FILE_BYTES) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto io_fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto io_fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto io_fail;
		}
		got += (size_t)n;
	}
	close(fd);
	rc = gw_roster_parse_csv(path, buf, got, &data, err, arg);
	free(buf);
	if (rc < 0)
		return rc;
	rc = gw_db_roster_replace(db, &data);
	if (rc == 0 && counts)
		*counts = (struct gw_roster_counts){data.n_lines, data.n_workers, data.n_shifts,
						    data.n_routes, data.n_dirs};
	gw_db_roster_clear(&data);
	return rc;
io_fail:
	snprintf(reason, sizeof(reason), "cannot read: %s", strerror(-rc));
	if (err)
		err(path, 0, reason, arg);
	else
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: %s", path, reason);
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}
