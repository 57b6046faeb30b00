/*
 * Unit tests for gateway/vad.c, fed in 1 ms chunks so the callback's time is known to 1 ms:
 *  - synthetic speech-like bursts (a voiced 150 Hz buzz with formant-ish harmonics,
 *    syllable-modulated) over line noise: talk starts within attack + one frame of each
 *    burst's onset, ends hangover (+ one frame) after it, one spurt per burst;
 *  - a sentence spoken by espeak-ng at test time (skipped when espeak-ng is missing):
 *    one spurt, started within attack + one frame of the first loud sample;
 *  - no chatter: 20 s of steady noise, noise drifting by +-5 dB, 2 ms clicks;
 *  - parameter ranges, reset without a callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "voice/vad.h"

#define RATE 8000

struct spurts {
	long pos; /* samples fed so far, at the end of the current chunk */
	long on[64], off[64];
	int non, noff;
};

static void on_talk(void *arg, bool talking)
{
	struct spurts *s = arg;
	if (talking && s->non < 64)
		s->on[s->non++] = s->pos;
	if (!talking && s->noff < 64)
		s->off[s->noff++] = s->pos;
}

/* Feed buf in 1 ms chunks, keeping s->pos at the end of the chunk being processed. */
static void feed(struct gw_vad *v, struct spurts *s, const int16_t *buf, long n, unsigned rate)
{
	long step = rate / 1000;
	for (long i = 0; i < n; i += step) {
		long k = n - i < step ? n - i : step;
		s->pos += k;
		gw_vad_process(v, buf + i, (int)k);
	}
}

static uint32_t rng = 12345;
static double urand(void) /* uniform [-1, 1) */
{
	rng = rng * 1664525u + 1013904223u;
	return (double)(rng >> 8) / (1 << 23) - 1.0;
}

static void add_noise(int16_t *b, long n, double amp)
{
	for (long i = 0; i < n; i++) {
		double v = b[i] + amp * urand();
		b[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
}

/* A voiced "syllable train": 150 Hz pulse-ish buzz, 4 Hz syllable envelope, peak amp. */
static void add_speechlike(int16_t *b, long from, long len, double amp)
{
	for (long i = 0; i < len; i++) {
		double t = (double)i / RATE;
		double env = 0.65 + 0.35 * sin(2 * M_PI * 4 * t); /* syllables, never silent */
		double x = 0;
		for (int h = 1; h <= 12; h++)
			x += sin(2 * M_PI * 150 * h * t) / h * (h == 4 || h == 8 ? 2.0 : 1.0);
		b[from + i] = (int16_t)(b[from + i] + amp * env * x / 3.0);
	}
}

/* Default parameters at RATE, reporting into s; returns n zeroed samples (caller frees). */
static int16_t *vad_up(struct gw_vad *v, struct gw_vad_params *p, struct spurts *s, long n)
{
	gw_vad_params_defaults(p);
	assert_int_equal(gw_vad_init(v, p, on_talk, s), 0);
	int16_t *b = calloc((size_t)n, sizeof(*b));
	assert_non_null(b);
	return b;
}

static void test_bursts_attack_and_hangover(void **state)
{
	(void)state;
	struct gw_vad_params p;
	struct gw_vad v;
	struct spurts s = {0};
	long n = 12 * RATE;
	int16_t *b = vad_up(&v, &p, &s, n);
	add_noise(b, n, 150); /* about -50 dBFS line noise */
	long start[4] = {2 * RATE, 4 * RATE + RATE / 3, 7 * RATE, 9 * RATE};
	long len[4] = {RATE * 6 / 10, RATE, RATE * 15 / 10, RATE / 5};
	for (int k = 0; k < 4; k++)
		add_speechlike(b, start[k], len[k], 6000);
	feed(&v, &s, b, n, RATE);
	free(b);
	print_message("talk on at");
	for (int k = 0; k < s.non; k++)
		print_message(" %.3f-%.3f", (double)s.on[k] / RATE,
			      k < s.noff ? (double)s.off[k] / RATE : -1.0);
	print_message(" s\n");
	assert_int_equal(s.non, 4);
	assert_int_equal(s.noff, 4);
	long frame = RATE * GW_VAD_FRAME_MS / 1000, ms = RATE / 1000;
	for (int k = 0; k < 4; k++) {
		long at = s.on[k] - start[k], end = s.off[k] - (start[k] + len[k]);
		assert_in_range(at, p.attack_ms * ms - frame, p.attack_ms * ms + frame);
		assert_in_range(end, p.hangover_ms * ms - frame, p.hangover_ms * ms + frame);
	}
}

static void test_no_chatter_on_noise(void **state)
{
	(void)state;
	struct gw_vad_params p;
	struct gw_vad v;
	struct spurts s = {0};
	long n = 20 * RATE;
	int16_t *b = vad_up(&v, &p, &s, n);
	/* steady noise at about -25 dBFS (louder than the speech of the test above) */
	add_noise(b, n, 3000);
	feed(&v, &s, b, n, RATE);
	assert_int_equal(s.non, 0);
	/* the same noise drifting +-5 dB over 4 s periods */
	memset(b, 0, (size_t)n * sizeof(*b));
	for (long i = 0; i < n; i++)
		b[i] =
		    (int16_t)(3000 * pow(10, 5 * sin(2 * M_PI * i / (4.0 * RATE)) / 20) * urand());
	feed(&v, &s, b, n, RATE);
	assert_int_equal(s.non, 0);
	/* quiet line with 2 ms clicks every 300 ms: too short for the attack */
	memset(b, 0, (size_t)n * sizeof(*b));
	add_noise(b, n, 100);
	for (long i = RATE; i + 16 < n; i += RATE * 3 / 10)
		for (int k = 0; k < 16; k++)
			b[i + k] = (int16_t)(k % 2 ? 20000 : -20000);
	feed(&v, &s, b, n, RATE);
	print_message("talk spurts on noise: %d; floor now %.1f dBFS\n", s.non, v.floor_db);
	assert_int_equal(s.non, 0);
	free(b);
}

/* espeak-ng says a sentence at test time; the VAD runs at its rate (22050 Hz). */
static void test_espeak_sentence(void **state)
{
	(void)state;
	char path[] = "/tmp/rinki-vad-XXXXXX.wav";
	int fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "espeak-ng -v en -s 160 -w %s 'Officer calling, requesting assistance at "
		 "the harbour, over.' 2>/dev/null",
		 path);
	if (system(cmd) != 0) {
		unlink(path);
		fail_msg("espeak-ng failed (it is in the Makefile's DEB_PKGS: make deps)");
	}
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 1);
	unsigned rate = (unsigned)info.samplerate;
	long lead = rate, n = (long)info.frames + 2 * (long)rate; /* 1 s of line noise around */
	int16_t *b = calloc((size_t)n, sizeof(*b));
	assert_int_equal(sf_readf_short(sf, b + lead, info.frames), info.frames);
	sf_close(sf);
	unlink(path);
	long first = -1, last = -1;
	for (long i = 0; i < n; i++)
		if (abs(b[i]) > 1000) {
			last = i;
			if (first < 0)
				first = i;
		}
	add_noise(b, n, 100);

	struct gw_vad_params p;
	struct gw_vad v;
	struct spurts s = {0};
	gw_vad_params_defaults(&p);
	p.rate = rate;
	assert_int_equal(gw_vad_init(&v, &p, on_talk, &s), 0);
	feed(&v, &s, b, n, rate);
	free(b);
	print_message("%u Hz, speech %.3f-%.3f s; talk", rate, (double)first / rate,
		      (double)last / rate);
	for (int k = 0; k < s.non; k++)
		print_message(" %.3f-%.3f", (double)s.on[k] / rate,
			      k < s.noff ? (double)s.off[k] / rate : -1.0);
	print_message(" s\n");
	assert_int_equal(s.non, 1); /* the gaps between words are inside the hangover */
	assert_int_equal(s.noff, 1);
	long frame = (long)rate * GW_VAD_FRAME_MS / 1000, ms = rate / 1000;
	assert_in_range(s.on[0] - first, 0, p.attack_ms * ms + frame);
	assert_in_range(s.off[0] - last, p.hangover_ms * ms - frame, p.hangover_ms * ms + frame);
}

static void test_params_and_reset(void **state)
{
	(void)state;
	struct gw_vad_params p, q;
	struct gw_vad v;
	struct spurts s = {0};
	gw_vad_params_defaults(&p);
	q = p;
	q.attack_ms = 5;
	assert_int_equal(gw_vad_init(&v, &q, on_talk, &s), -EINVAL);
	q = p;
	q.hangover_ms = 10000;
	assert_int_equal(gw_vad_init(&v, &q, on_talk, &s), -EINVAL);
	q = p;
	q.rate = 4000;
	assert_int_equal(gw_vad_init(&v, &q, on_talk, &s), -EINVAL);
	q = p;
	q.margin_db = 50;
	assert_int_equal(gw_vad_init(&v, &q, on_talk, &s), -EINVAL);
	assert_int_equal(gw_vad_init(&v, &p, on_talk, &s), 0);
	int16_t b[RATE];
	memset(b, 0, sizeof(b));
	add_speechlike(b, RATE / 2, RATE / 2, 6000);
	feed(&v, &s, b, RATE, RATE);
	assert_int_equal(s.non, 1);
	assert_int_equal(gw_vad_process(&v, b, 0), 1);
	gw_vad_reset(&v); /* a new call: talk is off, without a callback */
	assert_int_equal(gw_vad_process(&v, b, 0), 0);
	assert_int_equal(s.noff, 0);
	gw_vad_init(&v, &p, NULL, NULL); /* no callback is fine */
	assert_int_equal(gw_vad_process(&v, b, RATE), 1);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bursts_attack_and_hangover),
	    cmocka_unit_test(test_no_chatter_on_noise),
	    cmocka_unit_test(test_espeak_sentence),
	    cmocka_unit_test(test_params_and_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
