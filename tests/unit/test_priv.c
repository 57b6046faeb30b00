/*
 * Unit tests of gateway/priv. Every case runs in a forked child, because a privilege drop
 * cannot be undone: the child reports by exit code what it saw. Dropping needs root (the
 * test machine's CI runs as root); as another user test_drop fails after checking that
 * "nothing to do" holds, since a skipped case would pass unseen.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/priv.h"

/* Run fn in a child; returns its exit status (or 200 + signal). */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static int drop_to_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		return 50;
	if (gw_priv_drop("nobody", false) != 1)
		return 1;
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
		return 2;
	if (getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		return 3;
	/* supplementary groups are nobody's own now, root's group 0 is gone */
	gid_t groups[64];
	int n = getgroups(64, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == 0)
			return 4;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return 5;
	/* once dropped, a second call has nothing to do */
	if (gw_priv_drop("nobody", false) != 0)
		return 6;
	return 0;
}

static int root_without_user(void)
{
	if (gw_priv_drop("", false) != -EPERM || gw_priv_drop(NULL, false) != -EPERM)
		return 1;
	return geteuid() == 0 ? 0 : 2;
}

static int root_user_missing(void)
{
	if (gw_priv_drop("rinki-no-such-user", false) != -ENOENT)
		return 1;
	return geteuid() == 0 ? 0 : 2;
}

static int root_as_run_user(void)
{
	/* run.user root is no drop at all: refused */
	return gw_priv_drop("root", false) == -EPERM && geteuid() == 0 ? 0 : 1;
}

static int root_allowed(void)
{
	if (gw_priv_drop("nobody", true) != 0)
		return 1;
	return geteuid() == 0 && getuid() == 0 ? 0 : 2;
}

static int not_root(void)
{
	return gw_priv_drop("rinki-no-such-user", false) == 0 ? 0 : 1;
}

static void test_drop(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		assert_int_equal(in_child(not_root), 0);
		fail_msg("the privilege drop needs root to be tested (make test runs as root)");
	}
	assert_int_equal(in_child(drop_to_nobody), 0);
	assert_int_equal(in_child(root_without_user), 0);
	assert_int_equal(in_child(root_user_missing), 0);
	assert_int_equal(in_child(root_as_run_user), 0);
	assert_int_equal(in_child(root_allowed), 0);
}

static int nobody_then_call(void)
{
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 50;
	return not_root();
}

static void test_nothing_to_do_when_not_root(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		assert_int_equal(in_child(not_root), 0);
		return;
	}
	assert_int_equal(in_child(nobody_then_call), 0);
}

int main(void)
{
	gw_log_init("test_priv", false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_nothing_to_do_when_not_root),
	};
	return cmocka_run_group_tests_name("priv", tests, NULL, NULL);
}
