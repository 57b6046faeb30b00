/*
 * Unit tests for gateway/rec.c: the recorder's ring and writer without sound cards.
 *  - periods pushed for both channels come out as one stereo WAV, in order, bit-exact;
 *  - a channel with nothing (one card stalled) is padded with silence at the end;
 *  - pushing much faster than the writer drains drops periods and counts them, and
 *    what was kept plus what was dropped is all that was pushed;
 *  - the file is 0600 and a second recording of the same incident gets "-2";
 *  - record.lines matching (gw_rec_line_selected).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "voice/rec.h"

#define RATE   8000
#define PERIOD 80

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rinki-rec-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static long load(const char *path, int16_t **s)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, RATE);
	*s = malloc((size_t)info.frames * 4 + 4);
	assert_int_equal(sf_readf_short(sf, *s, info.frames), info.frames);
	sf_close(sf);
	return (long)info.frames;
}

static void test_stereo_in_order(void **state)
{
	(void)state;
	struct gw_rec *r;
	char path[512];
	assert_int_equal(gw_rec_new(dir, RATE, PERIOD, &r), 0);
	assert_int_equal(gw_rec_start(r, 7, path, sizeof(path)), 0);
	assert_int_equal(gw_rec_start(r, 7, path, sizeof(path)), -EALREADY);
	int16_t a[PERIOD], b[PERIOD];
	for (int p = 0; p < 100; p++) {
		for (int i = 0; i < PERIOD; i++) {
			a[i] = (int16_t)(p * PERIOD + i);
			b[i] = (int16_t) - (p * PERIOD + i);
		}
		gw_rec_push(r, GW_REC_RADIO, a, PERIOD);
		gw_rec_push(r, GW_REC_PHONE, b, PERIOD);
		if (p % 10 == 0)
			usleep(1000);
	}
	/* the phone side loses its last 10 periods (a stalled card): padded at the end */
	for (int p = 100; p < 110; p++) {
		for (int i = 0; i < PERIOD; i++)
			a[i] = (int16_t)(p * PERIOD + i);
		gw_rec_push(r, GW_REC_RADIO, a, PERIOD);
	}
	assert_int_equal(gw_rec_stop(r), 0);
	assert_int_equal(gw_rec_stop(r), -EALREADY);
	struct gw_rec_stats st;
	gw_rec_stats(r, &st);
	assert_int_equal(st.dropped[0] + st.dropped[1], 0);
	assert_int_equal(st.written, 110 * PERIOD);
	assert_int_equal(st.padded[GW_REC_PHONE], 10 * PERIOD);
	assert_int_equal(st.padded[GW_REC_RADIO], 0);

	char want[128];
	snprintf(want, sizeof(want), "%s/incident-7.wav", dir);
	assert_string_equal(path, want);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	int16_t *s;
	long n = load(path, &s);
	assert_int_equal(n, 110 * PERIOD);
	for (long i = 0; i < n; i++) {
		assert_int_equal(s[2 * i], (int16_t)i);
		assert_int_equal(s[2 * i + 1], i < 100 * PERIOD ? (int16_t)-i : 0);
	}
	free(s);

	/* the same incident again: a second file next to the first */
	assert_int_equal(gw_rec_start(r, 7, path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/incident-7-2.wav"));
	assert_int_equal(gw_rec_stop(r), 0);
	gw_rec_free(r);
}

static void test_writer_behind_drops_and_counts(void **state)
{
	(void)state;
	struct gw_rec *r;
	char path[512];
	assert_int_equal(gw_rec_new(dir, RATE, PERIOD, &r), 0);
	assert_int_equal(gw_rec_start(r, 8, path, sizeof(path)), 0);
	/* 30 s of both channels in a burst: far more than the 2 s ring and the 20 ms writer */
	int16_t a[PERIOD];
	for (int i = 0; i < PERIOD; i++)
		a[i] = (int16_t)(i + 1);
	int periods = 30 * RATE / PERIOD;
	for (int p = 0; p < periods; p++) {
		gw_rec_push(r, GW_REC_RADIO, a, PERIOD);
		gw_rec_push(r, GW_REC_PHONE, a, PERIOD);
	}
	struct gw_rec_stats st;
	gw_rec_stats(r, &st);
	assert_int_equal(st.pushed[0], (uint64_t)periods * PERIOD);
	assert_true(st.dropped[0] + st.dropped[1] > 0);
	assert_int_equal(gw_rec_stop(r), 0);
	gw_rec_stats(r, &st);
	print_message("pushed %llu per channel, dropped %llu + %llu, written %llu\n",
		      (unsigned long long)st.pushed[0], (unsigned long long)st.dropped[0],
		      (unsigned long long)st.dropped[1], (unsigned long long)st.written);
	/* every frame kept reached the file, each channel filled up with silence only */
	assert_int_equal(st.written, st.pushed[0] - st.dropped[0] + st.padded[0]);
	assert_int_equal(st.written, st.pushed[1] - st.dropped[1] + st.padded[1]);
	assert_int_equal(st.write_error, 0);
	gw_rec_free(r);
}

static void test_line_selection(void **state)
{
	(void)state;
	assert_true(gw_rec_line_selected("", "sos"));
	assert_true(gw_rec_line_selected(NULL, NULL));
	assert_true(gw_rec_line_selected("  ", ""));
	assert_true(gw_rec_line_selected("sos", "sos"));
	assert_true(gw_rec_line_selected("fire, sos ,ems", "sos"));
	assert_true(gw_rec_line_selected("fire,ems", "ems"));
	assert_false(gw_rec_line_selected("fire,ems", "em"));
	assert_false(gw_rec_line_selected("fire,sos2", "sos"));
	assert_false(gw_rec_line_selected("sos", NULL));
	assert_false(gw_rec_line_selected("sos", ""));
}

static void test_bad_params(void **state)
{
	(void)state;
	struct gw_rec *r;
	assert_int_equal(gw_rec_new("", RATE, PERIOD, &r), -EINVAL);
	assert_int_equal(gw_rec_new(dir, 100, PERIOD, &r), -EINVAL);
	assert_int_equal(gw_rec_new(dir, RATE, 0, &r), -EINVAL);
	assert_true(gw_rec_new("/proc/no/such/dir", RATE, PERIOD, &r) < 0);
	gw_rec_push(NULL, GW_REC_RADIO, NULL, 0); /* no recorder: nothing happens */
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stereo_in_order),
	    cmocka_unit_test(test_writer_behind_drops_and_counts),
	    cmocka_unit_test(test_bad_params),
	    cmocka_unit_test(test_line_selection),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
