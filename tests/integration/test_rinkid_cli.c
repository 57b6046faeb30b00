/*
 * Integration: rinkid's command line as a technician uses it. A bad
 * configuration names file:line for every error and exits non-zero; a good
 * one passes --check-config; --version answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>

#include "harness.h"

static char dir[] = "/tmp/rinki-cli-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

static void test_bad_config_names_file_line(void **state)
{
	(void)state;
	char conf[128], out[128], bin[256], text[4096];
	snprintf(conf, sizeof(conf), "%s/bad.conf", dir);
	snprintf(out, sizeof(out), "%s/bad.out", dir);
	snprintf(bin, sizeof(bin), "%s/rinkid", h_bin());
	write_file(conf, "# field config\nradio.port /dev/ttyUSB0\ncall.ring_time 2\n"
			 "modem.speed 9600\n");
	char *argv[] = {bin, "-c", conf, "--check-config", NULL};
	assert_int_equal(h_run(argv, out), 1);
	assert_true(slurp(out, text, sizeof(text)) > 0);
	char want[256];
	snprintf(want, sizeof(want), "%s:3: call.ring_time: 2 is outside 5..120", conf);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "%s:4: unknown key 'modem.speed'", conf);
	assert_non_null(strstr(text, want));
	/* and the daemon itself refuses to start on it */
	char *argv2[] = {bin, "-c", conf, NULL};
	assert_int_equal(h_run(argv2, out), 1);
	/* a missing file is an error too */
	char *argv3[] = {bin, "-c", "/nonexistent/rinki.conf", "--check-config", NULL};
	assert_int_equal(h_run(argv3, out), 1);
	/* a key given twice, and a socket path no sockaddr_un holds */
	char sock[130];
	memset(sock, 's', sizeof(sock) - 1);
	sock[0] = '/';
	sock[sizeof(sock) - 1] = '\0';
	snprintf(text, sizeof(text), "call.rounds 2\nctl.socket %s\ncall.rounds 3\n", sock);
	write_file(conf, text);
	assert_int_equal(h_run(argv, out), 1);
	assert_true(slurp(out, text, sizeof(text)) > 0);
	snprintf(want, sizeof(want), "%s:3: call.rounds given twice (first on line 1)", conf);
	assert_non_null(strstr(text, want));
	write_file(conf, "call.rounds 2\n");
	snprintf(text, sizeof(text), "call.rounds 2\nctl.socket %s\n", sock);
	write_file(conf, text);
	assert_int_equal(h_run(argv, out), 1);
	assert_true(slurp(out, text, sizeof(text)) > 0);
	snprintf(want, sizeof(want), "%s:2: ctl.socket: path of 129 bytes is longer than 107",
		 conf);
	assert_non_null(strstr(text, want));
	/* a zone the tz database lacks: rinkid would print and plan in another zone */
	write_file(conf, "roster.timezone Europe/Stokholm\n");
	assert_int_equal(h_run(argv, out), 1);
	assert_true(slurp(out, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "roster.timezone"));
	assert_non_null(strstr(text, "/usr/share/zoneinfo/Europe/Stokholm"));
	assert_int_equal(h_run(argv2, out), 1);
}

static void test_good_config_and_version(void **state)
{
	(void)state;
	char conf[128], out[128], bin[256], text[4096];
	snprintf(conf, sizeof(conf), "%s/good.conf", dir);
	snprintf(out, sizeof(out), "%s/good.out", dir);
	snprintf(bin, sizeof(bin), "%s/rinkid", h_bin());
	write_file(conf, "radio.port /dev/ttyUSB0\ncall.ring_time 30\ncall.radio_answer on-accept\n"
			 "roster.timezone Europe/Stockholm\n");
	char *argv[] = {bin, "-c", conf, "--check-config", NULL};
	assert_int_equal(h_run(argv, out), 0);
	char *argv2[] = {bin, "--version", NULL};
	assert_int_equal(h_run(argv2, out), 0);
	assert_true(slurp(out, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "configuration ok"));
	assert_non_null(strstr(text, "rinkid 0."));
	char *argv3[] = {bin, "--no-such-option", NULL};
	assert_int_equal(h_run(argv3, out), 2);
}

/* SIGHUP: the live settings change at once, the ones needing a restart are named. */
static void test_sighup_reload(void **state)
{
	(void)state;
	static struct h_rig rig;
	assert_int_equal(h_rig_init(&rig), 0);
	assert_int_equal(h_start_sims(&rig), 0);
	assert_int_equal(h_start_rinkid(&rig, "call.ring_time 25"), 0);
	char extra[300];
	snprintf(extra, sizeof(extra), "call.ring_time 40\ndb.path %s/other.db", rig.dir);
	assert_int_equal(h_write_conf(&rig, extra), 0);
	assert_int_equal(kill(rig.rinkid, SIGHUP), 0);
	assert_int_equal(h_wait_log(&rig,
				    "SIGHUP: 1 setting(s) changed; these need a restart: "
				    "db.path",
				    3000),
			 0);
	/* a broken file is refused whole */
	FILE *f = fopen(rig.conf, "a");
	assert_non_null(f);
	fprintf(f, "call.ring_time soon\n");
	fclose(f);
	assert_int_equal(kill(rig.rinkid, SIGHUP), 0);
	assert_int_equal(h_wait_log(&rig, "has errors: configuration kept", 3000), 0);
	h_rig_fini(&rig);
	assert_int_equal(h_rinkid_status(), 0);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_config_names_file_line),
	    cmocka_unit_test(test_good_config_and_version),
	    cmocka_unit_test(test_sighup_reload),
	};
	return cmocka_run_group_tests_name("integration: rinkid command line", tests, setup,
					   teardown);
}
