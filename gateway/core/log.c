/*
 * log: the one place rinkid formats and emits log lines.
 *
 * Each category has a name and a level; a line is printed when its level is at
 * or below the category's. On stderr every line starts with seconds.micros of
 * CLOCK_MONOTONIC so AT traffic can be timed from a field log; under syslog the
 * priority carries the level and no timestamp is added (journald adds its own). Under
 * journald each line is one datagram of its native protocol ("KEY=value" lines; a value
 * with a newline in the binary form: KEY, newline, 64-bit little-endian length, bytes),
 * with the incident and service line of call-related lines as fields of their own, so
 * "journalctl RINKI_INCIDENT=12" shows one incident.
 */
#include "core/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	const char *desc;
	enum gw_log_level def;
} cats[GW_LOG_NCATS] = {
    [GW_LOG_MAIN] = {"main", "daemon start, stop, configuration", GW_LOG_INFO},
    [GW_LOG_RADIO] = {"radio", "TETRA terminal over PEI", GW_LOG_INFO},
    [GW_LOG_MODEM] = {"modem", "cellular modem", GW_LOG_INFO},
    [GW_LOG_IO] = {"io", "I/O microcontroller over Modbus", GW_LOG_INFO},
    [GW_LOG_DB] = {"db", "roster and call log database", GW_LOG_INFO},
    [GW_LOG_CALL] = {"call", "authority call state machine", GW_LOG_INFO},
    [GW_LOG_AUDIO] = {"audio", "voice bridge", GW_LOG_INFO},
    [GW_LOG_CTL] = {"ctl", "control socket", GW_LOG_INFO},
};

static enum gw_log_level levels[GW_LOG_NCATS];
static bool levels_set;
static bool to_syslog;
static gw_log_sink_fn sink;
static void *sink_arg;
static char ident_name[32] = "rinki";
static int journal_fd = -1;
static struct sockaddr_un journal_addr;
static bool syslog_open;
static long long ctx_incident; /* gw_log_set_call_line() */
static char ctx_line[32];

static void ensure_levels(void)
{
	if (levels_set)
		return;
	for (int i = 0; i < GW_LOG_NCATS; i++)
		levels[i] = cats[i].def;
	levels_set = true;
}

static void open_syslog(void)
{
	if (!syslog_open)
		openlog(ident_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	syslog_open = true;
}

void gw_log_init(const char *ident, bool use_syslog)
{
	ensure_levels();
	snprintf(ident_name, sizeof(ident_name), "%s", ident);
	to_syslog = use_syslog;
	if (use_syslog && gw_log_journal_open(GW_LOG_JOURNAL_SOCKET) < 0)
		open_syslog();
}

static int journal_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&journal_addr, sizeof(journal_addr)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int gw_log_journal_open(const char *path)
{
	if (strlen(path) >= sizeof(journal_addr.sun_path))
		return -ENAMETOOLONG;
	struct sockaddr_un old = journal_addr;
	memset(&journal_addr, 0, sizeof(journal_addr));
	journal_addr.sun_family = AF_UNIX;
	memcpy(journal_addr.sun_path, path, strlen(path));
	int fd = journal_connect();
	if (fd < 0) {
		journal_addr = old;
		return fd;
	}
	gw_log_journal_close();
	journal_fd = fd;
	return 0;
}

void gw_log_journal_close(void)
{
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = -1;
}

void gw_log_set_call_line(long long incident, const char *line)
{
	ctx_incident = incident;
	snprintf(ctx_line, sizeof(ctx_line), "%s", line ? line : "");
}

/* Append "KEY=value\n", or the binary form when value holds a newline. false: no room. */
static bool field(char *buf, size_t len, size_t *used, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	bool binary = memchr(value, '\n', vl) != NULL;
	size_t need = kl + 1 + (binary ? 8 : 0) + vl + 1;
	if (*used + need > len)
		return false;
	char *p = buf + *used;
	memcpy(p, key, kl);
	p += kl;
	if (binary) {
		*p++ = '\n';
		uint64_t n = vl;
		for (int i = 0; i < 8; i++)
			*p++ = (char)(n >> (8 * i));
	} else {
		*p++ = '=';
	}
	memcpy(p, value, vl);
	p += vl;
	*p = '\n';
	*used += need;
	return true;
}

/* "call(<id>){" or "callback(<id>){" at the start of msg: the id (> 0), else 0. */
static long long call_id(const char *msg, bool *callback)
{
	const char *p = NULL;
	if (!strncmp(msg, "call(", 5))
		p = msg + 5;
	else if (!strncmp(msg, "callback(", 9))
		p = msg + 9;
	*callback = p == msg + 9;
	if (!p || *p < '1' || *p > '9')
		return 0;
	char *end;
	long long id = strtoll(p, &end, 10);
	return end[0] == ')' && end[1] == '{' && end - p <= 18 ? id : 0;
}

/* One line to journald; false when the socket did not take it. */
static bool journal_send(enum gw_log_cat cat, enum gw_log_level level, const char *msg)
{
	char buf[1536], text[1100], num[24];
	size_t u = 0;
	snprintf(text, sizeof(text), "%s: %s", cats[cat].name, msg);
	snprintf(num, sizeof(num), "%d", (int)level);
	field(buf, sizeof(buf), &u, "MESSAGE", text);
	field(buf, sizeof(buf), &u, "PRIORITY", num);
	field(buf, sizeof(buf), &u, "SYSLOG_IDENTIFIER", ident_name);
	field(buf, sizeof(buf), &u, "RINKI_CATEGORY", cats[cat].name);
	bool cb;
	long long id = call_id(msg, &cb);
	if (id > 0) {
		snprintf(num, sizeof(num), "%lld", id);
		field(buf, sizeof(buf), &u, "RINKI_INCIDENT", num);
		if (cb)
			field(buf, sizeof(buf), &u, "RINKI_LINE", "callback");
		else if (id == ctx_incident && ctx_line[0])
			field(buf, sizeof(buf), &u, "RINKI_LINE", ctx_line);
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if (send(journal_fd, buf, u, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)u)
			return true;
		if (errno != ECONNREFUSED && errno != ENOTCONN)
			return false;	    /* full or too big: not waited for on the event loop */
		int fd = journal_connect(); /* journald restarted: its socket is a new one */
		if (fd < 0)
			return false;
		close(journal_fd);
		journal_fd = fd;
	}
	return false;
}

void gw_log_set_level(enum gw_log_cat cat, enum gw_log_level level)
{
	ensure_levels();
	if (cat == GW_LOG_NCATS) {
		for (int i = 0; i < GW_LOG_NCATS; i++)
			levels[i] = level;
		return;
	}
	levels[cat] = level;
}

int gw_log_parse_level(const char *s)
{
	static const struct {
		const char *name;
		enum gw_log_level level;
	} names[] = {
	    {"error", GW_LOG_ERROR}, {"warn", GW_LOG_WARN},   {"notice", GW_LOG_NOTICE},
	    {"info", GW_LOG_INFO},   {"debug", GW_LOG_DEBUG},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].level;
	return -EINVAL;
}

int gw_log_parse_cat(const char *s)
{
	for (int i = 0; i < GW_LOG_NCATS; i++)
		if (strcasecmp(s, cats[i].name) == 0)
			return i;
	return -EINVAL;
}

bool gw_log_enabled(enum gw_log_cat cat, enum gw_log_level level)
{
	ensure_levels();
	return cat < GW_LOG_NCATS && level <= levels[cat];
}

void gw_logv(enum gw_log_cat cat, enum gw_log_level level, const char *fmt, va_list ap)
{
	static const char *lvl_names[8] = {"", "", "", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG"};
	char msg[1024];

	if (!gw_log_enabled(cat, level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sink)
		sink(cat, level, msg, sink_arg);
	if (journal_fd >= 0 && journal_send(cat, level, msg))
		return;
	if (to_syslog || journal_fd >= 0) {
		open_syslog();
		syslog((int)level, "%s: %s", cats[cat].name, msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "%5lld.%06ld %-6s %-5s %s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		lvl_names[level & 7], cats[cat].name, msg);
}

void gw_log(enum gw_log_cat cat, enum gw_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gw_logv(cat, level, fmt, ap);
	va_end(ap);
}

void gw_log_set_sink(gw_log_sink_fn fn, void *arg)
{
	sink = fn;
	sink_arg = arg;
}
