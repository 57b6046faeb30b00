/*
 * log: categories and levels for every line rinkid prints.
 *
 * One enum of categories, each with a name and a default level. Output goes to
 * stderr (with a monotonic timestamp) or syslog. Call-related lines carry the
 * prefix "call(<id>){<STATE}>: " built by the call module with GW_LOGCALL.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum gw_log_cat {
	GW_LOG_MAIN,
	GW_LOG_RADIO,
	GW_LOG_MODEM,
	GW_LOG_IO,
	GW_LOG_DB,
	GW_LOG_CALL,
	GW_LOG_AUDIO,
	GW_LOG_CTL,
	GW_LOG_NCATS
};

/* Levels follow syslog numbering: lower is more severe. */
enum gw_log_level {
	GW_LOG_ERROR = 3,
	GW_LOG_WARN = 4,
	GW_LOG_NOTICE = 5,
	GW_LOG_INFO = 6,
	GW_LOG_DEBUG = 7,
};

/* journald's socket for its native protocol (systemd.journal-fields(7)). */
#define GW_LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

/*
 * Set where lines go: stderr with timestamps (default), or with use_syslog to journald
 * through GW_LOG_JOURNAL_SOCKET when it is there (gw_log_journal_open), else syslog(3).
 */
void gw_log_init(const char *ident, bool use_syslog);

/*
 * Send every line from now on as one datagram of journald's native protocol to the socket
 * at path: MESSAGE ("<category>: <text>"), PRIORITY (the level), SYSLOG_IDENTIFIER,
 * RINKI_CATEGORY, and for a call-related line RINKI_INCIDENT (the id in its prefix) and
 * RINKI_LINE (the service line gw_log_set_call_line() gave for that incident). A line the
 * socket does not take (journald restarting, its queue full) goes to syslog(3). Returns
 * 0, or -errno (cannot connect: nothing changes).
 */
int gw_log_journal_open(const char *path);
/* Stop sending to journald (back to where gw_log_init() put lines). */
void gw_log_journal_close(void);
/*
 * The service line of incident (its call-log id) for RINKI_LINE; the last one set is
 * kept. line NULL or "": none. Call-backs' lines have RINKI_LINE=callback by themselves.
 */
void gw_log_set_call_line(long long incident, const char *line);

/* Set the level of one category, or of all when cat is GW_LOG_NCATS. */
void gw_log_set_level(enum gw_log_cat cat, enum gw_log_level level);

/* Parse "debug"/"info"/"notice"/"warn"/"error"; returns the level or -EINVAL. */
int gw_log_parse_level(const char *s);

/* Parse a category name ("radio", "modem", ...); returns the enum or -EINVAL. */
int gw_log_parse_cat(const char *s);

/* True when a line of this category and level would be printed. */
bool gw_log_enabled(enum gw_log_cat cat, enum gw_log_level level);

/*
 * Optional sink that sees every printed line (tests capture log output with it).
 * Pass NULL to remove it.
 */
typedef void (*gw_log_sink_fn)(enum gw_log_cat cat, enum gw_log_level level, const char *line,
			       void *arg);
void gw_log_set_sink(gw_log_sink_fn fn, void *arg);

void gw_log(enum gw_log_cat cat, enum gw_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gw_logv(enum gw_log_cat cat, enum gw_log_level level, const char *fmt, va_list ap);

#define LOGP(cat, level, ...)                                                                      \
	do {                                                                                       \
		if (gw_log_enabled(cat, level))                                                    \
			gw_log(cat, level, __VA_ARGS__);                                           \
	} while (0)

#endif
