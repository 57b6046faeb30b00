/*
 * loop_run.h: for tests that drive a gateway loop in their own process (the audio tests):
 * the monotonic clock in ms and "run the loop for ms of wall time". Header-only, so the
 * harness (also linked into benchmarks without the gateway) does not depend on the loop.
 */
#ifndef RINKI_TEST_LOOP_RUN_H
#define RINKI_TEST_LOOP_RUN_H

#include <stdint.h>
#include <time.h>

#include "core/loop.h"

/* CLOCK_MONOTONIC in ms. */
static inline int64_t lr_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run loop's iterations until ms of wall time have passed. */
static inline void lr_run_for(struct gw_loop *loop, int64_t ms)
{
	int64_t end = lr_mono_ms() + ms;
	for (int64_t now = lr_mono_ms(); now < end; now = lr_mono_ms())
		gw_loop_run_once(loop, (int)(end - now));
}

#endif
