/*
 * housekeeping: one loop timer (GW_HOUSEKEEPING_CHECK_MS) runs the roster, retention and
 * spool checks; the wiring calls gw_housekeeping_reload() on SIGHUP. A roster that fails
 * to load keeps the old snapshot; retention refused while the spool waits (-EBUSY) is
 * tried again on the next tick; the SIGHUP configuration goes through gw_conf_apply_live(),
 * which lists what needs a restart.
 */
#include "service/housekeeping.h"
#include "service/preflight.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

struct gw_housekeeping {
	struct gw_loop *loop;
	struct gw_conf *conf;
	const char *conf_path;
	bool debug; /* -d: every category at debug, whatever log.level says */
	struct gw_db *db;
	struct gw_housekeeping_ops ops;
	struct gw_roster *roster;
	struct gw_timer check;
	int64_t retention_ms; /* loop time of the last retention run; 0: not yet */
};

static void reload_roster(struct gw_housekeeping *h)
{
	struct gw_roster *r;
	int rc = gw_roster_load(h->db, &r);
	if (rc < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "roster reload failed (%s): keeping the old snapshot",
		     strerror(-rc));
		return;
	}
	h->ops.roster(h->ops.arg, r);
	gw_roster_free(h->roster);
	h->roster = r;
	LOGP(GW_LOG_DB, GW_LOG_INFO, "roster snapshot loaded: %zu service lines",
	     gw_roster_line_count(r));
	/* a line nobody is on duty for now or in the next 14 days: warned, per line */
	gw_preflight_roster(r, gw_loop_wall_ms(h->loop), GW_PREFLIGHT_ROSTER_DAYS, NULL, NULL);
}

/* Once a day: blank message bodies (and remove recordings) older than log.retention_days. */
static void retention(struct gw_housekeeping *h)
{
	int64_t now = gw_loop_now_ms(h->loop);
	if (h->conf->retention_days <= 0 || (h->retention_ms && now - h->retention_ms < DAY_MS))
		return;
	int64_t removed = 0;
	int64_t wall = gw_loop_wall_ms(h->loop);
	int rc = gw_db_retention_run(h->db, wall, h->conf->retention_days, &removed);
	if (rc < 0)
		return; /* -EBUSY while the spool waits: tried again on the next tick */
	h->retention_ms = now;
	LOGP(GW_LOG_DB, GW_LOG_INFO, "retention: %lld message bodies blanked", (long long)removed);
	gw_db_recording_retention(h->db, wall, h->conf->retention_days, NULL);
}

static void on_check(struct gw_loop *loop, void *arg)
{
	struct gw_housekeeping *h = arg;
	/* a new roster in the database, or a day gone by: rotations are expanded from now */
	if (gw_db_roster_changed(h->db) > 0 || gw_roster_stale(h->roster, gw_loop_wall_ms(loop)))
		reload_roster(h);
	retention(h);
	/* call-log writes that went to the spool while the database was away */
	if (gw_db_spool_pending(h->db)) {
		int n = gw_db_spool_replay(h->db);
		if (n > 0)
			LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%d spooled call-log write(s) applied", n);
	}
	/* after the replay: a database back from this check is used from now, not a tick on */
	if (h->ops.tick)
		h->ops.tick(h->ops.arg);
	gw_timer_schedule(loop, &h->check, GW_HOUSEKEEPING_CHECK_MS);
}

void gw_housekeeping_reload(struct gw_housekeeping *h)
{
	/* the configuration: what can change under a live call does; the rest waits */
	static struct gw_conf next; /* large; the loop is single-threaded */
	char restart[256];
	gw_conf_defaults(&next);
	if (gw_conf_load(&next, h->conf_path) < 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "SIGHUP: %s has errors: configuration kept",
		     h->conf_path);
	} else {
		int n = gw_conf_apply_live(h->conf, &next, restart, sizeof(restart));
		if (!h->debug)
			gw_log_set_level(GW_LOG_NCATS, gw_log_parse_level(h->conf->log_level));
		LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "SIGHUP: %d setting(s) changed%s%s", n,
		     restart[0] ? "; these need a restart: " : "", restart);
	}
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "SIGHUP: reloading the roster");
	reload_roster(h);
}

int gw_housekeeping_new(struct gw_loop *loop, struct gw_conf *conf, const char *conf_path,
			bool debug, struct gw_db *db, const struct gw_housekeeping_ops *ops,
			struct gw_housekeeping **out)
{
	struct gw_housekeeping *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	*h = (struct gw_housekeeping){
	    .loop = loop, .conf = conf, .conf_path = conf_path, .debug = debug, .db = db};
	h->ops = *ops;
	gw_timer_init(&h->check, on_check, h);
	int rc = gw_roster_load(db, &h->roster);
	if (rc < 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "cannot load the roster from %s", conf->db_path);
		free(h);
		return rc;
	}
	gw_db_roster_changed(db); /* baseline for change detection */
	gw_preflight_roster(h->roster, gw_loop_wall_ms(loop), GW_PREFLIGHT_ROSTER_DAYS, NULL, NULL);
	*out = h;
	return 0;
}

void gw_housekeeping_free(struct gw_housekeeping *h)
{
	if (!h)
		return;
	gw_timer_cancel(h->loop, &h->check);
	gw_roster_free(h->roster);
	free(h);
}

struct gw_roster *gw_housekeeping_roster(const struct gw_housekeeping *h)
{
	return h->roster;
}

void gw_housekeeping_start(struct gw_housekeeping *h)
{
	gw_timer_schedule(h->loop, &h->check, GW_HOUSEKEEPING_CHECK_MS);
}
