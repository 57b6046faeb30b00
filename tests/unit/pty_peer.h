/*
 * pty_peer: the device end of a pseudo-terminal for unit tests that play a
 * radio or a modem against a driver running in a real gw_loop. Header-only so
 * each test binary stays one file plus the gateway objects.
 */
#ifndef RINKI_PTY_PEER_H
#define RINKI_PTY_PEER_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"

struct pty_peer {
	int master;
	struct gw_loop *loop;
	char in[4096];
	size_t inlen;
};

/* Open a pty (raw, non-blocking master); returns the slave path for the driver's config. */
static inline const char *pty_peer_open(struct pty_peer *p, struct gw_loop *loop)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(p->master >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	struct termios t;
	int slave = open(ptsname(p->master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	tcgetattr(slave, &t);
	cfmakeraw(&t);
	tcsetattr(slave, TCSANOW, &t);
	close(slave);
	fcntl(p->master, F_SETFL, O_NONBLOCK);
	return ptsname(p->master);
}

/* CLOCK_MONOTONIC in ms: the helpers' bounds are real time, whatever the loop's clock. */
static inline int64_t pty_peer_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Loop callback of pty_peer_watch(): take what the driver wrote into p->in. */
static inline void pty_peer_readable(struct gw_loop *loop, int fd, short revents, void *arg)
{
	struct pty_peer *p = arg;
	(void)loop;
	(void)revents;
	ssize_t r = read(fd, p->in + p->inlen, sizeof(p->in) - p->inlen - 1);
	if (r > 0)
		p->inlen += (size_t)r;
}

/*
 * Put the master in p's loop: every wait (pty_peer_until, pty_peer_run) then ends as soon as
 * the driver's bytes arrive instead of at the end of a 10 ms poll. Call pty_peer_unwatch()
 * before closing p->master while the loop lives.
 */
static inline void pty_peer_watch(struct pty_peer *p)
{
	assert_int_equal(gw_loop_add_fd(p->loop, p->master, POLLIN, pty_peer_readable, p), 0);
}

static inline void pty_peer_unwatch(struct pty_peer *p)
{
	gw_loop_del_fd(p->loop, p->master);
}

/* Bytes the driver wrote up to and including term (e.g. Ctrl-Z after an SMS body), without
   term, into buf. Returns 1, or 0 when term did not come within about ms milliseconds. */
static inline int pty_peer_until(struct pty_peer *p, char term, char *buf, size_t len, int ms)
{
	int64_t end = pty_peer_mono_ms() + ms;
	for (;;) {
		ssize_t r = read(p->master, p->in + p->inlen, sizeof(p->in) - p->inlen - 1);
		if (r > 0)
			p->inlen += (size_t)r;
		char *t = memchr(p->in, term, p->inlen);
		if (t) {
			size_t n = (size_t)(t - p->in);
			snprintf(buf, len, "%.*s", (int)n, p->in);
			memmove(p->in, t + 1, p->inlen - n - 1);
			p->inlen -= n + 1;
			return 1;
		}
		int64_t left = end - pty_peer_mono_ms();
		if (left < 0)
			return 0;
		gw_loop_run_once(p->loop, left < 10 ? (int)left : 10);
	}
}

/* Next complete line the driver wrote (CR-terminated) into line, running the loop meanwhile;
   gives up after about ms milliseconds. Returns 1, or 0 on timeout. */
static inline int pty_peer_line(struct pty_peer *p, char *line, size_t len, int ms)
{
	return pty_peer_until(p, '\r', line, len, ms);
}

/* Fail the test unless the next line the driver writes starts with want. */
static inline void pty_peer_expect(struct pty_peer *p, const char *want)
{
	char line[512];
	if (!pty_peer_line(p, line, sizeof(line), 3000))
		fail_msg("device never received '%s'", want);
	if (strncmp(line, want, strlen(want)) != 0)
		fail_msg("device expected '%s', got '%s'", want, line);
}

static inline void pty_peer_send(struct pty_peer *p, const char *s)
{
	assert_int_equal(write(p->master, s, strlen(s)), (ssize_t)strlen(s));
}

/* Run the loop for ms milliseconds of real time. */
static inline void pty_peer_run(struct pty_peer *p, int ms)
{
	int64_t end = pty_peer_mono_ms() + ms;
	for (int64_t left = ms; left > 0; left = end - pty_peer_mono_ms())
		gw_loop_run_once(p->loop, left < 5 ? (int)left : 5);
}

#endif
