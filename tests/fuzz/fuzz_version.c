/*
 * fuzz_version.c - csaf_version_cmp() (integer and semantic versions) as
 * an order.
 *
 * The input is split at its first two newlines into three strings a, b,
 * c.  Checked: validity agrees between csaf_version_valid() and the
 * comparison (which fails exactly when one is invalid or the schemes
 * differ); reflexivity; antisymmetry (cmp(a,b) = -cmp(b,a)); transitivity
 * over the triple, for <= and for ==; build metadata never changes the
 * order; and integers compare as numbers.
 */
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#include "csaf.h"

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* 1 for a semantic version (has a '.'), 0 for an integer; v must be valid. */
static int is_semver(const char *v)
{
	return strchr(v, '.') != NULL;
}

/* Compare, checking the result code against validity; returns -2 if the
 * two cannot be compared, else -1, 0, 1. */
static int cmp2(const char *a, const char *b)
{
	int c = 99, r = csaf_version_cmp(a, b, &c);
	int comparable = csaf_version_valid(a) && csaf_version_valid(b) &&
			 is_semver(a) == is_semver(b);
	FZ_CHECK(r == 0 || r == -EINVAL);
	FZ_CHECK((r == 0) == comparable);
	if (r)
		return -2;
	FZ_CHECK(c != 99);
	return sign(c);
}

/* A malloc'ed copy of v without its build metadata ("+..."). */
static char *strip_build(const char *v)
{
	const char *plus = strchr(v, '+');
	size_t n = plus ? (size_t)(plus - v) : strlen(v);
	char *s = malloc(n + 1);
	FZ_CHECK(s != NULL);
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

/* Integers of up to 18 digits, compared as numbers. */
static void check_integer(const char *a, const char *b, int c)
{
	if (is_semver(a) || strlen(a) > 18 || strlen(b) > 18)
		return;
	unsigned long long x = strtoull(a, NULL, 10), y = strtoull(b, NULL, 10);
	FZ_CHECK(c == (x > y) - (x < y));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *v[3];
	int n = 1;

	FZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';
	v[0] = buf;
	v[1] = v[2] = buf + size; /* "" */
	for (char *p = buf; n < 3 && (p = strchr(p, '\n')) != NULL;) {
		*p++ = '\0';
		v[n++] = p;
	}

	int c[3][3];
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			c[i][k] = cmp2(v[i], v[k]);

	for (int i = 0; i < 3; i++) {
		FZ_CHECK(c[i][i] == (csaf_version_valid(v[i]) ? 0 : -2));
		for (int k = 0; k < 3; k++) {
			if (c[i][k] == -2) {
				FZ_CHECK(c[k][i] == -2);
				continue;
			}
			FZ_CHECK(c[k][i] == -c[i][k]);
			check_integer(v[i], v[k], c[i][k]);
			for (int m = 0; m < 3; m++) {
				if (c[k][m] == -2)
					continue;
				FZ_CHECK(c[i][m] != -2); /* one scheme throughout */
				if (c[i][k] <= 0 && c[k][m] <= 0)
					FZ_CHECK(c[i][m] <= 0);
				if (c[i][k] == 0 && c[k][m] == 0)
					FZ_CHECK(c[i][m] == 0);
				if (c[i][k] < 0 && c[k][m] <= 0)
					FZ_CHECK(c[i][m] < 0);
			}
		}
		if (csaf_version_valid(v[i]) && is_semver(v[i])) {
			char *s = strip_build(v[i]);
			FZ_CHECK(csaf_version_valid(s));
			FZ_CHECK(cmp2(v[i], s) == 0);
			for (int k = 0; k < 3; k++)
				if (c[i][k] != -2)
					FZ_CHECK(cmp2(s, v[k]) == c[i][k]);
			free(s);
		}
	}
	free(buf);
	return 0;
}
