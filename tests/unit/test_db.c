/*
 * test_db: the SQLite layer on real files in a mkdtemp directory.
 *
 * Covers creation and migration (including v1 -> v2, which chains existing rows), refusal
 * of a newer schema, the call-log round trip (open, events, close), batches, crash
 * recovery (mark interrupted), roster change detection across two connections, and the
 * hash chain: intact, a changed detail, a deleted middle or last row, an edited incident
 * row. Schema v3: the chain encoding v3 (detail hash) beside old v2 rows, retention
 * blanking message bodies with the chain still verifiable (and a blanked non-body or
 * recent body caught), system events, the monthly report's figures, and the roster edits
 * (worker add/disable, overrides, directory) bumping the roster revision. A raw sqlite3
 * connection plays "another program" (or the attacker) where a test needs to fake or
 * tamper with a file this build did not write.
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

#include "store/db.h"
#include "core/log.h"

static char dir[] = "/tmp/rinki-test-db-XXXXXX";
static char path[256];
static int seq;

/* Log capture: the last error line printed. */
static char last_error[1024];

static void sink(enum gw_log_cat cat, enum gw_log_level level, const char *line, void *arg)
{
	(void)cat;
	(void)arg;
	if (level <= GW_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%s", line);
}

static void rm_db(const char *p)
{
	char f[300];
	const char *suffix[] = {"", "-wal", "-shm", "-journal", ".spool", ".key", ".anchor"};
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", p, suffix[i]);
		unlink(f);
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_WARN);
	gw_log_set_sink(sink, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	gw_log_set_sink(NULL, NULL);
	return rmdir(dir);
}

/* Each test gets a fresh database path, removed afterwards. */
static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "%s/t%d.db", dir, ++seq);
	last_error[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_db(path);
	return 0;
}

static void raw_exec(const char *sql)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/* sql run on its own connection: sqlite3_exec's result (an error is a result here). */
static int raw_exec_rc(const char *sql)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

static int64_t raw_int(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void test_open_creates_and_migrates(void **state)
{
	struct gw_db *db;
	sqlite3 *h;
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	assert_int_equal(raw_int("SELECT version FROM schema_version"), gw_db_schema_version());
	assert_int_equal(raw_int("SELECT count(*) FROM schema_version"), 1);
	/* Every v1 table is there. */
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
				 "name IN ('service_lines', 'workers', 'shifts', 'routes', "
				 "'directory', 'incidents', 'incident_events')"),
			 7);
	/* WAL is a property of the file. */
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(h);
	/* Opening again keeps the version and the data. */
	raw_exec("INSERT INTO directory (issi, org) VALUES ('123', 'x')");
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	assert_int_equal(raw_int("SELECT count(*) FROM directory"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM schema_version"), 1);
}

static void test_refuses_newer_schema(void **state)
{
	struct gw_db *db = (void *)1;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	raw_exec("UPDATE schema_version SET version = 99");
	assert_int_equal(gw_db_open(path, &db), -EPROTO);
	assert_null(db);
	assert_non_null(strstr(last_error, "schema version 99 is newer"));
	/* Nothing was touched. */
	assert_int_equal(raw_int("SELECT version FROM schema_version"), 99);
}

static void test_open_errors(void **state)
{
	struct gw_db *db;
	FILE *f;

	(void)state;
	assert_int_equal(gw_db_open_flags(path, GW_DB_NOCREATE, &db), -ENOENT);
	assert_int_equal(access(path, F_OK), -1);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not a database, just some text long enough to have a header........"
	      "..............................",
	      f);
	fclose(f);
	assert_int_equal(gw_db_open(path, &db), -EBADMSG);
	assert_non_null(strstr(last_error, path));
}

struct seen {
	int n;
	struct gw_db_incident inc;
	char caller[32], name[64], line[16], outcome[32], accepted[32];
	struct {
		int64_t t;
		char kind[32], detail[128];
	} ev[8];
};

static void copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "(null)");
}

static void on_incident(const struct gw_db_incident *inc, void *arg)
{
	struct seen *s = arg;
	s->n++;
	s->inc = *inc;
	copy(s->caller, sizeof(s->caller), inc->caller);
	copy(s->name, sizeof(s->name), inc->caller_name);
	copy(s->line, sizeof(s->line), inc->line);
	copy(s->outcome, sizeof(s->outcome), inc->outcome);
	copy(s->accepted, sizeof(s->accepted), inc->accepted_by);
}

static void on_event(const struct gw_db_event *ev, void *arg)
{
	struct seen *s = arg;
	if (s->n < 8) {
		s->ev[s->n].t = ev->t_ms;
		copy(s->ev[s->n].kind, sizeof(s->ev[0].kind), ev->kind);
		copy(s->ev[s->n].detail, sizeof(s->ev[0].detail), ev->detail);
	}
	s->n++;
}

static void test_incident_round_trip(void **state)
{
	struct gw_incident_rec rec = {
	    .started_ms = 1767225600123,
	    .caller = "2269001",
	    .caller_name = "Poliisi, Mikkeli",
	    .line = "sos",
	    .radio_cci = 3,
	};
	struct gw_db *db;
	struct seen s = {0};
	int64_t id = 0, id2 = 0;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_true(id > 0);
	assert_int_equal(gw_db_event_append(db, id, rec.started_ms + 40, "page", "step 1 aino"), 0);
	assert_int_equal(gw_db_event_append(db, id, rec.started_ms + 9000, "dtmf", NULL), 0);
	assert_int_equal(gw_db_event_append(db, id + 100, 1, "page", "x"), -ENOENT);

	/* Open: no outcome yet. */
	assert_int_equal(gw_db_incident_get(db, id, on_incident, &s), 0);
	assert_int_equal(s.n, 1);
	assert_false(s.inc.ended);
	assert_string_equal(s.outcome, "(null)");
	assert_false(s.inc.has_cause);

	assert_int_equal(
	    gw_db_incident_close(db, id, rec.started_ms + 60000, "answered", 1, "aino"), 0);
	/* Closing twice, or an unknown incident, is refused. */
	assert_int_equal(gw_db_incident_close(db, id, rec.started_ms + 70000, "x", 0, NULL),
			 -ENOENT);
	assert_int_equal(gw_db_incident_close(db, 999, 1, "x", 0, NULL), -ENOENT);
	gw_db_close(db);

	/* Read back through a new connection: what was committed is on disk. */
	assert_int_equal(gw_db_open(path, &db), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_incident_get(db, id, on_incident, &s), 0);
	assert_int_equal(s.inc.id, id);
	assert_int_equal(s.inc.started_ms, rec.started_ms);
	assert_true(s.inc.ended);
	assert_int_equal(s.inc.ended_ms, rec.started_ms + 60000);
	assert_string_equal(s.caller, "2269001");
	assert_string_equal(s.name, "Poliisi, Mikkeli");
	assert_string_equal(s.line, "sos");
	assert_int_equal(s.inc.radio_cci, 3);
	assert_string_equal(s.outcome, "answered");
	assert_true(s.inc.has_cause);
	assert_int_equal(s.inc.cause, 1);
	assert_string_equal(s.accepted, "aino");

	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_event_list(db, id, on_event, &s), 4);
	assert_string_equal(s.ev[0].kind, "open");
	assert_int_equal(s.ev[0].t, rec.started_ms);
	assert_non_null(strstr(s.ev[0].detail, "2269001"));
	assert_string_equal(s.ev[1].kind, "page");
	assert_string_equal(s.ev[1].detail, "step 1 aino");
	assert_string_equal(s.ev[2].kind, "dtmf");
	assert_string_equal(s.ev[2].detail, "(null)");
	assert_string_equal(s.ev[3].kind, "close");
	assert_int_equal(s.ev[3].t, rec.started_ms + 60000);

	/* A second, unrouted incident from an unknown caller; the list is newest first. */
	rec.started_ms += 120000;
	rec.caller_name = NULL;
	rec.line = NULL;
	assert_int_equal(gw_db_incident_open(db, &rec, &id2), 0);
	assert_true(id2 > id);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_incident_list(db, 1, on_incident, &s), 1);
	assert_int_equal(s.inc.id, id2);
	assert_string_equal(s.name, "(null)");
	assert_string_equal(s.line, "(null)");
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_incident_list(db, 10, on_incident, &s), 2);
	assert_int_equal(s.inc.id, id); /* the last one seen is the oldest */
	assert_int_equal(gw_db_incident_get(db, id2 + 1, on_incident, &s), -ENOENT);
	gw_db_close(db);
}

static void test_batch(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db;
	int64_t id;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_batch_commit(db), -EINVAL);
	assert_int_equal(gw_db_batch_begin(db), 0);
	assert_int_equal(gw_db_batch_begin(db), -EBUSY);
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(gw_db_event_append(db, id, 1001, "page", "aino"), 0);
	/* A failed write inside the batch leaves no trace and does not spoil the batch. */
	assert_int_equal(gw_db_event_append(db, id + 5, 1002, "page", "x"), -ENOENT);
	/* Not yet visible to another connection. */
	assert_int_equal(raw_int("SELECT count(*) FROM incidents"), 0);
	assert_int_equal(gw_db_batch_commit(db), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM incidents"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events"), 2);
	gw_db_close(db);
}

static void test_mark_interrupted(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 5000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db;
	struct seen s = {0};
	int64_t a, b, c;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_mark_interrupted(db, 6000), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &b), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &c), 0);
	assert_int_equal(gw_db_incident_close(db, b, 7000, "answered", 1, "aino"), 0);
	gw_db_close(db); /* "crash": a and c stay open */

	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_mark_interrupted(db, 90000), 2);
	assert_int_equal(gw_db_mark_interrupted(db, 91000), 0);
	assert_int_equal(gw_db_incident_get(db, a, on_incident, &s), 0);
	assert_string_equal(s.outcome, "interrupted");
	assert_true(s.inc.ended);
	assert_int_equal(s.inc.ended_ms, 90000);
	assert_false(s.inc.has_cause);
	assert_int_equal(gw_db_incident_get(db, b, on_incident, &s), 0);
	assert_string_equal(s.outcome, "answered");
	assert_int_equal(s.inc.ended_ms, 7000);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_event_list(db, c, on_event, &s), 2);
	assert_string_equal(s.ev[1].kind, "interrupted");
	assert_int_equal(s.ev[1].t, 90000);
	gw_db_close(db);
}

/* A minimal one-line roster with strings we do not own (the API only reads them). */
static void tiny_roster(struct gw_db_roster *r, struct gw_db_line *l, struct gw_db_worker *w,
			struct gw_db_shift *sh, const char *worker)
{
	memset(r, 0, sizeof(*r));
	*l = (struct gw_db_line){.code = "sos",
				 .name_fi = "Sosiaalipäivystys",
				 .name_sv = "Socialjour",
				 .name_en = "Social on-call"};
	*w = (struct gw_db_worker){
	    .handle = "aino", .name = "Aino Virtanen", .phone = "+358401234567", .active = true};
	*sh = (struct gw_db_shift){"sos", (char *)worker, 0, 1000, 1, NULL};
	r->lines = l;
	r->n_lines = 1;
	r->workers = w;
	r->n_workers = 1;
	r->shifts = sh;
	r->n_shifts = 1;
}

static void test_roster_changed(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1, .caller = "1", .radio_cci = 1};
	struct gw_db *a, *b;
	struct gw_db_roster r, back;
	struct gw_db_line l;
	struct gw_db_worker w;
	struct gw_db_shift sh;
	int64_t id;

	(void)state;
	assert_int_equal(gw_db_open(path, &a), 0);
	assert_int_equal(gw_db_open(path, &b), 0);
	assert_int_equal(gw_db_roster_changed(a), 0);

	/* A roster write by the other connection is seen once. */
	tiny_roster(&r, &l, &w, &sh, "aino");
	assert_int_equal(gw_db_roster_replace(b, &r), 0);
	assert_int_equal(gw_db_roster_changed(a), 1);
	assert_int_equal(gw_db_roster_changed(a), 0);

	/* A call-log write by the other connection is not a roster change. */
	assert_int_equal(gw_db_incident_open(b, &rec, &id), 0);
	assert_int_equal(gw_db_roster_changed(a), 0);

	/* A roster write on this connection counts too (b's first replace), and only once. */
	assert_int_equal(gw_db_roster_changed(b), 1);
	assert_int_equal(gw_db_roster_changed(b), 0);
	assert_int_equal(gw_db_roster_replace(b, &r), 0);
	assert_int_equal(gw_db_roster_changed(b), 1);
	assert_int_equal(gw_db_roster_changed(b), 0);
	assert_int_equal(gw_db_roster_changed(a), 1);

	/* A failed replace (unknown worker) changes nothing and is not a change. */
	sh.worker = "nobody";
	assert_int_equal(gw_db_roster_replace(b, &r), -ENOENT);
	assert_int_equal(gw_db_roster_changed(a), 0);
	assert_int_equal(gw_db_roster_changed(b), 0);
	assert_int_equal(gw_db_roster_read(a, &back), 0);
	assert_int_equal(back.n_shifts, 1);
	assert_string_equal(back.shifts[0].worker, "aino");
	assert_string_equal(back.lines[0].name_fi, "Sosiaalipäivystys");
	assert_null(back.workers[0].issi);
	assert_true(back.workers[0].active);
	gw_db_roster_clear(&back);
	assert_int_equal(back.n_shifts, 0);
	gw_db_close(a);
	gw_db_close(b);
}

/* ---- hash chain ---------------------------------------------------------------------- */

/* Two incidents, one closed, one left open and then marked interrupted: 7 events. */
static void fill_log(int64_t ids[2])
{
	struct gw_incident_rec rec = {.started_ms = 1767225600000,
				      .caller = "2269001",
				      .caller_name = "Poliisi, Mikkeli",
				      .line = "sos",
				      .radio_cci = 3};
	struct gw_db *db;

	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &ids[0]), 0);
	assert_int_equal(gw_db_event_append(db, ids[0], rec.started_ms + 40, "page", "aino"), 0);
	rec.started_ms += 1000;
	rec.caller_name = NULL;
	assert_int_equal(gw_db_incident_open(db, &rec, &ids[1]), 0);
	assert_int_equal(gw_db_event_append(db, ids[0], rec.started_ms + 50, "dtmf", NULL), 0);
	assert_int_equal(
	    gw_db_incident_close(db, ids[0], rec.started_ms + 9000, "answered", 16, "aino"), 0);
	assert_int_equal(gw_db_event_append(db, ids[1], rec.started_ms + 9500, "page", "mikko"), 0);
	assert_int_equal(gw_db_mark_interrupted(db, rec.started_ms + 20000), 1);
	gw_db_close(db);
}

/* Verify through a fresh connection; returns the result and fills *v. */
static int verify(struct gw_db_verify *v)
{
	struct gw_db *db;
	int rc;

	assert_int_equal(gw_db_open(path, &db), 0);
	rc = gw_db_log_verify_report(db, v);
	gw_db_close(db);
	return rc;
}

static void test_chain_intact(void **state)
{
	struct gw_db_verify v;
	struct gw_db *db;
	int64_t ids[2], bad = -1;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_log_verify(db, &bad), 0); /* empty log: intact */
	assert_int_equal(bad, 0);
	gw_db_close(db);
	fill_log(ids);
	assert_int_equal(verify(&v), 0);
	assert_int_equal(v.events, 7);
	assert_int_equal(v.events, raw_int("SELECT count(*) FROM incident_events"));
	assert_int_equal(v.incidents, 2);
	assert_null(v.reason);
	/* The first row links to 32 zero bytes, every other to its predecessor. */
	assert_int_equal(raw_int("SELECT prev_hash = zeroblob(32) FROM incident_events "
				 "ORDER BY id LIMIT 1"),
			 1);
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events e JOIN incident_events p"
				 " ON p.id = e.id - 1 WHERE e.prev_hash = p.hash"),
			 6);
	assert_int_equal(raw_int("SELECT last_id FROM chain_head"),
			 raw_int("SELECT max(id) FROM incident_events"));
	/* The head reported is the last row's hash. */
	assert_int_equal(raw_int("SELECT length(hash) FROM incident_events ORDER BY id DESC"), 32);
	{
		sqlite3 *h;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
		assert_int_equal(
		    sqlite3_prepare_v2(h,
				       "SELECT hash FROM incident_events ORDER BY id DESC"
				       " LIMIT 1",
				       -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_memory_equal(sqlite3_column_blob(st, 0), v.head, 32);
		sqlite3_finalize(st);
		sqlite3_close(h);
	}
}

static void test_chain_tampered_detail(void **state)
{
	struct gw_db_verify v;
	int64_t ids[2], victim;

	(void)state;
	fill_log(ids);
	victim = raw_int("SELECT id FROM incident_events WHERE kind = 'page' ORDER BY id LIMIT 1");
	raw_exec("UPDATE incident_events SET detail = 'mikko' WHERE id = (SELECT id FROM "
		 "incident_events WHERE kind = 'page' ORDER BY id LIMIT 1)");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event, victim);
	assert_int_equal(v.bad_incident, ids[0]);
	assert_non_null(strstr(v.reason, "does not match its hash"));
	/* Undo it: intact again (the check is on content, not on "was written to"). */
	raw_exec("UPDATE incident_events SET detail = 'aino' WHERE kind = 'page' AND "
		 "detail = 'mikko' AND incident = (SELECT min(id) FROM incidents)");
	assert_int_equal(verify(&v), 0);
	/* A NULL detail turned into '' is a change too, and so is a time. */
	raw_exec("UPDATE incident_events SET detail = '' WHERE kind = 'dtmf'");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event,
			 raw_int("SELECT id FROM incident_events WHERE kind = 'dtmf'"));
	raw_exec("UPDATE incident_events SET detail = NULL WHERE kind = 'dtmf'");
	raw_exec("UPDATE incident_events SET t_ms = t_ms + 1 WHERE kind = 'interrupted'");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event,
			 raw_int("SELECT id FROM incident_events WHERE kind = 'interrupted'"));
	/* Rewriting a row's hash to match its neighbour's link still breaks the next link. */
	raw_exec("UPDATE incident_events SET t_ms = t_ms - 1 WHERE kind = 'interrupted'");
	raw_exec("UPDATE incident_events SET hash = randomblob(32) WHERE id = 2");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event, 2);
}

static void test_chain_deleted_rows(void **state)
{
	struct gw_db_verify v;
	struct gw_db *db;
	int64_t ids[2], last, bad = 0;

	(void)state;
	fill_log(ids);
	/* A middle row: the one after it no longer links. */
	raw_exec("DELETE FROM incident_events WHERE id = 3");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event, 4);
	assert_non_null(strstr(v.reason, "does not link"));
	teardown(NULL);
	setup(NULL);

	/* The last row: the chain head still names it. */
	fill_log(ids);
	last = raw_int("SELECT max(id) FROM incident_events");
	raw_exec("DELETE FROM incident_events WHERE id = (SELECT max(id) FROM incident_events)");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event, last);
	assert_non_null(strstr(v.reason, "missing"));
	/* Writing on does not hide it: the new row takes the id and links to the lost one. */
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_event_append(db, ids[1], 99, "note", "x"), 0);
	assert_int_equal(gw_db_log_verify(db, &bad), 1);
	assert_int_equal(bad, last);
	gw_db_close(db);
}

static void test_chain_incident_row_edited(void **state)
{
	struct gw_db_verify v;
	int64_t ids[2];
	char sql[160];

	(void)state;
	fill_log(ids);
	snprintf(sql, sizeof(sql), "UPDATE incidents SET accepted_by = 'mikko' WHERE id = %lld",
		 (long long)ids[0]);
	raw_exec(sql);
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_incident, ids[0]);
	assert_int_equal(v.bad_event, raw_int("SELECT id FROM incident_events WHERE kind = "
					      "'close'"));
	assert_non_null(strstr(v.reason, "closing event"));
	snprintf(sql, sizeof(sql),
		 "UPDATE incidents SET accepted_by = 'aino', caller = '2269002' WHERE id = %lld",
		 (long long)ids[0]);
	raw_exec(sql);
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_incident, ids[0]);
	assert_non_null(strstr(v.reason, "open event"));
	snprintf(sql, sizeof(sql), "UPDATE incidents SET caller = '2269001' WHERE id = %lld",
		 (long long)ids[0]);
	raw_exec(sql);
	assert_int_equal(verify(&v), 0);
	/* Re-opening a closed incident in the table, or an outcome on the interrupted one. */
	snprintf(sql, sizeof(sql), "UPDATE incidents SET outcome = 'answered' WHERE id = %lld",
		 (long long)ids[1]);
	raw_exec(sql);
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_incident, ids[1]);
}

/* The v1 schema exactly as the v1 build created it, with rows as the v1 code wrote them. */
static const char v1_schema[] =
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE service_lines (code TEXT PRIMARY KEY NOT NULL, name_fi TEXT NOT NULL,"
    " name_sv TEXT NOT NULL, name_en TEXT NOT NULL);"
    "CREATE TABLE workers (id INTEGER PRIMARY KEY, handle TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, phone TEXT NOT NULL, issi TEXT,"
    " active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)));"
    "CREATE TABLE shifts (id INTEGER PRIMARY KEY,"
    " line TEXT NOT NULL REFERENCES service_lines(code),"
    " worker INTEGER NOT NULL REFERENCES workers(id), start_utc INTEGER NOT NULL,"
    " end_utc INTEGER NOT NULL, position INTEGER NOT NULL, CHECK (end_utc > start_utc));"
    "CREATE INDEX shifts_line_start ON shifts(line, start_utc);"
    "CREATE TABLE routes (id INTEGER PRIMARY KEY,"
    " line TEXT NOT NULL REFERENCES service_lines(code),"
    " caller_prefix TEXT NOT NULL, priority INTEGER NOT NULL);"
    "CREATE TABLE directory (issi TEXT PRIMARY KEY NOT NULL, org TEXT NOT NULL);"
    "CREATE TABLE incidents (id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL,"
    " ended_ms INTEGER, caller TEXT NOT NULL, caller_name TEXT, line TEXT,"
    " radio_cci INTEGER NOT NULL, outcome TEXT, cause INTEGER, accepted_by TEXT);"
    "CREATE INDEX incidents_open ON incidents(id) WHERE ended_ms IS NULL;"
    "CREATE TABLE incident_events (id INTEGER PRIMARY KEY,"
    " incident INTEGER NOT NULL REFERENCES incidents(id), t_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX incident_events_incident ON incident_events(incident, id);"
    "CREATE TABLE roster_meta (rev INTEGER NOT NULL);"
    "INSERT INTO roster_meta (rev) VALUES (0);"
    "INSERT INTO schema_version VALUES (1);"
    "INSERT INTO incidents VALUES (1, 1000, 61000, '2269001', 'Poliisi, Mikkeli', 'sos', 3,"
    " 'answered', 1, 'aino');"
    "INSERT INTO incidents VALUES (2, 70000, NULL, '2269002', NULL, NULL, 4, NULL, NULL,"
    " NULL);"
    "INSERT INTO incident_events (incident, t_ms, kind, detail) VALUES"
    " (1, 1000, 'open', 'caller 2269001 (Poliisi, Mikkeli) line sos cci 3'),"
    " (1, 1040, 'page', 'aino +358401234567 step 1 round 1'),"
    " (1, 61000, 'close', 'outcome answered cause 1 accepted by aino'),"
    " (2, 70000, 'open', 'caller 2269002 (unknown) line - cci 4'),"
    " (2, 70100, 'dtmf', NULL);";

static void test_migrate_v1_to_v2(void **state)
{
	struct gw_db_verify v;
	struct gw_db *db;
	struct seen s = {0};
	int64_t id;

	(void)state;
	raw_exec(v1_schema);
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	assert_int_equal(raw_int("SELECT version FROM schema_version"), gw_db_schema_version());
	/* v3: the rows v2 chained keep their v2 hashes; new rows use encoding v3. */
	assert_int_equal(raw_int("SELECT v3_from FROM chain_meta"), 6);
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events WHERE detail_hash IS NULL"),
			 5);
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events"), 5);
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events WHERE length(hash) = 32"
				 " AND length(prev_hash) = 32"),
			 5);
	assert_int_equal(raw_int("SELECT last_id FROM chain_head"), 5);
	assert_int_equal(verify(&v), 0);
	assert_int_equal(v.events, 5);
	assert_int_equal(v.incidents, 2);

	/* The migrated log goes on: ids continue, the chain stays intact, old rows read back. */
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_close(db, 2, 90000, "unanswered", -1, NULL), 0);
	struct gw_incident_rec rec = {.started_ms = 100000, .caller = "1", .radio_cci = 1};
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(id, 3);
	assert_int_equal(gw_db_event_list(db, 1, on_event, &s), 3);
	assert_string_equal(s.ev[1].detail, "aino +358401234567 step 1 round 1");
	gw_db_close(db);
	assert_int_equal(verify(&v), 0);
	assert_int_equal(v.events, 7);

	/* A tampered v1 row is chained as it is, so tamper before the upgrade goes unseen;
	 * tamper after it is caught (here: the migrated first row). */
	raw_exec("UPDATE incident_events SET detail = 'x' WHERE id = 1");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event, 1);
}

/* ---- retention ----------------------------------------------------------------------- */

#define DAY 86400000LL

static void sys_event(const struct gw_db_event *ev, void *arg)
{
	on_event(ev, arg);
}

static void test_retention(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 10 * DAY, .caller = "2269001", .radio_cci = 1};
	struct gw_db_verify v;
	struct gw_db *db;
	struct seen s = {0};
	int64_t id, id2, removed = -1;

	(void)state;
	assert_true(gw_db_kind_is_body("sms_text") && gw_db_kind_is_body("sds_text"));
	assert_false(gw_db_kind_is_body("sms") || gw_db_kind_is_body("page"));
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(gw_db_event_append(db, id, 10 * DAY + 1, "sds", "in from 2269001 ref 7"),
			 0);
	assert_int_equal(gw_db_event_append(db, id, 10 * DAY + 2, "sds_text", "Tarvitaan apua"), 0);
	assert_int_equal(gw_db_event_append(db, id, 10 * DAY + 3, "sms_text", "Tulen"), 0);
	assert_int_equal(gw_db_incident_close(db, id, 10 * DAY + 9, "completed", -1, "aino"), 0);
	rec.started_ms = 40 * DAY;
	assert_int_equal(gw_db_incident_open(db, &rec, &id2), 0);
	assert_int_equal(gw_db_event_append(db, id2, 40 * DAY + 2, "sds_text", "Uusi viesti"), 0);
	assert_int_equal(gw_db_retention_run(db, 45 * DAY, 0, &removed), -EINVAL);
	/* Older than 30 days at day 45: the day-10 bodies go, the day-40 one stays. */
	assert_int_equal(gw_db_retention_run(db, 45 * DAY, 30, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(gw_db_event_list(db, id, on_event, &s), 5);
	assert_string_equal(s.ev[1].detail, "in from 2269001 ref 7"); /* metadata kept */
	assert_string_equal(s.ev[2].kind, "sds_text");
	assert_string_equal(s.ev[2].detail, "(null)");
	assert_int_equal(s.ev[2].t, 10 * DAY + 2);
	assert_string_equal(s.ev[4].kind, "close");
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_event_list(db, id2, on_event, &s), 2);
	assert_string_equal(s.ev[1].detail, "Uusi viesti");
	/* The run is logged as a system event. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_db_system_event_list(db, sys_event, &s), 1);
	assert_string_equal(s.ev[0].kind, "retention");
	assert_non_null(strstr(s.ev[0].detail, "removed 2 (older than 30 days)"));
	assert_int_equal(s.ev[0].t, 45 * DAY);
	/* Incident metadata stays; the chain verifies; a second run removes nothing. */
	assert_int_equal(gw_db_log_verify_report(db, &v), 0);
	assert_int_equal(v.events, 8);
	assert_int_equal(gw_db_retention_run(db, 46 * DAY, 30, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(gw_db_event_append(db, id2, 46 * DAY, "note", "after retention"), 0);
	gw_db_close(db);
	assert_int_equal(raw_int("SELECT count(*) FROM incidents WHERE accepted_by = 'aino'"), 1);
	assert_int_equal(verify(&v), 0);

	/* Blanking what retention may not: a non-body detail, a body newer than the cutoff. */
	raw_exec("UPDATE incident_events SET detail = NULL WHERE kind = 'sds'");
	assert_int_equal(verify(&v), 1);
	assert_int_equal(v.bad_event, raw_int("SELECT id FROM incident_events WHERE kind = 'sds'"));
	assert_non_null(strstr(v.reason, "not a message body"));
	raw_exec("UPDATE incident_events SET detail = 'in from 2269001 ref 7' WHERE kind = 'sds'");
	assert_int_equal(verify(&v), 0);
	raw_exec("UPDATE incident_events SET detail = NULL WHERE detail = 'Uusi viesti'");
	assert_int_equal(verify(&v), 1);
	assert_non_null(strstr(v.reason, "no retention run covers"));
	/* A blanked body cannot be given a different text either. */
	raw_exec("UPDATE incident_events SET detail = 'Uusi viesti' WHERE kind = 'sds_text' AND "
		 "t_ms = 40 * 86400000 + 2");
	assert_int_equal(verify(&v), 0);
	raw_exec("UPDATE incident_events SET detail = 'Toinen teksti' WHERE kind = 'sds_text' AND "
		 "t_ms = 10 * 86400000 + 2");
	assert_int_equal(verify(&v), 1);
	assert_non_null(strstr(v.reason, "does not match its hash"));
}

/* Retention waits while call-log records are spooled (its event would overtake them). */
static void test_retention_spool(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "1", .radio_cci = 1};
	struct gw_db *a, *b;
	int64_t id;

	(void)state;
	assert_int_equal(gw_db_open(path, &a), 0);
	assert_int_equal(gw_db_open(path, &b), 0);
	gw_db_set_busy_timeout(a, 0);
	raw_exec("SELECT 1"); /* the file exists */
	/* b holds the write lock: a's call-log write goes to the spool. */
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(gw_db_incident_open(a, &rec, &id), 0);
	assert_true(gw_db_spool_pending(a));
	assert_int_equal(gw_db_retention_run(a, 100 * DAY, 30, NULL), -EBUSY);
	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_true(gw_db_spool_replay(a) >= 1);
	assert_int_equal(gw_db_retention_run(a, 100 * DAY, 30, NULL), 0);
	gw_db_close(a);
	gw_db_close(b);
}

/* ---- report -------------------------------------------------------------------------- */

struct rep {
	int n;
	char line[4][16], first[4][48], fallback[4][48], accepted[4][16];
	int64_t accept_ms[4], pages[4];
	bool text[4], status[4];
};

static void on_inc(const struct gw_db_report_inc *inc, void *arg)
{
	struct rep *r = arg;
	if (r->n < 4) {
		snprintf(r->line[r->n], sizeof(r->line[0]), "%s", inc->line);
		snprintf(r->first[r->n], sizeof(r->first[0]), "%s",
			 inc->first_page ? inc->first_page : "-");
		snprintf(r->fallback[r->n], sizeof(r->fallback[0]), "%s",
			 inc->fallback_page ? inc->fallback_page : "-");
		snprintf(r->accepted[r->n], sizeof(r->accepted[0]), "%s",
			 inc->accepted ? inc->accepted : "-");
		r->accept_ms[r->n] = inc->accept_ms;
		r->pages[r->n] = inc->pages;
		r->text[r->n] = inc->text;
		r->status[r->n] = inc->status;
	}
	r->n++;
}

/* The per-incident facts the report (store/report.c) counts, read in one transaction. */
static void test_report(void **state)
{
	int64_t m0 = 1772316000000, m1 = 1774990800000, id, n = -1; /* March 2026, Helsinki */
	struct gw_incident_rec rec = {.started_ms = m0, .caller = "2269001", .line = "sos"};
	struct gw_db *db;
	struct rep r = {0};

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(gw_db_event_append(db, id, m0 + 1, "page", "aino +358 step 1 round 1"), 0);
	assert_int_equal(
	    gw_db_event_append(db, id, m0 + 2, "page", "leena +358 step 2 round 2 fallback"), 0);
	assert_int_equal(gw_db_event_append(db, id, m0 + 9000, "accepted", "leena dtmf"), 0);
	assert_int_equal(gw_db_event_append(db, id, m0 + 9500, "accepted", "aino sms"), 0);
	rec.started_ms = m1 - 1;
	rec.line = NULL;
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(gw_db_event_append(db, id, m1 - 1, "sds_status", "0x8002"), 0);
	rec.started_ms = m1; /* April: not in the range */
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(gw_db_report_incidents(db, m0, m1, on_inc, &r, &n), 2);
	gw_db_close(db);
	assert_int_equal(n, 2);
	assert_string_equal(r.line[0], "sos");
	assert_string_equal(r.first[0], "aino +358 step 1 round 1");
	assert_string_equal(r.fallback[0], "leena +358 step 2 round 2 fallback");
	assert_string_equal(r.accepted[0], "leena dtmf"); /* the first acceptance */
	assert_int_equal(r.accept_ms[0], m0 + 9000);
	assert_int_equal(r.pages[0], 2);
	assert_false(r.text[0] || r.status[0]);
	assert_string_equal(r.line[1], ""); /* unrouted */
	assert_string_equal(r.first[1], "-");
	assert_int_equal(r.accept_ms[1], -1);
	assert_true(r.status[1]);
	assert_false(r.text[1]);
}

/* ---- roster edits -------------------------------------------------------------------- */

static void test_roster_edits(void **state)
{
	struct gw_db_roster r, back;
	struct gw_db_line l;
	struct gw_db_worker w;
	struct gw_db_shift sh;
	struct gw_db *a, *b;
	int64_t id1, id2;

	(void)state;
	assert_int_equal(gw_db_open(path, &a), 0);
	assert_int_equal(gw_db_open(path, &b), 0);
	tiny_roster(&r, &l, &w, &sh, "aino");
	assert_int_equal(gw_db_roster_replace(a, &r), 0);
	assert_int_equal(gw_db_roster_changed(b), 1);

	struct gw_db_worker pia = {.handle = "pia",
				   .name = "Pia",
				   .phone = "+358401111111",
				   .issi = "12345",
				   .active = true};
	assert_int_equal(gw_db_worker_add(a, &pia), 0);
	assert_int_equal(gw_db_roster_changed(b), 1);
	assert_int_equal(gw_db_worker_add(a, &pia), -EEXIST);
	assert_int_equal(gw_db_roster_changed(b), 0);
	assert_int_equal(gw_db_worker_set_active(a, "pia", false), 0);
	assert_int_equal(gw_db_roster_changed(b), 1);
	assert_int_equal(gw_db_worker_set_active(a, "nobody", false), -ENOENT);

	struct gw_db_override o = {.kind = "replace",
				   .line = "sos",
				   .worker = "aino",
				   .by = "pia",
				   .start_ms = 1000,
				   .end_ms = 2000};
	assert_int_equal(gw_db_override_add(a, &o, &id1), 0);
	o = (struct gw_db_override){.kind = "remove", .worker = "aino", .start_ms = 5, .end_ms = 6};
	assert_int_equal(gw_db_override_add(a, &o, &id2), 0);
	assert_true(id2 > id1);
	o.worker = "nobody";
	assert_int_equal(gw_db_override_add(a, &o, NULL), -ENOENT);
	o = (struct gw_db_override){
	    .kind = "replace", .worker = "aino", .by = "nobody", .start_ms = 5, .end_ms = 6};
	assert_int_equal(gw_db_override_add(a, &o, NULL), -ENOENT);
	o = (struct gw_db_override){.kind = "add",
				    .line = "xyz",
				    .worker = "aino",
				    .start_ms = 5,
				    .end_ms = 6,
				    .position = 1};
	assert_int_equal(gw_db_override_add(a, &o, NULL), -ENOENT);
	assert_int_equal(gw_db_roster_changed(b), 1);

	struct gw_db_dir dirs[] = {{.issi = "2269001", .org = "Poliisi"},
				   {.issi = "2271001", .org = "Pelastus"}};
	assert_int_equal(gw_db_directory_replace(a, dirs, 2), 0);

	assert_int_equal(gw_db_roster_read(b, &back), 0);
	assert_int_equal(back.n_workers, 2);
	assert_string_equal(back.workers[1].handle, "pia");
	assert_false(back.workers[1].active);
	assert_string_equal(back.workers[1].issi, "12345");
	assert_int_equal(back.n_overrides, 2);
	assert_string_equal(back.overrides[0].kind, "remove"); /* by start */
	assert_null(back.overrides[0].line);
	assert_null(back.overrides[0].by);
	assert_int_equal(back.overrides[1].id, id1);
	assert_string_equal(back.overrides[1].by, "pia");
	assert_int_equal(back.n_dirs, 2);
	assert_int_equal(back.n_shifts, 1); /* the rest of the roster is untouched */
	gw_db_roster_clear(&back);

	assert_int_equal(gw_db_override_remove(a, id1), 0);
	assert_int_equal(gw_db_override_remove(a, id1), -ENOENT);
	assert_int_equal(raw_int("SELECT count(*) FROM manual_overrides"), 1);
	gw_db_close(a);
	gw_db_close(b);
}

/* A v1 roster migrated to v6: language fi, no PIN, unconditional routes, no temp rosters. */
/* The database is never opened through a symlink (planted to make root write elsewhere). */
static void test_symlink_db_refused(void **state)
{
	struct gw_db *db;
	char target[300];
	(void)state;
	snprintf(target, sizeof(target), "%s.target", path);
	assert_int_equal(gw_db_open(target, &db), 0);
	gw_db_close(db);
	assert_int_equal(symlink(target, path), 0);
	assert_true(gw_db_open(path, &db) < 0);
	assert_true(gw_db_open_flags(path, GW_DB_NOCREATE, &db) < 0);
	rm_db(target);
}

/* ---- the chain's anchor outside the database ---------------------------------------- */

static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;
	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* An incident of n events at t, written and closed; the database closed after. */
static void log_incident(const char *p, int n, int64_t t, const char *what)
{
	struct gw_db *db;
	struct gw_incident_rec rec = {.started_ms = t, .caller = "2269001", .radio_cci = 1};
	int64_t id;
	assert_int_equal(gw_db_open(p, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(gw_db_event_append(db, id, t + 1 + i, "page", what), 0);
	assert_int_equal(gw_db_incident_close(db, id, t + 100, "completed", -1, NULL), 0);
	gw_db_close(db);
}

static int verify_file(const char *p, struct gw_db_verify *v)
{
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(p, GW_DB_NOCREATE, &db), 0);
	int rc = gw_db_log_verify_report(db, v);
	gw_db_close(db);
	return rc;
}

/*
 * The anchor (a MAC'd "last event, its hash" written outside the database after every
 * commit) catches what the chain alone cannot: the tail cut off with chain_head moved
 * back, an older copy of the file put back, a rewritten chain, a forged anchor.
 */
static void test_anchor_catches_truncation_rollback_rewrite(void **state)
{
	char old[300], good[300], key[300], anchor[300], other[300];
	struct gw_db_verify v;
	(void)state;
	snprintf(old, sizeof(old), "%s.old", path);
	snprintf(good, sizeof(good), "%s.good", path);
	snprintf(key, sizeof(key), "%s.key", path);
	snprintf(anchor, sizeof(anchor), "%s.anchor", path);
	snprintf(other, sizeof(other), "%s.other", path);

	log_incident(path, 3, 1000, "aino");
	assert_int_equal(verify_file(path, &v), 0);
	assert_int_equal(v.anchor, GW_DB_ANCHOR_OK);
	assert_int_equal(v.anchor_id, 5); /* open, 3 pages, close */
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	copy_file(path, old);
	log_incident(path, 2, 2000, "mikko");
	copy_file(path, good);
	assert_int_equal(verify_file(path, &v), 0);
	assert_int_equal(v.anchor_id, 9);

	/* an older copy put back: the chain in it is whole, the anchor is newer */
	copy_file(old, path);
	assert_int_equal(verify_file(path, &v), 1);
	assert_non_null(strstr(v.reason, "ends before the anchored event"));

	/* the tail cut off and chain_head moved back to match */
	copy_file(good, path);
	raw_exec("DELETE FROM incident_events WHERE id = 9;"
		 "UPDATE chain_head SET last_id = 8,"
		 " hash = (SELECT hash FROM incident_events WHERE id = 8);");
	assert_int_equal(verify_file(path, &v), 1);
	assert_non_null(strstr(v.reason, "ends before the anchored event"));

	/* a whole other chain, just as long: the anchored event's hash differs */
	log_incident(other, 7, 5000, "keksitty");
	copy_file(other, path);
	assert_int_equal(verify_file(path, &v), 1);
	assert_non_null(strstr(v.reason, "hash differs"));

	/* ... and an anchor made to fit it without the key */
	char line[300];
	{
		struct gw_db_verify ov;
		char okey[320];
		snprintf(okey, sizeof(okey), "%s.key", other);
		unlink(okey); /* verify the other file as a reader would: no MAC check */
		assert_int_equal(verify_file(other, &ov), 0);
		char h[65];
		for (int i = 0; i < 32; i++)
			snprintf(h + 2 * i, 3, "%02x", ov.head[i]);
		snprintf(line, sizeof(line), "rinki-anchor 1 9 %s %064d\n", h, 0);
	}
	FILE *f = fopen(anchor, "w");
	assert_non_null(f);
	fputs(line, f);
	fclose(f);
	assert_int_equal(verify_file(path, &v), 1);
	assert_non_null(strstr(v.reason, "MAC does not match"));

	/* the good file again, verified by a reader without the key: not MAC-checked */
	copy_file(good, path);
	log_incident(path, 0, 3000, "x"); /* writes a fresh anchor */
	char keep[320];
	snprintf(keep, sizeof(keep), "%s.keep", key);
	assert_int_equal(rename(key, keep), 0);
	assert_int_equal(verify_file(path, &v), 0);
	assert_int_equal(v.anchor, GW_DB_ANCHOR_UNKEYED);
	assert_int_equal(rename(keep, key), 0);
	/* the key but no anchor: removed */
	unlink(anchor);
	assert_int_equal(verify_file(path, &v), 1);
	assert_non_null(strstr(v.reason, "anchor file is missing"));

	rm_db(old);
	rm_db(good);
	rm_db(other);
}

/* PIN lock-outs: put replaces by key, list returns every record, across a reopen. */
static char lock_seen[256];
static void lock_cb(const struct gw_db_lockout *l, void *arg)
{
	(void)arg;
	char b[96];
	snprintf(b, sizeof(b), "%s %d %lld %lld;", l->key, l->fails, (long long)l->last_fail_ms,
		 (long long)l->until_ms);
	strncat(lock_seen, b, sizeof(lock_seen) - strlen(lock_seen) - 1);
}
static void test_lockouts_kept(void **state)
{
	struct gw_db *db;
	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	struct gw_db_lockout a = {"worker:aino", 1, 1000, 0};
	struct gw_db_lockout b = {"phone:+358401234567", 2, 2000, 0};
	assert_int_equal(gw_db_lockout_put(db, &a), 0);
	assert_int_equal(gw_db_lockout_put(db, &b), 0);
	a.fails = 0;
	a.until_ms = 601000;
	assert_int_equal(gw_db_lockout_put(db, &a), 0);
	gw_db_close(db);
	assert_int_equal(gw_db_open(path, &db), 0);
	lock_seen[0] = '\0';
	assert_int_equal(gw_db_lockout_list(db, lock_cb, NULL), 2);
	assert_string_equal(lock_seen, "phone:+358401234567 2 2000 0;worker:aino 0 1000 601000;");
	gw_db_close(db);
}

struct fates {
	char text[1024];
};

static void on_fate(enum gw_db_manual_fate fate, const char *what, void *arg)
{
	struct fates *f = arg;
	size_t n = strlen(f->text);
	snprintf(f->text + n, sizeof(f->text) - n, "%c %s|", "KBCD"[fate], what);
}

/*
 * The county version a roster came from is kept with it, in the import's transaction: an
 * import that fails keeps the old roster and the old version; a local import clears it.
 */
static void test_roster_source(void **state)
{
	struct gw_db_roster r, back;
	struct gw_db_line l;
	struct gw_db_worker w;
	struct gw_db_shift sh;
	struct gw_db_roster_source src;
	struct gw_db *db;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_roster_source_get(db, &src), 0);
	tiny_roster(&r, &l, &w, &sh, "aino");
	struct gw_db_roster_source v4 = {.version = 4, .made_ms = 1000, .applied_ms = 2000};
	assert_int_equal(gw_db_roster_import_from(db, &r, 0, NULL, NULL, &v4), 0);
	assert_int_equal(gw_db_roster_source_get(db, &src), 1);
	assert_int_equal(src.version, 4);
	assert_int_equal(src.made_ms, 1000);
	assert_int_equal(src.applied_ms, 2000);
	assert_int_equal(gw_db_roster_read(db, &back), 0); /* the roster carries it too */
	assert_int_equal(back.source.version, 4);
	assert_int_equal(back.source.made_ms, 1000);
	gw_db_roster_clear(&back);

	/* version 5's shift names a worker it lacks: refused whole, version 4 and its roster stay
	 */
	struct gw_db_roster_source v5 = {.version = 5, .made_ms = 3000, .applied_ms = 4000};
	struct gw_db_roster bad = r;
	struct gw_db_worker w2 = w;
	w2.handle = "pia";
	w2.phone = "+358401111111";
	bad.workers = &w2;
	assert_true(gw_db_roster_import_from(db, &bad, 0, NULL, NULL, &v5) < 0);
	assert_int_equal(gw_db_roster_source_get(db, &src), 1);
	assert_int_equal(src.version, 4);
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_int_equal(back.n_workers, 1);
	assert_string_equal(back.workers[0].handle, "aino");
	gw_db_roster_clear(&back);

	/* a good version 5 replaces it; a local import then leaves no county version */
	assert_int_equal(gw_db_roster_import_from(db, &r, 0, NULL, NULL, &v5), 0);
	assert_int_equal(gw_db_roster_source_get(db, &src), 1);
	assert_int_equal(src.version, 5);
	assert_int_equal(src.applied_ms, 4000);
	assert_int_equal(gw_db_roster_replace(db, &r), 0);
	assert_int_equal(gw_db_roster_source_get(db, &src), 0);
	assert_int_equal(src.version, 0);
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_int_equal(back.source.version, 0);
	gw_db_roster_clear(&back);
	gw_db_close(db);
}

/* The manual layer (rinkictl's overrides, disables, added workers) outlives a base import. */
static void test_manual_changes_survive_import(void **state)
{
	struct gw_db_roster r, back;
	struct gw_db_line l;
	struct gw_db_worker w[2];
	struct gw_db_shift sh;
	struct gw_db *db;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	tiny_roster(&r, &l, &w[0], &sh, "aino");
	w[1] = (struct gw_db_worker){
	    .handle = "pia", .name = "Pia", .phone = "+358401111111", .active = true};
	r.workers = w;
	r.n_workers = 2;
	assert_int_equal(gw_db_roster_replace(db, &r), 0);
	struct gw_db_override o = {.kind = "replace",
				   .line = "sos",
				   .worker = "aino",
				   .by = "pia",
				   .start_ms = 10,
				   .end_ms = 20};
	assert_int_equal(gw_db_override_add(db, &o, NULL), 0);
	assert_int_equal(gw_db_worker_set_active(db, "pia", false), 0);
	struct gw_db_worker ulla = {
	    .handle = "ulla", .name = "Ulla", .phone = "+358402222222", .active = true};
	assert_int_equal(gw_db_worker_add(db, &ulla), 0);
	/* the coordinators import the same base roster again */
	assert_int_equal(gw_db_roster_replace(db, &r), 0);
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_int_equal(back.n_overrides, 1);
	assert_string_equal(back.overrides[0].by, "pia");
	assert_int_equal(back.n_workers, 3);
	assert_string_equal(back.workers[1].handle, "pia");
	assert_false(back.workers[1].active);
	assert_string_equal(back.workers[2].handle, "ulla");
	assert_true(back.workers[2].manual_add);
	gw_db_roster_clear(&back);

	/* A base without pia: the override by pia and pia's disable cannot stay. Refused. */
	struct fates f = {0};
	r.n_workers = 1;
	assert_int_equal(gw_db_roster_import(db, &r, 0, on_fate, &f), -ECANCELED);
	assert_string_equal(f.text,
			    "C override 1: replace aino by pia on sos, 1970-01-01T00:00Z .. "
			    "1970-01-01T00:00Z (names a worker or line the imported roster "
			    "lacks)|C worker pia: disabled (names a worker or line the imported "
			    "roster lacks)|K worker ulla: added with rinkictl|");
	assert_int_equal(gw_db_roster_read(db, &back), 0); /* nothing changed */
	assert_int_equal(back.n_workers, 3);
	assert_int_equal(back.n_overrides, 1);
	gw_db_roster_clear(&back);
	/* --replace: dropped, and said so */
	memset(&f, 0, sizeof(f));
	assert_int_equal(gw_db_roster_import(db, &r, GW_DB_IMPORT_REPLACE, on_fate, &f), 0);
	assert_non_null(strstr(f.text, "D override 1: replace aino by pia"));
	assert_non_null(strstr(f.text, "D worker pia: disabled"));
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_int_equal(back.n_workers, 2); /* aino, ulla */
	assert_int_equal(back.n_overrides, 0);
	gw_db_roster_clear(&back);

	/* The base takes ulla over, and an override equal to a manual one: folded into it. */
	struct gw_db_override base_o = {
	    .kind = "remove", .worker = "aino", .start_ms = 100, .end_ms = 200};
	struct gw_db_override man_o = base_o;
	assert_int_equal(gw_db_override_add(db, &man_o, NULL), 0);
	assert_int_equal(gw_db_worker_set_active(db, "ulla", false), 0);
	w[1] = (struct gw_db_worker){
	    .handle = "ulla", .name = "Ulla", .phone = "+358402222222", .active = true};
	r.n_workers = 2;
	r.overrides = &base_o;
	r.n_overrides = 1;
	memset(&f, 0, sizeof(f));
	assert_int_equal(gw_db_roster_import(db, &r, 0, on_fate, &f), 0);
	assert_string_equal(f.text,
			    "B override 2: remove aino on every line, 1970-01-01T00:00Z .. "
			    "1970-01-01T00:00Z|K worker ulla: added with rinkictl, disabled|");
	assert_int_equal(raw_int("SELECT count(*) FROM manual_overrides"), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM manual_workers WHERE handle = 'ulla'"
				 " AND name IS NULL AND active = 0"),
			 1);
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_int_equal(back.n_overrides, 1);
	assert_false(back.overrides[0].manual);
	assert_false(back.workers[1].active); /* ulla: the manual disable still holds */
	assert_false(back.workers[1].manual_add);
	gw_db_roster_clear(&back);
	gw_db_close(db);
}

/*
 * A phone or language change of an imported worker (schema v12) is the manual layer's: the
 * roster shows it, a base import keeps it (and says so), folds it when the base agrees,
 * and refuses a base without the worker.
 */
static void test_manual_details_survive_import(void **state)
{
	struct gw_db_roster r, back;
	struct gw_db_line l;
	struct gw_db_worker w[2];
	struct gw_db_shift sh;
	struct gw_db *db;
	struct fates f = {0};

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	tiny_roster(&r, &l, &w[0], &sh, "aino");
	w[1] = (struct gw_db_worker){
	    .handle = "pia", .name = "Pia", .phone = "+358401111111", .active = true};
	r.n_workers = 2;
	assert_int_equal(gw_db_roster_replace(db, &r), 0);
	assert_int_equal(gw_db_worker_set_details(db, "pia", "+358409999999", "sv"), 0);
	assert_int_equal(gw_db_worker_set_details(db, "aino", NULL, "en"), 0);
	assert_int_equal(gw_db_worker_set_details(db, "nobody", "+358409999999", NULL), -ENOENT);
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_string_equal(back.workers[0].phone, "+358401234567"); /* aino: language only */
	assert_string_equal(back.workers[0].lang, "en");
	assert_string_equal(back.workers[1].phone, "+358409999999");
	assert_string_equal(back.workers[1].lang, "sv");
	assert_true(back.workers[1].active);
	gw_db_roster_clear(&back);

	/* the same base again: both changes kept */
	assert_int_equal(gw_db_roster_import(db, &r, 0, on_fate, &f), 0);
	assert_string_equal(f.text, "K worker aino: language en|"
				    "K worker pia: phone +358409999999, language sv|");
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_string_equal(back.workers[1].phone, "+358409999999");
	assert_string_equal(back.workers[1].lang, "sv");
	gw_db_roster_clear(&back);

	/* a disable on top, then a base without pia: refused, naming the changes */
	assert_int_equal(gw_db_worker_set_active(db, "pia", false), 0);
	r.n_workers = 1;
	memset(&f, 0, sizeof(f));
	assert_int_equal(gw_db_roster_import(db, &r, 0, on_fate, &f), -ECANCELED);
	assert_non_null(strstr(f.text, "C worker pia: disabled, phone +358409999999, language "
				       "sv (names a worker"));

	/* a base that has taken aino's language: folded; pia's phone still differs: kept */
	w[0].lang = "en";
	w[1].lang = "sv";
	w[1].active = false;
	r.n_workers = 2;
	memset(&f, 0, sizeof(f));
	assert_int_equal(gw_db_roster_import(db, &r, 0, on_fate, &f), 0);
	assert_string_equal(f.text, "B worker aino: language en|"
				    "K worker pia: disabled, phone +358409999999, language sv|");
	assert_int_equal(raw_int("SELECT count(*) FROM manual_workers WHERE handle = 'aino'"), 0);
	assert_int_equal(gw_db_roster_read(db, &back), 0);
	assert_string_equal(back.workers[0].lang, "en");
	assert_string_equal(back.workers[1].phone, "+358409999999");
	gw_db_roster_clear(&back);
	gw_db_close(db);
}

/* v11 -> v12: the manual workers table is rebuilt for phone and language changes. */
static void test_migrate_v12_to_v13(void **state)
{
	struct gw_db *db;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	raw_exec("DROP VIEW worker_handles; DROP TABLE manual_workers;"
		 "CREATE TABLE manual_workers (handle TEXT PRIMARY KEY NOT NULL, name TEXT,"
		 " phone TEXT, issi TEXT, lang TEXT CHECK (lang IN ('fi', 'sv', 'en')),"
		 " active INTEGER CHECK (active IN (0, 1)), made_ms INTEGER NOT NULL,"
		 " CHECK ((name IS NULL) = (phone IS NULL)),"
		 " CHECK (name IS NOT NULL OR active IS NOT NULL));"
		 "CREATE VIEW worker_handles AS SELECT handle FROM workers"
		 " UNION SELECT handle FROM manual_workers WHERE name IS NOT NULL;"
		 "INSERT INTO workers (handle, name, phone) VALUES ('aino', 'A', '+358401234567');"
		 "INSERT INTO manual_workers (handle, active, made_ms) VALUES ('aino', 0, 5);"
		 "INSERT INTO manual_workers (handle, name, phone, lang, made_ms)"
		 " VALUES ('ulla', 'U', '+358402222222', 'sv', 6);"
		 "UPDATE schema_version SET version = 12;");
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(raw_int("SELECT version FROM schema_version"), gw_db_schema_version());
	assert_true(gw_db_schema_version() >= 13);
	assert_int_equal(raw_int("SELECT count(*) FROM manual_workers WHERE handle = 'aino'"
				 " AND active = 0 AND name IS NULL AND made_ms = 5"),
			 1);
	assert_int_equal(raw_int("SELECT count(*) FROM worker_handles"), 2);
	assert_int_equal(gw_db_worker_set_details(db, "aino", "+358403333333", NULL), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM manual_workers WHERE handle = 'aino'"
				 " AND active = 0 AND phone = '+358403333333' AND name IS NULL"),
			 1);
	/* a manual row must still say something, and an addition still has a phone */
	assert_int_not_equal(raw_exec_rc("INSERT INTO manual_workers (handle, made_ms)"
					 " VALUES ('x', 1)"),
			     SQLITE_OK);
	assert_int_not_equal(raw_exec_rc("INSERT INTO manual_workers (handle, name, made_ms)"
					 " VALUES ('y', 'Y', 1)"),
			     SQLITE_OK);
	gw_db_close(db);
}

/* A v1 roster migrated to the newest schema: language fi, no PIN, unconditional routes, no temp
 * rosters. */
static void test_migrate_roster_to_current(void **state)
{
	struct gw_db_roster r;
	struct gw_db *db;

	(void)state;
	raw_exec(v1_schema);
	raw_exec("INSERT INTO service_lines VALUES ('sos', 'S', 'S', 'S');"
		 "INSERT INTO workers (handle, name, phone) VALUES ('aino', 'A', '+358401234567');"
		 "INSERT INTO routes (line, caller_prefix, priority) VALUES ('sos', '2269', 1);"
		 "INSERT INTO shifts (line, worker, start_utc, end_utc, position)"
		 " VALUES ('sos', 1, 0, 1000, 1);");
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_true(gw_db_schema_version() >= 6); /* v6 and every later migration */
	assert_int_equal(raw_int("SELECT count(*) FROM pin_lockouts"), 0); /* v7 */
	assert_int_equal(gw_db_roster_read(db, &r), 0);
	assert_int_equal(r.n_workers, 1);
	assert_string_equal(r.workers[0].lang, "fi");
	assert_null(r.workers[0].pin_hash);
	assert_int_equal(r.n_routes, 1);
	assert_string_equal(r.routes[0].prefix, "2269");
	assert_int_equal(r.routes[0].days, 0);
	assert_false(r.routes[0].window);
	assert_int_equal(r.routes[0].holidays, GW_DB_ROUTE_HOL_ANY);
	assert_false(r.routes[0].has_status);
	assert_int_equal(r.n_shifts, 1);
	assert_null(r.shifts[0].temp);
	assert_int_equal(r.n_temps, 0);
	gw_db_roster_clear(&r);
	/* A PIN is kept by handle, and only for a known handle. */
	assert_int_equal(gw_db_worker_set_pin(db, "aino", "$argon2id$x"), 0);
	assert_int_equal(gw_db_worker_set_pin(db, "nobody", "$argon2id$x"), -ENOENT);
	assert_int_equal(gw_db_roster_read(db, &r), 0);
	assert_string_equal(r.workers[0].pin_hash, "$argon2id$x");
	gw_db_roster_clear(&r);
	gw_db_close(db);
	assert_int_equal(raw_int("SELECT version FROM schema_version"), gw_db_schema_version());
}

/*
 * v6 -> now: overrides and inactive workers already there may be rinkictl's: they move to
 * the manual layer (v9); rotations are rebuilt for patterns (v10) and keep their members
 * (a v6 file is made by taking the v7 and v8 changes away again).
 */
static void test_migrate_v6_to_current(void **state)
{
	struct gw_db_roster r;
	struct gw_db *db;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	/* back to the v6 tables: no manual layer, rotations as v3-v6 made them */
	raw_exec(
	    "DROP TABLE pin_lockouts; DROP TABLE queue_applied; DROP TABLE roster_source;"
	    "DROP VIEW worker_handles; DROP TABLE manual_overrides; DROP TABLE manual_workers;"
	    "DROP TABLE rotation_members; DROP TABLE rotations;"
	    "CREATE TABLE rotations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	    " line TEXT NOT NULL REFERENCES service_lines(code),"
	    " kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly')),"
	    " start_date TEXT NOT NULL, end_date TEXT,"
	    " handoff_min INTEGER NOT NULL CHECK (handoff_min BETWEEN 0 AND 1439),"
	    " position INTEGER NOT NULL,"
	    " hours TEXT NOT NULL CHECK (hours IN ('all', 'office', 'after')),"
	    " temp_roster TEXT REFERENCES temp_rosters(name));"
	    "CREATE TABLE rotation_members (rotation INTEGER NOT NULL REFERENCES rotations(id),"
	    " ord INTEGER NOT NULL, worker INTEGER NOT NULL REFERENCES workers(id),"
	    " PRIMARY KEY (rotation, ord)) WITHOUT ROWID;"
	    "ALTER TABLE service_lines DROP COLUMN office_days;"
	    "ALTER TABLE service_lines DROP COLUMN office_from;"
	    "ALTER TABLE service_lines DROP COLUMN office_to;"
	    "ALTER TABLE service_lines DROP COLUMN after_line;"
	    "ALTER TABLE directory DROP COLUMN municipality;"
	    "ALTER TABLE directory DROP COLUMN membership;"
	    "UPDATE schema_version SET version = 6;"
	    "INSERT INTO service_lines VALUES ('sos', 'S', 'S', 'S');"
	    "INSERT INTO workers (handle, name, phone) VALUES ('aino', 'A', '+358401234567');"
	    "INSERT INTO workers (handle, name, phone, active) VALUES ('pia', 'P', '+3584022',"
	    " 0);"
	    "INSERT INTO overrides (kind, line, worker, by_worker, start_utc, end_utc)"
	    " VALUES ('replace', 'sos', 1, 2, 10, 20);"
	    "INSERT INTO rotations (name, line, kind, start_date, handoff_min, position, hours)"
	    " VALUES ('wk', 'sos', 'weekly', '2026-01-05', 480, 1, 'all');"
	    "INSERT INTO rotation_members VALUES (1, 1, 1);");
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(raw_int("SELECT version FROM schema_version"), gw_db_schema_version());
	assert_int_equal(raw_int("SELECT count(*) FROM overrides"), 0);
	/* v10 rebuilt rotations (kind "pattern"): the rotation and its member are still there */
	assert_int_equal(raw_int("SELECT count(*) FROM rotations r JOIN rotation_members m"
				 " ON m.rotation = r.id WHERE r.name = 'wk' AND r.cycle IS NULL"),
			 1);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM manual_overrides WHERE worker = 'aino'"
				 " AND by_worker = 'pia' AND start_utc = 10"),
			 1);
	assert_int_equal(raw_int("SELECT count(*) FROM manual_workers WHERE handle = 'pia'"
				 " AND active = 0 AND name IS NULL"),
			 1);
	assert_int_equal(gw_db_roster_read(db, &r), 0);
	assert_int_equal(r.n_overrides, 1);
	assert_true(r.overrides[0].manual);
	assert_int_equal(r.n_workers, 2);
	assert_false(r.workers[1].active);
	assert_true(r.workers[1].manual_active);
	assert_false(r.workers[0].manual_active);
	gw_db_roster_clear(&r);
	gw_db_close(db);
}

/*
 * The database file is replaced under an open connection (an operator renames a restored
 * copy over it): the next write notices (the name leads to another inode), goes to the
 * spool, and the replay reopens the new file. The old file's WAL and shared-memory index,
 * still under the same names, must never be applied to the new file: afterwards it holds
 * its own history and the write made after the rename, none of the old file's.
 */
static void test_replaced_file_reopened(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db, *other;
	char repl[300], q[160];
	int64_t id;

	(void)state;
	snprintf(repl, sizeof(repl), "%s.new", path);
	assert_int_equal(gw_db_open(path, &db), 0);
	/* writes that stay in the old file's WAL (far below the auto-checkpoint) */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
		assert_int_equal(gw_db_event_append(db, id, rec.started_ms + 1, "page", "old"), 0);
	}
	/* the replacement, written and closed (checkpointed) by another program */
	assert_int_equal(gw_db_open(repl, &other), 0);
	rec.caller = "3300";
	assert_int_equal(gw_db_incident_open(other, &rec, &id), 0);
	gw_db_close(other);
	assert_int_equal(rename(repl, path), 0);

	rec.caller = "4400";
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_true(gw_db_spool_pending(db)); /* not written to the renamed-over inode */
	assert_true(gw_db_spool_replay(db) >= 0);
	assert_false(gw_db_spool_pending(db));
	rec.caller = "5500"; /* and later writes go to the new file directly */
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_false(gw_db_spool_pending(db));
	gw_db_close(db);

	sqlite3 *h;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(h);
	static const struct {
		const char *caller;
		int n;
	} want[] = {{"2269001", 0}, {"3300", 1}, {"4400", 1}, {"5500", 1}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(q, sizeof(q), "SELECT count(*) FROM incidents WHERE caller = '%s'",
			 want[i].caller);
		if (raw_int(q) != want[i].n)
			fail_msg("caller %s: %lld incidents in the new file, want %d",
				 want[i].caller, (long long)raw_int(q), want[i].n);
	}
	rm_db(repl);
}

/* The call log and roster are nobody else's: a database made under umask 022 (rinkictl
   run from a shell) is not readable by others, nor are its -wal and -shm. */
static void test_new_database_not_world_readable(void **state)
{
	(void)state;
	struct gw_db *db;
	struct stat st;
	char side[300];
	mode_t old = umask(022);
	int rc = gw_db_open(path, &db);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0007, 0);
	assert_int_equal(st.st_mode & 0600, 0600);
	snprintf(side, sizeof(side), "%s-wal", path);
	assert_int_equal(stat(side, &st), 0);
	assert_int_equal(st.st_mode & 0007, 0);
	gw_db_close(db);
	/* one made wider by hand is narrowed at the next open */
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	gw_db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_creates_and_migrates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_database_not_world_readable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_incident_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mark_interrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roster_changed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_intact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_tampered_detail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_deleted_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_file_reopened, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_incident_row_edited, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v1_to_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_roster_to_current, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockouts_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_db_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_anchor_catches_truncation_rollback_rewrite, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v6_to_current, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention_spool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roster_edits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manual_changes_survive_import, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roster_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manual_details_survive_import, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v12_to_v13, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
