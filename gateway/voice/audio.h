/*
 * audio: the full-duplex radio <-> phone PCM bridge.
 *
 * Two ALSA devices opened by name (audio.radio, audio.phone: plughw:CARD=... in the
 * field, the virtual cards of tools/alsa in tests), S16 mono at one rate, fixed
 * periods. Capture-driven inside the gw_loop: only the two capture PCMs' poll
 * descriptors are registered; each capture period is written straight to the other
 * device's playback, which starts with half a period of margin. A drift compensator
 * per direction drops or repeats single samples, in silence when it can, to hold the
 * playback margin while the two cards' crystals disagree.
 */
#ifndef GW_AUDIO_H
#define GW_AUDIO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/loop.h"

struct gw_audio;

struct gw_audio_params {
	const char *radio_pcm; /* ALSA PCM names */
	const char *phone_pcm;
	unsigned int rate;	/* both devices, Hz: 8000..48000 (default 8000) */
	unsigned int period_ms; /* 5..40, default 10 */
	bool drift_comp;	/* default true; off only to measure the uncompensated bridge */
};

/* One direction of the bridge (capture of one device -> playback of the other). */
struct gw_audio_dir_stats {
	uint64_t frames_in, frames_out; /* read from capture / written to playback */
	unsigned int xruns_capture, xruns_playback;
	uint64_t dropped, inserted; /* single samples removed / repeated by drift compensation */
	int latency_us; /* added latency now: capture period + smoothed playback queue */
	int latency_min_us, latency_max_us; /* over the whole bridge run, after the first period */
};

struct gw_audio_stats {
	bool running;
	struct gw_audio_dir_stats to_phone, to_radio;
};

/* Fill p with the defaults (PCM names NULL). */
void gw_audio_params_defaults(struct gw_audio_params *p);

/*
 * Open and configure both devices from conf (audio.radio, audio.phone) with default
 * rate and period. Nothing runs until gw_audio_bridge_start(). 0 or negative errno
 * (the ALSA error is logged with the PCM name).
 */
int gw_audio_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_audio **out);
/* Same with explicit parameters. -EINVAL for a parameter out of range. */
int gw_audio_new_params(struct gw_loop *loop, const struct gw_audio_params *p,
			struct gw_audio **out);
/* Close both devices (stops a running bridge first). NULL is fine. */
void gw_audio_free(struct gw_audio *a);

/* Start both captures and register them with the loop; statistics restart. 0, -EALREADY, -errno. */
int gw_audio_bridge_start(struct gw_audio *a);
/* Unregister and stop all four streams. 0, or -EALREADY when not running. */
int gw_audio_bridge_stop(struct gw_audio *a);
/* Copy the counters of the current (or last) bridge run. Returns 0. */
int gw_audio_stats(const struct gw_audio *a, struct gw_audio_stats *st);

/* The device a captured period came from. */
enum gw_audio_side { GW_AUDIO_RADIO, GW_AUDIO_PHONE };
/*
 * Called in the loop thread with every captured period, before it is forwarded (and
 * before the radio TX gate mutes it): must not block (a recorder's ring, a VAD).
 */
typedef void (*gw_audio_tap_fn)(void *arg, enum gw_audio_side from, const int16_t *pcm, int n);
/* Install the one tap (fn NULL removes it). Returns 0. */
int gw_audio_set_tap(struct gw_audio *a, gw_audio_tap_fn fn, void *arg);
/*
 * Phone -> radio audio passes while the gate is open (the default, and again after each
 * bridge start); closed, silence is sent instead, e.g. while another radio talker holds
 * the floor. Returns 0.
 */
int gw_audio_set_radio_tx_gate(struct gw_audio *a, bool open);

/*
 * What each side's playback gets, and a listener on the phone's capture: the
 * announcement before the worker accepts (with the DTMF detector listening), the
 * hold message for the officer, silence instead of the other party. Default and
 * after gw_audio_pass(): the other side's capture (the bridge). Sides: gw_audio_side above.
 */
/* Each phone capture period, bridged or not, as read (S16 mono at the device rate). */
typedef void (*gw_audio_listen_fn)(void *arg, const int16_t *s, size_t n);
/* Set (or with fn NULL clear) the phone capture listener. */
void gw_audio_set_phone_listener(struct gw_audio *a, gw_audio_listen_fn fn, void *arg);
/*
 * From the next period on, side plays pcm[0..n) (S16 mono at the device rate), then
 * silence. pcm must stay valid until the side is given something else. Returns 0.
 */
int gw_audio_play(struct gw_audio *a, enum gw_audio_side side, const int16_t *pcm, size_t n);
/* side plays silence. Returns 0. */
int gw_audio_mute(struct gw_audio *a, enum gw_audio_side side);
/* side plays the other side's capture again (the bridge). Returns 0. */
int gw_audio_pass(struct gw_audio *a, enum gw_audio_side side);
/* 1 while side is playing a prompt given to gw_audio_play() and not finished, else 0. */
int gw_audio_playing(const struct gw_audio *a, enum gw_audio_side side);
/* The configured device rate in Hz (prompts and the DTMF detector must match it). */
unsigned int gw_audio_rate(const struct gw_audio *a);

/*
 * Drift compensator, one per direction (public for unit tests). Each period it takes
 * the playback "phase" (frames queued before the write plus capture frames still
 * waiting), smooths it and, while it is more than band frames off the phase seen in
 * the first 8 periods, drops (too much latency) or repeats (too little margin) one sample of the
 * period: the quietest one, and only in silence unless the error passed 2 x band.
 */
struct gw_audio_drift {
	int period, band;
	int target;  /* phase to hold, frames: the mean of the first 8 periods */
	int learned; /* periods seen so far, up to 8 */
	int64_t sum;
	int32_t avg_q8; /* smoothed phase, 1/256 frame */
	int dir;	/* 0 idle, +1 dropping, -1 inserting */
	uint64_t dropped, inserted;
};

/* Reset d for period frames at rate Hz. */
void gw_audio_drift_init(struct gw_audio_drift *d, int period, unsigned int rate);
/*
 * Feed one period: phase as above, in[0..n). Writes n-1, n or n+1 samples to out
 * (room for n+1) and returns how many.
 */
int gw_audio_drift_process(struct gw_audio_drift *d, int phase, const int16_t *in, int n,
			   int16_t *out);

#endif
