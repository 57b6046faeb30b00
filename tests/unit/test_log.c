/*
 * Unit tests of gateway/core/log's journald output against a fake journal: a datagram
 * socket bound at a temporary path, as /run/systemd/journal/socket is. Checks the exact
 * native-protocol datagram of a plain line and of call-related lines (RINKI_INCIDENT from
 * the "call(<id>){" prefix, RINKI_LINE from gw_log_set_call_line(), "callback" for a
 * call-back), the binary form of a value with a newline, levels as PRIORITY, and a
 * journal that went away (the line is not lost: syslog takes it; a new journal socket at
 * the same path is found again).
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

static char dir[] = "/tmp/rinki-journal-XXXXXX";
static char path[96];
static int sd = -1;

static void fake_journal(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (sd >= 0)
		close(sd);
	sd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sd >= 0);
	assert_int_equal(bind(sd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

/* The next datagram (one must come within 1 s); its length in *n. */
static const char *next_msg(size_t *n)
{
	static char buf[2048];
	struct pollfd p = {.fd = sd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 1000), 1);
	ssize_t k = recv(sd, buf, sizeof(buf) - 1, 0);
	assert_true(k > 0);
	buf[k] = '\0';
	if (n)
		*n = (size_t)k;
	return buf;
}

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/rinki-journal-XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/socket", dir);
	fake_journal();
	gw_log_init("rinkid", false);
	assert_int_equal(gw_log_journal_open(path), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gw_log_journal_close();
	gw_log_set_call_line(0, NULL);
	close(sd);
	sd = -1;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void test_plain_line(void **state)
{
	(void)state;
	LOGP(GW_LOG_MODEM, GW_LOG_WARN, "modem does not answer (%d of %d probes)", 1, 3);
	assert_string_equal(next_msg(NULL), "MESSAGE=modem: modem does not answer (1 of 3 probes)\n"
					    "PRIORITY=4\n"
					    "SYSLOG_IDENTIFIER=rinkid\n"
					    "RINKI_CATEGORY=modem\n");
}

static void test_call_fields(void **state)
{
	(void)state;
	gw_log_set_call_line(12, "sos");
	LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "call(12){PAGING}: paging Aino");
	assert_string_equal(next_msg(NULL), "MESSAGE=call: call(12){PAGING}: paging Aino\n"
					    "PRIORITY=5\n"
					    "SYSLOG_IDENTIFIER=rinkid\n"
					    "RINKI_CATEGORY=call\n"
					    "RINKI_INCIDENT=12\n"
					    "RINKI_LINE=sos\n");
	/* another incident (a busy one): its id, but not the live one's line */
	LOGP(GW_LOG_CALL, GW_LOG_ERROR, "call(13){BUSY}: told by SDS");
	assert_string_equal(next_msg(NULL), "MESSAGE=call: call(13){BUSY}: told by SDS\n"
					    "PRIORITY=3\n"
					    "SYSLOG_IDENTIFIER=rinkid\n"
					    "RINKI_CATEGORY=call\n"
					    "RINKI_INCIDENT=13\n");
	/* a call-back */
	LOGP(GW_LOG_CALL, GW_LOG_INFO, "callback(14){PIN}: PIN ok");
	assert_string_equal(next_msg(NULL), "MESSAGE=call: callback(14){PIN}: PIN ok\n"
					    "PRIORITY=6\n"
					    "SYSLOG_IDENTIFIER=rinkid\n"
					    "RINKI_CATEGORY=call\n"
					    "RINKI_INCIDENT=14\n"
					    "RINKI_LINE=callback\n");
	/* no id yet, or not a prefix: no incident field */
	LOGP(GW_LOG_CALL, GW_LOG_INFO, "call(new3){NEW}: routed");
	const char *m = next_msg(NULL);
	assert_null(strstr(m, "RINKI_INCIDENT"));
	LOGP(GW_LOG_CALL, GW_LOG_INFO, "call(12) without its state");
	m = next_msg(NULL);
	assert_null(strstr(m, "RINKI_INCIDENT"));
}

/* A value with a newline: KEY, newline, 64-bit little-endian length, the bytes, newline. */
static void test_binary_value(void **state)
{
	(void)state;
	LOGP(GW_LOG_MAIN, GW_LOG_INFO, "two\nlines");
	size_t n;
	const char *m = next_msg(&n);
	static const char want[] = "MESSAGE\n\x0f\0\0\0\0\0\0\0main: two\nlines\n";
	assert_true(n > sizeof(want) - 1);
	assert_memory_equal(m, want, sizeof(want) - 1);
	assert_string_equal(m + sizeof(want) - 1, "PRIORITY=6\n"
						  "SYSLOG_IDENTIFIER=rinkid\n"
						  "RINKI_CATEGORY=main\n");
}

/* journald restarts: its socket is bound anew at the same path; the next line finds it. */
static void test_journal_restarted(void **state)
{
	(void)state;
	fake_journal();
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "after the restart");
	assert_string_equal(next_msg(NULL), "MESSAGE=main: after the restart\n"
					    "PRIORITY=5\n"
					    "SYSLOG_IDENTIFIER=rinkid\n"
					    "RINKI_CATEGORY=main\n");
	/* no journal at all: open fails and changes nothing */
	assert_int_equal(gw_log_journal_open("/nonexistent/journal/socket"), -ENOENT);
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "still here");
	assert_non_null(strstr(next_msg(NULL), "MESSAGE=main: still here\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_binary_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_restarted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
