/*
 * fuzz_web: libFuzzer target for what rinki-web parses from a browser (tools/web/form.c)
 * and how it escapes (html.c). Byte 0 picks: even, the rest is a POST body for
 * web_form_parse(); odd, the rest is "NAME\nHEADER" for web_cookie_get(); 'M', the rest is
 * a multipart/form-data body (boundary "B") for web_multipart_parse(). Checked besides
 * memory errors: an accepted form has 1..WEB_FORM_FIELDS unique keys of [a-z0-9_] and
 * values that are text, and encoding it again parses back to the same fields; a rejected
 * one says why; a cookie value found is only [A-Za-z0-9_-] and fits; every value escaped
 * contains no '<', '>', '"', '\'' nor a raw '&' that does not start an entity; an accepted
 * upload has form-key names and text values, and its file lies inside the body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/form.h"
#include "web/html.h"

static void check_escaped(const char *s)
{
	struct web_buf b = {0};
	web_buf_esc(&b, s);
	if (b.failed)
		abort();
	for (size_t i = 0; b.data && i < b.len; i++) {
		char c = b.data[i];
		if (c == '<' || c == '>' || c == '"' || c == '\'')
			abort();
		if (c == '&' && strncmp(b.data + i, "&amp;", 5) && strncmp(b.data + i, "&lt;", 4) &&
		    strncmp(b.data + i, "&gt;", 4) && strncmp(b.data + i, "&quot;", 6) &&
		    strncmp(b.data + i, "&#39;", 5))
			abort();
	}
	if (b.data && !web_text_ok(b.data, b.len))
		abort();
	web_buf_free(&b);
}

static size_t encode(char *dst, size_t room, const struct web_form *f)
{
	size_t o = 0;
	for (int i = 0; i < f->n; i++) {
		o += (size_t)snprintf(dst + o, room - o, "%s%s=", i ? "&" : "", f->f[i].key);
		for (const unsigned char *p = (const unsigned char *)f->f[i].value; *p; p++)
			o += (size_t)snprintf(dst + o, room - o, "%%%02X", *p);
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct web_form f, g;
	static char again[3 * WEB_FORM_BODY_MAX + 64];

	if (size < 1)
		return 0;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	if (data[0] == 'M') {
		static struct web_upload u;
		const char *why = NULL;
		if (web_multipart_parse("multipart/form-data; boundary=B", in, len, &u, &why) < 0) {
			if (!why)
				abort();
			return 0;
		}
		for (int i = 0; i < u.fields.n; i++) {
			size_t k = strlen(u.fields.f[i].key);
			if (k == 0 || k > WEB_FORM_KEY_MAX ||
			    strspn(u.fields.f[i].key, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
				k ||
			    !web_text_ok(u.fields.f[i].value, strlen(u.fields.f[i].value)))
				abort();
		}
		if (u.data && (u.data < in || u.data + u.len > in + len || !u.file_field[0]))
			abort();
		return 0;
	}
	if ((data[0] & 1) == 0) {
		const char *why = NULL;
		int rc = web_form_parse(in, len, &f, &why);
		if (rc < 0) {
			if (!why)
				abort();
			return 0;
		}
		if (f.n < 0 || f.n > WEB_FORM_FIELDS)
			abort();
		for (int i = 0; i < f.n; i++) {
			size_t k = strlen(f.f[i].key);
			if (k == 0 || k > WEB_FORM_KEY_MAX ||
			    strspn(f.f[i].key, "abcdefghijklmnopqrstuvwxyz0123456789_") != k)
				abort();
			if (!web_text_ok(f.f[i].value, strlen(f.f[i].value)))
				abort();
			for (int j = 0; j < i; j++)
				if (!strcmp(f.f[i].key, f.f[j].key))
					abort();
			if (web_form_get(&f, f.f[i].key) != f.f[i].value)
				abort();
			check_escaped(f.f[i].value);
		}
		size_t n = encode(again, sizeof(again), &f);
		if (n <= WEB_FORM_BODY_MAX) {
			if (web_form_parse(again, n, &g, NULL) != 0 || g.n != f.n)
				abort();
			for (int i = 0; i < f.n; i++)
				if (strcmp(f.f[i].key, g.f[i].key) ||
				    strcmp(f.f[i].value, g.f[i].value))
					abort();
		}
		return 0;
	}
	char *copy = malloc(len + 1), out[WEB_COOKIE_VAL_MAX + 1];
	if (!copy)
		return 0;
	memcpy(copy, in, len);
	copy[len] = '\0';
	char *nl = strchr(copy, '\n');
	const char *name = copy, *header = nl ? nl + 1 : NULL;
	if (nl)
		*nl = '\0';
	int rc = web_cookie_get(header, name, out, sizeof(out));
	if (rc >= 0) {
		if ((size_t)rc != strlen(out) || rc > WEB_COOKIE_VAL_MAX ||
		    strspn(out,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
			(size_t)rc)
			abort();
	}
	check_escaped(copy);
	free(copy);
	return 0;
}
