/*
 * db_export: reads rinkid's call log for the county sync, on a connection of its own.
 *
 * The file is opened with SQLITE_OPEN_READONLY (WAL lets it read while rinkid writes) and
 * only checked, never migrated: the writer owns the schema. Its few statements are an enum
 * with a parallel SQL table, prepared at open, reset after use, like db.c's. A read runs in
 * one deferred transaction so the head and the rows come from one state of the file.
 * chain_meta.v3_from says which rows are hashed with encoding v3 (see db.c). An incident's
 * own row comes with the events that open and close it, so the county can keep incidents
 * in step with the events it holds.
 */
#include "store/db_export.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "core/log.h"

/* The first schema with the chain as exported (detail_hash, chain_meta). */
#define EXPORT_MIN_SCHEMA 3

enum x_stmt { X_BEGIN, X_COMMIT, X_ROLLBACK, X_HEAD, X_ROWS, X_COUNT };

static const char *const x_sql[X_COUNT] = {
    [X_BEGIN] = "BEGIN DEFERRED",
    [X_COMMIT] = "COMMIT",
    [X_ROLLBACK] = "ROLLBACK",
    [X_HEAD] = "SELECT coalesce(max(id), 0) FROM incident_events",
    [X_ROWS] = "SELECT e.id, coalesce(e.incident, 0), e.t_ms, e.kind, e.detail, e.detail_hash,"
	       " e.prev_hash, e.hash, i.id, i.started_ms, i.ended_ms, i.caller, i.caller_name,"
	       " i.line, i.radio_cci, i.outcome, i.cause, i.accepted_by"
	       " FROM incident_events e LEFT JOIN incidents i ON i.id = e.incident"
	       " AND e.kind IN ('open', 'close', 'interrupted')"
	       " WHERE e.id > $after ORDER BY e.id LIMIT $limit",
};

struct gw_db_export {
	sqlite3 *h;
	char *path;
	sqlite3_stmt *st[X_COUNT];
	int64_t v3_from;
};

static int x_fail(struct gw_db_export *x, int rc, const char *what)
{
	LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: export: %s: %s (sqlite %d)", x->path, what,
	     x->h ? sqlite3_errmsg(x->h) : sqlite3_errstr(rc), rc);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* One integer from a one-off query; -ENOENT when it returns no row. */
static int query_i64(struct gw_db_export *x, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(x->h, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return x_fail(x, rc, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return rc == SQLITE_ROW ? 0 : x_fail(x, rc, sql);
}

static int check_schema(struct gw_db_export *x)
{
	int64_t v = 0;
	int rc =
	    query_i64(x, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'", &v);

	if (rc == 0 && v == 1)
		rc = query_i64(x, "SELECT coalesce(max(version), 0) FROM schema_version", &v);
	if (rc < 0)
		return rc;
	if (v > gw_db_schema_version()) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: schema version %lld is newer than this build",
		     x->path, (long long)v);
		return -EPROTO;
	}
	if (v < EXPORT_MIN_SCHEMA)
		return -EAGAIN;
	return query_i64(x, "SELECT v3_from FROM chain_meta WHERE one = 1", &x->v3_from);
}

int gw_db_export_open(const char *path, struct gw_db_export **out)
{
	struct gw_db_export *x = calloc(1, sizeof(*x));
	int rc;

	assert(path && out);
	*out = NULL;
	if (!x || !(x->path = strdup(path))) {
		free(x);
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &x->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = x_fail(x, rc, "open");
		goto fail;
	}
	sqlite3_busy_timeout(x->h, 2000);
	sqlite3_extended_result_codes(x->h, 1);
	if ((rc = check_schema(x)) < 0)
		goto fail;
	for (int i = 0; i < X_COUNT; i++) {
		int s = sqlite3_prepare_v3(x->h, x_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &x->st[i],
					   NULL);
		if (s != SQLITE_OK) {
			rc = x_fail(x, s, x_sql[i]);
			goto fail;
		}
	}
	*out = x;
	return 0;
fail:
	gw_db_export_close(x);
	return rc;
}

void gw_db_export_close(struct gw_db_export *x)
{
	if (!x)
		return;
	for (int i = 0; i < X_COUNT; i++)
		sqlite3_finalize(x->st[i]);
	sqlite3_close(x->h);
	free(x->path);
	free(x);
}

static int run(struct gw_db_export *x, enum x_stmt id)
{
	int rc = sqlite3_step(x->st[id]);

	sqlite3_reset(x->st[id]);
	return rc == SQLITE_DONE ? 0 : x_fail(x, rc, x_sql[id]);
}

/* A 32-byte hash column into out; false when it is NULL or of another length. */
static bool col_hash(sqlite3_stmt *st, int i, uint8_t out[32])
{
	const void *b = sqlite3_column_blob(st, i);

	if (!b || sqlite3_column_bytes(st, i) != 32)
		return false;
	memcpy(out, b, 32);
	return true;
}

/* Fill row from X_ROWS's columns; false when a hash column is malformed. */
static bool row_read(struct gw_db_export *x, sqlite3_stmt *st, struct gw_db_chain_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->incident = sqlite3_column_int64(st, 1);
	r->t_ms = sqlite3_column_int64(st, 2);
	r->kind = (const char *)sqlite3_column_text(st, 3);
	r->kind_len = (size_t)sqlite3_column_bytes(st, 3);
	if (!r->kind)
		r->kind = "";
	if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
		r->detail = (const char *)sqlite3_column_text(st, 4);
		r->detail_len = (size_t)sqlite3_column_bytes(st, 4);
	}
	r->v3 = r->id >= x->v3_from;
	if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
	    !(r->has_detail_hash = col_hash(st, 5, r->detail_hash)))
		return false;
	return col_hash(st, 6, r->prev_hash) && col_hash(st, 7, r->hash);
}

/* The incident columns 8..17 of X_ROWS; false when the row has none. */
static bool incident_read(sqlite3_stmt *st, struct gw_db_incident *inc)
{
	memset(inc, 0, sizeof(*inc));
	if (sqlite3_column_type(st, 8) == SQLITE_NULL)
		return false;
	inc->id = sqlite3_column_int64(st, 8);
	inc->started_ms = sqlite3_column_int64(st, 9);
	inc->ended = sqlite3_column_type(st, 10) != SQLITE_NULL;
	inc->ended_ms = sqlite3_column_int64(st, 10);
	inc->caller = (const char *)sqlite3_column_text(st, 11);
	inc->caller_name = (const char *)sqlite3_column_text(st, 12);
	inc->line = (const char *)sqlite3_column_text(st, 13);
	inc->radio_cci = sqlite3_column_int(st, 14);
	inc->outcome = (const char *)sqlite3_column_text(st, 15);
	inc->has_cause = sqlite3_column_type(st, 16) != SQLITE_NULL;
	inc->cause = sqlite3_column_int(st, 16);
	inc->accepted_by = (const char *)sqlite3_column_text(st, 17);
	if (!inc->caller)
		inc->caller = "";
	return true;
}

int gw_db_export_read(struct gw_db_export *x, int64_t after, int limit, gw_db_export_fn fn,
		      void *arg, int64_t *head)
{
	sqlite3_stmt *st;
	int rc, s, n = 0;

	assert(limit > 0 && fn && head);
	if ((rc = run(x, X_BEGIN)) < 0)
		return rc;
	st = x->st[X_HEAD];
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		*head = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (s != SQLITE_ROW) {
		rc = x_fail(x, s, x_sql[X_HEAD]);
		goto out;
	}
	st = x->st[X_ROWS];
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, "$after"), after);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, "$limit"), limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_db_chain_row r;
		struct gw_db_incident inc;
		bool has_inc;
		if (!row_read(x, st, &r)) {
			LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: export: event %lld: hash malformed",
			     x->path, (long long)r.id);
			rc = -EBADMSG;
			break;
		}
		has_inc = incident_read(st, &inc);
		if ((rc = fn(&r, has_inc ? &inc : NULL, arg)) < 0)
			break;
		n++;
	}
	if (rc >= 0 && s != SQLITE_DONE)
		rc = x_fail(x, s, x_sql[X_ROWS]);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
out:
	run(x, rc < 0 ? X_ROLLBACK : X_COMMIT);
	return rc < 0 ? rc : n;
}
