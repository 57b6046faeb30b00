/*
 * web_fixture: writes the call-log entries the browser test (tests/browser/test_web.py)
 * looks at, through the store's own call-log API, as rinkid would: an accepted authority
 * call with its paging steps, an unanswered one whose caller name is markup (it must show
 * as text), and a call still open. Times are relative to now. Prints "incident ID" per
 * entry, in that order. With N, it first writes N more closed incidents spread over the
 * past year (for measuring page render times by hand; the test does not use it).
 *
 * Usage: web_fixture DB [N]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db.h"

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "web_fixture: %s: %s\n", what, strerror(-rc));
	return 1;
}

int main(int argc, char **argv)
{
	struct gw_db *db;
	int64_t id, t = wall_ms() - 3600 * 1000;
	int rc;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: web_fixture DB [N]\n");
		return 2;
	}
	if ((rc = gw_db_open_flags(argv[1], GW_DB_NOCREATE, &db)) < 0)
		return fail(argv[1], rc);
	long many = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
	static const char *const outcomes[] = {"accepted", "no_answer", "accepted", "busy"};
	for (long i = 0; i < many; i++) {
		int64_t at = t - 3600 * 1000 - (365LL * 24 * 3600 * 1000 / (many + 1)) * (many - i);
		struct gw_incident_rec r = {.started_ms = at,
					    .caller = "2269001",
					    .caller_name = "Poliisi, Mikkeli",
					    .line = i % 3 ? "sos" : "mhs",
					    .radio_cci = 1};
		if (i % 500 == 0 && (rc = gw_db_batch_begin(db)) < 0)
			return fail("batch", rc);
		if ((rc = gw_db_incident_open(db, &r, &id)) < 0)
			return fail("open", rc);
		gw_db_event_append(db, id, at + 40, "page", "aino +358401234567 step 1 round 1");
		gw_db_event_append(db, id, at + 9000, "accepted", "aino key 4");
		if ((rc = gw_db_incident_close(db, id, at + 60000, outcomes[i % 4], -1,
					       i % 4 == 0 ? "aino" : NULL)) < 0)
			return fail("close", rc);
		if ((i % 500 == 499 || i == many - 1) && (rc = gw_db_batch_commit(db)) < 0)
			return fail("commit", rc);
	}

	struct gw_incident_rec a = {.started_ms = t,
				    .caller = "2269001",
				    .caller_name = "Poliisi, Mikkeli",
				    .line = "sos",
				    .radio_cci = 1};
	if ((rc = gw_db_incident_open(db, &a, &id)) < 0)
		return fail("open", rc);
	gw_db_event_append(db, id, t + 40, "page", "aino +358401234567 step 1 round 1");
	gw_db_event_append(db, id, t + 60, "sms", "page to +358401234567");
	gw_db_event_append(db, id, t + 9000, "answered", "aino");
	gw_db_event_append(db, id, t + 12000, "accepted", "aino key 4");
	if ((rc = gw_db_incident_close(db, id, t + 95000, "accepted", 1, "aino")) < 0)
		return fail("close", rc);
	printf("incident %" PRId64 "\n", id);

	t += 600 * 1000;
	struct gw_incident_rec b = {.started_ms = t,
				    .caller = "2269002",
				    .caller_name = "<script>alert(1)</script>",
				    .line = "sos",
				    .radio_cci = 2};
	if ((rc = gw_db_incident_open(db, &b, &id)) < 0)
		return fail("open", rc);
	gw_db_event_append(db, id, t + 40, "page", "aino +358401234567 step 1 round 1");
	gw_db_event_append(db, id, t + 25040, "page", "mikko +358401234568 step 2 round 1");
	if ((rc = gw_db_incident_close(db, id, t + 60000, "no_answer", -1, NULL)) < 0)
		return fail("close", rc);
	printf("incident %" PRId64 "\n", id);

	t += 600 * 1000;
	struct gw_incident_rec c = {.started_ms = t, .caller = "2269003", .line = "sos"};
	if ((rc = gw_db_incident_open(db, &c, &id)) < 0)
		return fail("open", rc);
	printf("incident %" PRId64 "\n", id);
	gw_db_close(db);
	return 0;
}
