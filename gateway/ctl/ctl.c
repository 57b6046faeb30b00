/*
 * ctl: the control socket. One listening UNIX stream socket in the loop; each accepted
 * connection gets its peer credentials read once (SO_PEERCRED, SO_PEERGROUPS) and turned
 * into an access level, an input buffer of one request line and a bounded output buffer.
 * Complete lines go through gw_ctl_handle(): parse (include/rinki/proto.h grammar),
 * look the verb up in a table with the access it needs, run it through the ops, format
 * one reply line. Replies are written at once; what the peer does not take waits in the
 * output buffer, and a peer whose unread replies would overflow it is dropped, so a client
 * that stops reading never blocks rinkid. Oversize lines get an error and a close; idle
 * connections are closed after RINKI_CTL_IDLE_MS. Of the GW_CTL_CLIENTS_MAX connections the
 * last GW_CTL_ADMIN_RESERVED are for administrators only, so readers cannot lock them out.
 * Every page-test and sds-send that reaches the gateway goes to ops.audit (the call log),
 * naming the peer and the outcome. events-sync is answered once the event stream's writer
 * has written what was queued before it (core/event.h's barrier), later, like a change.
 */
#include "ctl/ctl.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/e164.h"
#include "core/event.h"
#include "core/log.h"
#include "ctl/ctl_user.h"
#include "store/roster.h"

/* The ticket of a client whose request waits for its requester's user name. */
#define NAME_WAIT UINT64_MAX

struct client {
	struct gw_ctl *ctl;
	int fd;
	struct gw_ctl_peer peer;
	bool closing;	  /* close once out is flushed; read nothing more */
	bool eof;	  /* the peer has finished sending */
	uint64_t waiting; /* ticket of a deferred request: no next line until answered */
	int fd_in;	  /* a descriptor that came with the line being read; -1 none */
	char in[RINKI_CTL_REQ_MAX];
	size_t inlen;
	char out[GW_CTL_OUTBUF];
	size_t outlen;
	struct gw_timer idle;
	struct client *next;
};

/* An events-sync request waiting for the event stream's writer. */
struct evsync {
	struct gw_ctl *ctl;
	uint64_t ticket;
	struct gw_event_sync s;
	struct evsync *next;
};

struct gw_ctl {
	struct gw_ctl_ops ops;
	struct gw_loop *loop;
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	bool has_group, has_admin;
	gid_t group, admin;
	struct client *clients;
	int nclients;
	uint32_t requests, denied, dropped;
	int *cur_fd;	     /* the descriptor of the request being handled (NULL: none) */
	uint64_t cur_ticket; /* set by a request that answers later */
	uint64_t next_ticket;
	struct gw_ctl_users *users; /* peers' user names, by uid: looked up once a while */
	struct evsync *evsyncs;	    /* events-sync requests waiting */
};

/* ---- access ------------------------------------------------------------------------------ */

static bool member(const struct gw_ctl_peer *p, gid_t g)
{
	if (p->gid == g)
		return true;
	for (int i = 0; i < p->ngroups && i < GW_CTL_GROUPS_MAX; i++)
		if (p->groups[i] == g)
			return true;
	return false;
}

enum gw_ctl_access gw_ctl_access(const struct gw_ctl *ctl, const struct gw_ctl_peer *peer)
{
	if (peer->uid == 0 || (ctl->has_admin && member(peer, ctl->admin)))
		return GW_CTL_ACCESS_ADMIN;
	if (peer->uid == geteuid() || (ctl->has_group && member(peer, ctl->group)))
		return GW_CTL_ACCESS_READ;
	return GW_CTL_ACCESS_NONE;
}

int gw_ctl_peer_get(int fd, struct gw_ctl_peer *out)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	out->pid = cr.pid;
	out->uid = cr.uid;
	out->gid = cr.gid;
	len = sizeof(out->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, out->groups, &len) < 0) {
		/* ERANGE: more groups than we look at; ENOPROTOOPT: kernel before 4.13 */
		LOGP(GW_LOG_CTL, GW_LOG_INFO, "pid %d: supplementary groups unknown (%s)",
		     (int)cr.pid, strerror(errno));
		out->ngroups = -1;
		return 0;
	}
	out->ngroups = (int)(len / sizeof(gid_t));
	return 0;
}

/* ---- requests ----------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int reply_err(char *reply, size_t rlen,
							   const char *code, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(reply, rlen, "err %s ", code);
	if (n > 0 && (size_t)n < rlen) {
		va_start(ap, fmt);
		vsnprintf(reply + n, rlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool valid_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	return n >= min && n <= max && strspn(s, "0123456789") == n;
}

/* Every key in m must be among the allowed (NULL-terminated). */
static int check_keys(const struct gw_ctl_msg *m, const char *const *allowed, char *reply,
		      size_t rlen)
{
	for (int i = 0; i < m->nargs; i++) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, m->args[i].key) != 0)
			a++;
		if (!*a)
			return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "%s takes no key '%s'",
					 m->verb, m->args[i].key);
	}
	return 0;
}

static int req_status(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
		      const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"format", NULL};
	struct gw_ctl_status st;
	(void)peer;
	if (check_keys(m, keys, reply, rlen) < 0)
		return -1;
	const char *fmt = gw_ctl_msg_get(m, "format");
	if (fmt && strcmp(fmt, "kv") != 0 && strcmp(fmt, "json") != 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "format is kv or json");
	memset(&st, 0, sizeof(st));
	st.radio.reg_stat = -1;
	st.modem.call = GW_MODEM_CALL_IDLE;
	st.call.state = GW_CALL_ST_CLOSED;
	if (!ctl->ops.status)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "status not provided");
	int rc = ctl->ops.status(ctl->ops.arg, &st);
	if (rc < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED, "status: %s", strerror(-rc));
	st.ctl.clients = (uint32_t)ctl->nclients;
	st.ctl.requests = ctl->requests;
	st.ctl.denied = ctl->denied;
	st.ctl.dropped = ctl->dropped;
	if (rlen > RINKI_CTL_REPLY_MAX)
		rlen = RINKI_CTL_REPLY_MAX; /* one line */
	if (gw_ctl_format_status(&st, fmt && strcmp(fmt, "json") == 0, reply, rlen) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED, "status does not fit a reply");
	return 0;
}

/* The peer as the call log names it: "aino (uid 1000, pid 42)", or "uid 1000 (pid 42)"
   when the uid has no plain passwd name. */
static void peer_name(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, char *buf, size_t len)
{
	char user[GW_CTL_USER_NAME_MAX + 1];
	if (gw_ctl_users_name(ctl->users, peer->uid, user, sizeof(user)) == 0)
		snprintf(buf, len, "%s (uid %u, pid %d)", user, (unsigned)peer->uid,
			 (int)peer->pid);
	else
		snprintf(buf, len, "uid %u (pid %d)", (unsigned)peer->uid, (int)peer->pid);
}

/* An administrator's request that reached the gateway, with its outcome, to the call log. */
static void audit(struct gw_ctl *ctl, const char *kind, const struct gw_ctl_peer *peer,
		  const char *what, const char *outcome)
{
	char who[96], detail[256];

	if (!ctl->ops.audit)
		return;
	peer_name(ctl, peer, who, sizeof(who));
	snprintf(detail, sizeof(detail), "%s by %s: %s", what, who, outcome);
	ctl->ops.audit(ctl->ops.arg, kind, detail);
}

static int req_page_test(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			 const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"number", NULL};
	if (check_keys(m, keys, reply, rlen) < 0)
		return -1;
	const char *num = gw_ctl_msg_get(m, "number");
	if (!num)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "page-test needs number=");
	if (!valid_digits(num + (num[0] == '+'), 3, 20))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "number is an optional + and 3 to 20 digits");
	if (!ctl->ops.page_test)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "page-test not provided");
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "page-test %s requested by uid %u pid %d", num,
	     (unsigned)peer->uid, (int)peer->pid);
	int rc = ctl->ops.page_test(ctl->ops.arg, num);
	char what[64];
	snprintf(what, sizeof(what), "page-test number=%s", num);
	audit(ctl, "ctl_page_test", peer, what, rc < 0 ? strerror(-rc) : "ok");
	if (rc == -EBUSY)
		return reply_err(reply, rlen, RINKI_CTL_E_BUSY, "a call is in progress");
	if (rc == -ENOTCONN)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "the modem is not ready");
	if (rc < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED, "page-test: %s", strerror(-rc));
	snprintf(reply, rlen, "ok number=%s", num); /* '+' and digits need no escape */
	return 0;
}

static int req_sds_send(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"issi", "text", NULL};
	if (check_keys(m, keys, reply, rlen) < 0)
		return -1;
	const char *issi = gw_ctl_msg_get(m, "issi"), *text = gw_ctl_msg_get(m, "text");
	if (!issi || !text || !text[0])
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "sds-send needs issi= and text=");
	if (!valid_digits(issi, 1, 17))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "issi is 1 to 17 digits");
	if (!ctl->ops.sds_send)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "sds-send not provided");
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "sds-send to %s (%zu bytes) requested by uid %u pid %d",
	     issi, strlen(text), (unsigned)peer->uid, (int)peer->pid);
	int rc = ctl->ops.sds_send(ctl->ops.arg, issi, text);
	char what[64], outcome[32];
	snprintf(what, sizeof(what), "sds-send issi=%s (%zu bytes)", issi, strlen(text));
	if (rc > 0)
		snprintf(outcome, sizeof(outcome), "handle %d", rc);
	audit(ctl, "ctl_sds_send", peer, what,
	      rc > 0   ? outcome
	      : rc < 0 ? strerror(-rc)
		       : "no handle");
	if (rc == -EMSGSIZE)
		return reply_err(reply, rlen, RINKI_CTL_E_TOOLONG, "the text does not fit one SDS");
	if (rc == -EBUSY)
		return reply_err(reply, rlen, RINKI_CTL_E_BUSY, "too many SDS in flight");
	if (rc == -ENOTCONN)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "the radio is not ready");
	if (rc == -EINVAL)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "the radio refused issi or text");
	if (rc <= 0)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED, "sds-send: %s",
				 rc ? strerror(-rc) : "no handle");
	snprintf(reply, rlen, "ok handle=%d", rc);
	return 0;
}

int gw_ctl_who(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *by, char *buf,
	       size_t len)
{
	char user[GW_CTL_USER_NAME_MAX + 16];
	if (gw_ctl_users_name(ctl->users, peer->uid, user, sizeof(user)) < 0)
		snprintf(user, sizeof(user), "uid %u", (unsigned)peer->uid);
	int n = by ? snprintf(buf, len, "%s via %s", by, user) : snprintf(buf, len, "%s", user);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* The requester for the log from m's by= (at most 64 bytes) and peer. 0 or -1 (replied). */
static int who_of(struct gw_ctl *ctl, const struct gw_ctl_msg *m, const struct gw_ctl_peer *peer,
		  char *who, size_t len, char *reply, size_t rlen)
{
	const char *by = gw_ctl_msg_get(m, "by");
	if (by && (!by[0] || strlen(by) > 64))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "by is 1 to 64 bytes");
	if (gw_ctl_who(ctl, peer, by, who, len) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_TOOLONG, "by too long");
	return 0;
}

/* The reply for a change op's error rc. Returns -1. */
static int change_err(int rc, const char *what, char *reply, size_t rlen)
{
	if (rc == -ENOENT)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "%s: not found", what);
	if (rc == -EBUSY)
		return reply_err(reply, rlen, RINKI_CTL_E_BUSY, "%s: busy", what);
	if (rc == -EINVAL)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "%s: refused", what);
	return reply_err(reply, rlen, RINKI_CTL_E_FAILED, "%s: %s", what, strerror(-rc));
}

static int req_override_add(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			    const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"worker",   "from",	    "to",     "line", "kind",
					   "position", "by_worker", "reason", "by",   NULL};
	struct gw_db_override o = {0};
	char who[160], why[160], kind[16], line[64], worker[64], byw[64];
	const char *from = gw_ctl_msg_get(m, "from"), *to = gw_ctl_msg_get(m, "to");
	const char *pos = gw_ctl_msg_get(m, "position"), *reason = gw_ctl_msg_get(m, "reason");
	const char *v;
	int64_t id = 0;

	if (check_keys(m, keys, reply, rlen) < 0 ||
	    who_of(ctl, m, peer, who, sizeof(who), reply, rlen))
		return -1;
	if (!gw_ctl_msg_get(m, "worker") || !from || !to)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "override-add needs worker=, from= and to=");
	/* Copies: gw_roster_check_override may canonicalise, and the fields are not const. */
	snprintf(worker, sizeof(worker), "%s", gw_ctl_msg_get(m, "worker"));
	o.worker = worker;
	v = gw_ctl_msg_get(m, "kind");
	snprintf(kind, sizeof(kind), "%s", v ? v : "replace");
	o.kind = kind;
	if ((v = gw_ctl_msg_get(m, "line"))) {
		snprintf(line, sizeof(line), "%s", v);
		o.line = line;
	}
	if ((v = gw_ctl_msg_get(m, "by_worker"))) {
		snprintf(byw, sizeof(byw), "%s", v);
		o.by = byw;
	}
	if (gw_roster_parse_when(from, false, &o.start_ms) < 0 ||
	    gw_roster_parse_when(to, true, &o.end_ms) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "from/to: a time with zone, or YYYY-MM-DD");
	if (pos) {
		if (!valid_digits(pos, 1, 2) || atoi(pos) < 1)
			return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "position is 1 to 99");
		o.position = atoi(pos);
	} else if (strcmp(o.kind, "add") == 0) {
		o.position = 1; /* as rinkictl: an extra person rings first unless told */
	}
	if (reason && strlen(reason) > 200)
		return reply_err(reply, rlen, RINKI_CTL_E_TOOLONG, "reason is at most 200 bytes");
	if (gw_roster_check_override(&o, why, sizeof(why)) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "override-add: %s", why);
	if (!ctl->ops.override_add)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "override-add not provided");
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "override-add %s for %s requested by %s", o.kind, o.worker,
	     who);
	int rc = ctl->ops.override_add(ctl->ops.arg, &o, reason, who, &id);
	if (rc == -ENOENT)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "unknown worker or line");
	if (rc < 0)
		return change_err(rc, "override-add", reply, rlen);
	snprintf(reply, rlen, "ok id=%" PRId64, id);
	return 0;
}

static int req_override_del(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			    const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"id", "by", NULL};
	const char *v = gw_ctl_msg_get(m, "id");
	char who[160];
	if (check_keys(m, keys, reply, rlen) < 0 ||
	    who_of(ctl, m, peer, who, sizeof(who), reply, rlen))
		return -1;
	if (!v || !valid_digits(v, 1, 18) || strtoll(v, NULL, 10) < 1)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "override-del needs id=N (N >= 1)");
	int64_t id = strtoll(v, NULL, 10);
	if (!ctl->ops.override_del)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "override-del not provided");
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "override-del %" PRId64 " requested by %s", id, who);
	int rc = ctl->ops.override_del(ctl->ops.arg, id, who);
	if (rc == -ENOENT)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "no manual override %" PRId64, id);
	if (rc < 0)
		return change_err(rc, "override-del", reply, rlen);
	snprintf(reply, rlen, "ok id=%" PRId64, id);
	return 0;
}

/* A 0|1 flag value: 0 or 1 into *out, -1 when malformed. */
static int flag01(const char *v, int *out)
{
	if (!v || (strcmp(v, "0") != 0 && strcmp(v, "1") != 0))
		return -1;
	*out = v[0] - '0';
	return 0;
}

static int req_worker_set(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			  const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"worker", "disabled", "pin_reset", "pin",
					   "lang",   "phone",	 "by",	      NULL};
	const char *worker = gw_ctl_msg_get(m, "worker"), *pin = gw_ctl_msg_get(m, "pin");
	const char *dis = gw_ctl_msg_get(m, "disabled"), *pr = gw_ctl_msg_get(m, "pin_reset");
	const char *lang = gw_ctl_msg_get(m, "lang"), *phone = gw_ctl_msg_get(m, "phone");
	int disabled = -1, reset = 0;
	char who[160], e164[GW_E164_MAX];

	if (check_keys(m, keys, reply, rlen) < 0 ||
	    who_of(ctl, m, peer, who, sizeof(who), reply, rlen))
		return -1;
	if (!worker || !worker[0] || strlen(worker) > 32)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "worker-set needs worker=HANDLE");
	if ((dis && flag01(dis, &disabled) < 0) || (pr && (flag01(pr, &reset) < 0 || !reset)))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "disabled is 0 or 1; pin_reset is 1");
	if (pin && (reset || !gw_roster_pin_ok(pin)))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "pin is 4 to 8 digits, and not with pin_reset");
	if (lang && strcmp(lang, "fi") != 0 && strcmp(lang, "sv") != 0 && strcmp(lang, "en") != 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "lang is fi, sv or en");
	if (phone && gw_e164_canon(phone, e164) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "phone is no phone number (+358..., 00358... or 040...)");
	if (disabled < 0 && !reset && !pin && !lang && !phone)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "worker-set needs disabled=, pin_reset=1, pin=, lang= or phone=");
	if (!ctl->ops.worker_set)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "worker-set not provided");
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "worker-set %s requested by %s", worker, who);
	int rc = ctl->ops.worker_set(ctl->ops.arg, worker, disabled < 0 ? -1 : !disabled,
				     reset != 0, pin, phone ? e164 : NULL, lang, who);
	if (rc == -ENOENT)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "no worker '%s'", worker);
	if (rc == -ENOKEY)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE,
				 "rinkid has no PIN pepper: no PIN can be set");
	if (rc < 0)
		return change_err(rc, "worker-set", reply, rlen);
	snprintf(reply, rlen, "ok worker=");
	size_t n = strlen(reply);
	if (gw_ctl_encode(reply + n, rlen - n, worker) < 0)
		snprintf(reply, rlen, "ok");
	return 0;
}

/* Is fd something a request may bring: a regular file (memfd too) or a pipe? */
static bool fd_kind_ok(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode));
}

static int req_roster_import(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			     const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"mode", "replace", "by", NULL};
	const char *mode = gw_ctl_msg_get(m, "mode"), *rep = gw_ctl_msg_get(m, "replace");
	int replace = 0;
	char who[160];

	if (check_keys(m, keys, reply, rlen) < 0 ||
	    who_of(ctl, m, peer, who, sizeof(who), reply, rlen))
		return -1;
	if (!mode || (strcmp(mode, "preview") != 0 && strcmp(mode, "apply") != 0))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "mode is preview or apply");
	if (rep && flag01(rep, &replace) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "replace is 0 or 1");
	if (!ctl->cur_fd || *ctl->cur_fd < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "roster-import needs the roster as a descriptor (SCM_RIGHTS)");
	if (!fd_kind_ok(*ctl->cur_fd))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "the descriptor is not a regular file, pipe or memfd");
	if (!ctl->ops.roster_import)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE,
				 "roster-import not provided");
	uint64_t ticket = ++ctl->next_ticket;
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "roster-import %s%s requested by %s", mode,
	     replace ? " replace" : "", who);
	int fd = *ctl->cur_fd;
	*ctl->cur_fd = -1; /* the op's now, whatever it answers */
	int rc =
	    ctl->ops.roster_import(ctl->ops.arg, fd, mode[0] == 'a', replace != 0, who, ticket);
	if (rc == -EBUSY)
		return reply_err(reply, rlen, RINKI_CTL_E_BUSY, "a roster import runs already");
	if (rc < 0)
		return change_err(rc, "roster-import", reply, rlen);
	ctl->cur_ticket = ticket;
	reply[0] = '\0';
	return 1;
}

static int req_worker_add(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			  const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"worker", "name",	 "phone", "issi",
					   "lang",   "disabled", "by",	  NULL};
	const char *worker = gw_ctl_msg_get(m, "worker"), *name = gw_ctl_msg_get(m, "name");
	const char *phone = gw_ctl_msg_get(m, "phone"), *issi = gw_ctl_msg_get(m, "issi");
	const char *dis = gw_ctl_msg_get(m, "disabled");
	int disabled = 0;
	char who[160], e164[GW_E164_MAX], issi_buf[32], why[200];

	if (check_keys(m, keys, reply, rlen) < 0 ||
	    who_of(ctl, m, peer, who, sizeof(who), reply, rlen))
		return -1;
	if (!worker || !name || !phone)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "worker-add needs worker=, name= and phone=");
	if (dis && flag01(dis, &disabled) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "disabled is 0 or 1");
	if (gw_e164_canon(phone, e164) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "worker-add: bad phone number (+358..., 00358... or 040...)");
	if (issi && strlen(issi) >= sizeof(issi_buf))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "worker-add: bad ISSI");
	snprintf(issi_buf, sizeof(issi_buf), "%s", issi ? issi : "");
	struct gw_db_worker w = {.handle = (char *)worker,
				 .name = (char *)name,
				 .phone = e164,
				 .issi = issi && *issi ? issi_buf : NULL,
				 .lang = (char *)gw_ctl_msg_get(m, "lang"),
				 .active = !disabled};
	/* the roster's own checks (the ISSI canonical in place); values are control-free */
	if (gw_roster_check_worker(&w, why, sizeof(why)) < 0)
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "worker-add: %s", why);
	if (!ctl->ops.worker_add)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE, "worker-add not provided");
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "worker-add %s requested by %s", worker, who);
	int rc = ctl->ops.worker_add(ctl->ops.arg, &w, who);
	if (rc == -EEXIST) /* a checked handle: letters, digits, . _ - */
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "worker '%s' exists already",
				 worker);
	if (rc < 0)
		return change_err(rc, "worker-add", reply, rlen);
	snprintf(reply, rlen, "ok worker=%s", worker);
	return 0;
}

static int req_directory_import(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
				const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {"by", NULL};
	char who[160];

	if (check_keys(m, keys, reply, rlen) < 0 ||
	    who_of(ctl, m, peer, who, sizeof(who), reply, rlen))
		return -1;
	if (!ctl->cur_fd || *ctl->cur_fd < 0)
		return reply_err(
		    reply, rlen, RINKI_CTL_E_USAGE,
		    "directory-import needs the directory as a descriptor (SCM_RIGHTS)");
	if (!fd_kind_ok(*ctl->cur_fd))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE,
				 "the descriptor is not a regular file, pipe or memfd");
	if (!ctl->ops.directory_import)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE,
				 "directory-import not provided");
	uint64_t ticket = ++ctl->next_ticket;
	LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "directory-import requested by %s", who);
	int fd = *ctl->cur_fd;
	*ctl->cur_fd = -1; /* the op's now, whatever it answers */
	int rc = ctl->ops.directory_import(ctl->ops.arg, fd, who, ticket);
	if (rc == -EBUSY)
		return reply_err(reply, rlen, RINKI_CTL_E_BUSY, "an import runs already");
	if (rc < 0)
		return change_err(rc, "directory-import", reply, rlen);
	ctl->cur_ticket = ticket;
	reply[0] = '\0';
	return 1;
}

/* Take es off ctl's list. */
static void evsync_unlink(struct evsync *es)
{
	for (struct evsync **pp = &es->ctl->evsyncs; *pp; pp = &(*pp)->next) {
		if (*pp == es) {
			*pp = es->next;
			return;
		}
	}
}

/* The reply for the barrier's outcome rc. Returns 0 (ok) or -1 (err). */
static int evsync_reply(int rc, char *reply, size_t rlen)
{
	if (rc == 0) {
		snprintf(reply, rlen, "ok");
		return 0;
	}
	if (rc == -ETIMEDOUT)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED,
				 "event lines not written within %d ms (the sink takes nothing)",
				 RINKI_CTL_EVSYNC_MS);
	if (rc == -EIO)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED,
				 "an event stream write failed: lines are lost");
	if (rc == -EPIPE)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED,
				 "the event stream was closed first");
	if (rc == -EINVAL)
		return reply_err(reply, rlen, RINKI_CTL_E_UNAVAILABLE,
				 "events-sync needs rinkid's loop");
	return reply_err(reply, rlen, RINKI_CTL_E_FAILED, "events-sync: %s", strerror(-rc));
}

static void evsync_done(void *arg, int rc)
{
	struct evsync *es = arg;
	struct gw_ctl *ctl = es->ctl;
	uint64_t ticket = es->ticket;
	char reply[RINKI_CTL_REPLY_MAX];
	evsync_unlink(es);
	free(es);
	evsync_reply(rc, reply, sizeof(reply));
	gw_ctl_finish(ctl, ticket, reply);
}

static int req_events_sync(struct gw_ctl *ctl, const struct gw_ctl_msg *m,
			   const struct gw_ctl_peer *peer, char *reply, size_t rlen)
{
	static const char *const keys[] = {NULL};
	(void)peer;
	if (check_keys(m, keys, reply, rlen) < 0)
		return -1;
	struct evsync *es = calloc(1, sizeof(*es));
	if (!es)
		return reply_err(reply, rlen, RINKI_CTL_E_FAILED, "events-sync: no memory");
	es->ctl = ctl;
	es->ticket = ++ctl->next_ticket;
	int rc = gw_event_sync(ctl->loop, &es->s, RINKI_CTL_EVSYNC_MS, evsync_done, es);
	if (rc != 1) {
		free(es);
		return evsync_reply(rc, reply, rlen);
	}
	es->next = ctl->evsyncs;
	ctl->evsyncs = es;
	ctl->cur_ticket = es->ticket;
	reply[0] = '\0';
	return 1;
}

/* Withdraw the events-sync waiting under ticket (all of them when ticket is 0). */
static void evsync_cancel(struct gw_ctl *ctl, uint64_t ticket)
{
	struct evsync *es = ctl->evsyncs, *next;
	for (; es; es = next) {
		next = es->next;
		if (ticket && es->ticket != ticket)
			continue;
		gw_event_sync_cancel(&es->s);
		evsync_unlink(es);
		free(es);
	}
}

static const struct request {
	const char *verb;
	enum gw_ctl_access need;
	bool takes_fd;
	int (*fn)(struct gw_ctl *ctl, const struct gw_ctl_msg *m, const struct gw_ctl_peer *peer,
		  char *reply, size_t rlen);
} requests[] = {
    {"status", GW_CTL_ACCESS_READ, false, req_status},
    {"events-sync", GW_CTL_ACCESS_READ, false, req_events_sync},
    {"page-test", GW_CTL_ACCESS_ADMIN, false, req_page_test},
    {"sds-send", GW_CTL_ACCESS_ADMIN, false, req_sds_send},
    {"override-add", GW_CTL_ACCESS_ADMIN, false, req_override_add},
    {"override-del", GW_CTL_ACCESS_ADMIN, false, req_override_del},
    {"worker-set", GW_CTL_ACCESS_ADMIN, false, req_worker_set},
    {"roster-import", GW_CTL_ACCESS_ADMIN, true, req_roster_import},
    {"worker-add", GW_CTL_ACCESS_ADMIN, false, req_worker_add},
    {"directory-import", GW_CTL_ACCESS_ADMIN, true, req_directory_import},
};

int gw_ctl_handle(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line, size_t len,
		  char *reply, size_t rlen)
{
	uint64_t ticket = 0;
	int fd = -1;
	return gw_ctl_handle_fd(ctl, peer, line, len, &fd, &ticket, reply, rlen);
}

static int handle(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line, size_t len,
		  char *reply, size_t rlen);

int gw_ctl_handle_fd(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line,
		     size_t len, int *fd, uint64_t *ticket, char *reply, size_t rlen)
{
	ctl->cur_fd = fd;
	ctl->cur_ticket = 0;
	int rc = handle(ctl, peer, line, len, reply, rlen);
	ctl->cur_fd = NULL;
	if (rc == 1)
		*ticket = ctl->cur_ticket;
	return rc;
}

static int handle(struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line, size_t len,
		  char *reply, size_t rlen)
{
	struct gw_ctl_msg m;
	char err[160];

	assert(rlen > 0);
	if (rlen > RINKI_CTL_MULTI_MAX)
		rlen = RINKI_CTL_MULTI_MAX;
	ctl->requests++;
	if (len >= RINKI_CTL_REQ_MAX)
		return reply_err(reply, rlen, RINKI_CTL_E_TOOLONG, "request longer than %d bytes",
				 RINKI_CTL_REQ_MAX - 1);
	if (memchr(line, '\0', len))
		return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "NUL byte in request");
	int rc = gw_ctl_parse(line, len, &m, err, sizeof(err));
	if (rc < 0) {
		LOGP(GW_LOG_CTL, GW_LOG_INFO, "pid %d: malformed request: %s", (int)peer->pid, err);
		return reply_err(reply, rlen,
				 rc == -EMSGSIZE ? RINKI_CTL_E_TOOLONG : RINKI_CTL_E_USAGE, "%s",
				 err);
	}
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const struct request *r = &requests[i];
		if (strcmp(r->verb, m.verb) != 0)
			continue;
		if (gw_ctl_access(ctl, peer) < r->need) {
			ctl->denied++;
			LOGP(GW_LOG_CTL, GW_LOG_WARN, "%s denied to uid %u pid %d", m.verb,
			     (unsigned)peer->uid, (int)peer->pid);
			return reply_err(reply, rlen, RINKI_CTL_E_DENIED,
					 "%s needs uid 0 or membership of ctl.admin_group", m.verb);
		}
		if (!r->takes_fd && ctl->cur_fd && *ctl->cur_fd >= 0)
			return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "%s takes no descriptor",
					 m.verb);
		return r->fn(ctl, &m, peer, reply, rlen);
	}
	return reply_err(reply, rlen, RINKI_CTL_E_USAGE, "unknown request '%s'", m.verb);
}

/* ---- connections ------------------------------------------------------------------------- */

static void client_close(struct client *c, const char *why)
{
	struct gw_ctl *ctl = c->ctl;
	if (why) {
		ctl->dropped++;
		LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "client pid %d dropped: %s", (int)c->peer.pid, why);
	}
	gw_timer_cancel(ctl->loop, &c->idle);
	if (c->waiting && c->waiting != NAME_WAIT)
		evsync_cancel(ctl, c->waiting); /* its barrier, if that is what it waits for */
	gw_loop_del_fd(ctl->loop, c->fd);
	close(c->fd);
	if (c->fd_in >= 0)
		close(c->fd_in);
	for (struct client **pp = &ctl->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctl->nclients--;
	free(c);
}

/* Write what the peer takes. Returns 0, or -1 when the connection failed (c is freed). */
static int client_flush(struct client *c)
{
	while (c->outlen) {
		ssize_t n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			LOGP(GW_LOG_CTL, GW_LOG_DEBUG, "client pid %d: send: %s", (int)c->peer.pid,
			     n < 0 ? strerror(errno) : "nothing written");
			client_close(c, NULL);
			return -1;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	if (c->closing && c->outlen == 0) {
		client_close(c, NULL);
		return -1;
	}
	gw_loop_mod_fd(
	    c->ctl->loop, c->fd,
	    (short)((c->closing || c->waiting ? 0 : POLLIN) | (c->outlen ? POLLOUT : 0)));
	return 0;
}

/* Queue one reply line. Returns 0, or -1 when c was dropped (its replies pile up). */
static int client_reply(struct client *c, const char *reply)
{
	size_t n = strlen(reply);
	if (c->outlen + n + 1 > sizeof(c->out)) {
		client_close(c, "it does not read its replies");
		return -1;
	}
	memcpy(c->out + c->outlen, reply, n);
	c->out[c->outlen + n] = '\n';
	c->outlen += n + 1;
	return client_flush(c);
}

/* Does this line (len bytes) of peer's need its user name: an admin's admin request? */
static bool needs_name(const struct gw_ctl *ctl, const struct gw_ctl_peer *peer, const char *line,
		       size_t len)
{
	size_t n = 0;
	while (n < len && line[n] != ' ' && line[n] != '\r')
		n++;
	if (gw_ctl_access(ctl, peer) != GW_CTL_ACCESS_ADMIN)
		return false;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (strlen(requests[i].verb) == n && memcmp(requests[i].verb, line, n) == 0)
			return requests[i].need == GW_CTL_ACCESS_ADMIN;
	return false;
}

/* Handle every complete line in c->in. Returns 0, or -1 when c is gone. */
static int client_lines(struct client *c, bool eof)
{
	static char reply[RINKI_CTL_MULTI_MAX];
	while (!c->waiting) {
		char *nl = memchr(c->in, '\n', c->inlen);
		size_t len;
		if (nl) {
			len = (size_t)(nl - c->in);
		} else if (c->inlen == sizeof(c->in)) {
			c->ctl->requests++;
			reply_err(reply, sizeof(reply), RINKI_CTL_E_TOOLONG,
				  "request longer than %d bytes", RINKI_CTL_REQ_MAX - 1);
			c->closing = true;
			c->ctl->dropped++;
			LOGP(GW_LOG_CTL, GW_LOG_NOTICE, "client pid %d: request too long, closing",
			     (int)c->peer.pid);
			return client_reply(c, reply);
		} else if (eof && c->inlen) {
			len = c->inlen; /* a last line without LF still counts */
		} else {
			return 0;
		}
		/* a change names its requester: the name is fetched off the loop first */
		if (needs_name(c->ctl, &c->peer, c->in, len) &&
		    gw_ctl_users_fetch(c->ctl->users, c->peer.uid) == 1) {
			c->waiting = NAME_WAIT; /* resumed by users_ready; the idle timer runs on */
			gw_loop_mod_fd(c->ctl->loop, c->fd, (short)(c->outlen ? POLLOUT : 0));
			return 0;
		}
		uint64_t ticket = 0;
		int rc = gw_ctl_handle_fd(c->ctl, &c->peer, c->in, len, &c->fd_in, &ticket, reply,
					  sizeof(reply));
		if (c->fd_in >= 0) { /* one descriptor belongs to one line: unused, it goes */
			close(c->fd_in);
			c->fd_in = -1;
		}
		size_t used = nl ? len + 1 : len;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		if (rc == 1) {
			/* answered by gw_ctl_finish(); no time-out while rinkid works on it */
			c->waiting = ticket;
			gw_timer_cancel(c->ctl->loop, &c->idle);
			gw_loop_mod_fd(c->ctl->loop, c->fd, (short)(c->outlen ? POLLOUT : 0));
			return 0;
		}
		gw_timer_schedule(c->ctl->loop, &c->idle, RINKI_CTL_IDLE_MS);
		if (client_reply(c, reply) < 0)
			return -1;
		if (c->closing)
			return 0;
	}
	return 0;
}

/* Read what the peer sent, with at most one descriptor. Returns recv()'s count or -errno. */
static ssize_t client_recv(struct client *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = {.iov_base = c->in + c->inlen, .iov_len = sizeof(c->in) - c->inlen};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm)};
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	int got = 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->fd_in < 0 && got == 0)
				c->fd_in = fd;
			else
				close(fd); /* one per request: the rest are refused below */
			got++;
		}
	}
	if (got > 1 || (msg.msg_flags & MSG_CTRUNC)) {
		if (c->fd_in >= 0)
			close(c->fd_in);
		c->fd_in = -1;
		return -EBADMSG;
	}
	return n;
}

static void on_client(struct gw_loop *loop, int fd, short revents, void *arg)
{
	struct client *c = arg;
	(void)loop;
	(void)fd;
	if ((revents & POLLOUT) && client_flush(c) < 0)
		return;
	if (c->waiting && (revents & (POLLHUP | POLLERR))) {
		client_close(c, NULL); /* gone before its answer: gw_ctl_finish drops it */
		return;
	}
	if (c->closing || c->waiting)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t n = client_recv(c);
		if (n == -EAGAIN || n == -EINTR || n == -EWOULDBLOCK)
			return;
		if (n == -EBADMSG) {
			char reply[160];
			reply_err(reply, sizeof(reply), RINKI_CTL_E_USAGE,
				  "at most one descriptor per request");
			c->closing = true;
			LOGP(GW_LOG_CTL, GW_LOG_NOTICE,
			     "client pid %d: several descriptors, closing", (int)c->peer.pid);
			client_reply(c, reply);
			return;
		}
		if (n < 0) {
			LOGP(GW_LOG_CTL, GW_LOG_DEBUG, "client pid %d: recv: %s", (int)c->peer.pid,
			     strerror((int)-n));
			client_close(c, NULL);
			return;
		}
		c->inlen += (size_t)n;
		if (client_lines(c, n == 0) < 0)
			return;
		if (n == 0) {
			/* the peer finished sending: close once its replies are out */
			c->eof = true;
			if (!c->waiting) {
				c->closing = true;
				client_flush(c);
			}
		}
	}
}

/* Go on with c's buffered lines after a wait; read again when none waits. */
static void resume(struct client *c)
{
	if (client_lines(c, c->eof) < 0)
		return;
	if (c->eof && !c->waiting) {
		c->closing = true;
		client_flush(c);
	} else if (!c->waiting) {
		gw_loop_mod_fd(c->ctl->loop, c->fd, (short)(POLLIN | (c->outlen ? POLLOUT : 0)));
	}
}

int gw_ctl_finish(struct gw_ctl *ctl, uint64_t ticket, const char *reply)
{
	struct client *c = ctl->clients;
	while (c && c->waiting != ticket)
		c = c->next;
	if (!c || !ticket || ticket == NAME_WAIT) {
		LOGP(GW_LOG_CTL, GW_LOG_NOTICE,
		     "answer to request %" PRIu64 " dropped: its client left", ticket);
		return -ENOENT;
	}
	c->waiting = 0;
	gw_timer_schedule(ctl->loop, &c->idle, RINKI_CTL_IDLE_MS);
	if (client_reply(c, reply) < 0)
		return 0;
	if (c->closing)
		return 0;
	resume(c);
	return 0;
}

/* User names came in: the requests that waited for them go on. */
static void users_ready(void *arg)
{
	struct gw_ctl *ctl = arg;
	struct client *c = ctl->clients, *next;
	for (; c; c = next) {
		next = c->next; /* resume may close c */
		if (c->waiting != NAME_WAIT)
			continue;
		c->waiting = 0;
		resume(c);
	}
}

static void on_idle(struct gw_loop *loop, void *arg)
{
	(void)loop;
	client_close(arg, "idle");
}

/* Refuse a connection with one err line, best effort, without blocking. */
static void refuse(int fd, const char *code, const char *text)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "err %s %s\n", code, text);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		LOGP(GW_LOG_CTL, GW_LOG_DEBUG, "refusal not sent: %s", strerror(errno));
	close(fd);
}

static void on_accept(struct gw_loop *loop, int lfd, short revents, void *arg)
{
	struct gw_ctl *ctl = arg;
	struct gw_ctl_peer peer;
	(void)revents;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			LOGP(GW_LOG_CTL, GW_LOG_ERROR, "accept: %s", strerror(errno));
		return;
	}
	int rc = gw_ctl_peer_get(fd, &peer);
	if (rc < 0) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "peer credentials: %s", strerror(-rc));
		close(fd);
		return;
	}
	if (gw_ctl_access(ctl, &peer) == GW_CTL_ACCESS_NONE) {
		ctl->denied++;
		LOGP(GW_LOG_CTL, GW_LOG_WARN, "connection from uid %u pid %d denied",
		     (unsigned)peer.uid, (int)peer.pid);
		refuse(fd, RINKI_CTL_E_DENIED, "needs uid 0 or membership of ctl.group");
		return;
	}
	/* the last GW_CTL_ADMIN_RESERVED slots are an administrator's only */
	int cap = gw_ctl_access(ctl, &peer) == GW_CTL_ACCESS_ADMIN
		      ? GW_CTL_CLIENTS_MAX
		      : GW_CTL_CLIENTS_MAX - GW_CTL_ADMIN_RESERVED;
	if (ctl->nclients >= cap) {
		LOGP(GW_LOG_CTL, GW_LOG_WARN,
		     "connection from uid %u pid %d refused: %d clients already (%d kept for "
		     "administrators)",
		     (unsigned)peer.uid, (int)peer.pid, ctl->nclients, GW_CTL_ADMIN_RESERVED);
		refuse(fd, RINKI_CTL_E_BUSY, "too many connections");
		return;
	}
	struct client *c = calloc(1, sizeof(*c));
	if (!c || gw_loop_add_fd(loop, fd, POLLIN, on_client, c) < 0) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "no memory for a client");
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->fd_in = -1;
	c->peer = peer;
	gw_timer_init(&c->idle, on_idle, c);
	gw_timer_schedule(loop, &c->idle, RINKI_CTL_IDLE_MS);
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->nclients++;
	LOGP(GW_LOG_CTL, GW_LOG_DEBUG, "client uid %u pid %d connected", (unsigned)peer.uid,
	     (int)peer.pid);
}

/* ---- lifetime ------------------------------------------------------------------------------ */

int gw_ctl_new(const struct gw_ctl_ops *ops, struct gw_ctl **out)
{
	struct gw_ctl *ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->ops = *ops;
	ctl->lfd = -1;
	if (gw_ctl_users_new(NULL, NULL, NULL, NULL, NULL, &ctl->users) < 0) {
		free(ctl);
		return -ENOMEM;
	}
	*out = ctl;
	return 0;
}

/* A group by name or number. Returns 0, 1 (optional and missing: unset) or -ENOENT. */
static int resolve_group(const char *key, const char *name, bool optional, gid_t *gid)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(name, &end, 10);
	if (isdigit((unsigned char)name[0]) && !*end && !errno && v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	struct group *g = getgrnam(name);
	if (!g && optional) {
		LOGP(GW_LOG_CTL, GW_LOG_WARN,
		     "%s: no group '%s' (the default) on this machine: not used (groupadd --system "
		     "%s)",
		     key, name, name);
		return 1;
	}
	if (!g) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "%s: no group '%s'", key, name);
		return -ENOENT;
	}
	*gid = g->gr_gid;
	return 0;
}

/* Make way for the socket: a stale one goes, a live one or another file stays. */
static int clear_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat stb;
	if (lstat(path, &stb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(stb.st_mode)) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (rc == 0) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "%s: another rinkid is listening there", path);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "%s: %s", path, strerror(e));
		return -e;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	LOGP(GW_LOG_CTL, GW_LOG_INFO, "%s: removed a stale socket", path);
	return 0;
}

int gw_ctl_listen(struct gw_ctl *ctl, struct gw_loop *loop, const struct gw_ctl_conf *conf)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat stb;
	int rc;

	assert(ctl->lfd < 0 && conf->path);
	ctl->has_group = conf->group && conf->group[0];
	ctl->has_admin = conf->admin_group && conf->admin_group[0];
	if (ctl->has_group && (rc = resolve_group("ctl.group", conf->group, conf->group_optional,
						  &ctl->group)) != 0) {
		if (rc < 0)
			return rc;
		ctl->has_group = false;
	}
	if (ctl->has_admin && (rc = resolve_group("ctl.admin_group", conf->admin_group,
						  conf->admin_optional, &ctl->admin)) != 0) {
		if (rc < 0)
			return rc;
		ctl->has_admin = false;
	}
	if (!conf->path[0] || strlen(conf->path) >= sizeof(sa.sun_path)) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "ctl.socket: path empty or longer than %zu bytes",
		     sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, conf->path, strlen(conf->path) + 1);
	if ((rc = clear_path(conf->path, &sa)) < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0117); /* born 0660: no window with wider access */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (rc < 0) {
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "bind %s: %s", conf->path, strerror(e));
		close(fd);
		return -e;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", conf->path);
	ctl->lfd = fd;
	ctl->loop = loop;
	struct gw_ctl_users *users; /* from now on on the loop's clock, fetched off the loop */
	if (gw_ctl_users_new(loop, NULL, NULL, users_ready, ctl, &users) == 0) {
		gw_ctl_users_free(ctl->users);
		ctl->users = users;
	}
	/*
	 * The umask above made it 0660. Nothing here follows a link: a name swapped for a
	 * symlink between bind() and now must not make root change another file's group.
	 */
	int bad = lstat(conf->path, &stb) < 0 ? errno
		  : !S_ISSOCK(stb.st_mode)    ? EPERM /* not the socket we bound */
		  : ctl->has_group && lchown(conf->path, (uid_t)-1, ctl->group) < 0 ? errno
										    : 0;
	if (bad) {
		rc = -bad;
		LOGP(GW_LOG_CTL, GW_LOG_ERROR, "%s: not our socket, or cannot set its group %s: %s",
		     conf->path, ctl->has_group ? conf->group : "-", strerror(bad));
		goto fail;
	}
	ctl->dev = stb.st_dev;
	ctl->ino = stb.st_ino;
	if (listen(fd, 16) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = gw_loop_add_fd(loop, fd, POLLIN, on_accept, ctl)) < 0)
		goto fail;
	LOGP(GW_LOG_CTL, GW_LOG_INFO, "control socket %s (group %s, admin group %s)", conf->path,
	     ctl->has_group ? conf->group : "-", ctl->has_admin ? conf->admin_group : "-");
	return 0;
fail:
	unlink(ctl->path);
	close(fd);
	ctl->lfd = -1;
	ctl->path[0] = '\0';
	return rc;
}

int gw_ctl_clients(const struct gw_ctl *ctl)
{
	return ctl->nclients;
}

void gw_ctl_free(struct gw_ctl *ctl)
{
	struct stat stb;
	if (!ctl)
		return;
	while (ctl->clients)
		client_close(ctl->clients, NULL);
	evsync_cancel(ctl, 0);
	if (ctl->lfd >= 0) {
		gw_loop_del_fd(ctl->loop, ctl->lfd);
		close(ctl->lfd);
		/* only our own socket: a successor may have replaced it */
		if (stat(ctl->path, &stb) == 0 && stb.st_dev == ctl->dev &&
		    stb.st_ino == ctl->ino && unlink(ctl->path) < 0)
			LOGP(GW_LOG_CTL, GW_LOG_INFO, "unlink %s: %s", ctl->path, strerror(errno));
	}
	gw_ctl_users_free(ctl->users);
	free(ctl);
}
