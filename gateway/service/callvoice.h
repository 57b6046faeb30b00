/*
 * callvoice: the voice policy of authority calls and call-backs, over the audio bridge.
 * The officer hears the hold message while workers are paged and "nobody reached" before
 * the release; the worker hears the announcement with the caller's organisation spoken in
 * it, in the worker's roster language; keys in the phone's capture reach the incident; a
 * bridged call of a recorded line is recorded; in a simplex radio call the phone side's
 * voice activity asks for and gives up the radio floor (service/floor).
 */
#ifndef GW_CALLVOICE_H
#define GW_CALLVOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/loop.h"
#include "radio/pei.h"
#include "service/call.h"
#include "service/callback.h"
#include "store/db.h"
#include "store/roster.h"

/* The radio side, as the wiring reaches it. Each returns 0 or -errno. */
struct gw_callvoice_ops {
	int (*radio_hangup)(void *arg, int cci); /* release radio call cci (only while live) */
	int (*tx_request)(void *arg, int cci);	 /* ask for the floor of cci */
	int (*tx_cease)(void *arg, int cci);	 /* give up the floor of cci */
	void *arg;
};

struct gw_callvoice;

/*
 * Open the voice path (none without audio.radio/audio.phone, or when they fail: logged) with
 * its prompts, synthesizer, recorder, key detector, VAD and floor control; the rest borrowed.
 * Returns 0 and *out, or -errno when the VAD or the floor control cannot be built.
 */
int gw_callvoice_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		     struct gw_calls *calls, struct gw_callback *callback,
		     const struct gw_callvoice_ops *ops, struct gw_callvoice **out);
/* Stop the path and free everything it opened. NULL is fine. */
void gw_callvoice_free(struct gw_callvoice *v);
/* The roster whose workers' languages pick the prompts (borrowed; NULL: prompt.language). */
void gw_callvoice_set_roster(struct gw_callvoice *v, const struct gw_roster *r);
/* Whether a voice path is open (audio devices given and working). */
bool gw_callvoice_has_audio(const struct gw_callvoice *v);

/* The incident moved to st: voice, recording, VAD and floor follow; a "nobody reached"
   release that waited for this call goes when it closes. */
void gw_callvoice_call_state(struct gw_callvoice *v, enum gw_call_state st);
/* The incident's worker answered: play the announcement naming org (may be NULL). */
void gw_callvoice_announce(struct gw_callvoice *v, const char *org);
/* The officer's radio leg is up: the hold message while workers are paged. */
void gw_callvoice_radio_connected(struct gw_callvoice *v);
/* Radio call cci ended: a goodbye for it is over. */
void gw_callvoice_radio_released(struct gw_callvoice *v, int cci);
/* A floor event of radio call cci, for the bridged call's floor control. */
void gw_callvoice_floor(struct gw_callvoice *v, int cci, enum gw_pei_floor ev, const char *talker);
/*
 * Release radio call cci for an incident or call-back: the floor is given up first.
 * Returns as ops->radio_hangup (0: the ATH went, which also ends a waiting goodbye).
 */
int gw_callvoice_radio_hangup(struct gw_callvoice *v, int cci);
/*
 * "Nobody reached" to the officer of cci (at once without voice), then cci is released, but
 * only when no newer call or call-back is live (ATH would cut it). Returns 0 or -errno.
 */
int gw_callvoice_unreached(struct gw_callvoice *v, int cci);

/* Call-back: play pcm (n samples) to the worker, the radio side muted. */
void gw_callvoice_cb_play(struct gw_callvoice *v, const int16_t *pcm, size_t n);
/* Call-back: bridge both ways (on) or stop the path unless an incident uses it. */
void gw_callvoice_cb_bridge(struct gw_callvoice *v, int on);
/* The call-back moved to st: a waiting "nobody reached" release goes when it is idle. */
void gw_callvoice_cb_state(struct gw_callvoice *v, enum gw_cb_state st);

#endif
