/*
 * modem: the cellular modem driver (3GPP TS 27.007 AT commands).
 *
 * Owns the modem's serial port and AT engine. Dials voice calls with ATD<n>;
 * and takes AT+CLCC, polled while a call exists, as the truth about the call:
 * the OK of ATD only means dialling started. BUSY / NO ANSWER / NO CARRIER /
 * NO DIALTONE are confirmed by AT+CLCC, then end the call; AT+CEER is then
 * asked for the cause text. Liveness: modem.probe_idle seconds of silence send
 * an AT probe; three unanswered probes restart the modem (AT+CFUN=1,1) when no
 * call exists, or only reopen its port during a call. modem.vendor picks a profile (generic,
 * huawei, quectel, simcom): its init lines enable the vendor's call-state URCs (^ORIG/^CONN/
 * ^CEND, +QIND "ccinfo", ^DSCI, unsolicited +CLCC), which only trigger an immediate AT+CLCC,
 * and its received-DTMF URCs (Quectel +QTONEDET, SIMCom +RXDTMF/+DTMF). SMS: PDU mode
 * both ways (gateway/sms); received messages are read on +CMTI and always deleted afterwards, even
 * when they do not parse; one whose originator is no phone number (alphanumeric) is logged
 * with the name it gave and dropped; after every init AT+CMGL=4 lists those stored while nobody
 * listened, and each is read the same way (at most 8 per listing, 4 listings). Incoming calls
 * (RING/+CRING, caller ID from +CLIP) are reported once and answered (ATA) or rejected (AT+CHUP) by
 * the owner; a page dialled meanwhile drops them.
 */
#ifndef GW_MODEM_H
#define GW_MODEM_H

#include "core/conf.h"
#include "core/loop.h"

struct gw_modem;

/* +CLCC stat values (27.007) plus our own idle. */
enum gw_modem_call_state {
	GW_MODEM_CALL_ACTIVE = 0,
	GW_MODEM_CALL_HELD = 1,
	GW_MODEM_CALL_DIALING = 2,
	GW_MODEM_CALL_ALERTING = 3,
	GW_MODEM_CALL_INCOMING = 4,
	GW_MODEM_CALL_WAITING = 5,
	GW_MODEM_CALL_IDLE = 6,
};

enum gw_modem_end {
	GW_MODEM_END_LOCAL, /* we hung up */
	GW_MODEM_END_BUSY,
	GW_MODEM_END_NO_ANSWER,
	GW_MODEM_END_NO_CARRIER, /* remote hung up, or the network cleared the call */
	GW_MODEM_END_NO_DIALTONE,
	GW_MODEM_END_ERROR, /* ATD refused (+CME ERROR, ERROR) */
	GW_MODEM_END_GONE,  /* vanished from the AT+CLCC list */
	GW_MODEM_END_PORT,  /* the modem's port went away */
};

struct gw_modem_ops {
	void (*ready)(void *arg, int up);
	/* The outgoing call moved to ALERTING or ACTIVE (answered). */
	void (*progress)(void *arg, enum gw_modem_call_state state);
	/* The outgoing call ended. */
	void (*ended)(void *arg, enum gw_modem_end why);
	/* A key pressed on the far phone, reported by the modem (0-9 * # A-D). */
	void (*dtmf)(void *arg, char digit);
	/*
	 * A complete received SMS (parts reassembled): the sender's phone number (never an
	 * alphanumeric or other non-number originator: those are logged and dropped, see
	 * gw_sms_sender_number), UTF-8 text, SC time (UTC ms).
	 */
	void (*sms_in)(void *arg, const char *from, const char *text, int64_t sent_ms);
	/*
	 * A call rings in (RING/+CRING with +CLIP), reported once per call; number is ""
	 * when withheld. The owner answers (gw_modem_answer) or rejects (gw_modem_reject) it;
	 * left alone it rings until the caller gives up. May be NULL.
	 */
	void (*incoming)(void *arg, const char *number);
	/*
	 * The network's reason (AT+CEER text) for the end of the call to number, asked after
	 * ended() for every end but our own hang-up and a lost port. May be NULL.
	 */
	void (*cause)(void *arg, const char *number, const char *text);
	/*
	 * The ATD of gw_modem_dial() was written to the port: at once, or once the command the
	 * modem was answering is done. May be NULL.
	 */
	void (*dial_sent)(void *arg);
	/*
	 * The modem answered that ATD (OK, or a code or error that ends it; not a timeout):
	 * it has read the command. Before ended() when the code ends the call. May be NULL.
	 */
	void (*dial_acked)(void *arg);
	/* Bytes came from the modem while an ATD written ahead (gw_modem_dial_ahead) has no
	   page yet: the owner's last chance to dial it (adopt) before they are handled, since
	   they may hold its answer. May be NULL. */
	void (*ahead_pending)(void *arg);
	void *arg;
};

/*
 * Create the driver and open conf->modem_port; read modem.sim_pin_file when set (before the
 * privilege drop). At each init AT+CPIN? asks the SIM's state: on "SIM PIN" the file's PIN
 * is sent once (AT+CPIN, never logged); a refused PIN is never sent again and a PUK never
 * at all: the modem then stays down (no ready()), the reason in gw_modem_health's
 * sim_state. Returns 0 and *out, or -errno (-EPERM, -EINVAL: the PIN file is refused).
 */
int gw_modem_new(struct gw_loop *loop, const struct gw_conf *conf, const struct gw_modem_ops *ops,
		 struct gw_modem **out);
/* Free the driver (NULL is fine). An SMS send still on its way ends: its callback is called
   once with -ECANCELED. */
void gw_modem_free(struct gw_modem *m);

/*
 * Dial number (digits with an optional leading '+'). The ATD goes ahead of any
 * queued housekeeping. Returns 0, -EINVAL (bad number), -EBUSY (a call
 * exists), -ENOTCONN (modem not ready).
 */
int gw_modem_dial(struct gw_modem *m, const char *number);
/*
 * Write the ATD for number now, ahead of the page that will ask for it (issue #13): only
 * when the modem is ready, has no call, nothing ringing in and its AT engine is idle. The
 * next gw_modem_dial() of the same number adopts it (no second ATD); of another number,
 * the wrong call is hung up first (logged, gw_modem_ahead_wrong()). Nobody's: hung up
 * once the modem answers it. Returns 0, -EINVAL, -ENOTCONN or -EBUSY (nothing written).
 */
int gw_modem_dial_ahead(struct gw_modem *m, const char *number);
/* How many dials found another number's ATD written ahead, and how many adopted it. */
unsigned gw_modem_ahead_wrong(const struct gw_modem *m);
unsigned gw_modem_ahead_adopted(const struct gw_modem *m);
/*
 * Result of an SMS send: rc 0 with the modem's message reference of the last
 * part, rc > 0 a +CMS ERROR code, rc < 0 negative errno (-ETIMEDOUT: no answer,
 * the prompt was left with ESC; -ECONNABORTED: the port went down).
 */
typedef void (*gw_modem_sms_cb)(void *arg, int rc, int mr);

/*
 * Send text (UTF-8) to number as one or more PDU-mode parts (GSM 7-bit when it
 * fits, else UCS-2). Queued behind call handling; never interrupts a call.
 * Returns the number of parts queued, or -EINVAL (bad number/text), -EMSGSIZE
 * (more than 8 parts), -EBUSY (too many sends in flight), -ENOTCONN.
 */
int gw_modem_send_sms(struct gw_modem *m, const char *number, const char *text, gw_modem_sms_cb cb,
		      void *arg);

/*
 * Answer the call ringing in (ATA). It then is the modem's one call, as a dialled one
 * is: AT+CLCC polling, gw_modem_hangup(), ended() at its end; progress() is not called
 * for it. Returns 0, -ENOENT (nothing rings), -EBUSY (a call exists) or -errno.
 */
int gw_modem_answer(struct gw_modem *m);
/* Hang up the call ringing in (AT+CHUP). Returns 0, -ENOENT (nothing rings) or -errno. */
int gw_modem_reject(struct gw_modem *m);

/* Hang up the current call (AT+CHUP). ended(LOCAL) follows. Returns 0 or -errno. */
int gw_modem_hangup(struct gw_modem *m);
/* Current call state (GW_MODEM_CALL_IDLE when there is none). */
enum gw_modem_call_state gw_modem_call_state(const struct gw_modem *m);

/* Health kept for status: polled every modem.health_interval seconds. */
struct gw_modem_health {
	int port_up, ready, sim_ready;
	char sim_state[40]; /* "READY", or why not: "SIM PUK, locked ...", "PIN refused ..." */
	int reg_stat;	    /* +CREG stat: 1 home, 5 roaming; -1 not asked yet */
	int rssi_dbm;	    /* 0 unknown */
	char operator_name[32];
	enum gw_modem_call_state call;
	unsigned recoveries; /* times the recovery ladder restarted or reopened the modem */
};
void gw_modem_health(const struct gw_modem *m, struct gw_modem_health *out);

/* Why the modem last stopped being ready ("port lost"); NULL when it never did. Read in
   the ready(0) callback for the reason. */
const char *gw_modem_down_reason(const struct gw_modem *m);

struct gw_at_stats; /* link/at.h */
/* The counters of the modem's AT link (lines read, URCs, commands written, time-outs);
   valid while m lives, across port reopens. */
const struct gw_at_stats *gw_modem_link_stats(const struct gw_modem *m);

/* Parse one "+CLCC: id,dir,stat,mode,mpty[,number,type...]" line. Returns 0 or -EINVAL. */
struct gw_modem_clcc {
	int id, dir, stat, mode, mpty;
	char number[32];
};
int gw_modem_parse_clcc(const char *line, struct gw_modem_clcc *out);
const char *gw_modem_end_name(enum gw_modem_end why);

/* A vendor call-state report: an accelerator only, AT+CLCC stays the truth. */
struct gw_modem_call_urc {
	int id;				/* call index */
	int dir;			/* 0 outgoing, 1 incoming, -1 not said (Huawei) */
	enum gw_modem_call_state state; /* GW_MODEM_CALL_IDLE: released */
	int cause;			/* ^CEND cc_cause (TS 24.008), -1 when not said */
	char number[32];		/* the other party, "" when not said (Huawei) */
};
/*
 * Parse Huawei "^ORIG:", "^CONF:", "^CONN:", "^CEND:", Quectel "+QIND: \"ccinfo\",...",
 * "^DSCI:" and an unsolicited SIMCom "+CLCC:" (stat 6: released). Returns 0, -ENOENT for
 * a +QIND of another kind, or -EINVAL.
 */
int gw_modem_parse_call_urc(const char *line, struct gw_modem_call_urc *out);

/*
 * Parse "+CLIP: \"<number>\",<type>[,<subaddr>,<satype>,<alpha>,<validity>]" into number
 * (len bytes): "" when the number is withheld or not available (validity 1 or 2) or its
 * type of number is none of unknown, international or national; an international one
 * always with its '+'.
 * Returns 0, or -EINVAL (malformed, or not digits with an optional leading '+').
 */
int gw_modem_parse_clip(const char *line, char *number, size_t len);

/*
 * Parse "+CEER: <text>" (quoted or not; vendors differ) into text (len bytes, cut to fit,
 * bytes outside printable ASCII as '?'). Returns 0, or -EINVAL (not +CEER, or empty).
 */
int gw_modem_parse_ceer(const char *line, char *text, size_t len);

/*
 * Parse one PDU-mode "+CMGL: <index>,<stat>,[<alpha>],<length>" line (the PDU is on the
 * next line; the alpha field may be missing). Returns 0, or -EINVAL (malformed, index
 * outside 0..9999, stat outside 0..4, length outside 1..255).
 */
struct gw_modem_cmgl {
	long index;
	int stat;   /* 0 received unread, 1 received read, 2 stored unsent, 3 stored sent, 4 all */
	int length; /* TPDU octets */
};
int gw_modem_parse_cmgl(const char *line, struct gw_modem_cmgl *out);

/*
 * Parse a received-DTMF URC: Quectel "+QTONEDET: <ASCII code>", SIMCom "+RXDTMF: <d>"
 * and "+DTMF:<d>". Returns the digit, or -EINVAL.
 */
int gw_modem_parse_dtmf(const char *line);

#endif
