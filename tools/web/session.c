/*
 * session: the session table and the login rate limit (session.h). Both are fixed
 * arrays scanned linearly: 64 sessions and 128 addresses are far more than a gateway's
 * console sees, and a scan keeps them free of allocation. Token comparison goes through
 * web_token_eq() for every live slot, so a lookup's time does not depend on the token.
 */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

struct web_session *web_session_start(struct web_sessions *t, const char *user, int64_t now_ms)
{
	struct web_session *pick = NULL;

	for (int i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct web_session *s = &t->s[i];
		if (!s->used) {
			pick = s;
			break;
		}
		if (!pick || s->last_ms < pick->last_ms)
			pick = s;
	}
	web_session_end(pick);
	web_token_new(pick->id);
	web_token_new(pick->csrf);
	snprintf(pick->user, sizeof(pick->user), "%s", user);
	pick->created_ms = now_ms;
	pick->last_ms = now_ms;
	pick->used = true;
	return pick;
}

struct web_session *web_session_find(struct web_sessions *t, const char *id, int64_t now_ms)
{
	struct web_session *found = NULL;

	for (int i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct web_session *s = &t->s[i];
		if (s->used && web_token_eq(s->id, id))
			found = s;
	}
	if (!found)
		return NULL;
	if (now_ms - found->last_ms >= WEB_SESSION_IDLE_MS ||
	    now_ms - found->created_ms >= WEB_SESSION_MAX_MS || now_ms < found->created_ms) {
		web_session_end(found);
		return NULL;
	}
	found->last_ms = now_ms;
	return found;
}

bool web_session_stale(const struct web_session *s, int64_t changed_ms)
{
	return s->created_ms < changed_ms;
}

void web_session_end(struct web_session *s)
{
	if (s)
		sodium_memzero(s, sizeof(*s));
}

int web_session_end_user(struct web_sessions *t, const char *user)
{
	int n = 0;

	for (int i = 0; i < WEB_SESSIONS_MAX; i++)
		if (t->s[i].used && strcmp(t->s[i].user, user) == 0) {
			web_session_end(&t->s[i]);
			n++;
		}
	return n;
}

bool web_rate_take(struct web_rate *r, const char *addr, int64_t now_ms)
{
	struct web_rate_slot *slot = NULL, *stalest = NULL;

	for (int i = 0; i < WEB_RATE_SLOTS; i++) {
		struct web_rate_slot *s = &r->s[i];
		if (s->addr[0] && strcmp(s->addr, addr) == 0) {
			slot = s;
			break;
		}
		if (!stalest || !s->addr[0] || (stalest->addr[0] && s->t_ms < stalest->t_ms))
			stalest = s;
	}
	if (!slot) {
		slot = stalest;
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
		slot->tokens = WEB_RATE_BURST;
		slot->t_ms = now_ms;
	}
	if (now_ms > slot->t_ms) {
		slot->tokens += (double)(now_ms - slot->t_ms) / WEB_RATE_INTERVAL_MS;
		if (slot->tokens > WEB_RATE_BURST)
			slot->tokens = WEB_RATE_BURST;
	}
	slot->t_ms = now_ms > slot->t_ms ? now_ms : slot->t_ms;
	if (slot->tokens < 1.0)
		return false;
	slot->tokens -= 1.0;
	return true;
}
