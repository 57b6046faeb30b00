/*
 * tz: a time zone from the system tz database (TZif files, RFC 8536, versions 1-4),
 * loaded once and then asked without I/O or allocation: the UTC offset, summer-time flag
 * and abbreviation in effect at an instant. Version 2+ files are read from their 64-bit
 * data; instants after the last transition follow the file's POSIX TZ footer
 * ("EET-2EEST,M3.5.0/3,M10.5.0/4"). Leap-second ("right/") zones are refused.
 */
#ifndef GW_TZ_H
#define GW_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_TZ_DIR      "/usr/share/zoneinfo"
#define GW_TZ_NAME_MAX 64     /* longest zone name accepted, with the NUL */
#define GW_TZ_FILE_MAX 262144 /* largest TZif file read */
#define GW_TZ_ABBR_MAX 16     /* longest abbreviation, with the NUL */

struct gw_tz;

/* What is in effect at an instant. */
struct gw_tz_info {
	int32_t off_s;	  /* seconds east of UTC */
	bool dst;	  /* summer time */
	const char *abbr; /* "EEST", "+03" ([A-Za-z0-9+-] only): owned by the zone */
};

/*
 * Parse a TZif image buf[0..len) into a new zone (*out, freed with gw_tz_free). Returns 0,
 * or -EINVAL (not TZif, counts that overrun the data or exceed the bounds, unordered
 * transitions, bad indices, abbreviations or footer; why says which), -ENOTSUP (leap
 * seconds), -ENOMEM.
 */
int gw_tz_parse(const void *buf, size_t len, struct gw_tz **out, char *why, size_t why_len);

/*
 * Load zone name ("Europe/Helsinki") from dir (NULL: GW_TZ_DIR). The name is 1..63 of
 * [A-Za-z0-9_+-/], with no "." component, no leading "/" and no "//". Returns 0 or what
 * gw_tz_parse returns, -EINVAL (bad name, not a regular file, too large) or -errno (open,
 * read); why says which, naming the file.
 */
int gw_tz_load(const char *dir, const char *name, struct gw_tz **out, char *why, size_t why_len);

/* Free a zone from gw_tz_parse or gw_tz_load; NULL is fine. */
void gw_tz_free(struct gw_tz *tz);

/* What is in effect at t_s (seconds since 1970, UTC); no I/O, no allocation. */
void gw_tz_at(const struct gw_tz *tz, int64_t t_s, struct gw_tz_info *info);

/*
 * The first instant after t_s at which the offset or summer-time flag changes, in
 * seconds, looking at most horizon_s ahead. Returns 1 and sets *next_s, or 0 when none.
 */
int gw_tz_next_change(const struct gw_tz *tz, int64_t t_s, int64_t horizon_s, int64_t *next_s);

/*
 * Parse a POSIX TZ string (the TZif footer form, e.g. "EET-2EEST,M3.5.0/3,M10.5.0/4",
 * "<+03>-3", "UTC0") into a new zone without transitions. Returns 0 or -EINVAL, -ENOMEM.
 */
int gw_tz_parse_posix(const char *s, struct gw_tz **out, char *why, size_t why_len);

#endif
