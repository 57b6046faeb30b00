/*
 * fuzz_tz: libFuzzer target for the TZif reader and the POSIX TZ rule parser (core/tz.c).
 * Byte 0 even: the rest is a TZif image for gw_tz_parse(); odd: the rest is a TZ string
 * for gw_tz_parse_posix(). Checked besides memory errors: a refusal always says why; an
 * accepted zone answers at every probed instant (far past and future included) with an
 * offset within +-26 h and a short NUL-terminated abbreviation of [A-Za-z0-9+-], and
 * each change that gw_tz_next_change() reports lies after the instant asked about, within
 * the horizon, and really changes the offset or the summer-time flag.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"

static void check_at(const struct gw_tz *tz, int64_t t)
{
	struct gw_tz_info a, b;
	int64_t next;

	gw_tz_at(tz, t, &a);
	if (a.off_s < -93599 || a.off_s > 93599 || !a.abbr ||
	    strnlen(a.abbr, GW_TZ_ABBR_MAX) >= GW_TZ_ABBR_MAX)
		abort();
	for (const char *c = a.abbr; *c; c++) /* printable anywhere without escaping */
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-", *c))
			abort();
	if (gw_tz_next_change(tz, t, 400LL * 86400, &next) == 1) {
		if (next <= t || next - t > 400LL * 86400)
			abort();
		gw_tz_at(tz, next - 1, &a);
		gw_tz_at(tz, next, &b);
		if (a.off_s == b.off_s && a.dst == b.dst)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t probes[] = {INT64_MIN,
					 -10000000000000LL,
					 -2147483648LL,
					 -1,
					 0,
					 1,
					 1000,
					 2000,
					 1774746000,
					 1792890000,
					 2147483647,
					 4000000000LL,
					 10000000000000LL,
					 INT64_MAX};
	struct gw_tz *tz = NULL;
	char why[256] = "";
	int rc;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		rc = gw_tz_parse(data + 1, size - 1, &tz, why, sizeof(why));
	} else {
		char s[256];
		size_t n = size - 1 < sizeof(s) - 1 ? size - 1 : sizeof(s) - 1;
		memcpy(s, data + 1, n);
		s[n] = '\0';
		rc = gw_tz_parse_posix(s, &tz, why, sizeof(why));
	}
	if (rc < 0) {
		if (!why[0] && rc != -ENOMEM)
			abort();
		return 0;
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		check_at(tz, probes[i]);
	gw_tz_free(tz);
	return 0;
}
