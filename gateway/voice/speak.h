/*
 * speak: a short text (the caller's organisation) spoken at run time, off the main
 * loop, as S16 mono at the audio device rate, for the announcement.
 *
 * One job at a time runs in a helper thread: espeak-ng (fixed voice, speed and pitch,
 * as for the built prompts) reads the text on stdin and writes WAV to a pipe, which
 * the thread parses (gw_prompt_parse) and resamples with libsamplerate. The result
 * comes back in the loop through a pipe, to a callback. Results are kept per text
 * (a small cache), so a name is synthesized once.
 */
#ifndef GW_SPEAK_H
#define GW_SPEAK_H

#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

/* Longest text spoken, bytes (the directory's organisation names are shorter). */
#define GW_SPEAK_TEXT_MAX 96

struct gw_speak;

/*
 * Speaker for rate Hz using program (NULL: "espeak-ng", looked up in PATH).
 * Returns 0, -EINVAL (rate), -ENOMEM or -errno (pipe).
 */
int gw_speak_new(struct gw_loop *loop, const char *program, unsigned int rate,
		 struct gw_speak **out);
/* Wait for a running job, free everything. NULL is fine. */
void gw_speak_free(struct gw_speak *s);

/*
 * Start speaking text in lang (fi, sv, en) unless it is cached or running.
 * Returns 1 when already cached, 0 when started, -EBUSY while another job runs,
 * -EINVAL for an empty or too long text or a bad language (logged).
 */
int gw_speak_start(struct gw_speak *s, const char *lang, const char *text);
/*
 * The cached result for (lang, text): 0 with *pcm and *n (valid until gw_speak_free);
 * -EAGAIN while it is being made, -ENOENT when not asked for or it failed.
 */
int gw_speak_get(struct gw_speak *s, const char *lang, const char *text, const int16_t **pcm,
		 size_t *n);
/* Run the loop until no job is running or ms passed (tests). 0, or -ETIMEDOUT. */
int gw_speak_wait(struct gw_speak *s, int ms);

#endif
