/*
 * db_stall: how long the event loop stalls while the call log commits on slow storage,
 * with commits on the loop (as before) and through the writer thread, in one run.
 *
 * Storage is made slow by a SQLite VFS of this bench that wraps the default one and sleeps
 * in every xSync (SLOW_SYNC_MS, like an SD card's fsync). The loop runs a 1 ms tick and
 * records how late each tick fires; a burst of incidents is written from loop timers the
 * way rinkid does (a batch: open and three events; then a close), INCIDENTS of them, one
 * every 2 ms. Printed: ticks, lateness p50/p99/max and the burst's wall time, per mode, and
 * the ratio of the worst stalls.
 *
 * Then the call path itself (service/call.c with its real call log on the same slow storage,
 * fake radio and modem legs that note when they are told to write): CALLS officer calls,
 * one every CALL_GAP_MS, each released by the officer CALL_HOLD_MS after it came. Measured
 * per call: the ATA delay (the incoming call handed to the incident -> the ATA handed to the
 * radio) and the release delay (the release handed over -> the worker's phone hung up), and
 * the loop's lateness on the same 1 ms tick; commits on the loop (as before) and through the
 * writer thread, in this one run, with the ratios. Figures only; nothing is asserted on time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/loop.h"
#include "service/call.h"
#include "store/db.h"
#include "store/roster.h"

#define SLOW_SYNC_MS 20
#define INCIDENTS    150
#define MAX_TICKS    200000
#define CALLS	     100
#define CALL_GAP_MS  60
#define CALL_HOLD_MS 25

/* ---- a VFS whose xSync takes SLOW_SYNC_MS ---------------------------------------------- */

struct slow_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_io_methods slow_methods;
static const sqlite3_io_methods *real_methods;

static int slow_sync(sqlite3_file *f, int flags)
{
	struct timespec ts = {0, SLOW_SYNC_MS * 1000000L};
	nanosleep(&ts, NULL);
	return ((struct slow_file *)f)->real->pMethods->xSync(((struct slow_file *)f)->real, flags);
}

#define FWD(name, sig, args)                                                                       \
	static int slow_##name sig                                                                 \
	{                                                                                          \
		sqlite3_file *r = ((struct slow_file *)f)->real;                                   \
		return r->pMethods->x##name args;                                                  \
	}
FWD(Close, (sqlite3_file * f), (r))
FWD(Read, (sqlite3_file * f, void *p, int n, sqlite3_int64 o), (r, p, n, o))
FWD(Write, (sqlite3_file * f, const void *p, int n, sqlite3_int64 o), (r, p, n, o))
FWD(Truncate, (sqlite3_file * f, sqlite3_int64 n), (r, n))
FWD(FileSize, (sqlite3_file * f, sqlite3_int64 *n), (r, n))
FWD(Lock, (sqlite3_file * f, int l), (r, l))
FWD(Unlock, (sqlite3_file * f, int l), (r, l))
FWD(CheckReservedLock, (sqlite3_file * f, int *o), (r, o))
FWD(FileControl, (sqlite3_file * f, int op, void *a), (r, op, a))
FWD(SectorSize, (sqlite3_file * f), (r))
FWD(DeviceCharacteristics, (sqlite3_file * f), (r))
FWD(ShmMap, (sqlite3_file * f, int i, int n, int w, void volatile **p), (r, i, n, w, p))
FWD(ShmLock, (sqlite3_file * f, int o, int n, int fl), (r, o, n, fl))
FWD(ShmUnmap, (sqlite3_file * f, int d), (r, d))
static void slow_ShmBarrier(sqlite3_file *f)
{
	sqlite3_file *r = ((struct slow_file *)f)->real;
	r->pMethods->xShmBarrier(r);
}

static int slow_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	(void)vfs;
	struct slow_file *sf = (struct slow_file *)f;
	sf->real = (sqlite3_file *)(sf + 1);
	int rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out);
	if (rc != SQLITE_OK) {
		f->pMethods = NULL;
		return rc;
	}
	real_methods = sf->real->pMethods;
	slow_methods = (sqlite3_io_methods){
	    .iVersion = real_methods->iVersion < 2 ? real_methods->iVersion : 2,
	    .xClose = slow_Close,
	    .xRead = slow_Read,
	    .xWrite = slow_Write,
	    .xTruncate = slow_Truncate,
	    .xSync = slow_sync,
	    .xFileSize = slow_FileSize,
	    .xLock = slow_Lock,
	    .xUnlock = slow_Unlock,
	    .xCheckReservedLock = slow_CheckReservedLock,
	    .xFileControl = slow_FileControl,
	    .xSectorSize = slow_SectorSize,
	    .xDeviceCharacteristics = slow_DeviceCharacteristics,
	    .xShmMap = slow_ShmMap,
	    .xShmLock = slow_ShmLock,
	    .xShmBarrier = slow_ShmBarrier,
	    .xShmUnmap = slow_ShmUnmap,
	};
	f->pMethods = &slow_methods;
	return SQLITE_OK;
}

static sqlite3_vfs slow_vfs;

static void slow_vfs_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	slow_vfs = *real_vfs;
	slow_vfs.zName = "slowsync";
	slow_vfs.szOsFile = (int)sizeof(struct slow_file) + real_vfs->szOsFile;
	slow_vfs.xOpen = slow_open;
	sqlite3_vfs_register(&slow_vfs, 1);
}

/* ---- the run --------------------------------------------------------------------------- */

struct run {
	struct gw_loop *loop;
	struct gw_db *db;
	struct gw_timer tick, work;
	int64_t due, late[MAX_TICKS];
	int nticks, done;
	int64_t ids[INCIDENTS];
};

static void on_tick(struct gw_loop *loop, void *arg)
{
	struct run *r = arg;
	int64_t now = gw_loop_now_ms(loop);
	if (r->nticks < MAX_TICKS)
		r->late[r->nticks++] = now - r->due;
	r->due = now + 1;
	gw_timer_schedule(loop, &r->tick, 1);
}

static void on_work(struct gw_loop *loop, void *arg)
{
	struct run *r = arg;
	int i = r->done;
	if (i < INCIDENTS) {
		struct gw_incident_rec rec = {
		    .started_ms = gw_loop_wall_ms(loop), .caller = "2269001", .line = "sos"};
		gw_db_batch_begin(r->db);
		gw_db_incident_open(r->db, &rec, &r->ids[i]);
		gw_db_event_append(r->db, r->ids[i], rec.started_ms, "page", "+358401234567");
		gw_db_event_append(r->db, r->ids[i], rec.started_ms, "sms_page", "sent");
		gw_db_event_append(r->db, r->ids[i], rec.started_ms, "radio_answer", NULL);
		gw_db_batch_commit(r->db);
		if (i > 0)
			gw_db_incident_close(r->db, r->ids[i - 1], rec.started_ms, "completed", 1,
					     "aino");
		r->done++;
		gw_timer_schedule(loop, &r->work, 2);
	} else {
		gw_loop_stop(loop);
	}
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t one_mode(const char *dir, bool writer)
{
	static struct run r;
	char path[256];
	memset(&r, 0, sizeof(r));
	snprintf(path, sizeof(path), "%s/%s.db", dir, writer ? "writer" : "loop");
	if (!(r.loop = gw_loop_new()) || gw_db_open(path, &r.db) < 0 ||
	    (writer && gw_db_writer_start(r.db) < 0)) {
		fprintf(stderr, "db_stall: setup failed\n");
		exit(1);
	}
	gw_timer_init(&r.tick, on_tick, &r);
	gw_timer_init(&r.work, on_work, &r);
	r.due = gw_loop_now_ms(r.loop) + 1;
	gw_timer_schedule(r.loop, &r.tick, 1);
	gw_timer_schedule(r.loop, &r.work, 5);
	int64_t t0 = gw_loop_now_ms(r.loop);
	gw_loop_run(r.loop);
	int64_t wall = gw_loop_now_ms(r.loop) - t0;
	gw_timer_cancel(r.loop, &r.tick);
	gw_db_close(r.db); /* the writer finishes its queue here */
	int64_t closed = gw_loop_now_ms(r.loop) - t0;
	gw_loop_free(r.loop);
	qsort(r.late, (size_t)r.nticks, sizeof(r.late[0]), cmp);
	int64_t max = r.late[r.nticks - 1];
	printf("%-14s ticks %6d  late p50 %3lld ms  p99 %4lld ms  max %4lld ms   burst %5lld ms,"
	       " all committed after %5lld ms\n",
	       writer ? "writer thread" : "on the loop", r.nticks, (long long)r.late[r.nticks / 2],
	       (long long)r.late[r.nticks * 99 / 100], (long long)max, (long long)wall,
	       (long long)closed);
	return max;
}

/* ---- the call path: ATA and release delays ---------------------------------------------- */

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct callrun {
	struct gw_loop *loop;
	struct gw_db *db;
	struct gw_roster *roster;
	struct gw_calls *calls;
	struct gw_timer tick, next;
	struct gw_timer atd_ok; /* the fake modem's answer to the ATD */
	int64_t due, late[MAX_TICKS];
	int nticks;
	int n;				/* calls made */
	bool released;			/* the current call was released */
	int64_t t_in, t_rel;		/* when the current call came / was released (us) */
	int64_t ata[CALLS], rel[CALLS]; /* delays (us), -1: not seen */
	int64_t atd[CALLS];		/* incoming call -> ATD handed over (us) */
};

static int cop_answer(void *arg, int cci)
{
	struct callrun *r = arg;
	(void)cci;
	if (r->n > 0 && r->ata[r->n - 1] < 0)
		r->ata[r->n - 1] = mono_us() - r->t_in;
	return 0;
}
static int cop_hangup_phone(void *arg)
{
	struct callrun *r = arg;
	if (r->released && r->rel[r->n - 1] < 0)
		r->rel[r->n - 1] = mono_us() - r->t_rel;
	return 0;
}
static int cop_ok(void *arg, int cci)
{
	(void)arg;
	(void)cci;
	return 0;
}
/* The fake modem answers the ATD once the loop has slept, as a real one's OK comes later. */
static void on_atd_ok(struct gw_loop *loop, void *arg)
{
	(void)loop;
	gw_calls_phone_dial_acked(((struct callrun *)arg)->calls);
}
static int cop_dial(void *arg, const char *number)
{
	struct callrun *r = arg;
	(void)number;
	if (r->n > 0 && r->atd[r->n - 1] < 0)
		r->atd[r->n - 1] = mono_us() - r->t_in;
	gw_loop_defer(r->loop, &r->atd_ok);
	return 0;
}
static int cop_sms(void *arg, const char *number, const char *text)
{
	(void)arg;
	(void)number;
	(void)text;
	return 0;
}

static void on_call_tick(struct gw_loop *loop, void *arg)
{
	struct callrun *r = arg;
	int64_t now = gw_loop_now_ms(loop);
	if (r->nticks < MAX_TICKS)
		r->late[r->nticks++] = now - r->due;
	r->due = now + 1;
	gw_timer_schedule(loop, &r->tick, 1);
}

/* Alternately: a new officer's call, and CALL_HOLD_MS later its release. */
static void on_call_next(struct gw_loop *loop, void *arg)
{
	struct callrun *r = arg;
	if (r->n > 0 && !r->released) {
		r->released = true;
		r->t_rel = mono_us();
		gw_calls_radio_released(r->calls, r->n, 1);
		gw_timer_schedule(loop, &r->next, CALL_GAP_MS - CALL_HOLD_MS);
		return;
	}
	if (r->n == CALLS) {
		gw_loop_stop(loop);
		return;
	}
	struct gw_pei_call_in in = {.cci = r->n + 1};
	snprintf(in.calling, sizeof(in.calling), "2269001");
	r->ata[r->n] = r->rel[r->n] = r->atd[r->n] = -1;
	r->n++;
	r->released = false;
	r->t_in = mono_us();
	gw_calls_radio_incoming(r->calls, &in);
	gw_timer_schedule(loop, &r->next, CALL_HOLD_MS);
}

/* p50, p99 and max of the n delays in v that were seen (sorted in place). */
static void spread(int64_t *v, int n, int64_t out[3], int *seen)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		if (v[i] >= 0)
			v[k++] = v[i];
	qsort(v, (size_t)k, sizeof(*v), cmp);
	*seen = k;
	out[0] = k ? v[k / 2] : -1;
	out[1] = k ? v[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1] : -1;
	out[2] = k ? v[k - 1] : -1;
}

/* One mode of the call path; fills ata/rel/late with p50, p99, max. */
static void calls_mode(const char *dir, bool writer, int64_t ata[3], int64_t rel[3],
		       int64_t late[3])
{
	static struct callrun r;
	static struct gw_conf conf;
	char path[256], csv[1024], from[32], to[32];
	struct gw_db_roster dr;
	time_t now = time(NULL), a = now - 86400, b = now + 86400;
	struct tm ta, tb;
	int seen_a, seen_r, seen_l;

	memset(&r, 0, sizeof(r));
	strftime(from, sizeof(from), "%Y-%m-%dT%H:%MZ", gmtime_r(&a, &ta));
	strftime(to, sizeof(to), "%Y-%m-%dT%H:%MZ", gmtime_r(&b, &tb));
	snprintf(csv, sizeof(csv),
		 "line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
		 "worker,aino,Aino Virtanen,+358401234567,\n"
		 "shift,sos,aino,%s,%s,1\n"
		 "route,sos,,0\n"
		 "directory,2269001,\"Poliisi, Mikkeli\"\n",
		 from, to);
	snprintf(path, sizeof(path), "%s/calls-%s.db", dir, writer ? "writer" : "loop");
	gw_conf_defaults(&conf);
	struct gw_call_ops ops = {.radio_answer = cop_answer,
				  .radio_hangup = cop_ok,
				  .phone_dial = cop_dial,
				  .phone_hangup = cop_hangup_phone,
				  .phone_sms = cop_sms,
				  .arg = &r};
	if (!(r.loop = gw_loop_new()) || gw_db_open(path, &r.db) < 0 ||
	    gw_roster_parse_csv("bench.csv", csv, strlen(csv), &dr, NULL, NULL) < 0 ||
	    gw_db_roster_replace(r.db, &dr) < 0 || gw_roster_load(r.db, &r.roster) < 0 ||
	    (writer && gw_db_writer_start(r.db) < 0) ||
	    gw_calls_new(r.loop, &conf, r.db, &ops, &r.calls) < 0) {
		fprintf(stderr, "db_stall: call path setup failed\n");
		exit(1);
	}
	gw_db_roster_clear(&dr);
	gw_calls_set_roster(r.calls, r.roster);
	gw_timer_init(&r.tick, on_call_tick, &r);
	gw_timer_init(&r.next, on_call_next, &r);
	gw_timer_init(&r.atd_ok, on_atd_ok, &r);
	r.due = gw_loop_now_ms(r.loop) + 1;
	gw_timer_schedule(r.loop, &r.tick, 1);
	gw_timer_schedule(r.loop, &r.next, 5);
	gw_loop_run(r.loop);
	gw_timer_cancel(r.loop, &r.tick);
	gw_timer_cancel(r.loop, &r.next);
	gw_timer_cancel(r.loop, &r.atd_ok);
	gw_calls_free(r.calls);
	gw_roster_free(r.roster);
	gw_db_close(r.db);
	gw_loop_free(r.loop);
	int slow = 0, first_slow = -1;
	for (int i = 0; i < CALLS; i++)
		if (r.ata[i] > 10000 && slow++ == 0)
			first_slow = i + 1;
	spread(r.ata, CALLS, ata, &seen_a);
	spread(r.rel, CALLS, rel, &seen_r);
	int64_t atd[3];
	int seen_d;
	spread(r.atd, CALLS, atd, &seen_d);
	spread(r.late, r.nticks, late, &seen_l);
	printf(
	    "%-14s ATA delay p50 %6lld us p99 %6lld us max %6lld us (%d calls)   release delay "
	    "p50 %6lld us p99 %6lld us max %6lld us (%d)   loop late p50 %lld ms p99 %lld ms max "
	    "%lld ms\n",
	    writer ? "writer thread" : "on the loop", (long long)ata[0], (long long)ata[1],
	    (long long)ata[2], seen_a, (long long)rel[0], (long long)rel[1], (long long)rel[2],
	    seen_r, (long long)late[0], (long long)late[1], (long long)late[2]);
	printf("%-14s ATA over 10 ms: %d of %d calls (the first: call %d); ATD handed over p50 "
	       "%lld us p99 %lld us max %lld us after the call (%d)\n",
	       "", slow, CALLS, first_slow, (long long)atd[0], (long long)atd[1], (long long)atd[2],
	       seen_d);
}

static double ratio(int64_t before, int64_t after)
{
	return after > 0 ? (double)before / (double)after : 0;
}

int main(void)
{
	char dir[] = "/tmp/rinki-bench-dbstall-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	slow_vfs_install();
	printf("db_stall: %d incidents (a batch of open + 3 events, then a close), one every 2 ms;"
	       " every fsync takes %d ms; a 1 ms loop tick measures the loop's lateness\n",
	       INCIDENTS, SLOW_SYNC_MS);
	int64_t on_loop = one_mode(dir, false);
	int64_t threaded = one_mode(dir, true);
	printf("worst loop stall: %lld ms on the loop, %lld ms with the writer thread\n",
	       (long long)on_loop, (long long)threaded);
	int64_t ata[2][3], rel[2][3], late[2][3];
	printf("call path: %d officer calls, one every %d ms, each released after %d ms; ATA "
	       "delay: incoming call -> ATA; release delay: release -> worker's phone hung up\n",
	       CALLS, CALL_GAP_MS, CALL_HOLD_MS);
	calls_mode(dir, false, ata[0], rel[0], late[0]);
	calls_mode(dir, true, ata[1], rel[1], late[1]);
	printf("ratio on the loop / writer thread: ATA p50 %.1f p99 %.1f; release p50 %.1f p99 "
	       "%.1f; loop lateness max %lld ms vs %lld ms\n",
	       ratio(ata[0][0], ata[1][0]), ratio(ata[0][1], ata[1][1]),
	       ratio(rel[0][0], rel[1][0]), ratio(rel[0][1], rel[1][1]), (long long)late[0][2],
	       (long long)late[1][2]);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
