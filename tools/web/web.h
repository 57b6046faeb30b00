/*
 * web: what rinki-web's parts share -- the application (configuration, accounts,
 * sessions, clock) and one request as the pages see it. http.c turns a libmicrohttpd
 * request into a struct web_req, checks the session, role and CSRF token, and calls a
 * page; pages.c renders into req->out and never sees libmicrohttpd.
 */
#ifndef WEB_WEB_H
#define WEB_WEB_H

#include <stdbool.h>
#include <stdint.h>

#include "admin.h"
#include "chain.h"
#include "core/conf.h"
#include "form.h"
#include "html.h"
#include "session.h"
#include "text.h"
#include "tls.h"
#include "users.h"

struct web_app {
	const struct gw_conf *conf; /* db.path, ctl.socket, web.* */
	struct web_users *users;
	struct web_sessions sessions;
	struct web_rate rate;
	bool tls;		      /* cookies get Secure (TLS itself is not built yet) */
	int64_t (*now_ms)(void);      /* wall clock, UTC ms; tests may replace it */
	struct web_chain_cache chain; /* the call log's chain check, by head */
	struct web_pending pending[WEB_PENDING_SLOTS]; /* previewed rosters (admin.h) */
};

struct web_req;
/* Look up a query-string argument (decoded) of the request; NULL when absent. */
typedef const char *(*web_arg_fn)(struct web_req *r, const char *key);

struct web_req {
	struct web_app *app;
	const char *method, *path;
	const char *ip;
	const char *cookie_header; /* the Cookie header, NULL when none */
	web_arg_fn arg;
	void *conn;		  /* for arg */
	struct web_session *sess; /* NULL before login */
	struct web_user user;	  /* valid with sess */
	enum web_lang lang;
	const struct web_form *form;	 /* POST only (an upload's text parts) */
	const struct web_upload *upload; /* POST to an upload route only */
	/* the answer */
	int status;
	struct web_buf out;
	const char *content_type; /* NULL: text/html; charset=utf-8 */
	char filename[64];	  /* a download's name (Content-Disposition), "" when none */
	char location[256];	  /* redirect target (status 303) */
	char cookies[3][256];	  /* Set-Cookie values */
	int n_cookies;
};

/* A page: render into r->out (or set a redirect) and set r->status. */
typedef void (*web_page_fn)(struct web_req *r);

/* ---- pages.c -------------------------------------------------------------------------- */

void web_page_login(struct web_req *r);	   /* GET and POST /login */
void web_page_logout(struct web_req *r);   /* POST /logout */
void web_page_home(struct web_req *r);	   /* GET /: the role's first page */
void web_page_oncall(struct web_req *r);   /* GET /oncall (coordinator) */
void web_page_log(struct web_req *r);	   /* GET /log (coordinator) */
void web_page_incident(struct web_req *r); /* GET /log/ID (coordinator) */
void web_page_system(struct web_req *r);   /* GET /system (everyone) */
void web_page_overview(struct web_req *r); /* GET /overview (manager, coordinator) */
void web_page_password(struct web_req *r); /* GET and POST /password (everyone) */
void web_page_css(struct web_req *r);	   /* GET /app.css */

/* GET /report and /report.csv (manager, coordinator): store/report.c's figures. */
void web_page_report(struct web_req *r);
void web_page_report_csv(struct web_req *r);

/* The roster (coordinator): GET /roster and /roster.csv; POST /roster/upload (multipart:
 * the preview), /roster/apply, /roster/override and /roster/override-del (two steps:
 * the form, then confirm=1), /roster/worker. Changes go to rinkid (admin.h). */
void web_page_roster(struct web_req *r);
void web_page_roster_csv(struct web_req *r);
void web_page_roster_upload(struct web_req *r);
void web_page_roster_apply(struct web_req *r);
void web_page_override(struct web_req *r);
void web_page_override_del(struct web_req *r);
void web_page_worker(struct web_req *r);

/* Render an error page with status and message s (the page frame included). */
void web_page_error(struct web_req *r, int status, enum web_str s);

/* Add a Set-Cookie value to the answer (at most 3). */
void web_req_cookie(struct web_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- http.c --------------------------------------------------------------------------- */

/* One route: method, path (exact, or a prefix when it ends in '/'), roles allowed. */
struct web_route {
	const char *method, *path;
	unsigned roles; /* 0: no login needed */
	bool change;	/* a POST that changes something: needs the session's CSRF token */
	web_page_fn page;
};

/* True for the one route whose body is multipart/form-data up to WEB_UPLOAD_MAX. */
bool web_route_upload(const char *method, const char *path);

/*
 * The route for method and path, or NULL when none; *path_known is set when some route
 * has that path (then the method was wrong: 405).
 */
const struct web_route *web_route_find(const char *method, const char *path, bool *path_known);

/*
 * Parse a web.listen value "ADDR:PORT" (IPv4 literal or [IPv6] literal, port 0..65535;
 * 0 picks a free one) into a sockaddr. Returns 0, or -EINVAL with the reason in why.
 * *loopback says whether the address is 127.0.0.0/8 or ::1.
 */
struct sockaddr_storage;
int web_listen_parse(const char *s, struct sockaddr_storage *sa, unsigned *salen, bool *loopback,
		     const char **why);

/* Connections served at once (more wait in the listen queue's backlog). */
#define WEB_HTTP_CONNECTIONS 32

/*
 * Start serving app on the address (libmicrohttpd, one internal thread), over HTTPS with
 * tls's certificate and key when tls is not NULL and holds them. *port gets the port
 * bound. Returns an opaque daemon handle, or NULL (logged).
 */
void *web_http_start(struct web_app *app, const struct sockaddr_storage *sa, unsigned salen,
		     const struct web_tls *tls, int *port);

/* Stop serving; NULL is ignored. */
void web_http_stop(void *daemon);

#endif
