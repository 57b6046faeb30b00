/*
 * Integration: rinkid's control socket and systemd notifications, driven the way an
 * administrator and systemd do. rinkid runs against tetra-sim and modem-sim with
 * ctl.socket in the rig's directory and $NOTIFY_SOCKET/$WATCHDOG_USEC pointing at a
 * datagram socket this test binds (a fake systemd). Checked: READY=1 arrives and the
 * watchdog is fed; rinkictl status (text and --json) shows both devices ready; page-test
 * makes the modem dial; sds send makes the terminal send the SDS; oversize and malformed
 * requests get an err line and rinkid keeps serving; rinkictl status's exit code is the
 * gateway's health: 0 with both devices up, 1 once the modem simulator is gone, 2 when no
 * rinkid listens (text and --json). Changes (roster and directory import, worker add and
 * set, overrides) go through rinkid and are logged with who asked; a rinki-status member
 * (ctl.group, here gid 4242, running as uid 65534) reads the status but changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ctl/ctl_client.h"
#include "harness.h"
#include "rinki/proto.h"

static struct h_rig rig;
static char sock[100], notify[100], out[160];
static int nfd = -1; /* fake systemd */

static int slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

/* Run rinkictl with args (NULL-terminated); its output in text. Returns its exit status. */
static int rinkictl(char *text, size_t len, ...)
{
	char bin[256];
	char *argv[16];
	int n = 0;
	va_list ap;
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	argv[n++] = bin;
	va_start(ap, len);
	for (char *a; n < 15 && (a = va_arg(ap, char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	unlink(out);
	int rc = h_run(argv, out);
	if (slurp(out, text, len) < 0)
		text[0] = '\0';
	return rc;
}

#define STATUS_GID 4242 /* ctl.group of this rig: read-only access */

/* rinkictl as uid 65534 in group STATUS_GID only (a rinki-status member); as rinkictl(). */
static int rinkictl_as_status_user(char *text, size_t len, ...)
{
	char bin[256];
	char *argv[16];
	int n = 0;
	va_list ap;
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	argv[n++] = bin;
	va_start(ap, len);
	for (char *a; n < 15 && (a = va_arg(ap, char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	unlink(out);
	pid_t pid = fork();
	if (pid == 0) {
		gid_t g = STATUS_GID;
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || setgroups(1, &g) < 0 ||
		    setgid(g) < 0 || setuid(65534) < 0)
			_exit(126);
		execv(bin, argv);
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	if (slurp(out, text, len) < 0)
		text[0] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Wait for a datagram containing needle on the fake systemd socket. 0 or -1. */
static int wait_notify(const char *needle, int timeout_ms)
{
	char buf[512];
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		struct pollfd p = {.fd = nfd, .events = POLLIN};
		if (poll(&p, 1, 50) != 1)
			continue;
		ssize_t n = recv(nfd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (strstr(buf, needle))
			return 0;
	}
	return -1;
}

/* One raw request on a fresh connection; the reply line in reply. 0 or -1. */
static int raw(const char *req, size_t len, char *reply, size_t rlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (send(fd, req, len, MSG_NOSIGNAL) < 0 && errno != EPIPE) {
		close(fd);
		return -1;
	}
	size_t n = 0;
	for (int i = 0; i < 100 && n < rlen - 1; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 50) != 1)
			continue;
		ssize_t k = read(fd, reply + n, 1);
		if (k <= 0 || reply[n] == '\n')
			break;
		n++;
	}
	reply[n] = '\0';
	close(fd);
	return n ? 0 : -1;
}

static void test_ready_and_watchdog(void **state)
{
	(void)state;
	/* READY=1 came before the harness saw both devices ready; it is queued for us */
	assert_int_equal(wait_notify("READY=1", 3000), 0);
	/* WATCHDOG_USEC is 2 s: a ping at least every second */
	assert_int_equal(wait_notify("WATCHDOG=1", 2500), 0);
	assert_int_equal(wait_notify("WATCHDOG=1", 2500), 0);
}

static void test_status(void **state)
{
	(void)state;
	char text[8192];
	assert_int_equal(rinkictl(text, sizeof(text), "status", NULL), 0);
	if (!strstr(text, "\nhealth    healthy\n") || !strstr(text, "radio     ready") ||
	    !strstr(text, "modem     ready") || !strstr(text, "board     none configured") ||
	    !strstr(text, "\nroster    local (no county version)\n"))
		fail_msg("status output:\n%s", text);
	assert_int_equal(rinkictl(text, sizeof(text), "status", "--json", NULL), 0);
	assert_int_equal(text[0], '{');
	if (!strstr(text, "\"health\":\"healthy\",\"problems\":\"\"") ||
	    !strstr(text, "\"radio\":{\"port_up\":true,\"ready\":true") ||
	    !strstr(
		text,
		"\"modem\":{\"port_up\":true,\"ready\":true,\"sim\":true,"
		"\"sim_state\":\"READY\",\"reg\":\"home\",\"rssi_dbm\":-73,\"operator\":\"Elisa\","
		"\"call\":\"idle\"") ||
	    !strstr(text, "\"roster\":{\"county_version\":0,\"made_ms\":0}"))
		fail_msg("status --json output:\n%s", text);
	/* a usage error is "unknown" (3), not a health */
	assert_int_equal(rinkictl(text, sizeof(text), "status", "--yaml", NULL), 3);
}

/*
 * Wait (bounded, pumping the sims) until the call log holds a system event of kind whose
 * detail contains needle; its detail goes to buf. 0, or -1.
 */
static int wait_system_event(const char *kind, const char *needle, char *buf, size_t len)
{
	for (int i = 0; i < H_WAIT_MIN_MS / 20; i++) {
		sqlite3 *h = NULL;
		sqlite3_stmt *st = NULL;
		if (sqlite3_open_v2(rig.db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(h,
				       "SELECT detail FROM incident_events WHERE incident IS NULL"
				       " AND kind = ?1 AND instr(detail, ?2) > 0",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, needle, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW) {
				snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
				sqlite3_finalize(st);
				sqlite3_close(h);
				return 0;
			}
		}
		sqlite3_finalize(st);
		sqlite3_close(h);
		h_pump(&rig, 20);
	}
	return -1;
}

/* rinkictl events-sync: ok once the event stream holds every line rinkid queued (this rig
   has events.file); an argument is a usage error. (Read access is enough: test_ctl unit.) */
static void test_events_sync(void **state)
{
	(void)state;
	char text[4096];
	int rc = rinkictl(text, sizeof(text), "events-sync", NULL);
	if (rc != 0)
		fail_msg("events-sync: exit %d\n%s", rc, text);
	assert_non_null(strstr(text, "every event line rinkid queued so far is written"));
	assert_true(h_ev_count(&rig, "device", "device=radio", "up=true", NULL) >= 1);
	assert_int_equal(rinkictl(text, sizeof(text), "events-sync", "now", NULL), 2);
	assert_non_null(strstr(text, "events-sync takes no argument"));
}

static void test_page_test_dials(void **state)
{
	(void)state;
	char text[4096];
	size_t pos = rig.modem.elen;
	assert_int_equal(rinkictl(text, sizeof(text), "page-test", "+358401112223", NULL), 0);
	assert_non_null(strstr(text, "dialling +358401112223"));
	assert_int_equal(h_wait_event(&rig.modem, &pos, "dial ", 3000), 0);
	assert_non_null(strstr(rig.modem.events, "+358401112223"));
	/* the request is in the chained call log, naming who asked */
	char detail[256], who[64];
	snprintf(who, sizeof(who), "(uid %u, pid ", (unsigned)getuid());
	assert_int_equal(wait_system_event("ctl_page_test", "page-test number=+358401112223 by ",
					   detail, sizeof(detail)),
			 0);
	printf("  system event ctl_page_test: %s\n", detail);
	assert_non_null(strstr(detail, who));
	assert_non_null(strstr(detail, "): ok"));
	/* a bad number never reaches the modem */
	pos = rig.modem.elen;
	assert_int_equal(rinkictl(text, sizeof(text), "page-test", "12", NULL), 1);
	assert_non_null(strstr(text, "(usage)"));
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_count_events(&rig.modem, "dial "), 1);
}

static void test_sds_send(void **state)
{
	(void)state;
	char text[4096];
	size_t pos = rig.radio.elen;
	assert_int_equal(
	    rinkictl(text, sizeof(text), "sds", "send", "2269001", "Testi", "rinkistä", NULL), 0);
	assert_non_null(strstr(text, "SDS to 2269001 queued"));
	assert_int_equal(h_wait_event(&rig.radio, &pos, "sds-out 2269001 ", 3000), 0);
	char detail[256];
	assert_int_equal(
	    wait_system_event("ctl_sds_send", "sds-send issi=2269001 (", detail, sizeof(detail)),
	    0);
	printf("  system event ctl_sds_send: %s\n", detail);
	assert_non_null(strstr(detail, ": handle "));
}

static void test_bad_requests_and_no_daemon(void **state)
{
	(void)state;
	char reply[RINKI_CTL_REPLY_MAX + 1], big[3000], text[4096];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(raw(big, sizeof(big), reply, sizeof(reply)), 0);
	assert_true(strncmp(reply, "err toolong ", 12) == 0);
	assert_int_equal(raw("Status\n", 7, reply, sizeof(reply)), 0);
	assert_true(strncmp(reply, "err usage ", 10) == 0);
	assert_int_equal(raw("sds-send issi=1 text=a%0Ab\n", 27, reply, sizeof(reply)), 0);
	assert_true(strncmp(reply, "err usage ", 10) == 0);
	/* and it still answers */
	assert_int_equal(raw("status\n", 7, reply, sizeof(reply)), 0);
	assert_true(strncmp(reply, "ok proto=1 ", 11) == 0);

	char gone[200];
	snprintf(gone, sizeof(gone), "%s/nothing.sock", rig.dir);
	setenv(RINKI_CTL_SOCKET_ENV, gone, 1);
	/* no rinkid: down (2), in both forms */
	assert_int_equal(rinkictl(text, sizeof(text), "status", NULL), 2);
	assert_non_null(strstr(text, "rinkid is not running"));
	assert_non_null(strstr(text, "health    down: rinkid unreachable"));
	assert_int_equal(rinkictl(text, sizeof(text), "status", "--json", NULL), 2);
	assert_non_null(strstr(text, "{\"health\":\"down\",\"problems\":\"rinkid unreachable\"}"));
	setenv(RINKI_CTL_SOCKET_ENV, sock, 1);
}

/* The modem simulator goes away: rinkid sees the port hang up; status is degraded (1). */
/* A page goes out while a roster import waits for the rest of its input (#18: paging
   never stalls behind an import; its reading and checking run off the loop). */
static void test_page_during_import(void **state)
{
	(void)state;
	char reply[GW_CTL_CLIENT_REPLY_MAX];
	static char csv[1 << 20];
	FILE *f = fopen("tools/demo/roster.csv", "r");
	assert_non_null(f);
	size_t n = fread(csv, 1, sizeof(csv), f);
	fclose(f);
	assert_true(n > 100 && n < sizeof(csv));
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	int s = gw_ctl_client_connect(sock);
	assert_true(s >= 0);
	assert_int_equal(gw_ctl_client_send(s, "roster-import mode=preview by=test", p[0]), 0);
	close(p[0]);
	assert_int_equal(write(p[1], csv, n / 2), (ssize_t)(n / 2));

	size_t mp = rig.modem.elen;
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD", 3000), 0);
	/* the import cannot have answered: its input is still open */
	struct pollfd pf = {.fd = s, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 0), 0);

	assert_int_equal(write(p[1], csv + n / 2, n - n / 2), (ssize_t)(n - n / 2));
	close(p[1]);
	assert_int_equal(gw_ctl_client_read(s, reply, sizeof(reply), 30000), 0);
	close(s);
	if (!strstr(gw_ctl_client_final(reply), "ok mode=preview") || !strstr(reply, " errors=0 "))
		fail_msg("preview reply:\n%s", reply);
	/* the officer hangs up: the incident ends */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_log(&rig, "incident closed: ", 10000), 0);
}

static void test_status_degraded(void **state)
{
	(void)state;
	char text[8192];
	assert_int_equal(h_stop_sim(&rig.modem), 0);
	assert_int_equal(h_wait_log(&rig, "modem down", 10000), 0);
	assert_int_equal(rinkictl(text, sizeof(text), "status", NULL), 1);
	if (!strstr(text, "\nhealth    degraded: modem "))
		fail_msg("status output:\n%s", text);
	assert_int_equal(rinkictl(text, sizeof(text), "status", "--json", NULL), 1);
	if (!strstr(text, "\"health\":\"degraded\",\"problems\":\"modem "))
		fail_msg("status --json output:\n%s", text);
}

/* Changes go through rinkid: rinkictl sends them, rinkid checks, applies and logs who. */
static void test_changes_through_rinkid(void **state)
{
	(void)state;
	char text[8192], csv[160], bad[160];
	snprintf(csv, sizeof(csv), "%s/roster.csv", rig.dir);
	snprintf(bad, sizeof(bad), "%s/bad.csv", rig.dir);
	FILE *f = fopen(csv, "w");
	assert_non_null(f);
	fputs("line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
	      "worker,aino,Aino Virtanen,+358401234567,\n"
	      "worker,pia,Pia Laine,+358401234568,\n"
	      "shift,sos,aino,2026-01-01T08:00+02:00,2026-01-02T08:00+02:00,1\n",
	      f);
	fclose(f);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("line,sos,Sos,Sos,Sos\nworker,aino,A,+358401234567,\nworker,aino,B,+358401234568,\n",
	      f);
	fclose(f);

	assert_int_equal(
	    rinkictl(text, sizeof(text), "-d", rig.db, "roster", "import", bad, "--preview", NULL),
	    1);
	if (!strstr(text, "row 3: ") || !strstr(text, "-- has errors"))
		fail_msg("preview of a bad roster:\n%s", text);
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "roster", "import", bad, NULL),
			 1);
	assert_non_null(strstr(text, "rinkid: 1 error, nothing imported"));
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "roster", "import", csv, NULL),
			 0);
	if (!strstr(text, "through rinkid: 1 lines, 2 workers"))
		fail_msg("import through rinkid:\n%s", text);
	assert_int_equal(h_wait_log(&rig, "roster_import by root: apply", 3000), 0);

	assert_int_equal(
	    rinkictl(text, sizeof(text), "-d", rig.db, "worker", "disable", "pia", NULL), 0);
	assert_non_null(strstr(text, "worker pia disabled"));
	assert_int_equal(h_wait_log(&rig, "worker_set by root: worker pia disabled", 3000), 0);
	/* a language and phone change through rinkid: checked there, a system event */
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "worker", "set", "pia",
				  "--lang", "sv", "--phone", "00358409999999", NULL),
			 0);
	assert_non_null(strstr(text, "worker pia: phone +358409999999, language sv"));
	assert_int_equal(
	    h_wait_log(&rig, "worker_set by root: worker pia phone +358409999999 language sv",
		       3000),
	    0);
	assert_int_equal(
	    rinkictl(text, sizeof(text), "-d", rig.db, "worker", "pin-reset", "nobody", NULL), 3);
	/* a PIN through rinkid (one stdin line): set with its pepper, logged without the PIN */
	char pinfile[160];
	snprintf(pinfile, sizeof(pinfile), "%s/pin.txt", rig.dir);
	f = fopen(pinfile, "w");
	assert_non_null(f);
	fputs("97531\n", f);
	fclose(f);
	int saved = dup(0), pfd = open(pinfile, O_RDONLY | O_CLOEXEC);
	assert_true(saved >= 0 && pfd >= 0);
	assert_int_equal(dup2(pfd, 0), 0);
	int prc = rinkictl(text, sizeof(text), "-d", rig.db, "worker", "pin", "aino", NULL);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	close(pfd);
	assert_int_equal(prc, 0);
	assert_non_null(strstr(text, "PIN of worker aino set"));
	assert_int_equal(h_wait_log(&rig, "worker_set by root: worker aino PIN set", 3000), 0);
	assert_int_equal(h_log_count(&rig, "97531"), 0);
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "override", "add", "replace",
				  "pia", "2026-01-01", "2026-01-01", "--line", "sos", "--by",
				  "aino", NULL),
			 0);
	if (!strstr(text, "override 1 added"))
		fail_msg("override add through rinkid:\n%s", text);
	assert_int_equal(h_wait_log(&rig, "override_add by root: override 1: replace pia", 3000),
			 0);
	assert_int_equal(
	    rinkictl(text, sizeof(text), "-d", rig.db, "override", "remove", "1", NULL), 0);
	assert_int_equal(h_wait_log(&rig, "override_del by root: override 1 removed", 3000), 0);
	/* worker add and directory import go through rinkid too (a system event each) */
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "worker", "add", "eero",
				  "Eero Salo", "0401234569", "--lang", "sv", NULL),
			 0);
	assert_non_null(strstr(text, "worker eero added"));
	assert_int_equal(h_wait_log(&rig,
				    "worker_add by root: worker eero (Eero Salo) +358401234569 "
				    "language sv",
				    3000),
			 0);
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "worker", "add", "eero",
				  "Eero Salo", "0401234569", NULL),
			 1);
	assert_non_null(strstr(text, "rinkid: worker 'eero' exists already"));
	char dir[160];
	snprintf(dir, sizeof(dir), "%s/directory.csv", rig.dir);
	f = fopen(dir, "w");
	assert_non_null(f);
	fputs("directory,2269001,\"Poliisi, Mikkeli\",Mikkeli,member\n"
	      "directory,2269002,Poliisi Juva,Juva,contract\n",
	      f);
	fclose(f);
	assert_int_equal(
	    rinkictl(text, sizeof(text), "-d", rig.db, "directory", "import", dir, NULL), 0);
	if (!strstr(text, "imported 2 directory entries from") || !strstr(text, "through rinkid"))
		fail_msg("directory import through rinkid:\n%s", text);
	assert_int_equal(h_wait_log(&rig, "directory_import by root: entries=2", 3000), 0);
	/* the chain holds them and still verifies */
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "log", "verify", NULL), 0);
	assert_non_null(strstr(text, "chain intact"));
}

/* A rinki-status member reads the status but may not add a worker or import a directory:
   rinkid refuses both (the requests reach it and are answered "denied"); nothing changes. */
static void test_status_user_changes_nothing(void **state)
{
	(void)state;
	char text[8192], dir[160];
	/* the rig's directory is the socket's way in for another uid (and the runner's 0700
	   TMPDIR above it) */
	assert_int_equal(chmod(rig.dir, 0711), 0);
	assert_int_equal(h_let_through(rig.dir), 0);
	snprintf(dir, sizeof(dir), "%s/directory2.csv", rig.dir);
	FILE *f = fopen(dir, "w");
	assert_non_null(f);
	fputs("directory,2269009,Poliisi Juva,Juva,member\n", f);
	fclose(f);
	assert_int_equal(chmod(dir, 0644), 0);

	int rc = rinkictl_as_status_user(text, sizeof(text), "status", NULL);
	if (rc != 0 && rc != 1) /* read access: the gateway's health, whatever it is */
		fail_msg("status as a rinki-status member: exit %d\n%s", rc, text);
	assert_int_equal(rinkictl_as_status_user(text, sizeof(text), "-d", rig.db, "worker", "add",
						 "mallory", "Mallory", "0401234560", NULL),
			 1);
	if (!strstr(text, "rinkid: worker-add needs uid 0 or membership of ctl.admin_group"))
		fail_msg("worker add as a rinki-status member:\n%s", text);
	assert_int_equal(rinkictl_as_status_user(text, sizeof(text), "-d", rig.db, "directory",
						 "import", dir, NULL),
			 1);
	if (!strstr(text, "rinkid: directory-import needs uid 0 or membership of ctl.admin_group"))
		fail_msg("directory import as a rinki-status member:\n%s", text);
	/* the refusals were answered: nothing was added, nothing logged */
	assert_int_equal(rinkictl(text, sizeof(text), "-d", rig.db, "worker", "list", NULL), 0);
	assert_null(strstr(text, "mallory"));
	assert_int_equal(h_log_count(&rig, "worker_add by uid 65534"), 0);
	assert_int_equal(h_log_count(&rig, "directory_import by"), 0);
	assert_int_equal(chmod(rig.dir, 0700), 0);
}

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0)
		return -1;
	snprintf(sock, sizeof(sock), "%s/rinki.sock", rig.dir);
	snprintf(notify, sizeof(notify), "%s/notify", rig.dir);
	snprintf(out, sizeof(out), "%s/rinkictl.out", rig.dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify);
	nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nfd < 0 || bind(nfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setenv("NOTIFY_SOCKET", notify, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv(RINKI_CTL_SOCKET_ENV, sock, 1);
	char extra[300];
	snprintf(extra, sizeof(extra), "ctl.socket %s\nctl.group %d", sock, STATUS_GID);
	if (h_start_sims(&rig) < 0 || h_start_rinkid(&rig, extra) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (nfd < 0)
		return 0;
	h_rig_fini(&rig);
	close(nfd);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	return h_rinkid_status() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ready_and_watchdog),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_events_sync),
	    cmocka_unit_test(test_page_test_dials),
	    cmocka_unit_test(test_sds_send),
	    cmocka_unit_test(test_bad_requests_and_no_daemon),
	    cmocka_unit_test(test_page_during_import),
	    cmocka_unit_test(test_status_degraded),
	    cmocka_unit_test(test_status_user_changes_nothing),
	    cmocka_unit_test(test_changes_through_rinkid),
	};
	return cmocka_run_group_tests_name("integration: control socket", tests, setup, teardown);
}
