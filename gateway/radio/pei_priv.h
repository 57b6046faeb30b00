/*
 * pei_priv: what the radio driver's files (pei.c, pei_sds.c) share and nobody else may
 * use: the driver's struct, its live calls and SDS jobs, and the helpers both call.
 * Include only from gateway/radio/pei*.c.
 */
#ifndef GW_PEI_PRIV_H
#define GW_PEI_PRIV_H

#include "radio/pei.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "link/at.h"
#include "core/log.h"
#include "link/serial.h"

#define T_CMD_MS	   2000
#define MAX_CALLS	   8
#define RESYNC_MAX	   20
#define RESYNC_MS	   300
#define BUSY_RETRY_MS	   1000
#define PROBE_FAILS_REOPEN 3
#define DIAL_CCI_WAIT_MS   10000 /* after ATD's OK, for the terminal to name the call */
#define INIT_AGAIN_MS	   5000	 /* after an init step went unanswered */
#define POWERUP_STREAK_MAX 3	 /* power-up signs right after each init before they are ignored */

/* A live radio call; cci -1 marks a free slot. */
enum own_floor { OWN_NONE, OWN_ASKED, OWN_HELD };
struct pcall {
	int cci;
	enum own_floor own;
	int down; /* another party transmits (from +CTXG until +CDTXC) */
	int dial; /* our outgoing call's handle; 0 for an incoming call */
};

struct gw_pei {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_pei_ops ops;
	struct gw_serial *port;
	struct gw_at *at;
	/* bytes read after a +CTICN whose page went ahead (ops.early), handed to the engine
	   when the modem answers the ATD (gw_pei_feed_held) or GW_PEI_HOLD_MS later
	   (feed_later), so the modem's reader gets the CPU first */
	char *held;
	size_t nheld;
	struct gw_timer feed_later;
	int ready;
	const char *down_why; /* why ready last went to 0 (gw_pei_down_reason) */
	const struct profile *profile;
	int init_step; /* index into profile->cmds; -1 when no init runs */
	int init_retries;
	int init_fails;	    /* inits given up in a row (a step unanswered) */
	int want_mode;	    /* the AT+CTOM=<mode> of the init profile; -1 none */
	int echo_off;	    /* the last init's ATE0 was accepted */
	int mode_set;	    /* the last init's AT+CTOM=<mode> was accepted */
	int powerup_streak; /* power-up signs on the first probe after each init, in a row */
	int powerup_off;    /* that streak got too long: signs ignored until the port reopens */
	struct gw_timer init_retry;
	struct gw_timer probe;
	int probe_fails;
	int probing;
	struct gw_timer health;
	struct gw_pei_health h;
	struct pcall calls[MAX_CALLS];
	int sds_type; /* AI service last set with AT+CTSDS, -1 unknown */
	uint8_t sds_ref;
	int sds_handles;
	struct sds_job *jobs;
	struct gw_sds_reasm reasm;
	int dial_handles;
	int dial_wait; /* handle of the dial waiting for its cci; 0 none */
	struct gw_timer dial_timer;
};

/* One SDS we send, from queueing to its delivery report. */
#define HELD_MAX	   (16 * 1024 + 1024) /* more than the serial port reads in one wake-up */
#define SDS_JOBS	   16
#define SDS_RETRY_MS	   5000
#define SDS_REPORT_WAIT_MS 60000
#define SDS_REASM_MS	   (5 * 60 * 1000)
#define SDS_HOLD_MAX_MS	   120000
enum job_state { JOB_FREE, JOB_WAIT_CMGS, JOB_WAIT_NET, JOB_WAIT_REPORT, JOB_RETRY, JOB_HELD };
struct sds_job {
	struct gw_pei *pei;
	enum job_state st;
	int handle; /* 0: an acknowledgement we send, not reported to the owner */
	char to[GW_PEI_ID_MAX];
	char hex[GW_SDS_HEX_MAX];
	int bits;
	uint8_t ref;
	int inst; /* the terminal's SDS instance from +CMGS */
	int tries;
	int hold_over; /* held SDS_HOLD_MAX_MS already: send even during a transmission */
	struct gw_timer timer;
};

/*
 * Init profiles per terminal model. "generic" is the ETSI set: TMO, voice and
 * SDS-TL text/status to the TE. "motorola" is SvxLink TetraLogic's TMO list for
 * MTM5400/MTM800E (pei-init.json). Sepura and Airbus terminals use the generic
 * set: no public source confirms their PEI defaults (reference: unconfirmed).
 */

struct gw_at;
struct gw_loop;
struct gw_pei;

int pei_parse_id(const char *f, char *out);
const char *pei_params_of(const char *line, const char *prefix);
const char *pei_ssi_of(const char *id);
void pei_sds_floor_free(struct gw_pei *pei);
void pei_on_job_timer(struct gw_loop *loop, void *arg);
int pei_valid_id(const char *id);
void pei_urc_cmgs(struct gw_at *at, const char *const *lines, int n, void *arg);
void pei_urc_ctsdsr(struct gw_at *at, const char *const *lines, int n, void *arg);

#endif
