/*
 * sds: the TETRA Short Data Service codec (pure: no I/O, no clock, no heap).
 *
 * Decodes the hex PDU line that follows a PEI +CTSDSR header (status, SDS-TL
 * text, SDS-REPORT/ACK, LIP short location report) into fixed-size structs,
 * and encodes what the gateway sends: SDS-TL text (split into concatenated
 * parts when it does not fit), 16-bit status, and the SDS-REPORT that
 * acknowledges a received text. Text is UTF-8 in this API; on the air it is
 * ISO-8859-1, ISO-8859-15 or UTF-16BE (packed 7-bit is decoded only).
 * Reassembly of concatenated texts uses a caller-owned table and the caller's
 * clock value. Layouts: EN 300 392-2 clause 29, TS 100 392-18-1 (LIP), as
 * reproduced in /work/shared/reference/tetra-pei.md section 3.
 */
#ifndef GW_SDS_H
#define GW_SDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SDS_AI_SDSTL	 12   /* +CTSDSR <AI service>: SDS type 4 (SDS-TL, 0..2047 bits) */
#define GW_SDS_AI_STATUS 13   /* +CTSDSR <AI service>: status (16 bits) */
#define GW_SDS_MAX_BITS	 2047 /* largest SDS type 4 PDU, PID included */
#define GW_SDS_HEX_MAX	 516  /* hex of a 2047-bit PDU (512) + NUL, rounded */
#define GW_SDS_TEXT_MAX	 1024 /* decoded UTF-8 text of one PDU, NUL included */
#define GW_SDS_ID_MAX	 18   /* sender identity: 17-digit TSI + NUL */

/* Protocol identifiers the codec knows (EN 300 392-2 table 29.21). */
#define GW_SDS_PID_SIMPLE_TEXT	    0x02
#define GW_SDS_PID_SIMPLE_IMMEDIATE 0x09
#define GW_SDS_PID_LIP		    0x0A
#define GW_SDS_PID_TEXT		    0x82
#define GW_SDS_PID_IMMEDIATE_TEXT   0x89
#define GW_SDS_PID_UDH_TEXT	    0x8A

/* Text coding schemes (EN 300 392-2 table 29.29). */
#define GW_SDS_CODING_GSM7    0
#define GW_SDS_CODING_LATIN1  1
#define GW_SDS_CODING_LATIN9  13 /* ISO-8859-15 */
#define GW_SDS_CODING_UTF16BE 26

enum gw_sds_kind {
	GW_SDS_STATUS, /* AI service 13: 16-bit pre-coded status */
	GW_SDS_TEXT,   /* SDS-TRANSFER text (0x82/0x89/0x8A) or simple text (0x02/0x09) */
	GW_SDS_REPORT, /* SDS-REPORT: delivery status for a message we sent */
	GW_SDS_ACK,    /* SDS-ACK: acknowledges an SDS-REPORT that asked for it */
	GW_SDS_LIP,    /* LIP short location report (PID 0x0A, PDU type 0) */
};

/* Delivery report request of an SDS-TRANSFER (EN 300 392-2 table 29.17). */
enum gw_sds_report_req {
	GW_SDS_RR_NONE = 0,
	GW_SDS_RR_RECEIVED = 1,
	GW_SDS_RR_CONSUMED = 2,
	GW_SDS_RR_BOTH = 3,
};

/* Class of a delivery status value (its top three bits, table 29.16). */
enum gw_sds_dclass {
	GW_SDS_DC_SUCCESS,   /* 0x00-0x1F */
	GW_SDS_DC_TEMPORARY, /* 0x20-0x3F: temporary error, the SwMI may still deliver */
	GW_SDS_DC_FAILED,    /* 0x40-0x5F: data transfer failed */
	GW_SDS_DC_FLOW,	     /* 0x60-0x7F: flow control */
	GW_SDS_DC_E2E,	     /* 0x80-0x9F: end-to-end control */
	GW_SDS_DC_RESERVED,  /* 0xA0-0xFF */
};

struct gw_sds_status {
	uint16_t value;
	/* Set for an SDS-SHORT-REPORT: its 6-bit PDU identifier 011111 puts byte0 in
	 * 0x7C..0x7F (ftl/tetra-pei encodes 0x7C | type; its parser's 0x7A mask would also
	 * take user statuses 0xFAxx-0xFFxx). Then sr_type = byte0 & 3, sr_ref = byte1. */
	bool short_report;
	uint8_t sr_type;
	uint8_t sr_ref;
};

struct gw_sds_text {
	bool sdstl;	      /* SDS-TL SDS-TRANSFER; false for simple text 0x02/0x09 */
	bool immediate;	      /* PID 0x89 or 0x09: show at once */
	uint8_t report_req;   /* enum gw_sds_report_req (SDS-TL only) */
	uint8_t service_sel;  /* raw bit: 0 short-form report allowed, 1 standard only */
	bool store_fwd;	      /* a store/forward control block was present (skipped) */
	uint8_t ref;	      /* SDS-TL message reference */
	uint8_t coding;	      /* text coding scheme as received */
	bool coding_fallback; /* unknown scheme: bytes were shown as ISO-8859-1 */
	bool has_timestamp;
	uint32_t timestamp;  /* raw 24-bit timestamp (clause 29.5.4.4) when present */
	bool concat;	     /* PID 0x8A with a concatenation element in its UDH */
	uint16_t concat_ref; /* 8-bit (IEI 0) or 16-bit (IEI 8) reference */
	uint8_t concat_total;
	uint8_t concat_seq;	    /* 1-based */
	size_t len;		    /* bytes of UTF-8 in text, NUL excluded */
	char text[GW_SDS_TEXT_MAX]; /* UTF-8, NUL-terminated, never contains NUL */
};

struct gw_sds_report {
	uint8_t status;	   /* delivery status, see gw_sds_delivery_name() */
	uint8_t ref;	   /* reference of the message it reports on */
	bool ack_required; /* SDS-REPORT only: the sender wants an SDS-ACK */
	bool store_fwd;
};

struct gw_sds_lip {
	uint8_t time_elapsed; /* raw 2-bit code */
	int32_t lon_raw;      /* 25-bit two's complement */
	int32_t lat_raw;      /* 24-bit two's complement */
	double lon_deg;	      /* lon_raw * 360 / 2^25, east positive */
	double lat_deg;	      /* lat_raw * 180 / 2^24, north positive */
	uint8_t pos_error;    /* raw 3-bit code, see gw_sds_lip_pos_error_name() */
	uint8_t velocity;     /* raw 7-bit code */
	double speed_kmh;     /* decoded velocity; -1 when the code is 127 (unknown) */
	uint8_t direction;    /* raw 4-bit code */
	double heading_deg;   /* direction * 22.5 */
	uint8_t add_type;     /* 0: add_data is the reason for sending; 1: user-defined */
	uint8_t add_data;
	int bits_used; /* 84 */
};

struct gw_sds_msg {
	enum gw_sds_kind kind;
	uint8_t pid; /* 0 for AI service 13 */
	struct gw_sds_status status;
	struct gw_sds_text text;
	struct gw_sds_report report;
	struct gw_sds_lip lip;
};

/*
 * Decode the PDU line of +CTSDSR. ai_service and bits come from the header.
 * Only the first `bits` bits are used; extra hex (Motorola pads LIP to 22
 * digits for 84 bits) is ignored. An odd digit count is accepted only when
 * bits is not a multiple of 8 and the digits cover it (Sepura LIP, 21 digits).
 * Returns 0 and fills *out, or: -EINVAL bad hex / odd length / bits <= 0,
 * -EMSGSIZE bits larger than the data or than 2047, -EPROTONOSUPPORT unknown
 * AI service, PID, SDS-TL message type or LIP PDU type, -EBADMSG a PDU too
 * short for its fields or with inconsistent ones. *why (if not NULL) gets a
 * static reason string on failure and "" on success.
 */
int gw_sds_decode(int ai_service, int bits, const char *hex, struct gw_sds_msg *out,
		  const char **why);

/*
 * Encode utf8 as one SDS-TL SDS-TRANSFER (PID 0x82) with the given report
 * request and reference, standard SDS-REPORT requested (no short form). The
 * coding is ISO-8859-1 if the text fits it, else ISO-8859-15, else UTF-16BE.
 * hex gets upper-case hex and a NUL; *bits = hex digits * 4 (the CMGS length).
 * Returns the coding scheme used (1, 13 or 26), or -EINVAL (invalid UTF-8 or
 * report request), -EMSGSIZE (over 2047 bits: use gw_sds_split_text) or
 * -ENOBUFS (hexsz too small).
 */
int gw_sds_encode_text(const char *utf8, enum gw_sds_report_req rr, uint8_t ref, char *hex,
		       size_t hexsz, int *bits);

/* Encode a 16-bit status for AI service 13 ("8002", 16 bits). Returns 0 or -ENOBUFS. */
int gw_sds_encode_status(uint16_t value, char *hex, size_t hexsz, int *bits);

/*
 * Encode an SDS-REPORT (no ack requested, no store/forward) for the message
 * `ref` received with SDS-TL `pid`: status 0x00 acknowledges receipt, giving
 * "821000<ref>" for PID 0x82. Returns 0, -EINVAL (pid < 0x80 is not SDS-TL)
 * or -ENOBUFS.
 */
int gw_sds_encode_report(uint8_t pid, uint8_t status, uint8_t ref, char *hex, size_t hexsz,
			 int *bits);

/* One SDS of a split text: send hex with AT+CMGS=<ssi>,<bits>; ref is its own SDS-TL reference. */
struct gw_sds_part {
	char hex[GW_SDS_HEX_MAX];
	int bits;
	uint8_t ref;
};

/*
 * Encode utf8 into as few SDS as fit max_bits each (the terminal's AT+CMGS=?
 * limit; 2047 when unknown). A text that fits is one PID 0x82 SDS with ref;
 * otherwise every part is PID 0x8A with the UDH 05 00 03 <ref> <total> <seq>
 * and SDS-TL reference ref + seq - 1, all in one coding chosen as in
 * gw_sds_encode_text(). Returns the number of parts, or -EINVAL (bad UTF-8,
 * report request or max_bits outside 1..2047), -EMSGSIZE (more than
 * max_parts or 255 parts needed, or max_bits too small for one character).
 */
int gw_sds_split_text(const char *utf8, enum gw_sds_report_req rr, uint8_t ref, int max_bits,
		      struct gw_sds_part *parts, size_t max_parts);

/*
 * Built-in meaning of a received 16-bit status (AI service 13): "emergency" for 0,
 * "SDS-SHORT-REPORT" for 0x7C00-0x7FFF, "user-defined status" for 0x8000-0xFFFF (what
 * it means is local: rinki.conf sds.status.<value> names it), else "status". Never NULL.
 */
const char *gw_sds_status_name(uint16_t value);

/* Name of an SDS-REPORT delivery status, or a class name for codes without one. */
const char *gw_sds_delivery_name(uint8_t status);
/* Class of a delivery status (decides retry vs. escalate). */
enum gw_sds_dclass gw_sds_delivery_class(uint8_t status);
/* "<2 m" ... "unknown" for the LIP position error code (0..7); "invalid" otherwise. */
const char *gw_sds_lip_pos_error_name(int code);
/* LIP reason for sending 0..20 (TS 100 392-18-1 6.3.64), "unnamed" for others. */
const char *gw_sds_lip_reason_name(int code);

/*
 * Reassembly of concatenated texts (PID 0x8A parts) keyed by (sender, concat
 * ref), in a fixed table owned by the caller. An entry is dropped when no
 * part has arrived for timeout_ms.
 */
#define GW_SDS_REASM_SLOTS 4
#define GW_SDS_REASM_PARTS 8 /* most parts one message may have */

struct gw_sds_reasm_slot {
	bool used;
	char sender[GW_SDS_ID_MAX];
	uint16_t ref;
	uint8_t total;
	uint8_t have; /* number of distinct parts stored */
	uint64_t last_ms;
	uint16_t len[GW_SDS_REASM_PARTS];
	bool got[GW_SDS_REASM_PARTS];
	char part[GW_SDS_REASM_PARTS][GW_SDS_TEXT_MAX];
};

struct gw_sds_reasm {
	uint32_t timeout_ms;
	struct gw_sds_reasm_slot slot[GW_SDS_REASM_SLOTS];
};

/* Empty the table and set the per-message timeout. */
void gw_sds_reasm_init(struct gw_sds_reasm *r, uint32_t timeout_ms);

/*
 * Add one decoded part (msg->text.concat set) from sender at now_ms. A part
 * for an expired entry starts it afresh; when the table is full the entry idle
 * longest is evicted (call gw_sds_reasm_expire() from a timer to learn of
 * drops: this function does not report them). Returns 1 with the whole text (parts in sequence
 * order) in out, 0 when stored and still incomplete (a repeated part is ignored), -EINVAL (not a
 * concatenated text, sender too long, or total/seq inconsistent with the parts already held),
 * -EMSGSIZE (total over GW_SDS_REASM_PARTS, or the whole text does not fit outsz; the entry is
 * dropped).
 */
int gw_sds_reasm_add(struct gw_sds_reasm *r, const char *sender, const struct gw_sds_msg *msg,
		     uint64_t now_ms, char *out, size_t outsz);

/*
 * Drop one entry idle for more than the timeout at now_ms. Returns 1 and its
 * sender (and how many of how many parts had arrived) when one was dropped,
 * 0 when none is due; call until it returns 0. sender may be NULL.
 */
int gw_sds_reasm_expire(struct gw_sds_reasm *r, uint64_t now_ms, char *sender, size_t sendersz,
			int *have, int *total);

#endif
