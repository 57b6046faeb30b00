/*
 * fuzz_roster_csv: libFuzzer target for the roster CSV parser and the ISO time parser.
 *
 * Run: make fuzz (grows build/fuzz/fuzz_roster_csv.corpus from the seeds in
 * tests/fuzz/seeds/fuzz_roster_csv/); make fuzz-smoke runs it under gcc as part of make test.
 * Besides memory errors it checks what the parser promises: reported line numbers lie
 * within the input, and an accepted roster satisfies the row rules.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "roster.h"

static unsigned max_line;

static void on_err(const char *file, unsigned line, const char *reason, void *arg)
{
	(void)file;
	(*(unsigned *)arg)++;
	if (line > max_line || !reason || !*reason)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_db_roster out;
	unsigned errors = 0;
	int64_t ms;
	char tbuf[64];
	int rc;

	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	max_line = 1;
	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n' || data[i] == '\r')
			max_line++;
	rc = gw_roster_parse_csv("fuzz.csv", (const char *)data, size, &out, on_err, &errors);
	if (rc == 0) {
		if (errors || out.n_lines == 0)
			abort();
		for (size_t i = 0; i < out.n_shifts; i++)
			if (out.shifts[i].end_ms <= out.shifts[i].start_ms || !out.shifts[i].line ||
			    !out.shifts[i].worker)
				abort();
		for (size_t i = 0; i < out.n_dirs; i++)
			if (!out.dirs[i].issi[0] || out.dirs[i].issi[0] == '0')
				abort();
		gw_db_roster_clear(&out);
	} else if (errors == 0 && rc != -ENOMEM) {
		abort(); /* a rejected file must say why */
	}

	/* The time parser on the input's first bytes as a string. */
	size_t n = size < sizeof(tbuf) - 1 ? size : sizeof(tbuf) - 1;
	memcpy(tbuf, data, n);
	tbuf[n] = '\0';
	if (gw_roster_parse_time(tbuf, &ms) == 0 && ms < 0)
		abort();
	return 0;
}
