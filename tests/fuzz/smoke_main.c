/*
 * smoke_main: a small stand-in for libFuzzer's driver, so `make test` can run every fuzz
 * target (tests/fuzz/fuzz_*.c) under gcc with ASan/UBSan, without clang. Linked with one
 * target's LLVMFuzzerTestOneInput (and its LLVMFuzzerInitialize, if it has one), it runs
 * every seed file it is given (directories are read in name order), then a bounded number
 * of pseudo-random mutations of them: bit flips, byte sets, inserts, erases, truncation,
 * duplicated ranges and splices of two seeds, one to four at a time. The generator has a
 * fixed seed (-s), so a run is reproducible; it stops after -n mutations or -t seconds,
 * whichever comes first, and prints the runs it made.
 *
 * Every input is handed over in a heap buffer of exactly its size, so an overread is an
 * ASan error as under libFuzzer. When a run dies (sanitizer report, abort(), a signal) the
 * input is written to <outdir>/crash-<target>-<run> and a line says how to replay it:
 * file arguments are run like seeds, so `<binary> -n 0 <crash file>` runs it alone.
 * The target's stdio stderr goes to /dev/null (as libFuzzer's -close_fd_mask=2; some parsers
 * report every rejection there); sanitizer reports and this driver's messages are written to
 * fd 2, which stays the real stderr. -v keeps the target's stderr.
 *
 * Usage: <binary> [-n mutations] [-t seconds] [-s seed] [-m max_len] [-o outdir] [-v]
 *                 seed-dir-or-file...
 * Exit: 0 when every run returned, 1 for bad usage or unreadable seeds; a crash exits as
 * the sanitizer or the signal does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

struct input {
	char *name;
	uint8_t *data;
	size_t len;
};

static struct input *seeds;
static size_t nseeds, cap_seeds;
static const char *target = "fuzz";
static const char *outdir = ".";
static uint64_t rng_seed = 0x52494e4b49u; /* "RINKI" */
static uint64_t rng;

/* The run in progress, for the crash report. */
static const uint8_t *cur_data;
static size_t cur_len;
static long cur_run = -1; /* -1: seed phase */
static const char *cur_seed_name;
static volatile sig_atomic_t dumped;

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Du;
}

static size_t below(size_t n)
{
	return n ? (size_t)(next() % n) : 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(2, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Writes the input of the run that died and a replay line; called once from the death
 * callback or a signal handler. */
static void dump_crash(void)
{
	char path[512], msg[2048];

	if (dumped || !cur_data)
		return;
	dumped = 1;
	if (cur_run < 0) { /* a seed: it is a file already */
		snprintf(msg, sizeof(msg),
			 "fuzz-smoke %s: CRASH on seed %s\n"
			 "fuzz-smoke %s: replay with <this binary> -n 0 %s\n",
			 target, cur_seed_name ? cur_seed_name : "?", target,
			 cur_seed_name ? cur_seed_name : "?");
		say(msg);
		return;
	}
	snprintf(path, sizeof(path), "%s/crash-%s-%ld", outdir, target, cur_run);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		size_t off = 0;
		while (off < cur_len) {
			ssize_t w = write(fd, cur_data + off, cur_len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(fd);
	}
	snprintf(msg, sizeof(msg),
		 "fuzz-smoke %s: CRASH on mutation %ld (generator seed 0x%" PRIx64 ")\n"
		 "fuzz-smoke %s: input (%zu bytes) saved as %s%s\n"
		 "fuzz-smoke %s: replay with <this binary> -n 0 %s\n",
		 target, cur_run, rng_seed, target, cur_len, path,
		 fd < 0 ? " (could not write it)" : "", target, path);
	say(msg);
}

/*
 * gcc links UBSan as its own runtime, which does not call ASan's death callback and by
 * default ends with _exit(1). Aborting instead lets on_signal save the input; options
 * given in UBSAN_OPTIONS still win.
 */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "abort_on_error=1:halt_on_error=1:print_stacktrace=1";
}

/* abort() from a target's own checks (ASan reports SEGV, BUS and FPE itself and then calls
 * dump_crash as its death callback). */
static void on_signal(int sig)
{
	if (!dumped) {
		say("fuzz-smoke: deadly signal\n");
		__sanitizer_print_stack_trace();
	}
	dump_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void add_seed(const char *name, uint8_t *data, size_t len)
{
	if (nseeds == cap_seeds) {
		cap_seeds = cap_seeds ? 2 * cap_seeds : 64;
		seeds = realloc(seeds, cap_seeds * sizeof(*seeds));
		if (!seeds) {
			say("fuzz-smoke: out of memory\n");
			exit(1);
		}
	}
	seeds[nseeds].name = strdup(name);
	seeds[nseeds].data = data;
	seeds[nseeds].len = len;
	nseeds++;
}

static int read_file(const char *path, size_t max_len, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	uint8_t *buf = malloc(max_len ? max_len : 1);
	size_t n = buf ? fread(buf, 1, max_len, f) : 0;
	int bad = !buf || ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return -EIO;
	}
	*data = buf;
	*len = n; /* longer files are cut at max_len */
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a seed file, or every regular file in a directory (name order). */
static int load(const char *path, size_t max_len)
{
	struct stat st;
	char msg[640];

	if (stat(path, &st) != 0) {
		snprintf(msg, sizeof(msg), "fuzz-smoke %s: %s: %s\n", target, path,
			 strerror(errno));
		say(msg);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		uint8_t *d;
		size_t n;
		if (read_file(path, max_len, &d, &n) < 0)
			return -1;
		add_seed(path, d, n);
		return 0;
	}
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		if (nn == cap) {
			cap = cap ? 2 * cap : 32;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				break;
			names = grown;
		}
		names[nn++] = strdup(e->d_name);
	}
	closedir(dir);
	qsort(names, nn, sizeof(*names), cmp_names);
	int rc = 0;
	for (size_t i = 0; i < nn; i++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", path, names[i]);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			uint8_t *d;
			size_t n;
			if (read_file(p, max_len, &d, &n) < 0)
				rc = -1;
			else
				add_seed(p, d, n);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* One run: the input in a heap buffer of exactly its size. */
static void run_one(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy) {
		say("fuzz-smoke: out of memory\n");
		exit(1);
	}
	memcpy(copy, data, len);
	cur_data = copy;
	cur_len = len;
	LLVMFuzzerTestOneInput(copy, len);
	cur_data = NULL;
	free(copy);
}

static const uint8_t interesting[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, '\r', '\n', ',',
				      '"',  ':',  ' ',	'0',  '9',  '=',  '%',	'+',  '-'};

static uint8_t some_byte(void)
{
	return next() & 1 ? (uint8_t)next() : interesting[below(sizeof(interesting))];
}

/* Applies one mutation to buf[0..*len) (capacity max_len). */
static void mutate_once(uint8_t *buf, size_t *len, size_t max_len)
{
	size_t n = *len;
	switch (below(8)) {
	case 0: /* flip a bit */
		if (n)
			buf[below(n)] ^= (uint8_t)(1u << below(8));
		break;
	case 1: /* set a byte */
		if (n)
			buf[below(n)] = some_byte();
		break;
	case 2: { /* insert 1..8 bytes, random or one repeated */
		size_t k = 1 + below(8), at = below(n + 1);
		if (k > max_len - n)
			k = max_len - n;
		memmove(buf + at + k, buf + at, n - at);
		uint8_t rep = some_byte();
		int same = next() & 1;
		for (size_t i = 0; i < k; i++)
			buf[at + i] = same ? rep : some_byte();
		*len = n + k;
		break;
	}
	case 3: { /* erase a range */
		if (!n)
			break;
		size_t at = below(n), k = 1 + below(n - at < 16 ? n - at : 16);
		memmove(buf + at, buf + at + k, n - at - k);
		*len = n - k;
		break;
	}
	case 4: /* truncate */
		*len = below(n + 1);
		break;
	case 5: { /* duplicate a range elsewhere (inserted) */
		if (!n)
			break;
		size_t from = below(n), k = 1 + below(n - from), at = below(n + 1);
		if (k > max_len - n)
			k = max_len - n;
		if (!k)
			break;
		uint8_t *tmp = malloc(k);
		if (!tmp)
			break;
		memcpy(tmp, buf + from, k);
		memmove(buf + at + k, buf + at, n - at);
		memcpy(buf + at, tmp, k);
		free(tmp);
		*len = n + k;
		break;
	}
	case 6: { /* splice: our prefix, another seed's suffix */
		const struct input *o = &seeds[below(nseeds)];
		size_t cut = below(n + 1), from = below(o->len + 1), k = o->len - from;
		if (k > max_len - cut)
			k = max_len - cut;
		memcpy(buf + cut, o->data + from, k);
		*len = cut + k;
		break;
	}
	default: /* overwrite with a small integer in ASCII: lengths, bit counts, ids */
		if (n) {
			char num[24];
			static const long vals[] = {0,	  -1,	1,     7,     8,	  16,
						    63,	  64,	127,   128,   255,	  256,
						    2047, 2048, 65535, 65536, 2147483647L};
			int k = snprintf(num, sizeof(num), "%ld", vals[below(17)]);
			size_t at = below(n);
			for (int i = 0; i < k && at + (size_t)i < n; i++)
				buf[at + (size_t)i] = (uint8_t)num[i];
		}
		break;
	}
}

static void usage(void)
{
	say("usage: fuzz_<x> [-n mutations] [-t seconds] [-s seed] [-m max_len] [-o outdir] "
	    "[-v] seed-dir-or-file...\n");
	exit(1);
}

int main(int argc, char **argv)
{
	long max_runs = 20000;
	double max_s = 3.0;
	size_t max_len = 4096;
	int verbose = 0, opt;
	char msg[512];

	const char *slash = strrchr(argv[0], '/');
	target = slash ? slash + 1 : argv[0];
	while ((opt = getopt(argc, argv, "n:t:s:m:o:v")) != -1) {
		switch (opt) {
		case 'n':
			max_runs = strtol(optarg, NULL, 0);
			break;
		case 't':
			max_s = strtod(optarg, NULL);
			break;
		case 's':
			rng_seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			max_len = (size_t)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (max_runs < 0 || max_s < 0 || max_len < 1 || max_len > (1u << 24))
		usage();
	rng = rng_seed ? rng_seed : 1;

	int status = 0;
	for (int i = optind; i < argc; i++)
		if (load(argv[i], max_len) < 0)
			status = 1;
	if (status)
		return 1;
	if (nseeds == 0) {
		snprintf(msg, sizeof(msg), "fuzz-smoke %s: no seeds, mutating an empty input\n",
			 target);
		say(msg);
		add_seed("(empty)", calloc(1, 1), 0);
	}

	/* The target's stdio stderr to /dev/null; fd 2 stays the real stderr for sanitizer
	 * reports and our messages (moving fd 2 away loses ASan's deadly-signal reports). */
	if (!verbose) {
		FILE *null = fopen("/dev/null", "w");
		if (!null) {
			say("fuzz-smoke: cannot open /dev/null\n");
			return 1;
		}
		stderr = null;
	}
	__sanitizer_set_death_callback(dump_crash);
	signal(SIGABRT, on_signal);
	signal(SIGILL, on_signal);

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	double t0 = now_s();
	for (size_t i = 0; i < nseeds; i++) {
		cur_seed_name = seeds[i].name;
		run_one(seeds[i].data, seeds[i].len);
	}

	uint8_t *buf = malloc(max_len);
	size_t len = 0;
	long runs = 0;
	double deadline = t0 + max_s;
	if (!buf)
		return 1;
	for (; runs < max_runs; runs++) {
		if ((runs & 15) == 0 && now_s() > deadline)
			break;
		/* Mostly a fresh seed; now and then keep stacking on the previous input. */
		if (runs == 0 || below(4) != 0) {
			const struct input *s = &seeds[below(nseeds)];
			len = s->len < max_len ? s->len : max_len;
			memcpy(buf, s->data, len);
		}
		for (size_t k = 1 + below(4); k > 0; k--)
			mutate_once(buf, &len, max_len);
		cur_run = runs;
		run_one(buf, len);
	}
	free(buf);
	snprintf(msg, sizeof(msg),
		 "fuzz-smoke %s: %zu seeds + %ld mutations in %.2f s (generator seed 0x%" PRIx64
		 ", max len %zu): ok\n",
		 target, nseeds, runs, now_s() - t0, rng_seed, max_len);
	fputs(msg, stdout);
	fflush(stdout);
	for (size_t i = 0; i < nseeds; i++) {
		free(seeds[i].name);
		free(seeds[i].data);
	}
	free(seeds);
	return 0;
}
