/*
 * Integration test of the real firmware image (build/fw/fw.elf, or $FW_ELF) in QEMU
 * mps2-an385, driven by stock libmodbus RTU over a pty: QEMU's UART goes to a UNIX socket
 * and socat turns it into a pty (shared/reference/firmware-qemu.md, section 7.1). Checks the
 * identity registers, every function code, exception replies, broadcast, a burst of large
 * transactions without framing errors, PTT time-out, heartbeat loss and recovery, input
 * debounce through the test registers and a watchdog reset. QEMU and socat are started once
 * for the group by tests/integration/qemu_rig.c, which kills them by pid on every exit path.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "../../../firmware/core/fw_version.h"
#include "../qemu_rig.h"
#include "rinki/regmap.h"

#define SLAVE 1
/*
 * QEMU runs the firmware on its own clock (-icount, qemu_rig.c), which a loaded host slows
 * down: the test gives it RSP_S per transaction and waits for what must come (bounded by
 * BOUND_MS), never for a span of host time.
 */
#define RSP_S	 5
#define BOUND_MS 60000

static struct qrig rig;
static modbus_t *ctx;

static int group_teardown(void **state)
{
	(void)state;
	if (ctx) {
		modbus_close(ctx);
		modbus_free(ctx);
		ctx = NULL;
	}
	qrig_fini(&rig);
	return 0;
}

static int group_setup(void **state)
{
	const char *elf = getenv("FW_ELF") ? getenv("FW_ELF") : "build/fw/fw.elf";
	uint16_t id;

	if (qrig_init(&rig, "fwq", elf, 0) != 0 || qrig_start(&rig) != 0)
		goto fail;

	ctx = modbus_new_rtu(rig.tty, 115200, 'N', 8, 1);
	if (!ctx || modbus_set_slave(ctx, SLAVE) != 0 || modbus_connect(ctx) != 0) {
		fprintf(stderr, "libmodbus on %s: %s\n", rig.tty, modbus_strerror(errno));
		goto fail;
	}
	/* First probe: retry until the firmware answers, then drop anything stale. */
	modbus_set_response_timeout(ctx, 0, 200000);
	uint64_t end = qrig_now_ms() + BOUND_MS;
	while (modbus_read_input_registers(ctx, RINKI_IREG_BOARD_ID, 1, &id) != 1) {
		if (qrig_now_ms() > end) {
			fprintf(stderr, "firmware does not answer: %s\n", modbus_strerror(errno));
			goto fail;
		}
	}
	modbus_flush(ctx);
	modbus_set_response_timeout(ctx, RSP_S, 0);
	*state = ctx;
	return 0;
fail:
	group_teardown(state);
	return -1;
}

static uint16_t ireg(uint16_t addr)
{
	uint16_t v = 0;

	assert_int_equal(modbus_read_input_registers(ctx, addr, 1, &v), 1);
	return v;
}

static uint16_t hreg(uint16_t addr)
{
	uint16_t v = 0;

	assert_int_equal(modbus_read_registers(ctx, addr, 1, &v), 1);
	return v;
}

static void set_hreg(uint16_t addr, uint16_t v)
{
	assert_int_equal(modbus_write_register(ctx, addr, v), 1);
}

static uint8_t coil(uint16_t addr)
{
	uint8_t v = 0xFF;

	assert_int_equal(modbus_read_bits(ctx, addr, 1, &v), 1);
	return v;
}

static uint8_t input_bit(uint16_t addr)
{
	uint8_t v = 0xFF;

	assert_int_equal(modbus_read_input_bits(ctx, addr, 1, &v), 1);
	return v;
}

/*
 * Send a raw request (no CRC) and return the exception code of the reply (0 = normal reply).
 * modbus_receive_confirmation() does not interpret exceptions, so the reply is read here.
 */
static int raw_exception(const uint8_t *req, int len)
{
	uint8_t rsp[MODBUS_RTU_MAX_ADU_LENGTH];

	assert_true(modbus_send_raw_request(ctx, req, len) > 0);
	int n = modbus_receive_confirmation(ctx, rsp);
	assert_true(n >= 3);
	assert_int_equal(rsp[0], req[0]);
	assert_int_equal(rsp[1] & 0x7F, req[1]);
	return rsp[1] & 0x80 ? rsp[2] : 0;
}

/* Poll the status register until (status & mask) == want; the bound only ends a failure. */
static void wait_status(uint16_t mask, uint16_t want)
{
	uint64_t t0 = qrig_now_ms();

	while ((ireg(RINKI_IREG_STATUS) & mask) != want) {
		assert_true(qrig_now_ms() - t0 < BOUND_MS);
		qrig_sleep_ms(10);
	}
}

/* Wait until the board's own clock has run at least one whole second. */
static void wait_board_second(void)
{
	uint32_t up0 = (uint32_t)ireg(RINKI_IREG_UPTIME_HI) << 16 | ireg(RINKI_IREG_UPTIME_LO);
	uint64_t t0 = qrig_now_ms();

	for (;;) {
		uint32_t up =
		    (uint32_t)ireg(RINKI_IREG_UPTIME_HI) << 16 | ireg(RINKI_IREG_UPTIME_LO);
		if (up - up0 >= 2)
			return;
		assert_true(qrig_now_ms() - t0 < BOUND_MS);
		qrig_sleep_ms(50);
	}
}

/* A configuration where only the test's own timers matter. */
static void calm(void)
{
	set_hreg(RINKI_HREG_HB_TIMEOUT_MS, RINKI_HB_TIMEOUT_MAX);
	set_hreg(RINKI_HREG_HEARTBEAT, 1);
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 0), 1);
}

static void test_identity(void **state)
{
	(void)state;
	uint16_t r[RINKI_IREG_COUNT];

	assert_int_equal(modbus_read_input_registers(ctx, 0, RINKI_IREG_COUNT, r),
			 RINKI_IREG_COUNT);
	assert_int_equal(r[RINKI_IREG_BOARD_ID], RINKI_BOARD_ID_QEMU_MPS2);
	assert_int_equal(r[RINKI_IREG_FW_MAJOR], FW_VERSION_MAJOR);
	assert_int_equal(r[RINKI_IREG_FW_MINOR], FW_VERSION_MINOR);
	assert_int_equal(r[RINKI_IREG_FW_PATCH], FW_VERSION_PATCH);
	assert_int_equal((uint32_t)r[RINKI_IREG_BUILD_HASH_HI] << 16 | r[RINKI_IREG_BUILD_HASH_LO],
			 FW_BUILD_HASH);
	assert_int_equal(r[RINKI_IREG_REGMAP_VERSION], RINKI_REGMAP_VERSION);
	assert_int_equal(r[RINKI_IREG_STATUS] & RINKI_STATUS_SAFE, RINKI_STATUS_SAFE);
	assert_int_equal(r[RINKI_IREG_STATUS] & RINKI_STATUS_WDT_RESET, 0);
	assert_int_equal(r[RINKI_IREG_BOOT_COUNT], 1);
	assert_int_equal(r[RINKI_IREG_WDT_RESETS], 0);
	/* Uptime counts seconds: it moves on, never faster than the host's clock (the board's
	   clock is QEMU's, which follows the host's while the board sleeps, as it mostly does,
	   and lags when QEMU is descheduled); the wait for it only bounds a failure. */
	uint64_t t0 = qrig_now_ms();
	uint32_t up0 = (uint32_t)r[RINKI_IREG_UPTIME_HI] << 16 | r[RINKI_IREG_UPTIME_LO];
	uint32_t up1 = up0;
	while (up1 == up0 && qrig_now_ms() - t0 < BOUND_MS) {
		qrig_sleep_ms(100);
		up1 = (uint32_t)ireg(RINKI_IREG_UPTIME_HI) << 16 | ireg(RINKI_IREG_UPTIME_LO);
	}
	assert_in_range(up1 - up0, 1, (qrig_now_ms() - t0) / 1000 + 1);
}

static void test_function_codes(void **state)
{
	(void)state;
	uint16_t h[RINKI_HREG_COUNT];
	uint8_t bits[4];

	/* 03: the whole holding block, with its defaults. */
	assert_int_equal(modbus_read_registers(ctx, 0, RINKI_HREG_COUNT, h), RINKI_HREG_COUNT);
	assert_int_equal(h[RINKI_HREG_SLAVE_ADDR], RINKI_SLAVE_ADDR_DEFAULT);
	assert_int_equal(h[RINKI_HREG_PTT_TIMEOUT], RINKI_PTT_TIMEOUT_DEFAULT);
	assert_int_equal(h[RINKI_HREG_HB_TIMEOUT_MS], RINKI_HB_TIMEOUT_DEFAULT);
	assert_int_equal(h[RINKI_HREG_DEBOUNCE_MS], RINKI_DEBOUNCE_DEFAULT);
	/* 06 and 10 */
	set_hreg(RINKI_HREG_LED_ON_CALL, RINKI_LED_BLINK_SLOW);
	assert_int_equal(hreg(RINKI_HREG_LED_ON_CALL), RINKI_LED_BLINK_SLOW);
	const uint16_t leds[] = {RINKI_LED_ON, RINKI_LED_OFF, RINKI_LED_ON, RINKI_LED_OFF};
	assert_int_equal(modbus_write_registers(ctx, RINKI_HREG_LED_RADIO_OK, 4, leds), 4);
	assert_int_equal(modbus_read_registers(ctx, RINKI_HREG_LED_RADIO_OK, 4, h), 4);
	assert_memory_equal(h, leds, sizeof(leds));
	uint16_t out = ireg(RINKI_IREG_TEST_OUTPUTS);
	assert_int_equal(out & (RINKI_TEST_OUT_LED_RADIO | RINKI_TEST_OUT_LED_CALL),
			 RINKI_TEST_OUT_LED_RADIO | RINKI_TEST_OUT_LED_CALL);
	assert_int_equal(out & RINKI_TEST_OUT_LED_MODEM, 0);
	/* 05 and 01 */
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_AUX, 1), 1);
	assert_int_equal(coil(RINKI_COIL_AUX), 1);
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_AUX, RINKI_TEST_OUT_AUX);
	/* 0F (PTT needs a heartbeat first) */
	calm();
	const uint8_t both[] = {1, 0};
	assert_int_equal(modbus_write_bits(ctx, RINKI_COIL_PTT, 2, both), 2);
	assert_int_equal(modbus_read_bits(ctx, RINKI_COIL_PTT, 2, bits), 2);
	assert_int_equal(bits[0], 1);
	assert_int_equal(bits[1], 0);
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & (RINKI_TEST_OUT_PTT | RINKI_TEST_OUT_AUX),
			 RINKI_TEST_OUT_PTT);
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 0), 1);
	/* 02 and 04 */
	assert_int_equal(modbus_read_input_bits(ctx, 0, RINKI_DI_COUNT, bits), RINKI_DI_COUNT);
	assert_int_equal(bits[0] | bits[1] | bits[2], 0);
	assert_int_equal(ireg(RINKI_IREG_REGMAP_VERSION), RINKI_REGMAP_VERSION);
}

static void test_exceptions(void **state)
{
	(void)state;
	uint16_t v;

	errno = 0;
	assert_int_equal(modbus_read_input_registers(ctx, RINKI_IREG_COUNT, 1, &v), -1);
	assert_int_equal(errno, EMBXILADD);
	assert_int_equal(modbus_write_register(ctx, RINKI_HREG_LED_FAULT, 9), -1);
	assert_int_equal(errno, EMBXILVAL);
	assert_int_equal(modbus_write_register(ctx, 0x0200, 1), -1);
	assert_int_equal(errno, EMBXILADD);
	/* What libmodbus will not send by its API goes raw. */
	const uint8_t diag[] = {SLAVE, 0x08, 0x00, 0x00, 0x12, 0x34};
	assert_int_equal(raw_exception(diag, sizeof(diag)), MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
	const uint8_t too_many[] = {SLAVE, 0x03, 0x00, 0x00, 0x00, 0x7E};
	assert_int_equal(raw_exception(too_many, sizeof(too_many)),
			 MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
	const uint8_t bad_coil[] = {SLAVE, 0x05, 0x00, 0x01, 0x12, 0x34};
	assert_int_equal(raw_exception(bad_coil, sizeof(bad_coil)),
			 MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
	/* Safe state refuses PTT with 04. */
	set_hreg(RINKI_HREG_HB_TIMEOUT_MS, RINKI_HB_TIMEOUT_MIN);
	wait_status(RINKI_STATUS_SAFE, RINKI_STATUS_SAFE);
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 1), -1);
	assert_int_equal(errno, EMBXSFAIL);
	calm();
}

static void test_broadcast(void **state)
{
	(void)state;
	set_hreg(RINKI_HREG_LED_MODEM_OK, RINKI_LED_OFF);
	modbus_set_response_timeout(ctx, 0, 200000);
	modbus_set_slave(ctx, MODBUS_BROADCAST_ADDRESS);
	/* Executed, never answered: libmodbus times out waiting. */
	assert_int_equal(modbus_write_register(ctx, RINKI_HREG_LED_MODEM_OK, RINKI_LED_ON), -1);
	assert_int_equal(errno, ETIMEDOUT);
	modbus_set_slave(ctx, SLAVE);
	modbus_set_response_timeout(ctx, RSP_S, 0);
	assert_int_equal(hreg(RINKI_HREG_LED_MODEM_OK), RINKI_LED_ON);
}

/*
 * Why a transaction got no (right) answer, as the board counts it: a split frame shows as a CRC
 * or frame error; a reset (boot count and watchdog resets moved on, counters back to 0) as the
 * request lost with the board.
 */
static void report_lost(const char *what, int i, uint16_t boots, uint16_t wdt)
{
	uint16_t r[RINKI_IREG_COUNT] = {0};

	print_error("%s #%d: %s\n", what, i, modbus_strerror(errno));
	uint64_t t0 = qrig_now_ms();
	int tries = 0;
	do {
		modbus_flush(ctx);
		tries++;
	} while (modbus_read_input_registers(ctx, 0, RINKI_IREG_COUNT, r) != RINKI_IREG_COUNT &&
		 qrig_now_ms() - t0 < BOUND_MS);
	if (qrig_now_ms() - t0 >= BOUND_MS) {
		print_error("and the board answers no read of its counters in %d s\n",
			    BOUND_MS / 1000);
		return;
	}
	if (tries > 1)
		print_error("the board answered the read of its counters after %d tries\n", tries);
	print_error("board counts %u CRC errors, %u frame errors; boot count %u (was %u), "
		    "watchdog resets %u (was %u)\n",
		    r[RINKI_IREG_CRC_ERRORS], r[RINKI_IREG_FRAME_ERRORS], r[RINKI_IREG_BOOT_COUNT],
		    boots, r[RINKI_IREG_WDT_RESETS], wdt);
}

/* Report a failed transaction of the burst with libmodbus' and the board's reasons. */
static void burst_check(int rc, int want, const char *what, int i, uint16_t boots, uint16_t wdt)
{
	if (rc != want)
		report_lost(what, i, boots, wdt);
	assert_int_equal(rc, want);
}

/* Largest reads and writes back to back: no framing error may split a frame. */
static void test_burst(void **state)
{
	(void)state;
	uint16_t r[MODBUS_MAX_READ_REGISTERS], w[RINKI_HREG_COUNT];
	uint16_t crc0 = ireg(RINKI_IREG_CRC_ERRORS), frame0 = ireg(RINKI_IREG_FRAME_ERRORS);
	uint16_t b = ireg(RINKI_IREG_BOOT_COUNT), wd = ireg(RINKI_IREG_WDT_RESETS);
	uint64_t t0 = qrig_now_ms();

	for (int i = 0; i < 100; i++) {
		uint8_t bits[RINKI_DI_COUNT];

		burst_check(modbus_read_input_registers(ctx, 0, RINKI_IREG_COUNT, r),
			    RINKI_IREG_COUNT, "FC04", i, b, wd);
		assert_int_equal(r[RINKI_IREG_BOARD_ID], RINKI_BOARD_ID_QEMU_MPS2);
		burst_check(modbus_read_input_bits(ctx, 0, RINKI_DI_COUNT, bits), RINKI_DI_COUNT,
			    "FC02", i, b, wd);
		burst_check(modbus_read_registers(ctx, 0, RINKI_HREG_COUNT, w), RINKI_HREG_COUNT,
			    "FC03", i, b, wd);
		w[RINKI_HREG_LED_ON_CALL] = (uint16_t)(i % (RINKI_LED_MAX + 1));
		w[RINKI_HREG_HEARTBEAT] = (uint16_t)i;
		burst_check(modbus_write_registers(ctx, 0, RINKI_HREG_COUNT, w), RINKI_HREG_COUNT,
			    "FC10", i, b, wd);
	}
	print_message("burst: 400 transactions in %llu ms\n",
		      (unsigned long long)(qrig_now_ms() - t0));
	assert_int_equal(hreg(RINKI_HREG_HEARTBEAT), 99);
	assert_int_equal(ireg(RINKI_IREG_CRC_ERRORS), crc0);
	assert_int_equal(ireg(RINKI_IREG_FRAME_ERRORS), frame0);
}

/*
 * A host that starves QEMU, as a loaded machine does (here: stopped 20 ms, then 2 ms to run,
 * over and over), makes the board slow, never wrong: each wake-up comes late and its clock
 * jumps, but every request is answered, nothing is split and the watchdog never fires, while
 * the board's own clock runs on for STARVE_BOARD_S seconds. The pulses only slow the board
 * down; the bound only ends a failure.
 */
#define STARVE_STOP_MS 20
#define STARVE_RUN_MS  2
#define STARVE_BOARD_S 3

static uint32_t uptime_of(const uint16_t *r)
{
	return (uint32_t)r[RINKI_IREG_UPTIME_HI] << 16 | r[RINKI_IREG_UPTIME_LO];
}

static void test_starved(void **state)
{
	(void)state;
	uint16_t r[RINKI_IREG_COUNT];

	calm();
	assert_int_equal(modbus_read_input_registers(ctx, 0, RINKI_IREG_COUNT, r),
			 RINKI_IREG_COUNT);
	const uint16_t boots = r[RINKI_IREG_BOOT_COUNT], wdt = r[RINKI_IREG_WDT_RESETS];
	const uint16_t crc0 = r[RINKI_IREG_CRC_ERRORS], frame0 = r[RINKI_IREG_FRAME_ERRORS];
	const uint32_t up0 = uptime_of(r);
	uint64_t t0 = qrig_now_ms();
	int n = 0, rc = 0;
	bool reset = false;

	assert_int_equal(qrig_starve(&rig, STARVE_STOP_MS, STARVE_RUN_MS), 0);
	do {
		rc = modbus_read_input_registers(ctx, 0, RINKI_IREG_COUNT, r);
		if (rc != RINKI_IREG_COUNT)
			break;
		reset = r[RINKI_IREG_BOOT_COUNT] != boots || uptime_of(r) < up0;
		n++;
	} while (!reset && uptime_of(r) - up0 < STARVE_BOARD_S && qrig_now_ms() - t0 < BOUND_MS);
	int err = errno;
	qrig_unstarve(&rig);
	uint64_t took = qrig_now_ms() - t0;

	print_message("starved QEMU (%d ms stopped, %d ms run): %d transactions, board clock %u s "
		      "in %llu ms\n",
		      STARVE_STOP_MS, STARVE_RUN_MS, n, (unsigned)(uptime_of(r) - up0),
		      (unsigned long long)took);
	if (rc != RINKI_IREG_COUNT) {
		errno = err;
		report_lost("starved FC04", n, boots, wdt);
	}
	assert_int_equal(rc, RINKI_IREG_COUNT);
	assert_int_equal(r[RINKI_IREG_BOOT_COUNT], boots);
	assert_int_equal(r[RINKI_IREG_WDT_RESETS], wdt);
	assert_int_equal(r[RINKI_IREG_CRC_ERRORS], crc0);
	assert_int_equal(r[RINKI_IREG_FRAME_ERRORS], frame0);
	assert_in_range(uptime_of(r) - up0, STARVE_BOARD_S, UINT32_MAX);
}

static void test_ptt_timeout(void **state)
{
	(void)state;
	calm();
	uint16_t faults = ireg(RINKI_IREG_PTT_TIMEOUTS);
	set_hreg(RINKI_HREG_PTT_TIMEOUT, 3); /* 300 ms */
	uint64_t t0 = qrig_now_ms();
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 1), 1);
	assert_int_equal(coil(RINKI_COIL_PTT), 1);
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, RINKI_TEST_OUT_PTT);
	/* the firmware's clock never runs ahead of the host's: a lower bound; the wait's
	   limit only bounds a failure */
	while (coil(RINKI_COIL_PTT) == 1 && qrig_now_ms() - t0 < BOUND_MS)
		qrig_sleep_ms(10);
	uint64_t took = qrig_now_ms() - t0;
	print_message("PTT forced off after %llu ms (time-out 300 ms)\n", (unsigned long long)took);
	assert_in_range(took, 300, BOUND_MS);
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, 0);
	assert_int_equal(ireg(RINKI_IREG_PTT_TIMEOUTS), faults + 1);
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_PTT_TIMEOUT,
			 RINKI_STATUS_PTT_TIMEOUT);
	set_hreg(RINKI_HREG_PTT_TIMEOUT, RINKI_PTT_TIMEOUT_DEFAULT);
}

static void test_heartbeat(void **state)
{
	(void)state;
	calm();
	uint16_t losses = ireg(RINKI_IREG_HB_LOSSES);
	set_hreg(RINKI_HREG_LED_FAULT, RINKI_LED_OFF);
	/* 2 s: a loaded machine may stall this test for a few hundred ms between feeds */
	set_hreg(RINKI_HREG_HB_TIMEOUT_MS, 2000);
	set_hreg(RINKI_HREG_HEARTBEAT, 1);
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 1), 1);
	/* Fed every 100 ms for a second: stays keyed. */
	for (int i = 0; i < 10; i++) {
		qrig_sleep_ms(100);
		set_hreg(RINKI_HREG_HEARTBEAT, (uint16_t)i);
	}
	uint64_t fed = qrig_now_ms();
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, 0);
	assert_int_equal(coil(RINKI_COIL_PTT), 1);
	/* Host silent: the safe state comes, not before the time-out (the firmware's clock
	   never runs ahead of the host's); the wait's limit only bounds a failure. */
	while (!(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE) && qrig_now_ms() - fed < BOUND_MS)
		qrig_sleep_ms(50);
	print_message("safe state %llu ms after the last feed (time-out 2000 ms)\n",
		      (unsigned long long)(qrig_now_ms() - fed));
	assert_true(qrig_now_ms() - fed >= 1900);
	assert_int_equal(ireg(RINKI_IREG_STATUS) & (RINKI_STATUS_SAFE | RINKI_STATUS_PTT),
			 RINKI_STATUS_SAFE);
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, 0);
	assert_int_equal(ireg(RINKI_IREG_HB_LOSSES), losses + 1);
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 1), -1);
	assert_int_equal(errno, EMBXSFAIL);
	/* The fault LED blinks (125 ms) although the host set it off. */
	int on = 0, off = 0;
	for (uint64_t t0 = qrig_now_ms(); !(on && off) && qrig_now_ms() - t0 < BOUND_MS;) {
		if (ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_LED_FAULT)
			on++;
		else
			off++;
		qrig_sleep_ms(10);
	}
	assert_true(on > 0 && off > 0);
	/* Recovery. */
	set_hreg(RINKI_HREG_HEARTBEAT, 2);
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, 0);
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 1), 1);
	assert_int_equal(coil(RINKI_COIL_PTT), 1);
	calm();
}

static void test_debounce(void **state)
{
	(void)state;
	uint16_t changes = ireg(RINKI_IREG_COR_CHANGES);

	set_hreg(RINKI_HREG_DEBOUNCE_MS, 200);
	/* A pulse of a few ms is ignored. */
	set_hreg(RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_COR);
	set_hreg(RINKI_HREG_TEST_INPUTS, 0);
	wait_board_second(); /* > 200 ms of the board's own time */
	assert_int_equal(input_bit(RINKI_DI_COR), 0);
	assert_int_equal(ireg(RINKI_IREG_COR_CHANGES), changes);
	/* A held level is taken after the debounce time, once. */
	uint64_t t0 = qrig_now_ms();
	set_hreg(RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_COR | RINKI_TEST_IN_SPARE1);
	assert_int_equal(input_bit(RINKI_DI_COR), 0);
	while (input_bit(RINKI_DI_COR) == 0 && qrig_now_ms() - t0 < BOUND_MS)
		qrig_sleep_ms(5);
	uint64_t took = qrig_now_ms() - t0;
	print_message("COR debounced after %llu ms (debounce 200 ms)\n", (unsigned long long)took);
	assert_in_range(took, 200, BOUND_MS); /* not before; the limit only bounds a failure */
	assert_int_equal(input_bit(RINKI_DI_SPARE1), 1);
	assert_int_equal(input_bit(RINKI_DI_SPARE2), 0);
	assert_int_equal(ireg(RINKI_IREG_COR_CHANGES), changes + 1);
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_COR, RINKI_STATUS_COR);
	set_hreg(RINKI_HREG_TEST_INPUTS, 0);
	wait_status(RINKI_STATUS_COR, 0);
	assert_int_equal(input_bit(RINKI_DI_COR), 0);
	assert_int_equal(ireg(RINKI_IREG_COR_CHANGES), changes + 2);
	set_hreg(RINKI_HREG_DEBOUNCE_MS, RINKI_DEBOUNCE_DEFAULT);
}

static void test_watchdog_reset(void **state)
{
	(void)state;
	uint16_t boots = ireg(RINKI_IREG_BOOT_COUNT), wdt = ireg(RINKI_IREG_WDT_RESETS);
	uint16_t v = 0;

	set_hreg(RINKI_HREG_LED_RADIO_OK, RINKI_LED_ON);
	set_hreg(RINKI_HREG_TEST_STALL, RINKI_TEST_STALL_MAGIC);
	uint64_t t0 = qrig_now_ms();
	modbus_set_response_timeout(ctx, 0, 100000);
	/* Stalled: no answers; then the watchdog (NMI at 0.5 s, reset at 1 s) brings it back. */
	int silent = 0;
	while (modbus_read_input_registers(ctx, RINKI_IREG_BOOT_COUNT, 1, &v) != 1 || v == boots) {
		silent++;
		assert_true(qrig_now_ms() - t0 < BOUND_MS);
	}
	uint64_t took = qrig_now_ms() - t0;
	modbus_flush(ctx);
	modbus_set_response_timeout(ctx, RSP_S, 0);
	print_message("back after %llu ms, %d unanswered polls\n", (unsigned long long)took,
		      silent);
	assert_true(silent > 0);
	/* No lower bound in host time: the stalled firmware spins (it drains no receive events,
	   so it never sleeps), and under -icount shift=5 the clock of a spinning guest, the
	   watchdog's too, runs at 32 ns an instruction, faster than the host's: the reset came
	   308-467 ms after the stall in 4 of 9 runs. That the watchdog never fires early on a
	   board that works is what test_starved and the boot-count checks assert. */
	assert_int_equal(v, boots + 1);
	assert_int_equal(ireg(RINKI_IREG_WDT_RESETS), wdt + 1);
	assert_int_equal(ireg(RINKI_IREG_STATUS) & (RINKI_STATUS_WDT_RESET | RINKI_STATUS_SAFE),
			 RINKI_STATUS_WDT_RESET | RINKI_STATUS_SAFE);
	assert_true(ireg(RINKI_IREG_UPTIME_LO) <= 2);
	/* Configuration is back to defaults and the board works normally. */
	assert_int_equal(hreg(RINKI_HREG_LED_RADIO_OK), RINKI_LED_OFF);
	assert_int_equal(hreg(RINKI_HREG_TEST_STALL), 0);
	calm();
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 1), 1);
	assert_int_equal(modbus_write_bit(ctx, RINKI_COIL_PTT, 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity),	   cmocka_unit_test(test_function_codes),
	    cmocka_unit_test(test_exceptions),	   cmocka_unit_test(test_broadcast),
	    cmocka_unit_test(test_burst),	   cmocka_unit_test(test_starved),
	    cmocka_unit_test(test_ptt_timeout),	   cmocka_unit_test(test_heartbeat),
	    cmocka_unit_test(test_debounce),	   cmocka_unit_test(test_watchdog_reset),
	    cmocka_unit_test(qrig_test_log_clean),
	};

	return cmocka_run_group_tests_name("fw_qemu", tests, group_setup, group_teardown);
}
