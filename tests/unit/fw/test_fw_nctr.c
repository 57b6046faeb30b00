/*
 * Unit tests of the entry nonce counter (fw_nctr) and the entry check on top of it (fw_entry)
 * against the fake flash: it counts up from 0 through many sector changes (one erase per 255
 * steps), lives in flash only, stops before it could wrap around, and never hands out a value twice
 * when power fails at any flash operation of a step, whichever way that operation is left
 * (nothing done, half done, half done with a garbled byte), also when it started from flash
 * that reads all zeros (QEMU's fresh memory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_flash.h"
#include "fw_entry.h"
#include "fw_nctr.h"
#include "fw_siphash.h"
#include "rinki/fwimage.h"

#define STEPS_PER_SECTOR (FAKE_FLASH_SECTOR / 4u - FW_NCTR_HDR_WORDS)

static int setup(void **state)
{
	(void)state;
	fake_flash_reset();
	return 0;
}

static uint32_t step(void)
{
	uint32_t v = 0;

	assert_int_equal(fw_nctr_step(&fake_layout, &v), 0);
	return v;
}

static void test_counts_up_across_sectors(void **state)
{
	(void)state;
	assert_int_equal(fw_nctr_value(&fake_layout), 0);
	const uint32_t n = 5 * STEPS_PER_SECTOR + 7;
	for (uint32_t i = 1; i <= n; i++) {
		assert_int_equal(step(), i);
		assert_int_equal(fw_nctr_value(&fake_layout), i);
	}
	assert_int_equal(fake_flash_violations, 0);
	/* One program a step, and one erase every STEPS_PER_SECTOR + 1 (a header takes a value). */
	assert_int_equal(fake_flash_ops, n + (n + STEPS_PER_SECTOR) / (STEPS_PER_SECTOR + 1));
	/* Nothing outside its two sectors was touched. */
	for (uint32_t a = 0; a < FAKE_NCTR; a++)
		if (fake_flash[a] != 0xFF)
			fail_msg("byte 0x%x written", a);
}

/* QEMU's memory starts zeroed, not erased: no valid sector, the counter starts at 1. */
static void test_zeroed_flash(void **state)
{
	(void)state;
	memset(fake_flash + FAKE_NCTR, 0, 2 * FAKE_FLASH_SECTOR);
	assert_int_equal(fw_nctr_value(&fake_layout), 0);
	assert_int_equal(step(), 1);
	assert_int_equal(step(), 2);
	assert_int_equal(fake_flash_violations, 0);
}

/* Step the counter with power failing at its op-th flash operation; true if it was cut. */
static bool cut_step(enum fake_cut cut, unsigned op, uint32_t *v)
{
	jmp_buf env;

	fake_flash_power_jmp = &env;
	fake_flash_cut = cut;
	fake_flash_fail_at = fake_flash_ops + op;
	if (setjmp(env) != 0)
		return true;
	assert_int_equal(fw_nctr_step(&fake_layout, v), 0);
	fake_flash_fail_at = 0; /* the step needed fewer operations */
	return false;
}

/*
 * Power fails at every flash operation of a step (first, middle and sector-change steps), left
 * each of the three ways; after the restart the counter never returns a value it returned
 * before, and it goes on counting.
 */
static void test_power_loss_never_repeats(void **state)
{
	(void)state;
	unsigned cases = 0;

	for (int zeroed = 0; zeroed < 2; zeroed++)
		for (int cut = 0; cut < FAKE_CUT_MODES; cut++)
			for (uint32_t at = 0; at < 2 * STEPS_PER_SECTOR + 4; at++) {
				fake_flash_reset();
				if (zeroed)
					memset(fake_flash + FAKE_NCTR, 0, 2 * FAKE_FLASH_SECTOR);
				uint32_t last = 0;
				for (uint32_t i = 0; i < at; i++)
					last = step();
				/* The step cut at each of its operations (at most erase + write).
				 */
				for (unsigned op = 1; op <= 2; op++) {
					uint32_t v = 0;
					if (!cut_step((enum fake_cut)cut, op, &v)) {
						assert_true(v > last);
						last = v;
						continue;
					}
					cases++;
					/* Restart: the value is at least the last one handed out.
					 */
					assert_true(fw_nctr_value(&fake_layout) >= last);
					uint32_t next = step();
					assert_true(next > last);
					assert_int_equal(step(), next + 1);
					last = next + 1;
				}
				assert_int_equal(fake_flash_violations, 0);
			}
	print_message("nonce counter: %u cut steps checked, none repeated a value\n", cases);
	assert_true(cases >= 2u * FAKE_CUT_MODES * (2 * STEPS_PER_SECTOR + 4));
}

/* The MAC the host sends for nonce n (fwimage.h). */
static uint64_t mac_of(const uint8_t *key, uint64_t n)
{
	uint8_t m[RINKI_BOOT_ENTRY_MSG_LEN];

	memcpy(m, RINKI_BOOT_ENTRY_TAG, 8);
	for (int i = 0; i < 8; i++)
		m[8 + i] = (uint8_t)(n >> (8 * i));
	m[16] = (uint8_t)FAKE_BOARD;
	m[17] = (uint8_t)(FAKE_BOARD >> 8);
	return fw_siphash(key, m, sizeof(m));
}

static const uint8_t test_key[16] = FW_ENTRY_KEY;

/*
 * A check uses the nonce up whatever the MAC: the right MAC of a used nonce is refused, also
 * after a restart (the nonce is in flash); a check whose counter step cannot be stored is
 * refused even with the right MAC.
 */
static void test_entry_check_one_try(void **state)
{
	(void)state;
	uint64_t n0 = fw_entry_nonce(&fake_layout);
	assert_true(fw_entry_nonce(&fake_layout) == n0); /* showing it does not use it */
	assert_true(fw_entry_check(&fake_layout, mac_of(test_key, n0)));
	uint64_t n1 = fw_entry_nonce(&fake_layout);
	assert_true(n1 != n0);
	assert_false(fw_entry_check(&fake_layout, mac_of(test_key, n0)));
	uint64_t n2 = fw_entry_nonce(&fake_layout);
	assert_true(n2 != n1 && n2 != n0);
	assert_false(fw_entry_check(&fake_layout, mac_of(test_key, n2) ^ 1));
	assert_false(fw_entry_check(&fake_layout, mac_of(test_key, n2)));
	/* A counter at its end cannot step: the right MAC is refused, nothing wraps around. */
	uint32_t hdr[2] = {FW_NCTR_MAX, ~FW_NCTR_MAX};
	memset(fake_flash + FAKE_NCTR, 0xFF, 2 * FAKE_FLASH_SECTOR);
	memcpy(fake_flash + FAKE_NCTR + FAKE_FLASH_SECTOR, hdr, sizeof(hdr));
	assert_int_equal(fw_nctr_value(&fake_layout), FW_NCTR_MAX);
	uint32_t v = 0;
	assert_int_equal(fw_nctr_step(&fake_layout, &v), -1);
	uint64_t n3 = fw_entry_nonce(&fake_layout);
	assert_false(fw_entry_check(&fake_layout, mac_of(test_key, n3)));
	assert_int_equal(fw_nctr_value(&fake_layout), FW_NCTR_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_counts_up_across_sectors, setup),
	    cmocka_unit_test_setup(test_zeroed_flash, setup),
	    cmocka_unit_test_setup(test_power_loss_never_repeats, setup),
	    cmocka_unit_test_setup(test_entry_check_one_try, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
