/*
 * callback: a worker calls the gateway's phone number and is put through to an officer's
 * radio (DESIGN §2): answer, PIN by DTMF, ISSI/TSI by DTMF, individual radio call, bridge.
 *
 * One call-back at a time, as an explicit state machine (table in callback.c); it is an
 * incident of its own in the call log (line "callback"). The call module offers it the
 * roster workers' calls while no authority call is live and routes the worker's keys and
 * the phone call's end to it; rinkid routes the radio dial's progress. It acts only
 * through the ops.
 */
#ifndef GW_CALLBACK_H
#define GW_CALLBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf.h"
#include "store/db.h"
#include "core/loop.h"
#include "phone/modem.h"
#include "radio/pei.h"
#include "store/roster.h"

enum gw_cb_state {
	GW_CB_ST_IDLE,	  /* no call-back */
	GW_CB_ST_PIN,	  /* answered: "enter your PIN and #", collecting keys */
	GW_CB_ST_ISSI,	  /* PIN right: "enter the radio number and #" */
	GW_CB_ST_DIALING, /* the radio call is being set up; the worker hears the hold prompt */
	GW_CB_ST_BRIDGED, /* the officer answered: voice both ways */
	GW_CB_ST_GOODBYE, /* a last prompt plays to the worker, then the phone is hung up */
	GW_CB_ST_COUNT
};

enum gw_cb_event {
	GW_CB_EV_KEY,		  /* data: char digit */
	GW_CB_EV_T_KEY,		  /* callback.key_time without a key */
	GW_CB_EV_T_DIAL,	  /* the radio did not answer within call.ring_time */
	GW_CB_EV_RADIO_CONNECTED, /* data: int cci */
	GW_CB_EV_RADIO_ENDED,	  /* the radio call failed or was released; data: int cause */
	GW_CB_EV_PHONE_ENDED,	  /* data: enum gw_modem_end */
	GW_CB_EV_T_GOODBYE,	  /* the last prompt has played */
	GW_CB_EV_COUNT
};

/* The call-back's prompts: tools/prompts/<lang>/<name>.txt, built with the others. */
enum gw_cb_prompt {
	GW_CB_PROMPT_PIN,      /* "enter your PIN and the hash key" */
	GW_CB_PROMPT_ISSI,     /* "enter the radio number and the hash key" */
	GW_CB_PROMPT_WRONG,    /* "wrong PIN" (then the PIN prompt again) */
	GW_CB_PROMPT_HOLD,     /* "please wait, calling the radio" */
	GW_CB_PROMPT_NOANSWER, /* "the radio did not answer" */
	GW_CB_PROMPT_GOODBYE,  /* "goodbye" */
	GW_CB_PROMPT_COUNT
};

/* What the machine does to the legs. Each int op returns >= 0 or negative errno. */
struct gw_callback_ops {
	int (*phone_answer)(void *arg);
	int (*phone_hangup)(void *arg);
	/* Play pcm[0..n) to the worker (radio side muted); the audio path is started if needed.
	   May be NULL (no voice: the flow runs silent). */
	void (*play)(void *arg, const int16_t *pcm, size_t n);
	/* Individual radio call to issi; returns a handle > 0 (gw_pei_dial) or -errno. */
	int (*radio_dial)(void *arg, const char *issi, bool simplex);
	int (*radio_hangup)(void *arg, int cci);
	/* Voice both ways (on = 1) or the audio path stopped (0). May be NULL. */
	void (*bridge)(void *arg, int on);
	/* Every change of state, after it is made (status, LEDs). May be NULL. */
	void (*state)(void *arg, enum gw_cb_state st);
	void *arg;
};

struct gw_callback;

/* Create the machine. db may be NULL (nothing logged; tests). Returns 0 or -ENOMEM. */
int gw_callback_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		    const struct gw_callback_ops *ops, struct gw_callback **out);
/* Free it (a live call-back is dropped without touching the legs). NULL is fine. */
void gw_callback_free(struct gw_callback *cb);
/* Use this roster snapshot (PINs, languages) from now on; the caller keeps ownership. */
void gw_callback_set_roster(struct gw_callback *cb, const struct gw_roster *roster);
/*
 * Load the prompts of every language (fi, sv, en) from dir/<lang>/<name>.wav at rate Hz.
 * Returns 0 or the first error of gw_prompt_load (the flow then runs silent).
 */
int gw_callback_load_prompts(struct gw_callback *cb, const char *dir, unsigned int rate);

/*
 * A roster worker's call rings in while no authority call is live. Taken (answered, PIN
 * asked) when the worker has a PIN, is not locked out and no call-back is live: returns 1.
 * Not taken: 0 with the reason logged (the caller rejects the call as before). A failed
 * answer returns its negative errno (nothing is left live).
 */
int gw_callback_offer(struct gw_callback *cb, const char *number);
/* True while a call-back is live (the phone is ours). NULL is fine (false). */
bool gw_callback_live(const struct gw_callback *cb);
/* Call-log id of the live call-back, 0 when none (or the database refused it). */
int64_t gw_callback_id(const struct gw_callback *cb);
/* State of the call-back machine (GW_CB_ST_IDLE when none is live). NULL is fine (IDLE). */
enum gw_cb_state gw_callback_state(const struct gw_callback *cb);
/* Roster name of the live call-back's worker; "" when none is live. NULL is fine (""). */
const char *gw_callback_worker(const struct gw_callback *cb);

/* Driver reports while live (ignored, logged at debug, when not). */
void gw_callback_key(struct gw_callback *cb, char digit);
void gw_callback_phone_ended(struct gw_callback *cb, enum gw_modem_end why);
/* gw_pei_ops.dial_state. Returns 1 when handle was the call-back's dial, else 0. */
int gw_callback_dial_state(struct gw_callback *cb, int handle, int cci, enum gw_pei_dial_state st,
			   int cause);

/*
 * Validate a dialled radio identity: an ISSI of 1-8 digits (1..16777215, leading zeros
 * dropped into out) or a TSI of exactly 17 digits (MCC 3, MNC 5, SSI 8 digits, SSI non-zero).
 * out holds GW_PEI_ID_MAX. Returns 0 or -EINVAL.
 */
int gw_callback_parse_id(const char *digits, char out[GW_PEI_ID_MAX]);

/*
 * Lock-out left after three wrong PINs for a call from phone, in ms (0: none): the
 * longer of the number's own and that of the roster worker the number belongs to.
 */
int64_t gw_callback_lockout_left(const struct gw_callback *cb, const char *phone);

const char *gw_cb_state_name(enum gw_cb_state st);
const char *gw_cb_event_name(enum gw_cb_event ev);
/* File name (without .wav) of a call-back prompt. */
const char *gw_cb_prompt_name(enum gw_cb_prompt p);

#endif
