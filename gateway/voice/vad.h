/*
 * vad: voice activity on the phone side, for floor requests in simplex radio calls.
 *
 * Energy per 10 ms frame against a tracked noise floor: a frame is speech when it is
 * margin_db above the floor (and above an absolute minimum). Talk starts after attack_ms
 * of consecutive speech frames and ends after hangover_ms without one; each change is
 * reported once through on_talk(arg, talking). Pure computation: no allocation, no I/O,
 * no clock (time is the samples fed), so it runs inside the audio path.
 */
#ifndef GW_VAD_H
#define GW_VAD_H

#include <stdbool.h>
#include <stdint.h>

struct gw_vad_params {
	unsigned int rate; /* Hz, 8000..48000 */
	int attack_ms;	   /* speech needed before talk starts, 10..500 (default 40) */
	int hangover_ms;   /* non-speech needed before talk ends, 50..5000 (default 500) */
	int margin_db;	   /* speech: this far above the noise floor, 3..40 (default 12) */
	int min_dbfs;	   /* and at least this loud, -90..-10 (default -55) */
	int floor_ms;	   /* the floor is the quietest frame of this window, 500..10000 (2000) */
};

typedef void (*gw_vad_talk_fn)(void *arg, bool talking);

#define GW_VAD_FRAME_MS	  10
#define GW_VAD_MAX_FRAMES (10000 / GW_VAD_FRAME_MS) /* floor window, frames */

/* Caller-owned state; fill with gw_vad_init(). */
struct gw_vad {
	struct gw_vad_params p;
	gw_vad_talk_fn on_talk;
	void *arg;
	int frame_len;		       /* samples per frame */
	int fill;		       /* samples in the current frame */
	double acc;		       /* sum of squares of the current frame */
	float hist[GW_VAD_MAX_FRAMES]; /* frame levels, dBFS, a ring of win frames */
	int win, hn, hpos;
	float floor_db, level_db; /* the current floor and the last frame's level */
	int run_ms, quiet_ms;	  /* consecutive speech / non-speech */
	bool talking;
	uint64_t talk_spurts;
};

/* Fill p with the defaults (rate 8000). */
void gw_vad_params_defaults(struct gw_vad_params *p);
/*
 * Reset v for p and the callback (on_talk may be NULL). 0, or -EINVAL with a logged
 * reason for a parameter out of range (v is then unusable).
 */
int gw_vad_init(struct gw_vad *v, const struct gw_vad_params *p, gw_vad_talk_fn on_talk, void *arg);
/*
 * Forget the floor and end talk without a callback (a new call). Parameters and the
 * callback stay.
 */
void gw_vad_reset(struct gw_vad *v);
/*
 * Feed n samples (any n >= 0); on_talk runs from here when talk starts or ends. Returns
 * whether talk is on after them (1 or 0).
 */
int gw_vad_process(struct gw_vad *v, const int16_t *pcm, int n);

#endif
