/*
 * io: the I/O board client (libmodbus RTU master to the MCU in firmware/).
 *
 * Keys the radio (PTT coil), drives the four front-panel LEDs, feeds the board's heartbeat and
 * reports the squelch (COR) and spare inputs. A helper thread owns the modbus context and runs
 * one job at a time (connect, or one poll); the loop hands it jobs and gets results through an
 * eventfd, so the loop never waits on the board. Timers, state, backoff and callbacks all live
 * on the loop side. Register map: include/rinki/regmap.h.
 */
#ifndef GW_IO_H
#define GW_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/loop.h"
#include "rinki/regmap.h"

#define GW_IO_BAUD	      115200
#define GW_IO_POLL_MS	      200  /* heartbeat + status poll period (board time-out: 3 s) */
#define GW_IO_RSP_TIMEOUT_MS  100  /* libmodbus response time-out per transaction (io.timeout_ms) */
#define GW_IO_BYTE_TIMEOUT_MS 20   /* libmodbus inter-byte time-out (a fifth of io.timeout_ms) */
#define GW_IO_FAIL_LIMIT      3	   /* failed polls in a row before the board is declared down */
#define GW_IO_BACKOFF_MIN_MS  200  /* reconnect backoff, doubling ... */
#define GW_IO_BACKOFF_MAX_MS  5000 /* ... up to this */

struct gw_io;

enum gw_io_led {
	GW_IO_LED_RADIO_OK,
	GW_IO_LED_MODEM_OK,
	GW_IO_LED_ON_CALL,
	GW_IO_LED_FAULT, /* the board blinks it fast by itself in safe state */
	GW_IO_LED_COUNT
};

enum gw_io_led_pattern {
	GW_IO_LED_OFF = RINKI_LED_OFF,
	GW_IO_LED_ON = RINKI_LED_ON,
	GW_IO_LED_BLINK_SLOW = RINKI_LED_BLINK_SLOW,
	GW_IO_LED_BLINK_FAST = RINKI_LED_BLINK_FAST,
};

/*
 * Called from the loop thread, after gw_io's own state is updated; a callback may call
 * gw_io_set_ptt/led/status but not gw_io_free. When the board goes down, ready(0) comes first,
 * then an open squelch or active spare input is reported closed/off (it can no longer be seen).
 */
struct gw_io_ops {
	/* The board answered and its identity was read (up = 1), or it went silent (0). */
	void (*ready)(void *arg, int up);
	/* Debounced squelch (COR) changed. A pulse shorter than a poll comes as open then closed.
	 */
	void (*squelch)(void *arg, bool open);
	/* Spare input n (1 or 2) changed, same rules as squelch. May be NULL. */
	void (*spare)(void *arg, int n, bool on);
	void *arg;
};

/* What the board last reported, for rinkictl status. Counters are the board's, 16 bit. */
struct gw_io_status {
	bool up;
	bool busy;	   /* a connect or poll is running in the helper thread */
	uint16_t board_id; /* RINKI_BOARD_ID_* */
	uint16_t fw_major, fw_minor, fw_patch;
	uint32_t build_hash;
	uint16_t regmap_version;
	uint16_t status; /* RINKI_STATUS_* bits of the last poll */
	uint32_t uptime_s;
	uint16_t boot_count, wdt_resets, ptt_timeouts, hb_losses, crc_errors, frame_errors;
	bool squelch, spare[2];
	bool ptt_wanted; /* what the gateway asked for */
	uint8_t led[GW_IO_LED_COUNT];
	int64_t last_ok_ms;		    /* loop time of the last answered poll, 0 never */
	uint32_t polls, failures;	    /* host-side: answered / failed polls since start */
	int last_error;			    /* gw_io_strerror() code of the last failure, 0 none */
	uint32_t poll_us_last, poll_us_max; /* duration of a whole poll in the helper thread */
};

/*
 * Create the client for conf->io_port (115200 8N1, slave 1, conf->io_timeout_ms per
 * transaction) and start connecting. A board that does not answer is retried with backoff;
 * the object is still returned.
 * Returns 0 and *out, -EINVAL for an empty port, -ENOMEM, or -errno from thread/eventfd setup.
 */
int gw_io_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_io_ops *ops,
	      struct gw_io **out);
/* Release PTT if the board is up (best effort), stop the thread, close the port, free. */
void gw_io_free(struct gw_io *io);

/*
 * Key (on) or release the radio. Sent at once when the board is up and idle, else right after
 * the running poll. Returns 0, or -ENOTCONN when the board is down (kept and sent on
 * reconnect). A refusal by the board (exception 04, safe state) is logged and retried.
 */
int gw_io_set_ptt(struct gw_io *io, bool on);
/* Set an LED's pattern; same delivery and return values as gw_io_set_ptt(), -EINVAL on range. */
int gw_io_set_led(struct gw_io *io, enum gw_io_led led, enum gw_io_led_pattern pattern);

/* Copy the current status to *out. Returns 0. */
int gw_io_status(const struct gw_io *io, struct gw_io_status *out);

/*
 * Result of one Modbus transaction: 0 ok, negative errno for a transport or library error,
 * positive MODBUS_EXCEPTION_* code when the board answered with an exception.
 * gw_io_mb_error() maps errno after a failed libmodbus call to that code; gw_io_strerror()
 * names one.
 */
int gw_io_mb_error(int err);
const char *gw_io_strerror(int code);

/* Name of a board id ("QEMU mps2-an385", "rev A", "unknown"). */
const char *gw_io_board_name(uint16_t id);

#endif
