/*
 * sms: SMS PDU codec for the modem's PDU mode (3GPP TS 23.040 / 23.038, TS 27.005).
 *
 * Pure: no I/O, no heap. Encodes SMS-SUBMIT (GSM 7-bit or UCS-2, concatenated
 * when needed) for AT+CMGS, decodes SMS-DELIVER and SMS-STATUS-REPORT as read
 * with AT+CMGR / +CMT / +CDS, and reassembles concatenated parts in a
 * caller-owned table. Text is UTF-8 on both sides of the API. Every function
 * that parses or can fail returns >= 0 or a negative errno and, when err is
 * not NULL, writes a one-line reason into err.
 */
#ifndef GW_SMS_H
#define GW_SMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SMS_ADDR_MAX	   48  /* "+" and 20 digits, or 11 GSM7 septets as UTF-8, NUL */
#define GW_SMS_TEXT_MAX	   512 /* one part's text as UTF-8 (160 septets x 3 bytes), NUL */
#define GW_SMS_UD_MAX	   140 /* TP-UD octets */
#define GW_SMS_PDU_MAX	   200 /* octets of SMSC + TPDU this module accepts or builds */
#define GW_SMS_PDU_HEX_MAX (2 * GW_SMS_PDU_MAX + 1)
#define GW_SMS_MAX_PARTS   255	/* 8-bit concatenation counter */
#define GW_SMS_VP_DEFAULT  0xAA /* relative TP-VP: 4 days */

enum gw_sms_alphabet {
	GW_SMS_GSM7,
	GW_SMS_8BIT,
	GW_SMS_UCS2,
};

/* ---- encode (SMS-SUBMIT) ---------------------------------------------- */

struct gw_sms_submit {
	const char *to;	    /* "+358401234567" (type 0x91) or "0401234567" (0x81), <= 20 digits */
	const char *text;   /* UTF-8 */
	uint8_t vp;	    /* relative TP-VP octet (23.040 9.2.3.12.1) */
	bool status_report; /* TP-SRR: ask for an SMS-STATUS-REPORT */
	uint8_t ref;	    /* concatenation reference, used only when the text needs parts */
};

/* One PDU ready for the modem: write "AT+CMGS=<tpdu_len>", then hex and Ctrl-Z. */
struct gw_sms_pdu {
	char hex[GW_SMS_PDU_HEX_MAX]; /* "00" (the SIM's SMSC) + TPDU, upper-case hex */
	int tpdu_len;		      /* TPDU octets without the SMSC octet */
};

/* Fill s with the defaults: VP 4 days, no status report, ref 0, to/text NULL. */
void gw_sms_submit_defaults(struct gw_sms_submit *s);

/*
 * Relative TP-VP octet for a validity of at least minutes (5 min .. 63 weeks,
 * rounded up to the next representable value). Returns 0..255 or -ERANGE.
 */
int gw_sms_vp_from_minutes(unsigned minutes);

/*
 * Alphabet and number of parts the text needs: GSM 7-bit when every character
 * is in the default alphabet or its escape table, else UCS-2. Returns the part
 * count (1 for empty text), -EILSEQ for invalid UTF-8, -EMSGSIZE past 255 parts.
 */
int gw_sms_parts(const char *text, enum gw_sms_alphabet *alphabet);

/*
 * Encode s into SMS-SUBMIT PDUs, one per part (UDH 05 00 03 ref total seq when
 * more than one). Returns the number of parts written to pdus, or -EINVAL (bad
 * number), -EILSEQ (bad UTF-8), -ENOSPC (more parts than max_pdus), -EMSGSIZE.
 */
int gw_sms_encode(const struct gw_sms_submit *s, struct gw_sms_pdu *pdus, int max_pdus, char *err,
		  int errlen);

/* ---- decode (SMS-DELIVER, SMS-STATUS-REPORT) -------------------------- */

enum gw_sms_type {
	GW_SMS_DELIVER,	      /* TP-MTI 0 */
	GW_SMS_STATUS_REPORT, /* TP-MTI 2 */
};

/* TP-SCTS / TP-DT: local time and its offset, as a UTC instant. */
struct gw_sms_time {
	bool valid;	 /* false when the SC sent a date that is not one (then utc_ms is 0) */
	int64_t utc_ms;	 /* Unix epoch milliseconds, UTC */
	int tz_quarters; /* offset of the local time to UTC in quarter-hours: +12 = UTC+3 */
};

struct gw_sms_msg {
	enum gw_sms_type type;
	int tpdu_len;		    /* octets parsed after the SMSC field (compare with +CMGR) */
	char smsc[GW_SMS_ADDR_MAX]; /* "" when the PDU carries none */
	char addr[GW_SMS_ADDR_MAX]; /* DELIVER: TP-OA; STATUS-REPORT: TP-RA (the recipient) */
	uint8_t addr_toa;	    /* type of address: 0x91 international, 0x81, 0xD0 alnum */
	struct gw_sms_time scts;    /* service-centre time stamp */
	/* SMS-DELIVER */
	uint8_t pid; /* TP-PID */
	uint8_t dcs; /* TP-DCS as received */
	enum gw_sms_alphabet alphabet;
	int msg_class;		    /* 0..3, or -1 when the DCS gives no class */
	bool concat;		    /* a concatenation IE (IEI 00 or 08) was present and valid */
	uint16_t ref;		    /* concatenation reference (8- or 16-bit) */
	uint8_t total, seq;	    /* parts in the message, this part's number (1-based) */
	char text[GW_SMS_TEXT_MAX]; /* UTF-8; 8-bit data is shown as ISO-8859-1 */
	size_t text_len;
	uint8_t data[GW_SMS_UD_MAX]; /* user data after the header, as received (8-bit data) */
	size_t data_len;
	/* SMS-STATUS-REPORT */
	uint8_t mr;		      /* TP-MR of the SMS-SUBMIT this reports on (+CMGS: <mr>) */
	struct gw_sms_time discharge; /* TP-DT */
	uint8_t status;		      /* TP-ST */
};

/*
 * Decode a PDU as the modem prints it: hex SMSC field then the TPDU. Octets
 * after the TP-UD (or after TP-ST) are ignored. Returns the message type, or
 * -EINVAL (bad hex), -EBADMSG (a length past the end, bad UDH, bad field),
 * -ENOTSUP (compressed text, TP-MTI 1/3), -E2BIG (longer than GW_SMS_PDU_MAX).
 */
int gw_sms_decode(const char *hex, struct gw_sms_msg *m, char *err, int errlen);

/*
 * The phone number that sent m (TP-OA of an SMS-DELIVER) into out (len bytes): "+digits"
 * for TON international, the digits as given for TON unknown or national. Returns 0, or
 * -EPERM when the originator is no phone number (alphanumeric, network-specific,
 * subscriber, abbreviated or reserved TON, or a '*#abc' digit): such a sender is a name
 * anyone can set and must never identify a worker. -EINVAL when m is no DELIVER.
 */
int gw_sms_sender_number(const struct gw_sms_msg *m, char *out, size_t len);

/* TP-ST meaning (23.040 9.2.3.15). */
enum gw_sms_status_kind {
	GW_SMS_ST_DELIVERED, /* 0x00..0x1F: transaction completed */
	GW_SMS_ST_PENDING,   /* 0x20..0x3F: SC still trying */
	GW_SMS_ST_FAILED,    /* 0x40..0x7F (or reserved): SC gave up */
};

/* Classify a TP-ST value. */
enum gw_sms_status_kind gw_sms_status_kind(uint8_t status);

/*
 * For tests and simulators: turn an SMS-SUBMIT PDU (as built by gw_sms_encode)
 * into the SMS-DELIVER its recipient gets from `from`, stamped with scts (7
 * octets as in the PDU) and no SMSC. Returns the TPDU length, -EINVAL, -EBADMSG.
 */
int gw_sms_submit_to_deliver(const char *submit_hex, const char *from, const uint8_t scts[7],
			     char *out, size_t outlen, char *err, int errlen);

/* ---- reassembly of concatenated parts --------------------------------- */

#define GW_SMS_REASM_SLOTS	32 /* incomplete messages held, from all senders */
#define GW_SMS_REASM_PER_SENDER 2  /* ... and from one sender */
#define GW_SMS_REASM_PARTS	16 /* parts of one message (16 x 153 characters) */
#define GW_SMS_REASM_TEXT_MAX	(GW_SMS_REASM_PARTS * (GW_SMS_TEXT_MAX - 1) + 1)

struct gw_sms_reasm_slot {
	bool used;
	char sender[GW_SMS_ADDR_MAX];
	uint16_t ref;
	uint8_t total, have;
	int64_t first_ms;
	bool got[GW_SMS_REASM_PARTS];
	uint16_t len[GW_SMS_REASM_PARTS];
	char text[GW_SMS_REASM_PARTS][GW_SMS_TEXT_MAX];
};

/* Caller-owned table, keyed by (sender, ref, total). */
struct gw_sms_reasm {
	int64_t timeout_ms;
	unsigned dropped; /* incomplete messages dropped (timed out or evicted when full) */
	char last_dropped[GW_SMS_ADDR_MAX]; /* sender of the last one evicted, for the log */
	struct gw_sms_reasm_slot slot[GW_SMS_REASM_SLOTS];
};

/* Empty the table; an incomplete message is dropped timeout_ms after its first part. */
void gw_sms_reasm_init(struct gw_sms_reasm *r, int64_t timeout_ms);

/*
 * Add a decoded SMS-DELIVER. A single-part message completes at once. When the
 * message is complete its text (parts in order) goes to out and 1 is returned;
 * 0 while parts are missing. -EALREADY for a duplicate part, -EMSGSIZE when
 * total > GW_SMS_REASM_PARTS, -ENOSPC when out is too small (message dropped),
 * -EINVAL for a status report. A sender with GW_SMS_REASM_PER_SENDER incomplete messages
 * that starts another loses its own oldest; otherwise a full table evicts its oldest
 * entry (last_dropped names whose).
 */
int gw_sms_reasm_add(struct gw_sms_reasm *r, const struct gw_sms_msg *m, int64_t now_ms, char *out,
		     size_t outlen);

/* Drop incomplete messages older than the timeout. Returns how many were dropped. */
int gw_sms_reasm_expire(struct gw_sms_reasm *r, int64_t now_ms);

#endif
