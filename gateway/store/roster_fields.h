/*
 * roster_fields: every roster record kind described once, as a table of its fields: the
 * CSV column, where the value lives in the struct gw_db_* row and how it is stored, the
 * check that reads it from CSV (with its bounds and message), whether it may be empty and
 * what it then means, how the export writes it and the SQL parameter it is bound to. The
 * CSV reader (roster_check.c), the export, the roster's free (gw_db_roster_clear), its
 * insert and read back (db_roster.c) and rinkictl's listings (a kind's listing columns,
 * printed by roster_list.c) are driven from it. Private to gateway/store.
 */
#ifndef GW_ROSTER_FIELDS_H
#define GW_ROSTER_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store/db.h"

/* Record kinds, in the order of the arrays in struct gw_db_roster. */
enum {
	T_LINE,
	T_WORKER,
	T_SHIFT,
	T_ROUTE,
	T_DIR,
	T_ROT,
	T_MEMBER,
	T_OVR,
	T_STEP,
	T_CHAIN,
	T_HOLIDAY,
	T_TEMP,
	T_COUNT
};

/* How a field is stored in its row. */
enum rf_store { RF_STR, RF_INT, RF_BOOL, RF_I64 };

/* How the export writes a field (RF_OUT_NONE: not by the table). */
enum rf_out {
	RF_OUT_NONE,
	RF_OUT_TEXT,   /* the string */
	RF_OUT_OPT,    /* the string, NULL as empty */
	RF_OUT_INT,    /* the number */
	RF_OUT_INT_NZ, /* the number, 0 as empty */
	RF_OUT_HHMM,   /* minutes after local midnight as HH:MM */
	RF_OUT_TIME,   /* UTC ms as Helsinki wall clock with its offset */
	RF_OUT_LANG,   /* a language, anything else as "fi" */
	RF_OUT_TAIL,   /* the string as the last field, left out when NULL */
};

struct parser;
struct roster_field;
struct roster_val;

/*
 * Check the CSV value s (not empty, or the field is required) and store it in row at
 * fd->off. Returns false after reporting the row's problem (roster_report). s may be
 * rewritten in place (never longer) and stays referenced until the row is kept.
 */
typedef bool (*roster_field_fn)(struct parser *ps, const struct roster_field *fd, char *s,
				void *row);

struct roster_field {
	int csv;	     /* CSV column (1: right after the record type), 0: none */
	size_t off;	     /* offset in the row */
	enum rf_store store; /* how it is stored there */
	roster_field_fn parse;
	const char *what;	  /* name in messages ("line code") */
	long min, max;		  /* bounds of a number */
	const char *bad;	  /* message for a bad value, with one %s for it */
	const char *const *oneof; /* allowed words, NULL-terminated */
	bool optional;		  /* may be empty or missing: then def_str / def_int */
	const char *def_str;	  /* the value of an empty optional string (NULL: none) */
	int def_int;		  /* the value of an empty optional number */
	const char *empty;	  /* message for an empty required field (NULL: as bad) */
	enum rf_out out;	  /* how the export writes it */
	const char *sql;	  /* insert parameter ("$line"), NULL: not bound */
	size_t sql_if;		  /* 1 + offset of a bool that must hold to bind it (0: always) */
	int col;		  /* column of the kind's SQL list (1: first), 0: not read */
	bool null_ok;		  /* a NULL column reads as NULL (else as "") */
	size_t set_if;		  /* 1 + offset of a bool set when the column is not NULL */
};

#define RF_CHECK (-1) /* in a kind's order: run its check here */

/* A listing column's value: what a derived column computes (roster_list.c prints it). */
struct roster_val {
	enum { RV_NONE, RV_STR, RV_INT, RV_BOOL, RV_TIME } type; /* RV_NONE: left out */
	const char *s;						 /* RV_STR (NULL: none) */
	int64_t i;    /* RV_INT, RV_BOOL (0/1), RV_TIME (UTC ms) */
	char buf[48]; /* room for a derived string (s may point here) */
};

/*
 * A derived column: its value for row of roster d (a count, a marker, a time with the
 * handoff). Fills v and returns 0, or a negative errno.
 */
typedef int (*roster_col_fn)(const struct gw_db_roster *d, const void *row, struct roster_val *v);

#define RC_ZERO_NONE 1u /* a number 0 is shown as the column's none (text only) */
#define RC_IS_SET    2u /* a string field shown as a bool: whether it is set */
#define RC_WORDS     4u /* a bool shown as its words in JSON too */

/* One column of a kind's listing ("rinkictl worker list" and the like). */
struct roster_col {
	const char *head; /* text header, NULL: JSON only */
	const char *key;  /* JSON member, NULL: text only */
	int width;	  /* text: padded to width characters, negative: right-aligned */
	int gap;	  /* text: spaces before it (0: one; none before the first column) */
	size_t field;	  /* 1 + offset in the row of the kind's field shown, 0: by fn */
	roster_col_fn fn;
	unsigned flags;	      /* RC_* */
	const char *yes, *no; /* text of a bool ("yes", "no") */
	const char *none;     /* text of a NULL string or RV_NONE ("-" when NULL) */
};

/* A kind's listing: its name (the JSON array), the text line when there are no rows. */
struct roster_list {
	const char *name;  /* "workers" */
	const char *empty; /* "(no overrides)", NULL: the header alone */
	const struct roster_col *cols;
	int n_cols;
};

struct roster_kind {
	const char *name; /* record type in the CSV */
	int type;	  /* T_* */
	int min, max;	  /* field count including the record type */
	const char *syntax;
	size_t size;	       /* bytes of one row */
	size_t arr_off, n_off; /* where its array and count are in struct gw_db_roster */
	const struct roster_field *fields;
	int n_fields;
	const signed char
	    *order; /* fields to check, by index, and RF_CHECK; NULL: all, then check */
	int n_order;
	/* Checks over the whole row (fields already stored in row); false after a report. */
	bool (*check)(struct parser *ps, const void *row, char **f, int n);
	/* Export: false when this kind does not write row (a rotation row of a pattern). */
	bool (*wants)(const void *row);
	/* Export: the values after the table's (at most 4, each < 48 bytes); returns how many. */
	int (*more)(const void *row, char buf[][48], int max);
	const struct roster_list *list; /* how rinkictl lists it, NULL: not listed */
};

/* The kinds, indexed by T_* (rotation rows, patterns included, are T_ROT's fields). */
extern const struct roster_kind roster_kinds[T_COUNT];
/* A shift pattern: a T_ROT row read and written with fields of its own. */
extern const struct roster_kind roster_pattern_kind;

/* The array of kind k in r, and its count. */
void *roster_kind_rows(const struct roster_kind *k, const struct gw_db_roster *r, size_t **n);

/* Free every string field of the n rows of kind k at rows (not the array). */
void roster_kind_free(const struct roster_kind *k, void *rows, size_t n);

#endif
