/*
 * ctl_user: the user-name cache of the control socket (see ctl_user.h). A fixed table of
 * GW_CTL_USER_SLOTS entries keyed by the exact uid, each with the time it was looked up;
 * a stale entry is looked up again, a full table gives up its oldest entry. Only plain
 * names ([A-Za-z0-9._-], at most 32 bytes) are kept, since they go into the call log's
 * chain and into log lines; any other name is treated as none ("uid N" for the caller).
 * Fetching: one look-up at a time in a thread started for it (no signals), the result
 * handed back through an eventfd in the loop, which joins the thread, stores the entry,
 * starts the next queued uid and calls ready.
 */
#include "ctl/ctl_user.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

struct entry {
	bool used;
	uid_t uid;
	int rc; /* 0: name is the name; -ENOENT: none */
	char name[GW_CTL_USER_NAME_MAX + 1];
	int64_t at_ms;
};

struct gw_ctl_users {
	struct gw_loop *loop;
	gw_ctl_user_lookup_fn lookup;
	void *arg;
	gw_ctl_user_ready_fn ready;
	void *ready_arg;
	struct entry e[GW_CTL_USER_SLOTS];
	/* fetching (with a loop) */
	int evfd;
	bool busy; /* a thread looks busy_uid up */
	pthread_t th;
	uid_t busy_uid;
	int res_rc;	    /* the thread's result, read after the join */
	char res_name[256]; /* room for a name too long, so that it is seen and refused whole */
	uid_t queue[GW_CTL_USER_SLOTS];
	int nq;
};

static bool plain(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= GW_CTL_USER_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int passwd_lookup(void *arg, uid_t uid, char *name, size_t len)
{
	(void)arg;
	struct passwd pw, *res = NULL;
	char buf[1024];
	int err = getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
	/* getpwuid_r(3): "not found" may come as 0 with no result, or ENOENT, ESRCH, EBADF,
	   EPERM */
	if (err == 0 && res) {
		if (!plain(res->pw_name) || strlen(res->pw_name) >= len)
			return -ENOENT;
		memcpy(name, res->pw_name, strlen(res->pw_name) + 1);
		return 0;
	}
	if (err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM)
		return -ENOENT;
	return -err;
}

static int64_t now_ms(const struct gw_ctl_users *c)
{
	if (c->loop)
		return gw_loop_now_ms(c->loop);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_fetched(struct gw_loop *loop, int fd, short revents, void *arg);

int gw_ctl_users_new(struct gw_loop *loop, gw_ctl_user_lookup_fn lookup, void *arg,
		     gw_ctl_user_ready_fn ready, void *ready_arg, struct gw_ctl_users **out)
{
	struct gw_ctl_users *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->lookup = lookup ? lookup : passwd_lookup;
	c->arg = arg;
	c->ready = ready;
	c->ready_arg = ready_arg;
	c->evfd = -1;
	if (loop) {
		c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		int rc =
		    c->evfd < 0 ? -errno : gw_loop_add_fd(loop, c->evfd, POLLIN, on_fetched, c);
		if (rc < 0) {
			if (c->evfd >= 0)
				close(c->evfd);
			free(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

void gw_ctl_users_free(struct gw_ctl_users *c)
{
	if (!c)
		return;
	if (c->busy)
		pthread_join(c->th, NULL);
	if (c->evfd >= 0) {
		gw_loop_del_fd(c->loop, c->evfd);
		close(c->evfd);
	}
	free(c);
}

static int copy_out(const struct entry *e, char *buf, size_t len)
{
	if (e->rc < 0)
		return e->rc;
	size_t n = strlen(e->name);
	if (n >= len)
		return -ENOSPC;
	memcpy(buf, e->name, n + 1);
	return 0;
}

/* uid's entry when fresh; else NULL, with *slot the entry to fill (its stale one, a free
   one, or the oldest). */
static struct entry *find(struct gw_ctl_users *c, uid_t uid, int64_t now, struct entry **slot)
{
	*slot = NULL;
	for (int i = 0; i < GW_CTL_USER_SLOTS; i++) {
		struct entry *e = &c->e[i];
		if (e->used && e->uid == uid) {
			int64_t ttl = e->rc == 0 ? GW_CTL_USER_TTL_MS : GW_CTL_USER_NEG_TTL_MS;
			if (now - e->at_ms < ttl)
				return e;
			*slot = e; /* stale: looked up again in its place */
			return NULL;
		}
	}
	for (int i = 0; i < GW_CTL_USER_SLOTS; i++) { /* a free entry, else the oldest */
		struct entry *e = &c->e[i];
		if (!e->used) {
			*slot = e;
			break;
		}
		if (!*slot || e->at_ms < (*slot)->at_ms)
			*slot = e;
	}
	return NULL;
}

/* Keep the answer rc/name for uid in slot; a name that is not plain counts as none. */
static void store(struct entry *slot, uid_t uid, int rc, const char *name, int64_t now)
{
	if (rc == 0 && !plain(name))
		rc = -ENOENT;
	slot->used = true;
	slot->uid = uid;
	slot->rc = rc;
	slot->at_ms = now;
	if (rc == 0)
		memcpy(slot->name, name, strlen(name) + 1);
	else
		slot->name[0] = '\0';
}

int gw_ctl_users_name(struct gw_ctl_users *c, uid_t uid, char *buf, size_t len)
{
	int64_t now = now_ms(c);
	struct entry *slot, *e = find(c, uid, now, &slot);
	if (e)
		return copy_out(e, buf, len);
	char name[256]; /* room for a name too long, so that it is seen and refused whole */
	int rc = c->lookup(c->arg, uid, name, sizeof(name));
	if (rc < 0 && rc != -ENOENT)
		return rc; /* a failure of the backend is not an answer: not kept */
	store(slot, uid, rc, name, now);
	return copy_out(slot, buf, len);
}

/* ---- fetching off the loop ------------------------------------------------------------ */

static void *fetch_main(void *arg)
{
	struct gw_ctl_users *c = arg;
	uint64_t one = 1;
	c->res_rc = c->lookup(c->arg, c->busy_uid, c->res_name, sizeof(c->res_name));
	if (write(c->evfd, &one, sizeof(one)) < 0)
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "user name look-up: cannot wake the loop: %s",
		     strerror(errno));
	return NULL;
}

static int start(struct gw_ctl_users *c, uid_t uid)
{
	sigset_t all, old;
	c->busy_uid = uid;
	c->res_name[0] = '\0';
	sigfillset(&all); /* the thread takes no signals: they are the loop's (signalfd) */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&c->th, NULL, fetch_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	c->busy = true;
	return 0;
}

static void on_fetched(struct gw_loop *loop, int fd, short revents, void *arg)
{
	struct gw_ctl_users *c = arg;
	uint64_t v;
	(void)loop;
	(void)revents;
	if (read(fd, &v, sizeof(v)) < 0 || !c->busy)
		return;
	pthread_join(c->th, NULL);
	c->busy = false;
	int64_t now = now_ms(c);
	struct entry *slot;
	if (!find(c, c->busy_uid, now, &slot)) /* a failing backend: kept as no name, so the
						  loop never asks it itself */
		store(slot, c->busy_uid, c->res_rc == 0 ? 0 : -ENOENT, c->res_name, now);
	if (c->res_rc < 0 && c->res_rc != -ENOENT)
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "user name of uid %u: %s", (unsigned)c->busy_uid,
		     strerror(-c->res_rc));
	while (c->nq > 0 && !c->busy) {
		uid_t next = c->queue[0];
		memmove(c->queue, c->queue + 1, (size_t)(c->nq - 1) * sizeof(c->queue[0]));
		c->nq--;
		struct entry *e = find(c, next, now, &slot);
		if (!e && start(c, next) < 0)
			store(slot, next, -ENOENT, "", now); /* no thread: "uid N" for a while */
	}
	if (c->ready)
		c->ready(c->ready_arg);
}

int gw_ctl_users_fetch(struct gw_ctl_users *c, uid_t uid)
{
	if (!c->loop)
		return -ENOTSUP;
	struct entry *slot;
	if (find(c, uid, now_ms(c), &slot))
		return 0;
	if (c->busy && c->busy_uid == uid)
		return 1;
	for (int i = 0; i < c->nq; i++)
		if (c->queue[i] == uid)
			return 1;
	if (!c->busy) {
		int rc = start(c, uid);
		return rc < 0 ? rc : 1;
	}
	if (c->nq == GW_CTL_USER_SLOTS)
		return -EAGAIN;
	c->queue[c->nq++] = uid;
	return 1;
}
