/*
 * rinkid: parse arguments, initialise the modules in order, run the loop,
 * finalise in reverse. The few glue functions below only route driver events
 * to the call module and call-module actions to the drivers, so drivers never
 * call each other.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice/audio.h"
#include "voice/rec.h"
#include "voice/vad.h"
#include "service/call.h"
#include "service/callback.h"
#include "core/conf.h"
#include "ctl/ctl.h"
#include "store/db.h"
#include "voice/dtmf.h"
#include "service/floor.h"
#include "board/io.h"
#include "core/log.h"
#include "core/loop.h"
#include "phone/modem.h"
#include "core/notify.h"
#include "service/monitor.h"
#include "radio/pei.h"
#include "core/priv.h"
#include "voice/prompt.h"
#include "service/relay.h"
#include "voice/speak.h"
#include "store/roster.h"

#define RINKI_VERSION	"0.1.0"
#define DEFAULT_CONF	"/etc/rinki/rinki.conf"
#define ROSTER_CHECK_MS 2000

struct rinkid {
	struct gw_loop *loop;
	struct gw_conf conf;
	const char *conf_path;
	int debug; /* -d: every category at debug, whatever log.level says */
	struct gw_db *db;
	struct gw_roster *roster;
	struct gw_calls *calls;
	struct gw_callback *callback; /* worker call-backs to an officer's radio */
	struct gw_relay *relay;
	struct gw_pei *pei;
	struct gw_monitor *monitor;
	struct gw_modem *modem;
	struct gw_io *io;
	struct gw_audio *audio;
	struct gw_dtmf *dtmf;	    /* in-band keys on the phone's capture, while audio runs */
	struct gw_prompts *prompts; /* prompt.language's; NULL: none (the path runs silent) */
	struct gw_prompts *lang_prompts[3]; /* fi, sv, en (prompt_langs); NULL: not built */
	struct gw_speak *speak;		    /* the organisation's name for the announcement */
	struct gw_timer goodbye;   /* "nobody reached" playing to the officer, then release */
	int goodbye_cci;	   /* the radio call to release then; -1: none */
	bool goodbye_waits;	   /* its release waits for a newer call (ATH would cut that too) */
	int leds[GW_IO_LED_COUNT]; /* pattern + 1 last asked for; 0 none yet */
	struct gw_rec *rec;	   /* record.enabled with a voice bridge; else NULL */
	struct gw_vad vad;	   /* phone-side voice activity while bridged (with d->audio) */
	struct gw_floor *floor;	   /* simplex floor control of the bridged call (with d->audio) */
	struct gw_timer roster_check;
	int64_t retention_ms; /* loop time of the last retention run; 0: not yet */
	struct gw_ctl *ctl;
	struct gw_notify *notify;
	struct gw_ctl_counters counters;
	bool radio_up, modem_up;
	int64_t started_ms, radio_down_ms, modem_down_ms; /* loop time; 0: not down */
	bool page_test;					  /* the modem's call is a page-test */
	struct gw_timer page_test_end;
	bool board_down; /* the I/O board went silent and has not answered since */
};

#define DEVICE_DOWN_UNHEALTHY_MS (5 * 60 * 1000)

/* systemd's STATUS= line: what an operator sees in systemctl status. */
static void update_status(struct rinkid *d)
{
	enum gw_call_state st = d->calls ? gw_calls_state(d->calls) : GW_CALL_ST_CLOSED;
	/* a live call-back: its incident and state (the worker's name stays out of the
	   world-readable systemctl status; rinkictl status names the worker) */
	char cb[64] = "";
	if (gw_callback_live(d->callback))
		snprintf(cb, sizeof(cb), ", call-back %lld %s",
			 (long long)gw_callback_id(d->callback),
			 gw_cb_state_name(gw_callback_state(d->callback)));
	if (st != GW_CALL_ST_CLOSED)
		gw_notify_status(d->notify, "radio %s, modem %s, incident %lld %s%s",
				 d->radio_up ? "ready" : "DOWN", d->modem_up ? "ready" : "DOWN",
				 (long long)gw_calls_last_id(d->calls), gw_call_state_name(st), cb);
	else
		gw_notify_status(d->notify, "radio %s, modem %s, %s",
				 d->radio_up ? "ready" : "DOWN", d->modem_up ? "ready" : "DOWN",
				 cb[0] ? cb + 2 : "idle");
}

/* Watchdog pings go out while this holds: a device down for minutes may need a restart. */
static bool rinkid_healthy(void *arg)
{
	struct rinkid *d = arg;
	int64_t now = gw_loop_now_ms(d->loop);
	return !(d->radio_down_ms && now - d->radio_down_ms > DEVICE_DOWN_UNHEALTHY_MS) &&
	       !(d->modem_down_ms && now - d->modem_down_ms > DEVICE_DOWN_UNHEALTHY_MS);
}

/* radio -> call */
/* Board LEDs follow the gateway's state (when there is a board). */
static void led(struct rinkid *d, enum gw_io_led which, enum gw_io_led_pattern p)
{
	static const char *const names[] = {"radio ok", "modem ok", "on call", "fault"};
	static const char *const pats[] = {"off", "on", "slow blink", "fast blink"};
	if (!d->io || d->leds[which] == (int)p + 1)
		return;
	d->leds[which] = (int)p + 1;
	if (gw_io_set_led(d->io, which, p) == 0)
		LOGP(GW_LOG_IO, GW_LOG_NOTICE, "board: %s LED %s", names[which], pats[p]);
}

static void pei_ready(void *arg, int up)
{
	struct rinkid *d = arg;
	d->radio_up = up;
	d->radio_down_ms = up ? 0 : gw_loop_now_ms(d->loop);
	update_status(d);
	LOGP(GW_LOG_MAIN, up ? GW_LOG_INFO : GW_LOG_WARN, "radio %s", up ? "up" : "down");
	led(arg, GW_IO_LED_RADIO_OK, up ? GW_IO_LED_ON : GW_IO_LED_OFF);
	gw_calls_radio_link(d->calls, up);
}
static void pei_incoming(void *arg, const struct gw_pei_call_in *in)
{
	struct rinkid *d = arg;
	if (gw_monitor_incoming(d->monitor, in))
		return; /* a monitored talkgroup: logged, never paged */
	d->counters.incidents++;
	if (d->page_test) /* an authority call wins over a test */
		gw_modem_hangup(d->modem);
	gw_calls_radio_incoming(d->calls, in);
}
static void voice_hold(struct rinkid *d);
static void pei_connected(void *arg, int cci)
{
	struct rinkid *d = arg;
	if (gw_monitor_owns(d->monitor, cci))
		return;
	gw_calls_radio_connected(d->calls, cci);
	voice_hold(d);
}
static void goodbye_end(struct rinkid *d);
static void goodbye_release(struct rinkid *d);
static void pei_released(void *arg, int cci, int cause)
{
	if (cci >= 0 && cci == ((struct rinkid *)arg)->goodbye_cci)
		goodbye_end(arg); /* the officer hung up during "nobody reached" */
	if (!gw_monitor_released(((struct rinkid *)arg)->monitor, cci, cause))
		gw_calls_radio_released(((struct rinkid *)arg)->calls, cci, cause);
}
static void pei_dial_state(void *arg, int handle, int cci, enum gw_pei_dial_state st, int cause)
{
	gw_callback_dial_state(((struct rinkid *)arg)->callback, handle, cci, st, cause);
}
static void pei_floor(void *arg, int cci, enum gw_pei_floor ev, const char *talker)
{
	struct rinkid *d = arg;
	if (!gw_monitor_floor(d->monitor, cci, ev, talker))
		gw_floor_event(d->floor, cci, ev, talker); /* the bridged call's, when cci is its */
}

/* A status SDS: logged; relayed to the on-duty worker when a route names its code. */
static void sds_status_in(struct rinkid *d, const char *from, int code)
{
	const char *meaning = gw_conf_status_text(&d->conf, code) ?: gw_sds_status_name(code);
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "status 0x%04x (%s) from %s", code, meaning, from);
	if (*from)
		gw_relay_officer_status(d->relay, from, code, meaning);
}

static void pei_sds_in(void *arg, const char *from, const struct gw_sds_msg *m)
{
	struct rinkid *d = arg;
	if (m->kind == GW_SDS_TEXT && *from)
		gw_relay_officer_text(d->relay, from, m->text.text);
	else if (m->kind == GW_SDS_STATUS)
		sds_status_in(d, from, m->status.value);
	else if (m->kind == GW_SDS_LIP)
		LOGP(GW_LOG_RADIO, GW_LOG_INFO, "location of %s: %.5f %.5f", from, m->lip.lat_deg,
		     m->lip.lon_deg);
}

/* modem -> call */
static void modem_ready(void *arg, int up)
{
	struct rinkid *d = arg;
	d->modem_up = up;
	d->modem_down_ms = up ? 0 : gw_loop_now_ms(d->loop);
	update_status(d);
	LOGP(GW_LOG_MAIN, up ? GW_LOG_INFO : GW_LOG_WARN, "modem %s", up ? "up" : "down");
	led(arg, GW_IO_LED_MODEM_OK, up ? GW_IO_LED_ON : GW_IO_LED_OFF);
}
static void modem_progress(void *arg, enum gw_modem_call_state st)
{
	struct rinkid *d = arg;
	if (d->page_test) {
		LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "page-test: call %s",
		     st == GW_MODEM_CALL_ACTIVE ? "answered" : "ringing");
		return;
	}
	gw_calls_phone_progress(d->calls, st);
}
static void modem_ended(void *arg, enum gw_modem_end why)
{
	struct rinkid *d = arg;
	if (d->page_test) {
		LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "page-test: call ended (%s)",
		     gw_modem_end_name(why));
		d->page_test = false;
		gw_timer_cancel(d->loop, &d->page_test_end);
		return;
	}
	gw_calls_phone_ended(d->calls, why);
}
static void modem_dtmf(void *arg, char digit)
{
	gw_calls_phone_key(((struct rinkid *)arg)->calls, digit, GW_DTMF_SRC_MODEM);
}
static void modem_cause(void *arg, const char *number, const char *text)
{
	gw_calls_phone_cause(((struct rinkid *)arg)->calls, number, text);
}
static void modem_incoming(void *arg, const char *number)
{
	gw_calls_phone_incoming(((struct rinkid *)arg)->calls, number);
}
static void modem_sms_in(void *arg, const char *from, const char *text, int64_t sent_ms)
{
	(void)sent_ms;
	struct rinkid *d = arg;
	/* an accept code for the live authority call first, else a reply to a thread */
	if (!gw_calls_phone_sms(d->calls, from, text))
		gw_relay_worker_text(d->relay, from, text);
}

/* relay -> drivers */
static int relay_sms(void *arg, const char *number, const char *text)
{
	int rc = gw_modem_send_sms(((struct rinkid *)arg)->modem, number, text, NULL, NULL);
	return rc < 0 ? rc : 0;
}
static int relay_sds(void *arg, const char *issi, const char *text)
{
	int rc = gw_pei_send_sds(((struct rinkid *)arg)->pei, issi, text);
	return rc < 0 ? rc : 0;
}

/*
 * The board went silent, or answers after that (not its first answer at start): an event of
 * the live incident, else a system event in the call log.
 */
static void board_event(struct rinkid *d, int up, const struct gw_io_status *st)
{
	char detail[400]; /* the port's path is up to 255 characters */
	if (up)
		snprintf(detail, sizeof(detail), "%s: %s, firmware %u.%u.%u, boot count %u",
			 d->conf.io_port, gw_io_board_name(st->board_id), st->fw_major,
			 st->fw_minor, st->fw_patch, st->boot_count);
	else
		snprintf(detail, sizeof(detail), "%s: %s", d->conf.io_port,
			 gw_io_strerror(st->last_error));
	const char *kind = up ? "board_up" : "board_down";
	if (gw_calls_board_link(d->calls, up, detail) > 0)
		return;
	int rc = gw_db_system_event_append(d->db, gw_loop_wall_ms(d->loop), kind, detail);
	if (rc < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "system event not logged (%s): %s %s", strerror(-rc),
		     kind, detail);
}

/* I/O board */
static void io_ready(void *arg, int up)
{
	struct rinkid *d = arg;
	LOGP(GW_LOG_MAIN, up ? GW_LOG_NOTICE : GW_LOG_WARN, "I/O board %s", up ? "up" : "down");
	struct gw_io_status st;
	gw_io_status(d->io, &st);
	if (!up || d->board_down)
		board_event(d, up, &st);
	d->board_down = !up;
	if (!up)
		return;
	LOGP(GW_LOG_IO, GW_LOG_NOTICE, "board: %s, firmware %u.%u.%u",
	     gw_io_board_name(st.board_id), st.fw_major, st.fw_minor, st.fw_patch);
}

/* audio -> call: keys heard in the phone's capture */
static void inband_key(void *arg, char digit)
{
	gw_calls_phone_key(((struct rinkid *)arg)->calls, digit, GW_DTMF_SRC_INBAND);
}
static void phone_heard(void *arg, const int16_t *s, size_t n)
{
	gw_dtmf_feed(((struct rinkid *)arg)->dtmf, s, n);
}

static const char *const prompt_langs[] = {"fi", "sv", "en"};

/* The language of the worker paged or announced to (roster), else prompt.language. The
   officer's prompts (hold, nobody reached) stay in prompt.language. */
static const char *worker_language(const struct rinkid *d)
{
	const char *phone = gw_calls_paged_phone(d->calls);
	const char *lang = phone ? gw_roster_worker_lang(d->roster, phone) : NULL;
	return lang ? lang : d->conf.prompt_language;
}

/* The prompt set in the worker's language; prompt.language's when that one is not built. */
static struct gw_prompts *worker_prompts(const struct rinkid *d)
{
	const char *lang = worker_language(d);
	for (size_t i = 0; i < sizeof(prompt_langs) / sizeof(prompt_langs[0]); i++)
		if (strcmp(lang, prompt_langs[i]) == 0 && d->lang_prompts[i])
			return d->lang_prompts[i];
	return d->prompts;
}

/* Start the audio path unless it runs (the in-band detector starts over). */
static void voice_start(struct rinkid *d)
{
	struct gw_audio_stats as;
	gw_audio_stats(d->audio, &as);
	if (as.running)
		return;
	if (d->dtmf)
		gw_dtmf_reset(d->dtmf);
	if (gw_audio_bridge_start(d->audio) < 0)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "voice path did not start");
}

/*
 * Voice per call state. The audio path runs from the radio leg's answer while paging
 * (the officer hears the hold message) or the worker's answer (ANNOUNCE: the
 * announcement, the phone's capture feeding the in-band DTMF detector; neither side
 * hears the other) to the end of the call (BRIDGED: both pass through).
 */
static void voice_for_state(struct rinkid *d, enum gw_call_state st)
{
	if (!d->audio)
		return;
	switch (st) {
	case GW_CALL_ST_CLOSED: /* after "nobody reached", on_goodbye stops it */
		if (d->goodbye_cci < 0)
			gw_audio_bridge_stop(d->audio);
		return;
	case GW_CALL_ST_BRIDGED:
		gw_audio_pass(d->audio, GW_AUDIO_PHONE);
		gw_audio_pass(d->audio, GW_AUDIO_RADIO);
		voice_start(d);
		return;
	case GW_CALL_ST_ANNOUNCE: /* the announcement itself: call_announce */
		if (!gw_audio_playing(d->audio, GW_AUDIO_RADIO))
			gw_audio_mute(d->audio, GW_AUDIO_RADIO);
		gw_audio_mute(d->audio, GW_AUDIO_PHONE);
		voice_start(d);
		return;
	case GW_CALL_ST_PAGING: /* the worker passed or hung up: nobody to hear the officer */
		gw_audio_mute(d->audio, GW_AUDIO_PHONE);
		/* a new incident: speak its organisation now, seconds before anyone answers */
		if (d->speak && gw_calls_caller_org(d->calls))
			gw_speak_start(d->speak, worker_language(d), gw_calls_caller_org(d->calls));
		return;
	default:
		return;
	}
}

/* call -> voice: the announcement for the worker, from its start */
static void call_announce(void *arg, const char *org)
{
	struct rinkid *d = arg;
	const int16_t *pcm;
	size_t n;
	if (!d->audio || !d->prompts)
		return;
	/* the name spoken when the incident started; the generic "authority call" when
	   it is unknown, not ready yet or could not be made */
	const int16_t *name = NULL;
	size_t nn = 0;
	if (!d->speak || !org || gw_speak_get(d->speak, worker_language(d), org, &name, &nn) < 0)
		name = NULL;
	if (gw_prompts_announcement(worker_prompts(d), name, nn, &pcm, &n) == 0)
		gw_audio_play(d->audio, GW_AUDIO_PHONE, pcm, n);
}

/* radio -> voice: the officer's leg is up while the workers are paged: hold message */
static void voice_hold(struct rinkid *d)
{
	if (!d->audio || !d->prompts || gw_calls_state(d->calls) != GW_CALL_ST_PAGING)
		return;
	const struct gw_prompt *hold = gw_prompts_get(d->prompts, GW_PROMPT_HOLD);
	gw_audio_mute(d->audio, GW_AUDIO_PHONE);
	gw_audio_play(d->audio, GW_AUDIO_RADIO, hold->pcm, hold->n);
	voice_start(d);
}

/* Every captured period: into the recorder's ring (radio left, phone right), and the
   phone side through the VAD. */
static void audio_tap(void *arg, enum gw_audio_side from, const int16_t *pcm, int n)
{
	struct rinkid *d = arg;
	gw_rec_push(d->rec, from == GW_AUDIO_RADIO ? GW_REC_RADIO : GW_REC_PHONE, pcm, n);
	if (from == GW_AUDIO_PHONE)
		gw_vad_process(&d->vad, pcm, n);
}
/* VAD -> floor: in a simplex radio call, talk on the phone side asks for the radio
   floor and its end releases it (gateway/floor.c). */
static void phone_talk(void *arg, bool talking)
{
	LOGP(GW_LOG_AUDIO, GW_LOG_INFO, "phone side %s", talking ? "talking" : "silent");
	gw_floor_talk(((struct rinkid *)arg)->floor, talking);
}
/* floor -> radio, bridge and call log */
static int floor_tx_request(void *arg, int cci)
{
	return gw_pei_tx_request(((struct rinkid *)arg)->pei, cci);
}
static int floor_tx_cease(void *arg, int cci)
{
	return gw_pei_tx_cease(((struct rinkid *)arg)->pei, cci);
}
static void floor_gate(void *arg, bool open)
{
	gw_audio_set_radio_tx_gate(((struct rinkid *)arg)->audio, open);
}
static void floor_event(void *arg, const char *kind, const char *detail)
{
	struct rinkid *d = arg;
	int64_t id = gw_calls_last_id(d->calls);
	if (id > 0 && gw_db_event_append(d->db, id, gw_loop_wall_ms(d->loop), kind, detail) < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s event not in the call log: %s", kind, detail);
}
static void incident_line(const struct gw_db_incident *inc, void *arg)
{
	snprintf(arg, 16, "%s", inc->line ? inc->line : "");
}
/* A bridged call of a recorded line: start the file and log its path with the incident. */
static void record_start(struct rinkid *d)
{
	int64_t id = d->calls ? gw_calls_last_id(d->calls) : 0;
	char line[16] = "", path[512];
	if (!d->rec || gw_rec_running(d->rec) || id <= 0)
		return;
	gw_db_incident_get(d->db, id, incident_line, line);
	if (!gw_rec_line_selected(d->conf.record_lines, line))
		return;
	if (gw_rec_start(d->rec, id, path, sizeof(path)) < 0)
		return;
	if (gw_db_event_append(d->db, id, gw_loop_wall_ms(d->loop), "recording", path) < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "recording %s not in the call log", path);
}

/* The on-call LED, of the authority call and the call-back together: lit while either is
   bridged, blinking while either is otherwise live, off when both are idle. */
static void on_call_led(struct rinkid *d, enum gw_call_state st, enum gw_cb_state cst)
{
	led(d, GW_IO_LED_ON_CALL,
	    st == GW_CALL_ST_BRIDGED || cst == GW_CB_ST_BRIDGED ? GW_IO_LED_ON
	    : st == GW_CALL_ST_CLOSED && cst == GW_CB_ST_IDLE	? GW_IO_LED_OFF
								: GW_IO_LED_BLINK_FAST);
}

/* call -> board and voice: the on-call LED blinks while paging and is lit while bridged;
   the voice path and the recording follow the call (voice_for_state, record_start) */
static void call_state(void *arg, enum gw_call_state st)
{
	struct rinkid *d = arg;
	if (d->audio && st == GW_CALL_ST_BRIDGED) {
		record_start(d);
		gw_vad_reset(&d->vad);
	}
	voice_for_state(d, st);
	/* after the bridge start, which opens the phone->radio gate */
	if (st == GW_CALL_ST_BRIDGED)
		gw_floor_start(d->floor, gw_calls_radio_cci(d->calls),
			       gw_calls_radio_simplex(d->calls));
	else if (st == GW_CALL_ST_CLOSED)
		gw_floor_stop(d->floor);
	if (d->rec && gw_rec_running(d->rec)) {
		struct gw_audio_stats as;
		gw_audio_stats(d->audio, &as);
		/* closed, or the bridge did not start: the file stays, as short as it is */
		if (st == GW_CALL_ST_CLOSED || !as.running)
			gw_rec_stop(d->rec);
	}
	on_call_led(d, st, gw_callback_state(d->callback));
	if (st == GW_CALL_ST_CLOSED && d->goodbye_waits)
		goodbye_release(d);
}
static void io_squelch(void *arg, bool open)
{
	(void)arg;
	LOGP(GW_LOG_MAIN, GW_LOG_DEBUG, "radio squelch %s", open ? "open" : "closed");
}

/* call -> drivers */
static int op_radio_answer(void *arg, int cci)
{
	return gw_pei_answer(((struct rinkid *)arg)->pei, cci);
}
static int op_radio_hangup(void *arg, int cci)
{
	struct rinkid *d = arg;
	gw_floor_stop(d->floor); /* AT+CUTXC ahead of the ATH */
	int rc = gw_pei_hangup(d->pei, cci);
	if (rc == 0 && d->goodbye_cci >= 0) { /* the ATH clears a waiting goodbye's call too */
		gw_timer_cancel(d->loop, &d->goodbye);
		d->goodbye_cci = -1;
		d->goodbye_waits = false;
	}
	return rc;
}
/* The goodbye is over (its call released): the voice path stops unless a call uses it. */
static void goodbye_end(struct rinkid *d)
{
	gw_timer_cancel(d->loop, &d->goodbye);
	d->goodbye_cci = -1;
	d->goodbye_waits = false;
	if (d->audio && gw_calls_state(d->calls) == GW_CALL_ST_CLOSED &&
	    !gw_callback_live(d->callback))
		gw_audio_bridge_stop(d->audio);
}
/*
 * "nobody reached" has been played: release its radio call, unless a newer authority call
 * or call-back came in meanwhile. ATH clears every call of the terminal, so the release
 * then waits until that call ends (call_state, cb_state) or clears both with its own ATH.
 */
static void goodbye_release(struct rinkid *d)
{
	if (d->goodbye_cci < 0 || gw_timer_remaining(d->loop, &d->goodbye) >= 0)
		return;
	if (gw_calls_state(d->calls) != GW_CALL_ST_CLOSED || gw_callback_live(d->callback)) {
		if (!d->goodbye_waits)
			LOGP(GW_LOG_MAIN, GW_LOG_NOTICE,
			     "radio call %d: release waits for the live call (ATH would cut it)",
			     d->goodbye_cci);
		d->goodbye_waits = true;
		return;
	}
	gw_pei_hangup(d->pei, d->goodbye_cci);
	goodbye_end(d);
}
static void on_goodbye(struct gw_loop *loop, void *arg)
{
	(void)loop;
	goodbye_release(arg);
}
/* Nobody reached: say so on the radio when its leg is up and voiced, then release. */
static int op_radio_unreached(void *arg, int cci)
{
	struct rinkid *d = arg;
	struct gw_audio_stats as;
	if (!d->audio || !d->prompts || (gw_audio_stats(d->audio, &as), !as.running))
		return gw_pei_hangup(d->pei, cci);
	const struct gw_prompt *p = gw_prompts_get(d->prompts, GW_PROMPT_NOBODY);
	gw_audio_mute(d->audio, GW_AUDIO_PHONE);
	gw_audio_play(d->audio, GW_AUDIO_RADIO, p->pcm, p->n);
	d->goodbye_cci = cci;
	d->goodbye_waits = false;
	/* the prompt, the playback queue and a breath */
	gw_timer_schedule(d->loop, &d->goodbye, (int64_t)(p->n * 1000 / p->rate) + 300);
	return 0;
}
static int op_phone_dial(void *arg, const char *number)
{
	return gw_modem_dial(((struct rinkid *)arg)->modem, number);
}
static int op_phone_hangup(void *arg)
{
	return gw_modem_hangup(((struct rinkid *)arg)->modem);
}
static int op_phone_reject(void *arg)
{
	return gw_modem_reject(((struct rinkid *)arg)->modem);
}
static int op_phone_sms(void *arg, const char *number, const char *text)
{
	int rc = gw_modem_send_sms(((struct rinkid *)arg)->modem, number, text, NULL, NULL);
	return rc < 0 ? rc : 0;
}
static int op_radio_sds(void *arg, const char *issi, const char *text)
{
	int rc = gw_pei_send_sds(((struct rinkid *)arg)->pei, issi, text);
	return rc < 0 ? rc : 0;
}

/* call-back -> drivers and voice */
static int cb_phone_answer(void *arg)
{
	return gw_modem_answer(((struct rinkid *)arg)->modem);
}
static void cb_play(void *arg, const int16_t *pcm, size_t n)
{
	struct rinkid *d = arg;
	if (!d->audio)
		return;
	gw_audio_mute(d->audio, GW_AUDIO_RADIO);
	gw_audio_play(d->audio, GW_AUDIO_PHONE, pcm, n);
	voice_start(d);
}
static int cb_radio_dial(void *arg, const char *issi, bool simplex)
{
	return gw_pei_dial(((struct rinkid *)arg)->pei, issi, simplex);
}
static void cb_bridge(void *arg, int on)
{
	struct rinkid *d = arg;
	if (!d->audio)
		return;
	if (on) {
		gw_audio_pass(d->audio, GW_AUDIO_PHONE);
		gw_audio_pass(d->audio, GW_AUDIO_RADIO);
		voice_start(d);
	} else if (gw_calls_state(d->calls) == GW_CALL_ST_CLOSED) {
		gw_audio_bridge_stop(d->audio);
	}
}

/* call-back -> board and status: the on-call LED as for authority calls, STATUS= at once */
static void cb_state(void *arg, enum gw_cb_state st)
{
	struct rinkid *d = arg;
	on_call_led(d, gw_calls_state(d->calls), st);
	update_status(d);
	if (st == GW_CB_ST_IDLE && d->goodbye_waits)
		goodbye_release(d);
}

static void reload_roster(struct rinkid *d)
{
	struct gw_roster *r;
	int rc = gw_roster_load(d->db, &r);
	if (rc < 0) {
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "roster reload failed (%s): keeping the old snapshot",
		     strerror(-rc));
		return;
	}
	gw_calls_set_roster(d->calls, r);
	gw_callback_set_roster(d->callback, r);
	gw_relay_set_roster(d->relay, r);
	gw_roster_free(d->roster);
	d->roster = r;
	LOGP(GW_LOG_DB, GW_LOG_INFO, "roster snapshot loaded: %zu service lines",
	     gw_roster_line_count(r));
}

/* control socket -> gateway */
static int ctl_status(void *arg, struct gw_ctl_status *st)
{
	struct rinkid *d = arg;
	snprintf(st->version, sizeof(st->version), "%s", RINKI_VERSION);
	st->uptime_s = (gw_loop_now_ms(d->loop) - d->started_ms) / 1000;
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
	st->counters = d->counters;
	return 0;
}
static void on_page_test_end(struct gw_loop *loop, void *arg)
{
	struct rinkid *d = arg;
	(void)loop;
	if (d->page_test)
		gw_modem_hangup(d->modem);
}
static int ctl_page_test(void *arg, const char *number)
{
	struct rinkid *d = arg;
	if (d->page_test || gw_calls_state(d->calls) != GW_CALL_ST_CLOSED)
		return -EBUSY;
	int rc = gw_modem_dial(d->modem, number);
	if (rc < 0)
		return rc;
	d->page_test = true;
	d->counters.pages++;
	gw_timer_schedule(d->loop, &d->page_test_end, (int64_t)d->conf.ring_time_s * 1000);
	return 0;
}
static int ctl_sds_send(void *arg, const char *issi, const char *text)
{
	struct rinkid *d = arg;
	int rc = gw_pei_send_sds(d->pei, issi, text);
	if (rc > 0)
		d->counters.sds_out++;
	return rc;
}

#define DAY_MS (24LL * 60 * 60 * 1000)

static void on_roster_check(struct gw_loop *loop, void *arg)
{
	struct rinkid *d = arg;
	update_status(d);
	/* a new roster in the database, or a day gone by: rotations are expanded from now */
	if (gw_db_roster_changed(d->db) > 0 || gw_roster_stale(d->roster, gw_loop_wall_ms(loop)))
		reload_roster(d);
	/* once a day: blank message bodies older than log.retention_days */
	int64_t now = gw_loop_now_ms(loop);
	if (d->conf.retention_days > 0 && (!d->retention_ms || now - d->retention_ms >= DAY_MS)) {
		int64_t removed = 0;
		int rc = gw_db_retention_run(d->db, gw_loop_wall_ms(loop), d->conf.retention_days,
					     &removed);
		if (rc >= 0) {
			d->retention_ms = now;
			LOGP(GW_LOG_DB, GW_LOG_INFO, "retention: %lld message bodies blanked",
			     (long long)removed);
		} /* -EBUSY while the spool waits: tried again on the next tick */
		if (rc >= 0)
			gw_db_recording_retention(d->db, gw_loop_wall_ms(loop),
						  d->conf.retention_days, NULL);
	}
	/* call-log writes that went to the spool while the database was away */
	if (gw_db_spool_pending(d->db)) {
		int n = gw_db_spool_replay(d->db);
		if (n > 0)
			LOGP(GW_LOG_DB, GW_LOG_NOTICE, "%d spooled call-log write(s) applied", n);
	}
	gw_timer_schedule(loop, &d->roster_check, ROSTER_CHECK_MS);
}

static void on_signal(struct gw_loop *loop, int signo, void *arg)
{
	struct rinkid *d = arg;
	if (signo == SIGHUP) {
		/* the configuration: what can change under a live call does; the rest waits */
		static struct gw_conf next; /* large; the loop is single-threaded */
		char restart[256];
		gw_conf_defaults(&next);
		if (gw_conf_load(&next, d->conf_path) < 0) {
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "SIGHUP: %s has errors: configuration kept",
			     d->conf_path);
		} else {
			int n = gw_conf_apply_live(&d->conf, &next, restart, sizeof(restart));
			if (!d->debug)
				gw_log_set_level(GW_LOG_NCATS,
						 gw_log_parse_level(d->conf.log_level));
			LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "SIGHUP: %d setting(s) changed%s%s", n,
			     restart[0] ? "; these need a restart: " : "", restart);
		}
		LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "SIGHUP: reloading the roster");
		reload_roster(d);
		return;
	}
	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "signal %d: stopping", signo);
	gw_loop_stop(loop);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: rinkid [-c CONFIG] [-d] [--allow-root] [--check-config] [--version]\n"
		   "  -c, --config FILE   configuration (default " DEFAULT_CONF ")\n"
		   "  -d, --debug         log every AT line (debug level, all categories)\n"
		   "  -s, --syslog        log to syslog instead of stderr\n"
		   "      --allow-root    keep running as root (else drop to run.user)\n"
		   "      --check-config  parse the configuration, report errors and exit\n"
		   "      --version       print the version and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"debug", no_argument, NULL, 'd'},
	    {"syslog", no_argument, NULL, 's'},	      {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},      {"allow-root", no_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *conf_path = DEFAULT_CONF;
	int debug = 0, use_syslog = 0, check_only = 0, allow_root = 0, opt;
	while ((opt = getopt_long(argc, argv, "c:dsh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'C':
			check_only = 1;
			break;
		case 'R':
			allow_root = 1;
			break;
		case 'V':
			printf("rinkid %s\n", RINKI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	struct rinkid d = {0};
	gw_log_init("rinkid", use_syslog);
	gw_conf_defaults(&d.conf);
	d.conf_path = conf_path;
	d.debug = debug;
	if (gw_conf_load(&d.conf, conf_path) < 0)
		return 1;
	if (check_only) {
		printf("%s: configuration ok\n", conf_path);
		return 0;
	}
	gw_log_set_level(GW_LOG_NCATS, debug ? GW_LOG_DEBUG : gw_log_parse_level(d.conf.log_level));

	/* A file-size limit (LimitFSIZE=, a size-limited file) is a failed write the call log
	   spools, not a reason to die mid-incident as SIGXFSZ's default action would. */
	signal(SIGXFSZ, SIG_IGN);

	int rc = 1;
	d.loop = gw_loop_new();
	if (!d.loop)
		goto out;
	d.started_ms = gw_loop_now_ms(d.loop);
	if (gw_notify_new(d.loop, rinkid_healthy, &d, &d.notify) < 0)
		goto out;
	/* the control socket, as root, so it can get its group */
	struct gw_ctl_ops tops = {
	    .status = ctl_status, .page_test = ctl_page_test, .sds_send = ctl_sds_send, .arg = &d};
	struct gw_ctl_conf tconf = {.path = d.conf.ctl_socket,
				    .group = d.conf.ctl_group,
				    .admin_group = d.conf.ctl_admin_group};
	if (gw_ctl_new(&tops, &d.ctl) < 0)
		goto out;
	/* Without the socket rinkictl status is blind, but paging goes on. */
	if (gw_ctl_listen(d.ctl, d.loop, &tconf) < 0)
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "no control socket at %s: running without it",
		     d.conf.ctl_socket);
	gw_timer_init(&d.page_test_end, on_page_test_end, &d);
	gw_timer_init(&d.goodbye, on_goodbye, &d);
	d.goodbye_cci = -1;
	if (gw_db_open(d.conf.db_path, &d.db) < 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "cannot open the database %s", d.conf.db_path);
		goto out;
	}
	int n = gw_db_mark_interrupted(d.db, gw_loop_wall_ms(d.loop));
	if (n > 0)
		LOGP(GW_LOG_MAIN, GW_LOG_WARN,
		     "%d incident(s) left open by an earlier run marked "
		     "interrupted",
		     n);
	if (gw_roster_load(d.db, &d.roster) < 0) {
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "cannot load the roster from %s", d.conf.db_path);
		goto out;
	}
	gw_db_roster_changed(d.db); /* baseline for change detection */

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
				   .arg = &d};
	if (gw_calls_new(d.loop, &d.conf, d.db, &cops, &d.calls) < 0)
		goto out;
	gw_calls_set_roster(d.calls, d.roster);
	struct gw_callback_ops bops = {.phone_answer = cb_phone_answer,
				       .phone_hangup = op_phone_hangup,
				       .play = cb_play,
				       .radio_dial = cb_radio_dial,
				       .radio_hangup = op_radio_hangup,
				       .bridge = cb_bridge,
				       .state = cb_state,
				       .arg = &d};
	if (gw_callback_new(d.loop, &d.conf, d.db, &bops, &d.callback) < 0)
		goto out;
	gw_callback_set_roster(d.callback, d.roster);
	gw_calls_set_callback(d.calls, d.callback);
	struct gw_relay_ops rops = {.send_sms = relay_sms, .send_sds = relay_sds, .arg = &d};
	if (gw_relay_new(d.loop, d.db, &rops, &d.relay) < 0)
		goto out;
	gw_relay_set_roster(d.relay, d.roster);

	/* No voice is no reason to stop paging: without its devices the calls go on. */
	if (d.conf.audio_radio[0] && d.conf.audio_phone[0] &&
	    gw_audio_new(d.loop, &d.conf, &d.audio) < 0) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "voice bridge unavailable (%s, %s): calls are paged but not bridged",
		     d.conf.audio_radio, d.conf.audio_phone);
		d.audio = NULL;
	}
	if (d.audio && gw_dtmf_new(gw_audio_rate(d.audio), inband_key, &d, &d.dtmf) == 0)
		gw_audio_set_phone_listener(d.audio, phone_heard, &d);
	/* every language's prompts, for workers whose roster language differs */
	for (size_t i = 0; d.audio && i < sizeof(prompt_langs) / sizeof(prompt_langs[0]); i++) {
		if (gw_prompts_load(d.conf.prompt_dir, prompt_langs[i], gw_audio_rate(d.audio),
				    &d.lang_prompts[i]) < 0)
			d.lang_prompts[i] = NULL;
		else if (strcmp(prompt_langs[i], d.conf.prompt_language) == 0)
			d.prompts = d.lang_prompts[i];
	}
	if (d.audio && !d.prompts)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "no voice prompts (prompt.dir %s): the worker hears silence until the key",
		     d.conf.prompt_dir);
	if (d.audio &&
	    gw_callback_load_prompts(d.callback, d.conf.prompt_dir, gw_audio_rate(d.audio)) < 0)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "call-backs without voice prompts (prompt.dir %s)",
		     d.conf.prompt_dir);
	if (d.prompts && gw_speak_new(d.loop, NULL, gw_audio_rate(d.audio), &d.speak) < 0)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "announcements without the organisation's name");
	/* Recording and the VAD need the bridge; without its directory calls go unrecorded. */
	if (d.audio && d.conf.record_enabled)
		gw_rec_new(d.conf.recordings_dir, (unsigned)d.conf.audio_rate,
			   (unsigned)(d.conf.audio_rate * d.conf.audio_period_ms / 1000), &d.rec);
	if (d.audio) {
		struct gw_vad_params vp;
		gw_vad_params_defaults(&vp);
		vp.rate = (unsigned)d.conf.audio_rate;
		vp.attack_ms = d.conf.vad_attack_ms;
		vp.hangover_ms = d.conf.vad_hangover_ms;
		vp.margin_db = d.conf.vad_margin_db;
		if (gw_vad_init(&d.vad, &vp, phone_talk, &d) < 0)
			goto out;
		struct gw_floor_ops fops = {.tx_request = floor_tx_request,
					    .tx_cease = floor_tx_cease,
					    .gate = floor_gate,
					    .event = floor_event,
					    .arg = &d};
		if (gw_floor_new(d.loop, &fops, &d.floor) < 0)
			goto out;
		gw_audio_set_tap(d.audio, audio_tap, &d);
	}
	/* the board first, so the drivers' first state already reaches its LEDs */
	struct gw_io_ops iops = {.ready = io_ready, .squelch = io_squelch, .arg = &d};
	if (d.conf.io_port[0] && gw_io_new(d.loop, &d.conf, &iops, &d.io) < 0)
		goto out;
	struct gw_pei_ops pops = {.ready = pei_ready,
				  .incoming = pei_incoming,
				  .connected = pei_connected,
				  .released = pei_released,
				  .sds_in = pei_sds_in,
				  .floor = pei_floor,
				  .dial_state = pei_dial_state,
				  .arg = &d};
	if (gw_monitor_new(d.loop, &d.conf, d.db, &d.monitor) < 0)
		goto out;
	if (gw_pei_new(d.loop, &d.conf, &pops, &d.pei) < 0)
		goto out;
	struct gw_modem_ops mops = {.ready = modem_ready,
				    .progress = modem_progress,
				    .ended = modem_ended,
				    .dtmf = modem_dtmf,
				    .sms_in = modem_sms_in,
				    .incoming = modem_incoming,
				    .cause = modem_cause,
				    .arg = &d};
	if (gw_modem_new(d.loop, &d.conf, &mops, &d.modem) < 0)
		goto out;
	/*
	 * Real-time priority for the one loop that pages and bridges: under the normal
	 * scheduler a woken rinkid that has done some work waits behind busier processes
	 * (page latency p50 2.4x a bare relay on an idle machine, 1.2x with SCHED_FIFO).
	 */
	if (d.conf.rt_priority > 0) {
		struct sched_param sp = {.sched_priority = d.conf.rt_priority};
		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "run.rt_priority %d: %s (running without)",
			     d.conf.rt_priority, strerror(errno));
	}
	/* ports, PCMs and the socket are open: root is no longer needed */
	if (gw_priv_drop(d.conf.run_user, allow_root) < 0)
		goto out;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (gw_loop_add_signals(d.loop, &set, on_signal, &d) < 0)
		goto out;
	gw_timer_init(&d.roster_check, on_roster_check, &d);
	gw_timer_schedule(d.loop, &d.roster_check, ROSTER_CHECK_MS);

	LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "rinkid %s running: radio %s, modem %s, database %s",
	     RINKI_VERSION, d.conf.radio_port, d.conf.modem_port, d.conf.db_path);
	gw_notify_ready(d.notify, d.radio_up && d.modem_up ? "radio ready, modem ready, idle"
							   : "waiting for the radio and the modem");
	gw_loop_run(d.loop);
	gw_notify_stopping(d.notify);
	/* Leave no radio call up: ATH for live calls, waiting at most 2 s for the answer. */
	if (gw_pei_shutdown(d.pei) > 0)
		for (int i = 0; i < 200 && gw_pei_pending(d.pei) > 0; i++)
			gw_loop_run_once(d.loop, 10);
	rc = 0;
out:
	if (d.loop) {
		gw_timer_cancel(d.loop, &d.roster_check);
		gw_timer_cancel(d.loop, &d.page_test_end);
		gw_timer_cancel(d.loop, &d.goodbye);
	}
	gw_ctl_free(d.ctl);
	gw_notify_free(d.notify);
	gw_audio_free(d.audio);
	gw_dtmf_free(d.dtmf);
	gw_speak_free(d.speak);
	for (size_t i = 0; i < sizeof(d.lang_prompts) / sizeof(d.lang_prompts[0]); i++)
		gw_prompts_free(d.lang_prompts[i]);
	gw_rec_free(d.rec);
	gw_floor_free(d.floor);
	gw_io_free(d.io);
	gw_modem_free(d.modem);
	gw_pei_free(d.pei);
	gw_monitor_free(d.monitor);
	gw_relay_free(d.relay);
	gw_callback_free(d.callback);
	gw_calls_free(d.calls);
	gw_roster_free(d.roster);
	gw_db_close(d.db);
	gw_loop_free(d.loop);
	return rc;
}
