/*
 * Unit test of the production build of the firmware core (without FW_HAL_TEST_INPUTS): the
 * test-only registers must not exist there, while the normal map works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_hal.h"
#include "fw_app.h"
#include "rinki/regmap.h"

#ifdef FW_HAL_TEST_INPUTS
#error "test_fw_prod must be built without FW_HAL_TEST_INPUTS"
#endif

static struct fw_app app;
static uint8_t rsp[FW_MB_ADU_MAX];

static int setup(void **state)
{
	(void)state;
	fake_hal_reset();
	fw_app_init(&app);
	return 0;
}

/* Send fc/addr/word, return the exception code of the reply (0 = normal reply). */
static int request(uint8_t fc, uint16_t addr, uint16_t word)
{
	const uint8_t req[] = {1, fc, addr >> 8, addr & 0xFF, word >> 8, word & 0xFF};
	size_t n = fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp));

	assert_true(n >= 5);
	assert_int_equal(fw_mb_crc16(rsp, (uint16_t)n), 0);
	return rsp[1] & 0x80 ? rsp[2] : 0;
}

static void test_no_test_registers(void **state)
{
	(void)state;
	assert_int_equal(request(0x04, RINKI_IREG_BOARD_ID, 1), 0);
	assert_int_equal(rsp[3] << 8 | rsp[4], FAKE_BOARD_ID);
	assert_int_equal(request(0x03, RINKI_HREG_TEST_INPUTS, 1), FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(request(0x03, RINKI_HREG_TEST_STALL, 1), FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(request(0x04, RINKI_IREG_TEST_OUTPUTS, 1), FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(request(0x06, RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_COR),
			 FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(request(0x06, RINKI_HREG_TEST_STALL, RINKI_TEST_STALL_MAGIC),
			 FW_MB_EX_ILLEGAL_ADDRESS);
	/* The loop still runs and kicks the watchdog. */
	unsigned kicks = fake_wdt_kicks;
	fake_run(&app, 200);
	assert_true(fake_wdt_kicks > kicks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_no_test_registers, setup),
	};
	return cmocka_run_group_tests_name("fw_prod", tests, NULL, NULL);
}
