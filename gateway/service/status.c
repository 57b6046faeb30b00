/*
 * status: the gateway's state as an operator sees it, kept apart from the wiring
 * (service/rinkid.c), which reports device and call changes here. The LED patterns last
 * asked for are remembered so an unchanged pattern costs no Modbus write; STATUS= goes
 * through core/notify, which drops a line equal to the last one; a device's down time is
 * kept on the loop clock for the watchdog's health check.
 */
#include "service/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	bool board_down; /* the I/O board went silent and has not answered since */
};

static bool healthy(void *arg)
{
	return gw_status_healthy(arg);
}

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
