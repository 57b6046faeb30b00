/*
 * Unit tests of the application's boot control (fw_boot_app) inside the real application
 * core (fw_app, fake HAL, fake flash): the boot registers, confirmation over Modbus and in
 * flash, entry into the bootloader after the reply and only with the MAC of a one-time nonce,
 * the trial timer, and that every other register still reaches the I/O data model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_flash.h"
#include "fake_hal.h"
#include "fw_app.h"
#include "fw_boot.h"
#include "fw_boot_app.h"
#include "fw_siphash.h"
#include "rinki/fwimage.h"
#include "rinki/regmap.h"

static struct fw_app app;
static struct fw_boot_app ba;
static uint8_t rsp[FW_MB_ADU_MAX];

/* Put a valid image of length 64 in slot, with the trailer words given (0 = leave erased). */
static void install(unsigned slot, uint16_t patch, uint32_t seq, bool tried, bool confirmed)
{
	uint32_t base = fake_layout.slot_addr[slot];
	uint8_t pl[64];

	for (unsigned i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + slot);
	struct rinki_fwimage_hdr h = {
	    .magic = RINKI_FWIMAGE_MAGIC,
	    .hdr_version = RINKI_FWIMAGE_HDR_VERSION,
	    .board_id = FAKE_BOARD,
	    .ver_major = 3,
	    .ver_minor = 4,
	    .ver_patch = patch,
	    .load_addr = base + RINKI_FWIMAGE_SLOT_HDR,
	    .length = sizeof(pl),
	    .payload_crc = rinki_crc32(0, pl, sizeof(pl)),
	};
	h.hdr_crc = rinki_crc32(0, &h, offsetof(struct rinki_fwimage_hdr, hdr_crc));
	memcpy(fake_flash + base, &h, sizeof(h));
	memcpy(fake_flash + base + RINKI_FWIMAGE_SLOT_HDR, pl, sizeof(pl));
	uint32_t w[] = {seq, RINKI_TRAILER_MAGIC_PENDING, RINKI_TRAILER_MAGIC_TRIED,
			RINKI_TRAILER_MAGIC_CONFIRMED};
	uint32_t at[] = {RINKI_TRAILER_SEQ, RINKI_TRAILER_PENDING, RINKI_TRAILER_TRIED,
			 RINKI_TRAILER_CONFIRMED};
	bool set[] = {true, true, tried, confirmed};
	for (int i = 0; i < 4; i++)
		if (set[i])
			memcpy(fake_flash + base + at[i], &w[i], 4);
}

/* App started from slot running (-1: from elsewhere). */
static void start(int running)
{
	fw_app_init(&app);
	uint32_t vt = running < 0 ? 0x10 : fake_layout.slot_addr[running] + RINKI_FWIMAGE_SLOT_HDR;
	fw_boot_app_attach(&ba, &app.mb, vt, fake_time);
}

static int setup(void **state)
{
	(void)state;
	fake_hal_reset();
	fake_flash_reset();
	install(0, 1, 1, true, true);  /* A: confirmed, seq 1 */
	install(1, 2, 2, true, false); /* B: on trial, seq 2 */
	fake_time = 5000;
	start(1);
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

static uint16_t boot_reg(uint16_t addr)
{
	assert_int_equal(request(0x04, addr, 1), 0);
	return (uint16_t)(rsp[3] << 8 | rsp[4]);
}

/* The entry nonce the application offers now. */
static uint64_t nonce(void)
{
	assert_int_equal(request(0x04, RINKI_IREG_BOOT_NONCE, 4), 0);
	uint64_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 16 | (uint64_t)(rsp[3 + 2 * i] << 8 | rsp[4 + 2 * i]);
	return v;
}

/* The entry MAC of nonce n for board under key (fwimage.h). */
static uint64_t entry_mac(const uint8_t *key, uint64_t n, uint16_t board)
{
	uint8_t m[RINKI_BOOT_ENTRY_MSG_LEN];

	memcpy(m, RINKI_BOOT_ENTRY_TAG, 8);
	for (int i = 0; i < 8; i++)
		m[8 + i] = (uint8_t)(n >> (8 * i));
	m[16] = (uint8_t)board;
	m[17] = (uint8_t)(board >> 8);
	return fw_siphash(key, m, sizeof(m));
}

/* Write mac to RINKI_HREG_BOOT_MAC (FC16, high word first); the exception code or 0. */
static int write_mac(uint64_t mac)
{
	uint8_t req[7 + 8] = {1, 0x10, 0, (uint8_t)RINKI_HREG_BOOT_MAC, 0, 4, 8};

	for (int i = 0; i < 8; i++)
		req[7 + i] = (uint8_t)(mac >> (56 - 8 * i));
	size_t n = fake_transact(&app, req, sizeof(req), rsp, sizeof(rsp));
	assert_true(n >= 5);
	return rsp[1] & 0x80 ? rsp[2] : 0;
}

static const uint8_t test_key[16] = FW_ENTRY_KEY;

static uint16_t slot_reg(unsigned slot, unsigned reg)
{
	return boot_reg((uint16_t)(RINKI_IREG_BOOT_SLOT_BASE + slot * RINKI_BOOT_SLOT_REGS + reg));
}

static void test_registers(void **state)
{
	(void)state;
	/* The whole block in one read. */
	assert_int_equal(request(0x04, RINKI_IREG_BOOT_SLOT, RINKI_IREG_BOOT_NREGS), 0);
	assert_int_equal(rsp[2], 2 * RINKI_IREG_BOOT_NREGS);
	assert_int_equal(boot_reg(RINKI_IREG_BOOT_SLOT), 1);
	assert_int_equal(boot_reg(RINKI_IREG_BOOT_TRIAL_LEFT), FW_BOOT_TRIAL_MS / 1000);
	assert_int_equal(slot_reg(0, RINKI_BOOT_SLOT_REG_STATE), RINKI_SLOT_CONFIRMED);
	assert_int_equal(slot_reg(0, RINKI_BOOT_SLOT_REG_VER), 0x0304);
	assert_int_equal(slot_reg(0, RINKI_BOOT_SLOT_REG_PATCH), 1);
	assert_int_equal(slot_reg(0, RINKI_BOOT_SLOT_REG_SEQ), 1);
	assert_int_equal(slot_reg(1, RINKI_BOOT_SLOT_REG_STATE), RINKI_SLOT_TRIAL);
	assert_int_equal(slot_reg(1, RINKI_BOOT_SLOT_REG_SEQ), 2);
	/* Beyond the block; other registers still answered by the I/O model. */
	assert_int_equal(request(0x04, RINKI_IREG_BOOT_SLOT + RINKI_IREG_BOOT_NREGS, 1),
			 FW_MB_EX_ILLEGAL_ADDRESS);
	assert_int_equal(request(0x04, RINKI_IREG_BOARD_ID, 1), 0);
	assert_int_equal(rsp[3] << 8 | rsp[4], FAKE_BOARD_ID);
	assert_int_equal(request(0x06, RINKI_HREG_LED_FAULT, RINKI_LED_ON), 0);
	assert_int_equal(app.io.led[3], RINKI_LED_ON);
	assert_int_equal(request(0x03, RINKI_HREG_BOOT_CTL, 1), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, 0x1234), FW_MB_EX_ILLEGAL_VALUE);
}

static void test_confirm(void **state)
{
	(void)state;
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_CONFIRM), 0);
	assert_int_equal(slot_reg(1, RINKI_BOOT_SLOT_REG_STATE), RINKI_SLOT_CONFIRMED);
	assert_int_equal(boot_reg(RINKI_IREG_BOOT_TRIAL_LEFT), 0);
	/* In flash, as the bootloader will see it. */
	struct fw_boot b;
	fw_boot_init(&b, &fake_layout);
	assert_int_equal(b.slot[1].state, RINKI_SLOT_CONFIRMED);
	assert_int_equal(fw_boot_pick(&b), 1);
	/* Again: no change, no error; and no trial end any more. */
	unsigned ops = fake_flash_ops;
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_CONFIRM), 0);
	assert_int_equal(fake_flash_ops, ops);
	fake_time += FW_BOOT_TRIAL_MS + 1;
	assert_int_equal(fw_boot_app_poll(&ba, fake_time), FW_BOOT_APP_RUN);
	assert_int_equal(fake_flash_violations, 0);
}

static void test_trial_ends(void **state)
{
	(void)state;
	fake_time += FW_BOOT_TRIAL_MS - 1;
	assert_int_equal(fw_boot_app_poll(&ba, fake_time), FW_BOOT_APP_RUN);
	assert_int_equal(boot_reg(RINKI_IREG_BOOT_TRIAL_LEFT), 1);
	fake_time++;
	assert_int_equal(fw_boot_app_poll(&ba, fake_time), FW_BOOT_APP_STOP);
	/* Too late to confirm. */
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_CONFIRM),
			 FW_MB_EX_DEVICE_FAILURE);
	struct fw_boot b;
	fw_boot_init(&b, &fake_layout);
	assert_int_equal(b.slot[1].state, RINKI_SLOT_TRIAL);
	/* The bootloader's next start rejects it and goes back to A. */
	fw_boot_reject_failed(&b);
	assert_int_equal(b.slot[1].state, RINKI_SLOT_REJECTED);
	assert_int_equal(fw_boot_pick(&b), 0);
}

static void test_enter_after_reply(void **state)
{
	(void)state;
	assert_int_equal(write_mac(entry_mac(test_key, nonce(), FAKE_BOARD)), 0);
	assert_int_equal(request(0x03, RINKI_HREG_BOOT_MAC, 1), 0); /* never reads back */
	assert_int_equal(rsp[3] << 8 | rsp[4], 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER), 0);
	assert_int_equal(rsp[4] << 8 | rsp[5], RINKI_BOOT_CTL_ENTER); /* the reply went out */
	assert_int_equal(fake_boot_enters, 0);
	fw_boot_app_poll(&ba, fake_time);
	assert_int_equal(fake_boot_enters, 1);
	assert_true(fake_boot_request);
}

/* SipHash-2-4's own test vector (the paper, appendix A): key 00..0f, message 00..0e. */
static void test_siphash_vector(void **state)
{
	(void)state;
	uint8_t k[16], m[15];

	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	assert_true(fw_siphash(k, m, sizeof(m)) == 0xa129ca6149be45e5ull);
}

/*
 * Entering the bootloader needs the MAC of the current nonce under the entry key: no MAC, a
 * MAC under another key, for another board, or a replayed one are refused with exception 03
 * and the board stays in the application; every try uses the nonce up.
 */
static void test_enter_refused_without_mac(void **state)
{
	(void)state;
	uint8_t other_key[16];
	memcpy(other_key, test_key, 16);
	other_key[0] ^= 1;

	uint64_t n0 = nonce();
	assert_int_equal(nonce(), n0); /* reading does not change it */
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER),
			 FW_MB_EX_ILLEGAL_VALUE);
	uint64_t n1 = nonce();
	assert_true(n1 != n0);

	assert_int_equal(write_mac(entry_mac(other_key, n1, FAKE_BOARD)), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER),
			 FW_MB_EX_ILLEGAL_VALUE);
	uint64_t n2 = nonce();
	assert_int_equal(write_mac(entry_mac(test_key, n2, FAKE_BOARD + 1)), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER),
			 FW_MB_EX_ILLEGAL_VALUE);
	/* The right MAC of a used nonce (a recorded exchange) is refused too. */
	assert_int_equal(write_mac(entry_mac(test_key, n2, FAKE_BOARD)), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER),
			 FW_MB_EX_ILLEGAL_VALUE);
	fw_boot_app_poll(&ba, fake_time);
	assert_int_equal(fake_boot_enters, 0);
	assert_false(fake_boot_request);

	/* The holder of the key gets in; and the MAC is not left behind for a second ENTER. */
	assert_int_equal(write_mac(entry_mac(test_key, nonce(), FAKE_BOARD)), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER),
			 FW_MB_EX_ILLEGAL_VALUE);
	fw_boot_app_poll(&ba, fake_time);
	assert_int_equal(fake_boot_enters, 1);
}

/*
 * A recorded entry cannot be replayed after the board restarts (issue 18): the nonce after a
 * power cycle (RAM and clock start again, the flash keeps its contents) is not one the board
 * showed before, and the recorded MAC is refused.
 */
static void test_entry_replay_after_power_cycle(void **state)
{
	(void)state;
	uint64_t seen[4];
	uint64_t n = nonce(), mac = entry_mac(test_key, n, FAKE_BOARD);

	assert_int_equal(write_mac(mac), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER), 0);
	fw_boot_app_poll(&ba, fake_time);
	assert_int_equal(fake_boot_enters, 1);
	seen[0] = n;
	for (int cycle = 1; cycle < 4; cycle++) {
		/* Power cycle: the same start-up, to the millisecond. */
		fake_hal_reset();
		fake_boot_request = false;
		fake_time = 5000;
		start(1);
		uint64_t now = nonce();
		for (int i = 0; i < cycle; i++)
			assert_true(now != seen[i]);
		seen[cycle] = now;
		assert_int_equal(write_mac(mac), 0);
		assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER),
				 FW_MB_EX_ILLEGAL_VALUE);
		fw_boot_app_poll(&ba, fake_time);
		assert_int_equal(fake_boot_enters, 1);
		assert_false(fake_boot_request);
	}
}

static void test_confirmed_image_and_foreign_start(void **state)
{
	(void)state;
	/* Running the confirmed A: confirm is accepted, nothing ends. */
	start(0);
	assert_int_equal(boot_reg(RINKI_IREG_BOOT_SLOT), 0);
	assert_int_equal(boot_reg(RINKI_IREG_BOOT_TRIAL_LEFT), 0);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_CONFIRM), 0);
	fake_time += FW_BOOT_TRIAL_MS + 1;
	assert_int_equal(fw_boot_app_poll(&ba, fake_time), FW_BOOT_APP_RUN);
	/* Started from no slot: nothing to confirm. */
	start(-1);
	assert_int_equal(boot_reg(RINKI_IREG_BOOT_SLOT), 0xFFFF);
	assert_int_equal(request(0x06, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_CONFIRM),
			 FW_MB_EX_DEVICE_FAILURE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_registers, setup),
	    cmocka_unit_test_setup(test_confirm, setup),
	    cmocka_unit_test_setup(test_trial_ends, setup),
	    cmocka_unit_test_setup(test_enter_after_reply, setup),
	    cmocka_unit_test_setup(test_siphash_vector, setup),
	    cmocka_unit_test_setup(test_enter_refused_without_mac, setup),
	    cmocka_unit_test_setup(test_confirmed_image_and_foreign_start, setup),
	    cmocka_unit_test_setup(test_entry_replay_after_power_cycle, setup),
	};
	return cmocka_run_group_tests_name("fw_boot_app", tests, NULL, NULL);
}
