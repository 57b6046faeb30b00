/*
 * chain: the call-log chain check the incident and system pages show, cached by the chain
 * head. A full walk reads every event and incident row (a quarter of a second at 10,000
 * incidents); every write to the call log appends a chained event and so moves the head,
 * so while the head stays where it was the last answer still holds, and a view costs one
 * row read. The key is the head read before the walk: a write during the walk moves the
 * head away from the key, so the next view walks again rather than trusting an answer
 * older than the file. What the head cannot see (a row edited in place by someone who
 * leaves the head alone) the walk finds once the answer is WEB_CHAIN_RECHECK_MS old.
 */
#include <errno.h>
#include <string.h>

#include "chain.h"

int web_chain_verify(struct web_chain_cache *c, struct gw_db *db, int64_t now_ms,
		     struct gw_db_verify *out)
{
	int64_t id;
	uint8_t hash[32];
	int rc = gw_db_chain_head(db, &id, hash);

	if (rc < 0)
		return rc;
	if (c->valid && c->head_id == id && memcmp(c->head_hash, hash, sizeof(hash)) == 0 &&
	    now_ms >= c->checked_ms && now_ms - c->checked_ms < WEB_CHAIN_RECHECK_MS) {
		*out = c->v;
		return c->rc;
	}
	c->walks++;
	rc = gw_db_log_verify_report(db, out);
	if (rc < 0) {
		c->valid = false;
		return rc;
	}
	c->valid = true;
	c->head_id = id;
	memcpy(c->head_hash, hash, sizeof(hash));
	c->checked_ms = now_ms;
	c->rc = rc;
	c->v = *out;
	return rc;
}
