/*
 * fuzz_sms: libFuzzer target for the SMS codec. The first input byte picks a mode:
 *
 *   0  the rest is hex text as the modem would print it -> gw_sms_decode()
 *   1  the rest is raw TPDU octets; hex-encoded first, so every input reaches
 *      the field parser instead of dying in the hex check
 *   2  the rest is a UTF-8 text -> gw_sms_encode() -> every part turned into the
 *      DELIVER its recipient would get (gw_sms_submit_to_deliver: same TP-DCS,
 *      TP-UDHI, TP-UDL and TP-UD octets, SUBMIT-only fields dropped, an SCTS
 *      added) -> gw_sms_decode() -> the part texts joined must equal the input.
 *      This checks that splitting never breaks an escape or surrogate pair and
 *      that the decoder reads back exactly what the encoder wrote.
 *
 * Checked besides memory errors: a rejected PDU always has a reason; a decoded
 * one has NUL-terminated strings, valid UTF-8 text, sane lengths and
 * concatenation fields; decoded DELIVERs also go through a reassembly table and the
 * SMS reply parser (gw_call_parse_sms_reply: a code is 0..99).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/call.h"
#include "phone/sms.h"

static struct gw_sms_reasm reasm;
static struct gw_sms_pdu pdus[GW_SMS_MAX_PARTS];
static int64_t now_ms;

/* UTF-8 validity over n bytes (NUL allowed: 8-bit data may carry it). */
static int utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
		if (c >= 0xF8 || (c >= 0x80 && c < 0xC2) || (k && i + k >= n))
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((p[i + j] & 0xC0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

static void check_str(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void decode_one(const char *hex, size_t octets)
{
	static char out[GW_SMS_REASM_TEXT_MAX];
	struct gw_sms_msg m;
	char err[160] = "";
	int rc = gw_sms_decode(hex, &m, err, sizeof(err));
	if (rc < 0) {
		if (err[0] == '\0')
			abort();
		return;
	}
	check_str(m.smsc, sizeof(m.smsc));
	check_str(m.addr, sizeof(m.addr));
	if (!utf8_ok(m.addr, strlen(m.addr)))
		abort();
	if (m.tpdu_len < 1 || (size_t)m.tpdu_len > octets)
		abort();
	if (rc == GW_SMS_STATUS_REPORT)
		return;
	if (rc != GW_SMS_DELIVER)
		abort();
	if (m.text_len >= sizeof(m.text) || m.text[m.text_len] != '\0' ||
	    !utf8_ok(m.text, m.text_len) || m.data_len > sizeof(m.data))
		abort();
	if (m.msg_class < -1 || m.msg_class > 3)
		abort();
	if (m.concat && (m.seq < 1 || m.seq > m.total))
		abort();
	/* what rinkid does with a received text first: is it an accept or a page code? */
	int code = -1;
	enum gw_call_reply kind = gw_call_parse_sms_reply(m.text, &code);
	if (kind == GW_CALL_REPLY_CODE ? code < 0 || code > 99
				       : kind != GW_CALL_REPLY_NONE && kind != GW_CALL_REPLY_ACCEPT)
		abort();
	now_ms += 1000;
	rc = gw_sms_reasm_add(&reasm, &m, now_ms, out, sizeof(out));
	if (rc == 1 && memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	if (rc < 0 && rc != -EALREADY && rc != -EMSGSIZE)
		abort();
}

static void round_trip(const char *text)
{
	static const uint8_t scts[7] = {0x42, 0x30, 0x51, 0x41, 0x03, 0x50, 0x80};
	static char joined[GW_SMS_MAX_PARTS * GW_SMS_TEXT_MAX];
	char hex[GW_SMS_PDU_HEX_MAX], err[160] = "";
	struct gw_sms_submit s;
	enum gw_sms_alphabet a;
	struct gw_sms_msg m;
	size_t pos = 0;

	gw_sms_submit_defaults(&s);
	s.to = "+358401234567";
	s.text = text;
	s.ref = (uint8_t)strlen(text);
	int parts = gw_sms_parts(text, &a);
	int n = gw_sms_encode(&s, pdus, GW_SMS_MAX_PARTS, err, sizeof(err));
	if (n != parts)
		abort();
	if (n < 0) {
		if (err[0] == '\0' || (n != -EILSEQ && n != -EMSGSIZE))
			abort();
		return;
	}
	for (int i = 0; i < n; i++) {
		if (strlen(pdus[i].hex) != 2 * (size_t)(pdus[i].tpdu_len + 1))
			abort();
		if (gw_sms_submit_to_deliver(pdus[i].hex, "+358501112233", scts, hex, sizeof(hex),
					     err, sizeof(err)) < 0)
			abort();
		if (gw_sms_decode(hex, &m, err, sizeof(err)) != GW_SMS_DELIVER)
			abort();
		if (m.alphabet != a || m.concat != (n > 1))
			abort();
		if (n > 1 && (m.total != n || m.seq != i + 1 || m.ref != s.ref))
			abort();
		memcpy(joined + pos, m.text, m.text_len);
		pos += m.text_len;
	}
	joined[pos] = '\0';
	if (strcmp(joined, text) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[2 * 4096 + 1];
	static int init;

	if (!init) {
		gw_sms_reasm_init(&reasm, 30000);
		init = 1;
	}
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 3;
	data++, size--;
	if (size > 4096)
		size = 4096;
	if (mode == 1) {
		static const char d[] = "0123456789ABCDEF";
		for (size_t i = 0; i < size; i++) {
			buf[2 * i] = d[data[i] >> 4];
			buf[2 * i + 1] = d[data[i] & 0xF];
		}
		buf[2 * size] = '\0';
		decode_one(buf, size);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (mode == 0)
		decode_one(buf, size / 2);
	else
		round_trip(buf);
	return 0;
}
