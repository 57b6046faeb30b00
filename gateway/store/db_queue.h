/*
 * db_queue: the hand-over of call-log writes from the event loop to the database writer
 * thread (db_writer.c): a ring of spool-encoded records (spool.h) in a shared memory map of
 * the file <db>.queue. The loop appends (a memcpy and a release store, no system call); the
 * writer copies records out, commits them, then moves the tail. Because the ring lives in a
 * file mapping, a record the loop has queued survives a crash of the process (kill -9, the
 * watchdog), not a power cut: after a restart the writer finds it between tail and head and
 * commits it then. Include only from gateway/store/db*.c.
 */
#ifndef GW_DB_QUEUE_H
#define GW_DB_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "store/spool.h"

#define DB_QUEUE_SIZE (4u << 20) /* ring bytes: about 40,000 events of 100 bytes */

struct db_queue;

/*
 * Open (creating it, 0640) the queue file at path with a ring of size bytes (a power of two
 * multiple of 4096), O_NOFOLLOW|O_CLOEXEC, under an exclusive non-blocking flock: a second
 * process gets -EWOULDBLOCK. A file whose header does not check out (magic, size, head and
 * tail) is logged and started empty. Returns 0 and *out, or -errno.
 */
int db_queue_open(const char *path, size_t size, struct db_queue **out);

/* Unmap and close (the file stays, with whatever it holds). NULL is ignored. */
void db_queue_close(struct db_queue *q);

/*
 * Producer (one thread): append rec, encoded. Returns 0, -EINVAL when rec does not encode,
 * or -ENOSPC when the ring has no room for it (nothing is written).
 */
int db_queue_push(struct db_queue *q, const struct gw_spool_rec *rec);

/*
 * Consumer (one thread): copy the oldest whole records, at most cap bytes, into buf. Sets
 * *len to the bytes copied and *upto to the ring position after the last one (pass it to
 * db_queue_advance once they are safe). Returns the number of records copied, or -EBADMSG
 * when the ring holds a record that does not check out (logged; the ring is emptied).
 */
int db_queue_peek(struct db_queue *q, uint8_t *buf, size_t cap, size_t *len, uint64_t *upto);

/* Consumer: the records before position upto are safe; their room is free again. */
void db_queue_advance(struct db_queue *q, uint64_t upto);

/* Bytes waiting in the ring (either thread). */
uint64_t db_queue_depth(const struct db_queue *q);

#endif
