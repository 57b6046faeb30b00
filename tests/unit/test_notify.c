/*
 * Unit tests of gateway/notify against a fake systemd: a datagram socket bound where
 * $NOTIFY_SOCKET points (a path, then an abstract name). Checks the exact messages,
 * STATUS= de-duplication, the watchdog period from $WATCHDOG_USEC, pings withheld while
 * unhealthy (on the test clock), $WATCHDOG_PID for another process, and bad addresses.
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
#include "core/notify.h"

static char dir[] = "/tmp/rinki-notify-XXXXXX";
static char path[96];
static int sd = -1;

/* Bind the fake systemd socket at addr ("/path" or "@name") and point $NOTIFY_SOCKET at it. */
static void fake_systemd(const char *addr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(addr);
	memcpy(sa.sun_path, addr, n);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (addr[0] == '@') {
		sa.sun_path[0] = '\0';
	} else {
		len++; /* the path's NUL */
		unlink(addr);
	}
	if (sd >= 0)
		close(sd);
	sd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sd >= 0);
	assert_int_equal(bind(sd, (struct sockaddr *)&sa, len), 0);
	setenv("NOTIFY_SOCKET", addr, 1);
}

/* The next datagram, or "" when none arrives within 100 ms. */
static const char *next_msg(void)
{
	static char buf[1024];
	struct pollfd p = {.fd = sd, .events = POLLIN};
	buf[0] = '\0';
	if (poll(&p, 1, 100) == 1) {
		ssize_t n = recv(sd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
	return buf;
}

static int setup(void **state)
{
	(void)state;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

static void test_outside_systemd(void **state)
{
	(void)state;
	struct gw_loop *l = gw_loop_new();
	struct gw_notify *n;
	assert_int_equal(gw_notify_send("READY=1"), 0);
	assert_int_equal(gw_notify_new(l, NULL, NULL, &n), 0);
	assert_int_equal(gw_notify_watchdog_ms(n), 0);
	assert_int_equal(gw_notify_ready(n, "up"), 0);
	assert_int_equal(gw_notify_status(n, "x %d", 1), 0);
	gw_notify_free(n);
	gw_loop_free(l);
}

static void test_messages_to_path_and_abstract(void **state)
{
	(void)state;
	struct gw_loop *l = gw_loop_new();
	struct gw_notify *n;
	fake_systemd(path);
	assert_int_equal(gw_notify_new(l, NULL, NULL, &n), 0);
	assert_int_equal(gw_notify_ready(n, "radio ready,\nmodem ready"), 1);
	assert_string_equal(next_msg(), "READY=1\nSTATUS=radio ready, modem ready");
	assert_int_equal(gw_notify_status(n, "incident %d: %s", 12, "PAGING"), 1);
	assert_string_equal(next_msg(), "STATUS=incident 12: PAGING");
	/* the same text again is not sent */
	assert_int_equal(gw_notify_status(n, "incident %d: %s", 12, "PAGING"), 0);
	assert_string_equal(next_msg(), "");
	assert_int_equal(gw_notify_stopping(n), 1);
	assert_string_equal(next_msg(), "STOPPING=1");
	gw_notify_free(n);

	char abstract[64];
	snprintf(abstract, sizeof(abstract), "@rinki-test-%d", (int)getpid());
	fake_systemd(abstract);
	assert_int_equal(gw_notify_send("STATUS=abstract"), 1);
	assert_string_equal(next_msg(), "STATUS=abstract");
	gw_loop_free(l);
}

static void test_bad_addresses(void **state)
{
	(void)state;
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_int_equal(gw_notify_send("READY=1"), -EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(gw_notify_send("READY=1"), -EAFNOSUPPORT);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longp, 1);
	assert_int_equal(gw_notify_send("READY=1"), -ENAMETOOLONG);
	/* nobody listening there */
	char gone[128];
	snprintf(gone, sizeof(gone), "%s/gone", dir);
	setenv("NOTIFY_SOCKET", gone, 1);
	assert_int_equal(gw_notify_send("READY=1"), -ENOENT);
}

static bool healthy_flag;
static bool healthy(void *arg)
{
	(void)arg;
	return healthy_flag;
}

static void test_watchdog(void **state)
{
	(void)state;
	struct gw_loop *l = gw_loop_new();
	struct gw_notify *n;
	fake_systemd(path);
	gw_loop_clock_override(l, 1000, 1000000);
	setenv("WATCHDOG_USEC", "bogus", 1);
	assert_int_equal(gw_notify_new(l, healthy, NULL, &n), -EINVAL);
	setenv("WATCHDOG_USEC", "0", 1);
	assert_int_equal(gw_notify_new(l, healthy, NULL, &n), -EINVAL);
	setenv("WATCHDOG_USEC", "10000000", 1); /* 10 s: ping every 5 s */
	assert_int_equal(gw_notify_new(l, healthy, NULL, &n), 0);
	assert_int_equal(gw_notify_watchdog_ms(n), 5000);

	/* no pings before READY=1 */
	healthy_flag = true;
	gw_loop_clock_advance(l, 20000);
	assert_string_equal(next_msg(), "");
	gw_notify_ready(n, NULL);
	assert_string_equal(next_msg(), "READY=1");
	assert_string_equal(next_msg(), "WATCHDOG=1");
	gw_loop_clock_advance(l, 4999);
	assert_string_equal(next_msg(), "");
	gw_loop_clock_advance(l, 1);
	assert_string_equal(next_msg(), "WATCHDOG=1");
	/* unhealthy: silence, however long */
	healthy_flag = false;
	gw_loop_clock_advance(l, 5000);
	gw_loop_clock_advance(l, 5000);
	assert_string_equal(next_msg(), "");
	healthy_flag = true;
	gw_loop_clock_advance(l, 5000);
	assert_string_equal(next_msg(), "WATCHDOG=1");
	gw_notify_free(n);
	gw_loop_clock_advance(l, 20000); /* freed: its timer is gone */
	assert_string_equal(next_msg(), "");

	/* a watchdog meant for another process is not ours to feed */
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(gw_notify_new(l, healthy, NULL, &n), 0);
	assert_int_equal(gw_notify_watchdog_ms(n), 0);
	gw_notify_free(n);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(gw_notify_new(l, healthy, NULL, &n), 0);
	assert_int_equal(gw_notify_watchdog_ms(n), 5000);
	gw_notify_free(n);
	gw_loop_free(l);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	gw_log_init("test_notify", false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (sd >= 0)
		close(sd);
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_outside_systemd, setup),
	    cmocka_unit_test_setup(test_messages_to_path_and_abstract, setup),
	    cmocka_unit_test_setup(test_bad_addresses, setup),
	    cmocka_unit_test_setup(test_watchdog, setup),
	};
	return cmocka_run_group_tests_name("notify", tests, group_setup, group_teardown);
}
