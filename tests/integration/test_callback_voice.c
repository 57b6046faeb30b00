/*
 * Integration: the voice of a call-back. rinkid, tetra-sim and modem-sim run as processes
 * (tests/integration/harness) with rinkid's audio on the paced virtual cards of tools/alsa,
 * as in test_voice_call. Aino (PIN 2468, language fi) rings the gateway: she hears the
 * PIN prompt, types the PIN as tones in her audio only (the in-band detector, no modem
 * report), the radio number by modem reports, hears the hold prompt while the radio
 * rings (tetra-sim answers only when told), and once the officer answers his voice
 * reaches her phone; her hang-up releases the radio call.
 * Run from the repository root (make builds the prompts and the card plugin).
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

#include "store/db.h"
#include "harness.h"
#include "core/log.h"
#include "voice/prompt.h"
#include "store/roster.h"
#include "../../tools/alsa/vcard_rig.h"
#include "vcard_find.h"

#define RATE 8000
#define AINO "+358401234567"
#define VOICE_CONF                                                                                 \
	"audio.radio rinki_radio\naudio.phone rinki_phone\nprompt.dir build/prompts\n"             \
	"prompt.language sv\n"

static struct h_rig rig;
static struct vr_rig *cards;
static struct gw_prompt pin_prompt, hold_prompt;

static int setup(void **state)
{
	(void)state;
	struct vr_opts o;
	vr_opts_default(&o);
	o.manual = VR_PACED; /* rinkid slow for a moment: the cards wait, no period is lost */
	struct gw_db *db;
	char hash[GW_ROSTER_PIN_HASH_MAX];
	bool up = vr_rig_new(&o, &cards) == 0 &&
		  gw_prompt_load("build/prompts", "fi", "cb_pin", RATE, &pin_prompt) == 0 &&
		  gw_prompt_load("build/prompts", "fi", "cb_hold", RATE, &hold_prompt) == 0 &&
		  h_rig_init(&rig) == 0 && h_start_sims(&rig) == 0;
	if (!up || gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db) < 0)
		return -1;
	up = gw_roster_hash_pin("2468", hash) == 0 && gw_db_worker_set_pin(db, "aino", hash) == 0;
	gw_db_close(db);
	return up ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig);
	vr_rig_free(cards);
	gw_prompt_clear(&pin_prompt);
	gw_prompt_clear(&hold_prompt);
	snd_config_update_free_global();
	return h_rinkid_status() == 0 ? 0 : -1;
}

/* keys as DTMF tones (80 ms on, 80 ms off each) in the worker's audio */
static void tones(const char *keys)
{
	static const char pad[] = "123A456B789C*0#D";
	static const double row[] = {697, 770, 852, 941}, col[] = {1209, 1336, 1477, 1633};
	size_t per = RATE / 1000 * 160, on = RATE / 1000 * 80, n = strlen(keys) * per;
	int16_t *buf = calloc(n, sizeof(*buf)), lo[RATE / 10], hi[RATE / 10];
	assert_non_null(buf);
	for (size_t k = 0; keys[k]; k++) {
		int i = (int)(strchr(pad, keys[k]) - pad);
		vr_tone(lo, on, RATE, row[i / 4], 6000);
		vr_tone(hi, on, RATE, col[i % 4], 6000);
		for (size_t j = 0; j < on; j++)
			buf[k * per + j] = (int16_t)(lo[j] + hi[j]);
	}
	assert_true(vr_inject(cards, VR_PHONE, buf, n) > 0);
	free(buf);
}

static void test_callback_voice(void **state)
{
	(void)state;
	size_t mp = 0, rp = 0;
	assert_int_equal(h_start_rinkid(&rig, VOICE_CONF), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "ring %s", AINO), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "call active", 3000), 0);
	/* her own language (fi), not prompt.language (sv) */
	long at = vf_wait_played(&rig, cards, VR_PHONE, 0, 0);
	vf_wait_played(&rig, cards, VR_PHONE, at + (long)pin_prompt.n + RATE / 2, 15000);
	assert_true(vf_find_on(cards, RATE, VR_PHONE, "PIN prompt (fi)", pin_prompt.pcm,
			       pin_prompt.n) >= 0);
	/* the PIN in-band only */
	tones("2468#");
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_event", "line=callback",
					     "kind=pin_ok", "detail=aino", NULL),
			 0);
	assert_int_equal(h_log_count(&rig, "(modem)"), 0);
	assert_true(h_log_count(&rig, "key # (in-band)") >= 1);
	/* the radio number by the modem's reports */
	vr_played_reset(cards, VR_PHONE);
	for (const char *k = "2269001#"; *k; k++) {
		assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf %c", *k), 0);
		h_pump(&rig, 120);
	}
	assert_int_equal(h_wait_event(&rig.radio, &rp, "dial ", 3000), 0);
	const char *ev = strstr(rig.radio.events, "event dial ");
	assert_non_null(ev);
	int cci = atoi(strstr(ev, "cci=") + 4);
	/* the hold prompt while the radio rings; then the officer answers */
	at = vf_wait_played(&rig, cards, VR_PHONE, 0, 0);
	vf_wait_played(&rig, cards, VR_PHONE, at + (long)hold_prompt.n + RATE / 2, 15000);
	assert_true(vf_find_on(cards, RATE, VR_PHONE, "hold prompt (fi)", hold_prompt.pcm,
			       hold_prompt.n) >= 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "answer-out %d", cci), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_event", "line=callback",
					     "kind=connected", "detail~2269001 cci ", NULL),
			 0);
	/* bridged: the officer's voice reaches her */
	int16_t noise[RATE];
	vr_noise(noise, RATE, 91, 12000);
	h_pump(&rig, 200);
	vr_played_reset(cards, VR_PHONE);
	assert_true(vr_inject(cards, VR_RADIO, noise, RATE) > 0);
	vf_wait_played(&rig, cards, VR_PHONE, RATE * 2, 5000);
	assert_true(vf_find_on(cards, RATE, VR_PHONE, "officer's voice", noise, RATE) >= 0);
	/* she hangs up: the radio call is released */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "hangup"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATH", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "line=callback",
					     "outcome=connected", NULL),
			 0);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_callback_voice, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
