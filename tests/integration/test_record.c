/*
 * Integration: call recording end to end. rinkid, tetra-sim and modem-sim run as
 * processes (tests/integration/harness.c); rinkid's voice bridge opens the paced virtual
 * sound cards of tools/alsa (this process feeds and drains them through vcard_rig).
 * One authority call is bridged with record.enabled, one second of distinct noise is
 * injected into each card's capture, and the officer releases. Then:
 *  - the WAV is 16-bit stereo at 8 kHz, the radio noise bit-exactly in the left
 *    channel and the phone noise in the right;
 *  - the file is mode 0600 and the call log has a "recording" event naming it;
 *  - recording retention removes it once it is older than the configured days, and
 *    logs a "recording_retention" system event.
 * And record.lines without the call's line: bridged, not recorded, nothing logged.
 * Both calls also check that rinkid's phone-side VAD reported talk for the noise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alsa/asoundlib.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/alsa/vcard_rig.h"
#include "store/db.h"
#include "harness.h"

#define AINO "+358401234567" /* first on duty for line sos in the demo roster */
#define RATE 8000

static int64_t newest_id;
static void id_cb(const struct gw_db_incident *inc, void *arg)
{
	(void)arg;
	newest_id = inc->id;
}

struct found {
	char path[512];
	int recordings, retentions;
};
static void ev_cb(const struct gw_db_event *ev, void *arg)
{
	struct found *f = arg;
	if (strcmp(ev->kind, "recording") == 0 && ev->detail) {
		snprintf(f->path, sizeof(f->path), "%s", ev->detail);
		f->recordings++;
	}
	if (strcmp(ev->kind, "recording_retention") == 0)
		f->retentions++;
}

/* Load a stereo WAV with libsndfile into two channel arrays. Frames, or -1. */
static long load_stereo(const char *path, int16_t **l, int16_t **r)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		return -1;
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, RATE);
	assert_int_equal(info.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_16);
	long n = (long)info.frames;
	int16_t *s = malloc((size_t)n * 4 + 4);
	*l = malloc((size_t)n * 2 + 2);
	*r = malloc((size_t)n * 2 + 2);
	assert_int_equal(sf_readf_short(sf, s, n), n);
	for (long i = 0; i < n; i++) {
		(*l)[i] = s[2 * i];
		(*r)[i] = s[2 * i + 1];
	}
	free(s);
	sf_close(sf);
	return n;
}

/*
 * Bridge one call from 2269001 (line "sos" in the demo roster) with the extra config
 * lines, inject noise both ways, release. Returns the incident id.
 */
static int64_t recorded_call(struct h_rig *rig, struct vr_rig *vr, const char *extra,
			     const int16_t *radio, const int16_t *phone, size_t n)
{
	size_t mp = 0;
	char conf[1024];
	snprintf(conf, sizeof(conf),
		 "audio.radio %s\naudio.phone %s\nrecordings.dir %s/rec\n"
		 "call.ring_time 5\ncall.rounds 1\n%s",
		 vr_pcm_name(VR_RADIO), vr_pcm_name(VR_PHONE), rig->dir, extra);
	assert_int_equal(h_cmd(&rig->modem, NULL, 0, "callee %s answer 1", AINO), 0);
	assert_int_equal(h_start_rinkid(rig, conf), 0);
	assert_int_equal(h_cmd(&rig->radio, NULL, 0, "call 2269001"), 0);
	assert_int_equal(h_wait_event(&rig->modem, &mp, "ATD", 5000), 0);
	assert_int_equal(h_wait_log(rig, "answered", 8000), 0);
	assert_int_equal(h_cmd(&rig->modem, NULL, 0, "dtmf 4"), 0);
	assert_int_equal(h_wait_log(rig, "bridge up", 5000), 0);
	h_pump(rig, 300);
	assert_true(vr_inject(vr, VR_RADIO, radio, n) > 0);
	assert_true(vr_inject(vr, VR_PHONE, phone, n) > 0);
	h_pump(rig, (int)(n * 1000 / RATE) + 500);
	/* the VAD on the bridge's tap heard the phone side */
	assert_int_equal(h_wait_log(rig, "phone side talking", 1000), 0);
	assert_int_equal(h_cmd(&rig->radio, NULL, 0, "release 1 1"), 0);
	assert_int_equal(h_wait_log(rig, "incident closed", 5000), 0);
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(rig->db, GW_DB_NOCREATE, &db), 0);
	assert_int_equal(gw_db_incident_list(db, 1, id_cb, NULL), 1);
	gw_db_close(db);
	return newest_id;
}

static void test_recording_both_ways(void **state)
{
	(void)state;
	struct vr_opts o;
	struct vr_rig *vr;
	struct h_rig rig;
	vr_opts_default(&o);
	o.manual = VR_PACED;			  /* rinkid slow for a moment: the cards wait */
	assert_int_equal(vr_rig_new(&o, &vr), 0); /* exports ALSA_CONFIG_PATH for rinkid */
	assert_int_equal(h_rig_init(&rig), 0);
	assert_int_equal(h_start_sims(&rig), 0);
	size_t n = RATE;
	int16_t *radio = malloc(n * 2), *phone = malloc(n * 2);
	vr_noise(radio, n, 31, 20000);
	vr_noise(phone, n, 32, 20000);
	int64_t id = recorded_call(&rig, vr, "record.enabled yes\n", radio, phone, n);
	assert_int_equal(h_wait_log(&rig, ".wav closed: ", 3000), 0);

	/* the call log names the file */
	struct found f = {0};
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_true(gw_db_event_list(db, id, ev_cb, &f) > 0);
	assert_int_equal(f.recordings, 1);
	char want[512];
	snprintf(want, sizeof(want), "%s/rec/incident-%lld.wav", rig.dir, (long long)id);
	assert_string_equal(f.path, want);

	/* mode 0600, both directions bit-exact in their channels */
	struct stat st;
	assert_int_equal(stat(f.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	int16_t *l, *r;
	long frames = load_stereo(f.path, &l, &r);
	assert_true(frames > (long)n);
	long at_l = vr_find(l, (size_t)frames, radio, n);
	long at_r = vr_find(r, (size_t)frames, phone, n);
	print_message("%ld frames; radio noise at left[%ld], phone noise at right[%ld]\n", frames,
		      at_l, at_r);
	assert_true(at_l >= 0);
	assert_true(at_r >= 0);
	/* the other channel does not carry it: stereo, not mixed */
	assert_true(vr_find(r, (size_t)frames, radio, 64) < 0);
	assert_true(vr_find(l, (size_t)frames, phone, 64) < 0);
	free(l);
	free(r);

	/* retention: not yet at 0.5 day, gone after a day and a bit, with a system event */
	int64_t removed = -1, now = (int64_t)time(NULL) * 1000;
	assert_int_equal(gw_db_recording_retention(db, now - 86400000 / 2, 1, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(access(f.path, F_OK), 0);
	assert_int_equal(gw_db_recording_retention(db, now + 86400000 + 60000, 1, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(access(f.path, F_OK), -1);
	assert_true(gw_db_system_event_list(db, ev_cb, &f) > 0);
	assert_int_equal(f.retentions, 1);
	/* a second run finds nothing left to remove and logs nothing */
	assert_int_equal(gw_db_recording_retention(db, now + 86400000 + 60000, 1, &removed), 0);
	assert_int_equal(removed, 0);
	f.retentions = 0;
	assert_true(gw_db_system_event_list(db, ev_cb, &f) > 0);
	assert_int_equal(f.retentions, 1);
	assert_int_equal(gw_db_log_verify(db, NULL), 0);
	gw_db_close(db);

	free(radio);
	free(phone);
	h_rig_fini(&rig);
	assert_int_equal(h_rinkid_status(), 0);
	vr_rig_free(vr);
}

/* record.lines without the call's line: bridged, not recorded, nothing in the log. */
static void test_line_not_selected(void **state)
{
	(void)state;
	struct vr_opts o;
	struct vr_rig *vr;
	struct h_rig rig;
	vr_opts_default(&o);
	o.manual = VR_PACED; /* rinkid slow for a moment: the cards wait */
	assert_int_equal(vr_rig_new(&o, &vr), 0);
	assert_int_equal(h_rig_init(&rig), 0);
	assert_int_equal(h_start_sims(&rig), 0);
	int16_t s[800];
	vr_noise(s, 800, 7, 1000);
	int64_t id =
	    recorded_call(&rig, vr, "record.enabled yes\nrecord.lines fire, ems\n", s, s, 800);
	struct found f = {0};
	struct gw_db *db;
	assert_int_equal(gw_db_open_flags(rig.db, GW_DB_NOCREATE, &db), 0);
	assert_true(gw_db_event_list(db, id, ev_cb, &f) > 0);
	gw_db_close(db);
	assert_int_equal(f.recordings, 0);
	assert_int_equal(h_log_count(&rig, "recording to"), 0);
	h_rig_fini(&rig);
	assert_int_equal(h_rinkid_status(), 0);
	vr_rig_free(vr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recording_both_ways),
	    cmocka_unit_test(test_line_not_selected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
