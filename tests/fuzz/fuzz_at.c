/*
 * fuzz_at: libFuzzer target for the AT engine (gateway/at.c) and the line
 * parsers built on it (PEI +CTICN/+CTCC/+CTCR, modem +CLCC).
 *
 * The input is fed to an engine with three commands queued (one expecting
 * "+CLCC:" lines, one dial, one prompt command) in chunks whose sizes come
 * from the input, with the fake clock moved between chunks so timeouts fire.
 * Checked besides memory errors: every queued command gets exactly one
 * callback, and every URC and response line handed out is a C string shorter
 * than GW_AT_LINE_MAX without NUL bytes inside. Every line is also given to the
 * PEI and modem parsers (+CLCC, vendor call-state URCs, +CLIP, +CEER, +CMGL).
 * Run: make fuzz (FUZZ_SECONDS per target).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link/at.h"
#include "core/log.h"
#include "core/loop.h"
#include "phone/modem.h"
#include "radio/pei.h"

static int callbacks;

static void check_line(const char *l)
{
	if (strlen(l) > GW_AT_LINE_MAX)
		abort();
	struct gw_pei_call_in in;
	int cci, cause;
	struct gw_modem_clcc c;
	gw_pei_parse_cticn(l, &in);
	gw_pei_parse_ctcc(l, &cci);
	if (gw_pei_parse_ctcr(l, &cci, &cause) == 0 && gw_pei_cause_name(cause) == NULL)
		abort();
	gw_modem_parse_clcc(l, &c);
	enum gw_pei_floor ev;
	char who[GW_PEI_ID_MAX];
	if (gw_pei_parse_floor(l, &cci, &ev, who) == 0 &&
	    (strlen(who) >= GW_PEI_ID_MAX || strcmp(gw_pei_floor_name(ev), "?") == 0))
		abort();
	int st;
	if (gw_pei_parse_ctocp(l, &cci, &st) == 0 && (st < 0 || st > 9))
		abort();
	struct gw_modem_call_urc u;
	if (gw_modem_parse_call_urc(l, &u) == 0 &&
	    ((unsigned)u.state > GW_MODEM_CALL_IDLE || u.dir < -1 || u.dir > 1 || u.cause > 255))
		abort();
	char number[32];
	if (gw_modem_parse_clip(l, number, sizeof(number)) == 0 &&
	    strspn(number[0] == '+' ? number + 1 : number, "0123456789*#") !=
		strlen(number[0] == '+' ? number + 1 : number))
		abort();
	char why[24];
	if (gw_modem_parse_ceer(l, why, sizeof(why)) == 0 &&
	    (why[0] == 0 || strlen(why) >= sizeof(why)))
		abort();
	struct gw_modem_cmgl sl;
	if (gw_modem_parse_cmgl(l, &sl) == 0 && (sl.index < 0 || sl.index > 9999 || sl.stat < 0 ||
						 sl.stat > 4 || sl.length < 1 || sl.length > 255))
		abort();
}

static void on_resp(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	(void)arg;
	callbacks++;
	if (r->nlines < 0 || r->nlines > GW_AT_RESP_LINES)
		abort();
	for (int i = 0; i < r->nlines; i++)
		check_line(r->lines[i]);
}

static void on_urc(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)arg;
	if (n < 1 || n > 3)
		abort();
	for (int i = 0; i < n; i++)
		check_line(lines[i]);
}

static int sink_write(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
		quiet = 1;
	}
	struct gw_loop *loop = gw_loop_new();
	gw_loop_clock_override(loop, 0, 0);
	struct gw_at_ops ops = {.write = sink_write};
	struct gw_at *at = gw_at_new(loop, GW_LOG_RADIO, "fuzz", &ops);
	gw_at_add_urc(at, "+CTICN:", 0, on_urc, NULL);
	gw_at_add_urc(at, "+CTSDSR:", 1, on_urc, NULL);
	gw_at_add_urc(at, "NO CARRIER", 0, on_urc, NULL);
	gw_at_add_urc(at, "+CTCR:", 0, on_urc, NULL);
	callbacks = 0;
	int queued = 0;
	queued += gw_at_cmd(at, "AT+CLCC", "+CLCC:", 500, 0, on_resp, NULL) == 0;
	queued += gw_at_cmd(at, "ATD123;", NULL, 500, GW_AT_F_DIAL, on_resp, NULL) == 0;
	queued += gw_at_cmd_prompt(at, "AT+CMGS=1,8", "00", NULL, 500, on_resp, NULL) == 0;

	size_t i = 0;
	while (i < size) {
		size_t chunk = 1 + data[i] % 64;
		i++;
		if (chunk > size - i)
			chunk = size - i;
		gw_at_feed(at, (const char *)data + i, chunk);
		i += chunk;
		gw_loop_clock_advance(loop, 100);
	}
	gw_at_flush(at);
	if (callbacks != queued)
		abort();
	gw_at_free(at);
	gw_loop_free(loop);
	return 0;
}
