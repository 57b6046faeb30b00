/*
 * pei: the TETRA terminal driver, over the PEI (ETSI EN 300 392-5 AT commands).
 *
 * Owns the radio's serial port and AT engine. On every (re)open it sends the
 * init profile, then reports the terminal ready. Incoming individual calls
 * (+CTICN), connection (+CTCC) and release (+CTCR) become typed events for the
 * owner; ATA and ATH are the commands it offers. Simplex floor control: the
 * owner asks for and gives up the floor (AT+CTXD / AT+CUTXC), and the floor
 * indications (+CTXG, +CTXI, +CTXW, +CDTXC) come back as one typed event.
 * Parsers are public for tests.
 */
#ifndef GW_PEI_H
#define GW_PEI_H

#include <stdbool.h>

#include "core/conf.h"
#include "core/loop.h"
#include "radio/sds.h"

struct gw_pei;

#define GW_PEI_ID_MAX 18 /* 17-digit TSI + NUL */

/* released() cause for a call the terminal lost by restarting (outside the PEI's 0..255). */
#define GW_PEI_CAUSE_RESTART 256

/* +CTICN fields; optional fields absent in the line are -1 or "". */
struct gw_pei_call_in {
	int cci;
	int call_status;
	int ai_service;
	int calling_type;
	char calling[GW_PEI_ID_MAX];
	int hook;
	int simplex;
	int e2ee;
	int comms_type;
	int slots;
	int called_type;
	char called[GW_PEI_ID_MAX];
	int priority;
};

/* Where an SDS we send stands. */
enum gw_pei_sds_state {
	GW_PEI_SDS_ACCEPTED,	/* the terminal took it (+CMGS: <inst>) */
	GW_PEI_SDS_SENT,	/* the network took it (+CMGS: <inst>,4): not yet delivered */
	GW_PEI_SDS_DELIVERED,	/* the destination's SDS-REPORT says received */
	GW_PEI_SDS_UNCONFIRMED, /* sent, but no delivery report came in time */
	GW_PEI_SDS_FAILED,	/* refused, or every retry failed; detail: +CME code or status */
};

/* Floor (simplex transmission) events of a call, from the PEI floor indications. */
enum gw_pei_floor {
	GW_PEI_FLOOR_GRANTED, /* +CTXG TxGrant 0 for us: we may transmit */
	GW_PEI_FLOOR_OTHER,   /* +CTXG: another party talks (talker = its identity, may be "") */
	GW_PEI_FLOOR_QUEUED,  /* +CTXG TxGrant 2: our request waits in the SwMI queue */
	GW_PEI_FLOOR_REFUSED, /* +CTXG TxGrant 1: our request was not granted */
	GW_PEI_FLOOR_WAIT,    /* +CTXW: our transmission is told to wait */
	GW_PEI_FLOOR_INTERRUPTED, /* +CTXI: our transmission was interrupted (pre-empted) */
	GW_PEI_FLOOR_CEASED,	  /* +CDTXC: the down transmission (the talker) ceased */
};

/* Progress of an outgoing call set up with gw_pei_dial(). */
enum gw_pei_dial_state {
	GW_PEI_DIAL_PROGRESS,  /* +CTOCP: cause = its call status (0 progressing, 1 queued,
				  2 called party paged, 3 continue, 4 hang time expired) */
	GW_PEI_DIAL_CONNECTED, /* +CTCC: the called party answered */
	GW_PEI_DIAL_RELEASED,  /* +CTCR: cause = disconnect cause (gw_pei_cause_name()) */
	GW_PEI_DIAL_FAILED,    /* the terminal refused the set-up: cause = +CME code or -1 */
};

struct gw_pei_ops {
	/* The terminal finished its init profile (up = 1) or its port went away (0). */
	void (*ready)(void *arg, int up);
	void (*incoming)(void *arg, const struct gw_pei_call_in *call);
	void (*connected)(void *arg, int cci);
	void (*released)(void *arg, int cci, int cause);
	/* An SDS arrived (text reassembled, reports for our own SDS already consumed). */
	void (*sds_in)(void *arg, const char *from, const struct gw_sds_msg *msg);
	/* Progress of an SDS sent with gw_pei_send_sds(); handle as returned there. */
	void (*sds_state)(void *arg, int handle, enum gw_pei_sds_state st, int detail);
	/* Floor event of call cci; talker is the talking party's SSI/TSI or "" (may be NULL
	   in ops: floor events are then only logged). */
	void (*floor)(void *arg, int cci, enum gw_pei_floor ev, const char *talker);
	/* An outgoing call's progress (handle from gw_pei_dial(); cci -1 until the terminal
	   names it). Such calls get no connected()/released(): only this. May be NULL. */
	void (*dial_state)(void *arg, int handle, int cci, enum gw_pei_dial_state st, int cause);
	/* After the init: the terminal lists call cci we do not track (left up by an earlier
	   run); it is being released. May be NULL. */
	void (*orphan)(void *arg, int cci);
	/* A ready terminal's +CTICN, before anything else is done with the bytes it came in:
	   it is the first line of a read, complete, and parses. Returns true when it wrote
	   something urgent (a page): the bytes (and any read after them) are then held for
	   gw_pei_feed_held(), at most GW_PEI_HOLD_MS, and no other fd is served in this loop
	   iteration. incoming() follows for the +CTICN as for any. Must not queue radio
	   commands. May be NULL. */
	bool (*early)(void *arg, const struct gw_pei_call_in *call);
	void *arg;
};

/*
 * Parse one "+CLCC: <cci>,<dir>,<stat>,<mode>,<mpty>" line of AT+CLCC (the terminal's call
 * list; only the first field, the CC instance 0..65535, is used). 0, or -EINVAL.
 */
int gw_pei_parse_clcc(const char *line, int *cci);

/* Create the driver and open conf->radio_port. Returns 0 and *out, or -errno. */
int gw_pei_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_pei_ops *ops,
	       struct gw_pei **out);
void gw_pei_free(struct gw_pei *pei);

/*
 * Hand the bytes held since a page went ahead (ops.early true) to the engine now (they go
 * by themselves GW_PEI_HOLD_MS after it at the latest). Nothing held: nothing happens.
 */
void gw_pei_feed_held(struct gw_pei *pei);
#define GW_PEI_HOLD_MS 2

/* Answer the ringing individual call (ATA). Returns 0 or -errno (queue full, port down). */
int gw_pei_answer(struct gw_pei *pei, int cci);
/*
 * Release call cci (ATH, which clears every call of the terminal: the PEI has no per-call
 * release), only while cci is live. Returns 0, -ENOENT (cci not live: nothing sent) or -errno.
 */
int gw_pei_hangup(struct gw_pei *pei, int cci);

/*
 * Ask for the floor of live call cci (AT+CTXD=<cci>,1, ahead of queued commands);
 * the answer comes as a floor() event. Returns 0, -ENOENT (no such live call),
 * -EALREADY (we hold or asked for it already) or -errno (queue full, port down).
 */
int gw_pei_tx_request(struct gw_pei *pei, int cci);
/*
 * Give up the floor of call cci (AT+CUTXC=<cci>): our transmission ends. Returns 0,
 * -ENOENT (no such live call), -EALREADY (we neither hold nor asked for it) or -errno.
 */
int gw_pei_tx_cease(struct gw_pei *pei, int cci);
/* Name of a floor event ("granted", "other talker", ...). */
const char *gw_pei_floor_name(enum gw_pei_floor ev);

/*
 * Call the ISSI/TSI `to` (individual call, hook signalling, simplex or duplex):
 * AT+CTSDC sets the call parameters, then ATD<to>. Progress comes through
 * dial_state(). Returns a handle > 0, -EINVAL (bad identity), -EBUSY (another
 * dial still waits for its CC instance), -ENOTCONN (terminal not ready) or -errno.
 */
int gw_pei_dial(struct gw_pei *pei, const char *to, bool simplex);
const char *gw_pei_dial_state_name(enum gw_pei_dial_state st);
/* Parse "+CTOCP: <cci>,<call status>,...". Returns 0 or -EINVAL. */
int gw_pei_parse_ctocp(const char *line, int *cci, int *call_status);

/* Health kept for status. */
struct gw_pei_health {
	int port_up, ready;
	int reg_stat; /* +CREG stat: 1 home, 5 visited; -1 not asked yet */
	int rssi_dbm; /* from +CSQ; 0 unknown */
	int live_calls;
	char identity[GW_PEI_ID_MAX];
};
void gw_pei_health(const struct gw_pei *pei, struct gw_pei_health *out);

/* Why the terminal last stopped being ready: "port lost" or "restarted" (a banner, +CTOM or
   a changed mode); NULL when it never did. Read in the ready(0) callback for the reason. */
const char *gw_pei_down_reason(const struct gw_pei *pei);

/* Number of radio calls the terminal holds (from +CTICN/+CTCC until +CTCR). */
int gw_pei_live_calls(const struct gw_pei *pei);

/*
 * Before rinkid exits: hand the bytes held since a page went ahead to the engine (that call's
 * incoming() comes now), give up the floor we hold (AT+CUTXC per call), then release
 * every live radio call (ATH) so the terminal is not left in a call or transmitting. Returns how
 * many calls, 0, or -errno. The caller runs the loop until gw_pei_pending() is 0 (bounded).
 */
int gw_pei_shutdown(struct gw_pei *pei);
int gw_pei_pending(const struct gw_pei *pei);

/*
 * Send text (UTF-8) as one SDS-TL text with a receipt report request to the
 * ISSI/TSI `to`. AT+CTSDS is set first when the terminal's SDS type differs.
 * "+CMGS: <inst>,4" counts as sent by the network only; delivery is the
 * destination's SDS-REPORT. A failed send is retried on a timer (never on
 * OK), at most GW_PEI_SDS_TRIES times. Returns a handle > 0, or -EINVAL (bad
 * identity or text), -EMSGSIZE (does not fit one SDS), -EBUSY (too many in
 * flight).
 */
#define GW_PEI_SDS_TRIES 3
int gw_pei_send_sds(struct gw_pei *pei, const char *to, const char *text);
const char *gw_pei_sds_state_name(enum gw_pei_sds_state st);

/*
 * Parse a "+CTSDSR:" header (the 3-, 4-, 6- and 7-field forms). from is "" when
 * the form has no calling identity. Returns 0 or -EINVAL.
 */
int gw_pei_parse_ctsdsr(const char *line, int *ai_service, char *from, char *to, int *bits);

/* Parse a "+CTICN: ..." line. Returns 0 or -EINVAL (with the reason logged by the caller). */
int gw_pei_parse_cticn(const char *line, struct gw_pei_call_in *out);
/* Parse "+CTCC: <cci>,..." (only the cci is required). Returns 0 or -EINVAL. */
int gw_pei_parse_ctcc(const char *line, int *cci);
/* Parse "+CTCR: <cci>,<cause>". Returns 0 or -EINVAL. */
int gw_pei_parse_ctcr(const char *line, int *cci, int *cause);
/*
 * Parse a floor indication: "+CTXG: <cci>,<TxGrant>,<TxRqPrmsn>,<e2ee>[,<TPI type>,<TPI>]",
 * "+CTXI: <cci>[,...,<TPI type>,<TPI>]", "+CTXW: <cci>[,...]", "+CDTXC: <cci>[,...]".
 * A +CTXG with a talking party identity, or TxGrant 3, is GW_PEI_FLOOR_OTHER; TxGrant 0
 * without one is GRANTED. talker (GW_PEI_ID_MAX) gets the TPI or "". Returns 0 or -EINVAL.
 */
int gw_pei_parse_floor(const char *line, int *cci, enum gw_pei_floor *ev, char *talker);
/* Name of a +CTCR disconnect cause (EN 300 392-5 6.17.18), "reserved" or "unknown". */
const char *gw_pei_cause_name(int cause);

#endif
