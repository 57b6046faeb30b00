/*
 * loop_run.h: for tests that drive a gateway loop in their own process between the
 * virtual cards on the manual clock (vcard_rig's VR_MANUAL): move the cards' clock 1 ms
 * at a time and, after each step, run the loop until it has nothing left to do. What the
 * bridge does then depends on the steps only, not on the machine's speed. Header-only;
 * include after cmocka.h and tools/alsa/vcard_rig.h.
 */
#ifndef RINKI_TEST_LOOP_RUN_H
#define RINKI_TEST_LOOP_RUN_H

#include "core/loop.h"

/* Move rig's cards ms milliseconds on, 1 ms per step, running loop to idle after each. */
static inline void lr_run_cards(struct vr_rig *rig, struct gw_loop *loop, int ms)
{
	for (int i = 0; i < ms; i++) {
		assert_int_equal(vr_advance(rig, 1000000, 30000), 0);
		while (gw_loop_run_once(loop, 0) > 0)
			;
	}
}

#endif
