/*
 * users: rinki-web's accounts file (users.h). SQL is one enum of statements with a
 * parallel table of text, prepared once at open, reset after each step; the schema
 * version is PRAGMA user_version with ordered migrations. Argon2id comes from libsodium's
 * crypto_pwhash_str() with this module's cost limits; a dummy hash made at open gives
 * unknown names the same verification work as real ones.
 */
#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/log.h"
#include "form.h"

enum stmt {
	ST_ADD,
	ST_GET,
	ST_SET_HASH,
	ST_SET_DISABLED,
	ST_SET_FAILS,
	ST_AUDIT,
	ST_LIST,
	ST_AUDIT_LIST,
	ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_ADD] = "INSERT INTO users(name, role, lang, hash, created_ms, changed_ms) "
	       "VALUES($name, $role, $lang, $hash, $now, $now)",
    [ST_GET] = "SELECT name, role, lang, hash, disabled, fails, first_fail_ms, locked_until_ms, "
	       "changed_ms FROM users WHERE name = $name",
    [ST_SET_HASH] = "UPDATE users SET hash = $hash, fails = 0, first_fail_ms = 0, "
		    "locked_until_ms = 0, changed_ms = $now WHERE name = $name",
    [ST_SET_DISABLED] = "UPDATE users SET disabled = $disabled, changed_ms = $now "
			"WHERE name = $name",
    [ST_SET_FAILS] = "UPDATE users SET fails = $fails, first_fail_ms = $first, "
		     "locked_until_ms = $locked WHERE name = $name",
    [ST_AUDIT] = "INSERT INTO audit(t_ms, user, ip, action, detail) "
		 "VALUES($now, $user, $ip, $action, $detail)",
    [ST_LIST] = "SELECT name, role, lang, hash, disabled, fails, first_fail_ms, locked_until_ms "
		"FROM users ORDER BY name",
    [ST_AUDIT_LIST] = "SELECT t_ms, user, ip, action, detail FROM "
		      "(SELECT * FROM audit ORDER BY id DESC LIMIT $limit) ORDER BY id",
};

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE users(name TEXT PRIMARY KEY, role INTEGER NOT NULL, lang TEXT NOT NULL,"
    " hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,"
    " fails INTEGER NOT NULL DEFAULT 0, first_fail_ms INTEGER NOT NULL DEFAULT 0,"
    " locked_until_ms INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
    " changed_ms INTEGER NOT NULL);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, user TEXT, ip TEXT,"
    " action TEXT NOT NULL, detail TEXT);",
};

struct web_users {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];
	char dummy[crypto_pwhash_STRBYTES]; /* verified against for unknown names */
};

static int sql_fail(struct web_users *u, int rc, const char *what)
{
	gw_log(GW_LOG_DB, GW_LOG_ERROR, "users: %s: %s", what,
	       u && u->h ? sqlite3_errmsg(u->h) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	default:
		return -EIO;
	}
}

static sqlite3_stmt *stmt(struct web_users *u, enum stmt s)
{
	sqlite3_reset(u->st[s]);
	sqlite3_clear_bindings(u->st[s]);
	return u->st[s];
}

static void bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);
	if (!v)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, name), v);
}

/* Step a statement that returns no rows. 0 or -errno. */
static int run(struct web_users *u, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sql_fail(u, rc, what);
	return 0;
}

static int migrate(struct web_users *u)
{
	sqlite3_stmt *s;
	int ver, rc;

	if ((rc = sqlite3_prepare_v2(u->h, "PRAGMA user_version", -1, &s, NULL)) != SQLITE_OK)
		return sql_fail(u, rc, "schema version");
	ver = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	int newest = (int)(sizeof(migrations) / sizeof(migrations[0]));
	if (ver > newest) {
		gw_log(GW_LOG_DB, GW_LOG_ERROR, "users: schema %d is newer than this build (%d)",
		       ver, newest);
		return -EPROTO;
	}
	for (; ver < newest; ver++) {
		char pragma[40];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", ver + 1);
		if ((rc = sqlite3_exec(u->h, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
			return sql_fail(u, rc, "migrate");
		if ((rc = sqlite3_exec(u->h, migrations[ver], NULL, NULL, NULL)) != SQLITE_OK ||
		    (rc = sqlite3_exec(u->h, pragma, NULL, NULL, NULL)) != SQLITE_OK ||
		    (rc = sqlite3_exec(u->h, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
			int e = sql_fail(u, rc, "migrate");
			sqlite3_exec(u->h, "ROLLBACK", NULL, NULL, NULL);
			return e;
		}
	}
	return 0;
}

int web_users_open(const char *path, struct web_users **out)
{
	struct web_users *u;
	int rc;

	if (sodium_init() < 0)
		return -EIO;
	/* Create it 0600 ourselves: SQLite would take the umask, and never follow a link. */
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		gw_log(GW_LOG_DB, GW_LOG_ERROR, "users: %s: %s", path, strerror(errno));
		return rc;
	}
	close(fd);
	if (!(u = calloc(1, sizeof(*u))))
		return -ENOMEM;
	rc = sqlite3_open_v2(
	    path, &u->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_fail(u, rc, path);
		web_users_close(u);
		return rc;
	}
	sqlite3_busy_timeout(u->h, 2000);
	sqlite3_exec(u->h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	if ((rc = migrate(u)) < 0) {
		web_users_close(u);
		return rc;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if ((rc = sqlite3_prepare_v2(u->h, sql[i], -1, &u->st[i], NULL)) != SQLITE_OK) {
			rc = sql_fail(u, rc, "prepare");
			web_users_close(u);
			return rc;
		}
	}
	char pw[WEB_TOKEN_HEX + 1];
	web_token_new(pw);
	if (crypto_pwhash_str(u->dummy, pw, strlen(pw), WEB_USERS_OPSLIMIT, WEB_USERS_MEMLIMIT)) {
		web_users_close(u);
		return -ENOMEM;
	}
	*out = u;
	return 0;
}

void web_users_close(struct web_users *u)
{
	if (!u)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(u->st[i]);
	sqlite3_close(u->h);
	free(u);
}

static const char *const role_names[] = {
    [WEB_ROLE_COORDINATOR] = "coordinator",
    [WEB_ROLE_MANAGER] = "manager",
    [WEB_ROLE_TECHNICIAN] = "technician",
};

int web_role_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i] && s && strcmp(s, role_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *web_role_name(int role)
{
	if (role < 0 || (size_t)role >= sizeof(role_names) / sizeof(role_names[0]) ||
	    !role_names[role])
		return "?";
	return role_names[role];
}

bool web_users_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > WEB_USERS_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

bool web_users_password_ok(const char *password)
{
	size_t n = password ? strlen(password) : 0;

	return n >= WEB_USERS_PW_MIN && n <= WEB_USERS_PW_MAX && web_text_ok(password, n);
}

static bool lang_ok(const char *lang)
{
	return lang && (!strcmp(lang, "fi") || !strcmp(lang, "sv") || !strcmp(lang, "en"));
}

static int hash_password(const char *password, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str(out, password, strlen(password), WEB_USERS_OPSLIMIT,
			      WEB_USERS_MEMLIMIT) != 0)
		return -ENOMEM;
	return 0;
}

/* Copy s into buf (cut to len - 1) with control characters as '?'; NULL stays NULL. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	if (!s)
		return NULL;
	for (; s[i] && i < len - 1; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

int web_users_audit(struct web_users *u, int64_t now_ms, const char *user, const char *ip,
		    const char *action, const char *detail)
{
	char ubuf[WEB_USERS_NAME_MAX * 2 + 1], dbuf[256];
	sqlite3_stmt *s = stmt(u, ST_AUDIT);

	/* a URL or a name from the network never writes lines or terminal codes */
	user = printable(user, ubuf, sizeof(ubuf));
	detail = printable(detail, dbuf, sizeof(dbuf));

	bind_int(s, "$now", now_ms);
	bind_text(s, "$user", user);
	bind_text(s, "$ip", ip);
	bind_text(s, "$action", action);
	bind_text(s, "$detail", detail);
	gw_log(GW_LOG_MAIN, GW_LOG_NOTICE, "audit: %s user=%s ip=%s%s%s", action, user ? user : "-",
	       ip ? ip : "-", detail ? " " : "", detail ? detail : "");
	return run(u, s, "audit");
}

int web_users_add(struct web_users *u, const char *name, int role, const char *lang,
		  const char *password, const char *by, int64_t now_ms)
{
	char hash[crypto_pwhash_STRBYTES];
	int rc;

	if (!web_users_name_ok(name) || !strcmp(web_role_name(role), "?") || !lang_ok(lang) ||
	    !web_users_password_ok(password))
		return -EINVAL;
	if ((rc = hash_password(password, hash)) < 0)
		return rc;
	sqlite3_stmt *s = stmt(u, ST_ADD);
	bind_text(s, "$name", name);
	bind_int(s, "$role", role);
	bind_text(s, "$lang", lang);
	bind_text(s, "$hash", hash);
	bind_int(s, "$now", now_ms);
	int st = sqlite3_step(s);
	sqlite3_reset(s);
	if (st == SQLITE_CONSTRAINT || (st & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (st != SQLITE_DONE)
		return sql_fail(u, st, "add user");
	char detail[64];
	snprintf(detail, sizeof(detail), "name=%s role=%s lang=%s", name, web_role_name(role),
		 lang);
	return web_users_audit(u, now_ms, by, NULL, "user_add", detail);
}

/* Read the row of name: 0 (filled), -ENOENT or -errno; hash (may be NULL) gets the hash. */
static int get_row(struct web_users *u, const char *name, struct web_user *out, char *hash,
		   int *fails, int64_t *first_fail)
{
	sqlite3_stmt *s = stmt(u, ST_GET);

	bind_text(s, "$name", name);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return sql_fail(u, rc, "get user");
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(s, 0));
	out->role = (enum web_role)sqlite3_column_int(s, 1);
	snprintf(out->lang, sizeof(out->lang), "%s", (const char *)sqlite3_column_text(s, 2));
	if (hash)
		snprintf(hash, crypto_pwhash_STRBYTES, "%s",
			 (const char *)sqlite3_column_text(s, 3));
	out->disabled = sqlite3_column_int(s, 4) != 0;
	if (fails)
		*fails = sqlite3_column_int(s, 5);
	if (first_fail)
		*first_fail = sqlite3_column_int64(s, 6);
	out->locked_until_ms = sqlite3_column_int64(s, 7);
	out->changed_ms = sqlite3_column_int64(s, 8);
	sqlite3_reset(s);
	return 0;
}

int web_users_get(struct web_users *u, const char *name, struct web_user *out)
{
	if (!web_users_name_ok(name))
		return -ENOENT;
	return get_row(u, name, out, NULL, NULL, NULL);
}

int web_users_passwd(struct web_users *u, const char *name, const char *password, const char *by,
		     int64_t now_ms)
{
	char hash[crypto_pwhash_STRBYTES];
	struct web_user w;
	int rc;

	if ((rc = web_users_get(u, name, &w)) < 0)
		return rc;
	if (!web_users_password_ok(password))
		return -EINVAL;
	if ((rc = hash_password(password, hash)) < 0)
		return rc;
	sqlite3_stmt *s = stmt(u, ST_SET_HASH);
	bind_text(s, "$hash", hash);
	bind_int(s, "$now", now_ms);
	bind_text(s, "$name", name);
	if ((rc = run(u, s, "set password")) < 0)
		return rc;
	char detail[64];
	snprintf(detail, sizeof(detail), "name=%s", name);
	return web_users_audit(u, now_ms, by, NULL, "user_passwd", detail);
}

int web_users_set_disabled(struct web_users *u, const char *name, bool disabled, const char *by,
			   int64_t now_ms)
{
	struct web_user w;
	int rc;

	if ((rc = web_users_get(u, name, &w)) < 0)
		return rc;
	sqlite3_stmt *s = stmt(u, ST_SET_DISABLED);
	bind_int(s, "$disabled", disabled);
	bind_int(s, "$now", now_ms);
	bind_text(s, "$name", name);
	if ((rc = run(u, s, "disable user")) < 0)
		return rc;
	char detail[64];
	snprintf(detail, sizeof(detail), "name=%s", name);
	return web_users_audit(u, now_ms, by, NULL, disabled ? "user_disable" : "user_enable",
			       detail);
}

static int set_fails(struct web_users *u, const char *name, int fails, int64_t first,
		     int64_t locked)
{
	sqlite3_stmt *s = stmt(u, ST_SET_FAILS);

	bind_int(s, "$fails", fails);
	bind_int(s, "$first", first);
	bind_int(s, "$locked", locked);
	bind_text(s, "$name", name);
	return run(u, s, "login failures");
}

int web_users_login(struct web_users *u, const char *name, const char *password, const char *ip,
		    int64_t now_ms, struct web_user *out)
{
	char hash[crypto_pwhash_STRBYTES], detail[64];
	int fails = 0, rc;
	int64_t first = 0;

	if (!password)
		password = "";
	rc = web_users_name_ok(name) ? get_row(u, name, out, hash, &fails, &first) : -ENOENT;
	if (rc == -ENOENT) {
		/* the same work as for a real account, so timing does not tell names apart */
		int dummy = crypto_pwhash_str_verify(u->dummy, password, strlen(password));
		(void)dummy;
		snprintf(detail, sizeof(detail), "unknown name");
		web_users_audit(u, now_ms, web_users_name_ok(name) ? name : "(invalid)", ip,
				"login_fail", detail);
		return -EACCES;
	}
	if (rc < 0)
		return rc;
	if (out->locked_until_ms > now_ms) {
		snprintf(detail, sizeof(detail), "locked for %lld s more",
			 (long long)((out->locked_until_ms - now_ms + 999) / 1000));
		web_users_audit(u, now_ms, name, ip, "login_locked", detail);
		return -EAGAIN;
	}
	bool good = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	if (good && out->disabled) {
		web_users_audit(u, now_ms, name, ip, "login_fail", "disabled");
		return -EPERM;
	}
	if (!good) {
		if (first == 0 || now_ms - first >= WEB_USERS_FAIL_WINDOW_MS) {
			fails = 0;
			first = now_ms;
		}
		fails++;
		int64_t locked = 0;
		if (fails >= WEB_USERS_FAIL_MAX) {
			locked = now_ms + WEB_USERS_LOCK_MS;
			snprintf(detail, sizeof(detail), "wrong password %d, locked for %d s",
				 fails, WEB_USERS_LOCK_MS / 1000);
			fails = 0;
			first = 0;
		} else {
			snprintf(detail, sizeof(detail), "wrong password %d", fails);
		}
		if ((rc = set_fails(u, name, fails, first, locked)) < 0)
			return rc;
		web_users_audit(u, now_ms, name, ip, locked ? "login_lockout" : "login_fail",
				detail);
		return -EACCES;
	}
	if (fails || first || out->locked_until_ms) {
		if ((rc = set_fails(u, name, 0, 0, 0)) < 0)
			return rc;
		out->locked_until_ms = 0;
	}
	if (crypto_pwhash_str_needs_rehash(hash, WEB_USERS_OPSLIMIT, WEB_USERS_MEMLIMIT) == 1 &&
	    hash_password(password, hash) == 0) {
		sqlite3_stmt *s = stmt(u, ST_SET_HASH);
		bind_text(s, "$hash", hash);
		bind_int(s, "$now", now_ms);
		bind_text(s, "$name", name);
		(void)run(u, s, "rehash");
	}
	web_users_audit(u, now_ms, name, ip, "login", web_role_name(out->role));
	return 0;
}

int web_users_list(struct web_users *u, web_users_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(u, ST_LIST);
	int n = 0, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct web_user w = {0};
		snprintf(w.name, sizeof(w.name), "%s", (const char *)sqlite3_column_text(s, 0));
		w.role = (enum web_role)sqlite3_column_int(s, 1);
		snprintf(w.lang, sizeof(w.lang), "%s", (const char *)sqlite3_column_text(s, 2));
		w.disabled = sqlite3_column_int(s, 4) != 0;
		w.locked_until_ms = sqlite3_column_int64(s, 7);
		fn(&w, arg);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sql_fail(u, rc, "list users");
	return n;
}

int web_users_audit_list(struct web_users *u, int limit, web_audit_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(u, ST_AUDIT_LIST);
	int n = 0, rc;

	bind_int(s, "$limit", limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct web_audit a = {
		    .t_ms = sqlite3_column_int64(s, 0),
		    .user = (const char *)sqlite3_column_text(s, 1),
		    .ip = (const char *)sqlite3_column_text(s, 2),
		    .action = (const char *)sqlite3_column_text(s, 3),
		    .detail = (const char *)sqlite3_column_text(s, 4),
		};
		fn(&a, arg);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sql_fail(u, rc, "audit list");
	return n;
}
