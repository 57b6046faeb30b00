/*
 * admin: rinki-web's requests to rinkid's control socket with an optional descriptor, and
 * the previewed uploads it keeps until they are applied (admin.h).
 */
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send line + LF with fd in one message (SCM_RIGHTS). 0 or -errno. */
static int send_line(int sock, const char *line, int fd)
{
	char buf[1100];
	size_t n = strlen(line);

	if (n + 1 > sizeof(buf) || memchr(line, '\n', n))
		return -EINVAL;
	memcpy(buf, line, n);
	buf[n++] = '\n';
	struct iovec iov = {.iov_base = buf, .iov_len = n};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.b;
		m.msg_controllen = sizeof(c.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ssize_t k = sendmsg(sock, &m, MSG_NOSIGNAL);
	if (k < 0)
		return -errno;
	return (size_t)k == n ? 0 : -EIO;
}

const char *web_admin_final(const char *reply)
{
	const char *last = reply;
	for (const char *p = strchr(reply, '\n'); p; p = strchr(p + 1, '\n'))
		last = p + 1;
	return last;
}

int web_admin_request(const char *path, const char *line, int fd, char *buf, size_t len,
		      int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t got = 0, start = 0; /* start: where the current line begins */
	int rc;

	if (len < 2)
		return -EMSGSIZE;
	buf[0] = '\0';
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(s);
		return rc;
	}
	if ((rc = send_line(s, line, fd)) < 0) {
		close(s);
		return rc;
	}
	int64_t end = mono_ms() + timeout_ms;
	for (;;) {
		int64_t left = end - mono_ms();
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (left <= 0 || (rc = poll(&p, 1, (int)left)) == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (rc < 0) {
			rc = -errno;
			break;
		}
		if (got == len - 1) {
			rc = -EMSGSIZE;
			break;
		}
		ssize_t k = read(s, buf + got, len - 1 - got);
		if (k <= 0) {
			rc = k < 0 ? -errno : -ECONNRESET;
			break;
		}
		got += (size_t)k;
		buf[got] = '\0';
		/* every complete line: "+ ..." goes on, anything else is the final one */
		char *nl;
		rc = 2;
		while ((nl = memchr(buf + start, '\n', got - start))) {
			if (strncmp(buf + start, "+", 1) != 0) {
				*nl = '\0';
				rc = strncmp(buf + start, "ok", 2) == 0 ? 0 : 1;
				break;
			}
			start = (size_t)(nl - buf) + 1;
		}
		if (rc != 2)
			break;
	}
	close(s);
	if (rc < 0)
		buf[got < len ? got : len - 1] = '\0';
	return rc;
}

int web_admin_memfd(const char *data, size_t len)
{
	int fd = memfd_create("rinki-web-upload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t k = write(fd, data + off, len - off);
		if (k <= 0) {
			int e = k < 0 ? -errno : -EIO;
			close(fd);
			return e;
		}
		off += (size_t)k;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

void web_pending_drop(struct web_pending *p)
{
	if (p->data)
		sodium_memzero(p->data, p->len);
	free(p->data);
	memset(p, 0, sizeof(*p));
}

int web_pending_put(struct web_pending slots[WEB_PENDING_SLOTS], const char *user, const char *data,
		    size_t len, bool replace, int64_t now_ms, char token[WEB_TOKEN_HEX + 1])
{
	struct web_pending *use = NULL;

	for (int i = 0; i < WEB_PENDING_SLOTS; i++) {
		struct web_pending *p = &slots[i];
		if (p->t_ms && (strcmp(p->user, user) == 0 ||
				now_ms - p->t_ms > WEB_PENDING_TTL_MS || now_ms < p->t_ms))
			web_pending_drop(p);
		if (!use || (use->t_ms && (!p->t_ms || p->t_ms < use->t_ms)))
			use = p;
	}
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	web_pending_drop(use);
	snprintf(use->user, sizeof(use->user), "%s", user);
	web_token_new(use->token);
	use->replace = replace;
	use->data = copy;
	use->len = len;
	use->t_ms = now_ms ? now_ms : 1;
	memcpy(token, use->token, WEB_TOKEN_HEX + 1);
	return 0;
}

struct web_pending *web_pending_get(struct web_pending slots[WEB_PENDING_SLOTS], const char *user,
				    const char *token, int64_t now_ms)
{
	for (int i = 0; i < WEB_PENDING_SLOTS; i++) {
		struct web_pending *p = &slots[i];
		if (p->t_ms && strcmp(p->user, user) == 0 && web_token_eq(p->token, token) &&
		    now_ms - p->t_ms <= WEB_PENDING_TTL_MS && now_ms >= p->t_ms)
			return p;
	}
	return NULL;
}
