/*
 * x509.h - what advisoryfs needs of an X.509 client certificate (OpenSSL):
 * its fingerprints, subject and validity, to bind it to an organisation
 * (`advisoryfs org cert`, store_cert_add()).
 *
 * OpenSSL's 1/0 results are translated here, once.  No state: safe from
 * every thread.
 */
#ifndef ADVISORYFS_X509_H
#define ADVISORYFS_X509_H

#include <stddef.h>
#include <stdint.h>

#define X509_PEM_MAX      65536  /* bytes of a PEM file we read */
#define X509_SUBJECT_MAX  512    /* bytes of the subject line, NUL included */

struct x509_info {
	unsigned char sha256[32];       /* SHA-256 of the DER certificate */
	unsigned char sha1[20];         /* SHA-1 of the DER: what nginx's $ssl_client_fingerprint is */
	char subject[X509_SUBJECT_MAX]; /* RFC 2253 form, e.g. "CN=acme,O=ACME" */
	int64_t not_before, not_after;  /* seconds since the epoch, UTC */
	int is_ca;                      /* basicConstraints CA:TRUE */
};

/*
 * Parse exactly one PEM certificate from pem (len bytes, at most
 * X509_PEM_MAX) into *ret.  Returns 0; -EBADMSG when the text holds no
 * certificate or one OpenSSL cannot read, -EINVAL when it holds more
 * than one, -E2BIG when it is too long or its subject is, -EIO when
 * OpenSSL fails otherwise.  *ret is written only on success.
 */
int x509_parse_pem(const char *pem, size_t len, struct x509_info *ret);

#endif
