/*
 * preflight: checks of a parsed configuration against the machine (groups, prompt files)
 * and against itself (how a worker can accept, whether there is a voice bridge), and of
 * the roster snapshot against the next two weeks. Nothing here changes state; every
 * finding is handed to a callback or logged. The prompt file list is kept here, not taken
 * from voice/prompt and service/callback, so rinkictl can link this without libsndfile;
 * tests/unit/test_preflight.c checks it against both and against tools/prompts.
 */
#include "service/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/tz.h"

static const char *const prompt_files[] = {
    "announce_from", "announce",     "keys",	"hold",		"nobody",     "cb_pin",
    "cb_issi",	     "cb_wrong_pin", "cb_hold", "cb_no_answer", "cb_goodbye",
};

/* modem.vendor profiles that report the worker's keys (modem.c: +QTONEDET, +RXDTMF/+DTMF) */
static const char *const key_vendors[] = {"quectel", "simcom"};

static const char *const languages[] = {"fi", "sv", "en"};

const char *gw_preflight_prompt_file(int i)
{
	return i >= 0 && (size_t)i < sizeof(prompt_files) / sizeof(prompt_files[0])
		   ? prompt_files[i]
		   : NULL;
}

struct report {
	gw_preflight_fn fn;
	void *arg;
	int errors, warnings;
};

__attribute__((format(printf, 4, 5))) static void
say(struct report *r, enum gw_preflight_level level, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level == GW_PREFLIGHT_ERROR)
		r->errors++;
	else
		r->warnings++;
	if (r->fn)
		r->fn(level, key, msg, r->arg);
	else
		LOGP(GW_LOG_MAIN, level == GW_PREFLIGHT_ERROR ? GW_LOG_ERROR : GW_LOG_WARN,
		     "%s: %s", key, msg);
}

/* A group given by name must exist; a number is taken as a gid, as gw_ctl_listen does. */
static void check_group(struct report *r, const char *key, const char *name)
{
	if (!name[0] || strspn(name, "0123456789") == strlen(name))
		return;
	errno = 0;
	if (getgrnam(name))
		return;
	/* getgrnam(3): "not found" may come with any of 0, ENOENT, ESRCH, EBADF, EPERM */
	int e = errno;
	bool dflt =
	    strcmp(name, GW_CONF_CTL_GROUP) == 0 || strcmp(name, GW_CONF_CTL_ADMIN_GROUP) == 0;
	if (e && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM)
		say(r, GW_PREFLIGHT_ERROR, key, "cannot look up group '%s': %s", name, strerror(e));
	else if (dflt) /* rinkid goes on without it, as gw_ctl_listen does */
		say(r, GW_PREFLIGHT_WARN, key,
		    "no group '%s' (the default) on this machine: only root and rinkid's user may "
		    "use the control socket (groupadd --system %s)",
		    name, name);
	else
		say(r, GW_PREFLIGHT_ERROR, key,
		    "no group '%s' on this machine: rinkid would run without its control socket "
		    "(groupadd --system %s, or fix the name)",
		    name, name);
}

/* How many of lang's prompt files are missing under dir; the first one's name in first. */
static int missing_prompts(const char *dir, const char *lang, char *first, size_t len)
{
	int missing = 0;
	for (int i = 0; gw_preflight_prompt_file(i); i++) {
		char path[GW_CONF_STR + 64];
		snprintf(path, sizeof(path), "%s/%s/%s.wav", dir, lang,
			 gw_preflight_prompt_file(i));
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (!missing++)
			snprintf(first, len, "%s", path);
	}
	return missing;
}

static void check_prompts(struct report *r, const struct gw_conf *c)
{
	for (size_t i = 0; i < sizeof(languages) / sizeof(languages[0]); i++) {
		char first[GW_CONF_STR + 64];
		int n = missing_prompts(c->prompt_dir, languages[i], first, sizeof(first));
		if (!n)
			continue;
		if (strcmp(languages[i], c->prompt_language) == 0)
			say(r, GW_PREFLIGHT_ERROR, "prompt.dir",
			    "%d prompt(s) of prompt.language %s missing in %s (first: %s): the "
			    "officer and workers would hear silence (make install puts them in "
			    "PREFIX/share/rinki/prompts)",
			    n, languages[i], c->prompt_dir, first);
		else
			say(r, GW_PREFLIGHT_WARN, "prompt.dir",
			    "%d %s prompt(s) missing in %s (first: %s): workers with roster "
			    "language "
			    "%s hear %s",
			    n, languages[i], c->prompt_dir, first, languages[i],
			    c->prompt_language);
	}
}

/* roster.timezone from the tz database: without it, Helsinki by the built-in rule only. */
static void check_timezone(struct report *r, const struct gw_conf *c)
{
	struct gw_tz *tz;
	char why[384];

	if (gw_tz_load(NULL, c->roster_timezone, &tz, why, sizeof(why)) == 0) {
		gw_tz_free(tz);
		return;
	}
	if (strcmp(c->roster_timezone, "Europe/Helsinki") == 0)
		say(r, GW_PREFLIGHT_WARN, "roster.timezone",
		    "%s: Helsinki time by the built-in EU summer-time rule instead (install "
		    "tzdata)",
		    why);
	else
		say(r, GW_PREFLIGHT_ERROR, "roster.timezone",
		    "%s: the roster's times and every printed time would be in another zone", why);
}

int gw_preflight_conf(const struct gw_conf *c, gw_preflight_fn fn, void *arg)
{
	struct report r = {.fn = fn, .arg = arg};
	check_timezone(&r, c);
	check_group(&r, "ctl.group", c->ctl_group);
	check_group(&r, "ctl.admin_group", c->ctl_admin_group);

	bool bridge = c->audio_radio[0] && c->audio_phone[0];
	if (!bridge)
		say(&r, GW_PREFLIGHT_WARN, c->audio_radio[0] ? "audio.phone" : "audio.radio",
		    "%s: no voice bridge: a worker who answers hears no announcement and the "
		    "call is not bridged through rinki (set audio.radio and audio.phone)",
		    c->audio_radio[0] || c->audio_phone[0] ? "only one of audio.radio and "
							     "audio.phone is set"
							   : "not set");
	else
		check_prompts(&r, c);

	bool key_reports = false;
	for (size_t i = 0; i < sizeof(key_vendors) / sizeof(key_vendors[0]); i++)
		key_reports |= strcmp(c->modem_vendor, key_vendors[i]) == 0;
	if (!key_reports && !c->audio_phone[0])
		say(&r, GW_PREFLIGHT_WARN, "modem.vendor",
		    "modem.vendor %s reports no keys and audio.phone is not set (no in-band "
		    "DTMF): a worker cannot accept by pressing 4%s",
		    c->modem_vendor,
		    c->sms_page ? "; only the SMS page's reply code accepts"
				: ", and call.sms_page is off: nobody can accept a call");
	return r.errors ? -EINVAL : r.warnings;
}

/* "YYYY-MM-DD HH:MM" in the roster's zone. */
static void local_time(int64_t t_ms, char *buf, size_t len)
{
	time_t t = (time_t)((t_ms + (int64_t)gw_roster_utc_offset_min(t_ms) * 60000) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* Nobody to page on line at t: no step and no fallback (or no snapshot for t). */
static bool nobody(const struct gw_roster *ro, const char *line, int64_t t)
{
	struct gw_roster_plan plan;
	return gw_roster_plan(ro, line, t, &plan) < 0 || plan.empty;
}

int gw_preflight_roster(const struct gw_roster *ro, int64_t now_ms, int days, gw_preflight_fn fn,
			void *arg)
{
	struct report r = {.fn = fn, .arg = arg};
	int64_t end = now_ms + (int64_t)days * 86400000;
	for (size_t i = 0; i < gw_roster_line_count(ro); i++) {
		const char *line = gw_roster_line_code(ro, i);
		int gaps = 0;
		int64_t gap_from = -1, gap_to = -1, t;
		bool in_gap = false;
		for (t = now_ms; t <= end; t += GW_PREFLIGHT_ROSTER_STEP_MS) {
			bool empty = nobody(ro, line, t);
			if (empty && !in_gap && ++gaps == 1)
				gap_from = t;
			if (!empty && in_gap && gaps == 1)
				gap_to = t;
			in_gap = empty;
		}
		if (!gaps)
			continue;
		char from[32], to[32], more[64] = "";
		local_time(gap_from, from, sizeof(from));
		if (gaps > 1)
			snprintf(more, sizeof(more), " (%d gaps in the next %d days)", gaps, days);
		if (gap_to < 0 && gap_from == now_ms)
			say(&r, GW_PREFLIGHT_WARN, "roster",
			    "line %s: nobody on duty now or in the next %d days (no shift, "
			    "rotation "
			    "or fallback)",
			    line, days);
		else if (gap_to < 0)
			say(&r, GW_PREFLIGHT_WARN, "roster",
			    "line %s: nobody on duty from %s (%s) for the rest of the next "
			    "%d "
			    "days%s",
			    line, from, gw_roster_timezone(NULL), days, more);
		else {
			local_time(gap_to, to, sizeof(to));
			say(&r, GW_PREFLIGHT_WARN, "roster",
			    "line %s: nobody on duty %sfrom %s to %s (%s)%s", line,
			    gap_from == now_ms ? "now, " : "", from, to, gw_roster_timezone(NULL),
			    more);
		}
	}
	return r.warnings;
}
