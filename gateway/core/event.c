/*
 * event: the machine-readable event stream (JSON lines) and the gateway's one JSON string
 * encoder. The stream is module-private state behind gw_event_open/close: one fd opened
 * O_APPEND, so each gw_event_emit() is one write() that lands whole at the end even when
 * the call-log writer thread emits too. A line is built in a fixed buffer; a field that
 * does not fit is left out whole (never cut inside an escape) and the line says
 * "truncated":true, so every line stays valid JSON. See event.h for the format.
 */
#include "core/event.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/text.h"

static int stream_fd = -1;
static struct gw_loop *stream_loop;
static bool write_failing; /* a failure is logged once until a write works again */

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
	gw_event_close();
	stream_fd = fd;
	stream_loop = loop;
	write_failing = false;
	return 0;
}

void gw_event_close(void)
{
	if (stream_fd >= 0)
		close(stream_fd);
	stream_fd = -1;
	stream_loop = NULL;
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
	ssize_t n;
	do
		n = write(stream_fd, e->buf, len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len) {
		write_failing = false;
		return 0;
	}
	int rc = n < 0 ? -errno : -EIO;
	if (!write_failing)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "event stream: write failed (%s); events are lost",
		     strerror(-rc));
	write_failing = true;
	return rc;
}
