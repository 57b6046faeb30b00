/*
 * ctl_status: what `rinkictl status` and the web console show, formatted from a
 * gw_ctl_status snapshot: the health verdict with its reasons (gw_ctl_health) and the
 * status reply in both forms, "ok group.key=value ..." or one JSON object
 * (gw_ctl_format_status). Pure formatting, no I/O: ctl.c answers the status verb with it.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One writer for both forms: "ok group.key=value ..." or {"key":v,"group":{"key":v}}. */
struct out {
	char *buf;
	size_t len, cap;
	bool json, overflow;
	bool in_group, first;
	const char *group;
};

__attribute__((format(printf, 2, 3))) static void out_raw(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->overflow)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

static void out_group(struct out *o, const char *name)
{
	if (o->json) {
		out_raw(o, "%s%s\"%s\":{", o->in_group ? "}" : "", o->first ? "" : ",", name);
		o->first = true;
	}
	o->in_group = true;
	o->group = name;
}

static void out_key(struct out *o, const char *key)
{
	if (o->json)
		out_raw(o, "%s\"%s\":", o->first ? "" : ",", key);
	else if (o->in_group)
		out_raw(o, " %s.%s=", o->group, key);
	else
		out_raw(o, " %s=", key);
	o->first = false;
}

static void put_bool(struct out *o, const char *key, bool v)
{
	out_key(o, key);
	out_raw(o, "%s", o->json ? (v ? "true" : "false") : (v ? "yes" : "no"));
}

static void put_int(struct out *o, const char *key, int64_t v)
{
	out_key(o, key);
	out_raw(o, "%" PRId64, v);
}

static void put_str(struct out *o, const char *key, const char *s)
{
	out_key(o, key);
	if (o->overflow)
		return;
	if (!o->json) {
		int n = gw_ctl_encode(o->buf + o->len, o->cap - o->len, s);
		if (n < 0)
			o->overflow = true;
		else
			o->len += (size_t)n;
		return;
	}
	out_raw(o, "\"");
	for (; *s && !o->overflow; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			out_raw(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			out_raw(o, "\\u%04x", c);
		else
			out_raw(o, "%c", c);
	}
	out_raw(o, "\"");
}

static const char *reg_name(int stat)
{
	static const char *const names[] = {"not-registered", "home",	 "searching",
					    "denied",	      "unknown", "visited"};
	if (stat < 0)
		return "not-asked";
	return stat < (int)(sizeof(names) / sizeof(names[0])) ? names[stat] : "unknown";
}

static const char *modem_call_name(enum gw_modem_call_state st)
{
	static const char *const names[] = {
	    [GW_MODEM_CALL_ACTIVE] = "active",	   [GW_MODEM_CALL_HELD] = "held",
	    [GW_MODEM_CALL_DIALING] = "dialing",   [GW_MODEM_CALL_ALERTING] = "alerting",
	    [GW_MODEM_CALL_INCOMING] = "incoming", [GW_MODEM_CALL_WAITING] = "waiting",
	    [GW_MODEM_CALL_IDLE] = "idle",
	};
	if ((unsigned)st < sizeof(names) / sizeof(names[0]) && names[st])
		return names[st];
	return "unknown";
}

const char *gw_ctl_health_name(enum gw_ctl_health h)
{
	return h == GW_CTL_HEALTHY ? "healthy" : h == GW_CTL_DEGRADED ? "degraded" : "down";
}

/* Append what to why (comma-separated), cut to fit. */
static void problem(char *why, size_t len, const char *what)
{
	size_t used = strlen(why);
	if (used + 1 < len)
		snprintf(why + used, len - used, "%s%s", used ? ", " : "", what);
}

enum gw_ctl_health gw_ctl_health(const struct gw_ctl_status *st, char *why, size_t len)
{
	bool radio = st->radio.port_up && st->radio.ready;
	bool modem = st->modem.port_up && st->modem.ready;
	int n = 0;
	if (len)
		why[0] = '\0';
	if (!radio) {
		problem(why, len, st->radio.port_up ? "radio not ready" : "radio port closed");
		n++;
	}
	if (!modem) {
		problem(why, len, st->modem.port_up ? "modem not ready" : "modem port closed");
		n++;
	}
	if (st->io_present && !st->io.up) {
		problem(why, len, "I/O board down");
		n++;
	}
	if (st->db.problem[0]) {
		problem(why, len, st->db.problem);
		n++;
	} else if (st->db.spooling) {
		problem(why, len, "database away (call log spooled)");
		n++;
	}
	if (!radio && !modem)
		return GW_CTL_DOWN;
	return n ? GW_CTL_DEGRADED : GW_CTL_HEALTHY;
}

int gw_ctl_format_status(const struct gw_ctl_status *st, bool json, char *buf, size_t len)
{
	struct out o = {.buf = buf, .cap = len, .json = json, .first = true};
	char fw[24], why[160];
	enum gw_ctl_health health = gw_ctl_health(st, why, sizeof(why));

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	out_raw(&o, "%s", json ? "{" : "ok");
	put_int(&o, "proto", RINKI_CTL_PROTO_VERSION);
	put_str(&o, "version", st->version);
	put_int(&o, "uptime_s", st->uptime_s);
	put_str(&o, "health", gw_ctl_health_name(health));
	put_str(&o, "problems", why);

	out_group(&o, "radio");
	put_bool(&o, "port_up", st->radio.port_up);
	put_bool(&o, "ready", st->radio.ready);
	put_str(&o, "reg", reg_name(st->radio.reg_stat));
	put_int(&o, "rssi_dbm", st->radio.rssi_dbm);
	put_int(&o, "live_calls", st->radio.live_calls);
	put_str(&o, "identity", st->radio.identity);

	out_group(&o, "modem");
	put_bool(&o, "port_up", st->modem.port_up);
	put_bool(&o, "ready", st->modem.ready);
	put_bool(&o, "sim", st->modem.sim_ready);
	put_str(&o, "sim_state", st->modem.sim_state);
	put_str(&o, "reg", reg_name(st->modem.reg_stat));
	put_int(&o, "rssi_dbm", st->modem.rssi_dbm);
	put_str(&o, "operator", st->modem.operator_name);
	put_str(&o, "call", modem_call_name(st->modem.call));
	put_int(&o, "recoveries", st->modem.recoveries);

	out_group(&o, "io");
	put_bool(&o, "present", st->io_present);
	if (st->io_present) {
		const struct gw_io_status *io = &st->io;
		snprintf(fw, sizeof(fw), "%u.%u.%u", io->fw_major, io->fw_minor, io->fw_patch);
		put_bool(&o, "up", io->up);
		put_str(&o, "board", gw_io_board_name(io->board_id));
		put_str(&o, "fw", fw);
		put_int(&o, "uptime_s", io->uptime_s);
		put_bool(&o, "squelch", io->squelch);
		put_bool(&o, "ptt", io->ptt_wanted);
		put_int(&o, "polls", io->polls);
		put_int(&o, "failures", io->failures);
		put_str(&o, "last_error", io->last_error ? gw_io_strerror(io->last_error) : "");
		put_int(&o, "boot_count", io->boot_count);
		put_int(&o, "wdt_resets", io->wdt_resets);
		put_int(&o, "ptt_timeouts", io->ptt_timeouts);
		put_int(&o, "crc_errors", io->crc_errors);
	}

	out_group(&o, "call");
	put_bool(&o, "live", st->call.live);
	put_int(&o, "id", st->call.id);
	put_str(&o, "state", st->call.live ? gw_call_state_name(st->call.state) : "none");

	out_group(&o, "callback");
	put_bool(&o, "live", st->callback.live);
	put_int(&o, "id", st->callback.live ? st->callback.id : 0);
	put_str(&o, "state", st->callback.live ? gw_cb_state_name(st->callback.state) : "none");
	put_str(&o, "worker", st->callback.live ? st->callback.worker : "");

	out_group(&o, "db");
	put_bool(&o, "spooling", st->db.spooling);
	put_str(&o, "problem", st->db.problem);

	out_group(&o, "roster");
	put_int(&o, "county_version", st->roster.county_version);
	put_int(&o, "made_ms", st->roster.made_ms);

	out_group(&o, "counters");
	put_int(&o, "incidents", st->counters.incidents);
	put_int(&o, "pages", st->counters.pages);
	put_int(&o, "sms_out", st->counters.sms_out);
	put_int(&o, "sms_in", st->counters.sms_in);
	put_int(&o, "sds_out", st->counters.sds_out);
	put_int(&o, "sds_in", st->counters.sds_in);

	out_group(&o, "ctl");
	put_int(&o, "clients", st->ctl.clients);
	put_int(&o, "requests", st->ctl.requests);
	put_int(&o, "denied", st->ctl.denied);
	put_int(&o, "dropped", st->ctl.dropped);
	if (json)
		out_raw(&o, "}}");
	return o.overflow ? -ENOSPC : (int)o.len;
}
