/*
 * Unit tests of gateway/io: the libmodbus error translation, and gw_io against a fake board
 * that the real firmware cannot play: a stock libmodbus RTU slave in a thread on the master
 * side of a pty (gw_io opens the slave side by its name). The fake can refuse PTT with
 * exception 04, report another register map, or fall silent.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "board/io.h"
#include "core/log.h"
#include "core/loop.h"
#include "rinki/regmap.h"

struct fake {
	int master;
	char slave_path[64];
	modbus_t *ctx;
	modbus_mapping_t *map;
	pthread_t thread;
	atomic_bool stop, silent, refuse_ptt;
	atomic_int ptt_writes;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	uint8_t q[MODBUS_RTU_MAX_ADU_LENGTH];

	while (!atomic_load(&f->stop)) {
		int n = modbus_receive(f->ctx, q);
		if (n <= 0) {
			if (n < 0 && errno != ETIMEDOUT)
				usleep(10000); /* slave side not open (EIO) */
			continue;
		}
		if (atomic_load(&f->silent))
			continue;
		if (q[1] == 0x05) {
			atomic_fetch_add(&f->ptt_writes, 1);
			if (atomic_load(&f->refuse_ptt)) {
				modbus_reply_exception(f->ctx, q,
						       MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE);
				continue;
			}
		}
		modbus_reply(f->ctx, q, n, f->map);
	}
	return NULL;
}

static void fake_start(struct fake *f, uint16_t regmap)
{
	memset(f, 0, sizeof(*f));
	f->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(f->master >= 0);
	assert_int_equal(grantpt(f->master), 0);
	assert_int_equal(unlockpt(f->master), 0);
	snprintf(f->slave_path, sizeof(f->slave_path), "%s", ptsname(f->master));
	f->map = modbus_mapping_new(RINKI_COIL_COUNT, RINKI_DI_COUNT, RINKI_HREG_COUNT,
				    RINKI_IREG_COUNT);
	assert_non_null(f->map);
	f->map->tab_input_registers[RINKI_IREG_BOARD_ID] = RINKI_BOARD_ID_REV_A;
	f->map->tab_input_registers[RINKI_IREG_FW_MAJOR] = 2;
	f->map->tab_input_registers[RINKI_IREG_BUILD_HASH_HI] = 0xCAFE;
	f->map->tab_input_registers[RINKI_IREG_BUILD_HASH_LO] = 0xF00D;
	f->map->tab_input_registers[RINKI_IREG_REGMAP_VERSION] = regmap;
	f->map->tab_input_registers[RINKI_IREG_BOOT_COUNT] = 1;
	f->ctx = modbus_new_rtu(f->slave_path, 115200, 'N', 8, 1);
	assert_non_null(f->ctx);
	modbus_set_slave(f->ctx, 1);
	modbus_set_socket(f->ctx, f->master);
	modbus_set_indication_timeout(f->ctx, 0, 50000);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	modbus_free(f->ctx); /* not modbus_close: the master fd is closed here */
	modbus_mapping_free(f->map);
	close(f->master);
}

static struct {
	struct gw_loop *loop;
	struct gw_io *io;
	struct fake fake;
	int ups, downs;
	char log[16384];
	size_t loglen;
} t;

static void on_ready(void *arg, int up)
{
	(void)arg;
	if (up)
		t.ups++;
	else
		t.downs++;
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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool run_until(bool (*cond)(void), int ms)
{
	for (int64_t end = now_ms() + ms; !cond(); gw_loop_run_once(t.loop, 5))
		if (now_ms() > end)
			return false;
	return true;
}

static int setup(void **state, uint16_t regmap)
{
	static const struct gw_io_ops ops = {.ready = on_ready};
	struct gw_conf conf;

	(void)state;
	memset(&t, 0, sizeof(t));
	gw_log_set_sink(log_sink, NULL);
	gw_log_set_level(GW_LOG_IO, GW_LOG_INFO);
	fake_start(&t.fake, regmap);
	t.loop = gw_loop_new();
	gw_conf_defaults(&conf);
	snprintf(conf.io_port, sizeof(conf.io_port), "%s", t.fake.slave_path);
	return gw_io_new(t.loop, &conf, &ops, &t.io);
}

static int setup_v1(void **state)
{
	return setup(state, RINKI_REGMAP_VERSION);
}

static int setup_v2(void **state)
{
	return setup(state, RINKI_REGMAP_VERSION + 1);
}

static int teardown(void **state)
{
	(void)state;
	gw_io_free(t.io);
	gw_loop_free(t.loop);
	fake_stop(&t.fake);
	gw_log_set_sink(NULL, NULL);
	return 0;
}

static bool is_up(void)
{
	struct gw_io_status st;
	gw_io_status(t.io, &st);
	return st.up && !st.busy;
}

static bool is_down(void)
{
	return t.downs > 0;
}

static bool refusal_logged(void)
{
	return strstr(t.log, "refused PTT") != NULL;
}

static void test_error_codes(void **state)
{
	(void)state;
	assert_int_equal(gw_io_mb_error(EMBXILFUN), MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
	assert_int_equal(gw_io_mb_error(EMBXSFAIL), MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE);
	assert_int_equal(gw_io_mb_error(EMBXGTAR), MODBUS_EXCEPTION_GATEWAY_TARGET);
	assert_int_equal(gw_io_mb_error(EMBBADCRC), -EBADMSG);
	assert_int_equal(gw_io_mb_error(EMBBADSLAVE), -EPROTO);
	assert_int_equal(gw_io_mb_error(EMBMDATA), -EPROTO);
	assert_int_equal(gw_io_mb_error(ETIMEDOUT), -ETIMEDOUT);
	assert_int_equal(gw_io_mb_error(ENOENT), -ENOENT);
	assert_int_equal(gw_io_mb_error(0), -EIO);
	assert_string_equal(gw_io_strerror(0), "ok");
	assert_string_equal(gw_io_strerror(-ETIMEDOUT), strerror(ETIMEDOUT));
	assert_string_equal(gw_io_strerror(MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE),
			    modbus_strerror(EMBXSFAIL));
	assert_string_equal(gw_io_board_name(RINKI_BOARD_ID_QEMU_MPS2), "QEMU mps2-an385");
	assert_string_equal(gw_io_board_name(0x7777), "unknown");
}

static void test_empty_port(void **state)
{
	(void)state;
	struct gw_loop *loop = gw_loop_new();
	struct gw_conf conf;
	struct gw_io *io = NULL;
	static const struct gw_io_ops ops = {0};

	gw_conf_defaults(&conf);
	conf.io_port[0] = '\0';
	assert_int_equal(gw_io_new(loop, &conf, &ops, &io), -EINVAL);
	assert_null(io);
	gw_loop_free(loop);
}

/* Identity from the fake; a refused PTT is logged once, retried, and goes through later. */
static void test_ptt_refused_then_accepted(void **state)
{
	(void)state;
	struct gw_io_status st;

	assert_true(run_until(is_up, 3000));
	gw_io_status(t.io, &st);
	assert_int_equal(st.board_id, RINKI_BOARD_ID_REV_A);
	assert_int_equal(st.fw_major, 2);
	assert_int_equal(st.build_hash, 0xCAFEF00Du);
	assert_non_null(strstr(t.log, "rev A (id 0x0100)"));

	atomic_store(&t.fake.refuse_ptt, true);
	int w0 = atomic_load(&t.fake.ptt_writes);
	assert_int_equal(gw_io_set_ptt(t.io, true), 0);
	assert_true(run_until(refusal_logged, 2000));
	assert_true(run_until(is_up, 1000));
	/* Retried with the next polls, logged once. */
	int64_t end = now_ms() + 700;
	while (now_ms() < end)
		gw_loop_run_once(t.loop, 5);
	assert_true(atomic_load(&t.fake.ptt_writes) - w0 >= 3);
	const char *first = strstr(t.log, "refused PTT");
	assert_null(strstr(first + 1, "refused PTT"));
	gw_io_status(t.io, &st);
	assert_true(st.up);
	assert_int_equal(t.downs, 0);

	atomic_store(&t.fake.refuse_ptt, false);
	w0 = atomic_load(&t.fake.ptt_writes);
	end = now_ms() + 500;
	while (now_ms() < end)
		gw_loop_run_once(t.loop, 5);
	assert_non_null(strstr(t.log, "accepted PTT on"));
	assert_int_equal(t.fake.map->tab_bits[RINKI_COIL_PTT], 1);
	/* Accepted: not written again while unchanged. */
	assert_int_equal(atomic_load(&t.fake.ptt_writes) - w0, 1);
}

/* A board that stops answering is down after GW_IO_FAIL_LIMIT polls, and back when it answers. */
static void test_silent_board(void **state)
{
	(void)state;
	assert_true(run_until(is_up, 3000));
	atomic_store(&t.fake.silent, true);
	int64_t t0 = now_ms();
	assert_true(run_until(is_down, 3000));
	int64_t took = now_ms() - t0;
	/* Three polls, each GW_IO_RSP_TIMEOUT_MS, GW_IO_POLL_MS apart. */
	assert_in_range(took, 2 * GW_IO_POLL_MS, 4 * GW_IO_POLL_MS + 3 * GW_IO_RSP_TIMEOUT_MS);
	assert_non_null(strstr(t.log, "3 in a row"));
	assert_non_null(strstr(t.log, "ALARM"));
	assert_int_equal(gw_io_set_led(t.io, GW_IO_LED_FAULT, GW_IO_LED_ON), -ENOTCONN);

	atomic_store(&t.fake.silent, false);
	assert_true(run_until(is_up, 5000));
	assert_int_equal(t.ups, 2);
	/* The LED wanted while down was sent on reconnect. */
	int64_t end = now_ms() + 300;
	while (now_ms() < end)
		gw_loop_run_once(t.loop, 5);
	assert_int_equal(t.fake.map->tab_registers[RINKI_HREG_LED_FAULT], RINKI_LED_ON);
}

/* Another register map: the board is never reported up. */
static void test_regmap_mismatch(void **state)
{
	(void)state;
	int64_t end = now_ms() + 800;

	while (now_ms() < end)
		gw_loop_run_once(t.loop, 5);
	assert_int_equal(t.ups, 0);
	assert_non_null(strstr(t.log, "register map 2, rinkid speaks 1"));
	assert_null(strstr(t.log, "does not answer"));
	assert_int_equal(gw_io_set_ptt(t.io, true), -ENOTCONN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_codes),
	    cmocka_unit_test(test_empty_port),
	    cmocka_unit_test_setup_teardown(test_ptt_refused_then_accepted, setup_v1, teardown),
	    cmocka_unit_test_setup_teardown(test_silent_board, setup_v1, teardown),
	    cmocka_unit_test_setup_teardown(test_regmap_mismatch, setup_v2, teardown),
	};
	return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
