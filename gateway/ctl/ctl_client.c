/*
 * ctl_client: connect to rinkid's control socket, send a request line (and a descriptor
 * in an SCM_RIGHTS message on the same bytes), read until the final line of the reply
 * within a time limit. No state between calls; the caller owns the socket.
 */
#include "ctl/ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int gw_ctl_client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int gw_ctl_client_send(int sock, const char *line, int fd)
{
	char buf[RINKI_CTL_REQ_MAX];
	size_t n = strlen(line);
	if (n + 1 > sizeof(buf) || memchr(line, '\n', n))
		return -EINVAL;
	memcpy(buf, line, n);
	buf[n++] = '\n';
	size_t off = 0;
	while (off < n) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} cm;
		struct iovec iov = {.iov_base = buf + off, .iov_len = n - off};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		if (fd >= 0 && off == 0) { /* the descriptor rides on the first byte */
			memset(&cm, 0, sizeof(cm));
			msg.msg_control = cm.b;
			msg.msg_controllen = sizeof(cm.b);
			struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(h), &fd, sizeof(int));
		}
		ssize_t k = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		off += (size_t)k;
	}
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is the line at p (len bytes, no LF) a "+" data line? */
static bool data_line(const char *p, size_t len)
{
	return len >= 1 && p[0] == '+';
}

int gw_ctl_client_read(int sock, char *buf, size_t len, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	size_t got = 0, line = 0; /* line: start of the line being read */
	if (len < 2)
		return -EMSGSIZE;
	for (;;) {
		char *nl;
		while ((nl = memchr(buf + line, '\n', got - line))) {
			size_t l = (size_t)(nl - (buf + line));
			if (!data_line(buf + line, l)) {
				*nl = '\0';
				return strncmp(buf + line, "err", 3) == 0 ? 1 : 0;
			}
			line += l + 1;
		}
		if (got + 1 >= len)
			return -EMSGSIZE;
		int64_t left = deadline - mono_ms();
		struct pollfd p = {.fd = sock, .events = POLLIN};
		if (left <= 0)
			return -ETIMEDOUT;
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t k = recv(sock, buf + got, len - 1 - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ECONNRESET;
		got += (size_t)k;
		buf[got] = '\0';
	}
}

int gw_ctl_client_request(const char *path, const char *line, int fd, char *buf, size_t len,
			  int timeout_ms)
{
	int sock = gw_ctl_client_connect(path);
	if (sock < 0)
		return sock;
	/* A refused peer may find the connection closed already; its refusal is still there
	   to read, so a failed send is not the end. */
	int rc = gw_ctl_client_send(sock, line, fd);
	int r = gw_ctl_client_read(sock, buf, len, timeout_ms);
	close(sock);
	return rc < 0 && r < 0 ? rc : r;
}

const char *gw_ctl_client_final(const char *reply)
{
	const char *p = reply;
	for (;;) {
		const char *nl = strchr(p, '\n');
		if (!nl || p[0] != '+')
			return p;
		p = nl + 1;
	}
}
