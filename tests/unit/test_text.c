/*
 * Unit tests for gateway/core/text.c: CSV fields neutralised against formulas (and back),
 * terminal text with every control sequence escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

static const char *csv(const char *s, unsigned flags)
{
	static char buf[512];
	memset(buf, 0, sizeof(buf));
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	assert_int_equal(gw_text_csv_put(f, s, flags), 0);
	fclose(f);
	return buf;
}

static void test_csv_formulas_neutralised(void **state)
{
	(void)state;
	assert_string_equal(csv("=HYPERLINK(\"http://x\",\"y\")", 0),
			    "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
	assert_string_equal(csv("+358401234567", 0), "\"'+358401234567\"");
	assert_string_equal(csv("-1+1", 0), "\"'-1+1\"");
	assert_string_equal(csv("@SUM(A1)", 0), "\"'@SUM(A1)\"");
	assert_string_equal(csv("\t=1", 0), "\"'\t=1\"");
	assert_string_equal(csv("\r=1", 0), "\"'\r=1\"");
	assert_string_equal(csv("'=1", 0), "\"''=1\"");
	/* plain fields as before */
	assert_string_equal(csv("Aino", 0), "Aino");
	assert_string_equal(csv("a,b", 0), "\"a,b\"");
	assert_string_equal(csv("it's", 0), "it's");
	assert_string_equal(csv("a=b", 0), "a=b");
	assert_string_equal(csv("x # y", 0), "x # y");
	assert_string_equal(csv("x # y", GW_TEXT_CSV_ROSTER), "\"x # y\"");
	assert_string_equal(csv(" x", GW_TEXT_CSV_ROSTER), "\" x\"");
	assert_string_equal(csv(NULL, 0), "");
}

static void test_csv_round_trip(void **state)
{
	(void)state;
	static const char *const vals[] = {"=1+1", "+358401234567", "'=1", "''=1", "'a", "a"};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		char back[64];
		const char *w = csv(vals[i], 0);
		/* strip the quotes as a reader does (no quotes inside these) */
		size_t n = strlen(w);
		if (w[0] == '"') {
			memcpy(back, w + 1, n - 2);
			back[n - 2] = '\0';
			gw_text_csv_unneutralise(back);
		} else {
			snprintf(back, sizeof(back), "%s", w);
		}
		assert_string_equal(back, vals[i]);
	}
}

static void test_term_escapes_controls(void **state)
{
	(void)state;
	char out[128];
	assert_string_equal(gw_text_term("\x1b]0;pwned\x07\x1b[2J", out, sizeof(out)),
			    "\\e]0;pwned\\x07\\e[2J");
	assert_string_equal(gw_text_term("a\nb\rc\td\x7f", out, sizeof(out)), "a\\nb\\rc\\td\\x7f");
	/* C1 controls in UTF-8 (CSI U+009B), and a raw 8-bit CSI byte */
	assert_string_equal(gw_text_term("x\xc2\x9b"
					 "31m",
					 out, sizeof(out)),
			    "x\\u009b31m");
	assert_string_equal(gw_text_term("x\x9b"
					 "31m",
					 out, sizeof(out)),
			    "x\\x9b31m");
	/* printable UTF-8 stays; overlong and surrogate forms do not */
	assert_string_equal(gw_text_term("Päivystys €", out, sizeof(out)), "Päivystys €");
	assert_string_equal(gw_text_term("\xc0\xaf", out, sizeof(out)), "\\xc0\\xaf");
	assert_string_equal(gw_text_term("\xed\xa0\x80", out, sizeof(out)), "\\xed\\xa0\\x80");
	assert_string_equal(gw_text_term("back\\slash", out, sizeof(out)), "back\\\\slash");
	assert_string_equal(gw_text_term(NULL, out, sizeof(out)), "-");
	/* cut to fit, never inside an escape */
	assert_string_equal(gw_text_term("ab\x1b", out, 4), "ab");
	assert_string_equal(gw_text_term("aä", out, 3), "a");
}

/* The one UTF-8 check: lengths, code points, and every kind of ill-formed sequence. */
static void test_utf8_len(void **state)
{
	(void)state;
	uint32_t cp = 0;
	const unsigned char *u = (const unsigned char *)"\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80";
	assert_int_equal(gw_utf8_len(u, 9, &cp), 2);
	assert_int_equal(cp, 0xe4); /* ä */
	assert_int_equal(gw_utf8_len(u + 2, 7, &cp), 3);
	assert_int_equal(cp, 0x20ac); /* € */
	assert_int_equal(gw_utf8_len(u + 5, 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(gw_utf8_len(u + 5, 3, &cp), 0); /* cut off */
	assert_int_equal(gw_utf8_len(u, 0, &cp), 0);
	assert_int_equal(gw_utf8_len(u, 2, NULL), 2);
	static const char *const bad[] = {
	    "A",		/* ASCII is not a multi-byte character */
	    "\x80",		/* a continuation byte first */
	    "\xc0\x80",		/* overlong NUL */
	    "\xc1\xbf",		/* overlong */
	    "\xe0\x80\x80",	/* overlong */
	    "\xed\xa0\x80",	/* surrogate U+D800 */
	    "\xf4\x90\x80\x80", /* above U+10FFFF */
	    "\xf5\x80\x80\x80", /* no such lead */
	    "\xc3\x28",		/* no continuation */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_utf8_len((const unsigned char *)bad[i], strlen(bad[i]), &cp),
				 0);
	assert_int_equal(gw_utf8_len((const unsigned char *)"\xc2\x85", 2, &cp), 2);
	assert_int_equal(cp, 0x85); /* a C1 control is well-formed UTF-8: callers refuse it */
}

/* gw_text_copy matches snprintf("%s") byte for byte, whatever the length, and says when it cut. */
static void test_copy_like_snprintf(void **state)
{
	(void)state;
	static const char *const src[] = {"", "a", "abc", "abcd", "abcde", "\xc3\xa4\xc3\xa4x"};
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		for (size_t len = 1; len <= 8; len++) {
			char want[8], got[8];
			memset(want, 'Z', sizeof(want));
			memset(got, 'Z', sizeof(got));
			int n = snprintf(want, len, "%s", src[i]);
			int rc = gw_text_copy(got, len, src[i]);
			assert_memory_equal(got, want, sizeof(got)); /* and nothing past the NUL */
			if ((size_t)n < len)
				assert_int_equal(rc, n);
			else
				assert_int_equal(rc, -ENOSPC);
		}
	}
	char one[4] = "xyz";
	assert_int_equal(gw_text_copy(one, sizeof(one), NULL), 0);
	assert_string_equal(one, "");
}

/* gw_text_int matches snprintf("%s%" PRId64) byte for byte, whatever the length. */
static void test_int_like_snprintf(void **state)
{
	(void)state;
	static const char *const pre[] = {NULL, "", "new", "abcdefgh"};
	static const int64_t v[] = {0, 7, -7, 42, 1000, -1000, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
			for (size_t len = 1; len <= 32; len++) {
				char want[32], got[32];
				memset(want, 'Z', sizeof(want));
				memset(got, 'Z', sizeof(got));
				int n =
				    snprintf(want, len, "%s%" PRId64, pre[i] ? pre[i] : "", v[k]);
				int rc = gw_text_int(got, len, pre[i], v[k]);
				assert_memory_equal(got, want, sizeof(got));
				if ((size_t)n < len)
					assert_int_equal(rc, n);
				else
					assert_int_equal(rc, -ENOSPC);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_formulas_neutralised),
	    cmocka_unit_test(test_csv_round_trip),
	    cmocka_unit_test(test_term_escapes_controls),
	    cmocka_unit_test(test_utf8_len),
	    cmocka_unit_test(test_copy_like_snprintf),
	    cmocka_unit_test(test_int_like_snprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
