/*
 * Unit tests for gateway/sds.c: every example PDU of tetra-pei.md section 1
 * decoded field by field, real LIP reports from Motorola (88-bit padded) and
 * Sepura (21 digits) terminals, Finnish text round trips in ISO-8859-1/15,
 * coding choice, concatenation split and reassembly, and malformed input.
 * Expected LIP values were computed independently (Python) from the bit
 * layout; the Sepura forum sample 0A00B8C31A53EB496D6200 matches the AVL log
 * position the forum post gives (52.37570, 16.23886).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "radio/sds.h"

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(got, want, eps) near((got), (want), (eps), __LINE__)
static void near(double got, double want, double eps, int line)
{
	if (!(fabs(got - want) <= eps)) {
		print_error("line %d: %.12f is not %.12f (+-%g)\n", line, got, want, eps);
		fail();
	}
}

static struct gw_sds_msg m; /* ~5 KB: keep it off the stack */

static int dec(int ai, int bits, const char *hex, const char **why)
{
	return gw_sds_decode(ai, bits, hex, &m, why);
}

/* --- examples from tetra-pei.md section 1 -------------------------------- */

static void test_example_sdstl_text(void **state)
{
	(void)state;
	const char *why = NULL;
	assert_int_equal(dec(12, 112, "82040801476A61746A616A676A61", &why), 0);
	assert_string_equal(why, "");
	assert_int_equal(m.kind, GW_SDS_TEXT);
	assert_int_equal(m.pid, 0x82);
	assert_true(m.text.sdstl);
	assert_false(m.text.immediate);
	assert_int_equal(m.text.report_req, GW_SDS_RR_RECEIVED);
	assert_int_equal(m.text.service_sel, 0);
	assert_false(m.text.store_fwd);
	assert_int_equal(m.text.ref, 0x08);
	assert_int_equal(m.text.coding, GW_SDS_CODING_LATIN1);
	assert_false(m.text.has_timestamp);
	assert_false(m.text.concat);
	assert_string_equal(m.text.text, "Gjatjajgja");
	assert_int_equal(m.text.len, 10);
}

static void test_example_testmessage(void **state)
{
	(void)state;
	assert_int_equal(dec(12, 120, "82029C01746573746D657373616765", NULL), 0);
	assert_int_equal(m.kind, GW_SDS_TEXT);
	assert_int_equal(m.text.report_req, GW_SDS_RR_NONE);
	assert_int_equal(m.text.service_sel, 1);
	assert_int_equal(m.text.ref, 0x9C);
	assert_string_equal(m.text.text, "testmessage");
}

static void test_example_status(void **state)
{
	(void)state;
	assert_int_equal(dec(13, 16, "8002", NULL), 0);
	assert_int_equal(m.kind, GW_SDS_STATUS);
	assert_int_equal(m.pid, 0);
	assert_int_equal(m.status.value, 0x8002);
	assert_false(m.status.short_report);
	/* 0x7C..0x7F: SDS-SHORT-REPORT (identifier 011111), value still given */
	assert_int_equal(dec(13, 16, "7F05", NULL), 0);
	assert_int_equal(m.status.value, 0x7F05);
	assert_true(m.status.short_report);
	assert_int_equal(m.status.sr_type, 3);
	assert_int_equal(m.status.sr_ref, 5);
	/* user-defined statuses in 0xF800.. are statuses, not reports */
	assert_int_equal(dec(13, 16, "FA05", NULL), 0);
	assert_false(m.status.short_report);
	assert_int_equal(dec(13, 16, "7B05", NULL), 0);
	assert_false(m.status.short_report);
}

static void test_example_report(void **state)
{
	(void)state;
	assert_int_equal(dec(12, 32, "82100002", NULL), 0);
	assert_int_equal(m.kind, GW_SDS_REPORT);
	assert_int_equal(m.pid, 0x82);
	assert_int_equal(m.report.status, 0x00);
	assert_int_equal(m.report.ref, 0x02);
	assert_false(m.report.ack_required);
	assert_false(m.report.store_fwd);
	assert_string_equal(gw_sds_delivery_name(m.report.status),
			    "receipt acknowledged by destination");
	/* ack requested, status 0x4B */
	assert_int_equal(dec(12, 32, "82184B7F", NULL), 0);
	assert_true(m.report.ack_required);
	assert_int_equal(m.report.status, 0x4B);
	assert_int_equal(m.report.ref, 0x7F);
	/* SDS-ACK */
	assert_int_equal(dec(12, 32, "82200011", NULL), 0);
	assert_int_equal(m.kind, GW_SDS_ACK);
	assert_int_equal(m.report.ref, 0x11);
}

/* --- LIP ------------------------------------------------------------------ */

static void check_yo9ion(void)
{
	assert_int_equal(m.kind, GW_SDS_LIP);
	assert_int_equal(m.pid, 0x0A);
	assert_int_equal(m.lip.time_elapsed, 1);
	assert_int_equal(m.lip.lon_raw, 2427509);
	assert_int_equal(m.lip.lat_raw, 4188585);
	assert_near(m.lip.lon_deg, 26.04434609413147, 1e-9);
	assert_near(m.lip.lat_deg, 44.93864178657532, 1e-9);
	assert_int_equal(m.lip.pos_error, 7);
	assert_string_equal(gw_sds_lip_pos_error_name(m.lip.pos_error), "unknown");
	assert_int_equal(m.lip.velocity, 127);
	assert_near(m.lip.speed_kmh, -1.0, 1e-12);
	assert_int_equal(m.lip.direction, 15);
	assert_near(m.lip.heading_deg, 337.5, 1e-12);
	assert_int_equal(m.lip.add_type, 0);
	assert_int_equal(m.lip.add_data, 129);
	assert_int_equal(m.lip.bits_used, 84);
}

static void test_lip_84_and_88_bits(void **state)
{
	(void)state;
	/* Motorola: header says 84 bits but 22 digits (88 bits) follow */
	assert_int_equal(dec(12, 84, "0A112853A9FF4D4FFFE810", NULL), 0);
	check_yo9ion();
	assert_int_equal(dec(12, 88, "0A112853A9FF4D4FFFE810", NULL), 0);
	check_yo9ion();
}

static void test_lip_sepura_west(void **state)
{
	(void)state;
	/* Sepura SEG3900: 21 digits for 84 bits (N5UWU, Texas: west longitude) */
	assert_int_equal(dec(12, 84, "0A0BA7D5B95BC50AFFE16", NULL), 0);
	assert_int_equal(m.kind, GW_SDS_LIP);
	assert_int_equal(m.lip.lon_raw, -9110857);
	assert_int_equal(m.lip.lat_raw, 2848929);
	assert_near(m.lip.lon_deg, -97.7488911151886, 1e-9);
	assert_near(m.lip.lat_deg, 30.56569218635559, 1e-9);
	assert_int_equal(m.lip.pos_error, 2);
	assert_int_equal(m.lip.add_data, 22);
	/* the same 21 digits claiming 88 bits is more than the data */
	assert_int_equal(dec(12, 88, "0A0BA7D5B95BC50AFFE16", NULL), -EMSGSIZE);
}

static void test_lip_sepura_forum_sample(void **state)
{
	(void)state;
	assert_int_equal(dec(12, 88, "0A00B8C31A53EB496D6200", NULL), 0);
	assert_near(m.lip.lat_deg, 52.37570, 5e-6);
	assert_near(m.lip.lon_deg, 16.23886, 5e-6);
	assert_int_equal(m.lip.pos_error, 1);
	assert_string_equal(gw_sds_lip_pos_error_name(1), "<20 m");
	assert_int_equal(m.lip.velocity, 54);
	assert_near(m.lip.speed_kmh, 73.82636349399978, 1e-9); /* 16*1.038^41 */
	assert_near(m.lip.heading_deg, 247.5, 1e-12);
	assert_int_equal(m.lip.add_data, 32);
}

static void test_lip_south_west(void **state)
{
	(void)state;
	/* Buenos Aires, built bit by bit in Python: speed code 40, direction 6, reason 3 */
	assert_int_equal(dec(12, 84, "0A0D67BF4676496A50C030", NULL), 0);
	assert_int_equal(m.lip.lon_raw, -5441560);
	assert_int_equal(m.lip.lat_raw, -3225299);
	assert_near(m.lip.lon_deg, -58.38160514831543, 1e-9);
	assert_near(m.lip.lat_deg, -34.60370421409607, 1e-9);
	assert_near(m.lip.speed_kmh, 43.797419946641696, 1e-9);
	assert_near(m.lip.heading_deg, 135.0, 1e-12);
	assert_int_equal(m.lip.add_type, 0);
	assert_int_equal(m.lip.add_data, 3);
	assert_string_equal(gw_sds_lip_reason_name(m.lip.add_data),
			    "push-to-talk condition detected");
}

static void test_lip_bad(void **state)
{
	(void)state;
	const char *why;
	assert_int_equal(dec(12, 80, "0A112853A9FF4D4FFFE810", &why), -EBADMSG);
	assert_string_equal(why, "LIP short location report shorter than 84 bits");
	/* PDU type 1 (long report / extension) */
	assert_int_equal(dec(12, 88, "0A512853A9FF4D4FFFE810", &why), -EPROTONOSUPPORT);
	assert_string_equal(why, "LIP PDU type is not a short location report");
	assert_string_equal(gw_sds_lip_reason_name(200), "unnamed");
	assert_string_equal(gw_sds_lip_pos_error_name(8), "invalid");
}

/* --- text codings --------------------------------------------------------- */

static void roundtrip(const char *utf8, int want_coding, const char *want_hex)
{
	char hex[GW_SDS_HEX_MAX];
	int bits = 0;
	assert_int_equal(gw_sds_encode_text(utf8, GW_SDS_RR_RECEIVED, 5, hex, sizeof(hex), &bits),
			 want_coding);
	if (want_hex)
		assert_string_equal(hex, want_hex);
	assert_int_equal(bits, (int)strlen(hex) * 4);
	assert_int_equal(dec(12, bits, hex, NULL), 0);
	assert_int_equal(m.text.coding, want_coding);
	assert_int_equal(m.text.ref, 5);
	assert_int_equal(m.text.report_req, GW_SDS_RR_RECEIVED);
	assert_int_equal(m.text.service_sel, 1); /* standard report only */
	assert_string_equal(m.text.text, utf8);
}

static void test_finnish_latin1(void **state)
{
	(void)state;
	roundtrip("äö", GW_SDS_CODING_LATIN1, "82060501E4F6");
	roundtrip("Hyvää yötä, Åke! ÄÖÅ åäö", GW_SDS_CODING_LATIN1, NULL);
	roundtrip("", GW_SDS_CODING_LATIN1, "82060501");
}

static void test_finnish_latin9(void **state)
{
	(void)state;
	/* € forces ISO-8859-15; å/ä/ö keep their Latin-1 octets there */
	roundtrip("€å", GW_SDS_CODING_LATIN9, "8206050DA4E5");
	roundtrip("Maksu 5 € – ei, 5 €: Åbo, äiti, öljy", GW_SDS_CODING_UTF16BE, NULL);
	roundtrip("Maksu 5 €, Åbo, äiti, öljy, ŠšŽžŒœŸ", GW_SDS_CODING_LATIN9, NULL);
	/* the eight positions where 8859-15 and 8859-1 differ */
	assert_int_equal(dec(12, 88, "8202010DA6A8B4B8BCBDBE", NULL), 0);
	assert_string_equal(m.text.text, "ŠšŽžŒœŸ");
	assert_int_equal(dec(12, 88, "82020101A6A8B4B8BCBDBE", NULL), 0);
	assert_string_equal(m.text.text, "¦¨´¸¼½¾");
	/* € and ½ fit neither single-octet set */
	roundtrip("€½", GW_SDS_CODING_UTF16BE, "8206051A20AC00BD");
}

static void test_utf16(void **state)
{
	(void)state;
	roundtrip("緊急", GW_SDS_CODING_UTF16BE, "8206051A7DCA6025");
	roundtrip("🚑 ambulanssi", GW_SDS_CODING_UTF16BE, NULL);
	assert_int_equal(dec(12, 72, "8202011AD83DDE91", NULL), -EMSGSIZE);
	assert_int_equal(dec(12, 64, "8202011AD83DDE91", NULL), 0);
	assert_string_equal(m.text.text, "🚑");
	/* a lone surrogate becomes U+FFFD */
	assert_int_equal(dec(12, 48, "8202011AD83D", NULL), 0);
	assert_string_equal(m.text.text, "\xEF\xBF\xBD");
}

static void test_other_codings(void **state)
{
	(void)state;
	/* simple text 0x02, ISO-8859-1 */
	assert_int_equal(dec(12, 56, "020148656C6C6F", NULL), 0);
	assert_int_equal(m.kind, GW_SDS_TEXT);
	assert_false(m.text.sdstl);
	assert_false(m.text.immediate);
	assert_string_equal(m.text.text, "Hello");
	/* simple immediate 0x09 and immediate SDS-TL 0x89 */
	assert_int_equal(dec(12, 32, "09014869", NULL), 0);
	assert_true(m.text.immediate);
	assert_int_equal(dec(12, 48, "890201014869", NULL), 0);
	assert_true(m.text.immediate);
	assert_true(m.text.sdstl);
	assert_string_equal(m.text.text, "Hi");
	/* packed 7-bit: the classic GSM "hellohello" */
	assert_int_equal(dec(12, 88, "0200E8329BFD4697D9EC37", NULL), 0);
	assert_int_equal(m.text.coding, GW_SDS_CODING_GSM7);
	assert_string_equal(m.text.text, "hellohello");
	/* GSM alphabet and the escape to € */
	assert_int_equal(dec(12, 48, "0200DB4D190F", NULL), 0);
	assert_string_equal(m.text.text, "Ä€x");
	/* 7 septets in 7 octets: the zero eighth septet is padding; 8 are 8 */
	assert_int_equal(dec(12, 72, "020061F1985C369F01", NULL), 0);
	assert_string_equal(m.text.text, "abcdefg");
	assert_int_equal(dec(12, 72, "020061F1985C369FD1", NULL), 0);
	assert_string_equal(m.text.text, "abcdefgh");
	/* extension table; eight septets filling seven octets are all kept */
	assert_int_equal(dec(12, 72, "02001BD426B5E16D7C", NULL), 0);
	assert_string_equal(m.text.text, "{}[]");
	/* bit length not on an octet boundary; an escape at the end is dropped */
	assert_int_equal(dec(12, 30, "0200C10D", NULL), 0);
	assert_string_equal(m.text.text, "A");
	/* an escape to a code the extension table lacks shows the basic character */
	assert_int_equal(dec(12, 30, "02009B20", NULL), 0);
	assert_string_equal(m.text.text, "A");
	/* unknown coding (2 = ISO-8859-2) shown as ISO-8859-1 and flagged */
	assert_int_equal(dec(12, 40, "8202010241", NULL), 0);
	assert_true(m.text.coding_fallback);
	assert_string_equal(m.text.text, "A");
	/* trailing NUL octets are padding, an embedded one becomes U+FFFD */
	assert_int_equal(dec(12, 64, "8202010141004200", NULL), 0);
	assert_string_equal(m.text.text, "A\xEF\xBF\xBD"
					 "B");
}

static void test_transfer_options(void **state)
{
	(void)state;
	/* timestamp flag: 24-bit timestamp before the text */
	assert_int_equal(dec(12, 72, "820207814008094869", NULL), 0);
	assert_true(m.text.has_timestamp);
	assert_int_equal(m.text.timestamp, 0x400809);
	assert_int_equal(m.text.coding, 1);
	assert_string_equal(m.text.text, "Hi");
	/* store/forward block, forward address type 1 (SSI) */
	assert_int_equal(dec(12, 80, "82030701123456014869", NULL), 0);
	assert_true(m.text.store_fwd);
	assert_int_equal(m.text.ref, 7);
	assert_string_equal(m.text.text, "Hi");
	/* forward to TSI (SSI + 24-bit extension) */
	assert_int_equal(dec(12, 104, "82030702123456ABCDEF014869", NULL), 0);
	assert_string_equal(m.text.text, "Hi");
	/* no forward address (type 7) */
	assert_int_equal(dec(12, 56, "82030707014869", NULL), 0);
	assert_string_equal(m.text.text, "Hi");
	/* forward to SNA */
	assert_int_equal(dec(12, 64, "82030700AA014869", NULL), 0);
	assert_string_equal(m.text.text, "Hi");
	/* external number with 3 digits and the dummy digit that pads it */
	assert_int_equal(dec(12, 80, "82030703031230014869", NULL), 0);
	assert_int_equal(m.text.coding, 1);
	assert_string_equal(m.text.text, "Hi");
	/* UDH: an unknown element is skipped, then the 8-bit concatenation element */
	assert_int_equal(dec(12, 112, "8A000101080101FF000305020141", NULL), 0);
	assert_true(m.text.concat);
	assert_int_equal(m.text.concat_ref, 5);
	assert_int_equal(m.text.concat_total, 2);
	assert_int_equal(m.text.concat_seq, 1);
	assert_string_equal(m.text.text, "A");
	/* 16-bit reference element (IEI 8) */
	assert_int_equal(dec(12, 96, "8A0001010608041234020241", NULL), 0);
	assert_int_equal(m.text.concat_ref, 0x1234);
	assert_int_equal(m.text.concat_seq, 2);
	/* a UDH without a concatenation element is plain text */
	assert_int_equal(dec(12, 64, "8A00010101004869", NULL), -EBADMSG);
	assert_int_equal(dec(12, 72, "8A0001010201004869", NULL), 0);
	assert_false(m.text.concat);
	assert_string_equal(m.text.text, "Hi");
	/* lower-case hex is accepted */
	assert_int_equal(dec(12, 32, "8210000a", NULL), 0);
	assert_int_equal(m.report.ref, 10);
	/* trailing zero UTF-16 units are padding */
	assert_int_equal(dec(12, 64, "8202011A00410000", NULL), 0);
	assert_string_equal(m.text.text, "A");
}

/*
 * A forward address that is an external number: 4 bits a digit, and a dummy
 * digit when the count is odd, so what follows starts on the octet boundary
 * (EN 300 392-2 29.4.3.x, table of SDS-TRANSFER). Every digit count from 0 to
 * 40, with and without a timestamp, must leave the text intact.
 */
static void test_store_fwd_external_number(void **state)
{
	(void)state;
	/* the field report: 3 digits "123", dummy 0, ISO-8859-1 "Tallenna" */
	assert_int_equal(dec(12, 128, "8203421B0312300154616C6C656E6E61", NULL), 0);
	assert_true(m.text.store_fwd);
	assert_int_equal(m.text.ref, 0x42);
	assert_int_equal(m.text.coding, 1);
	assert_string_equal(m.text.text, "Tallenna");
	for (int ts = 0; ts < 2; ts++) {
		for (unsigned nd = 0; nd <= 40; nd++) {
			char hex[200];
			int n = snprintf(hex, sizeof(hex), "82030B1B%02X", nd);
			for (unsigned d = 0; d < nd; d++)
				hex[n++] = (char)('0' + (d + 1) % 10);
			if (nd % 2)
				hex[n++] = '0'; /* the dummy digit */
			n += snprintf(hex + n, sizeof(hex) - (size_t)n, "%s54616C6C656E6E61",
				      ts ? "81400809" : "01");
			assert_int_equal(dec(12, n * 4, hex, NULL), 0);
			assert_int_equal(m.text.ref, 0x0B);
			assert_int_equal(m.text.coding, 1);
			assert_int_equal(m.text.has_timestamp, ts);
			assert_string_equal(m.text.text, "Tallenna");
		}
	}
	/* the dummy digit missing: the block is one nibble short */
	const char *why = NULL;
	assert_int_equal(dec(12, 52, "8203071B031230", &why), -EBADMSG);
	assert_string_equal(why, "store/forward block truncated");
}

/*
 * A concatenation element whose sequence is 0, whose total is 0 or whose
 * sequence is beyond the total is ignored, as 3GPP TS 23.040 9.2.3.24.1 tells
 * a receiver to: the part is shown as a text of its own, never dropped.
 */
static void test_concat_element_out_of_range(void **state)
{
	(void)state;
	static const char *const bad_ie[] = {
	    "8A0001010500030502004869",	  /* seq 0 */
	    "8A0001010500030500014869",	  /* total 0 */
	    "8A0001010500030502034869",	  /* seq > total */
	    "8A000101060804123402004869", /* 16-bit reference, seq 0 */
	};
	for (size_t i = 0; i < sizeof(bad_ie) / sizeof(bad_ie[0]); i++) {
		const char *why = NULL;
		assert_int_equal(dec(12, (int)strlen(bad_ie[i]) * 4, bad_ie[i], &why), 0);
		assert_int_equal(m.kind, GW_SDS_TEXT);
		assert_false(m.text.concat);
		assert_string_equal(m.text.text, "Hi");
	}
}

/*
 * UTF-16 text with an odd number of octets: the complete characters are
 * shown and the stray final octet dropped, as peers do; for any text length.
 */
static void test_utf16_odd_octets(void **state)
{
	(void)state;
	for (unsigned k = 0; k <= 20; k++) {
		char hex[200];
		int n = snprintf(hex, sizeof(hex), "8202011A");
		char want[32];
		for (unsigned i = 0; i < k; i++) {
			n += snprintf(hex + n, sizeof(hex) - (size_t)n, "00%02X", 'a' + i);
			want[i] = (char)('a' + i);
		}
		want[k] = '\0';
		n += snprintf(hex + n, sizeof(hex) - (size_t)n, "4E"); /* half a unit */
		assert_int_equal(dec(12, n * 4, hex, NULL), 0);
		assert_string_equal(m.text.text, want);
	}
}

/* --- malformed input ------------------------------------------------------ */

static void expect(int ai, int bits, const char *hex, int rc, const char *reason)
{
	const char *why = NULL;
	assert_int_equal(dec(ai, bits, hex, &why), rc);
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void test_malformed(void **state)
{
	(void)state;
	expect(12, 32, "82G00002", -EINVAL, "not a hex digit");
	expect(12, 32, "8210 002", -EINVAL, "not a hex digit");
	expect(12, 32, "821000020", -EINVAL, "odd number of hex digits");
	expect(12, 32, "821000", -EMSGSIZE, "bit length larger than the data");
	expect(12, 0, "82100002", -EINVAL, "bit length must be positive");
	expect(12, -8, "82100002", -EINVAL, "bit length must be positive");
	expect(12, 2048, "82100002", -EMSGSIZE, "bit length over 2047");
	expect(12, 32, "", -EINVAL, "empty PDU");
	expect(9, 16, "8002", -EPROTONOSUPPORT,
	       "AI service is neither SDS type 4 (12) nor status (13)");
	expect(13, 32, "80020000", -EBADMSG, "status SDS must be 16 bits");
	expect(12, 32, "45000000", -EPROTONOSUPPORT, "unsupported protocol identifier");
	expect(12, 32, "0C000000", -EPROTONOSUPPORT, "unsupported protocol identifier");
	expect(12, 4, "82", -EBADMSG, "PDU shorter than its protocol identifier");
	expect(12, 8, "82", -EBADMSG, "SDS-TL message type missing");
	expect(12, 32, "82300002", -EPROTONOSUPPORT, "unsupported SDS-TL message type");
	expect(12, 16, "8210", -EBADMSG, "SDS-REPORT truncated");
	expect(12, 16, "8220", -EBADMSG, "SDS-ACK truncated");
	expect(12, 16, "8204", -EBADMSG, "SDS-TRANSFER header truncated");
	expect(12, 24, "820408", -EBADMSG, "text header missing");
	expect(12, 48, "820208810102", -EBADMSG, "timestamp truncated");
	expect(12, 40, "8203070112", -EBADMSG, "store/forward block truncated");
	expect(12, 56, "82030704014869", -EBADMSG, "reserved forward address type");
	expect(12, 8, "02", -EBADMSG, "simple text without coding scheme");
	expect(12, 32, "8A000101", -EBADMSG, "user data header missing");
	expect(12, 56, "8A0001010500", -EMSGSIZE, "bit length larger than the data");
	expect(12, 48, "8A0001010500", -EBADMSG, "user data header longer than the PDU");
	expect(12, 64, "8A00010102000541", -EBADMSG, "UDH element overruns the header");
	expect(12, 96, "8A000101050003050203", -EMSGSIZE, "bit length larger than the data");
	expect(12, 8, "0A", -EBADMSG, "LIP PDU type missing");

	/* an overlong line is refused before it is read */
	char big[2 * 256 + 3];
	memset(big, '0', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect(12, 32, big, -EMSGSIZE, "PDU longer than 256 octets");
	assert_int_equal(gw_sds_decode(12, 32, NULL, &m, NULL), -EINVAL);
}

/* --- encoders ------------------------------------------------------------- */

static void test_encode_misc(void **state)
{
	(void)state;
	char hex[GW_SDS_HEX_MAX];
	int bits = 0;
	assert_int_equal(gw_sds_encode_status(0x8002, hex, sizeof(hex), &bits), 0);
	assert_string_equal(hex, "8002");
	assert_int_equal(bits, 16);
	assert_int_equal(gw_sds_encode_status(0x000A, hex, sizeof(hex), &bits), 0);
	assert_string_equal(hex, "000A");
	assert_int_equal(gw_sds_encode_status(0x8002, hex, 4, &bits), -ENOBUFS);

	assert_int_equal(gw_sds_encode_report(0x82, 0x00, 0x9C, hex, sizeof(hex), &bits), 0);
	assert_string_equal(hex, "8210009C");
	assert_int_equal(bits, 32);
	assert_int_equal(dec(12, bits, hex, NULL), 0);
	assert_int_equal(m.kind, GW_SDS_REPORT);
	assert_int_equal(m.report.ref, 0x9C);
	assert_int_equal(gw_sds_encode_report(0x8A, 0x02, 0x01, hex, sizeof(hex), &bits), 0);
	assert_string_equal(hex, "8A100201");
	assert_int_equal(gw_sds_encode_report(0x02, 0, 1, hex, sizeof(hex), &bits), -EINVAL);

	/* invalid UTF-8: bad continuation, overlong, surrogate, above U+10FFFF */
	assert_int_equal(gw_sds_encode_text("\xC3\x28", 0, 1, hex, sizeof(hex), &bits), -EINVAL);
	assert_int_equal(gw_sds_encode_text("\xC0\xAF", 0, 1, hex, sizeof(hex), &bits), -EINVAL);
	assert_int_equal(gw_sds_encode_text("\xED\xA0\x80", 0, 1, hex, sizeof(hex), &bits),
			 -EINVAL);
	assert_int_equal(gw_sds_encode_text("\xF4\x90\x80\x80", 0, 1, hex, sizeof(hex), &bits),
			 -EINVAL);
	assert_int_equal(gw_sds_encode_text("ok", 4, 1, hex, sizeof(hex), &bits), -EINVAL);
	assert_int_equal(gw_sds_encode_text("ok", 0, 1, hex, 12, &bits), -ENOBUFS);
	assert_int_equal(gw_sds_encode_text("ok", GW_SDS_RR_BOTH, 0xFF, hex, 13, &bits), 1);
	assert_string_equal(hex, "820EFF016F6B");

	/* 251 Latin-1 characters fit 2047 bits, 252 do not */
	char text[300];
	memset(text, 'a', 251);
	text[251] = '\0';
	assert_int_equal(gw_sds_encode_text(text, 0, 1, hex, sizeof(hex), &bits), 1);
	assert_int_equal(bits, 255 * 8);
	text[251] = 'a';
	text[252] = '\0';
	assert_int_equal(gw_sds_encode_text(text, 0, 1, hex, sizeof(hex), &bits), -EMSGSIZE);
}

static void test_delivery_names(void **state)
{
	(void)state;
	assert_string_equal(gw_sds_delivery_name(0x02), "consumed by destination");
	assert_string_equal(gw_sds_delivery_name(0x4B), "destination not registered on system");
	assert_string_equal(gw_sds_delivery_name(0x5A),
			    "destination not reachable, message delivery failed");
	assert_string_equal(gw_sds_delivery_name(0x22),
			    "destination not reachable, message stored by SwMI");
	assert_string_equal(gw_sds_delivery_name(0x25), "temporary error (unnamed code)");
	assert_string_equal(gw_sds_delivery_name(0x55), "data transfer failed (unnamed code)");
	assert_string_equal(gw_sds_delivery_name(0x07), "success (unnamed code)");
	assert_string_equal(gw_sds_delivery_name(0x64), "flow control (unnamed code)");
	assert_string_equal(gw_sds_delivery_name(0x81), "start sending");
	assert_string_equal(gw_sds_delivery_name(0x90), "end-to-end control (unnamed code)");
	assert_string_equal(gw_sds_delivery_name(0xC0), "reserved");
	assert_int_equal(gw_sds_delivery_class(0x00), GW_SDS_DC_SUCCESS);
	assert_int_equal(gw_sds_delivery_class(0x21), GW_SDS_DC_TEMPORARY);
	assert_int_equal(gw_sds_delivery_class(0x4B), GW_SDS_DC_FAILED);
	assert_int_equal(gw_sds_delivery_class(0x5A), GW_SDS_DC_FAILED);
	assert_int_equal(gw_sds_delivery_class(0x60), GW_SDS_DC_FLOW);
	assert_int_equal(gw_sds_delivery_class(0x80), GW_SDS_DC_E2E);
	assert_int_equal(gw_sds_delivery_class(0xFF), GW_SDS_DC_RESERVED);
}

/* --- concatenation -------------------------------------------------------- */

static struct gw_sds_part parts[300];
static struct gw_sds_reasm reasm;
static struct gw_sds_msg partmsg[16];

static void make_long_text(char *buf, size_t n)
{
	static const char words[] = "Hälytys: yksikkö ÅÄÖ tarvitsee päivystäjän heti. ";
	size_t len = 0;
	while (len + sizeof(words) < n) {
		memcpy(buf + len, words, sizeof(words) - 1);
		len += sizeof(words) - 1;
	}
	buf[len] = '\0';
}

static void test_split_single(void **state)
{
	(void)state;
	assert_int_equal(gw_sds_split_text("Hi", GW_SDS_RR_RECEIVED, 1, 2047, parts, 4), 1);
	assert_string_equal(parts[0].hex, "820601014869");
	assert_int_equal(parts[0].bits, 48);
	assert_int_equal(parts[0].ref, 1);
}

static void test_split_reassemble_out_of_order(void **state)
{
	(void)state;
	char text[400], out[2048];
	make_long_text(text, 300);
	/* 400 bits = 50 octets: 40 octets of text per 0x8A part */
	int n = gw_sds_split_text(text, GW_SDS_RR_BOTH, 0xFE, 400, parts, 16);
	int chars = 0;
	for (const char *p = text; *p; p++)
		chars += (*p & 0xC0) != 0x80;
	assert_int_equal(n, (chars + 39) / 40);
	assert_true(n >= 3 && n <= GW_SDS_REASM_PARTS);
	for (int i = 0; i < n; i++) {
		char head[32];
		snprintf(head, sizeof(head), "8A0E%02X01050003FE%02X%02X", (0xFE + i) & 0xFF, n,
			 i + 1);
		assert_memory_equal(parts[i].hex, head, strlen(head));
		assert_true(parts[i].bits <= 400);
		assert_int_equal(parts[i].bits, (int)strlen(parts[i].hex) * 4);
		assert_int_equal(parts[i].ref, (0xFE + i) & 0xFF);
		assert_int_equal(gw_sds_decode(12, parts[i].bits, parts[i].hex, &partmsg[i], NULL),
				 0);
		assert_true(partmsg[i].text.concat);
		assert_int_equal(partmsg[i].text.concat_ref, 0xFE);
		assert_int_equal(partmsg[i].text.concat_total, n);
		assert_int_equal(partmsg[i].text.concat_seq, i + 1);
		assert_int_equal(partmsg[i].text.report_req, GW_SDS_RR_BOTH);
	}
	gw_sds_reasm_init(&reasm, 30000);
	/* last part first, then the rest backwards, with one duplicate */
	for (int i = n - 1; i >= 1; i--) {
		assert_int_equal(
		    gw_sds_reasm_add(&reasm, "2269001", &partmsg[i], 1000 + i, out, sizeof(out)),
		    0);
		/* another sender with the same ref does not mix in */
		assert_int_equal(
		    gw_sds_reasm_add(&reasm, "2269002", &partmsg[i], 1000 + i, out, sizeof(out)),
		    0);
	}
	assert_int_equal(
	    gw_sds_reasm_add(&reasm, "2269001", &partmsg[n - 1], 2000, out, sizeof(out)), 0);
	assert_int_equal(gw_sds_reasm_add(&reasm, "2269001", &partmsg[0], 2001, out, sizeof(out)),
			 1);
	assert_string_equal(out, text);
	/* the other sender's entry is still waiting for part 1 */
	assert_int_equal(gw_sds_reasm_add(&reasm, "2269002", &partmsg[0], 2002, out, 10),
			 -EMSGSIZE);
	/* not a concatenated text */
	assert_int_equal(dec(12, 48, "820201014869", NULL), 0);
	assert_int_equal(gw_sds_reasm_add(&reasm, "2269001", &m, 0, out, sizeof(out)), -EINVAL);
}

static void test_reassembly_timeout(void **state)
{
	(void)state;
	char text[200], out[1024], who[GW_SDS_ID_MAX];
	int have = 0, total = 0;
	make_long_text(text, 100);
	int n = gw_sds_split_text(text, GW_SDS_RR_NONE, 7, 400, parts, 16);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		assert_int_equal(gw_sds_decode(12, parts[i].bits, parts[i].hex, &partmsg[i], NULL),
				 0);
	gw_sds_reasm_init(&reasm, 30000);
	assert_int_equal(gw_sds_reasm_add(&reasm, "2269001", &partmsg[0], 5000, out, sizeof(out)),
			 0);
	assert_int_equal(gw_sds_reasm_expire(&reasm, 35000, who, sizeof(who), &have, &total), 0);
	assert_int_equal(gw_sds_reasm_expire(&reasm, 35001, who, sizeof(who), &have, &total), 1);
	assert_string_equal(who, "2269001");
	assert_int_equal(have, 1);
	assert_int_equal(total, 2);
	assert_int_equal(gw_sds_reasm_expire(&reasm, 35002, who, sizeof(who), &have, &total), 0);
	/* part 2 after the partial was dropped starts a new entry */
	assert_int_equal(gw_sds_reasm_add(&reasm, "2269001", &partmsg[1], 35003, out, sizeof(out)),
			 0);
	/* a late part to an entry that timed out without expire() restarts it */
	assert_int_equal(gw_sds_reasm_add(&reasm, "2269001", &partmsg[0], 70000, out, sizeof(out)),
			 0);
	assert_int_equal(gw_sds_reasm_add(&reasm, "2269001", &partmsg[1], 70001, out, sizeof(out)),
			 1);
	assert_string_equal(out, text);
}

static void test_reassembly_table_full(void **state)
{
	(void)state;
	char text[200], out[1024], who[GW_SDS_ID_MAX];
	make_long_text(text, 100);
	assert_int_equal(gw_sds_split_text(text, GW_SDS_RR_NONE, 9, 400, parts, 16), 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(gw_sds_decode(12, parts[i].bits, parts[i].hex, &partmsg[i], NULL),
				 0);
	gw_sds_reasm_init(&reasm, 30000);
	/* five senders into four slots: the one idle longest ("100") is evicted */
	for (int s = 0; s <= GW_SDS_REASM_SLOTS; s++) {
		char sender[16];
		snprintf(sender, sizeof(sender), "%d", 100 + s);
		assert_int_equal(
		    gw_sds_reasm_add(&reasm, sender, &partmsg[0], 10 + s, out, sizeof(out)), 0);
	}
	assert_int_equal(gw_sds_reasm_add(&reasm, "104", &partmsg[1], 20, out, sizeof(out)), 1);
	assert_int_equal(gw_sds_reasm_add(&reasm, "101", &partmsg[1], 21, out, sizeof(out)), 1);
	assert_int_equal(gw_sds_reasm_add(&reasm, "100", &partmsg[1], 22, out, sizeof(out)), 0);
	assert_int_equal(gw_sds_reasm_expire(&reasm, 40000, who, sizeof(who), NULL, NULL), 1);
	/* inconsistent total for a held entry */
	partmsg[1].text.concat_total = 3;
	assert_int_equal(gw_sds_reasm_add(&reasm, "102", &partmsg[1], 23, out, sizeof(out)),
			 -EINVAL);
	/* more parts than the table holds */
	partmsg[1].text.concat_total = GW_SDS_REASM_PARTS + 1;
	assert_int_equal(gw_sds_reasm_add(&reasm, "102", &partmsg[1], 23, out, sizeof(out)),
			 -EMSGSIZE);
	assert_int_equal(
	    gw_sds_reasm_add(&reasm, "123456789012345678", &partmsg[0], 23, out, sizeof(out)),
	    -EINVAL);
}

static void test_split_limits(void **state)
{
	(void)state;
	/* one UTF-16 surrogate pair per part: never split inside a character */
	int n = gw_sds_split_text("🚑🚒🚓", GW_SDS_RR_NONE, 1, 120, parts, 16);
	assert_int_equal(n, 3);
	const char *want[] = {"🚑", "🚒", "🚓"};
	for (int i = 0; i < n; i++) {
		assert_int_equal(gw_sds_decode(12, parts[i].bits, parts[i].hex, &m, NULL), 0);
		assert_int_equal(m.text.coding, GW_SDS_CODING_UTF16BE);
		assert_string_equal(m.text.text, want[i]);
	}
	/* 112 bits leave exactly the 4 octets of a pair, 104 bits too few */
	assert_int_equal(gw_sds_split_text("🚑🚒🚓", 0, 1, 112, parts, 16), 3);
	assert_int_equal(gw_sds_split_text("🚑🚒🚓", 0, 1, 104, parts, 16), -EMSGSIZE);
	assert_int_equal(gw_sds_split_text("abcdefghijk", 0, 1, 80, parts, 16), -EMSGSIZE);
	assert_int_equal(gw_sds_split_text("abc", 0, 1, 0, parts, 16), -EINVAL);
	assert_int_equal(gw_sds_split_text("abc", 0, 1, 2048, parts, 16), -EINVAL);
	assert_int_equal(gw_sds_split_text("\xFF", 0, 1, 2047, parts, 16), -EINVAL);
	/* more parts than the caller has room for, and more than 255 */
	char text[300];
	make_long_text(text, 300);
	assert_int_equal(gw_sds_split_text(text, 0, 1, 400, parts, 2), -EMSGSIZE);
	static char huge[4000];
	memset(huge, 'x', 3000);
	huge[2551] = '\0'; /* 160 bits: 10 characters per part, 256 parts */
	assert_int_equal(gw_sds_split_text(huge, 0, 1, 160, parts, 300), -EMSGSIZE);
	huge[2550] = '\0';
	assert_int_equal(gw_sds_split_text(huge, 0, 1, 160, parts, 300), 255);
	assert_int_equal(gw_sds_split_text(huge, 0, 1, 160, parts, 254), -EMSGSIZE);
}

static void test_status_names(void **state)
{
	(void)state;
	static const struct {
		uint16_t v;
		const char *name;
	} t[] = {
	    {0, "emergency"},
	    {0x8002, "user-defined status"},
	    {0xffff, "user-defined status"},
	    {0x7c05, "SDS-SHORT-REPORT"},
	    {0x7fff, "SDS-SHORT-REPORT"},
	    {0x7bff, "status"},
	    {1, "status"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(gw_sds_status_name(t[i].v), t[i].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_sdstl_text),
	    cmocka_unit_test(test_example_testmessage),
	    cmocka_unit_test(test_example_status),
	    cmocka_unit_test(test_example_report),
	    cmocka_unit_test(test_lip_84_and_88_bits),
	    cmocka_unit_test(test_lip_sepura_west),
	    cmocka_unit_test(test_lip_sepura_forum_sample),
	    cmocka_unit_test(test_lip_south_west),
	    cmocka_unit_test(test_lip_bad),
	    cmocka_unit_test(test_finnish_latin1),
	    cmocka_unit_test(test_finnish_latin9),
	    cmocka_unit_test(test_utf16),
	    cmocka_unit_test(test_other_codings),
	    cmocka_unit_test(test_transfer_options),
	    cmocka_unit_test(test_store_fwd_external_number),
	    cmocka_unit_test(test_concat_element_out_of_range),
	    cmocka_unit_test(test_utf16_odd_octets),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_encode_misc),
	    cmocka_unit_test(test_delivery_names),
	    cmocka_unit_test(test_split_single),
	    cmocka_unit_test(test_split_reassemble_out_of_order),
	    cmocka_unit_test(test_reassembly_timeout),
	    cmocka_unit_test(test_reassembly_table_full),
	    cmocka_unit_test(test_split_limits),
	    cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests_name("sds", tests, NULL, NULL);
}
