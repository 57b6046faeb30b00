/*
 * pei: radio driver. The serial port feeds the AT engine; URC callbacks parse
 * the PEI lines into typed events. Every (re)open of the port runs the init
 * profile one command at a time (the AT queue keeps one outstanding); a failed
 * step is logged and the profile goes on, so a terminal that rejects an
 * optional setting still carries calls. +CNUMF is checked against radio.issi.
 */
#include "pei.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at.h"
#include "log.h"
#include "serial.h"

#define T_CMD_MS 2000

struct gw_pei {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_pei_ops ops;
	struct gw_serial *port;
	struct gw_at *at;
	int ready;
};

/* Init profile for the generic ETSI terminal: TMO, voice and SDS-TL text to the TE. */
static const char *const init_generic[] = {
    "AT", "ATE0", "AT+CTOM=0", "AT+CTSP=2,0,0", "AT+CTSP=1,3,130", "AT+CTSP=2,2,20",
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
	pei->ops.released(pei->ops.arg, cci, cause);
}

static void urc_ignore(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	(void)arg;
	LOGP(GW_LOG_RADIO, GW_LOG_DEBUG, "not handled yet: %.120s", lines[0]);
}

static void init_step_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	(void)arg;
	if (r->result != GW_AT_OK && r->result != GW_AT_ABORTED)
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "init step failed: %s %d",
		     gw_at_result_name(r->result), r->err);
}

static void cnumf_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	if (r->result == GW_AT_ABORTED)
		return;
	const char *own = "";
	char buf[64];
	const char *f[2];
	for (int i = 0; i < r->nlines; i++) {
		const char *p = params_of(r->lines[i], "+CNUMF:");
		if (p && gw_at_fields(p, buf, sizeof(buf), f, 2) == 2)
			own = f[1];
	}
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
}

static void run_init(struct gw_pei *pei)
{
	for (size_t i = 0; i < sizeof(init_generic) / sizeof(init_generic[0]); i++)
		gw_at_cmd(pei->at, init_generic[i], NULL, T_CMD_MS, 0, init_step_done, pei);
	gw_at_cmd(pei->at, "AT+CNUMF?", "+CNUMF:", T_CMD_MS, 0, cnumf_done, pei);
}

static void port_data(void *arg, const char *buf, size_t len)
{
	struct gw_pei *pei = arg;
	gw_at_feed(pei->at, buf, len);
}

static void port_state(void *arg, int up)
{
	struct gw_pei *pei = arg;
	if (up) {
		run_init(pei);
		return;
	}
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
	struct gw_pei *pei = calloc(1, sizeof(*pei));
	if (!pei)
		return -ENOMEM;
	pei->loop = loop;
	pei->conf = conf;
	pei->ops = *ops;
	struct gw_at_ops aops = {.write = at_write, .arg = pei};
	pei->at = gw_at_new(loop, GW_LOG_RADIO, "radio", &aops);
	if (!pei->at) {
		free(pei);
		return -ENOMEM;
	}
	gw_at_add_urc(pei->at, "+CTICN:", 0, urc_cticn, pei);
	gw_at_add_urc(pei->at, "+CTCC:", 0, urc_ctcc, pei);
	gw_at_add_urc(pei->at, "+CTCR:", 0, urc_ctcr, pei);
	/* Known PEI indications that later work handles; listed so they are not "unknown". */
	static const char *const later[] = {"+CTXG:", "+CDTXC:", "+CTXI:", "+CTXW:", "+CTOCP:",
					    "+CMGS:", "+CREG:",	 "+CSQ:",  "+CTOM:"};
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
	gw_serial_free(pei->port);
	gw_at_free(pei->at);
	free(pei);
}

static void cmd_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	(void)arg;
	if (r->result != GW_AT_OK)
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
