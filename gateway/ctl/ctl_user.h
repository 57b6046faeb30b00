/*
 * ctl_user: the user names of control-socket peers, by uid, cached. A passwd look-up may
 * go to a slow NSS backend (LDAP, sssd) and the control socket runs on the loop, so each
 * uid is looked up once and its name (or that it has none) kept for a while: a name for
 * GW_CTL_USER_TTL_MS, "no such user" for GW_CTL_USER_NEG_TTL_MS, on the loop's clock.
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

/*
 * A cache on loop's clock (NULL: the monotonic clock) in front of lookup (NULL: the
 * system's passwd database through getpwuid_r). Returns 0 and *out, or -ENOMEM.
 */
int gw_ctl_users_new(struct gw_loop *loop, gw_ctl_user_lookup_fn lookup, void *arg,
		     struct gw_ctl_users **out);
/* Free the cache. NULL is fine. */
void gw_ctl_users_free(struct gw_ctl_users *c);

/*
 * The plain user name of uid ([A-Za-z0-9._-], 1..32 bytes) into buf (len bytes), from the
 * cache when fresh, else looked up and kept (the oldest entry makes room). Returns 0,
 * -ENOENT (uid has no plain name), -ENOSPC (buf too small) or the look-up's negative errno.
 */
int gw_ctl_users_name(struct gw_ctl_users *c, uid_t uid, char *buf, size_t len);

#endif
