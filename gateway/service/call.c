/*
 * call: the incident state machine, on the fsm engine (core/fsm.h).
 *
 * call_fsm describes it: per state the events it accepts (in_events), the states it may
 * move to (out_states), its named timer and its action; the engine checks every event and
 * every state change against it and logs a miss with the call prefix as a refusal (-EPERM).
 * Actions run with the event and change state through call_set_state(), which first gives the
 * instance its timer values (the ring time of the chain step being paged, call.accept_time),
 * so a state's timer is armed by the engine on entry. Entering a state other than the one
 * the incident is in tells ops.state. The two timers are gw_call_tdefs (config keys, events).
 *
 * Paging order: the ATD for chain step 1 is written first; once the modem has answered it
 * (2 ms at most, or sooner when anything else reaches the incident) the incident and its
 * first events are handed to the call-log writer (one transaction, committed off the
 * loop), then the radio is answered by policy. Nothing on the paging path waits
 * for the database. The legs are in call_leg.c, behind call_priv.h.
 * Log lines carry "call(<id>){<STATE}>: " so a field log reads like a test trace.
 */
#include "service/call_priv.h"

#include "core/text.h"

static void copy_str(char *dst, size_t len, const char *src);

#define T_RING_KEY   "call.ring_time"
#define T_RING_DESC  "ring time per worker; then hang up and page the next step (default 25 s)"
#define T_ACCEPT_KEY "call.accept_time"
#define T_ACCEPT_DESC                                                                              \
	"time to press 4 after answering; an answer without it is a voicemail or a pocket "        \
	"(default 20 s)"

const struct gw_call_tdef gw_call_tdefs[GW_CALL_T_COUNT] = {
    {GW_CALL_T_RING, T_RING_KEY, GW_CALL_EV_T_RING, T_RING_DESC},
    {GW_CALL_T_ACCEPT, T_ACCEPT_KEY, GW_CALL_EV_T_ACCEPT, T_ACCEPT_DESC},
};

static const struct gw_fsm_timer call_timers[GW_CALL_T_COUNT] = {
    [GW_CALL_T_RING] = {T_RING_KEY, GW_CALL_EV_T_RING, 25000, T_RING_DESC},
    [GW_CALL_T_ACCEPT] = {T_ACCEPT_KEY, GW_CALL_EV_T_ACCEPT, 20000, T_ACCEPT_DESC},
};

static void st_new(struct gw_fsm_inst *fi, int ev, const void *data);
static void st_paging(struct gw_fsm_inst *fi, int ev, const void *data);
static void st_announce(struct gw_fsm_inst *fi, int ev, const void *data);
static void st_bridged(struct gw_fsm_inst *fi, int ev, const void *data);
static void entered(struct gw_fsm_inst *fi, int prev);
static void bridge(struct gw_call *c, const char *how);
static void announce(struct gw_call *c);
static void sms_accept(struct gw_call *c, int idx);
static void accepted_missed(struct gw_call *c);

#define EV(e) GW_FSM_EV_BIT(GW_CALL_EV_##e)
#define ST(s) GW_FSM_ST_BIT(GW_CALL_ST_##s)

static const struct gw_fsm_state states[GW_CALL_ST_COUNT] = {
    [GW_CALL_ST_NEW] = {.name = "NEW",
			.in_events = EV(START),
			.out_states = ST(PAGING) | ST(CLOSED),
			.timer = GW_FSM_NO_TIMER,
			.action = st_new},
    [GW_CALL_ST_PAGING] = {.name = "PAGING",
			   .in_events = EV(RADIO_CONNECTED) | EV(RADIO_RELEASED) |
					EV(PHONE_ALERTING) | EV(PHONE_ANSWERED) | EV(PHONE_ENDED) |
					EV(T_RING) | EV(SMS_ACCEPT),
			   .out_states = ST(PAGING) | ST(ANNOUNCE) | ST(BRIDGED) | ST(CLOSED),
			   .timer = GW_CALL_T_RING,
			   .action = st_paging,
			   .onenter = entered},
    [GW_CALL_ST_ANNOUNCE] = {.name = "ANNOUNCE",
			     .in_events = EV(RADIO_CONNECTED) | EV(RADIO_RELEASED) |
					  EV(PHONE_ENDED) | EV(DTMF) | EV(T_ACCEPT) |
					  EV(SMS_ACCEPT),
			     .out_states = ST(PAGING) | ST(ANNOUNCE) | ST(BRIDGED) | ST(CLOSED),
			     .timer = GW_CALL_T_ACCEPT,
			     .action = st_announce,
			     .onenter = entered},
    [GW_CALL_ST_BRIDGED] = {.name = "BRIDGED",
			    .in_events = EV(RADIO_CONNECTED) | EV(RADIO_RELEASED) |
					 EV(PHONE_ENDED) | EV(DTMF),
			    .out_states = ST(CLOSED),
			    .timer = GW_FSM_NO_TIMER,
			    .action = st_bridged,
			    .onenter = entered},
    [GW_CALL_ST_CLOSED] = {.name = "CLOSED", .timer = GW_FSM_NO_TIMER, .onenter = entered},
};

static const char *const event_names[GW_CALL_EV_COUNT] = {
    [GW_CALL_EV_START] = "START",
    [GW_CALL_EV_RADIO_CONNECTED] = "RADIO_CONNECTED",
    [GW_CALL_EV_RADIO_RELEASED] = "RADIO_RELEASED",
    [GW_CALL_EV_PHONE_ALERTING] = "PHONE_ALERTING",
    [GW_CALL_EV_PHONE_ANSWERED] = "PHONE_ANSWERED",
    [GW_CALL_EV_PHONE_ENDED] = "PHONE_ENDED",
    [GW_CALL_EV_DTMF] = "DTMF",
    [GW_CALL_EV_T_RING] = "T_RING",
    [GW_CALL_EV_T_ACCEPT] = "T_ACCEPT",
    [GW_CALL_EV_SMS_ACCEPT] = "SMS_ACCEPT",
};

static const struct gw_fsm call_fsm = {
    .name = "call",
    .states = states,
    .nstates = GW_CALL_ST_COUNT,
    .event_names = event_names,
    .nevents = GW_CALL_EV_COUNT,
    .timers = call_timers,
    .ntimers = GW_CALL_T_COUNT,
    .log_cat = GW_LOG_CALL,
    .cleanup = call_closed,
};

const char *gw_call_state_name(enum gw_call_state st)
{
	return gw_fsm_state_name(&call_fsm, st);
}

const char *gw_call_event_name(enum gw_call_event ev)
{
	return gw_fsm_event_name(&call_fsm, ev);
}

static enum gw_call_state state_of(const struct gw_call *c)
{
	return (enum gw_call_state)c->fi.state;
}

/* ---- call log ------------------------------------------------------------------------ */

void call_log_event(struct gw_call *c, const char *kind, const char *fmt, ...)
{
	struct gw_calls *m = c->mgr;
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (m->db && c->id) {
		int rc = gw_db_event_append(m->db, c->id, gw_loop_wall_ms(m->loop), kind, detail);
		if (rc < 0)
			LOGCALL(c, GW_LOG_ERROR, "call log write failed (%s): %s %s", strerror(-rc),
				kind, detail);
	}
	/* after the write: whoever reads the stream line and then the call log finds it */
	if (gw_event_on()) {
		struct gw_event e;
		gw_event_begin(&e, "incident_event");
		gw_event_int(&e, "call", c->id);
		gw_event_int(&e, "seq", c->seq);
		gw_event_str(&e, "kind", kind);
		gw_event_str(&e, "detail", detail);
		gw_event_emit(&e);
	}
}

void call_fmt_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;
	snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
		 (long long)(s % 60));
}

/* ---- state machine core -------------------------------------------------------------- */

/*
 * Move to state to, with the timer values of now: the ring time of the chain step being
 * paged and call.accept_time (the config may have been reloaded). Returns 0 or -EPERM.
 */
int call_set_state(struct gw_call *c, enum gw_call_state to)
{
	if (c->step >= 0) /* -1: nobody on duty and no fallback, no step to ring */
		gw_fsm_timer_set_ms(&c->fi, GW_CALL_T_RING,
				    (int64_t)c->chain[c->step].ring_s * 1000);
	gw_fsm_timer_set_ms(&c->fi, GW_CALL_T_ACCEPT, (int64_t)c->mgr->conf->accept_time_s * 1000);
	return gw_fsm_state_chg(&c->fi, to);
}

/* onenter of every state but NEW: the incident is in another state, ops.state hears it. */
static void entered(struct gw_fsm_inst *fi, int prev)
{
	(void)prev;
	struct gw_call *c = fi->priv;
	if (c->mgr->ops.state)
		c->mgr->ops.state(c->mgr->ops.arg, state_of(c));
}

/* ---- SMS accept codes ---------------------------------------------------------------- */

static int code_live(const struct ack_code *k, int64_t now)
{
	return k->code && k->expires_ms > now;
}

/* A code for phone on this incident's SMS page. Returns it, or -ENOSPC (all slots live). */
static int code_issue(struct gw_call *c, const char *phone)
{
	struct gw_calls *m = c->mgr;
	int64_t now = gw_loop_now_ms(m->loop);
	struct ack_code *slot = NULL;
	for (int i = 0; i < ACK_CODES; i++)
		if (!code_live(&m->codes[i], now) &&
		    (!slot || m->codes[i].expires_ms < slot->expires_ms))
			slot = &m->codes[i];
	if (!slot) {
		LOGCALL(c, GW_LOG_WARN, "%d accept codes live: SMS page without a code", ACK_CODES);
		return -ENOSPC;
	}
	int code = m->next_code < ACK_CODE_MIN ? ACK_CODE_MIN : m->next_code;
	for (int taken = 1; taken;) {
		taken = 0;
		for (int i = 0; i < ACK_CODES; i++)
			taken |= code_live(&m->codes[i], now) && m->codes[i].code == code;
		if (taken && ++code > ACK_CODE_MAX)
			code = ACK_CODE_MIN;
	}
	m->next_code = code == ACK_CODE_MAX ? ACK_CODE_MIN : code + 1;
	slot->code = code;
	copy_str(slot->phone, sizeof(slot->phone), phone);
	slot->seq = c->seq;
	slot->expires_ms = now + (int64_t)m->conf->ack_code_ttl_s * 1000;
	return code;
}

/* The incident closed: its codes are spent. */
void call_codes_spend(struct gw_call *c)
{
	struct gw_calls *m = c->mgr;
	int64_t now = gw_loop_now_ms(m->loop);
	for (int i = 0; i < ACK_CODES; i++)
		if (m->codes[i].seq == c->seq && code_live(&m->codes[i], now))
			m->codes[i].expires_ms = now;
}

static void announce_page(struct gw_call *c)
{
	const struct step *s = &c->chain[c->step];
	LOGCALL(c, GW_LOG_NOTICE, "paging %s %s (step %d of %d, round %d)", s->name, s->phone,
		c->step + 1, c->nchain, c->round + 1);
	/* " fallback" marks the fallback's page: the report counts who took the call */
	call_log_event(c, "page", "%s %s step %d round %d%s", s->handle, s->phone, c->step + 1,
		       c->round + 1, c->step == c->fallback ? " fallback" : "");
	if (c->mgr->conf->sms_page && !c->sms_paged) {
		c->sms_paged = 1;
		char who[128], text[320], digits[12] = "";
		int code = code_issue(c, s->phone);
		if (code > 0) {
			snprintf(digits, sizeof(digits), "%02d", code);
			call_log_event(c, "ack_code", "%s %d valid %d s", s->handle, code,
				       c->mgr->conf->ack_code_ttl_s);
		}
		call_caller_text(c, who, sizeof(who));
		const char *lang = call_worker_lang(c, s->phone);
		const struct gw_msg_arg a[] = {
		    {"who", who}, {"line", call_line_text_in(c, lang)}, {"code", digits}};
		/* without a code an SMS cannot accept, so the page offers none */
		gw_msg_format(code > 0 ? GW_MSG_PAGE_CODE : GW_MSG_PAGE, lang, a, 3, text,
			      sizeof(text));
		call_send_sms(c, s, "page", text);
	}
}

/* Nobody took the call: tell the officer and the first worker, release the radio. */
static void unreached(struct gw_call *c)
{
	struct gw_calls *m = c->mgr;
	char text[320], who[128];
	LOGCALL(c, GW_LOG_NOTICE, "nobody reached after %d round(s)%s", c->round,
		c->fallback >= 0 ? " and the fallback" : "");
	call_log_event(c, "unreached", "%d rounds of %d steps", c->round, c->nchain);
	const char *ol = m->conf->prompt_language;
	const struct gw_msg_arg al = {"line", call_line_text_in(c, ol)};
	gw_msg_format(GW_MSG_UNREACHED, ol, &al, 1, text, sizeof(text));
	call_tell_officer(c, "unreached", text);
	if (m->conf->sms_page) {
		call_caller_text(c, who, sizeof(who));
		const char *wl = call_worker_lang(c, c->chain[0].phone);
		const struct gw_msg_arg a[] = {{"who", who}, {"line", call_line_text_in(c, wl)}};
		gw_msg_format(GW_MSG_MISSED, wl, a, 2, text, sizeof(text));
		call_send_sms(c, &c->chain[0], "missed", text);
	}
	(m->ops.radio_unreached ? m->ops.radio_unreached : m->ops.radio_hangup)(m->ops.arg,
										c->radio.cci);
	call_close_incident(c, "unanswered", -1, NULL);
}

/*
 * Move to the next step: through the plan's steps for its rounds, then its
 * fallback once, then give up. A step whose dial is refused is skipped.
 */
static void next_step(struct gw_call *c)
{
	for (;;) {
		if (c->step == c->fallback) {
			unreached(c);
			return;
		}
		if (++c->step >= c->nchain) {
			c->step = 0;
			if (++c->round >= c->rounds || c->nchain == 0) {
				if (c->fallback < 0) {
					unreached(c);
					return;
				}
				c->step = c->fallback;
				LOGCALL(c, GW_LOG_NOTICE, "chain used up: paging the fallback");
			}
		}
		if (call_set_state(c, GW_CALL_ST_PAGING) < 0)
			return;
		if (call_page_step(c) == 0) {
			announce_page(c);
			return;
		}
		call_log_event(c, "page_failed", "%s", c->chain[c->step].phone);
	}
}

/*
 * Open the incident in the call log with its first events (the page of a dialled step) in
 * one transaction; the instance takes the call log's id as its name. Without a database,
 * only the page is announced.
 */
/* The incident is opened: an "incident" line of the event stream (id 0: not in the log). */
static void emit_opened(const struct gw_call *c)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "incident");
	gw_event_int(&e, "call", c->id);
	gw_event_int(&e, "seq", c->seq);
	gw_event_str(&e, "caller", c->caller);
	gw_event_str(&e, "line", c->line[0] ? c->line : NULL);
	gw_event_int(&e, "cci", c->radio.cci);
	gw_event_emit(&e);
}

static void open_in_log(struct gw_call *c, int dialled)
{
	struct gw_calls *m = c->mgr;
	if (!m->db) {
		emit_opened(c);
		if (dialled)
			announce_page(c);
		return;
	}
	struct gw_incident_rec rec = {
	    .started_ms = c->started_ms,
	    .caller = c->caller,
	    .caller_name = c->caller_name[0] ? c->caller_name : NULL,
	    .line = c->line[0] ? c->line : NULL,
	    .radio_cci = c->radio.cci,
	};
	int in_batch = gw_db_batch_begin(m->db) == 0;
	int rc = gw_db_incident_open(m->db, &rec, &c->id);
	if (rc < 0) {
		c->id = 0;
		LOGCALL(c, GW_LOG_ERROR, "call log refused the incident: %s", strerror(-rc));
	}
	if (c->id) {
		m->last_id = c->id;
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)c->id);
		gw_fsm_inst_set_id(&c->fi, id);
	}
	if (c->after_line[0])
		call_log_event(c, "after_hours", "line %s outside its office hours: %s paged",
			       c->line, c->after_line);
	emit_opened(c);
	if (dialled)
		announce_page(c);
	if (in_batch && gw_db_batch_commit(m->db) < 0)
		LOGCALL(c, GW_LOG_ERROR, "call log commit failed");
}

/* Nobody is on duty for the line: tell the officer, release the radio, close. */
static void unstaffed(struct gw_call *c)
{
	char text[320];
	LOGCALL(c, GW_LOG_NOTICE, "nobody on duty for line %s", c->line[0] ? c->line : "?");
	call_log_event(c, "unstaffed", "line %s", c->line);
	const char *ol = c->mgr->conf->prompt_language;
	const struct gw_msg_arg al = {"line", call_line_text_in(c, ol)};
	gw_msg_format(GW_MSG_UNSTAFFED, ol, &al, 1, text, sizeof(text));
	call_tell_officer(c, "unstaffed", text);
	call_radio_hangup(c);
	call_close_incident(c, "unstaffed", -1, NULL);
}

/*
 * The start after the page went out: the log line, the incident committed with its first
 * events, the radio answered by policy. Runs once the modem answered the ATD, at the
 * latest GW_CALL_REST_MS after it (see st_new), or at once when anything else reaches the
 * incident first (catch_up).
 */
static void start_rest(struct gw_call *c)
{
	LOGCALL(c, GW_LOG_NOTICE, "radio: individual call from %s (%s) -> line %s (%s)", c->caller,
		c->caller_name[0] ? c->caller_name : "unknown organisation",
		c->line[0] ? c->line : "none", c->line_name[0] ? c->line_name : "no route");

	/* 2. Commit the incident and its first events in one transaction. */
	open_in_log(c, c->dialled);

	/* An authority call from an ISSI not in the directory is served all the same, and
	   flagged. */
	if (!c->caller_name[0]) {
		LOGCALL(c, GW_LOG_WARN, "caller %s is not in the directory: served, flagged",
			c->caller);
		call_log_event(c, "unknown_caller", "%s", c->caller);
	}

	/* 3. Answer the radio leg by policy. */
	if (c->mgr->conf->radio_answer == GW_RADIO_ANSWER_AT_ONCE)
		call_radio_answer(c);

	if (!c->staffed) {
		unstaffed(c);
		return;
	}
	if (call_set_state(c, GW_CALL_ST_PAGING) < 0)
		return;
	if (!c->dialled) {
		call_log_event(c, "page_failed", "%s", c->chain[c->step].phone);
		next_step(c);
	}
}

static void on_start_rest(struct gw_loop *loop, void *arg)
{
	(void)loop;
	start_rest(arg);
}

/* Anything that reaches the live incident runs the rest of its start first, so that
   events are handled in order and find it committed. */
static void catch_up(struct gw_calls *m)
{
	if (m->live && m->live->rest.armed) {
		gw_timer_cancel(m->loop, &m->live->rest);
		start_rest(m->live);
	}
}

/* The step a routed incident pages first: step 0, or with nobody on duty the plan's
   fallback; -1: nobody (unstaffed). gw_calls_first_page() runs it too. */
static int first_step(const struct gw_call *c)
{
	return c->nchain > 0 ? 0 : c->fallback;
}

static void st_new(struct gw_fsm_inst *fi, int ev, const void *data)
{
	(void)ev;
	(void)data;
	struct gw_call *c = fi->priv;

	/* 1. Page at once: the ATD leaves before anything else, even a log line. */
	c->step = first_step(c);
	c->staffed = c->step >= 0;
	c->dialled = c->staffed && call_page_step(c) == 0;
	/* The rest (log, commit, SMS, answer) once the modem answered the ATD: its reader has
	   had the CPU before rinkid spends it on the rest (issue #13). The loop may wake
	   before that for anything else; a modem that holds its OK back (some do until the
	   call is answered) costs the officer's answer GW_CALL_REST_MS at most. */
	gw_timer_init(&c->rest, on_start_rest, c);
	if (c->dialled)
		gw_timer_schedule(c->mgr->loop, &c->rest, GW_CALL_REST_MS);
	else
		start_rest(c);
}

static void st_paging(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_call *c = fi->priv;
	struct gw_calls *m = c->mgr;
	const struct step *s = &c->chain[c->step];
	int64_t waited = gw_loop_now_ms(m->loop) - c->page_mono;

	switch (ev) {
	case GW_CALL_EV_RADIO_CONNECTED:
		LOGCALL(c, GW_LOG_INFO, "radio leg connected, officer waits");
		call_log_event(c, "radio_connected", "cci %d", c->radio.cci);
		return;
	case GW_CALL_EV_PHONE_ALERTING:
		LOGCALL(c, GW_LOG_INFO, "%s's phone is ringing", s->name);
		call_log_event(c, "phone_alerting", "%s", s->handle);
		return;
	case GW_CALL_EV_PHONE_ANSWERED:
		LOGCALL(c, GW_LOG_NOTICE,
			"%s answered after %lld.%01lld s: announcing, press 4 to accept", s->name,
			(long long)(waited / 1000), (long long)(waited % 1000 / 100));
		call_log_event(c, "phone_answered", "%s after %lld ms", s->handle,
			       (long long)waited);
		if (c->pre_accepted) {
			bridge(c, "by SMS, then answered");
			return;
		}
		if (call_set_state(c, GW_CALL_ST_ANNOUNCE) == 0)
			announce(c);
		return;
	case GW_CALL_EV_SMS_ACCEPT:
		sms_accept(c, *(const int *)data);
		return;
	case GW_CALL_EV_PHONE_ENDED: {
		enum gw_modem_end why = (enum gw_modem_end) * (const int *)data;
		if (why == GW_MODEM_END_LOCAL)
			return; /* our own hang-up ended the leg */
		LOGCALL(c, GW_LOG_NOTICE, "%s not reached: %s after %lld s", s->name,
			gw_modem_end_name(why), (long long)(waited / 1000));
		call_log_event(c, "phone_ended", "%s %s", s->handle, gw_modem_end_name(why));
		if (c->sms_accepted == c->step)
			accepted_missed(c);
		else
			next_step(c);
		return;
	}
	case GW_CALL_EV_T_RING:
		LOGCALL(c, GW_LOG_NOTICE, "%s: no answer after %d s", s->name, s->ring_s);
		call_log_event(c, "ring_timeout", "%s after %d s", s->handle, s->ring_s);
		call_phone_hangup(c);
		if (c->sms_accepted == c->step)
			accepted_missed(c);
		else
			next_step(c);
		return;
	case GW_CALL_EV_RADIO_RELEASED: {
		int cause = *(const int *)data;
		LOGCALL(c, GW_LOG_NOTICE, "officer hung up while paging, cause %d (%s)", cause,
			gw_pei_cause_name(cause));
		call_log_event(c, "radio_released", "cause %d %s", cause, gw_pei_cause_name(cause));
		call_phone_hangup(c);
		call_close_incident(c, cause == GW_PEI_CAUSE_RESTART ? "radio_lost" : "abandoned",
				    cause, NULL);
		return;
	}
	default:
		assert(0 && "declared event without handling");
	}
}

/* Ask for the announcement to be played to the worker (now in ANNOUNCE). */
static void announce(struct gw_call *c)
{
	struct gw_calls *m = c->mgr;
	if (m->ops.announce)
		m->ops.announce(m->ops.arg, c->caller_name[0] ? c->caller_name : NULL);
}

/* The worker of the current step accepted: join the legs. */
static void bridge(struct gw_call *c, const char *how)
{
	struct gw_calls *m = c->mgr;
	const struct step *s = &c->chain[c->step];
	if (call_set_state(c, GW_CALL_ST_BRIDGED) < 0)
		return;
	c->bridged_mono = gw_loop_now_ms(m->loop);
	call_log_event(c, "accepted", "%s %s", s->handle, how);
	if (m->conf->radio_answer == GW_RADIO_ANSWER_ON_ACCEPT)
		call_radio_answer(c);
	LOGCALL(c, GW_LOG_NOTICE, "bridged: officer %s and %s", c->caller, s->name);
	call_log_event(c, "bridged", "%s", s->handle);
}

/*
 * A worker accepted by SMS: "I take it, call me". Escalation stops at them: the current
 * one is bridged now (answered) or on answer; another one already paged is dialled instead
 * of the current leg. Their answer is bridged without the announcement, and a missed call
 * is redialled (accepted_missed) before the chain goes on.
 */
static void sms_accept(struct gw_call *c, int idx)
{
	const struct step *s = &c->chain[idx];
	char text[200];
	LOGCALL(c, GW_LOG_NOTICE, "%s accepted by SMS", s->name);
	call_log_event(c, "sms_accept", "%s", s->handle);
	c->sms_accepted = idx;
	c->accept_redials = 0;
	if (idx == c->step && state_of(c) == GW_CALL_ST_ANNOUNCE) {
		bridge(c, "by SMS"); /* on the phone already: no reply needed */
		return;
	}
	if (idx == c->step) {
		c->pre_accepted = 1; /* ringing: bridged on answer */
	} else {
		call_phone_hangup(c);
		c->step = idx;
		if (call_set_state(c, GW_CALL_ST_PAGING) < 0)
			return;
		if (call_page_step(c) < 0) {
			call_log_event(c, "page_failed", "%s", s->phone);
			c->sms_accepted = -1;
			next_step(c);
			return;
		}
		announce_page(c);
	}
	/* after the dial: the reply never delays the call it announces */
	gw_msg_format(GW_MSG_ACCEPT_CALLING, call_worker_lang(c, s->phone), NULL, 0, text,
		      sizeof(text));
	call_send_sms(c, s, "accept_calling", text);
}

/*
 * The worker who accepted by SMS did not answer our call to them: dial them again, up to
 * call.accept_retries times; then go on down the chain with an event saying why, and tell
 * the worker their accept has lapsed.
 */
static void accepted_missed(struct gw_call *c)
{
	struct gw_calls *m = c->mgr;
	const struct step *s = &c->chain[c->step];
	char text[240];
	if (c->accept_redials < m->conf->accept_retries) {
		c->accept_redials++;
		LOGCALL(c, GW_LOG_NOTICE,
			"%s accepted by SMS, did not answer: calling again (%d of %d)", s->name,
			c->accept_redials, m->conf->accept_retries);
		call_log_event(c, "accept_redial", "%s %d of %d", s->handle, c->accept_redials,
			       m->conf->accept_retries);
		if (call_set_state(c, GW_CALL_ST_PAGING) < 0)
			return;
		if (call_page_step(c) == 0)
			return;
		call_log_event(c, "page_failed", "%s", s->phone);
	}
	LOGCALL(c, GW_LOG_NOTICE,
		"%s accepted by SMS, not reached in %d call(s): escalation resumes", s->name,
		c->accept_redials + 1);
	call_log_event(c, "accept_lapsed", "%s not reached in %d calls after the SMS accept",
		       s->handle, c->accept_redials + 1);
	c->sms_accepted = -1;
	c->pre_accepted = 0;
	const char *lang = call_worker_lang(c, s->phone);
	const struct gw_msg_arg a = {"line", call_line_text_in(c, lang)};
	gw_msg_format(GW_MSG_ACCEPT_GAVE_UP, lang, &a, 1, text, sizeof(text));
	call_send_sms(c, s, "accept_lapsed", text);
	next_step(c);
}

/* Hang up the phone leg and go on down the chain. */
static void decline(struct gw_call *c, const char *kind, const char *why)
{
	const struct step *s = &c->chain[c->step];
	LOGCALL(c, GW_LOG_NOTICE, "%s did not accept: %s", s->name, why);
	call_log_event(c, kind, "%s", s->handle);
	call_phone_hangup(c);
	next_step(c);
}

static void st_announce(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_call *c = fi->priv;
	const struct step *s = &c->chain[c->step];

	switch (ev) {
	case GW_CALL_EV_RADIO_CONNECTED:
		call_log_event(c, "radio_connected", "cci %d", c->radio.cci);
		return;
	case GW_CALL_EV_DTMF: {
		char d = *(const char *)data;
		call_log_event(c, "dtmf", "%s %c", s->handle, d);
		if (d == '4') {
			bridge(c, "with 4");
		} else if (d == '5') {
			decline(c, "declined", "pressed 5 (pass)");
		} else if (d == '*') {
			LOGCALL(c, GW_LOG_INFO, "%s asked to hear the announcement again", s->name);
			if (call_set_state(c, GW_CALL_ST_ANNOUNCE) ==
			    0) /* restarts the accept time */
				announce(c);
		} else {
			LOGCALL(c, GW_LOG_INFO, "key %c ignored, waiting for 4 or 5", d);
		}
		return;
	}
	case GW_CALL_EV_T_ACCEPT:
		decline(c, "accept_timeout", "no key within the accept time (voicemail?)");
		return;
	case GW_CALL_EV_SMS_ACCEPT:
		sms_accept(c, *(const int *)data);
		return;
	case GW_CALL_EV_PHONE_ENDED: {
		enum gw_modem_end why = (enum gw_modem_end) * (const int *)data;
		if (why == GW_MODEM_END_LOCAL)
			return; /* our own hang-up ended the leg */
		LOGCALL(c, GW_LOG_NOTICE, "%s hung up before accepting (%s)", s->name,
			gw_modem_end_name(why));
		call_log_event(c, "phone_ended", "%s %s", s->handle, gw_modem_end_name(why));
		next_step(c);
		return;
	}
	case GW_CALL_EV_RADIO_RELEASED: {
		int cause = *(const int *)data;
		LOGCALL(c, GW_LOG_NOTICE, "officer hung up before a worker accepted, cause %d (%s)",
			cause, gw_pei_cause_name(cause));
		call_log_event(c, "radio_released", "cause %d %s", cause, gw_pei_cause_name(cause));
		call_phone_hangup(c);
		call_close_incident(c, cause == GW_PEI_CAUSE_RESTART ? "radio_lost" : "abandoned",
				    cause, NULL);
		return;
	}
	default:
		assert(0 && "declared event without handling");
	}
}

static void st_bridged(struct gw_fsm_inst *fi, int ev, const void *data)
{
	struct gw_call *c = fi->priv;
	struct gw_calls *m = c->mgr;
	const struct step *s = &c->chain[c->step];
	char dur[32];
	call_fmt_duration(gw_loop_now_ms(m->loop) - c->bridged_mono, dur, sizeof(dur));

	switch (ev) {
	case GW_CALL_EV_RADIO_CONNECTED:
		call_log_event(c, "radio_connected", "cci %d", c->radio.cci);
		return;
	case GW_CALL_EV_DTMF:
		call_log_event(c, "dtmf", "%c", *(const char *)data);
		return;
	case GW_CALL_EV_RADIO_RELEASED: {
		int cause = *(const int *)data;
		LOGCALL(c, GW_LOG_NOTICE, "released by radio, cause %d (%s), talk time %s", cause,
			gw_pei_cause_name(cause), dur);
		call_log_event(c, "radio_released", "cause %d %s", cause, gw_pei_cause_name(cause));
		call_phone_hangup(c);
		call_close_incident(c, cause == GW_PEI_CAUSE_RESTART ? "radio_lost" : "completed",
				    cause, s->handle);
		return;
	}
	case GW_CALL_EV_PHONE_ENDED: {
		enum gw_modem_end why = (enum gw_modem_end) * (const int *)data;
		if (why == GW_MODEM_END_LOCAL)
			return; /* our own hang-up ended the leg */
		LOGCALL(c, GW_LOG_NOTICE, "released by %s (%s), talk time %s", s->name,
			gw_modem_end_name(why), dur);
		call_log_event(c, "phone_ended", "%s %s", s->handle, gw_modem_end_name(why));
		call_radio_hangup(c);
		call_close_incident(c, "completed", -1, s->handle);
		return;
	}
	default:
		assert(0 && "declared event without handling");
	}
}

/* ---- manager --------------------------------------------------------------------------- */

int gw_calls_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		 const struct gw_call_ops *ops, struct gw_calls **out)
{
	if (gw_fsm_check(&call_fsm) < 0 || gw_fsm_check(&call_radio_fsm) < 0 ||
	    gw_fsm_check(&call_phone_fsm) < 0)
		return -EINVAL;
	struct gw_calls *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->conf = conf;
	m->db = db;
	m->ops = *ops;
	*out = m;
	return 0;
}

void gw_calls_free(struct gw_calls *m)
{
	if (!m)
		return;
	gw_timer_cancel(m->loop, &m->slot.rest);
	if (m->live)
		gw_fsm_term(&m->live->fi, 0); /* cancels its timer */
	free(m);
}

void gw_calls_set_roster(struct gw_calls *m, const struct gw_roster *roster)
{
	m->roster = roster;
	m->roster_gen++;
}

const struct gw_roster *gw_calls_roster(const struct gw_calls *m)
{
	return m->roster;
}

unsigned gw_calls_roster_gen(const struct gw_calls *m)
{
	return m->roster_gen;
}

bool gw_calls_may_page(const struct gw_calls *m)
{
	return !m->live && !gw_callback_live(m->callback);
}

int gw_calls_dispatch(struct gw_calls *m, enum gw_call_event ev, const void *data)
{
	if (!m->live)
		return -ENOENT;
	if (ev != GW_CALL_EV_START)
		catch_up(m);
	int rc = gw_fsm_dispatch(&m->live->fi, ev, data);
	return rc == -ESRCH ? GW_CALL_ST_CLOSED : rc; /* the event closed it */
}

enum gw_call_state gw_calls_state(const struct gw_calls *m)
{
	return m->live ? state_of(m->live) : GW_CALL_ST_CLOSED;
}

int64_t gw_calls_last_id(const struct gw_calls *m)
{
	return m->last_id;
}

int gw_calls_radio_cci(const struct gw_calls *m)
{
	return m->live && call_leg_live(&m->live->radio.fi) ? m->live->radio.cci : -1;
}

int gw_calls_radio_simplex(const struct gw_calls *m)
{
	return m->live && call_leg_live(&m->live->radio.fi) ? m->live->radio.simplex : 0;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	(void)gw_text_copy(dst, len, src); /* cut like snprintf, without its cost */
}

static void set_step(struct step *d, const struct gw_roster_plan_step *s, int default_ring_s)
{
	copy_str(d->handle, sizeof(d->handle), s->handle);
	copy_str(d->name, sizeof(d->name), s->name);
	copy_str(d->phone, sizeof(d->phone), s->phone);
	d->ring_s = s->ring_s > 0 ? s->ring_s : default_ring_s;
}

/*
 * The busy SDS: call.busy_text with "{fallback}" replaced, or the catalogue's text in
 * prompt.language (naming call.busy_fallback when there is one).
 */
static void busy_text(const struct gw_conf *conf, char *buf, size_t len)
{
	const char *fb = conf->busy_fallback;
	if (!conf->busy_text[0]) {
		const struct gw_msg_arg a = {"fallback", fb};
		gw_msg_format(fb[0] ? GW_MSG_BUSY_FALLBACK : GW_MSG_BUSY, conf->prompt_language, &a,
			      1, buf, len);
		return;
	}
	size_t n = 0;
	buf[0] = '\0';
	for (const char *p = conf->busy_text; *p && n + 1 < len;) {
		if (strncmp(p, "{fallback}", 10) == 0) {
			n += (size_t)snprintf(buf + n, len - n, "%s", fb);
			p += 10;
		} else {
			buf[n++] = *p++;
			buf[n] = '\0';
		}
		if (n >= len)
			n = len - 1;
	}
}

/*
 * A second authority call while one is live gets an entry of its own (outcome "busy") and
 * an SDS saying so. The radio call is not answered and not hung up: ATH takes no CC
 * instance and the terminal clears every call with it (tetra-pei.md; tetra-sim does), which
 * would cut the live call. It rings out at the officer's end; its release is logged in the
 * busy entry. The live incident only notes it (event "second_call").
 */
static void busy_treatment(struct gw_calls *m, const struct gw_pei_call_in *in)
{
	int64_t now = gw_loop_wall_ms(m->loop), id = 0;
	/* the live incident, or the live call-back (its own incident in the call log) */
	int64_t live_id = m->live ? m->live->id : gw_callback_id(m->callback);
	LOGP(GW_LOG_CALL, GW_LOG_WARN,
	     "second authority call %d from %s while %s %lld is live: busy, not answered", in->cci,
	     in->calling, m->live ? "call" : "call-back", (long long)live_id);
	/* the SDS is only queued: the call log below waits for nothing */
	char text[GW_CONF_STR + 64];
	int rc = -ENOTSUP;
	if (m->conf->sds_notify && m->ops.radio_sds) {
		busy_text(m->conf, text, sizeof(text));
		rc = m->ops.radio_sds(m->ops.arg, in->calling, text);
		if (rc < 0)
			LOGP(GW_LOG_CALL, GW_LOG_WARN, "busy SDS to %s not sent: %s", in->calling,
			     strerror(-rc));
	}
	if (!m->db)
		return;
	const char *org = m->roster ? gw_roster_org(m->roster, in->calling) : NULL;
	struct gw_incident_rec rec = {.started_ms = now,
				      .caller = in->calling,
				      .caller_name = org,
				      .line = m->roster ? gw_roster_route(m->roster, in->calling)
							: NULL,
				      .radio_cci = in->cci};
	char detail[64];
	int in_batch = gw_db_batch_begin(m->db) == 0;
	if (gw_db_incident_open(m->db, &rec, &id) < 0)
		id = 0;
	if (id) {
		snprintf(detail, sizeof(detail), "incident %lld live", (long long)live_id);
		gw_db_event_append(m->db, id, now, "busy", detail);
		if (!org)
			gw_db_event_append(m->db, id, now, "unknown_caller", in->calling);
		if (rc != -ENOTSUP)
			gw_db_event_append(m->db, id, now, rc < 0 ? "sds_failed" : "sds", "busy");
		gw_db_incident_close(m->db, id, now, "busy", -1, NULL);
	}
	snprintf(detail, sizeof(detail), "%s busy incident %lld", in->calling, (long long)id);
	if (live_id)
		gw_db_event_append(m->db, live_id, now, "second_call", detail);
	if (in_batch && gw_db_batch_commit(m->db) < 0)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "call log commit failed");
	if (!id)
		return;
	LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "call(%lld){BUSY}: %s told by SDS, entry closed: busy",
	     (long long)id, in->calling);
	if (gw_event_on()) {
		struct gw_event e;
		gw_event_begin(&e, "incident_end");
		gw_event_int(&e, "call", id);
		gw_event_str(&e, "caller", in->calling);
		gw_event_str(&e, "outcome", "busy");
		gw_event_int(&e, "live", live_id);
		gw_event_emit(&e);
	}
	/* remember the radio call: its release goes in this entry */
	int slot = 0;
	for (int i = 0; i < BUSY_MAX; i++)
		if (m->busy[i].cci == 0 || m->busy[i].cci == in->cci) {
			slot = i;
			break;
		}
	m->busy[slot] = (struct busy_call){.cci = in->cci, .id = id};
}

/* A busy caller's radio call ended: logged in its busy entry. 1 when it was one. */
static int busy_released(struct gw_calls *m, int cci, int cause)
{
	for (int i = 0; i < BUSY_MAX; i++) {
		if (m->busy[i].cci != cci || !m->busy[i].cci)
			continue;
		LOGP(GW_LOG_CALL, GW_LOG_INFO,
		     "call(%lld){BUSY}: radio call %d released, cause %d (%s)",
		     (long long)m->busy[i].id, cci, cause, gw_pei_cause_name(cause));
		char detail[64];
		snprintf(detail, sizeof(detail), "cause %d %s", cause, gw_pei_cause_name(cause));
		if (m->db)
			gw_db_event_append(m->db, m->busy[i].id, gw_loop_wall_ms(m->loop),
					   "radio_released", detail);
		m->busy[i].cci = 0;
		return 1;
	}
	return 0;
}

/* The caller's organisation and line from the roster (with one); the line or NULL. */
static const char *route_line(struct gw_calls *m, struct gw_call *c)
{
	if (!m->roster)
		return NULL;
	const char *line = gw_roster_route_at(m->roster, c->caller, -1, c->started_ms / 1000);
	copy_str(c->line, sizeof(c->line), line);
	copy_str(c->caller_name, sizeof(c->caller_name), gw_roster_org(m->roster, c->caller));
	return line;
}

/* The line's names and escalation plan at c->started_ms: depends on nothing but those. */
static void route_plan(struct gw_calls *m, struct gw_call *c, const char *line)
{
	copy_str(c->line_name, sizeof(c->line_name), gw_roster_line_name(m->roster, line));
	copy_str(c->line_name_fi, sizeof(c->line_name_fi), gw_roster_line_name_fi(m->roster, line));
	copy_str(c->line_name_sv, sizeof(c->line_name_sv),
		 gw_roster_line_name_in(m->roster, line, "sv"));
	static struct gw_roster_plan plan; /* large; single-threaded loop */
	int n = gw_roster_plan(m->roster, line, c->started_ms, &plan);
	if (n < 0) {
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "no escalation plan for line %s: %s", line,
		     strerror(-n));
		n = 0;
		plan.has_fallback = false;
		plan.after_hours_line = NULL;
	}
	copy_str(c->after_line, sizeof(c->after_line), plan.after_hours_line);
	if (n > CHAIN_MAX)
		n = CHAIN_MAX;
	for (int i = 0; i < n; i++)
		set_step(&c->chain[i], &plan.steps[i], m->conf->ring_time_s);
	c->nchain = n;
	c->rounds = plan.rounds > 0 ? plan.rounds : m->conf->rounds;
	if (plan.has_fallback) {
		c->fallback = n;
		set_step(&c->chain[n], &plan.fallback, m->conf->ring_time_s);
	}
}

/* The caller's organisation, line and escalation plan from the roster (when there is one). */
static void route(struct gw_calls *m, struct gw_call *c)
{
	const char *line = route_line(m, c);
	if (line)
		route_plan(m, c, line);
}

/* The fields route() reads, as gw_calls_radio_incoming_at() sets them before it. */
static void route_init(struct gw_calls *m, struct gw_call *c, const char *caller, int64_t wall_ms)
{
	c->mgr = m;
	c->fallback = -1;
	c->nchain = 0;
	c->rounds = m->conf->rounds;
	copy_str(c->caller, sizeof(c->caller), caller);
	c->started_ms = wall_ms;
}

int gw_calls_first_page(struct gw_calls *m, const char *caller, int64_t wall_ms, char *phone,
			size_t len)
{
	struct gw_call *c = &m->probe; /* never live: only route()'s fields are used */
	struct first_memo *mo = &m->memo;
	route_init(m, c, caller, wall_ms);
	const char *line = route_line(m, c); /* route(), in its two halves */
	const char *first = NULL;
	if (line) {
		/* the plan half is a function of the line and the time: once per line */
		if (mo->wall_ms != wall_ms || mo->gen != m->roster_gen || mo->roster != m->roster) {
			mo->wall_ms = wall_ms;
			mo->gen = m->roster_gen;
			mo->roster = m->roster;
			mo->n = 0;
		}
		int i = 0;
		while (i < mo->n && mo->e[i].line != line)
			i++;
		if (i == mo->n) {
			route_plan(m, c, line);
			int step = first_step(c);
			if (i < FIRST_MEMO) {
				mo->e[i].line = line;
				copy_str(mo->e[i].phone, sizeof(mo->e[i].phone),
					 step < 0 ? "" : c->chain[step].phone);
				mo->n++;
			} else {
				first = step < 0 ? "" : c->chain[step].phone;
			}
		}
		if (!first)
			first = mo->e[i].phone;
	}
	if (!first || !first[0])
		return 0;
	size_t n = strlen(first);
	if (n >= len)
		return -E2BIG;
	memcpy(phone, first, n + 1);
	return 1;
}

void gw_calls_radio_incoming(struct gw_calls *m, const struct gw_pei_call_in *in)
{
	gw_calls_radio_incoming_at(m, in, gw_loop_wall_ms(m->loop));
}

void gw_calls_radio_incoming_at(struct gw_calls *m, const struct gw_pei_call_in *in,
				int64_t wall_ms)
{
	if (in->ai_service != 0 || in->comms_type == 1) {
		LOGP(GW_LOG_CALL, GW_LOG_INFO,
		     "call %d from %s is not an individual speech call (service %d, comms %d): "
		     "not paged",
		     in->cci, in->calling, in->ai_service, in->comms_type);
		return;
	}
	catch_up(m);
	struct radio_leg *lost = call_radio_leg_of(m, in->cci);
	if (lost) {
		/* The terminal cannot have two calls with one identifier: the live incident's
		 * radio leg is gone (a silent restart numbers calls from 1 again), and this is
		 * the officer's retry. The old incident ends as radio_lost, the retry is new. */
		LOGCALL(m->live, GW_LOG_WARN,
			"radio call %d offered again by %s: the old radio leg is lost", in->cci,
			in->calling);
		int cause = GW_PEI_CAUSE_RESTART;
		gw_fsm_dispatch(&lost->fi, RADIO_EV_RELEASED, &cause);
	}
	if (m->live || gw_callback_live(m->callback)) {
		busy_treatment(m, in);
		return;
	}
	struct gw_call *c = &m->slot;
	memset(c, 0, sizeof(*c));
	route_init(m, c, in->calling, wall_ms);
	c->seq = ++m->seq;
	c->paged_upto = -1;
	c->sms_accepted = -1;
	c->started_mono = gw_loop_now_ms(m->loop);
	char id[16];
	(void)gw_text_int(id, sizeof(id), "new", c->seq); /* no snprintf before the ATD */
	gw_fsm_inst_init(&c->fi, &call_fsm, m->loop, c, id, GW_CALL_ST_NEW);
	call_radio_leg_start(c, in->cci, in->simplex == 1);

	route(m, c);
	m->live = c;
	gw_calls_dispatch(m, GW_CALL_EV_START, NULL);
}

void gw_calls_radio_connected(struct gw_calls *m, int cci)
{
	catch_up(m);
	struct radio_leg *leg = call_radio_leg_of(m, cci);
	if (!leg) {
		LOGP(GW_LOG_CALL, GW_LOG_INFO, "radio call %d connected, no incident for it", cci);
		return;
	}
	gw_fsm_dispatch(&leg->fi, RADIO_EV_CONNECTED, NULL);
}

void gw_calls_radio_released(struct gw_calls *m, int cci, int cause)
{
	catch_up(m);
	struct radio_leg *leg = call_radio_leg_of(m, cci);
	if (!leg && busy_released(m, cci, cause))
		return;
	if (!leg) {
		LOGP(GW_LOG_CALL, GW_LOG_INFO,
		     "radio call %d released (cause %d), no live incident", cci, cause);
		return;
	}
	gw_fsm_dispatch(&leg->fi, RADIO_EV_RELEASED, &cause);
}

void gw_calls_phone_dial_acked(struct gw_calls *m)
{
	catch_up(m);
}

void gw_calls_phone_progress(struct gw_calls *m, enum gw_modem_call_state st)
{
	catch_up(m);
	if (!m->live)
		return;
	if (!call_leg_live(&m->live->phone.fi)) {
		LOGCALL(m->live, GW_LOG_INFO, "phone call %s with no call of ours, ignored",
			st == GW_MODEM_CALL_ACTIVE ? "answered" : "ringing");
		return;
	}
	gw_fsm_dispatch(&m->live->phone.fi,
			st == GW_MODEM_CALL_ACTIVE ? PHONE_EV_ANSWERED : PHONE_EV_ALERTING, NULL);
}

void gw_calls_phone_dtmf(struct gw_calls *m, char digit)
{
	catch_up(m);
	if (!m->live && gw_callback_live(m->callback)) {
		gw_callback_key(m->callback, digit);
		return;
	}
	if (!m->live) {
		LOGP(GW_LOG_CALL, GW_LOG_INFO, "key %c with no live incident, ignored", digit);
		return;
	}
	gw_calls_dispatch(m, GW_CALL_EV_DTMF, &digit);
}

const char *gw_calls_paged_phone(const struct gw_calls *m)
{
	const struct gw_call *c = m->live;
	if (!c || (state_of(c) != GW_CALL_ST_PAGING && state_of(c) != GW_CALL_ST_ANNOUNCE) ||
	    c->step < 0 || c->step > c->nchain || !c->chain[c->step].phone[0])
		return NULL;
	return c->chain[c->step].phone;
}

const char *gw_calls_caller_org(const struct gw_calls *m)
{
	return m->live && m->live->caller_name[0] ? m->live->caller_name : NULL;
}

const char *gw_calls_line(const struct gw_calls *m)
{
	return m->live ? m->live->line : NULL;
}

void gw_calls_phone_key(struct gw_calls *m, char digit, enum gw_dtmf_src src)
{
	catch_up(m);
	const char *from = src == GW_DTMF_SRC_INBAND ? "in-band" : "modem";
	if (!gw_dtmf_dedup_accept(&m->keys, digit, src, gw_loop_now_ms(m->loop))) {
		LOGP(GW_LOG_CALL, GW_LOG_DEBUG, "key %c (%s) is the press already reported", digit,
		     from);
		return;
	}
	LOGP(GW_LOG_CALL, GW_LOG_DEBUG, "key %c (%s)", digit, from);
	if (gw_event_on()) { /* a press counted once, with the channel that reported it */
		struct gw_event e;
		char key[2] = {digit, '\0'};
		gw_event_begin(&e, "key");
		gw_event_str(&e, "key", key);
		gw_event_str(&e, "source", from);
		gw_event_emit(&e);
	}
	gw_calls_phone_dtmf(m, digit);
}

static int accept_word(const char *w, size_t n)
{
	static const char *const words[] = {"4", "ok", "kuittaus", "a"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == n && strncasecmp(words[i], w, n) == 0)
			return 1;
	return 0;
}

enum gw_call_reply gw_call_parse_sms_reply(const char *text, int *code)
{
	static const char blank[] = " \t\r\n";
	text += strspn(text, blank);
	size_t n = strlen(text);
	while (n && (strchr(blank, text[n - 1]) || text[n - 1] == '.' || text[n - 1] == '!'))
		n--;
	if (accept_word(text, n))
		return GW_CALL_REPLY_ACCEPT;
	/* "<code>", "<code>a", "<code> a", "<code> ok", "<code> kuittaus": two digits first */
	if (n < 2 || !isdigit((unsigned char)text[0]) || !isdigit((unsigned char)text[1]) ||
	    (n > 2 && isdigit((unsigned char)text[2])))
		return GW_CALL_REPLY_NONE;
	const char *w = text + 2;
	size_t wn = n - 2;
	while (wn && (*w == ' ' || *w == '\t')) {
		w++;
		wn--;
	}
	if (wn && (!accept_word(w, wn) || (w[0] == '4' && w == text + 2)))
		return GW_CALL_REPLY_NONE; /* "374" is no code; "37 4" is */
	*code = (text[0] - '0') * 10 + (text[1] - '0');
	return GW_CALL_REPLY_CODE;
}

static void reply_sms(struct gw_calls *m, const char *to, const char *text)
{
	int rc = m->ops.phone_sms ? m->ops.phone_sms(m->ops.arg, to, text) : -ENOTSUP;
	if (rc < 0)
		LOGP(GW_LOG_CALL, GW_LOG_WARN, "reply SMS to %s not sent: %s", to, strerror(-rc));
}

/* Chain index of the worker with this phone among those c has paged, or -1. */
static int paged_index(const struct gw_call *c, const char *phone)
{
	for (int i = 0; i <= c->paged_upto && i < c->nchain + (c->fallback >= 0); i++)
		if (gw_e164_same(c->chain[i].phone, phone))
			return i;
	return -1;
}

/* The paged worker of c with this phone: dispatch the accept. 1 when done. */
static int accept_from(struct gw_calls *m, struct gw_call *c, const char *from)
{
	int i = paged_index(c, from);
	if (i < 0)
		return 0;
	gw_calls_dispatch(m, GW_CALL_EV_SMS_ACCEPT, &i);
	return 1;
}

/* A coded reply: valid only from a roster worker, for that phone's live code. */
static int code_reply(struct gw_calls *m, const char *from, int code)
{
	struct gw_call *c = m->live;
	int64_t now = gw_loop_now_ms(m->loop);
	struct gw_roster_step w;
	const struct ack_code *k = NULL;
	char text[160];
	for (int i = 0; i < ACK_CODES; i++)
		if (m->codes[i].code == code && gw_e164_same(m->codes[i].phone, from) &&
		    (!k || m->codes[i].expires_ms > k->expires_ms))
			k = &m->codes[i];
	int for_live = c && k && k->seq == c->seq;
	if (gw_roster_worker_by_phone(m->roster, from, &w) < 0) {
		LOGP(GW_LOG_CALL, GW_LOG_WARN,
		     "accept code %02d from %s, not in the roster: rejected", code, from);
		if (c)
			call_log_event(c, "ack_rejected", "code %02d from %s: not in the roster",
				       code, from);
		return 1;
	}
	if (!k || !code_live(k, now) || !for_live) {
		const char *why = k ? "expired" : "unknown";
		LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "accept code %02d from %s (%s): %s, told so", code,
		     from, w.handle, why);
		if (for_live)
			call_log_event(c, "ack_expired", "%s code %02d", w.handle, code);
		char digits[12];
		snprintf(digits, sizeof(digits), "%02d", code);
		const struct gw_msg_arg a = {"code", digits};
		gw_msg_format(k ? GW_MSG_CODE_EXPIRED : GW_MSG_CODE_UNKNOWN,
			      calls_worker_lang(m, from), &a, 1, text, sizeof(text));
		reply_sms(m, from, text);
		return 1;
	}
	if ((state_of(c) == GW_CALL_ST_PAGING || state_of(c) == GW_CALL_ST_ANNOUNCE) &&
	    accept_from(m, c, from))
		return 1;
	LOGCALL(c, GW_LOG_NOTICE, "accept code %02d from %s after the call was taken: told so",
		code, w.handle);
	call_log_event(c, "ack_late", "%s code %02d", w.handle, code);
	gw_msg_format(GW_MSG_ALREADY_TAKEN, calls_worker_lang(m, from), NULL, 0, text,
		      sizeof(text));
	reply_sms(m, from, text);
	return 1;
}

int gw_calls_phone_sms(struct gw_calls *m, const char *from, const char *text)
{
	catch_up(m);
	struct gw_call *c = m->live;
	int code = 0;
	int kind = gw_call_parse_sms_reply(text, &code);
	if (kind == GW_CALL_REPLY_CODE)
		return code_reply(m, from, code);
	if (kind != GW_CALL_REPLY_ACCEPT || !c ||
	    (state_of(c) != GW_CALL_ST_PAGING && state_of(c) != GW_CALL_ST_ANNOUNCE))
		return 0;
	/*
	 * A bare "ok" is no accept: anyone can send an SMS that says it comes from a worker's
	 * number, but only that phone got the page's code. The paged worker is told to use it.
	 */
	int i = paged_index(c, from);
	if (i >= 0) {
		LOGCALL(c, GW_LOG_NOTICE, "accept without the code from %s (%s): told to use it",
			from, c->chain[i].handle);
		call_log_event(c, "ack_no_code", "%s from %s", c->chain[i].handle, from);
		char use[200];
		gw_msg_format(GW_MSG_USE_CODE, calls_worker_lang(m, from), NULL, 0, use,
			      sizeof(use));
		reply_sms(m, from, use);
		return 1;
	}
	struct gw_roster_step w;
	LOGCALL(c, GW_LOG_WARN, "accept word from %s, %s: ignored", from,
		gw_roster_worker_by_phone(m->roster, from, &w) < 0
		    ? "not in the roster"
		    : "who was not paged for this call");
	return 0;
}

/* A cause that comes this long after its incident closed is not its own any more. */
#define CAUSE_LATE_MS 10000

void gw_calls_phone_cause(struct gw_calls *m, const char *number, const char *text)
{
	catch_up(m);
	/* the live incident, or the one that just closed (its last page failed) */
	struct gw_call *c = m->live ? m->live : &m->slot;
	if (!m->live && (!c->seq || gw_loop_now_ms(m->loop) - m->closed_mono > CAUSE_LATE_MS))
		return;
	int i = paged_index(c, number);
	if (i < 0)
		return; /* not a page of this incident (a page-test, an incoming call) */
	call_log_event(c, "phone_cause", "%s %s", c->chain[i].handle, text);
}

/* ---- calls to the gateway's phone number ------------------------------------------------ */

static int reject_incoming(struct gw_calls *m)
{
	int rc = m->ops.phone_reject ? m->ops.phone_reject(m->ops.arg) : -ENOTSUP;
	if (rc < 0)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "incoming call not rejected: %s", strerror(-rc));
	return rc;
}

int gw_calls_phone_incoming(struct gw_calls *m, const char *number)
{
	catch_up(m);
	struct gw_call *c = m->live;
	struct gw_roster_step w;
	const char *who = number[0] ? number : "a withheld number";
	if (!number[0] || gw_roster_worker_by_phone(m->roster, number, &w) < 0) {
		LOGP(GW_LOG_CALL, GW_LOG_WARN,
		     "call to the gateway from %s, not in the roster: "
		     "rejected",
		     who);
		return reject_incoming(m);
	}
	/* A roster worker while nothing is live: the call-back takes it when it can. */
	if (!c) {
		int rc = gw_callback_offer(m->callback, number);
		if (rc > 0)
			return 1;
	}
	/*
	 * Taking the call as their answer to a page would skip the voicemail guard and needs
	 * the phone leg the page uses. So: hang up and say why.
	 */
	if (c && paged_index(c, number) >= 0) {
		LOGCALL(c, GW_LOG_NOTICE,
			"%s called the gateway while paged: not taken as an answer (press 4 on "
			"rinki's call or reply to the SMS), hung up",
			w.name);
		call_log_event(c, "call_in", "%s rejected: no call-back during a call", w.handle);
	} else {
		LOGP(GW_LOG_CALL, GW_LOG_NOTICE,
		     "call to the gateway from %s (%s): no call-back for this call, hung up",
		     w.name, number);
	}
	return reject_incoming(m);
}

void gw_calls_set_callback(struct gw_calls *m, struct gw_callback *cb)
{
	m->callback = cb;
}

void gw_calls_radio_link(struct gw_calls *m, int up)
{
	catch_up(m);
	struct gw_call *c = m->live;
	if (!c)
		return;
	/* The terminal may well keep the call while its port is away: note it, close nothing. */
	LOGCALL(c, up ? GW_LOG_NOTICE : GW_LOG_WARN, "radio port %s during the call",
		up ? "back" : "lost");
	call_log_event(c, up ? "radio_port_back" : "radio_port_lost", "cci %d", c->radio.cci);
}

int gw_calls_board_link(struct gw_calls *m, int up, const char *detail)
{
	catch_up(m);
	struct gw_call *c = m->live;
	if (!c)
		return 0;
	/* PTT, squelch and LEDs are away: the call goes on, the log says so */
	LOGCALL(c, up ? GW_LOG_NOTICE : GW_LOG_WARN, "I/O board %s during the call",
		up ? "back" : "down");
	call_log_event(c, up ? "board_up" : "board_down", "%s", detail);
	return 1;
}

void gw_calls_phone_ended(struct gw_calls *m, enum gw_modem_end why)
{
	catch_up(m);
	/* Our own hang-up is an action's consequence, not news. */
	if (why == GW_MODEM_END_LOCAL)
		return;
	if (!m->live && gw_callback_live(m->callback)) {
		gw_callback_phone_ended(m->callback, why);
		return;
	}
	if (!m->live)
		return;
	if (!call_leg_live(&m->live->phone.fi)) {
		LOGCALL(m->live, GW_LOG_INFO, "phone call ended (%s) with no call of ours, ignored",
			gw_modem_end_name(why));
		return;
	}
	int cause = (int)why;
	gw_fsm_dispatch(&m->live->phone.fi, PHONE_EV_ENDED, &cause);
}
