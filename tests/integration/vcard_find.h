/*
 * vcard_find: what the voice tests ask of the virtual cards (tools/alsa/vcard_rig) while
 * the simulators keep running: wait until a side has played enough, and find a known
 * sound in what it played. Header-only; include after cmocka.h, harness.h and vcard_rig.h.
 */
#ifndef RINKI_VCARD_FIND_H
#define RINKI_VCARD_FIND_H

#include <stdint.h>
#include <stdlib.h>

/* Pump the sims until side has played want samples (timeout_ms at most). Returns the count. */
static inline long vf_wait_played(struct h_rig *rig, struct vr_rig *cards, enum vr_side side,
				  long want, int timeout_ms)
{
	for (int t = 0;; t += 50) {
		int16_t *s;
		long n = vr_played(cards, side, &s);
		free(s);
		if (n >= want || t >= timeout_ms)
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
