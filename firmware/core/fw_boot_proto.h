/*
 * The bootloader's serial side: the listening window after reset, the sync word, frame
 * assembly and the commands of the upload (include/rinki/fwimage.h, hw/bootloader.md). Bytes
 * go in one at a time with the time; replies come out in p->tx. Portable C, fixed buffers.
 */
#ifndef FW_BOOT_PROTO_H
#define FW_BOOT_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_boot.h"
#include "rinki/fwimage.h"

/* How long the bootloader listens for the sync word after a reset before it boots. */
#ifndef FW_BOOT_WINDOW_MS
#define FW_BOOT_WINDOW_MS 200u
#endif
/* A frame whose bytes stop for this long is dropped. */
#define FW_BOOTP_FRAME_TIMEOUT_MS 100u

/* fw_bootp_poll() results other than a slot number. */
#define FW_BOOTP_STAY  (-1) /* keep running the bootloader */
#define FW_BOOTP_RESET (-2) /* reset the MCU now (the reply to BOOT was sent) */

enum fw_bootp_mode {
	FW_BOOTP_WINDOW, /* after reset: only the sync word counts; boots when the window ends */
	FW_BOOTP_SERVE,	 /* session: frames are executed until BOOT */
};

enum fw_bootp_upload {
	FW_BOOTP_UP_NONE,
	FW_BOOTP_UP_STARTED, /* slot erased, DATA expected */
	FW_BOOTP_UP_STAGED,  /* payload checked, header written */
	FW_BOOTP_UP_COMMITTED,
};

struct fw_bootp {
	struct fw_boot *boot;
	uint8_t mode;	/* enum fw_bootp_mode */
	uint8_t entry;	/* enum rinki_bl_entry, once serving */
	uint8_t sync_n; /* bytes of the sync word matched so far */
	bool in_frame;	/* SOF seen, frame being assembled */
	bool reset;	/* BOOT was answered, or AUTH refused */
	bool authed;	/* AUTH accepted: the flash commands may run */
	uint32_t t0;	/* start of the window */
	uint32_t last_rx;
	uint16_t rx_len; /* frame bytes after SOF */

	uint8_t up; /* enum fw_bootp_upload */
	uint8_t up_slot;
	uint32_t next_off, last_off;
	uint64_t nonce; /* shown in INFO; the one AUTH must sign (fw_entry_nonce) */
	struct rinki_fwimage_hdr hdr;

	uint16_t tx_len;
	uint8_t rx[3 + RINKI_BL_PAYLOAD_MAX + 4];
	uint8_t tx[RINKI_BL_FRAME_OVH + sizeof(struct rinki_bl_info)];
};

/*
 * Start at time now over the slots in boot (already past fw_boot_reject_failed). requested:
 * the application asked to stay. Serves at once if requested or nothing is bootable;
 * otherwise listens for the sync word for FW_BOOT_WINDOW_MS.
 */
void fw_bootp_init(struct fw_bootp *p, struct fw_boot *boot, bool requested, uint32_t now);

/*
 * One received byte at time now. Returns the length of a reply now in p->tx (0: none): the
 * answer to a complete frame, to the sync word, or a NAK to an unreadable frame.
 */
uint16_t fw_bootp_rx(struct fw_bootp *p, uint8_t byte, uint32_t now);

/*
 * Timers at time now: drops a stalled frame, ends the window. Returns FW_BOOTP_STAY,
 * FW_BOOTP_RESET, or the slot (0, 1) to start, after marking a PENDING slot tried.
 */
int fw_bootp_poll(struct fw_bootp *p, uint32_t now);

#endif /* FW_BOOT_PROTO_H */
