/*
 * Unit tests of the Modbus RTU slave engine (firmware/core/fw_modbus.c) against a small stub
 * data model: every function code, every exception, CRC and framing errors, addressing,
 * broadcast and frame end by the inter-frame gap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_hal.h"
#include "fw_modbus.h"
#include "hal.h"

#define SLAVE	 17
#define NCOILS	 16
#define NHOLD	 16
#define NINPUT	 0x200
#define NDISC	 2048
#define HOLD_MAX 1000 /* the stub refuses larger holding values with exception 03 */

static uint16_t coils[NCOILS];
static uint16_t hold[NHOLD];
static unsigned commits;
static struct fw_mb mb;
static uint8_t rsp[FW_MB_ADU_MAX];

static uint8_t stub_read(void *arg, enum fw_mb_table t, uint16_t addr, uint16_t *val)
{
	(void)arg;
	switch (t) {
	case FW_MB_COILS:
		if (addr >= NCOILS)
			return FW_MB_EX_ILLEGAL_ADDRESS;
		*val = coils[addr];
		return 0;
	case FW_MB_DISCRETE:
		if (addr >= NDISC)
			return FW_MB_EX_ILLEGAL_ADDRESS;
		*val = addr % 3 == 0;
		return 0;
	case FW_MB_INPUT:
		if (addr >= NINPUT)
			return FW_MB_EX_ILLEGAL_ADDRESS;
		*val = addr ^ 0x5A5A;
		return 0;
	case FW_MB_HOLDING:
		if (addr >= NHOLD)
			return FW_MB_EX_ILLEGAL_ADDRESS;
		*val = hold[addr];
		return 0;
	}
	return FW_MB_EX_ILLEGAL_ADDRESS;
}

static uint8_t stub_write(void *arg, enum fw_mb_table t, uint16_t addr, uint16_t val, bool commit)
{
	(void)arg;
	if (t == FW_MB_COILS) {
		if (addr >= NCOILS)
			return FW_MB_EX_ILLEGAL_ADDRESS;
		if (commit) {
			coils[addr] = val;
			commits++;
		}
		return 0;
	}
	if (addr >= NHOLD)
		return FW_MB_EX_ILLEGAL_ADDRESS;
	if (val > HOLD_MAX)
		return FW_MB_EX_ILLEGAL_VALUE;
	if (commit) {
		hold[addr] = val;
		commits++;
	}
	return 0;
}

static const struct fw_mb_ops stub_ops = {.read = stub_read, .write = stub_write};

static int setup(void **state)
{
	(void)state;
	memset(coils, 0, sizeof(coils));
	memset(hold, 0, sizeof(hold));
	commits = 0;
	memset(rsp, 0, sizeof(rsp));
	fw_mb_init(&mb, SLAVE, &stub_ops, NULL);
	return 0;
}

/* Feed req + CRC byte by byte, then a gap; return the reply length. */
static uint16_t xfer(const uint8_t *req, size_t n)
{
	uint8_t frame[FW_MB_ADU_MAX + 2];

	memcpy(frame, req, n);
	n = fake_add_crc(frame, n);
	for (size_t i = 0; i < n; i++)
		fw_mb_rx_byte(&mb, frame[i]);
	uint16_t len = fw_mb_rx_gap(&mb);
	memcpy(rsp, mb.tx, len);
	return len;
}

/* The reply is an exception ex to function fc, with a valid CRC. */
static void assert_exception(uint16_t len, uint8_t fc, uint8_t ex)
{
	assert_int_equal(len, 5);
	assert_int_equal(rsp[0], SLAVE);
	assert_int_equal(rsp[1], fc | 0x80);
	assert_int_equal(rsp[2], ex);
	assert_int_equal(fw_mb_crc16(rsp, 5), 0);
}

static void test_crc16(void **state)
{
	(void)state;
	const uint8_t req[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};
	uint8_t buf[8];

	assert_int_equal(fw_mb_crc16(req, sizeof(req)), 0xCDC5);
	memcpy(buf, req, sizeof(req));
	fake_add_crc(buf, sizeof(req));
	assert_int_equal(buf[6], 0xC5);
	assert_int_equal(buf[7], 0xCD);
	assert_int_equal(fw_mb_crc16(buf, 8), 0);
}

static void test_fc01_read_coils(void **state)
{
	(void)state;
	coils[0] = coils[2] = coils[9] = 1;
	const uint8_t req[] = {SLAVE, 0x01, 0x00, 0x00, 0x00, 0x0B};
	uint16_t n = xfer(req, sizeof(req));

	assert_int_equal(n, 7);
	assert_int_equal(rsp[1], 0x01);
	assert_int_equal(rsp[2], 2);
	assert_int_equal(rsp[3], 0x05);
	assert_int_equal(rsp[4], 0x02);
	assert_int_equal(fw_mb_crc16(rsp, n), 0);
}

static void test_fc02_read_discrete_max(void **state)
{
	(void)state;
	/* 2000 inputs = 250 data bytes: the largest bit reply. */
	const uint8_t req[] = {SLAVE, 0x02, 0x00, 0x00, 0x07, 0xD0};
	uint16_t n = xfer(req, sizeof(req));

	assert_int_equal(n, 3 + 250 + 2);
	assert_int_equal(rsp[2], 250);
	assert_int_equal(rsp[3], 0x49); /* inputs 0, 3, 6 */
	assert_int_equal(fw_mb_crc16(rsp, n), 0);

	const uint8_t too_many[] = {SLAVE, 0x02, 0x00, 0x00, 0x07, 0xD1};
	assert_exception(xfer(too_many, sizeof(too_many)), 0x02, FW_MB_EX_ILLEGAL_VALUE);
}

static void test_fc03_read_holding(void **state)
{
	(void)state;
	hold[4] = 0x1234;
	hold[5] = 0x00FF;
	const uint8_t req[] = {SLAVE, 0x03, 0x00, 0x04, 0x00, 0x02};
	uint16_t n = xfer(req, sizeof(req));

	assert_int_equal(n, 9);
	assert_int_equal(rsp[2], 4);
	assert_memory_equal(rsp + 3, ((uint8_t[]){0x12, 0x34, 0x00, 0xFF}), 4);

	const uint8_t beyond[] = {SLAVE, 0x03, 0x00, 0x0F, 0x00, 0x02};
	assert_exception(xfer(beyond, sizeof(beyond)), 0x03, FW_MB_EX_ILLEGAL_ADDRESS);
}

static void test_fc04_read_input_max(void **state)
{
	(void)state;
	const uint8_t req[] = {SLAVE, 0x04, 0x01, 0x00, 0x00, 0x7D};
	uint16_t n = xfer(req, sizeof(req));

	assert_int_equal(n, 3 + 250 + 2);
	assert_int_equal(rsp[3] << 8 | rsp[4], 0x0100 ^ 0x5A5A);
	assert_int_equal(rsp[251] << 8 | rsp[252], (0x0100 + 124) ^ 0x5A5A);
	assert_int_equal(fw_mb_crc16(rsp, n), 0);

	const uint8_t zero[] = {SLAVE, 0x04, 0x00, 0x00, 0x00, 0x00};
	assert_exception(xfer(zero, sizeof(zero)), 0x04, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t too_many[] = {SLAVE, 0x04, 0x00, 0x00, 0x00, 0x7E};
	assert_exception(xfer(too_many, sizeof(too_many)), 0x04, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t wraps[] = {SLAVE, 0x04, 0xFF, 0xFF, 0x00, 0x02};
	assert_exception(xfer(wraps, sizeof(wraps)), 0x04, FW_MB_EX_ILLEGAL_ADDRESS);
}

static void test_fc05_write_coil(void **state)
{
	(void)state;
	const uint8_t on[] = {SLAVE, 0x05, 0x00, 0x03, 0xFF, 0x00};
	uint16_t n = xfer(on, sizeof(on));

	assert_int_equal(n, 8);
	assert_memory_equal(rsp, on, sizeof(on)); /* echo */
	assert_int_equal(coils[3], 1);

	const uint8_t bad[] = {SLAVE, 0x05, 0x00, 0x03, 0x12, 0x34};
	assert_exception(xfer(bad, sizeof(bad)), 0x05, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t off[] = {SLAVE, 0x05, 0x00, 0x03, 0x00, 0x00};
	assert_int_equal(xfer(off, sizeof(off)), 8);
	assert_int_equal(coils[3], 0);
	const uint8_t unmapped[] = {SLAVE, 0x05, 0x00, 0x10, 0xFF, 0x00};
	assert_exception(xfer(unmapped, sizeof(unmapped)), 0x05, FW_MB_EX_ILLEGAL_ADDRESS);
}

static void test_fc06_write_register(void **state)
{
	(void)state;
	const uint8_t req[] = {SLAVE, 0x06, 0x00, 0x02, 0x03, 0xE8};
	uint16_t n = xfer(req, sizeof(req));

	assert_int_equal(n, 8);
	assert_memory_equal(rsp, req, sizeof(req));
	assert_int_equal(hold[2], 1000);

	const uint8_t bad[] = {SLAVE, 0x06, 0x00, 0x02, 0x03, 0xE9};
	assert_exception(xfer(bad, sizeof(bad)), 0x06, FW_MB_EX_ILLEGAL_VALUE);
	assert_int_equal(hold[2], 1000);
}

static void test_fc0f_write_coils(void **state)
{
	(void)state;
	/* coils 2..11 = 1,0,1,1,0,0,0,0, 1,1 */
	const uint8_t req[] = {SLAVE, 0x0F, 0x00, 0x02, 0x00, 0x0A, 0x02, 0x0D, 0x03};
	uint16_t n = xfer(req, sizeof(req));

	assert_int_equal(n, 8);
	assert_memory_equal(rsp + 1, ((uint8_t[]){0x0F, 0x00, 0x02, 0x00, 0x0A}), 5);
	const uint16_t want[NCOILS] = {0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0};
	assert_memory_equal(coils, want, sizeof(want));

	const uint8_t bad_count[] = {SLAVE, 0x0F, 0x00, 0x02, 0x00, 0x0A, 0x01, 0x0D};
	assert_exception(xfer(bad_count, sizeof(bad_count)), 0x0F, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t short_data[] = {SLAVE, 0x0F, 0x00, 0x02, 0x00, 0x0A, 0x02, 0x0D};
	assert_exception(xfer(short_data, sizeof(short_data)), 0x0F, FW_MB_EX_ILLEGAL_VALUE);

	/* Partly out of range: exception 02 and nothing written. */
	commits = 0;
	const uint8_t partly[] = {SLAVE, 0x0F, 0x00, 0x0F, 0x00, 0x02, 0x01, 0x03};
	assert_exception(xfer(partly, sizeof(partly)), 0x0F, FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(commits, 0);
	assert_int_equal(coils[15], 0);
}

static void test_fc10_write_registers(void **state)
{
	(void)state;
	const uint8_t req[] = {SLAVE, 0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02};
	uint16_t n = xfer(req, sizeof(req));

	assert_int_equal(n, 8);
	assert_memory_equal(rsp + 1, ((uint8_t[]){0x10, 0x00, 0x01, 0x00, 0x02}), 5);
	assert_int_equal(hold[1], 10);
	assert_int_equal(hold[2], 0x102);

	/* Second value illegal: exception 03 and the first value is not written either. */
	commits = 0;
	const uint8_t bad[] = {SLAVE, 0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0B, 0xFF, 0xFF};
	assert_exception(xfer(bad, sizeof(bad)), 0x10, FW_MB_EX_ILLEGAL_VALUE);
	assert_int_equal(commits, 0);
	assert_int_equal(hold[1], 10);

	const uint8_t bad_count[] = {SLAVE, 0x10, 0x00, 0x01, 0x00, 0x02, 0x03, 0x00, 0x0B, 0x00};
	assert_exception(xfer(bad_count, sizeof(bad_count)), 0x10, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t too_many[] = {SLAVE, 0x10, 0x00, 0x00, 0x00, 0x7C, 0xF8};
	assert_exception(xfer(too_many, sizeof(too_many)), 0x10, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t beyond[] = {SLAVE, 0x10, 0x00, 0x0F, 0x00, 0x02, 0x04, 0, 1, 0, 2};
	assert_exception(xfer(beyond, sizeof(beyond)), 0x10, FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(commits, 0);
}

/*
 * A write range with both an unmapped address and an illegal value answers exception 02:
 * the Modbus application protocol checks the address range before the values. For every
 * range of FC 10 that crosses the end of the holding block, with an illegal value at every
 * position before the unmapped part (single and several), and for FC 06 where both apply.
 * Nothing is written.
 */
static void test_address_checked_before_value(void **state)
{
	(void)state;
	for (uint16_t qty = 2; qty <= 8; qty++) {
		for (uint16_t inside = 1; inside < qty; inside++) {
			uint16_t start = (uint16_t)(NHOLD - inside);
			for (uint16_t bad = 0; bad < inside; bad++) {
				uint8_t req[7 + 2 * 8] = {
				    SLAVE, 0x10,	 (uint8_t)(start >> 8), (uint8_t)start,
				    0,	   (uint8_t)qty, (uint8_t)(2 * qty)};
				for (uint16_t i = 0; i < qty; i++) {
					uint16_t v = i == bad || i == inside - 1 ? 0xFFFF : i;
					req[7 + 2 * i] = (uint8_t)(v >> 8);
					req[8 + 2 * i] = (uint8_t)v;
				}
				commits = 0;
				assert_exception(xfer(req, 7 + 2 * qty), 0x10,
						 FW_MB_EX_ILLEGAL_ADDRESS);
				assert_int_equal(commits, 0);
			}
		}
	}
	/* a lone value that is only illegal still gets 03 */
	const uint8_t bad_value[] = {SLAVE, 0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0xFF, 0xFF};
	assert_exception(xfer(bad_value, sizeof(bad_value)), 0x10, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t single[] = {SLAVE, 0x06, 0x00, NHOLD, 0xFF, 0xFF};
	assert_exception(xfer(single, sizeof(single)), 0x06, FW_MB_EX_ILLEGAL_ADDRESS);
}

/*
 * A function code of 0x80 or more is an exception response's, never a request's: every one
 * is answered with exception 01 (the code echoed, as it already has bit 7), nothing read or
 * written, and counted; a broadcast one gets no reply.
 */
static void test_function_codes_from_0x80(void **state)
{
	(void)state;
	for (unsigned fc = 0x80; fc <= 0xFF; fc++) {
		/* shaped like the valid request of fc & 0x7F, so no length check catches it */
		uint8_t req[] = {SLAVE, (uint8_t)fc, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x01};
		commits = 0;
		assert_exception(xfer(req, sizeof(req)), (uint8_t)fc, FW_MB_EX_ILLEGAL_FUNCTION);
		assert_int_equal(commits, 0);
		req[0] = 0;
		assert_int_equal(xfer(req, sizeof(req)), 0);
		assert_int_equal(commits, 0);
	}
	assert_int_equal(mb.stats.exceptions, 128);
}

/*
 * The real boards' inter-frame gap (hal.h HAL_UART_GAP_US): 3.5 characters of 10 bits
 * (8N1), and a fixed 1.75 ms above 19200 baud, as the Modbus serial line guide says.
 */
static void test_gap_of_the_real_boards(void **state)
{
	(void)state;
	assert_int_equal(HAL_UART_GAP_US(115200u), 1750);
	assert_int_equal(HAL_UART_GAP_US(38400u), 1750);
	assert_int_equal(HAL_UART_GAP_US(19200u), 1823); /* 35 bit times, rounded up */
	assert_int_equal(HAL_UART_GAP_US(9600u), 3646);
	assert_int_equal(HAL_UART_GAP_US(1200u), 29167);
	for (unsigned baud = 1200; baud <= 19200; baud += 300) {
		unsigned us = HAL_UART_GAP_US(baud);
		/* never shorter than 3.5 characters, at most one microsecond longer */
		assert_true((uint64_t)us * baud >= 35ull * 1000000ull);
		assert_true((uint64_t)(us - 1) * baud < 35ull * 1000000ull);
	}
}

static void test_illegal_function(void **state)
{
	(void)state;
	const uint8_t diag[] = {SLAVE, 0x08, 0x00, 0x00, 0x12, 0x34};
	assert_exception(xfer(diag, sizeof(diag)), 0x08, FW_MB_EX_ILLEGAL_FUNCTION);
	const uint8_t mei[] = {SLAVE, 0x2B, 0x0E, 0x01, 0x00};
	assert_exception(xfer(mei, sizeof(mei)), 0x2B, FW_MB_EX_ILLEGAL_FUNCTION);
	assert_int_equal(mb.stats.exceptions, 2);
}

static void test_bad_pdu_length(void **state)
{
	(void)state;
	const uint8_t longer[] = {SLAVE, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00};
	assert_exception(xfer(longer, sizeof(longer)), 0x03, FW_MB_EX_ILLEGAL_VALUE);
	const uint8_t shorter[] = {SLAVE, 0x06, 0x00, 0x00, 0x01};
	assert_exception(xfer(shorter, sizeof(shorter)), 0x06, FW_MB_EX_ILLEGAL_VALUE);
	assert_int_equal(commits, 0);
}

static void test_crc_error_ignored(void **state)
{
	(void)state;
	uint8_t frame[] = {SLAVE, 0x06, 0x00, 0x02, 0x00, 0x07, 0, 0};

	fake_add_crc(frame, 6);
	frame[7] ^= 0x01;
	for (size_t i = 0; i < sizeof(frame); i++)
		fw_mb_rx_byte(&mb, frame[i]);
	assert_int_equal(fw_mb_rx_gap(&mb), 0);
	assert_int_equal(hold[2], 0);
	assert_int_equal(mb.stats.crc_errors, 1);
	assert_int_equal(mb.stats.frames, 0);
}

static void test_other_slave_ignored(void **state)
{
	(void)state;
	const uint8_t req[] = {SLAVE + 1, 0x06, 0x00, 0x02, 0x00, 0x07};
	assert_int_equal(xfer(req, sizeof(req)), 0);
	assert_int_equal(hold[2], 0);
	assert_int_equal(mb.stats.frames, 1);
}

static void test_broadcast(void **state)
{
	(void)state;
	const uint8_t write[] = {0, 0x06, 0x00, 0x02, 0x00, 0x07};
	assert_int_equal(xfer(write, sizeof(write)), 0);
	assert_int_equal(hold[2], 7);
	const uint8_t coils_req[] = {0, 0x0F, 0x00, 0x00, 0x00, 0x02, 0x01, 0x03};
	assert_int_equal(xfer(coils_req, sizeof(coils_req)), 0);
	assert_int_equal(coils[0], 1);
	assert_int_equal(coils[1], 1);
	/* A read or an error is not answered either. */
	const uint8_t read[] = {0, 0x03, 0x00, 0x00, 0x00, 0x01};
	assert_int_equal(xfer(read, sizeof(read)), 0);
	const uint8_t bad[] = {0, 0x06, 0x00, 0x02, 0xFF, 0xFF};
	assert_int_equal(xfer(bad, sizeof(bad)), 0);
	assert_int_equal(hold[2], 7);
	assert_int_equal(mb.stats.exceptions, 0);
}

static void test_frame_ends_at_gap(void **state)
{
	(void)state;
	uint8_t frame[8] = {SLAVE, 0x06, 0x00, 0x02, 0x00, 0x09};
	size_t n = fake_add_crc(frame, 6);

	/* A complete, valid frame is not executed until the gap. */
	for (size_t i = 0; i < n; i++)
		fw_mb_rx_byte(&mb, frame[i]);
	assert_int_equal(hold[2], 0);
	assert_int_equal(fw_mb_rx_gap(&mb), 8);
	assert_int_equal(hold[2], 9);

	/* Two frames without a gap between them are one bad frame. */
	frame[5] = 0x0A;
	n = fake_add_crc(frame, 6);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < n; i++)
			fw_mb_rx_byte(&mb, frame[i]);
	assert_int_equal(fw_mb_rx_gap(&mb), 0);
	assert_int_equal(hold[2], 9);
	assert_int_equal(mb.stats.crc_errors, 1);

	/* An empty gap does nothing; the next frame is fine. */
	assert_int_equal(fw_mb_rx_gap(&mb), 0);
	for (size_t i = 0; i < n; i++)
		fw_mb_rx_byte(&mb, frame[i]);
	assert_int_equal(fw_mb_rx_gap(&mb), 8);
	assert_int_equal(hold[2], 10);
}

static void test_overflow_and_overrun(void **state)
{
	(void)state;
	for (int i = 0; i < FW_MB_ADU_MAX + 40; i++)
		fw_mb_rx_byte(&mb, SLAVE);
	assert_int_equal(fw_mb_rx_gap(&mb), 0);
	assert_int_equal(mb.stats.frame_errors, 1);

	uint8_t frame[8] = {SLAVE, 0x06, 0x00, 0x02, 0x00, 0x05};
	size_t n = fake_add_crc(frame, 6);
	for (size_t i = 0; i < n; i++) {
		fw_mb_rx_byte(&mb, frame[i]);
		if (i == 3)
			fw_mb_rx_overrun(&mb);
	}
	assert_int_equal(fw_mb_rx_gap(&mb), 0);
	assert_int_equal(hold[2], 0);
	assert_int_equal(mb.stats.frame_errors, 2);

	/* Short frame. */
	fw_mb_rx_byte(&mb, SLAVE);
	fw_mb_rx_byte(&mb, 0x03);
	fw_mb_rx_byte(&mb, 0x00);
	assert_int_equal(fw_mb_rx_gap(&mb), 0);
	assert_int_equal(mb.stats.frame_errors, 3);

	/* Recovered. */
	assert_int_equal(xfer(frame, 6), 8);
	assert_int_equal(hold[2], 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_crc16, setup),
	    cmocka_unit_test_setup(test_fc01_read_coils, setup),
	    cmocka_unit_test_setup(test_fc02_read_discrete_max, setup),
	    cmocka_unit_test_setup(test_fc03_read_holding, setup),
	    cmocka_unit_test_setup(test_fc04_read_input_max, setup),
	    cmocka_unit_test_setup(test_fc05_write_coil, setup),
	    cmocka_unit_test_setup(test_fc06_write_register, setup),
	    cmocka_unit_test_setup(test_fc0f_write_coils, setup),
	    cmocka_unit_test_setup(test_fc10_write_registers, setup),
	    cmocka_unit_test_setup(test_illegal_function, setup),
	    cmocka_unit_test_setup(test_bad_pdu_length, setup),
	    cmocka_unit_test_setup(test_address_checked_before_value, setup),
	    cmocka_unit_test_setup(test_function_codes_from_0x80, setup),
	    cmocka_unit_test_setup(test_gap_of_the_real_boards, setup),
	    cmocka_unit_test_setup(test_crc_error_ignored, setup),
	    cmocka_unit_test_setup(test_other_slave_ignored, setup),
	    cmocka_unit_test_setup(test_broadcast, setup),
	    cmocka_unit_test_setup(test_frame_ends_at_gap, setup),
	    cmocka_unit_test_setup(test_overflow_and_overrun, setup),
	};
	return cmocka_run_group_tests_name("fw_modbus", tests, NULL, NULL);
}
