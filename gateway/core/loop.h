/*
 * loop: the only event loop of rinkid.
 *
 * One poll() over registered fds, one list of monotonic timers, signals through
 * signalfd. Every clock read in the gateway goes through gw_loop_now_ms(), which
 * tests can freeze and move forward, so timeouts are tested without sleeping.
 */
#ifndef GW_LOOP_H
#define GW_LOOP_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_loop;

typedef void (*gw_fd_cb)(struct gw_loop *loop, int fd, short revents, void *arg);
typedef void (*gw_timer_cb)(struct gw_loop *loop, void *arg);
typedef void (*gw_signal_cb)(struct gw_loop *loop, int signo, void *arg);

/* A timer is owned by its caller (embedded in a module's struct); the loop only links it. */
struct gw_timer {
	int64_t due_ms;
	gw_timer_cb cb;
	void *arg;
	bool armed;
	bool deferred; /* armed by gw_loop_defer(); due_ms is then its round */
	struct gw_timer *next;
};

/* Create a loop; returns NULL on allocation failure. */
struct gw_loop *gw_loop_new(void);
/* Free the loop (closes the signalfd; registered fds stay open: their owners close them). */
void gw_loop_free(struct gw_loop *loop);

/*
 * Register fd for events (POLLIN/POLLOUT). Sets O_NONBLOCK|O_CLOEXEC on it.
 * Returns 0, -EEXIST if already registered, -ENOMEM.
 */
int gw_loop_add_fd(struct gw_loop *loop, int fd, short events, gw_fd_cb cb, void *arg);
/* Change the events of a registered fd. Returns 0 or -ENOENT. */
int gw_loop_mod_fd(struct gw_loop *loop, int fd, short events);
/* Unregister fd (safe from inside any callback). Returns 0 or -ENOENT. */
int gw_loop_del_fd(struct gw_loop *loop, int fd);

/* Prepare a timer before first use. */
void gw_timer_init(struct gw_timer *t, gw_timer_cb cb, void *arg);
/* (Re)arm t to fire after ms milliseconds of loop time. */
void gw_timer_schedule(struct gw_loop *loop, struct gw_timer *t, int64_t ms);
/* Disarm t; harmless when it is not armed. */
void gw_timer_cancel(struct gw_loop *loop, struct gw_timer *t);
/*
 * Run t's callback once the loop has slept: after the next poll() of this loop returns
 * (it waits at most GW_LOOP_DEFER_MS for it), before that iteration's timers and fd
 * callbacks, so nothing else the loop delivers overtakes it. Work that follows an urgent
 * write goes here, so that the reader of the write gets the CPU first. gw_timer_cancel()
 * withdraws it; gw_timer_remaining() says 0 while it waits.
 */
void gw_loop_defer(struct gw_loop *loop, struct gw_timer *t);
#define GW_LOOP_DEFER_MS 1
/*
 * From a fd callback: dispatch no other fd callback in this iteration; the loop polls again
 * (sleeping at once when nothing is due) and what was ready is reported again. Work
 * deferred by the callback (gw_loop_defer) then runs before anything else it delivers.
 */
void gw_loop_yield(struct gw_loop *loop);
/* Milliseconds left until t fires, or -1 when not armed. */
int64_t gw_timer_remaining(struct gw_loop *loop, const struct gw_timer *t);

/*
 * Deliver the signals in set through signalfd to cb (they are blocked for the
 * process). Returns 0 or negative errno.
 */
int gw_loop_add_signals(struct gw_loop *loop, const sigset_t *set, gw_signal_cb cb, void *arg);

/* Monotonic time in ms (real CLOCK_MONOTONIC, or the frozen test clock). */
int64_t gw_loop_now_ms(struct gw_loop *loop);
/* Wall-clock time in ms since the epoch (UTC); follows the test clock offset too. */
int64_t gw_loop_wall_ms(struct gw_loop *loop);
/* Freeze the clock at mono_ms/wall_ms (tests). */
void gw_loop_clock_override(struct gw_loop *loop, int64_t mono_ms, int64_t wall_ms);
/* Move a frozen clock forward by ms and run the timers that became due. */
void gw_loop_clock_advance(struct gw_loop *loop, int64_t ms);
/* Milliseconds of loop time until the earliest armed timer is due (0 when one is due
   already), or -1 when none is armed: how far a test moves a frozen clock for the next. */
int64_t gw_loop_next_timer_ms(struct gw_loop *loop);

/*
 * One iteration: poll at most max_wait_ms (-1: until the next timer or forever),
 * run due timers, dispatch fd events. Returns the number of fds dispatched or -errno.
 */
int gw_loop_run_once(struct gw_loop *loop, int max_wait_ms);
/* Run iterations until gw_loop_stop(). Returns 0. */
int gw_loop_run(struct gw_loop *loop);
/* Make gw_loop_run() return after the current iteration. */
void gw_loop_stop(struct gw_loop *loop);

#endif
