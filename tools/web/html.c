/*
 * html: the page buffer and HTML escaping (html.h). The buffer doubles up to WEB_BUF_MAX
 * and then fails for good, so a runaway page is an error page and not an allocation
 * storm. Escaping walks UTF-8 sequences with form.c's validator and replaces what is not
 * text by U+FFFD.
 */
#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

static bool reserve(struct web_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n > WEB_BUF_MAX || b->len + n > WEB_BUF_MAX) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void web_buf_putn(struct web_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void web_buf_puts(struct web_buf *b, const char *s)
{
	web_buf_putn(b, s, strlen(s));
}

void web_buf_printf(struct web_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		web_buf_putn(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 character at p (1..4), or 0 when it is not text. */
static size_t char_len(const unsigned char *p, size_t left)
{
	size_t n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;

	if (n > left || !web_text_ok((const char *)p, n))
		return 0;
	return n;
}

void web_buf_esc(struct web_buf *b, const char *s)
{
	if (!s)
		return;
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	while (left) {
		const char *rep = NULL;
		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		}
		if (rep) {
			web_buf_puts(b, rep);
			p++;
			left--;
			continue;
		}
		size_t n = char_len(p, left);
		if (n == 0) {
			web_buf_puts(b, "\xef\xbf\xbd"); /* U+FFFD */
			p++;
			left--;
			continue;
		}
		web_buf_putn(b, (const char *)p, n);
		p += n;
		left -= n;
	}
}

void web_buf_free(struct web_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
