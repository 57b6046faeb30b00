/*
 * ctl_user: the user-name cache of the control socket (see ctl_user.h). A fixed table of
 * GW_CTL_USER_SLOTS entries keyed by the exact uid, each with the time it was looked up;
 * a stale entry is looked up again, a full table gives up its oldest entry. Only plain
 * names ([A-Za-z0-9._-], at most 32 bytes) are kept, since they go into the call log's
 * chain and into log lines; any other name is treated as none ("uid N" for the caller).
 */
#include "ctl/ctl_user.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	struct entry e[GW_CTL_USER_SLOTS];
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

int gw_ctl_users_new(struct gw_loop *loop, gw_ctl_user_lookup_fn lookup, void *arg,
		     struct gw_ctl_users **out)
{
	struct gw_ctl_users *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->lookup = lookup ? lookup : passwd_lookup;
	c->arg = arg;
	*out = c;
	return 0;
}

void gw_ctl_users_free(struct gw_ctl_users *c)
{
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

int gw_ctl_users_name(struct gw_ctl_users *c, uid_t uid, char *buf, size_t len)
{
	int64_t now = now_ms(c);
	struct entry *slot = NULL;
	for (int i = 0; i < GW_CTL_USER_SLOTS; i++) {
		struct entry *e = &c->e[i];
		if (e->used && e->uid == uid) {
			int64_t ttl = e->rc == 0 ? GW_CTL_USER_TTL_MS : GW_CTL_USER_NEG_TTL_MS;
			if (now - e->at_ms < ttl)
				return copy_out(e, buf, len);
			slot = e; /* stale: looked up again in its place */
			break;
		}
	}
	if (!slot) { /* a free entry, else the oldest */
		for (int i = 0; i < GW_CTL_USER_SLOTS; i++) {
			struct entry *e = &c->e[i];
			if (!e->used) {
				slot = e;
				break;
			}
			if (!slot || e->at_ms < slot->at_ms)
				slot = e;
		}
	}
	char name[256]; /* room for a name too long, so that it is seen and refused whole */
	int rc = c->lookup(c->arg, uid, name, sizeof(name));
	if (rc == 0 && !plain(name))
		rc = -ENOENT;
	if (rc < 0 && rc != -ENOENT)
		return rc; /* a failure of the backend is not an answer: not kept */
	slot->used = true;
	slot->uid = uid;
	slot->rc = rc;
	slot->at_ms = now;
	if (rc == 0)
		memcpy(slot->name, name, strlen(name) + 1);
	else
		slot->name[0] = '\0';
	return copy_out(slot, buf, len);
}
