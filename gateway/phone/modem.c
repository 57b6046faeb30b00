/*
 * modem: outgoing voice calls for paging. A call is tracked from ATD to its
 * end: ATD is sent urgent; while a call exists AT+CLCC runs every
 * modem.clcc_poll_ms and its stat drives progress (2 dialling, 3 alerting,
 * 0 active). A call missing from two polls in a row after it was seen ended; a
 * dialled call not in a list asked within modem.clcc_grace_ms of the ATD's
 * answer is "not yet listed" (modems add it late), after that its absence
 * ends it. The time is the asking's (the command written), not the reading of
 * the answer: a rinkid held up between the two ends no call early.
 * Call-progress result codes (as URCs after the ATD's OK, or as the ATD's own
 * answer) and vendor release reports are reasons, not verdicts: each triggers
 * an immediate poll, and the call ends when the list no longer has it. A
 * report is bound to its call: a vendor report naming another call id,
 * direction or number is not ours, and a release report that comes before our
 * call was seen at all is the previous call's, late (its ^CEND after our next
 * ATD), and ignored. Likewise a list asked before the last call ended (the
 * next call dialled while its answer was on the way) is not the next call's:
 * it is asked again. After an end other than our
 * own hang-up, AT+CEER is asked (for the number that call had: the next page's ATD may go first)
 * and its text goes to ops.cause, so the call log has the network's reason. Every port open
 * (start and reopen) first writes ESC and drains the input for a bounded time: a modem left at
 * the SMS prompt by a killed rinkid would take the init as message text; a +CMTI in that
 * drain is lost, so after each init AT+CMGL=4 lists what is stored. The drain ends on a quiet
 * line, so the ESC's answer may come after it: the init's first command, AT+CSQ, takes no
 * final code before its +CSQ line (GW_AT_F_SYNC), and a late answer goes to nobody. Vendor
 * profiles, call-state accelerators and incoming calls: see modem.h.
 *
 * The driver is two files behind modem_priv.h: this one (init, calls, key reports,
 * health, the port) and modem_sms.c (SMS in and out).
 */
#include "phone/modem_priv.h"

#include "core/event.h"

/*
 * Vendor profiles (modem.vendor): what each module needs on top of the 3GPP init. The
 * call-state URCs it sends are accelerators only: each asks AT+CLCC at once, and the list
 * stays the truth. Huawei sends ^ORIG/^CONF/^CONN/^CEND unasked and has no received-DTMF
 * URC (keys come from the in-band detector); Quectel needs +QIND "ccinfo" and +QTONEDET
 * switched on; SIMCom pushes +CLCC with AT+CLCC=1 and reports keys with AT+DDET=1.
 * Without a vendor key report (generic, huawei) keys come only from the in-band detector on
 * audio.phone; with neither, start-up warns that only an SMS reply can accept a call.
 */
static const struct profile {
	const char *name;
	const char *init[3];
	int keys; /* the vendor reports keys pressed on the far phone */
} profiles[] = {
    {"generic", {NULL}, 0},
    {"huawei", {NULL}, 0},
    {"quectel", {"AT+QINDCFG=\"ccinfo\",1,0", "AT+QTONEDET=1", NULL}, 1},
    {"simcom", {"AT+CLCC=1", "AT+DDET=1", NULL}, 1},
};

static const struct profile *profile_of(const struct gw_conf *conf)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].name, conf->modem_vendor) == 0)
			return &profiles[i];
	return &profiles[0]; /* conf.c admits only the names above */
}

static const char *const init_cmds[] = {
    "AT",
    "ATE0",
    "AT+CHUP", /* a call left from before a restart or a lost port: rinki has no owner for it */
    "AT+CMEE=2",
    "AT+CLIP=1",
    "AT+CCWA=0,0,1",
    "AT+CMGF=0",
    "AT+CPMS=\"ME\",\"ME\",\"ME\"",
    "AT+CNMI=2,1,0,0,0",
};

const char *gw_modem_end_name(enum gw_modem_end why)
{
	static const char *const names[] = {
	    [GW_MODEM_END_LOCAL] = "hung up by rinki",
	    [GW_MODEM_END_BUSY] = "busy",
	    [GW_MODEM_END_NO_ANSWER] = "no answer",
	    [GW_MODEM_END_NO_CARRIER] = "remote hung up or network cleared (NO CARRIER)",
	    [GW_MODEM_END_NO_DIALTONE] = "no dial tone",
	    [GW_MODEM_END_ERROR] = "dial refused",
	    [GW_MODEM_END_GONE] = "call vanished from the call list",
	    [GW_MODEM_END_PORT] = "modem port lost",
	};
	return (unsigned)why < sizeof(names) / sizeof(names[0]) ? names[why] : "?";
}

int gw_modem_parse_clcc(const char *line, struct gw_modem_clcc *c)
{
	if (strncmp(line, "+CLCC:", 6) != 0)
		return -EINVAL;
	const char *f[10];
	char buf[160];
	int n = gw_at_fields(line + 6, buf, sizeof(buf), f, 10);
	long v[5];
	static const long hi[5] = {99, 1, 5, 9, 1};
	if (n < 5)
		return -EINVAL;
	for (int i = 0; i < 5; i++)
		if (gw_at_int(f[i], i == 0 ? 1 : 0, hi[i], &v[i]) < 0)
			return -EINVAL;
	c->id = (int)v[0];
	c->dir = (int)v[1];
	c->stat = (int)v[2];
	c->mode = (int)v[3];
	c->mpty = (int)v[4];
	c->number[0] = '\0';
	if (n >= 6) {
		if (strlen(f[5]) >= sizeof(c->number))
			return -EINVAL;
		snprintf(c->number, sizeof(c->number), "%s", f[5]);
	}
	return 0;
}

int gw_modem_parse_ceer(const char *line, char *text, size_t len)
{
	if (strncmp(line, "+CEER:", 6) != 0 || len == 0)
		return -EINVAL;
	const char *p = line + 6;
	p += strspn(p, " ");
	size_t n = strlen(p);
	while (n && p[n - 1] == ' ')
		n--;
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	if (n == 0)
		return -EINVAL;
	/* vendor text: keep printable ASCII, as much as fits */
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < len; i++)
		text[k++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	text[k] = '\0';
	return 0;
}

static void ceer_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	char text[96], number[32];
	/* AT+CEER answers come in the order they were asked: the oldest number is this one's */
	memcpy(number, m->ceer.number[m->ceer.head], sizeof(number));
	m->ceer.head = (m->ceer.head + 1) % CEER_PENDING;
	m->ceer.n--;
	for (int i = 0; i < r->nlines; i++) {
		if (gw_modem_parse_ceer(r->lines[i], text, sizeof(text)) < 0) {
			LOGP(GW_LOG_MODEM, GW_LOG_WARN, "malformed +CEER skipped: %.80s",
			     r->lines[i]);
			gw_at_skipped(at, "malformed", r->lines[i]);
			continue;
		}
		LOGP(GW_LOG_MODEM, GW_LOG_INFO, "call to %s: network cause '%s'", number, text);
		if (m->ops.cause)
			m->ops.cause(m->ops.arg, number, text);
	}
}

/* Ask AT+CEER for the call that just ended, remembering its number (the next ATD may go
 * first and change m->number). Kept in the driver, not allocated: a command dropped with
 * the engine gets no callback. */
static void ask_cause(struct gw_modem *m)
{
	if (m->ceer.n == CEER_PENDING) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "%d AT+CEER unanswered: not asked for %s",
		     CEER_PENDING, m->number);
		return;
	}
	if (gw_at_cmd(m->at, "AT+CEER", "+CEER:", T_CMD_MS, 0, ceer_done, m) < 0)
		return;
	memcpy(m->ceer.number[(m->ceer.head + m->ceer.n) % CEER_PENDING], m->number,
	       sizeof(m->number));
	m->ceer.n++;
}

static void end_call(struct gw_modem *m, enum gw_modem_end why)
{
	if (m->state == GW_MODEM_CALL_IDLE)
		return;
	gw_timer_cancel(m->loop, &m->poll);
	m->call_gen++; /* a CLCC asked for this call may still be answered: not the next's */
	m->state = GW_MODEM_CALL_IDLE;
	m->seen = 0;
	m->missing = 0;
	m->end_reported = 0;
	m->repoll = 0;
	LOGP(GW_LOG_MODEM, GW_LOG_INFO, "call to %s ended: %s", m->number, gw_modem_end_name(why));
	if (why != GW_MODEM_END_LOCAL && why != GW_MODEM_END_PORT)
		ask_cause(m);
	m->ops.ended(m->ops.arg, why);
}

static void set_state(struct gw_modem *m, enum gw_modem_call_state st)
{
	if (st == m->state)
		return;
	LOGP(GW_LOG_MODEM, GW_LOG_INFO, "call to %s: %s", m->number,
	     st == GW_MODEM_CALL_ACTIVE	    ? "answered"
	     : st == GW_MODEM_CALL_ALERTING ? "ringing"
	     : st == GW_MODEM_CALL_DIALING  ? "dialling"
					    : "other state");
	m->state = st;
	/* progress is the outgoing call's; an answered incoming one is active already */
	if (m->dir == 0 && (st == GW_MODEM_CALL_ALERTING || st == GW_MODEM_CALL_ACTIVE))
		m->ops.progress(m->ops.arg, st);
}

static void clcc_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	m->polling = 0;
	if (m->state == GW_MODEM_CALL_IDLE)
		return;
	if (m->poll_gen != m->call_gen) {
		/* asked before the last call ended (the next one was dialled before the answer
		 * came): the list may still hold the old call, and says nothing of this one */
		m->repoll = 0;
		if (r->result != GW_AT_ABORTED) {
			LOGP(GW_LOG_MODEM, GW_LOG_DEBUG,
			     "AT+CLCC of the previous call: asked again");
			gw_timer_schedule(m->loop, &m->poll, 0);
		}
		return;
	}
	if (r->result == GW_AT_OK) {
		int found = 0;
		for (int i = 0; i < r->nlines; i++) {
			struct gw_modem_clcc c;
			if (gw_modem_parse_clcc(r->lines[i], &c) < 0) {
				LOGP(GW_LOG_MODEM, GW_LOG_WARN, "malformed +CLCC skipped: %.100s",
				     r->lines[i]);
				gw_at_skipped(at, "malformed", r->lines[i]);
				continue;
			}
			if (c.dir != m->dir || c.mode != 0 ||
			    (m->call_id >= 0 && c.id != m->call_id))
				continue;
			found = 1;
			m->seen = 1;
			m->call_id = c.id;
			m->missing = 0;
			set_state(m, (enum gw_modem_call_state)c.stat);
		}
		int not_yet = !found && !m->seen && m->dir == 0 &&
			      m->asked_ms - m->dial_ms < m->conf->clcc_grace_ms;
		if (not_yet) {
			/* modems list a dialled call late: its absence says nothing yet */
			LOGP(GW_LOG_MODEM, GW_LOG_DEBUG, "call to %s not listed yet", m->number);
		} else if (!found && (m->end_reported || !m->seen)) {
			/* the report and the list agree, or it never showed in its grace */
			end_call(m, m->end_reported ? m->end_why : GW_MODEM_END_GONE);
			return;
		}
		if (found && m->end_reported) {
			LOGP(GW_LOG_MODEM, GW_LOG_WARN,
			     "%s reported but the call is still listed: ignored",
			     gw_modem_end_name(m->end_why));
			m->end_reported = 0;
		}
		if (!found && !not_yet) {
			/* Tolerate one poll racing the tear-down. */
			m->missing++;
			if (m->missing >= 2) {
				end_call(m, GW_MODEM_END_GONE);
				return;
			}
		}
	} else if (r->result == GW_AT_ABORTED) {
		return;
	}
	/* A failed poll (timeout, error) is retried: one lost answer ends no call. */
	if (m->state != GW_MODEM_CALL_IDLE)
		gw_timer_schedule(m->loop, &m->poll, m->repoll ? 0 : m->conf->clcc_poll_ms);
	m->repoll = 0;
}

static void on_poll(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_modem *m = arg;
	if (m->polling || m->state == GW_MODEM_CALL_IDLE)
		return;
	if (gw_at_cmd(m->at, "AT+CLCC", "+CLCC:", T_CMD_MS, 0, clcc_done, m) == 0) {
		m->polling = 1;
		m->poll_gen = m->call_gen;
	} else {
		gw_timer_schedule(m->loop, &m->poll, m->conf->clcc_poll_ms);
	}
}

static void atd_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	if (m->state == GW_MODEM_CALL_IDLE)
		return;
	/* the modem has the call from now on: its grace in the list counts from here,
	 * not from the queueing (the ATD may have waited behind another command) */
	m->dial_ms = gw_loop_now_ms(m->loop);
	if (r->result != GW_AT_TIMEOUT && r->result != GW_AT_ABORTED && m->ops.dial_acked)
		m->ops.dial_acked(m->ops.arg);
	switch (r->result) {
	case GW_AT_OK:
	case GW_AT_CONNECT:
		gw_timer_schedule(m->loop, &m->poll, 0);
		return;
	case GW_AT_BUSY:
	case GW_AT_NO_ANSWER:
	case GW_AT_NO_CARRIER:
	case GW_AT_NO_DIALTONE:
		/* the code may be the previous call's, late: a reason the list confirms */
		m->end_why = r->result == GW_AT_BUSY	     ? GW_MODEM_END_BUSY
			     : r->result == GW_AT_NO_ANSWER  ? GW_MODEM_END_NO_ANSWER
			     : r->result == GW_AT_NO_CARRIER ? GW_MODEM_END_NO_CARRIER
							     : GW_MODEM_END_NO_DIALTONE;
		m->end_reported = 1;
		gw_timer_schedule(m->loop, &m->poll, 0);
		return;
	case GW_AT_TIMEOUT:
		/* Some modems hold the OK until the call is answered: CLCC decides. */
		gw_timer_schedule(m->loop, &m->poll, 0);
		return;
	case GW_AT_ABORTED:
		end_call(m, GW_MODEM_END_PORT);
		return;
	default:
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "ATD refused: %s %d", gw_at_result_name(r->result),
		     r->err);
		end_call(m, GW_MODEM_END_ERROR);
		return;
	}
}

/*
 * BUSY / NO ANSWER / NO CARRIER / NO DIALTONE after the ATD's OK. The code is
 * taken as a reason, not as the verdict: an immediate AT+CLCC decides, so a
 * stray or corrupted line never tears down a live call.
 */
static void urc_progress(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_modem *m = arg;
	if (m->state == GW_MODEM_CALL_IDLE) {
		LOGP(GW_LOG_MODEM, GW_LOG_INFO, "'%s' with no call, skipped", lines[0]);
		return;
	}
	if (strcmp(lines[0], "BUSY") == 0)
		m->end_why = GW_MODEM_END_BUSY;
	else if (strcmp(lines[0], "NO ANSWER") == 0)
		m->end_why = GW_MODEM_END_NO_ANSWER;
	else if (strcmp(lines[0], "NO DIALTONE") == 0)
		m->end_why = GW_MODEM_END_NO_DIALTONE;
	else
		m->end_why = GW_MODEM_END_NO_CARRIER;
	m->end_reported = 1;
	if (!m->polling)
		gw_timer_schedule(m->loop, &m->poll, 0);
}

int gw_modem_parse_call_urc(const char *line, struct gw_modem_call_urc *u)
{
	static const struct {
		const char *prefix;
		enum gw_modem_call_state state;
		int min_fields;
	} huawei[] = {
	    {"^ORIG:", GW_MODEM_CALL_DIALING, 1},
	    {"^CONF:", GW_MODEM_CALL_ALERTING, 1},
	    {"^CONN:", GW_MODEM_CALL_ACTIVE, 1},
	    {"^CEND:", GW_MODEM_CALL_IDLE, 3},
	};
	char buf[160];
	const char *f[10];
	long id, dir, stat, cause;
	int n, first = 0;
	u->dir = -1;
	u->cause = -1;
	u->number[0] = '\0';
	for (size_t i = 0; i < sizeof(huawei) / sizeof(huawei[0]); i++) {
		if (strncmp(line, huawei[i].prefix, 6) != 0)
			continue;
		n = gw_at_fields(line + 6, buf, sizeof(buf), f, 10);
		if (n < huawei[i].min_fields || gw_at_int(f[0], 0, 99, &id) < 0)
			return -EINVAL;
		if (huawei[i].state == GW_MODEM_CALL_IDLE && n >= 4) {
			if (gw_at_int(f[3], 0, 255, &cause) < 0)
				return -EINVAL;
			u->cause = (int)cause;
		}
		u->id = (int)id;
		u->state = huawei[i].state;
		return 0;
	}
	/* +QIND: "ccinfo",<id>,<dir>,<state>,...; ^DSCI: and +CLCC: <id>,<dir>,<stat>,... */
	if (strncmp(line, "+QIND:", 6) == 0 || strncmp(line, "^DSCI:", 6) == 0 ||
	    strncmp(line, "+CLCC:", 6) == 0)
		n = gw_at_fields(line + 6, buf, sizeof(buf), f, 10);
	else
		return -EINVAL;
	if (line[1] == 'Q') {
		if (n < 1)
			return -EINVAL;
		if (strcmp(f[0], "ccinfo") != 0)
			return -ENOENT;
		first = 1;
	}
	/* released: Quectel state -1, SIMCom and ^DSCI stat 6 (disconnected) */
	if (n < first + 3 || gw_at_int(f[first], 1, 99, &id) < 0 ||
	    gw_at_int(f[first + 1], 0, 1, &dir) < 0 ||
	    gw_at_int(f[first + 2], first ? -1 : 0, first ? 5 : 6, &stat) < 0)
		return -EINVAL;
	u->id = (int)id;
	u->dir = (int)dir;
	u->state = stat < 0 || stat == 6 ? GW_MODEM_CALL_IDLE : (enum gw_modem_call_state)stat;
	/* the number: +QIND after <mode>,<mpty>; +CLCC likewise; ^DSCI after <type> */
	int at = first ? first + 5 : line[0] == '^' ? 4 : 5;
	if (n > at && strlen(f[at]) < sizeof(u->number) &&
	    strspn(f[at], "+0123456789*#") == strlen(f[at]))
		snprintf(u->number, sizeof(u->number), "%s", f[at]);
	return 0;
}

/* Same party: equal, or a national 0... number and its +<country> form. */
static int same_number(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	if (a[0] == '+') {
		const char *t = a;
		a = b;
		b = t;
	}
	/* a national (0...), b international (+...) */
	size_t na = strlen(a), nb = strlen(b);
	return a[0] == '0' && b[0] == '+' && na > 1 && nb > na &&
	       strcmp(b + nb - (na - 1), a + 1) == 0;
}

/*
 * A vendor call-state URC: an accelerator. It asks AT+CLCC at once (or right after the
 * poll in flight, whose answer may predate it) so an answer is seen one round trip after
 * the modem knew it, not at the next poll. A release is noted as the end's reason, which
 * the list then confirms, as for the call-progress codes.
 */
static void urc_call_state(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_modem *m = arg;
	struct gw_modem_call_urc u;
	int rc = gw_modem_parse_call_urc(lines[0], &u);
	if (rc == -ENOENT)
		return; /* another +QIND indication (csq, smsfull, ...) */
	if (rc < 0) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "malformed call-state report skipped: %.80s",
		     lines[0]);
		gw_at_skipped(at, "malformed", lines[0]);
		return;
	}
	if (m->state == GW_MODEM_CALL_IDLE)
		return; /* an incoming call's report, or the echo of one already ended */
	if ((u.dir >= 0 && u.dir != m->dir) || (m->call_id >= 0 && u.id != m->call_id) ||
	    (u.number[0] && m->number[0] && !same_number(u.number, m->number))) {
		LOGP(GW_LOG_MODEM, GW_LOG_INFO, "'%.80s' is not about the call to %s: ignored",
		     lines[0], m->number);
		return;
	}
	if (u.state == GW_MODEM_CALL_IDLE && m->call_id < 0 && !m->seen) {
		/* nothing has named our call yet: the end of the one before it, late */
		LOGP(GW_LOG_MODEM, GW_LOG_INFO,
		     "'%.80s' before the call to %s was seen: the previous call's, ignored",
		     lines[0], m->number);
		return;
	}
	if (u.state != GW_MODEM_CALL_IDLE && m->call_id < 0)
		m->call_id = u.id; /* ^ORIG and the like name the call we dialled */
	if (u.state == GW_MODEM_CALL_IDLE && !m->end_reported) {
		/* ^CEND's cc_cause (TS 24.008): 17 user busy, 18/19 no answer */
		m->end_why = u.cause == 17		      ? GW_MODEM_END_BUSY
			     : u.cause == 18 || u.cause == 19 ? GW_MODEM_END_NO_ANSWER
							      : GW_MODEM_END_NO_CARRIER;
		m->end_reported = 1;
	}
	if (m->polling)
		m->repoll = 1;
	else
		gw_timer_schedule(m->loop, &m->poll, 0);
}

int gw_modem_parse_dtmf(const char *line)
{
	static const char digits[] = "0123456789*#ABCD";
	const char *p;
	long v;
	if (strncmp(line, "+QTONEDET:", 10) == 0) {
		p = line + 10;
		while (*p == ' ')
			p++;
		if (gw_at_int(p, 0, 127, &v) < 0 || v == 0 || !strchr(digits, (int)v))
			return -EINVAL;
		return (int)v;
	}
	if (strncmp(line, "+RXDTMF:", 8) == 0)
		p = line + 8;
	else if (strncmp(line, "+DTMF:", 6) == 0)
		p = line + 6;
	else
		return -EINVAL;
	while (*p == ' ')
		p++;
	if (p[0] == '\0' || p[1] != '\0' || !strchr(digits, p[0]))
		return -EINVAL;
	return p[0];
}

static void urc_dtmf(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_modem *m = arg;
	int d = gw_modem_parse_dtmf(lines[0]);
	if (d < 0) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "malformed DTMF report skipped: %.60s", lines[0]);
		gw_at_skipped(at, "malformed", lines[0]);
		return;
	}
	if (m->state != GW_MODEM_CALL_ACTIVE) {
		LOGP(GW_LOG_MODEM, GW_LOG_INFO, "key %c with no active call, ignored", d);
		return;
	}
	LOGP(GW_LOG_MODEM, GW_LOG_INFO, "key %c pressed on %s", d, m->number);
	if (m->ops.dtmf)
		m->ops.dtmf(m->ops.arg, (char)d);
}

/* ---- incoming calls ------------------------------------------------------------------- */

#define T_IN_CLIP_MS 1000  /* RING without +CLIP: reported without a number after this */
#define T_IN_GONE_MS 10000 /* no RING for this long: the caller gave up (RING every ~4 s) */

int gw_modem_parse_clip(const char *line, char *number, size_t len)
{
	char buf[160];
	const char *f[8];
	long type, validity = 0;
	if (strncmp(line, "+CLIP:", 6) != 0)
		return -EINVAL;
	int n = gw_at_fields(line + 6, buf, sizeof(buf), f, 8);
	if (n < 2 || gw_at_int(f[1], 0, 255, &type) < 0 ||
	    (n >= 6 && f[5][0] && gw_at_int(f[5], 0, 2, &validity) < 0))
		return -EINVAL;
	const char *digits = f[0][0] == '+' ? f[0] + 1 : f[0];
	if (strlen(f[0]) >= len || strlen(f[0]) >= 32 ||
	    strspn(digits, "0123456789*#") != strlen(digits) || (f[0][0] == '+' && !*digits))
		return -EINVAL;
	/* withheld (1) or not available (2): no number, whatever the field says */
	int ton = (int)(type >> 4) & 7;
	if (validity || (ton != 0 && ton != 1 && ton != 2) || !*digits)
		snprintf(number, len, "%s", ""); /* a TON that is no phone number: none either */
	else if (ton == 1 && f[0][0] != '+') {
		if (strlen(f[0]) + 1 >= len)
			return -EINVAL;
		snprintf(number, len, "+%s", f[0]); /* international, written without its '+' */
	} else
		snprintf(number, len, "%s", f[0]);
	return 0;
}

static void in_report(struct gw_modem *m)
{
	if (m->in.reported)
		return;
	m->in.reported = 1;
	gw_timer_cancel(m->loop, &m->in_clip);
	LOGP(GW_LOG_MODEM, GW_LOG_NOTICE, "incoming call from %s",
	     m->in.number[0] ? m->in.number : "a withheld number");
	if (m->ops.incoming)
		m->ops.incoming(m->ops.arg, m->in.number);
}

static void on_in_clip(struct gw_loop *loop, void *arg)
{
	(void)loop;
	in_report(arg);
}

static void in_done(struct gw_modem *m)
{
	m->in.ringing = 0;
	gw_timer_cancel(m->loop, &m->in_clip);
	gw_timer_cancel(m->loop, &m->in_gone);
}

static void on_in_gone(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_modem *m = arg;
	LOGP(GW_LOG_MODEM, GW_LOG_INFO, "incoming call from %s stopped ringing",
	     m->in.number[0] ? m->in.number : "a withheld number");
	in_done(m);
}

/*
 * RING / +CRING / +CLIP: an incoming call. Reported once (ops.incoming), with the
 * number from +CLIP, or without one when no +CLIP follows the RING within T_IN_CLIP_MS.
 * With call waiting off no call rings while ours exists; if one is reported, it is ignored.
 */
static void urc_ring(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_modem *m = arg;
	char number[32];
	int clip = strncmp(lines[0], "+CLIP:", 6) == 0;
	if (clip && gw_modem_parse_clip(lines[0], number, sizeof(number)) < 0) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "malformed caller ID skipped: %.80s", lines[0]);
		gw_at_skipped(at, "malformed", lines[0]);
		return;
	}
	if (m->state != GW_MODEM_CALL_IDLE) {
		LOGP(GW_LOG_MODEM, GW_LOG_INFO, "'%.60s' while a call exists: ignored", lines[0]);
		return;
	}
	if (!m->in.ringing) {
		m->in.ringing = 1;
		m->in.reported = 0;
		m->in.number[0] = '\0';
		gw_timer_schedule(m->loop, &m->in_clip, T_IN_CLIP_MS);
	}
	gw_timer_schedule(m->loop, &m->in_gone, T_IN_GONE_MS);
	if (clip && !m->in.reported) {
		memcpy(m->in.number, number, sizeof(number));
		in_report(m);
	}
}

static void ata_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	if (m->state != GW_MODEM_CALL_INCOMING)
		return;
	if (r->result == GW_AT_OK || r->result == GW_AT_CONNECT) {
		LOGP(GW_LOG_MODEM, GW_LOG_INFO, "call from %s answered",
		     m->number[0] ? m->number : "a withheld number");
		m->state = GW_MODEM_CALL_ACTIVE;
		m->seen = 1;
		gw_timer_schedule(m->loop, &m->poll, m->conf->clcc_poll_ms);
		return;
	}
	LOGP(GW_LOG_MODEM, GW_LOG_WARN, "ATA failed: %s %d", gw_at_result_name(r->result), r->err);
	end_call(m, r->result == GW_AT_ABORTED ? GW_MODEM_END_PORT : GW_MODEM_END_NO_CARRIER);
}

int gw_modem_answer(struct gw_modem *m)
{
	if (!m->in.ringing)
		return -ENOENT;
	if (m->state != GW_MODEM_CALL_IDLE)
		return -EBUSY;
	int rc = gw_at_cmd(m->at, "ATA", NULL, T_DIAL_MS, GW_AT_F_URGENT, ata_done, m);
	if (rc < 0)
		return rc;
	snprintf(m->number, sizeof(m->number), "%s", m->in.number);
	m->state = GW_MODEM_CALL_INCOMING;
	m->dir = 1;
	m->seen = 0;
	m->missing = 0;
	m->call_id = -1;
	m->end_reported = 0;
	m->dial_ms = gw_loop_now_ms(m->loop);
	in_done(m);
	return 0;
}

static void chup_done(struct gw_at *at, const struct gw_at_resp *r, void *arg);

int gw_modem_reject(struct gw_modem *m)
{
	if (!m->in.ringing)
		return -ENOENT;
	LOGP(GW_LOG_MODEM, GW_LOG_INFO, "incoming call from %s: hanging up",
	     m->in.number[0] ? m->in.number : "a withheld number");
	in_done(m);
	return gw_at_cmd(m->at, "AT+CHUP", NULL, T_CMD_MS, GW_AT_F_URGENT, chup_done, m);
}

static void urc_later(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	(void)arg;
	LOGP(GW_LOG_MODEM, GW_LOG_DEBUG, "not handled yet: %.120s", lines[0]);
}

static void init_step_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	(void)arg;
	if (r->result != GW_AT_OK && r->result != GW_AT_ABORTED)
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "init step failed: %s %d",
		     gw_at_result_name(r->result), r->err);
}

static void cpin_done(struct gw_at *at, const struct gw_at_resp *r, void *arg);

/* The SIM's state as rinkictl status shows it; a change is a "sim" line of the event stream
   (ready, state), so a SIM that keeps the modem down is seen at once. */
static void sim_state(struct gw_modem *m, const char *st)
{
	if (strcmp(m->h.sim_state, st) == 0)
		return;
	snprintf(m->h.sim_state, sizeof(m->h.sim_state), "%s", st);
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "sim");
	gw_event_bool(&e, "ready", strcmp(st, "READY") == 0);
	gw_event_str(&e, "state", st);
	gw_event_emit(&e);
}

/* The answer to AT+CPIN="<pin>": accepted, the SIM's state is asked again; refused, never
   sent again (the modem stays down: the next wrong PIN would bring the SIM nearer its PUK). */
static void cpin_set_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	struct gw_modem *m = arg;
	if (r->result == GW_AT_ABORTED)
		return;
	if (r->result == GW_AT_OK) {
		LOGP(GW_LOG_MODEM, GW_LOG_NOTICE, "SIM PIN accepted");
		gw_at_cmd(at, "AT+CPIN?", "+CPIN:", T_CMD_MS, GW_AT_F_URGENT, cpin_done, m);
		return;
	}
	if (r->result == GW_AT_TIMEOUT) {
		/* unknown whether the SIM counted it: not sent again either */
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR,
		     "SIM PIN: no answer from the modem; not sent again (an attempt may have been "
		     "spent): the modem stays down until rinkid restarts");
		sim_state(m, "PIN unanswered, not retried");
	} else {
		LOGP(
		    GW_LOG_MODEM, GW_LOG_ERROR,
		    "SIM PIN refused (%s %d): not tried again, so no further attempt of the SIM is "
		    "spent; fix modem.sim_pin_file and restart rinkid (rinki never sends a PUK)",
		    gw_at_result_name(r->result), r->err);
		sim_state(m, "PIN refused, not retried");
	}
	m->pin_refused = 1;
	m->h.sim_ready = 0;
}

/*
 * The SIM asks for its PIN (+CPIN: SIM PIN) while the modem is coming up: send
 * modem.sim_pin_file's once per init, never after a refusal. Returns 1 when it was sent (the
 * init goes on from its answer), 0 when the modem stays down (logged, in sim_state).
 */
static int sim_pin(struct gw_modem *m)
{
	if (!m->pin[0]) {
		LOGP(
		    GW_LOG_MODEM, GW_LOG_ERROR,
		    "SIM asks for its PIN and modem.sim_pin_file is not set: the modem stays down");
		sim_state(m, "SIM PIN, no modem.sim_pin_file");
		return 0;
	}
	if (m->pin_refused || m->pin_sent) {
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR,
		     "SIM asks for its PIN again: not sent again, the modem stays down");
		if (!m->pin_refused)
			sim_state(m, "SIM PIN asked again, not retried");
		return 0;
	}
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "AT+CPIN=\"%s\"", m->pin);
	int rc = gw_at_cmd(m->at, cmd, NULL, T_CMD_MS, GW_AT_F_SECRET | GW_AT_F_URGENT,
			   cpin_set_done, m);
	memset(cmd, 0, sizeof(cmd));
	__asm__ __volatile__("" : : "r"(cmd) : "memory");
	if (rc < 0) {
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "SIM PIN not sent (%s)", strerror(-rc));
		sim_state(m, "SIM PIN, not sent");
		return 0;
	}
	m->pin_sent = 1;
	LOGP(GW_LOG_MODEM, GW_LOG_NOTICE, "SIM asks for its PIN: sending modem.sim_pin_file's");
	return 1;
}

static void cpin_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	if (r->result == GW_AT_ABORTED)
		return;
	const char *sim = r->nlines ? r->lines[0] : "no answer";
	m->h.sim_ready = r->result == GW_AT_OK && strstr(sim, "READY") != NULL;
	if (m->h.sim_ready) {
		sim_state(m, "READY");
	} else if (!m->ready && r->result == GW_AT_OK && strstr(sim, "SIM PUK")) {
		/* PUK, PIN2 and PUK2 states have "SIM PUK"/"SIM PIN2": PUK first */
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR,
		     "SIM is PUK-locked (%s): rinki never sends a PUK; unlock the SIM in a phone. "
		     "The modem stays down",
		     sim);
		sim_state(m, "SIM PUK, locked: unlock it in a phone");
		return;
	} else if (!m->ready && r->result == GW_AT_OK && strstr(sim, "SIM PIN") &&
		   !strstr(sim, "SIM PIN2")) {
		sim_pin(m);
		return;
	} else {
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "SIM not ready: %s", sim);
		sim_state(m, "not ready");
	}
	if (m->ready)
		return; /* a health poll */
	LOGP(GW_LOG_MODEM, GW_LOG_NOTICE, "modem ready");
	m->ready = 1;
	if (m->ops.ready)
		m->ops.ready(m->ops.arg, 1);
	gw_timer_schedule(m->loop, &m->health, 0);
}

/* ---- health and recovery --------------------------------------------------------------- */

#define PROBE_FAILS_RECOVER 3

static void creg_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	char buf[96];
	const char *f[6];
	long v;
	for (int i = 0; i < r->nlines; i++) {
		const char *p = strchr(r->lines[i], ':');
		if (!p || gw_at_fields(p + 1, buf, sizeof(buf), f, 6) < 2 ||
		    gw_at_int(f[1], 0, 10, &v) < 0)
			continue;
		int was = m->h.reg_stat;
		m->h.reg_stat = (int)v;
		int ok = v == 1 || v == 5, was_ok = was == 1 || was == 5;
		if (ok != was_ok)
			LOGP(GW_LOG_MODEM, ok ? GW_LOG_NOTICE : GW_LOG_ERROR,
			     "modem %s the network (stat %ld)",
			     ok ? "registered to" : "NOT registered to", v);
	}
}

static void csq_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	char buf[64];
	const char *f[3];
	long v;
	for (int i = 0; i < r->nlines; i++)
		if (strncmp(r->lines[i], "+CSQ:", 5) == 0 &&
		    gw_at_fields(r->lines[i] + 5, buf, sizeof(buf), f, 3) >= 1 &&
		    gw_at_int(f[0], 0, 99, &v) == 0)
			m->h.rssi_dbm = v == 99 ? 0 : (int)(-113 + 2 * v);
}

static void cops_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	char buf[96];
	const char *f[4];
	for (int i = 0; i < r->nlines; i++)
		if (strncmp(r->lines[i], "+COPS:", 6) == 0 &&
		    gw_at_fields(r->lines[i] + 6, buf, sizeof(buf), f, 4) >= 3)
			snprintf(m->h.operator_name, sizeof(m->h.operator_name), "%s", f[2]);
}

static void on_health(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_modem *m = arg;
	if (m->ready) {
		gw_at_cmd(m->at, "AT+CPIN?", "+CPIN:", T_CMD_MS, 0, cpin_done, m);
		gw_at_cmd(m->at, "AT+CREG?", "+CREG:", T_CMD_MS, 0, creg_done, m);
		gw_at_cmd(m->at, "AT+CSQ", "+CSQ:", T_CMD_MS, 0, csq_done, m);
		gw_at_cmd(m->at, "AT+COPS?", "+COPS:", T_CMD_MS, 0, cops_done, m);
	}
	gw_timer_schedule(m->loop, &m->health, (int64_t)m->conf->modem_health_interval_s * 1000);
}

void gw_modem_health(const struct gw_modem *m, struct gw_modem_health *out)
{
	*out = m->h;
	out->ready = m->ready;
	out->port_up = gw_serial_is_up(m->port);
	out->call = m->state;
}

static void cfun_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	if (r->result == GW_AT_ABORTED)
		return;
	/* the module restarts (USB modules re-enumerate): open the port afresh */
	gw_serial_reopen(m->port);
}

/*
 * Recovery ladder for a modem that stopped answering: resync with AT probes;
 * after PROBE_FAILS_RECOVER of them a full restart (AT+CFUN=1,1) when no call
 * exists, else only a port reopen: a live call is never reset by rinki.
 */
static void probe_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	m->probing = 0;
	if (r->result == GW_AT_ABORTED)
		return;
	if (r->result != GW_AT_TIMEOUT) {
		m->probe_fails = 0;
		return;
	}
	m->probe_fails++;
	LOGP(GW_LOG_MODEM, GW_LOG_WARN, "modem does not answer (%d of %d probes)", m->probe_fails,
	     PROBE_FAILS_RECOVER);
	if (m->probe_fails < PROBE_FAILS_RECOVER) {
		gw_timer_schedule(m->loop, &m->probe, 0);
		return;
	}
	m->probe_fails = 0;
	m->h.recoveries++;
	if (m->state == GW_MODEM_CALL_IDLE) {
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "modem silent: restarting it (AT+CFUN=1,1)");
		gw_at_cmd(m->at, "AT+CFUN=1,1", NULL, T_CMD_MS, GW_AT_F_URGENT, cfun_done, m);
	} else {
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "modem silent during a call: reopening the port");
		gw_serial_reopen(m->port);
	}
}

static void on_probe(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_modem *m = arg;
	if (!gw_serial_is_up(m->port))
		return;
	if (!m->probing && gw_at_pending(m->at) == 0 &&
	    gw_at_cmd(m->at, "AT", NULL, T_CMD_MS, 0, probe_done, m) == 0)
		m->probing = 1;
	gw_timer_schedule(m->loop, &m->probe, (int64_t)m->conf->modem_probe_idle_s * 1000);
}

static void port_data(void *arg, const char *buf, size_t len)
{
	struct gw_modem *m = arg;
	if (m->settle_end) {
		/* the answer to the ESC, or the tail of what came before: not for the engine */
		LOGP(GW_LOG_MODEM, GW_LOG_DEBUG, "%zu bytes drained after the ESC", len);
		int64_t left = m->settle_end - gw_loop_now_ms(m->loop);
		gw_timer_schedule(m->loop, &m->settle, left < T_SETTLE_MS ? left : T_SETTLE_MS);
		return;
	}
	gw_timer_schedule(m->loop, &m->probe, (int64_t)m->conf->modem_probe_idle_s * 1000);
	if (m->ahead[0] && m->ops.ahead_pending)
		m->ops.ahead_pending(m->ops.arg); /* its page first: these may be its answer */
	gw_at_feed(m->at, buf, len);
}

/* The drain after the ESC is over: the init sequence. */
static void on_settled(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_modem *m = arg;
	m->settle_end = 0;
	m->probe_fails = 0;
	gw_timer_schedule(m->loop, &m->probe, (int64_t)m->conf->modem_probe_idle_s * 1000);
	/* The drain ends on a quiet line, not on the ESC's answer (a modem may give none), so
	   that answer may still come, however late: the init starts with a command whose own
	   answer has an information line, and earlier final codes go to nobody (issue #12). */
	gw_at_cmd(m->at, "AT+CSQ", "+CSQ:", T_CMD_MS, GW_AT_F_SYNC, csq_done, m);
	for (size_t i = 0; i < sizeof(init_cmds) / sizeof(init_cmds[0]); i++)
		gw_at_cmd(m->at, init_cmds[i], NULL, T_CMD_MS, 0, init_step_done, m);
	/* the vendor's call-state and received-DTMF reports, where it has them */
	for (const char *const *c = profile_of(m->conf)->init; *c; c++)
		gw_at_cmd(m->at, *c, NULL, T_CMD_MS, 0, init_step_done, m);
	m->pin_sent = 0;
	gw_at_cmd(m->at, "AT+CPIN?", "+CPIN:", T_CMD_MS, 0, cpin_done, m);
	m->cmgl_rounds = 0;
	modem_list_sms(m);
}

static void port_state(void *arg, int up)
{
	struct gw_modem *m = arg;
	if (up) {
		/*
		 * A modem left at the SMS "> " prompt (rinkid died between AT+CMGS and the body)
		 * takes every command as message text, AT+CFUN=1,1 too. ESC aborts the prompt
		 * (and is a harmless ERROR otherwise); what comes back is drained until the
		 * input is quiet for T_SETTLE_MS, at most T_SETTLE_MAX, then the init starts.
		 */
		m->settle_end = gw_loop_now_ms(m->loop) + T_SETTLE_MAX;
		gw_timer_schedule(m->loop, &m->settle, T_SETTLE_MS);
		if (gw_serial_write(m->port, "\x1b", 1) < 0)
			LOGP(GW_LOG_MODEM, GW_LOG_WARN, "ESC on port open not written");
		return;
	}
	gw_timer_cancel(m->loop, &m->settle);
	m->settle_end = 0;
	end_call(m, GW_MODEM_END_PORT);
	in_done(m);
	gw_timer_cancel(m->loop, &m->probe);
	gw_at_flush(m->at);
	m->polling = 0;
	m->probing = 0;
	m->down_why = "port lost";
	if (m->ready && m->ops.ready)
		m->ops.ready(m->ops.arg, 0);
	m->ready = 0;
}

const char *gw_modem_down_reason(const struct gw_modem *m)
{
	return m->down_why;
}

const struct gw_at_stats *gw_modem_link_stats(const struct gw_modem *m)
{
	return gw_at_stats(m->at);
}

static int at_write(void *arg, const void *buf, size_t len)
{
	struct gw_modem *m = arg;
	return gw_serial_write(m->port, buf, len);
}

static void at_sent(void *arg, const char *text, unsigned flags)
{
	struct gw_modem *m = arg;
	if ((flags & GW_AT_F_DIAL) && !strncmp(text, "ATD", 3) && m->ops.dial_sent)
		m->ops.dial_sent(m->ops.arg);
	/* the list tells how the modem was when asked, not when rinkid read the answer */
	if (!strcmp(text, "AT+CLCC"))
		m->asked_ms = gw_loop_now_ms(m->loop);
}

int gw_modem_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_modem_ops *ops,
		 struct gw_modem **out)
{
	struct gw_modem *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->conf = conf;
	m->ops = *ops;
	m->state = GW_MODEM_CALL_IDLE;
	gw_timer_init(&m->poll, on_poll, m);
	gw_timer_init(&m->probe, on_probe, m);
	gw_timer_init(&m->health, on_health, m);
	gw_timer_init(&m->settle, on_settled, m);
	gw_timer_init(&m->in_clip, on_in_clip, m);
	gw_timer_init(&m->in_gone, on_in_gone, m);
	m->h.reg_stat = -1;
	sim_state(m, "not asked yet");
	/* before the privilege drop: the file may be root's */
	if (conf->modem_sim_pin_file[0]) {
		int prc = gw_conf_read_sim_pin(conf->modem_sim_pin_file, m->pin);
		if (prc < 0) {
			free(m);
			return prc;
		}
	}
	struct gw_at_ops aops = {.write = at_write, .sent = at_sent, .arg = m};
	m->at = gw_at_new(loop, GW_LOG_MODEM, "modem", &aops);
	if (!m->at) {
		free(m);
		return -ENOMEM;
	}
	static const char *const progress[] = {"BUSY", "NO ANSWER", "NO CARRIER", "NO DIALTONE"};
	for (size_t i = 0; i < sizeof(progress) / sizeof(progress[0]); i++)
		gw_at_add_urc(m->at, progress[i], 0, urc_progress, m);
	static const char *const ring[] = {"RING", "+CRING:", "+CLIP:"};
	for (size_t i = 0; i < sizeof(ring) / sizeof(ring[0]); i++)
		gw_at_add_urc(m->at, ring[i], 0, urc_ring, m);
	static const char *const later[] = {"+CREG:", "+CEREG:"};
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		gw_at_add_urc(m->at, later[i], 0, urc_later, m);
	static const char *const call_state[] = {
	    "^ORIG:", "^CONF:", "^CONN:", "^CEND:", "+QIND:", "^DSCI:", "+CLCC:"};
	for (size_t i = 0; i < sizeof(call_state) / sizeof(call_state[0]); i++)
		gw_at_add_urc(m->at, call_state[i], 0, urc_call_state, m);
	gw_at_add_urc(m->at, "+CMTI:", 0, modem_urc_cmti, m);
	gw_sms_reasm_init(&m->reasm, SMS_REASM_MS);
	static const char *const dtmf[] = {"+QTONEDET:", "+RXDTMF:", "+DTMF:"};
	for (size_t i = 0; i < sizeof(dtmf) / sizeof(dtmf[0]); i++)
		gw_at_add_urc(m->at, dtmf[i], 0, urc_dtmf, m);
	if (!profile_of(conf)->keys && !conf->audio_phone[0])
		LOGP(GW_LOG_MODEM, GW_LOG_WARN,
		     "modem.vendor %s has no report of the keys a worker presses and audio.phone "
		     "is not set (no in-band detection): no source of keys, so a worker can "
		     "accept an authority call only by SMS reply",
		     conf->modem_vendor);

	struct gw_serial_ops sops = {.data = port_data, .state = port_state, .arg = m};
	int rc =
	    gw_serial_new(loop, GW_LOG_MODEM, conf->modem_port, conf->modem_baud, &sops, &m->port);
	if (rc < 0) {
		gw_at_free(m->at);
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void gw_modem_free(struct gw_modem *m)
{
	if (!m)
		return;
	gw_timer_cancel(m->loop, &m->poll);
	gw_timer_cancel(m->loop, &m->probe);
	gw_timer_cancel(m->loop, &m->health);
	gw_timer_cancel(m->loop, &m->settle);
	in_done(m);
	/* a send still on its way ends here, so its owner can free what it gave as arg */
	for (int i = 0; i < SMS_JOBS; i++) {
		struct sms_job *j = &m->jobs[i];
		if (j->used && !j->failed && j->cb)
			j->cb(j->arg, -ECANCELED, -1);
		j->used = 0;
	}
	gw_serial_free(m->port);
	gw_at_free(m->at);
	memset(m->pin, 0, sizeof(m->pin));
	__asm__ __volatile__("" : : "r"(m->pin) : "memory");
	free(m);
}

#define ATD_FLAGS (GW_AT_F_URGENT | GW_AT_F_DIAL)
#define ATD_MAX	  48

/* "ATD" number ";" into cmd (ATD_MAX bytes), by hand. 0, or -EINVAL for a number not dialled. */
static int atd_text(const char *number, char cmd[ATD_MAX])
{
	size_t n = strlen(number);
	const char *digits = number[0] == '+' ? number + 1 : number;
	if (n < 3 || n >= sizeof(((struct gw_modem *)0)->number) ||
	    strspn(digits, "0123456789") != strlen(digits))
		return -EINVAL;
	_Static_assert(ATD_MAX >= 3 + sizeof(((struct gw_modem *)0)->number) + 1, "ATD buffer");
	memcpy(cmd, "ATD", 3);
	memcpy(cmd + 3, number, n);
	memcpy(cmd + 3 + n, ";", 2);
	return 0;
}

/* The ATD written ahead ended with nobody's page behind it: a call that may be up goes. */
static void ahead_orphaned(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "ATD%s; written ahead was not adopted by a page (%s)%s",
	     m->ahead, gw_at_result_name(r->result),
	     r->result == GW_AT_ABORTED ? "" : ": hanging up");
	m->ahead[0] = '\0';
	if (r->result != GW_AT_ABORTED)
		gw_at_cmd(m->at, "AT+CHUP", NULL, T_CMD_MS, GW_AT_F_URGENT, chup_done, m);
}

int gw_modem_dial_ahead(struct gw_modem *m, const char *number)
{
	char cmd[ATD_MAX];
	if (atd_text(number, cmd) < 0)
		return -EINVAL;
	if (!m->ready)
		return -ENOTCONN;
	/* gw_modem_dial would do something first (reject a ringing call): not ahead */
	if (m->state != GW_MODEM_CALL_IDLE || m->in.ringing || m->ahead[0] || m->settle_end)
		return -EBUSY;
	int rc = gw_at_cmd_ahead(m->at, cmd, T_DIAL_MS, ATD_FLAGS, ahead_orphaned, m);
	if (rc == 0)
		memcpy(m->ahead, number, strlen(number) + 1);
	return rc;
}

unsigned gw_modem_ahead_wrong(const struct gw_modem *m)
{
	return m->ahead_wrong;
}

unsigned gw_modem_ahead_adopted(const struct gw_modem *m)
{
	return m->ahead_adopted;
}

int gw_modem_dial(struct gw_modem *m, const char *number)
{
	char cmd[ATD_MAX];
	if (atd_text(number, cmd) < 0)
		return -EINVAL;
	size_t n = strlen(number);
	if (m->state != GW_MODEM_CALL_IDLE)
		return -EBUSY;
	if (!m->ready)
		return -ENOTCONN;
	/* a call ringing in would make the ATD fail: a page goes first */
	if (m->in.ringing) {
		LOGP(GW_LOG_MODEM, GW_LOG_NOTICE, "incoming call from %s dropped for a page",
		     m->in.number[0] ? m->in.number : "a withheld number");
		gw_modem_reject(m);
	}
	int rc = -ENOENT;
	if (m->ahead[0]) { /* the ATD written ahead is this page's when it is this ATD */
		rc = gw_at_adopt(m->at, cmd, ATD_FLAGS, atd_done, m);
		m->ahead_adopted += rc == 0;
		if (rc == -EILSEQ) {
			LOGP(GW_LOG_MODEM, GW_LOG_ERROR,
			     "ATD%s; written ahead, but the page is for %s: hanging up, dialling",
			     m->ahead, number);
			m->ahead_wrong++;
			gw_at_cmd(m->at, "AT+CHUP", NULL, T_CMD_MS, GW_AT_F_URGENT, chup_done, m);
		}
		m->ahead[0] = '\0';
	}
	if (rc < 0) {
		rc = gw_at_cmd(m->at, cmd, NULL, T_DIAL_MS, ATD_FLAGS, atd_done, m);
		if (rc < 0)
			return rc;
		/* an SMS stuck at its prompt (or waiting for +CMGS) must not hold a page back */
		gw_at_preempt(m->at);
	}
	memcpy(m->number, number, n + 1);
	m->state = GW_MODEM_CALL_DIALING;
	m->dir = 0;
	m->seen = 0;
	m->missing = 0;
	m->call_id = -1;
	m->end_reported = 0;
	m->dial_ms = gw_loop_now_ms(m->loop);
	return 0;
}

static void chup_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	(void)arg;
	if (r->result != GW_AT_OK && r->result != GW_AT_ABORTED)
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "AT+CHUP failed: %s %d",
		     gw_at_result_name(r->result), r->err);
}

int gw_modem_hangup(struct gw_modem *m)
{
	if (m->state == GW_MODEM_CALL_IDLE)
		return 0;
	/* An ATD still waiting in the queue (the modem was busy or silent) never goes out. */
	if (gw_at_cancel(m->at, atd_done, m) > 0) {
		end_call(m, GW_MODEM_END_LOCAL);
		return 0;
	}
	int rc = gw_at_cmd(m->at, "AT+CHUP", NULL, T_CMD_MS, GW_AT_F_URGENT, chup_done, m);
	end_call(m, GW_MODEM_END_LOCAL);
	return rc;
}

enum gw_modem_call_state gw_modem_call_state(const struct gw_modem *m)
{
	return m->state;
}
