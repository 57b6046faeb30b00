/*
 * tz: reads a TZif file (RFC 8536) into one allocation and answers "what offset at t"
 * from it by binary search, then by the POSIX TZ footer rule past the last transition.
 * Every count is checked against the bytes there before anything is read; transitions
 * must ascend, indices must be in range, offsets within +-26 h (RFC 8536 section 3.2),
 * abbreviations NUL-terminated inside the character block and made of ASCII letters,
 * digits, '+' and '-' only (so they can be printed anywhere without escaping). A version 1 file is
 * read from its 32-bit block and has no footer; a version 2-4 file's 32-bit block is skipped (its
 * length checked) and its 64-bit block and footer are used.
 */
#include "core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRANS 4096
#define MAX_TYPES 256
#define MAX_CHARS 512
#define MAX_OFF	  93599		   /* 25:59:59 */
#define FAR	  10000000000000LL /* +-300 000 years: past it, no summer time */

struct ttype {
	int32_t off;
	bool dst;
	char abbr[GW_TZ_ABBR_MAX];
};

/* A footer rule date: Jn (julian, no Feb 29), n (0-based, Feb 29 counted) or Mm.w.d. */
struct rdate {
	enum { R_J1, R_J0, R_M } kind;
	int n, m, w, d;
	int32_t time; /* seconds after local midnight, -167..167 h */
};

struct footer {
	bool present;
	struct ttype std, dst;
	bool has_dst;
	struct rdate start, end;
};

struct gw_tz {
	size_t n_trans;
	int n_types;
	struct ttype types[MAX_TYPES];
	struct footer ft;
	int64_t *at;	/* n_trans transition instants, ascending */
	uint8_t *idx;	/* type of each */
	int64_t data[]; /* at, then idx */
};

static int bad(char *why, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- calendar ------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Day number of a rule date in year y. */
static int64_t rule_day(const struct rdate *r, int64_t y)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t jan1 = days_from_civil(y, 1, 1);

	switch (r->kind) {
	case R_J1: /* 1..365, February 29 never counted */
		return jan1 + r->n - 1 + (leap(y) && r->n >= 60);
	case R_J0:
		return jan1 + r->n;
	default: {
		int64_t first = days_from_civil(y, r->m, 1);
		int wd1 = (int)((first % 7 + 7 + 4) % 7); /* 0 Sunday; 1970-01-01 a Thursday */
		int64_t day = first + (r->d - wd1 + 7) % 7 + (int64_t)(r->w - 1) * 7;
		int len = r->m == 2 && leap(y) ? 29 : dm[r->m - 1];
		while (day >= first + len)
			day -= 7;
		return day;
	}
	}
}

/* UTC instants of the footer's summer-time start and end in year y. */
static void rule_instants(const struct footer *f, int64_t y, int64_t *start, int64_t *end)
{
	*start = rule_day(&f->start, y) * 86400 + f->start.time - f->std.off;
	*end = rule_day(&f->end, y) * 86400 + f->end.time - f->dst.off;
}

static const struct ttype *footer_at(const struct footer *f, int64_t t)
{
	int64_t s, e, y;

	if (!f->has_dst || t < -FAR || t > FAR)
		return &f->std;
	y = year_of_days(floor_div(t, 86400));
	rule_instants(f, y, &s, &e);
	if (s < e)
		return t >= s && t < e ? &f->dst : &f->std;
	return t >= e && t < s ? &f->std : &f->dst;
}

/* ---- POSIX TZ string ----------------------------------------------------------------- */

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An abbreviation: 3+ letters, or <3+ of [A-Za-z0-9+-]>. */
static bool p_abbr(const char **p, char out[GW_TZ_ABBR_MAX])
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '<') {
		for (s++; is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-'; s++, n++)
			if (n + 1 < GW_TZ_ABBR_MAX)
				out[n] = *s;
		if (*s != '>')
			return false;
		s++;
	} else {
		for (; is_alpha(*s); s++, n++)
			if (n + 1 < GW_TZ_ABBR_MAX)
				out[n] = *s;
	}
	if (n < 3 || n >= GW_TZ_ABBR_MAX)
		return false;
	out[n] = '\0';
	*p = s;
	return true;
}

/* A number of at most 3 digits in lo..hi. */
static bool p_num(const char **p, int lo, int hi, int *v)
{
	int n = 0;

	*v = 0;
	for (; is_digit(**p) && n < 3; (*p)++, n++)
		*v = *v * 10 + (**p - '0');
	return n > 0 && !is_digit(**p) && *v >= lo && *v <= hi;
}

/* [+-]hh[:mm[:ss]], hours up to max_h; seconds. */
static bool p_hms(const char **p, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;

	if (**p == '+' || **p == '-')
		sign = *(*p)++ == '-' ? -1 : 1;
	if (!p_num(p, 0, max_h, &h))
		return false;
	if (**p == ':') {
		(*p)++;
		if (!p_num(p, 0, 59, &m))
			return false;
		if (**p == ':') {
			(*p)++;
			if (!p_num(p, 0, 59, &s))
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return true;
}

static bool p_rdate(const char **p, struct rdate *r)
{
	if (**p == 'J') {
		(*p)++;
		r->kind = R_J1;
		if (!p_num(p, 1, 365, &r->n))
			return false;
	} else if (**p == 'M') {
		(*p)++;
		r->kind = R_M;
		if (!p_num(p, 1, 12, &r->m) || *(*p)++ != '.' || !p_num(p, 1, 5, &r->w) ||
		    *(*p)++ != '.' || !p_num(p, 0, 6, &r->d))
			return false;
	} else {
		r->kind = R_J0;
		if (!p_num(p, 0, 365, &r->n))
			return false;
	}
	r->time = 7200;
	if (**p == '/') {
		(*p)++;
		return p_hms(p, 167, &r->time);
	}
	return true;
}

static int parse_footer(const char *s, struct footer *f, char *why, size_t len)
{
	const char *p = s;
	int32_t off;

	memset(f, 0, sizeof(*f));
	if (!p_abbr(&p, f->std.abbr) || !p_hms(&p, 24, &off))
		return bad(why, len, -EINVAL, "TZ rule '%s': bad standard time", s);
	f->std.off = -off;
	f->present = true;
	if (!*p)
		return 0;
	if (!p_abbr(&p, f->dst.abbr))
		return bad(why, len, -EINVAL, "TZ rule '%s': bad summer-time name", s);
	f->has_dst = true;
	f->dst.dst = true;
	f->dst.off = f->std.off + 3600;
	if (*p != ',' && *p) {
		if (!p_hms(&p, 24, &off))
			return bad(why, len, -EINVAL, "TZ rule '%s': bad summer-time offset", s);
		f->dst.off = -off;
	}
	if (*p != ',') /* POSIX leaves the dates to the implementation: none here */
		return bad(why, len, -EINVAL, "TZ rule '%s': summer time without dates", s);
	p++;
	if (!p_rdate(&p, &f->start) || *p++ != ',' || !p_rdate(&p, &f->end) || *p)
		return bad(why, len, -EINVAL, "TZ rule '%s': bad summer-time dates", s);
	return 0;
}

static struct gw_tz *tz_alloc(size_t n_trans)
{
	struct gw_tz *tz = calloc(1, sizeof(*tz) + n_trans * (sizeof(int64_t) + 1));
	if (!tz)
		return NULL;
	tz->n_trans = n_trans;
	tz->at = tz->data;
	tz->idx = (uint8_t *)(tz->data + n_trans);
	return tz;
}

int gw_tz_parse_posix(const char *s, struct gw_tz **out, char *why, size_t why_len)
{
	struct footer f;
	int rc;

	if (!s || strlen(s) > 128)
		return bad(why, why_len, -EINVAL, "TZ rule too long");
	if ((rc = parse_footer(s, &f, why, why_len)) < 0)
		return rc;
	struct gw_tz *tz = tz_alloc(0);
	if (!tz)
		return -ENOMEM;
	tz->ft = f;
	tz->n_types = 1;
	tz->types[0] = f.std;
	*out = tz;
	return 0;
}

/* ---- TZif ---------------------------------------------------------------------------- */

struct hdr {
	char version;
	uint32_t isut, isstd, leap, time, type, chars;
};

static int read_hdr(const uint8_t *p, size_t left, struct hdr *h, char *why, size_t len)
{
	if (left < 44 || memcmp(p, "TZif", 4))
		return bad(why, len, -EINVAL, "not a TZif file");
	h->version = (char)p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '4'))
		return bad(why, len, -EINVAL, "TZif version %#x unknown", p[4]);
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	if (h->type == 0 || h->type > MAX_TYPES || h->chars == 0 || h->chars > MAX_CHARS ||
	    h->time > MAX_TRANS || h->leap > MAX_TRANS || (h->isut && h->isut != h->type) ||
	    (h->isstd && h->isstd != h->type))
		return bad(why, len, -EINVAL,
			   "TZif counts out of bounds (%u transitions, %u types, %u chars)",
			   h->time, h->type, h->chars);
	return 0;
}

/* Bytes of a data block with h's counts; tsize is 4 (v1) or 8. Counts are bounded above. */
static size_t block_len(const struct hdr *h, size_t tsize)
{
	return h->time * tsize + h->time + h->type * 6 + h->chars + h->leap * (tsize + 4) +
	       h->isstd + h->isut;
}

int gw_tz_parse(const void *buf, size_t len, struct gw_tz **out, char *why, size_t why_len)
{
	const uint8_t *p = buf;
	struct hdr h;
	size_t tsize = 4, off;
	int rc;

	if (!buf)
		return bad(why, why_len, -EINVAL, "no data");
	if ((rc = read_hdr(p, len, &h, why, why_len)) < 0)
		return rc;
	off = 44;
	if (block_len(&h, 4) > len - off)
		return bad(why, why_len, -EINVAL, "TZif data truncated (version 1 block)");
	if (h.version != 0) { /* skip the 32-bit block; the 64-bit one follows */
		off += block_len(&h, 4);
		if ((rc = read_hdr(p + off, len - off, &h, why, why_len)) < 0)
			return rc;
		off += 44;
		tsize = 8;
		if (block_len(&h, 8) > len - off)
			return bad(why, why_len, -EINVAL, "TZif data truncated (64-bit block)");
	}
	if (h.leap)
		return bad(why, why_len, -ENOTSUP, "TZif zone with leap seconds (a right/ zone)");

	struct gw_tz *tz = tz_alloc(h.time);
	if (!tz)
		return -ENOMEM;
	const uint8_t *tp = p + off, *ip = tp + h.time * tsize, *ty = ip + h.time;
	const uint8_t *ch = ty + h.type * 6;
	for (uint32_t i = 0; i < h.time; i++) {
		tz->at[i] = tsize == 8 ? be64(tp + i * 8) : (int32_t)be32(tp + i * 4);
		tz->idx[i] = ip[i];
		if (ip[i] >= h.type) {
			rc = bad(why, why_len, -EINVAL, "TZif transition %u: type %u of %u", i,
				 ip[i], h.type);
			goto fail;
		}
		if (i && tz->at[i] <= tz->at[i - 1]) {
			rc = bad(why, why_len, -EINVAL, "TZif transitions not ascending at %u", i);
			goto fail;
		}
	}
	tz->n_types = (int)h.type;
	for (uint32_t i = 0; i < h.type; i++) {
		const uint8_t *t = ty + i * 6;
		int32_t o = (int32_t)be32(t);
		size_t a = t[5], n;
		if (o < -MAX_OFF || o > MAX_OFF || t[4] > 1 || a >= h.chars) {
			rc = bad(why, why_len, -EINVAL, "TZif time type %u is bad", i);
			goto fail;
		}
		n = strnlen((const char *)ch + a, h.chars - a);
		bool clean = true; /* RFC 8536 3.2: ASCII alphanumerics, '+' and '-' */
		for (size_t k = 0; k < n; k++)
			clean &= is_alpha((char)ch[a + k]) || is_digit((char)ch[a + k]) ||
				 ch[a + k] == '+' || ch[a + k] == '-';
		if (n == h.chars - a || n >= GW_TZ_ABBR_MAX || !clean) {
			rc = bad(why, why_len, -EINVAL, "TZif time type %u: bad abbreviation", i);
			goto fail;
		}
		tz->types[i].off = o;
		tz->types[i].dst = t[4];
		memcpy(tz->types[i].abbr, ch + a, n);
		tz->types[i].abbr[n] = '\0';
	}
	off += block_len(&h, tsize);
	if (tsize == 8) { /* footer: "\n" TZ string "\n", the string may be empty */
		char s[130];
		const uint8_t *nl;
		if (off >= len || p[off] != '\n' ||
		    !(nl = memchr(p + off + 1, '\n', len - off - 1)) ||
		    (size_t)(nl - (p + off + 1)) >= sizeof(s)) {
			rc = bad(why, why_len, -EINVAL, "TZif footer missing or too long");
			goto fail;
		}
		size_t n = (size_t)(nl - (p + off + 1));
		memcpy(s, p + off + 1, n);
		s[n] = '\0';
		if (memchr(s, '\0', n)) {
			rc = bad(why, why_len, -EINVAL, "TZif footer holds a NUL");
			goto fail;
		}
		if (n && (rc = parse_footer(s, &tz->ft, why, why_len)) < 0)
			goto fail;
	}
	*out = tz;
	return 0;
fail:
	free(tz);
	return rc;
}

void gw_tz_free(struct gw_tz *tz)
{
	free(tz);
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= GW_TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (const char *c = name; *c; c++) {
		if (!is_alpha(*c) && !is_digit(*c) && !strchr("_+-/", *c))
			return false;
		if (*c == '/' && c[1] == '/')
			return false;
	}
	return true; /* no '.' at all, so no "." or ".." component */
}

int gw_tz_load(const char *dir, const char *name, struct gw_tz **out, char *why, size_t why_len)
{
	char path[256];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;

	if (!name || !name_ok(name))
		return bad(why, why_len, -EINVAL,
			   "time zone '%s': not a zone name (like Europe/Helsinki)",
			   name ? name : "");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : GW_TZ_DIR, name);
	/* not O_NOFOLLOW: Debian's tzdata links zones to each other */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		return bad(why, why_len, rc, "time zone %s: cannot open %s: %s", name, path,
			   strerror(-rc));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > GW_TZ_FILE_MAX) {
		close(fd);
		return bad(why, why_len, -EINVAL,
			   "time zone %s: %s is not a regular file of at most %d bytes", name, path,
			   GW_TZ_FILE_MAX);
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	rc = gw_tz_parse(buf, got, out, why, why_len);
	free(buf);
	if (rc < 0 && why && why_len) {
		char inner[160];
		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, why_len, "time zone %s (%s): %s", name, path, inner);
	}
	return rc;
}

/* Index of the last transition at or before t, or -1. */
static ssize_t last_at_or_before(const struct gw_tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n_trans; /* first index with at > t */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

static const struct ttype *type_at(const struct gw_tz *tz, int64_t t)
{
	ssize_t i = last_at_or_before(tz, t);

	if (tz->ft.present && (tz->n_trans == 0 || t >= tz->at[tz->n_trans - 1]))
		return footer_at(&tz->ft, t);
	if (i < 0)
		return &tz->types[0]; /* before the first transition: type 0 (RFC 8536) */
	return &tz->types[tz->idx[i]];
}

void gw_tz_at(const struct gw_tz *tz, int64_t t_s, struct gw_tz_info *info)
{
	const struct ttype *t = type_at(tz, t_s);

	info->off_s = t->off;
	info->dst = t->dst;
	info->abbr = t->abbr;
}

static bool differ(const struct gw_tz *tz, int64_t c)
{
	const struct ttype *a = type_at(tz, c - 1), *b = type_at(tz, c);
	return a->off != b->off || a->dst != b->dst;
}

int gw_tz_next_change(const struct gw_tz *tz, int64_t t_s, int64_t horizon_s, int64_t *next_s)
{
	int64_t best = INT64_MAX, lim;
	ssize_t i = last_at_or_before(tz, t_s);

	if (t_s < -FAR || t_s > FAR || horizon_s < 0 || horizon_s > FAR)
		return 0;
	lim = t_s + horizon_s;
	for (size_t k = (size_t)(i + 1); k < tz->n_trans && tz->at[k] <= lim; k++)
		if (differ(tz, tz->at[k])) {
			best = tz->at[k];
			break;
		}
	if (tz->ft.has_dst) {
		int64_t y = year_of_days(floor_div(t_s, 86400));
		for (int64_t yy = y - 1; yy <= y + 1; yy++) {
			int64_t c[2];
			rule_instants(&tz->ft, yy, &c[0], &c[1]);
			for (int j = 0; j < 2; j++)
				if (c[j] > t_s && c[j] < best && c[j] <= lim && differ(tz, c[j]))
					best = c[j];
		}
	}
	if (best == INT64_MAX)
		return 0;
	*next_s = best;
	return 1;
}
