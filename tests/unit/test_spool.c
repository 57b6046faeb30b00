/*
 * test_spool: the spool journal, alone (format, CRC, torn tail) and behind gw_db (call-log
 * writes while the database is locked by another connection, full, or moved away, then
 * replayed in order with no duplicates and the ids the caller was given).
 *
 * "Locked" is a raw sqlite3 connection holding BEGIN EXCLUSIVE; "full" is a forked child
 * with a small RLIMIT_FSIZE (SIGXFSZ ignored), so the WAL cannot grow but the small spool
 * file can; "gone" is the database file renamed away while open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/db.h"
#include "core/log.h"
#include "store/spool.h"

static char dir[] = "/tmp/rinki-test-spool-XXXXXX";
static char path[256], spath[300];
static int seq;

/* Log capture: every line at warn or worse, concatenated (bounded). */
static char logbuf[8192];

static void sink(enum gw_log_cat cat, enum gw_log_level level, const char *line, void *arg)
{
	size_t n = strlen(logbuf);
	(void)cat;
	(void)arg;
	if (level <= GW_LOG_NOTICE && n < sizeof(logbuf) - 1)
		snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
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

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "%s/t%d.db", dir, ++seq);
	snprintf(spath, sizeof(spath), "%s.spool", path);
	logbuf[0] = '\0';
	return 0;
}

/* Every file the spool set aside ("<spool>.bad-<UTC time>[-n]"): count, and remove them. */
static int aside_files(bool remove, char *first, size_t len)
{
	char pat[320];
	glob_t g;
	snprintf(pat, sizeof(pat), "%s.bad-*", spath);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	int n = (int)g.gl_pathc;
	if (first && n)
		snprintf(first, len, "%s", g.gl_pathv[0]);
	for (size_t i = 0; remove && i < g.gl_pathc; i++)
		unlink(g.gl_pathv[i]);
	globfree(&g);
	return n;
}

static int teardown(void **state)
{
	char f[320];
	const char *suffix[] = {"",	  "-wal",    "-shm", "-journal", ".spool",
				".moved", ".target", ".key", ".anchor"};
	(void)state;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		unlink(f);
	}
	aside_files(true, NULL, 0);
	return 0;
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

static off_t file_size(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 ? sb.st_size : -1;
}

/* Another program holding the write lock: BEGIN EXCLUSIVE on a raw connection. */
static sqlite3 *lock_db(void)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	return h;
}

static void unlock_db(sqlite3 *h)
{
	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/* The events of an incident as "kind:detail|kind:detail|..." in id order. */
struct evs {
	char s[1024];
	int n;
};

static void on_event(const struct gw_db_event *ev, void *arg)
{
	struct evs *e = arg;
	size_t n = strlen(e->s);
	snprintf(e->s + n, sizeof(e->s) - n, "%s%s:%s", e->n++ ? "|" : "", ev->kind,
		 ev->detail ? ev->detail : "-");
}

static const char *events_of(struct gw_db *db, int64_t id, struct evs *e)
{
	memset(e, 0, sizeof(*e));
	assert_true(gw_db_event_list(db, id, on_event, e) >= 0);
	return e->s;
}

struct inc {
	int n;
	int64_t id, ended_ms;
	bool ended;
	char outcome[32], caller[32];
};

static void on_incident(const struct gw_db_incident *i, void *arg)
{
	struct inc *x = arg;
	x->n++;
	x->id = i->id;
	x->ended = i->ended;
	x->ended_ms = i->ended_ms;
	snprintf(x->outcome, sizeof(x->outcome), "%s", i->outcome ? i->outcome : "(open)");
	snprintf(x->caller, sizeof(x->caller), "%s", i->caller);
}

/* ---- the format alone ---------------------------------------------------------------- */

static void test_crc_and_round_trip(void **state)
{
	uint8_t buf[512];
	struct gw_spool_rec in = {.type = GW_SPOOL_OPEN,
				  .origin = 0x1122334455667788u,
				  .seq = 9,
				  .incident = 42,
				  .t_ms = 1767225600123,
				  .num = -7,
				  .caller = "2269001",
				  .caller_name = NULL,
				  .line = "sos"};
	struct gw_spool_rec out;
	const char *why = NULL;
	int n;

	(void)state;
	/* The standard check value of CRC-32/ISO-HDLC. */
	assert_int_equal(gw_spool_crc32(0, "123456789", 9), 0xcbf43926u);
	n = gw_spool_encode(&in, buf, sizeof(buf));
	assert_true(n > GW_SPOOL_HDR);
	assert_int_equal(gw_spool_decode(buf + GW_SPOOL_HDR, (size_t)n - GW_SPOOL_HDR, &out, &why),
			 0);
	assert_int_equal(out.type, GW_SPOOL_OPEN);
	assert_true(out.origin == in.origin);
	assert_int_equal(out.seq, 9);
	assert_int_equal(out.incident, 42);
	assert_int_equal(out.t_ms, 1767225600123);
	assert_int_equal(out.num, -7);
	assert_string_equal(out.caller, "2269001");
	assert_null(out.caller_name);
	assert_string_equal(out.line, "sos");
	/* Too small a buffer, a missing required string. */
	assert_int_equal(gw_spool_encode(&in, buf, 20), -ENOSPC);
	in.caller = NULL;
	assert_int_equal(gw_spool_encode(&in, buf, sizeof(buf)), -EINVAL);
	/* A payload with a byte too many, or a string without its NUL, does not decode. */
	in.caller = "2269001";
	n = gw_spool_encode(&in, buf, sizeof(buf));
	assert_int_equal(
	    gw_spool_decode(buf + GW_SPOOL_HDR, (size_t)n - GW_SPOOL_HDR + 1, &out, &why),
	    -EBADMSG);
	assert_string_equal(why, "trailing bytes in record");
	buf[n - 1] = 'x'; /* the NUL of "sos" */
	assert_int_equal(gw_spool_decode(buf + GW_SPOOL_HDR, (size_t)n - GW_SPOOL_HDR, &out, &why),
			 -EBADMSG);
	assert_string_equal(why, "bad line");
}

static int count_cb(const struct gw_spool_rec *rec, void *arg)
{
	int64_t *sum = arg;
	*sum += rec->incident;
	return 0;
}

static void test_parse_torn_tail(void **state)
{
	uint8_t buf[1024];
	struct gw_spool_rec r = {.type = GW_SPOOL_EVENT, .origin = 1, .kind = "page"};
	struct gw_spool_scan scan;
	size_t len = 0, second = 0;
	int64_t sum = 0;

	(void)state;
	for (int i = 1; i <= 3; i++) {
		r.seq = (uint64_t)i;
		r.incident = i;
		if (i == 3)
			second = len;
		len += (size_t)gw_spool_encode(&r, buf + len, sizeof(buf) - len);
	}
	assert_int_equal(gw_spool_parse(buf, len, count_cb, &sum, &scan), 0);
	assert_int_equal(scan.records, 3);
	assert_int_equal(sum, 6);
	assert_null(scan.tail);
	/* Every cut inside the last record keeps the first two and names the tail. */
	for (size_t cut = second + 1; cut < len; cut++) {
		sum = 0;
		assert_int_equal(gw_spool_parse(buf, cut, count_cb, &sum, &scan), 0);
		assert_int_equal(scan.records, 2);
		assert_int_equal(scan.good_bytes, second);
		assert_int_equal(sum, 3);
		assert_non_null(scan.tail);
	}
	/* A flipped payload bit is a CRC mismatch. */
	buf[second + GW_SPOOL_HDR + 3] ^= 0x10;
	sum = 0;
	assert_int_equal(gw_spool_parse(buf, len, count_cb, &sum, &scan), 0);
	assert_int_equal(scan.records, 2);
	assert_string_equal(scan.tail, "record CRC mismatch");
}

/* ---- behind the database ------------------------------------------------------------- */

static void test_locked_then_replayed(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db_verify v;
	struct gw_db *db;
	struct evs e;
	struct inc x = {0};
	sqlite3 *lock;
	int64_t a, b, c;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_set_busy_timeout(db, 20);
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	assert_int_equal(a, 1);

	lock = lock_db();
	/* Every write returns 0 and goes to the spool; a new incident gets the next id. */
	assert_int_equal(gw_db_event_append(db, a, 1100, "page", "aino"), 0);
	assert_true(gw_db_spool_pending(db));
	assert_non_null(strstr(logbuf, "call-log writes go to"));
	rec.started_ms = 2000;
	rec.caller = "2269002";
	assert_int_equal(gw_db_batch_begin(db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &b), 0);
	assert_int_equal(b, 2);
	assert_int_equal(gw_db_event_append(db, b, 2001, "page", "mikko"), 0);
	assert_int_equal(gw_db_batch_commit(db), 0);
	assert_int_equal(gw_db_incident_close(db, a, 3000, "answered", 1, "aino"), 0);
	assert_int_equal(gw_db_event_append(db, b, 3100, "dtmf", NULL), 0);
	assert_true(file_size(spath) > 0);
	/* Replay while still locked: refused, everything kept. */
	assert_true(gw_db_spool_replay(db) < 0);
	assert_true(gw_db_spool_pending(db));
	unlock_db(lock);
	assert_int_equal(raw_int("SELECT count(*) FROM incidents"), 1);

	assert_int_equal(gw_db_spool_replay(db), 5);
	assert_false(gw_db_spool_pending(db));
	assert_int_equal(file_size(spath), 0);
	assert_int_equal(gw_db_spool_replay(db), 0);
	/* In order, once each, under the ids the caller was given. */
	assert_string_equal(events_of(db, a, &e),
			    "open:caller 2269001 (unknown) line - cci 1|page:aino|"
			    "close:outcome answered cause 1 accepted by aino");
	assert_string_equal(events_of(db, b, &e),
			    "open:caller 2269002 (unknown) line - cci 1|page:mikko|dtmf:-");
	assert_int_equal(gw_db_incident_get(db, b, on_incident, &x), 0);
	assert_string_equal(x.caller, "2269002");
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events"), 6);
	assert_int_equal(raw_int("SELECT count(*) FROM spool_applied"), 0);
	/* Event rows are in replay order: ids ascend with the writes. */
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events WHERE kind = 'dtmf' AND "
				 "id = (SELECT max(id) FROM incident_events)"),
			 1);
	/* Back to direct writes, the next id follows. */
	assert_int_equal(gw_db_incident_open(db, &rec, &c), 0);
	assert_int_equal(c, 3);
	assert_false(gw_db_spool_pending(db));
	assert_int_equal(gw_db_log_verify_report(db, &v), 0);
	assert_int_equal(v.events, 7);
	gw_db_close(db);
}

/* A system event while the database is away is spooled like any call-log write (it used to
   be refused with -EBUSY and lost), kept in order, and a SYS record names no incident. */
static void test_system_event_spooled(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db;
	int64_t a;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_set_busy_timeout(db, 20);
	sqlite3 *lock = lock_db();
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	assert_int_equal(gw_db_system_event_append(db, 1500, "board_down", "no answer"), 0);
	assert_int_equal(gw_db_event_append(db, a, 1600, "page", "aino"), 0);
	assert_true(gw_db_spool_pending(db));
	unlock_db(lock);
	assert_int_equal(gw_db_spool_replay(db), 3);
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events WHERE incident IS NULL AND "
				 "kind = 'board_down'"),
			 1);
	/* in the order written: open, board_down, page */
	assert_int_equal(raw_int("SELECT id FROM incident_events WHERE kind = 'board_down'"), 2);
	assert_int_equal(gw_db_log_verify(db, NULL), 0);
	gw_db_close(db);

	uint8_t buf[256];
	struct gw_spool_rec r = {.type = GW_SPOOL_SYS,
				 .origin = 1,
				 .seq = 2,
				 .t_ms = 5,
				 .kind = "tick"},
			    out;
	const char *why = NULL;
	int n = gw_spool_encode(&r, buf, sizeof(buf));
	assert_true(n > GW_SPOOL_HDR);
	assert_int_equal(gw_spool_decode(buf + GW_SPOOL_HDR, (size_t)n - GW_SPOOL_HDR, &out, &why),
			 0);
	assert_int_equal(out.type, GW_SPOOL_SYS);
	assert_string_equal(out.kind, "tick");
	assert_null(out.detail);
	r.incident = 4; /* a system event names no incident */
	n = gw_spool_encode(&r, buf, sizeof(buf));
	assert_int_equal(gw_spool_decode(buf + GW_SPOOL_HDR, (size_t)n - GW_SPOOL_HDR, &out, &why),
			 -EBADMSG);
	assert_string_equal(why, "system event with an incident id");
}

/* A batch begun while the lock is held (nothing spooled yet): each write spools itself. */
static void test_batch_begun_while_locked(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db;
	struct evs e;
	sqlite3 *lock;
	int64_t a, b;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_set_busy_timeout(db, 20);
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	lock = lock_db();
	assert_int_equal(gw_db_batch_begin(db), 0);
	assert_false(gw_db_spool_pending(db));
	rec.started_ms = 2000;
	assert_int_equal(gw_db_incident_open(db, &rec, &b), 0);
	assert_int_equal(b, a + 1);
	assert_int_equal(gw_db_event_append(db, b, 2001, "page", "aino"), 0);
	assert_int_equal(gw_db_spool_replay(db), -EBUSY); /* not inside a batch */
	assert_int_equal(gw_db_batch_commit(db), 0);
	unlock_db(lock);
	assert_int_equal(gw_db_spool_replay(db), 2);
	assert_string_equal(events_of(db, b, &e),
			    "open:caller 2269001 (unknown) line - cci 1|page:aino");
	gw_db_close(db);
}

static void test_duplicate_records_skipped(void **state)
{
	struct gw_spool_rec open = {.type = GW_SPOOL_OPEN,
				    .origin = 77,
				    .seq = 1,
				    .incident = 7,
				    .t_ms = 5000,
				    .num = 2,
				    .caller = "2269001"};
	struct gw_spool_rec ev = {.type = GW_SPOOL_EVENT,
				  .origin = 77,
				  .seq = 2,
				  .incident = 7,
				  .t_ms = 5001,
				  .kind = "page",
				  .detail = "aino"};
	struct gw_spool_rec bad = {.type = GW_SPOOL_CLOSE,
				   .origin = 77,
				   .seq = 3,
				   .incident = 8,
				   .t_ms = 6000,
				   .num = -1,
				   .outcome = "answered"};
	struct gw_spool *s;
	struct gw_db *db;
	struct evs e;
	int64_t id;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_close(db);
	/* A replay cut short leaves records whose keys are already in spool_applied; here the
	 * same records simply appear twice, which the keys must catch the same way. */
	assert_int_equal(gw_spool_open(spath, true, &s), 0);
	assert_int_equal(gw_spool_append(s, &open), 0);
	assert_int_equal(gw_spool_append(s, &ev), 0);
	assert_int_equal(gw_spool_append(s, &open), 0);
	assert_int_equal(gw_spool_append(s, &ev), 0);
	assert_int_equal(gw_spool_append(s, &bad), 0); /* closes an unknown incident */
	gw_spool_close(s);

	gw_log_set_level(GW_LOG_DB, GW_LOG_NOTICE);
	assert_int_equal(gw_db_open(path, &db), 0); /* replays at open */
	gw_log_set_level(GW_LOG_DB, GW_LOG_WARN);
	assert_false(gw_db_spool_pending(db));
	assert_non_null(strstr(logbuf, "2 record(s) applied, 2 already there, 1 dropped"));
	assert_non_null(strstr(logbuf, "close record for incident 8"));
	assert_string_equal(events_of(db, 7, &e),
			    "open:caller 2269001 (unknown) line - cci 2|page:aino");
	/* Ids go on after the replayed incident. */
	struct gw_incident_rec rec = {.started_ms = 7000, .caller = "1", .radio_cci = 1};
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(id, 8);
	assert_int_equal(gw_db_log_verify(db, &id), 0);
	gw_db_close(db);
}

static void test_torn_last_record(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db;
	struct evs e;
	sqlite3 *lock;
	int64_t a, b;
	off_t size;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_set_busy_timeout(db, 20);
	lock = lock_db();
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	assert_int_equal(gw_db_event_append(db, a, 1001, "page", "aino"), 0);
	size = file_size(spath);
	assert_int_equal(gw_db_event_append(db, a, 1002, "page", "mikko"), 0);
	gw_db_close(db); /* power cut: the last record is half on disk */
	unlock_db(lock);
	assert_true(file_size(spath) > size + 4);
	assert_int_equal(truncate(spath, file_size(spath) - 4), 0);

	/* At open: the torn tail is named and dropped, the records before it replayed, and
	 * the id of the replayed incident is not given out again. */
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_non_null(strstr(logbuf, "torn write"));
	assert_non_null(strstr(logbuf, "keeping 2 record(s)"));
	assert_false(gw_db_spool_pending(db));
	assert_int_equal(file_size(spath), 0);
	assert_string_equal(events_of(db, a, &e), "open:caller 2269001 (unknown) line - cci 1|"
						  "page:aino");
	assert_int_equal(gw_db_incident_open(db, &rec, &b), 0);
	assert_int_equal(b, a + 1);
	gw_db_close(db);
}

/* Write s to p (created or replaced). */
static void write_file(const char *p, const char *s)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void read_file(const char *p, char *out, size_t len)
{
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

/*
 * A spool path that is a symlink (planted to make root cut another file) is never
 * followed: the open does not write through it, the link is moved aside, the target is
 * untouched, and call-log writes that need the spool get a fresh file of their own.
 */
static void test_symlink_spool_refused(void **state)
{
	char target[320], got[64], aside[400];
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db;
	struct stat sb;
	sqlite3 *lock;
	int64_t a;

	(void)state;
	snprintf(target, sizeof(target), "%s.target", path);
	write_file(target, "precious, not a spool");
	assert_int_equal(symlink(target, spath), 0);
	assert_int_equal(gw_db_open(path, &db), 0);
	read_file(target, got, sizeof(got));
	assert_string_equal(got, "precious, not a spool");
	assert_int_equal(aside_files(false, aside, sizeof(aside)), 1);
	assert_int_equal(lstat(aside, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode)); /* the link itself, kept for whoever looks */
	assert_non_null(strstr(logbuf, "not a file rinki made"));
	/* the database is locked: the write goes to a new spool, a regular file */
	gw_db_set_busy_timeout(db, 20);
	lock = lock_db();
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	assert_int_equal(lstat(spath, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_true(sb.st_size > 0);
	unlock_db(lock);
	read_file(target, got, sizeof(got));
	assert_string_equal(got, "precious, not a spool");
	gw_db_close(db);
	/* the spool module alone never opens through a link either: set aside, no spool */
	unlink(spath);
	assert_int_equal(symlink(target, spath), 0);
	struct gw_spool *s;
	assert_int_equal(gw_spool_open(spath, false, &s), -ENOENT);
	assert_int_equal(lstat(spath, &sb), -1);
	assert_int_equal(aside_files(false, NULL, 0), 2);
	read_file(target, got, sizeof(got));
	assert_string_equal(got, "precious, not a spool");
}

/*
 * A spool that fails its checks (here: garbage after two good records) is not cut in
 * place: the whole file is moved aside under a time-stamped name, and a new spool holds
 * the good records.
 */
static void test_corrupt_spool_moved_aside(void **state)
{
	uint8_t buf[1024];
	struct gw_spool_rec r = {.type = GW_SPOOL_EVENT, .origin = 1, .kind = "page"};
	struct gw_spool_scan scan;
	struct gw_spool *s;
	size_t good = 0;
	char aside[400];
	int64_t sum = 0;

	(void)state;
	for (int i = 1; i <= 2; i++) {
		r.seq = (uint64_t)i;
		r.incident = i;
		good += (size_t)gw_spool_encode(&r, buf + good, sizeof(buf) - good);
	}
	memcpy(buf + good, "garbage!garbage!", 16);
	int fd = open(spath, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, good + 16), (ssize_t)(good + 16));
	close(fd);
	struct stat before;
	assert_int_equal(stat(spath, &before), 0);

	assert_int_equal(gw_spool_open(spath, false, &s), 0);
	assert_int_equal(gw_spool_replay(s, count_cb, &sum, &scan), 0);
	assert_int_equal(scan.records, 2);
	assert_int_equal(sum, 3);
	gw_spool_close(s);
	/* the bad file, whole and the same inode, is aside; the spool has the good records */
	assert_int_equal(aside_files(false, aside, sizeof(aside)), 1);
	struct stat sb;
	assert_int_equal(stat(aside, &sb), 0);
	assert_int_equal(sb.st_ino, before.st_ino);
	assert_int_equal(sb.st_size, (off_t)(good + 16));
	assert_int_equal(file_size(spath), (off_t)good);
	assert_non_null(strstr(logbuf, "moved aside"));
	/* and reads back clean */
	sum = 0;
	assert_int_equal(gw_spool_open(spath, false, &s), 0);
	assert_int_equal(gw_spool_replay(s, count_cb, &sum, &scan), 0);
	assert_null(scan.tail);
	assert_int_equal(sum, 3);
	gw_spool_close(s);
}

/*
 * Disk full: in a child with RLIMIT_FSIZE below what the WAL needs for one frame, the
 * database refuses the batch at COMMIT while the spool (a few hundred bytes) still takes
 * every record. The parent then opens the database normally: replayed, nothing lost.
 */
static void test_disk_full(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 5};
	struct gw_db_verify v;
	struct gw_db *db;
	struct evs e;
	struct inc x = {0};
	int64_t a;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	gw_db_close(db);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {.rlim_cur = 4096, .rlim_max = 4096};
		int64_t b = 0;
		int fail = 0;

		signal(SIGXFSZ, SIG_IGN);
		if (gw_db_open(path, &db) < 0)
			_exit(10);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(11);
		rec.started_ms = 2000;
		rec.caller = "2269002";
		fail |= gw_db_batch_begin(db) != 0;
		fail |= gw_db_incident_open(db, &rec, &b) != 0;
		fail |= gw_db_event_append(db, b, 2001, "page", "aino") != 0;
		fail |= gw_db_batch_commit(db) != 0; /* the WAL cannot grow: spooled */
		fail |= !gw_db_spool_pending(db);
		fail |= gw_db_event_append(db, b, 2500, "dtmf", "4") != 0;
		fail |= gw_db_incident_close(db, b, 3000, "answered", -1, "aino") != 0;
		fail |= gw_db_incident_close(db, a, 3100, "unanswered", -1, NULL) != 0;
		fail |= gw_db_spool_replay(db) >= 0; /* still full */
		gw_db_close(db);
		_exit(fail ? 12 : b == 2 ? 0 : 13);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(file_size(spath) > 0);
	assert_int_equal(raw_int("SELECT count(*) FROM incidents"), 1);

	assert_int_equal(gw_db_open(path, &db), 0);
	assert_false(gw_db_spool_pending(db));
	assert_string_equal(events_of(db, 2, &e),
			    "open:caller 2269002 (unknown) line - cci 5|page:aino|dtmf:4|"
			    "close:outcome answered accepted by aino");
	assert_int_equal(gw_db_incident_get(db, 2, on_incident, &x), 0);
	assert_string_equal(x.outcome, "answered");
	assert_int_equal(x.ended_ms, 3000);
	assert_int_equal(gw_db_incident_get(db, a, on_incident, &x), 0);
	assert_string_equal(x.outcome, "unanswered");
	assert_int_equal(gw_db_log_verify_report(db, &v), 0);
	assert_int_equal(v.events, 6);
	gw_db_close(db);
}

/* The database file renamed away while open: spooled, then replayed once it is back. */
static void test_db_moved_away(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	char moved[320];
	struct gw_db *db;
	struct evs e;
	int64_t a;

	(void)state;
	snprintf(moved, sizeof(moved), "%s.moved", path);
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(gw_db_event_append(db, a, 1001, "page", "aino"), 0);
	assert_true(gw_db_spool_pending(db));
	assert_true(gw_db_spool_replay(db) < 0); /* not there: not created anew */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rename(moved, path), 0);
	assert_int_equal(gw_db_spool_replay(db), 1);
	assert_string_equal(events_of(db, a, &e), "open:caller 2269001 (unknown) line - cci 1|"
						  "page:aino");
	gw_db_close(db);
}

/*
 * A write neither the database (locked) nor the spool (its path is a directory) took is
 * lost; the next write that can be made is preceded by a "gap" system event in the chain
 * that says how many were lost and when.
 */
static void test_lost_write_becomes_gap(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_db *db;
	int64_t a;

	(void)state;
	assert_int_equal(gw_db_open(path, &db), 0);
	gw_db_set_busy_timeout(db, 20);
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	sqlite3 *lock = lock_db();
	assert_int_equal(mkdir(spath, 0700), 0);
	assert_true(gw_db_event_append(db, a, 1100, "page", "aino") < 0);
	assert_true(gw_db_event_append(db, a, 1200, "page", "mikko") < 0);
	assert_int_equal(rmdir(spath), 0);
	unlock_db(lock);
	assert_int_equal(gw_db_event_append(db, a, 1300, "page", "liisa"), 0);
	assert_int_equal(
	    raw_int("SELECT count(*) FROM incident_events WHERE incident IS NULL AND "
		    "kind = 'gap' AND detail LIKE '2 call-log write(s) lost between 1100 "
		    "and 1200%'"),
	    1);
	/* the gap comes before the write that follows it, and the chain holds */
	assert_true(raw_int("SELECT id FROM incident_events WHERE kind = 'gap'") <
		    raw_int("SELECT id FROM incident_events WHERE detail = 'liisa'"));
	assert_int_equal(gw_db_log_verify(db, NULL), 0);
	/* told once */
	assert_int_equal(gw_db_event_append(db, a, 1400, "page", "aino"), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM incident_events WHERE kind = 'gap'"), 1);
	gw_db_close(db);
}

/*
 * rinkid starts with no database file (its directory is missing): a stand-in, incidents go
 * to the spool. The file that comes back already has an incident with the spooled one's id
 * (it was restored from elsewhere): replay gives the spooled incident the next free id, and
 * later writes of that incident follow it there.
 */
static void test_standin_replay_renumbers(void **state)
{
	struct gw_incident_rec rec = {.started_ms = 1000, .caller = "2269001", .radio_cci = 1};
	struct gw_incident_rec other = {.started_ms = 500, .caller = "2269002", .radio_cci = 4};
	char sub[300], dbp[340], sp[340];
	struct gw_db *db, *h;
	int64_t a, b;
	struct evs e;
	struct inc x = {0};

	(void)state;
	snprintf(sub, sizeof(sub), "%s.dir", path);
	snprintf(dbp, sizeof(dbp), "%s/r.db", sub);
	snprintf(sp, sizeof(sp), "%s.other-spool", path);
	assert_int_equal(gw_db_open_daemon(dbp, sp, &db), 0);
	assert_non_null(gw_db_problem(db));
	assert_non_null(strstr(gw_db_problem(db), "no roster copy"));
	assert_int_equal(gw_db_incident_open(db, &rec, &a), 0);
	assert_int_equal(gw_db_event_append(db, a, 1100, "page", "aino"), 0);
	assert_true(gw_db_spool_pending(db));
	assert_true(gw_db_spool_replay(db) < 0); /* still no file */

	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(gw_db_open(dbp, &h), 0);
	assert_int_equal(gw_db_incident_open(h, &other, &b), 0);
	assert_int_equal(b, a); /* the same id */
	gw_db_close(h);

	assert_int_equal(gw_db_spool_replay(db), 2);
	assert_null(gw_db_problem(db));
	assert_false(gw_db_spool_pending(db));
	assert_non_null(strstr(logbuf, "it is incident 2 now"));
	assert_int_equal(gw_db_event_append(db, a, 1200, "accept", "aino"), 0);
	assert_int_equal(gw_db_incident_close(db, a, 1300, "completed", 1, "aino"), 0);
	assert_string_equal(events_of(db, b, &e), "open:caller 2269002 (unknown) line - cci 4");
	assert_int_equal(gw_db_incident_get(db, 2, on_incident, &x), 0);
	assert_string_equal(x.caller, "2269001");
	assert_string_equal(x.outcome, "completed");
	events_of(db, 2, &e);
	assert_int_equal(e.n, 4); /* open, page, accept, close */
	assert_int_equal(gw_db_log_verify(db, NULL), 0);
	gw_db_close(db);
	char f[400];
	const char *sfx[] = {"", "-wal", "-shm", ".key", ".anchor"};
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", dbp, sfx[i]);
		unlink(f);
	}
	unlink(sp);
	assert_int_equal(rmdir(sub), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc_and_round_trip),
	    cmocka_unit_test(test_parse_torn_tail),
	    cmocka_unit_test_setup_teardown(test_locked_then_replayed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_begun_while_locked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_system_event_spooled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_records_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_last_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_db_moved_away, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lost_write_becomes_gap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_standin_replay_renumbers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_spool_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_spool_moved_aside, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
