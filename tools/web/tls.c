/*
 * tls: what rinki-web needs to serve HTTPS. libmicrohttpd does the TLS itself (Debian
 * builds it with GnuTLS) from a certificate and key given as PEM text; this file decides
 * when TLS is needed (any address that is not loopback), reads the two files as rinki.conf
 * names them (no symbolic links, regular files, the key readable by its owner only) and
 * checks with libcrypto that they parse and belong together, so a wrong file is one clear
 * sentence at start rather than a handshake failure later.
 *
 * The self-signed pair is made with libcrypto (OpenSSL) rather than GnuTLS: rinki-web and
 * the store already link libcrypto (SHA-256 of the call-log chain) and its headers are a
 * build dependency already, while GnuTLS reaches rinki-web only through libmicrohttpd;
 * calling it directly would add a link dependency and a second X.509 API to the code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "web.h"

int web_conf_check(const struct gw_conf *c, struct sockaddr_storage *sa, unsigned *salen, bool *tls,
		   const char **why)
{
	bool loopback;

	if (web_listen_parse(c->web_listen, sa, salen, &loopback, why) < 0)
		return -EINVAL;
	bool cert = c->web_tls_cert[0] != '\0', key = c->web_tls_key[0] != '\0';
	if (cert != key) {
		*why = "web.tls_cert and web.tls_key go together: set both or neither";
		return -EINVAL;
	}
	*tls = cert && key;
	if (!loopback && !*tls) {
		*why = "not a loopback address: without TLS (web.tls_cert and web.tls_key) "
		       "rinki-web listens only on 127.0.0.1 or [::1]";
		return -EINVAL;
	}
	return 0;
}

/* Read a whole file opened with O_NOFOLLOW into a NUL-terminated buffer. */
static int read_pem(const char *path, bool secret, char **out, char *why, size_t why_len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	*out = NULL;
	if (fd < 0) {
		int e = errno;
		snprintf(why, why_len, "%s: %s", path,
			 e == ELOOP ? "is a symbolic link (not followed)" : strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (secret && (st.st_mode & 077)) {
		snprintf(why, why_len, "%s: the key is mode %04o; others may read it (chmod 0600)",
			 path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EACCES;
	}
	if (st.st_size > WEB_TLS_FILE_MAX) {
		snprintf(why, why_len, "%s: larger than %d bytes", path, WEB_TLS_FILE_MAX);
		close(fd);
		return -EFBIG;
	}
	char *buf = calloc(1, (size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		snprintf(why, why_len, "%s: cannot read it", path);
		if (buf)
			OPENSSL_cleanse(buf, (size_t)st.st_size);
		free(buf);
		return buf ? -EIO : -ENOMEM;
	}
	*out = buf;
	return 0;
}

/* A pass phrase callback that refuses: an encrypted key is an error, never a prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int web_tls_load(const char *cert_path, const char *key_path, struct web_tls *t, char *why,
		 size_t why_len)
{
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = read_pem(cert_path, false, &t->cert, why, why_len)) < 0 ||
	    (rc = read_pem(key_path, true, &t->key, why, why_len)) < 0) {
		web_tls_free(t);
		return rc;
	}
	BIO *cb = BIO_new_mem_buf(t->cert, -1), *kb = BIO_new_mem_buf(t->key, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, no_passphrase, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
	rc = 0;
	if (!x) {
		snprintf(why, why_len, "%s: not a PEM certificate", cert_path);
		rc = -EINVAL;
	} else if (!k) {
		snprintf(why, why_len, "%s: not an unencrypted PEM private key", key_path);
		rc = -EINVAL;
	} else if (X509_check_private_key(x, k) != 1) {
		snprintf(why, why_len, "%s is not the key of the certificate in %s", key_path,
			 cert_path);
		rc = -EINVAL;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	if (rc < 0)
		web_tls_free(t);
	return rc;
}

void web_tls_free(struct web_tls *t)
{
	if (t->key)
		OPENSSL_cleanse(t->key, strlen(t->key));
	free(t->key);
	free(t->cert);
	t->key = t->cert = NULL;
}

/* A host name or address literal we put into the certificate: letters, digits, . - : */
static bool host_ok(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' || h[i] == ':'))
			return false;
	return true;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (!e)
		return -1;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A new self-signed certificate for host and its key; NULL on failure. */
static X509 *make_cert(const char *host, int days, EVP_PKEY **key_out)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	char san[600];
	bool ip = strchr(host, ':') || strspn(host, "0123456789.") == strlen(host);
	bool ok = k && x && serial;

	snprintf(san, sizeof(san), "%s:%s,DNS:localhost,IP:127.0.0.1,IP:::1", ip ? "IP" : "DNS",
		 host);
	ok = ok && X509_set_version(x, 2) && BN_rand(serial, 127, BN_RAND_TOP_ANY, 0) &&
	     BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) && X509_set_pubkey(x, k);
	X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
	ok =
	    ok && name &&
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
				       (const unsigned char *)"rinki-web self-signed", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)host, -1,
				       -1, 0) &&
	    X509_set_issuer_name(x, name);
	if (ok) {
		X509V3_CTX ctx;
		X509V3_set_ctx_nodb(&ctx);
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		     add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") == 0 &&
		     add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") == 0 &&
		     add_ext(x, &ctx, NID_subject_key_identifier, "hash") == 0 &&
		     add_ext(x, &ctx, NID_subject_alt_name, san) == 0 &&
		     X509_sign(x, k, EVP_sha256()) > 0;
	}
	BN_free(serial);
	if (!ok) {
		X509_free(x);
		EVP_PKEY_free(k);
		return NULL;
	}
	*key_out = k;
	return x;
}

/* Create path (it must not exist) with mode and write the PEM of x or k into it. */
static int write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *k, char *why, size_t why_len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		int e = errno;
		snprintf(why, why_len, "%s: %s", path,
			 e == EEXIST ? "exists (not overwritten)" : strerror(e));
		return -e;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	bool ok = x ? PEM_write_X509(f, x) == 1
		    : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	ok = fflush(f) == 0 && ok && fsync(fd) == 0;
	if (fclose(f) != 0 || !ok) {
		unlink(path);
		snprintf(why, why_len, "%s: cannot write it", path);
		return -EIO;
	}
	return 0;
}

int web_tls_selfsigned(const char *cert_path, const char *key_path, const char *host, int days,
		       char *why, size_t why_len)
{
	EVP_PKEY *k = NULL;
	int rc;

	if (!host_ok(host)) {
		snprintf(why, why_len, "'%s' is not a host name or address (a-z 0-9 . - :)", host);
		return -EINVAL;
	}
	if (days < 1 || days > 3650) {
		snprintf(why, why_len, "validity of %d days is not 1..3650", days);
		return -EINVAL;
	}
	X509 *x = make_cert(host, days, &k);
	if (!x) {
		ERR_clear_error();
		snprintf(why, why_len, "libcrypto cannot make the certificate");
		return -EIO;
	}
	rc = write_pem(key_path, 0600, NULL, k, why, why_len);
	if (rc == 0 && (rc = write_pem(cert_path, 0644, x, NULL, why, why_len)) < 0)
		unlink(key_path);
	X509_free(x);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}

int web_tls_first_start(const char *cert_path, const char *key_path, const char *host, bool *made,
			char *why, size_t why_len)
{
	struct stat st;
	bool cert = lstat(cert_path, &st) == 0 || errno != ENOENT;
	bool key = lstat(key_path, &st) == 0 || errno != ENOENT;

	*made = false;
	if (cert && key)
		return 0;
	if (cert || key) {
		snprintf(why, why_len, "%s is missing while %s is there (nothing made)",
			 cert ? key_path : cert_path, cert ? cert_path : key_path);
		return -ENOENT;
	}
	int rc =
	    web_tls_selfsigned(cert_path, key_path, host, WEB_TLS_SELFSIGNED_DAYS, why, why_len);
	*made = rc == 0;
	return rc;
}
