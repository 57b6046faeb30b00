/*
 * conf: parses rinki.conf. A table maps each key to a parser kind (string with
 * a maximum length, integer with a range, enum with names) and the field it
 * fills; gw_conf_parse_line() splits "key value", finds the key and runs the
 * parser. Lines longer than the buffer are an error, not silently cut. A file
 * (gw_conf_load) may give each key once: a second line for it is an error naming both,
 * and what only the whole file can tell (the control socket path fits a socket address)
 * is checked after the last line, so --check-config reports it too.
 */
#include "core/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

enum kind { K_STR, K_INT, K_ANSWER, K_LEVEL, K_DIGITS, K_ONEOF, K_BOOL, K_GSSIS, K_GWID };

#ifndef GW_PROMPT_DIR /* make passes $(PREFIX)/share/rinki/prompts */
#define GW_PROMPT_DIR "/usr/local/share/rinki/prompts"
#endif

static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
	size_t size; /* K_STR/K_DIGITS: buffer size */
	long min, max;
	const char *choices; /* K_ONEOF: space-separated allowed words */
} keys[] = {
#define F(f) .off = offsetof(struct gw_conf, f), .size = sizeof(((struct gw_conf *)0)->f)
#define S(n, f)                                                                                    \
	{                                                                                          \
		.name = n, .kind = K_STR, F(f)                                                     \
	}
#define I(n, f, lo, hi)                                                                            \
	{                                                                                          \
		.name = n, .kind = K_INT, F(f), .min = lo, .max = hi                               \
	}
#define ONEOF(n, f, words)                                                                         \
	{                                                                                          \
		.name = n, .kind = K_ONEOF, F(f), .choices = words                                 \
	}
    S("radio.port", radio_port),
    I("radio.baud", radio_baud, 1200, 921600),
    ONEOF("radio.model", radio_model, "generic motorola sepura airbus"),
    {.name = "radio.issi", .kind = K_DIGITS, F(radio_issi), .min = 1, .max = 17},
    I("radio.probe_idle", radio_probe_idle_s, 1, 600),
    I("radio.health_interval", radio_health_interval_s, 5, 3600),
    {.name = "radio.monitor_gssi", .kind = K_GSSIS, F(radio_monitor_gssi)},
    S("modem.port", modem_port),
    I("modem.baud", modem_baud, 1200, 921600),
    ONEOF("modem.vendor", modem_vendor, "generic huawei quectel simcom"),
    I("modem.clcc_poll_ms", clcc_poll_ms, 100, 5000),
    I("modem.clcc_grace_ms", clcc_grace_ms, 0, 60000),
    I("modem.probe_idle", modem_probe_idle_s, 1, 600),
    I("modem.health_interval", modem_health_interval_s, 5, 3600),
    S("io.port", io_port),
    I("io.timeout_ms", io_timeout_ms, 20, 10000),
    S("audio.radio", audio_radio),
    S("audio.phone", audio_phone),
    I("audio.rate", audio_rate, 8000, 48000),
    I("audio.period_ms", audio_period_ms, 5, 40),
    {.name = "audio.drift", .kind = K_BOOL, F(audio_drift)},
    S("prompt.dir", prompt_dir),
    ONEOF("prompt.language", prompt_language, "fi sv en"),
    S("db.path", db_path),
    S("spool.path", spool_path),
    S("recordings.dir", recordings_dir),
    {.name = "record.enabled", .kind = K_BOOL, F(record_enabled)},
    S("record.lines", record_lines),
    I("vad.attack_ms", vad_attack_ms, 10, 500),
    I("vad.hangover_ms", vad_hangover_ms, 50, 5000),
    I("vad.margin_db", vad_margin_db, 3, 40),
    S("ctl.socket", ctl_socket),
    S("ctl.group", ctl_group),
    S("ctl.admin_group", ctl_admin_group),
    S("run.user", run_user),
    I("run.rt_priority", rt_priority, 0, 99),
    I("call.ring_time", ring_time_s, 5, 120),
    I("call.accept_time", accept_time_s, 5, 120),
    I("call.rounds", rounds, 1, 5),
    {.name = "call.radio_answer", .kind = K_ANSWER, F(radio_answer)},
    {.name = "call.sms_page", .kind = K_BOOL, F(sms_page)},
    {.name = "call.sds_notify", .kind = K_BOOL, F(sds_notify)},
    I("call.ack_code_ttl", ack_code_ttl_s, 60, 86400),
    I("call.accept_retries", accept_retries, 0, 5),
    S("call.busy_fallback", busy_fallback),
    S("call.busy_text", busy_text),
    I("callback.key_time", callback_key_time_s, 3, 60),
    I("callback.lockout_s", callback_lockout_s, 0, 86400),
    {.name = "callback.simplex", .kind = K_BOOL, F(callback_simplex)},
    {.name = "log.level", .kind = K_LEVEL, F(log_level)},
    I("log.retention_days", retention_days, 0, 3650),
    S("web.listen", web_listen),
    S("web.users", web_users),
    S("web.user", web_user),
    S("web.tls_cert", web_tls_cert),
    S("web.tls_key", web_tls_key),
    S("county.conninfo", county_conninfo),
    {.name = "county.gateway_id", .kind = K_GWID, F(county_gateway_id)},
    I("county.batch", county_batch, 1, 10000),
    I("county.poll_ms", county_poll_ms, 100, 60000),
    I("county.retry_max", county_retry_max_s, 1, 3600),
    S("county.status_file", county_status_file),
    S("county.metrics_file", county_metrics_file),
    S("metrics.file", metrics_file),
    I("metrics.interval", metrics_interval_s, 1, 3600),
    S("modem.sim_pin_file", modem_sim_pin_file),
    S("events.file", events_file),
    S("roster.timezone", roster_timezone),
#undef S
#undef I
#undef ONEOF
#undef F
};

void gw_conf_defaults(struct gw_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->radio_port, sizeof(c->radio_port), "/dev/rinki-radio");
	c->radio_baud = 115200;
	snprintf(c->radio_model, sizeof(c->radio_model), "generic");
	snprintf(c->modem_port, sizeof(c->modem_port), "/dev/rinki-modem");
	c->modem_baud = 115200;
	snprintf(c->modem_vendor, sizeof(c->modem_vendor), "generic");
	c->io_port[0] = '\0';	  /* no I/O board unless configured */
	c->io_timeout_ms = 100;	  /* GW_IO_RSP_TIMEOUT_MS */
	c->audio_radio[0] = '\0'; /* no voice bridge unless both PCMs are configured */
	c->audio_phone[0] = '\0';
	snprintf(c->db_path, sizeof(c->db_path), "/var/lib/rinki/rinki.db");
	snprintf(c->recordings_dir, sizeof(c->recordings_dir), "/var/lib/rinki/recordings");
	snprintf(c->ctl_socket, sizeof(c->ctl_socket), "/run/rinki/rinki.sock");
	snprintf(c->ctl_group, sizeof(c->ctl_group), "%s", GW_CONF_CTL_GROUP);
	snprintf(c->ctl_admin_group, sizeof(c->ctl_admin_group), "%s", GW_CONF_CTL_ADMIN_GROUP);
	c->ring_time_s = 25;
	c->rounds = 2;
	c->radio_probe_idle_s = 10;
	c->radio_health_interval_s = 60;
	c->accept_time_s = 20;
	snprintf(c->run_user, sizeof(c->run_user), "rinki");
	snprintf(c->web_users, sizeof(c->web_users), "/var/lib/rinki-web/users.db");
	snprintf(c->web_user, sizeof(c->web_user), "rinki-web");
	c->audio_rate = 8000;
	c->audio_period_ms = 10;
	c->audio_drift = true;
	snprintf(c->prompt_dir, sizeof(c->prompt_dir), "%s", GW_PROMPT_DIR);
	snprintf(c->prompt_language, sizeof(c->prompt_language), "fi");
	snprintf(c->roster_timezone, sizeof(c->roster_timezone), "Europe/Helsinki");
	c->vad_attack_ms = 40;
	c->vad_hangover_ms = 500;
	c->vad_margin_db = 12;
	c->sms_page = true;
	c->sds_notify = true;
	c->ack_code_ttl_s = 15 * 60;
	c->accept_retries = 2;
	c->callback_key_time_s = 10;
	c->callback_lockout_s = 10 * 60;
	c->clcc_poll_ms = 500;
	c->clcc_grace_ms = 1000;
	c->modem_probe_idle_s = 10;
	c->modem_health_interval_s = 60;
	c->radio_answer = GW_RADIO_ANSWER_AT_ONCE;
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->county_batch = 500;
	c->county_poll_ms = 1000;
	c->county_retry_max_s = 30;
	snprintf(c->county_status_file, sizeof(c->county_status_file), "/run/rinki/sync.status");
	c->metrics_interval_s = 15;
}

bool gw_conf_gateway_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int parse_value(struct gw_conf *conf, const struct key *k, const char *v, char *err,
		       int errlen)
{
	char *field = (char *)conf + k->off;
	switch (k->kind) {
	case K_STR:
		if (strlen(v) >= k->size) {
			snprintf(err, (size_t)errlen, "%s: value longer than %zu characters",
				 k->name, k->size - 1);
			return -EINVAL;
		}
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case K_DIGITS: {
		size_t n = strlen(v);
		if (n < (size_t)k->min || n > (size_t)k->max || strspn(v, "0123456789") != n) {
			snprintf(err, (size_t)errlen, "%s: expected %ld to %ld digits, got '%s'",
				 k->name, k->min, k->max, v);
			return -EINVAL;
		}
		memcpy(field, v, n + 1);
		return 0;
	}
	case K_INT: {
		char *end;
		errno = 0;
		long val = strtol(v, &end, 10);
		if (errno || end == v || *end) {
			snprintf(err, (size_t)errlen, "%s: '%s' is not a whole number", k->name, v);
			return -EINVAL;
		}
		if (val < k->min || val > k->max) {
			snprintf(err, (size_t)errlen, "%s: %ld is outside %ld..%ld", k->name, val,
				 k->min, k->max);
			return -EINVAL;
		}
		*(int *)field = (int)val;
		return 0;
	}
	case K_ANSWER:
		if (strcmp(v, "at-once") == 0)
			*(enum gw_radio_answer *)field = GW_RADIO_ANSWER_AT_ONCE;
		else if (strcmp(v, "on-accept") == 0)
			*(enum gw_radio_answer *)field = GW_RADIO_ANSWER_ON_ACCEPT;
		else {
			snprintf(err, (size_t)errlen, "%s: expected at-once or on-accept, got '%s'",
				 k->name, v);
			return -EINVAL;
		}
		return 0;
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
			*(bool *)field = v[0] == 'y';
			return 0;
		}
		snprintf(err, (size_t)errlen, "%s: expected yes or no, got '%s'", k->name, v);
		return -EINVAL;
	case K_ONEOF: {
		size_t n = strlen(v);
		for (const char *c = k->choices; *c;) {
			size_t w = strcspn(c, " ");
			if (w == n && strncmp(c, v, n) == 0) {
				memcpy(field, v, n + 1);
				return 0;
			}
			c += w;
			while (*c == ' ')
				c++;
		}
		snprintf(err, (size_t)errlen, "%s: expected one of %s, got '%s'", k->name,
			 k->choices, v);
		return -EINVAL;
	}
	case K_GSSIS: {
		uint32_t g[GW_CONF_GSSI_MAX];
		int n = gw_conf_gssi_list(v, g, GW_CONF_GSSI_MAX);
		if (n < 0) {
			snprintf(
			    err, (size_t)errlen,
			    "%s: expected up to %d different GSSIs 1..16777215, comma-separated, "
			    "got '%.64s'",
			    k->name, GW_CONF_GSSI_MAX, v);
			return -EINVAL;
		}
		/* kept normalised: "9001,9002" */
		size_t used = 0;
		field[0] = '\0';
		for (int i = 0; i < n; i++)
			used += (size_t)snprintf(field + used, k->size - used, "%s%u", i ? "," : "",
						 (unsigned)g[i]);
		return 0;
	}
	case K_GWID:
		if (!gw_conf_gateway_id_ok(v)) {
			snprintf(
			    err, (size_t)errlen,
			    "%s: expected 1 to 32 of a-z, 0-9 and '-' (not first), got '%.64s'",
			    k->name, v);
			return -EINVAL;
		}
		snprintf(field, k->size, "%s", v);
		return 0;
	case K_LEVEL:
		if (gw_log_parse_level(v) < 0) {
			snprintf(err, (size_t)errlen,
				 "%s: expected error, warn, notice, info or debug, got '%s'",
				 k->name, v);
			return -EINVAL;
		}
		snprintf(field, k->size, "%s", v);
		return 0;
	}
	return -EINVAL;
}

int gw_conf_gssi_list(const char *list, uint32_t *out, int max)
{
	int n = 0;
	const char *p = list;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return 0;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		size_t digits = strspn(p, "0123456789");
		if (digits == 0 || digits > 8)
			return -EINVAL;
		unsigned long v = strtoul(p, NULL, 10);
		if (v < 1 || v > 16777215)
			return -EINVAL;
		for (int i = 0; i < n; i++)
			if (out[i] == v)
				return -EINVAL;
		if (n == max)
			return -E2BIG;
		out[n++] = (uint32_t)v;
		p += digits;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return n;
		if (*p++ != ',')
			return -EINVAL;
	}
}

const char *gw_conf_status_text(const struct gw_conf *conf, uint16_t v)
{
	for (int i = 0; i < conf->n_sds_status; i++)
		if (conf->sds_status[i].value == v)
			return conf->sds_status[i].text;
	return NULL;
}

/* "sds.status.<value> <text>": value decimal or 0x hex, 16 bits; a later line wins. */
static int parse_status_key(struct gw_conf *conf, const char *key, const char *v, char *err,
			    int errlen)
{
	const char *num = key + strlen("sds.status.");
	int hex = num[0] == '0' && (num[1] == 'x' || num[1] == 'X');
	const char *d = hex ? num + 2 : num;
	size_t nd = strspn(d, hex ? "0123456789abcdefABCDEF" : "0123456789");
	unsigned long val = nd && nd <= 5 && !d[nd] ? strtoul(d, NULL, hex ? 16 : 10) : 0x10000;
	if (val > 0xffff) {
		snprintf(err, (size_t)errlen,
			 "%.64s: status value must be 0..65535 (decimal) or 0x0..0xffff", key);
		return -EINVAL;
	}
	size_t len = strlen(v);
	if (len == 0 || len >= GW_CONF_STATUS_LEN) {
		snprintf(err, (size_t)errlen, "%.64s: text must be 1..%d characters", key,
			 GW_CONF_STATUS_LEN - 1);
		return -EINVAL;
	}
	int i = 0;
	while (i < conf->n_sds_status && conf->sds_status[i].value != val)
		i++;
	if (i == GW_CONF_STATUS_MAX) {
		snprintf(err, (size_t)errlen, "%.64s: more than %d sds.status keys", key,
			 GW_CONF_STATUS_MAX);
		return -EINVAL;
	}
	conf->sds_status[i].value = (uint16_t)val;
	memcpy(conf->sds_status[i].text, v, len + 1);
	if (i == conf->n_sds_status)
		conf->n_sds_status++;
	return 0;
}

int gw_conf_parse_line(struct gw_conf *conf, const char *line, char *err, int errlen)
{
	char buf[512];
	size_t len = strlen(line);
	if (len >= sizeof(buf)) {
		snprintf(err, (size_t)errlen, "line longer than %zu characters", sizeof(buf) - 1);
		return -EINVAL;
	}
	memcpy(buf, line, len + 1);
	char *p = buf;
	while (isspace((unsigned char)*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*p == '\0' || *p == '#')
		return 0;
	char *key = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	/* a '#' after blanks starts a comment: "call.ring_time 25   # seconds" */
	for (char *q = p; *q; q++) {
		if (*q == '#' && (q == p || isspace((unsigned char)q[-1]))) {
			*q = '\0';
			while (q > p && isspace((unsigned char)q[-1]))
				*--q = '\0';
			break;
		}
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (*p == '\0' && keys[i].kind != K_GSSIS) { /* an empty GSSI list: off */
			snprintf(err, (size_t)errlen, "%s: missing value", key);
			return -EINVAL;
		}
		return parse_value(conf, &keys[i], p, err, errlen);
	}
	if (strncmp(key, "sds.status.", 11) == 0) {
		if (*p == '\0') {
			snprintf(err, (size_t)errlen, "%.64s: missing value", key);
			return -EINVAL;
		}
		return parse_status_key(conf, key, p, err, errlen);
	}
	snprintf(err, (size_t)errlen, "unknown key '%.64s'", key);
	return -EINVAL;
}

int gw_conf_write(const struct gw_conf *conf, FILE *f)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		const char *field = (const char *)conf + k->off;
		switch (k->kind) {
		case K_INT:
			fprintf(f, "%s %d\n", k->name, *(const int *)field);
			break;
		case K_BOOL:
			fprintf(f, "%s %s\n", k->name, *(const bool *)field ? "yes" : "no");
			break;
		case K_ANSWER:
			fprintf(f, "%s %s\n", k->name,
				*(const enum gw_radio_answer *)field == GW_RADIO_ANSWER_ON_ACCEPT
				    ? "on-accept"
				    : "at-once");
			break;
		case K_STR:
		case K_DIGITS:
		case K_ONEOF:
		case K_LEVEL:
		case K_GSSIS:
		case K_GWID:
			if (field[0])
				fprintf(f, "%s %s\n", k->name, field);
			else
				fprintf(f, "#%s\n", k->name);
			break;
		}
	}
	for (int i = 0; i < conf->n_sds_status; i++)
		fprintf(f, "sds.status.0x%04x %s\n", conf->sds_status[i].value,
			conf->sds_status[i].text);
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

/*
 * The key a config line sets, as one name per setting ("sds.status.0x8002" and
 * "sds.status.32770" are one: the number in decimal), into out. False for a blank or
 * comment line.
 */
static bool line_key(const char *line, char *out, size_t len)
{
	while (isspace((unsigned char)*line))
		line++;
	size_t n = strcspn(line, " \t\r\n\v\f");
	if (n == 0 || line[0] == '#')
		return false;
	snprintf(out, len, "%.*s", (int)n, line);
	if (strncmp(out, "sds.status.", 11) == 0)
		snprintf(out + 11, len - 11, "%lu", strtoul(line + 11, NULL, 0));
	return true;
}

struct seen {
	char key[80];
	int line;
};

/* Checks over the whole file: the control socket path must fit sun_path. */
static int check_whole(const struct gw_conf *conf, const char *path, const struct seen *seen,
		       size_t n)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1,
	       len = strlen(conf->ctl_socket);
	if (len <= max)
		return 0;
	int line = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(seen[i].key, "ctl.socket") == 0)
			line = seen[i].line;
	LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
	     "%s:%d: ctl.socket: path of %zu bytes is longer than %zu, the most a socket address "
	     "holds",
	     path, line, len, max);
	return -EINVAL;
}

int gw_conf_load(struct gw_conf *conf, const char *path)
{
	FILE *f = fopen(path, "re"); /* O_CLOEXEC */
	if (!f) {
		int e = errno;
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "%s: cannot read: %s", path, strerror(e));
		return -e;
	}
	char *line = NULL, err[256];
	size_t cap = 0, nseen = 0, capseen = 0;
	struct seen *seen = NULL;
	ssize_t n;
	int lineno = 0, rc = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strlen(line) != (size_t)n) {
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "%s:%d: NUL byte in line", path, lineno);
			rc = -EINVAL;
			continue;
		}
		if (gw_conf_parse_line(conf, line, err, sizeof(err)) < 0) {
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "%s:%d: %s", path, lineno, err);
			rc = -EINVAL;
			continue;
		}
		char key[80];
		if (!line_key(line, key, sizeof(key)))
			continue;
		size_t i = 0;
		while (i < nseen && strcmp(seen[i].key, key) != 0)
			i++;
		if (i < nseen) {
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "%s:%d: %s given twice (first on line %d)",
			     path, lineno, key, seen[i].line);
			rc = -EINVAL;
			continue;
		}
		if (nseen == capseen) {
			struct seen *m =
			    realloc(seen, (capseen = capseen ? 2 * capseen : 32) * sizeof(*seen));
			if (!m) {
				rc = -ENOMEM;
				break;
			}
			seen = m;
		}
		memcpy(seen[nseen].key, key, sizeof(key));
		seen[nseen++].line = lineno;
	}
	if (rc == 0)
		rc = check_whole(conf, path, seen, nseen);
	free(seen);
	free(line);
	fclose(f);
	return rc;
}

int gw_conf_apply_live(struct gw_conf *conf, const struct gw_conf *next, char *restart, int len)
{
	/* Keys read at each use: safe to change under a live call. */
	static const char *const live[] = {
	    "radio.probe_idle",
	    "radio.health_interval",
	    "modem.clcc_poll_ms",
	    "modem.clcc_grace_ms",
	    "modem.probe_idle",
	    "modem.health_interval",
	    "call.ring_time",
	    "call.accept_time",
	    "call.rounds",
	    "call.radio_answer",
	    "call.sms_page",
	    "call.sds_notify",
	    "log.level",
	    "log.retention_days",
	    "call.ack_code_ttl",
	    "call.accept_retries",
	    "call.busy_fallback",
	    "call.busy_text",
	    "callback.key_time",
	    "callback.lockout_s",
	    "callback.simplex",
	    /* read by rinki-sync only: rinkid never needs a restart for them */
	    "county.conninfo",
	    "county.gateway_id",
	    "county.metrics_file",
	    "county.batch",
	    "county.poll_ms",
	    "county.retry_max",
	    "county.status_file",
	};
	int n = 0;
	size_t used = 0;
	restart[0] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		size_t sz = k->kind == K_INT || k->kind == K_ANSWER ? sizeof(int)
			    : k->kind == K_BOOL			    ? sizeof(bool)
								    : k->size;
		char *dst = (char *)conf + k->off;
		const char *src = (const char *)next + k->off;
		if (memcmp(dst, src, sz) == 0 || strncmp(k->name, "web.", 4) == 0)
			continue; /* web.* belong to rinki-web, which reads them at its start */
		int is_live = 0;
		for (size_t j = 0; j < sizeof(live) / sizeof(live[0]); j++)
			is_live |= strcmp(live[j], k->name) == 0;
		if (is_live) {
			memcpy(dst, src, sz);
			n++;
		} else if (used + strlen(k->name) + 3 < (size_t)len) {
			used += (size_t)snprintf(restart + used, (size_t)len - used, "%s%s",
						 used ? ", " : "", k->name);
		}
	}
	/* status meanings are looked up at each received status: live */
	if (conf->n_sds_status != next->n_sds_status ||
	    memcmp(conf->sds_status, next->sds_status, sizeof(conf->sds_status)) != 0) {
		memcpy(conf->sds_status, next->sds_status, sizeof(conf->sds_status));
		conf->n_sds_status = next->n_sds_status;
		n++;
	}
	return n;
}

int gw_conf_read_sim_pin(const char *path, char pin[GW_CONF_SIM_PIN_LEN])
{
	pin[0] = '\0';
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "modem.sim_pin_file %s: cannot open: %s", path,
		     e == ELOOP ? "a symbolic link" : strerror(e));
		return -e;
	}
	struct stat st;
	const char *why = NULL;
	int rc = 0;
	char buf[16];
	ssize_t n = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		why = strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		why = "not a regular file";
	} else if (st.st_mode & 077) {
		rc = -EPERM;
		why = "group or others have access to it (chmod 0600)";
	} else if ((n = read(fd, buf, sizeof(buf))) < 0) {
		rc = -errno;
		why = strerror(errno);
	}
	close(fd);
	if (rc == 0) {
		size_t len = (size_t)n;
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		size_t digits = 0;
		while (digits < len && isdigit((unsigned char)buf[digits]))
			digits++;
		if ((size_t)n == sizeof(buf) || digits != len || len < 4 || len > 8) {
			rc = -EINVAL;
			why = "does not hold a PIN of 4 to 8 digits (and a newline)";
		} else {
			memcpy(pin, buf, len);
			pin[len] = '\0';
		}
	}
	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory"); /* the wipe is not optimised away */
	if (rc < 0)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "modem.sim_pin_file %s: %s", path, why);
	return rc;
}
