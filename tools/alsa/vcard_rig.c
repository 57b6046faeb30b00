/*
 * vcard_rig: the test side of the virtual sound cards.
 *
 * vr_rig_new() makes a mkdtemp directory (under $TMPDIR, else /tmp) with
 * radio_in/radio_out/phone_in/phone_out FIFOs, fills tools/alsa/asoundrc.in into it and exports
 * ALSA_CONFIG_PATH (alsa.conf first, or every standard PCM is lost). One thread polls the FIFOs: it
 * writes queued samples into the capture FIFOs whenever they have room (the card drains them in
 * real time, so a queue of minutes is fine) and appends whatever the cards play to a
 * growing buffer, stamping each chunk with CLOCK_MONOTONIC. All shared state is under
 * one mutex; the condition variable tells vr_inject() when its first sample went in.
 *
 * With vr_opts.manual the rig also makes the clock file (tools/alsa/vcard_clock.h) the
 * cards run on; vr_advance() moves it and waits until every open stream caught up, and
 * every time stamp above is the cards' time instead of CLOCK_MONOTONIC.
 */
#include "vcard_rig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vcard_clock.h"

struct chunk {
	size_t idx; /* first sample of the chunk */
	int64_t t_ns;
};

struct side {
	int in_fd, out_fd;
	/* injection queue */
	int16_t *q;
	size_t qlen, qcap, qpos;
	uint64_t queued, written; /* totals, in samples */
	uint64_t mark;		  /* sample whose write time vr_inject waits for */
	int64_t mark_ns;
	/* what the card played */
	int16_t *p;
	size_t plen, pcap;
	struct chunk *c;
	size_t clen, ccap;
	bool odd;
	uint8_t odd_byte;
};

struct vr_rig {
	char dir[64];
	pthread_t thread;
	bool thread_ok, quit;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wake;
	struct side s[2];
	struct vc_clock *clk; /* manual pacing, else NULL */
	int mode;	      /* vr_opts.manual */
	pthread_t pacer;
	bool pacer_ok;
};

static const char *const fifo_names[2][2] = {{"radio_in", "radio_out"}, {"phone_in", "phone_out"}};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The cards' time: the clock file's in manual pacing, else CLOCK_MONOTONIC. */
static int64_t rig_now(const struct vr_rig *r)
{
	if (r->clk)
		return (int64_t)__atomic_load_n(&r->clk->now_ns, __ATOMIC_ACQUIRE);
	return mono_ns();
}

void vr_opts_default(struct vr_opts *o)
{
	*o = (struct vr_opts){.speed = 1, .tick_us = 1000};
}

const char *vr_pcm_name(enum vr_side side)
{
	return side == VR_RADIO ? "rinki_radio" : "rinki_phone";
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 4096;
	while (ncap < need)
		ncap *= 2;
	void *nb = realloc(*buf, ncap * elem);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* Append what the out FIFO holds. Called with the lock held. */
static void drain_out(const struct vr_rig *rig, struct side *sd)
{
	uint8_t buf[8192];
	ssize_t r;
	while ((r = read(sd->out_fd, buf + sd->odd, sizeof(buf) - 1)) > 0) {
		size_t bytes = (size_t)r + sd->odd;
		if (sd->odd)
			buf[0] = sd->odd_byte;
		sd->odd = bytes % 2;
		if (sd->odd)
			sd->odd_byte = buf[bytes - 1];
		size_t n = bytes / 2;
		if (grow((void **)&sd->p, &sd->pcap, sd->plen + n, sizeof(*sd->p)) < 0 ||
		    grow((void **)&sd->c, &sd->ccap, sd->clen + 1, sizeof(*sd->c)) < 0)
			return;
		memcpy(sd->p + sd->plen, buf, n * 2);
		sd->c[sd->clen++] = (struct chunk){.idx = sd->plen, .t_ns = rig_now(rig)};
		sd->plen += n;
	}
}

/* Feed queued samples into the in FIFO. Called with the lock held. */
static void feed_in(struct vr_rig *r, struct side *sd)
{
	while (sd->qpos < sd->qlen) {
		size_t n = sd->qlen - sd->qpos;
		if (n > 2048)
			n = 2048; /* whole samples; a pipe write <= PIPE_BUF is atomic */
		ssize_t w = write(sd->in_fd, sd->q + sd->qpos, n * 2);
		if (w <= 0)
			return;
		size_t got = (size_t)w / 2;
		if (sd->mark_ns < 0 && sd->mark >= sd->written && sd->mark < sd->written + got) {
			sd->mark_ns = rig_now(r);
			pthread_cond_broadcast(&r->cond);
		}
		sd->written += got;
		sd->qpos += got;
	}
	sd->qpos = sd->qlen = 0;
}

static void *io_thread(void *arg)
{
	struct vr_rig *r = arg;
	for (;;) {
		struct pollfd pfd[5];
		int n = 0;
		pthread_mutex_lock(&r->lock);
		if (r->quit) {
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		pfd[n++] = (struct pollfd){.fd = r->wake, .events = POLLIN};
		for (int i = 0; i < 2; i++) {
			pfd[n++] = (struct pollfd){.fd = r->s[i].out_fd, .events = POLLIN};
			if (r->s[i].qpos < r->s[i].qlen)
				pfd[n++] = (struct pollfd){.fd = r->s[i].in_fd, .events = POLLOUT};
		}
		pthread_mutex_unlock(&r->lock);
		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			return NULL;
		uint64_t v;
		if (read(r->wake, &v, sizeof(v)) < 0) {
			/* nothing to clear */
		}
		pthread_mutex_lock(&r->lock);
		for (int i = 0; i < 2; i++) {
			drain_out(r, &r->s[i]);
			feed_in(r, &r->s[i]);
		}
		pthread_mutex_unlock(&r->lock);
	}
}

static int write_asoundrc(struct vr_rig *r, const struct vr_opts *o, char *path, size_t len)
{
	const char *tpl_path = getenv("RINKI_VCARD_TEMPLATE");
	const char *lib_env = getenv("RINKI_VCARD_LIB");
	char lib[PATH_MAX];
	if (!tpl_path)
		tpl_path = "tools/alsa/asoundrc.in";
	if (!realpath(lib_env ? lib_env : "build/alsa/libasound_module_pcm_vcard.so", lib)) {
		fprintf(stderr,
			"vcard_rig: plugin not found (make alsa-plugin, or RINKI_VCARD_LIB)\n");
		return -ENOENT;
	}
	FILE *in = fopen(tpl_path, "r");
	if (!in) {
		fprintf(stderr, "vcard_rig: %s: %s\n", tpl_path, strerror(errno));
		return -errno;
	}
	snprintf(path, len, "%s/asoundrc", r->dir);
	FILE *out = fopen(path, "w");
	if (!out) {
		int err = -errno;
		fclose(in);
		return err;
	}
	char vals[7][PATH_MAX + 32];
	const char *keys[7] = {"@LIB@",	      "@DIR@",	     "@SPEED@", "@TICK_US@",
			       "@RADIO_PPM@", "@PHONE_PPM@", "@CLOCK@"};
	snprintf(vals[0], sizeof(vals[0]), "%s", lib);
	snprintf(vals[1], sizeof(vals[1]), "%s", r->dir);
	snprintf(vals[2], sizeof(vals[2]), "%.6f", o->speed);
	snprintf(vals[3], sizeof(vals[3]), "%d", o->tick_us);
	snprintf(vals[4], sizeof(vals[4]), "%.3f", o->radio_ppm);
	snprintf(vals[5], sizeof(vals[5]), "%.3f", o->phone_ppm);
	if (r->clk)
		snprintf(vals[6], sizeof(vals[6]), "%s/clock", r->dir);
	else
		vals[6][0] = '\0';
	char line[1024];
	while (fgets(line, sizeof(line), in)) {
		for (char *p = line; *p;) {
			int k = -1;
			for (int i = 0; i < 7 && k < 0; i++)
				if (!strncmp(p, keys[i], strlen(keys[i])))
					k = i;
			if (k >= 0) {
				fputs(vals[k], out);
				p += strlen(keys[k]);
			} else {
				fputc(*p++, out);
			}
		}
	}
	fclose(in);
	return fclose(out) == 0 ? 0 : -EIO;
}

static void *pacer_thread(void *arg);

/* The clock file of manual pacing, at 1 s (0 would read as "no deadline" in the plugin). */
static int make_clock(struct vr_rig *r)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/clock", r->dir);
	int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || ftruncate(fd, sizeof(*r->clk)) < 0) {
		int err = -errno;
		fprintf(stderr, "vcard_rig: %s: %s\n", p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	void *m = mmap(NULL, sizeof(*r->clk), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	r->clk = m;
	r->clk->now_ns = r->mode == VR_PACED ? (uint64_t)mono_ns() : 1000000000ULL;
	__atomic_store_n(&r->clk->magic, VC_CLOCK_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int vr_rig_new(const struct vr_opts *o, struct vr_rig **out)
{
	struct vr_rig *r = calloc(1, sizeof(*r));
	int err;
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->wake = -1;
	for (int i = 0; i < 2; i++)
		r->s[i].in_fd = r->s[i].out_fd = -1;
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (snprintf(r->dir, sizeof(r->dir), "%s/rinki-vcard-XXXXXX", tmp) >= (int)sizeof(r->dir)) {
		fprintf(stderr, "vcard_rig: TMPDIR %s is too long\n", tmp);
		free(r);
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(r->dir)) {
		err = -errno;
		free(r);
		return err;
	}
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 2; j++) {
			char p[128];
			snprintf(p, sizeof(p), "%s/%s.fifo", r->dir, fifo_names[i][j]);
			int fd =
			    mkfifo(p, 0600) < 0 ? -1 : open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (fd < 0) {
				err = -errno;
				fprintf(stderr, "vcard_rig: %s: %s\n", p, strerror(errno));
				goto fail;
			}
			fcntl(fd, F_SETPIPE_SZ, 1 << 20);
			*(j ? &r->s[i].out_fd : &r->s[i].in_fd) = fd;
		}
		r->s[i].mark_ns = -1;
	}
	r->mode = o->manual;
	if (o->manual && (err = make_clock(r)) < 0)
		goto fail;
	char conf[128], env[256];
	if ((err = write_asoundrc(r, o, conf, sizeof(conf))) < 0)
		goto fail;
	snprintf(env, sizeof(env), "/usr/share/alsa/alsa.conf:%s", conf);
	setenv("ALSA_CONFIG_PATH", env, 1);
	r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake < 0) {
		err = -errno;
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, io_thread, r) != 0) {
		err = -EAGAIN;
		goto fail;
	}
	r->thread_ok = true;
	if (r->mode == VR_PACED) {
		if (pthread_create(&r->pacer, NULL, pacer_thread, r) != 0) {
			err = -EAGAIN;
			goto fail;
		}
		r->pacer_ok = true;
	}
	*out = r;
	return 0;
fail:
	vr_rig_free(r);
	return err;
}

void vr_rig_free(struct vr_rig *r)
{
	if (!r)
		return;
	if (r->pacer_ok) {
		pthread_mutex_lock(&r->lock);
		r->quit = true;
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->pacer, NULL);
	}
	if (r->thread_ok) {
		pthread_mutex_lock(&r->lock);
		r->quit = true;
		pthread_mutex_unlock(&r->lock);
		uint64_t one = 1;
		if (write(r->wake, &one, sizeof(one)) < 0) {
			/* the thread still sees quit within its 100 ms poll */
		}
		pthread_join(r->thread, NULL);
	}
	if (r->wake >= 0)
		close(r->wake);
	for (int i = 0; i < 2; i++) {
		struct side *sd = &r->s[i];
		for (int j = 0; j < 2; j++) {
			char p[128];
			int fd = j ? sd->out_fd : sd->in_fd;
			if (fd >= 0)
				close(fd);
			snprintf(p, sizeof(p), "%s/%s.fifo", r->dir, fifo_names[i][j]);
			unlink(p);
		}
		free(sd->q);
		free(sd->p);
		free(sd->c);
	}
	char p[128];
	snprintf(p, sizeof(p), "%s/asoundrc", r->dir);
	unlink(p);
	if (r->clk) {
		munmap(r->clk, sizeof(*r->clk));
		snprintf(p, sizeof(p), "%s/clock", r->dir);
		unlink(p);
	}
	rmdir(r->dir);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

int64_t vr_inject(struct vr_rig *r, enum vr_side side, const int16_t *s, size_t n)
{
	struct side *sd = &r->s[side];
	if (!n)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (grow((void **)&sd->q, &sd->qcap, sd->qlen + n, sizeof(*sd->q)) < 0) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	memcpy(sd->q + sd->qlen, s, n * 2);
	sd->mark = sd->queued;
	sd->mark_ns = -1;
	sd->queued += n;
	sd->qlen += n;
	feed_in(r, sd);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	while (sd->mark_ns < 0) {
		uint64_t one = 1;
		if (write(r->wake, &one, sizeof(one)) < 0) {
			/* the thread polls again within 100 ms anyway */
		}
		if (pthread_cond_timedwait(&r->cond, &r->lock, &until) == ETIMEDOUT)
			break;
	}
	int64_t t = sd->mark_ns >= 0 ? sd->mark_ns : -ETIMEDOUT;
	pthread_mutex_unlock(&r->lock);
	return t;
}

long vr_played(struct vr_rig *r, enum vr_side side, int16_t **out)
{
	struct side *sd = &r->s[side];
	pthread_mutex_lock(&r->lock);
	drain_out(r, sd);
	size_t n = sd->plen;
	*out = malloc((n ? n : 1) * sizeof(**out));
	if (*out && n)
		memcpy(*out, sd->p, n * 2);
	pthread_mutex_unlock(&r->lock);
	return *out ? (long)n : -ENOMEM;
}

int64_t vr_played_time(struct vr_rig *r, enum vr_side side, size_t idx)
{
	struct side *sd = &r->s[side];
	int64_t t = -1;
	pthread_mutex_lock(&r->lock);
	size_t lo = 0, hi = sd->clen;
	while (lo < hi) { /* last chunk with c.idx <= idx */
		size_t mid = (lo + hi) / 2;
		if (sd->c[mid].idx <= idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && idx < sd->plen)
		t = sd->c[lo - 1].t_ns;
	pthread_mutex_unlock(&r->lock);
	return t;
}

int vr_played_peak(struct vr_rig *r, enum vr_side side)
{
	struct side *sd = &r->s[side];
	int peak = 0;
	pthread_mutex_lock(&r->lock);
	drain_out(r, sd);
	for (size_t i = 0; i < sd->plen; i++)
		peak = abs(sd->p[i]) > peak ? abs(sd->p[i]) : peak;
	pthread_mutex_unlock(&r->lock);
	return peak;
}

void vr_played_reset(struct vr_rig *r, enum vr_side side)
{
	struct side *sd = &r->s[side];
	pthread_mutex_lock(&r->lock);
	drain_out(r, sd);
	sd->plen = sd->clen = 0;
	pthread_mutex_unlock(&r->lock);
}

void vr_tone(int16_t *buf, size_t n, unsigned rate, double hz, int amp)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (int16_t)lrint(amp * sin(2 * M_PI * hz * (double)i / rate));
}

void vr_noise(int16_t *buf, size_t n, uint32_t seed, int amp)
{
	uint32_t x = seed ? seed : 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		int v = (int)(x % (uint32_t)(2 * amp + 1)) - amp;
		buf[i] = (int16_t)(v ? v : 1);
	}
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int vr_wav_load(const char *path, int16_t **out, size_t *n, unsigned *rate)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "wav %s: %s\n", path, strerror(errno));
		return -errno;
	}
	uint8_t *d = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (grow((void **)&d, &cap, len + 65536, 1) < 0) {
			fclose(f);
			free(d);
			return -ENOMEM;
		}
		size_t r = fread(d + len, 1, 65536, f);
		len += r;
		if (r < 65536)
			break;
	}
	fclose(f);
	const char *why = NULL;
	const uint8_t *fmt = NULL, *data = NULL;
	size_t data_len = 0;
	if (len < 12 || memcmp(d, "RIFF", 4) || memcmp(d + 8, "WAVE", 4))
		why = "not a RIFF/WAVE file";
	for (size_t off = 12; !why && off + 8 <= len;) {
		uint32_t clen = le32(d + off + 4);
		if (clen > len - off - 8) {
			why = "chunk runs past the end of the file";
			break;
		}
		if (!memcmp(d + off, "fmt ", 4))
			fmt = clen >= 16 ? d + off + 8 : NULL;
		else if (!memcmp(d + off, "data", 4)) {
			data = d + off + 8;
			data_len = clen;
		}
		off += 8 + clen + (clen & 1);
	}
	if (!why && !fmt)
		why = "no valid fmt chunk";
	else if (!why && !data)
		why = "no data chunk";
	else if (!why && (le16(fmt) != 1 || le16(fmt + 2) != 1 || le16(fmt + 14) != 16))
		why = "only 16-bit PCM mono is supported";
	else if (!why && (le32(fmt + 4) < 1000 || le32(fmt + 4) > 192000))
		why = "sample rate out of range";
	if (why) {
		fprintf(stderr, "wav %s: %s\n", path, why);
		free(d);
		return -EINVAL;
	}
	*n = data_len / 2;
	*rate = le32(fmt + 4);
	*out = malloc((*n ? *n : 1) * sizeof(**out));
	if (!*out) {
		free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = (int16_t)le16(data + 2 * i);
	free(d);
	return 0;
}

long vr_onset(const int16_t *s, size_t n, size_t from, int threshold)
{
	for (size_t i = from; i < n; i++)
		if (abs(s[i]) > threshold)
			return (long)i;
	return -1;
}

long vr_find(const int16_t *hay, size_t nh, const int16_t *needle, size_t nn)
{
	if (!nn || nn > nh)
		return -1;
	for (size_t i = 0; i + nn <= nh; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, nn * 2))
			return (long)i;
	return -1;
}

long vr_find_chunks(const int16_t *hay, size_t nh, size_t from, const int16_t *needle, size_t nn,
		    size_t chunk, int *missing, int *whole)
{
	long first = -1;
	size_t pos = from;
	*missing = 0;
	*whole = 1;
	for (size_t i = 0; i < nn && chunk; i += chunk) {
		size_t k = nn - i < chunk ? nn - i : chunk;
		long at = pos < nh ? vr_find(hay + pos, nh - pos, needle + i, k) : -1;
		if (at < 0) {
			(*missing)++;
			*whole = 0;
			continue;
		}
		if (first < 0)
			first = (long)pos + at;
		else if (at != 0)
			*whole = 0;
		pos += (size_t)at + k;
	}
	return first;
}

/* Move the clock by ns and wait until every open stream caught up (vr_advance). */
static int step(struct vr_rig *r, int64_t ns, int timeout_ms)
{
	struct vc_clock *clk = r->clk;
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < 2; i++) /* what was injected is in the FIFOs before the cards read */
		feed_in(r, &r->s[i]);
	pthread_mutex_unlock(&r->lock);
	__atomic_add_fetch(&clk->now_ns, (uint64_t)ns, __ATOMIC_ACQ_REL);
	uint32_t seq = __atomic_add_fetch(&clk->seq, 1, __ATOMIC_ACQ_REL);
	syscall(SYS_futex, &clk->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	int64_t end = mono_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		uint32_t acks = __atomic_load_n(&clk->acks, __ATOMIC_ACQUIRE);
		int behind = -1;
		for (int i = 0; i < VC_CLOCK_SLOTS && behind < 0; i++)
			if (__atomic_load_n(&clk->slot[i].used, __ATOMIC_ACQUIRE) &&
			    __atomic_load_n(&clk->slot[i].seen, __ATOMIC_ACQUIRE) != seq)
				behind = i;
		if (behind < 0)
			break;
		int64_t left = end - mono_ns();
		if (left <= 0) {
			fprintf(stderr, "vcard_rig: stream %d did not catch up within %d ms\n",
				behind, timeout_ms);
			return -ETIMEDOUT;
		}
		if (left > 100000000)
			left = 100000000;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left};
		syscall(SYS_futex, &clk->acks, FUTEX_WAIT, acks, &ts, NULL, 0);
	}
	pthread_mutex_lock(&r->lock); /* what the cards played up to now, stamped now */
	for (int i = 0; i < 2; i++)
		drain_out(r, &r->s[i]);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

int vr_advance(struct vr_rig *r, int64_t ns, int timeout_ms)
{
	if (r->mode != VR_MANUAL || ns < 0)
		return -EINVAL;
	return step(r, ns, timeout_ms);
}

/*
 * VR_PACED: hold the next step until no stream is busy, ignoring one that has been busy
 * for VR_PACE_GIVE_UP_MS (an application that stopped feeding it: the card then runs
 * over it, as a real one would). since[] and gen[] are the pacer's own bookkeeping.
 */
static void wait_not_busy(struct vr_rig *r, int64_t since[], uint32_t gen[])
{
	struct vc_clock *clk = r->clk;
	for (;;) {
		uint32_t acks = __atomic_load_n(&clk->acks, __ATOMIC_ACQUIRE);
		int64_t now = mono_ns();
		bool held = false;
		for (int i = 0; i < VC_CLOCK_SLOTS; i++) {
			struct vc_clock_slot *sl = &clk->slot[i];
			uint32_t g = __atomic_load_n(&sl->gen, __ATOMIC_ACQUIRE);
			if (g != gen[i]) {
				gen[i] = g;
				since[i] = 0;
			}
			if (!__atomic_load_n(&sl->used, __ATOMIC_ACQUIRE) ||
			    !__atomic_load_n(&sl->busy, __ATOMIC_ACQUIRE)) {
				since[i] = 0;
				continue;
			}
			if (!since[i])
				since[i] = now;
			if (now - since[i] < (int64_t)VR_PACE_GIVE_UP_MS * 1000000)
				held = true;
		}
		if (!held)
			return;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 2 * 1000 * 1000};
		syscall(SYS_futex, &clk->acks, FUTEX_WAIT, acks, &ts, NULL, 0);
	}
}

static void *pacer_thread(void *arg)
{
	struct vr_rig *r = arg;
	int64_t since[VC_CLOCK_SLOTS] = {0};
	uint32_t gen[VC_CLOCK_SLOTS] = {0};
	for (;;) {
		pthread_mutex_lock(&r->lock);
		bool quit = r->quit;
		pthread_mutex_unlock(&r->lock);
		if (quit)
			return NULL;
		/* never ahead of real time */
		int64_t next =
		    (int64_t)__atomic_load_n(&r->clk->now_ns, __ATOMIC_ACQUIRE) + 1000000;
		struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		wait_not_busy(r, since, gen);
		if (step(r, 1000000, 30000) < 0)
			fprintf(stderr, "vcard_rig: pacer: a stream is stuck, going on\n");
	}
}

int64_t vr_now(const struct vr_rig *r)
{
	return rig_now(r);
}
