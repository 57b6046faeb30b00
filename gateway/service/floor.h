/*
 * floor: simplex floor control of the bridged authority call, driven by the phone
 * side's voice activity.
 *
 * In a simplex radio call only the floor holder transmits. The worker's talk (the VAD)
 * asks for the floor and its end gives it up; the radio's floor events decide whether
 * the worker's audio reaches the radio: the phone->radio gate is open only while we
 * hold the floor and nobody else talks. Phone audio captured while waiting for the
 * grant is dropped (the gate sends silence), not held back. A duplex call keeps the
 * gate open and never asks for the floor. Pure logic behind an ops struct: no I/O.
 */
#ifndef GW_FLOOR_H
#define GW_FLOOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "radio/pei.h"

/* What floor control does to the radio, the bridge and the call log. */
struct gw_floor_ops {
	/* AT+CTXD / AT+CUTXC on call cci: 0 or negative errno (gw_pei_tx_request/_cease). */
	int (*tx_request)(void *arg, int cci);
	int (*tx_cease)(void *arg, int cci);
	/* Open or close the phone->radio audio (gw_audio_set_radio_tx_gate). */
	void (*gate)(void *arg, bool open);
	/* A call-log event of the live incident (kind "floor"); may be NULL. */
	void (*event)(void *arg, const char *kind, const char *detail);
	void *arg;
};

/* Call-log floor events written per minute at most; the rest are counted (GW_FLOOR_*). */
#define GW_FLOOR_EVENTS_PER_MIN 20

struct gw_floor_stats {
	uint64_t requests, grants, refusals, interruptions, others, ceases, suppressed;
};

struct gw_floor;

/* Create floor control (idle: no call). Returns 0 and *out, or -ENOMEM. The calls below
   take a NULL f (no voice bridge, no floor control) and do nothing. */
int gw_floor_new(struct gw_loop *loop, const struct gw_floor_ops *ops, struct gw_floor **out);
/* Free it (no cease is sent: gw_floor_stop first). NULL is fine. */
void gw_floor_free(struct gw_floor *f);

/*
 * The call is bridged on radio call cci: from now on talk and floor events count.
 * Simplex: the gate closes until our grant; duplex: it opens and stays open.
 */
void gw_floor_start(struct gw_floor *f, int cci, bool simplex);
/*
 * The call ends (or leaves the bridge): a floor we hold or asked for is given up
 * (AT+CUTXC) and the gate opens again (its default). Then idle. Idle: nothing.
 */
void gw_floor_stop(struct gw_floor *f);
/* The phone side started (true) or stopped (false) talking (the VAD, after its hangover). */
void gw_floor_talk(struct gw_floor *f, bool talking);
/* A floor event from the radio. Returns 1 when it was for our call (cci), else 0. */
int gw_floor_event(struct gw_floor *f, int cci, enum gw_pei_floor ev, const char *talker);

/* 1 while phone audio may reach the radio (the gate's state as last set), else 0. */
int gw_floor_gate_open(const struct gw_floor *f);
/* The counters of the current (or last) call. Returns 0. */
int gw_floor_stats(const struct gw_floor *f, struct gw_floor_stats *st);

#endif
