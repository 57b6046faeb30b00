/*
 * prompt: the voice prompts, loaded once from WAV files built from text at build time
 * (tools/prompts/<lang>/<name>.txt -> <prompt.dir>/<lang>/<name>.wav, 16-bit mono at
 * the audio device rate), and the announcement composed from them.
 */
#ifndef GW_PROMPT_H
#define GW_PROMPT_H

#include <stddef.h>
#include <stdint.h>

enum gw_prompt_id {
	GW_PROMPT_ANNOUNCE_FROM, /* "authority call from:", then the organisation */
	GW_PROMPT_ANNOUNCE,	 /* "authority call." when the organisation is unknown */
	GW_PROMPT_KEYS,		 /* "press 4 to accept, 5 to pass, star to repeat" */
	GW_PROMPT_HOLD,		 /* for the officer while paging */
	GW_PROMPT_NOBODY,	 /* for the officer: nobody reached */
	GW_PROMPT_COUNT
};

/* Longest prompt or synthesized name accepted, seconds. */
#define GW_PROMPT_MAX_S 60

struct gw_prompt {
	int16_t *pcm;
	size_t n;
	unsigned int rate;
};

/* File name (without .wav) of a prompt. */
const char *gw_prompt_name(enum gw_prompt_id id);

/*
 * Parse a RIFF/WAVE file held in buf[0..len) (libsndfile through a memory reader):
 * one channel, 16-bit PCM, rate Hz (0: any, 8000..48000), 1 frame..GW_PROMPT_MAX_S.
 * On success fills out (pcm malloc'd, free with gw_prompt_clear) and returns 0; else
 * -EINVAL with the reason logged under what (a file name; NULL: not logged, for
 * callers outside the loop's thread), or -ENOMEM.
 */
int gw_prompt_parse(const void *buf, size_t len, unsigned int rate, const char *what,
		    struct gw_prompt *out);
/* Free a prompt's samples; p may be zeroed or cleared already. */
void gw_prompt_clear(struct gw_prompt *p);

/*
 * Load one prompt, dir/<lang>/<name>.wav, at rate Hz into out (free with gw_prompt_clear).
 * Returns 0, -ENOENT/-errno when the file cannot be read, -EINVAL (logged), -ENOMEM.
 */
int gw_prompt_load(const char *dir, const char *lang, const char *name, unsigned int rate,
		   struct gw_prompt *out);

struct gw_prompts;

/*
 * Load every prompt of lang ("fi", "sv", "en") from dir/<lang>/<name>.wav at rate Hz.
 * Returns 0; -ENOENT/-errno when a file cannot be read, -EINVAL when one is not 16-bit
 * mono at rate (logged with the file and how to rebuild), -ENOMEM.
 */
int gw_prompts_load(const char *dir, const char *lang, unsigned int rate, struct gw_prompts **out);
/* Free the set. NULL is fine. */
void gw_prompts_free(struct gw_prompts *p);
/* One loaded prompt (never NULL for a loaded set). */
const struct gw_prompt *gw_prompts_get(const struct gw_prompts *p, enum gw_prompt_id id);
/*
 * The announcement for the worker: announce_from, the organisation's name org[0..n)
 * (at the set's rate), keys; or announce, keys when org is NULL or n is 0. Short
 * pauses between the parts. *pcm stays valid until the next call or gw_prompts_free.
 * Returns 0 or -ENOMEM.
 */
int gw_prompts_announcement(struct gw_prompts *p, const int16_t *org, size_t n, const int16_t **pcm,
			    size_t *len);

#endif
