/*
 * admin: rinki-web's changes, each one request to rinkid's control socket (never a write
 * to the database): roster-import (the CSV passed as a memfd by SCM_RIGHTS),
 * override-add, override-del and worker-set. The request and reply follow
 * include/rinki/proto.h: one request line with at most one descriptor; a reply of "+"
 * lines and a final "ok ..." or "err CODE text" line. Also the pending uploads: a
 * previewed roster kept in memory, by user and token, until it is applied or expires.
 */
#ifndef WEB_ADMIN_H
#define WEB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "form.h"
#include "rinki/proto.h"

#define WEB_ADMIN_REPLY_MAX RINKI_CTL_MULTI_MAX /* a whole reply, "+" lines included */
#define WEB_ADMIN_WAIT_MS   30000		/* a roster import runs in rinkid's worker thread */
#define WEB_PENDING_SLOTS   4
#define WEB_PENDING_TTL_MS  (30 * 60 * 1000)

/*
 * gw_ctl_client_request(): connect to the control socket at path, send line (no LF) with
 * fd attached (-1: none), read the whole reply into buf (NUL-terminated; "" when nothing
 * came), waiting at most timeout_ms. Returns 0 (final line ok), 1 (err), -ETIMEDOUT,
 * -ECONNRESET, -EMSGSIZE or -errno (connect: -ENOENT, -ECONNREFUSED, -EACCES).
 */
int web_admin_request(const char *path, const char *line, int fd, char *buf, size_t len,
		      int timeout_ms);

/* The final line of a reply read by web_admin_request (after any "+" lines). */
const char *web_admin_final(const char *reply);

/*
 * A memfd (O_CLOEXEC, sealed against writes) holding data[0..len). Returns the
 * descriptor or -errno.
 */
int web_admin_memfd(const char *data, size_t len);

/* A previewed upload waiting for its apply. */
struct web_pending {
	char user[64];
	char token[WEB_TOKEN_HEX + 1];
	bool replace;
	char *data;
	size_t len;
	int64_t t_ms; /* 0: free */
};

/*
 * Keep a copy of data for user under a new token (written to token); the user's older
 * one, an expired one or the oldest is dropped. Returns 0 or -ENOMEM.
 */
int web_pending_put(struct web_pending slots[WEB_PENDING_SLOTS], const char *user, const char *data,
		    size_t len, bool replace, int64_t now_ms, char token[WEB_TOKEN_HEX + 1]);

/* The user's pending upload with token (compared in constant time), unexpired; or NULL. */
struct web_pending *web_pending_get(struct web_pending slots[WEB_PENDING_SLOTS], const char *user,
				    const char *token, int64_t now_ms);

/* Free a slot's copy and mark it free. */
void web_pending_drop(struct web_pending *p);

#endif
