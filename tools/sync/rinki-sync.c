/*
 * rinki-sync: pushes this gateway's call log to the county's PostgreSQL database.
 *
 * A process of its own, never on the paging path: rinkid keeps writing its SQLite call log
 * whatever happens here, and this program reads that log (store/db_export, read-only) and
 * pushes every event in chain order (county.c), batch by batch, each batch one county
 * transaction. It keeps no state of its own: the county's high-water mark of this gateway
 * (the last event it holds, and that event's hash) is the truth, asked for after every
 * (re)connection, and the local row at that mark must carry the same hash before anything
 * more is pushed. Rows are checked against their hashes before they leave, and the county
 * refuses a row that does not continue its chain or that differs from the one it has; a
 * row it has already (a batch retried after a crash or a lost COMMIT reply) is skipped. So
 * a SIGKILL at any instant, a county server that stops and comes back, or days offline
 * lose nothing and add nothing twice.
 *
 * One poll loop (core/loop): a timer runs one step (read a batch, push it); the next step
 * comes at once while there is a backlog, after county.poll_ms when caught up, and after a
 * back-off (0.5 s doubling to county.retry_max) after a failure. After every step the
 * status (state, backlog, lag, last success) is written to county.status_file; SIGUSR1
 * also logs it. SIGTERM and SIGINT stop after the current step.
 *
 * Usage: rinki-sync [-c CONF] [--once | --verify | --report --from T --to T [--csv|--json]]
 *   --once    push until the backlog is empty, then exit (0; 1 when a step fails)
 *   --verify  check every gateway's chain in the county database, exit 0 intact, 1 broken
 *   --report  the county report (store/report's, with a gateway column) over [from, to),
 *             Europe/Helsinki times YYYY-MM-DDTHH:MM; exit 0, 1 when its check fails
 * Exit status 2: usage or configuration error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "county.h"
#include "store/db_export.h"
#include "store/report.h"
#include "store/roster.h"

#define DEFAULT_CONF	 "/etc/rinki/rinki.conf"
#define BACKOFF_FIRST_MS 500
#define EXIT_USAGE	 2
#define REPORT_WITHIN_MS 60000 /* "accepted within" of the report, as rinkictl's default */

/* One exported row (and the incident it opens or closes) with its text owned here. */
struct row {
	struct gw_db_chain_row r;
	char *kind, *detail;
	bool has_inc;
	struct gw_db_incident inc;
	char *inc_text[5]; /* caller, caller_name, line, outcome, accepted_by */
};

struct sync {
	struct gw_conf conf;
	struct gw_loop *loop;
	struct gw_timer tick;
	struct gw_db_export *x;
	struct county *c;
	bool have_head;	    /* county_seq/hash were read on this connection */
	int64_t county_seq; /* the county's last event of this gateway (as last known) */
	uint8_t county_hash[32];
	int64_t local_head; /* the local log's last event (as last read) */
	int64_t lag_ms;	    /* age of the oldest event not in the county; 0 when none */
	int64_t last_ok_ms; /* wall clock of the last step that succeeded; 0: never */
	const char *state;  /* starting, ok, down, conflict (rows or schema), local */
	char last_error[200];
	int backoff_ms;
	struct row *rows;
	int n, cap;
	/* roster pull: the county's newest version, applied through store's atomic import */
	struct gw_db *db;		 /* the local database, read-write (roster only) */
	struct gw_db_roster_source rsrc; /* the version the local roster is (0: none) */
	int64_t roster_checked_ms;	 /* wall clock of the last look at the county; 0 never */
	int64_t roster_refused;		 /* newest county version that could not be applied */
	char roster_error[200];		 /* why; "" when the newest is applied */
	bool once;
	int exit_code;
};

/* ---- status ----------------------------------------------------------------------------- */

static void status_text(const struct sync *s, char *buf, size_t len)
{
	int64_t backlog = s->local_head > s->county_seq ? s->local_head - s->county_seq : 0;

	snprintf(buf, len,
		 "gateway %s\nstate %s\nlocal_head %lld\ncounty_head %lld\nbacklog %lld\n"
		 "lag_ms %lld\nlast_success_ms %lld\nlast_error %s\n"
		 "roster_version %lld\nroster_made_ms %lld\nroster_applied_ms %lld\n"
		 "roster_checked_ms %lld\nroster_error %s\n",
		 s->conf.county_gateway_id, s->state, (long long)s->local_head,
		 (long long)s->county_seq, (long long)backlog, (long long)s->lag_ms,
		 (long long)s->last_ok_ms, s->last_error[0] ? s->last_error : "-",
		 (long long)s->rsrc.version, (long long)s->rsrc.made_ms,
		 (long long)s->rsrc.applied_ms, (long long)s->roster_checked_ms,
		 s->roster_error[0] ? s->roster_error : "-");
}

/*
 * The same figures in the Prometheus text format (county.metrics_file, for node_exporter's
 * textfile collector), labelled with the gateway id (gw_conf_gateway_id_ok: lower-case
 * letters, digits and '-', so it needs no escaping). Replaced like the status file.
 */
static void metrics_text(const struct sync *s, char *buf, size_t len)
{
	int64_t backlog = s->local_head > s->county_seq ? s->local_head - s->county_seq : 0;
	const char *g = s->conf.county_gateway_id;

	snprintf(
	    buf, len,
	    "# HELP rinki_sync_up 1 when rinki-sync's last step with the county database "
	    "succeeded.\n# TYPE rinki_sync_up gauge\nrinki_sync_up{gateway=\"%s\"} %d\n"
	    "# HELP rinki_sync_backlog_events Call-log events not yet in the county.\n"
	    "# TYPE rinki_sync_backlog_events gauge\n"
	    "rinki_sync_backlog_events{gateway=\"%s\"} %lld\n"
	    "# HELP rinki_sync_lag_seconds Age of the oldest event not yet in the county.\n"
	    "# TYPE rinki_sync_lag_seconds gauge\nrinki_sync_lag_seconds{gateway=\"%s\"} %.3f\n"
	    "# HELP rinki_sync_last_success_timestamp_seconds When a step last succeeded.\n"
	    "# TYPE rinki_sync_last_success_timestamp_seconds gauge\n"
	    "rinki_sync_last_success_timestamp_seconds{gateway=\"%s\"} %.3f\n"
	    "# HELP rinki_sync_roster_county_version The county roster version applied here.\n"
	    "# TYPE rinki_sync_roster_county_version gauge\n"
	    "rinki_sync_roster_county_version{gateway=\"%s\"} %lld\n",
	    g, strcmp(s->state, "ok") == 0, g, (long long)backlog, g, (double)s->lag_ms / 1000, g,
	    (double)s->last_ok_ms / 1000, g, (long long)s->rsrc.version);
}

/* Replace path by text (a temporary beside it, then rename over it); "" path: nothing. */
static void file_replace(const char *path, const char *what, const char *text)
{
	char tmp[GW_CONF_STR + 8];
	int fd;

	if (!path[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_WARN, "%s %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
}

/* The metrics file, then the status file, after every step: whoever has seen a step in the
   status file finds the metrics file at that step or later. */
static void status_write(const struct sync *s)
{
	char text[2048];

	metrics_text(s, text, sizeof(text));
	file_replace(s->conf.county_metrics_file, "metrics file", text);
	status_text(s, text, sizeof(text));
	file_replace(s->conf.county_status_file, "status file", text);
}

/* ---- one step --------------------------------------------------------------------------- */

static void row_free(struct row *k)
{
	free(k->kind);
	free(k->detail);
	for (int i = 0; i < 5; i++)
		free(k->inc_text[i]);
}

static void rows_clear(struct sync *s)
{
	for (int i = 0; i < s->n; i++)
		row_free(&s->rows[i]);
	s->n = 0;
}

static char *memdup0(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

/* Copy the incident's text into k (inc_text); false when out of memory. */
static bool keep_incident(struct row *k, const struct gw_db_incident *inc)
{
	const char **f[5] = {&k->inc.caller, &k->inc.caller_name, &k->inc.line, &k->inc.outcome,
			     &k->inc.accepted_by};

	k->inc = *inc;
	k->has_inc = true;
	for (int i = 0; i < 5; i++) {
		if (!*f[i])
			continue;
		if (!(k->inc_text[i] = strdup(*f[i])))
			return false;
		*f[i] = k->inc_text[i];
	}
	return true;
}

static int keep_row(const struct gw_db_chain_row *r, const struct gw_db_incident *inc, void *arg)
{
	struct sync *s = arg;
	struct row *k;

	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		struct row *p = realloc(s->rows, (size_t)cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->rows = p;
		s->cap = cap;
	}
	k = &s->rows[s->n];
	memset(k, 0, sizeof(*k));
	k->r = *r;
	k->kind = memdup0(r->kind, r->kind_len);
	k->detail = r->detail ? memdup0(r->detail, r->detail_len) : NULL;
	if (!k->kind || (r->detail && !k->detail) || (inc && !keep_incident(k, inc))) {
		row_free(k);
		return -ENOMEM;
	}
	k->r.kind = k->kind;
	k->r.detail = k->detail;
	s->n++;
	return 0;
}

static int fail(struct sync *s, const char *state, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct sync *s, const char *state, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
	va_end(ap);
	s->state = state;
	LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "%s", s->last_error);
	return rc < 0 ? rc : -EIO;
}

/* The local row at the county's mark must be the one the county has. */
static int check_mark(struct sync *s)
{
	int64_t head;
	int rc;

	if (s->county_seq == 0)
		return 0;
	rows_clear(s);
	rc = gw_db_export_read(s->x, s->county_seq - 1, 1, keep_row, s, &head);
	if (rc < 0)
		return fail(s, "local", rc, "local call log: %s", strerror(-rc));
	s->local_head = head;
	if (rc == 0 || s->rows[0].r.id != s->county_seq)
		return fail(s, "conflict", -EBADMSG,
			    "the county holds %lld events of gateway %s, the local log only %lld: "
			    "not pushing (same gateway id twice, or a replaced database?)",
			    (long long)s->county_seq, s->conf.county_gateway_id, (long long)head);
	if (memcmp(s->rows[0].r.hash, s->county_hash, 32) != 0)
		return fail(s, "conflict", -EBADMSG,
			    "event %lld differs between the county and the local log of gateway "
			    "%s: not pushing (same gateway id twice, or a replaced database?)",
			    (long long)s->county_seq, s->conf.county_gateway_id);
	return 0;
}

/* A v3 row's detail, when there, against its detail_hash (which the row hash covers). */
static bool detail_ok(const struct gw_db_chain_row *r)
{
	uint8_t h[32];
	unsigned int n = 0;

	if (!r->v3 || !r->detail)
		return true;
	return r->has_detail_hash &&
	       EVP_Digest(r->detail, r->detail_len, h, &n, EVP_sha256(), NULL) == 1 && n == 32 &&
	       memcmp(h, r->detail_hash, 32) == 0;
}

/*
 * How many of the rows read, from the first, hash right and continue the chain from the
 * county's mark (all of them but for a changed local row), or -errno.
 */
static int rows_ok(struct sync *s)
{
	const uint8_t *prev = s->county_hash;
	uint8_t h[32];

	for (int i = 0; i < s->n; i++) {
		const struct gw_db_chain_row *r = &s->rows[i].r;
		int rc = gw_db_chain_hash(r, h);
		if (rc < 0)
			return fail(s, "local", rc, "hash: %s", strerror(-rc));
		if (r->id != s->county_seq + 1 + i || memcmp(r->prev_hash, prev, 32) != 0 ||
		    memcmp(h, r->hash, 32) != 0 || !detail_ok(r))
			return i;
		prev = r->hash;
	}
	return s->n;
}

/* ---- roster pull ------------------------------------------------------------------------ */

static void roster_csv_error(const char *file, unsigned line, const char *reason, void *arg)
{
	struct sync *s = arg;

	LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "%s:%u: %s", file, line, reason);
	if (!s->roster_error[0])
		snprintf(s->roster_error, sizeof(s->roster_error), "%s:%u: %s", file, line, reason);
}

static void roster_manual(enum gw_db_manual_fate fate, const char *what, void *arg)
{
	static const char *const names[] = {"kept", "in the county roster now", "conflict",
					    "dropped (the county roster lacks what it names)"};
	(void)arg;
	LOGP(GW_LOG_MAIN, fate == GW_DB_MANUAL_DROPPED ? GW_LOG_WARN : GW_LOG_INFO,
	     "roster: manual change %s: %s", names[fate], what);
}

/*
 * Apply the county's newest roster version when the local roster is another one: parsed
 * and checked whole, then imported in one local transaction that also records the
 * version (store's gw_db_roster_import_from), so the gateway has either the old version
 * or the new one, never part of one. A version that does not parse or import is refused
 * (roster_error), the old one stays, and it is not fetched again until a newer one comes.
 * Looks at most every county.poll_ms, when the events are caught up (they go first).
 * Returns 0, or -errno with state set for a failure
 * of the county (the caller reconnects) or of the local database.
 */
static int roster_pull(struct sync *s, int64_t now)
{
	const struct gw_conf *cf = &s->conf;
	struct county_roster cr;
	struct gw_db_roster data;
	char name[48];
	int rc;

	if (s->roster_checked_ms && now >= s->roster_checked_ms &&
	    now - s->roster_checked_ms < cf->county_poll_ms)
		return 0;
	if (!s->db) {
		if ((rc = gw_db_open_flags(cf->db_path, GW_DB_NOCREATE, &s->db)) < 0)
			return fail(s, "local", rc, "local database %s: %s", cf->db_path,
				    strerror(-rc));
		if ((rc = gw_db_roster_source_get(s->db, &s->rsrc)) < 0)
			return fail(s, "local", rc, "local roster version: %s", strerror(-rc));
	}
	rc = county_roster_newest(s->c, s->roster_refused ? s->roster_refused : s->rsrc.version,
				  &cr);
	if (rc < 0)
		return fail(s, "down", rc, "county database: cannot read the roster");
	s->roster_checked_ms = now;
	if (rc == 0 || cr.version == s->rsrc.version) {
		if (cr.version == s->rsrc.version) {
			s->roster_refused = 0;
			s->roster_error[0] = '\0';
		}
		free(cr.csv);
		return 0;
	}
	s->roster_error[0] = '\0';
	snprintf(name, sizeof(name), "county roster v%lld", (long long)cr.version);
	rc = gw_roster_parse_csv(name, cr.csv, cr.len, &data, roster_csv_error, s);
	free(cr.csv);
	if (rc == 0) {
		struct gw_db_roster_source src = {
		    .version = cr.version, .made_ms = cr.made_ms, .applied_ms = now};
		rc = gw_db_roster_import_from(s->db, &data, GW_DB_IMPORT_REPLACE, roster_manual, s,
					      &src);
		gw_db_roster_clear(&data);
		if (rc == 0) {
			s->rsrc = src;
			s->roster_refused = 0;
			LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "roster: county version %lld applied",
			     (long long)cr.version);
			return 0;
		}
		if (!s->roster_error[0])
			snprintf(s->roster_error, sizeof(s->roster_error), "%s: import: %s", name,
				 strerror(-rc));
	}
	if (rc == -ENOMEM || rc == -EBUSY || rc == -EIO) {
		/* the local database, not the version: asked again after the back-off */
		gw_db_close(s->db);
		s->db = NULL;
		s->roster_checked_ms = 0;
		return fail(s, "local", rc, "local database: roster import: %s", strerror(-rc));
	}
	s->roster_refused = cr.version;
	LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
	     "roster: county version %lld refused, version %lld stays: %s", (long long)cr.version,
	     (long long)s->rsrc.version, s->roster_error);
	return 0;
}

/*
 * The age of an event stamped t_ms at now: 0 for one stamped ahead of this clock (the
 * gateway's clock was stepped back since), never negative.
 */
static int64_t age_ms(int64_t now, int64_t t_ms)
{
	return now > t_ms ? now - t_ms : 0;
}

/* Read a batch and push it. Rows pushed (0: caught up), or -errno with state set. */
static int step(struct sync *s)
{
	const struct gw_conf *cf = &s->conf;
	int64_t now = gw_loop_wall_ms(s->loop);
	int rc, n, n_ok;

	if (!s->x && (rc = gw_db_export_open(cf->db_path, &s->x)) < 0)
		return fail(s, "local", rc, "local call log %s: %s", cf->db_path, strerror(-rc));
	if (!s->c) {
		if ((rc = county_connect(cf->county_conninfo, &s->c)) < 0)
			return fail(s, rc == -EPROTO ? "conflict" : "down", rc,
				    "county database: %s",
				    rc == -EPROTO ? "schema newer than this build"
						  : "cannot connect or set up");
		s->have_head = false;
	}
	if (!s->have_head) {
		if ((rc = county_head(s->c, cf->county_gateway_id, &s->county_seq,
				      s->county_hash)) < 0)
			return fail(s, "down", rc, "county database: cannot read the head");
		if ((rc = check_mark(s)) < 0)
			return rc;
		s->have_head = true;
		LOGP(GW_LOG_MAIN, GW_LOG_NOTICE,
		     "county holds %lld events of %s; resuming after it", (long long)s->county_seq,
		     cf->county_gateway_id);
	}
	rows_clear(s);
	rc = gw_db_export_read(s->x, s->county_seq, cf->county_batch, keep_row, s, &s->local_head);
	if (rc < 0)
		return fail(s, "local", rc, "local call log: %s", strerror(-rc));
	n = rc;
	if (n == 0) {
		/* caught up: now the roster (events first: a big import must not hold them) */
		if ((rc = roster_pull(s, now)) < 0)
			return rc;
		s->lag_ms = 0;
		s->last_ok_ms = now;
		s->state = "ok";
		s->last_error[0] = '\0';
		return 0;
	}
	s->lag_ms = age_ms(now, s->rows[0].r.t_ms);
	/* Rows before a changed local row still go; that row and what follows do not. */
	if ((n_ok = rows_ok(s)) < 0)
		return n_ok;
	if (n_ok > 0) {
		struct gw_db_chain_row *rows = malloc((size_t)n * sizeof(*rows));
		const struct gw_db_incident **incs = malloc((size_t)n * sizeof(*incs));
		if (!rows || !incs) {
			free(rows);
			free(incs);
			return fail(s, "local", -ENOMEM, "out of memory");
		}
		for (int i = 0; i < n; i++) {
			rows[i] = s->rows[i].r;
			incs[i] = s->rows[i].has_inc ? &s->rows[i].inc : NULL;
		}
		rc = county_push(s->c, cf->county_gateway_id, rows, incs, n_ok);
		free(rows);
		free(incs);
		if (rc < 0)
			return fail(s, rc == -EBADMSG ? "conflict" : "down", rc,
				    "county database: push of events %lld..%lld failed",
				    (long long)s->rows[0].r.id, (long long)s->rows[n_ok - 1].r.id);
		s->county_seq = s->rows[n_ok - 1].r.id;
		memcpy(s->county_hash, s->rows[n_ok - 1].r.hash, 32);
		s->last_ok_ms = now;
	}
	if (n_ok < n) {
		s->lag_ms = age_ms(now, s->rows[n_ok].r.t_ms);
		return fail(s, "local", -EBADMSG,
			    "local event %lld does not verify: not pushed, nor anything after it "
			    "(see rinkictl log verify)",
			    (long long)s->rows[n_ok].r.id);
	}
	if (s->county_seq >= s->local_head)
		s->lag_ms = 0;
	s->state = "ok";
	s->last_error[0] = '\0';
	return n;
}

/*
 * After a failed step: the local head and the age of the oldest event the county lacks
 * (as last known), so the status shows the backlog growing while the county is away.
 */
static void refresh_local(struct sync *s)
{
	int64_t head;
	int rc;

	if (!s->x)
		return;
	rows_clear(s);
	rc = gw_db_export_read(s->x, s->county_seq, 1, keep_row, s, &head);
	if (rc < 0)
		return;
	s->local_head = head;
	s->lag_ms = rc > 0 ? age_ms(gw_loop_wall_ms(s->loop), s->rows[0].r.t_ms) : 0;
}

static void on_tick(struct gw_loop *loop, void *arg)
{
	struct sync *s = arg;
	int rc = step(s);

	if (rc < 0) {
		/* Whatever failed is asked again from scratch: the county's mark is the truth. */
		if (strcmp(s->state, "local") == 0) {
			gw_db_export_close(s->x);
			s->x = NULL;
		} else {
			county_close(s->c);
			s->c = NULL;
			refresh_local(s);
		}
		s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_FIRST_MS;
		if (s->backoff_ms > s->conf.county_retry_max_s * 1000)
			s->backoff_ms = s->conf.county_retry_max_s * 1000;
		gw_timer_schedule(loop, &s->tick, s->backoff_ms);
		if (s->once) {
			s->exit_code = 1;
			gw_loop_stop(loop);
		}
	} else {
		s->backoff_ms = 0;
		gw_timer_schedule(loop, &s->tick, rc > 0 ? 0 : s->conf.county_poll_ms);
		if (s->once && rc == 0)
			gw_loop_stop(loop);
	}
	status_write(s);
}

static void on_signal(struct gw_loop *loop, int signo, void *arg)
{
	struct sync *s = arg;
	char text[1024];

	if (signo == SIGUSR1) {
		status_text(s, text, sizeof(text));
		for (char *p = text; (p = strchr(p, '\n'));)
			*p = p[1] ? ';' : '\0';
		LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "status: %s", text);
		return;
	}
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "signal %d: stopping", signo);
	gw_loop_stop(loop);
}

/* ---- main ------------------------------------------------------------------------------- */

static int usage(FILE *f)
{
	fprintf(f, "usage: rinki-sync [-c CONF] [--once | --verify | --report --from T --to T "
		   "[--csv | --json]]\n"
		   "  -c CONF   configuration (default " DEFAULT_CONF ")\n"
		   "  --once    push until the backlog is empty, then exit\n"
		   "  --verify  check every gateway's chain in the county database\n"
		   "  --report  the county report over [--from, --to) (YYYY-MM-DDTHH:MM,\n"
		   "            Europe/Helsinki), with a gateway column\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

static int verify(const struct gw_conf *cf)
{
	struct county *c;
	int rc = county_connect(cf->county_conninfo, &c);

	if (rc < 0) {
		fprintf(stderr, "rinki-sync: county database: %s\n", strerror(-rc));
		return EXIT_USAGE + 1;
	}
	rc = county_verify(c, stdout);
	county_close(c);
	if (rc < 0) {
		fprintf(stderr, "rinki-sync: verify: %s\n", strerror(-rc));
		return EXIT_USAGE + 1;
	}
	return rc;
}

static int report(const struct gw_conf *cf, int64_t from, int64_t to, enum gw_report_format fmt)
{
	struct gw_report *r;
	struct county *c;
	int64_t moved = 0;
	int rc = gw_report_new(from, to, REPORT_WITHIN_MS, &r);

	if (rc < 0)
		return EXIT_USAGE;
	if ((rc = county_connect(cf->county_conninfo, &c)) < 0) {
		fprintf(stderr, "rinki-sync: county database: %s\n", strerror(-rc));
		gw_report_free(r);
		return EXIT_USAGE + 1;
	}
	rc = county_report(c, from, to, r, &moved);
	county_close(c);
	if (rc < 0) {
		fprintf(stderr, "rinki-sync: report: %s\n", strerror(-rc));
		gw_report_free(r);
		return EXIT_USAGE + 1;
	}
	rc = gw_report_write(r, NULL, fmt, stdout);
	if (rc == 0 && fmt == GW_REPORT_TEXT)
		printf("\nmoved to another gateway (counted once, where taken): %lld\n",
		       (long long)moved);
	if (rc == 0 && !gw_report_balanced(r)) {
		fprintf(stderr, "rinki-sync: report: the check failed\n");
		rc = 1;
	}
	gw_report_free(r);
	return rc == 0 ? 0 : 1;
}

/* A report bound: Europe/Helsinki YYYY-MM-DDTHH:MM (or with Z / the right offset). */
static bool report_time(const char *s, int64_t *ms)
{
	char why[160];

	if (gw_roster_parse_local_time(s, ms, why, sizeof(why)) == 0)
		return true;
	fprintf(stderr, "rinki-sync: bad time '%s': %s\n", s, why);
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"once", no_argument, NULL, 'o'},
					     {"verify", no_argument, NULL, 'v'},
					     {"report", no_argument, NULL, 'r'},
					     {"from", required_argument, NULL, 'F'},
					     {"to", required_argument, NULL, 'T'},
					     {"csv", no_argument, NULL, 'C'},
					     {"json", no_argument, NULL, 'J'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	static struct sync s = {.state = "starting"};
	const char *conf_path = DEFAULT_CONF;
	bool do_verify = false, do_report = false;
	enum gw_report_format fmt = GW_REPORT_TEXT;
	int64_t from = INT64_MIN, to = INT64_MIN;
	sigset_t set;
	int o;

	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			conf_path = optarg;
			break;
		case 'o':
			s.once = true;
			break;
		case 'v':
			do_verify = true;
			break;
		case 'r':
			do_report = true;
			break;
		case 'F':
		case 'T':
			if (!report_time(optarg, o == 'F' ? &from : &to))
				return EXIT_USAGE;
			break;
		case 'C':
			fmt = GW_REPORT_CSV;
			break;
		case 'J':
			fmt = GW_REPORT_JSON;
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (optind != argc || s.once + do_verify + do_report > 1 ||
	    (do_report != (from != INT64_MIN && to != INT64_MIN)) ||
	    (!do_report && fmt != GW_REPORT_TEXT))
		return usage(stderr);
	if (do_report && from >= to) {
		fprintf(stderr, "rinki-sync: --from is not before --to\n");
		return EXIT_USAGE;
	}
	gw_log_init("rinki-sync", false);
	gw_conf_defaults(&s.conf);
	if (gw_conf_load(&s.conf, conf_path) < 0)
		return EXIT_USAGE;
	gw_log_set_level(GW_LOG_NCATS, gw_log_parse_level(s.conf.log_level));
	if (!s.conf.county_conninfo[0] ||
	    (!do_verify && !do_report && !s.conf.county_gateway_id[0])) {
		fprintf(stderr,
			"rinki-sync: %s: county.conninfo and county.gateway_id must be set\n",
			conf_path);
		return EXIT_USAGE;
	}
	if (do_verify)
		return verify(&s.conf);
	if (do_report)
		return report(&s.conf, from, to, fmt);

	s.loop = gw_loop_new();
	if (!s.loop)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (gw_loop_add_signals(s.loop, &set, on_signal, &s) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	gw_timer_init(&s.tick, on_tick, &s);
	gw_timer_schedule(s.loop, &s.tick, 0);
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "rinki-sync %s: %s to the county database",
	     s.conf.county_gateway_id, s.conf.db_path);
	gw_loop_run(s.loop);
	county_close(s.c);
	gw_db_export_close(s.x);
	gw_db_close(s.db);
	rows_clear(&s);
	free(s.rows);
	gw_loop_free(s.loop);
	return s.exit_code;
}
