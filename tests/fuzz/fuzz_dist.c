/*
 * fuzz_dist.c - csaf_dist_parse() (a FILE.json.dist.json companion) on
 * arbitrary bytes.
 *
 * The output struct starts as garbage, as a caller's stack would be: the
 * function must initialise it itself.  On success every list respects its
 * limit and holds distinct valid slugs, flags are 0/1 and the TLP is in
 * range; on failure the struct is empty and owns nothing, and the message
 * is one line.  Either way csaf_dist_release() must be safe.
 */
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#include "csaf.h"
#include "util.h"

static void check_list(char **v, size_t n, size_t max)
{
	FZ_CHECK(n <= max);
	FZ_CHECK((n == 0) == (v == NULL));
	for (size_t i = 0; i < n; i++) {
		FZ_CHECK(v[i] != NULL && au_slug_valid(v[i]));
		FZ_CHECK(strchr(v[i], '/') == NULL && v[i][0] != '.');
		for (size_t k = 0; k < i; k++)
			FZ_CHECK(strcmp(v[k], v[i]) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csaf_dist d;
	char err[256];
	int r;

	memset(&d, 0x5a, sizeof(d));
	memset(err, 0, sizeof(err));
	r = csaf_dist_parse((const char *)data, size, &d, err, sizeof(err));
	if (r == 0) {
		check_list(d.concerns, d.nconcerns, CSAF_MAX_CONCERNS);
		check_list(d.sectors, d.nsectors, CSAF_MAX_SECTORS);
		FZ_CHECK(d.tlp >= CSAF_TLP_NONE && d.tlp <= CSAF_TLP_RED);
		FZ_CHECK(d.personal_data == 0 || d.personal_data == 1);
		FZ_CHECK(d.impact_significant == 0 || d.impact_significant == 1);
		FZ_CHECK(size <= CSAF_MAX_DIST_BYTES);
	} else {
		FZ_CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
		FZ_CHECK(fz_one_line(err, sizeof(err)));
		FZ_CHECK(d.concerns == NULL && d.nconcerns == 0);
		FZ_CHECK(d.sectors == NULL && d.nsectors == 0);
		FZ_CHECK(d.tlp == CSAF_TLP_NONE && d.embargo_until == AU_T_MIN);
		FZ_CHECK(d.personal_data == 0 && d.impact_significant == 0);
	}
	csaf_dist_release(&d);
	FZ_CHECK(d.concerns == NULL && d.nconcerns == 0 && d.sectors == NULL);
	csaf_dist_release(&d); /* twice: still safe */
	return 0;
}
