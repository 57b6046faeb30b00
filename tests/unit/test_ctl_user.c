/*
 * Unit tests for gateway/ctl/ctl_user.c, the control socket's user-name cache, on the
 * loop's fake clock with a counting fake look-up: one look-up per uid while fresh, names
 * exact by uid, "no such user" kept for a shorter time, a failing backend not kept, names
 * that are not plain refused, the oldest entry giving way, the system's passwd database
 * behind it by default, and fetching off the loop: a look-up that hangs leaves the loop
 * free, queued uids follow one another, and the loop hears when each is in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/loop.h"
#include "ctl/ctl_user.h"

struct fake {
	atomic_int calls;
	int block_fd; /* > 0: a look-up waits (at most 20 s) for a byte on it */
	uid_t last;
	int rc;		 /* returned for uids >= 5000 */
	const char *odd; /* the name of uid 4000 */
};

/* uid N is "user<N>"; uid 4000 is f->odd; uids from 5000 answer f->rc. */
static int fake_lookup(void *arg, uid_t uid, char *name, size_t len)
{
	struct fake *f = arg;
	atomic_fetch_add(&f->calls, 1);
	f->last = uid;
	if (f->block_fd > 0) {
		struct pollfd p = {.fd = f->block_fd, .events = POLLIN};
		char b;
		if (poll(&p, 1, 20000) == 1 && read(f->block_fd, &b, 1) != 1)
			return -EIO;
	}
	if (uid >= 5000)
		return f->rc;
	if (uid == 4000) {
		snprintf(name, len, "%s", f->odd);
		return 0;
	}
	snprintf(name, len, "user%u", (unsigned)uid);
	return 0;
}

struct rig {
	struct gw_loop *loop;
	struct fake f;
	struct gw_ctl_users *c;
	int ready;
};

static void on_ready(void *arg)
{
	struct rig *r = arg;
	r->ready++;
}

static int setup(void **state)
{
	static struct rig r;
	memset(&r, 0, sizeof(r));
	r.loop = gw_loop_new();
	if (!r.loop)
		return -1;
	gw_loop_clock_override(r.loop, 1000, 1796601600000LL);
	if (gw_ctl_users_new(r.loop, fake_lookup, &r.f, on_ready, &r, &r.c) < 0)
		return -1;
	*state = &r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;
	gw_ctl_users_free(r->c);
	gw_loop_free(r->loop);
	return 0;
}

static void test_once_per_uid_while_fresh(void **state)
{
	struct rig *r = *state;
	char name[64];
	for (int i = 0; i < 5; i++) {
		assert_int_equal(gw_ctl_users_name(r->c, 1000, name, sizeof(name)), 0);
		assert_string_equal(name, "user1000");
	}
	assert_int_equal(r->f.calls, 1);
	/* exact by uid: 100 and 10000 are others, each looked up once */
	assert_int_equal(gw_ctl_users_name(r->c, 100, name, sizeof(name)), 0);
	assert_string_equal(name, "user100");
	assert_int_equal(gw_ctl_users_name(r->c, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "user1000");
	assert_int_equal(r->f.calls, 2);
	/* stale after GW_CTL_USER_TTL_MS: looked up again (a renamed user shows) */
	gw_loop_clock_advance(r->loop, GW_CTL_USER_TTL_MS - 1);
	assert_int_equal(gw_ctl_users_name(r->c, 1000, name, sizeof(name)), 0);
	assert_int_equal(r->f.calls, 2);
	gw_loop_clock_advance(r->loop, 1);
	assert_int_equal(gw_ctl_users_name(r->c, 1000, name, sizeof(name)), 0);
	assert_int_equal(r->f.calls, 3);
	assert_int_equal(r->f.last, 1000);
	/* a buffer too small is refused, not cut */
	assert_int_equal(gw_ctl_users_name(r->c, 1000, name, 8), -ENOSPC);
	assert_int_equal(r->f.calls, 3);
}

static void test_no_user_kept_shorter_failure_not_kept(void **state)
{
	struct rig *r = *state;
	char name[64];
	r->f.rc = -ENOENT;
	assert_int_equal(gw_ctl_users_name(r->c, 5001, name, sizeof(name)), -ENOENT);
	assert_int_equal(gw_ctl_users_name(r->c, 5001, name, sizeof(name)), -ENOENT);
	assert_int_equal(r->f.calls, 1);
	gw_loop_clock_advance(r->loop, GW_CTL_USER_NEG_TTL_MS);
	assert_int_equal(gw_ctl_users_name(r->c, 5001, name, sizeof(name)), -ENOENT);
	assert_int_equal(r->f.calls, 2);
	/* the backend failing is no answer: asked again next time */
	r->f.rc = -EIO;
	assert_int_equal(gw_ctl_users_name(r->c, 5002, name, sizeof(name)), -EIO);
	assert_int_equal(gw_ctl_users_name(r->c, 5002, name, sizeof(name)), -EIO);
	assert_int_equal(r->f.calls, 4);
}

static void test_names_not_plain_are_none(void **state)
{
	struct rig *r = *state;
	char name[64];
	static const char *const bad[] = {"", "ann via root", "a\nb", "\x1b[2J",
					  "abcdefghijklmnopqrstuvwxyz0123456"}; /* 33 bytes */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r->f.odd = bad[i];
		gw_loop_clock_advance(r->loop, GW_CTL_USER_NEG_TTL_MS);
		assert_int_equal(gw_ctl_users_name(r->c, 4000, name, sizeof(name)), -ENOENT);
	}
	r->f.odd = "aino.k-2_x";
	gw_loop_clock_advance(r->loop, GW_CTL_USER_NEG_TTL_MS);
	assert_int_equal(gw_ctl_users_name(r->c, 4000, name, sizeof(name)), 0);
	assert_string_equal(name, "aino.k-2_x");
}

static void test_full_table_gives_up_the_oldest(void **state)
{
	struct rig *r = *state;
	char name[64];
	for (uid_t u = 1; u <= GW_CTL_USER_SLOTS; u++) {
		assert_int_equal(gw_ctl_users_name(r->c, u, name, sizeof(name)), 0);
		gw_loop_clock_advance(r->loop, 1);
	}
	assert_int_equal(r->f.calls, GW_CTL_USER_SLOTS);
	/* one more uid takes uid 1's place; the others stay */
	assert_int_equal(gw_ctl_users_name(r->c, 999, name, sizeof(name)), 0);
	for (uid_t u = 2; u <= GW_CTL_USER_SLOTS; u++)
		assert_int_equal(gw_ctl_users_name(r->c, u, name, sizeof(name)), 0);
	assert_int_equal(r->f.calls, GW_CTL_USER_SLOTS + 1);
	assert_int_equal(gw_ctl_users_name(r->c, 1, name, sizeof(name)), 0);
	assert_string_equal(name, "user1");
	assert_int_equal(r->f.calls, GW_CTL_USER_SLOTS + 2);
}

/* By default the system's passwd database: our own uid has our own name. */
static void test_default_is_passwd(void **state)
{
	(void)state;
	struct gw_ctl_users *c;
	assert_int_equal(gw_ctl_users_new(NULL, NULL, NULL, NULL, NULL, &c), 0);
	struct passwd *pw = getpwuid(getuid());
	assert_non_null(pw);
	char name[64];
	assert_int_equal(gw_ctl_users_name(c, getuid(), name, sizeof(name)), 0);
	assert_string_equal(name, pw->pw_name);
	/* a uid nobody has */
	assert_int_equal(gw_ctl_users_name(c, 3999999999u, name, sizeof(name)), -ENOENT);
	gw_ctl_users_free(c);
}

static void tick(struct gw_loop *loop, void *arg)
{
	(void)loop;
	(*(int *)arg)++;
}

/* Run the loop until r->ready reaches n (bounded: it must come). */
static void wait_ready(struct rig *r, int n)
{
	for (int i = 0; i < 4000 && r->ready < n; i++)
		gw_loop_run_once(r->loop, 5);
	assert_int_equal(r->ready, n);
}

static void test_fetch_off_the_loop(void **state)
{
	struct rig *r = *state;
	char name[64];
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	r->f.block_fd = p[0];
	assert_int_equal(gw_ctl_users_fetch(r->c, 1000), 1); /* returns at once */
	assert_int_equal(gw_ctl_users_fetch(r->c, 1000), 1); /* the same look-up */
	assert_int_equal(gw_ctl_users_fetch(r->c, 2000), 1); /* queued behind it */
	/* the loop runs its timers while the look-up hangs */
	int ticks = 0;
	struct gw_timer t;
	gw_timer_init(&t, tick, &ticks);
	gw_timer_schedule(r->loop, &t, 0);
	for (int i = 0; i < 400 && !ticks; i++)
		gw_loop_run_once(r->loop, 5);
	assert_int_equal(ticks, 1);
	assert_int_equal(r->ready, 0);
	assert_int_equal(write(p[1], "xy", 2), 2); /* both may go on */
	wait_ready(r, 2);
	assert_int_equal(atomic_load(&r->f.calls), 2);
	/* both in the cache now: asked of nobody */
	assert_int_equal(gw_ctl_users_fetch(r->c, 1000), 0);
	assert_int_equal(gw_ctl_users_name(r->c, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "user1000");
	assert_int_equal(gw_ctl_users_name(r->c, 2000, name, sizeof(name)), 0);
	assert_string_equal(name, "user2000");
	assert_int_equal(atomic_load(&r->f.calls), 2);
	/* a failing backend, fetched: kept as no name for a while, so the loop never asks */
	r->f.block_fd = 0;
	r->f.rc = -EIO;
	assert_int_equal(gw_ctl_users_fetch(r->c, 5005), 1);
	wait_ready(r, 3);
	assert_int_equal(gw_ctl_users_fetch(r->c, 5005), 0);
	assert_int_equal(gw_ctl_users_name(r->c, 5005, name, sizeof(name)), -ENOENT);
	assert_int_equal(atomic_load(&r->f.calls), 3);
	gw_loop_clock_advance(r->loop, GW_CTL_USER_NEG_TTL_MS);
	assert_int_equal(gw_ctl_users_fetch(r->c, 5005), 1);
	wait_ready(r, 4);
	/* freeing with a look-up in flight waits for it */
	r->f.block_fd = p[0];
	assert_int_equal(gw_ctl_users_fetch(r->c, 3000), 1);
	assert_int_equal(write(p[1], "z", 1), 1);
	close(p[1]);
	gw_ctl_users_free(r->c);
	r->c = NULL;
	close(p[0]);
	/* without a loop there is no fetching */
	struct gw_ctl_users *c;
	assert_int_equal(gw_ctl_users_new(NULL, fake_lookup, &r->f, NULL, NULL, &c), 0);
	assert_int_equal(gw_ctl_users_fetch(c, 1000), -ENOTSUP);
	gw_ctl_users_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_once_per_uid_while_fresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_user_kept_shorter_failure_not_kept, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_names_not_plain_are_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_table_gives_up_the_oldest, setup, teardown),
	    cmocka_unit_test(test_default_is_passwd),
	    cmocka_unit_test_setup_teardown(test_fetch_off_the_loop, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
