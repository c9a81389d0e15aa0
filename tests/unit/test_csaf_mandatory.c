/*
 * test_csaf_mandatory.c - lib/csaf: the mandatory tests of CSAF 2.0 section
 * 6.1 that compute (6.1.9, the CVSS scores) or look up (6.1.12, 6.1.13)
 * something, on one valid document that each case changes in one place.
 * The same cases (and thousands more) are compared with the reference
 * validator by tests/integration/test_conformance.py.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csaf.h"

/* A valid csaf_base document with one product and one vulnerability; %s is
 * the scores[0] object, then document.lang, then the purl of the product. */
static const char doc_fmt[] =
	"{\"document\": {"
	"\"category\": \"csaf_base\", \"csaf_version\": \"2.0\", \"lang\": \"%s\","
	"\"publisher\": {\"category\": \"coordinator\", \"name\": \"Example CSIRT\","
	" \"namespace\": \"https://csirt.example\"},"
	"\"title\": \"Example advisory\","
	"\"distribution\": {\"tlp\": {\"label\": \"GREEN\"}},"
	"\"tracking\": {\"id\": \"EX-2024-0001\", \"status\": \"final\", \"version\": \"1\","
	" \"initial_release_date\": \"2024-03-01T10:00:00Z\","
	" \"current_release_date\": \"2024-03-01T10:00:00Z\","
	" \"revision_history\": ["
	"  {\"date\": \"2024-03-01T10:00:00Z\", \"number\": \"1\", \"summary\": \"Initial\"}]}},"
	"\"product_tree\": {\"full_product_names\": [{\"name\": \"Example 1.0\","
	" \"product_id\": \"P1\", \"product_identification_helper\": {\"purl\": \"%s\"}}]},"
	"\"vulnerabilities\": [{\"cve\": \"CVE-2024-0001\","
	" \"product_status\": {\"known_affected\": [\"P1\"]},"
	" \"scores\": [{\"products\": [\"P1\"], %s}]}]}";

#define V31 "\"cvss_v3\": {\"version\": \"3.1\", "
#define V30 "\"cvss_v3\": {\"version\": \"3.0\", "
#define V2 "\"cvss_v2\": {\"version\": \"2.0\", "

static const char *const good_scores =
	V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\","
	" \"baseScore\": 9.8, \"baseSeverity\": \"CRITICAL\"}";

/* Parse the document with these parts (NULL: the valid one); returns the
 * result of csaf_parse_opts(CSAF_CONFORM), the message in err. */
static int try_doc(const char *scores, const char *lang, const char *purl, char *err,
		   size_t errlen)
{
	char doc[8192];
	struct csaf_doc d;
	int n = snprintf(doc, sizeof(doc), doc_fmt, lang ? lang : "en-US",
			 purl ? purl : "pkg:npm/example@1.0.0", scores ? scores : good_scores);
	if (n < 0 || (size_t)n >= sizeof(doc))
		return -E2BIG;
	/* exactly n bytes, so that a read past the end is caught */
	char *buf = malloc((size_t)n);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, doc, (size_t)n);
	err[0] = '\0';
	int r = csaf_parse_opts(buf, (size_t)n, CSAF_CONFORM, &d, err, errlen);
	if (r == 0)
		csaf_doc_release(&d);
	free(buf);
	return r;
}

/* The document with these scores is valid (want == NULL) or refused with a
 * message containing want. */
static void expect(const char *scores, const char *lang, const char *purl, const char *want)
{
	char err[512];
	int r = try_doc(scores, lang, purl, err, sizeof(err));
	if (!want) {
		CHECK(r == 0);
		if (r)
			fprintf(stderr, "  refused: %s\n", err);
	} else {
		CHECK(r == -EINVAL && strstr(err, want));
		if (r != -EINVAL || !strstr(err, want))
			fprintf(stderr, "  want '%s', got %d '%s'\n", want, r, err);
	}
}

static void test_cvss(void)
{
	expect(NULL, NULL, NULL, NULL);
	/* v3.1: base, severity, temporal, environmental */
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\","
	       " \"baseScore\": 9.9, \"baseSeverity\": \"CRITICAL\"}",
	       NULL, NULL, "vulnerabilities[0].scores[0].cvss_v3.baseScore: 6.1.9: 9.9, but the "
	       "vector string computes to 9.8");
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\","
	       " \"baseScore\": 9.8, \"baseSeverity\": \"HIGH\"}",
	       NULL, NULL, "cvss_v3.baseSeverity: 6.1.9: 'HIGH'");
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U\","
	       " \"baseScore\": 9.8, \"baseSeverity\": \"CRITICAL\", \"temporalScore\": 7.8,"
	       " \"temporalSeverity\": \"HIGH\"}", NULL, NULL, NULL);
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U\","
	       " \"baseScore\": 9.8, \"baseSeverity\": \"CRITICAL\", \"temporalScore\": 9.8}",
	       NULL, NULL, "cvss_v3.temporalScore: 6.1.9");
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U\","
	       " \"baseScore\": 9.8, \"baseSeverity\": \"CRITICAL\", \"temporalSeverity\": \"CRITICAL\"}",
	       NULL, NULL, "cvss_v3.temporalSeverity: 6.1.9");
	/* scope changed, modified metrics */
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N/MS:C/MC:H/MI:H\","
	       " \"baseScore\": 6.4, \"baseSeverity\": \"MEDIUM\", \"environmentalScore\": 9.6,"
	       " \"environmentalSeverity\": \"CRITICAL\"}", NULL, NULL, NULL);
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N/MS:C/MC:H/MI:H\","
	       " \"baseScore\": 6.4, \"baseSeverity\": \"MEDIUM\", \"environmentalScore\": 9.9}",
	       NULL, NULL, "cvss_v3.environmentalScore: 6.1.9: 9.9, but the vector string "
	       "computes to 9.6");
	/* v3.0 */
	expect(V30 "\"vectorString\": \"CVSS:3.0/AV:L/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:H\","
	       " \"baseScore\": 4.4, \"baseSeverity\": \"MEDIUM\"}", NULL, NULL, NULL);
	expect(V30 "\"vectorString\": \"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:N\","
	       " \"baseScore\": 0.0, \"baseSeverity\": \"NONE\"}", NULL, NULL, NULL);
	expect(V30 "\"vectorString\": \"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:N\","
	       " \"baseScore\": 0.0, \"baseSeverity\": \"LOW\"}", NULL, NULL,
	       "cvss_v3.baseSeverity: 6.1.9");
	/* a metric given twice: the reference computes nothing, nor do we */
	expect(V31 "\"vectorString\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L\","
	       " \"baseScore\": 1.0, \"baseSeverity\": \"LOW\"}", NULL, NULL, NULL);
	/* v2: base, temporal, environmental */
	expect(V2 "\"vectorString\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P\", \"baseScore\": 7.5}",
	       NULL, NULL, NULL);
	expect(V2 "\"vectorString\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P\", \"baseScore\": 7.6}",
	       NULL, NULL, "cvss_v2.baseScore: 6.1.9: 7.6, but the vector string computes to 7.5");
	expect(V2 "\"vectorString\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C\","
	       " \"baseScore\": 7.5, \"temporalScore\": 6.2}", NULL, NULL, NULL);
	expect(V2 "\"vectorString\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C\","
	       " \"baseScore\": 7.5, \"temporalScore\": 7.5}", NULL, NULL,
	       "cvss_v2.temporalScore: 6.1.9");
	expect(V2 "\"vectorString\": \"AV:N/AC:L/Au:N/C:C/I:C/A:C/CDP:H/TD:H/CR:H/IR:H/AR:H\","
	       " \"baseScore\": 10.0, \"environmentalScore\": 10.0}", NULL, NULL, NULL);
	expect(V2 "\"vectorString\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P/CDP:L/TD:M\","
	       " \"baseScore\": 7.5, \"environmentalScore\": 7.5}", NULL, NULL,
	       "cvss_v2.environmentalScore: 6.1.9");
	/* base metrics out of their order: the reference does not compute */
	expect(V2 "\"vectorString\": \"AC:L/AV:N/Au:N/C:P/I:P/A:P\", \"baseScore\": 1.0}",
	       NULL, NULL, NULL);
}

int main(void)
{
	test_cvss();
	return check_exit("csaf_mandatory");
}
