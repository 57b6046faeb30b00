/*
 * vcard_clock: the clock a test drives for the virtual sound cards (tools/alsa/pcm_vcard.c
 * reads it, tools/alsa/vcard_rig.c moves it). The file, mapped shared by the test and by
 * every process that opens a card, holds the cards' time in ns; the test moves it forward
 * (vr_advance) and waits until every open stream has caught up with it, so what the cards
 * capture and play, and when, depends on the test's steps only, never on the machine's
 * speed. Futexes on the shared mapping carry the wake-ups both ways. A pacer (vcard_rig's
 * VR_PACED) instead moves it at most as fast as real time and holds each step until no
 * stream is busy, so an application in another process that is slow for a moment makes
 * the cards wait rather than run over it.
 */
#ifndef VCARD_CLOCK_H
#define VCARD_CLOCK_H

#include <stdint.h>

#define VC_CLOCK_MAGIC 0x76636c6bu /* "vclk" */
#define VC_CLOCK_SLOTS 16	   /* open streams at once */

struct vc_clock_slot {
	uint32_t used; /* 1 while a stream holds the slot */
	uint32_t seen; /* the last seq the stream has caught up with */
	uint32_t gen;  /* bumped each time a stream takes the slot */
	/* 1 while the application is behind the card: capture data it was woken for and has
	   not read, or a running playback about to run dry (less than two ticks queued) */
	uint32_t busy;
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
