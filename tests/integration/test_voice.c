/*
 * Integration tests for the voice path around the bridge (gateway/audio.c prompt
 * sources and phone listener, gateway/dtmf.c) through the virtual sound cards
 * (tools/alsa): the audio runs in a real gw_loop in this process, the cards on the
 * manual clock (VR_MANUAL), moved 1 ms at a time with the loop run to idle after each.
 *  - While announcing: keys sent into the phone card's capture are detected in-band,
 *    all 16 in order, and neither side hears the other (both play silence).
 *  - The prompts built by make come out of the cards bit-exact: the announcement on
 *    the phone (again from the start on '*'), the hold message on the radio; then the
 *    bridge passes audio through again. Prompt files that do not fit are refused.
 * Needs build/alsa/libasound_module_pcm_vcard.so (make alsa-plugin); run from the
 * repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alsa/asoundlib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice/audio.h"
#include "voice/dtmf.h"
#include "core/log.h"
#include "core/loop.h"
#include "voice/prompt.h"
#include "../../tools/alsa/vcard_rig.h"

#define RATE 8000
#define KEYS "123A456B789C*0#D"

struct fx {
	struct vr_rig *rig;
	struct gw_loop *loop;
	struct gw_audio *a;
	struct gw_dtmf *dtmf;
	char keys[64];
	int nkeys;
	int64_t heard; /* phone capture samples the listener saw */
};

/* One millisecond of the cards' clock (VR_MANUAL), then the loop until it has nothing to do. */
static void step(struct fx *f)
{
	assert_int_equal(vr_advance(f->rig, 1000000, 30000), 0);
	while (gw_loop_run_once(f->loop, 0) > 0)
		;
}

/* Run the loop until side's card has played at least want samples (20 s at most). */
static void play_until(struct fx *f, enum vr_side side, long want)
{
	int64_t end = gw_loop_now_ms(f->loop) + 20000;
	while (gw_loop_now_ms(f->loop) < end) {
		int16_t *s;
		long n = vr_played(f->rig, side, &s);
		free(s);
		if (n >= want)
			return;
		step(f);
	}
	fail_msg("the card played less than %ld samples in 20 s", want);
}

/* Run the loop until side has played its whole prompt, then a quarter second more. */
static void play_prompt_out(struct fx *f, enum gw_audio_side side)
{
	enum vr_side card = side == GW_AUDIO_PHONE ? VR_PHONE : VR_RADIO;
	int64_t end = gw_loop_now_ms(f->loop) + 30000;
	while (gw_audio_playing(f->a, side) && gw_loop_now_ms(f->loop) < end)
		step(f);
	assert_false(gw_audio_playing(f->a, side));
	int16_t *s;
	long n = vr_played(f->rig, card, &s);
	free(s);
	play_until(f, card, n + RATE / 4);
}

static void on_key(void *arg, char digit)
{
	struct fx *f = arg;
	if (f->nkeys < (int)sizeof(f->keys) - 1)
		f->keys[f->nkeys++] = digit;
}

static void on_phone(void *arg, const int16_t *s, size_t n)
{
	struct fx *f = arg;
	f->heard += (int64_t)n;
	gw_dtmf_feed(f->dtmf, s, n);
}

static void fx_up(struct fx *f)
{
	struct vr_opts o;
	struct gw_audio_params p;
	memset(f, 0, sizeof(*f));
	vr_opts_default(&o);
	o.manual = VR_MANUAL;
	assert_int_equal(vr_rig_new(&o, &f->rig), 0);
	f->loop = gw_loop_new();
	assert_non_null(f->loop);
	gw_audio_params_defaults(&p);
	p.radio_pcm = vr_pcm_name(VR_RADIO);
	p.phone_pcm = vr_pcm_name(VR_PHONE);
	assert_int_equal(gw_audio_new_params(f->loop, &p, &f->a), 0);
	assert_int_equal(gw_dtmf_new(gw_audio_rate(f->a), on_key, f, &f->dtmf), 0);
	gw_audio_set_phone_listener(f->a, on_phone, f);
}

static void fx_down(struct fx *f)
{
	gw_audio_free(f->a);
	gw_dtmf_free(f->dtmf);
	gw_loop_free(f->loop);
	vr_rig_free(f->rig);
	snd_config_update_free_global();
}

/* The 16 keys, 60 ms on and 60 ms off, each tone at amplitude 5000. */
static int16_t *make_keys(size_t *n)
{
	static const char *const rows[4] = {"123A", "456B", "789C", "*0#D"};
	static const double low[4] = {697, 770, 852, 941}, high[4] = {1209, 1336, 1477, 1633};
	size_t per = RATE * 120 / 1000, on = RATE * 60 / 1000;
	*n = per * 16;
	int16_t *s = calloc(*n, sizeof(*s));
	assert_non_null(s);
	for (int k = 0; k < 16; k++) {
		int r = 0, c = 0;
		for (r = 0; r < 4 && !strchr(rows[r], KEYS[k]); r++)
			;
		c = (int)(strchr(rows[r], KEYS[k]) - rows[r]);
		for (size_t i = 0; i < on; i++) {
			double t = (double)i / RATE;
			s[per * (size_t)k + i] = (int16_t)lrint(
			    5000 * (sin(2 * M_PI * low[r] * t) + sin(2 * M_PI * high[c] * t)));
		}
	}
	return s;
}

static long peak(struct vr_rig *rig, enum vr_side side, long *count)
{
	int16_t *s;
	long n = vr_played(rig, side, &s), pk = 0;
	assert_true(n >= 0);
	for (long i = 0; i < n; i++)
		pk = labs((long)s[i]) > pk ? labs((long)s[i]) : pk;
	free(s);
	*count = n;
	return pk;
}

static void test_keys_heard_while_announcing(void **state)
{
	(void)state;
	struct fx f;
	fx_up(&f);
	gw_audio_mute(f.a, GW_AUDIO_PHONE);
	gw_audio_mute(f.a, GW_AUDIO_RADIO);
	assert_int_equal(gw_audio_bridge_start(f.a), 0);
	play_until(&f, VR_PHONE, RATE / 5);
	size_t n;
	int16_t *keys = make_keys(&n);
	int16_t *noise = malloc(RATE * sizeof(*noise));
	vr_noise(noise, RATE, 3, 8000);
	assert_true(vr_inject(f.rig, VR_PHONE, keys, n) > 0);
	assert_true(vr_inject(f.rig, VR_RADIO, noise, RATE) > 0);
	play_until(&f, VR_PHONE, RATE / 5 + (long)n + RATE / 2);
	f.keys[f.nkeys] = 0;
	long played_r, played_p;
	long pk_r = peak(f.rig, VR_RADIO, &played_r), pk_p = peak(f.rig, VR_PHONE, &played_p);
	print_message("heard %lld samples, keys '%s'; radio played %ld (peak %ld), phone %ld "
		      "(peak %ld)\n",
		      (long long)f.heard, f.keys, played_r, pk_r, played_p, pk_p);
	assert_string_equal(f.keys, KEYS);
	/* muted both ways: the officer does not hear the worker's keys, nor the worker
	   the radio, before the accept */
	assert_true(played_r > RATE && played_p > RATE);
	assert_int_equal(pk_r, 0);
	assert_int_equal(pk_p, 0);
	free(keys);
	free(noise);
	fx_down(&f);
}

/* Where the prompt came out on side from sample from, period by period (vr_find_chunks). */
static long find_played(struct fx *f, enum vr_side side, const int16_t *pcm, size_t n, long from,
			int *missing, bool *whole)
{
	int16_t *got;
	int w;
	long len = vr_played(f->rig, side, &got);
	assert_true(len >= 0);
	long at = vr_find_chunks(got, (size_t)len, (size_t)from, pcm, n, RATE / 100, missing, &w);
	free(got);
	*whole = w;
	return at;
}

/*
 * The prompts built by make (build/prompts/<lang>, 8 kHz) through the cards in real
 * time: the announcement comes out of the phone card and the hold message out of the
 * radio card bit-exact (period by period; whole when no xrun happened: on a loaded
 * machine the cards can underrun, and a re-prime puts silence between periods or skips
 * some); '*' plays the announcement again from its start; 4 pressed 2 s into it: both
 * sides pass audio through again.
 */
static void test_prompts_reach_the_cards(void **state)
{
	(void)state;
	static const char *const langs[] = {"fi", "sv", "en"};
	struct gw_prompts *pr;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(gw_prompts_load("build/prompts", langs[i], RATE, &pr), 0);
		gw_prompts_free(pr);
	}
	assert_int_equal(gw_prompts_load("build/prompts", "fi", RATE, &pr), 0);
	const struct gw_prompt *hold = gw_prompts_get(pr, GW_PROMPT_HOLD);
	const int16_t *ann;
	size_t n;
	assert_int_equal(gw_prompts_announcement(pr, NULL, 0, &ann, &n), 0);
	print_message("announcement %.2f s, hold %.2f s\n", (double)n / RATE,
		      (double)hold->n / RATE);

	struct fx f;
	fx_up(&f);
	gw_audio_play(f.a, GW_AUDIO_PHONE, ann, n);
	gw_audio_play(f.a, GW_AUDIO_RADIO, hold->pcm, hold->n);
	assert_int_equal(gw_audio_bridge_start(f.a), 0);
	play_prompt_out(&f, GW_AUDIO_PHONE);
	bool whole, hwhole, awhole;
	int miss, hmiss, amiss;
	long at = find_played(&f, VR_PHONE, ann, n, 0, &miss, &whole);
	long hat = find_played(&f, VR_RADIO, hold->pcm, hold->n, 0, &hmiss, &hwhole);

	/* '*': from the start again; 4 pressed 2 s into it (below: pass-through) */
	int16_t *got;
	long played = vr_played(f.rig, VR_PHONE, &got);
	free(got);
	gw_audio_play(f.a, GW_AUDIO_PHONE, ann, n);
	assert_true(gw_audio_playing(f.a, GW_AUDIO_PHONE));
	play_until(&f, VR_PHONE, played + 2 * RATE);
	long again = find_played(&f, VR_PHONE, ann, RATE * 3 / 2, played, &amiss, &awhole);
	struct gw_audio_stats st;
	gw_audio_stats(f.a, &st);
	unsigned xruns = st.to_phone.xruns_playback + st.to_radio.xruns_playback +
			 st.to_phone.xruns_capture + st.to_radio.xruns_capture;
	print_message("announcement at phone sample %ld (%s, %d periods missing), again at %ld "
		      "(%s, %d); hold at radio sample %ld (%s, %d); xruns %u\n",
		      at, whole ? "whole" : "in pieces", miss, again,
		      awhole ? "whole" : "in pieces", amiss, hat, hwhole ? "whole" : "in pieces",
		      hmiss, xruns);
	assert_true(at >= 0);
	assert_true(hat >= 0);
	assert_true(again >= played);
	if (xruns == 0) /* no xrun: each in one piece, bit-exact */
		assert_true(whole && awhole && hwhole);
	else /* an xrun re-primes playback: silence between periods, a few skipped */
		assert_true((miss + amiss + hmiss) * 10 <= (int)((n + hold->n) / (RATE / 100)));

	/* accepted: the bridge passes the other side through again */
	gw_audio_pass(f.a, GW_AUDIO_PHONE);
	gw_audio_pass(f.a, GW_AUDIO_RADIO);
	int16_t *noise = malloc(RATE * sizeof(*noise));
	vr_noise(noise, RATE, 9, 15000);
	vr_played_reset(f.rig, VR_PHONE);
	assert_true(vr_inject(f.rig, VR_RADIO, noise, RATE) > 0);
	play_until(&f, VR_PHONE, RATE + RATE / 2);
	assert_true(find_played(&f, VR_PHONE, noise, RATE, 0, &miss, &whole) >= 0);
	gw_audio_stats(f.a, &st);
	if (st.to_phone.xruns_playback == 0)
		assert_true(whole);
	free(noise);
	fx_down(&f);
	gw_prompts_free(pr);
}

/* Files that are not 16-bit mono WAV at the device rate are refused, with a reason. */
static void test_prompt_files_checked(void **state)
{
	(void)state;
	struct gw_prompts *pr = NULL;
	assert_int_equal(gw_prompts_load("build/prompts", "fi", 16000, &pr), -EINVAL);
	assert_int_equal(gw_prompts_load("build/prompts", "xx", RATE, &pr), -ENOENT);
	assert_null(pr);
	struct gw_prompt p;
	static const unsigned char junk[] = "RIFF\x10\0\0\0WAVEfmt junk";
	assert_int_equal(gw_prompt_parse(junk, sizeof(junk), RATE, "junk", &p), -EINVAL);
	assert_null(p.pcm);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_heard_while_announcing),
	    cmocka_unit_test(test_prompts_reach_the_cards),
	    cmocka_unit_test(test_prompt_files_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
