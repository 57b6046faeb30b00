/*
 * The QEMU rig's paced relay on its own (qrig_relay_loop, tests/integration/qemu_rig.c),
 * between two socket pairs the test holds: the host's end and the board's end. Checked: a
 * frame armed for dropping (qrig_drop_next's order) is dropped whole when its bytes come in
 * one write and when they come one at a time with pauses between them (QEMU's UART on a busy
 * host: the relay must not send the first bytes on before it knows they begin the frame); a
 * partial match that then differs is passed on whole and in order, and the order stays armed
 * for the frame that does match; a drop on the lane towards the board. Every wait is bounded
 * by an event that must come (the marker frame sent after the dropped one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu_rig.h"

#define BYTE_NS	 86806ull /* 115200 baud, 10 bits a byte */
#define BOUND_MS 10000	  /* bounds only a failure: the marker must come */
#define PAUSE_US 3000	  /* between the bytes of a frame sent one at a time */

struct relay_rig {
	int host, board, ctl; /* the test's ends */
	pid_t pid;
};

static int rig_setup(void **state)
{
	static struct relay_rig r;
	int hp[2], bp[2], cp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, hp) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, bp) != 0 || pipe(cp) != 0)
		return -1;
	pid_t parent = getpid();
	r.pid = fork();
	if (r.pid < 0)
		return -1;
	if (r.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(hp[0]);
		close(bp[0]);
		close(cp[1]);
		fcntl(cp[0], F_SETFL, O_NONBLOCK);
		qrig_relay_loop(hp[1], bp[1], cp[0], BYTE_NS);
		_exit(0);
	}
	close(hp[1]);
	close(bp[1]);
	close(cp[0]);
	r.host = hp[0];
	r.board = bp[0];
	r.ctl = cp[1];
	*state = &r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct relay_rig *r = *state;
	int status = 0;

	close(r->host);
	close(r->board);
	close(r->ctl);
	/* The relay leaves when a side closes; a stuck one is killed rather than waited for. */
	for (int i = 0; i < 1000 && waitpid(r->pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(r->pid, &status, WNOHANG) == 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &status, 0);
		fail_msg("the relay did not leave when its sides closed");
	}
	return 0;
}

static void arm(struct relay_rig *r, enum qrig_dir dir, const uint8_t *prefix, size_t plen,
		unsigned n)
{
	struct qrig_drop_order o = {.dir = (uint8_t)dir, .n = (uint8_t)n, .plen = (uint8_t)plen};
	memcpy(o.prefix, prefix, plen);
	assert_int_equal(write(r->ctl, &o, sizeof(o)), (ssize_t)sizeof(o));
}

static void send_whole(int fd, const uint8_t *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static void send_slowly(int fd, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(write(fd, p + i, 1), 1);
		usleep(PAUSE_US);
	}
}

/*
 * Read from fd until what came ends with marker (or BOUND_MS pass, a failure), then check
 * that what came is exactly want (want_len bytes): nothing dropped that should pass, nothing
 * passed that should be dropped, nothing out of order.
 */
static void expect(int fd, const uint8_t *want, size_t want_len, const uint8_t *marker, size_t mlen)
{
	uint8_t got[512];
	size_t n = 0;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n < mlen || memcmp(got + n - mlen, marker, mlen) != 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left =
		    BOUND_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			fail_msg("the marker frame did not come through in %d ms (%zu bytes came)",
				 BOUND_MS, n);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		assert_true(rc >= 0);
		if (rc == 0)
			continue;
		ssize_t k = read(fd, got + n, sizeof(got) - n);
		assert_true(k > 0);
		n += (size_t)k;
		assert_true(n < sizeof(got));
	}
	if (n != want_len || memcmp(got, want, n) != 0) {
		char hex[3 * sizeof(got) + 1] = "";
		for (size_t i = 0; i < n; i++)
			snprintf(hex + 3 * i, 4, "%02x ", got[i]);
		fail_msg("came through (%zu bytes): %s; expected %zu bytes", n, hex, want_len);
	}
}

/* A write of the boot control register and its echo (8 bytes), and a read's answer. */
static const uint8_t ctl_write[8] = {0x01, 0x06, 0x00, 0x10, 0x00, 0x02, 0x08, 0x0E};
static const uint8_t prefix[4] = {0x01, 0x06, 0x00, 0x10};
static const uint8_t marker[7] = {0x01, 0x03, 0x02, 0x00, 0x07, 0xF9, 0x86};

/*
 * Send frame (n bytes) into from, one write or slowly, then the marker; expect on to to come
 * exactly frame and the marker when passes, only the marker when not.
 */
static void through(int from, int to, const uint8_t *frame, size_t n, bool slowly, bool passes)
{
	uint8_t want[64];

	assert_true(n + sizeof(marker) <= sizeof(want));
	if (slowly)
		send_slowly(from, frame, n);
	else
		send_whole(from, frame, n);
	send_whole(from, marker, sizeof(marker));
	size_t k = passes ? n : 0;
	memcpy(want, frame, k);
	memcpy(want + k, marker, sizeof(marker));
	expect(to, want, k + sizeof(marker), marker, sizeof(marker));
}

static void test_drop_whole_write(void **state)
{
	struct relay_rig *r = *state;

	arm(r, QRIG_TO_HOST, prefix, sizeof(prefix), sizeof(ctl_write));
	through(r->board, r->host, ctl_write, sizeof(ctl_write), false, false);
}

/* QEMU's UART hands the relay a frame a byte or two at a time on a busy host. */
static void test_drop_frame_arriving_byte_by_byte(void **state)
{
	struct relay_rig *r = *state;

	arm(r, QRIG_TO_HOST, prefix, sizeof(prefix), sizeof(ctl_write));
	through(r->board, r->host, ctl_write, sizeof(ctl_write), true, false);
}

/* Three bytes of the prefix, then another: all passes, in order; the next match is dropped. */
static void test_partial_match_passes_and_stays_armed(void **state)
{
	struct relay_rig *r = *state;
	const uint8_t near[8] = {0x01, 0x06, 0x00, 0x11, 0x00, 0x01, 0x59, 0xCF};

	arm(r, QRIG_TO_HOST, prefix, sizeof(prefix), sizeof(ctl_write));
	through(r->board, r->host, near, sizeof(near), true, true);
	through(r->board, r->host, ctl_write, sizeof(ctl_write), true, false);
}

/* The lane towards the board, the request lost; the other lane untouched meanwhile. */
static void test_drop_towards_board(void **state)
{
	struct relay_rig *r = *state;

	arm(r, QRIG_TO_BOARD, prefix, sizeof(prefix), sizeof(ctl_write));
	through(r->board, r->host, ctl_write, sizeof(ctl_write), true, true);
	through(r->host, r->board, ctl_write, sizeof(ctl_write), true, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_drop_whole_write, rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_drop_frame_arriving_byte_by_byte, rig_setup,
					    rig_teardown),
	    cmocka_unit_test_setup_teardown(test_partial_match_passes_and_stays_armed, rig_setup,
					    rig_teardown),
	    cmocka_unit_test_setup_teardown(test_drop_towards_board, rig_setup, rig_teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
