/*
 * event: rinkid's machine-readable event stream, one JSON object per line, for every
 * incident event and state change (see rinkid(8), EVENT STREAM). Each line is
 * {"t_ms":<wall ms>,"type":"<type>",<fields>...}: built on the stack with gw_event_begin()
 * and the typed adders, then written with one write() in O_APPEND mode by gw_event_emit(),
 * so lines from the loop and from another thread never interleave. All JSON encoding of
 * the gateway is here (gw_event_json_str): strings are escaped per RFC 8259 and bytes that
 * are not UTF-8 become U+FFFD, so hostile input cannot break a line or the encoding.
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
/* Close the stream; emits after it are dropped. Harmless when none is open. */
void gw_event_close(void);
/* True when a stream is open (callers may skip building an event when it is not). */
bool gw_event_on(void);

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
/* gw_event_end, then write the line to the open stream. Returns 0, -ENOTCONN when no
   stream is open, or a negative errno from write (logged once per failure run). */
int gw_event_emit(struct gw_event *e);

/*
 * Write s as a JSON string, quotes included, into out (len bytes, NUL-terminated):
 * " and \ escaped, control characters as \n \r \t \b \f or \u00XX, DEL as \u007f,
 * well-formed UTF-8 as is, any other byte as \ufffd. Returns the length written, or
 * -ENOSPC (out holds nothing usable) when it does not fit.
 */
int gw_event_json_str(const char *s, char *out, size_t len);

#endif
