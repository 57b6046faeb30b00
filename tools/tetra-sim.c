/*
 * tetra-sim: a TETRA terminal on a pty, speaking the PEI AT subset rinki uses.
 *
 * The host sends AT commands ending in CR; the sim answers "\r\n<text>\r\n" lines and a
 * final OK or +CME ERROR, as a Motorola-style terminal does (facts in
 * /work/shared/reference/tetra-pei.md and tetra-hw-and-checks.md). Calls are kept in a
 * small table keyed by CC instance; a test drives the radio side (incoming calls, talkers,
 * releases, SDS, reboot, unplug) through the control channel of sim_common. SDS sent by
 * the host (AT+CMGS + hex + Ctrl-Z) is accepted with "+CMGS: <inst>", OK, and a delayed
 * "+CMGS: <inst>,<status>,<ref>" report. AT+CLCC lists the live calls (27.007 layout; that
 * a terminal answers it so is unconfirmed), so a call left up by a killed rinkid is seen.
 * The network's call forwarding on no reply / not reachable (forward-no-answer): an
 * incoming individual call still ringing after a time is released here and offered to
 * another sim (a standby gateway's terminal) through that sim's control socket.
 */
#include "sim_common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CALLS    8
#define MAX_CCI	     999
#define MAX_REPORTS  8
#define ID_MAX	     17 /* digits of an extended TSI */
#define SDS_MAX_BITS 2047
#define CMGS_DATA_NS (30LL * 1000000000) /* wait for the PDU after AT+CMGS */
#define CMGS_REP_NS  (100LL * 1000000)	 /* delay of the "+CMGS: i,4,ref" report */
#define MCC	     244
#define MNC	     1
#define MNI_TEXT     "2440001" /* as AT+CREG? shows it */

/* CME error numbers the sim uses (EN 300 392-5 via tetra-pei.md). */
enum {
	CME_NOT_ALLOWED = 3,
	CME_SYNTAX = 35,
	CME_DATA_WITHOUT_CMGS = 36,
	CME_CMGS_TIMEOUT = 37,
	CME_BUSY_SIGNALLING = 42,
};

enum call_state { CALL_FREE, CALL_RINGING, CALL_PAGED, CALL_ACTIVE };

static const char *const call_state_names[] = {
    [CALL_FREE] = "free",
    [CALL_RINGING] = "ringing",
    [CALL_PAGED] = "paged",
    [CALL_ACTIVE] = "active",
};

struct call {
	int cci;
	enum call_state st;
	int hook;
	int simplex;
	int comms;
	bool tx_own;	/* our own transmission granted (AT+CTXD) */
	bool tx_queued; /* AT+CTXD queued, waiting for "grant <cci>" */
	bool tx_down;	/* another party talks (talker .. cease) */
	/* forward-no-answer: the incoming call's caller and options, and its timer */
	char calling[ID_MAX + 1];
	long prio;
	struct sim_timer fwd;
};

/* What the called party does with an ATD (scenario command dial-reply). */
enum dial_reply { DIAL_IGNORE, DIAL_ANSWER, DIAL_REJECT, DIAL_REFUSE };

/* How the sim answers AT+CTXD (scenario command floor-reply). */
enum floor_reply { FLOOR_GRANT, FLOOR_QUEUE, FLOOR_REFUSE, FLOOR_BUSY };

struct report {
	struct tetra *t;
	struct sim_timer timer;
	int inst;
	int ref;
};

struct tetra {
	struct sim sim;
	unsigned long issi;
	char tsi[ID_MAX + 1];
	int mode;	/* AT+CTOM */
	int ctsdc_hook; /* from the last AT+CTSDC, used by ATD */
	int ctsdc_simplex;
	int ctsdc_comms;
	enum floor_reply floor_reply;
	enum dial_reply dial_reply;
	int dial_cause;	    /* +CTCR cause for DIAL_REJECT */
	bool sds_tx_refuse; /* refuse AT+CMGS during a transmission (sds-during-tx) */
	int next_cci;
	int pending_cme; /* answer the next command with this error; -1 = none */
	int cmgs_status; /* status in the delayed +CMGS report; 0 = send none */
	int next_inst;	 /* SDS instance for +CMGS */
	int next_ref;	 /* message reference for sds-text */
	bool sds_data;	 /* reading the PDU after AT+CMGS */
	char sds_to[ID_MAX + 1];
	long sds_bits;
	size_t sds_hexlen;
	char sds_hex[SIM_LINE_MAX + 1];
	struct sim_timer sds_timer;
	struct call calls[MAX_CALLS];
	struct report reports[MAX_REPORTS];
	/* reboot-silent: silent for a while, then back in the power-up state */
	struct sim_timer wake;
	int wake_mode;	   /* AT+CTOM mode after the reboot */
	bool refuse_first; /* power-up: the first command gets +CME ERROR: 35 */
	/* forward-no-answer: ringing longer than fwd_ns goes to the sim at fwd_ctl */
	int64_t fwd_ns; /* 0: no forwarding */
	char fwd_ctl[108];
};

/* Identity type of an SSI (< 9 digits) or 17-digit TSI; -1 for anything else. */
static int id_type(const char *id)
{
	size_t n = strlen(id);

	if (!sim_is_digits(id, ID_MAX))
		return -1;
	if (n < 9)
		return 0;
	return n == ID_MAX ? 5 : -1;
}

static struct call *find_call(struct tetra *t, long cci)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (t->calls[i].st != CALL_FREE && t->calls[i].cci == cci)
			return &t->calls[i];
	return NULL;
}

/* A free slot with a new CC instance (or the given one, if > 0 and unused). */
static struct call *new_call(struct tetra *t, long want_cci)
{
	struct call *c = NULL;

	for (int i = 0; i < MAX_CALLS && !c; i++)
		if (t->calls[i].st == CALL_FREE)
			c = &t->calls[i];
	if (!c)
		return NULL;
	if (want_cci > 0) {
		if (find_call(t, want_cci))
			return NULL;
		c->cci = (int)want_cci;
	} else {
		do {
			c->cci = t->next_cci;
			t->next_cci = t->next_cci % MAX_CCI + 1;
		} while (find_call(t, c->cci));
	}
	c->tx_own = false;
	c->tx_queued = false;
	c->tx_down = false;
	return c;
}

static int ncalls(const struct tetra *t)
{
	int n = 0;

	for (int i = 0; i < MAX_CALLS; i++)
		n += t->calls[i].st != CALL_FREE;
	return n;
}

/* A transmission on some call: our own (granted) or another party's. */
static bool in_transmission(const struct tetra *t)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (t->calls[i].st != CALL_FREE && (t->calls[i].tx_own || t->calls[i].tx_down))
			return true;
	return false;
}

static void reply_ok(struct tetra *t)
{
	sim_out(&t->sim, "OK");
}

static void reply_cme(struct tetra *t, int n)
{
	sim_out(&t->sim, "+CME ERROR: %d", n);
}

/*
 * Split "a,b,,d" into at most max numeric fields; empty fields are allowed and marked
 * absent. Returns the field count, or -1 on a non-digit, a value over 99999 or too many
 * fields.
 */
static int parse_fields(char *args, long *val, bool *present, int max)
{
	int n = 0;

	for (;;) {
		char *comma = strchr(args, ',');

		if (n == max)
			return -1;
		if (comma)
			*comma = '\0';
		present[n] = *args != '\0';
		val[n] = 0;
		if (present[n] && sim_parse_long(args, 0, 99999, &val[n]) < 0)
			return -1;
		n++;
		if (!comma)
			return n;
		args = comma + 1;
	}
}

/* --- host commands -------------------------------------------------------- */

static void at_answer(struct tetra *t)
{
	for (int i = 0; i < MAX_CALLS; i++) {
		struct call *c = &t->calls[i];

		if (c->st == CALL_RINGING) {
			c->st = CALL_ACTIVE;
			reply_ok(t);
			sim_out(&t->sim, "+CTCC: %d,%d,%d,0,0,0,1", c->cci, c->hook, c->simplex);
			return;
		}
	}
	reply_cme(t, CME_NOT_ALLOWED);
}

static void at_hangup(struct tetra *t)
{
	reply_ok(t);
	for (int i = 0; i < MAX_CALLS; i++) {
		struct call *c = &t->calls[i];

		if (c->st == CALL_FREE)
			continue;
		sim_out(&t->sim, "+CTCR: %d,1", c->cci);
		sim_event(&t->sim, "released %d 1", c->cci);
		c->st = CALL_FREE;
	}
}

/*
 * AT+CLCC: the live calls, "+CLCC: <cci>,<dir>,<stat>,<mode>,<mpty>" as 3GPP TS 27.007
 * lists them (dir 1: terminated here, stat 0 active, 4 incoming (ringing), 2 dialling;
 * mode 0 voice, mpty 1 for a group call). Whether a TETRA terminal answers it this way is
 * unconfirmed (tetra-hw-and-checks.md); rinkid uses only the first field.
 */
static void at_clcc(struct tetra *t)
{
	for (int i = 0; i < MAX_CALLS; i++) {
		const struct call *c = &t->calls[i];
		if (c->st == CALL_FREE)
			continue;
		int stat = c->st == CALL_ACTIVE ? 0 : c->st == CALL_RINGING ? 4 : 2;
		sim_out(&t->sim, "+CLCC: %d,1,%d,0,%d", c->cci, stat, c->comms == 1);
	}
	reply_ok(t);
}

static void at_dial(struct tetra *t, const char *ssi, int64_t t_ns)
{
	struct call *c;

	if (id_type(ssi) < 0) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	c = t->dial_reply == DIAL_REFUSE ? NULL : new_call(t, 0);
	if (!c) {
		reply_cme(t, CME_NOT_ALLOWED);
		return;
	}
	c->st = CALL_PAGED;
	c->hook = t->ctsdc_hook;
	c->simplex = t->ctsdc_simplex;
	c->comms = t->ctsdc_comms;
	sim_event(&t->sim, "dial %lld %s cci=%d", (long long)t_ns, ssi, c->cci);
	reply_ok(t);
	sim_out(&t->sim, "+CTOCP: %d,2", c->cci);
	if (t->dial_reply == DIAL_ANSWER) {
		c->st = CALL_ACTIVE;
		sim_out(&t->sim, "+CTCC: %d,%d,%d,0,0,%d,1", c->cci, c->hook, c->simplex, c->comms);
	} else if (t->dial_reply == DIAL_REJECT) {
		c->st = CALL_FREE;
		sim_out(&t->sim, "+CTCR: %d,%d", c->cci, t->dial_cause);
	}
}

static void at_ctsdc(struct tetra *t, char *args)
{
	long v[11];
	bool has[11];

	if (parse_fields(args, v, has, 11) < 2 || !has[0] || !has[1]) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	if (has[3])
		t->ctsdc_hook = v[3] != 0;
	if (has[4])
		t->ctsdc_simplex = v[4] != 0;
	if (has[6])
		t->ctsdc_comms = (int)(v[6] & 3);
	reply_ok(t);
}

static void at_ctxd(struct tetra *t, char *args)
{
	long v[2];
	bool has[2];
	struct call *c;

	if (parse_fields(args, v, has, 2) != 2 || !has[0] || !has[1] || v[1] > 3) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	c = find_call(t, v[0]);
	if (!c || c->st != CALL_ACTIVE || t->floor_reply == FLOOR_BUSY) {
		reply_cme(t, CME_NOT_ALLOWED);
		return;
	}
	reply_ok(t);
	switch (t->floor_reply) {
	case FLOOR_GRANT:
		c->tx_own = true;
		c->tx_down = false;
		sim_out(&t->sim, "+CTXG: %d,0,0,0", c->cci);
		break;
	case FLOOR_QUEUE:
		c->tx_queued = true;
		sim_out(&t->sim, "+CTXG: %d,2,0,0", c->cci);
		break;
	default:
		sim_out(&t->sim, "+CTXG: %d,1,0,0", c->cci);
		break;
	}
}

static void at_cutxc(struct tetra *t, char *args)
{
	long v[1];
	bool has[1];
	struct call *c;

	if (parse_fields(args, v, has, 1) != 1 || !has[0]) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	c = find_call(t, v[0]);
	if (!c || c->st != CALL_ACTIVE) {
		reply_cme(t, CME_NOT_ALLOWED);
		return;
	}
	c->tx_own = false;
	c->tx_queued = false;
	reply_ok(t);
}

static void at_cmgs(struct tetra *t, char *args)
{
	char *comma = strchr(args, ',');

	if (!comma) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	*comma = '\0';
	if (id_type(args) < 0 || sim_parse_long(comma + 1, 1, SDS_MAX_BITS, &t->sds_bits) < 0) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	strcpy(t->sds_to, args);
	t->sds_data = true;
	t->sds_hexlen = 0;
	sim_timer_arm(&t->sds_timer, CMGS_DATA_NS);
}

static void on_sds_timeout(struct sim *s, void *arg)
{
	struct tetra *t = arg;

	(void)s;
	t->sds_data = false;
	reply_cme(t, CME_CMGS_TIMEOUT);
}

static void on_report(struct sim *s, void *arg)
{
	struct report *r = arg;

	if (r->t->cmgs_status)
		sim_out(s, "+CMGS: %d,%d,%d", r->inst, r->t->cmgs_status, r->ref);
	r->inst = -1;
}

/* The hex PDU after AT+CMGS, ended by Ctrl-Z (or ESC to abort). */
static void sds_data_line(struct tetra *t, const char *line, size_t len, int term)
{
	uint8_t pdu[SDS_MAX_BITS / 8 + 2];
	size_t need = ((size_t)t->sds_bits + 3) / 4;
	struct report *r = NULL;
	int inst;
	int ref;

	if (term == 0x1b) {
		t->sds_data = false;
		sim_timer_cancel(&t->sds_timer);
		reply_ok(t);
		return;
	}
	if (t->sds_hexlen + len > SIM_LINE_MAX || strlen(line) != len) {
		t->sds_data = false;
		sim_timer_cancel(&t->sds_timer);
		reply_cme(t, CME_SYNTAX);
		return;
	}
	memcpy(t->sds_hex + t->sds_hexlen, line, len);
	t->sds_hexlen += len;
	t->sds_hex[t->sds_hexlen] = '\0';
	if (term != 0x1a)
		return; /* the PDU may span lines; Ctrl-Z ends it */
	t->sds_data = false;
	sim_timer_cancel(&t->sds_timer);
	for (size_t i = 0; i < t->sds_hexlen; i++)
		t->sds_hex[i] = (char)toupper((unsigned char)t->sds_hex[i]);
	/* Hex length must cover the bit count; one octet of padding is tolerated (LIP). */
	if (t->sds_hexlen < need || t->sds_hexlen > need + 2 ||
	    strspn(t->sds_hex, "0123456789ABCDEF") != t->sds_hexlen) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	{
		char even[SIM_LINE_MAX + 2];

		snprintf(even, sizeof(even), "%s%s", t->sds_hex, t->sds_hexlen % 2 ? "0" : "");
		sim_hex_decode(even, pdu, sizeof(pdu));
	}
	if (t->sds_tx_refuse && in_transmission(t)) {
		sim_event(&t->sim, "sds-refused %s %s", t->sds_to, t->sds_hex);
		reply_cme(t, CME_BUSY_SIGNALLING);
		return;
	}
	inst = t->next_inst;
	t->next_inst = (t->next_inst + 1) % 256;
	/* SDS-TL transfer (PID >= 0x80, message type 0) carries its own reference. */
	ref = (pdu[0] >= 0x80 && t->sds_hexlen >= 6 && (pdu[1] >> 4) == 0) ? pdu[2] : inst;
	sim_event(&t->sim, "sds-out %s %s", t->sds_to, t->sds_hex);
	sim_out(&t->sim, "+CMGS: %d", inst);
	reply_ok(t);
	for (int i = 0; i < MAX_REPORTS && !r; i++)
		if (t->reports[i].inst < 0)
			r = &t->reports[i];
	if (!r) {
		sim_warn(&t->sim, "more than %d SDS reports pending, one dropped", MAX_REPORTS);
		return;
	}
	r->inst = inst;
	r->ref = ref;
	sim_timer_arm(&r->timer, CMGS_REP_NS);
}

static void at_command(struct tetra *t, char *cmd, int64_t t_ns)
{
	char *body = cmd + 2;
	char *args;
	long v;

	if (strncmp(cmd, "AT", 2)) {
		reply_cme(t, CME_SYNTAX);
		return;
	}
	if (!*body || !strcmp(body, "Z")) {
		reply_ok(t);
	} else if (!strcmp(body, "E0") || !strcmp(body, "E1")) {
		t->sim.echo = body[1] == '1';
		reply_ok(t);
	} else if (!strcmp(body, "A")) {
		at_answer(t);
	} else if (!strcmp(body, "H") || !strcmp(body, "H0")) {
		at_hangup(t);
	} else if (body[0] == 'D') {
		at_dial(t, body + 1, t_ns);
	} else if (!strcmp(body, "+CTOM?")) {
		sim_out(&t->sim, "+CTOM: %d", t->mode);
		reply_ok(t);
	} else if (!strncmp(body, "+CTOM=", 6)) {
		if (sim_parse_long(body + 6, 0, 6, &v) < 0) {
			reply_cme(t, CME_SYNTAX);
		} else {
			t->mode = (int)v;
			reply_ok(t);
		}
	} else if (!strncmp(body, "+CTSP=", 6) || !strncmp(body, "+CTSDS=", 7)) {
		long f[5];
		bool has[5];

		args = strchr(body, '=') + 1;
		if (parse_fields(args, f, has, 5) < 2 || !has[0] || !has[1])
			reply_cme(t, CME_SYNTAX);
		else
			reply_ok(t);
	} else if (!strncmp(body, "+CTSDC=", 7)) {
		at_ctsdc(t, body + 7);
	} else if (!strcmp(body, "+CNUMF?")) {
		sim_out(&t->sim, "+CNUMF: 6,%s", t->tsi);
		reply_ok(t);
	} else if (!strcmp(body, "+CLCC")) {
		at_clcc(t);
	} else if (!strcmp(body, "+CREG?")) {
		sim_out(&t->sim, "+CREG: 1,1," MNI_TEXT);
		reply_ok(t);
	} else if (!strcmp(body, "+CSQ?")) {
		sim_out(&t->sim, "+CSQ: 25,99");
		reply_ok(t);
	} else if (!strcmp(body, "+GMI?")) {
		sim_out(&t->sim, "+GMI: RINKI-SIM");
		reply_ok(t);
	} else if (!strcmp(body, "+GMM?")) {
		sim_out(&t->sim, "+GMM: 1,TETRA-SIM,1.0");
		reply_ok(t);
	} else if (!strncmp(body, "+CTXD=", 6)) {
		at_ctxd(t, body + 6);
	} else if (!strncmp(body, "+CUTXC=", 7)) {
		at_cutxc(t, body + 7);
	} else if (!strncmp(body, "+CMGS=", 6)) {
		at_cmgs(t, body + 6);
	} else {
		reply_cme(t, CME_SYNTAX);
	}
}

static void tetra_pty_line(struct sim *s, char *line, size_t len, int term, int64_t t_ns)
{
	struct tetra *t = s->priv;

	if (t->sds_data) {
		sds_data_line(t, line, len, term);
		return;
	}
	if (term == 0x1a || term == 0x1b) {
		reply_cme(t, CME_DATA_WITHOUT_CMGS);
		return;
	}
	if (t->refuse_first) { /* power-up: the first command meets a half-read buffer */
		t->refuse_first = false;
		reply_cme(t, CME_SYNTAX);
		return;
	}
	if (t->pending_cme >= 0) {
		reply_cme(t, t->pending_cme);
		t->pending_cme = -1;
		return;
	}
	if (strlen(line) != len) {
		reply_cme(t, CME_SYNTAX); /* embedded NUL */
		return;
	}
	for (char *p = line; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	at_command(t, line, t_ns);
}

/* --- control commands ----------------------------------------------------- */

/* Parse "key=value" with value in [min, max]; returns 1 if key matched, -1 on a bad value. */
static int kv(const char *tok, const char *key, long min, long max, long *out)
{
	size_t n = strlen(key);

	if (strncmp(tok, key, n) || tok[n] != '=')
		return 0;
	return sim_parse_long(tok + n + 1, min, max, out) < 0 ? -1 : 1;
}

static void ctl_call(struct tetra *t, struct sim_client *cl, char *args, bool group)
{
	long hook = group, simplex = group, prio = 0, cci = 0;
	const char *calling = sim_next_token(&args);
	const char *called = NULL;
	char own[16];
	struct call *c;
	char *tok;
	int64_t t_ns;

	if (!calling || id_type(calling) < 0) {
		sim_reply(cl, "err calling id must be an SSI (< 9 digits) or a 17-digit TSI");
		return;
	}
	if (group) {
		called = sim_next_token(&args);
		if (!called || sim_next_token(&args)) {
			sim_reply(cl, "err usage: group <calling> <gssi>");
			return;
		}
	}
	while (!group && (tok = sim_next_token(&args))) {
		int r = kv(tok, "hook", 0, 1, &hook);

		if (!r)
			r = kv(tok, "simplex", 0, 1, &simplex);
		if (!r)
			r = kv(tok, "prio", 0, 15, &prio);
		if (!r)
			r = kv(tok, "cci", 1, MAX_CCI, &cci);
		if (!r && !strncmp(tok, "called=", 7)) {
			called = tok + 7;
			r = 1;
		}
		if (r != 1) {
			sim_reply(cl,
				  "err bad option %s (hook=0|1 simplex=0|1 prio=0..15 "
				  "cci=1..%d called=ID)",
				  tok, MAX_CCI);
			return;
		}
	}
	if (!called) {
		snprintf(own, sizeof(own), "%lu", t->issi);
		called = own;
	}
	if (id_type(called) < 0) {
		sim_reply(cl, "err called id must be an SSI (< 9 digits) or a 17-digit TSI");
		return;
	}
	c = new_call(t, cci);
	if (!c) {
		sim_reply(cl, "err %s", cci && find_call(t, cci) ? "cci in use" : "too many calls");
		return;
	}
	c->hook = (int)hook;
	c->simplex = (int)simplex;
	c->comms = group;
	c->tx_down = group; /* a group call starts with its caller talking */
	c->st = hook || group ? CALL_ACTIVE : CALL_RINGING;
	snprintf(c->calling, sizeof(c->calling), "%s", calling);
	c->prio = prio;
	if (!group && t->fwd_ns)
		sim_timer_arm(&c->fwd, t->fwd_ns);
	sim_out(&t->sim, "+CTICN: %d,0,0,%d,%s,%d,%d,0,%d,1,%d,%s,%ld", c->cci, id_type(calling),
		calling, c->hook, c->simplex, c->comms, id_type(called), called, prio);
	t_ns = sim_flush(&t->sim);
	/* t: after the write returned; t0: just before it (benchmarks take t0, since the
	   reader may already have the bytes when write() returns) */
	sim_reply(cl, "ok cci=%d t=%lld t0=%lld", c->cci, (long long)t_ns,
		  (long long)t->sim.flush_start_ns);
}

/*
 * forward-no-answer: the call still rings (nobody answered: the host is dead, hung, or its
 * port closed): release it here (+CTCR cause 1, as the network ends this leg) and offer it
 * to the other sim, as the network's call forwarding does. Event "forwarded <cci> <reply>".
 */
static void on_forward(struct sim *s, void *arg)
{
	struct tetra *t = (struct tetra *)s;
	struct call *c = arg;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char cmd[96], reply[160] = "no answer";
	int fd, cci = c->cci;

	if (c->st != CALL_RINGING || c->hook || c->comms)
		return;
	sim_out(&t->sim, "+CTCR: %d,1", c->cci);
	sim_flush(&t->sim);
	c->st = CALL_FREE;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t->fwd_ctl);
	snprintf(cmd, sizeof(cmd), "call %s simplex=%d prio=%ld\n", c->calling, c->simplex,
		 c->prio);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd)) {
		/* its reply is the line starting "ok" or "err" (events may come first) */
		char buf[1024];
		size_t len = 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		while (len < sizeof(buf) - 1 && poll(&p, 1, 2000) == 1) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = '\0';
			char *line = buf, *nl;
			while ((nl = strchr(line, '\n'))) {
				*nl = '\0';
				if (!strncmp(line, "ok", 2) || !strncmp(line, "err", 3)) {
					snprintf(reply, sizeof(reply), "%.150s", line);
					len = sizeof(buf); /* done */
					break;
				}
				line = nl + 1;
			}
			if (len < sizeof(buf)) {
				/* keep the unfinished line only */
				len = strlen(line);
				memmove(buf, line, len + 1);
			}
		}
	} else {
		snprintf(reply, sizeof(reply), "err cannot reach %s", t->fwd_ctl);
	}
	if (fd >= 0)
		close(fd);
	sim_event(&t->sim, "forwarded %d %s", cci, reply);
}

static void ctl_forward(struct tetra *t, struct sim_client *cl, char *args)
{
	const char *ms = sim_next_token(&args), *path = sim_next_token(&args);
	long v;

	if (ms && !strcmp(ms, "off") && !path) {
		t->fwd_ns = 0;
		sim_reply(cl, "ok forward off");
		return;
	}
	if (!ms || !path || sim_next_token(&args) || sim_parse_long(ms, 100, 600000, &v) < 0 ||
	    strlen(path) >= sizeof(t->fwd_ctl)) {
		sim_reply(cl, "err usage: forward-no-answer <ms 100..600000> <ctl socket> | off");
		return;
	}
	t->fwd_ns = v * 1000000LL;
	snprintf(t->fwd_ctl, sizeof(t->fwd_ctl), "%s", path);
	sim_reply(cl, "ok forward %ld %s", v, path);
}

/* Parse "<cci>" of an existing call; replies the error itself and returns NULL. */
static struct call *ctl_cci(struct tetra *t, struct sim_client *cl, const char *tok)
{
	long cci;
	struct call *c;

	if (!tok || sim_parse_long(tok, 1, MAX_CCI, &cci) < 0) {
		sim_reply(cl, "err cci must be 1..%d", MAX_CCI);
		return NULL;
	}
	c = find_call(t, cci);
	if (!c)
		sim_reply(cl, "err no call with cci %ld", cci);
	return c;
}

static void reply_written(struct tetra *t, struct sim_client *cl)
{
	sim_reply(cl, "ok t=%lld", (long long)sim_flush(&t->sim));
}

/* Convert UTF-8 to ISO-8859-1; returns the byte count or -1 on bad UTF-8 / no mapping. */
static int utf8_to_latin1(const char *in, uint8_t *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;

	while (*p) {
		unsigned cp;

		if (*p < 0x80) {
			cp = *p++;
		} else if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
			cp = (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			if (cp < 0x80)
				return -1; /* overlong */
			p += 2;
		} else {
			return -1; /* 3- and 4-byte sequences are all above U+00FF */
		}
		if (cp > 0xff || n == cap)
			return -1;
		out[n++] = (uint8_t)cp;
	}
	return (int)n;
}

static void send_sdsr(struct tetra *t, int ai, const char *from, const uint8_t *pdu, size_t len)
{
	char hex[2 * 256 + 1];

	for (size_t i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02X", pdu[i]);
	hex[2 * len] = '\0';
	sim_out(&t->sim, "+CTSDSR: %d,%s,%d,%lu,0,%zu", ai, from, id_type(from), t->issi, len * 8);
	sim_out_cont(&t->sim, "%s", hex);
}

static void ctl_sds_text(struct tetra *t, struct sim_client *cl, char *args)
{
	const char *from = sim_next_token(&args);
	uint8_t pdu[255];
	int n;

	if (!from || id_type(from) < 0 || !*args) {
		sim_reply(cl, "err usage: sds-text <from SSI|TSI> <text>");
		return;
	}
	n = utf8_to_latin1(args, pdu + 4, sizeof(pdu) - 4);
	if (n < 0) {
		sim_reply(cl, "err text must be ISO-8859-1 characters, at most %zu",
			  sizeof(pdu) - 4);
		return;
	}
	pdu[0] = 0x82;
	pdu[1] = 0x04;
	pdu[2] = (uint8_t)t->next_ref;
	pdu[3] = 0x01;
	t->next_ref = t->next_ref % 255 + 1;
	send_sdsr(t, 12, from, pdu, (size_t)n + 4);
	sim_reply(cl, "ok ref=%d t=%lld", pdu[2], (long long)sim_flush(&t->sim));
}

/*
 * sds-fwd <from> <digits> <text>: an SDS-TRANSFER with the store/forward block, the
 * forward address an external number of 1..24 digits (4 bits each, a dummy digit
 * after an odd count), then ISO-8859-1 text.
 */
static void ctl_sds_fwd(struct tetra *t, struct sim_client *cl, char *args)
{
	const char *from = sim_next_token(&args);
	const char *num = sim_next_token(&args);
	uint8_t pdu[255];
	size_t nd = num ? strlen(num) : 0, k;
	int n;

	if (!from || id_type(from) < 0 || nd < 1 || nd > 24 || strspn(num, "0123456789") != nd ||
	    !*args) {
		sim_reply(cl, "err usage: sds-fwd <from SSI|TSI> <1..24 digits> <text>");
		return;
	}
	pdu[0] = 0x82;
	pdu[1] = 0x05; /* SDS-TRANSFER, received report requested, store/forward */
	pdu[2] = (uint8_t)t->next_ref;
	pdu[3] = 0x1B; /* validity period 3, forward address type 3: external number */
	pdu[4] = (uint8_t)nd;
	k = 5;
	for (size_t i = 0; i < nd; i += 2) /* an odd count ends on the dummy digit 0 */
		pdu[k++] = (uint8_t)((num[i] - '0') << 4 | (i + 1 < nd ? num[i + 1] - '0' : 0));
	pdu[k++] = 0x01;
	n = utf8_to_latin1(args, pdu + k, sizeof(pdu) - k);
	if (n < 0) {
		sim_reply(cl, "err text must be ISO-8859-1 characters, at most %zu",
			  sizeof(pdu) - k);
		return;
	}
	t->next_ref = t->next_ref % 255 + 1;
	send_sdsr(t, 12, from, pdu, (size_t)n + k);
	sim_reply(cl, "ok ref=%d t=%lld", pdu[2], (long long)sim_flush(&t->sim));
}

/* sds-pdu <from> <ai> <bits> <hex>: any PDU as given (malformed ones too), as long
 * as the hex covers the bits. */
static void ctl_sds_pdu(struct tetra *t, struct sim_client *cl, char *args)
{
	const char *from = sim_next_token(&args);
	const char *ai = sim_next_token(&args);
	const char *bits = sim_next_token(&args);
	const char *hex = sim_next_token(&args);
	long a, b;

	if (!from || id_type(from) < 0 || !ai || sim_parse_long(ai, 0, 15, &a) < 0 || !bits ||
	    sim_parse_long(bits, 1, 2047, &b) < 0 || !hex || sim_next_token(&args) ||
	    strlen(hex) > 512 || (size_t)b > 4 * strlen(hex) ||
	    strspn(hex, "0123456789ABCDEFabcdef") != strlen(hex)) {
		sim_reply(cl, "err usage: sds-pdu <from SSI|TSI> <ai 0..15> <bits 1..2047> <hex>");
		return;
	}
	sim_out(&t->sim, "+CTSDSR: %ld,%s,%d,%lu,0,%ld", a, from, id_type(from), t->issi, b);
	sim_out_cont(&t->sim, "%s", hex);
	reply_written(t, cl);
}

static void ctl_sds_status(struct tetra *t, struct sim_client *cl, char *args)
{
	const char *from = sim_next_token(&args);
	const char *val = sim_next_token(&args);
	uint8_t pdu[2];
	char *end;
	unsigned long v;

	if (!from || id_type(from) < 0 || !val || sim_next_token(&args)) {
		sim_reply(cl, "err usage: sds-status <from SSI|TSI> <hex value>");
		return;
	}
	v = strtoul(val, &end, 16);
	if (*end || strlen(val) > 4 || !isxdigit((unsigned char)*val)) {
		sim_reply(cl, "err status value must be 1..4 hex digits");
		return;
	}
	pdu[0] = (uint8_t)(v >> 8);
	pdu[1] = (uint8_t)v;
	send_sdsr(t, 13, from, pdu, 2);
	reply_written(t, cl);
}

static void ctl_sds_report(struct tetra *t, struct sim_client *cl, char *args)
{
	const char *from = sim_next_token(&args);
	const char *ref = sim_next_token(&args);
	const char *st = sim_next_token(&args);
	long r, status = 0;
	uint8_t pdu[4];

	if (!from || id_type(from) < 0 || !ref || sim_parse_long(ref, 0, 255, &r) < 0 ||
	    (st && sim_parse_long(st, 0, 255, &status) < 0) || sim_next_token(&args)) {
		sim_reply(cl, "err usage: sds-report <from> <ref 0..255> [status 0..255]");
		return;
	}
	pdu[0] = 0x82;
	pdu[1] = 0x10;
	pdu[2] = (uint8_t)status;
	pdu[3] = (uint8_t)r;
	send_sdsr(t, 12, from, pdu, 4);
	reply_written(t, cl);
}

static void ctl_state(struct tetra *t, struct sim_client *cl)
{
	char buf[MAX_CALLS * 24 + 32];
	int n = snprintf(buf, sizeof(buf), "ok calls=%d", ncalls(t));

	for (int i = 0; i < MAX_CALLS; i++) {
		const struct call *c = &t->calls[i];

		if (c->st != CALL_FREE)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %d:%s", c->cci,
				      c->tx_own ? "tx" : call_state_names[c->st]);
	}
	sim_reply(cl, "%s", buf);
}

/* A restart: calls, SDS and reports gone, call identifiers from 1 again. */
static void restart(struct tetra *t)
{
	for (int i = 0; i < MAX_CALLS; i++)
		t->calls[i].st = CALL_FREE;
	for (int i = 0; i < MAX_REPORTS; i++) {
		t->reports[i].inst = -1;
		sim_timer_cancel(&t->reports[i].timer);
	}
	t->sds_data = false;
	sim_timer_cancel(&t->sds_timer);
	t->pending_cme = -1;
	t->next_cci = 1;
}

static void ctl_banner(struct tetra *t, struct sim_client *cl)
{
	int cci = t->next_cci; /* kept: scenarios may count on the numbering going on */

	restart(t);
	t->next_cci = cci;
	t->mode = 0;
	t->sim.echo = t->sim.echo_default;
	sim_out(&t->sim, "+CTOM: 0");
	reply_written(t, cl);
}

/* The end of a silent reboot: the power-up state (echo on, first command refused). */
static void on_wake(struct sim *s, void *arg)
{
	struct tetra *t = arg;

	s->silent = false;
	s->echo = true;
	t->mode = t->wake_mode;
	t->refuse_first = true;
	sim_event(s, "power-up mode=%d", t->mode);
}

/* reboot-silent [sec] [mode=N]: no banner, no +CTCR; silent sec seconds, then power-up. */
static void ctl_reboot_silent(struct tetra *t, struct sim_client *cl, char *args)
{
	char *tok;
	double sec = 0;
	long mode = 0;

	while ((tok = sim_next_token(&args))) {
		char *end;
		int r = kv(tok, "mode", 0, 6, &mode);

		if (r < 0)
			goto usage;
		if (r > 0)
			continue;
		sec = strtod(tok, &end);
		if (*end || !(sec >= 0 && sec <= 3600) || !isdigit((unsigned char)*tok))
			goto usage;
	}
	restart(t);
	t->wake_mode = (int)mode;
	t->sim.silent = true;
	sim_timer_arm(&t->wake, (int64_t)(sec * 1e9));
	sim_reply(cl, "ok");
	return;
usage:
	sim_reply(cl, "err usage: reboot-silent [sec] [mode=0..6]");
}

static int tetra_ctl(struct sim *s, struct sim_client *cl, char *cmd, char *args)
{
	struct tetra *t = s->priv;
	struct call *c;
	long v;

	if (!strcmp(cmd, "call") || !strcmp(cmd, "group")) {
		ctl_call(t, cl, args, cmd[0] == 'g');
	} else if (!strcmp(cmd, "forward-no-answer")) {
		ctl_forward(t, cl, args);
	} else if (!strcmp(cmd, "talker")) {
		const char *id;

		if (!(c = ctl_cci(t, cl, sim_next_token(&args))))
			return 0;
		id = sim_next_token(&args);
		if (!id || id_type(id) < 0 || sim_next_token(&args)) {
			sim_reply(cl, "err usage: talker <cci> <SSI|TSI>");
			return 0;
		}
		c->tx_own = false;
		c->tx_down = true;
		sim_out(s, "+CTXG: %d,3,0,0,%d,%s", c->cci, id_type(id), id);
		reply_written(t, cl);
	} else if (!strcmp(cmd, "cease")) {
		if (!(c = ctl_cci(t, cl, sim_next_token(&args))))
			return 0;
		c->tx_down = false;
		sim_out(s, "+CDTXC: %d,0", c->cci);
		reply_written(t, cl);
	} else if (!strcmp(cmd, "dial-reply")) {
		static const char *const modes[] = {"ignore", "answer", "reject", "refuse"};
		const char *m = sim_next_token(&args);
		const char *cause = sim_next_token(&args);
		size_t i;

		for (i = 0; m && i < 4 && strcmp(m, modes[i]); i++)
			;
		v = 11; /* called party rejection */
		if (!m || i == 4 ||
		    (cause && (i != DIAL_REJECT || sim_parse_long(cause, 0, 255, &v) < 0)) ||
		    sim_next_token(&args)) {
			sim_reply(cl, "err usage: dial-reply ignore|answer|reject [cause]|refuse");
			return 0;
		}
		t->dial_reply = (enum dial_reply)i;
		t->dial_cause = (int)v;
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "sds-during-tx")) {
		if (strcmp(args, "refuse") && strcmp(args, "accept")) {
			sim_reply(cl, "err usage: sds-during-tx refuse|accept");
			return 0;
		}
		t->sds_tx_refuse = args[0] == 'r';
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "floor-reply")) {
		static const char *const modes[] = {"grant", "queue", "refuse", "busy"};
		size_t i;

		for (i = 0; i < 4 && strcmp(args, modes[i]); i++)
			;
		if (i == 4) {
			sim_reply(cl, "err usage: floor-reply grant|queue|refuse|busy");
			return 0;
		}
		t->floor_reply = (enum floor_reply)i;
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "grant")) {
		if (!(c = ctl_cci(t, cl, sim_next_token(&args))))
			return 0;
		if (!c->tx_queued) {
			sim_reply(cl, "err no queued floor request on call %d", c->cci);
			return 0;
		}
		c->tx_queued = false;
		c->tx_own = true;
		c->tx_down = false;
		sim_out(s, "+CTXG: %d,0,0,0", c->cci);
		reply_written(t, cl);
	} else if (!strcmp(cmd, "interrupt") || !strcmp(cmd, "txwait")) {
		bool intr = cmd[0] == 'i';
		const char *id;

		if (!(c = ctl_cci(t, cl, sim_next_token(&args))))
			return 0;
		id = sim_next_token(&args);
		if ((intr && (!id || id_type(id) < 0)) || (!intr && id) || sim_next_token(&args)) {
			sim_reply(cl, "err usage: interrupt <cci> <SSI|TSI> | txwait <cci>");
			return 0;
		}
		if (intr) {
			c->tx_own = false;
			c->tx_down = true;
			sim_out(s, "+CTXI: %d,0,0,%d,%s", c->cci, id_type(id), id);
		} else {
			sim_out(s, "+CTXW: %d,0", c->cci);
		}
		reply_written(t, cl);
	} else if (!strcmp(cmd, "release")) {
		if (!(c = ctl_cci(t, cl, sim_next_token(&args))))
			return 0;
		if (sim_parse_long(sim_next_token(&args), 0, 255, &v) < 0) {
			sim_reply(cl, "err usage: release <cci> <cause 0..255>");
			return 0;
		}
		c->st = CALL_FREE;
		sim_out(s, "+CTCR: %d,%ld", c->cci, v);
		reply_written(t, cl);
	} else if (!strcmp(cmd, "answer-out")) {
		if (!(c = ctl_cci(t, cl, sim_next_token(&args))))
			return 0;
		if (c->st != CALL_PAGED) {
			sim_reply(cl, "err call %d is not an outgoing call being set up", c->cci);
			return 0;
		}
		c->st = CALL_ACTIVE;
		sim_out(s, "+CTCC: %d,%d,%d,0,0,%d,1", c->cci, c->hook, c->simplex, c->comms);
		reply_written(t, cl);
	} else if (!strcmp(cmd, "sds-status")) {
		ctl_sds_status(t, cl, args);
	} else if (!strcmp(cmd, "sds-text")) {
		ctl_sds_text(t, cl, args);
	} else if (!strcmp(cmd, "sds-fwd")) {
		ctl_sds_fwd(t, cl, args);
	} else if (!strcmp(cmd, "sds-pdu")) {
		ctl_sds_pdu(t, cl, args);
	} else if (!strcmp(cmd, "sds-report")) {
		ctl_sds_report(t, cl, args);
	} else if (!strcmp(cmd, "cmgs-status")) {
		if (!strcmp(args, "none"))
			v = 0;
		else if (sim_parse_long(args, 4, 5, &v) < 0) {
			sim_reply(cl, "err usage: cmgs-status 4|5|none");
			return 0;
		}
		t->cmgs_status = (int)v;
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "cme")) {
		if (sim_parse_long(args, 0, 999, &v) < 0) {
			sim_reply(cl, "err usage: cme <n>");
			return 0;
		}
		t->pending_cme = (int)v;
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "banner")) {
		ctl_banner(t, cl);
	} else if (!strcmp(cmd, "reboot-silent")) {
		ctl_reboot_silent(t, cl, args);
	} else if (!strcmp(cmd, "state")) {
		ctl_state(t, cl);
	} else {
		return -ENOENT;
	}
	return 0;
}

static const struct sim_ops tetra_ops = {
    .pty_line = tetra_pty_line,
    .ctl = tetra_ctl,
};

static void usage(FILE *f, bool full)
{
	fprintf(f, "usage: tetra-sim [--ctl SOCKPATH] [--link PATH] [--issi N] [--echo] [-v]\n");
	if (!full)
		return;
	fputs("\nScenario commands (stdin or --ctl; each answers \"ok ...\" or \"err ...\"):\n"
	      "  call <id> [hook=0|1] [simplex=0|1] [prio=N] [cci=N] [called=ID]  incoming call\n"
	      "  group <id> <gssi>            incoming group call\n"
	      "  forward-no-answer <ms> <ctl>|off  the network's call forwarding: an incoming\n"
	      "                               call still ringing after ms is released here and\n"
	      "                               offered to the sim at control socket ctl (event\n"
	      "                               forwarded <cci> <its reply>)\n"
	      "  talker <cci> <id>            +CTXG: another party talks\n"
	      "  cease <cci>                  +CDTXC: the talker stopped\n"
	      "  floor-reply grant|queue|refuse|busy  how AT+CTXD is answered (default grant)\n"
	      "  grant <cci>                  give a queued AT+CTXD the floor\n"
	      "  interrupt <cci> <id>         +CTXI: our transmission pre-empted by id\n"
	      "  txwait <cci>                 +CTXW: our transmission must wait\n"
	      "  release <cci> <cause>        +CTCR\n"
	      "  dial-reply ignore|answer|reject [cause]|refuse  what ATD gets (default ignore:\n"
	      "                               +CTOCP only; reject: +CTCR cause, default 11;\n"
	      "                               refuse: +CME ERROR: 3)\n"
	      "  answer-out <cci>             the called party answers an outgoing call\n"
	      "  sds-text <from> <text> | sds-status <from> <hex> | sds-report <from> <ref> [st]\n"
	      "  sds-fwd <from> <digits> <text>  text with store/forward to an external number\n"
	      "                               (odd digit counts end on a dummy digit)\n"
	      "  sds-pdu <from> <ai> <bits> <hex>  any +CTSDSR PDU, as given\n"
	      "  cmgs-status 4|5|none         status of the delayed +CMGS report\n"
	      "  sds-during-tx refuse|accept  AT+CMGS during a transmission gets +CME ERROR: 42\n"
	      "                               (event sds-refused) or goes (default accept)\n"
	      "  cme <n>                      answer the next command with +CME ERROR: n\n"
	      "  banner                       terminal restart (+CTOM: 0), calls dropped\n"
	      "  reboot-silent [sec] [mode=N] restart without a word (no banner, no +CTCR):\n"
	      "                               silent sec seconds, then the power-up state: echo\n"
	      "                               on, first command +CME ERROR: 35, AT+CTOM mode N,\n"
	      "                               call identifiers from 1 (event power-up)\n"
	      "  state                        calls and their states\n"
	      "  raw <line> | rawbytes <hex> | silent | echo | hangup-port | quit  (common)\n",
	      f);
}

int main(int argc, char **argv)
{
	static struct tetra t; /* large buffers: keep them off the stack */
	static const struct option opts[] = {
	    SIM_COMMON_LONGOPTS,
	    {"issi", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long issi;
	int opt;
	int ret;

	sim_init(&t.sim, "tetra-sim", &tetra_ops, &t);
	t.issi = 1001;
	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (sim_parse_common_opt(&t.sim, opt, optarg))
			continue;
		if (opt == 'i' && sim_parse_long(optarg, 1, 16777215, &issi) == 0) {
			t.issi = (unsigned long)issi;
		} else if (opt == 'h') {
			usage(stdout, true);
			return 0;
		} else {
			if (opt == 'i')
				fprintf(stderr, "tetra-sim: --issi must be 1..16777215\n");
			usage(stderr, false);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, false);
		return 2;
	}
	snprintf(t.tsi, sizeof(t.tsi), "%04d%05d%08lu", MCC, MNC, t.issi);
	t.next_cci = 1;
	t.next_ref = 1;
	t.pending_cme = -1;
	t.cmgs_status = 4;
	sim_timer_init(&t.sim, &t.sds_timer, on_sds_timeout, &t);
	sim_timer_init(&t.sim, &t.wake, on_wake, &t);
	for (int i = 0; i < MAX_CALLS; i++)
		sim_timer_init(&t.sim, &t.calls[i].fwd, on_forward, &t.calls[i]);
	for (int i = 0; i < MAX_REPORTS; i++) {
		t.reports[i].t = &t;
		t.reports[i].inst = -1;
		sim_timer_init(&t.sim, &t.reports[i].timer, on_report, &t.reports[i]);
	}
	ret = sim_start(&t.sim);
	if (ret < 0)
		return 1;
	ret = sim_run(&t.sim);
	sim_stop(&t.sim);
	return ret < 0 ? 1 : 0;
}
