/*
 * county: the county's PostgreSQL database, as rinki-sync sees it (libpq).
 *
 * Several gateways push their call logs into one database: each event row is kept under
 * (gateway, seq), seq being its place in that gateway's hash chain (the local
 * incident_events id), with every field its hash covers, and each incident as its open
 * and closing events report it. The schema is a list of
 * migrations applied in order in one transaction (schema_version). Every function returns
 * >= 0 or a negative errno: -ENOTCONN when the server went away (reconnect and ask again),
 * -EBADMSG when the county's rows disagree with what was offered, -EPROTO when the
 * database's schema is newer than this build, -EIO for any other refusal.
 */
#ifndef RINKI_COUNTY_H
#define RINKI_COUNTY_H

#include <stdint.h>
#include <stdio.h>

#include "store/db.h"

struct county;

/* Connect with a libpq connection string and bring the schema up to date. 0 or -errno. */
int county_connect(const char *conninfo, struct county **out);

/* Close the connection; NULL is fine. */
void county_close(struct county *c);

/* The newest schema version this build knows. */
int county_schema_version(void);

/*
 * The county's high-water mark of gateway gw: the last seq it holds and that row's hash
 * (0 and 32 zero bytes when it holds none). 0 or -errno.
 */
int county_head(struct county *c, const char *gw, int64_t *seq, uint8_t hash[32]);

/*
 * In one transaction, rows[0..n) of gateway gw, which must continue its chain: rows[0]
 * links to the county's row seq - 1 (or is seq 1 with zero prev_hash). A row the county
 * already has is skipped when its hash matches and refused (-EBADMSG, nothing kept) when
 * it does not. incs (may be NULL) gives per row the incident an "open", "close" or
 * "interrupted" event reports, or NULL: the county's incident row is created by the open
 * event and closed by the closing one, in the same transaction. Returns how many rows
 * were new, or -errno (nothing kept).
 */
int county_push(struct county *c, const char *gw, const struct gw_db_chain_row *rows,
		const struct gw_db_incident *const *incs, int n);

/* A county roster version (struct county_roster.csv is malloc'd; NULL when not fetched). */
struct county_roster {
	int64_t version; /* 0: the county has no roster */
	int64_t made_ms; /* when it was added (UTC ms) */
	char *csv;	 /* the roster CSV, NUL-terminated, len bytes */
	size_t len;
};

/*
 * The county's newest roster version into *out. Returns 1 when it is not version have
 * (out->csv holds it: free it), 0 when it is (or the county has none: out->version 0),
 * or -errno (*out empty).
 */
int county_roster_newest(struct county *c, int64_t have, struct county_roster *out);

struct gw_report;

/*
 * The county report over incidents started in [from_ms, to_ms): every incident of every
 * gateway fed to r (made with gw_report_new(); finished here) as it counts, once: one
 * that moved to another gateway (view incident_moves) is counted at the gateway that
 * took it. *moved gets how many moved. One snapshot. 0 or -errno.
 */
int county_report(struct county *c, int64_t from_ms, int64_t to_ms, struct gw_report *r,
		  int64_t *moved);

/*
 * Check every gateway's chain in the county: seq 1, 2, ... without gaps, each prev_hash
 * the row before's hash, each hash recomputed, each detail against its detail_hash. One
 * line per gateway on out. Returns 0 all intact, 1 some broken, or -errno.
 */
int county_verify(struct county *c, FILE *out);

#endif
