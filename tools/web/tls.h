/*
 * tls: rinki-web's serving configuration checked (web.listen with web.tls_cert and
 * web.tls_key), the certificate and key read for libmicrohttpd, and a self-signed pair
 * made with libcrypto.
 */
#ifndef WEB_TLS_H
#define WEB_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf.h"

#define WEB_TLS_FILE_MAX	(64 * 1024) /* a PEM file larger than this is refused */
#define WEB_TLS_SELFSIGNED_DAYS 825	    /* the longest browsers take for a server certificate */

/* The certificate (chain) and its key, PEM text, NUL-terminated; both NULL when unset. */
struct web_tls {
	char *cert;
	char *key;
};

/*
 * Check c's serving keys: web.listen parses (web_listen_parse()); web.tls_cert and
 * web.tls_key are both set or both empty; an address that is not loopback needs them.
 * Returns 0 with *tls (whether TLS is configured) and *sa, *salen, or -EINVAL with the
 * reason in *why.
 */
struct sockaddr_storage;
int web_conf_check(const struct gw_conf *c, struct sockaddr_storage *sa, unsigned *salen, bool *tls,
		   const char **why);

/*
 * Read cert_path and key_path into t (each opened with O_NOFOLLOW, a regular file of at
 * most WEB_TLS_FILE_MAX bytes; the key readable by its owner only) and check that they
 * are one PEM certificate and the private key that matches it. Returns 0, or -errno with
 * a sentence in why: -ENOENT missing, -ELOOP a symbolic link, -EACCES a key others may
 * read, -EINVAL not PEM or not matching, -EFBIG too large.
 */
int web_tls_load(const char *cert_path, const char *key_path, struct web_tls *t, char *why,
		 size_t why_len);

/* Free what web_tls_load() read (the key's bytes are wiped first); t may be empty. */
void web_tls_free(struct web_tls *t);

/*
 * Make a self-signed certificate for host (ECDSA P-256, SHA-256, valid for days from now,
 * subjectAltName host, localhost, 127.0.0.1 and ::1) and write it to cert_path (0644) and
 * its key to key_path (0600), neither of which may exist. Returns 0, or -errno with a
 * sentence in why (-EEXIST when a file is there).
 */
int web_tls_selfsigned(const char *cert_path, const char *key_path, const char *host, int days,
		       char *why, size_t why_len);

/*
 * First start: when neither cert_path nor key_path exists, make a self-signed pair there
 * (web_tls_selfsigned() for host) and set *made; when both exist, do nothing. Only one of
 * them there is -ENOENT with why naming the missing one (nothing is made then: the other
 * file may be someone's real certificate or key). Returns 0 or -errno.
 */
int web_tls_first_start(const char *cert_path, const char *key_path, const char *host, bool *made,
			char *why, size_t why_len);

#endif
