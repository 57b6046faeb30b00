/*
 * monitor: the talkgroup monitor. Group calls on the GSSIs in radio.monitor_gssi
 * are never paged; each is written to the call log as system events: one
 * "group_talk" per talk spurt (who talked, from when, how long) and one
 * "group_call" when the call ends (group, caller, start, length, talkers, cause).
 */
#ifndef GW_MONITOR_H
#define GW_MONITOR_H

#include "core/conf.h"
#include "store/db.h"
#include "core/loop.h"
#include "radio/pei.h"

struct gw_monitor;

/*
 * Create the monitor for conf->radio_monitor_gssi (validated by conf); db may be NULL
 * (events only logged). An empty list gives a monitor that takes no call. Returns 0 and
 * *out, -EINVAL (bad list) or -ENOMEM.
 */
int gw_monitor_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		   struct gw_monitor **out);
/* Free it; calls still running are logged as ended now. NULL is ignored. */
void gw_monitor_free(struct gw_monitor *m);

/* A +CTICN: 1 when it is a group call on a monitored GSSI (taken: do not page), else 0. */
int gw_monitor_incoming(struct gw_monitor *m, const struct gw_pei_call_in *in);
/* 1 when cci is a monitored call, else 0. */
int gw_monitor_owns(const struct gw_monitor *m, int cci);
/* A floor event: talk spurts of monitored calls. 1 when cci is monitored, else 0. */
int gw_monitor_floor(struct gw_monitor *m, int cci, enum gw_pei_floor ev, const char *talker);
/* A +CTCR: the call's log is written. 1 when cci was monitored, else 0. */
int gw_monitor_released(struct gw_monitor *m, int cci, int cause);

#endif
