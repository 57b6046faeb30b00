/*
 * Integration: the voice of a whole authority call. rinkid, tetra-sim and modem-sim
 * run as processes (tests/integration/harness), and rinkid's audio.radio/audio.phone
 * are the virtual cards of tools/alsa, paced (VR_PACED: on a loaded machine they wait for
 * rinkid rather than lose periods) and at twice real time at most (speed 2: rinkid's
 * audio follows the cards' clock, so the prompts take half the time; its timers that
 * follow a prompt, such as the goodbye's release, count the prompt's length in real
 * time and so only ever wait longer). The rig exports ALSA_CONFIG_PATH, which rinkid
 * inherits. What the cards play is compared with what the test builds itself from the
 * same prompt files and the same synthesizer:
 *  - the officer hears the hold message while Aino is paged; Aino hears the
 *    announcement with "Poliisi, Mikkeli" spoken in it; she presses 4 as a tone in
 *    her audio only (the modem reports nothing) and the call is bridged;
 *  - nobody answers: the officer hears "nobody reached" before rinkid releases the
 *    radio call;
 *  - a second officer who calls while the first one hears "nobody reached" (the first
 *    having hung up, or still on the line) gets an incident of his own, which the first
 *    one's release never cuts; the first one's call, still up, goes with or after the
 *    second one's (also when the second officer hangs up during his own goodbye).
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

#include "harness.h"
#include "core/log.h"
#include "core/loop.h"
#include "voice/prompt.h"
#include "voice/speak.h"
#include "../../tools/alsa/vcard_rig.h"
#include "vcard_find.h"

#define RATE  8000
#define AINO  "+358401234567"
#define MIKKO "+358401234568"
#define VOICE_CONF                                                                                 \
	"audio.radio rinki_radio\naudio.phone rinki_phone\nprompt.dir build/prompts\n"             \
	"prompt.language fi\ncall.ring_time 5\ncall.rounds 1\n"

static struct h_rig rig;
static struct vr_rig *cards;
static struct gw_prompts *prompts;

static int setup(void **state)
{
	(void)state;
	struct vr_opts o;
	vr_opts_default(&o);
	o.manual = VR_PACED; /* rinkid slow for a moment: the cards wait, no period is lost */
	o.speed = 2;	     /* two samples of audio for each ms of the cards' clock */
	/* the cards first: the rig exports ALSA_CONFIG_PATH, which rinkid inherits */
	bool up = vr_rig_new(&o, &cards) == 0 &&
		  gw_prompts_load("build/prompts", "fi", RATE, &prompts) == 0 &&
		  h_rig_init(&rig) == 0 && h_start_sims(&rig) == 0;
	return up ? 0 : -1;
}

/* What a test makes for itself, freed here so a failed assertion leaks nothing (the leak
   report would bury the failure). */
static struct gw_loop *t_loop;
static struct gw_speak *t_sp;
static struct gw_prompts *t_en;

static int teardown(void **state)
{
	(void)state;
	gw_speak_free(t_sp);
	gw_loop_free(t_loop);
	gw_prompts_free(t_en);
	t_sp = NULL;
	t_loop = NULL;
	t_en = NULL;
	h_rig_fini(&rig); /* rinkid stops before its cards go */
	vr_rig_free(cards);
	gw_prompts_free(prompts);
	snd_config_update_free_global();
	return h_rinkid_status() == 0 ? 0 : -1;
}

static long wait_played(enum vr_side side, long want, int timeout_ms)
{
	return vf_wait_played(&rig, cards, side, want, timeout_ms);
}
static long find_on(enum vr_side side, const char *what, const int16_t *pcm, size_t n)
{
	return vf_find_on(cards, RATE, side, what, pcm, n);
}

/* The key 4 (770 + 1209 Hz), 80 ms, then 80 ms of silence. */
static void press_4(void)
{
	int16_t lo[RATE / 10], hi[RATE / 10], key[RATE / 5] = {0};
	size_t on = RATE * 80 / 1000;
	vr_tone(lo, on, RATE, 770, 6000);
	vr_tone(hi, on, RATE, 1209, 6000);
	for (size_t i = 0; i < on; i++)
		key[i] = (int16_t)(lo[i] + hi[i]);
	assert_true(vr_inject(cards, VR_PHONE, key, RATE / 5) > 0);
}

static void test_announced_and_accepted_in_band(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	/* what Aino should hear: the announcement with the organisation, made like rinkid */
	const int16_t *name, *ann;
	size_t nname, nann;
	t_loop = gw_loop_new();
	assert_non_null(t_loop);
	assert_int_equal(gw_speak_new(t_loop, NULL, RATE, &t_sp), 0);
	assert_int_equal(gw_speak_start(t_sp, "fi", "Poliisi, Mikkeli"), 0);
	assert_int_equal(gw_speak_wait(t_sp, H_WAIT_MIN_MS), 0);
	assert_int_equal(gw_speak_get(t_sp, "fi", "Poliisi, Mikkeli", &name, &nname), 0);
	assert_int_equal(gw_prompts_announcement(prompts, name, nname, &ann, &nann), 0);
	const struct gw_prompt *hold = gw_prompts_get(prompts, GW_PROMPT_HOLD);

	/* Aino's phone rings until she answers (when the test says: not after a set time, which
	 * a slow speech synthesis could outlast), then she waits; no DTMF from the modem */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s noanswer", AINO), 0);
	assert_int_equal(h_start_rinkid(&rig, "audio.radio rinki_radio\naudio.phone rinki_phone\n"
					      "prompt.dir build/prompts\nprompt.language fi\n"
					      "call.ring_time 60\ncall.rounds 1\n"),
			 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	/* the name is made while her phone rings */
	assert_int_equal(h_wait_log(&rig, "spoke 'Poliisi, Mikkeli'", 10000), 0);
	assert_int_equal(h_ev_count(&rig, "incident_event", "kind=phone_answered", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "answer-out"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=phone_answered",
					     "detail~aino ", NULL),
			 0);
	/* the announcement plays out in full (Aino listens to all of it) */
	long answered_at = wait_played(VR_PHONE, 0, 0);
	wait_played(VR_PHONE, answered_at + (long)nann + RATE, 20000);
	assert_true(find_on(VR_RADIO, "hold message", hold->pcm, hold->n) >= 0);
	assert_true(find_on(VR_PHONE, "announcement with the name", ann, nann) >= 0);
	/* she presses 4: heard in-band only */
	press_4();
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "key", "key=4", "source=in-band", NULL),
			 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "incident_event", "kind=bridged", "detail=aino", NULL),
	    0);
	assert_int_equal(h_ev_count(&rig, "key", "source=modem", NULL), 0);
	/* bridged: the officer's voice reaches Aino */
	int16_t noise[RATE];
	vr_noise(noise, RATE, 77, 12000);
	vr_played_reset(cards, VR_PHONE);
	assert_true(vr_inject(cards, VR_RADIO, noise, RATE) > 0);
	wait_played(VR_PHONE, RATE * 2, 5000);
	assert_true(find_on(VR_PHONE, "officer's voice", noise, RATE) >= 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=completed", NULL),
			 0);
}

/*
 * The worker hears the prompts in her roster language (Aino: fi, the roster default) even
 * when prompt.language, the officer's, is English: the hold message comes in English, the
 * announcement in Finnish with the name spoken in Finnish.
 */
static void test_worker_hears_own_language(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	const int16_t *name, *ann;
	size_t nname, nann;
	assert_int_equal(gw_prompts_load("build/prompts", "en", RATE, &t_en), 0);
	t_loop = gw_loop_new();
	assert_non_null(t_loop);
	assert_int_equal(gw_speak_new(t_loop, NULL, RATE, &t_sp), 0);
	assert_int_equal(gw_speak_start(t_sp, "fi", "Poliisi, Mikkeli"), 0);
	assert_int_equal(gw_speak_wait(t_sp, H_WAIT_MIN_MS), 0);
	assert_int_equal(gw_speak_get(t_sp, "fi", "Poliisi, Mikkeli", &name, &nname), 0);
	assert_int_equal(gw_prompts_announcement(prompts, name, nname, &ann, &nann), 0);
	const struct gw_prompt *hold = gw_prompts_get(t_en, GW_PROMPT_HOLD);

	/* she answers once the name is made (her phone rings until then) */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s noanswer", AINO), 0);
	assert_int_equal(h_start_rinkid(&rig, "audio.radio rinki_radio\naudio.phone rinki_phone\n"
					      "prompt.dir build/prompts\nprompt.language en\n"
					      "call.ring_time 60\ncall.rounds 1\n"),
			 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(h_wait_log(&rig, "spoke 'Poliisi, Mikkeli'", 10000), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "answer-out"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=phone_answered",
					     "detail~aino ", NULL),
			 0);
	long answered_at = wait_played(VR_PHONE, 0, 0);
	wait_played(VR_PHONE, answered_at + (long)nann + RATE, 20000);
	assert_true(find_on(VR_RADIO, "hold message (en)", hold->pcm, hold->n) >= 0);
	assert_true(find_on(VR_PHONE, "announcement (fi, the worker's)", ann, nann) >= 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 3000, "incident_end", NULL), 0);
}

static void test_nobody_reached_is_spoken(void **state)
{
	(void)state;
	size_t rp = 0, mp = 0;
	const struct gw_prompt *nobody = gw_prompts_get(prompts, GW_PROMPT_NOBODY);
	/* every worker's line is busy: the chain ends at once (nobody rings out a ring time) */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default busy"), 0);
	assert_int_equal(h_start_rinkid(&rig, VOICE_CONF), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 25000, "incident_event", "kind=unreached", NULL),
			 0);
	assert_int_equal(
	    h_wait_event(&rig.radio, &rp, "ATH", (int)(nobody->n * 1000 / RATE) + 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 3000, "incident_end", "outcome=unanswered", NULL), 0);
	h_pump(&rig, 300);
	assert_true(find_on(VR_RADIO, "nobody reached", nobody->pcm, nobody->n) >= 0);
}

/* What the officers do in goodbye_spares_next_call(). */
enum goodbye_case {
	FIRST_HANGS_UP,		    /* the first officer hangs up during "nobody reached" */
	FIRST_STAYS,		    /* he stays on the line */
	FIRST_STAYS_SECOND_HANGS_UP /* he stays; the second hangs up during his own prompt */
};

/*
 * The next incident starts while "nobody reached" still plays to the first officer: the
 * first incident's release must not cut it. Runs until the second incident closes on its
 * own (nobody reached again): "unanswered", never "abandoned" by the first one's ATH. A
 * first officer still on the line is released with the second call, or after it.
 */
static void goodbye_spares_next_call(enum goodbye_case how)
{
	size_t rp = 0, mp = 0;
	/* the first incident's chain ends at once (every line busy), so its "nobody reached"
	   starts at once; the second one's rings Aino for call.ring_time (5 s, longer than
	   that prompt) before the others' busy lines: the first goodbye ends while the second
	   incident is live */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee default busy"), 0);
	assert_int_equal(h_start_rinkid(&rig, VOICE_CONF), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 25000, "incident_end", "outcome=unanswered", NULL), 0);
	/* "nobody reached" plays to the officer of radio call 1 (seconds of it) */
	assert_int_equal(h_count_events(&rig.radio, "ATH"), 0);
	if (how == FIRST_HANGS_UP) {
		assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
		assert_int_equal(
		    h_wait_rinkid_event(&rig, 3000, "radio_call", "event=released", "cci=1", NULL),
		    0);
	}
	/* a second officer calls: radio call 2, answered, Aino paged again */
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s noanswer", AINO), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATA", 3000), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD" AINO ";", 3000), 0);
	/* the second incident runs its course and closes as the first one did */
	assert_int_equal(h_wait_ev_count(&rig, 2, 60000, "incident_end", NULL), 0);
	assert_int_equal(h_ev_count(&rig, "incident_end", "outcome=abandoned", NULL), 0);
	assert_int_equal(h_ev_count(&rig, "incident_end", "outcome=unanswered", NULL), 2);
	if (how == FIRST_STAYS_SECOND_HANGS_UP) {
		/* the second officer hangs up during his prompt: the first one's call goes */
		assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 2 1"), 0);
		assert_int_equal(h_wait_event(&rig.radio, &rp, "released 1 1", 10000), 0);
		return;
	}
	/* then its own goodbye releases radio call 2 (and call 1 with it, if still up) */
	assert_int_equal(h_wait_event(&rig.radio, &rp, "released 2 1", 10000), 0);
	if (how == FIRST_STAYS)
		assert_int_equal(h_count_events(&rig.radio, "released 1 1"), 1);
}

static void test_goodbye_spares_next_call_after_hangup(void **state)
{
	(void)state;
	goodbye_spares_next_call(FIRST_HANGS_UP);
}

static void test_goodbye_spares_next_call_while_on_line(void **state)
{
	(void)state;
	goodbye_spares_next_call(FIRST_STAYS);
}

static void test_goodbye_of_two_calls(void **state)
{
	(void)state;
	goodbye_spares_next_call(FIRST_STAYS_SECOND_HANGS_UP);
}

int main(void)
{
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_announced_and_accepted_in_band, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_worker_hears_own_language, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nobody_reached_is_spoken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_goodbye_spares_next_call_after_hangup, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_goodbye_spares_next_call_while_on_line, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_goodbye_of_two_calls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
