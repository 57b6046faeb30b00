/*
 * prompt-wav: convert a mono sound file to 16-bit mono WAV at a given rate, for the
 * voice prompts and the speech corpus the DTMF tests use (both built by make from
 * espeak-ng output, never committed).
 *
 *   prompt-wav IN RATE OUT
 *
 * libsndfile reads IN (any format it knows, one channel); libsamplerate's best sinc
 * converter changes the rate when it differs (same input, same bytes out: no
 * dithering, no time stamps); the result is written as RIFF/WAVE PCM_16 with
 * clipping. Exit 0, or 1 with the reason on stderr.
 */
#include <errno.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "prompt-wav: %s: %s\n", what, detail);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return fail("usage", "prompt-wav IN RATE OUT");
	char *end;
	long rate = strtol(argv[2], &end, 10);
	if (*end || rate < 8000 || rate > 48000)
		return fail(argv[2], "rate must be 8000..48000");
	SF_INFO in_info = {0};
	SNDFILE *in = sf_open(argv[1], SFM_READ, &in_info);
	if (!in)
		return fail(argv[1], sf_strerror(NULL));
	if (in_info.channels != 1 || in_info.frames <= 0 || in_info.frames > 48000L * 600) {
		sf_close(in);
		return fail(argv[1], "need one channel and 1 frame .. 10 minutes");
	}
	size_t n = (size_t)in_info.frames;
	float *src = malloc(n * sizeof(*src));
	if (!src || sf_readf_float(in, src, (sf_count_t)n) != (sf_count_t)n) {
		sf_close(in);
		return fail(argv[1], src ? "short read" : strerror(ENOMEM));
	}
	sf_close(in);

	double ratio = (double)rate / in_info.samplerate;
	size_t m = (size_t)((double)n * ratio) + 64;
	float *dst = malloc(m * sizeof(*dst));
	if (!dst)
		return fail("memory", strerror(ENOMEM));
	SRC_DATA sd = {.data_in = src,
		       .data_out = dst,
		       .input_frames = (long)n,
		       .output_frames = (long)m,
		       .src_ratio = ratio};
	if (in_info.samplerate == rate) {
		memcpy(dst, src, n * sizeof(*src));
		sd.output_frames_gen = (long)n;
	} else {
		int err = src_simple(&sd, SRC_SINC_BEST_QUALITY, 1);
		if (err)
			return fail("resample", src_strerror(err));
	}
	SF_INFO out_info = {
	    .samplerate = (int)rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *out = sf_open(argv[3], SFM_WRITE, &out_info);
	if (!out)
		return fail(argv[3], sf_strerror(NULL));
	sf_command(out, SFC_SET_CLIPPING, NULL, SF_TRUE);
	sf_count_t w = sf_writef_float(out, dst, sd.output_frames_gen);
	if (w != sd.output_frames_gen || sf_close(out) != 0)
		return fail(argv[3], "write failed");
	free(src);
	free(dst);
	return 0;
}
