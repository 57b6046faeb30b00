/*
 * I/O MCU firmware images, slots and the bootloader, shared by the firmware (bootloader and
 * application), rinki-flash and the tests. Documented for people in hw/bootloader.md.
 *
 * An image is a 128-byte header followed by the payload (the application as linked for one
 * slot, starting with its vector table). All multi-byte fields are little-endian. The
 * bootloader checks the header CRC and the payload CRC32; the Ed25519 signature is checked by
 * rinki-flash on the host before anything is sent (a verifier does not fit the 4 KiB
 * bootloader; see hw/bootloader.md). An image file (fw.img) holds one image per slot, back to
 * back, each signed on its own.
 */
#ifndef RINKI_FWIMAGE_H
#define RINKI_FWIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define RINKI_FWIMAGE_MAGIC	  0x474D4952u /* bytes "RIMG" */
#define RINKI_FWIMAGE_HDR_VERSION ((uint16_t)1u)
#define RINKI_FWIMAGE_HDR_SIZE	  128u /* header bytes in the image and in the slot */
#define RINKI_FWIMAGE_SIGNED_SIZE 64u  /* header bytes covered by hdr_crc (first 60) and signed */
#define RINKI_FWIMAGE_SIG_SIZE	  64u  /* Ed25519 signature */
#define RINKI_FWIMAGE_SLOT_HDR	  256u /* header + boot trailer at the start of a slot */

struct rinki_fwimage_hdr {
	uint32_t magic;	      /* RINKI_FWIMAGE_MAGIC */
	uint16_t hdr_version; /* RINKI_FWIMAGE_HDR_VERSION */
	uint16_t board_id;    /* RINKI_BOARD_ID_* (regmap.h) the image is built for */
	uint16_t ver_major, ver_minor, ver_patch;
	uint16_t flags;	      /* 0; images with unknown flags are refused */
	uint32_t build_hash;  /* as reported in RINKI_IREG_BUILD_HASH_* */
	uint32_t load_addr;   /* address of payload byte 0: slot start + RINKI_FWIMAGE_SLOT_HDR */
	uint32_t length;      /* payload bytes */
	uint32_t payload_crc; /* rinki_crc32() of the payload */
	uint32_t epoch;	      /* anti-rollback: refused below any CONFIRMED slot's epoch */
	uint8_t reserved[24]; /* 0 */
	uint32_t hdr_crc;     /* rinki_crc32() of the bytes before this field */
	uint8_t signature[RINKI_FWIMAGE_SIG_SIZE]; /* Ed25519 over header[0..64) || payload */
};

_Static_assert(sizeof(struct rinki_fwimage_hdr) == RINKI_FWIMAGE_HDR_SIZE, "header size");
_Static_assert(offsetof(struct rinki_fwimage_hdr, hdr_crc) == 60, "hdr_crc offset");
_Static_assert(offsetof(struct rinki_fwimage_hdr, signature) == RINKI_FWIMAGE_SIGNED_SIZE,
	       "signature offset");

/*
 * CRC-32 (IEEE 802.3, reflected 0xEDB88320, as zlib's crc32()); start with crc = 0 and feed
 * the data in any number of pieces. Nibble table: 64 bytes of table, 2 steps per byte.
 */
static inline uint32_t rinki_crc32(uint32_t crc, const void *data, size_t len)
{
	static const uint32_t t[16] = {
	    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
	    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
	    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
	};
	const uint8_t *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ t[crc & 15];
		crc = (crc >> 4) ^ t[crc & 15];
	}
	return ~crc;
}

/* --- slots and their boot state ------------------------------------------------------------ */

/*
 * The boot trailer: words in the slot header area after the header, each in its own 16-byte
 * unit (the write granularity of common MCU flash), each programmed at most once after the
 * slot is erased. "Erased" = all bits 1.
 */
/* Offsets in the slot: */
#define RINKI_TRAILER_SEQ	      0x80u /* commit sequence (newer = higher) */
#define RINKI_TRAILER_PENDING	      0x90u /* MAGIC_PENDING: committed, boot it */
#define RINKI_TRAILER_TRIED	      0xA0u /* not erased: the bootloader started it once */
#define RINKI_TRAILER_CONFIRMED	      0xB0u /* MAGIC_CONFIRMED: the host confirmed it */
#define RINKI_TRAILER_REJECTED	      0xC0u /* not erased: trial ended unconfirmed */
#define RINKI_TRAILER_ERASED	      0xFFFFFFFFu
#define RINKI_TRAILER_MAGIC_PENDING   0x444E4550u /* "PEND" */
#define RINKI_TRAILER_MAGIC_TRIED     0x44455254u /* "TRED" */
#define RINKI_TRAILER_MAGIC_CONFIRMED 0x4B4F4E43u /* "CNOK" */
#define RINKI_TRAILER_MAGIC_REJECTED  0x4A434552u /* "RECJ" */

/* Slot states, as the bootloader and the application report them. */
enum rinki_slot_state {
	RINKI_SLOT_EMPTY = 0,	  /* header area erased */
	RINKI_SLOT_INVALID = 1,	  /* header or payload check failed (e.g. an interrupted upload) */
	RINKI_SLOT_STAGED = 2,	  /* valid image, not committed: never booted */
	RINKI_SLOT_PENDING = 3,	  /* committed: the next boot tries it */
	RINKI_SLOT_TRIAL = 4,	  /* started once and not confirmed (yet) */
	RINKI_SLOT_CONFIRMED = 5, /* confirmed by the host over Modbus: a good image */
	RINKI_SLOT_REJECTED = 6,  /* its trial ended without confirmation: never booted again */
};

/* --- application registers of the boot control (Modbus, see hw/registers.md) --------------- */

#define RINKI_IREG_BOOT_SLOT	   ((uint16_t)0x0080u) /* running slot: 0 = A, 1 = B */
#define RINKI_IREG_BOOT_TRIAL_LEFT ((uint16_t)0x0081u) /* s left to confirm, 0 if confirmed */
#define RINKI_IREG_BOOT_SLOT_BASE  ((uint16_t)0x0082u) /* 4 registers a slot, A then B: */
#define RINKI_BOOT_SLOT_REG_STATE  0u		       /* enum rinki_slot_state */
#define RINKI_BOOT_SLOT_REG_VER	   1u		       /* major << 8 | minor (each < 256) */
#define RINKI_BOOT_SLOT_REG_PATCH  2u		       /* patch */
#define RINKI_BOOT_SLOT_REG_SEQ	   3u		       /* commit sequence, low 16 bits */
#define RINKI_BOOT_SLOT_REGS	   4u
#define RINKI_IREG_BOOT_NONCE	   ((uint16_t)0x008Au) /* 4 registers: entry nonce, high first */
#define RINKI_IREG_BOOT_NREGS	   14u		       /* the block 0x80..0x8D */
#define RINKI_HREG_BOOT_CTL	   ((uint16_t)0x0080u) /* write RINKI_BOOT_CTL_*; reads 0 */
#define RINKI_HREG_BOOT_MAC	   ((uint16_t)0x0081u) /* 4 registers: entry MAC, high first */
#define RINKI_BOOT_CTL_ENTER	   ((uint16_t)0xB007u) /* MAC checked: reply, reset into the BL */
#define RINKI_BOOT_CTL_CONFIRM	   ((uint16_t)0xC0F1u) /* confirm the running image */

/*
 * Entering the bootloader from the application is authenticated: the host reads the nonce,
 * writes MAC = SipHash-2-4(entry key, RINKI_BOOT_ENTRY_TAG || nonce (8, little-endian) ||
 * board id (2, little-endian)) to RINKI_HREG_BOOT_MAC, then RINKI_BOOT_CTL_ENTER. Every ENTER,
 * accepted or not, uses up the nonce. The entry key is 16 bytes, built into the firmware.
 * The bootloader's session takes the same MAC over its own nonce (RINKI_BL_AUTH). Nonces are
 * SipHash(entry key, counter (4, little-endian)) of a counter in flash that every check steps
 * first, so no nonce is ever checked twice, across power cycles too.
 */
#define RINKI_BOOT_ENTRY_TAG	 "RKBLENTR"
#define RINKI_BOOT_ENTRY_MSG_LEN 18u
#define RINKI_BOOT_ENTRY_KEY_LEN 16u

/* --- bootloader serial protocol ------------------------------------------------------------ */

/*
 * Host and bootloader exchange frames: SOF, type, length (2, LE), payload, CRC32 (4, LE) of
 * type, length and payload. The host opens a session with the sync word; the bootloader only
 * looks for it between frames and answers RINKI_BL_INFO, which carries a one-time nonce.
 * Commands that change the flash (START, DATA, END, COMMIT) are refused with RINKI_BL_E_AUTH
 * until RINKI_BL_AUTH carried the entry MAC of that nonce; a wrong MAC ends the session (the
 * bootloader answers and resets). Replies carry type | 0x80 and the
 * status as payload byte 0. The sync word starts with 0xF8, a Modbus address no master uses,
 * and contains no SOF.
 */
#define RINKI_BL_SYNC_LEN    8u
#define RINKI_BL_SYNC_BYTES  0xF8, 0x72, 0x42, 0x4C, 0x21, 0x9D, 0x07, 0xE3
#define RINKI_BL_SOF	     0xA5u
#define RINKI_BL_FRAME_OVH   8u	   /* SOF, type, length (2), CRC32 (4) */
#define RINKI_BL_CHUNK_MAX   1024u /* data bytes in one RINKI_BL_DATA */
#define RINKI_BL_PAYLOAD_MAX (4u + RINKI_BL_CHUNK_MAX)
#define RINKI_BL_REPLY_TYPE  0x80u
#define RINKI_BL_NAK	     0xFFu /* reply type to a frame that could not be read */
#define RINKI_BL_PROTO	     2u	   /* 2: RINKI_BL_AUTH and the nonce in the info */

/* Frame types (host to bootloader). */
enum rinki_bl_cmd {
	RINKI_BL_INFO = 0x01,	/* -> struct rinki_bl_info */
	RINKI_BL_START = 0x02,	/* header (128) -> erase the target slot */
	RINKI_BL_DATA = 0x03,	/* offset (4) data (1..CHUNK_MAX) -> next offset (4) */
	RINKI_BL_END = 0x04,	/* -> payload CRC (4); writes the header if it matches */
	RINKI_BL_COMMIT = 0x05, /* -> mark the uploaded image pending */
	RINKI_BL_BOOT = 0x06,	/* -> reset and boot the newest good image */
	RINKI_BL_AUTH = 0x07, /* entry MAC (8, LE) of the info's nonce -> flash commands allowed */
};

/* Reply status (payload byte 0). */
enum rinki_bl_status {
	RINKI_BL_OK = 0,
	RINKI_BL_E_FRAME = 1,  /* bad CRC or length: resend */
	RINKI_BL_E_CMD = 2,    /* unknown frame type */
	RINKI_BL_E_STATE = 3,  /* not in the state for this command (e.g. DATA before START) */
	RINKI_BL_E_HEADER = 4, /* bad magic, version, flags or header CRC */
	RINKI_BL_E_BOARD = 5,  /* image for another board */
	RINKI_BL_E_SIZE = 6,   /* payload does not fit the slot */
	RINKI_BL_E_SLOT = 7,   /* image linked for the other slot */
	RINKI_BL_E_OFFSET = 8, /* DATA not at the expected offset (reply carries it) */
	RINKI_BL_E_FLASH = 9,  /* erase or write failed */
	RINKI_BL_E_CRC = 10,   /* payload CRC in flash does not match the header */
	RINKI_BL_E_EPOCH = 11, /* epoch below a CONFIRMED slot's: rollback refused */
	RINKI_BL_E_AUTH = 12,  /* no RINKI_BL_AUTH yet, or (then it resets) a wrong MAC */
};

/* Why the bootloader is running (rinki_bl_info.entry). */
enum rinki_bl_entry {
	RINKI_BL_ENTRY_REQUEST =
	    1, /* the application was asked over Modbus (RINKI_BOOT_CTL_ENTER) */
	RINKI_BL_ENTRY_NO_IMAGE = 2, /* no slot holds a bootable image */
	RINKI_BL_ENTRY_WINDOW = 3,   /* the sync word came in the listening window after reset */
};

struct rinki_bl_slot_info {
	uint32_t addr; /* slot start (header); the payload is linked at addr + SLOT_HDR */
	uint32_t size; /* slot bytes, header area included */
	uint8_t state; /* enum rinki_slot_state */
	uint8_t pad[3];
	uint32_t seq;				/* commit sequence (0: not committed) */
	uint8_t hdr[RINKI_FWIMAGE_SIGNED_SIZE]; /* first bytes of the slot's header */
};

struct rinki_bl_info {
	uint8_t status; /* RINKI_BL_OK */
	uint8_t proto;	/* RINKI_BL_PROTO */
	uint8_t entry;	/* enum rinki_bl_entry */
	uint8_t target; /* slot an upload goes to (never the newest confirmed one) */
	uint16_t board_id;
	uint16_t bl_version; /* major << 8 | minor */
	uint16_t chunk_max;
	uint8_t auth; /* 1 once RINKI_BL_AUTH was accepted in this session */
	uint8_t pad;
	struct rinki_bl_slot_info slot[2];
	uint8_t nonce[8]; /* the nonce RINKI_BL_AUTH must sign (little-endian) */
};

_Static_assert(sizeof(struct rinki_bl_slot_info) == 80, "slot info size");
_Static_assert(sizeof(struct rinki_bl_info) == 180, "info size");

#endif /* RINKI_FWIMAGE_H */
