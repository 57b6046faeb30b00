/*
 * form: what rinki-web reads from a browser before it trusts anything -- the body of an
 * application/x-www-form-urlencoded POST, the Cookie header, and the session and CSRF
 * tokens. Pure functions over caller-owned fixed buffers: no I/O, no allocation, so the
 * unit tests and the fuzz target (tests/fuzz/fuzz_web.c) run them as they are.
 */
#ifndef WEB_FORM_H
#define WEB_FORM_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_FORM_FIELDS	   16	/* fields in one form */
#define WEB_FORM_KEY_MAX   32	/* bytes of a field name, without the NUL */
#define WEB_FORM_BODY_MAX  4096 /* bytes of an encoded body */
#define WEB_TOKEN_BYTES	   32	/* random bytes in a session or CSRF token */
#define WEB_TOKEN_HEX	   (2 * WEB_TOKEN_BYTES)
#define WEB_COOKIE_VAL_MAX 128 /* bytes of one cookie value we accept */

struct web_form_field {
	const char *key, *value;
};

/* A parsed form; keys and values point into buf (decoded, NUL-terminated). */
struct web_form {
	int n;
	struct web_form_field f[WEB_FORM_FIELDS];
	char buf[WEB_FORM_BODY_MAX + WEB_FORM_FIELDS * 2];
};

/*
 * Parse an urlencoded body (len bytes, not NUL-terminated): "k=v&k2=v2", '+' is a space,
 * %XX a byte. A key is 1..WEB_FORM_KEY_MAX of [a-z0-9_]; it appears once; a value decodes
 * to valid UTF-8 without control characters (tab included). Empty pairs ("a=1&&b=2") are
 * skipped. Returns 0 and *out, -EMSGSIZE (len > WEB_FORM_BODY_MAX), -E2BIG (more fields
 * than WEB_FORM_FIELDS) or -EINVAL (anything malformed); why (may be NULL) names it.
 */
int web_form_parse(const char *body, size_t len, struct web_form *out, const char **why);

/* The value of key in f, or NULL when the form has no such field. */
const char *web_form_get(const struct web_form *f, const char *key);

/*
 * Find cookie name in a Cookie header ("a=1; b=2"; NULL header: none) and copy its value
 * into out[outlen]. Only values of [A-Za-z0-9_-] up to WEB_COOKIE_VAL_MAX are accepted;
 * the first occurrence of the name wins. Returns the value's length, -ENOENT (absent),
 * -EINVAL (malformed value) or -EMSGSIZE (longer than outlen - 1 or the maximum).
 */
int web_cookie_get(const char *header, const char *name, char *out, size_t outlen);

/* A fresh random token: WEB_TOKEN_HEX lowercase hex digits and a NUL (libsodium RNG). */
void web_token_new(char out[WEB_TOKEN_HEX + 1]);

/*
 * Compare a token the browser sent with the one we hold, in time that does not depend on
 * where they differ. False when either is NULL, empty or their lengths differ.
 */
bool web_token_eq(const char *held, const char *sent);

/* True when s is valid UTF-8 without control characters (C0, DEL, C1). */
bool web_text_ok(const char *s, size_t len);

#define WEB_UPLOAD_MAX	    (2 * 1024 * 1024) /* bytes of a multipart body (a roster file) */
#define WEB_UPLOAD_TEXT_MAX 256		      /* bytes of a text part's value */
#define WEB_UPLOAD_HEAD_MAX 1024	      /* bytes of one part's headers */

/* A multipart/form-data body: its text parts as a form, and at most one file part. */
struct web_upload {
	struct web_form fields; /* text parts (no filename); values checked as form values */
	char file_field[WEB_FORM_KEY_MAX + 1]; /* the file part's name, "" when none */
	const char *data;		       /* its bytes, pointing into the body */
	size_t len;
};

/*
 * Parse a multipart/form-data body (RFC 7578; len bytes, not NUL-terminated) of
 * Content-Type ctype ("multipart/form-data; boundary=B", B 1..70 characters, quoted or
 * not). Every part has Content-Disposition: form-data; name="N" (N as a form key, once),
 * and a filename="..." for the file part (one at most; its bytes as sent, any content);
 * other headers are ignored; headers are at most WEB_UPLOAD_HEAD_MAX bytes, text values
 * WEB_UPLOAD_TEXT_MAX and text. No preamble; nothing but CRLF after the closing
 * delimiter. Returns 0 and *out, -EMSGSIZE (len > WEB_UPLOAD_MAX), -E2BIG (too many
 * parts) or -EINVAL (anything malformed); why (may be NULL) names it.
 */
int web_multipart_parse(const char *ctype, const char *body, size_t len, struct web_upload *out,
			const char **why);

#endif
