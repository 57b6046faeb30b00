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
 * The module is four files behind one private header (db_priv.h): this file (the
 * connection, statements, errors, migrations, open and close), db_log.c (the call log, its
 * chain, spool replay, verification, report and retention), db_roster.c (the roster
 * tables), db_lockout.c (call-back PIN lock-outs) and db_anchor.c (the chain's keyed anchor
 * outside the database).
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
 *
 * A file replaced under the connection (a restored copy renamed over it) is found before
 * each call-log write (the name leads to another inode): the write is spooled and the
 * replay reopens the name; the old file's -wal and -shm are detached first (see
 * detach_moved()) so they are never read as the new file's.
 */
#include "store/db_priv.h"

#include <fcntl.h>
#include <limits.h>

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
     db_chain_existing},
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
    /*
     * v7: call-back PIN lock-outs (gw_db_lockout_*), one row per key ("worker:<handle>",
     * "phone:<E.164>"), wall-clock ms, so a restart does not lift one. Never evicted: a
     * row exists only for a roster worker with a PIN who typed a wrong one.
     */
    {"CREATE TABLE pin_lockouts ("
     " key TEXT PRIMARY KEY NOT NULL,"
     " fails INTEGER NOT NULL,"
     " last_fail_ms INTEGER NOT NULL,"
     " until_ms INTEGER NOT NULL) WITHOUT ROWID;",
     NULL},
    /*
     * v8: the writer thread's high-water mark: per origin (one rinkid run), the largest
     * sequence number of a queued call-log write already in the database (db_writer.c).
     */
    {"CREATE TABLE queue_applied ("
     " origin INTEGER PRIMARY KEY,"
     " seq INTEGER NOT NULL);",
     NULL},
    /*
     * v9: the manual layer, apart from the imported base roster: overrides, disables and
     * workers made with rinkictl, by handle and line code (no foreign keys), so a base
     * import keeps them (gw_db_roster_import). Overrides and inactive workers already
     * there may have come from rinkictl: they move to the manual layer, so the first
     * import after the upgrade lists them instead of dropping them; those the imported
     * file has too are folded into the base then.
     */
    {"CREATE TABLE manual_overrides ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT," /* an id is never given out twice */
     " kind TEXT NOT NULL CHECK (kind IN ('add', 'remove', 'replace')),"
     " line TEXT,"
     " worker TEXT NOT NULL,"
     " by_worker TEXT,"
     " start_utc INTEGER NOT NULL,"
     " end_utc INTEGER NOT NULL,"
     " position INTEGER NOT NULL DEFAULT 0,"
     " made_ms INTEGER NOT NULL,"
     " CHECK (end_utc > start_utc),"
     " CHECK ((kind = 'replace') = (by_worker IS NOT NULL)),"
     " CHECK (kind <> 'add' OR line IS NOT NULL));"
     "CREATE TABLE manual_workers ("
     " handle TEXT PRIMARY KEY NOT NULL,"
     " name TEXT,"
     " phone TEXT,"
     " issi TEXT,"
     " lang TEXT CHECK (lang IN ('fi', 'sv', 'en')),"
     " active INTEGER CHECK (active IN (0, 1)),"
     " made_ms INTEGER NOT NULL,"
     " CHECK ((name IS NULL) = (phone IS NULL)),"
     " CHECK (name IS NOT NULL OR active IS NOT NULL));"
     "CREATE VIEW worker_handles AS SELECT handle FROM workers"
     " UNION SELECT handle FROM manual_workers WHERE name IS NOT NULL;"
     "INSERT INTO manual_overrides (id, kind, line, worker, by_worker, start_utc, end_utc,"
     " position, made_ms) SELECT o.id, o.kind, o.line, w.handle, b.handle, o.start_utc,"
     " o.end_utc, o.position, 0 FROM overrides o JOIN workers w ON w.id = o.worker"
     " LEFT JOIN workers b ON b.id = o.by_worker;"
     "DELETE FROM overrides;"
     "INSERT INTO manual_workers (handle, active, made_ms)"
     " SELECT handle, 0, 0 FROM workers WHERE active = 0;",
     NULL},
    /*
     * v10: shift patterns (struct gw_db_rotation, kind "pattern"): a cycle of days, shifts
     * with their own start times, members staggered by step days. The rotations table is
     * rebuilt for its kind CHECK (foreign keys are off while migrating, see migrate()).
     */
    {"CREATE TABLE rotations_v8 ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"
     " line TEXT NOT NULL REFERENCES service_lines(code),"
     " kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly', 'pattern')),"
     " start_date TEXT NOT NULL,"
     " end_date TEXT,"
     " handoff_min INTEGER NOT NULL CHECK (handoff_min BETWEEN 0 AND 1439),"
     " position INTEGER NOT NULL,"
     " hours TEXT NOT NULL CHECK (hours IN ('all', 'office', 'after')),"
     " temp_roster TEXT REFERENCES temp_rosters(name),"
     " cycle TEXT,"
     " shifts TEXT,"
     " step INTEGER CHECK (step >= 0),"
     " CHECK ((kind = 'pattern') = (cycle IS NOT NULL AND shifts IS NOT NULL"
     " AND step IS NOT NULL)));"
     "INSERT INTO rotations_v8 (id, name, line, kind, start_date, end_date, handoff_min,"
     " position, hours, temp_roster) SELECT id, name, line, kind, start_date, end_date,"
     " handoff_min, position, hours, temp_roster FROM rotations;"
     "DROP TABLE rotations;"
     "ALTER TABLE rotations_v8 RENAME TO rotations;",
     NULL},
    /*
     * v11: a line's office hours and after-hours line (struct gw_db_line); existing lines
     * have none and are paged as before.
     */
    {"ALTER TABLE service_lines ADD COLUMN office_days INTEGER NOT NULL DEFAULT 0"
     " CHECK (office_days BETWEEN 0 AND 127);"
     "ALTER TABLE service_lines ADD COLUMN office_from INTEGER"
     " CHECK (office_from BETWEEN 0 AND 1439);"
     "ALTER TABLE service_lines ADD COLUMN office_to INTEGER"
     " CHECK (office_to BETWEEN 1 AND 1440);"
     "ALTER TABLE service_lines ADD COLUMN after_line TEXT;"
     /* and a directory entry's municipality, member or contract, for the report */
     "ALTER TABLE directory ADD COLUMN municipality TEXT;"
     "ALTER TABLE directory ADD COLUMN membership TEXT"
     " CHECK (membership IN ('member', 'contract'));",
     NULL},
    /*
     * v12: which county roster version the base roster is (rinki-sync's roster pull); no
     * row after a local import.
     */
    {"CREATE TABLE roster_source ("
     " one INTEGER PRIMARY KEY CHECK (one = 1),"
     " version INTEGER NOT NULL CHECK (version > 0),"
     " made_ms INTEGER NOT NULL,"
     " applied_ms INTEGER NOT NULL);",
     NULL},
    /*
     * v13: the manual layer holds a phone or language change of an imported worker too
     * (gw_db_worker_set_details): a row with no name (not an addition) may carry phone and
     * lang, which win over the base's. Rebuilt for its CHECKs; the view goes with it.
     */
    {"DROP VIEW worker_handles;"
     "CREATE TABLE manual_workers_v13 ("
     " handle TEXT PRIMARY KEY NOT NULL,"
     " name TEXT,"
     " phone TEXT,"
     " issi TEXT,"
     " lang TEXT CHECK (lang IN ('fi', 'sv', 'en')),"
     " active INTEGER CHECK (active IN (0, 1)),"
     " made_ms INTEGER NOT NULL,"
     " CHECK (name IS NULL OR phone IS NOT NULL),"
     " CHECK (name IS NOT NULL OR active IS NOT NULL OR phone IS NOT NULL"
     " OR lang IS NOT NULL));"
     "INSERT INTO manual_workers_v13 (handle, name, phone, issi, lang, active, made_ms)"
     " SELECT handle, name, phone, issi, lang, active, made_ms FROM manual_workers;"
     "DROP TABLE manual_workers;"
     "ALTER TABLE manual_workers_v13 RENAME TO manual_workers;"
     "CREATE VIEW worker_handles AS SELECT handle FROM workers"
     " UNION SELECT handle FROM manual_workers WHERE name IS NOT NULL;",
     NULL},
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))
#define INCIDENT_COLS                                                                              \
	"id, started_ms, ended_ms, caller, caller_name, line, radio_cci, outcome, cause, "         \
	"accepted_by"

const char *const db_stmt_sql[DB_STMT_COUNT] = {
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
    [DB_STMT_QUEUE_APPLIED_GET] = "SELECT coalesce(max(seq), 0) FROM queue_applied"
				  " WHERE origin = $origin",
    [DB_STMT_QUEUE_APPLIED_SET] =
	"INSERT INTO queue_applied (origin, seq) VALUES ($origin, $seq)"
	" ON CONFLICT (origin) DO UPDATE SET seq = max(seq, excluded.seq)",
    [DB_STMT_LINE_LIST] = "SELECT code, name_fi, name_sv, name_en, office_days, office_from,"
			  " office_to, after_line FROM service_lines ORDER BY code",
    /* The effective workers: base with the manual layer's flags, then manual additions. */
    [DB_STMT_WORKER_LIST] =
	"SELECT w.handle, w.name, coalesce(m.phone, w.phone), w.issi, coalesce(m.active, w.active),"
	" coalesce(m.lang, w.lang), p.hash,"
	" m.active IS NOT NULL, 0 FROM workers w"
	" LEFT JOIN manual_workers m ON m.handle = w.handle"
	" LEFT JOIN worker_pins p ON p.handle = w.handle"
	" UNION ALL SELECT m.handle, m.name, m.phone, m.issi, coalesce(m.active, 1),"
	" coalesce(m.lang, 'fi'), p.hash, m.active IS NOT NULL, 1 FROM manual_workers m"
	" LEFT JOIN worker_pins p ON p.handle = m.handle"
	" WHERE m.name IS NOT NULL AND m.handle NOT IN (SELECT handle FROM workers)"
	" ORDER BY 1",
    [DB_STMT_SHIFT_LIST] = "SELECT s.line, w.handle, s.start_utc, s.end_utc, s.position,"
			   " s.temp_roster"
			   " FROM shifts s JOIN workers w ON w.id = s.worker"
			   " ORDER BY s.line, s.start_utc, s.id",
    [DB_STMT_ROUTE_LIST] = "SELECT line, caller_prefix, priority, days, win_from, win_to,"
			   " holidays, status FROM routes ORDER BY id",
    [DB_STMT_DIR_LIST] = "SELECT issi, org, municipality, membership FROM directory"
			 " ORDER BY issi",
    [DB_STMT_SHIFT_DELETE] = "DELETE FROM shifts",
    [DB_STMT_ROUTE_DELETE] = "DELETE FROM routes",
    [DB_STMT_DIR_DELETE] = "DELETE FROM directory",
    [DB_STMT_WORKER_DELETE] = "DELETE FROM workers",
    [DB_STMT_LINE_DELETE] = "DELETE FROM service_lines",
    [DB_STMT_LINE_INSERT] = "INSERT INTO service_lines (code, name_fi, name_sv, name_en,"
			    " office_days, office_from, office_to, after_line)"
			    " VALUES ($code, $name_fi, $name_sv, $name_en, $office_days,"
			    " $office_from, $office_to, $after_line)",
    [DB_STMT_WORKER_INSERT] = "INSERT INTO workers (handle, name, phone, issi, active, lang)"
			      " VALUES ($handle, $name, $phone, $issi, $active,"
			      " coalesce($lang, 'fi'))",
    [DB_STMT_SHIFT_INSERT] =
	"INSERT INTO shifts (line, worker, start_utc, end_utc, position, temp_roster)"
	" SELECT $line, id, $start, $end, $position, $temp FROM workers WHERE handle = $worker",
    [DB_STMT_ROUTE_INSERT] = "INSERT INTO routes (line, caller_prefix, priority, days,"
			     " win_from, win_to, holidays, status) VALUES ($line, $prefix,"
			     " $priority, $days, $from, $to, $holidays, $status)",
    [DB_STMT_DIR_INSERT] = "INSERT INTO directory (issi, org, municipality, membership)"
			   " VALUES ($issi, $org, $municipality, $membership)",
    [DB_STMT_CHAIN_META] = "SELECT v3_from FROM chain_meta WHERE one = 1",
    [DB_STMT_SYSTEM_EVENT_LIST] = "SELECT id, t_ms, kind, detail, detail_hash IS NOT NULL"
				  " FROM incident_events WHERE incident IS NULL ORDER BY id",
    [DB_STMT_ROT_LIST] = "SELECT name, line, kind, start_date, end_date, handoff_min, position,"
			 " hours, temp_roster, cycle, shifts, coalesce(step, 0) FROM rotations"
			 " ORDER BY line, position, name",
    [DB_STMT_MEMBER_LIST] = "SELECT r.name, m.ord, w.handle FROM rotation_members m"
			    " JOIN rotations r ON r.id = m.rotation"
			    " JOIN workers w ON w.id = m.worker ORDER BY r.name, m.ord",
    /* Base overrides (manual 0), then the manual layer's (1), by start. */
    [DB_STMT_OVR_LIST] = "SELECT o.id, o.kind, o.line, w.handle, b.handle, o.start_utc,"
			 " o.end_utc, o.position, 0 FROM overrides o"
			 " JOIN workers w ON w.id = o.worker"
			 " LEFT JOIN workers b ON b.id = o.by_worker"
			 " UNION ALL SELECT id, kind, line, worker, by_worker, start_utc, end_utc,"
			 " position, 1 FROM manual_overrides ORDER BY 6, 9, 1",
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
	" hours, temp_roster, cycle, shifts, step) VALUES ($name, $line, $kind, $start, $end,"
	" $handoff, $position, $hours, $temp, $cycle, $shifts,"
	" CASE WHEN $kind = 'pattern' THEN $step END)",
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
    [DB_STMT_WORKER_SET_ACTIVE] =
	"INSERT INTO manual_workers (handle, active, made_ms)"
	" SELECT handle, $active, $now FROM worker_handles WHERE handle = $handle"
	" ON CONFLICT (handle) DO UPDATE SET active = excluded.active, made_ms = excluded.made_ms",
    [DB_STMT_WORKER_SET_DETAILS] =
	"INSERT INTO manual_workers (handle, phone, lang, made_ms)"
	" SELECT handle, $phone, $lang, $now FROM worker_handles WHERE handle = $handle"
	" ON CONFLICT (handle) DO UPDATE SET phone = coalesce(excluded.phone, phone),"
	" lang = coalesce(excluded.lang, lang), made_ms = excluded.made_ms",
    [DB_STMT_PIN_SET] = "INSERT INTO worker_pins (handle, hash)"
			" SELECT handle, $hash FROM worker_handles WHERE handle = $handle"
			" ON CONFLICT (handle) DO UPDATE SET hash = excluded.hash",
    [DB_STMT_PIN_CLEAR] = "DELETE FROM worker_pins WHERE handle = $handle",
    [DB_STMT_WORKER_EXISTS] = "SELECT 1 FROM worker_handles WHERE handle = $handle",
    [DB_STMT_PIN_ORPHANS] = "DELETE FROM worker_pins"
			    " WHERE handle NOT IN (SELECT handle FROM worker_handles)",
    [DB_STMT_OVR_DELETE_ID] = "DELETE FROM manual_overrides WHERE id = $id",
    [DB_STMT_EVENT_HASH] = "SELECT hash FROM incident_events WHERE id = $id",
    [DB_STMT_LOCKOUT_LIST] = "SELECT key, fails, last_fail_ms, until_ms FROM pin_lockouts"
			     " ORDER BY key",
    [DB_STMT_LOCKOUT_PUT] = "INSERT INTO pin_lockouts (key, fails, last_fail_ms, until_ms)"
			    " VALUES ($key, $fails, $last, $until) ON CONFLICT (key) DO UPDATE"
			    " SET fails = $fails, last_fail_ms = $last, until_ms = $until",
    [DB_STMT_MOVR_INSERT] =
	"INSERT INTO manual_overrides (kind, line, worker, by_worker, start_utc, end_utc,"
	" position, made_ms) SELECT $kind, $line, $worker, $by, $start, $end, $position, $now"
	" WHERE $worker IN (SELECT handle FROM worker_handles)"
	" AND ($by IS NULL OR $by IN (SELECT handle FROM worker_handles))"
	" AND ($line IS NULL OR $line IN (SELECT code FROM service_lines))",
    [DB_STMT_MWORKER_ADD] =
	"INSERT INTO manual_workers (handle, name, phone, issi, lang, active, made_ms)"
	" SELECT $handle, $name, $phone, $issi, coalesce($lang, 'fi'),"
	" CASE WHEN $active THEN NULL ELSE 0 END, $now"
	" WHERE $handle NOT IN (SELECT handle FROM workers) ON CONFLICT (handle) DO NOTHING",
    /* Each manual override after a base import: still valid? the same as a base one? */
    [DB_STMT_MOVR_CHECK] =
	"SELECT m.id, m.kind, m.line, m.worker, m.by_worker, m.start_utc, m.end_utc,"
	" m.worker IN (SELECT handle FROM worker_handles)"
	" AND (m.by_worker IS NULL OR m.by_worker IN (SELECT handle FROM worker_handles))"
	" AND (m.line IS NULL OR m.line IN (SELECT code FROM service_lines)),"
	" EXISTS (SELECT 1 FROM overrides o JOIN workers w ON w.id = o.worker"
	" LEFT JOIN workers b ON b.id = o.by_worker WHERE o.kind = m.kind"
	" AND o.line IS m.line AND w.handle = m.worker AND b.handle IS m.by_worker"
	" AND o.start_utc = m.start_utc AND o.end_utc = m.end_utc"
	" AND o.position = m.position)"
	" FROM manual_overrides m ORDER BY m.id",
    /*
     * Each manual worker after a base import: added?, its flag, the base's flag (or NULL),
     * its phone and language, the base's.
     */
    [DB_STMT_MWORKER_CHECK] = "SELECT m.handle, m.name IS NOT NULL, m.active, w.active,"
			      " m.phone, m.lang, w.phone, w.lang"
			      " FROM manual_workers m LEFT JOIN workers w ON w.handle = m.handle"
			      " ORDER BY m.handle",
    [DB_STMT_MWORKER_DELETE] = "DELETE FROM manual_workers WHERE handle = $handle",
    [DB_STMT_MWORKER_UNADD] = "UPDATE manual_workers SET name = NULL, phone = NULL,"
			      " issi = NULL, lang = NULL WHERE handle = $handle",
    /* One row per incident started in [$from, $to): what gw_db_report_incidents() hands out. */
    [DB_STMT_REPORT] =
	"SELECT i.id, i.started_ms, coalesce(i.line, ''), i.caller, i.caller_name, i.outcome,"
	" (SELECT e.t_ms FROM incident_events e WHERE e.incident = i.id"
	"  AND e.kind = 'accepted' ORDER BY e.id LIMIT 1),"
	" (SELECT e.detail FROM incident_events e WHERE e.incident = i.id"
	"  AND e.kind = 'accepted' ORDER BY e.id LIMIT 1),"
	" (SELECT e.detail FROM incident_events e WHERE e.incident = i.id"
	"  AND e.kind = 'page' ORDER BY e.id LIMIT 1),"
	" (SELECT e.detail FROM incident_events e WHERE e.incident = i.id"
	"  AND e.kind = 'page' AND e.detail LIKE '% fallback' ORDER BY e.id LIMIT 1),"
	" (SELECT count(*) FROM incident_events e WHERE e.incident = i.id AND e.kind = 'page'),"
	" EXISTS (SELECT 1 FROM incident_events e WHERE e.incident = i.id"
	"  AND e.kind = 'sds_text'),"
	" EXISTS (SELECT 1 FROM incident_events e WHERE e.incident = i.id"
	"  AND e.kind = 'sds_status')"
	" FROM incidents i WHERE i.started_ms >= $from AND i.started_ms < $to"
	" ORDER BY i.started_ms, i.id",
    [DB_STMT_INCIDENT_COUNT] =
	"SELECT count(*) FROM incidents WHERE started_ms >= $from AND started_ms < $to",
    [DB_STMT_RETENTION_BLANK] =
	"UPDATE incident_events SET detail = NULL WHERE kind IN ('sms_text', 'sds_text')"
	" AND t_ms < $cutoff AND detail IS NOT NULL AND id >= $v3_from",
    [DB_STMT_RECORDING_OLD] = "SELECT detail FROM incident_events WHERE kind = 'recording'"
			      " AND t_ms < $cutoff AND detail IS NOT NULL ORDER BY id",
    [DB_STMT_RSRC_SET] = "INSERT INTO roster_source (one, version, made_ms, applied_ms)"
			 " VALUES (1, $version, $made, $applied) ON CONFLICT (one) DO UPDATE"
			 " SET version = $version, made_ms = $made, applied_ms = $applied",
    [DB_STMT_RSRC_CLEAR] = "DELETE FROM roster_source",
    [DB_STMT_RSRC_GET] = "SELECT version, made_ms, applied_ms FROM roster_source",
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
int db_fail(struct gw_db *db, int rc, const char *what)
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
	LOGP(GW_LOG_DB, db->quiet ? GW_LOG_DEBUG : GW_LOG_ERROR, "%s: %s: %s (sqlite %d)", db->path,
	     what, msg, rc);
	return err;
}

/* ---- statement helpers --------------------------------------------------------------- */

int db_param(sqlite3_stmt *st, const char *name)
{
	int i = sqlite3_bind_parameter_index(st, name);
	assert(i > 0 && "statement has no such parameter");
	return i;
}

void db_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = db_param(st, name);
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

void db_bind_i64(sqlite3_stmt *st, const char *name, int64_t v)
{
	sqlite3_bind_int64(st, db_param(st, name), v);
}

void db_bind_blob(sqlite3_stmt *st, const char *name, const uint8_t *v, int n)
{
	sqlite3_bind_blob(st, db_param(st, name), v, n, SQLITE_STATIC);
}

void db_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a statement that returns no rows. Returns sqlite3_changes() or -errno. */
int db_run(struct gw_db *db, enum db_stmt id)
{
	sqlite3_stmt *st = db->st[id];
	int rc = sqlite3_step(st);

	db_done(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, db_stmt_sql[id]);
	return sqlite3_changes(db->h);
}

/* Step a statement that returns one integer in its first row. 0 or -errno. */
int db_run_i64(struct gw_db *db, enum db_stmt id, int64_t *v)
{
	sqlite3_stmt *st = db->st[id];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	db_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : db_fail(db, rc, db_stmt_sql[id]);
	return 0;
}

const char *db_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/*
 * Write transactions: a plain BEGIN IMMEDIATE/COMMIT, or inside a batch a savepoint
 * so that one failed write is undone without losing the rest of the batch.
 */
int db_tx_begin(struct gw_db *db)
{
	int rc = db_run(db, db->batch_tx ? DB_STMT_SAVEPOINT : DB_STMT_BEGIN);
	return rc < 0 ? rc : 0;
}

static void tx_rollback(struct gw_db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return; /* nothing open (SQLite may have rolled back by itself) */
	if (db->batch_tx) {
		db_run(db, DB_STMT_ROLLBACK_TO);
		db_run(db, DB_STMT_RELEASE);
	} else {
		db_run(db, DB_STMT_ROLLBACK);
	}
}

/* End the transaction begun by tx_begin: commit when rc >= 0, else roll back. Returns rc. */
int db_tx_end(struct gw_db *db, int rc)
{
	if (rc >= 0) {
		int c = db_run(db, db->batch_tx ? DB_STMT_RELEASE : DB_STMT_COMMIT);
		if (c >= 0 && !db->batch_tx)
			db_anchor_commit(db);
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
		const char *mode = db_col_text(st, 0);
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
	/*
	 * Foreign keys are off while migrating (a migration may rebuild a table that others
	 * refer to, SQLite's documented way); PRAGMA foreign_key_check runs before the commit.
	 */
	if ((rc = exec(db, "PRAGMA foreign_keys=OFF", "foreign_keys=OFF")) < 0)
		return rc;
	if ((rc = exec(db, "BEGIN IMMEDIATE", "begin migration")) < 0)
		goto fk_on;
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
	rc = query_i64(db, "PRAGMA foreign_key_check", &v, &found);
	if (rc >= 0 && found) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: migration left rows with dangling references",
		     db->path);
		rc = -EBADMSG;
	}
	if (rc < 0)
		goto fail;
	rc = exec(db, "COMMIT", "commit migration");
	if (rc < 0)
		goto fail;
	return exec(db, "PRAGMA foreign_keys=ON", "foreign_keys=ON");
fail:
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
fk_on:
	exec(db, "PRAGMA foreign_keys=ON", "foreign_keys=ON");
	return rc;
}

static int prepare_all(struct gw_db *db)
{
	for (int i = 0; i < DB_STMT_COUNT; i++) {
		assert(db_stmt_sql[i]);
		int rc = sqlite3_prepare_v3(db->h, db_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &db->st[i], NULL);
		if (rc != SQLITE_OK)
			return db_fail(db, rc, db_stmt_sql[i]);
	}
	return 0;
}

int gw_db_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* ---- open / close -------------------------------------------------------------------- */

/* Which -wal and -shm files the connection just opened on file uses (WAL mode: the
   migration check wrote, so both exist; SQLite keeps them until the connection closes). */
static void side_files_note(struct gw_db *db, const char *file)
{
	char side[PATH_MAX];

	memset(&db->wal_st, 0, sizeof(db->wal_st));
	memset(&db->shm_st, 0, sizeof(db->shm_st));
	if (snprintf(side, sizeof(side), "%s-wal", file) < (int)sizeof(side))
		lstat(side, &db->wal_st);
	if (snprintf(side, sizeof(side), "%s-shm", file) < (int)sizeof(side))
		lstat(side, &db->shm_st);
}

/* Remove file+suffix when it is still the very file *was (same device and inode). */
static void side_file_drop(const char *file, const char *suffix, const struct stat *was)
{
	char side[PATH_MAX];
	struct stat now;

	if (was->st_ino == 0 ||
	    snprintf(side, sizeof(side), "%s%s", file, suffix) >= (int)sizeof(side))
		return;
	if (lstat(side, &now) == 0 && now.st_dev == was->st_dev && now.st_ino == was->st_ino &&
	    unlink(side) == 0)
		LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%s: the replaced file's %s removed", file, side);
}

/*
 * The name db->path leads to another file than the connection's (renamed over, or the
 * old one removed): the old file's WAL and shared-memory index still sit under the name's
 * -wal and -shm and would be read as the new file's. Write the old WAL into the old file
 * (wherever it is now), make the old connection's close leave the names alone, and remove
 * those two files when they are still the old connection's. Returns true when moved.
 */
static bool detach_moved(struct gw_db *db)
{
	int moved = 0, persist = 1;

	if (!db->h ||
	    sqlite3_file_control(db->h, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK ||
	    !moved)
		return false;
	sqlite3_wal_checkpoint_v2(db->h, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	side_file_drop(db->path, "-wal", &db->wal_st);
	side_file_drop(db->path, "-shm", &db->shm_st);
	LOGP(GW_LOG_DB, GW_LOG_WARN, "%s: the file was replaced: opening the new one", db->path);
	return true;
}

/*
 * The call log, roster and PIN hashes are for rinkid's user and group only: a new file is
 * made 0660 (less the umask) before SQLite opens it, which gives its -wal and -shm the same
 * mode; an existing one others can read is narrowed to 0660 at most (by its owner).
 */
static void private_mode(const char *file, unsigned flags)
{
	struct stat st;
	if (file[0] == ':') /* ":memory:" */
		return;
	if (!(flags & GW_DB_NOCREATE)) {
		int fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0660);
		if (fd >= 0) {
			close(fd);
			return;
		}
	}
	if (lstat(file, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0117) &&
	    st.st_uid == geteuid() && chmod(file, st.st_mode & 0660) < 0)
		LOGP(GW_LOG_DB, GW_LOG_WARN, "%s: others may read it and chmod failed: %s", file,
		     strerror(errno));
}

/* Open db->h on file (db->path, or a stand-in's), bring it to this build's schema, prepare
   the statements. */
static int db_connect(struct gw_db *db, const char *file, unsigned flags)
{
	/* never through a symlink: SQLite then refuses the file (its -wal/-shm it opens
	 * with O_NOFOLLOW itself) */
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	int rc;

	if (!(flags & GW_DB_NOCREATE))
		oflags |= SQLITE_OPEN_CREATE;
	private_mode(file, flags);
	rc = sqlite3_open_v2(file, &db->h, oflags, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "open");
	if ((rc = set_pragmas(db)) < 0 || (rc = migrate(db)) < 0 || (rc = prepare_all(db)) < 0 ||
	    (rc = db_run_i64(db, DB_STMT_CHAIN_META, &db->v3_from)) < 0)
		return rc;
	sqlite3_busy_timeout(db->h, db->busy_ms);
	side_files_note(db, file);
	return db_run_i64(db, DB_STMT_DATA_VERSION, &db->data_version);
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
int db_reconnect(struct gw_db *db)
{
	struct gw_db *n = calloc(1, sizeof(*n));
	int rc;

	if (!n)
		return -ENOMEM;
	n->path = db->path; /* borrowed */
	n->md = db->md;	    /* borrowed */
	n->busy_ms = db->busy_ms;
	n->quiet = db->standin && db->standin_tries > 0; /* the first failure was logged */
	if (!db->standin)
		detach_moved(db);
	rc = db_connect(n, n->path, GW_DB_NOCREATE);
	if (rc < 0) {
		db_disconnect(n);
		free(n);
		if (db->standin && ++db->standin_tries % 150 == 0) /* every 5 min at 2 s */
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: still unusable (%s), %u tries: %s",
			     db->path, strerror(-rc), db->standin_tries, db->problem);
		return rc;
	}
	db_disconnect(db);
	db->h = n->h;
	memcpy(db->st, n->st, sizeof(db->st));
	db->data_version = n->data_version;
	db->v3_from = n->v3_from;
	db->wal_st = n->wal_st;
	db->shm_st = n->shm_st;
	db->roster_dirty = true; /* it may be another file now: have the roster read again */
	db->copy_made = false;	 /* ... and copied again */
	db->gone = false;
	free(n);
	if (db->standin) {
		db->standin = false;
		db->problem[0] = '\0';
		LOGP(GW_LOG_DB, GW_LOG_NOTICE,
		     "%s: the database works again: the roster is read from it, the spool replayed",
		     db->path);
	}
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

	if (lstat(db->spool_path, &sb) < 0) { /* a link is looked at, never followed */
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

/* A connection object for path, its spool at spool_path (NULL: <path>.spool), not
   connected yet. 0 or -ENOMEM. */
static int db_alloc(const char *path, const char *spool_path, struct gw_db **out)
{
	struct gw_db *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db)
		return -ENOMEM;
	db->busy_ms = BUSY_TIMEOUT_MS;
	db->path = strdup(path);
	db->md = EVP_MD_CTX_new();
	if (spool_path && *spool_path)
		db->spool_path = strdup(spool_path);
	else if (asprintf(&db->spool_path, "%s.spool", path) < 0)
		db->spool_path = NULL;
	if (!db->path || !db->md || !db->spool_path || db_anchor_open(db) < 0) {
		gw_db_close(db);
		return -ENOMEM;
	}
	*out = db;
	return 0;
}

int gw_db_open_spool(const char *path, unsigned flags, const char *spool_path, struct gw_db **out)
{
	struct gw_db *db;
	int rc;

	assert(path && out);
	*out = NULL;
	if ((rc = db_alloc(path, spool_path, &db)) < 0)
		return rc;
	if ((rc = db_connect(db, db->path, flags)) < 0 ||
	    (rc = db_run_i64(db, DB_STMT_ROSTER_REV, &db->roster_rev)) < 0 ||
	    (rc = db_run_i64(db, DB_STMT_INCIDENT_NEXT_ID, &db->next_incident)) < 0 ||
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

int gw_db_open_flags(const char *path, unsigned flags, struct gw_db **out)
{
	return gw_db_open_spool(path, flags, NULL, out);
}

int gw_db_open(const char *path, struct gw_db **out)
{
	return gw_db_open_flags(path, 0, out);
}

/* The roster copy of the spool at spool_path: "<spool>.roster". NULL on no memory. */
static char *copy_path(const char *spool_path)
{
	char *p;
	return asprintf(&p, "%s.roster", spool_path) < 0 ? NULL : p;
}

/* Stand in for a database that cannot be used: the roster copy, or an empty memory one. */
static int open_standin(const char *path, const char *spool_path, int why, struct gw_db **out)
{
	struct gw_db *db;
	char *copy;
	struct stat sb;
	int rc;

	*out = NULL;
	if ((rc = db_alloc(path, spool_path, &db)) < 0)
		return rc;
	if (!(copy = copy_path(db->spool_path))) {
		gw_db_close(db);
		return -ENOMEM;
	}
	if (lstat(copy, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    db_connect(db, copy, GW_DB_NOCREATE) >= 0) {
		struct tm tm;
		char when[32];
		time_t t = sb.st_mtime;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&t, &tm));
		snprintf(db->problem, sizeof(db->problem),
			 "database unusable at start (%s): roster from the copy of %s",
			 strerror(-why), when);
	} else {
		db_disconnect(db);
		if ((rc = db_connect(db, ":memory:", 0)) < 0) {
			free(copy);
			gw_db_close(db);
			return rc;
		}
		snprintf(db->problem, sizeof(db->problem),
			 "database unusable at start (%s) and no roster copy at %s: nobody can be "
			 "paged",
			 strerror(-why), copy);
	}
	free(copy);
	if ((rc = db_run_i64(db, DB_STMT_ROSTER_REV, &db->roster_rev)) < 0 ||
	    (rc = db_run_i64(db, DB_STMT_INCIDENT_NEXT_ID, &db->next_incident)) < 0 ||
	    (rc = spool_scan(db)) < 0) {
		gw_db_close(db);
		return rc;
	}
	db->origin = new_origin();
	db->standin = true;
	db->gone = db->unavailable = true; /* the next replay tries the real file */
	db->spool_pending = true;	   /* every call-log write goes to the spool */
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: %s; call-log writes go to %s until it works again", path,
	     db->problem, db->spool_path);
	*out = db;
	return 0;
}

int gw_db_open_daemon(const char *path, const char *spool_path, struct gw_db **out)
{
	int rc = gw_db_open_spool(path, 0, spool_path, out);
	if (rc >= 0 || rc == -ENOMEM)
		return rc;
	return open_standin(path, spool_path, rc, out);
}

const char *gw_db_problem(const struct gw_db *db)
{
	return db->standin ? db->problem : NULL;
}

int gw_db_copy_save(struct gw_db *db)
{
	static const char *const trim =
	    "DELETE FROM incident_events;"
	    "DELETE FROM incidents WHERE id < (SELECT max(id) FROM incidents);"
	    "DELETE FROM spool_applied; DELETE FROM queue_applied; VACUUM;";
	sqlite3_stmt *st = NULL;
	sqlite3 *h = NULL;
	char *copy, *tmp = NULL;
	int rc, fd;

	if (db->standin)
		return -EAGAIN; /* the copy is what rinkid runs on */
	if (db->copy_made && db->copy_rev == db->roster_rev)
		return 0; /* the roster did not change (a daily reload): the copy stands */
	if (!(copy = copy_path(db->spool_path)) || asprintf(&tmp, "%s.tmp", copy) < 0) {
		free(copy);
		return -ENOMEM;
	}
	unlink(tmp); /* a leftover (or anything else) there: VACUUM INTO wants no file */
	rc = sqlite3_prepare_v2(db->h, "VACUUM INTO $file", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		db_bind_text(st, "$file", tmp);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, rc, "roster copy");
		db->unavailable = db->gone = false; /* about the copy, not the call log */
		goto out;
	}
	/* the copy is for the roster: the call log's events (message bodies) leave it; the
	   newest incident row stays, so ids handed out on the copy come after it */
	rc = sqlite3_open_v2(tmp, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, trim, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "roster copy %s: %s", tmp,
		     h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		rc = -EIO;
		goto out;
	}
	sqlite3_close(h);
	h = NULL;
	fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0640) < 0 || fsync(fd) < 0 || rename(tmp, copy) < 0) {
		rc = -errno;
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "roster copy %s: %s", copy, strerror(-rc));
	} else {
		rc = 0;
		db->copy_made = true;
		db->copy_rev = db->roster_rev;
		LOGP(GW_LOG_DB, GW_LOG_INFO, "roster copy kept in %s", copy);
	}
	if (fd >= 0)
		close(fd);
out:
	sqlite3_close(h);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(copy);
	return rc;
}

void gw_db_close(struct gw_db *db)
{
	if (!db)
		return;
	db_writer_stop(db->w); /* everything queued is committed first */
	db->w = NULL;
	if (db->batch && gw_db_batch_commit(db) < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: batch lost at close", db->path);
	db_disconnect(db);
	EVP_MD_CTX_free(db->md);
	free(db->bbuf);
	free(db->spool_path);
	free(db->key_path);
	free(db->anchor_path);
	free(db->renum);
	sodium_memzero(db->anchor_key, sizeof(db->anchor_key));
	free(db->path);
	free(db);
}

void gw_db_set_busy_timeout(struct gw_db *db, int ms)
{
	assert(ms >= 0);
	db->busy_ms = ms;
	sqlite3_busy_timeout(db->h, ms);
}
