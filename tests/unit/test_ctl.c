/*
 * Unit tests of gateway/ctl: the request parser and encoder, the handler with fake ops
 * (access levels, validation, error mapping), the status formats, and the real socket in
 * a loop: mode and group of the socket file, pipelined and split requests, oversize
 * lines, a client that stops reading, the idle time-out, the client limit, stale and live
 * socket files, and peer credentials checked for children that dropped to uid 65534.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl/ctl.h"
#include "core/log.h"
#include "core/loop.h"

#define NOBODY	    65534
#define READ_GROUP  4242 /* ctl.group in the credential tests */
#define ADMIN_GROUP 4343 /* ctl.admin_group */
#define OTHER_GROUP 4444

/* ---- fake gateway ------------------------------------------------------------------------ */

static struct fake {
	int status_calls, page_calls, sds_calls;
	int page_rc, sds_rc;
	char number[64], issi[32], text[1024];
	char identity[GW_PEI_ID_MAX];
} fk;

static int fake_status(void *arg, struct gw_ctl_status *st)
{
	(void)arg;
	fk.status_calls++;
	snprintf(st->version, sizeof(st->version), "0.1.0");
	st->uptime_s = 42;
	st->radio.port_up = 1;
	st->radio.ready = 1;
	st->radio.reg_stat = 1;
	st->radio.rssi_dbm = -71;
	snprintf(st->radio.identity, sizeof(st->radio.identity), "%s", fk.identity);
	st->modem.ready = true;
	st->modem.call = GW_MODEM_CALL_ALERTING;
	st->call.live = true;
	st->call.id = 17;
	st->call.state = GW_CALL_ST_PAGING;
	st->callback.id = 9; /* stale: not live */
	st->callback.state = GW_CB_ST_BRIDGED;
	snprintf(st->callback.worker, sizeof(st->callback.worker), "stale");
	st->counters.incidents = 3;
	st->counters.pages = 5;
	st->roster.county_version = 12;
	st->roster.made_ms = 1767139200000LL;
	return 0;
}

static int fake_page(void *arg, const char *number)
{
	(void)arg;
	fk.page_calls++;
	snprintf(fk.number, sizeof(fk.number), "%s", number);
	return fk.page_rc;
}

static int fake_sds(void *arg, const char *issi, const char *text)
{
	(void)arg;
	fk.sds_calls++;
	snprintf(fk.issi, sizeof(fk.issi), "%s", issi);
	snprintf(fk.text, sizeof(fk.text), "%s", text);
	return fk.sds_rc;
}

static const struct gw_ctl_ops fake_ops = {
    .status = fake_status, .page_test = fake_page, .sds_send = fake_sds};

static const struct gw_ctl_peer root_peer = {.pid = 1, .uid = 0, .gid = 0};
static const struct gw_ctl_peer user_peer = {.pid = 2, .uid = 1000, .gid = 1000};

static struct gw_ctl *new_ctl(void)
{
	struct gw_ctl *ctl;
	memset(&fk, 0, sizeof(fk));
	fk.sds_rc = 7;
	snprintf(fk.identity, sizeof(fk.identity), "1001");
	assert_int_equal(gw_ctl_new(&fake_ops, &ctl), 0);
	return ctl;
}

static int handle(struct gw_ctl *ctl, const struct gw_ctl_peer *p, const char *line, char *reply)
{
	return gw_ctl_handle(ctl, p, line, strlen(line), reply, RINKI_CTL_REPLY_MAX);
}

/* ---- parser and encoder -------------------------------------------------------------------- */

static void test_parse_good(void **state)
{
	(void)state;
	struct gw_ctl_msg m;
	char err[160];
	const char *line = "sds-send  issi=2269001 text=Hei%20%C3%A4iti%25%3d=x\r";
	assert_int_equal(gw_ctl_parse(line, strlen(line), &m, err, sizeof(err)), 0);
	assert_string_equal(m.verb, "sds-send");
	assert_int_equal(m.nargs, 2);
	assert_string_equal(gw_ctl_msg_get(&m, "issi"), "2269001");
	assert_string_equal(gw_ctl_msg_get(&m, "text"), "Hei \xc3\xa4iti%==x");
	assert_null(gw_ctl_msg_get(&m, "nope"));
	/* a bare verb; an empty value; trailing spaces */
	assert_int_equal(gw_ctl_parse("status", 6, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nargs, 0);
	assert_int_equal(gw_ctl_parse("ok a= b.c=1  ", 13, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nargs, 2);
	assert_string_equal(gw_ctl_msg_get(&m, "a"), "");
	assert_string_equal(gw_ctl_msg_get(&m, "b.c"), "1");
}

static void expect_bad(const char *line, size_t len, int rc, const char *needle)
{
	struct gw_ctl_msg m;
	char err[160] = "";
	assert_int_equal(gw_ctl_parse(line, len, &m, err, sizeof(err)), rc);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", line, err, needle);
}

static void test_parse_bad(void **state)
{
	(void)state;
	char big[RINKI_CTL_REPLY_MAX + 10];
	expect_bad("", 0, -EINVAL, "request name");
	expect_bad(" status", 7, -EINVAL, "request name");
	expect_bad("Status", 6, -EINVAL, "request name");
	expect_bad("status\tx=1", 10, -EINVAL, "0x09");
	expect_bad("status format", 13, -EINVAL, "'format' has no '=value'");
	expect_bad("status =1", 9, -EINVAL, "expected a key");
	expect_bad("x a=%4", 6, -EINVAL, "%-escape");
	expect_bad("x a=%zz", 7, -EINVAL, "%-escape");
	expect_bad("x a=1 a=2", 9, -EINVAL, "given twice");
	expect_bad("x a=%C3%28", 10, -EINVAL, "not UTF-8");    /* bad continuation */
	expect_bad("x a=%C3", 7, -EINVAL, "not UTF-8");	       /* truncated */
	expect_bad("x a=%C0%AF", 10, -EINVAL, "not UTF-8");    /* overlong */
	expect_bad("x a=%ED%A0%80", 13, -EINVAL, "not UTF-8"); /* surrogate */
	expect_bad("x a=b%0Ac", 9, -EINVAL, "control");	       /* LF in a value */
	expect_bad("x a=%C2%85", 10, -EINVAL, "control");      /* C1 NEL */
	expect_bad("x a=\xc3\xa4", 6, -EINVAL, "0xc3");	       /* raw 8-bit: must be escaped */
	expect_bad("x a=b\0c", 7, -EINVAL, "0x00");
	memset(big, 'a', sizeof(big));
	expect_bad(big, RINKI_CTL_WORD_MAX + 1, -EINVAL, "longer than 32");
	expect_bad(big, sizeof(big), -EMSGSIZE, "longer than");
	snprintf(big, sizeof(big), "x %0*d=1", RINKI_CTL_WORD_MAX + 1, 0);
	expect_bad(big, strlen(big), -EINVAL, "longer than 32");
	/* RINKI_CTL_ARGS_MAX pairs are fine, one more is not */
	size_t n = (size_t)snprintf(big, sizeof(big), "x");
	for (int i = 0; i < RINKI_CTL_ARGS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, " k%d=", i);
	struct gw_ctl_msg m;
	char err[160];
	assert_int_equal(gw_ctl_parse(big, n, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nargs, RINKI_CTL_ARGS_MAX);
	snprintf(big + n, sizeof(big) - n, " more=1");
	expect_bad(big, strlen(big), -EINVAL, "more than 64");
}

static void test_encode_round_trip(void **state)
{
	(void)state;
	const char *text = "Hälytys: 50% valmis = ok ~\xe2\x82\xac";
	char enc[256], line[300], small[8];
	struct gw_ctl_msg m;
	char err[160];
	int n = gw_ctl_encode(enc, sizeof(enc), text);
	assert_true(n > 0);
	assert_non_null(strstr(enc, "%25")); /* '%' escaped ... */
	assert_null(strchr(enc, ' '));	     /* ... and no space left */
	snprintf(line, sizeof(line), "sds-send text=%s", enc);
	assert_int_equal(gw_ctl_parse(line, strlen(line), &m, err, sizeof(err)), 0);
	assert_string_equal(gw_ctl_msg_get(&m, "text"), text);
	assert_int_equal(gw_ctl_encode(small, sizeof(small), "1234567"), 7);
	assert_int_equal(gw_ctl_encode(small, sizeof(small), "12345678"), -ENOSPC);
	assert_int_equal(gw_ctl_encode(small, sizeof(small), "12345 "), -ENOSPC);
}

/* ---- the handler ----------------------------------------------------------------------------- */

static void test_status_formats(void **state)
{
	(void)state;
	struct gw_ctl *ctl = new_ctl();
	char reply[RINKI_CTL_REPLY_MAX], err[160];
	struct gw_ctl_msg m;

	snprintf(fk.identity, sizeof(fk.identity), "10\"01");
	assert_int_equal(handle(ctl, &user_peer, "status", reply), -1); /* uid 1000: nobody */
	assert_int_equal(fk.status_calls, 0);
	assert_int_equal(handle(ctl, &root_peer, "status", reply), 0);
	assert_int_equal(gw_ctl_parse(reply, strlen(reply), &m, err, sizeof(err)), 0);
	assert_string_equal(m.verb, "ok");
	assert_string_equal(gw_ctl_msg_get(&m, "proto"), "1");
	assert_string_equal(gw_ctl_msg_get(&m, "version"), "0.1.0");
	assert_string_equal(gw_ctl_msg_get(&m, "radio.ready"), "yes");
	assert_string_equal(gw_ctl_msg_get(&m, "radio.reg"), "home");
	assert_string_equal(gw_ctl_msg_get(&m, "radio.rssi_dbm"), "-71");
	assert_string_equal(gw_ctl_msg_get(&m, "radio.identity"), "10\"01");
	assert_string_equal(gw_ctl_msg_get(&m, "modem.call"), "alerting");
	assert_string_equal(gw_ctl_msg_get(&m, "io.present"), "no");
	assert_null(gw_ctl_msg_get(&m, "io.up"));
	assert_string_equal(gw_ctl_msg_get(&m, "call.state"), "PAGING");
	assert_string_equal(gw_ctl_msg_get(&m, "call.id"), "17");
	assert_string_equal(gw_ctl_msg_get(&m, "counters.pages"), "5");
	assert_string_equal(gw_ctl_msg_get(&m, "roster.county_version"), "12");
	assert_string_equal(gw_ctl_msg_get(&m, "roster.made_ms"), "1767139200000");
	/* this request and the denied one are counted */
	assert_string_equal(gw_ctl_msg_get(&m, "ctl.requests"), "2");
	assert_string_equal(gw_ctl_msg_get(&m, "ctl.denied"), "1");

	assert_int_equal(handle(ctl, &root_peer, "status format=json", reply), 0);
	assert_true(strncmp(reply, "{\"proto\":1,\"version\":\"0.1.0\",\"uptime_s\":42,", 43) == 0);
	assert_non_null(strstr(reply, "\"radio\":{\"port_up\":true,\"ready\":true,\"reg\":"
				      "\"home\",\"rssi_dbm\":-71,\"live_calls\":0,\"identity\":"
				      "\"10\\\"01\"},\"modem\":{"));
	assert_non_null(strstr(reply, "\"io\":{\"present\":false},"));
	assert_non_null(strstr(reply, "\"call\":{\"live\":true,\"id\":17,\"state\":\"PAGING\"}"));
	assert_int_equal(reply[strlen(reply) - 1], '}');
	assert_null(strchr(reply, '\n'));
	int depth = 0;
	for (const char *p = reply; *p; p++) {
		depth += *p == '{';
		depth -= *p == '}';
		assert_true(depth >= 0);
	}
	assert_int_equal(depth, 0);

	assert_int_equal(handle(ctl, &root_peer, "status format=xml", reply), -1);
	assert_string_equal(reply, "err usage format is kv or json");
	assert_int_equal(handle(ctl, &root_peer, "status verbose=1", reply), -1);
	assert_string_equal(reply, "err usage status takes no key 'verbose'");
	gw_ctl_free(ctl);
}

static void test_status_with_board_and_overflow(void **state)
{
	(void)state;
	struct gw_ctl_status st;
	char buf[RINKI_CTL_REPLY_MAX], err[160];
	struct gw_ctl_msg m;
	memset(&st, 0, sizeof(st));
	fake_status(NULL, &st);
	st.io_present = true;
	st.io.up = true;
	st.io.fw_major = 1;
	st.io.fw_minor = 2;
	st.io.fw_patch = 3;
	st.io.polls = 99;
	int n = gw_ctl_format_status(&st, false, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n == strlen(buf));
	assert_int_equal(gw_ctl_parse(buf, (size_t)n, &m, err, sizeof(err)), 0);
	assert_string_equal(gw_ctl_msg_get(&m, "io.fw"), "1.2.3");
	assert_string_equal(gw_ctl_msg_get(&m, "io.polls"), "99");
	assert_string_equal(gw_ctl_msg_get(&m, "io.last_error"), "");
	/* no call-back live: none, whatever the struct still holds */
	assert_string_equal(gw_ctl_msg_get(&m, "callback.live"), "no");
	assert_string_equal(gw_ctl_msg_get(&m, "callback.state"), "none");
	assert_string_equal(gw_ctl_msg_get(&m, "callback.id"), "0");
	assert_string_equal(gw_ctl_msg_get(&m, "callback.worker"), "");
	/* a live one: its incident, state and worker, encoded in both forms */
	st.callback.live = true;
	st.callback.id = 23;
	st.callback.state = GW_CB_ST_DIALING;
	snprintf(st.callback.worker, sizeof(st.callback.worker), "Aino \"A\" Virtanen");
	n = gw_ctl_format_status(&st, false, buf, sizeof(buf));
	assert_int_equal(gw_ctl_parse(buf, (size_t)n, &m, err, sizeof(err)), 0);
	assert_string_equal(gw_ctl_msg_get(&m, "callback.live"), "yes");
	assert_string_equal(gw_ctl_msg_get(&m, "callback.id"), "23");
	assert_string_equal(gw_ctl_msg_get(&m, "callback.state"), "DIALING");
	assert_string_equal(gw_ctl_msg_get(&m, "callback.worker"), "Aino \"A\" Virtanen");
	assert_true(gw_ctl_format_status(&st, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"callback\":{\"live\":true,\"id\":23,\"state\":\"DIALING\","
				    "\"worker\":\"Aino \\\"A\\\" Virtanen\"}"));
	/* the biggest status (board present, long identity and worker name) fits a reply with
	   room to spare */
	memset(st.radio.identity, '9', sizeof(st.radio.identity) - 1);
	memset(st.callback.worker, 'x', sizeof(st.callback.worker) - 1);
	assert_true(gw_ctl_format_status(&st, true, buf, sizeof(buf)) < RINKI_CTL_REPLY_MAX / 2);
	assert_true(m.nargs < RINKI_CTL_ARGS_MAX);
	assert_int_equal(gw_ctl_format_status(&st, true, buf, 100), -ENOSPC);
	assert_int_equal(gw_ctl_format_status(&st, false, buf, 100), -ENOSPC);
}

/* Health: healthy with both devices ready, degraded with one of them (or the board, or the
   database) missing, down with neither; the status reply carries it and the reasons. */
static void test_status_health(void **state)
{
	(void)state;
	struct gw_ctl_status st;
	char why[160], buf[RINKI_CTL_REPLY_MAX], err[160];
	struct gw_ctl_msg m;
	memset(&st, 0, sizeof(st));
	fake_status(NULL, &st);
	st.modem.port_up = 1;
	assert_int_equal(gw_ctl_health(&st, why, sizeof(why)), GW_CTL_HEALTHY);
	assert_string_equal(why, "");
	int n = gw_ctl_format_status(&st, false, buf, sizeof(buf));
	assert_int_equal(gw_ctl_parse(buf, (size_t)n, &m, err, sizeof(err)), 0);
	assert_string_equal(gw_ctl_msg_get(&m, "health"), "healthy");
	assert_string_equal(gw_ctl_msg_get(&m, "problems"), "");

	st.modem.ready = 0;
	assert_int_equal(gw_ctl_health(&st, why, sizeof(why)), GW_CTL_DEGRADED);
	assert_string_equal(why, "modem not ready");
	st.modem.port_up = 0;
	st.io_present = true; /* a board that does not answer */
	st.db.spooling = true;
	assert_int_equal(gw_ctl_health(&st, why, sizeof(why)), GW_CTL_DEGRADED);
	assert_string_equal(why, "modem port closed, I/O board down, database away (call log "
				 "spooled)");
	st.modem.port_up = st.modem.ready = 1;
	st.db.spooling = false;
	assert_int_equal(gw_ctl_health(&st, why, sizeof(why)), GW_CTL_DEGRADED);
	assert_string_equal(why, "I/O board down");
	st.io.up = true;
	st.radio.ready = 0;
	assert_int_equal(gw_ctl_health(&st, why, sizeof(why)), GW_CTL_DEGRADED);
	assert_string_equal(why, "radio not ready");

	st.radio.port_up = 0;
	st.modem.port_up = 0;
	assert_int_equal(gw_ctl_health(&st, why, sizeof(why)), GW_CTL_DOWN);
	assert_string_equal(why, "radio port closed, modem port closed");
	assert_true(gw_ctl_format_status(&st, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, ",\"health\":\"down\",\"problems\":\"radio port closed, "
				    "modem port closed\",\"radio\":{"));
	/* a short buffer cuts the reasons, never overruns */
	assert_int_equal(gw_ctl_health(&st, why, 12), GW_CTL_DOWN);
	assert_string_equal(why, "radio port ");
	assert_string_equal(gw_ctl_health_name(GW_CTL_DEGRADED), "degraded");
}

static void test_admin_requests(void **state)
{
	(void)state;
	struct gw_ctl *ctl = new_ctl();
	char reply[RINKI_CTL_REPLY_MAX];

	assert_int_equal(handle(ctl, &root_peer, "page-test number=+358401234567", reply), 0);
	assert_string_equal(reply, "ok number=+358401234567");
	assert_string_equal(fk.number, "+358401234567");
	fk.page_rc = -EBUSY;
	assert_int_equal(handle(ctl, &root_peer, "page-test number=112", reply), -1);
	assert_string_equal(reply, "err busy a call is in progress");
	fk.page_rc = -ENOTCONN;
	assert_int_equal(handle(ctl, &root_peer, "page-test number=112", reply), -1);
	assert_string_equal(reply, "err unavailable the modem is not ready");
	fk.page_rc = -EIO;
	assert_int_equal(handle(ctl, &root_peer, "page-test number=112", reply), -1);
	assert_string_equal(reply, "err failed page-test: Input/output error");
	assert_int_equal(fk.page_calls, 4);
	/* rejected before the gateway sees them */
	const char *bad[] = {"page-test",
			     "page-test number=12",
			     "page-test number=+",
			     "page-test number=0401234567x",
			     "page-test number=++3584012",
			     "page-test number=123456789012345678901",
			     "page-test to=112"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(handle(ctl, &root_peer, bad[i], reply), -1);
		assert_true(strncmp(reply, "err usage ", 10) == 0);
	}
	assert_int_equal(fk.page_calls, 4);

	assert_int_equal(handle(ctl, &root_peer, "sds-send issi=2269001 text=Soita%20heti", reply),
			 0);
	assert_string_equal(reply, "ok handle=7");
	assert_string_equal(fk.issi, "2269001");
	assert_string_equal(fk.text, "Soita heti");
	fk.sds_rc = -EMSGSIZE;
	assert_int_equal(handle(ctl, &root_peer, "sds-send issi=1 text=x", reply), -1);
	assert_string_equal(reply, "err toolong the text does not fit one SDS");
	fk.sds_rc = 0; /* not a handle */
	assert_int_equal(handle(ctl, &root_peer, "sds-send issi=1 text=x", reply), -1);
	assert_true(strncmp(reply, "err failed", 10) == 0);
	const char *bad_sds[] = {"sds-send issi=1", "sds-send text=x",
				 "sds-send issi=1 text=", "sds-send issi=123456789012345678 text=x",
				 "sds-send issi=12a text=x"};
	for (size_t i = 0; i < sizeof(bad_sds) / sizeof(bad_sds[0]); i++) {
		assert_int_equal(handle(ctl, &root_peer, bad_sds[i], reply), -1);
		assert_true(strncmp(reply, "err usage ", 10) == 0);
	}
	assert_int_equal(fk.sds_calls, 3);

	/* a peer without admin access may not page or send */
	assert_int_equal(handle(ctl, &user_peer, "page-test number=112", reply), -1);
	assert_true(strncmp(reply, "err denied ", 11) == 0);
	assert_int_equal(handle(ctl, &user_peer, "sds-send issi=1 text=x", reply), -1);
	assert_true(strncmp(reply, "err denied ", 11) == 0);
	assert_int_equal(fk.page_calls, 4);
	assert_int_equal(fk.sds_calls, 3);
	gw_ctl_free(ctl);
}

static void test_bad_requests(void **state)
{
	(void)state;
	struct gw_ctl *ctl = new_ctl();
	char reply[RINKI_CTL_REPLY_MAX], line[RINKI_CTL_REQ_MAX + 1];

	assert_int_equal(handle(ctl, &root_peer, "reboot", reply), -1);
	assert_string_equal(reply, "err usage unknown request 'reboot'");
	assert_int_equal(handle(ctl, &root_peer, "status format=%ZZ", reply), -1);
	assert_true(strncmp(reply, "err usage bad %-escape", 22) == 0);
	assert_int_equal(gw_ctl_handle(ctl, &root_peer, "status\0x", 8, reply, sizeof(reply)), -1);
	assert_string_equal(reply, "err usage NUL byte in request");
	memset(line, 'a', sizeof(line));
	assert_int_equal(
	    gw_ctl_handle(ctl, &root_peer, line, RINKI_CTL_REQ_MAX, reply, sizeof(reply)), -1);
	assert_true(strncmp(reply, "err toolong ", 12) == 0);
	/* one byte shorter is parsed (and is an unknown verb that long) */
	assert_int_equal(
	    gw_ctl_handle(ctl, &root_peer, line, RINKI_CTL_REQ_MAX - 1, reply, sizeof(reply)), -1);
	assert_true(strncmp(reply, "err usage request name longer", 29) == 0);
	/* a small reply buffer is never overrun */
	char tiny[12];
	assert_int_equal(gw_ctl_handle(ctl, &root_peer, "reboot", 6, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "err usage u");
	assert_int_equal(fk.status_calls + fk.page_calls + fk.sds_calls, 0);
	gw_ctl_free(ctl);
}

static void test_access_by_group(void **state)
{
	(void)state;
	char dir[] = "/tmp/rinki-ctl-XXXXXX", path[64];
	struct gw_loop *l = gw_loop_new();
	struct gw_ctl *ctl = new_ctl();
	char grp[16], adm[16];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(grp, sizeof(grp), "%d", READ_GROUP);
	snprintf(adm, sizeof(adm), "%d", ADMIN_GROUP);
	struct gw_ctl_conf cc = {.path = path, .group = grp, .admin_group = adm};
	assert_int_equal(gw_ctl_listen(ctl, l, &cc), 0);

	struct gw_ctl_peer p = {.pid = 9, .uid = 1000, .gid = 1000, .ngroups = 0};
	assert_int_equal(gw_ctl_access(ctl, &p), GW_CTL_ACCESS_NONE);
	p.gid = READ_GROUP;
	assert_int_equal(gw_ctl_access(ctl, &p), GW_CTL_ACCESS_READ);
	p.gid = 1000;
	p.ngroups = 2;
	p.groups[0] = OTHER_GROUP;
	p.groups[1] = READ_GROUP;
	assert_int_equal(gw_ctl_access(ctl, &p), GW_CTL_ACCESS_READ);
	p.groups[0] = ADMIN_GROUP;
	assert_int_equal(gw_ctl_access(ctl, &p), GW_CTL_ACCESS_ADMIN);
	p.ngroups = -1; /* groups unknown: only the primary gid counts */
	assert_int_equal(gw_ctl_access(ctl, &p), GW_CTL_ACCESS_NONE);
	p.uid = 0;
	assert_int_equal(gw_ctl_access(ctl, &p), GW_CTL_ACCESS_ADMIN);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, READ_GROUP);
	gw_ctl_free(ctl);
	assert_int_equal(stat(path, &st), -1); /* removed */
	gw_loop_free(l);
	rmdir(dir);

	/* an unknown group name is an error before any socket exists */
	ctl = new_ctl();
	l = gw_loop_new();
	cc.group = "no-such-group-rinki";
	assert_int_equal(gw_ctl_listen(ctl, l, &cc), -ENOENT);
	gw_ctl_free(ctl);
	gw_loop_free(l);
}

/* ---- the socket ---------------------------------------------------------------------------- */

struct rig {
	char dir[32], path[64];
	struct gw_loop *loop;
	struct gw_ctl *ctl;
};

static void rig_up(struct rig *r, const char *group, const char *admin)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/rinki-ctl-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	assert_int_equal(chmod(r->dir, 0755), 0); /* children as uid 65534 must reach it */
	snprintf(r->path, sizeof(r->path), "%s/rinki.sock", r->dir);
	r->loop = gw_loop_new();
	r->ctl = new_ctl();
	struct gw_ctl_conf cc = {.path = r->path, .group = group, .admin_group = admin};
	assert_int_equal(gw_ctl_listen(r->ctl, r->loop, &cc), 0);
}

static void rig_down(struct rig *r)
{
	gw_ctl_free(r->ctl);
	gw_loop_free(r->loop);
	unlink(r->path);
	assert_int_equal(rmdir(r->dir), 0);
}

static int dial(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Run the loop until fd has a whole line (copied to buf, no LF) or EOF. Returns its length,
   -1 on EOF, -2 on timeout. */
static int read_line(struct gw_loop *l, int fd, char *buf, size_t len)
{
	size_t n = 0;
	for (int i = 0; i < 400; i++) {
		gw_loop_run_once(l, 5);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		while (poll(&p, 1, 0) == 1) {
			ssize_t k = read(fd, buf + n, 1);
			if (k <= 0)
				return -1;
			if (buf[n] == '\n') {
				buf[n] = '\0';
				return (int)n;
			}
			if (n < len - 1)
				n++;
		}
	}
	return -2;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_socket_requests(void **state)
{
	(void)state;
	struct rig r;
	char line[RINKI_CTL_REPLY_MAX + 8];
	rig_up(&r, NULL, NULL);

	int fd = dial(r.path);
	assert_true(fd >= 0);
	/* two requests in one write, then one split over writes; replies in order */
	send_str(fd, "page-test number=112\nsds-send issi=99 text=a\n");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "ok number=112");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "ok handle=7");
	send_str(fd, "stat");
	gw_loop_run_once(r.loop, 5);
	send_str(fd, "us format=json\r\n");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_true(line[0] == '{');
	assert_int_equal(gw_ctl_clients(r.ctl), 1);
	/* the last request may lack its LF when the client shuts its side */
	send_str(fd, "reboot");
	shutdown(fd, SHUT_WR);
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "err usage unknown request 'reboot'");
	assert_int_equal(read_line(r.loop, fd, line, sizeof(line)), -1);
	close(fd);
	assert_int_equal(gw_ctl_clients(r.ctl), 0);

	/* an oversize line: one error, then the server closes */
	fd = dial(r.path);
	char big[RINKI_CTL_REQ_MAX + 100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	send_str(fd, big);
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "err toolong request longer than 1023 bytes");
	assert_int_equal(read_line(r.loop, fd, line, sizeof(line)), -1);
	close(fd);
	rig_down(&r);
}

static void test_socket_slow_reader_dropped(void **state)
{
	(void)state;
	struct rig r;
	char line[RINKI_CTL_REPLY_MAX + 8];
	rig_up(&r, NULL, NULL);
	int slow = dial(r.path);
	int sz = 4096;
	assert_int_equal(setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
	/* 2000 status requests, never reading a reply */
	static char reqs[2000 * 7 + 1];
	for (int i = 0; i < 2000; i++)
		memcpy(reqs + i * 7, "status\n", 7);
	int fl = fcntl(slow, F_GETFL);
	fcntl(slow, F_SETFL, fl | O_NONBLOCK);
	size_t off = 0, total = 2000 * 7;
	for (int i = 0; i < 2000; i++) {
		if (off < total) {
			ssize_t k = write(slow, reqs + off, total - off);
			if (k > 0)
				off += (size_t)k;
		}
		gw_loop_run_once(r.loop, 1);
		if (i > 10 && gw_ctl_clients(r.ctl) == 0)
			break;
	}
	assert_int_equal(gw_ctl_clients(r.ctl), 0);
	/* what it gets when it reads at last: some replies, then EOF, well short of 2000 */
	int replies = 0;
	fcntl(slow, F_SETFL, fl);
	for (;;) {
		int n = read_line(r.loop, slow, line, sizeof(line));
		if (n < 0) {
			assert_int_equal(n, -1);
			break;
		}
		replies++;
	}
	assert_true(replies > 0 && replies < 2000);
	close(slow);
	/* rinkid still serves, and counted the drop */
	int fd = dial(r.path);
	send_str(fd, "status\n");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	size_t ln = strlen(line);
	assert_true(ln > 14 && strcmp(line + ln - 14, " ctl.dropped=1") == 0);
	close(fd);
	rig_down(&r);
}

static void test_socket_idle_and_limit(void **state)
{
	(void)state;
	struct rig r;
	char line[RINKI_CTL_REPLY_MAX + 8];
	int fds[GW_CTL_CLIENTS_MAX + 1];
	rig_up(&r, NULL, NULL);
	gw_loop_clock_override(r.loop, 1000, 1000000);
	for (int i = 0; i < GW_CTL_CLIENTS_MAX; i++) {
		fds[i] = dial(r.path);
		assert_true(fds[i] >= 0);
		gw_loop_run_once(r.loop, 5);
	}
	assert_int_equal(gw_ctl_clients(r.ctl), GW_CTL_CLIENTS_MAX);
	int extra = dial(r.path);
	assert_true(read_line(r.loop, extra, line, sizeof(line)) > 0);
	assert_string_equal(line, "err busy too many connections");
	assert_int_equal(read_line(r.loop, extra, line, sizeof(line)), -1);
	close(extra);
	/* one stays busy; the others go idle and are closed after RINKI_CTL_IDLE_MS */
	gw_loop_clock_advance(r.loop, RINKI_CTL_IDLE_MS - 100);
	send_str(fds[0], "status\n");
	assert_true(read_line(r.loop, fds[0], line, sizeof(line)) > 0);
	gw_loop_clock_advance(r.loop, 200);
	assert_int_equal(gw_ctl_clients(r.ctl), 1);
	for (int i = 1; i < GW_CTL_CLIENTS_MAX; i++) {
		assert_int_equal(read_line(r.loop, fds[i], line, sizeof(line)), -1);
		close(fds[i]);
	}
	gw_loop_clock_advance(r.loop, RINKI_CTL_IDLE_MS);
	assert_int_equal(gw_ctl_clients(r.ctl), 0);
	close(fds[0]);
	rig_down(&r);
}

static void test_socket_file_cases(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL, NULL);
	/* a second instance on a live socket refuses */
	struct gw_ctl *two = new_ctl();
	struct gw_ctl_conf cc = {.path = r.path};
	assert_int_equal(gw_ctl_listen(two, r.loop, &cc), -EADDRINUSE);
	gw_ctl_free(two);
	struct stat st;
	assert_int_equal(stat(r.path, &st), 0); /* and left the live one alone */

	/* a stale socket (nobody listening) is replaced */
	char stale[80];
	snprintf(stale, sizeof(stale), "%s/stale.sock", r.dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	two = new_ctl();
	cc.path = stale;
	assert_int_equal(gw_ctl_listen(two, r.loop, &cc), 0);
	gw_ctl_free(two);

	/* a regular file there is not ours to delete */
	char file[80];
	snprintf(file, sizeof(file), "%s/file", r.dir);
	int f = open(file, O_CREAT | O_WRONLY, 0600);
	close(f);
	two = new_ctl();
	cc.path = file;
	assert_int_equal(gw_ctl_listen(two, r.loop, &cc), -EEXIST);
	gw_ctl_free(two);
	assert_int_equal(unlink(file), 0);

	char longp[200];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	two = new_ctl();
	cc.path = longp;
	assert_int_equal(gw_ctl_listen(two, r.loop, &cc), -ENAMETOOLONG);
	gw_ctl_free(two);
	rig_down(&r);
}

/*
 * A child drops to uid/gid 65534 with the given supplementary groups, sends req and exits 0
 * when the reply starts with want. The parent serves the socket meanwhile.
 */
static int child_says(struct rig *r, const gid_t *groups, int ngroups, const char *req,
		      const char *want)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[RINKI_CTL_REPLY_MAX];
		if (setgroups((size_t)ngroups, groups) < 0 || setgid(NOBODY) < 0 ||
		    setuid(NOBODY) < 0)
			_exit(10);
		int fd = dial(r->path);
		if (fd < 0) {
			perror("child connect");
			_exit(11);
		}
		/* a refused peer may find the socket closed already: the refusal is still
		 * there to read */
		if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE)
			_exit(12);
		size_t n = 0;
		while (n < sizeof(buf) - 1 && read(fd, buf + n, 1) == 1 && buf[n] != '\n')
			n++;
		buf[n] = '\0';
		_exit(strncmp(buf, want, strlen(want)) == 0 ? 0 : 13);
	}
	int st = 0;
	for (int i = 0; i < 2000; i++) {
		gw_loop_run_once(r->loop, 5);
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 101;
}

static void test_peer_credentials(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		/* children with other credentials need root */
		fail_msg("peer credentials need root to be tested (make test runs as root)");
	}
	struct rig r;
	char grp[16], adm[16];
	/* the socket belongs to the nobody group, so those children can connect */
	snprintf(grp, sizeof(grp), "%d", NOBODY);
	snprintf(adm, sizeof(adm), "%d", ADMIN_GROUP);
	rig_up(&r, grp, adm);
	gid_t none[1] = {OTHER_GROUP}, admin[2] = {OTHER_GROUP, ADMIN_GROUP};
	assert_int_equal(child_says(&r, none, 1, "status\n", "ok proto=1 "), 0);
	assert_int_equal(child_says(&r, none, 1, "page-test number=112\n", "err denied "), 0);
	assert_int_equal(fk.page_calls, 0);
	assert_int_equal(child_says(&r, admin, 2, "page-test number=112\n", "ok number=112"), 0);
	assert_int_equal(fk.page_calls, 1);
	rig_down(&r);

	/* socket group READ_GROUP: a nobody without it is refused at the door by SO_PEERCRED
	 * (the file mode would stop it too: open the mode to test the credential check) */
	snprintf(grp, sizeof(grp), "%d", READ_GROUP);
	rig_up(&r, grp, adm);
	assert_int_equal(chmod(r.path, 0666), 0);
	assert_int_equal(child_says(&r, none, 1, "status\n", "err denied needs uid 0"), 0);
	gid_t reader[1] = {READ_GROUP};
	assert_int_equal(child_says(&r, reader, 1, "status\n", "ok proto=1 "), 0);
	assert_int_equal(fk.status_calls, 1);
	rig_down(&r);
}

int main(void)
{
	gw_log_init("test_ctl", false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_encode_round_trip),
	    cmocka_unit_test(test_status_formats),
	    cmocka_unit_test(test_status_with_board_and_overflow),
	    cmocka_unit_test(test_status_health),
	    cmocka_unit_test(test_admin_requests),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_access_by_group),
	    cmocka_unit_test(test_socket_requests),
	    cmocka_unit_test(test_socket_slow_reader_dropped),
	    cmocka_unit_test(test_socket_idle_and_limit),
	    cmocka_unit_test(test_socket_file_cases),
	    cmocka_unit_test(test_peer_credentials),
	};
	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
