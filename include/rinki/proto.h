/*
 * proto: the control-socket protocol between rinkid and rinkictl (and any script).
 *
 * A UNIX stream socket (default RINKI_CTL_SOCKET_DEFAULT, rinki.conf ctl.socket). The
 * client sends requests, one per line; rinkid answers each with exactly one line, in order.
 *
 *   request  = verb *( SP key "=" value ) LF          at most RINKI_CTL_REQ_MAX bytes with LF
 *   verb     = 1*( "a"-"z" / "0"-"9" / "-" )          at most RINKI_CTL_WORD_MAX bytes
 *   key      = 1*( "a"-"z" / "0"-"9" / "_" / "." )    at most RINKI_CTL_WORD_MAX bytes
 *   value    = *( vchar / "%" HEXDIG HEXDIG )         vchar: 0x21..0x7e except "%"
 *
 * Values are percent-encoded: a space is "%20", "%" is "%25", any byte outside 0x21..0x7e
 * is %XX. "=" inside a value needs no escape (the key ends at the first "="). A decoded
 * value must be valid UTF-8 without control characters. A key appears at most once;
 * at most RINKI_CTL_ARGS_MAX pairs; a trailing CR before LF is ignored.
 *
 * Replies, one line each, at most RINKI_CTL_REPLY_MAX bytes with LF:
 *   "ok" *( SP key "=" value )        success; same encoding as a request
 *   "{" ... "}"                       status with format=json: one JSON object
 *   "err" SP code SP text             failure; code is one of the RINKI_CTL_E_* words,
 *                                     text is for people (printable ASCII/UTF-8)
 *
 * Requests (R: read-only, A: admin; see rinkid(8) for who may send which):
 *   status [format=kv|json]       R  radio, modem, board, live incident, counters
 *   events-sync                   R  a barrier on rinkid's event stream (events.file):
 *                                    "ok" once every event line queued before the request
 *                                    is written (at once when there is no stream); "err
 *                                    failed ..." when they are not written within
 *                                    RINKI_CTL_EVSYNC_MS, a write failed or the stream
 *                                    closed. The connection waits for it; the loop does not
 *   page-test number=N            A  dial N on the modem (a test page; hung up after ring time)
 *                                    ok reply: number=N
 *   sds-send issi=I text=T        A  send text T as one SDS to ISSI/TSI I (1..17 digits)
 *                                    ok reply: handle=H (delivery is logged by rinkid)
 *   override-add worker=H from=T to=T [line=L] [kind=replace|add|remove] [position=N]
 *                [by_worker=H] [reason=R] [by=B]
 *                                 A  a manual override (rinkictl override add); T is a time
 *                                    with zone or a Helsinki date YYYY-MM-DD (to: its end);
 *                                    kind defaults to replace. ok reply: id=N
 *   override-del id=N [by=B]      A  remove manual override N
 *   worker-set worker=H [disabled=0|1] [pin_reset=1 | pin=NNNN] [by=B]
 *                                 A  disable/enable worker H, clear or set its PIN (4-8
 *                                    digits, hashed with rinkid's pepper, never logged)
 *   roster-import mode=preview|apply [replace=1] [by=B]   + one descriptor (see below)
 *                                 A  the roster CSV read from the descriptor: preview says
 *                                    what would change and every error; apply replaces the
 *                                    roster atomically (all or nothing). Answered once
 *                                    checked; the connection waits for it. Reply: "+ error
 *                                    row=N text=T" lines (150 at most, then "+ more
 *                                    errors=N"), "+ manual fate=kept|in-base|conflict|
 *                                    dropped text=T" lines, then "ok mode=M rows=N errors=N
 *                                    conflicts=N lines=N workers=N ... was_lines=N
 *                                    was_workers=N ..." (the roster after and before; a
 *                                    preview with errors: rows= and errors= only)
 *   worker-add worker=H name=N phone=P [issi=I] [lang=fi|sv|en] [disabled=0|1] [by=B]
 *                                 A  add worker H to the manual layer (rinkictl worker add),
 *                                    checked as the roster checks it; the phone goes in
 *                                    as E.164. ok reply: worker=H; "err usage worker 'H'
 *                                    exists already" when the handle is taken
 *   directory-import [by=B]  + one descriptor
 *                                 A  replace the ISSI directory with the directory records
 *                                    read from the descriptor (directory,ISSI,ORG,...), in
 *                                    one transaction; the rest of the roster stays. Bounds
 *                                    and answer as roster-import: "+ error row=N text=T"
 *                                    lines, then "ok entries=N was_entries=N" or err
 *
 * Every change is logged by rinkid as a system event naming the requester: the peer's
 * user name, or "B via <user>" when by=B is given.
 *
 * Multi-line replies: a reply may start with lines "+" SP text (data: e.g. one per roster
 * error, "+ error row=12 text=..."), each at most RINKI_CTL_REPLY_MAX bytes, and always
 * ends with one final ok/err line; RINKI_CTL_MULTI_MAX bytes in all. Replies of status,
 * page-test and sds-send are one line.
 *
 * One descriptor (SCM_RIGHTS, sent with any byte of the request line) may come with a
 * request that takes one (roster-import, directory-import): a regular file, a pipe or a
 * memfd, read by rinkid up to RINKI_CTL_FILE_MAX bytes (more is refused) within
 * RINKI_CTL_FILE_WAIT_MS; a file of more than RINKI_CTL_ROSTER_ROWS_MAX lines is refused.
 * A descriptor of another kind, a second one, or one with a request that takes none gets
 * "err usage".
 *
 * A request longer than RINKI_CTL_REQ_MAX gets "err toolong ..." and the connection is
 * closed; so is a client whose unread replies pile up beyond the server's buffer, or one
 * that stays idle for RINKI_CTL_IDLE_MS.
 */
#ifndef RINKI_PROTO_H
#define RINKI_PROTO_H

#define RINKI_CTL_PROTO_VERSION	 1
#define RINKI_CTL_SOCKET_DEFAULT "/run/rinki/rinki.sock"
#define RINKI_CTL_SOCKET_ENV	 "RINKI_SOCKET"

#define RINKI_CTL_REQ_MAX   1024 /* request line, LF included */
#define RINKI_CTL_REPLY_MAX 4096 /* reply line, LF included */
#define RINKI_CTL_WORD_MAX  32	 /* verb or key */
#define RINKI_CTL_ARGS_MAX  64	 /* key=value pairs in one line */
#define RINKI_CTL_IDLE_MS   30000
#define RINKI_CTL_EVSYNC_MS 5000  /* events-sync: the longest wait for the stream's writer */
#define RINKI_CTL_MULTI_MAX 65536 /* a multi-line reply in all, LFs included */

#define RINKI_CTL_FILE_MAX	  (16 << 20) /* bytes read from a request's descriptor */
#define RINKI_CTL_FILE_WAIT_MS	  30000	     /* for a pipe's writer to finish */
#define RINKI_CTL_ROSTER_ROWS_MAX 100000     /* lines in an imported roster */

/* Error codes in "err <code> <text>". */
#define RINKI_CTL_E_USAGE	"usage"	      /* malformed request, unknown verb or key */
#define RINKI_CTL_E_TOOLONG	"toolong"     /* request or a value too long */
#define RINKI_CTL_E_DENIED	"denied"      /* the peer's credentials do not allow it */
#define RINKI_CTL_E_BUSY	"busy"	      /* a call is in progress / too many clients */
#define RINKI_CTL_E_UNAVAILABLE "unavailable" /* the device needed is not ready */
#define RINKI_CTL_E_FAILED	"failed"      /* the gateway tried and it failed */

#endif
