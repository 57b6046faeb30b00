/*
 * speak: run-time synthesis of short texts for the announcement.
 *
 * Measured before choosing (espeak-ng 1.51, this 2-vCPU box): the espeak-ng program
 * speaks an organisation name in 10-20 ms of wall time; the worker's phone answers
 * seconds after the incident starts, so the name is made when the incident starts
 * and is ready long before the announcement needs it. A pre-built generic "authority
 * call" is played when it is not (or the synthesis failed). The program is run
 * rather than linking libespeak-ng: no new library in rinkid, and a crash or hang of
 * the synthesizer cannot take the gateway with it.
 *
 * The helper thread owns one job: it spawns the program with the text on stdin (never
 * on the command line, so a name cannot become an option), reads the WAV it writes
 * to stdout (bounded), parses it with gw_prompt_parse() and resamples it with
 * libsamplerate to the device rate; thread and program run under the normal scheduler
 * even when rinkid is SCHED_FIFO, so they cannot delay the audio. It then writes one byte to a pipe
 * the loop watches; the loop joins the thread and files the result in the cache. The thread touches
 * nothing but its job's fields until that byte is written.
 */
#include "voice/speak.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <samplerate.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "voice/prompt.h"

#define CACHE	8
#define OUT_MAX ((size_t)4 << 20)
#define SPEED	"150"
#define PITCH	"50"

enum { E_EMPTY, E_RUNNING, E_READY, E_FAILED };

struct entry {
	char lang[4];
	char text[GW_SPEAK_TEXT_MAX + 1];
	int state;
	int16_t *pcm;
	size_t n;
	uint64_t used;
};

struct gw_speak {
	struct gw_loop *loop;
	char program[128];
	unsigned int rate;
	int note[2]; /* thread -> loop: one byte when the job is done */
	pthread_t thread;
	bool running;
	struct entry cache[CACHE];
	int job; /* the running job's cache slot */
	uint64_t tick;
	int64_t started_ms;
	/* the job's result, written by the thread before its byte */
	int16_t *res;
	size_t res_n;
	char res_err[192];
};

extern char **environ;

/* Run the program: text in, WAV bytes out. 0 or -errno (why in err). */
static int run_program(struct gw_speak *s, const struct entry *e, unsigned char **out, size_t *len,
		       char *err, size_t errlen)
{
	int in[2], pipe_out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pipe_out, O_CLOEXEC) < 0) {
		int rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pipe_out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char *argv[] = {s->program, "-v",  (char *)e->lang, "-s",	SPEED,
			"-p",	    PITCH, "--stdin",	    "--stdout", NULL};
	/* rinkid may run SCHED_FIFO (run.rt_priority): the synthesizer must not */
	posix_spawnattr_t at;
	struct sched_param sp = {.sched_priority = 0};
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSCHEDULER);
	posix_spawnattr_setschedpolicy(&at, SCHED_OTHER);
	posix_spawnattr_setschedparam(&at, &sp);
	pid_t pid;
	int rc = posix_spawnp(&pid, s->program, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(pipe_out[1]);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", s->program, strerror(rc));
		close(in[1]);
		close(pipe_out[0]);
		return -rc;
	}
	size_t tl = strlen(e->text);
	ssize_t w = write(in[1], e->text, tl);
	if (w == (ssize_t)tl)
		w = write(in[1], "\n", 1);
	close(in[1]);
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	rc = buf ? 0 : -ENOMEM;
	while (rc == 0) {
		if (n == cap) {
			unsigned char *nb = cap < OUT_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				rc = cap < OUT_MAX ? -ENOMEM : -EFBIG;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(pipe_out[0], buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
	}
	close(pipe_out[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0 && (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		snprintf(err, errlen, "%s failed (status %d)", s->program, status);
		rc = -EIO;
	} else if (rc < 0) {
		snprintf(err, errlen, "reading %s: %s", s->program, strerror(-rc));
	}
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The voice at the device rate. 0 or -errno (why in err). */
static int to_rate(struct gw_speak *s, const struct gw_prompt *p, char *err, size_t errlen)
{
	if (p->rate == s->rate) {
		s->res = malloc(p->n * sizeof(*s->res));
		if (!s->res)
			return -ENOMEM;
		memcpy(s->res, p->pcm, p->n * sizeof(*s->res));
		s->res_n = p->n;
		return 0;
	}
	double ratio = (double)s->rate / p->rate;
	size_t m = (size_t)((double)p->n * ratio) + 16;
	float *in = malloc(p->n * sizeof(*in)), *out = malloc(m * sizeof(*out));
	s->res = malloc(m * sizeof(*s->res));
	int rc = in && out && s->res ? 0 : -ENOMEM;
	if (rc == 0) {
		src_short_to_float_array(p->pcm, in, (int)p->n);
		SRC_DATA sd = {.data_in = in,
			       .data_out = out,
			       .input_frames = (long)p->n,
			       .output_frames = (long)m,
			       .src_ratio = ratio};
		int e = src_simple(&sd, SRC_SINC_MEDIUM_QUALITY, 1);
		if (e) {
			snprintf(err, errlen, "resampling: %s", src_strerror(e));
			rc = -EIO;
		} else {
			src_float_to_short_array(out, s->res, (int)sd.output_frames_gen);
			s->res_n = (size_t)sd.output_frames_gen;
		}
	}
	free(in);
	free(out);
	if (rc < 0) {
		free(s->res);
		s->res = NULL;
	}
	return rc;
}

static void *job_thread(void *arg)
{
	struct gw_speak *s = arg;
	const struct entry *e = &s->cache[s->job];
	unsigned char *wav = NULL;
	size_t len = 0;
	struct gw_prompt p = {0};
	s->res_err[0] = '\0';
	int rc = run_program(s, e, &wav, &len, s->res_err, sizeof(s->res_err));
	if (rc == 0 && gw_prompt_parse(wav, len, 0, NULL, &p) < 0) {
		snprintf(s->res_err, sizeof(s->res_err), "%s wrote no usable WAV", s->program);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = to_rate(s, &p, s->res_err, sizeof(s->res_err));
	gw_prompt_clear(&p);
	free(wav);
	char b = rc == 0 ? 1 : 0;
	while (write(s->note[1], &b, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Back in the loop: the job is done, file its result. */
static void job_done(struct gw_speak *s)
{
	pthread_join(s->thread, NULL);
	s->running = false;
	struct entry *e = &s->cache[s->job];
	int64_t ms = gw_loop_now_ms(s->loop) - s->started_ms;
	if (s->res) {
		e->pcm = s->res;
		e->n = s->res_n;
		e->state = E_READY;
		LOGP(GW_LOG_AUDIO, GW_LOG_INFO, "spoke '%s' (%s): %.2f s of audio in %lld ms",
		     e->text, e->lang, (double)e->n / s->rate, (long long)ms);
	} else {
		e->state = E_FAILED;
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "could not speak '%s' (%s): %s", e->text, e->lang,
		     s->res_err[0] ? s->res_err : "failed");
	}
	s->res = NULL;
	s->res_n = 0;
}

static void on_note(struct gw_loop *loop, int fd, short revents, void *arg)
{
	struct gw_speak *s = arg;
	char b;
	(void)loop;
	(void)revents;
	if (read(fd, &b, 1) == 1 && s->running)
		job_done(s);
}

int gw_speak_new(struct gw_loop *loop, const char *program, unsigned int rate,
		 struct gw_speak **out)
{
	if (rate < 8000 || rate > 48000)
		return -EINVAL;
	struct gw_speak *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->rate = rate;
	snprintf(s->program, sizeof(s->program), "%s", program ? program : "espeak-ng");
	if (pipe2(s->note, O_CLOEXEC | O_NONBLOCK) < 0) {
		int rc = -errno;
		free(s);
		return rc;
	}
	int rc = gw_loop_add_fd(loop, s->note[0], POLLIN, on_note, s);
	if (rc < 0) {
		close(s->note[0]);
		close(s->note[1]);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void gw_speak_free(struct gw_speak *s)
{
	if (!s)
		return;
	if (s->running) {
		pthread_join(s->thread, NULL);
		free(s->res);
	}
	gw_loop_del_fd(s->loop, s->note[0]);
	close(s->note[0]);
	close(s->note[1]);
	for (int i = 0; i < CACHE; i++)
		free(s->cache[i].pcm);
	free(s);
}

static struct entry *lookup(struct gw_speak *s, const char *lang, const char *text)
{
	for (int i = 0; i < CACHE; i++) {
		struct entry *e = &s->cache[i];
		if (e->state != E_EMPTY && strcmp(e->lang, lang) == 0 && strcmp(e->text, text) == 0)
			return e;
	}
	return NULL;
}

/* Printable text without control characters, 1..GW_SPEAK_TEXT_MAX bytes. */
static bool text_ok(const char *text)
{
	size_t n = strnlen(text, GW_SPEAK_TEXT_MAX + 1);
	if (n == 0 || n > GW_SPEAK_TEXT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return false;
	return true;
}

int gw_speak_start(struct gw_speak *s, const char *lang, const char *text)
{
	if (!lang || (strcmp(lang, "fi") && strcmp(lang, "sv") && strcmp(lang, "en")) || !text ||
	    !text_ok(text)) {
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "speak: not a text to speak in '%s'",
		     lang ? lang : "");
		return -EINVAL;
	}
	struct entry *e = lookup(s, lang, text);
	if (e && e->state == E_READY) {
		e->used = ++s->tick;
		return 1;
	}
	if (s->running)
		return -EBUSY;
	if (!e) { /* an empty slot, else the least recently used one */
		e = &s->cache[0];
		for (int i = 0; i < CACHE; i++) {
			if (s->cache[i].state == E_EMPTY) {
				e = &s->cache[i];
				break;
			}
			if (s->cache[i].used < e->used)
				e = &s->cache[i];
		}
		free(e->pcm);
		memset(e, 0, sizeof(*e));
		snprintf(e->lang, sizeof(e->lang), "%s", lang);
		snprintf(e->text, sizeof(e->text), "%s", text);
	}
	e->state = E_RUNNING;
	e->used = ++s->tick;
	s->job = (int)(e - s->cache);
	s->started_ms = gw_loop_now_ms(s->loop);
	/* the thread runs under the normal scheduler whatever rinkid's own policy */
	pthread_attr_t ta;
	struct sched_param sp = {.sched_priority = 0};
	pthread_attr_init(&ta);
	pthread_attr_setinheritsched(&ta, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&ta, SCHED_OTHER);
	pthread_attr_setschedparam(&ta, &sp);
	/* and takes no signals: they belong to the loop's signalfd */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&s->thread, &ta, job_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&ta);
	if (rc != 0) {
		e->state = E_FAILED;
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "speak: thread: %s", strerror(rc));
		return -rc;
	}
	s->running = true;
	return 0;
}

int gw_speak_get(struct gw_speak *s, const char *lang, const char *text, const int16_t **pcm,
		 size_t *n)
{
	struct entry *e = lang && text ? lookup(s, lang, text) : NULL;
	if (!e || e->state == E_FAILED)
		return -ENOENT;
	if (e->state == E_RUNNING)
		return -EAGAIN;
	e->used = ++s->tick;
	*pcm = e->pcm;
	*n = e->n;
	return 0;
}

int gw_speak_wait(struct gw_speak *s, int ms)
{
	int64_t end = gw_loop_now_ms(s->loop) + ms;
	while (s->running && gw_loop_now_ms(s->loop) < end)
		gw_loop_run_once(s->loop, 10);
	return s->running ? -ETIMEDOUT : 0;
}
