/*
 * db: all SQL of rinki, on one SQLite connection per struct gw_db.
 *
 * The file is in WAL mode so rinkictl can read while rinkid writes, with
 * synchronous=FULL so a committed call-log entry survives a power cut. The schema
 * is a list of migrations, one SQL text per version, applied in order inside one
 * transaction at open; a schema_version table records where the file is, and a
 * file newer than this build is refused rather than guessed at. Runtime statements
 * are an enum (DB_STMT_*) with a parallel SQL table, prepared once at open with
 * named parameters and reset after every use. SQLite result codes are turned into
 * a log line and a negative errno here, at the boundary.
 *
 * Roster changes are detected cheaply: PRAGMA data_version moves when any other
 * connection commits, and only then is roster_meta.rev (bumped by every roster
 * import) read to tell a roster change from a call-log write.
 *
 * The call log is a hash chain (schema v2): every incident_events row stores the
 * SHA-256 (OpenSSL libcrypto) of its own fields and of the previous row's hash, and
 * chain_head remembers the last row, so an edited, removed or cut-off row shows up in
 * gw_db_log_verify(). Every call-log write is described once as a struct gw_spool_rec
 * and applied by apply(): a write the database cannot take (busy past a short timeout,
 * full, read-only, I/O error, gone) goes to the spool journal instead (spool.c), and
 * gw_db_spool_replay() applies the journal later with the same apply(), in order, each
 * record's key recorded in spool_applied in the same transaction so nothing is applied
 * twice.
 */
#include "db.h"
#include "log.h"
#include "spool.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

/* Call-log writes wait this long for a lock before they go to the spool. */
#define BUSY_TIMEOUT_MS 250
/* Migrations and roster imports are not on the call path and may wait longer. */
#define SLOW_BUSY_TIMEOUT_MS 5000
#define HASH_LEN	     32

struct gw_db;
static int chain_existing(struct gw_db *db);

/*
 * Migrations: migrations[i] takes the schema from version i to version i + 1: its SQL,
 * then its post() step (C code, may be NULL) in the same transaction.
 */
static const struct migration {
	const char *sql;
	int (*post)(struct gw_db *db);
} migrations[] = {
    /* v1 */
    {"CREATE TABLE service_lines ("
     " code TEXT PRIMARY KEY NOT NULL,"
     " name_fi TEXT NOT NULL, name_sv TEXT NOT NULL, name_en TEXT NOT NULL);"
     "CREATE TABLE workers ("
     " id INTEGER PRIMARY KEY,"
     " handle TEXT NOT NULL UNIQUE,"
     " name TEXT NOT NULL,"
     " phone TEXT NOT NULL,"
     " issi TEXT,"
     " active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)));"
     "CREATE TABLE shifts ("
     " id INTEGER PRIMARY KEY,"
     " line TEXT NOT NULL REFERENCES service_lines(code),"
     " worker INTEGER NOT NULL REFERENCES workers(id),"
     " start_utc INTEGER NOT NULL,"
     " end_utc INTEGER NOT NULL,"
     " position INTEGER NOT NULL,"
     " CHECK (end_utc > start_utc));"
     "CREATE INDEX shifts_line_start ON shifts(line, start_utc);"
     "CREATE TABLE routes ("
     " id INTEGER PRIMARY KEY,"
     " line TEXT NOT NULL REFERENCES service_lines(code),"
     " caller_prefix TEXT NOT NULL,"
     " priority INTEGER NOT NULL);"
     "CREATE TABLE directory (issi TEXT PRIMARY KEY NOT NULL, org TEXT NOT NULL);"
     "CREATE TABLE incidents ("
     " id INTEGER PRIMARY KEY,"
     " started_ms INTEGER NOT NULL,"
     " ended_ms INTEGER,"
     " caller TEXT NOT NULL,"
     " caller_name TEXT,"
     " line TEXT,"
     " radio_cci INTEGER NOT NULL,"
     " outcome TEXT,"
     " cause INTEGER,"
     " accepted_by TEXT);"
     "CREATE INDEX incidents_open ON incidents(id) WHERE ended_ms IS NULL;"
     "CREATE TABLE incident_events ("
     " id INTEGER PRIMARY KEY,"
     " incident INTEGER NOT NULL REFERENCES incidents(id),"
     " t_ms INTEGER NOT NULL,"
     " kind TEXT NOT NULL,"
     " detail TEXT);"
     "CREATE INDEX incident_events_incident ON incident_events(incident, id);"
     "CREATE TABLE roster_meta (rev INTEGER NOT NULL);"
     "INSERT INTO roster_meta (rev) VALUES (0);",
     NULL},
    /* v2: the hash chain over incident_events, and the spool's applied keys */
    {"ALTER TABLE incident_events ADD COLUMN prev_hash BLOB;"
     "ALTER TABLE incident_events ADD COLUMN hash BLOB;"
     "CREATE TABLE chain_head ("
     " one INTEGER PRIMARY KEY CHECK (one = 1),"
     " last_id INTEGER NOT NULL,"
     " hash BLOB NOT NULL);"
     "CREATE TABLE spool_applied ("
     " origin INTEGER NOT NULL,"
     " seq INTEGER NOT NULL,"
     " PRIMARY KEY (origin, seq)) WITHOUT ROWID;",
     chain_existing},
    /*
     * v3: rotations, overrides, escalation chains, holidays; incident_events gets
     * detail_hash (chain encoding v3, see event_hash) and may name no incident (system
     * events such as "retention"), which needs a table rebuild in SQLite. Rows already
     * there keep their v2 hashes: chain_meta.v3_from is the first row hashed the new way.
     */
    {"CREATE TABLE incident_events_v3 ("
     " id INTEGER PRIMARY KEY,"
     " incident INTEGER REFERENCES incidents(id),"
     " t_ms INTEGER NOT NULL,"
     " kind TEXT NOT NULL,"
     " detail TEXT,"
     " prev_hash BLOB,"
     " hash BLOB,"
     " detail_hash BLOB);"
     "INSERT INTO incident_events_v3 (id, incident, t_ms, kind, detail, prev_hash, hash)"
     " SELECT id, incident, t_ms, kind, detail, prev_hash, hash FROM incident_events;"
     "DROP TABLE incident_events;"
     "ALTER TABLE incident_events_v3 RENAME TO incident_events;"
     "CREATE INDEX incident_events_incident ON incident_events(incident, id);"
     "CREATE TABLE chain_meta ("
     " one INTEGER PRIMARY KEY CHECK (one = 1),"
     " v3_from INTEGER NOT NULL);"
     "INSERT INTO chain_meta SELECT 1, coalesce(max(id), 0) + 1 FROM incident_events;"
     "CREATE TABLE rotations ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"
     " line TEXT NOT NULL REFERENCES service_lines(code),"
     " kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly')),"
     " start_date TEXT NOT NULL,"
     " end_date TEXT,"
     " handoff_min INTEGER NOT NULL CHECK (handoff_min BETWEEN 0 AND 1439),"
     " position INTEGER NOT NULL,"
     " hours TEXT NOT NULL CHECK (hours IN ('all', 'office', 'after')));"
     "CREATE TABLE rotation_members ("
     " rotation INTEGER NOT NULL REFERENCES rotations(id),"
     " ord INTEGER NOT NULL,"
     " worker INTEGER NOT NULL REFERENCES workers(id),"
     " PRIMARY KEY (rotation, ord)) WITHOUT ROWID;"
     "CREATE TABLE overrides ("
     " id INTEGER PRIMARY KEY,"
     " kind TEXT NOT NULL CHECK (kind IN ('add', 'remove', 'replace')),"
     " line TEXT REFERENCES service_lines(code),"
     " worker INTEGER NOT NULL REFERENCES workers(id),"
     " by_worker INTEGER REFERENCES workers(id),"
     " start_utc INTEGER NOT NULL,"
     " end_utc INTEGER NOT NULL,"
     " position INTEGER NOT NULL DEFAULT 0,"
     " CHECK (end_utc > start_utc),"
     " CHECK ((kind = 'replace') = (by_worker IS NOT NULL)),"
     " CHECK (kind <> 'add' OR line IS NOT NULL));"
     "CREATE TABLE chain_steps ("
     " line TEXT NOT NULL REFERENCES service_lines(code),"
     " ord INTEGER NOT NULL,"
     " kind TEXT NOT NULL CHECK (kind IN ('person', 'oncall', 'duty')),"
     " worker INTEGER REFERENCES workers(id),"
     " target_line TEXT REFERENCES service_lines(code),"
     " ring_s INTEGER,"
     " CHECK ((kind = 'person') = (worker IS NOT NULL)),"
     " CHECK ((kind = 'person') = (target_line IS NULL)),"
     " PRIMARY KEY (line, ord)) WITHOUT ROWID;"
     "CREATE TABLE chains ("
     " line TEXT PRIMARY KEY NOT NULL REFERENCES service_lines(code),"
     " rounds INTEGER,"
     " fallback INTEGER REFERENCES workers(id),"
     " fallback_ring_s INTEGER);"
     "CREATE TABLE holidays (date TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);",
     NULL},
    /*
     * v4: a worker's language, and PINs (libsodium crypto_pwhash_str strings, never the
     * PIN) kept by handle in their own table, so a roster import, which replaces the
     * workers, keeps the PINs of the handles it keeps.
     */
    {"ALTER TABLE workers ADD COLUMN lang TEXT NOT NULL DEFAULT 'fi'"
     " CHECK (lang IN ('fi', 'sv', 'en'));"
     "CREATE TABLE worker_pins (handle TEXT PRIMARY KEY NOT NULL, hash TEXT NOT NULL);",
     NULL},
    /*
     * v5: route conditions (see struct gw_db_route): weekdays, a local time window,
     * holidays, an SDS status code. Existing routes get none: they match as before.
     */
    {"ALTER TABLE routes ADD COLUMN days INTEGER NOT NULL DEFAULT 0"
     " CHECK (days BETWEEN 0 AND 127);"
     "ALTER TABLE routes ADD COLUMN win_from INTEGER CHECK (win_from BETWEEN 0 AND 1439);"
     "ALTER TABLE routes ADD COLUMN win_to INTEGER CHECK (win_to BETWEEN 0 AND 1439);"
     "ALTER TABLE routes ADD COLUMN holidays INTEGER NOT NULL DEFAULT 0"
     " CHECK (holidays IN (0, 1, 2));"
     "ALTER TABLE routes ADD COLUMN status INTEGER CHECK (status BETWEEN 0 AND 65535);",
     NULL},
    /*
     * v6: temporary rosters (struct gw_db_temp): a named date range of a line whose own
     * rotations and shifts (temp_roster set) replace the line's normal ones there.
     */
    {"CREATE TABLE temp_rosters ("
     " name TEXT PRIMARY KEY NOT NULL,"
     " line TEXT NOT NULL REFERENCES service_lines(code),"
     " from_date TEXT NOT NULL,"
     " to_date TEXT NOT NULL,"
     " handoff_min INTEGER NOT NULL CHECK (handoff_min BETWEEN 0 AND 1439));"
     "ALTER TABLE rotations ADD COLUMN temp_roster TEXT REFERENCES temp_rosters(name);"
     "ALTER TABLE shifts ADD COLUMN temp_roster TEXT REFERENCES temp_rosters(name);",
     NULL},
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum db_stmt {
	DB_STMT_BEGIN,
	DB_STMT_BEGIN_READ,
	DB_STMT_COMMIT,
	DB_STMT_ROLLBACK,
	DB_STMT_SAVEPOINT,
	DB_STMT_RELEASE,
	DB_STMT_ROLLBACK_TO,
	DB_STMT_DATA_VERSION,
	DB_STMT_ROSTER_REV,
	DB_STMT_ROSTER_REV_BUMP,
	DB_STMT_INCIDENT_NEXT_ID,
	DB_STMT_INCIDENT_INSERT,
	DB_STMT_EVENT_NEXT_ID,
	DB_STMT_HEAD_GET,
	DB_STMT_HEAD_SET,
	DB_STMT_EVENT_INSERT,
	DB_STMT_INCIDENT_CLOSE,
	DB_STMT_OPEN_BELOW,
	DB_STMT_INTERRUPTED_CLOSE,
	DB_STMT_INCIDENT_LIST,
	DB_STMT_INCIDENT_RANGE,
	DB_STMT_INCIDENT_ALL,
	DB_STMT_INCIDENT_GET,
	DB_STMT_EVENT_LIST,
	DB_STMT_CHAIN_WALK,
	DB_STMT_APPLIED_CHECK,
	DB_STMT_APPLIED_INSERT,
	DB_STMT_APPLIED_CLEAR,
	DB_STMT_LINE_LIST,
	DB_STMT_WORKER_LIST,
	DB_STMT_SHIFT_LIST,
	DB_STMT_ROUTE_LIST,
	DB_STMT_DIR_LIST,
	DB_STMT_SHIFT_DELETE,
	DB_STMT_ROUTE_DELETE,
	DB_STMT_DIR_DELETE,
	DB_STMT_WORKER_DELETE,
	DB_STMT_LINE_DELETE,
	DB_STMT_LINE_INSERT,
	DB_STMT_WORKER_INSERT,
	DB_STMT_SHIFT_INSERT,
	DB_STMT_ROUTE_INSERT,
	DB_STMT_DIR_INSERT,
	DB_STMT_CHAIN_META,
	DB_STMT_SYSTEM_EVENT_LIST,
	DB_STMT_ROT_LIST,
	DB_STMT_MEMBER_LIST,
	DB_STMT_OVR_LIST,
	DB_STMT_STEP_LIST,
	DB_STMT_CHAIN_LIST,
	DB_STMT_HOLIDAY_LIST,
	DB_STMT_STEP_DELETE,
	DB_STMT_CHAIN_DELETE,
	DB_STMT_OVR_DELETE,
	DB_STMT_MEMBER_DELETE,
	DB_STMT_ROT_DELETE,
	DB_STMT_HOLIDAY_DELETE,
	DB_STMT_ROT_INSERT,
	DB_STMT_MEMBER_INSERT,
	DB_STMT_OVR_INSERT,
	DB_STMT_STEP_INSERT,
	DB_STMT_CHAIN_INSERT,
	DB_STMT_HOLIDAY_INSERT,
	DB_STMT_TEMP_LIST,
	DB_STMT_TEMP_DELETE,
	DB_STMT_TEMP_INSERT,
	DB_STMT_WORKER_SET_ACTIVE,
	DB_STMT_PIN_SET,
	DB_STMT_PIN_ORPHANS,
	DB_STMT_OVR_DELETE_ID,
	DB_STMT_REPORT,
	DB_STMT_RETENTION_BLANK,
	DB_STMT_RECORDING_OLD,
	DB_STMT_COUNT
};

#define INCIDENT_COLS                                                                              \
	"id, started_ms, ended_ms, caller, caller_name, line, radio_cci, outcome, cause, "         \
	"accepted_by"

static const char *const stmt_sql[DB_STMT_COUNT] = {
    [DB_STMT_BEGIN] = "BEGIN IMMEDIATE",
    [DB_STMT_BEGIN_READ] = "BEGIN DEFERRED",
    [DB_STMT_COMMIT] = "COMMIT",
    [DB_STMT_ROLLBACK] = "ROLLBACK",
    [DB_STMT_SAVEPOINT] = "SAVEPOINT gw_op",
    [DB_STMT_RELEASE] = "RELEASE gw_op",
    [DB_STMT_ROLLBACK_TO] = "ROLLBACK TO gw_op",
    [DB_STMT_DATA_VERSION] = "PRAGMA data_version",
    [DB_STMT_ROSTER_REV] = "SELECT rev FROM roster_meta",
    [DB_STMT_ROSTER_REV_BUMP] = "UPDATE roster_meta SET rev = rev + 1 RETURNING rev",
    [DB_STMT_INCIDENT_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM incidents",
    [DB_STMT_INCIDENT_INSERT] =
	"INSERT INTO incidents (id, started_ms, caller, caller_name, line, radio_cci)"
	" VALUES ($id, $started, $caller, $caller_name, $line, $cci)",
    [DB_STMT_EVENT_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM incident_events",
    [DB_STMT_HEAD_GET] = "SELECT last_id, hash FROM chain_head WHERE one = 1",
    [DB_STMT_HEAD_SET] = "INSERT INTO chain_head (one, last_id, hash) VALUES (1, $id, $hash)"
			 " ON CONFLICT (one) DO UPDATE SET last_id = $id, hash = $hash",
    [DB_STMT_EVENT_INSERT] = "INSERT INTO incident_events (id, incident, t_ms, kind, detail,"
			     " prev_hash, hash, detail_hash)"
			     " VALUES ($id, $incident, $t, $kind, $detail, $prev, $hash, $dhash)",
    [DB_STMT_INCIDENT_CLOSE] =
	"UPDATE incidents SET ended_ms = $ended, outcome = $outcome, cause = $cause,"
	" accepted_by = $accepted_by WHERE id = $id AND ended_ms IS NULL",
    [DB_STMT_OPEN_BELOW] = "SELECT id FROM incidents WHERE ended_ms IS NULL AND id < $below"
			   " ORDER BY id",
    [DB_STMT_INTERRUPTED_CLOSE] = "UPDATE incidents SET ended_ms = $now,"
				  " outcome = 'interrupted' WHERE ended_ms IS NULL AND id < $below",
    [DB_STMT_INCIDENT_LIST] = "SELECT " INCIDENT_COLS " FROM incidents"
			      " ORDER BY started_ms DESC, id DESC LIMIT $limit",
    [DB_STMT_INCIDENT_RANGE] = "SELECT " INCIDENT_COLS " FROM incidents"
			       " WHERE started_ms >= $from AND started_ms < $to"
			       " ORDER BY started_ms, id",
    [DB_STMT_INCIDENT_ALL] = "SELECT " INCIDENT_COLS " FROM incidents ORDER BY id",
    [DB_STMT_INCIDENT_GET] = "SELECT " INCIDENT_COLS " FROM incidents WHERE id = $id",
    [DB_STMT_EVENT_LIST] = "SELECT id, t_ms, kind, detail, detail_hash IS NOT NULL"
			   " FROM incident_events WHERE incident = $incident ORDER BY id",
    [DB_STMT_CHAIN_WALK] = "SELECT e.id, e.incident, e.t_ms, e.kind, e.detail, e.prev_hash,"
			   " e.hash, e.incident IS NOT NULL AND i.id IS NULL, e.detail_hash"
			   " FROM incident_events e"
			   " LEFT JOIN incidents i ON i.id = e.incident ORDER BY e.id",
    [DB_STMT_APPLIED_CHECK] = "SELECT count(*) FROM spool_applied"
			      " WHERE origin = $origin AND seq = $seq",
    [DB_STMT_APPLIED_INSERT] = "INSERT INTO spool_applied (origin, seq) VALUES ($origin, $seq)",
    [DB_STMT_APPLIED_CLEAR] = "DELETE FROM spool_applied",
    [DB_STMT_LINE_LIST] = "SELECT code, name_fi, name_sv, name_en FROM service_lines"
			  " ORDER BY code",
    [DB_STMT_WORKER_LIST] = "SELECT w.handle, w.name, w.phone, w.issi, w.active, w.lang,"
			    " p.hash FROM workers w LEFT JOIN worker_pins p ON p.handle = w.handle"
			    " ORDER BY w.handle",
    [DB_STMT_SHIFT_LIST] = "SELECT s.line, w.handle, s.start_utc, s.end_utc, s.position,"
			   " s.temp_roster"
			   " FROM shifts s JOIN workers w ON w.id = s.worker"
			   " ORDER BY s.line, s.start_utc, s.id",
    [DB_STMT_ROUTE_LIST] = "SELECT line, caller_prefix, priority, days, win_from, win_to,"
			   " holidays, status FROM routes ORDER BY id",
    [DB_STMT_DIR_LIST] = "SELECT issi, org FROM directory ORDER BY issi",
    [DB_STMT_SHIFT_DELETE] = "DELETE FROM shifts",
    [DB_STMT_ROUTE_DELETE] = "DELETE FROM routes",
    [DB_STMT_DIR_DELETE] = "DELETE FROM directory",
    [DB_STMT_WORKER_DELETE] = "DELETE FROM workers",
    [DB_STMT_LINE_DELETE] = "DELETE FROM service_lines",
    [DB_STMT_LINE_INSERT] = "INSERT INTO service_lines (code, name_fi, name_sv, name_en)"
			    " VALUES ($code, $name_fi, $name_sv, $name_en)",
    [DB_STMT_WORKER_INSERT] = "INSERT INTO workers (handle, name, phone, issi, active, lang)"
			      " VALUES ($handle, $name, $phone, $issi, $active,"
			      " coalesce($lang, 'fi'))",
    [DB_STMT_SHIFT_INSERT] =
	"INSERT INTO shifts (line, worker, start_utc, end_utc, position, temp_roster)"
	" SELECT $line, id, $start, $end, $position, $temp FROM workers WHERE handle = $worker",
    [DB_STMT_ROUTE_INSERT] = "INSERT INTO routes (line, caller_prefix, priority, days,"
			     " win_from, win_to, holidays, status) VALUES ($line, $prefix,"
			     " $priority, $days, $from, $to, $holidays, $status)",
    [DB_STMT_DIR_INSERT] = "INSERT INTO directory (issi, org) VALUES ($issi, $org)",
    [DB_STMT_CHAIN_META] = "SELECT v3_from FROM chain_meta WHERE one = 1",
    [DB_STMT_SYSTEM_EVENT_LIST] = "SELECT id, t_ms, kind, detail, detail_hash IS NOT NULL"
				  " FROM incident_events WHERE incident IS NULL ORDER BY id",
    [DB_STMT_ROT_LIST] = "SELECT name, line, kind, start_date, end_date, handoff_min, position,"
			 " hours, temp_roster FROM rotations ORDER BY line, position, name",
    [DB_STMT_MEMBER_LIST] = "SELECT r.name, m.ord, w.handle FROM rotation_members m"
			    " JOIN rotations r ON r.id = m.rotation"
			    " JOIN workers w ON w.id = m.worker ORDER BY r.name, m.ord",
    [DB_STMT_OVR_LIST] = "SELECT o.id, o.kind, o.line, w.handle, b.handle, o.start_utc,"
			 " o.end_utc, o.position FROM overrides o"
			 " JOIN workers w ON w.id = o.worker"
			 " LEFT JOIN workers b ON b.id = o.by_worker ORDER BY o.start_utc, o.id",
    [DB_STMT_STEP_LIST] = "SELECT s.line, s.ord, s.kind, coalesce(w.handle, s.target_line),"
			  " coalesce(s.ring_s, 0) FROM chain_steps s"
			  " LEFT JOIN workers w ON w.id = s.worker ORDER BY s.line, s.ord",
    [DB_STMT_CHAIN_LIST] = "SELECT c.line, coalesce(c.rounds, 0), w.handle,"
			   " coalesce(c.fallback_ring_s, 0) FROM chains c"
			   " LEFT JOIN workers w ON w.id = c.fallback ORDER BY c.line",
    [DB_STMT_HOLIDAY_LIST] = "SELECT date, name FROM holidays ORDER BY date",
    [DB_STMT_STEP_DELETE] = "DELETE FROM chain_steps",
    [DB_STMT_CHAIN_DELETE] = "DELETE FROM chains",
    [DB_STMT_OVR_DELETE] = "DELETE FROM overrides",
    [DB_STMT_MEMBER_DELETE] = "DELETE FROM rotation_members",
    [DB_STMT_ROT_DELETE] = "DELETE FROM rotations",
    [DB_STMT_HOLIDAY_DELETE] = "DELETE FROM holidays",
    [DB_STMT_ROT_INSERT] =
	"INSERT INTO rotations (name, line, kind, start_date, end_date, handoff_min, position,"
	" hours, temp_roster) VALUES ($name, $line, $kind, $start, $end, $handoff, $position,"
	" $hours, $temp)",
    [DB_STMT_MEMBER_INSERT] = "INSERT INTO rotation_members (rotation, ord, worker)"
			      " SELECT r.id, $ord, w.id FROM rotations r, workers w"
			      " WHERE r.name = $rotation AND w.handle = $worker",
    [DB_STMT_OVR_INSERT] =
	"INSERT INTO overrides (kind, line, worker, by_worker, start_utc, end_utc, position)"
	" SELECT $kind, $line, w.id, b.id, $start, $end, $position FROM workers w"
	" LEFT JOIN workers b ON b.handle = $by"
	" WHERE w.handle = $worker AND ($by IS NULL OR b.id IS NOT NULL)",
    [DB_STMT_STEP_INSERT] =
	"INSERT INTO chain_steps (line, ord, kind, worker, target_line, ring_s)"
	" SELECT $line, $ord, $kind, w.id, CASE WHEN $kind = 'person' THEN NULL ELSE $who END,"
	" nullif($ring, 0) FROM (SELECT 1) LEFT JOIN workers w"
	" ON $kind = 'person' AND w.handle = $who"
	" WHERE $kind <> 'person' OR w.id IS NOT NULL",
    [DB_STMT_CHAIN_INSERT] = "INSERT INTO chains (line, rounds, fallback, fallback_ring_s)"
			     " SELECT $line, nullif($rounds, 0), w.id, nullif($ring, 0)"
			     " FROM (SELECT 1) LEFT JOIN workers w ON w.handle = $fallback"
			     " WHERE $fallback IS NULL OR w.id IS NOT NULL",
    [DB_STMT_HOLIDAY_INSERT] = "INSERT INTO holidays (date, name) VALUES ($date, $name)",
    [DB_STMT_TEMP_LIST] = "SELECT name, line, from_date, to_date, handoff_min FROM temp_rosters"
			  " ORDER BY line, from_date, name",
    [DB_STMT_TEMP_DELETE] = "DELETE FROM temp_rosters",
    [DB_STMT_TEMP_INSERT] = "INSERT INTO temp_rosters (name, line, from_date, to_date,"
			    " handoff_min) VALUES ($name, $line, $from, $to, $handoff)",
    [DB_STMT_WORKER_SET_ACTIVE] = "UPDATE workers SET active = $active WHERE handle = $handle",
    [DB_STMT_PIN_SET] = "INSERT INTO worker_pins (handle, hash)"
			" SELECT handle, $hash FROM workers WHERE handle = $handle"
			" ON CONFLICT (handle) DO UPDATE SET hash = excluded.hash",
    [DB_STMT_PIN_ORPHANS] = "DELETE FROM worker_pins"
			    " WHERE handle NOT IN (SELECT handle FROM workers)",
    [DB_STMT_OVR_DELETE_ID] = "DELETE FROM overrides WHERE id = $id",
    [DB_STMT_REPORT] =
	"SELECT line, count(*), sum(acc IS NOT NULL),"
	" sum(acc IS NOT NULL AND acc - started_ms <= $within), sum(pages > 1) FROM ("
	" SELECT coalesce(i.line, '') AS line, i.started_ms,"
	" (SELECT min(e.t_ms) FROM incident_events e"
	"  WHERE e.incident = i.id AND e.kind = 'accepted') AS acc,"
	" (SELECT count(*) FROM incident_events e"
	"  WHERE e.incident = i.id AND e.kind = 'page') AS pages"
	" FROM incidents i WHERE i.started_ms >= $from AND i.started_ms < $to"
	" AND coalesce(i.line, '') <> 'callback')" /* call-backs are no authority calls */
	" GROUP BY line ORDER BY line",
    [DB_STMT_RETENTION_BLANK] =
	"UPDATE incident_events SET detail = NULL WHERE kind IN ('sms_text', 'sds_text')"
	" AND t_ms < $cutoff AND detail IS NOT NULL AND id >= $v3_from",
    [DB_STMT_RECORDING_OLD] = "SELECT detail FROM incident_events WHERE kind = 'recording'"
			      " AND t_ms < $cutoff AND detail IS NOT NULL ORDER BY id",
};

struct gw_db {
	sqlite3 *h;
	char *path;
	sqlite3_stmt *st[DB_STMT_COUNT];
	EVP_MD_CTX *md;
	bool batch;    /* between gw_db_batch_begin and _commit */
	bool batch_tx; /* ... and the batch's transaction is open */
	/* Records written in the open batch transaction (encoded), spooled if it fails. */
	uint8_t *bbuf;
	size_t blen, bcap;
	bool bbuf_lost; /* a record could not be kept there */
	int64_t data_version;
	int64_t roster_rev;
	bool roster_dirty;
	/* Set by db_fail(): the last failure means the database cannot take writes now. */
	bool unavailable;
	bool gone; /* ... and the connection should be reopened before trying again */
	/* Spool. */
	char *spool_path;
	bool spool_pending; /* records wait in the spool: writes go there too, in order */
	int64_t next_incident;
	uint64_t origin, seq; /* key of this connection's next spool record */
	int busy_ms;
	int64_t v3_from; /* first event row hashed with encoding v3 (chain_meta) */
};

/* ---- errors -------------------------------------------------------------------------- */

static int errno_of(sqlite3 *h, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return -EINVAL;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return -ENOENT;
		return -EINVAL;
	case SQLITE_CANTOPEN: {
		int e = h ? sqlite3_system_errno(h) : 0;
		return e > 0 ? -e : -ENOENT;
	}
	default:
		return -EIO;
	}
}

/*
 * Log a failed SQLite call with its detail; returns the matching negative errno and
 * records whether the failure means "the database cannot take writes now" (spool them).
 */
static int db_fail(struct gw_db *db, int rc, const char *what)
{
	const char *msg = db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	int err = errno_of(db->h, rc);

	if (err == 0)
		err = -EIO;
	switch (rc & 0xff) {
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		db->gone = true;
		/* fall through */
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_NOMEM:
		db->unavailable = true;
		break;
	}
	if (rc == SQLITE_READONLY_DBMOVED)
		db->gone = true;
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: %s: %s (sqlite %d)", db->path, what, msg, rc);
	return err;
}

/* ---- statement helpers --------------------------------------------------------------- */

static int param(sqlite3_stmt *st, const char *name)
{
	int i = sqlite3_bind_parameter_index(st, name);
	assert(i > 0 && "statement has no such parameter");
	return i;
}

static void bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = param(st, name);
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_i64(sqlite3_stmt *st, const char *name, int64_t v)
{
	sqlite3_bind_int64(st, param(st, name), v);
}

static void bind_blob(sqlite3_stmt *st, const char *name, const uint8_t *v, int n)
{
	sqlite3_bind_blob(st, param(st, name), v, n, SQLITE_STATIC);
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a statement that returns no rows. Returns sqlite3_changes() or -errno. */
static int run(struct gw_db *db, enum db_stmt id)
{
	sqlite3_stmt *st = db->st[id];
	int rc = sqlite3_step(st);

	done(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, stmt_sql[id]);
	return sqlite3_changes(db->h);
}

/* Step a statement that returns one integer in its first row. 0 or -errno. */
static int run_i64(struct gw_db *db, enum db_stmt id, int64_t *v)
{
	sqlite3_stmt *st = db->st[id];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : db_fail(db, rc, stmt_sql[id]);
	return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/*
 * Write transactions: a plain BEGIN IMMEDIATE/COMMIT, or inside a batch a savepoint
 * so that one failed write is undone without losing the rest of the batch.
 */
static int tx_begin(struct gw_db *db)
{
	int rc = run(db, db->batch_tx ? DB_STMT_SAVEPOINT : DB_STMT_BEGIN);
	return rc < 0 ? rc : 0;
}

static void tx_rollback(struct gw_db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return; /* nothing open (SQLite may have rolled back by itself) */
	if (db->batch_tx) {
		run(db, DB_STMT_ROLLBACK_TO);
		run(db, DB_STMT_RELEASE);
	} else {
		run(db, DB_STMT_ROLLBACK);
	}
}

/* End the transaction begun by tx_begin: commit when rc >= 0, else roll back. Returns rc. */
static int tx_end(struct gw_db *db, int rc)
{
	if (rc >= 0) {
		int c = run(db, db->batch_tx ? DB_STMT_RELEASE : DB_STMT_COMMIT);
		if (c >= 0)
			return rc;
		rc = c;
	}
	tx_rollback(db);
	return rc;
}

/* ---- open / migrate ------------------------------------------------------------------ */

/* Run SQL text without preparing it for reuse; what names it in an error line. */
static int exec(struct gw_db *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_fail(db, rc, what);
}

/* One-off query returning a single integer (used before the statements are prepared). */
static int query_i64(struct gw_db *db, const char *sql, int64_t *v, bool *found)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, sql);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, rc, sql);
	return 0;
}

static int set_pragmas(struct gw_db *db)
{
	sqlite3_stmt *st;
	int rc;

	sqlite3_busy_timeout(db->h, SLOW_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->h, 1);
	rc = sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "PRAGMA journal_mode=WAL");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *mode = col_text(st, 0);
		if (!mode || strcmp(mode, "wal") != 0)
			LOGP(GW_LOG_DB, GW_LOG_WARN, "%s: journal_mode is %s, not wal", db->path,
			     mode ? mode : "?");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(db, rc, "PRAGMA journal_mode=WAL");
	if ((rc = exec(db, "PRAGMA synchronous=FULL", "synchronous=FULL")) < 0)
		return rc;
	return exec(db, "PRAGMA foreign_keys=ON", "foreign_keys=ON");
}

static int migrate(struct gw_db *db)
{
	int64_t v = 0;
	bool found;
	int rc;

	/* Up to date (the common case): no write transaction needed. */
	rc = query_i64(db, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'", &v,
		       &found);
	if (rc < 0)
		return rc;
	if (v == 1) {
		rc = query_i64(db, "SELECT max(version) FROM schema_version", &v, &found);
		if (rc < 0)
			return rc;
		if (v == SCHEMA_VERSION)
			return 0;
	}
	v = 0;
	if ((rc = exec(db, "BEGIN IMMEDIATE", "begin migration")) < 0)
		return rc;
	rc = exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
		  "create schema_version");
	if (rc >= 0)
		rc = query_i64(db, "SELECT max(version) FROM schema_version", &v, &found);
	if (rc < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR,
		     "%s: schema version %lld is newer than this build knows (%d): refusing to "
		     "open; upgrade rinki",
		     db->path, (long long)v, SCHEMA_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	if (v < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: invalid schema version %lld", db->path,
		     (long long)v);
		rc = -EBADMSG;
		goto fail;
	}
	for (int i = (int)v; i < SCHEMA_VERSION; i++) {
		char what[48];
		snprintf(what, sizeof(what), "migration to version %d", i + 1);
		if ((rc = exec(db, migrations[i].sql, what)) < 0)
			goto fail;
		if (migrations[i].post && (rc = migrations[i].post(db)) < 0)
			goto fail;
		LOGP(GW_LOG_DB, GW_LOG_INFO, "%s: schema migrated to version %d", db->path, i + 1);
	}
	if (v < SCHEMA_VERSION) {
		char sql[96];
		snprintf(sql, sizeof(sql),
			 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
			 SCHEMA_VERSION);
		if ((rc = exec(db, sql, "set schema_version")) < 0)
			goto fail;
	}
	return exec(db, "COMMIT", "commit migration");
fail:
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int prepare_all(struct gw_db *db)
{
	for (int i = 0; i < DB_STMT_COUNT; i++) {
		assert(stmt_sql[i]);
		int rc = sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &db->st[i], NULL);
		if (rc != SQLITE_OK)
			return db_fail(db, rc, stmt_sql[i]);
	}
	return 0;
}

int gw_db_schema_version(void)
{
	return SCHEMA_VERSION;
}

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
	r->kind = col_text(st, 3);
	r->kind_len = (size_t)sqlite3_column_bytes(st, 3);
	if (!r->kind)
		r->kind = "";
	r->detail = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : col_text(st, 4);
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
static int event_hash(struct gw_db *db, const struct ev_row *r, bool v3, const uint8_t *prev,
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
static int chain_existing(struct gw_db *db)
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
		if ((rc = event_hash(db, &r, false, prev, h)) < 0)
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
	done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, rc, stmt_sql[DB_STMT_HEAD_GET]);
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
	if ((rc = run_i64(db, DB_STMT_EVENT_NEXT_ID, &r.id)) < 0 ||
	    (rc = head_get(db, &head_id, prev, &found)) < 0 ||
	    (rc = event_hash(db, &r, r.id >= db->v3_from, prev, h)) < 0)
		return rc;
	bind_i64(st, "$id", r.id);
	if (incident > 0)
		bind_i64(st, "$incident", incident);
	else
		sqlite3_bind_null(st, param(st, "$incident"));
	bind_i64(st, "$t", t_ms);
	bind_text(st, "$kind", kind);
	bind_text(st, "$detail", detail);
	bind_blob(st, "$prev", prev, HASH_LEN);
	bind_blob(st, "$hash", h, HASH_LEN);
	if (detail)
		bind_blob(st, "$dhash", dh, HASH_LEN);
	else
		sqlite3_bind_null(st, param(st, "$dhash"));
	if ((rc = run(db, DB_STMT_EVENT_INSERT)) < 0)
		return rc;
	st = db->st[DB_STMT_HEAD_SET];
	bind_i64(st, "$id", r.id);
	bind_blob(st, "$hash", h, HASH_LEN);
	rc = run(db, DB_STMT_HEAD_SET);
	return rc < 0 ? rc : 1;
}

/* ---- open / close -------------------------------------------------------------------- */

/* Open db->h on db->path, bring the file to this build's schema, prepare the statements. */
static int db_connect(struct gw_db *db, unsigned flags)
{
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int rc;

	if (!(flags & GW_DB_NOCREATE))
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(db->path, &db->h, oflags, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "open");
	if ((rc = set_pragmas(db)) < 0 || (rc = migrate(db)) < 0 || (rc = prepare_all(db)) < 0 ||
	    (rc = run_i64(db, DB_STMT_CHAIN_META, &db->v3_from)) < 0)
		return rc;
	sqlite3_busy_timeout(db->h, db->busy_ms);
	return run_i64(db, DB_STMT_DATA_VERSION, &db->data_version);
}

static void db_disconnect(struct gw_db *db)
{
	for (int i = 0; i < DB_STMT_COUNT; i++) {
		sqlite3_finalize(db->st[i]);
		db->st[i] = NULL;
	}
	if (db->h && sqlite3_close(db->h) != SQLITE_OK)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: close: %s", db->path, sqlite3_errmsg(db->h));
	db->h = NULL;
}

/*
 * The file went away or failed with an I/O error: open it again (never creating it, an
 * operator restores it), swapping the new connection in only when it works.
 */
static int db_reconnect(struct gw_db *db)
{
	struct gw_db *n = calloc(1, sizeof(*n));
	int rc;

	if (!n)
		return -ENOMEM;
	n->path = db->path; /* borrowed */
	n->md = db->md;	    /* borrowed */
	n->busy_ms = db->busy_ms;
	rc = db_connect(n, GW_DB_NOCREATE);
	if (rc < 0) {
		db_disconnect(n);
		free(n);
		return rc;
	}
	db_disconnect(db);
	db->h = n->h;
	memcpy(db->st, n->st, sizeof(db->st));
	db->data_version = n->data_version;
	db->v3_from = n->v3_from;
	db->roster_dirty = true; /* it may be another file now: have the roster read again */
	db->gone = false;
	free(n);
	LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%s: database reopened", db->path);
	return 0;
}

static uint64_t new_origin(void)
{
	uint64_t v = 0;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v) && v)
		return v;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
}

static int scan_max_id(const struct gw_spool_rec *rec, void *arg)
{
	int64_t *next = arg;
	if (rec->type == GW_SPOOL_OPEN && rec->incident >= *next)
		*next = rec->incident + 1;
	return 0;
}

/* At open: is anything waiting in the spool? Cut a torn tail; ids there are taken. */
static int spool_scan(struct gw_db *db)
{
	struct gw_spool_scan scan;
	struct gw_spool *s;
	struct stat sb;
	int rc;

	if (stat(db->spool_path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "spool %s: %s", db->spool_path, strerror(-rc));
		return rc;
	}
	if (sb.st_size == 0)
		return 0;
	rc = gw_spool_open(db->spool_path, false, &s);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	rc = gw_spool_replay(s, scan_max_id, &db->next_incident, &scan);
	gw_spool_close(s);
	if (rc < 0)
		return rc;
	if (scan.records > 0) {
		db->spool_pending = true;
		LOGP(GW_LOG_DB, GW_LOG_NOTICE, "spool %s: %zu call-log record(s) waiting",
		     db->spool_path, scan.records);
	}
	return 0;
}

int gw_db_open_flags(const char *path, unsigned flags, struct gw_db **out)
{
	struct gw_db *db;
	int rc;

	assert(path && out);
	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->busy_ms = BUSY_TIMEOUT_MS;
	db->path = strdup(path);
	db->md = EVP_MD_CTX_new();
	if (!db->path || !db->md || asprintf(&db->spool_path, "%s.spool", path) < 0) {
		db->spool_path = NULL;
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = db_connect(db, flags)) < 0 ||
	    (rc = run_i64(db, DB_STMT_ROSTER_REV, &db->roster_rev)) < 0 ||
	    (rc = run_i64(db, DB_STMT_INCIDENT_NEXT_ID, &db->next_incident)) < 0 ||
	    (rc = spool_scan(db)) < 0)
		goto fail;
	db->origin = new_origin();
	if (db->spool_pending && (rc = gw_db_spool_replay(db)) < 0)
		LOGP(GW_LOG_DB, GW_LOG_WARN, "%s: spool not replayed yet (%s): will retry", path,
		     strerror(-rc));
	*out = db;
	return 0;
fail:
	gw_db_close(db);
	return rc;
}

int gw_db_open(const char *path, struct gw_db **out)
{
	return gw_db_open_flags(path, 0, out);
}

void gw_db_close(struct gw_db *db)
{
	if (!db)
		return;
	if (db->batch && gw_db_batch_commit(db) < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: batch lost at close", db->path);
	db_disconnect(db);
	EVP_MD_CTX_free(db->md);
	free(db->bbuf);
	free(db->spool_path);
	free(db->path);
	free(db);
}

void gw_db_set_busy_timeout(struct gw_db *db, int ms)
{
	assert(ms >= 0);
	db->busy_ms = ms;
	sqlite3_busy_timeout(db->h, ms);
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

	bind_i64(st, "$below", below);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = event_insert(db, sqlite3_column_int64(st, 0), now_ms, "interrupted",
				  INTERRUPTED_DETAIL);
		if (rc < 0)
			break;
	}
	done(st);
	if (rc < 0)
		return rc;
	if (s != SQLITE_DONE)
		return db_fail(db, s, stmt_sql[DB_STMT_OPEN_BELOW]);
	st = db->st[DB_STMT_INTERRUPTED_CLOSE];
	bind_i64(st, "$now", now_ms);
	bind_i64(st, "$below", below);
	return run(db, DB_STMT_INTERRUPTED_CLOSE);
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
		bind_i64(st, "$id", rec->incident);
		bind_i64(st, "$started", rec->t_ms);
		bind_text(st, "$caller", rec->caller);
		bind_text(st, "$caller_name", rec->caller_name);
		bind_text(st, "$line", rec->line);
		bind_i64(st, "$cci", rec->num);
		if ((rc = run(db, DB_STMT_INCIDENT_INSERT)) < 0)
			return rc;
		open_detail(rec->caller, rec->caller_name, rec->line, rec->num, detail,
			    sizeof(detail));
		return event_insert(db, rec->incident, rec->t_ms, "open", detail);
	case GW_SPOOL_EVENT:
		return event_insert(db, rec->incident, rec->t_ms, rec->kind, rec->detail);
	case GW_SPOOL_CLOSE:
		st = db->st[DB_STMT_INCIDENT_CLOSE];
		bind_i64(st, "$id", rec->incident);
		bind_i64(st, "$ended", rec->t_ms);
		bind_text(st, "$outcome", rec->outcome);
		if (rec->num >= 0)
			bind_i64(st, "$cause", rec->num);
		else
			sqlite3_bind_null(st, param(st, "$cause"));
		bind_text(st, "$accepted_by", rec->accepted_by);
		rc = run(db, DB_STMT_INCIDENT_CLOSE);
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
	}
	return -EINVAL;
}

/* The id of a new incident: after every id in the file and every id this connection gave. */
static int alloc_incident(struct gw_db *db, int64_t *id)
{
	int64_t next;
	int rc = run_i64(db, DB_STMT_INCIDENT_NEXT_ID, &next);

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
	if (!db->spool_pending)
		LOGP(GW_LOG_DB, GW_LOG_WARN,
		     "%s: database unavailable: call-log writes go to %s until it works again",
		     db->path, db->spool_path);
	db->spool_pending = true;
	return 0;
}

/* Roll back the whole batch transaction (not just the last write's savepoint). */
static void batch_abandon(struct gw_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		run(db, DB_STMT_ROLLBACK);
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

/*
 * One call-log write: to the database, or to the spool when the spool already holds
 * records (order) or the database cannot take it now. An OPEN gets its incident id here.
 */
static int log_write(struct gw_db *db, struct gw_spool_rec *rec)
{
	bool flush = false;
	int rc = 0;

	rec->origin = db->origin;
	rec->seq = ++db->seq;
	db->unavailable = false;
	if (!db->spool_pending) {
		if (!db->batch_tx && db_moved(db))
			rc = -ENOENT;
		else if ((rc = tx_begin(db)) >= 0) {
			if (rec->type == GW_SPOOL_OPEN)
				rc = alloc_incident(db, &rec->incident);
			if (rc >= 0)
				rc = apply(db, rec);
			rc = tx_end(db, rc);
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
	if (rc >= 0 && rec->type == GW_SPOOL_MARK)
		rc = 0; /* how many is known only at replay */
out:
	if (rc >= 0 && rec->type == GW_SPOOL_OPEN && rec->incident >= db->next_incident)
		db->next_incident = rec->incident + 1;
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
	db->blen = 0;
	db->bbuf_lost = false;
	if (!db->spool_pending) {
		db->unavailable = false;
		rc = run(db, DB_STMT_BEGIN);
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
	if (!db->batch_tx)
		return 0;
	db->batch_tx = false;
	db->unavailable = false;
	rc = run(db, DB_STMT_COMMIT);
	if (rc >= 0) {
		db->blen = 0;
		return 0;
	}
	if (!sqlite3_get_autocommit(db->h))
		run(db, DB_STMT_ROLLBACK);
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
    [GW_SPOOL_OPEN] = "open",
    [GW_SPOOL_EVENT] = "event",
    [GW_SPOOL_CLOSE] = "close",
    [GW_SPOOL_MARK] = "mark-interrupted",
};

/* Apply one spooled record unless its key says it was applied before. 0 or -errno (stop). */
static int replay_one(const struct gw_spool_rec *rec, void *arg)
{
	struct replay *r = arg;
	struct gw_db *db = r->db;
	sqlite3_stmt *st = db->st[DB_STMT_APPLIED_CHECK];
	int64_t seen = 0;
	int rc;

	bind_i64(st, "$origin", (int64_t)rec->origin);
	bind_i64(st, "$seq", (int64_t)rec->seq);
	if ((rc = run_i64(db, DB_STMT_APPLIED_CHECK, &seen)) < 0)
		return rc;
	if (seen) {
		r->skipped++;
		return 0;
	}
	if ((rc = run(db, DB_STMT_SAVEPOINT)) < 0)
		return rc;
	rc = apply(db, rec);
	if (rc < 0 && db->unavailable)
		return rc; /* the caller rolls the whole replay back */
	if (rc < 0) {
		run(db, DB_STMT_ROLLBACK_TO);
		LOGP(GW_LOG_DB, GW_LOG_ERROR,
		     "spool %s: %s record for incident %lld at %lld dropped: %s", db->spool_path,
		     rec_names[rec->type], (long long)rec->incident, (long long)rec->t_ms,
		     strerror(-rc));
		r->dropped++;
	} else {
		r->applied++;
	}
	if ((rc = run(db, DB_STMT_RELEASE)) < 0)
		return rc;
	st = db->st[DB_STMT_APPLIED_INSERT];
	bind_i64(st, "$origin", (int64_t)rec->origin);
	bind_i64(st, "$seq", (int64_t)rec->seq);
	if ((rc = run(db, DB_STMT_APPLIED_INSERT)) < 0)
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
	if ((rc = run(db, DB_STMT_BEGIN)) >= 0) {
		rc = gw_spool_replay(s, replay_one, &r, &scan);
		if (rc >= 0)
			rc = run(db, DB_STMT_COMMIT);
		if (rc < 0 && !sqlite3_get_autocommit(db->h))
			run(db, DB_STMT_ROLLBACK);
	}
	if (rc >= 0)
		rc = gw_spool_clear(s);
	if (rc >= 0) {
		db->spool_pending = false;
		/* Every key there belonged to a record now gone from the file. */
		run(db, DB_STMT_APPLIED_CLEAR);
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
	return db->spool_pending;
}

static void incident_from_row(sqlite3_stmt *st, struct gw_db_incident *inc)
{
	memset(inc, 0, sizeof(*inc));
	inc->id = sqlite3_column_int64(st, 0);
	inc->started_ms = sqlite3_column_int64(st, 1);
	inc->ended = sqlite3_column_type(st, 2) != SQLITE_NULL;
	inc->ended_ms = sqlite3_column_int64(st, 2);
	inc->caller = col_text(st, 3);
	inc->caller_name = col_text(st, 4);
	inc->line = col_text(st, 5);
	inc->radio_cci = sqlite3_column_int(st, 6);
	inc->outcome = col_text(st, 7);
	inc->has_cause = sqlite3_column_type(st, 8) != SQLITE_NULL;
	inc->cause = sqlite3_column_int(st, 8);
	inc->accepted_by = col_text(st, 9);
	if (!inc->caller)
		inc->caller = "";
}

/* Step a row-returning statement, calling row() per row. Returns the row count or -errno. */
static int each_row(struct gw_db *db, enum db_stmt id, void (*row)(sqlite3_stmt *, void *),
		    void *arg)
{
	sqlite3_stmt *st = db->st[id];
	int n = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row(st, arg);
		n++;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, stmt_sql[id]);
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
	    .kind = col_text(st, 2),
	    .detail = col_text(st, 3),
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
	bind_i64(db->st[DB_STMT_INCIDENT_LIST], "$limit", limit);
	return each_row(db, DB_STMT_INCIDENT_LIST, incident_row, &cb);
}

int gw_db_incident_get(struct gw_db *db, int64_t id, gw_db_incident_fn fn, void *arg)
{
	struct incident_cb cb = {.fn = fn, .arg = arg};
	int n;

	assert(fn);
	bind_i64(db->st[DB_STMT_INCIDENT_GET], "$id", id);
	n = each_row(db, DB_STMT_INCIDENT_GET, incident_row, &cb);
	if (n < 0)
		return n;
	return n == 0 ? -ENOENT : 0;
}

int gw_db_event_list(struct gw_db *db, int64_t incident, gw_db_event_fn fn, void *arg)
{
	struct incident_cb cb = {.efn = fn, .arg = arg};

	assert(fn);
	bind_i64(db->st[DB_STMT_EVENT_LIST], "$incident", incident);
	return each_row(db, DB_STMT_EVENT_LIST, event_row, &cb);
}

int gw_db_incident_range(struct gw_db *db, int64_t from_ms, int64_t to_ms, gw_db_incident_fn fn,
			 void *arg)
{
	struct incident_cb cb = {.fn = fn, .arg = arg};
	sqlite3_stmt *st = db->st[DB_STMT_INCIDENT_RANGE];

	assert(fn);
	bind_i64(st, "$from", from_ms);
	bind_i64(st, "$to", to_ms);
	return each_row(db, DB_STMT_INCIDENT_RANGE, incident_row, &cb);
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
			if ((rc = event_hash(db, &r, v3, prev, h)) < 0)
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
	done(st);
	if (rc < 0)
		return rc;
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return db_fail(db, s, stmt_sql[DB_STMT_CHAIN_WALK]);
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
	bind_i64(st, "$incident", inc->id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
		const char *kind = col_text(st, 2), *detail = col_text(st, 3);
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
	done(st);
	if (s != SQLITE_DONE)
		return db_fail(db, s, stmt_sql[DB_STMT_EVENT_LIST]);
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
	if (own_tx && (rc = run(db, DB_STMT_BEGIN_READ)) < 0)
		return rc;
	rc = chain_walk(db, v);
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_db_incident inc;
		incident_from_row(st, &inc);
		v->incidents++;
		rc = incident_check(db, &inc, v);
	}
	done(st);
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_fail(db, s, stmt_sql[DB_STMT_INCIDENT_ALL]);
	if (own_tx && !sqlite3_get_autocommit(db->h))
		run(db, rc < 0 ? DB_STMT_ROLLBACK : DB_STMT_COMMIT);
	if (rc == 1)
		LOGP(GW_LOG_DB, GW_LOG_WARN,
		     "%s: call log chain broken at event %lld (incident %lld): %s", db->path,
		     (long long)v->bad_event, (long long)v->bad_incident, v->reason);
	return rc;
}

int gw_db_log_verify(struct gw_db *db, int64_t *bad_event_id)
{
	struct gw_db_verify v;
	int rc = gw_db_log_verify_report(db, &v);

	if (bad_event_id)
		*bad_event_id = rc == 1 ? v.bad_event : 0;
	return rc;
}

/* ---- roster tables ------------------------------------------------------------------- */

void gw_db_roster_clear(struct gw_db_roster *r)
{
	for (size_t i = 0; i < r->n_lines; i++) {
		free(r->lines[i].code);
		free(r->lines[i].name_fi);
		free(r->lines[i].name_sv);
		free(r->lines[i].name_en);
	}
	for (size_t i = 0; i < r->n_workers; i++) {
		free(r->workers[i].handle);
		free(r->workers[i].name);
		free(r->workers[i].phone);
		free(r->workers[i].issi);
		free(r->workers[i].lang);
		if (r->workers[i].pin_hash) /* not left behind in freed memory */
			explicit_bzero(r->workers[i].pin_hash, strlen(r->workers[i].pin_hash));
		free(r->workers[i].pin_hash);
	}
	for (size_t i = 0; i < r->n_shifts; i++) {
		free(r->shifts[i].line);
		free(r->shifts[i].worker);
		free(r->shifts[i].temp);
	}
	for (size_t i = 0; i < r->n_routes; i++) {
		free(r->routes[i].line);
		free(r->routes[i].prefix);
	}
	for (size_t i = 0; i < r->n_dirs; i++) {
		free(r->dirs[i].issi);
		free(r->dirs[i].org);
	}
	for (size_t i = 0; i < r->n_rotations; i++) {
		struct gw_db_rotation *x = &r->rotations[i];
		free(x->name);
		free(x->line);
		free(x->kind);
		free(x->start_date);
		free(x->end_date);
		free(x->hours);
		free(x->temp);
	}
	for (size_t i = 0; i < r->n_members; i++) {
		free(r->members[i].rotation);
		free(r->members[i].worker);
	}
	for (size_t i = 0; i < r->n_overrides; i++) {
		free(r->overrides[i].kind);
		free(r->overrides[i].line);
		free(r->overrides[i].worker);
		free(r->overrides[i].by);
	}
	for (size_t i = 0; i < r->n_steps; i++) {
		free(r->steps[i].line);
		free(r->steps[i].kind);
		free(r->steps[i].who);
	}
	for (size_t i = 0; i < r->n_chains; i++) {
		free(r->chains[i].line);
		free(r->chains[i].fallback);
	}
	for (size_t i = 0; i < r->n_holidays; i++) {
		free(r->holidays[i].date);
		free(r->holidays[i].name);
	}
	for (size_t i = 0; i < r->n_temps; i++) {
		free(r->temps[i].name);
		free(r->temps[i].line);
		free(r->temps[i].from_date);
		free(r->temps[i].to_date);
	}
	free(r->temps);
	free(r->lines);
	free(r->workers);
	free(r->shifts);
	free(r->routes);
	free(r->dirs);
	free(r->rotations);
	free(r->members);
	free(r->overrides);
	free(r->steps);
	free(r->chains);
	free(r->holidays);
	memset(r, 0, sizeof(*r));
}

/* Reading rows into growing arrays; any allocation failure is remembered in oom. */
struct reader {
	struct gw_db_roster *r;
	size_t cap[12]; /* capacity of each array, in struct gw_db_roster order */
	bool oom;
};

static char *dup_col(struct reader *rd, sqlite3_stmt *st, int i, bool nullable)
{
	const char *s = col_text(st, i);
	char *d;

	if (!s && nullable)
		return NULL;
	d = strdup(s ? s : "");
	if (!d)
		rd->oom = true;
	return d;
}

/* Append one zeroed slot to *arr (elem bytes each, *n used, *cap allocated); NULL on ENOMEM. */
static void *grow(struct reader *rd, void **arr, size_t *n, size_t *cap, size_t elem)
{
	void *p;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		p = reallocarray(*arr, ncap, elem);
		if (!p) {
			rd->oom = true;
			return NULL;
		}
		*arr = p;
		*cap = ncap;
	}
	p = (char *)*arr + *n * elem;
	memset(p, 0, elem);
	(*n)++;
	return p;
}

#define GROW(rd, arr, n, k)                                                                        \
	grow(rd, (void **)&(rd)->r->arr, &(rd)->r->n, &(rd)->cap[k], sizeof(*(rd)->r->arr))

static void line_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_line *l = GROW(rd, lines, n_lines, 0);
	if (!l)
		return;
	l->code = dup_col(rd, st, 0, false);
	l->name_fi = dup_col(rd, st, 1, false);
	l->name_sv = dup_col(rd, st, 2, false);
	l->name_en = dup_col(rd, st, 3, false);
}

static void worker_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_worker *w = GROW(rd, workers, n_workers, 1);
	if (!w)
		return;
	w->handle = dup_col(rd, st, 0, false);
	w->name = dup_col(rd, st, 1, false);
	w->phone = dup_col(rd, st, 2, false);
	w->issi = dup_col(rd, st, 3, true);
	w->active = sqlite3_column_int(st, 4) != 0;
	w->lang = dup_col(rd, st, 5, false);
	w->pin_hash = dup_col(rd, st, 6, true);
}

static void shift_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_shift *s = GROW(rd, shifts, n_shifts, 2);
	if (!s)
		return;
	s->line = dup_col(rd, st, 0, false);
	s->worker = dup_col(rd, st, 1, false);
	s->start_ms = sqlite3_column_int64(st, 2);
	s->end_ms = sqlite3_column_int64(st, 3);
	s->position = sqlite3_column_int(st, 4);
	s->temp = dup_col(rd, st, 5, true);
}

static void route_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_route *rt = GROW(rd, routes, n_routes, 3);
	if (!rt)
		return;
	rt->line = dup_col(rd, st, 0, false);
	rt->prefix = dup_col(rd, st, 1, false);
	rt->priority = sqlite3_column_int(st, 2);
	rt->days = sqlite3_column_int(st, 3);
	rt->window = sqlite3_column_type(st, 4) != SQLITE_NULL;
	rt->from_min = sqlite3_column_int(st, 4);
	rt->to_min = sqlite3_column_int(st, 5);
	rt->holidays = sqlite3_column_int(st, 6);
	rt->has_status = sqlite3_column_type(st, 7) != SQLITE_NULL;
	rt->status = sqlite3_column_int(st, 7);
}

static void dir_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_dir *d = GROW(rd, dirs, n_dirs, 4);
	if (!d)
		return;
	d->issi = dup_col(rd, st, 0, false);
	d->org = dup_col(rd, st, 1, false);
}

static void rotation_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_rotation *x = GROW(rd, rotations, n_rotations, 5);
	if (!x)
		return;
	x->name = dup_col(rd, st, 0, false);
	x->line = dup_col(rd, st, 1, false);
	x->kind = dup_col(rd, st, 2, false);
	x->start_date = dup_col(rd, st, 3, false);
	x->end_date = dup_col(rd, st, 4, true);
	x->handoff_min = sqlite3_column_int(st, 5);
	x->position = sqlite3_column_int(st, 6);
	x->hours = dup_col(rd, st, 7, false);
	x->temp = dup_col(rd, st, 8, true);
}

static void member_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_member *m = GROW(rd, members, n_members, 6);
	if (!m)
		return;
	m->rotation = dup_col(rd, st, 0, false);
	m->order = sqlite3_column_int(st, 1);
	m->worker = dup_col(rd, st, 2, false);
}

static void override_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_override *o = GROW(rd, overrides, n_overrides, 7);
	if (!o)
		return;
	o->id = sqlite3_column_int64(st, 0);
	o->kind = dup_col(rd, st, 1, false);
	o->line = dup_col(rd, st, 2, true);
	o->worker = dup_col(rd, st, 3, false);
	o->by = dup_col(rd, st, 4, true);
	o->start_ms = sqlite3_column_int64(st, 5);
	o->end_ms = sqlite3_column_int64(st, 6);
	o->position = sqlite3_column_int(st, 7);
}

static void step_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_chain_step *c = GROW(rd, steps, n_steps, 8);
	if (!c)
		return;
	c->line = dup_col(rd, st, 0, false);
	c->order = sqlite3_column_int(st, 1);
	c->kind = dup_col(rd, st, 2, false);
	c->who = dup_col(rd, st, 3, false);
	c->ring_s = sqlite3_column_int(st, 4);
}

static void chain_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_chain *c = GROW(rd, chains, n_chains, 9);
	if (!c)
		return;
	c->line = dup_col(rd, st, 0, false);
	c->rounds = sqlite3_column_int(st, 1);
	c->fallback = dup_col(rd, st, 2, true);
	c->fallback_ring_s = sqlite3_column_int(st, 3);
}

static void temp_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_temp *x = GROW(rd, temps, n_temps, 11);
	if (!x)
		return;
	x->name = dup_col(rd, st, 0, false);
	x->line = dup_col(rd, st, 1, false);
	x->from_date = dup_col(rd, st, 2, false);
	x->to_date = dup_col(rd, st, 3, false);
	x->handoff_min = sqlite3_column_int(st, 4);
}

static void holiday_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_holiday *h = GROW(rd, holidays, n_holidays, 10);
	if (!h)
		return;
	h->date = dup_col(rd, st, 0, false);
	h->name = dup_col(rd, st, 1, false);
}

int gw_db_roster_read(struct gw_db *db, struct gw_db_roster *out)
{
	static const struct {
		enum db_stmt id;
		void (*row)(sqlite3_stmt *, void *);
	} tables[] = {
	    {DB_STMT_LINE_LIST, line_row},	 {DB_STMT_WORKER_LIST, worker_row},
	    {DB_STMT_SHIFT_LIST, shift_row},	 {DB_STMT_ROUTE_LIST, route_row},
	    {DB_STMT_DIR_LIST, dir_row},	 {DB_STMT_ROT_LIST, rotation_row},
	    {DB_STMT_MEMBER_LIST, member_row},	 {DB_STMT_OVR_LIST, override_row},
	    {DB_STMT_STEP_LIST, step_row},	 {DB_STMT_CHAIN_LIST, chain_row},
	    {DB_STMT_HOLIDAY_LIST, holiday_row}, {DB_STMT_TEMP_LIST, temp_row},
	};
	struct reader rd = {.r = out};
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = run(db, DB_STMT_BEGIN_READ)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && rc >= 0 && !rd.oom; i++)
		rc = each_row(db, tables[i].id, tables[i].row, &rd);
	if (rc >= 0 && rd.oom)
		rc = -ENOMEM;
	if (rc >= 0)
		rc = run(db, DB_STMT_COMMIT);
	if (rc < 0) {
		if (!sqlite3_get_autocommit(db->h))
			run(db, DB_STMT_ROLLBACK);
		gw_db_roster_clear(out);
		return rc;
	}
	return 0;
}

/* Run an INSERT ... SELECT that names rows by handle or name: no row inserted is -ENOENT. */
static int insert_named(struct gw_db *db, enum db_stmt id, const char *what, const char *name)
{
	int rc = run(db, id);

	if (rc == 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: %s names unknown %s", db->path, what, name);
		rc = -ENOENT;
	}
	return rc;
}

static int worker_insert(struct gw_db *db, const struct gw_db_worker *w)
{
	sqlite3_stmt *st = db->st[DB_STMT_WORKER_INSERT];

	bind_text(st, "$handle", w->handle);
	bind_text(st, "$name", w->name);
	bind_text(st, "$phone", w->phone);
	bind_text(st, "$issi", w->issi);
	bind_i64(st, "$active", w->active);
	bind_text(st, "$lang", w->lang);
	return run(db, DB_STMT_WORKER_INSERT);
}

static int override_insert(struct gw_db *db, const struct gw_db_override *o)
{
	sqlite3_stmt *st = db->st[DB_STMT_OVR_INSERT];

	bind_text(st, "$kind", o->kind);
	bind_text(st, "$line", o->line);
	bind_text(st, "$worker", o->worker);
	bind_text(st, "$by", o->by);
	bind_i64(st, "$start", o->start_ms);
	bind_i64(st, "$end", o->end_ms);
	bind_i64(st, "$position", o->position);
	return insert_named(db, DB_STMT_OVR_INSERT, "override", o->by ? "worker(s)" : o->worker);
}

static int roster_insert(struct gw_db *db, const struct gw_db_roster *in)
{
	int rc = 0;

	for (size_t i = 0; i < in->n_lines && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_LINE_INSERT];
		bind_text(st, "$code", in->lines[i].code);
		bind_text(st, "$name_fi", in->lines[i].name_fi);
		bind_text(st, "$name_sv", in->lines[i].name_sv);
		bind_text(st, "$name_en", in->lines[i].name_en);
		rc = run(db, DB_STMT_LINE_INSERT);
	}
	for (size_t i = 0; i < in->n_workers && rc >= 0; i++)
		rc = worker_insert(db, &in->workers[i]);
	for (size_t i = 0; i < in->n_temps && rc >= 0; i++) {
		const struct gw_db_temp *x = &in->temps[i];
		sqlite3_stmt *st = db->st[DB_STMT_TEMP_INSERT];
		bind_text(st, "$name", x->name);
		bind_text(st, "$line", x->line);
		bind_text(st, "$from", x->from_date);
		bind_text(st, "$to", x->to_date);
		bind_i64(st, "$handoff", x->handoff_min);
		rc = run(db, DB_STMT_TEMP_INSERT);
	}
	for (size_t i = 0; i < in->n_shifts && rc >= 0; i++) {
		const struct gw_db_shift *s = &in->shifts[i];
		sqlite3_stmt *st = db->st[DB_STMT_SHIFT_INSERT];
		bind_text(st, "$line", s->line);
		bind_text(st, "$worker", s->worker);
		bind_i64(st, "$start", s->start_ms);
		bind_i64(st, "$end", s->end_ms);
		bind_i64(st, "$position", s->position);
		bind_text(st, "$temp", s->temp);
		rc = insert_named(db, DB_STMT_SHIFT_INSERT, "shift", s->worker);
	}
	for (size_t i = 0; i < in->n_routes && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_ROUTE_INSERT];
		bind_text(st, "$line", in->routes[i].line);
		bind_text(st, "$prefix", in->routes[i].prefix);
		bind_i64(st, "$priority", in->routes[i].priority);
		bind_i64(st, "$days", in->routes[i].days);
		bind_i64(st, "$holidays", in->routes[i].holidays);
		if (in->routes[i].window) {
			bind_i64(st, "$from", in->routes[i].from_min);
			bind_i64(st, "$to", in->routes[i].to_min);
		}
		if (in->routes[i].has_status)
			bind_i64(st, "$status", in->routes[i].status);
		rc = run(db, DB_STMT_ROUTE_INSERT);
	}
	for (size_t i = 0; i < in->n_dirs && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_DIR_INSERT];
		bind_text(st, "$issi", in->dirs[i].issi);
		bind_text(st, "$org", in->dirs[i].org);
		rc = run(db, DB_STMT_DIR_INSERT);
	}
	for (size_t i = 0; i < in->n_rotations && rc >= 0; i++) {
		const struct gw_db_rotation *x = &in->rotations[i];
		sqlite3_stmt *st = db->st[DB_STMT_ROT_INSERT];
		bind_text(st, "$name", x->name);
		bind_text(st, "$line", x->line);
		bind_text(st, "$kind", x->kind);
		bind_text(st, "$start", x->start_date);
		bind_text(st, "$end", x->end_date);
		bind_i64(st, "$handoff", x->handoff_min);
		bind_i64(st, "$position", x->position);
		bind_text(st, "$hours", x->hours);
		bind_text(st, "$temp", x->temp);
		rc = run(db, DB_STMT_ROT_INSERT);
	}
	for (size_t i = 0; i < in->n_members && rc >= 0; i++) {
		const struct gw_db_member *m = &in->members[i];
		sqlite3_stmt *st = db->st[DB_STMT_MEMBER_INSERT];
		bind_text(st, "$rotation", m->rotation);
		bind_i64(st, "$ord", m->order);
		bind_text(st, "$worker", m->worker);
		rc = insert_named(db, DB_STMT_MEMBER_INSERT, "rotation member", m->worker);
	}
	for (size_t i = 0; i < in->n_overrides && rc >= 0; i++)
		rc = override_insert(db, &in->overrides[i]);
	for (size_t i = 0; i < in->n_steps && rc >= 0; i++) {
		const struct gw_db_chain_step *c = &in->steps[i];
		sqlite3_stmt *st = db->st[DB_STMT_STEP_INSERT];
		bind_text(st, "$line", c->line);
		bind_i64(st, "$ord", c->order);
		bind_text(st, "$kind", c->kind);
		bind_text(st, "$who", c->who);
		bind_i64(st, "$ring", c->ring_s);
		rc = insert_named(db, DB_STMT_STEP_INSERT, "chain step", c->who);
	}
	for (size_t i = 0; i < in->n_chains && rc >= 0; i++) {
		const struct gw_db_chain *c = &in->chains[i];
		sqlite3_stmt *st = db->st[DB_STMT_CHAIN_INSERT];
		bind_text(st, "$line", c->line);
		bind_i64(st, "$rounds", c->rounds);
		bind_text(st, "$fallback", c->fallback);
		bind_i64(st, "$ring", c->fallback_ring_s);
		rc = insert_named(db, DB_STMT_CHAIN_INSERT, "chain fallback", c->fallback);
	}
	for (size_t i = 0; i < in->n_holidays && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_HOLIDAY_INSERT];
		bind_text(st, "$date", in->holidays[i].date);
		bind_text(st, "$name", in->holidays[i].name);
		rc = run(db, DB_STMT_HOLIDAY_INSERT);
	}
	return rc;
}

/*
 * Roster edits: one write transaction (not on the call path: waits longer for a lock)
 * that bumps roster_meta.rev so rinkid reloads. edit() does the change; >= 0 commits.
 */
static int roster_edit(struct gw_db *db, int (*edit)(struct gw_db *db, const void *arg),
		       const void *arg, int64_t *rev_out)
{
	int64_t rev = 0;
	int rc;

	if (db->batch)
		return -EBUSY;
	sqlite3_busy_timeout(db->h, SLOW_BUSY_TIMEOUT_MS);
	rc = tx_begin(db);
	if (rc >= 0)
		rc = edit(db, arg);
	if (rc >= 0) {
		int b = run_i64(db, DB_STMT_ROSTER_REV_BUMP, &rev);
		if (b < 0)
			rc = b;
	}
	rc = tx_end(db, rc); /* rolls back nothing when tx_begin failed */
	sqlite3_busy_timeout(db->h, db->busy_ms);
	if (rc < 0)
		return rc;
	db->roster_rev = rev;
	db->roster_dirty = true;
	if (rev_out)
		*rev_out = rev;
	return rc;
}

static int replace_all(struct gw_db *db, const void *arg)
{
	/* Children before parents (foreign keys). */
	static const enum db_stmt deletes[] = {
	    DB_STMT_STEP_DELETE,   DB_STMT_CHAIN_DELETE,  DB_STMT_OVR_DELETE,
	    DB_STMT_MEMBER_DELETE, DB_STMT_ROT_DELETE,	  DB_STMT_SHIFT_DELETE,
	    DB_STMT_ROUTE_DELETE,  DB_STMT_DIR_DELETE,	  DB_STMT_HOLIDAY_DELETE,
	    DB_STMT_TEMP_DELETE,   DB_STMT_WORKER_DELETE, DB_STMT_LINE_DELETE,
	};
	int rc = 0;

	for (size_t i = 0; i < sizeof(deletes) / sizeof(deletes[0]) && rc >= 0; i++)
		rc = run(db, deletes[i]);
	if (rc >= 0)
		rc = roster_insert(db, arg);
	/* PINs stay with the handles that stay (the CSV never carries them). */
	return rc < 0 ? rc : run(db, DB_STMT_PIN_ORPHANS);
}

int gw_db_roster_replace(struct gw_db *db, const struct gw_db_roster *in)
{
	int64_t rev = 0;
	int rc = roster_edit(db, replace_all, in, &rev);

	if (rc < 0)
		return rc;
	LOGP(GW_LOG_DB, GW_LOG_INFO,
	     "%s: roster replaced (rev %lld): %zu lines, %zu workers, %zu shifts, %zu routes, "
	     "%zu directory entries, %zu rotations, %zu overrides, %zu chain steps",
	     db->path, (long long)rev, in->n_lines, in->n_workers, in->n_shifts, in->n_routes,
	     in->n_dirs, in->n_rotations, in->n_overrides, in->n_steps);
	return 0;
}

static int edit_worker_add(struct gw_db *db, const void *arg)
{
	return worker_insert(db, arg);
}

int gw_db_worker_add(struct gw_db *db, const struct gw_db_worker *w)
{
	int rc;

	assert(w && w->handle && w->name && w->phone);
	rc = roster_edit(db, edit_worker_add, w, NULL);
	return rc < 0 ? rc : 0;
}

/* One worker's active flag, or (hash set) PIN hash, by handle. */
struct worker_edit {
	const char *handle;
	bool active;
	const char *hash;
};

static int edit_worker(struct gw_db *db, const void *arg)
{
	const struct worker_edit *a = arg;
	enum db_stmt id = a->hash ? DB_STMT_PIN_SET : DB_STMT_WORKER_SET_ACTIVE;
	sqlite3_stmt *st = db->st[id];
	int rc;

	bind_text(st, "$handle", a->handle);
	if (a->hash)
		bind_text(st, "$hash", a->hash);
	else
		bind_i64(st, "$active", a->active);
	rc = run(db, id);
	return rc == 0 ? -ENOENT : rc;
}

int gw_db_worker_set_active(struct gw_db *db, const char *handle, bool active)
{
	struct worker_edit a = {handle, active, NULL};
	int rc = roster_edit(db, edit_worker, &a, NULL);

	return rc < 0 ? rc : 0;
}

int gw_db_worker_set_pin(struct gw_db *db, const char *handle, const char *hash)
{
	struct worker_edit a = {handle, false, hash};
	int rc;

	assert(handle && hash);
	rc = roster_edit(db, edit_worker, &a, NULL);
	if (rc < 0)
		return rc;
	/* The handle only: the hash is not for the log either. */
	LOGP(GW_LOG_DB, GW_LOG_INFO, "%s: PIN of worker %s set", db->path, handle);
	return 0;
}

struct ovr_add {
	const struct gw_db_override *o;
	int64_t id;
};

static int edit_override_add(struct gw_db *db, const void *arg)
{
	struct ovr_add *a = (struct ovr_add *)arg;
	int rc = override_insert(db, a->o);

	if (rc > 0)
		a->id = sqlite3_last_insert_rowid(db->h);
	return rc;
}

int gw_db_override_add(struct gw_db *db, const struct gw_db_override *o, int64_t *id_out)
{
	struct ovr_add a = {.o = o};
	int rc;

	assert(o && o->kind && o->worker);
	rc = roster_edit(db, edit_override_add, &a, NULL);
	if (rc < 0)
		return rc;
	if (id_out)
		*id_out = a.id;
	return 0;
}

static int edit_override_remove(struct gw_db *db, const void *arg)
{
	int rc;

	bind_i64(db->st[DB_STMT_OVR_DELETE_ID], "$id", *(const int64_t *)arg);
	rc = run(db, DB_STMT_OVR_DELETE_ID);
	return rc == 0 ? -ENOENT : rc;
}

int gw_db_override_remove(struct gw_db *db, int64_t id)
{
	int rc = roster_edit(db, edit_override_remove, &id, NULL);
	return rc < 0 ? rc : 0;
}

struct dir_set {
	const struct gw_db_dir *dirs;
	size_t n;
};

static int edit_directory(struct gw_db *db, const void *arg)
{
	const struct dir_set *d = arg;
	int rc = run(db, DB_STMT_DIR_DELETE);

	for (size_t i = 0; i < d->n && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_DIR_INSERT];
		bind_text(st, "$issi", d->dirs[i].issi);
		bind_text(st, "$org", d->dirs[i].org);
		rc = run(db, DB_STMT_DIR_INSERT);
	}
	return rc;
}

int gw_db_directory_replace(struct gw_db *db, const struct gw_db_dir *dirs, size_t n)
{
	struct dir_set d = {dirs, n};
	int rc = roster_edit(db, edit_directory, &d, NULL);

	if (rc < 0)
		return rc;
	LOGP(GW_LOG_DB, GW_LOG_INFO, "%s: directory replaced: %zu entries", db->path, n);
	return 0;
}

/* ---- system events, report, retention ------------------------------------------------ */

int gw_db_system_event_list(struct gw_db *db, gw_db_event_fn fn, void *arg)
{
	struct incident_cb cb = {.efn = fn, .arg = arg};

	assert(fn);
	return each_row(db, DB_STMT_SYSTEM_EVENT_LIST, event_row, &cb);
}

int gw_db_system_event_append(struct gw_db *db, int64_t t_ms, const char *kind, const char *detail)
{
	int rc;

	assert(kind);
	if (db->batch || db->spool_pending)
		return -EBUSY;
	rc = tx_begin(db);
	if (rc >= 0)
		rc = event_insert(db, 0, t_ms, kind, detail);
	rc = tx_end(db, rc);
	return rc < 0 ? rc : 0;
}

struct report_cb {
	gw_db_report_fn fn;
	void *arg;
};

static void report_row(sqlite3_stmt *st, void *arg)
{
	struct report_cb *cb = arg;
	struct gw_db_report_row row = {
	    .line = col_text(st, 0),
	    .calls = sqlite3_column_int64(st, 1),
	    .answered = sqlite3_column_int64(st, 2),
	    .answered_within = sqlite3_column_int64(st, 3),
	    .escalated = sqlite3_column_int64(st, 4),
	};
	if (!row.line)
		row.line = "";
	row.unanswered = row.calls - row.answered;
	cb->fn(&row, cb->arg);
}

int gw_db_report(struct gw_db *db, int64_t from_ms, int64_t to_ms, int64_t within_ms,
		 gw_db_report_fn fn, void *arg)
{
	struct report_cb cb = {fn, arg};
	sqlite3_stmt *st = db->st[DB_STMT_REPORT];

	assert(fn);
	bind_i64(st, "$from", from_ms);
	bind_i64(st, "$to", to_ms);
	bind_i64(st, "$within", within_ms);
	return each_row(db, DB_STMT_REPORT, report_row, &cb);
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
	rc = tx_begin(db);
	if (rc >= 0) {
		bind_i64(st, "$cutoff", cutoff);
		bind_i64(st, "$v3_from", db->v3_from);
		rc = n = run(db, DB_STMT_RETENTION_BLANK);
	}
	if (rc >= 0) {
		snprintf(detail, sizeof(detail), "cutoff %lld removed %d (older than %d days)",
			 (long long)cutoff, n, days);
		rc = event_insert(db, 0, now_ms, "retention", detail);
	}
	rc = tx_end(db, rc);
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
	const char *path = col_text(st, 0);
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
	bind_i64(db->st[DB_STMT_RECORDING_OLD], "$cutoff", cutoff);
	rc = each_row(db, DB_STMT_RECORDING_OLD, rec_path_row, &p);
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
		rc = tx_begin(db);
		if (rc >= 0)
			rc = event_insert(db, 0, now_ms, "recording_retention", detail);
		rc = tx_end(db, rc);
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

	if ((rc = run_i64(db, DB_STMT_DATA_VERSION, &dv)) < 0)
		return rc;
	if (dv != db->data_version) {
		if ((rc = run_i64(db, DB_STMT_ROSTER_REV, &rev)) < 0)
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
