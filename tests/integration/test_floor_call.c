/*
 * Integration: simplex floor control driven by the worker's voice. rinkid, tetra-sim and
 * modem-sim run as processes (tests/integration/harness); rinkid's audio.radio and
 * audio.phone are the paced virtual cards of tools/alsa. An officer's simplex individual
 * call is bridged to Aino, then:
 *  - noise on the phone side: tetra-sim sees AT+CTXD within the VAD's attack and a round
 *    trip; the floor is queued, then granted: the radio plays silence before the grant
 *    and the phone's noise after it;
 *  - the noise stops: AT+CUTXC after the VAD's hangover;
 *  - another radio talker (+CTXG with its identity): the phone's noise does not reach
 *    the radio (peak 0 there) while the talker's audio reaches the phone;
 *  - our transmission interrupted (+CTXI): the radio gets silence from then on, and the
 *    talk's end sends no AT+CUTXC;
 *  - the worker talks, holds the floor and hangs up: AT+CUTXC goes before the ATH;
 *  - the call log has the floor events.
 * And a duplex call: the phone's noise passes straight through, no AT+CTXD is sent.
 * The cards are paced (VR_PACED): their clock never runs ahead of CLOCK_MONOTONIC, the sims'
 * event clock, and waits for rinkid when it is slow. Delays are printed; only their order
 * is asserted, and lower bounds (AT+CUTXC not before the hangover), which a slow machine
 * cannot break. The test waits on what the cards played (audio time, which the
 * VAD counts), never on a sleep, and checks "nothing was sent" after h_settle.
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

#include "../../tools/alsa/vcard_rig.h"
#include "store/db.h"
#include "harness.h"
#include "vcard_find.h"

#define RATE	    8000
#define AINO	    "+358401234567" /* first on duty for line sos in the demo roster */
#define ATTACK_MS   40
#define HANGOVER_MS 500
#define FLOOR_CONF  "call.ring_time 5\ncall.rounds 1\nvad.attack_ms 40\nvad.hangover_ms 500\n"
#define CTXD	    "AT+CTXD=1,1"
#define CUTXC	    "AT+CUTXC=1"
#define MS(ns)	    ((double)(ns) / 1e6)

static struct h_rig rig;
static struct vr_rig *cards;

static int setup(void **state)
{
	(void)state;
	struct vr_opts o;
	vr_opts_default(&o);
	o.manual = VR_PACED; /* rinkid slow for a moment: the cards wait, no period is lost */
	/* the cards first: the rig exports ALSA_CONFIG_PATH, which rinkid inherits */
	bool up = vr_rig_new(&o, &cards) == 0 && h_rig_init(&rig) == 0 && h_start_sims(&rig) == 0;
	return up ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	h_rig_fini(&rig); /* rinkid stops before its cards go */
	vr_rig_free(cards);
	snd_config_update_free_global();
	return h_rinkid_status() == 0 ? 0 : -1;
}

/* Pump until side has played want samples since its last reset. */
static void drain(enum vr_side side, long want, int timeout_ms)
{
	assert_true(vf_wait_played(&rig, cards, side, want, timeout_ms) >= want);
}

/* Pump until the radio card has played ms more of audio (rinkid has bridged that long). */
static void audio_for(int ms)
{
	int16_t *s;
	long n = vr_played(cards, VR_RADIO, &s);
	free(s);
	drain(VR_RADIO, n + (long)ms * RATE / 1000, ms);
}

/* The officer calls (simplex or duplex), Aino answers and presses 4: bridged. */
static void bridge(bool simplex)
{
	size_t mp = 0;
	char conf[512];
	snprintf(conf, sizeof(conf), "audio.radio %s\naudio.phone %s\n%s", vr_pcm_name(VR_RADIO),
		 vr_pcm_name(VR_PHONE), FLOOR_CONF);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "callee %s answer 1", AINO), 0);
	assert_int_equal(h_start_rinkid(&rig, conf), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "call 2269001 simplex=%d", simplex ? 1 : 0), 0);
	assert_int_equal(h_wait_event(&rig.modem, &mp, "ATD", 5000), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 8000, "incident_event", "kind=phone_answered", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_event", "kind=bridged", NULL),
			 0);
	audio_for(500); /* the VAD learns the (silent) floor */
}

/* Whether pcm came out on side since the last reset (period by period, bit-exact). */
static bool heard(enum vr_side side, const int16_t *pcm, size_t n, long *at)
{
	int16_t *got;
	int missing, whole;
	long len = vr_played(cards, side, &got);
	*at = vr_find_chunks(got, (size_t)len, 0, pcm, n, RATE / 100, &missing, &whole);
	free(got);
	return *at >= 0 && missing * 20 <= (int)(n / (RATE / 100));
}

static int64_t newest_id;
static void id_cb(const struct gw_db_incident *inc, void *arg)
{
	(void)arg;
	newest_id = inc->id;
}

struct floor_events {
	int n, request, granted, cease, other, summary;
};
static void ev_cb(const struct gw_db_event *ev, void *arg)
{
	struct floor_events *f = arg;
	if (strcmp(ev->kind, "floor") != 0 || !ev->detail)
		return;
	f->n++;
	f->request += strcmp(ev->detail, "request") == 0;
	f->granted += strncmp(ev->detail, "granted after", 13) == 0;
	f->cease += strncmp(ev->detail, "cease", 5) == 0;
	f->other += strncmp(ev->detail, "other talker 2269002", 20) == 0;
	f->summary += strncmp(ev->detail, "summary:", 8) == 0;
}

static void test_simplex_floor(void **state)
{
	(void)state;
	size_t rp = 0;
	bridge(true);
	assert_int_equal(h_settle(&rig), 0);
	assert_int_equal(h_count_events(&rig.radio, "CTXD"), 0); /* silence asks for nothing */

	/* 1. Aino talks (1.5 s of noise); the radio queues the request, then grants it */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "floor-reply queue"), 0);
	size_t n = RATE * 3 / 2;
	static int16_t talk[RATE * 3 / 2];
	vr_noise(talk, n, 41, 8000);
	vr_played_reset(cards, VR_RADIO);
	int64_t t_talk = vr_inject(cards, VR_PHONE, talk, n);
	assert_true(t_talk > 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, CTXD, 2000), 0);
	int64_t t_ctxd = h_event_time(&rig.radio, CTXD);
	print_message("talk start -> AT+CTXD: %.1f ms (attack %d ms)\n", MS(t_ctxd - t_talk),
		      ATTACK_MS);
	assert_true(t_ctxd > t_talk);
	assert_int_equal(h_wait_rinkid_event(&rig, 2000, "floor", "cci=1", "detail=queued", NULL),
			 0);
	audio_for(300);
	/* what the radio played before the grant was sent (on the cards' clock) */
	int16_t *before;
	long before_grant = vr_played(cards, VR_RADIO, &before);
	free(before);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "grant 1"), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 2000, "floor", "cci=1", "detail~granted after ", NULL), 0);
	int64_t t_grant = h_event_time(&rig.radio, "+CTXG: 1,0,0,0");
	assert_true(t_grant > t_ctxd);
	/* 2. the noise ends: AT+CUTXC after the hangover */
	int64_t t_end = t_talk + (int64_t)n * 1000000000LL / RATE;
	assert_int_equal(h_wait_event(&rig.radio, &rp, CUTXC, 3000), 0);
	int64_t t_cutxc = h_event_time(&rig.radio, CUTXC);
	print_message("talk end -> AT+CUTXC: %.1f ms (hangover %d ms)\n", MS(t_cutxc - t_end),
		      HANGOVER_MS);
	assert_true(t_cutxc - t_end > (HANGOVER_MS - 100) * 1000000LL);
	/* the radio played silence until the grant, then Aino's noise */
	drain(VR_RADIO, (long)n + RATE / 2, 3000);
	int16_t *got;
	long len = vr_played(cards, VR_RADIO, &got);
	long first = vr_onset(got, (size_t)len, 0, 0);
	/* which part of the talk came out first */
	long at = first >= 0 ? vr_find(talk, n, got + first, RATE / 100) : -1;
	print_message("grant %.1f ms after AT+CTXD; first phone sample on the radio %.1f ms "
		      "of card time after the grant was sent (talk sample %ld: %.0f ms of talk "
		      "dropped)\n",
		      MS(t_grant - t_ctxd), (first - before_grant) * 1000.0 / RATE, at,
		      at * 1000.0 / RATE);
	free(got);
	assert_true(first >= 0);
	assert_true(first >= before_grant);
	assert_true(at > 0); /* the start of the talk was dropped, not delayed */
	long at2;
	assert_true(heard(VR_RADIO, talk + at, n - (size_t)at, &at2));

	/* 3. another radio talker: Aino's voice is muted towards the radio, the officer's
	   passes to her */
	audio_for(300);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "talker 1 2269002"), 0);
	assert_int_equal(
	    h_wait_rinkid_event(&rig, 2000, "floor", "cci=1", "detail=other talker 2269002", NULL),
	    0);
	static int16_t officer[RATE * 3 / 2];
	vr_noise(officer, n, 42, 8000);
	vr_played_reset(cards, VR_RADIO);
	vr_played_reset(cards, VR_PHONE);
	assert_true(vr_inject(cards, VR_RADIO, officer, n) > 0);
	assert_true(vr_inject(cards, VR_PHONE, talk, n) > 0);
	drain(VR_RADIO, (long)n + RATE / 2, 4000);
	drain(VR_PHONE, (long)n + RATE / 2, 4000);
	int p = vr_played_peak(cards, VR_RADIO);
	bool officer_heard = heard(VR_PHONE, officer, n, &at);
	print_message("other talker: peak at the radio %d, officer heard on the phone at %ld\n", p,
		      at);
	assert_int_equal(p, 0);
	assert_true(officer_heard);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "cease 1"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 2000, "floor", "cci=1",
					     "detail=the other talker ceased", NULL),
			 0);
	audio_for(HANGOVER_MS + 300);

	/* 4. Aino holds the floor and is interrupted: muted at once, nothing to give up */
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "floor-reply grant"), 0);
	vr_played_reset(cards, VR_RADIO);
	assert_true(vr_inject(cards, VR_PHONE, talk, n) > 0);
	assert_int_equal(
	    h_wait_ev_count(&rig, 2, 3000, "floor", "cci=1", "detail~granted after ", NULL), 0);
	audio_for(300);
	int p_held = vr_played_peak(cards, VR_RADIO);
	int cutxc = h_count_events(&rig.radio, CUTXC);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "interrupt 1 2269009"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 2000, "floor", "cci=1",
					     "detail=interrupted by 2269009", NULL),
			 0);
	audio_for(100); /* what was queued in the radio's playback before it */
	vr_played_reset(cards, VR_RADIO);
	audio_for((int)(n * 1000 / RATE) + HANGOVER_MS);
	assert_int_equal(h_settle(&rig), 0);
	int p_intr = vr_played_peak(cards, VR_RADIO);
	print_message("interrupted: peak at the radio %d while held, %d after\n", p_held, p_intr);
	assert_true(p_held > 0);
	assert_int_equal(p_intr, 0);
	assert_int_equal(h_count_events(&rig.radio, CUTXC), cutxc);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "cease 1"), 0);
	audio_for(200);

	/* 5. Aino talks, holds the floor, and hangs up: AT+CUTXC goes before the ATH */
	rp = rig.radio.elen;
	assert_true(vr_inject(cards, VR_PHONE, talk, n) > 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, CTXD, 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "+CTXG: 1,0,0,0", 2000), 0);
	assert_int_equal(
	    h_wait_ev_count(&rig, 3, 2000, "floor", "cci=1", "detail~granted after ", NULL), 0);
	assert_int_equal(h_cmd(&rig.modem, NULL, 0, "hangup"), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, CUTXC, 3000), 0);
	assert_int_equal(h_wait_event(&rig.radio, &rp, "ATH", 3000), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_end", NULL), 0);

	/* the call log has the floor steps */
	struct floor_events f = {0};
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_int_equal(gw_db_incident_list(db, 1, id_cb, NULL), 1);
	assert_true(gw_db_event_list(db, newest_id, ev_cb, &f) > 0);
	assert_int_equal(gw_db_log_verify(db, NULL), 0);
	gw_db_close(db);
	print_message("floor events: %d (request %d, granted %d, cease %d, other %d)\n", f.n,
		      f.request, f.granted, f.cease, f.other);
	assert_true(f.request >= 4);
	assert_int_equal(f.granted, 3);
	assert_true(f.cease >= 2);
	assert_int_equal(f.other, 1);
	assert_int_equal(f.summary, 1);
}

static void test_duplex_no_floor(void **state)
{
	(void)state;
	bridge(false);
	size_t n = RATE;
	static int16_t talk[RATE];
	vr_noise(talk, n, 43, 8000);
	vr_played_reset(cards, VR_RADIO);
	assert_true(vr_inject(cards, VR_PHONE, talk, n) > 0);
	drain(VR_RADIO, (long)n + RATE / 2, 4000);
	assert_int_equal(h_wait_log(&rig, "phone side talking", 1000), 0);
	audio_for(HANGOVER_MS + 300);
	assert_int_equal(h_settle(&rig), 0);
	long at;
	assert_true(heard(VR_RADIO, talk, n, &at));
	assert_int_equal(h_count_events(&rig.radio, "CTXD"), 0);
	assert_int_equal(h_count_events(&rig.radio, "CUTXC"), 0);
	assert_int_equal(h_log_count(&rig, "is duplex: no floor control"), 1);
	/* the floor machine went to DUPLEX once and nowhere else while the call was up */
	assert_int_equal(h_ev_count(&rig, "state", "fsm=floor", "to=DUPLEX", NULL), 1);
	assert_int_equal(h_ev_count(&rig, "floor", "detail=request", NULL), 0);
	assert_int_equal(h_cmd(&rig.radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_rinkid_event(&rig, 5000, "incident_end", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_simplex_floor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplex_no_floor, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
