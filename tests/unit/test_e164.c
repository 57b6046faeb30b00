/*
 * Unit tests for gateway/core/e164.c: the one phone-number comparison. Full E.164 only;
 * national Finnish forms ("0...", "00...") to +358 / +; nothing else is a number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "core/e164.h"

static void test_canon(void **state)
{
	(void)state;
	char out[GW_E164_MAX];
	assert_int_equal(gw_e164_canon("+358401234567", out), 13);
	assert_string_equal(out, "+358401234567");
	assert_int_equal(gw_e164_canon("0401234567", out), 13);
	assert_string_equal(out, "+358401234567");
	assert_int_equal(gw_e164_canon("00358401234567", out), 13);
	assert_string_equal(out, "+358401234567");
	assert_int_equal(gw_e164_canon("0046701234567", out), 12);
	assert_string_equal(out, "+46701234567");
	assert_int_equal(gw_e164_canon("+123456789012345", out), 16); /* 15 digits */
	static const char *const bad[] = {"",
					  "+",
					  "0",
					  "00",
					  "401234567",
					  "358401234567",
					  "A401234567",
					  "+358 40 1",
					  "+35840123456a",
					  "+0401234567",
					  "000401234567",
					  "+1234567890123456", /* 16 digits */
					  "0"
					  "123456789012345", /* +358 and 15 more: too long */
					  "+12",
					  "++358401234567",
					  "+358401234567\n",
					  "0401234567 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gw_e164_canon(bad[i], out), -EINVAL);
		assert_string_equal(out, "");
	}
	assert_int_equal(gw_e164_canon(NULL, out), -EINVAL);
}

static void test_same(void **state)
{
	(void)state;
	assert_true(gw_e164_same("+358401234567", "0401234567"));
	assert_true(gw_e164_same("0401234567", "00358401234567"));
	/* the same last nine digits are not the same phone */
	assert_false(gw_e164_same("+358401234567", "+46401234567"));
	assert_false(gw_e164_same("+358401234567", "A401234567"));
	assert_false(gw_e164_same("+358401234567", "401234567"));
	assert_false(gw_e164_same("+358401234567", "358401234567"));
	assert_false(gw_e164_same("+358401234567", "+3584012345670"));
	assert_false(gw_e164_same("+358401234567", "+358401234568"));
	/* something that is no number is not even itself */
	assert_false(gw_e164_same("A401234567", "A401234567"));
	assert_false(gw_e164_same("", ""));
	assert_false(gw_e164_same(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canon),
	    cmocka_unit_test(test_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
