/*
 * roster_ics: the duty as an iCalendar (RFC 5545) file, for a worker's or a line's
 * calendar app. It reads the snapshot only through gw_roster_duty_each() and writes one
 * VEVENT per stretch of duty with UTC times (no VTIMEZONE needed), content lines folded
 * at 75 octets without splitting a UTF-8 character, and TEXT values escaped (3.3.11).
 */
#include "store/roster_priv.h"

struct ics {
	FILE *f;
	const struct gw_roster *r;
	const char *handle, *line;
	char stamp[20];
	int events;
};

/* One content line: name and value, folded (3.1), ended with CRLF. */
static void put_line(FILE *f, const char *name, const char *value)
{
	size_t col = strlen(name) + 1;

	fputs(name, f);
	fputc(':', f);
	for (const unsigned char *p = (const unsigned char *)value; *p;) {
		size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		if (col + n > 75) {
			fputs("\r\n ", f);
			col = 1;
		}
		for (size_t k = 0; k < n && *p; k++, p++)
			fputc(*p, f);
		col += n;
	}
	fputs("\r\n", f);
}

/* A TEXT value (3.3.11): backslash, semicolon, comma and newline escaped. */
static void text_value(const char *s, char *out, size_t len)
{
	size_t k = 0;

	for (; *s && k + 3 < len; s++) {
		if (*s == '\\' || *s == ';' || *s == ',') {
			out[k++] = '\\';
			out[k++] = *s;
		} else if (*s == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else if ((unsigned char)*s >= 0x20 && *s != 0x7f) {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
}

/* UTC DATE-TIME (3.3.5, form #2): 20260601T050000Z. */
static void utc_value(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)roster_floor_div(ms, 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

static void put_event(const struct gw_roster_duty *d, void *arg)
{
	struct ics *x = arg;
	const char *line_fi = gw_roster_line_name_fi(x->r, d->line);
	const char *line_en = gw_roster_line_name(x->r, d->line);
	char v[512], t[600], a[20], b[20];

	if ((x->handle && strcmp(x->handle, d->handle) != 0) ||
	    (x->line && strcmp(x->line, d->line) != 0))
		return;
	utc_value(d->whole_start_ms, a, sizeof(a));
	utc_value(d->whole_end_ms, b, sizeof(b));
	fputs("BEGIN:VEVENT\r\n", x->f);
	snprintf(v, sizeof(v), "%s-%s-%d-%s@rinki", d->line, d->handle, d->position, a);
	put_line(x->f, "UID", v);
	put_line(x->f, "DTSTAMP", x->stamp);
	put_line(x->f, "DTSTART", a);
	put_line(x->f, "DTEND", b);
	snprintf(v, sizeof(v), "%s: %s (%d.)", line_fi ? line_fi : d->line, d->name, d->position);
	text_value(v, t, sizeof(t));
	put_line(x->f, "SUMMARY", t);
	snprintf(v, sizeof(v), "%s, %s, place %d in the ring order", line_en ? line_en : d->line,
		 d->name, d->position);
	text_value(v, t, sizeof(t));
	put_line(x->f, "DESCRIPTION", t);
	put_line(x->f, "TRANSP", "OPAQUE");
	fputs("END:VEVENT\r\n", x->f);
	x->events++;
}

int gw_roster_write_ics(const struct gw_roster *r, const char *handle, const char *line,
			int64_t from_ms, int64_t to_ms, int64_t stamp_ms, FILE *f)
{
	struct ics x = {.f = f, .r = r, .handle = handle, .line = line};
	char name[160], t[400];
	int rc;

	utc_value(stamp_ms, x.stamp, sizeof(x.stamp));
	fputs("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rinki//roster//EN\r\n"
	      "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n",
	      f);
	snprintf(name, sizeof(name), "rinki%s%s%s%s", handle ? " " : "", handle ? handle : "",
		 line ? " " : "", line ? line : "");
	text_value(name, t, sizeof(t));
	put_line(f, "X-WR-CALNAME", t);
	rc = gw_roster_duty_each(r, from_ms, to_ms, put_event, &x);
	fputs("END:VCALENDAR\r\n", f);
	if (rc < 0)
		return rc;
	if (fflush(f) != 0 || ferror(f))
		return -(errno ? errno : EIO);
	return x.events;
}
