/*
 * csaf_name.c - CSAF 2.0 file names (section 5.1), version numbers
 * (integer and semantic versioning, their order) and the TLP and status
 * label tables.
 *
 * Sections: file names; versions; TLP, status.  No state: every function
 * may be called from any thread.
 */
#include "csaf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "csaf_internal.h"

/* ------------------------------------------------------------------ */
/* file names                                                           */

static int csaf_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-';
}

/*
 * Section 5.1 on a byte string.  "Lowercase" is Unicode lowercasing as
 * the reference validator does it (JavaScript toLowerCase); only two
 * non-ASCII characters lowercase to something in [+\-a-z0-9]: KELVIN SIGN
 * U+212A becomes 'k' and U+0130 becomes "i" plus U+0307 (so "i_").  Every
 * other non-ASCII character, and any invalid byte, is outside the set.
 * The result holds only [+\-a-z0-9_] and ".json": no '/', no leading '.'.
 */
int csaf_filename(const char *tracking_id, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)tracking_id;
	char name[CSAF_MAX_FILENAME + 1];
	size_t n, i = 0, o = 0;
	const size_t stem_max = CSAF_MAX_FILENAME - (sizeof(".json") - 1);
	int in_run = 0;

	if (!tracking_id || !tracking_id[0])
		return -EINVAL;
	n = strlen(tracking_id);
	while (i < n) {
		char mapped[2];
		size_t nmapped = 0, adv = 1;
		uint32_t cp;
		int k, trailing_run = 0;

		if (p[i] < 0x80) {
			char c = (char)p[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (csaf_name_char(c))
				mapped[nmapped++] = c;
		} else if ((k = csaf_utf8_next(p + i, n - i, &cp)) > 0) {
			adv = (size_t)k;
			if (cp == 0x212a) {
				mapped[nmapped++] = 'k';
			} else if (cp == 0x130) {
				mapped[nmapped++] = 'i';
				trailing_run = 1; /* the combining dot above */
			}
		}
		i += adv;
		for (size_t m = 0; m < nmapped; m++) {
			if (o >= stem_max)
				return -ENAMETOOLONG;
			name[o++] = mapped[m];
			in_run = 0;
		}
		if ((nmapped == 0 || trailing_run) && !in_run) {
			if (o >= stem_max)
				return -ENAMETOOLONG;
			name[o++] = '_';
			in_run = 1;
		}
	}
	memcpy(name + o, ".json", sizeof(".json"));
	o += sizeof(".json") - 1;
	if (o + 1 > outlen)
		return -ENAMETOOLONG;
	memcpy(out, name, o + 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* versions                                                             */

/* A parsed version: pointers into the caller's string. */
struct csaf_ver {
	int semver;           /* 0: integer versioning, only num[0] used */
	const char *num[3];   /* digits, no leading zeros */
	size_t numlen[3];
	const char *pre;      /* pre-release identifiers, NULL for a release */
	size_t prelen;
};

static int csaf_is_ident_char(char c)
{
	return csaf_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* Length of a numeric identifier ("0" or [1-9][0-9]*) at p, 0 if none. */
static size_t csaf_numeric_len(const char *p)
{
	size_t n = 0;
	while (csaf_is_digit(p[n]))
		n++;
	if (n > 1 && p[0] == '0')
		return 0;
	return n;
}

/*
 * Length of a dot-separated list of identifiers at p (stops at the first
 * other character), or 0 if an identifier is empty or, when pre is set, a
 * numeric one has a leading zero.
 */
static size_t csaf_idents_len(const char *p, int pre)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		int all_digits = 1;
		while (csaf_is_ident_char(p[i])) {
			if (!csaf_is_digit(p[i]))
				all_digits = 0;
			i++;
		}
		if (i == start)
			return 0;
		if (pre && all_digits && i - start > 1 && p[start] == '0')
			return 0;
		if (p[i] != '.')
			return i;
		i++;
	}
}

/* Parse v as an integer or semantic version.  Returns 0 or -EINVAL;
 * *ret is written only on success. */
static int csaf_ver_parse(const char *v, struct csaf_ver *ret)
{
	struct csaf_ver x = { 0 };
	const char *p = v;
	size_t n;

	if (!v || !*v)
		return -EINVAL;
	n = csaf_numeric_len(p);
	if (n == 0)
		return -EINVAL;
	if (p[n] == '\0') {
		x.num[0] = p;
		x.numlen[0] = n;
		*ret = x;
		return 0;
	}
	x.semver = 1;
	for (int k = 0; k < 3; k++) {
		n = csaf_numeric_len(p);
		if (n == 0)
			return -EINVAL;
		x.num[k] = p;
		x.numlen[k] = n;
		p += n;
		if (k < 2 && *p++ != '.')
			return -EINVAL;
	}
	if (*p == '-') {
		p++;
		if ((n = csaf_idents_len(p, 1)) == 0)
			return -EINVAL;
		x.pre = p;
		x.prelen = n;
		p += n;
	}
	if (*p == '+') {
		p++;
		if ((n = csaf_idents_len(p, 0)) == 0)
			return -EINVAL;
		p += n;
	}
	if (*p != '\0')
		return -EINVAL;
	*ret = x;
	return 0;
}

/* Compare two digit strings without leading zeros, of any length. */
static int csaf_num_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	int c = memcmp(a, b, alen);
	return (c > 0) - (c < 0);
}

/* Semver 2.0.0 rule 11 for two pre-release strings (both present). */
static int csaf_pre_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	for (;;) {
		if (i >= alen || j >= blen)
			return (i < alen) - (j < blen); /* more fields is higher */
		size_t ai = i, bj = j;
		int anum = 1, bnum = 1;
		while (i < alen && a[i] != '.')
			anum &= csaf_is_digit(a[i++]);
		while (j < blen && b[j] != '.')
			bnum &= csaf_is_digit(b[j++]);
		int c;
		if (anum && bnum) {
			c = csaf_num_cmp(a + ai, i - ai, b + bj, j - bj);
		} else if (anum != bnum) {
			c = anum ? -1 : 1; /* numeric identifiers sort first */
		} else {
			size_t la = i - ai, lb = j - bj;
			c = memcmp(a + ai, b + bj, la < lb ? la : lb);
			c = (c > 0) - (c < 0);
			if (c == 0 && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c;
		if (i < alen)
			i++; /* the dot */
		if (j < blen)
			j++;
	}
}

int csaf_version_valid(const char *v)
{
	struct csaf_ver x;
	return csaf_ver_parse(v, &x) == 0;
}

int csaf_version_cmp(const char *a, const char *b, int *ret_cmp)
{
	struct csaf_ver x, y;
	int c = 0;

	if (csaf_ver_parse(a, &x) || csaf_ver_parse(b, &y) || x.semver != y.semver)
		return -EINVAL;
	for (int k = 0; k < (x.semver ? 3 : 1) && c == 0; k++)
		c = csaf_num_cmp(x.num[k], x.numlen[k], y.num[k], y.numlen[k]);
	if (c == 0 && (x.pre || y.pre)) {
		if (!x.pre || !y.pre)
			c = x.pre ? -1 : 1; /* a pre-release precedes its release */
		else
			c = csaf_pre_cmp(x.pre, x.prelen, y.pre, y.prelen);
	}
	*ret_cmp = c;
	return 0;
}

/* ------------------------------------------------------------------ */
/* TLP, status                                                          */

static const char *const csaf_tlp_names[] = { "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED" };
static const char *const csaf_tlp_dirs[] = { "white", "green", "amber", "amber", "red" };
static const char *const csaf_status_names[] = { "draft", "interim", "final" };

enum csaf_tlp csaf_tlp_parse(const char *label)
{
	if (!label)
		return CSAF_TLP_NONE;
	if (strcasecmp(label, "WHITE") == 0)
		return CSAF_TLP_CLEAR;
	for (int i = 0; i <= CSAF_TLP_RED; i++)
		if (strcasecmp(label, csaf_tlp_names[i]) == 0)
			return (enum csaf_tlp)i;
	return CSAF_TLP_NONE;
}

/* "NONE" for CSAF_TLP_NONE, "?" for a value outside the enum. */
const char *csaf_tlp_name(enum csaf_tlp tlp)
{
	if (tlp == CSAF_TLP_NONE)
		return "NONE";
	if ((int)tlp < 0 || (int)tlp > CSAF_TLP_RED)
		return "?";
	return csaf_tlp_names[tlp];
}

/* NULL for CSAF_TLP_NONE or a value outside the enum: no folder. */
const char *csaf_tlp_dir(enum csaf_tlp tlp)
{
	if ((int)tlp < 0 || (int)tlp > CSAF_TLP_RED)
		return NULL;
	return csaf_tlp_dirs[tlp];
}

/* "?" for a value outside the enum. */
const char *csaf_status_name(enum csaf_status s)
{
	if ((int)s < 0 || (int)s > CSAF_STATUS_FINAL)
		return "?";
	return csaf_status_names[s];
}
