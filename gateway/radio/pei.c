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
 * setting still carries calls. A step (or AT+CNUMF?) that is not answered at
 * all means the terminal is not there: the init gives up, the terminal is not
 * ready, and the init starts over after INIT_AGAIN_MS. Only a complete init
 * makes it ready. +CNUMF is checked against radio.issi. Then AT+CLCC lists the
 * terminal's live calls: one we do not track was left up by an earlier run (a crash,
 * the watchdog) and is released (ATH) and told to orphan() before the terminal is ready.
 *
 * Liveness: after radio.probe_idle seconds without a byte from a ready terminal
 * an "AT+CTOM?" probe goes out; three unanswered probes in a row reopen the
 * port (which runs the init again). A terminal that rebooted silently answers
 * in its power-up state: the probe is echoed, or refused with +CME ERROR: 35,
 * or the mode is not the one the init set. That is handled as a restart: its
 * calls are reported lost and the init runs again (echo off, the service
 * profile resent). A sign counts only if the init set what it contradicts
 * (ATE0, AT+CTOM= accepted), and a terminal that shows one on the first probe
 * after POWERUP_STREAK_MAX inits in a row answers that way by nature: its signs
 * are ignored until the port reopens. Registration and signal (+CREG?, +CSQ?) are polled every
 * radio.health_interval seconds and kept for status.
 *
 * Calls: the ccis of live calls are tracked from +CTICN/+CTCC to +CTCR, so a
 * reboot can report each lost call, and shutdown can release them with ATH. A
 * hang-up sends ATH only while its own call is live (ATH clears every call).
 *
 * Floor: per call we keep whether we asked for or hold the floor (AT+CTXD until
 * AT+CUTXC, a refusal, an interruption or the release) and whether another
 * party talks (+CTXG with its identity until +CDTXC). Shutdown sends AT+CUTXC
 * for a floor we hold before the ATH. Field layouts: tetra-pei.md section 2;
 * +CTXI/+CTXW carry the cci first, the rest is not relied on.
 *
 * SDS and transmissions: while we hold or asked for the floor, or another party
 * transmits (a group call's +CTICN or +CTXG until +CDTXC/+CTCR), SDS wait in
 * their queue without spending a try, as SvxLink TetraLogic holds them while
 * the squelch is open; they go when the floor is free, or after SDS_HOLD_MAX_MS
 * in case an end of transmission was lost. A refusal that still comes (+CME
 * ERROR) is retried on the timer like any failed send.
 *
 * Outgoing calls: one set-up at a time waits for its CC instance (AT+CTSDC,
 * ATD, then the first +CTOCP/+CTCC/+CTCR of a cci we do not know yet); from
 * then on the call is tracked like any other, but reported to dial_state().
 *
 * The driver is two files behind pei_priv.h: this one (init, calls, floor, liveness, the
 * port) and pei_sds.c (SDS in and out).
 */
#include "radio/pei_priv.h"

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
	if (cause == GW_PEI_CAUSE_RESTART)
		return "terminal restarted, call lost";
	if (cause < 0 || cause >= (int)(sizeof(causes) / sizeof(causes[0])))
		return "unknown";
	return causes[cause] ? causes[cause] : "reserved";
}

int pei_parse_id(const char *f, char *out)
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

const char *pei_params_of(const char *line, const char *prefix)
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
	const char *p = pei_params_of(line, "+CTICN:");
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
			if (*fv && pei_parse_id(fv, c->calling) < 0)
				return -EINVAL;
			continue;
		}
		if (i == 11) {
			if (*fv && pei_parse_id(fv, c->called) < 0)
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
	const char *p = pei_params_of(line, "+CTCC:");
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
	const char *p = pei_params_of(line, "+CTCR:");
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

static struct pcall *call_find(struct gw_pei *pei, int cci)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (pei->calls[i].cci == cci)
			return &pei->calls[i];
	return NULL;
}

static void call_add(struct gw_pei *pei, int cci)
{
	if (call_find(pei, cci))
		return;
	struct pcall *c = call_find(pei, -1);
	if (c) {
		*c = (struct pcall){.cci = cci, .own = OWN_NONE};
		return;
	}
	LOGP(GW_LOG_RADIO, GW_LOG_WARN, "more than %d calls at once: call %d not tracked",
	     MAX_CALLS, cci);
}

static void call_del(struct gw_pei *pei, int cci)
{
	struct pcall *c = call_find(pei, cci);
	if (c)
		c->cci = -1;
}

int gw_pei_live_calls(const struct gw_pei *pei)
{
	int n = 0;
	for (int i = 0; i < MAX_CALLS; i++)
		n += pei->calls[i].cci >= 0;
	return n;
}

/* ---- URCs ------------------------------------------------------------------------------ */

static void dial_report(struct gw_pei *pei, int handle, int cci, enum gw_pei_dial_state st,
			int cause);

static void urc_cticn(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	struct gw_pei_call_in c;
	if (gw_pei_parse_cticn(lines[0], &c) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed +CTICN skipped: %.120s", lines[0]);
		gw_at_skipped(pei->at, "malformed", lines[0]);
		return;
	}
	struct pcall *pc = call_find(pei, c.cci);
	if (pc) {
		/* a live identifier offered again: the terminal lost that call (a silent
		 * restart numbers from 1 again); its state goes, the new call starts clean */
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "call %d offered again: the old one is lost",
		     c.cci);
		if (pc->dial)
			dial_report(pei, pc->dial, c.cci, GW_PEI_DIAL_RELEASED,
				    GW_PEI_CAUSE_RESTART);
		pc->own = OWN_NONE;
		pc->down = 0;
		pc->dial = 0;
	}
	call_add(pei, c.cci);
	pc = call_find(pei, c.cci);
	if (pc && c.comms_type >= 1)
		pc->down = 1; /* a group call starts with its caller talking */
	pei->ops.incoming(pei->ops.arg, &c);
}

/* ---- outgoing calls ---------------------------------------------------------------------- */

const char *gw_pei_dial_state_name(enum gw_pei_dial_state st)
{
	static const char *const names[] = {
	    [GW_PEI_DIAL_PROGRESS] = "progress",
	    [GW_PEI_DIAL_CONNECTED] = "connected",
	    [GW_PEI_DIAL_RELEASED] = "released",
	    [GW_PEI_DIAL_FAILED] = "failed",
	};
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

int gw_pei_parse_ctocp(const char *line, int *cci, int *call_status)
{
	const char *p = pei_params_of(line, "+CTOCP:");
	const char *f[16];
	char buf[256];
	long a, b;
	if (!p || gw_at_fields(p, buf, sizeof(buf), f, 16) < 2 ||
	    gw_at_int(f[0], 0, 65535, &a) < 0 || gw_at_int(f[1], 0, 9, &b) < 0)
		return -EINVAL;
	*cci = (int)a;
	*call_status = (int)b;
	return 0;
}

static void dial_report(struct gw_pei *pei, int handle, int cci, enum gw_pei_dial_state st,
			int cause)
{
	LOGP(GW_LOG_RADIO, st == GW_PEI_DIAL_FAILED ? GW_LOG_WARN : GW_LOG_INFO,
	     "outgoing call %d (cci %d): %s %d%s%s", handle, cci, gw_pei_dial_state_name(st), cause,
	     st == GW_PEI_DIAL_RELEASED ? " " : "",
	     st == GW_PEI_DIAL_RELEASED ? gw_pei_cause_name(cause) : "");
	if (pei->ops.dial_state)
		pei->ops.dial_state(pei->ops.arg, handle, cci, st, cause);
}

static void dial_fail(struct gw_pei *pei, int cause)
{
	int h = pei->dial_wait;
	if (!h)
		return;
	pei->dial_wait = 0;
	gw_timer_cancel(pei->loop, &pei->dial_timer);
	dial_report(pei, h, -1, GW_PEI_DIAL_FAILED, cause);
}

/*
 * A call indication for cci: when it is our outgoing call, or the first word of the
 * dial waiting for its cci, return the tracked call (adding it); else NULL.
 */
static struct pcall *dial_call(struct gw_pei *pei, int cci)
{
	struct pcall *c = call_find(pei, cci);
	if (c)
		return c->dial ? c : NULL;
	if (!pei->dial_wait)
		return NULL;
	call_add(pei, cci);
	c = call_find(pei, cci);
	if (!c)
		return NULL;
	c->dial = pei->dial_wait;
	pei->dial_wait = 0;
	gw_timer_cancel(pei->loop, &pei->dial_timer);
	return c;
}

static void on_dial_timer(struct gw_loop *loop, void *arg)
{
	(void)loop;
	LOGP(GW_LOG_RADIO, GW_LOG_WARN, "the terminal did not name the outgoing call in %d s",
	     DIAL_CCI_WAIT_MS / 1000);
	dial_fail(arg, -1);
}

static void atd_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	if (!pei->dial_wait)
		return; /* the call was already named (+CTOCP before the OK) */
	if (r->result != GW_AT_OK) {
		dial_fail(pei, r->result == GW_AT_CME_ERROR ? r->err : -1);
		return;
	}
	gw_timer_schedule(pei->loop, &pei->dial_timer, DIAL_CCI_WAIT_MS);
}

static void ctsdc_dial_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	struct gw_pei *pei = arg;
	if (r->result == GW_AT_OK || !pei->dial_wait)
		return;
	gw_at_cancel(at, atd_done, pei); /* no ATD with the wrong parameters */
	dial_fail(pei, r->result == GW_AT_CME_ERROR ? r->err : -1);
}

int gw_pei_dial(struct gw_pei *pei, const char *to, bool simplex)
{
	char cmd[80];
	if (!pei_valid_id(to) || (strlen(to) > 8 && strlen(to) != 17))
		return -EINVAL;
	if (pei->dial_wait)
		return -EBUSY;
	if (!pei->ready)
		return -ENOTCONN;
	/* speech, SSI or extended TSI, hook signalling, simplex/duplex, point-to-point */
	snprintf(cmd, sizeof(cmd), "AT+CTSDC=0,%d,0,0,%d,0,0,1,0,0", strlen(to) == 17 ? 5 : 0,
		 simplex ? 1 : 0);
	int rc = gw_at_cmd(pei->at, cmd, NULL, T_CMD_MS, 0, ctsdc_dial_done, pei);
	if (rc < 0)
		return rc;
	snprintf(cmd, sizeof(cmd), "ATD%s", to);
	rc = gw_at_cmd(pei->at, cmd, NULL, T_CMD_MS * 5, GW_AT_F_DIAL, atd_done, pei);
	if (rc < 0)
		return rc; /* the AT+CTSDC alone changes nothing the next dial does not set */
	pei->dial_wait = ++pei->dial_handles;
	if (pei->dial_handles == 0x7fffffff)
		pei->dial_handles = 0;
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "outgoing call %d to %s (%s)", pei->dial_wait, to,
	     simplex ? "simplex" : "duplex");
	return pei->dial_wait;
}

static void urc_ctocp(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	int cci, st;
	if (gw_pei_parse_ctocp(lines[0], &cci, &st) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed +CTOCP skipped: %.120s", lines[0]);
		gw_at_skipped(pei->at, "malformed", lines[0]);
		return;
	}
	struct pcall *c = dial_call(pei, cci);
	if (!c) {
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "+CTOCP for a call we did not make: %.80s",
		     lines[0]);
		return;
	}
	dial_report(pei, c->dial, cci, GW_PEI_DIAL_PROGRESS, st);
}

static void urc_ctcc(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	int cci;
	if (gw_pei_parse_ctcc(lines[0], &cci) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed +CTCC skipped: %.120s", lines[0]);
		gw_at_skipped(pei->at, "malformed", lines[0]);
		return;
	}
	struct pcall *dc = dial_call(pei, cci);
	if (dc) {
		dial_report(pei, dc->dial, cci, GW_PEI_DIAL_CONNECTED, 0);
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
		gw_at_skipped(pei->at, "malformed", lines[0]);
		return;
	}
	struct pcall *dc = dial_call(pei, cci);
	int handle = dc ? dc->dial : 0;
	call_del(pei, cci);
	pei_sds_floor_free(pei);
	if (handle) {
		dial_report(pei, handle, cci, GW_PEI_DIAL_RELEASED, cause);
		return;
	}
	pei->ops.released(pei->ops.arg, cci, cause);
}

/* ---- floor ------------------------------------------------------------------------------ */

const char *gw_pei_floor_name(enum gw_pei_floor ev)
{
	static const char *const names[] = {
	    [GW_PEI_FLOOR_GRANTED] = "granted", [GW_PEI_FLOOR_OTHER] = "other talker",
	    [GW_PEI_FLOOR_QUEUED] = "queued",	[GW_PEI_FLOOR_REFUSED] = "refused",
	    [GW_PEI_FLOOR_WAIT] = "wait",	[GW_PEI_FLOOR_INTERRUPTED] = "interrupted",
	    [GW_PEI_FLOOR_CEASED] = "ceased",
	};
	return (unsigned)ev < sizeof(names) / sizeof(names[0]) ? names[ev] : "?";
}

int gw_pei_parse_floor(const char *line, int *cci, enum gw_pei_floor *ev, char *talker)
{
	static const struct {
		const char *prefix;
		enum gw_pei_floor ev;
		int tpi; /* index of <TPI type>; the TPI follows it */
	} kinds[] = {
	    {"+CTXG:", GW_PEI_FLOOR_GRANTED, 4},
	    {"+CTXI:", GW_PEI_FLOOR_INTERRUPTED, 3},
	    {"+CTXW:", GW_PEI_FLOOR_WAIT, -1},
	    {"+CDTXC:", GW_PEI_FLOOR_CEASED, -1},
	};
	const char *p = NULL;
	size_t k;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !p; k++)
		p = pei_params_of(line, kinds[k].prefix);
	if (!p)
		return -EINVAL;
	k--;
	const char *f[8];
	char buf[128];
	long v;
	int n = gw_at_fields(p, buf, sizeof(buf), f, 8);
	if (n < 1 || gw_at_int(f[0], 0, 65535, &v) < 0)
		return -EINVAL;
	*cci = (int)v;
	*ev = kinds[k].ev;
	talker[0] = '\0';
	int t = kinds[k].tpi;
	if (t > 0 && n > t + 1 && *f[t + 1] && pei_parse_id(f[t + 1], talker) < 0)
		return -EINVAL;
	if (*ev != GW_PEI_FLOOR_GRANTED)
		return 0;
	/* +CTXG: the TxGrant field decides */
	if (n < 2 || gw_at_int(f[1], 0, 3, &v) < 0)
		return -EINVAL;
	static const enum gw_pei_floor by_grant[] = {GW_PEI_FLOOR_GRANTED, GW_PEI_FLOOR_REFUSED,
						     GW_PEI_FLOOR_QUEUED, GW_PEI_FLOOR_OTHER};
	*ev = by_grant[v];
	if (*ev == GW_PEI_FLOOR_GRANTED && talker[0])
		*ev = GW_PEI_FLOOR_OTHER; /* granted, with a talking party: someone else talks */
	return 0;
}

static void urc_floor(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	int cci;
	enum gw_pei_floor ev;
	char talker[GW_PEI_ID_MAX];
	if (gw_pei_parse_floor(lines[0], &cci, &ev, talker) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed floor indication skipped: %.120s",
		     lines[0]);
		gw_at_skipped(pei->at, "malformed", lines[0]);
		return;
	}
	struct pcall *c = call_find(pei, cci);
	if (!c) {
		LOGP(GW_LOG_RADIO, GW_LOG_WARN,
		     "floor indication for unknown call %d skipped: %.80s", cci, lines[0]);
		return;
	}
	/* our own identity as the talking party is our own grant */
	if (ev == GW_PEI_FLOOR_OTHER && talker[0] && pei->h.identity[0] &&
	    strcmp(pei_ssi_of(talker), pei_ssi_of(pei->h.identity)) == 0 && c->own != OWN_NONE)
		ev = GW_PEI_FLOOR_GRANTED;
	switch (ev) {
	case GW_PEI_FLOOR_GRANTED:
		c->own = OWN_HELD;
		c->down = 0;
		break;
	case GW_PEI_FLOOR_OTHER:
		c->own = OWN_NONE;
		c->down = 1;
		break;
	case GW_PEI_FLOOR_REFUSED:
	case GW_PEI_FLOOR_INTERRUPTED:
		c->own = OWN_NONE;
		break;
	case GW_PEI_FLOOR_CEASED:
		c->down = 0;
		break;
	case GW_PEI_FLOOR_QUEUED:
	case GW_PEI_FLOOR_WAIT:
		break;
	}
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "call %d floor: %s%s%s", cci, gw_pei_floor_name(ev),
	     talker[0] ? " " : "", talker);
	if (pei->ops.floor)
		pei->ops.floor(pei->ops.arg, cci, ev, talker);
	pei_sds_floor_free(pei);
}

static void urc_ignore(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	(void)arg;
	LOGP(GW_LOG_RADIO, GW_LOG_DEBUG, "not handled yet: %.120s", lines[0]);
}

static void start_init(struct gw_pei *pei);

/* The terminal restarted (announced or found out): its calls are gone; init again. */
static void terminal_restarted(struct gw_pei *pei, const char *why)
{
	LOGP(GW_LOG_RADIO, GW_LOG_WARN, "terminal restarted or changed mode (%s): init again", why);
	for (int i = 0; i < MAX_CALLS; i++) {
		if (pei->calls[i].cci >= 0) {
			int cci = pei->calls[i].cci;
			pei->calls[i].cci = -1;
			LOGP(GW_LOG_RADIO, GW_LOG_WARN, "call %d lost in the restart", cci);
			if (pei->calls[i].dial)
				dial_report(pei, pei->calls[i].dial, cci, GW_PEI_DIAL_RELEASED,
					    GW_PEI_CAUSE_RESTART);
			else
				pei->ops.released(pei->ops.arg, cci, GW_PEI_CAUSE_RESTART);
		}
	}
	dial_fail(pei, -1);
	gw_at_flush(pei->at);
	pei->down_why = "restarted";
	if (pei->ready && pei->ops.ready)
		pei->ops.ready(pei->ops.arg, 0);
	pei->ready = 0;
	gw_timer_cancel(pei->loop, &pei->init_retry);
	start_init(pei);
	pei_sds_floor_free(pei); /* held SDS queue behind the init */
}

/* +CTOM outside the init: the terminal restarted or changed mode. Its calls are gone. */
static void urc_ctom(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	if (pei->init_step >= 0)
		return; /* our own AT+CTOM= during the init */
	terminal_restarted(pei, lines[0]);
}

/* ---- init -------------------------------------------------------------------------------- */

static void init_next(struct gw_pei *pei);
static void cmd_done(struct gw_at *at, const struct gw_at_resp *r, void *arg);

/* A step went unanswered: not ready; the init starts over after INIT_AGAIN_MS. */
static void init_give_up(struct gw_pei *pei, const char *cmd, const struct gw_at_resp *r)
{
	pei->init_fails++;
	/* every failure the first time, then once a minute */
	if (pei->init_fails == 1 || pei->init_fails % (60000 / INIT_AGAIN_MS) == 0)
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR,
		     "init step %s: %s%s%.0d: terminal not ready, init again in %d s (%d tries)",
		     cmd, gw_at_result_name(r->result), r->err ? " " : "", r->err,
		     INIT_AGAIN_MS / 1000, pei->init_fails);
	pei->init_step = 0;
	pei->init_retries = 0;
	gw_timer_schedule(pei->loop, &pei->init_retry, INIT_AGAIN_MS);
}

/* The init went through: the terminal is ready. */
static void go_ready(struct gw_pei *pei)
{
	LOGP(GW_LOG_RADIO, GW_LOG_NOTICE, "terminal ready, identity %s",
	     pei->h.identity[0] ? pei->h.identity : "unknown");
	pei->ready = 1;
	if (pei->ops.ready)
		pei->ops.ready(pei->ops.arg, 1);
	gw_timer_schedule(pei->loop, &pei->health, 0);
}

int gw_pei_parse_clcc(const char *line, int *cci)
{
	char buf[128];
	const char *f[5];
	long v;
	const char *p = pei_params_of(line, "+CLCC:");
	if (!p || gw_at_fields(p, buf, sizeof(buf), f, 5) < 1 || !*f[0])
		return -EINVAL;
	char *end;
	errno = 0;
	v = strtol(f[0], &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -EINVAL;
	*cci = (int)v;
	return 0;
}

static void orphan_hangup_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	cmd_done(at, r, arg);
	if (r->result != GW_AT_ABORTED)
		go_ready(arg);
}

/*
 * The terminal's live calls after the init: a call this driver does not track was left
 * by an earlier run (its officer hears nothing) and is released with ATH, each told to
 * orphan(), before the terminal is ready. ATH clears every call, so it goes only when
 * none of the live calls is one we track. A terminal without the call list is ready.
 */
static void clcc_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	int orphans = 0, ours = 0, cci;
	if (r->result == GW_AT_ABORTED)
		return;
	if (r->result == GW_AT_TIMEOUT) { /* not there after all: like any unanswered step */
		init_give_up(pei, "AT+CLCC", r);
		return;
	}
	if (r->result != GW_AT_OK) {
		LOGP(GW_LOG_RADIO, GW_LOG_INFO,
		     "AT+CLCC: %s %d: the terminal lists no calls; calls left up before the start "
		     "are not released",
		     gw_at_result_name(r->result), r->err);
		go_ready(pei);
		return;
	}
	for (int i = 0; i < r->nlines; i++) {
		if (gw_pei_parse_clcc(r->lines[i], &cci) < 0)
			continue;
		if (call_find(pei, cci)) {
			ours++;
			continue;
		}
		orphans++;
		LOGP(GW_LOG_RADIO, GW_LOG_WARN,
		     "radio call %d is up with nobody behind it (left by an earlier run): "
		     "releasing it",
		     cci);
		if (pei->ops.orphan)
			pei->ops.orphan(pei->ops.arg, cci);
	}
	if (!orphans) {
		go_ready(pei);
		return;
	}
	if (ours) {
		LOGP(GW_LOG_RADIO, GW_LOG_WARN,
		     "%d orphaned radio call(s) left up: ATH would clear our %d live call(s) too",
		     orphans, ours);
		go_ready(pei);
		return;
	}
	if (gw_at_cmd(pei->at, "ATH", NULL, T_CMD_MS, GW_AT_F_URGENT, orphan_hangup_done, pei) < 0)
		go_ready(pei);
}

static void cnumf_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	if (r->result == GW_AT_ABORTED)
		return;
	if (r->result != GW_AT_OK) {
		init_give_up(pei, "AT+CNUMF?", r);
		return;
	}
	pei->init_step = -1;
	pei->init_fails = 0;
	const char *own = "";
	char buf[64];
	const char *f[2];
	for (int i = 0; i < r->nlines; i++) {
		const char *p = pei_params_of(r->lines[i], "+CNUMF:");
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
	/* calls left up by an earlier run (a crash, the watchdog) before we go ready */
	if (gw_at_cmd(pei->at, "AT+CLCC", "+CLCC:", T_CMD_MS, 0, clcc_done, pei) < 0)
		go_ready(pei);
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
	if (r->result == GW_AT_TIMEOUT) {
		init_give_up(pei, cmd, r);
		return;
	}
	if (r->result != GW_AT_OK)
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "init step %s failed: %s %d, going on", cmd,
		     gw_at_result_name(r->result), r->err);
	else if (strcmp(cmd, "ATE0") == 0)
		pei->echo_off = 1;
	else if (strncmp(cmd, "AT+CTOM=", 8) == 0)
		pei->mode_set = 1;
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
	pei->sds_type = -1; /* the terminal forgot it, or may have */
	pei->echo_off = 0;
	pei->mode_set = 0;
	pei->init_step = 0;
	pei->init_retries = 0;
	init_next(pei);
}

/* ---- liveness and health ---------------------------------------------------------------- */

/*
 * The power-up state in a probe's answer, or NULL: echo (when the init turned it off), or,
 * when the init set the mode, AT+CTOM? refused with CME 35 or another mode.
 */
static const char *power_up_sign(const struct gw_pei *pei, const struct gw_at_resp *r)
{
	if (r->echoed && pei->echo_off)
		return "the probe was echoed";
	if (!pei->mode_set)
		return NULL;
	if (r->result == GW_AT_CME_ERROR && r->err == 35)
		return "the probe was refused (+CME ERROR: 35)";
	long mode;
	for (int i = 0; r->result == GW_AT_OK && pei->want_mode >= 0 && i < r->nlines; i++) {
		const char *p = pei_params_of(r->lines[i], "+CTOM:");
		if (p && gw_at_int(p, 0, 99, &mode) == 0 && mode != pei->want_mode)
			return "its operating mode is not the one set";
	}
	return NULL;
}

static void probe_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	pei->probing = 0;
	if (r->result == GW_AT_ABORTED)
		return;
	if (r->result != GW_AT_TIMEOUT) {
		pei->probe_fails = 0;
		const char *sign = pei->ready && !pei->powerup_off ? power_up_sign(pei, r) : NULL;
		if (!sign) {
			pei->powerup_streak = 0;
			return;
		}
		if (++pei->powerup_streak > POWERUP_STREAK_MAX) {
			/* right after every init: that is how this terminal answers */
			LOGP(GW_LOG_RADIO, GW_LOG_ERROR,
			     "terminal answers like a freshly booted one after %d inits in a row "
			     "(%s): not taken for a reboot until the port reopens",
			     POWERUP_STREAK_MAX, sign);
			pei->powerup_off = 1;
			return;
		}
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR,
		     "terminal back in its power-up state (%s): it rebooted", sign);
		terminal_restarted(pei, sign);
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
	/* a terminal not ready is the init's to bring up */
	if (pei->ready && !pei->probing && gw_at_pending(pei->at) == 0 &&
	    gw_at_cmd(pei->at, "AT+CTOM?", "+CTOM:", T_CMD_MS, 0, probe_done, pei) == 0)
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
		const char *p = pei_params_of(r->lines[i], "+CREG:");
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
		const char *p = pei_params_of(r->lines[i], "+CSQ:");
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

/*
 * A +CTICN that is the first line of bytes just read, complete, while the engine holds no
 * part of a line: parsed here (the same parser) and offered to ops.early before the engine
 * handles the bytes, so an individual call's page can go ahead of the incident (issue #13).
 * Nothing read before it is waiting to be handled, so nothing the terminal said earlier can
 * change what the incident will do. The engine then handles the line as ever.
 */
static bool early_cticn(struct gw_pei *pei, const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (len - i < 7 || memcmp(buf + i, "+CTICN:", 7) != 0 || !gw_at_line_start(pei->at))
		return false;
	size_t n = 7;
	while (i + n < len && buf[i + n] != '\r' && buf[i + n] != '\n' && buf[i + n] != '\0')
		n++;
	char line[256];
	if (i + n == len || buf[i + n] == '\0' || n >= sizeof(line))
		return false; /* not complete (or skipped by the engine): the normal path's */
	memcpy(line, buf + i, n);
	line[n] = '\0';
	struct gw_pei_call_in c;
	return gw_pei_parse_cticn(line, &c) == 0 && pei->ops.early(pei->ops.arg, &c);
}

/* The bytes held since a page went ahead, to the engine, in order. */
void gw_pei_feed_held(struct gw_pei *pei)
{
	gw_timer_cancel(pei->loop, &pei->feed_later);
	size_t n = pei->nheld;
	pei->nheld = 0; /* the engine's callbacks may read the port again */
	if (n)
		gw_at_feed(pei->at, pei->held, n);
}

static void on_feed_later(struct gw_loop *loop, void *arg)
{
	(void)loop;
	gw_pei_feed_held(arg);
}

/*
 * Bytes from the terminal go to the engine, except after a +CTICN whose page went ahead:
 * those (and any that follow) wait for gw_pei_feed_held(), which the owner calls before
 * the modem's answer to that ATD is handled, or GW_PEI_HOLD_MS (as main's rest of the
 * incident start: issue #13, work right after the ATD delays the modem's reader); no other
 * fd is served in that loop iteration (gw_loop_yield).
 */
static void port_data(void *arg, const char *buf, size_t len)
{
	struct gw_pei *pei = arg;
	bool hold = pei->nheld > 0;
	if (!hold && pei->ops.early && pei->ready && early_cticn(pei, buf, len)) {
		hold = true;
		gw_timer_schedule(pei->loop, &pei->feed_later, GW_PEI_HOLD_MS);
		gw_loop_yield(pei->loop);
	}
	/* any byte from the terminal proves it alive: push the probe back */
	gw_timer_schedule(pei->loop, &pei->probe, (int64_t)pei->conf->radio_probe_idle_s * 1000);
	if (hold && len <= HELD_MAX - pei->nheld) {
		memcpy(pei->held + pei->nheld, buf, len);
		pei->nheld += len;
		return;
	}
	gw_pei_feed_held(pei); /* (never: one wake-up reads less) in order, at once */
	gw_at_feed(pei->at, buf, len);
}

static void port_state(void *arg, int up)
{
	struct gw_pei *pei = arg;
	gw_pei_feed_held(pei); /* what came before the port went or came: handled first */
	if (up) {
		pei->probe_fails = 0;
		pei->powerup_streak = 0;
		pei->powerup_off = 0;
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
	pei->down_why = "port lost";
	if (pei->ready && pei->ops.ready)
		pei->ops.ready(pei->ops.arg, 0);
	pei->ready = 0;
}

const char *gw_pei_down_reason(const struct gw_pei *pei)
{
	return pei->down_why;
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
	pei->want_mode = -1;
	for (int i = 0; i < prof->ncmds; i++) {
		int mode;
		if (sscanf(prof->cmds[i], "AT+CTOM=%d", &mode) == 1)
			pei->want_mode = mode;
	}
	pei->init_step = -1;
	pei->h.reg_stat = -1;
	pei->sds_type = -1;
	pei->jobs = calloc(SDS_JOBS, sizeof(*pei->jobs));
	pei->held = malloc(HELD_MAX);
	if (!pei->jobs || !pei->held) {
		free(pei->jobs);
		free(pei->held);
		free(pei);
		return -ENOMEM;
	}
	for (int i = 0; i < SDS_JOBS; i++) {
		pei->jobs[i].pei = pei;
		gw_timer_init(&pei->jobs[i].timer, pei_on_job_timer, &pei->jobs[i]);
	}
	gw_sds_reasm_init(&pei->reasm, SDS_REASM_MS);
	for (int i = 0; i < MAX_CALLS; i++)
		pei->calls[i].cci = -1;
	gw_timer_init(&pei->init_retry, on_init_retry, pei);
	gw_timer_init(&pei->feed_later, on_feed_later, pei);
	gw_timer_init(&pei->probe, on_probe, pei);
	gw_timer_init(&pei->health, on_health, pei);
	gw_timer_init(&pei->dial_timer, on_dial_timer, pei);
	struct gw_at_ops aops = {.write = at_write, .arg = pei};
	pei->at = gw_at_new(loop, GW_LOG_RADIO, "radio", &aops);
	if (!pei->at) {
		free(pei->jobs);
		free(pei->held);
		free(pei);
		return -ENOMEM;
	}
	gw_at_add_urc(pei->at, "+CTICN:", 0, urc_cticn, pei);
	gw_at_add_urc(pei->at, "+CTCC:", 0, urc_ctcc, pei);
	gw_at_add_urc(pei->at, "+CTCR:", 0, urc_ctcr, pei);
	gw_at_add_urc(pei->at, "+CTOM:", 0, urc_ctom, pei);
	/* Known PEI indications that later work handles; listed so they are not "unknown". */
	static const char *const floor[] = {"+CTXG:", "+CDTXC:", "+CTXI:", "+CTXW:"};
	for (size_t i = 0; i < sizeof(floor) / sizeof(floor[0]); i++)
		gw_at_add_urc(pei->at, floor[i], 0, urc_floor, pei);
	gw_at_add_urc(pei->at, "+CTOCP:", 0, urc_ctocp, pei);
	static const char *const later[] = {"+CREG:", "+CSQ:"};
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		gw_at_add_urc(pei->at, later[i], 0, urc_ignore, pei);
	gw_at_add_urc(pei->at, "+CTSDSR:", 1, pei_urc_ctsdsr, pei);
	gw_at_add_urc(pei->at, "+CMGS:", 0, pei_urc_cmgs, pei);

	struct gw_serial_ops sops = {.data = port_data, .state = port_state, .arg = pei};
	int rc = gw_serial_new(loop, GW_LOG_RADIO, conf->radio_port, conf->radio_baud, &sops,
			       &pei->port);
	if (rc < 0) {
		gw_at_free(pei->at);
		free(pei->jobs);
		free(pei->held);
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
	gw_timer_cancel(pei->loop, &pei->feed_later);
	gw_timer_cancel(pei->loop, &pei->probe);
	gw_timer_cancel(pei->loop, &pei->health);
	gw_timer_cancel(pei->loop, &pei->dial_timer);
	for (int i = 0; i < SDS_JOBS; i++)
		gw_timer_cancel(pei->loop, &pei->jobs[i].timer);
	gw_serial_free(pei->port);
	gw_at_free(pei->at);
	free(pei->jobs);
	free(pei->held);
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

/* ATH clears every call of the terminal (the PEI has no per-call release): it goes only
   while the call it is meant for is live, so a stale hang-up never cuts a newer call. */
int gw_pei_hangup(struct gw_pei *pei, int cci)
{
	if (cci < 0 || !call_find(pei, cci)) {
		LOGP(GW_LOG_RADIO, GW_LOG_INFO, "call %d is not live: no ATH for it", cci);
		return -ENOENT;
	}
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "releasing call %d", cci);
	return gw_at_cmd(pei->at, "ATH", NULL, T_CMD_MS, GW_AT_F_URGENT, cmd_done, pei);
}

static void cutxc_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	cmd_done(at, r, arg);
	pei_sds_floor_free(arg);
}

static int send_cutxc(struct gw_pei *pei, struct pcall *c)
{
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "AT+CUTXC=%d", c->cci);
	int rc = gw_at_cmd(pei->at, cmd, NULL, T_CMD_MS, GW_AT_F_URGENT, cutxc_done, pei);
	if (rc == 0)
		c->own = OWN_NONE; /* the transmission ends with the command, whatever it answers */
	return rc;
}

/* AT+CTXD answered: a refusal (e.g. +CME ERROR: 3) ends the request as "refused". */
static void ctxd_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	struct gw_pei *pei = arg;
	cmd_done(at, r, arg);
	if (r->result == GW_AT_OK || r->result == GW_AT_ABORTED)
		return;
	for (int i = 0; i < MAX_CALLS; i++) {
		struct pcall *c = &pei->calls[i];
		if (c->cci < 0 || c->own != OWN_ASKED)
			continue;
		c->own = OWN_NONE;
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "call %d floor: request refused by the terminal",
		     c->cci);
		if (pei->ops.floor)
			pei->ops.floor(pei->ops.arg, c->cci, GW_PEI_FLOOR_REFUSED, "");
	}
	pei_sds_floor_free(pei);
}

int gw_pei_tx_request(struct gw_pei *pei, int cci)
{
	struct pcall *c = cci >= 0 ? call_find(pei, cci) : NULL;
	char cmd[32];
	if (!c)
		return -ENOENT;
	if (c->own != OWN_NONE)
		return -EALREADY;
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "call %d: asking for the floor", cci);
	snprintf(cmd, sizeof(cmd), "AT+CTXD=%d,1", cci);
	int rc = gw_at_cmd(pei->at, cmd, NULL, T_CMD_MS, GW_AT_F_URGENT, ctxd_done, pei);
	if (rc == 0)
		c->own = OWN_ASKED;
	return rc;
}

int gw_pei_tx_cease(struct gw_pei *pei, int cci)
{
	struct pcall *c = cci >= 0 ? call_find(pei, cci) : NULL;
	if (!c)
		return -ENOENT;
	if (c->own == OWN_NONE)
		return -EALREADY;
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "call %d: giving up the floor", cci);
	return send_cutxc(pei, c);
}

int gw_pei_shutdown(struct gw_pei *pei)
{
	gw_pei_feed_held(pei); /* a call whose page went ahead: known, logged, released */
	int n = gw_pei_live_calls(pei);
	if (n == 0 || !gw_serial_is_up(pei->port))
		return 0;
	LOGP(GW_LOG_RADIO, GW_LOG_NOTICE, "shutting down: releasing %d live radio call(s)", n);
	for (int i = 0; i < MAX_CALLS; i++)
		if (pei->calls[i].cci >= 0 && pei->calls[i].own != OWN_NONE)
			send_cutxc(pei, &pei->calls[i]);
	int rc = gw_at_cmd(pei->at, "ATH", NULL, T_CMD_MS, GW_AT_F_URGENT, cmd_done, pei);
	return rc < 0 ? rc : n;
}

int gw_pei_pending(const struct gw_pei *pei)
{
	return gw_at_pending(pei->at);
}
