/* Unit tests for gateway/loop.c: timers on the fake clock, fds, signals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"

static char order[64];

static void fire(struct gw_loop *loop, void *arg)
{
	(void)loop;
	strncat(order, arg, sizeof(order) - strlen(order) - 1);
}

static void test_timers_in_order(void **state)
{
	(void)state;
	struct gw_loop *l = gw_loop_new();
	gw_loop_clock_override(l, 100, 1000100);
	struct gw_timer a, b, c;
	gw_timer_init(&a, fire, "a");
	gw_timer_init(&b, fire, "b");
	gw_timer_init(&c, fire, "c");
	order[0] = '\0';
	assert_int_equal(gw_loop_next_timer_ms(l), -1);
	gw_timer_schedule(l, &a, 300);
	gw_timer_schedule(l, &b, 100);
	gw_timer_schedule(l, &c, 200);
	assert_int_equal(gw_timer_remaining(l, &a), 300);
	assert_int_equal(gw_loop_next_timer_ms(l), 100);
	gw_timer_cancel(l, &c);
	assert_int_equal(gw_timer_remaining(l, &c), -1);
	gw_loop_clock_advance(l, 99);
	assert_string_equal(order, "");
	assert_int_equal(gw_loop_next_timer_ms(l), 1);
	gw_loop_clock_advance(l, 1);
	assert_string_equal(order, "b");
	/* c was cancelled: a is next, due at 400 */
	assert_int_equal(gw_loop_next_timer_ms(l), 200);
	/* rescheduling replaces the old due time */
	gw_timer_schedule(l, &a, 50);
	assert_int_equal(gw_loop_next_timer_ms(l), 50);
	gw_loop_clock_advance(l, 1000);
	assert_string_equal(order, "ba");
	assert_int_equal(gw_loop_next_timer_ms(l), -1);
	assert_int_equal(gw_loop_now_ms(l), 1200);
	assert_int_equal(gw_loop_wall_ms(l), 1001200);
	gw_loop_free(l);
}

struct pipefx {
	int fds[2];
	int hits;
	struct gw_loop *l;
};

static void on_read(struct gw_loop *l, int fd, short revents, void *arg)
{
	struct pipefx *p = arg;
	char b[16];
	(void)revents;
	assert_true(read(fd, b, sizeof(b)) > 0);
	p->hits++;
	/* deleting itself inside the callback is safe */
	gw_loop_del_fd(l, fd);
}

static void test_fd_dispatch_and_delete(void **state)
{
	(void)state;
	struct pipefx p = {0};
	assert_int_equal(pipe(p.fds), 0);
	p.l = gw_loop_new();
	assert_int_equal(gw_loop_add_fd(p.l, p.fds[0], POLLIN, on_read, &p), 0);
	assert_int_equal(gw_loop_add_fd(p.l, p.fds[0], POLLIN, on_read, &p), -EEXIST);
	assert_true(fcntl(p.fds[0], F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(p.fds[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(gw_loop_run_once(p.l, 0), 0);
	assert_int_equal(write(p.fds[1], "x", 1), 1);
	assert_int_equal(gw_loop_run_once(p.l, 100), 1);
	assert_int_equal(p.hits, 1);
	assert_int_equal(write(p.fds[1], "y", 1), 1);
	assert_int_equal(gw_loop_run_once(p.l, 10), 0);
	assert_int_equal(p.hits, 1);
	assert_int_equal(gw_loop_del_fd(p.l, p.fds[0]), -ENOENT);
	close(p.fds[0]);
	close(p.fds[1]);
	gw_loop_free(p.l);
}

static int got_signal;
static void on_sig(struct gw_loop *l, int signo, void *arg)
{
	(void)arg;
	got_signal = signo;
	gw_loop_stop(l);
}

static void test_signalfd(void **state)
{
	(void)state;
	struct gw_loop *l = gw_loop_new();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(gw_loop_add_signals(l, &set, on_sig, NULL), 0);
	kill(getpid(), SIGUSR1);
	gw_loop_run(l);
	assert_int_equal(got_signal, SIGUSR1);
	gw_loop_free(l);
}

static struct gw_timer again;

static void fire_and_defer(struct gw_loop *loop, void *arg)
{
	fire(loop, arg);
	gw_loop_defer(loop, &again); /* deferred from deferred work: the next sleep */
}

static void on_pipe_order(struct gw_loop *l, int fd, short revents, void *arg)
{
	char b[16];
	(void)revents;
	assert_true(read(fd, b, sizeof(b)) > 0);
	fire(l, arg);
}

/*
 * Deferred work runs after the next poll returns, in order, before that iteration's
 * timers and fd callbacks; a cancelled one never runs; one deferred by deferred work waits
 * for the next poll; with work deferred and nothing else to do, poll returns (it waits at
 * most GW_LOOP_DEFER_MS, not until the far timer).
 */
static void test_defer(void **state)
{
	(void)state;
	struct gw_loop *l = gw_loop_new();
	struct gw_timer a, b, c, t;
	int p[2];
	assert_int_equal(pipe(p), 0);
	gw_timer_init(&a, fire, "a");
	gw_timer_init(&b, fire_and_defer, "b");
	gw_timer_init(&c, fire, "c");
	gw_timer_init(&t, fire, "t");
	gw_timer_init(&again, fire, "g");
	order[0] = '\0';
	assert_int_equal(gw_loop_add_fd(l, p[0], POLLIN, on_pipe_order, "f"), 0);
	gw_timer_schedule(l, &t, 0);
	gw_loop_defer(l, &a);
	gw_loop_defer(l, &b);
	gw_loop_defer(l, &c);
	assert_int_equal(gw_timer_remaining(l, &a), 0);
	gw_timer_cancel(l, &c);
	assert_int_equal(gw_timer_remaining(l, &c), -1);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_string_equal(order, ""); /* nothing before the loop runs */
	assert_true(gw_loop_run_once(l, -1) >= 0);
	assert_string_equal(order, "abtf");
	gw_timer_schedule(l, &t, 3600 * 1000); /* far away: must not hold the deferred work */
	assert_true(gw_loop_run_once(l, -1) >= 0);
	assert_string_equal(order, "abtfg");
	gw_loop_del_fd(l, p[0]);
	gw_timer_cancel(l, &t);
	close(p[0]);
	close(p[1]);
	gw_loop_free(l);
}

static struct gw_timer later;

/* Reads its pipe, records itself, defers "d" and yields. */
static void on_pipe_yield(struct gw_loop *l, int fd, short revents, void *arg)
{
	on_pipe_order(l, fd, revents, arg);
	gw_loop_defer(l, &later);
	gw_loop_yield(l);
}

/*
 * A callback that yields: no other fd callback of that iteration runs; the next poll
 * reports the other ready fd again, after the yielding callback's deferred work.
 */
static void test_yield(void **state)
{
	(void)state;
	struct gw_loop *l = gw_loop_new();
	int p[2], q[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	gw_timer_init(&later, fire, "d");
	order[0] = '\0';
	assert_int_equal(gw_loop_add_fd(l, p[0], POLLIN, on_pipe_yield, "y"), 0);
	assert_int_equal(gw_loop_add_fd(l, q[0], POLLIN, on_pipe_order, "o"), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "x", 1), 1);
	assert_int_equal(gw_loop_run_once(l, -1), 1);
	assert_string_equal(order, "y");
	assert_int_equal(gw_loop_run_once(l, -1), 1);
	assert_string_equal(order, "ydo");
	gw_loop_del_fd(l, p[0]);
	gw_loop_del_fd(l, q[0]);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	gw_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers_in_order), cmocka_unit_test(test_fd_dispatch_and_delete),
	    cmocka_unit_test(test_signalfd),	    cmocka_unit_test(test_defer),
	    cmocka_unit_test(test_yield),
	};
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
