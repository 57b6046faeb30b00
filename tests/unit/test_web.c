/*
 * Unit tests of rinki-web (tools/web/): the form and cookie parsers, token comparison,
 * HTML escaping and the page buffer's limit, sessions and the login rate limit on a fake
 * clock, accounts (argon2id, lockout, disable, audit) on a temporary file, web.listen
 * parsing and the TLS rules (loopback only without it; the certificate and key files),
 * the route table's roles and CSRF flags, the message catalogue's three languages, and
 * the chain check cached by the call log's head.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store/db.h"
#include "store/roster.h"
#include "web/form.h"
#include "web/html.h"
#include "web/session.h"
#include "web/text.h"
#include "web/usercmd.h"
#include "web/users.h"
#include "web/web.h"

/* ---- forms ------------------------------------------------------------------------------ */

static int parse(const char *s, struct web_form *f)
{
	return web_form_parse(s, strlen(s), f, NULL);
}

static void test_form_basic(void **state)
{
	(void)state;
	static struct web_form f;
	const char *why = "x";

	assert_int_equal(web_form_parse("user=aino&password=a+b%25c%C3%A4&csrf=", 37, &f, &why), 0);
	assert_null(why);
	assert_int_equal(f.n, 3);
	assert_string_equal(web_form_get(&f, "user"), "aino");
	assert_string_equal(web_form_get(&f, "password"), "a b%cä");
	assert_string_equal(web_form_get(&f, "csrf"), "");
	assert_null(web_form_get(&f, "nope"));
	/* empty pairs skipped, a key without '=' is an empty value */
	assert_int_equal(parse("&&a=1&&flag&", &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(web_form_get(&f, "flag"), "");
	assert_int_equal(parse("", &f), 0);
	assert_int_equal(f.n, 0);
}

static void test_form_refused(void **state)
{
	(void)state;
	static struct web_form f;
	static char big[WEB_FORM_BODY_MAX + 2];
	const char *why = NULL;

	assert_int_equal(web_form_parse("a=1&a=2", 7, &f, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(parse("A=1", &f), -EINVAL);	/* key alphabet */
	assert_int_equal(parse("=1", &f), -EINVAL);	/* empty key */
	assert_int_equal(parse("a%41=1", &f), -EINVAL); /* keys are never escaped */
	assert_int_equal(parse("a=%4", &f), -EINVAL);	/* short escape */
	assert_int_equal(parse("a=%zz", &f), -EINVAL);
	assert_int_equal(parse("a=x%0Ay", &f), -EINVAL);     /* control character */
	assert_int_equal(parse("a=x%00y", &f), -EINVAL);     /* NUL */
	assert_int_equal(parse("a=%C3%28", &f), -EINVAL);    /* bad UTF-8 */
	assert_int_equal(parse("a=%C0%AF", &f), -EINVAL);    /* overlong */
	assert_int_equal(parse("a=%ED%A0%80", &f), -EINVAL); /* surrogate */
	assert_int_equal(parse("a=%C2%85", &f), -EINVAL);    /* C1 control */
	assert_int_equal(parse("a=x y", &f), -EINVAL);	     /* raw space */
	assert_int_equal(parse("a=\xc3\xa4", &f), -EINVAL);  /* raw 8-bit byte */
	assert_int_equal(web_form_parse("a=1\0b=2", 7, &f, NULL), -EINVAL);
	char key[WEB_FORM_KEY_MAX + 4];
	memset(key, 'k', sizeof(key));
	key[WEB_FORM_KEY_MAX + 1] = '=';
	key[WEB_FORM_KEY_MAX + 2] = '\0';
	assert_int_equal(parse(key, &f), -EINVAL);
	key[WEB_FORM_KEY_MAX] = '=';
	key[WEB_FORM_KEY_MAX + 1] = '\0';
	assert_int_equal(parse(key, &f), 0); /* exactly the maximum */
	/* too many fields */
	char many[256] = "";
	for (int i = 0; i <= WEB_FORM_FIELDS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sk%d=1", i ? "&" : "",
			 i);
	assert_int_equal(parse(many, &f), -E2BIG);
	memset(big, 'a', sizeof(big) - 1);
	big[1] = '=';
	assert_int_equal(web_form_parse(big, WEB_FORM_BODY_MAX + 1, &f, NULL), -EMSGSIZE);
	assert_int_equal(web_form_parse(big, WEB_FORM_BODY_MAX, &f, NULL), 0);
	assert_int_equal(strlen(web_form_get(&f, "a")), WEB_FORM_BODY_MAX - 2);
}

static void test_cookie(void **state)
{
	(void)state;
	char v[WEB_COOKIE_VAL_MAX + 1];

	const char *h = "xrinki_session=evil; rinki_session=abc123; other=\"q-1\"";
	assert_int_equal(web_cookie_get(h, "rinki_session", v, sizeof(v)), 6);
	assert_string_equal(v, "abc123");
	assert_int_equal(web_cookie_get(h, "other", v, sizeof(v)), 3);
	assert_string_equal(v, "q-1");
	assert_int_equal(web_cookie_get(h, "session", v, sizeof(v)), -ENOENT);
	assert_int_equal(web_cookie_get(NULL, "a", v, sizeof(v)), -ENOENT);
	assert_int_equal(web_cookie_get("a=1;a=2", "a", v, sizeof(v)), 1);
	assert_string_equal(v, "1");
	assert_int_equal(web_cookie_get("a=<x>", "a", v, sizeof(v)), -EINVAL);
	assert_int_equal(web_cookie_get("a=x y", "a", v, sizeof(v)), -EINVAL);
	assert_int_equal(web_cookie_get("a=12345", "a", v, 4), -EMSGSIZE);
	char longc[WEB_COOKIE_VAL_MAX + 8] = "a=";
	memset(longc + 2, 'x', WEB_COOKIE_VAL_MAX + 1);
	longc[WEB_COOKIE_VAL_MAX + 3] = '\0';
	char room[512];
	assert_int_equal(web_cookie_get(longc, "a", room, sizeof(room)), -EMSGSIZE);
}

static void test_tokens(void **state)
{
	(void)state;
	char a[WEB_TOKEN_HEX + 1], b[WEB_TOKEN_HEX + 1];

	web_token_new(a);
	web_token_new(b);
	assert_int_equal(strlen(a), WEB_TOKEN_HEX);
	assert_int_equal(strspn(a, "0123456789abcdef"), WEB_TOKEN_HEX);
	assert_string_not_equal(a, b);
	assert_true(web_token_eq(a, a));
	assert_false(web_token_eq(a, b));
	char shorter[WEB_TOKEN_HEX];
	memcpy(shorter, a, WEB_TOKEN_HEX - 1);
	shorter[WEB_TOKEN_HEX - 1] = '\0';
	assert_false(web_token_eq(a, shorter)); /* a prefix is not the token */
	assert_false(web_token_eq(a, NULL));
	assert_false(web_token_eq(NULL, a));
	assert_false(web_token_eq("", ""));
}

/* ---- HTML -------------------------------------------------------------------------------- */

static void test_escape(void **state)
{
	(void)state;
	struct web_buf b = {0};

	web_buf_esc(&b, "<script>alert(\"x\" & 'y')</script>");
	assert_string_equal(b.data,
			    "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
	web_buf_free(&b);
	web_buf_esc(&b, "Mäkinen €");
	assert_string_equal(b.data, "Mäkinen €");
	web_buf_free(&b);
	web_buf_esc(&b, "a\xc3(b\x01"
			"c\x7f"
			"d\xe2\x82");
	assert_string_equal(b.data, "a\xef\xbf\xbd(b\xef\xbf\xbd"
				    "c\xef\xbf\xbd"
				    "d\xef\xbf\xbd\xef\xbf\xbd");
	web_buf_free(&b);
	web_buf_esc(&b, NULL);
	assert_null(b.data);
	assert_false(b.failed);
}

static void test_buf_limit(void **state)
{
	(void)state;
	struct web_buf b = {0};
	static char chunk[1 << 20];

	memset(chunk, 'x', sizeof(chunk) - 1);
	for (unsigned i = 0; i < WEB_BUF_MAX / (sizeof(chunk) - 1); i++)
		web_buf_puts(&b, chunk);
	assert_false(b.failed);
	web_buf_printf(&b, "%s", chunk);
	assert_true(b.failed);
	size_t len = b.len;
	web_buf_puts(&b, "y");
	assert_int_equal(b.len, len); /* sticky */
	web_buf_free(&b);
}

/* ---- sessions and rate limit ----------------------------------------------------------- */

static void test_sessions(void **state)
{
	(void)state;
	static struct web_sessions t;
	char id[WEB_TOKEN_HEX + 1];

	struct web_session *s = web_session_start(&t, "aino", 1000);
	snprintf(id, sizeof(id), "%s", s->id);
	assert_string_not_equal(s->id, s->csrf);
	assert_ptr_equal(web_session_find(&t, id, 1000 + WEB_SESSION_IDLE_MS - 1), s);
	/* touched: idle counts from the last request */
	assert_ptr_equal(web_session_find(&t, id, 1000 + 2 * WEB_SESSION_IDLE_MS - 2), s);
	assert_null(web_session_find(&t, id, 1000 + 3 * WEB_SESSION_IDLE_MS));
	assert_null(web_session_find(&t, id, 1000)); /* ended for good */

	/* the absolute limit holds however busy the session is */
	s = web_session_start(&t, "aino", 0);
	snprintf(id, sizeof(id), "%s", s->id);
	int64_t now = 0;
	for (; now < WEB_SESSION_MAX_MS; now += WEB_SESSION_IDLE_MS / 2)
		assert_non_null(web_session_find(&t, id, now));
	assert_null(web_session_find(&t, id, WEB_SESSION_MAX_MS));

	/* a session that began before its account changed is stale */
	s = web_session_start(&t, "aino", 5000);
	assert_false(web_session_stale(s, 4999));
	assert_false(web_session_stale(s, 5000));
	assert_true(web_session_stale(s, 5001));

	/* wrong token, and ending every session of a user */
	s = web_session_start(&t, "mikko", 0);
	web_session_start(&t, "mikko", 0);
	web_session_start(&t, "aino", 0);
	assert_null(web_session_find(&t, "00", 1));
	assert_int_equal(web_session_end_user(&t, "mikko"), 2);
	assert_false(s->used);

	/* a full table ends the session idle the longest */
	memset(&t, 0, sizeof(t));
	struct web_session *oldest = web_session_start(&t, "old", 0);
	for (int i = 1; i < WEB_SESSIONS_MAX; i++)
		web_session_start(&t, "u", 10 + i);
	snprintf(id, sizeof(id), "%s", oldest->id);
	web_session_start(&t, "new", 500);
	assert_null(web_session_find(&t, id, 501));
}

static void test_rate(void **state)
{
	(void)state;
	static struct web_rate r;

	for (int i = 0; i < WEB_RATE_BURST; i++)
		assert_true(web_rate_take(&r, "127.0.0.1", 1000));
	assert_false(web_rate_take(&r, "127.0.0.1", 1000));
	assert_true(web_rate_take(&r, "::1", 1000)); /* per address */
	assert_false(web_rate_take(&r, "127.0.0.1", 1000 + WEB_RATE_INTERVAL_MS - 1));
	assert_true(web_rate_take(&r, "127.0.0.1", 1000 + WEB_RATE_INTERVAL_MS));
	assert_false(web_rate_take(&r, "127.0.0.1", 1000 + WEB_RATE_INTERVAL_MS));
	/* an address flood reuses the stalest slot and does not reset the limited one */
	for (int i = 0; i < WEB_RATE_SLOTS - 3; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.0.%d.%d", i / 256, i % 256);
		web_rate_take(&r, a, 1000 + WEB_RATE_INTERVAL_MS);
	}
	assert_false(web_rate_take(&r, "127.0.0.1", 1000 + WEB_RATE_INTERVAL_MS));
}

/* ---- accounts -------------------------------------------------------------------------- */

struct tmpdb {
	char dir[64], path[96];
	struct web_users *u;
};

static int users_setup(void **state)
{
	struct tmpdb *t = calloc(1, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_web.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/users.db", t->dir);
	if (web_users_open(t->path, &t->u) < 0)
		return -1;
	*state = t;
	return 0;
}

static int users_teardown(void **state)
{
	struct tmpdb *t = *state;
	char cmd[160];
	web_users_close(t->u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static int audits;
static char last_action[32];
static void count_audit(const struct web_audit *a, void *arg)
{
	(void)arg;
	audits++;
	snprintf(last_action, sizeof(last_action), "%s", a->action);
}

static void test_users(void **state)
{
	struct tmpdb *t = *state;
	struct web_user w;
	struct stat st;
	struct timespec t0, t1;

	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(web_users_add(t->u, "aino", WEB_ROLE_COORDINATOR, "sv",
				       "correct horse battery", "cli", 1000),
			 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("argon2id hash (%d passes, %u MiB): %.0f ms\n", WEB_USERS_OPSLIMIT,
		      WEB_USERS_MEMLIMIT >> 20,
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_int_equal(
	    web_users_add(t->u, "aino", WEB_ROLE_MANAGER, "fi", "another password", "cli", 1000),
	    -EEXIST);
	assert_int_equal(
	    web_users_add(t->u, "Bad", WEB_ROLE_MANAGER, "fi", "long enough pw", "cli", 0),
	    -EINVAL);
	assert_int_equal(web_users_add(t->u, "b", 3, "fi", "long enough pw", "cli", 0), -EINVAL);
	assert_int_equal(
	    web_users_add(t->u, "b", WEB_ROLE_MANAGER, "de", "long enough pw", "cli", 0), -EINVAL);
	assert_int_equal(web_users_add(t->u, "b", WEB_ROLE_MANAGER, "fi", "short", "cli", 0),
			 -EINVAL);
	assert_int_equal(
	    web_users_add(t->u, "b", WEB_ROLE_MANAGER, "fi", "long\tenough pw", "cli", 0), -EINVAL);

	/* the hash is argon2id and never the password */
	assert_int_equal(web_users_login(t->u, "aino", "correct horse battery", "::1", 2000, &w),
			 0);
	assert_string_equal(w.name, "aino");
	assert_int_equal(w.role, WEB_ROLE_COORDINATOR);
	assert_string_equal(w.lang, "sv");
	FILE *f = fopen(t->path, "rb");
	static char raw[1 << 16];
	size_t n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	assert_null(memmem(raw, n, "correct horse", 13));

	assert_int_equal(web_users_login(t->u, "nobody", "correct horse battery", "::1", 2000, &w),
			 -EACCES);
	assert_int_equal(web_users_login(t->u, "aino", NULL, "::1", 2000, &w), -EACCES);
}

static void test_lockout(void **state)
{
	struct tmpdb *t = *state;
	struct web_user w;
	const char *good = "correct horse battery";
	int64_t now = 1000000;

	assert_int_equal(web_users_add(t->u, "mikko", WEB_ROLE_MANAGER, "fi", good, "cli", now), 0);
	/* failures spread wider than the window do not lock */
	for (int i = 0; i < WEB_USERS_FAIL_MAX - 1; i++)
		assert_int_equal(web_users_login(t->u, "mikko", "wrong", "::1", now, &w), -EACCES);
	now += WEB_USERS_FAIL_WINDOW_MS;
	assert_int_equal(web_users_login(t->u, "mikko", "wrong", "::1", now, &w), -EACCES);
	assert_int_equal(web_users_login(t->u, "mikko", good, "::1", now, &w), 0);
	/* a success clears the count */
	for (int i = 0; i < WEB_USERS_FAIL_MAX - 1; i++)
		assert_int_equal(web_users_login(t->u, "mikko", "wrong", "::1", now, &w), -EACCES);
	assert_int_equal(web_users_login(t->u, "mikko", good, "::1", now, &w), 0);
	/* FAIL_MAX wrong within the window: locked, and the right password is refused */
	for (int i = 0; i < WEB_USERS_FAIL_MAX; i++)
		assert_int_equal(web_users_login(t->u, "mikko", "wrong", "::1", now + i, &w),
				 -EACCES);
	assert_int_equal(web_users_login(t->u, "mikko", good, "::1", now + 10, &w), -EAGAIN);
	assert_int_equal(web_users_get(t->u, "mikko", &w), 0);
	assert_true(w.locked_until_ms > now);
	assert_int_equal(web_users_login(t->u, "mikko", good, "::1",
					 now + WEB_USERS_FAIL_MAX - 1 + WEB_USERS_LOCK_MS - 1, &w),
			 -EAGAIN);
	assert_int_equal(web_users_login(t->u, "mikko", good, "::1",
					 now + WEB_USERS_FAIL_MAX - 1 + WEB_USERS_LOCK_MS, &w),
			 0);
	/* a new password lifts a lockout at once */
	for (int i = 0; i < WEB_USERS_FAIL_MAX; i++)
		web_users_login(t->u, "mikko", "wrong", "::1", now + WEB_USERS_LOCK_MS * 2, &w);
	assert_int_equal(web_users_passwd(t->u, "mikko", "brand new password", "cli",
					  now + WEB_USERS_LOCK_MS * 2),
			 0);
	assert_int_equal(
	    web_users_login(t->u, "mikko", good, "::1", now + WEB_USERS_LOCK_MS * 2, &w), -EACCES);
	assert_int_equal(web_users_login(t->u, "mikko", "brand new password", "::1",
					 now + WEB_USERS_LOCK_MS * 2, &w),
			 0);
	assert_int_equal(web_users_get(t->u, "mikko", &w), 0);
	assert_int_equal(w.changed_ms, now + WEB_USERS_LOCK_MS * 2); /* sessions before it end */
	assert_int_equal(web_users_passwd(t->u, "nobody", "brand new password", "cli", now),
			 -ENOENT);
	assert_int_equal(web_users_passwd(t->u, "mikko", "short", "cli", now), -EINVAL);

	/* disabled: refused even with the right password */
	assert_int_equal(web_users_set_disabled(t->u, "mikko", true, "cli", now + 7), 0);
	assert_int_equal(web_users_get(t->u, "mikko", &w), 0);
	assert_int_equal(w.changed_ms, now + 7);
	assert_int_equal(web_users_login(t->u, "mikko", "brand new password", "::1",
					 now + WEB_USERS_LOCK_MS * 3, &w),
			 -EPERM);
	assert_int_equal(web_users_set_disabled(t->u, "mikko", false, "cli", now), 0);
	assert_int_equal(web_users_login(t->u, "mikko", "brand new password", "::1",
					 now + WEB_USERS_LOCK_MS * 3, &w),
			 0);
	assert_int_equal(web_users_set_disabled(t->u, "nobody", true, "cli", now), -ENOENT);

	/* every attempt and change was audited */
	audits = 0;
	int rows = web_users_audit_list(t->u, 1000, count_audit, NULL);
	assert_true(rows > 20);
	assert_int_equal(audits, rows);
	assert_string_equal(last_action, "login");
	audits = 0;
	assert_int_equal(web_users_audit_list(t->u, 3, count_audit, NULL), 3);
	assert_int_equal(audits, 3);
}

static char last_detail[64], last_user[64];
static void keep_audit(const struct web_audit *a, void *arg)
{
	(void)arg;
	snprintf(last_detail, sizeof(last_detail), "%s", a->detail ? a->detail : "");
	snprintf(last_user, sizeof(last_user), "%s", a->user ? a->user : "");
}

/* A URL or a name from the network must not write lines or terminal codes into the audit. */
static void test_audit_controls(void **state)
{
	struct tmpdb *t = *state;

	assert_int_equal(web_users_audit(t->u, 1, "ai\nno", "::1", "denied",
					 "/log/1\nNOTICE audit: login user=root\x1b[2J\x7f"),
			 0);
	assert_int_equal(web_users_audit_list(t->u, 1, keep_audit, NULL), 1);
	assert_null(strpbrk(last_detail, "\n\r\x1b\x7f"));
	assert_string_equal(last_detail, "/log/1?NOTICE audit: login user=root?[2J?");
	assert_string_equal(last_user, "ai?no");
}

/* ---- listen address, routes, text ------------------------------------------------------- */

static void test_listen(void **state)
{
	(void)state;
	struct sockaddr_storage sa;
	unsigned len;
	bool lo;
	const char *why = NULL;

	assert_int_equal(web_listen_parse("127.0.0.1:8080", &sa, &len, &lo, &why), 0);
	assert_true(lo);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(web_listen_parse("127.8.9.10:0", &sa, &len, &lo, &why), 0);
	assert_true(lo);
	assert_int_equal(web_listen_parse("[::1]:443", &sa, &len, &lo, &why), 0);
	assert_true(lo);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(web_listen_parse("0.0.0.0:80", &sa, &len, &lo, &why), 0);
	assert_false(lo);
	assert_int_equal(web_listen_parse("192.168.1.2:80", &sa, &len, &lo, &why), 0);
	assert_false(lo);
	assert_int_equal(web_listen_parse("[::]:80", &sa, &len, &lo, &why), 0);
	assert_false(lo);
	assert_int_equal(web_listen_parse("[::ffff:127.0.0.1]:80", &sa, &len, &lo, &why), 0);
	assert_false(lo); /* mapped addresses are not taken for loopback */
	static const char *const bad[] = {
	    "",	      "localhost:80", "127.0.0.1", "127.0.0.1:",  "127.0.0.1:x", "127.0.0.1:65536",
	    "::1:80", "[::1]80",      ":80",	   "127.0.0.1:-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(web_listen_parse(bad[i], &sa, &len, &lo, &why), -EINVAL);
		assert_non_null(why);
	}
}

static void test_routes(void **state)
{
	(void)state;
	bool known;
	const struct web_route *rt;

	rt = web_route_find("GET", "/oncall", &known);
	assert_non_null(rt);
	assert_int_equal(rt->roles, WEB_ROLE_COORDINATOR);
	rt = web_route_find("GET", "/log/17", &known);
	assert_non_null(rt);
	assert_int_equal(rt->roles, WEB_ROLE_COORDINATOR);
	assert_null(web_route_find("GET", "/log/", &known)); /* a prefix needs its tail */
	rt = web_route_find("GET", "/overview", &known);
	assert_true(rt->roles & WEB_ROLE_MANAGER);
	assert_false(rt->roles & WEB_ROLE_TECHNICIAN);
	/* the report is aggregates: managers and coordinators, not technicians */
	static const char *const reports[] = {"/report", "/report.csv"};
	for (size_t i = 0; i < 2; i++) {
		rt = web_route_find("GET", reports[i], &known);
		assert_non_null(rt);
		assert_int_equal(rt->roles, WEB_ROLE_MANAGER | WEB_ROLE_COORDINATOR);
	}
	/* every POST but the login form (its own double-submit token) needs the CSRF token */
	static const char *const posts[] = {"/logout",		"/password",
					    "/roster/upload",	"/roster/apply",
					    "/roster/override", "/roster/override-del",
					    "/roster/worker"};
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		rt = web_route_find("POST", posts[i], &known);
		assert_non_null(rt);
		assert_true(rt->change);
		assert_true(rt->roles != 0);
	}
	/* the roster's pages and changes are the coordinator's; one route takes an upload */
	for (size_t i = 2; i < sizeof(posts) / sizeof(posts[0]); i++)
		assert_int_equal(web_route_find("POST", posts[i], &known)->roles,
				 WEB_ROLE_COORDINATOR);
	assert_int_equal(web_route_find("GET", "/roster", &known)->roles, WEB_ROLE_COORDINATOR);
	assert_int_equal(web_route_find("GET", "/roster.csv", &known)->roles, WEB_ROLE_COORDINATOR);
	assert_true(web_route_upload("POST", "/roster/upload"));
	assert_false(web_route_upload("POST", "/roster/apply"));
	assert_false(web_route_upload("GET", "/roster/upload"));
	assert_false(web_route_upload("POST", "/login"));
	rt = web_route_find("POST", "/login", &known);
	assert_int_equal(rt->roles, 0);
	assert_null(web_route_find("DELETE", "/oncall", &known));
	assert_true(known);
	assert_null(web_route_find("GET", "/etc/passwd", &known));
	assert_false(known);
	assert_null(web_route_find("GET", "/oncall/", &known));
}

static void test_text(void **state)
{
	(void)state;
	for (int s = 0; s < T_COUNT; s++)
		for (int l = 0; l < WEB_LANG_COUNT; l++) {
			const char *t = web_t((enum web_lang)l, (enum web_str)s);
			assert_string_not_equal(t, "?");
			assert_true(web_text_ok(t, strlen(t)));
		}
	assert_int_equal(web_lang_accept("sv-FI,sv;q=0.9,en;q=0.8"), WEB_LANG_SV);
	assert_int_equal(web_lang_accept("de-DE, en-GB;q=0.5"), WEB_LANG_EN);
	assert_int_equal(web_lang_accept("de"), WEB_LANG_FI);
	assert_int_equal(web_lang_accept("svx"), WEB_LANG_FI);
	assert_int_equal(web_lang_accept(NULL), WEB_LANG_FI);
	assert_int_equal(web_lang_parse("en"), WEB_LANG_EN);
	assert_int_equal(web_lang_parse("xx"), WEB_LANG_FI);
}

/* ---- the chain check, cached by head ------------------------------------------------- */

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static void test_chain_cache(void **state)
{
	struct tmpdb *t = *state;
	char path[128], sql[128];
	struct gw_incident_rec rec = {
	    .started_ms = 1767225600000, .caller = "2269001", .line = "sos", .radio_cci = 3};
	struct web_chain_cache c = {0};
	struct gw_db_verify v;
	struct gw_db *db;
	uint8_t hash[32], zero[32] = {0}, hash2[32];
	int64_t id, head, head2, now = 1767225700000;

	snprintf(path, sizeof(path), "%s/rinki.db", t->dir);
	assert_int_equal(gw_db_open(path, &db), 0);
	/* An empty log: head 0 with a zero hash, and intact. */
	assert_int_equal(gw_db_chain_head(db, &head, hash), 0);
	assert_int_equal(head, 0);
	assert_memory_equal(hash, zero, sizeof(zero));
	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	assert_int_equal(gw_db_incident_close(db, id, rec.started_ms + 5000, "answered", 1, "aino"),
			 0);
	assert_int_equal(gw_db_chain_head(db, &head, hash), 0);
	assert_int_equal(head, 2); /* open, close */
	assert_memory_not_equal(hash, zero, sizeof(zero));

	/* The first view walks; the next ones, with the head where it was, do not. */
	assert_int_equal(web_chain_verify(&c, db, now, &v), 0);
	assert_int_equal(c.walks, 1);
	assert_int_equal(v.events, 2);
	assert_int_equal(v.incidents, 1);
	assert_memory_equal(v.head, hash, sizeof(hash));
	memset(&v, 0, sizeof(v));
	assert_int_equal(web_chain_verify(&c, db, now + 1000, &v), 0);
	assert_int_equal(c.walks, 1);
	assert_int_equal(v.events, 2);
	assert_memory_equal(v.head, hash, sizeof(hash));

	/* A write moves the head: the next view walks and counts the new event. */
	assert_int_equal(gw_db_event_append(db, id, rec.started_ms + 6000, "note", "x"), 0);
	assert_int_equal(gw_db_chain_head(db, &head2, hash2), 0);
	assert_int_equal(head2, 3);
	assert_memory_not_equal(hash2, hash, sizeof(hash));
	assert_int_equal(web_chain_verify(&c, db, now + 2000, &v), 0);
	assert_int_equal(c.walks, 2);
	assert_int_equal(v.events, 3);

	/* An incident row edited in place leaves the head alone: seen once the answer is
	 * WEB_CHAIN_RECHECK_MS old (and not before), then the broken answer is cached. */
	snprintf(sql, sizeof(sql), "UPDATE incidents SET accepted_by = 'mikko' WHERE id = %lld",
		 (long long)id);
	raw_exec(path, sql);
	assert_int_equal(web_chain_verify(&c, db, now + 2000 + WEB_CHAIN_RECHECK_MS - 1, &v), 0);
	assert_int_equal(c.walks, 2);
	assert_int_equal(web_chain_verify(&c, db, now + 2000 + WEB_CHAIN_RECHECK_MS, &v), 1);
	assert_int_equal(c.walks, 3);
	assert_int_equal(v.bad_incident, id);
	assert_int_equal(web_chain_verify(&c, db, now + 3000 + WEB_CHAIN_RECHECK_MS, &v), 1);
	assert_int_equal(c.walks, 3);
	assert_int_equal(v.bad_incident, id);
	/* A clock that went back does not keep an answer forever. */
	assert_int_equal(web_chain_verify(&c, db, now, &v), 1);
	assert_int_equal(c.walks, 4);
	gw_db_close(db);
}

/* ---- the report page ------------------------------------------------------------------- */

static const char *q_keys[4], *q_vals[4];

static const char *q_arg(struct web_req *r, const char *key)
{
	(void)r;
	for (int i = 0; i < 4 && q_keys[i]; i++)
		if (strcmp(q_keys[i], key) == 0)
			return q_vals[i];
	return NULL;
}

static int64_t fixed_now(void)
{
	return 1775000000000; /* 2026-04-01 */
}

/* Render page with the query k1=v1 (&k2=v2); the answer in *r (free r->out). */
static void render(web_page_fn page, struct web_app *app, struct web_req *r, const char *k1,
		   const char *v1, const char *k2, const char *v2)
{
	memset(q_keys, 0, sizeof(q_keys));
	q_keys[0] = k1;
	q_vals[0] = v1;
	q_keys[1] = k2;
	q_vals[1] = v2;
	memset(r, 0, sizeof(*r));
	r->app = app;
	r->method = "GET";
	r->path = "/report";
	r->ip = "127.0.0.1";
	r->arg = q_arg;
	r->lang = WEB_LANG_EN;
	r->status = 200;
	page(r);
	assert_non_null(r->out.data); /* NUL-terminated by the buffer */
}

/* How often needle occurs in the chart element id (its <svg> .. </svg>) of html. */
static int in_chart(const char *html, const char *id, const char *needle)
{
	char key[64];
	snprintf(key, sizeof(key), "id=\"%s\"", id);
	const char *p = strstr(html, key), *end = p ? strstr(p, "</svg>") : NULL;
	int n = 0;
	if (!p || !end)
		fail_msg("no chart %s", id);
	for (p = strstr(p, needle); p && p < end; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void seed_call_from(struct gw_db *db, const char *caller, int y, int mo, int d, int minute,
			   const char *outcome, const char *const *ev)
{
	struct gw_incident_rec rec = {.started_ms = gw_roster_local_to_utc(y, mo, d, minute),
				      .caller = caller,
				      .line = "sos"};
	int64_t id;
	const char *accepted = NULL;

	assert_int_equal(gw_db_incident_open(db, &rec, &id), 0);
	for (int i = 0; ev[i]; i += 3) {
		assert_int_equal(gw_db_event_append(db, id, rec.started_ms + atoi(ev[i]) * 1000,
						    ev[i + 1], ev[i + 2]),
				 0);
		if (strcmp(ev[i + 1], "accepted") == 0)
			accepted = ev[i + 2];
	}
	assert_int_equal(gw_db_incident_close(db, id, rec.started_ms + 300000, outcome, -1,
					      accepted ? "x" : NULL),
			 0);
}

static void seed_call(struct gw_db *db, int y, int mo, int d, int minute, const char *outcome,
		      const char *const *ev)
{
	seed_call_from(db, "2269001", y, mo, d, minute, outcome, ev);
}

/*
 * March 2026: Monday 2nd 10:00 taken by the first worker in 12 s and 10:30 by step 2 in
 * 40 s, Thursday 5th 22:15 unstaffed, a text on the 6th. The page draws a bar for each of
 * the 2 days with calls (2 and 1: heights 150 and 75), 168 heatmap cells, 2 accept bins
 * (<= 20 s, <= 45 s) and 3 who-took-it bars (first, later, nobody).
 */
static void test_report_page(void **state)
{
	struct tmpdb *t = *state;
	static struct gw_conf conf;
	struct web_app app = {.conf = &conf, .now_ms = fixed_now};
	struct web_req r;
	struct gw_db *db;

	snprintf(conf.db_path, sizeof(conf.db_path), "%s/rinki.db", t->dir);
	assert_int_equal(gw_db_open(conf.db_path, &db), 0);
	seed_call(db, 2026, 3, 2, 600, "completed",
		  (const char *const[]){"0", "page", "aino +35840 step 1 round 1", "12", "accepted",
					"aino dtmf", NULL});
	seed_call(db, 2026, 3, 2, 630, "completed",
		  (const char *const[]){"0", "page", "aino +35840 step 1 round 1", "10", "page",
					"mikko +35840 step 2 round 1", "40", "accepted",
					"mikko dtmf", NULL});
	seed_call(db, 2026, 3, 5, 22 * 60 + 15, "unstaffed",
		  (const char *const[]){"0", "unstaffed", "line sos", NULL});
	seed_call(db, 2026, 3, 6, 600, "message relayed",
		  (const char *const[]){"0", "sds_text", "hei", NULL});
	gw_db_close(db);

	render(web_page_report, &app, &r, "month", "2026-03", NULL, NULL);
	assert_int_equal(r.status, 200);
	const char *h = r.out.data;
	assert_non_null(strstr(h, "id=\"check\">Check: every incident counted once: 4/4<"));
	assert_int_equal(in_chart(h, "chart-days", "class=\"bar\""), 2);
	assert_int_equal(in_chart(h, "chart-days", "height=\"150.00\""), 1);
	assert_int_equal(in_chart(h, "chart-days", "height=\"75.00\""), 1);
	assert_int_equal(in_chart(h, "chart-days", "<title>2.3.2026: 2</title>"), 1);
	assert_int_equal(in_chart(h, "chart-heatmap", "class=\"cell\""), 168);
	assert_int_equal(in_chart(h, "chart-heatmap", "<title>Mon 10–11: 2</title>"), 1);
	assert_int_equal(in_chart(h, "chart-heatmap", "<title>Thu 22–23: 1</title>"), 1);
	assert_int_equal(in_chart(h, "chart-accept", "class=\"bar\""), 2);
	assert_int_equal(in_chart(h, "chart-accept", "<title>≤ 20 s: 1</title>"), 1);
	assert_int_equal(in_chart(h, "chart-accept", "<title>≤ 45 s: 1</title>"), 1);
	assert_int_equal(in_chart(h, "chart-who", "class=\"bar\""), 3);
	assert_int_equal(in_chart(h, "chart-who", "<title>a later step: 1</title>"), 1);
	assert_non_null(strstr(h, "href=\"/report.csv?month=2026-03\""));
	web_buf_free(&r.out);

	/* the same as a range of days; one day alone; the CSV of the month */
	render(web_page_report, &app, &r, "from", "2026-03-05", "to", "2026-03-31");
	assert_int_equal(r.status, 200);
	assert_int_equal(in_chart(r.out.data, "chart-days", "class=\"bar\""), 1);
	assert_non_null(
	    strstr(r.out.data, "href=\"/report.csv?from=2026-03-05&amp;to=2026-03-31\""));
	web_buf_free(&r.out);
	render(web_page_report, &app, &r, "from", "2026-03-02", "to", "2026-03-02");
	assert_int_equal(r.status, 200);
	assert_int_equal(in_chart(r.out.data, "chart-who", "class=\"bar\""), 2);
	web_buf_free(&r.out);
	render(web_page_report_csv, &app, &r, "month", "2026-03", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "text/csv; charset=utf-8");
	assert_string_equal(r.filename, "rinki-report-2026-03-01-2026-03-31.csv");
	assert_non_null(
	    strstr(r.out.data, "2026-03-01T00:00+02:00,2026-04-01T00:00+03:00,total,,,3,2,0,1,"));
	web_buf_free(&r.out);

	/* no query: the current month (April 2026, no calls) */
	render(web_page_report, &app, &r, NULL, NULL, NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.out.data, "value=\"2026-04\""));
	assert_int_equal(in_chart(r.out.data, "chart-days", "class=\"bar\""), 0);
	web_buf_free(&r.out);

	/* refused: a bad month, a reversed or too long range, month and days together */
	const char *bad[][4] = {
	    {"month", "2026-13", NULL, NULL},		{"month", "2026-3", NULL, NULL},
	    {"month", "2026-03x", NULL, NULL},		{"from", "2026-03-05", "to", "2026-03-04"},
	    {"from", "2020-01-01", "to", "2026-03-04"}, {"from", "2026-03-05", NULL, NULL},
	    {"month", "2026-03", "from", "2026-03-01"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		render(web_page_report, &app, &r, bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
		if (r.status != 400)
			fail_msg("query %zu: status %d", i, r.status);
		web_buf_free(&r.out);
		render(web_page_report_csv, &app, &r, bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
		assert_int_equal(r.status, 400);
		assert_string_equal(r.filename, "");
		web_buf_free(&r.out);
	}
}

/*
 * Calls per municipality: two calls from Mikkeli (a member), one from Pieksämäki (a
 * contract municipality), one from a caller the directory has no municipality for. The
 * chart draws one bar per municipality, marked by membership (class and tooltip), the
 * longest for Mikkeli; the CSV has a row for each.
 */
static void test_report_munis(void **state)
{
	struct tmpdb *t = *state;
	static struct gw_conf conf;
	struct web_app app = {.conf = &conf, .now_ms = fixed_now};
	struct web_req r;
	struct gw_db *db;
	const char *const un[] = {"0", "unstaffed", "line sos", NULL};
	const struct gw_db_dir dirs[] = {
	    {.issi = "2269001",
	     .org = "Poliisi, Mikkeli",
	     .municipality = "Mikkeli",
	     .membership = "member"},
	    {.issi = "2269002",
	     .org = "Poliisi, Pieksämäki",
	     .municipality = "Pieksämäki",
	     .membership = "contract"},
	    {.issi = "2269003", .org = "Poliisi, Juva"},
	};

	snprintf(conf.db_path, sizeof(conf.db_path), "%s/rinki.db", t->dir);
	assert_int_equal(gw_db_open(conf.db_path, &db), 0);
	assert_int_equal(gw_db_directory_replace(db, dirs, 3), 0);
	seed_call_from(db, "2269001", 2026, 3, 2, 600, "unstaffed", un);
	seed_call_from(db, "2269001", 2026, 3, 3, 600, "unstaffed", un);
	seed_call_from(db, "2269002", 2026, 3, 4, 600, "unstaffed", un);
	seed_call_from(db, "2269003", 2026, 3, 5, 600, "unstaffed", un);
	gw_db_close(db);

	render(web_page_report, &app, &r, "month", "2026-03", NULL, NULL);
	assert_int_equal(r.status, 200);
	const char *h = r.out.data;
	assert_int_equal(in_chart(h, "chart-munis", "class=\"bar"), 3);
	assert_int_equal(in_chart(h, "chart-munis", "class=\"bar member\""), 1);
	assert_int_equal(in_chart(h, "chart-munis", "class=\"bar contract\""), 1);
	assert_int_equal(in_chart(h, "chart-munis", "class=\"bar none\""), 1);
	assert_int_equal(
	    in_chart(h, "chart-munis", "<title>Mikkeli (member municipality): 2</title>"), 1);
	assert_int_equal(
	    in_chart(h, "chart-munis", "<title>Pieksämäki (contract municipality): 1</title>"), 1);
	assert_int_equal(in_chart(h, "chart-munis", "<title>no municipality: 1</title>"), 1);
	const char *mik = strstr(h, "<title>Mikkeli"), *pie = strstr(h, "<title>Pieksämäki"),
		   *none = strstr(h, "<title>no municipality");
	assert_true(mik && pie && none && mik < pie && pie < none); /* by name, none last */
	assert_int_equal(in_chart(h, "chart-munis", "width=\"700.00\""), 1);
	assert_int_equal(in_chart(h, "chart-munis", "width=\"350.00\""), 2);
	web_buf_free(&r.out);

	render(web_page_report_csv, &app, &r, "month", "2026-03", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.out.data, ",municipality,Mikkeli,member municipality,2,"));
	assert_non_null(strstr(r.out.data, ",municipality,Pieksämäki,contract municipality,1,"));
	assert_non_null(strstr(r.out.data, ",municipality,,(no municipality),1,"));
	web_buf_free(&r.out);
}

/* ---- multipart/form-data (the roster upload) -------------------------------------------- */

#define MP_CT "multipart/form-data; boundary=----b0und"

static int mp(const char *body, struct web_upload *u)
{
	return web_multipart_parse(MP_CT, body, strlen(body), u, NULL);
}

static void test_multipart(void **state)
{
	(void)state;
	static struct web_upload u;
	const char *why = NULL;
	const char *ok = "------b0und\r\n"
			 "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
			 "abc\r\n"
			 "------b0und\r\n"
			 "Content-Disposition: form-data; name=\"roster\"; filename=\"r.csv\"\r\n"
			 "Content-Type: text/csv\r\n\r\n"
			 "line,sos\r\n--x\r\n\r\n"
			 "------b0und--\r\n";

	assert_int_equal(web_multipart_parse(MP_CT, ok, strlen(ok), &u, &why), 0);
	assert_null(why);
	assert_string_equal(web_form_get(&u.fields, "csrf"), "abc");
	assert_string_equal(u.file_field, "roster");
	assert_int_equal(u.len, strlen("line,sos\r\n--x\r\n"));
	assert_memory_equal(u.data, "line,sos\r\n--x\r\n", u.len);
	/* a quoted boundary, other parameters, no CRLF at the end, no file */
	const char *q =
	    "--a b\r\nContent-Disposition: form-data; name=\"replace\"\r\n\r\n1\r\n--a b--";
	assert_int_equal(web_multipart_parse("multipart/form-data; charset=x; boundary=\"a b\"", q,
					     strlen(q), &u, NULL),
			 0);
	assert_string_equal(web_form_get(&u.fields, "replace"), "1");
	assert_null(u.data);
	/* refused */
	assert_int_equal(web_multipart_parse("multipart/form-data", ok, strlen(ok), &u, NULL),
			 -EINVAL); /* no boundary */
	assert_int_equal(
	    web_multipart_parse("text/plain; boundary=----b0und", ok, strlen(ok), &u, NULL),
	    -EINVAL);
	assert_int_equal(mp("preamble\r\n------b0und--", &u), -EINVAL);
	assert_int_equal(
	    mp("------b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", &u),
	    -EINVAL); /* no closing delimiter */
	assert_int_equal(mp("------b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
			    "------b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ny\r\n"
			    "------b0und--",
			    &u),
			 -EINVAL); /* twice */
	assert_int_equal(mp("------b0und\r\nContent-Disposition: form-data; name=\"f\"; "
			    "filename=\"1\"\r\n\r\nx\r\n------b0und\r\nContent-Disposition: "
			    "form-data; name=\"g\"; filename=\"2\"\r\n\r\ny\r\n------b0und--",
			    &u),
			 -EINVAL); /* two files */
	assert_int_equal(mp("------b0und\r\nContent-Disposition: form-data; "
			    "name=\"A\"\r\n\r\nx\r\n------b0und--",
			    &u),
			 -EINVAL); /* field name alphabet */
	assert_int_equal(
	    mp("------b0und\r\nContent-Type: text/plain\r\n\r\nx\r\n------b0und--", &u),
	    -EINVAL); /* no name */
	assert_int_equal(mp("------b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\ty"
			    "\r\n------b0und--",
			    &u),
			 -EINVAL); /* a text value with a control character */
	assert_int_equal(
	    mp("------b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n------b0und--"
	       "junk",
	       &u),
	    -EINVAL); /* after the closing delimiter */
	static char big[WEB_UPLOAD_MAX + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(web_multipart_parse(MP_CT, big, WEB_UPLOAD_MAX + 1, &u, &why), -EMSGSIZE);
	assert_non_null(why);
	/* a file of any bytes, NULs included */
	static const char bin[] = "------b0und\r\nContent-Disposition: form-data; name=\"f\"; "
				  "filename=\"x\"\r\n\r\n\x00\x01\xff\r\n------b0und--";
	assert_int_equal(web_multipart_parse(MP_CT, bin, sizeof(bin) - 1, &u, NULL), 0);
	assert_int_equal(u.len, 3);
}

/* ---- the roster pages: changes go to rinkid's control socket ----------------------------- */

/* A stand-in for rinkid's control socket: one connection, one canned reply. */
struct fake_ctl {
	int lfd;
	pthread_t th;
	const char *reply;
	char line[1024];
	char file[4096];
	ssize_t file_len; /* -1: no descriptor came */
	int seals;
};

static void *fake_ctl_main(void *arg)
{
	struct fake_ctl *f = arg;
	int c = accept(f->lfd, NULL, NULL);
	char buf[1024];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
	f->file_len = -1;
	ssize_t k = c >= 0 ? recvmsg(c, &m, 0) : -1;
	if (k > 0) {
		buf[k] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(f->line, sizeof(f->line), "%s", buf);
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		if (h && h->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(h), sizeof(fd));
			f->seals = fcntl(fd, F_GET_SEALS);
			f->file_len = read(fd, f->file, sizeof(f->file));
			close(fd);
		}
		if (write(c, f->reply, strlen(f->reply)) < 0)
			f->file_len = -2;
	}
	if (c >= 0)
		close(c);
	return NULL;
}

static void fake_ctl_start(struct fake_ctl *f, const char *path, const char *reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memset(f, 0, sizeof(*f));
	f->reply = reply;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_ctl_main, f), 0);
}

static void fake_ctl_join(struct fake_ctl *f, const char *path)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(path);
}

/* A coordinator's POST of page with the form body (urlencoded) or upload. */
static void post(web_page_fn page, struct web_app *app, struct web_session *sess, struct web_req *r,
		 const char *body, const struct web_upload *up)
{
	static struct web_form form;
	memset(r, 0, sizeof(*r));
	r->app = app;
	r->method = "POST";
	r->path = "/roster";
	r->ip = "127.0.0.1";
	r->arg = q_arg;
	r->lang = WEB_LANG_EN;
	r->status = 200;
	r->sess = sess;
	snprintf(r->user.name, sizeof(r->user.name), "aino");
	r->user.role = WEB_ROLE_COORDINATOR;
	if (up) {
		r->upload = up;
		r->form = &up->fields;
	} else {
		assert_int_equal(web_form_parse(body, strlen(body), &form, NULL), 0);
		r->form = &form;
	}
	page(r);
	assert_non_null(r->out.data);
}

static const char csv[] = "line,sos,Sos,Sos,Sos\nworker,aino,Aino,+358401234567,\n";

/*
 * The upload's preview: the CSV goes to rinkid in a sealed memfd with "roster-import
 * mode=preview by=aino"; every error of the reply is shown with its row number and no
 * apply is offered. A clean preview shows what changes and offers the apply, which sends
 * the same bytes with mode=apply once (the token is then gone). rinkid not running: 503.
 */
static void test_roster_upload(void **state)
{
	struct tmpdb *t = *state;
	static struct gw_conf conf;
	static struct web_app app;
	static struct web_upload up;
	static char body[1024];
	struct web_req r;
	struct fake_ctl f;
	char sock[128];

	memset(&app, 0, sizeof(app));
	app.conf = &conf;
	app.users = t->u;
	app.now_ms = fixed_now;
	snprintf(sock, sizeof(sock), "%s/ctl.sock", t->dir);
	snprintf(conf.ctl_socket, sizeof(conf.ctl_socket), "%s", sock);
	struct web_session *sess = web_session_start(&app.sessions, "aino", fixed_now());
	int n =
	    snprintf(body, sizeof(body),
		     "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
		     "--B\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.csv\""
		     "\r\nContent-Type: text/csv\r\n\r\n%s\r\n--B--\r\n",
		     sess->csrf, csv);
	assert_int_equal(
	    web_multipart_parse("multipart/form-data; boundary=B", body, (size_t)n, &up, NULL), 0);

	/* a roster with errors */
	fake_ctl_start(&f, sock,
		       "+ error row=3 text=unknown%20line%20%27xyz%27\n"
		       "+ error row=7 text=%3Cb%3Eno%20phone\n"
		       "ok mode=preview rows=9 errors=2\n");
	post(web_page_roster_upload, &app, sess, &r, NULL, &up);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line, "roster-import mode=preview by=aino");
	assert_int_equal(f.file_len, (ssize_t)strlen(csv));
	assert_memory_equal(f.file, csv, strlen(csv));
	assert_true(f.seals & F_SEAL_WRITE);
	assert_int_equal(r.status, 422);
	assert_non_null(
	    strstr(r.out.data, "<tr><td>3</td><td>unknown line &#39;xyz&#39;</td></tr>"));
	assert_non_null(strstr(r.out.data, "<tr><td>7</td><td>&lt;b&gt;no phone</td></tr>"));
	assert_null(strstr(r.out.data, "id=\"apply\""));
	web_buf_free(&r.out);

	/* a clean one: what changes, and the apply */
	fake_ctl_start(&f, sock,
		       "+ manual fate=kept text=override%201\n"
		       "ok mode=preview rows=2 errors=0 conflicts=0 lines=1 workers=1 shifts=0 "
		       "was_lines=4 was_workers=1 was_shifts=30\n");
	post(web_page_roster_upload, &app, sess, &r, NULL, &up);
	fake_ctl_join(&f, sock);
	assert_int_equal(r.status, 200);
	assert_non_null(
	    strstr(r.out.data, "<tr class=\"changed\"><th>lines</th><td>4</td><td>1</td>"));
	assert_non_null(strstr(r.out.data, "<tr><th>workers</th><td>1</td><td>1</td>"));
	assert_non_null(strstr(r.out.data, "<tr><td>kept</td><td>override 1</td></tr>"));
	const char *tok = strstr(r.out.data, "name=\"token\" value=\"");
	assert_non_null(tok);
	char apply[256];
	snprintf(apply, sizeof(apply), "csrf=%s&token=%.64s", sess->csrf, tok + 20);
	web_buf_free(&r.out);
	fake_ctl_start(&f, sock, "ok mode=apply rows=2 errors=0 conflicts=0\n");
	post(web_page_roster_apply, &app, sess, &r, apply, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line, "roster-import mode=apply by=aino");
	assert_memory_equal(f.file, csv, strlen(csv));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.out.data, "class=\"ok\" id=\"result\""));
	web_buf_free(&r.out);
	post(web_page_roster_apply, &app, sess, &r, apply, NULL); /* used: gone */
	assert_int_equal(r.status, 410);
	web_buf_free(&r.out);

	/* rinkid's refusal is shown; rinkid not running */
	fake_ctl_start(&f, sock, "err denied not in rinki-admin\n");
	post(web_page_roster_upload, &app, sess, &r, NULL, &up);
	fake_ctl_join(&f, sock);
	assert_int_equal(r.status, 409);
	assert_non_null(strstr(r.out.data, "err denied not in rinki-admin"));
	web_buf_free(&r.out);
	post(web_page_roster_upload, &app, sess, &r, NULL, &up);
	assert_int_equal(r.status, 503);
	web_buf_free(&r.out);
	/* a part besides csrf, replace and the file: refused before anything is sent */
	n = snprintf(body, sizeof(body),
		     "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
		     "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n"
		     "--B\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.csv\""
		     "\r\n\r\n%s\r\n--B--\r\n",
		     sess->csrf, csv);
	assert_int_equal(
	    web_multipart_parse("multipart/form-data; boundary=B", body, (size_t)n, &up, NULL), 0);
	post(web_page_roster_upload, &app, sess, &r, NULL, &up);
	assert_int_equal(r.status, 400);
	web_buf_free(&r.out);
	for (int i = 0; i < WEB_PENDING_SLOTS; i++)
		web_pending_drop(&app.pending[i]);
}

/*
 * Every clock time in html (HH:MM, maybe :SS and .mmm, not a form value such as
 * "2026-12-08T08:00") carries its zone: " EET" or " EEST" follows. Returns how many times
 * were seen; fails naming the first time without one.
 */
static int clocks_zoned(const char *html)
{
	int seen = 0;
	for (const char *p = html; p[0] && p[1] && p[2] && p[3] && p[4]; p++) {
		bool d0 = p[0] >= '0' && p[0] <= '9', d1 = p[1] >= '0' && p[1] <= '9';
		bool d3 = p[3] >= '0' && p[3] <= '9', d4 = p[4] >= '0' && p[4] <= '9';
		if (!d0 || !d1 || p[2] != ':' || !d3 || !d4)
			continue;
		if (p > html && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == ':' || p[-1] == 'T'))
			continue;
		const char *q = p + 5;
		if (q[0] == ':' && q[1] >= '0' && q[1] <= '9' && q[2] >= '0' && q[2] <= '9')
			q += 3;
		if (q[0] == '.' && q[1] >= '0' && q[1] <= '9')
			q += 4;
		if (strncmp(q, " EET", 4) != 0 && strncmp(q, " EEST", 5) != 0)
			fail_msg("a time without its zone: \"%.40s\"",
				 p > html + 20 ? p - 20 : html);
		seen++;
		p = q;
	}
	return seen;
}

/* GET path (no query) as aino, a coordinator with session sess; the answer in *r. */
static void get_as(web_page_fn page, struct web_app *app, struct web_session *sess,
		   struct web_req *r, const char *path)
{
	memset(q_keys, 0, sizeof(q_keys));
	memset(r, 0, sizeof(*r));
	r->app = app;
	r->method = "GET";
	r->path = path;
	r->ip = "127.0.0.1";
	r->arg = q_arg;
	r->lang = WEB_LANG_EN;
	r->status = 200;
	r->sess = sess;
	snprintf(r->user.name, sizeof(r->user.name), "aino");
	r->user.role = WEB_ROLE_COORDINATOR;
	page(r);
	assert_non_null(r->out.data);
}

/*
 * The times rinki-web prints for people carry their zone, like rinkictl's: the on-call
 * timeline, the call log and an incident's events (a winter and a summer call), the
 * roster page's overrides and an override's confirm step.
 */
static void test_times_zoned(void **state)
{
	struct tmpdb *t = *state;
	static struct gw_conf conf;
	static struct web_app app;
	struct web_req r;
	struct gw_db *db;
	char body[512];
	const char *const ev[] = {
	    "0", "page", "aino +35840 step 1 round 1", "12", "accepted", "aino dtmf", NULL};

	memset(&app, 0, sizeof(app));
	app.conf = &conf;
	app.users = t->u;
	app.now_ms = fixed_now;
	snprintf(conf.db_path, sizeof(conf.db_path), "%s/rinki.db", t->dir);
	assert_int_equal(gw_db_open(conf.db_path, &db), 0);
	assert_int_equal(gw_roster_import_file(db, "tools/demo/roster.csv", NULL, NULL, NULL), 0);
	struct gw_db_override o = {.kind = "add",
				   .line = "sos",
				   .worker = "mikko",
				   .start_ms = gw_roster_local_to_utc(2026, 4, 3, 8 * 60),
				   .end_ms = gw_roster_local_to_utc(2026, 4, 3, 16 * 60)};
	assert_int_equal(gw_db_override_add(db, &o, NULL), 0);
	seed_call(db, 2026, 3, 27, 600, "completed", ev); /* EET */
	seed_call(db, 2026, 3, 30, 600, "completed", ev); /* EEST */
	gw_db_close(db);
	struct web_session *sess = web_session_start(&app.sessions, "aino", fixed_now());

	get_as(web_page_oncall, &app, sess, &r, "/oncall");
	assert_int_equal(r.status, 200);
	assert_true(clocks_zoned(r.out.data) > 0);
	web_buf_free(&r.out);

	render(web_page_log, &app, &r, "from", "2026-03-25", "to", "2026-03-31");
	assert_int_equal(r.status, 200);
	assert_int_equal(clocks_zoned(r.out.data), 2);
	assert_non_null(strstr(r.out.data, " 27.3. 10:00 EET<"));
	assert_non_null(strstr(r.out.data, " 30.3. 10:00 EEST<"));
	web_buf_free(&r.out);

	get_as(web_page_incident, &app, sess, &r, "/log/2");
	assert_int_equal(r.status, 200);
	assert_true(clocks_zoned(r.out.data) >= 3); /* the start, and each event's time */
	assert_non_null(strstr(r.out.data, "2026-03-30 10:00:00.000 EEST"));
	assert_non_null(strstr(r.out.data, "10:00:12.000 EEST"));
	web_buf_free(&r.out);

	get_as(web_page_roster, &app, sess, &r, "/roster");
	assert_int_equal(r.status, 200);
	assert_true(clocks_zoned(r.out.data) >= 2);
	assert_non_null(strstr(r.out.data, "2026-04-03 08:00 EEST"));
	web_buf_free(&r.out);

	snprintf(body, sizeof(body),
		 "csrf=%s&line=sos&worker=mikko&from=2026-12-08T08%%3A00&to=2026-12-08T16%%3A00",
		 sess->csrf);
	post(web_page_override, &app, sess, &r, body, NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(clocks_zoned(r.out.data), 2);
	assert_non_null(strstr(r.out.data, "2026-12-08 08:00 EET – 2026-12-08 16:00 EET"));
	web_buf_free(&r.out);
}

/*
 * An override in two steps: the form's POST only shows what will happen, with the fields
 * carried on (nothing is sent); the confirm sends override-add. A worker's settings go as
 * worker-set. Unknown lines and workers, bad times and languages are refused (400).
 */
static void test_roster_changes(void **state)
{
	struct tmpdb *t = *state;
	static struct gw_conf conf;
	static struct web_app app;
	struct web_req r;
	struct fake_ctl f;
	struct gw_db *db;
	char sock[128], body[512];

	memset(&app, 0, sizeof(app));
	app.conf = &conf;
	app.users = t->u;
	app.now_ms = fixed_now;
	snprintf(sock, sizeof(sock), "%s/ctl.sock", t->dir);
	snprintf(conf.ctl_socket, sizeof(conf.ctl_socket), "%s", sock);
	snprintf(conf.db_path, sizeof(conf.db_path), "%s/rinki.db", t->dir);
	assert_int_equal(gw_db_open(conf.db_path, &db), 0);
	assert_int_equal(gw_roster_import_file(db, "tools/demo/roster.csv", NULL, NULL, NULL), 0);
	gw_db_close(db);
	struct web_session *sess = web_session_start(&app.sessions, "aino", fixed_now());

	snprintf(body, sizeof(body),
		 "csrf=%s&line=sos&worker=mikko&from=2026-12-08T08%%3A00&to=2026-12-08T16%%3A00"
		 "&reason=flu",
		 sess->csrf);
	post(web_page_override, &app, sess, &r, body, NULL); /* step 1: no socket needed */
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.out.data, "Mikko Korhonen"));
	assert_non_null(strstr(r.out.data, "2026-12-08 08:00 EET – 2026-12-08 16:00 EET"));
	assert_non_null(strstr(r.out.data, "<input type=\"hidden\" name=\"from\" "
					   "value=\"2026-12-08T08:00\">"));
	assert_non_null(strstr(r.out.data, "name=\"confirm\" value=\"1\""));
	web_buf_free(&r.out);
	strcat(body, "&confirm=1");
	fake_ctl_start(&f, sock, "ok id=42\n");
	post(web_page_override, &app, sess, &r, body, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line, "override-add kind=add line=sos worker=mikko "
				    "from=2026-12-08T08:00+02:00 to=2026-12-08T16:00+02:00 "
				    "reason=flu by=aino");
	assert_int_equal(f.file_len, -1);
	assert_non_null(strstr(r.out.data, "class=\"ok\" id=\"result\""));
	web_buf_free(&r.out);

	/* cover for a sick worker: mikko's places go to leena (summer time: +03:00) */
	snprintf(
	    body, sizeof(body),
	    "csrf=%s&line=sos&worker=mikko&kind=replace&by_worker=leena&from=2026-07-01T07%%3A00"
	    "&to=2026-07-02T07%%3A00&confirm=1",
	    sess->csrf);
	fake_ctl_start(&f, sock, "ok id=43\n");
	post(web_page_override, &app, sess, &r, body, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line,
			    "override-add kind=replace line=sos worker=mikko by_worker=leena "
			    "from=2026-07-01T07:00+03:00 to=2026-07-02T07:00+03:00 by=aino");
	web_buf_free(&r.out);

	/* removing one: two steps too */
	snprintf(body, sizeof(body), "csrf=%s&id=42", sess->csrf);
	post(web_page_override_del, &app, sess, &r, body, NULL);
	assert_non_null(strstr(r.out.data, "name=\"confirm\" value=\"1\""));
	web_buf_free(&r.out);
	strcat(body, "&confirm=1");
	fake_ctl_start(&f, sock, "ok\n");
	post(web_page_override_del, &app, sess, &r, body, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line, "override-del id=42 by=aino");
	web_buf_free(&r.out);

	/* a worker */
	snprintf(body, sizeof(body), "csrf=%s&worker=leena&disabled=1&pin_reset=1", sess->csrf);
	fake_ctl_start(&f, sock, "ok worker=leena\n");
	post(web_page_worker, &app, sess, &r, body, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line, "worker-set worker=leena disabled=1 pin_reset=1 by=aino");
	web_buf_free(&r.out);
	snprintf(body, sizeof(body), "csrf=%s&worker=leena", sess->csrf);
	fake_ctl_start(&f, sock, "ok worker=leena\n");
	post(web_page_worker, &app, sess, &r, body, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line, "worker-set worker=leena disabled=0 by=aino");
	web_buf_free(&r.out);
	/* the form's language and phone: sent only when changed, the phone as E.164 */
	snprintf(body, sizeof(body), "csrf=%s&worker=leena&lang=fi&phone=%%2B358401234569",
		 sess->csrf);
	fake_ctl_start(&f, sock, "ok worker=leena\n");
	post(web_page_worker, &app, sess, &r, body, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(f.line, "worker-set worker=leena disabled=0 by=aino");
	web_buf_free(&r.out);
	snprintf(body, sizeof(body), "csrf=%s&worker=leena&lang=sv&phone=0401234599", sess->csrf);
	fake_ctl_start(&f, sock, "ok worker=leena\n");
	post(web_page_worker, &app, sess, &r, body, NULL);
	fake_ctl_join(&f, sock);
	assert_string_equal(
	    f.line, "worker-set worker=leena disabled=0 lang=sv phone=+358401234599 by=aino");
	web_buf_free(&r.out);

	/* refused before anything is sent (no socket listens) */
	const char *bad[] = {
	    "line=nope&worker=mikko&from=2026-12-08T08%3A00&to=2026-12-08T16%3A00",
	    "line=sos&worker=nobody&from=2026-12-08T08%3A00&to=2026-12-08T16%3A00",
	    "line=sos&worker=mikko&from=2026-12-08T16%3A00&to=2026-12-08T08%3A00",
	    "line=sos&worker=mikko&from=2026-02-30T08%3A00&to=2026-12-08T16%3A00",
	    "line=sos&worker=mikko&from=2026-12-08T24%3A00&to=2026-12-09T16%3A00",
	    "line=sos&worker=mikko&kind=replace&by_worker=&from=2026-12-08T08%3A00&to=2026-12-"
	    "08T16%3A00",
	    "line=sos&worker=mikko&kind=replace&by_worker=mikko&from=2026-12-08T08%3A00&to=2026-12-"
	    "08T16%3A00",
	    "line=sos&worker=mikko&kind=replace&by_worker=nobody&from=2026-12-08T08%3A00&to=2026-"
	    "12-08T16%3A00",
	    "line=sos&worker=mikko&kind=add&by_worker=leena&from=2026-12-08T08%3A00&to=2026-12-"
	    "08T16%3A00",
	    "line=sos&worker=mikko&kind=swap&from=2026-12-08T08%3A00&to=2026-12-08T16%3A00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "csrf=x&%s&confirm=1", bad[i]);
		post(web_page_override, &app, sess, &r, body, NULL);
		if (r.status != 400)
			fail_msg("override %zu: %d", i, r.status);
		web_buf_free(&r.out);
	}
	const char *badw[] = {
	    "worker=nobody",	    "worker=leena&disabled=2", "worker=leena&pin_reset=0",
	    "worker=leena&lang=de", "worker=leena&phone=12ab", "worker=leena&phone="};
	for (size_t i = 0; i < sizeof(badw) / sizeof(badw[0]); i++) {
		snprintf(body, sizeof(body), "csrf=x&%s", badw[i]);
		post(web_page_worker, &app, sess, &r, body, NULL);
		if (r.status != 400)
			fail_msg("worker %zu: %d", i, r.status);
		web_buf_free(&r.out);
	}

	/* the page itself (its forms carry the session's token) and the download */
	post(web_page_roster, &app, sess, &r, "", NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.out.data, "enctype=\"multipart/form-data\""));
	assert_non_null(strstr(r.out.data, sess->csrf));
	assert_non_null(strstr(r.out.data, "<option value=\"mikko\">Mikko Korhonen</option>"));
	assert_non_null(strstr(r.out.data, "Olli Salonen <span class=\"gap\">(disabled)</span>"));
	assert_null(strstr(r.out.data, "$argon2"));
	web_buf_free(&r.out);
	post(web_page_roster_csv, &app, sess, &r, "", NULL);
	assert_string_equal(r.content_type, "text/csv; charset=utf-8");
	assert_string_equal(r.filename, "rinki-roster.csv");
	assert_non_null(strstr(r.out.data, "worker,aino,Aino Virtanen,\"'+358401234567\",,1,fi"));
	web_buf_free(&r.out);
}

/* ---- the account commands (rinki-web user, rinkictl user) ------------------------------ */

/* Run web_user_cmd with stdin holding input (one line: the password). */
static int user_cmd(struct tmpdb *t, const char *input, int argc, const char **argv)
{
	char in[160];
	snprintf(in, sizeof(in), "%s/stdin", t->dir);
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	fputs(input, f);
	fclose(f);
	assert_non_null(freopen(in, "r", stdin));
	return web_user_cmd("test", t->u, argc, (char **)argv);
}

static void test_user_cmd(void **state)
{
	struct tmpdb *t = *state;
	struct web_user w;
	int64_t now = 1767225600000;

	assert_int_equal(user_cmd(t, "nina's long password\n", 5,
				  (const char *[]){"add", "nina", "coordinator", "--lang", "sv"}),
			 0);
	assert_int_equal(web_users_get(t->u, "nina", &w), 0);
	assert_int_equal(w.role, WEB_ROLE_COORDINATOR);
	assert_string_equal(w.lang, "sv");
	assert_int_equal(web_users_login(t->u, "nina", "nina's long password", "ip", now, &w), 0);
	/* refused: the name again, a bad role, language or name, a short password */
	assert_int_equal(
	    user_cmd(t, "another long one\n", 3, (const char *[]){"add", "nina", "manager"}), 1);
	assert_int_equal(
	    user_cmd(t, "another long one\n", 3, (const char *[]){"add", "olli", "boss"}), 2);
	assert_int_equal(user_cmd(t, "another long one\n", 5,
				  (const char *[]){"add", "olli", "manager", "--lang", "de"}),
			 2);
	assert_int_equal(
	    user_cmd(t, "another long one\n", 3, (const char *[]){"add", "Olli", "manager"}), 1);
	assert_int_equal(user_cmd(t, "short\n", 3, (const char *[]){"add", "olli", "manager"}), 1);
	assert_int_equal(web_users_get(t->u, "olli", &w), -ENOENT);
	/* a new password: the old one no longer logs in */
	assert_int_equal(user_cmd(t, "short\n", 2, (const char *[]){"passwd", "nina"}), 1);
	assert_int_equal(
	    user_cmd(t, "nina's new password\n", 2, (const char *[]){"passwd", "nina"}), 0);
	assert_int_equal(web_users_login(t->u, "nina", "nina's long password", "ip", now, &w),
			 -EACCES);
	assert_int_equal(web_users_login(t->u, "nina", "nina's new password", "ip", now, &w), 0);
	/* disable, enable; an unknown name */
	assert_int_equal(user_cmd(t, "", 2, (const char *[]){"disable", "nina"}), 0);
	assert_int_equal(web_users_login(t->u, "nina", "nina's new password", "ip", now, &w),
			 -EPERM);
	assert_int_equal(user_cmd(t, "", 2, (const char *[]){"enable", "nina"}), 0);
	assert_int_equal(web_users_login(t->u, "nina", "nina's new password", "ip", now, &w), 0);
	assert_int_equal(user_cmd(t, "", 2, (const char *[]){"disable", "nobody"}), 1);
	assert_int_equal(user_cmd(t, "", 1, (const char *[]){"list"}), 0);
	assert_int_equal(user_cmd(t, "", 2, (const char *[]){"remove", "nina"}), 2);
	assert_int_equal(user_cmd(t, "", 0, (const char *[]){NULL}), 2);
	assert_non_null(freopen("/dev/null", "r", stdin));
}

/* ---- TLS: the serving rules, the certificate and key files ---------------------------- */

static void test_conf_check(void **state)
{
	(void)state;
	static struct gw_conf c;
	struct sockaddr_storage sa;
	unsigned len;
	bool tls = true;
	const char *why = NULL;

	gw_conf_defaults(&c);
	/* without TLS: loopback only, and the refusal says why */
	snprintf(c.web_listen, sizeof(c.web_listen), "127.0.0.1:8080");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), 0);
	assert_false(tls);
	snprintf(c.web_listen, sizeof(c.web_listen), "0.0.0.0:8443");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), -EINVAL);
	assert_non_null(strstr(why, "not a loopback address"));
	snprintf(c.web_listen, sizeof(c.web_listen), "[::]:8443");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), -EINVAL);
	/* one of the two TLS keys alone is refused, wherever it listens */
	snprintf(c.web_tls_cert, sizeof(c.web_tls_cert), "/etc/rinki/web.crt");
	why = NULL;
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), -EINVAL);
	assert_non_null(strstr(why, "set both or neither"));
	snprintf(c.web_listen, sizeof(c.web_listen), "127.0.0.1:8080");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), -EINVAL);
	c.web_tls_cert[0] = '\0';
	snprintf(c.web_tls_key, sizeof(c.web_tls_key), "/etc/rinki/web.key");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), -EINVAL);
	/* with both: any address */
	snprintf(c.web_tls_cert, sizeof(c.web_tls_cert), "/etc/rinki/web.crt");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), 0);
	assert_true(tls);
	snprintf(c.web_listen, sizeof(c.web_listen), "[::]:8443");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), 0);
	assert_true(tls);
	assert_int_equal(sa.ss_family, AF_INET6);
	snprintf(c.web_listen, sizeof(c.web_listen), "192.168.1.2:443");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), 0);
	/* a malformed address stays an error with TLS */
	snprintf(c.web_listen, sizeof(c.web_listen), "example.org:443");
	assert_int_equal(web_conf_check(&c, &sa, &len, &tls, &why), -EINVAL);
}

static void test_tls_files(void **state)
{
	struct tmpdb *t = *state;
	char cert[128], key[128], cert2[128], key2[128], link[128], why[512];
	struct web_tls tls;

	snprintf(cert, sizeof(cert), "%s/web.crt", t->dir);
	snprintf(key, sizeof(key), "%s/web.key", t->dir);
	snprintf(cert2, sizeof(cert2), "%s/other.crt", t->dir);
	snprintf(key2, sizeof(key2), "%s/other.key", t->dir);
	snprintf(link, sizeof(link), "%s/link.key", t->dir);

	/* missing files */
	assert_int_equal(web_tls_load(cert, key, &tls, why, sizeof(why)), -ENOENT);
	assert_null(tls.cert);
	/* a self-signed pair: key 0600, certificate 0644; loads; never overwritten */
	assert_int_equal(web_tls_selfsigned(cert, key, "rinki.example", 825, why, sizeof(why)), 0);
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(cert, &st), 0);
	assert_int_equal(st.st_mode & 0077 & ~0044, 0);
	assert_int_equal(web_tls_load(cert, key, &tls, why, sizeof(why)), 0);
	assert_non_null(strstr(tls.cert, "-----BEGIN CERTIFICATE-----"));
	assert_non_null(strstr(tls.key, "PRIVATE KEY-----"));
	web_tls_free(&tls);
	assert_null(tls.key);
	assert_int_equal(web_tls_selfsigned(cert, key, "rinki.example", 825, why, sizeof(why)),
			 -EEXIST);
	assert_non_null(strstr(why, "exists"));
	/* bad host names and validity */
	assert_int_equal(web_tls_selfsigned(cert2, key2, "a,DNS:evil", 825, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(web_tls_selfsigned(cert2, key2, "", 825, why, sizeof(why)), -EINVAL);
	assert_int_equal(web_tls_selfsigned(cert2, key2, "h", 0, why, sizeof(why)), -EINVAL);
	assert_int_equal(access(key2, F_OK), -1);
	/* a key others may read */
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(web_tls_load(cert, key, &tls, why, sizeof(why)), -EACCES);
	assert_non_null(strstr(why, "chmod 0600"));
	assert_null(tls.cert);
	assert_int_equal(chmod(key, 0600), 0);
	/* a symbolic link is not followed */
	assert_int_equal(symlink(key, link), 0);
	assert_int_equal(web_tls_load(cert, link, &tls, why, sizeof(why)), -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	/* a key of another pair, and the two files swapped */
	assert_int_equal(web_tls_selfsigned(cert2, key2, "127.0.0.1", 30, why, sizeof(why)), 0);
	assert_int_equal(web_tls_load(cert, key2, &tls, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "is not the key of the certificate"));
	assert_int_equal(chmod(cert2, 0600), 0);
	assert_int_equal(web_tls_load(key2, cert2, &tls, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a PEM certificate"));
	/* not a regular file */
	assert_int_equal(web_tls_load(t->dir, key, &tls, why, sizeof(why)), -EINVAL);
	/* too large */
	FILE *f = fopen(cert2, "a");
	assert_non_null(f);
	for (int i = 0; i < WEB_TLS_FILE_MAX / 64 + 1; i++)
		fputs("# padding padding padding padding padding padding padding paddin\n", f);
	fclose(f);
	assert_int_equal(web_tls_load(cert2, key2, &tls, why, sizeof(why)), -EFBIG);

	/* first start: both there, nothing made; neither there, a pair made; one alone, an
	 * error naming the missing one, and nothing made */
	bool made = true;
	assert_int_equal(web_tls_first_start(cert, key, "h", &made, why, sizeof(why)), 0);
	assert_false(made);
	snprintf(cert2, sizeof(cert2), "%s/first.crt", t->dir);
	snprintf(key2, sizeof(key2), "%s/first.key", t->dir);
	assert_int_equal(web_tls_first_start(cert2, key2, "rinki.example", &made, why, sizeof(why)),
			 0);
	assert_true(made);
	assert_int_equal(stat(key2, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(web_tls_load(cert2, key2, &tls, why, sizeof(why)), 0);
	web_tls_free(&tls);
	assert_int_equal(unlink(key2), 0);
	assert_int_equal(web_tls_first_start(cert2, key2, "h", &made, why, sizeof(why)), -ENOENT);
	assert_false(made);
	assert_non_null(strstr(why, key2));
	assert_int_equal(access(key2, F_OK), -1);
	assert_int_equal(unlink(cert2), 0);
	assert_int_equal(symlink("/nonexistent", cert2), 0); /* a dangling link is "there" */
	assert_int_equal(web_tls_first_start(cert2, key2, "h", &made, why, sizeof(why)), -ENOENT);
	assert_false(made);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form_basic),
	    cmocka_unit_test(test_form_refused),
	    cmocka_unit_test(test_cookie),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_buf_limit),
	    cmocka_unit_test(test_sessions),
	    cmocka_unit_test(test_rate),
	    cmocka_unit_test_setup_teardown(test_users, users_setup, users_teardown),
	    cmocka_unit_test_setup_teardown(test_lockout, users_setup, users_teardown),
	    cmocka_unit_test_setup_teardown(test_audit_controls, users_setup, users_teardown),
	    cmocka_unit_test(test_listen),
	    cmocka_unit_test(test_conf_check),
	    cmocka_unit_test_setup_teardown(test_tls_files, users_setup, users_teardown),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test_setup_teardown(test_chain_cache, users_setup, users_teardown),
	    cmocka_unit_test_setup_teardown(test_report_page, users_setup, users_teardown),
	    cmocka_unit_test_setup_teardown(test_report_munis, users_setup, users_teardown),
	    cmocka_unit_test_setup_teardown(test_times_zoned, users_setup, users_teardown),
	    cmocka_unit_test_setup_teardown(test_user_cmd, users_setup, users_teardown),
	    cmocka_unit_test(test_multipart),
	    cmocka_unit_test_setup_teardown(test_roster_upload, users_setup, users_teardown),
	    cmocka_unit_test_setup_teardown(test_roster_changes, users_setup, users_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
