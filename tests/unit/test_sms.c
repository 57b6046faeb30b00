/*
 * Unit tests for gateway/sms.c: the reference SUBMIT example, encode -> DELIVER
 * -> decode round trips at the part boundaries, hand-built DELIVER and
 * STATUS-REPORT PDUs, malformed input, and reassembly.
 *
 * The hand-built PDUs below were packed with a separate Python script (not with
 * this module) and are explained octet by octet where they are used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phone/sms.h"

#define MAXP 8

/* 2024-03-15 14:30:05, zone +08 quarter-hours (UTC+2), as TP-SCTS octets. */
static const uint8_t scts_fi[7] = {0x42, 0x30, 0x51, 0x41, 0x03, 0x50, 0x80};
#define SCTS_FI_UTC_MS 1710505805000LL /* 2024-03-15 12:30:05 UTC */

static struct gw_sms_pdu pdus[GW_SMS_MAX_PARTS];

/* Encode with defaults; returns the part count (asserting success). */
static int encode(const char *to, const char *text)
{
	struct gw_sms_submit s;
	char err[128] = "";
	gw_sms_submit_defaults(&s);
	s.to = to;
	s.text = text;
	s.ref = 0x5A;
	int n = gw_sms_encode(&s, pdus, MAXP, err, sizeof(err));
	if (n < 0)
		fail_msg("encode: %d %s", n, err);
	return n;
}

/* The TP-UDL octet of a SUBMIT built with defaults to a number of nd digits. */
static unsigned submit_udl(const struct gw_sms_pdu *p, int nd)
{
	unsigned v;
	/* 00 | first | MR | len | toa | (nd+1)/2 digits | PID | DCS | VP | UDL */
	size_t at = 2 * (size_t)(1 + 1 + 1 + 1 + 1 + (nd + 1) / 2 + 3);
	assert_int_equal(sscanf(p->hex + at, "%2x", &v), 1);
	return v;
}

/*
 * Encode text, turn every SUBMIT into the DELIVER the recipient gets, decode
 * and reassemble it, and compare with the original. Returns the part count.
 */
static int round_trip(const char *text, enum gw_sms_alphabet want)
{
	struct gw_sms_reasm *r = malloc(sizeof(*r));
	static char joined[GW_SMS_REASM_TEXT_MAX];
	char hex[GW_SMS_PDU_HEX_MAX], err[128] = "";
	struct gw_sms_msg m;
	int done = 0;

	assert_non_null(r);
	gw_sms_reasm_init(r, 60000);
	int n = encode("+358401234567", text);
	for (int i = 0; i < n; i++) {
		assert_int_equal((int)strlen(pdus[i].hex), 2 * (pdus[i].tpdu_len + 1));
		int len = gw_sms_submit_to_deliver(pdus[i].hex, "+358501112233", scts_fi, hex,
						   sizeof(hex), err, sizeof(err));
		if (len < 0)
			fail_msg("to_deliver part %d: %s", i + 1, err);
		int rc = gw_sms_decode(hex, &m, err, sizeof(err));
		if (rc != GW_SMS_DELIVER)
			fail_msg("decode part %d: %d %s", i + 1, rc, err);
		assert_int_equal(m.tpdu_len, len);
		assert_int_equal(m.alphabet, want);
		assert_string_equal(m.addr, "+358501112233");
		if (n > 1) {
			assert_true(m.concat);
			assert_int_equal(m.ref, 0x5A);
			assert_int_equal(m.total, n);
			assert_int_equal(m.seq, i + 1);
		} else {
			assert_false(m.concat);
		}
		rc = gw_sms_reasm_add(r, &m, 1000, joined, sizeof(joined));
		assert_int_equal(rc, i + 1 == n ? 1 : 0);
		done += rc;
	}
	assert_int_equal(done, 1);
	assert_string_equal(joined, text);
	free(r);
	return n;
}

static void repeat(char *out, const char *unit, int times)
{
	out[0] = '\0';
	for (int i = 0; i < times; i++)
		strcat(out, unit);
}

/* ---- SMS-SUBMIT --------------------------------------------------------- */

/*
 * The reference example, checked by hand before writing the code:
 * 00 SMSC | 11 SUBMIT, VPF relative | 00 MR | 0C 91 534810325476 (+358401234567)
 * | 00 PID | 00 DCS GSM7 | AA 4 days | 09 septets | C83D3B4FCFCF4134 =
 * H(48) ä(7B) l(6C) y(79) t(74) y(79) s(73) SP(20) 4(34) packed LSB first.
 * 1+1+1+1+6+1+1+1+1+8 = 22 TPDU octets.
 */
static void test_reference_example(void **state)
{
	(void)state;
	assert_int_equal(encode("+358401234567", "Hälytys 4"), 1);
	assert_string_equal(pdus[0].hex, "0011000C915348103254760000AA09C83D3B4FCFCF4134");
	assert_int_equal(pdus[0].tpdu_len, 22);
}

static void test_submit_options(void **state)
{
	(void)state;
	struct gw_sms_submit s;
	char err[128];
	gw_sms_submit_defaults(&s);
	s.to = "0401234567"; /* national: 0A digits, type 81, 4010325476 */
	s.text = "Hälytys 4";
	s.status_report = true;
	s.vp = (uint8_t)gw_sms_vp_from_minutes(24 * 60);
	assert_int_equal(gw_sms_encode(&s, pdus, 1, err, sizeof(err)), 1);
	/* first octet 31 = SUBMIT | VPF relative | SRR; VP A7 = 24 h. */
	assert_string_equal(pdus[0].hex, "0031000A8140103254760000A709C83D3B4FCFCF4134");
	assert_int_equal(pdus[0].tpdu_len, 21);

	/* An odd digit count pads the last semi-octet with F. */
	s.to = "+35840123456";
	s.status_report = false;
	s.vp = GW_SMS_VP_DEFAULT;
	assert_int_equal(gw_sms_encode(&s, pdus, 1, err, sizeof(err)), 1);
	assert_memory_equal(pdus[0].hex, "0011000B915348103254F6", 22);
}

static void test_vp_from_minutes(void **state)
{
	(void)state;
	assert_int_equal(gw_sms_vp_from_minutes(0), 0);
	assert_int_equal(gw_sms_vp_from_minutes(5), 0);
	assert_int_equal(gw_sms_vp_from_minutes(6), 1); /* rounds up to 10 min */
	assert_int_equal(gw_sms_vp_from_minutes(12 * 60), 143);
	assert_int_equal(gw_sms_vp_from_minutes(12 * 60 + 1), 144);
	assert_int_equal(gw_sms_vp_from_minutes(24 * 60), 167);
	assert_int_equal(gw_sms_vp_from_minutes(4 * 24 * 60), 0xAA);
	assert_int_equal(gw_sms_vp_from_minutes(30 * 24 * 60), 196);
	assert_int_equal(gw_sms_vp_from_minutes(31 * 24 * 60), 197); /* 5 weeks */
	assert_int_equal(gw_sms_vp_from_minutes(63 * 7 * 24 * 60), 255);
	assert_int_equal(gw_sms_vp_from_minutes(63 * 7 * 24 * 60 + 1), -ERANGE);
}

static void test_submit_rejects(void **state)
{
	(void)state;
	static const char *const bad_to[] = {
	    "", "+", "040-123", "+3584O1234567", "123456789012345678901", NULL};
	struct gw_sms_submit s;
	char err[128];
	gw_sms_submit_defaults(&s);
	s.text = "x";
	for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
		s.to = bad_to[i];
		err[0] = '\0';
		assert_int_equal(gw_sms_encode(&s, pdus, MAXP, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	s.to = "+358401234567";
	static const char *const bad_utf8[] = {
	    "\xC3",		/* truncated */
	    "a\xC3(",		/* bad continuation */
	    "\xC0\xAF",		/* overlong '/' */
	    "\xED\xA0\x80",	/* UTF-16 surrogate */
	    "\xF4\x90\x80\x80", /* past U+10FFFF */
	    "\xFF",
	};
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		s.text = bad_utf8[i];
		assert_int_equal(gw_sms_encode(&s, pdus, MAXP, err, sizeof(err)), -EILSEQ);
	}
	s.text = NULL;
	assert_int_equal(gw_sms_encode(&s, pdus, MAXP, err, sizeof(err)), -EINVAL);

	/* 161 septets need 2 parts: with room for only 1 the encoder refuses. */
	static char t[200];
	repeat(t, "a", 161);
	s.text = t;
	assert_int_equal(gw_sms_encode(&s, pdus, 1, err, sizeof(err)), -ENOSPC);
	assert_int_equal(gw_sms_encode(&s, pdus, 2, err, sizeof(err)), 2);
}

static void test_parts_limit(void **state)
{
	(void)state;
	enum gw_sms_alphabet a;
	char *t = malloc(153 * 255 + 2);
	assert_non_null(t);
	memset(t, 'a', 153 * 255);
	t[153 * 255] = '\0';
	assert_int_equal(gw_sms_parts(t, &a), 255);
	assert_int_equal(a, GW_SMS_GSM7);
	t[153 * 255] = 'a';
	t[153 * 255 + 1] = '\0';
	assert_int_equal(gw_sms_parts(t, &a), -EMSGSIZE);
	free(t);
	assert_int_equal(gw_sms_parts("", &a), 1);
	assert_int_equal(gw_sms_parts("\xC3", &a), -EILSEQ);
}

/* ---- round trips -------------------------------------------------------- */

static void test_rt_finnish(void **state)
{
	(void)state;
	const char *t = "Päivystäjä: Åke Öhman, kiireellinen lastensuojelu, "
			"Mikkeli. Kuittaa 4. @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?"
			"¡ÄÖÑÜ§¿äöñüà\r\n";
	assert_int_equal(round_trip(t, GW_SMS_GSM7), 1);
	assert_int_equal(submit_udl(&pdus[0], 12), 135); /* 135 chars, one septet each */
}

static void test_rt_escape(void **state)
{
	(void)state;
	const char *t = "Hinta 5€ [ok] {x} \\ ~ ^ | \f";
	enum gw_sms_alphabet a;
	assert_int_equal(gw_sms_parts(t, &a), 1);
	assert_int_equal(a, GW_SMS_GSM7);
	assert_int_equal(round_trip(t, GW_SMS_GSM7), 1);
	/* 27 characters, 10 of them from the escape table: 37 septets. */
	assert_int_equal(submit_udl(&pdus[0], 12), 37);
}

static void test_rt_ucs2(void **state)
{
	(void)state;
	const char *t = "Päivystäjä Šárka, Sámi čŋ";
	assert_int_equal(round_trip(t, GW_SMS_UCS2), 1);
	assert_int_equal(submit_udl(&pdus[0], 12), 2 * 25);
	/* DCS 08 (UCS-2) right after PID 00. */
	assert_memory_equal(pdus[0].hex + 2 * 11, "0008", 4);
}

static void test_rt_emoji(void **state)
{
	(void)state;
	const char *t = "Hälytys \xF0\x9F\x9A\xA8 4"; /* U+1F6A8 police light */
	assert_int_equal(round_trip(t, GW_SMS_UCS2), 1);
	/* 11 code points, the emoji as a surrogate pair D83D DEA8: 12 units. */
	assert_int_equal(submit_udl(&pdus[0], 12), 24);
	assert_non_null(strstr(pdus[0].hex, "D83DDEA8"));
}

static void test_rt_gsm7_160_161(void **state)
{
	(void)state;
	static char t[400];
	repeat(t, "ä", 160);
	assert_int_equal(round_trip(t, GW_SMS_GSM7), 1);
	assert_int_equal(submit_udl(&pdus[0], 12), 160);
	assert_int_equal(pdus[0].tpdu_len, 14 + 140); /* 14 octets before TP-UD */

	repeat(t, "ä", 161);
	assert_int_equal(round_trip(t, GW_SMS_GSM7), 2);
	/* Part 1: UDHI set (51), UDH 05 00 03 ref 02 01, 7 + 153 septets. */
	assert_memory_equal(pdus[0].hex, "0051", 4);
	assert_int_equal(submit_udl(&pdus[0], 12), 160);
	assert_memory_equal(pdus[0].hex + 2 * 15, "0500035A0201", 12);
	assert_int_equal(submit_udl(&pdus[1], 12), 7 + 8);
	assert_memory_equal(pdus[1].hex + 2 * 15, "0500035A0202", 12);
}

static void test_rt_ucs2_70_71(void **state)
{
	(void)state;
	static char t[400];
	repeat(t, "š", 70);
	assert_int_equal(round_trip(t, GW_SMS_UCS2), 1);
	assert_int_equal(submit_udl(&pdus[0], 12), 140);

	repeat(t, "š", 71);
	assert_int_equal(round_trip(t, GW_SMS_UCS2), 2);
	assert_int_equal(submit_udl(&pdus[0], 12), 6 + 2 * 67);
	assert_int_equal(submit_udl(&pdus[1], 12), 6 + 2 * 4);
}

static void test_rt_escape_at_split(void **state)
{
	(void)state;
	static char t[400];
	/* 152 septets, then € (ESC 65) would straddle the 153-septet boundary. */
	repeat(t, "a", 152);
	strcat(t, "€ ja loput");
	assert_int_equal(round_trip(t, GW_SMS_GSM7), 2);
	assert_int_equal(submit_udl(&pdus[0], 12), 7 + 152);
	assert_int_equal(submit_udl(&pdus[1], 12), 7 + 2 + 9);

	/* 151 + € fills part 1 exactly. */
	repeat(t, "a", 151);
	strcat(t, "€ ja loput");
	assert_int_equal(round_trip(t, GW_SMS_GSM7), 2);
	assert_int_equal(submit_udl(&pdus[0], 12), 7 + 153);
}

static void test_rt_surrogate_at_split(void **state)
{
	(void)state;
	static char t[400];
	/* 66 units, then a surrogate pair that would straddle the 67-unit boundary
	 * (72 units in all, so more than one part). */
	repeat(t, "š", 66);
	strcat(t, "\xF0\x9F\x9A\xA8!!!!");
	assert_int_equal(round_trip(t, GW_SMS_UCS2), 2);
	assert_int_equal(submit_udl(&pdus[0], 12), 6 + 2 * 66);
	assert_int_equal(submit_udl(&pdus[1], 12), 6 + 2 * 6);
}

static void test_rt_empty(void **state)
{
	(void)state;
	assert_int_equal(round_trip("", GW_SMS_GSM7), 1);
	assert_int_equal(submit_udl(&pdus[0], 12), 0);
}

/* The test helper itself, against a DELIVER written out by hand. */
static void test_submit_to_deliver(void **state)
{
	(void)state;
	char hex[GW_SMS_PDU_HEX_MAX], err[128];
	int n =
	    gw_sms_submit_to_deliver("0011000C915348103254760000AA09C83D3B4FCFCF4134",
				     "+358401234567", scts_fi, hex, sizeof(hex), err, sizeof(err));
	/* 00 SMSC | 00 DELIVER | OA | PID | DCS | SCTS | UDL | UD: VP and MR gone. */
	assert_string_equal(hex, "00000C915348103254760000423051410350800"
				 "9C83D3B4FCFCF4134");
	assert_int_equal(n, 1 + 8 + 2 + 7 + 1 + 8);
	/* A DELIVER is not a SUBMIT; a truncated SUBMIT is caught. */
	assert_int_equal(
	    gw_sms_submit_to_deliver(hex, "+358", scts_fi, hex, sizeof(hex), err, sizeof(err)),
	    -EBADMSG);
	assert_int_equal(gw_sms_submit_to_deliver("0011000C915348103254760000AA09C83D", "+358",
						  scts_fi, hex, sizeof(hex), err, sizeof(err)),
			 -EBADMSG);
}

/* ---- SMS-DELIVER and SMS-STATUS-REPORT decoding ------------------------- */

static void test_decode_finnish_deliver(void **state)
{
	(void)state;
	struct gw_sms_msg m;
	char err[128];
	/*
	 * As +CMGR prints it: 07 91 534850020200 SMSC +358405202000 (7 octets with
	 * its TOA) | 04 DELIVER, MMS (no more messages) | 0C 91 534810325476 OA
	 * +358401234567 | 00 PID | 00 DCS GSM7 no class | 42305141035080 SCTS
	 * 24-03-15 14:30:05 +08 | 10 = 16 septets | "Kuittaa: äiti OK" packed.
	 */
	const char *pdu = "0791534850020200040C9153481032547600004230514103508010CB7A9A4E0F"
			  "8775A07D9A9E063D97";
	assert_int_equal(gw_sms_decode(pdu, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_string_equal(m.smsc, "+358405202000");
	assert_string_equal(m.addr, "+358401234567");
	assert_int_equal(m.addr_toa, 0x91);
	assert_int_equal(m.pid, 0);
	assert_int_equal(m.alphabet, GW_SMS_GSM7);
	assert_int_equal(m.msg_class, -1);
	assert_false(m.concat);
	assert_true(m.scts.valid);
	assert_int_equal(m.scts.tz_quarters, 8);
	assert_int_equal(m.scts.utc_ms, SCTS_FI_UTC_MS);
	assert_string_equal(m.text, "Kuittaa: äiti OK");
	assert_int_equal(m.text_len, strlen("Kuittaa: äiti OK"));
	assert_int_equal(m.tpdu_len, (int)strlen(pdu) / 2 - 8);
	/* Lower-case hex is the same PDU. */
	char lower[256];
	for (size_t i = 0; i <= strlen(pdu); i++)
		lower[i] = (char)(pdu[i] >= 'A' && pdu[i] <= 'F' ? pdu[i] + 32 : pdu[i]);
	assert_int_equal(gw_sms_decode(lower, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_string_equal(m.text, "Kuittaa: äiti OK");
}

static void test_decode_alnum_ucs2_negative_tz(void **state)
{
	(void)state;
	struct gw_sms_msg m;
	char err[128];
	/*
	 * 00 no SMSC | 04 DELIVER | 0A D0 45767A1E06: alphanumeric (TON 5), 10
	 * semi-octets = 5 septets "Elisa" | 00 PID | 18 DCS: general group, class
	 * meaningful, UCS-2, class 0 | 42102131450 20A SCTS 24-01-12 13:54:20 zone
	 * 0A: sign bit 3 set, 2 tens, 0 units = -20 quarters (UTC-5) | 14 = 20
	 * octets "Saldo š 5€" UTF-16BE.
	 */
	const char *pdu = "00040AD045767A1E0600184210213145020A1400530061006C0064006F00200161"
			  "0020003520AC";
	assert_int_equal(gw_sms_decode(pdu, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_string_equal(m.smsc, "");
	assert_string_equal(m.addr, "Elisa");
	assert_int_equal(m.addr_toa, 0xD0);
	assert_int_equal(m.alphabet, GW_SMS_UCS2);
	assert_int_equal(m.msg_class, 0);
	assert_int_equal(m.scts.tz_quarters, -20);
	assert_int_equal(m.scts.utc_ms, 1705085660000LL); /* 2024-01-12 18:54:20 UTC */
	assert_string_equal(m.text, "Saldo š 5€");
}

static void test_decode_concat16(void **state)
{
	(void)state;
	struct gw_sms_reasm r;
	struct gw_sms_msg m;
	char err[128], out[GW_SMS_REASM_TEXT_MAX];
	gw_sms_reasm_init(&r, 60000);
	/*
	 * 00 | 44 DELIVER with UDHI | OA +358401234567 | 00 00 | SCTS | UDL 11 = 17
	 * septets | UDH 06 08 04 1234 02 02: IEI 08 (16-bit ref 0x1234), part 2 of
	 * 2; 7 header octets = 56 bits = 8 septets, no fill | "osa kaksi".
	 */
	const char *p2 = "00440C915348103254760000423051410350801106080412340202EF7918B40EAFE769";
	/* The same with part 1 of 2 and "osa yksi, ". */
	const char *p1 = "00440C915348103254760000423051410350801206080412340201EF7918945FCFD3"
			 "2C10";
	assert_int_equal(gw_sms_decode(p2, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_true(m.concat);
	assert_int_equal(m.ref, 0x1234);
	assert_int_equal(m.total, 2);
	assert_int_equal(m.seq, 2);
	assert_string_equal(m.text, "osa kaksi");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 5000, out, sizeof(out)), 0);
	assert_int_equal(gw_sms_decode(p1, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_int_equal(m.seq, 1);
	assert_int_equal(gw_sms_reasm_add(&r, &m, 6000, out, sizeof(out)), 1);
	assert_string_equal(out, "osa yksi, osa kaksi");
}

static void test_decode_8bit_national(void **state)
{
	(void)state;
	struct gw_sms_msg m;
	char err[128];
	/*
	 * 00 | 04 | 0A 81 4010325476: national 0401234567 | 00 PID | F5 DCS: group
	 * 1111, 8-bit, class 1 | SCTS | 04 octets 41 E4 00 FF.
	 */
	const char *pdu = "00040A81401032547600F5423051410350800441E400FF";
	assert_int_equal(gw_sms_decode(pdu, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_string_equal(m.addr, "0401234567");
	assert_int_equal(m.alphabet, GW_SMS_8BIT);
	assert_int_equal(m.msg_class, 1);
	assert_int_equal(m.data_len, 4);
	assert_memory_equal(m.data, "\x41\xE4\x00\xFF", 4);
	/* Shown as ISO-8859-1: A, ä, U+0000 stops C strings, ÿ. */
	assert_int_equal(m.text_len, 1 + 2 + 1 + 2);
	assert_memory_equal(m.text, "A\xC3\xA4\0\xC3\xBF", 6);
}

static void test_decode_status_report(void **state)
{
	(void)state;
	struct gw_sms_msg m;
	char err[128];
	/*
	 * 07 91 534850020200 SMSC | 06 STATUS-REPORT (MTI 2), MMS | 2A TP-MR 42 (the
	 * +CMGS: 42 of the page) | 0C 91 534810325476 TP-RA | SCTS 14:30:05 +08 |
	 * DT 42305141235080 = 14:32:05 +08 | 00 TP-ST received by the SME.
	 */
	const char *pdu = "0791534850020200062A0C9153481032547642305141035080423051412350800"
			  "0";
	assert_int_equal(gw_sms_decode(pdu, &m, err, sizeof(err)), GW_SMS_STATUS_REPORT);
	assert_int_equal(m.mr, 42);
	assert_string_equal(m.addr, "+358401234567");
	assert_int_equal(m.scts.utc_ms, SCTS_FI_UTC_MS);
	assert_true(m.discharge.valid);
	assert_int_equal(m.discharge.utc_ms, SCTS_FI_UTC_MS + 120000);
	assert_int_equal(m.status, 0);
	assert_int_equal(gw_sms_status_kind(m.status), GW_SMS_ST_DELIVERED);
	assert_int_equal(gw_sms_status_kind(0x21), GW_SMS_ST_PENDING);
	assert_int_equal(gw_sms_status_kind(0x41), GW_SMS_ST_FAILED);
	assert_int_equal(gw_sms_status_kind(0x62), GW_SMS_ST_FAILED);
	/* With TP-PI and beyond after TP-ST: ignored. */
	char longer[256];
	snprintf(longer, sizeof(longer), "%s00", pdu);
	assert_int_equal(gw_sms_decode(longer, &m, err, sizeof(err)), GW_SMS_STATUS_REPORT);
	/* The status report cannot go into reassembly. */
	struct gw_sms_reasm r;
	char out[64];
	gw_sms_reasm_init(&r, 1000);
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), -EINVAL);
}

static void test_decode_oddities(void **state)
{
	(void)state;
	struct gw_sms_msg m;
	char err[128];
	/* Month 13 in the SCTS: the message still decodes, the time is marked invalid. */
	assert_int_equal(
	    gw_sms_decode("00040C915348103254760000423151410350800141", &m, err, sizeof(err)),
	    GW_SMS_DELIVER);
	assert_false(m.scts.valid);
	assert_string_equal(m.text, "A");
	/* ESC + 'A' (no such extension) shows 'A'; septets 1B 41 pack to 9B 20. */
	assert_int_equal(
	    gw_sms_decode("00040C91534810325476000042305141035080029B20", &m, err, sizeof(err)),
	    GW_SMS_DELIVER);
	assert_string_equal(m.text, "A");
	/* Concatenation IE with seq 0 is ignored (23.040 9.2.3.24.1); 8-bit data. */
	assert_int_equal(gw_sms_decode("00440C9153481032547600044230514103508007050003010200"
				       "41",
				       &m, err, sizeof(err)),
			 GW_SMS_DELIVER);
	assert_false(m.concat);
	assert_string_equal(m.text, "A");
	/* An unknown IE (0x70) next to a valid IEI 00 is skipped. */
	assert_int_equal(gw_sms_decode("00440C91534810325476000442305141035080"
				       "0A08700100000307020141",
				       &m, err, sizeof(err)),
			 GW_SMS_DELIVER);
	assert_true(m.concat);
	assert_int_equal(m.ref, 7);
	assert_int_equal(m.seq, 1);
	/* Unpaired UTF-16 surrogate shows U+FFFD. */
	assert_int_equal(
	    gw_sms_decode("00040C9153481032547600084230514103508004D83D0041", &m, err, sizeof(err)),
	    GW_SMS_DELIVER);
	assert_string_equal(m.text, "\xEF\xBF\xBD"
				    "A");
}

static void test_decode_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		int rc;
		const char *reason; /* must appear in err */
	} bad[] = {
	    {"", -EINVAL, "empty PDU"},
	    {"000", -EINVAL, "odd number of hex digits"},
	    {"00G4", -EINVAL, "bad hex digit at offset 2"},
	    {"0C91", -EBADMSG, "SMSC length 12 > 11"},
	    {"0791534850", -EBADMSG, "SMSC address needs 7 octets"},
	    {"00", -EBADMSG, "first octet needs 1"},
	    {"0001", -ENOTSUP, "TP-MTI 1 is not"},
	    {"0003", -ENOTSUP, "TP-MTI 3 is not"},
	    {"0004", -EBADMSG, "TP-OA needs 1"},
	    {"000415915348", -EBADMSG, "TP-OA of 21 semi-octets"},
	    {"00040C91534810", -EBADMSG, "TP-OA needs 6 octets"},
	    {"00040C915348103254760000423051", -EBADMSG, "TP-SCTS needs 7"},
	    {"00040C91534810325476000042305141035080", -EBADMSG, "TP-UDL needs 1"},
	    {"00040C9153481032547600004230514103508009C83D", -EBADMSG, "TP-UD needs 8 octets"},
	    {"00040C91534810325476000042305141035080A1", -EBADMSG, "TP-UDL 161 septets > 160"},
	    {"00040C91534810325476000842305141035080FF", -EBADMSG, "TP-UDL 255 octets > 140"},
	    {"00040C915348103254760008423051410350800300410A", -EBADMSG, "odd UCS-2 length 3"},
	    {"00040C91534810325476002042305141035080", -ENOTSUP, "compressed text (DCS 20)"},
	    /* UDHL 1F: a 32-octet header in 3 octets of user data. */
	    {"00440C91534810325476000442305141035080031F0000", -EBADMSG,
	     "UDH of 32 octets is longer than the 3 octets"},
	    /* GSM7 UDL 6 septets (6 octets) holding a 6-octet UDH = 7 septets. */
	    {"00440C91534810325476000042305141035080060500030102030000", -EBADMSG,
	     "UDH of 7 septets is longer than TP-UDL 6"},
	    {"00440C9153481032547600044230514103508004030003010203", -EBADMSG,
	     "IE 00 of 3 octets runs past the UDH"},
	    {"00440C9153481032547600044230514103508002010041", -EBADMSG,
	     "UDH ends inside an IE header"},
	    {"00440C9153481032547600044230514103508000", -EBADMSG, "TP-UDHI set but no user data"},
	    {"00040C915348103F54760000423051410350800141", -EBADMSG, "filler digit inside"},
	    {"00062A0C915348103254764230514103508042305141235080", -EBADMSG, "TP-ST needs 1"},
	};
	struct gw_sms_msg m;
	char err[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = gw_sms_decode(bad[i].hex, &m, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].reason))
			fail_msg("%s: got %d (%s), want %d", bad[i].hex, rc, err, bad[i].rc);
	}
	char big[2 * GW_SMS_PDU_MAX + 3];
	memset(big, '0', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gw_sms_decode(big, &m, err, sizeof(err)), -E2BIG);
	assert_int_equal(gw_sms_decode(NULL, &m, NULL, 0), -EINVAL);
}

/* ---- reassembly ----------------------------------------------------------- */

static struct gw_sms_msg part(const char *from, uint16_t ref, uint8_t total, uint8_t seq,
			      const char *text)
{
	struct gw_sms_msg m;
	memset(&m, 0, sizeof(m));
	m.type = GW_SMS_DELIVER;
	snprintf(m.addr, sizeof(m.addr), "%s", from);
	m.concat = total > 0;
	m.ref = ref;
	m.total = total;
	m.seq = seq;
	snprintf(m.text, sizeof(m.text), "%s", text);
	m.text_len = strlen(text);
	return m;
}

static void test_reasm(void **state)
{
	(void)state;
	static struct gw_sms_reasm r;
	char out[GW_SMS_REASM_TEXT_MAX];
	struct gw_sms_msg m;

	gw_sms_reasm_init(&r, 10000);
	/* Single part goes straight through. */
	m = part("+3581", 0, 0, 0, "yksi");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), 1);
	assert_string_equal(out, "yksi");

	/* Out of order, interleaved with another sender using the same ref. */
	m = part("+3581", 9, 3, 3, "C");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), 0);
	m = part("+3582", 9, 3, 1, "x");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), 0);
	m = part("+3581", 9, 3, 1, "A");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), 0);
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), -EALREADY);
	m = part("+3581", 9, 2, 2, "other total");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), 0);
	m = part("+3581", 9, 3, 2, "B");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), 1);
	assert_string_equal(out, "ABC");

	/* Timeout: the +3582 and the total-2 entries are older than 10 s at 10 s. */
	assert_int_equal(r.dropped, 0);
	assert_int_equal(gw_sms_reasm_expire(&r, 9999), 0);
	assert_int_equal(gw_sms_reasm_expire(&r, 10000), 2);
	assert_int_equal(r.dropped, 2);
	m = part("+3582", 9, 3, 2, "y");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 10001, out, sizeof(out)), 0);
	/* A late part after expiry starts over: nothing completes until all three. */
	m = part("+3582", 9, 3, 3, "z");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 10002, out, sizeof(out)), 0);
	m = part("+3582", 9, 3, 1, "x");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 10003, out, sizeof(out)), 1);
	assert_string_equal(out, "xyz");

	/* Full table (a sender each): the oldest entry goes, and the log can say whose. */
	gw_sms_reasm_init(&r, 100000);
	char from[32];
	for (int i = 0; i < GW_SMS_REASM_SLOTS; i++) {
		snprintf(from, sizeof(from), "+35830%02d", i);
		m = part(from, 1, 2, 1, "a");
		assert_int_equal(gw_sms_reasm_add(&r, &m, i, out, sizeof(out)), 0);
	}
	m = part("+3583099", 1, 2, 1, "a");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 50, out, sizeof(out)), 0);
	assert_int_equal(r.dropped, 1);
	assert_string_equal(r.last_dropped, "+3583000");
	m = part("+3583001", 1, 2, 2, "b");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 51, out, sizeof(out)), 1);
	assert_string_equal(out, "ab");
	m = part("+3583000", 1, 2, 2, "b"); /* evicted: starts over */
	assert_int_equal(gw_sms_reasm_add(&r, &m, 52, out, sizeof(out)), 0);
	assert_int_equal(r.dropped, 1); /* the slot +3583001 freed took it */

	/* Too many parts, too small an output, a bad seq. */
	m = part("+3584", 1, GW_SMS_REASM_PARTS + 1, 1, "a");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 60, out, sizeof(out)), -EMSGSIZE);
	m = part("+3584", 2, 2, 3, "a");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 60, out, sizeof(out)), -EINVAL);
	m = part("+3584", 3, 2, 1, "abc");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 60, out, sizeof(out)), 0);
	m = part("+3584", 3, 2, 2, "def");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 60, out, 6), -ENOSPC);
	m = part("+3584", 4, 0, 0, "abcdef");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 60, out, 6), -ENOSPC);
	assert_int_equal(gw_sms_reasm_add(&r, &m, 60, out, 7), 1);
}

/*
 * Strangers cannot push a worker's long reply out of the table: one sender holds at most
 * GW_SMS_REASM_PER_SENDER incomplete messages (its own oldest goes), and 16 strangers fit
 * beside the worker. A reply of 11 parts is reassembled, not dropped.
 */
static void test_reasm_per_sender_and_long(void **state)
{
	(void)state;
	static struct gw_sms_reasm r;
	static char out[GW_SMS_REASM_TEXT_MAX];
	struct gw_sms_msg m;
	char from[24];

	gw_sms_reasm_init(&r, 600000);
	m = part("+358401234567", 7, 2, 1, "Tulen ");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 0, out, sizeof(out)), 0);
	for (int i = 0; i < 16; i++) {
		snprintf(from, sizeof(from), "+467000000%02d", i);
		m = part(from, 1, 2, 1, "spam");
		assert_int_equal(gw_sms_reasm_add(&r, &m, 1 + i, out, sizeof(out)), 0);
	}
	for (int i = 0; i < 16; i++) {
		m = part("+46700000099", (uint16_t)(100 + i), 2, 1, "spam");
		assert_int_equal(gw_sms_reasm_add(&r, &m, 20 + i, out, sizeof(out)), 0);
	}
	m = part("+358401234567", 7, 2, 2, "heti.");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 40, out, sizeof(out)), 1);
	assert_string_equal(out, "Tulen heti.");
	/* the flooding sender lost only its own: its last two are still there */
	m = part("+46700000099", 115, 2, 2, "!");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 41, out, sizeof(out)), 1);
	m = part("+46700000099", 100, 2, 2, "!");
	assert_int_equal(gw_sms_reasm_add(&r, &m, 42, out, sizeof(out)), 0);

	/* 11 parts, last first */
	for (int s = 11; s >= 1; s--) {
		char t[8];
		snprintf(t, sizeof(t), "%c", 'a' + s - 1);
		m = part("+358401234567", 8, 11, (uint8_t)s, t);
		assert_int_equal(gw_sms_reasm_add(&r, &m, 50, out, sizeof(out)), s == 1 ? 1 : 0);
	}
	assert_string_equal(out, "abcdefghijk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_example),
	    cmocka_unit_test(test_submit_options),
	    cmocka_unit_test(test_vp_from_minutes),
	    cmocka_unit_test(test_submit_rejects),
	    cmocka_unit_test(test_parts_limit),
	    cmocka_unit_test(test_rt_finnish),
	    cmocka_unit_test(test_rt_escape),
	    cmocka_unit_test(test_rt_ucs2),
	    cmocka_unit_test(test_rt_emoji),
	    cmocka_unit_test(test_rt_gsm7_160_161),
	    cmocka_unit_test(test_rt_ucs2_70_71),
	    cmocka_unit_test(test_rt_escape_at_split),
	    cmocka_unit_test(test_rt_surrogate_at_split),
	    cmocka_unit_test(test_rt_empty),
	    cmocka_unit_test(test_submit_to_deliver),
	    cmocka_unit_test(test_decode_finnish_deliver),
	    cmocka_unit_test(test_decode_alnum_ucs2_negative_tz),
	    cmocka_unit_test(test_decode_concat16),
	    cmocka_unit_test(test_decode_8bit_national),
	    cmocka_unit_test(test_decode_status_report),
	    cmocka_unit_test(test_decode_oddities),
	    cmocka_unit_test(test_decode_malformed),
	    cmocka_unit_test(test_reasm),
	    cmocka_unit_test(test_reasm_per_sender_and_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
