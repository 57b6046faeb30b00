/*
 * Unit tests for gateway/core/tz.c: TZif files written here by a small generator (version
 * 1 only, version 2 with a footer; every truncation and lying count refused), POSIX TZ
 * rules of every date form, and the system's zones against the C library (setenv TZ and
 * localtime_r, in this test only) at every hour of 2025-2030 and at each change +-1 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"

/* A TZif image being written. */
struct img {
	uint8_t b[8192];
	size_t n;
};

static void put(struct img *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put32(struct img *m, uint32_t v)
{
	uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};
	put(m, b, 4);
}

static void put64(struct img *m, int64_t v)
{
	put32(m, (uint32_t)((uint64_t)v >> 32));
	put32(m, (uint32_t)v);
}

/* A zone: transitions, types (offset, dst, abbreviation index) and abbreviations. */
struct zone {
	size_t n;
	const int64_t *at;
	const uint8_t *idx;
	size_t n_types;
	const int32_t *off;
	const uint8_t *dst, *ai;
	const char *chars; /* with its NULs, chars_len bytes */
	size_t chars_len;
	uint32_t leap;
};

static void block(struct img *m, char version, const struct zone *z, int tsize)
{
	put(m, "TZif", 4);
	put(m, &version, 1);
	static const uint8_t zero[15];
	put(m, zero, 15);
	put32(m, (uint32_t)z->n_types); /* isut */
	put32(m, (uint32_t)z->n_types); /* isstd */
	put32(m, z->leap);
	put32(m, (uint32_t)z->n);
	put32(m, (uint32_t)z->n_types);
	put32(m, (uint32_t)z->chars_len);
	for (size_t i = 0; i < z->n; i++)
		tsize == 8 ? put64(m, z->at[i]) : put32(m, (uint32_t)(int32_t)z->at[i]);
	put(m, z->idx, z->n);
	for (size_t i = 0; i < z->n_types; i++) {
		put32(m, (uint32_t)z->off[i]);
		put(m, &z->dst[i], 1);
		put(m, &z->ai[i], 1);
	}
	put(m, z->chars, z->chars_len);
	for (uint32_t i = 0; i < z->leap; i++) {
		tsize == 8 ? put64(m, 100 + i) : put32(m, 100 + i);
		put32(m, i + 1);
	}
	for (size_t i = 0; i < 2 * z->n_types; i++)
		put(m, "\0", 1);
}

/* Version 1: the 32-bit block only. Version 2+: a minimal 32-bit block, the 64-bit one,
   the footer. */
static void gen(struct img *m, char version, const struct zone *z, const char *footer)
{
	m->n = 0;
	if (version == 0) {
		block(m, 0, z, 4);
		return;
	}
	static const int32_t o0[] = {0};
	static const uint8_t d0[] = {0}, a0[] = {0};
	struct zone v1 = {
	    .n_types = 1, .off = o0, .dst = d0, .ai = a0, .chars = "", .chars_len = 1};
	block(m, version, &v1, 4);
	block(m, version, z, 8);
	put(m, "\n", 1);
	put(m, footer, strlen(footer));
	put(m, "\n", 1);
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	return (int64_t)timegm(&tm);
}

static const int64_t ats[] = {1000, 2000, 4000000000LL};
static const uint8_t idxs[] = {1, 0, 1};
static const int32_t offs[] = {7200, 10800};
static const uint8_t dsts[] = {0, 1}, ais[] = {0, 4};
static const struct zone eet = {.n = 3,
				.at = ats,
				.idx = idxs,
				.n_types = 2,
				.off = offs,
				.dst = dsts,
				.ai = ais,
				.chars = "EET\0EEST",
				.chars_len = 9};

static void expect(const struct gw_tz *tz, int64_t t, int32_t off, bool dst, const char *abbr)
{
	struct gw_tz_info in;
	gw_tz_at(tz, t, &in);
	if (in.off_s != off || in.dst != dst || strcmp(in.abbr, abbr) != 0)
		fail_msg("at %lld: %d %d %s, want %d %d %s", (long long)t, in.off_s, in.dst,
			 in.abbr, off, dst, abbr);
}

static void test_v1(void **state)
{
	static struct img m;
	struct gw_tz *tz = NULL;
	char why[128];
	struct zone z = eet;

	(void)state;
	z.n = 2; /* 4e9 does not fit 32 bits */
	gen(&m, 0, &z, NULL);
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), 0);
	expect(tz, 999, 7200, false, "EET"); /* before the first: type 0 */
	expect(tz, 1000, 10800, true, "EEST");
	expect(tz, 1999, 10800, true, "EEST");
	expect(tz, 2000, 7200, false, "EET");
	expect(tz, utc(2030, 7, 1, 0, 0), 7200, false, "EET"); /* no footer: the last type */
	int64_t next;
	assert_int_equal(gw_tz_next_change(tz, 0, 5000, &next), 1);
	assert_int_equal(next, 1000);
	assert_int_equal(gw_tz_next_change(tz, 1000, 5000, &next), 1);
	assert_int_equal(next, 2000);
	assert_int_equal(gw_tz_next_change(tz, 2000, 1000000, &next), 0);
	gw_tz_free(tz);
}

static void test_v2_footer(void **state)
{
	static struct img m;
	struct gw_tz *tz = NULL;
	char why[128];
	int64_t next;

	(void)state;
	for (char v = '2'; v <= '4'; v++) {
		gen(&m, v, &eet, "EET-2EEST,M3.5.0/3,M10.5.0/4");
		assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), 0);
		expect(tz, 1500, 10800, true, "EEST");
		expect(tz, 3000, 7200, false, "EET");
		/* 64-bit data: the transition in 2096 is there */
		expect(tz, 4000000000LL - 1, 7200, false, "EET");
		expect(tz, 4000000000LL, 10800, true, "EEST");
		/* past the last transition: the footer (2096: 25 March, 28 October) */
		expect(tz, utc(2096, 10, 28, 0, 59) + 59, 10800, true, "EEST");
		expect(tz, utc(2096, 10, 28, 1, 0), 7200, false, "EET");
		expect(tz, utc(2097, 3, 31, 1, 0) - 1, 7200, false, "EET");
		expect(tz, utc(2097, 3, 31, 1, 0), 10800, true, "EEST");
		assert_int_equal(gw_tz_next_change(tz, utc(2097, 1, 1, 0, 0), 200 * 86400, &next),
				 1);
		assert_int_equal(next, utc(2097, 3, 31, 1, 0));
		gw_tz_free(tz);
		tz = NULL;
	}
	/* an empty footer: the last type stays */
	gen(&m, '2', &eet, "");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), 0);
	expect(tz, utc(2200, 1, 1, 0, 0), 10800, true, "EEST");
	gw_tz_free(tz);
}

static void test_refused(void **state)
{
	static struct img m, bad;
	struct gw_tz *tz = NULL;
	char why[128];

	(void)state;
	gen(&m, '2', &eet, "EET-2EEST,M3.5.0/3,M10.5.0/4");
	for (size_t n = 0; n < m.n; n++) /* every truncation */
		if (gw_tz_parse(m.b, n, &tz, why, sizeof(why)) != -EINVAL)
			fail_msg("truncated to %zu of %zu bytes: accepted", n, m.n);
	gen(&m, 0, &eet, NULL);
	for (size_t n = 0; n < m.n; n++)
		if (gw_tz_parse(m.b, n, &tz, why, sizeof(why)) != -EINVAL)
			fail_msg("v1 truncated to %zu of %zu bytes: accepted", n, m.n);

	gen(&m, '2', &eet, "EET-2EEST,M3.5.0/3,M10.5.0/4");
	size_t v2 = 44 + 6 + 1 + 2; /* the 64-bit header after the minimal v1 block */
	assert_memory_equal(m.b + v2, "TZif", 4);
	/* lying counts: one transition more than there is, a huge count, zero types */
	static const struct {
		size_t at;
		uint32_t v;
	} lies[] = {{32, 4}, {32, 0x7fffffff}, {32, 0xffffffff}, {36, 0}, {36, 3},
		    {40, 0}, {40, 0xffffff00}, {20, 1},		 {24, 5}};
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		bad = m;
		uint32_t v = lies[i].v;
		uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};
		memcpy(bad.b + v2 + lies[i].at, b, 4);
		if (gw_tz_parse(bad.b, bad.n, &tz, why, sizeof(why)) != -EINVAL)
			fail_msg("count at +%zu = %u: accepted", lies[i].at, v);
	}
	bad = m;
	bad.b[0] = 'X';
	assert_int_equal(gw_tz_parse(bad.b, bad.n, &tz, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a TZif"));
	bad = m;
	bad.b[4] = '5';
	assert_int_equal(gw_tz_parse(bad.b, bad.n, &tz, why, sizeof(why)), -EINVAL);

	/* not ascending; a type index out of range; an abbreviation index outside; no NUL */
	static const int64_t down[] = {2000, 1000, 3000};
	static const uint8_t idx_bad[] = {1, 2, 1};
	static const uint8_t ai_bad[] = {0, 9}, dst_bad[] = {0, 2};
	static const int32_t off_bad[] = {7200, 100000};
	struct zone z;
	z = eet, z.at = down;
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	z = eet, z.idx = idx_bad;
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	z = eet, z.ai = ai_bad;
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	z = eet, z.dst = dst_bad;
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	z = eet, z.off = off_bad;
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	z = eet, z.chars = "EET\0EEST!", z.chars_len = 9; /* the last one unterminated */
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	z = eet, z.chars = "EET\0<b>!", z.chars_len = 9; /* not letters, digits, + or - */
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "abbreviation"));
	z = eet, z.leap = 1;
	gen(&m, '2', &z, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -ENOTSUP);
	/* footers: missing, unterminated, bad */
	gen(&m, '2', &eet, "EET-2");
	assert_int_equal(gw_tz_parse(m.b, m.n - 1, &tz, why, sizeof(why)), -EINVAL);
	m.b[m.n - 7] = 'X';
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	gen(&m, '2', &eet, "EET-2EEST");
	assert_int_equal(gw_tz_parse(m.b, m.n, &tz, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "EET-2EEST"));
	assert_int_equal(gw_tz_parse(NULL, 0, &tz, why, sizeof(why)), -EINVAL);
}

/* A POSIX rule's zone at UTC y-mo-d h:mi (+ s). */
static void rule_at(const char *rule, int64_t t, int32_t off, bool dst, const char *abbr)
{
	struct gw_tz *tz = NULL;
	char why[128];
	if (gw_tz_parse_posix(rule, &tz, why, sizeof(why)) != 0)
		fail_msg("'%s': %s", rule, why);
	expect(tz, t, off, dst, abbr);
	gw_tz_free(tz);
}

static void test_posix_rules(void **state)
{
	(void)state;
	rule_at("UTC0", 0, 0, false, "UTC");
	rule_at("<+03>-3", utc(2026, 7, 1, 0, 0), 10800, false, "+03");
	rule_at("<-0330>3:30", 0, -12600, false, "-0330");
	/* US rule, default 02:00 times */
	rule_at("EST5EDT,M3.2.0,M11.1.0", utc(2026, 3, 8, 7, 0) - 1, -18000, false, "EST");
	rule_at("EST5EDT,M3.2.0,M11.1.0", utc(2026, 3, 8, 7, 0), -14400, true, "EDT");
	rule_at("EST5EDT,M3.2.0,M11.1.0", utc(2026, 11, 1, 6, 0) - 1, -14400, true, "EDT");
	rule_at("EST5EDT,M3.2.0,M11.1.0", utc(2026, 11, 1, 6, 0), -18000, false, "EST");
	/* southern hemisphere: summer across the new year */
	rule_at("AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2026, 1, 1, 0, 0), 39600, true, "AEDT");
	rule_at("AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2026, 4, 4, 16, 0) - 1, 39600, true, "AEDT");
	rule_at("AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2026, 4, 4, 16, 0), 36000, false, "AEST");
	rule_at("AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2026, 10, 3, 16, 0), 39600, true, "AEDT");
	/* negative summer time (Europe/Dublin): winter is the "dst" */
	rule_at("IST-1GMT0,M10.5.0,M3.5.0/1", utc(2026, 1, 15, 0, 0), 0, true, "GMT");
	rule_at("IST-1GMT0,M10.5.0,M3.5.0/1", utc(2026, 3, 29, 1, 0), 3600, false, "IST");
	rule_at("IST-1GMT0,M10.5.0,M3.5.0/1", utc(2026, 10, 25, 1, 0), 0, true, "GMT");
	/* negative rule times (America/Nuuk): 24 March 2029 23:00 local is 01:00 UTC */
	rule_at("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", utc(2029, 3, 25, 1, 0) - 1, -7200, false, "-02");
	rule_at("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", utc(2029, 3, 25, 1, 0), -3600, true, "-01");
	/* Jn never counts 29 February, n does: in 2028 J60 is 1 March, 59 is 29 February */
	rule_at("XXX0YYY,J60/0,J300/0", utc(2028, 3, 1, 0, 0) - 1, 0, false, "XXX");
	rule_at("XXX0YYY,J60/0,J300/0", utc(2028, 3, 1, 0, 0), 3600, true, "YYY");
	rule_at("XXX0YYY,59/0,299/0", utc(2028, 2, 29, 0, 0) - 1, 0, false, "XXX");
	rule_at("XXX0YYY,59/0,299/0", utc(2028, 2, 29, 0, 0), 3600, true, "YYY");
	rule_at("XXX0YYY,J60/0,J300/0", utc(2027, 3, 1, 0, 0), 3600, true, "YYY");
	/* hh:mm:ss offsets and times, the 5th week as the last, permanent summer time */
	rule_at("AAA-1:30:15BBB-2:30:15,M2.5.0/1:02:03,M10.5.0", utc(2026, 2, 22, 0, 0) - 3600,
		5415, false, "AAA");
	rule_at("AAA-1:30:15BBB-2:30:15,M2.5.0/1:02:03,M10.5.0", utc(2026, 2, 22, 1, 2) + 3 - 5415,
		9015, true, "BBB");
	rule_at("EST5EDT,0/0,J365/25", utc(2026, 1, 1, 6, 0), -14400, true, "EDT");
	rule_at("EST5EDT,0/0,J365/25", utc(2026, 12, 31, 12, 0), -14400, true, "EDT");

	static const char *const bad[] = {"",
					  "EE-2",
					  "EET",
					  "EET-2EEST",
					  "EET-2EEST,M13.1.0,M10.5.0",
					  "EET-2EEST,M3.6.0,M10.5.0",
					  "EET-2EEST,M3.5.7,M10.5.0",
					  "EET-25",
					  "EET-2EEST,M3.5.0/168,M10.5.0",
					  "EET-2EEST,M3.5.0,M10.5.0x",
					  "EET-2EEST,J0,J365",
					  "EET-2EEST,366,0",
					  "EET-2:60",
					  "<EE>-2",
					  "<EET-2",
					  "EET-2EEST,M3.5.0",
					  "EET-0002"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gw_tz *tz = NULL;
		char why[128];
		if (gw_tz_parse_posix(bad[i], &tz, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
}

static void test_load_names(void **state)
{
	struct gw_tz *tz = NULL;
	char why[256];

	(void)state;
	static const char *const bad[] = {"",
					  "/etc/passwd",
					  "../../etc/passwd",
					  "Europe/..",
					  "Europe//Helsinki",
					  "Europe/Hel sinki",
					  "Europe/",
					  "a.b",
					  "Europe/Helsinki\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gw_tz_load(NULL, bad[i], &tz, why, sizeof(why)) != -EINVAL)
			fail_msg("name '%s' accepted", bad[i]);
	assert_int_equal(gw_tz_load(NULL, "Nowhere/Atlantis", &tz, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "/usr/share/zoneinfo/Nowhere/Atlantis"));
	assert_int_equal(gw_tz_load(NULL, "Europe", &tz, why, sizeof(why)), -EINVAL); /* a dir */
	assert_int_equal(gw_tz_load("/etc", "passwd", &tz, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a TZif"));
	assert_int_equal(gw_tz_load(NULL, "UTC", &tz, why, sizeof(why)), 0); /* a symlink */
	expect(tz, 0, 0, false, "UTC");
	gw_tz_free(tz);
}

/* The C library's answer at t under TZ=name. */
static void libc_at(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;
	assert_non_null(localtime_r(&tt, tm));
}

static bool same(const struct gw_tz *tz, int64_t t)
{
	struct tm tm;
	struct gw_tz_info in;
	libc_at(t, &tm);
	gw_tz_at(tz, t, &in);
	if (in.off_s != tm.tm_gmtoff || in.dst != (tm.tm_isdst > 0) ||
	    strcmp(in.abbr, tm.tm_zone) != 0)
		fail_msg("at %lld: %d %d %s, libc %ld %d %s", (long long)t, in.off_s, in.dst,
			 in.abbr, tm.tm_gmtoff, tm.tm_isdst, tm.tm_zone);
	return true;
}

static void test_against_libc(void **state)
{
	static const char *const zones[] = {"Europe/Helsinki", "Europe/Stockholm",
					    "America/New_York", "UTC"};
	static const int want_edges[] = {12, 12, 12, 0};
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		struct gw_tz *tz = NULL;
		char why[256];
		if (gw_tz_load(NULL, zones[z], &tz, why, sizeof(why)) != 0)
			fail_msg("%s (install tzdata: make deps)", why);
		setenv("TZ", zones[z], 1);
		tzset();
		int64_t from = utc(2025, 1, 1, 0, 0), to = utc(2031, 1, 1, 0, 0);
		int edges = 0;
		for (int64_t t = from; t < to; t += 3600) {
			same(tz, t);
			struct tm a, b;
			libc_at(t, &a);
			libc_at(t + 3600, &b);
			if (a.tm_gmtoff == b.tm_gmtoff && a.tm_isdst == b.tm_isdst)
				continue;
			/* a change in (t, t + 1 h]: find it, then check it and +-1 s */
			int64_t lo = t, hi = t + 3600;
			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;
				libc_at(mid, &b);
				if (b.tm_gmtoff == a.tm_gmtoff && b.tm_isdst == a.tm_isdst)
					lo = mid;
				else
					hi = mid;
			}
			same(tz, hi - 1);
			same(tz, hi);
			same(tz, hi + 1);
			int64_t next = 0;
			assert_int_equal(gw_tz_next_change(tz, t, 2 * 3600, &next), 1);
			assert_int_equal(next, hi);
			assert_int_equal(gw_tz_next_change(tz, hi - 86400, 86400, &next), 1);
			assert_int_equal(next, hi);
			edges++;
		}
		if (edges != want_edges[z])
			fail_msg("%s: %d changes in 2025-2030, want %d", zones[z], edges,
				 want_edges[z]);
		gw_tz_free(tz);
	}
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1),	       cmocka_unit_test(test_v2_footer),
	    cmocka_unit_test(test_refused),    cmocka_unit_test(test_posix_rules),
	    cmocka_unit_test(test_load_names), cmocka_unit_test(test_against_libc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
