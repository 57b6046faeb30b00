/*
 * vcard_clock: the clock a test drives for the virtual sound cards (tools/alsa/pcm_vcard.c
 * reads it, tools/alsa/vcard_rig.c moves it). The file, mapped shared by the test and by
 * every process that opens a card, holds the cards' time in ns; the test moves it forward
 * (vr_advance) and waits until every open stream has caught up with it, so what the cards
 * capture and play, and when, depends on the test's steps only, never on the machine's
 * speed. Futexes on the shared mapping carry the wake-ups both ways.
 */
#ifndef VCARD_CLOCK_H
#define VCARD_CLOCK_H

#include <stdint.h>

#define VC_CLOCK_MAGIC 0x76636c6bu /* "vclk" */
#define VC_CLOCK_SLOTS 16	   /* open streams at once */

struct vc_clock_slot {
	uint32_t used; /* 1 while a stream holds the slot */
	uint32_t seen; /* the last seq the stream has caught up with */
};

struct vc_clock {
	uint32_t magic;
	uint32_t seq;  /* futex: bumped by every advance (streams wait on it) */
	uint32_t acks; /* futex: bumped by a stream after it caught up (the test waits) */
	uint32_t pad;
	uint64_t now_ns; /* the cards' time */
	struct vc_clock_slot slot[VC_CLOCK_SLOTS];
};

#endif
