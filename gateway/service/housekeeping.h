/*
 * housekeeping: the gateway's periodic and on-request upkeep. Every two seconds: a new
 * roster in the database, or a day gone by, gives a new roster snapshot; once a day
 * message bodies and recordings older than log.retention_days go; call-log writes that
 * went to the spool while the database was away are applied. On SIGHUP the configuration
 * is read again (what can change under a live call does) and the roster reloaded.
 */
#ifndef GW_HOUSEKEEPING_H
#define GW_HOUSEKEEPING_H

#include <stdbool.h>

#include "core/conf.h"
#include "core/loop.h"
#include "store/db.h"
#include "store/roster.h"

/* Period of the roster, retention and spool checks. */
#define GW_HOUSEKEEPING_CHECK_MS 2000

struct gw_housekeeping_ops {
	/* A new roster snapshot r: hand it to the modules. The old one is freed after. */
	void (*roster)(void *arg, struct gw_roster *r);
	/* Every check, after it ran (the wiring refreshes STATUS= and moves call-log commits
	   off the loop once a replay brought the database back). May be NULL. */
	void (*tick)(void *arg);
	void *arg;
};

struct gw_housekeeping;

/*
 * Load the roster snapshot from db (its change baseline too). conf is the live
 * configuration a SIGHUP changes, read from conf_path; debug: log level stays at debug.
 * conf and db are borrowed. Returns 0 and *out, or -errno (no roster: logged).
 */
int gw_housekeeping_new(struct gw_loop *loop, struct gw_conf *conf, const char *conf_path,
			bool debug, struct gw_db *db, const struct gw_housekeeping_ops *ops,
			struct gw_housekeeping **out);
/* Cancel the checks and free the roster snapshot. NULL is fine. */
void gw_housekeeping_free(struct gw_housekeeping *h);
/* The current roster snapshot (owned by housekeeping; replaced through ops.roster). */
struct gw_roster *gw_housekeeping_roster(const struct gw_housekeeping *h);
/* Start the periodic checks (the first after GW_HOUSEKEEPING_CHECK_MS). */
void gw_housekeeping_start(struct gw_housekeeping *h);
/* SIGHUP: read the configuration again, apply what can change live, reload the roster. */
void gw_housekeeping_reload(struct gw_housekeeping *h);

#endif
