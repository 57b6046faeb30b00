/*
 * db_stall: how long the event loop stalls while the call log commits on slow storage,
 * with commits on the loop (as before) and through the writer thread, in one run.
 *
 * Storage is made slow by a SQLite VFS of this bench that wraps the default one and sleeps
 * in every xSync (SLOW_SYNC_MS, like an SD card's fsync). The loop runs a 1 ms tick and
 * records how late each tick fires; a burst of incidents is written from loop timers the
 * way rinkid does (a batch: open and three events; then a close), INCIDENTS of them, one
 * every 2 ms. Printed: ticks, lateness p50/p99/max and the burst's wall time, per mode, and
 * the ratio of the worst stalls. Figures only; nothing is asserted on time.
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
#include "store/db.h"

#define SLOW_SYNC_MS 20
#define INCIDENTS    150
#define MAX_TICKS    200000

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
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
