/*
 * web_load: does the web console slow down paging, and how does it hold up with 50 users?
 *
 * One rig (tools/demo/roster.csv, 10,000 closed incidents over the past year written
 * through the store as rinkid writes them), rinkid and the simulators from the integration
 * harness, and rinki-web on the same database and control socket. Then:
 *
 *   1. render times with one client: the on-call and call-log pages, one after another;
 *   2. page latency (tetra-sim starting the +CTICN write -> modem-sim reading the ATD, as
 *      tests/bench/page_latency.c measures it) for SECONDS with rinki-web idle;
 *   3. 50 clients log in (each from its own loopback address, 127.1.0.N, so the
 *      per-address login limit sees 50 clients, as it would in use), then for SECONDS
 *      request the on-call and call-log pages in turn, one request after another, while
 *      the same page-latency measurement runs;
 *
 * and prints page latency p50/p99 without and with the web load, the pages' latency p50/p99
 * as one client and as 50, the requests served and failed, and rinki-web's RSS (now and its
 * peak) before and after the load.
 *
 * "render" mode measures the pages alone, with no rinkid and no simulators: the South
 * Savo roster (tools/demo/south-savo.csv, patterns without an end: a year and more of
 * duty) imported over the demo one, the same 10,000 incidents, and one client asking
 * for the on-call page, the report of this month and of the past year, and the call log,
 * ROUNDS times each in turn; it prints their p50/p99 and rinki-web's RSS.
 *
 *   build/bench/web_load [SECONDS] [CLIENTS]   (default 60 and 50; RINKI_BIN: binaries)
 *   build/bench/web_load render [ROUNDS]       (default 50)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "store/db.h"
#include "store/roster.h"

#define INCIDENTS   10000
#define CLIENTS_MAX 200
#define PASSWORD    "load test password"
#define RESP_MAX    (1024 * 1024)

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile of v[0..n) (sorts v); 0 when n is 0. */
static int64_t pct(int64_t *v, size_t n, int p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp64);
	size_t i = (n * (size_t)p + 99) / 100;
	return v[i ? i - 1 : 0];
}

/* A growing list of samples (microseconds). */
struct samples {
	int64_t *v;
	size_t n, cap;
};

static int add(struct samples *s, int64_t x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		int64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

/* ---- the call log: 10,000 incidents over the past year ---------------------------------- */

static int fill_db(const char *path)
{
	struct gw_db *db;
	struct timespec ts;
	int64_t id;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000, year = 365LL * 24 * 3600 * 1000;
	if ((rc = gw_db_open_flags(path, GW_DB_NOCREATE, &db)) < 0)
		return rc;
	/* as rinkid writes them (service/call.c): taken by the first worker in 5-54 s, by
	 * step 2, nobody (unanswered), or busy */
	static const char *const outcomes[] = {"completed", "unanswered", "completed", "busy"};
	for (int i = 0; i < INCIDENTS && rc >= 0; i++) {
		int64_t at = now - year + year / INCIDENTS * i;
		struct gw_incident_rec r = {.started_ms = at,
					    .caller = "2269001",
					    .caller_name = "Poliisi, Mikkeli",
					    .line = i % 3 ? "sos" : "mhs",
					    .radio_cci = 1};
		if (i % 500 == 0 && (rc = gw_db_batch_begin(db)) < 0)
			break;
		const char *who = i % 4 == 0 ? "aino" : i % 4 == 2 ? "mikko" : NULL;
		if ((rc = gw_db_incident_open(db, &r, &id)) < 0 ||
		    (rc = gw_db_event_append(db, id, at + 40, "page",
					     "aino +358401234567 step 1 round 1")) < 0 ||
		    (i % 4 == 2 && (rc = gw_db_event_append(db, id, at + 30040, "page",
							    "mikko +358401234568 step 2 round "
							    "1")) < 0) ||
		    (who && (rc = gw_db_event_append(
				 db, id, at + 5000 + i % 50 * 1000 + (i % 4 == 2) * 30000,
				 "accepted", i % 4 ? "mikko dtmf" : "aino dtmf")) < 0) ||
		    (rc = gw_db_incident_close(db, id, at + 60000, outcomes[i % 4], -1, who)) < 0)
			break;
		if (i % 500 == 499)
			rc = gw_db_batch_commit(db);
	}
	gw_db_close(db);
	return rc < 0 ? rc : 0;
}

/* ---- rinki-web ------------------------------------------------------------------------- */

static pid_t web_pid;

static void web_kill(void)
{
	if (web_pid > 0) {
		kill(web_pid, SIGTERM);
		waitpid(web_pid, NULL, 0);
		web_pid = 0;
	}
}

/* Run rinki-web with args, stdin from `input`; returns its exit status or -1. */
static int web_run(const char *conf, const char *input, const char *arg1, const char *arg2,
		   const char *arg3, const char *arg4)
{
	char bin[256];
	int in[2];
	snprintf(bin, sizeof(bin), "%s/rinki-web", h_bin());
	if (pipe(in) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[1]);
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		execl(bin, bin, "-c", conf, "--allow-root", arg1, arg2, arg3, arg4, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	if (write(in[1], input, strlen(input)) < 0)
		perror("web_load: write");
	close(in[1]);
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Start serving; returns the port, or -1. */
static int web_start(const char *conf, const char *log)
{
	char bin[256], line[256];
	int out[2];
	snprintf(bin, sizeof(bin), "%s/rinki-web", h_bin());
	if (pipe(out) < 0)
		return -1;
	web_pid = fork();
	if (web_pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execl(bin, bin, "-c", conf, "--allow-root", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	if (web_pid < 0)
		return -1;
	atexit(web_kill);
	FILE *f = fdopen(out[0], "r");
	int port = -1;
	/* bounded: rinki-web prints this line or exits (EOF) */
	if (f && fgets(line, sizeof(line), f) &&
	    sscanf(line, "listening http://127.0.0.1:%d/", &port) != 1)
		port = -1;
	return port;
}

/* VmRSS and VmHWM of pid in KiB. */
static void rss(pid_t pid, long *now_kb, long *peak_kb)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	*now_kb = *peak_kb = -1;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", now_kb);
		sscanf(line, "VmHWM: %ld", peak_kb);
	}
	if (f)
		fclose(f);
}

/* ---- an HTTP/1.1 client, one connection per request ------------------------------------ */

struct client {
	pthread_t th;
	int idx;
	char session[160];     /* "rinki_session=..." */
	struct samples lat[2]; /* oncall, log */
	long failed;
	char why[160];
};

static int port;
static atomic_bool go, stop;
static atomic_int logged_in, login_failed;

/* One request from source address 127.1.0.(idx+1); the whole answer into resp. */
static int request(int idx, const char *method, const char *path, const char *cookie,
		   const char *body, char *resp, size_t cap, size_t *len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 60};
	char req[1024];

	if (fd < 0)
		return -1;
	src.sin_addr.s_addr = htonl(0x7f010000u + (uint32_t)idx + 1);
	dst.sin_addr.s_addr = htonl(0x7f000001u);
	dst.sin_port = htons((uint16_t)port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			 "Accept-Language: en\r\n",
			 method, path);
	if (cookie)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Cookie: %s\r\n", cookie);
	if (body)
		n += snprintf(req + n, sizeof(req) - (size_t)n,
			      "Content-Type: application/x-www-form-urlencoded\r\n"
			      "Content-Length: %zu\r\n\r\n%s",
			      strlen(body), body);
	else
		n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	if (n >= (int)sizeof(req)) {
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
	    write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	*len = 0;
	for (;;) {
		ssize_t r = read(fd, resp + *len, cap - 1 - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*len += (size_t)r;
		if (*len == cap - 1)
			break;
	}
	resp[*len] = '\0';
	close(fd);
	int status = 0;
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		return -1;
	return status;
}

/* The value of Set-Cookie name=... in resp into out ("name=value"). */
static int cookie_of(const char *resp, const char *name, char *out, size_t len)
{
	char want[64];
	snprintf(want, sizeof(want), "Set-Cookie: %s=", name);
	const char *p = strstr(resp, want);
	if (!p)
		return -1;
	p += strlen("Set-Cookie: ");
	snprintf(out, len, "%.*s", (int)strcspn(p, ";\r"), p);
	return 0;
}

static int login(struct client *c, char *resp)
{
	char tok[200], body[512], cookie[200];
	size_t len;
	if (request(c->idx, "GET", "/login", NULL, NULL, resp, RESP_MAX, &len) != 200 ||
	    cookie_of(resp, "rinki_login", cookie, sizeof(cookie)) < 0) {
		snprintf(c->why, sizeof(c->why), "GET /login failed");
		return -1;
	}
	snprintf(tok, sizeof(tok), "%s", cookie + strlen("rinki_login="));
	snprintf(body, sizeof(body), "csrf=%s&user=load&password=load+test+password", tok);
	int st = request(c->idx, "POST", "/login", cookie, body, resp, RESP_MAX, &len);
	if (st != 303 || cookie_of(resp, "rinki_session", c->session, sizeof(c->session)) < 0) {
		snprintf(c->why, sizeof(c->why), "POST /login answered %d", st);
		return -1;
	}
	return 0;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char *resp = malloc(RESP_MAX);
	size_t len;

	if (!resp || login(c, resp) < 0) {
		atomic_fetch_add(&login_failed, 1);
		free(resp);
		return NULL;
	}
	atomic_fetch_add(&logged_in, 1);
	while (!atomic_load(&go))
		usleep(1000);
	for (int k = c->idx; !atomic_load(&stop); k++) {
		int which = k % 2;
		int64_t t0 = mono_us();
		int st = request(c->idx, "GET", which ? "/log" : "/oncall", c->session, NULL, resp,
				 RESP_MAX, &len);
		int64_t dt = mono_us() - t0;
		if (st == 200 && strstr(resp, "</html>"))
			add(&c->lat[which], dt);
		else
			c->failed++;
	}
	free(resp);
	return NULL;
}

/* ---- page latency (as tests/bench/page_latency.c) ------------------------------------- */

/* One call: +CTICN written, ATD read: latency (ns, the simulators' clocks) into s. */
static int one_call(struct h_rig *rig, int i, struct samples *s)
{
	char reply[128];
	long long t0 = 0;
	size_t mp = 0;
	char *t;
	int cci = i % 200 + 1;

	rig->modem.elen = 0;
	rig->modem.events[0] = '\0';
	if (h_cmd(&rig->radio, reply, sizeof(reply), "call 2269001 cci=%d", cci) < 0 ||
	    !(t = strstr(reply, "t0=")) || sscanf(t, "t0=%lld", &t0) != 1 ||
	    h_wait_event(&rig->modem, &mp, "event dial", 5000) < 0)
		return -1;
	add(s, h_event_time(&rig->modem, "event dial") - t0);
	if (h_cmd(&rig->radio, NULL, 0, "release %d 1", cci) < 0)
		return -1;
	return h_wait_event(&rig->modem, &mp, "AT+CHUP", 5000);
}

/* Calls for `seconds`, 50 ms apart. */
static int calls_for(struct h_rig *rig, int seconds, int *i, struct samples *s)
{
	int64_t end = mono_us() + (int64_t)seconds * 1000000;
	while (mono_us() < end) {
		if (one_call(rig, (*i)++, s) < 0)
			return -1;
		h_pump(rig, 50);
	}
	return 0;
}

/* p50 and p99 of s, whose samples are in units of 1/unit of uname. */
static void print_lat(const char *what, struct samples *s, double unit, const char *uname)
{
	printf("  %-40s n %6zu  p50 %9.1f  p99 %9.1f %s\n", what, s->n,
	       (double)pct(s->v, s->n, 50) / unit, (double)pct(s->v, s->n, 99) / unit, uname);
}

/* Local (Helsinki) "YYYY-MM-DD" of t_ms. */
static void local_date(int64_t t_ms, char *buf, size_t len)
{
	time_t t = (time_t)(t_ms / 1000 + (int64_t)gw_roster_utc_offset_min(t_ms) * 60);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

/* web_load render [ROUNDS]: the pages' render times alone (see the top of the file). */
static int render_main(int rounds)
{
	static struct h_rig rig;
	char conf[192], users[192], log[192], ctl[256], out[192], year[96],
	    *resp = malloc(RESP_MAX);
	int rc;
	long kb, peak;

	if (!resp || h_rig_init(&rig) < 0)
		return 1;
	snprintf(ctl, sizeof(ctl), "%s/rinkictl", h_bin());
	snprintf(out, sizeof(out), "%s/south-savo.out", rig.dir);
	char *imp[] = {ctl,	    "-d", rig.db, "roster", "import", "tools/demo/south-savo.csv",
		       "--replace", NULL};
	if (h_run(imp, out) != 0)
		return fprintf(stderr, "web_load: roster import failed, see %s\n", out), 1;
	int64_t t0 = mono_us();
	if ((rc = fill_db(rig.db)) < 0) {
		fprintf(stderr, "web_load: filling %s: %s\n", rig.db, strerror(-rc));
		return 1;
	}
	printf("web render: south-savo roster, %d incidents written in %.1f s, %d rounds\n",
	       INCIDENTS, (double)(mono_us() - t0) / 1e6, rounds);
	snprintf(conf, sizeof(conf), "%s/web.conf", rig.dir);
	snprintf(users, sizeof(users), "%s/users.db", rig.dir);
	snprintf(log, sizeof(log), "%s/web.log", rig.dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		return 1;
	fprintf(f, "db.path %s\nctl.socket %s/ctl.sock\nweb.listen 127.0.0.1:0\nweb.users %s\n",
		rig.db, rig.dir, users);
	fclose(f);
	if (web_run(conf, PASSWORD "\n", "user", "add", "load", "coordinator") != 0 ||
	    (port = web_start(conf, log)) <= 0) {
		fprintf(stderr, "web_load: rinki-web did not start, see %s\n", log);
		return 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000;
	char d0[16], d1[16];
	local_date(now - 364 * 86400000LL, d0, sizeof(d0));
	local_date(now, d1, sizeof(d1));
	snprintf(year, sizeof(year), "/report?from=%s&to=%s", d0, d1);
	const char *paths[] = {"/oncall", "/report", year, "/log"};
	const char *names[] = {"on call (14 days)", "report, this month", "report, past year",
			       "call log (7 days)"};
	struct samples lat[4] = {{0}};
	size_t bytes[4] = {0};
	struct client solo = {.idx = 0};
	if (login(&solo, resp) < 0) {
		fprintf(stderr, "web_load: %s\n", solo.why);
		return 1;
	}
	for (int k = 0; k < rounds * 4; k++) {
		size_t len;
		int64_t a = mono_us();
		if (request(solo.idx, "GET", paths[k % 4], solo.session, NULL, resp, RESP_MAX,
			    &len) != 200)
			return fprintf(stderr, "web_load: %s failed\n", paths[k % 4]), 1;
		add(&lat[k % 4], mono_us() - a);
		bytes[k % 4] = len;
	}
	rss(web_pid, &kb, &peak);
	printf(" web pages, one client (request sent -> answer read):\n");
	for (int w = 0; w < 4; w++) {
		char what[96];
		snprintf(what, sizeof(what), "%s, %zu KB", names[w], bytes[w] / 1024);
		print_lat(what, &lat[w], 1000, "ms");
	}
	printf(" rinki-web RSS after them: %ld KiB (peak %ld KiB)\n", kb, peak);
	web_kill();
	h_rig_fini(&rig);
	return 0;
}

int main(int argc, char **argv)
{
	h_bench_bin();
	if (argc > 1 && strcmp(argv[1], "render") == 0) {
		int rounds = argc > 2 ? atoi(argv[2]) : 50;
		if (rounds < 1 || rounds > 100000)
			return fprintf(stderr, "usage: web_load render [ROUNDS]\n"), 2;
		return render_main(rounds);
	}
	int seconds = argc > 1 ? atoi(argv[1]) : 60;
	int nclients = argc > 2 ? atoi(argv[2]) : 50;
	if (seconds < 1 || seconds > 3600 || nclients < 1 || nclients > CLIENTS_MAX) {
		fprintf(stderr, "usage: web_load [SECONDS 1..3600] [CLIENTS 1..%d]\n", CLIENTS_MAX);
		return 2;
	}
	static struct h_rig rig;
	static struct client cl[CLIENTS_MAX];
	struct samples idle = {0}, loaded = {0}, one[2] = {{0}, {0}};
	char conf[192], users[192], log[192], line[512], *resp = malloc(RESP_MAX);
	int calls = 0, rc;
	long kb, peak;

	signal(SIGPIPE, SIG_IGN);
	if (!resp || h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return 1;
	int64_t t0 = mono_us();
	if ((rc = fill_db(rig.db)) < 0) {
		fprintf(stderr, "web_load: filling %s: %s\n", rig.db, strerror(-rc));
		return 1;
	}
	printf("web load: %d incidents written in %.1f s; %d clients, %d s per phase\n", INCIDENTS,
	       (double)(mono_us() - t0) / 1e6, nclients, seconds);
	rig.quiet = 1;
	if (h_cmd(&rig.modem, NULL, 0, "callee default noanswer") < 0 ||
	    h_start_rinkid(&rig, "log.level notice\nmodem.clcc_poll_ms 500") < 0)
		return 1;
	snprintf(conf, sizeof(conf), "%s/web.conf", rig.dir);
	snprintf(users, sizeof(users), "%s/users.db", rig.dir);
	snprintf(log, sizeof(log), "%s/web.log", rig.dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		return 1;
	fprintf(f, "db.path %s\nctl.socket %s/ctl.sock\nweb.listen 127.0.0.1:0\nweb.users %s\n",
		rig.db, rig.dir, users);
	fclose(f);
	if (web_run(conf, PASSWORD "\n", "user", "add", "load", "coordinator") != 0 ||
	    (port = web_start(conf, log)) <= 0) {
		fprintf(stderr, "web_load: rinki-web did not start, see %s\n", log);
		return 1;
	}

	/* 1. one client: the pages' own render times */
	struct client solo = {.idx = CLIENTS_MAX};
	if (login(&solo, resp) < 0) {
		fprintf(stderr, "web_load: %s\n", solo.why);
		return 1;
	}
	for (int k = 0; k < 40; k++) {
		size_t len;
		int64_t a = mono_us();
		if (request(solo.idx, "GET", k % 2 ? "/log" : "/oncall", solo.session, NULL, resp,
			    RESP_MAX, &len) != 200)
			return fprintf(stderr, "web_load: a page failed\n"), 1;
		add(&one[k % 2], mono_us() - a);
	}
	rss(web_pid, &kb, &peak);
	snprintf(line, sizeof(line), "rinki-web RSS before the load: %ld KiB (peak %ld KiB)", kb,
		 peak);

	/* 2. page latency with rinki-web idle */
	if (calls_for(&rig, seconds, &calls, &idle) < 0)
		return fprintf(stderr, "web_load: a call did not page\n"), 1;

	/* 3. the clients log in, then load the pages while the calls go on */
	for (int i = 0; i < nclients; i++) {
		cl[i].idx = i;
		if (pthread_create(&cl[i].th, NULL, client_main, &cl[i]) != 0)
			return 1;
	}
	int64_t wait_end = mono_us() + 300 * 1000000LL; /* argon2id: 50 logins take a while */
	while (atomic_load(&logged_in) + atomic_load(&login_failed) < nclients &&
	       mono_us() < wait_end)
		h_pump(&rig, 100);
	if (atomic_load(&logged_in) < nclients) {
		fprintf(stderr, "web_load: %d of %d clients logged in\n", atomic_load(&logged_in),
			nclients);
		atomic_store(&stop, true);
		atomic_store(&go, true);
		for (int i = 0; i < nclients; i++)
			pthread_join(cl[i].th, NULL);
		for (int i = 0; i < nclients; i++)
			if (cl[i].why[0])
				fprintf(stderr, "  client %d: %s\n", i, cl[i].why);
		return 1;
	}
	atomic_store(&go, true);
	rc = calls_for(&rig, seconds, &calls, &loaded);
	atomic_store(&stop, true);
	long kb2, peak2;
	rss(web_pid, &kb2, &peak2);
	struct samples all[2] = {{0}, {0}};
	long failed = 0;
	for (int i = 0; i < nclients; i++) {
		pthread_join(cl[i].th, NULL);
		for (int w = 0; w < 2; w++)
			for (size_t k = 0; k < cl[i].lat[w].n; k++)
				add(&all[w], cl[i].lat[w].v[k]);
		failed += cl[i].failed;
	}
	if (rc < 0)
		return fprintf(stderr, "web_load: a call did not page under the web load\n"), 1;

	printf(" page latency (+CTICN write started -> ATD read):\n");
	print_lat("rinki-web idle", &idle, 1000, "us");
	char what[96];
	snprintf(what, sizeof(what), "%d web clients loading pages", nclients);
	print_lat(what, &loaded, 1000, "us");
	printf(" web pages (request sent -> answer read):\n");
	print_lat("on call, one client", &one[0], 1000, "ms");
	print_lat("call log (7 days), one client", &one[1], 1000, "ms");
	snprintf(what, sizeof(what), "on call, %d clients", nclients);
	print_lat(what, &all[0], 1000, "ms");
	snprintf(what, sizeof(what), "call log (7 days), %d clients", nclients);
	print_lat(what, &all[1], 1000, "ms");
	printf("  %zu pages served in %d s (%.1f/s), %ld failed\n", all[0].n + all[1].n, seconds,
	       (double)(all[0].n + all[1].n) / seconds, failed);
	printf(" %s\n rinki-web RSS after the load:  %ld KiB (peak %ld KiB)\n", line, kb2, peak2);
	web_kill();
	h_rig_fini(&rig);
	return failed ? 1 : 0;
}
