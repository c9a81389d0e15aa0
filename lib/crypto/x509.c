/*
 * x509.c - client certificates read with OpenSSL (see x509.h): one PEM
 * certificate in, its SHA-256 and SHA-1 fingerprints over the DER
 * encoding, its subject and its validity out.
 */
#include "x509.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* An ASN1_TIME as seconds since the epoch; -EBADMSG when unreadable. */
static int asn1_time(const ASN1_TIME *t, int64_t *ret)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -EBADMSG;
	*ret = (int64_t)timegm(&tm);
	return 0;
}

/* The subject in RFC 2253 form into out (outlen bytes). */
static int subject_line(X509 *x, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	int r = -EIO;
	if (!b)
		return -EIO;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		long n = BIO_get_mem_data(b, &p);
		if (n < 0 || (size_t)n >= outlen) {
			r = -E2BIG;
		} else {
			memcpy(out, p, (size_t)n);
			out[n] = 0;
			r = 0;
		}
	}
	BIO_free(b);
	return r;
}

int x509_parse_pem(const char *pem, size_t len, struct x509_info *ret)
{
	struct x509_info info;
	X509 *x = NULL, *extra = NULL;
	BIO *b = NULL;
	unsigned n;
	int r;

	if (len > X509_PEM_MAX)
		return -E2BIG;
	memset(&info, 0, sizeof(info));
	if (!(b = BIO_new_mem_buf(pem, (int)len)))
		return -EIO;
	if (!(x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		r = -EBADMSG;
		goto out;
	}
	if ((extra = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		r = -EINVAL;
		goto out;
	}
	if (X509_digest(x, EVP_sha256(), info.sha256, &n) != 1 || n != sizeof(info.sha256) ||
	    X509_digest(x, EVP_sha1(), info.sha1, &n) != 1 || n != sizeof(info.sha1)) {
		r = -EIO;
		goto out;
	}
	if ((r = subject_line(x, info.subject, sizeof(info.subject))) ||
	    (r = asn1_time(X509_get0_notBefore(x), &info.not_before)) ||
	    (r = asn1_time(X509_get0_notAfter(x), &info.not_after)))
		goto out;
	info.is_ca = X509_check_ca(x) != 0 &&
		     (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
	*ret = info;
	r = 0;
out:
	X509_free(extra);
	X509_free(x);
	BIO_free(b);
	return r;
}
