/*
 * priv: the privilege drop. Looks the user up in the password database, sets the
 * supplementary groups with initgroups(3), then the gid, then the uid (that order: after
 * setuid the others are no longer allowed), and proves the drop by checking that
 * setuid(0) now fails. glibc applies set*id to every thread of the process, so helper
 * threads started earlier (the I/O board client) drop too.
 */
#include "core/priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/log.h"

int gw_priv_drop(const char *user, bool allow_root)
{
	if (geteuid() != 0 && getuid() != 0)
		return 0;
	if (allow_root) {
		LOGP(GW_LOG_MAIN, GW_LOG_WARN, "running as root (--allow-root)");
		return 0;
	}
	if (!user || !user[0]) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
		     "refusing to run as root: set run.user or pass --allow-root");
		return -EPERM;
	}
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		/* glibc leaves errno 0 or sets ENOENT/ESRCH/EBADF/EPERM for "not found" */
		int e = errno;
		bool missing = e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
		     "run.user: no user '%s' (%s); create it (useradd --system %s) or pass "
		     "--allow-root",
		     user, missing ? "not found" : strerror(e), user);
		return missing ? -ENOENT : -e;
	}
	if (pw->pw_uid == 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "run.user '%s' is uid 0: refusing", user);
		return -EPERM;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		int e = errno;
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "cannot become %s (uid %u gid %u): %s", user,
		     (unsigned)uid, (unsigned)gid, strerror(e));
		return -e;
	}
	if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getegid() != gid) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "privilege drop to %s did not hold", user);
		return -EPERM;
	}
	LOGP(GW_LOG_MAIN, GW_LOG_INFO, "running as %s (uid %u gid %u)", user, (unsigned)uid,
	     (unsigned)gid);
	return 1;
}

int gw_priv_become_owner(const char *dir, char *why, size_t len)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(why, len, "%s: %s", dir, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	close(fd);
	uid_t me = geteuid();
	if (me == st.st_uid)
		return 0;
	if (me != 0) {
		snprintf(why, len,
			 "%s belongs to uid %u: only its owner or root may write there directly",
			 dir, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0) {
		int e = errno;
		snprintf(why, len, "cannot become the owner of %s (uid %u): %s", dir,
			 (unsigned)st.st_uid, strerror(e));
		return -e;
	}
	if (setuid(0) == 0) { /* root must be gone for good */
		snprintf(why, len, "root could be regained after switching to uid %u",
			 (unsigned)st.st_uid);
		return -EPERM;
	}
	return 1;
}
