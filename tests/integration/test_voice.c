/*
 * Integration tests for the voice path around the bridge (gateway/audio.c prompt
 * sources and phone listener, gateway/dtmf.c) through the paced virtual sound cards
 * (tools/alsa): the audio runs in a real gw_loop in this process, the cards on
 * CLOCK_MONOTONIC in their own threads.
 *  - While announcing: keys sent into the phone card's capture are detected in-band,
 *    all 16 in order, and neither side hears the other (both play silence).
 * Needs build/alsa/libasound_module_pcm_vcard.so (make alsa-plugin); run from the
 * repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alsa/asoundlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "dtmf.h"
#include "log.h"
#include "loop.h"
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

/* Run the loop until side's card has played at least want samples (10 s at most). */
static void play_until(struct fx *f, enum vr_side side, long want)
{
	for (int i = 0; i < 1000; i++) {
		int16_t *s;
		long n = vr_played(f->rig, side, &s);
		free(s);
		if (n >= want)
			return;
		gw_loop_run_once(f->loop, 10);
	}
	fail_msg("the card played less than %ld samples in 10 s", want);
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

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_heard_while_announcing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
