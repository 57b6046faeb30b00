/*
 * conf: rinki.conf, a line-oriented "key value" file.
 *
 * One table of keys, each with a typed, range-checked parser. Errors name
 * file:line. Modules read the parsed values through the const struct returned
 * by gw_conf_load(); nothing else writes it.
 */
#ifndef GW_CONF_H
#define GW_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define GW_CONF_STR 256
/* The control socket's groups by default (tools/debian/postinst creates them). */
#define GW_CONF_CTL_GROUP	"rinki-status" /* status only */
#define GW_CONF_CTL_ADMIN_GROUP "rinki-admin"  /* changes through rinkictl / rinki-web */
#define GW_CONF_GSSI_MAX	16	       /* radio.monitor_gssi entries */
#define GW_CONF_STATUS_MAX	64	       /* sds.status.<value> keys */
#define GW_CONF_STATUS_LEN	64	       /* text of one, with the NUL */

/* One sds.status.<value> key: the meaning of a received 16-bit status. */
struct gw_conf_status {
	uint16_t value;
	char text[GW_CONF_STATUS_LEN];
};

enum gw_radio_answer { GW_RADIO_ANSWER_AT_ONCE, GW_RADIO_ANSWER_ON_ACCEPT };

struct gw_conf {
	char radio_port[GW_CONF_STR];
	int radio_baud;
	char radio_model[32];
	char radio_issi[18];	     /* own ISSI, checked against +CNUMF; empty: not checked */
	int radio_probe_idle_s;	     /* silence before an AT probe */
	int radio_health_interval_s; /* +CREG?/+CSQ? period */
	char modem_port[GW_CONF_STR];
	int modem_baud;
	char modem_vendor[32];
	char io_port[GW_CONF_STR]; /* the I/O board's serial port; empty: no board */
	int io_timeout_ms;	   /* Modbus response time-out (inter-byte: a fifth of it) */
	char audio_radio[GW_CONF_STR];
	char audio_phone[GW_CONF_STR];
	int audio_rate;	     /* Hz, both devices */
	int audio_period_ms; /* bridge period */
	bool audio_drift;    /* clock drift compensation */

	char prompt_dir[GW_CONF_STR]; /* <dir>/<lang>/<name>.wav, built by make */
	char prompt_language[8];      /* fi, sv or en; the worker's own when the roster has it */
	char db_path[GW_CONF_STR];
	char spool_path[GW_CONF_STR]; /* call-log spool and roster copy; "": <db_path>.spool */
	char recordings_dir[GW_CONF_STR];
	bool record_enabled;		/* record bridged authority calls to recordings_dir */
	char record_lines[GW_CONF_STR]; /* line codes to record, comma-separated; empty: all */
	int vad_attack_ms;		/* phone voice activity: speech before talk starts */
	int vad_hangover_ms;		/* ... and non-speech before it ends */
	int vad_margin_db;		/* speech: this far above the noise floor */
	char ctl_socket[GW_CONF_STR];
	char ctl_group[64];	  /* may read status over the socket; empty: root and run.user */
	char ctl_admin_group[64]; /* may ask for changes, page-test, SDS; empty: root only */
	char run_user[64];	  /* rinkid drops to this user after opening its devices */
	int rt_priority;	  /* SCHED_FIFO priority of rinkid; 0: the normal scheduler */
	int ring_time_s;	  /* T_RING: ring time per chain step */
	int rounds;		  /* how many times the chain is tried */
	int accept_time_s;	  /* T_ACCEPT: time for the accept key after the phone answered */
	int clcc_poll_ms;
	int clcc_grace_ms; /* a dialled call missing from AT+CLCC this long is not yet listed */
	int modem_probe_idle_s; /* silence before an AT probe */
	int modem_health_interval_s;
	/* +CPIN?/+CREG?/+CSQ/+COPS? period */ /* AT+CLCC polling period while a phone call
						  exists */
	enum gw_radio_answer radio_answer;
	bool sms_page;	 /* SMS to the first worker paged, and a missed-call SMS if unanswered */
	bool sds_notify; /* SDS to the officer when nobody is reached or on duty, or busy */
	char busy_fallback[32];	     /* number a busy caller is told to call; empty: none */
	char busy_text[GW_CONF_STR]; /* busy SDS, "{fallback}" replaced; empty: built-in */
	char log_level[16];
	int retention_days; /* message bodies older than this are blanked daily; 0: kept */
	/* talkgroups logged, never paged: "9001,9002" (validated); empty: no monitor */
	char radio_monitor_gssi[GW_CONF_STR];
	struct gw_conf_status sds_status[GW_CONF_STATUS_MAX]; /* configured status meanings */
	int n_sds_status;

	int ack_code_ttl_s; /* lifetime of an SMS page's accept code (it also ends with the call) */
	int accept_retries; /* redials of a worker who accepted by SMS before escalation resumes */

	/* call-back (worker -> officer's radio, gateway/callback.c) */
	int callback_key_time_s; /* time for each key of the PIN and radio number stages */
	int callback_lockout_s;	 /* lock-out after 3 wrong PINs (and their window); 0: none */
	bool callback_simplex;	 /* the radio call is simplex (else duplex) */

	/* rinki-web, the web console (tools/web/); rinkid itself ignores these */
	char web_listen[64];		/* ADDR:PORT; empty: the console is off */
	char web_users[GW_CONF_STR];	/* rinki-web's accounts file */
	char web_user[64];		/* rinki-web drops to this user when started as root */
	char web_tls_cert[GW_CONF_STR]; /* PEM certificate (chain); empty: no TLS */
	char web_tls_key[GW_CONF_STR];	/* its PEM private key, mode 0600 */
	/* county sync (rinki-sync, tools/sync/; rinkid itself does not read these) */
	char county_conninfo[384];  /* libpq connection string; empty: no county sync */
	char county_gateway_id[33]; /* this gateway's name in the county database */
	int county_batch;	    /* events per county transaction */
	int county_poll_ms;	    /* how often the local log is looked at when caught up */
	int county_retry_max_s;	    /* longest wait between attempts while the county is away */
	char county_status_file[GW_CONF_STR];  /* rinki-sync's status, rewritten after each cycle */
	char county_metrics_file[GW_CONF_STR]; /* rinki-sync's Prometheus textfile; "": none */

	/* monitoring: Prometheus text for node_exporter's textfile collector */
	char metrics_file[GW_CONF_STR]; /* rewritten every metrics_interval_s; empty: off */
	int metrics_interval_s;
	char modem_sim_pin_file[GW_CONF_STR]; /* 0600 file holding the SIM PIN; empty: none */
	char events_file[GW_CONF_STR]; /* JSON-lines event stream (core/event.h); empty: off */
	char roster_timezone[64];      /* the roster's and every printed time's zone (core/tz.h) */
};

/* A SIM PIN: 4..8 digits (3GPP TS 31.101's PIN1 length), with the NUL. */
#define GW_CONF_SIM_PIN_LEN 9

/*
 * Read the SIM PIN from path (modem.sim_pin_file): a regular file, not a symlink
 * (O_NOFOLLOW), with no permission for group or others, holding 4..8 digits and an optional
 * newline. The PIN goes to pin (GW_CONF_SIM_PIN_LEN bytes) and is never logged. Returns 0,
 * -EPERM (group/others may read or write it), -EINVAL (not a regular file, or not a PIN),
 * or -errno (cannot open: -ELOOP for a symlink); each error is logged without the content.
 */
int gw_conf_read_sim_pin(const char *path, char pin[GW_CONF_SIM_PIN_LEN]);

/*
 * A county gateway id: 1..32 characters of a-z, 0-9 and '-', starting with a letter or a
 * digit. True when s is one.
 */
bool gw_conf_gateway_id_ok(const char *s);

/*
 * Parse a comma-separated GSSI list ("9001, 9002"; each 1..16777215) into out[0..max).
 * Returns the count (0 for ""), or -EINVAL (bad entry, duplicate) / -E2BIG (over max).
 */
int gw_conf_gssi_list(const char *list, uint32_t *out, int max);

/* Configured meaning of status value v (sds.status.<v>), or NULL when none is set. */
const char *gw_conf_status_text(const struct gw_conf *conf, uint16_t v);

/* Fill conf with the built-in defaults. */
void gw_conf_defaults(struct gw_conf *conf);

/*
 * Parse one line (without newline) into conf. Blank lines and '#' comments are
 * accepted. Returns 0, or -EINVAL with a message ("unknown key 'x'") in err.
 */
int gw_conf_parse_line(struct gw_conf *conf, const char *line, char *err, int errlen);

/*
 * Take over from next the keys that can change while rinkid runs (call timing and
 * policies, polling intervals, log level, retention); keys that need a restart
 * (ports, devices, paths, socket, user) are left as they are and named in
 * changed_restart (comma-separated, may be empty). Returns how many live keys changed.
 */
int gw_conf_apply_live(struct gw_conf *conf, const struct gw_conf *next, char *changed_restart,
		       int len);

/*
 * Write conf to f as a configuration file: every key in the table's order with its
 * value, "#key" for a string left empty (not set), then the sds.status keys. What it
 * writes loads back to the same values. Returns 0 or -EIO (write error).
 */
int gw_conf_write(const struct gw_conf *conf, FILE *f);

/*
 * Load path over the defaults. Each key may be given once (a second line for it is an
 * error naming both lines); after the last line the whole is checked (ctl.socket must fit
 * a socket address). On error prints "path:line: message" to the log and returns -EINVAL
 * (bad content), -ENOMEM or -errno (cannot read).
 */
int gw_conf_load(struct gw_conf *conf, const char *path);

#endif
