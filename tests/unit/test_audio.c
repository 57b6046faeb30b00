/*
 * Unit tests for gateway/audio.c: the drift compensator in a closed loop (no sound
 * devices), parameter checks, and opening devices by name through alsa-lib's "null"
 * PCM. Paced behaviour through real PCMs is tests/integration/test_audio.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "voice/audio.h"
#include "core/log.h"
#include "core/loop.h"

#define P    80 /* 10 ms at 8 kHz */
#define RATE 8000

static void fill(int16_t *buf, int n, int amp, uint32_t *seed)
{
	for (int i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		int v = (int)((*seed >> 16) % (uint32_t)(2 * amp + 1)) - amp;
		buf[i] = (int16_t)(v ? v : 1);
	}
}

/* Equal clocks: the phase only jitters by a pointer tick; nothing may change. */
static void test_drift_constant_phase_is_bit_exact(void **state)
{
	(void)state;
	struct gw_audio_drift d;
	int16_t in[P], out[P + 1];
	uint32_t seed = 1;
	gw_audio_drift_init(&d, P, RATE);
	for (int k = 0; k < 20000; k++) {
		fill(in, P, 200, &seed); /* quiet: any correction would be allowed */
		int phase = 48 - (k % 3 == 0 ? 8 : 0);
		int n = gw_audio_drift_process(&d, phase, in, P, out);
		assert_int_equal(n, P);
		assert_memory_equal(in, out, sizeof(in));
	}
	assert_int_equal(d.dropped + d.inserted, 0);
}

/*
 * Closed loop: the playback clock is slower (positive drift: latency grows) or faster
 * (the margin shrinks) than capture by ppm. Each dropped sample takes one frame off the
 * phase, each repeated sample adds one. Returns the largest |phase - target| seen.
 */
static int closed_loop(long ppm, int amp, uint64_t *dropped, uint64_t *inserted)
{
	struct gw_audio_drift d;
	int16_t in[P], out[P + 1];
	uint32_t seed = 7;
	double drift = 0;
	int corr = 0, worst = 0, base = 44;
	gw_audio_drift_init(&d, P, RATE);
	for (int k = 0; k < 60000; k++) { /* 600 s of 10 ms periods */
		drift += (double)ppm * 1e-6 * P;
		int phase = base + (int)drift + corr + (k % 2 ? 4 : 0);
		fill(in, P, amp, &seed);
		int n = gw_audio_drift_process(&d, phase, in, P, out);
		assert_in_range(n, P - 1, P + 1);
		corr += n - P;
		if (k > 100) {
			int e = phase - 2 - d.target;
			worst = abs(e) > worst ? abs(e) : worst;
		}
	}
	print_message("ppm %ld amp %d: worst %d, band %d\n", ppm, amp, worst, d.band);
	*dropped = d.dropped;
	*inserted = d.inserted;
	return worst;
}

static void test_drift_holds_phase_in_silence(void **state)
{
	(void)state;
	uint64_t dr, in;
	struct gw_audio_drift ref;
	gw_audio_drift_init(&ref, P, RATE);
	/* +100 ppm: 0.8 frames/s of extra latency, 480 frames in 600 s */
	int worst = closed_loop(100, 300, &dr, &in);
	assert_in_range(dr, 480 - ref.band - 4, 480);
	assert_int_equal(in, 0);
	assert_true(worst <= ref.band + 8); /* band + smoothing lag + tick jitter */
	/* -2000 ppm: the margin would be gone in 2.5 s without repeats */
	worst = closed_loop(-2000, 300, &dr, &in);
	assert_in_range(in, 9600 - ref.band - 4, 9600);
	assert_int_equal(dr, 0);
	assert_true(worst <= ref.band + 8); /* band + smoothing lag + tick jitter */
}

static void test_drift_spares_speech_until_urgent(void **state)
{
	(void)state;
	uint64_t dr, in;
	struct gw_audio_drift ref;
	gw_audio_drift_init(&ref, P, RATE);
	/* Never silent: corrections wait for twice the band, and still hold it there. */
	int worst = closed_loop(100, 8000, &dr, &in);
	assert_true(worst > ref.band + 2);
	assert_true(worst <= 2 * ref.band + 8);
	assert_in_range(dr, 460, 490);
}

/* A repeat doubles the quietest sample, a drop removes it; the rest is untouched. */
static void test_drift_edits_the_quietest_sample(void **state)
{
	(void)state;
	struct gw_audio_drift d;
	int16_t in[P], out[P + 1];
	for (int i = 0; i < P; i++)
		in[i] = (int16_t)(100 + i);
	in[30] = 3;
	gw_audio_drift_init(&d, P, RATE);
	for (int k = 0; k < 8; k++)
		assert_int_equal(gw_audio_drift_process(&d, 40, in, P, out), P);
	int n = 0;
	for (int k = 0; k < 40 && n == 0; k++) {
		int r = gw_audio_drift_process(&d, 40 - 3 * d.band, in, P, out);
		n = r == P ? 0 : r;
	}
	assert_int_equal(n, P + 1);
	assert_memory_equal(out, in, 31 * sizeof(*in));
	assert_int_equal(out[31], 3);
	assert_memory_equal(out + 32, in + 31, (P - 31) * sizeof(*in));

	gw_audio_drift_init(&d, P, RATE);
	for (int k = 0; k < 8; k++)
		gw_audio_drift_process(&d, 40, in, P, out);
	n = 0;
	for (int k = 0; k < 40 && n == 0; k++) {
		int r = gw_audio_drift_process(&d, 40 + 3 * d.band, in, P, out);
		n = r == P ? 0 : r;
	}
	assert_int_equal(n, P - 1);
	assert_memory_equal(out, in, 30 * sizeof(*in));
	assert_memory_equal(out + 30, in + 31, (P - 31) * sizeof(*in));
}

static void test_params_checked(void **state)
{
	(void)state;
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio_params p;
	struct gw_audio *a = NULL;
	gw_audio_params_defaults(&p);
	assert_int_equal(p.rate, 8000);
	assert_int_equal(p.period_ms, 10);
	assert_true(p.drift_comp);
	assert_int_equal(gw_audio_new_params(loop, &p, &a), -EINVAL); /* no names */
	p.radio_pcm = p.phone_pcm = "null";
	p.period_ms = 2;
	assert_int_equal(gw_audio_new_params(loop, &p, &a), -EINVAL);
	p.period_ms = 10;
	p.rate = 4000;
	assert_int_equal(gw_audio_new_params(loop, &p, &a), -EINVAL);
	assert_null(a);
	gw_loop_free(loop);
}

static void test_unknown_pcm_fails_cleanly(void **state)
{
	(void)state;
	struct gw_loop *loop = gw_loop_new();
	struct gw_conf conf;
	struct gw_audio *a = NULL;
	gw_conf_defaults(&conf);
	snprintf(conf.audio_radio, sizeof(conf.audio_radio), "rinki_no_such_pcm");
	snprintf(conf.audio_phone, sizeof(conf.audio_phone), "null");
	int err = gw_audio_new(loop, &conf, &a);
	assert_true(err < 0);
	assert_null(a);
	gw_loop_free(loop);
}

/* The "null" PCM takes any setup and is never paced: enough to run start/stop. */
static void test_bridge_start_stop_on_null(void **state)
{
	(void)state;
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio_params p;
	struct gw_audio *a = NULL;
	struct gw_audio_stats st;
	gw_audio_params_defaults(&p);
	p.radio_pcm = p.phone_pcm = "null";
	assert_int_equal(gw_audio_new_params(loop, &p, &a), 0);
	assert_int_equal(gw_audio_bridge_stop(a), -EALREADY);
	assert_int_equal(gw_audio_bridge_start(a), 0);
	assert_int_equal(gw_audio_bridge_start(a), -EALREADY);
	for (int i = 0; i < 5; i++)
		gw_loop_run_once(loop, 10);
	gw_audio_stats(a, &st);
	assert_true(st.running);
	assert_true(st.to_phone.frames_in >= P);
	assert_true(st.to_radio.frames_in >= P);
	assert_int_equal(gw_audio_bridge_stop(a), 0);
	gw_audio_stats(a, &st);
	assert_false(st.running);
	gw_audio_free(a);
	gw_loop_free(loop);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drift_constant_phase_is_bit_exact),
	    cmocka_unit_test(test_drift_holds_phase_in_silence),
	    cmocka_unit_test(test_drift_spares_speech_until_urgent),
	    cmocka_unit_test(test_drift_edits_the_quietest_sample),
	    cmocka_unit_test(test_params_checked),
	    cmocka_unit_test(test_unknown_pcm_fails_cleanly),
	    cmocka_unit_test(test_bridge_start_stop_on_null),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	snd_config_update_free_global();
	return rc;
}
