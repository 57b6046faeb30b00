/*
 * qemu_rig: the I/O board firmware in QEMU mps2-an385 for the integration tests. QEMU's UART
 * goes to a UNIX socket, and a bridge turns that into a pty the host side opens like a serial
 * port: socat (fast, unpaced), or a relay child that paces both directions to a real baud rate.
 * Every process it starts is killed by pid on every exit path (qrig_fini, atexit, SIGINT/
 * SIGTERM/SIGHUP/SIGABRT, and PR_SET_PDEATHSIG if the test process dies).
 * Reference: shared/reference/firmware-qemu.md, sections 7.1 and 8.
 */
#ifndef RINKI_QEMU_RIG_H
#define RINKI_QEMU_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define QRIG_FILES_MAX	     12
#define QRIG_PATH_LEN	     128
#define QRIG_DROP_PREFIX_MAX 8

/* The two lanes of the paced relay. */
enum qrig_dir { QRIG_TO_BOARD = 0, QRIG_TO_HOST = 1 };

struct qrig {
	const char *elf;    /* -kernel image */
	unsigned pace_baud; /* 0: socat bridge; else the paced relay, 10 bits a byte */
	char dir[64];	    /* the run directory, removed by qrig_fini() */
	char files[QRIG_FILES_MAX][QRIG_PATH_LEN];
	int nfiles;
	const char *sock, *tty, *qemu_log, *out; /* paths in files[]: tty is the host's port */
	volatile pid_t qemu, bridge;
	volatile pid_t starver; /* qrig_starve() child, or -1 */
	int relay_ctl;		/* write end of the relay's control pipe, or -1 */
};

/*
 * Check that elf is readable, make the run directory $TMPDIR/rinki-<tag>.XXXXXX (TMPDIR
 * default /tmp) and register r for clean-up at exit and on fatal signals (one rig per
 * process, so r must live until exit: static). pace_baud as in struct qrig. Returns 0, or -1 with
 * the reason on stderr.
 */
int qrig_init(struct qrig *r, const char *tag, const char *elf, unsigned pace_baud);

/* Path of name in the run directory, removed with it by qrig_fini(); NULL when full. */
const char *qrig_path(struct qrig *r, const char *name);

/*
 * Start QEMU ($QEMU or qemu-system-arm) with the image and the bridge; returns when r->tty
 * exists. QEMU logs guest errors and unimplemented-device accesses to r->qemu_log; the
 * children's output goes to r->out. Returns 0, or -1 (children's output on stderr).
 */
int qrig_start(struct qrig *r);

/*
 * Starve QEMU as a loaded host does, in pulses: a child stops QEMU (SIGSTOP) for stop_ms, lets
 * it run (SIGCONT) for run_ms, and so on until qrig_unstarve(). Returns 0, or -1 (no QEMU, or
 * already starving it).
 */
int qrig_starve(struct qrig *r, unsigned stop_ms, unsigned run_ms);

/* End qrig_starve(): kill its child by pid and let QEMU run. Async-signal-safe; idempotent. */
void qrig_unstarve(struct qrig *r);

/*
 * Fault injection (paced relay only): on lane dir, the next time the bytes prefix (1 to
 * QRIG_DROP_PREFIX_MAX, n >= plen, n <= 255) come through, they and what follows them up to n
 * bytes in all are dropped, as a lost frame on a noisy line. Takes effect before any byte
 * written to the port after it returns. Returns 0, or -1 (socat bridge, bad arguments).
 */
int qrig_drop_next(struct qrig *r, enum qrig_dir dir, const uint8_t *prefix, size_t plen,
		   unsigned n);

/*
 * The paced relay's loop itself, for the rig's own test (test_qrig_relay): host and board are
 * the two ends it joins (QRIG_TO_BOARD is read from host, QRIG_TO_HOST from board), ctl the
 * read end of the order pipe (struct qrig_drop_order, or -1), byte_ns the time of one byte on
 * the wire. Never returns: _exit(0) when a side closes.
 */
struct qrig_drop_order {
	uint8_t dir, n, plen;
	uint8_t prefix[QRIG_DROP_PREFIX_MAX];
};
void qrig_relay_loop(int host, int board, int ctl, uint64_t byte_ns);

/* SIGKILL QEMU now, without reaping it (the board vanishes at once); qrig_stop() reaps. */
void qrig_kill_qemu(struct qrig *r);

/* End a starving (qrig_unstarve), stop the bridge, then QEMU: SIGTERM, SIGKILL after 2 s.
 * Async-signal-safe; idempotent. */
void qrig_stop(struct qrig *r);

/* qrig_stop(), then remove the registered files and the run directory. Idempotent. */
void qrig_fini(struct qrig *r);

/*
 * fork + exec argv (PATH searched) with stdout and stderr to out_path, appended or truncated;
 * the child dies with this process. Returns the child's pid, or -1.
 */
pid_t qrig_spawn(char *const argv[], const char *out_path, bool append);

/* 0 when QEMU's log is empty (or absent); else print it to stderr and return -1. */
int qrig_log_check(const struct qrig *r);

/*
 * cmocka test, run last: QEMU of the rig from qrig_init() logged no guest errors or
 * unimplemented-device accesses during the whole run (fails with the log otherwise).
 */
void qrig_test_log_clean(void **state);

/* Copy a text file to stderr, each line indented; nothing when it cannot be read. */
void qrig_print_file(const char *path);

/* CLOCK_MONOTONIC in ms, and a sleep that resumes after signals. */
uint64_t qrig_now_ms(void);
void qrig_sleep_ms(unsigned ms);

#endif /* RINKI_QEMU_RIG_H */
