/*
 * ctl_user: the user names of control-socket peers, by uid, cached. A passwd look-up may
 * go to a slow NSS backend (LDAP, sssd) and the control socket runs on the loop, so each
 * uid is looked up once and its name (or that it has none) kept for a while: a name for
 * GW_CTL_USER_TTL_MS, "no such user" (or a failing backend) for GW_CTL_USER_NEG_TTL_MS, on
 * the loop's clock. With a loop, gw_ctl_users_fetch() looks a uid up in a thread of its own
 * and tells the loop when it is in, so the loop never waits for NSS.
 */
#ifndef GW_CTL_USER_H
#define GW_CTL_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "core/loop.h"

#define GW_CTL_USER_SLOTS      16
#define GW_CTL_USER_NAME_MAX   32 /* longer names count as none */
#define GW_CTL_USER_TTL_MS     (10 * 60 * 1000)
#define GW_CTL_USER_NEG_TTL_MS (60 * 1000)

struct gw_ctl_users;

/*
 * The look-up behind the cache: the plain name of uid into name (len bytes). Returns 0,
 * -ENOENT (no such user, or a name that is not plain) or a negative errno (not cached).
 */
typedef int (*gw_ctl_user_lookup_fn)(void *arg, uid_t uid, char *name, size_t len);

/* Called on the loop when a look-up started by gw_ctl_users_fetch() is in the cache. */
typedef void (*gw_ctl_user_ready_fn)(void *arg);

/*
 * A cache on loop's clock (NULL: the monotonic clock, and no fetching off the loop) in
 * front of lookup (NULL: the system's passwd database through getpwuid_r; called from a
 * thread of the cache's when fetching). ready (may be NULL) with ready_arg says a fetch is
 * in. Returns 0 and *out, or -errno.
 */
int gw_ctl_users_new(struct gw_loop *loop, gw_ctl_user_lookup_fn lookup, void *arg,
		     gw_ctl_user_ready_fn ready, void *ready_arg, struct gw_ctl_users **out);
/* Free the cache; waits for a look-up in flight to return. NULL is fine. */
void gw_ctl_users_free(struct gw_ctl_users *c);

/*
 * The plain user name of uid ([A-Za-z0-9._-], 1..32 bytes) into buf (len bytes), from the
 * cache when fresh, else looked up and kept (the oldest entry makes room). Returns 0,
 * -ENOENT (uid has no plain name), -ENOSPC (buf too small) or the look-up's negative errno.
 */
int gw_ctl_users_name(struct gw_ctl_users *c, uid_t uid, char *buf, size_t len);

/*
 * Make sure uid's entry is fresh without waiting: 0 when it is (gw_ctl_users_name answers
 * from the cache), 1 when a look-up of it runs off the loop now or is queued (ready comes
 * when it is in; the entry is then fresh, a failure kept as "no name"), -EAGAIN when
 * GW_CTL_USER_SLOTS others wait already, -ENOTSUP without a loop, or -errno.
 */
int gw_ctl_users_fetch(struct gw_ctl_users *c, uid_t uid);

#endif
