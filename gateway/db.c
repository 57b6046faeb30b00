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
 */
#include "db.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000

/* Migrations: migrations[i] takes the schema from version i to version i + 1. */
static const char *const migrations[] = {
    /* v1 */
    "CREATE TABLE service_lines ("
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
	DB_STMT_INCIDENT_INSERT,
	DB_STMT_EVENT_INSERT,
	DB_STMT_INCIDENT_CLOSE,
	DB_STMT_INTERRUPTED_EVENTS,
	DB_STMT_INTERRUPTED_CLOSE,
	DB_STMT_INCIDENT_LIST,
	DB_STMT_INCIDENT_GET,
	DB_STMT_EVENT_LIST,
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
    [DB_STMT_INCIDENT_INSERT] =
	"INSERT INTO incidents (started_ms, caller, caller_name, line, radio_cci)"
	" VALUES ($started, $caller, $caller_name, $line, $cci)",
    [DB_STMT_EVENT_INSERT] = "INSERT INTO incident_events (incident, t_ms, kind, detail)"
			     " VALUES ($incident, $t, $kind, $detail)",
    [DB_STMT_INCIDENT_CLOSE] =
	"UPDATE incidents SET ended_ms = $ended, outcome = $outcome, cause = $cause,"
	" accepted_by = $accepted_by WHERE id = $id AND ended_ms IS NULL",
    [DB_STMT_INTERRUPTED_EVENTS] =
	"INSERT INTO incident_events (incident, t_ms, kind, detail)"
	" SELECT id, $now, 'interrupted', 'open at restart' FROM incidents"
	" WHERE ended_ms IS NULL ORDER BY id",
    [DB_STMT_INTERRUPTED_CLOSE] = "UPDATE incidents SET ended_ms = $now,"
				  " outcome = 'interrupted' WHERE ended_ms IS NULL",
    [DB_STMT_INCIDENT_LIST] = "SELECT " INCIDENT_COLS " FROM incidents"
			      " ORDER BY started_ms DESC, id DESC LIMIT $limit",
    [DB_STMT_INCIDENT_GET] = "SELECT " INCIDENT_COLS " FROM incidents WHERE id = $id",
    [DB_STMT_EVENT_LIST] = "SELECT id, t_ms, kind, detail FROM incident_events"
			   " WHERE incident = $incident ORDER BY id",
    [DB_STMT_LINE_LIST] = "SELECT code, name_fi, name_sv, name_en FROM service_lines"
			  " ORDER BY code",
    [DB_STMT_WORKER_LIST] = "SELECT handle, name, phone, issi, active FROM workers"
			    " ORDER BY handle",
    [DB_STMT_SHIFT_LIST] = "SELECT s.line, w.handle, s.start_utc, s.end_utc, s.position"
			   " FROM shifts s JOIN workers w ON w.id = s.worker"
			   " ORDER BY s.line, s.start_utc, s.id",
    [DB_STMT_ROUTE_LIST] = "SELECT line, caller_prefix, priority FROM routes ORDER BY id",
    [DB_STMT_DIR_LIST] = "SELECT issi, org FROM directory ORDER BY issi",
    [DB_STMT_SHIFT_DELETE] = "DELETE FROM shifts",
    [DB_STMT_ROUTE_DELETE] = "DELETE FROM routes",
    [DB_STMT_DIR_DELETE] = "DELETE FROM directory",
    [DB_STMT_WORKER_DELETE] = "DELETE FROM workers",
    [DB_STMT_LINE_DELETE] = "DELETE FROM service_lines",
    [DB_STMT_LINE_INSERT] = "INSERT INTO service_lines (code, name_fi, name_sv, name_en)"
			    " VALUES ($code, $name_fi, $name_sv, $name_en)",
    [DB_STMT_WORKER_INSERT] = "INSERT INTO workers (handle, name, phone, issi, active)"
			      " VALUES ($handle, $name, $phone, $issi, $active)",
    [DB_STMT_SHIFT_INSERT] =
	"INSERT INTO shifts (line, worker, start_utc, end_utc, position)"
	" SELECT $line, id, $start, $end, $position FROM workers WHERE handle = $worker",
    [DB_STMT_ROUTE_INSERT] = "INSERT INTO routes (line, caller_prefix, priority)"
			     " VALUES ($line, $prefix, $priority)",
    [DB_STMT_DIR_INSERT] = "INSERT INTO directory (issi, org) VALUES ($issi, $org)",
};

struct gw_db {
	sqlite3 *h;
	char *path;
	sqlite3_stmt *st[DB_STMT_COUNT];
	bool batch;
	int64_t data_version;
	int64_t roster_rev;
	bool roster_dirty;
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

/* Log a failed SQLite call with its detail; returns the matching negative errno. */
static int db_fail(const struct gw_db *db, int rc, const char *what)
{
	const char *msg = db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	int err = errno_of(db->h, rc);

	if (err == 0)
		err = -EIO;
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
	int rc = run(db, db->batch ? DB_STMT_SAVEPOINT : DB_STMT_BEGIN);
	return rc < 0 ? rc : 0;
}

static void tx_rollback(struct gw_db *db)
{
	if (db->batch) {
		run(db, DB_STMT_ROLLBACK_TO);
		run(db, DB_STMT_RELEASE);
	} else if (!sqlite3_get_autocommit(db->h)) {
		run(db, DB_STMT_ROLLBACK);
	}
}

/* End the transaction begun by tx_begin: commit when rc >= 0, else roll back. Returns rc. */
static int tx_end(struct gw_db *db, int rc)
{
	if (rc >= 0) {
		int c = run(db, db->batch ? DB_STMT_RELEASE : DB_STMT_COMMIT);
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

	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
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
		if ((rc = exec(db, migrations[i], what)) < 0)
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

int gw_db_open_flags(const char *path, unsigned flags, struct gw_db **out)
{
	struct gw_db *db;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int rc;

	assert(path && out);
	*out = NULL;
	if (!(flags & GW_DB_NOCREATE))
		oflags |= SQLITE_OPEN_CREATE;
	db = calloc(1, sizeof(*db));
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &db->h, oflags, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, rc, "open");
		goto fail;
	}
	if ((rc = set_pragmas(db)) < 0 || (rc = migrate(db)) < 0 || (rc = prepare_all(db)) < 0)
		goto fail;
	if ((rc = run_i64(db, DB_STMT_DATA_VERSION, &db->data_version)) < 0 ||
	    (rc = run_i64(db, DB_STMT_ROSTER_REV, &db->roster_rev)) < 0)
		goto fail;
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
	for (int i = 0; i < DB_STMT_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	if (db->h && sqlite3_close(db->h) != SQLITE_OK)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: close: %s", db->path, sqlite3_errmsg(db->h));
	free(db->path);
	free(db);
}

/* ---- call log ------------------------------------------------------------------------ */

static int event_insert(struct gw_db *db, int64_t incident, int64_t t_ms, const char *kind,
			const char *detail)
{
	sqlite3_stmt *st = db->st[DB_STMT_EVENT_INSERT];

	bind_i64(st, "$incident", incident);
	bind_i64(st, "$t", t_ms);
	bind_text(st, "$kind", kind);
	bind_text(st, "$detail", detail);
	return run(db, DB_STMT_EVENT_INSERT);
}

int gw_db_incident_open(struct gw_db *db, const struct gw_incident_rec *rec, int64_t *id_out)
{
	sqlite3_stmt *st = db->st[DB_STMT_INCIDENT_INSERT];
	char detail[256];
	int64_t id = 0;
	int rc;

	assert(rec && rec->caller && id_out);
	snprintf(detail, sizeof(detail), "caller %s (%s) line %s cci %d", rec->caller,
		 rec->caller_name ? rec->caller_name : "unknown", rec->line ? rec->line : "-",
		 rec->radio_cci);
	if ((rc = tx_begin(db)) < 0)
		return rc;
	bind_i64(st, "$started", rec->started_ms);
	bind_text(st, "$caller", rec->caller);
	bind_text(st, "$caller_name", rec->caller_name);
	bind_text(st, "$line", rec->line);
	bind_i64(st, "$cci", rec->radio_cci);
	rc = run(db, DB_STMT_INCIDENT_INSERT);
	if (rc >= 0) {
		id = sqlite3_last_insert_rowid(db->h);
		rc = event_insert(db, id, rec->started_ms, "open", detail);
	}
	rc = tx_end(db, rc);
	if (rc < 0)
		return rc;
	*id_out = id;
	return 0;
}

int gw_db_event_append(struct gw_db *db, int64_t incident, int64_t t_ms, const char *kind,
		       const char *detail)
{
	int rc;

	assert(kind);
	if ((rc = tx_begin(db)) < 0)
		return rc;
	rc = tx_end(db, event_insert(db, incident, t_ms, kind, detail));
	return rc < 0 ? rc : 0;
}

int gw_db_incident_close(struct gw_db *db, int64_t incident, int64_t ended_ms, const char *outcome,
			 int cause, const char *accepted_by)
{
	sqlite3_stmt *st = db->st[DB_STMT_INCIDENT_CLOSE];
	char detail[256];
	int rc;

	assert(outcome);
	if (cause >= 0)
		snprintf(detail, sizeof(detail), "outcome %s cause %d accepted by %s", outcome,
			 cause, accepted_by ? accepted_by : "nobody");
	else
		snprintf(detail, sizeof(detail), "outcome %s accepted by %s", outcome,
			 accepted_by ? accepted_by : "nobody");
	if ((rc = tx_begin(db)) < 0)
		return rc;
	bind_i64(st, "$id", incident);
	bind_i64(st, "$ended", ended_ms);
	bind_text(st, "$outcome", outcome);
	if (cause >= 0)
		bind_i64(st, "$cause", cause);
	else
		sqlite3_bind_null(st, sqlite3_bind_parameter_index(st, "$cause"));
	bind_text(st, "$accepted_by", accepted_by);
	rc = run(db, DB_STMT_INCIDENT_CLOSE);
	if (rc == 0) {
		LOGP(GW_LOG_DB, GW_LOG_WARN, "close incident %lld: not open", (long long)incident);
		rc = -ENOENT;
	}
	if (rc >= 0)
		rc = event_insert(db, incident, ended_ms, "close", detail);
	rc = tx_end(db, rc);
	return rc < 0 ? rc : 0;
}

int gw_db_mark_interrupted(struct gw_db *db, int64_t now_ms)
{
	int rc;

	if ((rc = tx_begin(db)) < 0)
		return rc;
	bind_i64(db->st[DB_STMT_INTERRUPTED_EVENTS], "$now", now_ms);
	rc = run(db, DB_STMT_INTERRUPTED_EVENTS);
	if (rc >= 0) {
		bind_i64(db->st[DB_STMT_INTERRUPTED_CLOSE], "$now", now_ms);
		rc = run(db, DB_STMT_INTERRUPTED_CLOSE);
	}
	rc = tx_end(db, rc);
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
	if ((rc = run(db, DB_STMT_BEGIN)) < 0)
		return rc;
	db->batch = true;
	return 0;
}

int gw_db_batch_commit(struct gw_db *db)
{
	int rc;

	if (!db->batch)
		return -EINVAL;
	db->batch = false;
	rc = run(db, DB_STMT_COMMIT);
	if (rc < 0 && !sqlite3_get_autocommit(db->h))
		run(db, DB_STMT_ROLLBACK);
	return rc < 0 ? rc : 0;
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
	}
	for (size_t i = 0; i < r->n_shifts; i++) {
		free(r->shifts[i].line);
		free(r->shifts[i].worker);
	}
	for (size_t i = 0; i < r->n_routes; i++) {
		free(r->routes[i].line);
		free(r->routes[i].prefix);
	}
	for (size_t i = 0; i < r->n_dirs; i++) {
		free(r->dirs[i].issi);
		free(r->dirs[i].org);
	}
	free(r->lines);
	free(r->workers);
	free(r->shifts);
	free(r->routes);
	free(r->dirs);
	memset(r, 0, sizeof(*r));
}

/* Reading rows into growing arrays; any allocation failure is remembered in oom. */
struct reader {
	struct gw_db_roster *r;
	size_t cap[5]; /* capacity of lines, workers, shifts, routes, dirs */
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

static void line_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_line *l =
	    grow(rd, (void **)&rd->r->lines, &rd->r->n_lines, &rd->cap[0], sizeof(*l));
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
	struct gw_db_worker *w =
	    grow(rd, (void **)&rd->r->workers, &rd->r->n_workers, &rd->cap[1], sizeof(*w));
	if (!w)
		return;
	w->handle = dup_col(rd, st, 0, false);
	w->name = dup_col(rd, st, 1, false);
	w->phone = dup_col(rd, st, 2, false);
	w->issi = dup_col(rd, st, 3, true);
	w->active = sqlite3_column_int(st, 4) != 0;
}

static void shift_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_shift *s =
	    grow(rd, (void **)&rd->r->shifts, &rd->r->n_shifts, &rd->cap[2], sizeof(*s));
	if (!s)
		return;
	s->line = dup_col(rd, st, 0, false);
	s->worker = dup_col(rd, st, 1, false);
	s->start_ms = sqlite3_column_int64(st, 2);
	s->end_ms = sqlite3_column_int64(st, 3);
	s->position = sqlite3_column_int(st, 4);
}

static void route_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_route *rt =
	    grow(rd, (void **)&rd->r->routes, &rd->r->n_routes, &rd->cap[3], sizeof(*rt));
	if (!rt)
		return;
	rt->line = dup_col(rd, st, 0, false);
	rt->prefix = dup_col(rd, st, 1, false);
	rt->priority = sqlite3_column_int(st, 2);
}

static void dir_row(sqlite3_stmt *st, void *arg)
{
	struct reader *rd = arg;
	struct gw_db_dir *d =
	    grow(rd, (void **)&rd->r->dirs, &rd->r->n_dirs, &rd->cap[4], sizeof(*d));
	if (!d)
		return;
	d->issi = dup_col(rd, st, 0, false);
	d->org = dup_col(rd, st, 1, false);
}

int gw_db_roster_read(struct gw_db *db, struct gw_db_roster *out)
{
	static const struct {
		enum db_stmt id;
		void (*row)(sqlite3_stmt *, void *);
	} tables[] = {
	    {DB_STMT_LINE_LIST, line_row},   {DB_STMT_WORKER_LIST, worker_row},
	    {DB_STMT_SHIFT_LIST, shift_row}, {DB_STMT_ROUTE_LIST, route_row},
	    {DB_STMT_DIR_LIST, dir_row},
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
	for (size_t i = 0; i < in->n_workers && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_WORKER_INSERT];
		bind_text(st, "$handle", in->workers[i].handle);
		bind_text(st, "$name", in->workers[i].name);
		bind_text(st, "$phone", in->workers[i].phone);
		bind_text(st, "$issi", in->workers[i].issi);
		bind_i64(st, "$active", in->workers[i].active);
		rc = run(db, DB_STMT_WORKER_INSERT);
	}
	for (size_t i = 0; i < in->n_shifts && rc >= 0; i++) {
		const struct gw_db_shift *s = &in->shifts[i];
		sqlite3_stmt *st = db->st[DB_STMT_SHIFT_INSERT];
		bind_text(st, "$line", s->line);
		bind_text(st, "$worker", s->worker);
		bind_i64(st, "$start", s->start_ms);
		bind_i64(st, "$end", s->end_ms);
		bind_i64(st, "$position", s->position);
		rc = run(db, DB_STMT_SHIFT_INSERT);
		if (rc == 0) {
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: shift names unknown worker %s", db->path,
			     s->worker);
			rc = -ENOENT;
		}
	}
	for (size_t i = 0; i < in->n_routes && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_ROUTE_INSERT];
		bind_text(st, "$line", in->routes[i].line);
		bind_text(st, "$prefix", in->routes[i].prefix);
		bind_i64(st, "$priority", in->routes[i].priority);
		rc = run(db, DB_STMT_ROUTE_INSERT);
	}
	for (size_t i = 0; i < in->n_dirs && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_DIR_INSERT];
		bind_text(st, "$issi", in->dirs[i].issi);
		bind_text(st, "$org", in->dirs[i].org);
		rc = run(db, DB_STMT_DIR_INSERT);
	}
	return rc;
}

int gw_db_roster_replace(struct gw_db *db, const struct gw_db_roster *in)
{
	static const enum db_stmt deletes[] = {
	    DB_STMT_SHIFT_DELETE,  DB_STMT_ROUTE_DELETE, DB_STMT_DIR_DELETE,
	    DB_STMT_WORKER_DELETE, DB_STMT_LINE_DELETE,
	};
	int64_t rev = 0;
	int rc;

	if (db->batch)
		return -EBUSY;
	if ((rc = tx_begin(db)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(deletes) / sizeof(deletes[0]) && rc >= 0; i++)
		rc = run(db, deletes[i]);
	if (rc >= 0)
		rc = roster_insert(db, in);
	if (rc >= 0)
		rc = run_i64(db, DB_STMT_ROSTER_REV_BUMP, &rev);
	rc = tx_end(db, rc);
	if (rc < 0)
		return rc;
	db->roster_rev = rev;
	db->roster_dirty = true;
	LOGP(GW_LOG_DB, GW_LOG_INFO,
	     "%s: roster replaced (rev %lld): %zu lines, %zu workers, %zu shifts, %zu routes, "
	     "%zu directory entries",
	     db->path, (long long)rev, in->n_lines, in->n_workers, in->n_shifts, in->n_routes,
	     in->n_dirs);
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
