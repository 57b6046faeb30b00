/*
 * Unit tests for gateway/prompt.c: which WAV files the parser takes (16-bit mono at
 * the asked rate, up to a minute) and which it refuses, and how the announcement is
 * composed (with and without the organisation's name). Files are made here with
 * libsndfile in a temporary directory.
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
#include "voice/prompt.h"

static char dir[] = "/tmp/rinki-prompt-XXXXXX";

/* Write n samples of value base+i as a sound file; returns its bytes (malloc) in *len. */
static unsigned char *make(int format, int channels, int rate, size_t n, int base, size_t *len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/t.wav", dir);
	SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	assert_non_null(f);
	short *s = calloc(n * (size_t)channels + 1, sizeof(*s));
	for (size_t i = 0; i < n * (size_t)channels; i++)
		s[i] = (short)(base + (int)i);
	assert_int_equal(sf_writef_short(f, s, (sf_count_t)n), (sf_count_t)n);
	sf_close(f);
	free(s);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	rewind(fp);
	unsigned char *buf = malloc(*len);
	assert_int_equal(fread(buf, 1, *len, fp), *len);
	fclose(fp);
	unlink(path);
	return buf;
}

static void test_parse_accepts_and_refuses(void **state)
{
	(void)state;
	struct gw_prompt p;
	size_t len;
	unsigned char *b = make(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, 800, 100, &len);
	assert_int_equal(gw_prompt_parse(b, len, 8000, "ok", &p), 0);
	assert_int_equal(p.n, 800);
	assert_int_equal(p.rate, 8000);
	assert_int_equal(p.pcm[0], 100);
	assert_int_equal(p.pcm[799], 899);
	gw_prompt_clear(&p);
	assert_int_equal(gw_prompt_parse(b, len, 0, "any rate", &p), 0);
	gw_prompt_clear(&p);
	assert_int_equal(gw_prompt_parse(b, len, 16000, "wrong rate", &p), -EINVAL);
	assert_null(p.pcm);
	/* cut inside the data: what is there */
	assert_int_equal(gw_prompt_parse(b, len - 400, 8000, "cut", &p), 0);
	assert_int_equal(p.n, 600);
	gw_prompt_clear(&p);
	assert_int_equal(gw_prompt_parse(b, 20, 8000, "header only", &p), -EINVAL);
	assert_int_equal(gw_prompt_parse(b, 0, 8000, "empty", &p), -EINVAL);
	free(b);

	b = make(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 8000, 100, 0, &len);
	assert_int_equal(gw_prompt_parse(b, len, 8000, "stereo", &p), -EINVAL);
	free(b);
	b = make(SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1, 8000, 100, 0, &len);
	assert_int_equal(gw_prompt_parse(b, len, 8000, "8-bit", &p), -EINVAL);
	free(b);
	b = make(SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 1, 8000, 100, 0, &len);
	assert_int_equal(gw_prompt_parse(b, len, 8000, "aiff", &p), -EINVAL);
	free(b);
	b = make(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, 8000 * GW_PROMPT_MAX_S + 1, 0, &len);
	assert_int_equal(gw_prompt_parse(b, len, 8000, "too long", &p), -EINVAL);
	free(b);
	assert_null(p.pcm);
}

static void put(const char *lang, const char *name, size_t n, int base)
{
	char path[192];
	size_t len;
	unsigned char *b = make(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, n, base, &len);
	snprintf(path, sizeof(path), "%s/%s", dir, lang);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s/%s.wav", dir, lang, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(b, 1, len, fp), len);
	fclose(fp);
	free(b);
}

static void test_announcement_composed(void **state)
{
	(void)state;
	struct gw_prompts *pr = NULL;
	/* a set with one file missing is refused */
	put("fi", "announce_from", 1000, 1);
	put("fi", "announce", 500, 2);
	put("fi", "keys", 2000, 3);
	put("fi", "hold", 700, 4);
	assert_int_equal(gw_prompts_load(dir, "fi", 8000, &pr), -ENOENT);
	assert_null(pr);
	put("fi", "nobody", 900, 5);
	assert_int_equal(gw_prompts_load(dir, "fi", 8000, &pr), 0);
	assert_int_equal(gw_prompts_get(pr, GW_PROMPT_HOLD)->n, 700);
	assert_int_equal(gw_prompts_get(pr, GW_PROMPT_NOBODY)->pcm[0], 5);

	const int16_t *a;
	size_t n;
	const size_t gap = 8000 * 3 / 10;
	assert_int_equal(gw_prompts_announcement(pr, NULL, 0, &a, &n), 0);
	assert_int_equal(n, 500 + gap + 2000);
	assert_int_equal(a[0], 2);
	assert_int_equal(a[499], 2 + 499);
	assert_int_equal(a[500 + gap / 2], 0);
	assert_int_equal(a[500 + gap], 3);
	int16_t org[300];
	for (int i = 0; i < 300; i++)
		org[i] = (int16_t)(-1 - i);
	assert_int_equal(gw_prompts_announcement(pr, org, 300, &a, &n), 0);
	assert_int_equal(n, 1000 + gap + 300 + gap + 2000);
	assert_int_equal(a[0], 1);
	assert_int_equal(a[1000 + gap], -1);
	assert_int_equal(a[1000 + gap + 299], -300);
	assert_int_equal(a[1000 + 2 * gap + 300], 3);
	gw_prompts_free(pr);
	assert_int_equal(gw_prompts_load(dir, "fi", 16000, &pr), -EINVAL);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/fi", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	assert_non_null(mkdtemp(dir));
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_accepts_and_refuses),
	    cmocka_unit_test(test_announcement_composed),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
