/*
 * ctl_client: the client end of rinkid's control socket (include/rinki/proto.h), shared
 * by rinkictl and rinki-web: connect, send one request line with an optional descriptor
 * (SCM_RIGHTS), read its whole reply ("+" lines, then the final ok/err/JSON line). One
 * request at a time per connection. Links nothing else of the daemon.
 */
#ifndef GW_CTL_CLIENT_H
#define GW_CTL_CLIENT_H

#include <stddef.h>

#include "rinki/proto.h"

/* A reply buffer that holds any reply (multi-line ones too). */
#define GW_CTL_CLIENT_REPLY_MAX RINKI_CTL_MULTI_MAX

/*
 * Connect to the socket at path. Returns the connected descriptor (close it), or -errno:
 * -ENOENT (no socket: rinkid not started), -ECONNREFUSED (stale socket: not running),
 * -EACCES (no access to the socket file), -ENAMETOOLONG.
 */
int gw_ctl_client_connect(const char *path);

/*
 * Send request line (without LF; one is added) on sock, with fd (-1: none) attached to
 * it. Returns 0, -EINVAL (line has LF or NUL, or is too long) or -errno.
 */
int gw_ctl_client_send(int sock, const char *line, int fd);

/*
 * Read one whole reply from sock into buf (len bytes; GW_CTL_CLIENT_REPLY_MAX holds any):
 * its lines joined by LF, without the last LF, NUL-terminated. Waits at most timeout_ms
 * in all. Returns 0 (final line ok or JSON), 1 (final line err), -ETIMEDOUT,
 * -ECONNRESET (closed before the final line), -EMSGSIZE (does not fit len) or -errno.
 */
int gw_ctl_client_read(int sock, char *buf, size_t len, int timeout_ms);

/* Connect, send line with fd, read the reply, close: as the three above. */
int gw_ctl_client_request(const char *path, const char *line, int fd, char *buf, size_t len,
			  int timeout_ms);

/* The final line of a reply read by gw_ctl_client_read (after any "+" lines). */
const char *gw_ctl_client_final(const char *reply);

#endif
