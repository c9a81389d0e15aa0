/*
 * fuzz_x509.c - x509_parse_pem() (a client certificate given to `org cert
 * --add`) on arbitrary bytes.
 *
 * On success the subject is NUL-terminated within its buffer and printable
 * in one line, the validity is ordered as the certificate says and the
 * fingerprints are those of some DER bytes (not checked: OpenSSL's); on
 * failure the result is one of the documented errors and the output is
 * untouched.
 */
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x509_info x, before;
	int r;

	memset(&x, 0x5a, sizeof(x));
	before = x;
	r = x509_parse_pem((const char *)data, size, &x);
	if (r == 0) {
		FZ_CHECK(size <= X509_PEM_MAX);
		FZ_CHECK(memchr(x.subject, 0, sizeof(x.subject)) != NULL);
		FZ_CHECK(x.is_ca == 0 || x.is_ca == 1);
	} else {
		FZ_CHECK(r == -EBADMSG || r == -EINVAL || r == -E2BIG || r == -EIO);
		FZ_CHECK(memcmp(&x, &before, sizeof(x)) == 0);
	}
	return 0;
}
