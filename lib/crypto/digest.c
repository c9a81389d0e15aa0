/*
 * digest.c - one-shot digests and HMAC with OpenSSL's EVP interfaces (see
 * digest.h).
 */
#include "digest.h"

#include <errno.h>

#include <openssl/evp.h>

static int digest(const EVP_MD *md, const void *data, size_t len, unsigned char *out,
		  unsigned want)
{
	unsigned n = 0;
	return EVP_Digest(data, len, out, &n, md, NULL) == 1 && n == want ? 0 : -EIO;
}

int digest_sha256(const void *data, size_t len, unsigned char ret_md[DIGEST_SHA256_LEN])
{
	return digest(EVP_sha256(), data, len, ret_md, DIGEST_SHA256_LEN);
}

int digest_sha512(const void *data, size_t len, unsigned char ret_md[DIGEST_SHA512_LEN])
{
	return digest(EVP_sha512(), data, len, ret_md, DIGEST_SHA512_LEN);
}

int digest_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
		       unsigned char ret_mac[DIGEST_SHA256_LEN])
{
	size_t n = 0;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, msg, len, ret_mac,
		       DIGEST_SHA256_LEN, &n) || n != DIGEST_SHA256_LEN)
		return -EIO;
	return 0;
}
