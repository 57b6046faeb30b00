/*
 * serial: libserialport underneath, the loop's poll on top.
 *
 * libserialport opens and configures the device (pty in tests, USB serial or
 * UART on the board); its fd goes to the loop for POLLIN, and POLLOUT only
 * while the output buffer holds bytes. A read of 0 after POLLIN, EIO, POLLHUP
 * or POLLERR counts as a hang-up: the port is closed and the reopen timer runs.
 *
 * Pseudo-terminals (a PEI or modem reached through socat, ser2net or an
 * Ethernet PEI bridge; the device simulators) have no sysfs entry, and
 * libserialport 0.1.1 refuses any port without one. Such a port is opened with
 * open() and termios, set to the same raw 8N1 mode; from then on both kinds
 * share every line of this file.
 *
 * An open discards what waits to go out, never what came in: lines the device sent
 * while the port was closed (an officer's SDS that arrived while rinkid restarted) are
 * read like any other. The AT layer drops a stale final result that answers nothing.
 */
#include "link/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define OUTBUF	       8192
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000

struct gw_serial {
	struct gw_loop *loop;
	enum gw_log_cat cat;
	char *path;
	int baud;
	struct gw_serial_ops ops;
	struct sp_port *port; /* NULL for a port opened with termios */
	int fd;
	int up;
	char out[OUTBUF];
	size_t outlen;
	struct gw_timer reopen;
	int backoff_ms;
	int fail_logged;
};

static void sp_fail(struct gw_serial *s, const char *what, enum sp_return r)
{
	char *msg = r == SP_ERR_FAIL ? sp_last_error_message() : NULL;
	if (!s->fail_logged)
		LOGP(s->cat, GW_LOG_ERROR, "%s: %s: %s", s->path, what,
		     msg	       ? msg
		     : r == SP_ERR_ARG ? "invalid argument"
				       : "failed");
	if (msg)
		sp_free_error_message(msg);
}

static void close_port(struct gw_serial *s)
{
	if (s->fd >= 0)
		gw_loop_del_fd(s->loop, s->fd);
	if (s->port) {
		sp_close(s->port);
		sp_free_port(s->port);
		s->port = NULL;
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	s->fd = -1;
	s->up = 0;
	s->outlen = 0;
}

static void schedule_reopen(struct gw_serial *s)
{
	gw_timer_schedule(s->loop, &s->reopen, s->backoff_ms);
	s->backoff_ms *= 2;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
}

static void hang_up(struct gw_serial *s, const char *why)
{
	LOGP(s->cat, GW_LOG_WARN, "%s: port lost (%s), reopening", s->path, why);
	close_port(s);
	s->fail_logged = 0;
	if (s->ops.state)
		s->ops.state(s->ops.arg, 0);
	schedule_reopen(s);
}

static void flush_out(struct gw_serial *s)
{
	while (s->outlen) {
		ssize_t n = write(s->fd, s->out, s->outlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			hang_up(s, strerror(errno));
			return;
		}
		memmove(s->out, s->out + n, s->outlen - (size_t)n);
		s->outlen -= (size_t)n;
	}
	gw_loop_mod_fd(s->loop, s->fd, s->outlen ? POLLIN | POLLOUT : POLLIN);
}

static void on_fd(struct gw_loop *loop, int fd, short revents, void *arg)
{
	(void)loop;
	struct gw_serial *s = arg;
	char buf[1024];

	if (revents & POLLOUT)
		flush_out(s);
	if (!s->up || s->fd != fd)
		return;
	if (revents & POLLIN) {
		/* Bounded: at most 16 KB per wake-up so one chatty port cannot starve the loop. */
		for (int i = 0; i < 16; i++) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				s->ops.data(s->ops.arg, buf, (size_t)n);
				if (!s->up)
					return;
				continue;
			}
			if (n == 0) {
				hang_up(s, "end of file");
				return;
			}
			if (errno == EAGAIN || errno == EINTR)
				return;
			hang_up(s, strerror(errno));
			return;
		}
		return;
	}
	if (revents & (POLLHUP | POLLERR | POLLNVAL))
		hang_up(s, revents & POLLHUP ? "hang-up" : "error");
}

/* Open a tty without port metadata (pty) with termios: raw, 8N1, no flow control. */
static int open_tty(struct gw_serial *s)
{
	int fd = open(s->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct termios t;
	if (!isatty(fd) || tcgetattr(fd, &t) < 0) {
		close(fd);
		return -ENOTTY;
	}
	static const struct {
		int baud;
		speed_t speed;
	} speeds[] = {{1200, B1200},	 {2400, B2400},	    {4800, B4800},    {9600, B9600},
		      {19200, B19200},	 {38400, B38400},   {57600, B57600},  {115200, B115200},
		      {230400, B230400}, {460800, B460800}, {921600, B921600}};
	speed_t sp = B115200;
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].baud == s->baud)
			sp = speeds[i].speed;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(CRTSCTS | CSTOPB);
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	tcflush(fd, TCOFLUSH); /* input kept: see the head of this file */
	return fd;
}

static int open_sp(struct gw_serial *s)
{
	enum sp_return r = sp_get_port_by_name(s->path, &s->port);
	if (r != SP_OK) {
		s->port = NULL;
		return -ENODEV;
	}
	r = sp_open(s->port, SP_MODE_READ_WRITE);
	if (r != SP_OK) {
		sp_fail(s, "cannot open", r);
		sp_free_port(s->port);
		s->port = NULL;
		return -EIO;
	}
	struct sp_port_config *cfg = NULL;
	if (sp_new_config(&cfg) == SP_OK) {
		sp_set_config_baudrate(cfg, s->baud);
		sp_set_config_bits(cfg, 8);
		sp_set_config_parity(cfg, SP_PARITY_NONE);
		sp_set_config_stopbits(cfg, 1);
		sp_set_config_flowcontrol(cfg, SP_FLOWCONTROL_NONE);
		r = sp_set_config(s->port, cfg);
		sp_free_config(cfg);
		if (r != SP_OK)
			sp_fail(s, "cannot configure 8N1", r);
	}
	int fd;
	r = sp_get_port_handle(s->port, &fd);
	if (r != SP_OK) {
		sp_fail(s, "no handle", r);
		sp_close(s->port);
		sp_free_port(s->port);
		s->port = NULL;
		return -EIO;
	}
	sp_flush(s->port, SP_BUF_OUTPUT); /* input kept: see the head of this file */
	return fd;
}

static int open_port(struct gw_serial *s)
{
	const char *how = "libserialport";
	int fd = open_sp(s);
	if (fd == -ENODEV) {
		fd = open_tty(s);
		how = "termios (pseudo-terminal)";
		if (fd < 0) {
			if (!s->fail_logged)
				LOGP(s->cat, GW_LOG_ERROR, "%s: cannot open: %s", s->path,
				     strerror(-fd));
			return fd;
		}
	}
	if (fd < 0)
		return fd;
	s->fd = fd;
	int rc = gw_loop_add_fd(s->loop, s->fd, POLLIN, on_fd, s);
	if (rc < 0) {
		close_port(s);
		return rc;
	}
	s->up = 1;
	LOGP(s->cat, GW_LOG_INFO, "%s: open at %d baud through %s", s->path, s->baud, how);
	s->backoff_ms = BACKOFF_MIN_MS;
	s->fail_logged = 0;
	if (s->ops.state)
		s->ops.state(s->ops.arg, 1);
	return 0;
}

static void on_reopen(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_serial *s = arg;
	if (open_port(s) < 0) {
		s->fail_logged = 1;
		schedule_reopen(s);
	}
}

int gw_serial_new(struct gw_loop *loop, enum gw_log_cat cat, const char *path, int baud,
		  const struct gw_serial_ops *ops, struct gw_serial **out)
{
	struct gw_serial *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return -ENOMEM;
	}
	s->loop = loop;
	s->cat = cat;
	s->baud = baud;
	s->ops = *ops;
	s->fd = -1;
	s->backoff_ms = BACKOFF_MIN_MS;
	gw_timer_init(&s->reopen, on_reopen, s);
	*out = s;
	if (open_port(s) < 0) {
		s->fail_logged = 1;
		schedule_reopen(s);
	}
	return 0;
}

void gw_serial_free(struct gw_serial *s)
{
	if (!s)
		return;
	gw_timer_cancel(s->loop, &s->reopen);
	close_port(s);
	free(s->path);
	free(s);
}

int gw_serial_is_up(const struct gw_serial *s)
{
	return s->up;
}

int gw_serial_write(struct gw_serial *s, const void *buf, size_t len)
{
	if (!s->up)
		return -ENOTCONN;
	if (len > sizeof(s->out) - s->outlen) {
		LOGP(s->cat, GW_LOG_ERROR, "%s: output buffer full, %zu bytes not sent", s->path,
		     len);
		return -ENOBUFS;
	}
	memcpy(s->out + s->outlen, buf, len);
	s->outlen += len;
	flush_out(s);
	return 0;
}

void gw_serial_reopen(struct gw_serial *s)
{
	if (s->up)
		hang_up(s, "recovery requested");
}
