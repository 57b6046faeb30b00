/*
 * Integration: SIGHUP after the privilege drop. rinkid starts as root, opens its ports
 * and socket, drops to run.user (nobody here), and must still read its configuration on
 * SIGHUP: the file is 0640 root:<the user's group>, as tools/debian installs rinki.conf
 * (root:rinki 0640). A file only root reads is refused at reload and the running
 * configuration kept. Needs root (the test machine's CI runs as root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static struct h_rig rig;

/* Give dir and every file in it to uid:gid (the rig's db, the sims' sockets and links). */
static void give(const char *dir, uid_t uid, gid_t gid)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "chown -hR %u:%u %s", (unsigned)uid, (unsigned)gid, dir);
	assert_int_equal(system(cmd), 0);
}

static void test_reload_after_drop(void **state)
{
	(void)state;
	struct passwd *pw = getpwnam("nobody");
	if (geteuid() != 0)
		fail_msg("the privilege drop needs root to be tested (make test runs as root)");
	assert_non_null(pw);
	assert_int_equal(h_rig_init(&rig), 0);
	assert_int_equal(h_start_sims(&rig), 0);
	give(rig.dir, pw->pw_uid, pw->pw_gid);
	assert_int_equal(h_let_through(rig.dir), 0);
	rig.drop = 1;
	assert_int_equal(h_start_rinkid(&rig, "run.user nobody\ncall.ring_time 25"), 0);
	assert_int_equal(h_wait_log(&rig, "ready", 5000), 0);
	/* dropped: the process runs as nobody */
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)rig.rinkid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	unsigned ruid = 0, euid = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &ruid, &euid) == 2)
			break;
	fclose(f);
	assert_int_equal(euid, pw->pw_uid);

	/* the configuration as installed: root's, readable by the daemon's group */
	assert_int_equal(chown(rig.conf, 0, pw->pw_gid), 0);
	assert_int_equal(chmod(rig.conf, 0640), 0);
	assert_int_equal(h_write_conf(&rig, "run.user nobody\ncall.ring_time 30"), 0);
	assert_int_equal(kill(rig.rinkid, SIGHUP), 0);
	assert_int_equal(h_wait_log(&rig, "SIGHUP: 1 setting(s) changed", 5000), 0);

	/* only root may read it: refused, the running configuration kept */
	assert_int_equal(chmod(rig.conf, 0600), 0);
	assert_int_equal(kill(rig.rinkid, SIGHUP), 0);
	assert_int_equal(h_wait_log(&rig, "has errors: configuration kept", 5000), 0);
	assert_true(h_log_count(&rig, "cannot read: Permission denied") >= 1);
	h_rig_fini(&rig);
	assert_int_equal(h_rinkid_status(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reload_after_drop),
	};
	return cmocka_run_group_tests_name("integration: reload after the privilege drop", tests,
					   NULL, NULL);
}
