/*
 * libFuzzer target for the bootloader's protocol engine (firmware/core/fw_boot_proto.c) over
 * the slot code (fw_boot.c) and the fake flash (tests/unit/fw/fake_flash.c). The input is a
 * received byte stream with four escapes, so that inputs get past the CRC32 of the frames and
 * the entry MAC: FF FE advances the clock by 150 ms (frame time-outs, the end of the window), FF
 * FC feeds the sync word, FF FD T L <L bytes> feeds a correctly framed command of type T, FF FB
 * feeds AUTH with the right MAC of the nonce the engine shows (the fuzzer cannot find one: the
 * engine must refuse every other). The flash starts
 * with a valid, confirmed image in slot A and the bootloader in its listening window, so inputs
 * reach both the window and a session. Checks: every reply is a well-formed frame with a good CRC;
 * the flash is never written outside the slots or over unerased bits (fake_flash_violations); the
 * confirmed image in slot A is never touched while it is the newest confirmed one; a slot the
 * engine says to start is bootable; without an accepted AUTH the slots are not written at all.
 * Build: make fw-fuzz; run: build/fw/fuzz/fuzz_fw_boot
 * -max_len=4096
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_flash.h"
#include "fw_boot.h"
#include "fw_boot_proto.h"
#include "fw_siphash.h"

static uint8_t initial[FAKE_FLASH_SIZE];
static uint8_t slot_a[FAKE_SLOT_SIZE];

/* Slot A: a 200-byte confirmed image, built once. */
static void make_initial(void)
{
	uint32_t base = FAKE_SLOT_A;
	uint8_t pl[200];

	fake_flash_reset();
	for (unsigned i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 13);
	struct rinki_fwimage_hdr h = {
	    .magic = RINKI_FWIMAGE_MAGIC,
	    .hdr_version = RINKI_FWIMAGE_HDR_VERSION,
	    .board_id = FAKE_BOARD,
	    .load_addr = base + RINKI_FWIMAGE_SLOT_HDR,
	    .length = sizeof(pl),
	    .payload_crc = rinki_crc32(0, pl, sizeof(pl)),
	};
	h.hdr_crc = rinki_crc32(0, &h, offsetof(struct rinki_fwimage_hdr, hdr_crc));
	memcpy(fake_flash + base, &h, sizeof(h));
	memcpy(fake_flash + base + RINKI_FWIMAGE_SLOT_HDR, pl, sizeof(pl));
	const uint32_t w[4] = {1, RINKI_TRAILER_MAGIC_PENDING, RINKI_TRAILER_MAGIC_TRIED,
			       RINKI_TRAILER_MAGIC_CONFIRMED};
	const uint32_t at[4] = {RINKI_TRAILER_SEQ, RINKI_TRAILER_PENDING, RINKI_TRAILER_TRIED,
				RINKI_TRAILER_CONFIRMED};
	for (int i = 0; i < 4; i++)
		memcpy(fake_flash + base + at[i], &w[i], 4);
	memcpy(initial, fake_flash, sizeof(initial));
	memcpy(slot_a, fake_flash + base, sizeof(slot_a));
}

static const uint8_t entry_key[16] = FW_ENTRY_KEY;

/* The AUTH frame with the entry MAC of the nonce p shows now, into f; its length. */
static size_t auth_frame(const struct fw_bootp *p, uint8_t *f)
{
	uint8_t m[RINKI_BOOT_ENTRY_MSG_LEN];

	memcpy(m, RINKI_BOOT_ENTRY_TAG, 8);
	for (int i = 0; i < 8; i++)
		m[8 + i] = (uint8_t)(p->nonce >> (8 * i));
	m[16] = (uint8_t)FAKE_BOARD;
	m[17] = (uint8_t)(FAKE_BOARD >> 8);
	uint64_t mac = fw_siphash(entry_key, m, sizeof(m));
	f[0] = RINKI_BL_SOF;
	f[1] = RINKI_BL_AUTH;
	f[2] = 8;
	f[3] = 0;
	for (int i = 0; i < 8; i++)
		f[4 + i] = (uint8_t)(mac >> (8 * i));
	uint32_t crc = rinki_crc32(0, f + 1, 3u + 8);
	memcpy(f + 12, &crc, 4);
	return RINKI_BL_FRAME_OVH + 8;
}

static void check_reply(const struct fw_bootp *p, uint16_t n)
{
	if (n == 0)
		return;
	if (n < RINKI_BL_FRAME_OVH || n > sizeof(p->tx) || p->tx[0] != RINKI_BL_SOF)
		abort();
	uint16_t len = (uint16_t)(p->tx[2] | p->tx[3] << 8);
	if (n != RINKI_BL_FRAME_OVH + len || len < 1)
		abort();
	uint32_t crc = rinki_crc32(0, p->tx + 1, 3u + len);
	if (memcmp(p->tx + 4 + len, &crc, 4) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_boot boot;
	static struct fw_bootp p;
	static int ready;
	uint32_t now = 0;
	bool authed = false;

	if (!ready) {
		make_initial();
		ready = 1;
	}
	memcpy(fake_flash, initial, sizeof(fake_flash));
	fake_flash_violations = 0;
	fw_boot_init(&boot, &fake_layout);
	fw_boot_reject_failed(&boot);
	fw_bootp_init(&p, &boot, false, now);

	static const uint8_t sync[] = {RINKI_BL_SYNC_BYTES};
	uint8_t f[RINKI_BL_FRAME_OVH + 255];

	for (size_t i = 0; i < size; i++) {
		const uint8_t *in = data + i;
		size_t n = 1;
		if (data[i] == 0xFF && i + 1 < size && data[i + 1] == 0xFE) {
			now += 150;
			n = 0;
			i++;
		} else if (data[i] == 0xFF && i + 1 < size && data[i + 1] == 0xFB) {
			n = auth_frame(&p, f);
			in = f;
			i++;
		} else if (data[i] == 0xFF && i + 1 < size && data[i + 1] == 0xFC) {
			in = sync;
			n = sizeof(sync);
			i++;
		} else if (data[i] == 0xFF && i + 3 < size && data[i + 1] == 0xFD &&
			   i + 4 + data[i + 3] <= size) {
			uint8_t len = data[i + 3];
			f[0] = RINKI_BL_SOF;
			f[1] = data[i + 2];
			f[2] = len;
			f[3] = 0;
			memcpy(f + 4, data + i + 4, len);
			uint32_t crc = rinki_crc32(0, f + 1, 3u + len);
			memcpy(f + 4 + len, &crc, 4);
			in = f;
			n = RINKI_BL_FRAME_OVH + len;
			i += 3u + len;
		}
		for (size_t k = 0; k < n; k++)
			check_reply(&p, fw_bootp_rx(&p, in[k], now));
		authed = authed || p.authed;
		int r = fw_bootp_poll(&p, now);
		if (r >= 0) {
			/* It may only start a bootable slot. */
			if (boot.slot[r].state != RINKI_SLOT_CONFIRMED &&
			    boot.slot[r].state != RINKI_SLOT_TRIAL)
				abort();
			break;
		}
		if (r == FW_BOOTP_RESET)
			break;
	}
	if (fake_flash_violations)
		abort();
	/* Nothing in the slots changes before an AUTH was accepted. */
	if (!authed && memcmp(fake_flash, initial, FAKE_NCTR) != 0)
		abort();
	/* Slot B can only become newer after a complete, verified upload; until then A stays. */
	if (boot.slot[1].state != RINKI_SLOT_CONFIRMED &&
	    memcmp(fake_flash + FAKE_SLOT_A, slot_a, FAKE_SLOT_SIZE) != 0)
		abort();
	return 0;
}
