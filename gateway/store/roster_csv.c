/*
 * roster_csv: the coordinators' roster CSV: an RFC 4180 reader over a buffer that keeps
 * each record's file:line and the rows it appends, for the import that checks every row
 * (roster_check.c) before anything is written. The export that writes the same format back
 * is driven by the kind tables (roster_fields.c).
 */
#include "store/roster_priv.h"
#include "core/text.h"

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
	const struct roster_kind *k = &roster_kinds[t];
	size_t *n;
	void **arr;

	roster_kind_rows(k, ps->out, &n);
	arr = (void **)((char *)ps->out + k->arr_off);
	size_t n_src = *n;
	unsigned *src = push(ps, (void **)&ps->src[t], &n_src, &ps->src_cap[t], sizeof(unsigned));
	if (!src)
		return NULL;
	*src = ps->recline;
	return push(ps, arr, n, &ps->cap[t], k->size);
}

char *roster_sdup(struct parser *ps, const char *s)
{
	char *d = strdup(s);
	if (!d)
		ps->oom = true;
	return d;
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
		} else if ((n = gw_utf8_len(p, left, NULL)) == 0) {
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
		unsigned n = p[i] < 0x80 ? 1 : gw_utf8_len(p + i, len - i, NULL);
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
