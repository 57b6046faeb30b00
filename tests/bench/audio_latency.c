/*
 * audio_latency: what the radio <-> phone bridge (gateway/audio.c) costs in time.
 *
 * Runs the bridge in a gw_loop, in this process, between the two virtual cards of
 * tools/alsa (paced like real cards, 1 ms pointer ticks), and prints:
 *  1. tone-onset latency: a 100 ms 1 kHz burst is written into one card's capture at
 *     a random moment, and the time until its first |sample| > 2000 leaves the other
 *     card is taken (mean/min/max over the trials; min is the real-card equivalent,
 *     since the card places injected sound up to one tick late), with the bridge's own
 *     latency figure and the main thread's CPU per second of bridged audio;
 *  2. drift: +/-100 and +/-2000 ppm on the phone card, compensated and not, with the
 *     the +/-100 ppm runs sped up 2x (vcard "speed"): a minute of card time in 30 s;
 *  3. loop stalls: a timer that busy-waits S ms twice a second, as a slow database
 *     commit would, and the xruns it causes.
 * Figures only; nothing is asserted.
 *
 *   build/bench/audio_latency [trials]   (run from the repository root; needs make alsa-plugin)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio.h"
#include "log.h"
#include "loop.h"
#include "../../tools/alsa/vcard_rig.h"

#define RATE 8000

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void run_for(struct gw_loop *loop, int64_t ms)
{
	int64_t end = mono_ns() + ms * 1000000;
	for (int64_t now = mono_ns(); now < end; now = mono_ns())
		gw_loop_run_once(loop, (int)((end - now) / 1000000) + 1);
}

struct stall {
	struct gw_timer t;
	struct gw_loop *loop;
	int ms;
};

static void on_stall(struct gw_loop *loop, void *arg)
{
	struct stall *s = arg;
	int64_t end = mono_ns() + (int64_t)s->ms * 1000000;
	while (mono_ns() < end)
		;
	gw_timer_schedule(loop, &s->t, 500);
}

static struct gw_audio *bridge(struct gw_loop *loop, unsigned period_ms, bool comp)
{
	struct gw_audio_params p;
	struct gw_audio *a;
	gw_audio_params_defaults(&p);
	p.radio_pcm = vr_pcm_name(VR_RADIO);
	p.phone_pcm = vr_pcm_name(VR_PHONE);
	p.period_ms = period_ms;
	p.drift_comp = comp;
	if (gw_audio_new_params(loop, &p, &a) < 0 || gw_audio_bridge_start(a) < 0) {
		fprintf(stderr, "cannot start the bridge (make alsa-plugin?)\n");
		exit(1);
	}
	return a;
}

static void latency_run(unsigned period_ms, int trials)
{
	struct vr_opts o;
	struct vr_rig *rig;
	vr_opts_default(&o);
	if (vr_rig_new(&o, &rig) < 0)
		exit(1);
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio *a = bridge(loop, period_ms, true);
	int16_t tone[RATE / 10];
	vr_tone(tone, RATE / 10, RATE, 1000, 12000);
	run_for(loop, 300);

	double sum[2] = {0}, mn[2] = {1e9, 1e9}, mx[2] = {0};
	int got[2] = {0};
	int64_t cpu0 = thread_cpu_ns(), t0 = mono_ns();
	for (int i = 0; i < 2 * trials; i++) {
		enum vr_side in = i % 2 ? VR_PHONE : VR_RADIO, out = i % 2 ? VR_RADIO : VR_PHONE;
		vr_played_reset(rig, out);
		run_for(loop, 150 + rand() % 26);
		int64_t t_in = vr_inject(rig, in, tone, RATE / 10);
		run_for(loop, 200);
		int16_t *s;
		long n = vr_played(rig, out, &s);
		long on = n > 0 ? vr_onset(s, (size_t)n, 0, 2000) : -1;
		free(s);
		if (t_in < 0 || on < 0)
			continue;
		double ms = (double)(vr_played_time(rig, out, (size_t)on) - t_in) / 1e6;
		int k = i % 2;
		sum[k] += ms;
		mn[k] = ms < mn[k] ? ms : mn[k];
		mx[k] = ms > mx[k] ? ms : mx[k];
		got[k]++;
	}
	double audio_s = (double)(mono_ns() - t0) / 1e9;
	double cpu_ms = (double)(thread_cpu_ns() - cpu0) / 1e6;
	struct gw_audio_stats st;
	gw_audio_stats(a, &st);
	for (int k = 0; k < 2; k++) {
		const struct gw_audio_dir_stats *d = k ? &st.to_radio : &st.to_phone;
		printf("period %2u ms %s: tone onset %.1f / %.1f / %.1f ms (mean/min/max, %d "
		       "trials); bridge latency %.1f ms (%.1f..%.1f); xruns %u/%u\n",
		       period_ms, k ? "phone->radio" : "radio->phone",
		       got[k] ? sum[k] / got[k] : 0.0, got[k] ? mn[k] : 0.0, mx[k], got[k],
		       d->latency_us / 1e3, d->latency_min_us / 1e3, d->latency_max_us / 1e3,
		       d->xruns_capture, d->xruns_playback);
	}
	printf("period %2u ms: loop thread CPU %.2f ms per second of bridged audio (both "
	       "directions)\n",
	       period_ms, cpu_ms / audio_s);
	gw_audio_free(a);
	gw_loop_free(loop);
	vr_rig_free(rig);
}

static void drift_run(double ppm, bool comp, double card_s, double speed)
{
	struct vr_opts o;
	struct vr_rig *rig;
	vr_opts_default(&o);
	o.phone_ppm = ppm;
	o.speed = speed;
	if (vr_rig_new(&o, &rig) < 0)
		exit(1);
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio *a = bridge(loop, 10, comp);
	run_for(loop, (int64_t)(card_s * 1000 / speed));
	struct gw_audio_stats st;
	gw_audio_stats(a, &st);
	for (int k = 0; k < 2; k++) {
		const struct gw_audio_dir_stats *d = k ? &st.to_radio : &st.to_phone;
		printf("drift %+6.0f ppm, %s, %3.0f s of card time: %s latency %.1f ms now, "
		       "%.1f..%.1f; dropped %llu repeated %llu; xruns %u/%u\n",
		       ppm, comp ? "compensated  " : "uncompensated", card_s,
		       k ? "phone->radio" : "radio->phone", d->latency_us / 1e3,
		       d->latency_min_us / 1e3, d->latency_max_us / 1e3,
		       (unsigned long long)d->dropped, (unsigned long long)d->inserted,
		       d->xruns_capture, d->xruns_playback);
	}
	gw_audio_free(a);
	gw_loop_free(loop);
	vr_rig_free(rig);
}

static void stall_run(unsigned period_ms, int stall_ms)
{
	struct vr_opts o;
	struct vr_rig *rig;
	vr_opts_default(&o);
	if (vr_rig_new(&o, &rig) < 0)
		exit(1);
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio *a = bridge(loop, period_ms, true);
	struct stall s = {.loop = loop, .ms = stall_ms};
	gw_timer_init(&s.t, on_stall, &s);
	gw_timer_schedule(loop, &s.t, 500);
	run_for(loop, 5000);
	gw_timer_cancel(loop, &s.t);
	struct gw_audio_stats st;
	gw_audio_stats(a, &st);
	printf("period %2u ms, loop stalls of %2d ms twice a second, 5 s: xruns radio->phone "
	       "%u/%u, phone->radio %u/%u (capture/playback)\n",
	       period_ms, stall_ms, st.to_phone.xruns_capture, st.to_phone.xruns_playback,
	       st.to_radio.xruns_capture, st.to_radio.xruns_playback);
	gw_audio_free(a);
	gw_loop_free(loop);
	vr_rig_free(rig);
}

int main(int argc, char **argv)
{
	int trials = argc > 1 ? atoi(argv[1]) : 20;
	setvbuf(stdout, NULL, _IOLBF, 0);
	gw_log_init("audio_latency", false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	srand((unsigned)mono_ns());
	if (trials < 1)
		trials = 1;
	latency_run(10, trials);
	latency_run(5, trials);
	drift_run(100, true, 60, 2);
	drift_run(-100, true, 60, 2);
	drift_run(100, false, 60, 2);
	drift_run(2000, true, 10, 1);
	drift_run(-2000, true, 10, 1);
	drift_run(2000, false, 10, 1);
	for (int s = 2; s <= 8; s *= 2)
		stall_run(10, s);
	return 0;
}
