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

#define GW_PRIV_USER_DEFAULT "rinki"

/*
 * Not root: nothing to do, returns 0. Root and allow_root (--allow-root): stays root,
 * returns 0. Root otherwise: switches to user for good (groups, gid, uid; checked that
 * root cannot be regained) and returns 1. Errors, each logged: -EPERM (user empty, or
 * it is uid 0), -ENOENT (no such user), or -errno of setgroups/setgid/setuid.
 */
int gw_priv_drop(const char *user, bool allow_root);

#endif
