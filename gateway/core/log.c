/*
 * log: the one place rinkid formats and emits log lines.
 *
 * Each category has a name and a level; a line is printed when its level is at
 * or below the category's. On stderr every line starts with seconds.micros of
 * CLOCK_MONOTONIC so AT traffic can be timed from a field log; under syslog the
 * priority carries the level and no timestamp is added (journald adds its own).
 */
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

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

static void ensure_levels(void)
{
	if (levels_set)
		return;
	for (int i = 0; i < GW_LOG_NCATS; i++)
		levels[i] = cats[i].def;
	levels_set = true;
}

void gw_log_init(const char *ident, bool use_syslog)
{
	ensure_levels();
	to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
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
	if (to_syslog) {
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
