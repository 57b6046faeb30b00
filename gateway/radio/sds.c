/*
 * sds: TETRA SDS codec. Decoding turns the +CTSDSR hex line into bytes
 * (bounded by the header's bit count), then reads fields MSB first through a
 * bit reader that refuses to run past the end, so every field access is
 * bounds-checked in one place. Text is converted to UTF-8 into the caller's
 * fixed-size struct. Encoding picks the narrowest coding that holds the text
 * (ISO-8859-1, then ISO-8859-15, then UTF-16BE), builds the PDU in a local
 * octet buffer and writes upper-case hex. The reassembly table is a plain
 * caller-owned array; time only enters as the caller's now_ms.
 *
 * Decisions where peers or the standards leave room (README, "SDS texts"):
 * - Packed 7-bit (coding 0): EN 300 392-2 clause 29.5.4.1 (text coding scheme,
 *   table 29.29 in V3.4.1: value 0, 7-bit alphabet) and 29.5.4.3 (that
 *   alphabet) use the GSM 7-bit default alphabet of 3GPP TS 23.038; we take its
 *   packing with it, TS 23.038 clause 6.1.2.1.1: septets least significant bit
 *   first, as in GSM SMS. Some decoders (tetra-kit) read the septets MSB first
 *   in PDU bit order instead; no field capture has settled it (terminals we
 *   know send ISO-8859-1/15 or UTF-16). The bit length gives the number of
 *   septets (bits / 7) and, as the septets fill the low bits first, a final
 *   octet the bit length cuts is still read whole. A final septet that only
 *   fills the padding of an octet-aligned PDU (value 0x00 or CR) is dropped.
 * - A concatenation element with sequence 0, total 0 or a sequence past the
 *   total is void (3GPP TS 23.040 9.2.3.24.1: the receiver ignores it): the
 *   part is shown as a text of its own rather than dropped.
 * - UTF-16 text with an odd octet count: the complete characters are shown
 *   and the stray final octet dropped, as peers do.
 * - An external forward number of odd length carries a 4-bit dummy digit
 *   (EN 300 392-2 clause 29.4.2.4, SDS-TRANSFER), skipped with the block.
 */
#include "core/hex.h"
#include "radio/sds.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_OCTETS 256 /* 2048 bits: the most hex a +CTSDSR line may carry */

/* --- bit reader ---------------------------------------------------------- */

struct bitrd {
	const uint8_t *p;
	size_t n;   /* bits that may be read */
	size_t pos; /* next bit, always <= n */
};

static size_t bits_left(const struct bitrd *b)
{
	return b->n - b->pos;
}

/* Read width (<= 32) bits MSB first; false (and nothing consumed) past the end. */
static bool get_bits(struct bitrd *b, unsigned width, uint32_t *v)
{
	if (width > 32 || bits_left(b) < width)
		return false;
	uint32_t x = 0;
	for (unsigned i = 0; i < width; i++) {
		size_t k = b->pos + i;
		x = (x << 1) | ((b->p[k >> 3] >> (7 - (k & 7))) & 1u);
	}
	b->pos += width;
	*v = x;
	return true;
}

static bool skip_bits(struct bitrd *b, size_t width)
{
	if (bits_left(b) < width)
		return false;
	b->pos += width;
	return true;
}

/* --- hex ------------------------------------------------------------------ */

static int parse_hex(const char *hex, int bits, uint8_t *buf, const char **why)
{
	if (bits <= 0) {
		*why = "bit length must be positive";
		return -EINVAL;
	}
	if (bits > GW_SDS_MAX_BITS) {
		*why = "bit length over 2047";
		return -EMSGSIZE;
	}
	size_t len = strnlen(hex, 2 * MAX_OCTETS + 1);
	if (len == 0) {
		*why = "empty PDU";
		return -EINVAL;
	}
	if (len > 2 * MAX_OCTETS) {
		*why = "PDU longer than 256 octets";
		return -EMSGSIZE;
	}
	memset(buf, 0, MAX_OCTETS);
	for (size_t i = 0; i < len; i++) {
		int v = gw_hexval(hex[i]);
		if (v < 0) {
			*why = "not a hex digit";
			return -EINVAL;
		}
		buf[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	if (len * 4 < (size_t)bits) {
		*why = "bit length larger than the data";
		return -EMSGSIZE;
	}
	if (len % 2 && bits % 8 == 0) {
		*why = "odd number of hex digits";
		return -EINVAL;
	}
	return 0;
}

static const char hexdig[] = "0123456789ABCDEF";

static int to_hex(const uint8_t *b, size_t n, char *hex, size_t hexsz, int *bits)
{
	if (hex == NULL || hexsz < 2 * n + 1)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = hexdig[b[i] >> 4];
		hex[2 * i + 1] = hexdig[b[i] & 15];
	}
	hex[2 * n] = '\0';
	if (bits)
		*bits = (int)(n * 8);
	return 0;
}

/* --- UTF-8 ---------------------------------------------------------------- */

struct u8out {
	char *s;
	size_t size;
	size_t len;
};

static bool put_cp(struct u8out *o, uint32_t cp)
{
	char t[4];
	size_t n;
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		t[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xC0 | cp >> 6);
		t[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xE0 | cp >> 12);
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		t[0] = (char)(0xF0 | cp >> 18);
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (o->len + n + 1 > o->size)
		return false;
	memcpy(o->s + o->len, t, n);
	o->len += n;
	o->s[o->len] = '\0';
	return true;
}

/* Next code point of s at *i (strict UTF-8); -1 when invalid, 0 at the end. */
static int32_t utf8_next(const char *str, size_t *i)
{
	const unsigned char *s = (const unsigned char *)str + *i;
	uint32_t cp, min;
	int n;
	if (s[0] < 0x80) {
		if (s[0])
			(*i)++;
		return s[0];
	} else if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		cp = s[0] & 0x1F;
		n = 1;
		min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		cp = s[0] & 0x0F;
		n = 2;
		min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		cp = s[0] & 0x07;
		n = 3;
		min = 0x10000;
	} else {
		return -1;
	}
	for (int k = 1; k <= n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*i += (size_t)n + 1;
	return (int32_t)cp;
}

/* --- character sets ------------------------------------------------------- */

/* ISO-8859-15 differs from ISO-8859-1 in these eight positions. */
static const struct {
	uint8_t byte;
	uint16_t cp;
} latin9_diff[] = {
    {0xA4, 0x20AC}, /* € */
    {0xA6, 0x0160}, /* Š */
    {0xA8, 0x0161}, /* š */
    {0xB4, 0x017D}, /* Ž */
    {0xB8, 0x017E}, /* ž */
    {0xBC, 0x0152}, /* Œ */
    {0xBD, 0x0153}, /* œ */
    {0xBE, 0x0178}, /* Ÿ */
};

#define NDIFF (sizeof(latin9_diff) / sizeof(latin9_diff[0]))

static uint32_t latin9_to_cp(uint8_t b)
{
	for (size_t k = 0; k < NDIFF; k++)
		if (latin9_diff[k].byte == b)
			return latin9_diff[k].cp;
	return b;
}

/* ISO-8859-15 octet for cp, or -1. */
static int cp_to_latin9(uint32_t cp)
{
	for (size_t k = 0; k < NDIFF; k++) {
		if (latin9_diff[k].cp == cp)
			return latin9_diff[k].byte;
		if (latin9_diff[k].byte == cp)
			return -1; /* ¤ ¦ ¨ ´ ¸ ¼ ½ ¾ are not in 8859-15 */
	}
	return cp < 0x100 ? (int)cp : -1;
}

/* 3GPP TS 23.038 GSM 7-bit default alphabet. */
static const uint16_t gsm7_basic[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A, 0x00D8,
    0x00F8, 0x000D, 0x00C5, 0x00E5, 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
    0x03A3, 0x0398, 0x039E, 0x0020, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x0020, 0x0021, 0x0022, 0x0023,
    0x00A4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B,
    0x003C, 0x003D, 0x003E, 0x003F, 0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053,
    0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B,
    0x006C, 0x006D, 0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* Extension table (after the 0x1B escape); others show the basic character. */
static uint32_t gsm7_ext(uint8_t c)
{
	switch (c) {
	case 0x0A:
		return 0x000C;
	case 0x14:
		return '^';
	case 0x28:
		return '{';
	case 0x29:
		return '}';
	case 0x2F:
		return '\\';
	case 0x3C:
		return '[';
	case 0x3D:
		return '~';
	case 0x3E:
		return ']';
	case 0x40:
		return '|';
	case 0x65:
		return 0x20AC;
	default:
		return gsm7_basic[c & 0x7F];
	}
}

/* --- text decoding -------------------------------------------------------- */

static int text_overflow(const char **why)
{
	*why = "decoded text too long";
	return -EMSGSIZE;
}

static int decode_8bit(struct bitrd *b, bool latin9, struct u8out *o, const char **why)
{
	uint8_t buf[MAX_OCTETS];
	size_t n = 0;
	uint32_t v;
	while (n < sizeof(buf) && get_bits(b, 8, &v))
		buf[n++] = (uint8_t)v;
	while (n > 0 && buf[n - 1] == 0) /* trailing NUL octets are padding */
		n--;
	for (size_t i = 0; i < n; i++)
		if (!put_cp(o, latin9 ? latin9_to_cp(buf[i]) : buf[i]))
			return text_overflow(why);
	return 0;
}

static int decode_utf16(struct bitrd *b, struct u8out *o, const char **why)
{
	/* An odd final octet is half a character: the complete characters are
	 * shown and it is dropped (get_bits refuses it), as peers do. */
	uint16_t u[MAX_OCTETS / 2];
	size_t n = 0;
	uint32_t v;
	while (n < MAX_OCTETS / 2 && get_bits(b, 16, &v))
		u[n++] = (uint16_t)v;
	while (n > 0 && u[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++) {
		uint32_t cp = u[i];
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 &&
		    u[i + 1] <= 0xDFFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
			i++;
		}
		if (!put_cp(o, cp)) /* a lone surrogate becomes U+FFFD there */
			return text_overflow(why);
	}
	return 0;
}

static int decode_gsm7(struct bitrd *b, struct u8out *o, const char **why)
{
	size_t nbits = bits_left(b);
	uint8_t oct[MAX_OCTETS] = {0};
	size_t i = 0;
	uint32_t v;
	if (b->pos % 8 == 0) {
		/* LSB-first septets sit in the low bits of a cut final octet: take
		 * whole octets from the hex; the bit count only sets the septets. */
		size_t first = b->pos / 8, last = (b->pos + nbits + 7) / 8;
		memcpy(oct, b->p + first, last - first);
		b->pos = b->n;
	} else {
		while (bits_left(b) >= 8 && get_bits(b, 8, &v))
			oct[i++] = (uint8_t)v;
		size_t rest = bits_left(b);
		if (rest && get_bits(b, (unsigned)rest, &v))
			oct[i] = (uint8_t)(v << (8 - rest));
	}
	size_t nsept = nbits / 7;
	uint8_t sept[MAX_OCTETS * 8 / 7 + 1];
	for (size_t k = 0; k < nsept; k++) {
		size_t bit = k * 7, byte = bit / 8, sh = bit % 8;
		unsigned w = oct[byte] | (byte + 1 < MAX_OCTETS ? oct[byte + 1] << 8 : 0);
		sept[k] = (uint8_t)((w >> sh) & 0x7F);
	}
	if (nbits % 8 == 0 && nsept > 0 && nsept % 8 == 0 &&
	    (sept[nsept - 1] == 0x00 || sept[nsept - 1] == 0x0D))
		nsept--; /* the eighth septet of a full octet group is padding */
	for (size_t k = 0; k < nsept; k++) {
		uint32_t cp;
		if (sept[k] == 0x1B) {
			if (k + 1 == nsept)
				break;
			cp = gsm7_ext(sept[++k]);
		} else {
			cp = gsm7_basic[sept[k]];
		}
		if (!put_cp(o, cp))
			return text_overflow(why);
	}
	return 0;
}

static int decode_text(struct bitrd *b, struct gw_sds_text *t, const char **why)
{
	struct u8out o = {t->text, sizeof(t->text), 0};
	int rc;
	t->text[0] = '\0';
	switch (t->coding) {
	case GW_SDS_CODING_GSM7:
		rc = decode_gsm7(b, &o, why);
		break;
	case GW_SDS_CODING_UTF16BE:
		rc = decode_utf16(b, &o, why);
		break;
	case GW_SDS_CODING_LATIN1:
		rc = decode_8bit(b, false, &o, why);
		break;
	case GW_SDS_CODING_LATIN9:
		rc = decode_8bit(b, true, &o, why);
		break;
	default:
		t->coding_fallback = true;
		rc = decode_8bit(b, false, &o, why);
		break;
	}
	t->len = o.len;
	return rc;
}

/* --- PDU decoding --------------------------------------------------------- */

static int bad(const char **why, const char *reason)
{
	*why = reason;
	return -EBADMSG;
}

static int decode_status(const uint8_t *buf, int bits, struct gw_sds_msg *m, const char **why)
{
	if (bits != 16)
		return bad(why, "status SDS must be 16 bits");
	m->kind = GW_SDS_STATUS;
	m->status.value = (uint16_t)(buf[0] << 8 | buf[1]);
	m->status.short_report = (buf[0] & 0xFC) == 0x7C;
	if (m->status.short_report) {
		m->status.sr_type = buf[0] & 3;
		m->status.sr_ref = buf[1];
	}
	return 0;
}

static int decode_simple_text(struct bitrd *b, struct gw_sds_msg *m, const char **why)
{
	uint32_t v;
	m->kind = GW_SDS_TEXT;
	m->text.immediate = m->pid == GW_SDS_PID_SIMPLE_IMMEDIATE;
	if (!get_bits(b, 8, &v))
		return bad(why, "simple text without coding scheme");
	m->text.coding = v & 0x7F;
	return decode_text(b, &m->text, why);
}

/* Skip the store/forward control block (EN 300 392-2 29.4.2.4). */
static int skip_store_fwd(struct bitrd *b, const char **why)
{
	uint32_t type, ndig;
	if (!skip_bits(b, 5) || !get_bits(b, 3, &type))
		return bad(why, "store/forward block truncated");
	bool ok;
	switch (type) {
	case 0: /* SNA */
		ok = skip_bits(b, 8);
		break;
	case 1: /* SSI */
		ok = skip_bits(b, 24);
		break;
	case 2: /* TSI: SSI + address extension */
		ok = skip_bits(b, 48);
		break;
	case 3: /* external subscriber number: digit count, 4 bits per digit and,
		 * when the count is odd, a 4-bit dummy digit that brings the
		 * block back to the octet boundary (EN 300 392-2 29.4.2.4) */
		ok = get_bits(b, 8, &ndig) && skip_bits(b, 4 * ((size_t)ndig + (ndig & 1)));
		break;
	case 7: /* no forward address */
		ok = true;
		break;
	default:
		return bad(why, "reserved forward address type");
	}
	return ok ? 0 : bad(why, "store/forward block truncated");
}

/* User data header of PID 0x8A: find the concatenation element. */
static int decode_udh(struct bitrd *b, struct gw_sds_text *t, const char **why)
{
	uint32_t udhl, iei, iel;
	if (!get_bits(b, 8, &udhl))
		return bad(why, "user data header missing");
	if (bits_left(b) < udhl * 8)
		return bad(why, "user data header longer than the PDU");
	size_t end = b->pos + udhl * 8;
	while (b->pos < end) {
		if (end - b->pos < 16 || !get_bits(b, 8, &iei) || !get_bits(b, 8, &iel) ||
		    end - b->pos < iel * 8)
			return bad(why, "UDH element overruns the header");
		if ((iei == 0x00 && iel == 3) || (iei == 0x08 && iel == 4)) {
			uint32_t ref = 0, total = 0, seq = 0;
			get_bits(b, iei ? 16 : 8, &ref);
			get_bits(b, 8, &total);
			get_bits(b, 8, &seq);
			/* TS 23.040 9.2.3.24.1: a sequence of 0 or past the
			 * total, or a total of 0, makes the element void; the
			 * part is then shown as a text of its own. */
			if (total == 0 || seq == 0 || seq > total)
				continue;
			t->concat = true;
			t->concat_ref = (uint16_t)ref;
			t->concat_total = (uint8_t)total;
			t->concat_seq = (uint8_t)seq;
		} else {
			skip_bits(b, (size_t)iel * 8); /* length checked above */
		}
	}
	return 0;
}

static int decode_transfer(struct bitrd *b, struct gw_sds_msg *m, const char **why)
{
	struct gw_sds_text *t = &m->text;
	uint32_t drr, ss, sf, ref, th, ts;
	m->kind = GW_SDS_TEXT;
	t->sdstl = true;
	t->immediate = m->pid == GW_SDS_PID_IMMEDIATE_TEXT;
	if (!get_bits(b, 2, &drr) || !get_bits(b, 1, &ss) || !get_bits(b, 1, &sf) ||
	    !get_bits(b, 8, &ref))
		return bad(why, "SDS-TRANSFER header truncated");
	t->report_req = (uint8_t)drr;
	t->service_sel = (uint8_t)ss;
	t->store_fwd = sf;
	t->ref = (uint8_t)ref;
	int rc;
	if (sf && (rc = skip_store_fwd(b, why)) < 0)
		return rc;
	if (!get_bits(b, 8, &th))
		return bad(why, "text header missing");
	t->coding = th & 0x7F;
	if (th & 0x80) {
		if (!get_bits(b, 24, &ts))
			return bad(why, "timestamp truncated");
		t->has_timestamp = true;
		t->timestamp = ts;
	}
	if (m->pid == GW_SDS_PID_UDH_TEXT && (rc = decode_udh(b, t, why)) < 0)
		return rc;
	return decode_text(b, t, why);
}

static int decode_sdstl(struct bitrd *b, struct gw_sds_msg *m, const char **why)
{
	uint32_t type, v, status, ref;
	if (!get_bits(b, 4, &type))
		return bad(why, "SDS-TL message type missing");
	switch (type) {
	case 0:
		return decode_transfer(b, m, why);
	case 1: /* SDS-REPORT: ack-required(1) reserved(2) store/forward(1) status ref */
		m->kind = GW_SDS_REPORT;
		if (!get_bits(b, 4, &v) || !get_bits(b, 8, &status) || !get_bits(b, 8, &ref))
			return bad(why, "SDS-REPORT truncated");
		m->report.ack_required = v & 8;
		m->report.store_fwd = v & 1;
		m->report.status = (uint8_t)status;
		m->report.ref = (uint8_t)ref;
		return 0;
	case 2: /* SDS-ACK: reserved(4) status ref */
		m->kind = GW_SDS_ACK;
		if (!get_bits(b, 4, &v) || !get_bits(b, 8, &status) || !get_bits(b, 8, &ref))
			return bad(why, "SDS-ACK truncated");
		m->report.status = (uint8_t)status;
		m->report.ref = (uint8_t)ref;
		return 0;
	default:
		*why = "unsupported SDS-TL message type";
		return -EPROTONOSUPPORT;
	}
}

/*
 * LIP short location report (TS 100 392-18-1 6.2.1): 76 bits after the PID.
 * Velocity per 6.3.17 as quoted in TL TetraLib.h: 0..28 km/h in 1 km/h steps,
 * above that v = 16 * 1.038^(K - 13) km/h; 127 = unknown (tetra-kit).
 */
static int decode_lip(struct bitrd *b, struct gw_sds_msg *m, const char **why)
{
	struct gw_sds_lip *l = &m->lip;
	uint32_t type, te = 0, lon = 0, lat = 0, pe = 0, vel = 0, dir = 0, at = 0, ad = 0;
	m->kind = GW_SDS_LIP;
	if (!get_bits(b, 2, &type))
		return bad(why, "LIP PDU type missing");
	if (type != 0) {
		*why = "LIP PDU type is not a short location report";
		return -EPROTONOSUPPORT;
	}
	if (bits_left(b) < 74)
		return bad(why, "LIP short location report shorter than 84 bits");
	get_bits(b, 2, &te);
	get_bits(b, 25, &lon);
	get_bits(b, 24, &lat);
	get_bits(b, 3, &pe);
	get_bits(b, 7, &vel);
	get_bits(b, 4, &dir);
	get_bits(b, 1, &at);
	get_bits(b, 8, &ad);
	l->time_elapsed = (uint8_t)te;
	l->lon_raw = (int32_t)lon - (lon & (1u << 24) ? (1 << 25) : 0);
	l->lat_raw = (int32_t)lat - (lat & (1u << 23) ? (1 << 24) : 0);
	l->lon_deg = l->lon_raw * 360.0 / 33554432.0;
	l->lat_deg = l->lat_raw * 180.0 / 16777216.0;
	l->pos_error = (uint8_t)pe;
	l->velocity = (uint8_t)vel;
	if (vel == 127)
		l->speed_kmh = -1.0;
	else if (vel <= 28)
		l->speed_kmh = vel;
	else
		l->speed_kmh = 16.0 * pow(1.038, (double)vel - 13.0);
	l->direction = (uint8_t)dir;
	l->heading_deg = dir * 22.5;
	l->add_type = (uint8_t)at;
	l->add_data = (uint8_t)ad;
	l->bits_used = (int)b->pos;
	return 0;
}

int gw_sds_decode(int ai_service, int bits, const char *hex, struct gw_sds_msg *out,
		  const char **why)
{
	const char *dummy;
	uint8_t buf[MAX_OCTETS];
	uint32_t pid;
	assert(out != NULL);
	if (why == NULL)
		why = &dummy;
	*why = "";
	memset(out, 0, sizeof(*out));
	if (hex == NULL) {
		*why = "no PDU";
		return -EINVAL;
	}
	if (ai_service != GW_SDS_AI_SDSTL && ai_service != GW_SDS_AI_STATUS) {
		*why = "AI service is neither SDS type 4 (12) nor status (13)";
		return -EPROTONOSUPPORT;
	}
	int rc = parse_hex(hex, bits, buf, why);
	if (rc < 0)
		return rc;
	if (ai_service == GW_SDS_AI_STATUS)
		return decode_status(buf, bits, out, why);

	struct bitrd b = {buf, (size_t)bits, 0};
	if (!get_bits(&b, 8, &pid))
		return bad(why, "PDU shorter than its protocol identifier");
	out->pid = (uint8_t)pid;
	switch (pid) {
	case GW_SDS_PID_SIMPLE_TEXT:
	case GW_SDS_PID_SIMPLE_IMMEDIATE:
		return decode_simple_text(&b, out, why);
	case GW_SDS_PID_LIP:
		return decode_lip(&b, out, why);
	case GW_SDS_PID_TEXT:
	case GW_SDS_PID_IMMEDIATE_TEXT:
	case GW_SDS_PID_UDH_TEXT:
		return decode_sdstl(&b, out, why);
	default:
		*why = "unsupported protocol identifier";
		return -EPROTONOSUPPORT;
	}
}

/* --- encoding ------------------------------------------------------------- */

/* Octets one code point takes in the coding (8859-1/15: 1, UTF-16: 2 or 4). */
static size_t cp_size(int coding, uint32_t cp)
{
	if (coding != GW_SDS_CODING_UTF16BE)
		return 1;
	return cp >= 0x10000 ? 4 : 2;
}

static size_t put_char(int coding, uint32_t cp, uint8_t *d)
{
	if (coding == GW_SDS_CODING_LATIN1) {
		d[0] = (uint8_t)cp;
		return 1;
	}
	if (coding == GW_SDS_CODING_LATIN9) {
		d[0] = (uint8_t)cp_to_latin9(cp);
		return 1;
	}
	if (cp < 0x10000) {
		d[0] = (uint8_t)(cp >> 8);
		d[1] = (uint8_t)cp;
		return 2;
	}
	uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
	d[0] = (uint8_t)(hi >> 8);
	d[1] = (uint8_t)hi;
	d[2] = (uint8_t)(lo >> 8);
	d[3] = (uint8_t)lo;
	return 4;
}

/* The narrowest coding that holds all of utf8; -EINVAL for invalid UTF-8. */
static int choose_coding(const char *utf8)
{
	bool latin1 = true, latin9 = true;
	size_t i = 0;
	int32_t cp;
	while ((cp = utf8_next(utf8, &i)) > 0) {
		if (cp > 0xFF)
			latin1 = false;
		if (cp_to_latin9((uint32_t)cp) < 0)
			latin9 = false;
	}
	if (cp < 0)
		return -EINVAL;
	if (latin1)
		return GW_SDS_CODING_LATIN1;
	return latin9 ? GW_SDS_CODING_LATIN9 : GW_SDS_CODING_UTF16BE;
}

/* Bytes 0..3 of an SDS-TRANSFER: PID, type 0 | report req | standard report only, ref, coding. */
static size_t transfer_header(uint8_t *d, uint8_t pid, int rr, uint8_t ref, int coding)
{
	d[0] = pid;
	d[1] = (uint8_t)(rr << 2 | 0x02);
	d[2] = ref;
	d[3] = (uint8_t)coding;
	return 4;
}

int gw_sds_encode_text(const char *utf8, enum gw_sds_report_req rr, uint8_t ref, char *hex,
		       size_t hexsz, int *bits)
{
	if (utf8 == NULL || rr < GW_SDS_RR_NONE || rr > GW_SDS_RR_BOTH)
		return -EINVAL;
	int coding = choose_coding(utf8);
	if (coding < 0)
		return coding;
	uint8_t pdu[MAX_OCTETS];
	size_t n = transfer_header(pdu, GW_SDS_PID_TEXT, rr, ref, coding);
	size_t i = 0;
	int32_t cp;
	while ((cp = utf8_next(utf8, &i)) > 0) {
		if ((n + cp_size(coding, (uint32_t)cp)) * 8 > GW_SDS_MAX_BITS)
			return -EMSGSIZE;
		n += put_char(coding, (uint32_t)cp, pdu + n);
	}
	int rc = to_hex(pdu, n, hex, hexsz, bits);
	return rc < 0 ? rc : coding;
}

int gw_sds_encode_status(uint16_t value, char *hex, size_t hexsz, int *bits)
{
	uint8_t b[2] = {(uint8_t)(value >> 8), (uint8_t)value};
	return to_hex(b, 2, hex, hexsz, bits);
}

int gw_sds_encode_report(uint8_t pid, uint8_t status, uint8_t ref, char *hex, size_t hexsz,
			 int *bits)
{
	if (pid < 0x80)
		return -EINVAL;
	uint8_t b[4] = {pid, 0x10, status, ref};
	return to_hex(b, 4, hex, hexsz, bits);
}

#define UDH_PART_HDR 10 /* PID, byte 1, ref, coding, UDH 05 00 03 ref total seq */

int gw_sds_split_text(const char *utf8, enum gw_sds_report_req rr, uint8_t ref, int max_bits,
		      struct gw_sds_part *parts, size_t max_parts)
{
	if (utf8 == NULL || rr < GW_SDS_RR_NONE || rr > GW_SDS_RR_BOTH || max_bits < 1 ||
	    max_bits > GW_SDS_MAX_BITS || (parts == NULL && max_parts > 0))
		return -EINVAL;
	int coding = choose_coding(utf8);
	if (coding < 0)
		return coding;
	size_t max_oct = (size_t)max_bits / 8, textlen = 0, i = 0;
	int32_t cp;
	while ((cp = utf8_next(utf8, &i)) > 0)
		textlen += cp_size(coding, (uint32_t)cp);

	uint8_t pdu[MAX_OCTETS];
	if (4 + textlen <= max_oct) {
		if (max_parts < 1)
			return -EMSGSIZE;
		size_t n = transfer_header(pdu, GW_SDS_PID_TEXT, rr, ref, coding);
		for (i = 0; (cp = utf8_next(utf8, &i)) > 0;)
			n += put_char(coding, (uint32_t)cp, pdu + n);
		parts[0].ref = ref;
		return to_hex(pdu, n, parts[0].hex, sizeof(parts[0].hex), &parts[0].bits) < 0
			   ? -ENOBUFS
			   : 1;
	}
	if (max_oct <= UDH_PART_HDR)
		return -EMSGSIZE;
	size_t cap = max_oct - UDH_PART_HDR;

	/* Pass 1: count parts, never splitting a character. */
	size_t total = 1, used = 0;
	for (i = 0; (cp = utf8_next(utf8, &i)) > 0;) {
		size_t sz = cp_size(coding, (uint32_t)cp);
		if (sz > cap)
			return -EMSGSIZE;
		if (used + sz > cap) {
			total++;
			used = 0;
		}
		used += sz;
	}
	if (total > 255 || total > max_parts)
		return -EMSGSIZE;

	/* Pass 2: build each part. */
	i = 0;
	cp = utf8_next(utf8, &i);
	for (size_t seq = 1; seq <= total; seq++) {
		uint8_t pref = (uint8_t)(ref + seq - 1);
		size_t n = transfer_header(pdu, GW_SDS_PID_UDH_TEXT, rr, pref, coding);
		const uint8_t udh[6] = {5, 0x00, 3, ref, (uint8_t)total, (uint8_t)seq};
		memcpy(pdu + n, udh, sizeof(udh));
		n += sizeof(udh);
		while (cp > 0 && n - UDH_PART_HDR + cp_size(coding, (uint32_t)cp) <= cap) {
			n += put_char(coding, (uint32_t)cp, pdu + n);
			cp = utf8_next(utf8, &i);
		}
		parts[seq - 1].ref = pref;
		if (to_hex(pdu, n, parts[seq - 1].hex, sizeof(parts[seq - 1].hex),
			   &parts[seq - 1].bits) < 0)
			return -ENOBUFS;
	}
	return (int)total;
}

/* --- names ---------------------------------------------------------------- */

/* EN 300 392-2 table 29.16 as reproduced in FTL sds/sds.go. */
static const char *const delivery_names[0x82] = {
    [0x00] = "receipt acknowledged by destination",
    [0x01] = "receipt report acknowledgement",
    [0x02] = "consumed by destination",
    [0x03] = "consumed report acknowledgement",
    [0x04] = "message forwarded to external network",
    [0x05] = "sent to group, acknowledgements prevented",
    [0x06] = "concatenation part receipt acknowledged by destination",
    [0x20] = "congestion, message stored by SwMI",
    [0x21] = "message stored by SwMI",
    [0x22] = "destination not reachable, message stored by SwMI",
    [0x40] = "network overload",
    [0x41] = "service permanently not available on BS",
    [0x42] = "service temporarily not available on BS",
    [0x43] = "source is not authorized for SDS",
    [0x44] = "destination is not authorized for SDS",
    [0x45] = "unknown destination, gateway or service centre address",
    [0x46] = "unknown forward address",
    [0x47] = "group address with individual service",
    [0x48] = "validity period expired, message not received by far end",
    [0x49] = "validity period expired, message not consumed by far end",
    [0x4A] = "delivery failed",
    [0x4B] = "destination not registered on system",
    [0x4C] = "destination queue full",
    [0x4D] = "message too long for destination or gateway",
    [0x4E] = "destination does not support SDS-TL data transfer service PDUs",
    [0x4F] = "destination host not connected",
    [0x50] = "protocol not supported",
    [0x51] = "data coding scheme not supported",
    [0x52] = "destination memory full, message discarded",
    [0x53] = "destination not accepting SDS messages",
    [0x54] = "concatenated message too long",
    [0x56] = "destination address administratively prohibited",
    [0x57] = "cannot route to external network",
    [0x58] = "unknown external subscriber number",
    [0x59] = "negative report acknowledgement",
    [0x5A] = "destination not reachable, message delivery failed",
    [0x5B] = "text distribution error, message discarded",
    [0x5C] = "corrupt information element, message discarded",
    [0x5D] = "not all concatenation parts received",
    [0x5E] = "destination engaged in another service, blocked by SwMI",
    [0x5F] = "destination engaged in another service, blocked by destination",
    [0x60] = "destination memory full",
    [0x61] = "destination memory available",
    [0x62] = "start pending messages",
    [0x63] = "no pending messages",
    [0x80] = "stop sending",
    [0x81] = "start sending",
};

enum gw_sds_dclass gw_sds_delivery_class(uint8_t status)
{
	switch (status & 0xE0) {
	case 0x00:
		return GW_SDS_DC_SUCCESS;
	case 0x20:
		return GW_SDS_DC_TEMPORARY;
	case 0x40:
		return GW_SDS_DC_FAILED;
	case 0x60:
		return GW_SDS_DC_FLOW;
	case 0x80:
		return GW_SDS_DC_E2E;
	default:
		return GW_SDS_DC_RESERVED;
	}
}

const char *gw_sds_delivery_name(uint8_t status)
{
	if (status < sizeof(delivery_names) / sizeof(delivery_names[0]) && delivery_names[status])
		return delivery_names[status];
	switch (gw_sds_delivery_class(status)) {
	case GW_SDS_DC_SUCCESS:
		return "success (unnamed code)";
	case GW_SDS_DC_TEMPORARY:
		return "temporary error (unnamed code)";
	case GW_SDS_DC_FAILED:
		return "data transfer failed (unnamed code)";
	case GW_SDS_DC_FLOW:
		return "flow control (unnamed code)";
	case GW_SDS_DC_E2E:
		return "end-to-end control (unnamed code)";
	default:
		return "reserved";
	}
}

/* TS 100 392-18-1 6.3.63 as listed by tetra-kit (cmce_sds_lip.cc). */
const char *gw_sds_lip_pos_error_name(int code)
{
	static const char *const names[8] = {
	    "<2 m", "<20 m", "<200 m", "<2 km", "<20 km", "<=200 km", ">200 km", "unknown",
	};
	return code >= 0 && code < 8 ? names[code] : "invalid";
}

/* Pre-coded status 0 is the emergency status (EN 300 392-2; unconfirmed: check against the
   standard); 0x8000-0xFFFF is the user range TL accepts (tetra-pei.md section 3). */
const char *gw_sds_status_name(uint16_t value)
{
	if (value == 0)
		return "emergency";
	if ((value >> 8 & 0xFC) == 0x7C)
		return "SDS-SHORT-REPORT";
	return value >= 0x8000 ? "user-defined status" : "status";
}

/* TS 100 392-18-1 V1.3.1 6.3.64 as reproduced in TL TetraLib.h. */
const char *gw_sds_lip_reason_name(int code)
{
	static const char *const names[21] = {
	    "powered on",
	    "powered off",
	    "emergency condition detected",
	    "push-to-talk condition detected",
	    "status",
	    "transmit inhibit mode on",
	    "transmit inhibit mode off",
	    "system access (TMO on)",
	    "DMO on",
	    "enter service (after being out of service)",
	    "service loss",
	    "cell reselection or change of serving cell",
	    "low battery",
	    "connected to a car kit",
	    "disconnected from a car kit",
	    "asks for transfer initialization configuration",
	    "arrival at destination",
	    "arrival at a defined location",
	    "approaching a defined location",
	    "SDS type-1 entered",
	    "user application initiated",
	};
	return code >= 0 && code < 21 ? names[code] : "unnamed";
}

/* --- reassembly ----------------------------------------------------------- */

void gw_sds_reasm_init(struct gw_sds_reasm *r, uint32_t timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->timeout_ms = timeout_ms;
}

static bool slot_expired(const struct gw_sds_reasm *r, const struct gw_sds_reasm_slot *s,
			 uint64_t now_ms)
{
	return now_ms >= s->last_ms && now_ms - s->last_ms > r->timeout_ms;
}

static void slot_clear(struct gw_sds_reasm_slot *s)
{
	s->used = false;
	s->have = 0;
	memset(s->got, 0, sizeof(s->got));
}

static struct gw_sds_reasm_slot *slot_for(struct gw_sds_reasm *r, const char *sender, uint16_t ref,
					  uint64_t now_ms)
{
	struct gw_sds_reasm_slot *s, *pick = NULL;
	for (s = r->slot; s < r->slot + GW_SDS_REASM_SLOTS; s++) {
		if (s->used && s->ref == ref && strcmp(s->sender, sender) == 0) {
			if (slot_expired(r, s, now_ms))
				slot_clear(s);
			return s;
		}
	}
	for (s = r->slot; s < r->slot + GW_SDS_REASM_SLOTS; s++) {
		if (!s->used || slot_expired(r, s, now_ms))
			return s;
		if (pick == NULL || s->last_ms < pick->last_ms)
			pick = s;
	}
	return pick;
}

int gw_sds_reasm_add(struct gw_sds_reasm *r, const char *sender, const struct gw_sds_msg *msg,
		     uint64_t now_ms, char *out, size_t outsz)
{
	if (msg == NULL || msg->kind != GW_SDS_TEXT || !msg->text.concat || sender == NULL ||
	    strnlen(sender, GW_SDS_ID_MAX) >= GW_SDS_ID_MAX)
		return -EINVAL;
	const struct gw_sds_text *t = &msg->text;
	if (t->concat_seq < 1 || t->concat_seq > t->concat_total || t->len >= GW_SDS_TEXT_MAX)
		return -EINVAL;
	if (t->concat_total > GW_SDS_REASM_PARTS)
		return -EMSGSIZE;

	struct gw_sds_reasm_slot *s = slot_for(r, sender, t->concat_ref, now_ms);
	if (s->used && !(s->ref == t->concat_ref && strcmp(s->sender, sender) == 0))
		slot_clear(s); /* evicted */
	if (!s->used) {
		s->used = true;
		strcpy(s->sender, sender);
		s->ref = t->concat_ref;
		s->total = t->concat_total;
	} else if (s->total != t->concat_total) {
		return -EINVAL;
	}
	s->last_ms = now_ms;
	int k = t->concat_seq - 1;
	if (s->got[k])
		return 0;
	memcpy(s->part[k], t->text, t->len);
	s->len[k] = (uint16_t)t->len;
	s->got[k] = true;
	s->have++;
	if (s->have < s->total)
		return 0;

	size_t sum = 0;
	for (k = 0; k < s->total; k++)
		sum += s->len[k];
	if (out == NULL || sum + 1 > outsz) {
		slot_clear(s);
		return -EMSGSIZE;
	}
	for (sum = 0, k = 0; k < s->total; k++) {
		memcpy(out + sum, s->part[k], s->len[k]);
		sum += s->len[k];
	}
	out[sum] = '\0';
	slot_clear(s);
	return 1;
}

int gw_sds_reasm_expire(struct gw_sds_reasm *r, uint64_t now_ms, char *sender, size_t sendersz,
			int *have, int *total)
{
	for (struct gw_sds_reasm_slot *s = r->slot; s < r->slot + GW_SDS_REASM_SLOTS; s++) {
		if (!s->used || !slot_expired(r, s, now_ms))
			continue;
		if (sender && sendersz)
			snprintf(sender, sendersz, "%s", s->sender);
		if (have)
			*have = s->have;
		if (total)
			*total = s->total;
		slot_clear(s);
		return 1;
	}
	return 0;
}
