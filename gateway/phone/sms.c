/*
 * sms: SMS PDU codec for the modem's PDU mode. Pure code: no I/O, no heap.
 *
 * Encoding builds SMS-SUBMIT TPDUs behind an empty SMSC field ("00": the SIM's
 * service centre): GSM 7-bit when every character is in the default alphabet
 * or its escape table, UCS-2 (UTF-16BE, surrogate pairs outside the BMP)
 * otherwise; texts longer than 160 septets / 70 units are cut into parts of
 * 153 / 67 with a concatenation UDH (IEI 00), never between the two septets of
 * an escape or the two units of a surrogate pair. Decoding walks the TPDU with
 * an explicit bounds check before every read and turns each failure into a
 * negative errno plus a reason. Reassembly is a fixed caller-owned table.
 *
 * Field layouts used (3GPP TS 23.040 v4+): SMS-DELIVER 9.2.2.1, SMS-SUBMIT
 * 9.2.2.2, SMS-STATUS-REPORT 9.2.2.3, address fields 9.1.2.5 (length in
 * semi-octets; alphanumeric TON 5 as packed 7-bit), TP-VP relative 9.2.3.12.1,
 * TP-SCTS 9.2.3.11 (swapped BCD, zone in signed quarter-hours with the sign in
 * bit 3 of the zone octet), TP-UDL/TP-UD 9.2.3.16/9.2.3.24 (septet fill after
 * the UDH), concatenation IEs 00 and 08 9.2.3.24.1/.8 (an IE with seq 0 or
 * seq > total is ignored). TP-DCS coding groups and the GSM 7-bit default
 * alphabet and extension table: 3GPP TS 23.038 section 4 and 6.2.1 (reserved
 * groups and the reserved alphabet value are read as GSM 7-bit, as 23.038
 * tells receivers to). PDU-mode framing (SMSC field first, AT+CMGS length
 * without it): TS 27.005 and /work/shared/reference/modem-at.md 1.4 and 2.
 * National language shift tables (IEI 24/25) are not supported: such text is
 * decoded with the default table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/hex.h"
#include "phone/sms.h"

#define GSM7_SINGLE 160
#define GSM7_MULTI  153
#define UCS2_SINGLE 70
#define UCS2_MULTI  67
#define ESC	    0x1B
#define NO_CHAR	    0xFFFFFFFFu

static int fail(char *err, int errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, int errlen, int rc, const char *fmt, ...)
{
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, (size_t)errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- GSM 03.38 default alphabet and its extension table -------------- */

/* Septet -> Unicode. 0x1B is the escape to the extension table, never a character. */
static const uint16_t gsm7_basic[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, /* @ £ $ ¥ è é ù ì */
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, /* ò Ç LF Ø ø CR Å å */
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, /* Δ _ Φ Γ Λ Ω Π Ψ */
    0x03A3, 0x0398, 0x039E, 0xFFFF, 0x00C6, 0x00E6, 0x00DF, 0x00C9, /* Σ Θ Ξ ESC Æ æ ß É */
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, /* SP ! " # ¤ % & ' */
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, /* ( ) * + , - . / */
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, /* 0-7 */
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, /* 8 9 : ; < = > ? */
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, /* ¡ A-G */
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, /* H-O */
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, /* P-W */
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, /* X Y Z Ä Ö Ñ Ü § */
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, /* ¿ a-g */
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, /* h-o */
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, /* p-w */
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, /* x y z ä ö ñ ü à */
};

/* Extension table: ESC + septet -> Unicode. */
static const struct {
	uint8_t septet;
	uint16_t cp;
} gsm7_ext[] = {
    {0x0A, 0x000C}, /* form feed */
    {0x14, 0x005E}, /* ^ */
    {0x28, 0x007B}, /* { */
    {0x29, 0x007D}, /* } */
    {0x2F, 0x005C}, /* \ */
    {0x3C, 0x005B}, /* [ */
    {0x3D, 0x007E}, /* ~ */
    {0x3E, 0x005D}, /* ] */
    {0x40, 0x007C}, /* | */
    {0x65, 0x20AC}, /* € */
};

#define N_EXT (sizeof(gsm7_ext) / sizeof(gsm7_ext[0]))

/* Septet for cp: 0..127 in the default table, 0x100|septet via the escape, -1 if neither. */
static int gsm7_lookup(uint32_t cp)
{
	for (int i = 0; i < 128; i++)
		if (i != ESC && gsm7_basic[i] == cp)
			return i;
	for (size_t i = 0; i < N_EXT; i++)
		if (gsm7_ext[i].cp == cp)
			return 0x100 | gsm7_ext[i].septet;
	return -1;
}

static uint32_t gsm7_ext_cp(uint8_t septet)
{
	for (size_t i = 0; i < N_EXT; i++)
		if (gsm7_ext[i].septet == septet)
			return gsm7_ext[i].cp;
	return NO_CHAR;
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* Read one code point at *p. Returns 1 and advances, 0 at the NUL, -EILSEQ. */
static int utf8_next(const char **p, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t c = s[0], min;
	int n;

	if (c == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		*p += 1;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 1, c &= 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 2, c &= 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 3, c &= 0x07, min = 0x10000;
	} else {
		return -EILSEQ;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -EILSEQ; /* also stops at the NUL */
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -EILSEQ;
	*cp = c;
	*p += n + 1;
	return 1;
}

/* Append cp to out[*pos], keeping room for the NUL. Returns 0 or -ENOSPC. */
static int put_utf8(char *out, size_t outlen, size_t *pos, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (*pos + n + 1 > outlen)
		return -ENOSPC;
	memcpy(out + *pos, b, n);
	*pos += n;
	out[*pos] = '\0';
	return 0;
}

/* ---- hex and packing ----------------------------------------------------- */

/* Hex string to octets. Returns the octet count or a negative errno. */
static int hex_decode(const char *hex, uint8_t *out, size_t max, char *err, int errlen)
{
	size_t len = strlen(hex);

	if (len == 0)
		return fail(err, errlen, -EINVAL, "empty PDU");
	if (len % 2)
		return fail(err, errlen, -EINVAL, "odd number of hex digits (%zu)", len);
	if (len / 2 > max)
		return fail(err, errlen, -E2BIG, "PDU of %zu octets is longer than %zu", len / 2,
			    max);
	for (size_t i = 0; i < len; i += 2) {
		int hi = gw_hexval(hex[i]), lo = gw_hexval(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return fail(err, errlen, -EINVAL, "bad hex digit at offset %zu",
				    hi < 0 ? i : i + 1);
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

static void hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xF];
	}
	out[2 * n] = '\0';
}

/* Septet number idx of a packed 7-bit stream of nbytes octets (idx from bit 0). */
static uint8_t septet_at(const uint8_t *b, size_t nbytes, size_t idx)
{
	size_t bit = idx * 7, byte = bit / 8;
	unsigned sh = bit % 8;
	unsigned v = b[byte] >> sh;
	if (sh > 1 && byte + 1 < nbytes)
		v |= (unsigned)b[byte + 1] << (8 - sh);
	return (uint8_t)(v & 0x7F);
}

/* Write septet s at septet position idx of a zeroed octet buffer. */
static void put_septet(uint8_t *b, size_t idx, uint8_t s)
{
	size_t bit = idx * 7, byte = bit / 8;
	unsigned sh = bit % 8;
	b[byte] |= (uint8_t)(s << sh);
	if (sh > 1)
		b[byte + 1] |= (uint8_t)(s >> (8 - sh));
}

/* n septets to UTF-8, escapes resolved. Returns 0 or -ENOSPC. */
static int gsm7_to_utf8(const uint8_t *sept, size_t n, char *out, size_t outlen, size_t *olen)
{
	size_t pos = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		uint32_t cp;
		if (sept[i] != ESC) {
			cp = gsm7_basic[sept[i]];
		} else if (i + 1 == n) {
			continue; /* a lone escape at the end carries no character */
		} else {
			uint8_t s = sept[++i];
			cp = gsm7_ext_cp(s);
			/* 23.038: an unknown extension shows the default-table character;
			 * ESC ESC (reserved for further extension) shows a space. */
			if (cp == NO_CHAR)
				cp = s == ESC ? 0x20 : gsm7_basic[s];
		}
		if (put_utf8(out, outlen, &pos, cp) < 0)
			return -ENOSPC;
	}
	*olen = pos;
	return 0;
}

/* ---- addresses ----------------------------------------------------------- */

/*
 * Check a destination and split it: international "+<digits>" or national
 * "<digits>", 1..20 digits. Returns the digit count or -EINVAL.
 */
static int parse_number(const char *num, const char **digits, uint8_t *toa, char *err, int errlen)
{
	if (!num)
		return fail(err, errlen, -EINVAL, "no destination number");
	*toa = 0x81;
	if (num[0] == '+') {
		*toa = 0x91;
		num++;
	}
	size_t n = strlen(num);
	if (n == 0 || n > 20)
		return fail(err, errlen, -EINVAL, "number needs 1..20 digits, has %zu", n);
	for (size_t i = 0; i < n; i++)
		if (num[i] < '0' || num[i] > '9')
			return fail(err, errlen, -EINVAL, "non-digit '%c' in number", num[i]);
	*digits = num;
	return (int)n;
}

/* Address field (length in semi-octets, TOA, swapped BCD). Returns octets written. */
static size_t put_address(uint8_t *o, const char *digits, int n, uint8_t toa)
{
	o[0] = (uint8_t)n;
	o[1] = toa;
	for (int i = 0; i < n; i += 2) {
		uint8_t lo = (uint8_t)(digits[i] - '0');
		uint8_t hi = i + 1 < n ? (uint8_t)(digits[i + 1] - '0') : 0xF;
		o[2 + i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 2 + (size_t)(n + 1) / 2;
}

/*
 * Decode nsemi semi-octets of an address value: digits (with '+' for TON 1,
 * "*#abc" for A..E) or, for TON 5, packed GSM 7-bit text. A filler F is allowed
 * only as the last semi-octet. Returns 0 or a negative errno.
 */
static int get_address(const uint8_t *b, int nsemi, uint8_t toa, char *out, size_t outlen,
		       char *err, int errlen)
{
	static const char digit[] = "0123456789*#abc";
	int ton = (toa >> 4) & 7;
	size_t pos = 0;

	out[0] = '\0';
	if (ton == 5) {
		uint8_t sept[GW_SMS_ADDR_MAX];
		size_t n = (size_t)nsemi * 4 / 7, olen;
		for (size_t i = 0; i < n; i++)
			sept[i] = septet_at(b, ((size_t)nsemi + 1) / 2, i);
		if (gsm7_to_utf8(sept, n, out, outlen, &olen) < 0)
			return fail(err, errlen, -EBADMSG, "alphanumeric address too long");
		return 0;
	}
	if (ton == 1)
		out[pos++] = '+';
	for (int i = 0; i < nsemi; i++) {
		unsigned nib = i & 1 ? b[i / 2] >> 4 : b[i / 2] & 0xF;
		if (nib == 0xF) {
			if (i == nsemi - 1)
				break;
			return fail(err, errlen, -EBADMSG, "filler digit inside an address");
		}
		if (pos + 2 > outlen)
			return fail(err, errlen, -EBADMSG, "address too long");
		out[pos++] = digit[nib];
	}
	out[pos] = '\0';
	return 0;
}

int gw_sms_sender_number(const struct gw_sms_msg *m, char *out, size_t len)
{
	int ton = (m->addr_toa >> 4) & 7;
	const char *digits = ton == 1 && m->addr[0] == '+' ? m->addr + 1 : m->addr;

	if (len)
		out[0] = '\0';
	if (m->type != GW_SMS_DELIVER)
		return -EINVAL;
	if ((ton != 0 && ton != 1 && ton != 2) || !*digits ||
	    strspn(digits, "0123456789") != strlen(digits) || strlen(m->addr) >= len)
		return -EPERM;
	snprintf(out, len, "%s", m->addr);
	return 0;
}

/* ---- encode -------------------------------------------------------------- */

void gw_sms_submit_defaults(struct gw_sms_submit *s)
{
	memset(s, 0, sizeof(*s));
	s->vp = GW_SMS_VP_DEFAULT;
}

int gw_sms_vp_from_minutes(unsigned minutes)
{
	if (minutes <= 12 * 60)
		return minutes <= 5 ? 0 : (int)((minutes + 4) / 5) - 1;
	if (minutes <= 24 * 60)
		return 143 + (int)((minutes - 12 * 60 + 29) / 30);
	if (minutes <= 30 * 1440)
		return 166 + (int)((minutes + 1439) / 1440);
	if (minutes <= 63 * 10080)
		return 192 + (int)((minutes + 10079) / 10080);
	return -ERANGE;
}

/* Units of cp in alphabet a (septets or UTF-16 units) into u[]. Returns 1 or 2. */
static int char_units(uint32_t cp, enum gw_sms_alphabet a, uint16_t u[2])
{
	if (a == GW_SMS_GSM7) {
		int g = gsm7_lookup(cp);
		if (g & 0x100) {
			u[0] = ESC;
			u[1] = (uint16_t)(g & 0x7F);
			return 2;
		}
		u[0] = (uint16_t)g;
		return 1;
	}
	if (cp >= 0x10000) {
		cp -= 0x10000;
		u[0] = (uint16_t)(0xD800 | (cp >> 10));
		u[1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
		return 2;
	}
	u[0] = (uint16_t)cp;
	return 1;
}

/*
 * Take whole characters from *p (valid UTF-8) while they fit in limit units;
 * store them in units (may be NULL). Returns the units taken.
 */
static size_t fill_part(const char **p, enum gw_sms_alphabet a, size_t limit, uint16_t *units)
{
	size_t n = 0;
	for (;;) {
		const char *q = *p;
		uint32_t cp;
		uint16_t u[2];
		if (utf8_next(&q, &cp) <= 0)
			return n;
		int k = char_units(cp, a, u);
		if (n + (size_t)k > limit)
			return n;
		for (int i = 0; i < k; i++, n++)
			if (units)
				units[n] = u[i];
		*p = q;
	}
}

int gw_sms_parts(const char *text, enum gw_sms_alphabet *alphabet)
{
	size_t septets = 0, utf16 = 0;
	bool gsm = true;
	const char *p = text;
	uint32_t cp;
	int rc;

	while ((rc = utf8_next(&p, &cp)) > 0) {
		int g = gsm7_lookup(cp);
		if (g < 0)
			gsm = false;
		septets += g > 0xFF ? 2 : 1;
		utf16 += cp >= 0x10000 ? 2 : 1;
	}
	if (rc < 0)
		return rc;
	enum gw_sms_alphabet a = gsm ? GW_SMS_GSM7 : GW_SMS_UCS2;
	if (alphabet)
		*alphabet = a;
	if (gsm ? septets <= GSM7_SINGLE : utf16 <= UCS2_SINGLE)
		return 1;
	/* Greedy, like the encoder: a pair that does not fit moves to the next part. */
	size_t limit = gsm ? GSM7_MULTI : UCS2_MULTI;
	int parts = 0;
	p = text;
	while (*p) {
		if (++parts > GW_SMS_MAX_PARTS)
			return -EMSGSIZE;
		fill_part(&p, a, limit, NULL);
	}
	return parts;
}

/* Build one SMS-SUBMIT. seq/total are 0 for a single part. */
static void build_submit(const struct gw_sms_submit *s, const char *digits, int ndigits,
			 uint8_t toa, enum gw_sms_alphabet a, const uint16_t *units, size_t n,
			 int seq, int total, struct gw_sms_pdu *pdu)
{
	uint8_t o[GW_SMS_PDU_MAX];
	size_t k = 0;
	bool udh = total > 1;

	memset(o, 0, sizeof(o));
	o[k++] = 0x00;		  /* SMSC: the SIM's */
	o[k++] = (uint8_t)(0x01	  /* TP-MTI SMS-SUBMIT, TP-RD 0 */
			   | 0x10 /* TP-VPF relative */
			   | (s->status_report ? 0x20 : 0) | (udh ? 0x40 : 0));
	o[k++] = 0x00; /* TP-MR: the modem sets it */
	k += put_address(o + k, digits, ndigits, toa);
	o[k++] = 0x00;				 /* TP-PID */
	o[k++] = a == GW_SMS_GSM7 ? 0x00 : 0x08; /* TP-DCS, no class */
	o[k++] = s->vp;
	size_t udl_at = k++;
	uint8_t *ud = o + k;
	size_t hdr = 0;
	if (udh) {
		const uint8_t h[6] = {5, 0x00, 3, s->ref, (uint8_t)total, (uint8_t)seq};
		memcpy(ud, h, sizeof(h));
		hdr = sizeof(h);
	}
	if (a == GW_SMS_GSM7) {
		size_t skip = (hdr * 8 + 6) / 7; /* header plus fill bits, in septets */
		for (size_t i = 0; i < n; i++)
			put_septet(ud, skip + i, (uint8_t)units[i]);
		o[udl_at] = (uint8_t)(skip + n);
		k += ((skip + n) * 7 + 7) / 8;
	} else {
		for (size_t i = 0; i < n; i++) {
			ud[hdr + 2 * i] = (uint8_t)(units[i] >> 8);
			ud[hdr + 2 * i + 1] = (uint8_t)units[i];
		}
		o[udl_at] = (uint8_t)(hdr + 2 * n);
		k += hdr + 2 * n;
	}
	hex_encode(o, k, pdu->hex);
	pdu->tpdu_len = (int)k - 1;
}

int gw_sms_encode(const struct gw_sms_submit *s, struct gw_sms_pdu *pdus, int max_pdus, char *err,
		  int errlen)
{
	const char *digits;
	uint8_t toa;
	enum gw_sms_alphabet a;

	int nd = parse_number(s->to, &digits, &toa, err, errlen);
	if (nd < 0)
		return nd;
	if (!s->text)
		return fail(err, errlen, -EINVAL, "no text");
	int total = gw_sms_parts(s->text, &a);
	if (total == -EILSEQ)
		return fail(err, errlen, total, "text is not valid UTF-8");
	if (total < 0)
		return fail(err, errlen, total, "text needs more than %d parts", GW_SMS_MAX_PARTS);
	if (total > max_pdus)
		return fail(err, errlen, -ENOSPC, "text needs %d parts, room for %d", total,
			    max_pdus);

	size_t limit = total == 1 ? (a == GW_SMS_GSM7 ? GSM7_SINGLE : UCS2_SINGLE)
				  : (a == GW_SMS_GSM7 ? GSM7_MULTI : UCS2_MULTI);
	const char *p = s->text;
	for (int i = 0; i < total; i++) {
		uint16_t units[GSM7_SINGLE];
		size_t n = fill_part(&p, a, limit, units);
		build_submit(s, digits, nd, toa, a, units, n, i + 1, total, &pdus[i]);
	}
	return total;
}

/* ---- decode -------------------------------------------------------------- */

enum gw_sms_status_kind gw_sms_status_kind(uint8_t status)
{
	if (status <= 0x1F)
		return GW_SMS_ST_DELIVERED;
	if (status <= 0x3F)
		return GW_SMS_ST_PENDING;
	return GW_SMS_ST_FAILED;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* TP-SCTS / TP-DT: 7 octets of swapped BCD. A date that is not one gives valid = false. */
static void get_time(const uint8_t t[7], struct gw_sms_time *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int v[6];

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 6; i++) {
		int lo = t[i] & 0xF, hi = t[i] >> 4;
		if (lo > 9 || hi > 9)
			return;
		v[i] = lo * 10 + hi;
	}
	int tens = t[6] & 0x7, units = t[6] >> 4;
	if (units > 9)
		return;
	int q = tens * 10 + units;
	if (t[6] & 0x8)
		q = -q;
	int year = v[0] < 70 ? 2000 + v[0] : 1900 + v[0];
	int mon = v[1], day = v[2];
	if (mon < 1 || mon > 12 || day < 1 ||
	    day > mdays[mon - 1] + (mon == 2 && leap(year) ? 1 : 0) || v[3] > 23 || v[4] > 59 ||
	    v[5] > 59)
		return;
	int64_t secs = days_from_civil(year, mon, day) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
	out->valid = true;
	out->tz_quarters = q;
	out->utc_ms = (secs - (int64_t)q * 900) * 1000;
}

/* TP-DCS (23.038 4). Returns 0 or -ENOTSUP for compressed text. */
static int get_dcs(uint8_t dcs, enum gw_sms_alphabet *a, int *cls, char *err, int errlen)
{
	static const enum gw_sms_alphabet abits[4] = {GW_SMS_GSM7, GW_SMS_8BIT, GW_SMS_UCS2,
						      GW_SMS_GSM7};
	*cls = -1;
	*a = GW_SMS_GSM7;
	switch (dcs >> 4) {
	case 0x0 ... 0x7: /* general data coding, and the automatic-deletion group */
		if (dcs & 0x20)
			return fail(err, errlen, -ENOTSUP, "compressed text (DCS %02X)", dcs);
		if (dcs & 0x10)
			*cls = dcs & 3;
		*a = abits[(dcs >> 2) & 3];
		break;
	case 0xE: /* message waiting, store, UCS-2 */
		*a = GW_SMS_UCS2;
		break;
	case 0xF: /* data coding / message class */
		*a = dcs & 0x4 ? GW_SMS_8BIT : GW_SMS_GSM7;
		*cls = dcs & 3;
		break;
	default: /* 8..B reserved, C/D message waiting: GSM 7-bit */
		break;
	}
	return 0;
}

/* Bounds-checked reader over the decoded octets. */
struct rd {
	const uint8_t *b;
	size_t n, pos;
	char *err;
	int errlen;
};

static int need(struct rd *r, size_t k, const char *what)
{
	if (k > r->n - r->pos)
		return fail(r->err, r->errlen, -EBADMSG,
			    "%s needs %zu octets at offset %zu, only %zu left", what, k, r->pos,
			    r->n - r->pos);
	return 0;
}

static int get_u8(struct rd *r, const char *what, uint8_t *v)
{
	int rc = need(r, 1, what);
	if (rc < 0)
		return rc;
	*v = r->b[r->pos++];
	return 0;
}

/* Address field: length in semi-octets, TOA, value. */
static int read_address(struct rd *r, const char *what, char *out, uint8_t *toa)
{
	uint8_t nsemi;
	int rc = get_u8(r, what, &nsemi);
	if (rc < 0)
		return rc;
	if (nsemi > 20)
		return fail(r->err, r->errlen, -EBADMSG, "%s of %u semi-octets (max 20)", what,
			    nsemi);
	if ((rc = get_u8(r, what, toa)) < 0 || (rc = need(r, (nsemi + 1u) / 2, what)) < 0)
		return rc;
	rc = get_address(r->b + r->pos, nsemi, *toa, out, GW_SMS_ADDR_MAX, r->err, r->errlen);
	r->pos += (nsemi + 1u) / 2;
	return rc;
}

static int read_time(struct rd *r, const char *what, struct gw_sms_time *t)
{
	int rc = need(r, 7, what);
	if (rc < 0)
		return rc;
	get_time(r->b + r->pos, t);
	r->pos += 7;
	return 0;
}

/* Concatenation IEs in the UDH (ud[0] is UDHL). Other IEs are skipped. */
static int read_udh(const uint8_t *ud, size_t hdr_len, struct gw_sms_msg *m, char *err, int errlen)
{
	size_t i = 1;
	while (i < hdr_len) {
		if (i + 2 > hdr_len)
			return fail(err, errlen, -EBADMSG, "UDH ends inside an IE header");
		uint8_t iei = ud[i], iel = ud[i + 1];
		i += 2;
		if (iel > hdr_len - i)
			return fail(err, errlen, -EBADMSG, "IE %02X of %u octets runs past the UDH",
				    iei, iel);
		const uint8_t *d = ud + i;
		uint16_t ref = 0;
		uint8_t total = 0, seq = 0;
		if (iei == 0x00 && iel == 3) {
			ref = d[0], total = d[1], seq = d[2];
		} else if (iei == 0x08 && iel == 4) {
			ref = (uint16_t)(d[0] << 8 | d[1]), total = d[2], seq = d[3];
		}
		/* 23.040 9.2.3.24.1: seq 0 or seq > total means ignore the IE. */
		if (total > 0 && seq > 0 && seq <= total) {
			m->concat = true;
			m->ref = ref;
			m->total = total;
			m->seq = seq;
		}
		i += iel;
	}
	return 0;
}

/* TP-UDL and TP-UD of a DELIVER, with the header and text. */
static int read_user_data(struct rd *r, bool udhi, struct gw_sms_msg *m)
{
	uint8_t udl;
	size_t octets, hdr = 0;
	int rc = get_u8(r, "TP-UDL", &udl);

	if (rc < 0)
		return rc;
	if (m->alphabet == GW_SMS_GSM7) {
		if (udl > GSM7_SINGLE)
			return fail(r->err, r->errlen, -EBADMSG, "TP-UDL %u septets > 160", udl);
		octets = ((size_t)udl * 7 + 7) / 8;
	} else {
		if (udl > GW_SMS_UD_MAX)
			return fail(r->err, r->errlen, -EBADMSG, "TP-UDL %u octets > 140", udl);
		octets = udl;
	}
	if ((rc = need(r, octets, "TP-UD")) < 0)
		return rc;
	const uint8_t *ud = r->b + r->pos;
	r->pos += octets;

	if (udhi) {
		if (octets == 0)
			return fail(r->err, r->errlen, -EBADMSG, "TP-UDHI set but no user data");
		hdr = (size_t)ud[0] + 1;
		if (hdr > octets)
			return fail(r->err, r->errlen, -EBADMSG,
				    "UDH of %zu octets is longer than the %zu octets of user data",
				    hdr, octets);
		if ((rc = read_udh(ud, hdr, m, r->err, r->errlen)) < 0)
			return rc;
	}
	m->data_len = octets - hdr;
	memcpy(m->data, ud + hdr, m->data_len);

	switch (m->alphabet) {
	case GW_SMS_GSM7: {
		size_t skip = (hdr * 8 + 6) / 7;
		uint8_t sept[GSM7_SINGLE];
		if (skip > udl)
			return fail(r->err, r->errlen, -EBADMSG,
				    "UDH of %zu septets is longer than TP-UDL %u", skip, udl);
		for (size_t i = skip; i < udl; i++)
			sept[i - skip] = septet_at(ud, octets, i);
		if (gsm7_to_utf8(sept, udl - skip, m->text, sizeof(m->text), &m->text_len) < 0)
			return fail(r->err, r->errlen, -EBADMSG, "text too long");
		break;
	}
	case GW_SMS_8BIT:
		for (size_t i = 0; i < m->data_len; i++)
			if (put_utf8(m->text, sizeof(m->text), &m->text_len, m->data[i]) < 0)
				return fail(r->err, r->errlen, -EBADMSG, "text too long");
		break;
	case GW_SMS_UCS2:
		if (m->data_len % 2)
			return fail(r->err, r->errlen, -EBADMSG, "odd UCS-2 length %zu",
				    m->data_len);
		for (size_t i = 0; i < m->data_len; i += 2) {
			uint32_t cp = (uint32_t)m->data[i] << 8 | m->data[i + 1];
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < m->data_len) {
				uint32_t lo = (uint32_t)m->data[i + 2] << 8 | m->data[i + 3];
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 2;
				}
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD; /* unpaired surrogate */
			if (put_utf8(m->text, sizeof(m->text), &m->text_len, cp) < 0)
				return fail(r->err, r->errlen, -EBADMSG, "text too long");
		}
		break;
	}
	return 0;
}

int gw_sms_decode(const char *hex, struct gw_sms_msg *m, char *err, int errlen)
{
	uint8_t buf[GW_SMS_PDU_MAX], first, sl, toa;
	struct rd r = {.b = buf, .err = err, .errlen = errlen};
	int rc;

	memset(m, 0, sizeof(*m));
	m->msg_class = -1;
	if (!hex)
		return fail(err, errlen, -EINVAL, "no PDU");
	if ((rc = hex_decode(hex, buf, sizeof(buf), err, errlen)) < 0)
		return rc;
	r.n = (size_t)rc;

	/* SMSC: length in octets including its TOA, 0 for none. */
	if ((rc = get_u8(&r, "SMSC length", &sl)) < 0)
		return rc;
	if (sl > 11)
		return fail(err, errlen, -EBADMSG, "SMSC length %u > 11", sl);
	if ((rc = need(&r, sl, "SMSC address")) < 0)
		return rc;
	if (sl > 0 && (rc = get_address(buf + 2, 2 * (sl - 1), buf[1], m->smsc, sizeof(m->smsc),
					err, errlen)) < 0)
		return rc;
	r.pos += sl;
	size_t tpdu_at = r.pos;

	if ((rc = get_u8(&r, "first octet", &first)) < 0)
		return rc;
	switch (first & 3) {
	case 0: /* SMS-DELIVER: MTI MMS LP - SRI UDHI RP, OA, PID, DCS, SCTS, UDL, UD */
		m->type = GW_SMS_DELIVER;
		if ((rc = read_address(&r, "TP-OA", m->addr, &toa)) < 0)
			return rc;
		m->addr_toa = toa;
		if ((rc = get_u8(&r, "TP-PID", &m->pid)) < 0 ||
		    (rc = get_u8(&r, "TP-DCS", &m->dcs)) < 0)
			return rc;
		if ((rc = get_dcs(m->dcs, &m->alphabet, &m->msg_class, err, errlen)) < 0)
			return rc;
		if ((rc = read_time(&r, "TP-SCTS", &m->scts)) < 0)
			return rc;
		if ((rc = read_user_data(&r, first & 0x40, m)) < 0)
			return rc;
		break;
	case 2: /* SMS-STATUS-REPORT: MTI MMS LP - SRQ UDHI, MR, RA, SCTS, DT, ST [PI ...] */
		m->type = GW_SMS_STATUS_REPORT;
		if ((rc = get_u8(&r, "TP-MR", &m->mr)) < 0)
			return rc;
		if ((rc = read_address(&r, "TP-RA", m->addr, &toa)) < 0)
			return rc;
		m->addr_toa = toa;
		if ((rc = read_time(&r, "TP-SCTS", &m->scts)) < 0 ||
		    (rc = read_time(&r, "TP-DT", &m->discharge)) < 0 ||
		    (rc = get_u8(&r, "TP-ST", &m->status)) < 0)
			return rc;
		break;
	default:
		return fail(err, errlen, -ENOTSUP, "TP-MTI %u is not a DELIVER or STATUS-REPORT",
			    first & 3);
	}
	m->tpdu_len = (int)(r.pos - tpdu_at);
	return (int)m->type;
}

int gw_sms_submit_to_deliver(const char *submit_hex, const char *from, const uint8_t scts[7],
			     char *out, size_t outlen, char *err, int errlen)
{
	uint8_t in[GW_SMS_PDU_MAX], o[GW_SMS_PDU_MAX], first, sl, v, pid, dcs, udl, toa;
	struct rd r = {.b = in, .err = err, .errlen = errlen};
	enum gw_sms_alphabet a;
	const char *digits;
	int cls, rc;
	size_t k = 0;

	if ((rc = hex_decode(submit_hex, in, sizeof(in), err, errlen)) < 0)
		return rc;
	r.n = (size_t)rc;
	if ((rc = get_u8(&r, "SMSC length", &sl)) < 0 || (rc = need(&r, sl, "SMSC")) < 0)
		return rc;
	r.pos += sl;
	if ((rc = get_u8(&r, "first octet", &first)) < 0)
		return rc;
	if ((first & 3) != 1)
		return fail(err, errlen, -EBADMSG, "not an SMS-SUBMIT (TP-MTI %u)", first & 3);
	if ((rc = get_u8(&r, "TP-MR", &v)) < 0 || (rc = get_u8(&r, "TP-DA", &v)) < 0)
		return rc;
	if (v > 20)
		return fail(err, errlen, -EBADMSG, "TP-DA of %u digits", v);
	if ((rc = need(&r, 1 + (v + 1u) / 2, "TP-DA")) < 0)
		return rc;
	r.pos += 1 + (v + 1u) / 2;
	if ((rc = get_u8(&r, "TP-PID", &pid)) < 0 || (rc = get_u8(&r, "TP-DCS", &dcs)) < 0)
		return rc;
	if ((rc = get_dcs(dcs, &a, &cls, err, errlen)) < 0)
		return rc;
	size_t vp_len = ((first >> 3) & 3) == 2 ? 1 : ((first >> 3) & 3) ? 7 : 0;
	if ((rc = need(&r, vp_len, "TP-VP")) < 0)
		return rc;
	r.pos += vp_len;
	if ((rc = get_u8(&r, "TP-UDL", &udl)) < 0)
		return rc;
	size_t octets = a == GW_SMS_GSM7 ? ((size_t)udl * 7 + 7) / 8 : udl;
	if (octets > GW_SMS_UD_MAX)
		return fail(err, errlen, -EBADMSG, "TP-UDL %u too long", udl);
	if ((rc = need(&r, octets, "TP-UD")) < 0)
		return rc;

	int nd = parse_number(from, &digits, &toa, err, errlen);
	if (nd < 0)
		return nd;
	o[k++] = 0x00;			  /* no SMSC */
	o[k++] = (uint8_t)(first & 0x60); /* TP-UDHI; TP-SRR becomes TP-SRI */
	k += put_address(o + k, digits, nd, toa);
	o[k++] = pid;
	o[k++] = dcs;
	memcpy(o + k, scts, 7);
	k += 7;
	o[k++] = udl;
	memcpy(o + k, in + r.pos, octets);
	k += octets;
	if (outlen < 2 * k + 1)
		return fail(err, errlen, -ENOSPC, "output buffer too small");
	hex_encode(o, k, out);
	return (int)k - 1;
}

/* ---- reassembly ---------------------------------------------------------- */

void gw_sms_reasm_init(struct gw_sms_reasm *r, int64_t timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->timeout_ms = timeout_ms;
}

int gw_sms_reasm_expire(struct gw_sms_reasm *r, int64_t now_ms)
{
	int n = 0;
	for (int i = 0; i < GW_SMS_REASM_SLOTS; i++) {
		struct gw_sms_reasm_slot *s = &r->slot[i];
		if (s->used && now_ms - s->first_ms >= r->timeout_ms) {
			s->used = false;
			r->dropped++;
			n++;
		}
	}
	return n;
}

static int copy_out(char *out, size_t outlen, const char *text, size_t len)
{
	if (len + 1 > outlen)
		return -ENOSPC;
	memcpy(out, text, len);
	out[len] = '\0';
	return 1;
}

int gw_sms_reasm_add(struct gw_sms_reasm *r, const struct gw_sms_msg *m, int64_t now_ms, char *out,
		     size_t outlen)
{
	struct gw_sms_reasm_slot *s = NULL, *oldest = NULL, *free_slot = NULL, *own = NULL;
	int nown = 0;

	if (m->type != GW_SMS_DELIVER)
		return -EINVAL;
	gw_sms_reasm_expire(r, now_ms);
	if (!m->concat || m->total == 1)
		return copy_out(out, outlen, m->text, m->text_len);
	if (m->total > GW_SMS_REASM_PARTS)
		return -EMSGSIZE;
	if (m->seq < 1 || m->seq > m->total)
		return -EINVAL;

	for (int i = 0; i < GW_SMS_REASM_SLOTS; i++) {
		struct gw_sms_reasm_slot *t = &r->slot[i];
		if (!t->used) {
			if (!free_slot)
				free_slot = t;
			continue;
		}
		bool same = strcmp(t->sender, m->addr) == 0;
		if (t->ref == m->ref && t->total == m->total && same) {
			s = t;
			break;
		}
		if (same && (nown++, !own || t->first_ms < own->first_ms))
			own = t;
		if (!oldest || t->first_ms < oldest->first_ms)
			oldest = t;
	}
	if (!s) {
		/* a sender never holds more than its share: its own oldest makes room */
		s = nown >= GW_SMS_REASM_PER_SENDER ? own : free_slot;
		if (!s)
			s = oldest;
		if (s->used) {
			r->dropped++;
			snprintf(r->last_dropped, sizeof(r->last_dropped), "%s", s->sender);
		}
		memset(s, 0, sizeof(*s));
		s->used = true;
		snprintf(s->sender, sizeof(s->sender), "%s", m->addr);
		s->ref = m->ref;
		s->total = m->total;
		s->first_ms = now_ms;
	}
	int i = m->seq - 1;
	if (s->got[i])
		return -EALREADY;
	s->got[i] = true;
	s->len[i] = (uint16_t)m->text_len;
	memcpy(s->text[i], m->text, m->text_len);
	if (++s->have < s->total)
		return 0;

	size_t pos = 0;
	int rc = 1;
	for (int k = 0; k < s->total && rc > 0; k++) {
		rc = copy_out(out + pos, outlen - pos, s->text[k], s->len[k]);
		pos += s->len[k];
	}
	s->used = false;
	return rc;
}
