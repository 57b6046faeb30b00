/*
 * event: rinkid's machine-readable event stream, one JSON object per line, for every
 * incident event and state change (see rinkid(8), EVENT STREAM). Each line is
 * {"t_ms":<wall ms>,"type":"<type>",<fields>...}: built on the stack with gw_event_begin()
 * and the typed adders, then queued by gw_event_emit() for a writer thread that appends
 * them in order (O_APPEND), so the caller never waits for the disk and lines from the
 * loop and from another thread never interleave. Lines that do not fit the queue are
 * counted in one {"type":"events_dropped","count":N} line put where they were lost. All JSON
 * encoding of the gateway is here (gw_event_json_str): strings are escaped per RFC 8259 and bytes
 * that are not UTF-8 become U+FFFD, so hostile input cannot break a line or the encoding.
 */
#ifndef GW_EVENT_H
#define GW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

#define GW_EVENT_LINE_MAX 1024

struct gw_event {
	char buf[GW_EVENT_LINE_MAX];
	size_t len;
	bool full; /* a field did not fit: it and every later one were left out */
};

/*
 * Open the stream at path for appending (created 0640 when missing, never truncated;
 * O_NOFOLLOW|O_CLOEXEC, a regular file only); loop gives the line's t_ms (NULL: the real
 * wall clock). Replaces an open stream. Returns 0 or a negative errno.
 */
int gw_event_open(const char *path, struct gw_loop *loop);
/*
 * Use fd (already open for writing: a pipe to a log collector, a test's sink) as the
 * stream; the module owns it from then on and sets O_NONBLOCK|O_CLOEXEC. Returns 0 or a
 * negative errno (fd is closed then too).
 */
int gw_event_open_fd(int fd, struct gw_loop *loop);
/* Write what is queued (waiting at most 2 s for a sink that takes nothing), stop the
   writer and close the stream; emits after it are dropped. Harmless when none is open. */
void gw_event_close(void);
/*
 * Wait up to timeout_ms (real time) until every line emitted so far is written. For
 * shutdown and tests; never on the loop. Returns 0 or -ETIMEDOUT.
 */
int gw_event_flush(int timeout_ms);
/* True when a stream is open (callers may skip building an event when it is not). */
bool gw_event_on(void);

/*
 * A barrier on the stream, for the loop: a waiter (embedded in its owner) is told through
 * done(arg, rc), from loop, once every line queued before gw_event_sync() was handed to
 * the sink by the writer thread (rc 0; a line dropped because the queue was full is not
 * waited for: its events_dropped line says so). rc is -EIO when a write failed meanwhile,
 * -ETIMEDOUT when timeout_ms of loop time passed first (a sink that takes nothing), -EPIPE
 * when the stream was closed first. The loop is never blocked: the writer wakes it.
 */
typedef void (*gw_event_sync_cb)(void *arg, int rc);
struct gw_event_sync {
	uint64_t target; /* the stream's queued-bytes count to reach */
	uint64_t fails;	 /* the writer's failure count when asked */
	gw_event_sync_cb done;
	void *arg;
	struct gw_loop *loop;
	struct gw_timer timer;
	struct gw_event_sync *next;
	bool waiting;
};
/*
 * Start s (zeroed before its first use). Returns 0 when there is nothing to wait for (no
 * stream open, or every line written already; done is not called), 1 when waiting (done is
 * called exactly once unless cancelled), -EIO when all is handed on but the last write
 * failed, -EINVAL without a loop or with another loop than the one waited on already, or a
 * negative errno. The loop must outlive the stream (gw_event_close first).
 */
int gw_event_sync(struct gw_loop *loop, struct gw_event_sync *s, int64_t timeout_ms,
		  gw_event_sync_cb done, void *arg);
/* Withdraw s (done is not called); harmless when it does not wait. */
void gw_event_sync_cancel(struct gw_event_sync *s);

/* Start e as an event of type (a short ASCII word) with the clock's t_ms. */
void gw_event_begin(struct gw_event *e, const char *type);
/* Add a string field (s NULL: JSON null), an integer, a boolean. Keys are ASCII words. */
void gw_event_str(struct gw_event *e, const char *key, const char *s);
void gw_event_int(struct gw_event *e, const char *key, int64_t v);
void gw_event_bool(struct gw_event *e, const char *key, bool v);
/*
 * Close the object and add the newline; the line is e->buf (NUL-terminated), e->len long.
 * Fields that did not fit are left out whole and "truncated":true is added. Returns len.
 */
size_t gw_event_end(struct gw_event *e);
/* gw_event_end, then queue the line for the stream's writer thread; never blocks on the
   sink. Returns 0, -ENOTCONN when no stream is open, or -ENOBUFS when the queue is full
   (the line is dropped and counted). Write errors are logged by the writer, once a run. */
int gw_event_emit(struct gw_event *e);

/*
 * Write s as a JSON string, quotes included, into out (len bytes, NUL-terminated):
 * " and \ escaped, control characters as \n \r \t \b \f or \u00XX, DEL as \u007f,
 * well-formed UTF-8 as is, any other byte as \ufffd. Returns the length written, or
 * -ENOSPC (out holds nothing usable) when it does not fit.
 */
int gw_event_json_str(const char *s, char *out, size_t len);

#endif
