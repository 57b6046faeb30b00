/*
 * Unit tests of the firmware application (fw_app + fw_io + fw_wdt) over the fake HAL, driven
 * through Modbus frames like the gateway does: identity, PTT time-out, heartbeat loss and
 * recovery, debounce, LEDs, register range checks, slave address change, the watchdog policy
 * and the counters kept across warm resets. Built with FW_HAL_TEST_INPUTS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_hal.h"
#include "fw_app.h"
#include "fw_version.h"
#include "rinki/regmap.h"

static struct fw_app app;
static uint8_t rsp[FW_MB_ADU_MAX];
static uint8_t slave = 1;

static int setup(void **state)
{
	(void)state;
	fake_hal_reset();
	slave = 1;
	fw_app_init(&app);
	return 0;
}

/* Exception code of the reply (0 if it is a normal reply); fails on no reply or a bad CRC. */
static int reply_ex(size_t n, uint8_t fc)
{
	assert_true(n >= 5);
	assert_int_equal(fw_mb_crc16(rsp, (uint16_t)n), 0);
	assert_int_equal(rsp[0], slave);
	if (rsp[1] == (fc | 0x80))
		return rsp[2];
	assert_int_equal(rsp[1], fc);
	return 0;
}

static int write_reg(uint16_t addr, uint16_t val)
{
	const uint8_t req[] = {slave, 0x06, addr >> 8, addr & 0xFF, val >> 8, val & 0xFF};
	return reply_ex(fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp)), 0x06);
}

static int write_coil(uint16_t addr, bool on)
{
	const uint8_t req[] = {slave, 0x05, addr >> 8, addr & 0xFF, on ? 0xFF : 0x00, 0x00};
	return reply_ex(fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp)), 0x05);
}

/* Read one register or bit with function fc; fails the test on an exception. */
static uint16_t read1(uint8_t fc, uint16_t addr)
{
	const uint8_t req[] = {slave, fc, addr >> 8, addr & 0xFF, 0x00, 0x01};
	size_t n = fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp));

	assert_int_equal(reply_ex(n, fc), 0);
	if (fc <= 0x02)
		return rsp[3] & 1;
	return (uint16_t)(rsp[3] << 8 | rsp[4]);
}

static int read_ex(uint8_t fc, uint16_t addr, uint16_t qty)
{
	const uint8_t req[] = {slave, fc, addr >> 8, addr & 0xFF, qty >> 8, qty & 0xFF};
	return reply_ex(fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp)), fc);
}

#define IREG(a) read1(0x04, a)
#define HREG(a) read1(0x03, a)
#define COIL(a) read1(0x01, a)
#define DI(a)	read1(0x02, a)

static void test_identity(void **state)
{
	(void)state;
	assert_int_equal(IREG(RINKI_IREG_BOARD_ID), FAKE_BOARD_ID);
	assert_int_equal(IREG(RINKI_IREG_FW_MAJOR), FW_VERSION_MAJOR);
	assert_int_equal(IREG(RINKI_IREG_FW_MINOR), FW_VERSION_MINOR);
	assert_int_equal(IREG(RINKI_IREG_FW_PATCH), FW_VERSION_PATCH);
	assert_int_equal(IREG(RINKI_IREG_BUILD_HASH_HI), 0x1234);
	assert_int_equal(IREG(RINKI_IREG_BUILD_HASH_LO), 0x5678);
	assert_int_equal(IREG(RINKI_IREG_REGMAP_VERSION), RINKI_REGMAP_VERSION);
	/* The whole input block reads in one request; one past it is exception 02. */
	assert_int_equal(read_ex(0x04, 0, RINKI_IREG_COUNT), 0);
	assert_int_equal(read_ex(0x04, 0, RINKI_IREG_COUNT + 1), FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(read_ex(0x03, 0, RINKI_HREG_COUNT), 0);
	assert_int_equal(read_ex(0x03, 0, RINKI_HREG_COUNT + 1), FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(read_ex(0x01, 0, RINKI_COIL_COUNT + 1), FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(read_ex(0x02, 0, RINKI_DI_COUNT + 1), FW_MB_EX_ILLEGAL_ADDRESS);
	/* Defaults. */
	assert_int_equal(HREG(RINKI_HREG_SLAVE_ADDR), 1);
	assert_int_equal(HREG(RINKI_HREG_PTT_TIMEOUT), 600);
	assert_int_equal(HREG(RINKI_HREG_HB_TIMEOUT_MS), 3000);
	assert_int_equal(HREG(RINKI_HREG_DEBOUNCE_MS), 20);
}

static void test_boot_is_safe(void **state)
{
	(void)state;
	assert_int_equal(IREG(RINKI_IREG_STATUS), RINKI_STATUS_SAFE);
	assert_int_equal(IREG(RINKI_IREG_BOOT_COUNT), 1);
	assert_int_equal(IREG(RINKI_IREG_HB_LOSSES), 0);
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), FW_MB_EX_DEVICE_FAILURE);
	assert_false(fake_pins[HAL_PIN_PTT]);
	/* The fault LED blinks fast (125 ms) in safe state. */
	fake_run(&app, 1000 - fake_time); /* t = 1000: 1000 / 125 = 8, even: off */
	assert_false(fake_pins[HAL_PIN_LED_FAULT]);
	fake_run(&app, 125);
	assert_true(fake_pins[HAL_PIN_LED_FAULT]);
	/* The first heartbeat ends it; AUX is not affected by safe state. */
	assert_int_equal(write_coil(RINKI_COIL_AUX, true), 0);
	assert_true(fake_pins[HAL_PIN_AUX]);
	assert_int_equal(write_reg(RINKI_HREG_HEARTBEAT, 0xBEEF), 0);
	assert_int_equal(HREG(RINKI_HREG_HEARTBEAT), 0xBEEF);
	fake_run(&app, 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS), 0);
	assert_false(fake_pins[HAL_PIN_LED_FAULT]);
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), 0);
	assert_true(fake_pins[HAL_PIN_PTT]);
	assert_int_equal(COIL(RINKI_COIL_PTT), 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS), RINKI_STATUS_PTT);
}

static void test_ptt_timeout(void **state)
{
	(void)state;
	assert_int_equal(write_reg(RINKI_HREG_HB_TIMEOUT_MS, 60000), 0);
	assert_int_equal(write_reg(RINKI_HREG_HEARTBEAT, 1), 0);
	assert_int_equal(write_reg(RINKI_HREG_PTT_TIMEOUT, 5), 0); /* 500 ms */
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), 0);
	fake_run(&app, 300);
	/* Writing PTT on again does not restart the timer. */
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), 0);
	fake_run(&app, 199);
	assert_true(fake_pins[HAL_PIN_PTT]);
	assert_int_equal(IREG(RINKI_IREG_PTT_TIMEOUTS), 0);
	fake_run(&app, 1);
	assert_false(fake_pins[HAL_PIN_PTT]);
	assert_int_equal(COIL(RINKI_COIL_PTT), 0);
	assert_int_equal(IREG(RINKI_IREG_PTT_TIMEOUTS), 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS), RINKI_STATUS_PTT_TIMEOUT);
	/* Keying again clears the latch and starts a new time-out. */
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), 0);
	assert_int_equal(IREG(RINKI_IREG_STATUS), RINKI_STATUS_PTT);
	fake_run(&app, 499);
	assert_true(fake_pins[HAL_PIN_PTT]);
	fake_run(&app, 1);
	assert_false(fake_pins[HAL_PIN_PTT]);
	assert_int_equal(IREG(RINKI_IREG_PTT_TIMEOUTS), 2);
	/* Released by the host in time: no fault. */
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), 0);
	fake_run(&app, 100);
	assert_int_equal(write_coil(RINKI_COIL_PTT, false), 0);
	fake_run(&app, 1000);
	assert_int_equal(IREG(RINKI_IREG_PTT_TIMEOUTS), 2);
	assert_int_equal(IREG(RINKI_IREG_STATUS), 0);
}

static void test_heartbeat_loss(void **state)
{
	(void)state;
	assert_int_equal(write_reg(RINKI_HREG_HB_TIMEOUT_MS, 1000), 0);
	assert_int_equal(write_reg(RINKI_HREG_LED_FAULT, RINKI_LED_OFF), 0);
	assert_int_equal(write_reg(RINKI_HREG_HEARTBEAT, 1), 0);
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), 0);
	/* Heartbeats in time keep it out of safe state. */
	for (int i = 0; i < 5; i++) {
		fake_run(&app, 900);
		assert_int_equal(write_reg(RINKI_HREG_HEARTBEAT, (uint16_t)i), 0);
	}
	assert_true(fake_pins[HAL_PIN_PTT]);
	fake_run(&app, 999);
	assert_true(fake_pins[HAL_PIN_PTT]);
	assert_int_equal(IREG(RINKI_IREG_HB_LOSSES), 0);
	fake_run(&app, 1);
	assert_false(fake_pins[HAL_PIN_PTT]);
	assert_int_equal(IREG(RINKI_IREG_STATUS), RINKI_STATUS_SAFE);
	assert_int_equal(IREG(RINKI_IREG_HB_LOSSES), 1);
	assert_int_equal(IREG(RINKI_IREG_PTT_TIMEOUTS), 0);
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), FW_MB_EX_DEVICE_FAILURE);
	/* The fault LED blinks although the host set it off. */
	bool seen_on = false, seen_off = false;
	for (int i = 0; i < 300; i++) {
		fake_run(&app, 1);
		seen_on |= fake_pins[HAL_PIN_LED_FAULT];
		seen_off |= !fake_pins[HAL_PIN_LED_FAULT];
	}
	assert_true(seen_on && seen_off);
	/* Still one loss, however long it lasts; a heartbeat recovers. */
	fake_run(&app, 5000);
	assert_int_equal(IREG(RINKI_IREG_HB_LOSSES), 1);
	assert_int_equal(write_reg(RINKI_HREG_HEARTBEAT, 7), 0);
	fake_run(&app, 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS), 0);
	assert_false(fake_pins[HAL_PIN_LED_FAULT]);
	assert_int_equal(write_coil(RINKI_COIL_PTT, true), 0);
	assert_true(fake_pins[HAL_PIN_PTT]);
}

static void test_debounce(void **state)
{
	(void)state;
	assert_int_equal(write_reg(RINKI_HREG_DEBOUNCE_MS, 30), 0);
	/* A 29 ms pulse is ignored. */
	fake_pins[HAL_PIN_COR] = true;
	fake_run(&app, 29);
	fake_pins[HAL_PIN_COR] = false;
	fake_run(&app, 100);
	assert_int_equal(DI(RINKI_DI_COR), 0);
	assert_int_equal(IREG(RINKI_IREG_COR_CHANGES), 0);
	/*
	 * A level seen for 30 ms is taken, once. The first sample of a change is taken on the
	 * next 1 ms tick, so the debounced level follows 31 ticks after the change.
	 */
	fake_pins[HAL_PIN_COR] = true;
	fake_run(&app, 30);
	assert_int_equal(DI(RINKI_DI_COR), 0);
	fake_run(&app, 1);
	assert_int_equal(DI(RINKI_DI_COR), 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS) & RINKI_STATUS_COR, RINKI_STATUS_COR);
	fake_run(&app, 500);
	assert_int_equal(IREG(RINKI_IREG_COR_CHANGES), 1);
	/* Bounce on release: the release counts once, 30 ms after the last bounce. */
	for (int i = 0; i < 5; i++) {
		fake_pins[HAL_PIN_COR] = i % 2 == 0;
		fake_run(&app, 5);
	}
	fake_pins[HAL_PIN_COR] = false;
	fake_run(&app, 30);
	assert_int_equal(DI(RINKI_DI_COR), 1);
	fake_run(&app, 1);
	assert_int_equal(DI(RINKI_DI_COR), 0);
	assert_int_equal(IREG(RINKI_IREG_COR_CHANGES), 2);
	/* The test register drives the spare inputs. */
	assert_int_equal(write_reg(RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_SPARE2), 0);
	assert_int_equal(HREG(RINKI_HREG_TEST_INPUTS), RINKI_TEST_IN_SPARE2);
	fake_run(&app, 31);
	assert_int_equal(DI(RINKI_DI_SPARE2), 1);
	assert_int_equal(DI(RINKI_DI_SPARE1), 0);
	assert_int_equal(IREG(RINKI_IREG_SPARE2_CHANGES), 1);
	assert_int_equal(IREG(RINKI_IREG_SPARE1_CHANGES), 0);
	assert_int_equal(write_reg(RINKI_HREG_TEST_INPUTS, 8), FW_MB_EX_ILLEGAL_VALUE);
	/* Debounce 0: taken on the next tick. */
	assert_int_equal(write_reg(RINKI_HREG_DEBOUNCE_MS, 0), 0);
	fake_pins[HAL_PIN_SPARE1] = true;
	fake_run(&app, 1);
	assert_int_equal(DI(RINKI_DI_SPARE1), 1);
}

static void test_leds(void **state)
{
	(void)state;
	assert_int_equal(write_reg(RINKI_HREG_HEARTBEAT, 1), 0);
	const uint8_t req[] = {1,    0x10, 0x00, RINKI_HREG_LED_RADIO_OK,
			       0x00, 0x04, 0x08, 0x00,
			       0x01, 0x00, 0x00, 0x00,
			       0x02, 0x00, 0x03};
	assert_int_equal(reply_ex(fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp)), 0x10),
			 0);
	fake_run(&app, 1000 - fake_time); /* t = 1000: slow phase 2 (off), fast phase 8 (off) */
	assert_true(fake_pins[HAL_PIN_LED_RADIO]);
	assert_false(fake_pins[HAL_PIN_LED_MODEM]);
	assert_false(fake_pins[HAL_PIN_LED_CALL]);
	assert_false(fake_pins[HAL_PIN_LED_FAULT]);
	fake_run(&app, 125);
	assert_false(fake_pins[HAL_PIN_LED_CALL]);
	assert_true(fake_pins[HAL_PIN_LED_FAULT]);
	fake_run(&app, 375);
	assert_true(fake_pins[HAL_PIN_LED_CALL]);
	assert_int_equal(IREG(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_LED_CALL,
			 RINKI_TEST_OUT_LED_CALL);
	assert_int_equal(IREG(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_LED_RADIO,
			 RINKI_TEST_OUT_LED_RADIO);
	assert_int_equal(IREG(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, 0);
}

static void test_register_ranges(void **state)
{
	(void)state;
	static const struct {
		uint16_t addr, bad, good;
	} cases[] = {
	    {RINKI_HREG_SLAVE_ADDR, 0, 1},	  {RINKI_HREG_SLAVE_ADDR, 248, 1},
	    {RINKI_HREG_PTT_TIMEOUT, 0, 1},	  {RINKI_HREG_PTT_TIMEOUT, 36001, 36000},
	    {RINKI_HREG_HB_TIMEOUT_MS, 99, 100},  {RINKI_HREG_HB_TIMEOUT_MS, 60001, 60000},
	    {RINKI_HREG_DEBOUNCE_MS, 1001, 1000}, {RINKI_HREG_LED_RADIO_OK, 4, 3},
	    {RINKI_HREG_LED_FAULT, 4, 3},	  {RINKI_HREG_TEST_STALL, 0xDEAE, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t before = HREG(cases[i].addr);
		assert_int_equal(write_reg(cases[i].addr, cases[i].bad), FW_MB_EX_ILLEGAL_VALUE);
		assert_int_equal(HREG(cases[i].addr), before);
		if (cases[i].addr != RINKI_HREG_TEST_STALL) {
			assert_int_equal(write_reg(cases[i].addr, cases[i].good), 0);
			assert_int_equal(HREG(cases[i].addr), cases[i].good);
		}
	}
	assert_int_equal(write_reg(RINKI_HREG_COUNT, 0), FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(write_coil(RINKI_COIL_COUNT, true), FW_MB_EX_ILLEGAL_ADDRESS);
}

static void test_slave_address_change(void **state)
{
	(void)state;
	/* The reply to the change still comes from address 1. */
	assert_int_equal(write_reg(RINKI_HREG_SLAVE_ADDR, 42), 0);
	const uint8_t old[] = {1, 0x04, 0x00, 0x00, 0x00, 0x01};
	assert_int_equal(fake_transact(&app, old, sizeof(old), rsp, sizeof(rsp)), 0);
	slave = 42;
	assert_int_equal(IREG(RINKI_IREG_BOARD_ID), FAKE_BOARD_ID);
}

static void test_error_counters(void **state)
{
	(void)state;
	uint8_t frame[8] = {1, 0x04, 0x00, 0x00, 0x00, 0x01};
	fake_add_crc(frame, 6);
	frame[2] ^= 0x40;
	fake_uart_feed(frame, sizeof(frame));
	fake_uart_gap();
	fake_uart_feed(frame, 3);
	fake_uart_overrun();
	fake_uart_feed(frame + 3, 5);
	fake_uart_gap();
	fake_run(&app, 1);
	uint8_t out[8];
	assert_int_equal(fake_uart_take(out, sizeof(out)), 0);
	assert_int_equal(IREG(RINKI_IREG_CRC_ERRORS), 1);
	assert_int_equal(IREG(RINKI_IREG_FRAME_ERRORS), 1);
}

static void test_uptime(void **state)
{
	(void)state;
	fake_run(&app, 2999);
	assert_int_equal(IREG(RINKI_IREG_UPTIME_LO), 2);
	fake_run(&app, 1);
	assert_int_equal(IREG(RINKI_IREG_UPTIME_LO), 3);
	assert_int_equal(IREG(RINKI_IREG_UPTIME_HI), 0);
}

static void test_uptime_across_clock_wrap(void **state)
{
	(void)state;
	fake_hal_reset();
	fake_time = 0xFFFFFF00u;
	fw_app_init(&app);
	fake_run(&app, 1000);
	assert_int_equal(IREG(RINKI_IREG_UPTIME_LO), 1);
	assert_int_equal(write_reg(RINKI_HREG_HEARTBEAT, 1), 0);
	fake_run(&app, 2999);
	assert_int_equal(IREG(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, 0);
	fake_run(&app, 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, RINKI_STATUS_SAFE);
}

static void test_watchdog_policy(void **state)
{
	(void)state;
	fake_run(&app, 1000);
	assert_in_range(fake_wdt_kicks, 19, 20);
	/* A stuck clock: the loop runs but time does not move: no kick. */
	unsigned kicks = fake_wdt_kicks;
	for (int i = 0; i < 1000; i++)
		fw_app_poll(&app);
	assert_in_range(fake_wdt_kicks, kicks, kicks + 1);
	kicks = fake_wdt_kicks;
	for (int i = 0; i < 1000; i++)
		fw_app_poll(&app);
	assert_int_equal(fake_wdt_kicks, kicks);
	/* The stall register stops the loop: no kicks and no replies any more. */
	assert_int_equal(write_reg(RINKI_HREG_TEST_STALL, RINKI_TEST_STALL_MAGIC), 0);
	kicks = fake_wdt_kicks;
	fake_run(&app, 2000);
	assert_int_equal(fake_wdt_kicks, kicks);
	const uint8_t req[] = {1, 0x04, 0x00, 0x00, 0x00, 0x01};
	assert_int_equal(fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp)), 0);
}

static void test_retained_counters(void **state)
{
	(void)state;
	assert_int_equal(IREG(RINKI_IREG_BOOT_COUNT), 1);
	/* Warm reset by the watchdog: retained words survive. */
	fake_reset_cause = HAL_RESET_WDT;
	fw_app_init(&app);
	assert_int_equal(IREG(RINKI_IREG_BOOT_COUNT), 2);
	assert_int_equal(IREG(RINKI_IREG_WDT_RESETS), 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS), RINKI_STATUS_SAFE | RINKI_STATUS_WDT_RESET);
	/* Another warm reset without the watchdog. */
	fake_reset_cause = HAL_RESET_POWER;
	fw_app_init(&app);
	assert_int_equal(IREG(RINKI_IREG_BOOT_COUNT), 3);
	assert_int_equal(IREG(RINKI_IREG_WDT_RESETS), 1);
	assert_int_equal(IREG(RINKI_IREG_STATUS), RINKI_STATUS_SAFE);
	/* Garbage in retained RAM (power-on on real hardware) starts the counters again. */
	fake_retained[1] ^= 0x5555;
	fw_app_init(&app);
	assert_int_equal(IREG(RINKI_IREG_BOOT_COUNT), 1);
	assert_int_equal(IREG(RINKI_IREG_WDT_RESETS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_identity, setup),
	    cmocka_unit_test_setup(test_boot_is_safe, setup),
	    cmocka_unit_test_setup(test_ptt_timeout, setup),
	    cmocka_unit_test_setup(test_heartbeat_loss, setup),
	    cmocka_unit_test_setup(test_debounce, setup),
	    cmocka_unit_test_setup(test_leds, setup),
	    cmocka_unit_test_setup(test_register_ranges, setup),
	    cmocka_unit_test_setup(test_slave_address_change, setup),
	    cmocka_unit_test_setup(test_error_counters, setup),
	    cmocka_unit_test_setup(test_uptime, setup),
	    cmocka_unit_test_setup(test_uptime_across_clock_wrap, setup),
	    cmocka_unit_test_setup(test_watchdog_policy, setup),
	    cmocka_unit_test_setup(test_retained_counters, setup),
	};
	return cmocka_run_group_tests_name("fw_io", tests, NULL, NULL);
}
