/*
 * call_leg: an incident's two legs as child machines on the fsm engine: the radio leg (the
 * officer's call: RINGING, CONNECTED; its end is the incident's RADIO_RELEASED) and the
 * phone leg (the worker's call, one per dial: DIALLING, ALERTING, ANSWERED; its end is the
 * incident's PHONE_ENDED). Each owns its facts (cci, simplex, live, connected); driver
 * reports go to the legs, which pass progress on to the incident. See call.c.
 */
#include "service/call_priv.h"

#include "core/text.h"

/* ---- the legs ------------------------------------------------------------------------- */

/*
 * Each leg is a child machine of the incident and the one owner of its call's state: the
 * radio leg of whether the officer's call is live, its cci and whether it is connected;
 * the phone leg of the worker's call (dialling, alerting, answered). A leg passes its
 * progress on to the incident as the incident's events and reports its end through the
 * engine (gw_fsm_inst_adopt): a released radio call as GW_CALL_EV_RADIO_RELEASED, an ended
 * phone call as GW_CALL_EV_PHONE_ENDED, each with the cause. Our own hang-up of the phone
 * ends its leg with GW_MODEM_END_LOCAL, which the incident takes as no news; our own
 * release of the radio is always the incident's close, which ends the leg without a report.
 */

enum { RADIO_ST_RINGING, RADIO_ST_CONNECTED, RADIO_ST_COUNT };
enum { PHONE_ST_DIALLING, PHONE_ST_ALERTING, PHONE_ST_ANSWERED, PHONE_ST_COUNT };

bool call_leg_live(const struct gw_fsm_inst *fi)
{
	return fi->fsm && !fi->terminated;
}

/* Radio: connected (again) goes to the incident; released ends the leg with its cause. */
static void radio_act(struct gw_fsm_inst *fi, int ev, const void *data)
{
	if (ev == RADIO_EV_RELEASED) {
		gw_fsm_term(fi, *(const int *)data);
		return;
	}
	gw_fsm_state_chg(fi, RADIO_ST_CONNECTED);
	gw_fsm_dispatch(fi->parent, GW_CALL_EV_RADIO_CONNECTED, NULL);
}

/* Phone: progress goes to the incident; the end ends the leg with the modem's reason. */
static void phone_act(struct gw_fsm_inst *fi, int ev, const void *data)
{
	if (ev == PHONE_EV_ENDED) {
		gw_fsm_term(fi, *(const int *)data);
		return;
	}
	int answered = ev == PHONE_EV_ANSWERED;
	gw_fsm_state_chg(fi, answered ? PHONE_ST_ANSWERED : PHONE_ST_ALERTING);
	gw_fsm_dispatch(fi->parent,
			answered ? GW_CALL_EV_PHONE_ANSWERED : GW_CALL_EV_PHONE_ALERTING, NULL);
}

#define RB(e) GW_FSM_EV_BIT(RADIO_EV_##e)
#define PB(e) GW_FSM_EV_BIT(PHONE_EV_##e)

static const struct gw_fsm_state radio_states[RADIO_ST_COUNT] = {
    [RADIO_ST_RINGING] = {.name = "RINGING",
			  .in_events = RB(CONNECTED) | RB(RELEASED),
			  .out_states = GW_FSM_ST_BIT(RADIO_ST_CONNECTED),
			  .timer = GW_FSM_NO_TIMER,
			  .action = radio_act},
    [RADIO_ST_CONNECTED] = {.name = "CONNECTED",
			    .in_events = RB(CONNECTED) | RB(RELEASED),
			    .out_states = GW_FSM_ST_BIT(RADIO_ST_CONNECTED),
			    .timer = GW_FSM_NO_TIMER,
			    .action = radio_act},
};

static const char *const radio_events[RADIO_EV_COUNT] = {
    [RADIO_EV_CONNECTED] = "CONNECTED",
    [RADIO_EV_RELEASED] = "RELEASED",
};

const struct gw_fsm call_radio_fsm = {
    .name = "radio",
    .states = radio_states,
    .nstates = RADIO_ST_COUNT,
    .event_names = radio_events,
    .nevents = RADIO_EV_COUNT,
    .log_cat = GW_LOG_CALL,
};

static const struct gw_fsm_state phone_states[PHONE_ST_COUNT] = {
    [PHONE_ST_DIALLING] = {.name = "DIALLING",
			   .in_events = PB(ALERTING) | PB(ANSWERED) | PB(ENDED),
			   .out_states =
			       GW_FSM_ST_BIT(PHONE_ST_ALERTING) | GW_FSM_ST_BIT(PHONE_ST_ANSWERED),
			   .timer = GW_FSM_NO_TIMER,
			   .action = phone_act},
    [PHONE_ST_ALERTING] = {.name = "ALERTING",
			   .in_events = PB(ALERTING) | PB(ANSWERED) | PB(ENDED),
			   .out_states =
			       GW_FSM_ST_BIT(PHONE_ST_ALERTING) | GW_FSM_ST_BIT(PHONE_ST_ANSWERED),
			   .timer = GW_FSM_NO_TIMER,
			   .action = phone_act},
    [PHONE_ST_ANSWERED] = {.name = "ANSWERED",
			   .in_events = PB(ENDED),
			   .timer = GW_FSM_NO_TIMER,
			   .action = phone_act},
};

static const char *const phone_events[PHONE_EV_COUNT] = {
    [PHONE_EV_ALERTING] = "ALERTING",
    [PHONE_EV_ANSWERED] = "ANSWERED",
    [PHONE_EV_ENDED] = "ENDED",
};

const struct gw_fsm call_phone_fsm = {
    .name = "phone",
    .states = phone_states,
    .nstates = PHONE_ST_COUNT,
    .event_names = phone_events,
    .nevents = PHONE_EV_COUNT,
    .log_cat = GW_LOG_CALL,
};

/* The radio leg of the new incident c (in NEW): the officer's call cci is ringing. */
void call_radio_leg_start(struct gw_call *c, int cci, int simplex)
{
	char id[16];
	(void)gw_text_int(id, sizeof(id), NULL, cci); /* no snprintf before the ATD */
	c->radio.cci = cci;
	c->radio.simplex = simplex;
	gw_fsm_inst_init(&c->radio.fi, &call_radio_fsm, c->mgr->loop, c, id, RADIO_ST_RINGING);
	gw_fsm_inst_adopt(&c->fi, &c->radio.fi, GW_CALL_EV_RADIO_RELEASED);
}

/* The live incident's radio leg when it is the officer's call cci, else NULL. */
struct radio_leg *call_radio_leg_of(struct gw_calls *m, int cci)
{
	if (!m->live || !call_leg_live(&m->live->radio.fi) || m->live->radio.cci != cci)
		return NULL;
	return &m->live->radio;
}

void call_radio_answer(struct gw_call *c)
{
	c->mgr->ops.radio_answer(c->mgr->ops.arg, c->radio.cci);
}

/* Release the officer's call (the incident closes next: the leg ends with it). */
void call_radio_hangup(struct gw_call *c)
{
	c->mgr->ops.radio_hangup(c->mgr->ops.arg, c->radio.cci);
}

/* Dial number: a new phone leg, adopted. Returns 0, or the modem's negative errno. */
static int phone_leg_dial(struct gw_call *c, const char *number)
{
	struct gw_calls *m = c->mgr;
	assert(!call_leg_live(&c->phone.fi)); /* every path hangs up before it dials again */
	int rc = m->ops.phone_dial(m->ops.arg, number);
	if (rc < 0)
		return rc;
	gw_fsm_inst_init(&c->phone.fi, &call_phone_fsm, m->loop, c, number, PHONE_ST_DIALLING);
	gw_fsm_inst_adopt(&c->fi, &c->phone.fi, GW_CALL_EV_PHONE_ENDED);
	return 0;
}

/* Hang up the worker's call: its leg ends as our own hang-up (no news to the incident). */
void call_phone_hangup(struct gw_call *c)
{
	c->mgr->ops.phone_hangup(c->mgr->ops.arg);
	if (call_leg_live(&c->phone.fi))
		gw_fsm_term(&c->phone.fi, GW_MODEM_END_LOCAL);
}

void call_close_incident(struct gw_call *c, const char *outcome, int cause, const char *accepted_by)
{
	struct gw_calls *m = c->mgr;
	char dur[32];
	call_fmt_duration(gw_loop_now_ms(m->loop) - c->started_mono, dur, sizeof(dur));
	if (call_set_state(c, GW_CALL_ST_CLOSED) < 0)
		return;
	call_codes_spend(c);
	/* Committed first, reported after: whoever reads the log line finds the row. */
	if (m->db && c->id) {
		int rc = gw_db_incident_close(m->db, c->id, gw_loop_wall_ms(m->loop), outcome,
					      cause, accepted_by);
		if (rc < 0)
			LOGCALL(c, GW_LOG_ERROR, "call log close failed: %s", strerror(-rc));
	}
	LOGCALL(c, GW_LOG_NOTICE, "incident closed: %s, duration %s", outcome, dur);
	if (gw_event_on()) {
		struct gw_event e;
		gw_event_begin(&e, "incident_end");
		gw_event_int(&e, "call", c->id);
		gw_event_int(&e, "seq", c->seq);
		gw_event_str(&e, "outcome", outcome);
		gw_event_int(&e, "cause", cause);
		gw_event_str(&e, "accepted_by", accepted_by);
		gw_event_int(&e, "duration_ms", gw_loop_now_ms(m->loop) - c->started_mono);
		gw_event_emit(&e);
	}
	gw_fsm_term(&c->fi, cause); /* its legs end with it, unreported; then call_closed() */
}

/* cleanup of the incident: the slot is free for the next one. */
void call_closed(struct gw_fsm_inst *fi, int cause)
{
	(void)cause;
	struct gw_call *c = fi->priv;
	gw_timer_cancel(c->mgr->loop, &c->rest);
	c->mgr->live = NULL;
	c->mgr->closed_mono = gw_loop_now_ms(c->mgr->loop);
}

/* Dial the current chain step. Returns 0, or negative errno when the modem refused. */
int call_page_step(struct gw_call *c)
{
	struct gw_calls *m = c->mgr;
	const struct step *s = &c->chain[c->step];
	c->page_mono = gw_loop_now_ms(m->loop);
	c->pre_accepted = c->sms_accepted == c->step; /* "call me": bridge on answer */
	if (c->step > c->paged_upto)
		c->paged_upto = c->step;
	int rc = phone_leg_dial(c, s->phone);
	if (rc < 0) {
		LOGCALL(c, GW_LOG_ERROR, "cannot dial %s %s: %s", s->name, s->phone, strerror(-rc));
		return rc;
	}
	return 0;
}

/* The caller as people read it: "Poliisi, Mikkeli (2269001)" or just the number. */
void call_caller_text(const struct gw_call *c, char *buf, size_t len)
{
	if (c->caller_name[0])
		snprintf(buf, len, "%s (%s)", c->caller_name, c->caller);
	else
		snprintf(buf, len, "%s", c->caller);
}

const char *calls_worker_lang(const struct gw_calls *m, const char *phone)
{
	const char *lang = m->roster && phone ? gw_roster_worker_lang(m->roster, phone) : NULL;
	return gw_msg_lang(lang && *lang ? lang : m->conf->prompt_language);
}

const char *call_worker_lang(const struct gw_call *c, const char *phone)
{
	return calls_worker_lang(c->mgr, phone);
}

const char *call_line_text_in(const struct gw_call *c, const char *lang)
{
	lang = gw_msg_lang(lang);
	if (strcmp(lang, "sv") == 0 && c->line_name_sv[0])
		return c->line_name_sv;
	if (strcmp(lang, "en") == 0 && c->line_name[0])
		return c->line_name;
	return call_line_text(c);
}

const char *call_line_text(const struct gw_call *c)
{
	return c->line_name_fi[0] ? c->line_name_fi : c->line[0] ? c->line : "?";
}

/* SMS to a worker; logged, never blocking: the modem queues it behind call handling. */
void call_send_sms(struct gw_call *c, const struct step *s, const char *kind, const char *text)
{
	struct gw_calls *m = c->mgr;
	if (!m->ops.phone_sms)
		return;
	int rc = m->ops.phone_sms(m->ops.arg, s->phone, text);
	if (rc < 0)
		LOGCALL(c, GW_LOG_WARN, "%s SMS to %s not sent: %s", kind, s->name, strerror(-rc));
	call_log_event(c, rc < 0 ? "sms_failed" : "sms", "%s %s %s", kind, s->handle, s->phone);
}

/* SDS to the officer who called. */
void call_tell_officer(struct gw_call *c, const char *kind, const char *text)
{
	struct gw_calls *m = c->mgr;
	if (!m->conf->sds_notify || !m->ops.radio_sds)
		return;
	int rc = m->ops.radio_sds(m->ops.arg, c->caller, text);
	if (rc < 0)
		LOGCALL(c, GW_LOG_WARN, "SDS to the officer not sent: %s", strerror(-rc));
	else
		LOGCALL(c, GW_LOG_NOTICE, "officer told by SDS: %s", text);
	call_log_event(c, rc < 0 ? "sds_failed" : "sds", "%s %s", kind, c->caller);
}
