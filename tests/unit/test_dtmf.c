/*
 * Unit tests for gateway/dtmf.c: the in-band detector (spandsp dtmf_rx) on generated
 * key tones (all 16, at 8, 16 and 48 kHz, in white noise), on what must not be a key
 * (short, quiet or off-frequency tones, minutes of espeak-ng speech in Finnish, Swedish
 * and English built by make into build/speech/, random frames), and the rule that
 * makes a modem report and an in-band detection of one key press one key.
 * Run from the repository root (make builds the speech corpus first).
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

#include "voice/dtmf.h"

#define KEYS "123A456B789C*0#D"

struct got {
	char keys[256];
	int n;
};

static void on_key(void *arg, char digit)
{
	struct got *g = arg;
	if (g->n < (int)sizeof(g->keys) - 1)
		g->keys[g->n++] = digit;
	g->keys[g->n] = 0;
}

static void key_freqs(char k, double *lo, double *hi)
{
	static const char *const rows[4] = {"123A", "456B", "789C", "*0#D"};
	static const double low[4] = {697, 770, 852, 941}, high[4] = {1209, 1336, 1477, 1633};
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			if (rows[r][c] == k) {
				*lo = low[r];
				*hi = high[c];
				return;
			}
	fail();
}

/* Gaussian noise (Box-Muller over an LCG), deterministic from *seed. */
static double gauss(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	double u1 = ((*seed >> 8) + 1.0) / 16777217.0;
	*seed = *seed * 1664525u + 1013904223u;
	double u2 = (*seed >> 8) / 16777216.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/*
 * keys as tone bursts: on_ms of both tones at amp each (freq scaled by detune),
 * off_ms of silence, plus white noise of rms noise. Returns samples (malloc).
 */
static int16_t *make_keys(const char *keys, unsigned rate, int on_ms, int off_ms, double amp,
			  double detune, double noise, size_t *n)
{
	size_t per = (size_t)(rate * (unsigned)(on_ms + off_ms) / 1000);
	size_t on = (size_t)(rate * (unsigned)on_ms / 1000);
	*n = per * strlen(keys) + per;
	int16_t *s = calloc(*n, sizeof(*s));
	assert_non_null(s);
	uint32_t seed = 7;
	for (size_t k = 0; keys[k]; k++) {
		double lo, hi;
		key_freqs(keys[k], &lo, &hi);
		for (size_t i = 0; i < on; i++) {
			double t = (double)i / rate;
			s[per * k + i] = (int16_t)lrint(amp * (sin(2 * M_PI * lo * detune * t) +
							       sin(2 * M_PI * hi * detune * t)));
		}
	}
	for (size_t i = 0; noise > 0 && i < *n; i++) {
		double v = s[i] + noise * gauss(&seed);
		s[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	return s;
}

/* Feed in 10 ms periods like the audio module does. */
static void feed(struct gw_dtmf *d, const int16_t *s, size_t n, unsigned rate)
{
	size_t p = rate / 100;
	for (size_t i = 0; i < n; i += p)
		gw_dtmf_feed(d, s + i, n - i < p ? n - i : p);
}

static void detect(unsigned rate, int on_ms, double amp, double detune, double noise, struct got *g)
{
	struct gw_dtmf *d;
	size_t n;
	memset(g, 0, sizeof(*g));
	assert_int_equal(gw_dtmf_new(rate, on_key, g, &d), 0);
	int16_t *s = make_keys(KEYS, rate, on_ms, 60, amp, detune, noise, &n);
	feed(d, s, n, rate);
	free(s);
	gw_dtmf_free(d);
}

static void test_all_keys_8k_16k_48k(void **state)
{
	(void)state;
	static const unsigned rates[] = {8000, 16000, 48000};
	struct got g;
	for (size_t i = 0; i < 3; i++) {
		detect(rates[i], 60, 5000, 1.0, 0, &g);
		print_message("%u Hz: '%s'\n", rates[i], g.keys);
		assert_string_equal(g.keys, KEYS);
	}
	/* the shortest key ITU Q.24 asks to accept (40 ms) */
	detect(8000, 40, 5000, 1.0, 0, &g);
	assert_string_equal(g.keys, KEYS);
}

/* Signal: two tones of amplitude A (power A^2 together); noise rms N: SNR = 10 log A^2/N^2. */
static void test_keys_in_white_noise(void **state)
{
	(void)state;
	struct got g;
	const double amp = 5000;
	for (int snr = 20; snr >= 10; snr -= 5) {
		double noise = amp / pow(10, snr / 20.0);
		detect(8000, 60, amp, 1.0, noise, &g);
		print_message("SNR %d dB: '%s'\n", snr, g.keys);
		assert_string_equal(g.keys, KEYS);
		detect(16000, 60, amp, 1.0, noise, &g);
		assert_string_equal(g.keys, KEYS);
	}
}

static void test_not_keys(void **state)
{
	(void)state;
	struct got g;
	detect(8000, 15, 5000, 1.0, 0, &g); /* too short */
	assert_int_equal(g.n, 0);
	detect(8000, 60, 30, 1.0, 0, &g); /* about -60 dBFS: too quiet */
	assert_int_equal(g.n, 0);
	detect(8000, 60, 5000, 1.05, 0, &g); /* 5 % off the key frequencies */
	assert_int_equal(g.n, 0);
	detect(16000, 60, 5000, 1.05, 0, &g);
	assert_int_equal(g.n, 0);
}

/* Minutes of synthetic speech in three languages, two voices each: no key at all. */
static void test_no_key_in_speech(void **state)
{
	(void)state;
	static const char *const voices[] = {"fi", "fi+f3", "sv", "sv+f3", "en", "en+f3"};
	double total = 0;
	int false_keys = 0;
	for (size_t v = 0; v < sizeof(voices) / sizeof(voices[0]); v++) {
		char path[64];
		snprintf(path, sizeof(path), "build/speech/%s.wav", voices[v]);
		SF_INFO info = {0};
		SNDFILE *f = sf_open(path, SFM_READ, &info);
		if (!f)
			fail_msg("%s: %s (make builds it)", path, sf_strerror(NULL));
		assert_int_equal(info.samplerate, 8000);
		assert_int_equal(info.channels, 1);
		int16_t *s = calloc((size_t)info.frames, sizeof(*s));
		assert_non_null(s);
		assert_int_equal(sf_readf_short(f, s, info.frames), info.frames);
		sf_close(f);
		/* at full scale too: a loud talker must not press keys either */
		for (int gain = 1; gain <= 2; gain++) {
			struct got g = {0};
			struct gw_dtmf *d;
			assert_int_equal(gw_dtmf_new(8000, on_key, &g, &d), 0);
			for (sf_count_t i = 0; i < info.frames; i++) {
				int x = s[i] * gain;
				s[i] = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
			}
			feed(d, s, (size_t)info.frames, 8000);
			gw_dtmf_free(d);
			if (g.n)
				print_message("%s x%d: false keys '%s'\n", voices[v], gain, g.keys);
			false_keys += g.n;
			total += (double)info.frames / 8000;
		}
		free(s);
	}
	print_message("speech: %.0f s in fi/sv/en, %d false keys\n", total, false_keys);
	assert_true(total >= 60);
	assert_int_equal(false_keys, 0);
}

/* Is got a subsequence of want (keys missed, but none wrong or out of order)? */
static int subsequence(const char *got, const char *want)
{
	for (; *got; got++) {
		want = strchr(want, *got);
		if (!want)
			return 0;
		want++;
	}
	return 1;
}

/*
 * Keys pressed while the worker talks: the fi corpus (at -12 dB, so nothing clips)
 * with the 16 keys laid over its first 16 s, one a second, 60 ms each, each tone at
 * 1x, 2x and 4x the speech's rms amplitude. spandsp's relative-energy check favours
 * no talk-off over double-talk, so keys under loud syllables are missed: the test
 * asserts no key is ever wrong, and that at 4x (pair about +15 dB over the speech)
 * at least 13 of 16 come through. The counts are printed.
 */
static void test_keys_over_speech(void **state)
{
	(void)state;
	SF_INFO info = {0};
	SNDFILE *f = sf_open("build/speech/fi.wav", SFM_READ, &info);
	if (!f)
		fail_msg("build/speech/fi.wav: %s (make builds it)", sf_strerror(NULL));
	assert_true(info.frames >= 8000 * 17);
	size_t n = 8000 * 17;
	int16_t *speech = calloc(n, sizeof(*speech)), *s = calloc(n, sizeof(*s));
	assert_non_null(speech);
	assert_non_null(s);
	assert_int_equal(sf_readf_short(f, speech, (sf_count_t)n), (sf_count_t)n);
	sf_close(f);
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		speech[i] = (int16_t)(speech[i] / 4);
		sum += (double)speech[i] * speech[i];
	}
	double rms = sqrt(sum / n);
	for (int factor = 1; factor <= 4; factor *= 2) {
		memcpy(s, speech, n * sizeof(*s));
		for (int k = 0; k < 16; k++) {
			double lo, hi;
			key_freqs(KEYS[k], &lo, &hi);
			for (size_t i = 0; i < 8000 * 60 / 1000; i++) {
				size_t at = (size_t)(k + 1) * 8000 - 4000 + i;
				double t = (double)i / 8000;
				s[at] = (int16_t)lrint(
				    s[at] + factor * rms *
						(sin(2 * M_PI * lo * t) + sin(2 * M_PI * hi * t)));
			}
		}
		struct got g = {0};
		struct gw_dtmf *d;
		assert_int_equal(gw_dtmf_new(8000, on_key, &g, &d), 0);
		feed(d, s, n, 8000);
		gw_dtmf_free(d);
		print_message("keys over speech, tones %dx speech rms (%.0f): %d of 16 '%s'\n",
			      factor, factor * rms, g.n, g.keys);
		assert_true(subsequence(g.keys, KEYS));
		if (factor == 4)
			assert_true(g.n >= 13);
	}
	free(speech);
	free(s);
}

/* Random frames of random lengths and levels: no crash, no sanitizer report, no key. */
static void test_random_frames(void **state)
{
	(void)state;
	static const unsigned rates[] = {8000, 16000, 48000};
	uint32_t seed = 12345;
	int16_t buf[2000];
	for (size_t r = 0; r < 3; r++) {
		struct got g = {0};
		struct gw_dtmf *d;
		assert_int_equal(gw_dtmf_new(rates[r], on_key, &g, &d), 0);
		for (int k = 0; k < 3000; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t n = (seed >> 8) % 2000;
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				buf[i] = (int16_t)(seed >> 16);
			}
			assert_true(gw_dtmf_feed(d, buf, n) >= 0);
			if (k % 500 == 0)
				gw_dtmf_reset(d);
		}
		gw_dtmf_free(d);
		assert_int_equal(g.n, 0);
	}
}

static void test_rates_refused(void **state)
{
	(void)state;
	struct gw_dtmf *d = NULL;
	struct got g;
	assert_int_equal(gw_dtmf_new(44100, on_key, &g, &d), -EINVAL);
	assert_int_equal(gw_dtmf_new(4000, on_key, &g, &d), -EINVAL);
	assert_int_equal(gw_dtmf_new(56000, on_key, &g, &d), -EINVAL);
	assert_int_equal(gw_dtmf_new(8000, NULL, &g, &d), -EINVAL);
	assert_null(d);
}

static void test_dedup(void **state)
{
	(void)state;
	struct gw_dtmf_dedup dd = {0};
	/* modem first, in-band 90 ms later: one press */
	assert_true(gw_dtmf_dedup_accept(&dd, '4', GW_DTMF_SRC_MODEM, 1000));
	assert_false(gw_dtmf_dedup_accept(&dd, '4', GW_DTMF_SRC_INBAND, 1090));
	/* a second press 200 ms later, again reported by both, in the other order */
	assert_true(gw_dtmf_dedup_accept(&dd, '4', GW_DTMF_SRC_INBAND, 1290));
	assert_false(gw_dtmf_dedup_accept(&dd, '4', GW_DTMF_SRC_MODEM, 1400));
	/* the same source twice is two presses, however fast */
	assert_true(gw_dtmf_dedup_accept(&dd, '5', GW_DTMF_SRC_INBAND, 2000));
	assert_true(gw_dtmf_dedup_accept(&dd, '5', GW_DTMF_SRC_INBAND, 2080));
	/* the other source matches only once */
	assert_false(gw_dtmf_dedup_accept(&dd, '5', GW_DTMF_SRC_MODEM, 2100));
	assert_true(gw_dtmf_dedup_accept(&dd, '5', GW_DTMF_SRC_MODEM, 2110));
	/* another key, or too late: a new press */
	assert_true(gw_dtmf_dedup_accept(&dd, '6', GW_DTMF_SRC_INBAND, 2120));
	assert_true(gw_dtmf_dedup_accept(&dd, '6', GW_DTMF_SRC_MODEM, 2120 + GW_DTMF_DEDUP_MS + 1));
	assert_true(gw_dtmf_dedup_accept(&dd, '7', GW_DTMF_SRC_MODEM, 3000));
	assert_false(gw_dtmf_dedup_accept(&dd, '7', GW_DTMF_SRC_INBAND, 3000 + GW_DTMF_DEDUP_MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_keys_8k_16k_48k),
	    cmocka_unit_test(test_keys_in_white_noise),
	    cmocka_unit_test(test_not_keys),
	    cmocka_unit_test(test_no_key_in_speech),
	    cmocka_unit_test(test_keys_over_speech),
	    cmocka_unit_test(test_random_frames),
	    cmocka_unit_test(test_rates_refused),
	    cmocka_unit_test(test_dedup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
