/*
 * fuzz_csaf.c - csaf_parse() on arbitrary bytes.
 *
 * Whatever the input: no memory error, no undefined behaviour, a result of
 * 0, -EINVAL, -E2BIG or -ENOMEM, and on failure a one-line message and an
 * untouched output struct.  On success the extracted fields keep the
 * promises of csaf.h that the store and the mount rely on: a file name
 * that is a safe single path component and agrees with csaf_filename(), a
 * valid version, TLP and status in range, release dates in order.  A
 * document the rules accept also goes through the CSAF 2.0 schema and the
 * mandatory tests (CSAF_CONFORM): the same promises, whatever they decide.
 */
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#include "csaf.h"
#include "util.h"

static void check_doc(const struct csaf_doc *d)
{
	char name[CSAF_MAX_FILENAME + 1];
	int cmp = 1;

	FZ_CHECK(d->tracking_id && d->version && d->title && d->publisher && d->category);
	FZ_CHECK(d->tracking_id[0] != '\0' && strlen(d->tracking_id) <= CSAF_MAX_ID_LEN);
	FZ_CHECK(strlen(d->title) <= CSAF_MAX_TITLE_LEN);

	FZ_CHECK(fz_csaf_name_ok(d->filename, CSAF_MAX_FILENAME));
	FZ_CHECK(d->filename[0] != '.' && strchr(d->filename, '/') == NULL);
	FZ_CHECK(csaf_filename(d->tracking_id, name, sizeof(name)) == 0);
	FZ_CHECK(strcmp(name, d->filename) == 0);

	FZ_CHECK(csaf_version_valid(d->version));
	FZ_CHECK(csaf_version_cmp(d->version, d->version, &cmp) == 0 && cmp == 0);

	FZ_CHECK(d->tlp >= CSAF_TLP_NONE && d->tlp <= CSAF_TLP_RED);
	FZ_CHECK(d->status >= CSAF_STATUS_DRAFT && d->status <= CSAF_STATUS_FINAL);
	FZ_CHECK(strcmp(csaf_status_name(d->status), "?") != 0);
	FZ_CHECK(d->tlp == CSAF_TLP_NONE || csaf_tlp_dir(d->tlp) != NULL);

	FZ_CHECK(d->current_release >= d->initial_release);
	FZ_CHECK(au_year(d->initial_release) >= 1 && au_year(d->current_release) <= 9999);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csaf_doc doc, untouched;
	char err[300];
	int r;

	memset(&doc, 0xa5, sizeof(doc));
	memcpy(&untouched, &doc, sizeof(doc));
	memset(err, 0, sizeof(err));

	r = csaf_parse((const char *)data, size, &doc, err, sizeof(err));
	if (r == 0) {
		check_doc(&doc);
		csaf_doc_release(&doc);
		FZ_CHECK(doc.tracking_id == NULL && doc.version == NULL);
		memset(err, 0, sizeof(err));
		r = csaf_parse_opts((const char *)data, size, CSAF_CONFORM, &doc, err, sizeof(err));
		if (r == 0) {
			check_doc(&doc);
			csaf_doc_release(&doc);
		} else {
			FZ_CHECK(r == -EINVAL || r == -ENOMEM);
			FZ_CHECK(fz_one_line(err, sizeof(err)) && err[0] != '\0');
		}
		return 0;
	}
	FZ_CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
	FZ_CHECK(fz_one_line(err, sizeof(err)));
	FZ_CHECK(memcmp(&doc, &untouched, sizeof(doc)) == 0);
	return 0;
}
