/*
 * http: rinki-web's HTTP side on libmicrohttpd. One internal polling thread serves every
 * connection, so pages, sessions and the accounts file are touched by one thread only.
 * A request's body is collected up to WEB_FORM_BODY_MAX (an upload route's up to
 * WEB_UPLOAD_MAX, as multipart/form-data) and parsed by form.c (never by libmicrohttpd's
 * post processor); then the route table decides: login needed, which
 * roles, and whether it is a change that must carry the session's CSRF token. Every
 * answer carries headers that keep it out of frames, caches and other origins' scripts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/log.h"
#include "web.h"

#define COOKIE_SESSION "rinki_session"
#define COOKIE_PRE     "rinki_login" /* login form's double-submit token */

#define R_ALL  (WEB_ROLE_COORDINATOR | WEB_ROLE_MANAGER | WEB_ROLE_TECHNICIAN)
#define R_COOR WEB_ROLE_COORDINATOR

static const struct web_route routes[] = {
    {"GET", "/login", 0, false, web_page_login},
    {"POST", "/login", 0, false, web_page_login}, /* checks its own double-submit token */
    {"GET", "/app.css", 0, false, web_page_css},
    {"POST", "/logout", R_ALL, true, web_page_logout},
    {"GET", "/", R_ALL, false, web_page_home},
    {"GET", "/oncall", R_COOR, false, web_page_oncall},
    {"GET", "/log", R_COOR, false, web_page_log},
    {"GET", "/log/", R_COOR, false, web_page_incident},
    {"GET", "/system", R_ALL, false, web_page_system},
    {"GET", "/overview", R_COOR | WEB_ROLE_MANAGER, false, web_page_overview},
    {"GET", "/report", R_COOR | WEB_ROLE_MANAGER, false, web_page_report},
    {"GET", "/report.csv", R_COOR | WEB_ROLE_MANAGER, false, web_page_report_csv},
    {"GET", "/roster", R_COOR, false, web_page_roster},
    {"GET", "/roster.csv", R_COOR, false, web_page_roster_csv},
    {"POST", "/roster/upload", R_COOR, true, web_page_roster_upload},
    {"POST", "/roster/apply", R_COOR, true, web_page_roster_apply},
    {"POST", "/roster/override", R_COOR, true, web_page_override},
    {"POST", "/roster/override-del", R_COOR, true, web_page_override_del},
    {"POST", "/roster/worker", R_COOR, true, web_page_worker},
    {"GET", "/password", R_ALL, false, web_page_password},
    {"POST", "/password", R_ALL, true, web_page_password},
};

bool web_route_upload(const char *method, const char *path)
{
	return strcmp(method, "POST") == 0 && strcmp(path, "/roster/upload") == 0;
}

const struct web_route *web_route_find(const char *method, const char *path, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct web_route *rt = &routes[i];
		size_t n = strlen(rt->path);
		bool prefix = n > 1 && rt->path[n - 1] == '/';
		bool match = prefix ? strncmp(path, rt->path, n) == 0 && path[n] != '\0'
				    : strcmp(path, rt->path) == 0;
		if (!match)
			continue;
		*path_known = true;
		if (strcmp(method, rt->method) == 0)
			return rt;
	}
	return NULL;
}

int web_listen_parse(const char *s, struct sockaddr_storage *sa, unsigned *salen, bool *loopback,
		     const char **why)
{
	char host[64];
	const char *colon;
	long port;
	char *end;

	memset(sa, 0, sizeof(*sa));
	if (!s || !*s) {
		*why = "empty";
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host)) {
			*why = "expected [IPv6]:PORT";
			return -EINVAL;
		}
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host) || colon == s) {
			*why = "expected ADDRESS:PORT";
			return -EINVAL;
		}
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 0 || port > 65535) {
		*why = "port is not 0..65535";
		return -EINVAL;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*salen = sizeof(*v4);
		*loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*salen = sizeof(*v6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
		return 0;
	}
	*why = "the address is not an IPv4 or [IPv6] literal (no host names)";
	return -EINVAL;
}

void web_req_cookie(struct web_req *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n_cookies >= 3)
		return;
	va_start(ap, fmt);
	vsnprintf(r->cookies[r->n_cookies++], sizeof(r->cookies[0]), fmt, ap);
	va_end(ap);
}

/* Per connection: the body collected so far, up to max (an upload route's is larger). */
struct conn_state {
	char *body;
	size_t len, cap, max;
	bool too_big;
};

/* Add n bytes to the body, growing it up to cs->max; past that it is marked too big. */
static void body_add(struct conn_state *cs, const char *data, size_t n)
{
	if (cs->too_big || n > cs->max - cs->len) {
		cs->too_big = true;
		return;
	}
	if (cs->len + n > cs->cap) {
		size_t cap = cs->cap ? cs->cap : 4096;
		while (cap < cs->len + n)
			cap *= 2;
		if (cap > cs->max)
			cap = cs->max;
		char *p = realloc(cs->body, cap);
		if (!p) {
			cs->too_big = true;
			return;
		}
		cs->body = p;
		cs->cap = cap;
	}
	memcpy(cs->body + cs->len, data, n);
	cs->len += n;
}

static const char *get_arg(struct web_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static void client_ip(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, len, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
			  (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)len);
}

static enum MHD_Result send_answer(struct MHD_Connection *c, struct web_req *r)
{
	if (r->out.failed) {
		web_buf_free(&r->out);
		r->status = 500;
		web_buf_puts(&r->out, "page too large\n");
		r->content_type = "text/plain; charset=utf-8";
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    r->out.len, r->out.data ? r->out.data : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				r->content_type ? r->content_type : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; img-src 'self'; "
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	if (r->filename[0]) {
		char cd[128];
		snprintf(cd, sizeof(cd), "attachment; filename=\"%s\"", r->filename);
		MHD_add_response_header(resp, "Content-Disposition", cd);
	}
	if (r->status == 303 && r->location[0])
		MHD_add_response_header(resp, "Location", r->location);
	for (int i = 0; i < r->n_cookies; i++)
		MHD_add_response_header(resp, "Set-Cookie", r->cookies[i]);
	enum MHD_Result rc = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/*
 * The session of the request's cookie, with its user re-read: a user gone, disabled, or
 * changed since the session began (a new password) has no session any more.
 */
static void find_session(struct web_app *app, struct MHD_Connection *c, struct web_req *r)
{
	char id[WEB_COOKIE_VAL_MAX + 1];
	const char *cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");

	if (web_cookie_get(cookie, COOKIE_SESSION, id, sizeof(id)) < 0)
		return;
	struct web_session *s = web_session_find(&app->sessions, id, app->now_ms());
	if (!s)
		return;
	if (web_users_get(app->users, s->user, &r->user) < 0 || r->user.disabled ||
	    web_session_stale(s, r->user.changed_ms)) {
		web_session_end(s);
		return;
	}
	r->sess = s;
	r->lang = web_lang_parse(r->user.lang);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct web_app *app = cls;
	struct conn_state *cs = *con_cls;
	(void)version;

	if (!cs) {
		if (!(cs = calloc(1, sizeof(*cs))))
			return MHD_NO;
		cs->max = WEB_FORM_BODY_MAX;
		if (web_route_upload(method, url)) {
			/* the large body only from a coordinator's session: nobody else can make
			 * us hold WEB_UPLOAD_MAX per connection */
			struct web_req probe = {.app = app};
			find_session(app, c, &probe);
			if (probe.sess && probe.user.role == WEB_ROLE_COORDINATOR)
				cs->max = WEB_UPLOAD_MAX;
		}
		*con_cls = cs;
		return MHD_YES;
	}
	if (*upload_size) {
		body_add(cs, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}

	char ip[INET6_ADDRSTRLEN + 1];
	static struct web_form form; /* one thread: one request at a time */
	struct web_req r = {
	    .app = app,
	    .method = method,
	    .path = url,
	    .ip = ip,
	    .arg = get_arg,
	    .conn = c,
	    .status = 200,
	};
	client_ip(c, ip, sizeof(ip));
	r.cookie_header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	r.lang =
	    web_lang_accept(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"));
	find_session(app, c, &r);

	if (cs->too_big) { /* before anything else: the body was not kept */
		web_page_error(&r, 413, T_BAD_INPUT);
		goto out;
	}
	bool known;
	const struct web_route *rt = web_route_find(method, url, &known);
	if (!rt) {
		web_page_error(&r, known ? 405 : 404, T_NOT_FOUND);
		goto out;
	}
	if (rt->roles && !r.sess) {
		r.status = 303;
		snprintf(r.location, sizeof(r.location), "/login");
		goto out;
	}
	if (rt->roles && !(rt->roles & (unsigned)r.user.role)) {
		web_users_audit(app->users, app->now_ms(), r.user.name, ip, "denied", url);
		web_page_error(&r, 403, T_FORBIDDEN);
		goto out;
	}
	if (strcmp(method, "POST") == 0) {
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		const char *why = NULL;
		size_t n = strlen("application/x-www-form-urlencoded");
		if (web_route_upload(method, url)) {
			static struct web_upload up; /* one thread: one request at a time */
			if (web_multipart_parse(ct, cs->body ? cs->body : "", cs->len, &up, &why) <
			    0) {
				web_users_audit(app->users, app->now_ms(), r.user.name, ip,
						"bad_form", why);
				web_page_error(
				    &r, strncasecmp(ct ? ct : "", "multipart/", 10) ? 415 : 400,
				    T_BAD_INPUT);
				goto out;
			}
			r.upload = &up;
			r.form = &up.fields;
			form.n = 0;
		} else if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", n) != 0 ||
			   (ct[n] && ct[n] != ';')) {
			web_page_error(&r, 415, T_BAD_INPUT);
			goto out;
		} else if (web_form_parse(cs->body ? cs->body : "", cs->len, &form, &why) < 0) {
			web_users_audit(app->users, app->now_ms(), r.sess ? r.user.name : NULL, ip,
					"bad_form", why);
			web_page_error(&r, 400, T_BAD_INPUT);
			goto out;
		}
		if (!r.form)
			r.form = &form;
		if (rt->change && !web_token_eq(r.sess->csrf, web_form_get(r.form, "csrf"))) {
			web_users_audit(app->users, app->now_ms(), r.user.name, ip, "csrf_refused",
					url);
			web_page_error(&r, 403, T_CSRF);
			goto out;
		}
	}
	rt->page(&r);
out:;
	enum MHD_Result rc = send_answer(c, &r);
	web_buf_free(&r.out);
	return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct conn_state *cs = *con_cls;
	if (cs)
		free(cs->body);
	free(cs);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[256];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	gw_log(GW_LOG_MAIN, GW_LOG_WARN, "http: %s", line);
}

void *web_http_start(struct web_app *app, const struct sockaddr_storage *sa, unsigned salen,
		     const struct web_tls *tls, int *port)
{
	(void)salen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (sa->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls && tls->cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			gw_log(GW_LOG_MAIN, GW_LOG_ERROR,
			       "http: this libmicrohttpd is built without TLS");
			return NULL;
		}
		flags |= MHD_USE_TLS;
	}
	uint16_t p = ntohs(sa->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
						     : ((const struct sockaddr_in *)sa)->sin_port);
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
	    {MHD_OPTION_SOCK_ADDR, 0, (void *)sa},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, NULL},
	    {MHD_OPTION_CONNECTION_LIMIT, WEB_HTTP_CONNECTIONS, NULL},
	    {MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
	    {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL},
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, tls && tls->cert ? tls->cert : NULL},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, tls && tls->cert ? tls->key : NULL},
	    {MHD_OPTION_END, 0, NULL},
	};
	if (!(flags & MHD_USE_TLS))
		opts[7].option = MHD_OPTION_END; /* plain HTTP: no certificate options */
	struct MHD_Daemon *d = MHD_start_daemon(flags, p, NULL, NULL, handle, app, MHD_OPTION_ARRAY,
						opts, MHD_OPTION_END);
	if (!d) {
		gw_log(GW_LOG_MAIN, GW_LOG_ERROR, "http: cannot listen: %s", strerror(errno));
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port = di ? di->port : p;
	return d;
}

void web_http_stop(void *daemon)
{
	if (daemon)
		MHD_stop_daemon(daemon);
}
