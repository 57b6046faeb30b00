/*
 * rinkictl_status: the rinkictl commands that talk to a running rinkid over its control
 * socket (protocol: include/rinki/proto.h): status (people's text or --json), page-test,
 * sds send and events-sync (a barrier on the event stream, for scripts that read it). One
 * connection, one request, one reply line read with a time-out. The request is encoded
 * and the "ok" reply parsed with the gateway's own ctl functions, so both ends share one
 * grammar. Exit status of page-test, sds send and events-sync: 0 ok, 1 error (rinkid not
 * running, refused, err reply), 2 usage. status exits with the gateway's health, for
 * monitoring: 0 healthy, 1 degraded, 2 down (rinkid unreachable or not answering counts as
 * down), 3 unknown (usage, permission denied, an answer it cannot read). With a county
 * sync configured, status also shows rinki-sync's status file (state, backlog, lag, last
 * success); the county being away never changes the exit status: paging does not need it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/event.h"
#include "core/text.h"
#include "ctl/ctl.h"
#include "store/roster.h"
#include "rinki/proto.h"

#define REPLY_TIMEOUT_MS 10000
#define EXIT_USAGE	 2
/* rinkictl status: the health (enum gw_ctl_health) or this */
#define EXIT_STATUS_UNKNOWN 3

int ctl_status_main(const char *socket_path, int argc, char **argv);

static const char *const usage_text =
    "usage: rinkictl [-s SOCKET] status [--json]\n"
    "       rinkictl [-s SOCKET] page-test NUMBER\n"
    "       rinkictl [-s SOCKET] sds send ISSI TEXT...\n"
    "SOCKET defaults to $" RINKI_CTL_SOCKET_ENV ", else " RINKI_CTL_SOCKET_DEFAULT ".\n"
    "status exits 0 healthy, 1 degraded, 2 down (rinkid unreachable too), 3 unknown.\n";

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...)
{
	va_list ap;
	fputs("rinkictl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("rinkictl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return EXIT_FAILURE;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Connect, send req (with LF), read one reply line into reply (no LF). 0 or exit status
 * (1); *unreachable (may be NULL) is set when rinkid is not there or did not answer.
 */
static int exchange(const char *path, const char *req, char *reply, size_t len, bool *unreachable)
{
	bool dummy;
	if (!unreachable)
		unreachable = &dummy;
	*unreachable = false;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail("%s: socket path too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		*unreachable = e == ENOENT || e == ECONNREFUSED;
		if (e == ENOENT)
			return fail("rinkid is not running: no control socket %s "
				    "(see ctl.socket in rinki.conf, or -s)",
				    path);
		if (e == ECONNREFUSED)
			return fail("rinkid is not running: %s refuses connections "
				    "(a socket left by an earlier rinkid)",
				    path);
		if (e == EACCES || e == EPERM)
			return fail("%s: permission denied: needs root or membership of the "
				    "socket's group (ctl.group)",
				    path);
		return fail("%s: %s", path, strerror(e));
	}
	/* A refused peer may find the connection closed already; the refusal is still there
	 * to read, so a failed send is not the end. */
	size_t n = strlen(req), off = 0;
	while (off < n) {
		ssize_t k = send(fd, req + off, n - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	size_t got = 0;
	int64_t end = now_ms() + REPLY_TIMEOUT_MS;
	for (;;) {
		int64_t left = end - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			close(fd);
			*unreachable = true;
			return fail("rinkid did not answer within %d s", REPLY_TIMEOUT_MS / 1000);
		}
		ssize_t k = read(fd, reply + got, len - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			close(fd);
			*unreachable = true;
			return fail("rinkid closed the connection without an answer%s%s",
				    k < 0 ? ": " : "", k < 0 ? strerror(errno) : "");
		}
		got += (size_t)k;
		char *nl = memchr(reply, '\n', got);
		if (nl) {
			*nl = '\0';
			break;
		}
		if (got == len - 1) {
			close(fd);
			return fail("rinkid's answer is longer than %zu bytes", len - 1);
		}
	}
	close(fd);
	if (strncmp(reply, "err ", 4) == 0) {
		char shown[512];
		gw_text_term(reply + 4, shown, sizeof(shown));
		const char *code = shown, *text = strchr(code, ' ');
		return fail("rinkid: %s (%.*s)", text ? text + 1 : "",
			    (int)(text ? (size_t)(text - code) : strlen(code)), code);
	}
	return 0;
}

/* ---- status --------------------------------------------------------------------------------- */

/*
 * A value of rinkid's reply as shown on a terminal: control characters escaped
 * (gw_text_term), in one of a few rotating buffers; "?" when the reply lacks it.
 */
static const char *get(const struct gw_ctl_msg *m, const char *key)
{
	static char buf[8][512];
	static unsigned next;
	const char *v = gw_ctl_msg_get(m, key);
	return v ? gw_text_term(v, buf[next++ % 8], sizeof(buf[0])) : "?";
}

static bool yes(const struct gw_ctl_msg *m, const char *key)
{
	return strcmp(get(m, key), "yes") == 0;
}

static void print_uptime(const char *s)
{
	long t = strtol(s, NULL, 10);
	if (t >= 86400)
		printf("%ld d %ld h", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		printf("%ld h %02ld min", t / 3600, t % 3600 / 60);
	else
		printf("%ld min %02ld s", t / 60, t % 60);
}

/* rinki-sync's status file (county.status_file); "": no county sync configured. */
static char county_path[256];

void ctl_status_set_county(const char *status_file)
{
	snprintf(county_path, sizeof(county_path), "%s", status_file ? status_file : "");
}

/* Read the status file ("key value" lines) into text. 0, or -errno. */
static int county_read(char *text, size_t len)
{
	int fd = open(county_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, text, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	text[n] = '\0';
	return 0;
}

/* The value of key in the status text into out (cut to fit; "" when absent). Returns out. */
static char *county_get(const char *text, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);
	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == ' ') {
			snprintf(out, len, "%.*s", (int)strcspn(p + k + 1, "\n"), p + k + 1);
			break;
		}
	return out;
}

/* The county line of status: rinki-sync's state, backlog, lag and last success. */
static void print_county(void)
{
	char text[2048], v[4][96], esc[4][192], when[48] = "never";

	if (!county_path[0])
		return;
	int rc = county_read(text, sizeof(text));
	if (rc < 0) {
		printf("county    no status from rinki-sync (%s: %s)\n",
		       gw_text_term(county_path, esc[0], sizeof(esc[0])), strerror(-rc));
		return;
	}
	county_get(text, "state", v[0], sizeof(v[0]));
	county_get(text, "backlog", v[1], sizeof(v[1]));
	county_get(text, "lag_ms", v[2], sizeof(v[2]));
	long long last = strtoll(county_get(text, "last_success_ms", v[3], sizeof(v[3])), NULL, 10);
	if (last > 0)
		gw_roster_format_clock(last, GW_CLOCK_SEC, when, sizeof(when));
	printf("county    %s: backlog %s events, lag %.1f s, last success %s\n",
	       gw_text_term(v[0], esc[0], sizeof(esc[0])),
	       gw_text_term(v[1], esc[1], sizeof(esc[1])), (double)strtoll(v[2], NULL, 10) / 1000,
	       when);
}

/* The same as a JSON member ("county":{...},), or "" when no county sync is configured. */
static void county_json(char *out, size_t len)
{
	char text[2048], v[4][96], state[200];

	out[0] = '\0';
	if (!county_path[0])
		return;
	if (county_read(text, sizeof(text)) < 0) {
		snprintf(out, len, "\"county\":{\"state\":\"unknown\"},");
		return;
	}
	if (gw_event_json_str(county_get(text, "state", v[0], sizeof(v[0])), state, sizeof(state)) <
	    0)
		snprintf(state, sizeof(state), "\"unknown\"");
	snprintf(out, len,
		 "\"county\":{\"state\":%s,\"backlog\":%lld,\"lag_ms\":%lld,"
		 "\"last_success_ms\":%lld},",
		 state, strtoll(county_get(text, "backlog", v[1], sizeof(v[1])), NULL, 10),
		 strtoll(county_get(text, "lag_ms", v[2], sizeof(v[2])), NULL, 10),
		 strtoll(county_get(text, "last_success_ms", v[3], sizeof(v[3])), NULL, 10));
}

/* The roster's county version and its age (rinki-sync's roster pull), or a local import. */
static void print_roster(const struct gw_ctl_msg *m)
{
	long long v = strtoll(get(m, "roster.county_version"), NULL, 10);
	long long made_ms = strtoll(get(m, "roster.made_ms"), NULL, 10);
	long long age_min = ((long long)time(NULL) * 1000 - made_ms) / 60000;
	char when[32];
	time_t t = (time_t)(made_ms / 1000);
	struct tm tm;

	if (v <= 0 || made_ms <= 0 || !gmtime_r(&t, &tm)) {
		printf("roster    local (no county version)\n");
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	if (age_min < 0)
		age_min = 0;
	printf("roster    county version %lld of %s (%lld d %lld h %lld min old)\n", v, when,
	       age_min / 1440, age_min / 60 % 24, age_min % 60);
}
static void print_status(const struct gw_ctl_msg *m)
{
	printf("rinkid %s (protocol %s), up ", get(m, "version"), get(m, "proto"));
	print_uptime(get(m, "uptime_s"));
	printf("\n");
	printf("health    %s%s%s\n", get(m, "health"), get(m, "problems")[0] ? ": " : "",
	       get(m, "problems"));

	printf("radio     ");
	if (!yes(m, "radio.port_up"))
		printf("PORT CLOSED");
	else
		printf("%s", yes(m, "radio.ready") ? "ready" : "NOT READY");
	printf(", registration %s", get(m, "radio.reg"));
	if (strcmp(get(m, "radio.rssi_dbm"), "0") != 0)
		printf(", %s dBm", get(m, "radio.rssi_dbm"));
	if (get(m, "radio.identity")[0])
		printf(", identity %s", get(m, "radio.identity"));
	printf(", %s call(s)\n", get(m, "radio.live_calls"));

	printf("modem     ");
	if (!yes(m, "modem.port_up"))
		printf("PORT CLOSED");
	else
		printf("%s", yes(m, "modem.ready") ? "ready" : "NOT READY");
	/* why the SIM is not ready (a PIN refused, a PUK lock), as the driver found it */
	if (yes(m, "modem.sim"))
		printf(", SIM ready");
	else if (get(m, "modem.sim_state")[0])
		printf(", SIM NOT READY (%s)", get(m, "modem.sim_state"));
	else
		printf(", SIM NOT READY");
	printf(", registration %s", get(m, "modem.reg"));
	if (get(m, "modem.operator")[0])
		printf(" (%s)", get(m, "modem.operator"));
	if (strcmp(get(m, "modem.rssi_dbm"), "0") != 0)
		printf(", %s dBm", get(m, "modem.rssi_dbm"));
	printf(", call %s", get(m, "modem.call"));
	if (strcmp(get(m, "modem.recoveries"), "0") != 0)
		printf(", %s recoveries", get(m, "modem.recoveries"));
	printf("\n");

	printf("board     ");
	if (!yes(m, "io.present"))
		printf("none configured\n");
	else
		printf("%s, %s, firmware %s, squelch %s, PTT %s, polls %s, failures %s%s%s\n",
		       yes(m, "io.up") ? "up" : "DOWN", get(m, "io.board"), get(m, "io.fw"),
		       yes(m, "io.squelch") ? "open" : "closed", yes(m, "io.ptt") ? "on" : "off",
		       get(m, "io.polls"), get(m, "io.failures"),
		       get(m, "io.last_error")[0] ? ", last error: " : "", get(m, "io.last_error"));

	if (yes(m, "call.live"))
		printf("incident  %s, %s\n", get(m, "call.id"), get(m, "call.state"));
	else if (strcmp(get(m, "call.id"), "0") != 0)
		printf("incident  none (last %s)\n", get(m, "call.id"));
	else
		printf("incident  none\n");
	if (yes(m, "callback.live"))
		printf("call-back %s, %s, worker %s\n", get(m, "callback.id"),
		       get(m, "callback.state"), get(m, "callback.worker"));
	else
		printf("call-back none\n");
	printf("database  %s\n",
	       yes(m, "db.spooling") ? "AWAY: call-log writes are spooled" : "ok");
	print_roster(m);
	printf("counters  incidents %s, pages %s, SMS out %s in %s, SDS out %s in %s\n",
	       get(m, "counters.incidents"), get(m, "counters.pages"), get(m, "counters.sms_out"),
	       get(m, "counters.sms_in"), get(m, "counters.sds_out"), get(m, "counters.sds_in"));
	printf("control   clients %s, requests %s, denied %s, dropped %s\n", get(m, "ctl.clients"),
	       get(m, "ctl.requests"), get(m, "ctl.denied"), get(m, "ctl.dropped"));
}

/* The exit status for a health name; EXIT_STATUS_UNKNOWN for anything else. */
static int health_exit(const char *h, size_t n)
{
	if (n == 7 && strncmp(h, "healthy", n) == 0)
		return GW_CTL_HEALTHY;
	if (n == 8 && strncmp(h, "degraded", n) == 0)
		return GW_CTL_DEGRADED;
	if (n == 4 && strncmp(h, "down", n) == 0)
		return GW_CTL_DOWN;
	return EXIT_STATUS_UNKNOWN;
}

/* The top-level "health":"<word>" of rinkid's JSON answer (one word of a-z, bounded). */
static int json_health_exit(const char *reply)
{
	static const char key[] = "\"health\":\"";
	const char *p = strstr(reply, key);
	if (!p)
		return EXIT_STATUS_UNKNOWN;
	p += sizeof(key) - 1;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
	return n <= 8 && p[n] == '"' ? health_exit(p, n) : EXIT_STATUS_UNKNOWN;
}

static int cmd_status(const char *path, int argc, char **argv)
{
	static char reply[RINKI_CTL_REPLY_MAX + 1];
	static struct gw_ctl_msg m;
	char err[160];
	bool json = false, unreachable;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			usage("status: unknown argument '%s'", argv[i]);
			return EXIT_STATUS_UNKNOWN;
		}
	}
	int rc = exchange(path, json ? "status format=json\n" : "status\n", reply, sizeof(reply),
			  &unreachable);
	if (rc && unreachable) {
		if (json)
			printf("{\"health\":\"down\",\"problems\":\"rinkid unreachable\"}\n");
		else
			printf("health    down: rinkid unreachable\n");
		return GW_CTL_DOWN;
	}
	if (rc)
		return EXIT_STATUS_UNKNOWN;
	if (json) {
		if (reply[0] != '{') {
			fail("rinkid's answer is not JSON: %.80s", reply);
			return EXIT_STATUS_UNKNOWN;
		}
		char county[320];
		county_json(county, sizeof(county));
		printf("{%s%s\n", county, reply + 1);
		return json_health_exit(reply);
	}
	if (gw_ctl_parse(reply, strlen(reply), &m, err, sizeof(err)) < 0 ||
	    strcmp(m.verb, "ok") != 0) {
		fail("cannot read rinkid's answer: %s", err);
		return EXIT_STATUS_UNKNOWN;
	}
	print_status(&m);
	print_county();
	const char *h = get(&m, "health");
	return health_exit(h, strlen(h));
}

/* events-sync: returns once rinkid's event stream holds every line queued before it. */
static int cmd_events_sync(const char *path, int argc, char **argv)
{
	char reply[RINKI_CTL_REPLY_MAX + 1];
	(void)argv;
	if (argc != 1)
		return usage("events-sync takes no argument");
	int rc = exchange(path, "events-sync\n", reply, sizeof(reply), NULL);
	if (rc)
		return rc;
	printf("events-sync: every event line rinkid queued so far is written\n");
	return 0;
}

/* ---- admin commands ---------------------------------------------------------------------------
 */

static int cmd_page_test(const char *path, int argc, char **argv)
{
	char req[RINKI_CTL_REQ_MAX], reply[RINKI_CTL_REPLY_MAX + 1], enc[64];
	if (argc != 2)
		return usage("page-test takes one NUMBER");
	if (gw_ctl_encode(enc, sizeof(enc), argv[1]) < 0)
		return fail("'%.40s...' is too long for a number", argv[1]);
	snprintf(req, sizeof(req), "page-test number=%s\n", enc);
	int rc = exchange(path, req, reply, sizeof(reply), NULL);
	if (rc)
		return rc;
	printf("page-test: rinkid is dialling %s\n", argv[1]);
	return 0;
}

static int cmd_sds(const char *path, int argc, char **argv)
{
	char text[RINKI_CTL_REQ_MAX], enc[RINKI_CTL_REQ_MAX], issi[64];
	char req[RINKI_CTL_REQ_MAX + 64], reply[RINKI_CTL_REPLY_MAX + 1];
	static struct gw_ctl_msg m;
	char err[160];
	if (argc < 2 || strcmp(argv[1], "send") != 0)
		return usage("sds: the subcommand is 'send'");
	if (argc < 4)
		return usage("sds send needs ISSI and TEXT");
	/* the words of TEXT are joined with single spaces */
	size_t n = 0;
	for (int i = 3; i < argc; i++) {
		int k = snprintf(text + n, sizeof(text) - n, "%s%s", i > 3 ? " " : "", argv[i]);
		if (k < 0 || (size_t)k >= sizeof(text) - n)
			return fail("text too long");
		n += (size_t)k;
	}
	if (gw_ctl_encode(issi, sizeof(issi), argv[2]) < 0)
		return fail("ISSI too long");
	if (gw_ctl_encode(enc, sizeof(enc), text) < 0)
		return fail("text too long for one request");
	int k = snprintf(req, sizeof(req), "sds-send issi=%s text=%s\n", issi, enc);
	if (k < 0 || k >= RINKI_CTL_REQ_MAX)
		return fail("text too long for one request (%d bytes encoded, at most %d)", k,
			    RINKI_CTL_REQ_MAX - 1);
	int rc = exchange(path, req, reply, sizeof(reply), NULL);
	if (rc)
		return rc;
	if (gw_ctl_parse(reply, strlen(reply), &m, err, sizeof(err)) < 0)
		return fail("cannot read rinkid's answer: %s", err);
	printf("SDS to %s queued (handle %s); rinkid logs its delivery\n", argv[2],
	       get(&m, "handle"));
	return 0;
}

int ctl_status_main(const char *socket_path, int argc, char **argv)
{
	const char *path = socket_path;
	if (!path || !path[0])
		path = getenv(RINKI_CTL_SOCKET_ENV);
	if (!path || !path[0])
		path = RINKI_CTL_SOCKET_DEFAULT;
	if (argc < 1)
		return usage("no command given");
	if (strcmp(argv[0], "status") == 0)
		return cmd_status(path, argc, argv);
	if (strcmp(argv[0], "page-test") == 0)
		return cmd_page_test(path, argc, argv);
	if (strcmp(argv[0], "sds") == 0)
		return cmd_sds(path, argc, argv);
	if (strcmp(argv[0], "events-sync") == 0)
		return cmd_events_sync(path, argc, argv);
	return usage("unknown command '%s'", argv[0]);
}
