/*
 * Unit tests for gateway/serial.c over real pseudo-terminals reached through a
 * symlink, the way a udev by-id name reaches a USB serial device: hang-up is
 * detected, the port reopens by itself once the name points at a live device
 * again, and writes while down are refused rather than lost silently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link/serial.h"

struct fx {
	char dir[64], link[96];
	int master;
	struct gw_loop *loop;
	struct gw_serial *s;
	int ups, downs;
	char got[256];
	size_t ngot;
};

static void on_data(void *arg, const char *buf, size_t len)
{
	struct fx *f = arg;
	if (f->ngot + len < sizeof(f->got)) {
		memcpy(f->got + f->ngot, buf, len);
		f->ngot += len;
	}
}

static void on_state(void *arg, int up)
{
	struct fx *f = arg;
	if (up)
		f->ups++;
	else
		f->downs++;
}

/* New pty; the link now names its slave. */
static int new_pty(struct fx *f)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s/new", f->dir);
	unlink(tmp);
	assert_int_equal(symlink(ptsname(m), tmp), 0);
	assert_int_equal(rename(tmp, f->link), 0);
	return m;
}

static void run_ms(struct fx *f, int ms)
{
	for (int i = 0; i < ms / 10; i++)
		gw_loop_run_once(f->loop, 10);
}

static void test_hangup_and_reopen(void **state)
{
	(void)state;
	struct fx f = {0};
	snprintf(f.dir, sizeof(f.dir), "/tmp/rinki-serial-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.link, sizeof(f.link), "%s/tty", f.dir);
	f.master = new_pty(&f);
	f.loop = gw_loop_new();
	struct gw_serial_ops ops = {.data = on_data, .state = on_state, .arg = &f};
	assert_int_equal(gw_serial_new(f.loop, GW_LOG_RADIO, f.link, 115200, &ops, &f.s), 0);
	assert_int_equal(f.ups, 1);
	assert_int_equal(gw_serial_is_up(f.s), 1);

	/* both directions */
	assert_int_equal(gw_serial_write(f.s, "AT\r", 3), 0);
	char buf[16];
	run_ms(&f, 20);
	assert_int_equal(read(f.master, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "AT\r", 3);
	assert_int_equal(write(f.master, "OK\r\n", 4), 4);
	run_ms(&f, 20);
	assert_int_equal(f.ngot, 4);

	/* unplug: the device end goes away */
	close(f.master);
	run_ms(&f, 50);
	assert_int_equal(f.downs, 1);
	assert_int_equal(gw_serial_is_up(f.s), 0);
	assert_int_equal(gw_serial_write(f.s, "AT\r", 3), -ENOTCONN);

	/* replug under the same name: reopened by the backoff timer */
	f.master = new_pty(&f);
	run_ms(&f, 1500);
	assert_int_equal(f.ups, 2);
	assert_int_equal(gw_serial_is_up(f.s), 1);
	assert_int_equal(gw_serial_write(f.s, "ATE0\r", 5), 0);
	run_ms(&f, 20);
	assert_int_equal(read(f.master, buf, sizeof(buf)), 5);

	gw_serial_free(f.s);
	gw_loop_free(f.loop);
	close(f.master);
	unlink(f.link);
	rmdir(f.dir);
}

static void test_missing_port_retries(void **state)
{
	(void)state;
	struct fx f = {0};
	f.loop = gw_loop_new();
	struct gw_serial_ops ops = {.data = on_data, .state = on_state, .arg = &f};
	/* a missing device is not fatal: the object exists and keeps retrying */
	assert_int_equal(
	    gw_serial_new(f.loop, GW_LOG_MODEM, "/dev/rinki-missing-port", 115200, &ops, &f.s), 0);
	assert_int_equal(gw_serial_is_up(f.s), 0);
	assert_int_equal(f.ups, 0);
	run_ms(&f, 300);
	assert_int_equal(f.ups, 0);
	gw_serial_free(f.s);
	gw_loop_free(f.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hangup_and_reopen),
	    cmocka_unit_test(test_missing_port_retries),
	};
	return cmocka_run_group_tests_name("serial", tests, NULL, NULL);
}
