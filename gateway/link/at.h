/*
 * at: AT line framing and command queue, shared by the radio (PEI) and modem.
 *
 * Bytes from the port go in with gw_at_feed(); complete CRLF lines come out
 * either as the response to the one outstanding command or as URCs dispatched
 * by prefix. A URC may own trailing lines (PEI +CTSDSR is followed by its PDU
 * on the next line). Commands wait in a queue; each has its own timeout. A
 * command's response lines are only those with its expected prefix (and the
 * bare data line after one, the PDU of +CMGR/+CMGL), or, for a command without
 * a prefix, bare lines; a line shaped like a URC (+X:, ^X:, *X:, $X:, %X:) is
 * never part of a response. A well-formed URC nobody registered is counted
 * (gw_at_stats) and logged once per kind; any other stray line is logged and
 * skipped. Neither ever counts as OK.
 */
#ifndef GW_AT_H
#define GW_AT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/log.h"
#include "core/loop.h"

#define GW_AT_LINE_MAX	 4096
#define GW_AT_RESP_LINES 16

struct gw_at;

enum gw_at_result {
	GW_AT_OK,
	GW_AT_ERROR,
	GW_AT_CME_ERROR, /* err holds the code */
	GW_AT_CMS_ERROR, /* err holds the code */
	GW_AT_NO_CARRIER,
	GW_AT_BUSY,
	GW_AT_NO_ANSWER,
	GW_AT_NO_DIALTONE,
	GW_AT_CONNECT,
	GW_AT_TIMEOUT,	 /* no final result within the command's timeout */
	GW_AT_ABORTED,	 /* the port went down or the queue was flushed */
	GW_AT_PREEMPTED, /* a prompt/data command given up (ESC) for an urgent one */
};

struct gw_at_resp {
	enum gw_at_result result;
	int err;
	int echoed;			     /* the device echoed the command (echo is on) */
	int nlines;			     /* information lines before the final code */
	const char *lines[GW_AT_RESP_LINES]; /* valid only during the callback */
};

typedef void (*gw_at_resp_cb)(struct gw_at *at, const struct gw_at_resp *r, void *arg);
/* lines[0] is the URC line, lines[1..n] its trailing lines. */
typedef void (*gw_at_urc_cb)(struct gw_at *at, const char *const *lines, int n, void *arg);

struct gw_at_ops {
	/* Write bytes to the device. Returns 0 or negative errno. */
	int (*write)(void *arg, const void *buf, size_t len);
	/* A command (text, flags as queued) was just written, not before: a command waits
	   while another is answered. Must not queue or cancel commands. May be NULL. */
	void (*sent)(void *arg, const char *text, unsigned flags);
	void *arg;
};

/* Command flags. */
#define GW_AT_F_URGENT 0x1 /* goes ahead of the queued (not the outstanding) commands */
#define GW_AT_F_DIAL   0x2 /* BUSY/NO CARRIER/NO ANSWER/NO DIALTONE end this command */
#define GW_AT_F_DATA   0x4 /* internal: body follows the command at once, no prompt */
/* The command carries a secret after its '=' (AT+CPIN="1234"): log lines show only
   "AT+CPIN=<hidden>", an echo of it too. */
#define GW_AT_F_SECRET 0x8
/* Resynchronise after an ESC whose answers (none, or one or more) may still be on their way:
   final result codes that come before a line with the command's resp_prefix answer something
   sent before it and are dropped. Needs a resp_prefix every answer of the command has. */
#define GW_AT_F_SYNC 0x10

/* Create an engine writing through ops; name tags log lines ("radio", "modem"). */
struct gw_at *gw_at_new(struct gw_loop *loop, enum gw_log_cat cat, const char *name,
			const struct gw_at_ops *ops);
/* Free the engine; queued commands are dropped without callbacks. */
void gw_at_free(struct gw_at *at);

/*
 * Register a URC prefix (e.g. "+CTICN:", "RING", "NO CARRIER") with the number
 * of trailing lines that belong to it. Returns 0, -EEXIST (prefix already
 * registered), -ENOSPC, -EINVAL.
 */
int gw_at_add_urc(struct gw_at *at, const char *prefix, int trailing, gw_at_urc_cb cb, void *arg);

/*
 * Queue a command (without the CR). resp_prefix, when not NULL, names the
 * information lines this command expects (e.g. "+CLCC:"): only such lines (and
 * a bare line right after one) go to the response, even when the same prefix is
 * also a URC. Without it the response is the lines named by the command itself
 * ("+CPMS:" for AT+CPMS=...) and bare lines. cb may be NULL.
 * Returns 0, -E2BIG (command too long), -ENOBUFS (queue full), -EINVAL (GW_AT_F_SYNC
 * without resp_prefix).
 */
int gw_at_cmd(struct gw_at *at, const char *cmd, const char *resp_prefix, int timeout_ms,
	      unsigned flags, gw_at_resp_cb cb, void *arg);

/*
 * Queue a command that is answered by the "> " prompt, after which body and
 * Ctrl-Z are written (SMS/SDS send). A prompt that does not come within the
 * timeout is aborted with ESC. Returns as gw_at_cmd().
 */
int gw_at_cmd_prompt(struct gw_at *at, const char *cmd, const char *body, const char *resp_prefix,
		     int timeout_ms, gw_at_resp_cb cb, void *arg);

/*
 * Queue a command whose data follows at once, without waiting for a prompt:
 * "cmd\r" + data + Ctrl-Z in one write (PEI AT+CMGS, EN 300 392-5). Returns as
 * gw_at_cmd().
 */
int gw_at_cmd_data(struct gw_at *at, const char *cmd, const char *data, const char *resp_prefix,
		   int timeout_ms, unsigned flags, gw_at_resp_cb cb, void *arg);

/*
 * Write cmd at once, ahead of its owner (a page's ATD written before the incident is
 * built: issue #13), but only when the engine is idle: nothing outstanding, queued or
 * owed. It is then the outstanding command like any other (one writer: the engine), with
 * no owner until gw_at_adopt() gives it one; not reported to ops.sent until then. When it
 * completes unadopted, orphan (may be NULL) gets its result. Returns 0 (written), -EBUSY
 * (not idle: nothing written), -EIO (the write failed) or as gw_at_cmd().
 */
int gw_at_cmd_ahead(struct gw_at *at, const char *cmd, int timeout_ms, unsigned flags,
		    gw_at_resp_cb orphan, void *arg);

/*
 * Make cb/arg the owner of the command written ahead, if cmd and flags are exactly its
 * own (byte for byte): it is not written again, ops.sent runs now. Returns 0 (adopted),
 * -ENOENT (none ahead: queue cmd as usual), or -EILSEQ (another command is ahead: an error
 * line and the ahead_mismatch counter; it stays outstanding with no owner and no orphan
 * call, and the caller must undo what it did, e.g. hang the wrong call up).
 */
int gw_at_adopt(struct gw_at *at, const char *cmd, unsigned flags, gw_at_resp_cb cb, void *arg);

/* True when the next byte fed starts a line classified on its own: no part of a line is
   held, and no URC waits for its trailing lines. */
bool gw_at_line_start(const struct gw_at *at);

/* Feed bytes read from the device. */
void gw_at_feed(struct gw_at *at, const char *buf, size_t len);

/*
 * A line from the device that was not used (the engine's reasons: overlong, nul, unknown,
 * unasked, response_full; a driver's: malformed, for a URC it cannot parse): an
 * "at_skipped" line of the event stream with the port's name and the line's first 80
 * bytes (line NULL: none). Logging it stays the caller's. No-op without a stream.
 */
void gw_at_skipped(const struct gw_at *at, const char *reason, const char *line);

/* Abort the outstanding and all queued commands (callbacks get GW_AT_ABORTED). */
void gw_at_flush(struct gw_at *at);

/*
 * Drop the queued commands (not the outstanding one) whose callback and arg are
 * cb and arg, without calling them. Returns how many were dropped.
 */
int gw_at_cancel(struct gw_at *at, gw_at_resp_cb cb, void *arg);

/*
 * Give up the outstanding command with a body (an SMS) for the urgent one behind it.
 * At or before its "> " prompt: ESC at once, completed with GW_AT_PREEMPTED, and the
 * next command goes as soon as the modem has answered the ESC. With its body out: it has
 * 1.5 s to be answered as usual; then ESC, GW_AT_PREEMPTED, and every answer is drained
 * until the line has been quiet 150 ms. No answer after 200 ms, or the quiet: the engine
 * sends AT+CSQ (GW_AT_F_SYNC) first and the next command goes after its +CSQ line; without
 * one in 2 s (an ordinary command's time) the next command ends GW_AT_TIMEOUT unsent.
 * Either way no answer of the given-up command is taken for the next one's. Its owner may
 * queue it again. Returns 1 when one is (or will be) given up, else 0.
 */
int gw_at_preempt(struct gw_at *at);

/* Number of commands queued or outstanding. */
int gw_at_pending(const struct gw_at *at);

/* Counters for health and tests. */
struct gw_at_stats {
	unsigned lines_in, lines_skipped, urcs, cmds, timeouts, overlong;
	unsigned urcs_unknown; /* well-formed URCs nobody registered (^RSSI:15, ...) */
	/* gw_at_cmd_ahead: written, adopted, refused for another command, ended unadopted */
	unsigned ahead, adopted, ahead_mismatch, ahead_orphaned;
};
const struct gw_at_stats *gw_at_stats(const struct gw_at *at);

/* Name of a result ("OK", "BUSY", "TIMEOUT", ...). */
const char *gw_at_result_name(enum gw_at_result r);

/*
 * Split the parameter part of an information line ("1,0,\"+358...\",145") at
 * commas into fields[], honouring double quotes (which are removed) and
 * keeping empty fields as "". Whitespace around fields is trimmed. The text is
 * copied into buf. Returns the field count, or -E2BIG when there are more than
 * max fields or buf is too small, -EINVAL for an unterminated quote.
 */
int gw_at_fields(const char *params, char *buf, size_t buflen, const char **fields, int max);

/*
 * Parse a decimal field into *out within lo..hi. Returns 0, or -EINVAL when
 * the field is empty, not a number or out of range.
 */
int gw_at_int(const char *field, long lo, long hi, long *out);

#endif
