/*
 * admin: rinki-web's requests to rinkid's control socket with an optional descriptor (on
 * the shared client, gateway/ctl/ctl_client.c), the memfd that carries an upload, and the
 * previewed uploads it keeps until they are applied (admin.h).
 */
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl/ctl_client.h"

const char *web_admin_final(const char *reply)
{
	return gw_ctl_client_final(reply);
}

int web_admin_request(const char *path, const char *line, int fd, char *buf, size_t len,
		      int timeout_ms)
{
	if (len)
		buf[0] = '\0';
	return gw_ctl_client_request(path, line, fd, buf, len, timeout_ms);
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
