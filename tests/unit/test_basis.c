/*
 * test_basis.c - policy_basis_names_file(): a basis cites public sources,
 * never a file of the sources.  Then every basis of the shipped default
 * policy (as embedded in the program) and of the built-in guards passes.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "policy.h"

extern const char policy_default_json[];
extern const size_t policy_default_json_len;

static int names(const char *basis, const char *want)
{
	char what[64] = "untouched";
	int r = policy_basis_names_file(basis, what, sizeof(what));
	if (r != (want != NULL))
		return 0;
	return want ? !strcmp(what, want) : !strcmp(what, "untouched");
}

int main(void)
{
	/* files and paths, with the punctuation around them dropped */
	CHECK(names("as understood (CONTEXT.md, 'public')", "CONTEXT.md"));
	CHECK(names("see SPEC.md section 3", "SPEC.md"));
	CHECK(names("see 'docs/LEDGER.md'.", "docs/LEDGER.md"));
	CHECK(names("README.MD", "README.MD"));
	CHECK(names("the notes in policy/wbni-default.json", "policy/wbni-default.json"));
	CHECK(names("as in /usr/share/advisoryfs/x", "/usr/share/advisoryfs/x"));
	CHECK(names("kept in ./notes", "./notes"));
	CHECK(names("kept in ../shared", "../shared"));
	CHECK(names("kept in ~/law", "~/law"));
	CHECK(names("kept in docs/law/nl", "docs/law/nl"));
	CHECK(names("text at <stcrt-2020-4410.pdf>", "stcrt-2020-4410.pdf"));
	CHECK(names("policy.c says so", "policy.c"));
	/* citations: articles, section numbers, URLs, abbreviations */
	CHECK(names("Wbni art. 3(2)(a) and art. 20(2)(d), as amended with effect from 2022-12-01",
		    NULL));
	CHECK(names("Regeling aanwijzing computercrisisteams, Stcrt. 2020, 4410", NULL));
	CHECK(names("CSAF 2.0 section 3.2.1.12.7 (document.tracking.status)", NULL));
	CHECK(names("FIRST TLP 2.0, TLP:AMBER+STRICT; e.g. the recipient's organisation", NULL));
	CHECK(names("Wbni art. 20 and AVG/GDPR art. 6; and/or", NULL));
	CHECK(names("https://wetten.overheid.nl/BWBR0041515/2022-12-01", NULL));
	CHECK(names("published on ncsc.nl", NULL));
	CHECK(names("", NULL));
	CHECK(names(". md .md", NULL));
	/* the word is cut to the buffer */
	char small[5];
	CHECK(policy_basis_names_file("x CONTEXT.md", small, sizeof(small)) == 1);
	CHECK(!strcmp(small, "CONT"));

	/* every basis the program ships: the default policy and the guards */
	struct policy *p = NULL;
	char err[512];
	CHECK(policy_compile(policy_default_json, policy_default_json_len, &p, err,
			     sizeof(err)) == 0);
	if (p) {
		int n = policy_nrules(p);
		CHECK(n > 10);
		for (int i = 0; i <= n + POL_BUILTIN_WITHDRAWN; i++) {
			char what[256];
			const char *b = policy_rule_basis(p, i);
			CHECK(b && *b);
			if (b && policy_basis_names_file(b, what, sizeof(what))) {
				fprintf(stderr, "rule %s: basis names '%s'\n", policy_rule_id(p, i),
					what);
				CHECK(0);
			}
		}
		policy_free(p);
	}
	return check_exit("basis");
}
