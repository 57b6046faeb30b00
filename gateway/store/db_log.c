/*
 * db_log: the hash-chained call log on the connection of db.c: incidents and their events,
 * every write described once as a spool record and applied by one function (or spooled
 * when the database cannot take it), spool replay, chain verification, system events, the
 * monthly report and retention. See db.c's opening comment for the chain and the spool.
 */
#include "store/db_priv.h"

#include "core/event.h"

/* ---- hash chain ---------------------------------------------------------------------- */

/* One incident_events row as hashed; text with its exact byte length. */
struct ev_row {
	int64_t id, incident, t_ms; /* incident 0: a system event (SQL NULL) */
	const char *kind;
	size_t kind_len;
	const char *detail; /* NULL: SQL NULL */
	size_t detail_len;
	const uint8_t *detail_hash; /* encoding v3: SHA-256(detail), NULL when never had one */
};

/* Read id, incident, t_ms, kind, detail from columns 0..4. */
static void ev_row_read(sqlite3_stmt *st, struct ev_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->incident = sqlite3_column_int64(st, 1);
	r->t_ms = sqlite3_column_int64(st, 2);
	r->kind = db_col_text(st, 3);
	r->kind_len = (size_t)sqlite3_column_bytes(st, 3);
	if (!r->kind)
		r->kind = "";
	r->detail = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : db_col_text(st, 4);
	r->detail_len = r->detail ? (size_t)sqlite3_column_bytes(st, 4) : 0;
}

static int md_u64(EVP_MD_CTX *md, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	return EVP_DigestUpdate(md, b, sizeof(b));
}

/* SHA-256 of n bytes at p. 0 or -EIO. */
static int sha256(struct gw_db *db, const void *p, size_t n, uint8_t out[HASH_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestInit_ex(db->md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(db->md, p, n) != 1 || EVP_DigestFinal_ex(db->md, out, &len) != 1 ||
	    len != HASH_LEN) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: SHA-256 failed", db->path);
		return -EIO;
	}
	return 0;
}

/*
 * The hash of one event row: SHA-256 over
 *	tag | prev (32 bytes) | id | incident | t_ms (u64 big-endian each) |
 *	u64 len(kind) | kind | detail part
 * Encoding v2 (tag "rinki-event-v2\0", rows before chain_meta.v3_from): detail part =
 *	u8 0 (detail NULL) or u8 1 | u64 len(detail) | detail
 * Encoding v3 (tag "rinki-event-v3\0"): detail part =
 *	u8 0 (no detail was ever written) or u8 1 | SHA-256(detail) (32 bytes)
 * so blanking a message body (retention) leaves the row's hash valid; the stored
 * detail_hash is then checked against the detail whenever the detail is there.
 * Every field has a fixed width or a length prefix, so no two rows encode alike.
 */
int db_event_hash(struct gw_db *db, const struct ev_row *r, bool v3, const uint8_t *prev,
		  uint8_t out[HASH_LEN])
{
	static const char tag2[] = "rinki-event-v2", tag3[] = "rinki-event-v3";
	static const uint8_t null_mark = 0, text_mark = 1;
	EVP_MD_CTX *md = db->md;
	unsigned int n = 0;
	int ok;

	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	ok = ok && EVP_DigestUpdate(md, v3 ? tag3 : tag2, sizeof(tag2)) == 1;
	ok = ok && EVP_DigestUpdate(md, prev, HASH_LEN) == 1;
	ok = ok && md_u64(md, (uint64_t)r->id) == 1 && md_u64(md, (uint64_t)r->incident) == 1 &&
	     md_u64(md, (uint64_t)r->t_ms) == 1;
	ok = ok && md_u64(md, r->kind_len) == 1 && EVP_DigestUpdate(md, r->kind, r->kind_len) == 1;
	if (v3 && r->detail_hash)
		ok = ok && EVP_DigestUpdate(md, &text_mark, 1) == 1 &&
		     EVP_DigestUpdate(md, r->detail_hash, HASH_LEN) == 1;
	else if (!v3 && r->detail)
		ok = ok && EVP_DigestUpdate(md, &text_mark, 1) == 1 &&
		     md_u64(md, r->detail_len) == 1 &&
		     EVP_DigestUpdate(md, r->detail, r->detail_len) == 1;
	else
		ok = ok && EVP_DigestUpdate(md, &null_mark, 1) == 1;
	ok = ok && EVP_DigestFinal_ex(md, out, &n) == 1 && n == HASH_LEN;
	if (!ok) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: SHA-256 failed", db->path);
		return -EIO;
	}
	return 0;
}

/* Migration to v2: chain the rows a v1 database already has, in id order. */
int db_chain_existing(struct gw_db *db)
{
	static const char sel_sql[] =
	    "SELECT id, incident, t_ms, kind, detail FROM incident_events ORDER BY id";
	static const char upd_sql[] =
	    "UPDATE incident_events SET prev_hash = ?1, hash = ?2 WHERE id = ?3";
	static const char head_sql[] =
	    "INSERT INTO chain_head (one, last_id, hash) VALUES (1, ?1, ?2)";
	sqlite3_stmt *sel = NULL, *upd = NULL, *head = NULL;
	uint8_t prev[HASH_LEN] = {0}, h[HASH_LEN];
	int64_t n = 0, last = 0;
	int rc, s;

	if ((s = sqlite3_prepare_v2(db->h, sel_sql, -1, &sel, NULL)) != SQLITE_OK ||
	    (s = sqlite3_prepare_v2(db->h, upd_sql, -1, &upd, NULL)) != SQLITE_OK ||
	    (s = sqlite3_prepare_v2(db->h, head_sql, -1, &head, NULL)) != SQLITE_OK) {
		rc = db_fail(db, s, "prepare chain migration");
		goto out;
	}
	rc = 0;
	while ((s = sqlite3_step(sel)) == SQLITE_ROW) {
		struct ev_row r;
		ev_row_read(sel, &r);
		if ((rc = db_event_hash(db, &r, false, prev, h)) < 0)
			goto out;
		sqlite3_bind_blob(upd, 1, prev, HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(upd, 2, h, HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(upd, 3, r.id);
		if ((s = sqlite3_step(upd)) != SQLITE_DONE) {
			rc = db_fail(db, s, upd_sql);
			goto out;
		}
		sqlite3_reset(upd);
		memcpy(prev, h, HASH_LEN);
		last = r.id;
		n++;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, s, sel_sql);
		goto out;
	}
	if (n > 0) {
		sqlite3_bind_int64(head, 1, last);
		sqlite3_bind_blob(head, 2, prev, HASH_LEN, SQLITE_STATIC);
		if ((s = sqlite3_step(head)) != SQLITE_DONE) {
			rc = db_fail(db, s, head_sql);
			goto out;
		}
	}
	LOGP(GW_LOG_DB, GW_LOG_INFO, "%s: hash chain computed over %lld existing event(s)",
	     db->path, (long long)n);
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(head);
	return rc;
}

/* The chain head (last event id and its hash); id 0 and zero hash when there is none. */
static int head_get(struct gw_db *db, int64_t *id, uint8_t hash[HASH_LEN], bool *found)
{
	sqlite3_stmt *st = db->st[DB_STMT_HEAD_GET];
	int rc = sqlite3_step(st);

	*id = 0;
	memset(hash, 0, HASH_LEN);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);
		*id = sqlite3_column_int64(st, 0);
		if (b)
			memcpy(hash, b, n < HASH_LEN ? (size_t)n : HASH_LEN);
	}
	db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, rc, db_stmt_sql[DB_STMT_HEAD_GET]);
	return 0;
}

/* Append one event to the chain: next id, prev = the head's hash, then move the head. */
static int event_insert(struct gw_db *db, int64_t incident, int64_t t_ms, const char *kind,
			const char *detail)
{
	sqlite3_stmt *st = db->st[DB_STMT_EVENT_INSERT];
	struct ev_row r = {
	    .incident = incident,
	    .t_ms = t_ms,
	    .kind = kind,
	    .kind_len = strlen(kind),
	    .detail = detail,
	    .detail_len = detail ? strlen(detail) : 0,
	};
	uint8_t prev[HASH_LEN], h[HASH_LEN], dh[HASH_LEN];
	int64_t head_id;
	bool found;
	int rc;

	if (detail) {
		if ((rc = sha256(db, detail, r.detail_len, dh)) < 0)
			return rc;
		r.detail_hash = dh;
	}
	if ((rc = db_run_i64(db, DB_STMT_EVENT_NEXT_ID, &r.id)) < 0 ||
	    (rc = head_get(db, &head_id, prev, &found)) < 0 ||
	    (rc = db_event_hash(db, &r, r.id >= db->v3_from, prev, h)) < 0)
		return rc;
	db_bind_i64(st, "$id", r.id);
	if (incident > 0)
		db_bind_i64(st, "$incident", incident);
	else
		sqlite3_bind_null(st, db_param(st, "$incident"));
	db_bind_i64(st, "$t", t_ms);
	db_bind_text(st, "$kind", kind);
	db_bind_text(st, "$detail", detail);
	db_bind_blob(st, "$prev", prev, HASH_LEN);
	db_bind_blob(st, "$hash", h, HASH_LEN);
	if (detail)
		db_bind_blob(st, "$dhash", dh, HASH_LEN);
	else
		sqlite3_bind_null(st, db_param(st, "$dhash"));
	if ((rc = db_run(db, DB_STMT_EVENT_INSERT)) < 0)
		return rc;
	st = db->st[DB_STMT_HEAD_SET];
	db_bind_i64(st, "$id", r.id);
	db_bind_blob(st, "$hash", h, HASH_LEN);
	rc = db_run(db, DB_STMT_HEAD_SET);
	return rc < 0 ? rc : 1;
}

/* ---- call log ------------------------------------------------------------------------ */

static void open_detail(const char *caller, const char *caller_name, const char *line, int cci,
			char *buf, size_t len)
{
	snprintf(buf, len, "caller %s (%s) line %s cci %d", caller,
		 caller_name ? caller_name : "unknown", line ? line : "-", cci);
}

static void close_detail(const char *outcome, bool has_cause, int cause, const char *accepted_by,
			 char *buf, size_t len)
{
	if (has_cause)
		snprintf(buf, len, "outcome %s cause %d accepted by %s", outcome, cause,
			 accepted_by ? accepted_by : "nobody");
	else
		snprintf(buf, len, "outcome %s accepted by %s", outcome,
			 accepted_by ? accepted_by : "nobody");
}

#define INTERRUPTED_DETAIL "open at restart"

/* Close every open incident with an id below "below" as interrupted. Returns how many. */
static int mark(struct gw_db *db, int64_t below, int64_t now_ms)
{
	sqlite3_stmt *st = db->st[DB_STMT_OPEN_BELOW];
	int rc = 0, s;

	db_bind_i64(st, "$below", below);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = event_insert(db, sqlite3_column_int64(st, 0), now_ms, "interrupted",
				  INTERRUPTED_DETAIL);
		if (rc < 0)
			break;
	}
	db_done(st);
	if (rc < 0)
		return rc;
	if (s != SQLITE_DONE)
		return db_fail(db, s, db_stmt_sql[DB_STMT_OPEN_BELOW]);
	st = db->st[DB_STMT_INTERRUPTED_CLOSE];
	db_bind_i64(st, "$now", now_ms);
	db_bind_i64(st, "$below", below);
	return db_run(db, DB_STMT_INTERRUPTED_CLOSE);
}

/*
 * Apply one call-log write inside the caller's transaction. The one place that turns a
 * record into rows, for direct writes and spool replay alike. Returns >= 0 or -errno.
 */
static int apply(struct gw_db *db, const struct gw_spool_rec *rec)
{
	char detail[256];
	sqlite3_stmt *st;
	int rc;

	switch (rec->type) {
	case GW_SPOOL_OPEN:
		st = db->st[DB_STMT_INCIDENT_INSERT];
		db_bind_i64(st, "$id", rec->incident);
		db_bind_i64(st, "$started", rec->t_ms);
		db_bind_text(st, "$caller", rec->caller);
		db_bind_text(st, "$caller_name", rec->caller_name);
		db_bind_text(st, "$line", rec->line);
		db_bind_i64(st, "$cci", rec->num);
		if ((rc = db_run(db, DB_STMT_INCIDENT_INSERT)) < 0)
			return rc;
		open_detail(rec->caller, rec->caller_name, rec->line, rec->num, detail,
			    sizeof(detail));
		return event_insert(db, rec->incident, rec->t_ms, "open", detail);
	case GW_SPOOL_EVENT:
		return event_insert(db, rec->incident, rec->t_ms, rec->kind, rec->detail);
	case GW_SPOOL_CLOSE:
		st = db->st[DB_STMT_INCIDENT_CLOSE];
		db_bind_i64(st, "$id", rec->incident);
		db_bind_i64(st, "$ended", rec->t_ms);
		db_bind_text(st, "$outcome", rec->outcome);
		if (rec->num >= 0)
			db_bind_i64(st, "$cause", rec->num);
		else
			sqlite3_bind_null(st, db_param(st, "$cause"));
		db_bind_text(st, "$accepted_by", rec->accepted_by);
		rc = db_run(db, DB_STMT_INCIDENT_CLOSE);
		if (rc == 0) {
			LOGP(GW_LOG_DB, GW_LOG_WARN, "close incident %lld: not open",
			     (long long)rec->incident);
			return -ENOENT;
		}
		if (rc < 0)
			return rc;
		close_detail(rec->outcome, rec->num >= 0, rec->num, rec->accepted_by, detail,
			     sizeof(detail));
		return event_insert(db, rec->incident, rec->t_ms, "close", detail);
	case GW_SPOOL_MARK:
		return mark(db, rec->incident, rec->t_ms);
	case GW_SPOOL_SYS:
		return event_insert(db, 0, rec->t_ms, rec->kind, rec->detail);
	}
	return -EINVAL;
}

/* The id of a new incident: after every id in the file and every id this connection gave. */
static int alloc_incident(struct gw_db *db, int64_t *id)
{
	int64_t next;
	int rc = db_run_i64(db, DB_STMT_INCIDENT_NEXT_ID, &next);

	if (rc < 0)
		return rc;
	*id = next > db->next_incident ? next : db->next_incident;
	return 0;
}

/* Keep a copy of a write made in the open batch transaction, to spool it if the batch fails. */
static void batch_keep(struct gw_db *db, const struct gw_spool_rec *rec)
{
	size_t need = db->blen + GW_SPOOL_HDR + GW_SPOOL_PAYLOAD_MAX;
	int n;

	if (need > db->bcap) {
		size_t cap = db->bcap ? db->bcap * 2 : 4 * need;
		uint8_t *p = realloc(db->bbuf, cap > need ? cap : need);
		if (!p) {
			db->bbuf_lost = true;
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: no memory to keep a batch record",
			     db->path);
			return;
		}
		db->bbuf = p;
		db->bcap = cap > need ? cap : need;
	}
	n = gw_spool_encode(rec, db->bbuf + db->blen, db->bcap - db->blen);
	if (n < 0) {
		db->bbuf_lost = true;
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: cannot keep a batch record: %s", db->path,
		     strerror(-n));
		return;
	}
	db->blen += (size_t)n;
}

static int spool_append_cb(const struct gw_spool_rec *rec, void *arg)
{
	return gw_spool_append(arg, rec);
}

/*
 * Put rec (may be NULL), and before it when flush_batch the writes of the failed batch
 * transaction, into the spool. From then on every call-log write goes there, in order,
 * until gw_db_spool_replay() has emptied it. Returns 0 or -errno (the write is lost).
 */
/* The call log starts or stops going to the spool: a "db" line of the event stream; when
   it stops because the spool was replayed, with what the replay did (counts >= 0). */
static void emit_spooling(const struct gw_db *db, bool on, int applied, int already, int dropped)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "db");
	gw_event_bool(&e, "spooling", on);
	gw_event_str(&e, "spool", db->spool_path);
	if (applied >= 0) {
		gw_event_bool(&e, "replayed", true);
		gw_event_int(&e, "applied", applied);
		gw_event_int(&e, "already", already);
		gw_event_int(&e, "dropped", dropped);
	}
	gw_event_emit(&e);
}

static int spool_put(struct gw_db *db, const struct gw_spool_rec *rec, bool flush_batch)
{
	struct gw_spool_scan scan;
	struct gw_spool *s;
	int rc = gw_spool_open(db->spool_path, true, &s);

	if (rc >= 0 && flush_batch && db->bbuf_lost)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: a write of the failed batch was not kept: lost",
		     db->path);
	if (rc >= 0 && flush_batch && db->blen)
		rc = gw_spool_parse(db->bbuf, db->blen, spool_append_cb, s, &scan);
	if (rc >= 0 && rec)
		rc = gw_spool_append(s, rec);
	gw_spool_close(s);
	if (flush_batch) {
		db->blen = 0;
		db->bbuf_lost = false;
	}
	if (rc < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR,
		     "%s: call-log write LOST: neither the database nor the spool %s took it (%s)",
		     db->path, db->spool_path, strerror(-rc));
		return rc;
	}
	if (!db->spool_pending) {
		LOGP(GW_LOG_DB, GW_LOG_WARN,
		     "%s: database unavailable: call-log writes go to %s until it works again",
		     db->path, db->spool_path);
		emit_spooling(db, true, -1, 0, 0);
	}
	db->spool_pending = true;
	return 0;
}

/* Roll back the whole batch transaction (not just the last write's savepoint). */
static void batch_abandon(struct gw_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		db_run(db, DB_STMT_ROLLBACK);
	db->batch_tx = false;
}

/*
 * In WAL mode SQLite goes on writing to a database file that was renamed or deleted (the
 * writes would be lost with the inode): check the name still leads to our file.
 */
static bool db_moved(struct gw_db *db)
{
	int moved = 0;

	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK ||
	    !moved)
		return false;
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: the database file was moved or deleted", db->path);
	db->unavailable = db->gone = true;
	return true;
}

/* The id incident has now: a spooled incident renumbered at replay has a new one. */
static int64_t renumbered(const struct gw_db *db, int64_t incident)
{
	for (size_t i = 0; i < db->nrenum; i++)
		if (db->renum[2 * i] == incident)
			return db->renum[2 * i + 1];
	return incident;
}

/* A write neither the database nor the spool took: told later by a "gap" event. */
static void note_lost(struct gw_db *db, int64_t t_ms)
{
	if (db->lost_n++ == 0)
		db->lost_from_ms = t_ms;
	db->lost_to_ms = t_ms;
}

/*
 * Writes were lost: before the next write, a system event "gap" in the chain saying how
 * many and when (its own key: a fresh origin). Kept for later when it cannot be made now.
 */
static void gap_write(struct gw_db *db, int64_t t_ms)
{
	char detail[160];
	struct gw_spool_rec g = {.type = GW_SPOOL_SYS,
				 .origin = 0,
				 .seq = 1,
				 .t_ms = t_ms,
				 .kind = "gap",
				 .detail = detail};

	if (!db->lost_n || db->in_gap)
		return;
	if (getrandom(&g.origin, sizeof(g.origin), GRND_NONBLOCK) != (ssize_t)sizeof(g.origin) ||
	    !g.origin)
		g.origin = ((uint64_t)t_ms << 16) ^ (uint64_t)getpid() ^ db->lost_n;
	snprintf(detail, sizeof(detail),
		 "%llu call-log write(s) lost between %lld and %lld (ms since the epoch): "
		 "neither the database nor the spool took them",
		 (unsigned long long)db->lost_n, (long long)db->lost_from_ms,
		 (long long)db->lost_to_ms);
	db->in_gap = true;
	int rc = db_log_write_keyed(db, &g);
	db->in_gap = false;
	if (rc >= 0) {
		LOGP(GW_LOG_DB, GW_LOG_WARN, "%s: gap event written: %s", db->path, detail);
		db->lost_n = 0;
	}
}

/*
 * One call-log write with its key already set: to the database, or to the spool when the
 * spool already holds records (order) or the database cannot take it now. An OPEN without
 * an id gets one here.
 */
int db_log_write_keyed(struct gw_db *db, struct gw_spool_rec *rec)
{
	bool flush = false;
	int rc = 0;

	gap_write(db, rec->t_ms);
	if (rec->type == GW_SPOOL_EVENT || rec->type == GW_SPOOL_CLOSE)
		rec->incident = renumbered(db, rec->incident);
	db->unavailable = false;
	if (!db->spool_pending) {
		if (!db->batch_tx && db_moved(db))
			rc = -ENOENT;
		else if ((rc = db_tx_begin(db)) >= 0) {
			if (rec->type == GW_SPOOL_OPEN && rec->incident <= 0)
				rc = alloc_incident(db, &rec->incident);
			if (rc >= 0)
				rc = apply(db, rec);
			rc = db_tx_end(db, rc);
		}
		if (rc >= 0 && db->batch_tx)
			batch_keep(db, rec);
		if (rc >= 0 || !db->unavailable)
			goto out;
		LOGP(GW_LOG_DB, GW_LOG_WARN, "%s: call-log write not taken (%s): spooling it",
		     db->path, strerror(-rc));
		if (db->batch_tx) {
			batch_abandon(db);
			flush = true;
		}
	}
	if (rec->type == GW_SPOOL_OPEN && rec->incident <= 0)
		rec->incident = db->next_incident;
	if (rec->type == GW_SPOOL_MARK)
		rec->incident = db->next_incident;
	rc = spool_put(db, rec, flush);
	if (rc < 0 && !db->in_gap) /* a gap event not made is made later, not counted */
		note_lost(db, rec->t_ms);
	if (rc >= 0 && rec->type == GW_SPOOL_MARK)
		rc = 0; /* how many is known only at replay */
out:
	if (rc >= 0 && rec->type == GW_SPOOL_OPEN && rec->incident >= db->next_incident)
		db->next_incident = rec->incident + 1;
	return rc;
}

/*
 * One call-log write of this connection: keyed (origin, next seq), then written here, or,
 * with a writer thread, given an incident id here (an OPEN) and handed to the writer.
 */
static int log_write(struct gw_db *db, struct gw_spool_rec *rec)
{
	rec->origin = db->origin;
	rec->seq = ++db->seq;
	if (!db->w)
		return db_log_write_keyed(db, rec);
	if (rec->type == GW_SPOOL_OPEN)
		rec->incident = db->next_incident++;
	if (db->lost_n) { /* the queue refused earlier writes: the gap goes in first */
		char detail[160];
		struct gw_spool_rec g = {.type = GW_SPOOL_SYS,
					 .origin = db->origin,
					 .seq = rec->seq,
					 .t_ms = rec->t_ms,
					 .kind = "gap",
					 .detail = detail};
		snprintf(detail, sizeof(detail),
			 "%llu call-log write(s) lost between %lld and %lld (ms since the "
			 "epoch): the writer queue did not take them",
			 (unsigned long long)db->lost_n, (long long)db->lost_from_ms,
			 (long long)db->lost_to_ms);
		if (db_writer_put(db->w, &g) >= 0) {
			db->lost_n = 0;
			rec->seq = ++db->seq;
		}
	}
	int rc = db_writer_put(db->w, rec);
	if (rc < 0)
		note_lost(db, rec->t_ms);
	return rc;
}

int gw_db_incident_open(struct gw_db *db, const struct gw_incident_rec *rec, int64_t *id_out)
{
	struct gw_spool_rec r = {
	    .type = GW_SPOOL_OPEN,
	    .t_ms = rec->started_ms,
	    .num = rec->radio_cci,
	    .caller = rec->caller,
	    .caller_name = rec->caller_name,
	    .line = rec->line,
	};
	int rc;

	assert(rec && rec->caller && id_out);
	if ((rc = log_write(db, &r)) < 0)
		return rc;
	*id_out = r.incident;
	return 0;
}

int gw_db_event_append(struct gw_db *db, int64_t incident, int64_t t_ms, const char *kind,
		       const char *detail)
{
	struct gw_spool_rec r = {
	    .type = GW_SPOOL_EVENT,
	    .incident = incident,
	    .t_ms = t_ms,
	    .kind = kind,
	    .detail = detail,
	};
	int rc;

	assert(kind);
	if (incident <= 0)
		return -ENOENT;
	rc = log_write(db, &r);
	return rc < 0 ? rc : 0;
}

int gw_db_incident_close(struct gw_db *db, int64_t incident, int64_t ended_ms, const char *outcome,
			 int cause, const char *accepted_by)
{
	struct gw_spool_rec r = {
	    .type = GW_SPOOL_CLOSE,
	    .incident = incident,
	    .t_ms = ended_ms,
	    .num = cause < 0 ? -1 : cause,
	    .outcome = outcome,
	    .accepted_by = accepted_by,
	};
	int rc;

	assert(outcome);
	if (incident <= 0)
		return -ENOENT;
	rc = log_write(db, &r);
	return rc < 0 ? rc : 0;
}

int gw_db_mark_interrupted(struct gw_db *db, int64_t now_ms)
{
	struct gw_spool_rec r = {.type = GW_SPOOL_MARK, .incident = INT64_MAX, .t_ms = now_ms};
	int rc = log_write(db, &r);

	if (rc > 0)
		LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%s: %d incident(s) left open marked interrupted",
		     db->path, rc);
	return rc;
}

int gw_db_batch_begin(struct gw_db *db)
{
	int rc;

	if (db->batch)
		return -EBUSY;
	if (db->w) { /* the writer groups what it finds queued */
		db->batch = true;
		return 0;
	}
	db->blen = 0;
	db->bbuf_lost = false;
	if (!db->spool_pending) {
		db->unavailable = false;
		rc = db_run(db, DB_STMT_BEGIN);
		if (rc >= 0)
			db->batch_tx = true;
		else if (!db->unavailable)
			return rc;
		/* Unavailable: each write of the batch tries on its own, then spools. */
	}
	db->batch = true;
	return 0;
}

int gw_db_batch_commit(struct gw_db *db)
{
	int rc;

	if (!db->batch)
		return -EINVAL;
	db->batch = false;
	if (db->w || !db->batch_tx)
		return 0;
	db->batch_tx = false;
	db->unavailable = false;
	rc = db_run(db, DB_STMT_COMMIT);
	if (rc >= 0) {
		db->blen = 0;
		db_anchor_commit(db);
		return 0;
	}
	if (!sqlite3_get_autocommit(db->h))
		db_run(db, DB_STMT_ROLLBACK);
	if (db->unavailable)
		return spool_put(db, NULL, true);
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: batch commit failed: its writes are lost", db->path);
	db->blen = 0;
	return rc;
}

/* ---- spool replay -------------------------------------------------------------------- */

struct replay {
	struct gw_db *db;
	int applied, skipped, dropped;
};

static const char *const rec_names[] = {
    [GW_SPOOL_OPEN] = "open",	     [GW_SPOOL_EVENT] = "event",
    [GW_SPOOL_CLOSE] = "close",	     [GW_SPOOL_MARK] = "mark-interrupted",
    [GW_SPOOL_SYS] = "system event",
};

/* Give the spooled OPEN rec a new id (after the database's and this connection's), kept
   for its later records, spooled or not. 0 or -errno. */
static int renumber(struct gw_db *db, struct gw_spool_rec *rec)
{
	int64_t id;
	int rc = db_run(db, DB_STMT_ROLLBACK_TO);
	if (rc < 0 || (rc = alloc_incident(db, &id)) < 0)
		return rc;
	int64_t *p = realloc(db->renum, (db->nrenum + 1) * 2 * sizeof(*p));
	if (!p)
		return -ENOMEM;
	db->renum = p;
	p[2 * db->nrenum] = rec->incident;
	p[2 * db->nrenum + 1] = id;
	db->nrenum++;
	LOGP(GW_LOG_DB, GW_LOG_WARN,
	     "spool %s: incident %lld: the database has another incident with that id; "
	     "it is incident %lld now",
	     db->spool_path, (long long)rec->incident, (long long)id);
	rec->incident = id;
	return 0;
}

/* Apply one spooled record unless its key says it was applied before. 0 or -errno (stop). */
static int replay_one(const struct gw_spool_rec *rec, void *arg)
{
	struct replay *r = arg;
	struct gw_db *db = r->db;
	sqlite3_stmt *st = db->st[DB_STMT_APPLIED_CHECK];
	int64_t seen = 0;
	int rc;

	db_bind_i64(st, "$origin", (int64_t)rec->origin);
	db_bind_i64(st, "$seq", (int64_t)rec->seq);
	if ((rc = db_run_i64(db, DB_STMT_APPLIED_CHECK, &seen)) < 0)
		return rc;
	if (seen) {
		r->skipped++;
		return 0;
	}
	if ((rc = db_run(db, DB_STMT_SAVEPOINT)) < 0)
		return rc;
	struct gw_spool_rec rr = *rec;
	if (rr.type == GW_SPOOL_EVENT || rr.type == GW_SPOOL_CLOSE)
		rr.incident = renumbered(db, rr.incident);
	rc = apply(db, &rr);
	if (rc == -EEXIST && rr.type == GW_SPOOL_OPEN) {
		/* the database holds another incident with this id (a file put back or
		   replaced while rinkid spooled): the spooled one gets the next free id */
		rc = renumber(db, &rr);
		if (rc >= 0)
			rc = apply(db, &rr);
	}
	rec = &rr;
	if (rc < 0 && db->unavailable)
		return rc; /* the caller rolls the whole replay back */
	if (rc < 0) {
		db_run(db, DB_STMT_ROLLBACK_TO);
		LOGP(GW_LOG_DB, GW_LOG_ERROR,
		     "spool %s: %s record for incident %lld at %lld dropped: %s", db->spool_path,
		     rec_names[rec->type], (long long)rec->incident, (long long)rec->t_ms,
		     strerror(-rc));
		r->dropped++;
	} else {
		r->applied++;
	}
	if ((rc = db_run(db, DB_STMT_RELEASE)) < 0)
		return rc;
	st = db->st[DB_STMT_APPLIED_INSERT];
	db_bind_i64(st, "$origin", (int64_t)rec->origin);
	db_bind_i64(st, "$seq", (int64_t)rec->seq);
	if ((rc = db_run(db, DB_STMT_APPLIED_INSERT)) < 0)
		return rc;
	/* queued writes of the same run that reached the spool are not committed again */
	if ((rc = db_queue_applied_set(db, rec->origin, rec->seq)) < 0)
		return rc;
	if (rec->type == GW_SPOOL_OPEN && rec->incident >= db->next_incident)
		db->next_incident = rec->incident + 1;
	return 0;
}

int gw_db_spool_replay(struct gw_db *db)
{
	struct replay r = {.db = db};
	struct gw_spool_scan scan;
	struct gw_spool *s;
	int rc;

	if (db->w) {
		db_writer_replay(db->w);
		return 0;
	}
	if (!db->spool_pending)
		return 0;
	if (db->batch)
		return -EBUSY;
	db->unavailable = false;
	if (db->gone && (rc = db_reconnect(db)) < 0)
		return rc;
	rc = gw_spool_open(db->spool_path, false, &s);
	if (rc == -ENOENT) {
		db->spool_pending = false;
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = db_run(db, DB_STMT_BEGIN)) >= 0) {
		rc = gw_spool_replay(s, replay_one, &r, &scan);
		if (rc >= 0)
			rc = db_run(db, DB_STMT_COMMIT);
		if (rc >= 0)
			db_anchor_commit(db);
		if (rc < 0 && !sqlite3_get_autocommit(db->h))
			db_run(db, DB_STMT_ROLLBACK);
	}
	if (rc >= 0)
		rc = gw_spool_clear(s);
	if (rc >= 0) {
		db->spool_pending = false;
		emit_spooling(db, false, r.applied, r.skipped, r.dropped);
		/* Every key there belonged to a record now gone from the file. */
		db_run(db, DB_STMT_APPLIED_CLEAR);
		LOGP(GW_LOG_DB, GW_LOG_NOTICE,
		     "%s: spool replayed: %d record(s) applied, %d already there, %d dropped",
		     db->path, r.applied, r.skipped, r.dropped);
		rc = r.applied;
	} else {
		LOGP(GW_LOG_DB, GW_LOG_INFO, "%s: spool kept (%s): will retry", db->path,
		     strerror(-rc));
	}
	gw_spool_close(s);
	return rc;
}

bool gw_db_spool_pending(const struct gw_db *db)
{
	return db->w ? db_writer_spool_pending(db->w) : db->spool_pending;
}

int db_queue_applied_get(struct gw_db *db, uint64_t origin, int64_t *seq)
{
	db_bind_i64(db->st[DB_STMT_QUEUE_APPLIED_GET], "$origin", (int64_t)origin);
	return db_run_i64(db, DB_STMT_QUEUE_APPLIED_GET, seq);
}

int db_queue_applied_set(struct gw_db *db, uint64_t origin, uint64_t seq)
{
	sqlite3_stmt *st = db->st[DB_STMT_QUEUE_APPLIED_SET];
	db_bind_i64(st, "$origin", (int64_t)origin);
	db_bind_i64(st, "$seq", (int64_t)seq);
	int rc = db_run(db, DB_STMT_QUEUE_APPLIED_SET);
	return rc < 0 ? rc : 0;
}

static void incident_from_row(sqlite3_stmt *st, struct gw_db_incident *inc)
{
	memset(inc, 0, sizeof(*inc));
	inc->id = sqlite3_column_int64(st, 0);
	inc->started_ms = sqlite3_column_int64(st, 1);
	inc->ended = sqlite3_column_type(st, 2) != SQLITE_NULL;
	inc->ended_ms = sqlite3_column_int64(st, 2);
	inc->caller = db_col_text(st, 3);
	inc->caller_name = db_col_text(st, 4);
	inc->line = db_col_text(st, 5);
	inc->radio_cci = sqlite3_column_int(st, 6);
	inc->outcome = db_col_text(st, 7);
	inc->has_cause = sqlite3_column_type(st, 8) != SQLITE_NULL;
	inc->cause = sqlite3_column_int(st, 8);
	inc->accepted_by = db_col_text(st, 9);
	if (!inc->caller)
		inc->caller = "";
}

/* Step a row-returning statement, calling row() per row. Returns the row count or -errno. */
int db_each_row(struct gw_db *db, enum db_stmt id, void (*row)(sqlite3_stmt *, void *), void *arg)
{
	sqlite3_stmt *st = db->st[id];
	int n = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row(st, arg);
		n++;
	}
	db_done(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, db_stmt_sql[id]);
	return n;
}

struct incident_cb {
	gw_db_incident_fn fn;
	gw_db_event_fn efn;
	void *arg;
};

static void incident_row(sqlite3_stmt *st, void *arg)
{
	struct incident_cb *cb = arg;
	struct gw_db_incident inc;

	incident_from_row(st, &inc);
	cb->fn(&inc, cb->arg);
}

static void event_row(sqlite3_stmt *st, void *arg)
{
	struct incident_cb *cb = arg;
	struct gw_db_event ev = {
	    .id = sqlite3_column_int64(st, 0),
	    .t_ms = sqlite3_column_int64(st, 1),
	    .kind = db_col_text(st, 2),
	    .detail = db_col_text(st, 3),
	    .removed = sqlite3_column_type(st, 3) == SQLITE_NULL && sqlite3_column_int(st, 4),
	};
	if (!ev.kind)
		ev.kind = "";
	cb->efn(&ev, cb->arg);
}

int gw_db_incident_list(struct gw_db *db, int limit, gw_db_incident_fn fn, void *arg)
{
	struct incident_cb cb = {.fn = fn, .arg = arg};

	assert(fn && limit > 0);
	db_bind_i64(db->st[DB_STMT_INCIDENT_LIST], "$limit", limit);
	return db_each_row(db, DB_STMT_INCIDENT_LIST, incident_row, &cb);
}

int gw_db_incident_get(struct gw_db *db, int64_t id, gw_db_incident_fn fn, void *arg)
{
	struct incident_cb cb = {.fn = fn, .arg = arg};
	int n;

	assert(fn);
	db_bind_i64(db->st[DB_STMT_INCIDENT_GET], "$id", id);
	n = db_each_row(db, DB_STMT_INCIDENT_GET, incident_row, &cb);
	if (n < 0)
		return n;
	return n == 0 ? -ENOENT : 0;
}

int gw_db_event_list(struct gw_db *db, int64_t incident, gw_db_event_fn fn, void *arg)
{
	struct incident_cb cb = {.efn = fn, .arg = arg};

	assert(fn);
	db_bind_i64(db->st[DB_STMT_EVENT_LIST], "$incident", incident);
	return db_each_row(db, DB_STMT_EVENT_LIST, event_row, &cb);
}

int gw_db_incident_range(struct gw_db *db, int64_t from_ms, int64_t to_ms, gw_db_incident_fn fn,
			 void *arg)
{
	struct incident_cb cb = {.fn = fn, .arg = arg};
	sqlite3_stmt *st = db->st[DB_STMT_INCIDENT_RANGE];

	assert(fn);
	db_bind_i64(st, "$from", from_ms);
	db_bind_i64(st, "$to", to_ms);
	return db_each_row(db, DB_STMT_INCIDENT_RANGE, incident_row, &cb);
}

/* ---- verification -------------------------------------------------------------------- */

static void broken(struct gw_db_verify *v, int64_t event, int64_t incident, const char *why)
{
	v->bad_event = event;
	v->bad_incident = incident;
	v->reason = why;
}

static bool text_is(const char *s, size_t n, const char *want)
{
	return s && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* The cutoff a "retention" system event records, or INT64_MIN when it has none. */
static int64_t retention_cutoff(const struct ev_row *r)
{
	long long cut;

	if (r->incident != 0 || !r->detail || !text_is(r->kind, r->kind_len, "retention") ||
	    sscanf(r->detail, "cutoff %lld", &cut) != 1)
		return INT64_MIN;
	return cut;
}

/*
 * The detail part of a v3 row: detail and detail_hash must agree, or the detail was
 * blanked, which is allowed for message bodies only (the caller checks their age).
 * Returns NULL when fine, else why not; *blanked tells a blanked body.
 */
static const char *detail_check(struct gw_db *db, struct ev_row *r, const void *dh, int dh_len,
				bool *blanked, int *rc)
{
	uint8_t want[HASH_LEN];

	*blanked = false;
	r->detail_hash = NULL;
	if (dh && dh_len != HASH_LEN)
		return "hash missing or malformed";
	r->detail_hash = dh;
	if (!r->detail) {
		if (!dh)
			return NULL;
		*blanked = true;
		return gw_db_kind_is_body(r->kind) ? NULL
						   : "detail removed from an event that is not a "
						     "message body";
	}
	if (!dh)
		return "content does not match its hash (row changed)";
	if ((*rc = sha256(db, r->detail, r->detail_len, want)) < 0)
		return NULL;
	if (memcmp(want, dh, HASH_LEN) != 0)
		return "content does not match its hash (row changed)";
	return NULL;
}

/* Walk incident_events in id order checking every link. 1 broken (v filled), 0, -errno. */
static int chain_walk(struct gw_db *db, struct gw_db_verify *v)
{
	sqlite3_stmt *st = db->st[DB_STMT_CHAIN_WALK];
	uint8_t prev[HASH_LEN] = {0}, h[HASH_LEN], head[HASH_LEN];
	int64_t head_id, last = 0, cutoff = INT64_MIN;
	int64_t blank_t = INT64_MIN, blank_id = 0, blank_inc = 0;
	bool have_head;
	int rc, s;

	if ((rc = head_get(db, &head_id, head, &have_head)) < 0)
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct ev_row r;
		const void *ph = sqlite3_column_blob(st, 5), *hh = sqlite3_column_blob(st, 6);
		const void *dh = sqlite3_column_blob(st, 8);
		bool v3, blanked = false;
		const char *why = NULL;

		ev_row_read(st, &r);
		v3 = r.id >= db->v3_from;
		v->events++;
		if (sqlite3_column_bytes(st, 5) != HASH_LEN ||
		    sqlite3_column_bytes(st, 6) != HASH_LEN)
			why = "hash missing or malformed";
		else if (memcmp(ph, prev, HASH_LEN) != 0)
			why = "does not link to the row before it (a row was removed or rewritten)";
		else if (v3)
			why = detail_check(db, &r, dh, sqlite3_column_bytes(st, 8), &blanked, &rc);
		if (rc < 0)
			break;
		if (!why) {
			if ((rc = db_event_hash(db, &r, v3, prev, h)) < 0)
				break;
			if (memcmp(hh, h, HASH_LEN) != 0)
				why = "content does not match its hash (row changed)";
			else if (sqlite3_column_int(st, 7))
				why = "names an incident that does not exist";
			else if (!have_head || r.id > head_id)
				why = "comes after the chain head (added outside rinki)";
		}
		if (why) {
			broken(v, r.id, r.incident, why);
			break;
		}
		if (blanked && r.t_ms >= blank_t) {
			blank_t = r.t_ms;
			blank_id = r.id;
			blank_inc = r.incident;
		}
		if (retention_cutoff(&r) > cutoff)
			cutoff = retention_cutoff(&r);
		memcpy(prev, hh, HASH_LEN);
		last = r.id;
	}
	db_done(st);
	if (rc < 0)
		return rc;
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return db_fail(db, s, db_stmt_sql[DB_STMT_CHAIN_WALK]);
	if (v->reason)
		return 1;
	memcpy(v->head, prev, HASH_LEN);
	if (have_head && head_id != last) {
		broken(v, head_id, 0,
		       "missing: the chain head names it (the last rows were removed)");
		return 1;
	}
	if (have_head && memcmp(head, prev, HASH_LEN) != 0) {
		broken(v, last, 0,
		       "its hash differs from the chain head's (the chain was rewritten)");
		return 1;
	}
	if (blank_id && blank_t >= cutoff) {
		broken(v, blank_id, blank_inc,
		       "message body removed, but no retention run covers its time");
		return 1;
	}
	return 0;
}

/*
 * An incident row against its chained events: started_ms, caller, name, line and cci
 * against its first event ("open"), the closing fields against its last "close" or
 * "interrupted" event. 1 broken (v filled), 0, -errno.
 */
static int incident_check(struct gw_db *db, const struct gw_db_incident *inc,
			  struct gw_db_verify *v)
{
	sqlite3_stmt *st = db->st[DB_STMT_EVENT_LIST];
	char want_open[256], want_close[256] = "";
	int64_t open_id = 0, close_id = 0, close_t = 0;
	bool open_ok = false, close_is_close = false, close_detail_ok = false;
	int n = 0, s;

	open_detail(inc->caller, inc->caller_name, inc->line, inc->radio_cci, want_open,
		    sizeof(want_open));
	if (inc->outcome)
		close_detail(inc->outcome, inc->has_cause, inc->cause, inc->accepted_by, want_close,
			     sizeof(want_close));
	db_bind_i64(st, "$incident", inc->id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
		const char *kind = db_col_text(st, 2), *detail = db_col_text(st, 3);
		size_t klen = (size_t)sqlite3_column_bytes(st, 2);
		size_t dlen = (size_t)sqlite3_column_bytes(st, 3);

		if (n++ == 0) {
			open_id = id;
			open_ok = text_is(kind, klen, "open") && t == inc->started_ms &&
				  text_is(detail, dlen, want_open);
		} else if (text_is(kind, klen, "close")) {
			close_id = id;
			close_t = t;
			close_is_close = true;
			close_detail_ok = inc->outcome && text_is(detail, dlen, want_close);
		} else if (text_is(kind, klen, "interrupted")) {
			close_id = id;
			close_t = t;
			close_is_close = false;
			close_detail_ok = text_is(detail, dlen, INTERRUPTED_DETAIL);
		}
	}
	db_done(st);
	if (s != SQLITE_DONE)
		return db_fail(db, s, db_stmt_sql[DB_STMT_EVENT_LIST]);
	if (n == 0)
		broken(v, 0, inc->id, "incident has no events");
	else if (!open_ok)
		broken(v, open_id, inc->id, "incident row does not match its open event");
	else if (!inc->ended && close_id)
		broken(v, close_id, inc->id, "incident row is open but an event closed it");
	else if (!inc->ended && (inc->outcome || inc->has_cause || inc->accepted_by))
		broken(v, open_id, inc->id, "open incident row has closing fields");
	else if (inc->ended && !close_id)
		broken(v, open_id, inc->id, "incident row is closed but no event closed it");
	else if (inc->ended &&
		 (close_t != inc->ended_ms || !close_detail_ok ||
		  (!close_is_close && (!inc->outcome || strcmp(inc->outcome, "interrupted") != 0 ||
				       inc->has_cause || inc->accepted_by))))
		broken(v, close_id, inc->id, "incident row does not match its closing event");
	return v->reason ? 1 : 0;
}

int gw_db_log_verify_report(struct gw_db *db, struct gw_db_verify *v)
{
	sqlite3_stmt *st = db->st[DB_STMT_INCIDENT_ALL];
	bool own_tx = sqlite3_get_autocommit(db->h);
	int rc, s = SQLITE_DONE;

	memset(v, 0, sizeof(*v));
	/* One read transaction: the walk sees one state of the file. */
	if (own_tx && (rc = db_run(db, DB_STMT_BEGIN_READ)) < 0)
		return rc;
	rc = chain_walk(db, v);
	if (rc == 0)
		rc = db_anchor_check(db, v);
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_db_incident inc;
		incident_from_row(st, &inc);
		v->incidents++;
		rc = incident_check(db, &inc, v);
	}
	db_done(st);
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_fail(db, s, db_stmt_sql[DB_STMT_INCIDENT_ALL]);
	if (own_tx && !sqlite3_get_autocommit(db->h))
		db_run(db, rc < 0 ? DB_STMT_ROLLBACK : DB_STMT_COMMIT);
	if (rc == 1)
		LOGP(GW_LOG_DB, GW_LOG_WARN,
		     "%s: call log chain broken at event %lld (incident %lld): %s", db->path,
		     (long long)v->bad_event, (long long)v->bad_incident, v->reason);
	return rc;
}

int gw_db_chain_head(struct gw_db *db, int64_t *id, uint8_t hash[32])
{
	bool found;
	return head_get(db, id, hash, &found);
}

int gw_db_log_verify(struct gw_db *db, int64_t *bad_event_id)
{
	struct gw_db_verify v;
	int rc = gw_db_log_verify_report(db, &v);

	if (bad_event_id)
		*bad_event_id = rc == 1 ? v.bad_event : 0;
	return rc;
}

/* ---- system events, report, retention ------------------------------------------------ */

int gw_db_system_event_list(struct gw_db *db, gw_db_event_fn fn, void *arg)
{
	struct incident_cb cb = {.efn = fn, .arg = arg};

	assert(fn);
	return db_each_row(db, DB_STMT_SYSTEM_EVENT_LIST, event_row, &cb);
}

int gw_db_system_event_append(struct gw_db *db, int64_t t_ms, const char *kind, const char *detail)
{
	int rc;

	struct gw_spool_rec r = {
	    .type = GW_SPOOL_SYS, .t_ms = t_ms, .kind = kind, .detail = detail};

	assert(kind);
	rc = log_write(db, &r);
	return rc < 0 ? rc : 0;
}

struct report_cb {
	gw_db_report_inc_fn fn;
	void *arg;
};

static void report_row(sqlite3_stmt *st, void *arg)
{
	struct report_cb *cb = arg;
	bool accepted = sqlite3_column_type(st, 6) != SQLITE_NULL;
	struct gw_db_report_inc inc = {
	    .id = sqlite3_column_int64(st, 0),
	    .started_ms = sqlite3_column_int64(st, 1),
	    .line = db_col_text(st, 2),
	    .caller = db_col_text(st, 3),
	    .caller_name = db_col_text(st, 4),
	    .outcome = db_col_text(st, 5),
	    .accept_ms = accepted ? sqlite3_column_int64(st, 6) : -1,
	    .accepted = accepted ? db_col_text(st, 7) : NULL,
	    .first_page = db_col_text(st, 8),
	    .fallback_page = db_col_text(st, 9),
	    .pages = sqlite3_column_int64(st, 10),
	    .text = sqlite3_column_int(st, 11) != 0,
	    .status = sqlite3_column_int(st, 12) != 0,
	};
	if (!inc.line)
		inc.line = "";
	if (!inc.caller)
		inc.caller = "";
	if (accepted && !inc.accepted)
		inc.accepted = "";
	cb->fn(&inc, cb->arg);
}

int gw_db_report_incidents(struct gw_db *db, int64_t from_ms, int64_t to_ms, gw_db_report_inc_fn fn,
			   void *arg, int64_t *in_range)
{
	struct report_cb cb = {fn, arg};
	sqlite3_stmt *st = db->st[DB_STMT_REPORT];
	int rc, n;

	assert(fn && in_range);
	if ((rc = db_run(db, DB_STMT_BEGIN_READ)) < 0)
		return rc;
	db_bind_i64(st, "$from", from_ms);
	db_bind_i64(st, "$to", to_ms);
	n = rc = db_each_row(db, DB_STMT_REPORT, report_row, &cb);
	if (rc >= 0) {
		st = db->st[DB_STMT_INCIDENT_COUNT];
		db_bind_i64(st, "$from", from_ms);
		db_bind_i64(st, "$to", to_ms);
		rc = db_run_i64(db, DB_STMT_INCIDENT_COUNT, in_range);
	}
	if (rc >= 0)
		rc = db_run(db, DB_STMT_COMMIT);
	if (rc < 0) {
		if (!sqlite3_get_autocommit(db->h))
			db_run(db, DB_STMT_ROLLBACK);
		return rc;
	}
	return n;
}

bool gw_db_kind_is_body(const char *kind)
{
	/* Keep in step with DB_STMT_RETENTION_BLANK. */
	return kind && (strcmp(kind, "sms_text") == 0 || strcmp(kind, "sds_text") == 0);
}

int gw_db_retention_run(struct gw_db *db, int64_t now_ms, int days, int64_t *removed)
{
	sqlite3_stmt *st = db->st[DB_STMT_RETENTION_BLANK];
	int64_t cutoff = now_ms - (int64_t)days * 86400000;
	char detail[128];
	int rc, n = 0;

	if (days < 1)
		return -EINVAL;
	if (db->batch || db->spool_pending)
		return -EBUSY; /* the retention event would overtake spooled call-log records */
	sqlite3_busy_timeout(db->h, SLOW_BUSY_TIMEOUT_MS);
	rc = db_tx_begin(db);
	if (rc >= 0) {
		db_bind_i64(st, "$cutoff", cutoff);
		db_bind_i64(st, "$v3_from", db->v3_from);
		rc = n = db_run(db, DB_STMT_RETENTION_BLANK);
	}
	if (rc >= 0) {
		snprintf(detail, sizeof(detail), "cutoff %lld removed %d (older than %d days)",
			 (long long)cutoff, n, days);
		rc = event_insert(db, 0, now_ms, "retention", detail);
	}
	rc = db_tx_end(db, rc);
	sqlite3_busy_timeout(db->h, db->busy_ms);
	if (rc < 0)
		return rc;
	LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%s: retention: %d message bod%s older than %d days removed",
	     db->path, n, n == 1 ? "y" : "ies", days);
	if (removed)
		*removed = n;
	return 0;
}
/* ---- recording retention ------------------------------------------------------------- */

struct rec_paths {
	char **v;
	size_t n, cap;
	int err;
};

static void rec_path_row(sqlite3_stmt *st, void *arg)
{
	struct rec_paths *p = arg;
	const char *path = db_col_text(st, 0);
	if (!path || p->err)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		char **v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			p->err = -ENOMEM;
			return;
		}
		p->v = v;
		p->cap = cap;
	}
	if (!(p->v[p->n] = strdup(path)))
		p->err = -ENOMEM;
	else
		p->n++;
}

/* Only what gateway/rec.c names: <dir>/incident-<id>[-k].wav, no "..". */
static bool is_recording_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(path);
	return base && strncmp(base + 1, "incident-", 9) == 0 && n > 4 &&
	       strcmp(path + n - 4, ".wav") == 0 && !strstr(path, "/../");
}

int gw_db_recording_retention(struct gw_db *db, int64_t now_ms, int days, int64_t *removed)
{
	int64_t cutoff = now_ms - (int64_t)days * 86400000;
	struct rec_paths p = {0};
	int rc, n = 0;

	if (days < 1)
		return -EINVAL;
	if (db->batch || db->spool_pending)
		return -EBUSY; /* as gw_db_retention_run: the event would overtake the spool */
	db_bind_i64(db->st[DB_STMT_RECORDING_OLD], "$cutoff", cutoff);
	rc = db_each_row(db, DB_STMT_RECORDING_OLD, rec_path_row, &p);
	if (rc >= 0 && p.err)
		rc = p.err;
	for (size_t i = 0; rc >= 0 && i < p.n; i++) {
		if (!is_recording_path(p.v[i])) {
			LOGP(GW_LOG_DB, GW_LOG_WARN, "retention: '%s' is not a recording, kept",
			     p.v[i]);
		} else if (unlink(p.v[i]) == 0) {
			LOGP(GW_LOG_DB, GW_LOG_NOTICE, "retention: recording %s removed", p.v[i]);
			n++;
		} else if (errno != ENOENT) { /* ENOENT: an earlier run removed it */
			LOGP(GW_LOG_DB, GW_LOG_WARN, "retention: cannot remove %s: %s", p.v[i],
			     strerror(errno));
		}
	}
	for (size_t i = 0; i < p.n; i++)
		free(p.v[i]);
	free(p.v);
	if (rc >= 0 && n > 0) {
		char detail[128];
		snprintf(detail, sizeof(detail), "cutoff %lld removed %d (older than %d days)",
			 (long long)cutoff, n, days);
		rc = db_tx_begin(db);
		if (rc >= 0)
			rc = event_insert(db, 0, now_ms, "recording_retention", detail);
		rc = db_tx_end(db, rc);
	}
	if (rc < 0)
		return rc;
	if (removed)
		*removed = n;
	return 0;
}

int gw_db_roster_changed(struct gw_db *db)
{
	int changed = db->roster_dirty;
	int64_t dv, rev;
	int rc;

	if ((rc = db_run_i64(db, DB_STMT_DATA_VERSION, &dv)) < 0)
		return rc;
	if (dv != db->data_version) {
		if ((rc = db_run_i64(db, DB_STMT_ROSTER_REV, &rev)) < 0)
			return rc;
		db->data_version = dv;
		if (rev != db->roster_rev) {
			db->roster_rev = rev;
			changed = 1;
		}
	}
	db->roster_dirty = false;
	return changed;
}

/* ---- the chain outside this database (county sync) ----------------------------------- */

/*
 * db_event_hash() for a row that lives elsewhere (the county's copy): a connection-free
 * struct gw_db carries only the digest context and a name for the error line.
 */
int gw_db_chain_hash(const struct gw_db_chain_row *row, uint8_t out[HASH_LEN])
{
	struct gw_db tmp = {.path = (char *)"chain row", .md = EVP_MD_CTX_new()};
	struct ev_row r = {
	    .id = row->id,
	    .incident = row->incident,
	    .t_ms = row->t_ms,
	    .kind = row->kind,
	    .kind_len = row->kind_len,
	    .detail = row->detail,
	    .detail_len = row->detail_len,
	    .detail_hash = row->has_detail_hash ? row->detail_hash : NULL,
	};
	int rc;

	if (!tmp.md)
		return -ENOMEM;
	rc = db_event_hash(&tmp, &r, row->v3, row->prev_hash, out);
	EVP_MD_CTX_free(tmp.md);
	return rc;
}
