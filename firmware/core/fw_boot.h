/*
 * The two application slots and their boot state in flash: reading a slot's state, choosing
 * what to boot, and the few flash writes that move a slot from one state to the next (commit,
 * tried, confirmed, rejected). Shared by the bootloader and the application (which confirms
 * itself). Every write keeps the rule that makes power loss safe: the slot that holds the
 * newest confirmed image is never written, and a state word counts only once it is complete.
 */
#ifndef FW_BOOT_H
#define FW_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_boot_hal.h"
#include "rinki/fwimage.h"

#define FW_BOOT_NSLOTS 2

struct fw_boot_slot {
	uint8_t state;		      /* enum rinki_slot_state */
	uint32_t seq;		      /* commit sequence, 0 if not committed */
	struct rinki_fwimage_hdr hdr; /* as read from flash; meaningful from STAGED on */
};

struct fw_boot {
	const struct fw_boot_layout *lay;
	struct fw_boot_slot slot[FW_BOOT_NSLOTS];
};

/* Set up b over the layout lay and read both slots (fw_boot_scan). */
void fw_boot_init(struct fw_boot *b, const struct fw_boot_layout *lay);

/* Read slot i's header and trailer again and work out its state (checks the payload CRC). */
void fw_boot_scan(struct fw_boot *b, unsigned i);

/*
 * rinki_crc32() (fwimage.h) as one function: the bootloader and the protocol share this copy
 * instead of each inlining its own (the bootloader has 4 KiB).
 */
uint32_t fw_boot_crc32(uint32_t crc, const void *data, uint32_t len);

/* Address of slot i's payload (its vector table): slot start + RINKI_FWIMAGE_SLOT_HDR. */
uint32_t fw_boot_app_addr(const struct fw_boot *b, unsigned i);

/*
 * Check an image header for slot i: RINKI_BL_OK, or RINKI_BL_E_HEADER (magic, version, flags,
 * header CRC), RINKI_BL_E_BOARD, RINKI_BL_E_SIZE or RINKI_BL_E_SLOT (load address).
 */
uint8_t fw_boot_check_hdr(const struct fw_boot *b, const struct rinki_fwimage_hdr *h, unsigned i);

/*
 * The anti-rollback floor: the highest epoch of a CONFIRMED slot (0 if none). An upload with
 * a lower epoch is refused; a TRIAL or PENDING image does not raise it, so a rejected trial
 * still falls back to the image before it.
 */
uint32_t fw_boot_epoch_floor(const struct fw_boot *b);

/* CRC32 of the first len payload bytes of slot i (len <= slot capacity). */
uint32_t fw_boot_payload_crc(const struct fw_boot *b, unsigned i, uint32_t len);

/*
 * Bootloader start: a slot still in TRIAL was started and reset before it was confirmed, so
 * mark it REJECTED. Returns 0, or -1 if a flash write failed.
 */
int fw_boot_reject_failed(struct fw_boot *b);

/* The slot to boot: the PENDING or CONFIRMED slot with the highest sequence, or -1. */
int fw_boot_pick(const struct fw_boot *b);

/*
 * The slot an upload goes to: the one not holding the newest CONFIRMED image (if there is
 * none, the one not holding the newest PENDING image; slot 0 if both are unusable).
 */
unsigned fw_boot_target(const struct fw_boot *b);

/* Erase slot i's sectors that hold the header area and len payload bytes, header first. */
int fw_boot_erase(struct fw_boot *b, unsigned i, uint32_t len);

/*
 * Commit a STAGED slot i: write its sequence (one above the other slot's) and then the
 * pending mark. Returns 0 (also if it already was committed), -1 on a flash error, -2 if the
 * slot is not STAGED.
 */
int fw_boot_commit(struct fw_boot *b, unsigned i);

/* Mark the PENDING slot i as started once (TRIAL). Returns 0, -1 on flash error, -2 bad state. */
int fw_boot_mark_tried(struct fw_boot *b, unsigned i);

/* Confirm the TRIAL slot i. Returns 0 (also if already CONFIRMED), -1 flash error, -2 state. */
int fw_boot_confirm(struct fw_boot *b, unsigned i);

#endif /* FW_BOOT_H */
