/*
 * harness: process management and control-socket plumbing for the
 * integration tests. Processes are recorded in a static table the moment they
 * are forked; an atexit hook and SIGINT/SIGTERM/SIGABRT/SIGSEGV handlers kill
 * whatever is still alive, so a failing assertion never leaves sims running.
 */

#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 16
static pid_t procs[MAX_PROCS];
static int rinkid_status = -1;
static struct h_rig *cur_rig;

static void kill_all(void)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		if (procs[i] > 0) {
			kill(procs[i], SIGKILL);
			waitpid(procs[i], NULL, 0);
			procs[i] = 0;
		}
	}
}

static void on_fatal(int sig)
{
	kill_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track(pid_t pid)
{
	static int hooked;
	if (!hooked) {
		atexit(kill_all);
		signal(SIGINT, on_fatal);
		signal(SIGTERM, on_fatal);
		signal(SIGABRT, on_fatal);
		signal(SIGSEGV, on_fatal);
		signal(SIGPIPE, SIG_IGN);
		hooked = 1;
	}
	for (int i = 0; i < MAX_PROCS; i++) {
		if (procs[i] == 0) {
			procs[i] = pid;
			return;
		}
	}
}

static void untrack(pid_t pid)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i] == pid)
			procs[i] = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A wait's limit only bounds a failure: never shorter than H_WAIT_MIN_MS (harness.h). */
static int wait_limit(int timeout_ms)
{
	return timeout_ms < H_WAIT_MIN_MS ? H_WAIT_MIN_MS : timeout_ms;
}

const char *h_bin(void)
{
	const char *b = getenv("RINKI_BIN");
	return b && *b ? b : "build/san/bin";
}

void h_bench_bin(void)
{
	setenv("RINKI_BIN", "build", 0);
	fprintf(stderr, "binaries: %s/\n", h_bin());
}

int h_run(char *const argv[], const char *out_path)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (out_path) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	track(pid);
	int st;
	waitpid(pid, &st, 0);
	untrack(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int h_rig_init(struct h_rig *r)
{
	memset(r, 0, sizeof(*r));
	r->radio.ctl = r->modem.ctl = -1;
	/* under $TMPDIR (tests/run-test.sh gives each step its own), else /tmp */
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (snprintf(r->dir, sizeof(r->dir), "%s/rinki-it-XXXXXX", tmp) >= (int)sizeof(r->dir)) {
		fprintf(stderr, "harness: TMPDIR %s is too long\n", tmp);
		return -1;
	}
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->db, sizeof(r->db), "%s/rinki.db", r->dir);
	snprintf(r->conf, sizeof(r->conf), "%s/rinki.conf", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/rinkid.log", r->dir);
	snprintf(r->events, sizeof(r->events), "%s/events.jsonl", r->dir);
	cur_rig = r;
	char ctl[256], out[160];
	snprintf(ctl, sizeof(ctl), "%s/rinkictl", h_bin());
	snprintf(out, sizeof(out), "%s/rinkictl.out", r->dir);
	char *argv[] = {ctl, "-d", r->db, "roster", "import", "tools/demo/roster.csv", NULL};
	if (h_run(argv, out) != 0) {
		fprintf(stderr, "harness: roster import failed, see %s\n", out);
		return -1;
	}
	return 0;
}

static int start_sim(struct h_rig *r, struct h_sim *s, const char *prog, const char *name)
{
	char bin[256], sock[100];
	snprintf(bin, sizeof(bin), "%s/%s", h_bin(), prog);
	if (snprintf(sock, sizeof(sock), "%s/%s.ctl", r->dir, name) >= (int)sizeof(sock))
		return -1;
	snprintf(s->link, sizeof(s->link), "%s/%s.tty", r->dir, name);
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char errlog[200];
		snprintf(errlog, sizeof(errlog), "%s/%s.log", r->dir, name);
		int fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDONLY);
		dup2(p[1], 1);
		if (fd >= 0)
			dup2(fd, 2);
		if (nul >= 0)
			dup2(nul, 0);
		close(p[0]);
		if (s == &r->modem && r->modem_dialect)
			execl(bin, bin, "--ctl", sock, "--link", s->link, "-v", "--dialect",
			      r->modem_dialect, (char *)NULL);
		else
			execl(bin, bin, "--ctl", sock, "--link", s->link, "-v", (char *)NULL);
		_exit(127);
	}
	track(pid);
	s->pid = pid;
	close(p[1]);
	/* first line: "pty <path>" */
	char line[256];
	size_t n = 0;
	int64_t end = now_ms() + 5000;
	while (now_ms() < end && n < sizeof(line) - 1) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t k = read(p[0], line + n, 1);
		if (k <= 0)
			break;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	/* keep the pipe's read end open in a harmless way: the sim may print again */
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	if (strncmp(line, "pty ", 4) != 0) {
		fprintf(stderr, "harness: %s did not print its pty (got '%s')\n", prog, line);
		return -1;
	}
	snprintf(s->pty, sizeof(s->pty), "%s", line + 4);
	/* connect the control socket */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (int i = 0; i < 100; i++) {
		s->ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(s->ctl, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		close(s->ctl);
		s->ctl = -1;
		usleep(20000);
	}
	fprintf(stderr, "harness: cannot connect to %s\n", sock);
	return -1;
}

int h_start_sims(struct h_rig *r)
{
	if (start_sim(r, &r->radio, "tetra-sim", "radio") < 0)
		return -1;
	return start_sim(r, &r->modem, "modem-sim", "modem");
}

/* True when the config text sets key (a line "key value"). */
static bool sets_key(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == '\t'))
			return true;
	}
	return false;
}

int h_write_conf(struct h_rig *r, const char *extra)
{
	char base[8][300];
	/* prompt.dir: the prompts make built (rinkid refuses a voice bridge without them) */
	const char *keys[8] = {"radio.port",	     "modem.port", "db.path",	 "log.level",
			       "modem.clcc_poll_ms", "ctl.socket", "prompt.dir", "events.file"};
	snprintf(base[0], sizeof(base[0]), "%s", r->radio.link);
	snprintf(base[1], sizeof(base[1]), "%s", r->modem.link);
	snprintf(base[2], sizeof(base[2]), "%s", r->db);
	snprintf(base[3], sizeof(base[3]), "info");
	snprintf(base[4], sizeof(base[4]), "200");
	snprintf(base[5], sizeof(base[5]), "%s/ctl.sock", r->dir);
	snprintf(base[6], sizeof(base[6]), "build/prompts");
	snprintf(base[7], sizeof(base[7]), "%s", r->events);
	FILE *f = fopen(r->conf, "w");
	if (!f)
		return -1;
	fprintf(f, "# written by the integration harness\n");
	for (int i = 0; i < 8; i++)
		if ((!extra || !sets_key(extra, keys[i])) &&
		    !(r->builtin_prompt_dir && !strcmp(keys[i], "prompt.dir")))
			fprintf(f, "%s %s\n", keys[i], base[i]);
	fprintf(f, "%s\n", extra ? extra : "");
	return fclose(f) == 0 ? 0 : -1;
}

int h_start_rinkid(struct h_rig *r, const char *extra)
{
	/* the event stream is kept across restarts: this start's devices are the next ones */
	int radio_up = h_ev_count(r, "device", "device=radio", "up=true", NULL);
	int modem_up = h_ev_count(r, "device", "device=modem", "up=true", NULL);
	if (radio_up < 0 || modem_up < 0 || h_spawn_rinkid(r, extra) < 0)
		return -1;
	if (h_wait_ev_count(r, radio_up + 1, 5000, "device", "device=radio", "up=true", NULL) < 0 ||
	    h_wait_ev_count(r, modem_up + 1, 5000, "device", "device=modem", "up=true", NULL) < 0) {
		fprintf(stderr, "harness: rinkid did not get both devices ready, see %s\n", r->log);
		return -1;
	}
	return 0;
}

int h_spawn_rinkid(struct h_rig *r, const char *extra)
{
	if (h_write_conf(r, extra) < 0)
		return -1;
	char bin[256];
	snprintf(bin, sizeof(bin), "%s/rinkid", h_bin());
	/* the last run's log goes now, not in the child: a wait for "terminal ready" must not
	   find the line of the rinkid before */
	int lfd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (lfd >= 0)
		close(lfd);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int nul = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		/* tests run as root, and the machine has no rinki user */
		if (r->wrap) {
			const char *argv[24];
			int n = 0;
			for (; r->wrap[n] && n < 16; n++)
				argv[n] = r->wrap[n];
			argv[n++] = bin;
			argv[n++] = "-c";
			argv[n++] = r->conf;
			if (!r->quiet)
				argv[n++] = "-d";
			if (!r->drop)
				argv[n++] = "--allow-root";
			argv[n] = NULL;
			execv(argv[0], (char *const *)argv);
			_exit(127);
		}
		const char *allow = r->drop ? NULL : "--allow-root"; /* NULL ends the list */
		if (r->quiet)
			execl(bin, bin, "-c", r->conf, allow, (char *)NULL);
		else
			execl(bin, bin, "-c", r->conf, "-d", allow, (char *)NULL);
		_exit(127);
	}
	track(pid);
	r->rinkid = pid;
	return 0;
}

static void stop(pid_t pid, int *status)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	int st;
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			untrack(pid);
			if (status)
				*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	untrack(pid);
	if (status)
		*status = -1;
}

int h_stop_sim(struct h_sim *s)
{
	if (s->pid <= 0)
		return -1;
	stop(s->pid, NULL);
	s->pid = 0;
	return 0;
}

int h_rinkid_status(void)
{
	return rinkid_status;
}

void h_rig_fini(struct h_rig *r)
{
	rinkid_status = -1;
	stop(r->rinkid, &rinkid_status);
	if (rinkid_status != 0 && r->rinkid > 0) {
		/* show rinkid's log so a failure can be read from the test output */
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", r->log);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: cannot show %s\n", r->log);
	}
	stop(r->radio.pid, NULL);
	stop(r->modem.pid, NULL);
	if (r->radio.ctl >= 0)
		close(r->radio.ctl);
	if (r->modem.ctl >= 0)
		close(r->modem.ctl);
	if (!getenv("RINKI_KEEP")) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: cannot remove %s\n", r->dir);
	} else {
		fprintf(stderr, "harness: kept %s\n", r->dir);
	}
	r->rinkid = r->radio.pid = r->modem.pid = 0;
	cur_rig = NULL;
}

/* Read what is available on the ctl socket; move complete event lines to events. */
static void pump_one(struct h_sim *s, int wait_ms)
{
	struct pollfd pfd = {.fd = s->ctl, .events = POLLIN};
	if (s->ctl < 0 || poll(&pfd, 1, wait_ms) <= 0)
		return;
	ssize_t n = read(s->ctl, s->buf + s->len, sizeof(s->buf) - s->len - 1);
	if (n <= 0)
		return;
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	/* events move out; replies stay until h_cmd takes them */
	size_t keep = 0;
	char *p = s->buf;
	char *nl;
	char kept[H_EVENTS_MAX];
	while ((nl = strchr(p, '\n')) != NULL) {
		size_t ln = (size_t)(nl - p) + 1;
		if (strncmp(p, "event ", 6) == 0) {
			if (s->elen + ln < sizeof(s->events) - 1) {
				memcpy(s->events + s->elen, p, ln);
				s->elen += ln;
				s->events[s->elen] = '\0';
			}
		} else {
			memcpy(kept + keep, p, ln);
			keep += ln;
		}
		p = nl + 1;
	}
	size_t rest = strlen(p);
	memcpy(kept + keep, p, rest);
	keep += rest;
	memcpy(s->buf, kept, keep);
	s->len = keep;
	s->buf[s->len] = '\0';
}

int h_cmd(struct h_sim *s, char *reply, size_t len, const char *fmt, ...)
{
	static char line[16384];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1)
		return -1;
	line[n++] = '\n';
	if (write(s->ctl, line, (size_t)n) != n)
		return -1;
	int64_t end = now_ms() + H_WAIT_MIN_MS;
	while (now_ms() < end) {
		char *nl = memchr(s->buf, '\n', s->len);
		if (nl) {
			size_t ln = (size_t)(nl - s->buf);
			if (reply)
				snprintf(reply, len, "%.*s", (int)ln, s->buf);
			int ok = strncmp(s->buf, "ok", 2) == 0;
			if (!ok)
				fprintf(stderr, "harness: '%.*s' -> '%.*s'\n", n > 80 ? 80 : n - 1,
					line, (int)ln, s->buf);
			memmove(s->buf, nl + 1, s->len - ln - 1);
			s->len -= ln + 1;
			return ok ? 0 : -1;
		}
		pump_one(s, 50);
	}
	fprintf(stderr, "harness: no reply to '%.*s'\n", n - 1, line);
	return -1;
}

void h_pump(struct h_rig *r, int ms)
{
	int64_t end = now_ms() + ms;
	do {
		pump_one(&r->radio, 5);
		pump_one(&r->modem, 5);
	} while (now_ms() < end);
}

/*
 * rinkid commits the call log in a writer thread: what it logged or did before an event the
 * test saw is committed once the writer has emptied <db>.queue (head == tail in its header:
 * magic, size, head, tail as u64). Wait for that, bounded, while rinkid runs, so a test that
 * reads the database after an event reads what rinkid wrote before it.
 */
static void settle(const struct h_rig *r)
{
	char path[160];
	snprintf(path, sizeof(path), "%s.queue", r->db);
	int64_t end = now_ms() + 30000;
	for (;;) {
		uint64_t ht[2] = {0, 0};
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return; /* no writer thread: commits are on the loop */
		ssize_t n = pread(fd, ht, sizeof(ht), 16);
		close(fd);
		if (n != (ssize_t)sizeof(ht) || ht[0] == ht[1])
			return;
		if (r->rinkid <= 0 || kill(r->rinkid, 0) < 0 || now_ms() >= end)
			return; /* nobody left to commit it now (a drill killed rinkid) */
		usleep(2000);
	}
}

int h_wait_event(struct h_sim *s, size_t *pos, const char *needle, int timeout_ms)
{
	timeout_ms = wait_limit(timeout_ms);
	int64_t end = now_ms() + timeout_ms;
	for (;;) {
		char *hit = strstr(s->events + *pos, needle);
		if (hit) {
			char *nl = strchr(hit, '\n');
			*pos = (size_t)((nl ? nl + 1 : hit + strlen(hit)) - s->events);
			if (cur_rig)
				settle(cur_rig);
			return 0;
		}
		if (now_ms() >= end)
			break;
		pump_one(s, 20);
		/* keep the other sim's socket drained too */
		if (cur_rig)
			pump_one(s == &cur_rig->radio ? &cur_rig->modem : &cur_rig->radio, 0);
	}
	fprintf(stderr, "harness: event '%s' did not come within %d ms\n", needle, timeout_ms);
	return -1;
}

int h_count_events(const struct h_sim *s, const char *needle)
{
	int n = 0;
	const char *p = s->events;
	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

int64_t h_event_time(const struct h_sim *s, const char *needle)
{
	const char *hit = strstr(s->events, needle);
	if (!hit)
		return -1;
	/* back to the start of the line */
	while (hit > s->events && hit[-1] != '\n')
		hit--;
	long long t;
	char kind[16];
	if (sscanf(hit, "event %15s %lld", kind, &t) != 2)
		return -1;
	return t;
}

/* After a wait failed: the end of rinkid's log, so the test's output says what it did. */
static void log_tail(const struct h_rig *r)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "tail -n 25 %s >&2", r->log);
	if (system(cmd) != 0)
		fprintf(stderr, "harness: cannot show %s\n", r->log);
}

int h_wait_log(struct h_rig *r, const char *needle, int timeout_ms)
{
	timeout_ms = wait_limit(timeout_ms);
	int64_t end = now_ms() + timeout_ms;
	do {
		FILE *f = fopen(r->log, "r");
		if (f) {
			char line[2048];
			while (fgets(line, sizeof(line), f)) {
				if (strstr(line, needle)) {
					fclose(f);
					settle(r);
					return 0;
				}
			}
			fclose(f);
		}
		if (r->radio.ctl >= 0)
			pump_one(&r->radio, 0);
		if (r->modem.ctl >= 0)
			pump_one(&r->modem, 0);
		usleep(20000);
	} while (now_ms() < end);
	fprintf(stderr, "harness: '%s' not in rinkid's log within %d ms\n", needle, timeout_ms);
	log_tail(r);
	return -1;
}

/* --- fault drills ----------------------------------------------------------- */

int h_log_count(const struct h_rig *r, const char *needle)
{
	FILE *f = fopen(r->log, "r");
	if (!f)
		return -1;
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

int h_wait_log_count(struct h_rig *r, const char *needle, int n, int timeout_ms)
{
	timeout_ms = wait_limit(timeout_ms);
	int64_t end = now_ms() + timeout_ms;
	do {
		if (h_log_count(r, needle) >= n) {
			settle(r);
			return 0;
		}
		if (r->radio.ctl >= 0)
			pump_one(&r->radio, 0);
		if (r->modem.ctl >= 0)
			pump_one(&r->modem, 0);
		usleep(20000);
	} while (now_ms() < end);
	fprintf(stderr, "harness: '%s' not %d times in rinkid's log within %d ms\n", needle, n,
		timeout_ms);
	log_tail(r);
	return -1;
}

int h_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int h_kill_rinkid(struct h_rig *r, int sig)
{
	if (r->rinkid <= 0 || kill(r->rinkid, sig) < 0)
		return -1;
	int st;
	pid_t got = waitpid(r->rinkid, &st, 0);
	untrack(r->rinkid);
	r->rinkid = 0;
	return got > 0 ? 0 : -1;
}

int h_let_through(const char *path)
{
	char p[256];
	struct stat st;
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		fprintf(stderr, "harness: let through: path too long: %s\n", path);
		return -1;
	}
	for (char *slash = strrchr(p, '/'); slash && slash != p; slash = strrchr(p, '/')) {
		*slash = '\0';
		if (stat(p, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & S_IXOTH) &&
		    chmod(p, (st.st_mode & 07777) | S_IXOTH) < 0) {
			fprintf(stderr, "harness: let through: chmod %s: %s\n", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int h_settle(struct h_rig *r)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	/* rinkid's control socket: the config's last ctl.socket line (a test may set its own) */
	FILE *f = fopen(r->conf, "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "ctl.socket %107s", sa.sun_path) != 1)
			continue;
	if (f)
		fclose(f);
	if (!sa.sun_path[0]) {
		fprintf(stderr, "harness: settle: no ctl.socket in %s\n", r->conf);
		return -1;
	}
	/* status: rinkid answers from its loop, so what it did before is written to the ports
	   by then; events-sync: and every event line it queued before is in events.file */
	static const char req[] = "status\nevents-sync\n";
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		fprintf(stderr, "harness: settle: cannot ask rinkid (%s)\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int64_t end = now_ms() + H_WAIT_MIN_MS;
	char ans[4096]; /* a reply line: RINKI_CTL_REPLY_MAX */
	size_t n = 0;
	int lines = 0;
	while (lines < 2 && now_ms() < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char c;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(fd, &c, 1) != 1)
			break;
		if (c != '\n') {
			if (n < sizeof(ans) - 1)
				ans[n++] = c;
			continue;
		}
		ans[n] = '\0';
		n = 0;
		lines++;
	}
	close(fd);
	if (lines < 2) {
		fprintf(stderr, "harness: settle: no answer from rinkid (%d of 2)\n", lines);
		return -1;
	}
	if (strcmp(ans, "ok") != 0) {
		fprintf(stderr, "harness: settle: events-sync: %s\n", ans);
		return -1;
	}
	/* the sims read their pty before their control clients in each round: their events
	   for what rinkid wrote come before these replies */
	if (r->radio.ctl >= 0 && h_cmd(&r->radio, NULL, 0, "state") < 0)
		return -1;
	if (r->modem.ctl >= 0 && h_cmd(&r->modem, NULL, 0, "state") < 0)
		return -1;
	return 0;
}

/* --- rinkid's event stream ---------------------------------------------------- */

#define EV_FIELDS 24

struct ev_field {
	char key[32];
	char val[1024]; /* a string unescaped; any other value as written */
	bool str;
};

struct ev_line {
	struct ev_field f[EV_FIELDS];
	int n;
};

/* Append code point cp to out as UTF-8. */
static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | cp >> 12);
	out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* A JSON string at *p (after its quote) into out; *p moves past the closing quote. */
static int parse_str(const char **p, char *out, size_t len)
{
	size_t o = 0;
	const char *s = *p;
	while (*s && *s != '"') {
		if (o + 4 >= len)
			return -1;
		unsigned char c = (unsigned char)*s++;
		if (c < 0x20)
			return -1; /* a raw control character: not JSON */
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		c = (unsigned char)*s++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			out[o++] = (char)c;
			break;
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u': {
			unsigned cp;
			if (strspn(s, "0123456789abcdefABCDEF") < 4 || sscanf(s, "%4x", &cp) != 1)
				return -1;
			s += 4;
			o += put_utf8(out + o, cp);
			break;
		}
		default:
			return -1;
		}
	}
	if (*s != '"')
		return -1;
	out[o] = '\0';
	*p = s + 1;
	return 0;
}

/* One line of the stream as a flat object: 0, or -1 when it is not one. */
static int parse_line(const char *s, struct ev_line *ev)
{
	ev->n = 0;
	s += strspn(s, " ");
	if (*s++ != '{')
		return -1;
	for (;;) {
		s += strspn(s, " ");
		if (*s == '}' && ev->n == 0)
			break;
		if (ev->n == EV_FIELDS || *s++ != '"')
			return -1;
		struct ev_field *f = &ev->f[ev->n++];
		if (parse_str(&s, f->key, sizeof(f->key)) < 0)
			return -1;
		s += strspn(s, " ");
		if (*s++ != ':')
			return -1;
		s += strspn(s, " ");
		f->str = *s == '"';
		if (f->str) {
			s++;
			if (parse_str(&s, f->val, sizeof(f->val)) < 0)
				return -1;
		} else {
			size_t n = strcspn(s, ",} ");
			if (n == 0 || n >= sizeof(f->val))
				return -1;
			memcpy(f->val, s, n);
			f->val[n] = '\0';
			if (strcmp(f->val, "true") && strcmp(f->val, "false") &&
			    strcmp(f->val, "null") && strspn(f->val, "-0123456789") != n)
				return -1;
			s += n;
		}
		s += strspn(s, " ");
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '}')
			break;
		return -1;
	}
	s++;
	return *s == '\n' || *s == '\0' ? 0 : -1;
}

static const struct ev_field *ev_get(const struct ev_line *ev, const char *key)
{
	for (int i = 0; i < ev->n; i++)
		if (strcmp(ev->f[i].key, key) == 0)
			return &ev->f[i];
	return NULL;
}

/* Does ev hold the one condition m ("key=value" or "key~part")? */
static bool ev_holds(const struct ev_line *ev, const char *m)
{
	size_t k = strcspn(m, "=~");
	char key[32];
	if (m[k] == '\0' || k >= sizeof(key))
		return false;
	memcpy(key, m, k);
	key[k] = '\0';
	const struct ev_field *f = ev_get(ev, key);
	if (!f)
		return false;
	if (m[k] == '=')
		return strcmp(f->val, m + k + 1) == 0;
	return f->str && strstr(f->val, m + k + 1) != NULL;
}

static bool ev_matches(const struct ev_line *ev, const char *type, const char *const *match,
		       int nmatch)
{
	const struct ev_field *t = ev_get(ev, "type");
	if (!t || !t->str || strcmp(t->val, type) != 0)
		return false;
	for (int i = 0; i < nmatch; i++)
		if (!ev_holds(ev, match[i]))
			return false;
	return true;
}

#define EV_MATCHES 8

/* Collect the NULL-terminated matches after type. -1 when there are too many. */
static int collect(va_list ap, const char **match)
{
	int n = 0;
	for (const char *m; (m = va_arg(ap, const char *)) != NULL;) {
		if (n == EV_MATCHES)
			return -1;
		match[n++] = m;
	}
	return n;
}

/* Matching lines of the stream, or -1 when a line does not parse (reported). */
static int ev_scan(const struct h_rig *r, const char *type, const char *const *match, int nmatch)
{
	FILE *f = fopen(r->events, "r");
	if (!f)
		return 0; /* not written yet */
	static struct ev_line ev;
	char line[4096];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n'))
			break; /* being written: read it next time */
		if (parse_line(line, &ev) < 0) {
			fprintf(stderr, "harness: event line does not parse: %s", line);
			fclose(f);
			return -1;
		}
		if (ev_matches(&ev, type, match, nmatch))
			n++;
	}
	fclose(f);
	return n;
}

int h_ev_count(const struct h_rig *r, const char *type, ...)
{
	const char *match[EV_MATCHES];
	va_list ap;
	va_start(ap, type);
	int nmatch = collect(ap, match);
	va_end(ap);
	return nmatch < 0 ? -1 : ev_scan(r, type, match, nmatch);
}

static int wait_count(struct h_rig *r, int n, int timeout_ms, const char *type, va_list ap)
{
	const char *match[EV_MATCHES];
	int nmatch = collect(ap, match);
	if (nmatch < 0)
		return -1;
	timeout_ms = wait_limit(timeout_ms);
	int64_t end = now_ms() + timeout_ms;
	int got;
	do {
		got = ev_scan(r, type, match, nmatch);
		if (got < 0)
			return -1;
		if (got >= n) {
			settle(r);
			return 0;
		}
		if (r->radio.ctl >= 0)
			pump_one(&r->radio, 0);
		if (r->modem.ctl >= 0)
			pump_one(&r->modem, 0);
		usleep(10000);
	} while (now_ms() < end);
	fprintf(stderr, "harness: %d event(s) '%s'", n, type);
	for (int i = 0; i < nmatch; i++)
		fprintf(stderr, " %s", match[i]);
	fprintf(stderr, " not in the stream within %d ms (%d seen); its tail:\n", timeout_ms, got);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "tail -n 15 %s >&2", r->events);
	if (system(cmd) != 0)
		fprintf(stderr, "harness: cannot show %s\n", r->events);
	log_tail(r);
	return -1;
}

int h_wait_ev_count(struct h_rig *r, int n, int timeout_ms, const char *type, ...)
{
	va_list ap;
	va_start(ap, type);
	int rc = wait_count(r, n, timeout_ms, type, ap);
	va_end(ap);
	return rc;
}

int h_wait_rinkid_event(struct h_rig *r, int timeout_ms, const char *type, ...)
{
	va_list ap;
	va_start(ap, type);
	int rc = wait_count(r, 1, timeout_ms, type, ap);
	va_end(ap);
	return rc;
}
