/*
 * report: the call log's figures over a time range (see report.h for what is counted and
 * how). gw_report_build() reads every incident of the range once through
 * gw_db_report_incidents(), puts it in exactly one kind and outcome, and adds it to the
 * total, its line's, its caller organisation's, its municipality's (the directory read
 * once, looked up by the caller's canonical SSI) and its weekday-hour's figures; the
 * percentiles are taken at the end from the sorted accept times. Authority calls are also
 * counted by local day and the accept times put in bins, for the web console's charts.
 * The writers format the same figures as text, CSV or JSON.
 */
#include "store/report.h"
#include "store/roster_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALLBACK_LINE "callback" /* service/callback's incidents */

const int64_t gw_report_acc_upper_ms[GW_REPORT_ACC_BINS] = {
    10000, 20000, 30000, 45000, 60000, 90000, 120000, 180000, 300000, INT64_MAX,
};

enum kind { K_CALL, K_TEXT, K_STATUS, K_CALLBACK };

/* A caller's municipality, by canonical SSI (sorted). */
struct muni {
	char key[SSI_DIGITS + 1];
	const char *name, *membership;
};

struct build {
	struct gw_report *r;
	bool oom;
	struct muni *munis;
	size_t n_munis;
};

static int cmp_muni(const void *a, const void *b)
{
	return strcmp(((const struct muni *)a)->key, ((const struct muni *)b)->key);
}

/* The municipality (and membership) of a caller, or NULL. */
static const struct muni *muni_of(const struct build *b, const char *caller)
{
	struct muni k;

	if (!caller || !b->n_munis || !roster_ssi_key(caller, k.key))
		return NULL; /* bsearch() wants a base even for no elements */
	return bsearch(&k, b->munis, b->n_munis, sizeof(k), cmp_muni);
}

static struct gw_report_group *group(struct gw_report_group **arr, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*arr)[i].key, key) == 0)
			return &(*arr)[i];
	struct gw_report_group *p = reallocarray(*arr, *n + 1, sizeof(*p));
	if (!p)
		return NULL;
	*arr = p;
	p = &p[*n];
	memset(p, 0, sizeof(*p));
	if (!(p->key = strdup(key)))
		return NULL;
	(*n)++;
	return p;
}

static bool add_acc(struct gw_report_group *g, int64_t ms)
{
	if (g->n_acc == g->cap_acc) {
		size_t ncap = g->cap_acc ? g->cap_acc * 2 : 16;
		int64_t *p = reallocarray(g->acc, ncap, sizeof(*p));
		if (!p)
			return false;
		g->acc = p;
		g->cap_acc = ncap;
	}
	g->acc[g->n_acc++] = ms;
	return true;
}

/* The handle at the start of an event detail ("aino +3584... step 1 round 1"). */
static bool same_handle(const char *a, const char *b)
{
	size_t na, nb;

	if (!a || !b)
		return false;
	na = strcspn(a, " ");
	nb = strcspn(b, " ");
	return na > 0 && na == nb && strncmp(a, b, na) == 0;
}

static enum kind kind_of(const struct gw_db_report_inc *inc)
{
	if (strcmp(inc->line, CALLBACK_LINE) == 0)
		return K_CALLBACK;
	/* relay.c closes every officer SDS at once with an outcome "message ..." */
	bool message = inc->outcome ? strncmp(inc->outcome, "message ", 8) == 0
				    : (inc->text || inc->status) && inc->pages == 0;
	if (!message)
		return K_CALL;
	return inc->status ? K_STATUS : K_TEXT;
}

static void count_outcome(struct gw_report_figures *f, const char *outcome)
{
	if (!outcome)
		f->open++;
	else if (strcmp(outcome, "completed") == 0)
		f->completed++;
	else if (strcmp(outcome, "unanswered") == 0)
		f->unanswered++;
	else if (strcmp(outcome, "unstaffed") == 0)
		f->unstaffed++;
	else if (strcmp(outcome, "busy") == 0)
		f->busy++;
	else if (strcmp(outcome, "abandoned") == 0)
		f->abandoned++;
	else /* "radio lost", "interrupted", anything else */
		f->failed++;
}

/* Add one incident of kind k to f (and its accept time to g). */
static bool add(struct gw_report_figures *f, struct gw_report_group *g, enum kind k,
		const struct gw_db_report_inc *inc, int64_t within_ms)
{
	switch (k) {
	case K_TEXT:
		f->texts++;
		return true;
	case K_STATUS:
		f->statuses++;
		return true;
	case K_CALLBACK:
		f->callbacks++;
		return true;
	case K_CALL:
		break;
	}
	f->calls++;
	f->escalated += inc->pages > 1;
	count_outcome(f, inc->outcome);
	if (!inc->accepted) {
		f->by_nobody++;
		return true;
	}
	if (same_handle(inc->accepted, inc->first_page))
		f->by_first++;
	else if (same_handle(inc->accepted, inc->fallback_page))
		f->by_fallback++;
	else
		f->by_later++;
	int64_t wait = inc->accept_ms - inc->started_ms;
	if (wait < 0)
		wait = 0;
	f->accepted_within += wait <= within_ms;
	return add_acc(g, wait);
}

/* Local (Helsinki) time of t_ms as days since 1970-01-01 and ms into that day. */
static int64_t local_day(int64_t t_ms, int64_t *ms_of_day)
{
	int64_t l = t_ms + (int64_t)gw_roster_utc_offset_min(t_ms) * 60000;
	int64_t d = l / DAY_MS - (l % DAY_MS < 0);

	if (ms_of_day)
		*ms_of_day = l - d * DAY_MS;
	return d;
}

/* An authority call on the calendar: its local day (weekday x hour: the week groups). */
static void add_when(struct gw_report *r, int64_t t_ms)
{
	int64_t d = local_day(t_ms, NULL);

	if (d >= r->day0 && d - r->day0 < (int64_t)r->n_days)
		r->per_day[d - r->day0]++;
}

static void on_inc(const struct gw_db_report_inc *inc, void *arg)
{
	struct build *b = arg;
	struct gw_report *r = b->r;
	enum kind k = kind_of(inc);
	struct gw_report_group *line, *org;

	if (b->oom)
		return;
	if (!add(&r->total, &r->all, k, inc, r->within_ms)) {
		b->oom = true;
		return;
	}
	if (inc->gateway) {
		struct gw_report_group *gw = group(&r->gateways, &r->n_gateways, inc->gateway);
		if (!gw || !add(&gw->f, gw, k, inc, r->within_ms)) {
			b->oom = true;
			return;
		}
	}
	if (k == K_CALLBACK)
		return; /* no authority call: in the total only */
	if (k == K_CALL)
		add_when(r, inc->started_ms);
	line = group(&r->lines, &r->n_lines, inc->line);
	org = group(&r->orgs, &r->n_orgs, inc->caller_name ? inc->caller_name : "");
	if (!line || !org || !add(&line->f, line, k, inc, r->within_ms) ||
	    !add(&org->f, org, k, inc, r->within_ms)) {
		b->oom = true;
		return;
	}
	const struct muni *m = muni_of(b, inc->caller);
	struct gw_report_group *mg = group(&r->munis, &r->n_munis, m ? m->name : "");
	if (!mg || (m && !mg->membership && !(mg->membership = strdup(m->membership))) ||
	    !add(&mg->f, mg, k, inc, r->within_ms)) {
		b->oom = true;
		return;
	}
	int min;
	int64_t day = roster_utc_to_local_day(inc->started_ms, &min);
	struct gw_report_group *wh = &r->week[roster_weekday(day)][min / 60];
	if (!add(&wh->f, wh, k, inc, r->within_ms))
		b->oom = true;
}

/* The directory's municipalities into b, by canonical SSI. 0 or -errno. */
static int read_munis(struct gw_db *db, struct build *b, struct gw_db_roster *d)
{
	int rc = gw_db_roster_read(db, d);

	if (rc < 0)
		return rc;
	if (!(b->munis = calloc(d->n_dirs ? d->n_dirs : 1, sizeof(*b->munis))))
		return -ENOMEM;
	for (size_t i = 0; i < d->n_dirs; i++) {
		struct muni *m = &b->munis[b->n_munis];
		if (!d->dirs[i].municipality || !d->dirs[i].membership ||
		    !roster_ssi_key(d->dirs[i].issi, m->key))
			continue;
		m->name = d->dirs[i].municipality;
		m->membership = d->dirs[i].membership;
		b->n_munis++;
	}
	qsort(b->munis, b->n_munis, sizeof(*b->munis), cmp_muni);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct gw_report_group *)a)->key,
		      ((const struct gw_report_group *)b)->key);
}

/* Nearest-rank percentile p (1..100) of the sorted a[0..n), n > 0. */
static int64_t rank(const int64_t *a, size_t n, unsigned p)
{
	size_t k = (n * p + 99) / 100;
	return a[k ? k - 1 : 0];
}

static void percentiles(struct gw_report_group *g, struct gw_report_figures *f)
{
	f->accept_p50 = f->accept_p90 = f->accept_max = -1;
	if (!g->n_acc)
		return;
	qsort(g->acc, g->n_acc, sizeof(*g->acc), cmp_i64);
	f->accept_p50 = rank(g->acc, g->n_acc, 50);
	f->accept_p90 = rank(g->acc, g->n_acc, 90);
	f->accept_max = g->acc[g->n_acc - 1];
}

int gw_report_new(int64_t from_ms, int64_t to_ms, int64_t within_ms, struct gw_report **out)
{
	struct gw_report *r;

	*out = NULL;
	if (to_ms <= from_ms || within_ms < 0)
		return -EINVAL;
	int64_t day0 = local_day(from_ms, NULL), days = local_day(to_ms - 1, NULL) - day0 + 1;
	if (days > GW_REPORT_DAYS_MAX)
		return -E2BIG;
	if (!(r = calloc(1, sizeof(*r))))
		return -ENOMEM;
	r->from_ms = from_ms;
	r->to_ms = to_ms;
	r->within_ms = within_ms;
	r->day0 = day0;
	r->n_days = (size_t)days;
	if (!(r->per_day = calloc(r->n_days, sizeof(*r->per_day)))) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

int gw_report_add(struct gw_report *r, const struct gw_db_report_inc *inc)
{
	struct build b = {.r = r}; /* no directory: every caller in the "" municipality */

	on_inc(inc, &b);
	return b.oom ? -ENOMEM : 0;
}

int gw_report_build(struct gw_db *db, int64_t from_ms, int64_t to_ms, int64_t within_ms,
		    struct gw_report **out)
{
	struct gw_report *r;
	struct build b = {0};
	struct gw_db_roster dir;
	int64_t in_range = 0;
	int rc = gw_report_new(from_ms, to_ms, within_ms, &r);

	*out = NULL;
	if (rc < 0)
		return rc;
	b.r = r;
	memset(&dir, 0, sizeof(dir));
	rc = read_munis(db, &b, &dir);
	if (rc >= 0)
		rc = gw_db_report_incidents(db, from_ms, to_ms, on_inc, &b, &in_range);
	if (rc >= 0 && b.oom)
		rc = -ENOMEM;
	free(b.munis);
	gw_db_roster_clear(&dir);
	if (rc < 0) {
		gw_report_free(r);
		return rc;
	}
	gw_report_finish(r, in_range);
	*out = r;
	return 0;
}

void gw_report_finish(struct gw_report *r, int64_t in_range)
{
	r->in_range = in_range;
	percentiles(&r->all, &r->total);
	for (size_t i = 0, bin = 0; i < r->all.n_acc; i++) { /* sorted by percentiles() */
		while (r->all.acc[i] > gw_report_acc_upper_ms[bin])
			bin++;
		r->acc_bins[bin]++;
	}
	for (size_t i = 0; i < r->n_lines; i++)
		percentiles(&r->lines[i], &r->lines[i].f);
	for (size_t i = 0; i < r->n_orgs; i++)
		percentiles(&r->orgs[i], &r->orgs[i].f);
	for (size_t i = 0; i < r->n_munis; i++)
		percentiles(&r->munis[i], &r->munis[i].f);
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			percentiles(&r->week[d][h], &r->week[d][h].f);
	if (r->n_munis)
		qsort(r->munis, r->n_munis, sizeof(*r->munis), cmp_group);
	if (r->n_lines)
		qsort(r->lines, r->n_lines, sizeof(*r->lines), cmp_group);
	if (r->n_orgs)
		qsort(r->orgs, r->n_orgs, sizeof(*r->orgs), cmp_group);
	for (size_t i = 0; i < r->n_gateways; i++)
		percentiles(&r->gateways[i], &r->gateways[i].f);
	if (r->n_gateways)
		qsort(r->gateways, r->n_gateways, sizeof(*r->gateways), cmp_group);
}

int gw_db_report(struct gw_db *db, int64_t from_ms, int64_t to_ms, int64_t within_ms,
		 gw_db_report_fn fn, void *arg)
{
	struct gw_report *r;
	int rc = gw_report_build(db, from_ms, to_ms, within_ms, &r), rows = 0;

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct gw_report_figures *f = &r->lines[i].f;
		struct gw_db_report_row row = {
		    .line = r->lines[i].key,
		    .calls = f->calls,
		    .answered = f->by_first + f->by_later + f->by_fallback,
		    .answered_within = f->accepted_within,
		    .escalated = f->escalated,
		    .unanswered = f->unanswered + f->unstaffed,
		    .busy = f->busy,
		    .abandoned = f->abandoned,
		};
		if (!f->calls)
			continue; /* texts or statuses only */
		fn(&row, arg);
		rows++;
	}
	gw_report_free(r);
	return rows;
}

int64_t gw_report_counted(const struct gw_report *r)
{
	const struct gw_report_figures *f = &r->total;
	return f->calls + f->texts + f->statuses + f->callbacks;
}

static bool figures_add_up(const struct gw_report_figures *f)
{
	return f->completed + f->unanswered + f->unstaffed + f->busy + f->abandoned + f->failed +
		       f->open ==
		   f->calls &&
	       f->by_first + f->by_later + f->by_fallback + f->by_nobody == f->calls;
}

/* The groups' figures add up to the total's (every incident in one line and one org). */
static bool groups_add_up(const struct gw_report_group *g, size_t n,
			  const struct gw_report_figures *t)
{
	int64_t calls = 0, texts = 0, statuses = 0;

	for (size_t i = 0; i < n; i++) {
		if (!figures_add_up(&g[i].f))
			return false;
		calls += g[i].f.calls;
		texts += g[i].f.texts;
		statuses += g[i].f.statuses;
	}
	return calls == t->calls && texts == t->texts && statuses == t->statuses;
}

/* The per-day counts and the accept bins add up to the calls and the accepted calls. */
static bool charts_add_up(const struct gw_report *r)
{
	const struct gw_report_figures *t = &r->total;
	int64_t days = 0, acc = 0;

	for (size_t i = 0; i < r->n_days; i++)
		days += r->per_day[i];
	for (int i = 0; i < GW_REPORT_ACC_BINS; i++)
		acc += r->acc_bins[i];
	return days == t->calls && acc == t->by_first + t->by_later + t->by_fallback;
}

bool gw_report_balanced(const struct gw_report *r)
{
	return gw_report_counted(r) == r->in_range && figures_add_up(&r->total) &&
	       charts_add_up(r) && groups_add_up(r->lines, r->n_lines, &r->total) &&
	       groups_add_up(r->orgs, r->n_orgs, &r->total) &&
	       groups_add_up(r->munis, r->n_munis, &r->total) &&
	       groups_add_up(&r->week[0][0], 7 * 24, &r->total) &&
	       (!r->n_gateways || groups_add_up(r->gateways, r->n_gateways, &r->total));
}

void gw_report_free(struct gw_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_lines; i++) {
		free(r->lines[i].key);
		free(r->lines[i].acc);
	}
	for (size_t i = 0; i < r->n_orgs; i++) {
		free(r->orgs[i].key);
		free(r->orgs[i].acc);
	}
	for (size_t i = 0; i < r->n_munis; i++) {
		free(r->munis[i].key);
		free(r->munis[i].membership);
		free(r->munis[i].acc);
	}
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			free(r->week[d][h].acc);
	for (size_t i = 0; i < r->n_gateways; i++) {
		free(r->gateways[i].key);
		free(r->gateways[i].acc);
	}
	free(r->gateways);
	free(r->lines);
	free(r->orgs);
	free(r->munis);
	free(r->all.acc);
	free(r->per_day);
	free(r);
}

/* ---- writers ------------------------------------------------------------------------- */

/* Local time (the roster's zone) of t_ms in ISO 8601 with its offset,
   "YYYY-MM-DDTHH:MM+02:00": the offset tells apart the hour that repeats in autumn. */
static void local_time(int64_t t_ms, char *buf, size_t len)
{
	int off = gw_roster_utc_offset_min(t_ms);
	time_t t = (time_t)((t_ms + (int64_t)off * 60000) / 1000);
	struct tm tm;
	int a = off < 0 ? -off : off;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, off < 0 ? '-' : '+', a / 60, a % 60);
}

/* Milliseconds as seconds with one decimal (rounded), or "" (none: ms < 0). */
static void secs(int64_t ms, char *buf, size_t len)
{
	int64_t tenths = (ms + 50) / 100;

	if (ms < 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
}

/* A name for a terminal: control characters shown as '?'. */
static void put_plain(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static const char *line_label(const struct gw_report_group *g)
{
	return *g->key ? g->key : "-";
}

static const char *line_name(const struct gw_report_group *g, const struct gw_roster *names)
{
	const char *n = names && *g->key ? gw_roster_line_name(names, g->key) : NULL;
	return *g->key ? (n ? n : "") : "(no line)";
}

static const char *org_label(const struct gw_report_group *g)
{
	return *g->key ? g->key : "(not in the directory)";
}

static const char *muni_label(const struct gw_report_group *g)
{
	if (!*g->key)
		return "(no municipality)";
	return strcmp(g->membership, "member") == 0 ? "member municipality"
						    : "contract municipality";
}

static const char *const day_keys[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* Whether a weekday-hour had any incident (only those are written). */
static bool wh_used(const struct gw_report_group *g)
{
	return g->f.calls || g->f.texts || g->f.statuses;
}

#define N_COLS 19
static const char *const col_names[N_COLS] = {
    "calls",	       "completed",    "unanswered",   "unstaffed",    "busy",	   "abandoned",
    "failed",	       "open",	       "first_worker", "later_step",   "fallback", "nobody",
    "accepted_within", "accept_p50_s", "accept_p90_s", "accept_max_s", "texts",	   "statuses",
    "callbacks",
};

/* The figures as text, column by column (seconds with a decimal, "" when none). */
static void cols(const struct gw_report_figures *f, char v[N_COLS][24])
{
	const int64_t n[N_COLS] = {f->calls,
				   f->completed,
				   f->unanswered,
				   f->unstaffed,
				   f->busy,
				   f->abandoned,
				   f->failed,
				   f->open,
				   f->by_first,
				   f->by_later,
				   f->by_fallback,
				   f->by_nobody,
				   f->accepted_within,
				   0,
				   0,
				   0,
				   f->texts,
				   f->statuses,
				   f->callbacks};
	for (int i = 0; i < N_COLS; i++)
		snprintf(v[i], sizeof(v[i]), "%" PRId64, n[i]);
	secs(f->accept_p50, v[13], sizeof(v[13]));
	secs(f->accept_p90, v[14], sizeof(v[14]));
	secs(f->accept_max, v[15], sizeof(v[15]));
}

/* A CSV field (RFC 4180), with a leading =, +, -, @, tab or CR defused by a quote mark. */
static void csv_field(FILE *f, const char *s, bool last)
{
	bool formula = strchr("=+-@\t\r", s[0]) && s[0];
	bool quote = formula || strpbrk(s, ",\"\r\n");

	if (quote)
		fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
	fputs(last ? "\r\n" : ",", f);
}

static void csv_row(FILE *f, const char *scope, const char *key, const char *name,
		    const struct gw_report_figures *fig)
{
	char v[N_COLS][24];

	cols(fig, v);
	csv_field(f, scope, false);
	csv_field(f, key, false);
	csv_field(f, name, false);
	for (int i = 0; i < N_COLS; i++)
		csv_field(f, v[i], i == N_COLS - 1);
}

static void write_csv(const struct gw_report *r, const struct gw_roster *names, FILE *f)
{
	char from[64], to[64];

	local_time(r->from_ms, from, sizeof(from));
	local_time(r->to_ms, to, sizeof(to));
	fputs("from,to,scope,key,name", f);
	for (int i = 0; i < N_COLS; i++) {
		if (i == 12)
			fprintf(f, ",accepted_within_%" PRId64 "s", r->within_ms / 1000);
		else
			fprintf(f, ",%s", col_names[i]);
	}
	fputs("\r\n", f);
	fprintf(f, "%s,%s,", from, to);
	csv_row(f, "total", "", "", &r->total);
	for (size_t i = 0; i < r->n_lines; i++) {
		fprintf(f, "%s,%s,", from, to);
		csv_row(f, "line", line_label(&r->lines[i]), line_name(&r->lines[i], names),
			&r->lines[i].f);
	}
	for (size_t i = 0; i < r->n_orgs; i++) {
		fprintf(f, "%s,%s,", from, to);
		csv_row(f, "organisation", r->orgs[i].key, org_label(&r->orgs[i]), &r->orgs[i].f);
	}
	for (size_t i = 0; i < r->n_munis; i++) {
		fprintf(f, "%s,%s,", from, to);
		csv_row(f, "municipality", r->munis[i].key, muni_label(&r->munis[i]),
			&r->munis[i].f);
	}
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++) {
			char key[16], name[32];
			if (!wh_used(&r->week[d][h]))
				continue;
			snprintf(key, sizeof(key), "%s %02d", day_keys[d], h);
			snprintf(name, sizeof(name), "%s %02d:00-%02d:59", day_keys[d], h, h);
			fprintf(f, "%s,%s,", from, to);
			csv_row(f, "weekday_hour", key, name, &r->week[d][h].f);
		}
	for (size_t i = 0; i < r->n_gateways; i++) {
		fprintf(f, "%s,%s,", from, to);
		csv_row(f, "gateway", r->gateways[i].key, "", &r->gateways[i].f);
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_figures(FILE *f, const struct gw_report_figures *fig)
{
	char v[N_COLS][24];

	cols(fig, v);
	for (int i = 0; i < N_COLS; i++)
		fprintf(f, ",\"%s\":%s", col_names[i], *v[i] ? v[i] : "null");
}

static void write_json(const struct gw_report *r, const struct gw_roster *names, FILE *f)
{
	char from[64], to[64];

	local_time(r->from_ms, from, sizeof(from));
	local_time(r->to_ms, to, sizeof(to));
	fprintf(f,
		"{\"from\":\"%s\",\"to\":\"%s\",\"within_s\":%" PRId64
		",\"check\":{\"incidents\":%" PRId64 ",\"counted\":%" PRId64
		",\"ok\":%s},\"total\":{\"scope\":\"total\"",
		from, to, r->within_ms / 1000, r->in_range, gw_report_counted(r),
		gw_report_balanced(r) ? "true" : "false");
	json_figures(f, &r->total);
	fputs("},\"lines\":[", f);
	for (size_t i = 0; i < r->n_lines; i++) {
		fputs(i ? ",{\"line\":" : "{\"line\":", f);
		json_str(f, r->lines[i].key);
		fputs(",\"name\":", f);
		json_str(f, line_name(&r->lines[i], names));
		json_figures(f, &r->lines[i].f);
		fputc('}', f);
	}
	fputs("],\"organisations\":[", f);
	for (size_t i = 0; i < r->n_orgs; i++) {
		fputs(i ? ",{\"organisation\":" : "{\"organisation\":", f);
		json_str(f, r->orgs[i].key);
		json_figures(f, &r->orgs[i].f);
		fputc('}', f);
	}
	fputs("],\"municipalities\":[", f);
	for (size_t i = 0; i < r->n_munis; i++) {
		fputs(i ? ",{\"municipality\":" : "{\"municipality\":", f);
		json_str(f, r->munis[i].key);
		fputs(",\"membership\":", f);
		if (r->munis[i].membership)
			json_str(f, r->munis[i].membership);
		else
			fputs("null", f);
		json_figures(f, &r->munis[i].f);
		fputc('}', f);
	}
	fputs("],\"weekday_hours\":[", f);
	bool first = true;
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++) {
			if (!wh_used(&r->week[d][h]))
				continue;
			fprintf(f, "%s{\"weekday\":\"%s\",\"hour\":%d", first ? "" : ",",
				day_keys[d], h);
			json_figures(f, &r->week[d][h].f);
			fputc('}', f);
			first = false;
		}
	fputc(']', f);
	if (r->n_gateways) {
		fputs(",\"gateways\":[", f);
		for (size_t i = 0; i < r->n_gateways; i++) {
			fputs(i ? ",{\"gateway\":" : "{\"gateway\":", f);
			json_str(f, r->gateways[i].key);
			json_figures(f, &r->gateways[i].f);
			fputc('}', f);
		}
		fputc(']', f);
	}
	fputs("}\n", f);
}

#define LABEL_W 38 /* columns for a line's or an organisation's name in the text tables */

/* Characters (code points) in UTF-8 text: what a terminal gives them. */
static size_t utf8_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

enum table { TABLE_LINES, TABLE_ORGS, TABLE_MUNIS, TABLE_GATEWAYS };

static void text_table(FILE *f, const char *title, const struct gw_report_group *g, size_t n,
		       enum table which, const struct gw_roster *names)
{
	static const char *const heads[] = {"LINE", "ORGANISATION", "MUNICIPALITY", "GATEWAY"};
	bool lines = which == TABLE_LINES;
	char v[N_COLS][24];

	fprintf(f,
		"\n%s\n%-38s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %7s %7s %7s %5s %5s\n",
		title, heads[which], "CALLS", "COMPL", "UNANS", "UNSTF", "BUSY", "ABAND", "FAIL",
		"OPEN", "FIRST", "LATER", "FALLB", "NOBDY", "P50 S", "P90 S", "MAX S", "TEXTS",
		"STATS");
	for (size_t i = 0; i < n; i++) {
		char label[160];
		cols(&g[i].f, v);
		if (lines)
			snprintf(label, sizeof(label), "%s %s", line_label(&g[i]),
				 line_name(&g[i], names));
		else if (which == TABLE_MUNIS)
			snprintf(label, sizeof(label), "%s%s%s%s", g[i].key, *g[i].key ? " (" : "",
				 *g[i].key ? g[i].membership : "(no municipality)",
				 *g[i].key ? ")" : "");
		else
			snprintf(label, sizeof(label), "%s",
				 which == TABLE_ORGS ? org_label(&g[i]) : g[i].key);
		put_plain(f, label);
		for (size_t k = utf8_width(label); k < LABEL_W; k++)
			fputc(' ', f);
		for (int k = 0; k < 12; k++)
			fprintf(f, " %5s", v[k]);
		fprintf(f, " %7s %7s %7s %5s %5s\n", *v[13] ? v[13] : "-", *v[14] ? v[14] : "-",
			*v[15] ? v[15] : "-", v[16], v[17]);
	}
}

static void write_text(const struct gw_report *r, const struct gw_roster *names, FILE *f)
{
	const struct gw_report_figures *t = &r->total;
	char from[64], to[64], v[N_COLS][24];

	local_time(r->from_ms, from, sizeof(from));
	local_time(r->to_ms, to, sizeof(to));
	cols(t, v);
	fprintf(f, "report %s .. %s (%s)\n", from, to, gw_roster_timezone(NULL));
	fprintf(f,
		"authority calls: %" PRId64 "\n"
		"  outcome: completed %" PRId64 ", unanswered %" PRId64 ", unstaffed %" PRId64
		", busy %" PRId64 ", abandoned by the officer %" PRId64 ", failed %" PRId64
		", open %" PRId64 "\n"
		"  taken by: first worker %" PRId64 ", a later step %" PRId64 ", fallback %" PRId64
		", nobody %" PRId64 "\n",
		t->calls, t->completed, t->unanswered, t->unstaffed, t->busy, t->abandoned,
		t->failed, t->open, t->by_first, t->by_later, t->by_fallback, t->by_nobody);
	if (t->accept_max >= 0)
		fprintf(f,
			"  time to accept: p50 %s s, p90 %s s, max %s s; within %" PRId64
			" s: %" PRId64 "\n",
			v[13], v[14], v[15], r->within_ms / 1000, t->accepted_within);
	else
		fputs("  time to accept: no call was accepted\n", f);
	fprintf(f, "texts: %" PRId64 ", statuses: %" PRId64 ", call-backs: %" PRId64 "\n", t->texts,
		t->statuses, t->callbacks);
	fprintf(f,
		"check: %" PRId64 " incidents in the range, counted %" PRId64 " (%" PRId64
		" calls + %" PRId64 " texts + %" PRId64 " statuses + %" PRId64 " call-backs): %s\n",
		r->in_range, gw_report_counted(r), t->calls, t->texts, t->statuses, t->callbacks,
		gw_report_balanced(r) ? "ok" : "MISMATCH");
	if (r->n_lines)
		text_table(f, "per line:", r->lines, r->n_lines, TABLE_LINES, names);
	if (r->n_orgs)
		text_table(f, "per caller organisation:", r->orgs, r->n_orgs, TABLE_ORGS, names);
	if (r->n_munis)
		text_table(f, "per municipality:", r->munis, r->n_munis, TABLE_MUNIS, names);
	if (r->n_gateways)
		text_table(f, "per gateway:", r->gateways, r->n_gateways, TABLE_GATEWAYS, names);
	if (!t->calls)
		return;
	fprintf(f, "\nauthority calls per weekday and hour (%s):\n    ", gw_roster_timezone(NULL));
	for (int h = 0; h < 24; h++)
		fprintf(f, " %3d", h);
	for (int d = 0; d < 7; d++) {
		fprintf(f, "\n%s ", day_keys[d]);
		for (int h = 0; h < 24; h++)
			fprintf(f, " %3" PRId64, r->week[d][h].f.calls);
	}
	fputc('\n', f);
}

int gw_report_write(const struct gw_report *r, const struct gw_roster *names,
		    enum gw_report_format fmt, FILE *f)
{
	switch (fmt) {
	case GW_REPORT_CSV:
		write_csv(r, names, f);
		break;
	case GW_REPORT_JSON:
		write_json(r, names, f);
		break;
	default:
		write_text(r, names, f);
		break;
	}
	if (fflush(f) != 0 || ferror(f))
		return -(errno ? errno : EIO);
	return 0;
}
