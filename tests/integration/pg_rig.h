/*
 * pg_rig: a scratch PostgreSQL 15 server for tests and benches (the county database).
 *
 * initdb and pg_ctl from /usr/lib/postgresql/15/bin (the postgresql-15 package), run as
 * "nobody" when the caller is root (PostgreSQL refuses root), in a temporary directory,
 * listening only on a Unix socket in that directory (no TCP), trust authentication for
 * the superuser "county", fsync off (a scratch server; stops are process stops, not power
 * cuts, so committed data survives them).
 */
#ifndef RINKI_PG_RIG_H
#define RINKI_PG_RIG_H

#include <stdbool.h>
#include <sys/types.h>

struct pg_rig {
	char dir[64];	    /* data/, the socket, server.log, tool.log */
	char conninfo[160]; /* host=<dir> dbname=postgres user=county */
	uid_t uid;	    /* the server's user */
	gid_t gid;
	bool up;
};

/* initdb and start. 0, or -1 (the reason on stderr, logs in r->dir). */
int pg_rig_start(struct pg_rig *r);

/* Start again after pg_rig_stop_server(). 0 or -1 (pg_ctl start -w). */
int pg_rig_start_server(struct pg_rig *r);

/* Stop the server with pg_ctl stop -m mode ("fast", "immediate"). 0 or -1. */
int pg_rig_stop_server(struct pg_rig *r, const char *mode);

/* Stop the server if it is up and remove the directory. */
void pg_rig_fini(struct pg_rig *r);

#endif
