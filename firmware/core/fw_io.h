/*
 * The board's I/O logic behind the register map (include/rinki/regmap.h): PTT with its
 * time-out timer, host heartbeat and safe state, debounced inputs with change counters, LED
 * patterns, identity, uptime and fault counters. It is the Modbus data model (fw_io_mb_ops).
 */
#ifndef FW_IO_H
#define FW_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_modbus.h"
#include "hal.h"

#define FW_IO_NUM_INPUTS 3
#define FW_IO_NUM_LEDS	 4

struct fw_input {
	enum hal_pin pin;
	bool stable;	     /* debounced level */
	bool cand;	     /* last raw level */
	uint32_t cand_since; /* when the raw level last changed, ms */
	uint16_t changes;    /* debounced edges */
};

struct fw_io {
	/* configuration (holding registers) */
	uint8_t slave_addr;
	uint16_t ptt_timeout; /* RINKI_PTT_TIMEOUT_UNIT_MS units */
	uint16_t hb_timeout_ms;
	uint16_t hb_value;
	uint16_t debounce_ms;
	uint8_t led[FW_IO_NUM_LEDS];

	/* state */
	bool ptt, aux;
	bool ptt_timed_out;
	uint32_t ptt_since;
	bool safe;
	uint32_t hb_last;
	uint32_t uptime_s;
	uint32_t sec_mark;
	bool wdt_reset;
	bool stalled; /* test build: RINKI_HREG_TEST_STALL was written */
	struct fw_input in[FW_IO_NUM_INPUTS];

	/* counters */
	uint16_t boot_count, wdt_resets, ptt_timeouts, hb_losses;
	const struct fw_mb_stats *mb_stats; /* CRC and frame error counters */
};

/*
 * Initialise at time now: defaults for every register, outputs off, safe state (left on the
 * first heartbeat write). Counts the boot (and a watchdog reset) in the HAL's retained words.
 */
void fw_io_init(struct fw_io *io, const struct fw_mb_stats *mb_stats, uint32_t now);

/* Run timers, debounce inputs and drive outputs at time now (ms). Call at least every ms. */
void fw_io_tick(struct fw_io *io, uint32_t now);

/* Data model for fw_mb_init(); arg is the struct fw_io. */
extern const struct fw_mb_ops fw_io_mb_ops;

#endif /* FW_IO_H */
