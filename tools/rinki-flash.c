/*
 * rinki-flash: firmware updates of the I/O board over its serial line.
 *
 *   rinki-flash [-p PORT] [-b BAUD] [-a ADDR] [--timeout-scale N] info
 *   rinki-flash [...] flash [--no-confirm] [--allow-downgrade] IMAGE
 *   rinki-flash [...] confirm | boot
 *   rinki-flash check [--board ID] IMAGE        (no board needed)
 *   rinki-flash keygen [--test] BASE            (writes BASE.sec and BASE.pub)
 *   rinki-flash pack -k SEC --board ID --version MAJ.MIN.PATCH [--epoch E] --build-hash H
 *                    [--pad N] -o OUT ADDR=BIN...
 *
 * It talks Modbus RTU (libmodbus) to the running application and the bootloader's framed
 * protocol (include/rinki/fwimage.h, hw/bootloader.md) over raw termios to the bootloader.
 * Every image in a file is checked (header, CRC32, Ed25519 signature with libsodium) before
 * the board is touched; the image whose load address matches the slot the bootloader names
 * is uploaded, the board is booted into it, its identity registers are compared with the
 * header and only then is it confirmed. Exit status: 0 ok, 1 failure, 2 usage, 3 the board
 * is (and stays) in the bootloader (info). A lost or garbled frame is tried again on both
 * sides, said on stdout on the application's (mb_xact, confirm); what must not run twice
 * (ENTER, AUTH) is never resent as it is.
 *
 * Trust: the public key is built in (RF_BUILTIN_PUBKEY, from the package's signing key by
 * tools/rinki-flash.mk), not chosen on the command line. Only a build whose built-in key is the
 * TEST KEY takes --dev-pubkey, with a warning; a build without a key (the build tree's signing
 * tool) verifies nothing. Anti-rollback: an image older than what the board runs or holds
 * confirmed is refused unless --allow-downgrade; one whose epoch is below a confirmed slot's is
 * refused always (the bootloader refuses it too). Entering the bootloader from the application
 * needs the MAC of the board's one-time nonce under the entry key (RF_ENTRY_KEY,
 * /etc/rinki/fw-entry.key, or --entry-key), a secret only the package build, root and the
 * rinki-admin group have; the bootloader takes the same MAC over its own nonce (RINKI_BL_AUTH)
 * before it writes the flash, however the board got into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>
#include <sodium.h>

#include "rinki/fwimage.h"
#include "rinki/regmap.h"

/* The bootloader entry key the board's firmware was built with (hw/bootloader.md). */
#ifndef RF_ENTRY_KEY
#define RF_ENTRY_KEY "/etc/rinki/fw-entry.key"
#endif

/* The package's public key (64 hex digits) and whether it is the build's TEST KEY. */
#ifndef RF_BUILTIN_KEY_TEST
#define RF_BUILTIN_KEY_TEST 0
#endif

#define EXIT_USAGE 2
#define EXIT_IN_BL 3

#define MAX_IMAGES 4
#define MAX_FILE   (1u << 20)
/*
 * Time-outs, each multiplied by --timeout-scale (RINKI_FLASH_TIMEOUT_SCALE, 1 by default): a
 * board behind a slow link, or QEMU on a loaded test machine, gets more time; the values here
 * are those of a real line and stay the default.
 */
#define SYNC_TRY_MS	  T(100)  /* wait for the answer to one sync word */
#define ERASE_TIMEOUT_MS  T(5000) /* START erases up to a whole slot */
#define REPLY_TIMEOUT_MS  T(1000)
#define RETRIES		  3
#define APP_START_MS	  T(6000) /* bootloader window + application start */
#define ENTER_BL_MS	  T(3000)
#define PROBE_MS	  T(100) /* one identity read: 29 bytes, 2.5 ms on the wire */
#define MB_TIMEOUT_MS	  T(300) /* any other Modbus transaction */
#define RESYNC_MS	  T(150) /* silence that makes the bootloader drop a partial frame */
#define TIMEOUT_SCALE_MAX 100

static int timeout_scale = 1;
#define T(ms) ((ms)*timeout_scale)

struct opts {
	const char *port;
	int baud;
	int slave;
	const char *dev_pubkey; /* NULL: the built-in key */
	const char *entry_key;	/* file of the bootloader entry key */
	bool no_confirm;
	bool allow_downgrade;
};

struct image {
	struct rinki_fwimage_hdr hdr;
	const uint8_t *payload;
};

struct image_file {
	uint8_t *data;
	size_t len;
	struct image img[MAX_IMAGES];
	int n;
};

/* What the running application reports. */
struct app_info {
	uint16_t id[8]; /* RINKI_IREG_BOARD_ID .. STATUS */
	bool has_boot;	/* answers the boot registers */
	uint16_t boot[RINKI_IREG_BOOT_NREGS];
};

/* A bootloader session over a raw serial port, with byte counts for the figures. */
struct bl {
	int fd;
	unsigned long tx_bytes, rx_bytes, round_trips;
};

static const uint8_t sync_word[RINKI_BL_SYNC_LEN] = {RINKI_BL_SYNC_BYTES};

static const char *const slot_names[] = {"A", "B"};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("rinki-flash: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

static const char *state_name(unsigned st)
{
	static const char *const names[] = {"empty", "invalid",	  "staged",  "pending",
					    "trial", "confirmed", "rejected"};

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

static const char *bl_status_name(int st)
{
	static const char *const names[] = {
	    "ok",
	    "frame damaged on the line",
	    "command unknown to the bootloader",
	    "command out of sequence",
	    "bad image header",
	    "image for another board",
	    "image does not fit the slot",
	    "image linked for the other slot",
	    "data out of sequence",
	    "flash erase or write failed",
	    "payload CRC in flash does not match the header",
	    "image epoch below the board's confirmed image (anti-rollback)",
	    "not authenticated (no or a wrong entry MAC)",
	};

	if (st < 0)
		return strerror(-st);
	return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown status";
}

static const char *entry_name(unsigned e)
{
	switch (e) {
	case RINKI_BL_ENTRY_REQUEST:
		return "asked to stay by the application";
	case RINKI_BL_ENTRY_NO_IMAGE:
		return "no bootable image";
	case RINKI_BL_ENTRY_WINDOW:
		return "caught in its start-up window";
	default:
		return "unknown reason";
	}
}

/* --- keys ---------------------------------------------------------------------------------- */

static int hex_decode(const char *s, uint8_t *out, size_t n)
{
	size_t len = strspn(s, "0123456789abcdefABCDEF");

	if (len != 2 * n || (s[len] && s[len] != '\n' && s[len] != '\r'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/*
 * Read a key file: '#' comment lines, then one line of 2n hex digits. The first comment goes
 * to label (may be NULL). Returns 0 or -1 with a message printed.
 */
static int read_key(const char *path, uint8_t *key, size_t n, char *label, size_t label_len)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (label && label_len)
		label[0] = '\0';
	if (!f) {
		fail("key %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#') {
			if (label && !label[0])
				snprintf(label, label_len, "%s", line + 1 + (line[1] == ' '));
			continue;
		}
		rc = hex_decode(line, key, n);
		break;
	}
	fclose(f);
	if (label)
		label[strcspn(label, "\r\n")] = '\0';
	if (rc != 0)
		fail("key %s: expected one line of %zu hex digits", path, 2 * n);
	return rc;
}

static int write_key(const char *path, const char *comment, const uint8_t *key, size_t n,
		     mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);

	if (fd < 0)
		return fail("%s: %s", path, strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return fail("%s: %s", path, strerror(errno));
	}
	fprintf(f, "# %s\n", comment);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", key[i]);
	fputc('\n', f);
	if (fclose(f) != 0)
		return fail("%s: %s", path, strerror(errno));
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	bool test = false;
	int i = 1;

	if (i < argc && strcmp(argv[i], "--test") == 0) {
		test = true;
		i++;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: rinki-flash keygen [--test] BASE\n");
		return EXIT_USAGE;
	}
	char sec_path[4096], pub_path[4096];
	snprintf(sec_path, sizeof(sec_path), "%s.sec", argv[i]);
	snprintf(pub_path, sizeof(pub_path), "%s.pub", argv[i]);

	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t seed[crypto_sign_SEEDBYTES];
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);

	const char *what = test ? "TEST KEY: made at build time for tests and development; never "
				  "sign a release with it"
				: "rinki I/O board firmware signing key";
	char sec_c[256], pub_c[256];
	snprintf(sec_c, sizeof(sec_c), "rinki firmware signing secret key (Ed25519 seed). %s",
		 what);
	snprintf(pub_c, sizeof(pub_c), "rinki firmware signing public key (Ed25519). %s", what);
	int rc = write_key(sec_path, sec_c, seed, sizeof(seed), 0600);
	if (rc == 0)
		rc = write_key(pub_path, pub_c, pk, sizeof(pk), 0644);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	if (rc == 0)
		printf("wrote %s and %s%s\n", sec_path, pub_path, test ? " (TEST KEY)" : "");
	return rc;
}

/* --- image files --------------------------------------------------------------------------- */

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(MAX_FILE + 1);
	size_t n = 0;

	if (!f || !buf) {
		int e = errno;
		if (f)
			fclose(f);
		free(buf);
		return fail("%s: %s", path, strerror(e));
	}
	n = fread(buf, 1, MAX_FILE + 1, f);
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		return fail("%s: read error", path);
	}
	if (n > MAX_FILE) {
		free(buf);
		return fail("%s: larger than %u bytes", path, MAX_FILE);
	}
	*data = buf;
	*len = n;
	return 0;
}

/* Signed message: header bytes [0, 64) followed by the payload. */
static uint8_t *signed_message(const struct rinki_fwimage_hdr *h, const uint8_t *payload)
{
	uint8_t *m = malloc(RINKI_FWIMAGE_SIGNED_SIZE + (size_t)h->length);

	if (m) {
		memcpy(m, h, RINKI_FWIMAGE_SIGNED_SIZE);
		memcpy(m + RINKI_FWIMAGE_SIGNED_SIZE, payload, h->length);
	}
	return m;
}

/*
 * Parse an image file: images back to back, each header checked (magic, version, flags, CRC),
 * its payload inside the file and matching its CRC32. Returns 0 or 1 with a message.
 */
static int load_images(const char *path, struct image_file *f)
{
	memset(f, 0, sizeof(*f));
	if (read_file(path, &f->data, &f->len) != 0)
		return EXIT_FAILURE;
	size_t off = 0;
	while (off < f->len) {
		struct image *im = &f->img[f->n];
		struct rinki_fwimage_hdr *h = &im->hdr;
		if (f->n == MAX_IMAGES)
			return fail("%s: more than %d images", path, MAX_IMAGES);
		if (f->len - off < RINKI_FWIMAGE_HDR_SIZE)
			return fail("%s: %zu stray bytes at offset %zu", path, f->len - off, off);
		memcpy(h, f->data + off, sizeof(*h));
		if (h->magic != RINKI_FWIMAGE_MAGIC)
			return fail("%s: offset %zu: not a rinki firmware image (bad magic)", path,
				    off);
		if (h->hdr_version != RINKI_FWIMAGE_HDR_VERSION || h->flags != 0)
			return fail("%s: offset %zu: header version %u flags 0x%x not supported",
				    path, off, h->hdr_version, h->flags);
		if (h->hdr_crc != rinki_crc32(0, h, offsetof(struct rinki_fwimage_hdr, hdr_crc)))
			return fail("%s: offset %zu: header CRC mismatch", path, off);
		off += RINKI_FWIMAGE_HDR_SIZE;
		if (h->length > f->len - off)
			return fail(
			    "%s: image %d: payload of %u bytes runs past the end of the file", path,
			    f->n + 1, h->length);
		im->payload = f->data + off;
		if (rinki_crc32(0, im->payload, h->length) != h->payload_crc)
			return fail("%s: image %d: payload CRC mismatch", path, f->n + 1);
		off += h->length;
		f->n++;
	}
	if (f->n == 0)
		return fail("%s: empty file", path);
	for (int i = 1; i < f->n; i++)
		if (f->img[i].hdr.board_id != f->img[0].hdr.board_id)
			return fail("%s: images for different boards in one file", path);
	return 0;
}

/* The key images must be signed with: the built-in one, or a development override. */
static int trusted_key(const struct opts *o, uint8_t *pk, char *name, size_t name_len)
{
	char label[256];

	if (o->dev_pubkey) {
		if (read_key(o->dev_pubkey, pk, crypto_sign_PUBLICKEYBYTES, label, sizeof(label)) !=
		    0)
			return -1;
		snprintf(name, name_len, "DEVELOPMENT KEY OVERRIDE %s%s", o->dev_pubkey,
			 strstr(label, "TEST KEY") ? ", TEST KEY" : "");
		return 0;
	}
#ifdef RF_BUILTIN_PUBKEY
	if (hex_decode(RF_BUILTIN_PUBKEY, pk, crypto_sign_PUBLICKEYBYTES) != 0)
		return fail("the built-in public key is malformed: rebuild rinki-flash");
	snprintf(name, name_len, "built-in key%s", RF_BUILTIN_KEY_TEST ? ", TEST KEY" : "");
	return 0;
#else
	(void)name_len;
	fail("this rinki-flash has no built-in public key (a build tool for keygen and pack): it "
	     "checks no signature");
	return -1;
#endif
}

static int verify_images(const char *path, const struct image_file *f, const struct opts *o)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	char keyname[600];

	if (trusted_key(o, pk, keyname, sizeof(keyname)) != 0)
		return EXIT_FAILURE;
	for (int i = 0; i < f->n; i++) {
		const struct image *im = &f->img[i];
		uint8_t *m = signed_message(&im->hdr, im->payload);
		if (!m)
			return fail("out of memory");
		int bad = crypto_sign_verify_detached(
		    im->hdr.signature, m, RINKI_FWIMAGE_SIGNED_SIZE + im->hdr.length, pk);
		free(m);
		if (bad)
			return fail("%s: image %d (load address 0x%08x): bad signature: not signed "
				    "by the %s; refusing it",
				    path, i + 1, im->hdr.load_addr, keyname);
		if (im->hdr.epoch != f->img[0].hdr.epoch ||
		    im->hdr.ver_major != f->img[0].hdr.ver_major ||
		    im->hdr.ver_minor != f->img[0].hdr.ver_minor ||
		    im->hdr.ver_patch != f->img[0].hdr.ver_patch)
			return fail("%s: images of different versions or epochs in one file", path);
	}
	printf("%s: %d image%s, version %u.%u.%u, epoch %u, build %08x, board 0x%04x, signature "
	       "good (%s)\n",
	       path, f->n, f->n == 1 ? "" : "s", f->img[0].hdr.ver_major, f->img[0].hdr.ver_minor,
	       f->img[0].hdr.ver_patch, f->img[0].hdr.epoch, f->img[0].hdr.build_hash,
	       f->img[0].hdr.board_id, keyname);
	return 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int cmd_pack(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"key", required_argument, NULL, 'k'},     {"board", required_argument, NULL, 'B'},
	    {"version", required_argument, NULL, 'V'}, {"build-hash", required_argument, NULL, 'H'},
	    {"pad", required_argument, NULL, 'P'},     {"epoch", required_argument, NULL, 'E'},
	    {"output", required_argument, NULL, 'o'},  {NULL, 0, NULL, 0},
	};
	const char *key = NULL, *out = NULL;
	uint32_t board = 0, hash = 0, pad = 0, epoch = 0;
	unsigned maj = 0, min = 0, patch = 0;
	bool have_board = false, have_ver = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'B':
			if (parse_u32(optarg, 0xFFFF, &board) != 0)
				return fail("--board %s: expected 0..0xffff", optarg);
			have_board = true;
			break;
		case 'V': {
			int n = 0;
			if (sscanf(optarg, "%u.%u.%u%n", &maj, &min, &patch, &n) != 3 ||
			    optarg[n] || maj > 255 || min > 255 || patch > 0xFFFF)
				return fail("--version %s: expected MAJOR.MINOR.PATCH", optarg);
			have_ver = true;
			break;
		}
		case 'H':
			if (parse_u32(optarg, 0xFFFFFFFFu, &hash) != 0)
				return fail("--build-hash %s: expected a 32-bit number", optarg);
			break;
		case 'P':
			if (parse_u32(optarg, MAX_FILE, &pad) != 0)
				return fail("--pad %s: expected 0..%u", optarg, MAX_FILE);
			break;
		case 'E':
			if (parse_u32(optarg, 0xFFFFFFFFu, &epoch) != 0)
				return fail("--epoch %s: expected a 32-bit number", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!key || !out || !have_board || !have_ver || optind == argc) {
		fprintf(stderr, "usage: rinki-flash pack -k SECRET --board ID --version "
				"MAJ.MIN.PATCH [--epoch E] [--build-hash H] [--pad N] -o OUT "
				"ADDR=BIN...\n");
		return EXIT_USAGE;
	}

	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	if (read_key(key, seed, sizeof(seed), NULL, 0) != 0)
		return EXIT_FAILURE;
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));

	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *fo = fopen(tmp, "wb");
	if (!fo)
		return fail("%s: %s", tmp, strerror(errno));
	int rc = 0;
	for (int i = optind; i < argc && rc == 0; i++) {
		char *eq = strchr(argv[i], '=');
		uint32_t addr;
		uint8_t *bin = NULL;
		size_t len = 0;
		if (!eq) {
			rc = fail("%s: expected LOADADDR=FILE", argv[i]);
			break;
		}
		*eq = '\0';
		if (parse_u32(argv[i], 0xFFFFFFFFu, &addr) != 0) {
			rc = fail("%s: bad load address", argv[i]);
			break;
		}
		if (read_file(eq + 1, &bin, &len) != 0) {
			rc = EXIT_FAILURE;
			break;
		}
		size_t plen = len < pad ? pad : len;
		uint8_t *payload = realloc(bin, plen ? plen : 1);
		if (!payload) {
			free(bin);
			rc = fail("out of memory");
			break;
		}
		memset(payload + len, 0xFF, plen - len);
		struct rinki_fwimage_hdr h = {
		    .magic = RINKI_FWIMAGE_MAGIC,
		    .hdr_version = RINKI_FWIMAGE_HDR_VERSION,
		    .board_id = (uint16_t)board,
		    .ver_major = (uint16_t)maj,
		    .ver_minor = (uint16_t)min,
		    .ver_patch = (uint16_t)patch,
		    .build_hash = hash,
		    .load_addr = addr,
		    .length = (uint32_t)plen,
		    .payload_crc = rinki_crc32(0, payload, plen),
		    .epoch = epoch,
		};
		h.hdr_crc = rinki_crc32(0, &h, offsetof(struct rinki_fwimage_hdr, hdr_crc));
		uint8_t *m = signed_message(&h, payload);
		if (!m) {
			free(payload);
			rc = fail("out of memory");
			break;
		}
		crypto_sign_detached(h.signature, NULL, m, RINKI_FWIMAGE_SIGNED_SIZE + plen, sk);
		free(m);
		if (fwrite(&h, sizeof(h), 1, fo) != 1 || fwrite(payload, 1, plen, fo) != plen)
			rc = fail("%s: write error", tmp);
		free(payload);
	}
	sodium_memzero(sk, sizeof(sk));
	if (fclose(fo) != 0 && rc == 0)
		rc = fail("%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, out) != 0)
		rc = fail("%s: %s", out, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* --- serial port and bootloader frames ----------------------------------------------------- */

static speed_t baud_const(int baud)
{
	switch (baud) {
	case 9600:
		return B9600;
	case 19200:
		return B19200;
	case 38400:
		return B38400;
	case 57600:
		return B57600;
	case 115200:
		return B115200;
	case 230400:
		return B230400;
	default:
		return 0;
	}
}

static int serial_open(const struct opts *o)
{
	int fd = open(o->port, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios t;

	if (fd < 0) {
		fail("cannot open %s: %s", o->port, strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &t) != 0) {
		fail("%s is not a serial port: %s", o->port, strerror(errno));
		close(fd);
		return -1;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, baud_const(o->baud));
	cfsetospeed(&t, baud_const(o->baud));
	if (tcsetattr(fd, TCSANOW, &t) != 0) {
		fail("%s: cannot set %d 8N1 raw: %s", o->port, o->baud, strerror(errno));
		close(fd);
		return -1;
	}
	tcflush(fd, TCIOFLUSH);
	return fd;
}

static int write_all(struct bl *b, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(b->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b->tx_bytes += (unsigned long)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes before the deadline (now_s() based). 0, -ETIMEDOUT or -errno. */
static int read_exact(struct bl *b, uint8_t *p, size_t n, double deadline)
{
	while (n) {
		int left = (int)((deadline - now_s()) * 1000);
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t got = read(b->fd, p, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return -errno;
		if (got == 0 && (pfd.revents & POLLHUP))
			return -EPIPE;
		b->rx_bytes += (unsigned long)got;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/*
 * Read one reply frame within timeout_ms: skips bytes before SOF, checks the length against
 * cap and the CRC. Returns the payload length, -ETIMEDOUT, -EMSGSIZE or -EBADMSG.
 */
static int read_frame(struct bl *b, uint8_t *type, uint8_t *pl, uint16_t cap, int timeout_ms)
{
	double deadline = now_s() + timeout_ms / 1000.0;
	uint8_t c = 0, h[3], crc[4];
	int rc;

	do {
		if ((rc = read_exact(b, &c, 1, deadline)) != 0)
			return rc;
	} while (c != RINKI_BL_SOF);
	if ((rc = read_exact(b, h, 3, deadline)) != 0)
		return rc;
	uint16_t n = (uint16_t)(h[1] | h[2] << 8);
	if (n > cap)
		return -EMSGSIZE;
	if ((rc = read_exact(b, pl, n, deadline)) != 0 || (rc = read_exact(b, crc, 4, deadline)))
		return rc;
	uint32_t want = rinki_crc32(rinki_crc32(0, h, 3), pl, n);
	if (want != ((uint32_t)crc[0] | (uint32_t)crc[1] << 8 | (uint32_t)crc[2] << 16 |
		     (uint32_t)crc[3] << 24))
		return -EBADMSG;
	*type = h[0];
	return n;
}

/*
 * One command: send the frame, read the reply (resending on a damaged frame, a NAK or no
 * answer, up to retries times). Returns the bootloader's status (>= 0) with the reply
 * payload in rsp (*rlen bytes), or a negative errno.
 */
static int bl_command_n(struct bl *b, uint8_t type, const uint8_t *pl, uint16_t n, uint8_t *rsp,
			uint16_t cap, uint16_t *rlen, int timeout_ms, int retries)
{
	static uint8_t frame[RINKI_BL_FRAME_OVH + RINKI_BL_PAYLOAD_MAX];
	int rc = -ETIMEDOUT;

	if (n > RINKI_BL_PAYLOAD_MAX)
		return -EMSGSIZE;
	frame[0] = RINKI_BL_SOF;
	frame[1] = type;
	frame[2] = (uint8_t)n;
	frame[3] = (uint8_t)(n >> 8);
	if (n)
		memcpy(frame + 4, pl, n);
	uint32_t crc = rinki_crc32(0, frame + 1, 3u + n);
	for (int i = 0; i < 4; i++)
		frame[4 + n + i] = (uint8_t)(crc >> (8 * i));

	for (int attempt = 0; attempt <= retries; attempt++) {
		uint8_t rt = 0;
		if ((rc = write_all(b, frame, RINKI_BL_FRAME_OVH + n)) != 0)
			return rc;
		b->round_trips++;
		rc = read_frame(b, &rt, rsp, cap, timeout_ms);
		if (rc >= 1 && rt == RINKI_BL_NAK && rsp[0] == RINKI_BL_E_FRAME) {
			rc = -EBADMSG; /* it read a damaged frame and waits for the next */
			continue;
		}
		if (rc == -ETIMEDOUT || rc == -EBADMSG || rc == -EMSGSIZE) {
			/* Let it drop what it has of the frame, and drop the rest of the reply. */
			sleep_ms(RESYNC_MS);
			tcflush(b->fd, TCIFLUSH);
			continue;
		}
		if (rc < 0)
			return rc;
		if (rt != (RINKI_BL_REPLY_TYPE | type) || rc < 1)
			return -EPROTO;
		*rlen = (uint16_t)rc;
		return rsp[0];
	}
	return rc;
}

/* bl_command_n with RETRIES: for every command that may run twice. */
static int bl_command(struct bl *b, uint8_t type, const uint8_t *pl, uint16_t n, uint8_t *rsp,
		      uint16_t cap, uint16_t *rlen, int timeout_ms)
{
	return bl_command_n(b, type, pl, n, rsp, cap, rlen, timeout_ms, RETRIES);
}

/*
 * Open a session: send the sync word until the bootloader answers with its info, for up to
 * total_ms. Returns 0, -ETIMEDOUT (no bootloader) or a negative errno.
 */
static int bl_sync(struct bl *b, struct rinki_bl_info *info, int total_ms)
{
	double end = now_s() + total_ms / 1000.0;
	uint8_t rsp[sizeof(*info) + 16];

	do {
		uint8_t rt = 0;
		int rc = write_all(b, sync_word, sizeof(sync_word));
		if (rc != 0)
			return rc;
		rc = read_frame(b, &rt, rsp, sizeof(rsp), SYNC_TRY_MS);
		if (rc == (int)sizeof(*info) && rt == (RINKI_BL_REPLY_TYPE | RINKI_BL_INFO)) {
			memcpy(info, rsp, sizeof(*info));
			if (info->proto != RINKI_BL_PROTO)
				return -EPROTONOSUPPORT;
			return 0;
		}
	} while (now_s() < end);
	return -ETIMEDOUT;
}

static int bl_open(const struct opts *o, struct bl *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = serial_open(o);
	return b->fd < 0 ? -1 : 0;
}

static void bl_close(struct bl *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

/* --- the application over Modbus ----------------------------------------------------------- */

static void set_timeout_ms(modbus_t *ctx, int ms)
{
	modbus_set_response_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000u);
}

static modbus_t *mb_open(const struct opts *o)
{
	modbus_t *ctx = modbus_new_rtu(o->port, o->baud, 'N', 8, 1);

	if (!ctx) {
		fail("%s: %s", o->port, modbus_strerror(errno));
		return NULL;
	}
	if (modbus_set_slave(ctx, o->slave) != 0 || modbus_connect(ctx) != 0) {
		fail("cannot open %s: %s", o->port, modbus_strerror(errno));
		modbus_free(ctx);
		return NULL;
	}
	set_timeout_ms(ctx, MB_TIMEOUT_MS);
	modbus_flush(ctx);
	return ctx;
}

static void mb_close(modbus_t *ctx)
{
	if (ctx) {
		modbus_close(ctx);
		modbus_free(ctx);
	}
}

/* A Modbus error a retry may cure: no answer, or a garbled or misaddressed one. */
static bool mb_transient(int e)
{
	return e == ETIMEDOUT || e == EMBBADCRC || e == EMBBADDATA || e == EMBBADSLAVE;
}

/* Say on stdout that try (1-based) of what failed with e and another one follows. */
static void mb_retrying(const char *what, int try, int e)
{
	printf("%s %s, trying again (%d/%d)\n",
	       e == ETIMEDOUT ? "no answer to" : "a garbled answer to", what, try + 1, RETRIES + 1);
	fflush(stdout);
}

enum mb_op { MB_READ_INPUT, MB_WRITE_REGS };

/*
 * One transaction with the application (only one that may run twice: a read, or a write of
 * the same values), tried up to 1 + RETRIES times while it fails with an mb_transient()
 * error, the port flushed between tries, each retry said on stdout with what. Returns
 * libmodbus' result of the last try (nb, or -1 with errno).
 */
static int mb_xact(modbus_t *ctx, const char *what, enum mb_op op, int addr, int nb, uint16_t *regs)
{
	int rc = -1;

	for (int try = 1; try <= RETRIES + 1; try++) {
		rc = op == MB_READ_INPUT ? modbus_read_input_registers(ctx, addr, nb, regs)
					 : modbus_write_registers(ctx, addr, nb, regs);
		if (rc == nb || !mb_transient(errno) || try > RETRIES)
			break;
		int e = errno;
		mb_retrying(what, try, e);
		modbus_flush(ctx);
		errno = e;
	}
	return rc;
}

/* app_probe(): the application answered who it is, then no more (all tries of the next read). */
#define APP_LOST (-ENOLINK)

/*
 * Ask the application who it is, trying for up to ms. Returns 0 with a filled, -ETIMEDOUT
 * if nothing answers, APP_LOST if it answered and then stopped, or another negative errno.
 * Only -ETIMEDOUT means "no application": the caller may then look for the bootloader.
 */
static int app_probe(modbus_t *ctx, struct app_info *a, int ms)
{
	double end = now_s() + ms / 1000.0;

	memset(a, 0, sizeof(*a));
	set_timeout_ms(ctx, PROBE_MS);
	for (;;) {
		if (modbus_read_input_registers(ctx, RINKI_IREG_BOARD_ID, 8, a->id) == 8)
			break;
		if (!mb_transient(errno))
			return -errno;
		if (now_s() > end)
			return -ETIMEDOUT;
		modbus_flush(ctx);
	}
	modbus_flush(ctx);
	set_timeout_ms(ctx, MB_TIMEOUT_MS);
	if (mb_xact(ctx, "reading the boot registers", MB_READ_INPUT, RINKI_IREG_BOOT_SLOT,
		    RINKI_IREG_BOOT_NREGS, a->boot) == RINKI_IREG_BOOT_NREGS)
		a->has_boot = true;
	else if (mb_transient(errno))
		return APP_LOST;
	else if (errno != EMBXILADD)
		return -errno;
	return 0;
}

/* What an app_probe() error other than -ETIMEDOUT means, for the message after the port. */
static const char *probe_strerror(int rc)
{
	if (rc == APP_LOST)
		return "the application answered, then did not answer reading its boot registers "
		       "on any try: check the cable and the line";
	return modbus_strerror(-rc);
}

static uint16_t slot_reg(const struct app_info *a, unsigned slot, unsigned reg)
{
	return a->boot[RINKI_IREG_BOOT_SLOT_BASE - RINKI_IREG_BOOT_SLOT +
		       slot * RINKI_BOOT_SLOT_REGS + reg];
}

static uint32_t app_hash(const struct app_info *a)
{
	return (uint32_t)a->id[RINKI_IREG_BUILD_HASH_HI] << 16 | a->id[RINKI_IREG_BUILD_HASH_LO];
}

/* --- authenticated entry into the bootloader ---------------------------------------------- */

/*
 * Ask the application to enter its bootloader: the MAC of its nonce (read in a->boot) under
 * the entry key, then RINKI_BOOT_CTL_ENTER. Returns 0 (*unsure set when the ENTER got no
 * answer, so it may or may not have been taken), or EXIT_FAILURE with a message.
 */
static int request_entry(const struct opts *o, modbus_t *ctx, const struct app_info *a,
			 bool *unsure)
{
	uint8_t key[crypto_shorthash_siphash24_KEYBYTES], m[RINKI_BOOT_ENTRY_MSG_LEN], tag[8];
	uint16_t regs[4];
	uint64_t nonce = 0;

	if (read_key(o->entry_key, key, sizeof(key), NULL, 0) != 0)
		return fail("the board enters its bootloader only for the holder of its entry key: "
			    "give --entry-key FILE");
	for (unsigned i = 0; i < 4; i++)
		nonce = nonce << 16 | a->boot[RINKI_IREG_BOOT_NONCE - RINKI_IREG_BOOT_SLOT + i];
	memcpy(m, RINKI_BOOT_ENTRY_TAG, 8);
	for (unsigned i = 0; i < 8; i++)
		m[8 + i] = (uint8_t)(nonce >> (8 * i));
	m[16] = (uint8_t)a->id[RINKI_IREG_BOARD_ID];
	m[17] = (uint8_t)(a->id[RINKI_IREG_BOARD_ID] >> 8);
	crypto_shorthash_siphash24(tag, m, sizeof(m), key);
	sodium_memzero(key, sizeof(key));
	for (unsigned i = 0; i < 4; i++) /* tag is little-endian; the registers high word first */
		regs[i] = (uint16_t)(tag[7 - 2 * i] << 8 | tag[6 - 2 * i]);
	if (mb_xact(ctx, "writing the bootloader entry MAC", MB_WRITE_REGS, RINKI_HREG_BOOT_MAC, 4,
		    regs) != 4)
		return fail("writing the bootloader entry MAC: %s", modbus_strerror(errno));
	if (modbus_write_register(ctx, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_ENTER) != 1) {
		int e = errno;
		if (mb_transient(e)) {
			/* Never resent: the board may have taken it and be in its bootloader now,
			 * which the sync word finds out; the request is used up either way. */
			printf("%s the bootloader entry request: looking for the bootloader\n",
			       e == ETIMEDOUT ? "no answer to" : "a garbled answer to");
			*unsure = true;
			return 0;
		}
		if (e == EMBXILVAL)
			return fail(
			    "the board refused to enter its bootloader: %s is not the entry "
			    "key its firmware was built with",
			    o->entry_key);
		return fail("asking the application to enter the bootloader: %s",
			    modbus_strerror(e));
	}
	return 0;
}

/*
 * Authenticate the bootloader session: RINKI_BL_AUTH with the entry MAC of the nonce in its
 * info. An AUTH is never resent as it is (each one uses the nonce up, and a wrong one resets
 * the board): after a lost reply the sync word asks the bootloader whether it took it, and a
 * new MAC is made from the nonce it shows then. Returns 0, or EXIT_FAILURE with a message.
 */
static int bl_auth(const struct opts *o, struct bl *b, const struct rinki_bl_info *info)
{
	uint8_t key[crypto_shorthash_siphash24_KEYBYTES], m[RINKI_BOOT_ENTRY_MSG_LEN], tag[8];
	uint8_t rsp[8];
	uint16_t n;
	struct rinki_bl_info in = *info;
	int rc = -ETIMEDOUT;

	if (read_key(o->entry_key, key, sizeof(key), NULL, 0) != 0)
		return fail("the bootloader writes its flash only for the holder of the board's "
			    "entry key: give --entry-key FILE");
	for (int attempt = 0; attempt <= RETRIES; attempt++) {
		if (attempt > 0 && (rc = bl_sync(b, &in, REPLY_TIMEOUT_MS)) != 0)
			break;
		if (in.auth)
			break; /* the lost reply was an acceptance */
		memcpy(m, RINKI_BOOT_ENTRY_TAG, 8);
		memcpy(m + 8, in.nonce, 8);
		m[16] = (uint8_t)in.board_id;
		m[17] = (uint8_t)(in.board_id >> 8);
		crypto_shorthash_siphash24(tag, m, sizeof(m), key);
		rc = bl_command_n(b, RINKI_BL_AUTH, tag, sizeof(tag), rsp, sizeof(rsp), &n,
				  REPLY_TIMEOUT_MS, 0);
		if (rc >= 0)
			break;
	}
	sodium_memzero(key, sizeof(key));
	if (rc == RINKI_BL_OK) /* accepted now, or found accepted after a lost reply */
		return 0;
	if (rc == RINKI_BL_E_AUTH)
		return fail("the bootloader refused the entry MAC: %s is not the entry key its "
			    "firmware was built with (the board restarts)",
			    o->entry_key);
	return fail("authenticating to the bootloader on %s: %s", o->port, bl_status_name(rc));
}

/* --- anti-rollback ------------------------------------------------------------------------- */

static uint64_t ver_key(unsigned maj, unsigned min, unsigned patch)
{
	return (uint64_t)maj << 32 | (uint64_t)min << 16 | patch;
}

static uint64_t hdr_ver(const struct rinki_fwimage_hdr *h)
{
	return ver_key(h->ver_major, h->ver_minor, h->ver_patch);
}

/* The newest version the application reports: the one running and any CONFIRMED slot's. */
static uint64_t app_newest(const struct app_info *a)
{
	uint64_t v = ver_key(a->id[RINKI_IREG_FW_MAJOR], a->id[RINKI_IREG_FW_MINOR],
			     a->id[RINKI_IREG_FW_PATCH]);

	for (unsigned s = 0; a->has_boot && s < 2; s++) {
		uint16_t mm = slot_reg(a, s, RINKI_BOOT_SLOT_REG_VER);
		uint64_t sv =
		    ver_key(mm >> 8, mm & 0xFF, slot_reg(a, s, RINKI_BOOT_SLOT_REG_PATCH));
		if (slot_reg(a, s, RINKI_BOOT_SLOT_REG_STATE) == RINKI_SLOT_CONFIRMED && sv > v)
			v = sv;
	}
	return v;
}

/* The newest version and the highest epoch of the CONFIRMED slots the bootloader reports. */
static uint64_t bl_newest(const struct rinki_bl_info *in, uint32_t *epoch)
{
	uint64_t v = 0;

	*epoch = 0;
	for (unsigned s = 0; s < 2; s++) {
		struct rinki_fwimage_hdr h;
		memcpy(&h, in->slot[s].hdr, sizeof(in->slot[s].hdr));
		if (in->slot[s].state != RINKI_SLOT_CONFIRMED)
			continue;
		if (hdr_ver(&h) > v)
			v = hdr_ver(&h);
		if (h.epoch > *epoch)
			*epoch = h.epoch;
	}
	return v;
}

/*
 * Refuse an image older than have (what the board runs or holds confirmed) unless
 * --allow-downgrade. Returns 0 to go on, or EXIT_FAILURE with a message.
 */
static int downgrade_check(const struct opts *o, const struct rinki_fwimage_hdr *h, uint64_t have)
{
	if (hdr_ver(h) >= have)
		return 0;
	unsigned maj = (unsigned)(have >> 32), min = (unsigned)(have >> 16) & 0xFFFF,
		 patch = (unsigned)have & 0xFFFF;
	if (o->allow_downgrade) {
		printf("downgrade from %u.%u.%u to %u.%u.%u (--allow-downgrade)\n", maj, min, patch,
		       h->ver_major, h->ver_minor, h->ver_patch);
		return 0;
	}
	return fail("refusing a downgrade: the image is %u.%u.%u, the board runs or holds %u.%u.%u "
		    "(confirmed); `flash --allow-downgrade` installs an older image on purpose",
		    h->ver_major, h->ver_minor, h->ver_patch, maj, min, patch);
}

static void print_app(const struct opts *o, const struct app_info *a)
{
	printf("port %s: application running\n", o->port);
	printf("  board id     0x%04x\n", a->id[RINKI_IREG_BOARD_ID]);
	printf("  version      %u.%u.%u build %08x\n", a->id[RINKI_IREG_FW_MAJOR],
	       a->id[RINKI_IREG_FW_MINOR], a->id[RINKI_IREG_FW_PATCH], app_hash(a));
	if (!a->has_boot) {
		printf("  bootloader   none (the firmware runs without one)\n");
		return;
	}
	uint16_t run = a->boot[0],
		 left = a->boot[RINKI_IREG_BOOT_TRIAL_LEFT - RINKI_IREG_BOOT_SLOT];
	printf("  running      slot %s\n", run < 2 ? slot_names[run] : "?");
	for (unsigned s = 0; s < 2; s++) {
		uint16_t st = slot_reg(a, s, RINKI_BOOT_SLOT_REG_STATE);
		uint16_t v = slot_reg(a, s, RINKI_BOOT_SLOT_REG_VER);
		printf("  slot %s       %-9s", slot_names[s], state_name(st));
		if (st >= RINKI_SLOT_STAGED)
			printf(" version %u.%u.%u seq %u", v >> 8, v & 0xFF,
			       slot_reg(a, s, RINKI_BOOT_SLOT_REG_PATCH),
			       slot_reg(a, s, RINKI_BOOT_SLOT_REG_SEQ));
		if (s == run && st == RINKI_SLOT_TRIAL)
			printf(", %u s left to confirm", left);
		printf("\n");
	}
}

static void print_bl(const struct opts *o, const struct rinki_bl_info *in)
{
	printf("port %s: bootloader %u.%u running (%s)\n", o->port, in->bl_version >> 8,
	       in->bl_version & 0xFF, entry_name(in->entry));
	printf("  board id     0x%04x\n", in->board_id);
	for (unsigned s = 0; s < 2; s++) {
		const struct rinki_bl_slot_info *si = &in->slot[s];
		struct rinki_fwimage_hdr h;
		memcpy(&h, si->hdr, sizeof(si->hdr));
		printf("  slot %s       %-9s at 0x%08x", slot_names[s], state_name(si->state),
		       si->addr);
		if (si->state >= RINKI_SLOT_STAGED)
			printf(" version %u.%u.%u build %08x seq %u", h.ver_major, h.ver_minor,
			       h.ver_patch, h.build_hash, si->seq);
		printf("%s\n", s == in->target ? " (next upload goes here)" : "");
	}
}

static bool bl_bootable(const struct rinki_bl_info *in)
{
	for (unsigned s = 0; s < 2; s++)
		if (in->slot[s].state == RINKI_SLOT_PENDING ||
		    in->slot[s].state == RINKI_SLOT_CONFIRMED)
			return true;
	return false;
}

static int no_answer(const struct opts *o)
{
	return fail("no answer on %s at %d baud from the application (Modbus address %d) or the "
		    "bootloader: check the port, the cable, the baud rate and the board's power",
		    o->port, o->baud, o->slave);
}

/* --- commands ------------------------------------------------------------------------------ */

/*
 * The application did not answer: say whether the bootloader does. A board our sync word
 * caught while it was starting is told to boot on. Returns the exit status for the caller:
 * EXIT_IN_BL, or EXIT_FAILURE with a message.
 */
static int app_silent(const struct opts *o, bool show)
{
	struct bl b;
	struct rinki_bl_info in;
	uint8_t rsp[8];
	uint16_t n;

	if (bl_open(o, &b) != 0)
		return EXIT_FAILURE;
	int rc = bl_sync(&b, &in, T(1000));
	if (rc != 0) {
		bl_close(&b);
		return rc == -ETIMEDOUT ? no_answer(o) : fail("%s: %s", o->port, strerror(-rc));
	}
	if (show)
		print_bl(o, &in);
	if (in.entry == RINKI_BL_ENTRY_WINDOW && bl_bootable(&in)) {
		rc = bl_command(&b, RINKI_BL_BOOT, NULL, 0, rsp, sizeof(rsp), &n, REPLY_TIMEOUT_MS);
		bl_close(&b);
		if (rc != RINKI_BL_OK)
			return fail("bootloader: boot: %s", bl_status_name(rc));
		return fail(
		    "the board was starting (caught in its bootloader's window) and was told "
		    "to boot: try again");
	}
	bl_close(&b);
	fprintf(stderr,
		"rinki-flash: the board is in the bootloader (%s): `rinki-flash flash IMAGE` "
		"installs an image%s\n",
		entry_name(in.entry),
		bl_bootable(&in) ? ", `rinki-flash boot` starts the one it has" : "");
	return EXIT_IN_BL;
}

static int cmd_info(const struct opts *o)
{
	struct app_info a;
	modbus_t *ctx = mb_open(o);

	if (!ctx)
		return EXIT_FAILURE;
	int rc = app_probe(ctx, &a, T(1000));
	mb_close(ctx);
	if (rc == 0) {
		print_app(o, &a);
		return 0;
	}
	if (rc != -ETIMEDOUT)
		return fail("%s: %s", o->port, probe_strerror(rc));
	return app_silent(o, true);
}

static void progress(uint32_t done, uint32_t total)
{
	static int next_mark;
	int pct = total ? (int)((uint64_t)done * 100 / total) : 100;

	if (isatty(STDERR_FILENO)) {
		int w = pct * 40 / 100;
		fprintf(stderr, "\r  [%.*s%*s] %3d%% %u/%u B", w,
			"########################################", 40 - w, "", pct, done, total);
		if (done == total)
			fputc('\n', stderr);
		return;
	}
	if (pct >= next_mark) {
		fprintf(stderr, "  %3d%% %u/%u B\n", pct, done, total);
		while (next_mark <= pct)
			next_mark += 25;
	}
	if (done == total)
		next_mark = 0;
}

/*
 * Get a bootloader session: ask a running application to enter it, or find the board
 * already there. Returns 0 with b open and in filled, or an exit status.
 */
static int enter_bootloader(const struct opts *o, const struct image_file *f, struct bl *b,
			    struct rinki_bl_info *in)
{
	struct app_info a;
	bool unsure = false;
	modbus_t *ctx = mb_open(o);

	if (!ctx)
		return EXIT_FAILURE;
	int rc = app_probe(ctx, &a, T(1000));
	if (rc == 0) {
		if (a.id[RINKI_IREG_BOARD_ID] != f->img[0].hdr.board_id) {
			mb_close(ctx);
			return fail("the image is for board 0x%04x, the board on %s is 0x%04x: "
				    "refusing it",
				    f->img[0].hdr.board_id, o->port, a.id[RINKI_IREG_BOARD_ID]);
		}
		if (!a.has_boot) {
			mb_close(ctx);
			return fail("the firmware on %s runs without a bootloader (no boot "
				    "registers): it cannot be updated over the serial line",
				    o->port);
		}
		if (downgrade_check(o, &f->img[0].hdr, app_newest(&a)) != 0) {
			mb_close(ctx);
			return EXIT_FAILURE; /* the board was not touched */
		}
		printf("application %u.%u.%u build %08x in slot %s: entering the bootloader\n",
		       a.id[RINKI_IREG_FW_MAJOR], a.id[RINKI_IREG_FW_MINOR],
		       a.id[RINKI_IREG_FW_PATCH], app_hash(&a),
		       a.boot[0] < 2 ? slot_names[a.boot[0]] : "?");
		if (request_entry(o, ctx, &a, &unsure) != 0) {
			mb_close(ctx);
			return EXIT_FAILURE;
		}
	} else if (rc != -ETIMEDOUT) {
		mb_close(ctx);
		return fail("%s: %s", o->port, probe_strerror(rc));
	}
	mb_close(ctx);

	bool asked = rc == 0; /* the application took the request (or, unsure, may have) */
	if (bl_open(o, b) != 0)
		return EXIT_FAILURE;
	rc = bl_sync(b, in, asked ? ENTER_BL_MS : T(1000));
	if (rc == -ETIMEDOUT) {
		bl_close(b);
		if (unsure)
			return fail("the bootloader entry request got no answer and no bootloader "
				    "answers on %s: the request was lost on the line; try again",
				    o->port);
		if (asked)
			return fail("the application accepted the request but the bootloader does "
				    "not answer on %s",
				    o->port);
		return no_answer(o);
	}
	if (rc != 0) {
		bl_close(b);
		return fail("bootloader on %s: %s", o->port, strerror(-rc));
	}
	if (!asked)
		printf("the board is in the bootloader (%s)\n", entry_name(in->entry));
	return 0;
}

/* Upload im into slot (the bootloader's target) and commit it. Returns 0 or an exit status. */
static int upload(struct bl *b, const struct image *im, unsigned slot, uint16_t chunk_max,
		  double *secs)
{
	uint8_t rsp[16], buf[4 + RINKI_BL_CHUNK_MAX];
	uint16_t n;
	uint32_t len = im->hdr.length, off = 0;
	double t0 = now_s();

	if (chunk_max == 0 || chunk_max > RINKI_BL_CHUNK_MAX)
		chunk_max = RINKI_BL_CHUNK_MAX;
	printf("writing %u.%u.%u build %08x (%u B) to slot %s\n", im->hdr.ver_major,
	       im->hdr.ver_minor, im->hdr.ver_patch, im->hdr.build_hash, len, slot_names[slot]);
	int st = bl_command(b, RINKI_BL_START, (const uint8_t *)&im->hdr, sizeof(im->hdr), rsp,
			    sizeof(rsp), &n, ERASE_TIMEOUT_MS);
	if (st != RINKI_BL_OK)
		return fail("bootloader refused the image: %s", bl_status_name(st));
	while (off < len) {
		uint32_t c = len - off < chunk_max ? len - off : chunk_max;
		for (int i = 0; i < 4; i++)
			buf[i] = (uint8_t)(off >> (8 * i));
		memcpy(buf + 4, im->payload + off, c);
		st = bl_command(b, RINKI_BL_DATA, buf, (uint16_t)(4 + c), rsp, sizeof(rsp), &n,
				REPLY_TIMEOUT_MS);
		if (st != RINKI_BL_OK || n < 5)
			return fail("data at offset %u: %s", off, bl_status_name(st));
		uint32_t next = (uint32_t)rsp[1] | (uint32_t)rsp[2] << 8 | (uint32_t)rsp[3] << 16 |
				(uint32_t)rsp[4] << 24;
		if (next != off + c)
			return fail("data at offset %u: the bootloader expects offset %u", off,
				    next);
		off = next;
		progress(off, len);
	}
	st = bl_command(b, RINKI_BL_END, NULL, 0, rsp, sizeof(rsp), &n, ERASE_TIMEOUT_MS);
	if (st != RINKI_BL_OK)
		return fail("verify: %s", bl_status_name(st));
	printf("verified: payload CRC32 %08x in flash matches\n", im->hdr.payload_crc);
	st = bl_command(b, RINKI_BL_COMMIT, NULL, 0, rsp, sizeof(rsp), &n, REPLY_TIMEOUT_MS);
	if (st != RINKI_BL_OK)
		return fail("commit: %s", bl_status_name(st));
	*secs = now_s() - t0;
	return 0;
}

/* Wait for the application to answer after a boot. 0, or an exit status with a message. */
static int wait_app(const struct opts *o, struct app_info *a)
{
	modbus_t *ctx = mb_open(o);

	if (!ctx)
		return EXIT_FAILURE;
	int rc = app_probe(ctx, a, APP_START_MS);
	mb_close(ctx);
	if (rc == 0)
		return 0;
	if (rc != -ETIMEDOUT)
		return fail("%s: %s", o->port, probe_strerror(rc));
	/* Nothing over Modbus: is it stuck in the bootloader? */
	struct bl b;
	struct rinki_bl_info in;
	if (bl_open(o, &b) != 0)
		return EXIT_FAILURE;
	rc = bl_sync(&b, &in, T(500));
	bl_close(&b);
	if (rc == 0) {
		print_bl(o, &in);
		return fail("the board stayed in the bootloader (%s) instead of starting the new "
			    "image",
			    entry_name(in.entry));
	}
	return fail("no answer on %s after the boot: neither the application nor the "
		    "bootloader",
		    o->port);
}

static int confirm(const struct opts *o, struct app_info *a)
{
	modbus_t *ctx = mb_open(o);
	bool lost = false; /* a try went unanswered: the board may have taken it */

	if (!ctx)
		return EXIT_FAILURE;
	for (int try = 1;; try++) {
		if (modbus_write_register(ctx, RINKI_HREG_BOOT_CTL, RINKI_BOOT_CTL_CONFIRM) == 1)
			break;
		int e = errno;
		if (mb_transient(e) && try <= RETRIES) {
			mb_retrying("confirm", try, e);
			modbus_flush(ctx);
			lost = true;
			continue;
		}
		if (e == EMBXSFAIL && lost)
			break; /* refused now: the read-back tells whether a lost try took */
		mb_close(ctx);
		if (e == EMBXSFAIL)
			return fail("confirm refused: the running image is not on trial (too late, "
				    "or no bootloader)");
		if (mb_transient(e))
			return fail("confirm: %s on all %d tries: check the cable and the line",
				    modbus_strerror(e), RETRIES + 1);
		return fail("confirm: %s", modbus_strerror(e));
	}
	int rc = app_probe(ctx, a, T(1000));
	mb_close(ctx);
	if (rc != 0)
		return fail("reading back after confirm: %s", probe_strerror(rc));
	if (!a->has_boot || a->boot[0] > 1 ||
	    slot_reg(a, a->boot[0], RINKI_BOOT_SLOT_REG_STATE) != RINKI_SLOT_CONFIRMED)
		return fail(lost
				? "confirm did not stick: the slot is not confirmed (refused after "
				  "a lost try: the trial may have run out)"
				: "confirm did not stick: the slot is not confirmed");
	return 0;
}

static int cmd_flash(const struct opts *o, const char *path)
{
	struct image_file f;
	struct bl b;
	struct rinki_bl_info in;
	struct app_info a;
	uint8_t rsp[8];
	uint16_t n;
	double t0 = now_s(), up_s = 0;
	int rc;

	if ((rc = load_images(path, &f)) != 0 || (rc = verify_images(path, &f, o)) != 0)
		goto out;
	if ((rc = enter_bootloader(o, &f, &b, &in)) != 0)
		goto out;
	rc = EXIT_FAILURE;
	if (in.board_id != f.img[0].hdr.board_id) {
		fail("the image is for board 0x%04x, the bootloader reports board 0x%04x: refusing "
		     "it",
		     f.img[0].hdr.board_id, in.board_id);
		goto close;
	}
	/* The same checks against what the bootloader holds (also a board found there). */
	uint32_t floor;
	uint64_t have = bl_newest(&in, &floor);
	if (f.img[0].hdr.epoch < floor) {
		fail(
		    "refusing the image: its anti-rollback epoch %u is below the board's confirmed "
		    "image's (%u); the bootloader refuses it too, --allow-downgrade or not",
		    f.img[0].hdr.epoch, floor);
		goto release;
	}
	if (downgrade_check(o, &f.img[0].hdr, have) != 0)
		goto release;
	if (bl_auth(o, &b, &in) != 0)
		goto close;
	unsigned slot = in.target;
	const struct image *im = NULL;
	for (int i = 0; i < f.n && slot < 2; i++)
		if (f.img[i].hdr.load_addr == in.slot[slot].addr + RINKI_FWIMAGE_SLOT_HDR)
			im = &f.img[i];
	if (!im) {
		fail("%s has no image linked for slot %s (0x%08x), where the bootloader writes",
		     path, slot < 2 ? slot_names[slot] : "?",
		     slot < 2 ? in.slot[slot].addr + RINKI_FWIMAGE_SLOT_HDR : 0);
		goto close;
	}
	if ((rc = upload(&b, im, slot, in.chunk_max, &up_s)) != 0)
		goto close;
	double wire = (RINKI_FWIMAGE_HDR_SIZE + im->hdr.length) * 10.0 / o->baud;
	printf("upload: %u B image in %.2f s, %lu B sent and %lu B received in %lu round trips; "
	       "wire time at %d baud %.2f s: %.2fx\n",
	       RINKI_FWIMAGE_HDR_SIZE + im->hdr.length, up_s, b.tx_bytes, b.rx_bytes, b.round_trips,
	       o->baud, wire, up_s / wire);
	int st = bl_command(&b, RINKI_BL_BOOT, NULL, 0, rsp, sizeof(rsp), &n, REPLY_TIMEOUT_MS);
	bl_close(&b);
	if (st != RINKI_BL_OK) {
		rc = fail("boot: %s", bl_status_name(st));
		goto out;
	}
	if ((rc = wait_app(o, &a)) != 0)
		goto out;
	rc = EXIT_FAILURE;
	uint16_t state = a.has_boot && a.boot[0] < 2
			     ? slot_reg(&a, a.boot[0], RINKI_BOOT_SLOT_REG_STATE)
			     : 0xFFFF;
	if (a.id[RINKI_IREG_FW_MAJOR] != im->hdr.ver_major ||
	    a.id[RINKI_IREG_FW_MINOR] != im->hdr.ver_minor ||
	    a.id[RINKI_IREG_FW_PATCH] != im->hdr.ver_patch || app_hash(&a) != im->hdr.build_hash ||
	    a.boot[0] != slot || state != RINKI_SLOT_TRIAL) {
		print_app(o, &a);
		fail("the board does not run the new image on trial (expected %u.%u.%u build %08x "
		     "in slot %s): not confirming it",
		     im->hdr.ver_major, im->hdr.ver_minor, im->hdr.ver_patch, im->hdr.build_hash,
		     slot_names[slot]);
		goto out;
	}
	uint16_t left = a.boot[RINKI_IREG_BOOT_TRIAL_LEFT - RINKI_IREG_BOOT_SLOT];
	printf("started: %u.%u.%u build %08x runs from slot %s on trial\n", im->hdr.ver_major,
	       im->hdr.ver_minor, im->hdr.ver_patch, im->hdr.build_hash, slot_names[slot]);
	if (o->no_confirm) {
		printf("not confirmed: the board goes back to the previous image in %u s unless "
		       "`rinki-flash confirm` runs\n",
		       left);
		rc = 0;
		goto out;
	}
	if ((rc = confirm(o, &a)) != 0)
		goto out;
	double total = now_s() - t0;
	printf("confirmed: slot %s is the board's image now\n", slot_names[slot]);
	printf("flash: %.2f s in all (wire time of the image %.2f s: %.2fx)\n", total, wire,
	       total / wire);
	rc = 0;
	goto out;
release:
	/* Refused before anything was written: let the board go back to its image. */
	if (bl_bootable(&in) && bl_command(&b, RINKI_BL_BOOT, NULL, 0, rsp, sizeof(rsp), &n,
					   REPLY_TIMEOUT_MS) == RINKI_BL_OK)
		printf("the board was told to start its own image again\n");
close:
	bl_close(&b);
out:
	free(f.data);
	return rc;
}

static int cmd_confirm(const struct opts *o)
{
	struct app_info a;
	modbus_t *ctx = mb_open(o);

	if (!ctx)
		return EXIT_FAILURE;
	int rc = app_probe(ctx, &a, T(1000));
	mb_close(ctx);
	if (rc == -ETIMEDOUT) {
		app_silent(o, false); /* says why; nothing to confirm either way */
		return EXIT_FAILURE;
	}
	if (rc != 0)
		return fail("%s: %s", o->port, probe_strerror(rc));
	if (!a.has_boot)
		return fail("the firmware on %s runs without a bootloader: nothing to confirm",
			    o->port);
	if ((rc = confirm(o, &a)) != 0)
		return rc;
	printf("confirmed: %u.%u.%u build %08x in slot %s\n", a.id[RINKI_IREG_FW_MAJOR],
	       a.id[RINKI_IREG_FW_MINOR], a.id[RINKI_IREG_FW_PATCH], app_hash(&a),
	       slot_names[a.boot[0]]);
	return 0;
}

static int cmd_boot(const struct opts *o)
{
	struct bl b;
	struct rinki_bl_info in;
	uint8_t rsp[8];
	uint16_t n;

	if (bl_open(o, &b) != 0)
		return EXIT_FAILURE;
	int rc = bl_sync(&b, &in, T(1000));
	if (rc != 0) {
		bl_close(&b);
		return rc == -ETIMEDOUT ? fail("no bootloader answers on %s (an application "
					       "that runs answers `info`)",
					       o->port)
					: fail("%s: %s", o->port, strerror(-rc));
	}
	if (!bl_bootable(&in)) {
		bl_close(&b);
		print_bl(o, &in);
		return fail("the board has no bootable image: `rinki-flash flash IMAGE` first");
	}
	rc = bl_command(&b, RINKI_BL_BOOT, NULL, 0, rsp, sizeof(rsp), &n, REPLY_TIMEOUT_MS);
	bl_close(&b);
	if (rc != RINKI_BL_OK)
		return fail("boot: %s", bl_status_name(rc));
	printf("the bootloader is starting the newest good image\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rinki-flash [-p PORT] [-b BAUD] [-a ADDR] [--timeout-scale N] "
	    "[--entry-key FILE] COMMAND\n"
	    "  info                board id, versions and slot states\n"
	    "  flash [--no-confirm] [--allow-downgrade] IMAGE\n"
	    "                      check the image's signature, upload it to the free slot,\n"
	    "                      boot it, check it runs, confirm it; an image older than the\n"
	    "                      board's is refused without --allow-downgrade\n"
	    "  confirm             confirm the image on trial\n"
	    "  boot                make a board held in the bootloader start its image\n"
	    "  check [--board ID] IMAGE\n"
	    "                      check the image file as flash does before it opens the port\n"
	    "                      (headers, CRCs, signature, one board id; no port needed)\n"
	    "  keygen [--test] BASE\n"
	    "  pack -k SECRET --board ID --version M.m.p [--epoch E] [--build-hash H] [--pad N]\n"
	    "       -o OUT ADDR=BIN...\n"
	    "PORT defaults to $RINKI_FLASH_PORT, BAUD to 115200, ADDR (Modbus) to 1, the time-out\n"
	    "scale to $RINKI_FLASH_TIMEOUT_SCALE or 1, the bootloader entry key to\n"
	    "$RINKI_FLASH_ENTRY_KEY or " RF_ENTRY_KEY ". Images must be signed with the\n%s.\n",
#ifdef RF_BUILTIN_PUBKEY
	    RF_BUILTIN_KEY_TEST ? "built-in TEST KEY (--dev-pubkey FILE overrides it)"
				: "built-in release key"
#else
	    "(missing) built-in key: this build checks no signature"
#endif
	);
}

/*
 * check [--board ID] IMAGE: what flash checks before it opens the port (every header, CRC32
 * and signature, one board id in the file), and that the board id is ID. Exit 0 good, 1 bad,
 * 2 usage.
 */
static int cmd_check(const struct opts *o, int argc, char **argv)
{
	struct image_file f;
	uint32_t board = 0;
	bool have_board = false;

	if (argc >= 2 && strcmp(argv[0], "--board") == 0) {
		if (parse_u32(argv[1], 0xFFFF, &board) != 0)
			return fail("--board %s: expected 0..0xffff", argv[1]);
		have_board = true;
		argc -= 2;
		argv += 2;
	}
	if (argc != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	int rc = load_images(argv[0], &f);
	if (rc == 0)
		rc = verify_images(argv[0], &f, o);
	if (rc == 0 && have_board && f.img[0].hdr.board_id != board)
		rc = fail("%s: the image is for board 0x%04x, not 0x%04x: refusing it", argv[0],
			  f.img[0].hdr.board_id, board);
	free(f.data);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"baud", required_argument, NULL, 'b'},
	    {"address", required_argument, NULL, 'a'},
	    {"pubkey", required_argument, NULL, 'K'},
	    {"dev-pubkey", required_argument, NULL, 'D'},
	    {"timeout-scale", required_argument, NULL, 'T'},
	    {"entry-key", required_argument, NULL, 'E'},
	    {"no-confirm", no_argument, NULL, 'N'},
	    {"allow-downgrade", no_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {
	    .port = getenv("RINKI_FLASH_PORT"),
	    .baud = 115200,
	    .slave = RINKI_SLAVE_ADDR_DEFAULT,
	    .entry_key =
		getenv("RINKI_FLASH_ENTRY_KEY") ? getenv("RINKI_FLASH_ENTRY_KEY") : RF_ENTRY_KEY,
	};
	const char *scale = getenv("RINKI_FLASH_TIMEOUT_SCALE");
	uint32_t v;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0)
		return fail("libsodium failed to initialise");
	/* keygen and pack have their own options. */
	if (argc > 1 && strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "pack") == 0)
		return cmd_pack(argc - 1, argv + 1);

	while ((c = getopt_long(argc, argv, "+p:b:a:h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.port = optarg;
			break;
		case 'b':
			if (parse_u32(optarg, 1000000, &v) != 0 || !baud_const((int)v))
				return fail(
				    "-b %s: use 9600, 19200, 38400, 57600, 115200 or 230400",
				    optarg);
			o.baud = (int)v;
			break;
		case 'a':
			if (parse_u32(optarg, RINKI_SLAVE_ADDR_MAX, &v) != 0 || v < 1)
				return fail("-a %s: Modbus address 1..247", optarg);
			o.slave = (int)v;
			break;
		case 'K':
			fail("--pubkey is gone: the public key is built in (see rinki-flash(1))");
			return EXIT_USAGE;
		case 'D':
			if (!RF_BUILTIN_KEY_TEST) {
				fail("--dev-pubkey: this rinki-flash has its release key built in "
				     "and "
				     "trusts no other");
				return EXIT_USAGE;
			}
			o.dev_pubkey = optarg;
			fprintf(stderr,
				"rinki-flash: WARNING: DEVELOPMENT KEY OVERRIDE: trusting %s "
				"instead of the built-in key\n",
				optarg);
			break;
		case 'T':
			scale = optarg;
			break;
		case 'E':
			o.entry_key = optarg;
			break;
		case 'G':
			o.allow_downgrade = true;
			break;
		case 'N':
			o.no_confirm = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (scale) {
		if (parse_u32(scale, TIMEOUT_SCALE_MAX, &v) != 0 || v < 1)
			return fail("time-out scale %s: expected 1..%d", scale, TIMEOUT_SCALE_MAX);
		timeout_scale = (int)v;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(argc - optind, argv + optind);
	if (strcmp(cmd, "pack") == 0)
		return cmd_pack(argc - optind, argv + optind);
	optind++;
	/* Allow --no-confirm and --allow-downgrade after the command too. */
	while (strcmp(cmd, "flash") == 0 && optind < argc) {
		if (strcmp(argv[optind], "--no-confirm") == 0)
			o.no_confirm = true;
		else if (strcmp(argv[optind], "--allow-downgrade") == 0)
			o.allow_downgrade = true;
		else
			break;
		optind++;
	}
	int nargs = argc - optind;
	if (strcmp(cmd, "check") == 0)
		return cmd_check(&o, nargs, argv + optind);
	if (!o.port)
		return fail("no port: give -p PORT or set RINKI_FLASH_PORT");
	if (strcmp(cmd, "info") == 0 && nargs == 0)
		return cmd_info(&o);
	if (strcmp(cmd, "flash") == 0 && nargs == 1)
		return cmd_flash(&o, argv[optind]);
	if (strcmp(cmd, "confirm") == 0 && nargs == 0)
		return cmd_confirm(&o);
	if (strcmp(cmd, "boot") == 0 && nargs == 0)
		return cmd_boot(&o);
	usage(stderr);
	return EXIT_USAGE;
}
