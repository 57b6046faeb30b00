/*
 * form: rinki-web's own parsers for what a browser sends (form.h). A POST body is decoded
 * in one pass into the form's fixed buffer, each key checked against a small alphabet and
 * each value against UTF-8; a Cookie header is scanned pair by pair without copying
 * anything but the one value asked for. Tokens are random hex from libsodium and compared
 * with sodium_memcmp().
 */
#include "form.h"
#include "core/hex.h"
#include "core/text.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

bool web_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n;
		uint32_t cp;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		n = gw_utf8_len(p, (size_t)(end - p), &cp);
		if (!n || (cp >= 0x80 && cp <= 0x9f)) /* not UTF-8, or a C1 control */
			return false;
		p += n;
	}
	return true;
}

/* Decode src[0..len) into dst (room checked by the caller: decoding never grows). */
static int decode(const char *src, size_t len, char *dst, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '+') {
			dst[o++] = ' ';
		} else if (c == '%') {
			if (len - i < 3)
				return -EINVAL;
			int hi = gw_hexval((unsigned char)src[i + 1]),
			    lo = gw_hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e) {
			return -EINVAL; /* raw spaces, controls and 8-bit bytes are never sent */
		} else {
			dst[o++] = c;
		}
	}
	dst[o] = '\0';
	*outlen = o;
	return 0;
}

static int fail(const char **why, const char *reason, int rc)
{
	if (why)
		*why = reason;
	return rc;
}

int web_form_parse(const char *body, size_t len, struct web_form *out, const char **why)
{
	size_t used = 0;

	out->n = 0;
	if (why)
		*why = NULL;
	if (len > WEB_FORM_BODY_MAX)
		return fail(why, "form too long", -EMSGSIZE);
	for (size_t i = 0; i < len;) {
		const char *pair = body + i;
		const char *amp = memchr(pair, '&', len - i);
		size_t plen = amp ? (size_t)(amp - pair) : len - i;
		i += plen + 1;
		if (plen == 0)
			continue;
		if (out->n == WEB_FORM_FIELDS)
			return fail(why, "too many fields", -E2BIG);
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		if (klen == 0 || klen > WEB_FORM_KEY_MAX)
			return fail(why, "bad field name", -EINVAL);
		for (size_t k = 0; k < klen; k++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", pair[k]) || !pair[k])
				return fail(why, "bad field name", -EINVAL);
		/* key and value fit: the buffer holds the body plus two NULs per field */
		char *key = out->buf + used;
		memcpy(key, pair, klen);
		key[klen] = '\0';
		used += klen + 1;
		for (int j = 0; j < out->n; j++)
			if (strcmp(out->f[j].key, key) == 0)
				return fail(why, "field given twice", -EINVAL);
		char *val = out->buf + used;
		size_t vlen = 0;
		if (eq && decode(eq + 1, plen - klen - 1, val, &vlen) < 0)
			return fail(why, "bad %-escape or raw byte in a value", -EINVAL);
		if (!eq)
			val[0] = '\0';
		if (memchr(val, '\0', vlen) || !web_text_ok(val, vlen))
			return fail(why, "value is not text", -EINVAL);
		used += vlen + 1;
		out->f[out->n].key = key;
		out->f[out->n].value = val;
		out->n++;
	}
	return 0;
}

const char *web_form_get(const struct web_form *f, const char *key)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->f[i].key, key) == 0)
			return f->f[i].value;
	return NULL;
}

static bool cookie_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

int web_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);

	if (!header || !nlen)
		return -ENOENT;
	for (const char *p = header; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *end = strchr(p, ';');
		size_t plen = end ? (size_t)(end - p) : strlen(p);
		if (plen > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t vlen = plen - nlen - 1;
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen > WEB_COOKIE_VAL_MAX || vlen >= outlen)
				return -EMSGSIZE;
			for (size_t i = 0; i < vlen; i++)
				if (!cookie_char(v[i]))
					return -EINVAL;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return (int)vlen;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return -ENOENT;
}

void web_token_new(char out[WEB_TOKEN_HEX + 1])
{
	unsigned char raw[WEB_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, WEB_TOKEN_HEX + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

bool web_token_eq(const char *held, const char *sent)
{
	if (!held || !sent)
		return false;
	size_t n = strlen(held);
	if (n == 0 || strlen(sent) != n)
		return false;
	return sodium_memcmp(held, sent, n) == 0;
}
