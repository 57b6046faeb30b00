/*
 * text: CSV fields that no spreadsheet runs as a formula, and text that no terminal takes
 * as a control sequence, and a bounded copy cheaper than snprintf (contracts in text.h).
 * Pure functions over strings.
 */
#include "core/text.h"

#include <errno.h>
#include <string.h>

bool gw_text_formula_lead(char c)
{
	return c && strchr("=+-@\t\r", c) != NULL;
}

/* The field would be read as a formula, or is ' and then one (kept apart on the way back). */
static bool needs_neutral(const char *s)
{
	return gw_text_formula_lead(s[0]) || (s[0] == '\'' && gw_text_formula_lead(s[1]));
}

int gw_text_csv_put(FILE *f, const char *s, unsigned flags)
{
	if (!s)
		return 0;
	size_t n = strlen(s);
	bool neutral = needs_neutral(s);
	bool quote = neutral || strpbrk(s, ",\"\r\n") ||
		     ((flags & GW_TEXT_CSV_ROSTER) &&
		      (strchr(s, '#') || (n && (strchr(" \t", s[0]) || strchr(" \t", s[n - 1])))));
	if (!quote)
		return fputs(s, f) < 0 ? -EIO : 0;
	if (fputc('"', f) == EOF || (neutral && fputc('\'', f) == EOF))
		return -EIO;
	for (; *s; s++)
		if ((*s == '"' && fputc('"', f) == EOF) || fputc(*s, f) == EOF)
			return -EIO;
	return fputc('"', f) == EOF ? -EIO : 0;
}

char *gw_text_csv_unneutralise(char *s)
{
	if (s[0] == '\'' && needs_neutral(s + 1))
		memmove(s, s + 1, strlen(s));
	return s;
}

unsigned gw_utf8_len(const unsigned char *p, size_t avail, uint32_t *cp_out)
{
	unsigned n;
	uint32_t min;
	if (avail == 0)
		return 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else
		return 0;
	if (avail < n)
		return 0;
	uint32_t cp = p[0] & (0x7f >> n);
	for (unsigned i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp_out)
		*cp_out = cp;
	return n;
}

/* Length of the well-formed UTF-8 character at NUL-terminated p (2..4), or 0. */
static size_t utf8_char(const unsigned char *p)
{
	return gw_utf8_len(p, strnlen((const char *)p, 4), NULL);
}

const char *gw_text_term(const char *s, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "-");
	size_t o = 0;
	char esc[8];

	while (*p) {
		const char *put = esc;
		size_t n, adv = 1;
		if (*p == '\\')
			put = "\\\\";
		else if (*p == '\n')
			put = "\\n";
		else if (*p == '\t')
			put = "\\t";
		else if (*p == '\r')
			put = "\\r";
		else if (*p == 0x1b)
			put = "\\e";
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else if (*p < 0x80) {
			esc[0] = (char)*p;
			esc[1] = '\0';
		} else if ((adv = utf8_char(p)) == 0) {
			adv = 1;
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
		} else if (adv == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[1]); /* C1: U+0080..U+009F */
		} else {
			memcpy(esc, p, adv);
			esc[adv] = '\0';
		}
		n = strlen(put);
		if (o + n + 1 > len)
			break;
		memcpy(out + o, put, n);
		o += n;
		p += adv;
	}
	out[o] = '\0';
	return out;
}

int gw_text_int(char *dst, size_t len, const char *prefix, int64_t v)
{
	char r[21], num[21]; /* "-9223372036854775808" and its NUL */
	size_t n = 0, o = 0;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		r[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		num[o++] = '-';
	while (n)
		num[o++] = r[--n];
	num[o] = '\0';
	int p = gw_text_copy(dst, len, prefix);
	if (p < 0)
		return -ENOSPC;
	int q = gw_text_copy(dst + p, len - (size_t)p, num);
	return q < 0 ? -ENOSPC : p + q;
}

int gw_text_copy(char *dst, size_t len, const char *src)
{
	if (!src)
		src = "";
	size_t n = strnlen(src, len);
	int rc = (int)n;
	if (n == len) {
		n = len - 1;
		rc = -ENOSPC;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return rc;
}
