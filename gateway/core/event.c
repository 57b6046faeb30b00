/*
 * event: the machine-readable event stream (JSON lines) and the gateway's one JSON string
 * encoder. The stream is module-private state behind gw_event_open/close: one fd opened
 * O_APPEND and a writer thread. gw_event_emit() never writes: it copies the line into a
 * 64 KiB ring under a mutex (so lines from the loop and from the call-log writer thread
 * keep one order) and the writer thread writes what is queued, so a slow disk or a pipe
 * nobody reads never holds up the loop. When the ring is full the line is dropped and
 * counted; the next line that fits is preceded by one {"type":"events_dropped","count":N}.
 * A line is built in a fixed buffer; a field that does not fit is left out whole (never
 * cut inside an escape) and the line says "truncated":true, so every line stays valid
 * JSON. A barrier (gw_event_sync) lets the loop learn, without waiting, when every line
 * queued so far has been written: the ring counts the bytes it took and the bytes the writer
 * handed on, and the writer wakes the loop (an eventfd) once the second count passes the
 * lowest one a waiter asked for. See event.h for the format.
 */
#include "core/event.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/text.h"

/* The queue between the emitters and the writer thread: whole lines in a byte ring. */
#define QUEUE_BYTES (64 * 1024)
/* How long gw_event_close() lets a sink that takes nothing hold up the shutdown. */
#define CLOSE_GRACE_MS 2000

static int stream_fd = -1;
static struct gw_loop *stream_loop;

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_more = PTHREAD_COND_INITIALIZER; /* the writer: lines or stop */
static pthread_cond_t q_done = PTHREAD_COND_INITIALIZER; /* flush: the writer progressed */
static char q_ring[QUEUE_BYTES];
static size_t q_head, q_used; /* the oldest byte and how many wait (under q_mu) */
static uint64_t q_dropped;    /* lines dropped since the last events_dropped line */
static atomic_bool q_stop;
static pthread_t q_thread;
static bool q_running;
/* For the barrier (under q_mu): bytes queued and bytes handed on (or lost to a failed
   write) since the stream opened, failed writes, and the count at which the writer wakes
   the loop (0: none wanted). */
static uint64_t q_in, q_out, q_fails, q_wake_at;
static bool q_failing;		      /* the last write failed */
static int wake_fd = -1;	      /* eventfd: the writer -> the loop */
static struct gw_loop *sync_loop;     /* where wake_fd is registered (NULL: not yet) */
static struct gw_event_sync *waiters; /* on the loop only */

/* Copy len bytes into the ring at its tail; the caller checked the room (under q_mu). */
static void ring_put(const char *p, size_t len)
{
	size_t tail = (q_head + q_used) % QUEUE_BYTES;
	size_t first = len < QUEUE_BYTES - tail ? len : QUEUE_BYTES - tail;
	memcpy(q_ring + tail, p, first);
	memcpy(q_ring, p + first, len - first);
	q_used += len;
	q_in += len;
}

/* Wake the loop's barrier (from any thread). */
static void wake(void)
{
	uint64_t one = 1;
	if (write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "event stream: cannot wake the loop: %s",
		     strerror(errno));
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write p whole to fd, waiting for room on a pipe; gives up when stopping and the sink
   took nothing for CLOSE_GRACE_MS. Returns 0 or a negative errno. */
static int write_all(int fd, const char *p, size_t len)
{
	int64_t stuck_since = -1;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			stuck_since = -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n == 0)
			return -EIO;
		if (atomic_load(&q_stop)) {
			if (stuck_since < 0)
				stuck_since = now_ms();
			else if (now_ms() - stuck_since >= CLOSE_GRACE_MS)
				return -ETIMEDOUT;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		(void)poll(&pfd, 1, 100); /* woken by room; the timeout only to see q_stop */
	}
	return 0;
}

/* The writer thread: takes what is queued (up to the ring's end) and writes it, in order. */
static void *writer_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	bool failing = false; /* a failure is logged once until a write works again */
	/* background work: the normal scheduler even when the loop runs SCHED_FIFO */
	struct sched_param sp = {.sched_priority = 0};
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	pthread_mutex_lock(&q_mu);
	for (;;) {
		while (q_used == 0 && !atomic_load(&q_stop))
			pthread_cond_wait(&q_more, &q_mu);
		if (q_used == 0)
			break;
		size_t len = q_used < QUEUE_BYTES - q_head ? q_used : QUEUE_BYTES - q_head;
		const char *p = q_ring + q_head;
		pthread_mutex_unlock(&q_mu);
		int rc = write_all(fd, p, len);
		if (rc < 0 && rc != -ETIMEDOUT && !failing)
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
			     "event stream: write failed (%s); events are lost", strerror(-rc));
		failing = rc < 0;
		pthread_mutex_lock(&q_mu);
		if (rc == -ETIMEDOUT) { /* stopping and the sink takes nothing: give up the rest */
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
			     "event stream: the sink took nothing for %d ms at close: the %zu "
			     "bytes still queued are lost",
			     CLOSE_GRACE_MS, q_used);
			q_head = 0;
			q_used = 0;
		} else {
			q_head = (q_head + len) % QUEUE_BYTES;
			q_used -= len;
			q_out += len;
			q_fails += rc < 0;
			q_failing = rc < 0;
		}
		if (q_wake_at && q_out >= q_wake_at) {
			q_wake_at = 0;
			wake();
		}
		pthread_cond_broadcast(&q_done);
	}
	pthread_cond_broadcast(&q_done);
	pthread_mutex_unlock(&q_mu);
	return NULL;
}

static int start(int fd, struct gw_loop *loop)
{
	gw_event_close();
	q_head = q_used = 0;
	q_dropped = 0;
	q_in = q_out = q_fails = q_wake_at = 0;
	q_failing = false;
	atomic_store(&q_stop, false);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	/* the thread takes no signals: they are the loop's (signalfd) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&q_thread, NULL, writer_main, (void *)(intptr_t)fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(fd);
		close(wake_fd);
		wake_fd = -1;
		return -rc;
	}
	q_running = true;
	stream_fd = fd;
	stream_loop = loop;
	return 0;
}

int gw_event_open(const char *path, struct gw_loop *loop)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    0640);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return start(fd, loop);
}

int gw_event_open_fd(int fd, struct gw_loop *loop)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return start(fd, loop);
}

int gw_event_flush(int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	int rc = 0;
	pthread_mutex_lock(&q_mu);
	while (q_running && q_used > 0 && rc == 0)
		rc = pthread_cond_timedwait(&q_done, &q_mu, &until);
	bool left = q_running && q_used > 0;
	pthread_mutex_unlock(&q_mu);
	return left ? -ETIMEDOUT : 0;
}

/* s is done (already off the list): tell its owner. */
static void finish(struct gw_event_sync *s, int rc)
{
	s->waiting = false;
	gw_timer_cancel(s->loop, &s->timer);
	s->done(s->arg, rc);
}

void gw_event_close(void)
{
	if (q_running) {
		pthread_mutex_lock(&q_mu);
		atomic_store(&q_stop, true);
		pthread_cond_broadcast(&q_more);
		pthread_mutex_unlock(&q_mu);
		pthread_join(q_thread, NULL);
		q_running = false;
		if (q_dropped)
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
			     "event stream: %" PRIu64 " events dropped at the end (sink too slow)",
			     q_dropped);
	}
	if (stream_fd >= 0)
		close(stream_fd);
	stream_fd = -1;
	stream_loop = NULL;
	/* the writer is gone: every waiter learns how its lines fared */
	while (waiters) {
		struct gw_event_sync *s = waiters;
		waiters = s->next;
		finish(s, s->target > q_out ? -EPIPE : s->fails != q_fails ? -EIO : 0);
	}
	if (sync_loop)
		gw_loop_del_fd(sync_loop, wake_fd);
	sync_loop = NULL;
	if (wake_fd >= 0)
		close(wake_fd);
	wake_fd = -1;
	q_wake_at = 0;
}

/* Take s off the waiters' list. */
static void unlink_waiter(struct gw_event_sync *s)
{
	for (struct gw_event_sync **pp = &waiters; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->next = NULL;
}

/* Ask the writer to wake the loop when the lowest waiting target is reached (at once if
   it is already). */
static void rearm(void)
{
	uint64_t min = 0;
	for (struct gw_event_sync *s = waiters; s; s = s->next)
		if (!min || s->target < min)
			min = s->target;
	pthread_mutex_lock(&q_mu);
	bool now = min && q_out >= min;
	q_wake_at = now ? 0 : min;
	pthread_mutex_unlock(&q_mu);
	if (now)
		wake();
}

/* The writer passed a target: answer every waiter whose lines are out. */
static void on_wake(struct gw_loop *loop, int fd, short revents, void *arg)
{
	uint64_t n;
	(void)loop;
	(void)revents;
	(void)arg;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "event stream: wake-up: %s", strerror(errno));
	for (;;) { /* from the head each time: a callback may add or withdraw waiters */
		pthread_mutex_lock(&q_mu);
		uint64_t out = q_out, fails = q_fails;
		pthread_mutex_unlock(&q_mu);
		struct gw_event_sync *s = waiters;
		while (s && s->target > out)
			s = s->next;
		if (!s)
			break;
		unlink_waiter(s);
		finish(s, s->fails != fails ? -EIO : 0);
	}
	rearm();
}

static void on_sync_timeout(struct gw_loop *loop, void *arg)
{
	struct gw_event_sync *s = arg;
	(void)loop;
	unlink_waiter(s);
	LOGP(GW_LOG_MAIN, GW_LOG_WARN, "event stream: lines not written in time (sink stuck)");
	finish(s, -ETIMEDOUT);
	rearm();
}

int gw_event_sync(struct gw_loop *loop, struct gw_event_sync *s, int64_t timeout_ms,
		  gw_event_sync_cb done, void *arg)
{
	if (s->waiting)
		gw_event_sync_cancel(s);
	if (stream_fd < 0)
		return 0;
	if (!loop || (sync_loop && sync_loop != loop))
		return -EINVAL;
	if (!sync_loop) {
		int rc = gw_loop_add_fd(loop, wake_fd, POLLIN, on_wake, NULL);
		if (rc < 0)
			return rc;
		sync_loop = loop;
	}
	pthread_mutex_lock(&q_mu);
	s->target = q_in;
	s->fails = q_fails;
	bool written = q_out >= q_in, failing = q_failing;
	pthread_mutex_unlock(&q_mu);
	if (written)
		return failing ? -EIO : 0;
	s->done = done;
	s->arg = arg;
	s->loop = loop;
	s->waiting = true;
	s->next = waiters;
	waiters = s;
	gw_timer_init(&s->timer, on_sync_timeout, s);
	gw_timer_schedule(loop, &s->timer, timeout_ms);
	rearm();
	return 1;
}

void gw_event_sync_cancel(struct gw_event_sync *s)
{
	if (!s->waiting)
		return;
	unlink_waiter(s);
	gw_timer_cancel(s->loop, &s->timer);
	s->waiting = false;
	rearm();
}

bool gw_event_on(void)
{
	return stream_fd >= 0;
}

int gw_event_json_str(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	/* every byte is checked against len, the NUL kept back; a string that does not fit
	   is refused whole, so no caller ever sees one cut inside an escape */
#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (o + 1 >= len)                                                                  \
			goto nospace;                                                              \
		out[o++] = (char)(c);                                                              \
	} while (0)
	PUT('"');
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		unsigned u = gw_utf8_len(p + i, n - i, NULL);
		if (u > 0) {
			for (unsigned k = 0; k < u; k++)
				PUT(p[i + k]);
			i += u;
			continue;
		}
		i++;
		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT(c);
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
			PUT('\\');
			PUT(c == '\n'	? 'n'
			    : c == '\r' ? 'r'
			    : c == '\t' ? 't'
			    : c == '\b' ? 'b'
					: 'f');
		} else if (c < 0x20 || c == 0x7f) {
			const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			for (int k = 0; k < 6; k++)
				PUT(esc[k]);
		} else if (c >= 0x80) { /* not UTF-8: the replacement character */
			for (const char *r = "\\ufffd"; *r; r++)
				PUT(*r);
		} else {
			PUT(c);
		}
	}
	PUT('"');
#undef PUT
	out[o] = '\0';
	return (int)o;
nospace:
	if (len)
		out[0] = '\0';
	return -ENOSPC;
}

/* Kept back at the end of every line: ,"truncated":true then "}\n" and the NUL. */
static const char trunc_tail[] = ",\"truncated\":true";
#define KEPT_BACK (sizeof(trunc_tail) - 1 + 3)

/* Append ,"key": and the value text v (already JSON) if both fit whole. */
static void add_raw(struct gw_event *e, const char *key, const char *v)
{
	if (e->full)
		return;
	size_t room = sizeof(e->buf) - KEPT_BACK - e->len;
	/* ,"key":v by hand: an event goes out before the ATD of a page (issue #13) */
	size_t kl = strlen(key), vl = strlen(v), n = kl + vl + 4;
	if (n >= room) {
		e->buf[e->len] = '\0';
		e->full = true;
		return;
	}
	char *o = e->buf + e->len;
	o[0] = ',';
	o[1] = '"';
	memcpy(o + 2, key, kl);
	o[2 + kl] = '"';
	o[3 + kl] = ':';
	memcpy(o + 4 + kl, v, vl + 1);
	e->len += n;
}

/* v in decimal into t (>= 21 bytes), as "%" PRId64 writes it; returns its length. */
static size_t fmt_i64(char *t, int64_t v)
{
	char r[21];
	size_t n = 0, o = 0;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		r[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		t[o++] = '-';
	while (n)
		t[o++] = r[--n];
	t[o] = '\0';
	return o;
}

static int64_t wall_ms(void)
{
	if (stream_loop)
		return gw_loop_wall_ms(stream_loop);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gw_event_begin(struct gw_event *e, const char *type)
{
	e->full = false;
	memcpy(e->buf, "{\"t_ms\":", 8);
	e->len = 8 + fmt_i64(e->buf + 8, wall_ms());
	gw_event_str(e, "type", type);
}

void gw_event_str(struct gw_event *e, const char *key, const char *s)
{
	if (!s) {
		add_raw(e, key, "null");
		return;
	}
	char v[GW_EVENT_LINE_MAX];
	if (gw_event_json_str(s, v, sizeof(v)) < 0) {
		e->full = true;
		return;
	}
	add_raw(e, key, v);
}

void gw_event_int(struct gw_event *e, const char *key, int64_t v)
{
	char t[24];
	fmt_i64(t, v);
	add_raw(e, key, t);
}

void gw_event_bool(struct gw_event *e, const char *key, bool v)
{
	add_raw(e, key, v ? "true" : "false");
}

size_t gw_event_end(struct gw_event *e)
{
	if (e->full) {
		memcpy(e->buf + e->len, trunc_tail, sizeof(trunc_tail) - 1);
		e->len += sizeof(trunc_tail) - 1;
	}
	e->buf[e->len++] = '}';
	e->buf[e->len++] = '\n';
	e->buf[e->len] = '\0';
	return e->len;
}

int gw_event_emit(struct gw_event *e)
{
	size_t len = gw_event_end(e);
	if (stream_fd < 0)
		return -ENOTCONN;
	int rc = 0;
	pthread_mutex_lock(&q_mu);
	size_t room = QUEUE_BYTES - q_used;
	if (q_dropped) { /* the count goes first, in the place of the lines it stands for */
		struct gw_event d;
		gw_event_begin(&d, "events_dropped");
		gw_event_int(&d, "count", (int64_t)q_dropped);
		size_t dlen = gw_event_end(&d);
		if (dlen + len <= room) {
			ring_put(d.buf, dlen);
			q_dropped = 0;
			room -= dlen;
		} else {
			room = 0;
		}
	}
	if (len <= room) {
		ring_put(e->buf, len);
		pthread_cond_signal(&q_more);
	} else {
		q_dropped++;
		rc = -ENOBUFS;
	}
	pthread_mutex_unlock(&q_mu);
	return rc;
}
