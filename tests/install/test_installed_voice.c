/*
 * The installed rinkid speaks the installed prompts. Run by tests/install/
 * test_install_prefix.sh (make install-check, part of make test) after `make install
 * PREFIX=/usr DESTDIR=<dir>`, with RINKI_BIN a directory of links to the installed rinkid,
 * rinkictl, tetra-sim and modem-sim and RINKI_DESTDIR that <dir>.
 *
 * rinkid gets no prompt.dir: it must find the prompts at its built-in default, which for
 * PREFIX=/usr is /usr/share/rinki/prompts. It runs in a mount namespace of its own where
 * <dir>/usr/share lies over /usr/share (unshare, overlayfs; the host's /usr/share is not
 * touched), so it sees the installed files where a board would have them. Its voice
 * devices are the virtual cards of tools/alsa: the officer must hear the installed
 * hold.wav and the worker the installed announce_from.wav and keys.wav, sample for sample.
 * A binary that looks anywhere else (another PREFIX baked in) finds no prompts and the
 * test fails. Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alsa/asoundlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../../tools/alsa/vcard_rig.h"
#include "vcard_find.h"

#define RATE	   8000
#define AINO	   "+358401234567"
#define PROMPT_DIR "/usr/share/rinki/prompts"

/* rinkid's argv is appended: sh puts the installed /usr/share over the real one, then
   execs it in place (the harness's pid stays rinkid's) */
static const char *const overlay_wrap[] = {
    "/usr/bin/unshare",
    "--mount",
    "--propagation",
    "private",
    "/bin/sh",
    "-c",
    "mount -t overlay rinki-installed -o \"lowerdir=$RINKI_DESTDIR/usr/share:/usr/share\" "
    "/usr/share && exec \"$@\"",
    "sh",
    NULL};

struct wav {
	int16_t *pcm;
	size_t n;
};

static struct h_rig rig;
static struct vr_rig *cards;
static struct wav hold, from, keys;

/* An installed prompt file, fi: <RINKI_DESTDIR>/usr/share/rinki/prompts/fi/<name>.wav */
static int load_installed(const char *name, struct wav *w)
{
	const char *destdir = getenv("RINKI_DESTDIR");
	char path[512];
	unsigned rate = 0;
	if (!destdir || !*destdir) {
		fprintf(stderr, "RINKI_DESTDIR is not set\n");
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s%s/fi/%s.wav", destdir, PROMPT_DIR, name) >=
	    (int)sizeof(path))
		return -1;
	if (vr_wav_load(path, &w->pcm, &w->n, &rate) < 0)
		return -1;
	if (rate != RATE || w->n < RATE / 2) {
		fprintf(stderr, "%s: %u Hz, %zu samples\n", path, rate, w->n);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	struct vr_opts o;
	vr_opts_default(&o);
	o.manual = VR_PACED; /* rinkid slow for a moment: the cards wait, no period is lost */
	/* the cards first: the rig exports ALSA_CONFIG_PATH, which rinkid inherits */
	if (vr_rig_new(&o, &cards) < 0 || load_installed("hold", &hold) < 0 ||
	    load_installed("announce_from", &from) < 0 || load_installed("keys", &keys) < 0 ||
	    h_rig_init(&rig) < 0 || h_start_sims(&rig) < 0)
		return -1;
	rig.builtin_prompt_dir = 1;
	rig.wrap = overlay_wrap;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig); /* rinkid stops before its cards go */
	vr_rig_free(cards);
	free(hold.pcm);
	free(from.pcm);
	free(keys.pcm);
	snd_config_update_free_global();
	return h_rinkid_status() == 0 ? 0 : -1;
}

static void test_worker_hears_installed_prompts(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s answer 2", AINO), 0);
	assert_int_equal(h_start_rinkid(&rig, "audio.radio rinki_radio\naudio.phone rinki_phone\n"
					      "prompt.language fi\ncall.ring_time 5\n"
					      "call.rounds 1\n"),
			 0);
	/* the prompts came from the built-in default, not from a path in the config */
	assert_int_equal(h_wait_log(&rig, "prompts: " PROMPT_DIR "/fi at 8000 Hz", 1000), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "Aino Virtanen answered", 5000), 0);
	/* announce_from, the organisation's name (spoken, at most a few seconds), keys */
	long answered_at = vf_wait_played(&rig, cards, VR_PHONE, 0, 0);
	vf_wait_played(&rig, cards, VR_PHONE, answered_at + (long)(from.n + keys.n) + 6 * RATE,
		       20000);
	assert_true(vf_find_on(cards, RATE, VR_PHONE, "announce_from.wav", from.pcm, from.n) >= 0);
	assert_true(vf_find_on(cards, RATE, VR_PHONE, "keys.wav", keys.pcm, keys.n) >= 0);
	assert_true(vf_find_on(cards, RATE, VR_RADIO, "hold.wav", hold.pcm, hold.n) >= 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_log(&rig, "incident closed", 3000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_worker_hears_installed_prompts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
