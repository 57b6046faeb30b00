/*
 * db_lockout: the call-back's PIN lock-outs (table pin_lockouts, schema v7), kept in the
 * database so that neither a restart nor other phones' failures lift one. Two statements:
 * list every record, insert or replace one.
 */
#include "store/db_priv.h"

struct lockout_cb {
	gw_db_lockout_fn fn;
	void *arg;
};

static void lockout_row(sqlite3_stmt *st, void *arg)
{
	struct lockout_cb *cb = arg;
	struct gw_db_lockout l = {.key = db_col_text(st, 0),
				  .fails = sqlite3_column_int(st, 1),
				  .last_fail_ms = sqlite3_column_int64(st, 2),
				  .until_ms = sqlite3_column_int64(st, 3)};
	if (l.key)
		cb->fn(&l, cb->arg);
}

int gw_db_lockout_list(struct gw_db *db, gw_db_lockout_fn fn, void *arg)
{
	struct lockout_cb cb = {fn, arg};
	return db_each_row(db, DB_STMT_LOCKOUT_LIST, lockout_row, &cb);
}

int gw_db_lockout_put(struct gw_db *db, const struct gw_db_lockout *l)
{
	sqlite3_stmt *st = db->st[DB_STMT_LOCKOUT_PUT];

	assert(l && l->key);
	db_bind_text(st, "$key", l->key);
	db_bind_i64(st, "$fails", l->fails);
	db_bind_i64(st, "$last", l->last_fail_ms);
	db_bind_i64(st, "$until", l->until_ms);
	int rc = db_run(db, DB_STMT_LOCKOUT_PUT);
	return rc < 0 ? rc : 0;
}
