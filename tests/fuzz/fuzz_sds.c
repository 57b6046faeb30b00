/*
 * fuzz_sds: libFuzzer target for the SDS codec (gateway/sds.c).
 *
 * The first byte picks a mode. Decode modes feed (AI service, bit length, hex)
 * to gw_sds_decode(), the hex either raw from the input or made from input
 * bytes, and decoded concatenated parts to a reassembly table with a moving
 * clock. Checked: the return code is one of the documented ones, a failure
 * always has a reason and a success none, decoded text is valid UTF-8 whose
 * length matches, and LIP values stay in range. The round-trip mode treats the
 * input as text: encoding must accept exactly the strings an independent
 * UTF-8 check accepts (short enough), and decoding what was encoded, whole or
 * split into parts and reassembled, must give the input back byte for byte.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/sds.h"

static struct gw_sds_msg msg;
static struct gw_sds_reasm reasm, rt_reasm;
static struct gw_sds_part parts[256];
static char big[256 * GW_SDS_TEXT_MAX];
static uint64_t clock_ms;

/* Independent strict UTF-8 check: number of code points, or -1. */
static long utf8_count(const unsigned char *s, size_t n)
{
	long count = 0;
	for (size_t i = 0; i < n; count++) {
		unsigned c = s[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return -1;
		}
		if (i + len > n)
			return -1;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		i += len;
	}
	return count;
}

static void check_decoded(int rc, const char *why)
{
	if (why == NULL)
		abort();
	if (rc < 0) {
		if (rc != -EINVAL && rc != -EMSGSIZE && rc != -EPROTONOSUPPORT && rc != -EBADMSG)
			abort();
		if (why[0] == '\0')
			abort();
		return;
	}
	if (rc != 0 || why[0] != '\0')
		abort();
	if (msg.kind == GW_SDS_TEXT) {
		const struct gw_sds_text *t = &msg.text;
		if (t->len >= GW_SDS_TEXT_MAX || strlen(t->text) != t->len ||
		    utf8_count((const unsigned char *)t->text, t->len) < 0)
			abort();
		if (t->concat && (t->concat_seq < 1 || t->concat_seq > t->concat_total))
			abort();
	} else if (msg.kind == GW_SDS_LIP) {
		const struct gw_sds_lip *l = &msg.lip;
		if (l->lat_deg < -90.0 || l->lat_deg >= 90.0 || l->lon_deg < -180.0 ||
		    l->lon_deg >= 180.0 || l->heading_deg < 0 || l->heading_deg >= 360.0 ||
		    l->speed_kmh > 2000.0 || l->bits_used != 84)
			abort();
	}
}

static void decode_mode(const uint8_t *d, size_t n, bool raw)
{
	static char hex[2 * 300 + 1];
	if (n < 4)
		return;
	int ai = 9 + d[0] % 6;
	int bits = (int)((d[1] << 8 | d[2]) % 2200) - 40;
	uint8_t sender = d[3];
	d += 4;
	n -= 4;
	size_t len = 0;
	if (raw) {
		for (; len < n && len < sizeof(hex) - 1 && d[len]; len++)
			hex[len] = (char)d[len];
	} else {
		for (size_t i = 0; i < n && len + 2 < sizeof(hex); i++) {
			hex[len++] = "0123456789ABCDEF"[d[i] >> 4];
			hex[len++] = "0123456789ABCDEF"[d[i] & 15];
		}
		if (bits < 0 && len)
			bits = (int)len * 4; /* mostly use the data's own length */
	}
	hex[len] = '\0';
	const char *why = NULL;
	int rc = gw_sds_decode(ai, bits, hex, &msg, &why);
	check_decoded(rc, why);
	if (rc == 0 && msg.kind == GW_SDS_TEXT && msg.text.concat) {
		char who[4] = {'1', (char)('0' + sender % 3), '\0', '\0'};
		clock_ms += (uint64_t)(sender % 16) * 1000;
		rc = gw_sds_reasm_add(&reasm, who, &msg, clock_ms, big, sizeof(big));
		if (rc == 1 && utf8_count((const unsigned char *)big, strlen(big)) < 0)
			abort();
		if (rc != 0 && rc != 1 && rc != -EINVAL && rc != -EMSGSIZE)
			abort();
		while (gw_sds_reasm_expire(&reasm, clock_ms, who, sizeof(who), NULL, NULL) == 1)
			;
	}
}

static void roundtrip_mode(const uint8_t *d, size_t n)
{
	static char text[4096], hex[GW_SDS_HEX_MAX];
	if (n < 2)
		return;
	int rr = d[0] & 3;
	int max_bits = 80 + (d[1] * 8) % 1968; /* 80..2047 */
	d += 2;
	n -= 2;
	size_t len = 0;
	while (len < n && len < sizeof(text) - 1 && d[len])
		len++;
	memcpy(text, d, len);
	text[len] = '\0';
	long ncp = utf8_count((const unsigned char *)text, len);

	int bits = 0;
	int rc = gw_sds_encode_text(text, rr, 0x5A, hex, sizeof(hex), &bits);
	if (ncp < 0) {
		if (rc != -EINVAL)
			abort();
		return;
	}
	if (rc == -EMSGSIZE && ncp <= 62) /* 62 surrogate pairs always fit 2047 bits */
		abort();
	if (rc >= 0) {
		const char *why;
		if (bits != (int)strlen(hex) * 4 || bits > GW_SDS_MAX_BITS)
			abort();
		if (gw_sds_decode(GW_SDS_AI_SDSTL, bits, hex, &msg, &why) != 0)
			abort();
		if (msg.kind != GW_SDS_TEXT || msg.text.coding != rc || msg.text.ref != 0x5A ||
		    msg.text.report_req != rr || strcmp(msg.text.text, text) != 0)
			abort();
	} else if (rc != -EMSGSIZE) {
		abort();
	}

	int np = gw_sds_split_text(text, rr, 0xF0, max_bits, parts, 256);
	if (np == -EMSGSIZE)
		return; /* too many parts, or a character wider than a part */
	if (np < 1)
		abort();
	size_t off = 0;
	gw_sds_reasm_init(&rt_reasm, 1000);
	int done = 0;
	for (int i = np - 1; i >= 0; i--) { /* backwards: out of order */
		if (parts[i].bits > max_bits || parts[i].ref != (uint8_t)(0xF0 + i))
			abort();
		if (gw_sds_decode(GW_SDS_AI_SDSTL, parts[i].bits, parts[i].hex, &msg, NULL) != 0)
			abort();
		if (msg.text.concat != (np > 1))
			abort();
		if (np > 1 && (msg.text.concat_total != np || msg.text.concat_seq != i + 1))
			abort();
		if (np > 1 && np <= GW_SDS_REASM_PARTS) {
			int r = gw_sds_reasm_add(&rt_reasm, "2269001", &msg, (uint64_t)i, big,
						 sizeof(big));
			if (r != (i == 0))
				abort();
			done = r;
		}
	}
	if (done && strcmp(big, text) != 0)
		abort();
	/* forwards again, concatenating the decoded texts directly */
	for (int i = 0; i < np; i++) {
		if (gw_sds_decode(GW_SDS_AI_SDSTL, parts[i].bits, parts[i].hex, &msg, NULL) != 0)
			abort();
		if (off + msg.text.len > len || memcmp(text + off, msg.text.text, msg.text.len))
			abort();
		off += msg.text.len;
	}
	if (off != len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		gw_sds_reasm_init(&reasm, 30000);
		init = true;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		decode_mode(data + 1, size - 1, true);
		break;
	case 1:
		decode_mode(data + 1, size - 1, false);
		break;
	default:
		roundtrip_mode(data + 1, size - 1);
		break;
	}
	return 0;
}
