/*
 * db_anchor: the call log's hash chain anchored outside the database, with a key the
 * database's readers do not have.
 *
 * The key is 32 random bytes in "<db>.key" (mode 0600, owner the database file's owner),
 * made by the first writer of the call log. After every commit that moved the chain head,
 * "<db>.anchor" is replaced (a new file renamed over it) by one line:
 *
 *     rinki-anchor 1 <last event id> <its hash, hex> <MAC, hex>
 *
 * the MAC being libsodium crypto_auth (HMAC-SHA-512-256) under the key over the text
 * before it. gw_db_log_verify_report() then holds the database against the anchor: a log
 * that ends before the anchored event (tail cut off, or an older copy put back), an
 * anchored event whose hash differs (the chain rewritten from there on, or rolled back and
 * written again) and, when the verifier can read the key, an anchor whose MAC does not
 * match (written by someone without the key) are all a broken log. What it cannot see:
 * the database and the anchor both put back to an older pair (keep copies of the anchor
 * elsewhere for that), or someone who holds the key.
 *
 * Every file is opened with O_NOFOLLOW|O_CLOEXEC; the key is never logged.
 */
#include "store/db_priv.h"

#include <fcntl.h>
#include <sodium.h>

#define ANCHOR_MAGIC "rinki-anchor 1"

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] == '\0' || s[2 * n] == ' ' || s[2 * n] == '\n' ? 0 : -EINVAL;
}

/* Read exactly n bytes of path (never through a link) into out. 0, -ENOENT or -errno. */
static int read_exact(const char *path, void *out, size_t n, size_t *got)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t r = read(fd, out, n);
	int err = r < 0 ? -errno : 0;
	close(fd);
	if (got)
		*got = r > 0 ? (size_t)r : 0;
	return err;
}

/* Make the key: random, 0600, owned like the database file. 0 or -errno. */
static int key_make(struct gw_db *db)
{
	uint8_t key[crypto_auth_KEYBYTES];
	struct stat st;
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(key, sizeof(key));
	int fd = open(db->key_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) < 0)
		rc = -EIO;
	if (rc == 0 && stat(db->path, &st) == 0 && geteuid() == 0 &&
	    fchown(fd, st.st_uid, st.st_gid) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0) {
		unlink(db->key_path);
		return rc;
	}
	memcpy(db->anchor_key, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	db->anchor_keyed = true;
	LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%s: made the call log's anchor key %s", db->path,
	     db->key_path);
	return 0;
}

int db_anchor_open(struct gw_db *db)
{
	size_t got = 0;
	if (asprintf(&db->key_path, "%s.key", db->path) < 0) {
		db->key_path = NULL;
		return -ENOMEM;
	}
	if (asprintf(&db->anchor_path, "%s.anchor", db->path) < 0) {
		db->anchor_path = NULL;
		return -ENOMEM;
	}
	db->anchor_last = -1;
	int rc = read_exact(db->key_path, db->anchor_key, sizeof(db->anchor_key), &got);
	db->anchor_keyed = rc == 0 && got == sizeof(db->anchor_key);
	if (rc == 0 && !db->anchor_keyed)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: %zu bytes, not a key: the anchor is not written",
		     db->key_path, got);
	return 0;
}

/* The anchor line's text before the MAC, for last_id and hash. */
static void anchor_text(int64_t last_id, const uint8_t hash[HASH_LEN], char *out, size_t len)
{
	char h[2 * HASH_LEN + 1];
	hex(hash, HASH_LEN, h);
	snprintf(out, len, "%s %lld %s", ANCHOR_MAGIC, (long long)last_id, h);
}

/* The chain head: last event id (0: none) and its hash. */
static int head_read(struct gw_db *db, int64_t *id, uint8_t hash[HASH_LEN])
{
	sqlite3_stmt *st = db->st[DB_STMT_HEAD_GET];
	int rc = sqlite3_step(st);
	*id = 0;
	memset(hash, 0, HASH_LEN);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == HASH_LEN)
			memcpy(hash, sqlite3_column_blob(st, 1), HASH_LEN);
	}
	db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "anchor: head");
}

void db_anchor_commit(struct gw_db *db)
{
	int64_t id;
	uint8_t hash[HASH_LEN], mac[crypto_auth_BYTES];
	char text[160], line[320], m[2 * crypto_auth_BYTES + 1], tmp[PATH_MAX];

	if (!db->anchor_path || head_read(db, &id, hash) < 0 || id == 0 || id == db->anchor_last)
		return;
	if (!db->anchor_keyed && key_make(db) < 0) {
		/* a reader (no key, cannot make one) does not anchor: verify says it lags */
		db->anchor_last = id;
		return;
	}
	anchor_text(id, hash, text, sizeof(text));
	crypto_auth(mac, (const unsigned char *)text, strlen(text), db->anchor_key);
	hex(mac, sizeof(mac), m);
	int n = snprintf(line, sizeof(line), "%s %s\n", text, m);
	/* one temporary name per connection: rinkid's loop and its writer thread both anchor */
	if (snprintf(tmp, sizeof(tmp), "%s.new-%ld-%p", db->anchor_path, (long)getpid(),
		     (void *)db) >= (int)sizeof(tmp))
		return;
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n || fdatasync(fd) < 0 ||
	    rename(tmp, db->anchor_path) < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: anchor not written: %s", db->anchor_path,
		     strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	db->anchor_last = id;
}

/* The hash of event id (0: no such row). */
static int event_hash(struct gw_db *db, int64_t id, uint8_t hash[HASH_LEN], bool *found)
{
	sqlite3_stmt *st = db->st[DB_STMT_EVENT_HASH];
	db_bind_i64(st, "$id", id);
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == HASH_LEN;
	if (*found)
		memcpy(hash, sqlite3_column_blob(st, 0), HASH_LEN);
	db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, rc, "anchor: event");
}

int db_anchor_check(struct gw_db *db, struct gw_db_verify *v)
{
	char line[400], text[160], *sp;
	uint8_t hash[HASH_LEN], want[HASH_LEN], mac[crypto_auth_BYTES];
	size_t got = 0;
	long long aid;
	int64_t head_id;
	bool found;
	int rc;

	v->anchor = GW_DB_ANCHOR_NONE;
	memset(line, 0, sizeof(line));
	rc = read_exact(db->anchor_path, line, sizeof(line) - 1, &got);
	if (rc == -ENOENT && !db->anchor_keyed)
		return 0; /* never anchored */
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == -ENOENT) {
		v->reason = "anchor: the key exists but the anchor file is missing (removed)";
		return 1;
	}
	if (strncmp(line, ANCHOR_MAGIC " ", strlen(ANCHOR_MAGIC) + 1) != 0 ||
	    sscanf(line + strlen(ANCHOR_MAGIC), "%lld", &aid) != 1 || aid <= 0 ||
	    !(sp = strchr(line + strlen(ANCHOR_MAGIC) + 1, ' ')) ||
	    unhex(sp + 1, hash, HASH_LEN) < 0 || sp[1 + 2 * HASH_LEN] != ' ' ||
	    unhex(sp + 2 + 2 * HASH_LEN, mac, sizeof(mac)) < 0) {
		v->reason = "anchor: the anchor file is not one rinki wrote";
		return 1;
	}
	v->anchor_id = aid;
	if (db->anchor_keyed) {
		anchor_text(aid, hash, text, sizeof(text));
		if (crypto_auth_verify(mac, (const unsigned char *)text, strlen(text),
				       db->anchor_key) != 0) {
			v->reason = "anchor: its MAC does not match (not written with the key)";
			return 1;
		}
	}
	if ((rc = head_read(db, &head_id, want)) < 0 ||
	    (rc = event_hash(db, aid, want, &found)) < 0)
		return rc;
	if (!found || head_id < aid) {
		v->bad_event = aid;
		v->reason = "anchor: the log ends before the anchored event (the tail was cut off, "
			    "or an older copy put back)";
		return 1;
	}
	if (memcmp(want, hash, HASH_LEN) != 0) {
		v->bad_event = aid;
		v->reason = "anchor: the anchored event's hash differs (the chain was rewritten or "
			    "rolled back)";
		return 1;
	}
	v->anchor = !db->anchor_keyed ? GW_DB_ANCHOR_UNKEYED
		    : head_id > aid   ? GW_DB_ANCHOR_BEHIND
				      : GW_DB_ANCHOR_OK;
	return 0;
}
