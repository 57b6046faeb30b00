/*
 * Unit tests of service/admin: roster imports through a descriptor (preview changes
 * nothing and lists every error with its row; apply replaces the roster and logs who;
 * oversize rosters refused: a 1,000,000-row one and one over the byte bound), the loop
 * serving timers while an import waits for its input, and the small changes (override
 * add/del, worker add, disable and PIN reset) each leaving a system event naming who;
 * directory imports through a descriptor the same way (errors by row, the rest of the
 * roster kept, who in the chain).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/loop.h"
#include "rinki/proto.h"
#include "service/admin.h"
#include "store/db.h"
#include "store/roster.h"

static const char roster1[] = "line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
			      "worker,aino,Aino Virtanen,+358401234567,\n"
			      "worker,pia,Pia Laine,+358401234568,\n"
			      "shift,sos,aino,2026-01-01T08:00+02:00,2026-01-02T08:00+02:00,1\n";

static const char roster2[] = "line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
			      "worker,aino,Aino Virtanen,+358401234567,\n"
			      "worker,pia,Pia Laine,+358401234568,\n"
			      "worker,eero,Eero Salo,+358401234569,\n"
			      "shift,sos,eero,2026-01-01T08:00+02:00,2026-01-02T08:00+02:00,1\n";

struct fx {
	char dir[64], path[128];
	struct gw_loop *loop;
	struct gw_db *db;
	struct gw_admin *admin;
	int done;
	uint64_t ticket;
	char reply[RINKI_CTL_MULTI_MAX];
};

static void import_done(void *arg, uint64_t ticket, const char *reply)
{
	struct fx *f = arg;
	f->done++;
	f->ticket = ticket;
	snprintf(f->reply, sizeof(f->reply), "%s", reply);
}

/* A memfd holding len bytes of text. */
static int memfd_of(const char *text, size_t len)
{
	int fd = memfd_create("roster", MFD_CLOEXEC);
	assert_true(fd >= 0);
	size_t off = 0;
	while (off < len) {
		ssize_t k = write(fd, text + off, len - off);
		assert_true(k > 0);
		off += (size_t)k;
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct gw_db_roster d;
	snprintf(f->dir, sizeof(f->dir), "/tmp/rinki-admin-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/rinki.db", f->dir);
	assert_int_equal(gw_db_open(f->path, &f->db), 0);
	assert_int_equal(gw_roster_parse_csv("r1", roster1, strlen(roster1), &d, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f->db, &d), 0);
	gw_db_roster_clear(&d);
	f->loop = gw_loop_new();
	assert_non_null(f->loop);
	struct gw_admin_ops ops = {.import_done = import_done, .arg = f};
	assert_int_equal(gw_admin_new(f->loop, f->db, f->path, &ops, &f->admin), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	gw_admin_free(f->admin);
	gw_db_close(f->db);
	gw_loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Run the loop until the import answers (bounded: the answer must come). */
static void wait_done(struct fx *f)
{
	for (int i = 0; i < 6000 && !f->done; i++)
		gw_loop_run_once(f->loop, 10);
	assert_int_equal(f->done, 1);
	assert_false(gw_admin_importing(f->admin));
}

static size_t workers_now(struct fx *f)
{
	struct gw_db_roster d;
	assert_int_equal(gw_db_roster_read(f->db, &d), 0);
	size_t n = d.n_workers;
	gw_db_roster_clear(&d);
	return n;
}

struct evs {
	int n;
	char last_kind[64], last_detail[600];
};

static void sys_ev(const struct gw_db_event *ev, void *arg)
{
	struct evs *e = arg;
	e->n++;
	snprintf(e->last_kind, sizeof(e->last_kind), "%s", ev->kind);
	snprintf(e->last_detail, sizeof(e->last_detail), "%s", ev->detail ? ev->detail : "");
}

static void test_preview_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct evs e = {0};
	int fd = memfd_of(roster2, strlen(roster2));
	assert_int_equal(gw_admin_roster_import(f->admin, fd, false, false, "ann", 7), 0);
	wait_done(f);
	assert_int_equal(f->ticket, 7);
	assert_non_null(strstr(f->reply, "ok mode=preview"));
	assert_non_null(strstr(f->reply, " workers=3 "));
	assert_non_null(strstr(f->reply, " was_workers=2 "));
	assert_int_equal(workers_now(f), 2);
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 0);
}

static void test_apply_replaces_and_logs_who(void **state)
{
	struct fx *f = *state;
	struct evs e = {0};
	int fd = memfd_of(roster2, strlen(roster2));
	assert_int_equal(gw_admin_roster_import(f->admin, fd, true, false, "ann via root", 8), 0);
	wait_done(f);
	assert_non_null(strstr(f->reply, "ok mode=apply"));
	assert_int_equal(workers_now(f), 3);
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 1);
	assert_string_equal(e.last_kind, "roster_import");
	assert_non_null(strstr(e.last_detail, "by ann via root: apply"));
}

static void test_errors_listed_with_rows(void **state)
{
	struct fx *f = *state;
	static const char bad[] =
	    "line,sos,Sos,Sos,Sos\n"
	    "worker,aino,Aino,+358401234567,\n"
	    "worker,aino,Aino again,+358401234568,\n"
	    "shift,sos,nobody,2026-01-01T08:00+02:00,2026-01-02T08:00+02:00,1\n";
	int fd = memfd_of(bad, strlen(bad));
	assert_int_equal(gw_admin_roster_import(f->admin, fd, false, false, "ann", 9), 0);
	wait_done(f);
	assert_non_null(strstr(f->reply, "+ error row=3 text="));
	assert_non_null(strstr(f->reply, "+ error row=4 text="));
	assert_non_null(strstr(f->reply, "\nok mode=preview rows=4 errors=2"));
	/* apply refuses the same file and changes nothing */
	f->done = 0;
	fd = memfd_of(bad, strlen(bad));
	assert_int_equal(gw_admin_roster_import(f->admin, fd, true, false, "ann", 10), 0);
	wait_done(f);
	assert_non_null(strstr(f->reply, "\nerr usage 2 errors, nothing imported"));
	assert_int_equal(workers_now(f), 2);
}

static void test_million_rows_refused(void **state)
{
	struct fx *f = *state;
	size_t rows = 1000000, len = rows * 2;
	char *big = malloc(len);
	assert_non_null(big);
	for (size_t i = 0; i < rows; i++) {
		big[2 * i] = '#';
		big[2 * i + 1] = '\n';
	}
	int fd = memfd_of(big, len);
	free(big);
	assert_int_equal(gw_admin_roster_import(f->admin, fd, true, false, "ann", 11), 0);
	wait_done(f);
	assert_string_equal(f->reply, "err toolong roster of 1000000 rows: at most 100000 are "
				      "taken, nothing imported");
	assert_int_equal(workers_now(f), 2);
}

static void test_too_many_bytes_refused(void **state)
{
	struct fx *f = *state;
	size_t len = (size_t)RINKI_CTL_FILE_MAX + 1;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, 'x', len);
	int fd = memfd_of(big, len);
	free(big);
	assert_int_equal(gw_admin_roster_import(f->admin, fd, false, false, "ann", 12), 0);
	wait_done(f);
	assert_non_null(strstr(f->reply, "err toolong roster larger than 16777216 bytes"));
}

static void tick(struct gw_loop *loop, void *arg)
{
	(void)loop;
	(*(int *)arg)++;
}

/* The loop keeps serving (a page's timers) while an import waits for the rest of it. */
static void test_loop_serves_during_import(void **state)
{
	struct fx *f = *state;
	struct gw_timer t;
	int p[2], ticks = 0;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(gw_admin_roster_import(f->admin, p[0], true, false, "ann", 13), 0);
	assert_int_equal(write(p[1], roster2, 40), 40); /* a part: the thread reads on */
	gw_timer_init(&t, tick, &ticks);
	for (int i = 0; i < 3; i++) {
		gw_timer_schedule(f->loop, &t, 1);
		for (int k = 0; k < 1000 && ticks == i; k++)
			gw_loop_run_once(f->loop, 10);
		assert_int_equal(ticks, i + 1);
		assert_true(gw_admin_importing(f->admin));
		assert_int_equal(f->done, 0);
	}
	size_t rest = strlen(roster2) - 40;
	assert_int_equal(write(p[1], roster2 + 40, rest), (ssize_t)rest);
	close(p[1]);
	wait_done(f);
	assert_non_null(strstr(f->reply, "ok mode=apply"));
	assert_int_equal(workers_now(f), 3);
}

static void test_second_import_busy(void **state)
{
	struct fx *f = *state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(gw_admin_roster_import(f->admin, p[0], false, false, "ann", 14), 0);
	int fd = memfd_of(roster2, strlen(roster2));
	assert_int_equal(gw_admin_roster_import(f->admin, fd, false, false, "bob", 15), -EBUSY);
	close(p[1]);
	wait_done(f);
	assert_int_equal(f->ticket, 14);
}

/* rinkid stopping: a waiting import is stopped at once and writes nothing. */
static void test_free_stops_import(void **state)
{
	struct fx *f = *state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(gw_admin_roster_import(f->admin, p[0], true, false, "ann", 16), 0);
	assert_int_equal(write(p[1], roster2, strlen(roster2)), (ssize_t)strlen(roster2));
	gw_admin_free(f->admin); /* the pipe stays open: only the stop ends the read */
	f->admin = NULL;
	assert_int_equal(f->done, 0);
	assert_int_equal(workers_now(f), 2);
	close(p[1]);
}

static void test_changes_log_who(void **state)
{
	struct fx *f = *state;
	struct gw_db_override o = {.kind = "replace", .worker = "pia", .by = "aino", .line = "sos"};
	struct evs e = {0};
	int64_t id = 0;
	o.start_ms = gw_roster_local_to_utc(2026, 1, 1, 8 * 60);
	o.end_ms = gw_roster_local_to_utc(2026, 1, 2, 8 * 60);
	assert_int_equal(gw_admin_override_add(f->admin, &o, "sick leave", "ann via root", &id), 0);
	assert_true(id > 0);
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 1);
	assert_string_equal(e.last_kind, "override_add");
	assert_non_null(strstr(e.last_detail, "by ann via root: override"));
	assert_non_null(strstr(e.last_detail, "reason: sick leave"));
	assert_int_equal(gw_admin_override_del(f->admin, id, "bob"), 0);
	assert_int_equal(gw_admin_override_del(f->admin, id, "bob"), -ENOENT);
	assert_int_equal(gw_admin_worker_set(f->admin, "pia", 0, true, NULL, NULL, NULL, "bob"), 0);
	assert_int_equal(gw_admin_worker_set(f->admin, "nobody", -1, true, NULL, NULL, NULL, "bob"),
			 -ENOENT);
	memset(&e, 0, sizeof(e));
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 3);
	assert_string_equal(e.last_kind, "worker_set");
	assert_string_equal(e.last_detail, "by bob: worker pia disabled PIN reset");

	/* a PIN is set only peppered, and never logged */
	char pepper[160];
	snprintf(pepper, sizeof(pepper), "%s.pepper", f->path);
	gw_roster_pepper_forget();
	assert_int_equal(
	    gw_admin_worker_set(f->admin, "aino", -1, false, "13579", NULL, NULL, "bob"), -ENOKEY);
	assert_int_equal(gw_roster_pepper_load(pepper, true), 0);
	assert_int_equal(gw_admin_worker_set(f->admin, "aino", -1, false, "135", NULL, NULL, "bob"),
			 -EINVAL);
	assert_int_equal(
	    gw_admin_worker_set(f->admin, "aino", -1, false, "13579", NULL, NULL, "bob"), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 4);
	assert_string_equal(e.last_detail, "by bob: worker aino PIN set");
	struct gw_db_roster d;
	assert_int_equal(gw_db_roster_read(f->db, &d), 0);
	const char *hash = NULL;
	for (size_t i = 0; i < d.n_workers; i++)
		if (strcmp(d.workers[i].handle, "aino") == 0)
			hash = d.workers[i].pin_hash;
	assert_non_null(hash);
	assert_int_equal(strncmp(hash, "pep1:", 5), 0);
	assert_int_equal(gw_roster_verify_pin(hash, "13579"), 0);
	gw_db_roster_clear(&d);
	gw_roster_pepper_forget();

	/* a phone and language change: the manual layer's, and a system event */
	assert_int_equal(
	    gw_admin_worker_set(f->admin, "aino", -1, false, NULL, "+358409999999", "sv", "bob"),
	    0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 5);
	assert_string_equal(e.last_detail, "by bob: worker aino phone +358409999999 language sv");
	assert_int_equal(
	    gw_admin_worker_set(f->admin, "nobody", -1, false, NULL, NULL, "en", "bob"), -ENOENT);
	assert_int_equal(gw_db_roster_read(f->db, &d), 0);
	for (size_t i = 0; i < d.n_workers; i++)
		if (strcmp(d.workers[i].handle, "aino") == 0) {
			assert_string_equal(d.workers[i].phone, "+358409999999");
			assert_string_equal(d.workers[i].lang, "sv");
		}
	gw_db_roster_clear(&d);
}

static size_t dirs_now(struct fx *f)
{
	struct gw_db_roster d;
	assert_int_equal(gw_db_roster_read(f->db, &d), 0);
	size_t n = d.n_dirs;
	gw_db_roster_clear(&d);
	return n;
}

static void test_worker_add_logs_who(void **state)
{
	struct fx *f = *state;
	struct evs e = {0};
	struct gw_db_worker w = {.handle = "eero",
				 .name = "Eero Salo",
				 .phone = "+358401234569",
				 .issi = "2269111",
				 .lang = "sv",
				 .active = false};
	assert_int_equal(gw_admin_worker_add(f->admin, &w, "ann via root"), 0);
	assert_int_equal(workers_now(f), 3);
	assert_int_equal(gw_admin_worker_add(f->admin, &w, "ann via root"), -EEXIST);
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 1);
	assert_string_equal(e.last_kind, "worker_add");
	assert_string_equal(e.last_detail, "by ann via root: worker eero (Eero Salo) "
					   "+358401234569 ISSI 2269111 language sv, disabled");
}

static const char dir1[] = "directory,2269001,\"Poliisi, Mikkeli\",Mikkeli,member\n"
			   "directory,2269002,Poliisi Juva,Juva,contract\n";

static void test_directory_import_logs_who(void **state)
{
	struct fx *f = *state;
	struct evs e = {0};
	int fd = memfd_of(dir1, strlen(dir1));
	assert_int_equal(gw_admin_directory_import(f->admin, fd, "ann via root", 9), 0);
	wait_done(f);
	assert_int_equal(f->ticket, 9);
	assert_string_equal(f->reply, "ok entries=2 was_entries=0");
	assert_int_equal(dirs_now(f), 2);
	assert_int_equal(workers_now(f), 2); /* the rest of the roster stays */
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 1);
	assert_string_equal(e.last_kind, "directory_import");
	assert_string_equal(e.last_detail, "by ann via root: entries=2");

	/* bad rows: listed by row, nothing replaced, nothing logged */
	static const char bad[] = "directory,2269003,Poliisi,Juva,member\n"
				  "worker,x,X,+358401234560,\n"
				  "directory,abc,Poliisi,Juva,member\n";
	f->done = 0;
	fd = memfd_of(bad, strlen(bad));
	assert_int_equal(gw_admin_directory_import(f->admin, fd, "ann", 10), 0);
	wait_done(f);
	assert_non_null(strstr(f->reply, "+ error row=2 text="));
	assert_non_null(strstr(f->reply, "+ error row=3 text="));
	assert_non_null(strstr(f->reply, "err usage 2 errors, nothing imported"));
	assert_int_equal(dirs_now(f), 2);
	memset(&e, 0, sizeof(e));
	assert_int_equal(gw_db_system_event_list(f->db, sys_ev, &e), 1);

	/* over the byte bound: refused before parsing; one import at a time */
	size_t big = (size_t)RINKI_CTL_FILE_MAX + 2;
	char *text = malloc(big + 1);
	assert_non_null(text);
	memset(text, '\n', big);
	f->done = 0;
	fd = memfd_of(text, big);
	free(text);
	assert_int_equal(gw_admin_directory_import(f->admin, fd, "ann", 11), 0);
	int fd2 = memfd_of(dir1, strlen(dir1));
	assert_int_equal(gw_admin_directory_import(f->admin, fd2, "ann", 12), -EBUSY);
	wait_done(f);
	assert_non_null(strstr(f->reply, "err toolong directory larger than"));
	assert_int_equal(dirs_now(f), 2);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_preview_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_replaces_and_logs_who, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_listed_with_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_million_rows_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_bytes_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loop_serves_during_import, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_import_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_stops_import, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_log_who, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_worker_add_logs_who, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_directory_import_logs_who, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
