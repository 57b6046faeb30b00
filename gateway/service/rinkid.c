/*
 * rinkid: the wiring. gw_rinkid_new() builds the modules in order and gw_rinkid_free()
 * frees them in reverse; the short functions between route driver events to the service
 * modules (incident, call-back, relay, monitor, voice, status) and the modules' actions
 * to the drivers, so drivers never call each other and no policy lives here: what is
 * heard is service/callvoice, what is shown service/status, the periodic upkeep
 * service/housekeeping. The control socket's operations and the page-test are here too.
 */
#include "service/rinkid.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board/io.h"
#include "core/event.h"
#include "core/log.h"
#include "core/priv.h"
#include "ctl/ctl.h"
#include "service/admin.h"
#include "phone/modem.h"
#include "radio/pei.h"
#include "service/call.h"
#include "service/callback.h"
#include "service/callvoice.h"
#include "service/housekeeping.h"
#include "service/monitor.h"
#include "service/pager.h"
#include "service/preflight.h"
#include "service/relay.h"
#include "service/status.h"
#include "store/db.h"
#include "store/roster.h"
#include "voice/dtmf.h"

struct gw_rinkid {
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_rinkid_opts opts;
	struct gw_status *status;
	struct gw_ctl *ctl;
	struct gw_admin *admin; /* changes asked over ctl */
	struct gw_db *db;
	struct gw_housekeeping *hk; /* owns the roster snapshot */
	struct gw_calls *calls;
	struct gw_callback *callback; /* worker call-backs to an officer's radio */
	struct gw_relay *relay;
	struct gw_callvoice *voice;
	struct gw_io *io;
	struct gw_monitor *monitor;
	struct gw_pei *pei;
	struct gw_modem *modem;
	struct gw_ctl_counters counters;
	bool page_test;		/* the modem's call is a page-test */
	struct gw_pager *pager; /* first pages written ahead of the incident (issue #13) */
	bool radio_ready, modem_ready;
	int ahead_cci;	       /* the +CTICN whose page went ahead; -1: none */
	int64_t ahead_wall_ms; /* when its page was looked up: the incident's start */
	bool db_standin;       /* started on a stand-in for the database: no writer thread yet */
	struct gw_timer page_test_end;
};

/* ---- the event stream (core/event.h) ------------------------------------------------ */

/* A device came up or went away (why, when the driver says: "port lost"): a "device" line. */
static void emit_device(const char *name, bool up, const char *why)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "device");
	gw_event_str(&e, "device", name);
	gw_event_bool(&e, "up", up);
	if (!up && why)
		gw_event_str(&e, "reason", why);
	gw_event_emit(&e);
}

/* A text message in or out (type sds_in, sds_out, sms_in, sms_out): who and how it went,
   never the text itself (it stays in the call log); status >= 0: a status SDS's code.
   rc < 0: a send refused. */
static void emit_msg(const char *type, const char *peer_key, const char *peer, const char *kind,
		     int status, int rc)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, type);
	gw_event_str(&e, peer_key, peer);
	if (kind)
		gw_event_str(&e, "kind", kind);
	if (status >= 0)
		gw_event_int(&e, "status", status);
	if (rc < 0)
		gw_event_str(&e, "error", strerror(-rc));
	gw_event_bool(&e, "ok", rc >= 0);
	gw_event_emit(&e);
}

/* A radio call as the terminal reports it (incoming, connected, released): a "radio_call"
   line, before the service modules hear of it. */
static void emit_radio_call(const char *what, int cci, const char *caller, int cause)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "radio_call");
	gw_event_str(&e, "event", what);
	gw_event_int(&e, "cci", cci);
	if (caller)
		gw_event_str(&e, "caller", caller);
	if (cause >= 0)
		gw_event_int(&e, "cause", cause);
	gw_event_emit(&e);
}

/* ---- radio -> call ------------------------------------------------------------------- */

/* The live incident's service line for journald's RINKI_LINE field (kept after it closes,
   so its last lines have it too). */
static void call_log_context(struct gw_rinkid *d)
{
	const char *line = gw_calls_line(d->calls);
	if (line && *line)
		gw_log_set_call_line(gw_calls_last_id(d->calls), line);
}

static void pei_ready(void *arg, int up)
{
	struct gw_rinkid *d = arg;
	d->radio_ready = up;
	if (up)
		gw_pager_kick(d->pager);
	gw_status_device(d->status, "radio", up);
	gw_calls_radio_link(d->calls, up);
	emit_device("radio", up, gw_pei_down_reason(d->pei)); /* after the incident's log */
}
/*
 * A +CTICN before the radio's bytes are handled: when its caller has an entry in the
 * pager's table for this second, the ATD goes now, and the incident started for it in
 * pei_incoming (started at this time) adopts it. Only calls the incident pages and no
 * monitor claims (individual speech: service 0, point-to-point).
 */
static bool pei_early(void *arg, const struct gw_pei_call_in *in)
{
	struct gw_rinkid *d = arg;
	if (in->ai_service != 0 || in->comms_type > 0)
		return false;
	int64_t now = gw_loop_wall_ms(d->loop);
	const char *phone = gw_pager_lookup(d->pager, in->calling, now);
	if (!phone || gw_modem_dial_ahead(d->modem, phone) < 0)
		return false;
	d->ahead_cci = in->cci;
	d->ahead_wall_ms = now;
	return true;
}
/* A page may start: both devices ready, no page test (the pager checks the incidents). */
static bool pager_ready(void *arg)
{
	struct gw_rinkid *d = arg;
	return d->radio_ready && d->modem_ready && !d->page_test;
}
static void pei_incoming(void *arg, const struct gw_pei_call_in *in)
{
	struct gw_rinkid *d = arg;
	bool ahead = d->ahead_cci == in->cci;
	d->ahead_cci = -1;
	if (gw_monitor_incoming(d->monitor, in)) {
		emit_radio_call("incoming", in->cci, in->calling, -1);
		return; /* a monitored talkgroup: logged, never paged */
	}
	d->counters.incidents++;
	if (d->page_test) /* an authority call wins over a test */
		gw_modem_hangup(d->modem);
	/* for the metrics: what gw_calls_radio_incoming() will do with it (an individual
	   speech call pages, unless an incident or a call-back is live: busy; the live
	   incident's own call identifier offered again ends that incident first) */
	bool speech = in->ai_service == 0 && in->comms_type != 1;
	bool live = gw_calls_state(d->calls) != GW_CALL_ST_CLOSED &&
		    gw_calls_radio_cci(d->calls) != in->cci;
	if (speech && (live || gw_callback_live(d->callback)))
		gw_status_busy(d->status);
	else if (speech)
		gw_status_page_start(d->status);
	unsigned adopted = gw_modem_ahead_adopted(d->modem), wrong = gw_modem_ahead_wrong(d->modem);
	gw_calls_radio_incoming_at(d->calls, in,
				   ahead ? d->ahead_wall_ms : gw_loop_wall_ms(d->loop));
	if (ahead)
		gw_status_page_ahead(d->status, gw_modem_ahead_adopted(d->modem) != adopted,
				     gw_modem_ahead_wrong(d->modem) != wrong);
	/* reported once the page is queued first: its formatting and write never delay the ATD,
	   so when the modem's line was free the stream shows page_sent before the radio_call it
	   answers (issue #13); a command in flight holds the ATD until its answer (issue #12) */
	emit_radio_call("incoming", in->cci, in->calling, -1);
	call_log_context(d);
}
static void pei_connected(void *arg, int cci)
{
	struct gw_rinkid *d = arg;
	emit_radio_call("connected", cci, NULL, -1);
	if (gw_monitor_owns(d->monitor, cci))
		return;
	gw_calls_radio_connected(d->calls, cci);
	gw_callvoice_radio_connected(d->voice);
}
static void pei_released(void *arg, int cci, int cause)
{
	struct gw_rinkid *d = arg;
	emit_radio_call("released", cci, NULL, cause);
	gw_callvoice_radio_released(d->voice, cci);
	if (!gw_monitor_released(d->monitor, cci, cause))
		gw_calls_radio_released(d->calls, cci, cause);
}
/* A radio call left up by an earlier run (found after the init, being released): logged. */
static void pei_orphan(void *arg, int cci)
{
	struct gw_rinkid *d = arg;
	char detail[96];
	snprintf(detail, sizeof(detail),
		 "call %d up at the terminal with nobody behind it at start: released", cci);
	int rc = gw_db_system_event_append(d->db, gw_loop_wall_ms(d->loop), "radio_orphan", detail);
	if (rc < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "system event not logged (%s): radio_orphan %s",
		     strerror(-rc), detail);
}
static void pei_dial_state(void *arg, int handle, int cci, enum gw_pei_dial_state st, int cause)
{
	gw_callback_dial_state(((struct gw_rinkid *)arg)->callback, handle, cci, st, cause);
}
static void pei_floor(void *arg, int cci, enum gw_pei_floor ev, const char *talker)
{
	struct gw_rinkid *d = arg;
	if (!gw_monitor_floor(d->monitor, cci, ev, talker))
		gw_callvoice_floor(d->voice, cci, ev, talker);
}

/* A status SDS: logged; relayed to the on-duty worker when a route names its code. */
static void sds_status_in(struct gw_rinkid *d, const char *from, int code)
{
	const char *meaning = gw_conf_status_text(&d->conf, code) ?: gw_sds_status_name(code);
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "status 0x%04x (%s) from %s", code, meaning, from);
	if (*from)
		gw_relay_officer_status(d->relay, from, code, meaning);
}

static void pei_sds_in(void *arg, const char *from, const struct gw_sds_msg *m)
{
	struct gw_rinkid *d = arg;
	emit_msg("sds_in", "from", from,
		 m->kind == GW_SDS_TEXT	    ? "text"
		 : m->kind == GW_SDS_STATUS ? "status"
		 : m->kind == GW_SDS_LIP    ? "location"
					    : "other",
		 m->kind == GW_SDS_STATUS ? m->status.value : -1, 0);
	if (m->kind == GW_SDS_TEXT && *from)
		gw_relay_officer_text(d->relay, from, m->text.text);
	else if (m->kind == GW_SDS_STATUS)
		sds_status_in(d, from, m->status.value);
	else if (m->kind == GW_SDS_LIP)
		LOGP(GW_LOG_RADIO, GW_LOG_INFO, "location of %s: %.5f %.5f", from, m->lip.lat_deg,
		     m->lip.lon_deg);
}

/* ---- modem -> call ------------------------------------------------------------------- */

static void modem_ready(void *arg, int up)
{
	((struct gw_rinkid *)arg)->modem_ready = up;
	if (up)
		gw_pager_kick(((struct gw_rinkid *)arg)->pager);
	emit_device("modem", up, gw_modem_down_reason(((struct gw_rinkid *)arg)->modem));
	gw_status_device(((struct gw_rinkid *)arg)->status, "modem", up);
}
static void modem_progress(void *arg, enum gw_modem_call_state st)
{
	struct gw_rinkid *d = arg;
	if (d->page_test) {
		LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "page-test: call %s",
		     st == GW_MODEM_CALL_ACTIVE ? "answered" : "ringing");
		return;
	}
	gw_calls_phone_progress(d->calls, st);
}
static void modem_ended(void *arg, enum gw_modem_end why)
{
	struct gw_rinkid *d = arg;
	if (d->page_test) {
		LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "page-test: call ended (%s)",
		     gw_modem_end_name(why));
		d->page_test = false;
		gw_timer_cancel(d->loop, &d->page_test_end);
		gw_pager_kick(d->pager);
		return;
	}
	gw_calls_phone_ended(d->calls, why);
}
/* An ATD left for the port: a page of an authority call unless a page-test is on. */
static void modem_dial_sent(void *arg)
{
	struct gw_rinkid *d = arg;
	if (gw_event_on()) {
		struct gw_event e;
		gw_event_begin(&e, "page_sent");
		gw_event_bool(&e, "page_test", d->page_test);
		gw_event_emit(&e);
	}
	if (!d->page_test)
		gw_status_page_dialled(d->status);
}
/* Modem bytes while a page's ATD went ahead: the held +CTICN first, so its incident adopts
   the ATD before the modem's answer to it is handled. */
static void modem_ahead_pending(void *arg)
{
	gw_pei_feed_held(((struct gw_rinkid *)arg)->pei);
}
/* The modem answered the ATD: the incident's start goes on (a page-test has none). */
static void modem_dial_acked(void *arg)
{
	gw_calls_phone_dial_acked(((struct gw_rinkid *)arg)->calls);
}
static void modem_dtmf(void *arg, char digit)
{
	gw_calls_phone_key(((struct gw_rinkid *)arg)->calls, digit, GW_DTMF_SRC_MODEM);
}
static void modem_cause(void *arg, const char *number, const char *text)
{
	gw_calls_phone_cause(((struct gw_rinkid *)arg)->calls, number, text);
}
static void modem_incoming(void *arg, const char *number)
{
	gw_calls_phone_incoming(((struct gw_rinkid *)arg)->calls, number);
}
static void modem_sms_in(void *arg, const char *from, const char *text, int64_t sent_ms)
{
	(void)sent_ms;
	struct gw_rinkid *d = arg;
	emit_msg("sms_in", "from", from, NULL, -1, 0);
	/* an accept code for the live authority call first, else a reply to a thread */
	if (!gw_calls_phone_sms(d->calls, from, text))
		gw_relay_worker_text(d->relay, from, text);
}

/* ---- I/O board ----------------------------------------------------------------------- */

static void io_ready(void *arg, int up)
{
	struct gw_rinkid *d = arg;
	struct gw_io_status st;
	gw_io_status(d->io, &st);
	gw_status_board(d->status, up, &st);
	emit_device("board", up, NULL); /* after the call-log event status wrote of it */
}
static void io_squelch(void *arg, bool open)
{
	(void)arg;
	LOGP(GW_LOG_MAIN, GW_LOG_DEBUG, "radio squelch %s", open ? "open" : "closed");
}
static int status_led(void *arg, enum gw_io_led which, enum gw_io_led_pattern p)
{
	struct gw_rinkid *d = arg;
	return d->io ? gw_io_set_led(d->io, which, p) : -ENODEV;
}

/* ---- call and call-back -> drivers, voice and status --------------------------------- */

static int op_radio_answer(void *arg, int cci)
{
	return gw_pei_answer(((struct gw_rinkid *)arg)->pei, cci);
}
static int op_radio_hangup(void *arg, int cci)
{
	return gw_callvoice_radio_hangup(((struct gw_rinkid *)arg)->voice, cci);
}
static int op_radio_unreached(void *arg, int cci)
{
	return gw_callvoice_unreached(((struct gw_rinkid *)arg)->voice, cci);
}
static int op_phone_dial(void *arg, const char *number)
{
	return gw_modem_dial(((struct gw_rinkid *)arg)->modem, number);
}
static int op_phone_hangup(void *arg)
{
	return gw_modem_hangup(((struct gw_rinkid *)arg)->modem);
}
static int op_phone_reject(void *arg)
{
	return gw_modem_reject(((struct gw_rinkid *)arg)->modem);
}
static int op_phone_sms(void *arg, const char *number, const char *text)
{
	int rc = gw_modem_send_sms(((struct gw_rinkid *)arg)->modem, number, text, NULL, NULL);
	emit_msg("sms_out", "to", number, NULL, -1, rc);
	return rc < 0 ? rc : 0;
}
static int op_radio_sds(void *arg, const char *issi, const char *text)
{
	int rc = gw_pei_send_sds(((struct gw_rinkid *)arg)->pei, issi, text);
	emit_msg("sds_out", "to", issi, NULL, -1, rc);
	return rc < 0 ? rc : 0;
}
static void call_state(void *arg, enum gw_call_state st)
{
	struct gw_rinkid *d = arg;
	gw_callvoice_call_state(d->voice, st);
	gw_status_on_call(d->status, st, gw_callback_state(d->callback));
	gw_status_call_state(d->status, st);
	call_log_context(d);
	if (st == GW_CALL_ST_CLOSED)
		gw_pager_kick(d->pager);
}
static void call_announce(void *arg, const char *org)
{
	gw_callvoice_announce(((struct gw_rinkid *)arg)->voice, org);
}

static int cb_phone_answer(void *arg)
{
	return gw_modem_answer(((struct gw_rinkid *)arg)->modem);
}
static void cb_play(void *arg, const int16_t *pcm, size_t n)
{
	gw_callvoice_cb_play(((struct gw_rinkid *)arg)->voice, pcm, n);
}
static int cb_radio_dial(void *arg, const char *issi, bool simplex)
{
	return gw_pei_dial(((struct gw_rinkid *)arg)->pei, issi, simplex);
}
static void cb_bridge(void *arg, int on)
{
	gw_callvoice_cb_bridge(((struct gw_rinkid *)arg)->voice, on);
}
static void cb_state(void *arg, enum gw_cb_state st)
{
	struct gw_rinkid *d = arg;
	gw_status_on_call(d->status, gw_calls_state(d->calls), st);
	gw_status_update(d->status);
	gw_callvoice_cb_state(d->voice, st);
	if (st == GW_CB_ST_IDLE)
		gw_pager_kick(d->pager);
}

/* voice -> radio */
static int voice_radio_hangup(void *arg, int cci)
{
	return gw_pei_hangup(((struct gw_rinkid *)arg)->pei, cci);
}
static int voice_tx_request(void *arg, int cci)
{
	return gw_pei_tx_request(((struct gw_rinkid *)arg)->pei, cci);
}
static int voice_tx_cease(void *arg, int cci)
{
	return gw_pei_tx_cease(((struct gw_rinkid *)arg)->pei, cci);
}

/* relay -> drivers */
static int relay_sms(void *arg, const char *number, const char *text)
{
	return op_phone_sms(arg, number, text);
}
/* A send the modem took but could not finish (a stall, a network error) is retried too. */
static int relay_sms_async(void *arg, const char *number, const char *text, gw_relay_done_fn done,
			   void *done_arg)
{
	int rc = gw_modem_send_sms(((struct gw_rinkid *)arg)->modem, number, text, done, done_arg);
	emit_msg("sms_out", "to", number, NULL, -1, rc);
	return rc < 0 ? rc : 0;
}
static int relay_sds(void *arg, const char *issi, const char *text)
{
	return op_radio_sds(arg, issi, text);
}

/* housekeeping -> modules */
/* A preflight finding about the roster, counted (housekeeping logs them). */
static void count_gap(enum gw_preflight_level level, const char *key, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	if (strcmp(key, "roster") == 0)
		(*(int *)arg)++;
}
/* The lines of roster r with nobody on duty in the next 14 days, for the metrics. */
static void roster_gaps(struct gw_rinkid *d, const struct gw_roster *r)
{
	int n = 0;
	gw_preflight_roster(r, gw_loop_wall_ms(d->loop), GW_PREFLIGHT_ROSTER_DAYS, count_gap, &n);
	gw_status_roster_gaps(d->status, n);
}

/* A roster read from the database: its copy for a start without one (not on a stand-in). */
static void save_copy(struct gw_rinkid *d)
{
	if (!gw_db_problem(d->db))
		gw_db_copy_save(d->db);
}
static void hk_roster(void *arg, struct gw_roster *r)
{
	struct gw_rinkid *d = arg;
	save_copy(d);
	if (d->conf.metrics_file[0])
		roster_gaps(d, r);
	gw_status_roster_source(d->status, gw_roster_source(r)->version,
				gw_roster_source(r)->made_ms);
	gw_calls_set_roster(d->calls, r);
	gw_callback_set_roster(d->callback, r);
	gw_relay_set_roster(d->relay, r);
	gw_callvoice_set_roster(d->voice, r);
	gw_pager_kick(d->pager);
}
static void hk_tick(void *arg)
{
	struct gw_rinkid *d = arg;
	/* the database is back (replayed by this check or an earlier one): commits leave the
	   loop again */
	if (d->db_standin && !gw_db_problem(d->db)) {
		d->db_standin = false;
		if (gw_db_writer_start(d->db) == 0)
			LOGP(GW_LOG_DB, GW_LOG_NOTICE,
			     "the database is back: call-log commits leave the loop again");
	}
	gw_status_update(d->status);
}

/* ---- control socket -> gateway ------------------------------------------------------- */

static int ctl_status(void *arg, struct gw_ctl_status *st)
{
	struct gw_rinkid *d = arg;
	snprintf(st->version, sizeof(st->version), "%s", GW_RINKID_VERSION);
	st->uptime_s = gw_status_uptime_s(d->status);
	gw_pei_health(d->pei, &st->radio);
	gw_modem_health(d->modem, &st->modem);
	st->io_present = d->io != NULL;
	if (d->io)
		gw_io_status(d->io, &st->io);
	st->call.state = gw_calls_state(d->calls);
	st->call.live = st->call.state != GW_CALL_ST_CLOSED;
	st->call.id = gw_calls_last_id(d->calls);
	st->callback.live = gw_callback_live(d->callback);
	st->callback.id = gw_callback_id(d->callback);
	st->callback.state = gw_callback_state(d->callback);
	snprintf(st->callback.worker, sizeof(st->callback.worker), "%s",
		 gw_callback_worker(d->callback));
	st->db.spooling = gw_db_spool_pending(d->db);
	snprintf(st->db.problem, sizeof(st->db.problem), "%s", gw_db_problem(d->db) ?: "");
	st->counters = d->counters;
	struct gw_status_metrics mt;
	gw_status_metrics_get(d->status, &mt);
	st->roster.county_version = mt.roster_version;
	st->roster.made_ms = mt.roster_made_ms;
	return 0;
}
static void on_page_test_end(struct gw_loop *loop, void *arg)
{
	struct gw_rinkid *d = arg;
	(void)loop;
	if (d->page_test)
		gw_modem_hangup(d->modem);
}
static int ctl_page_test(void *arg, const char *number)
{
	struct gw_rinkid *d = arg;
	gw_pei_feed_held(d->pei); /* an authority call whose page went ahead comes first */
	if (d->page_test || gw_calls_state(d->calls) != GW_CALL_ST_CLOSED)
		return -EBUSY;
	d->page_test = true; /* before: the ATD may leave within gw_modem_dial() */
	int rc = gw_modem_dial(d->modem, number);
	if (rc < 0) {
		d->page_test = false;
		return rc;
	}
	d->counters.pages++;
	gw_timer_schedule(d->loop, &d->page_test_end, (int64_t)d->conf.ring_time_s * 1000);
	return 0;
}
static int ctl_sds_send(void *arg, const char *issi, const char *text)
{
	struct gw_rinkid *d = arg;
	int rc = gw_pei_send_sds(d->pei, issi, text);
	emit_msg("sds_out", "to", issi, "ctl", -1, rc);
	if (rc > 0)
		d->counters.sds_out++;
	return rc;
}

/* An administrator's page-test or sds-send, with who asked: a system event in the call log. */
static void ctl_audit(void *arg, const char *kind, const char *detail)
{
	struct gw_rinkid *d = arg;
	int rc = gw_db_system_event_append(d->db, gw_loop_wall_ms(d->loop), kind, detail);
	if (rc < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "system event not logged (%s): %s %s", strerror(-rc),
		     kind, detail);
}

static int ctl_override_add(void *arg, const struct gw_db_override *o, const char *reason,
			    const char *who, int64_t *id)
{
	struct gw_rinkid *d = arg;
	return d->admin ? gw_admin_override_add(d->admin, o, reason, who, id) : -ENOTCONN;
}
static int ctl_override_del(void *arg, int64_t id, const char *who)
{
	struct gw_rinkid *d = arg;
	return d->admin ? gw_admin_override_del(d->admin, id, who) : -ENOTCONN;
}
static int ctl_worker_set(void *arg, const char *worker, int active, bool pin_reset,
			  const char *pin, const char *phone, const char *lang, const char *who)
{
	struct gw_rinkid *d = arg;
	return d->admin
		   ? gw_admin_worker_set(d->admin, worker, active, pin_reset, pin, phone, lang, who)
		   : -ENOTCONN;
}
static int ctl_roster_import(void *arg, int fd, bool apply, bool replace, const char *who,
			     uint64_t ticket)
{
	struct gw_rinkid *d = arg;
	if (!d->admin) {
		close(fd);
		return -ENOTCONN;
	}
	return gw_admin_roster_import(d->admin, fd, apply, replace, who, ticket);
}
static int ctl_worker_add(void *arg, const struct gw_db_worker *w, const char *who)
{
	struct gw_rinkid *d = arg;
	return d->admin ? gw_admin_worker_add(d->admin, w, who) : -ENOTCONN;
}
static int ctl_directory_import(void *arg, int fd, const char *who, uint64_t ticket)
{
	struct gw_rinkid *d = arg;
	if (!d->admin) {
		close(fd);
		return -ENOTCONN;
	}
	return gw_admin_directory_import(d->admin, fd, who, ticket);
}
static void admin_import_done(void *arg, uint64_t ticket, const char *reply)
{
	struct gw_rinkid *d = arg;
	gw_ctl_finish(d->ctl, ticket, reply);
}

static void on_signal(struct gw_loop *loop, int signo, void *arg)
{
	struct gw_rinkid *d = arg;
	if (signo == SIGHUP) {
		gw_housekeeping_reload(d->hk);
		return;
	}
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "signal %d: stopping", signo);
	gw_loop_stop(loop);
}

/* ---- building and freeing ------------------------------------------------------------ */

/* The status and the control socket (as root, so it can get its group), the database. */
static int build_base(struct gw_rinkid *d)
{
	struct gw_status_ops sops = {.led = status_led, .arg = d};
	int rc = gw_status_new(d->loop, &d->conf, &sops, &d->status);
	if (rc < 0)
		return rc;
	struct gw_ctl_ops tops = {.status = ctl_status,
				  .page_test = ctl_page_test,
				  .sds_send = ctl_sds_send,
				  .audit = ctl_audit,
				  .override_add = ctl_override_add,
				  .override_del = ctl_override_del,
				  .worker_set = ctl_worker_set,
				  .roster_import = ctl_roster_import,
				  .worker_add = ctl_worker_add,
				  .directory_import = ctl_directory_import,
				  .arg = d};
	struct gw_ctl_conf tconf = {
	    .path = d->conf.ctl_socket,
	    .group = d->conf.ctl_group,
	    .admin_group = d->conf.ctl_admin_group,
	    .group_optional = strcmp(d->conf.ctl_group, GW_CONF_CTL_GROUP) == 0,
	    .admin_optional = strcmp(d->conf.ctl_admin_group, GW_CONF_CTL_ADMIN_GROUP) == 0};
	if ((rc = gw_ctl_new(&tops, &d->ctl)) < 0)
		return rc;
	/* Without the socket rinkictl status is blind, but paging goes on. */
	if (gw_ctl_listen(d->ctl, d->loop, &tconf) < 0)
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "no control socket at %s: running without it",
		     d->conf.ctl_socket);
	/* A database that cannot be used does not stop the paging: rinkid runs on a stand-in
	   (the roster copy) and spools the call log until the file works again. */
	if ((rc = gw_db_open_daemon(d->conf.db_path, d->conf.spool_path, &d->db)) < 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "cannot open the database %s", d->conf.db_path);
		return rc;
	}
	d->db_standin = gw_db_problem(d->db) != NULL;
	struct gw_admin_ops aops = {.import_done = admin_import_done, .arg = d};
	if ((rc = gw_admin_new(d->loop, d->db, d->conf.db_path, &aops, &d->admin)) < 0)
		return rc;
	int n = gw_db_mark_interrupted(d->db, gw_loop_wall_ms(d->loop));
	if (n > 0)
		LOGP(GW_LOG_MAIN, GW_LOG_WARN,
		     "%d incident(s) left open by an earlier run marked interrupted", n);
	struct gw_housekeeping_ops hops = {.roster = hk_roster, .tick = hk_tick, .arg = d};
	if ((rc = gw_housekeeping_new(d->loop, &d->conf, d->opts.conf_path, d->opts.debug, d->db,
				      &hops, &d->hk)) < 0)
		return rc;
	save_copy(d);
	if (gw_roster_line_count(gw_housekeeping_roster(d->hk)) == 0)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
		     "no roster: nobody can be paged; authority calls are still answered and "
		     "logged");
	return 0;
}

/* The incident and call-back machines, the text relay and the voice. */
static int build_services(struct gw_rinkid *d)
{
	struct gw_roster *roster = gw_housekeeping_roster(d->hk);
	struct gw_call_ops cops = {.radio_answer = op_radio_answer,
				   .radio_hangup = op_radio_hangup,
				   .radio_unreached = op_radio_unreached,
				   .phone_dial = op_phone_dial,
				   .phone_hangup = op_phone_hangup,
				   .phone_sms = op_phone_sms,
				   .phone_reject = op_phone_reject,
				   .radio_sds = op_radio_sds,
				   .state = call_state,
				   .announce = call_announce,
				   .arg = d};
	int rc = gw_calls_new(d->loop, &d->conf, d->db, &cops, &d->calls);
	if (rc < 0)
		return rc;
	gw_calls_set_roster(d->calls, roster);
	if (d->conf.metrics_file[0])
		roster_gaps(d, roster);
	gw_status_roster_source(d->status, gw_roster_source(roster)->version,
				gw_roster_source(roster)->made_ms);
	struct gw_callback_ops bops = {.phone_answer = cb_phone_answer,
				       .phone_hangup = op_phone_hangup,
				       .play = cb_play,
				       .radio_dial = cb_radio_dial,
				       .radio_hangup = op_radio_hangup,
				       .bridge = cb_bridge,
				       .state = cb_state,
				       .arg = d};
	if ((rc = gw_callback_new(d->loop, &d->conf, d->db, &bops, &d->callback)) < 0)
		return rc;
	gw_callback_set_roster(d->callback, roster);
	gw_calls_set_callback(d->calls, d->callback);
	gw_status_attach(d->status, d->db, d->calls, d->callback);
	struct gw_pager_ops paops = {.ready = pager_ready, .arg = d};
	if ((rc = gw_pager_new(d->loop, d->calls, &paops, &d->pager)) < 0)
		return rc;
	struct gw_relay_ops rops = {.send_sms = relay_sms,
				    .send_sms_async = relay_sms_async,
				    .send_sds = relay_sds,
				    .arg = d};
	if ((rc = gw_relay_new(d->loop, d->db, &rops, &d->relay)) < 0)
		return rc;
	gw_relay_set_roster(d->relay, roster);
	gw_relay_set_officer_lang(d->relay, d->conf.prompt_language);
	struct gw_callvoice_ops vops = {.radio_hangup = voice_radio_hangup,
					.tx_request = voice_tx_request,
					.tx_cease = voice_tx_cease,
					.arg = d};
	if ((rc = gw_callvoice_new(d->loop, &d->conf, d->db, d->calls, d->callback, &vops,
				   &d->voice)) < 0)
		return rc;
	gw_callvoice_set_roster(d->voice, roster);
	return 0;
}

/* The board first, so the drivers' first state already reaches its LEDs; then the
   talkgroup monitor, the radio and the modem. */
static int build_devices(struct gw_rinkid *d)
{
	struct gw_io_ops iops = {.ready = io_ready, .squelch = io_squelch, .arg = d};
	int rc;
	if (d->conf.io_port[0] && (rc = gw_io_new(d->loop, &d->conf, &iops, &d->io)) < 0)
		return rc;
	struct gw_pei_ops pops = {.ready = pei_ready,
				  .incoming = pei_incoming,
				  .connected = pei_connected,
				  .released = pei_released,
				  .sds_in = pei_sds_in,
				  .floor = pei_floor,
				  .dial_state = pei_dial_state,
				  .orphan = pei_orphan,
				  .early = pei_early,
				  .arg = d};
	if ((rc = gw_monitor_new(d->loop, &d->conf, d->db, &d->monitor)) < 0)
		return rc;
	if ((rc = gw_pei_new(d->loop, &d->conf, &pops, &d->pei)) < 0)
		return rc;
	struct gw_modem_ops mops = {.ready = modem_ready,
				    .progress = modem_progress,
				    .ended = modem_ended,
				    .dtmf = modem_dtmf,
				    .sms_in = modem_sms_in,
				    .incoming = modem_incoming,
				    .cause = modem_cause,
				    .dial_sent = modem_dial_sent,
				    .dial_acked = modem_dial_acked,
				    .ahead_pending = modem_ahead_pending,
				    .arg = d};
	return gw_modem_new(d->loop, &d->conf, &mops, &d->modem);
}

/* Real-time priority, root dropped, the signals the loop handles. */
static int build_process(struct gw_rinkid *d)
{
	/*
	 * Real-time priority for the one loop that pages and bridges: under the normal
	 * scheduler a woken rinkid that has done some work waits behind busier processes
	 * (page latency p50 2.4x a bare relay on an idle machine, 1.2x with SCHED_FIFO).
	 */
	if (d->conf.rt_priority > 0) {
		struct sched_param sp = {.sched_priority = d->conf.rt_priority};
		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "run.rt_priority %d: %s (running without)",
			     d->conf.rt_priority, strerror(errno));
	}
	/* ports, PCMs and the socket are open: root is no longer needed */
	int rc = gw_priv_drop(d->conf.run_user, d->opts.allow_root);
	if (rc < 0)
		return rc;
	/* The event stream is opened as run.user, so it is the daemon's file and a path the
	   daemon could not write cannot be reached through root. Without it rinkid runs on. */
	if (d->conf.events_file[0] && (rc = gw_event_open(d->conf.events_file, d->loop)) < 0)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "event stream %s: %s (running without it)",
		     d->conf.events_file, strerror(-rc));
	/* Call-log commits leave the loop; after the drop, so the queue file is the daemon's.
	   Without the thread (logged) they stay on the loop, as before. */
	gw_db_writer_start(d->db);
	/* The PIN pepper, made by the daemon's user on the first start: only it reads it.
	   Without it (logged) call-backs of workers with a peppered PIN are refused. */
	char pepper[GW_CONF_STR + 16];
	snprintf(pepper, sizeof(pepper), "%s.pepper", d->conf.db_path);
	if (gw_roster_pepper_load(pepper, true) < 0)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR,
		     "no PIN pepper at %s: peppered PINs cannot be checked", pepper);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return gw_loop_add_signals(d->loop, &set, on_signal, d);
}

int gw_rinkid_new(const struct gw_conf *conf, const struct gw_rinkid_opts *opts,
		  struct gw_rinkid **out)
{
	struct gw_rinkid *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->conf = *conf;
	d->opts = *opts;
	/* the roster's zone, once, before the roster is read (preflight said why not) */
	char why[384];
	if (gw_roster_set_timezone(conf->roster_timezone, why, sizeof(why)) < 0) {
		bool builtin = strcmp(conf->roster_timezone, "Europe/Helsinki") == 0;
		LOGP(GW_LOG_MAIN, builtin ? GW_LOG_WARN : GW_LOG_ERROR, "roster.timezone: %s%s",
		     why, builtin ? " (Helsinki by the built-in EU rule)" : "");
		if (!builtin) {
			free(d);
			return -EINVAL;
		}
	}
	d->loop = gw_loop_new();
	if (!d->loop) {
		free(d);
		return -ENOMEM;
	}
	gw_timer_init(&d->page_test_end, on_page_test_end, d);
	d->ahead_cci = -1;
	int rc = build_base(d);
	if (rc >= 0)
		rc = build_services(d);
	if (rc >= 0)
		rc = build_devices(d);
	if (rc >= 0)
		rc = build_process(d);
	if (rc < 0) {
		gw_rinkid_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int gw_rinkid_run(struct gw_rinkid *d)
{
	gw_housekeeping_start(d->hk);
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "rinkid %s running: radio %s, modem %s, database %s",
	     GW_RINKID_VERSION, d->conf.radio_port, d->conf.modem_port, d->conf.db_path);
	gw_status_ready(d->status);
	gw_status_metrics_start(d->status);
	gw_loop_run(d->loop);
	gw_status_stopping(d->status);
	/* Leave no radio call up: ATH for live calls, waiting at most 2 s for the answer. */
	if (gw_pei_shutdown(d->pei) > 0)
		for (int i = 0; i < 200 && gw_pei_pending(d->pei) > 0; i++)
			gw_loop_run_once(d->loop, 10);
	return 0;
}

void gw_rinkid_free(struct gw_rinkid *d)
{
	if (!d)
		return;
	gw_timer_cancel(d->loop, &d->page_test_end);
	gw_admin_free(d->admin); /* before ctl: a finished import answers through it */
	gw_ctl_free(d->ctl);
	gw_callvoice_free(d->voice);
	gw_io_free(d->io);
	gw_relay_free(d->relay); /* before the modem: an SMS on its way is freed by its end */
	gw_modem_free(d->modem);
	gw_pei_free(d->pei);
	gw_status_free(d->status);
	gw_monitor_free(d->monitor);
	gw_callback_free(d->callback);
	gw_pager_free(d->pager);
	gw_calls_free(d->calls);
	gw_housekeeping_free(d->hk); /* the roster, after every module that borrowed it */
	gw_db_close(d->db);
	gw_event_close();
	gw_loop_free(d->loop);
	free(d);
}

struct gw_loop *gw_rinkid_loop(const struct gw_rinkid *d)
{
	return d->loop;
}
