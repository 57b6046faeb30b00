/*
 * Integration: rinkictl probe against tetra-sim, modem-sim (--dialect quectel) and a
 * pseudo-terminal nobody answers, found through a by-id directory of symlinks as udev
 * makes them, plus a path given on the command line; the sound cards from a
 * /proc/asound/cards file. Checked: which port is the PEI (maker, identity, radio.model),
 * which the modem (vendor), that the silent one is reported silent, the cards, the
 * rinki.conf lines printed, and the exit status (0 both found, 1 not both).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static struct h_rig rig;
static int silent = -1; /* master of the pty nobody answers */
static char silent_path[64], by_id[200], cards[200], outpath[200], text[16384];

static int probe(const char *first, ...)
{
	char bin[256];
	char *argv[16];
	int n = 0;
	va_list ap;
	snprintf(bin, sizeof(bin), "%s/rinkictl", h_bin());
	argv[n++] = bin;
	argv[n++] = "probe";
	argv[n++] = "--timeout";
	argv[n++] = "2000"; /* the simulators answer at once; this only bounds the silent one */
	va_start(ap, first);
	for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	unlink(outpath);
	int rc = h_run(argv, outpath);
	FILE *f = fopen(outpath, "r");
	size_t got = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	text[got] = '\0';
	if (f)
		fclose(f);
	return rc;
}

static void must(const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("probe output lacks \"%s\":\n%s", needle, text);
}

static void test_probe_finds_both(void **state)
{
	(void)state;
	char pei[300], modem[300], line[400];
	snprintf(pei, sizeof(pei), "%s/usb-Motorola_Solutions_MTM5400-if00", by_id);
	snprintf(modem, sizeof(modem), "%s/usb-Quectel_EC25-if02", by_id);
	assert_int_equal(probe("--by-id", by_id, "--cards", cards, silent_path, NULL), 0);
	snprintf(line, sizeof(line),
		 "  %s: TETRA PEI, maker RINKI-SIM, model 1,TETRA-SIM,1.0, "
		 "identity ",
		 pei);
	must(line);
	must("(radio.model generic)");
	snprintf(line, sizeof(line), "  %s: modem, Quectel EC25 (modem.vendor quectel)\n", modem);
	must(line);
	snprintf(line, sizeof(line), "  %s: no answer", silent_path);
	must(line);
	must("  0 Radio: USB Audio CODEC\n  1 Modem: EC25 Audio\n");
	snprintf(line, sizeof(line), "\nradio.port %s\nradio.baud 115200\nradio.model generic\n",
		 pei);
	must(line);
	must("\nradio.issi 1001\n"); /* tetra-sim's ISSI, from its TSI */
	snprintf(line, sizeof(line), "\nmodem.port %s\nmodem.baud 115200\nmodem.vendor quectel\n",
		 modem);
	must(line);
	must("\naudio.radio plughw:CARD=Radio,DEV=0\naudio.phone plughw:CARD=Modem,DEV=0\n");
}

static void test_probe_silent_only(void **state)
{
	(void)state;
	char none[300];
	snprintf(none, sizeof(none), "%s/none", rig.dir);
	assert_int_equal(probe("--by-id", none, "--cards", none, silent_path, NULL), 1);
	must("no answer");
	must("# no TETRA PEI found");
	must("# no modem found");
	must("  none: No such file or directory");
	/* a path that is not there: reported, exit 1 */
	assert_int_equal(probe("--by-id", none, none, NULL), 1);
	must(": cannot use: No such file or directory");
	assert_int_equal(probe("--timeout", "7", NULL), 2);
}

static int setup(void **state)
{
	(void)state;
	char link[300];
	if (h_rig_init(&rig) < 0)
		return -1;
	rig.modem_dialect = "quectel";
	if (h_start_sims(&rig) < 0)
		return -1;
	silent = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (silent < 0 || grantpt(silent) < 0 || unlockpt(silent) < 0 || !ptsname(silent))
		return -1;
	snprintf(silent_path, sizeof(silent_path), "%s", ptsname(silent));
	snprintf(by_id, sizeof(by_id), "%s/by-id", rig.dir);
	snprintf(cards, sizeof(cards), "%s/cards", rig.dir);
	snprintf(outpath, sizeof(outpath), "%s/probe.out", rig.dir);
	if (mkdir(by_id, 0700) < 0)
		return -1;
	snprintf(link, sizeof(link), "%s/usb-Motorola_Solutions_MTM5400-if00", by_id);
	if (symlink(rig.radio.pty, link) < 0)
		return -1;
	snprintf(link, sizeof(link), "%s/usb-Quectel_EC25-if02", by_id);
	if (symlink(rig.modem.pty, link) < 0)
		return -1;
	FILE *f = fopen(cards, "w");
	if (!f)
		return -1;
	fputs(" 0 [Radio          ]: USB-Audio - USB Audio CODEC\n"
	      "                      Burr-Brown from TI USB Audio CODEC at usb-0000:01:00.0-1\n"
	      " 1 [Modem          ]: USB-Audio - EC25 Audio\n"
	      "                      Quectel EC25 Audio at usb-0000:01:00.0-2, high speed\n",
	      f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (silent >= 0)
		close(silent);
	h_rig_fini(&rig);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_finds_both),
	    cmocka_unit_test(test_probe_silent_only),
	};
	return cmocka_run_group_tests_name("integration: rinkictl probe", tests, setup, teardown);
}
