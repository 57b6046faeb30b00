/*
 * vcard_rig: the test side of the virtual sound cards (tools/alsa/pcm_vcard.c).
 *
 * A rig is a temporary directory with four FIFOs (radio/phone, in/out), an asoundrc
 * written from tools/alsa/asoundrc.in, and ALSA_CONFIG_PATH pointing at it, so code
 * under test opens "rinki_radio" and "rinki_phone" by name. One I/O thread feeds
 * injected samples into the capture FIFOs as fast as they take them and records
 * everything the cards play, with the CLOCK_MONOTONIC time each chunk came out. With
 * vr_opts.manual the cards run on a clock the test moves (vr_advance) instead, and every
 * time below is that clock's.
 * Helpers make tones and noise, load WAV files and find onsets and exact copies.
 */
#ifndef VCARD_RIG_H
#define VCARD_RIG_H

#include <stddef.h>
#include <stdint.h>

enum vr_side { VR_RADIO, VR_PHONE };

struct vr_opts {
	/* time compression, 1 = real time: the cards play speed seconds of audio per second of
	   their clock, in every mode (VR_PACED at speed 2: twice real time at most) */
	double speed;
	int tick_us;	  /* pointer granularity, 0 = whole periods */
	double radio_ppm; /* clock skew of each card */
	double phone_ppm;
	int manual; /* VR_MANUAL or VR_PACED: the cards' clock is not CLOCK_MONOTONIC */
};

/*
 * vr_opts.manual: VR_MANUAL, the cards' clock moves only by vr_advance (for a test that
 * runs the code under test in its own loop); VR_PACED, a thread of the rig moves it 1 ms
 * at a time, never ahead of CLOCK_MONOTONIC (it starts there), and holds each step until
 * no stream is busy (vcard_clock.h) or one has been busy for VR_PACE_GIVE_UP_MS: a
 * process under test that is slow for a moment (rinkid on a loaded machine) makes the
 * cards wait instead of losing periods. Times are the cards' clock, at most real time.
 */
#define VR_MANUAL	   1
#define VR_PACED	   2
#define VR_PACE_GIVE_UP_MS 200

struct vr_rig;

/* Defaults: real time, 1 ms tick, no skew, not manual. */
void vr_opts_default(struct vr_opts *o);

/*
 * Make the directory, FIFOs and asoundrc, export ALSA_CONFIG_PATH and start the I/O
 * thread. The plugin is $RINKI_VCARD_LIB or build/alsa/libasound_module_pcm_vcard.so,
 * the template $RINKI_VCARD_TEMPLATE or tools/alsa/asoundrc.in. 0 or -errno (printed).
 */
int vr_rig_new(const struct vr_opts *o, struct vr_rig **out);
/* Stop the thread, remove the directory; unsets nothing else. NULL is fine. */
void vr_rig_free(struct vr_rig *r);

/*
 * Manual pacing: move the cards' clock forward by ns, then wait until every open stream (in
 * any process) has moved its pointer to the new time, and take in what they played. 0,
 * -EINVAL (not VR_MANUAL), or -ETIMEDOUT when a stream did not catch up within timeout_ms
 * (a bound for a failure only: a stream answers as soon as its thread runs).
 */
int vr_advance(struct vr_rig *r, int64_t ns, int timeout_ms);
/* The cards' time in ns: the manual clock, or CLOCK_MONOTONIC. */
int64_t vr_now(const struct vr_rig *r);

/* The PCM names the code under test opens: "rinki_radio" / "rinki_phone". */
const char *vr_pcm_name(enum vr_side side);

/*
 * Queue n samples for the side's capture FIFO (what the card "hears"). Returns the
 * cards' time (vr_now) at which the first of them entered the FIFO (waits for that, up to
 * 2 s), or -errno. Onset timing is meaningful when nothing else is queued.
 */
int64_t vr_inject(struct vr_rig *r, enum vr_side side, const int16_t *s, size_t n);

/* Samples the side's card has played so far (copied out; caller frees *out). Count or -errno. */
long vr_played(struct vr_rig *r, enum vr_side side, int16_t **out);
/* The cards' time (vr_now, ns) at which played sample idx came out of the card, or -1. */
int64_t vr_played_time(struct vr_rig *r, enum vr_side side, size_t idx);
/* Largest |sample| the side's card played so far (since the last reset). */
int vr_played_peak(struct vr_rig *r, enum vr_side side);
/* Forget what was played so far (indices restart at 0). */
void vr_played_reset(struct vr_rig *r, enum vr_side side);

/* A sine of hz at amplitude amp. */
void vr_tone(int16_t *buf, size_t n, unsigned rate, double hz, int amp);
/* Deterministic noise in [-amp, amp] with no zero sample (good for exact matching). */
void vr_noise(int16_t *buf, size_t n, uint32_t seed, int amp);
/*
 * Load a RIFF/WAVE file of 16-bit PCM mono. Every field is bounds-checked; on error
 * prints why and returns -EINVAL (or -errno). On success *out (malloc) and *n, *rate.
 */
int vr_wav_load(const char *path, int16_t **out, size_t *n, unsigned *rate);

/* First index >= from with |s| > threshold, or -1. */
long vr_onset(const int16_t *s, size_t n, size_t from, int threshold);
/* First index where needle occurs bit-exactly in hay, or -1. */
long vr_find(const int16_t *hay, size_t nh, const int16_t *needle, size_t nn);
/*
 * needle in hay from index from, chunk by chunk (a period), each bit-exact and in order:
 * an xrun puts silence between two periods or skips one. *missing counts chunks not
 * found, *whole is 1 when all came out back to back. Index of the first chunk found, or -1.
 */
long vr_find_chunks(const int16_t *hay, size_t nh, size_t from, const int16_t *needle, size_t nn,
		    size_t chunk, int *missing, int *whole);

#endif
