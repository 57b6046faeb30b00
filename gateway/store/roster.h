/*
 * roster: who answers an authority call, from an in-memory snapshot.
 *
 * A snapshot is built from the database (gw_roster_load) and never touches disk on
 * lookup; rinkid rebuilds it when gw_db_roster_changed() says so, and once a day
 * (gw_roster_stale), because rotations are expanded over a horizon of 7 days back to
 * 400 days ahead of the build time. The coordinators maintain the roster as one CSV file,
 * parsed and imported here (all or nothing), and exported back (gw_roster_write_csv).
 *
 * Who is on duty on a line at t: one-off shifts, rotation turns (daily or weekly,
 * handed off at a local Europe/Helsinki time, DST-correct) and shift patterns (a cycle of
 * any number of days, shifts with their own local start times, members staggered by a
 * step of days; tools/demo/roster.csv's pattern record) -- within a temporary roster's
 * date range only those of that temporary roster, then overrides in a fixed
 * order: every "replace" (A's duty goes to B), then every "remove" (A is off), then
 * every "add" (A is on duty too), each kind by start time. So a substitute who is off
 * sick is removed, and an added person is never removed by another override.
 *
 * Callers are matched by their ISSI: a caller given as a 17-digit TSI
 * (MCC 4 + MNC 5 + SSI 8 digits) is reduced to its SSI, and leading zeros are dropped,
 * so "09011638300023404", "00023404" and "23404" are the same caller.
 */
#ifndef GW_ROSTER_H
#define GW_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "store/db.h"

struct gw_roster;

/* The county roster version r was loaded from (version 0: a local import, or none). */
const struct gw_db_roster_source *gw_roster_source(const struct gw_roster *r);

/* Most steps gw_roster_chain() and gw_roster_plan() ever return. */
#define GW_ROSTER_CHAIN_MAX 32
/* Ring times a roster may set per step (the range of call.ring_time). */
#define GW_ROSTER_RING_MIN_S 5
#define GW_ROSTER_RING_MAX_S 120

/* Build a snapshot from the database's roster tables, now. Returns 0 and *out, or -errno. */
int gw_roster_load(struct gw_db *db, struct gw_roster **out);

/* gw_roster_load() with the horizon around now_ms (UTC ms) instead of the wall clock. */
int gw_roster_load_at(struct gw_db *db, int64_t now_ms, struct gw_roster **out);

/*
 * True when the snapshot should be rebuilt because time moved on: now_ms is a day or
 * more after (or before) its build time. rinkid checks it on its roster timer.
 */
bool gw_roster_stale(const struct gw_roster *r, int64_t now_ms);

/* Free a snapshot; every string it handed out becomes invalid. NULL is ignored. */
void gw_roster_free(struct gw_roster *r);

struct gw_roster_step {
	const char *handle;
	const char *name;
	const char *phone;
};

/*
 * Route a caller (SSI or TSI digits) at t to a service line code. A route matches when the
 * caller starts with its prefix ("" matches everyone) and its conditions hold: status (an
 * SDS status code; a route with one matches only that status, status -1 is a voice call),
 * weekdays, a local Helsinki time window (may cross midnight: weekdays and holidays are
 * then those of the day it began) and holidays (only / except). Among matching routes
 * the most specific wins: one naming the status, then the longest prefix, then the most
 * conditions of days, window and holidays, then the higher priority, then the earlier
 * route. Returns the line code (owned by r) or NULL when no route matches.
 */
const char *gw_roster_route_at(const struct gw_roster *r, const char *caller, int status, time_t t);

/*
 * As gw_roster_route_at() for a status SDS, but only a route that names status (a code
 * 0..65535) counts: routes without a status are ignored. Returns the line code (owned by r),
 * or NULL when no route names status for caller at t (or status < 0).
 */
const char *gw_roster_route_status_at(const struct gw_roster *r, const char *caller, int status,
				      time_t t);

/* gw_roster_route_at(r, caller, -1, now): a voice call now. */
const char *gw_roster_route(const struct gw_roster *r, const char *caller);

/*
 * Fill steps[] with the workers on duty for line at t_ms (start <= t < end), after
 * rotations and overrides, ordered by position then start; active workers only, each
 * worker once (at their first place). This is the duty order, whatever the line's
 * escalation chain says. Returns the count (<= max, <= GW_ROSTER_CHAIN_MAX), -ENOENT for
 * an unknown line, or -ERANGE when the line has rotations and t_ms is outside the
 * snapshot's horizon (never for a snapshot kept fresh with gw_roster_stale).
 */
int gw_roster_chain(const struct gw_roster *r, const char *line, int64_t t_ms,
		    struct gw_roster_step *steps, int max);

/* One step of an escalation plan; strings owned by the snapshot. */
struct gw_roster_plan_step {
	const char *handle;
	const char *name;
	const char *phone;
	int ring_s; /* 0: the configured ring time (call.ring_time) */
};

struct gw_roster_plan {
	struct gw_roster_plan_step steps[GW_ROSTER_CHAIN_MAX];
	int n_steps;
	int rounds;	   /* times steps[] is tried; 0: the configured call.rounds */
	bool has_fallback; /* fallback is tried once after the last round */
	struct gw_roster_plan_step fallback;
	bool explicit_chain; /* steps come from chain_step records, else the duty order */
	bool empty;	     /* nobody at all to page: no steps and no fallback */
	/* Outside the line's office hours: the line whose plan this is, else NULL. */
	const char *after_hours_line;
};

/*
 * The escalation plan for line at t_ms. A line with office hours (gw_roster_office_at false)
 * has its after-hours line's plan, with out->after_hours_line naming that line. With
 * chain_step records: each step in order,
 * a person (replace/remove overrides of that line or of every line applied; inactive or
 * removed: skipped), the first on duty of a line ("oncall") or everyone on duty there
 * ("duty"); each worker once, at their first place. Without: the duty order
 * (gw_roster_chain). Rounds and fallback from the line's chain record. An empty plan is
 * not an error: out->empty says nobody can be paged (the caller must tell the officer).
 * Returns the number of steps, -ENOENT for an unknown line or -ERANGE (see chain).
 */
int gw_roster_plan(const struct gw_roster *r, const char *line, int64_t t_ms,
		   struct gw_roster_plan *out);

/*
 * Whether line is in its office hours at t_ms: true for a line without office hours (or an
 * unknown one); else its office days and local hours, never on a holiday (computed Finnish
 * ones and the roster's own).
 */
bool gw_roster_office_at(const struct gw_roster *r, const char *line, int64_t t_ms);

/*
 * The line whose duty serves line at t_ms: its after-hours line outside its office hours
 * (owned by r), else NULL (line itself, or an unknown line).
 */
const char *gw_roster_after_hours_line(const struct gw_roster *r, const char *line, int64_t t_ms);

/*
 * The temporary roster in effect on line at t_ms (its name, owned by r), or NULL: then the
 * line's normal shifts and rotations apply. While one is in effect, only the shifts and
 * rotations that name it make the line's duty (overrides apply on top as always).
 */
const char *gw_roster_temp_at(const struct gw_roster *r, const char *line, int64_t t_ms);

/* ---- coverage -------------------------------------------------------------------------- */

/*
 * A gap: from_ms to to_ms, line's plan has no step (gw_roster_plan: nobody on duty and no
 * chain step that finds anyone). fallback is the handle of the fallback that would still
 * be rung then, or NULL: nobody at all can be paged.
 */
struct gw_roster_gap {
	const char *line;
	int64_t from_ms, to_ms;
	const char *fallback;
};
typedef void (*gw_roster_gap_fn)(const struct gw_roster_gap *g, void *arg);

/*
 * Call fn for every gap of every line in [from_ms, to_ms), by line code then time (a gap
 * is cut at the range's ends). Returns how many, -EINVAL for an empty range, or -ERANGE
 * when the range is outside the snapshot's horizon (gw_roster_horizon).
 */
int gw_roster_gaps(const struct gw_roster *r, int64_t from_ms, int64_t to_ms, gw_roster_gap_fn fn,
		   void *arg);

/*
 * Call fn for every holiday whose local day overlaps [from_ms, to_ms), in date order: its
 * date ("YYYY-MM-DD") and name (the Finnish public holiday's, else the roster's holiday
 * record's). Returns how many, or -EINVAL for an empty range.
 */
int gw_roster_holidays(const struct gw_roster *r, int64_t from_ms, int64_t to_ms,
		       void (*fn)(const char *date, const char *name, void *arg), void *arg);

/* The snapshot's horizon [*from_ms, *to_ms) (UTC ms): where lookups answer. Returns 0. */
int gw_roster_horizon(const struct gw_roster *r, int64_t *from_ms, int64_t *to_ms);

/* ---- duty listing and calendar --------------------------------------------------------- */

/* One stretch of duty: a worker at a place on a line, without a break (strings owned by r). */
struct gw_roster_duty {
	const char *line, *handle, *name;
	int position;
	int64_t start_ms, end_ms;	      /* cut at the range's ends */
	int64_t whole_start_ms, whole_end_ms; /* not cut */
};
typedef void (*gw_roster_duty_fn)(const struct gw_roster_duty *d, void *arg);

/*
 * Call fn for every stretch of duty in [from_ms, to_ms) after rotations, patterns and
 * overrides, active workers only, touching pieces of one worker and place joined, cut at
 * the range's ends; by line, then worker, place and start. Returns how many, -EINVAL for
 * an empty range, -ERANGE outside the horizon (gw_roster_horizon) or -ENOMEM.
 */
int gw_roster_duty_each(const struct gw_roster *r, int64_t from_ms, int64_t to_ms,
			gw_roster_duty_fn fn, void *arg);

/*
 * Write the duty of [from_ms, to_ms) as an iCalendar (RFC 5545) VCALENDAR to f: one VEVENT
 * per stretch (gw_roster_duty_each) that overlaps the range, whole (a night that began
 * before from_ms starts when it began), for one worker (handle, NULL: all) and one line
 * (line, NULL: all); times in UTC, DTSTAMP stamp_ms, UIDs stable across exports, text
 * escaped, lines folded at 75 octets, CRLF. Returns the number of events, or -errno (as
 * gw_roster_duty_each, or a write error).
 */
int gw_roster_write_ics(const struct gw_roster *r, const char *handle, const char *line,
			int64_t from_ms, int64_t to_ms, int64_t stamp_ms, FILE *f);

/* ---- worker PIN and language ------------------------------------------------------------ */

/*
 * PINs are 4-8 digits, stored only as libsodium crypto_pwhash_str() strings (argon2id,
 * random salt) with these limits, chosen for a small board (8 MiB of RAM per check):
 * 2 passes over 8 MiB took 6-8 ms per check on the 2-core x86-64 build host; expect
 * ~5-10x that on an ARM board. A check runs on the main loop, so it stays this cheap.
 */
#define GW_ROSTER_PIN_MIN      4
#define GW_ROSTER_PIN_MAX      8
#define GW_ROSTER_PIN_OPSLIMIT 2
#define GW_ROSTER_PIN_MEMLIMIT (8u << 20)
#define GW_ROSTER_PIN_HASH_MAX 160 /* >= crypto_pwhash_STRBYTES + "pep1:" */
#define GW_ROSTER_PEPPER_BYTES 32

/* True when pin is 4-8 ASCII digits. */
bool gw_roster_pin_ok(const char *pin);

/*
 * Hash pin for gw_db_worker_set_pin() into out (NUL-terminated). Returns 0, -EINVAL when
 * pin is not 4-8 digits, -ENOMEM (argon2 memory) or -EIO (libsodium would not start).
 */
int gw_roster_hash_pin(const char *pin, char out[GW_ROSTER_PIN_HASH_MAX]);

/*
 * The PIN pepper: GW_ROSTER_PEPPER_BYTES random bytes in path ("<db>.pepper", mode 0600,
 * readable by rinkid's user only), loaded for this process. With one loaded,
 * gw_roster_hash_pin hashes HMAC-SHA256(pepper, PIN) and marks the hash "pep1:", so the
 * database alone does not give a PIN away to a guess of every PIN. create: make the file
 * (O_EXCL) when it is missing. Returns 0, -ENOENT (missing, create false), -EPERM (others
 * may read it, or it is not a regular file), -EINVAL (not exactly the size), or -errno.
 */
int gw_roster_pepper_load(const char *path, bool create);

/* Forget the loaded pepper (wiped). */
void gw_roster_pepper_forget(void);

/* True once a pepper is loaded. */
bool gw_roster_pepper_loaded(void);

/*
 * Check pin against hash (peppered "pep1:" or an unpeppered one made before). 0 match,
 * -EACCES no match or not a PIN, -ENOKEY (peppered but no pepper loaded), -EIO.
 */
int gw_roster_verify_pin(const char *hash, const char *pin);

/*
 * Check the PIN a worker typed, the worker named by phone (exactly as in the roster; the
 * active worker with that number, first by handle). Returns 0 on a match, -EACCES for a
 * wrong PIN, -ENOENT when no active worker has that phone or the worker has no PIN, -ENOKEY
 * when the hash is peppered and no pepper is loaded (gw_roster_verify_pin).
 */
int gw_roster_check_pin(const struct gw_roster *r, const char *phone, const char *pin);

/* Language ("fi", "sv" or "en") of the active worker with that phone, or NULL if none. */
const char *gw_roster_worker_lang(const struct gw_roster *r, const char *phone);

/* Name of the worker with that handle (active or not), or NULL when there is none. */
const char *gw_roster_worker_name(const struct gw_roster *r, const char *handle);

/* Directory name (organisation) for an ISSI/TSI, or NULL when not listed. */
const char *gw_roster_org(const struct gw_roster *r, const char *issi);

/*
 * The roster worker (active or not) whose phone is number, compared as gw_e164_same()
 * (full E.164, core/e164.h). Returns 0 with *out filled (strings owned by r), or -ENOENT.
 */
int gw_roster_worker_by_phone(const struct gw_roster *r, const char *number,
			      struct gw_roster_step *out);

/* English name of a service line, or NULL for an unknown code. */
const char *gw_roster_line_name(const struct gw_roster *r, const char *line);
/* Finnish name of a service line (what officers and workers read), or NULL. */
const char *gw_roster_line_name_fi(const struct gw_roster *r, const char *line);
/*
 * Name of a service line in lang ("fi", "sv", "en"; others: Finnish), or the Finnish name
 * when the roster has none in lang; NULL for an unknown code.
 */
const char *gw_roster_line_name_in(const struct gw_roster *r, const char *line, const char *lang);

/* Number of directory entries, and the ISSI of entry i as callers are matched (the SSI
   without leading zeros, sorted; NULL when i is too big). */
size_t gw_roster_dir_count(const struct gw_roster *r);
const char *gw_roster_dir_issi(const struct gw_roster *r, size_t i);

/*
 * True when nothing gw_roster_route_at() at from_ms / 1000 or gw_roster_plan() at any t in
 * [from_ms, to_ms) depends on can change within it: a span of at most a second starting on
 * a whole second, inside the snapshot's horizon, with no duty, override or temporary-roster
 * edge strictly inside (those may fall on any millisecond; every other edge is a whole minute).
 */
bool gw_roster_steady(const struct gw_roster *r, int64_t from_ms, int64_t to_ms);

/* Number of service lines, and the code of line i (sorted by code; NULL when i is too big). */
size_t gw_roster_line_count(const struct gw_roster *r);
const char *gw_roster_line_code(const struct gw_roster *r, size_t i);

/* ---- CSV import ---------------------------------------------------------------------- */

/*
 * Called once per problem found: file, 1-based line (0 when the problem is the file as
 * a whole) and a reason without trailing newline.
 */
typedef void (*gw_roster_err_fn)(const char *file, unsigned line, const char *reason, void *arg);

/*
 * Parse ISO-8601 "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or an offset "+HH:MM",
 * "+HHMM" or "+HH". Returns 0 and *ms (UTC ms since the epoch), or -EINVAL.
 */
int gw_roster_parse_time(const char *s, int64_t *ms);

/*
 * Parse a roster time: "YYYY-MM-DDTHH:MM[:SS[.fff]]" is wall-clock time of the roster's
 * zone (gw_roster_set_timezone; the clock-change rules of gw_roster_local_to_utc); with "Z"
 * or "+00:00" it is UTC; with another offset that offset must be the zone's at that
 * instant (so in Europe/Helsinki +02:00 on a
 * summer date, or a time in the spring gap written with +02:00, is an error). Returns 0
 * and *ms (UTC ms), -EINVAL (malformed) or -ERANGE (wrong offset); why gets the reason.
 */
int gw_roster_parse_local_time(const char *s, int64_t *ms, char *why, size_t len);

/*
 * UTC ms of a wall-clock time of the roster's zone: minute (0..1439) of date y-m-d. A time
 * in a gap (Helsinki: 03:00-03:59 on the last Sunday of March) moves to the gap's end (the
 * change instant). In a repeated span (Helsinki: 03:00-03:59 on the last Sunday of
 * October) the elapsed time is split in proportion: 03:00 + x is 2x after the first 03:00
 * (00:00 UTC), so 03:30 is 01:00 UTC and 03:59 is 01:58 UTC; order is kept, nothing skipped.
 */
int64_t gw_roster_local_to_utc(int y, int m, int d, int minute);

/*
 * An override's from/to as rinkictl and the control socket take it: a TIME with zone
 * (gw_roster_parse_local_time), or a local date (the roster's zone) YYYY-MM-DD meaning its start
 * (end_of_day false) or the start of the next day (true). 0 and *ms, or -EINVAL.
 */
int gw_roster_parse_when(const char *s, bool end_of_day, int64_t *ms);

/*
 * t_ms as wall clock of the roster's zone with its offset, as roster files write it
 * ("2026-06-01T08:00+03:00"; seconds and ms only when set) into buf (NUL-terminated).
 */
void gw_roster_format_time(int64_t t_ms, char *buf, size_t len);

/*
 * The Finnish public holiday on date y-m-d (its Finnish name, static), or NULL: New Year,
 * Epiphany, Good Friday, Easter Sunday and Monday, May Day, Ascension, Whitsun, Midsummer
 * Eve and Day, All Saints' Day, Independence Day, Christmas Eve, Christmas Day and St
 * Stephen's Day. Computed for any year; the roster's holiday records add local ones.
 */
const char *gw_roster_fi_holiday(int y, int m, int d);

/* The roster zone's offset from UTC at t_ms, in minutes (Europe/Helsinki: 120 or 180). */
int gw_roster_utc_offset_min(int64_t t_ms);

/*
 * Make name (roster.timezone, e.g. "Europe/Helsinki") the zone of every local time here,
 * loaded once from the system tz database (core/tz.h). Returns 0, or gw_tz_load's error
 * with why saying which (the zone in use is kept). NULL: back to the built-in EU rule for
 * Europe/Helsinki. Call it before lookups start (not thread-safe against them).
 */
int gw_roster_set_timezone(const char *name, char *why, size_t len);

/* The roster zone's name; *from_tzdb (may be NULL) false when it is the built-in rule. */
const char *gw_roster_timezone(bool *from_tzdb);

/* The roster zone's abbreviation in effect at t_ms ("EET", "EEST"; static or the zone's). */
const char *gw_roster_zone_abbr(int64_t t_ms);

/* How much of a time gw_roster_format_clock prints: minutes, seconds, or milliseconds. */
enum gw_clock_prec { GW_CLOCK_MIN, GW_CLOCK_SEC, GW_CLOCK_MS };

/*
 * t_ms as wall clock of the roster's zone for people to read, with the zone's abbreviation,
 * whatever the machine's TZ: "2026-12-07 16:00 EET" (summer time "EEST"), ":SS" and ".mmm"
 * by prec. A time before
 * 1970 or after year 9999 prints as "@<t_ms>". Into buf (NUL-terminated, truncated).
 */
void gw_roster_format_clock(int64_t t_ms, enum gw_clock_prec prec, char *buf, size_t len);

/*
 * Check a worker as "worker add" takes it: handle, name, phone, ISSI (canonicalised in
 * place; "" or NULL: none), lang (NULL: "fi"). Returns 0, or -EINVAL with the reason in why.
 */
int gw_roster_check_worker(struct gw_db_worker *w, char *why, size_t len);

/* Check an override's own fields (kind, line, handles, times, position). 0 or -EINVAL. */
int gw_roster_check_override(const struct gw_db_override *o, char *why, size_t len);

/*
 * Parse and validate the roster CSV in buf[0..len) (see tools/demo/roster.csv for the
 * format). Every bad row is reported through err (NULL: logged) and the whole file is
 * checked before returning. Returns 0 with *out filled (free with gw_db_roster_clear),
 * -EINVAL when any row was bad (*out empty), or -ENOMEM.
 */
int gw_roster_parse_csv(const char *file, const char *buf, size_t len, struct gw_db_roster *out,
			gw_roster_err_fn err, void *arg);

/*
 * Parse a directory file: directory records only (directory,ISSI,ORGANISATION), same
 * syntax and checks. Returns as gw_roster_parse_csv (only out->dirs is filled).
 */
int gw_roster_parse_directory_csv(const char *file, const char *buf, size_t len,
				  struct gw_db_roster *out, gw_roster_err_fn err, void *arg);

/*
 * Read a directory file, validate it and replace the database's directory with it (the
 * rest of the roster stays). *count (may be NULL) gets the entries. As import_file.
 */
int gw_roster_import_directory_file(struct gw_db *db, const char *path, gw_roster_err_fn err,
				    void *arg, size_t *count);

/*
 * Write d as roster CSV that gw_roster_parse_csv() reads back to the same roster (times
 * as Helsinki wall clock with the offset in effect, override ids and layers not kept).
 * Returns 0 or -errno (write error).
 */
int gw_roster_write_csv(const struct gw_db_roster *d, FILE *f);

struct gw_roster_counts {
	size_t lines, workers, shifts, routes, dirs;
	size_t rotations, overrides, steps, holidays;
};

/*
 * Read the CSV file at path, validate it and replace the database's base roster with it
 * in one transaction (gw_db_roster_import: the manual layer is kept, folded or, with
 * GW_DB_IMPORT_REPLACE in flags, dropped; each manual change is told to manual, which may
 * be NULL, with arg). If counts is not NULL it receives what was imported. Returns 0,
 * -EINVAL when the file had errors (all reported through err, nothing changed),
 * -ECANCELED when manual changes conflict (nothing changed), or -errno (a file that
 * cannot be read is reported through err with line 0 too).
 */
int gw_roster_import(struct gw_db *db, const char *path, unsigned flags, gw_roster_err_fn err,
		     gw_db_manual_fn manual, void *arg, struct gw_roster_counts *counts);

/* gw_roster_import(db, path, 0, err, NULL, arg, counts): manual changes only logged. */
int gw_roster_import_file(struct gw_db *db, const char *path, gw_roster_err_fn err, void *arg,
			  struct gw_roster_counts *counts);

#endif
