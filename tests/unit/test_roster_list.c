/*
 * test_roster_list: the generic roster listings (store/roster_list.c) on rosters built in
 * memory: every column of every listed kind names a field of its kind or derives its
 * value; text cells are escaped for a terminal and padded by characters, not bytes; JSON
 * strings are escaped; a key whose value is "none" is left out; an unknown listing and a
 * failing stream are errors. (The bytes of every listing on the demo rosters are checked
 * against golden files by test_rinkictl.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/roster_fields.h"
#include "store/roster_list.h"

static char buf[8192];

/* gw_roster_list into buf; returns its result. */
static int list(const struct gw_db_roster *d, const char *name, bool json)
{
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	int rc;

	assert_non_null(f);
	rc = gw_roster_list(d, name, json, f);
	assert_int_equal(fclose(f), 0);
	return rc;
}

static void test_every_column_resolves(void **state)
{
	struct gw_db_worker w = {.handle = "a", .name = "A", .phone = "+358401", .lang = "fi"};
	struct gw_db_override o = {.kind = "add", .worker = "a", .position = 1};
	struct gw_db_temp t = {
	    .name = "x", .line = "sos", .from_date = "2026-01-01", .to_date = "2026-01-02"};
	struct gw_db_roster d = {.workers = &w,
				 .n_workers = 1,
				 .overrides = &o,
				 .n_overrides = 1,
				 .temps = &t,
				 .n_temps = 1};
	int listed = 0;

	(void)state;
	for (int k = 0; k < T_COUNT; k++) {
		const struct roster_list *l = roster_kinds[k].list;
		if (!l)
			continue;
		listed++;
		assert_int_equal(list(&d, l->name, false), 0);
		/* a header and one line */
		assert_non_null(strchr(buf, '\n'));
		assert_non_null(strchr(strchr(buf, '\n') + 1, '\n'));
		assert_int_equal(list(&d, l->name, true), 0);
		assert_int_equal(buf[0], '{');
		for (int i = 0; i < l->n_cols; i++) {
			const struct roster_col *c = &l->cols[i];
			assert_true(c->head || c->key);
			assert_true(!c->field != !c->fn); /* a field or a derivation */
			if (c->field) {
				bool found = false;
				for (int j = 0; j < roster_kinds[k].n_fields; j++)
					found |= roster_kinds[k].fields[j].off == c->field - 1;
				assert_true(found);
			}
		}
	}
	assert_int_equal(listed, 3);
	assert_int_equal(list(&d, "shifts", false), -ENOENT);
}

static void test_text_escaped_and_padded_by_characters(void **state)
{
	struct gw_db_worker w[] = {
	    {.handle = "a", .name = "Äijälä", .phone = "+358401", .lang = "fi", .active = true},
	    {.handle = "b", .name = "X\x1b[2J\nY", .phone = "+358402", .lang = "sv"},
	};
	struct gw_db_roster d = {.workers = w, .n_workers = 2};
	char *l1, *l2;

	(void)state;
	assert_int_equal(list(&d, "workers", false), 0);
	l1 = strchr(buf, '\n') + 1;
	l2 = strchr(l1, '\n') + 1;
	/* "Äijälä" is 6 characters (9 bytes) padded to 24: the phone column starts at 42 */
	assert_memory_equal(l1, "a                Äijälä                   +358401 ", 51);
	/* the escape and the newline are shown, not sent: still one line per worker */
	assert_non_null(strstr(l2, "X\\e[2J\\nY"));
	assert_null(strchr(buf, '\x1b'));
	assert_non_null(strstr(l2, " no     sv   -    -\n"));
	assert_string_equal(strchr(l2, '\n'), "\n");

	assert_int_equal(list(&d, "workers", true), 0);
	assert_non_null(strstr(buf, "\"name\":\"X\\u001b[2J\\nY\""));
	assert_non_null(strstr(buf, "\"issi\":null,\"lang\":\"sv\",\"active\":false"));
}

static void test_none_left_out_and_zero_as_none(void **state)
{
	struct gw_db_override o[] = {
	    {.id = 7, .kind = "add", .line = "sos", .worker = "a", .position = 3, .manual = true},
	    {.id = 8, .kind = "remove", .worker = "a"},
	};
	struct gw_db_roster d = {.overrides = o, .n_overrides = 2};

	(void)state;
	assert_int_equal(list(&d, "overrides", true), 0);
	assert_non_null(strstr(buf, "[{\"id\":7,\"layer\":\"manual\",\"kind\":\"add\""));
	assert_non_null(strstr(buf, ",{\"layer\":\"imported\",\"kind\":\"remove\",\"line\":null"));
	assert_null(strstr(buf, "\"id\":8"));
	assert_int_equal(list(&d, "overrides", false), 0);
	assert_non_null(strstr(buf, "\n    7  manual   add      sos"));
	assert_non_null(strstr(buf, "\n    -  imported remove   (all)"));
	assert_non_null(strstr(buf, "  3\n"));
	assert_non_null(strstr(buf, "  -\n"));

	d.n_overrides = 0;
	assert_int_equal(list(&d, "overrides", false), 0);
	assert_non_null(strstr(buf, "POSITION\n(no overrides)\n"));
	assert_int_equal(list(&d, "workers", false), 0);
	assert_null(strstr(buf, "(no"));
}

static void test_failed_stream_is_an_error(void **state)
{
	struct gw_db_worker w = {.handle = "a", .name = "A", .phone = "+358401", .lang = "fi"};
	struct gw_db_roster d = {.workers = &w, .n_workers = 1};
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(gw_roster_list(&d, "workers", false, f), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_column_resolves),
	    cmocka_unit_test(test_text_escaped_and_padded_by_characters),
	    cmocka_unit_test(test_none_left_out_and_zero_as_none),
	    cmocka_unit_test(test_failed_stream_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
