/*
 * pages: what rinki-web shows. Each page reads through the store layer (gateway/store:
 * gw_db_* and the roster snapshot) or asks rinkid over its control socket, and renders
 * server-side HTML into the request's buffer; charts are SVG drawn here. No page writes
 * rinki.db: the user's own session and password change in rinki-web's accounts file, and
 * the roster's changes (upload, overrides, workers) are requests to rinkid over the
 * control socket (admin.c), which validates and writes them. Every string from outside this file
 * goes through web_buf_esc().
 *
 * Sections: frame (head, navigation, times), login/logout/password, on call, call log
 * and incident, system (control socket), overview (aggregates for managers), report
 * (store/report.c's figures of a month or any range as SVG charts, and its CSV), roster
 * (upload with preview and apply, download, overrides in two steps, workers).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/e164.h"
#include "ctl/ctl_client.h"
#include "ctl/ctl_proto.h"
#include "rinki/proto.h"
#include "store/db.h"
#include "store/report.h"
#include "store/roster.h"
#include "admin.h"
#include "web.h"

/* A table that may scroll sideways on a phone: a named region the keyboard can reach. */
#define WRAP	    "<div class=\"wrap\" role=\"region\" tabindex=\"0\" aria-label=\"%s\">"
#define DAY_MS	    (24 * 3600 * 1000LL)
#define HORIZON_MS  (14 * DAY_MS)
#define SAMPLE_MS   (5 * 60 * 1000LL) /* duty sampled this often, changes found to the minute */
#define SEGS_MAX    2048	      /* duty segments per line in 14 days */
#define LOG_ROWS    500
#define CTL_WAIT_MS 2000

/* ---- frame ------------------------------------------------------------------------------ */

static const char *T(struct web_req *r, enum web_str s)
{
	return web_t(r->lang, s);
}

/* Local time (roster.timezone) of t_ms, whatever the process's zone. */
static void local_tm(int64_t t_ms, struct tm *tm)
{
	time_t t = (time_t)(t_ms / 1000 + (int64_t)gw_roster_utc_offset_min(t_ms) * 60);
	gmtime_r(&t, tm);
}

static const char *const wdays[WEB_LANG_COUNT][7] = {
    {"su", "ma", "ti", "ke", "to", "pe", "la"},
    {"sön", "mån", "tis", "ons", "tor", "fre", "lör"},
    {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
};

/* "ma 7.12. 08:00 EET" in the request's language, with the zone's abbreviation. */
static void put_time(struct web_req *r, int64_t t_ms)
{
	struct tm tm;
	local_tm(t_ms, &tm);
	web_buf_printf(&r->out, "%s %d.%d. %02d:%02d %s", wdays[r->lang][tm.tm_wday], tm.tm_mday,
		       tm.tm_mon + 1, tm.tm_hour, tm.tm_min, gw_roster_zone_abbr(t_ms));
}

/* "2026-12-07 08:00:05.123 EET", or "08:00:05.123 EET" without the date */
static void put_time_full(struct web_req *r, int64_t t_ms, bool date)
{
	struct tm tm;
	local_tm(t_ms, &tm);
	if (date)
		web_buf_printf(&r->out, "%04d-%02d-%02d ", tm.tm_year + 1900, tm.tm_mon + 1,
			       tm.tm_mday);
	web_buf_printf(&r->out, "%02d:%02d:%02d.%03d %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (int)(t_ms % 1000), gw_roster_zone_abbr(t_ms));
}

static void put_csrf(struct web_req *r)
{
	web_buf_puts(&r->out, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_buf_esc(&r->out, r->sess->csrf);
	web_buf_puts(&r->out, "\">");
}

static void page_begin(struct web_req *r, const char *title)
{
	struct web_buf *b = &r->out;
	web_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">",
		       web_lang_code(r->lang));
	web_buf_puts(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			"<link rel=\"stylesheet\" href=\"/app.css\"><title>");
	web_buf_esc(b, title);
	web_buf_puts(b, " – rinki</title></head><body><header><strong>rinki</strong>");
	if (r->sess) {
		static const struct {
			const char *href;
			enum web_str s;
			unsigned roles;
		} nav[] = {
		    {"/oncall", T_ONCALL, WEB_ROLE_COORDINATOR},
		    {"/log", T_CALLLOG, WEB_ROLE_COORDINATOR},
		    {"/overview", T_OVERVIEW, WEB_ROLE_COORDINATOR | WEB_ROLE_MANAGER},
		    {"/report", T_REPORT, WEB_ROLE_COORDINATOR | WEB_ROLE_MANAGER},
		    {"/roster", T_ROSTER, WEB_ROLE_COORDINATOR},
		    {"/system", T_SYSTEM,
		     WEB_ROLE_COORDINATOR | WEB_ROLE_MANAGER | WEB_ROLE_TECHNICIAN},
		};
		web_buf_puts(b, "<nav>");
		for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++)
			if (nav[i].roles & (unsigned)r->user.role)
				web_buf_printf(b, "<a href=\"%s\">%s</a>", nav[i].href,
					       T(r, nav[i].s));
		web_buf_puts(b, "</nav><div class=\"who\"><a href=\"/password\">");
		web_buf_esc(b, r->user.name);
		web_buf_printf(b, "</a> (%s) <form method=\"post\" action=\"/logout\">",
			       web_role_name(r->user.role));
		put_csrf(r);
		web_buf_printf(b, "<button>%s</button></form></div>", T(r, T_LOGOUT));
	}
	web_buf_puts(b, "</header><main><h1>");
	web_buf_esc(b, title);
	web_buf_puts(b, "</h1>");
}

static void page_end(struct web_req *r)
{
	web_buf_puts(&r->out, "</main></body></html>\n");
}

void web_page_error(struct web_req *r, int status, enum web_str s)
{
	web_buf_free(&r->out);
	r->status = status;
	page_begin(r, T(r, s));
	web_buf_printf(&r->out, "<p class=\"err\">%d</p>", status);
	page_end(r);
}

static void redirect(struct web_req *r, const char *to)
{
	r->status = 303;
	snprintf(r->location, sizeof(r->location), "%s", to);
}

void web_page_css(struct web_req *r)
{
	r->content_type = "text/css; charset=utf-8";
	web_buf_puts(
	    &r->out,
	    "body{font-family:sans-serif;margin:0;color:#111;background:#fafafa}"
	    "header{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;padding:.5em 1em;"
	    "background:#1d3557;color:#fff}header a{color:#fff}nav{display:flex;flex-wrap:wrap;"
	    "gap:.3em 1em}.who{margin-left:auto}.who form{display:inline}"
	    "main{padding:0 1em 2em;max-width:70em}h1{font-size:1.4em}h2{font-size:1.15em;"
	    "margin-top:1.5em}table{border-collapse:collapse;margin:.5em 0}"
	    "td,th{border-bottom:1px solid #ccc;padding:.25em .5em;text-align:left;"
	    "vertical-align:top}.wrap{overflow-x:auto}.gap,.err{color:#b00000;font-weight:bold}"
	    ".ok{color:#176b2c;font-weight:bold}svg.tl{width:100%;height:auto;max-width:60em}"
	    "svg.chart{width:100%;height:auto;max-width:60em}"
	    "form.filter{display:flex;flex-wrap:wrap;gap:.5em;align-items:end}"
	    "label{display:block}input,select,button{font-size:1em;padding:.3em}"
	    ".login{max-width:22em}.login input{width:100%;box-sizing:border-box}"
	    ".muted{color:#555}ol{padding-left:1.5em}tr.changed{font-weight:bold}\n");
}

/* ---- login, logout, password ---------------------------------------------------------- */

static const char *secure_attr(struct web_req *r)
{
	return r->app->tls ? "; Secure" : "";
}

static void login_form(struct web_req *r, int status, enum web_str msg)
{
	char tok[WEB_TOKEN_HEX + 1];

	web_token_new(tok);
	web_req_cookie(r, "rinki_login=%s; Path=/login; HttpOnly; SameSite=Strict%s", tok,
		       secure_attr(r));
	r->status = status;
	page_begin(r, T(r, T_LOGIN));
	if (status != 200)
		web_buf_printf(&r->out, "<p class=\"err\" id=\"login-error\">%s</p>", T(r, msg));
	web_buf_printf(&r->out,
		       "<form class=\"login\" method=\"post\" action=\"/login\">"
		       "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		       "<label>%s<input name=\"user\" id=\"user\" autocomplete=\"username\" "
		       "required maxlength=\"%d\"></label>"
		       "<label>%s<input type=\"password\" name=\"password\" id=\"password\" "
		       "autocomplete=\"current-password\" required maxlength=\"%d\"></label>"
		       "<p><button id=\"login\">%s</button></p></form>",
		       tok, T(r, T_USER), WEB_USERS_NAME_MAX, T(r, T_PASSWORD), WEB_USERS_PW_MAX,
		       T(r, T_LOGIN));
	page_end(r);
}

void web_page_login(struct web_req *r)
{
	struct web_app *app = r->app;

	if (strcmp(r->method, "GET") == 0) {
		if (r->sess)
			redirect(r, "/");
		else
			login_form(r, 200, T_LOGIN);
		return;
	}
	char held[WEB_COOKIE_VAL_MAX + 1];
	if (web_cookie_get(r->cookie_header, "rinki_login", held, sizeof(held)) < 0 ||
	    !web_token_eq(held, web_form_get(r->form, "csrf"))) {
		web_users_audit(app->users, app->now_ms(), NULL, r->ip, "csrf_refused", "/login");
		web_page_error(r, 403, T_CSRF);
		return;
	}
	if (!web_rate_take(&app->rate, r->ip, app->now_ms())) {
		web_users_audit(app->users, app->now_ms(), NULL, r->ip, "login_rate_limited", NULL);
		login_form(r, 429, T_RATE);
		return;
	}
	struct web_user u;
	const char *name = web_form_get(r->form, "user");
	int rc = web_users_login(app->users, name ? name : "", web_form_get(r->form, "password"),
				 r->ip, app->now_ms(), &u);
	if (rc < 0) {
		login_form(r, 401, T_LOGIN_FAILED);
		return;
	}
	struct web_session *s = web_session_start(&app->sessions, u.name, app->now_ms());
	web_req_cookie(r, "rinki_session=%s; Path=/; HttpOnly; SameSite=Strict%s", s->id,
		       secure_attr(r));
	web_req_cookie(r, "rinki_login=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict%s",
		       secure_attr(r));
	redirect(r, "/");
}

void web_page_logout(struct web_req *r)
{
	web_users_audit(r->app->users, r->app->now_ms(), r->user.name, r->ip, "logout", NULL);
	web_session_end(r->sess);
	r->sess = NULL;
	web_req_cookie(r, "rinki_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		       secure_attr(r));
	redirect(r, "/login");
}

void web_page_home(struct web_req *r)
{
	switch (r->user.role) {
	case WEB_ROLE_COORDINATOR:
		redirect(r, "/oncall");
		break;
	case WEB_ROLE_MANAGER:
		redirect(r, "/overview");
		break;
	default:
		redirect(r, "/system");
		break;
	}
}

void web_page_password(struct web_req *r)
{
	enum web_str msg = T_COUNT;

	if (strcmp(r->method, "POST") == 0) {
		struct web_user u;
		const char *old = web_form_get(r->form, "old"), *pw = web_form_get(r->form, "new");
		int64_t now = r->app->now_ms();
		if (web_users_password_ok(pw) &&
		    web_users_login(r->app->users, r->user.name, old, r->ip, now, &u) == 0 &&
		    web_users_passwd(r->app->users, r->user.name, pw, r->user.name, now) == 0) {
			/* every session of the account ends; this one goes on with new tokens */
			web_session_end_user(&r->app->sessions, r->user.name);
			r->sess = web_session_start(&r->app->sessions, r->user.name, now);
			web_req_cookie(r, "rinki_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
				       r->sess->id, secure_attr(r));
			msg = T_PW_CHANGED;
		} else {
			msg = T_PW_BAD;
			r->status = 400;
		}
	}
	page_begin(r, T(r, T_PASSWORD_CHANGE));
	if (msg != T_COUNT)
		web_buf_printf(&r->out, "<p class=\"%s\" id=\"msg\">%s</p>",
			       msg == T_PW_CHANGED ? "ok" : "err", T(r, msg));
	web_buf_puts(&r->out, "<form class=\"login\" method=\"post\" action=\"/password\">");
	put_csrf(r);
	web_buf_printf(&r->out,
		       "<label>%s<input type=\"password\" name=\"old\" required "
		       "autocomplete=\"current-password\"></label><label>%s<input "
		       "type=\"password\" name=\"new\" required minlength=\"%d\" maxlength=\"%d\" "
		       "autocomplete=\"new-password\"></label><p><button>%s</button></p></form>",
		       T(r, T_OLD_PW), T(r, T_NEW_PW), WEB_USERS_PW_MIN, WEB_USERS_PW_MAX,
		       T(r, T_SAVE));
	page_end(r);
}

/* ---- database access ------------------------------------------------------------------ */

/* Open rinki.db for reading through the store; on failure render the error page. */
static struct gw_db *open_db(struct web_req *r)
{
	struct gw_db *db;

	if (gw_db_open_flags(r->app->conf->db_path, GW_DB_NOCREATE, &db) < 0) {
		web_page_error(r, 503, T_DB_ERROR);
		return NULL;
	}
	return db;
}

/* ---- on call ---------------------------------------------------------------------------- */

struct seg {
	int64_t from, to;
	int n; /* workers on duty; 0: a gap; < 0: cannot tell */
	struct gw_roster_step first;
	char key[256]; /* handles on duty, in order */
};

static int duty_at(const struct gw_roster *ro, const char *line, int64_t t, struct seg *s)
{
	struct gw_roster_step steps[GW_ROSTER_CHAIN_MAX];
	int n = gw_roster_chain(ro, line, t, steps, GW_ROSTER_CHAIN_MAX);
	size_t k = 0;

	s->n = n;
	s->key[0] = '\0';
	memset(&s->first, 0, sizeof(s->first));
	if (n > 0)
		s->first = steps[0];
	for (int i = 0; i < n && k < sizeof(s->key); i++) {
		int w =
		    snprintf(s->key + k, sizeof(s->key) - k, "%s%s", i ? "," : "", steps[i].handle);
		if (w < 0)
			break;
		k += (size_t)w;
	}
	if (n < 0)
		snprintf(s->key, sizeof(s->key), "!%d", n);
	return n;
}

/*
 * Cut [from, to) into segments of unchanged duty on line: sampled every SAMPLE_MS, each
 * change then found to the minute by bisection. Returns the count (<= max).
 */
static int duty_segments(const struct gw_roster *ro, const char *line, int64_t from, int64_t to,
			 struct seg *segs, int max)
{
	int n = 0;
	struct seg cur, probe;

	duty_at(ro, line, from, &cur);
	cur.from = from;
	for (int64_t t = from + SAMPLE_MS;; t += SAMPLE_MS) {
		if (t > to)
			t = to;
		if (t < to)
			duty_at(ro, line, t, &probe);
		if (t == to || strcmp(probe.key, cur.key) != 0) {
			int64_t lo = t - SAMPLE_MS < cur.from ? cur.from : t - SAMPLE_MS, hi = t;
			if (t < to) {
				while (hi - lo > 60000) {
					int64_t mid = lo + (hi - lo) / 2 / 60000 * 60000;
					struct seg m;
					if (mid <= lo)
						mid = lo + 60000;
					duty_at(ro, line, mid, &m);
					if (strcmp(m.key, cur.key) == 0)
						lo = mid;
					else
						hi = mid;
				}
			}
			cur.to = hi;
			if (n < max)
				segs[n++] = cur;
			if (t == to)
				break;
			duty_at(ro, line, hi, &cur);
			cur.from = hi;
		}
	}
	return n;
}

static void put_step(struct web_req *r, const char *name, const char *phone, bool phones)
{
	web_buf_esc(&r->out, name);
	if (phones && phone) {
		web_buf_puts(&r->out, " <a href=\"tel:");
		web_buf_esc(&r->out, phone);
		web_buf_puts(&r->out, "\">");
		web_buf_esc(&r->out, phone);
		web_buf_puts(&r->out, "</a>");
	}
}

static const char *const palette[] = {"#457b9d", "#2a9d8f", "#6d597a",
				      "#b56576", "#588157", "#7f5539"};

static const char *seg_colour(const struct seg *s)
{
	if (s->n == 0)
		return "#d00000";
	if (s->n < 0)
		return "#999999";
	unsigned h = 5381;
	for (const char *p = s->first.handle; p && *p; p++)
		h = h * 33 + (unsigned char)*p;
	return palette[h % (sizeof(palette) / sizeof(palette[0]))];
}

/* The 14-day bar: one rect per segment (gaps red), a tick and date at each local midnight. */
static void put_timeline(struct web_req *r, const char *line, const struct seg *segs, int n,
			 int64_t from, bool names)
{
	struct web_buf *b = &r->out;
	const double w = 1000.0 / (double)HORIZON_MS;

	web_buf_puts(b, "<svg class=\"tl\" viewBox=\"0 0 1000 66\" role=\"img\" aria-label=\"");
	web_buf_esc(b, line);
	web_buf_printf(b, " %s\">", T(r, T_NEXT14));
	for (int i = 0; i < n; i++) {
		double x = (double)(segs[i].from - from) * w;
		double wd = (double)(segs[i].to - segs[i].from) * w;
		web_buf_printf(b,
			       "<rect class=\"%s\" x=\"%.2f\" y=\"4\" width=\"%.2f\" height=\"34\" "
			       "fill=\"%s\"><title>",
			       segs[i].n == 0 ? "gap" : "duty", x, wd < 0.5 ? 0.5 : wd,
			       seg_colour(&segs[i]));
		put_time(r, segs[i].from);
		web_buf_puts(b, " – ");
		put_time(r, segs[i].to);
		web_buf_puts(b, ": ");
		if (segs[i].n == 0)
			web_buf_puts(b, T(r, T_NOBODY));
		else if (names && segs[i].n > 0)
			web_buf_esc(b, segs[i].first.name);
		web_buf_puts(b, "</title></rect>");
	}
	/* local midnights */
	struct tm tm;
	local_tm(from, &tm);
	for (int d = 1; d <= 14; d++) {
		int64_t mid =
		    gw_roster_local_to_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0) +
		    d * DAY_MS;
		/* re-anchor on the local date, so a DST change does not drift the ticks */
		struct tm t2;
		local_tm(mid + 12 * 3600 * 1000LL, &t2);
		mid = gw_roster_local_to_utc(t2.tm_year + 1900, t2.tm_mon + 1, t2.tm_mday, 0);
		if (mid <= from || mid >= from + HORIZON_MS)
			continue;
		double x = (double)(mid - from) * w;
		web_buf_printf(b,
			       "<line x1=\"%.2f\" y1=\"2\" x2=\"%.2f\" y2=\"42\" stroke=\"#222\" "
			       "stroke-width=\"1.5\"/><text x=\"%.2f\" y=\"62\" font-size=\"18\" "
			       "text-anchor=\"middle\">%d.%d.</text>",
			       x, x, x, t2.tm_mday, t2.tm_mon + 1);
	}
	web_buf_puts(b, "</svg>");
}

static void put_line_oncall(struct web_req *r, const struct gw_roster *ro, const char *code,
			    int64_t now, struct seg *segs)
{
	struct web_buf *b = &r->out;
	struct gw_roster_step steps[GW_ROSTER_CHAIN_MAX];

	web_buf_puts(b, "<section class=\"line\" id=\"line-");
	web_buf_esc(b, code);
	web_buf_puts(b, "\"><h2>");
	web_buf_esc(b, code);
	web_buf_puts(b, " ");
	web_buf_esc(b, r->lang == WEB_LANG_FI ? gw_roster_line_name_fi(ro, code)
					      : gw_roster_line_name(ro, code));
	const char *temp = gw_roster_temp_at(ro, code, now);
	if (temp) {
		web_buf_printf(b, " <small>(%s ", T(r, T_TEMP));
		web_buf_esc(b, temp);
		web_buf_puts(b, ")</small>");
	}
	web_buf_printf(b, "</h2><p><strong>%s:</strong></p>", T(r, T_NOW));
	int n = gw_roster_chain(ro, code, now, steps, GW_ROSTER_CHAIN_MAX);
	if (n <= 0) {
		web_buf_printf(b, "<p class=\"gap\">%s</p>", T(r, T_NOBODY));
	} else {
		web_buf_puts(b, "<ol class=\"now\">");
		for (int i = 0; i < n; i++) {
			web_buf_puts(b, "<li>");
			put_step(r, steps[i].name, steps[i].phone, true);
			web_buf_puts(b, "</li>");
		}
		web_buf_puts(b, "</ol>");
	}
	int ns = duty_segments(ro, code, now, now + HORIZON_MS, segs, SEGS_MAX);
	web_buf_printf(b, "<p><strong>%s:</strong></p>", T(r, T_NEXT14));
	put_timeline(r, code, segs, ns, now, true);
	web_buf_printf(b,
		       WRAP "<table class=\"segs\"><tr><th>%s</th><th>%s</th>"
			    "<th>%s</th></tr>",
		       T(r, T_NEXT14), T(r, T_FROM), T(r, T_TO), T(r, T_ON_DUTY));
	for (int i = 0; i < ns; i++) {
		web_buf_printf(b, "<tr class=\"%s\"><td>", segs[i].n == 0 ? "gap" : "duty");
		put_time(r, segs[i].from);
		web_buf_puts(b, "</td><td>");
		put_time(r, segs[i].to);
		web_buf_puts(b, "</td><td>");
		if (segs[i].n == 0)
			web_buf_printf(b, "%s – %s", T(r, T_GAP), T(r, T_NOBODY));
		else if (segs[i].n < 0)
			web_buf_puts(b, "?");
		else
			put_step(r, segs[i].first.name, segs[i].first.phone, true);
		if (segs[i].n > 1)
			web_buf_printf(b, " <span class=\"muted\">+%d</span>", segs[i].n - 1);
		web_buf_puts(b, "</td></tr>");
	}
	web_buf_puts(b, "</table></div></section>");
}

/* Load the roster snapshot around now; on failure render the error page. */
static struct gw_roster *load_roster(struct web_req *r, int64_t now)
{
	struct gw_db *db = open_db(r);
	struct gw_roster *ro = NULL;

	if (!db)
		return NULL;
	int rc = gw_roster_load_at(db, now, &ro);
	gw_db_close(db);
	if (rc < 0) {
		web_page_error(r, 503, T_DB_ERROR);
		return NULL;
	}
	return ro;
}

void web_page_oncall(struct web_req *r)
{
	int64_t now = r->app->now_ms() / 60000 * 60000;
	struct gw_roster *ro = load_roster(r, now);
	if (!ro)
		return;
	struct seg *segs = malloc(sizeof(*segs) * SEGS_MAX);
	if (!segs) {
		gw_roster_free(ro);
		web_page_error(r, 500, T_DB_ERROR);
		return;
	}
	page_begin(r, T(r, T_ONCALL));
	if (gw_roster_line_count(ro) == 0)
		web_buf_printf(&r->out, "<p class=\"err\">%s</p>", T(r, T_ROSTER_EMPTY));
	for (size_t i = 0; i < gw_roster_line_count(ro); i++)
		put_line_oncall(r, ro, gw_roster_line_code(ro, i), now, segs);
	page_end(r);
	free(segs);
	gw_roster_free(ro);
}

/* ---- call log --------------------------------------------------------------------------- */

/* Parse "YYYY-MM-DD" (a real date). 0 or -EINVAL. */
static int parse_date(const char *s, int *y, int *m, int *d)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int n = -1;

	if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", y, m, d, &n) != 3 || n != 10)
		return -EINVAL;
	if (*y < 2000 || *y > 2999 || *m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1])
		return -EINVAL;
	bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
	if (*m == 2 && *d == 29 && !leap)
		return -EINVAL;
	return 0;
}

struct inc_list {
	struct inc_row {
		int64_t id, started_ms, ended_ms;
		bool ended;
		char caller[24], name[64], line[16], outcome[24], accepted[64];
	} * rows;
	size_t n, cap;
	bool oom;
};

static void collect_incident(const struct gw_db_incident *inc, void *arg)
{
	struct inc_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct inc_row *p = realloc(l->rows, cap * sizeof(*p));
		if (!p) {
			l->oom = true;
			return;
		}
		l->rows = p;
		l->cap = cap;
	}
	struct inc_row *w = &l->rows[l->n++];
	w->id = inc->id;
	w->started_ms = inc->started_ms;
	w->ended_ms = inc->ended_ms;
	w->ended = inc->ended;
	snprintf(w->caller, sizeof(w->caller), "%s", inc->caller ? inc->caller : "");
	snprintf(w->name, sizeof(w->name), "%s", inc->caller_name ? inc->caller_name : "");
	snprintf(w->line, sizeof(w->line), "%s", inc->line ? inc->line : "");
	snprintf(w->outcome, sizeof(w->outcome), "%s", inc->outcome ? inc->outcome : "");
	snprintf(w->accepted, sizeof(w->accepted), "%s", inc->accepted_by ? inc->accepted_by : "");
}

/* A <select> of the distinct values of one column (offset into inc_row), "" = all. */
static void put_select(struct web_req *r, const char *name, enum web_str label,
		       const struct inc_list *l, size_t off, const char *sel)
{
	struct web_buf *b = &r->out;
	const char *seen[64];
	int ns = 0;

	web_buf_printf(b, "<label>%s<select name=\"%s\"><option value=\"\">%s</option>",
		       T(r, label), name, T(r, T_ALL));
	if (sel && *sel)
		seen[ns++] = sel;
	for (size_t i = 0; i < l->n && ns < 64; i++) {
		const char *v = (const char *)&l->rows[i] + off;
		bool dup = !*v;
		for (int j = 0; j < ns && !dup; j++)
			dup = strcmp(seen[j], v) == 0;
		if (!dup)
			seen[ns++] = v;
	}
	for (int j = 0; j < ns; j++) {
		web_buf_puts(b, "<option");
		if (sel && strcmp(sel, seen[j]) == 0)
			web_buf_puts(b, " selected");
		web_buf_puts(b, " value=\"");
		web_buf_esc(b, seen[j]);
		web_buf_puts(b, "\">");
		web_buf_esc(b, seen[j]);
		web_buf_puts(b, "</option>");
	}
	web_buf_puts(b, "</select></label>");
}

void web_page_log(struct web_req *r)
{
	int64_t now = r->app->now_ms();
	struct tm tm;
	int fy, fm, fd, ty, tmo, td;
	char dfrom[11], dto[11];

	local_tm(now, &tm);
	ty = tm.tm_year + 1900;
	tmo = tm.tm_mon + 1;
	td = tm.tm_mday;
	local_tm(now - 6 * DAY_MS, &tm);
	fy = tm.tm_year + 1900;
	fm = tm.tm_mon + 1;
	fd = tm.tm_mday;
	const char *a_from = r->arg(r, "from"), *a_to = r->arg(r, "to");
	const char *a_line = r->arg(r, "line"), *a_out = r->arg(r, "outcome");
	if ((a_from && *a_from && parse_date(a_from, &fy, &fm, &fd) < 0) ||
	    (a_to && *a_to && parse_date(a_to, &ty, &tmo, &td) < 0) ||
	    (a_line && strlen(a_line) > 15) || (a_out && strlen(a_out) > 23)) {
		web_page_error(r, 400, T_BAD_INPUT);
		return;
	}
	int64_t from = gw_roster_local_to_utc(fy, fm, fd, 0);
	int64_t to = gw_roster_local_to_utc(ty, tmo, td, 0) + DAY_MS + 3 * 3600 * 1000LL;
	local_tm(to, &tm); /* the next local midnight after the "to" day (DST-safe) */
	to = gw_roster_local_to_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0);
	snprintf(dfrom, sizeof(dfrom), "%04d-%02d-%02d", fy, fm, fd);
	snprintf(dto, sizeof(dto), "%04d-%02d-%02d", ty, tmo, td);

	struct gw_db *db = open_db(r);
	if (!db)
		return;
	struct inc_list l = {0};
	int rc = from < to ? gw_db_incident_range(db, from, to, collect_incident, &l) : 0;
	gw_db_close(db);
	if (rc < 0 || l.oom) {
		free(l.rows);
		web_page_error(r, 503, T_DB_ERROR);
		return;
	}
	struct web_buf *b = &r->out;
	page_begin(r, T(r, T_CALLLOG));
	web_buf_printf(b,
		       "<form class=\"filter\" method=\"get\" action=\"/log\">"
		       "<label>%s<input type=\"date\" name=\"from\" value=\"%s\"></label>"
		       "<label>%s<input type=\"date\" name=\"to\" value=\"%s\"></label>",
		       T(r, T_FROM), dfrom, T(r, T_TO), dto);
	put_select(r, "line", T_LINE, &l, offsetof(struct inc_row, line), a_line);
	put_select(r, "outcome", T_OUTCOME, &l, offsetof(struct inc_row, outcome), a_out);
	web_buf_printf(b, "<button>%s</button></form>", T(r, T_FILTER));
	web_buf_printf(b,
		       WRAP "<table id=\"calls\"><tr><th>#</th><th>%s</th>"
			    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
		       T(r, T_CALLLOG), T(r, T_STARTED), T(r, T_CALLER), T(r, T_LINE),
		       T(r, T_OUTCOME), T(r, T_ACCEPTED), T(r, T_DURATION));
	int shown = 0;
	for (size_t i = l.n; i-- > 0 && shown < LOG_ROWS;) {
		const struct inc_row *w = &l.rows[i];
		if ((a_line && *a_line && strcmp(a_line, w->line) != 0) ||
		    (a_out && *a_out && strcmp(a_out, w->outcome) != 0))
			continue;
		shown++;
		web_buf_printf(b, "<tr><td><a href=\"/log/%" PRId64 "\">%" PRId64 "</a></td><td>",
			       w->id, w->id);
		put_time(r, w->started_ms);
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, w->caller);
		if (w->name[0]) {
			web_buf_puts(b, "<br><span class=\"muted\">");
			web_buf_esc(b, w->name);
			web_buf_puts(b, "</span>");
		}
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, w->line[0] ? w->line : "-");
		web_buf_printf(b, "</td><td class=\"%s\">",
			       strcmp(w->outcome, "accepted") == 0 ? "" : "outcome");
		if (w->ended)
			web_buf_esc(b, w->outcome);
		else
			web_buf_printf(b, "(%s)", T(r, T_OPEN));
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, w->accepted[0] ? w->accepted : "-");
		web_buf_puts(b, "</td><td>");
		if (w->ended)
			web_buf_printf(b, "%" PRId64 " s", (w->ended_ms - w->started_ms) / 1000);
		web_buf_puts(b, "</td></tr>");
	}
	web_buf_puts(b, "</table></div>");
	if (shown == LOG_ROWS)
		web_buf_printf(b, "<p class=\"muted\">%s</p>", T(r, T_SHOWN_MAX));
	page_end(r);
	free(l.rows);
}

struct inc_show {
	struct web_req *r;
	int64_t start;
};

static void show_incident(const struct gw_db_incident *inc, void *arg)
{
	struct inc_show *s = arg;
	struct web_req *r = s->r;
	struct web_buf *b = &r->out;

	s->start = inc->started_ms;
	web_buf_printf(b, WRAP "<table id=\"incident\"><tr><th>%s</th><td>", T(r, T_INCIDENT),
		       T(r, T_STARTED));
	put_time_full(r, inc->started_ms, true);
	web_buf_printf(b, "</td></tr><tr><th>%s</th><td>", T(r, T_DURATION));
	if (inc->ended)
		web_buf_printf(b, "%.1f s", (double)(inc->ended_ms - inc->started_ms) / 1000.0);
	else
		web_buf_printf(b, "(%s)", T(r, T_OPEN));
	web_buf_printf(b, "</td></tr><tr><th>%s</th><td>", T(r, T_CALLER));
	web_buf_esc(b, inc->caller);
	if (inc->caller_name) {
		web_buf_puts(b, " (");
		web_buf_esc(b, inc->caller_name);
		web_buf_puts(b, ")");
	}
	web_buf_printf(b, "</td></tr><tr><th>%s</th><td>", T(r, T_LINE));
	web_buf_esc(b, inc->line ? inc->line : "-");
	web_buf_printf(b, "</td></tr><tr><th>%s</th><td id=\"outcome\">", T(r, T_OUTCOME));
	web_buf_esc(b, inc->outcome ? inc->outcome : "-");
	if (inc->has_cause)
		web_buf_printf(b, " (cause %d)", inc->cause);
	web_buf_printf(b, "</td></tr><tr><th>%s</th><td>", T(r, T_ACCEPTED));
	web_buf_esc(b, inc->accepted_by ? inc->accepted_by : "-");
	web_buf_puts(b, "</td></tr></table></div>");
}

static void show_event(const struct gw_db_event *ev, void *arg)
{
	struct inc_show *s = arg;
	struct web_buf *b = &s->r->out;

	web_buf_puts(b, "<tr><td>");
	put_time_full(s->r, ev->t_ms, false);
	web_buf_printf(b, "</td><td>%+.3f</td><td>", (double)(ev->t_ms - s->start) / 1000.0);
	web_buf_esc(b, ev->kind);
	web_buf_puts(b, "</td><td>");
	if (ev->removed)
		web_buf_puts(b, "<span class=\"muted\">(retention)</span>");
	else
		web_buf_esc(b, ev->detail);
	web_buf_puts(b, "</td></tr>");
}

static void put_verify(struct web_req *r, struct gw_db *db, int64_t incident)
{
	struct web_buf *b = &r->out;
	struct gw_db_verify v;
	int rc = web_chain_verify(&r->app->chain, db, r->app->now_ms(), &v);

	if (rc < 0) {
		web_buf_printf(b, "<p class=\"err\" id=\"chain\">%s</p>", T(r, T_DB_ERROR));
		return;
	}
	if (rc == 1) {
		web_buf_printf(b, "<p class=\"err\" id=\"chain\">%s: ", T(r, T_CHAIN_BROKEN));
		if (v.bad_event)
			web_buf_printf(b, "event %" PRId64 " ", v.bad_event);
		if (v.bad_incident)
			web_buf_printf(b, "(%s %" PRId64 ")%s ", T(r, T_INCIDENT), v.bad_incident,
				       incident && v.bad_incident == incident ? " ◀" : "");
		web_buf_esc(b, v.reason);
		web_buf_puts(b, "</p>");
		return;
	}
	web_buf_printf(b,
		       "<p class=\"ok\" id=\"chain\">%s: %" PRId64 " %s, %" PRId64 " %s; %s <code>",
		       T(r, T_CHAIN_OK), v.events, T(r, T_N_EVENTS), v.incidents,
		       T(r, T_N_INCIDENTS), T(r, T_HEAD));
	for (size_t i = 0; i < 8; i++)
		web_buf_printf(b, "%02x", v.head[i]);
	web_buf_puts(b, "…</code></p>");
}

void web_page_incident(struct web_req *r)
{
	const char *p = r->path + strlen("/log/");
	char *end;
	char title[64];

	errno = 0;
	long long id = strtoll(p, &end, 10);
	if (*p < '1' || *p > '9' || *end || errno || id <= 0 || strlen(p) > 18) {
		web_page_error(r, 404, T_NOT_FOUND);
		return;
	}
	struct gw_db *db = open_db(r);
	if (!db)
		return;
	struct inc_show s = {.r = r};
	snprintf(title, sizeof(title), "%s %lld", T(r, T_INCIDENT), id);
	page_begin(r, title);
	int rc = gw_db_incident_get(db, id, show_incident, &s);
	if (rc == -ENOENT || rc < 0) {
		gw_db_close(db);
		web_page_error(r, rc == -ENOENT ? 404 : 503,
			       rc == -ENOENT ? T_NOT_FOUND : T_DB_ERROR);
		return;
	}
	web_buf_printf(&r->out,
		       "<h2>%s</h2>" WRAP "<table id=\"events\"><tr><th>%s</th><th>%s</th>"
		       "<th>%s</th><th>%s</th></tr>",
		       T(r, T_EVENTS), T(r, T_EVENTS), T(r, T_TIME), T(r, T_SINCE_START),
		       T(r, T_EVENT), T(r, T_DETAIL));
	rc = gw_db_event_list(db, id, show_event, &s);
	web_buf_puts(&r->out, "</table></div>");
	if (rc < 0)
		web_buf_printf(&r->out, "<p class=\"err\">%s</p>", T(r, T_DB_ERROR));
	put_verify(r, db, id);
	gw_db_close(db);
	page_end(r);
}

/* ---- system ----------------------------------------------------------------------------- */

/* Ask rinkid "status" on the control socket. 0 with reply filled, or -errno. */
static int ctl_status(const char *path, char *reply, size_t len)
{
	int rc = gw_ctl_client_request(path, "status", -1, reply, len, CTL_WAIT_MS);
	return rc == 0 ? 0 : rc > 0 ? -EPROTO : rc;
}

static const char *kv(const struct gw_ctl_msg *m, const char *key)
{
	const char *v = gw_ctl_msg_get(m, key);
	return v ? v : "?";
}

static void put_row(struct web_req *r, const char *head, const struct gw_ctl_msg *m,
		    const char *const *keys)
{
	web_buf_puts(&r->out, "<tr><th>");
	web_buf_esc(&r->out, head);
	web_buf_puts(&r->out, "</th><td>");
	for (int i = 0; keys[i]; i++) {
		if (i)
			web_buf_puts(&r->out, ", ");
		web_buf_esc(&r->out, strchr(keys[i], '.') ? strchr(keys[i], '.') + 1 : keys[i]);
		web_buf_puts(&r->out, " ");
		const char *v = kv(m, keys[i]);
		bool bad = (strstr(keys[i], "ready") || strstr(keys[i], "port_up") ||
			    !strcmp(keys[i], "io.up")) &&
			   strcmp(v, "yes") != 0;
		if (bad)
			web_buf_puts(&r->out, "<span class=\"err\">");
		web_buf_esc(&r->out, v[0] ? v : "-");
		if (bad)
			web_buf_puts(&r->out, "</span>");
	}
	web_buf_puts(&r->out, "</td></tr>");
}

/* rinkid's uptime as "3 d 4 h", "2 h 05 min" or "4 min 09 s" (as rinkictl status). */
static void put_uptime(struct web_req *r, const char *v)
{
	char *end;
	long long t = strtoll(v, &end, 10);

	web_buf_puts(&r->out, "<tr><th>uptime</th><td>");
	if (*end || t < 0)
		web_buf_esc(&r->out, v);
	else if (t >= 86400)
		web_buf_printf(&r->out, "%lld d %lld h", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		web_buf_printf(&r->out, "%lld h %02lld min", t / 3600, t % 3600 / 60);
	else
		web_buf_printf(&r->out, "%lld min %02lld s", t / 60, t % 60);
	web_buf_puts(&r->out, "</td></tr>");
}

void web_page_system(struct web_req *r)
{
	static char reply[RINKI_CTL_REPLY_MAX + 1];
	static struct gw_ctl_msg m;
	char err[160];
	struct web_buf *b = &r->out;

	page_begin(r, T(r, T_SYSTEM));
	int rc = ctl_status(r->app->conf->ctl_socket, reply, sizeof(reply));
	if (rc == 0 && gw_ctl_parse(reply, strlen(reply), &m, err, sizeof(err)) < 0)
		rc = -EPROTO;
	if (rc < 0) {
		web_buf_printf(b, "<p class=\"err\" id=\"rinkid\">%s (", T(r, T_RINKID_DOWN));
		web_buf_esc(b, r->app->conf->ctl_socket);
		web_buf_printf(b, ": %s)</p>", strerror(-rc));
	} else {
		static const char *const k_main[] = {"version", "proto", NULL};
		static const char *const k_radio[] = {
		    "radio.port_up",  "radio.ready",	  "radio.reg", "radio.rssi_dbm",
		    "radio.identity", "radio.live_calls", NULL};
		static const char *const k_modem[] = {
		    "modem.port_up", "modem.ready",	 "modem.sim",
		    "modem.reg",     "modem.operator",	 "modem.rssi_dbm",
		    "modem.call",    "modem.recoveries", NULL};
		static const char *const k_io[] = {
		    "io.present", "io.up",    "io.board",    "io.fw",	      "io.squelch",
		    "io.ptt",	  "io.polls", "io.failures", "io.last_error", NULL};
		static const char *const k_call[] = {"call.live", "call.id", "call.state", NULL};
		static const char *const k_cb[] = {"callback.live", "callback.id", "callback.state",
						   "callback.worker", NULL};
		static const char *const k_cb_agg[] = {"callback.live", "callback.state", NULL};
		static const char *const k_db[] = {"db.spooling", NULL};
		static const char *const k_cnt[] = {"counters.incidents",
						    "counters.pages",
						    "counters.sms_out",
						    "counters.sms_in",
						    "counters.sds_out",
						    "counters.sds_in",
						    NULL};
		static const char *const k_ctl[] = {"ctl.clients", "ctl.requests", "ctl.denied",
						    "ctl.dropped", NULL};
		web_buf_printf(b, WRAP "<table id=\"status\">", T(r, T_SYSTEM));
		put_row(r, "rinkid", &m, k_main);
		put_uptime(r, kv(&m, "uptime_s"));
		put_row(r, T(r, T_RADIO), &m, k_radio);
		put_row(r, T(r, T_MODEM), &m, k_modem);
		put_row(r, T(r, T_BOARD), &m, k_io);
		put_row(r, T(r, T_INCIDENT), &m, k_call);
		put_row(r, "call-back", &m, r->user.role == WEB_ROLE_MANAGER ? k_cb_agg : k_cb);
		put_row(r, T(r, T_DATABASE), &m, k_db);
		put_row(r, T(r, T_COUNTERS), &m, k_cnt);
		put_row(r, "ctl", &m, k_ctl);
		web_buf_puts(b, "</table></div>");
	}
	struct gw_db *db;
	if (gw_db_open_flags(r->app->conf->db_path, GW_DB_NOCREATE, &db) == 0) {
		put_verify(r, db, 0);
		gw_db_close(db);
	} else {
		web_buf_printf(b, "<p class=\"err\" id=\"chain\">%s</p>", T(r, T_DB_ERROR));
	}
	page_end(r);
}

/* ---- overview (aggregates) ---------------------------------------------------------------- */

static void report_row(const struct gw_db_report_row *row, void *arg)
{
	struct web_req *r = arg;
	struct web_buf *b = &r->out;

	web_buf_puts(b, "<tr><td>");
	web_buf_esc(b, row->line[0] ? row->line : "-");
	web_buf_printf(b,
		       "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
		       "</td><td>%" PRId64 "</td><td%s>%" PRId64 "</td></tr>",
		       row->calls, row->answered, row->answered_within, row->escalated,
		       row->unanswered ? " class=\"gap\"" : "", row->unanswered);
}

void web_page_overview(struct web_req *r)
{
	int64_t now = r->app->now_ms() / 60000 * 60000;
	struct gw_roster *ro = load_roster(r, now);
	if (!ro)
		return;
	struct gw_db *db = open_db(r);
	struct seg *segs = malloc(sizeof(*segs) * SEGS_MAX);
	if (!db || !segs) {
		free(segs);
		gw_roster_free(ro);
		if (db) {
			gw_db_close(db);
			web_page_error(r, 500, T_DB_ERROR);
		}
		return;
	}
	struct web_buf *b = &r->out;
	page_begin(r, T(r, T_OVERVIEW));
	web_buf_printf(b,
		       "<h2>%s</h2>" WRAP "<table id=\"report\"><tr><th>%s</th>"
		       "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
		       T(r, T_LAST30), T(r, T_LAST30), T(r, T_LINE), T(r, T_CALLS),
		       T(r, T_ANSWERED), T(r, T_WITHIN60), T(r, T_ESCALATED), T(r, T_UNANSWERED));
	int rc = gw_db_report(db, now - 30 * DAY_MS, now + 60000, 60000, report_row, r);
	web_buf_puts(b, "</table></div>");
	if (rc < 0)
		web_buf_printf(b, "<p class=\"err\">%s</p>", T(r, T_DB_ERROR));
	web_buf_printf(b,
		       "<h2>%s</h2>" WRAP "<table id=\"coverage\"><tr><th>%s</th>"
		       "<th>%%</th><th>%s</th></tr>",
		       T(r, T_COVERAGE), T(r, T_COVERAGE), T(r, T_LINE), T(r, T_GAP_HOURS));
	for (size_t i = 0; i < gw_roster_line_count(ro); i++) {
		const char *code = gw_roster_line_code(ro, i);
		int n = duty_segments(ro, code, now, now + HORIZON_MS, segs, SEGS_MAX);
		int64_t gap = 0;
		for (int k = 0; k < n; k++)
			if (segs[k].n == 0)
				gap += segs[k].to - segs[k].from;
		web_buf_puts(b, "<tr><td>");
		web_buf_esc(b, code);
		web_buf_printf(b, "</td><td>%.1f</td><td%s>%.1f</td></tr>",
			       100.0 * (double)(HORIZON_MS - gap) / (double)HORIZON_MS,
			       gap ? " class=\"gap\"" : "", (double)gap / 3600000.0);
		web_buf_puts(b, "<tr><td colspan=\"3\">");
		for (int k = 0; k < n; k++) /* names are not shown to managers: gaps only */
			segs[k].first.name = NULL;
		put_timeline(r, code, segs, n, now, false);
		web_buf_puts(b, "</td></tr>");
	}
	web_buf_puts(b, "</table></div>");
	page_end(r);
	free(segs);
	gw_db_close(db);
	gw_roster_free(ro);
}

/* ---- report (aggregates and charts) ------------------------------------------------------ */

#define REPORT_DAYS_MAX 1100 /* about three years on one page */

/* Parse "YYYY-MM" (a real month). 0 or -EINVAL. */
static int parse_month(const char *s, int *y, int *m)
{
	int n = -1;

	if (!s || strlen(s) != 7 || sscanf(s, "%4d-%2d%n", y, m, &n) != 2 || n != 7 || s[4] != '-')
		return -EINVAL;
	return *y < 2000 || *y > 2999 || *m < 1 || *m > 12 ? -EINVAL : 0;
}

/*
 * The report's range from the query: month=YYYY-MM, or from=YYYY-MM-DD and to=YYYY-MM-DD
 * (both days included), or the current local month. Local midnights, DST-safe. 0, or
 * -EINVAL for a malformed, reversed or too long range. label gets "YYYY-MM" or "D1_D2".
 */
static int report_range(struct web_req *r, int64_t *from, int64_t *to, char *dfrom, char *dto)
{
	const char *a_month = r->arg(r, "month"), *a_from = r->arg(r, "from"),
		   *a_to = r->arg(r, "to");
	int fy, fm, fd = 1, ty, tmo, td;
	struct tm tm;

	local_tm(r->app->now_ms(), &tm);
	fy = tm.tm_year + 1900;
	fm = tm.tm_mon + 1;
	if (a_month && *a_month) {
		if ((a_from && *a_from) || (a_to && *a_to) || parse_month(a_month, &fy, &fm) < 0)
			return -EINVAL;
	} else if ((a_from && *a_from) || (a_to && *a_to)) {
		if (parse_date(a_from, &fy, &fm, &fd) < 0 || parse_date(a_to, &ty, &tmo, &td) < 0)
			return -EINVAL;
		*from = gw_roster_local_to_utc(fy, fm, fd, 0);
		local_tm(gw_roster_local_to_utc(ty, tmo, td, 0) + DAY_MS + 3 * 3600 * 1000LL, &tm);
		*to = gw_roster_local_to_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0);
		goto check;
	}
	*from = gw_roster_local_to_utc(fy, fm, 1, 0);
	*to = gw_roster_local_to_utc(fm == 12 ? fy + 1 : fy, fm == 12 ? 1 : fm + 1, 1, 0);
	local_tm(*to - DAY_MS / 2, &tm);
	ty = tm.tm_year + 1900;
	tmo = tm.tm_mon + 1;
	td = tm.tm_mday;
check:
	if (*to <= *from || *to - *from > REPORT_DAYS_MAX * DAY_MS)
		return -EINVAL;
	snprintf(dfrom, 11, "%04d-%02d-%02d", fy, fm, fd);
	snprintf(dto, 11, "%04d-%02d-%02d", ty, tmo, td);
	return 0;
}

/* Build the report of the query's range; on failure render the error page. */
static struct gw_report *report_for(struct web_req *r, char *dfrom, char *dto)
{
	int64_t from, to;
	struct gw_report *rep;

	if (report_range(r, &from, &to, dfrom, dto) < 0) {
		web_page_error(r, 400, T_BAD_INPUT);
		return NULL;
	}
	struct gw_db *db = open_db(r);
	if (!db)
		return NULL;
	int rc = gw_report_build(db, from, to, 60000, &rep);
	gw_db_close(db);
	if (rc < 0) {
		web_page_error(r, 503, T_DB_ERROR);
		return NULL;
	}
	return rep;
}

static void svg_begin(struct web_req *r, const char *id, int h, enum web_str label)
{
	web_buf_printf(&r->out,
		       "<h2>%s</h2><svg class=\"chart\" id=\"%s\" viewBox=\"0 0 1000 %d\" "
		       "role=\"img\" aria-label=\"%s\">",
		       T(r, label), id, h, T(r, label));
}

/* One bar (only for n > 0) of class "bar" and more (may be ""), its colour and tooltip. */
static void svg_bar_as(struct web_req *r, double x, double y, double w, double h, int64_t n,
		       const char *what, const char *cls, const char *fill)
{
	if (n <= 0)
		return;
	web_buf_printf(&r->out,
		       "<rect class=\"bar%s%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
		       "height=\"%.2f\" fill=\"%s\"><title>",
		       *cls ? " " : "", cls, x, y, w < 0.5 ? 0.5 : w, h, fill);
	web_buf_esc(&r->out, what);
	web_buf_printf(&r->out, ": %" PRId64 "</title></rect>", n);
}

/* One bar (only for n > 0) with its tooltip; (x, y) the top left. */
static void svg_bar(struct web_req *r, double x, double y, double w, double h, int64_t n,
		    const char *what)
{
	svg_bar_as(r, x, y, w, h, n, what, "", "#457b9d");
}

static int64_t max_of(const int64_t *v, size_t n)
{
	int64_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* Calls per local day: a bar per day with calls, the date under each month's first day. */
static void chart_days(struct web_req *r, const struct gw_report *rep)
{
	const double x0 = 40, w = 950.0 / (double)rep->n_days, base = 170;
	int64_t top = max_of(rep->per_day, rep->n_days);

	svg_begin(r, "chart-days", 200, T_PER_DAY);
	web_buf_printf(&r->out,
		       "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"990\" y2=\"%.0f\" stroke=\"#222\"/>"
		       "<text x=\"0\" y=\"20\" font-size=\"16\">%" PRId64 "</text>",
		       x0, base, base, top);
	for (size_t i = 0; i < rep->n_days; i++) {
		time_t t = (time_t)((rep->day0 + (int64_t)i) * 86400);
		struct tm tm;
		char what[32];
		gmtime_r(&t, &tm);
		snprintf(what, sizeof(what), "%d.%d.%d", tm.tm_mday, tm.tm_mon + 1,
			 tm.tm_year + 1900);
		double h = top ? 150.0 * (double)rep->per_day[i] / (double)top : 0;
		svg_bar(r, x0 + w * (double)i + w * 0.1, base - h, w * 0.8, h, rep->per_day[i],
			what);
		if (i == 0 || tm.tm_mday == 1 || (rep->n_days <= 62 && tm.tm_wday == 1))
			web_buf_printf(&r->out,
				       "<text x=\"%.2f\" y=\"192\" font-size=\"14\">%d.%d.</text>",
				       x0 + w * (double)i, tm.tm_mday, tm.tm_mon + 1);
	}
	web_buf_puts(&r->out, "</svg>");
}

/* Weekday (Monday first) x hour: 168 cells, darker for more calls. */
static void chart_heatmap(struct web_req *r, const struct gw_report *rep)
{
	int64_t top = 0;
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			if (rep->week[d][h].f.calls > top)
				top = rep->week[d][h].f.calls;

	svg_begin(r, "chart-heatmap", 250, T_HEATMAP);
	for (int row = 0; row < 7; row++) {
		int wd = (row + 1) % 7;
		web_buf_printf(&r->out, "<text x=\"0\" y=\"%d\" font-size=\"16\">%s</text>",
			       row * 30 + 22, wdays[r->lang][wd]);
		for (int h = 0; h < 24; h++) {
			int64_t n = rep->week[row][h].f.calls; /* week: 0 Monday */
			web_buf_printf(&r->out,
				       "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"38\" "
				       "height=\"28\" fill=\"%s\" fill-opacity=\"%.2f\"><title>%s "
				       "%02d–%02d: %" PRId64 "</title></rect>",
				       50 + h * 39, row * 30, n ? "#1d3557" : "#dddddd",
				       n && top ? 0.15 + 0.85 * (double)n / (double)top : 1.0,
				       wdays[r->lang][wd], h, h + 1, n);
		}
	}
	for (int h = 0; h < 24; h += 3)
		web_buf_printf(&r->out, "<text x=\"%d\" y=\"240\" font-size=\"16\">%02d</text>",
			       52 + h * 39, h);
	web_buf_puts(&r->out, "</svg>");
}

/* Accepted calls per time-to-accept bin. */
static void chart_accept(struct web_req *r, const struct gw_report *rep)
{
	const double w = 95, base = 170;
	int64_t top = max_of(rep->acc_bins, GW_REPORT_ACC_BINS);

	svg_begin(r, "chart-accept", 200, T_ACCEPT_DIST);
	web_buf_printf(&r->out,
		       "<line x1=\"40\" y1=\"170\" x2=\"990\" y2=\"170\" stroke=\"#222\"/>"
		       "<text x=\"0\" y=\"20\" font-size=\"16\">%" PRId64 "</text>",
		       top);
	for (int i = 0; i < GW_REPORT_ACC_BINS; i++) {
		char what[32];
		if (i == GW_REPORT_ACC_BINS - 1)
			snprintf(what, sizeof(what), "> %" PRId64 " s",
				 gw_report_acc_upper_ms[i - 1] / 1000);
		else
			snprintf(what, sizeof(what), "≤ %" PRId64 " s",
				 gw_report_acc_upper_ms[i] / 1000);
		double h = top ? 150.0 * (double)rep->acc_bins[i] / (double)top : 0;
		svg_bar(r, 45 + w * i, base - h, w * 0.8, h, rep->acc_bins[i], what);
		web_buf_puts(&r->out, "<text x=\"");
		web_buf_printf(&r->out, "%.0f\" y=\"192\" font-size=\"15\">", 45 + w * i);
		web_buf_esc(&r->out, what);
		web_buf_puts(&r->out, "</text>");
	}
	web_buf_puts(&r->out, "</svg>");
}

/* Who took the calls: first worker, a later step, the fallback, nobody (horizontal bars). */
static void chart_who(struct web_req *r, const struct gw_report *rep)
{
	const struct gw_report_figures *f = &rep->total;
	const int64_t v[4] = {f->by_first, f->by_later, f->by_fallback, f->by_nobody};
	const enum web_str s[4] = {T_BY_FIRST, T_BY_LATER, T_BY_FALLBACK, T_BY_NOBODY};
	int64_t top = max_of(v, 4);

	svg_begin(r, "chart-who", 170, T_WHO_TOOK);
	for (int i = 0; i < 4; i++) {
		double len = top ? 700.0 * (double)v[i] / (double)top : 0;
		web_buf_printf(&r->out, "<text x=\"0\" y=\"%d\" font-size=\"18\">%s</text>",
			       i * 40 + 26, T(r, s[i]));
		svg_bar(r, 220, i * 40 + 6, len, 28, v[i], T(r, s[i]));
		web_buf_printf(&r->out,
			       "<text x=\"%.0f\" y=\"%d\" font-size=\"18\">%" PRId64 "</text>",
			       228 + len, i * 40 + 26, v[i]);
	}
	web_buf_puts(&r->out, "</svg>");
}

/*
 * Calls per municipality (the callers' directory entries): a horizontal bar for each with
 * calls, coloured and classed by membership (member, contract, none), named in its tooltip.
 */
static void chart_munis(struct web_req *r, const struct gw_report *rep)
{
	static const struct {
		const char *cls, *fill;
		enum web_str name;
	} kind[3] = {{"member", "#457b9d", T_MEMBER_MUNI},
		     {"contract", "#e76f51", T_CONTRACT_MUNI},
		     {"none", "#8d99ae", T_NO_MUNI}};
	int64_t top = 0;
	int rows = 0;
	for (size_t i = 0; i < rep->n_munis; i++)
		if (rep->munis[i].f.calls > 0) {
			rows++;
			if (rep->munis[i].f.calls > top)
				top = rep->munis[i].f.calls;
		}

	svg_begin(r, "chart-munis", 40 + rows * 40, T_PER_MUNI);
	for (int k = 0; k < 3; k++) {
		web_buf_printf(&r->out,
			       "<rect x=\"%d\" y=\"4\" width=\"18\" height=\"18\" "
			       "fill=\"%s\"/><text x=\"%d\" y=\"20\" font-size=\"16\">%s</text>",
			       k * 300, kind[k].fill, k * 300 + 24, T(r, kind[k].name));
	}
	/* by name ("" sorts first), the callers without a municipality last */
	size_t first = rep->n_munis && !rep->munis[0].key[0] ? 1 : 0;
	int row = 0;
	for (size_t j = 0; j < rep->n_munis; j++) {
		const struct gw_report_group *g = &rep->munis[(first + j) % rep->n_munis];
		if (g->f.calls <= 0)
			continue;
		int k = !g->key[0]						? 2
			: g->membership && strcmp(g->membership, "member") == 0 ? 0
										: 1;
		char what[200];
		if (k == 2)
			snprintf(what, sizeof(what), "%s", T(r, T_NO_MUNI));
		else
			snprintf(what, sizeof(what), "%s (%s)", g->key, T(r, kind[k].name));
		double len = 700.0 * (double)g->f.calls / (double)top;
		int y = 40 + row * 40;
		web_buf_printf(&r->out, "<text x=\"0\" y=\"%d\" font-size=\"18\">", y + 20);
		web_buf_esc(&r->out, k == 2 ? "–" : g->key);
		web_buf_puts(&r->out, "</text>");
		svg_bar_as(r, 220, y, len, 28, g->f.calls, what, kind[k].cls, kind[k].fill);
		web_buf_printf(&r->out,
			       "<text x=\"%.0f\" y=\"%d\" font-size=\"18\">%" PRId64 "</text>",
			       228 + len, y + 20, g->f.calls);
		row++;
	}
	web_buf_puts(&r->out, "</svg>");
}

static void put_secs(struct web_req *r, int64_t ms)
{
	if (ms < 0)
		web_buf_puts(&r->out, "–");
	else
		web_buf_printf(&r->out, "%.1f s", (double)ms / 1000.0);
}

void web_page_report(struct web_req *r)
{
	char dfrom[11], dto[11];
	struct gw_report *rep = report_for(r, dfrom, dto);
	if (!rep)
		return;
	struct web_buf *b = &r->out;
	const struct gw_report_figures *t = &rep->total;
	const char *a_month = r->arg(r, "month");

	page_begin(r, T(r, T_REPORT));
	web_buf_printf(b,
		       "<form class=\"filter\" method=\"get\" action=\"/report\">"
		       "<label>%s<input type=\"month\" name=\"month\" value=\"%.7s\"></label>"
		       "<button>%s</button></form>"
		       "<form class=\"filter\" method=\"get\" action=\"/report\">"
		       "<label>%s<input type=\"date\" name=\"from\" value=\"%s\"></label>"
		       "<label>%s<input type=\"date\" name=\"to\" value=\"%s\"></label>"
		       "<button>%s</button></form>",
		       T(r, T_MONTH), dfrom, T(r, T_SHOW), T(r, T_FROM), dfrom, T(r, T_TO), dto,
		       T(r, T_SHOW));
	if (a_month && *a_month)
		web_buf_printf(b, "<p><a id=\"csv\" href=\"/report.csv?month=%.7s\">%s</a></p>",
			       dfrom, T(r, T_CSV));
	else
		web_buf_printf(b,
			       "<p><a id=\"csv\" href=\"/report.csv?from=%s&amp;to=%s\">%s</a></p>",
			       dfrom, dto, T(r, T_CSV));
	bool ok = gw_report_balanced(rep);
	web_buf_printf(b, "<p class=\"%s\" id=\"check\">%s: %" PRId64 "/%" PRId64 "</p>",
		       ok ? "ok" : "err", T(r, ok ? T_CHECK_OK : T_CHECK_BAD),
		       gw_report_counted(rep), rep->in_range);
	web_buf_printf(b,
		       WRAP "<table id=\"totals\"><tr><th>%s</th><td>%" PRId64 "</td></tr>"
			    "<tr><th>%s</th><td>%" PRId64 "</td></tr>"
			    "<tr><th>%s</th><td>%" PRId64 "</td></tr>"
			    "<tr><th>%s</th><td>%" PRId64 "</td></tr>"
			    "<tr><th>%s</th><td>%" PRId64 "</td></tr><tr><th>%s</th><td>",
		       T(r, T_TOTAL), T(r, T_CALLS), t->calls, T(r, T_UNANSWERED),
		       t->unanswered + t->unstaffed, T(r, T_WITHIN60), t->accepted_within,
		       T(r, T_TEXTS), t->texts, T(r, T_STATUSES), t->statuses, T(r, T_ACCEPT_P50));
	put_secs(r, t->accept_p50);
	web_buf_printf(b, "</td></tr><tr><th>%s</th><td>", T(r, T_ACCEPT_P90));
	put_secs(r, t->accept_p90);
	web_buf_puts(b, "</td></tr></table></div>");
	chart_days(r, rep);
	chart_heatmap(r, rep);
	chart_accept(r, rep);
	chart_who(r, rep);
	chart_munis(r, rep);
	web_buf_printf(b,
		       "<h2>%s</h2>" WRAP "<table id=\"lines\"><tr><th>%s</th><th>%s</th>"
		       "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
		       T(r, T_PER_LINE), T(r, T_PER_LINE), T(r, T_LINE), T(r, T_CALLS),
		       T(r, T_WITHIN60), T(r, T_UNANSWERED), T(r, T_ACCEPT_P50),
		       T(r, T_ACCEPT_P90));
	for (size_t i = 0; i < rep->n_lines; i++) {
		const struct gw_report_figures *f = &rep->lines[i].f;
		if (!f->calls)
			continue;
		web_buf_puts(b, "<tr><td>");
		web_buf_esc(b, rep->lines[i].key[0] ? rep->lines[i].key : "-");
		web_buf_printf(
		    b, "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td%s>%" PRId64 "</td><td>",
		    f->calls, f->accepted_within,
		    f->unanswered + f->unstaffed ? " class=\"gap\"" : "",
		    f->unanswered + f->unstaffed);
		put_secs(r, f->accept_p50);
		web_buf_puts(b, "</td><td>");
		put_secs(r, f->accept_p90);
		web_buf_puts(b, "</td></tr>");
	}
	web_buf_puts(b, "</table></div>");
	if (!t->calls)
		web_buf_printf(b, "<p class=\"muted\">%s</p>", T(r, T_NO_CALLS));
	page_end(r);
	gw_report_free(rep);
}

void web_page_report_csv(struct web_req *r)
{
	char dfrom[11], dto[11], *data = NULL;
	size_t len = 0;
	struct gw_report *rep = report_for(r, dfrom, dto);
	if (!rep)
		return;
	FILE *f = open_memstream(&data, &len);
	int rc = f ? gw_report_write(rep, NULL, GW_REPORT_CSV, f) : -ENOMEM;
	if (f)
		fclose(f);
	gw_report_free(rep);
	if (rc < 0 || !data) {
		free(data);
		web_page_error(r, 500, T_DB_ERROR);
		return;
	}
	web_buf_putn(&r->out, data, len);
	free(data);
	r->content_type = "text/csv; charset=utf-8";
	snprintf(r->filename, sizeof(r->filename), "rinki-report-%s-%s.csv", dfrom, dto);
}

/* ---- roster: upload with preview and apply, download, overrides, workers ----------------- */

/* The roster tables as stored (lines, workers, overrides); on failure the error page. */
static int read_roster(struct web_req *r, struct gw_db_roster *d)
{
	struct gw_db *db = open_db(r);
	if (!db)
		return -EIO;
	int rc = gw_db_roster_read(db, d);
	gw_db_close(db);
	if (rc < 0)
		web_page_error(r, 503, T_DB_ERROR);
	return rc;
}

static bool has_line(const struct gw_db_roster *d, const char *code)
{
	for (size_t i = 0; code && i < d->n_lines; i++)
		if (strcmp(d->lines[i].code, code) == 0)
			return true;
	return false;
}

static const struct gw_db_worker *find_worker(const struct gw_db_roster *d, const char *h)
{
	for (size_t i = 0; h && i < d->n_workers; i++)
		if (strcmp(d->workers[i].handle, h) == 0)
			return &d->workers[i];
	return NULL;
}

/* "YYYY-MM-DD HH:MM EET" (local, with its zone) of t_ms. */
static void put_local(struct web_req *r, int64_t t_ms)
{
	char c[48];
	gw_roster_format_clock(t_ms, GW_CLOCK_MIN, c, sizeof(c));
	web_buf_esc(&r->out, c);
}

/* Append " key=<value percent-encoded>" to a request line; false when it does not fit. */
static bool ctl_arg(char *line, size_t len, const char *key, const char *value)
{
	char enc[RINKI_CTL_REQ_MAX];
	size_t n = strlen(line);
	if (gw_ctl_encode(enc, sizeof(enc), value) < 0)
		return false;
	int w = snprintf(line + n, len - n, " %s=%s", key, enc);
	return w > 0 && (size_t)w < len - n;
}

/* Ask rinkid; on a refused connection say so on the page. Returns web_admin_request's. */
static int admin(struct web_req *r, const char *line, int fd, char *reply, size_t len)
{
	int rc =
	    web_admin_request(r->app->conf->ctl_socket, line, fd, reply, len, WEB_ADMIN_WAIT_MS);
	web_users_audit(r->app->users, r->app->now_ms(), r->user.name, r->ip,
			rc == 0 ? "change" : "change_failed", line);
	return rc;
}

/* The outcome of a change: ok, rinkid's error text, or why rinkid was not reached. */
static void put_outcome(struct web_req *r, int rc, const char *reply)
{
	struct web_buf *b = &r->out;
	if (rc < 0) {
		web_buf_printf(b, "<p class=\"err\" id=\"result\">%s (", T(r, T_RINKID_DOWN));
		web_buf_esc(b, strerror(-rc));
		web_buf_puts(b, ")</p>");
		r->status = 503;
	} else if (rc == 1) {
		web_buf_printf(b, "<p class=\"err\" id=\"result\">%s: ", T(r, T_REFUSED));
		web_buf_esc(b, web_admin_final(reply));
		web_buf_puts(b, "</p>");
		r->status = 409;
	} else {
		web_buf_printf(b, "<p class=\"ok\" id=\"result\">%s</p>", T(r, T_DONE));
	}
	web_buf_printf(b, "<p><a href=\"/roster\">%s</a></p>", T(r, T_ROSTER));
}

static void put_line_options(struct web_req *r, const struct gw_db_roster *d)
{
	for (size_t i = 0; i < d->n_lines; i++) {
		web_buf_puts(&r->out, "<option value=\"");
		web_buf_esc(&r->out, d->lines[i].code);
		web_buf_puts(&r->out, "\">");
		web_buf_esc(&r->out, d->lines[i].code);
		web_buf_puts(&r->out, " ");
		web_buf_esc(&r->out, r->lang == WEB_LANG_FI   ? d->lines[i].name_fi
				     : r->lang == WEB_LANG_SV ? d->lines[i].name_sv
							      : d->lines[i].name_en);
		web_buf_puts(&r->out, "</option>");
	}
}

void web_page_roster(struct web_req *r)
{
	struct gw_db_roster d;
	if (read_roster(r, &d) < 0)
		return;
	struct web_buf *b = &r->out;
	page_begin(r, T(r, T_ROSTER));
	/* upload */
	web_buf_printf(b,
		       "<h2>%s</h2><form class=\"filter\" id=\"upload\" method=\"post\" "
		       "action=\"/roster/upload\" enctype=\"multipart/form-data\">",
		       T(r, T_UPLOAD));
	put_csrf(r);
	web_buf_printf(b,
		       "<label>%s<input type=\"file\" name=\"roster\" id=\"roster-file\" "
		       "accept=\".csv,text/csv\" required></label><label><input type=\"checkbox\" "
		       "name=\"replace\" value=\"1\"> %s</label><button>%s</button></form>"
		       "<p><a id=\"download\" href=\"/roster.csv\">%s</a></p>",
		       T(r, T_CSV_FILE), T(r, T_REPLACE_MANUAL), T(r, T_PREVIEW), T(r, T_DOWNLOAD));
	/* overrides */
	web_buf_printf(b,
		       "<h2>%s</h2>" WRAP "<table id=\"overrides\"><tr><th>#</th><th>%s</th>"
		       "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
		       T(r, T_OVERRIDES), T(r, T_OVERRIDES), T(r, T_KIND), T(r, T_LINE),
		       T(r, T_WORKER), T(r, T_FROM), T(r, T_TO), T(r, T_REMOVE));
	for (size_t i = 0; i < d.n_overrides; i++) {
		const struct gw_db_override *o = &d.overrides[i];
		web_buf_printf(b, "<tr><td>%" PRId64 "</td><td>", o->id);
		web_buf_esc(b, o->kind);
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, o->line ? o->line : "*");
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, o->worker);
		if (o->by) {
			web_buf_puts(b, " → ");
			web_buf_esc(b, o->by);
		}
		web_buf_puts(b, "</td><td>");
		put_local(r, o->start_ms);
		web_buf_puts(b, "</td><td>");
		put_local(r, o->end_ms);
		web_buf_puts(b, "</td><td>");
		if (o->manual) {
			web_buf_puts(b, "<form method=\"post\" action=\"/roster/override-del\">");
			put_csrf(r);
			web_buf_printf(b,
				       "<input type=\"hidden\" name=\"id\" value=\"%" PRId64
				       "\"><button aria-label=\"%s %" PRId64
				       "\">%s</button></form>",
				       o->id, T(r, T_REMOVE), o->id, T(r, T_REMOVE));
		}
		web_buf_puts(b, "</td></tr>");
	}
	web_buf_puts(b, "</table></div>");
	web_buf_printf(b,
		       "<h3>%s</h3><form class=\"filter\" id=\"override-add\" method=\"post\" "
		       "action=\"/roster/override\">",
		       T(r, T_OVERRIDE_ADD));
	put_csrf(r);
	web_buf_printf(b, "<label>%s<select name=\"line\" required>", T(r, T_LINE));
	put_line_options(r, &d);
	web_buf_printf(b, "</select></label><label>%s<select name=\"worker\" required>",
		       T(r, T_WORKER));
	for (size_t i = 0; i < d.n_workers; i++) {
		web_buf_puts(b, "<option value=\"");
		web_buf_esc(b, d.workers[i].handle);
		web_buf_puts(b, "\">");
		web_buf_esc(b, d.workers[i].name);
		web_buf_puts(b, "</option>");
	}
	web_buf_printf(b,
		       "</select></label><label>%s<select name=\"kind\"><option value=\"add\">"
		       "%s</option><option value=\"replace\">%s</option><option "
		       "value=\"remove\">%s</option></select></label><label>%s<select "
		       "name=\"by_worker\"><option value=\"\">–</option>",
		       T(r, T_KIND), T(r, T_KIND_ADD), T(r, T_KIND_REPLACE), T(r, T_KIND_REMOVE),
		       T(r, T_BY_WORKER));
	for (size_t i = 0; i < d.n_workers; i++) {
		web_buf_puts(b, "<option value=\"");
		web_buf_esc(b, d.workers[i].handle);
		web_buf_puts(b, "\">");
		web_buf_esc(b, d.workers[i].name);
		web_buf_puts(b, "</option>");
	}
	web_buf_printf(b,
		       "</select></label><label>%s<input type=\"datetime-local\" name=\"from\" "
		       "required></label><label>%s<input type=\"datetime-local\" name=\"to\" "
		       "required></label><label>%s<input name=\"reason\" maxlength=\"120\">"
		       "</label><button>%s</button></form>",
		       T(r, T_FROM), T(r, T_TO), T(r, T_REASON), T(r, T_NEXT));
	/* workers */
	web_buf_printf(b,
		       "<h2>%s</h2><p class=\"muted\">%s</p>" WRAP "<table id=\"workers\"><tr>"
		       "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
		       T(r, T_WORKERS), T(r, T_WORKER_FILE), T(r, T_WORKERS), T(r, T_WORKER),
		       T(r, T_PHONE), T(r, T_LANGUAGE), T(r, T_SAVE));
	for (size_t i = 0; i < d.n_workers; i++) {
		const struct gw_db_worker *w = &d.workers[i];
		web_buf_puts(b, "<tr><td>");
		web_buf_esc(b, w->name);
		if (!w->active)
			web_buf_printf(b, " <span class=\"gap\">(%s)</span>", T(r, T_DISABLED));
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, w->phone);
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, w->lang ? w->lang : "fi");
		web_buf_puts(b, "</td><td><form class=\"filter\" method=\"post\" "
				"action=\"/roster/worker\">");
		put_csrf(r);
		web_buf_puts(b, "<input type=\"hidden\" name=\"worker\" value=\"");
		web_buf_esc(b, w->handle);
		/* language and phone: sent only when changed (a manual change over imports) */
		const char *lang = w->lang ? w->lang : "fi";
		web_buf_printf(b, "\"><label>%s<select name=\"lang\">", T(r, T_LANGUAGE));
		for (int k = 0; k < 3; k++) {
			static const char *const langs[] = {"fi", "sv", "en"};
			web_buf_printf(b, "<option%s>%s</option>",
				       strcmp(lang, langs[k]) == 0 ? " selected" : "", langs[k]);
		}
		web_buf_printf(b,
			       "</select></label><label>%s<input type=\"tel\" name=\"phone\" "
			       "maxlength=\"20\" size=\"14\" value=\"",
			       T(r, T_PHONE));
		web_buf_esc(b, w->phone);
		web_buf_printf(
		    b,
		    "\"></label><label><input type=\"checkbox\" name=\"disabled\" value=\"1\"%s> "
		    "%s</label><label><input type=\"checkbox\" name=\"pin_reset\" "
		    "value=\"1\"> %s</label><button>%s</button></form></td></tr>",
		    w->active ? "" : " checked", T(r, T_DISABLED), T(r, T_PIN_RESET), T(r, T_SAVE));
	}
	web_buf_puts(b, "</table></div>");
	page_end(r);
	gw_db_roster_clear(&d);
}

void web_page_roster_csv(struct web_req *r)
{
	struct gw_db_roster d;
	char *data = NULL;
	size_t len = 0;
	if (read_roster(r, &d) < 0)
		return;
	FILE *f = open_memstream(&data, &len);
	int rc = f ? gw_roster_write_csv(&d, f) : -ENOMEM;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -EIO;
	gw_db_roster_clear(&d);
	if (rc < 0 || !data) {
		free(data);
		web_page_error(r, 500, T_DB_ERROR);
		return;
	}
	web_buf_putn(&r->out, data, len);
	free(data);
	r->content_type = "text/csv; charset=utf-8";
	snprintf(r->filename, sizeof(r->filename), "rinki-roster.csv");
}

/* The counts a preview's final line gives ("lines=3 ... was_lines=2 ..."). */
static void put_changes(struct web_req *r, const struct gw_ctl_msg *m)
{
	static const char *const keys[] = {"lines", "workers", "shifts", "rotations", "overrides",
					   "steps", "routes",  "dirs",	 "holidays"};
	struct web_buf *b = &r->out;
	web_buf_printf(b,
		       "<h2>%s</h2>" WRAP "<table id=\"changes\"><tr><th>%s</th><th>%s</th>"
		       "<th>%s</th></tr>",
		       T(r, T_CHANGES), T(r, T_CHANGES), T(r, T_KIND), T(r, T_NOW_STORED),
		       T(r, T_IN_FILE));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char was[32];
		snprintf(was, sizeof(was), "was_%s", keys[i]);
		const char *now = gw_ctl_msg_get(m, keys[i]), *before = gw_ctl_msg_get(m, was);
		if (!now)
			continue;
		bool diff = !before || strcmp(now, before) != 0;
		web_buf_printf(b, "<tr%s><th>%s</th><td>", diff ? " class=\"changed\"" : "",
			       keys[i]);
		web_buf_esc(b, before ? before : "?");
		web_buf_puts(b, "</td><td>");
		web_buf_esc(b, now);
		web_buf_puts(b, "</td></tr>");
	}
	web_buf_puts(b, "</table></div>");
}

/*
 * A preview reply: "+ error row=N text=T" lines (every validation error with its row),
 * "+ manual fate=F text=T" lines (what happens to each manual change), and the final
 * "ok mode=preview rows=R errors=E [conflicts=C counts... was_counts...]". Returns true
 * when the roster may be applied (no errors, no conflict or replace).
 */
static bool put_preview(struct web_req *r, const char *reply, bool replace)
{
	static struct gw_ctl_msg m;
	struct web_buf *b = &r->out;
	char err[128];
	int n_err = 0, n_manual = 0;

	for (int pass = 0; pass < 2; pass++) {
		const char *want = pass ? "manual" : "error";
		bool open = false;
		for (const char *l = reply; *l;) {
			const char *nl = strchr(l, '\n');
			size_t ll = nl ? (size_t)(nl - l) : strlen(l);
			if (ll > 2 && l[0] == '+' && l[1] == ' ' &&
			    gw_ctl_parse(l + 2, ll - 2, &m, err, sizeof(err)) == 0 &&
			    strcmp(m.verb, want) == 0) {
				const char *t = gw_ctl_msg_get(&m, "text");
				if (!open) {
					if (pass)
						web_buf_printf(
						    b,
						    "<h2>%s</h2>" WRAP
						    "<table id=\"manual\"><tr><th>%s</th>"
						    "<th>%s</th></tr>",
						    T(r, T_MANUAL), T(r, T_MANUAL), T(r, T_OUTCOME),
						    T(r, T_DETAIL));
					else
						web_buf_printf(
						    b,
						    "<h2 class=\"err\">%s</h2>" WRAP
						    "<table id=\"errors\"><tr><th>%s</th>"
						    "<th>%s</th></tr>",
						    T(r, T_ERRORS_HEAD), T(r, T_ERRORS_HEAD),
						    T(r, T_ROW), T(r, T_DETAIL));
					open = true;
				}
				web_buf_puts(b, "<tr><td>");
				web_buf_esc(b, gw_ctl_msg_get(&m, pass ? "fate" : "row"));
				web_buf_puts(b, "</td><td>");
				web_buf_esc(b, t ? t : "");
				web_buf_puts(b, "</td></tr>");
				*(pass ? &n_manual : &n_err) += 1;
			}
			l += ll + (nl != NULL);
		}
		if (open)
			web_buf_puts(b, "</table></div>");
	}
	for (const char *l = strstr(reply, "+ more errors="); l; l = NULL) {
		web_buf_printf(b, "<p class=\"err\" id=\"more\">+ ");
		web_buf_putn(b, l + 14, strspn(l + 14, "0123456789"));
		web_buf_printf(b, " %s</p>", T(r, T_ERRORS));
	}
	const char *fin = web_admin_final(reply);
	if (gw_ctl_parse(fin, strlen(fin), &m, err, sizeof(err)) < 0 || strcmp(m.verb, "ok")) {
		web_buf_printf(b, "<p class=\"err\" id=\"result\">%s: ", T(r, T_REFUSED));
		web_buf_esc(b, fin);
		web_buf_puts(b, "</p>");
		return false;
	}
	const char *errors = gw_ctl_msg_get(&m, "errors"), *rows = gw_ctl_msg_get(&m, "rows");
	const char *conflicts = gw_ctl_msg_get(&m, "conflicts");
	bool ok = errors && strcmp(errors, "0") == 0 &&
		  (replace || !conflicts || strcmp(conflicts, "0") == 0);
	web_buf_printf(b, "<p class=\"%s\" id=\"summary\">", ok ? "ok" : "err");
	web_buf_esc(b, rows ? rows : "?");
	web_buf_printf(b, " %s, ", T(r, T_ROWS));
	web_buf_esc(b, errors ? errors : "?");
	web_buf_printf(b, " %s", T(r, T_ERRORS));
	if (conflicts) {
		web_buf_puts(b, ", ");
		web_buf_esc(b, conflicts);
		web_buf_printf(b, " %s", T(r, T_CONFLICTS));
	}
	web_buf_puts(b, "</p>");
	if (ok)
		put_changes(r, &m);
	return ok;
}

void web_page_roster_upload(struct web_req *r)
{
	static char reply[WEB_ADMIN_REPLY_MAX];
	const struct web_upload *u = r->upload;
	const char *rep = web_form_get(r->form, "replace");
	bool replace = rep && strcmp(rep, "1") == 0;
	char line[256] = "roster-import mode=preview", token[WEB_TOKEN_HEX + 1];

	if (!u || !u->data || strcmp(u->file_field, "roster") != 0 || u->len == 0 ||
	    (rep && !replace) || r->form->n > 1 + (rep != NULL)) {
		web_page_error(r, 400, T_BAD_INPUT);
		return;
	}
	if (replace)
		strcat(line, " replace=1");
	ctl_arg(line, sizeof(line), "by", r->user.name);
	int fd = web_admin_memfd(u->data, u->len);
	int rc = fd < 0 ? fd : admin(r, line, fd, reply, sizeof(reply));
	if (fd >= 0)
		close(fd);
	page_begin(r, T(r, T_PREVIEW));
	if (rc != 0) {
		put_outcome(r, rc, reply);
		page_end(r);
		return;
	}
	if (put_preview(r, reply, replace) &&
	    web_pending_put(r->app->pending, r->user.name, u->data, u->len, replace,
			    r->app->now_ms(), token) == 0) {
		web_buf_puts(&r->out,
			     "<form id=\"apply\" method=\"post\" action=\"/roster/apply\">");
		put_csrf(r);
		web_buf_printf(&r->out,
			       "<input type=\"hidden\" name=\"token\" value=\"%s\"><button>%s"
			       "</button> <a href=\"/roster\">%s</a></form>",
			       token, T(r, T_APPLY), T(r, T_CANCEL));
	} else {
		r->status = 422;
		web_buf_printf(&r->out, "<p><a href=\"/roster\">%s</a></p>", T(r, T_ROSTER));
	}
	page_end(r);
}

void web_page_roster_apply(struct web_req *r)
{
	static char reply[WEB_ADMIN_REPLY_MAX];
	struct web_pending *p = web_pending_get(r->app->pending, r->user.name,
						web_form_get(r->form, "token"), r->app->now_ms());
	char line[256] = "roster-import mode=apply";

	if (!p) {
		web_page_error(r, 410, T_EXPIRED);
		return;
	}
	if (p->replace)
		strcat(line, " replace=1");
	ctl_arg(line, sizeof(line), "by", r->user.name);
	int fd = web_admin_memfd(p->data, p->len);
	int rc = fd < 0 ? fd : admin(r, line, fd, reply, sizeof(reply));
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		web_pending_drop(p);
	page_begin(r, T(r, T_APPLY));
	put_outcome(r, rc, reply);
	page_end(r);
}

/* A local "YYYY-MM-DDTHH:MM" (datetime-local) as UTC ms. 0 or -EINVAL. */
static int parse_local_minute(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, n = -1;
	char date[11];
	if (!s || strlen(s) != 16 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || n != 16 ||
	    h > 23 || mi > 59 || h < 0 || mi < 0)
		return -EINVAL;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (parse_date(date, &y, &mo, &d) < 0)
		return -EINVAL;
	*ms = gw_roster_local_to_utc(y, mo, d, h * 60 + mi);
	return 0;
}

/* t_ms as Helsinki wall clock with its offset: "2026-12-17T08:00+02:00". */
static void zoned(int64_t t_ms, char *buf, size_t len)
{
	struct tm tm;
	int off = gw_roster_utc_offset_min(t_ms), a = off < 0 ? -off : off;
	local_tm(t_ms, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M", &tm);
	snprintf(buf + n, len - n, "%c%02d:%02d", off < 0 ? '-' : '+', a / 60 % 24, a % 60);
}

/* Hidden inputs carrying the form's fields keys[] on to the confirm step. */
static void put_hidden(struct web_req *r, const char *const *keys)
{
	for (int i = 0; keys[i]; i++) {
		const char *v = web_form_get(r->form, keys[i]);
		web_buf_printf(&r->out, "<input type=\"hidden\" name=\"%s\" value=\"", keys[i]);
		web_buf_esc(&r->out, v ? v : "");
		web_buf_puts(&r->out, "\">");
	}
}

/* The confirm step's buttons (the change's own form is open). */
static void put_confirm(struct web_req *r)
{
	web_buf_printf(&r->out,
		       "<input type=\"hidden\" name=\"confirm\" value=\"1\"><button "
		       "id=\"confirm\">%s</button> <a href=\"/roster\">%s</a></form>",
		       T(r, T_CONFIRM), T(r, T_CANCEL));
}

static bool confirmed(struct web_req *r)
{
	const char *c = web_form_get(r->form, "confirm");
	return c && strcmp(c, "1") == 0;
}

void web_page_override(struct web_req *r)
{
	static const char *const keys[] = {"line", "worker", "kind",   "by_worker",
					   "from", "to",     "reason", NULL};
	static char reply[RINKI_CTL_REPLY_MAX];
	const char *line = web_form_get(r->form, "line"), *worker = web_form_get(r->form, "worker");
	const char *from = web_form_get(r->form, "from"), *to = web_form_get(r->form, "to");
	const char *reason = web_form_get(r->form, "reason"), *kind = web_form_get(r->form, "kind");
	const char *byw = web_form_get(r->form, "by_worker");
	struct gw_db_roster d;
	int64_t f_ms, t_ms;
	char req[RINKI_CTL_REQ_MAX] = "override-add", zf[32], zt[32];

	if (!kind || !*kind) /* a form without it adds the worker */
		kind = "add";
	if (!byw)
		byw = "";
	bool replace = strcmp(kind, "replace") == 0;
	if (parse_local_minute(from, &f_ms) < 0 || parse_local_minute(to, &t_ms) < 0 ||
	    t_ms <= f_ms || (reason && strlen(reason) > 120) ||
	    (strcmp(kind, "add") && !replace && strcmp(kind, "remove")) ||
	    (replace != (*byw != '\0')) || (replace && strcmp(byw, worker ? worker : "") == 0)) {
		web_page_error(r, 400, T_BAD_INPUT);
		return;
	}
	if (read_roster(r, &d) < 0)
		return;
	const struct gw_db_worker *w = find_worker(&d, worker);
	const struct gw_db_worker *by = replace ? find_worker(&d, byw) : NULL;
	if (!has_line(&d, line) || !w || (replace && !by)) {
		gw_db_roster_clear(&d);
		web_page_error(r, 400, T_BAD_INPUT);
		return;
	}
	struct web_buf *b = &r->out;
	page_begin(r, T(r, T_OVERRIDE_ADD));
	if (!confirmed(r)) {
		web_buf_printf(b, "<p id=\"what\">%s: <strong>", T(r, T_CONFIRM_OVERRIDE));
		web_buf_esc(b, w->name);
		web_buf_printf(b, "</strong> %s",
			       T(r, replace	   ? T_KIND_REPLACE
				    : *kind == 'a' ? T_KIND_ADD
						   : T_KIND_REMOVE));
		if (by) {
			web_buf_puts(b, " <strong>");
			web_buf_esc(b, by->name);
			web_buf_puts(b, "</strong>");
		}
		web_buf_printf(b, ", %s <strong>", T(r, T_LINE));
		web_buf_esc(b, line);
		web_buf_puts(b, "</strong>, ");
		put_local(r, f_ms);
		web_buf_puts(b, " – ");
		put_local(r, t_ms);
		if (reason && *reason) {
			web_buf_puts(b, " (");
			web_buf_esc(b, reason);
			web_buf_puts(b, ")");
		}
		web_buf_puts(b, "</p><form method=\"post\" action=\"/roster/override\">");
		put_csrf(r);
		put_hidden(r, keys);
		put_confirm(r);
	} else {
		zoned(f_ms, zf, sizeof(zf));
		zoned(t_ms, zt, sizeof(zt));
		bool fits = ctl_arg(req, sizeof(req), "kind", kind) &&
			    ctl_arg(req, sizeof(req), "line", line) &&
			    ctl_arg(req, sizeof(req), "worker", worker) &&
			    (!replace || ctl_arg(req, sizeof(req), "by_worker", byw)) &&
			    ctl_arg(req, sizeof(req), "from", zf) &&
			    ctl_arg(req, sizeof(req), "to", zt) &&
			    (!reason || !*reason || ctl_arg(req, sizeof(req), "reason", reason)) &&
			    ctl_arg(req, sizeof(req), "by", r->user.name);
		put_outcome(r, fits ? admin(r, req, -1, reply, sizeof(reply)) : -E2BIG, reply);
	}
	page_end(r);
	gw_db_roster_clear(&d);
}

void web_page_override_del(struct web_req *r)
{
	static const char *const keys[] = {"id", NULL};
	static char reply[RINKI_CTL_REPLY_MAX];
	const char *id = web_form_get(r->form, "id");
	char req[RINKI_CTL_REQ_MAX] = "override-del";

	if (!id || !*id || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id) ||
	    id[0] == '0') {
		web_page_error(r, 400, T_BAD_INPUT);
		return;
	}
	page_begin(r, T(r, T_REMOVE));
	if (!confirmed(r)) {
		web_buf_printf(&r->out, "<p id=\"what\">%s ", T(r, T_CONFIRM_REMOVE));
		web_buf_esc(&r->out, id);
		web_buf_puts(&r->out, "</p><form method=\"post\" action=\"/roster/override-del\">");
		put_csrf(r);
		put_hidden(r, keys);
		put_confirm(r);
	} else {
		ctl_arg(req, sizeof(req), "id", id);
		ctl_arg(req, sizeof(req), "by", r->user.name);
		put_outcome(r, admin(r, req, -1, reply, sizeof(reply)), reply);
	}
	page_end(r);
}

void web_page_worker(struct web_req *r)
{
	static char reply[RINKI_CTL_REPLY_MAX];
	const char *worker = web_form_get(r->form, "worker");
	const char *dis = web_form_get(r->form, "disabled"),
		   *pin = web_form_get(r->form, "pin_reset");
	const char *lang = web_form_get(r->form, "lang"), *phone = web_form_get(r->form, "phone");
	char req[RINKI_CTL_REQ_MAX] = "worker-set", e164[GW_E164_MAX] = "";
	struct gw_db_roster d;

	if ((dis && strcmp(dis, "1")) || (pin && strcmp(pin, "1")) ||
	    (lang && strcmp(lang, "fi") && strcmp(lang, "sv") && strcmp(lang, "en")) ||
	    (phone && gw_e164_canon(phone, e164) < 0)) {
		web_page_error(r, 400, T_BAD_INPUT);
		return;
	}
	if (read_roster(r, &d) < 0)
		return;
	const struct gw_db_worker *w = find_worker(&d, worker);
	bool known = w != NULL;
	/* only what changed: an unchanged language or phone stays the base's */
	bool new_lang = w && lang && strcmp(lang, w->lang ? w->lang : "fi") != 0;
	bool new_phone = w && phone && !gw_e164_same(e164, w->phone);
	gw_db_roster_clear(&d);
	if (!known) {
		web_page_error(r, 400, T_BAD_INPUT);
		return;
	}
	ctl_arg(req, sizeof(req), "worker", worker);
	ctl_arg(req, sizeof(req), "disabled", dis ? "1" : "0");
	if (pin)
		ctl_arg(req, sizeof(req), "pin_reset", "1");
	if (new_lang)
		ctl_arg(req, sizeof(req), "lang", lang);
	if (new_phone)
		ctl_arg(req, sizeof(req), "phone", e164);
	ctl_arg(req, sizeof(req), "by", r->user.name);
	page_begin(r, T(r, T_WORKERS));
	put_outcome(r, admin(r, req, -1, reply, sizeof(reply)), reply);
	page_end(r);
}
