/*
 * notify: sd_notify by hand. gw_notify_send() opens a datagram socket, sends the message
 * to $NOTIFY_SOCKET (a leading '@' becomes the abstract namespace's NUL) and closes it,
 * so there is no state to keep across a privilege drop. The watchdog is one gw_timer
 * that re-arms itself at half the period systemd asked for and pings while healthy.
 */
#include "core/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

#define STATUS_MAX 256

struct gw_notify {
	struct gw_loop *loop;
	gw_notify_healthy_fn healthy;
	void *arg;
	int64_t period_ms; /* ping period; 0: no watchdog */
	struct gw_timer wd;
	bool unhealthy_logged;
	char last_status[STATUS_MAX];
};

int gw_notify_send(const char *msg)
{
	const char *addr = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n;

	if (!addr || !addr[0])
		return 0;
	n = strlen(addr);
	if ((addr[0] != '/' && addr[0] != '@') || n < 2)
		return -EAFNOSUPPORT;
	if (n > sizeof(sa.sun_path) || (addr[0] == '/' && n == sizeof(sa.sun_path)))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, addr, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	/* a path includes its NUL; an abstract name is exactly its bytes */
	socklen_t salen =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (addr[0] == '/' ? 1 : 0));

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t w = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	int e = errno;
	close(fd);
	if (w < 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_WARN, "sd_notify to %s: %s", addr, strerror(e));
		return -e;
	}
	return 1;
}

static void on_watchdog(struct gw_loop *loop, void *arg)
{
	struct gw_notify *n = arg;
	bool ok = !n->healthy || n->healthy(n->arg);
	if (ok) {
		gw_notify_send("WATCHDOG=1");
		if (n->unhealthy_logged)
			LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "healthy again: watchdog pings resume");
		n->unhealthy_logged = false;
	} else if (!n->unhealthy_logged) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "not healthy: watchdog pings withheld");
		n->unhealthy_logged = true;
	}
	gw_timer_schedule(loop, &n->wd, n->period_ms);
}

int gw_notify_new(struct gw_loop *loop, gw_notify_healthy_fn healthy, void *arg,
		  struct gw_notify **out)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	int64_t period = 0;

	if (usec && usec[0]) {
		char *end;
		errno = 0;
		unsigned long long us = strtoull(usec, &end, 10);
		if (errno || *end || usec[0] == '-' || us == 0 || us > INT64_MAX / 2) {
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "WATCHDOG_USEC '%s' is not a period", usec);
			return -EINVAL;
		}
		period = (int64_t)(us / 2000); /* half the period, in ms */
		if (period < 1)
			period = 1;
		if (pid && pid[0] && strtol(pid, NULL, 10) != (long)getpid())
			period = 0; /* meant for another process */
	}
	struct gw_notify *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->loop = loop;
	n->healthy = healthy;
	n->arg = arg;
	n->period_ms = period;
	gw_timer_init(&n->wd, on_watchdog, n);
	*out = n;
	return 0;
}

void gw_notify_free(struct gw_notify *n)
{
	if (!n)
		return;
	gw_timer_cancel(n->loop, &n->wd);
	free(n);
}

int64_t gw_notify_watchdog_ms(const struct gw_notify *n)
{
	return n->period_ms;
}

/* "STATUS=" + text with newlines turned into spaces, into buf. */
static void status_line(char *buf, size_t len, const char *text)
{
	snprintf(buf, len, "STATUS=%s", text);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int gw_notify_ready(struct gw_notify *n, const char *status)
{
	char msg[STATUS_MAX + 32] = "READY=1";
	if (status) {
		size_t k = strlen(msg);
		msg[k++] = '\n';
		status_line(msg + k, sizeof(msg) - k, status);
		snprintf(n->last_status, sizeof(n->last_status), "%s", status);
	}
	int rc = gw_notify_send(msg);
	if (n->period_ms && !n->wd.armed) {
		on_watchdog(n->loop, n); /* first ping now, then every period */
		LOGP(GW_LOG_MAIN, GW_LOG_INFO, "systemd watchdog: ping every %lld ms",
		     (long long)n->period_ms);
	}
	return rc;
}

int gw_notify_status(struct gw_notify *n, const char *fmt, ...)
{
	char text[STATUS_MAX], msg[STATUS_MAX + 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, n->last_status) == 0)
		return 0;
	memcpy(n->last_status, text, sizeof(text));
	status_line(msg, sizeof(msg), text);
	return gw_notify_send(msg);
}

int gw_notify_stopping(struct gw_notify *n)
{
	(void)n;
	return gw_notify_send("STOPPING=1");
}
