/*
 * Integration: what a real board's monitoring and SIM see. rinkid runs against tetra-sim
 * and modem-sim. The metrics file (metrics.file) must parse as Prometheus text (every line
 * a comment or "name{labels} value", a HELP and a TYPE line before each family's samples,
 * each sample of a declared family) and its counters must move with one authority call
 * (and a busy one during it). Three calls in the middle of a second page ahead of their
 * incidents (issue #13): rinki_pages_fast_total moves, none is wrong, each ATD goes once.
 * The SIM PIN: modem-sim's SIM asks for one; the right PIN in a 0600 file brings the modem
 * up with exactly one attempt; a wrong one is tried exactly once, the modem stays down and
 * rinkictl status says why.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "store/db.h"

#define AINO "+358401234567"

static struct h_rig rig;

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig);
	return h_rinkid_status() == 0 ? 0 : -1;
}

static int slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/*
 * Whether digits occur in text as a whole number (no digit right before or after it). The
 * log's timestamps are seconds since boot with six decimals, so a bare strstr for a PIN
 * matches them at some uptimes (22580.x, x.002580): a PIN that leaks is still found, as
 * "AT+CPIN=2580", "2580" or "PIN 2580".
 */
static bool has_number(const char *text, const char *digits)
{
	size_t n = strlen(digits);
	for (const char *p = strstr(text, digits); p; p = strstr(p + 1, digits))
		if ((p == text || !isdigit((unsigned char)p[-1])) && !isdigit((unsigned char)p[n]))
			return true;
	return false;
}

/* Wait until the file at path contains needle (pumping the sims). 0 or -1. */
static int wait_file(const char *path, const char *needle, char *buf, size_t len, int ms)
{
	for (int waited = 0; waited <= ms; waited += 100) {
		if (slurp(path, buf, len) > 0 && strstr(buf, needle))
			return 0;
		h_pump(&rig, 100);
	}
	return -1;
}

/* A metric name: [a-zA-Z_:][a-zA-Z0-9_:]*; returns its length (0: none). */
static size_t name_len(const char *p)
{
	size_t n = 0;
	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' ||
	       p[n] == ':' || (n && p[n] >= '0' && p[n] <= '9'))
		n++;
	return n;
}

/*
 * Check text against the exposition format; fail the test naming the line otherwise.
 * Returns the number of samples.
 */
static int check_exposition(const char *text)
{
	char fam[32][64], type[32][32];
	bool help[32] = {false};
	int nfam = 0, samples = 0, lineno = 0;
	const char *p = text;
	assert_true(*p && text[strlen(text) - 1] == '\n');
	while (*p) {
		const char *end = strchr(p, '\n');
		assert_non_null(end);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
		p = end + 1;
		lineno++;
		char name[64], word[32];
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
			size_t n = name_len(line + 7);
			if (!n || line[7 + n] != ' ' || n >= sizeof(name))
				fail_msg("line %d: bad comment '%s'", lineno, line);
			snprintf(name, sizeof(name), "%.*s", (int)n, line + 7);
			int i = 0;
			while (i < nfam && strcmp(fam[i], name))
				i++;
			if (i == nfam) {
				assert_true(nfam < 32);
				snprintf(fam[nfam], sizeof(fam[0]), "%s", name);
				type[nfam][0] = '\0';
				nfam++;
			}
			if (line[2] == 'H') {
				help[i] = true;
			} else {
				snprintf(word, sizeof(word), "%s", line + 8 + n);
				if (strcmp(word, "gauge") && strcmp(word, "counter") &&
				    strcmp(word, "histogram"))
					fail_msg("line %d: type '%s'", lineno, word);
				snprintf(type[i], sizeof(type[0]), "%s", word);
			}
			continue;
		}
		if (line[0] == '#')
			continue; /* any other comment */
		/* name{labels} value */
		size_t n = name_len(line);
		if (!n || n >= sizeof(name))
			fail_msg("line %d: no metric name: '%s'", lineno, line);
		snprintf(name, sizeof(name), "%.*s", (int)n, line);
		const char *q = line + n;
		if (*q == '{') {
			q++;
			while (*q != '}') {
				size_t ln = name_len(q);
				if (!ln || q[ln] != '=' || q[ln + 1] != '"')
					fail_msg("line %d: bad label in '%s'", lineno, line);
				q += ln + 2;
				while (*q && *q != '"')
					q += *q == '\\' ? 2 : 1;
				if (*q != '"')
					fail_msg("line %d: unterminated label value", lineno);
				q++;
				if (*q == ',')
					q++;
				else if (*q != '}')
					fail_msg("line %d: bad label list in '%s'", lineno, line);
			}
			q++;
		}
		if (*q != ' ')
			fail_msg("line %d: no value in '%s'", lineno, line);
		char *vend;
		errno = 0;
		strtod(q + 1, &vend);
		if (errno || vend == q + 1 || *vend)
			fail_msg("line %d: value '%s' is not a number", lineno, q + 1);
		/* its family: declared before, with HELP and TYPE (histograms' suffixes) */
		int i = 0;
		for (; i < nfam; i++) {
			size_t fl = strlen(fam[i]);
			if (!strcmp(name, fam[i]))
				break;
			if (!strcmp(type[i], "histogram") && !strncmp(name, fam[i], fl) &&
			    (!strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") ||
			     !strcmp(name + fl, "_count")))
				break;
		}
		if (i == nfam || !help[i] || !type[i][0])
			fail_msg("line %d: %s has no HELP and TYPE before it", lineno, name);
		samples++;
	}
	return samples;
}

/* The value of the sample line starting with "key " in text; -1 when missing. */
static double value(const char *text, const char *key)
{
	char k[160];
	snprintf(k, sizeof(k), "\n%s ", key);
	const char *p = strstr(text, k);
	return p ? strtod(p + strlen(k), NULL) : -1;
}

static void test_metrics_file_moves_with_a_call(void **state)
{
	(void)state;
	char path[200], conf[400];
	static char text[8192];
	size_t mp = 0;
	snprintf(path, sizeof(path), "%s/rinki.prom", rig.dir);
	snprintf(conf, sizeof(conf), "metrics.file %s\nmetrics.interval 1\ncall.ring_time 10",
		 path);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s answer 1", AINO), 0);
	/* the demo roster again, as rinki-sync applies county version 7 of it */
	struct gw_db *db;
	struct gw_db_roster r;
	struct gw_db_roster_source v7 = {
	    .version = 7, .made_ms = 1767139200250LL, .applied_ms = 1767139300000LL};
	assert_int_equal(gw_db_open(rig.db, &db), 0);
	assert_int_equal(gw_db_roster_read(db, &r), 0);
	assert_int_equal(gw_db_roster_import_from(db, &r, 0, NULL, NULL, &v7), 0);
	gw_db_roster_clear(&r);
	gw_db_close(db);
	assert_int_equal(h_start_rinkid(&rig, conf), 0);
	/* both devices up is written within one interval (the wait only bounds a failure) */
	assert_int_equal(wait_file(path, "rinki_modem_up 1\n", text, sizeof(text), 7000), 0);
	assert_true(check_exposition(text) > 20);
	assert_true(value(text, "rinki_radio_up") == 1);
	assert_true(value(text, "rinki_incidents_total{outcome=\"accepted\"}") == 0);
	assert_true(value(text, "rinki_page_latency_seconds_count") == 0);
	assert_true(value(text, "rinki_last_page_timestamp_seconds") == 0);
	assert_true(value(text, "rinki_spool_pending") == 0);
	/* the demo roster covers its lines: a number, whatever the date */
	assert_true(value(text, "rinki_roster_gap_lines") >= 0);
	assert_true(value(text, "rinki_roster_county_version") == 7);
	assert_non_null(
	    strstr(text, "\nrinki_roster_county_made_timestamp_seconds 1767139200.250\n"));
	/* and rinkictl status says which version and how old */
	char bin[256], sock[160], out[200], st[4096];
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(sock, sizeof(sock), "%s/ctl.sock", rig.dir);
	snprintf(out, sizeof(out), "%s/status.txt", rig.dir);
	char *const argv[] = {bin, "-s", sock, "status", NULL};
	assert_int_equal(h_run(argv, out), 0);
	FILE *sf = fopen(out, "r");
	assert_non_null(sf);
	st[fread(st, 1, sizeof(st) - 1, sf)] = '\0';
	fclose(sf);
	if (!strstr(st, "\nroster    county version 7 of 2025-12-31 00:00 UTC ("))
		fail_msg("rinkictl status:\n%s", st);

	/* one authority call: Aino answers, presses 4, the officer hangs up */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=phone_answered", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=bridged", NULL),
			 0);
	/* a second officer meanwhile: busy */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269002 cci=2"), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=busy", "caller=2269002", NULL),
	    0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=completed", NULL),
			 0);

	assert_int_equal(wait_file(path, "rinki_incidents_total{outcome=\"accepted\"} 1\n", text,
				   sizeof(text), 7000),
			 0);
	check_exposition(text);
	assert_true(value(text, "rinki_incidents_total{outcome=\"not_accepted\"}") == 0);
	assert_true(value(text, "rinki_incidents_total{outcome=\"busy\"}") == 1);
	assert_true(value(text, "rinki_page_latency_seconds_count") == 1);
	assert_true(value(text, "rinki_page_latency_seconds_bucket{le=\"+Inf\"}") == 1);
	assert_true(value(text, "rinki_page_latency_seconds_sum") >= 0);
	assert_true(value(text, "rinki_last_page_timestamp_seconds") > 1.7e9);
	printf("  page latency as rinkid measured it: %.3f s\n",
	       value(text, "rinki_page_latency_seconds_sum"));
	/* the page went ahead from the pager's table unless the call met a rebuild (a second's
	   first millisecond): either way never a wrong ATD ahead */
	assert_true(value(text, "rinki_pages_fast_total") <= 1);
	assert_true(value(text, "rinki_pages_ahead_wrong_total") == 0);
	printf("  pages written ahead: %.0f of 1\n", value(text, "rinki_pages_fast_total"));
	/* written whole: no temporary file left beside it */
	char tmp[220];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
}

/* Write the PIN file (0600) and return its path. */
static const char *pin_file(const char *pin)
{
	static char path[200];
	snprintf(path, sizeof(path), "%s/sim.pin", rig.dir);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pin, strlen(pin)), (ssize_t)strlen(pin));
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	return path;
}

static void test_sim_pin_right(void **state)
{
	(void)state;
	size_t mp = 0;
	char conf[300];
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "sim-pin 2580"), 0);
	snprintf(conf, sizeof(conf), "modem.sim_pin_file %s", pin_file("2580"));
	assert_int_equal(h_start_rinkid(&rig, conf), 0); /* the modem came up */
	assert_int_equal(h_wait_event(&rig.modem, &mp, "sim-attempt ok", 3000), 0);
	/* the stream saw the SIM go ready, and nothing else of it */
	assert_int_equal(h_ev_count(&rig, "sim", "ready=true", "state=READY", NULL), 1);
	assert_int_equal(h_ev_count(&rig, "sim", "ready=false", NULL), 0);
	assert_int_equal(h_count_events(&rig.modem, "sim-attempt"), 1);
	/* the PIN is not in rinkid's log, not even at debug (-d) */
	static char log[1 << 20];
	assert_true(slurp(rig.log, log, sizeof(log)) > 0);
	assert_non_null(strstr(log, "AT+CPIN=<hidden>"));
	assert_true(has_number("modem > AT+CPIN=\"2580\"", "2580")); /* the check can fail */
	assert_false(has_number("22580.002580 DEBUG modem > AT+CPIN=<hidden>", "2580"));
	assert_false(has_number(log, "2580"));
}

static void test_sim_pin_wrong_once(void **state)
{
	(void)state;
	size_t mp = 0;
	char conf[300], reply[160];
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "sim-pin 2580"), 0);
	snprintf(conf, sizeof(conf), "modem.sim_pin_file %s\nmodem.probe_idle 1", pin_file("1111"));
	/* the modem must not come up: rinkid is started without waiting for it, and the
	   stream says why it stays down (the refusal must come, so this cannot pass idle) */
	assert_int_equal(h_spawn_rinkid(&rig, conf), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "device", "device=radio", "up=true", NULL),
			 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "sim", "ready=false",
					     "state=PIN refused, not retried", NULL),
			 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "sim-attempt wrong 2 left", 3000), 0);
	/* rinkictl status names the reason */
	char bin[256], sock[200], out[220];
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(sock, sizeof(sock), "%s/ctl.sock", rig.dir);
	snprintf(out, sizeof(out), "%s/status.out", rig.dir);
	char *argv[] = {bin, "-s", sock, "status", NULL};
	h_run(argv, out);
	static char text[4096];
	assert_true(slurp(out, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "SIM NOT READY (PIN refused, not retried)"));
	/* the SIM still has its 2 attempts: at the liveness probe (modem.probe_idle of
	   silence), none more was spent */
	assert_int_equal(h_wait_event(&rig.modem, &mp, " AT\n", 10000), 0);
	assert_int_equal(h_cmd(&rig.modem, reply, sizeof(reply), "state"), 0);
	assert_non_null(strstr(reply, "sim=pin pin_left=2"));
	assert_int_equal(h_count_events(&rig.modem, "sim-attempt"), 1);
	/* and the modem stayed down all along, the SIM's state said once */
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_ev_count(&rig, "device", "device=modem", "up=true", NULL), 0);
	assert_int_equal(h_ev_count(&rig, "sim", NULL), 1);
}

/* Sleep until the wall clock is at least `after` and between 300 and 700 ms into its second. */
static void mid_second_after(int64_t after)
{
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= after && now % 1000 >= 300 && now % 1000 < 700)
			return;
		usleep(20000);
	}
}

/*
 * The page goes ahead of the incident (issue #13) on a real rinkid: three authority calls
 * from a directory caller, each in the middle of a second at least a second after the last
 * incident closed (the pager's table is rebuilt just after each second starts). Each pages
 * Aino exactly once (the ATD written ahead is adopted, never written twice); the metrics say
 * how many went ahead and that none was wrong. A call meets an empty table only when rinkid
 * was held up for 300 ms or more, so at least one of three must go ahead.
 */
static void test_pages_go_ahead(void **state)
{
	(void)state;
	char path[200], conf[300];
	static char text[8192];
	size_t mp = 0;
	snprintf(path, sizeof(path), "%s/rinki.prom", rig.dir);
	snprintf(conf, sizeof(conf), "metrics.file %s\nmetrics.interval 1", path);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default noanswer"), 0);
	assert_int_equal(h_start_rinkid(&rig, conf), 0);
	assert_int_equal(wait_file(path, "rinki_modem_up 1\n", text, sizeof(text), 7000), 0);
	int64_t closed = 0;
	for (int k = 0; k < 3; k++) {
		mid_second_after(closed + 1100);
		assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001 cci=%d", k + 1), 0);
		assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
		assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", k + 1), 0);
		assert_int_equal(h_wait_ev_count(&rig, k + 1, 5000, "incident_end", NULL), 0);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		closed = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_count_events(&rig.modem, "ATD" AINO ";"), 3); /* one each */
	assert_int_equal(
	    wait_file(path, "rinki_page_latency_seconds_count 3\n", text, sizeof(text), 7000), 0);
	double fast = value(text, "rinki_pages_fast_total");
	printf("  pages written ahead: %.0f of 3\n", fast);
	assert_true(fast >= 1 && fast <= 3);
	assert_true(value(text, "rinki_pages_ahead_wrong_total") == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_metrics_file_moves_with_a_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pages_go_ahead, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sim_pin_right, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sim_pin_wrong_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
