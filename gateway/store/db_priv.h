/*
 * db_priv: what the store's SQL files (db.c, db_log.c, db_roster.c) share and nobody else
 * may use: the connection struct, the statement enum, and the helpers that bind, step and
 * translate SQLite errors. Include only from gateway/store/db*.c.
 */
#ifndef GW_DB_PRIV_H
#define GW_DB_PRIV_H

#include "store/db.h"
#include "core/log.h"
#include "store/spool.h"
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
#include <sodium.h>
#include <sqlite3.h>

/* Call-log writes wait this long for a lock before they go to the spool. */
#define BUSY_TIMEOUT_MS 250
/* Migrations and roster imports are not on the call path and may wait longer. */
#define SLOW_BUSY_TIMEOUT_MS 5000
#define HASH_LEN	     32

struct gw_db;

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
	DB_STMT_QUEUE_APPLIED_GET,
	DB_STMT_QUEUE_APPLIED_SET,
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
	DB_STMT_WORKER_SET_DETAILS,
	DB_STMT_PIN_SET,
	DB_STMT_PIN_ORPHANS,
	DB_STMT_PIN_CLEAR,
	DB_STMT_WORKER_EXISTS,
	DB_STMT_OVR_DELETE_ID,
	DB_STMT_EVENT_HASH,
	DB_STMT_LOCKOUT_LIST,
	DB_STMT_LOCKOUT_PUT,
	DB_STMT_MOVR_INSERT,
	DB_STMT_MWORKER_ADD,
	DB_STMT_MOVR_CHECK,
	DB_STMT_MWORKER_CHECK,
	DB_STMT_MWORKER_DELETE,
	DB_STMT_MWORKER_UNADD,
	DB_STMT_REPORT,
	DB_STMT_INCIDENT_COUNT,
	DB_STMT_RETENTION_BLANK,
	DB_STMT_RECORDING_OLD,
	DB_STMT_RSRC_SET,
	DB_STMT_RSRC_CLEAR,
	DB_STMT_RSRC_GET,
	DB_STMT_COUNT
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
	/* The -wal and -shm files this connection opened (0/0 when it had none), so that a
	   reopen after the file was replaced removes them and never hands them to the new file. */
	struct stat wal_st, shm_st;
	/* Spool. */
	char *spool_path;
	bool spool_pending; /* records wait in the spool: writes go there too, in order */
	int64_t next_incident;
	uint64_t origin, seq; /* key of this connection's next spool record */
	int busy_ms;
	int64_t v3_from; /* first event row hashed with encoding v3 (chain_meta) */
	/* Set by gw_db_writer_start(): call-log writes go through the queue to the writer
	   thread, which has a connection of its own. */
	struct db_writer *w;
	/* Anchor (db_anchor.c). */
	char *key_path, *anchor_path;
	uint8_t anchor_key[32]; /* crypto_auth_KEYBYTES */
	bool anchor_keyed;	/* the key was read (or made) */
	int64_t anchor_last;	/* chain head id last anchored by this connection */
	/* A stand-in (gw_db_open_daemon): the database could not be used at open; h is the
	   roster copy or an empty memory database, call-log writes go to the spool, and the
	   first replay that reaches the real file swaps it in. problem says why, for status. */
	bool standin;
	char problem[200];
	/* gw_db_copy_save() made the copy of this roster revision (of this file). */
	bool copy_made;
	int64_t copy_rev;
	/* Reopen tries of a stand-in that failed; their SQLite errors are logged at debug
	   level after the first (quiet), with a summary line now and then. */
	unsigned standin_tries;
	bool quiet;
	/* Spooled incidents whose id the database had already given to another incident (a
	   file put back or replaced) and the id they got at replay: old, new pairs. */
	int64_t *renum;
	size_t nrenum;
	/* Call-log writes neither the database nor the spool took, not yet told by a "gap"
	   system event (first and last times, ms). */
	uint64_t lost_n;
	int64_t lost_from_ms, lost_to_ms;
	bool in_gap;
};

struct ev_row;
struct gw_db;

extern const char *const db_stmt_sql[DB_STMT_COUNT];
int db_fail(struct gw_db *db, int rc, const char *what);
int db_param(sqlite3_stmt *st, const char *name);
void db_bind_text(sqlite3_stmt *st, const char *name, const char *v);
void db_bind_i64(sqlite3_stmt *st, const char *name, int64_t v);
void db_bind_blob(sqlite3_stmt *st, const char *name, const uint8_t *v, int n);
void db_done(sqlite3_stmt *st);
int db_run(struct gw_db *db, enum db_stmt id);
int db_run_i64(struct gw_db *db, enum db_stmt id, int64_t *v);
const char *db_col_text(sqlite3_stmt *st, int i);
int db_tx_begin(struct gw_db *db);
int db_tx_end(struct gw_db *db, int rc);
int db_reconnect(struct gw_db *db);
int db_event_hash(struct gw_db *db, const struct ev_row *r, bool v3, const uint8_t *prev,
		  uint8_t out[HASH_LEN]);
int db_chain_existing(struct gw_db *db);
int db_each_row(struct gw_db *db, enum db_stmt id, void (*row)(sqlite3_stmt *, void *), void *arg);
/* Anchor: key and file names at open (0 or -ENOMEM); after a commit; in verify (1 broken). */
int db_anchor_open(struct gw_db *db);
void db_anchor_commit(struct gw_db *db);
int db_anchor_check(struct gw_db *db, struct gw_db_verify *v);

/* The writer thread (db_writer.c). */
struct db_writer;
/* Hand rec (keyed with the connection's origin and next seq) to the writer; 0 or -errno. */
int db_writer_put(struct db_writer *w, const struct gw_spool_rec *rec);
/* Ask the writer to replay the spool soon. */
void db_writer_replay(struct db_writer *w);
/* True while the writer's connection has records waiting in the spool. */
bool db_writer_spool_pending(const struct db_writer *w);
/* Stop the writer after it has committed everything queued, and free it. */
void db_writer_stop(struct db_writer *w);

/*
 * One call-log write on this connection, keeping rec's key (origin, seq) and, for an OPEN,
 * its incident id when it has one: to the database, or to the spool as log_write does.
 * Returns 0 or -errno.
 */
int db_log_write_keyed(struct gw_db *db, struct gw_spool_rec *rec);

/* The high-water mark of origin in queue_applied (0: none), or -errno. */
int db_queue_applied_get(struct gw_db *db, uint64_t origin, int64_t *seq);
/* Raise it to seq inside the open transaction. Returns 0 or -errno. */
int db_queue_applied_set(struct gw_db *db, uint64_t origin, uint64_t seq);

#endif
