/*
 * Integration test of the bootloader, the slot images and rinki-flash in QEMU mps2-an385:
 * QEMU boots build/fw/boot.elf with empty slots, and every step goes through the real
 * rinki-flash binary over a pty: refusing bad images (signature, board, key), the first
 * installation, an update into the other slot, an unconfirmed update that the trial timer and
 * the watchdog roll back, a board held in the bootloader (info, boot), a 32 KiB image with
 * its wire-time figure, and the errors for a wrong port and a silent line.
 *
 * Between the pty and QEMU's UART socket runs a relay (a child process) that paces both
 * directions at 115200 8N1 (86.8 us a byte; QEMU itself does not model the baud rate), so
 * the times rinki-flash prints are those of a real line plus the real protocol turnarounds.
 *
 * What one QEMU run can and cannot show: its "flash" is RAM that keeps its contents over the
 * warm resets used here (SYSRESETREQ, watchdog), so state that must survive a reset does so
 * for real; a power cycle would restart QEMU and lose all of it. Power loss in the middle of a
 * flash write is covered by tests/unit/fw/test_fw_boot.c instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "rinki/fwimage.h"
#include "rinki/regmap.h"

#define SLAVE	  1
#define WIRE_BAUD 115200

static char run_dir[64] = "";
static char sock_path[128], tty_path[128], log_path[128], out_path[128], tool_out[128];
static char tmp_img[128], tmp_key[128];
static volatile pid_t qemu_pid = -1, relay_pid = -1;
static const char *tool, *img_dir, *key_base;
static char pubkey[256], seckey[256];
static char out[16384];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* --- children ------------------------------------------------------------------------------ */

/* Terminate one child by pid: SIGTERM, up to 2 s, then SIGKILL. Async-signal-safe. */
static void stop_child(volatile pid_t *pid)
{
	pid_t p = *pid;

	if (p <= 0)
		return;
	*pid = -1;
	kill(p, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(p, NULL, WNOHANG) == p)
			return;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

static void remove_run_dir(void)
{
	if (!run_dir[0])
		return;
	const char *files[] = {sock_path, tty_path, log_path, out_path, tool_out, tmp_img};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	char p[160];
	snprintf(p, sizeof(p), "%s.sec", tmp_key);
	unlink(p);
	snprintf(p, sizeof(p), "%s.pub", tmp_key);
	unlink(p);
	rmdir(run_dir);
	run_dir[0] = '\0';
}

static void at_exit(void)
{
	stop_child(&relay_pid);
	stop_child(&qemu_pid);
	remove_run_dir();
}

static void on_signal(int sig)
{
	at_exit();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* fork + exec argv with stdout/stderr to path; the child dies with this process. */
static pid_t spawn(char *const argv[], const char *path)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execvp(argv[0], argv);
	_exit(127);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One direction of the relay: bytes waiting, and when the wire is free again. */
struct lane {
	uint8_t buf[1 << 16];
	size_t head, tail;
	uint64_t wire_free;
};

/*
 * The relay (child process): pty master <-> QEMU's UART socket, each direction paced to
 * byte_ns a byte: a byte comes out one byte time after the wire is free for it.
 */
static void relay(int m, int s, uint64_t byte_ns)
{
	static struct lane lane[2]; /* 0: host -> board, 1: board -> host */
	int in[2] = {m, s}, outfd[2] = {s, m};

	for (;;) {
		uint64_t t = now_ns(), due = UINT64_MAX;
		for (int d = 0; d < 2; d++) {
			struct lane *l = &lane[d];
			size_t k = 0;
			while (l->tail + k < l->head && t >= l->wire_free + byte_ns) {
				l->wire_free += byte_ns;
				k++;
			}
			if (k &&
			    write(outfd[d], l->buf + l->tail % sizeof(l->buf), k) != (ssize_t)k)
				_exit(1); /* k never wraps: see the read below */
			l->tail += k;
			if (l->tail < l->head && l->wire_free + byte_ns < due)
				due = l->wire_free + byte_ns;
		}
		struct pollfd pfd[2] = {{.fd = m, .events = POLLIN}, {.fd = s, .events = POLLIN}};
		struct timespec to = {0, 0}, *top = NULL;
		if (due != UINT64_MAX) {
			uint64_t w = due > t ? due - t : 0;
			to.tv_sec = (time_t)(w / 1000000000u);
			to.tv_nsec = (long)(w % 1000000000u);
			top = &to;
		}
		if (ppoll(pfd, 2, top, NULL) < 0 && errno != EINTR)
			_exit(1);
		for (int d = 0; d < 2; d++) {
			struct lane *l = &lane[d];
			if (!(pfd[d].revents & (POLLIN | POLLHUP)))
				continue;
			if (l->head == l->tail) {
				l->head = l->tail = 0;
				if (l->wire_free < now_ns())
					l->wire_free = now_ns();
			}
			size_t room = sizeof(l->buf) - l->head; /* linear, no wrap */
			if (room == 0)
				continue;
			ssize_t n = read(in[d], l->buf + l->head, room);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EIO))
				_exit(0); /* QEMU went away */
			if (n > 0)
				l->head += (size_t)n;
		}
	}
}

static pid_t start_relay(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		_exit(2);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		_exit(2);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0)
		_exit(3);
	const char *name = ptsname(m);
	/* Keep the slave open so the master never sees a hang-up between tool runs. */
	int keep = open(name, O_RDWR | O_NOCTTY);
	struct termios t;
	if (keep < 0 || tcgetattr(keep, &t) != 0)
		_exit(4);
	cfmakeraw(&t);
	tcsetattr(keep, TCSANOW, &t);
	if (symlink(name, tty_path) != 0)
		_exit(5);
	relay(m, s, 10000000000ull / WIRE_BAUD); /* 10 bits a byte */
	_exit(0);
}

static int wait_for_path(const char *path, volatile pid_t *pid, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	struct stat st;

	while (now_ms() < end) {
		if (lstat(path, &st) == 0)
			return 0;
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = -1;
			fprintf(stderr, "child exited before %s appeared\n", path);
			return -1;
		}
		sleep_ms(10);
	}
	fprintf(stderr, "timed out waiting for %s\n", path);
	return -1;
}

static void print_file(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		fprintf(stderr, "  %s", buf);
	fclose(f);
}

static int group_teardown(void **state)
{
	(void)state;
	at_exit();
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	const char *elf = getenv("FW_BOOT_ELF") ? getenv("FW_BOOT_ELF") : "build/fw/boot.elf";
	const char *qemu = getenv("QEMU") ? getenv("QEMU") : "qemu-system-arm";
	char serial[160];

	tool = getenv("RINKI_FLASH") ? getenv("RINKI_FLASH") : "build/san/bin/rinki-flash";
	img_dir = getenv("FW_IMG_DIR") ? getenv("FW_IMG_DIR") : "build/fw";
	key_base = getenv("FW_KEY") ? getenv("FW_KEY") : "build/fw/keys/TEST-KEY-fw-signing";
	snprintf(pubkey, sizeof(pubkey), "%s.pub", key_base);
	snprintf(seckey, sizeof(seckey), "%s.sec", key_base);
	const char *need[] = {elf, tool, pubkey, seckey};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (access(need[i], R_OK) != 0) {
			fprintf(stderr, "%s: %s (run make firmware)\n", need[i], strerror(errno));
			return -1;
		}
	strcpy(run_dir, "/tmp/rinki-fwb.XXXXXX");
	if (!mkdtemp(run_dir)) {
		perror("mkdtemp");
		run_dir[0] = '\0';
		return -1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/mcu.sock", run_dir);
	snprintf(tty_path, sizeof(tty_path), "%s/ttyMCU", run_dir);
	snprintf(log_path, sizeof(log_path), "%s/qemu.log", run_dir);
	snprintf(out_path, sizeof(out_path), "%s/qemu.out", run_dir);
	snprintf(tool_out, sizeof(tool_out), "%s/tool.out", run_dir);
	snprintf(tmp_img, sizeof(tmp_img), "%s/test.img", run_dir);
	snprintf(tmp_key, sizeof(tmp_key), "%s/other-key", run_dir);
	snprintf(serial, sizeof(serial), "unix:%s,server=on,wait=off", sock_path);

	/* clang-format off */
	char *qemu_argv[] = {
		(char *)qemu, "-M", "mps2-an385", "-display", "none", "-monitor", "none",
		"-serial", serial, "-kernel", (char *)elf,
		"-d", "guest_errors,unimp", "-D", log_path, NULL,
	};
	/* clang-format on */
	qemu_pid = spawn(qemu_argv, out_path);
	if (qemu_pid < 0 || wait_for_path(sock_path, &qemu_pid, 5000) != 0)
		goto fail;
	relay_pid = start_relay();
	if (relay_pid < 0 || wait_for_path(tty_path, &relay_pid, 5000) != 0)
		goto fail;
	return 0;
fail:
	print_file(out_path);
	at_exit();
	return -1;
}

/* --- helpers ------------------------------------------------------------------------------- */

/* Run rinki-flash with the port and key options and args (NULL-terminated); output in out. */
static int flash_tool(const char *arg, ...)
{
	char *argv[16] = {(char *)tool, "-p", tty_path, "--pubkey", pubkey};
	int n = 5;
	va_list ap;

	va_start(ap, arg);
	for (const char *a = arg; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	pid_t pid = spawn(argv, tool_out);
	int st = 0;
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	FILE *f = fopen(tool_out, "r");
	size_t len = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	if (f)
		fclose(f);
	out[len] = '\0';
	print_message("$ rinki-flash");
	for (int i = 5; i < n; i++)
		print_message(" %s", argv[i]);
	print_message("\n%s", out);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void assert_out_has(const char *what)
{
	if (!strstr(out, what))
		fail_msg("rinki-flash output lacks \"%s\"", what);
}

static char *img(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", img_dir, name);
	return p[i];
}

static modbus_t *mb(void)
{
	modbus_t *ctx = modbus_new_rtu(tty_path, WIRE_BAUD, 'N', 8, 1);

	assert_non_null(ctx);
	assert_int_equal(modbus_set_slave(ctx, SLAVE), 0);
	assert_int_equal(modbus_connect(ctx), 0);
	modbus_set_response_timeout(ctx, 0, 300000);
	modbus_flush(ctx);
	return ctx;
}

struct board {
	uint16_t id[8];
	uint16_t boot[RINKI_IREG_BOOT_NREGS];
};

/* Read identity and boot registers; returns 0, or -1 if the application does not answer. */
static int read_board(modbus_t *ctx, struct board *b)
{
	if (modbus_read_input_registers(ctx, 0, 8, b->id) != 8 ||
	    modbus_read_input_registers(ctx, RINKI_IREG_BOOT_SLOT, RINKI_IREG_BOOT_NREGS,
					b->boot) != RINKI_IREG_BOOT_NREGS) {
		modbus_flush(ctx);
		return -1;
	}
	return 0;
}

static struct board board_now(void)
{
	struct board b;
	modbus_t *ctx = mb();

	int rc = read_board(ctx, &b);
	if (rc != 0)
		rc = read_board(ctx, &b);
	modbus_close(ctx);
	modbus_free(ctx);
	assert_int_equal(rc, 0);
	return b;
}

static uint32_t hash_of(const struct board *b)
{
	return (uint32_t)b->id[RINKI_IREG_BUILD_HASH_HI] << 16 | b->id[RINKI_IREG_BUILD_HASH_LO];
}

static uint16_t state_of(const struct board *b, unsigned slot)
{
	return b->boot[2 + slot * RINKI_BOOT_SLOT_REGS + RINKI_BOOT_SLOT_REG_STATE];
}

/* Copy img_dir/name to tmp_img with the byte at off xor-ed with x. */
static void tampered_copy(const char *name, size_t off, uint8_t x, bool fix_crcs)
{
	static uint8_t buf[1 << 17];
	FILE *f = fopen(img(name), "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > off);
	buf[off] ^= x;
	if (fix_crcs) {
		struct rinki_fwimage_hdr h;
		memcpy(&h, buf, sizeof(h));
		h.payload_crc = rinki_crc32(0, buf + sizeof(h), h.length);
		h.hdr_crc = rinki_crc32(0, &h, offsetof(struct rinki_fwimage_hdr, hdr_crc));
		memcpy(buf, &h, sizeof(h));
	}
	f = fopen(tmp_img, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
}

/* --- tests --------------------------------------------------------------------------------- */

static void test_empty_board_in_bootloader(void **state)
{
	(void)state;
	assert_int_equal(flash_tool("info", NULL), 3);
	assert_out_has("bootloader 1.0 running (no bootable image)");
	assert_out_has("board id     0x0001");
	assert_int_equal(flash_tool("boot", NULL), 1);
	assert_out_has("no bootable image");
}

static void test_refuses_bad_images(void **state)
{
	(void)state;
	/* A signature byte. */
	tampered_copy("fw.img", offsetof(struct rinki_fwimage_hdr, signature) + 5, 0x01, false);
	assert_int_equal(flash_tool("flash", tmp_img, NULL), 1);
	assert_out_has("bad signature");
	/* A payload byte, with both CRCs made to match again: only the signature catches it. */
	tampered_copy("fw.img", RINKI_FWIMAGE_HDR_SIZE + 200, 0x80, true);
	assert_int_equal(flash_tool("flash", tmp_img, NULL), 1);
	assert_out_has("bad signature");
	/* Truncated file. */
	tampered_copy("fw.img", 0, 0, false);
	assert_int_equal(truncate(tmp_img, 2000), 0);
	assert_int_equal(flash_tool("flash", tmp_img, NULL), 1);
	assert_out_has("runs past the end of the file");
	/* Signed with another key. */
	char base[160];
	snprintf(base, sizeof(base), "%s", tmp_key);
	assert_int_equal(flash_tool("keygen", "--test", base, NULL), 0);
	char sec[176], a[64], b[64];
	snprintf(sec, sizeof(sec), "%s.sec", base);
	snprintf(a, sizeof(a), "0x00001100=%s", img("app-a.bin"));
	snprintf(b, sizeof(b), "0x0000B100=%s", img("app-b.bin"));
	assert_int_equal(flash_tool("pack", "-k", sec, "--board", "1", "--version", "0.1.0", "-o",
				    tmp_img, a, b, NULL),
			 0);
	assert_int_equal(flash_tool("flash", tmp_img, NULL), 1);
	assert_out_has("bad signature");
	/* Right key, other board: refused once the board says who it is. */
	assert_int_equal(flash_tool("pack", "-k", seckey, "--board", "0x0100", "--version", "0.1.0",
				    "-o", tmp_img, a, b, NULL),
			 0);
	assert_int_equal(flash_tool("flash", tmp_img, NULL), 1);
	assert_out_has("the image is for board 0x0100");
	/* Nothing was written. */
	assert_int_equal(flash_tool("info", NULL), 3);
	assert_out_has("no bootable image");
}

static void test_first_install(void **state)
{
	(void)state;
	assert_int_equal(flash_tool("flash", img("fw.img"), NULL), 0);
	assert_out_has("signature good");
	assert_out_has("to slot A");
	assert_out_has("confirmed: slot A");
	struct board b = board_now();
	assert_int_equal(b.id[RINKI_IREG_BOARD_ID], RINKI_BOARD_ID_QEMU_MPS2);
	assert_int_equal(hash_of(&b), FW_BUILD_HASH);
	assert_int_equal(b.boot[0], 0);
	assert_int_equal(state_of(&b, 0), RINKI_SLOT_CONFIRMED);
	assert_int_equal(flash_tool("info", NULL), 0);
	assert_out_has("slot A       confirmed");
}

static void test_update_to_other_slot(void **state)
{
	(void)state;
	assert_int_equal(flash_tool("flash", img("fw-alt.img"), NULL), 0);
	assert_out_has("to slot B");
	struct board b = board_now();
	assert_int_equal(hash_of(&b), ~FW_BUILD_HASH);
	assert_int_equal(b.boot[0], 1);
	assert_int_equal(state_of(&b, 0), RINKI_SLOT_CONFIRMED); /* the old one, kept */
	assert_int_equal(state_of(&b, 1), RINKI_SLOT_CONFIRMED);
}

static void test_unconfirmed_rolls_back(void **state)
{
	(void)state;
	assert_int_equal(flash_tool("flash", "--no-confirm", img("fw.img"), NULL), 0);
	assert_out_has("to slot A");
	assert_out_has("not confirmed");
	struct board b = board_now();
	assert_int_equal(hash_of(&b), FW_BUILD_HASH);
	assert_int_equal(b.boot[0], 0);
	assert_int_equal(state_of(&b, 0), RINKI_SLOT_TRIAL);
	assert_true(b.boot[1] >= 1); /* seconds left */

	/*
	 * Poll all the time, as rinkid would: the trial runs out, the main loop stops, the
	 * watchdog resets, the bootloader (deaf to these polls in its window) goes back to B.
	 */
	uint64_t t0 = now_ms();
	modbus_t *ctx = mb();
	modbus_set_response_timeout(ctx, 0, 100000);
	int silent = 0;
	for (;;) {
		assert_true(now_ms() - t0 < 15000);
		if (read_board(ctx, &b) != 0) {
			silent++;
			continue;
		}
		if (b.boot[0] == 1)
			break;
		sleep_ms(20);
	}
	uint16_t status = 0;
	assert_int_equal(modbus_read_input_registers(ctx, RINKI_IREG_STATUS, 1, &status), 1);
	modbus_close(ctx);
	modbus_free(ctx);
	print_message("rolled back to slot B %llu ms after the unconfirmed start, %d polls "
		      "unanswered\n",
		      (unsigned long long)(now_ms() - t0), silent);
	assert_true(silent > 0);
	assert_int_equal(hash_of(&b), ~FW_BUILD_HASH);
	assert_int_equal(state_of(&b, 0), RINKI_SLOT_REJECTED);
	assert_int_equal(state_of(&b, 1), RINKI_SLOT_CONFIRMED);
	assert_int_equal(status & RINKI_STATUS_WDT_RESET, RINKI_STATUS_WDT_RESET);
}

static void test_held_in_bootloader(void **state)
{
	(void)state;
	modbus_t *ctx = mb();
	assert_int_equal(modbus_write_register(ctx, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER), 1);
	modbus_close(ctx);
	modbus_free(ctx);
	sleep_ms(100);
	assert_int_equal(flash_tool("info", NULL), 3);
	assert_out_has("asked to stay by the application");
	assert_out_has("slot B       confirmed");
	assert_int_equal(flash_tool("confirm", NULL), 1);
	assert_out_has("the board is in the bootloader (asked to stay");
	assert_int_equal(flash_tool("boot", NULL), 0);
	struct board b = board_now();
	assert_int_equal(b.boot[0], 1);
	assert_int_equal(hash_of(&b), ~FW_BUILD_HASH);
}

static void test_32k_image_wire_time(void **state)
{
	(void)state;
	assert_int_equal(flash_tool("flash", img("fw-32k.img"), NULL), 0);
	assert_out_has("(32768 B) to slot A");
	const char *up = strstr(out, "upload:"), *all = strstr(out, "flash: ");
	assert_non_null(up);
	assert_non_null(all);
	print_message("BENCH 32 KiB image at %d baud (paced relay): %.*s\n", WIRE_BAUD,
		      (int)strcspn(up, "\n"), up);
	print_message("BENCH %.*s\n", (int)strcspn(all, "\n"), all);
	struct board b = board_now();
	assert_int_equal(b.boot[0], 0);
	assert_int_equal(hash_of(&b), FW_BUILD_HASH);
	assert_int_equal(state_of(&b, 0), RINKI_SLOT_CONFIRMED);
}

static void test_port_errors(void **state)
{
	(void)state;
	char *argv[] = {(char *)tool, "-p", "/nonexistent/ttyX", "info", NULL};
	pid_t pid = spawn(argv, tool_out);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 1);
	/* A pty nobody answers on. */
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	char *argv2[] = {(char *)tool, "-p", ptsname(m), "info", NULL};
	pid = spawn(argv2, tool_out);
	/* Keep the master drained while the tool talks to nobody. */
	while (waitpid(pid, &st, WNOHANG) == 0) {
		char junk[256];
		struct pollfd p = {.fd = m, .events = POLLIN};
		if (poll(&p, 1, 10) <= 0 || !(p.revents & POLLIN) ||
		    read(m, junk, sizeof(junk)) < 0)
			sleep_ms(5); /* no slave open yet (POLLHUP, EIO) */
	}
	close(m);
	assert_int_equal(WEXITSTATUS(st), 1);
	FILE *f = fopen(tool_out, "r");
	size_t len = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	if (f)
		fclose(f);
	out[len] = '\0';
	print_message("silent line: %s", out);
	assert_out_has("no answer on");
}

static void test_qemu_log_clean(void **state)
{
	(void)state;
	struct stat st;

	if (stat(log_path, &st) == 0 && st.st_size > 0) {
		print_file(log_path);
		fail_msg("%s is not empty", log_path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_board_in_bootloader),
	    cmocka_unit_test(test_refuses_bad_images),
	    cmocka_unit_test(test_first_install),
	    cmocka_unit_test(test_update_to_other_slot),
	    cmocka_unit_test(test_unconfirmed_rolls_back),
	    cmocka_unit_test(test_held_in_bootloader),
	    cmocka_unit_test(test_32k_image_wire_time),
	    cmocka_unit_test(test_port_errors),
	    cmocka_unit_test(test_qemu_log_clean),
	};

	atexit(at_exit);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	return cmocka_run_group_tests_name("fw_boot_qemu", tests, group_setup, group_teardown);
}
