/*
 * db: the SQLite database behind rinkid and rinkictl (roster and call log).
 *
 * Every function returns >= 0 on success or a negative errno; SQLite's own
 * errors are logged (category GW_LOG_DB) with their text and mapped to an errno
 * here, so callers never see SQLite codes. Times are wall-clock milliseconds
 * since the Unix epoch (UTC). One struct gw_db is one connection; it is not
 * shared between threads.
 *
 * Tamper evidence (schema v2, encoding v3 since schema v3). Every incident_events row
 * carries hash = SHA-256 over (id, incident, t_ms, kind, detail, prev_hash) in a
 * length-prefixed encoding, and prev_hash = the previous row's hash (32 zero bytes for the
 * first); chain_head keeps the last row's id and hash. Rows written since schema v3 hash
 * SHA-256(detail) (kept in detail_hash) instead of the detail itself, so retention can
 * blank a message body and the chain still verifies; rows written before keep their v2
 * hash untouched (chain_meta.v3_from is the first v3 row), so an upgrade never re-hashes,
 * and never launders, an old row. A blanked detail is accepted only on a body kind
 * (gw_db_kind_is_body()) older than the cutoff of a later "retention" event. Incident rows are
 * covered through their events: every incident change is an event (open: caller, name, line, cci,
 * started_ms; close: outcome, cause, accepted by, ended_ms; interrupted), and gw_db_log_verify()
 * checks each incident row against those chained events. What it catches: a changed, inserted or
 * removed event row, cut-off last rows, an incident row whose fields disagree with its events,
 * events of a missing incident. Against "<db>.anchor", written after every commit with a MAC under
 * a key in "<db>.key" that readers do not have (db_anchor.c): the tail cut off together with
 * chain_head, an older copy of the file put back, and the chain rewritten from some row on (the
 * anchored event's hash differs, or the anchor's MAC does not match). What it does not: the
 * database and the anchor put back together to an older pair, someone who holds the key, and the
 * roster tables, which are not part of the call log.
 *
 * Spool (when the database is locked past a 250 ms busy timeout, full, read-only, has an
 * I/O error or is gone). Call-log writes (incident open, event, close, mark interrupted)
 * the database cannot take go to <db>.spool (see spool.h), one fsynced record each, and
 * the call returns 0. Once a record is there, every later call-log write goes there too
 * until gw_db_spool_replay() has applied the file, in order, so the log order holds.
 * Incident ids: this connection hands out ids itself, after the largest id in the file,
 * in the spool and ever given out (single writer: only rinkid opens incidents), and an
 * incident opened while the database is down keeps its id; replay inserts it with that
 * id. Each record has a unique key (origin, a random number per connection, and a
 * sequence number) that replay stores in spool_applied in the same transaction, so a
 * replay cut short (crash) never applies a record twice. A write that reaches the spool
 * but later fails at replay for a logical reason (close of an incident that is not open,
 * event for an unknown incident) is dropped with an error line: it returned 0 earlier.
 * Should the spool file fail too (same full disk), the write is lost with an error line
 * and its -errno.
 */
#ifndef GW_DB_H
#define GW_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_db;

/* gw_db_open_flags() flags. */
#define GW_DB_NOCREATE 0x1u /* fail with -ENOENT instead of creating a missing file */

/*
 * Open (creating it unless GW_DB_NOCREATE) and migrate the database at path to the
 * newest schema this build knows. Returns 0 and *out, or a negative errno;
 * -EPROTO when the file's schema is newer than this build (nothing is changed).
 */
int gw_db_open_flags(const char *path, unsigned flags, struct gw_db **out);

/* gw_db_open_flags(path, 0, out). */
int gw_db_open(const char *path, struct gw_db **out);

/* gw_db_open_flags() with the spool at spool_path (NULL or "": <path>.spool). */
int gw_db_open_spool(const char *path, unsigned flags, const char *spool_path, struct gw_db **out);

/*
 * rinkid's open, which gives a connection even when the database cannot be used (missing
 * and not creatable, corrupt, read-only, full, a newer schema): then a stand-in, logged as
 * an error: the roster copy "<spool>.roster" (gw_db_copy_save) or, with none, an empty
 * database in memory (no roster: nobody can be paged). Call-log writes go to the spool; the
 * spool replay (gw_db_spool_replay) tries the real file (never creating it) and, once it
 * works, swaps it in and applies the spool. Returns 0 and *out, or -ENOMEM.
 */
int gw_db_open_daemon(const char *path, const char *spool_path, struct gw_db **out);

/* Why the connection is a stand-in (text for status), or NULL when it is the database. */
const char *gw_db_problem(const struct gw_db *db);

/*
 * Keep a copy of the database for a bad day in "<spool>.roster" (0640, replaced whole): the
 * roster, the manual layer and PINs as they are, the call log's events left out and only
 * its newest incident row kept (ids given out on the copy come after it). Made again only
 * when the roster revision changed (or the file was reopened): it runs on the caller's
 * thread, about 0.7 s for a 19 MB database. Returns 0, -EAGAIN on a stand-in, or -errno
 * (logged).
 */
int gw_db_copy_save(struct gw_db *db);

/* Close the connection; a batch still open is committed first. NULL is ignored. */
void gw_db_close(struct gw_db *db);

/* The schema version this build creates and understands. */
int gw_db_schema_version(void);

/* How long call-log writes wait for another connection's lock before spooling (ms). */
void gw_db_set_busy_timeout(struct gw_db *db, int ms);

/* ---- call log ------------------------------------------------------------------------ */

/* caller is required; caller_name and line may be NULL (unknown org, no route). */
struct gw_incident_rec {
	int64_t started_ms;
	const char *caller;
	const char *caller_name;
	const char *line;
	int radio_cci;
};

/*
 * Start an incident. In the same transaction an event of kind "open" at started_ms
 * records the caller, name, line and cci, so the timeline is complete from one commit.
 * Returns 0 and *id_out (also when the write was spooled: the id stays valid), or -errno.
 */
int gw_db_incident_open(struct gw_db *db, const struct gw_incident_rec *rec, int64_t *id_out);

/* Append one event (detail may be NULL). Returns 0, -ENOENT for an unknown incident, or -errno. */
int gw_db_event_append(struct gw_db *db, int64_t incident, int64_t t_ms, const char *kind,
		       const char *detail);

/*
 * Close an open incident with its outcome, cause (< 0: none recorded) and who accepted
 * (may be NULL), and
 * append a "close" event at ended_ms in the same transaction. Returns 0, -ENOENT when
 * the incident does not exist or is already closed, or -errno.
 */
int gw_db_incident_close(struct gw_db *db, int64_t incident, int64_t ended_ms, const char *outcome,
			 int cause, const char *accepted_by);

/*
 * Open incidents left by a crash: give each an "interrupted" event at now_ms and close it
 * with outcome "interrupted", ended_ms = now_ms, cause NULL. Returns how many, or -errno;
 * 0 when spooled (the incidents opened so far are marked when the spool is replayed).
 */
int gw_db_mark_interrupted(struct gw_db *db, int64_t now_ms);

/*
 * Group the following call-log writes into one transaction (one fsync) until
 * gw_db_batch_commit(). Inside a batch each write is still atomic on its own (a failed
 * write leaves no trace) and reports its own result. When the database becomes
 * unavailable during the batch, the batch's writes so far and the rest go to the spool,
 * in order. Returns 0, -EBUSY if a batch is already open, or -errno.
 */
int gw_db_batch_begin(struct gw_db *db);

/*
 * Commit the batch; when the database cannot take it, its writes are spooled (returns 0).
 * Returns 0, -EINVAL when no batch is open, or -errno (batch lost, logged).
 */
int gw_db_batch_commit(struct gw_db *db);

/*
 * Apply the spool to the database in order and empty it; gw_db_open() calls it, and the
 * main loop should call it on a timer (every few seconds) while gw_db_spool_pending().
 * Records already applied are skipped. Returns how many records were applied (0 when
 * nothing waits), -EBUSY inside a batch, or -errno when the database still cannot take
 * them (everything stays in the spool for the next try).
 */
int gw_db_spool_replay(struct gw_db *db);

/* True while records wait in the spool (this connection's view). */
bool gw_db_spool_pending(const struct gw_db *db);

/*
 * Move this connection's commits off the caller's thread (rinkid's event loop): a second
 * connection in a thread of its own commits the call-log writes (incident open, event,
 * close, mark, system event) handed to it in order through the queue file <path>.queue
 * (0640, one process at a time). The calls above then return once the write is queued:
 * 0, with the incident id of an open already given; the writer reports its failures in the
 * log and spools as before when the database cannot take them. A queued write survives a
 * crash of the process (it is committed at the next start), not a power cut before its
 * commit; a commit is as durable as before. gw_db_spool_replay() asks the writer to replay,
 * gw_db_spool_pending() tells its state, gw_db_close() commits what is queued and stops it.
 * Reads stay on this connection and see a write once the writer has committed it.
 * Returns 0, -EBUSY (already started, or inside a batch), -EWOULDBLOCK (another process
 * has the queue) or -errno.
 */
int gw_db_writer_start(struct gw_db *db);

struct gw_db_writer_stats {
	uint64_t commits;      /* transactions */
	uint64_t records;      /* call-log writes taken from the queue */
	uint64_t skipped;      /* ... already committed before a crash */
	uint64_t lost;	       /* refused by the queue (full) or by both database and spool */
	uint64_t queued_bytes; /* waiting now */
};

/* The writer's counters. Returns 0, or -ENOENT when no writer was started. */
int gw_db_writer_stats(const struct gw_db *db, struct gw_db_writer_stats *st);

/* How the chain stands against its anchor outside the database (db_anchor.c). */
enum gw_db_anchor {
	GW_DB_ANCHOR_NONE,    /* never anchored (no key, no anchor file) */
	GW_DB_ANCHOR_OK,      /* the last event is the anchored one, MAC checked */
	GW_DB_ANCHOR_BEHIND,  /* MAC checked; events after the anchored one (written by a
				 reader without the key, or a crash before the anchor) */
	GW_DB_ANCHOR_UNKEYED, /* the anchored event is there, but the key cannot be read:
				 MAC not checked */
};

/* What gw_db_log_verify_report() found. */
struct gw_db_verify {
	enum gw_db_anchor anchor; /* when intact */
	int64_t anchor_id;	  /* the anchored event, 0 when none */
	int64_t events;		  /* event rows walked (all of them when intact) */
	int64_t incidents;	  /* incident rows checked */
	int64_t bad_event;	  /* first event row that fails; 0 when none or not one row */
	int64_t bad_incident;	  /* the incident concerned, when known; 0 otherwise */
	const char *reason;	  /* static text, NULL when intact */
	uint8_t head[32];	  /* hash of the last event (the value to record elsewhere) */
};

/*
 * Walk the chain in id order: every row's prev_hash and hash, the chain head, then each
 * incident row against its open and closing events. Returns 0 intact, 1 broken (*out names
 * the first problem), or -errno.
 */
int gw_db_log_verify_report(struct gw_db *db, struct gw_db_verify *out);

/*
 * gw_db_log_verify_report() reduced to: 0 intact, 1 broken with *bad_event_id the first
 * broken event row's id (for an incident row that disagrees with its events, the event it
 * disagrees with; 0 when it has none), or -errno.
 */
int gw_db_log_verify(struct gw_db *db, int64_t *bad_event_id);

/*
 * The chain head as the last write left it: *id the last event row's id and hash its hash
 * (0 and 32 zero bytes on an empty log). One row read, no walk. Returns 0 or -errno.
 */
int gw_db_chain_head(struct gw_db *db, int64_t *id, uint8_t hash[32]);

/* One incident as read back; strings valid only during the callback. */
struct gw_db_incident {
	int64_t id;
	int64_t started_ms;
	int64_t ended_ms; /* valid when ended */
	bool ended;
	const char *caller;
	const char *caller_name; /* NULL when unknown */
	const char *line;	 /* NULL when unrouted */
	int radio_cci;
	const char *outcome; /* NULL while open */
	int cause;	     /* valid when has_cause */
	bool has_cause;
	const char *accepted_by; /* NULL when nobody */
};

struct gw_db_event {
	int64_t id;
	int64_t t_ms;
	const char *kind;
	const char *detail; /* may be NULL */
	bool removed;	    /* detail NULL because retention blanked a message body */
};

typedef void (*gw_db_incident_fn)(const struct gw_db_incident *inc, void *arg);
typedef void (*gw_db_event_fn)(const struct gw_db_event *ev, void *arg);

/* Call fn for up to limit incidents (limit > 0), newest first. Returns how many, or -errno. */
int gw_db_incident_list(struct gw_db *db, int limit, gw_db_incident_fn fn, void *arg);

/* Call fn for the incidents started in [from_ms, to_ms), oldest first. Count or -errno. */
int gw_db_incident_range(struct gw_db *db, int64_t from_ms, int64_t to_ms, gw_db_incident_fn fn,
			 void *arg);

/* Call fn once for incident id. Returns 0, -ENOENT when there is none, or -errno. */
int gw_db_incident_get(struct gw_db *db, int64_t id, gw_db_incident_fn fn, void *arg);

/* Call fn for every event of an incident in the order written. Returns how many, or -errno. */
int gw_db_event_list(struct gw_db *db, int64_t incident, gw_db_event_fn fn, void *arg);

/* Call fn for every system event (no incident, e.g. "retention") in order. Count or -errno. */
int gw_db_system_event_list(struct gw_db *db, gw_db_event_fn fn, void *arg);

/*
 * Append a system event (no incident; e.g. "group_call" from the talkgroup monitor),
 * chained like every event: a call-log write like the others (in the open batch, spooled
 * when the database cannot take it, through the writer when there is one). 0 or -errno.
 */
int gw_db_system_event_append(struct gw_db *db, int64_t t_ms, const char *kind, const char *detail);

/* ---- report and retention ------------------------------------------------------------ */

/*
 * One incident as the report (store/report.h) reads it; strings valid only during the
 * callback. line is "" when unrouted; caller_name NULL when not in the directory; outcome
 * NULL while open. accept_ms is the first "accepted" event's time (-1: none) and accepted
 * its detail (the handle first); first_page the first "page" event's detail and
 * fallback_page the first one marked " fallback" (NULL: none); text and status: the
 * incident has an "sds_text" / "sds_status" event (an officer's SDS).
 */
struct gw_db_report_inc {
	int64_t id, started_ms;
	const char *line, *caller, *caller_name, *outcome;
	int64_t accept_ms;
	const char *accepted, *first_page, *fallback_page;
	int64_t pages;
	bool text, status;
	const char *gateway; /* the county report's gateway; NULL in a gateway's own report */
};
typedef void (*gw_db_report_inc_fn)(const struct gw_db_report_inc *inc, void *arg);

/*
 * Call fn for every incident started in [from_ms, to_ms), oldest first, whatever its kind
 * (authority call, text, status, call-back), and count them again with a plain count(*)
 * into *in_range, both in one read transaction (the report's self-check compares the
 * two). Returns how many fn saw, or -errno.
 */
int gw_db_report_incidents(struct gw_db *db, int64_t from_ms, int64_t to_ms, gw_db_report_inc_fn fn,
			   void *arg, int64_t *in_range);

/*
 * One service line's authority calls for gw_db_report(); line "" collects calls without a
 * line. Counted as store/report.h counts them: texts, statuses and call-backs are not
 * calls; unanswered are the calls that reached nobody (outcome unanswered or unstaffed),
 * not every call without an acceptance (busy and abandoned calls are neither).
 */
struct gw_db_report_row {
	const char *line;
	int64_t calls;
	int64_t answered;	 /* accepted by a worker (an "accepted" event) */
	int64_t answered_within; /* ... the first acceptance within within_ms of the start */
	int64_t escalated;	 /* more than one "page" event: step 2 or a later round */
	int64_t unanswered;	 /* reached nobody: outcome unanswered or unstaffed */
	int64_t busy, abandoned; /* another call was live; the officer hung up first */
};
typedef void (*gw_db_report_fn)(const struct gw_db_report_row *row, void *arg);

/*
 * Per line (sorted by code) over the incidents started in [from_ms, to_ms): call fn once
 * per line that had authority calls. Implemented in report.c on gw_report_build(), which
 * has the whole report. Returns how many rows, or -errno.
 */
int gw_db_report(struct gw_db *db, int64_t from_ms, int64_t to_ms, int64_t within_ms,
		 gw_db_report_fn fn, void *arg);

/*
 * Event kinds whose detail is a message body (free text someone wrote): "sms_text" and
 * "sds_text". Their detail is the text alone; who sent it to whom is a separate event
 * ("sms", "sds", ...) that retention keeps. True for those kinds.
 */
bool gw_db_kind_is_body(const char *kind);

/*
 * Retention: blank the detail of body events (gw_db_kind_is_body) older than now_ms minus
 * days, keep every other column and every other event, and append a system event
 * "retention" with the cutoff and the count, all in one transaction; the hash chain stays
 * verifiable. *removed (may be NULL) gets the count. Returns 0, -EINVAL (days < 1), -EBUSY
 * (a batch is open or call-log records wait in the spool), or -errno.
 */
int gw_db_retention_run(struct gw_db *db, int64_t now_ms, int days, int64_t *removed);

/*
 * Recording retention: delete the files named by "recording" events (gateway/rec.c's
 * incident-*.wav) older than now_ms minus days, log each, and when any went append a
 * system event "recording_retention" with the cutoff and the count. The events stay.
 * *removed (may be NULL) gets the count. 0, -EINVAL (days < 1), -EBUSY (as above), -errno.
 */
int gw_db_recording_retention(struct gw_db *db, int64_t now_ms, int days, int64_t *removed);

/* ---- roster tables ------------------------------------------------------------------- */

/*
 * The roster tables as plain arrays. Every string is malloc'ed and owned by the struct
 * (free with gw_db_roster_clear). issi (worker) may be NULL. A shift names its line by
 * code and its worker by handle.
 */
/*
 * Office hours (schema v11, office false: none): on days office_days (bit 0 Monday .. bit
 * 6 Sunday) from office_from to office_to (local Helsinki minutes, from < to), never on a
 * holiday; at every other time the line's calls page after_line's chain.
 */
struct gw_db_line {
	char *code, *name_fi, *name_sv, *name_en;
	int office_days;
	bool office;
	int office_from, office_to;
	char *after_line;
};
/*
 * lang (schema v4): "fi", "sv" or "en"; NULL on insert means "fi". pin_hash: the PIN as a
 * libsodium crypto_pwhash_str() string (argon2id), NULL when none; read only, never
 * written by gw_db_roster_replace/gw_db_worker_add (see gw_db_worker_set_pin).
 */
struct gw_db_worker {
	char *handle, *name, *phone, *issi;
	bool active;
	char *lang, *pin_hash;
	/* read only (schema v7): active was set by rinkictl; the worker was added by rinkictl */
	bool manual_active, manual_add;
};
struct gw_db_shift {
	char *line, *worker;
	int64_t start_ms, end_ms;
	int position;
	char *temp; /* schema v6: the temporary roster it belongs to, or NULL */
};
/*
 * A route (conditions since schema v5; a zeroed condition is "any"): days, bit 0 Monday ..
 * bit 6 Sunday (0: every day); window [from_min, to_min) local Helsinki minutes of the day,
 * crossing midnight when from_min > to_min (days and holidays then apply to the day it
 * began); holidays GW_DB_ROUTE_HOL_*; status an SDS status code (has_status false: any).
 */
enum { GW_DB_ROUTE_HOL_ANY, GW_DB_ROUTE_HOL_ONLY, GW_DB_ROUTE_HOL_EXCEPT };
struct gw_db_route {
	char *line, *prefix;
	int priority;
	int days;
	bool window;
	int from_min, to_min;
	int holidays;
	bool has_status;
	int status;
};
/*
 * A directory entry; municipality (schema v11, NULL: none) is the caller's municipality for
 * the report, membership "member" or "contract" (a member or a contract municipality of
 * the service, for cost sharing), both or neither.
 */
struct gw_db_dir {
	char *issi, *org;
	char *municipality, *membership;
};
/*
 * A rotation (schema v3): members take turns, one per period; a period starts at
 * handoff_min minutes after local midnight (Europe/Helsinki) of start_date (member 1) and
 * lasts one day ("daily") or seven ("weekly"); end_date (may be NULL: open) is the local
 * date whose handoff ends it. hours: "all", "office" (Mon-Fri 08-16 except holidays) or
 * "after" (the rest). Dates are "YYYY-MM-DD".
 */
struct gw_db_rotation {
	char *name, *line, *kind, *start_date, *end_date, *hours;
	int handoff_min;
	int position;
	char *temp; /* schema v6: the temporary roster it belongs to, or NULL */
	/*
	 * schema v8, kind "pattern" (else NULL/0): cycle is one token per day, a shift name
	 * or "-" (off), e.g. "D D N N - - - -"; shifts names each shift's local start and
	 * optional end, e.g. "D=07:00 N=19:00" (a shift without an end lasts until the next
	 * shift's start); member k works the cycle shifted by (k - 1) * step days.
	 * handoff_min and hours are unused ("all").
	 */
	char *cycle, *shifts;
	int step;
};
/*
 * A temporary roster (schema v6): from from_date's handoff_min (local Helsinki) until
 * to_date's, the shifts and rotations that name it are line's duty, and the line's other
 * shifts and rotations are not (overrides still apply). They never overlap on one line.
 */
struct gw_db_temp {
	char *name, *line, *from_date, *to_date;
	int handoff_min;
};
struct gw_db_member {
	char *rotation, *worker;
	int order; /* 1 = first turn */
};
/*
 * An override for [start_ms, end_ms): kind "add" (worker is also on duty on line at
 * position), "remove" (worker is off duty) or "replace" (by takes worker's places). line
 * NULL (remove and replace only): every line and every chain step. id is the database's.
 */
struct gw_db_override {
	int64_t id;
	char *kind, *line, *worker, *by;
	int64_t start_ms, end_ms;
	int position; /* add only; 0 otherwise */
	bool manual;  /* read only (schema v7): made by rinkictl (the manual layer) */
};
/*
 * One step of a line's escalation chain: kind "person" (who = worker handle), "oncall"
 * (who = line code: the first on duty there at the time) or "duty" (who = line code:
 * everyone on duty there, in duty order). ring_s 0: the configured ring time.
 */
struct gw_db_chain_step {
	char *line, *kind, *who;
	int order, ring_s;
};
/* Chain settings of a line: rounds (0: configured), fallback worker (NULL: none). */
struct gw_db_chain {
	char *line, *fallback;
	int rounds, fallback_ring_s;
};
struct gw_db_holiday {
	char *date, *name;
};
/* Which county roster version the base roster is (rinki-sync's roster pull). */
struct gw_db_roster_source {
	int64_t version;    /* the county's version number, > 0 */
	int64_t made_ms;    /* when the county made it (UTC ms) */
	int64_t applied_ms; /* when this gateway applied it (UTC ms) */
};

struct gw_db_roster {
	struct gw_db_line *lines;
	size_t n_lines;
	struct gw_db_worker *workers;
	size_t n_workers;
	struct gw_db_shift *shifts;
	size_t n_shifts;
	struct gw_db_route *routes;
	size_t n_routes;
	struct gw_db_dir *dirs;
	size_t n_dirs;
	/* schema v3 */
	struct gw_db_rotation *rotations;
	size_t n_rotations;
	struct gw_db_member *members;
	size_t n_members;
	struct gw_db_override *overrides;
	size_t n_overrides;
	struct gw_db_chain_step *steps;
	size_t n_steps;
	struct gw_db_chain *chains;
	size_t n_chains;
	struct gw_db_holiday *holidays;
	size_t n_holidays;
	/* schema v6 */
	struct gw_db_temp *temps;
	size_t n_temps;
	/* v13 (issue #17): the county version, as gw_db_roster_read() found it; imports ignore it
	 */
	struct gw_db_roster_source source;
};

/* Free every array and string and zero the struct. */
void gw_db_roster_clear(struct gw_db_roster *r);

/* Read all roster tables in one read transaction into *out (zeroed first). 0 or -errno. */
int gw_db_roster_read(struct gw_db *db, struct gw_db_roster *out);

/*
 * Layers (schema v7). The roster is the base layer (what a CSV import writes) and the
 * manual layer on top: overrides, worker disables/enables, phone and language changes
 * (v12) and workers added with rinkictl (gw_db_override_add, gw_db_worker_set_active,
 * gw_db_worker_set_details, gw_db_worker_add), stored apart by handle and line code.
 * gw_db_roster_read() gives both merged: a worker's active flag, phone and language from
 * the manual layer when it has them, manual workers after the base ones, manual overrides
 * beside the base ones (manual = true, id = the manual override's id).
 *
 * What a base import does with each manual change, told to gw_db_manual_fn:
 *   KEPT      it still applies and stays;
 *   IN_BASE   the new base has the same (same override; same active flag, phone and
 *             language; the added worker's handle): the manual copy is removed, the
 *             base now carries it;
 *   CONFLICT  it names a worker or line the new base lacks: the import is refused
 *             (nothing changes) unless GW_DB_IMPORT_REPLACE is given, then DROPPED.
 * what is one line naming the change, e.g. "override 3: replace aino by pia on sos,
 * 2026-03-01T06:00Z .. 2026-03-02T06:00Z" or "worker pia: disabled, phone +358401111111,
 * language sv".
 */
enum gw_db_manual_fate {
	GW_DB_MANUAL_KEPT,
	GW_DB_MANUAL_IN_BASE,
	GW_DB_MANUAL_CONFLICT,
	GW_DB_MANUAL_DROPPED
};
typedef void (*gw_db_manual_fn)(enum gw_db_manual_fate fate, const char *what, void *arg);
#define GW_DB_IMPORT_REPLACE 0x1u /* drop the manual changes that name what the base lacks */
#define GW_DB_IMPORT_DRY_RUN 0x2u /* check everything, tell fn every fate, then roll back */

/*
 * Replace the base roster (every roster table) with *in in one transaction: all or
 * nothing; workers' PINs stay with their handles (in->workers' pin_hash is ignored); the
 * manual layer stays as described above (fn may be NULL: logged). Returns 0; -ECANCELED
 * when manual changes conflict and flags lacks GW_DB_IMPORT_REPLACE (nothing changed,
 * each CONFLICT reported); or -errno with nothing changed (-ENOENT: a row names an unknown
 * worker, line or rotation).
 */
int gw_db_roster_import(struct gw_db *db, const struct gw_db_roster *in, unsigned flags,
			gw_db_manual_fn fn, void *arg);

/* gw_db_roster_import(db, in, 0, NULL, NULL). */
int gw_db_roster_replace(struct gw_db *db, const struct gw_db_roster *in);

/*
 * gw_db_roster_import() that records src as the base roster's source in the same
 * transaction (src NULL: none, a local import; gw_db_roster_import() does that).
 */
int gw_db_roster_import_from(struct gw_db *db, const struct gw_db_roster *in, unsigned flags,
			     gw_db_manual_fn fn, void *arg, const struct gw_db_roster_source *src);

/*
 * The base roster's county source: 1 and *out, 0 when it has none (imported locally, or
 * never), or -errno.
 */
int gw_db_roster_source_get(struct gw_db *db, struct gw_db_roster_source *out);

/*
 * Add one worker to the manual layer (handle, name, phone required; active false: added
 * disabled). 0, -EEXIST (handle taken) or -errno.
 */
int gw_db_worker_add(struct gw_db *db, const struct gw_db_worker *w);

/*
 * Set worker handle's PIN hash (a crypto_pwhash_str string, see gw_roster_hash_pin).
 * PINs are kept by handle: gw_db_roster_replace keeps those of the handles it keeps and
 * drops the others. 0, -ENOENT (no such handle) or -errno.
 */
int gw_db_worker_set_pin(struct gw_db *db, const char *handle, const char *hash);

/* A call-back PIN lock-out record (schema v7): times are wall-clock ms since the epoch. */
struct gw_db_lockout {
	const char *key;		/* "worker:<handle>" or "phone:<E.164>" */
	int fails;			/* wrong PINs counted in the current window */
	int64_t last_fail_ms, until_ms; /* until_ms 0: not locked */
};
typedef void (*gw_db_lockout_fn)(const struct gw_db_lockout *l, void *arg);

/* Call fn for every lock-out record (l and its key live for the call only). n or -errno. */
int gw_db_lockout_list(struct gw_db *db, gw_db_lockout_fn fn, void *arg);

/* Insert or replace the lock-out record l->key. 0 or -errno. */
int gw_db_lockout_put(struct gw_db *db, const struct gw_db_lockout *l);

/*
 * Remove worker handle's PIN (a reset: the worker sets a new one). 0 (also when none was
 * set), -ENOENT (no such handle) or -errno.
 */
int gw_db_worker_clear_pin(struct gw_db *db, const char *handle);

/* Set a worker's active flag in the manual layer. 0, -ENOENT (no such handle) or -errno. */
int gw_db_worker_set_active(struct gw_db *db, const char *handle, bool active);

/*
 * Set a worker's phone and/or language (NULL: leave as is) in the manual layer (schema
 * v12); they win over the base's until an import agrees. The caller validates them
 * (E.164, fi/sv/en). 0, -ENOENT (no such handle) or -errno.
 */
int gw_db_worker_set_details(struct gw_db *db, const char *handle, const char *phone,
			     const char *lang);

/*
 * Add an override to the manual layer (fields as in struct gw_db_override; id ignored)
 * and return its id in *id_out (may be NULL). 0, -ENOENT (unknown worker or line) or -errno.
 */
int gw_db_override_add(struct gw_db *db, const struct gw_db_override *o, int64_t *id_out);

/*
 * Delete manual override id (an imported one changes with the CSV). 0, -ENOENT (no such
 * manual override) or -errno.
 */
int gw_db_override_remove(struct gw_db *db, int64_t id);

/* Replace the whole directory with dirs[0..n) in one transaction. 0 or -errno. */
int gw_db_directory_replace(struct gw_db *db, const struct gw_db_dir *dirs, size_t n);

/*
 * 1 when the roster tables changed since the previous call (or since open): a commit by
 * another connection (PRAGMA data_version, then the roster revision) or
 * gw_db_roster_replace() on this one. 0 when not, or -errno.
 */
int gw_db_roster_changed(struct gw_db *db);

/* ---- the chain outside this database (county sync) ---------------------------------- */

/*
 * One incident_events row with every field its hash covers, as rinki-sync exports it and
 * the county database keeps it. Text is given with its exact byte length.
 */
struct gw_db_chain_row {
	int64_t id;	  /* the row's place in its gateway's chain: 1, 2, ... */
	int64_t incident; /* 0: a system event */
	int64_t t_ms;
	const char *kind;
	size_t kind_len;
	const char *detail; /* NULL: none, or blanked by retention (encoding v3) */
	size_t detail_len;
	bool has_detail_hash; /* encoding v3 rows that were written with a detail */
	uint8_t detail_hash[32];
	bool v3; /* hashed with encoding v3 (else v2, see db.c) */
	uint8_t prev_hash[32];
	uint8_t hash[32];
};

/*
 * The hash row should have (the same function the call log is written and verified with),
 * from its fields and prev_hash; row->hash is not read. 0 and out, or -EIO/-ENOMEM.
 */
int gw_db_chain_hash(const struct gw_db_chain_row *row, uint8_t out[32]);

#endif
