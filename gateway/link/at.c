/*
 * at: a byte-level line assembler feeding a small classifier.
 *
 * Framing: CR or LF ends a line; empty lines are dropped; a line over
 * GW_AT_LINE_MAX bytes is discarded up to its end; a line holding NUL bytes is
 * skipped whole. The "> " prompt has no line end, so it is recognised in the
 * partial buffer while a prompt command waits for it.
 *
 * Classification of a complete line, in order: trailing line of a URC being
 * collected; echo of the outstanding command; information line with the
 * command's expected prefix (without one: the command's own name, "+CPMS:" for
 * AT+CPMS=...); final result code; registered URC prefix;
 * a bare line (not shaped like a URC) of the outstanding command, when it has
 * no expected prefix or the line follows one of its prefixed lines (the PDU
 * after +CMGR:); a well-formed URC nobody registered ("^RSSI:15", "+CGREG: 1"),
 * counted and logged once per kind; otherwise unknown and skipped. So a vendor
 * report that comes just before a command's final answer is never taken for
 * its response.
 * A command queued with GW_AT_F_SYNC (the first after an ESC) takes no final code before
 * its prefixed line: those answer the ESC, however late they come.
 * After an ESC (an SMS given up at its prompt for a page, or a prompt that never came) the
 * given-up command owes one final code (27.005 AT+CMGS: ESC aborts the PDU and the modem
 * answers the AT+CMGS with OK or +CMS ERROR); after an ESC with the body out, how many is
 * not known. Nothing is sent until the owed code is seen: on a modem that answers the ESC
 * at once the next command (the page's ATD) leaves on that answer, with no added wait.
 * The owed state never just times out (issue #13: an ERROR for the ESC that came after a
 * 200 ms wait was taken as the ATD's, the page counted failed while it was being dialled):
 * after OWED_MS without the answer (or QUIET_MS of quiet when draining) a probe, AT+CSQ with
 * GW_AT_F_SYNC, goes first; a modem answers in order, so its +CSQ line proves every earlier
 * answer came, and final codes before it are dropped. An unanswered probe (PROBE_MS) fails
 * the next command unsent with GW_AT_TIMEOUT, and the one after gets a new probe: a silent
 * modem costs a page a bounded wait and an honest failure, never a wrong attribution.
 * Call-progress codes (BUSY, NO CARRIER, ...) end a command only when it was
 * queued with GW_AT_F_DIAL; otherwise they are URCs, because modems send them
 * long after the OK of ATD.
 * A command written ahead (gw_at_cmd_ahead, the page's ATD before its incident exists) goes
 * only when nothing is outstanding, queued or owed, and is then the outstanding command like
 * any other: the engine stays the port's one writer. Its owner adopts it by asking for the
 * byte-identical command (gw_at_adopt); anything else is refused and counted.
 */
#include "link/at.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/text.h"

#define QUEUE_LEN  32
#define CMD_MAX	   512
#define BODY_MAX   2048
#define PREFIX_MAX 24
#define URC_MAX	   48
#define TRAIL_MAX  2
#define ARENA	   8192
/* how long a command given up with ESC may take to answer it before a probe goes */
#define OWED_MS 200
/* the probe that proves the ESC answered: its information line comes after every answer
   to what was sent before it (AT+CSQ is in 27.007 and in the TETRA PEI) */
#define PROBE_CMD    "AT+CSQ"
#define PROBE_PREFIX "+CSQ:"
#define PROBE_MS     2000 /* as long as an ordinary command (modem, PEI: 2 s) */
/* a command whose body is out is given this long to be answered before the ESC ... */
#define GRACE_MS 1500
/* ... after which every answer is drained until the line is quiet this long */
#define QUIET_MS   150
#define OWED_DRAIN (-1)
/* kinds of unknown URC logged once each; further kinds are only counted */
#define UNKNOWN_KINDS 8

struct cmd {
	char text[CMD_MAX];
	char body[BODY_MAX]; /* non-empty: prompt command */
	char resp_prefix[PREFIX_MAX];
	char own_prefix[PREFIX_MAX]; /* "+CPMS:" of AT+CPMS=...: its information lines */
	int timeout_ms;
	unsigned flags;
	gw_at_resp_cb cb;
	void *arg;
};

/* What log lines show of a command: the text, or with GW_AT_F_SECRET what comes before the
   secret (up to and with its '=') and "<hidden>". buf holds CMD_MAX + 8 bytes. */
static const char *shown(const char *text, unsigned flags, char *buf, size_t len)
{
	if (!(flags & GW_AT_F_SECRET))
		return text;
	const char *eq = strchr(text, '=');
	int keep = eq ? (int)(eq - text + 1) : 0;
	snprintf(buf, len, "%.*s<hidden>", keep, text);
	return buf;
}
#define SHOWN_MAX (CMD_MAX + 16)

/* How much of a skipped line its event line carries. */
#define SKIPPED_SHOWN 80

struct urc {
	char prefix[PREFIX_MAX];
	size_t plen;
	int trailing;
	gw_at_urc_cb cb;
	void *arg;
};

struct gw_at {
	struct gw_loop *loop;
	enum gw_log_cat cat;
	char name[16];
	struct gw_at_ops ops;

	char line[GW_AT_LINE_MAX + 1];
	size_t linelen;
	int discarding, has_nul;

	struct urc urcs[URC_MAX];
	int nurcs;
	const struct urc *collecting; /* URC waiting for its trailing lines */
	char trail[TRAIL_MAX + 1][GW_AT_LINE_MAX + 1];
	int ntrail, want_trail;

	struct cmd queue[QUEUE_LEN];
	int qhead, qlen;
	int active; /* queue[qhead] has been written and waits for its final code */
	int awaiting_prompt;
	int owed;	  /* a command given up with ESC still owes its final code: nothing is sent
			     until it comes (or a probe has proved it came), so it cannot answer the
			     next one; OWED_DRAIN: how many is not known, drain until QUIET_MS of quiet,
			     then probe */
	int owed_late;	  /* OWED_MS (or QUIET_MS) passed: a probe goes before the next command */
	int probe_failed; /* the probe got no answer: the next command fails unsent */
	int grace;	  /* the outstanding command (body out) is given up when its timer fires */
	int ahead;	  /* the outstanding command was written by gw_at_cmd_ahead, not adopted */
	struct gw_timer timer;

	char arena[ARENA];
	size_t arena_used;
	const char *resp_lines[GW_AT_RESP_LINES];
	int nresp;
	int after_prefixed; /* the last line was an information line with the expected prefix */
	int echoed;	    /* the outstanding command was echoed */
	char unknown_kinds[UNKNOWN_KINDS][PREFIX_MAX];

	struct gw_at_stats stats;
};

static const char *const result_names[] = {
    [GW_AT_OK] = "OK",
    [GW_AT_ERROR] = "ERROR",
    [GW_AT_CME_ERROR] = "+CME ERROR",
    [GW_AT_CMS_ERROR] = "+CMS ERROR",
    [GW_AT_NO_CARRIER] = "NO CARRIER",
    [GW_AT_BUSY] = "BUSY",
    [GW_AT_NO_ANSWER] = "NO ANSWER",
    [GW_AT_NO_DIALTONE] = "NO DIALTONE",
    [GW_AT_CONNECT] = "CONNECT",
    [GW_AT_TIMEOUT] = "TIMEOUT",
    [GW_AT_ABORTED] = "ABORTED",
    [GW_AT_PREEMPTED] = "PREEMPTED",
};

const char *gw_at_result_name(enum gw_at_result r)
{
	return (unsigned)r < sizeof(result_names) / sizeof(result_names[0]) ? result_names[r] : "?";
}

static void on_timeout(struct gw_loop *loop, void *arg);

struct gw_at *gw_at_new(struct gw_loop *loop, enum gw_log_cat cat, const char *name,
			const struct gw_at_ops *ops)
{
	struct gw_at *at = calloc(1, sizeof(*at));
	if (!at)
		return NULL;
	at->loop = loop;
	at->cat = cat;
	snprintf(at->name, sizeof(at->name), "%s", name);
	at->ops = *ops;
	gw_timer_init(&at->timer, on_timeout, at);
	return at;
}

void gw_at_free(struct gw_at *at)
{
	if (!at)
		return;
	gw_timer_cancel(at->loop, &at->timer);
	free(at);
}

int gw_at_add_urc(struct gw_at *at, const char *prefix, int trailing, gw_at_urc_cb cb, void *arg)
{
	size_t n = strlen(prefix);
	if (n == 0 || n >= PREFIX_MAX || trailing < 0 || trailing > TRAIL_MAX || !cb)
		return -EINVAL;
	if (at->nurcs == URC_MAX)
		return -ENOSPC;
	for (int i = 0; i < at->nurcs; i++)
		if (strcmp(at->urcs[i].prefix, prefix) == 0)
			return -EEXIST;
	struct urc *u = &at->urcs[at->nurcs++];
	memcpy(u->prefix, prefix, n + 1);
	u->plen = n;
	u->trailing = trailing;
	u->cb = cb;
	u->arg = arg;
	return 0;
}

int gw_at_cancel(struct gw_at *at, gw_at_resp_cb cb, void *arg)
{
	int first = at->active ? 1 : 0, kept = first, dropped = 0;
	for (int i = first; i < at->qlen; i++) {
		struct cmd *c = &at->queue[(at->qhead + i) % QUEUE_LEN];
		if (c->cb == cb && c->arg == arg) {
			char sb[SHOWN_MAX];
			LOGP(at->cat, GW_LOG_INFO, "%s: %s cancelled before it was sent", at->name,
			     shown(c->text, c->flags, sb, sizeof(sb)));
			dropped++;
			continue;
		}
		if (kept != i)
			at->queue[(at->qhead + kept) % QUEUE_LEN] = *c;
		kept++;
	}
	at->qlen = kept;
	return dropped;
}

int gw_at_pending(const struct gw_at *at)
{
	return at->qlen;
}

const struct gw_at_stats *gw_at_stats(const struct gw_at *at)
{
	return &at->stats;
}

static int starts(const char *line, const char *prefix)
{
	return strncmp(line, prefix, strlen(prefix)) == 0;
}

static int write_raw(struct gw_at *at, const char *buf, size_t len)
{
	return at->ops.write(at->ops.arg, buf, len);
}

static void send_next(struct gw_at *at);

/* End the head command (outstanding, or failed unsent) and report r to its owner. */
static void complete(struct gw_at *at, enum gw_at_result result, int err)
{
	assert(at->qlen > 0);
	struct cmd *c = &at->queue[at->qhead];
	gw_at_resp_cb cb = c->cb;
	void *arg = c->arg;
	struct gw_at_resp r = {
	    .result = result, .err = err, .echoed = at->echoed, .nlines = at->nresp};
	memcpy(r.lines, at->resp_lines, sizeof(r.lines));

	gw_timer_cancel(at->loop, &at->timer);
	char sb[SHOWN_MAX];
	if (result != GW_AT_OK)
		LOGP(at->cat, result == GW_AT_TIMEOUT ? GW_LOG_WARN : GW_LOG_INFO,
		     "%s: %s -> %s%s%.0d", at->name, shown(c->text, c->flags, sb, sizeof(sb)),
		     gw_at_result_name(result), err ? " " : "", err);
	if (result == GW_AT_TIMEOUT) {
		at->stats.timeouts++;
		if (gw_event_on()) { /* a device that went quiet: an "at_timeout" line */
			struct gw_event e;
			gw_event_begin(&e, "at_timeout");
			gw_event_str(&e, "device", at->name);
			gw_event_str(&e, "cmd", shown(c->text, c->flags, sb, sizeof(sb)));
			gw_event_emit(&e);
		}
	}
	if (at->ahead) { /* nobody adopted it: its orphan callback (c->cb) is told */
		LOGP(at->cat, GW_LOG_WARN, "%s: %s written ahead ended unadopted (%s)", at->name,
		     shown(c->text, c->flags, sb, sizeof(sb)), gw_at_result_name(result));
		at->stats.ahead_orphaned++;
		at->ahead = 0;
	}
	if ((c->flags & GW_AT_F_SYNC) && at->nresp > 0 && at->owed) {
		/* its information line came after every answer to what went before it */
		at->owed = 0;
		at->owed_late = 0;
		at->probe_failed = 0;
	}
	at->active = 0;
	at->awaiting_prompt = 0;
	at->grace = 0;
	at->qhead = (at->qhead + 1) % QUEUE_LEN;
	at->qlen--;
	if (cb)
		cb(at, &r, arg);
	/* Response lines live in the arena until the callback has returned. */
	at->arena_used = 0;
	at->nresp = 0;
	send_next(at);
}

static void on_timeout(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct gw_at *at = arg;
	if (!at->active) {
		if (at->owed) { /* the ESC's answer has not come, or the line is quiet: probe */
			LOGP(at->cat, GW_LOG_DEBUG, "%s: %s after the ESC: probing", at->name,
			     at->owed == OWED_DRAIN ? "quiet" : "no answer yet");
			at->owed_late = 1;
			send_next(at);
		}
		return;
	}
	if (at->grace) {
		/* the body went out but no answer came: stuck (some modems swallow all until
		   ESC) or slow; ESC, then drain whatever answers until the line is quiet */
		char sb[SHOWN_MAX];
		LOGP(at->cat, GW_LOG_WARN, "%s: %s given up (ESC) for an urgent command", at->name,
		     shown(at->queue[at->qhead].text, at->queue[at->qhead].flags, sb, sizeof(sb)));
		write_raw(at, "\x1b", 1);
		at->owed = OWED_DRAIN;
		complete(at, GW_AT_PREEMPTED, 0);
		return;
	}
	if (at->awaiting_prompt) {
		/* A stuck "> " prompt is only left with ESC, which is answered in turn. */
		write_raw(at, "\x1b", 1);
		at->owed = 1;
	}
	complete(at, GW_AT_TIMEOUT, 0);
}

static void probe_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)arg;
	if (r->result != GW_AT_ABORTED && at->owed) /* no information line: still unknown */
		at->probe_failed = 1;
}

/*
 * While the given-up command may still answer: nothing goes before OWED_MS (QUIET_MS) has
 * passed; then a GW_AT_F_SYNC command goes first (the engine's probe, unless the head is
 * one), and a head command whose probe went unanswered fails unsent. Returns 1 when the
 * caller must stop (the head was failed, or it waits), 0 when the head may be written.
 */
static int owed_gate(struct gw_at *at)
{
	if (!at->owed)
		return 0;
	if (!at->owed_late) {
		gw_timer_schedule(at->loop, &at->timer,
				  at->owed == OWED_DRAIN ? QUIET_MS : OWED_MS);
		return 1;
	}
	if (at->queue[at->qhead].flags & GW_AT_F_SYNC)
		return 0;
	if (at->probe_failed || at->qlen == QUEUE_LEN) {
		char sb[SHOWN_MAX];
		LOGP(at->cat, GW_LOG_WARN, "%s: %s not sent: the answer to the ESC is still owed",
		     at->name,
		     shown(at->queue[at->qhead].text, at->queue[at->qhead].flags, sb, sizeof(sb)));
		at->probe_failed = 0;
		at->echoed = 0;
		at->nresp = 0;
		complete(at, GW_AT_TIMEOUT, 0); /* sends on (a new probe) */
		return 1;
	}
	at->qhead = (at->qhead + QUEUE_LEN - 1) % QUEUE_LEN;
	at->qlen++;
	struct cmd *p = &at->queue[at->qhead];
	memset(p, 0, sizeof(*p));
	memcpy(p->text, PROBE_CMD, sizeof(PROBE_CMD));
	memcpy(p->resp_prefix, PROBE_PREFIX, sizeof(PROBE_PREFIX));
	p->timeout_ms = PROBE_MS;
	p->flags = GW_AT_F_SYNC;
	p->cb = probe_done;
	return 0;
}

static void send_next(struct gw_at *at)
{
	while (!at->active && at->qlen > 0) {
		if (owed_gate(at))
			return;
		struct cmd *c = &at->queue[at->qhead];
		char buf[CMD_MAX + BODY_MAX + 2];
		size_t tl = strlen(c->text); /* < CMD_MAX: enqueue checked it */
		memcpy(buf, c->text, tl);
		buf[tl] = '\r';
		int n = (int)tl + 1;
		at->active = 1;
		at->awaiting_prompt = c->body[0] != '\0' && !(c->flags & GW_AT_F_DATA);
		if (c->flags & GW_AT_F_DATA) {
			size_t bl = strlen(c->body);
			memcpy(buf + n, c->body, bl);
			buf[n + (int)bl] = 0x1a;
			n += (int)bl + 1;
		}
		at->stats.cmds++;
		at->nresp = 0;
		at->echoed = 0;
		at->arena_used = 0;
		/* write first, log after: logging never delays a command */
		int rc = write_raw(at, buf, (size_t)n);
		char sb[SHOWN_MAX];
		LOGP(at->cat, GW_LOG_DEBUG, "%s > %s", at->name,
		     shown(c->text, c->flags, sb, sizeof(sb)));
		if (rc < 0) {
			complete(at, GW_AT_ABORTED, 0);
			continue;
		}
		gw_timer_schedule(at->loop, &at->timer, c->timeout_ms);
		if (at->ops.sent && !at->ahead) /* reported when it is adopted */
			at->ops.sent(at->ops.arg, c->text, c->flags);
	}
}

/*
 * The information-line prefix a command's own name gives (27.007 4.1: "+CPMS: ..." answers
 * AT+CPMS...; likewise ^, *, $ and % commands), or "" for a basic command (ATD, ATE0).
 */
static void own_prefix(const char *cmd, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	if ((cmd[0] != 'A' && cmd[0] != 'a') || (cmd[1] != 'T' && cmd[1] != 't') || !cmd[2] ||
	    !strchr("+^*$%", cmd[2]))
		return;
	n = 1;
	while ((cmd[2 + n] >= 'A' && cmd[2 + n] <= 'Z') || (cmd[2 + n] >= '0' && cmd[2 + n] <= '9'))
		n++;
	if (n < 2 || n + 2 > len)
		return;
	memcpy(out, cmd + 2, n);
	out[n] = ':';
	out[n + 1] = '\0';
}

static int enqueue(struct gw_at *at, const char *cmd, const char *body, const char *resp_prefix,
		   int timeout_ms, unsigned flags, gw_at_resp_cb cb, void *arg)
{
	if (strlen(cmd) >= CMD_MAX || (body && strlen(body) >= BODY_MAX) ||
	    (resp_prefix && strlen(resp_prefix) >= PREFIX_MAX))
		return -E2BIG;
	if (at->qlen == QUEUE_LEN) {
		char sb[SHOWN_MAX];
		LOGP(at->cat, GW_LOG_ERROR, "%s: command queue full, '%s' not sent", at->name,
		     shown(cmd, flags, sb, sizeof(sb)));
		return -ENOBUFS;
	}
	int slot;
	if ((flags & GW_AT_F_URGENT) && at->qlen > 0) {
		/* Insert behind the outstanding command and earlier urgent ones. */
		int pos = at->active ? 1 : 0;
		/* Urgent commands keep their order among themselves. */
		while (pos < at->qlen &&
		       (at->queue[(at->qhead + pos) % QUEUE_LEN].flags & GW_AT_F_URGENT))
			pos++;
		for (int i = at->qlen; i > pos; i--)
			at->queue[(at->qhead + i) % QUEUE_LEN] =
			    at->queue[(at->qhead + i - 1) % QUEUE_LEN];
		slot = (at->qhead + pos) % QUEUE_LEN;
	} else {
		slot = (at->qhead + at->qlen) % QUEUE_LEN;
	}
	struct cmd *c = &at->queue[slot];
	/* lengths checked above: whole copies (no snprintf on the page path, issue #13) */
	(void)gw_text_copy(c->text, sizeof(c->text), cmd);
	(void)gw_text_copy(c->body, sizeof(c->body), body);
	(void)gw_text_copy(c->resp_prefix, sizeof(c->resp_prefix), resp_prefix);
	own_prefix(cmd, c->own_prefix, sizeof(c->own_prefix));
	c->timeout_ms = timeout_ms;
	c->flags = flags;
	c->cb = cb;
	c->arg = arg;
	at->qlen++;
	send_next(at);
	return 0;
}

int gw_at_cmd_ahead(struct gw_at *at, const char *cmd, int timeout_ms, unsigned flags,
		    gw_at_resp_cb orphan, void *arg)
{
	if (at->active || at->qlen > 0 || at->owed)
		return -EBUSY; /* the command would wait: written ahead it would be a second writer
				*/
	if (flags & (GW_AT_F_SYNC | GW_AT_F_DATA))
		return -EINVAL;
	at->ahead = 1;
	int rc = enqueue(at, cmd, NULL, NULL, timeout_ms, flags, orphan, arg);
	if (rc < 0) {
		at->ahead = 0;
		return rc;
	}
	if (!at->ahead) /* the write failed: completed (ABORTED) already */
		return -EIO;
	at->stats.ahead++;
	return 0;
}

int gw_at_adopt(struct gw_at *at, const char *cmd, unsigned flags, gw_at_resp_cb cb, void *arg)
{
	if (!at->ahead)
		return -ENOENT;
	struct cmd *c = &at->queue[at->qhead];
	at->ahead = 0;
	if (strcmp(c->text, cmd) != 0 || c->flags != flags) {
		char sa[SHOWN_MAX], sb[SHOWN_MAX];
		LOGP(at->cat, GW_LOG_ERROR,
		     "%s: %s was written ahead, but %s was asked: not adopted", at->name,
		     shown(c->text, c->flags, sa, sizeof(sa)), shown(cmd, flags, sb, sizeof(sb)));
		at->stats.ahead_mismatch++;
		c->cb = NULL; /* its answer goes to nobody; the caller undoes it */
		c->arg = NULL;
		return -EILSEQ;
	}
	c->cb = cb;
	c->arg = arg;
	at->stats.adopted++;
	if (at->ops.sent)
		at->ops.sent(at->ops.arg, c->text, c->flags);
	return 0;
}

int gw_at_cmd(struct gw_at *at, const char *cmd, const char *resp_prefix, int timeout_ms,
	      unsigned flags, gw_at_resp_cb cb, void *arg)
{
	if ((flags & GW_AT_F_SYNC) && (!resp_prefix || !*resp_prefix))
		return -EINVAL; /* nothing would tell its own answer from an earlier one */
	return enqueue(at, cmd, NULL, resp_prefix, timeout_ms, flags, cb, arg);
}

int gw_at_cmd_prompt(struct gw_at *at, const char *cmd, const char *body, const char *resp_prefix,
		     int timeout_ms, gw_at_resp_cb cb, void *arg)
{
	if (!body || !*body)
		return -EINVAL;
	return enqueue(at, cmd, body, resp_prefix, timeout_ms, 0, cb, arg);
}

int gw_at_cmd_data(struct gw_at *at, const char *cmd, const char *data, const char *resp_prefix,
		   int timeout_ms, unsigned flags, gw_at_resp_cb cb, void *arg)
{
	if (!data || !*data)
		return -EINVAL;
	return enqueue(at, cmd, data, resp_prefix, timeout_ms, flags | GW_AT_F_DATA, cb, arg);
}

void gw_at_flush(struct gw_at *at)
{
	gw_timer_cancel(at->loop, &at->timer);
	at->active = 0;
	at->awaiting_prompt = 0;
	at->owed = 0;
	at->owed_late = 0;
	at->probe_failed = 0;
	at->grace = 0;
	at->ahead = 0;
	at->collecting = NULL;
	while (at->qlen > 0) {
		struct cmd *c = &at->queue[at->qhead];
		gw_at_resp_cb cb = c->cb;
		void *arg = c->arg;
		at->qhead = (at->qhead + 1) % QUEUE_LEN;
		at->qlen--;
		if (cb) {
			struct gw_at_resp r = {.result = GW_AT_ABORTED};
			cb(at, &r, arg);
		}
	}
	at->nresp = 0;
	at->arena_used = 0;
}

void gw_at_skipped(const struct gw_at *at, const char *reason, const char *line)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "at_skipped");
	gw_event_str(&e, "device", at->name);
	gw_event_str(&e, "reason", reason);
	if (line) {
		char start[SKIPPED_SHOWN + 1];
		snprintf(start, sizeof(start), "%s", line);
		gw_event_str(&e, "line", start);
	}
	gw_event_emit(&e);
}

static void add_resp_line(struct gw_at *at, const char *line, size_t len)
{
	if (at->nresp == GW_AT_RESP_LINES || at->arena_used + len + 1 > ARENA) {
		LOGP(at->cat, GW_LOG_WARN, "%s: response too long, line skipped: %.60s", at->name,
		     line);
		at->stats.lines_skipped++;
		gw_at_skipped(at, "response_full", line);
		return;
	}
	char *p = at->arena + at->arena_used;
	memcpy(p, line, len + 1);
	at->arena_used += len + 1;
	at->resp_lines[at->nresp++] = p;
}

/* Final result codes. Returns 1 and sets *res and *err for a final code, else 0. */
static int final_code(const char *line, enum gw_at_result *res, int *err, int *is_progress)
{
	static const struct {
		const char *text;
		enum gw_at_result res;
		int progress;
	} finals[] = {
	    {"OK", GW_AT_OK, 0},
	    {"ERROR", GW_AT_ERROR, 0},
	    {"NO CARRIER", GW_AT_NO_CARRIER, 1},
	    {"BUSY", GW_AT_BUSY, 1},
	    {"NO ANSWER", GW_AT_NO_ANSWER, 1},
	    {"NO DIALTONE", GW_AT_NO_DIALTONE, 1},
	    {"CONNECT", GW_AT_CONNECT, 0},
	};
	*err = 0;
	*is_progress = 0;
	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
		if (strcmp(line, finals[i].text) == 0 ||
		    (finals[i].res == GW_AT_CONNECT && starts(line, "CONNECT "))) {
			*res = finals[i].res;
			*is_progress = finals[i].progress;
			return 1;
		}
	}
	int is_cme = starts(line, "+CME ERROR:"), is_cms = starts(line, "+CMS ERROR:");
	if (is_cme || is_cms) {
		const char *p = line + 11;
		while (*p == ' ')
			p++;
		char *end;
		long v = strtol(p, &end, 10);
		*err = (end != p && v >= 0 && v < 100000) ? (int)v : -1;
		*res = is_cme ? GW_AT_CME_ERROR : GW_AT_CMS_ERROR;
		return 1;
	}
	return 0;
}

/* A URC's shape: +, ^, *, $ or % and a name, then ':' or the end ("^RSSI:15", "^BOOT"). */
static int urc_shaped(const char *line)
{
	if (line[0] == '\0' || !strchr("+^*$%", line[0]))
		return 0;
	size_t i = 1;
	while ((line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= 'a' && line[i] <= 'z') ||
	       (line[i] >= '0' && line[i] <= '9') || line[i] == '_')
		i++;
	return i > 1 && (line[i] == ':' || line[i] == '\0');
}

/* A well-formed URC nobody registered: counted; the first of each kind is logged. */
static void unknown_urc(struct gw_at *at, const char *line)
{
	char kind[PREFIX_MAX];
	size_t n = strcspn(line, ":");
	if (n >= sizeof(kind))
		n = sizeof(kind) - 1;
	memcpy(kind, line, n);
	kind[n] = '\0';
	at->stats.urcs_unknown++;
	for (int i = 0; i < UNKNOWN_KINDS; i++) {
		if (strcmp(at->unknown_kinds[i], kind) == 0)
			return;
		if (at->unknown_kinds[i][0] == '\0') {
			memcpy(at->unknown_kinds[i], kind, n + 1);
			LOGP(at->cat, GW_LOG_INFO,
			     "%s: unknown URC %s ('%.60s'); this kind is counted, not logged",
			     at->name, kind, line);
			return;
		}
	}
}

static const struct urc *find_urc(const struct gw_at *at, const char *line)
{
	const struct urc *best = NULL;
	for (int i = 0; i < at->nurcs; i++) {
		const struct urc *u = &at->urcs[i];
		if (strncmp(line, u->prefix, u->plen) == 0 && (!best || u->plen > best->plen))
			best = u;
	}
	return best;
}

static void dispatch_collected(struct gw_at *at)
{
	const char *lines[TRAIL_MAX + 1];
	for (int i = 0; i < at->ntrail; i++)
		lines[i] = at->trail[i];
	const struct urc *u = at->collecting;
	at->collecting = NULL;
	at->stats.urcs++;
	u->cb(at, lines, at->ntrail, u->arg);
}

static void process_line(struct gw_at *at, const char *line, size_t len)
{
	enum gw_at_result res;
	int err, progress;

	at->stats.lines_in++;
	if (gw_log_enabled(at->cat, GW_LOG_DEBUG)) {
		/* an echo of a secret command is shown as the command is */
		const struct cmd *c = at->active ? &at->queue[at->qhead] : NULL;
		char sb[SHOWN_MAX];
		const char *eq = c && (c->flags & GW_AT_F_SECRET) ? strchr(c->text, '=') : NULL;
		bool echo = eq && strncmp(line, c->text, (size_t)(eq - c->text + 1)) == 0;
		LOGP(at->cat, GW_LOG_DEBUG, "%s < %s", at->name,
		     echo ? shown(line, GW_AT_F_SECRET, sb, sizeof(sb)) : line);
	}

	if (at->collecting) {
		if (final_code(line, &res, &err, &progress)) {
			/* The trailing line never came: hand over what there is. */
			LOGP(at->cat, GW_LOG_WARN, "%s: %s without its data line", at->name,
			     at->collecting->prefix);
			dispatch_collected(at);
		} else {
			memcpy(at->trail[at->ntrail++], line, len + 1);
			if (at->ntrail == at->want_trail)
				dispatch_collected(at);
			return;
		}
	}

	struct cmd *c = at->active ? &at->queue[at->qhead] : NULL;
	int after_prefixed = at->after_prefixed;
	at->after_prefixed = 0;
	if (c && strcmp(line, c->text) == 0 && at->nresp == 0) {
		at->echoed = 1; /* echo */
		return;
	}
	if (c && ((c->resp_prefix[0] && starts(line, c->resp_prefix)) ||
		  (!c->resp_prefix[0] && c->own_prefix[0] && starts(line, c->own_prefix)))) {
		add_resp_line(at, line, len);
		at->after_prefixed = 1;
		return;
	}
	if (final_code(line, &res, &err, &progress)) {
		if (!c && at->owed && !progress) {
			/* the answer to an ESC (or the given-up command's own result) */
			LOGP(at->cat, GW_LOG_DEBUG, "%s: '%s' answers the ESC", at->name, line);
			if (at->owed != OWED_DRAIN) {
				at->owed = 0;
				at->owed_late = 0;
				at->probe_failed = 0;
			}
			gw_timer_cancel(at->loop, &at->timer);
			send_next(at); /* draining: waits for QUIET_MS from now */
			return;
		}
		if (c && (c->flags & GW_AT_F_SYNC) && at->nresp == 0) {
			/* its own answer has the prefixed line first: this one answers the ESC */
			LOGP(at->cat, GW_LOG_DEBUG, "%s: '%s' before the answer of %s: dropped",
			     at->name, line, c->text);
			return;
		}
		if (c && (!progress || (c->flags & GW_AT_F_DIAL))) {
			complete(at, res, err);
			return;
		}
		if (!progress) {
			LOGP(at->cat, GW_LOG_WARN, "%s: '%s' with no command outstanding, skipped",
			     at->name, line);
			at->stats.lines_skipped++;
			gw_at_skipped(at, "unasked", line);
			return;
		}
		/* call progress without a dial command: a URC if someone listens */
	}
	const struct urc *u = find_urc(at, line);
	if (u) {
		at->collecting = u;
		at->want_trail = u->trailing + 1;
		at->ntrail = 0;
		memcpy(at->trail[at->ntrail++], line, len + 1);
		if (at->ntrail == at->want_trail)
			dispatch_collected(at);
		return;
	}
	int shaped = urc_shaped(line);
	if (c && !shaped && (!c->resp_prefix[0] || after_prefixed)) {
		add_resp_line(at, line, len); /* a bare answer, or the data after a prefixed line */
		return;
	}
	if (!c && at->owed) { /* e.g. "+CMGS: 41" of an SMS sent before its ESC arrived */
		LOGP(at->cat, GW_LOG_DEBUG, "%s: '%.80s' of the command given up", at->name, line);
		return;
	}
	if (shaped) {
		unknown_urc(at, line);
		return;
	}
	LOGP(at->cat, GW_LOG_WARN, "%s: unknown line skipped: %.80s", at->name, line);
	at->stats.lines_skipped++;
	gw_at_skipped(at, "unknown", line);
}

static void check_prompt(struct gw_at *at)
{
	if (!at->awaiting_prompt || !at->active)
		return;
	if (!(at->linelen == 2 && at->line[0] == '>' && at->line[1] == ' '))
		return;
	struct cmd *c = &at->queue[at->qhead];
	LOGP(at->cat, GW_LOG_DEBUG, "%s < > (prompt); > %s^Z", at->name, c->body);
	at->linelen = 0;
	at->awaiting_prompt = 0;
	size_t n = strlen(c->body);
	char buf[BODY_MAX + 1];
	memcpy(buf, c->body, n);
	buf[n] = 0x1a;
	if (write_raw(at, buf, n + 1) < 0)
		complete(at, GW_AT_ABORTED, 0);
}

bool gw_at_line_start(const struct gw_at *at)
{
	return at->linelen == 0 && !at->discarding && !at->has_nul && !at->collecting;
}

void gw_at_feed(struct gw_at *at, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];
		if (ch == '\r' || ch == '\n') {
			if (at->discarding) {
				at->discarding = 0;
			} else if (at->has_nul) {
				LOGP(at->cat, GW_LOG_WARN, "%s: line with NUL bytes skipped",
				     at->name);
				at->stats.lines_skipped++;
				gw_at_skipped(at, "nul", NULL);
			} else if (at->linelen > 0) {
				at->line[at->linelen] = '\0';
				/* process_line may re-enter through callbacks: copy first */
				char copy[GW_AT_LINE_MAX + 1];
				size_t n = at->linelen;
				memcpy(copy, at->line, n + 1);
				at->linelen = 0;
				process_line(at, copy, n);
			}
			at->linelen = 0;
			at->has_nul = 0;
			continue;
		}
		if (at->discarding)
			continue;
		if (at->linelen == GW_AT_LINE_MAX) {
			LOGP(at->cat, GW_LOG_WARN, "%s: line over %d bytes discarded", at->name,
			     GW_AT_LINE_MAX);
			at->stats.overlong++;
			at->stats.lines_skipped++;
			gw_at_skipped(at, "overlong", NULL);
			at->discarding = 1;
			at->linelen = 0;
			at->has_nul = 0;
			continue;
		}
		if (ch == '\0')
			at->has_nul = 1;
		at->line[at->linelen++] = ch;
		check_prompt(at);
	}
}

int gw_at_fields(const char *params, char *buf, size_t buflen, const char **fields, int max)
{
	size_t o = 0;
	int n = 0;
	const char *p = params;

	for (;;) {
		while (*p == ' ')
			p++;
		if (n == max)
			return -E2BIG;
		fields[n++] = buf + o;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (o + 1 >= buflen)
					return -E2BIG;
				buf[o++] = *p++;
			}
			if (*p != '"')
				return -EINVAL;
			p++;
			while (*p == ' ')
				p++;
		} else {
			size_t start = o;
			while (*p && *p != ',') {
				if (o + 1 >= buflen)
					return -E2BIG;
				buf[o++] = *p++;
			}
			while (o > start && buf[o - 1] == ' ')
				o--;
		}
		if (o + 1 > buflen)
			return -E2BIG;
		buf[o++] = '\0';
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '\0')
			return -EINVAL; /* text after a closing quote */
		return n;
	}
}

int gw_at_int(const char *field, long lo, long hi, long *out)
{
	if (!field || !*field)
		return -EINVAL;
	char *end;
	errno = 0;
	long v = strtol(field, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int gw_at_preempt(struct gw_at *at)
{
	if (!at->active || at->qlen == 0 || at->queue[at->qhead].body[0] == '\0')
		return 0;
	if (!at->awaiting_prompt) {
		/* The body is out: the modem answers it, usually soon. It gets GRACE_MS; then
		   on_timeout gives it up with ESC and drains (the count of answers unknown). */
		if (!at->grace) {
			at->grace = 1;
			gw_timer_schedule(at->loop, &at->timer, GRACE_MS);
		}
		return 1;
	}
	char sb[SHOWN_MAX];
	LOGP(at->cat, GW_LOG_WARN, "%s: %s given up (ESC) for an urgent command", at->name,
	     shown(at->queue[at->qhead].text, at->queue[at->qhead].flags, sb, sizeof(sb)));
	write_raw(at, "\x1b", 1);
	at->linelen = 0; /* a half-received "> " belongs to the command given up */
	at->owed = 1;	 /* its OK (or +CMGS result) must not answer the urgent command */
	complete(at, GW_AT_PREEMPTED, 0);
	return 1;
}
