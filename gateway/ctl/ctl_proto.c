/*
 * ctl_proto: parse and encode control-socket lines: a verb, then key=value pairs whose
 * values are percent-encoded (include/rinki/proto.h). Every byte is checked; a line that
 * breaks the grammar is refused with the reason, never half-parsed.
 */
#include "ctl/ctl_proto.h"
#include "core/hex.h"
#include "core/text.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- parsing and encoding ------------------------------------------------------------- */

static bool verb_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static bool key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Valid UTF-8 without C0/C1 control characters or DEL. Returns the bad offset or -1. */
static long text_bad_at(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		uint32_t cp;
		size_t k;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return (long)i;
			i++;
			continue;
		}
		k = gw_utf8_len(s + i, n - i, &cp);
		if (!k || (cp >= 0x80 && cp <= 0x9f)) /* not UTF-8, or a C1 control */
			return (long)i;
		i += k;
	}
	return -1;
}

int gw_ctl_parse(const char *line, size_t len, struct gw_ctl_msg *m, char *err, size_t errlen)
{
	m->verb = NULL;
	m->nargs = 0;
	if (len && line[len - 1] == '\r')
		len--;
	if (len >= sizeof(m->buf)) {
		snprintf(err, errlen, "line longer than %zu bytes", sizeof(m->buf) - 1);
		return -EMSGSIZE;
	}
	char *o = m->buf;
	size_t i = 0, w = 0;
	while (i < len && verb_char((unsigned char)line[i]))
		o[w++] = line[i++];
	if (w == 0 || w > RINKI_CTL_WORD_MAX) {
		snprintf(err, errlen,
			 w ? "request name longer than %d characters"
			   : "a line starts with a request name (a-z, 0-9, -)",
			 RINKI_CTL_WORD_MAX);
		return -EINVAL;
	}
	o[w++] = '\0';
	m->verb = o;
	while (i < len) {
		if (line[i] != ' ') {
			snprintf(err, errlen, "bad byte 0x%02x at column %zu",
				 (unsigned char)line[i], i + 1);
			return -EINVAL;
		}
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		size_t k0 = i, kw = w;
		while (i < len && key_char((unsigned char)line[i]))
			o[w++] = line[i++];
		if (i == k0) {
			snprintf(err, errlen,
				 "bad byte 0x%02x at column %zu: expected a key (a-z, 0-9, _, .)",
				 (unsigned char)line[i], i + 1);
			return -EINVAL;
		}
		if (i - k0 > RINKI_CTL_WORD_MAX) {
			snprintf(err, errlen, "key at column %zu longer than %d characters", k0 + 1,
				 RINKI_CTL_WORD_MAX);
			return -EINVAL;
		}
		if (i == len || line[i] != '=') {
			snprintf(err, errlen, "key '%.*s' has no '=value'", (int)(i - k0),
				 line + k0);
			return -EINVAL;
		}
		o[w++] = '\0';
		i++;
		size_t v0 = w;
		while (i < len && line[i] != ' ') {
			unsigned char c = (unsigned char)line[i];
			if (c == '%') {
				int hi = i + 2 < len ? gw_hexval((unsigned char)line[i + 1]) : -1;
				int lo = i + 2 < len ? gw_hexval((unsigned char)line[i + 2]) : -1;
				if (hi < 0 || lo < 0) {
					snprintf(err, errlen, "bad %%-escape at column %zu", i + 1);
					return -EINVAL;
				}
				o[w++] = (char)(hi << 4 | lo);
				i += 3;
			} else if (c > 0x20 && c < 0x7f) {
				o[w++] = (char)c;
				i++;
			} else {
				snprintf(err, errlen, "bad byte 0x%02x at column %zu (use %%%02X)",
					 c, i + 1, c);
				return -EINVAL;
			}
		}
		long bad = text_bad_at((const unsigned char *)o + v0, w - v0);
		if (bad >= 0) {
			snprintf(err, errlen,
				 "value of '%s': byte %ld is not UTF-8 text without control "
				 "characters",
				 o + kw, bad + 1);
			return -EINVAL;
		}
		o[w++] = '\0';
		if (gw_ctl_msg_get(m, o + kw)) {
			snprintf(err, errlen, "key '%s' given twice", o + kw);
			return -EINVAL;
		}
		if (m->nargs == RINKI_CTL_ARGS_MAX) {
			snprintf(err, errlen, "more than %d key=value pairs", RINKI_CTL_ARGS_MAX);
			return -EINVAL;
		}
		m->args[m->nargs].key = o + kw;
		m->args[m->nargs].value = o + v0;
		m->nargs++;
	}
	assert(w <= sizeof(m->buf));
	return 0;
}

const char *gw_ctl_msg_get(const struct gw_ctl_msg *m, const char *key)
{
	for (int i = 0; i < m->nargs; i++)
		if (strcmp(m->args[i].key, key) == 0)
			return m->args[i].value;
	return NULL;
}

int gw_ctl_encode(char *dst, size_t dstlen, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t w = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = c > 0x20 && c < 0x7f && c != '%';
		if (w + (plain ? 1 : 3) >= dstlen)
			return -ENOSPC;
		if (plain) {
			dst[w++] = (char)c;
		} else {
			dst[w++] = '%';
			dst[w++] = hex[c >> 4];
			dst[w++] = hex[c & 15];
		}
	}
	if (w >= dstlen)
		return -ENOSPC;
	dst[w] = '\0';
	return (int)w;
}
