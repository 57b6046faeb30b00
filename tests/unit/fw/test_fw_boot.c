/*
 * Unit tests of the bootloader core (fw_boot, fw_boot_proto) against the fake flash: the
 * boot decision, the protocol and its errors, the listening window against ordinary Modbus
 * traffic, and the power-loss test: a whole update (upload through the real protocol engine,
 * commit, first boot, confirmation) loses power at its N-th flash operation, for every N and
 * three ways of leaving that operation half done; then the board is restarted (also with a
 * second power loss in that restart) and must boot the old or the new image, a second
 * restart must land on a confirmed one, and a new update must still succeed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_flash.h"
#include "fw_boot.h"
#include "fw_boot_proto.h"
#include "fw_modbus.h"
#include "fw_siphash.h"

#define CHUNK	  256u /* small chunks: more flash writes, more places to cut */
#define IMAGE_LEN 2500u

static struct fw_boot boot;
static struct fw_bootp bp;
static uint32_t now;
static uint8_t payload[FAKE_SLOT_SIZE];
static uint8_t rsp[RINKI_BL_PAYLOAD_MAX + 16];
static uint16_t rsp_len;
static uint32_t image_epoch; /* the anti-rollback epoch make_image() signs in */

static int setup(void **state)
{
	(void)state;
	fake_flash_reset();
	now = 1000;
	image_epoch = 0;
	return 0;
}

/* --- helpers -------------------------------------------------------------------------------- */

/* Header for an image with build id build, length len, linked for slot. Payload in payload. */
static struct rinki_fwimage_hdr make_image(uint32_t build, uint32_t len, unsigned slot)
{
	uint32_t x = build * 2654435761u + 1;

	for (uint32_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		payload[i] = (uint8_t)(x >> 16);
	}
	struct rinki_fwimage_hdr h = {
	    .magic = RINKI_FWIMAGE_MAGIC,
	    .hdr_version = RINKI_FWIMAGE_HDR_VERSION,
	    .board_id = FAKE_BOARD,
	    .ver_major = 1,
	    .ver_minor = 2,
	    .ver_patch = (uint16_t)build,
	    .build_hash = build,
	    .load_addr = fake_layout.slot_addr[slot] + RINKI_FWIMAGE_SLOT_HDR,
	    .length = len,
	    .payload_crc = rinki_crc32(0, payload, len),
	    .epoch = image_epoch,
	};
	h.hdr_crc = rinki_crc32(0, &h, offsetof(struct rinki_fwimage_hdr, hdr_crc));
	return h;
}

/* Restart the bootloader (fresh RAM state over the same flash). */
static void bl_start(bool requested)
{
	memset(&boot, 0xA5, sizeof(boot));
	memset(&bp, 0xA5, sizeof(bp));
	fw_boot_init(&boot, &fake_layout);
	fw_boot_reject_failed(&boot);
	fw_bootp_init(&bp, &boot, requested, now);
}

/* Feed bytes; returns the length of the last reply (copied to rsp, payload only). */
static uint16_t feed(const uint8_t *p, size_t n)
{
	uint16_t last = 0;

	for (size_t i = 0; i < n; i++) {
		uint16_t r = fw_bootp_rx(&bp, p[i], now);
		if (r) {
			assert_true(r >= RINKI_BL_FRAME_OVH);
			assert_int_equal(bp.tx[0], RINKI_BL_SOF);
			uint16_t pl = (uint16_t)(bp.tx[2] | bp.tx[3] << 8);
			assert_int_equal(r, RINKI_BL_FRAME_OVH + pl);
			uint32_t crc = rinki_crc32(0, bp.tx + 1, 3u + pl);
			assert_memory_equal(bp.tx + 4 + pl, &crc, 4);
			memcpy(rsp, bp.tx + 4, pl);
			rsp_len = pl;
			last = r;
		}
	}
	return last;
}

static size_t frame(uint8_t *out, uint8_t type, const void *pl, uint16_t n)
{
	out[0] = RINKI_BL_SOF;
	out[1] = type;
	out[2] = (uint8_t)n;
	out[3] = (uint8_t)(n >> 8);
	if (n)
		memcpy(out + 4, pl, n);
	uint32_t crc = rinki_crc32(0, out + 1, 3u + n);
	memcpy(out + 4 + n, &crc, 4);
	return RINKI_BL_FRAME_OVH + n;
}

/* One command; returns the status byte of its reply (which must be of the right type). */
static uint8_t cmd(uint8_t type, const void *pl, uint16_t n)
{
	static uint8_t f[RINKI_BL_FRAME_OVH + RINKI_BL_PAYLOAD_MAX];
	size_t len = frame(f, type, pl, n);

	assert_true(feed(f, len) > 0);
	assert_int_equal(bp.tx[1], RINKI_BL_REPLY_TYPE | type);
	assert_true(rsp_len >= 1);
	return rsp[0];
}

static uint32_t rsp32(void)
{
	uint32_t v;

	memcpy(&v, rsp + 1, 4);
	return v;
}

static struct rinki_bl_info sync_info(void)
{
	static const uint8_t sync[] = {RINKI_BL_SYNC_BYTES};
	struct rinki_bl_info in;

	assert_true(feed(sync, sizeof(sync)) > 0);
	assert_int_equal(bp.tx[1], RINKI_BL_REPLY_TYPE | RINKI_BL_INFO);
	assert_int_equal(rsp_len, sizeof(in));
	memcpy(&in, rsp, sizeof(in));
	return in;
}

static const uint8_t entry_key[16] = FW_ENTRY_KEY;

/* The entry MAC (fwimage.h) of the nonce in in under key. */
static uint64_t mac_of(const uint8_t *key, const struct rinki_bl_info *in)
{
	uint8_t m[RINKI_BOOT_ENTRY_MSG_LEN];

	memcpy(m, RINKI_BOOT_ENTRY_TAG, 8);
	memcpy(m + 8, in->nonce, 8);
	m[16] = (uint8_t)in->board_id;
	m[17] = (uint8_t)(in->board_id >> 8);
	return fw_siphash(key, m, sizeof(m));
}

/* RINKI_BL_AUTH with mac; its status. */
static uint8_t auth_with(uint64_t mac)
{
	uint8_t m[8];

	for (int i = 0; i < 8; i++)
		m[i] = (uint8_t)(mac >> (8 * i));
	return cmd(RINKI_BL_AUTH, m, sizeof(m));
}

/* Sync and authenticate as rinki-flash does; the info of the sync. */
static struct rinki_bl_info session(void)
{
	struct rinki_bl_info in = sync_info();

	assert_int_equal(in.auth, 0);
	assert_int_equal(auth_with(mac_of(entry_key, &in)), RINKI_BL_OK);
	return in;
}

/* Let the listening window run out; returns what the poll said (slot, or STAY after 1 s). */
static int run_window(void)
{
	for (int i = 0; i < 1000; i++) {
		now++;
		int r = fw_bootp_poll(&bp, now);
		if (r != FW_BOOTP_STAY)
			return r;
	}
	return FW_BOOTP_STAY;
}

/* Power-on: the bootloader without request, through its window. Slot started or -1. */
static int boot_once(void)
{
	bl_start(false);
	int r = run_window();
	return r >= 0 ? r : -1;
}

/* The application confirms itself, with its own view of the flash. */
static int app_confirm(unsigned slot)
{
	struct fw_boot app;

	fw_boot_init(&app, &fake_layout);
	return fw_boot_confirm(&app, slot);
}

/*
 * A whole update to an image with build id build: request, sync, upload, verify, commit,
 * boot, first start, and the confirmation if confirm. Returns the slot it went to.
 */
static unsigned update(uint32_t build, bool confirm)
{
	bl_start(true);
	struct rinki_bl_info in = session();
	assert_int_equal(in.entry, RINKI_BL_ENTRY_REQUEST);
	unsigned slot = in.target;
	struct rinki_fwimage_hdr h = make_image(build, IMAGE_LEN, slot);

	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_OK);
	for (uint32_t off = 0; off < h.length; off += CHUNK) {
		uint8_t buf[4 + CHUNK];
		uint32_t n = h.length - off < CHUNK ? h.length - off : CHUNK;
		memcpy(buf, &off, 4);
		memcpy(buf + 4, payload + off, n);
		assert_int_equal(cmd(RINKI_BL_DATA, buf, (uint16_t)(4 + n)), RINKI_BL_OK);
		assert_int_equal(rsp32(), off + n);
	}
	assert_int_equal(cmd(RINKI_BL_END, NULL, 0), RINKI_BL_OK);
	assert_int_equal(rsp32(), h.payload_crc);
	assert_int_equal(cmd(RINKI_BL_COMMIT, NULL, 0), RINKI_BL_OK);
	assert_int_equal(cmd(RINKI_BL_BOOT, NULL, 0), RINKI_BL_OK);
	assert_int_equal(fw_bootp_poll(&bp, now), FW_BOOTP_RESET);

	assert_int_equal(boot_once(), (int)slot);
	assert_int_equal(boot.slot[slot].state, RINKI_SLOT_TRIAL);
	assert_int_equal(boot.slot[slot].hdr.build_hash, build);
	if (confirm)
		assert_int_equal(app_confirm(slot), 0);
	return slot;
}

/* Build id of the image that boots now (without changing anything but the trial marks). */
static uint32_t booted_build(void)
{
	int s = boot_once();

	assert_true(s >= 0);
	return boot.slot[s].hdr.build_hash;
}

/* --- boot decision -------------------------------------------------------------------------- */

static void test_empty_flash_serves(void **state)
{
	(void)state;
	bl_start(false);
	assert_int_equal(bp.mode, FW_BOOTP_SERVE);
	assert_int_equal(bp.entry, RINKI_BL_ENTRY_NO_IMAGE);
	assert_int_equal(run_window(), FW_BOOTP_STAY);
	struct rinki_bl_info in = sync_info();
	assert_int_equal(in.board_id, FAKE_BOARD);
	assert_int_equal(in.slot[0].state, RINKI_SLOT_EMPTY);
	assert_int_equal(in.slot[1].state, RINKI_SLOT_EMPTY);
	assert_int_equal(in.slot[1].addr, FAKE_SLOT_B);
	assert_int_equal(in.target, 0);
}

static void test_update_confirm_and_rollback(void **state)
{
	(void)state;
	assert_int_equal(update(1, true), 0);
	assert_int_equal(booted_build(), 1);
	assert_int_equal(boot.slot[0].state, RINKI_SLOT_CONFIRMED);
	assert_int_equal(boot.slot[0].seq, 1);

	/* The next image goes to B; confirmed, it wins over A. */
	assert_int_equal(update(2, true), 1);
	assert_int_equal(booted_build(), 2);
	assert_int_equal(boot.slot[1].seq, 2);

	/* The third goes to A (B is the newest confirmed); unconfirmed, it is rolled back. */
	assert_int_equal(update(3, false), 0);
	assert_int_equal(boot_once(), 1);
	assert_int_equal(boot.slot[0].state, RINKI_SLOT_REJECTED);
	assert_int_equal(boot.slot[1].hdr.build_hash, 2);
	/* A rejected image is never tried again, and an upload replaces it. */
	assert_int_equal(booted_build(), 2);
	bl_start(true);
	assert_int_equal(sync_info().target, 0);
	assert_int_equal(update(4, true), 0);
	assert_int_equal(booted_build(), 4);
	assert_int_equal(fake_flash_violations, 0);
}

/*
 * Anti-rollback: an image whose epoch is below a CONFIRMED slot's is refused at START, before
 * anything is erased; an equal epoch is fine; an unconfirmed trial does not raise the floor, so
 * its rollback and the next upload still work.
 */
static void test_rollback_floor(void **state)
{
	(void)state;
	image_epoch = 1;
	assert_int_equal(update(1, true), 0);
	image_epoch = 2;
	assert_int_equal(update(2, true), 1);
	fw_boot_init(&boot, &fake_layout); /* the confirmation was the application's */
	assert_int_equal(fw_boot_epoch_floor(&boot), 2);

	/* Epoch 1 (an older signed release): refused, and slot A (the target) is untouched. */
	bl_start(true);
	struct rinki_bl_info in = session();
	assert_int_equal(in.target, 0);
	image_epoch = 1;
	struct rinki_fwimage_hdr h = make_image(5, IMAGE_LEN, 0);
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_E_EPOCH);
	assert_int_equal(cmd(RINKI_BL_DATA, "\0\0\0\0x", 5), RINKI_BL_E_STATE);
	fw_boot_init(&boot, &fake_layout);
	assert_int_equal(boot.slot[0].state, RINKI_SLOT_CONFIRMED);
	assert_int_equal(boot.slot[0].hdr.build_hash, 1);

	/* A trial of epoch 9 that is never confirmed: rejected, the floor stays 2. */
	image_epoch = 9;
	assert_int_equal(update(3, false), 0);
	assert_int_equal(boot_once(), 1);
	assert_int_equal(boot.slot[0].state, RINKI_SLOT_REJECTED);
	assert_int_equal(fw_boot_epoch_floor(&boot), 2);
	image_epoch = 2;
	assert_int_equal(update(4, true), 0);
	assert_int_equal(booted_build(), 4);
	assert_int_equal(fake_flash_violations, 0);
}

static void test_pending_upload_not_overwritten_by_mistake(void **state)
{
	(void)state;
	assert_int_equal(update(1, true), 0);
	/* Committed but never booted: the next upload replaces it, never the confirmed A. */
	bl_start(true);
	struct rinki_bl_info in = session();
	struct rinki_fwimage_hdr h = make_image(2, IMAGE_LEN, in.target);
	assert_int_equal(in.target, 1);
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_OK);
	for (uint32_t off = 0; off < h.length; off += CHUNK) {
		uint8_t buf[4 + CHUNK];
		uint32_t n = h.length - off < CHUNK ? h.length - off : CHUNK;
		memcpy(buf, &off, 4);
		memcpy(buf + 4, payload + off, n);
		assert_int_equal(cmd(RINKI_BL_DATA, buf, (uint16_t)(4 + n)), RINKI_BL_OK);
	}
	assert_int_equal(cmd(RINKI_BL_END, NULL, 0), RINKI_BL_OK);
	assert_int_equal(cmd(RINKI_BL_COMMIT, NULL, 0), RINKI_BL_OK);
	bl_start(true);
	in = sync_info();
	assert_int_equal(in.slot[1].state, RINKI_SLOT_PENDING);
	assert_int_equal(in.target, 1);
	/* On the next power-on the pending one is tried. */
	assert_int_equal(boot_once(), 1);
	assert_int_equal(boot.slot[1].state, RINKI_SLOT_TRIAL);
}

/* --- protocol ------------------------------------------------------------------------------- */

static void test_protocol_errors(void **state)
{
	(void)state;
	uint8_t f[64];

	bl_start(true);
	assert_int_equal(bp.mode, FW_BOOTP_SERVE);
	session();
	unsigned ops0 = fake_flash_ops; /* the nonce counter's step */
	/* A damaged frame gets a NAK; an unknown type E_CMD. */
	size_t n = frame(f, RINKI_BL_INFO, NULL, 0);
	f[n - 1] ^= 1;
	assert_true(feed(f, n) > 0);
	assert_int_equal(bp.tx[1], RINKI_BL_NAK);
	assert_int_equal(rsp[0], RINKI_BL_E_FRAME);
	assert_int_equal(cmd(0x42, NULL, 0), RINKI_BL_E_CMD);
	/* A length beyond the buffer is refused at the length bytes. */
	const uint8_t big[] = {RINKI_BL_SOF, RINKI_BL_DATA, 0xFF, 0xFF};
	assert_true(feed(big, sizeof(big)) > 0);
	assert_int_equal(bp.tx[1], RINKI_BL_NAK);
	/* Out of sequence. */
	uint8_t d[8] = {0};
	assert_int_equal(cmd(RINKI_BL_DATA, d, sizeof(d)), RINKI_BL_E_STATE);
	assert_int_equal(cmd(RINKI_BL_END, NULL, 0), RINKI_BL_E_STATE);
	assert_int_equal(cmd(RINKI_BL_COMMIT, NULL, 0), RINKI_BL_E_STATE);
	/* Header checks. */
	struct rinki_fwimage_hdr h = make_image(7, 100, 0);
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h) - 1), RINKI_BL_E_HEADER);
	h.hdr_crc ^= 1;
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_E_HEADER);
	h = make_image(7, 100, 0);
	h.board_id = 0x0100;
	h.hdr_crc = rinki_crc32(0, &h, offsetof(struct rinki_fwimage_hdr, hdr_crc));
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_E_BOARD);
	h = make_image(7, FAKE_SLOT_SIZE - RINKI_FWIMAGE_SLOT_HDR + 1, 0);
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_E_SIZE);
	h = make_image(7, 100, 1); /* target is A */
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_E_SLOT);
	assert_int_equal(fake_flash_ops, ops0); /* nothing was erased for a refused header */

	/* Data offsets: only the next one, or the last chunk again. */
	h = make_image(7, 100, 0);
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_OK);
	uint8_t c[4 + 60];
	uint32_t off = 4;
	memcpy(c, &off, 4);
	memcpy(c + 4, payload + off, 60);
	assert_int_equal(cmd(RINKI_BL_DATA, c, sizeof(c)), RINKI_BL_E_OFFSET);
	assert_int_equal(rsp32(), 0);
	off = 0;
	memcpy(c, &off, 4);
	memcpy(c + 4, payload, 60);
	assert_int_equal(cmd(RINKI_BL_DATA, c, sizeof(c)), RINKI_BL_OK);
	unsigned ops = fake_flash_ops;
	assert_int_equal(cmd(RINKI_BL_DATA, c, sizeof(c)), RINKI_BL_OK); /* lost ack: resent */
	assert_int_equal(rsp32(), 60);
	assert_int_equal(fake_flash_ops, ops); /* not written twice */
	assert_int_equal(cmd(RINKI_BL_END, NULL, 0), RINKI_BL_E_OFFSET);
	/* More than the header announced. */
	off = 60;
	memcpy(c, &off, 4);
	memcpy(c + 4, payload + 60, 60);
	assert_int_equal(cmd(RINKI_BL_DATA, c, sizeof(c)), RINKI_BL_E_OFFSET);
	assert_int_equal(cmd(RINKI_BL_DATA, c, 4 + 40), RINKI_BL_OK);
	/* A payload that reads back wrong is not made valid. */
	fake_flash[FAKE_SLOT_A + RINKI_FWIMAGE_SLOT_HDR + 10] ^= 0x10;
	assert_int_equal(cmd(RINKI_BL_END, NULL, 0), RINKI_BL_E_CRC);
	assert_int_equal(cmd(RINKI_BL_COMMIT, NULL, 0), RINKI_BL_E_STATE);
	fw_boot_scan(&boot, 0);
	assert_int_equal(boot.slot[0].state, RINKI_SLOT_EMPTY);
	assert_int_equal(fake_flash_violations, 0);
}

static void test_frame_timeout(void **state)
{
	(void)state;
	uint8_t f[16];

	bl_start(true);
	size_t n = frame(f, RINKI_BL_INFO, NULL, 0);
	assert_int_equal(feed(f, 3), 0);
	now += FW_BOOTP_FRAME_TIMEOUT_MS;
	assert_int_equal(fw_bootp_poll(&bp, now), FW_BOOTP_STAY);
	/* The stalled frame was dropped: a whole new one works. */
	assert_true(feed(f, n) > 0);
	assert_int_equal(bp.tx[1], RINKI_BL_REPLY_TYPE | RINKI_BL_INFO);
}

/* Modbus RTU requests the host sends while the board restarts, CRC appended. */
static size_t modbus_traffic(uint8_t *out)
{
	static const uint8_t reqs[][12] = {
	    {1, 0x04, 0x00, 0x00, 0x00, 0x08}, /* identity */
	    {1, 0x06, 0x00, 0x03, 0xF8, 0x72}, /* heartbeat with the sync's first bytes */
	    {1, 0x10, 0x00, 0x05, 0x00, 0x02, 0x04, 0xF8, 0x72, 0x42, 0x4C}, /* 4 of 8 */
	    {0xF8, 0x72, 0x42, 0x4C, 0x21, 0x9D, 0x07}, /* 7 of 8, then other bytes */
	    {1, 0x05, 0x00, 0x00, 0xFF, 0x00},		/* PTT coil */
	    {RINKI_BL_SOF, RINKI_BL_INFO, 0, 0},	/* a bootloader frame is not a sync */
	};
	static const size_t lens[] = {6, 6, 11, 7, 6, 4};
	size_t n = 0;

	for (int rep = 0; rep < 20; rep++)
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			memcpy(out + n, reqs[i], lens[i]);
			uint16_t crc = fw_mb_crc16(out + n, (uint16_t)lens[i]);
			n += lens[i];
			out[n++] = (uint8_t)crc;
			out[n++] = (uint8_t)(crc >> 8);
		}
	return n;
}

static void test_window_ignores_modbus(void **state)
{
	(void)state;
	uint8_t traffic[2048];

	assert_int_equal(update(1, true), 0);
	bl_start(false);
	assert_int_equal(bp.mode, FW_BOOTP_WINDOW);
	size_t n = modbus_traffic(traffic);
	assert_int_equal(feed(traffic, n), 0); /* no answer to anything */
	assert_int_equal(bp.mode, FW_BOOTP_WINDOW);
	assert_int_equal(run_window(), 0); /* and it boots */
}

static void test_sync_in_window_holds(void **state)
{
	(void)state;
	uint8_t traffic[2048];

	assert_int_equal(update(1, true), 0);
	bl_start(false);
	size_t n = modbus_traffic(traffic);
	feed(traffic, n);
	struct rinki_bl_info in = sync_info();
	assert_int_equal(in.entry, RINKI_BL_ENTRY_WINDOW);
	assert_int_equal(in.slot[0].state, RINKI_SLOT_CONFIRMED);
	assert_int_equal(run_window(), FW_BOOTP_STAY);
	/* The session's BOOT ends it with a reset. */
	assert_int_equal(cmd(RINKI_BL_BOOT, NULL, 0), RINKI_BL_OK);
	assert_int_equal(fw_bootp_poll(&bp, now), FW_BOOTP_RESET);
}

/*
 * Whoever can reset the board and write its line gets nothing from the sync word alone (issue
 * 18): no command that writes the flash runs before AUTH brought the entry MAC of this
 * session's nonce; a wrong MAC (another key, or one recorded from an earlier session) ends the
 * session with a reset, and the nonce after a restart is a new one.
 */
static void test_window_needs_auth(void **state)
{
	(void)state;
	uint8_t other_key[16];
	memcpy(other_key, entry_key, sizeof(other_key));
	other_key[3] ^= 0x20;
	assert_int_equal(update(1, true), 0);
	unsigned ops0 = fake_flash_ops;

	bl_start(false);
	struct rinki_bl_info in = sync_info();
	assert_int_equal(in.entry, RINKI_BL_ENTRY_WINDOW);
	assert_int_equal(in.auth, 0);
	struct rinki_fwimage_hdr h = make_image(2, IMAGE_LEN, in.target);
	assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_E_AUTH);
	assert_int_equal(cmd(RINKI_BL_DATA, "\0\0\0\0x", 5), RINKI_BL_E_AUTH);
	assert_int_equal(cmd(RINKI_BL_END, NULL, 0), RINKI_BL_E_AUTH);
	assert_int_equal(cmd(RINKI_BL_COMMIT, NULL, 0), RINKI_BL_E_AUTH);
	assert_int_equal(fake_flash_ops, ops0); /* nothing erased or written */
	assert_int_equal(fw_bootp_poll(&bp, now), FW_BOOTP_STAY);
	/* A MAC under another key: refused, and the session ends with a reset. */
	assert_int_equal(auth_with(mac_of(other_key, &in)), RINKI_BL_E_AUTH);
	assert_int_equal(fw_bootp_poll(&bp, now), FW_BOOTP_RESET);

	/* A good session, recorded by someone on the line. */
	bl_start(false);
	in = sync_info();
	uint64_t recorded = mac_of(entry_key, &in);
	assert_int_equal(auth_with(recorded), RINKI_BL_OK);
	assert_int_equal(sync_info().auth, 1);
	assert_int_equal(cmd(RINKI_BL_BOOT, NULL, 0), RINKI_BL_OK);
	assert_int_equal(fw_bootp_poll(&bp, now), FW_BOOTP_RESET);

	/* Replayed after the reset (and after a power cycle: the counter is in flash). */
	for (int i = 0; i < 2; i++) {
		bl_start(false);
		struct rinki_bl_info again = sync_info();
		assert_memory_not_equal(again.nonce, in.nonce, sizeof(in.nonce));
		assert_int_equal(cmd(RINKI_BL_START, &h, sizeof(h)), RINKI_BL_E_AUTH);
		assert_int_equal(auth_with(recorded), RINKI_BL_E_AUTH);
		assert_int_equal(fw_bootp_poll(&bp, now), FW_BOOTP_RESET);
		in = again;
	}
	fw_boot_init(&boot, &fake_layout);
	assert_int_equal(boot.slot[0].state, RINKI_SLOT_CONFIRMED);
	assert_int_equal(boot.slot[1].state, RINKI_SLOT_EMPTY);
	assert_int_equal(fake_flash_violations, 0);
}

/* --- power loss ----------------------------------------------------------------------------- */

/* Starting states: what is installed before the update under test, and its build id. */
static uint32_t scenario(int which)
{
	fake_flash_reset();
	switch (which) {
	case 0: /* A confirmed, B empty */
		update(1, true);
		return 1;
	case 1: /* A confirmed, B confirmed and newer: the update goes to A */
		update(1, true);
		update(2, true);
		return 2;
	default: /* A confirmed, B rejected */
		update(1, true);
		update(2, false);
		assert_int_equal(boot_once(), 0);
		return 1;
	}
}

#define NEW_BUILD 99u

static void check_old_or_new(uint32_t old, int s, const char *when, unsigned n, int cut, int m)
{
	if (s < 0)
		fail_msg("%s: N=%u cut=%d M=%d: nothing boots", when, n, cut, m);
	uint32_t b = boot.slot[s].hdr.build_hash;
	if (b != old && b != NEW_BUILD)
		fail_msg("%s: N=%u cut=%d M=%d: boots build %u (old %u)", when, n, cut, m, b, old);
}

/*
 * One cut update from scenario sc: power fails at its n-th flash operation (left as cut),
 * then, if m > 0, again at the m-th operation of the restart. Returns false if the restart
 * had fewer than m operations (nothing new to check).
 */
static bool cut_update(int sc, unsigned n, int cut, int m)
{
	jmp_buf env;
	uint32_t old = scenario(sc);

	fake_flash_power_jmp = &env;
	fake_flash_cut = (enum fake_cut)cut;
	fake_flash_fail_at = fake_flash_ops + n;
	if (setjmp(env) == 0) {
		update(NEW_BUILD, true);
		fail_msg("N=%u: no power loss", n);
	}
	if (m) {
		fake_flash_fail_at = fake_flash_ops + (unsigned)m;
		if (setjmp(env) == 0) {
			boot_once();
			if (fake_flash_fail_at) {
				fake_flash_fail_at = 0;
				return false;
			}
		}
	}
	int s = boot_once();
	check_old_or_new(old, s, "restart", n, cut, m);
	/* Unconfirmed trials end; what remains is confirmed. */
	s = boot_once();
	check_old_or_new(old, s, "second restart", n, cut, m);
	assert_int_equal(boot.slot[s].state, RINKI_SLOT_CONFIRMED);
	/* And the board can still be updated. */
	update(NEW_BUILD + 1, true);
	assert_int_equal(booted_build(), NEW_BUILD + 1);
	assert_int_equal(fake_flash_violations, 0);
	return true;
}

static void test_power_loss_every_write(void **state)
{
	(void)state;
	unsigned runs = 0;

	for (int sc = 0; sc < 3; sc++) {
		/* Operations of an undisturbed update from this state. */
		scenario(sc);
		unsigned ops0 = fake_flash_ops;
		update(NEW_BUILD, true);
		unsigned total = fake_flash_ops - ops0;
		assert_true(total >= 10);
		for (unsigned n = 1; n <= total; n++)
			for (int cut = 0; cut < FAKE_CUT_MODES; cut++)
				for (int m = 0; m <= 3; m++)
					runs += cut_update(sc, n, cut, m);
	}
	print_message("power loss: %u cut updates checked, all boot the old or the new image\n",
		      runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_empty_flash_serves, setup),
	    cmocka_unit_test_setup(test_update_confirm_and_rollback, setup),
	    cmocka_unit_test_setup(test_rollback_floor, setup),
	    cmocka_unit_test_setup(test_pending_upload_not_overwritten_by_mistake, setup),
	    cmocka_unit_test_setup(test_protocol_errors, setup),
	    cmocka_unit_test_setup(test_frame_timeout, setup),
	    cmocka_unit_test_setup(test_window_ignores_modbus, setup),
	    cmocka_unit_test_setup(test_sync_in_window_holds, setup),
	    cmocka_unit_test_setup(test_window_needs_auth, setup),
	    cmocka_unit_test_setup(test_power_loss_every_write, setup),
	};
	return cmocka_run_group_tests_name("fw_boot", tests, NULL, NULL);
}
