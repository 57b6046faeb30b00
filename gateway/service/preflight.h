/*
 * preflight: a configuration that parses can still not work on this machine: a control
 * socket group that does not exist, a voice bridge without its prompts, no way for a
 * worker to press the accept key, a service line nobody is on duty for. These checks run
 * where the daemon starts (and for --check-config) and in rinkictl config check, so a
 * technician hears about it before the first authority call, not during it.
 */
#ifndef GW_PREFLIGHT_H
#define GW_PREFLIGHT_H

#include <stdint.h>

#include "core/conf.h"
#include "store/roster.h"

/* Days ahead gw_preflight_roster() looks for a line with nobody on duty. */
#define GW_PREFLIGHT_ROSTER_DAYS 14
/* Its step: a gap shorter than this between two duties may go unseen. */
#define GW_PREFLIGHT_ROSTER_STEP_MS (5 * 60 * 1000)

enum gw_preflight_level { GW_PREFLIGHT_WARN, GW_PREFLIGHT_ERROR };

/* One finding: key is the configuration key or "roster"; msg says what and what to do. */
typedef void (*gw_preflight_fn)(enum gw_preflight_level level, const char *key, const char *msg,
				void *arg);

/*
 * Check conf against this machine. Errors (rinkid must not start): ctl.group or
 * ctl.admin_group naming a group that does not exist; a voice bridge whose prompt.dir lacks
 * a prompt of prompt.language; a roster.timezone the tz database lacks (not Europe/Helsinki,
 * which has the built-in rule: a warning). Warnings: no voice bridge (no announcement, no bridge),
 * a modem.vendor without key reports and no in-band DTMF (audio.phone), another language's prompts
 * missing. Each finding goes to fn (NULL: logged as rinkid's error/warning). Returns the number of
 * warnings, or -EINVAL when there was an error.
 */
int gw_preflight_conf(const struct gw_conf *conf, gw_preflight_fn fn, void *arg);

/*
 * Warn per service line of r with nobody to page (no duty and no fallback) now (now_ms, UTC)
 * or at any time in the next days days (looked at every GW_PREFLIGHT_ROSTER_STEP_MS): the
 * first gap in Helsinki time and how many there are. Returns the number of warnings.
 */
int gw_preflight_roster(const struct gw_roster *r, int64_t now_ms, int days, gw_preflight_fn fn,
			void *arg);

/*
 * The prompt files (without .wav) a prompt.dir/<lang>/ must hold: the call's prompts and
 * the call-back's. i from 0; NULL past the last.
 */
const char *gw_preflight_prompt_file(int i);

#endif
