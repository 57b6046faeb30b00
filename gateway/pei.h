/*
 * pei: the TETRA terminal driver, over the PEI (ETSI EN 300 392-5 AT commands).
 *
 * Owns the radio's serial port and AT engine. On every (re)open it sends the
 * init profile, then reports the terminal ready. Incoming individual calls
 * (+CTICN), connection (+CTCC) and release (+CTCR) become typed events for the
 * owner; ATA and ATH are the commands it offers. Parsers are public for tests.
 */
#ifndef GW_PEI_H
#define GW_PEI_H

#include "conf.h"
#include "loop.h"

struct gw_pei;

#define GW_PEI_ID_MAX 18 /* 17-digit TSI + NUL */

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

struct gw_pei_ops {
	/* The terminal finished its init profile (up = 1) or its port went away (0). */
	void (*ready)(void *arg, int up);
	void (*incoming)(void *arg, const struct gw_pei_call_in *call);
	void (*connected)(void *arg, int cci);
	void (*released)(void *arg, int cci, int cause);
	void *arg;
};

/* Create the driver and open conf->radio_port. Returns 0 and *out, or -errno. */
int gw_pei_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_pei_ops *ops,
	       struct gw_pei **out);
void gw_pei_free(struct gw_pei *pei);

/* Answer the ringing individual call (ATA). Returns 0 or -errno (queue full, port down). */
int gw_pei_answer(struct gw_pei *pei, int cci);
/* Release the call (ATH). Returns 0 or -errno. */
int gw_pei_hangup(struct gw_pei *pei, int cci);

/* Health kept for status. */
struct gw_pei_health {
	int port_up, ready;
	int reg_stat; /* +CREG stat: 1 home, 5 visited; -1 not asked yet */
	int rssi_dbm; /* from +CSQ; 0 unknown */
	int live_calls;
	char identity[GW_PEI_ID_MAX];
};
void gw_pei_health(const struct gw_pei *pei, struct gw_pei_health *out);

/* Number of radio calls the terminal holds (from +CTICN/+CTCC until +CTCR). */
int gw_pei_live_calls(const struct gw_pei *pei);

/*
 * Before rinkid exits: release every live radio call (ATH) so the terminal is
 * not left in a call or transmitting. Returns how many calls, 0, or -errno. The
 * caller runs the loop until gw_pei_pending() is 0 (bounded).
 */
int gw_pei_shutdown(struct gw_pei *pei);
int gw_pei_pending(const struct gw_pei *pei);

/* Parse a "+CTICN: ..." line. Returns 0 or -EINVAL (with the reason logged by the caller). */
int gw_pei_parse_cticn(const char *line, struct gw_pei_call_in *out);
/* Parse "+CTCC: <cci>,..." (only the cci is required). Returns 0 or -EINVAL. */
int gw_pei_parse_ctcc(const char *line, int *cci);
/* Parse "+CTCR: <cci>,<cause>". Returns 0 or -EINVAL. */
int gw_pei_parse_ctcr(const char *line, int *cci, int *cause);
/* Name of a +CTCR disconnect cause (EN 300 392-5 6.17.18), "reserved" or "unknown". */
const char *gw_pei_cause_name(int cause);

#endif
