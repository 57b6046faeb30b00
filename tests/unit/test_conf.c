/* Unit tests for gateway/conf.c: keys, ranges, file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"

static char logged[4096];
static void sink(enum gw_log_cat cat, enum gw_log_level level, const char *line, void *arg)
{
	(void)cat;
	(void)level;
	(void)arg;
	strncat(logged, line, sizeof(logged) - strlen(logged) - 2);
	strcat(logged, "\n");
}

static void test_lines(void **state)
{
	(void)state;
	struct gw_conf c;
	char err[128];
	gw_conf_defaults(&c);
	assert_int_equal(c.ring_time_s, 25);
	/* the three-group model: status readers and administrators by default */
	assert_string_equal(c.ctl_group, "rinki-status");
	assert_string_equal(c.ctl_admin_group, "rinki-admin");
	assert_int_equal(gw_conf_parse_line(&c, "  # comment", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "radio.port /dev/ttyUSB0 ", err, sizeof(err)), 0);
	assert_string_equal(c.radio_port, "/dev/ttyUSB0");
	assert_int_equal(gw_conf_parse_line(&c, "call.ring_time\t30", err, sizeof(err)), 0);
	assert_int_equal(c.ring_time_s, 30);
	/* comments after the value; a '#' inside a value stays */
	assert_int_equal(
	    gw_conf_parse_line(&c, "radio.port /dev/serial/by-id/x#1  # the PEI", err, sizeof(err)),
	    0);
	assert_string_equal(c.radio_port, "/dev/serial/by-id/x#1");
	assert_int_equal(gw_conf_parse_line(&c, "call.rounds 3\t# twice", err, sizeof(err)), 0);
	assert_int_equal(c.rounds, 3);
	assert_int_equal(gw_conf_parse_line(&c, "call.rounds # none", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing value"));
	assert_int_equal(gw_conf_parse_line(&c, "call.ring_time 500", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "outside 5..120"));
	assert_int_equal(c.ring_time_s, 30);
	assert_int_equal(gw_conf_parse_line(&c, "call.ring_time 2x", err, sizeof(err)), -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "call.ring_time", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing value"));
	assert_int_equal(gw_conf_parse_line(&c, "radio.prot x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown key 'radio.prot'"));
	assert_int_equal(gw_conf_parse_line(&c, "call.radio_answer on-accept", err, sizeof(err)),
			 0);
	assert_int_equal(c.radio_answer, GW_RADIO_ANSWER_ON_ACCEPT);
	assert_int_equal(gw_conf_parse_line(&c, "call.radio_answer later", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "radio.model motorola", err, sizeof(err)), 0);
	assert_string_equal(c.radio_model, "motorola");
	assert_int_equal(gw_conf_parse_line(&c, "radio.model motorol", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected one of generic motorola sepura airbus"));
	assert_int_equal(gw_conf_parse_line(&c, "modem.vendor quectel", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "modem.vendor nokia", err, sizeof(err)), -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "radio.issi 1001", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "radio.issi 10a1", err, sizeof(err)), -EINVAL);
	char longv[400];
	memset(longv, 'x', sizeof(longv));
	memcpy(longv, "db.path ", 8);
	longv[sizeof(longv) - 1] = '\0';
	assert_int_equal(gw_conf_parse_line(&c, longv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
}

static void test_monitor_gssi(void **state)
{
	(void)state;
	struct gw_conf c;
	char err[160];
	uint32_t g[GW_CONF_GSSI_MAX];
	gw_conf_defaults(&c);
	assert_string_equal(c.radio_monitor_gssi, "");
	assert_int_equal(gw_conf_gssi_list(c.radio_monitor_gssi, g, GW_CONF_GSSI_MAX), 0);
	assert_int_equal(
	    gw_conf_parse_line(&c, "radio.monitor_gssi 9001, 09002 ,16777215", err, sizeof(err)),
	    0);
	assert_string_equal(c.radio_monitor_gssi, "9001,9002,16777215");
	assert_int_equal(gw_conf_gssi_list(c.radio_monitor_gssi, g, GW_CONF_GSSI_MAX), 3);
	assert_int_equal(g[1], 9002);
	/* empty: the monitor is off */
	assert_int_equal(gw_conf_parse_line(&c, "radio.monitor_gssi", err, sizeof(err)), 0);
	assert_string_equal(c.radio_monitor_gssi, "");
	static const char *const bad[] = {
	    "radio.monitor_gssi 0",	    "radio.monitor_gssi 16777216",
	    "radio.monitor_gssi 9001,",	    "radio.monitor_gssi ,9001",
	    "radio.monitor_gssi 9001,9001", "radio.monitor_gssi 9a",
	    "radio.monitor_gssi 9001 9002", "radio.monitor_gssi 123456789",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gw_conf_parse_line(&c, bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "radio.monitor_gssi: expected up to 16"));
	}
	assert_string_equal(c.radio_monitor_gssi, "");
	char many[200] = "radio.monitor_gssi 1";
	for (int i = 2; i <= 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), ",%d", i);
	assert_int_equal(gw_conf_parse_line(&c, many, err, sizeof(err)), -EINVAL);
}

static void test_status_meanings(void **state)
{
	(void)state;
	struct gw_conf c, next;
	char err[160], restart[256];
	gw_conf_defaults(&c);
	assert_null(gw_conf_status_text(&c, 0x8002));
	assert_int_equal(
	    gw_conf_parse_line(&c, "sds.status.0x8002 Paikalla  # on scene", err, sizeof(err)), 0);
	assert_int_equal(
	    gw_conf_parse_line(&c, "sds.status.32771 Matkalla kohteeseen", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "sds.status.0 Hätä", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "sds.status.0xFFFF viimeinen", err, sizeof(err)),
			 0);
	assert_string_equal(gw_conf_status_text(&c, 0x8002), "Paikalla");
	assert_string_equal(gw_conf_status_text(&c, 0x8003), "Matkalla kohteeseen");
	assert_string_equal(gw_conf_status_text(&c, 0), "Hätä");
	assert_string_equal(gw_conf_status_text(&c, 0xffff), "viimeinen");
	assert_null(gw_conf_status_text(&c, 0x8004));
	/* a later line for the same value wins */
	assert_int_equal(gw_conf_parse_line(&c, "sds.status.0x8002 Perillä", err, sizeof(err)), 0);
	assert_string_equal(gw_conf_status_text(&c, 0x8002), "Perillä");
	assert_int_equal(c.n_sds_status, 4);
	static const char *const bad[] = {
	    "sds.status.65536 x", "sds.status.0x10000 x", "sds.status.0x x",   "sds.status. x",
	    "sds.status.12a x",	  "sds.status.-1 x",	  "sds.status.0x8002",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_conf_parse_line(&c, bad[i], err, sizeof(err)), -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "sds.status.1 x", err, sizeof(err)), 0);
	char longtext[120] = "sds.status.2 ";
	memset(longtext + strlen(longtext), 'a', 70);
	assert_int_equal(gw_conf_parse_line(&c, longtext, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1..63 characters"));
	/* at most GW_CONF_STATUS_MAX values */
	gw_conf_defaults(&c);
	for (int i = 0; i < GW_CONF_STATUS_MAX; i++) {
		char line[64];
		snprintf(line, sizeof(line), "sds.status.%d s%d", 0x8000 + i, i);
		assert_int_equal(gw_conf_parse_line(&c, line, err, sizeof(err)), 0);
	}
	assert_int_equal(gw_conf_parse_line(&c, "sds.status.1 x", err, sizeof(err)), -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "sds.status.0x8000 again", err, sizeof(err)), 0);
	/* meanings change live */
	gw_conf_defaults(&c);
	gw_conf_defaults(&next);
	assert_int_equal(gw_conf_parse_line(&next, "sds.status.0x8002 Uusi", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_apply_live(&c, &next, restart, sizeof(restart)), 1);
	assert_string_equal(restart, "");
	assert_string_equal(gw_conf_status_text(&c, 0x8002), "Uusi");
}

static void test_file_errors_name_line(void **state)
{
	(void)state;
	char path[] = "/tmp/rinki-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "# rinki\nradio.port /dev/pts/3\nmodem.baud fast\n\ncall.rounds 9\n"
			    "log.level debug\nbad\0line\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	struct gw_conf c;
	gw_conf_defaults(&c);
	logged[0] = '\0';
	gw_log_set_sink(sink, NULL);
	assert_int_equal(gw_conf_load(&c, path), -EINVAL);
	gw_log_set_sink(NULL, NULL);
	unlink(path);
	char want[300];
	snprintf(want, sizeof(want), "%s:3: modem.baud: 'fast' is not a whole number", path);
	assert_non_null(strstr(logged, want));
	snprintf(want, sizeof(want), "%s:5: call.rounds: 9 is outside 1..5", path);
	assert_non_null(strstr(logged, want));
	snprintf(want, sizeof(want), "%s:7: NUL byte in line", path);
	assert_non_null(strstr(logged, want));
	/* good lines still applied */
	assert_string_equal(c.radio_port, "/dev/pts/3");
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(gw_conf_load(&c, "/nonexistent/rinki.conf"), -ENOENT);
}

/* Load text as a config file; the log lines it gives are in logged[]. */
static int load_text(struct gw_conf *c, const char *text, char *path, size_t plen)
{
	snprintf(path, plen, "/tmp/rinki-conf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	gw_conf_defaults(c);
	logged[0] = '\0';
	gw_log_set_sink(sink, NULL);
	int rc = gw_conf_load(c, path);
	gw_log_set_sink(NULL, NULL);
	unlink(path);
	return rc;
}

/* A key given twice is an error naming both lines, not "the last one wins" unseen. */
static void test_duplicate_keys(void **state)
{
	(void)state;
	struct gw_conf c;
	char path[64], want[200];
	assert_int_equal(load_text(&c,
				   "call.ring_time 25\nmodem.port /dev/ttyUSB2\n"
				   "call.ring_time   30  # again\nsds.status.0x8002 Paikalla\n"
				   "sds.status.32770 Perillä\n",
				   path, sizeof(path)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s:3: call.ring_time given twice (first on line 1)", path);
	assert_non_null(strstr(logged, want));
	snprintf(want, sizeof(want), "%s:5: sds.status.32770 given twice (first on line 4)", path);
	assert_non_null(strstr(logged, want));
	/* distinct keys, comments and blank lines are fine */
	assert_int_equal(
	    load_text(&c, "# x\ncall.ring_time 25\n\ncall.rounds 2\n", path, sizeof(path)), 0);
}

/* The control socket path must fit a sockaddr_un, or --check-config says so. */
static void test_socket_path_length(void **state)
{
	(void)state;
	struct gw_conf c;
	char path[64], text[300], want[200];
	char sock[120];
	memset(sock, 'a', sizeof(sock) - 1);
	sock[0] = '/';
	sock[sizeof(sock) - 1] = '\0';
	snprintf(text, sizeof(text), "log.level info\nctl.socket %s\n", sock);
	assert_int_equal(load_text(&c, text, path, sizeof(path)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: ctl.socket: path of 119 bytes is longer than", path);
	assert_non_null(strstr(logged, want));
	sock[107] = '\0'; /* 107 bytes and the NUL: fits */
	snprintf(text, sizeof(text), "ctl.socket %s\n", sock);
	assert_int_equal(load_text(&c, text, path, sizeof(path)), 0);
}

/* county.* keys (rinki-sync): the gateway id is an exact, checked name. */
static void test_county_keys(void **state)
{
	(void)state;
	struct gw_conf c;
	char err[160];
	gw_conf_defaults(&c);
	assert_string_equal(c.county_conninfo, "");
	assert_int_equal(c.county_batch, 500);
	assert_int_equal(
	    gw_conf_parse_line(&c, "county.conninfo host=/run/pg dbname=county", err, sizeof(err)),
	    0);
	assert_string_equal(c.county_conninfo, "host=/run/pg dbname=county");
	assert_int_equal(gw_conf_parse_line(&c, "county.gateway_id mikkeli-1", err, sizeof(err)),
			 0);
	assert_string_equal(c.county_gateway_id, "mikkeli-1");
	static const char *const bad[] = {
	    "Mikkeli", "-x", "a b", "a_b", "mikkeli/1", "ä", "abcdefghijklmnopqrstuvwxyz0123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[96];
		snprintf(line, sizeof(line), "county.gateway_id %s", bad[i]);
		assert_int_equal(gw_conf_parse_line(&c, line, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "county.gateway_id"));
		assert_string_equal(c.county_gateway_id, "mikkeli-1");
	}
	assert_true(gw_conf_gateway_id_ok("abcdefghijklmnopqrstuvwxyz012345"));
	assert_int_equal(gw_conf_parse_line(&c, "county.batch 0", err, sizeof(err)), -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "county.batch 50", err, sizeof(err)), 0);
	assert_int_equal(c.county_batch, 50);
	/* rinkid does not read them: changing them never asks rinkid for a restart */
	struct gw_conf cur;
	char restart[256];
	gw_conf_defaults(&cur);
	assert_int_equal(gw_conf_apply_live(&cur, &c, restart, sizeof(restart)), 3);
	assert_string_equal(restart, "");
}

/* roster.timezone: Europe/Helsinki unless set; a change needs a restart. */
static void test_roster_timezone(void **state)
{
	(void)state;
	struct gw_conf c, cur;
	char err[160], restart[256];
	gw_conf_defaults(&c);
	gw_conf_defaults(&cur);
	assert_string_equal(c.roster_timezone, "Europe/Helsinki");
	assert_int_equal(
	    gw_conf_parse_line(&c, "roster.timezone Europe/Stockholm", err, sizeof(err)), 0);
	assert_string_equal(c.roster_timezone, "Europe/Stockholm");
	char line[128];
	snprintf(line, sizeof(line), "roster.timezone %070d", 0); /* longer than any zone name */
	assert_int_equal(gw_conf_parse_line(&c, line, err, sizeof(err)), -EINVAL);
	assert_string_equal(c.roster_timezone, "Europe/Stockholm");
	assert_int_equal(gw_conf_apply_live(&cur, &c, restart, sizeof(restart)), 0);
	assert_non_null(strstr(restart, "roster.timezone"));
}

static void test_apply_live(void **state)
{
	(void)state;
	struct gw_conf cur, next;
	char err[128], restart[256];
	gw_conf_defaults(&cur);
	gw_conf_defaults(&next);
	assert_int_equal(gw_conf_apply_live(&cur, &next, restart, sizeof(restart)), 0);
	assert_string_equal(restart, "");
	assert_int_equal(gw_conf_parse_line(&next, "call.ring_time 40", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&next, "call.sms_page no", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&next, "radio.port /dev/ttyUSB9", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&next, "db.path /tmp/x.db", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_apply_live(&cur, &next, restart, sizeof(restart)), 2);
	assert_int_equal(cur.ring_time_s, 40);
	assert_false(cur.sms_page);
	/* ports and paths need a restart: unchanged, and named */
	assert_string_equal(cur.radio_port, "/dev/rinki-radio");
	assert_string_equal(restart, "radio.port, db.path");
	/* web.* are rinki-web's: accepted, and a reload of rinkid neither applies nor names them */
	gw_conf_defaults(&cur);
	gw_conf_defaults(&next);
	assert_int_equal(gw_conf_parse_line(&next, "web.listen 127.0.0.1:8080", err, sizeof(err)),
			 0);
	assert_int_equal(gw_conf_parse_line(&next, "web.users /tmp/u.db", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&next, "web.user www", err, sizeof(err)), 0);
	assert_int_equal(
	    gw_conf_parse_line(&next, "web.tls_cert /etc/rinki/web.crt", err, sizeof(err)), 0);
	assert_int_equal(
	    gw_conf_parse_line(&next, "web.tls_key /etc/rinki/web.key", err, sizeof(err)), 0);
	assert_string_equal(next.web_listen, "127.0.0.1:8080");
	assert_string_equal(next.web_tls_cert, "/etc/rinki/web.crt");
	assert_string_equal(next.web_tls_key, "/etc/rinki/web.key");
	assert_int_equal(gw_conf_apply_live(&cur, &next, restart, sizeof(restart)), 0);
	assert_string_equal(restart, "");
	assert_string_equal(cur.web_listen, "");
	assert_string_equal(cur.web_users, "/var/lib/rinki-web/users.db");
	assert_string_equal(cur.web_user, "rinki-web");
	assert_string_equal(cur.web_tls_cert, "");
	assert_string_equal(cur.web_tls_key, "");
}

/* gw_conf_write: every key, loaded back to the same values (written twice, same text). */
static void test_write_loads_back(void **state)
{
	(void)state;
	struct gw_conf c, back;
	char err[128], path[] = "/tmp/rinki-conf-write-XXXXXX", text1[8192], text2[8192];
	gw_conf_defaults(&c);
	assert_int_equal(gw_conf_parse_line(&c, "call.radio_answer on-accept", err, sizeof(err)),
			 0);
	assert_int_equal(gw_conf_parse_line(&c, "radio.monitor_gssi 9002, 9001", err, sizeof(err)),
			 0);
	assert_int_equal(gw_conf_parse_line(&c, "sds.status.32770 Paikalla", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "audio.drift no", err, sizeof(err)), 0);
	assert_int_equal(gw_conf_parse_line(&c, "prompt.dir /opt/p", err, sizeof(err)), 0);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w+");
	assert_non_null(f);
	assert_int_equal(gw_conf_write(&c, f), 0);
	rewind(f);
	size_t n1 = fread(text1, 1, sizeof(text1) - 1, f);
	text1[n1] = '\0';
	fclose(f);
	assert_non_null(strstr(text1, "\ncall.radio_answer on-accept\n"));
	assert_non_null(strstr(text1, "\nradio.monitor_gssi 9002,9001\n"));
	assert_non_null(strstr(text1, "\nsds.status.0x8002 Paikalla\n"));
	assert_non_null(strstr(text1, "\nprompt.dir /opt/p\n"));
	assert_non_null(strstr(text1, "\n#io.port\n")); /* not set */
	assert_non_null(strstr(text1, "\ncall.ring_time 25\n"));

	gw_conf_defaults(&back);
	assert_int_equal(gw_conf_load(&back, path), 0);
	assert_int_equal(back.radio_answer, GW_RADIO_ANSWER_ON_ACCEPT);
	assert_false(back.audio_drift);
	assert_string_equal(gw_conf_status_text(&back, 0x8002), "Paikalla");
	f = fopen(path, "w+");
	assert_non_null(f);
	assert_int_equal(gw_conf_write(&back, f), 0);
	rewind(f);
	size_t n2 = fread(text2, 1, sizeof(text2) - 1, f);
	text2[n2] = '\0';
	fclose(f);
	unlink(path);
	assert_string_equal(text1, text2);
}

/* modem.sim_pin_file: a 0600 regular file of 4..8 digits; never a symlink, never shared. */
static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_sim_pin_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/rinki-pin-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64], link_path[64];
	snprintf(path, sizeof(path), "%s/pin", dir);
	snprintf(link_path, sizeof(link_path), "%s/link", dir);
	char pin[GW_CONF_SIM_PIN_LEN];

	write_file(path, "1234\n", 0600);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), 0);
	assert_string_equal(pin, "1234");
	write_file(path, "87654321", 0400);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), 0);
	assert_string_equal(pin, "87654321");

	logged[0] = '\0';
	gw_log_set_sink(sink, NULL);
	/* readable by the group, or by others: refused, and the PIN is not in the log */
	write_file(path, "4321\n", 0640);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), -EPERM);
	assert_string_equal(pin, "");
	write_file(path, "4321\n", 0604);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), -EPERM);
	assert_non_null(strstr(logged, "chmod 0600"));
	/* not a PIN: too short, too long, letters, two lines */
	write_file(path, "123\n", 0600);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), -EINVAL);
	write_file(path, "123456789\n", 0600);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), -EINVAL);
	write_file(path, "12a4\n", 0600);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), -EINVAL);
	write_file(path, "1234\n5678\n", 0600);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), -EINVAL);
	write_file(path, "12345678901234567890\n", 0600);
	assert_int_equal(gw_conf_read_sim_pin(path, pin), -EINVAL);
	assert_null(strstr(logged, "4321"));
	assert_null(strstr(logged, "1234"));
	/* a symlink to a good file, a directory, a missing file */
	write_file(path, "2468\n", 0600);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(gw_conf_read_sim_pin(link_path, pin), -ELOOP);
	assert_int_equal(gw_conf_read_sim_pin(dir, pin), -EINVAL); /* 0700, but a directory */
	char missing[80];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	assert_int_equal(gw_conf_read_sim_pin(missing, pin), -ENOENT);
	assert_null(strstr(logged, "2468"));
	gw_log_set_sink(NULL, NULL);

	/* the keys themselves */
	struct gw_conf c;
	char err[128];
	gw_conf_defaults(&c);
	assert_string_equal(c.modem_sim_pin_file, "");
	assert_string_equal(c.metrics_file, "");
	assert_int_equal(c.metrics_interval_s, 15);
	assert_int_equal(
	    gw_conf_parse_line(&c, "modem.sim_pin_file /etc/rinki/sim.pin", err, sizeof(err)), 0);
	assert_string_equal(c.modem_sim_pin_file, "/etc/rinki/sim.pin");
	assert_int_equal(gw_conf_parse_line(&c, "metrics.interval 0", err, sizeof(err)), -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "metrics.interval 1", err, sizeof(err)), 0);
	assert_int_equal(c.metrics_interval_s, 1);
	assert_int_equal(gw_conf_parse_line(&c, "metrics.interval 3601", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(gw_conf_parse_line(&c, "metrics.interval 30", err, sizeof(err)), 0);
	assert_int_equal(c.metrics_interval_s, 30);

	unlink(link_path);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),	    cmocka_unit_test(test_monitor_gssi),
	    cmocka_unit_test(test_status_meanings), cmocka_unit_test(test_file_errors_name_line),
	    cmocka_unit_test(test_apply_live),	    cmocka_unit_test(test_write_loads_back),
	    cmocka_unit_test(test_duplicate_keys),  cmocka_unit_test(test_socket_path_length),
	    cmocka_unit_test(test_county_keys),	    cmocka_unit_test(test_sim_pin_file),
	    cmocka_unit_test(test_roster_timezone),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
