/*
 * db_queue: a single-producer, single-consumer ring of spool-encoded records in a shared
 * file mapping (see db_queue.h for why a file).
 *
 * The file is a 4096-byte header, then the ring. head and tail are byte positions that only
 * grow (the ring index is position modulo size); the producer writes a whole record, then
 * stores head with release order; the consumer loads head with acquire order, copies
 * records out and later stores tail with release order. A record may wrap around the end
 * of the ring. Every record carries the spool's length and CRC, so a consumer that finds
 * garbage between tail and head (a power cut left the pages half written) says so and
 * starts afresh instead of committing it.
 */
#include "store/db_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define HDR_BYTES 4096u
static const char magic[8] = {'R', 'I', 'N', 'K', 'I', 'Q', '0', '1'};

struct hdr {
	char magic[8];
	uint64_t size;
	uint64_t head; /* written by the producer (release), read by the consumer (acquire) */
	uint64_t tail; /* the other way round */
};

struct db_queue {
	int fd;
	struct hdr *h;
	uint8_t *ring;
	uint64_t size;
	/* Garbage found at bad_at by peek: advancing to bad_at skips to bad_end. */
	uint64_t bad_at, bad_end;
	bool bad;
};

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int db_queue_open(const char *path, size_t size, struct db_queue **out)
{
	if (!pow2(size) || size < HDR_BYTES)
		return -EINVAL;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "queue %s: %s", path, strerror(e));
		return -e;
	}
	struct stat sb;
	int rc = 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &sb) < 0)
		rc = -errno;
	else if (!S_ISREG(sb.st_mode))
		rc = -EINVAL;
	else if ((uint64_t)sb.st_size != HDR_BYTES + size && ftruncate(fd, HDR_BYTES + size) < 0)
		rc = -errno;
	if (rc < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "queue %s: %s", path,
		     rc == -EWOULDBLOCK ? "in use by another process" : strerror(-rc));
		close(fd);
		return rc;
	}
	void *map = mmap(NULL, HDR_BYTES + size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "queue %s: mmap: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	struct db_queue *q = calloc(1, sizeof(*q));
	if (!q) {
		munmap(map, HDR_BYTES + size);
		close(fd);
		return -ENOMEM;
	}
	q->fd = fd;
	q->h = map;
	q->ring = (uint8_t *)map + HDR_BYTES;
	q->size = size;
	struct hdr *h = q->h;
	bool fresh = !memcmp(h->magic, (char[8]){0}, 8);
	if (fresh || memcmp(h->magic, magic, 8) || h->size != size || h->tail > h->head ||
	    h->head - h->tail > size) {
		if (!fresh)
			LOGP(GW_LOG_DB, GW_LOG_ERROR,
			     "queue %s: header does not check out: started empty", path);
		memcpy(h->magic, magic, 8);
		h->size = size;
		h->head = h->tail = 0;
	} else if (h->head != h->tail) {
		LOGP(GW_LOG_DB, GW_LOG_NOTICE,
		     "queue %s: %llu bytes of call-log writes left from before: committing them",
		     path, (unsigned long long)(h->head - h->tail));
	}
	*out = q;
	return 0;
}

void db_queue_close(struct db_queue *q)
{
	if (!q)
		return;
	munmap(q->h, HDR_BYTES + q->size);
	close(q->fd);
	free(q);
}

static void ring_write(struct db_queue *q, uint64_t pos, const uint8_t *p, size_t n)
{
	size_t off = (size_t)(pos & (q->size - 1));
	size_t first = n < q->size - off ? n : q->size - off;
	memcpy(q->ring + off, p, first);
	memcpy(q->ring, p + first, n - first);
}

static void ring_read(const struct db_queue *q, uint64_t pos, uint8_t *p, size_t n)
{
	size_t off = (size_t)(pos & (q->size - 1));
	size_t first = n < q->size - off ? n : q->size - off;
	memcpy(p, q->ring + off, first);
	memcpy(p + first, q->ring, n - first);
}

int db_queue_push(struct db_queue *q, const struct gw_spool_rec *rec)
{
	uint8_t buf[GW_SPOOL_HDR + GW_SPOOL_PAYLOAD_MAX];
	int n = gw_spool_encode(rec, buf, sizeof(buf));
	if (n < 0)
		return -EINVAL;
	uint64_t head = q->h->head; /* ours alone */
	uint64_t tail = __atomic_load_n(&q->h->tail, __ATOMIC_ACQUIRE);
	if (q->size - (head - tail) < (uint64_t)n)
		return -ENOSPC;
	ring_write(q, head, buf, (size_t)n);
	__atomic_store_n(&q->h->head, head + (uint64_t)n, __ATOMIC_RELEASE);
	return 0;
}

int db_queue_peek(struct db_queue *q, uint8_t *buf, size_t cap, size_t *len, uint64_t *upto)
{
	uint64_t tail = q->h->tail; /* ours alone */
	uint64_t head = __atomic_load_n(&q->h->head, __ATOMIC_ACQUIRE);
	uint64_t pos = tail;
	size_t used = 0;
	int nrec = 0;
	const char *why = NULL;

	while (pos < head) {
		uint8_t hdr[GW_SPOOL_HDR];
		if (head - pos < GW_SPOOL_HDR) {
			why = "short record header";
			break;
		}
		ring_read(q, pos, hdr, GW_SPOOL_HDR);
		uint32_t plen = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
				(uint32_t)hdr[3] << 24;
		size_t n = GW_SPOOL_HDR + (size_t)plen;
		if (plen > GW_SPOOL_PAYLOAD_MAX || head - pos < n) {
			why = "record length out of range";
			break;
		}
		if (used + n > cap)
			break;
		ring_read(q, pos, buf + used, n);
		struct gw_spool_scan scan;
		gw_spool_parse(buf + used, n, NULL, NULL, &scan);
		if (scan.records != 1 || scan.undecodable) {
			why = scan.tail ? scan.tail : "record does not decode";
			break;
		}
		used += n;
		pos += n;
		nrec++;
	}
	if (why) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR,
		     "queue: %s at position %llu: %llu bytes of queued call-log writes dropped",
		     why, (unsigned long long)pos, (unsigned long long)(head - pos));
		/* the good records before it are committed; the rest is skipped (tail is ours) */
		if (!nrec) {
			__atomic_store_n(&q->h->tail, head, __ATOMIC_RELEASE);
			return -EBADMSG;
		}
		q->bad = true;
		q->bad_at = pos;
		q->bad_end = head;
	}
	*len = used;
	*upto = pos;
	return nrec;
}

void db_queue_advance(struct db_queue *q, uint64_t upto)
{
	if (q->bad && upto == q->bad_at)
		upto = q->bad_end;
	q->bad = false;
	__atomic_store_n(&q->h->tail, upto, __ATOMIC_RELEASE);
}

uint64_t db_queue_depth(const struct db_queue *q)
{
	uint64_t head = __atomic_load_n(&q->h->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&q->h->tail, __ATOMIC_ACQUIRE);
	return head - tail;
}
