/*
 * Integration: rinki-web's roster pages against a real rinkid. The pages (tools/web/
 * pages.c, admin.c) run in this process on the rig's database and rinkid's control
 * socket, as rinki-web runs them; rinkid (with tetra-sim and modem-sim) validates and
 * writes. Checked: a roster with errors previewed through roster-import shows each error
 * with its row and offers no apply; a good one shows what changes and its apply imports it
 * (rinkid logs who: the web user via the socket's peer); an override added in two steps
 * (the first sends nothing) and a worker disabled reach the database through rinkid.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "store/db.h"
#include "store/roster.h"
#include "web/web.h"

static struct h_rig rig;
static struct gw_conf conf;
static struct web_app app;
static struct web_session *sess;

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *no_arg(struct web_req *r, const char *key)
{
	(void)r;
	(void)key;
	return NULL;
}

/* The coordinator "aino" POSTs to page with body (urlencoded) or the upload up. */
static void post(web_page_fn page, struct web_req *r, const char *body, const struct web_upload *up)
{
	static struct web_form form;
	memset(r, 0, sizeof(*r));
	r->app = &app;
	r->method = "POST";
	r->path = "/roster";
	r->ip = "127.0.0.1";
	r->arg = no_arg;
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

/* The upload of csv as the browser sends it (multipart, with the session's token). */
static void upload(struct web_upload *up, const char *csv)
{
	static char body[4096];
	int n =
	    snprintf(body, sizeof(body),
		     "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
		     "--B\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.csv\""
		     "\r\nContent-Type: text/csv\r\n\r\n%s\r\n--B--\r\n",
		     sess->csrf, csv);
	assert_int_equal(
	    web_multipart_parse("multipart/form-data; boundary=B", body, (size_t)n, up, NULL), 0);
}

static void test_roster_through_rinkid(void **state)
{
	static struct web_upload up;
	struct web_req r;
	char body[512];
	(void)state;

	/* row 3 repeats a worker: rinkid's preview lists it with its row, nothing to apply */
	upload(&up, "line,sos,Sos,Sos,Sos\nworker,aino,A,+358401234567,\n"
		    "worker,aino,B,+358401234568,\n");
	post(web_page_roster_upload, &r, NULL, &up);
	if (r.status != 422 || !strstr(r.out.data, "<tr><td>3</td><td>"))
		fail_msg("preview of a bad roster: %d\n%s", r.status, r.out.data);
	assert_null(strstr(r.out.data, "id=\"apply\""));
	web_buf_free(&r.out);

	/* a good one: what changes (the demo roster had 4 lines), then the apply */
	upload(&up, "line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
		    "worker,aino,Aino Virtanen,+358401234567,\n"
		    "worker,pia,Pia Laine,+358401234568,\n"
		    "shift,sos,aino,2026-01-01T08:00+02:00,2036-01-02T08:00+02:00,1\n");
	post(web_page_roster_upload, &r, NULL, &up);
	if (r.status != 200 ||
	    !strstr(r.out.data, "<tr class=\"changed\"><th>lines</th><td>4</td><td>1</td>"))
		fail_msg("preview of a good roster: %d\n%s", r.status, r.out.data);
	const char *tok = strstr(r.out.data, "name=\"token\" value=\"");
	assert_non_null(tok);
	snprintf(body, sizeof(body), "csrf=%s&token=%.64s", sess->csrf, tok + 20);
	web_buf_free(&r.out);
	post(web_page_roster_apply, &r, body, NULL);
	if (r.status != 200 || !strstr(r.out.data, "class=\"ok\" id=\"result\""))
		fail_msg("apply: %d\n%s", r.status, r.out.data);
	web_buf_free(&r.out);
	assert_int_equal(h_wait_log(&rig, "roster_import by aino via ", 3000), 0);

	/* an override in two steps; the first sends nothing */
	snprintf(body, sizeof(body),
		 "csrf=%s&line=sos&worker=pia&kind=replace&by_worker=aino"
		 "&from=2030-03-02T08%%3A00&to=2030-03-02T16%%3A00&reason=flu",
		 sess->csrf);
	post(web_page_override, &r, body, NULL);
	assert_non_null(strstr(r.out.data, "id=\"confirm\""));
	assert_int_equal(h_log_count(&rig, "override_add by"), 0);
	web_buf_free(&r.out);
	strcat(body, "&confirm=1");
	post(web_page_override, &r, body, NULL);
	if (r.status != 200 || !strstr(r.out.data, "class=\"ok\" id=\"result\""))
		fail_msg("override: %d\n%s", r.status, r.out.data);
	web_buf_free(&r.out);
	assert_int_equal(h_wait_log(&rig, "override_add by aino via ", 3000), 0);

	/* a worker disabled */
	snprintf(body, sizeof(body), "csrf=%s&worker=pia&disabled=1", sess->csrf);
	post(web_page_worker, &r, body, NULL);
	if (r.status != 200 || !strstr(r.out.data, "class=\"ok\" id=\"result\""))
		fail_msg("worker-set: %d\n%s", r.status, r.out.data);
	web_buf_free(&r.out);
	assert_int_equal(h_wait_log(&rig, "worker_set by aino via ", 3000), 0);

	/* what the database has now, read as the roster page reads it */
	struct gw_db *db;
	struct gw_db_roster d;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_int_equal(gw_db_roster_read(db, &d), 0);
	gw_db_close(db);
	assert_int_equal(d.n_lines, 1);
	assert_int_equal(d.n_workers, 2);
	bool pia_off = false, cover = false;
	for (size_t i = 0; i < d.n_workers; i++)
		pia_off |= strcmp(d.workers[i].handle, "pia") == 0 && !d.workers[i].active;
	for (size_t i = 0; i < d.n_overrides; i++)
		cover |= strcmp(d.overrides[i].kind, "replace") == 0 &&
			 strcmp(d.overrides[i].worker, "pia") == 0 && d.overrides[i].by &&
			 strcmp(d.overrides[i].by, "aino") == 0 &&
			 d.overrides[i].start_ms == gw_roster_local_to_utc(2030, 3, 2, 8 * 60);
	gw_db_roster_clear(&d);
	assert_true(pia_off);
	assert_true(cover);
}

static int setup(void **state)
{
	char sock[100], users[120], extra[160];
	(void)state;
	if (sodium_init() < 0 || h_rig_init(&rig) < 0)
		return -1;
	snprintf(sock, sizeof(sock), "%s/rinki.sock", rig.dir);
	snprintf(extra, sizeof(extra), "ctl.socket %s", sock);
	if (h_start_sims(&rig) < 0 || h_start_rinkid(&rig, extra) < 0)
		return -1;
	snprintf(conf.db_path, sizeof(conf.db_path), "%s", rig.db);
	snprintf(conf.ctl_socket, sizeof(conf.ctl_socket), "%s", sock);
	snprintf(users, sizeof(users), "%s/users.db", rig.dir);
	app.conf = &conf;
	app.now_ms = wall_ms;
	if (web_users_open(users, &app.users) < 0)
		return -1;
	sess = web_session_start(&app.sessions, "aino", wall_ms());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < WEB_PENDING_SLOTS; i++)
		web_pending_drop(&app.pending[i]);
	web_users_close(app.users);
	h_rig_fini(&rig);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roster_through_rinkid),
	};
	return cmocka_run_group_tests_name("integration: rinki-web's roster through rinkid", tests,
					   setup, teardown);
}
