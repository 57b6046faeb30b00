/*
 * pcm_vcard: an ALSA external I/O plugin ("type vcard") that behaves like a sound card
 * for tests and benchmarks on machines without sound hardware.
 *
 * A free-running "DMA" clock moves the hardware pointer from CLOCK_MONOTONIC: after
 * start, hw = floor(elapsed * rate * speed * (1 + ppm/1e6)), rounded down to a tick
 * of tick_us (default 1 ms, like USB audio; 0 = whole periods). One thread per
 * stream wakes at every tick and moves samples between a private ring and a FIFO:
 * capture reads what the test wrote into capture_fifo (silence when it is empty),
 * playback writes the frames the virtual DAC has just played into playback_fifo.
 * Every application call (pointer, poll_revents) first catches the clock up under
 * the same lock, so positions never depend on when the thread ran.
 *
 * Xruns follow the kernel: playback stops with -EPIPE when hw reaches appl (except
 * while draining), capture when hw - appl reaches the buffer size; prepare resets,
 * so snd_pcm_recover() works. The poll descriptor is a timerfd armed for the moment
 * avail reaches avail_min (or at once after an xrun), so poll() sleeps like on a
 * card and POLLIN/POLLOUT are level-triggered through poll_revents.
 *
 * Manual pacing (option clock, the path of a tools/alsa/vcard_clock.h file): the clock is
 * not CLOCK_MONOTONIC but the time in that file, which the test moves forward. The thread
 * then waits on the file's sequence futex instead of sleeping to the next tick; at every
 * advance it moves the "DMA" to the new time, marks the stream caught up in its slot and
 * wakes the test. The poll descriptor is an eventfd, set while avail >= avail_min at the
 * file's time. So positions, xruns and latencies follow the test's steps exactly.
 *
 * Options: capture_fifo, playback_fifo (paths, FIFOs opened O_RDWR|O_NONBLOCK),
 * ppm (clock skew), speed (time compression for long drift tests), tick_us, clock (""
 * or absent: CLOCK_MONOTONIC), debug.
 * Build: see tools/alsa/alsa.mk (-fPIC -DPIC -shared, named libasound_module_pcm_vcard.so).
 */
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vcard_clock.h"

#define NS 1000000000ULL

struct vcard {
	snd_pcm_ioplug_t io;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_ok, quit, running, xrun;
	int tfd, fifo;
	double ppm, speed;
	long tick_us;
	int debug;
	uint64_t fnum; /* clock factor speed * (1 + ppm/1e6), scaled by 1e9 */
	/* from hw_params / sw_params */
	unsigned int rate;
	uint64_t buffer, period, avail_min, granule;
	int16_t *ring;
	/* since the last prepare */
	uint64_t t0;	   /* start time, ns */
	uint64_t hw, appl; /* frames moved by the "DMA" / by the application */
	bool have_odd;	   /* capture: first byte of a sample split by the FIFO */
	uint8_t odd;
	uint64_t lost; /* playback frames the FIFO had no room for */
	/* manual pacing: the shared clock, this stream's slot in it, the poll eventfd's state */
	struct vc_clock *clk;
	int slot;
	bool signaled;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void dbg(struct vcard *vc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dbg(struct vcard *vc, const char *fmt, ...)
{
	if (!vc->debug)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vcard %s %.3f: ", vc->io.stream == SND_PCM_STREAM_CAPTURE ? "cap" : "play",
		(double)(now_ns() % (1000 * NS)) / 1e9);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The card's time: the test's clock file in manual pacing, else CLOCK_MONOTONIC. */
static uint64_t card_now(const struct vcard *vc)
{
	if (vc->clk)
		return __atomic_load_n(&vc->clk->now_ns, __ATOMIC_ACQUIRE);
	return now_ns();
}

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/* Frames the card has moved at time t, rounded down to a whole tick. */
static uint64_t frames_at(const struct vcard *vc, uint64_t t)
{
	if (t <= vc->t0)
		return 0;
	unsigned __int128 f = (unsigned __int128)(t - vc->t0) * vc->rate * vc->fnum;
	uint64_t frames = (uint64_t)(f / ((unsigned __int128)NS * NS));
	return frames - frames % vc->granule;
}

/* The earliest time at which frames_at() reaches frames. */
static uint64_t time_at(const struct vcard *vc, uint64_t frames)
{
	frames = (frames + vc->granule - 1) / vc->granule * vc->granule;
	unsigned __int128 num = (unsigned __int128)frames * NS * NS;
	unsigned __int128 den = (unsigned __int128)vc->rate * vc->fnum;
	return vc->t0 + (uint64_t)((num + den - 1) / den);
}

/* Capture: fill n frames at dst from the FIFO; whatever it lacks is silence. */
static void fifo_read(struct vcard *vc, int16_t *dst, uint64_t n)
{
	uint8_t *p = (uint8_t *)dst;
	size_t want = (size_t)n * 2, got = 0;
	if (vc->have_odd) {
		p[got++] = vc->odd;
		vc->have_odd = false;
	}
	while (got < want) {
		ssize_t r = read(vc->fifo, p + got, want - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got % 2 && got < want) {
		/* A sample split across writes: keep its first byte for the next tick. */
		vc->odd = p[--got];
		vc->have_odd = true;
	}
	memset(p + got, 0, want - got);
}

static void fifo_write(struct vcard *vc, const int16_t *src, uint64_t n)
{
	ssize_t w = write(vc->fifo, src, (size_t)n * 2);
	if (w < (ssize_t)(n * 2))
		vc->lost += n - (w > 0 ? (uint64_t)w / 2 : 0);
}

/* Move the "DMA" up to time t. Called with the lock held. */
static void advance(struct vcard *vc, uint64_t t)
{
	if (!vc->running || vc->xrun)
		return;
	uint64_t target = frames_at(vc, t);
	if (target <= vc->hw)
		return;
	if (vc->io.stream == SND_PCM_STREAM_CAPTURE) {
		while (vc->hw < target) {
			uint64_t off = vc->hw % vc->buffer;
			uint64_t n = target - vc->hw;
			if (n > vc->buffer - off)
				n = vc->buffer - off;
			fifo_read(vc, vc->ring + off, n);
			vc->hw += n;
		}
		if (vc->hw - vc->appl >= vc->buffer) {
			vc->xrun = true;
			dbg(vc, "overrun hw %llu appl %llu", (unsigned long long)vc->hw,
			    (unsigned long long)vc->appl);
		}
		return;
	}
	bool draining = vc->io.state == SND_PCM_STATE_DRAINING;
	uint64_t end = target < vc->appl ? target : vc->appl;
	while (vc->hw < end) {
		uint64_t off = vc->hw % vc->buffer;
		uint64_t n = end - vc->hw;
		if (n > vc->buffer - off)
			n = vc->buffer - off;
		fifo_write(vc, vc->ring + off, n);
		vc->hw += n;
	}
	if (target >= vc->appl && !draining) {
		vc->xrun = true;
		dbg(vc, "underrun hw %llu appl %llu", (unsigned long long)vc->hw,
		    (unsigned long long)vc->appl);
	}
}

static uint64_t avail(const struct vcard *vc)
{
	if (vc->io.stream == SND_PCM_STREAM_CAPTURE)
		return vc->hw - vc->appl;
	return vc->buffer - (vc->appl - vc->hw);
}

static void arm_at(struct vcard *vc, uint64_t t)
{
	if (vc->clk) { /* the eventfd is set exactly while t has come on the test's clock */
		uint64_t v = 1;
		if (t && t <= card_now(vc)) {
			if (!vc->signaled && write(vc->tfd, &v, sizeof(v)) == sizeof(v))
				vc->signaled = true;
		} else if (vc->signaled) {
			if (read(vc->tfd, &v, sizeof(v)) < 0) {
				/* already clear */
			}
			vc->signaled = false;
		}
		return;
	}
	struct itimerspec its = {0};
	if (t) {
		its.it_value.tv_sec = (time_t)(t / NS);
		its.it_value.tv_nsec = (long)(t % NS);
	}
	timerfd_settime(vc->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * Arm the poll timer for the moment avail reaches avail_min (time 1 ns = already
 * past = readable now; 0 = disarmed). Called with the lock held (by the app, or the manual clock
 * thread).
 */
static void rearm(struct vcard *vc)
{
	if (vc->xrun) {
		arm_at(vc, 1);
		return;
	}
	if (!vc->running) {
		bool ready = vc->io.stream == SND_PCM_STREAM_PLAYBACK && vc->buffer &&
			     avail(vc) >= vc->avail_min;
		arm_at(vc, ready ? 1 : 0);
		return;
	}
	uint64_t need;
	if (vc->io.stream == SND_PCM_STREAM_CAPTURE)
		need = vc->appl + vc->avail_min;
	else if (vc->appl + vc->avail_min <= vc->buffer)
		need = 0;
	else
		need = vc->appl + vc->avail_min - vc->buffer;
	arm_at(vc, vc->hw >= need ? 1 : time_at(vc, need));
}

/*
 * Manual pacing: publish whether the application is behind (vcard_clock.h, slot busy) and
 * wake a pacer waiting for that to clear. A playback's poll state says nothing (an
 * application need not poll it), its fill does. Called with the lock held, after rearm().
 */
static void publish_busy(struct vcard *vc)
{
	if (!vc->clk || vc->slot < 0)
		return;
	bool busy;
	if (vc->io.stream == SND_PCM_STREAM_CAPTURE)
		busy = vc->signaled;
	else
		busy = vc->running && !vc->xrun && vc->io.state != SND_PCM_STATE_DRAINING &&
		       vc->appl - vc->hw < 2 * vc->granule;
	struct vc_clock_slot *slot = &vc->clk->slot[vc->slot];
	if (__atomic_exchange_n(&slot->busy, busy, __ATOMIC_ACQ_REL) && !busy) {
		__atomic_add_fetch(&vc->clk->acks, 1, __ATOMIC_ACQ_REL);
		futex(&vc->clk->acks, FUTEX_WAKE, INT_MAX, NULL);
	}
}

static void *dma_thread(void *arg)
{
	struct vcard *vc = arg;
	pthread_mutex_lock(&vc->lock);
	while (!vc->quit) {
		if (!vc->running || vc->xrun) {
			pthread_cond_wait(&vc->cond, &vc->lock);
			continue;
		}
		uint64_t next = time_at(vc, vc->hw + vc->granule);
		pthread_mutex_unlock(&vc->lock);
		struct timespec ts = {.tv_sec = (time_t)(next / NS), .tv_nsec = (long)(next % NS)};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		pthread_mutex_lock(&vc->lock);
		advance(vc, now_ns());
	}
	pthread_mutex_unlock(&vc->lock);
	return NULL;
}

/*
 * Manual pacing: at every advance of the test's clock, move the "DMA" to the new time, set
 * or clear the poll eventfd, then tell the test this stream has caught up (its slot's seen,
 * the acks futex). The 100 ms time-out only lets close() be noticed.
 */
static void *clock_thread(void *arg)
{
	struct vcard *vc = arg;
	struct vc_clock *clk = vc->clk;
	struct vc_clock_slot *slot = &clk->slot[vc->slot];
	pthread_mutex_lock(&vc->lock);
	while (!vc->quit) {
		uint32_t seq = __atomic_load_n(&clk->seq, __ATOMIC_ACQUIRE);
		advance(vc, card_now(vc));
		rearm(vc);
		publish_busy(vc);
		__atomic_store_n(&slot->seen, seq, __ATOMIC_RELEASE);
		__atomic_add_fetch(&clk->acks, 1, __ATOMIC_ACQ_REL);
		futex(&clk->acks, FUTEX_WAKE, INT_MAX, NULL);
		pthread_mutex_unlock(&vc->lock);
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
		futex(&clk->seq, FUTEX_WAIT, seq, &ts);
		pthread_mutex_lock(&vc->lock);
	}
	pthread_mutex_unlock(&vc->lock);
	return NULL;
}

static int vc_start(snd_pcm_ioplug_t *io)
{
	struct vcard *vc = io->private_data;
	pthread_mutex_lock(&vc->lock);
	if (io->stream == SND_PCM_STREAM_CAPTURE) {
		/* Sound that reached the card before it ran is gone, as on a real ADC. */
		char junk[4096];
		while (read(vc->fifo, junk, sizeof(junk)) > 0)
			;
		vc->have_odd = false;
	}
	vc->t0 = card_now(vc);
	vc->hw = 0;
	vc->running = true;
	vc->xrun = false;
	rearm(vc);
	publish_busy(vc);
	pthread_cond_signal(&vc->cond);
	pthread_mutex_unlock(&vc->lock);
	dbg(vc, "start, appl %llu", (unsigned long long)vc->appl);
	return 0;
}

static int vc_stop(snd_pcm_ioplug_t *io)
{
	struct vcard *vc = io->private_data;
	pthread_mutex_lock(&vc->lock);
	vc->running = false;
	rearm(vc);
	publish_busy(vc);
	pthread_mutex_unlock(&vc->lock);
	dbg(vc, "stop");
	return 0;
}

static snd_pcm_sframes_t vc_pointer(snd_pcm_ioplug_t *io)
{
	struct vcard *vc = io->private_data;
	snd_pcm_sframes_t pos;
	pthread_mutex_lock(&vc->lock);
	advance(vc, card_now(vc));
	pos = vc->xrun ? -EPIPE : (snd_pcm_sframes_t)(vc->hw % vc->buffer);
	pthread_mutex_unlock(&vc->lock);
	return pos;
}

static snd_pcm_sframes_t vc_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
				     snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct vcard *vc = io->private_data;
	/* S16_LE mono interleaved only (hw constraints): the area is a plain sample array. */
	int16_t *buf = (int16_t *)((char *)areas->addr + areas->first / 8) + offset;
	pthread_mutex_lock(&vc->lock);
	uint64_t off = vc->appl % vc->buffer;
	if (size > vc->buffer - off)
		size = vc->buffer - off;
	if (io->stream == SND_PCM_STREAM_PLAYBACK)
		memcpy(vc->ring + off, buf, size * 2);
	else
		memcpy(buf, vc->ring + off, size * 2);
	vc->appl += size;
	rearm(vc);
	publish_busy(vc);
	pthread_mutex_unlock(&vc->lock);
	return (snd_pcm_sframes_t)size;
}

static int vc_prepare(snd_pcm_ioplug_t *io)
{
	struct vcard *vc = io->private_data;
	pthread_mutex_lock(&vc->lock);
	vc->running = false;
	vc->xrun = false;
	vc->hw = vc->appl = 0;
	vc->have_odd = false;
	rearm(vc);
	publish_busy(vc);
	pthread_mutex_unlock(&vc->lock);
	return 0;
}

static int vc_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
	struct vcard *vc = io->private_data;
	(void)params;
	int16_t *ring = calloc(io->buffer_size, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	pthread_mutex_lock(&vc->lock);
	free(vc->ring);
	vc->ring = ring;
	vc->rate = io->rate;
	vc->buffer = io->buffer_size;
	vc->period = io->period_size;
	vc->avail_min = io->period_size;
	vc->granule = vc->tick_us ? (uint64_t)vc->rate * (uint64_t)vc->tick_us / 1000000 : 0;
	if (vc->granule < 1)
		vc->granule = vc->tick_us ? 1 : vc->period;
	if (vc->granule > vc->period)
		vc->granule = vc->period;
	pthread_mutex_unlock(&vc->lock);
	dbg(vc, "rate %u period %llu buffer %llu tick %llu frames", vc->rate,
	    (unsigned long long)vc->period, (unsigned long long)vc->buffer,
	    (unsigned long long)vc->granule);
	return 0;
}

static int vc_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
	struct vcard *vc = io->private_data;
	snd_pcm_uframes_t am = 0;
	snd_pcm_sw_params_get_avail_min(params, &am);
	pthread_mutex_lock(&vc->lock);
	vc->avail_min = am ? am : 1;
	if (vc->avail_min > vc->buffer)
		vc->avail_min = vc->buffer;
	rearm(vc);
	publish_busy(vc);
	pthread_mutex_unlock(&vc->lock);
	return 0;
}

static int vc_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds,
			   unsigned short *revents)
{
	struct vcard *vc = io->private_data;
	uint64_t expirations;
	(void)pfd;
	(void)nfds;
	pthread_mutex_lock(&vc->lock);
	while (read(vc->tfd, &expirations, sizeof(expirations)) > 0)
		;
	vc->signaled = false;
	advance(vc, card_now(vc));
	*revents = 0;
	if (vc->xrun)
		*revents = POLLERR;
	else if ((vc->running || io->stream == SND_PCM_STREAM_PLAYBACK) && vc->buffer &&
		 avail(vc) >= vc->avail_min)
		*revents = io->stream == SND_PCM_STREAM_CAPTURE ? POLLIN : POLLOUT;
	rearm(vc);
	publish_busy(vc);
	pthread_mutex_unlock(&vc->lock);
	return 0;
}

static int vc_close(snd_pcm_ioplug_t *io)
{
	struct vcard *vc = io->private_data;
	if (vc->thread_ok) {
		pthread_mutex_lock(&vc->lock);
		vc->quit = true;
		pthread_cond_signal(&vc->cond);
		pthread_mutex_unlock(&vc->lock);
		if (vc->clk)
			futex(&vc->clk->seq, FUTEX_WAKE, INT_MAX, NULL);
		pthread_join(vc->thread, NULL);
	}
	if (vc->clk) {
		if (vc->slot >= 0) {
			__atomic_store_n(&vc->clk->slot[vc->slot].used, 0, __ATOMIC_RELEASE);
			__atomic_add_fetch(&vc->clk->acks, 1, __ATOMIC_ACQ_REL);
			futex(&vc->clk->acks, FUTEX_WAKE, INT_MAX, NULL);
		}
		munmap(vc->clk, sizeof(*vc->clk));
	}
	if (vc->lost)
		dbg(vc, "%llu played frames found the FIFO full", (unsigned long long)vc->lost);
	if (vc->tfd >= 0)
		close(vc->tfd);
	if (vc->fifo >= 0)
		close(vc->fifo);
	pthread_mutex_destroy(&vc->lock);
	pthread_cond_destroy(&vc->cond);
	free(vc->ring);
	free(vc);
	return 0;
}

static const snd_pcm_ioplug_callback_t vc_callbacks = {
    .start = vc_start,
    .stop = vc_stop,
    .pointer = vc_pointer,
    .transfer = vc_transfer,
    .close = vc_close,
    .hw_params = vc_hw_params,
    .sw_params = vc_sw_params,
    .prepare = vc_prepare,
    .poll_revents = vc_poll_revents,
};

static int get_real(snd_config_t *n, const char *id, double min, double max, double *out)
{
	if (snd_config_get_ireal(n, out) < 0 || !isfinite(*out) || *out < min || *out > max) {
		SNDERR("vcard: %s must be a number in %g..%g", id, min, max);
		return -EINVAL;
	}
	return 0;
}

static int open_fifo(const char *path)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		SNDERR("vcard: open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		SNDERR("vcard: %s is not a FIFO (mkfifo it first)", path);
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETPIPE_SZ, 1 << 20); /* best effort: room for 64 s at 8 kHz */
	return fd;
}

/* Map the test's clock file and take a free slot in it. 0 or -errno (SNDERR says why). */
static int open_clock(struct vcard *vc, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0) {
		SNDERR("vcard: clock %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(*vc->clk)) {
		SNDERR("vcard: clock %s is not a clock file (vcard_rig makes it)", path);
		close(fd);
		return -EINVAL;
	}
	void *m = mmap(NULL, sizeof(*vc->clk), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		SNDERR("vcard: mmap %s: %s", path, strerror(errno));
		return -errno;
	}
	vc->clk = m;
	if (__atomic_load_n(&vc->clk->magic, __ATOMIC_ACQUIRE) != VC_CLOCK_MAGIC) {
		SNDERR("vcard: clock %s: bad magic", path);
		return -EINVAL;
	}
	for (int i = 0; i < VC_CLOCK_SLOTS; i++) {
		uint32_t free_ = 0;
		if (__atomic_compare_exchange_n(&vc->clk->slot[i].used, &free_, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			vc->slot = i;
			__atomic_store_n(&vc->clk->slot[i].busy, 0, __ATOMIC_RELEASE);
			__atomic_add_fetch(&vc->clk->slot[i].gen, 1, __ATOMIC_ACQ_REL);
			__atomic_store_n(&vc->clk->slot[i].seen,
					 __atomic_load_n(&vc->clk->seq, __ATOMIC_ACQUIRE),
					 __ATOMIC_RELEASE);
			return 0;
		}
	}
	SNDERR("vcard: clock %s: all %d slots taken", path, VC_CLOCK_SLOTS);
	return -EBUSY;
}

static int set_constraints(snd_pcm_ioplug_t *io)
{
	static const unsigned int access[] = {SND_PCM_ACCESS_RW_INTERLEAVED};
	static const unsigned int formats[] = {SND_PCM_FORMAT_S16_LE};
	int err;
	if ((err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, 1, access)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 1, formats)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 1)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE, 8000, 48000)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 16, 96000)) <
		0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 64,
						   1 << 20)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 2, 64)) < 0)
		return err;
	return 0;
}

SND_PCM_PLUGIN_DEFINE_FUNC(vcard)
{
	snd_config_iterator_t i, next;
	const char *cap_path = NULL, *play_path = NULL, *clock_path = NULL;
	double ppm = 0, speed = 1, tick = 1000, debug = 0;
	int err;

	snd_config_for_each(i, next, conf)
	{
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id;
		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint"))
			continue;
		if (!strcmp(id, "capture_fifo") || !strcmp(id, "playback_fifo")) {
			const char *s;
			if (snd_config_get_string(n, &s) < 0 || !*s) {
				SNDERR("vcard: %s must be a path", id);
				return -EINVAL;
			}
			*(id[0] == 'c' ? &cap_path : &play_path) = s;
		} else if (!strcmp(id, "clock")) {
			if (snd_config_get_string(n, &clock_path) < 0) {
				SNDERR("vcard: clock must be a path or \"\"");
				return -EINVAL;
			}
		} else if (!strcmp(id, "ppm")) {
			if ((err = get_real(n, id, -100000, 100000, &ppm)) < 0)
				return err;
		} else if (!strcmp(id, "speed")) {
			if ((err = get_real(n, id, 0.01, 1000, &speed)) < 0)
				return err;
		} else if (!strcmp(id, "tick_us")) {
			if ((err = get_real(n, id, 0, 1000000, &tick)) < 0)
				return err;
		} else if (!strcmp(id, "debug")) {
			if ((err = get_real(n, id, 0, 1, &debug)) < 0)
				return err;
		} else {
			SNDERR("vcard: unknown field %s", id);
			return -EINVAL;
		}
	}
	const char *path = stream == SND_PCM_STREAM_CAPTURE ? cap_path : play_path;
	if (!path) {
		SNDERR("vcard %s: no %s given", name,
		       stream == SND_PCM_STREAM_CAPTURE ? "capture_fifo" : "playback_fifo");
		return -EINVAL;
	}

	struct vcard *vc = calloc(1, sizeof(*vc));
	if (!vc)
		return -ENOMEM;
	vc->tfd = vc->fifo = -1;
	vc->slot = -1;
	vc->io.private_data = vc;
	pthread_mutex_init(&vc->lock, NULL);
	pthread_cond_init(&vc->cond, NULL);
	vc->ppm = ppm;
	vc->speed = speed;
	vc->tick_us = (long)tick;
	const char *env = getenv("VCARD_DEBUG");
	vc->debug = debug > 0 || (env && *env == '1');
	vc->fnum = (uint64_t)llround(speed * (1e6 + ppm) * 1e3);
	vc->granule = 1;

	vc->fifo = open_fifo(path);
	if (vc->fifo < 0) {
		err = vc->fifo;
		goto fail;
	}
	if (clock_path && *clock_path && (err = open_clock(vc, clock_path)) < 0)
		goto fail;
	vc->tfd = vc->clk ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)
			  : timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (vc->tfd < 0) {
		err = -errno;
		SNDERR("vcard: poll descriptor: %s", strerror(errno));
		goto fail;
	}
	/* The "DMA" thread takes no signals: a real card has no thread in the process, and
	   the application's signals (rinkid's signalfd) must not land here. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int terr = pthread_create(&vc->thread, NULL, vc->clk ? clock_thread : dma_thread, vc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (terr != 0) {
		err = -EAGAIN;
		goto fail;
	}
	vc->thread_ok = true;

	vc->io.version = SND_PCM_IOPLUG_VERSION;
	vc->io.name = "rinki virtual card";
	vc->io.flags = SND_PCM_IOPLUG_FLAG_MONOTONIC;
	vc->io.poll_fd = vc->tfd;
	vc->io.poll_events = stream == SND_PCM_STREAM_CAPTURE ? POLLIN : POLLOUT;
	vc->io.mmap_rw = 0;
	vc->io.callback = &vc_callbacks;
	vc->io.private_data = vc;
	err = snd_pcm_ioplug_create(&vc->io, name, stream, mode);
	if (err < 0)
		goto fail;
	err = set_constraints(&vc->io);
	if (err < 0) {
		snd_pcm_ioplug_delete(&vc->io); /* calls vc_close, which frees vc */
		return err;
	}
	*pcmp = vc->io.pcm;
	return 0;

fail:
	vc_close(&vc->io);
	return err;
}

SND_PCM_PLUGIN_SYMBOL(vcard);
