/*
 * Unit tests for gateway/speak.c with the real espeak-ng: a name spoken in each
 * language at 8 and 16 kHz, the cache, one job at a time, text that is refused, a
 * text that looks like an option, and programs that fail or write no WAV. Prints the
 * measured synthesis times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "voice/speak.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_names_spoken_and_cached(void **state)
{
	(void)state;
	static const char *const langs[] = {"fi", "sv", "en"};
	struct gw_loop *loop = gw_loop_new();
	struct gw_speak *s8, *s16;
	assert_int_equal(gw_speak_new(loop, NULL, 8000, &s8), 0);
	assert_int_equal(gw_speak_new(loop, NULL, 16000, &s16), 0);
	const int16_t *pcm;
	size_t n8 = 0, n16 = 0;
	for (int i = 0; i < 3; i++) {
		const char *org = "Poliisi, Mikkeli";
		assert_int_equal(gw_speak_get(s8, langs[i], org, &pcm, &n8), -ENOENT);
		double t0 = now_ms();
		assert_int_equal(gw_speak_start(s8, langs[i], org), 0);
		assert_int_equal(gw_speak_get(s8, langs[i], org, &pcm, &n8), -EAGAIN);
		assert_int_equal(gw_speak_start(s8, langs[i], "Pelastuslaitos"), -EBUSY);
		assert_int_equal(gw_speak_wait(s8, 5000), 0);
		double t1 = now_ms();
		assert_int_equal(gw_speak_get(s8, langs[i], org, &pcm, &n8), 0);
		assert_int_equal(gw_speak_start(s8, langs[i], org), 1); /* cached */
		assert_int_equal(gw_speak_start(s16, langs[i], org), 0);
		assert_int_equal(gw_speak_wait(s16, 5000), 0);
		assert_int_equal(gw_speak_get(s16, langs[i], org, &pcm, &n16), 0);
		print_message("%s: %.2f s of speech, made in %.1f ms (8 kHz), %zu/%zu samples at "
			      "8/16 kHz\n",
			      langs[i], n8 / 8000.0, t1 - t0, n8, n16);
		assert_true(n8 > 8000 / 2 && n8 < 8000 * 5);
		/* the same speech at twice the rate */
		assert_true(labs((long)n16 - 2 * (long)n8) <= 4);
		int peak = 0;
		for (size_t k = 0; k < n8; k++)
			peak = abs(pcm[k]) > peak ? abs(pcm[k]) : peak;
		assert_true(peak > 1000);
	}
	gw_speak_free(s8);
	gw_speak_free(s16);
	gw_loop_free(loop);
}

static void test_refused_and_failed(void **state)
{
	(void)state;
	struct gw_loop *loop = gw_loop_new();
	struct gw_speak *s;
	const int16_t *pcm;
	size_t n;
	char longer[GW_SPEAK_TEXT_MAX + 2];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	assert_int_equal(gw_speak_new(loop, NULL, 8000, &s), 0);
	assert_int_equal(gw_speak_start(s, "fi", ""), -EINVAL);
	assert_int_equal(gw_speak_start(s, "fi", longer), -EINVAL);
	assert_int_equal(gw_speak_start(s, "fi", "rivi\nrivi"), -EINVAL);
	assert_int_equal(gw_speak_start(s, "de", "Polizei"), -EINVAL);
	assert_int_equal(gw_speak_start(s, NULL, "Polizei"), -EINVAL);
	/* looks like options; on stdin it is only text (a path of this process: make -j) */
	char wav[64], opt[80];
	snprintf(wav, sizeof(wav), "/tmp/rinki-speak-opt-%d.wav", (int)getpid());
	snprintf(opt, sizeof(opt), "-w %s", wav);
	unlink(wav);
	assert_int_equal(gw_speak_start(s, "en", opt), 0);
	assert_int_equal(gw_speak_wait(s, 5000), 0);
	assert_int_equal(gw_speak_get(s, "en", opt, &pcm, &n), 0);
	assert_int_equal(access(wav, F_OK), -1);
	gw_speak_free(s);

	/* a program that fails, one that writes no WAV, one that does not exist */
	static const char *const bad[] = {"false", "echo", "/nonexistent/espeak-ng"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(gw_speak_new(loop, bad[i], 8000, &s), 0);
		assert_int_equal(gw_speak_start(s, "fi", "Poliisi"), 0);
		assert_int_equal(gw_speak_wait(s, 5000), 0);
		assert_int_equal(gw_speak_get(s, "fi", "Poliisi", &pcm, &n), -ENOENT);
		gw_speak_free(s);
	}
	assert_int_equal(gw_speak_new(loop, NULL, 4000, &s), -EINVAL);
	gw_loop_free(loop);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_spoken_and_cached),
	    cmocka_unit_test(test_refused_and_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
