/*
 * callvoice: what the officer and the worker hear, per call state. The audio path runs
 * from the radio leg's answer while paging (the officer hears the hold message) or the
 * worker's answer (ANNOUNCE: the announcement, the phone's capture feeding the in-band
 * DTMF detector; neither side hears the other) to the end of the call (BRIDGED: both pass
 * through). Every captured period goes to the recorder's ring (radio left, phone right)
 * and the phone side through the VAD, whose talk spurts drive the radio floor of a simplex
 * call. "Nobody reached" plays on a timer sized to the prompt; its release names its radio
 * call and waits while a newer call holds the terminal, since ATH clears every call.
 */
#include "service/callvoice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "service/floor.h"
#include "voice/audio.h"
#include "voice/dtmf.h"
#include "voice/prompt.h"
#include "voice/rec.h"
#include "voice/speak.h"
#include "voice/vad.h"

static const char *const prompt_langs[] = {"fi", "sv", "en"};
#define NLANGS (sizeof(prompt_langs) / sizeof(prompt_langs[0]))

struct gw_callvoice {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_db *db;
	struct gw_calls *calls;
	struct gw_callback *callback;
	const struct gw_roster *roster;
	struct gw_callvoice_ops ops;
	struct gw_audio *audio;
	struct gw_dtmf *dtmf;	    /* in-band keys on the phone's capture, while audio runs */
	struct gw_prompts *prompts; /* prompt.language's; NULL: none (the path runs silent) */
	struct gw_prompts *lang_prompts[NLANGS]; /* fi, sv, en; NULL: not built */
	struct gw_speak *speak;			 /* the organisation's name for the announcement */
	struct gw_rec *rec;			 /* record.enabled with a voice bridge; else NULL */
	struct gw_vad vad;			 /* phone-side voice activity while bridged */
	struct gw_floor *floor;			 /* simplex floor control of the bridged call */
	struct gw_timer goodbye; /* "nobody reached" playing to the officer, then release */
	int goodbye_cci;	 /* the radio call to release then; -1: none */
	bool goodbye_waits;	 /* its release waits for a newer call (ATH would cut it too) */
	int older_cci;		 /* a waiting goodbye's call when a newer goodbye began; -1: none */
};

/* The language of the worker paged or announced to (roster), else prompt.language. The
   officer's prompts (hold, nobody reached) stay in prompt.language. */
static const char *worker_language(const struct gw_callvoice *v)
{
	const char *phone = gw_calls_paged_phone(v->calls);
	const char *lang = phone && v->roster ? gw_roster_worker_lang(v->roster, phone) : NULL;
	return lang ? lang : v->conf->prompt_language;
}

/* The prompt set in the worker's language; prompt.language's when that one is not built. */
static struct gw_prompts *worker_prompts(const struct gw_callvoice *v)
{
	const char *lang = worker_language(v);
	for (size_t i = 0; i < NLANGS; i++)
		if (strcmp(lang, prompt_langs[i]) == 0 && v->lang_prompts[i])
			return v->lang_prompts[i];
	return v->prompts;
}

/* Start the audio path unless it runs (the in-band detector starts over). */
static void voice_start(struct gw_callvoice *v)
{
	struct gw_audio_stats as;
	gw_audio_stats(v->audio, &as);
	if (as.running)
		return;
	if (v->dtmf)
		gw_dtmf_reset(v->dtmf);
	if (gw_audio_bridge_start(v->audio) < 0)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "voice path did not start");
}

/* Voice per call state (see the top of the file). */
static void voice_for_state(struct gw_callvoice *v, enum gw_call_state st)
{
	if (!v->audio)
		return;
	switch (st) {
	case GW_CALL_ST_CLOSED: /* after "nobody reached", goodbye_end stops it */
		if (v->goodbye_cci < 0)
			gw_audio_bridge_stop(v->audio);
		return;
	case GW_CALL_ST_BRIDGED:
		gw_audio_pass(v->audio, GW_AUDIO_PHONE);
		gw_audio_pass(v->audio, GW_AUDIO_RADIO);
		voice_start(v);
		return;
	case GW_CALL_ST_ANNOUNCE: /* the announcement itself: gw_callvoice_announce */
		if (!gw_audio_playing(v->audio, GW_AUDIO_RADIO))
			gw_audio_mute(v->audio, GW_AUDIO_RADIO);
		gw_audio_mute(v->audio, GW_AUDIO_PHONE);
		voice_start(v);
		return;
	case GW_CALL_ST_PAGING: /* the worker passed or hung up: nobody to hear the officer */
		gw_audio_mute(v->audio, GW_AUDIO_PHONE);
		/* a new incident: speak its organisation now, seconds before anyone answers */
		if (v->speak && gw_calls_caller_org(v->calls))
			gw_speak_start(v->speak, worker_language(v), gw_calls_caller_org(v->calls));
		return;
	default:
		return;
	}
}

/* A bridged call of a recorded line: start the file and log its path with the incident. */
static void record_start(struct gw_callvoice *v)
{
	int64_t id = gw_calls_last_id(v->calls);
	/* the line from the live incident, not the database: the writer thread may not have
	   committed the incident's open yet */
	const char *line = gw_calls_line(v->calls);
	char path[512];
	if (!v->rec || gw_rec_running(v->rec) || id <= 0 || !line)
		return;
	if (!gw_rec_line_selected(v->conf->record_lines, line))
		return;
	if (gw_rec_start(v->rec, id, path, sizeof(path)) < 0)
		return;
	if (gw_db_event_append(v->db, id, gw_loop_wall_ms(v->loop), "recording", path) < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "recording %s not in the call log", path);
}

/* The goodbye is over (its call released): the voice path stops unless a call uses it. */
static void goodbye_end(struct gw_callvoice *v)
{
	gw_timer_cancel(v->loop, &v->goodbye);
	v->goodbye_cci = -1;
	v->goodbye_waits = false;
	v->older_cci = -1;
	if (v->audio && gw_calls_state(v->calls) == GW_CALL_ST_CLOSED &&
	    !gw_callback_live(v->callback))
		gw_audio_bridge_stop(v->audio);
}

/*
 * "nobody reached" has been played: release its radio call, unless a newer authority call
 * or call-back came in meanwhile. ATH clears every call of the terminal, so the release
 * then waits until that call ends, or its own ATH clears both.
 */
static void goodbye_release(struct gw_callvoice *v)
{
	if (v->goodbye_cci < 0 || gw_timer_remaining(v->loop, &v->goodbye) >= 0)
		return;
	if (gw_calls_state(v->calls) != GW_CALL_ST_CLOSED || gw_callback_live(v->callback)) {
		if (!v->goodbye_waits)
			LOGP(GW_LOG_MAIN, GW_LOG_NOTICE,
			     "radio call %d: release waits for the live call (ATH would cut it)",
			     v->goodbye_cci);
		v->goodbye_waits = true;
		return;
	}
	v->ops.radio_hangup(v->ops.arg, v->goodbye_cci); /* the older call goes with it */
	goodbye_end(v);
}

static void on_goodbye(struct gw_loop *loop, void *arg)
{
	(void)loop;
	goodbye_release(arg);
}

void gw_callvoice_call_state(struct gw_callvoice *v, enum gw_call_state st)
{
	if (v->audio && st == GW_CALL_ST_BRIDGED) {
		record_start(v);
		gw_vad_reset(&v->vad);
	}
	voice_for_state(v, st);
	/* after the bridge start, which opens the phone->radio gate */
	if (st == GW_CALL_ST_BRIDGED)
		gw_floor_start(v->floor, gw_calls_radio_cci(v->calls),
			       gw_calls_radio_simplex(v->calls));
	else if (st == GW_CALL_ST_CLOSED)
		gw_floor_stop(v->floor);
	if (v->rec && gw_rec_running(v->rec)) {
		struct gw_audio_stats as;
		gw_audio_stats(v->audio, &as);
		/* closed, or the bridge did not start: the file stays, as short as it is */
		if (st == GW_CALL_ST_CLOSED || !as.running)
			gw_rec_stop(v->rec);
	}
	if (st == GW_CALL_ST_CLOSED && v->goodbye_waits)
		goodbye_release(v);
}

void gw_callvoice_announce(struct gw_callvoice *v, const char *org)
{
	const int16_t *pcm;
	size_t n;
	if (!v->audio || !v->prompts)
		return;
	/* the name spoken when the incident started; the generic "authority call" when
	   it is unknown, not ready yet or could not be made */
	const int16_t *name = NULL;
	size_t nn = 0;
	if (!v->speak || !org || gw_speak_get(v->speak, worker_language(v), org, &name, &nn) < 0)
		name = NULL;
	if (gw_prompts_announcement(worker_prompts(v), name, nn, &pcm, &n) == 0)
		gw_audio_play(v->audio, GW_AUDIO_PHONE, pcm, n);
}

void gw_callvoice_radio_connected(struct gw_callvoice *v)
{
	if (!v->audio || !v->prompts || gw_calls_state(v->calls) != GW_CALL_ST_PAGING)
		return;
	const struct gw_prompt *hold = gw_prompts_get(v->prompts, GW_PROMPT_HOLD);
	gw_audio_mute(v->audio, GW_AUDIO_PHONE);
	gw_audio_play(v->audio, GW_AUDIO_RADIO, hold->pcm, hold->n);
	voice_start(v);
}

void gw_callvoice_radio_released(struct gw_callvoice *v, int cci)
{
	if (cci < 0)
		return;
	if (cci == v->older_cci)
		v->older_cci = -1;
	if (cci != v->goodbye_cci)
		return;
	/* the officer hung up during "nobody reached"; an older goodbye's call still up is
	   released now, or when the live call ends */
	int older = v->older_cci;
	goodbye_end(v);
	if (older >= 0) {
		v->goodbye_cci = older;
		goodbye_release(v);
	}
}

void gw_callvoice_floor(struct gw_callvoice *v, int cci, enum gw_pei_floor ev, const char *talker)
{
	gw_floor_event(v->floor, cci, ev, talker); /* the bridged call's, when cci is its */
}

int gw_callvoice_radio_hangup(struct gw_callvoice *v, int cci)
{
	gw_floor_stop(v->floor); /* AT+CUTXC ahead of the ATH */
	int rc = v->ops.radio_hangup(v->ops.arg, cci);
	if (rc == 0 && v->goodbye_cci >= 0) { /* the ATH clears a waiting goodbye's call too */
		gw_timer_cancel(v->loop, &v->goodbye);
		v->goodbye_cci = -1;
		v->goodbye_waits = false;
		v->older_cci = -1;
	}
	return rc;
}

int gw_callvoice_unreached(struct gw_callvoice *v, int cci)
{
	struct gw_audio_stats as;
	if (!v->audio || !v->prompts || (gw_audio_stats(v->audio, &as), !as.running))
		return v->ops.radio_hangup(v->ops.arg, cci);
	const struct gw_prompt *p = gw_prompts_get(v->prompts, GW_PROMPT_NOBODY);
	gw_audio_mute(v->audio, GW_AUDIO_PHONE);
	gw_audio_play(v->audio, GW_AUDIO_RADIO, p->pcm, p->n);
	if (v->goodbye_cci >= 0 && v->goodbye_cci != cci)
		v->older_cci = v->goodbye_cci; /* still waiting: released with this one */
	v->goodbye_cci = cci;
	v->goodbye_waits = false;
	/* the prompt, the playback queue and a breath */
	gw_timer_schedule(v->loop, &v->goodbye, (int64_t)(p->n * 1000 / p->rate) + 300);
	return 0;
}

void gw_callvoice_cb_play(struct gw_callvoice *v, const int16_t *pcm, size_t n)
{
	if (!v->audio)
		return;
	gw_audio_mute(v->audio, GW_AUDIO_RADIO);
	gw_audio_play(v->audio, GW_AUDIO_PHONE, pcm, n);
	voice_start(v);
}

void gw_callvoice_cb_bridge(struct gw_callvoice *v, int on)
{
	if (!v->audio)
		return;
	if (on) {
		gw_audio_pass(v->audio, GW_AUDIO_PHONE);
		gw_audio_pass(v->audio, GW_AUDIO_RADIO);
		voice_start(v);
	} else if (gw_calls_state(v->calls) == GW_CALL_ST_CLOSED) {
		gw_audio_bridge_stop(v->audio);
	}
}

void gw_callvoice_cb_state(struct gw_callvoice *v, enum gw_cb_state st)
{
	if (st == GW_CB_ST_IDLE && v->goodbye_waits)
		goodbye_release(v);
}

void gw_callvoice_set_roster(struct gw_callvoice *v, const struct gw_roster *r)
{
	v->roster = r;
}

bool gw_callvoice_has_audio(const struct gw_callvoice *v)
{
	return v && v->audio;
}

/* ---- wiring inside the voice path ----------------------------------------------------- */

/* audio -> call: keys heard in the phone's capture */
static void inband_key(void *arg, char digit)
{
	gw_calls_phone_key(((struct gw_callvoice *)arg)->calls, digit, GW_DTMF_SRC_INBAND);
}
static void phone_heard(void *arg, const int16_t *s, size_t n)
{
	gw_dtmf_feed(((struct gw_callvoice *)arg)->dtmf, s, n);
}

/* Every captured period: into the recorder's ring (radio left, phone right), and the
   phone side through the VAD. */
static void audio_tap(void *arg, enum gw_audio_side from, const int16_t *pcm, int n)
{
	struct gw_callvoice *v = arg;
	gw_rec_push(v->rec, from == GW_AUDIO_RADIO ? GW_REC_RADIO : GW_REC_PHONE, pcm, n);
	if (from == GW_AUDIO_PHONE)
		gw_vad_process(&v->vad, pcm, n);
}
/* VAD -> floor: in a simplex radio call, talk on the phone side asks for the radio
   floor and its end releases it (service/floor.c). */
static void phone_talk(void *arg, bool talking)
{
	LOGP(GW_LOG_AUDIO, GW_LOG_INFO, "phone side %s", talking ? "talking" : "silent");
	gw_floor_talk(((struct gw_callvoice *)arg)->floor, talking);
}
/* floor -> radio, bridge and call log */
static int floor_tx_request(void *arg, int cci)
{
	struct gw_callvoice *v = arg;
	return v->ops.tx_request(v->ops.arg, cci);
}
static int floor_tx_cease(void *arg, int cci)
{
	struct gw_callvoice *v = arg;
	return v->ops.tx_cease(v->ops.arg, cci);
}
static void floor_gate(void *arg, bool open)
{
	gw_audio_set_radio_tx_gate(((struct gw_callvoice *)arg)->audio, open);
}
static void floor_event(void *arg, const char *kind, const char *detail)
{
	struct gw_callvoice *v = arg;
	int64_t id = gw_calls_last_id(v->calls);
	if (id > 0 && gw_db_event_append(v->db, id, gw_loop_wall_ms(v->loop), kind, detail) < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "%s event not in the call log: %s", kind, detail);
}

/* Prompts of every language (for workers whose roster language differs), the call-back's,
   the synthesizer and the recorder: each one missing is logged and left out. */
static void open_prompts(struct gw_callvoice *v)
{
	const struct gw_conf *c = v->conf;
	unsigned rate = gw_audio_rate(v->audio);
	for (size_t i = 0; i < NLANGS; i++) {
		if (gw_prompts_load(c->prompt_dir, prompt_langs[i], rate, &v->lang_prompts[i]) < 0)
			v->lang_prompts[i] = NULL;
		else if (strcmp(prompt_langs[i], c->prompt_language) == 0)
			v->prompts = v->lang_prompts[i];
	}
	if (!v->prompts)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "no voice prompts (prompt.dir %s): the worker hears silence until the key",
		     c->prompt_dir);
	if (gw_callback_load_prompts(v->callback, c->prompt_dir, rate) < 0)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "call-backs without voice prompts (prompt.dir %s)",
		     c->prompt_dir);
	if (v->prompts && gw_speak_new(v->loop, NULL, rate, &v->speak) < 0)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "announcements without the organisation's name");
	/* without its directory calls go unrecorded */
	if (c->record_enabled)
		gw_rec_new(c->recordings_dir, (unsigned)c->audio_rate,
			   (unsigned)(c->audio_rate * c->audio_period_ms / 1000), &v->rec);
}

int gw_callvoice_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		     struct gw_calls *calls, struct gw_callback *callback,
		     const struct gw_callvoice_ops *ops, struct gw_callvoice **out)
{
	struct gw_callvoice *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*v = (struct gw_callvoice){.loop = loop,
				   .conf = conf,
				   .db = db,
				   .calls = calls,
				   .callback = callback,
				   .ops = *ops,
				   .goodbye_cci = -1,
				   .older_cci = -1};
	gw_timer_init(&v->goodbye, on_goodbye, v);
	/* No voice is no reason to stop paging: without its devices the calls go on. */
	if (conf->audio_radio[0] && conf->audio_phone[0] &&
	    gw_audio_new(loop, conf, &v->audio) < 0) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "voice bridge unavailable (%s, %s): calls are paged but not bridged",
		     conf->audio_radio, conf->audio_phone);
		v->audio = NULL;
	}
	if (!v->audio) {
		*out = v;
		return 0;
	}
	if (gw_dtmf_new(gw_audio_rate(v->audio), inband_key, v, &v->dtmf) == 0)
		gw_audio_set_phone_listener(v->audio, phone_heard, v);
	open_prompts(v);
	/* the VAD and the floor control need the bridge */
	struct gw_vad_params vp;
	gw_vad_params_defaults(&vp);
	vp.rate = (unsigned)conf->audio_rate;
	vp.attack_ms = conf->vad_attack_ms;
	vp.hangover_ms = conf->vad_hangover_ms;
	vp.margin_db = conf->vad_margin_db;
	struct gw_floor_ops fops = {.tx_request = floor_tx_request,
				    .tx_cease = floor_tx_cease,
				    .gate = floor_gate,
				    .event = floor_event,
				    .arg = v};
	int rc = gw_vad_init(&v->vad, &vp, phone_talk, v);
	if (rc >= 0)
		rc = gw_floor_new(loop, &fops, &v->floor);
	if (rc < 0) {
		gw_callvoice_free(v);
		return rc;
	}
	gw_audio_set_tap(v->audio, audio_tap, v);
	*out = v;
	return 0;
}

void gw_callvoice_free(struct gw_callvoice *v)
{
	if (!v)
		return;
	gw_timer_cancel(v->loop, &v->goodbye);
	gw_audio_free(v->audio);
	gw_dtmf_free(v->dtmf);
	gw_speak_free(v->speak);
	for (size_t i = 0; i < NLANGS; i++)
		gw_prompts_free(v->lang_prompts[i]);
	gw_rec_free(v->rec);
	gw_floor_free(v->floor);
	free(v);
}
