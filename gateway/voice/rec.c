/*
 * rec: call recordings, written by a thread of their own.
 *
 * The ring is an array of fixed-size blocks (channel, length, samples) with a head the
 * producer (the audio path in the loop thread) advances with a release store and a tail
 * the writer advances likewise: C11 atomics, no lock, so a push is a bounded memcpy.
 * The ring holds about two seconds of both channels; when the writer falls that far
 * behind (a stalled disk), pushes are dropped and counted, never waited for.
 *
 * The writer thread wakes every 20 ms, moves whole blocks from the ring into one
 * pending buffer per channel and writes as many stereo frames as both channels have.
 * The two captures run on their own card clocks and can lose periods to xruns, so when
 * one channel runs more than half a second ahead the other is padded with silence:
 * the channels stay within that of each other, and an ended call leaves no tail
 * behind. The WAV header is rewritten after every write (SFC_SET_UPDATE_HEADER_AUTO),
 * so a crash leaves a readable file. The thread never logs; gw_rec_stop() reports.
 *
 * libsndfile rather than a hand-written RIFF writer: it keeps the header right through
 * crashes and is the library the rest of the toolchain (sox, tests) reads with.
 */
#include "voice/rec.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define RING_SECONDS   2
#define WRITER_WAKE_NS (20 * 1000 * 1000)

struct pending {
	int16_t *s;
	size_t n, cap;
};

struct gw_rec {
	char dir[256];
	unsigned int rate;
	int blk;     /* frames per block */
	size_t nblk; /* power of two */
	int16_t *data;
	uint16_t *len;
	uint8_t *chan;
	_Atomic size_t head, tail;

	bool running;
	_Atomic bool stopping;
	pthread_t thread;
	SNDFILE *sf;
	char path[512];
	struct pending pend[2];

	/* producer-side counters (read by stop after the join, or racy by stats) */
	uint64_t pushed[2], dropped[2];
	/* writer-side */
	_Atomic uint64_t written;
	uint64_t padded[2];
	_Atomic int write_error;
};

int gw_rec_new(const char *dir, unsigned int rate, unsigned int max_frames, struct gw_rec **out)
{
	if (!dir || !*dir || strlen(dir) >= sizeof(((struct gw_rec *)0)->dir) || rate < 8000 ||
	    rate > 48000 || max_frames < 1 || max_frames > 4096) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "recorder: bad parameters (directory set, rate 8000..48000, period 1..4096)");
		return -EINVAL;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int err = -errno;
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "recorder: cannot create %s: %s", dir,
		     strerror(errno));
		return err;
	}
	struct gw_rec *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	r->rate = rate;
	r->blk = (int)max_frames;
	size_t want = 2 * (size_t)RING_SECONDS * rate / max_frames + 1;
	for (r->nblk = 16; r->nblk < want;)
		r->nblk *= 2;
	r->data = calloc(r->nblk * (size_t)r->blk, sizeof(*r->data));
	r->len = calloc(r->nblk, sizeof(*r->len));
	r->chan = calloc(r->nblk, sizeof(*r->chan));
	if (!r->data || !r->len || !r->chan) {
		gw_rec_free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void gw_rec_free(struct gw_rec *r)
{
	if (!r)
		return;
	if (r->running)
		gw_rec_stop(r);
	free(r->data);
	free(r->len);
	free(r->chan);
	free(r);
}

void gw_rec_push(struct gw_rec *r, enum gw_rec_chan ch, const int16_t *pcm, int n)
{
	if (!r || !r->running || n <= 0)
		return;
	r->pushed[ch] += (uint64_t)n;
	size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	while (n > 0) {
		int k = n < r->blk ? n : r->blk;
		size_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - t >= r->nblk) {
			r->dropped[ch] += (uint64_t)n; /* the writer is behind: never wait for it */
			break;
		}
		size_t i = h & (r->nblk - 1);
		memcpy(r->data + i * (size_t)r->blk, pcm, (size_t)k * sizeof(*pcm));
		r->len[i] = (uint16_t)k;
		r->chan[i] = (uint8_t)ch;
		atomic_store_explicit(&r->head, ++h, memory_order_release);
		pcm += k;
		n -= k;
	}
}

/* ---- writer thread -------------------------------------------------------- */

static int pend_add(struct pending *p, const int16_t *s, size_t n)
{
	if (p->n + n > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		while (cap < p->n + n)
			cap *= 2;
		int16_t *ns = realloc(p->s, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		p->s = ns;
		p->cap = cap;
	}
	if (s)
		memcpy(p->s + p->n, s, n * sizeof(*s));
	else
		memset(p->s + p->n, 0, n * sizeof(*s));
	p->n += n;
	return 0;
}

static void set_error(struct gw_rec *r, int err)
{
	int zero = 0;
	atomic_compare_exchange_strong(&r->write_error, &zero, err);
}

/* Write the frames both channels have; with flush, pad the shorter one first. */
static void write_out(struct gw_rec *r, bool flush)
{
	struct pending *l = &r->pend[0], *rt = &r->pend[1];
	size_t lag = r->rate / 2;
	for (int c = 0; c < 2; c++) {
		struct pending *a = &r->pend[c], *b = &r->pend[1 - c];
		if (a->n > b->n && (flush || a->n - b->n > lag)) {
			size_t pad = a->n - b->n - (flush ? 0 : lag);
			if (pend_add(b, NULL, pad) < 0) {
				set_error(r, -ENOMEM);
				return;
			}
			r->padded[1 - c] += pad;
		}
	}
	size_t n = l->n < rt->n ? l->n : rt->n;
	if (n == 0)
		return;
	int16_t frames[2 * 512];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < 512 ? n - done : 512;
		for (size_t i = 0; i < k; i++) {
			frames[2 * i] = l->s[done + i];
			frames[2 * i + 1] = rt->s[done + i];
		}
		if (!atomic_load(&r->write_error)) {
			sf_count_t w = sf_writef_short(r->sf, frames, (sf_count_t)k);
			if (w != (sf_count_t)k)
				set_error(r, -EIO);
			else
				atomic_fetch_add(&r->written, k);
		}
		done += k;
	}
	memmove(l->s, l->s + n, (l->n - n) * sizeof(*l->s));
	memmove(rt->s, rt->s + n, (rt->n - n) * sizeof(*rt->s));
	l->n -= n;
	rt->n -= n;
}

static void drain(struct gw_rec *r)
{
	size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	for (; t != h; t++) {
		size_t i = t & (r->nblk - 1);
		if (pend_add(&r->pend[r->chan[i]], r->data + i * (size_t)r->blk, r->len[i]) < 0)
			set_error(r, -ENOMEM);
		atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	}
}

static void *writer(void *arg)
{
	struct gw_rec *r = arg;
	for (;;) {
		bool last =
		    atomic_load(&r->stopping); /* read before the drain: nothing is missed */
		drain(r);
		write_out(r, last);
		if (last)
			return NULL;
		struct timespec ts = {0, WRITER_WAKE_NS};
		nanosleep(&ts, NULL);
	}
}

/* ---- start / stop --------------------------------------------------------- */

static int create_file(struct gw_rec *r, int64_t incident)
{
	for (int k = 1; k <= 9; k++) {
		char sfx[8] = "";
		if (k > 1)
			snprintf(sfx, sizeof(sfx), "-%d", k);
		int len = snprintf(r->path, sizeof(r->path), "%s/incident-%lld%s.wav", r->dir,
				   (long long)incident, sfx);
		if (len < 0 || (size_t)len >= sizeof(r->path))
			return -ENAMETOOLONG;
		int fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST) {
			int err = -errno;
			LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "recorder: %s: %s", r->path,
			     strerror(errno));
			return err;
		}
	}
	LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "recorder: incident %lld has 9 recordings already",
	     (long long)incident);
	return -EEXIST;
}

int gw_rec_start(struct gw_rec *r, int64_t incident, char *path, size_t len)
{
	if (r->running)
		return -EALREADY;
	int fd = create_file(r, incident);
	if (fd < 0)
		return fd;
	if (strlen(r->path) >= len) {
		unlink(r->path);
		close(fd);
		return -ENAMETOOLONG;
	}
	SF_INFO info = {
	    .samplerate = (int)r->rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	r->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
	if (!r->sf) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "recorder: %s: %s", r->path, sf_strerror(NULL));
		close(fd);
		unlink(r->path);
		return -EIO;
	}
	sf_command(r->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
	memset(r->pushed, 0, sizeof(r->pushed));
	memset(r->dropped, 0, sizeof(r->dropped));
	memset(r->padded, 0, sizeof(r->padded));
	atomic_store(&r->written, 0);
	atomic_store(&r->write_error, 0);
	atomic_store(&r->stopping, false);
	atomic_store(&r->head, 0);
	atomic_store(&r->tail, 0);
	r->pend[0].n = r->pend[1].n = 0;
	sigset_t all, old; /* the writer takes no signals: they belong to the loop's signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&r->thread, NULL, writer, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "recorder: no writer thread: %s", strerror(err));
		sf_close(r->sf);
		r->sf = NULL;
		unlink(r->path);
		return -err;
	}
	r->running = true;
	snprintf(path, len, "%s", r->path);
	LOGP(GW_LOG_AUDIO, GW_LOG_INFO, "recording to %s", r->path);
	return 0;
}

int gw_rec_stop(struct gw_rec *r)
{
	if (!r->running)
		return -EALREADY;
	r->running = false; /* pushes stop here; the writer sees everything pushed before */
	atomic_store(&r->stopping, true);
	pthread_join(r->thread, NULL);
	if (sf_close(r->sf) != 0)
		set_error(r, -EIO);
	r->sf = NULL;
	for (int c = 0; c < 2; c++) {
		free(r->pend[c].s);
		r->pend[c] = (struct pending){0};
	}
	uint64_t dropped = r->dropped[0] + r->dropped[1];
	int err = atomic_load(&r->write_error);
	LOGP(GW_LOG_AUDIO, dropped || err ? GW_LOG_WARN : GW_LOG_INFO,
	     "recording %s closed: %llu frames (%.1f s); dropped (writer behind) radio %llu "
	     "phone %llu; padded radio %llu phone %llu%s%s",
	     r->path, (unsigned long long)atomic_load(&r->written),
	     (double)atomic_load(&r->written) / r->rate, (unsigned long long)r->dropped[0],
	     (unsigned long long)r->dropped[1], (unsigned long long)r->padded[0],
	     (unsigned long long)r->padded[1], err ? "; write error: " : "",
	     err ? strerror(-err) : "");
	return 0;
}

int gw_rec_running(const struct gw_rec *r)
{
	return r && r->running;
}

int gw_rec_stats(const struct gw_rec *r, struct gw_rec_stats *st)
{
	for (int c = 0; c < 2; c++) {
		st->pushed[c] = r->pushed[c];
		st->dropped[c] = r->dropped[c];
		st->padded[c] = r->padded[c];
	}
	st->written = atomic_load(&r->written);
	st->write_error = atomic_load(&r->write_error);
	return 0;
}

bool gw_rec_line_selected(const char *lines, const char *line)
{
	const char *p = lines ? lines : "";
	while (*p == ' ')
		p++;
	if (!*p)
		return true;
	size_t n = line ? strlen(line) : 0;
	if (!n)
		return false;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && t[-1] == ' ')
			t--;
		if ((size_t)(t - p) == n && strncmp(p, line, n) == 0)
			return true;
		p = e;
	}
	return false;
}
