/*
 * chain: the call log's chain check for the incident and system pages, cached by the
 * chain head so that a view costs one row read while the log is unchanged.
 */
#ifndef WEB_CHAIN_H
#define WEB_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

/*
 * A cached result stays valid while the head is the same, but is recomputed at least this
 * often: a row edited in place outside the store (which moves no head) shows within it.
 */
#define WEB_CHAIN_RECHECK_MS (10 * 60 * 1000)

struct web_chain_cache {
	bool valid;
	int64_t head_id; /* the head the result was computed at */
	uint8_t head_hash[32];
	int64_t checked_ms; /* when (the app's wall clock) */
	int rc;		    /* gw_db_log_verify_report()'s: 0 intact, 1 broken */
	struct gw_db_verify v;
	uint64_t walks; /* full verifications run so far */
};

/*
 * gw_db_log_verify_report() on db through cache c: the cached answer when db's chain head
 * is the one it was computed at and it is younger than WEB_CHAIN_RECHECK_MS at now_ms,
 * else a full walk (its result cached; an error never is). Returns 0 intact, 1 broken
 * (*out says where), or -errno. Not thread-safe: one cache per serving thread.
 */
int web_chain_verify(struct web_chain_cache *c, struct gw_db *db, int64_t now_ms,
		     struct gw_db_verify *out);

#endif
