/*
 * rec: recording of authority calls to WAV, off the real-time path.
 *
 * The bridge hands every capture period to gw_rec_push() (radio -> left channel, phone
 * -> right): a copy into a lock-free single-producer/single-consumer ring, nothing
 * else, so the audio path never waits for the disk. A writer thread, started per
 * recording, drains the ring into a 16-bit stereo WAV file (libsndfile) of mode 0600
 * named after the incident. A full ring drops the period and counts it.
 */
#ifndef GW_REC_H
#define GW_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Channel of a pushed period: the radio side is left, the phone side right. */
enum gw_rec_chan { GW_REC_RADIO = 0, GW_REC_PHONE = 1 };

struct gw_rec;

struct gw_rec_stats {
	uint64_t pushed[2];  /* frames handed to gw_rec_push() per channel */
	uint64_t dropped[2]; /* frames lost because the ring was full */
	uint64_t written;    /* stereo frames in the file */
	uint64_t padded[2];  /* silent frames written where a channel had nothing */
	int write_error;     /* first libsndfile write error (negative errno), 0 none */
};

/*
 * A recorder for files in dir at rate Hz, whose pushes are at most max_frames long
 * (longer ones are split). dir is created (0700) when missing. 0, -EINVAL, -ENOMEM or
 * -errno from mkdir (logged).
 */
int gw_rec_new(const char *dir, unsigned int rate, unsigned int max_frames, struct gw_rec **out);
/* Stop a running recording (see gw_rec_stop) and free. NULL is fine. */
void gw_rec_free(struct gw_rec *r);

/*
 * Create <dir>/incident-<id>.wav (or -<id>-2 ... -9 when taken) with mode 0600 and start
 * the writer thread; the path goes to path[0..len). 0, -EALREADY (one is running),
 * -ENAMETOOLONG, -EEXIST, or -errno (logged).
 */
int gw_rec_start(struct gw_rec *r, int64_t incident, char *path, size_t len);
/*
 * Flush what the ring still holds, pad the shorter channel with silence, close the file
 * and join the writer; logs the counts and any drops. 0, or -EALREADY when not running.
 * Call from the thread that pushes.
 */
int gw_rec_stop(struct gw_rec *r);
/* True between gw_rec_start() and gw_rec_stop(). */
int gw_rec_running(const struct gw_rec *r);

/*
 * Real-time safe: copy n frames of channel ch into the ring; no lock, no syscall, no
 * allocation. Does nothing when no recording runs. Only one thread may push.
 */
void gw_rec_push(struct gw_rec *r, enum gw_rec_chan ch, const int16_t *pcm, int n);

/* Counters of the current or last recording (written: as far as the writer got). Returns 0. */
int gw_rec_stats(const struct gw_rec *r, struct gw_rec_stats *st);

/*
 * record.lines: is line (a service line code, NULL or "" when unrouted) in lines, a
 * comma-separated list of codes (spaces around them ignored)? An empty list selects
 * every call, unrouted ones too; a non-empty one never selects an unrouted call.
 */
bool gw_rec_line_selected(const char *lines, const char *line);

#endif
