/*
 * fuzz_prompt: libFuzzer target for the prompt file parser (gateway/prompt.c), the
 * check between libsndfile and what rinkid plays.
 *
 * The input is a would-be WAV file. Byte 0 (kept in the file) also picks the rate
 * asked for: 0 (any) or 8000. Checked: a success has 1..GW_PROMPT_MAX_S seconds of
 * samples at an accepted rate and every sample readable; a failure leaves nothing
 * allocated (LeakSanitizer) and returns -EINVAL or -ENOMEM only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/log.h"
#include "voice/prompt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
		quiet = 1;
	}
	unsigned rate = size && (data[0] & 1) ? 8000 : 0;
	struct gw_prompt p;
	int rc = gw_prompt_parse(data, size, rate, "fuzz", &p);
	if (rc == 0) {
		if (!p.pcm || p.n < 1 || p.n > (size_t)p.rate * GW_PROMPT_MAX_S || p.rate < 8000 ||
		    p.rate > 48000 || (rate && p.rate != rate))
			abort();
		volatile int64_t sum = 0;
		for (size_t i = 0; i < p.n; i++)
			sum += p.pcm[i];
		gw_prompt_clear(&p);
	} else if ((rc != -EINVAL && rc != -ENOMEM) || p.pcm) {
		abort();
	}
	return 0;
}
