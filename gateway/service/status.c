/*
 * status: the gateway's state as an operator sees it, kept apart from the wiring
 * (service/rinkid.c), which reports device and call changes here. The LED patterns last
 * asked for are remembered so an unchanged pattern costs no Modbus write; STATUS= goes
 * through core/notify, which drops a line equal to the last one; a device's down time is
 * kept on the loop clock for the watchdog's health check. The metrics for node_exporter's
 * textfile collector are counters and states kept here in memory as the wiring reports
 * them, formatted and written (a temporary file renamed over the old) on a loop timer:
 * the write reads no database and takes well under a millisecond.
 */
#include "service/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

struct gw_status {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_status_ops ops;
	struct gw_notify *notify;
	struct gw_db *db;
	struct gw_calls *calls;
	struct gw_callback *callback;
	int leds[GW_IO_LED_COUNT]; /* pattern + 1 last asked for; 0 none yet */
	bool radio_up, modem_up;
	int64_t started_ms, radio_down_ms, modem_down_ms; /* loop time; 0: not down */
	bool board_down;	     /* the I/O board went silent and has not answered since */
	bool board_up;		     /* the I/O board answers */
	struct gw_status_metrics mt; /* counters; the states are filled in at each write */
	int64_t page_start_ms;	     /* loop time of the +CTICN being paged; 0: none */
	bool bridged;		     /* the live incident reached BRIDGED */
	struct gw_timer metrics_timer;
	int metrics_err; /* the last write's error, logged once */
};

static bool healthy(void *arg)
{
	return gw_status_healthy(arg);
}

static void on_metrics(struct gw_loop *loop, void *arg);

int gw_status_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_status_ops *ops,
		  struct gw_status **out)
{
	struct gw_status *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->conf = conf;
	s->ops = *ops;
	s->started_ms = gw_loop_now_ms(loop);
	gw_timer_init(&s->metrics_timer, on_metrics, s);
	int rc = gw_notify_new(loop, healthy, s, &s->notify);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void gw_status_free(struct gw_status *s)
{
	if (!s)
		return;
	gw_timer_cancel(s->loop, &s->metrics_timer);
	gw_notify_free(s->notify);
	free(s);
}

void gw_status_attach(struct gw_status *s, struct gw_db *db, struct gw_calls *calls,
		      struct gw_callback *callback)
{
	s->db = db;
	s->calls = calls;
	s->callback = callback;
}

/* Board LEDs follow the gateway's state (when there is a board). */
static void led(struct gw_status *s, enum gw_io_led which, enum gw_io_led_pattern p)
{
	static const char *const names[] = {"radio ok", "modem ok", "on call", "fault"};
	static const char *const pats[] = {"off", "on", "slow blink", "fast blink"};
	if (!s->ops.led || s->leds[which] == (int)p + 1)
		return;
	int rc = s->ops.led(s->ops.arg, which, p);
	if (rc == -ENODEV)
		return; /* no board (yet): nothing to remember */
	s->leds[which] = (int)p + 1;
	if (rc == 0)
		LOGP(GW_LOG_IO, GW_LOG_NOTICE, "board: %s LED %s", names[which], pats[p]);
}

void gw_status_update(struct gw_status *s)
{
	enum gw_call_state st = s->calls ? gw_calls_state(s->calls) : GW_CALL_ST_CLOSED;
	/* a live call-back: its incident and state (the worker's name stays out of the
	   world-readable systemctl status; rinkictl status names the worker) */
	char cb[64] = "";
	if (gw_callback_live(s->callback))
		snprintf(cb, sizeof(cb), ", call-back %lld %s",
			 (long long)gw_callback_id(s->callback),
			 gw_cb_state_name(gw_callback_state(s->callback)));
	/* running on a stand-in for the database: said on every update */
	const char *db =
	    s->db && gw_db_problem(s->db) ? ", DATABASE UNUSABLE (call log spooled)" : "";
	if (st != GW_CALL_ST_CLOSED)
		gw_notify_status(s->notify, "radio %s, modem %s, incident %lld %s%s%s",
				 s->radio_up ? "ready" : "DOWN", s->modem_up ? "ready" : "DOWN",
				 (long long)gw_calls_last_id(s->calls), gw_call_state_name(st), cb,
				 db);
	else
		gw_notify_status(s->notify, "radio %s, modem %s, %s%s",
				 s->radio_up ? "ready" : "DOWN", s->modem_up ? "ready" : "DOWN",
				 cb[0] ? cb + 2 : "idle", db);
}

bool gw_status_healthy(const struct gw_status *s)
{
	int64_t now = gw_loop_now_ms(s->loop);
	return !(s->radio_down_ms && now - s->radio_down_ms > GW_STATUS_DOWN_UNHEALTHY_MS) &&
	       !(s->modem_down_ms && now - s->modem_down_ms > GW_STATUS_DOWN_UNHEALTHY_MS);
}

void gw_status_device(struct gw_status *s, const char *kind, bool up)
{
	bool radio = strcmp(kind, "radio") == 0;
	int64_t down_ms = up ? 0 : gw_loop_now_ms(s->loop);
	if (radio) {
		s->radio_up = up;
		s->radio_down_ms = down_ms;
	} else {
		s->modem_up = up;
		s->modem_down_ms = down_ms;
	}
	gw_status_update(s);
	LOGP(GW_LOG_MAIN, up ? GW_LOG_INFO : GW_LOG_WARN, "%s %s", kind, up ? "up" : "down");
	led(s, radio ? GW_IO_LED_RADIO_OK : GW_IO_LED_MODEM_OK, up ? GW_IO_LED_ON : GW_IO_LED_OFF);
}

bool gw_status_radio_up(const struct gw_status *s)
{
	return s->radio_up;
}

bool gw_status_modem_up(const struct gw_status *s)
{
	return s->modem_up;
}

/*
 * The board went silent, or answers after that (not its first answer at start): an event of
 * the live incident, else a system event in the call log.
 */
static void board_event(struct gw_status *s, bool up, const struct gw_io_status *st)
{
	char detail[400]; /* the port's path is up to 255 characters */
	if (up)
		snprintf(detail, sizeof(detail), "%s: %s, firmware %u.%u.%u, boot count %u",
			 s->conf->io_port, gw_io_board_name(st->board_id), st->fw_major,
			 st->fw_minor, st->fw_patch, st->boot_count);
	else
		snprintf(detail, sizeof(detail), "%s: %s", s->conf->io_port,
			 gw_io_strerror(st->last_error));
	const char *kind = up ? "board_up" : "board_down";
	if (s->calls && gw_calls_board_link(s->calls, up, detail) > 0)
		return;
	int rc = gw_db_system_event_append(s->db, gw_loop_wall_ms(s->loop), kind, detail);
	if (rc < 0)
		LOGP(GW_LOG_DB, GW_LOG_ERROR, "system event not logged (%s): %s %s", strerror(-rc),
		     kind, detail);
}

void gw_status_board(struct gw_status *s, bool up, const struct gw_io_status *st)
{
	LOGP(GW_LOG_MAIN, up ? GW_LOG_NOTICE : GW_LOG_WARN, "I/O board %s", up ? "up" : "down");
	s->board_up = up;
	if (!up || s->board_down)
		board_event(s, up, st);
	s->board_down = !up;
	if (!up)
		return;
	LOGP(GW_LOG_IO, GW_LOG_NOTICE, "board: %s, firmware %u.%u.%u",
	     gw_io_board_name(st->board_id), st->fw_major, st->fw_minor, st->fw_patch);
}

void gw_status_on_call(struct gw_status *s, enum gw_call_state st, enum gw_cb_state cst)
{
	led(s, GW_IO_LED_ON_CALL,
	    st == GW_CALL_ST_BRIDGED || cst == GW_CB_ST_BRIDGED ? GW_IO_LED_ON
	    : st == GW_CALL_ST_CLOSED && cst == GW_CB_ST_IDLE	? GW_IO_LED_OFF
								: GW_IO_LED_BLINK_FAST);
}

int64_t gw_status_uptime_s(const struct gw_status *s)
{
	return (gw_loop_now_ms(s->loop) - s->started_ms) / 1000;
}

void gw_status_ready(struct gw_status *s)
{
	gw_notify_ready(s->notify, s->radio_up && s->modem_up
				       ? "radio ready, modem ready, idle"
				       : "waiting for the radio and the modem");
}

void gw_status_stopping(struct gw_status *s)
{
	gw_notify_stopping(s->notify);
}

/* ---- metrics ------------------------------------------------------------------------- */

const int gw_status_lat_bucket_ms[GW_STATUS_LAT_BUCKETS] = {1,	 2,   5,   10,	 20,  50,
							    100, 200, 500, 1000, 2000};

/* Append to buf at *used; false once it does not fit. */
static bool out(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool out(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	if (*used >= len)
		return false;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used) {
		*used = len;
		return false;
	}
	*used += (size_t)n;
	return true;
}

/* One family's HELP and TYPE lines. */
static void family(char *buf, size_t len, size_t *used, const char *name, const char *type,
		   const char *help)
{
	out(buf, len, used, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ms as seconds with three decimals, exactly (no floating point). */
static void seconds(char *buf, size_t len, size_t *used, int64_t ms)
{
	out(buf, len, used, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

int gw_status_metrics_format(const struct gw_status_metrics *mt, char *buf, size_t len)
{
	static const char *const outcomes[GW_STATUS_OUT_COUNT] = {"accepted", "not_accepted",
								  "busy"};
	size_t u = 0;
	family(buf, len, &u, "rinki_radio_up", "gauge",
	       "The TETRA terminal is ready (1) or not (0).");
	out(buf, len, &u, "rinki_radio_up %d\n", mt->radio_up);
	family(buf, len, &u, "rinki_modem_up", "gauge",
	       "The cellular modem is ready (1) or not (0).");
	out(buf, len, &u, "rinki_modem_up %d\n", mt->modem_up);
	family(buf, len, &u, "rinki_board_up", "gauge",
	       "The I/O board answers (1) or not, or none is configured (0).");
	out(buf, len, &u, "rinki_board_up %d\n", mt->board_up);
	family(buf, len, &u, "rinki_incidents_total", "counter",
	       "Authority calls since rinkid started, by how they ended.");
	for (int i = 0; i < GW_STATUS_OUT_COUNT; i++)
		out(buf, len, &u, "rinki_incidents_total{outcome=\"%s\"} %llu\n", outcomes[i],
		    (unsigned long long)mt->incidents[i]);
	family(buf, len, &u, "rinki_page_latency_seconds", "histogram",
	       "From the handling of an authority call's +CTICN to its first ATD written to the "
	       "modem, on rinkid's loop clock (ms resolution).");
	for (int i = 0; i < GW_STATUS_LAT_BUCKETS; i++) {
		out(buf, len, &u, "rinki_page_latency_seconds_bucket{le=\"");
		seconds(buf, len, &u, gw_status_lat_bucket_ms[i]);
		out(buf, len, &u, "\"} %llu\n", (unsigned long long)mt->lat_bucket[i]);
	}
	out(buf, len, &u, "rinki_page_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)mt->lat_count);
	out(buf, len, &u, "rinki_page_latency_seconds_sum ");
	seconds(buf, len, &u, mt->lat_sum_ms);
	out(buf, len, &u, "\nrinki_page_latency_seconds_count %llu\n",
	    (unsigned long long)mt->lat_count);
	family(buf, len, &u, "rinki_spool_pending", "gauge",
	       "The call log goes to the spool: the database cannot take it (1) or not (0).");
	out(buf, len, &u, "rinki_spool_pending %d\n", mt->spool_pending);
	family(buf, len, &u, "rinki_db_queue_bytes", "gauge",
	       "Call-log writes waiting in the writer thread's queue, bytes.");
	out(buf, len, &u, "rinki_db_queue_bytes %llu\n", (unsigned long long)mt->db_queue_bytes);
	family(buf, len, &u, "rinki_roster_gap_lines", "gauge",
	       "Service lines with nobody on duty at some time in the next 14 days, as of the "
	       "last roster load.");
	out(buf, len, &u, "rinki_roster_gap_lines %d\n", mt->roster_gap_lines);
	family(buf, len, &u, "rinki_roster_county_version", "gauge",
	       "The county roster version the gateway pages from (rinki-sync's roster pull); 0: "
	       "a roster imported locally.");
	out(buf, len, &u, "rinki_roster_county_version %lld\n", (long long)mt->roster_version);
	family(buf, len, &u, "rinki_roster_county_made_timestamp_seconds", "gauge",
	       "When the county made that roster version (its age: time() minus this); 0: none.");
	out(buf, len, &u, "rinki_roster_county_made_timestamp_seconds ");
	seconds(buf, len, &u, mt->roster_made_ms);
	out(buf, len, &u, "\n");
	family(buf, len, &u, "rinki_last_page_timestamp_seconds", "gauge",
	       "When the last worker was dialled for an authority call (Unix time; 0: none yet).");
	out(buf, len, &u, "rinki_last_page_timestamp_seconds ");
	seconds(buf, len, &u, mt->last_page_wall_ms);
	out(buf, len, &u, "\n");
	family(buf, len, &u, "rinki_pages_fast_total", "counter",
	       "Authority calls whose first ATD was written from the pager's table, before the "
	       "incident was built.");
	out(buf, len, &u, "rinki_pages_fast_total %llu\n", (unsigned long long)mt->pages_fast);
	family(buf, len, &u, "rinki_pages_ahead_wrong_total", "counter",
	       "ATDs written ahead that were not the page's: hung up, the right worker dialled "
	       "(never expected).");
	if (!out(buf, len, &u, "rinki_pages_ahead_wrong_total %llu\n",
		 (unsigned long long)mt->pages_ahead_wrong))
		return -ENOSPC;
	return (int)u;
}

int gw_status_metrics_write(const char *path, const char *text, size_t len)
{
	char tmp[GW_CONF_STR + 8];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* a leftover of a crash is ours: unlink removes a symlink itself, never its target */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = 0;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

void gw_status_metrics_get(const struct gw_status *s, struct gw_status_metrics *mt)
{
	*mt = s->mt;
	mt->radio_up = s->radio_up;
	mt->modem_up = s->modem_up;
	mt->board_up = s->board_up;
	mt->spool_pending = s->db && gw_db_spool_pending(s->db);
	struct gw_db_writer_stats ws;
	mt->db_queue_bytes = s->db && gw_db_writer_stats(s->db, &ws) == 0 ? ws.queued_bytes : 0;
}

int gw_status_metrics_flush(struct gw_status *s)
{
	const char *path = s->conf->metrics_file;
	if (!path[0])
		return 0;
	struct gw_status_metrics mt;
	gw_status_metrics_get(s, &mt);
	char text[4096];
	int n = gw_status_metrics_format(&mt, text, sizeof(text));
	int rc = n < 0 ? n : gw_status_metrics_write(path, text, (size_t)n);
	if (rc < 0 && rc != s->metrics_err)
		LOGP(GW_LOG_MAIN, GW_LOG_ERROR, "metrics.file %s not written: %s", path,
		     strerror(-rc));
	else if (rc == 0 && s->metrics_err)
		LOGP(GW_LOG_MAIN, GW_LOG_NOTICE, "metrics.file %s written again", path);
	s->metrics_err = rc;
	return rc;
}

static void on_metrics(struct gw_loop *loop, void *arg)
{
	struct gw_status *s = arg;
	gw_status_metrics_flush(s);
	gw_timer_schedule(loop, &s->metrics_timer, (int64_t)s->conf->metrics_interval_s * 1000);
}

void gw_status_metrics_start(struct gw_status *s)
{
	if (s->conf->metrics_file[0])
		gw_timer_schedule(s->loop, &s->metrics_timer, 0);
}

void gw_status_page_start(struct gw_status *s)
{
	s->page_start_ms = gw_loop_now_ms(s->loop);
}

void gw_status_page_ahead(struct gw_status *s, bool fast, bool wrong)
{
	s->mt.pages_fast += fast;
	s->mt.pages_ahead_wrong += wrong;
}

void gw_status_page_dialled(struct gw_status *s)
{
	s->mt.last_page_wall_ms = gw_loop_wall_ms(s->loop);
	if (!s->page_start_ms)
		return; /* a later step of the chain */
	int64_t ms = gw_loop_now_ms(s->loop) - s->page_start_ms;
	s->page_start_ms = 0;
	for (int i = 0; i < GW_STATUS_LAT_BUCKETS; i++)
		if (ms <= gw_status_lat_bucket_ms[i])
			s->mt.lat_bucket[i]++;
	s->mt.lat_count++;
	s->mt.lat_sum_ms += ms;
}

void gw_status_call_state(struct gw_status *s, enum gw_call_state st)
{
	if (st == GW_CALL_ST_BRIDGED)
		s->bridged = true;
	if (st != GW_CALL_ST_CLOSED)
		return;
	s->mt.incidents[s->bridged ? GW_STATUS_OUT_ACCEPTED : GW_STATUS_OUT_NOT_ACCEPTED]++;
	s->bridged = false;
}

void gw_status_busy(struct gw_status *s)
{
	s->mt.incidents[GW_STATUS_OUT_BUSY]++;
}

void gw_status_roster_gaps(struct gw_status *s, int n)
{
	s->mt.roster_gap_lines = n;
}

void gw_status_roster_source(struct gw_status *s, int64_t version, int64_t made_ms)
{
	s->mt.roster_version = version;
	s->mt.roster_made_ms = made_ms;
}
