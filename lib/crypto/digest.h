/*
 * digest.h - one-shot SHA-256, SHA-512 and HMAC-SHA256 (OpenSSL EVP).
 *
 * OpenSSL's 1/0 results are translated here, once: every function returns
 * 0, or -EIO when OpenSSL fails (then the output is unspecified).  No
 * state: safe from every thread.
 */
#ifndef ADVISORYFS_DIGEST_H
#define ADVISORYFS_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN 32
#define DIGEST_SHA512_LEN 64

int digest_sha256(const void *data, size_t len, unsigned char ret_md[DIGEST_SHA256_LEN]);
int digest_sha512(const void *data, size_t len, unsigned char ret_md[DIGEST_SHA512_LEN]);
/* HMAC-SHA256 of msg under key. */
int digest_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
		       unsigned char ret_mac[DIGEST_SHA256_LEN]);

#endif
