/*
 * Integration test of the call-back (gateway/callback.c) through rinkid, modem-sim and
 * tetra-sim: a roster worker with a PIN rings the gateway, types the PIN and the
 * officer's ISSI as DTMF (modem-sim's dtmf command, the modem's key URC), and rinkid
 * dials the radio (tetra-sim sees ATD<ISSI> and answers); the release ends the phone
 * call and the call log holds the call-back incident. Along the way the control socket's
 * status (callback.*), rinkictl status and systemd's STATUS= (a fake $NOTIFY_SOCKET) show
 * the call-back: PIN with the worker's name, then BRIDGED, then none/idle; never the PIN.
 * Then the wrong-PIN path with its lock-out.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "store/db.h"
#include "harness.h"
#include "store/roster.h"

#include "../calllog_read.h"

#define AINO "+358401234567"

static struct h_rig rig;

/* The newest incident of rinkid's call log. */
static void read_newest(struct logged *l)
{
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	logged_newest(db, l);
	gw_db_close(db);
}

/* As rinkictl worker pin does before the first start: peppered with <db>.pepper (made
   here), which rinkid must read to check it. */
static void set_pin(const char *handle, const char *pin)
{
	struct gw_db *db;
	char hash[GW_ROSTER_PIN_HASH_MAX], pepper[160];
	snprintf(pepper, sizeof(pepper), "%s.pepper", rig.db);
	assert_int_equal(gw_roster_pepper_load(pepper, true), 0);
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_int_equal(gw_roster_hash_pin(pin, hash), 0);
	assert_int_equal(strncmp(hash, "pep1:", 5), 0);
	assert_int_equal(gw_db_worker_set_pin(db, handle, hash), 0);
	gw_db_close(db);
}

/* The worker presses keys: one modem DTMF report each. */
static void press(const char *keys)
{
	for (; *keys; keys++) {
		assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf %c", *keys), 0);
		h_pump(&rig, 120); /* apart: not one press reported twice */
	}
}

static int nfd = -1; /* the fake systemd's notify socket */
static char status_text[RINKI_CTL_REPLY_MAX];

/* rinkid's status over its control socket (h_start_rinkid's ctl.sock), parsed into m. */
static void ctl_status(struct gw_ctl_msg *m)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char err[128];
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", rig.dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, "status\n", 7, MSG_NOSIGNAL), 7);
	/* one reply line: read until its LF, 5 s at most per chunk */
	size_t n = 0;
	char *lf = NULL;
	while (!lf && n < sizeof(status_text) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 5000), 1);
		ssize_t k = read(fd, status_text + n, sizeof(status_text) - 1 - n);
		assert_true(k > 0);
		lf = memchr(status_text + n, '\n', (size_t)k);
		n += (size_t)k;
	}
	close(fd);
	assert_non_null(lf);
	*lf = '\0';
	if (gw_ctl_parse(status_text, (size_t)(lf - status_text), m, err, sizeof(err)) < 0 ||
	    strcmp(m->verb, "ok") != 0)
		fail_msg("status reply (%s): %s", err, status_text);
}

static const char *field(const struct gw_ctl_msg *m, const char *key)
{
	const char *v = gw_ctl_msg_get(m, key);
	if (!v)
		fail_msg("no %s in the status: %s", key, status_text);
	return v;
}

/* Wait (pumping the sims) for a STATUS= datagram holding needle. 0 or -1. */
static int wait_status(const char *needle, int timeout_ms)
{
	char buf[512];
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		ssize_t n;
		while ((n = recv(nfd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
			buf[n] = '\0';
			if (strstr(buf, "STATUS=") && strstr(buf, needle))
				return 0;
		}
		h_pump(&rig, 50);
	}
	return -1;
}

/* rinkictl status's text, in out. */
static void rinkictl_status(char *out, size_t len)
{
	char bin[256], path[200];
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(path, sizeof(path), "%s/rinkictl.out", rig.dir);
	char *argv[] = {bin, "status", NULL};
	assert_int_equal(h_run(argv, path), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	char path[100];
	snprintf(path, sizeof(path), "%s/notify", rig.dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nfd < 0 || bind(nfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setenv("NOTIFY_SOCKET", path, 1);
	snprintf(path, sizeof(path), "%s/ctl.sock", rig.dir);
	setenv(RINKI_CTL_SOCKET_ENV, path, 1);
	set_pin("aino", "2468");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig);
	unsetenv("NOTIFY_SOCKET");
	unsetenv(RINKI_CTL_SOCKET_ENV);
	if (nfd >= 0)
		close(nfd);
	nfd = -1;
	return h_rinkid_status() == 0 ? 0 : -1;
}

/*
 * Lines of rinkid's log whose text (after the time stamp, whose microseconds may hold any
 * digits) contains needle.
 */
static int log_text_count(const char *needle)
{
	FILE *f = fopen(rig.log, "r");
	char line[2048];
	int n = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " ");
		p += strcspn(p, " "); /* past the time stamp */
		n += strstr(p, needle) != NULL;
	}
	fclose(f);
	return n;
}

static void test_callback_to_radio(void **state)
{
	(void)state;
	size_t mp = 0, rp = 0;
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "dial-reply answer"), 0);
	assert_int_equal(h_start_rinkid(&rig, NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "call active", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "line=callback",
					     "kind=call_in", "detail=aino fi", NULL),
			 0);
	/* the PIN stage: live, PIN, the worker's name; STATUS= too */
	struct gw_ctl_msg m;
	ctl_status(&m);
	assert_string_equal(field(&m, "callback.live"), "yes");
	assert_string_equal(field(&m, "callback.state"), "PIN");
	assert_string_equal(field(&m, "callback.worker"), "Aino Virtanen");
	int64_t id = atoll(field(&m, "callback.id"));
	assert_true(id > 0);
	assert_string_equal(field(&m, "call.live"), "no"); /* no authority call */
	char want[64];
	/* sent on the change itself: well inside rinkid's 2 s periodic STATUS= refresh */
	snprintf(want, sizeof(want), "call-back %lld PIN", (long long)id);
	assert_int_equal(wait_status(want, 500), 0);
	press("24");
	ctl_status(&m);
	assert_string_equal(field(&m, "callback.state"), "PIN");
	press("68#");
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "line=callback",
					     "kind=pin_ok", "detail=aino", NULL),
			 0);
	ctl_status(&m);
	assert_string_equal(field(&m, "callback.state"), "ISSI");
	press("2269001#");
	assert_int_equal(h_wait_event(&rig.radio, &rp, "dial ", 3000), 0);
	const char *ev = strstr(rig.radio.events, "event dial ");
	assert_non_null(ev);
	assert_non_null(strstr(ev, " 2269001 cci="));
	int cci = atoi(strstr(ev, "cci=") + 4);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "line=callback",
					     "kind=connected", "detail~2269001 cci ", NULL),
			 0);
	/* bridged: the same incident, BRIDGED, in the socket, rinkictl's text and STATUS= */
	ctl_status(&m);
	assert_string_equal(field(&m, "callback.live"), "yes");
	assert_string_equal(field(&m, "callback.state"), "BRIDGED");
	assert_string_equal(field(&m, "callback.worker"), "Aino Virtanen");
	assert_int_equal(atoll(field(&m, "callback.id")), id);
	assert_null(strstr(status_text, "2468"));
	char text[4096];
	rinkictl_status(text, sizeof(text));
	snprintf(want, sizeof(want), "call-back %lld, BRIDGED, worker Aino Virtanen\n",
		 (long long)id);
	if (!strstr(text, want))
		fail_msg("no '%s' in rinkictl status:\n%s", want, text);
	snprintf(want, sizeof(want), "call-back %lld BRIDGED", (long long)id);
	assert_int_equal(wait_status(want, 500), 0);
	/* the officer ends the call: the worker's phone is hung up */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "line=callback",
					     "outcome=connected", "accepted_by=aino", NULL),
			 0);
	/* over: idle everywhere */
	ctl_status(&m);
	assert_string_equal(field(&m, "callback.live"), "no");
	assert_string_equal(field(&m, "callback.state"), "none");
	assert_string_equal(field(&m, "callback.worker"), "");
	assert_string_equal(field(&m, "callback.id"), "0");
	assert_int_equal(wait_status("modem ready, idle", 500), 0);
	rinkictl_status(text, sizeof(text));
	if (!strstr(text, "call-back none\n"))
		fail_msg("no 'call-back none' in rinkictl status:\n%s", text);
	struct logged l;
	read_newest(&l);
	assert_string_equal(l.line, "callback");
	assert_string_equal(l.outcome, "connected");
	assert_string_equal(l.accepted, "aino");
	assert_string_equal(l.kinds, "open,call_in,pin_ok,dial,connected,released,close,");
	assert_null(strstr(l.details, "2468"));
	/* the PIN never reaches the log either (its text, not the time stamps: "1132.924680") */
	assert_int_equal(log_text_count("2468"), 0);
	assert_true(log_text_count("pin_ok") > 0); /* the counting reads the log */
}

static void test_callback_wrong_pin(void **state)
{
	(void)state;
	size_t mp = 0;
	assert_int_equal(h_start_rinkid(&rig, "callback.lockout_s 120"), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "call active", 3000), 0);
	press("1111#");
	press("1357#");
	press("9999#");
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "line=callback",
					     "kind=locked_out", "detail=aino for 120 s", NULL),
			 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "line=callback",
					     "outcome=pin_failed", NULL),
			 0);
	struct logged l;
	read_newest(&l);
	assert_string_equal(l.line, "callback");
	assert_string_equal(l.outcome, "pin_failed");
	assert_string_equal(l.kinds, "open,call_in,pin_bad,pin_bad,pin_bad,locked_out,close,");
	/* no dial went to the radio */
	assert_int_equal(h_count_events(&rig.radio, "event dial "), 0);
	/* locked out: the next call is hung up unanswered (once the call-back is over) */
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "state", "fsm=callback", "to=IDLE", NULL),
			 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "hangup host", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "callback_refused", "from=" AINO,
					     "why=locked_out", NULL),
			 0);
	assert_int_equal(h_count_events(&rig.modem, "call active"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_callback_to_radio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_callback_wrong_pin, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
