/*
 * qemu_rig: start and stop the I/O board firmware in QEMU mps2-an385 for the integration tests
 * (test_io_board, fw/test_fw_qemu, fw/test_fw_boot_qemu), with its UART bridged to a pty.
 * QEMU serves the UART on a UNIX socket (`-serial unix:...,server=on,wait=off`) and the bridge
 * connects to it: socat, which avoids the connect gap of QEMU's own pty backend
 * (shared/reference/firmware-qemu.md, pitfall 1), or, when a baud rate is given, a relay child
 * that paces each direction to one byte per 10 bit times, since QEMU ignores the baud rate.
 * Children are killed by pid from qrig_fini(), atexit, the fatal-signal handlers, and by
 * PR_SET_PDEATHSIG if the test process dies; what they print goes to a file in the run
 * directory and is shown when a start fails. qrig_test_log_clean() is the cmocka test each of
 * those tests runs last: QEMU's guest-error log must stay empty. The relay also loses a frame
 * on order (qrig_drop_next, through a pipe to the child), as a noisy line does.
 *
 * QEMU runs with `-icount shift=5,sleep=on`: the guest's clock (SysTick, timers, watchdog)
 * advances with the instructions it executes (32 ns each, about its 25 MHz) and, only while
 * the guest sleeps, with the host's time. Without it the guest clock is the host's: a QEMU the
 * host does not schedule for a while finds its watchdog expired and its timers run out, and
 * the board resets or drops frames though the firmware did nothing wrong. With it, a wake-up
 * the host schedules late still moves the guest's clock on by the whole delay at once, which
 * a firmware clock that counts SysTick interrupts does not see (firmware/hal/mps2/hal_mps2.c);
 * qrig_starve() makes such a host on purpose, by stopping QEMU in short pulses.
 */
#include "qemu_rig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static struct qrig *active; /* the rig the exit paths clean up */

uint64_t qrig_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void qrig_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void qrig_print_file(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		fprintf(stderr, "  %s", buf);
	fclose(f);
}

/* --- children -------------------------------------------------------------------------- */

/* Terminate one child by pid: sig, up to 2 s, then SIGKILL. Async-signal-safe. */
static void stop_child(volatile pid_t *pid, int sig)
{
	pid_t p = *pid;

	if (p <= 0)
		return;
	*pid = -1;
	kill(p, sig);
	for (int i = 0; i < 200; i++) {
		if (waitpid(p, NULL, WNOHANG) == p)
			return;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

/* In a fresh child: die with the parent, or at once if it is already gone. */
static void child_dies_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
}

pid_t qrig_spawn(char *const argv[], const char *out_path, bool append)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	child_dies_with_parent(parent);
	int fd = open(out_path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execvp(argv[0], argv);
	_exit(127);
}

/* Wait up to ms for path to exist while *pid is alive; returns 0 or -1. */
static int wait_for_path(const char *path, volatile pid_t *pid, unsigned ms)
{
	uint64_t end = qrig_now_ms() + ms;
	struct stat st;

	while (qrig_now_ms() < end) {
		if (lstat(path, &st) == 0)
			return 0;
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = -1;
			fprintf(stderr, "child exited before %s appeared\n", path);
			return -1;
		}
		qrig_sleep_ms(10);
	}
	fprintf(stderr, "timed out waiting for %s\n", path);
	return -1;
}

/* --- paced relay ----------------------------------------------------------------------- */

/*
 * One direction of the relay: bytes waiting, when the wire is free again, and an armed drop:
 * the next drop_n bytes from where drop_prefix is found (drop_left of them still to go).
 */
struct lane {
	uint8_t buf[1 << 16];
	size_t head, tail;
	uint64_t wire_free;
	uint8_t drop_prefix[QRIG_DROP_PREFIX_MAX];
	size_t drop_plen, drop_n, drop_left;
};

/* Remove what an armed drop takes from the bytes of l that arrived at from and after. */
static void drop_in(struct lane *l, size_t from)
{
	size_t p = from;

	if (!l->drop_left) {
		if (!l->drop_n)
			return;
		/* The prefix may have begun in an earlier read whose bytes still wait. */
		size_t s = from >= l->tail + l->drop_plen ? from - l->drop_plen + 1 : l->tail;
		for (; s + l->drop_plen <= l->head; s++)
			if (memcmp(l->buf + s, l->drop_prefix, l->drop_plen) == 0)
				break;
		if (s + l->drop_plen > l->head)
			return;
		l->drop_left = l->drop_n;
		l->drop_n = 0;
		p = s;
	}
	size_t k = l->head - p < l->drop_left ? l->head - p : l->drop_left;
	memmove(l->buf + p, l->buf + p + k, l->head - p - k);
	l->head -= k;
	l->drop_left -= k;
}

/*
 * Where the bytes of l that may be sent now end: at head, or, while a drop is armed and not
 * yet found, where a tail of the waiting bytes begins that could be the start of its prefix.
 * Those are held until the next bytes say whether the prefix follows (then drop_in() takes
 * them with the frame) or not: a frame that comes in a byte at a time is dropped whole, not
 * after its first bytes went on.
 */
static size_t send_end(const struct lane *l)
{
	if (!l->drop_n || l->drop_left)
		return l->head;
	size_t waiting = l->head - l->tail;
	size_t longest = waiting < l->drop_plen - 1 ? waiting : l->drop_plen - 1;
	for (size_t q = l->head - longest; q < l->head; q++)
		if (memcmp(l->buf + q, l->drop_prefix, l->head - q) == 0)
			return q;
	return l->head;
}

/*
 * The relay loop (child process): pty master <-> QEMU's UART socket, each direction paced to
 * byte_ns a byte: a byte comes out one byte time after the wire is free for it, so a frame
 * leaves in pieces as its bytes fall due. A host that schedules the relay late makes a hole
 * between two such pieces, and a hole longer than the receiver's inter-frame gap (5 ms in the
 * QEMU firmware, FW_QEMU_GAP_US) cuts the frame in two, both halves dropped. The hole already
 * made cannot be undone, but it must not be made twice: when a wake-up finds the lane more
 * than one byte time behind (its next byte was due before the one after it would be), every
 * byte waiting in it goes out now in one write() (a frame the host wrote in one write() is
 * whole in it, as it waits there complete), not just the bytes due. wire_free still moves on
 * by one byte time a byte, so what comes next waits for the wire as before and the throughput
 * stays that of the baud rate (test_fw_boot_qemu's 32 KiB wire-time figure).
 * ctl (-1: none) carries struct qrig_drop_order from qrig_drop_next(); it is read before the
 * lanes so an order armed before a tool starts applies to that tool's first bytes, and while
 * one waits for its prefix, bytes that may begin it are held (send_end).
 */
void qrig_relay_loop(int m, int s, int ctl, uint64_t byte_ns)
{
	static struct lane lane[2]; /* QRIG_TO_BOARD: host -> board, QRIG_TO_HOST: board -> host */
	int in[2] = {m, s}, outfd[2] = {s, m};

	for (;;) {
		uint64_t t = now_ns(), due = UINT64_MAX;
		for (int d = 0; d < 2; d++) {
			struct lane *l = &lane[d];
			size_t k = 0, waiting = send_end(l) - l->tail;
			if (waiting && t > l->wire_free + 2 * byte_ns)
				k = waiting; /* late: the rest at once, no second hole */
			else
				while (k < waiting && t >= l->wire_free + (k + 1) * byte_ns)
					k++;
			if (k && write(outfd[d], l->buf + l->tail, k) != (ssize_t)k)
				_exit(1); /* the buffer is linear: see the read below */
			l->tail += k;
			l->wire_free += k * byte_ns;
			if (l->tail < send_end(l) && l->wire_free + byte_ns < due)
				due = l->wire_free + byte_ns;
		}
		struct pollfd pfd[3] = {{.fd = m, .events = POLLIN},
					{.fd = s, .events = POLLIN},
					{.fd = ctl, .events = POLLIN}};
		struct timespec to = {0, 0}, *top = NULL;
		if (due != UINT64_MAX) {
			uint64_t w = due > t ? due - t : 0;
			to.tv_sec = (time_t)(w / 1000000000u);
			to.tv_nsec = (long)(w % 1000000000u);
			top = &to;
		}
		if (ppoll(pfd, 3, top, NULL) < 0 && errno != EINTR)
			_exit(1);
		if (pfd[2].revents & (POLLIN | POLLHUP)) {
			struct qrig_drop_order o;
			ssize_t n = read(ctl, &o, sizeof(o));
			if (n == (ssize_t)sizeof(o) && o.dir < 2 && o.plen >= 1 &&
			    o.plen <= QRIG_DROP_PREFIX_MAX) {
				struct lane *l = &lane[o.dir];
				memcpy(l->drop_prefix, o.prefix, o.plen);
				l->drop_plen = o.plen;
				l->drop_n = o.n;
				l->drop_left = 0;
			} else if (n == 0) {
				ctl = -1; /* the test process closed it: poll ignores fd -1 */
			}
		}
		for (int d = 0; d < 2; d++) {
			struct lane *l = &lane[d];
			if (!(pfd[d].revents & (POLLIN | POLLHUP)))
				continue;
			if (l->head == l->tail) {
				l->head = l->tail = 0;
				if (l->wire_free < now_ns())
					l->wire_free = now_ns();
			}
			size_t room = sizeof(l->buf) - l->head; /* linear, no wrap */
			if (room == 0)
				continue;
			ssize_t n = read(in[d], l->buf + l->head, room);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EIO))
				_exit(0); /* QEMU went away */
			if (n > 0) {
				l->head += (size_t)n;
				drop_in(l, l->head - (size_t)n);
			}
		}
	}
}

/*
 * Fork the relay: connect to QEMU's socket, make a pty, link it at r->tty, relay. The write
 * end of its control pipe stays here in r->relay_ctl (close-on-exec, so no tool inherits it).
 */
static pid_t start_relay(struct qrig *r)
{
	pid_t parent = getpid();
	int cp[2];

	if (pipe2(cp, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(cp[0]);
		if (pid < 0)
			close(cp[1]);
		else
			r->relay_ctl = cp[1];
		return pid;
	}
	child_dies_with_parent(parent);
	close(cp[1]);
	fcntl(cp[0], F_SETFL, O_NONBLOCK);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(r->sock) >= sizeof(sa.sun_path))
		_exit(2);
	memcpy(sa.sun_path, r->sock, strlen(r->sock) + 1);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		_exit(2);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0)
		_exit(3);
	const char *name = ptsname(m);
	/* Keep the slave open so the master never sees a hang-up between tool runs. */
	int keep = open(name, O_RDWR | O_NOCTTY);
	struct termios t;
	if (keep < 0 || tcgetattr(keep, &t) != 0)
		_exit(4);
	cfmakeraw(&t);
	tcsetattr(keep, TCSANOW, &t);
	if (symlink(name, r->tty) != 0)
		_exit(5);
	qrig_relay_loop(m, s, cp[0], 10000000000ull / r->pace_baud); /* 10 bits a byte */
	_exit(0);
}

/* --- the rig --------------------------------------------------------------------------- */

static void at_exit(void)
{
	if (active)
		qrig_fini(active);
}

static void on_signal(int sig)
{
	at_exit();
	signal(sig, SIG_DFL);
	raise(sig);
}

const char *qrig_path(struct qrig *r, const char *name)
{
	if (r->nfiles >= QRIG_FILES_MAX)
		return NULL;
	char *p = r->files[r->nfiles];
	if (snprintf(p, QRIG_PATH_LEN, "%s/%s", r->dir, name) >= QRIG_PATH_LEN)
		return NULL;
	r->nfiles++;
	return p;
}

int qrig_init(struct qrig *r, const char *tag, const char *elf, unsigned pace_baud)
{
	static bool hooked;

	memset(r, 0, sizeof(*r));
	r->qemu = r->bridge = r->starver = -1;
	r->relay_ctl = -1;
	r->elf = elf;
	r->pace_baud = pace_baud;
	if (access(elf, R_OK) != 0) {
		fprintf(stderr, "%s: %s (run make firmware)\n", elf, strerror(errno));
		return -1;
	}
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (snprintf(r->dir, sizeof(r->dir), "%s/rinki-%.8s.XXXXXX", tmp, tag) >=
	    (int)sizeof(r->dir)) {
		fprintf(stderr, "qemu_rig: TMPDIR %s is too long\n", tmp);
		return -1;
	}
	if (!mkdtemp(r->dir)) {
		perror("mkdtemp");
		r->dir[0] = '\0';
		return -1;
	}
	r->sock = qrig_path(r, "mcu.sock");
	r->tty = qrig_path(r, "ttyMCU");
	r->qemu_log = qrig_path(r, "qemu.log");
	r->out = qrig_path(r, "children.out");
	active = r;
	if (!hooked) {
		hooked = true;
		atexit(at_exit);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		signal(SIGABRT, on_signal);
	}
	return 0;
}

int qrig_start(struct qrig *r)
{
	const char *qemu = getenv("QEMU") ? getenv("QEMU") : "qemu-system-arm";
	char serial[160], socat_pty[160], socat_unix[160];

	snprintf(serial, sizeof(serial), "unix:%s,server=on,wait=off", r->sock);
	/* clang-format off */
	char *qemu_argv[] = {
		(char *)qemu, "-M", "mps2-an385", "-display", "none", "-monitor", "none",
		"-icount", "shift=5,sleep=on", "-serial", serial, "-kernel", (char *)r->elf,
		"-d", "guest_errors,unimp", "-D", (char *)r->qemu_log, NULL,
	};
	/* clang-format on */
	unlink(r->sock);
	unlink(r->tty);
	r->qemu = qrig_spawn(qemu_argv, r->out, true);
	if (r->qemu < 0 || wait_for_path(r->sock, &r->qemu, 5000) != 0)
		goto fail;
	if (r->pace_baud) {
		r->bridge = start_relay(r);
	} else {
		snprintf(socat_pty, sizeof(socat_pty), "PTY,link=%s,raw,echo=0", r->tty);
		snprintf(socat_unix, sizeof(socat_unix), "UNIX-CONNECT:%s", r->sock);
		char *socat_argv[] = {"socat", socat_pty, socat_unix, NULL};
		r->bridge = qrig_spawn(socat_argv, r->out, true);
	}
	if (r->bridge < 0 || wait_for_path(r->tty, &r->bridge, 5000) != 0)
		goto fail;
	return 0;
fail:
	qrig_print_file(r->out);
	qrig_stop(r);
	return -1;
}

int qrig_starve(struct qrig *r, unsigned stop_ms, unsigned run_ms)
{
	pid_t parent = getpid(), q = r->qemu;

	if (q <= 0 || r->starver > 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		r->starver = pid;
		return 0;
	}
	child_dies_with_parent(parent);
	for (;;) {
		kill(q, SIGSTOP);
		qrig_sleep_ms(stop_ms);
		kill(q, SIGCONT);
		qrig_sleep_ms(run_ms);
	}
}

void qrig_unstarve(struct qrig *r)
{
	pid_t p = r->starver;

	if (p <= 0)
		return;
	r->starver = -1;
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	if (r->qemu > 0)
		kill(r->qemu, SIGCONT); /* the child may have died between its STOP and CONT */
}

int qrig_drop_next(struct qrig *r, enum qrig_dir dir, const uint8_t *prefix, size_t plen,
		   unsigned n)
{
	struct qrig_drop_order o = {.dir = (uint8_t)dir, .n = (uint8_t)n, .plen = (uint8_t)plen};

	if (r->relay_ctl < 0 || (dir != QRIG_TO_BOARD && dir != QRIG_TO_HOST) || plen < 1 ||
	    plen > QRIG_DROP_PREFIX_MAX || n < plen || n > 255)
		return -1;
	memcpy(o.prefix, prefix, plen);
	/* Smaller than PIPE_BUF: one atomic write, read whole by the relay. */
	return write(r->relay_ctl, &o, sizeof(o)) == (ssize_t)sizeof(o) ? 0 : -1;
}

void qrig_kill_qemu(struct qrig *r)
{
	if (r->qemu > 0)
		kill(r->qemu, SIGKILL);
}

void qrig_stop(struct qrig *r)
{
	qrig_unstarve(r);
	if (r->relay_ctl >= 0) {
		close(r->relay_ctl);
		r->relay_ctl = -1;
	}
	stop_child(&r->bridge, SIGTERM);
	stop_child(&r->qemu, SIGTERM);
}

void qrig_fini(struct qrig *r)
{
	qrig_stop(r);
	if (!r->dir[0])
		return;
	for (int i = 0; i < r->nfiles; i++)
		unlink(r->files[i]);
	rmdir(r->dir);
	r->dir[0] = '\0';
}

int qrig_log_check(const struct qrig *r)
{
	struct stat st;

	if (stat(r->qemu_log, &st) != 0 || st.st_size == 0)
		return 0;
	qrig_print_file(r->qemu_log);
	return -1;
}

void qrig_test_log_clean(void **state)
{
	(void)state;
	assert_non_null(active);
	if (qrig_log_check(active) != 0)
		fail_msg("%s is not empty", active->qemu_log);
}
