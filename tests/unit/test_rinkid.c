/*
 * Unit tests of gateway/service/rinkid, the wiring, linked from the archive like any module:
 * rinkid is built against a pseudo-terminal radio and modem, a fresh database and a control
 * socket in a temporary directory, and a fake systemd ($NOTIFY_SOCKET, an abstract name).
 * The radio's init is answered and its "up" reaches STATUS=; SIGTERM ends gw_rinkid_run()
 * with READY=1 before and STOPPING=1 after; gw_rinkid_free() removes the control socket
 * and frees everything (LeakSanitizer checks). A failing build frees what it built.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
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
#include "pty_peer.h"
#include "service/rinkid.h"

static char dir[32];
static int sd = -1; /* the fake systemd's socket */

/* The next datagram to the fake systemd (one must come within 2 s). */
static const char *next_msg(void)
{
	static char buf[512];
	struct pollfd p = {.fd = sd, .events = POLLIN};
	buf[0] = '\0';
	assert_int_equal(poll(&p, 1, 2000), 1);
	ssize_t n = recv(sd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rinki-rinkid-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char name[64];
	snprintf(name, sizeof(name), "@rinki-rinkid-test-%d", (int)getpid());
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
	sd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sd >= 0);
	assert_int_equal(bind(sd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name))),
			 0);
	setenv("NOTIFY_SOCKET", name, 1);
	unsetenv("WATCHDOG_USEC");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	close(sd);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

/* A configuration for the temporary directory: no board, no voice, no socket group. */
static void test_conf(struct gw_conf *c, const char *radio, const char *modem)
{
	gw_conf_defaults(c);
	snprintf(c->radio_port, sizeof(c->radio_port), "%s", radio);
	snprintf(c->modem_port, sizeof(c->modem_port), "%s", modem);
	snprintf(c->db_path, sizeof(c->db_path), "%s/rinki.db", dir);
	snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s/rinki.sock", dir);
	c->ctl_group[0] = c->ctl_admin_group[0] = '\0';
	c->radio_health_interval_s = 3600;
}

static const char *const generic_init[] = {"ATE0", "AT+CTOM=0", "AT+CTSP=2,0,0", "AT+CTSP=1,3,130",
					   "AT+CTSP=2,2,20"};

static void test_up_and_down(void **state)
{
	(void)state;
	static struct gw_conf conf; /* large */
	struct pty_peer radio, modem;
	const char *rpath = pty_peer_open(&radio, NULL);
	char rp[64];
	snprintf(rp, sizeof(rp), "%s", rpath);
	test_conf(&conf, rp, pty_peer_open(&modem, NULL));
	struct gw_rinkid_opts o = {.conf_path = "/nonexistent/rinki.conf", .allow_root = true};
	struct gw_rinkid *d;
	assert_int_equal(gw_rinkid_new(&conf, &o, &d), 0);
	radio.loop = modem.loop = gw_rinkid_loop(d);
	assert_int_equal(access(conf.ctl_socket, F_OK), 0);

	/* the radio's init, answered: it is up, and systemd hears so */
	pty_peer_expect(&radio, "AT");
	pty_peer_send(&radio, "\r\nOK\r\n");
	for (size_t i = 0; i < sizeof(generic_init) / sizeof(generic_init[0]); i++) {
		pty_peer_expect(&radio, generic_init[i]);
		pty_peer_send(&radio, "\r\nOK\r\n");
	}
	pty_peer_expect(&radio, "AT+CNUMF?");
	pty_peer_send(&radio, "\r\n+CNUMF: 6,02440000100001001\r\n\r\nOK\r\n");
	pty_peer_expect(&radio, "AT+CLCC");
	pty_peer_send(&radio, "\r\nOK\r\n");
	pty_peer_run(&radio, 50);
	assert_string_equal(next_msg(), "STATUS=radio ready, modem DOWN, idle");

	/* SIGTERM (blocked, delivered through the loop's signalfd): run says ready, stops */
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(gw_rinkid_run(d), 0);
	assert_string_equal(next_msg(), "READY=1\nSTATUS=waiting for the radio and the modem");
	assert_string_equal(next_msg(), "STOPPING=1");
	gw_rinkid_free(d);
	assert_int_equal(access(conf.ctl_socket, F_OK), -1);
	close(radio.master);
	close(modem.master);
}

/* The radio driver refuses its configuration (a model it has no profile for), after the
   database, the services and the board were built: nothing is left built (LeakSanitizer),
   the error returned. (A database that cannot be opened no longer fails the build: rinkid
   runs on a stand-in, tests/integration/test_badday.c.) */
static void test_failed_build_frees(void **state)
{
	(void)state;
	static struct gw_conf conf;
	struct pty_peer radio, modem;
	const char *rpath = pty_peer_open(&radio, NULL);
	char rp[64];
	snprintf(rp, sizeof(rp), "%s", rpath);
	test_conf(&conf, rp, pty_peer_open(&modem, NULL));
	snprintf(conf.radio_model, sizeof(conf.radio_model), "no-such-model");
	struct gw_rinkid_opts o = {.conf_path = "/nonexistent/rinki.conf", .allow_root = true};
	struct gw_rinkid *d = NULL;
	assert_true(gw_rinkid_new(&conf, &o, &d) < 0);
	assert_null(d);
	assert_int_equal(access(conf.ctl_socket, F_OK), -1); /* the socket went with it */
	close(radio.master);
	close(modem.master);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_up_and_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_build_frees, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
