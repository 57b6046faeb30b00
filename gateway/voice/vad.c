/*
 * vad: energy voice-activity detection with a minimum-statistics noise floor.
 *
 * Each 10 ms frame's level (mean square, dBFS) goes into a ring covering floor_ms; the
 * floor is the quietest frame there. Speech has pauses between words every second or
 * so, so the floor stays at the line's noise while someone talks, follows a quieter
 * line at once and a noisier one within floor_ms (one false talk spurt at most for a
 * lasting jump of more than the margin). The first frame seeds the floor, so steady
 * noise from the start is never taken for talk; speech from the very first frame is
 * heard after its first pause.
 *
 * Talk starts after attack_ms of consecutive speech frames (a click or a single loud
 * frame does not) and ends after hangover_ms without any, so the floor is not released
 * between words. Floating point per frame only (one log10 per 10 ms).
 */
#include "voice/vad.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/log.h"

void gw_vad_params_defaults(struct gw_vad_params *p)
{
	*p = (struct gw_vad_params){.rate = 8000,
				    .attack_ms = 40,
				    .hangover_ms = 500,
				    .margin_db = 12,
				    .min_dbfs = -55,
				    .floor_ms = 2000};
}

int gw_vad_init(struct gw_vad *v, const struct gw_vad_params *p, gw_vad_talk_fn on_talk, void *arg)
{
	if (p->rate < 8000 || p->rate > 48000 || p->attack_ms < 10 || p->attack_ms > 500 ||
	    p->hangover_ms < 50 || p->hangover_ms > 5000 || p->margin_db < 3 || p->margin_db > 40 ||
	    p->min_dbfs < -90 || p->min_dbfs > -10 || p->floor_ms < 500 || p->floor_ms > 10000) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "vad: bad parameters (rate 8000..48000, attack 10..500 ms, hangover "
		     "50..5000 ms, margin 3..40 dB, minimum -90..-10 dBFS, floor 500..10000 ms)");
		return -EINVAL;
	}
	memset(v, 0, sizeof(*v));
	v->p = *p;
	v->on_talk = on_talk;
	v->arg = arg;
	v->frame_len = (int)(p->rate * GW_VAD_FRAME_MS / 1000);
	v->win = p->floor_ms / GW_VAD_FRAME_MS;
	gw_vad_reset(v);
	return 0;
}

void gw_vad_reset(struct gw_vad *v)
{
	v->fill = 0;
	v->acc = 0;
	v->hn = v->hpos = 0;
	v->floor_db = v->level_db = -120;
	v->run_ms = v->quiet_ms = 0;
	v->talking = false;
}

static void set_talking(struct gw_vad *v, bool on)
{
	v->talking = on;
	v->run_ms = v->quiet_ms = 0;
	if (on)
		v->talk_spurts++;
	if (v->on_talk)
		v->on_talk(v->arg, on);
}

static void frame_done(struct gw_vad *v)
{
	double ms = v->acc / v->frame_len / (32768.0 * 32768.0);
	float db = ms > 1e-12 ? (float)(10 * log10(ms)) : -120;
	v->level_db = db;
	v->hist[v->hpos] = db;
	v->hpos = (v->hpos + 1) % v->win;
	if (v->hn < v->win)
		v->hn++;
	float fl = db;
	for (int i = 0; i < v->hn; i++)
		if (v->hist[i] < fl)
			fl = v->hist[i];
	v->floor_db = fl;

	bool speech = db > fl + (float)v->p.margin_db && db > (float)v->p.min_dbfs;
	if (speech) {
		v->quiet_ms = 0;
		v->run_ms += GW_VAD_FRAME_MS;
		if (!v->talking && v->run_ms >= v->p.attack_ms)
			set_talking(v, true);
	} else {
		v->run_ms = 0;
		v->quiet_ms += GW_VAD_FRAME_MS;
		if (v->talking && v->quiet_ms >= v->p.hangover_ms)
			set_talking(v, false);
	}
}

int gw_vad_process(struct gw_vad *v, const int16_t *pcm, int n)
{
	for (int i = 0; i < n; i++) {
		v->acc += (double)pcm[i] * pcm[i];
		if (++v->fill == v->frame_len) {
			frame_done(v);
			v->fill = 0;
			v->acc = 0;
		}
	}
	return v->talking;
}
