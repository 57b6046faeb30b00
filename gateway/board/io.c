/*
 * io: libmodbus RTU master to the I/O board, kept off the event loop by one helper thread.
 *
 * libmodbus transactions block until the reply or the response time-out. In the loop that would
 * stall every other fd for a whole poll each period (several ms on a 115200 wire even when the
 * board answers, and a response time-out per transaction while it is silent), which the page
 * latency and audio targets cannot afford. So a helper thread owns the modbus context and does
 * nothing but run jobs: JOB_CONNECT (open, probe the identity, then one poll) and JOB_POLL
 * (heartbeat write, pending PTT/LED writes, read all input registers and discrete inputs). The
 * loop side issues one job at a time through a mutex-guarded mailbox and gets its result
 * through an eventfd it polls. Everything else (poll timer, failure count, reconnect backoff,
 * logging, callbacks, status) runs in the loop thread; the helper thread never logs and never
 * touches loop state. Board silent for GW_IO_FAIL_LIMIT polls, or its port gone, means down:
 * alarm, callbacks, and reconnects with backoff, each reconnect on a fresh context.
 */
#include "board/io.h"

#include <errno.h>
#include <modbus.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define CONNECT_PROBES	10    /* identity reads tried at connect (pty bridges drop early bytes) */
#define ALARM_REPEAT_MS 60000 /* a board that stays silent is reported this often */
#define NUM_INPUTS	3     /* COR, spare 1, spare 2 */

enum job_kind { JOB_CONNECT, JOB_POLL };

struct job {
	enum job_kind kind;
	uint16_t heartbeat;
	bool write_ptt, ptt;
	bool write_leds;
	uint16_t led[GW_IO_LED_COUNT];
};

#define NOT_SENT (-ECANCELED) /* ptt_rc/led_rc of a write the job did not get to */

struct result {
	enum job_kind kind;
	int rc;		  /* first failed mandatory transaction: gw_io_mb_error() code, 0 ok */
	int raw_errno;	  /* errno libmodbus left, for its own message */
	const char *what; /* that transaction */
	int ptt_rc, led_rc;
	uint16_t ireg[RINKI_IREG_COUNT];
	uint8_t di[RINKI_DI_COUNT];
	uint32_t took_us;
};

struct gw_io {
	struct gw_loop *loop;
	struct gw_io_ops ops;
	char *path;
	int rsp_ms; /* conf io.timeout_ms: libmodbus response time-out; inter-byte a fifth */

	/* Mailbox between the loop and the helper thread: every field under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, job_ready, result_ready;
	struct job job;
	struct result result;
	int efd; /* the helper thread writes 1 per result */
	pthread_t thread;
	bool thread_started;

	/* Owned by the helper thread while it runs, by gw_io_free() after the join. */
	modbus_t *ctx;

	/* Loop side. */
	bool up, busy;
	struct job sent; /* the job in flight */
	bool ptt, ptt_dirty, leds_dirty;
	bool kick; /* the API changed an output while a job ran: send right after it */
	uint16_t heartbeat;
	int fails_in_row;
	int backoff_ms;
	int64_t down_since, last_alarm;
	bool down_logged, refusal_logged, safe_logged;
	uint16_t bad_regmap; /* register map of a board we refuse to drive, 0 none */
	uint16_t changes[NUM_INPUTS];
	struct gw_timer poll_timer, connect_timer;
	struct gw_io_status st;
};

/* --- errors -------------------------------------------------------------- */

int gw_io_mb_error(int err)
{
	if (err > MODBUS_ENOBASE && err < MODBUS_ENOBASE + MODBUS_EXCEPTION_MAX)
		return err - MODBUS_ENOBASE;
	switch (err) {
	case EMBBADCRC:
		return -EBADMSG;
	case EMBBADDATA:
	case EMBBADEXC:
	case EMBUNKEXC:
	case EMBMDATA:
	case EMBBADSLAVE:
		return -EPROTO;
	case 0:
		return -EIO;
	default:
		return err > 0 && err < MODBUS_ENOBASE ? -err : -EIO;
	}
}

const char *gw_io_strerror(int code)
{
	if (code == 0)
		return "ok";
	if (code > 0)
		return modbus_strerror(MODBUS_ENOBASE + code);
	return strerror(-code);
}

const char *gw_io_board_name(uint16_t id)
{
	switch (id) {
	case RINKI_BOARD_ID_QEMU_MPS2:
		return "QEMU mps2-an385";
	case RINKI_BOARD_ID_REV_A:
		return "rev A";
	default:
		return "unknown";
	}
}

/* The port itself is gone (unplugged adapter, closed pty bridge): no use waiting for more. */
static bool port_gone(int code)
{
	return code == -EIO || code == -ENXIO || code == -ENODEV || code == -EBADF ||
	       code == -ECONNRESET || code == -EPIPE;
}

/* --- helper thread: the only code that touches io->ctx ---------------------- */

static uint32_t elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t us =
	    (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint32_t)us;
}

/* Record a failed transaction; returns its code. Drops late bytes so the next reply lines up. */
static int fail(modbus_t *ctx, struct result *res, const char *what)
{
	res->raw_errno = errno;
	res->rc = gw_io_mb_error(errno);
	res->what = what;
	if (ctx)
		modbus_flush(ctx);
	return res->rc;
}

static bool stopping(struct gw_io *io)
{
	pthread_mutex_lock(&io->lock);
	bool stop = io->stop;
	pthread_mutex_unlock(&io->lock);
	return stop;
}

static void close_ctx(struct gw_io *io)
{
	if (!io->ctx)
		return;
	modbus_close(io->ctx);
	modbus_free(io->ctx);
	io->ctx = NULL;
}

/* Heartbeat first (the board refuses PTT until one), then the writes, then the reads. */
static void run_poll(struct gw_io *io, const struct job *job, struct result *res)
{
	modbus_t *ctx = io->ctx;

	if (modbus_write_register(ctx, RINKI_HREG_HEARTBEAT, job->heartbeat) != 1) {
		fail(ctx, res, "heartbeat write");
		return;
	}
	if (job->write_ptt) {
		if (modbus_write_bit(ctx, RINKI_COIL_PTT, job->ptt) == 1) {
			res->ptt_rc = 0;
		} else {
			res->ptt_rc = gw_io_mb_error(errno);
			if (res->ptt_rc < 0) {
				fail(ctx, res, "PTT write");
				return;
			}
		}
	}
	if (job->write_leds) {
		if (modbus_write_registers(ctx, RINKI_HREG_LED_RADIO_OK, GW_IO_LED_COUNT,
					   job->led) == GW_IO_LED_COUNT) {
			res->led_rc = 0;
		} else {
			res->led_rc = gw_io_mb_error(errno);
			if (res->led_rc < 0) {
				fail(ctx, res, "LED write");
				return;
			}
		}
	}
	if (modbus_read_input_registers(ctx, 0, RINKI_IREG_COUNT, res->ireg) != RINKI_IREG_COUNT) {
		fail(ctx, res, "status read");
		return;
	}
	if (modbus_read_input_bits(ctx, 0, RINKI_DI_COUNT, res->di) != RINKI_DI_COUNT)
		fail(ctx, res, "input read");
}

static void run_connect(struct gw_io *io, const struct job *job, struct result *res)
{
	uint16_t id;

	close_ctx(io);
	io->ctx = modbus_new_rtu(io->path, GW_IO_BAUD, 'N', 8, 1);
	if (!io->ctx) {
		fail(NULL, res, "modbus_new_rtu");
		return;
	}
	modbus_set_slave(io->ctx, RINKI_SLAVE_ADDR_DEFAULT);
	modbus_set_response_timeout(io->ctx, (uint32_t)io->rsp_ms / 1000,
				    (uint32_t)io->rsp_ms % 1000 * 1000);
	uint32_t byte_ms = (uint32_t)io->rsp_ms / 5;
	modbus_set_byte_timeout(io->ctx, byte_ms / 1000, byte_ms % 1000 * 1000);
	if (modbus_connect(io->ctx) != 0) {
		fail(NULL, res, "open");
		close_ctx(io);
		return;
	}
	/* A pty bridge may swallow the first request; stale replies are flushed after. */
	for (int i = 0;; i++) {
		if (modbus_read_input_registers(io->ctx, RINKI_IREG_BOARD_ID, 1, &id) == 1)
			break;
		if (i + 1 == CONNECT_PROBES || stopping(io)) {
			fail(io->ctx, res, "identity probe");
			close_ctx(io);
			return;
		}
	}
	modbus_flush(io->ctx);
	run_poll(io, job, res);
	if (res->rc)
		close_ctx(io);
}

static void run_job(struct gw_io *io, const struct job *job, struct result *res)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	*res = (struct result){.kind = job->kind};
	res->ptt_rc = job->write_ptt ? NOT_SENT : 0;
	res->led_rc = job->write_leds ? NOT_SENT : 0;
	if (job->kind == JOB_CONNECT)
		run_connect(io, job, res);
	else if (io->ctx)
		run_poll(io, job, res);
	else
		*res = (struct result){
		    .kind = job->kind, .rc = -ENOTCONN, .raw_errno = ENOTCONN, .what = "poll"};
	res->took_us = elapsed_us(&t0);
}

static void *worker_main(void *arg)
{
	struct gw_io *io = arg;

	pthread_mutex_lock(&io->lock);
	while (!io->stop) {
		if (!io->job_ready) {
			pthread_cond_wait(&io->cond, &io->lock);
			continue;
		}
		struct job job = io->job;
		io->job_ready = false;
		pthread_mutex_unlock(&io->lock);

		struct result res;
		run_job(io, &job, &res);

		pthread_mutex_lock(&io->lock);
		io->result = res;
		io->result_ready = true;
		pthread_mutex_unlock(&io->lock);
		uint64_t one = 1;
		/* Cannot block: the counter holds at most a few results. */
		if (write(io->efd, &one, sizeof(one)) < 0)
			abort();
		pthread_mutex_lock(&io->lock);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

/* --- loop side -------------------------------------------------------------- */

static void issue(struct gw_io *io, enum job_kind kind)
{
	struct job job = {.kind = kind, .heartbeat = ++io->heartbeat};

	if (io->ptt_dirty) {
		job.write_ptt = true;
		job.ptt = io->ptt;
		io->ptt_dirty = false;
	}
	if (io->leds_dirty) {
		job.write_leds = true;
		for (int i = 0; i < GW_IO_LED_COUNT; i++)
			job.led[i] = io->st.led[i];
		io->leds_dirty = false;
	}
	io->sent = job;
	io->busy = true;
	io->kick = false;
	pthread_mutex_lock(&io->lock);
	io->job = job;
	io->job_ready = true;
	pthread_cond_signal(&io->cond);
	pthread_mutex_unlock(&io->lock);
}

/* Writes the job carried but did not complete (or the board refused) go with the next poll. */
static void requeue_writes(struct gw_io *io, const struct result *res)
{
	if (io->sent.write_ptt && res->ptt_rc != 0)
		io->ptt_dirty = true;
	if (io->sent.write_leds && res->led_rc < 0)
		io->leds_dirty = true;
}

static void schedule_connect(struct gw_io *io)
{
	gw_timer_schedule(io->loop, &io->connect_timer, io->backoff_ms);
	io->backoff_ms *= 2;
	if (io->backoff_ms > GW_IO_BACKOFF_MAX_MS)
		io->backoff_ms = GW_IO_BACKOFF_MAX_MS;
}

/* Input events collected while a result is applied, delivered after the state is consistent. */
struct events {
	int n;
	struct {
		int input;
		bool on;
	} ev[2 * NUM_INPUTS + 1];
	int ready; /* -1 none, 0 down, 1 up */
};

static void add_event(struct events *e, int input, bool on)
{
	e->ev[e->n].input = input;
	e->ev[e->n].on = on;
	e->n++;
}

static bool *input_level(struct gw_io *io, int input)
{
	return input == 0 ? &io->st.squelch : &io->st.spare[input - 1];
}

static const char *input_name(int input)
{
	static const char *const names[NUM_INPUTS] = {"squelch", "spare input 1", "spare input 2"};
	return names[input];
}

/*
 * One input from one poll: level plus the board's change counter. A level change is one event;
 * the same level with two or more new edges is a pulse that fell between polls.
 */
static void update_input(struct gw_io *io, struct events *e, int input, bool level,
			 uint16_t changes, bool baseline)
{
	bool *cur = input_level(io, input);
	uint16_t edges = (uint16_t)(changes - io->changes[input]);

	io->changes[input] = changes;
	if (level != *cur) {
		*cur = level;
		add_event(e, input, level);
	} else if (baseline && edges >= 2) {
		LOGP(GW_LOG_IO, GW_LOG_INFO, "%s pulsed between polls (%u edges)",
		     input_name(input), edges);
		add_event(e, input, !level);
		add_event(e, input, level);
	}
}

static void deliver(struct gw_io *io, const struct events *e)
{
	if (e->ready >= 0 && io->ops.ready)
		io->ops.ready(io->ops.arg, e->ready);
	for (int i = 0; i < e->n; i++) {
		int in = e->ev[i].input;
		bool on = e->ev[i].on;
		LOGP(GW_LOG_IO, GW_LOG_INFO, "%s %s", input_name(in),
		     in == 0 ? (on ? "open" : "closed") : (on ? "on" : "off"));
		if (in == 0 && io->ops.squelch)
			io->ops.squelch(io->ops.arg, on);
		else if (in > 0 && io->ops.spare)
			io->ops.spare(io->ops.arg, in, on);
	}
}

static void go_down(struct gw_io *io, const struct result *res, struct events *e)
{
	int64_t now = gw_loop_now_ms(io->loop);

	io->up = false;
	io->st.up = false;
	gw_timer_cancel(io->loop, &io->poll_timer);
	io->backoff_ms = GW_IO_BACKOFF_MIN_MS;
	io->down_since = now;
	io->last_alarm = now;
	io->down_logged = true;
	LOGP(GW_LOG_IO, GW_LOG_ERROR,
	     "ALARM: I/O board on %s silent (%s: %s, %d failed polls): PTT, squelch and LEDs "
	     "unavailable, reconnecting",
	     io->path, res->what, modbus_strerror(res->raw_errno), io->fails_in_row);
	/* What can no longer be seen is reported inactive. */
	for (int i = 0; i < NUM_INPUTS; i++) {
		if (*input_level(io, i)) {
			*input_level(io, i) = false;
			add_event(e, i, false);
		}
	}
	e->ready = 0;
	schedule_connect(io);
}

static void log_counter(uint16_t now, uint16_t before, const char *what)
{
	uint16_t d = (uint16_t)(now - before);

	if (d)
		LOGP(GW_LOG_IO, GW_LOG_WARN, "I/O board: %u new %s (%u in all)", d, what, now);
}

/* Apply an answered poll (also the one that ends a connect). */
static void take_poll(struct gw_io *io, const struct result *res, bool connected, struct events *e)
{
	const uint16_t *r = res->ireg;
	struct gw_io_status *st = &io->st;
	uint16_t boots = r[RINKI_IREG_BOOT_COUNT];
	uint32_t uptime = (uint32_t)r[RINKI_IREG_UPTIME_HI] << 16 | r[RINKI_IREG_UPTIME_LO];
	bool baseline = !connected;

	if (!connected && (boots != st->boot_count || uptime < st->uptime_s)) {
		LOGP(
		    GW_LOG_IO, GW_LOG_WARN,
		    "I/O board restarted (boot count %u, watchdog resets %u%s): outputs sent again",
		    boots, r[RINKI_IREG_WDT_RESETS],
		    r[RINKI_IREG_STATUS] & RINKI_STATUS_WDT_RESET ? ", by its watchdog" : "");
		io->ptt_dirty = io->leds_dirty = true;
		baseline = false;
	} else if (!connected) {
		log_counter(r[RINKI_IREG_PTT_TIMEOUTS], st->ptt_timeouts,
			    "PTT time-outs (the board ended keying)");
		log_counter(r[RINKI_IREG_HB_LOSSES], st->hb_losses, "heartbeat losses");
		log_counter(r[RINKI_IREG_CRC_ERRORS], st->crc_errors, "CRC errors");
		log_counter(r[RINKI_IREG_FRAME_ERRORS], st->frame_errors, "frame errors");
	}
	bool safe = r[RINKI_IREG_STATUS] & RINKI_STATUS_SAFE;
	if (safe && !io->safe_logged)
		LOGP(GW_LOG_IO, GW_LOG_WARN, "I/O board in safe state right after a heartbeat");
	io->safe_logged = safe;

	st->board_id = r[RINKI_IREG_BOARD_ID];
	st->fw_major = r[RINKI_IREG_FW_MAJOR];
	st->fw_minor = r[RINKI_IREG_FW_MINOR];
	st->fw_patch = r[RINKI_IREG_FW_PATCH];
	st->build_hash = (uint32_t)r[RINKI_IREG_BUILD_HASH_HI] << 16 | r[RINKI_IREG_BUILD_HASH_LO];
	st->regmap_version = r[RINKI_IREG_REGMAP_VERSION];
	st->status = r[RINKI_IREG_STATUS];
	st->uptime_s = uptime;
	st->boot_count = boots;
	st->wdt_resets = r[RINKI_IREG_WDT_RESETS];
	st->ptt_timeouts = r[RINKI_IREG_PTT_TIMEOUTS];
	st->hb_losses = r[RINKI_IREG_HB_LOSSES];
	st->crc_errors = r[RINKI_IREG_CRC_ERRORS];
	st->frame_errors = r[RINKI_IREG_FRAME_ERRORS];
	st->polls++;
	st->last_ok_ms = gw_loop_now_ms(io->loop);
	st->poll_us_last = res->took_us;
	if (res->took_us > st->poll_us_max)
		st->poll_us_max = res->took_us;

	if (io->sent.write_ptt && res->ptt_rc > 0) {
		if (!io->refusal_logged)
			LOGP(GW_LOG_IO, GW_LOG_WARN, "I/O board refused PTT %s: %s; retrying",
			     io->sent.ptt ? "on" : "off", gw_io_strerror(res->ptt_rc));
		io->refusal_logged = true;
	} else if (io->sent.write_ptt && res->ptt_rc == 0) {
		if (io->refusal_logged)
			LOGP(GW_LOG_IO, GW_LOG_NOTICE, "I/O board accepted PTT %s",
			     io->sent.ptt ? "on" : "off");
		io->refusal_logged = false;
	}
	if (io->sent.write_leds && res->led_rc > 0)
		LOGP(GW_LOG_IO, GW_LOG_ERROR, "I/O board refused the LED patterns: %s",
		     gw_io_strerror(res->led_rc));

	update_input(io, e, 0, r[RINKI_IREG_STATUS] & RINKI_STATUS_COR, r[RINKI_IREG_COR_CHANGES],
		     baseline);
	update_input(io, e, 1, res->di[RINKI_DI_SPARE1], r[RINKI_IREG_SPARE1_CHANGES], baseline);
	update_input(io, e, 2, res->di[RINKI_DI_SPARE2], r[RINKI_IREG_SPARE2_CHANGES], baseline);
}

static void connect_done(struct gw_io *io, const struct result *res, struct events *e)
{
	int64_t now = gw_loop_now_ms(io->loop);
	uint16_t regmap = res->ireg[RINKI_IREG_REGMAP_VERSION];
	int rc = res->rc;

	if (rc == 0 && regmap != RINKI_REGMAP_VERSION) {
		if (regmap != io->bad_regmap)
			LOGP(GW_LOG_IO, GW_LOG_ERROR,
			     "ALARM: I/O board on %s has register map %u, rinkid speaks %u: not "
			     "driving it",
			     io->path, regmap, RINKI_REGMAP_VERSION);
		io->bad_regmap = regmap;
		io->st.last_error = -EPROTO;
		io->down_logged = true;
		io->ptt_dirty = io->leds_dirty = true;
		io->backoff_ms = GW_IO_BACKOFF_MAX_MS;
		schedule_connect(io);
		return;
	}
	io->bad_regmap = 0;
	if (rc != 0) {
		io->st.last_error = rc;
		if (!io->down_logged) {
			LOGP(GW_LOG_IO, GW_LOG_ERROR,
			     "ALARM: I/O board on %s does not answer (%s: %s): retrying", io->path,
			     res->what ? res->what : "connect", modbus_strerror(res->raw_errno));
			io->down_logged = true;
			io->down_since = io->last_alarm = now;
		} else if (now - io->last_alarm >= ALARM_REPEAT_MS) {
			LOGP(GW_LOG_IO, GW_LOG_ERROR,
			     "ALARM: I/O board on %s silent for %lld s (%s)", io->path,
			     (long long)(now - io->down_since) / 1000,
			     modbus_strerror(res->raw_errno));
			io->last_alarm = now;
		} else {
			LOGP(GW_LOG_IO, GW_LOG_DEBUG, "connect to %s: %s: %s", io->path,
			     res->what ? res->what : "connect", modbus_strerror(res->raw_errno));
		}
		io->ptt_dirty = io->leds_dirty = true;
		schedule_connect(io);
		return;
	}
	io->up = true;
	io->st.up = true;
	io->fails_in_row = 0;
	io->backoff_ms = GW_IO_BACKOFF_MIN_MS;
	io->down_logged = false;
	io->refusal_logged = false;
	requeue_writes(io, res);
	take_poll(io, res, true, e);
	LOGP(GW_LOG_IO, GW_LOG_NOTICE,
	     "I/O board up on %s: %s (id 0x%04x), firmware %u.%u.%u build %08x, register map %u, "
	     "boot count %u, watchdog resets %u, up %u s",
	     io->path, gw_io_board_name(io->st.board_id), io->st.board_id, io->st.fw_major,
	     io->st.fw_minor, io->st.fw_patch, (unsigned)io->st.build_hash, io->st.regmap_version,
	     io->st.boot_count, io->st.wdt_resets, (unsigned)io->st.uptime_s);
	e->ready = 1;
	gw_timer_schedule(io->loop, &io->poll_timer, GW_IO_POLL_MS);
}

static void poll_done(struct gw_io *io, const struct result *res, struct events *e)
{
	requeue_writes(io, res);
	if (!io->up)
		return;
	if (res->rc == 0) {
		io->fails_in_row = 0;
		take_poll(io, res, false, e);
		return;
	}
	io->st.failures++;
	io->st.last_error = res->rc;
	io->fails_in_row++;
	LOGP(GW_LOG_IO, GW_LOG_WARN, "I/O board poll failed (%s: %s), %d in a row", res->what,
	     modbus_strerror(res->raw_errno), io->fails_in_row);
	if (io->fails_in_row >= GW_IO_FAIL_LIMIT || port_gone(res->rc))
		go_down(io, res, e);
}

static void on_result(struct gw_loop *loop, int fd, short revents, void *arg)
{
	struct gw_io *io = arg;
	struct events e = {.ready = -1};
	struct result res;
	uint64_t n;

	(void)loop;
	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		LOGP(GW_LOG_IO, GW_LOG_ERROR, "eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&io->lock);
	bool ready = io->result_ready;
	if (ready)
		res = io->result;
	io->result_ready = false;
	pthread_mutex_unlock(&io->lock);
	if (!ready)
		return;
	io->busy = false;
	if (res.kind == JOB_CONNECT)
		connect_done(io, &res, &e);
	else
		poll_done(io, &res, &e);
	if (io->up && io->kick)
		issue(io, JOB_POLL);
	deliver(io, &e);
}

static void on_poll_timer(struct gw_loop *loop, void *arg)
{
	struct gw_io *io = arg;

	gw_timer_schedule(loop, &io->poll_timer, GW_IO_POLL_MS);
	if (io->busy) {
		LOGP(GW_LOG_IO, GW_LOG_DEBUG, "poll skipped: the last one is still running");
		return;
	}
	issue(io, JOB_POLL);
}

static void on_connect_timer(struct gw_loop *loop, void *arg)
{
	struct gw_io *io = arg;

	if (io->busy) {
		gw_timer_schedule(loop, &io->connect_timer, GW_IO_POLL_MS);
		return;
	}
	issue(io, JOB_CONNECT);
}

/* --- API ---------------------------------------------------------------------- */

int gw_io_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_io_ops *ops,
	      struct gw_io **out)
{
	if (!conf->io_port[0])
		return -EINVAL;
	struct gw_io *io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->loop = loop;
	io->ops = *ops;
	io->efd = -1;
	io->backoff_ms = GW_IO_BACKOFF_MIN_MS;
	io->ptt_dirty = io->leds_dirty = true; /* sent with the first poll */
	gw_timer_init(&io->poll_timer, on_poll_timer, io);
	gw_timer_init(&io->connect_timer, on_connect_timer, io);
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->cond, NULL);

	int rc = -ENOMEM;
	io->path = strdup(conf->io_port);
	io->rsp_ms = conf->io_timeout_ms > 0 ? conf->io_timeout_ms : GW_IO_RSP_TIMEOUT_MS;
	if (!io->path)
		goto fail;
	io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->efd < 0) {
		rc = -errno;
		LOGP(GW_LOG_IO, GW_LOG_ERROR, "eventfd: %s", strerror(errno));
		goto fail;
	}
	rc = gw_loop_add_fd(loop, io->efd, POLLIN, on_result, io);
	if (rc < 0)
		goto fail;

	/* The thread takes no signals: they belong to the loop's signalfd. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&io->thread, NULL, worker_main, io);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		rc = -err;
		LOGP(GW_LOG_IO, GW_LOG_ERROR, "I/O thread: %s", strerror(err));
		goto fail;
	}
	io->thread_started = true;
	issue(io, JOB_CONNECT);
	*out = io;
	return 0;
fail:
	gw_io_free(io);
	return rc;
}

void gw_io_free(struct gw_io *io)
{
	if (!io)
		return;
	if (io->thread_started) {
		pthread_mutex_lock(&io->lock);
		io->stop = true;
		pthread_cond_signal(&io->cond);
		pthread_mutex_unlock(&io->lock);
		pthread_join(io->thread, NULL);
	}
	/* The thread is gone: the context is ours. Leave the radio unkeyed. */
	if (io->ctx && io->up && (io->ptt || (io->st.status & RINKI_STATUS_PTT))) {
		if (modbus_write_bit(io->ctx, RINKI_COIL_PTT, 0) != 1)
			LOGP(GW_LOG_IO, GW_LOG_WARN, "PTT release at exit: %s",
			     modbus_strerror(errno));
	}
	close_ctx(io);
	gw_timer_cancel(io->loop, &io->poll_timer);
	gw_timer_cancel(io->loop, &io->connect_timer);
	if (io->efd >= 0) {
		gw_loop_del_fd(io->loop, io->efd);
		close(io->efd);
	}
	pthread_cond_destroy(&io->cond);
	pthread_mutex_destroy(&io->lock);
	free(io->path);
	free(io);
}

/* An output changed: a poll now, or right after the running one. */
static int send_now(struct gw_io *io, bool changed)
{
	if (!io->up)
		return -ENOTCONN;
	if (changed && io->busy)
		io->kick = true;
	else if (changed)
		issue(io, JOB_POLL);
	return 0;
}

int gw_io_set_ptt(struct gw_io *io, bool on)
{
	bool board = io->st.status & RINKI_STATUS_PTT;

	io->st.ptt_wanted = on;
	if (on != io->ptt || on != board) {
		io->ptt = on;
		io->ptt_dirty = true;
	}
	return send_now(io, io->ptt_dirty);
}

int gw_io_set_led(struct gw_io *io, enum gw_io_led led, enum gw_io_led_pattern pattern)
{
	if ((unsigned)led >= GW_IO_LED_COUNT || (unsigned)pattern > RINKI_LED_MAX)
		return -EINVAL;
	if (io->st.led[led] != pattern) {
		io->st.led[led] = (uint8_t)pattern;
		io->leds_dirty = true;
	}
	return send_now(io, io->leds_dirty);
}

int gw_io_status(const struct gw_io *io, struct gw_io_status *out)
{
	*out = io->st;
	out->up = io->up;
	out->busy = io->busy;
	return 0;
}
