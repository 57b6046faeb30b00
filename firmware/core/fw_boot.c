/*
 * Slot state in flash. A slot is [header area | payload]: the header area holds the image
 * header (written last by an upload, after the payload CRC matched) and the boot trailer, a
 * few words each programmed once after the slot's erase (include/rinki/fwimage.h). The state
 * of a slot follows from what is valid and which trailer words are set:
 *
 *   header erased -> EMPTY; header or payload bad -> INVALID; no pending mark -> STAGED;
 *   rejected set -> REJECTED; confirmed mark -> CONFIRMED; tried set -> TRIAL; else PENDING.
 *
 * A mark with a magic value counts only when it reads back exactly (a write cut by power loss
 * leaves it unset); the "tried" and "rejected" words count as soon as any bit is programmed,
 * so a cut write errs towards the old image. Portable C, no heap.
 */
#include "fw_boot.h"

#include <stddef.h>

static uint32_t slot_word(const struct fw_boot *b, unsigned i, uint32_t off)
{
	uint32_t w;

	hal_flash_read(b->lay->slot_addr[i] + off, &w, sizeof(w));
	return w;
}

static int set_word(struct fw_boot *b, unsigned i, uint32_t off, uint32_t v)
{
	int rc = hal_flash_write(b->lay->slot_addr[i] + off, &v, sizeof(v));

	fw_boot_scan(b, i);
	return rc;
}

void fw_boot_init(struct fw_boot *b, const struct fw_boot_layout *lay)
{
	b->lay = lay;
	for (unsigned i = 0; i < FW_BOOT_NSLOTS; i++)
		fw_boot_scan(b, i);
}

uint32_t fw_boot_crc32(uint32_t crc, const void *data, uint32_t len)
{
	return rinki_crc32(crc, data, len);
}

uint32_t fw_boot_app_addr(const struct fw_boot *b, unsigned i)
{
	return b->lay->slot_addr[i] + RINKI_FWIMAGE_SLOT_HDR;
}

uint8_t fw_boot_check_hdr(const struct fw_boot *b, const struct rinki_fwimage_hdr *h, unsigned i)
{
	if (h->magic != RINKI_FWIMAGE_MAGIC || h->hdr_version != RINKI_FWIMAGE_HDR_VERSION ||
	    h->flags != 0 ||
	    h->hdr_crc != fw_boot_crc32(0, h, offsetof(struct rinki_fwimage_hdr, hdr_crc)))
		return RINKI_BL_E_HEADER;
	if (h->board_id != b->lay->board_id)
		return RINKI_BL_E_BOARD;
	/* At least the initial stack pointer and the reset vector. */
	if (h->length < 8 || h->length > b->lay->slot_size - RINKI_FWIMAGE_SLOT_HDR)
		return RINKI_BL_E_SIZE;
	if (h->load_addr != fw_boot_app_addr(b, i))
		return RINKI_BL_E_SLOT;
	return RINKI_BL_OK;
}

uint32_t fw_boot_epoch_floor(const struct fw_boot *b)
{
	uint32_t floor = 0;

	for (unsigned i = 0; i < FW_BOOT_NSLOTS; i++)
		if (b->slot[i].state == RINKI_SLOT_CONFIRMED && b->slot[i].hdr.epoch > floor)
			floor = b->slot[i].hdr.epoch;
	return floor;
}

uint32_t fw_boot_payload_crc(const struct fw_boot *b, unsigned i, uint32_t len)
{
	uint8_t buf[64];
	uint32_t crc = 0, addr = fw_boot_app_addr(b, i);

	while (len) {
		uint32_t n = len < sizeof(buf) ? len : sizeof(buf);
		hal_flash_read(addr, buf, n);
		crc = fw_boot_crc32(crc, buf, n);
		addr += n;
		len -= n;
	}
	return crc;
}

static bool all_erased(const void *p, uint32_t n)
{
	const uint8_t *c = p;

	while (n--)
		if (*c++ != 0xFF)
			return false;
	return true;
}

void fw_boot_scan(struct fw_boot *b, unsigned i)
{
	struct fw_boot_slot *s = &b->slot[i];

	hal_flash_read(b->lay->slot_addr[i], &s->hdr, sizeof(s->hdr));
	s->seq = 0;
	if (all_erased(&s->hdr, RINKI_FWIMAGE_SIGNED_SIZE)) {
		s->state = RINKI_SLOT_EMPTY;
		return;
	}
	if (fw_boot_check_hdr(b, &s->hdr, i) != RINKI_BL_OK ||
	    fw_boot_payload_crc(b, i, s->hdr.length) != s->hdr.payload_crc) {
		s->state = RINKI_SLOT_INVALID;
		return;
	}
	uint32_t seq = slot_word(b, i, RINKI_TRAILER_SEQ);
	if (slot_word(b, i, RINKI_TRAILER_PENDING) != RINKI_TRAILER_MAGIC_PENDING || seq == 0 ||
	    seq == RINKI_TRAILER_ERASED) {
		s->state = RINKI_SLOT_STAGED;
		return;
	}
	s->seq = seq;
	if (slot_word(b, i, RINKI_TRAILER_REJECTED) != RINKI_TRAILER_ERASED)
		s->state = RINKI_SLOT_REJECTED;
	else if (slot_word(b, i, RINKI_TRAILER_CONFIRMED) == RINKI_TRAILER_MAGIC_CONFIRMED)
		s->state = RINKI_SLOT_CONFIRMED;
	else if (slot_word(b, i, RINKI_TRAILER_TRIED) != RINKI_TRAILER_ERASED)
		s->state = RINKI_SLOT_TRIAL;
	else
		s->state = RINKI_SLOT_PENDING;
}

int fw_boot_reject_failed(struct fw_boot *b)
{
	int rc = 0;

	for (unsigned i = 0; i < FW_BOOT_NSLOTS; i++)
		if (b->slot[i].state == RINKI_SLOT_TRIAL &&
		    set_word(b, i, RINKI_TRAILER_REJECTED, RINKI_TRAILER_MAGIC_REJECTED) != 0)
			rc = -1;
	return rc;
}

/* The slot in one of the two states with the highest sequence, or -1. */
static int newest(const struct fw_boot *b, uint8_t st1, uint8_t st2)
{
	int best = -1;

	for (unsigned i = 0; i < FW_BOOT_NSLOTS; i++) {
		const struct fw_boot_slot *s = &b->slot[i];
		if ((s->state == st1 || s->state == st2) &&
		    (best < 0 || s->seq > b->slot[best].seq))
			best = (int)i;
	}
	return best;
}

int fw_boot_pick(const struct fw_boot *b)
{
	return newest(b, RINKI_SLOT_PENDING, RINKI_SLOT_CONFIRMED);
}

unsigned fw_boot_target(const struct fw_boot *b)
{
	int keep = newest(b, RINKI_SLOT_CONFIRMED, RINKI_SLOT_CONFIRMED);

	if (keep < 0)
		keep = newest(b, RINKI_SLOT_PENDING, RINKI_SLOT_PENDING);
	return keep == 0 ? 1 : 0;
}

int fw_boot_erase(struct fw_boot *b, unsigned i, uint32_t len)
{
	uint32_t sec = b->lay->sector_size, base = b->lay->slot_addr[i];
	uint32_t end = RINKI_FWIMAGE_SLOT_HDR + len;
	int rc = 0;

	if (end > b->lay->slot_size)
		end = b->lay->slot_size;
	for (uint32_t off = 0; off < end && rc == 0; off += sec)
		rc = hal_flash_erase(base + off);
	fw_boot_scan(b, i);
	return rc;
}

int fw_boot_commit(struct fw_boot *b, unsigned i)
{
	struct fw_boot_slot *s = &b->slot[i];

	if (s->state == RINKI_SLOT_PENDING)
		return 0;
	if (s->state != RINKI_SLOT_STAGED)
		return -2;
	/* A cut write of the sequence word leaves the slot STAGED: the pending mark comes last. */
	uint32_t want = b->slot[!i].seq + 1;
	if (slot_word(b, i, RINKI_TRAILER_SEQ) == RINKI_TRAILER_ERASED &&
	    set_word(b, i, RINKI_TRAILER_SEQ, want) != 0)
		return -1;
	if (slot_word(b, i, RINKI_TRAILER_SEQ) != want)
		return -1; /* a cut write from before: the slot needs a new upload */
	if (set_word(b, i, RINKI_TRAILER_PENDING, RINKI_TRAILER_MAGIC_PENDING) != 0)
		return -1;
	return s->state == RINKI_SLOT_PENDING ? 0 : -1;
}

int fw_boot_mark_tried(struct fw_boot *b, unsigned i)
{
	if (b->slot[i].state != RINKI_SLOT_PENDING)
		return -2;
	if (set_word(b, i, RINKI_TRAILER_TRIED, RINKI_TRAILER_MAGIC_TRIED) != 0)
		return -1;
	return b->slot[i].state == RINKI_SLOT_TRIAL ? 0 : -1;
}

int fw_boot_confirm(struct fw_boot *b, unsigned i)
{
	if (b->slot[i].state == RINKI_SLOT_CONFIRMED)
		return 0;
	if (b->slot[i].state != RINKI_SLOT_TRIAL)
		return -2;
	if (set_word(b, i, RINKI_TRAILER_CONFIRMED, RINKI_TRAILER_MAGIC_CONFIRMED) != 0)
		return -1;
	return b->slot[i].state == RINKI_SLOT_CONFIRMED ? 0 : -1;
}
