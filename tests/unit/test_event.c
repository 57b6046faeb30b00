/*
 * Unit tests for gateway/core/event.c: the JSON string encoder (every escape, UTF-8 kept,
 * other bytes replaced, no overflow), event lines on the loop's fake clock, a field too
 * long for a line left out whole, and the stream file (appended, never truncated, links
 * and non-regular files refused), and a sink that does not read: emits never block, the
 * lines that fit keep their order and one events_dropped line counts the rest in their place;
 * the barrier (gw_event_sync): answered only once the lines queued before it are in the
 * sink, with an error when the sink takes nothing for the bound or a write fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/event.h"
#include "core/loop.h"

static const char *js(const char *s)
{
	static char out[256];
	assert_true(gw_event_json_str(s, out, sizeof(out)) >= 0);
	return out;
}

static void test_json_escapes(void **state)
{
	(void)state;
	assert_string_equal(js(""), "\"\"");
	assert_string_equal(js("Aino"), "\"Aino\"");
	assert_string_equal(js("a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(js("l1\nl2\r\t\b\f"), "\"l1\\nl2\\r\\t\\b\\f\"");
	assert_string_equal(js("\x01\x1b[2J\x1f\x7f"), "\"\\u0001\\u001b[2J\\u001f\\u007f\"");
	/* / needs no escape; non-ASCII UTF-8 stays as it is */
	assert_string_equal(js("a/b Pääkäyttäjä €"), "\"a/b Pääkäyttäjä €\"");
}

static void test_json_not_utf8_replaced(void **state)
{
	(void)state;
	/* a lone Latin-1 byte, an overlong '/', a surrogate, a cut-off sequence */
	assert_string_equal(js("caf\xe9!"), "\"caf\\ufffd!\"");
	assert_string_equal(js("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	assert_string_equal(js("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(js("x\xe2\x82"), "\"x\\ufffd\\ufffd\"");
}

static void test_json_too_long_refused(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(gw_event_json_str("abcde", out, sizeof(out)), 7); /* "abcde" + NUL */
	assert_string_equal(out, "\"abcde\"");
	assert_int_equal(gw_event_json_str("abcdef", out, sizeof(out)), -ENOSPC);
	assert_string_equal(out, "");
	/* an escape is never cut */
	assert_int_equal(gw_event_json_str("ab\x01", out, sizeof(out)), -ENOSPC);
	assert_int_equal(gw_event_json_str("", out, 1), -ENOSPC);
}

static struct gw_loop *fake_loop(void)
{
	struct gw_loop *loop = gw_loop_new();
	assert_non_null(loop);
	gw_loop_clock_override(loop, 1000, 1796601600123LL);
	return loop;
}

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_event.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	gw_event_close();
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_line_fields_and_clock(void **state)
{
	(void)state;
	struct gw_loop *loop = fake_loop();
	char path[128];
	snprintf(path, sizeof(path), "%s/ev", tmpdir);
	assert_int_equal(gw_event_open(path, loop), 0);
	struct gw_event e;
	gw_event_begin(&e, "incident_end");
	gw_event_int(&e, "call", 42);
	gw_event_str(&e, "outcome", "completed");
	gw_event_str(&e, "line", NULL);
	gw_event_bool(&e, "busy", false);
	gw_event_int(&e, "neg", -7);
	size_t n = gw_event_end(&e);
	const char *want = "{\"t_ms\":1796601600123,\"type\":\"incident_end\",\"call\":42,"
			   "\"outcome\":\"completed\",\"line\":null,\"busy\":false,\"neg\":-7}\n";
	assert_string_equal(e.buf, want);
	assert_int_equal(n, strlen(want));
	/* the clock is the loop's: moved forward, the next line says so */
	gw_loop_clock_advance(loop, 5);
	gw_event_begin(&e, "x");
	gw_event_end(&e);
	assert_string_equal(e.buf, "{\"t_ms\":1796601600128,\"type\":\"x\"}\n");
	gw_event_close();
	gw_loop_free(loop);
}

/* Integers as "%" PRId64 writes them, the extremes and 0 included. */
static void test_int_fields_like_printf(void **state)
{
	(void)state;
	static const int64_t v[] = {0, 1, -1, 9, 10, -10, 1796601600123, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct gw_event e;
		gw_event_begin(&e, "t");
		gw_event_int(&e, "v", v[i]);
		gw_event_end(&e);
		char want[96];
		snprintf(want, sizeof(want), ",\"v\":%" PRId64 "}\n", v[i]);
		assert_non_null(strstr(e.buf, want));
	}
}

static void test_long_field_left_out_whole(void **state)
{
	(void)state;
	char big[GW_EVENT_LINE_MAX];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct gw_event e;
	gw_event_begin(&e, "sms_in");
	gw_event_str(&e, "from", "+358401234567");
	gw_event_str(&e, "text", big); /* too long: left out */
	gw_event_int(&e, "after", 1);  /* after a miss: left out too */
	gw_event_end(&e);
	assert_true(e.len < GW_EVENT_LINE_MAX);
	assert_int_equal(e.buf[e.len - 1], '\n');
	assert_non_null(strstr(e.buf, "\"from\":\"+358401234567\",\"truncated\":true}\n"));
	assert_null(strstr(e.buf, "aaa"));
	assert_null(strstr(e.buf, "after"));

	/* a field that fits only without the room kept for the mark is left out as well */
	struct gw_event f;
	gw_event_begin(&f, "t");
	char mid[GW_EVENT_LINE_MAX];
	size_t fill = GW_EVENT_LINE_MAX - f.len - 12;
	memset(mid, 'b', fill);
	mid[fill] = '\0';
	gw_event_str(&f, "k", mid);
	gw_event_end(&f);
	assert_true(f.len < GW_EVENT_LINE_MAX);
	assert_non_null(strstr(f.buf, ",\"truncated\":true}\n"));
}

static size_t slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void test_stream_appends_never_truncates(void **state)
{
	(void)state;
	char path[128], buf[512];
	snprintf(path, sizeof(path), "%s/events.jsonl", tmpdir);
	struct gw_event e;
	gw_event_begin(&e, "lost");
	assert_int_equal(gw_event_emit(&e), -ENOTCONN); /* no stream */
	assert_false(gw_event_on());

	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("earlier\n", f);
	fclose(f);
	struct gw_loop *loop = fake_loop();
	assert_int_equal(gw_event_open(path, loop), 0);
	assert_true(gw_event_on());
	gw_event_begin(&e, "a");
	assert_int_equal(gw_event_emit(&e), 0);
	gw_event_begin(&e, "b");
	assert_int_equal(gw_event_emit(&e), 0);
	assert_int_equal(gw_event_flush(60000), 0); /* the writer thread has written it */
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "earlier\n"
				 "{\"t_ms\":1796601600123,\"type\":\"a\"}\n"
				 "{\"t_ms\":1796601600123,\"type\":\"b\"}\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	gw_event_close();
	assert_false(gw_event_on());
	gw_event_begin(&e, "c");
	assert_int_equal(gw_event_emit(&e), -ENOTCONN);

	/* a new file is not readable by others */
	char fresh[128];
	snprintf(fresh, sizeof(fresh), "%s/new.jsonl", tmpdir);
	mode_t old = umask(0);
	assert_int_equal(gw_event_open(fresh, loop), 0);
	umask(old);
	assert_int_equal(stat(fresh, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	gw_event_close();
	gw_loop_free(loop);
}

static void test_stream_refuses_links_and_specials(void **state)
{
	(void)state;
	char target[128], link[128], fifo[128];
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	FILE *f = fopen(target, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(gw_event_open(link, NULL), -ELOOP);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(gw_event_open(fifo, NULL), -ENXIO); /* no reader: never blocks */
	int rd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(gw_event_open(fifo, NULL), -EINVAL); /* a reader: still not a file */
	close(rd);
	assert_int_equal(gw_event_open(tmpdir, NULL), -EISDIR);
	assert_false(gw_event_on());
	/* a failed open keeps the stream that was open */
	assert_int_equal(gw_event_open(target, NULL), 0);
	assert_int_equal(gw_event_open(link, NULL), -ELOOP);
	assert_true(gw_event_on());
	struct gw_event e;
	gw_event_begin(&e, "still");
	assert_int_equal(gw_event_emit(&e), 0);
	assert_int_equal(gw_event_flush(60000), 0);
	char buf[128];
	slurp(target, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"type\":\"still\"}\n"));
}

/* Reads the pipe until EOF into a buffer. */
struct sink {
	int fd;
	char *buf;
	size_t len, cap;
};

static void *sink_read(void *arg)
{
	struct sink *k = arg;
	for (;;) {
		ssize_t n = read(k->fd, k->buf + k->len, k->cap - 1 - k->len);
		if (n <= 0)
			break;
		k->len += (size_t)n;
	}
	k->buf[k->len] = '\0';
	return NULL;
}

/* A sink nobody reads (a pipe): the loop's emits all return at once; what does not fit the
   queue is counted, and when there is room again one events_dropped line with the count
   goes out before the next line, so the stream says exactly what it lost and where. */
static void test_slow_sink_never_blocks(void **state)
{
	(void)state;
	enum { N = 5000 };
	struct gw_loop *loop = fake_loop();
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096); /* as small as it goes; 64 KiB if refused */
	assert_int_equal(gw_event_open_fd(p[1], loop), 0);
	int queued = 0, dropped = 0;
	struct gw_event e;
	for (int i = 0; i < N; i++) {
		gw_event_begin(&e, "n");
		gw_event_int(&e, "i", i);
		int rc = gw_event_emit(&e);
		if (rc == 0) {
			queued++;
		} else {
			assert_int_equal(rc, -ENOBUFS);
			dropped++;
		}
	}
	assert_true(queued > 0);
	assert_true(dropped > 0);
	assert_int_equal(queued + dropped, N);

	/* now someone reads: the queue drains, and the next line is preceded by the count */
	struct sink k = {.fd = p[0], .cap = 1 << 20};
	k.buf = malloc(k.cap);
	assert_non_null(k.buf);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, sink_read, &k), 0);
	assert_int_equal(gw_event_flush(60000), 0);
	gw_loop_clock_advance(loop, 7);
	gw_event_begin(&e, "last");
	assert_int_equal(gw_event_emit(&e), 0);
	gw_event_close(); /* writes what is queued, then closes the pipe: the reader sees EOF */
	assert_int_equal(pthread_join(t, NULL), 0);
	close(p[0]);

	/* every number once, in order, or counted in the events_dropped line in its place */
	assert_true(k.len > 0);
	assert_int_equal(k.buf[k.len - 1], '\n');
	int next = 0, reported = 0, lines = 0, drop_lines = 0;
	char *last_drop = NULL;
	for (char *l = k.buf, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
		*nl = '\0';
		lines++;
		int i, c;
		if (sscanf(l, "{\"t_ms\":%*d,\"type\":\"n\",\"i\":%d}", &i) == 1) {
			assert_int_equal(i, next);
			next++;
		} else if (sscanf(l, "{\"t_ms\":%*d,\"type\":\"events_dropped\",\"count\":%d}",
				  &c) == 1) {
			assert_true(c > 0);
			next += c;
			reported += c;
			drop_lines++;
			last_drop = l;
		} else {
			assert_string_equal(l, "{\"t_ms\":1796601600130,\"type\":\"last\"}");
			assert_int_equal(next, N); /* the last line comes last */
			/* the drops at the end are reported at the moment of the next line */
			assert_non_null(last_drop);
			assert_non_null(strstr(last_drop, "\"t_ms\":1796601600130,"));
		}
	}
	assert_int_equal(next, N);
	assert_int_equal(reported, dropped);
	assert_int_equal(lines, queued + 1 + drop_lines); /* nothing else, nothing cut */
	free(k.buf);
	gw_loop_free(loop);
}

/* Closing with a sink that takes nothing returns (after the grace of about 2 s real time;
   bounded, never a hang at shutdown) and the descriptor is closed. */
static void test_close_with_stuck_sink_returns(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(gw_event_open_fd(p[1], NULL), 0);
	struct gw_event e;
	int queued = 0;
	for (int i = 0; i < 5000; i++) {
		gw_event_begin(&e, "n");
		gw_event_int(&e, "i", i);
		queued += gw_event_emit(&e) == 0;
	}
	assert_true(queued > 0);
	gw_event_close();
	assert_false(gw_event_on());
	/* the write end is closed: what the pipe holds, then EOF */
	char buf[4096];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		;
	assert_int_equal(n, 0);
	close(p[0]);
}

/* What a barrier's done callback saw. */
struct synced {
	int calls, rc;
};

static void on_synced(void *arg, int rc)
{
	struct synced *y = arg;
	y->calls++;
	y->rc = rc;
}

/* Emit "n" lines until more than bytes were queued; returns the bytes queued. */
static size_t emit_bytes(size_t bytes)
{
	size_t total = 0;
	struct gw_event e;
	for (int i = 0; total <= bytes; i++) {
		gw_event_begin(&e, "n");
		gw_event_int(&e, "i", i);
		assert_int_equal(gw_event_emit(&e), 0);
		total += e.len;
	}
	return total;
}

/* Read what the pipe holds now (non-blocking); returns the bytes read. */
static size_t drain(int fd)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += (size_t)n;
	return got;
}

/* The barrier: with no stream it answers at once; with a sink nobody reads (the writer held
   on a full pipe) it is not answered, however often the loop runs; once the sink reads it is
   answered (rc 0) and by then every byte queued before it is in the pipe or read from it. */
static void test_sync_waits_for_the_writer(void **state)
{
	(void)state;
	struct gw_loop *loop = fake_loop();
	struct gw_event_sync s = {0};
	struct synced y = {0};
	assert_int_equal(gw_event_sync(loop, &s, 5000, on_synced, &y), 0); /* no stream */

	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	int pipe_sz = fcntl(p[1], F_GETPIPE_SZ);
	assert_true(pipe_sz > 0 && pipe_sz <= 32768); /* more than the pipe, less than the ring */
	assert_int_equal(gw_event_open_fd(p[1], loop), 0);
	assert_int_equal(gw_event_sync(loop, &s, 5000, on_synced, &y), 0); /* nothing queued */
	size_t before = emit_bytes((size_t)pipe_sz + 8192);
	assert_int_equal(gw_event_sync(loop, &s, 5000, on_synced, &y), 1);
	emit_bytes(100); /* after the barrier: not waited for */
	/* the writer cannot hand on more than the pipe holds: the barrier cannot be reached */
	for (int i = 0; i < 20; i++)
		gw_loop_run_once(loop, 10);
	assert_int_equal(y.calls, 0);

	/* the sink reads: answered, and the lines before it are all out of the queue */
	size_t got = 0;
	for (int i = 0; i < 3000 && y.calls == 0; i++) {
		got += drain(p[0]);
		gw_loop_run_once(loop, 10);
	}
	assert_int_equal(y.calls, 1);
	assert_int_equal(y.rc, 0);
	int in_pipe = 0;
	assert_int_equal(ioctl(p[0], FIONREAD, &in_pipe), 0);
	assert_true(got + (size_t)in_pipe >= before);
	assert_int_equal(gw_event_flush(60000), 0);
	drain(p[0]);
	assert_int_equal(gw_event_sync(loop, &s, 5000, on_synced, &y), 0); /* all out now */
	gw_event_close();
	close(p[0]);
	assert_int_equal(y.calls, 1);
	gw_loop_free(loop);
}

/* A sink that takes nothing: the barrier answers -ETIMEDOUT after its bound of loop time
   (the fake clock), not before; a withdrawn barrier is never answered. */
static void test_sync_stuck_sink_times_out(void **state)
{
	(void)state;
	struct gw_loop *loop = fake_loop();
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	int pipe_sz = fcntl(p[1], F_GETPIPE_SZ);
	assert_true(pipe_sz > 0 && pipe_sz <= 32768);
	assert_int_equal(gw_event_open_fd(p[1], loop), 0);
	emit_bytes((size_t)pipe_sz + 8192);
	struct gw_event_sync s = {0}, t = {0};
	struct synced y = {0}, z = {0};
	assert_int_equal(gw_event_sync(loop, &s, 5000, on_synced, &y), 1);
	assert_int_equal(gw_event_sync(loop, &t, 5000, on_synced, &z), 1);
	gw_event_sync_cancel(&t);
	gw_loop_clock_advance(loop, 4999);
	assert_int_equal(y.calls, 0);
	gw_loop_clock_advance(loop, 1);
	assert_int_equal(y.calls, 1);
	assert_int_equal(y.rc, -ETIMEDOUT);
	gw_loop_clock_advance(loop, 10000);
	assert_int_equal(y.calls, 1);
	assert_int_equal(z.calls, 0);

	/* a reader for the close, which writes what is queued */
	struct sink k = {.fd = p[0], .cap = 1 << 20};
	k.buf = malloc(k.cap);
	assert_non_null(k.buf);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, sink_read, &k), 0);
	gw_event_close();
	assert_int_equal(pthread_join(th, NULL), 0);
	close(p[0]);
	free(k.buf);
	gw_loop_free(loop);
}

/* A sink whose writes fail (a pipe whose reader is gone): the barrier says so, whether the
   writer failed before it was asked (-EIO at once) or after (done with -EIO). */
static void test_sync_failed_write_is_an_error(void **state)
{
	(void)state;
	struct gw_loop *loop = fake_loop();
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	assert_int_equal(gw_event_open_fd(p[1], loop), 0);
	emit_bytes(100);
	struct gw_event_sync s = {0};
	struct synced y = {0};
	int rc = gw_event_sync(loop, &s, 60000, on_synced, &y);
	if (rc == 1) {
		for (int i = 0; i < 3000 && y.calls == 0; i++)
			gw_loop_run_once(loop, 10);
		assert_int_equal(y.calls, 1);
		rc = y.rc;
	}
	assert_int_equal(rc, -EIO);
	gw_event_close();
	gw_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_escapes),
	    cmocka_unit_test(test_json_not_utf8_replaced),
	    cmocka_unit_test(test_json_too_long_refused),
	    cmocka_unit_test_setup_teardown(test_line_fields_and_clock, setup_dir, teardown_dir),
	    cmocka_unit_test(test_long_field_left_out_whole),
	    cmocka_unit_test(test_int_fields_like_printf),
	    cmocka_unit_test_setup_teardown(test_stream_appends_never_truncates, setup_dir,
					    teardown_dir),
	    cmocka_unit_test_setup_teardown(test_stream_refuses_links_and_specials, setup_dir,
					    teardown_dir),
	    cmocka_unit_test(test_slow_sink_never_blocks),
	    cmocka_unit_test(test_close_with_stuck_sink_returns),
	    cmocka_unit_test(test_sync_waits_for_the_writer),
	    cmocka_unit_test(test_sync_stuck_sink_times_out),
	    cmocka_unit_test(test_sync_failed_write_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
