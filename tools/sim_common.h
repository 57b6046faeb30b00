/*
 * sim_common: the parts tetra-sim and modem-sim share.
 *
 * A simulator is one struct sim plus a struct sim_ops with its protocol hooks. The common
 * code owns the pty (device side), the control-channel server (UNIX stream socket, several
 * clients, one command per line, one reply per command, events broadcast to all clients),
 * the optional stdin control client, the pty line reader, the monotonic clock and the
 * timers, and runs the single poll() loop. Nothing here allocates from the heap.
 */
#ifndef SIM_COMMON_H
#define SIM_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_LINE_MAX	4096 /* longest pty or control line, terminator excluded */
#define SIM_MAX_CLIENTS 16   /* control-socket clients at once */
#define SIM_CLIENT_OUT	(256 * 1024)
#define SIM_TX_MAX	8192 /* bytes staged for one write to the pty */
#define SIM_TX_LINES	32   /* lines staged for one write to the pty */

struct sim;

/* One control client: a socket connection, or stdin/stdout for a technician. */
struct sim_client {
	int in_fd;   /* -1 when the slot is free */
	int out_fd;  /* same as in_fd for sockets, 1 (stdout) for the stdin client */
	bool events; /* receives event lines */
	bool discarding;
	size_t inlen;
	size_t outlen;
	char in[SIM_LINE_MAX + 1];
	char out[SIM_CLIENT_OUT];
};

/* A one-shot timer; the callback may re-arm it. */
struct sim_timer {
	int64_t due_ns; /* 0 when not armed */
	void (*cb)(struct sim *s, void *arg);
	void *arg;
	struct sim_timer *next; /* registration list, owned by struct sim */
};

struct sim_ops {
	/*
	 * A complete line from the host (terminator stripped, len bytes, NUL-terminated;
	 * it may contain NUL bytes). term is the byte that ended it: '\r', '\n', 0x1a
	 * (Ctrl-Z) or 0x1b (ESC). Called only when the sim is not silent, after any echo.
	 */
	void (*pty_line)(struct sim *s, char *line, size_t len, int term, int64_t t_ns);
	/*
	 * A control command the common code does not handle, split into cmd and args
	 * (args is "" when absent). Must reply exactly once with sim_reply() and return 0,
	 * or return -ENOENT for an unknown command (the common code then replies).
	 */
	int (*ctl)(struct sim *s, struct sim_client *c, char *cmd, char *args);
};

struct sim {
	const struct sim_ops *ops;
	void *priv;
	int64_t flush_start_ns; /* CLOCK_MONOTONIC just before the last sim_flush() write */
	const char *name;	/* program name for stderr messages */

	/* options */
	const char *ctl_path;
	const char *link_path;
	bool verbose;
	bool echo_default;

	/* runtime state the programs may read and change */
	bool echo;
	bool silent;
	bool quit;

	/* pty */
	int master;
	int slave; /* kept open so the pty never hangs up while the host is away */
	char pty_path[128];
	size_t rxlen;
	bool rx_discarding;
	char rxbuf[SIM_LINE_MAX + 1];

	/* bytes staged for the next write to the pty, with the lines for events */
	size_t txlen;
	size_t ntxlines;
	bool in_ctl; /* a control command is running: writes go out even when silent */
	char txbuf[SIM_TX_MAX];
	struct {
		size_t off, len;
	} txlines[SIM_TX_LINES];

	/* control channel */
	int listen_fd;
	bool stdin_ctl;
	struct sim_client clients[SIM_MAX_CLIENTS + 1]; /* [0] is the stdin client */

	struct sim_timer *timers;
};

/* CLOCK_MONOTONIC in nanoseconds; every clock read of the sims goes through it. */
int64_t sim_now_ns(void);

/* Set defaults in a zeroed struct sim. Always succeeds. */
void sim_init(struct sim *s, const char *name, const struct sim_ops *ops, void *priv);

/*
 * Long options shared by both sims; pass the option value from getopt_long().
 * Returns 1 if the option was one of them, 0 if not.
 */
#define SIM_OPT_CTL  1000
#define SIM_OPT_LINK 1001
#define SIM_OPT_ECHO 1002
/* Entries for a struct option array (the user includes <getopt.h>). */
/* clang-format off */
#define SIM_COMMON_LONGOPTS						\
	{"ctl", required_argument, NULL, SIM_OPT_CTL},			\
	{"link", required_argument, NULL, SIM_OPT_LINK},		\
	{"echo", no_argument, NULL, SIM_OPT_ECHO},			\
	{"verbose", no_argument, NULL, 'v'}
/* clang-format on */
int sim_parse_common_opt(struct sim *s, int opt, const char *arg);

/*
 * Open the pty, the --link symlink, the control socket and the stdin client, and print
 * "pty <path>" on stdout. Returns 0, or a negative errno after printing the reason.
 */
int sim_start(struct sim *s);

/*
 * Run the poll loop until SIGTERM/SIGINT, `quit`, or stdin EOF without --ctl.
 * Returns 0 on a normal stop, a negative errno if the loop failed.
 */
int sim_run(struct sim *s);

/* Close everything sim_start() opened and remove the socket and link. */
void sim_stop(struct sim *s);

/*
 * Close the pty and open a fresh one (unplug/replug): prints "pty <path>" again, updates
 * the link and sends "event pty <path>". Returns 0 or a negative errno (then no pty).
 */
int sim_pty_reopen(struct sim *s);

/* Stage "\r\n<line>\r\n" for the pty (the usual response and URC framing). */
void sim_out(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stage "<line>\r\n" (a continuation line, e.g. the PDU after +CTSDSR). */
void sim_out_cont(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stage bytes verbatim; the tx event shows the first show_len of them, escaped. */
void sim_out_bytes(struct sim *s, const void *buf, size_t len, size_t show_len);

/*
 * Write everything staged to the pty in one write() and send one "event tx" per line.
 * Staged output is dropped while the sim is silent, unless a control command runs.
 * Returns CLOCK_MONOTONIC ns right after the last byte was written, or 0 if nothing
 * was written.
 */
int64_t sim_flush(struct sim *s);

/* Send one line to every client that takes events ("event " is prepended). */
void sim_event(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Send the one reply line of a control command ("ok ..." or "err ..."). */
void sim_reply(struct sim_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a message to stderr prefixed with the program name (always). */
void sim_warn(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Register a timer with the loop (once, before use). */
void sim_timer_init(struct sim *s, struct sim_timer *t, void (*cb)(struct sim *s, void *arg),
		    void *arg);

/* Arm (or re-arm) a timer to fire delay_ns from now. */
void sim_timer_arm(struct sim_timer *t, int64_t delay_ns);

/* Disarm a timer; harmless when not armed. */
void sim_timer_cancel(struct sim_timer *t);

/* True while a timer is armed. */
bool sim_timer_armed(const struct sim_timer *t);

/*
 * Parse a decimal integer in [min, max] that makes up all of str.
 * Returns 0 and sets *out, or -EINVAL / -ERANGE.
 */
int sim_parse_long(const char *str, long min, long max, long *out);

/* True if str is 1..maxlen decimal digits and nothing else. */
bool sim_is_digits(const char *str, size_t maxlen);

/*
 * Decode hex text (upper or lower case, even length) into buf of size cap.
 * Returns the number of bytes, or -EINVAL (bad digit or odd length) / -E2BIG.
 */
int sim_hex_decode(const char *hex, uint8_t *buf, size_t cap);

/*
 * Split the next whitespace-separated token off *p; returns it (NUL-terminated in place)
 * or NULL when none is left. *p then points past the token and one separator.
 */
char *sim_next_token(char **p);

#endif
