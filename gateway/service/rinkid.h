/*
 * rinkid: the daemon's wiring. Builds every module in order (status and systemd notify,
 * control socket, database, roster, incident and call-back machines, text relay, voice,
 * I/O board, talkgroup monitor, radio, modem), routes driver events to the service
 * modules and their actions to the drivers, runs the loop until SIGINT or SIGTERM and
 * frees everything in reverse. Only gateway/main.c and tests include this header.
 */
#ifndef GW_RINKID_H
#define GW_RINKID_H

#include <stdbool.h>

#include "core/conf.h"
#include "core/loop.h"

#define GW_RINKID_VERSION "0.1.0"

struct gw_rinkid_opts {
	const char *conf_path; /* where conf came from (SIGHUP reads it again) */
	bool debug;	       /* -d: every log category at debug, whatever log.level says */
	bool allow_root;       /* keep running as root (else drop to run.user) */
};

struct gw_rinkid;

/*
 * Build the gateway from the loaded configuration conf (copied) and open its devices, then
 * drop root. Returns 0 and *out, or -errno with everything built so far freed (the cause
 * logged).
 */
int gw_rinkid_new(const struct gw_conf *conf, const struct gw_rinkid_opts *opts,
		  struct gw_rinkid **out);
/*
 * Tell systemd it is ready and run the loop until SIGINT or SIGTERM (SIGHUP reloads);
 * then release live radio calls (waiting at most 2 s for the terminal). Returns 0.
 */
int gw_rinkid_run(struct gw_rinkid *d);
/* Free everything, in the reverse order of building. NULL is fine. */
void gw_rinkid_free(struct gw_rinkid *d);
/* The loop rinkid runs on (tests step it, or stop it with gw_loop_stop()). */
struct gw_loop *gw_rinkid_loop(const struct gw_rinkid *d);

#endif
