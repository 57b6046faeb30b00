/*
 * roster_csv: the coordinators' roster CSV: an RFC 4180 reader over a buffer that keeps
 * each record's file:line, the import that checks every row (roster_check.c) before
 * anything is written, and the export that writes the same format back.
 */
#include "store/roster_priv.h"

/* ---- CSV parser ---------------------------------------------------------------------- */

/* One reported problem, kept until the file is fully checked. */
struct perr {
	unsigned line, seq;
	char *msg;
};

static void emit(const struct parser *ps, unsigned line, const char *msg)
{
	if (ps->err)
		ps->err(ps->file, line, msg, ps->arg);
	else
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s:%u: %s", ps->file, line, msg);
}

/* Record a problem; they are reported sorted by line once the whole file is checked. */
__attribute__((format(printf, 3, 4))) void roster_report(struct parser *ps, unsigned line,
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

void roster_flush_errors(struct parser *ps)
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
void *roster_add_row(struct parser *ps, int t)
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

char *roster_sdup(struct parser *ps, const char *s)
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
bool roster_text_ok(const char *s)
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
bool roster_check_encoding(struct parser *ps)
{
	const char *b = ps->p;
	size_t len = (size_t)(ps->end - ps->p), bad;
	unsigned line = 1;

	if (ps->p - ps->begin == 0 && len >= 2 &&
	    ((b[0] == '\xff' && b[1] == '\xfe') || (b[0] == '\xfe' && b[1] == '\xff'))) {
		roster_report(ps, 0,
			      "the file is UTF-16 (it starts with a UTF-16 byte order mark): "
			      "save it as UTF-8");
		return false;
	}
	if (memchr(b, '\0', len < 4096 ? len : 4096)) {
		roster_report(ps, 0,
			      "the file has NUL bytes: UTF-16 or a binary file? save it as UTF-8 "
			      "text");
		return false;
	}
	bad = utf8_bad_at(b, len);
	if (bad == len)
		return true;
	for (size_t i = 0; i < bad; i++)
		line += b[i] == '\n' || (b[i] == '\r' && (i + 1 == len || b[i + 1] != '\n'));
	roster_report(
	    ps, line,
	    "the file is not UTF-8 (byte 0x%02x here; ISO-8859-1 or Windows-1252?): save it as "
	    "UTF-8; nothing imported",
	    (unsigned char)b[bad]);
	return false;
}

bool roster_is_blank(char c)
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
		if (ch == '#' && ps->p > ps->begin && roster_is_blank(ps->p[-1]))
			break;
		if (ch == '"' && !rec->why)
			rec->why = "quote inside an unquoted field (quote the whole field)";
		if (ch == '\0' && !rec->why)
			rec->why = "NUL byte in a field";
		put(rec, len, ch);
		ps->p++;
	}
	while (*len > start && roster_is_blank(rec->buf[*len - 1]))
		(*len)--;
}

/* Skip blank lines and comment lines; returns false at the end of input. */
static bool skip_to_record(struct parser *ps)
{
	for (;;) {
		const char *q = ps->p;
		while (q < ps->end && roster_is_blank(*q))
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
int roster_read_record(struct parser *ps, struct record *rec)
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

		while (ps->p < ps->end && roster_is_blank(*ps->p))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '"') {
			unsigned qline = ps->lineno;
			ps->p++;
			if (!read_quoted(ps, rec, &len)) {
				roster_report(ps, qline, "unterminated quoted field");
				return -1;
			}
			/* "'=..." as the export neutralised it: the value is "=..." */
			if (len - start >= 2 && rec->buf[start] == '\'' &&
			    (gw_text_formula_lead(rec->buf[start + 1]) ||
			     (len - start >= 3 && rec->buf[start + 1] == '\'' &&
			      gw_text_formula_lead(rec->buf[start + 2])))) {
				memmove(rec->buf + start, rec->buf + start + 1, len - start - 1);
				len--;
			}
			while (ps->p < ps->end && roster_is_blank(*ps->p))
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
		roster_report(ps, ps->recline, "%s", rec->why);
	else if (rec->too_long)
		roster_report(ps, ps->recline, "record longer than %d bytes", MAX_RECORD_BYTES);
	else if (rec->too_many)
		roster_report(ps, ps->recline, "more than %d fields", MAX_FIELDS);
	else
		return 1;
	return -1;
}

/* ---- CSV export ---------------------------------------------------------------------- */

/*
 * One field, quoted when the parser would otherwise read it differently, and neutralised
 * when a spreadsheet would run it (gw_text_csv_put; the reader takes the ' off again).
 */
static void put_field(FILE *f, const char *s, bool last)
{
	gw_text_csv_put(f, s, GW_TEXT_CSV_ROSTER);
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

/* Helsinki wall-clock time with its offset: readable, and unambiguous in the autumn hour. */
static void put_time(FILE *f, int64_t ms, bool last)
{
	char b[48];
	roster_format_local(ms, b, sizeof(b));
	put_field(f, b, last);
}

int gw_roster_write_csv(const struct gw_db_roster *d, FILE *f)
{
	fputs("# rinki roster, written by rinkictl roster export (Helsinki times with their "
	      "offset).\n"
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
		put_field(f, roster_lang_ok(w->lang) ? w->lang : "fi",
			  true); /* never the PIN hash */
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
		if (x->cycle) {
			put_field(f, "pattern", false);
			put_field(f, x->name, false);
			put_field(f, x->line, false);
			put_field(f, x->start_date, false);
			put_field(f, x->cycle, false);
			put_field(f, x->shifts, false);
			put_int(f, x->position, false, false);
			put_int(f, x->step, false, false);
			put_field(f, x->end_date ? x->end_date : "", !x->temp);
			if (x->temp)
				put_field(f, x->temp, true);
			continue;
		}
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
		bool cond = roster_route_has_cond(rt);
		struct route_cond_text ct;
		put_field(f, "route", false);
		put_field(f, rt->line, false);
		put_field(f, rt->prefix, false);
		put_int(f, rt->priority, false, !cond);
		if (!cond)
			continue;
		roster_route_cond_format(rt, &ct);
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
