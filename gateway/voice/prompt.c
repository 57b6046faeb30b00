/*
 * prompt: voice prompts as PCM in memory.
 *
 * A file is read whole (bounded) and handed to libsndfile through its virtual-I/O
 * interface, so the same parser serves files, the fuzz target and synthesized names;
 * what rinkid accepts is then checked field by field (one channel, 16-bit PCM, the
 * device rate, length). Prompts are not resampled at run time: they are built for
 * the configured rate (make PROMPT_RATE=...), and a mismatch is an error that says so.
 * The announcement is composed once per call into a buffer the set owns.
 */
#include "voice/prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define GAP_MS	 300
#define FILE_MAX ((size_t)48000 * 2 * GW_PROMPT_MAX_S + 4096)

static const char *const names[GW_PROMPT_COUNT] = {
    [GW_PROMPT_ANNOUNCE_FROM] = "announce_from",
    [GW_PROMPT_ANNOUNCE] = "announce",
    [GW_PROMPT_KEYS] = "keys",
    [GW_PROMPT_HOLD] = "hold",
    [GW_PROMPT_NOBODY] = "nobody",
};

struct gw_prompts {
	struct gw_prompt p[GW_PROMPT_COUNT];
	unsigned int rate;
	int16_t *ann; /* the last composed announcement */
};

const char *gw_prompt_name(enum gw_prompt_id id)
{
	return id < GW_PROMPT_COUNT ? names[id] : "?";
}

/* ---- libsndfile over a memory buffer --------------------------------------- */

struct mem {
	const unsigned char *buf;
	sf_count_t len, pos;
};

static sf_count_t mem_len(void *arg)
{
	return ((struct mem *)arg)->len;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *arg)
{
	struct mem *m = arg;
	sf_count_t to = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off : m->len + off;
	if (to < 0 || to > m->len)
		return -1;
	m->pos = to;
	return to;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *arg)
{
	struct mem *m = arg;
	sf_count_t n = count < m->len - m->pos ? count : m->len - m->pos;
	if (n <= 0)
		return 0;
	memcpy(ptr, m->buf + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *arg)
{
	(void)ptr;
	(void)count;
	(void)arg;
	return 0;
}

static sf_count_t mem_tell(void *arg)
{
	return ((struct mem *)arg)->pos;
}

/* what NULL: the caller runs outside the loop's thread and logs itself */
static int bad(const char *what, const char *why)
{
	if (what)
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "prompt %s: %s", what, why);
	return -EINVAL;
}

int gw_prompt_parse(const void *buf, size_t len, unsigned int rate, const char *what,
		    struct gw_prompt *out)
{
	memset(out, 0, sizeof(*out));
	if (len > FILE_MAX)
		return bad(what, "file too long");
	SF_VIRTUAL_IO io = {mem_len, mem_seek, mem_read, mem_write, mem_tell};
	struct mem m = {.buf = buf, .len = (sf_count_t)len};
	SF_INFO info = {0};
	SNDFILE *f = sf_open_virtual(&io, SFM_READ, &info, &m);
	if (!f)
		return bad(what, sf_strerror(NULL));
	int err = 0;
	char why[96];
	if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV ||
	    (info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_PCM_16 || info.channels != 1) {
		err = bad(what, "not a 16-bit mono RIFF/WAVE file");
	} else if (info.samplerate < 8000 || info.samplerate > 48000 ||
		   (rate && (unsigned)info.samplerate != rate)) {
		snprintf(why, sizeof(why), "%d Hz where %u Hz is needed (make PROMPT_RATE=%u)",
			 info.samplerate, rate, rate);
		err = bad(what, why);
	} else if (info.frames < 1 || info.frames > (sf_count_t)info.samplerate * GW_PROMPT_MAX_S) {
		err = bad(what, "empty or longer than a minute");
	}
	if (err) {
		sf_close(f);
		return err;
	}
	out->pcm = malloc((size_t)info.frames * sizeof(*out->pcm));
	if (!out->pcm) {
		sf_close(f);
		return -ENOMEM;
	}
	sf_count_t got = sf_readf_short(f, out->pcm, info.frames);
	sf_close(f);
	if (got < 1) {
		gw_prompt_clear(out);
		return bad(what, "no samples");
	}
	out->n = (size_t)got; /* a data chunk that claims more than the file holds: what is there */
	out->rate = (unsigned)info.samplerate;
	return 0;
}

void gw_prompt_clear(struct gw_prompt *p)
{
	free(p->pcm);
	memset(p, 0, sizeof(*p));
}

/* ---- the set ------------------------------------------------------------------ */

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		LOGP(GW_LOG_AUDIO, GW_LOG_ERROR, "prompt %s: %s", path, strerror(errno));
		return err;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (size_t)st.st_size > FILE_MAX) {
		close(fd);
		return bad(path, "not a regular file of at most a minute of audio");
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	ssize_t r = read(fd, *buf, *len);
	close(fd);
	if (r != (ssize_t)*len) {
		free(*buf);
		return bad(path, "short read");
	}
	return 0;
}

int gw_prompt_load(const char *dir, const char *lang, const char *name, unsigned int rate,
		   struct gw_prompt *out)
{
	char path[512];
	unsigned char *buf = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/%s/%s.wav", dir, lang, name);
	int err = read_file(path, &buf, &len);
	if (err < 0)
		return err;
	err = gw_prompt_parse(buf, len, rate, path, out);
	free(buf);
	return err;
}

int gw_prompts_load(const char *dir, const char *lang, unsigned int rate, struct gw_prompts **out)
{
	struct gw_prompts *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rate = rate;
	for (int i = 0; i < GW_PROMPT_COUNT; i++) {
		char path[512];
		unsigned char *buf = NULL;
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s/%s.wav", dir, lang, names[i]);
		int err = read_file(path, &buf, &len);
		if (err == 0) {
			err = gw_prompt_parse(buf, len, rate, path, &p->p[i]);
			free(buf);
		}
		if (err < 0) {
			gw_prompts_free(p);
			return err;
		}
	}
	LOGP(GW_LOG_AUDIO, GW_LOG_INFO, "prompts: %s/%s at %u Hz", dir, lang, rate);
	*out = p;
	return 0;
}

void gw_prompts_free(struct gw_prompts *p)
{
	if (!p)
		return;
	for (int i = 0; i < GW_PROMPT_COUNT; i++)
		gw_prompt_clear(&p->p[i]);
	free(p->ann);
	free(p);
}

const struct gw_prompt *gw_prompts_get(const struct gw_prompts *p, enum gw_prompt_id id)
{
	return &p->p[id];
}

int gw_prompts_announcement(struct gw_prompts *p, const int16_t *org, size_t n, const int16_t **pcm,
			    size_t *len)
{
	const struct gw_prompt *head =
	    &p->p[org && n ? GW_PROMPT_ANNOUNCE_FROM : GW_PROMPT_ANNOUNCE];
	const struct gw_prompt *keys = &p->p[GW_PROMPT_KEYS];
	size_t gap = p->rate * GAP_MS / 1000;
	if (!org)
		n = 0;
	size_t total = head->n + (n ? gap + n : 0) + gap + keys->n;
	int16_t *a = calloc(total, sizeof(*a));
	if (!a)
		return -ENOMEM;
	size_t at = 0;
	memcpy(a, head->pcm, head->n * sizeof(*a));
	at += head->n;
	if (n) {
		at += gap;
		memcpy(a + at, org, n * sizeof(*a));
		at += n;
	}
	at += gap;
	memcpy(a + at, keys->pcm, keys->n * sizeof(*a));
	free(p->ann);
	p->ann = a;
	*pcm = a;
	*len = total;
	return 0;
}
