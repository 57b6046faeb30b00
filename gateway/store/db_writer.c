/*
 * db_writer: the thread that commits the call log, so that no commit, fsync or lock wait
 * happens on the event loop.
 *
 * gw_db_writer_start() gives a connection a queue (db_queue.c, the file <db>.queue) and a
 * thread with a second connection of its own. From then on the connection's call-log
 * writes (incident open, event, close, mark, system event) are keyed, an OPEN gets its
 * incident id from the connection's counter, and the record is appended to the queue: the
 * loop pays a memcpy and a mutex hand-off. The thread takes whatever is queued, in order,
 * and writes it through the same path as before (db_log_write_keyed: the database in one
 * transaction per wake-up, or the spool when the database cannot take it), together with
 * the high-water mark of the records' origin (queue_applied) in the same transaction; then
 * it frees their room in the queue. A record already at or below the mark is skipped, so a
 * crash between the commit and the freeing never commits a record twice, and spool replay
 * raises the mark too. Reads stay on the caller's connection; the thread owns its own.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "store/db_priv.h"
#include "store/db_queue.h"

#define BATCH_BYTES    (256u << 10) /* records taken per transaction at most */
#define SPOOL_RETRY_MS 2000	    /* replay the spool this often while it holds records */

struct db_writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, replay; /* under mu */
	bool work;	   /* under mu: something was queued since the thread last looked */
	atomic_bool spool_pending;
	atomic_uint_fast64_t commits, records, skipped, lost;
	struct gw_db *wdb; /* the thread's connection */
	struct db_queue *q;
	uint8_t *buf;
	uint64_t hw_origin; /* the origin whose mark is cached in hw_seq */
	int64_t hw_seq;
	bool hw_known;
};

int db_writer_put(struct db_writer *w, const struct gw_spool_rec *rec)
{
	int rc = db_queue_push(w->q, rec);
	if (rc < 0) {
		atomic_fetch_add(&w->lost, 1);
		LOGP(GW_LOG_DB, GW_LOG_ERROR,
		     "call-log write LOST: the writer queue %s (%s record, incident %lld)",
		     rc == -ENOSPC ? "is full" : "refused it",
		     rec->type == GW_SPOOL_OPEN ? "open" : "other", (long long)rec->incident);
		return rc;
	}
	pthread_mutex_lock(&w->mu);
	w->work = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void db_writer_replay(struct db_writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->replay = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

bool db_writer_spool_pending(const struct db_writer *w)
{
	return atomic_load(&((struct db_writer *)w)->spool_pending);
}

/* True when rec is at or below its origin's mark: committed before a crash. */
static bool already_applied(struct db_writer *w, const struct gw_spool_rec *rec)
{
	if (!w->hw_known || w->hw_origin != rec->origin) {
		int64_t seq = 0;
		if (db_queue_applied_get(w->wdb, rec->origin, &seq) < 0)
			return false; /* cannot tell (database away): the spool's keys decide later
				       */
		w->hw_origin = rec->origin;
		w->hw_seq = seq;
		w->hw_known = true;
	}
	return (int64_t)rec->seq <= w->hw_seq;
}

struct batch {
	struct db_writer *w;
	uint64_t origin, seq; /* the last record written to the open transaction */
	int n;
};

static int write_one(const struct gw_spool_rec *rec, void *arg)
{
	struct batch *b = arg;
	struct db_writer *w = b->w;
	if (already_applied(w, rec)) {
		atomic_fetch_add(&w->skipped, 1);
		return 0;
	}
	struct gw_spool_rec r = *rec;
	if (db_log_write_keyed(w->wdb, &r) < 0)
		atomic_fetch_add(&w->lost, 1); /* logged by the write path */
	atomic_fetch_add(&w->records, 1);
	if (w->wdb->batch_tx) {
		if (b->n && b->origin != rec->origin)
			db_queue_applied_set(w->wdb, b->origin, b->seq);
		b->origin = rec->origin;
		b->seq = rec->seq;
		b->n++;
	}
	return 0;
}

/* Commit what is queued now. Returns the number of records taken. */
static int drain_once(struct db_writer *w)
{
	size_t len = 0;
	uint64_t upto = 0;
	int n = db_queue_peek(w->q, w->buf, BATCH_BYTES, &len, &upto);
	if (n <= 0)
		return 0;
	struct batch b = {.w = w};
	struct gw_spool_scan scan;
	gw_db_batch_begin(w->wdb);
	gw_spool_parse(w->buf, len, write_one, &b, &scan);
	if (w->wdb->batch_tx && b.n) {
		if (db_queue_applied_set(w->wdb, b.origin, b.seq) >= 0 && w->hw_origin == b.origin)
			w->hw_seq = (int64_t)b.seq;
	}
	gw_db_batch_commit(w->wdb);
	atomic_fetch_add(&w->commits, 1);
	db_queue_advance(w->q, upto);
	atomic_store(&w->spool_pending, w->wdb->spool_pending);
	return n;
}

static void *run(void *arg)
{
	struct db_writer *w = arg;
	bool stop = false;
	/*
	 * Commits are background work: under the normal scheduler even when the loop runs
	 * SCHED_FIFO (run.rt_priority, inherited at pthread_create), so that a commit's CPU
	 * never keeps the loop from the next page.
	 */
	struct sched_param sp = {.sched_priority = 0};
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	while (!stop) {
		bool replay;
		pthread_mutex_lock(&w->mu);
		while (!w->stop && !w->work && !w->replay && !db_queue_depth(w->q)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += SPOOL_RETRY_MS / 1000;
			if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT &&
			    w->wdb->spool_pending)
				w->replay = true;
		}
		stop = w->stop;
		replay = w->replay;
		w->replay = w->work = false;
		pthread_mutex_unlock(&w->mu);
		if (replay && w->wdb->spool_pending) {
			int rc = gw_db_spool_replay(w->wdb);
			if (rc > 0)
				LOGP(GW_LOG_DB, GW_LOG_NOTICE,
				     "%d spooled call-log write(s) applied", rc);
			w->hw_known = false; /* replay raised the marks */
			atomic_store(&w->spool_pending, w->wdb->spool_pending);
		}
		while (drain_once(w) > 0)
			;
	}
	return NULL;
}

int gw_db_writer_start(struct gw_db *db)
{
	char *qpath = NULL;
	int rc;
	if (db->w || db->batch)
		return -EBUSY;
	if (db->standin)
		return -ENOENT; /* no database for a thread to write: the loop spools */
	struct db_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->buf = malloc(BATCH_BYTES)) || asprintf(&qpath, "%s.queue", db->path) < 0) {
		if (w)
			free(w->buf);
		free(w);
		return -ENOMEM;
	}
	rc = db_queue_open(qpath, DB_QUEUE_SIZE, &w->q);
	free(qpath);
	if (rc >= 0)
		rc = gw_db_open_spool(db->path, GW_DB_NOCREATE, db->spool_path, &w->wdb);
	if (rc < 0)
		goto fail;
	gw_db_set_busy_timeout(w->wdb, db->busy_ms);
	/* incidents renumbered at a replay on this connection: the thread's writes follow */
	if (db->nrenum) {
		size_t sz = db->nrenum * 2 * sizeof(*db->renum);
		if (!(w->wdb->renum = malloc(sz))) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(w->wdb->renum, db->renum, sz);
		w->wdb->nrenum = db->nrenum;
	}
	/*
	 * Records left in the queue by a crash are committed by the thread first; ids they
	 * gave out stay taken. The thread's connection saw them in its spool scan, not here.
	 */
	if (w->wdb->next_incident > db->next_incident)
		db->next_incident = w->wdb->next_incident;
	size_t len = 0;
	uint64_t upto = 0;
	int n = db_queue_peek(w->q, w->buf, BATCH_BYTES, &len, &upto);
	for (size_t off = 0; n > 0 && off < len;) {
		struct gw_spool_rec rec;
		const char *why;
		uint32_t plen = (uint32_t)w->buf[off] | (uint32_t)w->buf[off + 1] << 8 |
				(uint32_t)w->buf[off + 2] << 16 | (uint32_t)w->buf[off + 3] << 24;
		if (gw_spool_decode(w->buf + off + GW_SPOOL_HDR, plen, &rec, &why) == 0 &&
		    rec.type == GW_SPOOL_OPEN && rec.incident >= db->next_incident)
			db->next_incident = rec.incident + 1;
		off += GW_SPOOL_HDR + plen;
	}
	atomic_store(&w->spool_pending, w->wdb->spool_pending || db->spool_pending);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->work = true;
	/* The thread takes no signals: they are the loop's (signalfd), whenever it blocks them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&w->th, NULL, run, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		goto fail;
	}
	db->w = w;
	return 0;
fail:
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: no writer thread (%s): commits stay on the caller",
	     db->path, strerror(-rc));
	gw_db_close(w->wdb);
	db_queue_close(w->q);
	free(w->buf);
	free(w);
	return rc;
}

void db_writer_stop(struct db_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	gw_db_close(w->wdb);
	db_queue_close(w->q);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->buf);
	free(w);
}

int gw_db_writer_stats(const struct gw_db *db, struct gw_db_writer_stats *st)
{
	const struct db_writer *w = db->w;
	if (!w)
		return -ENOENT;
	st->commits = atomic_load(&((struct db_writer *)w)->commits);
	st->records = atomic_load(&((struct db_writer *)w)->records);
	st->skipped = atomic_load(&((struct db_writer *)w)->skipped);
	st->lost = atomic_load(&((struct db_writer *)w)->lost);
	st->queued_bytes = db_queue_depth(w->q);
	return 0;
}
