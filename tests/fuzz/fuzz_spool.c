/*
 * fuzz_spool: libFuzzer target for the spool journal parser. The input is a whole spool
 * file for gw_spool_parse(); checked besides memory errors: the good prefix never runs
 * past the input, a torn tail is named whenever bytes are left over, every record handed
 * out has a known type, the strings its type needs and a positive incident id, and
 * re-encoding a record gives bytes that decode to the same record. The input is also
 * decoded as one bare payload, so the decoder is reached without a matching CRC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/spool.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int check(const struct gw_spool_rec *r, void *arg)
{
	static uint8_t buf[GW_SPOOL_HDR + GW_SPOOL_PAYLOAD_MAX];
	struct gw_spool_rec back;
	int n;

	(*(size_t *)arg)++;
	switch (r->type) {
	case GW_SPOOL_OPEN:
		if (!r->caller || r->incident <= 0)
			abort();
		break;
	case GW_SPOOL_EVENT:
		if (!r->kind || r->incident <= 0)
			abort();
		break;
	case GW_SPOOL_CLOSE:
		if (!r->outcome || r->incident <= 0)
			abort();
		break;
	case GW_SPOOL_MARK:
		break;
	default:
		abort();
	}
	n = gw_spool_encode(r, buf, sizeof(buf));
	if (n < GW_SPOOL_HDR ||
	    gw_spool_decode(buf + GW_SPOOL_HDR, (size_t)n - GW_SPOOL_HDR, &back, NULL) < 0)
		abort();
	if (back.type != r->type || back.origin != r->origin || back.seq != r->seq ||
	    back.incident != r->incident || back.t_ms != r->t_ms || back.num != r->num ||
	    !same(back.caller, r->caller) || !same(back.caller_name, r->caller_name) ||
	    !same(back.line, r->line) || !same(back.kind, r->kind) ||
	    !same(back.detail, r->detail) || !same(back.outcome, r->outcome) ||
	    !same(back.accepted_by, r->accepted_by))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_spool_scan scan;
	struct gw_spool_rec rec;
	const char *why = NULL;
	size_t seen = 0, direct = 0;
	static int quiet;

	if (!quiet) {
		gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR - 1); /* nothing: the log is noise */
		quiet = 1;
	}
	if (gw_spool_parse(data, size, check, &seen, &scan) != 0)
		abort();
	if (scan.good_bytes > size || (scan.good_bytes < size && !scan.tail) ||
	    (scan.good_bytes == size && scan.tail) || seen + scan.undecodable != scan.records)
		abort();
	if (gw_spool_decode(data, size, &rec, &why) == 0)
		check(&rec, &direct);
	else if (!why)
		abort();
	return 0;
}
