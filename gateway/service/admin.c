/*
 * admin: administrator changes for rinkid. Overrides, worker flags and an added worker are
 * single small transactions run on the loop through the loop's own connection. A roster
 * or directory import runs in one worker thread: it reads the descriptor (at most
 * RINKI_CTL_FILE_MAX bytes, waiting at most RINKI_CTL_FILE_WAIT_MS for a pipe, or until
 * gw_admin_free stops it), refuses more than RINKI_CTL_ROSTER_ROWS_MAX lines before parsing, parses
 * and checks the CSV, then opens a connection of its own and runs gw_db_roster_import (dry run for
 * a preview) in one transaction (a directory import: gw_db_directory_replace, the rest of the
 * roster kept). The answer text is built in the thread; an eventfd wakes the loop, which joins the
 * thread, logs the system event and hands the answer on.
 */
#include "service/admin.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "rinki/proto.h"
#include "store/roster.h"

struct job {
	int fd;
	bool directory; /* a directory import (directory-import), else a roster import */
	bool apply, replace;
	uint64_t ticket;
	char who[160];
	/* the answer, built by the thread */
	char *reply;
	size_t len;
	bool overflow;
	unsigned errors, listed, conflicts;
	bool applied;
	char summary[400]; /* for the system event */
};

struct gw_admin {
	struct gw_loop *loop;
	struct gw_db *db;
	char *db_path;
	struct gw_admin_ops ops;
	int donefd, stopfd;
	pthread_t thread;
	struct job *job; /* running (thread alive) or NULL */
};

/* ---- the answer ---------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void say(struct job *j, const char *fmt, ...)
{
	va_list ap;
	size_t room = RINKI_CTL_MULTI_MAX - j->len;
	if (j->overflow)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(j->reply + j->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		j->reply[j->len] = '\0';
		j->overflow = true;
		return;
	}
	j->len += (size_t)n;
}

/* Percent-encode s as a protocol value (include/rinki/proto.h). Length, or -1: no room. */
static int encode(char *dst, size_t len, const char *s)
{
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = c >= 0x21 && c <= 0x7e && c != '%';
		if (o + (plain ? 1 : 3) >= len)
			return -1;
		if (plain)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, len - o, "%%%02X", c);
	}
	dst[o] = '\0';
	return (int)o;
}

/* "+ <what> ... text=<encoded>" LF, kept short of the final line's room. */
static void say_text(struct job *j, const char *head, const char *text)
{
	char enc[RINKI_CTL_REPLY_MAX - 64];
	if (encode(enc, sizeof(enc), text) < 0)
		snprintf(enc, sizeof(enc), "(too%%20long)");
	if (j->len + strlen(head) + strlen(enc) + 16 + 512 > RINKI_CTL_MULTI_MAX) {
		j->overflow = true;
		return;
	}
	say(j, "+ %s text=%s\n", head, enc);
}

static void on_csv_error(const char *file, unsigned line, const char *reason, void *arg)
{
	struct job *j = arg;
	char head[64];
	(void)file;
	j->errors++;
	if (j->listed >= GW_ADMIN_ERRORS_LISTED || j->overflow)
		return;
	j->listed++;
	snprintf(head, sizeof(head), "error row=%u", line);
	say_text(j, head, reason);
}

static void on_manual(enum gw_db_manual_fate fate, const char *what, void *arg)
{
	static const char *const names[] = {
	    [GW_DB_MANUAL_KEPT] = "kept",
	    [GW_DB_MANUAL_IN_BASE] = "in-base",
	    [GW_DB_MANUAL_CONFLICT] = "conflict",
	    [GW_DB_MANUAL_DROPPED] = "dropped",
	};
	struct job *j = arg;
	char head[64];
	if (fate == GW_DB_MANUAL_CONFLICT)
		j->conflicts++;
	snprintf(head, sizeof(head), "manual fate=%s", names[fate]);
	say_text(j, head, what);
}

/* ---- the thread ----------------------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read fd to its end into *buf (NUL-terminated). 0, -EFBIG (over RINKI_CTL_FILE_MAX),
 * -ETIMEDOUT (a pipe not finished in time), -ECANCELED (stopped) or -errno.
 */
static int read_all(int fd, int stopfd, char **buf, size_t *len)
{
	size_t cap = 65536, got = 0;
	int64_t deadline = mono_ms() + RINKI_CTL_FILE_WAIT_MS;
	char *b = malloc(cap + 1);
	int rc = 0;

	if (!b)
		return -ENOMEM;
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = stopfd, .events = POLLIN}};
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		int n = poll(p, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (p[1].revents) {
			rc = -ECANCELED;
			break;
		}
		if (!p[0].revents)
			continue;
		if (got == cap) {
			if (cap > RINKI_CTL_FILE_MAX) {
				rc = -EFBIG;
				break;
			}
			char *nb = realloc(b, cap * 2 + 1);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, b + got, cap - got);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			rc = -errno;
			break;
		}
		if (k == 0)
			break;
		got += (size_t)k;
		if (got > RINKI_CTL_FILE_MAX) {
			rc = -EFBIG;
			break;
		}
	}
	if (rc < 0) {
		free(b);
		return rc;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

/* Lines in buf: LFs, plus a last line without one. */
static size_t count_rows(const char *buf, size_t len)
{
	size_t n = 0;
	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
		n++;
	return n + (len && buf[len - 1] != '\n');
}

static void counts_of(const struct gw_db_roster *d, char *out, size_t len, const char *prefix)
{
	snprintf(out, len,
		 "%slines=%zu %sworkers=%zu %sshifts=%zu %srotations=%zu %soverrides=%zu "
		 "%ssteps=%zu %sroutes=%zu %sdirs=%zu %sholidays=%zu",
		 prefix, d->n_lines, prefix, d->n_workers, prefix, d->n_shifts, prefix,
		 d->n_rotations, prefix, d->n_overrides, prefix, d->n_steps, prefix, d->n_routes,
		 prefix, d->n_dirs, prefix, d->n_holidays);
}

/* The import itself; returns the final line into j (after any "+" lines). */
/*
 * Read the client's file (what: "roster" or "directory") whole from j->fd, which it closes,
 * within the byte and row bounds. 0 with *buf (the caller frees it) and its *rows, or -1
 * when the job was already answered with the reason.
 */
static int read_file(struct gw_admin *a, struct job *j, const char *what, char **buf, size_t *len,
		     size_t *rows)
{
	int rc = read_all(j->fd, a->stopfd, buf, len);
	close(j->fd);
	j->fd = -1;
	if (rc == -EFBIG) {
		say(j, "err %s %s larger than %d bytes: refused, nothing read further",
		    RINKI_CTL_E_TOOLONG, what, RINKI_CTL_FILE_MAX);
		return -1;
	}
	if (rc == -ETIMEDOUT) {
		say(j, "err %s the %s did not end within %d ms", RINKI_CTL_E_FAILED, what,
		    RINKI_CTL_FILE_WAIT_MS);
		return -1;
	}
	if (rc < 0) {
		say(j, "err %s cannot read the %s: %s", RINKI_CTL_E_FAILED, what, strerror(-rc));
		return -1;
	}
	*rows = count_rows(*buf, *len);
	if (*rows > RINKI_CTL_ROSTER_ROWS_MAX) {
		free(*buf);
		*buf = NULL;
		say(j, "err %s %s of %zu rows: at most %d are taken, nothing imported",
		    RINKI_CTL_E_TOOLONG, what, *rows, RINKI_CTL_ROSTER_ROWS_MAX);
		return -1;
	}
	return 0;
}

static void run_import(struct gw_admin *a, struct job *j)
{
	const char *mode = j->apply ? "apply" : "preview";
	struct gw_db_roster in = {0}, cur = {0};
	char now_counts[200], was_counts[200];
	struct gw_db *db = NULL;
	char *buf = NULL;
	size_t len = 0, rows = 0;
	if (read_file(a, j, "roster", &buf, &len, &rows) < 0)
		return;
	int rc = gw_roster_parse_csv("roster", buf, len, &in, on_csv_error, j);
	free(buf);
	if (rc == -EINVAL || j->errors) {
		if (j->errors > j->listed)
			say(j, "+ more errors=%u\n", j->errors - j->listed);
		if (j->apply)
			say(j, "err %s %u error%s, nothing imported", RINKI_CTL_E_USAGE, j->errors,
			    j->errors == 1 ? "" : "s");
		else
			say(j, "ok mode=preview rows=%zu errors=%u", rows, j->errors);
		gw_db_roster_clear(&in);
		return;
	}
	if (rc < 0) {
		say(j, "err %s cannot parse the roster: %s", RINKI_CTL_E_FAILED, strerror(-rc));
		return;
	}
	struct pollfd stop = {.fd = a->stopfd, .events = POLLIN};
	if (poll(&stop, 1, 0) == 1) { /* rinkid stops: nothing is written */
		gw_db_roster_clear(&in);
		say(j, "err %s rinkid is stopping: nothing imported", RINKI_CTL_E_FAILED);
		return;
	}
	rc = gw_db_open_flags(a->db_path, GW_DB_NOCREATE, &db);
	if (rc == 0)
		rc = gw_db_roster_read(db, &cur);
	if (rc == 0) {
		counts_of(&cur, was_counts, sizeof(was_counts), "was_");
		unsigned flags =
		    (j->replace ? GW_DB_IMPORT_REPLACE : 0) | (j->apply ? 0 : GW_DB_IMPORT_DRY_RUN);
		rc = gw_db_roster_import(db, &in, flags, on_manual, j);
	}
	counts_of(&in, now_counts, sizeof(now_counts), "");
	gw_db_roster_clear(&cur);
	gw_db_roster_clear(&in);
	gw_db_close(db);
	if (rc == -ECANCELED) {
		if (j->apply)
			say(j,
			    "err %s %u manual change%s name workers or lines the roster lacks; "
			    "import with replace=1 to drop them; nothing imported",
			    RINKI_CTL_E_USAGE, j->conflicts, j->conflicts == 1 ? "" : "s");
		else
			say(j, "ok mode=preview rows=%zu errors=0 conflicts=%u %s %s", rows,
			    j->conflicts, now_counts, was_counts);
		return;
	}
	if (rc < 0) {
		say(j, "err %s the roster was not imported: %s", RINKI_CTL_E_FAILED, strerror(-rc));
		return;
	}
	j->applied = j->apply;
	snprintf(j->summary, sizeof(j->summary), "%s%s rows=%zu %s", mode,
		 j->replace ? " replace" : "", rows, now_counts);
	say(j, "ok mode=%s rows=%zu errors=0 conflicts=%u %s %s", mode, rows, j->conflicts,
	    now_counts, was_counts);
}

/* A directory import: the directory records only, replacing the directory in one
   transaction on a connection of its own; the rest of the roster stays. */
static void run_directory(struct gw_admin *a, struct job *j)
{
	struct gw_db_roster in = {0}, cur = {0};
	struct gw_db *db = NULL;
	char *buf = NULL;
	size_t len = 0, rows = 0;
	if (read_file(a, j, "directory", &buf, &len, &rows) < 0)
		return;
	int rc = gw_roster_parse_directory_csv("directory", buf, len, &in, on_csv_error, j);
	free(buf);
	if (rc == -EINVAL || j->errors) {
		if (j->errors > j->listed)
			say(j, "+ more errors=%u\n", j->errors - j->listed);
		say(j, "err %s %u error%s, nothing imported", RINKI_CTL_E_USAGE, j->errors,
		    j->errors == 1 ? "" : "s");
		gw_db_roster_clear(&in);
		return;
	}
	if (rc < 0) {
		say(j, "err %s cannot parse the directory: %s", RINKI_CTL_E_FAILED, strerror(-rc));
		return;
	}
	struct pollfd stop = {.fd = a->stopfd, .events = POLLIN};
	if (poll(&stop, 1, 0) == 1) { /* rinkid stops: nothing is written */
		gw_db_roster_clear(&in);
		say(j, "err %s rinkid is stopping: nothing imported", RINKI_CTL_E_FAILED);
		return;
	}
	rc = gw_db_open_flags(a->db_path, GW_DB_NOCREATE, &db);
	if (rc == 0)
		rc = gw_db_roster_read(db, &cur);
	size_t was = cur.n_dirs, now = in.n_dirs;
	if (rc == 0)
		rc = gw_db_directory_replace(db, in.dirs, in.n_dirs);
	gw_db_roster_clear(&cur);
	gw_db_roster_clear(&in);
	gw_db_close(db);
	if (rc < 0) {
		say(j, "err %s the directory was not imported: %s", RINKI_CTL_E_FAILED,
		    strerror(-rc));
		return;
	}
	j->applied = true;
	snprintf(j->summary, sizeof(j->summary), "entries=%zu", now);
	say(j, "ok entries=%zu was_entries=%zu", now, was);
}

static void *import_thread(void *arg)
{
	struct gw_admin *a = arg;
	uint64_t one = 1;
	if (a->job->directory)
		run_directory(a, a->job);
	else
		run_import(a, a->job);
	if (a->job->overflow) /* cut at a line: the final line must still come */
		snprintf(a->job->reply + a->job->len, RINKI_CTL_MULTI_MAX - a->job->len,
			 "err %s the answer does not fit", RINKI_CTL_E_FAILED);
	if (write(a->donefd, &one, sizeof(one)) < 0)
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "roster import: cannot wake the loop: %s",
		     strerror(errno));
	return NULL;
}

/* ---- the loop side ------------------------------------------------------------------------ */

/* Log a change as a system event naming who; best effort (the change is made). */
static void system_event(struct gw_admin *a, const char *kind, const char *who, const char *what)
{
	char detail[600];
	snprintf(detail, sizeof(detail), "by %s: %s", who, what);
	int rc = gw_db_system_event_append(a->db, gw_loop_wall_ms(a->loop), kind, detail);
	if (rc < 0)
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "%s by %s not in the call log: %s", kind, who,
		     strerror(-rc));
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "%s %s", kind, detail);
}

static void on_done(struct gw_loop *loop, int fd, short revents, void *arg)
{
	struct gw_admin *a = arg;
	uint64_t v;
	(void)loop;
	(void)revents;
	if (read(fd, &v, sizeof(v)) < 0 || !a->job)
		return;
	pthread_join(a->thread, NULL);
	struct job *j = a->job;
	a->job = NULL;
	if (j->applied)
		system_event(a, j->directory ? "directory_import" : "roster_import", j->who,
			     j->summary);
	if (a->ops.import_done)
		a->ops.import_done(a->ops.arg, j->ticket, j->reply);
	free(j->reply);
	free(j);
}

int gw_admin_new(struct gw_loop *loop, struct gw_db *db, const char *db_path,
		 const struct gw_admin_ops *ops, struct gw_admin **out)
{
	struct gw_admin *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->db = db;
	a->ops = *ops;
	a->db_path = strdup(db_path);
	a->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc = !a->db_path ? -ENOMEM : a->donefd < 0 || a->stopfd < 0 ? -errno : 0;
	if (rc == 0)
		rc = gw_loop_add_fd(loop, a->donefd, POLLIN, on_done, a);
	if (rc < 0) {
		if (a->donefd >= 0)
			close(a->donefd);
		if (a->stopfd >= 0)
			close(a->stopfd);
		free(a->db_path);
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void gw_admin_free(struct gw_admin *a)
{
	uint64_t one = 1;
	if (!a)
		return;
	if (a->job) {
		if (write(a->stopfd, &one, sizeof(one)) < 0)
			LOGP(GW_LOG_CTL, GW_LOG_ERROR, "roster import: stop: %s", strerror(errno));
		pthread_join(a->thread, NULL);
		free(a->job->reply);
		free(a->job);
	}
	gw_loop_del_fd(a->loop, a->donefd);
	close(a->donefd);
	close(a->stopfd);
	free(a->db_path);
	free(a);
}

bool gw_admin_importing(const struct gw_admin *a)
{
	return a->job != NULL;
}

/* Start the import thread on fd (taken) for job j's kind. 0, -EBUSY or -errno. */
static int start_job(struct gw_admin *a, int fd, const struct job *tmpl, const char *who)
{
	if (a->job) {
		close(fd);
		return -EBUSY;
	}
	struct job *j = calloc(1, sizeof(*j));
	char *reply = malloc(RINKI_CTL_MULTI_MAX);
	if (!j || !reply) {
		free(j);
		free(reply);
		close(fd);
		return -ENOMEM;
	}
	reply[0] = '\0';
	*j = *tmpl;
	j->fd = fd;
	j->reply = reply;
	snprintf(j->who, sizeof(j->who), "%s", who);
	a->job = j;
	int rc = pthread_create(&a->thread, NULL, import_thread, a);
	if (rc != 0) {
		a->job = NULL;
		close(fd);
		free(reply);
		free(j);
		return -rc;
	}
	return 0;
}

int gw_admin_roster_import(struct gw_admin *a, int fd, bool apply, bool replace, const char *who,
			   uint64_t ticket)
{
	struct job t = {.apply = apply, .replace = replace, .ticket = ticket};
	return start_job(a, fd, &t, who);
}

int gw_admin_directory_import(struct gw_admin *a, int fd, const char *who, uint64_t ticket)
{
	struct job t = {.directory = true, .apply = true, .ticket = ticket};
	return start_job(a, fd, &t, who);
}

int gw_admin_worker_add(struct gw_admin *a, const struct gw_db_worker *w, const char *who)
{
	char what[400];
	int rc = gw_db_worker_add(a->db, w);
	if (rc < 0)
		return rc;
	snprintf(what, sizeof(what), "worker %s (%s) %s%s%s language %s%s", w->handle, w->name,
		 w->phone, w->issi ? " ISSI " : "", w->issi ? w->issi : "",
		 w->lang ? w->lang : "fi", w->active ? "" : ", disabled");
	system_event(a, "worker_add", who, what);
	return 0;
}

int gw_admin_override_add(struct gw_admin *a, const struct gw_db_override *o, const char *reason,
			  const char *who, int64_t *id)
{
	char what[400], from[40], to[40];
	int rc = gw_db_override_add(a->db, o, id);
	if (rc < 0)
		return rc;
	gw_roster_format_time(o->start_ms, from, sizeof(from));
	gw_roster_format_time(o->end_ms, to, sizeof(to));
	snprintf(what, sizeof(what), "override %" PRId64 ": %s %s%s%s %s..%s%s%s", *id, o->kind,
		 o->worker, o->line ? " on " : "", o->line ? o->line : "", from, to,
		 reason ? ", reason: " : "", reason ? reason : "");
	system_event(a, "override_add", who, what);
	return 0;
}

int gw_admin_override_del(struct gw_admin *a, int64_t id, const char *who)
{
	char what[64];
	int rc = gw_db_override_remove(a->db, id);
	if (rc < 0)
		return rc;
	snprintf(what, sizeof(what), "override %" PRId64 " removed", id);
	system_event(a, "override_del", who, what);
	return 0;
}

int gw_admin_worker_set(struct gw_admin *a, const char *worker, int active, bool pin_reset,
			const char *pin, const char *phone, const char *lang, const char *who)
{
	char what[240], hash[GW_ROSTER_PIN_HASH_MAX];
	int rc = 0;
	if (pin && !gw_roster_pepper_loaded())
		return -ENOKEY;
	if (pin && (rc = gw_roster_hash_pin(pin, hash)) < 0) /* before any change */
		return rc;
	if (active >= 0)
		rc = gw_db_worker_set_active(a->db, worker, active != 0);
	if (rc == 0 && pin_reset)
		rc = gw_db_worker_clear_pin(a->db, worker);
	if (rc == 0 && pin)
		rc = gw_db_worker_set_pin(a->db, worker, hash);
	if (rc == 0 && (phone || lang))
		rc = gw_db_worker_set_details(a->db, worker, phone, lang);
	explicit_bzero(hash, sizeof(hash));
	if (rc < 0)
		return rc;
	int n = snprintf(what, sizeof(what), "worker %s%s%s", worker,
			 active < 0 ? ""
			 : active   ? " enabled"
				    : " disabled",
			 pin_reset ? " PIN reset"
			 : pin	   ? " PIN set"
				   : "");
	if (phone && n > 0 && (size_t)n < sizeof(what))
		n += snprintf(what + n, sizeof(what) - (size_t)n, " phone %s", phone);
	if (lang && n > 0 && (size_t)n < sizeof(what))
		snprintf(what + n, sizeof(what) - (size_t)n, " language %s", lang);
	system_event(a, "worker_set", who, what);
	return 0;
}
