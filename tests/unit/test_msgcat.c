/*
 * Unit tests for gateway/service/msgcat.c: the catalogue is complete (every text in fi, sv
 * and en, each using exactly the blanks its entry declares), blanks fill by name in any
 * order, values are never expanded again, and a text that does not fit is cut between
 * characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "service/msgcat.h"

static const char *const langs[] = {"fi", "sv", "en"};

/* Is the blank name (n bytes) among the space-separated list? */
static int declared(const char *list, const char *name, size_t n)
{
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, " ");
		if (k == n && memcmp(p, name, n) == 0)
			return 1;
		p += k;
		p += strspn(p, " ");
	}
	return 0;
}

static void test_catalogue_complete(void **state)
{
	(void)state;
	int blanks_seen = 0;
	for (int id = 0; id < GW_MSG_COUNT; id++) {
		const char *list = gw_msg_blanks((enum gw_msg)id);
		assert_non_null(list);
		for (size_t l = 0; l < 3; l++) {
			const char *t = gw_msg_template((enum gw_msg)id, langs[l]);
			if (!t || !*t)
				fail_msg("message %d has no %s text", id, langs[l]);
			/* every blank used is declared */
			for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
				const char *e = strchr(p, '}');
				assert_non_null(e);
				if (!declared(list, p + 1, (size_t)(e - p - 1)))
					fail_msg("message %d (%s) uses an undeclared blank: %s", id,
						 langs[l], p);
				blanks_seen++;
			}
			/* every declared blank is used, in every language */
			for (const char *p = list; *p;) {
				size_t k = strcspn(p, " ");
				char want[32];
				snprintf(want, sizeof(want), "{%.*s}", (int)k, p);
				if (!strstr(t, want))
					fail_msg("message %d (%s) leaves out %s", id, langs[l],
						 want);
				p += k;
				p += strspn(p, " ");
			}
			/* each text is well-formed UTF-8 */
			for (const unsigned char *u = (const unsigned char *)t; *u;) {
				unsigned k = gw_utf8_len(u, strlen((const char *)u), NULL);
				if (k == 0 && *u >= 0x80)
					fail_msg("message %d (%s) is not UTF-8", id, langs[l]);
				u += k ? k : 1;
			}
		}
		/* the languages differ from each other: none was copied untranslated */
		{
			assert_string_not_equal(gw_msg_template((enum gw_msg)id, "fi"),
						gw_msg_template((enum gw_msg)id, "sv"));
			assert_string_not_equal(gw_msg_template((enum gw_msg)id, "sv"),
						gw_msg_template((enum gw_msg)id, "en"));
		}
	}
	assert_true(blanks_seen > 3 * 10);
	assert_null(gw_msg_template(GW_MSG_COUNT, "fi"));
	assert_null(gw_msg_template(GW_MSG_PAGE, "de"));
}

static void test_format_fills_by_name(void **state)
{
	(void)state;
	char buf[320];
	const struct gw_msg_arg a[] = {
	    {"line", "Sosiaalipäivystys"}, {"code", "37"}, {"who", "Poliisi (2269001)"}};
	int n = gw_msg_format(GW_MSG_PAGE_CODE, "fi", a, 3, buf, sizeof(buf));
	assert_string_equal(buf, "VIRVE-puhelu: Poliisi (2269001), Sosiaalipäivystys. Vastaa "
				 "puheluun ja paina 4, tai vastaa tähän 37a.");
	assert_int_equal(n, (int)strlen(buf));
	gw_msg_format(GW_MSG_PAGE_CODE, "sv", a, 3, buf, sizeof(buf));
	assert_string_equal(buf, "VIRVE-samtal: Poliisi (2269001), Sosiaalipäivystys. Svara och "
				 "tryck 4, eller svara här 37a.");
	gw_msg_format(GW_MSG_PAGE_CODE, "en", a, 3, buf, sizeof(buf));
	assert_string_equal(buf, "VIRVE call: Poliisi (2269001), Sosiaalipäivystys. Answer the "
				 "call and press 4, or reply 37a here.");
	/* an unknown or missing language is Finnish */
	gw_msg_format(GW_MSG_UNSTAFFED, "de", a, 3, buf, sizeof(buf));
	assert_string_equal(buf, "Sosiaalipäivystys: ei päivystäjää vuorossa juuri nyt.");
	gw_msg_format(GW_MSG_UNSTAFFED, NULL, a, 3, buf, sizeof(buf));
	assert_string_equal(buf, "Sosiaalipäivystys: ei päivystäjää vuorossa juuri nyt.");
	assert_string_equal(gw_msg_lang("sv"), "sv");
	assert_string_equal(gw_msg_lang(""), "fi");
}

static void test_values_not_expanded(void **state)
{
	(void)state;
	char buf[200];
	/* an officer's text holding "{who}" or "%s" stays as typed */
	const struct gw_msg_arg a[] = {{"who", "2269001"}, {"text", "{who} %s %n {text}"}};
	gw_msg_format(GW_MSG_RELAY_TO_WORKER, "en", a, 2, buf, sizeof(buf));
	assert_string_equal(buf, "VIRVE 2269001: {who} %s %n {text} (reply to this message)");
	/* a blank without a value stays visible; NULL reads as "" */
	const struct gw_msg_arg b[] = {{"who", NULL}};
	gw_msg_format(GW_MSG_RELAY_TO_WORKER, "en", b, 1, buf, sizeof(buf));
	assert_string_equal(buf, "VIRVE : {text} (reply to this message)");
	assert_int_equal(gw_msg_format(GW_MSG_COUNT, "fi", b, 1, buf, sizeof(buf)), -EINVAL);
	assert_string_equal(buf, "");
}

static void test_cut_between_characters(void **state)
{
	(void)state;
	const struct gw_msg_arg a[] = {{"line", "Äää"}};
	char full[200];
	int n = gw_msg_format(GW_MSG_UNSTAFFED, "fi", a, 1, full, sizeof(full));
	assert_true(n > 0);
	/* every size from 1 to the whole: a prefix, never half a character */
	for (size_t len = 1; len <= (size_t)n + 1; len++) {
		char buf[200];
		int rc = gw_msg_format(GW_MSG_UNSTAFFED, "fi", a, 1, buf, len);
		size_t got = strlen(buf);
		assert_true(got < len);
		assert_memory_equal(buf, full, got);
		assert_int_equal(rc, len > (size_t)n ? n : -E2BIG);
		for (size_t i = 0; i < got;) {
			unsigned k = gw_utf8_len((const unsigned char *)buf + i, got - i, NULL);
			assert_true(k > 0 || (unsigned char)buf[i] < 0x80);
			i += k ? k : 1;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue_complete),
	    cmocka_unit_test(test_format_fills_by_name),
	    cmocka_unit_test(test_values_not_expanded),
	    cmocka_unit_test(test_cut_between_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
