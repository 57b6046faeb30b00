/*
 * loop: poll() over a small table of fds plus a sorted singly linked list of
 * caller-owned timers. An iteration fills the pollfd array, waits until the
 * nearest timer, runs deferred work (gw_loop_defer()), due timers, then dispatches fd
 * events (all of them, unless a callback yields: poll() is level-triggered, so the rest
 * are reported again by the next one); while work is deferred it waits at most
 * GW_LOOP_DEFER_MS. Deleting an fd from
 * inside a callback only marks its slot; slots are compacted between iterations,
 * so dispatch never touches a freed entry.
 */
#include "core/loop.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

struct fd_slot {
	int fd;
	short events;
	gw_fd_cb cb;
	void *arg;
	bool dead;
};

struct gw_loop {
	struct fd_slot *slots;
	struct pollfd *pfds;
	int nslots, cap;
	struct gw_timer *timers;   /* sorted by due_ms */
	struct gw_timer *deferred; /* gw_loop_defer(), in order */
	int64_t defer_round;	   /* the round deferred work joins now */
	bool frozen;
	int64_t frozen_mono, wall_offset;
	bool stop;
	bool yield; /* gw_loop_yield(): no more fd callbacks this iteration */
	int sigfd;
	gw_signal_cb sig_cb;
	void *sig_arg;
};

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct gw_loop *gw_loop_new(void)
{
	struct gw_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->sigfd = -1;
	return loop;
}

void gw_loop_free(struct gw_loop *loop)
{
	if (!loop)
		return;
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	free(loop->slots);
	free(loop->pfds);
	free(loop);
}

static int find_slot(struct gw_loop *loop, int fd)
{
	for (int i = 0; i < loop->nslots; i++)
		if (loop->slots[i].fd == fd && !loop->slots[i].dead)
			return i;
	return -1;
}

int gw_loop_add_fd(struct gw_loop *loop, int fd, short events, gw_fd_cb cb, void *arg)
{
	assert(fd >= 0 && cb);
	if (find_slot(loop, fd) >= 0)
		return -EEXIST;
	if (loop->nslots == loop->cap) {
		int cap = loop->cap ? loop->cap * 2 : 8;
		struct fd_slot *s = realloc(loop->slots, (size_t)cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		loop->slots = s;
		struct pollfd *p = realloc(loop->pfds, (size_t)cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		loop->pfds = p;
		loop->cap = cap;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	int fdfl = fcntl(fd, F_GETFD);
	if (fdfl >= 0)
		fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC);
	loop->slots[loop->nslots++] =
	    (struct fd_slot){.fd = fd, .events = events, .cb = cb, .arg = arg};
	return 0;
}

int gw_loop_mod_fd(struct gw_loop *loop, int fd, short events)
{
	int i = find_slot(loop, fd);
	if (i < 0)
		return -ENOENT;
	loop->slots[i].events = events;
	return 0;
}

int gw_loop_del_fd(struct gw_loop *loop, int fd)
{
	int i = find_slot(loop, fd);
	if (i < 0)
		return -ENOENT;
	loop->slots[i].dead = true;
	return 0;
}

static void compact(struct gw_loop *loop)
{
	int j = 0;
	for (int i = 0; i < loop->nslots; i++)
		if (!loop->slots[i].dead)
			loop->slots[j++] = loop->slots[i];
	loop->nslots = j;
}

void gw_timer_init(struct gw_timer *t, gw_timer_cb cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

void gw_timer_cancel(struct gw_loop *loop, struct gw_timer *t)
{
	if (!t->armed)
		return;
	struct gw_timer **lists[2] = {&loop->timers, &loop->deferred};
	for (int l = 0; l < 2; l++)
		for (struct gw_timer **pp = lists[l]; *pp; pp = &(*pp)->next) {
			if (*pp == t) {
				*pp = t->next;
				l = 2;
				break;
			}
		}
	t->armed = false;
	t->deferred = false;
	t->next = NULL;
}

void gw_timer_schedule(struct gw_loop *loop, struct gw_timer *t, int64_t ms)
{
	gw_timer_cancel(loop, t);
	t->due_ms = gw_loop_now_ms(loop) + (ms < 0 ? 0 : ms);
	struct gw_timer **pp = &loop->timers;
	while (*pp && (*pp)->due_ms <= t->due_ms)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

void gw_loop_defer(struct gw_loop *loop, struct gw_timer *t)
{
	gw_timer_cancel(loop, t);
	t->due_ms = loop->defer_round;
	t->deferred = true;
	struct gw_timer **pp = &loop->deferred;
	while (*pp)
		pp = &(*pp)->next;
	t->next = NULL;
	*pp = t;
	t->armed = true;
}

/* The deferred work of the rounds so far, in order; what it defers again waits for the
   next sleep. */
static void run_deferred(struct gw_loop *loop)
{
	int64_t round = loop->defer_round++;
	while (loop->deferred && loop->deferred->due_ms <= round) {
		struct gw_timer *t = loop->deferred;
		loop->deferred = t->next;
		t->next = NULL;
		t->armed = false;
		t->deferred = false;
		t->cb(loop, t->arg);
	}
}

int64_t gw_timer_remaining(struct gw_loop *loop, const struct gw_timer *t)
{
	if (!t->armed)
		return -1;
	if (t->deferred)
		return 0;
	int64_t left = t->due_ms - gw_loop_now_ms(loop);
	return left < 0 ? 0 : left;
}

int64_t gw_loop_now_ms(struct gw_loop *loop)
{
	return loop->frozen ? loop->frozen_mono : clock_ms(CLOCK_MONOTONIC);
}

int64_t gw_loop_wall_ms(struct gw_loop *loop)
{
	if (loop->frozen)
		return loop->frozen_mono + loop->wall_offset;
	return clock_ms(CLOCK_REALTIME);
}

void gw_loop_clock_override(struct gw_loop *loop, int64_t mono_ms, int64_t wall_ms)
{
	loop->frozen = true;
	loop->frozen_mono = mono_ms;
	loop->wall_offset = wall_ms - mono_ms;
}

int64_t gw_loop_next_timer_ms(struct gw_loop *loop)
{
	if (!loop->timers)
		return -1;
	int64_t left = loop->timers->due_ms - gw_loop_now_ms(loop);
	return left > 0 ? left : 0;
}

static void run_timers(struct gw_loop *loop)
{
	int64_t now = gw_loop_now_ms(loop);
	/* A callback may re-arm its own timer for "now": bound the work per call. */
	for (int guard = 0; guard < 10000 && loop->timers && loop->timers->due_ms <= now; guard++) {
		struct gw_timer *t = loop->timers;
		loop->timers = t->next;
		t->next = NULL;
		t->armed = false;
		t->cb(loop, t->arg);
	}
}

void gw_loop_clock_advance(struct gw_loop *loop, int64_t ms)
{
	assert(loop->frozen);
	int64_t target = loop->frozen_mono + ms;
	run_deferred(loop); /* time passed: the loop slept */
	/* Step through each due time so timers fire in order, each seeing its own now. */
	while (loop->timers && loop->timers->due_ms <= target) {
		if (loop->timers->due_ms > loop->frozen_mono)
			loop->frozen_mono = loop->timers->due_ms;
		run_timers(loop);
	}
	loop->frozen_mono = target;
	run_timers(loop);
}

static void on_signalfd(struct gw_loop *loop, int fd, short revents, void *arg)
{
	(void)revents;
	(void)arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		loop->sig_cb(loop, (int)si.ssi_signo, loop->sig_arg);
}

int gw_loop_add_signals(struct gw_loop *loop, const sigset_t *set, gw_signal_cb cb, void *arg)
{
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	int fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	loop->sigfd = fd;
	loop->sig_cb = cb;
	loop->sig_arg = arg;
	return gw_loop_add_fd(loop, fd, POLLIN, on_signalfd, NULL);
}

int gw_loop_run_once(struct gw_loop *loop, int max_wait_ms)
{
	compact(loop);
	int n = loop->nslots;
	for (int i = 0; i < n; i++)
		loop->pfds[i] =
		    (struct pollfd){.fd = loop->slots[i].fd, .events = loop->slots[i].events};

	int timeout = max_wait_ms;
	if (loop->deferred && (timeout < 0 || timeout > GW_LOOP_DEFER_MS))
		timeout = GW_LOOP_DEFER_MS;
	if (loop->timers && !loop->frozen) {
		int64_t left = loop->timers->due_ms - gw_loop_now_ms(loop);
		if (left < 0)
			left = 0;
		if (timeout < 0 || left < timeout)
			timeout = (int)left;
	}
	int rc = poll(loop->pfds, (nfds_t)n, timeout);
	if (rc < 0) {
		if (errno == EINTR)
			return 0;
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "poll: %s", strerror(errno));
		return -errno;
	}
	loop->yield = false;
	run_deferred(loop);
	run_timers(loop);
	int dispatched = 0;
	for (int i = 0; i < n && rc > 0 && !loop->yield; i++) {
		if (!loop->pfds[i].revents)
			continue;
		rc--;
		/* The slot may have been deleted by an earlier callback of this iteration. */
		if (loop->slots[i].dead || loop->slots[i].fd != loop->pfds[i].fd)
			continue;
		loop->slots[i].cb(loop, loop->pfds[i].fd, loop->pfds[i].revents,
				  loop->slots[i].arg);
		dispatched++;
	}
	return dispatched;
}

int gw_loop_run(struct gw_loop *loop)
{
	loop->stop = false;
	while (!loop->stop)
		gw_loop_run_once(loop, -1);
	return 0;
}

void gw_loop_yield(struct gw_loop *loop)
{
	loop->yield = true;
}

void gw_loop_stop(struct gw_loop *loop)
{
	loop->stop = true;
}
