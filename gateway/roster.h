/*
 * roster: who answers an authority call, from an in-memory snapshot.
 *
 * A snapshot is built from the database (gw_roster_load) and never touches disk on
 * lookup; rinkid rebuilds it when gw_db_roster_changed() says so. The coordinators
 * maintain the roster as one CSV file, parsed and imported here (all or nothing).
 *
 * Callers are matched by their ISSI: a caller given as a 17-digit TSI
 * (MCC 4 + MNC 5 + SSI 8 digits) is reduced to its SSI, and leading zeros are dropped,
 * so "09011638300023404", "00023404" and "23404" are the same caller.
 */
#ifndef GW_ROSTER_H
#define GW_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct gw_roster;

/* Most steps gw_roster_chain() ever returns. */
#define GW_ROSTER_CHAIN_MAX 32

/* Build a snapshot from the database's roster tables. Returns 0 and *out, or -errno. */
int gw_roster_load(struct gw_db *db, struct gw_roster **out);

/* Free a snapshot; every string it handed out becomes invalid. NULL is ignored. */
void gw_roster_free(struct gw_roster *r);

struct gw_roster_step {
	const char *handle;
	const char *name;
	const char *phone;
};

/*
 * Route a caller (SSI or TSI digits) to a service line code: longest caller_prefix match
 * among routes, ties by the higher priority, then the earlier route; "" prefix is the
 * default. Returns the line code (owned by r) or NULL when no route matches.
 */
const char *gw_roster_route(const struct gw_roster *r, const char *caller);

/*
 * Fill steps[] with the workers on duty for line at t_ms (shift start <= t < end), ordered
 * by position then shift start; active workers only, each worker once (at their first
 * place). Returns the count (<= max, <= GW_ROSTER_CHAIN_MAX) or -ENOENT for an unknown line.
 */
int gw_roster_chain(const struct gw_roster *r, const char *line, int64_t t_ms,
		    struct gw_roster_step *steps, int max);

/* Directory name (organisation) for an ISSI/TSI, or NULL when not listed. */
const char *gw_roster_org(const struct gw_roster *r, const char *issi);

/* English name of a service line, or NULL for an unknown code. */
const char *gw_roster_line_name(const struct gw_roster *r, const char *line);
/* Finnish name of a service line (what officers and workers read), or NULL. */
const char *gw_roster_line_name_fi(const struct gw_roster *r, const char *line);

/* Number of service lines, and the code of line i (sorted by code; NULL when i is too big). */
size_t gw_roster_line_count(const struct gw_roster *r);
const char *gw_roster_line_code(const struct gw_roster *r, size_t i);

/* ---- CSV import ---------------------------------------------------------------------- */

/*
 * Called once per problem found: file, 1-based line (0 when the problem is the file as
 * a whole) and a reason without trailing newline.
 */
typedef void (*gw_roster_err_fn)(const char *file, unsigned line, const char *reason, void *arg);

/*
 * Parse ISO-8601 "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or an offset "+HH:MM",
 * "+HHMM" or "+HH". Returns 0 and *ms (UTC ms since the epoch), or -EINVAL.
 */
int gw_roster_parse_time(const char *s, int64_t *ms);

/*
 * Parse and validate the roster CSV in buf[0..len) (see tools/demo/roster.csv for the
 * format). Every bad row is reported through err (NULL: logged) and the whole file is
 * checked before returning. Returns 0 with *out filled (free with gw_db_roster_clear),
 * -EINVAL when any row was bad (*out empty), or -ENOMEM.
 */
int gw_roster_parse_csv(const char *file, const char *buf, size_t len, struct gw_db_roster *out,
			gw_roster_err_fn err, void *arg);

struct gw_roster_counts {
	size_t lines, workers, shifts, routes, dirs;
};

/*
 * Read the CSV file at path, validate it and replace the database roster with it in one
 * transaction. If counts is not NULL it receives what was imported. Returns 0, -EINVAL
 * when the file had errors (all reported through err, nothing changed), or -errno
 * (a file that cannot be read is reported through err with line 0 too).
 */
int gw_roster_import_file(struct gw_db *db, const char *path, gw_roster_err_fn err, void *arg,
			  struct gw_roster_counts *counts);

#endif
