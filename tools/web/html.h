/*
 * html: the page buffer rinki-web renders into, and escaping. Every string that did not
 * come from this program's own literals goes through web_buf_esc() (element text and
 * attribute values alike), so nothing from the database, the roster or a form can open a
 * tag, an attribute or a script.
 */
#ifndef WEB_HTML_H
#define WEB_HTML_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_BUF_MAX (8u << 20) /* a page larger than this is an error, not a crash */

/* A growing buffer; failed is sticky once an append did not fit or malloc failed. */
struct web_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

/* Append s (raw: only for our own literals and already-safe text). */
void web_buf_puts(struct web_buf *b, const char *s);

/* Append n bytes of s raw. */
void web_buf_putn(struct web_buf *b, const char *s, size_t n);

/* Append printf output raw (numbers and our literals only). */
void web_buf_printf(struct web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Append s escaped for HTML text and quoted attribute values: & < > " ' become entities;
 * control characters (tab and newline included) and bytes that are not
 * valid UTF-8 become U+FFFD. NULL appends nothing.
 */
void web_buf_esc(struct web_buf *b, const char *s);

/* Free the data and zero the buffer. */
void web_buf_free(struct web_buf *b);

#endif
