/*
 * I/O logic of the board, exposed as the Modbus data model. The host keys the radio through
 * the PTT coil; a time-out timer forces PTT off and counts a fault. The host must write the
 * heartbeat register at least every hb_timeout_ms; without it the board is in safe state (PTT
 * off and refused, fault LED blinking fast), which is also the state after boot. Inputs are
 * sampled on every tick and debounced by time. Retained RAM carries the boot and watchdog reset
 * counters across warm resets. All times are ms from hal_time_ms(), compared wrap-safe.
 */
#include "fw_io.h"

#include "fw_version.h"
#include "rinki/regmap.h"

#define RETAINED_MAGIC 0x52494E4Bu /* "RINK" */

/* true once at least ms have passed from since to now (wrap-safe). */
static bool elapsed(uint32_t now, uint32_t since, uint32_t ms)
{
	return now - since >= ms;
}

static void count_boot(struct fw_io *io)
{
	uint32_t *r = hal_retained();

	if (r[0] != RETAINED_MAGIC || r[3] != ~(r[0] ^ r[1] ^ r[2])) {
		r[0] = RETAINED_MAGIC;
		r[1] = 0;
		r[2] = 0;
	}
	io->wdt_reset = hal_reset_cause() == HAL_RESET_WDT;
	r[1] = (r[1] + 1) & 0xFFFF;
	if (io->wdt_reset)
		r[2] = (r[2] + 1) & 0xFFFF;
	r[3] = ~(r[0] ^ r[1] ^ r[2]);
	io->boot_count = (uint16_t)r[1];
	io->wdt_resets = (uint16_t)r[2];
}

void fw_io_init(struct fw_io *io, const struct fw_mb_stats *mb_stats, uint32_t now)
{
	static const enum hal_pin pins[FW_IO_NUM_INPUTS] = {HAL_PIN_COR, HAL_PIN_SPARE1,
							    HAL_PIN_SPARE2};

	*io = (struct fw_io){
	    .slave_addr = RINKI_SLAVE_ADDR_DEFAULT,
	    .ptt_timeout = RINKI_PTT_TIMEOUT_DEFAULT,
	    .hb_timeout_ms = RINKI_HB_TIMEOUT_DEFAULT,
	    .debounce_ms = RINKI_DEBOUNCE_DEFAULT,
	    .safe = true,
	    .hb_last = now,
	    .sec_mark = now,
	    .mb_stats = mb_stats,
	};
	for (int i = 0; i < FW_IO_NUM_INPUTS; i++) {
		struct fw_input *in = &io->in[i];
		in->pin = pins[i];
		in->stable = in->cand = hal_gpio_read(in->pin);
		in->cand_since = now;
	}
	count_boot(io);
	fw_io_tick(io, now);
}

static void set_ptt(struct fw_io *io, bool on, uint32_t now)
{
	if (on && !io->ptt)
		io->ptt_since = now;
	io->ptt = on;
	hal_gpio_write(HAL_PIN_PTT, on);
}

static bool led_level(uint8_t pattern, uint32_t now)
{
	switch (pattern) {
	case RINKI_LED_ON:
		return true;
	case RINKI_LED_BLINK_SLOW:
		return (now / 500) & 1;
	case RINKI_LED_BLINK_FAST:
		return (now / 125) & 1;
	default:
		return false;
	}
}

static void debounce(struct fw_io *io, struct fw_input *in, uint32_t now)
{
	bool raw = hal_gpio_read(in->pin);

	if (raw != in->cand) {
		in->cand = raw;
		in->cand_since = now;
	}
	if (in->cand != in->stable && elapsed(now, in->cand_since, io->debounce_ms)) {
		in->stable = in->cand;
		in->changes++;
	}
}

void fw_io_tick(struct fw_io *io, uint32_t now)
{
	static const enum hal_pin leds[FW_IO_NUM_LEDS] = {HAL_PIN_LED_RADIO, HAL_PIN_LED_MODEM,
							  HAL_PIN_LED_CALL, HAL_PIN_LED_FAULT};

	while (elapsed(now, io->sec_mark, 1000)) {
		io->sec_mark += 1000;
		io->uptime_s++;
	}
	if (!io->safe && elapsed(now, io->hb_last, io->hb_timeout_ms)) {
		io->safe = true;
		io->hb_losses++;
	}
	if (io->ptt &&
	    (io->safe ||
	     elapsed(now, io->ptt_since, (uint32_t)io->ptt_timeout * RINKI_PTT_TIMEOUT_UNIT_MS))) {
		if (!io->safe) {
			io->ptt_timed_out = true;
			io->ptt_timeouts++;
		}
		io->ptt = false;
	}
	hal_gpio_write(HAL_PIN_PTT, io->ptt);
	hal_gpio_write(HAL_PIN_AUX, io->aux);

	for (int i = 0; i < FW_IO_NUM_INPUTS; i++)
		debounce(io, &io->in[i], now);

	for (int i = 0; i < FW_IO_NUM_LEDS; i++) {
		uint8_t pattern = io->led[i];
		if (leds[i] == HAL_PIN_LED_FAULT && io->safe)
			pattern = RINKI_LED_BLINK_FAST;
		hal_gpio_write(leds[i], led_level(pattern, now));
	}
}

static uint16_t status(const struct fw_io *io)
{
	uint16_t s = 0;

	if (io->ptt)
		s |= RINKI_STATUS_PTT;
	if (io->safe)
		s |= RINKI_STATUS_SAFE;
	if (io->ptt_timed_out)
		s |= RINKI_STATUS_PTT_TIMEOUT;
	if (io->wdt_reset)
		s |= RINKI_STATUS_WDT_RESET;
	if (io->in[RINKI_DI_COR].stable)
		s |= RINKI_STATUS_COR;
	return s;
}

#ifdef FW_HAL_TEST_INPUTS
static uint16_t test_outputs(void)
{
	static const enum hal_pin outs[] = {HAL_PIN_PTT,       HAL_PIN_AUX,	 HAL_PIN_LED_RADIO,
					    HAL_PIN_LED_MODEM, HAL_PIN_LED_CALL, HAL_PIN_LED_FAULT};
	uint16_t v = 0;

	for (unsigned i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (hal_gpio_read(outs[i]))
			v |= (uint16_t)(1u << i);
	return v;
}

static uint16_t test_inputs(const struct fw_io *io)
{
	uint16_t v = 0;

	for (int i = 0; i < FW_IO_NUM_INPUTS; i++)
		if (hal_gpio_read(io->in[i].pin))
			v |= (uint16_t)(1u << i);
	return v;
}
#endif

static uint8_t read_input_reg(const struct fw_io *io, uint16_t addr, uint16_t *val)
{
	const struct fw_mb_stats *mb = io->mb_stats;

	switch (addr) {
	case RINKI_IREG_BOARD_ID:
		*val = hal_board_id();
		break;
	case RINKI_IREG_FW_MAJOR:
		*val = FW_VERSION_MAJOR;
		break;
	case RINKI_IREG_FW_MINOR:
		*val = FW_VERSION_MINOR;
		break;
	case RINKI_IREG_FW_PATCH:
		*val = FW_VERSION_PATCH;
		break;
	case RINKI_IREG_BUILD_HASH_HI:
		*val = (uint16_t)((uint32_t)FW_BUILD_HASH >> 16);
		break;
	case RINKI_IREG_BUILD_HASH_LO:
		*val = (uint16_t)FW_BUILD_HASH;
		break;
	case RINKI_IREG_REGMAP_VERSION:
		*val = RINKI_REGMAP_VERSION;
		break;
	case RINKI_IREG_STATUS:
		*val = status(io);
		break;
	case RINKI_IREG_UPTIME_HI:
		*val = (uint16_t)(io->uptime_s >> 16);
		break;
	case RINKI_IREG_UPTIME_LO:
		*val = (uint16_t)io->uptime_s;
		break;
	case RINKI_IREG_BOOT_COUNT:
		*val = io->boot_count;
		break;
	case RINKI_IREG_WDT_RESETS:
		*val = io->wdt_resets;
		break;
	case RINKI_IREG_PTT_TIMEOUTS:
		*val = io->ptt_timeouts;
		break;
	case RINKI_IREG_HB_LOSSES:
		*val = io->hb_losses;
		break;
	case RINKI_IREG_CRC_ERRORS:
		*val = mb->crc_errors;
		break;
	case RINKI_IREG_FRAME_ERRORS:
		*val = mb->frame_errors;
		break;
	case RINKI_IREG_COR_CHANGES:
	case RINKI_IREG_SPARE1_CHANGES:
	case RINKI_IREG_SPARE2_CHANGES:
		*val = io->in[addr - RINKI_IREG_COR_CHANGES].changes;
		break;
#ifdef FW_HAL_TEST_INPUTS
	case RINKI_IREG_TEST_OUTPUTS:
		*val = test_outputs();
		break;
#endif
	default:
		return FW_MB_EX_ILLEGAL_ADDRESS;
	}
	return FW_MB_EX_NONE;
}

static uint8_t read_holding(const struct fw_io *io, uint16_t addr, uint16_t *val)
{
	switch (addr) {
	case RINKI_HREG_SLAVE_ADDR:
		*val = io->slave_addr;
		break;
	case RINKI_HREG_PTT_TIMEOUT:
		*val = io->ptt_timeout;
		break;
	case RINKI_HREG_HB_TIMEOUT_MS:
		*val = io->hb_timeout_ms;
		break;
	case RINKI_HREG_HEARTBEAT:
		*val = io->hb_value;
		break;
	case RINKI_HREG_DEBOUNCE_MS:
		*val = io->debounce_ms;
		break;
	case RINKI_HREG_LED_RADIO_OK:
	case RINKI_HREG_LED_MODEM_OK:
	case RINKI_HREG_LED_ON_CALL:
	case RINKI_HREG_LED_FAULT:
		*val = io->led[addr - RINKI_HREG_LED_RADIO_OK];
		break;
#ifdef FW_HAL_TEST_INPUTS
	case RINKI_HREG_TEST_INPUTS:
		*val = test_inputs(io);
		break;
	case RINKI_HREG_TEST_STALL:
		*val = io->stalled ? RINKI_TEST_STALL_MAGIC : 0;
		break;
#endif
	default:
		return FW_MB_EX_ILLEGAL_ADDRESS;
	}
	return FW_MB_EX_NONE;
}

static uint8_t mb_read(void *arg, enum fw_mb_table table, uint16_t addr, uint16_t *val)
{
	const struct fw_io *io = arg;

	switch (table) {
	case FW_MB_COILS:
		if (addr == RINKI_COIL_PTT)
			*val = io->ptt;
		else if (addr == RINKI_COIL_AUX)
			*val = io->aux;
		else
			return FW_MB_EX_ILLEGAL_ADDRESS;
		return FW_MB_EX_NONE;
	case FW_MB_DISCRETE:
		if (addr >= RINKI_DI_COUNT)
			return FW_MB_EX_ILLEGAL_ADDRESS;
		*val = io->in[addr].stable;
		return FW_MB_EX_NONE;
	case FW_MB_INPUT:
		return read_input_reg(io, addr, val);
	case FW_MB_HOLDING:
		return read_holding(io, addr, val);
	}
	return FW_MB_EX_ILLEGAL_ADDRESS;
}

static uint8_t write_coil(struct fw_io *io, uint16_t addr, bool on, bool commit)
{
	if (addr == RINKI_COIL_PTT) {
		if (on && io->safe)
			return FW_MB_EX_DEVICE_FAILURE;
		if (commit) {
			io->ptt_timed_out = false;
			set_ptt(io, on, hal_time_ms());
		}
		return FW_MB_EX_NONE;
	}
	if (addr == RINKI_COIL_AUX) {
		if (commit) {
			io->aux = on;
			hal_gpio_write(HAL_PIN_AUX, on);
		}
		return FW_MB_EX_NONE;
	}
	return FW_MB_EX_ILLEGAL_ADDRESS;
}

static bool in_range(uint16_t v, uint16_t min, uint16_t max)
{
	return v >= min && v <= max;
}

static uint8_t write_holding(struct fw_io *io, uint16_t addr, uint16_t v, bool commit)
{
	bool ok;

	switch (addr) {
	case RINKI_HREG_SLAVE_ADDR:
		ok = in_range(v, RINKI_SLAVE_ADDR_MIN, RINKI_SLAVE_ADDR_MAX);
		if (ok && commit)
			io->slave_addr = (uint8_t)v;
		break;
	case RINKI_HREG_PTT_TIMEOUT:
		ok = in_range(v, RINKI_PTT_TIMEOUT_MIN, RINKI_PTT_TIMEOUT_MAX);
		if (ok && commit)
			io->ptt_timeout = v;
		break;
	case RINKI_HREG_HB_TIMEOUT_MS:
		ok = in_range(v, RINKI_HB_TIMEOUT_MIN, RINKI_HB_TIMEOUT_MAX);
		if (ok && commit)
			io->hb_timeout_ms = v;
		break;
	case RINKI_HREG_HEARTBEAT:
		ok = true;
		if (commit) {
			io->hb_value = v;
			io->hb_last = hal_time_ms();
			io->safe = false;
		}
		break;
	case RINKI_HREG_DEBOUNCE_MS:
		ok = v <= RINKI_DEBOUNCE_MAX;
		if (ok && commit)
			io->debounce_ms = v;
		break;
	case RINKI_HREG_LED_RADIO_OK:
	case RINKI_HREG_LED_MODEM_OK:
	case RINKI_HREG_LED_ON_CALL:
	case RINKI_HREG_LED_FAULT:
		ok = v <= RINKI_LED_MAX;
		if (ok && commit)
			io->led[addr - RINKI_HREG_LED_RADIO_OK] = (uint8_t)v;
		break;
#ifdef FW_HAL_TEST_INPUTS
	case RINKI_HREG_TEST_INPUTS:
		ok = v <= (RINKI_TEST_IN_COR | RINKI_TEST_IN_SPARE1 | RINKI_TEST_IN_SPARE2);
		if (ok && commit)
			for (int i = 0; i < FW_IO_NUM_INPUTS; i++)
				hal_test_set_input(io->in[i].pin, (v >> i) & 1);
		break;
	case RINKI_HREG_TEST_STALL:
		ok = v == RINKI_TEST_STALL_MAGIC;
		if (ok && commit)
			io->stalled = true;
		break;
#endif
	default:
		return FW_MB_EX_ILLEGAL_ADDRESS;
	}
	return ok ? FW_MB_EX_NONE : FW_MB_EX_ILLEGAL_VALUE;
}

static uint8_t mb_write(void *arg, enum fw_mb_table table, uint16_t addr, uint16_t val, bool commit)
{
	struct fw_io *io = arg;

	if (table == FW_MB_COILS)
		return write_coil(io, addr, val != 0, commit);
	if (table == FW_MB_HOLDING)
		return write_holding(io, addr, val, commit);
	return FW_MB_EX_ILLEGAL_FUNCTION;
}

const struct fw_mb_ops fw_io_mb_ops = {
    .read = mb_read,
    .write = mb_write,
};
