/*
 * roster_list: the two generic listing routines, one per output form, that print any
 * record kind declaring a listing (struct roster_list in its roster_kind). A column shows
 * one of the kind's fields, read by the field's own storage type, or a value the kind
 * derives (a count, a marker); this file knows no kind by name.
 */
#include "store/roster_list.h"
#include "store/roster_fields.h"
#include "store/roster.h"
#include "core/event.h"
#include "core/text.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

static const struct roster_list *find_list(const char *name, const struct roster_kind **kind)
{
	for (int t = 0; t < T_COUNT; t++) {
		const struct roster_list *l = roster_kinds[t].list;
		if (l && strcmp(l->name, name) == 0) {
			*kind = &roster_kinds[t];
			return l;
		}
	}
	return NULL;
}

/* The value of column c in row of kind k: a field by its store type, or the column's fn. */
static int col_value(const struct roster_kind *k, const struct roster_col *c,
		     const struct gw_db_roster *d, const void *row, struct roster_val *v)
{
	const struct roster_field *fd = NULL;
	const char *p = (const char *)row;

	memset(v, 0, sizeof(*v));
	if (!c->field)
		return c->fn ? c->fn(d, row, v) : -EINVAL;
	for (int i = 0; i < k->n_fields && !fd; i++)
		if (k->fields[i].off == c->field - 1)
			fd = &k->fields[i];
	if (!fd)
		return -EINVAL; /* a column naming no field of its kind */
	p += fd->off;
	switch (fd->store) {
	case RF_STR:
		memcpy(&v->s, p, sizeof(v->s));
		v->type = RV_STR;
		if (c->flags & RC_IS_SET) {
			v->type = RV_BOOL;
			v->i = v->s != NULL;
		}
		return 0;
	case RF_INT: {
		int x;
		memcpy(&x, p, sizeof(x));
		v->type = RV_INT;
		v->i = x;
		return 0;
	}
	case RF_BOOL: {
		bool b;
		memcpy(&b, p, sizeof(b));
		v->type = RV_BOOL;
		v->i = b;
		return 0;
	}
	case RF_I64:
		memcpy(&v->i, p, sizeof(v->i));
		v->type = fd->out == RF_OUT_TIME ? RV_TIME : RV_INT;
		return 0;
	}
	return -EINVAL;
}

/* The text of v in column c, before escaping. */
static const char *text_of(const struct roster_col *c, const struct roster_val *v, char *buf,
			   size_t len)
{
	const char *none = c->none ? c->none : "-";

	switch (v->type) {
	case RV_STR:
		return v->s ? v->s : none;
	case RV_INT:
		if (v->i == 0 && (c->flags & RC_ZERO_NONE))
			return none;
		snprintf(buf, len, "%" PRId64, v->i);
		return buf;
	case RV_BOOL:
		return v->i ? (c->yes ? c->yes : "yes") : (c->no ? c->no : "no");
	case RV_TIME:
		gw_roster_format_clock(v->i, GW_CLOCK_SEC, buf, len);
		return buf;
	case RV_NONE:
		break;
	}
	return none;
}

/* s escaped for a terminal, padded to |width| characters (right-aligned when negative). */
static void put_cell(FILE *out, const struct roster_col *c, bool first, const char *s)
{
	char esc[1024];
	int cols = 0, width = c->width < 0 ? -c->width : c->width;

	if (!first)
		fprintf(out, "%*s", c->gap ? c->gap : 1, "");
	s = gw_text_term(s, esc, sizeof(esc));
	for (const char *p = s; *p; p++)
		cols += ((unsigned char)*p & 0xc0) != 0x80;
	if (c->width < 0)
		fprintf(out, "%*s", width > cols ? width - cols : 0, "");
	fputs(s, out);
	if (c->width > 0)
		fprintf(out, "%*s", width > cols ? width - cols : 0, "");
}

/* The text form: a header, a line a row, the kind's empty line when there are none. */
static int list_text(const struct roster_kind *k, const struct roster_list *l,
		     const struct gw_db_roster *d, FILE *out)
{
	size_t *n;
	const char *rows = roster_kind_rows(k, d, &n);
	bool first = true;

	for (int i = 0; i < l->n_cols; i++)
		if (l->cols[i].head) {
			put_cell(out, &l->cols[i], first, l->cols[i].head);
			first = false;
		}
	fputc('\n', out);
	for (size_t r = 0; r < *n; r++) {
		const void *row = rows + r * k->size;
		first = true;
		for (int i = 0; i < l->n_cols; i++) {
			const struct roster_col *c = &l->cols[i];
			struct roster_val v;
			char buf[64];
			int rc;
			if (!c->head)
				continue;
			if ((rc = col_value(k, c, d, row, &v)) < 0)
				return rc;
			put_cell(out, c, first, text_of(c, &v, buf, sizeof(buf)));
			first = false;
		}
		fputc('\n', out);
	}
	if (*n == 0 && l->empty)
		fprintf(out, "%s\n", l->empty);
	return 0;
}

/* s as a JSON string (NULL: null). */
static int put_json_str(FILE *out, const char *s)
{
	char buf[4096];

	if (!s) {
		fputs("null", out);
		return 0;
	}
	if (gw_event_json_str(s, buf, sizeof(buf)) < 0)
		return -ENOSPC;
	fputs(buf, out);
	return 0;
}

/* UTC ISO 8601 with milliseconds, e.g. 2026-03-01T12:00:00.250Z ("@ms" out of range). */
static void utc_iso(int64_t t_ms, char *buf, size_t len)
{
	time_t t = (time_t)(t_ms / 1000);
	struct tm tm;

	if (t_ms < 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "@%" PRId64, t_ms);
		return;
	}
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03dZ", (int)(t_ms % 1000));
}

static int put_json_value(FILE *out, const struct roster_col *c, const struct roster_val *v)
{
	char buf[48];

	switch (v->type) {
	case RV_STR:
		return put_json_str(out, v->s);
	case RV_INT:
		fprintf(out, "%" PRId64, v->i);
		return 0;
	case RV_BOOL:
		if (c->flags & RC_WORDS)
			return put_json_str(out, v->i ? c->yes : c->no);
		fputs(v->i ? "true" : "false", out);
		return 0;
	case RV_TIME:
		utc_iso(v->i, buf, sizeof(buf));
		return put_json_str(out, buf);
	case RV_NONE:
		break;
	}
	return -EINVAL;
}

/* The JSON form: {"name":[{"key":value,...},...]}; an RV_NONE value leaves its key out. */
static int list_json(const struct roster_kind *k, const struct roster_list *l,
		     const struct gw_db_roster *d, FILE *out)
{
	size_t *n;
	const char *rows = roster_kind_rows(k, d, &n);
	int rc;

	fprintf(out, "{\"%s\":[", l->name);
	for (size_t r = 0; r < *n; r++) {
		const void *row = rows + r * k->size;
		bool first = true;
		fputs(r ? ",{" : "{", out);
		for (int i = 0; i < l->n_cols; i++) {
			const struct roster_col *c = &l->cols[i];
			struct roster_val v;
			if (!c->key)
				continue;
			if ((rc = col_value(k, c, d, row, &v)) < 0)
				return rc;
			if (v.type == RV_NONE)
				continue;
			fprintf(out, "%s\"%s\":", first ? "" : ",", c->key);
			first = false;
			if ((rc = put_json_value(out, c, &v)) < 0)
				return rc;
		}
		fputc('}', out);
	}
	fputs("]}\n", out);
	return 0;
}

int gw_roster_list(const struct gw_db_roster *d, const char *name, bool json, FILE *out)
{
	const struct roster_kind *k;
	const struct roster_list *l = find_list(name, &k);
	int rc;

	if (!l)
		return -ENOENT;
	rc = json ? list_json(k, l, d, out) : list_text(k, l, d, out);
	if (rc == 0 && ferror(out))
		rc = -EIO;
	return rc;
}
