/*
 * ctl_proto: the control socket's line codec (include/rinki/proto.h grammar), shared by
 * rinkid's control socket (ctl.c) and its clients (rinkictl). Pure functions: no I/O, no
 * allocation, no state.
 */
#ifndef GW_CTL_PROTO_H
#define GW_CTL_PROTO_H

#include <stddef.h>

#include "rinki/proto.h"

/* One parsed line: a verb and key=value pairs, decoded, pointing into buf. */
struct gw_ctl_arg {
	const char *key, *value;
};
struct gw_ctl_msg {
	const char *verb;
	int nargs;
	struct gw_ctl_arg args[RINKI_CTL_ARGS_MAX];
	char buf[RINKI_CTL_REPLY_MAX];
};

/*
 * Parse a request or "ok" reply line (len bytes, no LF; a trailing CR is dropped).
 * Returns 0, -EMSGSIZE (longer than buf) or -EINVAL, with the reason in err.
 */
int gw_ctl_parse(const char *line, size_t len, struct gw_ctl_msg *out, char *err, size_t errlen);

/* The value of key in m, or NULL. */
const char *gw_ctl_msg_get(const struct gw_ctl_msg *m, const char *key);

/*
 * Percent-encode s as a value into dst (NUL-terminated). Returns the length written, or
 * -ENOSPC when it does not fit.
 */
int gw_ctl_encode(char *dst, size_t dstlen, const char *s);

#endif
