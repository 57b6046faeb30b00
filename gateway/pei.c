/*
 * pei: radio driver. The serial port feeds the AT engine; URC callbacks parse
 * the PEI lines into typed events.
 *
 * Init: every (re)open of the port, and every terminal reboot (an unsolicited
 * +CTOM), runs the model's init profile one step at a time. +CME ERROR: 35
 * right after the port opens means the terminal still chews on old bytes: the
 * "AT" step repeats until it passes (as ftl/tetra-pei does); +CME ERROR: 42
 * (busy in signalling) retries the step a second later; any other failure is
 * logged and the profile goes on, so a terminal that rejects an optional
 * setting still carries calls. +CNUMF is checked against radio.issi.
 *
 * Liveness: after radio.probe_idle seconds without a byte from the terminal an
 * "AT" probe goes out; three unanswered probes in a row reopen the port (which
 * runs the init again). Registration and signal (+CREG?, +CSQ?) are polled
 * every radio.health_interval seconds and kept for status.
 *
 * Calls: the ccis of live calls are tracked from +CTICN/+CTCC to +CTCR, so a
 * reboot can report each lost call, and shutdown can release them with ATH.
 */
#include "pei.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at.h"
#include "log.h"
#include "serial.h"

#define T_CMD_MS	   2000
#define MAX_CALLS	   8
#define RESYNC_MAX	   20
#define RESYNC_MS	   300
#define BUSY_RETRY_MS	   1000
#define PROBE_FAILS_REOPEN 3

struct gw_pei {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_pei_ops ops;
	struct gw_serial *port;
	struct gw_at *at;
	int ready;
	const struct profile *profile;
	int init_step; /* index into profile->cmds; -1 when no init runs */
	int init_retries;
	struct gw_timer init_retry;
	struct gw_timer probe;
	int probe_fails;
	int probing;
	struct gw_timer health;
	struct gw_pei_health h;
	int calls[MAX_CALLS]; /* live ccis, -1 free */
};

/*
 * Init profiles per terminal model. "generic" is the ETSI set: TMO, voice and
 * SDS-TL text/status to the TE. "motorola" is SvxLink TetraLogic's TMO list for
 * MTM5400/MTM800E (pei-init.json). Sepura and Airbus terminals use the generic
 * set: no public source confirms their PEI defaults (reference: unconfirmed).
 */
struct profile {
	const char *model;
	const char *const *cmds;
	int ncmds;
};
static const char *const init_generic[] = {
    "AT", "ATE0", "AT+CTOM=0", "AT+CTSP=2,0,0", "AT+CTSP=1,3,130", "AT+CTSP=2,2,20",
};
static const char *const init_motorola[] = {
    "AT",
    "ATE0",
    "AT+CTOM=0",
    "AT+CTSP=1,3,131",
    "AT+CTSP=1,3,130",
    "AT+CTSP=1,3,138",
    "AT+CTSP=1,2,20",
    "AT+CTSP=2,0,0",
    "AT+CTSP=1,3,24",
    "AT+CTSP=1,3,25",
    "AT+CTSP=1,3,3",
    "AT+CTSP=1,3,10",
    "AT+CTSP=1,1,11",
    "AT+CTSDC=0,0,0,0,0,0,0,1,0,0",
};
#define PROFILE(m, c)                                                                              \
	{                                                                                          \
		m, c, (int)(sizeof(c) / sizeof(c[0]))                                              \
	}
static const struct profile profiles[] = {
    PROFILE("generic", init_generic),
    PROFILE("motorola", init_motorola),
    PROFILE("sepura", init_generic),
    PROFILE("airbus", init_generic),
};

static const char *const causes[] = {
    "not defined or unknown",
    "user request",
    "called party busy",
    "called party not reachable",
    "called party does not support encryption",
    "network congestion",
    "not allowed traffic",
    "incompatible traffic",
    "service not available",
    "pre-emption",
    "invalid call identifier",
    "called party rejection",
    "no idle CC entity",
    "timer expiry",
    "SwMI disconnect",
    "no acknowledgement",
    "unknown TETRA identity",
    "supplementary service dependent",
    "unknown external subscriber number",
    "call restoration failed",
    "called party requires encryption",
    "concurrent set-up not supported",
    "called party is under the same DM-GATE as the calling party",
    [31] = "called party offered unacceptable service",
    "pre-emption by late entering gateway",
    "link to DM-REP not established or failed",
    "link to gateway failed",
    "call rejected by gateway",
    "V+D call set-up failure",
    "V+D resource lost or call timer expired",
    "transmit authorization lost",
    "channel has become occupied by other users",
    "security parameter mismatch",
};

const char *gw_pei_cause_name(int cause)
{
	if (cause < 0 || cause >= (int)(sizeof(causes) / sizeof(causes[0])))
		return "unknown";
	return causes[cause] ? causes[cause] : "reserved";
}

static int parse_id(const char *f, char *out)
{
	size_t n = strlen(f);
	if (n == 0 || n >= GW_PEI_ID_MAX || strspn(f, "0123456789") != n)
		return -EINVAL;
	memcpy(out, f, n + 1);
	return 0;
}

/* Optional small integer field: "" gives -1. */
static int opt_int(const char *f, long hi, int *out)
{
	long v;
	if (!f || !*f) {
		*out = -1;
		return 0;
	}
	if (gw_at_int(f, 0, hi, &v) < 0)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static const char *params_of(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(line, prefix, n) != 0)
		return NULL;
	line += n;
	while (*line == ' ')
		line++;
	return line;
}

int gw_pei_parse_cticn(const char *line, struct gw_pei_call_in *c)
{
	const char *p = params_of(line, "+CTICN:");
	const char *f[13];
	char buf[256];
	if (!p)
		return -EINVAL;
	int n = gw_at_fields(p, buf, sizeof(buf), f, 13);
	if (n < 3)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	long v;
	if (gw_at_int(f[0], 0, 65535, &v) < 0)
		return -EINVAL;
	c->cci = (int)v;
	if (opt_int(f[1], 9, &c->call_status) < 0 || opt_int(f[2], 15, &c->ai_service) < 0)
		return -EINVAL;
	int *ints[] = {&c->calling_type, NULL,	    &c->hook,	     &c->simplex, &c->e2ee,
		       &c->comms_type,	 &c->slots, &c->called_type, NULL,	  &c->priority};
	for (int i = 3; i < 13; i++) {
		const char *fv = i < n ? f[i] : "";
		if (i == 4) {
			if (*fv && parse_id(fv, c->calling) < 0)
				return -EINVAL;
			continue;
		}
		if (i == 11) {
			if (*fv && parse_id(fv, c->called) < 0)
				return -EINVAL;
			continue;
		}
		if (opt_int(fv, i == 12 ? 15 : 9, ints[i - 3]) < 0)
			return -EINVAL;
	}
	return 0;
}

int gw_pei_parse_ctcc(const char *line, int *cci)
{
	const char *p = params_of(line, "+CTCC:");
	const char *f[8];
	char buf[128];
	long v;
	if (!p || gw_at_fields(p, buf, sizeof(buf), f, 8) < 1 || gw_at_int(f[0], 0, 65535, &v) < 0)
		return -EINVAL;
	*cci = (int)v;
	return 0;
}

int gw_pei_parse_ctcr(const char *line, int *cci, int *cause)
{
	const char *p = params_of(line, "+CTCR:");
	const char *f[3];
	char buf[64];
	long a, b;
	if (!p || gw_at_fields(p, buf, sizeof(buf), f, 3) != 2 ||
	    gw_at_int(f[0], 0, 65535, &a) < 0 || gw_at_int(f[1], 0, 255, &b) < 0)
		return -EINVAL;
	*cci = (int)a;
	*cause = (int)b;
	return 0;
}

/* ---- live calls ---------------------------------------------------------------------- */

static void call_add(struct gw_pei *pei, int cci)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (pei->calls[i] == cci)
			return;
	for (int i = 0; i < MAX_CALLS; i++) {
		if (pei->calls[i] < 0) {
			pei->calls[i] = cci;
			return;
		}
	}
	LOGP(GW_LOG_RADIO, GW_LOG_WARN, "more than %d calls at once: call %d not tracked",
	     MAX_CALLS, cci);
}

static void call_del(struct gw_pei *pei, int cci)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (pei->calls[i] == cci)
			pei->calls[i] = -1;
}

int gw_pei_live_calls(const struct gw_pei *pei)
{
	int n = 0;
	for (int i = 0; i < MAX_CALLS; i++)
		n += pei->calls[i] >= 0;
	return n;
}

/* ---- URCs ------------------------------------------------------------------------------ */

static void urc_cticn(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	struct gw_pei_call_in c;
	if (gw_pei_parse_cticn(lines[0], &c) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed +CTICN skipped: %.120s", lines[0]);
		return;
	}
	call_add(pei, c.cci);
	pei->ops.incoming(pei->ops.arg, &c);
}

static void urc_ctcc(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	int cci;
	if (gw_pei_parse_ctcc(lines[0], &cci) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed +CTCC skipped: %.120s", lines[0]);
		return;
	}
	call_add(pei, cci);
	pei->ops.connected(pei->ops.arg, cci);
}

static void urc_ctcr(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	int cci, cause;
	if (gw_pei_parse_ctcr(lines[0], &cci, &cause) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed +CTCR skipped: %.120s", lines[0]);
		return;
	}
	call_del(pei, cci);
	pei->ops.released(pei->ops.arg, cci, cause);
}

static void urc_ignore(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	(void)arg;
	LOGP(GW_LOG_RADIO, GW_LOG_DEBUG, "not handled yet: %.120s", lines[0]);
}

static void start_init(struct gw_pei *pei);

/* +CTOM outside the init: the terminal restarted or changed mode. Its calls are gone. */
static void urc_ctom(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	if (pei->init_step >= 0)
		return; /* our own AT+CTOM= during the init */
	LOGP(GW_LOG_RADIO, GW_LOG_WARN, "terminal restarted or changed mode (%s): init again",
	     lines[0]);
	for (int i = 0; i < MAX_CALLS; i++) {
		if (pei->calls[i] >= 0) {
			int cci = pei->calls[i];
			pei->calls[i] = -1;
			LOGP(GW_LOG_RADIO, GW_LOG_WARN, "call %d lost in the restart", cci);
			pei->ops.released(pei->ops.arg, cci, 0);
		}
	}
	gw_at_flush(pei->at);
	if (pei->ready && pei->ops.ready)
		pei->ops.ready(pei->ops.arg, 0);
	pei->ready = 0;
	start_init(pei);
}

/* ---- init -------------------------------------------------------------------------------- */

static void init_next(struct gw_pei *pei);

static void cnumf_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	if (r->result == GW_AT_ABORTED)
		return;
	pei->init_step = -1;
	const char *own = "";
	char buf[64];
	const char *f[2];
	for (int i = 0; i < r->nlines; i++) {
		const char *p = params_of(r->lines[i], "+CNUMF:");
		if (p && gw_at_fields(p, buf, sizeof(buf), f, 2) == 2)
			own = f[1];
	}
	snprintf(pei->h.identity, sizeof(pei->h.identity), "%s", own);
	const char *want = pei->conf->radio_issi;
	size_t ol = strlen(own), wl = strlen(want);
	if (wl && (ol < wl || strcmp(own + ol - wl, want) != 0))
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR,
		     "terminal identity %s does not end in the configured ISSI %s: check "
		     "radio.issi",
		     *own ? own : "(none)", want);
	LOGP(GW_LOG_RADIO, GW_LOG_NOTICE, "terminal ready, identity %s", *own ? own : "unknown");
	pei->ready = 1;
	if (pei->ops.ready)
		pei->ops.ready(pei->ops.arg, 1);
	gw_timer_schedule(pei->loop, &pei->health, 0);
}

static void init_step_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	if (r->result == GW_AT_ABORTED || pei->init_step < 0)
		return;
	const char *cmd = pei->profile->cmds[pei->init_step];
	if (r->result == GW_AT_CME_ERROR && r->err == 35 && pei->init_step == 0 &&
	    pei->init_retries < RESYNC_MAX) {
		/* syntax error right after open: old bytes in the terminal; resync */
		pei->init_retries++;
		gw_timer_schedule(pei->loop, &pei->init_retry, RESYNC_MS);
		return;
	}
	if (r->result == GW_AT_CME_ERROR && r->err == 42 && pei->init_retries < RESYNC_MAX) {
		pei->init_retries++;
		gw_timer_schedule(pei->loop, &pei->init_retry, BUSY_RETRY_MS);
		return;
	}
	if (r->result != GW_AT_OK)
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "init step %s failed: %s %d, going on", cmd,
		     gw_at_result_name(r->result), r->err);
	pei->init_step++;
	pei->init_retries = 0;
	init_next(pei);
}

static void init_next(struct gw_pei *pei)
{
	if (pei->init_step < pei->profile->ncmds) {
		gw_at_cmd(pei->at, pei->profile->cmds[pei->init_step], NULL, T_CMD_MS, 0,
			  init_step_done, pei);
		return;
	}
	gw_at_cmd(pei->at, "AT+CNUMF?", "+CNUMF:", T_CMD_MS, 0, cnumf_done, pei);
}

static void on_init_retry(struct gw_loop *loop, void *arg)
{
	(void)loop;
	init_next(arg);
}

static void start_init(struct gw_pei *pei)
{
	pei->init_step = 0;
	pei->init_retries = 0;
	init_next(pei);
}

/* ---- liveness and health ---------------------------------------------------------------- */

static void probe_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	pei->probing = 0;
	if (r->result == GW_AT_ABORTED)
		return;
	if (r->result != GW_AT_TIMEOUT) {
		pei->probe_fails = 0;
		return;
	}
	pei->probe_fails++;
	LOGP(GW_LOG_RADIO, GW_LOG_WARN, "terminal does not answer (%d of %d probes)",
	     pei->probe_fails, PROBE_FAILS_REOPEN);
	if (pei->probe_fails >= PROBE_FAILS_REOPEN) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "terminal silent: reopening the port");
		pei->probe_fails = 0;
		gw_serial_reopen(pei->port);
		return;
	}
	gw_timer_schedule(pei->loop, &pei->probe, 0);
}

static void on_probe(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_pei *pei = arg;
	if (!gw_serial_is_up(pei->port))
		return;
	if (!pei->probing && gw_at_pending(pei->at) == 0 &&
	    gw_at_cmd(pei->at, "AT", NULL, T_CMD_MS, 0, probe_done, pei) == 0)
		pei->probing = 1;
	gw_timer_schedule(pei->loop, &pei->probe, (int64_t)pei->conf->radio_probe_idle_s * 1000);
}

static void creg_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	char buf[96];
	const char *f[4];
	long v;
	for (int i = 0; i < r->nlines; i++) {
		const char *p = params_of(r->lines[i], "+CREG:");
		if (p && gw_at_fields(p, buf, sizeof(buf), f, 4) >= 1 &&
		    gw_at_int(f[0], 0, 9, &v) == 0) {
			int was = pei->h.reg_stat;
			pei->h.reg_stat = (int)v;
			if ((v == 1 || v == 5) != (was == 1 || was == 5))
				LOGP(GW_LOG_RADIO, v == 1 || v == 5 ? GW_LOG_NOTICE : GW_LOG_ERROR,
				     "terminal %s the network (+CREG stat %ld)",
				     v == 1 || v == 5 ? "registered to" : "NOT registered to", v);
		}
	}
}

static void csq_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	char buf[64];
	const char *f[3];
	long v;
	for (int i = 0; i < r->nlines; i++) {
		const char *p = params_of(r->lines[i], "+CSQ:");
		if (p && gw_at_fields(p, buf, sizeof(buf), f, 3) >= 1 &&
		    gw_at_int(f[0], 0, 99, &v) == 0)
			pei->h.rssi_dbm = v == 99 ? 0 : (int)(-113 + 2 * v);
	}
}

static void on_health(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_pei *pei = arg;
	if (pei->ready) {
		gw_at_cmd(pei->at, "AT+CREG?", "+CREG:", T_CMD_MS, 0, creg_done, pei);
		gw_at_cmd(pei->at, "AT+CSQ?", "+CSQ:", T_CMD_MS, 0, csq_done, pei);
	}
	gw_timer_schedule(pei->loop, &pei->health,
			  (int64_t)pei->conf->radio_health_interval_s * 1000);
}

void gw_pei_health(const struct gw_pei *pei, struct gw_pei_health *out)
{
	*out = pei->h;
	out->ready = pei->ready;
	out->port_up = gw_serial_is_up(pei->port);
	out->live_calls = gw_pei_live_calls(pei);
}

/* ---- port --------------------------------------------------------------------------------- */

static void port_data(void *arg, const char *buf, size_t len)
{
	struct gw_pei *pei = arg;
	/* any byte from the terminal proves it alive: push the probe back */
	gw_timer_schedule(pei->loop, &pei->probe, (int64_t)pei->conf->radio_probe_idle_s * 1000);
	gw_at_feed(pei->at, buf, len);
}

static void port_state(void *arg, int up)
{
	struct gw_pei *pei = arg;
	if (up) {
		pei->probe_fails = 0;
		gw_timer_schedule(pei->loop, &pei->probe,
				  (int64_t)pei->conf->radio_probe_idle_s * 1000);
		start_init(pei);
		return;
	}
	gw_timer_cancel(pei->loop, &pei->probe);
	gw_timer_cancel(pei->loop, &pei->init_retry);
	pei->init_step = -1;
	pei->probing = 0;
	gw_at_flush(pei->at);
	if (pei->ready && pei->ops.ready)
		pei->ops.ready(pei->ops.arg, 0);
	pei->ready = 0;
}

static int at_write(void *arg, const void *buf, size_t len)
{
	struct gw_pei *pei = arg;
	return gw_serial_write(pei->port, buf, len);
}

int gw_pei_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_pei_ops *ops,
	       struct gw_pei **out)
{
	const struct profile *prof = NULL;
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].model, conf->radio_model) == 0)
			prof = &profiles[i];
	if (!prof) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "radio.model %s: no init profile",
		     conf->radio_model);
		return -EINVAL;
	}
	struct gw_pei *pei = calloc(1, sizeof(*pei));
	if (!pei)
		return -ENOMEM;
	pei->loop = loop;
	pei->conf = conf;
	pei->ops = *ops;
	pei->profile = prof;
	pei->init_step = -1;
	pei->h.reg_stat = -1;
	for (int i = 0; i < MAX_CALLS; i++)
		pei->calls[i] = -1;
	gw_timer_init(&pei->init_retry, on_init_retry, pei);
	gw_timer_init(&pei->probe, on_probe, pei);
	gw_timer_init(&pei->health, on_health, pei);
	struct gw_at_ops aops = {.write = at_write, .arg = pei};
	pei->at = gw_at_new(loop, GW_LOG_RADIO, "radio", &aops);
	if (!pei->at) {
		free(pei);
		return -ENOMEM;
	}
	gw_at_add_urc(pei->at, "+CTICN:", 0, urc_cticn, pei);
	gw_at_add_urc(pei->at, "+CTCC:", 0, urc_ctcc, pei);
	gw_at_add_urc(pei->at, "+CTCR:", 0, urc_ctcr, pei);
	gw_at_add_urc(pei->at, "+CTOM:", 0, urc_ctom, pei);
	/* Known PEI indications that later work handles; listed so they are not "unknown". */
	static const char *const later[] = {
	    "+CTXG:", "+CDTXC:", "+CTXI:", "+CTXW:", "+CTOCP:", "+CMGS:", "+CREG:", "+CSQ:"};
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		gw_at_add_urc(pei->at, later[i], 0, urc_ignore, pei);
	gw_at_add_urc(pei->at, "+CTSDSR:", 1, urc_ignore, pei);

	struct gw_serial_ops sops = {.data = port_data, .state = port_state, .arg = pei};
	int rc = gw_serial_new(loop, GW_LOG_RADIO, conf->radio_port, conf->radio_baud, &sops,
			       &pei->port);
	if (rc < 0) {
		gw_at_free(pei->at);
		free(pei);
		return rc;
	}
	*out = pei;
	return 0;
}

void gw_pei_free(struct gw_pei *pei)
{
	if (!pei)
		return;
	gw_timer_cancel(pei->loop, &pei->init_retry);
	gw_timer_cancel(pei->loop, &pei->probe);
	gw_timer_cancel(pei->loop, &pei->health);
	gw_serial_free(pei->port);
	gw_at_free(pei->at);
	free(pei);
}

static void cmd_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	(void)arg;
	if (r->result != GW_AT_OK && r->result != GW_AT_ABORTED)
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "radio command failed: %s %d",
		     gw_at_result_name(r->result), r->err);
}

int gw_pei_answer(struct gw_pei *pei, int cci)
{
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "answering call %d", cci);
	return gw_at_cmd(pei->at, "ATA", NULL, T_CMD_MS, GW_AT_F_URGENT, cmd_done, pei);
}

int gw_pei_hangup(struct gw_pei *pei, int cci)
{
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "releasing call %d", cci);
	return gw_at_cmd(pei->at, "ATH", NULL, T_CMD_MS, GW_AT_F_URGENT, cmd_done, pei);
}

int gw_pei_shutdown(struct gw_pei *pei)
{
	int n = gw_pei_live_calls(pei);
	if (n == 0 || !gw_serial_is_up(pei->port))
		return 0;
	LOGP(GW_LOG_RADIO, GW_LOG_NOTICE, "shutting down: releasing %d live radio call(s)", n);
	int rc = gw_at_cmd(pei->at, "ATH", NULL, T_CMD_MS, GW_AT_F_URGENT, cmd_done, pei);
	return rc < 0 ? rc : n;
}

int gw_pei_pending(const struct gw_pei *pei)
{
	return gw_at_pending(pei->at);
}
