/*
 * rinkictl_probe: "rinkictl probe" finds the devices of a new board. It lists the serial
 * ports under /dev/serial/by-id (and the paths given), asks each a few read-only
 * questions with a short time-out, and tells a TETRA terminal's PEI (AT+GMI?, AT+GMM?,
 * AT+CNUMF?) from a cellular modem (ATI, AT+CGMI, AT+CGMM) and the vendor of each; it
 * lists the sound cards from /proc/asound/cards (no ALSA library: rinkictl links none)
 * and prints the rinki.conf lines to use. A port another process has open (rinkid, say)
 * is not touched (pseudo-terminals excepted: a simulator holds its own open). Nothing is sent but
 * those queries; every answer line is bounded and only printable ASCII of it is shown. Exit status:
 * 0 a PEI and a modem were found, 1 not both (or a PATH cannot be opened), 2 usage.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE   2
#define LINE_MAX_LEN 128 /* longer answer lines are cut */
#define LINES_MAX    8	 /* answer lines kept per command */
#define PORTS_MAX    32
#define CARDS_MAX    32

int ctl_probe_main(const char *dbpath, int argc, char **argv);

struct opts {
	int timeout_ms;
	int baud;
	const char *by_id;
	const char *cards;
};

enum kind { K_NONE, K_SILENT, K_AT, K_PEI, K_MODEM, K_BUSY, K_ERROR };

struct port {
	char path[PATH_MAX];
	enum kind kind;
	char maker[LINE_MAX_LEN], model[LINE_MAX_LEN], identity[LINE_MAX_LEN];
	const char *vendor; /* radio.model or modem.vendor */
	char why[160];	    /* K_BUSY / K_ERROR */
};

enum result {
	ANS_OK,
	ANS_ERROR,   /* ERROR, +CME ERROR or +CMS ERROR */
	ANS_TIMEOUT, /* no final line within the time-out */
	ANS_FAIL,    /* the port failed: write error, hang-up (errno says why) */
};

static int usage(const char *what)
{
	fprintf(stderr,
		"rinkictl: %s\n"
		"usage: rinkictl probe [--timeout MS] [--baud N] [--by-id DIR] [--cards FILE] "
		"[PATH...]\n",
		what);
	return EXIT_USAGE;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static speed_t baud_const(int baud)
{
	static const struct {
		int baud;
		speed_t c;
	} t[] = {{9600, B9600},	    {19200, B19200},   {38400, B38400},	  {57600, B57600},
		 {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].baud == baud)
			return t[i].c;
	return 0;
}

/* Keep printable ASCII of s in place (a device's answer reaches a terminal). */
static void printable(char *s)
{
	char *o = s;
	for (; *s; s++)
		if (*s >= 0x20 && *s < 0x7f)
			*o++ = *s;
	*o = '\0';
}

/*
 * Send cmd + CR and collect the answer lines up to OK / ERROR / +CME ERROR / +CMS ERROR
 * or timeout_ms; the echo of cmd and empty lines are skipped.
 */
static enum result ask(int fd, const char *cmd, int timeout_ms, char lines[][LINE_MAX_LEN],
		       int *nlines)
{
	char buf[LINE_MAX_LEN];
	size_t len = 0;
	*nlines = 0;
	tcflush(fd, TCIFLUSH);
	char out[64];
	int n = snprintf(out, sizeof(out), "%s\r", cmd);
	ssize_t w = write(fd, out, (size_t)n);
	if (w != n) {
		if (w >= 0 || errno == EAGAIN)
			errno = EIO; /* a few bytes do not fit: the port is stuck */
		return ANS_FAIL;
	}
	int64_t end = now_ms() + timeout_ms;
	for (;;) {
		int64_t left = end - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return ANS_TIMEOUT;
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO; /* hang-up */
			return ANS_FAIL;
		}
		if (c != '\r' && c != '\n') {
			if (len < sizeof(buf) - 1)
				buf[len++] = c; /* the rest of a longer line is dropped */
			continue;
		}
		buf[len] = '\0';
		len = 0;
		printable(buf);
		if (!buf[0] || strcmp(buf, cmd) == 0)
			continue;
		if (strcmp(buf, "OK") == 0)
			return ANS_OK;
		if (strcmp(buf, "ERROR") == 0 || strncmp(buf, "+CME ERROR", 10) == 0 ||
		    strncmp(buf, "+CMS ERROR", 10) == 0)
			return ANS_ERROR;
		if (*nlines < LINES_MAX)
			snprintf(lines[(*nlines)++], LINE_MAX_LEN, "%s", buf);
	}
}

/* The text after "prefix" in the first line that has it, else NULL. */
static const char *after(char lines[][LINE_MAX_LEN], int n, const char *prefix)
{
	for (int i = 0; i < n; i++)
		if (strncmp(lines[i], prefix, strlen(prefix)) == 0) {
			const char *p = lines[i] + strlen(prefix);
			while (*p == ' ')
				p++;
			return p;
		}
	return NULL;
}

static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (; *s; s++)
		if (strncasecmp(s, word, n) == 0)
			return true;
	return false;
}

static const char *radio_model(const char *maker)
{
	if (has_word(maker, "motorola"))
		return "motorola";
	if (has_word(maker, "sepura"))
		return "sepura";
	if (has_word(maker, "airbus") || has_word(maker, "cassidian") || has_word(maker, "eads"))
		return "airbus";
	return "generic";
}

static const char *modem_vendor(const char *maker)
{
	if (has_word(maker, "huawei"))
		return "huawei";
	if (has_word(maker, "quectel"))
		return "quectel";
	if (has_word(maker, "simcom"))
		return "simcom";
	return "generic";
}

/* A process (other than us) with path's device open: its pid, else 0. */
static long holder(const char *real)
{
	DIR *d = opendir("/proc");
	long found = 0;
	if (!d)
		return 0;
	for (struct dirent *e; !found && (e = readdir(d));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		char fds[64];
		snprintf(fds, sizeof(fds), "/proc/%ld/fd", pid);
		DIR *fdd = opendir(fds);
		if (!fdd)
			continue; /* gone, or not ours to see */
		for (struct dirent *f; (f = readdir(fdd));) {
			char link[64 + 256], target[PATH_MAX];
			snprintf(link, sizeof(link), "%s/%s", fds, f->d_name);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (strcmp(target, real) == 0) {
				found = pid;
				break;
			}
		}
		closedir(fdd);
	}
	closedir(d);
	return found;
}

static void probe(struct port *p, const struct opts *o)
{
	char real[PATH_MAX], lines[LINES_MAX][LINE_MAX_LEN];
	int n;
	if (!realpath(p->path, real)) {
		p->kind = K_ERROR;
		snprintf(p->why, sizeof(p->why), "%s", strerror(errno));
		return;
	}
	/* a simulator's pseudo-terminal is held open by the simulator itself: not checked */
	long pid = strncmp(real, "/dev/pts/", 9) == 0 ? 0 : holder(real);
	if (pid) {
		p->kind = K_BUSY;
		snprintf(p->why, sizeof(p->why), "open in process %ld (stop rinkid to probe it)",
			 pid);
		return;
	}
	/* a serial port's by-id name is a symlink by design: followed (no O_NOFOLLOW) */
	int fd = open(p->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		p->kind = K_ERROR;
		snprintf(p->why, sizeof(p->why), "%s", strerror(errno));
		return;
	}
	struct termios t;
	if (tcgetattr(fd, &t) < 0) {
		p->kind = K_ERROR;
		snprintf(p->why, sizeof(p->why), "not a serial port: %s", strerror(errno));
		close(fd);
		return;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, baud_const(o->baud));
	cfsetospeed(&t, baud_const(o->baud));
	tcsetattr(fd, TCSANOW, &t);

	/* twice: the first AT may only clear bytes left in the device */
	enum result r = ask(fd, "AT", o->timeout_ms, lines, &n);
	if (r == ANS_ERROR || r == ANS_TIMEOUT)
		r = ask(fd, "AT", o->timeout_ms, lines, &n);
	if (r == ANS_FAIL) {
		p->kind = K_ERROR;
		snprintf(p->why, sizeof(p->why), "%s", strerror(errno));
	} else if (r != ANS_OK) {
		p->kind = r == ANS_TIMEOUT ? K_SILENT : K_AT;
	}
	if (r != ANS_OK) {
		close(fd);
		return;
	}
	p->kind = K_AT;
	const char *v;
	if (ask(fd, "AT+GMI?", o->timeout_ms, lines, &n) == ANS_OK &&
	    (v = after(lines, n, "+GMI:"))) {
		p->kind = K_PEI;
		snprintf(p->maker, sizeof(p->maker), "%s", v);
		p->vendor = radio_model(p->maker);
		if (ask(fd, "AT+GMM?", o->timeout_ms, lines, &n) == ANS_OK &&
		    (v = after(lines, n, "+GMM:")))
			snprintf(p->model, sizeof(p->model), "%s", v);
		if (ask(fd, "AT+CNUMF?", o->timeout_ms, lines, &n) == ANS_OK &&
		    (v = after(lines, n, "+CNUMF:"))) {
			const char *comma = strchr(v, ',');
			snprintf(p->identity, sizeof(p->identity), "%s", comma ? comma + 1 : v);
		}
		close(fd);
		return;
	}
	if (ask(fd, "AT+CGMI", o->timeout_ms, lines, &n) == ANS_OK && n > 0) {
		p->kind = K_MODEM;
		v = after(lines, n, "+CGMI:");
		snprintf(p->maker, sizeof(p->maker), "%s", v ? v : lines[0]);
		p->vendor = modem_vendor(p->maker);
		if (ask(fd, "AT+CGMM", o->timeout_ms, lines, &n) == ANS_OK && n > 0) {
			v = after(lines, n, "+CGMM:");
			snprintf(p->model, sizeof(p->model), "%s", v ? v : lines[0]);
		}
		if (ask(fd, "ATI", o->timeout_ms, lines, &n) == ANS_OK && n > 0 &&
		    !strcmp(p->vendor, "generic"))
			p->vendor = modem_vendor(lines[0]); /* some name the maker only here */
	}
	close(fd);
}

/* radio.issi from the terminal's identity: a 17-digit TSI's SSI (last 8, no leading 0s). */
static void issi_of(const char *id, char *out, size_t len)
{
	size_t n = strlen(id);
	const char *p = id;
	if (n == 17 && strspn(id, "0123456789") == 17)
		p = id + 9;
	while (*p == '0' && p[1])
		p++;
	snprintf(out, len, "%s", p);
}

struct card {
	int index;
	char id[32], name[96];
};

/* Parse /proc/asound/cards: " N [ID   ]: DRIVER - NAME" lines (the next line is detail). */
static int read_cards(const char *path, struct card *cards, int max)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[256];
	int n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		int idx, used = 0;
		char id[32];
		if (sscanf(line, " %d [%31[^] ] ]:%n", &idx, id, &used) < 2 || !used)
			continue;
		const char *name = strstr(line + used, " - ");
		name = name ? name + 3 : line + used;
		cards[n].index = idx;
		snprintf(cards[n].id, sizeof(cards[n].id), "%s", id);
		snprintf(cards[n].name, sizeof(cards[n].name), "%s", name);
		cards[n].name[strcspn(cards[n].name, "\n")] = '\0';
		printable(cards[n].id);
		printable(cards[n].name);
		n++;
	}
	fclose(f);
	return n;
}

static int add_port(struct port *ports, int n, const char *path)
{
	if (n == PORTS_MAX)
		return n;
	memset(&ports[n], 0, sizeof(ports[n]));
	snprintf(ports[n].path, sizeof(ports[n].path), "%s", path);
	return n + 1;
}

static int cmp_port(const void *a, const void *b)
{
	return strcmp(((const struct port *)a)->path, ((const struct port *)b)->path);
}

int ctl_probe_main(const char *dbpath, int argc, char **argv)
{
	static struct port ports[PORTS_MAX];
	struct opts o = {.timeout_ms = 500,
			 .baud = 115200,
			 .by_id = "/dev/serial/by-id",
			 .cards = "/proc/asound/cards"};
	int nports = 0, given = 0, rc = 0;
	(void)dbpath;
	for (int i = 0; i < argc; i++) { /* argv: what follows "probe" */
		char *end;
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 50 || v > 5000)
				return usage("probe: --timeout takes 50..5000 (ms)");
			o.timeout_ms = (int)v;
		} else if (strcmp(argv[i], "--baud") == 0 && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);
			if (*end || v > INT_MAX || !baud_const((int)v))
				return usage("probe: --baud takes 9600, 19200, ... 921600");
			o.baud = (int)v;
		} else if (strcmp(argv[i], "--by-id") == 0 && i + 1 < argc) {
			o.by_id = argv[++i];
		} else if (strcmp(argv[i], "--cards") == 0 && i + 1 < argc) {
			o.cards = argv[++i];
		} else if (argv[i][0] == '-') {
			return usage("probe: unknown option");
		} else {
			nports = add_port(ports, nports, argv[i]);
			given++;
		}
	}
	DIR *d = opendir(o.by_id);
	if (d) {
		int first = nports;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%s/%s", o.by_id, e->d_name);
			nports = add_port(ports, nports, path);
		}
		closedir(d);
		qsort(ports + first, (size_t)(nports - first), sizeof(ports[0]), cmp_port);
	} else {
		printf("%s: %s (no USB serial device plugged in?)\n", o.by_id, strerror(errno));
	}

	const struct port *pei = NULL, *modem = NULL;
	printf("serial ports (%d ms per question at %d baud):\n", o.timeout_ms, o.baud);
	for (int i = 0; i < nports; i++) {
		struct port *p = &ports[i];
		probe(p, &o);
		printf("  %s: ", p->path);
		switch (p->kind) {
		case K_PEI:
			printf("TETRA PEI, maker %s, model %s, identity %s (radio.model %s)\n",
			       p->maker, p->model[0] ? p->model : "?",
			       p->identity[0] ? p->identity : "?", p->vendor);
			if (!pei)
				pei = p;
			break;
		case K_MODEM:
			printf("modem, %s %s (modem.vendor %s)\n", p->maker, p->model, p->vendor);
			if (!modem)
				modem = p;
			break;
		case K_AT:
			printf("answers AT, but neither as a TETRA PEI nor as a 3GPP modem\n");
			break;
		case K_SILENT:
			printf("no answer (not an AT port, another baud rate, or switched off)\n");
			break;
		case K_BUSY:
			printf("skipped: %s\n", p->why);
			break;
		case K_ERROR:
		case K_NONE:
			printf("cannot use: %s\n", p->why);
			if (i < given)
				rc = 1;
			break;
		}
	}

	struct card cards[CARDS_MAX];
	int ncards = read_cards(o.cards, cards, CARDS_MAX);
	printf("sound cards (%s):\n", o.cards);
	if (ncards < 0)
		printf("  none: %s\n", strerror(-ncards));
	else if (ncards == 0)
		printf("  none\n");
	for (int i = 0; i < ncards; i++)
		printf("  %d %s: %s\n", cards[i].index, cards[i].id, cards[i].name);

	printf("\n# rinki.conf lines from this probe\n");
	if (pei) {
		char issi[LINE_MAX_LEN];
		printf("radio.port %s\nradio.baud %d\nradio.model %s\n", pei->path, o.baud,
		       pei->vendor);
		issi_of(pei->identity, issi, sizeof(issi));
		if (issi[0] && strspn(issi, "0123456789") == strlen(issi))
			printf("radio.issi %s\n", issi);
	} else {
		printf("# no TETRA PEI found: radio.port unknown\n");
	}
	if (modem)
		printf("modem.port %s\nmodem.baud %d\nmodem.vendor %s\n", modem->path, o.baud,
		       modem->vendor);
	else
		printf("# no modem found: modem.port unknown\n");
	if (ncards >= 2)
		printf("# which card carries the radio's audio and which the modem's, the probe "
		       "cannot tell:\naudio.radio plughw:CARD=%s,DEV=0\naudio.phone "
		       "plughw:CARD=%s,DEV=0\n",
		       cards[0].id, cards[1].id);
	else
		printf(
		    "# fewer than two sound cards: no voice bridge (audio.radio, audio.phone)\n");
	return rc ? rc : pei && modem ? 0 : 1;
}
