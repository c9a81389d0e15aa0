/*
 * fuzz_filename.c - csaf_filename() (CSAF 2.0 section 5.1) on arbitrary
 * strings.
 *
 * The input, cut at its first NUL, is the tracking id.  Checked: the
 * result codes (-EINVAL exactly for "", else 0 or -ENAMETOOLONG); a name
 * that is a safe path component within CSAF_MAX_FILENAME bytes; ASCII
 * case does not matter; the rule is idempotent (the stem of a result maps
 * to the same result); and the output buffer size is honoured exactly:
 * the name fits a buffer of strlen + 1 bytes and not one byte less, and
 * nothing is written past outlen (the buffers are heap blocks of exactly
 * that size, so ASan sees any overflow).
 */
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#include "csaf.h"

/* A malloc'ed copy of s[0..n) with every ASCII letter upper-cased. */
static char *ascii_upper(const char *s, size_t n)
{
	char *u = malloc(n + 1);
	FZ_CHECK(u != NULL);
	for (size_t i = 0; i < n; i++)
		u[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
	u[n] = '\0';
	return u;
}

/* csaf_filename into a heap buffer of exactly outlen bytes. */
static int name_into(const char *id, size_t outlen, char *ret_copy, size_t copylen)
{
	char *out = malloc(outlen ? outlen : 1);
	int r;
	FZ_CHECK(out != NULL);
	r = csaf_filename(id, out, outlen);
	if (r == 0) {
		FZ_CHECK(strlen(out) < outlen);
		if (ret_copy) {
			FZ_CHECK(strlen(out) < copylen);
			memcpy(ret_copy, out, strlen(out) + 1);
		}
	}
	free(out);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[CSAF_MAX_FILENAME + 1], again[CSAF_MAX_FILENAME + 1];
	char stem[CSAF_MAX_FILENAME + 1];
	size_t n = 0;
	char *id, *upper;
	int r;

	while (n < size && data[n])
		n++;
	id = malloc(n + 1);
	FZ_CHECK(id != NULL);
	memcpy(id, data, n);
	id[n] = '\0';

	r = name_into(id, sizeof(name), name, sizeof(name));
	if (n == 0) {
		FZ_CHECK(r == -EINVAL);
		free(id);
		return 0;
	}
	FZ_CHECK(r == 0 || r == -ENAMETOOLONG);

	/* ASCII case never matters: the rule lowercases first */
	upper = ascii_upper(id, n);
	FZ_CHECK(name_into(upper, sizeof(again), again, sizeof(again)) == r);
	FZ_CHECK(r != 0 || strcmp(again, name) == 0);
	free(upper);

	if (r == 0) {
		size_t len = strlen(name);
		FZ_CHECK(fz_csaf_name_ok(name, CSAF_MAX_FILENAME));
		FZ_CHECK(name[0] != '.' && strchr(name, '/') == NULL && strstr(name, "..") == NULL);

		/* exactly strlen + 1 bytes are needed, and enough */
		FZ_CHECK(name_into(id, len + 1, NULL, 0) == 0);
		FZ_CHECK(name_into(id, len, NULL, 0) == -ENAMETOOLONG);
		FZ_CHECK(name_into(id, 0, NULL, 0) == -ENAMETOOLONG);

		/* idempotent: a result's stem is already a valid name */
		memcpy(stem, name, len - 5);
		stem[len - 5] = '\0';
		FZ_CHECK(name_into(stem, sizeof(again), again, sizeof(again)) == 0);
		FZ_CHECK(strcmp(again, name) == 0);
	} else {
		/* too long for the limit: then also for any smaller buffer */
		FZ_CHECK(name_into(id, 64, NULL, 0) == -ENAMETOOLONG);
	}

	/* an id that is already a valid stem maps to itself plus ".json" */
	if (n + 5 <= CSAF_MAX_FILENAME) {
		char candidate[CSAF_MAX_FILENAME + 1];
		memcpy(candidate, id, n);
		memcpy(candidate + n, ".json", 6);
		if (fz_csaf_name_ok(candidate, CSAF_MAX_FILENAME)) {
			FZ_CHECK(r == 0);
			FZ_CHECK(strcmp(name, candidate) == 0);
		}
	}
	free(id);
	return 0;
}
