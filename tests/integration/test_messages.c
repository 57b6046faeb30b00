/*
 * Integration: an officer's SDS text reaches the on-duty worker by SMS, and
 * the worker's SMS reply reaches the officer by SDS, through rinkid and both
 * simulators over ptys. The PDUs are decoded with the gateway's own codecs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>

#include "harness.h"
#include "radio/sds.h"
#include "phone/sms.h"

static struct h_rig rig;

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0 || h_start_rinkid(&rig, NULL) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig);
	return h_rinkid_status() == 0 ? 0 : -1;
}

/* The hex after the last "event <kind> ... " line's prefix. */
static void last_hex(const struct h_sim *s, const char *prefix, char *hex, size_t len)
{
	const char *ev = NULL, *p = s->events;
	while ((p = strstr(p, prefix)) != NULL)
		ev = p++;
	assert_non_null(ev);
	const char *end = strchr(ev, '\n');
	const char *sp = end;
	while (sp > ev && sp[-1] != ' ')
		sp--;
	snprintf(hex, len, "%.*s", (int)(end - sp), sp);
}

static void test_officer_text_and_reply(void **state)
{
	(void)state;
	size_t mp = 0, rp = 0;
	char hex[1024], err[128];
	assert_int_equal(h_cmd(&rig.radio, NULL, 0,
			       "sds-text 2269001 Tarvitaan sosiaalipäivystäjä, "
			       "Porrassalmenkatu 5"),
			 0);
	/* the terminal got a receipt report for the officer's text */
	assert_int_equal(h_wait_event(&rig.radio, &rp, "event sds-out 2269001", 3000), 0);
	/* the first worker on duty for sos gets it by SMS */
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 3000), 0);
	last_hex(&rig.modem, "event sms-out", hex, sizeof(hex));
	static struct gw_sms_msg m;
	char deliver[1024];
	static const uint8_t scts[7] = {0x62, 0x11, 0x52, 0x21, 0x00, 0x00, 0x80};
	assert_true(gw_sms_submit_to_deliver(hex, "+358401234567", scts, deliver, sizeof(deliver),
					     err, sizeof(err)) > 0);
	assert_int_equal(gw_sms_decode(deliver, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_non_null(strstr(m.text, "VIRVE Poliisi, Mikkeli (2269001): Tarvitaan "
				       "sosiaalipäivystäjä, Porrassalmenkatu 5"));

	/* Aino answers by SMS */
	struct gw_sms_submit sub;
	struct gw_sms_pdu pdu;
	gw_sms_submit_defaults(&sub);
	sub.to = "+358409999999";
	sub.text = "Lähden nyt, perillä 15 min";
	assert_int_equal(gw_sms_encode(&sub, &pdu, 1, err, sizeof(err)), 1);
	assert_true(gw_sms_submit_to_deliver(pdu.hex, "+358401234567", scts, deliver,
					     sizeof(deliver), err, sizeof(err)) > 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "sms-in %s", deliver), 0);
	/* read and deleted, then relayed to the officer */
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-deleted", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "event sds-out 2269001", 3000), 0);
	last_hex(&rig.radio, "event sds-out 2269001", hex, sizeof(hex));
	static struct gw_sds_msg s;
	assert_int_equal(gw_sds_decode(GW_SDS_AI_SDSTL, (int)strlen(hex) * 4, hex, &s, NULL), 0);
	assert_int_equal(s.kind, GW_SDS_TEXT);
	assert_string_equal(s.text.text, "aino: Lähden nyt, perillä 15 min");

	/* a garbage SMS is deleted and relayed to nobody */
	int sms_in = h_ev_count(&rig, "sms_in", NULL);
	assert_true(sms_in >= 1);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "sms-in-bad"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-deleted", 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 2000, "sms_dropped", "reason=unparsable", "detail~", NULL),
	    0);
	assert_int_equal(h_ev_count(&rig, "sms_dropped", NULL), 1);
	assert_int_equal(h_ev_count(&rig, "sms_in", NULL), sms_in);
}

/*
 * An SMS that came while rinkid was down sits in the modem's storage with no +CMTI to come:
 * rinkid lists it after the modem's init (AT+CMGL=4), hands it on and deletes it.
 */
static int setup_stored(void **state)
{
	(void)state;
	struct gw_sms_submit sub;
	struct gw_sms_pdu pdu;
	char err[128], deliver[1024];
	static const uint8_t scts[7] = {0x62, 0x11, 0x52, 0x21, 0x00, 0x00, 0x80};
	gw_sms_submit_defaults(&sub);
	sub.to = "+358409999999";
	sub.text = "Tullut yöllä";
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0 ||
	    gw_sms_encode(&sub, &pdu, 1, err, sizeof(err)) != 1 ||
	    gw_sms_submit_to_deliver(pdu.hex, "+358401234567", scts, deliver, sizeof(deliver), err,
				     sizeof(err)) <= 0 ||
	    h_cmd(&rig.modem, NULL, 0, "sms-store %s", deliver) < 0 ||
	    h_start_rinkid(&rig, NULL) < 0)
		return -1;
	return 0;
}

static void test_stored_sms_read_after_start(void **state)
{
	(void)state;
	size_t mp = 0;
	char list[64];
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-listed 4", 5000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-deleted 1", 3000), 0);
	/* it reached the relay: from Aino, with no thread open */
	assert_int_equal(h_wait_log(&rig, "SMS from +358401234567 with no open thread", 2000), 0);
	assert_int_equal(h_cmd(&rig.modem, list, sizeof(list), "sms-list"), 0);
	assert_string_equal(list, "ok");
}

/* The eleventh text in a minute from one radio is dropped, and recorded in the call log. */
static void test_rate_limited_text_logged(void **state)
{
	(void)state;
	size_t mp = 0;
	/* one at a time: the modem queues only a few SMS (a burst of 11 is refused from the 9th) */
	for (int i = 1; i <= 10; i++) {
		assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-text 2269001 viesti %d", i), 0);
		assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 5000), 0);
	}
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-text 2269001 viesti 11"), 0);
	assert_int_equal(
	    h_wait_ev_count(&rig, 11, 3000, "sds_in", "from=2269001", "kind=text", NULL), 0);
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_count_events(&rig.modem, "event sms-out"), 10);

	char bin[256], out[200], text[4096] = "";
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(out, sizeof(out), "%s/log-show.out", rig.dir);
	char *argv[] = {bin, "-d", rig.db, "log", "show", "11", NULL};
	assert_int_equal(h_run(argv, out), 0);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	printf("  rinkictl log show 11:\n%s", text);
	assert_non_null(strstr(text, "message rate_limited"));
	assert_non_null(strstr(text, "from 2269001, 9 characters, over 10 texts a minute"));
	assert_non_null(strstr(text, "viesti 11"));
}

/*
 * A status SDS whose code a route names goes by SMS to that line's worker on duty (the demo
 * roster plus a route sending status 0x8002 to violence-work coordination: Katja); a status
 * no route names is only logged.
 */
static void test_status_relayed(void **state)
{
	(void)state;
	size_t mp = 0;
	char path[200], out[200], bin[256], line[512], hex[1024], err[128], deliver[1024];
	snprintf(path, sizeof(path), "%s/status-roster.csv", rig.dir);
	FILE *in = fopen("tools/demo/roster.csv", "r"), *f = fopen(path, "w");
	assert_non_null(in);
	assert_non_null(f);
	while (fgets(line, sizeof(line), in))
		fputs(line, f);
	fputs("route,vwc,,0,,,,32770\n", f);
	fclose(in);
	fclose(f);
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(out, sizeof(out), "%s/import.out", rig.dir);
	char *argv[] = {bin, "-d", rig.db, "roster", "import", path, NULL};
	assert_int_equal(h_run(argv, out), 0);
	assert_int_equal(h_wait_log(&rig, "roster snapshot loaded", 5000), 0);

	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-status 2269001 8003"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "sds_in", "from=2269001", "kind=status",
					     "status=32771", NULL),
			 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "sds-status 2269001 8002"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 3000), 0);
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_count_events(&rig.modem, "event sms-out"), 1); /* 0x8003: none */
	last_hex(&rig.modem, "event sms-out", hex, sizeof(hex));
	static struct gw_sms_msg m;
	static const uint8_t scts[7] = {0x62, 0x11, 0x52, 0x21, 0x00, 0x00, 0x80};
	assert_true(gw_sms_submit_to_deliver(hex, "+358401234575", scts, deliver, sizeof(deliver),
					     err, sizeof(err)) > 0);
	assert_int_equal(gw_sms_decode(deliver, &m, err, sizeof(err)), GW_SMS_DELIVER);
	printf("  status 0x8002 relayed by SMS: '%s'\n", m.text);
	assert_string_equal(m.text, "status 0x8002 (user-defined status) from 2269001/Poliisi, "
				    "Mikkeli");
	assert_int_equal(h_wait_log(&rig,
				    "status from Poliisi, Mikkeli (2269001) goes by SMS "
				    "to Katja Järvinen +358401234575",
				    1000),
			 0);
}

/*
 * An officer's SDS that the terminal delivers while rinkid restarts waits in the serial
 * port: rinkid must read it when it opens the port again, not flush it away, and relay it.
 */
static void test_sds_during_restart_relayed(void **state)
{
	(void)state;
	size_t mp = 0;
	char hex[1024], err[128], deliver[1024];
	static struct gw_sms_msg m;
	static const uint8_t scts[7] = {0x62, 0x11, 0x52, 0x21, 0x00, 0x00, 0x80};

	assert_int_equal(h_kill_rinkid(&rig, SIGTERM), 0);
	assert_int_equal(
	    h_cmd(&rig.radio, NULL, 0, "sds-text 2269001 Tuli kesken uudelleenkäynnistyksen"), 0);
	assert_int_equal(h_start_rinkid(&rig, NULL), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "event sms-out", 3000), 0);
	last_hex(&rig.modem, "event sms-out", hex, sizeof(hex));
	assert_true(gw_sms_submit_to_deliver(hex, "+358401234567", scts, deliver, sizeof(deliver),
					     err, sizeof(err)) > 0);
	assert_int_equal(gw_sms_decode(deliver, &m, err, sizeof(err)), GW_SMS_DELIVER);
	assert_non_null(strstr(m.text, "(2269001): Tuli kesken uudelleenkäynnistyksen"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_officer_text_and_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limited_text_logged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_relayed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stored_sms_read_after_start, setup_stored,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sds_during_restart_relayed, setup, teardown),
	};
	return cmocka_run_group_tests_name("integration: messages", tests, NULL, NULL);
}
