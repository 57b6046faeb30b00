/*
 * priv: drop root once the ports, PCMs and the control socket are open.
 *
 * rinkid needs root (or device-group membership) only to open what it opens at start;
 * it then runs as a dedicated user (rinki.conf run.user, default "rinki") with that
 * user's primary and supplementary groups, so reopening a serial port after a USB reset
 * works through udev's group permission (tools/udev/99-rinki.rules.example).
 */
#ifndef GW_PRIV_H
#define GW_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#define GW_PRIV_USER_DEFAULT "rinki"

/*
 * Not root: nothing to do, returns 0. Root and allow_root (--allow-root): stays root,
 * returns 0. Root otherwise: switches to user for good (groups, gid, uid; checked that
 * root cannot be regained) and returns 1. Errors, each logged: -EPERM (user empty, or
 * it is uid 0), -ENOENT (no such user), or -errno of setgroups/setgid/setuid.
 */
int gw_priv_drop(const char *user, bool allow_root);

/*
 * Become the owner of directory dir (the state directory) before writing there directly
 * (rinkictl while rinkid is not running), so no file it makes belongs to root: the owner
 * itself goes on (0); root switches to the owner's uid and gid for good, supplementary
 * groups dropped (1); anyone else is refused (-EPERM, with the reason in why). A dir
 * owned by root leaves root as it is (0). -errno (with why) when dir cannot be looked at
 * or the switch fails.
 */
int gw_priv_become_owner(const char *dir, char *why, size_t len);

#endif
