/*
 * sim_common: pty, control channel, line reader, clock, timers and the poll loop shared by
 * tetra-sim and modem-sim.
 *
 * The device side is a pty master; the slave path is what the host opens. The sim keeps
 * one slave fd open itself so the master never sees a hang-up while the host is away
 * (bytes written then wait in the tty queue, as with a device that keeps talking).
 * Host lines end at CR, LF, Ctrl-Z or ESC; empty CR/LF lines are skipped; a line longer
 * than SIM_LINE_MAX is dropped up to its terminator and reported as "event rx-overflow".
 * The control channel is line based: every command gets one "ok"/"err" reply, and every
 * client gets the event lines. Event text escapes control bytes, bytes >= 0x7f and the
 * backslash as \xNN / \\ so that one event is always one line. Signals only set a flag
 * (SIGTERM/SIGINT are blocked except inside ppoll), so shutdown happens in the loop.
 */
#include "core/hex.h"
#include "sim_common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

int64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sim_warn(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", s->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Escape a byte string for an event or log line; returns the length written to out. */
static size_t escape(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (ch < 0x20 || ch >= 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02X", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return o;
}

static void vlog_line(struct sim *s, const char *dir, int64_t t, const char *line, size_t len)
{
	char esc[SIM_LINE_MAX * 4 + 8];

	if (!s->verbose)
		return;
	escape(line, len, esc, sizeof(esc));
	fprintf(stderr, "[%lld.%06lld] %s %s\n", (long long)(t / 1000000000),
		(long long)(t % 1000000000 / 1000), dir, esc);
}

/* --- timers --------------------------------------------------------------- */

void sim_timer_init(struct sim *s, struct sim_timer *t, void (*cb)(struct sim *s, void *arg),
		    void *arg)
{
	t->due_ns = 0;
	t->cb = cb;
	t->arg = arg;
	t->next = s->timers;
	s->timers = t;
}

void sim_timer_arm(struct sim_timer *t, int64_t delay_ns)
{
	int64_t due = sim_now_ns() + (delay_ns > 0 ? delay_ns : 0);

	t->due_ns = due > 0 ? due : 1;
}

void sim_timer_cancel(struct sim_timer *t)
{
	t->due_ns = 0;
}

bool sim_timer_armed(const struct sim_timer *t)
{
	return t->due_ns != 0;
}

/* Poll timeout in ms until the nearest timer, -1 if none is armed. */
static int next_timeout_ms(struct sim *s)
{
	int64_t best = 0;
	int64_t now;

	for (struct sim_timer *t = s->timers; t; t = t->next)
		if (t->due_ns && (!best || t->due_ns < best))
			best = t->due_ns;
	if (!best)
		return -1;
	now = sim_now_ns();
	if (best <= now)
		return 0;
	if (best - now > 3600LL * 1000000000)
		return 3600 * 1000;
	return (int)((best - now + 999999) / 1000000);
}

static void run_timers(struct sim *s)
{
	int64_t now = sim_now_ns();

	for (struct sim_timer *t = s->timers; t; t = t->next) {
		if (t->due_ns && t->due_ns <= now) {
			t->due_ns = 0;
			t->cb(s, t->arg);
			sim_flush(s);
		}
	}
}

/* --- small parsers -------------------------------------------------------- */

int sim_parse_long(const char *str, long min, long max, long *out)
{
	char *end;
	long v;

	if (!str || !*str || (*str != '-' && (*str < '0' || *str > '9')))
		return -EINVAL;
	errno = 0;
	v = strtol(str, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

bool sim_is_digits(const char *str, size_t maxlen)
{
	size_t n = 0;

	for (; str[n]; n++)
		if (str[n] < '0' || str[n] > '9')
			return false;
	return n >= 1 && n <= maxlen;
}

int sim_hex_decode(const char *hex, uint8_t *buf, size_t cap)
{
	size_t len = strlen(hex);

	if (len % 2)
		return -EINVAL;
	if (len / 2 > cap)
		return -E2BIG;
	for (size_t i = 0; i < len; i += 2) {
		int hi = gw_hexval((unsigned char)hex[i]);
		int lo = gw_hexval((unsigned char)hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		buf[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

char *sim_next_token(char **p)
{
	char *s = *p;
	char *tok;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	tok = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return tok;
}

/* --- output to control clients ------------------------------------------- */

static void client_close(struct sim_client *c)
{
	if (c->in_fd > 1)
		close(c->in_fd);
	c->in_fd = -1;
	c->out_fd = -1;
	c->inlen = 0;
	c->outlen = 0;
	c->discarding = false;
}

static void client_flush(struct sim_client *c)
{
	size_t done = 0;

	while (done < c->outlen) {
		ssize_t n = write(c->out_fd, c->out + done, c->outlen - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (c->out_fd == STDOUT_FILENO) { /* stdout gone: keep taking commands */
				done = c->outlen;
				break;
			}
			client_close(c);
			return;
		}
		done += (size_t)n;
	}
	memmove(c->out, c->out + done, c->outlen - done);
	c->outlen -= done;
}

static void client_send(struct sim_client *c, const char *line, size_t len)
{
	if (c->in_fd < 0)
		return;
	if (c->outlen + len + 1 > sizeof(c->out)) {
		/* A client that does not read its events is dropped, not waited for. */
		fprintf(stderr, "control client not reading, dropped\n");
		client_close(c);
		return;
	}
	memcpy(c->out + c->outlen, line, len);
	c->out[c->outlen + len] = '\n';
	c->outlen += len + 1;
	client_flush(c);
}

void sim_reply(struct sim_client *c, const char *fmt, ...)
{
	char line[SIM_LINE_MAX * 4 + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	client_send(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void event_send(struct sim *s, const char *line, size_t len)
{
	for (int i = 0; i <= SIM_MAX_CLIENTS; i++)
		if (s->clients[i].in_fd >= 0 && s->clients[i].events)
			client_send(&s->clients[i], line, len);
}

void sim_event(struct sim *s, const char *fmt, ...)
{
	char line[SIM_LINE_MAX * 4 + 64];
	va_list ap;
	int n;

	memcpy(line, "event ", 6);
	va_start(ap, fmt);
	n = vsnprintf(line + 6, sizeof(line) - 6, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 6)
		n = (int)(sizeof(line) - 7);
	event_send(s, line, (size_t)n + 6);
}

/* "event <kind> <t_ns> <escaped bytes>" */
static void event_line(struct sim *s, const char *kind, int64_t t, const char *buf, size_t len)
{
	char line[SIM_LINE_MAX * 4 + 64];
	int n = snprintf(line, sizeof(line), "event %s %lld ", kind, (long long)t);

	n += (int)escape(buf, len, line + n, sizeof(line) - (size_t)n);
	event_send(s, line, (size_t)n);
}

/* --- output to the pty ---------------------------------------------------- */

static void stage(struct sim *s, const void *buf, size_t len, size_t show_off, size_t show_len)
{
	if (s->txlen + len > sizeof(s->txbuf) || s->ntxlines == SIM_TX_LINES)
		sim_flush(s);
	if (len > sizeof(s->txbuf)) {
		sim_warn(s, "pty output of %zu bytes too long, dropped", len);
		return;
	}
	s->txlines[s->ntxlines].off = s->txlen + show_off;
	s->txlines[s->ntxlines].len = show_len;
	s->ntxlines++;
	memcpy(s->txbuf + s->txlen, buf, len);
	s->txlen += len;
}

static void vstage_line(struct sim *s, bool lead_crlf, const char *fmt, va_list ap)
{
	char buf[SIM_LINE_MAX + 8];
	size_t off = lead_crlf ? 2 : 0;
	int n;

	memcpy(buf, "\r\n", 2);
	n = vsnprintf(buf + off, sizeof(buf) - off - 2, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf) - off - 2)
		n = (int)(sizeof(buf) - off - 3);
	memcpy(buf + off + (size_t)n, "\r\n", 2);
	stage(s, buf, off + (size_t)n + 2, off, (size_t)n);
}

void sim_out(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstage_line(s, true, fmt, ap);
	va_end(ap);
}

void sim_out_cont(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstage_line(s, false, fmt, ap);
	va_end(ap);
}

void sim_out_bytes(struct sim *s, const void *buf, size_t len, size_t show_len)
{
	stage(s, buf, len, 0, show_len < len ? show_len : len);
}

/*
 * Write all of buf to the master. The master is non-blocking; if the tty queue is full
 * (nobody reads the slave) wait up to 200 ms for room, then drop the rest as a real
 * serial line would.
 */
static int pty_write(struct sim *s, const char *buf, size_t len)
{
	size_t done = 0;
	int64_t give_up = sim_now_ns() + 200000000;

	while (done < len && s->master >= 0) {
		ssize_t n = write(s->master, buf + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && sim_now_ns() < give_up) {
			struct pollfd pfd = {.fd = s->master, .events = POLLOUT};

			poll(&pfd, 1, 10);
			continue;
		}
		sim_warn(s, "pty write: %s; %zu of %zu bytes dropped",
			 n < 0 ? strerror(errno) : "short write", len - done, len);
		sim_event(s, "tx-dropped %zu", len - done);
		return -EIO;
	}
	return 0;
}

int64_t sim_flush(struct sim *s)
{
	int64_t t;

	if (!s->txlen)
		return 0;
	if ((s->silent && !s->in_ctl) || s->master < 0) {
		s->txlen = 0;
		s->ntxlines = 0;
		return 0;
	}
	s->flush_start_ns = sim_now_ns();
	pty_write(s, s->txbuf, s->txlen);
	t = sim_now_ns();
	for (size_t i = 0; i < s->ntxlines; i++) {
		const char *line = s->txbuf + s->txlines[i].off;

		vlog_line(s, "tx", t, line, s->txlines[i].len);
		event_line(s, "tx", t, line, s->txlines[i].len);
	}
	s->txlen = 0;
	s->ntxlines = 0;
	return t;
}

/* --- pty ------------------------------------------------------------------ */

static int update_link(struct sim *s)
{
	char tmp[PATH_MAX];

	if (!s->link_path)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", s->link_path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (symlink(s->pty_path, tmp) < 0 || rename(tmp, s->link_path) < 0) {
		int err = errno;

		unlink(tmp);
		sim_warn(s, "link %s -> %s: %s", s->link_path, s->pty_path, strerror(err));
		return -err;
	}
	return 0;
}

static void pty_close(struct sim *s)
{
	if (s->master >= 0)
		close(s->master);
	if (s->slave >= 0)
		close(s->slave);
	s->master = -1;
	s->slave = -1;
	s->rxlen = 0;
	s->rx_discarding = false;
	s->txlen = 0;
	s->ntxlines = 0;
}

static void print_pty(struct sim *s)
{
	char line[sizeof(s->pty_path) + 8];
	int n = snprintf(line, sizeof(line), "pty %s\n", s->pty_path);

	if (write(STDOUT_FILENO, line, (size_t)n) < 0) {
		/* stdout closed: nothing to tell anyone */
	}
}

static int pty_open(struct sim *s)
{
	struct termios tio;
	const char *name;
	int err;

	s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (s->master < 0) {
		err = errno;
		sim_warn(s, "posix_openpt: %s", strerror(err));
		return -err;
	}
	if (grantpt(s->master) < 0 || unlockpt(s->master) < 0 || !(name = ptsname(s->master))) {
		err = errno;
		sim_warn(s, "grantpt/unlockpt/ptsname: %s", strerror(err));
		goto fail;
	}
	if (strlen(name) >= sizeof(s->pty_path)) {
		err = ENAMETOOLONG;
		goto fail;
	}
	strcpy(s->pty_path, name);
	s->slave = open(s->pty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->slave < 0) {
		err = errno;
		sim_warn(s, "open %s: %s", s->pty_path, strerror(err));
		goto fail;
	}
	if (tcgetattr(s->slave, &tio) < 0) {
		err = errno;
		sim_warn(s, "tcgetattr %s: %s", s->pty_path, strerror(err));
		goto fail;
	}
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	if (tcsetattr(s->slave, TCSANOW, &tio) < 0) {
		err = errno;
		sim_warn(s, "tcsetattr %s: %s", s->pty_path, strerror(err));
		goto fail;
	}
	return 0;
fail:
	pty_close(s);
	return -err;
}

int sim_pty_reopen(struct sim *s)
{
	int ret;

	pty_close(s);
	ret = pty_open(s);
	if (ret < 0)
		return ret;
	print_pty(s);
	update_link(s);
	sim_event(s, "pty %s", s->pty_path);
	return 0;
}

static void pty_dispatch(struct sim *s, size_t len, int term, int64_t t)
{
	s->rxbuf[len] = '\0';
	vlog_line(s, "rx", t, s->rxbuf, len);
	event_line(s, "rx", t, s->rxbuf, len);
	if (s->silent)
		return;
	if (s->echo) {
		char echo[SIM_LINE_MAX + 1];

		memcpy(echo, s->rxbuf, len);
		echo[len] = (char)term;
		sim_out_bytes(s, echo, len + 1, len);
	}
	s->ops->pty_line(s, s->rxbuf, len, term, t);
	sim_flush(s);
}

static void pty_readable(struct sim *s)
{
	char buf[4096];
	ssize_t n;
	int64_t t;

	n = read(s->master, buf, sizeof(buf));
	if (n <= 0) {
		/* EAGAIN, or EIO while no slave is open (cannot happen while we hold one) */
		return;
	}
	t = sim_now_ns();
	for (ssize_t i = 0; i < n && s->master >= 0; i++) {
		char ch = buf[i];
		bool term = ch == '\r' || ch == '\n' || ch == 0x1a || ch == 0x1b;

		if (!term) {
			if (s->rxlen < SIM_LINE_MAX)
				s->rxbuf[s->rxlen++] = ch;
			else
				s->rx_discarding = true;
			continue;
		}
		if (s->rx_discarding) {
			sim_warn(s, "host line longer than %d bytes dropped", SIM_LINE_MAX);
			sim_event(s, "rx-overflow %lld", (long long)t);
			s->rxlen = 0;
			s->rx_discarding = false;
			continue;
		}
		if (s->rxlen == 0 && (ch == '\r' || ch == '\n'))
			continue;
		pty_dispatch(s, s->rxlen, ch, t);
		s->rxlen = 0;
	}
}

/* --- control channel ------------------------------------------------------ */

static void ctl_rawbytes(struct sim *s, struct sim_client *c, const char *hex)
{
	uint8_t buf[SIM_LINE_MAX / 2];
	int n = sim_hex_decode(hex, buf, sizeof(buf));

	if (n <= 0) {
		sim_reply(c, "err rawbytes needs an even number of hex digits");
		return;
	}
	sim_flush(s);
	sim_out_bytes(s, buf, (size_t)n, (size_t)n);
	sim_reply(c, "ok t=%lld", (long long)sim_flush(s));
}

static int on_off(const char *arg, bool *out)
{
	if (!strcmp(arg, "on"))
		*out = true;
	else if (!strcmp(arg, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static void ctl_dispatch(struct sim *s, struct sim_client *c, char *line)
{
	char *args = line;
	char *cmd;
	bool flag;

	cmd = sim_next_token(&args);
	if (!cmd) {
		sim_reply(c, "err empty command");
		return;
	}
	s->in_ctl = true;
	if (!strcmp(cmd, "silent") || !strcmp(cmd, "echo")) {
		if (on_off(args, &flag) < 0) {
			sim_reply(c, "err usage: %s on|off", cmd);
		} else {
			*(*cmd == 's' ? &s->silent : &s->echo) = flag;
			sim_reply(c, "ok");
		}
	} else if (!strcmp(cmd, "raw")) {
		sim_flush(s);
		sim_out(s, "%s", args);
		sim_reply(c, "ok t=%lld", (long long)sim_flush(s));
	} else if (!strcmp(cmd, "rawbytes")) {
		ctl_rawbytes(s, c, args);
	} else if (!strcmp(cmd, "quit")) {
		s->quit = true;
		sim_reply(c, "ok");
	} else if (!strcmp(cmd, "hangup-port")) {
		if (*args)
			sim_reply(c, "err hangup-port takes no arguments");
		else if (sim_pty_reopen(s) < 0)
			sim_reply(c, "err cannot open a new pty");
		else
			sim_reply(c, "ok pty=%s", s->pty_path);
	} else if (s->ops->ctl(s, c, cmd, args) == -ENOENT) {
		sim_reply(c, "err unknown command %s", cmd);
	}
	sim_flush(s);
	s->in_ctl = false;
}

/* Read from a control client and run every complete line; returns -1 on EOF/error. */
static int client_readable(struct sim *s, struct sim_client *c)
{
	char buf[4096];
	ssize_t n = read(c->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return -1;
	for (ssize_t i = 0; i < n && c->in_fd >= 0; i++) {
		if (buf[i] != '\n') {
			if (c->inlen < SIM_LINE_MAX)
				c->in[c->inlen++] = buf[i];
			else
				c->discarding = true;
			continue;
		}
		if (c->discarding) {
			sim_reply(c, "err line longer than %d bytes", SIM_LINE_MAX);
		} else {
			if (c->inlen && c->in[c->inlen - 1] == '\r')
				c->inlen--;
			c->in[c->inlen] = '\0';
			ctl_dispatch(s, c, c->in);
		}
		c->inlen = 0;
		c->discarding = false;
	}
	return 0;
}

static void accept_client(struct sim *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 1; i <= SIM_MAX_CLIENTS; i++) {
		struct sim_client *c = &s->clients[i];

		if (c->in_fd < 0) {
			c->in_fd = fd;
			c->out_fd = fd;
			c->events = true;
			c->inlen = 0;
			c->outlen = 0;
			c->discarding = false;
			return;
		}
	}
	if (write(fd, "err too many clients\n", 21) < 0) {
		/* closing anyway */
	}
	close(fd);
}

static int listen_open(struct sim *s)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int err;

	if (strlen(s->ctl_path) >= sizeof(addr.sun_path)) {
		sim_warn(s, "control socket path too long: %s", s->ctl_path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, s->ctl_path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		goto fail;
	unlink(s->ctl_path);
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, 8) < 0)
		goto fail;
	return 0;
fail:
	err = errno;
	sim_warn(s, "control socket %s: %s", s->ctl_path, strerror(err));
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	return -err;
}

/*
 * stdin takes commands unless it is closed, /dev/null, or a terminal whose foreground
 * is another process group (reading it would stop us with SIGTTIN).
 */
static bool stdin_usable(void)
{
	struct stat st, null;

	if (fstat(STDIN_FILENO, &st) < 0)
		return false;
	if (S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev)
		return false;
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) != getpgrp())
		return false;
	return true;
}

/* --- life cycle ----------------------------------------------------------- */

void sim_init(struct sim *s, const char *name, const struct sim_ops *ops, void *priv)
{
	s->name = name;
	s->ops = ops;
	s->priv = priv;
	s->master = -1;
	s->slave = -1;
	s->listen_fd = -1;
	for (int i = 0; i <= SIM_MAX_CLIENTS; i++) {
		s->clients[i].in_fd = -1;
		s->clients[i].out_fd = -1;
	}
}

int sim_parse_common_opt(struct sim *s, int opt, const char *arg)
{
	switch (opt) {
	case SIM_OPT_CTL:
		s->ctl_path = arg;
		return 1;
	case SIM_OPT_LINK:
		s->link_path = arg;
		return 1;
	case SIM_OPT_ECHO:
		s->echo_default = true;
		return 1;
	case 'v':
		s->verbose = true;
		return 1;
	default:
		return 0;
	}
}

int sim_start(struct sim *s)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block;
	int ret;

	s->echo = s->echo_default;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);

	ret = pty_open(s);
	if (ret < 0)
		return ret;
	ret = update_link(s);
	if (ret < 0)
		goto fail;
	if (s->ctl_path) {
		ret = listen_open(s);
		if (ret < 0)
			goto fail;
	}
	if (stdin_usable()) {
		s->stdin_ctl = true;
		s->clients[0].in_fd = STDIN_FILENO;
		s->clients[0].out_fd = STDOUT_FILENO;
		/* Events to stdout only when a person watches it: a pipe nobody reads must
		 * not fill up and stall the sim. */
		s->clients[0].events = isatty(STDOUT_FILENO);
	}
	print_pty(s);
	return 0;
fail:
	sim_stop(s);
	return ret;
}

void sim_stop(struct sim *s)
{
	for (int i = 1; i <= SIM_MAX_CLIENTS; i++)
		if (s->clients[i].in_fd >= 0)
			client_close(&s->clients[i]);
	s->clients[0].in_fd = -1;
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->ctl_path);
		s->listen_fd = -1;
	}
	pty_close(s);
	if (s->link_path)
		unlink(s->link_path);
}

int sim_run(struct sim *s)
{
	struct pollfd fds[SIM_MAX_CLIENTS + 3];
	struct sim_client *owner[SIM_MAX_CLIENTS + 3];
	sigset_t unblocked;

	sigprocmask(SIG_SETMASK, NULL, &unblocked);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGINT);

	while (!s->quit && !stop_signal) {
		nfds_t n = 0;
		int timeout = next_timeout_ms(s);
		struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000};
		int master = s->master;
		int ret;

		fds[n] = (struct pollfd){.fd = master, .events = POLLIN};
		owner[n++] = NULL;
		if (s->listen_fd >= 0) {
			fds[n] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
			owner[n++] = NULL;
		}
		for (int i = 0; i <= SIM_MAX_CLIENTS; i++) {
			struct sim_client *c = &s->clients[i];

			if (c->in_fd < 0)
				continue;
			fds[n] = (struct pollfd){.fd = c->in_fd, .events = POLLIN};
			if (c->outlen && c->out_fd == c->in_fd)
				fds[n].events |= POLLOUT;
			owner[n++] = c;
		}
		ret = ppoll(fds, n, timeout < 0 ? NULL : &ts, &unblocked);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			sim_warn(s, "poll: %s", strerror(errno));
			return -errno;
		}
		run_timers(s);
		for (nfds_t i = 0; i < n && !s->quit; i++) {
			struct sim_client *c = owner[i];

			if (!fds[i].revents)
				continue;
			if (!c && fds[i].fd == master) {
				if (master == s->master)
					pty_readable(s);
				continue;
			}
			if (!c) {
				accept_client(s);
				continue;
			}
			if (c->in_fd != fds[i].fd)
				continue; /* closed and maybe reused during this round */
			if (fds[i].revents & POLLOUT)
				client_flush(c);
			if (c->in_fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    client_readable(s, c) < 0) {
				if (c == &s->clients[0]) {
					c->in_fd = -1; /* stdin EOF */
					if (!s->ctl_path)
						s->quit = true;
				} else {
					client_close(c);
				}
			}
		}
	}
	/* Give pending replies (e.g. to `quit`) a last chance to go out. */
	for (int i = 0; i <= SIM_MAX_CLIENTS; i++)
		if (s->clients[i].in_fd >= 0 && s->clients[i].outlen)
			client_flush(&s->clients[i]);
	return 0;
}
