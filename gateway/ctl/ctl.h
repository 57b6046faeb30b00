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
#include "store/db.h"
#include "ctl/ctl_proto.h"

#define GW_CTL_CLIENTS_MAX 8 /* connections at once; more get "err busy" */
/* Of those, the last ones only an admin peer may take: read-only clients can never lock
   an administrator out. */
#define GW_CTL_ADMIN_RESERVED 2
#define GW_CTL_OUTBUF	      (2 * RINKI_CTL_MULTI_MAX) /* unread replies before a drop */
#define GW_CTL_GROUPS_MAX     256 /* supplementary groups of a peer looked at */

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
	/*
	 * Record an administrator's request (kind "ctl_page_test", "ctl_sds_send"; detail
	 * names the peer and the outcome) as a system event in the call log. May be NULL.
	 */
	void (*audit)(void *arg, const char *kind, const char *detail);
	/*
	 * Changes (admin). who names the requester for the log ("<user>" or "<by> via
	 * <user>"); the fields are validated as rinkictl validates them. Each returns 0,
	 * -ENOENT (unknown worker, line or id) or negative errno; NULL: "err unavailable".
	 */
	int (*override_add)(void *arg, const struct gw_db_override *o, const char *reason,
			    const char *who, int64_t *id);
	int (*override_del)(void *arg, int64_t id, const char *who);
	/*
	 * A worker's change: active -1 unchanged, 0 disable, 1 enable; pin_reset clears the
	 * PIN; pin (4-8 digits, checked; NULL: none) sets it; phone (E.164, canonical) and
	 * lang (fi/sv/en), NULL: unchanged, go to the manual layer. -ENOKEY: no PIN pepper.
	 */
	int (*worker_set)(void *arg, const char *worker, int active, bool pin_reset,
			  const char *pin, const char *phone, const char *lang, const char *who);
	/*
	 * Start a roster import from fd (owned by the op from now on, closed by it; a regular
	 * file, pipe or memfd). Returns 0 when started: the op answers later, from the loop,
	 * with gw_ctl_finish(ctl, ticket, ...); -EBUSY (one runs already) or negative errno.
	 */
	int (*roster_import)(void *arg, int fd, bool apply, bool replace, const char *who,
			     uint64_t ticket);
	/* Add worker w (checked with gw_roster_check_worker, the phone in E.164) to the
	   manual layer. 0, -EEXIST (the handle is taken) or negative errno. */
	int (*worker_add)(void *arg, const struct gw_db_worker *w, const char *who);
	/* Start a directory import from fd (owned by the op, as roster_import); answered
	   later with gw_ctl_finish(ctl, ticket, ...). 0, -EBUSY or negative errno. */
	int (*directory_import)(void *arg, int fd, const char *who, uint64_t ticket);
	void *arg;
};

/* Where the socket lives and who may use it (rinki.conf ctl.*). */
struct gw_ctl_conf {
	const char *path;	 /* ctl.socket */
	const char *group;	 /* ctl.group: socket's group, read-only access; "" or NULL: none */
	const char *admin_group; /* ctl.admin_group: admin access; "" or NULL: root only */
	/* The groups are the built-in defaults: one missing is warned about and left unset
	   (a machine without tools/debian's groups) instead of stopping the start. */
	bool group_optional, admin_optional;
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
 * Resolve the groups (names or numbers; an optional one missing: warned, unset), create
 * the socket at conf->path with mode 0660 and conf->group, and serve it in loop. A stale socket
 * file is replaced; a live one (another rinkid answers) is -EADDRINUSE; a non-socket file there is
 * -EEXIST. Returns 0, -ENOENT (unknown group), -ENAMETOOLONG, or negative errno; each logged.
 */
int gw_ctl_listen(struct gw_ctl *ctl, struct gw_loop *loop, const struct gw_ctl_conf *conf);

/*
 * Answer the deferred request ticket (see ops.roster_import) with reply: any number of
 * "+ ..." lines, each ending in LF, then one final "ok ..." or "err ..." line (no LF), at
 * most RINKI_CTL_MULTI_MAX bytes in all. The connection then reads its next request. A
 * ticket whose connection has gone is dropped (logged). Returns 0 or -ENOENT.
 */
int gw_ctl_finish(struct gw_ctl *ctl, uint64_t ticket, const char *reply);

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
 * Handle one request line (len bytes, without LF; NULs make it malformed) from peer, with
 * *fd the descriptor that came with it (-1: none; taken by the request that uses it and
 * set to -1, else left for the caller to close), and write the reply, without the last
 * LF, NUL-terminated, into reply (>= RINKI_CTL_REPLY_MAX bytes; a multi-line reply needs
 * RINKI_CTL_MULTI_MAX). Returns 0 for an ok/JSON reply, -1 for an err reply, or 1 when
 * the answer comes later through gw_ctl_finish(ctl, *ticket, ...) (reply is then empty).
 */
int gw_ctl_handle_fd(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line,
		     size_t len, int *fd, uint64_t *ticket, char *reply, size_t rlen);

/* gw_ctl_handle_fd() without a descriptor; a deferred request is refused. */
int gw_ctl_handle(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line, size_t len,
		  char *reply, size_t rlen);

/*
 * Who peer is, for the log: its user name (or "uid N"; names cached by uid, see
 * ctl_user.h), or "<by> via <user>" when by is not NULL. Returns the length or -ENOSPC.
 */
int gw_ctl_who(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *by, char *buf,
	       size_t len);

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
