/*
 * test_db_writer: call-log commits through the writer thread (store/db_writer.c) and its
 * queue file (store/db_queue.c), on real files in a mkdtemp directory.
 *
 * Covers: the queue's ring (records wrapping round the end, full, garbage found after a
 * power cut); the writer committing incidents, events, closes and system events in the
 * order written with the chain intact; a process killed (SIGKILL) right after its last
 * write was queued, with the database free or held by another program (so that writes are
 * in the spool, in the queue, or both when the kill lands): after a restart every write is
 * in the database exactly once and the chain verifies, wherever the kill landed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/db.h"
#include "store/db_queue.h"

static char dir[] = "/tmp/rinki-test-dbw-XXXXXX";
static char path[256];
static int seq;

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "%s/t%d.db", dir, ++seq);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char f[300];
	const char *suffix[] = {"",	  "-wal",   "-shm", "-journal",
				".spool", ".queue", ".key", ".anchor"};
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		unlink(f);
	}
	return 0;
}

/* ---- the ring ------------------------------------------------------------------------ */

static void test_queue_wraps_and_fills(void **state)
{
	(void)state;
	char qpath[300], detail[64];
	snprintf(qpath, sizeof(qpath), "%s.queue", path);
	struct db_queue *q;
	assert_int_equal(db_queue_open(qpath, 4096, &q), 0);
	uint8_t buf[4096];
	int64_t next = 1, want = 1;
	/* Rounds of pushes and pops; the positions pass the ring's end many times. */
	for (int round = 0; round < 50; round++) {
		int pushed = 0;
		for (;;) {
			snprintf(detail, sizeof(detail), "event %lld", (long long)next);
			struct gw_spool_rec r = {.type = GW_SPOOL_EVENT,
						 .origin = 7,
						 .seq = (uint64_t)next,
						 .incident = next,
						 .t_ms = next,
						 .kind = "note",
						 .detail = detail};
			int rc = db_queue_push(q, &r);
			if (rc == -ENOSPC)
				break;
			assert_int_equal(rc, 0);
			next++;
			pushed++;
			if (pushed == 7 + round % 13) /* take some out before it is full */
				break;
		}
		assert_true(pushed > 0);
		size_t len;
		uint64_t upto;
		int n = db_queue_peek(q, buf, sizeof(buf), &len, &upto);
		assert_true(n > 0);
		for (size_t off = 0; off < len;) {
			uint32_t plen = buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16 |
					(uint32_t)buf[off + 3] << 24;
			struct gw_spool_rec r;
			const char *why;
			assert_int_equal(gw_spool_decode(buf + off + 8, plen, &r, &why), 0);
			assert_int_equal(r.incident, want);
			snprintf(detail, sizeof(detail), "event %lld", (long long)want);
			assert_string_equal(r.detail, detail);
			want++;
			off += 8 + plen;
		}
		db_queue_advance(q, upto);
	}
	assert_true(next > 300); /* well past the 4096-byte ring several times */
	db_queue_close(q);
	/* a second process (or opener) is refused while it is held */
	assert_int_equal(db_queue_open(qpath, 4096, &q), 0);
	struct db_queue *q2;
	assert_int_equal(db_queue_open(qpath, 4096, &q2), -EWOULDBLOCK);
	db_queue_close(q);
}

static void test_queue_garbage_is_dropped(void **state)
{
	(void)state;
	char qpath[300];
	snprintf(qpath, sizeof(qpath), "%s.queue", path);
	struct db_queue *q;
	assert_int_equal(db_queue_open(qpath, 4096, &q), 0);
	struct gw_spool_rec r = {.type = GW_SPOOL_EVENT, .incident = 1, .kind = "a"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(db_queue_push(q, &r), 0);
	db_queue_close(q);
	/* a power cut left the second record's bytes wrong */
	int fd = open(qpath, O_RDWR);
	assert_true(fd >= 0);
	size_t one = 8 + 2 + 8 + 8 + 8 + 8 + 2 + 2 + 1; /* header + payload of record r */
	assert_int_equal(pwrite(fd, "XXXX", 4, 4096 + one + 10), 4);
	close(fd);
	assert_int_equal(db_queue_open(qpath, 4096, &q), 0);
	uint8_t buf[4096];
	size_t len;
	uint64_t upto;
	assert_int_equal(db_queue_peek(q, buf, sizeof(buf), &len, &upto), 1); /* the good one */
	assert_int_equal(len, one);
	db_queue_advance(q, upto);
	assert_int_equal(db_queue_depth(q), 0); /* the rest is gone, not committed */
	db_queue_close(q);
}

/* ---- the writer ----------------------------------------------------------------------- */

struct count {
	int events, opens, closes, notes;
	int64_t last_id;
	bool ordered;
};

static void count_event(const struct gw_db_event *ev, void *arg)
{
	struct count *c = arg;
	c->events++;
	c->opens += !strcmp(ev->kind, "open");
	c->closes += !strcmp(ev->kind, "close");
	c->notes += !strcmp(ev->kind, "note");
	if (ev->id <= c->last_id)
		c->ordered = false;
	c->last_id = ev->id;
}

/* Write incidents from+1..to of `notes` notes each (open, notes, close) and a system event each. */
static void write_range(struct gw_db *db, int from, int to, int notes)
{
	for (int i = from; i < to; i++) {
		struct gw_incident_rec rec = {.started_ms = 1000 * i, .caller = "2269001"};
		int64_t id = 0;
		assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
		assert_int_equal(id, i + 1);
		for (int k = 0; k < notes; k++) {
			char d[32];
			snprintf(d, sizeof(d), "%d/%d", i + 1, k);
			assert_int_equal(gw_db_event_append(db, id, 1000 * i + k, "note", d), 0);
		}
		assert_int_equal(
		    gw_db_incident_close(db, id, 1000 * i + 999, "completed", -1, NULL), 0);
		assert_int_equal(gw_db_system_event_append(db, 1000 * i + 999, "tick", NULL), 0);
	}
}

static void write_incidents(struct gw_db *db, int n, int notes)
{
	write_range(db, 0, n, notes);
}

static void no_incident(const struct gw_db_incident *inc, void *arg)
{
	(void)inc;
	(void)arg;
}

/* Every incident 1..n has exactly one open, `notes` notes and one close; the chain holds. */
static void check_exactly_once(int n, int notes)
{
	struct gw_db *db;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_false(gw_db_spool_pending(db));
	for (int i = 1; i <= n; i++) {
		struct count c = {.ordered = true};
		assert_int_equal(gw_db_event_list(db, i, count_event, &c), notes + 2);
		assert_int_equal(c.opens, 1);
		assert_int_equal(c.notes, notes);
		assert_int_equal(c.closes, 1);
		assert_true(c.ordered);
	}
	assert_int_equal(gw_db_incident_get(db, n, no_incident, NULL), 0);
	assert_int_equal(gw_db_incident_get(db, n + 1, no_incident, NULL), -ENOENT);
	struct count sys = {.ordered = true};
	assert_int_equal(gw_db_system_event_list(db, count_event, &sys), n);
	int64_t bad = 0;
	assert_int_equal(gw_db_log_verify(db, &bad), 0);
	gw_db_close(db);
}

static void test_writer_commits_in_order(void **state)
{
	(void)state;
	struct gw_db *db;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_writer_start(db), 0);
	assert_int_equal(gw_db_writer_start(db), -EBUSY);
	write_incidents(db, 60, 5);
	struct gw_db_writer_stats st;
	assert_int_equal(gw_db_writer_stats(db, &st), 0);
	gw_db_close(db); /* commits what is queued, then stops */
	check_exactly_once(60, 5);
}

/*
 * A child writes 20 incidents through the writer, waits (bounded) until the writer has
 * taken them (committed, or spooled while the database is held), writes 20 more and kills
 * itself at once. With rewind, the queue's tail is then moved back to its start, as if the
 * kill had come after the first commit and before the queue was told: the first 20 are
 * then both in the database (or spool) and in the queue. After a restart every write must
 * be there exactly once, wherever the kill landed.
 */
static void crash_after_writes(bool db_held, bool rewind)
{
	sqlite3 *h = NULL;
	{
		struct gw_db *db; /* create the file and its schema first */
		assert_int_equal(gw_db_open(path, &db), 0);
		gw_db_close(db);
	}
	if (db_held) { /* "another program" holds the write lock: writes go to the spool */
		assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gw_db *db;
		struct gw_db_writer_stats st;
		if (gw_db_open(path, &db) < 0 || gw_db_writer_start(db) < 0)
			_exit(2);
		gw_db_set_busy_timeout(db, 20);
		write_range(db, 0, 20, 3);
		for (int i = 0; i < 10000; i++) { /* at most 10 s; it takes milliseconds */
			if (gw_db_writer_stats(db, &st) == 0 && st.queued_bytes == 0)
				break;
			usleep(1000);
		}
		if (gw_db_writer_stats(db, &st) < 0 || st.queued_bytes)
			_exit(4);
		write_range(db, 20, 40, 3);
		raise(SIGKILL); /* every write above was queued; the last 20 not yet taken */
		_exit(3);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (h) {
		assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	}
	char f[300];
	struct stat sb;
	snprintf(f, sizeof(f), "%s.spool", path);
	long long spooled = stat(f, &sb) == 0 ? (long long)sb.st_size : 0;
	if (db_held) /* the first 20 could only go to the spool */
		assert_true(spooled > 0);
	snprintf(f, sizeof(f), "%s.queue", path);
	if (rewind) { /* the header: magic, size, head, tail (u64 each, db_queue.c) */
		int fd = open(f, O_RDWR);
		assert_true(fd >= 0);
		uint64_t zero = 0;
		assert_int_equal(pwrite(fd, &zero, 8, 24), 8);
		close(fd);
	}
	struct db_queue *q;
	assert_int_equal(db_queue_open(f, DB_QUEUE_SIZE, &q), 0);
	uint64_t queued = db_queue_depth(q);
	db_queue_close(q);
	printf("left by the kill: %llu bytes queued, %lld bytes spooled\n",
	       (unsigned long long)queued, spooled);
	assert_true(queued > 0);
	/* The restart: the spool is replayed at open, the queue by the writer. */
	struct gw_db *db;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_writer_start(db), 0);
	struct gw_db_writer_stats st;
	for (int i = 0; i < 10000; i++) { /* bounded: the writer takes the queue at once */
		assert_int_equal(gw_db_writer_stats(db, &st), 0);
		if (!st.queued_bytes)
			break;
		usleep(1000);
	}
	assert_int_equal(st.queued_bytes, 0);
	/* at least the first 20 incidents' writes, 20 x (open, 3 notes, close, tick), and any
	   of the rest the writer had taken before the kill */
	if (rewind)
		assert_true(st.skipped >= 20 * 6);
	gw_db_close(db);
	check_exactly_once(40, 3);
}

static void test_crash_with_database_free(void **state)
{
	(void)state;
	crash_after_writes(false, false);
}

static void test_crash_after_commit_before_dequeue(void **state)
{
	(void)state;
	crash_after_writes(false, true);
}

static void test_crash_with_database_held(void **state)
{
	(void)state;
	crash_after_writes(true, true);
}

/* The scheduling policy (field 41 of /proc/self/task/TID/stat) of thread tid. */
static int task_policy(const char *tid)
{
	char stat_path[64], buf[1024];
	snprintf(stat_path, sizeof(stat_path), "/proc/self/task/%s/stat", tid);
	FILE *f = fopen(stat_path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	assert_non_null(p);
	int field = 2, policy = -1;
	for (char *t = strtok(p + 1, " "); t; t = strtok(NULL, " "))
		if (++field == 41)
			policy = atoi(t);
	return policy;
}

/*
 * Commits are background work: the writer thread runs under the normal scheduler even when
 * the thread that starts it is SCHED_FIFO (rinkid with run.rt_priority), so a commit's CPU
 * never keeps the loop from paging. (Needs the right to SCHED_FIFO: root or CAP_SYS_NICE.)
 */
static void test_writer_not_realtime(void **state)
{
	(void)state;
	struct sched_param rt = {.sched_priority = 1}, normal = {.sched_priority = 0};
	if (sched_setscheduler(0, SCHED_FIFO, &rt) < 0)
		fail_msg("SCHED_FIFO refused (%s): run as root or with CAP_SYS_NICE",
			 strerror(errno));
	struct gw_db *db;
	assert_int_equal(gw_db_open(path, &db), 0);
	assert_int_equal(gw_db_writer_start(db), 0);
	write_incidents(db, 1, 1);
	struct gw_db_writer_stats st;
	for (int i = 0; i < 10000; i++) { /* bounded: the writer takes the queue at once */
		assert_int_equal(gw_db_writer_stats(db, &st), 0);
		if (st.records && !st.queued_bytes)
			break;
		usleep(1000);
	}
	assert_true(st.records > 0);
	char self[32];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	assert_int_equal(task_policy(self), SCHED_FIFO);
	int others = 0;
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0)
			continue;
		assert_int_equal(task_policy(e->d_name), SCHED_OTHER);
		others++;
	}
	closedir(d);
	assert_true(others >= 1); /* the writer */
	gw_db_close(db);
	assert_int_equal(sched_setscheduler(0, SCHED_OTHER, &normal), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_queue_wraps_and_fills, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_garbage_is_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_commits_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_with_database_free, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_after_commit_before_dequeue, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_crash_with_database_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_not_realtime, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
