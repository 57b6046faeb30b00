/*
 * Unit tests for gateway/store/db_export.c (and gw_db_chain_hash() in db_log.c): the call
 * log read for the county sync. Rows come out in chain order with every hashed field, the
 * hash recomputed from them equals the stored one (encoding v2 rows, v3 rows, a body blanked
 * by retention), after/limit page through the log, a missing or newer file is refused, and
 * the reader never changes the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/db.h"
#include "store/db_export.h"

static char path[64];

static void raw_exec(const char *sql)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static int setup(void **state)
{
	int fd;
	(void)state;
	snprintf(path, sizeof(path), "/tmp/rinki-export-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	char p[96];
	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s.spool", path);
	unlink(p);
	return 0;
}

/* What the reader gave: copies of the rows' checks. */
struct seen {
	int n;
	int64_t ids[64];
	bool v3[64];
	bool hash_ok[64]; /* gw_db_chain_hash() equals the stored hash */
	bool links[64];	  /* prev_hash equals the previous row's hash */
	bool has_detail[64];
	uint8_t last[32];
	char kinds[64][16];
	char inc[64][96]; /* the incident given with the row, as text; "" when none */
};

static int take(const struct gw_db_chain_row *r, const struct gw_db_incident *inc, void *arg)
{
	struct seen *s = arg;
	uint8_t h[32];

	assert_true(s->n < 64);
	assert_int_equal(gw_db_chain_hash(r, h), 0);
	s->ids[s->n] = r->id;
	s->v3[s->n] = r->v3;
	s->hash_ok[s->n] = memcmp(h, r->hash, 32) == 0;
	s->links[s->n] = memcmp(r->prev_hash, s->last, 32) == 0;
	s->has_detail[s->n] = r->detail != NULL;
	snprintf(s->kinds[s->n], sizeof(s->kinds[0]), "%.*s", (int)r->kind_len, r->kind);
	memcpy(s->last, r->hash, 32);
	if (inc)
		snprintf(s->inc[s->n], sizeof(s->inc[0]), "%lld %lld %s %s %d %s %s",
			 (long long)inc->id, (long long)inc->started_ms, inc->caller,
			 inc->caller_name ? inc->caller_name : "-", inc->radio_cci,
			 inc->outcome ? inc->outcome : "-",
			 inc->accepted_by ? inc->accepted_by : "-");
	s->n++;
	return 0;
}

/* A log of 3 v2-encoded rows (as a pre-v3 database has), then v3 rows. Returns the count. */
static int write_log(void)
{
	struct gw_incident_rec rec = {
	    .started_ms = 1000, .caller = "2269001", .caller_name = "Poliisi", .radio_cci = 3};
	struct gw_db *db;
	int64_t inc, removed;

	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	raw_exec("UPDATE chain_meta SET v3_from = 4");
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &inc), 0);			  /* 1 v2 */
	assert_int_equal(gw_db_event_append(db, inc, 1100, "page", "aino"), 0);		  /* 2 v2 */
	assert_int_equal(gw_db_event_append(db, inc, 1200, "dtmf", NULL), 0);		  /* 3 v2 */
	assert_int_equal(gw_db_event_append(db, inc, 1300, "sms_text", "hei"), 0);	  /* 4 v3 */
	assert_int_equal(gw_db_incident_close(db, inc, 1400, "accepted", -1, "aino"), 0); /* 5 */
	assert_int_equal(gw_db_system_event_append(db, 1500, "group_call", "9001 ä"), 0); /* 6 */
	/* retention blanks the v3 body (row 4) and records itself (row 7) */
	assert_int_equal(gw_db_retention_run(db, 1300 + 86400000LL * 3, 1, &removed), 0);
	assert_int_equal(removed, 1);
	gw_db_close(db);
	return 7;
}

static void test_rows_and_hashes(void **state)
{
	struct gw_db_export *x;
	struct seen s = {0};
	int64_t head = -1;
	(void)state;

	int n = write_log();
	assert_int_equal(gw_db_export_open(path, &x), 0);
	assert_int_equal(gw_db_export_read(x, 0, 100, take, &s, &head), n);
	assert_int_equal(head, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(s.ids[i], i + 1);
		assert_true(s.hash_ok[i]);
		assert_true(s.links[i]);
		assert_int_equal(s.v3[i], i + 1 >= 4);
	}
	assert_string_equal(s.kinds[0], "open");
	assert_string_equal(s.kinds[3], "sms_text");
	assert_false(s.has_detail[2]); /* dtmf: none */
	assert_false(s.has_detail[3]); /* blanked, still hashing right */
	assert_string_equal(s.kinds[6], "retention");
	/* the incident row comes with its open and close events only */
	assert_string_equal(s.inc[0], "1 1000 2269001 Poliisi 3 accepted aino");
	assert_string_equal(s.inc[4], "1 1000 2269001 Poliisi 3 accepted aino");
	assert_string_equal(s.kinds[4], "close");
	for (int i = 1; i < n; i++)
		if (i != 4)
			assert_string_equal(s.inc[i], "");
	gw_db_export_close(x);
}

static void test_after_and_limit(void **state)
{
	struct gw_db_export *x;
	struct seen s = {0};
	int64_t head;
	(void)state;

	write_log();
	assert_int_equal(gw_db_export_open(path, &x), 0);
	assert_int_equal(gw_db_export_read(x, 2, 2, take, &s, &head), 2);
	assert_int_equal(s.ids[0], 3);
	assert_int_equal(s.ids[1], 4);
	assert_int_equal(head, 7);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_export_read(x, 7, 10, take, &s, &head), 0);
	assert_int_equal(s.n, 0);
	gw_db_export_close(x);
}

/* A changed row no longer hashes to its stored hash. */
static void test_changed_row(void **state)
{
	struct gw_db_export *x;
	struct seen s = {0};
	int64_t head;
	(void)state;

	write_log();
	raw_exec("UPDATE incident_events SET t_ms = t_ms + 1 WHERE id = 2");
	assert_int_equal(gw_db_export_open(path, &x), 0);
	assert_int_equal(gw_db_export_read(x, 0, 100, take, &s, &head), 7);
	assert_true(s.hash_ok[0]);
	assert_false(s.hash_ok[1]);
	assert_true(s.hash_ok[2]);
	gw_db_export_close(x);
}

static void test_refusals(void **state)
{
	struct gw_db_export *x = (void *)1;
	struct gw_db *db;
	struct stat a, b;
	int64_t head;
	struct seen s = {0};
	(void)state;

	assert_int_equal(gw_db_export_open(path, &x), -ENOENT);
	assert_null(x);
	assert_int_equal(stat(path, &a), -1); /* not created */
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	/* the reader never writes */
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(gw_db_export_open(path, &x), 0);
	assert_int_equal(gw_db_export_read(x, 0, 10, take, &s, &head), 0);
	assert_int_equal(head, 0);
	gw_db_export_close(x);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_size, b.st_size);
	assert_int_equal(a.st_mtime, b.st_mtime);
	raw_exec("UPDATE schema_version SET version = 99");
	assert_int_equal(gw_db_export_open(path, &x), -EPROTO);
	raw_exec("UPDATE schema_version SET version = 2");
	assert_int_equal(gw_db_export_open(path, &x), -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rows_and_hashes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_after_and_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changed_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
