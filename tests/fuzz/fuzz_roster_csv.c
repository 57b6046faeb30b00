/*
 * fuzz_roster_csv: libFuzzer target for the roster CSV parser and the ISO time parser.
 *
 * Run: make fuzz (grows build/fuzz/fuzz_roster_csv.corpus from the seeds in
 * tests/fuzz/seeds/fuzz_roster_csv/); make fuzz-smoke runs it under gcc as part of make test.
 * Besides memory errors it checks what the parser promises: reported line numbers lie
 * within the input, an accepted roster satisfies the row rules (worker languages, route
 * conditions, temporary rosters and the rows naming them), and it survives the export:
 * written with gw_roster_write_csv it parses again and writes the same text.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "core/log.h"
#include "store/roster.h"

static unsigned max_line;

static void on_err(const char *file, unsigned line, const char *reason, void *arg);

static const struct gw_db_temp *temp_named(const struct gw_db_roster *r, const char *name)
{
	for (size_t i = 0; i < r->n_temps; i++)
		if (strcmp(r->temps[i].name, name) == 0)
			return &r->temps[i];
	return NULL;
}

/* The row rules of the fields added with schema v4-v6. */
static void check_new_fields(const struct gw_db_roster *r)
{
	for (size_t i = 0; i < r->n_workers; i++) {
		const char *l = r->workers[i].lang;
		if (!l || (strcmp(l, "fi") && strcmp(l, "sv") && strcmp(l, "en")) ||
		    r->workers[i].pin_hash)
			abort();
	}
	for (size_t i = 0; i < r->n_routes; i++) {
		const struct gw_db_route *x = &r->routes[i];
		if (x->days < 0 || x->days > 127 || x->holidays < 0 || x->holidays > 2 ||
		    (x->has_status && (x->status < 0 || x->status > 65535)) ||
		    (x->window && (x->from_min < 0 || x->from_min > 1439 || x->to_min < 0 ||
				   x->to_min > 1439 || x->from_min == x->to_min)))
			abort();
	}
	for (size_t i = 0; i < r->n_temps; i++)
		if (strcmp(r->temps[i].to_date, r->temps[i].from_date) <= 0 ||
		    r->temps[i].handoff_min < 0 || r->temps[i].handoff_min > 1439)
			abort();
	for (size_t i = 0; i < r->n_shifts; i++) {
		const struct gw_db_temp *t =
		    r->shifts[i].temp ? temp_named(r, r->shifts[i].temp) : 0;
		if (r->shifts[i].temp && (!t || strcmp(t->line, r->shifts[i].line)))
			abort();
	}
	for (size_t i = 0; i < r->n_rotations; i++) {
		const char *name = r->rotations[i].temp;
		const struct gw_db_temp *t = name ? temp_named(r, name) : NULL;
		if (name && (!t || strcmp(t->line, r->rotations[i].line)))
			abort();
	}
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The fields of schema v4-v6 read back from an export equal the original's. */
static bool same_new_fields(const struct gw_db_roster *a, const struct gw_db_roster *b)
{
	if (a->n_workers != b->n_workers || a->n_routes != b->n_routes ||
	    a->n_temps != b->n_temps || a->n_shifts != b->n_shifts ||
	    a->n_rotations != b->n_rotations)
		return false;
	for (size_t i = 0; i < a->n_workers; i++)
		if (!same_str(a->workers[i].lang, b->workers[i].lang))
			return false;
	for (size_t i = 0; i < a->n_routes; i++) {
		const struct gw_db_route *x = &a->routes[i], *y = &b->routes[i];
		if (!same_str(x->prefix, y->prefix) || x->priority != y->priority ||
		    x->days != y->days || x->window != y->window ||
		    (x->window && (x->from_min != y->from_min || x->to_min != y->to_min)) ||
		    x->holidays != y->holidays || x->has_status != y->has_status ||
		    (x->has_status && x->status != y->status))
			return false;
	}
	for (size_t i = 0; i < a->n_temps; i++)
		if (!same_str(a->temps[i].name, b->temps[i].name) ||
		    !same_str(a->temps[i].line, b->temps[i].line) ||
		    !same_str(a->temps[i].from_date, b->temps[i].from_date) ||
		    !same_str(a->temps[i].to_date, b->temps[i].to_date) ||
		    a->temps[i].handoff_min != b->temps[i].handoff_min)
			return false;
	for (size_t i = 0; i < a->n_shifts; i++)
		if (!same_str(a->shifts[i].temp, b->shifts[i].temp))
			return false;
	for (size_t i = 0; i < a->n_rotations; i++)
		if (!same_str(a->rotations[i].temp, b->rotations[i].temp))
			return false;
	return true;
}

/* Export, parse the export, export again: both parses succeed and the texts agree. */
static void check_round_trip(const struct gw_db_roster *r)
{
	struct gw_db_roster back;
	char *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0;
	unsigned errors = 0;
	FILE *f = open_memstream(&t1, &n1);

	if (!f || gw_roster_write_csv(r, f) < 0 || fclose(f) != 0)
		abort();
	max_line = 1 << 30;
	if (gw_roster_parse_csv("export.csv", t1, n1, &back, on_err, &errors) != 0)
		abort();
	if (!same_new_fields(r, &back))
		abort();
	f = open_memstream(&t2, &n2);
	if (!f || gw_roster_write_csv(&back, f) < 0 || fclose(f) != 0)
		abort();
	if (n1 != n2 || memcmp(t1, t2, n1) != 0)
		abort();
	gw_db_roster_clear(&back);
	free(t1);
	free(t2);
}

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
		check_new_fields(&out);
		check_round_trip(&out);
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
