/* Unit tests for gateway/pei.c line parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "pei.h"

static void test_cticn_full(void **state)
{
	(void)state;
	struct gw_pei_call_in c;
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,4,1002,1,1,0,1,1,0,1000,1", &c), 0);
	assert_int_equal(c.cci, 1);
	assert_int_equal(c.calling_type, 4);
	assert_string_equal(c.calling, "1002");
	assert_int_equal(c.hook, 1);
	assert_int_equal(c.simplex, 1);
	assert_int_equal(c.comms_type, 1);
	assert_string_equal(c.called, "1000");
	assert_int_equal(c.priority, 1);
	/* 17-digit TSI form */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 12,0,0,5,09011638300023404,1,1,0,1,1,5,"
					    "09011638300000001,0",
					    &c),
			 0);
	assert_int_equal(c.cci, 12);
	assert_string_equal(c.calling, "09011638300023404");
	assert_string_equal(c.called, "09011638300000001");
}

static void test_cticn_optional_fields(void **state)
{
	(void)state;
	struct gw_pei_call_in c;
	/* minimal form and empty optional fields */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 3,0,0", &c), 0);
	assert_int_equal(c.cci, 3);
	assert_int_equal(c.hook, -1);
	assert_string_equal(c.calling, "");
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 3,0,0,,,0,,,,,,,", &c), 0);
	assert_int_equal(c.hook, 0);
	assert_int_equal(c.priority, -1);
	/* quoted identity, priority 15 */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 3,0,0,0,\"2269001\",0,0,0,0,1,0,1001,15", &c),
			 0);
	assert_string_equal(c.calling, "2269001");
	assert_int_equal(c.priority, 15);
}

static void test_cticn_bad(void **state)
{
	(void)state;
	struct gw_pei_call_in c;
	assert_int_equal(gw_pei_parse_cticn("+CTICN:", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTICN: x,0,0", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,0,12a4", &c), -EINVAL);
	/* identity over 17 digits */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,5,123456789012345678", &c), -EINVAL);
	/* too many fields */
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 1,0,0,0,1,0,0,0,0,1,0,1,0,9", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTCC: 1", &c), -EINVAL);
	assert_int_equal(gw_pei_parse_cticn("+CTICN: 70000,0,0", &c), -EINVAL);
}

static void test_ctcc_ctcr(void **state)
{
	(void)state;
	int cci, cause;
	assert_int_equal(gw_pei_parse_ctcc("+CTCC: 1,1,1,0,0,1,1", &cci), 0);
	assert_int_equal(cci, 1);
	assert_int_equal(gw_pei_parse_ctcc("+CTCC: 7", &cci), 0);
	assert_int_equal(cci, 7);
	assert_int_equal(gw_pei_parse_ctcc("+CTCC: ", &cci), -EINVAL);
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1,13", &cci, &cause), 0);
	assert_int_equal(cci, 1);
	assert_int_equal(cause, 13);
	assert_string_equal(gw_pei_cause_name(cause), "timer expiry");
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1", &cci, &cause), -EINVAL);
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1,2,3", &cci, &cause), -EINVAL);
	assert_int_equal(gw_pei_parse_ctcr("+CTCR: 1,999", &cci, &cause), -EINVAL);
	assert_string_equal(gw_pei_cause_name(1), "user request");
	assert_string_equal(gw_pei_cause_name(25), "reserved");
	assert_string_equal(gw_pei_cause_name(40), "security parameter mismatch");
	assert_string_equal(gw_pei_cause_name(41), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cticn_full),
	    cmocka_unit_test(test_cticn_optional_fields),
	    cmocka_unit_test(test_cticn_bad),
	    cmocka_unit_test(test_ctcc_ctcr),
	};
	return cmocka_run_group_tests_name("pei", tests, NULL, NULL);
}
