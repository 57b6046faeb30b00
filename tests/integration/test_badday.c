/*
 * Integration drills for a bad day at start-up: rinkid, tetra-sim and modem-sim as separate
 * processes, and rinkid started with its database unusable: (a) a db.path in a directory
 * that is not there (nothing can be created), (b) a database file of garbage bytes, (c) a
 * database on a read-only file system (a read-only bind mount in rinkid's own mount
 * namespace). Each drill first runs rinkid once on the good database (it keeps the copy of
 * the roster beside the spool), stops it, breaks the database and starts rinkid again: it
 * must start, page the on-duty worker of the saved roster on an officer's call, bridge and
 * close it, say it is degraded in rinkictl status, and once the database is fixed replay the
 * spool so that the incident is in the call log and the chain verifies. Also: rinkid killed
 * with SIGKILL mid-call leaves the officer's radio call up at the terminal; the next start
 * finds it in the terminal's call list and releases it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/db.h"
#include "harness.h"

#define AINO "+358401234567"
#define CONF "call.ring_time 5\ncall.rounds 1"

static struct h_rig rig;
static char spool_dir[160], conf_extra[512];

static int setup(void **state)
{
	(void)state;
	if (h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	snprintf(spool_dir, sizeof(spool_dir), "%s/spool", rig.dir);
	return mkdir(spool_dir, 0750) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	int started = rig.rinkid > 0;
	h_rig_fini(&rig);
	return !started || h_rinkid_status() == 0 ? 0 : -1;
}

/* Run a command to completion (argv), output to the rig's scratch file. Exit status. */
static int run(const char *const *argv)
{
	char out[200];
	snprintf(out, sizeof(out), "%s/cmd.out", rig.dir);
	return h_run((char *const *)argv, out);
}

/* The rinkid configuration of these drills: db.path as given, the spool on its own path. */
static const char *conf_with(const char *db)
{
	snprintf(conf_extra, sizeof(conf_extra), "%s\ndb.path %s\nspool.path %s/rinki.spool", CONF,
		 db, spool_dir);
	return conf_extra;
}

/* rinkid on the good database at db, stopped again: the roster copy is kept. */
static void good_run(const char *db)
{
	struct stat sb;
	char copy[200];
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default answer 1"), 0);
	assert_int_equal(h_start_rinkid(&rig, conf_with(db)), 0);
	assert_int_equal(h_kill_rinkid(&rig, SIGTERM), 0);
	snprintf(copy, sizeof(copy), "%s/rinki.spool.roster", spool_dir);
	assert_int_equal(stat(copy, &sb), 0);
	printf("  roster copy %s: %lld bytes\n", copy, (long long)sb.st_size);
}

/* rinkictl -s <ctl socket> status, output in text; exit status. */
static int ctl_status(char *text, size_t len)
{
	char bin[256], sock[160], out[200];
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(sock, sizeof(sock), "%s/ctl.sock", rig.dir);
	snprintf(out, sizeof(out), "%s/status.out", rig.dir);
	unlink(out);
	char *argv[] = {bin, "-s", sock, "status", NULL};
	int rc = h_run(argv, out);
	text[0] = '\0';
	FILE *f = fopen(out, "r");
	if (f) {
		size_t n = fread(text, 1, len - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	return rc;
}

/*
 * rinkid is up on the broken database: an officer calls, the saved roster's first worker
 * (Aino) is paged, answers, presses 4; the call is bridged and the officer hangs up.
 * rinkictl status says degraded and why.
 */
static void call_on_bad_day(void)
{
	size_t rp = 0, mp = 0;
	char reply[128], text[4096];
	int cci = -1;
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001"), 0);
	assert_int_equal(sscanf(reply, "ok cci=%d", &cci), 1);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=phone_answered", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "kind=bridged", NULL),
			 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=completed", NULL),
			 0);
	assert_int_equal(ctl_status(text, sizeof(text)), 1); /* degraded */
	printf("  rinkictl status on the bad day:\n%s", text);
	assert_non_null(strstr(text, "database unusable"));
}

static void count_inc(const struct gw_db_incident *inc, void *arg)
{
	(void)inc;
	(*(int *)arg)++;
}

/* The database at db, fixed: the spool is replayed and the bad day's call is in the log. */
static void check_replayed(const char *db)
{
	assert_int_equal(h_wait_rinkid_event(&rig, 10000, "db", "replayed=true", NULL), 0);
	/* the check that replayed the spool also moved the commits off the loop, not the next
	   one: it is said by the time rinkid answers its next request */
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_log_count(&rig, "call-log commits leave the loop again"), 1);
	struct gw_db *h;
	assert_int_equal(gw_db_open_flags(db, GW_DB_NOCREATE, &h), 0);
	int n = 0;
	assert_true(gw_db_incident_list(h, 8, count_inc, &n) >= 1);
	assert_true(n >= 1);
	int64_t bad = -1;
	assert_int_equal(gw_db_log_verify(h, &bad), 0);
	gw_db_close(h);
	char bin[256], out[200], text[8192] = "";
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(out, sizeof(out), "%s/log.out", rig.dir);
	char *argv[] = {bin, "-d", (char *)db, "log", NULL};
	assert_int_equal(h_run(argv, out), 0);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	size_t got = fread(text, 1, sizeof(text) - 1, f);
	text[got] = '\0';
	fclose(f);
	printf("  call log after the replay:\n%s", text);
	assert_non_null(strstr(text, "2269001"));
	assert_non_null(strstr(text, "completed"));
}

/* After the database is back: a new officer's call is logged in it (by the writer thread). */
static void call_after_fix(const char *db)
{
	char reply[128];
	int cci = -1;
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001"), 0);
	assert_int_equal(sscanf(reply, "ok cci=%d", &cci), 1);
	assert_int_equal(
	    h_wait_ev_count(&rig, 2, 5000, "incident_event", "kind=phone_answered", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_ev_count(&rig, 2, 3000, "incident_event", "kind=bridged", NULL), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release %d 1", cci), 0);
	assert_int_equal(h_wait_ev_count(&rig, 2, 3000, "incident_end", "outcome=completed", NULL),
			 0);
	struct gw_db *h;
	int n = 0;
	assert_int_equal(gw_db_open_flags(db, GW_DB_NOCREATE, &h), 0);
	assert_true(gw_db_incident_list(h, 8, count_inc, &n) >= 2);
	assert_int_equal(gw_db_log_verify(h, NULL), 0);
	gw_db_close(h);
	printf("  a call after the fix: %d incidents in the call log, chain intact\n", n);
}

/* (a) db.path in a directory that is not there; fixed by putting the database there. */
static void drill_db_dir_missing(void **state)
{
	(void)state;
	char gone_dir[200], gone_db[240];
	good_run(rig.db);
	snprintf(gone_dir, sizeof(gone_dir), "%s/gone", rig.dir);
	snprintf(gone_db, sizeof(gone_db), "%s/rinki.db", gone_dir);
	assert_int_equal(h_start_rinkid(&rig, conf_with(gone_db)), 0);
	call_on_bad_day();
	assert_int_equal(mkdir(gone_dir, 0750), 0);
	const char *cp[] = {"/bin/cp", "-p", rig.db, gone_db, NULL};
	assert_int_equal(run(cp), 0);
	check_replayed(gone_db);
}

/* (b) the database file is garbage; fixed by putting the good file back. */
static void drill_db_corrupt(void **state)
{
	(void)state;
	char good[200];
	good_run(rig.db);
	snprintf(good, sizeof(good), "%s.good", rig.db);
	const char *cp[] = {"/bin/cp", "-p", rig.db, good, NULL};
	assert_int_equal(run(cp), 0);
	int fd = open(rig.db, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(h_start_rinkid(&rig, conf_with(rig.db)), 0);
	call_on_bad_day();
	assert_int_equal(rename(good, rig.db), 0);
	check_replayed(rig.db);
	call_after_fix(rig.db);
}

/* (c) the database on a read-only file system; fixed by remounting it read-write. */
static void drill_db_read_only(void **state)
{
	(void)state;
	char ro_dir[200], ro_db[240], script[800], pid[32];
	snprintf(ro_dir, sizeof(ro_dir), "%s/ro", rig.dir);
	snprintf(ro_db, sizeof(ro_db), "%s/rinki.db", ro_dir);
	assert_int_equal(mkdir(ro_dir, 0750), 0);
	const char *cp[] = {"/bin/cp", "-p", rig.db, ro_db, NULL};
	assert_int_equal(run(cp), 0);
	good_run(ro_db);
	/* rinkid in a mount namespace of its own, where ro/ is a read-only bind mount */
	snprintf(script, sizeof(script),
		 "mount -o bind %s %s && mount -o remount,bind,ro %s && exec \"$@\"", ro_dir,
		 ro_dir, ro_dir);
	const char *const wrap[] = {"/usr/bin/unshare",
				    "-m",
				    "--propagation",
				    "private",
				    "/bin/sh",
				    "-c",
				    script,
				    "sh",
				    NULL};
	rig.wrap = wrap;
	assert_int_equal(h_start_rinkid(&rig, conf_with(ro_db)), 0);
	call_on_bad_day();
	snprintf(pid, sizeof(pid), "%ld", (long)rig.rinkid);
	const char *rw[] = {"/usr/bin/nsenter", "-t",	pid, "-m", "mount", "-o",
			    "remount,bind,rw",	ro_dir, NULL};
	assert_int_equal(run(rw), 0);
	check_replayed(ro_db);
	rig.wrap = NULL;
}

/*
 * (d) No copy of the roster either (rinkid never ran on this spool path) and a garbage
 * database: rinkid still starts, answers and logs the officer's call, pages nobody (the
 * incident closes "unstaffed"), and says why; the incident reaches the repaired file.
 */
static void drill_db_corrupt_no_copy(void **state)
{
	(void)state;
	size_t rp = 0;
	char good[200], text[4096], reply[128];
	snprintf(good, sizeof(good), "%s.good", rig.db);
	const char *cp[] = {"/bin/cp", "-p", rig.db, good, NULL};
	assert_int_equal(run(cp), 0);
	int fd = open(rig.db, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a database, not at all", 26), 26);
	close(fd);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default answer 1"), 0);
	assert_int_equal(h_start_rinkid(&rig, conf_with(rig.db)), 0);
	assert_int_equal(h_wait_log(&rig, "no roster: nobody can be paged", 3000), 0);
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_end", "outcome=unstaffed", NULL),
			 0);
	assert_int_equal(h_count_events(&rig.modem, "ATD"), 0);
	assert_int_equal(ctl_status(text, sizeof(text)), 1);
	printf("  rinkictl status with no roster:\n%s", text);
	assert_non_null(strstr(text, "no roster copy"));
	assert_int_equal(rename(good, rig.db), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 10000, "db", "replayed=true", NULL), 0);
	char bin[256], out[200], log[8192] = "";
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	snprintf(out, sizeof(out), "%s/log.out", rig.dir);
	char *argv[] = {bin, "-d", rig.db, "log", NULL};
	assert_int_equal(h_run(argv, out), 0);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	size_t got = fread(log, 1, sizeof(log) - 1, f);
	log[got] = '\0';
	fclose(f);
	printf("  call log after the replay:\n%s", log);
	assert_non_null(strstr(log, "unstaffed"));
}

/* A system event of kind in rinkid's call log (kind and detail as "kind detail"). */
static void find_sys(const struct gw_db_event *ev, void *arg)
{
	char *out = arg;
	if (strcmp(ev->kind, "radio_orphan") == 0)
		snprintf(out, 256, "%s %s", ev->kind, ev->detail ? ev->detail : "");
}

/*
 * Kill -9 mid-call: the officer's radio call stays up at the terminal with nothing behind
 * it. The next rinkid asks the terminal for its calls after the init (AT+CLCC), releases
 * the orphan (logged, a system event) and only then is ready.
 */
static void drill_orphan_after_kill9(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	char reply[256], want[32], sys[256] = "";
	int cci = -1;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default answer 1"), 0);
	assert_int_equal(h_start_rinkid(&rig, CONF), 0);
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "call 2269001"), 0);
	assert_int_equal(sscanf(reply, "ok cci=%d", &cci), 1);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=phone_answered", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "kind=bridged", NULL),
			 0);
	assert_int_equal(h_kill_rinkid(&rig, SIGKILL), 0);
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "state"), 0);
	printf("  terminal after the kill: %s\n", reply);
	assert_non_null(strstr(reply, "calls=1"));

	assert_int_equal(h_start_rinkid(&rig, CONF), 0);
	snprintf(want, sizeof(want), "released %d ", cci);
	assert_int_equal(h_wait_event(&rig.radio, &rp, want, 5000), 0);
	assert_int_equal(h_cmd(&rig.radio, reply, sizeof(reply), "state"), 0);
	printf("  terminal after the restart: %s\n", reply);
	assert_non_null(strstr(reply, "calls=0"));
	struct gw_db *h;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &h), 0);
	assert_true(gw_db_system_event_list(h, find_sys, sys) > 0);
	gw_db_close(h);
	printf("  system event: %s\n", sys);
	snprintf(want, sizeof(want), "call %d", cci);
	assert_non_null(strstr(sys, want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(drill_db_dir_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(drill_db_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(drill_db_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(drill_db_corrupt_no_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(drill_orphan_after_kill9, setup, teardown),
	};
	return cmocka_run_group_tests_name("integration: a bad day at start-up", tests, NULL, NULL);
}
