/*
 * audio: the radio <-> phone bridge, inside the one event loop.
 *
 * Four PCMs (radio capture/playback, phone capture/playback), all non-blocking,
 * RW_INTERLEAVED S16_LE mono at one rate with the same period P. Only the two capture
 * PCMs' poll descriptors go to the loop (polling a playback with nothing to write
 * busy-loops). When a capture period is ready it is read and written at once to the
 * other device's playback. Playback is "primed" on the first period: half a period
 * of silence (minus whatever capture backlog the loop was late by) and the data,
 * then snd_pcm_start, which gives the measured best of the reference rig: about
 * 1.5 P capture-to-DAC with P/2 of margin either side and no silence prefill.
 *
 * Per direction a drift compensator watches the "phase": frames queued in playback
 * before the write plus capture frames still waiting. With equal clocks it is
 * constant whatever the loop's wake-up jitter; a crystal difference moves it by
 * ppm x rate frames per second. It is held at the value seen after priming by
 * dropping or repeating one sample per period, in silence when possible. Nothing is
 * changed while the phase stays within the band, so the bridge is bit-exact when
 * the clocks agree. speexdsp's adaptive resampler was not used: it would cost a
 * filter on every sample (and a package) to correct, for voice, about one sample a
 * second at 100 ppm, and would never pass audio through unchanged.
 *
 * An xrun on either side is recovered with snd_pcm_recover(); playback is primed
 * again, which restores the phase, and the compensator starts over.
 *
 * The same path runs before the bridge: each direction can write a prompt or silence
 * in place of what it captured (gw_audio_play/mute/pass), and a listener sees every
 * phone capture period (the in-band DTMF detector), so the announcement and the keys
 * use the cards' clocks, phase and drift handling exactly as the bridged voice does.
 */
#include "voice/audio.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define CAPTURE_PERIODS	 8 /* capture buffer: how long the loop may stall before overrun */
#define PLAYBACK_PERIODS 4
#define SILENCE_PEAK	 1024 /* a period whose peak is below this (-30 dBFS) is silence */
#define DRIFT_SMOOTH	 16   /* phase smoothing, periods */
#define DRIFT_LEARN	 8    /* periods after priming that set the phase to hold */

/* What a direction writes to its playback instead of its capture (see gw_audio_play). */
struct source {
	enum { SRC_PASS, SRC_MUTE, SRC_PROMPT } kind;
	const int16_t *pcm;
	size_t n, pos;
};

struct dir {
	struct gw_audio *a;
	struct source src;
	const char *name; /* "radio->phone" */
	snd_pcm_t *cap, *play;
	struct pollfd *pfds;
	int npfds;
	bool need_prime;
	bool have_latency;
	struct gw_audio_drift drift;
	struct gw_audio_dir_stats st;
};

struct gw_audio {
	struct gw_loop *loop;
	struct gw_audio_params p;
	char radio_name[GW_CONF_STR], phone_name[GW_CONF_STR];
	int period; /* frames */
	int16_t *buf, *out, *zeros;
	struct dir to_phone, to_radio;
	bool running;
	gw_audio_listen_fn phone_listener;
	void *phone_listener_arg;
	/* tap and radio TX gate (gw_audio_set_tap, gw_audio_set_radio_tx_gate) */
	gw_audio_tap_fn tap;
	void *tap_arg;
	bool tx_closed;
};

void gw_audio_params_defaults(struct gw_audio_params *p)
{
	*p = (struct gw_audio_params){.rate = 8000, .period_ms = 10, .drift_comp = true};
}

/* ---- drift compensator ---------------------------------------------------- */

void gw_audio_drift_init(struct gw_audio_drift *d, int period, unsigned int rate)
{
	memset(d, 0, sizeof(*d));
	d->period = period;
	/* P/8, but at least 1 ms: hardware pointers often move in 1 ms steps (USB). */
	d->band = period / 8 > (int)(rate / 1000) ? period / 8 : (int)(rate / 1000);
	if (d->band < 2)
		d->band = 2;
}

int gw_audio_drift_process(struct gw_audio_drift *d, int phase, const int16_t *in, int n,
			   int16_t *out)
{
	int32_t ph = phase * 256;
	if (d->learned < DRIFT_LEARN) {
		/* The phase to hold: what the first periods after priming show. */
		d->learned++;
		d->sum += phase;
		d->target = (int)(d->sum / d->learned);
		d->avg_q8 = d->target * 256;
		memcpy(out, in, (size_t)n * sizeof(*in));
		return n;
	}
	d->avg_q8 += (ph - d->avg_q8) / DRIFT_SMOOTH;
	int32_t err = d->avg_q8 - d->target * 256, band = d->band * 256;
	int32_t mag = err < 0 ? -err : err;
	if (d->dir == 0 && mag > band)
		d->dir = err > 0 ? 1 : -1;
	else if (d->dir != 0 && mag <= band / 2)
		d->dir = 0;

	if (d->dir != 0 && n > 1) {
		int quiet = 0, peak = 0;
		for (int i = 0; i < n; i++) {
			int v = abs(in[i]);
			if (v > peak)
				peak = v;
			if (v < abs(in[quiet]))
				quiet = i;
		}
		if (peak < SILENCE_PEAK || mag > 2 * band) {
			memcpy(out, in, (size_t)quiet * sizeof(*in));
			if (d->dir > 0) { /* too much queued: drop the quietest sample */
				memcpy(out + quiet, in + quiet + 1, (size_t)(n - quiet - 1) * 2);
				d->avg_q8 -= 256;
				d->dropped++;
				return n - 1;
			}
			out[quiet] = in[quiet]; /* too little margin: play it twice */
			memcpy(out + quiet + 1, in + quiet, (size_t)(n - quiet) * 2);
			d->avg_q8 += 256;
			d->inserted++;
			return n + 1;
		}
	}
	memcpy(out, in, (size_t)n * sizeof(*in));
	return n;
}

/* ---- devices -------------------------------------------------------------- */

static int alsa_fail(const char *pcm, const char *what, int err)
{
	LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "%s: %s: %s", pcm, what, snd_strerror(err));
	return err < 0 ? err : -EIO;
}

static int setup_pcm(struct gw_audio *a, const char *name, snd_pcm_stream_t stream, snd_pcm_t **out)
{
	const char *sname = stream == SND_PCM_STREAM_CAPTURE ? "capture" : "playback";
	snd_pcm_t *pcm;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t period = (snd_pcm_uframes_t)a->period, buffer, boundary;
	int periods = stream == SND_PCM_STREAM_CAPTURE ? CAPTURE_PERIODS : PLAYBACK_PERIODS;
	/* Some plugins start a thread at open (vcard, pulse, jack): it takes no signals, which
	   belong to the loop's signalfd (an unblocking thread would die of SIGTERM). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = snd_pcm_open(&pcm, name, stream, SND_PCM_NONBLOCK);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err < 0)
		return alsa_fail(name, sname, err);
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	const char *what = "hw_params";
	buffer = period * (snd_pcm_uframes_t)periods;
	if ((err = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, 1)) < 0)
		goto fail;
	what = "rate";
	if ((err = snd_pcm_hw_params_set_rate(pcm, hw, a->p.rate, 0)) < 0)
		goto fail;
	what = "period size";
	if ((err = snd_pcm_hw_params_set_period_size(pcm, hw, period, 0)) < 0)
		goto fail;
	what = "buffer size";
	if ((err = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer)) < 0)
		goto fail;
	what = "hw_params";
	if ((err = snd_pcm_hw_params(pcm, hw)) < 0)
		goto fail;
	what = "sw_params";
	if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_get_boundary(sw, &boundary)) < 0 ||
	    (err = snd_pcm_sw_params_set_avail_min(pcm, sw, period)) < 0 ||
	    /* Both are started explicitly: capture at bridge start, playback when primed. */
	    (err = snd_pcm_sw_params_set_start_threshold(pcm, sw, boundary)) < 0 ||
	    (err = snd_pcm_sw_params_set_stop_threshold(pcm, sw, buffer)) < 0 ||
	    (err = snd_pcm_sw_params(pcm, sw)) < 0)
		goto fail;
	LOGP(GW_LOG_AUDIO, GW_LOG_DEBUG, "%s: %s %u Hz, period %lu, buffer %lu", name, sname,
	     a->p.rate, (unsigned long)period, (unsigned long)buffer);
	*out = pcm;
	return 0;
fail:
	LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "%s: %s %s (%u Hz, period %lu) not accepted: %s", name,
	     sname, what, a->p.rate, (unsigned long)period, snd_strerror(err));
	snd_pcm_close(pcm);
	return err;
}

static void dir_close(struct dir *d)
{
	if (d->cap)
		snd_pcm_close(d->cap);
	if (d->play)
		snd_pcm_close(d->play);
	free(d->pfds);
	d->cap = d->play = NULL;
	d->pfds = NULL;
}

int gw_audio_new_params(struct gw_loop *loop, const struct gw_audio_params *p,
			struct gw_audio **out)
{
	if (!p->radio_pcm || !*p->radio_pcm || !p->phone_pcm || !*p->phone_pcm ||
	    strlen(p->radio_pcm) >= GW_CONF_STR || strlen(p->phone_pcm) >= GW_CONF_STR ||
	    p->rate < 8000 || p->rate > 48000 || p->period_ms < 5 || p->period_ms > 40) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR,
		     "bad parameters: PCM names must be set, rate 8000..48000, period 5..40 ms");
		return -EINVAL;
	}
	struct gw_audio *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->p = *p;
	snprintf(a->radio_name, sizeof(a->radio_name), "%s", p->radio_pcm);
	snprintf(a->phone_name, sizeof(a->phone_name), "%s", p->phone_pcm);
	a->p.radio_pcm = a->radio_name;
	a->p.phone_pcm = a->phone_name;
	a->period = (int)(p->rate * p->period_ms / 1000);
	a->buf = calloc((size_t)a->period, sizeof(*a->buf));
	a->out = calloc((size_t)a->period + 1, sizeof(*a->out));
	a->zeros = calloc((size_t)a->period, sizeof(*a->zeros));
	a->to_phone = (struct dir){.a = a, .name = "radio->phone"};
	a->to_radio = (struct dir){.a = a, .name = "phone->radio"};
	int err = -ENOMEM;
	if (!a->buf || !a->out || !a->zeros)
		goto fail;
	if ((err = setup_pcm(a, a->radio_name, SND_PCM_STREAM_CAPTURE, &a->to_phone.cap)) < 0 ||
	    (err = setup_pcm(a, a->phone_name, SND_PCM_STREAM_PLAYBACK, &a->to_phone.play)) < 0 ||
	    (err = setup_pcm(a, a->phone_name, SND_PCM_STREAM_CAPTURE, &a->to_radio.cap)) < 0 ||
	    (err = setup_pcm(a, a->radio_name, SND_PCM_STREAM_PLAYBACK, &a->to_radio.play)) < 0)
		goto fail;
	LOGP(GW_LOG_AUDIO, GW_LOG_INFO, "radio '%s', phone '%s': %u Hz, period %d (%u ms)",
	     a->radio_name, a->phone_name, p->rate, a->period, p->period_ms);
	*out = a;
	return 0;
fail:
	gw_audio_free(a);
	return err;
}

int gw_audio_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_audio **out)
{
	struct gw_audio_params p;
	gw_audio_params_defaults(&p);
	p.radio_pcm = conf->audio_radio;
	p.phone_pcm = conf->audio_phone;
	p.rate = (unsigned)conf->audio_rate;
	p.period_ms = (unsigned)conf->audio_period_ms;
	p.drift_comp = conf->audio_drift;
	return gw_audio_new_params(loop, &p, out);
}

void gw_audio_free(struct gw_audio *a)
{
	if (!a)
		return;
	if (a->running)
		gw_audio_bridge_stop(a);
	dir_close(&a->to_phone);
	dir_close(&a->to_radio);
	free(a->buf);
	free(a->out);
	free(a->zeros);
	free(a);
}

/* ---- the bridge ----------------------------------------------------------- */

static void bridge_fail(struct dir *d, const char *what, int err)
{
	LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "%s: %s: %s; bridge stopped", d->name, what,
	     snd_strerror(err));
	gw_audio_bridge_stop(d->a);
}

/* Playback stopped by an xrun or not started yet: get it back to PREPARED. */
static int play_reset(struct dir *d, int err)
{
	if (err < 0 && snd_pcm_recover(d->play, err, 1) == 0 &&
	    snd_pcm_state(d->play) == SND_PCM_STATE_PREPARED)
		return 0;
	snd_pcm_drop(d->play);
	return snd_pcm_prepare(d->play);
}

/*
 * Start playback with this period: silence up to half a period ahead of the capture
 * clock, then the data. Too late for that (the loop woke more than P/2 after the
 * period was complete): skip the period and prime on the next.
 */
static void prime(struct dir *d, const int16_t *buf, int cap_left)
{
	struct gw_audio *a = d->a;
	int half = a->period / 2;
	if (snd_pcm_state(d->play) != SND_PCM_STATE_PREPARED) {
		int err = play_reset(d, 0);
		if (err < 0) {
			bridge_fail(d, "playback prepare", err);
			return;
		}
	}
	/* The phase is set by how far capture is now, not when this period was read. */
	snd_pcm_sframes_t avail = snd_pcm_avail_update(d->cap);
	if (avail >= 0 && avail > cap_left)
		cap_left = (int)avail;
	if (cap_left > half)
		return;
	snd_pcm_sframes_t w =
	    half - cap_left > 0
		? snd_pcm_writei(d->play, a->zeros, (snd_pcm_uframes_t)(half - cap_left))
		: 0;
	if (w >= 0)
		w = snd_pcm_writei(d->play, buf, (snd_pcm_uframes_t)a->period);
	int err = w < 0 ? (int)w : snd_pcm_start(d->play);
	if (err < 0) {
		bridge_fail(d, "playback start", err);
		return;
	}
	d->st.frames_out += (uint64_t)a->period;
	d->need_prime = false;
	LOGP(GW_LOG_AUDIO, GW_LOG_DEBUG, "%s: playback started, %d frames ahead of capture",
	     d->name, half - cap_left);
	gw_audio_drift_init(&d->drift, a->period, a->p.rate);
	if (!a->p.drift_comp)
		d->drift.band = 1 << 20;
}

static void note_latency(struct dir *d)
{
	struct gw_audio *a = d->a;
	int frames = a->period + d->drift.avg_q8 / 256;
	int us = (int)((int64_t)frames * 1000000 / a->p.rate);
	d->st.latency_us = us;
	if (!d->have_latency || us < d->st.latency_min_us)
		d->st.latency_min_us = us;
	if (!d->have_latency || us > d->st.latency_max_us)
		d->st.latency_max_us = us;
	d->have_latency = true;
}

static void forward(struct dir *d, const int16_t *buf, int cap_left)
{
	struct gw_audio *a = d->a;
	if (d->need_prime) {
		prime(d, buf, cap_left);
		return;
	}
	snd_pcm_sframes_t delay = 0;
	int err = snd_pcm_delay(d->play, &delay);
	if (err == 0) {
		if (!d->drift.learned)
			LOGP(GW_LOG_AUDIO, GW_LOG_DEBUG, "%s: phase %d (queued %d, capture %d)",
			     d->name, (int)delay + cap_left, (int)delay, cap_left);
		int n = gw_audio_drift_process(&d->drift, (int)delay + cap_left, buf, a->period,
					       a->out);
		snd_pcm_sframes_t w = snd_pcm_writei(d->play, a->out, (snd_pcm_uframes_t)n);
		if (w >= 0) {
			d->st.frames_out += (uint64_t)w;
			d->st.dropped += n < a->period;
			d->st.inserted += n > a->period;
			note_latency(d);
			return;
		}
		err = (int)w;
	}
	if (err == -EAGAIN) { /* playback full: cannot happen while the phase is held */
		LOGP(GW_LOG_AUDIO, GW_LOG_WARN, "%s: playback full, period dropped", d->name);
		return;
	}
	if (err != -EPIPE && err != -ESTRPIPE) {
		bridge_fail(d, "playback", err);
		return;
	}
	d->st.xruns_playback++;
	LOGP(GW_LOG_AUDIO, GW_LOG_WARN, "%s: playback underrun, restarting at half a period",
	     d->name);
	if ((err = play_reset(d, err)) < 0) {
		bridge_fail(d, "playback recover", err);
		return;
	}
	d->need_prime = true;
	prime(d, buf, cap_left);
}

static void capture_xrun(struct dir *d, int err)
{
	if (err != -EPIPE && err != -ESTRPIPE) {
		bridge_fail(d, "capture", err);
		return;
	}
	d->st.xruns_capture++;
	LOGP(GW_LOG_AUDIO, GW_LOG_WARN, "%s: capture overrun (loop stalled), restarting", d->name);
	if ((err = snd_pcm_recover(d->cap, err, 1)) < 0 || (err = snd_pcm_start(d->cap)) < 0) {
		bridge_fail(d, "capture recover", err);
		return;
	}
	/* The playback queue is stale now: start it over with the next period. */
	if ((err = play_reset(d, 0)) < 0) {
		bridge_fail(d, "playback prepare", err);
		return;
	}
	d->need_prime = true;
}

/* ---- phone listener and prompt sources ----------------------------------- */

/* Before a captured period is forwarded: hand the phone's to the listener, then put the
   prompt or silence in its place when the direction is not passing audio through. */
static void listen_and_source(struct dir *d, int16_t *buf)
{
	struct gw_audio *a = d->a;
	size_t p = (size_t)a->period;
	if (d == &a->to_radio && a->phone_listener)
		a->phone_listener(a->phone_listener_arg, buf, p);
	struct source *src = &d->src;
	if (src->kind == SRC_PASS)
		return;
	size_t take = 0;
	if (src->kind == SRC_PROMPT && src->pos < src->n) {
		take = src->n - src->pos < p ? src->n - src->pos : p;
		memcpy(buf, src->pcm + src->pos, take * sizeof(*buf));
		src->pos += take;
	}
	memset(buf + take, 0, (p - take) * sizeof(*buf));
}

/* The direction whose playback is side. */
static struct dir *dir_to(struct gw_audio *a, enum gw_audio_side side)
{
	return side == GW_AUDIO_PHONE ? &a->to_phone : &a->to_radio;
}

void gw_audio_set_phone_listener(struct gw_audio *a, gw_audio_listen_fn fn, void *arg)
{
	a->phone_listener = fn;
	a->phone_listener_arg = arg;
}

int gw_audio_play(struct gw_audio *a, enum gw_audio_side side, const int16_t *pcm, size_t n)
{
	dir_to(a, side)->src = (struct source){.kind = SRC_PROMPT, .pcm = pcm, .n = n};
	return 0;
}

int gw_audio_mute(struct gw_audio *a, enum gw_audio_side side)
{
	dir_to(a, side)->src = (struct source){.kind = SRC_MUTE};
	return 0;
}

int gw_audio_pass(struct gw_audio *a, enum gw_audio_side side)
{
	dir_to(a, side)->src = (struct source){.kind = SRC_PASS};
	return 0;
}

int gw_audio_playing(const struct gw_audio *a, enum gw_audio_side side)
{
	const struct source *src = side == GW_AUDIO_PHONE ? &a->to_phone.src : &a->to_radio.src;
	return src->kind == SRC_PROMPT && src->pos < src->n;
}

unsigned int gw_audio_rate(const struct gw_audio *a)
{
	return a->p.rate;
}

/* ---- tap and radio TX gate ------------------------------------------------ */

int gw_audio_set_tap(struct gw_audio *a, gw_audio_tap_fn fn, void *arg)
{
	a->tap = fn;
	a->tap_arg = arg;
	return 0;
}

int gw_audio_set_radio_tx_gate(struct gw_audio *a, bool open)
{
	if (a->tx_closed == !open)
		return 0;
	a->tx_closed = !open;
	LOGP(GW_LOG_AUDIO, GW_LOG_DEBUG, "phone->radio %s", open ? "open" : "muted");
	return 0;
}

/* A captured period as captured, before any prompt or gate: to the tap. */
static void tap_capture(struct dir *d, const int16_t *buf, int n)
{
	struct gw_audio *a = d->a;
	if (a->tap)
		a->tap(a->tap_arg, d == &a->to_phone ? GW_AUDIO_RADIO : GW_AUDIO_PHONE, buf, n);
}

/* The last step before forwarding: phone->radio muted while the gate is closed. */
static void gate_radio_tx(struct dir *d, int16_t *buf, int n)
{
	struct gw_audio *a = d->a;
	if (d == &a->to_radio && a->tx_closed)
		memset(buf, 0, (size_t)n * sizeof(*buf));
}

static void on_capture(struct gw_loop *loop, int fd, short revents, void *arg)
{
	struct dir *d = arg;
	struct gw_audio *a = d->a;
	unsigned short rev = 0;
	(void)loop;
	for (int i = 0; i < d->npfds; i++)
		d->pfds[i].revents = d->pfds[i].fd == fd ? revents : 0;
	int err = snd_pcm_poll_descriptors_revents(d->cap, d->pfds, (unsigned int)d->npfds, &rev);
	if (err < 0) {
		bridge_fail(d, "poll revents", err);
		return;
	}
	/* Read every complete period; each knows how much capture is still waiting. */
	for (int guard = 0; guard < CAPTURE_PERIODS + 1 && a->running; guard++) {
		snd_pcm_sframes_t avail = snd_pcm_avail_update(d->cap);
		if (avail < 0) {
			capture_xrun(d, (int)avail);
			return;
		}
		if (avail < a->period)
			return;
		snd_pcm_sframes_t r = snd_pcm_readi(d->cap, a->buf, (snd_pcm_uframes_t)a->period);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			capture_xrun(d, (int)r);
			return;
		}
		d->st.frames_in += (uint64_t)r;
		if (r == a->period) {
			tap_capture(d, a->buf, (int)r);
			listen_and_source(d, a->buf);
			gate_radio_tx(d, a->buf, (int)r);
			forward(d, a->buf, (int)(avail - r));
		}
	}
}

static int dir_start(struct dir *d)
{
	struct gw_audio *a = d->a;
	int err;
	snd_pcm_drop(d->cap);
	if ((err = snd_pcm_prepare(d->cap)) < 0 || (err = play_reset(d, 0)) < 0)
		return alsa_fail(d->name, "prepare", err);
	memset(&d->st, 0, sizeof(d->st));
	d->have_latency = false;
	d->need_prime = true;
	int n = snd_pcm_poll_descriptors_count(d->cap);
	if (n <= 0)
		return alsa_fail(d->name, "poll descriptors", n < 0 ? n : -EIO);
	free(d->pfds);
	d->pfds = calloc((size_t)n, sizeof(*d->pfds));
	if (!d->pfds)
		return -ENOMEM;
	d->npfds = snd_pcm_poll_descriptors(d->cap, d->pfds, (unsigned int)n);
	for (int i = 0; i < d->npfds; i++) {
		err = gw_loop_add_fd(a->loop, d->pfds[i].fd, d->pfds[i].events, on_capture, d);
		if (err < 0) {
			while (--i >= 0)
				gw_loop_del_fd(a->loop, d->pfds[i].fd);
			d->npfds = 0;
			LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "%s: cannot register poll fd: %s", d->name,
			     strerror(-err));
			return err;
		}
	}
	return 0;
}

static void dir_stop(struct dir *d)
{
	for (int i = 0; i < d->npfds; i++)
		gw_loop_del_fd(d->a->loop, d->pfds[i].fd);
	d->npfds = 0;
	snd_pcm_drop(d->cap);
	snd_pcm_drop(d->play);
}

int gw_audio_bridge_start(struct gw_audio *a)
{
	if (a->running)
		return -EALREADY;
	int err = dir_start(&a->to_phone);
	if (err == 0 && (err = dir_start(&a->to_radio)) < 0)
		dir_stop(&a->to_phone);
	if (err < 0)
		return err;
	a->running = true;
	a->tx_closed = false;
	/* Back to back, so both directions see the same loop delays. */
	if ((err = snd_pcm_start(a->to_phone.cap)) < 0 ||
	    (err = snd_pcm_start(a->to_radio.cap)) < 0) {
		gw_audio_bridge_stop(a);
		return alsa_fail(a->radio_name, "capture start", err);
	}
	LOGP(GW_LOG_AUDIO, GW_LOG_INFO, "bridge up: %s <-> %s", a->radio_name, a->phone_name);
	return 0;
}

static void log_dir(const struct dir *d)
{
	const struct gw_audio_dir_stats *s = &d->st;
	LOGP(GW_LOG_AUDIO, GW_LOG_INFO,
	     "%s: %llu frames in, %llu out, xruns %u capture %u playback, %llu dropped "
	     "%llu repeated, latency %d us (%d..%d)",
	     d->name, (unsigned long long)s->frames_in, (unsigned long long)s->frames_out,
	     s->xruns_capture, s->xruns_playback, (unsigned long long)s->dropped,
	     (unsigned long long)s->inserted, s->latency_us, s->latency_min_us, s->latency_max_us);
}

int gw_audio_bridge_stop(struct gw_audio *a)
{
	if (!a->running)
		return -EALREADY;
	a->running = false;
	dir_stop(&a->to_phone);
	dir_stop(&a->to_radio);
	log_dir(&a->to_phone);
	log_dir(&a->to_radio);
	return 0;
}

int gw_audio_stats(const struct gw_audio *a, struct gw_audio_stats *st)
{
	st->running = a->running;
	st->to_phone = a->to_phone.st;
	st->to_radio = a->to_radio.st;
	return 0;
}
