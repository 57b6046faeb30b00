/*
 * fuzz_dtmf: libFuzzer target for the in-band DTMF detector (gateway/dtmf.c).
 *
 * Byte 0 picks the phone rate (8, 16, 24, 32, 40 or 48 kHz), byte 1 a chunk size
 * (1..256 samples); the rest is S16 samples fed chunk by chunk, with a reset now
 * and then (byte 0's top bit). Checked: every reported key is one of the 16 DTMF
 * symbols and gw_dtmf_feed's count matches the callbacks. The dedup rule is fed the
 * reports with a source and a clock made from the input (it must not crash).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voice/dtmf.h"
#include "core/log.h"

static int calls;

static void on_key(void *arg, char digit)
{
	(void)arg;
	if (!strchr("0123456789*#ABCD", digit) || !digit)
		abort();
	calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
		quiet = 1;
	}
	if (size < 2)
		return 0;
	uint8_t mode = data[0];
	unsigned rate = 8000u * (1u + (data[0] & 0x7f) % 6u);
	size_t chunk = 1 + data[1];
	struct gw_dtmf *d;
	if (gw_dtmf_new(rate, on_key, NULL, &d) < 0)
		abort();
	data += 2;
	size -= 2;
	size_t n = size / 2;
	int16_t *s = malloc(n ? n * sizeof(*s) : 1);
	if (!s)
		abort();
	memcpy(s, data, n * sizeof(*s));
	struct gw_dtmf_dedup dd = {0};
	int64_t now = 0;
	for (size_t i = 0; i < n; i += chunk) {
		size_t take = n - i < chunk ? n - i : chunk;
		calls = 0;
		int r = gw_dtmf_feed(d, s + i, take);
		if (r < 0 || r != calls)
			abort();
		now += (int64_t)(s[i] & 0xff);
		if (r > 0)
			gw_dtmf_dedup_accept(
			    &dd, '4', (s[i] & 1) ? GW_DTMF_SRC_MODEM : GW_DTMF_SRC_INBAND, now);
		if ((mode & 0x80) && i % (chunk * 64) == 0)
			gw_dtmf_reset(d);
	}
	free(s);
	gw_dtmf_free(d);
	return 0;
}
