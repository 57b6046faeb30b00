/*
 * serial: one serial port through libserialport, owned by the event loop.
 *
 * Opens the port 8N1 without flow control, registers its fd with the loop,
 * hands received bytes to the owner, buffers writes that the port cannot take
 * at once, and on hang-up (EIO, POLLHUP, device gone) closes the port, tells
 * the owner, and reopens with backoff (0.2 s doubling to 5 s) until it is back.
 */
#ifndef GW_SERIAL_H
#define GW_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/loop.h"

struct gw_serial;

struct gw_serial_ops {
	/* Bytes arrived. */
	void (*data)(void *arg, const char *buf, size_t len);
	/* The port opened (up = 1) or hung up / closed (up = 0). */
	void (*state)(void *arg, int up);
	void *arg;
};

/*
 * Create the port object and try to open it at once. A failed first open is
 * logged and retried with backoff; the object is still returned.
 * Returns 0 and *out, or -ENOMEM.
 */
int gw_serial_new(struct gw_loop *loop, enum gw_log_cat cat, const char *path, int baud,
		  const struct gw_serial_ops *ops, struct gw_serial **out);
/* Close the port and free the object. */
void gw_serial_free(struct gw_serial *s);

/* 1 when the port is open, else 0. */
int gw_serial_is_up(const struct gw_serial *s);

/*
 * Queue len bytes for writing; as much as possible is written at once.
 * Returns 0, -ENOTCONN when the port is down, -ENOBUFS when the output buffer is full.
 */
int gw_serial_write(struct gw_serial *s, const void *buf, size_t len);

/* Close the port now and reopen it after the backoff (used by recovery ladders). */
void gw_serial_reopen(struct gw_serial *s);

#endif
