/*
 * roster_priv: what the roster's files share and nobody else may use: limits, the
 * local-time helpers of roster_time.c, the CSV reader's records and the checks of
 * roster_check.c. Include only from gateway/store/roster*.c.
 */
#ifndef GW_ROSTER_PRIV_H
#define GW_ROSTER_PRIV_H

#include "store/roster.h"
#include "store/roster_fields.h"
#include "core/e164.h"
#include "core/text.h"
#include "core/log.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#define SSI_DIGITS	 8
#define TSI_DIGITS	 17
#define MAX_FILE_BYTES	 (64u << 20)
#define MAX_FIELDS	 10
#define MAX_RECORD_BYTES 4096
#define MAX_COVER	 128 /* shifts considered at one instant before ordering */
#define DAY_MS		 86400000LL
#define HORIZON_BACK_MS	 (7 * DAY_MS)
#define HORIZON_AHEAD_MS (400 * DAY_MS)
#define OFFICE_FROM_MIN	 (8 * 60) /* office hours: Mon-Fri 08:00-16:00, not on holidays */
#define OFFICE_TO_MIN	 (16 * 60)

enum hours { HOURS_ALL, HOURS_OFFICE, HOURS_AFTER };

/* A shift pattern (rotation kind "pattern") as roster_pattern_parse() reads it. */
#define PATTERN_MAX_DAYS   366
#define PATTERN_MAX_SHIFTS 8
struct pattern {
	int days;			     /* cycle length */
	unsigned char day[PATTERN_MAX_DAYS]; /* 0: off, else 1 + index into shift[] */
	int n_shifts;
	struct pattern_shift {
		char name[9];
		int start_min, end_min; /* local minutes; end > 1440 ends the next day */
	} shift[PATTERN_MAX_SHIFTS];
};
struct parser {
	const char *file;
	gw_roster_err_fn err;
	void *arg;
	const char *begin, *p, *end;
	unsigned lineno;  /* line the scanner is on */
	unsigned recline; /* line the current record started on */
	int errors;
	bool oom;
	bool dir_only; /* a directory file: directory records only, no line needed */
	struct gw_db_roster *out;
	size_t cap[T_COUNT];
	unsigned *src[T_COUNT]; /* source line of every row, per record type */
	size_t src_cap[T_COUNT];
	struct perr *perrs;
	size_t n_perrs, cap_perrs;
};
/* A record as read: fields point into buf. */
struct record {
	char buf[MAX_RECORD_BYTES];
	char *f[MAX_FIELDS];
	int n;
	bool too_long, too_many;
	const char *why; /* first syntax problem, or NULL */
};
/* The condition fields of a route as the CSV writes them: days, window, holidays, status. */
struct route_cond_text {
	char days[40], window[48], holidays[8], status[16];
};

struct gw_db_route;
struct gw_db_worker;
struct gw_roster;
struct parser;
struct record;
struct rline;
struct route_cond_text;
struct rshift;

int roster_weekday(int64_t day);
const char *roster_fi_holiday(int64_t day);
void roster_format_date(int64_t day, char *buf, size_t len);
int64_t roster_floor_div(int64_t a, int64_t b);
int64_t roster_local_to_utc(int64_t day, int min);
int64_t roster_local_to_utc_ms(int64_t day, int64_t ms_of_day);
void roster_format_local(int64_t ms, char *buf, size_t len);
int64_t roster_utc_to_local_day(int64_t t_ms, int *min);
bool roster_digits(const char **p, int n, int *v);
bool roster_parse_date(const char *s, int64_t *day);
bool roster_parse_hhmm(const char *s, int *min);
void roster_format_utc(int64_t ms, char *buf, size_t len);
bool roster_ssi_key(const char *s, char key[SSI_DIGITS + 1]);
bool roster_lang_ok(const char *s);
bool roster_before(const struct rshift *a, const struct rshift *b);
int roster_duty(const struct gw_roster *r, const struct rline *l, int64_t t,
		const struct gw_db_worker **out, int max);
__attribute__((format(printf, 3, 4))) void roster_report(struct parser *ps, unsigned line,
							 const char *fmt, ...);
void roster_flush_errors(struct parser *ps);
void *roster_add_row(struct parser *ps, int t);
char *roster_sdup(struct parser *ps, const char *s);
bool roster_text_ok(const char *s);
bool roster_check_encoding(struct parser *ps);
bool roster_is_blank(char c);
int roster_read_record(struct parser *ps, struct record *rec);
bool roster_digits_ok(const char *s, size_t min, size_t max);
__attribute__((format(printf, 3, 4))) int roster_bad(char *why, size_t len, const char *fmt, ...);
void roster_route_cond_format(const struct gw_db_route *rt, struct route_cond_text *t);
bool roster_route_has_cond(const struct gw_db_route *rt);
/* Field checks of the kind tables (roster_fields.h, roster_fields.c), in roster_check.c. */
bool roster_f_code(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_name(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_text(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_phone(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_issi(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_int(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_lang(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_date(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_time(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_hhmm(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_oneof(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_ring(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_prefix(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_days(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_window(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_holidays(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_status(struct parser *ps, const struct roster_field *fd, char *s, void *row);
bool roster_f_step_who(struct parser *ps, const struct roster_field *fd, char *s, void *row);
/* Whole-row checks of the kind tables: an end after the start. False after a report. */
bool roster_check_shift(struct parser *ps, const void *row, char **f, int n);
bool roster_check_line(struct parser *ps, const void *row, char **f, int n);
bool roster_check_dir(struct parser *ps, const void *row, char **f, int n);
bool roster_f_office(struct parser *ps, const struct roster_field *fd, char *s, void *row);
void roster_days_format(int mask, char *buf, size_t len);
bool roster_check_rotation(struct parser *ps, const void *row, char **f, int n);
bool roster_check_temp(struct parser *ps, const void *row, char **f, int n);
/*
 * Read a row of kind k from the record's fields f[0..n) (n within the kind's counts) by
 * its table, checking in its order, and append it. False after reporting its problem.
 */
bool roster_parse_fields(struct parser *ps, const struct roster_kind *k, char **f, int n);
int roster_pattern_parse(const char *cycle, const char *shifts, struct pattern *p, char *why,
			 size_t len);

#endif
