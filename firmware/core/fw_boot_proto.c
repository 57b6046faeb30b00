/*
 * Bootloader protocol engine. After a reset it only listens for the 8-byte sync word, so the
 * host's ordinary Modbus polls cannot hold the board in the bootloader; between frames of a
 * session the sync word restarts it. The answer to the sync word (INFO) carries a one-time
 * nonce, and the commands that change the flash are refused until AUTH brought its MAC under
 * the entry key (fw_entry.c, the same check as the application's ENTER): one try per nonce, a
 * wrong MAC ends the session with a reset. A frame is SOF, type, length, payload, CRC32; its length
 * is checked against the buffer before a byte is stored and the CRC before it runs. The
 * upload is strictly sequential: START (header check, erase), DATA at the expected offset (the
 * last chunk may be sent again when its ack was lost), END (payload CRC, then the header is
 * written), COMMIT, BOOT. Only the slot from fw_boot_target() is ever written.
 */
#include "fw_boot_proto.h"

#include <stddef.h>

#include "fw_entry.h"

#define BL_VERSION 0x0100u /* 1.0 */

static const uint8_t sync_word[RINKI_BL_SYNC_LEN] = {RINKI_BL_SYNC_BYTES};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void copy(void *dst, const void *src, uint32_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
}

void fw_bootp_init(struct fw_bootp *p, struct fw_boot *boot, bool requested, uint32_t now)
{
	p->boot = boot;
	p->mode = FW_BOOTP_SERVE;
	p->entry = RINKI_BL_ENTRY_REQUEST;
	if (!requested) {
		if (fw_boot_pick(boot) >= 0)
			p->mode = FW_BOOTP_WINDOW;
		else
			p->entry = RINKI_BL_ENTRY_NO_IMAGE;
	}
	p->sync_n = 0;
	p->in_frame = false;
	p->reset = false;
	p->t0 = now;
	p->last_rx = now;
	p->rx_len = 0;
	p->up = FW_BOOTP_UP_NONE;
	p->tx_len = 0;
	p->authed = false;
	p->nonce = fw_entry_nonce(boot->lay);
}

/* Finish the reply of type with n payload bytes already at tx + 4. Returns its length. */
static uint16_t reply(struct fw_bootp *p, uint8_t type, uint16_t n)
{
	p->tx[0] = RINKI_BL_SOF;
	p->tx[1] = type;
	p->tx[2] = (uint8_t)n;
	p->tx[3] = (uint8_t)(n >> 8);
	put32(p->tx + 4 + n, fw_boot_crc32(0, p->tx + 1, 3u + n));
	p->tx_len = (uint16_t)(RINKI_BL_FRAME_OVH + n);
	return p->tx_len;
}

static uint16_t status(struct fw_bootp *p, uint8_t type, uint8_t st)
{
	p->tx[4] = st;
	return reply(p, type, 1);
}

/* Status and a 32-bit value (next offset, CRC). */
static uint16_t status32(struct fw_bootp *p, uint8_t type, uint8_t st, uint32_t v)
{
	p->tx[4] = st;
	put32(p->tx + 5, v);
	return reply(p, type, 5);
}

static uint16_t info(struct fw_bootp *p)
{
	const struct fw_boot *b = p->boot;
	struct rinki_bl_info in = {
	    .status = RINKI_BL_OK,
	    .proto = RINKI_BL_PROTO,
	    .entry = p->entry,
	    .target = (uint8_t)fw_boot_target(b),
	    .board_id = b->lay->board_id,
	    .bl_version = BL_VERSION,
	    .chunk_max = RINKI_BL_CHUNK_MAX,
	    .auth = p->authed,
	};
	for (unsigned i = 0; i < 8; i++)
		in.nonce[i] = (uint8_t)(p->nonce >> (8 * i));
	for (unsigned i = 0; i < FW_BOOT_NSLOTS; i++) {
		in.slot[i].addr = b->lay->slot_addr[i];
		in.slot[i].size = b->lay->slot_size;
		in.slot[i].state = b->slot[i].state;
		in.slot[i].seq = b->slot[i].seq;
		copy(in.slot[i].hdr, &b->slot[i].hdr, RINKI_FWIMAGE_SIGNED_SIZE);
	}
	copy(p->tx + 4, &in, sizeof(in));
	return reply(p, RINKI_BL_REPLY_TYPE | RINKI_BL_INFO, sizeof(in));
}

static uint8_t cmd_start(struct fw_bootp *p, const uint8_t *pl, uint16_t n)
{
	struct fw_boot *b = p->boot;

	if (n != RINKI_FWIMAGE_HDR_SIZE)
		return RINKI_BL_E_HEADER;
	copy(&p->hdr, pl, n);
	p->up = FW_BOOTP_UP_NONE;
	p->up_slot = (uint8_t)fw_boot_target(b);
	uint8_t st = fw_boot_check_hdr(b, &p->hdr, p->up_slot);
	if (st != RINKI_BL_OK)
		return st;
	if (p->hdr.epoch < fw_boot_epoch_floor(b))
		return RINKI_BL_E_EPOCH; /* before the erase: nothing is touched */
	if (fw_boot_erase(b, p->up_slot, p->hdr.length) != 0)
		return RINKI_BL_E_FLASH;
	p->up = FW_BOOTP_UP_STARTED;
	p->next_off = 0;
	p->last_off = RINKI_TRAILER_ERASED;
	return RINKI_BL_OK;
}

static uint8_t cmd_data(struct fw_bootp *p, const uint8_t *pl, uint16_t n)
{
	if (p->up != FW_BOOTP_UP_STARTED)
		return RINKI_BL_E_STATE;
	if (n < 5)
		return RINKI_BL_E_FRAME;
	uint32_t off = get32(pl), len = n - 4u;
	if (off == p->last_off && off + len == p->next_off)
		return RINKI_BL_OK; /* the ack of this chunk was lost */
	if (off != p->next_off || len > p->hdr.length - off)
		return RINKI_BL_E_OFFSET;
	uint32_t addr = fw_boot_app_addr(p->boot, p->up_slot) + off;
	if (hal_flash_write(addr, pl + 4, len) != 0)
		return RINKI_BL_E_FLASH;
	p->last_off = off;
	p->next_off = off + len;
	return RINKI_BL_OK;
}

static uint8_t cmd_end(struct fw_bootp *p, uint32_t *crc)
{
	struct fw_boot *b = p->boot;
	unsigned i = p->up_slot;

	if (p->up == FW_BOOTP_UP_STAGED) {
		*crc = p->hdr.payload_crc;
		return RINKI_BL_OK;
	}
	if (p->up != FW_BOOTP_UP_STARTED)
		return RINKI_BL_E_STATE;
	if (p->next_off != p->hdr.length) {
		*crc = p->next_off;
		return RINKI_BL_E_OFFSET;
	}
	*crc = fw_boot_payload_crc(b, i, p->hdr.length);
	if (*crc != p->hdr.payload_crc)
		return RINKI_BL_E_CRC;
	/* The header makes the slot valid, so it is written last. */
	if (hal_flash_write(b->lay->slot_addr[i], &p->hdr, sizeof(p->hdr)) != 0)
		return RINKI_BL_E_FLASH;
	fw_boot_scan(b, i);
	if (b->slot[i].state != RINKI_SLOT_STAGED)
		return RINKI_BL_E_FLASH;
	p->up = FW_BOOTP_UP_STAGED;
	return RINKI_BL_OK;
}

static uint8_t cmd_commit(struct fw_bootp *p)
{
	if (p->up == FW_BOOTP_UP_COMMITTED)
		return RINKI_BL_OK;
	if (p->up != FW_BOOTP_UP_STAGED)
		return RINKI_BL_E_STATE;
	int rc = fw_boot_commit(p->boot, p->up_slot);
	if (rc == -2)
		return RINKI_BL_E_STATE;
	if (rc != 0)
		return RINKI_BL_E_FLASH;
	p->up = FW_BOOTP_UP_COMMITTED;
	return RINKI_BL_OK;
}

/* One try per nonce: a wrong or malformed MAC ends the session (reset after the reply). */
static uint8_t cmd_auth(struct fw_bootp *p, const uint8_t *pl, uint16_t n)
{
	const struct fw_boot_layout *lay = p->boot->lay;

	p->authed = n == 8 && fw_entry_check(lay, (uint64_t)get32(pl + 4) << 32 | get32(pl));
	p->nonce = fw_entry_nonce(lay);
	if (p->authed)
		return RINKI_BL_OK;
	p->reset = true;
	return RINKI_BL_E_AUTH;
}

/* Run the complete frame in p->rx (CRC checked). */
static uint16_t execute(struct fw_bootp *p, uint16_t n)
{
	uint8_t type = p->rx[0], rt = (uint8_t)(RINKI_BL_REPLY_TYPE | type);
	const uint8_t *pl = p->rx + 3;
	uint32_t v = 0;
	uint8_t st;

	if (!p->authed && type >= RINKI_BL_START && type <= RINKI_BL_COMMIT)
		return status(p, rt, RINKI_BL_E_AUTH); /* nothing that writes the flash */
	switch (type) {
	case RINKI_BL_INFO:
		return info(p);
	case RINKI_BL_START:
		return status(p, rt, cmd_start(p, pl, n));
	case RINKI_BL_DATA:
		st = cmd_data(p, pl, n);
		return status32(p, rt, st, p->next_off);
	case RINKI_BL_END:
		st = cmd_end(p, &v);
		return status32(p, rt, st, v);
	case RINKI_BL_COMMIT:
		return status(p, rt, cmd_commit(p));
	case RINKI_BL_BOOT:
		p->reset = true;
		return status(p, rt, RINKI_BL_OK);
	case RINKI_BL_AUTH:
		return status(p, rt, cmd_auth(p, pl, n));
	default:
		return status(p, rt, RINKI_BL_E_CMD);
	}
}

/* Sync word matcher; its first byte occurs only once in it, so a mismatch restarts simply. */
static bool sync_byte(struct fw_bootp *p, uint8_t c)
{
	if (c == sync_word[p->sync_n])
		p->sync_n++;
	else
		p->sync_n = c == sync_word[0] ? 1 : 0;
	if (p->sync_n < RINKI_BL_SYNC_LEN)
		return false;
	p->sync_n = 0;
	return true;
}

uint16_t fw_bootp_rx(struct fw_bootp *p, uint8_t c, uint32_t now)
{
	p->last_rx = now;
	if (p->mode == FW_BOOTP_WINDOW) {
		if (!sync_byte(p, c))
			return 0;
		p->mode = FW_BOOTP_SERVE;
		p->entry = RINKI_BL_ENTRY_WINDOW;
		return info(p);
	}
	if (!p->in_frame) {
		if (c == RINKI_BL_SOF) {
			p->in_frame = true;
			p->rx_len = 0;
			p->sync_n = 0;
			return 0;
		}
		return sync_byte(p, c) ? info(p) : 0;
	}

	p->rx[p->rx_len++] = c;
	if (p->rx_len == 3 && (uint16_t)(p->rx[1] | p->rx[2] << 8) > RINKI_BL_PAYLOAD_MAX) {
		p->in_frame = false;
		return status(p, RINKI_BL_NAK, RINKI_BL_E_FRAME);
	}
	if (p->rx_len < 3)
		return 0;
	uint16_t n = (uint16_t)(p->rx[1] | p->rx[2] << 8);
	if (p->rx_len < 3u + n + 4u)
		return 0;
	p->in_frame = false;
	if (fw_boot_crc32(0, p->rx, 3u + n) != get32(p->rx + 3 + n))
		return status(p, RINKI_BL_NAK, RINKI_BL_E_FRAME);
	return execute(p, n);
}

int fw_bootp_poll(struct fw_bootp *p, uint32_t now)
{
	if (p->reset)
		return FW_BOOTP_RESET;
	if (p->in_frame && now - p->last_rx >= FW_BOOTP_FRAME_TIMEOUT_MS)
		p->in_frame = false;
	if (p->mode != FW_BOOTP_WINDOW || now - p->t0 < FW_BOOT_WINDOW_MS)
		return FW_BOOTP_STAY;

	int i = fw_boot_pick(p->boot);
	if (i >= 0 && p->boot->slot[i].state == RINKI_SLOT_PENDING &&
	    fw_boot_mark_tried(p->boot, (unsigned)i) != 0)
		i = -1; /* never start a trial that could not be recorded: it would not roll back */
	if (i < 0) {
		p->mode = FW_BOOTP_SERVE;
		p->entry = RINKI_BL_ENTRY_NO_IMAGE;
		return FW_BOOTP_STAY;
	}
	return i;
}
