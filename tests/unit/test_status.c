/*
 * Unit tests of gateway/service/status: the board LED patterns for the devices and the
 * calls (one Modbus write per change, none without a board), systemd's STATUS= line
 * against a fake systemd socket ($NOTIFY_SOCKET, an abstract name), the watchdog health
 * on the test clock (a device down more than five minutes), and the board's up/down
 * events in the call log. Before service/status.c this policy sat inside rinkid's main.c,
 * out of reach of any unit test.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/loop.h"
#include "service/status.h"
#include "store/db.h"

struct fix {
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_status *st;
	int sd;	   /* the fake systemd's socket */
	int board; /* 0: no board (the LED op answers -ENODEV) */
	int nled;  /* LED writes */
	int led_which[16], led_pat[16];
};

static int fake_led(void *arg, enum gw_io_led which, enum gw_io_led_pattern p)
{
	struct fix *f = arg;
	if (!f->board)
		return -ENODEV;
	if (f->nled < 16) {
		f->led_which[f->nled] = which;
		f->led_pat[f->nled] = p;
	}
	f->nled++;
	return 0;
}

/* The next datagram to the fake systemd (one must come within 1 s). */
static const char *next_msg(struct fix *f)
{
	static char buf[512];
	struct pollfd p = {.fd = f->sd, .events = POLLIN};
	buf[0] = '\0';
	assert_int_equal(poll(&p, 1, 1000), 1);
	ssize_t n = recv(f->sd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int setup(void **state)
{
	static struct fix f;
	memset(&f, 0, sizeof(f));
	f.board = 1;
	char name[64];
	snprintf(name, sizeof(name), "@rinki-status-test-%d", (int)getpid());
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
	f.sd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(f.sd >= 0);
	assert_int_equal(bind(f.sd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name))),
			 0);
	setenv("NOTIFY_SOCKET", name, 1);
	unsetenv("WATCHDOG_USEC");
	f.loop = gw_loop_new();
	gw_loop_clock_override(f.loop, 1000000, 1767225600000LL);
	gw_conf_defaults(&f.conf);
	snprintf(f.conf.io_port, sizeof(f.conf.io_port), "/dev/ttyIO0");
	struct gw_status_ops ops = {.led = fake_led, .arg = &f};
	assert_int_equal(gw_status_new(f.loop, &f.conf, &ops, &f.st), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	gw_status_free(f->st);
	gw_loop_free(f->loop);
	close(f->sd);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

static void test_devices_leds_and_status_line(void **state)
{
	struct fix *f = *state;
	gw_status_ready(f->st);
	assert_string_equal(next_msg(f), "READY=1\nSTATUS=waiting for the radio and the modem");
	gw_status_device(f->st, "radio", true);
	assert_string_equal(next_msg(f), "STATUS=radio ready, modem DOWN, idle");
	assert_int_equal(f->nled, 1);
	assert_int_equal(f->led_which[0], GW_IO_LED_RADIO_OK);
	assert_int_equal(f->led_pat[0], GW_IO_LED_ON);
	gw_status_device(f->st, "modem", true);
	assert_string_equal(next_msg(f), "STATUS=radio ready, modem ready, idle");
	assert_int_equal(f->nled, 2);
	assert_int_equal(f->led_which[1], GW_IO_LED_MODEM_OK);
	assert_true(gw_status_radio_up(f->st) && gw_status_modem_up(f->st));
	/* the same state again: no second Modbus write */
	gw_status_device(f->st, "radio", true);
	assert_int_equal(f->nled, 2);
	gw_status_device(f->st, "radio", false);
	assert_string_equal(next_msg(f), "STATUS=radio DOWN, modem ready, idle");
	assert_int_equal(f->nled, 3);
	assert_int_equal(f->led_pat[2], GW_IO_LED_OFF);
	assert_false(gw_status_radio_up(f->st));
	gw_status_stopping(f->st);
	assert_string_equal(next_msg(f), "STOPPING=1");
}

static void test_on_call_led(void **state)
{
	struct fix *f = *state;
	static const struct {
		enum gw_call_state st;
		enum gw_cb_state cst;
		enum gw_io_led_pattern want;
	} cases[] = {
	    {GW_CALL_ST_PAGING, GW_CB_ST_IDLE, GW_IO_LED_BLINK_FAST},
	    {GW_CALL_ST_BRIDGED, GW_CB_ST_IDLE, GW_IO_LED_ON},
	    {GW_CALL_ST_CLOSED, GW_CB_ST_IDLE, GW_IO_LED_OFF},
	    {GW_CALL_ST_CLOSED, GW_CB_ST_PIN, GW_IO_LED_BLINK_FAST},
	    {GW_CALL_ST_CLOSED, GW_CB_ST_BRIDGED, GW_IO_LED_ON},
	    {GW_CALL_ST_ANNOUNCE, GW_CB_ST_GOODBYE, GW_IO_LED_BLINK_FAST},
	    {GW_CALL_ST_BRIDGED, GW_CB_ST_DIALING, GW_IO_LED_ON},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gw_status_on_call(f->st, cases[i].st, cases[i].cst);
		assert_int_equal(f->nled, (int)i + 1);
		assert_int_equal(f->led_which[i], GW_IO_LED_ON_CALL);
		assert_int_equal(f->led_pat[i], cases[i].want);
	}
	/* unchanged pattern: nothing written */
	gw_status_on_call(f->st, GW_CALL_ST_BRIDGED, GW_CB_ST_IDLE);
	assert_int_equal(f->nled, (int)(sizeof(cases) / sizeof(cases[0])));
}

/* Without a board nothing is remembered: the pattern is written once the board is there. */
static void test_no_board_remembers_nothing(void **state)
{
	struct fix *f = *state;
	f->board = 0;
	gw_status_device(f->st, "radio", true);
	assert_string_equal(next_msg(f), "STATUS=radio ready, modem DOWN, idle");
	assert_int_equal(f->nled, 0);
	f->board = 1;
	gw_status_device(f->st, "radio", true);
	assert_int_equal(f->nled, 1);
	assert_int_equal(f->led_pat[0], GW_IO_LED_ON);
}

static void test_health_after_five_minutes_down(void **state)
{
	struct fix *f = *state;
	gw_status_device(f->st, "radio", true);
	gw_status_device(f->st, "modem", true);
	assert_true(gw_status_healthy(f->st));
	gw_status_device(f->st, "modem", false);
	gw_loop_clock_advance(f->loop, GW_STATUS_DOWN_UNHEALTHY_MS);
	assert_true(gw_status_healthy(f->st)); /* exactly five minutes: still healthy */
	gw_loop_clock_advance(f->loop, 1);
	assert_false(gw_status_healthy(f->st));
	gw_status_device(f->st, "modem", true);
	assert_true(gw_status_healthy(f->st));
	gw_status_device(f->st, "radio", false);
	gw_loop_clock_advance(f->loop, GW_STATUS_DOWN_UNHEALTHY_MS + 1);
	assert_false(gw_status_healthy(f->st));
	assert_int_equal(gw_status_uptime_s(f->st), (2 * GW_STATUS_DOWN_UNHEALTHY_MS + 1) / 1000);
}

struct sys_ev {
	int n;
	char kind[4][16], detail[4][128];
};
static void sys_ev(const struct gw_db_event *e, void *arg)
{
	struct sys_ev *s = arg;
	if (s->n < 4) {
		snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", e->kind);
		snprintf(s->detail[s->n], sizeof(s->detail[0]), "%s", e->detail ? e->detail : "");
	}
	s->n++;
}

/* The board's first answer is no event; its going silent and coming back are. */
static void test_board_events(void **state)
{
	struct fix *f = *state;
	char dir[] = "/tmp/rinki-status-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rinki.db", dir);
	struct gw_db *db;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_status_attach(f->st, db, NULL, NULL);
	struct gw_io_status io = {.board_id = 1, .fw_major = 1, .fw_minor = 2, .fw_patch = 3};
	gw_status_board(f->st, true, &io);
	gw_status_board(f->st, false, &io);
	io.boot_count = 7;
	gw_status_board(f->st, true, &io);
	struct sys_ev ev = {0};
	assert_int_equal(gw_db_system_event_list(db, sys_ev, &ev), 2);
	assert_int_equal(ev.n, 2);
	assert_string_equal(ev.kind[0], "board_down");
	assert_non_null(strstr(ev.detail[0], "/dev/ttyIO0: "));
	assert_string_equal(ev.kind[1], "board_up");
	assert_non_null(strstr(ev.detail[1], "firmware 1.2.3, boot count 7"));
	gw_db_close(db);
	unlink(path);
	char wal[80];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	rmdir(dir);
}

/* ---- metrics ------------------------------------------------------------------------- */

/* The whole file for known counters, byte for byte (Prometheus text format 0.0.4). */
static void test_metrics_format_exact(void **state)
{
	(void)state;
	struct gw_status_metrics mt = {.radio_up = true,
				       .modem_up = false,
				       .board_up = true,
				       .incidents = {3, 1, 2},
				       .lat_bucket = {1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3},
				       .lat_count = 4,
				       .lat_sum_ms = 2507,
				       .spool_pending = true,
				       .db_queue_bytes = 4096,
				       .roster_gap_lines = 2,
				       .roster_version = 17,
				       .roster_made_ms = 1767139200250LL,
				       .last_page_wall_ms = 1767225600123LL,
				       .pages_fast = 5,
				       .pages_ahead_wrong = 1};
	static const char want[] =
	    "# HELP rinki_radio_up The TETRA terminal is ready (1) or not (0).\n"
	    "# TYPE rinki_radio_up gauge\n"
	    "rinki_radio_up 1\n"
	    "# HELP rinki_modem_up The cellular modem is ready (1) or not (0).\n"
	    "# TYPE rinki_modem_up gauge\n"
	    "rinki_modem_up 0\n"
	    "# HELP rinki_board_up The I/O board answers (1) or not, or none is configured (0).\n"
	    "# TYPE rinki_board_up gauge\n"
	    "rinki_board_up 1\n"
	    "# HELP rinki_incidents_total Authority calls since rinkid started, by how they "
	    "ended.\n"
	    "# TYPE rinki_incidents_total counter\n"
	    "rinki_incidents_total{outcome=\"accepted\"} 3\n"
	    "rinki_incidents_total{outcome=\"not_accepted\"} 1\n"
	    "rinki_incidents_total{outcome=\"busy\"} 2\n"
	    "# HELP rinki_page_latency_seconds From the handling of an authority call's +CTICN "
	    "to its first ATD written to the modem, on rinkid's loop clock (ms resolution).\n"
	    "# TYPE rinki_page_latency_seconds histogram\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.001\"} 1\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.002\"} 1\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.005\"} 2\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.010\"} 2\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.020\"} 2\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.050\"} 2\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.100\"} 2\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.200\"} 2\n"
	    "rinki_page_latency_seconds_bucket{le=\"0.500\"} 2\n"
	    "rinki_page_latency_seconds_bucket{le=\"1.000\"} 3\n"
	    "rinki_page_latency_seconds_bucket{le=\"2.000\"} 3\n"
	    "rinki_page_latency_seconds_bucket{le=\"+Inf\"} 4\n"
	    "rinki_page_latency_seconds_sum 2.507\n"
	    "rinki_page_latency_seconds_count 4\n"
	    "# HELP rinki_spool_pending The call log goes to the spool: the database cannot take "
	    "it (1) or not (0).\n"
	    "# TYPE rinki_spool_pending gauge\n"
	    "rinki_spool_pending 1\n"
	    "# HELP rinki_db_queue_bytes Call-log writes waiting in the writer thread's queue, "
	    "bytes.\n"
	    "# TYPE rinki_db_queue_bytes gauge\n"
	    "rinki_db_queue_bytes 4096\n"
	    "# HELP rinki_roster_gap_lines Service lines with nobody on duty at some time in the "
	    "next 14 days, as of the last roster load.\n"
	    "# TYPE rinki_roster_gap_lines gauge\n"
	    "rinki_roster_gap_lines 2\n"
	    "# HELP rinki_roster_county_version The county roster version the gateway pages "
	    "from (rinki-sync's roster pull); 0: a roster imported locally.\n"
	    "# TYPE rinki_roster_county_version gauge\n"
	    "rinki_roster_county_version 17\n"
	    "# HELP rinki_roster_county_made_timestamp_seconds When the county made that roster "
	    "version (its age: time() minus this); 0: none.\n"
	    "# TYPE rinki_roster_county_made_timestamp_seconds gauge\n"
	    "rinki_roster_county_made_timestamp_seconds 1767139200.250\n"
	    "# HELP rinki_last_page_timestamp_seconds When the last worker was dialled for an "
	    "authority call (Unix time; 0: none yet).\n"
	    "# TYPE rinki_last_page_timestamp_seconds gauge\n"
	    "rinki_last_page_timestamp_seconds 1767225600.123\n"
	    "# HELP rinki_pages_fast_total Authority calls whose first ATD was written from the "
	    "pager's table, before the incident was built.\n"
	    "# TYPE rinki_pages_fast_total counter\n"
	    "rinki_pages_fast_total 5\n"
	    "# HELP rinki_pages_ahead_wrong_total ATDs written ahead that were not the page's: "
	    "hung up, the right worker dialled (never expected).\n"
	    "# TYPE rinki_pages_ahead_wrong_total counter\n"
	    "rinki_pages_ahead_wrong_total 1\n";
	char buf[4096];
	int n = gw_status_metrics_format(&mt, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
	/* one byte short of the text and its NUL: refused, not cut */
	assert_int_equal(gw_status_metrics_format(&mt, buf, strlen(want)), -ENOSPC);
	assert_int_equal(gw_status_metrics_format(&mt, buf, strlen(want) + 1), n);
}

/* The counters follow what the wiring reports, on the test clock; the file is replaced
   whole on the loop timer, never written through a symlink left where its temp goes. */
static void test_metrics_counters_and_file(void **state)
{
	struct fix *f = *state;
	char dir[] = "/tmp/rinki-metrics-XXXXXX";
	assert_non_null(mkdtemp(dir));
	snprintf(f->conf.metrics_file, sizeof(f->conf.metrics_file), "%s/rinki.prom", dir);
	f->conf.metrics_interval_s = 15;
	char victim[80], tmp[300];
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->conf.metrics_file);
	FILE *v = fopen(victim, "w");
	assert_non_null(v);
	fputs("keep\n", v);
	fclose(v);
	assert_int_equal(symlink(victim, tmp), 0);

	gw_status_device(f->st, "radio", true);
	/* an incident paged 7 ms after its +CTICN, then accepted; a second paged at once and
	   closed unaccepted; one busy */
	gw_status_page_start(f->st);
	gw_loop_clock_advance(f->loop, 7);
	gw_status_page_dialled(f->st);
	gw_loop_clock_advance(f->loop, 5000);
	gw_status_page_dialled(f->st); /* the next step of the chain: no second sample */
	gw_status_call_state(f->st, GW_CALL_ST_PAGING);
	gw_status_call_state(f->st, GW_CALL_ST_BRIDGED);
	gw_status_call_state(f->st, GW_CALL_ST_CLOSED);
	gw_status_page_start(f->st);
	gw_status_page_dialled(f->st);
	gw_status_call_state(f->st, GW_CALL_ST_PAGING);
	gw_status_call_state(f->st, GW_CALL_ST_CLOSED);
	gw_status_busy(f->st);
	gw_status_roster_gaps(f->st, 1);
	struct gw_status_metrics mt;
	gw_status_metrics_get(f->st, &mt);
	assert_true(mt.radio_up);
	assert_false(mt.modem_up);
	assert_int_equal(mt.incidents[GW_STATUS_OUT_ACCEPTED], 1);
	assert_int_equal(mt.incidents[GW_STATUS_OUT_NOT_ACCEPTED], 1);
	assert_int_equal(mt.incidents[GW_STATUS_OUT_BUSY], 1);
	assert_int_equal(mt.lat_count, 2);
	assert_int_equal(mt.lat_sum_ms, 7);
	assert_int_equal(mt.lat_bucket[0], 1); /* <= 1 ms: the second */
	assert_int_equal(mt.lat_bucket[2], 1); /* <= 5 ms: not the 7 ms one */
	assert_int_equal(mt.lat_bucket[3], 2); /* <= 10 ms: both */
	assert_int_equal(mt.roster_gap_lines, 1);
	assert_int_equal(mt.last_page_wall_ms, 1767225600000LL + 5007);

	/* the timer writes at once, then every metrics.interval */
	gw_status_metrics_start(f->st);
	gw_loop_clock_advance(f->loop, 0);
	char text[4096];
	FILE *in = fopen(f->conf.metrics_file, "r");
	assert_non_null(in);
	size_t n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = '\0';
	assert_non_null(strstr(text, "rinki_incidents_total{outcome=\"accepted\"} 1\n"));
	assert_non_null(strstr(text, "rinki_page_latency_seconds_sum 0.007\n"));
	v = fopen(victim, "r");
	assert_non_null(v);
	assert_non_null(fgets(text, sizeof(text), v));
	fclose(v);
	assert_string_equal(text, "keep\n"); /* the symlink's target untouched */
	assert_int_equal(access(tmp, F_OK), -1);

	gw_status_busy(f->st);
	gw_loop_clock_advance(f->loop, 14999);
	in = fopen(f->conf.metrics_file, "r");
	n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = '\0';
	assert_non_null(strstr(text, "rinki_incidents_total{outcome=\"busy\"} 1\n"));
	gw_loop_clock_advance(f->loop, 1);
	in = fopen(f->conf.metrics_file, "r");
	n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = '\0';
	assert_non_null(strstr(text, "rinki_incidents_total{outcome=\"busy\"} 2\n"));

	/* a directory it cannot write to: an error, the old file left as it was */
	snprintf(f->conf.metrics_file, sizeof(f->conf.metrics_file), "%s/none/rinki.prom", dir);
	assert_int_equal(gw_status_metrics_flush(f->st), -ENOENT);
	snprintf(f->conf.metrics_file, sizeof(f->conf.metrics_file), "%s/rinki.prom", dir);
	unlink(f->conf.metrics_file);
	unlink(victim);
	rmdir(dir);
	f->conf.metrics_file[0] = '\0';
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_devices_leds_and_status_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_on_call_led, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_board_remembers_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_after_five_minutes_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_board_events, setup, teardown),
	    cmocka_unit_test(test_metrics_format_exact),
	    cmocka_unit_test_setup_teardown(test_metrics_counters_and_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
