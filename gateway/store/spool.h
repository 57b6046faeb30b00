/*
 * spool: the append-only journal of call-log writes that could not reach the database.
 *
 * The file (<db>.spool) is a sequence of self-delimiting records:
 *
 *	u32 length (LE) | u32 CRC-32 (LE, over the length bytes and the payload) | payload
 *
 * The payload (all integers little-endian) is
 *
 *	u8 format (1) | u8 type | u64 origin | u64 seq | fields of the type
 *	OPEN:  i64 incident | i64 started_ms | i32 radio_cci | str caller | ostr caller_name |
 *	       ostr line
 *	EVENT: i64 incident | i64 t_ms | str kind | ostr detail
 *	CLOSE: i64 incident | i64 ended_ms | i32 cause (< 0: none) | str outcome |
 *	       ostr accepted_by
 *	MARK:  i64 below (incidents with a smaller id) | i64 now_ms
 *	SYS:   i64 0 | i64 t_ms | str kind | ostr detail   (a system event: no incident)
 *
 * where str is u16 n (1..GW_SPOOL_STR_MAX) and n bytes ending in the only NUL, and ostr is
 * u8 0 (NULL) or u8 1 followed by a str. (origin, seq) is the record's unique key. This
 * module knows the format and the file; which writes are spooled and how they are
 * replayed is gateway/db.c's business. Every function returns >= 0 or a negative errno.
 */
#ifndef GW_SPOOL_H
#define GW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SPOOL_FORMAT	     1
#define GW_SPOOL_HDR	     8	  /* length + CRC */
#define GW_SPOOL_PAYLOAD_MAX 8192 /* larger length fields are corruption */
#define GW_SPOOL_STR_MAX     4096 /* bytes of one string including its NUL */
/* Disk kept for the spool beyond its end (about 10,000 records of 100 bytes): a spool
   opened to write reserves it, and again after it is emptied. */
#define GW_SPOOL_RESERVE (1u << 20)

enum gw_spool_type {
	GW_SPOOL_OPEN = 1,
	GW_SPOOL_EVENT = 2,
	GW_SPOOL_CLOSE = 3,
	GW_SPOOL_MARK = 4,
	GW_SPOOL_SYS = 5,
};

/*
 * One record. Fields a type does not use are 0/NULL. Decoded strings point into the
 * buffer they were decoded from. num is the radio cci (OPEN) or the cause (CLOSE).
 */
struct gw_spool_rec {
	enum gw_spool_type type;
	uint64_t origin, seq;
	int64_t incident; /* MARK: the "below" id */
	int64_t t_ms;
	int32_t num;
	const char *caller, *caller_name, *line; /* OPEN */
	const char *kind, *detail;		 /* EVENT, SYS */
	const char *outcome, *accepted_by;	 /* CLOSE */
};

/* CRC-32 (IEEE 802.3, as zlib's crc32) of p[0..n) continuing from crc (start with 0). */
uint32_t gw_spool_crc32(uint32_t crc, const void *p, size_t n);

/*
 * Encode rec as one complete record (header + payload) into buf[0..cap). Returns the
 * length, -EINVAL when a required string is missing or too long, -ENOSPC when cap is short.
 */
int gw_spool_encode(const struct gw_spool_rec *rec, uint8_t *buf, size_t cap);

/*
 * Decode one payload (without header) into *out; strings point into p. Returns 0, or
 * -EBADMSG with a reason in *why (static text) when any field is malformed or bytes remain.
 */
int gw_spool_decode(const uint8_t *p, size_t len, struct gw_spool_rec *out, const char **why);

/* Called per good record in file order; a negative return stops the walk with that value. */
typedef int (*gw_spool_fn)(const struct gw_spool_rec *rec, void *arg);

struct gw_spool_scan {
	size_t good_bytes;  /* length of the prefix made of whole records with a good CRC */
	size_t records;	    /* records in that prefix */
	size_t undecodable; /* of those, records whose payload did not decode (skipped) */
	const char *tail;   /* why the bytes after good_bytes were dropped, NULL when none */
};

/*
 * Walk buf[0..len), calling fn (may be NULL) for every record whose CRC and payload are
 * good. A record with a good CRC but a payload that does not decode is skipped and
 * counted; a short or bad-CRC record ends the walk (the torn tail). Fills *scan. Returns
 * 0 or fn's negative value.
 */
int gw_spool_parse(const uint8_t *buf, size_t len, gw_spool_fn fn, void *arg,
		   struct gw_spool_scan *scan);

struct gw_spool;

/*
 * Open the spool file at path (created 0640 when create) and take an exclusive flock on
 * it, waiting for another process that holds it. Never through a symlink (O_NOFOLLOW):
 * a link or a file that is not a regular one of this user with one link is moved aside
 * ("<path>.bad-<UTC time>", logged) and treated as absent. Returns 0 and *out, -ENOENT
 * when there is no spool and !create, or -errno.
 */
int gw_spool_open(const char *path, bool create, struct gw_spool **out);
/* (with create, GW_SPOOL_RESERVE bytes of disk are reserved beyond the file's end) */

/* Release the lock and close. NULL is ignored. */
void gw_spool_close(struct gw_spool *s);

/*
 * Append one record and fsync it. On any failure the file is cut back to its old length,
 * so a failed append leaves no partial record behind. Returns 0 or -errno.
 */
int gw_spool_append(struct gw_spool *s, const struct gw_spool_rec *rec);

/*
 * Read the whole file and walk it as gw_spool_parse() does. A torn tail is logged; the
 * records before it go to a new spool file and the old one is moved aside whole
 * ("<path>.bad-<UTC time>"), never cut in place. Returns 0 or -errno / fn's negative value.
 */
int gw_spool_replay(struct gw_spool *s, gw_spool_fn fn, void *arg, struct gw_spool_scan *scan);

/* Empty the file (truncate to 0 and fsync). Returns 0 or -errno. */
int gw_spool_clear(struct gw_spool *s);

/* Current length of the file in bytes, or -errno. */
int64_t gw_spool_size(struct gw_spool *s);

#endif
