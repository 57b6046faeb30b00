/*
 * modem-sim: a 3GPP cellular modem on a pty, for the phone leg of rinki.
 *
 * It answers the init commands the gateway sends and places one voice call at a time
 * (call id 1), as in /work/shared/reference/modem-at.md section 2.1: ATD<number>; gets OK
 * at once (dialling, not answered), the call goes dialing -> alerting after 0.3 s and then
 * follows the script set for the called number with the `callee` control command (answer
 * after N s, busy, no answer, reject). AT+CLCC is the truth about the call; the --dialect
 * option adds the vendor call-state URCs (Huawei ^ORIG/^CONF/^CONN/^CEND, Quectel
 * +QIND "ccinfo", SIMCom unsolicited +CLCC). Incoming calls (`ring`), remote hang-up and
 * received DTMF are driven through the control channel of sim_common.
 */
#include "sim_common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_MAX  32
#define MAX_CALLEES 32
#define STEP_NS	    (300LL * 1000000)  /* dialing -> alerting, busy, reject */
#define RING_NS	    (4LL * 1000000000) /* RING repeat */
#define MAX_SEC	    3600.0	       /* longest scripted delay */

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
	char ceer[64];
	struct sim_timer step; /* dialing -> alerting, then the script's outcome */
	struct sim_timer ring; /* repeats RING for an incoming call */
	struct script callees[MAX_CALLEES];
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

static void ok(struct modem *m)
{
	sim_out(&m->sim, "OK");
}

static void error(struct modem *m)
{
	sim_out(&m->sim, "ERROR");
}

static void cme(struct modem *m, int n)
{
	sim_out(&m->sim, "+CME ERROR: %d", n);
}

/* Vendor URC for the current state (called after every state change). */
static void dialect_urc(struct modem *m, enum call_state st)
{
	int type = number_type(m->number);

	switch (m->dialect) {
	case DIALECT_HUAWEI:
		if (st == ST_DIALING)
			sim_out(&m->sim, "^ORIG:1,0");
		else if (st == ST_ALERTING)
			sim_out(&m->sim, "^CONF:1");
		else if (st == ST_ACTIVE)
			sim_out(&m->sim, "^CONN:1,0");
		else if (st == ST_NONE)
			sim_out(&m->sim, "^CEND:1,%lld,0,16",
				m->t_active ? (long long)((sim_now_ns() - m->t_active) / 1000000000)
					    : 0LL);
		break;
	case DIALECT_QUECTEL:
		sim_out(&m->sim, "+QIND: \"ccinfo\",1,%d,%d,0,0,\"%s\",%d", m->dir,
			st == ST_NONE ? -1 : (int)st, m->number, type);
		break;
	case DIALECT_SIMCOM:
		/* SIMCom reports a released call as stat 6 (disconnected). */
		sim_out(&m->sim, "+CLCC: 1,%d,%d,0,0,\"%s\",%d", m->dir,
			st == ST_NONE ? 6 : (int)st, m->number, type);
		break;
	case DIALECT_NONE:
		break;
	}
}

static void set_state(struct modem *m, enum call_state st)
{
	if (st == ST_ACTIVE)
		m->t_active = sim_now_ns();
	dialect_urc(m, st);
	m->st = st;
	sim_event(&m->sim, "call %s", state_name(st));
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
	if (m->clip)
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
	ok(m);
	set_state(m, ST_DIALING);
	sim_timer_arm(&m->step, STEP_NS);
}

static void at_clcc(struct modem *m)
{
	if (m->st != ST_NONE)
		sim_out(&m->sim, "+CLCC: 1,%d,%d,0,0,\"%s\",%d", m->dir, (int)m->st, m->number,
			number_type(m->number));
	ok(m);
}

static void at_hangup(struct modem *m)
{
	ok(m);
	if (m->st != ST_NONE) {
		sim_event(&m->sim, "hangup host");
		call_end(m, NULL, "Normal call clearing");
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
		sim_out(&m->sim, "+CPIN: READY");
		ok(m);
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
	} else if (!strncmp(cmd, "AT+CMGF=", 8) || !strncmp(cmd, "AT+CVHU=", 8)) {
		at_set(m, cmd + 8, 0, 1, NULL);
	} else if ((!strncmp(cmd, "AT+CNMI=", 8) || !strncmp(cmd, "AT+CCWA=", 8) ||
		    !strncmp(cmd, "AT+CPMS=", 8)) &&
		   cmd[8]) {
		ok(m);
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
	} else if (!at_vendor(m, cmd)) {
		error(m);
	}
}

static void modem_pty_line(struct sim *s, char *line, size_t len, int term, int64_t t_ns)
{
	struct modem *m = s->priv;

	if (term == 0x1a || term == 0x1b || strlen(line) != len) {
		error(m); /* no SMS prompt is open; stray Ctrl-Z/ESC or a NUL byte */
		return;
	}
	if (m->pending_cme >= 0) {
		cme(m, m->pending_cme);
		m->pending_cme = -1;
		return;
	}
	/* Command names are case-insensitive; the dialled number has no letters but *#. */
	for (char *p = line; *p && *p != '"'; p++)
		*p = (char)toupper((unsigned char)*p);
	at_command(m, line, t_ns);
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
	} else if (!strcmp(cmd, "dtmf")) {
		ctl_dtmf(m, cl, args);
	} else if (!strcmp(cmd, "ring")) {
		if (!number_ok(args)) {
			sim_reply(cl, "err usage: ring <number>");
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
	} else if (!strcmp(cmd, "state")) {
		sim_reply(cl, "ok call=%s number=%s", state_name(m->st), m->number);
	} else {
		return -ENOENT;
	}
	return 0;
}

static const struct sim_ops modem_ops = {
    .pty_line = modem_pty_line,
    .ctl = modem_ctl,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: modem-sim [--ctl SOCKPATH] [--link PATH] "
		   "[--dialect none|huawei|quectel|simcom] [--echo] [-v]\n");
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
				usage(stderr);
				return 2;
			}
			m.dialect = (enum dialect)i;
		} else if (opt == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	m.st = ST_NONE;
	m.clip = true;
	m.pending_cme = -1;
	snprintf(m.ceer, sizeof(m.ceer), "No cause information available");
	strcpy(m.callees[0].number, "default");
	m.callees[0].kind = SCRIPT_ANSWER;
	m.callees[0].delay_ns = 2LL * 1000000000;
	sim_timer_init(&m.sim, &m.step, on_step, &m);
	sim_timer_init(&m.sim, &m.ring, on_ring, &m);
	ret = sim_start(&m.sim);
	if (ret < 0)
		return 1;
	ret = sim_run(&m.sim);
	sim_stop(&m.sim);
	return ret < 0 ? 1 : 0;
}
