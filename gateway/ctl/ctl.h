/*
 * ctl: the control socket rinkictl talks to (protocol: include/rinki/proto.h).
 *
 * A UNIX stream socket registered in the gateway's loop. Each connection's peer
 * credentials (SO_PEERCRED, SO_PEERGROUPS) decide what it may ask: read-only requests
 * (status) or admin requests too (page-test, sds-send). Requests reach the gateway only
 * through the ops below, so ctl never calls a driver. The request handler and the parser
 * are public and work without a socket (tests, fuzzing).
 */
#ifndef GW_CTL_H
#define GW_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "service/call.h"
#include "service/callback.h"
#include "board/io.h"
#include "core/loop.h"
#include "phone/modem.h"
#include "radio/pei.h"
#include "rinki/proto.h"
#include "ctl/ctl_proto.h"

#define GW_CTL_CLIENTS_MAX 8			     /* connections at once; more get "err busy" */
#define GW_CTL_OUTBUF	   (4 * RINKI_CTL_REPLY_MAX) /* unread replies before a drop */
#define GW_CTL_GROUPS_MAX  256			     /* supplementary groups of a peer looked at */

struct gw_ctl;

/* Counters the gateway keeps (since rinkid started). */
struct gw_ctl_counters {
	uint32_t incidents; /* authority calls */
	uint32_t pages;	    /* worker pages dialled, page-test included */
	uint32_t sms_out, sms_in;
	uint32_t sds_out, sds_in;
};

/* What "status" reports. ctl zeroes it, the status op fills it. */
struct gw_ctl_status {
	char version[16];
	int64_t uptime_s;
	struct gw_pei_health radio;
	struct gw_modem_health modem;
	bool io_present; /* an I/O board is configured; io is meaningful only then */
	struct gw_io_status io;
	struct {
		bool live;
		int64_t id; /* live incident, or the last one; 0 none yet */
		enum gw_call_state state;
	} call;
	struct {
		bool live;
		int64_t id; /* the live call-back's incident; 0 none (or not logged) */
		enum gw_cb_state state;
		char worker[64]; /* its worker's roster name; never the PIN or typed digits */
	} callback;
	struct {
		bool spooling;	   /* call-log writes wait in the spool (database away) */
		char problem[200]; /* why rinkid runs without its database; "" when it has it */
	} db;
	struct gw_ctl_counters counters;
	struct {
		int64_t county_version; /* rinki-sync's roster pull: 0 a local import */
		int64_t made_ms;	/* when the county made that version (UTC ms); 0 none */
	} roster;
	struct {
		uint32_t clients;  /* connections now */
		uint32_t requests; /* lines handled */
		uint32_t denied;   /* requests or connections refused for credentials */
		uint32_t dropped;  /* clients dropped: not reading, line too long, idle */
	} ctl;			   /* filled by ctl itself */
};

/* How ctl reaches the gateway. Called from the loop; none may block. */
struct gw_ctl_ops {
	/* Fill *st. Returns 0 or negative errno (the client gets "err failed"). */
	int (*status)(void *arg, struct gw_ctl_status *st);
	/*
	 * Dial number (validated: optional '+', 3..20 digits) as a test page. Returns 0,
	 * -EBUSY (a call is in progress), -ENOTCONN (modem not ready) or negative errno.
	 */
	int (*page_test)(void *arg, const char *number);
	/*
	 * Send text (valid UTF-8, no control characters) as one SDS to issi (1..17 digits).
	 * Returns a handle > 0, -EMSGSIZE (does not fit one SDS), -EBUSY, -ENOTCONN, -errno.
	 */
	int (*sds_send)(void *arg, const char *issi, const char *text);
	void *arg;
};

/* Where the socket lives and who may use it (rinki.conf ctl.*). */
struct gw_ctl_conf {
	const char *path;	 /* ctl.socket */
	const char *group;	 /* ctl.group: socket's group, read-only access; "" or NULL: none */
	const char *admin_group; /* ctl.admin_group: admin access; "" or NULL: root only */
};

enum gw_ctl_access { GW_CTL_ACCESS_NONE, GW_CTL_ACCESS_READ, GW_CTL_ACCESS_ADMIN };

/* Credentials of a connected peer. ngroups -1: its supplementary groups are unknown. */
struct gw_ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[GW_CTL_GROUPS_MAX];
};

/* Create the request handler (no socket yet). ops is copied. Returns 0 and *out or -ENOMEM. */
int gw_ctl_new(const struct gw_ctl_ops *ops, struct gw_ctl **out);

/*
 * Resolve the groups (names or numbers), create the socket at conf->path with mode 0660
 * and conf->group, and serve it in loop. A stale socket file is replaced; a live one
 * (another rinkid answers) is -EADDRINUSE; a non-socket file there is -EEXIST.
 * Returns 0, -ENOENT (unknown group), -ENAMETOOLONG, or negative errno; each logged.
 */
int gw_ctl_listen(struct gw_ctl *ctl, struct gw_loop *loop, const struct gw_ctl_conf *conf);

/* Close every connection and the socket, remove the socket file, free. NULL is fine. */
void gw_ctl_free(struct gw_ctl *ctl);

/* Connections open now. */
int gw_ctl_clients(const struct gw_ctl *ctl);

/*
 * What peer may do: ADMIN for uid 0 and members of the admin group; READ for rinkid's
 * own uid and members of the socket's group; else NONE.
 */
enum gw_ctl_access gw_ctl_access(const struct gw_ctl *ctl, const struct gw_ctl_peer *peer);

/* Read the credentials of the peer on a connected UNIX socket. Returns 0 or -errno. */
int gw_ctl_peer_get(int fd, struct gw_ctl_peer *out);

/*
 * Handle one request line (len bytes, without LF; NULs make it malformed) from peer and
 * write the one-line reply, without LF, NUL-terminated, into reply (>= RINKI_CTL_REPLY_MAX
 * bytes). Returns 0 for an ok/JSON reply, -1 for an err reply.
 */
int gw_ctl_handle(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line, size_t len,
		  char *reply, size_t rlen);

/* How the gateway is, for rinkictl status's exit code and for monitoring. */
enum gw_ctl_health {
	GW_CTL_HEALTHY,	 /* radio and modem ready; board (if any) up; database there */
	GW_CTL_DEGRADED, /* one of radio, modem not ready, board down, or the call log spooling */
	GW_CTL_DOWN,	 /* neither radio nor modem ready: no call can be taken or paged */
};

/*
 * Judge st: returns its health and writes what is wrong (comma-separated, "" when
 * healthy) into why (len bytes, cut to fit).
 */
enum gw_ctl_health gw_ctl_health(const struct gw_ctl_status *st, char *why, size_t len);

/* "healthy", "degraded" or "down". */
const char *gw_ctl_health_name(enum gw_ctl_health h);

/*
 * Format st as the status reply: "ok key=value ..." (json false) or one JSON object,
 * with health and problems (gw_ctl_health) first after the version and uptime.
 * Returns the length (without NUL), or -ENOSPC when it does not fit len.
 */
int gw_ctl_format_status(const struct gw_ctl_status *st, bool json, char *buf, size_t len);

#endif
