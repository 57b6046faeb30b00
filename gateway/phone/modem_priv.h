/*
 * modem_priv: what the phone driver's files (modem.c, modem_sms.c) share and nobody else
 * may use: the driver's struct, its SMS jobs and the helpers both call. Include only from
 * gateway/phone/modem*.c.
 */
#ifndef GW_MODEM_PRIV_H
#define GW_MODEM_PRIV_H

#include "phone/modem.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "link/at.h"
#include "core/log.h"
#include "link/serial.h"
#include "phone/sms.h"

#define T_CMD_MS      2000
#define T_DIAL_MS     10000
#define T_SMS_MS      40000 /* the SMS body until +CMGS (chan_dongle's LONG) */
#define SMS_JOBS      8
#define SMS_PARTS_MAX 8
#define SMS_REASM_MS  (10 * 60 * 1000)
#define CEER_PENDING  4
#define CMGR_PENDING  8
#define CMGL_ROUNDS   4	  /* listings after one init: 4 x CMGR_PENDING covers a 30-slot store */
#define T_SETTLE_MS   100 /* after the ESC on open: input quiet this long ends the drain */
#define T_SETTLE_MAX  500 /* ... and the drain ends this long after the ESC in any case */

/* One SMS send of up to SMS_PARTS_MAX parts in flight. */
struct sms_job;
/* One part on its way; kept so a part given up for an ATD can be queued again. */
struct sms_part {
	struct sms_job *j;
	int preempted; /* times given up for an ATD */
	char cmd[24];
	char hex[GW_SMS_PDU_HEX_MAX];
};
struct sms_job {
	struct gw_modem *m;
	int used;
	int parts, done;
	int failed;
	gw_modem_sms_cb cb;
	void *arg;
	struct sms_part part[SMS_PARTS_MAX];
};

struct gw_modem {
	struct gw_loop *loop;
	const struct gw_conf *conf;
	struct gw_modem_ops ops;
	struct gw_serial *port;
	struct gw_at *at;
	const char *down_why; /* why ready last went to 0 (gw_modem_down_reason) */
	int ready;

	enum gw_modem_call_state state;
	char number[32];
	char ahead[32];		/* the number gw_modem_dial_ahead dialled, until adopted or ended */
	unsigned ahead_wrong;	/* a dial that was not the one written ahead (hung up, redialled) */
	unsigned ahead_adopted; /* dials that adopted the ATD written ahead */
	int seen;		/* the call appeared in a CLCC list */
	int call_id;		/* its call id once a list or a vendor report named it, else -1 */
	int64_t dial_ms;	/* when ATD (or ATA) was queued, then answered */
	int64_t asked_ms;	/* when the outstanding AT+CLCC was written */
	int missing;		/* consecutive polls without it */
	int end_reported;	/* a call-progress code said the call ended: CLCC confirms */
	enum gw_modem_end end_why;
	struct sms_job jobs[SMS_JOBS];
	uint8_t sms_ref;
	struct gw_sms_reasm reasm;
	int dir; /* of the call: 0 we dialled it, 1 we answered it */
	struct {
		int ringing;  /* RING/+CLIP seen, not yet answered, rejected or gone */
		int reported; /* ops.incoming was called for it */
		char number[32];
	} in;
	struct gw_timer in_clip, in_gone;
	struct {
		char number[CEER_PENDING][32]; /* calls whose AT+CEER is queued, oldest first */
		int head, n;
	} ceer;
	struct {
		long idx[CMGR_PENDING]; /* messages whose AT+CMGR is queued, oldest first */
		int head, n;
	} cmgr;
	int cmgl_more;	 /* the last listing had more than CMGR_PENDING: list again when read */
	int cmgl_rounds; /* listings since the last init */
	int polling;	 /* a CLCC is queued or outstanding */
	int repoll;	 /* a call-state URC came during that poll: poll again at once */
	struct gw_timer poll;
	/* calls ended so far, and their count when the outstanding CLCC was asked: an answer
	 * to a poll asked before the last end is stale (it may list the old call) */
	unsigned call_gen, poll_gen;
	struct gw_timer probe, health;
	struct gw_timer settle; /* the port just opened: ESC written, input drained */
	int64_t settle_end;	/* 0 when not settling */
	int probing, probe_fails;
	struct gw_modem_health h;
	/* the SIM PIN from modem.sim_pin_file ("" none); sent at most once per init, and never
	   again once the SIM refused it: each wrong PIN spends one of the SIM's 3 attempts */
	char pin[GW_CONF_SIM_PIN_LEN];
	int pin_sent;	 /* this init */
	int pin_refused; /* for good: a restart of rinkid with a fixed file is needed */
};

struct gw_at;
struct gw_modem;

const char *modem_printable(const char *s, char *out, size_t len);
void modem_list_sms(struct gw_modem *m);
;
void modem_urc_cmti(struct gw_at *at, const char *const *lines, int n, void *arg);

#endif
