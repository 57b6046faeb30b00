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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* ---- multipart/form-data ----------------------------------------------------------------- */

static bool bchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("'()+_,-./:=?", c) != NULL;
}

/* The boundary of a multipart/form-data Content-Type into b (NUL-terminated). 0 or -EINVAL. */
static int boundary_of(const char *ctype, char b[71])
{
	static const char mf[] = "multipart/form-data";
	const char *p;
	size_t n = 0;

	if (!ctype || strncasecmp(ctype, mf, sizeof(mf) - 1) != 0)
		return -EINVAL;
	p = ctype + sizeof(mf) - 1;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ';')
			return -EINVAL;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9) == 0)
			break;
		p = strchr(p, ';'); /* another parameter */
		if (!p)
			return -EINVAL;
	}
	p += 9;
	bool quoted = *p == '"';
	p += quoted;
	while (*p && (quoted ? *p != '"' : *p != ';' && *p != ' ')) {
		if (n == 70 || !(bchar(*p) || (quoted && *p == ' ')))
			return -EINVAL;
		b[n++] = *p++;
	}
	if (quoted && *p++ != '"')
		return -EINVAL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (n == 0 || (*p && *p != ';'))
		return -EINVAL;
	b[n] = '\0';
	return 0;
}

/* The quoted parameter name="..." of a Content-Disposition value into out. 1, 0 absent. */
static int disp_param(const char *v, size_t vlen, const char *name, char *out, size_t outlen,
		      size_t *olen)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl + 2 < vlen; i++) {
		if ((i && v[i - 1] != ' ' && v[i - 1] != ';') || strncasecmp(v + i, name, nl) ||
		    v[i + nl] != '=' || v[i + nl + 1] != '"')
			continue;
		const char *s = v + i + nl + 2, *e = memchr(s, '"', vlen - (size_t)(s - v));
		if (!e || (size_t)(e - s) >= outlen)
			return -EINVAL;
		memcpy(out, s, (size_t)(e - s));
		out[e - s] = '\0';
		*olen = (size_t)(e - s);
		return 1;
	}
	return 0;
}

int web_multipart_parse(const char *ctype, const char *body, size_t len, struct web_upload *out,
			const char **why)
{
	char b[71], delim[76], name[WEB_FORM_KEY_MAX + 2], fname[256];
	size_t dl, used = 0;

	memset(out, 0, offsetof(struct web_upload, fields.buf));
	out->file_field[0] = '\0';
	out->data = NULL;
	out->len = 0;
	if (why)
		*why = NULL;
	if (len > WEB_UPLOAD_MAX)
		return fail(why, "upload too long", -EMSGSIZE);
	if (boundary_of(ctype, b) < 0)
		return fail(why, "not multipart/form-data with a boundary", -EINVAL);
	dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", b);
	/* the first delimiter has no CRLF before it */
	if (len < dl - 2 + 2 || memcmp(body, delim + 2, dl - 2) != 0)
		return fail(why, "does not start with the boundary", -EINVAL);
	size_t i = dl - 2;
	for (;;) {
		if (len - i >= 2 && body[i] == '-' && body[i + 1] == '-') { /* the closing one */
			i += 2;
			if (i == len || (len - i == 2 && body[i] == '\r' && body[i + 1] == '\n'))
				return 0;
			return fail(why, "data after the closing boundary", -EINVAL);
		}
		if (len - i < 2 || body[i] != '\r' || body[i + 1] != '\n')
			return fail(why, "no CRLF after a boundary", -EINVAL);
		i += 2;
		/* headers, up to an empty line */
		const char *h = body + i;
		size_t room = len - i < WEB_UPLOAD_HEAD_MAX + 4 ? len - i : WEB_UPLOAD_HEAD_MAX + 4;
		const char *hend = memmem(h, room, "\r\n\r\n", 4);
		if (!hend)
			return fail(why, "part headers too long or unterminated", -EINVAL);
		bool have_name = false, have_file = false;
		size_t nlen = 0, flen = 0;
		for (const char *l = h; l < hend + 2;) {
			const char *le = memmem(l, (size_t)(hend + 2 - l), "\r\n", 2);
			size_t ll = (size_t)(le - l);
			for (size_t k = 0; k < ll; k++)
				if ((unsigned char)l[k] < 0x20 && l[k] != '\t')
					return fail(why, "control character in a part header",
						    -EINVAL);
			static const char cd[] = "content-disposition:";
			if (ll >= sizeof(cd) - 1 && strncasecmp(l, cd, sizeof(cd) - 1) == 0) {
				const char *v = l + sizeof(cd) - 1;
				size_t vl = ll - (sizeof(cd) - 1);
				while (vl && *v == ' ')
					v++, vl--;
				if (have_name || vl < 9 || strncasecmp(v, "form-data", 9) != 0)
					return fail(why, "bad Content-Disposition", -EINVAL);
				int r1 = disp_param(v, vl, "name", name, sizeof(name), &nlen);
				int r2 = disp_param(v, vl, "filename", fname, sizeof(fname), &flen);
				if (r1 != 1 || r2 < 0)
					return fail(why, "bad Content-Disposition", -EINVAL);
				have_name = true;
				have_file = r2 == 1;
			}
			l = le + 2;
		}
		if (!have_name || nlen == 0 || nlen > WEB_FORM_KEY_MAX)
			return fail(why, "a part without a good name", -EINVAL);
		for (size_t k = 0; k < nlen; k++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", name[k]))
				return fail(why, "bad field name", -EINVAL);
		/* the content, up to the next delimiter */
		size_t cstart = (size_t)(hend + 4 - body);
		const char *d = memmem(body + cstart, len - cstart, delim, dl);
		if (!d)
			return fail(why, "no closing boundary", -EINVAL);
		size_t clen = (size_t)(d - body) - cstart;
		if (web_form_get(&out->fields, name) || strcmp(out->file_field, name) == 0)
			return fail(why, "field given twice", -EINVAL);
		if (have_file) {
			if (out->file_field[0])
				return fail(why, "more than one file", -EINVAL);
			memcpy(out->file_field, name, nlen + 1);
			out->data = body + cstart;
			out->len = clen;
		} else {
			if (out->fields.n == WEB_FORM_FIELDS)
				return fail(why, "too many fields", -E2BIG);
			if (clen > WEB_UPLOAD_TEXT_MAX || memchr(body + cstart, '\0', clen) ||
			    !web_text_ok(body + cstart, clen))
				return fail(why, "value is not text", -EINVAL);
			if (used + nlen + clen + 2 > sizeof(out->fields.buf))
				return fail(why, "too many fields", -E2BIG);
			char *key = out->fields.buf + used;
			memcpy(key, name, nlen + 1);
			used += nlen + 1;
			char *val = out->fields.buf + used;
			memcpy(val, body + cstart, clen);
			val[clen] = '\0';
			used += clen + 1;
			out->fields.f[out->fields.n].key = key;
			out->fields.f[out->fields.n].value = val;
			out->fields.n++;
		}
		i = (size_t)(d - body) + dl;
	}
}
