/*
 * status: what an operator sees of the gateway. The board's LEDs follow the radio, the
 * modem and the calls; systemd's STATUS= line names the devices and the live incident or
 * call-back; the watchdog pings only while no device has been down for minutes; the I/O
 * board going silent (or coming back) is an event of the live incident or of the system.
 */
#ifndef GW_STATUS_H
#define GW_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "board/io.h"
#include "core/conf.h"
#include "core/loop.h"
#include "core/notify.h"
#include "service/call.h"
#include "service/callback.h"
#include "store/db.h"

/* A device down this long makes the gateway unhealthy (no watchdog pings). */
#define GW_STATUS_DOWN_UNHEALTHY_MS (5 * 60 * 1000)

struct gw_status_ops {
	/* Set a board LED; called only when the pattern changes. Returns 0, -ENODEV (no
	   board: the pattern is not remembered) or -errno. NULL: no board. */
	int (*led)(void *arg, enum gw_io_led which, enum gw_io_led_pattern p);
	void *arg;
};

struct gw_status;

/*
 * Create the status and its systemd notifier (watchdog while gw_status_healthy()). conf
 * is borrowed (io.port names the board in its events). Returns 0 and *out, or -errno.
 */
int gw_status_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_status_ops *ops,
		  struct gw_status **out);
/* Free the status and its notifier (sends nothing). NULL is fine. */
void gw_status_free(struct gw_status *s);
/* The incident and call-back machines and the call log, once built (each may be NULL). */
void gw_status_attach(struct gw_status *s, struct gw_db *db, struct gw_calls *calls,
		      struct gw_callback *callback);

/* The radio terminal (kind "radio") or the modem ("modem") is up or down: log, its LED,
   STATUS=. kind is a string literal. */
void gw_status_device(struct gw_status *s, const char *kind, bool up);
/* Whether the radio and the modem are up. */
bool gw_status_radio_up(const struct gw_status *s);
bool gw_status_modem_up(const struct gw_status *s);
/*
 * The I/O board is up or down (st: its last status). Its going silent, and its answer after
 * that (not its first answer), are an event of the live incident, else a system event.
 */
void gw_status_board(struct gw_status *s, bool up, const struct gw_io_status *st);
/* The on-call LED for the incident's state st and the call-back's cst: lit while either is
   bridged, blinking fast while either is otherwise live, off when both are idle. */
void gw_status_on_call(struct gw_status *s, enum gw_call_state st, enum gw_cb_state cst);
/* Send systemd's STATUS= line for the devices and the live call, when it changed. */
void gw_status_update(struct gw_status *s);
/* False once the radio or the modem has been down GW_STATUS_DOWN_UNHEALTHY_MS. */
bool gw_status_healthy(const struct gw_status *s);
/* Seconds since gw_status_new(). */
int64_t gw_status_uptime_s(const struct gw_status *s);
/* ---- metrics: Prometheus text for node_exporter's textfile collector ---------------- */

/* How an authority call ended, as rinki_incidents_total's outcome label. */
enum gw_status_outcome {
	GW_STATUS_OUT_ACCEPTED,	    /* a worker accepted: the legs were bridged */
	GW_STATUS_OUT_NOT_ACCEPTED, /* closed before any worker accepted */
	GW_STATUS_OUT_BUSY,	    /* came while another incident or a call-back was live */
	GW_STATUS_OUT_COUNT
};

/* Upper bounds of the page latency histogram's buckets, ms (then +Inf). */
#define GW_STATUS_LAT_BUCKETS 11
extern const int gw_status_lat_bucket_ms[GW_STATUS_LAT_BUCKETS];

/* What the metrics file says; every field kept in memory (no database read to write it). */
struct gw_status_metrics {
	bool radio_up, modem_up, board_up;
	uint64_t incidents[GW_STATUS_OUT_COUNT];
	uint64_t lat_bucket[GW_STATUS_LAT_BUCKETS]; /* pages with latency <= the bound */
	uint64_t lat_count;			    /* all pages (the +Inf bucket) */
	int64_t lat_sum_ms;
	bool spool_pending;	    /* the call log goes to the spool */
	uint64_t db_queue_bytes;    /* the writer thread's queue */
	int roster_gap_lines;	    /* lines with nobody on duty in the next 14 days */
	int64_t roster_version;	    /* the county roster version loaded; 0: a local import */
	int64_t roster_made_ms;	    /* when the county made it (UTC ms); 0: none */
	int64_t last_page_wall_ms;  /* the last ATD of an authority call; 0: none yet */
	uint64_t pages_fast;	    /* first pages whose ATD went ahead (service/pager) */
	uint64_t pages_ahead_wrong; /* an ATD written ahead that was not the page's */
};

/*
 * Format mt in the Prometheus text exposition format (0.0.4): per family a # HELP and a
 * # TYPE line, then its samples. Returns the length written to buf (NUL-terminated), or
 * -ENOSPC when len is too small.
 */
int gw_status_metrics_format(const struct gw_status_metrics *mt, char *buf, size_t len);
/*
 * Replace path atomically with text: written to path + ".tmp" in the same directory
 * (O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0644; a leftover one is removed first), then renamed over
 * path. Returns 0 or -errno (the temporary file is removed).
 */
int gw_status_metrics_write(const char *path, const char *text, size_t len);
/* A snapshot of the counters and states as the metrics file would show them now. */
void gw_status_metrics_get(const struct gw_status *s, struct gw_status_metrics *out);
/*
 * Write conf's metrics.file now and every metrics.interval seconds on the loop (nothing
 * when metrics.file is not set). A failed write is logged once until one succeeds again.
 */
void gw_status_metrics_start(struct gw_status *s);
/* Write the metrics file now (when metrics.file is set). Returns 0 or -errno. */
int gw_status_metrics_flush(struct gw_status *s);

/* An authority call's +CTICN is being handled and will page: the latency clock starts. */
void gw_status_page_start(struct gw_status *s);
/* An ATD of an authority call was written to the modem's port: the first one after
   gw_status_page_start() is one latency sample; each sets the last page time. */
void gw_status_page_dialled(struct gw_status *s);
/* An authority call's first page was the ATD written ahead from the pager's table (fast),
   or an ATD written ahead was not its page (wrong: hung up, the right one dialled). */
void gw_status_page_ahead(struct gw_status *s, bool fast, bool wrong);
/* The live incident's state changed (CLOSED: counted as accepted or not accepted). */
void gw_status_call_state(struct gw_status *s, enum gw_call_state st);
/* An authority call was refused as busy. */
void gw_status_busy(struct gw_status *s);
/* The roster just loaded has n lines with nobody on duty in the next 14 days. */
void gw_status_roster_gaps(struct gw_status *s, int n);
/* The roster just loaded is county version version (0: local), made at made_ms (UTC). */
void gw_status_roster_source(struct gw_status *s, int64_t version, int64_t made_ms);

/* READY=1 with the first STATUS= (before the loop runs), and STOPPING=1 (after it). */
void gw_status_ready(struct gw_status *s);
void gw_status_stopping(struct gw_status *s);

#endif
