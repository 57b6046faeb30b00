/*
 * dtmf: in-band DTMF detection on the phone leg's capture, and the rule that joins
 * it with the modem's DTMF reports.
 *
 * The detector is spandsp's dtmf_rx (Goertzel pair per tone group with energy,
 * twist and duration checks), fed with S16 mono periods at the phone device's rate;
 * rates above 8 kHz that are multiples of 8 kHz are low-pass filtered and
 * decimated to the 8 kHz the detector is built for. Each key press is reported once
 * through a callback.
 *
 * The same key can reach rinkid twice: in-band from this detector and as a modem
 * URC (+QTONEDET, +RXDTMF). gw_dtmf_dedup_accept() treats a report of the same key
 * from the other source within GW_DTMF_DEDUP_MS of an accepted one as the same
 * press; the call module applies it where both sources meet (gw_calls_phone_key).
 */
#ifndef GW_DTMF_H
#define GW_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_dtmf_src { GW_DTMF_SRC_MODEM, GW_DTMF_SRC_INBAND };

/* Two reports of one key from the two sources closer than this are one press. */
#define GW_DTMF_DEDUP_MS 150

struct gw_dtmf;

/* Called once per detected key press: '0'..'9', '*', '#', 'A'..'D'. */
typedef void (*gw_dtmf_fn)(void *arg, char digit);

/*
 * A detector for S16 mono at rate Hz: 8000, or a multiple of 8000 up to 48000.
 * Returns 0, -EINVAL for another rate or a NULL fn (logged), -ENOMEM.
 */
int gw_dtmf_new(unsigned int rate, gw_dtmf_fn fn, void *arg, struct gw_dtmf **out);
/* Free the detector. NULL is fine. */
void gw_dtmf_free(struct gw_dtmf *d);
/*
 * Feed n samples (any n, any values). Calls fn for each key press completed in
 * them. Returns the number of keys reported by this call (>= 0).
 */
int gw_dtmf_feed(struct gw_dtmf *d, const int16_t *s, size_t n);
/* Forget any tone in progress (a new call, or a gap in the audio). */
void gw_dtmf_reset(struct gw_dtmf *d);

/* Which key reports are one press: the last accepted report. Zero it to start. */
struct gw_dtmf_dedup {
	bool have;
	bool matched; /* the other source already reported this press */
	char digit;
	enum gw_dtmf_src src;
	int64_t ms;
};

/*
 * Decide on a report of digit from src at now_ms (monotonic). false: it is the other
 * source's report of the press accepted last (same key, within GW_DTMF_DEDUP_MS,
 * not matched yet); drop it. true: a new press.
 */
bool gw_dtmf_dedup_accept(struct gw_dtmf_dedup *dd, char digit, enum gw_dtmf_src src,
			  int64_t now_ms);

#endif
