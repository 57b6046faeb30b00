/*
 * fuzz_ctl: libFuzzer target for the control-socket request path. Each input line goes
 * through gw_ctl_parse() and through gw_ctl_handle() for an admin and a nobody peer with
 * fake ops. Checked besides memory errors: a rejected parse has a message; an accepted one
 * survives encode + parse unchanged; every reply is one line that starts with "ok", "{" or
 * "err <code> "; the fakes only ever see validated numbers, ISSIs and control-free text,
 * overrides of a known kind over a non-empty range, ids >= 1 and PINs of 4-8 digits; a
 * request without a descriptor never reaches roster-import; a peer without access never
 * reaches the ops.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "core/log.h"

static int calls;

static int f_status(void *arg, struct gw_ctl_status *st)
{
	(void)arg;
	calls++;
	snprintf(st->version, sizeof(st->version), "fuzz");
	return 0;
}

static int f_page(void *arg, const char *number)
{
	(void)arg;
	calls++;
	size_t n = strlen(number), d = number[0] == '+';
	if (n - d < 3 || n - d > 20 || strspn(number + d, "0123456789") != n - d)
		abort();
	return 0;
}

static int f_sds(void *arg, const char *issi, const char *text)
{
	(void)arg;
	calls++;
	size_t n = strlen(issi);
	if (n < 1 || n > 17 || strspn(issi, "0123456789") != n || !text[0])
		abort();
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	return 1;
}

static int f_override_add(void *arg, const struct gw_db_override *o, const char *reason,
			  const char *who, int64_t *id)
{
	(void)arg;
	(void)reason;
	calls++;
	if (!o->worker || !o->worker[0] || !o->kind || o->start_ms >= o->end_ms || !who[0] ||
	    (strcmp(o->kind, "add") != 0 && strcmp(o->kind, "remove") != 0 &&
	     strcmp(o->kind, "replace") != 0))
		abort();
	*id = 1;
	return 0;
}

static int f_override_del(void *arg, int64_t id, const char *who)
{
	(void)arg;
	calls++;
	if (id < 1 || !who[0])
		abort();
	return 0;
}

static int f_worker_set(void *arg, const char *worker, int active, bool pin_reset, const char *pin,
			const char *phone, const char *lang, const char *who)
{
	(void)arg;
	if ((phone && phone[0] != '+') ||
	    (lang && strcmp(lang, "fi") && strcmp(lang, "sv") && strcmp(lang, "en")))
		abort(); /* ctl checks both before rinkid sees them */
	calls++;
	size_t n = pin ? strlen(pin) : 0;
	if (!worker[0] || active < -1 || active > 1 || !who[0] || (pin && pin_reset) ||
	    (pin && (n < 4 || n > 8 || strspn(pin, "0123456789") != n)) ||
	    (active < 0 && !pin_reset && !pin && !phone && !lang))
		abort();
	return 0;
}

static int f_roster_import(void *arg, int fd, bool apply, bool replace, const char *who,
			   uint64_t ticket)
{
	(void)arg, (void)fd, (void)apply, (void)replace, (void)who, (void)ticket;
	abort(); /* gw_ctl_handle passes no descriptor */
}

static void check_reply(const char *r)
{
	size_t n = strnlen(r, RINKI_CTL_REPLY_MAX);
	if (n >= RINKI_CTL_REPLY_MAX || memchr(r, '\n', n))
		abort();
	if (strncmp(r, "ok", 2) != 0 && r[0] != '{' && strncmp(r, "err ", 4) != 0)
		abort();
}

static void round_trip(const struct gw_ctl_msg *m)
{
	static char line[2 * RINKI_CTL_REPLY_MAX * 3];
	static struct gw_ctl_msg again;
	char err[160];
	size_t w = (size_t)snprintf(line, sizeof(line), "%s", m->verb);
	for (int i = 0; i < m->nargs; i++) {
		w += (size_t)snprintf(line + w, sizeof(line) - w, " %s=", m->args[i].key);
		int k = gw_ctl_encode(line + w, sizeof(line) - w, m->args[i].value);
		if (k < 0)
			abort();
		w += (size_t)k;
	}
	if (gw_ctl_parse(line, w, &again, err, sizeof(err)) < 0 || again.nargs != m->nargs ||
	    strcmp(again.verb, m->verb) != 0)
		abort();
	for (int i = 0; i < m->nargs; i++)
		if (strcmp(again.args[i].key, m->args[i].key) != 0 ||
		    strcmp(again.args[i].value, m->args[i].value) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_ctl *ctl;
	static struct gw_ctl_msg m;
	static char reply[RINKI_CTL_REPLY_MAX];
	static const struct gw_ctl_ops ops = {.status = f_status,
					      .page_test = f_page,
					      .sds_send = f_sds,
					      .override_add = f_override_add,
					      .override_del = f_override_del,
					      .worker_set = f_worker_set,
					      .roster_import = f_roster_import};
	const struct gw_ctl_peer admin = {.pid = 1, .uid = 0};
	const struct gw_ctl_peer nobody = {.pid = 2, .uid = 65534, .gid = 65534};
	char err[160];

	if (!ctl) {
		gw_log_init("fuzz_ctl", false);
		gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
		if (gw_ctl_new(&ops, &ctl) < 0)
			abort();
	}
	size_t i = 0;
	while (i <= size) {
		const char *line = (const char *)data + i;
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - (data + i)) : size - i;
		i += len + 1;

		err[0] = '\0';
		if (gw_ctl_parse(line, len, &m, err, sizeof(err)) < 0) {
			if (!err[0])
				abort();
		} else {
			round_trip(&m);
		}
		gw_ctl_handle(ctl, &admin, line, len, reply, sizeof(reply));
		check_reply(reply);
		int before = calls;
		gw_ctl_handle(ctl, &nobody, line, len, reply, sizeof(reply));
		check_reply(reply);
		if (calls != before || strncmp(reply, "err ", 4) != 0)
			abort();
	}
	return 0;
}
