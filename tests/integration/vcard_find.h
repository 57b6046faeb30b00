/*
 * vcard_find: what the voice tests ask of the virtual cards (tools/alsa/vcard_rig) while
 * the simulators keep running: wait until a side has played enough, and find a known
 * sound in what it played. Header-only; include after cmocka.h, harness.h and vcard_rig.h.
 */
#ifndef RINKI_VCARD_FIND_H
#define RINKI_VCARD_FIND_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/*
 * Pump the sims until side has played want samples; the cards play all the time, so it
 * comes: the limit, max(timeout_ms, H_WAIT_MIN_MS) of wall time, only bounds a failure.
 * Returns the count.
 */
static inline long vf_wait_played(struct h_rig *rig, struct vr_rig *cards, enum vr_side side,
				  long want, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t end = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
		      (timeout_ms < H_WAIT_MIN_MS ? H_WAIT_MIN_MS : timeout_ms);
	for (;;) {
		int16_t *s;
		long n = vr_played(cards, side, &s);
		free(s);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (n >= want || (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= end)
			return n;
		h_pump(rig, 50);
	}
}

/*
 * Where pcm (rate Hz) came out on side, period by period (vr_find_chunks with 10 ms
 * chunks); prints the find. The index, or -1 when missing or more than 5 % of it is.
 */
static inline long vf_find_on(struct vr_rig *cards, unsigned rate, enum vr_side side,
			      const char *what, const int16_t *pcm, size_t n)
{
	int16_t *got;
	int missing, whole;
	long len = vr_played(cards, side, &got);
	long at = vr_find_chunks(got, (size_t)len, 0, pcm, n, rate / 100, &missing, &whole);
	free(got);
	print_message("%s: %.2f s at %s sample %ld, %s, %d periods missing\n", what,
		      (double)n / rate, side == VR_RADIO ? "radio" : "phone", at,
		      whole ? "whole" : "in pieces", missing);
	return at >= 0 && missing * 20 <= (int)(n / (rate / 100)) ? at : -1;
}

#endif
