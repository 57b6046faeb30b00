/*
 * county: rinki-sync's side of the county PostgreSQL database, through libpq.
 *
 * All of the county's SQL is here. The schema is a list of migrations (migrations[i] takes
 * version i to i + 1), applied in order in one transaction under an advisory lock, so
 * gateways that start together do not race; a database newer than this build is refused.
 * Statements are prepared once per connection (an enum with a parallel table) and run with
 * binary parameters and results, so bytes reach the server exactly as hashed: event details
 * are bytea, never re-encoded. libpq's failures become a log line with the server's text
 * and a negative errno at this boundary (see county.h).
 *
 * A push is one transaction: the gateway's row is upserted first (its row lock serialises
 * two pushers of one gateway id), the first row's link to the county's row before it is
 * checked, then each row is inserted with ON CONFLICT DO NOTHING and, when it was there
 * already, the stored hash compared with the offered one; the rows' statements go in
 * pipelines (libpq pipeline mode), a few round trips per batch. So a batch retried after a crash
 * or a lost COMMIT reply adds nothing twice, and a different log under the same gateway id
 * is refused rather than mixed in.
 */
#include "county.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "core/log.h"
#include "store/report.h"

/* Held (transaction-scoped) while migrating: "rink" */
#define MIGRATE_LOCK "1919511147"
#define WALK_PAGE    1000

static const char *const migrations[] = {
    /* v1: gateways and their call-log events */
    "CREATE TABLE gateways ("
    " gateway text PRIMARY KEY CHECK (gateway ~ '^[a-z0-9][a-z0-9-]{0,31}$'),"
    " first_push timestamptz NOT NULL DEFAULT now(),"
    " last_push timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE call_events ("
    " gateway text NOT NULL REFERENCES gateways (gateway),"
    " seq bigint NOT NULL CHECK (seq > 0),"
    " incident bigint CHECK (incident > 0),"
    " t_ms bigint NOT NULL,"
    " kind text NOT NULL,"
    " detail bytea,"
    " detail_hash bytea CHECK (octet_length(detail_hash) = 32),"
    " enc smallint NOT NULL CHECK (enc IN (2, 3)),"
    " prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),"
    " hash bytea NOT NULL CHECK (octet_length(hash) = 32),"
    " received timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (gateway, seq));"
    "CREATE INDEX call_events_incident ON call_events (gateway, incident)"
    " WHERE incident IS NOT NULL;",
    /*
     * v2: incidents, as their open event (open_seq) and closing event (close_seq: "close"
     * or "interrupted") report them. Incidents opened by events pushed before v2 have no
     * row here (their events do).
     */
    "CREATE TABLE incidents ("
    " gateway text NOT NULL REFERENCES gateways (gateway),"
    " id bigint NOT NULL CHECK (id > 0),"
    " started_ms bigint NOT NULL,"
    " caller text NOT NULL,"
    " caller_name text,"
    " line text,"
    " radio_cci integer NOT NULL,"
    " ended_ms bigint,"
    " outcome text,"
    " cause integer,"
    " accepted_by text,"
    " open_seq bigint NOT NULL,"
    " close_seq bigint,"
    " PRIMARY KEY (gateway, id),"
    " FOREIGN KEY (gateway, open_seq) REFERENCES call_events (gateway, seq),"
    " FOREIGN KEY (gateway, close_seq) REFERENCES call_events (gateway, seq));"
    "CREATE INDEX incidents_started ON incidents (started_ms);",
    /*
     * v3: the county roster, versioned. Coordinators add a row per version (a complete
     * roster CSV, the format rinkictl roster import reads); every gateway's rinki-sync
     * applies the newest. Rows are never changed: a correction is a new version.
     */
    "CREATE TABLE rosters ("
    " version bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " made timestamptz NOT NULL DEFAULT now(),"
    " made_by text NOT NULL DEFAULT current_user,"
    " csv text NOT NULL CHECK (octet_length(csv) BETWEEN 1 AND 67108864));"
    "CREATE FUNCTION rosters_frozen() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'roster versions are never changed: add a new one'; END$$;"
    "CREATE TRIGGER rosters_frozen BEFORE UPDATE ON rosters"
    " FOR EACH ROW EXECUTE FUNCTION rosters_frozen();",
    /*
     * v4: views for the county report and the county's BI tools (tools/sync/README.md lists
     * their columns). incident_moves links an incident that moved to another gateway: the
     * same caller at another gateway within 300 s of its start, when it was not completed
     * (the network forwarded the officer's next call to the standby); report_incidents
     * counts it once, at the gateway that took it (counted false for the one that moved).
     */
    "CREATE VIEW incident_moves AS"
    " SELECT a.gateway AS from_gateway, a.id AS from_id, m.gateway AS to_gateway,"
    " m.id AS to_id, a.caller, a.started_ms AS from_started_ms,"
    " m.started_ms AS to_started_ms"
    " FROM incidents a CROSS JOIN LATERAL (SELECT b.gateway, b.id, b.started_ms"
    "  FROM incidents b WHERE b.caller = a.caller AND b.gateway <> a.gateway"
    "  AND b.started_ms >= a.started_ms AND b.started_ms <= a.started_ms + 300000"
    "  AND b.line IS DISTINCT FROM 'callback'"
    "  ORDER BY b.started_ms, b.gateway, b.id LIMIT 1) m"
    " WHERE a.outcome IS DISTINCT FROM 'completed' AND a.line IS DISTINCT FROM 'callback'"
    " AND (a.outcome IS NULL OR a.outcome NOT LIKE 'message %');"
    "CREATE VIEW report_incidents AS"
    " SELECT x.*, CASE WHEN x.line = 'callback' THEN 'callback'"
    "  WHEN CASE WHEN x.outcome IS NOT NULL THEN x.outcome LIKE 'message %'"
    "   ELSE (x.text OR x.status) AND x.pages = 0 END"
    "  THEN CASE WHEN x.status THEN 'status' ELSE 'text' END ELSE 'call' END AS kind"
    " FROM (SELECT i.gateway, i.id, i.started_ms, to_timestamp(i.started_ms / 1000.0) AS started,"
    " i.ended_ms, coalesce(i.line, '') AS line, i.caller, i.caller_name, i.outcome, i.cause,"
    " i.accepted_by,"
    " (SELECT e.t_ms FROM call_events e WHERE e.gateway = i.gateway AND e.incident = i.id"
    "  AND e.kind = 'accepted' ORDER BY e.seq LIMIT 1) AS accept_ms,"
    " (SELECT convert_from(e.detail, 'UTF8') FROM call_events e WHERE e.gateway = i.gateway AND "
    "e.incident = i.id"
    "  AND e.kind = 'accepted' ORDER BY e.seq LIMIT 1) AS accepted,"
    " (SELECT convert_from(e.detail, 'UTF8') FROM call_events e WHERE e.gateway = i.gateway AND "
    "e.incident = i.id"
    "  AND e.kind = 'page' ORDER BY e.seq LIMIT 1) AS first_page,"
    " (SELECT convert_from(e.detail, 'UTF8') FROM call_events e WHERE e.gateway = i.gateway AND "
    "e.incident = i.id"
    "  AND e.kind = 'page' AND convert_from(e.detail, 'UTF8') LIKE '% fallback' ORDER BY e.seq "
    "LIMIT 1) AS fallback_page,"
    " (SELECT count(*) FROM call_events e WHERE e.gateway = i.gateway AND e.incident = i.id"
    "  AND e.kind = 'page') AS pages,"
    " EXISTS (SELECT 1 FROM call_events e WHERE e.gateway = i.gateway AND e.incident = i.id"
    "  AND e.kind = 'sds_text') AS text,"
    " EXISTS (SELECT 1 FROM call_events e WHERE e.gateway = i.gateway AND e.incident = i.id"
    "  AND e.kind = 'sds_status') AS status,"
    " m.to_gateway AS moved_to_gateway, m.to_id AS moved_to_id, m.to_gateway IS NULL AS counted"
    " FROM incidents i LEFT JOIN incident_moves m"
    "  ON m.from_gateway = i.gateway AND m.from_id = i.id) x;"
    "CREATE VIEW calls_by_day AS"
    " SELECT (started AT TIME ZONE 'Europe/Helsinki')::date AS day, gateway, line,"
    " count(*) AS calls,"
    " count(*) FILTER (WHERE outcome = 'completed') AS completed,"
    " count(*) FILTER (WHERE outcome = 'unanswered') AS unanswered,"
    " count(*) FILTER (WHERE outcome = 'unstaffed') AS unstaffed,"
    " count(*) FILTER (WHERE outcome = 'busy') AS busy,"
    " count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,"
    " count(*) FILTER (WHERE outcome IS NOT NULL AND outcome NOT IN ('completed',"
    "  'unanswered', 'unstaffed', 'busy', 'abandoned')) AS failed,"
    " count(*) FILTER (WHERE outcome IS NULL) AS open,"
    " count(accept_ms) AS accepted,"
    " (percentile_disc(0.5) WITHIN GROUP (ORDER BY greatest(accept_ms - started_ms, 0)))"
    "  / 1000.0 AS accept_p50_s,"
    " (percentile_disc(0.9) WITHIN GROUP (ORDER BY greatest(accept_ms - started_ms, 0)))"
    "  / 1000.0 AS accept_p90_s"
    " FROM report_incidents WHERE counted AND kind = 'call' GROUP BY 1, 2, 3;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum c_stmt {
	C_HEAD,
	C_GW,
	C_PREV,
	C_INS,
	C_GWS,
	C_WALK,
	C_INC_OPEN,
	C_INC_CLOSE,
	C_INC_CHECK,
	C_ROSTER,
	C_COUNT
};

static const struct {
	const char *name, *sql;
	int nparams;
} stmts[C_COUNT] = {
    [C_HEAD] = {"head",
		"SELECT seq, hash FROM call_events WHERE gateway = $1::text"
		" ORDER BY seq DESC LIMIT 1",
		1},
    [C_GW] = {"gw",
	      "INSERT INTO gateways (gateway) VALUES ($1::text)"
	      " ON CONFLICT (gateway) DO UPDATE SET last_push = now()",
	      1},
    [C_PREV] = {"prev", "SELECT hash FROM call_events WHERE gateway = $1::text AND seq = $2::int8",
		2},
    /* The outer SELECT sees the table before the insert: the stored hash only on conflict. */
    [C_INS] = {"ins",
	       "WITH ins AS (INSERT INTO call_events (gateway, seq, incident, t_ms, kind, detail,"
	       " detail_hash, enc, prev_hash, hash) VALUES ($1::text, $2::int8, $3::int8, $4::int8,"
	       " $5::text, $6::bytea, $7::bytea, $8::int2, $9::bytea, $10::bytea)"
	       " ON CONFLICT (gateway, seq) DO NOTHING RETURNING 1)"
	       " SELECT (SELECT count(*) FROM ins),"
	       " (SELECT hash FROM call_events WHERE gateway = $1::text AND seq = $2::int8)",
	       10},
    [C_GWS] = {"gws", "SELECT gateway FROM gateways ORDER BY gateway", 0},
    [C_WALK] = {"walk",
		"SELECT seq, coalesce(incident, 0), t_ms, kind, detail, detail_hash, enc,"
		" prev_hash, hash,"
		" detail IS NOT NULL AND detail_hash IS NOT NULL AND sha256(detail) <> detail_hash"
		" FROM call_events WHERE gateway = $1::text AND seq > $2::int8"
		" ORDER BY seq LIMIT 1000",
		2},
    [C_INC_OPEN] = {"inc_open",
		    "INSERT INTO incidents (gateway, id, started_ms, caller, caller_name, line,"
		    " radio_cci, open_seq) VALUES ($1::text, $2::int8, $3::int8, $4::text,"
		    " $5::text, $6::text, $7::int4, $8::int8)"
		    " ON CONFLICT (gateway, id) DO NOTHING",
		    8},
    [C_INC_CLOSE] = {"inc_close",
		     "UPDATE incidents SET ended_ms = $3::int8, outcome = $4::text,"
		     " cause = $5::int4, accepted_by = $6::text, close_seq = $7::int8"
		     " WHERE gateway = $1::text AND id = $2::int8",
		     7},
    /* Incidents against the events that opened and closed them: how many, the first bad. */
    [C_INC_CHECK] = {"inc_check",
		     "SELECT count(*), min(i.id) FILTER (WHERE o.kind <> 'open'"
		     " OR o.incident IS DISTINCT FROM i.id OR o.t_ms <> i.started_ms"
		     " OR (i.close_seq IS NULL) <> (i.ended_ms IS NULL)"
		     " OR (i.close_seq IS NULL) <> (i.outcome IS NULL)"
		     " OR (i.close_seq IS NOT NULL AND (c.kind NOT IN ('close', 'interrupted')"
		     "  OR c.incident IS DISTINCT FROM i.id OR c.t_ms <> i.ended_ms))"
		     " OR (i.close_seq IS NULL AND EXISTS (SELECT 1 FROM call_events e"
		     "  WHERE e.gateway = i.gateway AND e.incident = i.id"
		     "  AND e.kind IN ('close', 'interrupted'))))"
		     " FROM incidents i"
		     " JOIN call_events o ON o.gateway = i.gateway AND o.seq = i.open_seq"
		     " LEFT JOIN call_events c ON c.gateway = i.gateway AND c.seq = i.close_seq"
		     " WHERE i.gateway = $1::text",
		     1},
    /* The newest roster version; its CSV only when it is not the one the gateway has. */
    [C_ROSTER] = {"roster",
		  "SELECT version, (extract(epoch FROM made) * 1000)::int8,"
		  " CASE WHEN version = $1::int8 THEN NULL ELSE csv END"
		  " FROM rosters ORDER BY version DESC LIMIT 1",
		  1},
};

struct county {
	PGconn *pg;
};

int county_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* ---- errors and values ----------------------------------------------------------------- */

/* Log a failed command (res may be NULL) and map it to a negative errno. PQclear()s res. */
static int fail(struct county *c, PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";
	int rc = -EIO;

	if (!msg || !*msg)
		msg = PQerrorMessage(c->pg);
	if (PQstatus(c->pg) == CONNECTION_BAD || !res ||
	    (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)))
		rc = -ENOTCONN;
	else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		rc = -EAGAIN;
	if (!msg)
		msg = "?";
	LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "county: %s: %s%s%.*s", what, state ? state : "",
	     state ? " " : "", (int)strcspn(msg, "\n"), msg);
	PQclear(res);
	return rc;
}

static void put_u64(uint8_t b[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void put_u32(uint8_t b[4], uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* A text parameter: its bytes and length, or SQL NULL. */
static void text_param(const char *s, const char **v, int *len)
{
	*v = s;
	*len = s ? (int)strlen(s) : 0;
}

static int64_t get_i64(const PGresult *res, int row, int col)
{
	const uint8_t *b = (const uint8_t *)PQgetvalue(res, row, col);
	uint64_t v = 0;

	if (PQgetlength(res, row, col) != 8)
		return INT64_MIN;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return (int64_t)v;
}

/* A 32-byte bytea column into out; false when NULL or of another length. */
static bool get_hash(const PGresult *res, int row, int col, uint8_t out[32])
{
	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 32)
		return false;
	memcpy(out, PQgetvalue(res, row, col), 32);
	return true;
}

/* Run a prepared statement with binary parameters and results. NULL only on no memory. */
static PGresult *exec(struct county *c, enum c_stmt id, const char *const *v, const int *len)
{
	int fmt[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

	assert(stmts[id].nparams <= 10);
	return PQexecPrepared(c->pg, stmts[id].name, stmts[id].nparams, v, len, fmt, 1);
}

/* Simple-protocol command without rows (BEGIN, COMMIT, DDL). 0 or -errno. */
static int command(struct county *c, const char *sql, const char *what)
{
	PGresult *res = PQexec(c->pg, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		return fail(c, res, what);
	PQclear(res);
	return 0;
}

/* The server's notices (e.g. "already exists, skipping") go to the log at debug level. */
static void notice(void *arg, const char *msg)
{
	(void)arg;
	LOGP(GW_LOG_MAIN, GW_LOG_DEBUG, "county: %.*s", (int)strcspn(msg, "\n"), msg);
}

static void rollback(struct county *c)
{
	if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		PQclear(PQexec(c->pg, "ROLLBACK"));
}

/* ---- connect and migrate ---------------------------------------------------------------- */

static int migrate(struct county *c)
{
	PGresult *res;
	int rc, v;

	if ((rc = command(c, "BEGIN", "begin migration")) < 0 ||
	    (rc = command(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", "migration lock")) <
		0 ||
	    (rc = command(c, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
			  "create schema_version")) < 0)
		goto out;
	res = PQexec(c->pg, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = fail(c, res, "schema version");
		goto out;
	}
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (v > SCHEMA_VERSION) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
		     "county: schema version %d is newer than this build knows (%d): upgrade "
		     "rinki-sync",
		     v, SCHEMA_VERSION);
		rc = -EPROTO;
		goto out;
	}
	for (int i = v; i < SCHEMA_VERSION; i++) {
		char what[48];
		snprintf(what, sizeof(what), "migration to version %d", i + 1);
		if ((rc = command(c, migrations[i], what)) < 0)
			goto out;
		LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "county: schema migrated to version %d", i + 1);
	}
	if (v < SCHEMA_VERSION) {
		char sql[96];
		snprintf(sql, sizeof(sql),
			 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
			 SCHEMA_VERSION);
		if ((rc = command(c, sql, "set schema_version")) < 0)
			goto out;
	}
	return command(c, "COMMIT", "commit migration");
out:
	rollback(c);
	return rc;
}

int county_connect(const char *conninfo, struct county **out)
{
	/* Defaults first: what conninfo (expanded from "dbname") says wins over them. */
	static const char *const keys[] = {"connect_timeout", "keepalives_idle", "tcp_user_timeout",
					   "dbname", NULL};
	const char *vals[] = {"10", "30", "30000", conninfo, NULL};
	struct county *c = calloc(1, sizeof(*c));
	int rc;

	assert(conninfo && out);
	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (!c->pg) {
		free(c);
		return -ENOMEM;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		rc = fail(c, NULL, "connect");
		goto fail;
	}
	PQsetNoticeProcessor(c->pg, notice, NULL);
	if (PQsetClientEncoding(c->pg, "UTF8") != 0) {
		rc = fail(c, NULL, "client encoding");
		goto fail;
	}
	if ((rc = migrate(c)) < 0)
		goto fail;
	for (int i = 0; i < C_COUNT; i++) {
		PGresult *res = PQprepare(c->pg, stmts[i].name, stmts[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = fail(c, res, stmts[i].name);
			goto fail;
		}
		PQclear(res);
	}
	*out = c;
	return 0;
fail:
	county_close(c);
	return rc;
}

void county_close(struct county *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	free(c);
}

/* ---- push ------------------------------------------------------------------------------- */

int county_head(struct county *c, const char *gw, int64_t *seq, uint8_t hash[32])
{
	const char *v[] = {gw};
	int len[] = {(int)strlen(gw)};
	PGresult *res = exec(c, C_HEAD, v, len);

	*seq = 0;
	memset(hash, 0, 32);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return fail(c, res, "head");
	if (PQntuples(res) == 1) {
		*seq = get_i64(res, 0, 0);
		if (*seq <= 0 || !get_hash(res, 0, 1, hash)) {
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "county: %s: head row malformed", gw);
			PQclear(res);
			return -EBADMSG;
		}
	}
	PQclear(res);
	return 0;
}

/* The stored hash of (gw, seq): 1 and hash, 0 when there is no such row, or -errno. */
static int stored_hash(struct county *c, const char *gw, int64_t seq, uint8_t hash[32])
{
	uint8_t s[8];
	const char *v[] = {gw, (const char *)s};
	int len[] = {(int)strlen(gw), 8};
	PGresult *res;
	int rc = 0;

	put_u64(s, (uint64_t)seq);
	res = exec(c, C_PREV, v, len);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return fail(c, res, "previous row");
	if (PQntuples(res) == 1)
		rc = get_hash(res, 0, 0, hash) ? 1 : -EBADMSG;
	PQclear(res);
	return rc;
}

/*
 * Rows go in pipelines of PIPE_ROWS (libpq pipeline mode): their statements are sent
 * without waiting, then one sync, then every answer is read in order, so a batch costs a
 * few round trips instead of one per row. A pipeline is kept small enough that its
 * statements and answers fit the socket buffers (neither side blocks writing).
 */
#define PIPE_ROWS 200

/* Parameters of one event row for C_INS; the buffers are the caller's. */
struct ins_params {
	uint8_t seq[8], inc[8], t[8], enc[2];
	const char *v[10];
	int len[10];
};

static void ins_params(struct ins_params *p, const char *gw, const struct gw_db_chain_row *r)
{
	put_u64(p->seq, (uint64_t)r->id);
	put_u64(p->inc, (uint64_t)r->incident);
	put_u64(p->t, (uint64_t)r->t_ms);
	p->enc[0] = 0;
	p->enc[1] = r->v3 ? 3 : 2;
	const char *v[10] = {
	    gw,
	    (const char *)p->seq,
	    r->incident > 0 ? (const char *)p->inc : NULL,
	    (const char *)p->t,
	    r->kind,
	    r->detail,
	    r->has_detail_hash ? (const char *)r->detail_hash : NULL,
	    (const char *)p->enc,
	    (const char *)r->prev_hash,
	    (const char *)r->hash,
	};
	int len[10] = {(int)strlen(gw),	   8,  8, 8,  (int)r->kind_len,
		       (int)r->detail_len, 32, 2, 32, 32};
	memcpy(p->v, v, sizeof(v));
	memcpy(p->len, len, sizeof(len));
}

/* Queue a prepared statement with binary parameters and results. 0 or -ENOTCONN. */
static int send(struct county *c, enum c_stmt id, const char *const *v, const int *len)
{
	static const int fmt[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

	if (PQsendQueryPrepared(c->pg, stmts[id].name, stmts[id].nparams, v, len, fmt, 1) != 1)
		return fail(c, NULL, stmts[id].name);
	return 0;
}

/* Queue the county's incident statement for an open or closing event r: 1 queued, 0 none. */
static int send_incident(struct county *c, const char *gw, const struct gw_db_chain_row *r,
			 const struct gw_db_incident *inc)
{
	uint8_t id[8], t[8], seq[8], num[4];
	const char *v[8] = {gw, (const char *)id, (const char *)t};
	int len[8] = {(int)strlen(gw), 8, 8};
	bool open = r->kind_len == 4 && memcmp(r->kind, "open", 4) == 0;
	int rc;

	if (!open && !inc->ended)
		return 0; /* not closed in the row read: nothing to record */
	put_u64(id, (uint64_t)inc->id);
	put_u64(seq, (uint64_t)r->id);
	if (open) {
		put_u64(t, (uint64_t)inc->started_ms);
		put_u32(num, (uint32_t)inc->radio_cci);
		text_param(inc->caller, &v[3], &len[3]);
		text_param(inc->caller_name, &v[4], &len[4]);
		text_param(inc->line, &v[5], &len[5]);
		v[6] = (const char *)num;
		len[6] = 4;
		v[7] = (const char *)seq;
		len[7] = 8;
		rc = send(c, C_INC_OPEN, v, len);
	} else {
		put_u64(t, (uint64_t)inc->ended_ms);
		put_u32(num, (uint32_t)inc->cause);
		text_param(inc->outcome, &v[3], &len[3]);
		v[4] = inc->has_cause ? (const char *)num : NULL;
		len[4] = 4;
		text_param(inc->accepted_by, &v[5], &len[5]);
		v[6] = (const char *)seq;
		len[6] = 8;
		rc = send(c, C_INC_CLOSE, v, len);
	}
	return rc < 0 ? rc : 1;
}

/*
 * The next answer of the pipeline, which must have status want; *rc keeps the first
 * failure (later statements of a failed pipeline are only aborted, not logged). Returns
 * the result to read (PQclear() it), or NULL after a failure.
 */
static PGresult *answer(struct county *c, ExecStatusType want, const char *what, int *rc)
{
	PGresult *res = PQgetResult(c->pg), *end;

	if (!res) {
		if (*rc >= 0)
			*rc = fail(c, NULL, what);
		return NULL;
	}
	end = PQgetResult(c->pg); /* the NULL that ends one statement's answers */
	PQclear(end);
	if (PQresultStatus(res) == want)
		return res;
	if (*rc >= 0 && PQresultStatus(res) != PGRES_PIPELINE_ABORTED)
		*rc = fail(c, res, what);
	else
		PQclear(res);
	if (*rc >= 0)
		*rc = -EIO;
	return NULL;
}

/* Push rows [0, n) (n <= PIPE_ROWS) in one pipeline inside the open transaction. */
static int push_pipeline(struct county *c, const char *gw, const struct gw_db_chain_row *rows,
			 const struct gw_db_incident *const *incs, int n, int *added)
{
	bool with_inc[PIPE_ROWS];
	int rc = 0;

	assert(n <= PIPE_ROWS);
	if (PQenterPipelineMode(c->pg) != 1)
		return fail(c, NULL, "pipeline mode");
	for (int i = 0; i < n; i++) {
		struct ins_params p;
		ins_params(&p, gw, &rows[i]);
		if ((rc = send(c, C_INS, p.v, p.len)) < 0)
			return rc;
		with_inc[i] = false;
		if (incs && incs[i] && (rc = send_incident(c, gw, &rows[i], incs[i])) < 0)
			return rc;
		with_inc[i] = rc == 1;
		rc = 0;
	}
	if (PQpipelineSync(c->pg) != 1)
		return fail(c, NULL, "pipeline sync");
	for (int i = 0; i < n; i++) {
		const struct gw_db_chain_row *r = &rows[i];
		PGresult *res = answer(c, PGRES_TUPLES_OK, "insert event", &rc);
		uint8_t have[32];

		if (res && PQntuples(res) == 1 && get_i64(res, 0, 0) == 1) {
			(*added)++;
		} else if (res && (PQntuples(res) != 1 || !get_hash(res, 0, 1, have) ||
				   memcmp(have, r->hash, 32) != 0)) {
			LOGP(
			    GW_LOG_MAIN, GW_LOG_ERROR,
			    "county: %s event %lld: the county holds a different row under this id "
			    "(is gateway id %s used twice, or was the local database replaced?)",
			    gw, (long long)r->id, gw);
			if (rc >= 0)
				rc = -EBADMSG;
		}
		PQclear(res);
		if (with_inc[i])
			PQclear(answer(c, PGRES_COMMAND_OK, "incident", &rc));
	}
	PGresult *sync = PQgetResult(c->pg);
	if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC && rc >= 0)
		rc = fail(c, sync, "pipeline end");
	else
		PQclear(sync);
	if (PQexitPipelineMode(c->pg) != 1 && rc >= 0)
		rc = fail(c, NULL, "pipeline exit");
	return rc;
}

int county_push(struct county *c, const char *gw, const struct gw_db_chain_row *rows,
		const struct gw_db_incident *const *incs, int n)
{
	static const uint8_t zero[32];
	const char *v[] = {gw};
	int len[] = {(int)strlen(gw)};
	uint8_t prev[32];
	PGresult *res;
	int rc, added = 0;

	assert(n > 0);
	if ((rc = command(c, "BEGIN", "begin push")) < 0)
		return rc;
	res = exec(c, C_GW, v, len);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = fail(c, res, "gateway row");
		goto out;
	}
	PQclear(res);
	/* rows[0] must continue the county's chain of gw (or start it). */
	if (rows[0].id == 1)
		rc = memcmp(rows[0].prev_hash, zero, 32) == 0 ? 1 : -EBADMSG;
	else if ((rc = stored_hash(c, gw, rows[0].id - 1, prev)) == 1)
		rc = memcmp(rows[0].prev_hash, prev, 32) == 0 ? 1 : -EBADMSG;
	else if (rc == 0)
		rc = -EBADMSG; /* a gap: the row before is not there */
	if (rc == -EBADMSG)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
		     "county: %s event %lld does not link to the county's row before it", gw,
		     (long long)rows[0].id);
	for (int i = 0; rc >= 0 && i < n; i += PIPE_ROWS)
		rc = push_pipeline(c, gw, rows + i, incs ? incs + i : NULL,
				   n - i < PIPE_ROWS ? n - i : PIPE_ROWS, &added);
	if (rc >= 0 && (rc = command(c, "COMMIT", "commit push")) >= 0)
		return added;
out:
	rollback(c);
	return rc;
}

/* ---- roster ---------------------------------------------------------------------------- */

int county_roster_newest(struct county *c, int64_t have, struct county_roster *out)
{
	uint8_t b[8];
	const char *v[] = {(const char *)b};
	int len[] = {8};
	PGresult *res;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	put_u64(b, (uint64_t)have);
	res = exec(c, C_ROSTER, v, len);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return fail(c, res, "roster");
	if (PQntuples(res) == 1) {
		out->version = get_i64(res, 0, 0);
		out->made_ms = get_i64(res, 0, 1);
		if (out->version <= 0 || out->made_ms == INT64_MIN) {
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "county: roster row malformed");
			rc = -EBADMSG;
		} else if (out->version != have && !PQgetisnull(res, 0, 2)) {
			out->len = (size_t)PQgetlength(res, 0, 2);
			out->csv = malloc(out->len + 1);
			if (!out->csv) {
				rc = -ENOMEM;
			} else {
				memcpy(out->csv, PQgetvalue(res, 0, 2), out->len);
				out->csv[out->len] = '\0';
				rc = 1;
			}
		}
	}
	PQclear(res);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- report ----------------------------------------------------------------------------- */

/* Text column i of row, or NULL when SQL NULL. */
static const char *col(const PGresult *res, int row, int i)
{
	return PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i);
}

int county_report(struct county *c, int64_t from_ms, int64_t to_ms, struct gw_report *r,
		  int64_t *moved)
{
	static const char rows_sql[] =
	    "SELECT gateway, id, started_ms, line, caller, caller_name, outcome, accept_ms,"
	    " accepted, first_page, fallback_page, pages, text, status FROM report_incidents"
	    " WHERE counted AND started_ms >= $1::int8 AND started_ms < $2::int8"
	    " ORDER BY started_ms, gateway, id";
	/* the incidents on their own, less those that moved: the report's self-check */
	static const char count_sql[] =
	    "SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM incident_moves m"
	    "  WHERE m.from_gateway = i.gateway AND m.from_id = i.id)), count(*)"
	    " FROM incidents i WHERE started_ms >= $1::int8 AND started_ms < $2::int8";
	char from[24], to[24];
	const char *v[] = {from, to};
	PGresult *res;
	int rc;

	snprintf(from, sizeof(from), "%lld", (long long)from_ms);
	snprintf(to, sizeof(to), "%lld", (long long)to_ms);
	/* one snapshot for the rows and the count */
	if ((rc = command(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin report")) <
	    0)
		return rc;
	res = PQexecParams(c->pg, rows_sql, 2, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 14) {
		rc = fail(c, res, "report");
		goto out;
	}
	for (int i = 0; i < PQntuples(res) && rc >= 0; i++) {
		const char *am = col(res, i, 7);
		struct gw_db_report_inc inc = {
		    .gateway = col(res, i, 0),
		    .id = strtoll(PQgetvalue(res, i, 1), NULL, 10),
		    .started_ms = strtoll(PQgetvalue(res, i, 2), NULL, 10),
		    .line = PQgetvalue(res, i, 3),
		    .caller = PQgetvalue(res, i, 4),
		    .caller_name = col(res, i, 5),
		    .outcome = col(res, i, 6),
		    .accept_ms = am ? strtoll(am, NULL, 10) : 0,
		    .accepted = col(res, i, 8),
		    .first_page = col(res, i, 9),
		    .fallback_page = col(res, i, 10),
		    .pages = strtoll(PQgetvalue(res, i, 11), NULL, 10),
		    .text = PQgetvalue(res, i, 12)[0] == 't',
		    .status = PQgetvalue(res, i, 13)[0] == 't',
		};
		rc = gw_report_add(r, &inc);
	}
	PQclear(res);
	if (rc < 0)
		goto out;
	res = PQexecParams(c->pg, count_sql, 2, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = fail(c, res, "report count");
		goto out;
	}
	int64_t counted = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*moved = strtoll(PQgetvalue(res, 0, 1), NULL, 10) - counted;
	PQclear(res);
	gw_report_finish(r, counted);
	return command(c, "COMMIT", "commit report");
out:
	rollback(c);
	return rc;
}

/* ---- verify ----------------------------------------------------------------------------- */

/* Walk one gateway's rows. 0 intact, 1 broken (a line on out either way), -errno. */
static int verify_gateway(struct county *c, const char *gw, FILE *out)
{
	uint8_t prev[32] = {0}, h[32], after_b[8];
	const char *v[] = {gw, (const char *)after_b};
	int len[] = {(int)strlen(gw), 8};
	int64_t last = 0;
	const char *why = NULL;
	int rc = 0;

	for (;;) {
		PGresult *res;
		int rows;

		put_u64(after_b, (uint64_t)last);
		res = exec(c, C_WALK, v, len);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			return fail(c, res, "walk");
		rows = PQntuples(res);
		for (int i = 0; i < rows && !why; i++) {
			struct gw_db_chain_row r = {0};
			const uint8_t *enc = (const uint8_t *)PQgetvalue(res, i, 6);

			r.id = get_i64(res, i, 0);
			r.incident = get_i64(res, i, 1);
			r.t_ms = get_i64(res, i, 2);
			r.kind = PQgetvalue(res, i, 3);
			r.kind_len = (size_t)PQgetlength(res, i, 3);
			if (!PQgetisnull(res, i, 4)) {
				r.detail = PQgetvalue(res, i, 4);
				r.detail_len = (size_t)PQgetlength(res, i, 4);
			}
			r.has_detail_hash = get_hash(res, i, 5, r.detail_hash);
			r.v3 = PQgetlength(res, i, 6) == 2 && enc[1] == 3;
			if (r.id != last + 1)
				why = "missing: the rows before it are not there (a gap)";
			else if (!get_hash(res, i, 7, r.prev_hash) || !get_hash(res, i, 8, r.hash))
				why = "hash missing or malformed";
			else if (memcmp(r.prev_hash, prev, 32) != 0)
				why = "does not link to the row before it";
			else if (PQgetvalue(res, i, 9)[0])
				why = "detail does not match its hash (row changed)";
			else if (r.v3 && r.detail && !r.has_detail_hash)
				why = "detail without its hash (row changed)";
			else if ((rc = gw_db_chain_hash(&r, h)) < 0)
				break;
			else if (memcmp(h, r.hash, 32) != 0)
				why = "content does not match its hash (row changed)";
			if (why) {
				fprintf(out, "%s: broken at event %lld: %s\n", gw,
					(long long)last + 1, why);
				break;
			}
			memcpy(prev, r.hash, 32);
			last = r.id;
		}
		PQclear(res);
		if (rc < 0)
			return rc;
		if (why)
			return 1;
		if (rows < WALK_PAGE)
			break;
	}
	/* The incidents against the (intact) events that opened and closed them. */
	PGresult *res = exec(c, C_INC_CHECK, v, len);
	int64_t incidents;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		return fail(c, res, "incident check");
	incidents = get_i64(res, 0, 0);
	if (!PQgetisnull(res, 0, 1)) {
		fprintf(out, "%s: incident %lld does not match the events that open and close it\n",
			gw, (long long)get_i64(res, 0, 1));
		PQclear(res);
		return 1;
	}
	PQclear(res);
	fprintf(out, "%s: %lld events, intact, %lld incidents, head ", gw, (long long)last,
		(long long)incidents);
	for (int i = 0; i < 32; i++)
		fprintf(out, "%02x", prev[i]);
	fputc('\n', out);
	return 0;
}

int county_verify(struct county *c, FILE *out)
{
	PGresult *gws;
	int rc = 0, broken = 0;

	/* One snapshot for the whole walk. */
	if ((rc = command(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin verify")) <
	    0)
		return rc;
	gws = exec(c, C_GWS, NULL, NULL);
	if (PQresultStatus(gws) != PGRES_TUPLES_OK) {
		rc = fail(c, gws, "gateways");
		rollback(c);
		return rc;
	}
	for (int i = 0; rc >= 0 && i < PQntuples(gws); i++) {
		char gw[64];
		int n = PQgetlength(gws, i, 0);
		snprintf(gw, sizeof(gw), "%.*s", n < 63 ? n : 63, PQgetvalue(gws, i, 0));
		if ((rc = verify_gateway(c, gw, out)) == 1)
			broken = 1;
	}
	if (PQntuples(gws) == 0)
		fprintf(out, "no gateway has pushed events yet\n");
	PQclear(gws);
	rollback(c);
	return rc < 0 ? rc : broken;
}
