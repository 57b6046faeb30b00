/*
 * Integration: a standby gateway takes the officer's next call when the primary dies
 * mid-call, and the county counts the moved call once.
 *
 * Two gateways, each a real rinkid with its own tetra-sim and modem-sim and its own
 * database. The primary's tetra-sim plays the network's call forwarding on no reply / not
 * reachable (forward-no-answer): an incoming call still ringing after 3 s is released
 * there and offered to the standby's tetra-sim. The officer calls the primary, a worker
 * answers, the primary's rinkid is killed (SIGKILL) mid-call; the officer calls the
 * primary again, nobody answers it, the network forwards the call, the standby takes it
 * and pages the same worker. Then rinki-sync pushes both call logs to a real PostgreSQL
 * (tests/integration/pg_rig) and its county report counts one authority call, taken at
 * the standby, with one incident moved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "pg_rig.h"
#include "sync_util.h"

#define AINO "+358401234567"

static struct h_rig primary, standby;
static struct pg_rig county;

static int setup(void **state)
{
	(void)state;
	if (pg_rig_start(&county) < 0 || h_rig_init(&primary) < 0 || h_start_sims(&primary) < 0 ||
	    h_rig_init(&standby) < 0 || h_start_sims(&standby) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&standby);
	h_rig_fini(&primary);
	pg_rig_fini(&county);
	return 0;
}

/* rinki-sync with args on a configuration for gateway id of rig r; exit status, out. */
static int run_sync(struct h_rig *r, const char *id, const char *args, char *out, size_t len)
{
	char conf[160];

	snprintf(conf, sizeof(conf), "%s/sync.conf", r->dir);
	assert_int_equal(su_write_file(conf,
				       "db.path %s\ncounty.conninfo %s\ncounty.gateway_id %s\n"
				       "county.status_file %s/sync.status\n",
				       r->db, county.conninfo, id, r->dir),
			 0);
	return su_sync_run(h_bin(), conf, args, out, len);
}

static void test_standby_takes_the_next_call(void **state)
{
	static char out[16384];
	char fwd[160];
	size_t pr = 0, pm = 0, sr = 0, sm = 0;
	(void)state;

	assert_int_equal(h_cmd(&primary.modem, NULL, 0, "callee %s answer 1", AINO), 0);
	assert_int_equal(h_cmd(&standby.modem, NULL, 0, "callee %s answer 1", AINO), 0);
	assert_int_equal(h_start_rinkid(&primary, "call.ring_time 10"), 0);
	assert_int_equal(h_start_rinkid(&standby, "call.ring_time 10"), 0);
	/* the network: the primary's calls not answered within 3 s go to the standby */
	snprintf(fwd, sizeof(fwd), "forward-no-answer 3000 %s/radio.ctl", standby.dir);
	assert_int_equal(h_cmd(&primary.radio, NULL, 0, "%s", fwd), 0);

	/* the officer calls the primary; Aino answers; the primary dies mid-call */
	assert_int_equal(h_cmd(&primary.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&primary.radio, &pr, "ATA", 5000), 0);
	assert_int_equal(h_wait_event(&primary.modem, &pm, "ATD" AINO ";", 5000), 0);
	assert_int_equal(h_wait_log(&primary, "answered", 5000), 0);
	assert_int_equal(h_kill_rinkid(&primary, SIGKILL), 0);

	/* the officer calls again: nobody answers at the primary, the network forwards it */
	assert_int_equal(h_cmd(&primary.radio, NULL, 0, "call 2269001 cci=2"), 0);
	assert_int_equal(h_wait_event(&primary.radio, &pr, "forwarded 2 ok cci=", 10000), 0);
	assert_int_equal(h_wait_event(&standby.radio, &sr, "ATA", 5000), 0);
	assert_int_equal(h_wait_event(&standby.modem, &sm, "ATD" AINO ";", 5000), 0);
	assert_int_equal(h_wait_log(&standby, "answered", 5000), 0);
	assert_int_equal(h_cmd(&standby.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_log(&standby, "bridged: officer 2269001", 5000), 0);
	assert_int_equal(h_cmd(&standby.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_log(&standby, "incident closed: completed", 5000), 0);
	assert_int_equal(h_settle(&standby), 0);

	/* the county: both logs, one call, taken at the standby */
	assert_int_equal(run_sync(&primary, "primary", "--once", out, sizeof(out)), 0);
	assert_int_equal(run_sync(&standby, "standby", "--once", out, sizeof(out)), 0);
	char range[96];
	time_t now = time(NULL);
	struct tm tm;
	char from[24], to[24];
	time_t a = now - 2 * 86400, b = now + 2 * 86400;
	gmtime_r(&a, &tm);
	strftime(from, sizeof(from), "%Y-%m-%dT00:00Z", &tm);
	gmtime_r(&b, &tm);
	strftime(to, sizeof(to), "%Y-%m-%dT00:00Z", &tm);
	snprintf(range, sizeof(range), "--report --from %s --to %s", from, to);
	assert_int_equal(run_sync(&standby, "standby", range, out, sizeof(out)), 0);
	printf("%s", out);
	assert_non_null(strstr(out, "authority calls: 1\n"));
	assert_non_null(strstr(out, "outcome: completed 1,"));
	assert_non_null(strstr(out, "moved to another gateway (counted once, where taken): 1\n"));
	assert_non_null(strstr(out, "\nstandby "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_standby_takes_the_next_call, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
