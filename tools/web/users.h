/*
 * users: rinki-web's accounts and its audit trail, in a SQLite file of its own
 * (web.users in rinki.conf, default /var/lib/rinki-web/users.db, mode 0600, owned by the
 * rinki-web user). Kept apart from rinki.db on purpose: rinkid and rinkictl never need the
 * web's accounts, and rinki-web needs no write access to the call log to manage them.
 *
 * Passwords are stored only as libsodium crypto_pwhash_str() strings (argon2id). Login
 * failures count per account: WEB_USERS_FAIL_MAX wrong passwords within
 * WEB_USERS_FAIL_WINDOW_MS lock it for WEB_USERS_LOCK_MS (a correct password is refused
 * while locked). Every function takes the time as now_ms (UTC ms) from its caller, so the
 * lockout is tested with a fake clock. Every change and every login attempt is one row of
 * the audit table and one log line.
 */
#ifndef WEB_USERS_H
#define WEB_USERS_H

#include <stdbool.h>
#include <stdint.h>

#define WEB_USERS_NAME_MAX	 32
#define WEB_USERS_PW_MIN	 10
#define WEB_USERS_PW_MAX	 128
#define WEB_USERS_FAIL_MAX	 5
#define WEB_USERS_FAIL_WINDOW_MS (15 * 60 * 1000)
#define WEB_USERS_LOCK_MS	 (15 * 60 * 1000)
/*
 * argon2id cost: 3 passes over 32 MiB: about 60 ms per hash on the 2-core x86-64 build
 * host under ASan (tests/unit/test_web prints it). A login is rare, and 32 MiB leaves room
 * on a 512 MiB board.
 */
#define WEB_USERS_OPSLIMIT 3
#define WEB_USERS_MEMLIMIT (32u << 20)

/* Roles: what a user may see (pages check them, never the client). */
enum web_role {
	WEB_ROLE_COORDINATOR = 1, /* on call with phone numbers, call log, incidents, system */
	WEB_ROLE_MANAGER = 2,	  /* aggregates only: no names of callers, numbers or events */
	WEB_ROLE_TECHNICIAN = 4,  /* system status and the call log's chain check */
};

struct web_user {
	char name[WEB_USERS_NAME_MAX + 1];
	enum web_role role;
	char lang[4]; /* "fi", "sv" or "en" */
	bool disabled;
	int64_t locked_until_ms; /* 0: not locked */
	int64_t changed_ms; /* last password, role or disabled change (sessions before it end) */
};

struct web_users;

/*
 * Open (creating it 0600, never through a symlink) and migrate the accounts file at path.
 * Returns 0 and *out, or -errno (logged with the reason).
 */
int web_users_open(const char *path, struct web_users **out);

/* Close; NULL is ignored. */
void web_users_close(struct web_users *u);

/* Role from its name ("coordinator", "manager", "technician"); -EINVAL otherwise. */
int web_role_parse(const char *s);

/* Name of a role ("coordinator", ...), "?" for anything else. */
const char *web_role_name(int role);

/* True when name is 1..WEB_USERS_NAME_MAX of [a-z0-9._-] starting with a letter. */
bool web_users_name_ok(const char *name);

/*
 * True when password is WEB_USERS_PW_MIN..WEB_USERS_PW_MAX bytes of text (valid UTF-8,
 * no control characters).
 */
bool web_users_password_ok(const char *password);

/*
 * Add a user. by: who did it (audit; "cli" from the command line). Returns 0, -EINVAL
 * (bad name, role, lang or password), -EEXIST, -ENOMEM (argon2's memory) or -errno.
 */
int web_users_add(struct web_users *u, const char *name, int role, const char *lang,
		  const char *password, const char *by, int64_t now_ms);

/*
 * Set a new password (and clear failures and a lockout). Returns 0, -ENOENT, -EINVAL
 * (password not acceptable), -ENOMEM or -errno.
 */
int web_users_passwd(struct web_users *u, const char *name, const char *password, const char *by,
		     int64_t now_ms);

/* Disable (disabled true) or enable a user. Returns 0, -ENOENT or -errno. */
int web_users_set_disabled(struct web_users *u, const char *name, bool disabled, const char *by,
			   int64_t now_ms);

/* Read one user into *out. Returns 0, -ENOENT or -errno. */
int web_users_get(struct web_users *u, const char *name, struct web_user *out);

/*
 * Check a login from ip at now_ms. Returns 0 with *out filled; -EACCES for an unknown
 * name or a wrong password (counted toward the lockout), -EPERM for a disabled user,
 * -EAGAIN while the account is locked (nothing counted), or -errno. Unknown names cost
 * the same argon2 work as known ones. Each outcome is audited.
 */
int web_users_login(struct web_users *u, const char *name, const char *password, const char *ip,
		    int64_t now_ms, struct web_user *out);

/*
 * Append an audit row (user and detail may be NULL; control characters in them become '?',
 * detail is cut at 255 bytes) and log it. Returns 0 or -errno.
 */
int web_users_audit(struct web_users *u, int64_t now_ms, const char *user, const char *ip,
		    const char *action, const char *detail);

typedef void (*web_users_fn)(const struct web_user *user, void *arg);

/* Call fn for every user, by name. Returns the count or -errno. */
int web_users_list(struct web_users *u, web_users_fn fn, void *arg);

/* One audit row as read back; strings valid during the callback only (NULL: none). */
struct web_audit {
	int64_t t_ms;
	const char *user, *ip, *action, *detail;
};
typedef void (*web_audit_fn)(const struct web_audit *a, void *arg);

/* Call fn for the last limit audit rows, oldest first. Returns the count or -errno. */
int web_users_audit_list(struct web_users *u, int limit, web_audit_fn fn, void *arg);

#endif
