/*
 * modem-sim: a 3GPP cellular modem on a pty, for the phone leg of rinki.
 *
 * It answers the init commands the gateway sends and places one voice call at a time
 * (call id 1), as in /work/shared/reference/modem-at.md section 2.1: ATD<number>; gets OK
 * at once (dialling, not answered), the call goes dialing -> alerting after 0.3 s and then
 * follows the script set for the called number with the `callee` control command (answer
 * after N s, busy, no answer, reject). AT+CLCC is the truth about the call; the --dialect
 * option adds the vendor call-state URCs (Huawei ^ORIG/^CONF/^CONN/^CEND, Quectel
 * +QIND "ccinfo", SIMCom unsolicited +CLCC). Incoming calls (`ring <number>|withheld`: RING
 * and +CLIP every 4 s until ATA or AT+CHUP), remote hang-up and received DTMF are driven
 * through the control channel of sim_common.
 *
 * SMS (modem-at.md 1.4, 2 and 2.1), PDU mode only: AT+CMGF=1 is stored, but text-mode sends
 * and reads then answer +CMS ERROR: 302. AT+CMGS=<tpdu_len> opens the "\r\n> " prompt (no
 * CRLF after it); the hex body may span several lines (CR/LF inside it are dropped) and ends
 * at Ctrl-Z, or ESC aborts it (OK, nothing sent). A valid body (hex, even length, octets -
 * 1 - SMSC length octet == tpdu_len; else +CMS ERROR: 304) gets "+CMGS: <mr>" and OK, with
 * mr counting 0..255 over successful sends. As on real modems there is no time limit on the
 * prompt: without Ctrl-Z or ESC it stays open for ever (every host line is taken as body).
 * The event "sms-out <t_ns> <mr> <hex>" has the body as the host sent it.
 * `sms-fail <code>` fails the next valid body, `sms-stuck on` makes Ctrl-Z be swallowed
 * (a stuck prompt) until ESC. `esc-late <ms> ok|<code>` answers the ESC that aborts an
 * AT+CMGS only after ms milliseconds, with OK or +CMS ERROR: <code> (27.005 allows either);
 * like a modem busy with it, host lines that come meanwhile are read after that answer. Received
 * messages live in "ME" storage, indexes 1..30: the control command `sms-in` stores an SMS-DELIVER
 * (or SMS-STATUS-REPORT) PDU as AT+CMGR prints it and sends +CMTI at once (whatever AT+CNMI said,
 * and even while the prompt is open, as URCs may come in the middle of a command); `sms-store`
 * stores one without +CMTI (it came while nobody listened) and AT+CMGL=<stat> lists them (event
 * "sms-listed <stat>"). AT+CMGR marks an unread message read; AT+CMGD deletes (delflag 1..3: all
 * read, 4: all); AT+CPMS accepts only "ME". SMS state is separate from the call: it all works while
 * a call is up. ATI, AT+CGMI and AT+CGMM name the dialect's module (rinkictl probe tells modems by
 * them).
 */
#include "sim_common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NUMBER_MAX  32
#define MAX_CALLEES 32
#define STEP_NS	    (300LL * 1000000)  /* dialing -> alerting, busy, reject */
#define RING_NS	    (4LL * 1000000000) /* RING repeat */
#define MAX_SEC	    3600.0	       /* longest scripted delay */

#define ESC_HELD_MAX  8	  /* host lines kept while an ESC's answer is held back */
#define ESC_HELD_LINE 600 /* longest of them */
#define ESC_LATE_MAX  10000

#define SMS_SLOTS    30	 /* "ME" storage, indexes 1..SMS_SLOTS */
#define SMS_TPDU_MAX 164 /* longest TPDU (SMS-SUBMIT with 140 octets of user data) */
#define SMS_SMSC_MAX 11	 /* SMSC length octet: type of address + 10 octets of digits */
#define SMS_PDU_MAX  (1 + SMS_SMSC_MAX + SMS_TPDU_MAX) /* octets, SMSC field included */
#define SMS_HEX_MAX  (2 * SMS_PDU_MAX)
/* Stored by sms-in-bad: an SMS-DELIVER cut off inside its originating address
 * (8 octets of SMSC field, then 4 of TPDU). */
#define SMS_BAD_PDU	 "0791534850020200040C9153"
#define SMS_BAD_TPDU_LEN 4

/* +CMS ERROR codes (TS 27.005 3.2.5) */
enum {
	CMS_NOT_ALLOWED = 302,
	CMS_BAD_PDU_PARAM = 304,
	CMS_BAD_INDEX = 321,
};

/* The AT+CMGS prompt: none, reading the body, or stuck (swallowing all until ESC). */
enum prompt { PROMPT_NONE, PROMPT_OPEN, PROMPT_STUCK };

/* One message in "ME" storage. */
struct stored_sms {
	bool used;
	int stat; /* +CMGR <stat>: 0 received unread, 1 received read */
	int tpdu_len;
	char hex[SMS_HEX_MAX + 1]; /* SMSC field first, as AT+CMGR prints it */
};

enum dialect { DIALECT_NONE, DIALECT_HUAWEI, DIALECT_QUECTEL, DIALECT_SIMCOM };

static const char *const dialect_names[] = {"none", "huawei", "quectel", "simcom"};

/* Call states; the value is the +CLCC <stat> where one exists. */
enum call_state {
	ST_ACTIVE = 0,
	ST_DIALING = 2,
	ST_ALERTING = 3,
	ST_INCOMING = 4,
	ST_NONE = 9,
};

enum script_kind { SCRIPT_ANSWER, SCRIPT_BUSY, SCRIPT_NOANSWER, SCRIPT_REJECT };

struct script {
	char number[NUMBER_MAX + 1]; /* "" = free slot; slot 0 is "default" */
	enum script_kind kind;
	int64_t delay_ns; /* 0 with NOANSWER = forever */
};

struct modem {
	struct sim sim;
	enum dialect dialect;
	enum call_state st;
	int dir; /* 0 outgoing, 1 incoming */
	char number[NUMBER_MAX + 1];
	struct script script; /* of the current outgoing call */
	int64_t t_active;     /* when the call became active, for ^CEND */
	bool clip;
	bool crc;
	int pending_cme; /* answer the next command with this error; -1 = none */
	/* urc-front: this line goes in front of the answer of the next front_n commands,
	 * once before the answer and again just before its final result code */
	char front[128];
	int front_n;
	bool front_now; /* a command with a front URC is being answered */
	/* late-end: the release report of a call the host hung up is held back and sent
	 * right after the OK of the next ATD, where a driver may take it for the new call */
	bool late_end;
	bool mute_release;
	char held[96];
	/* clcc-late: each outgoing call dialled after the command is left out of its first
	 * clcc_late_n AT+CLCC answers; clcc_hide is what is left of that for the current call.
	 * Counted in answers, not in time: the host's polls come when its load lets them. */
	long clcc_late_n;
	long clcc_hide;
	char ceer[64];
	struct sim_timer step; /* dialing -> alerting, then the script's outcome */
	struct sim_timer ring; /* repeats RING for an incoming call */
	struct script callees[MAX_CALLEES];

	/* SMS */
	bool text_mode; /* AT+CMGF=1 */
	enum prompt prompt;
	long cmgs_len; /* <tpdu_len> of the open AT+CMGS */
	size_t body_len;
	bool body_bad; /* a NUL byte or more than SMS_HEX_MAX digits */
	char body[SMS_HEX_MAX + 1];
	int next_mr;
	int sms_fail;		    /* +CMS ERROR for the next valid body; -1 = none */
	bool sms_stuck;		    /* Ctrl-Z leaves the prompt stuck until ESC */
	int64_t esc_late_ns;	    /* esc-late: the ESC's answer comes this late ... */
	int esc_late_cms;	    /* ... as +CMS ERROR: this (-1: OK) */
	struct sim_timer esc_timer; /* the late answer is due */
	int nheld_in;		    /* host lines read while the answer is due */
	struct {
		char line[ESC_HELD_LINE + 1];
		size_t len;
		int term;
	} held_in[ESC_HELD_MAX];
	struct stored_sms store[SMS_SLOTS]; /* store[i] is index i + 1 */

	/* sim-pin / sim-puk: the SIM's lock, as 3GPP TS 27.007 AT+CPIN shows it. A wrong PIN
	   costs one of 3 attempts, the last one locks the SIM (PUK); no PUK is taken here. */
	enum { SIMLOCK_READY, SIMLOCK_PIN, SIMLOCK_PUK } simlock;
	char sim_pin[9];
	int pin_left;
};

static const char *state_name(enum call_state st)
{
	switch (st) {
	case ST_ACTIVE:
		return "active";
	case ST_DIALING:
		return "dialing";
	case ST_ALERTING:
		return "alerting";
	case ST_INCOMING:
		return "incoming";
	default:
		return "none";
	}
}

/* 145 for an international "+" number, 129 otherwise (TS 27.007 <type>). */
static int number_type(const char *number)
{
	return number[0] == '+' ? 145 : 129;
}

/* A dialable number: optional leading '+', then 1..NUMBER_MAX of 0-9 * #. */
static bool number_ok(const char *n)
{
	size_t len = strlen(n);
	const char *digits = n + (n[0] == '+');

	return len >= 1 && len <= NUMBER_MAX && *digits &&
	       strspn(digits, "0123456789*#") == strlen(digits);
}

/* The urc-front line just before a final result code, when one is due. */
static void front(struct modem *m)
{
	if (m->front_now)
		sim_out(&m->sim, "%s", m->front);
}

static void ok(struct modem *m)
{
	front(m);
	sim_out(&m->sim, "OK");
}

static void error(struct modem *m)
{
	front(m);
	sim_out(&m->sim, "ERROR");
}

static void cme(struct modem *m, int n)
{
	front(m);
	sim_out(&m->sim, "+CME ERROR: %d", n);
}

static void cms(struct modem *m, int n)
{
	front(m);
	sim_out(&m->sim, "+CMS ERROR: %d", n);
}

/* The vendor URC for state st into buf ("" when the dialect has none). */
static void dialect_line(const struct modem *m, enum call_state st, char *buf, size_t len)
{
	int type = number_type(m->number);

	buf[0] = '\0';
	switch (m->dialect) {
	case DIALECT_HUAWEI:
		if (st == ST_DIALING)
			snprintf(buf, len, "^ORIG:1,0");
		else if (st == ST_ALERTING)
			snprintf(buf, len, "^CONF:1");
		else if (st == ST_ACTIVE)
			snprintf(buf, len, "^CONN:1,0");
		else if (st == ST_NONE)
			snprintf(buf, len, "^CEND:1,%lld,0,16",
				 m->t_active
				     ? (long long)((sim_now_ns() - m->t_active) / 1000000000)
				     : 0LL);
		break;
	case DIALECT_QUECTEL:
		snprintf(buf, len, "+QIND: \"ccinfo\",1,%d,%d,0,0,\"%s\",%d", m->dir,
			 st == ST_NONE ? -1 : (int)st, m->number, type);
		break;
	case DIALECT_SIMCOM:
		/* SIMCom reports a released call as stat 6 (disconnected). */
		snprintf(buf, len, "+CLCC: 1,%d,%d,0,0,\"%s\",%d", m->dir,
			 st == ST_NONE ? 6 : (int)st, m->number, type);
		break;
	case DIALECT_NONE:
		break;
	}
}

/* Vendor URC for the current state (called after every state change). */
static void dialect_urc(struct modem *m, enum call_state st)
{
	char line[128];

	if (st == ST_NONE && m->mute_release)
		return;
	dialect_line(m, st, line, sizeof(line));
	if (line[0])
		sim_out(&m->sim, "%s", line);
}

static void set_state(struct modem *m, enum call_state st)
{
	if (st == ST_ACTIVE)
		m->t_active = sim_now_ns();
	dialect_urc(m, st);
	m->st = st;
	sim_event(&m->sim, "call %s %lld", state_name(st), (long long)sim_now_ns());
}

/* The call is gone: optional final code, cause for AT+CEER, URCs, events. */
static void call_end(struct modem *m, const char *final, const char *cause)
{
	if (m->st == ST_NONE)
		return;
	if (final)
		sim_out(&m->sim, "%s", final);
	snprintf(m->ceer, sizeof(m->ceer), "%s", cause);
	sim_timer_cancel(&m->step);
	sim_timer_cancel(&m->ring);
	set_state(m, ST_NONE);
	m->number[0] = '\0';
	m->t_active = 0;
}

static const struct script *find_script(const struct modem *m, const char *number)
{
	for (int i = 1; i < MAX_CALLEES; i++)
		if (!strcmp(m->callees[i].number, number))
			return &m->callees[i];
	return &m->callees[0];
}

/* Timer: dialing -> alerting, then the scripted outcome. */
static void on_step(struct sim *s, void *arg)
{
	struct modem *m = arg;

	(void)s;
	if (m->st == ST_DIALING) {
		set_state(m, ST_ALERTING);
		switch (m->script.kind) {
		case SCRIPT_ANSWER:
			sim_timer_arm(&m->step, m->script.delay_ns);
			break;
		case SCRIPT_BUSY:
		case SCRIPT_REJECT:
			sim_timer_arm(&m->step, STEP_NS);
			break;
		case SCRIPT_NOANSWER:
			if (m->script.delay_ns)
				sim_timer_arm(&m->step, m->script.delay_ns);
			break;
		}
		return;
	}
	if (m->st != ST_ALERTING)
		return;
	switch (m->script.kind) {
	case SCRIPT_ANSWER:
		set_state(m, ST_ACTIVE);
		break;
	case SCRIPT_BUSY:
		call_end(m, "BUSY", "User busy");
		break;
	case SCRIPT_REJECT:
		call_end(m, "NO CARRIER", "Call rejected");
		break;
	case SCRIPT_NOANSWER:
		call_end(m, "NO ANSWER", "No answer");
		break;
	}
}

static void send_ring(struct modem *m)
{
	sim_out(&m->sim, "%s", m->crc ? "+CRING: VOICE" : "RING");
	if (m->clip && !m->number[0]) /* withheld: CLI validity 1 */
		sim_out(&m->sim, "+CLIP: \"\",128,\"\",,\"\",1");
	else if (m->clip)
		sim_out(&m->sim, "+CLIP: \"%s\",%d,\"\",,\"\",0", m->number,
			number_type(m->number));
}

static void on_ring(struct sim *s, void *arg)
{
	struct modem *m = arg;

	(void)s;
	if (m->st != ST_INCOMING)
		return;
	send_ring(m);
	sim_timer_arm(&m->ring, RING_NS);
}

/* --- host commands -------------------------------------------------------- */

static void at_dial(struct modem *m, char *arg, int64_t t_ns)
{
	size_t len = strlen(arg);

	if (len < 2 || arg[len - 1] != ';') {
		error(m); /* only voice calls ("ATD<number>;") are simulated */
		return;
	}
	arg[len - 1] = '\0';
	if (!number_ok(arg)) {
		error(m);
		return;
	}
	if (m->st != ST_NONE) {
		cme(m, 3);
		return;
	}
	sim_event(&m->sim, "dial %lld %s", (long long)t_ns, arg);
	snprintf(m->number, sizeof(m->number), "%s", arg);
	m->script = *find_script(m, arg);
	m->dir = 0;
	m->clcc_hide = m->clcc_late_n;
	ok(m);
	if (m->held[0]) { /* the last call's end, late */
		sim_out(&m->sim, "%s", m->held);
		sim_event(&m->sim, "late-end %s", m->held);
		m->held[0] = '\0';
	}
	set_state(m, ST_DIALING);
	sim_timer_arm(&m->step, STEP_NS);
}

static void at_clcc(struct modem *m)
{
	if (m->st != ST_NONE && m->dir == 0 && m->clcc_hide > 0) {
		m->clcc_hide--;
		sim_event(&m->sim, "clcc-late %s", m->number); /* not listed yet */
	} else if (m->st != ST_NONE) {
		sim_out(&m->sim, "+CLCC: 1,%d,%d,0,0,\"%s\",%d", m->dir, (int)m->st, m->number,
			number_type(m->number));
	}
	ok(m);
}

static void at_hangup(struct modem *m)
{
	ok(m);
	if (m->st != ST_NONE) {
		sim_event(&m->sim, "hangup host");
		if (m->late_end) {
			dialect_line(m, ST_NONE, m->held, sizeof(m->held));
			if (!m->held[0])
				snprintf(m->held, sizeof(m->held), "NO CARRIER");
			m->mute_release = true;
		}
		call_end(m, NULL, "Normal call clearing");
		m->mute_release = false;
	}
}

static void at_answer(struct modem *m)
{
	if (m->st != ST_INCOMING) {
		sim_out(&m->sim, "NO CARRIER");
		return;
	}
	sim_timer_cancel(&m->ring);
	ok(m);
	set_state(m, ST_ACTIVE);
}

/*
 * The argument of a "<cmd>=<n>" command, n in [min, max]: stores n (if store) and answers
 * OK, returning 0; answers ERROR and returns -EINVAL otherwise.
 */
static int at_set(struct modem *m, const char *arg, long min, long max, long *store)
{
	long v;

	if (sim_parse_long(arg, min, max, &v) < 0) {
		error(m);
		return -EINVAL;
	}
	if (store)
		*store = v;
	ok(m);
	return 0;
}

/* Commands only the selected vendor knows; returns false if cmd is not one of them. */
static bool at_vendor(struct modem *m, const char *cmd)
{
	static const char *const huawei[] = {"AT^DDSETEX=", "AT^DTMF=", NULL};
	static const char *const quectel[] = {"AT+QINDCFG=", "AT+QTONEDET=", "AT+QPCMV=", NULL};
	static const char *const simcom[] = {"AT+CLCC=", "AT+DDET=", "AT+CPCMREG=", NULL};
	const char *const *list = m->dialect == DIALECT_HUAWEI	  ? huawei
				  : m->dialect == DIALECT_QUECTEL ? quectel
				  : m->dialect == DIALECT_SIMCOM  ? simcom
								  : NULL;

	if (m->dialect == DIALECT_HUAWEI && !strcmp(cmd, "AT^CVOICE?")) {
		sim_out(&m->sim, "^CVOICE: 0,8000,16,20");
		ok(m);
		return true;
	}
	for (; list && *list; list++) {
		size_t n = strlen(*list);

		if (!strncmp(cmd, *list, n) && cmd[n]) {
			ok(m);
			return true;
		}
	}
	return false;
}

/* --- SMS ------------------------------------------------------------------ */

/*
 * Hex text of a PDU as AT+CMGR prints it, SMSC field first: decode it into buf (at least
 * SMS_PDU_MAX octets) and check the SMSC framing. Returns the TPDU length in octets, or
 * -EINVAL with the reason in err.
 */
static int pdu_decode(const char *hex, uint8_t *buf, char *err, size_t errlen)
{
	size_t len = strlen(hex);
	int n;

	if (len > SMS_HEX_MAX) {
		snprintf(err, errlen, "%zu hex digits, at most %d", len, SMS_HEX_MAX);
		return -EINVAL;
	}
	n = sim_hex_decode(hex, buf, SMS_PDU_MAX);
	if (n <= 0) {
		snprintf(err, errlen, "not hex digits, or an odd number of them");
		return -EINVAL;
	}
	if (buf[0] > SMS_SMSC_MAX || n - 1 - buf[0] < 1) {
		snprintf(err, errlen, "SMSC length octet %u leaves no TPDU in %d octets", buf[0],
			 n);
		return -EINVAL;
	}
	if (n - 1 - buf[0] > SMS_TPDU_MAX) {
		snprintf(err, errlen, "TPDU of %d octets, at most %d", n - 1 - buf[0],
			 SMS_TPDU_MAX);
		return -EINVAL;
	}
	return n - 1 - buf[0];
}

/* True if the data coding scheme means GSM 7-bit packed user data (TS 23.038 4). */
static bool dcs_gsm7(uint8_t dcs)
{
	if ((dcs & 0x80) == 0) /* general data coding, maybe marked for automatic deletion */
		return !(dcs & 0x20) && ((dcs >> 2) & 3) == 0;
	if ((dcs & 0xf0) == 0xc0 || (dcs & 0xf0) == 0xd0) /* message waiting, GSM 7-bit */
		return true;
	if ((dcs & 0xf0) == 0xf0) /* data coding/message class */
		return !(dcs & 0x04);
	return false; /* UCS-2 message waiting, reserved groups */
}

/* Octets of user data that TP-UDL announces; -1 if it is out of range. */
static int ud_octets(uint8_t dcs, uint8_t udl)
{
	if (dcs_gsm7(dcs))
		return udl <= 160 ? (udl * 7 + 7) / 8 : -1;
	return udl <= 140 ? udl : -1;
}

/*
 * Walk a TPDU (TS 23.040 9.2.2.1 SMS-DELIVER, 9.2.2.3 SMS-STATUS-REPORT) and check that
 * every field is present and nothing follows the last one. Returns 0 or -EINVAL with err.
 */
static int tpdu_check_received(const uint8_t *p, int len, char *err, size_t errlen)
{
	int mti = p[0] & 3;
	int at = 1;
	int ud;

	if (mti != 0 && mti != 2) {
		snprintf(err, errlen, "TP-MTI %d: not an SMS-DELIVER or SMS-STATUS-REPORT", mti);
		return -EINVAL;
	}
	if (mti == 2)
		at++; /* TP-MR */
	/* TP-OA / TP-RA: digit count, type of address, packed digits */
	if (at >= len || p[at] > 20) {
		snprintf(err, errlen, "address missing or longer than 20 digits");
		return -EINVAL;
	}
	at += 2 + (p[at] + 1) / 2;
	if (mti == 0) {
		at += 2 + 7; /* TP-PID, TP-DCS, TP-SCTS */
		if (at >= len) {
			snprintf(err, errlen, "TPDU of %d octets ends before TP-UDL", len);
			return -EINVAL;
		}
		ud = ud_octets(p[at - 8], p[at]);
		at++;
	} else {
		uint8_t pi;
		uint8_t dcs = 0;

		at += 7 + 7 + 1; /* TP-SCTS, TP-DT, TP-ST */
		if (at > len) {
			snprintf(err, errlen, "TPDU of %d octets ends before TP-ST", len);
			return -EINVAL;
		}
		if (at == len)
			return 0; /* no TP-PI: no optional fields */
		pi = p[at++];
		if (pi & 1)
			at++; /* TP-PID */
		if (pi & 2) {
			if (at < len)
				dcs = p[at];
			at++;
		}
		ud = 0;
		if (pi & 4) {
			if (at >= len) {
				snprintf(err, errlen, "TPDU of %d octets ends before TP-UDL", len);
				return -EINVAL;
			}
			ud = ud_octets(dcs, p[at++]);
		}
		if (at > len) {
			snprintf(err, errlen, "TPDU of %d octets ends inside TP-PI's fields", len);
			return -EINVAL;
		}
	}
	if (ud < 0) {
		snprintf(err, errlen, "TP-UDL %u too long for its coding", p[at - 1]);
		return -EINVAL;
	}
	if (len - at != ud) {
		snprintf(err, errlen, "%d octets of user data, TP-UDL says %d", len - at, ud);
		return -EINVAL;
	}
	return 0;
}

static int sms_used(const struct modem *m)
{
	int n = 0;

	for (int i = 0; i < SMS_SLOTS; i++)
		n += m->store[i].used;
	return n;
}

/* Store a received message (hex checked), with or without +CMTI; returns its index or -ENOSPC. */
static int sms_store(struct modem *m, const char *hex, int tpdu_len, bool announce)
{
	for (int i = 0; i < SMS_SLOTS; i++) {
		struct stored_sms *sm = &m->store[i];

		if (sm->used)
			continue;
		sm->used = true;
		sm->stat = 0;
		sm->tpdu_len = tpdu_len;
		snprintf(sm->hex, sizeof(sm->hex), "%s", hex);
		for (char *c = sm->hex; *c; c++) /* modems print upper-case hex */
			*c = (char)toupper((unsigned char)*c);
		if (announce)
			sim_out(&m->sim, "+CMTI: \"ME\",%d", i + 1);
		return i + 1;
	}
	return -ENOSPC;
}

static void sms_delete(struct modem *m, int idx)
{
	m->store[idx - 1].used = false;
	sim_event(&m->sim, "sms-deleted %d", idx);
}

static void at_cmgs(struct modem *m, const char *arg)
{
	long len;

	if (m->text_mode) {
		cms(m, CMS_NOT_ALLOWED);
		return;
	}
	if (sim_parse_long(arg, 1, SMS_TPDU_MAX, &len) < 0) {
		cms(m, CMS_BAD_PDU_PARAM);
		return;
	}
	m->cmgs_len = len;
	m->body_len = 0;
	m->body_bad = false;
	m->body[0] = '\0';
	m->prompt = PROMPT_OPEN;
	sim_out_bytes(&m->sim, "\r\n> ", 4, 4);
}

/* The body after AT+CMGS: hex up to Ctrl-Z, ESC aborts; the line reader splits it. */
static void sms_body_line(struct modem *m, const char *line, size_t len, int term, int64_t t_ns)
{
	uint8_t pdu[SMS_PDU_MAX];
	int n;
	int mr;

	if (term == 0x1b) {
		m->prompt = PROMPT_NONE;
		sim_event(&m->sim, "sms-abort %lld", (long long)t_ns);
		if (m->esc_late_ns > 0) {
			sim_timer_arm(&m->esc_timer, m->esc_late_ns);
			return;
		}
		ok(m);
		return;
	}
	if (m->prompt == PROMPT_STUCK)
		return;
	if (strlen(line) != len || m->body_len + len > SMS_HEX_MAX) {
		m->body_bad = true;
	} else {
		memcpy(m->body + m->body_len, line, len);
		m->body_len += len;
		m->body[m->body_len] = '\0';
	}
	if (term != 0x1a)
		return; /* CR or LF inside the body: keep reading */
	if (m->sms_stuck) {
		m->prompt = PROMPT_STUCK;
		return;
	}
	m->prompt = PROMPT_NONE;
	n = m->body_bad ? -EINVAL : sim_hex_decode(m->body, pdu, sizeof(pdu));
	if (n <= 0 || n - 1 - pdu[0] != m->cmgs_len) {
		cms(m, CMS_BAD_PDU_PARAM);
		return;
	}
	if (m->sms_fail >= 0) {
		cms(m, m->sms_fail);
		m->sms_fail = -1;
		return;
	}
	mr = m->next_mr;
	m->next_mr = (m->next_mr + 1) % 256;
	sim_event(&m->sim, "sms-out %lld %d %s", (long long)t_ns, mr, m->body);
	sim_out(&m->sim, "+CMGS: %d", mr);
	ok(m);
}

static void at_cmgr(struct modem *m, const char *arg)
{
	const struct stored_sms *sm;
	long idx;
	int ret;

	if (m->text_mode) {
		cms(m, CMS_NOT_ALLOWED);
		return;
	}
	ret = sim_parse_long(arg, 1, SMS_SLOTS, &idx);
	if (ret == -EINVAL) {
		error(m);
		return;
	}
	if (ret < 0 || !m->store[idx - 1].used) {
		cms(m, CMS_BAD_INDEX);
		return;
	}
	sm = &m->store[idx - 1];
	sim_out(&m->sim, "+CMGR: %d,,%d", sm->stat, sm->tpdu_len);
	sim_out_cont(&m->sim, "%s", sm->hex);
	ok(m);
	m->store[idx - 1].stat = 1;
}

/*
 * AT+CMGL=<stat> (PDU mode): "+CMGL: <index>,<stat>,,<length>" and the PDU line for each
 * stored message of that stat (4: all); listed unread messages become read.
 */
static void at_cmgl(struct modem *m, const char *arg)
{
	long stat;

	if (m->text_mode) {
		cms(m, CMS_NOT_ALLOWED);
		return;
	}
	if (sim_parse_long(arg, 0, 4, &stat) < 0) {
		error(m);
		return;
	}
	for (int i = 0; i < SMS_SLOTS; i++) {
		struct stored_sms *sm = &m->store[i];

		if (!sm->used || (stat != 4 && sm->stat != stat))
			continue;
		sim_out(&m->sim, "+CMGL: %d,%d,,%d", i + 1, sm->stat, sm->tpdu_len);
		sim_out_cont(&m->sim, "%s", sm->hex);
		sm->stat = 1;
	}
	sim_event(&m->sim, "sms-listed %ld", stat);
	ok(m);
}

/* AT+CMGD=<index>[,<delflag>]: 0 that index; 1..3 every read message; 4 every message. */
static void at_cmgd(struct modem *m, char *arg)
{
	char *comma = strchr(arg, ',');
	long idx;
	long flag = 0;
	int ret;

	if (comma) {
		*comma = '\0';
		if (sim_parse_long(comma + 1, 0, 4, &flag) < 0) {
			error(m);
			return;
		}
	}
	ret = sim_parse_long(arg, flag ? 0 : 1, flag ? 9999 : SMS_SLOTS, &idx);
	if (ret == -EINVAL) {
		error(m);
		return;
	}
	if (ret < 0) {
		cms(m, CMS_BAD_INDEX);
		return;
	}
	if (flag == 0) {
		if (m->store[idx - 1].used) /* a free index is deleted already: OK */
			sms_delete(m, (int)idx);
	} else {
		for (int i = 0; i < SMS_SLOTS; i++)
			if (m->store[i].used && (flag == 4 || m->store[i].stat == 1))
				sms_delete(m, i + 1);
	}
	ok(m);
}

/* AT+CPMS=<mem1>[,<mem2>[,<mem3>]]: only "ME" is simulated. */
static void at_cpms_set(struct modem *m, const char *arg)
{
	int n = 0;

	for (const char *p = arg;; p += 5) {
		if (strncmp(p, "\"", 1) || strncasecmp(p + 1, "ME\"", 3)) {
			if (*p == '"')
				cms(m, CMS_NOT_ALLOWED); /* a storage we do not have */
			else
				error(m);
			return;
		}
		n++;
		if (p[4] == '\0')
			break;
		if (p[4] != ',' || n == 3) {
			error(m);
			return;
		}
	}
	n = sms_used(m);
	sim_out(&m->sim, "+CPMS: %d,%d,%d,%d,%d,%d", n, SMS_SLOTS, n, SMS_SLOTS, n, SMS_SLOTS);
	ok(m);
}

/*
 * ATI, AT+CGMI, AT+CGMM: the manufacturer and model the selected dialect's module gives
 * (text lines without a prefix, as those modules answer; ATI in Quectel's three lines).
 */
static void at_identify(struct modem *m, const char *cmd)
{
	static const char *const maker[] = {"RINKI", "Huawei Technologies Co., Ltd.", "Quectel",
					    "SIMCOM INCORPORATED"};
	static const char *const model[] = {"MODEM-SIM", "ME909s-120", "EC25", "SIMCOM_SIM7600E-H"};
	if (!strcmp(cmd, "ATI")) {
		sim_out(&m->sim, "%s", maker[m->dialect]);
		sim_out(&m->sim, "%s", model[m->dialect]);
		sim_out(&m->sim, "Revision: 1.0");
	} else {
		sim_out(&m->sim, "%s",
			strcmp(cmd, "AT+CGMI") ? model[m->dialect] : maker[m->dialect]);
	}
	ok(m);
}

/*
 * AT+CPIN="<pin>": right while the SIM asks for its PIN unlocks it; wrong costs an
 * attempt (+CME ERROR: 16), the third wrong one locks the SIM (PUK). Any PIN while the SIM is
 * PUK-locked, or a PUK ("AT+CPIN=<puk>,<newpin>"), is refused and logged as an event, so a
 * test sees every attempt. Never echoes the PIN in its events.
 */
static void at_cpin(struct modem *m, const char *arg)
{
	char pin[16];
	size_t n = strlen(arg);
	bool quoted = n >= 2 && arg[0] == '"' && arg[n - 1] == '"';
	snprintf(pin, sizeof(pin), "%.*s", quoted ? (int)n - 2 : (int)n, quoted ? arg + 1 : arg);
	if (m->simlock == SIMLOCK_PUK || strchr(arg, ',')) {
		sim_event(&m->sim, "sim-attempt refused (puk)");
		cme(m, 16);
		return;
	}
	if (m->simlock == SIMLOCK_READY) {
		sim_event(&m->sim, "sim-attempt refused (ready)");
		cme(m, 3); /* operation not allowed */
		return;
	}
	if (!strcmp(pin, m->sim_pin)) {
		m->simlock = SIMLOCK_READY;
		m->pin_left = 3;
		sim_event(&m->sim, "sim-attempt ok");
		ok(m);
		return;
	}
	if (--m->pin_left == 0)
		m->simlock = SIMLOCK_PUK;
	sim_event(&m->sim, "sim-attempt wrong %d left", m->pin_left);
	cme(m, 16); /* incorrect password */
}

static void at_command(struct modem *m, char *cmd, int64_t t_ns)
{
	long v;

	if (!strcmp(cmd, "AT") || !strcmp(cmd, "ATZ")) {
		ok(m);
	} else if (!strcmp(cmd, "ATE0") || !strcmp(cmd, "ATE1")) {
		m->sim.echo = cmd[3] == '1';
		ok(m);
	} else if (!strncmp(cmd, "ATD", 3)) {
		at_dial(m, cmd + 3, t_ns);
	} else if (!strcmp(cmd, "ATA")) {
		at_answer(m);
	} else if (!strcmp(cmd, "ATH") || !strcmp(cmd, "ATH0") || !strcmp(cmd, "AT+CHUP")) {
		at_hangup(m);
	} else if (!strcmp(cmd, "AT+CLCC")) {
		at_clcc(m);
	} else if (!strncmp(cmd, "AT+CMEE=", 8)) {
		at_set(m, cmd + 8, 0, 2, NULL);
	} else if (!strcmp(cmd, "AT+CPIN?")) {
		static const char *const names[] = {"READY", "SIM PIN", "SIM PUK"};
		sim_out(&m->sim, "+CPIN: %s", names[m->simlock]);
		ok(m);
	} else if (!strncmp(cmd, "AT+CPIN=", 8)) {
		at_cpin(m, cmd + 8);
	} else if (!strncmp(cmd, "ATD", 3) && m->simlock != SIMLOCK_READY) {
		cme(m, m->simlock == SIMLOCK_PIN ? 11 : 12); /* SIM PIN / SIM PUK required */
	} else if (!strncmp(cmd, "AT+CREG=", 8)) {
		at_set(m, cmd + 8, 0, 2, NULL);
	} else if (!strncmp(cmd, "AT+CEREG=", 9)) {
		at_set(m, cmd + 9, 0, 5, NULL);
	} else if (!strcmp(cmd, "AT+CREG?") || !strcmp(cmd, "AT+CEREG?")) {
		sim_out(&m->sim, "+C%sREG: 2,1,\"00C3\",\"0000A13F\",7", cmd[4] == 'E' ? "E" : "");
		ok(m);
	} else if (!strcmp(cmd, "AT+CSQ")) {
		sim_out(&m->sim, "+CSQ: 20,99");
		ok(m);
	} else if (!strcmp(cmd, "AT+COPS?")) {
		sim_out(&m->sim, "+COPS: 0,0,\"Elisa\",7");
		ok(m);
	} else if (!strncmp(cmd, "AT+CLIP=", 8)) {
		if (at_set(m, cmd + 8, 0, 1, &v) == 0)
			m->clip = v;
	} else if (!strncmp(cmd, "AT+CRC=", 7)) {
		if (at_set(m, cmd + 7, 0, 1, &v) == 0)
			m->crc = v;
	} else if (!strncmp(cmd, "AT+CMGF=", 8)) {
		if (at_set(m, cmd + 8, 0, 1, &v) == 0)
			m->text_mode = v;
	} else if (!strcmp(cmd, "AT+CMGF?")) {
		sim_out(&m->sim, "+CMGF: %d", m->text_mode);
		ok(m);
	} else if (!strncmp(cmd, "AT+CVHU=", 8)) {
		at_set(m, cmd + 8, 0, 1, NULL);
	} else if ((!strncmp(cmd, "AT+CNMI=", 8) || !strncmp(cmd, "AT+CCWA=", 8)) && cmd[8]) {
		ok(m);
	} else if (!strncmp(cmd, "AT+CMGS=", 8)) {
		at_cmgs(m, cmd + 8);
	} else if (!strncmp(cmd, "AT+CMGR=", 8)) {
		at_cmgr(m, cmd + 8);
	} else if (!strncmp(cmd, "AT+CMGL=", 8)) {
		at_cmgl(m, cmd + 8);
	} else if (!strncmp(cmd, "AT+CMGD=", 8)) {
		at_cmgd(m, cmd + 8);
	} else if (!strcmp(cmd, "AT+CPMS?")) {
		v = sms_used(m);
		sim_out(&m->sim, "+CPMS: \"ME\",%ld,%d,\"ME\",%ld,%d,\"ME\",%ld,%d", v, SMS_SLOTS,
			v, SMS_SLOTS, v, SMS_SLOTS);
		ok(m);
	} else if (!strncmp(cmd, "AT+CPMS=", 8)) {
		at_cpms_set(m, cmd + 8);
	} else if (!strcmp(cmd, "AT+CEER")) {
		sim_out(&m->sim, "+CEER: \"%s\"", m->ceer);
		ok(m);
	} else if (!strncmp(cmd, "AT+VTS=", 7)) {
		if (strlen(cmd + 7) != 1 || !strchr("0123456789*#ABCD", cmd[7])) {
			error(m);
		} else if (m->st != ST_ACTIVE) {
			cme(m, 3);
		} else {
			sim_event(&m->sim, "vts %c", cmd[7]);
			ok(m);
		}
	} else if (!strcmp(cmd, "ATI") || !strcmp(cmd, "AT+CGMI") || !strcmp(cmd, "AT+CGMM")) {
		at_identify(m, cmd);
	} else if (!at_vendor(m, cmd)) {
		error(m);
	}
}

static void modem_pty_line(struct sim *s, char *line, size_t len, int term, int64_t t_ns)
{
	struct modem *m = s->priv;

	if (sim_timer_armed(&m->esc_timer)) { /* busy with the ESC: read later, in order */
		if (m->nheld_in == ESC_HELD_MAX || len > ESC_HELD_LINE) {
			sim_warn(&m->sim, "esc-late: host line dropped (%zu held)",
				 (size_t)m->nheld_in);
			return;
		}
		memcpy(m->held_in[m->nheld_in].line, line, len);
		m->held_in[m->nheld_in].line[len] = '\0';
		m->held_in[m->nheld_in].len = len;
		m->held_in[m->nheld_in].term = term;
		m->nheld_in++;
		return;
	}
	if (m->prompt != PROMPT_NONE) {
		sms_body_line(m, line, len, term, t_ns);
		return;
	}
	if (term == 0x1a || term == 0x1b || strlen(line) != len) {
		error(m); /* no SMS prompt is open; stray Ctrl-Z/ESC or a NUL byte */
		return;
	}
	if (m->front_n > 0) {
		m->front_n--;
		m->front_now = true;
		sim_out(&m->sim, "%s", m->front);
	}
	if (m->pending_cme >= 0) {
		cme(m, m->pending_cme);
		m->pending_cme = -1;
	} else {
		/* Command names are case-insensitive; the dialled number has no letters but *#. */
		for (char *p = line; *p && *p != '"'; p++)
			*p = (char)toupper((unsigned char)*p);
		at_command(m, line, t_ns);
	}
	m->front_now = false;
}

/* The ESC's late answer is due: give it, then read the host lines held meanwhile. */
static void on_esc_late(struct sim *s, void *arg)
{
	struct modem *m = arg;
	sim_event(s, "esc-answer %s", m->esc_late_cms < 0 ? "OK" : "CMS");
	if (m->esc_late_cms < 0)
		ok(m);
	else
		cms(m, m->esc_late_cms);
	int n = m->nheld_in;
	m->nheld_in = 0;
	for (int i = 0; i < n && !sim_timer_armed(&m->esc_timer); i++) {
		char line[ESC_HELD_LINE + 1];
		memcpy(line, m->held_in[i].line, m->held_in[i].len + 1);
		modem_pty_line(s, line, m->held_in[i].len, m->held_in[i].term, sim_now_ns());
	}
}

/* esc-late <ms> ok|<code> (0 ok: off) */
static void ctl_esc_late(struct modem *m, struct sim_client *cl, char *args)
{
	const char *ms = sim_next_token(&args);
	const char *ans = sim_next_token(&args);
	long v, code = -1;

	if (!ms || !ans || sim_parse_long(ms, 0, ESC_LATE_MAX, &v) < 0 ||
	    (strcmp(ans, "ok") != 0 && sim_parse_long(ans, 0, 511, &code) < 0)) {
		sim_reply(cl, "err usage: esc-late <0..%d ms> ok|<0..511>", ESC_LATE_MAX);
		return;
	}
	m->esc_late_ns = v * 1000000LL;
	m->esc_late_cms = (int)code;
	sim_reply(cl, "ok");
}

/* urc-front <count> <line>: that URC in front of the next count answers (0: off). */
static void ctl_urc_front(struct modem *m, struct sim_client *cl, char *args)
{
	const char *n = sim_next_token(&args);
	long v;

	if (!n || sim_parse_long(n, 0, 1000, &v) < 0 || (v > 0 && !*args) ||
	    strlen(args) >= sizeof(m->front) || strpbrk(args, "\r\n")) {
		sim_reply(cl, "err usage: urc-front <0..1000> <line>");
		return;
	}
	snprintf(m->front, sizeof(m->front), "%s", args);
	m->front_n = (int)v;
	sim_reply(cl, "ok");
}

/* --- control commands ----------------------------------------------------- */

/* Seconds as a decimal (e.g. "2" or "0.5") in [0, MAX_SEC]; returns ns or -1. */
static int64_t parse_sec(const char *s)
{
	char *end;
	double v;

	if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	v = strtod(s, &end);
	if (*end || !isfinite(v) || v < 0 || v > MAX_SEC)
		return -1;
	return (int64_t)llround(v * 1e9);
}

static void ctl_callee(struct modem *m, struct sim_client *cl, char *args)
{
	const char *number = sim_next_token(&args);
	const char *kind = sim_next_token(&args);
	const char *sec = sim_next_token(&args);
	struct script sc = {.delay_ns = 0};
	struct script *slot = NULL;

	if (!number || !kind || sim_next_token(&args) ||
	    (strcmp(number, "default") && !number_ok(number)))
		goto usage;
	if (!strcmp(kind, "answer") && sec) {
		sc.kind = SCRIPT_ANSWER;
	} else if (!strcmp(kind, "noanswer")) {
		sc.kind = SCRIPT_NOANSWER;
	} else if (!strcmp(kind, "busy") && !sec) {
		sc.kind = SCRIPT_BUSY;
	} else if (!strcmp(kind, "reject") && !sec) {
		sc.kind = SCRIPT_REJECT;
	} else {
		goto usage;
	}
	if (sec && (sc.delay_ns = parse_sec(sec)) < 0)
		goto usage;
	if (!strcmp(number, "default")) {
		slot = &m->callees[0];
	} else {
		for (int i = 1; i < MAX_CALLEES && !slot; i++)
			if (!strcmp(m->callees[i].number, number))
				slot = &m->callees[i];
		for (int i = 1; i < MAX_CALLEES && !slot; i++)
			if (!m->callees[i].number[0])
				slot = &m->callees[i];
		if (!slot) {
			sim_reply(cl, "err more than %d callees", MAX_CALLEES - 1);
			return;
		}
	}
	snprintf(sc.number, sizeof(sc.number), "%s", number);
	*slot = sc;
	sim_reply(cl, "ok");
	return;
usage:
	sim_reply(cl, "err usage: callee <number|default> answer <sec> | busy | noanswer [sec] "
		      "| reject");
}

static void reply_written(struct modem *m, struct sim_client *cl)
{
	sim_reply(cl, "ok t=%lld", (long long)sim_flush(&m->sim));
}

static void ctl_dtmf(struct modem *m, struct sim_client *cl, const char *d)
{
	if (strlen(d) != 1 || !strchr("0123456789*#ABCD", d[0])) {
		sim_reply(cl, "err usage: dtmf <0-9*#A-D>");
		return;
	}
	if (m->st != ST_ACTIVE) {
		sim_reply(cl, "err no active call");
		return;
	}
	if (m->dialect == DIALECT_QUECTEL)
		sim_out(&m->sim, "+QTONEDET: %d", d[0]);
	else if (m->dialect == DIALECT_SIMCOM)
		sim_out(&m->sim, "+RXDTMF: %c", d[0]);
	else
		sim_out(&m->sim, "+DTMF: %c", d[0]);
	reply_written(m, cl);
}

/* sms-in|sms-store <hex>: store a received message as AT+CMGR shows it; sms-in sends +CMTI. */
static void ctl_sms_in(struct modem *m, struct sim_client *cl, char *args, bool announce)
{
	const char *hex = sim_next_token(&args);
	uint8_t pdu[SMS_PDU_MAX];
	char why[96];
	int tpdu_len;
	int idx;

	if (!hex || sim_next_token(&args)) {
		sim_reply(cl, "err usage: %s <pdu hex, SMSC field first>",
			  announce ? "sms-in" : "sms-store");
		return;
	}
	tpdu_len = pdu_decode(hex, pdu, why, sizeof(why));
	if (tpdu_len < 0 || tpdu_check_received(pdu + 1 + pdu[0], tpdu_len, why, sizeof(why)) < 0) {
		sim_reply(cl, "err sms-in: %s", why);
		return;
	}
	idx = sms_store(m, hex, tpdu_len, announce);
	if (idx < 0)
		sim_reply(cl, "err memory full (%d messages)", SMS_SLOTS);
	else
		sim_reply(cl, "ok idx=%d", idx);
}

static void ctl_sms_list(struct modem *m, struct sim_client *cl)
{
	char list[SMS_SLOTS * 4 + 1] = "";
	size_t n = 0;

	for (int i = 0; i < SMS_SLOTS; i++)
		if (m->store[i].used)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d", n ? "," : "",
					      i + 1);
	sim_reply(cl, "ok%s%s", n ? " " : "", list);
}

static int modem_ctl(struct sim *s, struct sim_client *cl, char *cmd, char *args)
{
	struct modem *m = s->priv;
	long v;

	if (!strcmp(cmd, "callee")) {
		ctl_callee(m, cl, args);
	} else if (!strcmp(cmd, "hangup")) {
		if (*args) {
			sim_reply(cl, "err hangup takes no arguments");
		} else if (m->st == ST_NONE) {
			sim_reply(cl, "err no call");
		} else {
			call_end(m, "NO CARRIER", "Normal call clearing");
			reply_written(m, cl);
		}
	} else if (!strcmp(cmd, "answer-out")) {
		if (*args) {
			sim_reply(cl, "err answer-out takes no arguments");
		} else if (m->dir != 0 || (m->st != ST_DIALING && m->st != ST_ALERTING)) {
			sim_reply(cl, "err no outgoing call ringing");
		} else {
			/* whatever the callee's script: answered now */
			sim_timer_cancel(&m->step);
			if (m->st == ST_DIALING)
				set_state(m, ST_ALERTING);
			set_state(m, ST_ACTIVE);
			reply_written(m, cl);
		}
	} else if (!strcmp(cmd, "dtmf")) {
		ctl_dtmf(m, cl, args);
	} else if (!strcmp(cmd, "ring")) {
		bool withheld = !strcmp(args, "withheld");

		if (withheld)
			args[0] = '\0';
		if (!withheld && !number_ok(args)) {
			sim_reply(cl, "err usage: ring <number>|withheld");
		} else if (m->st != ST_NONE) {
			sim_reply(cl, "err a call exists");
		} else {
			snprintf(m->number, sizeof(m->number), "%s", args);
			m->dir = 1;
			set_state(m, ST_INCOMING);
			send_ring(m);
			sim_timer_arm(&m->ring, RING_NS);
			reply_written(m, cl);
		}
	} else if (!strcmp(cmd, "cme")) {
		if (sim_parse_long(args, 0, 999, &v) < 0) {
			sim_reply(cl, "err usage: cme <n>");
			return 0;
		}
		m->pending_cme = (int)v;
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "sms-in")) {
		ctl_sms_in(m, cl, args, true);
	} else if (!strcmp(cmd, "sms-store")) {
		ctl_sms_in(m, cl, args, false);
	} else if (!strcmp(cmd, "sms-in-bad")) {
		if (*args) {
			sim_reply(cl, "err sms-in-bad takes no arguments");
		} else if ((v = sms_store(m, SMS_BAD_PDU, SMS_BAD_TPDU_LEN, true)) < 0) {
			sim_reply(cl, "err memory full (%d messages)", SMS_SLOTS);
		} else {
			sim_reply(cl, "ok idx=%ld", v);
		}
	} else if (!strcmp(cmd, "cmti-bogus")) {
		if (*args) {
			sim_reply(cl, "err cmti-bogus takes no arguments");
		} else {
			sim_out(&m->sim, "+CMTI: \"SM\",-1");
			reply_written(m, cl);
		}
	} else if (!strcmp(cmd, "sms-list")) {
		if (*args)
			sim_reply(cl, "err sms-list takes no arguments");
		else
			ctl_sms_list(m, cl);
	} else if (!strcmp(cmd, "sms-fail")) {
		if (!strcmp(args, "none")) {
			m->sms_fail = -1;
		} else if (sim_parse_long(args, 0, 511, &v) < 0) {
			sim_reply(cl, "err usage: sms-fail <0..511>|none");
			return 0;
		} else {
			m->sms_fail = (int)v;
		}
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "sms-stuck")) {
		if (!strcmp(args, "on") || !strcmp(args, "off")) {
			m->sms_stuck = args[1] == 'n';
			sim_reply(cl, "ok");
		} else {
			sim_reply(cl, "err usage: sms-stuck on|off");
		}
	} else if (!strcmp(cmd, "esc-late")) {
		ctl_esc_late(m, cl, args);
	} else if (!strcmp(cmd, "urc-front")) {
		ctl_urc_front(m, cl, args);
	} else if (!strcmp(cmd, "late-end")) {
		if (!strcmp(args, "on") || !strcmp(args, "off")) {
			m->late_end = args[1] == 'n';
			if (!m->late_end)
				m->held[0] = '\0';
			sim_reply(cl, "ok");
		} else {
			sim_reply(cl, "err usage: late-end on|off");
		}
	} else if (!strcmp(cmd, "clcc-late")) {
		long n;

		if (sim_parse_long(args, 0, 1000, &n) < 0) {
			sim_reply(cl, "err usage: clcc-late <answers 0..1000>");
			return 0;
		}
		m->clcc_late_n = n; /* the current call, if any, keeps what it had */
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "sim-pin")) {
		size_t n = strlen(args);
		if (n < 4 || n > 8 || strspn(args, "0123456789") != n) {
			sim_reply(cl, "err usage: sim-pin <4..8 digits>");
			return 0;
		}
		memcpy(m->sim_pin, args, n + 1);
		m->simlock = SIMLOCK_PIN;
		m->pin_left = 3;
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "sim-puk")) {
		m->simlock = SIMLOCK_PUK;
		m->pin_left = 0;
		sim_reply(cl, "ok");
	} else if (!strcmp(cmd, "state")) {
		static const char *const names[] = {"ready", "pin", "puk"};
		sim_reply(cl, "ok call=%s number=%s sim=%s pin_left=%d", state_name(m->st),
			  m->number, names[m->simlock], m->pin_left);
	} else {
		return -ENOENT;
	}
	return 0;
}

static const struct sim_ops modem_ops = {
    .pty_line = modem_pty_line,
    .ctl = modem_ctl,
};

static void usage(FILE *f, bool full)
{
	fprintf(f, "usage: modem-sim [--ctl SOCKPATH] [--link PATH] "
		   "[--dialect none|huawei|quectel|simcom] [--echo] [-v]\n");
	if (!full)
		return;
	fputs("\nScenario commands (stdin or --ctl; each answers \"ok ...\" or \"err ...\"):\n"
	      "  callee <number|default> answer <sec> | busy | noanswer [sec] | reject\n"
	      "                               what an outgoing call to that number does\n"
	      "  hangup                       the remote party hangs up (NO CARRIER)\n"
	      "  answer-out                   the called party answers the outgoing call now\n"
	      "  dtmf <key>                   the remote party presses a key\n"
	      "  ring <number>|withheld       incoming call (RING, +CLIP)\n"
	      "  cme <n>                      answer the next command with +CME ERROR: n\n"
	      "  urc-front <count> <line>     that URC in front of the next count answers, before\n"
	      "                               the answer and again before its final code (0: off)\n"
	      "  late-end on|off              the release report of a call the host hangs up\n"
	      "                               comes after the OK of the next ATD (NO CARRIER\n"
	      "                               without a dialect; event late-end)\n"
	      "  clcc-late <n>                calls dialled from now on are missing from their\n"
	      "                               first n AT+CLCC answers (event clcc-late <number>\n"
	      "                               for each; 0: off)\n"
	      "  sms-in <hex> | sms-store <hex> | sms-in-bad | cmti-bogus | sms-list\n"
	      "  sms-fail <code>|none | sms-stuck on|off\n"
	      "  esc-late <ms> ok|<code>      the ESC aborting AT+CMGS is answered ms later (OK\n"
	      "                               or +CMS ERROR: code), host lines read after it\n"
	      "  sim-pin <pin>                the SIM asks for this PIN (+CPIN: SIM PIN) until\n"
	      "                               AT+CPIN gives it; 3 wrong ones lock it (PUK)\n"
	      "  sim-puk                      the SIM is PUK-locked: every AT+CPIN= is refused\n"
	      "                               (each attempt is an event sim-attempt ...)\n"
	      "  state                        the call and its number, the SIM's lock\n"
	      "  raw <line> | rawbytes <hex> | silent | echo | hangup-port | quit  (common)\n",
	      f);
}

int main(int argc, char **argv)
{
	static struct modem m; /* large buffers: keep them off the stack */
	static const struct option opts[] = {
	    SIM_COMMON_LONGOPTS,
	    {"dialect", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	int ret;

	sim_init(&m.sim, "modem-sim", &modem_ops, &m);
	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (sim_parse_common_opt(&m.sim, opt, optarg))
			continue;
		if (opt == 'd') {
			int i = 0;

			while (i < 4 && strcmp(optarg, dialect_names[i]))
				i++;
			if (i == 4) {
				fprintf(stderr, "modem-sim: unknown dialect %s\n", optarg);
				usage(stderr, false);
				return 2;
			}
			m.dialect = (enum dialect)i;
		} else if (opt == 'h') {
			usage(stdout, true);
			return 0;
		} else {
			usage(stderr, false);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, false);
		return 2;
	}
	m.st = ST_NONE;
	m.clip = true;
	m.pending_cme = -1;
	m.sms_fail = -1;
	snprintf(m.ceer, sizeof(m.ceer), "No cause information available");
	strcpy(m.callees[0].number, "default");
	m.callees[0].kind = SCRIPT_ANSWER;
	m.callees[0].delay_ns = 2LL * 1000000000;
	sim_timer_init(&m.sim, &m.step, on_step, &m);
	sim_timer_init(&m.sim, &m.ring, on_ring, &m);
	sim_timer_init(&m.sim, &m.esc_timer, on_esc_late, &m);
	ret = sim_start(&m.sim);
	if (ret < 0)
		return 1;
	ret = sim_run(&m.sim);
	sim_stop(&m.sim);
	return ret < 0 ? 1 : 0;
}
