/*
 * audio_latency: what the radio <-> phone bridge (gateway/audio.c) costs in time.
 *
 * Runs the bridge in a gw_loop, in this process, between the two virtual cards of
 * tools/alsa (paced like real cards, 1 ms pointer ticks), and prints:
 *  1. tone-onset latency: a 100 ms 1 kHz burst is written into one card's capture at
 *     a random moment, and the time until its first |sample| > 2000 leaves the other
 *     card is taken (mean/min/max over the trials; min is the real-card equivalent,
 *     since the card places injected sound up to one tick late), with the bridge's own
 *     latency figure and the main thread's CPU per second of bridged audio;
 *  2. drift: +/-100 and +/-2000 ppm on the phone card, compensated and not, with the
 *     the +/-100 ppm runs sped up 2x (vcard "speed"): a minute of card time in 30 s;
 *  3. loop stalls: a timer that busy-waits S ms twice a second, as a slow database
 *     commit would, and the xruns it causes;
 *  4. alsaloop (alsa-utils) on the same virtual pair, one process per direction, measured
 *     the same way (tone onset, xruns from its output, CPU per second of audio: the
 *     scheduler time of its main thread, which does the work) at the same periods,
 *     default and "-S 0" (no rate correction), plus its lowest setting that ran xrun-free in the
 *     reference (-t 5000 -S 0: 2.5 ms periods); printed side by side with the bridge and
 *     the ratio alsaloop / bridge. Skipped when alsaloop is not installed.
 * Figures only; nothing is asserted.
 *
 *   build/bench/audio_latency [trials]   (run from the repository root; needs make alsa-plugin)
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "voice/audio.h"
#include "core/log.h"
#include "core/loop.h"
#include "../../tools/alsa/vcard_rig.h"

#define RATE 8000

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void run_for(struct gw_loop *loop, int64_t ms)
{
	int64_t end = mono_ns() + ms * 1000000;
	for (int64_t now = mono_ns(); now < end; now = mono_ns())
		gw_loop_run_once(loop, (int)((end - now) / 1000000) + 1);
}

struct stall {
	struct gw_timer t;
	struct gw_loop *loop;
	int ms;
};

static void on_stall(struct gw_loop *loop, void *arg)
{
	struct stall *s = arg;
	int64_t end = mono_ns() + (int64_t)s->ms * 1000000;
	while (mono_ns() < end)
		;
	gw_timer_schedule(loop, &s->t, 500);
}

/* A fresh pair of virtual cards, the phone's clock skewed by ppm, at speed; exits on failure. */
static struct vr_rig *rig_up(double phone_ppm, double speed)
{
	struct vr_opts o;
	struct vr_rig *rig;
	vr_opts_default(&o);
	o.phone_ppm = phone_ppm;
	o.speed = speed;
	if (vr_rig_new(&o, &rig) < 0)
		exit(1);
	return rig;
}

static struct gw_audio *bridge(struct gw_loop *loop, unsigned period_ms, bool comp)
{
	struct gw_audio_params p;
	struct gw_audio *a;
	gw_audio_params_defaults(&p);
	p.radio_pcm = vr_pcm_name(VR_RADIO);
	p.phone_pcm = vr_pcm_name(VR_PHONE);
	p.period_ms = period_ms;
	p.drift_comp = comp;
	if (gw_audio_new_params(loop, &p, &a) < 0 || gw_audio_bridge_start(a) < 0) {
		fprintf(stderr, "cannot start the bridge (make alsa-plugin?)\n");
		exit(1);
	}
	return a;
}

/* What moves time on while a trial waits: the bridge's loop, or nothing (alsaloop). */
struct driver {
	struct gw_loop *loop; /* NULL: just sleep */
};

static void drive(const struct driver *dv, int64_t ms)
{
	if (dv->loop) {
		run_for(dv->loop, ms);
		return;
	}
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Tone-onset figures of one direction: mean/min/max over the trials that found the tone. */
struct onset {
	double sum, mn, mx;
	int got;
};

/*
 * 2 x trials bursts, alternating radio->phone and phone->radio, each at a random moment
 * after the last; on[0] is radio->phone, on[1] phone->radio. Returns the wall seconds.
 */
static double onset_trials(struct vr_rig *rig, const struct driver *dv, int trials,
			   struct onset on[2])
{
	int16_t tone[RATE / 10];
	vr_tone(tone, RATE / 10, RATE, 1000, 12000);
	on[0] = on[1] = (struct onset){.mn = 1e9};
	int64_t t0 = mono_ns();
	for (int i = 0; i < 2 * trials; i++) {
		enum vr_side in = i % 2 ? VR_PHONE : VR_RADIO, out = i % 2 ? VR_RADIO : VR_PHONE;
		vr_played_reset(rig, out);
		drive(dv, 150 + rand() % 26);
		int64_t t_in = vr_inject(rig, in, tone, RATE / 10);
		drive(dv, 200);
		int16_t *s;
		long n = vr_played(rig, out, &s);
		long at = n > 0 ? vr_onset(s, (size_t)n, 0, 2000) : -1;
		free(s);
		if (t_in < 0 || at < 0)
			continue;
		double ms = (double)(vr_played_time(rig, out, (size_t)at) - t_in) / 1e6;
		struct onset *o = &on[i % 2];
		o->sum += ms;
		o->mn = ms < o->mn ? ms : o->mn;
		o->mx = ms > o->mx ? ms : o->mx;
		o->got++;
	}
	return (double)(mono_ns() - t0) / 1e9;
}

static double onset_mean(const struct onset *o)
{
	return o->got ? o->sum / o->got : 0.0;
}

/* One row of the side-by-side table. */
struct row {
	char what[48];
	struct onset on[2];
	unsigned xruns;
	double cpu_ms; /* per second of bridged audio, both directions */
};

static void latency_run(unsigned period_ms, int trials, struct row *row)
{
	struct vr_rig *rig = rig_up(0, 1);
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio *a = bridge(loop, period_ms, true);
	struct driver dv = {.loop = loop};
	run_for(loop, 300);

	int64_t cpu0 = thread_cpu_ns();
	double audio_s = onset_trials(rig, &dv, trials, row->on);
	double cpu_ms = (double)(thread_cpu_ns() - cpu0) / 1e6;
	struct gw_audio_stats st;
	gw_audio_stats(a, &st);
	for (int k = 0; k < 2; k++) {
		const struct gw_audio_dir_stats *d = k ? &st.to_radio : &st.to_phone;
		const struct onset *on = &row->on[k];
		printf("period %2u ms %s: tone onset %.1f / %.1f / %.1f ms (mean/min/max, %d "
		       "trials); bridge latency %.1f ms (%.1f..%.1f); xruns %u/%u\n",
		       period_ms, k ? "phone->radio" : "radio->phone", onset_mean(on),
		       on->got ? on->mn : 0.0, on->mx, on->got, d->latency_us / 1e3,
		       d->latency_min_us / 1e3, d->latency_max_us / 1e3, d->xruns_capture,
		       d->xruns_playback);
	}
	printf("period %2u ms: loop thread CPU %.2f ms per second of bridged audio (both "
	       "directions)\n",
	       period_ms, cpu_ms / audio_s);
	snprintf(row->what, sizeof(row->what), "rinkid bridge, period %u ms", period_ms);
	row->xruns = st.to_phone.xruns_capture + st.to_phone.xruns_playback +
		     st.to_radio.xruns_capture + st.to_radio.xruns_playback;
	row->cpu_ms = cpu_ms / audio_s;
	gw_audio_free(a);
	gw_loop_free(loop);
	vr_rig_free(rig);
}

static void drift_run(double ppm, bool comp, double card_s, double speed)
{
	struct vr_rig *rig = rig_up(ppm, speed);
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio *a = bridge(loop, 10, comp);
	run_for(loop, (int64_t)(card_s * 1000 / speed));
	struct gw_audio_stats st;
	gw_audio_stats(a, &st);
	for (int k = 0; k < 2; k++) {
		const struct gw_audio_dir_stats *d = k ? &st.to_radio : &st.to_phone;
		printf("drift %+6.0f ppm, %s, %3.0f s of card time: %s latency %.1f ms now, "
		       "%.1f..%.1f; dropped %llu repeated %llu; xruns %u/%u\n",
		       ppm, comp ? "compensated  " : "uncompensated", card_s,
		       k ? "phone->radio" : "radio->phone", d->latency_us / 1e3,
		       d->latency_min_us / 1e3, d->latency_max_us / 1e3,
		       (unsigned long long)d->dropped, (unsigned long long)d->inserted,
		       d->xruns_capture, d->xruns_playback);
	}
	gw_audio_free(a);
	gw_loop_free(loop);
	vr_rig_free(rig);
}

static void stall_run(unsigned period_ms, int stall_ms)
{
	struct vr_rig *rig = rig_up(0, 1);
	struct gw_loop *loop = gw_loop_new();
	struct gw_audio *a = bridge(loop, period_ms, true);
	struct stall s = {.loop = loop, .ms = stall_ms};
	gw_timer_init(&s.t, on_stall, &s);
	gw_timer_schedule(loop, &s.t, 500);
	run_for(loop, 5000);
	gw_timer_cancel(loop, &s.t);
	struct gw_audio_stats st;
	gw_audio_stats(a, &st);
	printf("period %2u ms, loop stalls of %2d ms twice a second, 5 s: xruns radio->phone "
	       "%u/%u, phone->radio %u/%u (capture/playback)\n",
	       period_ms, stall_ms, st.to_phone.xruns_capture, st.to_phone.xruns_playback,
	       st.to_radio.xruns_capture, st.to_radio.xruns_playback);
	gw_audio_free(a);
	gw_loop_free(loop);
	vr_rig_free(rig);
}

/* ---- alsaloop on the same pair ------------------------------------------------------ */

/*
 * Scheduler time of pid's main thread, ns (/proc/<pid>/schedstat). alsaloop runs its one
 * job there; its other threads are the virtual card's DMA threads, which run in the
 * bench process for the bridge and are not counted there either.
 */
static int64_t proc_cpu_ns(pid_t pid)
{
	char path[64];
	long long ns;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fscanf(f, "%lld", &ns) == 1;
	fclose(f);
	return ok ? ns : -1;
}

/* alsaloop from capture cap to playback play with extra args, its output to out_fd. */
static pid_t alsaloop_spawn(const char *cap, const char *play, const char *args, int out_fd)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "exec stdbuf -oL -eL alsaloop -C %s -P %s -f S16_LE -c 1 -r %d %s -v", cap, play,
		 RATE, args);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Lines of the file at fd (rewound) that report an xrun. */
static unsigned count_xruns(int fd)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fdopen(dup(fd), "r");
	if (!f)
		return 0;
	rewind(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "underrun") || strstr(line, "overrun") || strstr(line, "xrun") ||
		     strstr(line, "Broken pipe");
	fclose(f);
	return n;
}

static bool have_alsaloop(void)
{
	return system("command -v alsaloop >/dev/null 2>&1") == 0;
}

static void alsaloop_run(const char *args, int trials, struct row *row)
{
	struct vr_rig *rig = rig_up(0, 1);
	char tmpl[] = "/tmp/rinki-alsaloop-XXXXXX";
	int out = mkstemp(tmpl);
	if (out < 0) {
		perror("mkstemp");
		exit(1);
	}
	unlink(tmpl);
	pid_t pid[2] = {
	    alsaloop_spawn(vr_pcm_name(VR_RADIO), vr_pcm_name(VR_PHONE), args, out),
	    alsaloop_spawn(vr_pcm_name(VR_PHONE), vr_pcm_name(VR_RADIO), args, out),
	};
	struct driver dv = {.loop = NULL};
	drive(&dv, 500); /* both up and settled */
	unsigned x0 = count_xruns(out);
	int64_t cpu0 = proc_cpu_ns(pid[0]) + proc_cpu_ns(pid[1]);
	double audio_s = onset_trials(rig, &dv, trials, row->on);
	int64_t cpu1 = proc_cpu_ns(pid[0]) + proc_cpu_ns(pid[1]);
	for (int k = 0; k < 2; k++) {
		kill(pid[k], SIGTERM);
		waitpid(pid[k], NULL, 0);
	}
	row->xruns = count_xruns(out) - x0;
	row->cpu_ms = cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / 1e6 / audio_s : -1;
	snprintf(row->what, sizeof(row->what), "alsaloop %s", args);
	if (getenv("RINKI_ALSALOOP_LOG")) { /* what alsaloop said, to check the xrun count */
		char line[512];
		FILE *f = fdopen(dup(out), "r");
		if (f) {
			rewind(f);
			while (fgets(line, sizeof(line), f))
				fprintf(stderr, "alsaloop: %s", line);
			fclose(f);
		}
	}
	close(out);
	vr_rig_free(rig);
}

static void print_row(const struct row *r, const struct row *base)
{
	double lat = (onset_mean(&r->on[0]) + onset_mean(&r->on[1])) / 2;
	double mn = r->on[0].mn < r->on[1].mn ? r->on[0].mn : r->on[1].mn;
	printf("%-34s %6.1f %6.1f %6.1f %6u %8.2f", r->what, onset_mean(&r->on[0]),
	       onset_mean(&r->on[1]), mn, r->xruns, r->cpu_ms);
	if (base) {
		double blat = (onset_mean(&base->on[0]) + onset_mean(&base->on[1])) / 2;
		printf("   x%.2f  x%.2f", lat / blat, r->cpu_ms / base->cpu_ms);
	}
	printf("\n");
}

/*
 * alsaloop raises itself to SCHED_RR 99; so for a like-for-like comparison the bridge is
 * measured again at SCHED_RR 99 (rinkid's run.rt_priority) when this process may, and
 * the ratios are taken against that. rows[] are the SCHED_OTHER figures from above.
 */
static void compare_alsaloop(const struct row rows[2], int trials)
{
	static const char *const args[2][2] = {{"-t 20000", "-t 20000 -S 0"},
					       {"-t 10000", "-t 10000 -S 0"}};
	static const unsigned period[2] = {10, 5};
	if (!have_alsaloop()) {
		printf("alsaloop not installed (alsa-utils): comparison skipped\n");
		return;
	}
	struct sched_param sp = {.sched_priority = 99};
	bool rt = sched_setscheduler(0, SCHED_RR, &sp) == 0;
	struct row rt_rows[2], al[2][2], lowest;
	const struct row *base = rows;
	if (rt) {
		printf("\nthe bridge again at SCHED_RR 99, as alsaloop runs:\n");
		for (int p = 0; p < 2; p++) {
			latency_run(period[p], trials, &rt_rows[p]);
			snprintf(rt_rows[p].what, sizeof(rt_rows[p].what),
				 "rinkid bridge %u ms, SCHED_RR 99", period[p]);
		}
		base = rt_rows;
	}
	for (int p = 0; p < 2; p++)
		for (int k = 0; k < 2; k++)
			alsaloop_run(args[p][k], trials, &al[p][k]);
	alsaloop_run("-t 5000 -S 0", trials, &lowest);
	sp.sched_priority = 0;
	sched_setscheduler(0, SCHED_OTHER, &sp);

	printf("\nside by side, tone onset in ms (mean radio->phone, mean phone->radio, min of "
	       "both),\nxruns during the trials, CPU ms per second of audio (both directions); "
	       "ratios alsaloop / rinkid%s\n",
	       rt ? " at SCHED_RR 99" : " (SCHED_OTHER: could not raise the priority)");
	printf("%-34s %6s %6s %6s %6s %8s   %s\n", "", "r->p", "p->r", "min", "xruns", "cpu",
	       "latency cpu");
	for (int p = 0; p < 2; p++) {
		struct row other = rows[p];
		snprintf(other.what, sizeof(other.what), "rinkid bridge %u ms, SCHED_OTHER",
			 period[p]);
		print_row(&other, NULL);
		if (rt)
			print_row(&rt_rows[p], NULL);
		for (int k = 0; k < 2; k++)
			print_row(&al[p][k], &base[p]);
	}
	print_row(&lowest, &base[1]);
}

int main(int argc, char **argv)
{
	int trials = argc > 1 ? atoi(argv[1]) : 20;
	setvbuf(stdout, NULL, _IOLBF, 0);
	gw_log_init("audio_latency", false);
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	srand((unsigned)mono_ns());
	if (trials < 1)
		trials = 1;
	struct row rows[2];
	latency_run(10, trials, &rows[0]);
	latency_run(5, trials, &rows[1]);
	if (getenv("RINKI_ALSALOOP_ONLY")) {
		compare_alsaloop(rows, trials);
		return 0;
	}
	drift_run(100, true, 60, 2);
	drift_run(-100, true, 60, 2);
	drift_run(100, false, 60, 2);
	drift_run(2000, true, 10, 1);
	drift_run(-2000, true, 10, 1);
	drift_run(2000, false, 10, 1);
	for (int s = 2; s <= 8; s *= 2)
		stall_run(10, s);
	compare_alsaloop(rows, trials);
	return 0;
}
