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
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
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

/* The state directory of the owner tests: owned by 65534, made by the parent as root. */
static char state_dir[64];

/* Root becomes the directory's owner; what it then creates is not root's. */
static int root_becomes_owner(void)
{
	char why[200], file[128];
	struct stat st;
	if (gw_priv_become_owner(state_dir, why, sizeof(why)) != 1)
		return 1;
	if (geteuid() != 65534 || getuid() != 65534 || getegid() != 65534)
		return 2;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 3;
	snprintf(file, sizeof(file), "%s/rinki.db", state_dir);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != 65534 || st.st_gid != 65534)
		return 4;
	close(fd);
	/* the owner itself goes on unchanged */
	return gw_priv_become_owner(state_dir, why, sizeof(why)) == 0 ? 0 : 5;
}

/* Neither root nor the owner: refused, with the reason. */
static int stranger_refused(void)
{
	char why[200] = "";
	if (setgroups(0, NULL) < 0 || setgid(4321) < 0 || setuid(4321) < 0)
		return 50;
	if (gw_priv_become_owner(state_dir, why, sizeof(why)) != -EPERM)
		return 1;
	return strstr(why, "only its owner or root") ? 0 : 2;
}

/* A symlink in place of the directory is not followed. */
static int link_refused(void)
{
	char why[200], link[128];
	snprintf(link, sizeof(link), "%s.link", state_dir);
	if (symlink(state_dir, link) < 0)
		return 50;
	int rc = gw_priv_become_owner(link, why, sizeof(why));
	unlink(link);
	return rc < 0 && geteuid() == 0 ? 0 : 1;
}

static void test_become_owner(void **state)
{
	(void)state;
	char cmd[128];
	if (geteuid() != 0)
		fail_msg("becoming the state directory's owner needs root to be tested");
	snprintf(state_dir, sizeof(state_dir), "/tmp/rinki-priv-XXXXXX");
	assert_non_null(mkdtemp(state_dir));
	assert_int_equal(chown(state_dir, 65534, 65534), 0);
	assert_int_equal(chmod(state_dir, 0755), 0); /* the stranger gets as far as the owner */
	assert_int_equal(in_child(root_becomes_owner), 0);
	assert_int_equal(in_child(stranger_refused), 0);
	assert_int_equal(in_child(link_refused), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	gw_log_init("test_priv", false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_nothing_to_do_when_not_root),
	    cmocka_unit_test(test_become_owner),
	};
	return cmocka_run_group_tests_name("priv", tests, NULL, NULL);
}
