/*
 * roster_fields: the table of every roster record kind (roster_fields.h) and what is done
 * from it alone: reading a row's fields from a CSV record (roster_parse_fields, the field
 * checks themselves are in roster_check.c), writing the CSV export and freeing rows; the
 * columns of the kinds rinkictl lists (worker, override, temp_roster; roster_list.c);
 * db_roster.c binds and reads the rows' SQL by the same tables. A kind whose fields depend
 * on each other in ways a table does not say (override, pattern) is read by hand in
 * roster_check.c, but written from here.
 */
#include "store/roster_priv.h"
#include "store/roster_fields.h"

#define ROW(type, member) .off = offsetof(struct type, member)
#define KIND(type, arr, n)                                                                         \
	.size = sizeof(struct type), .arr_off = offsetof(struct gw_db_roster, arr),                \
	.n_off = offsetof(struct gw_db_roster, n)
#define FIELDS(a)	     .fields = a, .n_fields = (int)(sizeof(a) / sizeof(a[0]))
#define ORDER(a)	     .order = a, .n_order = (int)(sizeof(a) / sizeof(a[0]))
#define IF_SET(type, member) .sql_if = 1 + offsetof(struct type, member)

static const char *const hours_words[] = {"all", "office", "after", NULL};
static const char *const membership_words[] = {"member", "contract", NULL};
static const char *const rot_kinds[] = {"daily", "weekly", NULL};
static const char *const step_kinds[] = {"person", "oncall", "duty", NULL};

static const struct roster_field line_fields[] = {
    {1, ROW(gw_db_line, code), RF_STR, roster_f_code, "line code", .out = RF_OUT_TEXT,
     .sql = "$code", .col = 1},
    {2, ROW(gw_db_line, name_fi), RF_STR, roster_f_text, "Finnish name", .out = RF_OUT_TEXT,
     .sql = "$name_fi", .col = 2},
    {3, ROW(gw_db_line, name_sv), RF_STR, roster_f_text, "Swedish name", .out = RF_OUT_TEXT,
     .sql = "$name_sv", .col = 3},
    {4, ROW(gw_db_line, name_en), RF_STR, roster_f_text, "English name", .out = RF_OUT_TEXT,
     .sql = "$name_en", .col = 4},
    /* office hours: all three or none (roster_check_line), written by line_more */
    {5, ROW(gw_db_line, office_days), RF_INT, roster_f_days, .optional = true,
     .sql = "$office_days", .col = 5},
    {6, ROW(gw_db_line, office_from), RF_INT, roster_f_office, .optional = true,
     .sql = "$office_from", IF_SET(gw_db_line, office), .col = 6,
     .set_if = 1 + offsetof(struct gw_db_line, office)},
    {7, ROW(gw_db_line, after_line), RF_STR, roster_f_code, "after-hours line", .optional = true,
     .sql = "$after_line", .col = 8, .null_ok = true},
    {0, ROW(gw_db_line, office_to), RF_INT, .sql = "$office_to", IF_SET(gw_db_line, office),
     .col = 7},
};

static const struct roster_field worker_fields[] = {
    {1, ROW(gw_db_worker, handle), RF_STR, roster_f_name, "worker handle", .out = RF_OUT_TEXT,
     .sql = "$handle", .col = 1},
    {2, ROW(gw_db_worker, name), RF_STR, roster_f_text, "name", .out = RF_OUT_TEXT, .sql = "$name",
     .col = 2},
    {3, ROW(gw_db_worker, phone), RF_STR, roster_f_phone, .out = RF_OUT_TEXT, .sql = "$phone",
     .col = 3},
    {4, ROW(gw_db_worker, issi), RF_STR, roster_f_issi, .optional = true, .out = RF_OUT_OPT,
     .sql = "$issi", .col = 4, .null_ok = true},
    {5, ROW(gw_db_worker, active), RF_BOOL, roster_f_int, .min = 0, .max = 1,
     .bad = "bad active flag '%s' (1 or 0)", .optional = true, .def_int = 1, .out = RF_OUT_INT,
     .sql = "$active", .col = 5},
    {6, ROW(gw_db_worker, lang), RF_STR, roster_f_lang, .optional = true, .def_str = "fi",
     .out = RF_OUT_LANG, .sql = "$lang", .col = 6},
    /* never exported, never inserted: only gw_db_worker_set_pin writes it */
    {0, ROW(gw_db_worker, pin_hash), RF_STR, .col = 7, .null_ok = true},
    /* read only: the manual layer's flags */
    {0, ROW(gw_db_worker, manual_active), RF_BOOL, .col = 8},
    {0, ROW(gw_db_worker, manual_add), RF_BOOL, .col = 9},
};

static const struct roster_field shift_fields[] = {
    {1, ROW(gw_db_shift, line), RF_STR, roster_f_code, "line code", .out = RF_OUT_TEXT,
     .sql = "$line", .col = 1},
    {2, ROW(gw_db_shift, worker), RF_STR, roster_f_name, "worker handle", .out = RF_OUT_TEXT,
     .sql = "$worker", .col = 2},
    {3, ROW(gw_db_shift, start_ms), RF_I64, roster_f_time, "start", .out = RF_OUT_TIME,
     .sql = "$start", .col = 3},
    {4, ROW(gw_db_shift, end_ms), RF_I64, roster_f_time, "end", .out = RF_OUT_TIME, .sql = "$end",
     .col = 4},
    {5, ROW(gw_db_shift, position), RF_INT, roster_f_int, .min = 1, .max = 99,
     .bad = "bad position '%s' (1-99)", .out = RF_OUT_INT, .sql = "$position", .col = 5},
    {6, ROW(gw_db_shift, temp), RF_STR, roster_f_name, "temporary roster name", .optional = true,
     .out = RF_OUT_TAIL, .sql = "$temp", .col = 6, .null_ok = true},
};
static const signed char shift_order[] = {0, 1, 2, 3, RF_CHECK, 4, 5};

static const struct roster_field route_fields[] = {
    {1, ROW(gw_db_route, line), RF_STR, roster_f_code, "line code", .out = RF_OUT_TEXT,
     .sql = "$line", .col = 1},
    {2, ROW(gw_db_route, prefix), RF_STR, roster_f_prefix, .out = RF_OUT_TEXT, .sql = "$prefix",
     .col = 2},
    {3, ROW(gw_db_route, priority), RF_INT, roster_f_int, .min = -1000, .max = 1000,
     .bad = "bad priority '%s' (-1000..1000)", .out = RF_OUT_INT, .sql = "$priority", .col = 3},
    /* the conditions: written by route_more, all or none */
    {4, ROW(gw_db_route, days), RF_INT, roster_f_days, .optional = true, .sql = "$days", .col = 4},
    {5, ROW(gw_db_route, from_min), RF_INT, roster_f_window, .optional = true, .sql = "$from",
     IF_SET(gw_db_route, window), .col = 5, .set_if = 1 + offsetof(struct gw_db_route, window)},
    {6, ROW(gw_db_route, holidays), RF_INT, roster_f_holidays, .optional = true, .sql = "$holidays",
     .col = 7},
    {7, ROW(gw_db_route, status), RF_INT, roster_f_status, .optional = true, .sql = "$status",
     IF_SET(gw_db_route, has_status), .col = 8,
     .set_if = 1 + offsetof(struct gw_db_route, has_status)},
    {0, ROW(gw_db_route, to_min), RF_INT, .sql = "$to", IF_SET(gw_db_route, window), .col = 6},
};

static const struct roster_field dir_fields[] = {
    {1, ROW(gw_db_dir, issi), RF_STR, roster_f_issi, .out = RF_OUT_TEXT, .sql = "$issi", .col = 1},
    {2, ROW(gw_db_dir, org), RF_STR, roster_f_text, "organisation", .out = RF_OUT_TEXT,
     .sql = "$org", .col = 2},
    /* both or neither (roster_check_dir) */
    {3, ROW(gw_db_dir, municipality), RF_STR, roster_f_text, "municipality", .optional = true,
     .out = RF_OUT_TAIL, .sql = "$municipality", .col = 3, .null_ok = true},
    {4, ROW(gw_db_dir, membership), RF_STR, roster_f_oneof, .oneof = membership_words,
     .bad = "bad membership '%s' (member or contract)", .optional = true, .out = RF_OUT_TAIL,
     .sql = "$membership", .col = 4, .null_ok = true},
};

static const struct roster_field rotation_fields[] = {
    {1, ROW(gw_db_rotation, name), RF_STR, roster_f_name, "rotation name", .out = RF_OUT_TEXT,
     .sql = "$name", .col = 1},
    {2, ROW(gw_db_rotation, line), RF_STR, roster_f_code, "line code", .out = RF_OUT_TEXT,
     .sql = "$line", .col = 2},
    {3, ROW(gw_db_rotation, kind), RF_STR, roster_f_oneof, .oneof = rot_kinds,
     .bad = "bad rotation kind '%s' (daily or weekly)", .out = RF_OUT_TEXT, .sql = "$kind",
     .col = 3},
    {4, ROW(gw_db_rotation, start_date), RF_STR, roster_f_date, "start", .out = RF_OUT_TEXT,
     .sql = "$start", .col = 4},
    {5, ROW(gw_db_rotation, handoff_min), RF_INT, roster_f_hhmm,
     .bad = "bad handoff time '%s' (HH:MM, local time)", .out = RF_OUT_HHMM, .sql = "$handoff",
     .col = 6},
    {6, ROW(gw_db_rotation, position), RF_INT, roster_f_int, .min = 1, .max = 99,
     .bad = "bad position '%s' (1-99)", .out = RF_OUT_INT, .sql = "$position", .col = 7},
    {7, ROW(gw_db_rotation, hours), RF_STR, roster_f_oneof, .oneof = hours_words,
     .bad = "bad hours '%s' (all, office or after)", .optional = true, .def_str = "all",
     .out = RF_OUT_TEXT, .sql = "$hours", .col = 8},
    {8, ROW(gw_db_rotation, end_date), RF_STR, roster_f_date, "end", .optional = true,
     .out = RF_OUT_OPT, .sql = "$end", .col = 5, .null_ok = true},
    {9, ROW(gw_db_rotation, temp), RF_STR, roster_f_name, "temporary roster name", .optional = true,
     .out = RF_OUT_TAIL, .sql = "$temp", .col = 9, .null_ok = true},
    /* a pattern's (roster_pattern_kind) */
    {0, ROW(gw_db_rotation, cycle), RF_STR, .sql = "$cycle", .col = 10, .null_ok = true},
    {0, ROW(gw_db_rotation, shifts), RF_STR, .sql = "$shifts", .col = 11, .null_ok = true},
    {0, ROW(gw_db_rotation, step), RF_INT, .sql = "$step", .col = 12},
};
static const signed char rotation_order[] = {0, 1, 2, 3, 7, 4, 5, 6, RF_CHECK, 8};

/* As a pattern reads them (roster_check.c row_pattern); only the export uses this table. */
static const struct roster_field pattern_fields[] = {
    {1, ROW(gw_db_rotation, name), RF_STR, .out = RF_OUT_TEXT},
    {2, ROW(gw_db_rotation, line), RF_STR, .out = RF_OUT_TEXT},
    {3, ROW(gw_db_rotation, start_date), RF_STR, .out = RF_OUT_TEXT},
    {4, ROW(gw_db_rotation, cycle), RF_STR, .out = RF_OUT_TEXT},
    {5, ROW(gw_db_rotation, shifts), RF_STR, .out = RF_OUT_TEXT},
    {6, ROW(gw_db_rotation, position), RF_INT, .out = RF_OUT_INT},
    {7, ROW(gw_db_rotation, step), RF_INT, .out = RF_OUT_INT},
    {8, ROW(gw_db_rotation, end_date), RF_STR, .out = RF_OUT_OPT},
    {9, ROW(gw_db_rotation, temp), RF_STR, .out = RF_OUT_TAIL},
};

static const struct roster_field member_fields[] = {
    {1, ROW(gw_db_member, rotation), RF_STR, roster_f_name, "rotation name", .out = RF_OUT_TEXT,
     .sql = "$rotation", .col = 1},
    {2, ROW(gw_db_member, order), RF_INT, roster_f_int, .min = 1, .max = 99,
     .bad = "bad member order '%s' (1-99)", .out = RF_OUT_INT, .sql = "$ord", .col = 2},
    {3, ROW(gw_db_member, worker), RF_STR, roster_f_name, "worker handle", .out = RF_OUT_TEXT,
     .sql = "$worker", .col = 3},
};

/* Read by hand (roster_check.c row_override); the last column depends on the kind. */
static const struct roster_field override_fields[] = {
    {0, ROW(gw_db_override, id), RF_I64, .col = 1}, /* read only, as manual */
    {1, ROW(gw_db_override, kind), RF_STR, .out = RF_OUT_TEXT, .sql = "$kind", .col = 2},
    {2, ROW(gw_db_override, line), RF_STR, .out = RF_OUT_OPT, .sql = "$line", .col = 3,
     .null_ok = true},
    {3, ROW(gw_db_override, worker), RF_STR, .out = RF_OUT_TEXT, .sql = "$worker", .col = 4},
    {4, ROW(gw_db_override, start_ms), RF_I64, .out = RF_OUT_TIME, .sql = "$start", .col = 6},
    {5, ROW(gw_db_override, end_ms), RF_I64, .out = RF_OUT_TIME, .sql = "$end", .col = 7},
    {0, ROW(gw_db_override, position), RF_INT, .sql = "$position", .col = 8},
    {0, ROW(gw_db_override, by), RF_STR, .sql = "$by", .col = 5, .null_ok = true},
    {0, ROW(gw_db_override, manual), RF_BOOL, .col = 9},
};

static const struct roster_field step_fields[] = {
    {1, ROW(gw_db_chain_step, line), RF_STR, roster_f_code, "line code", .out = RF_OUT_TEXT,
     .sql = "$line", .col = 1},
    {2, ROW(gw_db_chain_step, order), RF_INT, roster_f_int, .min = 1, .max = 99,
     .bad = "bad step order '%s' (1-99)", .out = RF_OUT_INT, .sql = "$ord", .col = 2},
    {3, ROW(gw_db_chain_step, kind), RF_STR, roster_f_oneof, .oneof = step_kinds,
     .bad = "bad step kind '%s' (person, oncall or duty)", .out = RF_OUT_TEXT, .sql = "$kind",
     .col = 3},
    {4, ROW(gw_db_chain_step, who), RF_STR, roster_f_step_who, .out = RF_OUT_TEXT, .sql = "$who",
     .col = 4},
    {5, ROW(gw_db_chain_step, ring_s), RF_INT, roster_f_ring, .optional = true,
     .out = RF_OUT_INT_NZ, .sql = "$ring", .col = 5},
};

static const struct roster_field chain_fields[] = {
    {1, ROW(gw_db_chain, line), RF_STR, roster_f_code, "line code", .out = RF_OUT_TEXT,
     .sql = "$line", .col = 1},
    {2, ROW(gw_db_chain, rounds), RF_INT, roster_f_int, .min = 1, .max = 5,
     .bad = "bad rounds '%s' (empty for the default, or 1-5)", .optional = true,
     .out = RF_OUT_INT_NZ, .sql = "$rounds", .col = 2},
    {3, ROW(gw_db_chain, fallback), RF_STR, roster_f_name, "worker handle", .optional = true,
     .out = RF_OUT_OPT, .sql = "$fallback", .col = 3, .null_ok = true},
    {4, ROW(gw_db_chain, fallback_ring_s), RF_INT, roster_f_ring, .optional = true,
     .out = RF_OUT_INT_NZ, .sql = "$ring", .col = 4},
};

static const struct roster_field holiday_fields[] = {
    {1, ROW(gw_db_holiday, date), RF_STR, roster_f_date, "holiday", .out = RF_OUT_TEXT,
     .sql = "$date", .col = 1},
    {2, ROW(gw_db_holiday, name), RF_STR, roster_f_text, "holiday name", .out = RF_OUT_TEXT,
     .sql = "$name", .col = 2},
};

static const struct roster_field temp_fields[] = {
    {1, ROW(gw_db_temp, name), RF_STR, roster_f_name, "temporary roster name",
     .empty = "temporary roster name is empty", .out = RF_OUT_TEXT, .sql = "$name", .col = 1},
    {2, ROW(gw_db_temp, line), RF_STR, roster_f_code, "line code", .out = RF_OUT_TEXT,
     .sql = "$line", .col = 2},
    {3, ROW(gw_db_temp, from_date), RF_STR, roster_f_date, "from", .out = RF_OUT_TEXT,
     .sql = "$from", .col = 3},
    {4, ROW(gw_db_temp, to_date), RF_STR, roster_f_date, "to", .out = RF_OUT_TEXT, .sql = "$to",
     .col = 4},
    {5, ROW(gw_db_temp, handoff_min), RF_INT, roster_f_hhmm,
     .bad = "bad handoff time '%s' (HH:MM, local time)", .optional = true, .out = RF_OUT_HHMM,
     .sql = "$handoff", .col = 5},
};

static bool is_rotation(const void *row)
{
	return !((const struct gw_db_rotation *)row)->cycle;
}

static bool is_pattern(const void *row)
{
	return !is_rotation(row);
}

/* An override's last column: an add's position, a replace's substitute, none for remove. */
static int override_more(const void *row, char buf[][48], int max)
{
	const struct gw_db_override *o = row;

	assert(max >= 1);
	if (strcmp(o->kind, "add") == 0)
		snprintf(buf[0], 48, "%d", o->position);
	else if (strcmp(o->kind, "remove") != 0)
		snprintf(buf[0], 48, "%s", o->by);
	else
		return 0;
	return 1;
}

/* A line's office hours and after-hours line, all three when it has them. */
static int line_more(const void *row, char buf[][48], int max)
{
	const struct gw_db_line *l = row;

	assert(max >= 3);
	if (!l->office)
		return 0;
	roster_days_format(l->office_days, buf[0], 48);
	snprintf(buf[1], 48, "%02d:%02d-%02d:%02d", l->office_from / 60, l->office_from % 60,
		 l->office_to / 60, l->office_to % 60);
	snprintf(buf[2], 48, "%s", l->after_line);
	return 3;
}

/* A route's conditions, all four when it has any. */
static int route_more(const void *row, char buf[][48], int max)
{
	const struct gw_db_route *rt = row;
	struct route_cond_text ct;

	assert(max >= 4);
	if (!roster_route_has_cond(rt))
		return 0;
	roster_route_cond_format(rt, &ct);
	snprintf(buf[0], 48, "%s", ct.days);
	snprintf(buf[1], 48, "%s", ct.window);
	snprintf(buf[2], 48, "%s", ct.holidays);
	snprintf(buf[3], 48, "%s", ct.status);
	return 4;
}

/* ---- listings (roster_list.c prints them) ------------------------------------------- */

#define F(type, member) .field = 1 + offsetof(struct type, member)

/* MANUAL: what rinkictl did to the worker, on top of the imported roster. */
static int worker_manual(const struct gw_db_roster *d, const void *row, struct roster_val *v)
{
	const struct gw_db_worker *w = row;

	(void)d;
	v->type = RV_STR;
	v->s = w->manual_add	  ? (w->manual_active ? "added, active" : "added")
	       : w->manual_active ? "active"
				  : "-";
	return 0;
}

/* An override's id, only for a manual one: an imported one's changes with the CSV. */
static int override_id(const struct gw_db_roster *d, const void *row, struct roster_val *v)
{
	const struct gw_db_override *o = row;

	(void)d;
	v->type = o->manual ? RV_INT : RV_NONE;
	v->i = o->id;
	return 0;
}

/* A temporary roster's bound: its date and the handoff, local time. */
static int temp_bound(const char *date, int handoff_min, struct roster_val *v)
{
	v->type = RV_STR;
	snprintf(v->buf, sizeof(v->buf), "%s %02d:%02d", date, handoff_min / 60, handoff_min % 60);
	v->s = v->buf;
	return 0;
}

static int temp_from(const struct gw_db_roster *d, const void *row, struct roster_val *v)
{
	const struct gw_db_temp *x = row;

	(void)d;
	return temp_bound(x->from_date, x->handoff_min, v);
}

static int temp_to(const struct gw_db_roster *d, const void *row, struct roster_val *v)
{
	const struct gw_db_temp *x = row;

	(void)d;
	return temp_bound(x->to_date, x->handoff_min, v);
}

/* The shifts and the rotation rows (patterns too) of d that belong to the temporary roster. */
static int temp_shifts(const struct gw_db_roster *d, const void *row, struct roster_val *v)
{
	const struct gw_db_temp *x = row;

	v->type = RV_INT;
	v->i = 0;
	for (size_t k = 0; k < d->n_shifts; k++)
		v->i += d->shifts[k].temp && strcmp(d->shifts[k].temp, x->name) == 0;
	return 0;
}

static int temp_rotations(const struct gw_db_roster *d, const void *row, struct roster_val *v)
{
	const struct gw_db_temp *x = row;

	v->type = RV_INT;
	v->i = 0;
	for (size_t k = 0; k < d->n_rotations; k++)
		v->i += d->rotations[k].temp && strcmp(d->rotations[k].temp, x->name) == 0;
	return 0;
}

/* Text and JSON list some worker columns in a different order: lang is in both twice. */
static const struct roster_col worker_cols[] = {
    {"HANDLE", "handle", 16, F(gw_db_worker, handle)},
    {"NAME", "name", 24, F(gw_db_worker, name)},
    {"PHONE", "phone", 16, F(gw_db_worker, phone)},
    {"ISSI", "issi", 8, F(gw_db_worker, issi)},
    {NULL, "lang", 0, F(gw_db_worker, lang)},
    {"ACTIVE", "active", 6, F(gw_db_worker, active), .yes = "yes", .no = "no"},
    {"LANG", NULL, 4, F(gw_db_worker, lang)},
    {"PIN", "pin_set", 4, F(gw_db_worker, pin_hash), .flags = RC_IS_SET, .yes = "set", .no = "-"},
    {"MANUAL", NULL, 0, .fn = worker_manual},
    {NULL, "manual_add", 0, F(gw_db_worker, manual_add)},
    {NULL, "manual_active", 0, F(gw_db_worker, manual_active)},
};

static const struct roster_col override_cols[] = {
    {"ID", "id", -5, .fn = override_id},
    {"LAYER", "layer", 8, 2, F(gw_db_override, manual), .flags = RC_WORDS, .yes = "manual",
     .no = "imported"},
    {"KIND", "kind", 8, F(gw_db_override, kind)},
    {"LINE", "line", 6, F(gw_db_override, line), .none = "(all)"},
    {"WORKER", "worker", 12, F(gw_db_override, worker)},
    {"BY", "by", 12, F(gw_db_override, by)},
    {"FROM", "from", 24, F(gw_db_override, start_ms)},
    {"TO", "to", 24, 2, F(gw_db_override, end_ms)},
    {"POSITION", "position", 0, 2, F(gw_db_override, position), .flags = RC_ZERO_NONE},
};

static const struct roster_col temp_cols[] = {
    {"NAME", "name", 16, F(gw_db_temp, name)},
    {"LINE", "line", 6, F(gw_db_temp, line)},
    {"FROM", "from", 16, .fn = temp_from},
    {"TO", "to", 16, 2, .fn = temp_to},
    {"SHIFTS", "shifts", -6, 2, .fn = temp_shifts},
    {"ROTATIONS", "rotations", -9, .fn = temp_rotations},
};

#define LIST(n, e, c) (&(const struct roster_list){n, e, c, (int)(sizeof(c) / sizeof(c[0]))})

const struct roster_kind roster_kinds[T_COUNT] = {
    [T_LINE] = {"line", T_LINE, 5, 8,
		"line,CODE,NAME_FI,NAME_SV,NAME_EN[,OFFICE_DAYS,OFFICE_HOURS,AFTER_HOURS_LINE]",
		KIND(gw_db_line, lines, n_lines), FIELDS(line_fields), .check = roster_check_line,
		.more = line_more},
    [T_WORKER] = {"worker", T_WORKER, 5, 7, "worker,HANDLE,NAME,PHONE,ISSI[,ACTIVE[,LANG]]",
		  KIND(gw_db_worker, workers, n_workers), FIELDS(worker_fields),
		  .list = LIST("workers", NULL, worker_cols)},
    [T_SHIFT] = {"shift", T_SHIFT, 6, 7, "shift,LINE,WORKER,START,END,POSITION[,TEMP_ROSTER]",
		 KIND(gw_db_shift, shifts, n_shifts), FIELDS(shift_fields), ORDER(shift_order),
		 .check = roster_check_shift},
    [T_ROUTE] = {"route", T_ROUTE, 4, 8,
		 "route,LINE,CALLER_PREFIX,PRIORITY[,DAYS[,WINDOW[,HOLIDAYS[,STATUS]]]]",
		 KIND(gw_db_route, routes, n_routes), FIELDS(route_fields), .more = route_more},
    [T_DIR] = {"directory", T_DIR, 3, 5,
	       "directory,ISSI,ORGANISATION[,MUNICIPALITY,member|contract]",
	       KIND(gw_db_dir, dirs, n_dirs), FIELDS(dir_fields), .check = roster_check_dir},
    [T_ROT] = {"rotation", T_ROT, 7, 10,
	       "rotation,NAME,LINE,daily|weekly,START_DATE,HANDOFF,POSITION[,HOURS[,END_DATE[,"
	       "TEMP_ROSTER]]]",
	       KIND(gw_db_rotation, rotations, n_rotations), FIELDS(rotation_fields),
	       ORDER(rotation_order), .check = roster_check_rotation, .wants = is_rotation},
    [T_MEMBER] = {"rotation_member", T_MEMBER, 4, 4, "rotation_member,ROTATION,ORDER,WORKER",
		  KIND(gw_db_member, members, n_members), FIELDS(member_fields)},
    [T_OVR] = {"override", T_OVR, 6, 7,
	       "override,add|remove|replace,LINE,WORKER,START,END[,POSITION|BY]",
	       KIND(gw_db_override, overrides, n_overrides), FIELDS(override_fields),
	       .more = override_more, .list = LIST("overrides", "(no overrides)", override_cols)},
    [T_STEP] = {"chain_step", T_STEP, 5, 6, "chain_step,LINE,ORDER,person|oncall|duty,WHO[,RING_S]",
		KIND(gw_db_chain_step, steps, n_steps), FIELDS(step_fields)},
    [T_CHAIN] = {"chain", T_CHAIN, 4, 5, "chain,LINE,ROUNDS,FALLBACK[,FALLBACK_RING_S]",
		 KIND(gw_db_chain, chains, n_chains), FIELDS(chain_fields)},
    [T_HOLIDAY] = {"holiday", T_HOLIDAY, 3, 3, "holiday,DATE,NAME",
		   KIND(gw_db_holiday, holidays, n_holidays), FIELDS(holiday_fields)},
    [T_TEMP] = {"temp_roster", T_TEMP, 5, 6, "temp_roster,NAME,LINE,FROM_DATE,TO_DATE[,HANDOFF]",
		KIND(gw_db_temp, temps, n_temps), FIELDS(temp_fields), .check = roster_check_temp,
		.list = LIST("temp_rosters", "(no temporary rosters)", temp_cols)},
};

const struct roster_kind roster_pattern_kind = {
    "pattern",
    T_ROT,
    7,
    10,
    "pattern,NAME,LINE,START_DATE,CYCLE,SHIFTS,POSITION[,STEP[,END_DATE[,TEMP_ROSTER]]]",
    KIND(gw_db_rotation, rotations, n_rotations),
    FIELDS(pattern_fields),
    .wants = is_pattern};

void *roster_kind_rows(const struct roster_kind *k, const struct gw_db_roster *r, size_t **n)
{
	*n = (size_t *)((const char *)r + k->n_off);
	return *(void **)((const char *)r + k->arr_off);
}

static char **str_at(const struct roster_field *fd, void *row)
{
	return (char **)((char *)row + fd->off);
}

void roster_kind_free(const struct roster_kind *k, void *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *row = (char *)rows + i * k->size;
		for (int j = 0; j < k->n_fields; j++)
			if (k->fields[j].store == RF_STR)
				free(*str_at(&k->fields[j], row));
	}
}

/* ---- reading a row ------------------------------------------------------------------- */

/* Store an empty optional field's value. */
static void set_default(const struct roster_field *fd, void *row)
{
	char *p = (char *)row + fd->off;

	switch (fd->store) {
	case RF_STR:
		*(const char **)p = fd->def_str;
		break;
	case RF_INT:
		*(int *)p = fd->def_int;
		break;
	case RF_BOOL:
		*(bool *)p = fd->def_int != 0;
		break;
	case RF_I64:
		*(int64_t *)p = fd->def_int;
		break;
	}
}

bool roster_parse_fields(struct parser *ps, const struct roster_kind *k, char **f, int n)
{
	union {
		max_align_t align;
		char bytes[256];
	} tmp;
	char none[1] = "";
	void *row;
	int steps = k->order ? k->n_order : k->n_fields + 1;

	assert(k->size <= sizeof(tmp.bytes));
	memset(&tmp, 0, sizeof(tmp));
	for (int i = 0; i < steps; i++) {
		int j = k->order ? k->order[i] : i == k->n_fields ? RF_CHECK : i;
		const struct roster_field *fd;
		char *s;

		if (j == RF_CHECK) {
			if (k->check && !k->check(ps, tmp.bytes, f, n))
				return false;
			continue;
		}
		fd = &k->fields[j];
		if (!fd->csv || !fd->parse)
			continue;
		s = fd->csv < n ? f[fd->csv] : none;
		if (!*s && fd->optional) {
			set_default(fd, tmp.bytes);
			continue;
		}
		if (!*s && fd->empty) {
			roster_report(ps, ps->recline, "%s", fd->empty);
			return false;
		}
		if (!fd->parse(ps, fd, s, tmp.bytes))
			return false;
	}
	if (!(row = roster_add_row(ps, k->type)))
		return false;
	memcpy(row, tmp.bytes, k->size);
	for (int j = 0; j < k->n_fields; j++) {
		char **sp = str_at(&k->fields[j], row);
		if (k->fields[j].store == RF_STR && *sp)
			*sp = roster_sdup(ps, *sp);
	}
	return true;
}

/* ---- CSV export ---------------------------------------------------------------------- */

/* A row's values in CSV order into v[] (buf holds the numbers); returns how many. */
static int row_values(const struct roster_kind *k, const void *row, const char **v, char buf[][48])
{
	int n = 0;

	for (int j = 0; j < k->n_fields; j++) {
		const struct roster_field *fd = &k->fields[j];
		const char *p = (const char *)row + fd->off;
		const char *s = fd->store == RF_STR ? *(char *const *)p : NULL;
		int iv = fd->store == RF_INT	? *(const int *)p
			 : fd->store == RF_BOOL ? *(const bool *)p
						: 0;

		switch (fd->out) {
		case RF_OUT_NONE:
			continue;
		case RF_OUT_TEXT:
			v[n] = s;
			break;
		case RF_OUT_OPT:
			v[n] = s ? s : "";
			break;
		case RF_OUT_TAIL:
			if (!s)
				continue;
			v[n] = s;
			break;
		case RF_OUT_LANG:
			v[n] = roster_lang_ok(s) ? s : "fi";
			break;
		case RF_OUT_INT:
		case RF_OUT_INT_NZ:
			snprintf(buf[n], 48, "%d", iv);
			v[n] = fd->out == RF_OUT_INT_NZ && iv == 0 ? "" : buf[n];
			break;
		case RF_OUT_HHMM:
			snprintf(buf[n], 48, "%02d:%02d", iv / 60 % 24, iv % 60);
			v[n] = buf[n];
			break;
		case RF_OUT_TIME:
			roster_format_local(*(const int64_t *)p, buf[n], 48);
			v[n] = buf[n];
			break;
		}
		n++;
	}
	if (k->more) {
		int m = k->more(row, buf + n, MAX_FIELDS - n);
		for (int i = 0; i < m; i++, n++)
			v[n] = buf[n];
	}
	return n;
}

/* Write the n rows of kind k at rows (those it wants). */
static void write_rows(const struct roster_kind *k, const void *rows, size_t n, FILE *f)
{
	for (size_t i = 0; i < n; i++) {
		const void *row = (const char *)rows + i * k->size;
		const char *v[MAX_FIELDS];
		char buf[MAX_FIELDS][48];
		int nv;

		if (k->wants && !k->wants(row))
			continue;
		nv = row_values(k, row, v, buf);
		gw_text_csv_put(f, k->name, GW_TEXT_CSV_ROSTER);
		for (int j = 0; j < nv; j++) {
			fputc(',', f);
			gw_text_csv_put(f, v[j], GW_TEXT_CSV_ROSTER);
		}
		fputc('\n', f);
	}
}

int gw_roster_write_csv(const struct gw_db_roster *d, FILE *f)
{
	/* the order a reader expects: who and what before the rows that name them */
	static const int order[] = {T_LINE, T_WORKER, T_TEMP,  T_SHIFT, T_ROT, T_MEMBER,
				    T_OVR,  T_STEP,   T_CHAIN, T_ROUTE, T_DIR, T_HOLIDAY};

	fputs("# rinki roster, written by rinkictl roster export (Helsinki times with their "
	      "offset).\n"
	      "# Import it with: rinkictl roster import FILE\n",
	      f);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct roster_kind *k = &roster_kinds[order[i]];
		size_t *n;
		const char *rows = roster_kind_rows(k, d, &n);

		if (order[i] != T_ROT) {
			write_rows(k, rows, *n, f);
			continue;
		}
		for (size_t r = 0; r < *n; r++) { /* patterns and rotations, in their order */
			write_rows(&roster_pattern_kind, rows + r * k->size, 1, f);
			write_rows(k, rows + r * k->size, 1, f);
		}
	}
	if (fflush(f) != 0 || ferror(f))
		return -(errno ? errno : EIO);
	return 0;
}
