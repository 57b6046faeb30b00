/*
 * Integration test of gateway/io against the real firmware image (build/fw/fw.elf, or $FW_ELF)
 * in QEMU mps2-an385, its UART bridged to a pty by socat (shared/reference/firmware-qemu.md,
 * section 7.1). gw_io runs in a real gw_loop driven by this test. A second libmodbus context on
 * the same pty reads the board's test registers and injects input levels; it is used only while
 * gw_io is idle (no job in flight and the loop not running), so the two masters never share the
 * line. Covers identity, heartbeat, PTT and LEDs down to the output pins, squelch and spare
 * inputs (levels and short pulses), a board QEMU the host starves in pulses, a board that
 * stops answering (watchdog reset), and a board killed and started again. A 10 ms timer shows that
 * the loop keeps its timers while a poll is in flight. Nothing here depends on the machine's speed:
 * the test waits (bounded) for events that must come (N polls, N ticks, the board up or down) and
 * counts them against each other or the loop's clock; wall-time lateness is printed, never
 * asserted. QEMU and socat are run by tests/integration/qemu_rig.c, which kills them by pid on
 * every exit path.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "../../firmware/core/fw_version.h"
#include "board/io.h"
#include "core/log.h"
#include "core/loop.h"
#include "qemu_rig.h"
#include "rinki/regmap.h"

#define STALL_TICK_MS 10
/*
 * The board is QEMU, which a loaded host may not run for a while: gw_io and the test's own
 * master give it this long per transaction (gw_io's default is 100 ms, for a real board).
 */
#define IO_TIMEOUT_MS 5000
#define BOUND_MS      120000 /* bound on a wait for an event that must come */

static struct qrig rig;

/* What the test observes of gw_io. */
static struct {
	struct gw_loop *loop;
	struct gw_io *io;
	modbus_t *tctx; /* the test's own master: only while gw_io is idle */
	int ups, downs;
	int64_t down_us;
	int squelch_n, spare_n;
	bool squelch_ev[16];
	int spare_which[16];
	bool spare_ev[16];
	char log[65536];
	size_t loglen;
	/* loop stall meter */
	struct gw_timer tick;
	int64_t tick_due_us, stall_max_us;
	long ticks, late_1ms;		   /* timer runs, and those more than 1 ms late */
	long busy_ticks;		   /* timer runs while a gw_io job was in flight */
	int64_t cpu_prev_us, worst_cpu_us; /* loop-thread CPU time in the worst interval */
} t;

/* --- clocks ------------------------------------------------------------------------ */

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* --- gw_io observers ----------------------------------------------------------------- */

static void on_ready(void *arg, int up)
{
	(void)arg;
	if (up) {
		t.ups++;
	} else {
		t.downs++;
		t.down_us = now_us();
	}
}

static void on_squelch(void *arg, bool open)
{
	(void)arg;
	if (t.squelch_n < 16)
		t.squelch_ev[t.squelch_n] = open;
	t.squelch_n++;
}

static void on_spare(void *arg, int n, bool on)
{
	(void)arg;
	if (t.spare_n < 16) {
		t.spare_which[t.spare_n] = n;
		t.spare_ev[t.spare_n] = on;
	}
	t.spare_n++;
}

static void log_sink(enum gw_log_cat cat, enum gw_log_level level, const char *line, void *arg)
{
	(void)cat;
	(void)level;
	(void)arg;
	size_t n = strlen(line);
	if (t.loglen + n + 2 < sizeof(t.log)) {
		memcpy(t.log + t.loglen, line, n);
		t.loglen += n;
		t.log[t.loglen++] = '\n';
		t.log[t.loglen] = '\0';
	}
}

static bool io_busy(void);

/*
 * A 10 ms timer; how late it fires is how long the loop was kept from its timers. The CPU time
 * this thread used in the worst interval tells a busy loop from one the host did not schedule.
 */
static void on_tick(struct gw_loop *loop, void *arg)
{
	(void)arg;
	int64_t late = now_us() - t.tick_due_us;
	int64_t cpu = clock_us(CLOCK_THREAD_CPUTIME_ID);

	if (late > t.stall_max_us) {
		t.stall_max_us = late;
		t.worst_cpu_us = cpu - t.cpu_prev_us;
	}
	t.cpu_prev_us = cpu;
	if (late > 1000)
		t.late_1ms++;
	t.ticks++;
	if (t.io && io_busy())
		t.busy_ticks++;
	t.tick_due_us = now_us() + STALL_TICK_MS * 1000;
	gw_timer_schedule(loop, &t.tick, STALL_TICK_MS);
}

static void stall_meter_reset(void)
{
	t.stall_max_us = 0;
	t.ticks = t.late_1ms = t.busy_ticks = 0;
	t.worst_cpu_us = 0;
	t.cpu_prev_us = clock_us(CLOCK_THREAD_CPUTIME_ID);
	t.tick_due_us = now_us() + STALL_TICK_MS * 1000;
	gw_timer_schedule(t.loop, &t.tick, STALL_TICK_MS);
}

static struct gw_io_status io_status(void)
{
	struct gw_io_status st;

	gw_io_status(t.io, &st);
	return st;
}

static void run_ms(int ms)
{
	for (int64_t end = now_us() + ms * 1000; now_us() < end;)
		gw_loop_run_once(t.loop, 5);
}

/* Run the loop until cond() or ms pass; returns the time taken in ms, or -1. */
static int run_until(bool (*cond)(void), int ms)
{
	int64_t t0 = now_us();

	while (!cond()) {
		if (now_us() - t0 > ms * 1000)
			return -1;
		gw_loop_run_once(t.loop, 5);
	}
	return (int)((now_us() - t0) / 1000);
}

static bool io_busy(void)
{
	return io_status().busy;
}

static bool io_idle(void)
{
	return !io_busy();
}

static bool io_up(void)
{
	struct gw_io_status st = io_status();
	return st.up && !st.busy;
}

/* Let the running job finish; after this and until the loop runs again the line is ours. */
static void quiesce(void)
{
	assert_true(run_until(io_idle, BOUND_MS) >= 0);
}

static int open_tctx(void)
{
	t.tctx = modbus_new_rtu(rig.tty, 115200, 'N', 8, 1);
	if (!t.tctx || modbus_set_slave(t.tctx, 1) != 0 || modbus_connect(t.tctx) != 0) {
		fprintf(stderr, "test context on %s: %s\n", rig.tty, modbus_strerror(errno));
		return -1;
	}
	modbus_set_response_timeout(t.tctx, IO_TIMEOUT_MS / 1000, 0);
	modbus_set_byte_timeout(t.tctx, 0, IO_TIMEOUT_MS / 5 * 1000);
	return 0;
}

static void close_tctx(void)
{
	if (!t.tctx)
		return;
	modbus_close(t.tctx);
	modbus_free(t.tctx);
	t.tctx = NULL;
}

static uint16_t ireg(uint16_t addr)
{
	uint16_t v = 0;

	assert_int_equal(modbus_read_input_registers(t.tctx, addr, 1, &v), 1);
	return v;
}

static uint16_t hreg(uint16_t addr)
{
	uint16_t v = 0;

	assert_int_equal(modbus_read_registers(t.tctx, addr, 1, &v), 1);
	return v;
}

static void set_hreg(uint16_t addr, uint16_t v)
{
	assert_int_equal(modbus_write_register(t.tctx, addr, v), 1);
}

/*
 * Read the board's status register on the test context until (status & mask) == want, or a
 * generous bound passes (the board's own clock, not ours, decides when it changes).
 */
static void wait_board_status(uint16_t mask, uint16_t want)
{
	uint64_t end = qrig_now_ms() + BOUND_MS;

	while ((ireg(RINKI_IREG_STATUS) & mask) != want) {
		assert_true(qrig_now_ms() < end);
		qrig_sleep_ms(5);
	}
}

/* FW_BUILD_HASH as firmware/firmware.mk wrote it for the image under test. */
static uint32_t image_build_hash(void)
{
	const char *path = getenv("FW_BUILD_H") ? getenv("FW_BUILD_H") : "build/fw/fw_build.h";
	char line[160];
	unsigned hash = 0;
	bool found = false;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "#define FW_BUILD_HASH 0x%x", &hash) == 1)
			found = true;
	fclose(f);
	assert_true(found);
	return hash;
}

/* --- setup ------------------------------------------------------------------------ */

static int group_teardown(void **state)
{
	(void)state;
	close_tctx();
	gw_io_free(t.io);
	t.io = NULL;
	if (t.loop) {
		gw_timer_cancel(t.loop, &t.tick);
		gw_loop_free(t.loop);
		t.loop = NULL;
	}
	gw_log_set_sink(NULL, NULL);
	qrig_fini(&rig);
	return 0;
}

static const struct gw_io_ops ops = {
    .ready = on_ready, .squelch = on_squelch, .spare = on_spare, .arg = NULL};

static int new_io(void)
{
	struct gw_conf conf;

	gw_conf_defaults(&conf);
	snprintf(conf.io_port, sizeof(conf.io_port), "%s", rig.tty);
	conf.io_timeout_ms = IO_TIMEOUT_MS;
	return gw_io_new(t.loop, &conf, &ops, &t.io);
}

static int group_setup(void **state)
{
	const char *elf = getenv("FW_ELF") ? getenv("FW_ELF") : "build/fw/fw.elf";

	(void)state;
	if (qrig_init(&rig, "iob", elf, 0) != 0)
		return -1;
	gw_log_init("test_io_board", false);
	gw_log_set_sink(log_sink, NULL);
	t.loop = gw_loop_new();
	if (!t.loop || qrig_start(&rig) != 0)
		goto fail;
	gw_timer_init(&t.tick, on_tick, NULL);
	if (new_io() != 0)
		goto fail;
	return 0;
fail:
	group_teardown(state);
	return -1;
}

/* --- tests ------------------------------------------------------------------------- */

static void test_identity(void **state)
{
	(void)state;
	int took = run_until(io_up, BOUND_MS);

	print_message("board up %d ms after gw_io_new\n", took);
	assert_true(took >= 0);
	assert_int_equal(t.ups, 1);
	assert_int_equal(t.downs, 0);

	struct gw_io_status st = io_status();
	assert_int_equal(st.board_id, RINKI_BOARD_ID_QEMU_MPS2);
	assert_int_equal(st.fw_major, FW_VERSION_MAJOR);
	assert_int_equal(st.fw_minor, FW_VERSION_MINOR);
	assert_int_equal(st.fw_patch, FW_VERSION_PATCH);
	assert_int_equal(st.build_hash, image_build_hash());
	assert_int_equal(st.regmap_version, RINKI_REGMAP_VERSION);
	assert_int_equal(st.boot_count, 1);
	assert_int_equal(st.status & RINKI_STATUS_SAFE, 0); /* our first heartbeat went first */
	assert_non_null(strstr(t.log, "I/O board up on"));
	assert_non_null(strstr(t.log, "QEMU mps2-an385"));

	/* The line is shared with the test context from here on. */
	quiesce();
	assert_int_equal(open_tctx(), 0);
	assert_int_equal(ireg(RINKI_IREG_BOARD_ID), st.board_id);
}

static uint32_t want_polls;
static bool polls_seen(void)
{
	return io_status().polls >= want_polls;
}

/* Heartbeats keep the board out of safe state; without them it falls into it. */
static void test_heartbeat(void **state)
{
	(void)state;
	quiesce();
	set_hreg(RINKI_HREG_HB_TIMEOUT_MS, 500);
	uint16_t losses = ireg(RINKI_IREG_HB_LOSSES), hb0 = hreg(RINKI_HREG_HEARTBEAT);
	struct gw_io_status st0 = io_status();
	int64_t loop0 = gw_loop_now_ms(t.loop);

	/* Six answered polls: over two board time-outs of the loop's own clock, however slowly
	 * the host runs us (the bound only ends a test whose polls stopped). */
	want_polls = st0.polls + 6;
	assert_true(run_until(polls_seen, BOUND_MS) >= 0);
	quiesce();
	struct gw_io_status st1 = io_status();
	int64_t took = gw_loop_now_ms(t.loop) - loop0;
	print_message("%u polls in %lld ms of loop time, last %u us, longest %u us (helper "
		      "thread)\n",
		      st1.polls - st0.polls, (long long)took, st1.poll_us_last, st1.poll_us_max);
	/* Polls keep their period: never faster, whatever the load (slower only under load). */
	assert_true(took >= 5 * GW_IO_POLL_MS);
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, 0);
	assert_int_equal(ireg(RINKI_IREG_HB_LOSSES), losses);
	assert_int_not_equal(hreg(RINKI_HREG_HEARTBEAT), hb0);

	/* The control: gw_io idle (the loop is not run) lets the board time out. */
	wait_board_status(RINKI_STATUS_SAFE, RINKI_STATUS_SAFE);
	assert_int_equal(ireg(RINKI_IREG_HB_LOSSES), losses + 1);
	run_ms(500);
	quiesce();
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, 0);
	assert_int_equal(io_status().hb_losses, losses + 1);
	assert_non_null(strstr(t.log, "1 new heartbeat losses"));
	set_hreg(RINKI_HREG_HB_TIMEOUT_MS, RINKI_HB_TIMEOUT_DEFAULT);
}

/*
 * A host that starves QEMU, as a loaded machine does (stopped 20 ms, then 2 ms to run, over and
 * over): gw_io keeps polling, every poll is answered, and the board neither resets nor counts a
 * CRC or frame error. (It used to reset by its watchdog: its clock counted SysTick interrupts,
 * which a late QEMU coalesces; the poll in flight was lost with it. Issue #12.)
 */
static void test_board_starved(void **state)
{
	(void)state;
	quiesce();
	struct gw_io_status st0 = io_status();
	size_t log0 = t.loglen;
	int64_t t0 = now_us();

	assert_int_equal(qrig_starve(&rig, 20, 2), 0);
	want_polls = st0.polls + 30;
	int rc = run_until(polls_seen, BOUND_MS);
	qrig_unstarve(&rig);
	quiesce();
	struct gw_io_status st1 = io_status();
	print_message("starved QEMU (20 ms stopped, 2 ms run): %u polls answered, %u failed in "
		      "%lld ms; boot count %u -> %u\n",
		      st1.polls - st0.polls, st1.failures - st0.failures,
		      (long long)(now_us() - t0) / 1000, st0.boot_count, st1.boot_count);
	assert_true(rc >= 0);
	assert_int_equal(st1.failures, st0.failures);
	assert_int_equal(st1.boot_count, st0.boot_count);
	assert_int_equal(st1.wdt_resets, st0.wdt_resets);
	assert_int_equal(st1.crc_errors, st0.crc_errors);
	assert_int_equal(st1.frame_errors, st0.frame_errors);
	assert_null(strstr(t.log + log0, "I/O board restarted"));
}

static bool board_ptt_on(void)
{
	struct gw_io_status st = io_status();
	return !st.busy && (st.status & RINKI_STATUS_PTT);
}

static bool board_ptt_off(void)
{
	struct gw_io_status st = io_status();
	return !st.busy && !(st.status & RINKI_STATUS_PTT);
}

static void test_ptt_and_leds(void **state)
{
	(void)state;
	quiesce();
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, 0);

	int64_t t0 = now_us();
	assert_int_equal(gw_io_set_ptt(t.io, true), 0);
	assert_true(run_until(board_ptt_on, BOUND_MS) >= 0);
	print_message("PTT on confirmed by the board %lld us after gw_io_set_ptt\n",
		      (long long)(now_us() - t0));
	uint8_t coil = 0;
	assert_int_equal(modbus_read_bits(t.tctx, RINKI_COIL_PTT, 1, &coil), 1);
	assert_int_equal(coil, 1);
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, RINKI_TEST_OUT_PTT);

	assert_int_equal(gw_io_set_ptt(t.io, false), 0);
	assert_true(run_until(board_ptt_off, BOUND_MS) >= 0);
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, 0);

	/* In safe state (board timed out while gw_io was idle) PTT still goes through at once:
	 * the heartbeat leads every job. */
	set_hreg(RINKI_HREG_HB_TIMEOUT_MS, RINKI_HB_TIMEOUT_MIN);
	wait_board_status(RINKI_STATUS_SAFE, RINKI_STATUS_SAFE);
	set_hreg(RINKI_HREG_HB_TIMEOUT_MS, RINKI_HB_TIMEOUT_DEFAULT);
	assert_int_equal(gw_io_set_ptt(t.io, true), 0);
	assert_true(run_until(board_ptt_on, BOUND_MS) >= 0);
	assert_null(strstr(t.log, "refused PTT"));
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, RINKI_TEST_OUT_PTT);
	assert_int_equal(gw_io_set_ptt(t.io, false), 0);
	assert_true(run_until(board_ptt_off, BOUND_MS) >= 0);

	/* LEDs: patterns land in the registers, steady ones on the pins. */
	assert_int_equal(gw_io_set_led(t.io, GW_IO_LED_ON_CALL, GW_IO_LED_ON), 0);
	assert_int_equal(gw_io_set_led(t.io, GW_IO_LED_MODEM_OK, GW_IO_LED_BLINK_SLOW), 0);
	assert_int_equal(gw_io_set_led(t.io, GW_IO_LED_COUNT, GW_IO_LED_ON), -EINVAL);
	assert_int_equal(gw_io_set_led(t.io, GW_IO_LED_FAULT, 7), -EINVAL);
	run_ms(300);
	quiesce();
	assert_int_equal(hreg(RINKI_HREG_LED_ON_CALL), RINKI_LED_ON);
	assert_int_equal(hreg(RINKI_HREG_LED_MODEM_OK), RINKI_LED_BLINK_SLOW);
	assert_int_equal(hreg(RINKI_HREG_LED_RADIO_OK), RINKI_LED_OFF);
	uint16_t out = ireg(RINKI_IREG_TEST_OUTPUTS);
	assert_int_equal(out & (RINKI_TEST_OUT_LED_CALL | RINKI_TEST_OUT_LED_RADIO),
			 RINKI_TEST_OUT_LED_CALL);
	assert_int_equal(gw_io_set_led(t.io, GW_IO_LED_ON_CALL, GW_IO_LED_OFF), 0);
	run_ms(300);
	quiesce();
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_LED_CALL, 0);
}

static int want_squelch;
static bool squelch_seen(void)
{
	return t.squelch_n >= want_squelch;
}

static int want_spare;
static bool spare_seen(void)
{
	return t.spare_n >= want_spare;
}

static void test_squelch(void **state)
{
	(void)state;
	quiesce();
	int n0 = t.squelch_n;

	set_hreg(RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_COR);
	want_squelch = n0 + 1;
	int took = run_until(squelch_seen, BOUND_MS);
	print_message("squelch open reported %d ms after the input changed\n", took);
	assert_true(took >= 0);
	assert_true(t.squelch_ev[n0]);
	assert_true(io_status().squelch);

	quiesce();
	set_hreg(RINKI_HREG_TEST_INPUTS, 0);
	want_squelch = n0 + 2;
	assert_true(run_until(squelch_seen, BOUND_MS) >= 0);
	assert_false(t.squelch_ev[n0 + 1]);

	/* A pulse between two polls (gw_io idle meanwhile) comes as open, then closed. */
	quiesce();
	set_hreg(RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_COR);
	wait_board_status(RINKI_STATUS_COR, RINKI_STATUS_COR); /* past the board's debounce */
	set_hreg(RINKI_HREG_TEST_INPUTS, 0);
	wait_board_status(RINKI_STATUS_COR, 0);
	want_squelch = n0 + 4;
	assert_true(run_until(squelch_seen, BOUND_MS) >= 0);
	assert_true(t.squelch_ev[n0 + 2]);
	assert_false(t.squelch_ev[n0 + 3]);
	run_ms(500);
	assert_int_equal(t.squelch_n, n0 + 4);

	/* Spare input 2. */
	quiesce();
	int s0 = t.spare_n;
	set_hreg(RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_SPARE2);
	want_spare = s0 + 1;
	assert_true(run_until(spare_seen, BOUND_MS) >= 0);
	assert_int_equal(t.spare_which[s0], 2);
	assert_true(t.spare_ev[s0]);
	quiesce();
	set_hreg(RINKI_HREG_TEST_INPUTS, 0);
	want_spare = s0 + 2;
	assert_true(run_until(spare_seen, BOUND_MS) >= 0);
	assert_false(t.spare_ev[s0 + 1]);
	assert_int_equal(t.squelch_n, n0 + 4);
}

static long want_ticks;
static bool ticks_and_polls_seen(void)
{
	return t.ticks >= want_ticks && polls_seen();
}

static bool ticks_seen(void)
{
	return t.ticks >= want_ticks;
}

/*
 * What the loop would lose with the simpler design (libmodbus called from the loop): one poll
 * done synchronously, timed on the test context. Printed, not asserted.
 */
static void test_inline_poll_cost(void **state)
{
	(void)state;
	uint16_t r[RINKI_IREG_COUNT];
	uint8_t di[RINKI_DI_COUNT];
	int64_t max = 0, sum = 0;
	const int n = 50;

	quiesce();
	for (int i = 0; i < n; i++) {
		int64_t t0 = now_us();
		assert_int_equal(modbus_write_register(t.tctx, RINKI_HREG_HEARTBEAT, (uint16_t)i),
				 1);
		assert_int_equal(modbus_read_input_registers(t.tctx, 0, RINKI_IREG_COUNT, r),
				 RINKI_IREG_COUNT);
		assert_int_equal(modbus_read_input_bits(t.tctx, 0, RINKI_DI_COUNT, di),
				 RINKI_DI_COUNT);
		int64_t d = now_us() - t0;
		sum += d;
		if (d > max)
			max = d;
	}
	print_message("a poll done inline would stall the loop %lld us on average, %lld us at most "
		      "(QEMU, board answering)\n",
		      (long long)(sum / n), (long long)max);

	/* With the helper thread the loop's timers run while polls are in flight: wait for 100
	 * ticks and five answered polls (bounded; these must come), then count the ticks that
	 * ran while a poll was out. Run inline, a poll would block the loop: none would. */
	stall_meter_reset();
	want_polls = io_status().polls + 5;
	want_ticks = 100;
	assert_true(run_until(ticks_and_polls_seen, BOUND_MS) >= 0);
	print_message("with the helper thread: %ld ticks of 10 ms, %ld while a poll was out, %ld "
		      "over 1 ms late, worst lateness %lld us (%lld us CPU; board answering)\n",
		      t.ticks, t.busy_ticks, t.late_1ms, (long long)t.stall_max_us,
		      (long long)t.worst_cpu_us);
	gw_timer_cancel(t.loop, &t.tick);
}

/* Board silent with its port still there: time-outs, then the watchdog resets it. */
static void test_board_stalls(void **state)
{
	(void)state;
	quiesce();
	struct gw_io_status st0 = io_status();
	uint16_t boots = ireg(RINKI_IREG_BOOT_COUNT), wdt = ireg(RINKI_IREG_WDT_RESETS);
	int downs = t.downs, ups = t.ups;

	set_hreg(RINKI_HREG_TEST_STALL, RINKI_TEST_STALL_MAGIC);
	stall_meter_reset();
	int64_t t0 = now_us();
	struct gw_io_status st;
	do {
		run_ms(50);
		st = io_status();
	} while (!(st.up && st.boot_count == boots + 1) && now_us() - t0 < BOUND_MS * 1000);
	print_message("stalled board: back after %lld ms, %u failed polls, down %d time(s); %ld "
		      "ticks, %ld while a job was out, %ld over 1 ms late, worst lateness %lld us "
		      "(%lld us CPU)\n",
		      (long long)(now_us() - t0) / 1000, st.failures - st0.failures,
		      t.downs - downs, t.ticks, t.busy_ticks, t.late_1ms, (long long)t.stall_max_us,
		      (long long)t.worst_cpu_us);
	gw_timer_cancel(t.loop, &t.tick);
	assert_true(st.up);
	assert_int_equal(st.boot_count, boots + 1);
	assert_int_equal(st.wdt_resets, wdt + 1);
	assert_true(st.failures > st0.failures);
	/* Each failed poll held the helper thread for a whole response time-out (100 ms) while
	 * the loop kept running its 10 ms timer; a loop blocked in the poll would count none. */
	assert_true(t.busy_ticks >= (long)(st.failures - st0.failures));
	assert_int_equal(t.ups - ups, t.downs - downs); /* every down has its up */
	quiesce();
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, 0);
}

static bool io_down(void)
{
	return !io_status().up;
}

/* QEMU killed: down within 3 s while the loop keeps its timers; started again: up. */
static void test_board_killed(void **state)
{
	(void)state;
	quiesce();
	/* Squelch open at the time of death must be reported closed. */
	set_hreg(RINKI_HREG_TEST_INPUTS, RINKI_TEST_IN_COR);
	want_squelch = t.squelch_n + 1;
	assert_true(run_until(squelch_seen, BOUND_MS) >= 0);
	assert_true(t.squelch_ev[t.squelch_n - 1]);
	assert_int_equal(gw_io_set_led(t.io, GW_IO_LED_RADIO_OK, GW_IO_LED_ON), 0);
	quiesce();
	close_tctx();

	int downs = t.downs, ups = t.ups;
	int64_t t0 = now_us();
	qrig_kill_qemu(&rig); /* reaped below: the loop must run at once */
	stall_meter_reset();
	uint32_t fails0 = io_status().failures;
	int took = run_until(io_down, BOUND_MS);
	print_message("board down reported %d ms after QEMU was killed, after %u failed polls\n",
		      took, io_status().failures - fails0);
	assert_true(took >= 0);
	/* Down at the latest after GW_IO_FAIL_LIMIT failed polls (at once if the port went). */
	assert_true(io_status().failures - fails0 <= GW_IO_FAIL_LIMIT);
	assert_int_equal(t.downs, downs + 1);
	assert_false(t.squelch_ev[t.squelch_n - 1]);
	assert_false(io_status().squelch);
	assert_non_null(strstr(t.log, "ALARM: I/O board on"));
	assert_int_equal(gw_io_set_ptt(t.io, false), -ENOTCONN);

	/* Reconnect attempts against a missing port: the loop's timers keep running (100 ticks
	 * must come; the bound only ends a loop that stopped) and the board stays down. */
	want_ticks = t.ticks + 100;
	assert_true(run_until(ticks_seen, BOUND_MS) >= 0);
	print_message("kill to 100 ticks after down: %ld ticks in %lld ms, %ld over 1 ms late, "
		      "worst lateness %lld us (%lld us CPU)\n",
		      t.ticks, (long long)(now_us() - t0) / 1000, t.late_1ms,
		      (long long)t.stall_max_us, (long long)t.worst_cpu_us);
	assert_true(io_down());
	assert_int_equal(t.downs, downs + 1);
	qrig_stop(&rig); /* reaps QEMU; socat is normally gone with it already */

	assert_int_equal(qrig_start(&rig), 0);
	stall_meter_reset();
	took = run_until(io_up, BOUND_MS);
	print_message("board up again %d ms after QEMU restarted; %ld ticks, %ld over 1 ms late, "
		      "worst lateness %lld us (%lld us CPU)\n",
		      took, t.ticks, t.late_1ms, (long long)t.stall_max_us,
		      (long long)t.worst_cpu_us);
	gw_timer_cancel(t.loop, &t.tick);
	assert_true(took >= 0);
	assert_int_equal(t.ups, ups + 1);
	struct gw_io_status st = io_status();
	assert_int_equal(st.boot_count, 1);
	assert_true(st.uptime_s <= (uint32_t)took / 1000 + 10); /* the fresh board */

	/* The wanted outputs were sent again to the fresh board. */
	quiesce();
	assert_int_equal(open_tctx(), 0);
	assert_int_equal(hreg(RINKI_HREG_LED_RADIO_OK), RINKI_LED_ON);
	assert_int_equal(ireg(RINKI_IREG_STATUS) & RINKI_STATUS_SAFE, 0);
}

/* gw_io_free() leaves the radio unkeyed. */
static void test_free_releases_ptt(void **state)
{
	(void)state;
	assert_int_equal(gw_io_set_ptt(t.io, true), 0);
	assert_true(run_until(board_ptt_on, BOUND_MS) >= 0);
	gw_io_free(t.io);
	t.io = NULL;
	assert_int_equal(ireg(RINKI_IREG_TEST_OUTPUTS) & RINKI_TEST_OUT_PTT, 0);
	/* And a new client connects to the same board again. */
	close_tctx();
	int ups = t.ups;
	assert_int_equal(new_io(), 0);
	assert_true(run_until(io_up, BOUND_MS) >= 0);
	assert_int_equal(t.ups, ups + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity),	      cmocka_unit_test(test_heartbeat),
	    cmocka_unit_test(test_board_starved),     cmocka_unit_test(test_ptt_and_leds),
	    cmocka_unit_test(test_squelch),	      cmocka_unit_test(test_inline_poll_cost),
	    cmocka_unit_test(test_board_stalls),      cmocka_unit_test(test_board_killed),
	    cmocka_unit_test(test_free_releases_ptt), cmocka_unit_test(qrig_test_log_clean),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("io_board", tests, group_setup, group_teardown);
}
