/*
 * session: rinki-web's logged-in sessions and its per-address login rate limit, both in
 * memory (a restart logs everybody out, which is the safe direction). A session is a
 * random token in an HttpOnly, SameSite=Strict cookie, with its own random CSRF token
 * that every form that changes anything must carry. Sessions end after WEB_SESSION_IDLE_MS
 * without a request or WEB_SESSION_MAX_MS after login, whichever comes first, and when
 * the account changes (web_session_stale). Time comes
 * from the caller (now_ms), so expiry is tested with a fake clock.
 */
#ifndef WEB_SESSION_H
#define WEB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "form.h"
#include "users.h"

#define WEB_SESSIONS_MAX    64
#define WEB_SESSION_IDLE_MS (30 * 60 * 1000)
#define WEB_SESSION_MAX_MS  (12 * 60 * 60 * 1000)
/* Login attempts per client address: a burst of WEB_RATE_BURST, then one per interval. */
#define WEB_RATE_SLOTS	     128
#define WEB_RATE_BURST	     5
#define WEB_RATE_INTERVAL_MS 10000

struct web_session {
	char id[WEB_TOKEN_HEX + 1];
	char csrf[WEB_TOKEN_HEX + 1];
	char user[WEB_USERS_NAME_MAX + 1];
	int64_t created_ms, last_ms;
	bool used;
};

struct web_sessions {
	struct web_session s[WEB_SESSIONS_MAX];
};

/*
 * Start a session for user at now_ms with fresh tokens. When the table is full the
 * session idle the longest is ended. Returns the session (owned by the table).
 */
struct web_session *web_session_start(struct web_sessions *t, const char *user, int64_t now_ms);

/*
 * The live session whose id is id (compared in constant time), touched at now_ms; NULL
 * when there is none or it expired (it is then ended).
 */
struct web_session *web_session_find(struct web_sessions *t, const char *id, int64_t now_ms);

/*
 * True when s began before its user's account last changed (changed_ms: a new password,
 * disabled or enabled): such a session must end.
 */
bool web_session_stale(const struct web_session *s, int64_t changed_ms);

/* End a session (its tokens are wiped). NULL is ignored. */
void web_session_end(struct web_session *s);

/* End every session of user (disabled, or password changed elsewhere). Returns how many. */
int web_session_end_user(struct web_sessions *t, const char *user);

struct web_rate_slot {
	char addr[48];
	double tokens;
	int64_t t_ms;
};

struct web_rate {
	struct web_rate_slot s[WEB_RATE_SLOTS];
};

/*
 * Take one login attempt from addr at now_ms: true when allowed (a token bucket of
 * WEB_RATE_BURST refilled one per WEB_RATE_INTERVAL_MS), false when over the limit.
 * When every slot is taken the stalest is reused.
 */
bool web_rate_take(struct web_rate *r, const char *addr, int64_t now_ms);

#endif
