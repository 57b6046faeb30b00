/*
 * dtmf: in-band key detection on phone capture with spandsp's dtmf_rx.
 *
 * spandsp's detector was chosen over a home-made Goertzel pair: it is tuned and
 * tested against the ITU/Bellcore DTMF test tapes (twist, relative and absolute
 * energy, second-harmonic and duration checks), and talk-off (speech mistaken for a
 * key) is exactly where a quick Goertzel fails. It works at 8 kHz only, so a higher
 * phone rate (a multiple of 8 kHz) goes through a windowed-sinc low-pass (cut-off
 * 3.6 kHz) and keeps every M-th sample first. Each detected key comes back through
 * spandsp's digit callback and is passed on as it is.
 */
#include "voice/dtmf.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "core/log.h"

#define DTMF_RATE 8000
#define FIR_PER_M 12 /* low-pass taps per decimation step */
#define CHUNK	  160

struct gw_dtmf {
	dtmf_rx_state_t *rx;
	gw_dtmf_fn fn;
	void *arg;
	int reported; /* keys reported during the current gw_dtmf_feed */
	int m;	      /* decimation factor, 1 at 8 kHz */
	int ntaps;
	float *taps;
	float *hist; /* last ntaps input samples, ring */
	int pos, phase;
};

static void on_digits(void *arg, const char *digits, int len)
{
	struct gw_dtmf *d = arg;
	for (int i = 0; i < len; i++) {
		LOGP(GW_LOG_AUDIO, GW_LOG_DEBUG, "in-band DTMF %c", digits[i]);
		d->reported++;
		d->fn(d->arg, digits[i]);
	}
}

static int make_fir(struct gw_dtmf *d, unsigned int rate)
{
	d->ntaps = FIR_PER_M * d->m + 1;
	d->taps = calloc((size_t)d->ntaps, sizeof(*d->taps));
	d->hist = calloc((size_t)d->ntaps, sizeof(*d->hist));
	if (!d->taps || !d->hist)
		return -ENOMEM;
	double fc = 3600.0 / rate, sum = 0;
	int mid = d->ntaps / 2;
	for (int i = 0; i < d->ntaps; i++) {
		int k = i - mid;
		double sinc = k ? sin(2 * M_PI * fc * k) / (M_PI * k) : 2 * fc;
		double hamming = 0.54 - 0.46 * cos(2 * M_PI * i / (d->ntaps - 1));
		d->taps[i] = (float)(sinc * hamming);
		sum += d->taps[i];
	}
	for (int i = 0; i < d->ntaps; i++)
		d->taps[i] = (float)(d->taps[i] / sum);
	return 0;
}

int gw_dtmf_new(unsigned int rate, gw_dtmf_fn fn, void *arg, struct gw_dtmf **out)
{
	if (!fn || rate < DTMF_RATE || rate > 48000 || rate % DTMF_RATE) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "DTMF detector: rate %u Hz not supported (8000 or a multiple up to 48000)",
		     rate);
		return -EINVAL;
	}
	struct gw_dtmf *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fn = fn;
	d->arg = arg;
	d->m = (int)(rate / DTMF_RATE);
	d->rx = dtmf_rx_init(NULL, on_digits, d);
	if (!d->rx || (d->m > 1 && make_fir(d, rate) < 0)) {
		gw_dtmf_free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

void gw_dtmf_free(struct gw_dtmf *d)
{
	if (!d)
		return;
	if (d->rx)
		dtmf_rx_free(d->rx);
	free(d->taps);
	free(d->hist);
	free(d);
}

void gw_dtmf_reset(struct gw_dtmf *d)
{
	dtmf_rx_init(d->rx, on_digits, d);
	if (d->hist)
		memset(d->hist, 0, (size_t)d->ntaps * sizeof(*d->hist));
	d->pos = d->phase = 0;
}

/* Low-pass and keep every m-th sample: n in, at most n / m + 1 out. */
static int decimate(struct gw_dtmf *d, const int16_t *in, int n, int16_t *out)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		d->hist[d->pos] = in[i];
		d->pos = (d->pos + 1) % d->ntaps;
		if (++d->phase < d->m)
			continue;
		d->phase = 0;
		float acc = 0;
		for (int t = 0, j = d->pos; t < d->ntaps; t++, j = (j + 1) % d->ntaps)
			acc += d->taps[t] * d->hist[j];
		acc = acc > 32767.f ? 32767.f : acc < -32768.f ? -32768.f : acc;
		out[k++] = (int16_t)lrintf(acc);
	}
	return k;
}

int gw_dtmf_feed(struct gw_dtmf *d, const int16_t *s, size_t n)
{
	int16_t buf[CHUNK];
	d->reported = 0;
	while (n > 0) {
		int take = n > CHUNK ? CHUNK : (int)n;
		if (d->m == 1) {
			dtmf_rx(d->rx, s, take);
		} else {
			int k = decimate(d, s, take, buf);
			if (k > 0)
				dtmf_rx(d->rx, buf, k);
		}
		s += take;
		n -= (size_t)take;
	}
	return d->reported;
}

bool gw_dtmf_dedup_accept(struct gw_dtmf_dedup *dd, char digit, enum gw_dtmf_src src,
			  int64_t now_ms)
{
	if (dd->have && !dd->matched && dd->digit == digit && dd->src != src &&
	    now_ms - dd->ms <= GW_DTMF_DEDUP_MS && now_ms >= dd->ms) {
		dd->matched = true;
		return false;
	}
	*dd = (struct gw_dtmf_dedup){
	    .have = true, .matched = false, .digit = digit, .src = src, .ms = now_ms};
	return true;
}
