/*
 * roster_check: the roster CSV's checks: each field of each record kind (the roster_f_*
 * checks that the kind tables of roster_fields.c name; override and pattern rows by
 * hand), then the cross-row checks (unknown line or worker, duplicates, overlapping
 * shifts) once the whole file is read, so the file's row order is free. Every error names
 * file:line.
 */
#include "store/roster_priv.h"

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

bool roster_digits_ok(const char *s, size_t min, size_t max)
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

	if (!*s || roster_is_blank(*s))
		return false;
	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return false;
	*v = (int)x;
	return true;
}

/* A phone number must have an E.164 form (core/e164.h), or no SMS or call could match it. */
static bool phone_ok(const char *s)
{
	char e164[GW_E164_MAX];
	return gw_e164_canon(s, e164) > 0;
}

/* Each row parser returns false after reporting the first problem of its row. */
static bool need_text(struct parser *ps, const char *what, const char *s)
{
	if (!*s) {
		roster_report(ps, ps->recline, "%s is empty", what);
		return false;
	}
	if (strlen(s) > 200) {
		roster_report(ps, ps->recline, "%s is longer than 200 bytes", what);
		return false;
	}
	return true;
}

static bool need_code(struct parser *ps, const char *what, const char *s)
{
	if (code_ok(s, 16, "_-"))
		return true;
	roster_report(ps, ps->recline, "bad %s '%s' (1-16 letters, digits, '_' or '-')", what, s);
	return false;
}

static bool need_handle(struct parser *ps, const char *s)
{
	if (code_ok(s, 32, "._-"))
		return true;
	roster_report(ps, ps->recline,
		      "bad worker handle '%s' (1-32 letters, digits, '.', '_' or '-')", s);
	return false;
}

/* A roster time: Helsinki wall clock, UTC, or an offset checked against the zone. */
static bool need_time(struct parser *ps, const char *what, const char *s, int64_t *ms)
{
	char why[240];
	int rc = gw_roster_parse_local_time(s, ms, why, sizeof(why));

	if (rc == 0)
		return true;
	if (rc == -ERANGE)
		roster_report(ps, ps->recline, "%s %s", what, why);
	else
		roster_report(ps, ps->recline,
			      "bad %s time '%s' (want e.g. 2026-01-01T08:00, Helsinki time)", what,
			      s);
	return false;
}

/* Checks shared with rinkictl (worker add, override add); why gets the first problem. */
__attribute__((format(printf, 3, 4))) int roster_bad(char *why, size_t len, const char *fmt, ...)
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
		return roster_bad(why, len,
				  "bad worker handle '%s' (1-32 letters, digits, '.', '_' or "
				  "'-')",
				  w->handle ? w->handle : "");
	if (!w->name || !*w->name || strlen(w->name) > 200 || !roster_text_ok(w->name))
		return roster_bad(why, len, "bad name (1-200 bytes of UTF-8 text)");
	if (!w->phone || !phone_ok(w->phone))
		return roster_bad(
		    why, len,
		    "bad phone number '%s' (+ and 3-15 digits, or 0 and a Finnish number)",
		    w->phone ? w->phone : "");
	if (w->issi && *w->issi) {
		if (!roster_ssi_key(w->issi, issi) || strcmp(issi, "0") == 0)
			return roster_bad(why, len, "bad ISSI '%s' (1-8 digits or a 17-digit TSI)",
					  w->issi);
		strcpy(w->issi, issi); /* never longer */
	}
	if (w->lang && !roster_lang_ok(w->lang))
		return roster_bad(why, len, "bad language '%s' (fi, sv or en)", w->lang);
	return 0;
}

int gw_roster_check_override(const struct gw_db_override *o, char *why, size_t len)
{
	bool add = o->kind && strcmp(o->kind, "add") == 0;
	bool replace = o->kind && strcmp(o->kind, "replace") == 0;

	if (!add && !replace && !(o->kind && strcmp(o->kind, "remove") == 0))
		return roster_bad(why, len, "bad override kind '%s' (add, remove or replace)",
				  o->kind ? o->kind : "");
	if (o->line && !code_ok(o->line, 16, "_-"))
		return roster_bad(why, len, "bad line code '%s'", o->line);
	if (add && !o->line)
		return roster_bad(why, len, "an add override needs a line");
	if (!o->worker || !code_ok(o->worker, 32, "._-"))
		return roster_bad(why, len, "bad worker handle '%s'", o->worker ? o->worker : "");
	if (replace && (!o->by || !code_ok(o->by, 32, "._-")))
		return roster_bad(why, len,
				  "a replace override needs the handle of the substitute");
	if (!replace && o->by)
		return roster_bad(why, len, "only a replace override names a substitute");
	if (replace && strcmp(o->by, o->worker) == 0)
		return roster_bad(why, len, "a worker cannot replace themselves ('%s')", o->worker);
	if (o->end_ms <= o->start_ms)
		return roster_bad(why, len, "override must end after it starts");
	if (add ? o->position < 1 || o->position > 99 : o->position != 0)
		return roster_bad(why, len, "bad position %d (add: 1-99, others: none)",
				  o->position);
	return 0;
}

/* The optional TEMP_ROSTER field f[i] of a shift or rotation: 1 none, 0 ok, -1 reported. */
static int temp_field(struct parser *ps, char **f, int n, int i)
{
	if (n <= i || !*f[i])
		return 1;
	if (code_ok(f[i], 32, "._-"))
		return 0;
	roster_report(ps, ps->recline,
		      "bad temporary roster name '%s' (1-32 letters, digits, '.', '_' or '-')",
		      f[i]);
	return -1;
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
void roster_days_format(int mask, char *buf, size_t len)
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

void roster_route_cond_format(const struct gw_db_route *rt, struct route_cond_text *t)
{
	roster_days_format(rt->days, t->days, sizeof(t->days));
	t->window[0] = t->status[0] = '\0';
	if (rt->window)
		snprintf(t->window, sizeof(t->window), "%02d:%02d-%02d:%02d", rt->from_min / 60,
			 rt->from_min % 60, rt->to_min / 60, rt->to_min % 60);
	snprintf(t->holidays, sizeof(t->holidays), "%s",
		 rt->holidays == GW_DB_ROUTE_HOL_ANY ? "" : hol_names[rt->holidays]);
	if (rt->has_status)
		snprintf(t->status, sizeof(t->status), "%d", rt->status);
}

bool roster_route_has_cond(const struct gw_db_route *rt)
{
	return rt->days || rt->window || rt->holidays || rt->has_status;
}

static bool need_date(struct parser *ps, const char *what, const char *s)
{
	int64_t day;

	if (roster_parse_date(s, &day))
		return true;
	roster_report(ps, ps->recline, "bad %s date '%s' (want YYYY-MM-DD)", what, s);
	return false;
}

static bool need_ring(struct parser *ps, const char *s, int *ring_s)
{
	*ring_s = 0;
	if (!*s || int_ok(s, GW_ROSTER_RING_MIN_S, GW_ROSTER_RING_MAX_S, ring_s))
		return true;
	roster_report(ps, ps->recline,
		      "bad ring time '%s' (empty for the default, or %d-%d seconds)", s,
		      GW_ROSTER_RING_MIN_S, GW_ROSTER_RING_MAX_S);
	return false;
}

static bool need_rotation_name(struct parser *ps, const char *s)
{
	if (code_ok(s, 32, "._-"))
		return true;
	roster_report(ps, ps->recline,
		      "bad rotation name '%s' (1-32 letters, digits, '.', '_' or '-')", s);
	return false;
}

/* ---- the field checks of the kind tables (roster_fields.c) --------------------------- */

static void put_str(const struct roster_field *fd, void *row, char *s)
{
	*(char **)((char *)row + fd->off) = s;
}

static void put_int(const struct roster_field *fd, void *row, int v)
{
	if (fd->store == RF_BOOL)
		*(bool *)((char *)row + fd->off) = v != 0;
	else
		*(int *)((char *)row + fd->off) = v;
}

bool roster_f_code(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	if (!need_code(ps, fd->what, s))
		return false;
	put_str(fd, row, s);
	return true;
}

/* A worker handle, rotation or temporary roster name: 1-32 of [A-Za-z0-9._-]. */
bool roster_f_name(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	if (!code_ok(s, 32, "._-")) {
		roster_report(ps, ps->recline,
			      "bad %s '%s' (1-32 letters, digits, '.', '_' or '-')", fd->what, s);
		return false;
	}
	put_str(fd, row, s);
	return true;
}

bool roster_f_text(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	if (!need_text(ps, fd->what, s))
		return false;
	put_str(fd, row, s);
	return true;
}

bool roster_f_phone(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	if (!phone_ok(s)) {
		roster_report(
		    ps, ps->recline,
		    "bad phone number '%s' (+ and 3-15 digits, or 0 and a Finnish number)", s);
		return false;
	}
	put_str(fd, row, s);
	return true;
}

/* An ISSI or TSI, kept as its SSI without leading zeros (written over s). */
bool roster_f_issi(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	char issi[SSI_DIGITS + 1];

	if (!roster_ssi_key(s, issi) || strcmp(issi, "0") == 0) {
		roster_report(ps, ps->recline, "bad ISSI '%s' (1-8 digits or a 17-digit TSI)", s);
		return false;
	}
	strcpy(s, issi); /* never longer */
	put_str(fd, row, s);
	return true;
}

bool roster_f_int(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	int v;

	if (!int_ok(s, fd->min, fd->max, &v)) {
		roster_report(ps, ps->recline, fd->bad, s);
		return false;
	}
	put_int(fd, row, v);
	return true;
}

bool roster_f_lang(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	if (!roster_lang_ok(s)) {
		roster_report(ps, ps->recline, "bad language '%s' (fi, sv or en)", s);
		return false;
	}
	put_str(fd, row, s);
	return true;
}

bool roster_f_date(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	if (!need_date(ps, fd->what, s))
		return false;
	put_str(fd, row, s);
	return true;
}

bool roster_f_time(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	return need_time(ps, fd->what, s, (int64_t *)((char *)row + fd->off));
}

bool roster_f_hhmm(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	int min;

	if (!roster_parse_hhmm(s, &min)) {
		roster_report(ps, ps->recline, fd->bad, s);
		return false;
	}
	put_int(fd, row, min);
	return true;
}

bool roster_f_oneof(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	for (const char *const *w = fd->oneof; *w; w++)
		if (strcmp(s, *w) == 0) {
			put_str(fd, row, s);
			return true;
		}
	roster_report(ps, ps->recline, fd->bad, s);
	return false;
}

bool roster_f_ring(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	int ring;

	if (!need_ring(ps, s, &ring))
		return false;
	put_int(fd, row, ring);
	return true;
}

/* A route's caller prefix: up to 8 digits, not starting with 0 (empty: everyone). */
bool roster_f_prefix(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	if (!roster_digits_ok(s, 0, SSI_DIGITS) || s[0] == '0') {
		roster_report(
		    ps, ps->recline,
		    "bad caller prefix '%s' (empty or up to 8 digits, not starting with 0)", s);
		return false;
	}
	put_str(fd, row, s);
	return true;
}

bool roster_f_days(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	int days = parse_days(s);

	if (days <= 0) {
		roster_report(ps, ps->recline,
			      "bad days '%s' (e.g. mon-fri, sat+sun; empty: every day)", s);
		return false;
	}
	put_int(fd, row, days);
	return true;
}

/* A route's window HH:MM-HH:MM: sets window, from_min and to_min (fd is from_min's). */
bool roster_f_window(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	struct gw_db_route *c = row;
	char from[8], to[8];

	(void)fd;
	if (strlen(s) != 11 || s[5] != '-' ||
	    (memcpy(from, s, 5), from[5] = '\0', !roster_parse_hhmm(from, &c->from_min)) ||
	    (memcpy(to, s + 6, 5), to[5] = '\0', !roster_parse_hhmm(to, &c->to_min)) ||
	    c->from_min == c->to_min) {
		roster_report(ps, ps->recline,
			      "bad window '%s' (HH:MM-HH:MM local time, e.g. 16:00-08:00; empty: "
			      "all day)",
			      s);
		return false;
	}
	c->window = true;
	return true;
}

/* A line's office hours HH:MM-HH:MM within one day: sets office, office_from and office_to. */
bool roster_f_office(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	struct gw_db_line *l = row;
	char from[8], to[8];

	(void)fd;
	if (strlen(s) != 11 || s[5] != '-' ||
	    (memcpy(from, s, 5), from[5] = '\0', !roster_parse_hhmm(from, &l->office_from)) ||
	    (memcpy(to, s + 6, 5), to[5] = '\0',
	     !roster_parse_hhmm(to, &l->office_to) && strcmp(to, "24:00") != 0)) {
		roster_report(ps, ps->recline, "bad office hours '%s' (HH:MM-HH:MM local time)", s);
		return false;
	}
	if (strcmp(to, "24:00") == 0)
		l->office_to = 1440;
	if (l->office_to <= l->office_from) {
		roster_report(ps, ps->recline,
			      "office hours '%s' must end after they start on the same day", s);
		return false;
	}
	l->office = true;
	return true;
}

bool roster_f_holidays(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	for (int h = 2; h >= 0; h--)
		if (strcmp(s, hol_names[h]) == 0) {
			put_int(fd, row, h);
			return true;
		}
	roster_report(ps, ps->recline, "bad holidays '%s' (any, only or except)", s);
	return false;
}

/* A route's SDS status code: sets status and has_status. */
bool roster_f_status(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	struct gw_db_route *c = row;

	(void)fd;
	if (!int_ok(s, 0, 65535, &c->status)) {
		roster_report(ps, ps->recline, "bad status code '%s' (0-65535; empty: any)", s);
		return false;
	}
	c->has_status = true;
	return true;
}

/* A chain step's WHO: a worker handle for a "person" step, else a line code. */
bool roster_f_step_who(struct parser *ps, const struct roster_field *fd, char *s, void *row)
{
	const struct gw_db_chain_step *c = row;

	if (strcmp(c->kind, "person") == 0 ? !need_handle(ps, s) : !need_code(ps, "line code", s))
		return false;
	put_str(fd, row, s);
	return true;
}

bool roster_check_shift(struct parser *ps, const void *row, char **f, int n)
{
	const struct gw_db_shift *s = row;

	(void)n;
	if (s->end_ms > s->start_ms)
		return true;
	roster_report(ps, ps->recline, "shift must end after it starts (%s, %s)", f[3], f[4]);
	return false;
}

/* A directory entry's municipality and membership: both or neither. */
bool roster_check_dir(struct parser *ps, const void *row, char **f, int n)
{
	const struct gw_db_dir *d = row;

	(void)f;
	(void)n;
	if (!d->municipality == !d->membership)
		return true;
	roster_report(ps, ps->recline,
		      "directory %s: a municipality needs member or contract, and the other way "
		      "round",
		      d->issi);
	return false;
}

/* Office days, hours and the after-hours line: all three or none, and another line. */
bool roster_check_line(struct parser *ps, const void *row, char **f, int n)
{
	const struct gw_db_line *l = row;
	int set = (l->office_days != 0) + l->office + (l->after_line != NULL);

	(void)f;
	(void)n;
	if (set != 0 && set != 3) {
		roster_report(ps, ps->recline,
			      "line %s: office days, office hours and after-hours line go together "
			      "(all three or none)",
			      l->code);
		return false;
	}
	if (l->after_line && strcmp(l->after_line, l->code) == 0) {
		roster_report(ps, ps->recline, "line %s cannot be its own after-hours line",
			      l->code);
		return false;
	}
	return true;
}

bool roster_check_rotation(struct parser *ps, const void *row, char **f, int n)
{
	const struct gw_db_rotation *x = row;
	int64_t d0, d1;

	(void)f;
	(void)n;
	roster_parse_date(x->start_date, &d0);
	if (!x->end_date || (roster_parse_date(x->end_date, &d1) && d1 > d0))
		return true;
	roster_report(ps, ps->recline, "rotation must end after it starts (%s, %s)", x->start_date,
		      x->end_date);
	return false;
}

bool roster_check_temp(struct parser *ps, const void *row, char **f, int n)
{
	const struct gw_db_temp *x = row;
	int64_t d0, d1;

	(void)f;
	(void)n;
	roster_parse_date(x->from_date, &d0);
	roster_parse_date(x->to_date, &d1);
	if (d1 > d0)
		return true;
	roster_report(ps, ps->recline, "temporary roster must end after it starts (%s, %s)",
		      x->from_date, x->to_date);
	return false;
}

/* ---- shift patterns ------------------------------------------------------------------ */

static int cmp_pshift(const void *a, const void *b)
{
	return ((const struct pattern_shift *)a)->start_min -
	       ((const struct pattern_shift *)b)->start_min;
}

/*
 * Read a pattern's SHIFTS ("D=07:00 N=19:00", "W=08:00-16:00") and CYCLE ("D D N N - -")
 * into *p: shift names 1-8 letters or digits, distinct starts; a shift without an end
 * lasts until the next shift's start (the first one's the next day; a single shift: 24 h);
 * cycle tokens are shift names or "-", 1-366 of them. Returns 0 or -EINVAL (why says).
 */
int roster_pattern_parse(const char *cycle, const char *shifts, struct pattern *p, char *why,
			 size_t len)
{
	char buf[512], *save, *tok;

	memset(p, 0, sizeof(*p));
	if (strlen(shifts) >= sizeof(buf))
		return roster_bad(why, len, "shifts too long");
	snprintf(buf, sizeof(buf), "%s", shifts);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '='), from[6], to[6];
		struct pattern_shift *x = &p->shift[p->n_shifts];
		size_t nl = eq ? (size_t)(eq - tok) : 0;
		if (p->n_shifts == PATTERN_MAX_SHIFTS)
			return roster_bad(why, len, "more than %d shifts", PATTERN_MAX_SHIFTS);
		if (!eq || nl == 0 || nl > 8 || (strlen(eq + 1) != 5 && strlen(eq + 1) != 11))
			return roster_bad(why, len,
					  "bad shift '%s' (NAME=HH:MM or NAME=HH:MM-HH:MM, local "
					  "time)",
					  tok);
		*eq = '\0';
		if (!code_ok(tok, 8, ""))
			return roster_bad(why, len, "bad shift name '%s' (1-8 letters or digits)",
					  tok);
		memcpy(from, eq + 1, 5);
		from[5] = '\0';
		x->end_min = -1;
		if (!roster_parse_hhmm(from, &x->start_min) ||
		    (eq[6] && (eq[6] != '-' || (memcpy(to, eq + 7, 5), to[5] = '\0',
						!roster_parse_hhmm(to, &x->end_min)))))
			return roster_bad(why, len, "bad shift time in '%s=%s' (HH:MM[-HH:MM])",
					  tok, eq + 1);
		if (x->end_min >= 0 && x->end_min <= x->start_min)
			x->end_min += 1440; /* ends the next day */
		snprintf(x->name, sizeof(x->name), "%s", tok);
		for (int i = 0; i < p->n_shifts; i++)
			if (strcmp(p->shift[i].name, x->name) == 0 ||
			    p->shift[i].start_min == x->start_min)
				return roster_bad(why, len,
						  "shifts %s and %s: the same name or start time",
						  p->shift[i].name, x->name);
		p->n_shifts++;
	}
	if (p->n_shifts == 0)
		return roster_bad(why, len, "no shifts (e.g. D=07:00 N=19:00)");
	qsort(p->shift, (size_t)p->n_shifts, sizeof(p->shift[0]), cmp_pshift);
	for (int i = 0; i < p->n_shifts; i++)
		if (p->shift[i].end_min < 0)
			p->shift[i].end_min = i + 1 < p->n_shifts ? p->shift[i + 1].start_min
								  : p->shift[0].start_min + 1440;
	if (strlen(cycle) >= sizeof(buf))
		return roster_bad(why, len, "cycle longer than %d days", PATTERN_MAX_DAYS);
	snprintf(buf, sizeof(buf), "%s", cycle);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		int k = -1;
		if (p->days == PATTERN_MAX_DAYS)
			return roster_bad(why, len, "cycle longer than %d days", PATTERN_MAX_DAYS);
		for (int i = 0; i < p->n_shifts && k < 0; i++)
			if (strcmp(p->shift[i].name, tok) == 0)
				k = i;
		if (k < 0 && strcmp(tok, "-") != 0)
			return roster_bad(
			    why, len, "cycle day %d is '%s': not a shift of this pattern or '-'",
			    p->days + 1, tok);
		p->day[p->days++] = (unsigned char)(k + 1);
	}
	if (p->days == 0)
		return roster_bad(why, len, "empty cycle (e.g. D D N N - - - -)");
	return 0;
}

/* pattern,NAME,LINE,START_DATE,CYCLE,SHIFTS,POSITION[,STEP[,END_DATE[,TEMP_ROSTER]]] */
static void row_pattern(struct parser *ps, char **f, int n)
{
	const char *end = n > 8 && *f[8] ? f[8] : NULL;
	struct gw_db_rotation *x;
	struct pattern pat;
	char why[160];
	int64_t d0, d1;
	int pos, step = 0;

	if (!need_rotation_name(ps, f[1]) || !need_code(ps, "line code", f[2]) ||
	    !need_date(ps, "start", f[3]) || (end && !need_date(ps, "end", end)))
		return;
	if (roster_pattern_parse(f[4], f[5], &pat, why, sizeof(why)) < 0) {
		roster_report(ps, ps->recline, "pattern %s: %s", f[1], why);
		return;
	}
	if (!int_ok(f[6], 1, 99, &pos)) {
		roster_report(ps, ps->recline, "bad position '%s' (1-99)", f[6]);
		return;
	}
	if (n > 7 && *f[7] && !int_ok(f[7], 0, pat.days - 1, &step)) {
		roster_report(ps, ps->recline,
			      "bad step '%s' (days between members' starts, 0-%d; empty: the "
			      "cycle over the members)",
			      f[7], pat.days - 1);
		return;
	}
	roster_parse_date(f[3], &d0);
	if (end && (!roster_parse_date(end, &d1) || d1 <= d0)) {
		roster_report(ps, ps->recline, "pattern must end after it starts (%s, %s)", f[3],
			      end);
		return;
	}
	int temp = temp_field(ps, f, n, 9);
	if (temp < 0 || !(x = roster_add_row(ps, T_ROT)))
		return;
	x->temp = temp == 0 ? roster_sdup(ps, f[9]) : NULL;
	x->name = roster_sdup(ps, f[1]);
	x->line = roster_sdup(ps, f[2]);
	x->kind = roster_sdup(ps, "pattern");
	x->start_date = roster_sdup(ps, f[3]);
	x->end_date = end ? roster_sdup(ps, end) : NULL;
	x->handoff_min = 0;
	x->position = pos;
	x->hours = roster_sdup(ps, "all");
	x->step = n > 7 && *f[7] ? step : -1; /* -1: set by the cross-row check */
	/* kept as written, but with single spaces */
	char norm[512];
	size_t k = 0;
	for (const char *c = f[4]; *c && k + 2 < sizeof(norm); c++)
		if (*c != ' ' || (k && norm[k - 1] != ' '))
			norm[k++] = *c;
	while (k && norm[k - 1] == ' ')
		k--;
	norm[k] = '\0';
	x->cycle = roster_sdup(ps, norm);
	k = 0;
	for (const char *c = f[5]; *c && k + 2 < sizeof(norm); c++)
		if (*c != ' ' || (k && norm[k - 1] != ' '))
			norm[k++] = *c;
	while (k && norm[k - 1] == ' ')
		k--;
	norm[k] = '\0';
	x->shifts = roster_sdup(ps, norm);
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
		roster_report(ps, ps->recline, "bad position '%s' (an add override needs 1-99)",
			      n < 7 ? "" : f[6]);
		return;
	}
	if (strcmp(f[1], "replace") == 0)
		tmp.by = n > 6 && *f[6] ? f[6] : NULL;
	else if (strcmp(f[1], "remove") == 0 && n > 6 && *f[6]) {
		roster_report(ps, ps->recline, "a remove override takes no 7th field");
		return;
	}
	if (gw_roster_check_override(&tmp, why, sizeof(why)) < 0) {
		roster_report(ps, ps->recline, "%s", why);
		return;
	}
	if (!(o = roster_add_row(ps, T_OVR)))
		return;
	o->kind = roster_sdup(ps, tmp.kind);
	o->line = tmp.line ? roster_sdup(ps, tmp.line) : NULL;
	o->worker = roster_sdup(ps, tmp.worker);
	o->by = tmp.by ? roster_sdup(ps, tmp.by) : NULL;
	o->start_ms = tmp.start_ms;
	o->end_ms = tmp.end_ms;
	o->position = tmp.position;
}

/* Read one record: its kind by the record type, then the kind's table (or by hand). */
static void parse_row(struct parser *ps, struct record *rec)
{
	const struct roster_kind *k = NULL;

	for (int i = 0; i < rec->n; i++)
		if (!roster_text_ok(rec->f[i])) {
			roster_report(ps, ps->recline,
				      "field %d has a control character or is not UTF-8", i + 1);
			return;
		}
	for (int t = 0; t < T_COUNT && !k; t++)
		if (strcmp(rec->f[0], roster_kinds[t].name) == 0)
			k = &roster_kinds[t];
	if (!k && strcmp(rec->f[0], roster_pattern_kind.name) == 0)
		k = &roster_pattern_kind;
	if (!k) {
		roster_report(ps, ps->recline,
			      "unknown record type '%.40s' (line, worker, shift, route, directory, "
			      "rotation, pattern, rotation_member, override, chain_step, chain, "
			      "holiday, temp_roster)",
			      rec->f[0]);
		return;
	}
	if (ps->dir_only && k->type != T_DIR) {
		roster_report(ps, ps->recline,
			      "a directory file holds directory records only, not %s", k->name);
		return;
	}
	if (rec->n < k->min || rec->n > k->max) {
		roster_report(ps, ps->recline, "%s: %d fields, want %s", k->name, rec->n,
			      k->syntax);
		return;
	}
	if (k == &roster_pattern_kind)
		row_pattern(ps, rec->f, rec->n);
	else if (k->type == T_OVR)
		row_override(ps, rec->f, rec->n);
	else
		roster_parse_fields(ps, k, rec->f, rec->n);
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
			roster_report(ps, k[i].src, "duplicate %s '%s' (first on line %u)", what,
				      k[i].key, k[i - 1].src);
}

/* Sort k and report each (key, order) pair seen twice; fmt gets key, order, first line. */
static void index_unique_order(struct parser *ps, struct keyed *k, size_t n, const char *fmt)
{
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 1; i < n; i++)
		if (strcmp(k[i].key, k[i - 1].key) == 0 && k[i].prio == k[i - 1].prio)
			roster_report(ps, k[i].src, fmt, k[i].key, k[i].prio, k[i - 1].src);
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
			roster_format_utc(s->start_ms, a, sizeof(a));
			roster_format_utc(p->end_ms, b, sizeof(b));
			roster_report(
			    ps, ps->src[T_SHIFT][idx[i]],
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

	roster_parse_date(x->from_date, &d0);
	roster_parse_date(x->to_date, &d1);
	*a = roster_local_to_utc(d0, x->handoff_min);
	*b = roster_local_to_utc(d1, x->handoff_min);
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
			roster_report(ps, ps->src[T_TEMP][i],
				      "temporary roster on unknown line '%s'", x->line);
			continue;
		}
		temp_range(x, &a, &b);
		for (size_t j = 0; j < i; j++) {
			int64_t c, d;
			temp_range(&o->temps[j], &c, &d);
			if (strcmp(o->temps[j].line, x->line) == 0 && a < d && c < b)
				roster_report(
				    ps, ps->src[T_TEMP][i],
				    "temporary roster %s overlaps %s (line %u) on line %s", x->name,
				    o->temps[j].name, ps->src[T_TEMP][j], x->line);
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
			roster_report(ps, src, "%s names unknown temporary roster '%s'",
				      sh ? "shift" : "rotation", temp);
		else if (strcmp(x->line, line) != 0)
			roster_report(ps, src, "%s on line %s names temporary roster %s of line %s",
				      sh ? "shift" : "rotation", line, temp, x->line);
	}
}

/* A pattern without STEP: its cycle shared out evenly over its count members. */
static void pattern_step(struct parser *ps, struct gw_db_rotation *x, int count, unsigned src)
{
	struct pattern p;
	char why[160];

	if (roster_pattern_parse(x->cycle, x->shifts, &p, why, sizeof(why)) < 0)
		return; /* reported on its row */
	if (p.days % count != 0) {
		roster_report(ps, src,
			      "pattern %s: %d members do not share a %d-day cycle evenly: give "
			      "STEP (days between one member's start and the next one's)",
			      x->name, count, p.days);
		return;
	}
	x->step = p.days / count % p.days; /* one member: 0, the whole cycle is theirs */
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
		if (roster_route_has_cond(
			rt)) { /* the same prefix under other conditions is no repeat */
			roster_route_cond_format(rt, &ct);
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
			roster_report(ps, ps->src[T_SHIFT][i], "shift on unknown line '%s'",
				      s->line);
		else if (!known(s->worker, workers, o->n_workers))
			roster_report(ps, ps->src[T_SHIFT][i], "shift of unknown worker '%s'",
				      s->worker);
	}
	for (size_t i = 0; i < o->n_dirs; i++) /* one municipality, one membership */
		for (size_t j = 0; j < i && o->dirs[i].municipality; j++)
			if (o->dirs[j].municipality &&
			    strcmp(o->dirs[i].municipality, o->dirs[j].municipality) == 0 &&
			    strcmp(o->dirs[i].membership, o->dirs[j].membership) != 0) {
				roster_report(ps, ps->src[T_DIR][i],
					      "municipality %s is a %s here, a %s on line %u",
					      o->dirs[i].municipality, o->dirs[i].membership,
					      o->dirs[j].membership, ps->src[T_DIR][j]);
				break;
			}
	for (size_t i = 0; i < o->n_lines; i++) {
		const struct gw_db_line *l = &o->lines[i];
		const struct gw_db_line *a = NULL;
		for (size_t j = 0; l->after_line && j < o->n_lines && !a; j++)
			if (strcmp(o->lines[j].code, l->after_line) == 0)
				a = &o->lines[j];
		if (l->after_line && !a)
			roster_report(ps, ps->src[T_LINE][i],
				      "after-hours line of %s is unknown: '%s'", l->code,
				      l->after_line);
		else if (a && a->after_line)
			roster_report(ps, ps->src[T_LINE][i],
				      "after-hours line %s of %s has office hours itself (one step "
				      "only)",
				      a->code, l->code);
	}
	for (size_t i = 0; i < o->n_routes; i++)
		if (!known(o->routes[i].line, lines, o->n_lines))
			roster_report(ps, ps->src[T_ROUTE][i], "route to unknown line '%s'",
				      o->routes[i].line);
	for (size_t i = 0; i < o->n_rotations; i++) {
		const struct gw_db_rotation *x = &o->rotations[i];
		bool seen[100] = {false};
		int count = 0, max = 0;
		if (!known(x->line, lines, o->n_lines))
			roster_report(ps, ps->src[T_ROT][i], "rotation on unknown line '%s'",
				      x->line);
		for (size_t j = 0; j < o->n_members; j++)
			if (strcmp(o->members[j].rotation, x->name) == 0) {
				int ord = o->members[j].order; /* 1..99, checked per row */
				count += !seen[ord];
				seen[ord] = true;
				if (ord > max)
					max = ord;
			}
		if (count == 0)
			roster_report(ps, ps->src[T_ROT][i],
				      "rotation %s has no rotation_member records", x->name);
		else if (max != count)
			roster_report(ps, ps->src[T_ROT][i],
				      "rotation %s: member orders must run 1..N without gaps",
				      x->name);
		else if (x->cycle && x->step < 0)
			pattern_step(ps, &o->rotations[i], count, ps->src[T_ROT][i]);
	}
	for (size_t i = 0; i < o->n_members; i++) {
		const struct gw_db_member *m = &o->members[i];
		if (!known(m->rotation, rots, o->n_rotations))
			roster_report(ps, ps->src[T_MEMBER][i], "member of unknown rotation '%s'",
				      m->rotation);
		else if (!known(m->worker, workers, o->n_workers))
			roster_report(ps, ps->src[T_MEMBER][i],
				      "rotation member is unknown worker '%s'", m->worker);
	}
	for (size_t i = 0; i < o->n_overrides; i++) {
		const struct gw_db_override *v = &o->overrides[i];
		if (v->line && !known(v->line, lines, o->n_lines))
			roster_report(ps, ps->src[T_OVR][i], "override on unknown line '%s'",
				      v->line);
		else if (!known(v->worker, workers, o->n_workers))
			roster_report(ps, ps->src[T_OVR][i], "override of unknown worker '%s'",
				      v->worker);
		else if (v->by && !known(v->by, workers, o->n_workers))
			roster_report(ps, ps->src[T_OVR][i], "override by unknown worker '%s'",
				      v->by);
	}
	for (size_t i = 0; i < o->n_steps; i++) {
		const struct gw_db_chain_step *c = &o->steps[i];
		bool person = strcmp(c->kind, "person") == 0;
		if (!known(c->line, lines, o->n_lines))
			roster_report(ps, ps->src[T_STEP][i], "chain step of unknown line '%s'",
				      c->line);
		else if (person && !known(c->who, workers, o->n_workers))
			roster_report(ps, ps->src[T_STEP][i],
				      "chain step names unknown worker '%s'", c->who);
		else if (!person && !known(c->who, lines, o->n_lines))
			roster_report(ps, ps->src[T_STEP][i], "chain step names unknown line '%s'",
				      c->who);
	}
	for (size_t i = 0; i < o->n_chains; i++) {
		const struct gw_db_chain *c = &o->chains[i];
		if (!known(c->line, lines, o->n_lines))
			roster_report(ps, ps->src[T_CHAIN][i],
				      "chain settings of unknown line '%s'", c->line);
		else if (c->fallback && !known(c->fallback, workers, o->n_workers))
			roster_report(ps, ps->src[T_CHAIN][i],
				      "chain fallback is unknown worker '%s'", c->fallback);
	}
	if (!ps->oom)
		check_overlaps(ps);
	if (o->n_lines == 0 && ps->errors == 0 && !ps->dir_only)
		roster_report(ps, 0, "no line records: refusing an empty roster");
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
	if (roster_check_encoding(&ps)) {
		while (!ps.oom && (rc = roster_read_record(&ps, rec)) != 0)
			if (rc > 0)
				parse_row(&ps, rec);
		if (!ps.oom)
			cross_check(&ps);
	}
	free(rec);
	for (int t = 0; t < T_COUNT; t++)
		free(ps.src[t]);
	roster_flush_errors(&ps);
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
	return gw_roster_import(db, path, 0, err, NULL, arg, counts);
}

int gw_roster_import(struct gw_db *db, const char *path, unsigned flags, gw_roster_err_fn err,
		     gw_db_manual_fn manual, void *arg, struct gw_roster_counts *counts)
{
	struct gw_db_roster data;
	int rc = read_csv(path, gw_roster_parse_csv, &data, err, arg);
	if (rc < 0)
		return rc;
	rc = gw_db_roster_import(db, &data, flags, manual, arg);
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
