/*
 * spool: an append-only journal file of call-log writes, for when SQLite cannot take them.
 *
 * Each record is length + CRC-32 + payload (format in spool.h), written with one write()
 * and made durable with fsync() before the append returns, so a record either is whole on
 * disk or is the torn tail that the next reader detects by its CRC and cuts off. The file
 * is locked with flock() while a process appends or replays, so rinkid and rinkictl never
 * interleave. The encoder and the parser are pure functions over buffers (the fuzz target
 * drives gw_spool_parse); every field is bounds-checked before it is read.
 *
 * rinkid may run as root, so the file is never trusted to be ours: it is opened with
 * O_NOFOLLOW and must be a regular file of our user with one link, or it is not opened
 * (a symlink or a foreign file found there is moved aside, never written through). A
 * spool that fails its checks (a torn or corrupt tail) is not cut in place either: its
 * good records go to a new file, and the old one is moved aside under a time-stamped name
 * ("<path>.bad-<UTC time>") for whoever investigates.
 */
#include "store/spool.h"
#include "core/log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct gw_spool {
	int fd;
	char *path;
};

/* ---- CRC-32 -------------------------------------------------------------------------- */

uint32_t gw_spool_crc32(uint32_t crc, const void *p, size_t n)
{
	static uint32_t table[256];
	const uint8_t *b = p;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- encoder ------------------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

static void put(struct wbuf *w, const void *src, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_u(struct wbuf *w, uint64_t v, int bytes)
{
	uint8_t b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, (size_t)bytes);
}

static bool str_ok(const char *s)
{
	return s && strlen(s) + 1 <= GW_SPOOL_STR_MAX;
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n = strlen(s) + 1;
	put_u(w, n, 2);
	put(w, s, n);
}

static void put_ostr(struct wbuf *w, const char *s)
{
	put_u(w, s != NULL, 1);
	if (s)
		put_str(w, s);
}

int gw_spool_encode(const struct gw_spool_rec *rec, uint8_t *buf, size_t cap)
{
	struct wbuf w = {.p = buf, .cap = cap, .len = GW_SPOOL_HDR};
	size_t plen;
	uint32_t crc;

	if (cap < GW_SPOOL_HDR)
		return -ENOSPC;
	switch (rec->type) {
	case GW_SPOOL_OPEN:
		if (!str_ok(rec->caller) || (rec->caller_name && !str_ok(rec->caller_name)) ||
		    (rec->line && !str_ok(rec->line)))
			return -EINVAL;
		break;
	case GW_SPOOL_EVENT:
	case GW_SPOOL_SYS:
		if (!str_ok(rec->kind) || (rec->detail && !str_ok(rec->detail)))
			return -EINVAL;
		break;
	case GW_SPOOL_CLOSE:
		if (!str_ok(rec->outcome) || (rec->accepted_by && !str_ok(rec->accepted_by)))
			return -EINVAL;
		break;
	case GW_SPOOL_MARK:
		break;
	default:
		return -EINVAL;
	}
	put_u(&w, GW_SPOOL_FORMAT, 1);
	put_u(&w, rec->type, 1);
	put_u(&w, rec->origin, 8);
	put_u(&w, rec->seq, 8);
	put_u(&w, (uint64_t)rec->incident, 8);
	put_u(&w, (uint64_t)rec->t_ms, 8);
	switch (rec->type) {
	case GW_SPOOL_OPEN:
		put_u(&w, (uint32_t)rec->num, 4);
		put_str(&w, rec->caller);
		put_ostr(&w, rec->caller_name);
		put_ostr(&w, rec->line);
		break;
	case GW_SPOOL_EVENT:
	case GW_SPOOL_SYS:
		put_str(&w, rec->kind);
		put_ostr(&w, rec->detail);
		break;
	case GW_SPOOL_CLOSE:
		put_u(&w, (uint32_t)rec->num, 4);
		put_str(&w, rec->outcome);
		put_ostr(&w, rec->accepted_by);
		break;
	case GW_SPOOL_MARK:
		break;
	}
	if (w.overflow)
		return -ENOSPC;
	plen = w.len - GW_SPOOL_HDR;
	if (plen > GW_SPOOL_PAYLOAD_MAX)
		return -EINVAL;
	w.len = 0; /* the header, now that the payload length is known */
	put_u(&w, plen, 4);
	crc = gw_spool_crc32(gw_spool_crc32(0, buf, 4), buf + GW_SPOOL_HDR, plen);
	put_u(&w, crc, 4);
	return (int)(plen + GW_SPOOL_HDR);
}

/* ---- decoder ------------------------------------------------------------------------- */

struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	const char *why; /* first error, NULL while all is well */
};

static uint64_t get_u(struct rbuf *r, int bytes, const char *what)
{
	uint64_t v = 0;

	if (r->why)
		return 0;
	if (r->len - r->pos < (size_t)bytes) {
		r->why = what;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->pos + i] << (8 * i);
	r->pos += (size_t)bytes;
	return v;
}

static const char *get_str(struct rbuf *r, const char *what)
{
	size_t n = (size_t)get_u(r, 2, what);
	const char *s;

	if (r->why)
		return NULL;
	if (n == 0 || n > GW_SPOOL_STR_MAX || r->len - r->pos < n) {
		r->why = what;
		return NULL;
	}
	s = (const char *)r->p + r->pos;
	/* Exactly one NUL, at the end. */
	if (s[n - 1] != '\0' || memchr(s, '\0', n - 1)) {
		r->why = what;
		return NULL;
	}
	r->pos += n;
	return s;
}

static const char *get_ostr(struct rbuf *r, const char *what)
{
	uint64_t present = get_u(r, 1, what);

	if (r->why)
		return NULL;
	if (present > 1) {
		r->why = what;
		return NULL;
	}
	return present ? get_str(r, what) : NULL;
}

int gw_spool_decode(const uint8_t *p, size_t len, struct gw_spool_rec *out, const char **why)
{
	struct rbuf r = {.p = p, .len = len};
	uint64_t format, type;

	memset(out, 0, sizeof(*out));
	format = get_u(&r, 1, "short record");
	type = get_u(&r, 1, "short record");
	if (!r.why && format != GW_SPOOL_FORMAT)
		r.why = "unknown record format";
	if (!r.why && (type < GW_SPOOL_OPEN || type > GW_SPOOL_SYS))
		r.why = "unknown record type";
	out->type = (enum gw_spool_type)type;
	out->origin = get_u(&r, 8, "short key");
	out->seq = get_u(&r, 8, "short key");
	out->incident = (int64_t)get_u(&r, 8, "short incident id");
	out->t_ms = (int64_t)get_u(&r, 8, "short time");
	if (!r.why) {
		switch (out->type) {
		case GW_SPOOL_OPEN:
			out->num = (int32_t)(uint32_t)get_u(&r, 4, "short cci");
			out->caller = get_str(&r, "bad caller");
			out->caller_name = get_ostr(&r, "bad caller name");
			out->line = get_ostr(&r, "bad line");
			break;
		case GW_SPOOL_EVENT:
		case GW_SPOOL_SYS:
			out->kind = get_str(&r, "bad event kind");
			out->detail = get_ostr(&r, "bad event detail");
			break;
		case GW_SPOOL_CLOSE:
			out->num = (int32_t)(uint32_t)get_u(&r, 4, "short cause");
			out->outcome = get_str(&r, "bad outcome");
			out->accepted_by = get_ostr(&r, "bad accepted by");
			break;
		case GW_SPOOL_MARK:
			break;
		}
	}
	if (!r.why && r.pos != r.len)
		r.why = "trailing bytes in record";
	if (!r.why && out->type == GW_SPOOL_SYS && out->incident != 0)
		r.why = "system event with an incident id";
	else if (!r.why && out->type != GW_SPOOL_MARK && out->type != GW_SPOOL_SYS &&
		 out->incident <= 0)
		r.why = "incident id not positive";
	if (r.why) {
		if (why)
			*why = r.why;
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	return 0;
}

int gw_spool_parse(const uint8_t *buf, size_t len, gw_spool_fn fn, void *arg,
		   struct gw_spool_scan *scan)
{
	size_t pos = 0;

	memset(scan, 0, sizeof(*scan));
	while (pos < len) {
		struct gw_spool_rec rec;
		const char *why = NULL;
		uint32_t plen, crc;

		if (len - pos < GW_SPOOL_HDR) {
			scan->tail = "short record header";
			break;
		}
		plen = (uint32_t)buf[pos] | (uint32_t)buf[pos + 1] << 8 |
		       (uint32_t)buf[pos + 2] << 16 | (uint32_t)buf[pos + 3] << 24;
		crc = (uint32_t)buf[pos + 4] | (uint32_t)buf[pos + 5] << 8 |
		      (uint32_t)buf[pos + 6] << 16 | (uint32_t)buf[pos + 7] << 24;
		if (plen > GW_SPOOL_PAYLOAD_MAX) {
			scan->tail = "record length out of range";
			break;
		}
		if (len - pos - GW_SPOOL_HDR < plen) {
			scan->tail = "short record";
			break;
		}
		if (gw_spool_crc32(gw_spool_crc32(0, buf + pos, 4), buf + pos + GW_SPOOL_HDR,
				   plen) != crc) {
			scan->tail = "record CRC mismatch";
			break;
		}
		scan->records++;
		scan->good_bytes = pos + GW_SPOOL_HDR + plen;
		if (gw_spool_decode(buf + pos + GW_SPOOL_HDR, plen, &rec, &why) < 0) {
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool record at byte %zu skipped: %s", pos,
			     why);
			scan->undecodable++;
		} else if (fn) {
			int rc = fn(&rec, arg);
			if (rc < 0)
				return rc;
		}
		pos = scan->good_bytes;
	}
	return 0;
}

/* ---- the file ------------------------------------------------------------------------ */

/* Make a new file's directory entry durable (best effort: logged, not fatal). */
static void sync_dir(const char *path)
{
	char *copy = strdup(path), *slash;
	const char *dir = ".";
	int fd;

	if (!copy)
		return;
	if ((slash = strrchr(copy, '/'))) {
		slash[slash == copy] = '\0'; /* keep "/" for a file in the root */
		dir = copy;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		LOGP(GW_LOG_DB, GW_LOG_WARN, "spool %s: cannot sync directory %s: %s", path, dir,
		     strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
}

/*
 * Move path (whatever it is: renaming never follows a link) aside to
 * "<path>.bad-<UTC time>", or "...-<n>" when that name is taken. Returns 0 or -errno.
 */
static int move_aside(const char *path, const char *why)
{
	char stamp[32], aside[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	for (int n = 0; n < 100; n++) {
		int len = n ? snprintf(aside, sizeof(aside), "%s.bad-%s-%d", path, stamp, n)
			    : snprintf(aside, sizeof(aside), "%s.bad-%s", path, stamp);
		if (len < 0 || (size_t)len >= sizeof(aside))
			return -ENAMETOOLONG;
		if (renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0) {
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: %s: moved aside to %s", path, why,
			     aside);
			sync_dir(path);
			return 0;
		}
		if (errno != EEXIST) {
			int err = -errno;
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: %s, and cannot move it aside: %s",
			     path, why, strerror(-err));
			return err;
		}
	}
	return -EEXIST;
}

/*
 * Open path as a spool of ours: never through a symlink, and only a regular file of this
 * user with a single link (not a hard link to someone else's file). Returns the fd,
 * -ELOOP (a symlink), -EPERM (not ours), -ENOENT or -errno.
 */
static int open_ours(const char *path, int flags)
{
	struct stat st;
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static void reserve(struct gw_spool *s);

int gw_spool_open(const char *path, bool create, struct gw_spool **out)
{
	struct gw_spool *s;
	int flags = O_RDWR | O_APPEND | (create ? O_CREAT : 0);
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return -ENOMEM;
	}
	s->fd = open_ours(path, flags);
	if (s->fd == -ELOOP || s->fd == -EPERM) {
		/* a link or a file rinki did not make: never written through, set aside */
		err = s->fd;
		s->fd = -1;
		if (move_aside(path, err == -ELOOP
					 ? "a symlink, not a file rinki made"
					 : "not a file rinki made (owner, type or links)") < 0) {
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: refused: %s", path,
			     strerror(-err));
			goto fail;
		}
		/* it is gone from the path: no spool, or (create) a new one of our own */
		s->fd = create ? open_ours(path, flags | O_EXCL) : -ENOENT;
	}
	if (s->fd < 0) {
		err = s->fd;
		s->fd = -1;
		if (err != -ENOENT || create)
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: open: %s", path, strerror(-err));
		goto fail;
	}
	while (flock(s->fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err = -errno;
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: lock: %s", path, strerror(-err));
			goto fail;
		}
	}
	if (create && gw_spool_size(s) == 0)
		sync_dir(path);
	if (create)
		reserve(s);
	*out = s;
	return 0;
fail:
	gw_spool_close(s);
	return err;
}

/*
 * Keep GW_SPOOL_RESERVE bytes of disk for the file beyond its end (fallocate with
 * FALLOC_FL_KEEP_SIZE: the length stays the end of the last record, as the format needs;
 * posix_fallocate would move it). Appends into the reserved blocks need no new ones, so
 * the spool still takes records when the disk it shares with others is full. A file
 * system that cannot reserve (EOPNOTSUPP) is told once at debug level.
 */
static void reserve(struct gw_spool *s)
{
	if (fallocate(s->fd, FALLOC_FL_KEEP_SIZE, 0, GW_SPOOL_RESERVE) == 0)
		return;
	if (errno == EOPNOTSUPP)
		LOGP(GW_LOG_DB, GW_LOG_DEBUG, "spool %s: no room can be reserved here", s->path);
	else
		LOGP(GW_LOG_DB, GW_LOG_WARN, "spool %s: cannot reserve %u bytes: %s", s->path,
		     GW_SPOOL_RESERVE, strerror(errno));
}

void gw_spool_close(struct gw_spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd); /* drops the flock */
	free(s->path);
	free(s);
}

int64_t gw_spool_size(struct gw_spool *s)
{
	struct stat st;

	if (fstat(s->fd, &st) < 0)
		return -errno;
	return st.st_size;
}

int gw_spool_append(struct gw_spool *s, const struct gw_spool_rec *rec)
{
	uint8_t buf[GW_SPOOL_HDR + GW_SPOOL_PAYLOAD_MAX];
	int n = gw_spool_encode(rec, buf, sizeof(buf));
	int64_t old;
	ssize_t w;
	int err;

	if (n < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: record cannot be encoded: %s", s->path,
		     strerror(-n));
		return n;
	}
	if ((old = gw_spool_size(s)) < 0)
		return (int)old;
	do
		w = write(s->fd, buf, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w == n && fdatasync(s->fd) == 0)
		return 0;
	err = w < 0 || w == n ? -errno : -ENOSPC;
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: append of %d bytes failed: %s", s->path, n,
	     strerror(-err));
	if (ftruncate(s->fd, old) < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: cannot cut a failed append: %s", s->path,
		     strerror(errno));
	return err;
}

static int read_all(struct gw_spool *s, uint8_t **out, size_t *len)
{
	int64_t size = gw_spool_size(s);
	uint8_t *buf;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (size < 0)
		return (int)size;
	if (size == 0)
		return 0;
	if ((uint64_t)size > SIZE_MAX / 2 || !(buf = malloc((size_t)size)))
		return -ENOMEM;
	while (got < (size_t)size) {
		ssize_t r = pread(s->fd, buf + got, (size_t)size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int err = r < 0 ? -errno : -EIO;
			free(buf);
			return err;
		}
		got += (size_t)r;
	}
	*out = buf;
	*len = got;
	return 0;
}

/*
 * Replace the spool with a new file holding buf[0..len) (its good records) and move the
 * old one aside, whole: a bad spool is evidence, and never cut in place. The new file is
 * made and locked before it takes the name, so a process waiting for the lock finds it.
 * Returns 0 or -errno (the old file then stays as it was).
 */
static int renew(struct gw_spool *s, const uint8_t *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err;
	if (snprintf(tmp, sizeof(tmp), "%s.new", s->path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp); /* a leftover of a crash here; unlink never follows a link */
	fd = open_ours(tmp, O_RDWR | O_APPEND | O_CREAT | O_EXCL);
	if (fd < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: cannot make %s: %s", s->path, tmp,
		     strerror(-fd));
		return fd;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += (size_t)w;
	}
	if (flock(fd, LOCK_EX) < 0 || fdatasync(fd) < 0)
		goto fail;
	if ((err = move_aside(s->path, "bad records")) < 0) {
		errno = -err;
		goto fail;
	}
	if (rename(tmp, s->path) < 0)
		goto fail; /* the spool is aside; the next open starts a new one */
	sync_dir(s->path);
	close(s->fd); /* drops the lock on the old file */
	s->fd = fd;
	return 0;
fail:
	err = errno ? -errno : -EIO;
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: cannot replace it: %s", s->path, strerror(-err));
	close(fd);
	unlink(tmp);
	return err;
}

int gw_spool_replay(struct gw_spool *s, gw_spool_fn fn, void *arg, struct gw_spool_scan *scan)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(scan, 0, sizeof(*scan));
	if ((rc = read_all(s, &buf, &len)) < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: read: %s", s->path, strerror(-rc));
		return rc;
	}
	rc = gw_spool_parse(buf, len, fn, arg, scan);
	if (rc < 0 || !scan->tail) {
		free(buf);
		return rc;
	}
	LOGP(GW_LOG_DB, GW_LOG_ERROR,
	     "spool %s: %s at byte %zu: dropping the last %zu bytes (torn write), keeping %zu "
	     "record(s) before it",
	     s->path, scan->tail, scan->good_bytes, len - scan->good_bytes, scan->records);
	rc = renew(s, buf, scan->good_bytes);
	free(buf);
	return rc;
}

int gw_spool_clear(struct gw_spool *s)
{
	if (ftruncate(s->fd, 0) < 0 || fsync(s->fd) < 0) {
		int err = -errno;
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: cannot empty: %s", s->path,
		     strerror(-err));
		return err;
	}
	reserve(s); /* the truncate gave the reserved blocks back */
	return 0;
}
