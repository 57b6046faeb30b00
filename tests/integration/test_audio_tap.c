/*
 * Integration tests for the bridge's tap and radio TX gate (gateway/audio.c) through
 * the virtual cards (tools/alsa) on the manual clock, the bridge in a gw_loop in this
 * process run to idle after every 1 ms step (loop_run.h):
 *  - the tap sees every captured period of both sides, bit-exact, tagged by side;
 *  - with the gate closed, phone speech reaches the radio as silence (the tap still
 *    sees it, for the recorder and the VAD); reopened, it passes bit-exact again;
 *  - the radio -> phone direction is never gated;
 *  - a VAD on the tap's phone side reports talk for injected speech-like audio.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alsa/asoundlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tools/alsa/vcard_rig.h"
#include "voice/audio.h"
#include "core/log.h"
#include "core/loop.h"
#include "loop_run.h"
#include "voice/vad.h"

#define RATE 8000

struct tapped {
	int16_t *s[2];
	long n[2], cap;
	struct gw_vad vad;
	int talk_on, talk_off;
};

static void on_talk(void *arg, bool talking)
{
	struct tapped *t = arg;
	if (talking)
		t->talk_on++;
	else
		t->talk_off++;
}

static void tap(void *arg, enum gw_audio_side from, const int16_t *pcm, int n)
{
	struct tapped *t = arg;
	int k = from == GW_AUDIO_RADIO ? 0 : 1;
	if (t->n[k] + n <= t->cap) {
		memcpy(t->s[k] + t->n[k], pcm, (size_t)n * sizeof(*pcm));
		t->n[k] += n;
	}
	if (from == GW_AUDIO_PHONE)
		gw_vad_process(&t->vad, pcm, n);
}

static long played_find(struct vr_rig *rig, enum vr_side side, const int16_t *want, size_t n)
{
	int16_t *got;
	long len = vr_played(rig, side, &got);
	long at = len > 0 ? vr_find(got, (size_t)len, want, n) : -1;
	free(got);
	return at;
}

static void test_tap_and_gate(void **state)
{
	(void)state;
	struct vr_opts o;
	struct vr_rig *rig;
	struct gw_audio_params p;
	struct gw_audio *a;
	struct tapped t = {.cap = 10 * RATE};
	struct gw_vad_params vp;
	gw_vad_params_defaults(&vp);
	assert_int_equal(gw_vad_init(&t.vad, &vp, on_talk, &t), 0);
	t.s[0] = malloc((size_t)t.cap * 2);
	t.s[1] = malloc((size_t)t.cap * 2);
	vr_opts_default(&o);
	o.manual = VR_MANUAL;
	assert_int_equal(vr_rig_new(&o, &rig), 0);
	struct gw_loop *loop = gw_loop_new();
	gw_audio_params_defaults(&p);
	p.radio_pcm = vr_pcm_name(VR_RADIO);
	p.phone_pcm = vr_pcm_name(VR_PHONE);
	assert_int_equal(gw_audio_new_params(loop, &p, &a), 0);
	assert_int_equal(gw_audio_set_tap(a, tap, &t), 0);
	assert_int_equal(gw_audio_bridge_start(a), 0);
	lr_run_cards(rig, loop, 200);

	size_t n = RATE / 2;
	int16_t *r = malloc(n * 2), *ph = malloc(n * 2), *ph2 = malloc(n * 2);
	vr_noise(r, n, 41, 20000);
	vr_noise(ph, n, 42, 20000);
	vr_noise(ph2, n, 43, 20000);
	/* open: both ways through, and the tap saw both as captured */
	assert_true(vr_inject(rig, VR_RADIO, r, n) > 0);
	assert_true(vr_inject(rig, VR_PHONE, ph, n) > 0);
	lr_run_cards(rig, loop, 800);
	assert_true(played_find(rig, VR_RADIO, ph, n) >= 0);
	assert_true(played_find(rig, VR_PHONE, r, n) >= 0);
	assert_true(vr_find(t.s[0], (size_t)t.n[0], r, n) >= 0);
	assert_true(vr_find(t.s[1], (size_t)t.n[1], ph, n) >= 0);
	assert_true(t.talk_on >= 1); /* the VAD on the tap heard the phone side */

	/* closed: the radio gets silence for the phone's noise; radio->phone unaffected */
	vr_played_reset(rig, VR_RADIO);
	vr_played_reset(rig, VR_PHONE);
	assert_int_equal(gw_audio_set_radio_tx_gate(a, false), 0);
	assert_true(vr_inject(rig, VR_PHONE, ph2, n) > 0);
	assert_true(vr_inject(rig, VR_RADIO, r, n) > 0);
	lr_run_cards(rig, loop, 800);
	int peak = vr_played_peak(rig, VR_RADIO);
	print_message("radio played peak with the gate closed: %d\n", peak);
	assert_int_equal(peak, 0);
	assert_true(played_find(rig, VR_PHONE, r, n) >= 0);
	assert_true(vr_find(t.s[1], (size_t)t.n[1], ph2, n) >= 0); /* tapped before the gate */

	/* open again: bit-exact again */
	vr_played_reset(rig, VR_RADIO);
	assert_int_equal(gw_audio_set_radio_tx_gate(a, true), 0);
	assert_true(vr_inject(rig, VR_PHONE, ph2, n) > 0);
	lr_run_cards(rig, loop, 800);
	assert_true(played_find(rig, VR_RADIO, ph2, n) >= 0);

	struct gw_audio_stats st;
	gw_audio_stats(a, &st);
	assert_int_equal(st.to_radio.xruns_playback + st.to_phone.xruns_playback, 0);
	gw_audio_free(a);
	gw_loop_free(loop);
	vr_rig_free(rig);
	snd_config_update_free_global();
	free(r);
	free(ph);
	free(ph2);
	free(t.s[0]);
	free(t.s[1]);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tap_and_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
