/*
 * harness: start rinkid and the device simulators as separate processes, talk
 * to the simulators' control sockets, and clean every process up by pid, also
 * when a test fails (atexit and fatal-signal handlers).
 *
 * The simulators' timed behaviours (callee answer <sec>, reboot-silent <sec>,
 * forward-no-answer <ms>) run in wall time. A test must not need rinkid to act
 * inside such a window: a loaded rinkid acts late. Use the counted or commanded
 * forms (modem-sim clcc-late <n>, answer-out) and rinkid's own time keys set wide.
 */
#ifndef RINKI_HARNESS_H
#define RINKI_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#define H_EVENTS_MAX 65536
/* Every wait below waits at least this long: its limit only bounds a failure, and a
   loaded machine must not turn a slow event into one. */
#define H_WAIT_MIN_MS 30000

struct h_sim {
	pid_t pid;
	int ctl;		/* control socket */
	char pty[256];		/* pty path the sim printed */
	char link[160];		/* stable symlink to it */
	char buf[H_EVENTS_MAX]; /* unconsumed bytes from ctl */
	size_t len;
	char events[H_EVENTS_MAX]; /* every "event" line seen, newline separated */
	size_t elen;
};

struct h_rig {
	char dir[64]; /* temporary directory for sockets, links, db, config */
	char db[128];
	char conf[128];
	char log[128];	  /* rinkid's stderr */
	char events[128]; /* rinkid's event stream (events.file, JSON lines; never truncated) */
	struct h_sim radio, modem;
	pid_t rinkid;
	int quiet; /* start rinkid without -d (benchmarks) */
	/* modem-sim --dialect (huawei quectel simcom); NULL: none. Set after h_rig_init. */
	const char *modem_dialect;
	/* Run rinkid under this command (argv, NULL-terminated; rinkid's argv is appended,
	   the command must exec it in place so the pid stays rinkid's); NULL: directly. */
	const char *const *wrap;
	/* Leave prompt.dir out of the config: rinkid uses its built-in default (the installed
	   prompts) instead of the tree's build/prompts. */
	int builtin_prompt_dir;
	/* Start rinkid without --allow-root: as root it drops to run.user (set one in
	   extra_conf, and make r->dir and the database that user's). */
	int drop;
};

/* Directory of the binaries (RINKI_BIN, default build/san/bin). */
const char *h_bin(void);

/*
 * For benchmarks: the release binaries (build/) unless RINKI_BIN says otherwise, so a bench
 * run by hand does not time the sanitizer build; prints the directory on stderr.
 */
void h_bench_bin(void);

/* Run argv to completion, stdout and stderr appended to out_path (NULL: inherited).
   Returns the exit status, or -1 when it did not exit normally. */
int h_run(char *const argv[], const char *out_path);
/* Make the temp dir, import tools/demo/roster.csv into a fresh db with rinkictl. 0 or -1. */
int h_rig_init(struct h_rig *r);
/* Start tetra-sim and modem-sim (extra args may be NULL). 0 or -1. */
int h_start_sims(struct h_rig *r);
/*
 * Write r->conf: the rig's base keys, then extra_conf (may be NULL); a base key that
 * extra_conf sets is left out (rinkid refuses a key given twice). 0 or -1.
 */
int h_write_conf(struct h_rig *r, const char *extra_conf);
/* Write the config (h_write_conf) and start rinkid; wait until both devices are up. */
int h_start_rinkid(struct h_rig *r, const char *extra_conf);
/* Write the config and start rinkid without waiting for anything (a test that expects a
   device to stay down waits on the event that says why). 0 or -1. */
int h_spawn_rinkid(struct h_rig *r, const char *extra_conf);
/*
 * Let other users through every directory above path that this process owns and that
 * others cannot search (the test runner's private TMPDIR is 0700): for a dropped daemon or
 * a client run as another uid. Adds only o+x (search, not listing). 0 or -1.
 */
int h_let_through(const char *path);
/* Stop everything (SIGTERM, then SIGKILL after 2 s) and remove the temp dir. */
void h_rig_fini(struct h_rig *r);
/* Exit status of the stopped rinkid (from h_rig_fini's stop); -1 unknown. */
int h_rinkid_status(void);

/* Send a control command; returns 0 when the reply started with "ok", copying it to reply
   (waits H_WAIT_MIN_MS for it). */
int h_cmd(struct h_sim *s, char *reply, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/*
 * Wait until an event line containing needle appears (searching from *pos in
 * s->events, which is advanced past the match). Returns 0, or -1 after
 * max(timeout_ms, H_WAIT_MIN_MS).
 */
int h_wait_event(struct h_sim *s, size_t *pos, const char *needle, int timeout_ms);
/* Pump both sims' control sockets for ms milliseconds. */
void h_pump(struct h_rig *r, int ms);
/* Count event lines containing needle. */
int h_count_events(const struct h_sim *s, const char *needle);
/* Wait until rinkid's log contains needle. 0, or -1 after max(timeout_ms, H_WAIT_MIN_MS). */
int h_wait_log(struct h_rig *r, const char *needle, int timeout_ms);

/*
 * A barrier instead of "sleep, then check nothing happened": a status round trip on
 * rinkid's control socket (so what rinkid did in reaction to everything before is written
 * to its ports) and an events-sync round trip (so every event line it queued by then is
 * in its events.file: h_ev_count sees it), then a "state" round trip with each sim (which
 * reads its pty first), so the events of all of it are in s->events. What rinkid would do
 * later on a timer is not covered. 0, or -1 (said on stderr, events-sync's error too).
 */
int h_settle(struct h_rig *r);

/* Nanosecond timestamp from an event line "event rx <t_ns> ..." found by needle. */
int64_t h_event_time(const struct h_sim *s, const char *needle);

/*
 * rinkid's own event stream (events.file, set by h_write_conf; see rinkid(8)). A line
 * matches when its "type" is type and every match in the NULL-terminated list holds:
 * "key=value" (the field's value is exactly value: a string unescaped, a number or
 * true/false/null as written) or "key~part" (the string contains part). The stream is read
 * whole from its start, across rinkid restarts, so a test that wants the next one counts
 * first. Lines that are not a flat JSON object fail the test (the stream must parse).
 */
/* Number of matching lines so far; -1 when a line does not parse. */
int h_ev_count(const struct h_rig *r, const char *type, ...) __attribute__((sentinel));
/* Wait until at least n lines match (pumping both sims), then for the call-log queue to
   drain. 0, or -1 after max(timeout_ms, H_WAIT_MIN_MS) with the stream's tail shown. */
int h_wait_ev_count(struct h_rig *r, int n, int timeout_ms, const char *type, ...)
    __attribute__((sentinel));
/* h_wait_ev_count for one line. */
int h_wait_rinkid_event(struct h_rig *r, int timeout_ms, const char *type, ...)
    __attribute__((sentinel));

#endif

/* --- fault drills (test_faults, soak) --------------------------------------- */

/* How many lines of rinkid's log contain needle; -1 when the log cannot be read. */
int h_log_count(const struct h_rig *r, const char *needle);
/* Wait until at least n lines of rinkid's log contain needle (pumping both sims). 0, or -1
   after max(timeout_ms, H_WAIT_MIN_MS). */
int h_wait_log_count(struct h_rig *r, const char *needle, int n, int timeout_ms);
/* Number of open file descriptors of pid (entries in /proc/<pid>/fd); -1 on error. */
int h_fd_count(pid_t pid);
/* Stop one simulator (SIGTERM, reaped, pid forgotten): its pty goes away. 0 or -1. */
int h_stop_sim(struct h_sim *s);
/* Send sig to rinkid and reap it (the pid is forgotten); for SIGKILL drills. 0 or -1. */
int h_kill_rinkid(struct h_rig *r, int sig);
