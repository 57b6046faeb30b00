/*
 * Integration tests for gateway/audio.c through the virtual sound cards (tools/alsa: the
 * vcard plugin and the vcard_rig harness). The bridge runs in a real gw_loop in this
 * process; the cards run on the rig's manual clock: the test moves it 1 ms at a time
 * (vr_advance waits until every stream has moved) and then runs the loop until it has
 * nothing left to do, so every result is the same on a fast or a loaded machine:
 *  - bit-exact pass-through both ways at equal clocks, and a WAV file in and out;
 *  - +100 ppm between the cards over 32 s of card time: latency stays within the
 *    compensator's band, each direction corrects the right way;
 *  - +2000 ppm: no underrun, where the uncompensated bridge has one every 2.5 s;
 *  - a 40 ms loop stall: the xrun is recovered and the latency comes back to where it was.
 * Needs build/alsa/libasound_module_pcm_vcard.so (make alsa-plugin); run from the
 * repository root like every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "voice/audio.h"
#include "core/log.h"
#include "core/loop.h"
#include "../../tools/alsa/vcard_rig.h"
#include "loop_run.h"

#define RATE 8000

struct fx {
	struct vr_rig *rig;
	struct gw_loop *loop;
	struct gw_audio *a;
};

static void fx_up(struct fx *f, struct vr_opts *o, unsigned period_ms, bool comp)
{
	struct gw_audio_params p;
	o->manual = VR_MANUAL;
	assert_int_equal(vr_rig_new(o, &f->rig), 0);
	f->loop = gw_loop_new();
	assert_non_null(f->loop);
	gw_audio_params_defaults(&p);
	p.radio_pcm = vr_pcm_name(VR_RADIO);
	p.phone_pcm = vr_pcm_name(VR_PHONE);
	p.period_ms = period_ms;
	p.drift_comp = comp;
	assert_int_equal(gw_audio_new_params(f->loop, &p, &f->a), 0);
	assert_int_equal(gw_audio_bridge_start(f->a), 0);
}

static void fx_down(struct fx *f)
{
	gw_audio_free(f->a);
	gw_loop_free(f->loop);
	vr_rig_free(f->rig);
	snd_config_update_free_global();
}

static void print_dir(const char *what, const struct gw_audio_dir_stats *d)
{
	print_message("%s: latency %.2f ms (%.2f..%.2f), dropped %llu, repeated %llu, "
		      "xruns %u/%u\n",
		      what, d->latency_us / 1e3, d->latency_min_us / 1e3, d->latency_max_us / 1e3,
		      (unsigned long long)d->dropped, (unsigned long long)d->inserted,
		      d->xruns_capture, d->xruns_playback);
}

/* Move the cards' clock ms by ms; after each step the bridge does all it can. */
static void run_cards(struct fx *f, int ms)
{
	lr_run_cards(f->rig, f->loop, ms);
}

/* What came out of side must contain want bit-exactly. */
static void assert_copy(struct vr_rig *rig, enum vr_side side, const int16_t *want, size_t n)
{
	int16_t *got;
	long len = vr_played(rig, side, &got);
	assert_true(len > 0);
	long at = vr_find(got, (size_t)len, want, n);
	if (at < 0)
		print_message("%s: %zu samples not found in %ld played\n",
			      side == VR_RADIO ? "radio" : "phone", n, len);
	assert_true(at >= 0);
	free(got);
}

static void test_bit_exact_both_ways(void **state)
{
	(void)state;
	struct fx f;
	struct vr_opts o;
	vr_opts_default(&o);
	fx_up(&f, &o, 10, true);
	run_cards(&f, 200);
	size_t n = RATE; /* 1 s of noise each way, no zero samples, different seeds */
	int16_t *r = malloc(n * 2), *p = malloc(n * 2);
	vr_noise(r, n, 11, 20000);
	vr_noise(p, n, 22, 20000);
	assert_true(vr_inject(f.rig, VR_RADIO, r, n) > 0);
	assert_true(vr_inject(f.rig, VR_PHONE, p, n) > 0);
	run_cards(&f, 1300);
	assert_copy(f.rig, VR_PHONE, r, n);
	assert_copy(f.rig, VR_RADIO, p, n);
	struct gw_audio_stats st;
	gw_audio_stats(f.a, &st);
	print_dir("radio->phone", &st.to_phone);
	print_dir("phone->radio", &st.to_radio);
	assert_int_equal(st.to_phone.dropped + st.to_phone.inserted, 0);
	assert_int_equal(st.to_radio.dropped + st.to_radio.inserted, 0);
	/* 1.5 periods exactly: 10 ms capture + 5 ms margin (the cards keep the test's time) */
	assert_int_equal(st.to_phone.latency_us, 15000);
	assert_int_equal(st.to_radio.latency_us, 15000);
	free(r);
	free(p);
	fx_down(&f);
}

static void test_wav_in_wav_out(void **state)
{
	(void)state;
	char path[] = "/tmp/rinki-wav-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = 4000;
	int16_t *s = malloc(n * 2);
	vr_noise(s, n, 5, 12000);
	uint8_t h[44];
	uint32_t data = (uint32_t)n * 2;
	memcpy(h, "RIFF", 4);
	uint32_t v = 36 + data;
	memcpy(h + 4, &v, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	uint32_t fmt_len = 16, rate = RATE, byte_rate = RATE * 2;
	uint16_t pcm = 1, ch = 1, align = 2, bits = 16;
	memcpy(h + 16, &fmt_len, 4);
	memcpy(h + 20, &pcm, 2);
	memcpy(h + 22, &ch, 2);
	memcpy(h + 24, &rate, 4);
	memcpy(h + 28, &byte_rate, 4);
	memcpy(h + 32, &align, 2);
	memcpy(h + 34, &bits, 2);
	memcpy(h + 36, "data", 4);
	memcpy(h + 40, &data, 4);
	assert_int_equal(write(fd, h, 44), 44);
	assert_int_equal(write(fd, s, data), (ssize_t)data);
	int16_t *w;
	size_t wn;
	unsigned wr;
	assert_int_equal(vr_wav_load(path, &w, &wn, &wr), 0);
	assert_int_equal(wn, n);
	assert_int_equal(wr, RATE);
	assert_memory_equal(w, s, n * 2);
	free(w);
	/* a data chunk that claims more than the file holds is refused */
	assert_int_equal(ftruncate(fd, 44 + 100), 0);
	assert_int_equal(vr_wav_load(path, &w, &wn, &wr), -EINVAL);
	close(fd);
	unlink(path);
	free(s);
}

/*
 * Phone card 100 ppm fast: radio->phone must repeat samples, phone->radio drop them. 32 s
 * of card time is 3.2 ms = 25.6 frames of drift; uncompensated the latency would grow by
 * that, compensated it stays within the band (1.25 ms). The cards run on the test's clock,
 * so no run has an xrun and the figures are the same every time.
 */
static void test_drift_100ppm_bounded(void **state)
{
	(void)state;
	struct gw_audio_stats st;
	struct fx f;
	struct vr_opts o;
	vr_opts_default(&o);
	o.phone_ppm = 100;
	fx_up(&f, &o, 10, true);
	run_cards(&f, 32000);
	gw_audio_stats(f.a, &st);
	fx_down(&f);
	print_dir("radio->phone", &st.to_phone);
	print_dir("phone->radio", &st.to_radio);
	assert_int_equal(st.to_phone.xruns_playback + st.to_radio.xruns_playback +
			     st.to_phone.xruns_capture + st.to_radio.xruns_capture,
			 0);
	assert_int_equal(st.to_phone.dropped, 0);
	assert_int_equal(st.to_radio.inserted, 0);
	/* 25.6 frames of drift, about 10 (the band) left standing: 16 corrections each way,
	   and the latency spread is the band, 1.25 ms, where it would be 3.2 ms without */
	assert_int_equal(st.to_phone.inserted, 16);
	assert_int_equal(st.to_radio.dropped, 16);
	assert_int_equal(st.to_radio.latency_max_us - st.to_radio.latency_min_us, 1125);
	assert_int_equal(st.to_phone.latency_max_us - st.to_phone.latency_min_us, 1250);
}

/*
 * +2000 ppm on the phone: its playback eats 16 frames/s more than radio capture gives,
 * so uncompensated it underruns within about 2.5 s; compensated it never does.
 */
static void test_drift_2000ppm_no_underrun(void **state)
{
	(void)state;
	struct gw_audio_stats st;
	struct fx f;
	struct vr_opts o;
	vr_opts_default(&o);
	o.phone_ppm = 2000;
	fx_up(&f, &o, 10, true);
	run_cards(&f, 3500);
	gw_audio_stats(f.a, &st);
	print_dir("radio->phone", &st.to_phone);
	print_dir("phone->radio", &st.to_radio);
	fx_down(&f);
	assert_int_equal(st.to_phone.xruns_playback + st.to_radio.xruns_playback, 0);
	/* 56 frames of drift in 3.5 s, the band's 10 left standing */
	assert_int_equal(st.to_phone.inserted, 40);
	assert_int_equal(st.to_radio.dropped, 40);
}

/* Uncompensated, the same +2000 ppm underruns: the test above can tell the difference. */
static void test_drift_2000ppm_uncompensated_underruns(void **state)
{
	(void)state;
	struct gw_audio_stats st;
	struct fx f;
	struct vr_opts o;
	vr_opts_default(&o);
	o.phone_ppm = 2000;
	fx_up(&f, &o, 10, false);
	run_cards(&f, 3500);
	gw_audio_stats(f.a, &st);
	print_dir("radio->phone", &st.to_phone);
	fx_down(&f);
	/* half a period (40 frames) of margin is gone after 2.5 s: one underrun in 3.5 s */
	assert_int_equal(st.to_phone.xruns_playback, 1);
}

/* A 40 ms stall of the loop (the cards move on, the loop does not run): both playbacks
   underrun, and the phase comes back. */
static void test_stall_recovers_phase(void **state)
{
	(void)state;
	struct fx f;
	struct vr_opts o;
	vr_opts_default(&o);
	fx_up(&f, &o, 10, true);
	run_cards(&f, 500);
	struct gw_audio_stats before, after;
	gw_audio_stats(f.a, &before);
	assert_int_equal(vr_advance(f.rig, 40 * 1000000, 30000), 0);
	run_cards(&f, 700);
	gw_audio_stats(f.a, &after);
	print_dir("radio->phone", &after.to_phone);
	assert_int_equal(before.to_phone.xruns_playback, 0);
	assert_int_equal(after.to_phone.xruns_playback, 1);
	assert_int_equal(after.to_radio.xruns_playback, 1);
	assert_int_equal(after.to_phone.xruns_capture + after.to_radio.xruns_capture, 0);
	assert_int_equal(after.to_phone.latency_us, before.to_phone.latency_us);
	assert_int_equal(after.to_radio.latency_us, before.to_radio.latency_us);
	assert_true(after.running);
	fx_down(&f);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bit_exact_both_ways),
	    cmocka_unit_test(test_wav_in_wav_out),
	    cmocka_unit_test(test_drift_100ppm_bounded),
	    cmocka_unit_test(test_drift_2000ppm_no_underrun),
	    cmocka_unit_test(test_drift_2000ppm_uncompensated_underruns),
	    cmocka_unit_test(test_stall_recovers_phase),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
