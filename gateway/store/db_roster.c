/*
 * db_roster: the roster tables: a whole roster written in one transaction (an import),
 * read back into struct gw_db_roster for a snapshot, and the single-row changes rinkictl
 * makes (overrides, workers, PINs). rinkictl's changes are the manual layer, kept apart
 * from the imported base and gone through at each import (reconcile; see db.h).
 */
#include "store/db_priv.h"
#include "store/roster_fields.h"

/* ---- roster tables ------------------------------------------------------------------- */

void gw_db_roster_clear(struct gw_db_roster *r)
{
	for (size_t i = 0; i < r->n_workers; i++) /* not left behind in freed memory */
		if (r->workers[i].pin_hash)
			explicit_bzero(r->workers[i].pin_hash, strlen(r->workers[i].pin_hash));
	for (int t = 0; t < T_COUNT; t++) {
		const struct roster_kind *k = &roster_kinds[t];
		size_t *n;
		void *rows = roster_kind_rows(k, r, &n);
		roster_kind_free(k, rows, *n);
		free(rows);
	}
	memset(r, 0, sizeof(*r));
}

/* Reading rows into growing arrays; any allocation failure is remembered in oom. */
struct reader {
	struct gw_db_roster *r;
	size_t cap[T_COUNT]; /* capacity of each array, by kind */
	bool oom;
};

static char *dup_col(struct reader *rd, sqlite3_stmt *st, int i, bool nullable)
{
	const char *s = db_col_text(st, i);
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

/*
 * Each kind's statements, in insert order (a row names rows inserted before it): the list
 * that reads it back (its columns as the kind's fields say), the insert, and for an insert
 * that finds rows by name (no row inserted: -ENOENT) what to call the row and the field
 * with the name in the message.
 */
static const struct {
	int type;
	enum db_stmt list, insert;
	const char *what; /* NULL: a plain insert */
	size_t name_off;
} kind_sql[] = {
    {T_LINE, DB_STMT_LINE_LIST, DB_STMT_LINE_INSERT, NULL, 0},
    {T_WORKER, DB_STMT_WORKER_LIST, DB_STMT_WORKER_INSERT, NULL, 0},
    {T_TEMP, DB_STMT_TEMP_LIST, DB_STMT_TEMP_INSERT, NULL, 0},
    {T_SHIFT, DB_STMT_SHIFT_LIST, DB_STMT_SHIFT_INSERT, "shift",
     offsetof(struct gw_db_shift, worker)},
    {T_ROUTE, DB_STMT_ROUTE_LIST, DB_STMT_ROUTE_INSERT, NULL, 0},
    {T_DIR, DB_STMT_DIR_LIST, DB_STMT_DIR_INSERT, NULL, 0},
    {T_ROT, DB_STMT_ROT_LIST, DB_STMT_ROT_INSERT, NULL, 0},
    {T_MEMBER, DB_STMT_MEMBER_LIST, DB_STMT_MEMBER_INSERT, "rotation member",
     offsetof(struct gw_db_member, worker)},
    {T_OVR, DB_STMT_OVR_LIST, DB_STMT_OVR_INSERT, NULL, 0},
    {T_STEP, DB_STMT_STEP_LIST, DB_STMT_STEP_INSERT, "chain step",
     offsetof(struct gw_db_chain_step, who)},
    {T_CHAIN, DB_STMT_CHAIN_LIST, DB_STMT_CHAIN_INSERT, "chain fallback",
     offsetof(struct gw_db_chain, fallback)},
    {T_HOLIDAY, DB_STMT_HOLIDAY_LIST, DB_STMT_HOLIDAY_INSERT, NULL, 0},
};

/* One row of the list statement of kind k, read by its table's columns. */
struct kind_reader {
	struct reader *rd;
	const struct roster_kind *k;
};

static void kind_row(sqlite3_stmt *st, void *arg)
{
	const struct kind_reader *kr = arg;
	const struct roster_kind *k = kr->k;
	struct gw_db_roster *r = kr->rd->r;
	char *row = grow(kr->rd, (void **)((char *)r + k->arr_off),
			 (size_t *)((char *)r + k->n_off), &kr->rd->cap[k->type], k->size);

	if (!row)
		return;
	for (int j = 0; j < k->n_fields; j++) {
		const struct roster_field *fd = &k->fields[j];
		char *p = row + fd->off;
		int i = fd->col - 1;

		if (!fd->col)
			continue;
		switch (fd->store) {
		case RF_STR:
			*(char **)p = dup_col(kr->rd, st, i, fd->null_ok);
			break;
		case RF_INT:
			*(int *)p = sqlite3_column_int(st, i);
			break;
		case RF_BOOL:
			*(bool *)p = sqlite3_column_int(st, i) != 0;
			break;
		case RF_I64:
			*(int64_t *)p = sqlite3_column_int64(st, i);
			break;
		}
		if (fd->set_if)
			*(bool *)(row + fd->set_if - 1) = sqlite3_column_type(st, i) != SQLITE_NULL;
	}
}

/* The roster_source row: 1 and *out, 0 (zeroed) when none, or -errno. */
static int source_read(struct gw_db *db, struct gw_db_roster_source *out)
{
	sqlite3_stmt *st = db->st[DB_STMT_RSRC_GET];
	int rc = sqlite3_step(st);

	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_ROW) {
		out->version = sqlite3_column_int64(st, 0);
		out->made_ms = sqlite3_column_int64(st, 1);
		out->applied_ms = sqlite3_column_int64(st, 2);
	}
	db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, rc, db_stmt_sql[DB_STMT_RSRC_GET]);
	return rc == SQLITE_ROW ? 1 : 0;
}

int gw_db_roster_read(struct gw_db *db, struct gw_db_roster *out)
{
	struct reader rd = {.r = out};
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = db_run(db, DB_STMT_BEGIN_READ)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(kind_sql) / sizeof(kind_sql[0]) && rc >= 0 && !rd.oom; i++) {
		struct kind_reader kr = {&rd, &roster_kinds[kind_sql[i].type]};
		rc = db_each_row(db, kind_sql[i].list, kind_row, &kr);
	}
	if (rc >= 0 && rd.oom)
		rc = -ENOMEM;
	if (rc >= 0)
		rc = source_read(db, &out->source);
	if (rc >= 0)
		rc = db_run(db, DB_STMT_COMMIT);
	if (rc < 0) {
		if (!sqlite3_get_autocommit(db->h))
			db_run(db, DB_STMT_ROLLBACK);
		gw_db_roster_clear(out);
		return rc;
	}
	return 0;
}

/* Run an INSERT ... SELECT that names rows by handle or name: no row inserted is -ENOENT. */
static int insert_named(struct gw_db *db, enum db_stmt id, const char *what, const char *name)
{
	int rc = db_run(db, id);

	if (rc == 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s: %s names unknown %s", db->path, what, name);
		rc = -ENOENT;
	}
	return rc;
}

/* Bind every field of row (of kind k) that names an SQL parameter (roster_fields.c). */
static void bind_row(sqlite3_stmt *st, const struct roster_kind *k, const void *row)
{
	for (int j = 0; j < k->n_fields; j++) {
		const struct roster_field *fd = &k->fields[j];
		const char *p = (const char *)row + fd->off;

		if (!fd->sql || (fd->sql_if && !*((const bool *)row + fd->sql_if - 1)))
			continue; /* a route's window or status left unbound when it has none */
		switch (fd->store) {
		case RF_STR:
			db_bind_text(st, fd->sql, *(char *const *)p);
			break;
		case RF_INT:
			db_bind_i64(st, fd->sql, *(const int *)p);
			break;
		case RF_BOOL:
			db_bind_i64(st, fd->sql, *(const bool *)p);
			break;
		case RF_I64:
			db_bind_i64(st, fd->sql, *(const int64_t *)p);
			break;
		}
	}
}

static int override_insert(struct gw_db *db, const struct gw_db_override *o)
{
	bind_row(db->st[DB_STMT_OVR_INSERT], &roster_kinds[T_OVR], o);
	return insert_named(db, DB_STMT_OVR_INSERT, "override", o->by ? "worker(s)" : o->worker);
}

/* Wall-clock ms for the manual layer's made_ms (when a change was made; informative). */
static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int manual_override_insert(struct gw_db *db, const struct gw_db_override *o)
{
	sqlite3_stmt *st = db->st[DB_STMT_MOVR_INSERT];

	bind_row(st, &roster_kinds[T_OVR], o);
	db_bind_i64(st, "$now", now_ms());
	return insert_named(db, DB_STMT_MOVR_INSERT, "override",
			    o->by ? "worker(s) or line" : o->worker);
}

static int roster_insert(struct gw_db *db, const struct gw_db_roster *in)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(kind_sql) / sizeof(kind_sql[0]) && rc >= 0; i++) {
		const struct roster_kind *k = &roster_kinds[kind_sql[i].type];
		size_t *n;
		const char *rows = roster_kind_rows(k, in, &n);

		for (size_t r = 0; r < *n && rc >= 0; r++) {
			const char *row = rows + r * k->size;
			if (kind_sql[i].type == T_OVR) { /* its own message */
				rc = override_insert(db, (const struct gw_db_override *)row);
				continue;
			}
			bind_row(db->st[kind_sql[i].insert], k, row);
			rc = kind_sql[i].what
				 ? insert_named(db, kind_sql[i].insert, kind_sql[i].what,
						*(char *const *)(row + kind_sql[i].name_off))
				 : db_run(db, kind_sql[i].insert);
		}
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
	rc = db_tx_begin(db);
	if (rc >= 0)
		rc = edit(db, arg);
	if (rc >= 0) {
		int b = db_run_i64(db, DB_STMT_ROSTER_REV_BUMP, &rev);
		if (b < 0)
			rc = b;
	}
	rc = db_tx_end(db, rc); /* rolls back nothing when tx_begin failed */
	sqlite3_busy_timeout(db->h, db->busy_ms);
	if (rc < 0)
		return rc;
	db->roster_rev = rev;
	db->roster_dirty = true;
	if (rev_out)
		*rev_out = rev;
	return rc;
}

/* ---- the manual layer across a base import ------------------------------------------- */

struct import_arg {
	const struct gw_db_roster *in;
	const struct gw_db_roster_source *src;
	unsigned flags;
	gw_db_manual_fn fn;
	void *arg;
	int conflicts, bad;
	bool dry_ok; /* GW_DB_IMPORT_DRY_RUN: everything checked, rolled back on purpose */
	/* what to do once the reading statements are done */
	int64_t *drop_ovr;
	size_t n_drop_ovr;
	struct mw_change {
		char handle[40];
		bool unadd; /* else delete the row */
	} * mw;
	size_t n_mw;
};

static void utc_text(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%MZ", &tm);
}

static void tell(struct import_arg *a, enum gw_db_manual_fate fate, const char *what)
{
	static const char *const names[] = {"kept", "in the base now", "conflict", "dropped"};
	if (a->fn)
		a->fn(fate, what, a->arg);
	else
		LOGP(GW_LOG_DB, fate == GW_DB_MANUAL_KEPT ? GW_LOG_INFO : GW_LOG_NOTICE,
		     "manual change %s: %s", names[fate], what);
}

/* A conflicting change: refused, or dropped under GW_DB_IMPORT_REPLACE. True: drop it. */
static bool conflict(struct import_arg *a, const char *what)
{
	char line[320];
	bool drop = a->flags & GW_DB_IMPORT_REPLACE;

	snprintf(line, sizeof(line), "%s (names a worker or line the imported roster lacks)", what);
	tell(a, drop ? GW_DB_MANUAL_DROPPED : GW_DB_MANUAL_CONFLICT, line);
	a->conflicts++;
	return drop;
}

static void movr_row(sqlite3_stmt *st, void *arg)
{
	struct import_arg *a = arg;
	const char *kind = db_col_text(st, 1), *line = db_col_text(st, 2);
	const char *worker = db_col_text(st, 3), *by = db_col_text(st, 4);
	int64_t id = sqlite3_column_int64(st, 0);
	char what[256], from[24], to[24];
	bool drop = false;

	utc_text(sqlite3_column_int64(st, 5), from, sizeof(from));
	utc_text(sqlite3_column_int64(st, 6), to, sizeof(to));
	snprintf(what, sizeof(what), "override %lld: %s %s%s%s on %s, %s .. %s", (long long)id,
		 kind ? kind : "", worker ? worker : "", by ? " by " : "", by ? by : "",
		 line ? line : "every line", from, to);
	if (!sqlite3_column_int(st, 7)) {
		drop = conflict(a, what);
	} else if (sqlite3_column_int(st, 8)) {
		tell(a, GW_DB_MANUAL_IN_BASE, what);
		drop = true;
	} else {
		tell(a, GW_DB_MANUAL_KEPT, what);
	}
	if (!drop)
		return;
	int64_t *p = reallocarray(a->drop_ovr, a->n_drop_ovr + 1, sizeof(*p));
	if (!p) {
		a->bad = -ENOMEM;
		return;
	}
	a->drop_ovr = p;
	p[a->n_drop_ovr++] = id;
}

/* Whether a manual value (NULL: none) differs from the base's. */
static bool differs(const char *manual, const char *base)
{
	return manual && (!base || strcmp(manual, base) != 0);
}

static void mworker_row(sqlite3_stmt *st, void *arg)
{
	struct import_arg *a = arg;
	const char *handle = db_col_text(st, 0);
	bool added = sqlite3_column_int(st, 1) != 0;
	bool has_flag = sqlite3_column_type(st, 2) != SQLITE_NULL;
	bool in_base = sqlite3_column_type(st, 3) != SQLITE_NULL;
	bool flag = sqlite3_column_int(st, 2) != 0, base_flag = sqlite3_column_int(st, 3) != 0;
	/* an imported worker's phone and language changes (v12); an addition's are its own */
	const char *phone = added ? NULL : db_col_text(st, 4);
	const char *lang = added ? NULL : db_col_text(st, 5);
	char what[200];
	int n;
	struct mw_change ch = {.unadd = false};

	n = snprintf(what, sizeof(what), "worker %s: %s%s%s", handle ? handle : "",
		     added ? "added with rinkictl" : "", added && has_flag ? ", " : "",
		     has_flag ? (flag ? "enabled" : "disabled") : "");
	if (phone && n > 0 && (size_t)n < sizeof(what))
		n += snprintf(what + n, sizeof(what) - (size_t)n, "%sphone %s",
			      has_flag ? ", " : "", phone);
	if (lang && n > 0 && (size_t)n < sizeof(what))
		snprintf(what + n, sizeof(what) - (size_t)n, "%slanguage %s",
			 has_flag || phone ? ", " : "", lang);
	if (added && !in_base) {
		tell(a, GW_DB_MANUAL_KEPT, what);
		return;
	}
	bool details = differs(phone, db_col_text(st, 6)) || differs(lang, db_col_text(st, 7));
	if (!in_base) {
		if (!conflict(a, what))
			return;
	} else if (!added && details) {
		tell(a, GW_DB_MANUAL_KEPT, what); /* the whole row stays */
		return;
	} else if (!has_flag || flag == base_flag) {
		tell(a, GW_DB_MANUAL_IN_BASE, what);
	} else {
		tell(a, GW_DB_MANUAL_KEPT, what);
		if (!added)
			return;
		ch.unadd = true; /* the base has the worker now; the flag stays manual */
	}
	snprintf(ch.handle, sizeof(ch.handle), "%s", handle ? handle : "");
	struct mw_change *p = reallocarray(a->mw, a->n_mw + 1, sizeof(*p));
	if (!p) {
		a->bad = -ENOMEM;
		return;
	}
	a->mw = p;
	p[a->n_mw++] = ch;
}

/* Go through the manual layer against the base just written (see gw_db_roster_import). */
static int reconcile(struct gw_db *db, struct import_arg *a)
{
	int rc = db_each_row(db, DB_STMT_MOVR_CHECK, movr_row, a);

	if (rc >= 0)
		rc = db_each_row(db, DB_STMT_MWORKER_CHECK, mworker_row, a);
	if (rc >= 0 && a->bad)
		rc = a->bad;
	if (rc >= 0 && a->conflicts && !(a->flags & GW_DB_IMPORT_REPLACE))
		rc = -ECANCELED;
	for (size_t i = 0; i < a->n_drop_ovr && rc >= 0; i++) {
		db_bind_i64(db->st[DB_STMT_OVR_DELETE_ID], "$id", a->drop_ovr[i]);
		rc = db_run(db, DB_STMT_OVR_DELETE_ID);
	}
	for (size_t i = 0; i < a->n_mw && rc >= 0; i++) {
		enum db_stmt id = a->mw[i].unadd ? DB_STMT_MWORKER_UNADD : DB_STMT_MWORKER_DELETE;
		db_bind_text(db->st[id], "$handle", a->mw[i].handle);
		rc = db_run(db, id);
	}
	return rc;
}

static int replace_all(struct gw_db *db, const void *arg)
{
	/* Children before parents (foreign keys). The manual layer has none. */
	static const enum db_stmt deletes[] = {
	    DB_STMT_STEP_DELETE,   DB_STMT_CHAIN_DELETE,  DB_STMT_OVR_DELETE,
	    DB_STMT_MEMBER_DELETE, DB_STMT_ROT_DELETE,	  DB_STMT_SHIFT_DELETE,
	    DB_STMT_ROUTE_DELETE,  DB_STMT_DIR_DELETE,	  DB_STMT_HOLIDAY_DELETE,
	    DB_STMT_TEMP_DELETE,   DB_STMT_WORKER_DELETE, DB_STMT_LINE_DELETE,
	};
	struct import_arg *a = (struct import_arg *)arg;
	int rc = 0;

	for (size_t i = 0; i < sizeof(deletes) / sizeof(deletes[0]) && rc >= 0; i++)
		rc = db_run(db, deletes[i]);
	if (rc >= 0)
		rc = roster_insert(db, a->in);
	if (rc >= 0)
		rc = reconcile(db, a);
	/* PINs stay with the handles that stay (the CSV never carries them). */
	if (rc >= 0)
		rc = db_run(db, DB_STMT_PIN_ORPHANS);
	if (rc >= 0 && a->src) {
		sqlite3_stmt *st = db->st[DB_STMT_RSRC_SET];
		db_bind_i64(st, "$version", a->src->version);
		db_bind_i64(st, "$made", a->src->made_ms);
		db_bind_i64(st, "$applied", a->src->applied_ms);
		rc = db_run(db, DB_STMT_RSRC_SET);
	} else if (rc >= 0) {
		rc = db_run(db, DB_STMT_RSRC_CLEAR);
	}
	if (rc >= 0 && (a->flags & GW_DB_IMPORT_DRY_RUN)) {
		a->dry_ok = true;
		rc = -ECANCELED; /* roll back: a preview changes nothing */
	}
	return rc;
}

int gw_db_roster_import(struct gw_db *db, const struct gw_db_roster *in, unsigned flags,
			gw_db_manual_fn fn, void *arg)
{
	return gw_db_roster_import_from(db, in, flags, fn, arg, NULL);
}

int gw_db_roster_import_from(struct gw_db *db, const struct gw_db_roster *in, unsigned flags,
			     gw_db_manual_fn fn, void *arg, const struct gw_db_roster_source *src)
{
	struct import_arg a = {.in = in, .src = src, .flags = flags, .fn = fn, .arg = arg};
	int64_t rev = 0;
	int rc = roster_edit(db, replace_all, &a, &rev);

	free(a.drop_ovr);
	free(a.mw);
	if (a.dry_ok)
		return 0;
	if (rc < 0)
		return rc;
	LOGP(GW_LOG_DB, GW_LOG_INFO,
	     "%s: roster replaced (rev %lld): %zu lines, %zu workers, %zu shifts, %zu routes, "
	     "%zu directory entries, %zu rotations, %zu overrides, %zu chain steps",
	     db->path, (long long)rev, in->n_lines, in->n_workers, in->n_shifts, in->n_routes,
	     in->n_dirs, in->n_rotations, in->n_overrides, in->n_steps);
	return 0;
}

int gw_db_roster_replace(struct gw_db *db, const struct gw_db_roster *in)
{
	return gw_db_roster_import(db, in, 0, NULL, NULL);
}

int gw_db_roster_source_get(struct gw_db *db, struct gw_db_roster_source *out)
{
	return source_read(db, out);
}
static int edit_worker_add(struct gw_db *db, const void *arg)
{
	const struct gw_db_worker *w = arg;
	sqlite3_stmt *st = db->st[DB_STMT_MWORKER_ADD];
	int rc;

	bind_row(st, &roster_kinds[T_WORKER], w);
	db_bind_i64(st, "$now", now_ms());
	rc = db_run(db, DB_STMT_MWORKER_ADD);
	return rc == 0 ? -EEXIST : rc;
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

	db_bind_text(st, "$handle", a->handle);
	if (a->hash) {
		db_bind_text(st, "$hash", a->hash);
	} else {
		db_bind_i64(st, "$active", a->active);
		db_bind_i64(st, "$now", now_ms());
	}
	rc = db_run(db, id);
	return rc == 0 ? -ENOENT : rc;
}

int gw_db_worker_set_active(struct gw_db *db, const char *handle, bool active)
{
	struct worker_edit a = {handle, active, NULL};
	int rc = roster_edit(db, edit_worker, &a, NULL);

	return rc < 0 ? rc : 0;
}

/* One worker's phone and language (NULL: unchanged), by handle. */
struct worker_details {
	const char *handle, *phone, *lang;
};

static int edit_details(struct gw_db *db, const void *arg)
{
	const struct worker_details *a = arg;
	sqlite3_stmt *st = db->st[DB_STMT_WORKER_SET_DETAILS];

	db_bind_text(st, "$handle", a->handle);
	db_bind_text(st, "$phone", a->phone);
	db_bind_text(st, "$lang", a->lang);
	db_bind_i64(st, "$now", now_ms());
	int rc = db_run(db, DB_STMT_WORKER_SET_DETAILS);
	return rc == 0 ? -ENOENT : rc;
}

int gw_db_worker_set_details(struct gw_db *db, const char *handle, const char *phone,
			     const char *lang)
{
	struct worker_details a = {handle, phone, lang};
	int rc;

	assert(handle && (phone || lang));
	rc = roster_edit(db, edit_details, &a, NULL);
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

static void worker_seen(sqlite3_stmt *st, void *arg)
{
	(void)st;
	*(bool *)arg = true;
}

static int edit_pin_clear(struct gw_db *db, const void *arg)
{
	const char *handle = arg;
	bool seen = false;
	db_bind_text(db->st[DB_STMT_WORKER_EXISTS], "$handle", handle);
	int rc = db_each_row(db, DB_STMT_WORKER_EXISTS, worker_seen, &seen);
	if (rc < 0)
		return rc;
	if (!seen)
		return -ENOENT;
	db_bind_text(db->st[DB_STMT_PIN_CLEAR], "$handle", handle);
	rc = db_run(db, DB_STMT_PIN_CLEAR);
	return rc < 0 ? rc : 0;
}

int gw_db_worker_clear_pin(struct gw_db *db, const char *handle)
{
	int rc = roster_edit(db, edit_pin_clear, handle, NULL);
	if (rc < 0)
		return rc;
	LOGP(GW_LOG_DB, GW_LOG_INFO, "%s: PIN of worker %s cleared", db->path, handle);
	return 0;
}

struct ovr_add {
	const struct gw_db_override *o;
	int64_t id;
};

static int edit_override_add(struct gw_db *db, const void *arg)
{
	struct ovr_add *a = (struct ovr_add *)arg;
	int rc = manual_override_insert(db, a->o);

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

	db_bind_i64(db->st[DB_STMT_OVR_DELETE_ID], "$id", *(const int64_t *)arg);
	rc = db_run(db, DB_STMT_OVR_DELETE_ID);
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
	int rc = db_run(db, DB_STMT_DIR_DELETE);

	for (size_t i = 0; i < d->n && rc >= 0; i++) {
		sqlite3_stmt *st = db->st[DB_STMT_DIR_INSERT];
		db_bind_text(st, "$issi", d->dirs[i].issi);
		db_bind_text(st, "$org", d->dirs[i].org);
		db_bind_text(st, "$municipality", d->dirs[i].municipality);
		db_bind_text(st, "$membership", d->dirs[i].membership);
		rc = db_run(db, DB_STMT_DIR_INSERT);
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
