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
#include <pwd.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl/ctl.h"
#include "ctl/ctl_client.h"
#include "core/event.h"
#include "core/log.h"
#include "core/loop.h"
#include "store/roster.h"

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
	int audits;
	char audit_kind[32], audit_detail[256];
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

static void fake_audit(void *arg, const char *kind, const char *detail)
{
	(void)arg;
	fk.audits++;
	snprintf(fk.audit_kind, sizeof(fk.audit_kind), "%s", kind);
	snprintf(fk.audit_detail, sizeof(fk.audit_detail), "%s", detail);
}

static struct chg {
	int calls, rc, active, fd;
	bool pin_reset, apply, replace;
	int64_t id;
	uint64_t ticket;
	struct gw_db_override o;
	char kind[16], worker[64], line[64], byw[64], who[160], reason[256], pin[16];
	char phone[32], lang[8];
} ch;

static int fake_override_add(void *arg, const struct gw_db_override *o, const char *reason,
			     const char *who, int64_t *id)
{
	(void)arg;
	ch.calls++;
	ch.o = *o;
	snprintf(ch.kind, sizeof(ch.kind), "%s", o->kind);
	snprintf(ch.worker, sizeof(ch.worker), "%s", o->worker);
	snprintf(ch.line, sizeof(ch.line), "%s", o->line ? o->line : "");
	snprintf(ch.byw, sizeof(ch.byw), "%s", o->by ? o->by : "");
	snprintf(ch.reason, sizeof(ch.reason), "%s", reason ? reason : "");
	snprintf(ch.who, sizeof(ch.who), "%s", who);
	*id = 5;
	return ch.rc;
}

static int fake_override_del(void *arg, int64_t id, const char *who)
{
	(void)arg;
	ch.calls++;
	ch.id = id;
	snprintf(ch.who, sizeof(ch.who), "%s", who);
	return ch.rc;
}

static int fake_worker_set(void *arg, const char *worker, int active, bool pin_reset,
			   const char *pin, const char *phone, const char *lang, const char *who)
{
	snprintf(ch.pin, sizeof(ch.pin), "%s", pin ? pin : "");
	snprintf(ch.phone, sizeof(ch.phone), "%s", phone ? phone : "");
	snprintf(ch.lang, sizeof(ch.lang), "%s", lang ? lang : "");
	(void)arg;
	ch.calls++;
	ch.active = active;
	ch.pin_reset = pin_reset;
	snprintf(ch.worker, sizeof(ch.worker), "%s", worker);
	snprintf(ch.who, sizeof(ch.who), "%s", who);
	return ch.rc;
}

static int fake_roster_import(void *arg, int fd, bool apply, bool replace, const char *who,
			      uint64_t ticket)
{
	(void)arg;
	ch.calls++;
	if (ch.fd >= 0)
		close(ch.fd);
	ch.fd = fd;
	ch.apply = apply;
	ch.replace = replace;
	ch.ticket = ticket;
	snprintf(ch.who, sizeof(ch.who), "%s", who);
	return ch.rc;
}

static struct gw_db_worker added; /* the last worker-add, its strings in addbuf */
static char addbuf[6][64];

static int fake_worker_add(void *arg, const struct gw_db_worker *w, const char *who)
{
	(void)arg;
	ch.calls++;
	added = *w;
	const char *src[6] = {w->handle, w->name, w->phone, w->issi, w->lang, who};
	for (int i = 0; i < 6; i++)
		snprintf(addbuf[i], sizeof(addbuf[i]), "%s", src[i] ? src[i] : "(null)");
	snprintf(ch.who, sizeof(ch.who), "%s", who);
	return ch.rc;
}

static int fake_directory_import(void *arg, int fd, const char *who, uint64_t ticket)
{
	(void)arg;
	ch.calls++;
	if (ch.fd >= 0)
		close(ch.fd);
	ch.fd = fd;
	ch.ticket = ticket;
	snprintf(ch.who, sizeof(ch.who), "%s", who);
	return ch.rc;
}

static const struct gw_ctl_ops fake_ops = {.status = fake_status,
					   .page_test = fake_page,
					   .sds_send = fake_sds,
					   .audit = fake_audit,
					   .override_add = fake_override_add,
					   .override_del = fake_override_del,
					   .worker_set = fake_worker_set,
					   .roster_import = fake_roster_import,
					   .worker_add = fake_worker_add,
					   .directory_import = fake_directory_import};

static const struct gw_ctl_peer root_peer = {.pid = 1, .uid = 0, .gid = 0};
static const struct gw_ctl_peer user_peer = {.pid = 2, .uid = 1000, .gid = 1000};

static struct gw_ctl *new_ctl(void)
{
	struct gw_ctl *ctl;
	memset(&fk, 0, sizeof(fk));
	if (ch.fd > 0)
		close(ch.fd);
	memset(&ch, 0, sizeof(ch));
	ch.fd = -1;
	fk.sds_rc = 7;
	snprintf(fk.identity, sizeof(fk.identity), "1001");
	assert_int_equal(gw_ctl_new(&fake_ops, &ctl), 0);
	return ctl;
}

/* The passwd look-ups ctl makes (linked with --wrap=getpwuid_r): a slow NSS backend would
   hold up the loop for each, so they are counted, and may be made slow: with pw_block_fd
   set, a look-up waits (at most 20 s) for a byte on it, with pw_in_lookup set meanwhile. */
static atomic_int pw_lookups, pw_in_lookup;
static int pw_block_fd = -1;
int __real_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res);
int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res);
int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	atomic_fetch_add(&pw_lookups, 1);
	if (pw_block_fd >= 0) {
		struct pollfd p = {.fd = pw_block_fd, .events = POLLIN};
		atomic_store(&pw_in_lookup, 1);
		(void)poll(&p, 1, 20000);
		atomic_store(&pw_in_lookup, 0);
	}
	return __real_getpwuid_r(uid, pw, buf, len, res);
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

/* Every page-test and sds-send that reaches the gateway is audited, naming the peer and
   the outcome; requests refused before (usage, denied) are not. */
static void test_admin_requests_audited(void **state)
{
	(void)state;
	struct gw_ctl *ctl = new_ctl();
	char reply[RINKI_CTL_REPLY_MAX];
	const struct gw_ctl_peer admin = {.pid = 77, .uid = 0, .gid = 0};

	assert_int_equal(handle(ctl, &admin, "page-test number=+358401234567", reply), 0);
	assert_int_equal(fk.audits, 1);
	assert_string_equal(fk.audit_kind, "ctl_page_test");
	assert_string_equal(fk.audit_detail,
			    "page-test number=+358401234567 by root (uid 0, pid 77): ok");
	fk.page_rc = -EBUSY;
	assert_int_equal(handle(ctl, &admin, "page-test number=112", reply), -1);
	assert_int_equal(fk.audits, 2);
	assert_string_equal(
	    fk.audit_detail,
	    "page-test number=112 by root (uid 0, pid 77): Device or resource busy");
	assert_int_equal(handle(ctl, &admin, "sds-send issi=2269001 text=Soita%20heti", reply), 0);
	assert_int_equal(fk.audits, 3);
	assert_string_equal(fk.audit_kind, "ctl_sds_send");
	assert_string_equal(fk.audit_detail,
			    "sds-send issi=2269001 (10 bytes) by root (uid 0, pid 77): handle 7");
	/* refused before the gateway: nothing happened, nothing audited */
	assert_int_equal(handle(ctl, &admin, "page-test number=12", reply), -1);
	assert_int_equal(handle(ctl, &user_peer, "sds-send issi=1 text=x", reply), -1);
	assert_int_equal(fk.audits, 3);
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
	char reply[RINKI_CTL_REPLY_MAX];
	assert_int_equal(handle(ctl, &p, "events-sync", reply), 0); /* read access is enough */
	assert_string_equal(reply, "ok");
	assert_int_equal(handle(ctl, &p, "page-test number=112", reply), -1);
	assert_non_null(strstr(reply, "err denied"));
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

	/* the built-in defaults missing: the socket comes up without them (root and rinkid's
	   own user only), an admin-group peer gets nothing */
	ctl = new_ctl();
	assert_non_null(mkdtemp(strcpy(dir, "/tmp/rinki-ctl-XXXXXX")));
	snprintf(path, sizeof(path), "%s/s", dir);
	struct gw_ctl_conf dc = {.path = path,
				 .group = "no-such-group-rinki",
				 .admin_group = "no-such-admin-rinki",
				 .group_optional = true,
				 .admin_optional = true};
	assert_int_equal(gw_ctl_listen(ctl, l, &dc), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_gid, getegid());
	struct gw_ctl_peer q = {.pid = 9, .uid = 1000, .gid = 1000, .ngroups = 0};
	assert_int_equal(gw_ctl_access(ctl, &q), GW_CTL_ACCESS_NONE);
	q.uid = 0;
	assert_int_equal(gw_ctl_access(ctl, &q), GW_CTL_ACCESS_ADMIN);
	gw_ctl_free(ctl);
	/* optional only covers a missing group: an existing one is used */
	ctl = new_ctl();
	char grp2[16];
	snprintf(grp2, sizeof(grp2), "%d", READ_GROUP);
	dc.group = grp2;
	assert_int_equal(gw_ctl_listen(ctl, l, &dc), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_gid, READ_GROUP);
	gw_ctl_free(ctl);
	rmdir(dir);
	gw_loop_free(l);
}

/* ---- changes ----------------------------------------------------------------------------------
 */

/* The requester's user name is looked up once per uid, not on every request: each look-up
   may block the loop on a slow NSS backend (LDAP, sssd). */
static void test_user_name_looked_up_once(void **state)
{
	(void)state;
	struct gw_ctl *ctl = new_ctl();
	char reply[RINKI_CTL_REPLY_MAX];
	atomic_store(&pw_lookups, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(handle(ctl, &root_peer, "override-del id=12 by=ann", reply), 0);
		assert_string_equal(ch.who, "ann via root");
	}
	assert_int_equal(atomic_load(&pw_lookups), 1);
	gw_ctl_free(ctl);
}

static void test_change_requests(void **state)
{
	(void)state;
	struct gw_ctl *ctl = new_ctl();
	char reply[RINKI_CTL_REPLY_MAX];
	const char *add = "override-add worker=pia by_worker=aino line=sos from=2026-01-01 "
			  "to=2026-01-01 reason=sick%20leave by=ann";

	/* a peer without admin access changes nothing */
	assert_int_equal(handle(ctl, &user_peer, add, reply), -1);
	assert_string_equal(reply,
			    "err denied override-add needs uid 0 or membership of ctl.admin_group");
	assert_int_equal(handle(ctl, &user_peer, "worker-set worker=pia disabled=1", reply), -1);
	assert_int_equal(ch.calls, 0);

	assert_int_equal(handle(ctl, &root_peer, add, reply), 0);
	assert_string_equal(reply, "ok id=5");
	assert_string_equal(ch.kind, "replace");
	assert_string_equal(ch.worker, "pia");
	assert_string_equal(ch.byw, "aino");
	assert_string_equal(ch.line, "sos");
	assert_string_equal(ch.reason, "sick leave");
	assert_string_equal(ch.who, "ann via root");
	/* a date is its local midnight; as "to" the next one */
	assert_int_equal(ch.o.start_ms, gw_roster_local_to_utc(2026, 1, 1, 0));
	assert_int_equal(ch.o.end_ms, gw_roster_local_to_utc(2026, 1, 2, 0));

	ch.calls = 0;
	assert_int_equal(handle(ctl, &root_peer, "override-add worker=pia from=2026-01-01", reply),
			 -1);
	assert_string_equal(reply, "err usage override-add needs worker=, from= and to=");
	assert_int_equal(
	    handle(ctl, &root_peer,
		   "override-add worker=pia by_worker=aino from=2026-13-01 to=2026-01-02", reply),
	    -1);
	assert_string_equal(reply, "err usage from/to: a time with zone, or YYYY-MM-DD");
	/* the roster's own checks: replace needs whom it replaces */
	assert_int_equal(
	    handle(ctl, &root_peer, "override-add worker=pia from=2026-01-01 to=2026-01-02", reply),
	    -1);
	assert_non_null(strstr(reply, "err usage override-add: "));
	assert_int_equal(
	    handle(ctl, &root_peer, "override-add worker=pia from=1 to=2 extra=1", reply), -1);
	assert_int_equal(ch.calls, 0);

	/* without by= the peer's user name alone */
	assert_int_equal(handle(ctl, &root_peer, "override-del id=12", reply), 0);
	assert_string_equal(reply, "ok id=12");
	assert_int_equal(ch.id, 12);
	assert_string_equal(ch.who, "root");
	ch.rc = -ENOENT;
	assert_int_equal(handle(ctl, &root_peer, "override-del id=13", reply), -1);
	assert_string_equal(reply, "err usage no manual override 13");
	ch.rc = 0;
	assert_int_equal(handle(ctl, &root_peer, "override-del id=0", reply), -1);
	assert_int_equal(handle(ctl, &root_peer, "override-del id=x", reply), -1);

	ch.calls = 0;
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia disabled=1", reply), 0);
	assert_string_equal(reply, "ok worker=pia");
	assert_int_equal(ch.active, 0);
	assert_false(ch.pin_reset);
	assert_int_equal(
	    handle(ctl, &root_peer, "worker-set worker=pia pin_reset=1 disabled=0", reply), 0);
	assert_int_equal(ch.active, 1);
	assert_true(ch.pin_reset);
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia pin_reset=1", reply), 0);
	assert_int_equal(ch.active, -1);
	assert_int_equal(ch.calls, 3);
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia disabled=2", reply), -1);
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia pin_reset=0", reply), -1);
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia", reply), -1);
	assert_string_equal(
	    reply, "err usage worker-set needs disabled=, pin_reset=1, pin=, lang= or phone=");
	/* language and phone: checked, the phone in its E.164 form */
	assert_int_equal(
	    handle(ctl, &root_peer, "worker-set worker=pia lang=sv phone=0401234567", reply), 0);
	assert_string_equal(reply, "ok worker=pia");
	assert_string_equal(ch.phone, "+358401234567");
	assert_string_equal(ch.lang, "sv");
	assert_int_equal(ch.active, -1);
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia lang=en", reply), 0);
	assert_string_equal(ch.phone, "");
	assert_string_equal(ch.lang, "en");
	int calls = ch.calls;
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia lang=de", reply), -1);
	assert_string_equal(reply, "err usage lang is fi, sv or en");
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia lang=", reply), -1);
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia phone=12ab", reply), -1);
	assert_string_equal(reply,
			    "err usage phone is no phone number (+358..., 00358... or 040...)");
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia phone=", reply), -1);
	assert_int_equal(ch.calls, calls); /* none of those reached rinkid */
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia pin=2468", reply), 0);
	assert_string_equal(ch.pin, "2468");
	assert_string_equal(reply, "ok worker=pia"); /* the PIN is not echoed */
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia pin=246", reply), -1);
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia pin=24a8", reply), -1);
	assert_int_equal(
	    handle(ctl, &root_peer, "worker-set worker=pia pin=2468 pin_reset=1", reply), -1);
	assert_string_equal(reply, "err usage pin is 4 to 8 digits, and not with pin_reset");
	ch.rc = -ENOKEY;
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=pia pin=2468", reply), -1);
	assert_string_equal(reply, "err unavailable rinkid has no PIN pepper: no PIN can be set");
	ch.rc = 0;
	char by[128];
	snprintf(by, sizeof(by), "worker-set worker=pia disabled=1 by=%065d", 0);
	assert_int_equal(handle(ctl, &root_peer, by, reply), -1);
	assert_string_equal(reply, "err usage by is 1 to 64 bytes");
	ch.rc = -ENOENT;
	assert_int_equal(handle(ctl, &root_peer, "worker-set worker=nobody disabled=1", reply), -1);
	assert_string_equal(reply, "err usage no worker 'nobody'");
	assert_int_equal(ch.calls, 8); /* 6, and the two lang/phone changes */

	/* an import needs its descriptor */
	assert_int_equal(handle(ctl, &root_peer, "roster-import mode=apply", reply), -1);
	assert_string_equal(
	    reply, "err usage roster-import needs the roster as a descriptor (SCM_RIGHTS)");
	gw_ctl_free(ctl);
}

/* worker-add and directory-import: administrators only, checked like rinkictl checks them,
   with who asked ("<by> via <user>") for the chain. */
static void test_worker_add_and_directory_import(void **state)
{
	(void)state;
	struct gw_ctl *ctl = new_ctl();
	char reply[RINKI_CTL_REPLY_MAX];
	const char *add = "worker-add worker=eero name=Eero%20Salo phone=0401234569 "
			  "issi=2269111 lang=sv disabled=1 by=ann";

	/* a reader (rinki-status) or a stranger changes nothing */
	assert_int_equal(handle(ctl, &user_peer, add, reply), -1);
	assert_string_equal(reply,
			    "err denied worker-add needs uid 0 or membership of ctl.admin_group");
	int mfd = memfd_create("dir", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	uint64_t ticket = 0;
	int fd = mfd;
	const char *imp = "directory-import by=ann";
	assert_int_equal(
	    gw_ctl_handle_fd(ctl, &user_peer, imp, strlen(imp), &fd, &ticket, reply, sizeof(reply)),
	    -1);
	assert_string_equal(
	    reply, "err denied directory-import needs uid 0 or membership of ctl.admin_group");
	assert_int_equal(ch.calls, 0);

	/* an administrator's: checked, the phone in E.164, who asked */
	assert_int_equal(handle(ctl, &root_peer, add, reply), 0);
	assert_string_equal(reply, "ok worker=eero");
	assert_int_equal(ch.calls, 1);
	assert_string_equal(addbuf[0], "eero");
	assert_string_equal(addbuf[1], "Eero Salo");
	assert_string_equal(addbuf[2], "+358401234569");
	assert_string_equal(addbuf[3], "2269111");
	assert_string_equal(addbuf[4], "sv");
	assert_string_equal(ch.who, "ann via root");
	assert_false(added.active);
	assert_int_equal(
	    handle(ctl, &root_peer, "worker-add worker=pia name=Pia phone=+358401234568", reply),
	    0);
	assert_true(added.active);
	assert_string_equal(addbuf[3], "(null)");
	assert_string_equal(ch.who, "root");
	/* refused before the op: bad phone, handle, missing name, unknown key */
	ch.calls = 0;
	assert_int_equal(handle(ctl, &root_peer, "worker-add worker=x name=X phone=12", reply), -1);
	assert_non_null(strstr(reply, "err usage worker-add: "));
	assert_int_equal(
	    handle(ctl, &root_peer, "worker-add worker=a%20b name=X phone=0401234569", reply), -1);
	assert_int_equal(handle(ctl, &root_peer, "worker-add worker=x phone=0401234569", reply),
			 -1);
	assert_string_equal(reply, "err usage worker-add needs worker=, name= and phone=");
	assert_int_equal(
	    handle(ctl, &root_peer, "worker-add worker=x name=X phone=0401234569 pin=1234", reply),
	    -1);
	assert_int_equal(ch.calls, 0);
	ch.rc = -EEXIST;
	assert_int_equal(
	    handle(ctl, &root_peer, "worker-add worker=pia name=Pia phone=0401234568", reply), -1);
	assert_string_equal(reply, "err usage worker 'pia' exists already");
	ch.rc = 0;

	/* directory-import: needs its descriptor, answered later */
	assert_int_equal(handle(ctl, &root_peer, "directory-import", reply), -1);
	assert_string_equal(
	    reply, "err usage directory-import needs the directory as a descriptor (SCM_RIGHTS)");
	ch.calls = 0;
	assert_int_equal(
	    gw_ctl_handle_fd(ctl, &root_peer, imp, strlen(imp), &fd, &ticket, reply, sizeof(reply)),
	    1);
	assert_int_equal(fd, -1); /* the op's now */
	assert_int_equal(ch.fd, mfd);
	assert_true(ticket > 0);
	assert_int_equal(ch.ticket, ticket);
	assert_string_equal(ch.who, "ann via root");
	assert_int_equal(ch.calls, 1);
	gw_ctl_free(ctl);
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

/* A user-name look-up that hangs (a slow NSS backend) does not hold up the loop: while an
   administrator's change waits for its requester's name, another client's status is
   answered; the change is answered, with the name, once the look-up returns. */
static void test_socket_slow_user_lookup(void **state)
{
	(void)state;
	struct rig r;
	char line[RINKI_CTL_MULTI_MAX];
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	rig_up(&r, NULL, NULL);
	pw_block_fd = p[0];
	atomic_store(&pw_lookups, 0);
	int fd1 = dial(r.path), fd2 = dial(r.path);
	assert_true(fd1 >= 0 && fd2 >= 0);
	send_str(fd1, "override-del id=12 by=ann\n");
	for (int i = 0; i < 400 && !atomic_load(&pw_in_lookup); i++)
		gw_loop_run_once(r.loop, 5);
	assert_int_equal(atomic_load(&pw_in_lookup), 1);
	send_str(fd2, "status\n");
	assert_true(read_line(r.loop, fd2, line, sizeof(line)) > 0);
	assert_true(strncmp(line, "ok ", 3) == 0);
	assert_int_equal(atomic_load(&pw_in_lookup), 1); /* answered while it still hangs */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_true(read_line(r.loop, fd1, line, sizeof(line)) > 0);
	assert_string_equal(line, "ok id=12");
	assert_string_equal(ch.who, "ann via root");
	assert_int_equal(atomic_load(&pw_lookups), 1);
	/* the name is known now: the next change of that user asks nobody */
	send_str(fd1, "override-del id=13\n");
	assert_true(read_line(r.loop, fd1, line, sizeof(line)) > 0);
	assert_string_equal(ch.who, "root");
	assert_int_equal(atomic_load(&pw_lookups), 1);
	pw_block_fd = -1;
	close(fd1);
	close(fd2);
	close(p[0]);
	close(p[1]);
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

/* Fill the event stream's pipe (pipe_sz bytes) and queue more: its writer is held. */
static void hold_writer(int pipe_sz)
{
	struct gw_event e;
	for (size_t n = 0; n <= (size_t)pipe_sz + 4096;) {
		gw_event_begin(&e, "n");
		assert_int_equal(gw_event_emit(&e), 0);
		n += e.len;
	}
}

/* Read what the pipe holds now (non-blocking). */
static void drain_pipe(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* events-sync: ok at once without a stream; with the stream's writer held on a full pipe
   it is not answered (another client's status is: the loop does not wait), and once the
   sink reads it is answered ok; a sink that takes nothing gets an error after
   RINKI_CTL_EVSYNC_MS of loop time; a client that leaves while it waits is forgotten. */
static void test_socket_events_sync(void **state)
{
	(void)state;
	struct rig r;
	char line[RINKI_CTL_REPLY_MAX + 8];
	rig_up(&r, NULL, NULL);
	gw_loop_clock_override(r.loop, 1000, 1000000);
	int fd = dial(r.path), other = dial(r.path), gone = dial(r.path);
	assert_true(fd >= 0 && other >= 0 && gone >= 0);
	send_str(fd, "events-sync\n");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "ok"); /* no stream */
	send_str(fd, "events-sync x=1\n");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "err usage events-sync takes no key 'x'");

	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	int pipe_sz = fcntl(p[1], F_GETPIPE_SZ);
	assert_true(pipe_sz > 0 && pipe_sz <= 32768); /* more than the pipe, less than the ring */
	assert_int_equal(gw_event_open_fd(p[1], r.loop), 0);
	hold_writer(pipe_sz);
	send_str(fd, "events-sync\nstatus\n");
	send_str(gone, "events-sync\n");
	send_str(other, "status\n");
	assert_true(read_line(r.loop, other, line, sizeof(line)) > 0);
	assert_true(strncmp(line, "ok proto=", 9) == 0);
	for (int i = 0; i < 20; i++)
		gw_loop_run_once(r.loop, 5);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 0), 0); /* the writer cannot get there: no answer */
	close(gone);
	for (int i = 0; i < 5; i++)
		gw_loop_run_once(r.loop, 5);
	assert_int_equal(gw_ctl_clients(r.ctl), 2);

	/* the sink reads: answered, then the status queued behind it */
	int got = -2;
	for (int i = 0; i < 100 && got == -2; i++) {
		drain_pipe(p[0]);
		got = read_line(r.loop, fd, line, sizeof(line));
	}
	assert_true(got > 0);
	assert_string_equal(line, "ok");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_true(strncmp(line, "ok proto=", 9) == 0);

	/* a sink that takes nothing: an error after the bound, not before */
	hold_writer(pipe_sz);
	send_str(fd, "events-sync\n");
	for (int i = 0; i < 5; i++)
		gw_loop_run_once(r.loop, 5);
	gw_loop_clock_advance(r.loop, RINKI_CTL_EVSYNC_MS - 1);
	assert_int_equal(poll(&pf, 1, 0), 0);
	gw_loop_clock_advance(r.loop, 1);
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "err failed event lines not written within 5000 ms (the sink "
				  "takes nothing)");
	while (gw_event_flush(10) < 0)
		drain_pipe(p[0]);
	gw_event_close();
	close(p[0]);
	close(fd);
	close(other);
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

/*
 * A read-only client (a status poller gone wild) opening every connection it can gets
 * GW_CTL_CLIENTS_MAX - GW_CTL_ADMIN_RESERVED of them; an administrator still gets in, up
 * to GW_CTL_CLIENTS_MAX in all. The reader is a child as nobody in the socket's group.
 */
static void test_admin_slots_reserved(void **state)
{
	(void)state;
	if (geteuid() != 0)
		fail_msg("peer credentials need root to be tested (make test runs as root)");
	struct rig r;
	char grp[16], line[RINKI_CTL_REPLY_MAX + 8];
	int up[2], down[2], fds[GW_CTL_ADMIN_RESERVED + 1];
	unsigned char refused = 0;

	snprintf(grp, sizeof(grp), "%d", NOBODY);
	rig_up(&r, grp, NULL);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c[GW_CTL_CLIENTS_MAX];
		gid_t none[1] = {OTHER_GROUP};
		unsigned char n = 0;
		close(up[0]);
		close(down[1]); /* so that the parent's close (or exit) ends the wait below */
		if (setgroups(1, none) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(10);
		for (int i = 0; i < GW_CTL_CLIENTS_MAX; i++)
			if ((c[i] = dial(r.path)) < 0)
				_exit(11);
		/* the refused ones are told so and closed; the others stay silent */
		for (int i = 0; i < GW_CTL_CLIENTS_MAX; i++) {
			char b[64];
			struct pollfd p = {.fd = c[i], .events = POLLIN};
			if (poll(&p, 1, 200) == 1 && read(c[i], b, sizeof(b)) > 0 &&
			    strncmp(b, "err busy", 8) == 0)
				n++;
		}
		if (write(up[1], &n, 1) != 1)
			_exit(12);
		(void)!read(down[0], &n, 1); /* hold the connections until told */
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	/* serve until the child has counted its refusals */
	struct pollfd p = {.fd = up[0], .events = POLLIN};
	for (int i = 0; i < 4000 && poll(&p, 1, 0) == 0; i++)
		gw_loop_run_once(r.loop, 5);
	assert_int_equal(read(up[0], &refused, 1), 1);
	assert_int_equal(refused, GW_CTL_ADMIN_RESERVED);
	assert_int_equal(gw_ctl_clients(r.ctl), GW_CTL_CLIENTS_MAX - GW_CTL_ADMIN_RESERVED);
	/* root (an admin) gets the reserved slots, and is served */
	for (int i = 0; i < GW_CTL_ADMIN_RESERVED; i++) {
		fds[i] = dial(r.path);
		assert_true(fds[i] >= 0);
		send_str(fds[i], "status\n");
		assert_true(read_line(r.loop, fds[i], line, sizeof(line)) > 0);
		assert_true(strncmp(line, "ok proto=1 ", 11) == 0);
	}
	assert_int_equal(gw_ctl_clients(r.ctl), GW_CTL_CLIENTS_MAX);
	/* and no more than all of them */
	fds[GW_CTL_ADMIN_RESERVED] = dial(r.path);
	assert_true(read_line(r.loop, fds[GW_CTL_ADMIN_RESERVED], line, sizeof(line)) > 0);
	assert_string_equal(line, "err busy too many connections");
	for (int i = 0; i <= GW_CTL_ADMIN_RESERVED; i++)
		close(fds[i]);
	close(down[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(up[0]);
	rig_down(&r);
}

/* Send line with fds[0..nfds) in one message. */
static void send_fds(int sock, const char *line, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} cm;
	struct iovec iov = {.iov_base = (void *)line, .iov_len = strlen(line)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cm.b,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
	memset(&cm, 0, sizeof(cm));
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
	assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)strlen(line));
}

static void test_socket_descriptor_requests(void **state)
{
	(void)state;
	struct rig r;
	char line[RINKI_CTL_REPLY_MAX + 8];
	rig_up(&r, NULL, NULL);
	int mfd = memfd_create("roster", MFD_CLOEXEC);
	assert_true(mfd >= 0);

	/* the import is answered later; a request behind it waits its turn */
	int fd = dial(r.path);
	assert_int_equal(gw_ctl_client_send(fd, "roster-import mode=preview by=ann", mfd), 0);
	send_str(fd, "status\n");
	for (int i = 0; i < 400 && ch.calls == 0; i++)
		gw_loop_run_once(r.loop, 5);
	assert_int_equal(ch.calls, 1);
	assert_true(ch.fd >= 0);
	assert_false(ch.apply);
	assert_string_equal(ch.who, "ann via root");
	struct stat a, b;
	assert_int_equal(fstat(ch.fd, &a), 0);
	assert_int_equal(fstat(mfd, &b), 0);
	assert_true(a.st_ino == b.st_ino); /* the very file the client sent */
	assert_int_equal(gw_ctl_finish(r.ctl, ch.ticket, "+ error row=2 text=x\nok mode=preview"),
			 0);
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "+ error row=2 text=x");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "ok mode=preview");
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "ok proto="));
	/* a ticket answered twice, or never given, has nobody to go to */
	assert_int_equal(gw_ctl_finish(r.ctl, ch.ticket, "ok"), -ENOENT);

	/* a descriptor with a request that takes none: refused before it runs */
	send_fds(fd, "page-test number=112\n", &mfd, 1);
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "err usage page-test takes no descriptor");
	assert_int_equal(fk.page_calls, 0);
	/* a socket is not a file */
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	send_fds(fd, "roster-import mode=apply\n", &sp[0], 1);
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "err usage the descriptor is not a regular file, pipe or memfd");
	assert_int_equal(ch.calls, 1);
	/* two descriptors: an error and the connection closes */
	int two[2] = {mfd, mfd};
	send_fds(fd, "roster-import mode=apply\n", two, 2);
	assert_true(read_line(r.loop, fd, line, sizeof(line)) > 0);
	assert_string_equal(line, "err usage at most one descriptor per request");
	assert_int_equal(read_line(r.loop, fd, line, sizeof(line)), -1);
	close(fd);
	assert_int_equal(ch.calls, 1);

	/* a client gone before its answer: the answer is dropped */
	fd = dial(r.path);
	assert_int_equal(gw_ctl_client_send(fd, "roster-import mode=apply replace=1", mfd), 0);
	for (int i = 0; i < 400 && ch.calls == 1; i++)
		gw_loop_run_once(r.loop, 5);
	assert_int_equal(ch.calls, 2);
	assert_true(ch.apply && ch.replace);
	close(fd);
	for (int i = 0; i < 400 && gw_ctl_clients(r.ctl) > 0; i++)
		gw_loop_run_once(r.loop, 5);
	assert_int_equal(gw_ctl_clients(r.ctl), 0);
	assert_int_equal(gw_ctl_finish(r.ctl, ch.ticket, "ok"), -ENOENT);
	close(sp[0]);
	close(sp[1]);
	close(mfd);
	rig_down(&r);
}

/* The client against a canned server end: a descriptor arrives, a multi-line reply is read. */
static void test_client(void **state)
{
	(void)state;
	int sp[2], p[2];
	char buf[GW_CTL_CLIENT_REPLY_MAX], got[64];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(gw_ctl_client_send(sp[0], "roster-import mode=apply", p[0]), 0);

	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = got, .iov_len = sizeof(got) - 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
	ssize_t n = recvmsg(sp[1], &msg, MSG_CMSG_CLOEXEC);
	assert_int_equal(n, 25);
	got[n] = '\0';
	assert_string_equal(got, "roster-import mode=apply\n");
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	assert_non_null(h);
	assert_int_equal(h->cmsg_type, SCM_RIGHTS);
	int rfd;
	memcpy(&rfd, CMSG_DATA(h), sizeof(int));
	assert_int_equal(write(p[1], "x", 1), 1); /* it is the pipe */
	assert_int_equal(read(rfd, got, 1), 1);
	close(rfd);

	send_str(sp[1], "+ error row=2 text=a\n+ error row=9 text=b\nerr usage 2 errors\n");
	assert_int_equal(gw_ctl_client_read(sp[0], buf, sizeof(buf), 2000), 1);
	assert_string_equal(buf, "+ error row=2 text=a\n+ error row=9 text=b\nerr usage 2 errors");
	assert_string_equal(gw_ctl_client_final(buf), "err usage 2 errors");
	send_str(sp[1], "ok proto=1\n");
	assert_int_equal(gw_ctl_client_read(sp[0], buf, sizeof(buf), 2000), 0);
	assert_string_equal(gw_ctl_client_final(buf), "ok proto=1");
	/* a reply that does not fit; a line with LF is not sent; a close before the end */
	char small[16];
	send_str(sp[1], "+ a long data line\nok\n");
	assert_int_equal(gw_ctl_client_read(sp[0], small, sizeof(small), 2000), -EMSGSIZE);
	assert_int_equal(gw_ctl_client_send(sp[0], "status\nreboot", -1), -EINVAL);
	int sq[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sq), 0);
	send_str(sq[1], "+ half\n");
	close(sq[1]);
	assert_int_equal(gw_ctl_client_read(sq[0], buf, sizeof(buf), 2000), -ECONNRESET);
	close(sq[0]);
	assert_int_equal(gw_ctl_client_connect("/nonexistent/rinki.sock"), -ENOENT);
	close(sp[0]);
	close(sp[1]);
	close(p[0]);
	close(p[1]);
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
	    cmocka_unit_test(test_admin_requests_audited),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_access_by_group),
	    cmocka_unit_test(test_socket_requests),
	    cmocka_unit_test(test_socket_slow_reader_dropped),
	    cmocka_unit_test(test_socket_idle_and_limit),
	    cmocka_unit_test(test_socket_events_sync),
	    cmocka_unit_test(test_socket_file_cases),
	    cmocka_unit_test(test_peer_credentials),
	    cmocka_unit_test(test_admin_slots_reserved),
	    cmocka_unit_test(test_change_requests),
	    cmocka_unit_test(test_user_name_looked_up_once),
	    cmocka_unit_test(test_worker_add_and_directory_import),
	    cmocka_unit_test(test_socket_slow_user_lookup),
	    cmocka_unit_test(test_socket_descriptor_requests),
	    cmocka_unit_test(test_client),
	};
	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
