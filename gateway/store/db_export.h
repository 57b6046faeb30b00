/*
 * db_export: the call log read for export (rinki-sync pushes it to the county database).
 *
 * A read-only SQLite connection of its own on rinkid's database file: it never writes,
 * never migrates and never replays rinkid's spool, so it can run in another process beside
 * rinkid (WAL) and never holds rinkid up. Rows come out in chain order (incident_events
 * id) with every field their hash covers. Functions return >= 0 or a negative errno.
 */
#ifndef GW_DB_EXPORT_H
#define GW_DB_EXPORT_H

#include <stdint.h>

#include "store/db.h"

struct gw_db_export;

/*
 * Open path read-only (never created). Returns 0 and *out, -ENOENT when there is no such
 * file, -EAGAIN when its schema is older than the chain needs (rinkid has not migrated it
 * yet), -EPROTO when it is newer than this build, or -errno.
 */
int gw_db_export_open(const char *path, struct gw_db_export **out);

/* Close; NULL is fine. */
void gw_db_export_close(struct gw_db_export *x);

/*
 * Called per row, with inc the row's incident as it is now when the row is its "open",
 * "close" or "interrupted" event (NULL otherwise). Text is valid only during the call.
 * A return < 0 stops the read.
 */
typedef int (*gw_db_export_fn)(const struct gw_db_chain_row *row, const struct gw_db_incident *inc,
			       void *arg);

/*
 * In one read transaction: *head = the last row's id (0 when the log is empty), then fn
 * for up to limit (> 0) rows with id > after, in id order. Returns how many rows fn took,
 * fn's negative return, or -errno.
 */
int gw_db_export_read(struct gw_db_export *x, int64_t after, int limit, gw_db_export_fn fn,
		      void *arg, int64_t *head);

#endif
