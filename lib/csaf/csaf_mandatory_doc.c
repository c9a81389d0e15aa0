/*
 * csaf_mandatory_doc.c - the mandatory tests of CSAF 2.0 section 6.1 that
 * look at the document as a whole: its revision history and versions
 * (6.1.14 to 6.1.22, 6.1.30), its category and profile (6.1.26, 6.1.27.1 to
 * 6.1.27.11), its languages (6.1.15, 6.1.28).  Called by csaf_mandatory.c,
 * whose file comment says how the tests are written and which choices
 * follow the reference validator.
 *
 * Sections: revision history tests; profile tests; the entry point.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csaf.h"
#include "csaf_internal.h"
#include "util.h"

/* ---- revision history tests -------------------------------------------------------------- */

/* A semantic version (the schema's form): 1 with *ret_major, whether it has
 * a pre-release, and the length without build metadata; 0 if not one. */
static int semver(const char *v, long *ret_major, int *ret_pre, size_t *ret_norm)
{
	const char *p = v;
	for (int part = 0; part < 3; part++) {
		if (!csaf_is_digit(*p))
			return 0;
		if (part == 0)
			*ret_major = strtol(p, NULL, 10);
		while (csaf_is_digit(*p))
			p++;
		if (part < 2 && *p++ != '.')
			return 0;
	}
	if (*p && *p != '-' && *p != '+')
		return 0;
	*ret_pre = *p == '-';
	*ret_norm = strcspn(v, "+");
	return 1;
}

static int is_semver(const char *v)
{
	long major;
	int pre;
	size_t n;
	return semver(v, &major, &pre, &n);
}

/* JavaScript's parseInt of a version: its leading digits. */
static double leading_int(const char *v)
{
	double d = 0;
	for (; csaf_is_digit(*v); v++)
		d = d * 10 + (*v - '0');
	return d;
}

/* -1, 0, 1 by instant; 0 when either does not parse (as the reference). */
static int date_cmp(const char *a, const char *b)
{
	int64_t x, y;
	if (au_parse_rfc3339(a, &x) || au_parse_rfc3339(b, &y))
		return 0;
	if (x != y)
		return x < y ? -1 : 1;
	const char *fa = strchr(a, '.'), *fb = strchr(b, '.');
	double ua = fa ? strtod(fa, NULL) : 0, ub = fb ? strtod(fb, NULL) : 0;
	return (ua > ub) - (ua < ub);
}

/* Version order as the reference's compareVersions(a, b) < 0 ... > 0. */
static int version_cmp(const char *a, const char *b)
{
	int c;
	if (is_semver(a) && is_semver(b) && csaf_version_cmp(a, b, &c) == 0)
		return c;
	double x = leading_int(a), y = leading_int(b);
	return (x > y) - (x < y);
}

struct rev {
	const char *number, *date;
	size_t order;
};

/* Sorted by date, then version (rev_cmp_dv) or by date only, stable. */
static int rev_cmp_dv(const void *a, const void *b)
{
	const struct rev *x = a, *y = b;
	int c = date_cmp(x->date, y->date);
	if (!c)
		c = version_cmp(x->number, y->number);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int rev_cmp_d(const void *a, const void *b)
{
	const struct rev *x = a, *y = b;
	int c = date_cmp(x->date, y->date);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int revisions(struct csaf_mt *m, struct rev **ret, size_t *ret_n)
{
	const cJSON *h = get(m->tracking, "revision_history"), *e;
	size_t n = (size_t)cJSON_GetArraySize(h), i = 0;
	*ret = NULL;
	*ret_n = 0;
	if (!n)
		return 0;
	if (!(*ret = calloc(n, sizeof(**ret))))
		return -ENOMEM;
	EACH(e, h) {
		if (!str(e, "number") || !str(e, "date")) {
			free(*ret);
			*ret = NULL;
			return 0;
		}
		(*ret)[i] = (struct rev){ str(e, "number"), str(e, "date"), i };
		i++;
	}
	*ret_n = n;
	return 0;
}

/* 6.1.14 Sorted Revision History: by date, the versions ascend */
static int t_6_1_14(struct csaf_mt *m, struct rev *r, size_t n)
{
	char (*norm)[CSAF_MAX_ID_LEN + 8];
	size_t k = 0;
	int res = 1;
	if (n < 2)
		return 1;
	if (!(norm = calloc(n, sizeof(*norm))))
		return -ENOMEM;
	qsort(r, n, sizeof(*r), rev_cmp_dv);
	for (size_t i = 0; i < n; i++) {
		long major;
		int pre, dup = 0;
		size_t len;
		char v[CSAF_MAX_ID_LEN + 8];
		if (semver(r[i].number, &major, &pre, &len))
			snprintf(v, sizeof(v), "%.*s", (int)(len < 200 ? len : 200), r[i].number);
		else
			snprintf(v, sizeof(v), "%.*s.0.0", CSAF_MAX_ID_LEN, r[i].number);
		if (!is_semver(v))
			continue;
		for (size_t j = 0; j < k && !dup; j++)
			dup = !strcmp(norm[j], v);
		if (!dup)
			memcpy(norm[k++], v, sizeof(v));
	}
	for (size_t i = 1; i < k && res == 1; i++) {
		int c;
		if (csaf_version_cmp(norm[i], norm[i - 1], &c) == 0 && c <= 0)
			res = csaf_mt_fail(m, "6.1.14", "document.tracking.revision_history: sorted by date, "
				   "version '%s' comes after '%s'", norm[i], norm[i - 1]);
	}
	free(norm);
	return res;
}

static size_t norm_len(const char *v, int draft)
{
	return strcspn(v, draft ? "+-" : "+");
}

/* 6.1.16 Latest Document Version: tracking.version is the newest entry */
static int t_6_1_16(struct csaf_mt *m, const struct rev *r, size_t n)
{
	const char *version = str(m->tracking, "version"), *status = str(m->tracking, "status");
	size_t best = 0;
	if (!n || !version || !status)
		return 1;
	for (size_t i = 1; i < n; i++) {
		int c = date_cmp(r[i].date, r[best].date);
		if (c > 0 || (c == 0 && version_cmp(r[i].number, r[best].number) >= 0))
			best = i;
	}
	int draft = !strcmp(status, "draft");
	size_t a = norm_len(r[best].number, draft), b = norm_len(version, draft);
	if (a != b || strncmp(r[best].number, version, a))
		return csaf_mt_fail(m, "6.1.16", "document.tracking.version: '%s' is not the latest "
			    "revision_history number '%s'", version, r[best].number);
	return 1;
}

/* 6.1.21 Missing Item in Revision History: by date, the integer versions
 * (a semantic version's major) start at 0 or 1 and skip none */
static int t_6_1_21(struct csaf_mt *m, struct rev *r, size_t n)
{
	double *seq;
	size_t k = 0;
	int res = 1;
	if (!n)
		return 1;
	if (!(seq = calloc(n, sizeof(*seq))))
		return -ENOMEM;
	qsort(r, n, sizeof(*r), rev_cmp_d);
	for (size_t i = 0; i < n; i++) {
		double v = leading_int(r[i].number);
		int dup = 0;
		for (size_t j = 0; j < k && !dup; j++)
			dup = seq[j] == v;
		if (!dup)
			seq[k++] = v;
	}
	if (seq[0] != 0 && seq[0] != 1)
		res = csaf_mt_fail(m, "6.1.21", "document.tracking.revision_history: sorted by date, it "
			   "starts at version %.0f, not 0 or 1", seq[0]);
	for (size_t i = 0; i < k && res == 1; i++)
		if (seq[i] > seq[0] + (double)i)
			res = csaf_mt_fail(m, "6.1.21", "document.tracking.revision_history: version %.0f is "
				   "missing", seq[0] + (double)i);
	free(seq);
	return res;
}

/* 6.1.17 Document Status Draft, 6.1.18 Released Revision History, 6.1.19
 * Revision History Entries for Pre-release Versions, 6.1.20 Non-draft
 * Document Version, 6.1.22 Multiple Definition in Revision History, 6.1.30
 * Mixed Integer and Semantic Versioning */
static int t_versions(struct csaf_mt *m, const struct rev *r, size_t n)
{
	const char *version = str(m->tracking, "version"), *status = str(m->tracking, "status");
	long major;
	int pre;
	size_t len;
	if (!version || !status)
		return 1;
	int released = !strcmp(status, "final") || !strcmp(status, "interim");
	int sv = semver(version, &major, &pre, &len);
	if (strcmp(status, "draft") && (!strcmp(version, "0") || (sv && (major == 0 || pre))))
		return csaf_mt_fail(m, "6.1.17", "document.tracking.version: '%s' is a draft version, but "
			    "the status is '%s'", version, status);
	for (size_t i = 0; i < n; i++) {
		int s = semver(r[i].number, &major, &pre, &len);
		if (released && (!strcmp(r[i].number, "0") || (s && major == 0)))
			return csaf_mt_fail(m, "6.1.18", "document.tracking.revision_history: version '%s' "
				    "is a draft version in a %s document", r[i].number, status);
		if (s && pre)
			return csaf_mt_fail(m, "6.1.19", "document.tracking.revision_history: '%s' is a "
				    "pre-release version", r[i].number);
	}
	if (released && sv && semver(version, &major, &pre, &len) && pre)
		return csaf_mt_fail(m, "6.1.20", "document.tracking.version: '%s' is a pre-release, but "
			    "the status is '%s'", version, status);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r[i].number, r[j].number))
				return csaf_mt_fail(m, "6.1.22", "document.tracking.revision_history: "
					    "version '%s' appears twice", r[i].number);
	for (size_t i = 0; i < n; i++) {
		int a = !is_semver(r[i].number), b = !is_semver(r[0].number);
		if (a != b)
			return csaf_mt_fail(m, "6.1.30", "document.tracking.revision_history: integer and "
				    "semantic versioning mixed ('%s', '%s')", r[0].number,
				    r[i].number);
	}
	if (n && is_semver(version) != is_semver(r[0].number))
		return csaf_mt_fail(m, "6.1.30", "document.tracking.version: integer and semantic "
			    "versioning mixed ('%s', revision '%s')", version, r[0].number);
	return 1;
}

/* ---- profile tests ----------------------------------------------------------------------- */

/* 6.1.26 Prohibited Document Category Name */
static int t_6_1_26(struct csaf_mt *m)
{
	static const char *const profiles[] = { "csaf_base", "csaf_security_incident_response",
						"csaf_informational_advisory",
						"csaf_security_advisory", "csaf_vex" };
	static const char *const others[] = { "securityincidentresponse",
					      "informationaladvisory", "securityadvisory", "vex" };
	const char *cat = str(m->document, "category");
	char squeezed[CSAF_QUOTE_BUF];
	size_t k = 0;
	if (!cat)
		return 1;
	for (size_t i = 0; i < 5; i++)
		if (!strcmp(cat, profiles[i]))
			return 1;
	if (!strncasecmp(cat, "csaf_", 5))
		return csaf_mt_fail(m, "6.1.26", "document.category: '%s' uses the reserved prefix csaf_",
			    cat);
	for (const char *p = cat; *p && k + 1 < sizeof(squeezed); p++) {
		int w = 0;
		if (*p == '_' || *p == '-')
			w = 1;
		else if ((unsigned char)*p < 0x80)
			w = *p == ' ' || (*p >= '\t' && *p <= '\r');
		else if (!strncmp(p, "\xc2\xa0", 2))
			w = 2;
		if (w) {
			p += w - 1;
			continue;
		}
		squeezed[k++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	}
	squeezed[k] = '\0';
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(squeezed, others[i]))
			return csaf_mt_fail(m, "6.1.26", "document.category: '%s' is too close to a profile "
				    "name", cat);
	return 1;
}

static int has_category(const cJSON *arr, const char *const *cats, size_t n)
{
	const cJSON *c;
	EACH(c, arr) {
		const char *k = str(c, "category");
		for (size_t i = 0; k && i < n; i++)
			if (!strcmp(k, cats[i]))
				return 1;
	}
	return 0;
}

/* Does a threat of category impact (6.1.27.9) / any flag, or a remediation
 * (6.1.27.10) name product id, directly or through a group? */
static int names_product(struct csaf_mt *m, const cJSON *list, const char *need_cat, const char *id)
{
	const cJSON *c, *g;
	EACH(c, list) {
		if (need_cat && (!str(c, "category") || strcmp(str(c, "category"), need_cat)))
			continue;
		if (csaf_mt_in_strings(get(c, "product_ids"), id))
			return 1;
		EACH(g, get(c, "group_ids"))
			if (cJSON_IsString(g) && csaf_mt_in_strings(csaf_mt_group_products(m, g->valuestring), id))
				return 1;
	}
	return 0;
}

/* 6.1.27.1 to 6.1.27.11: what each profile (document.category) requires */
static int t_6_1_27(struct csaf_mt *m)
{
	static const char *const note_cats[] = { "description", "details", "general", "summary" };
	static const char *const ext[] = { "external" };
	const char *cat = str(m->document, "category");
	const cJSON *v, *c;
	size_t i = 0;
	char b[CSAF_QUOTE_BUF];
	if (!cat)
		return 1;
	int ir = !strcmp(cat, "csaf_security_incident_response");
	int ia = !strcmp(cat, "csaf_informational_advisory");
	int sa = !strcmp(cat, "csaf_security_advisory"), vex = !strcmp(cat, "csaf_vex");
	if ((ir || ia) && !has_category(get(m->document, "notes"), note_cats, 4))
		return csaf_mt_fail(m, "6.1.27.1", "document.notes: a %s needs a note of category "
			    "description, details, general or summary", cat);
	if ((ir || ia) && !has_category(get(m->document, "references"), ext, 1))
		return csaf_mt_fail(m, "6.1.27.2", "document.references: a %s needs a reference of "
			    "category external", cat);
	if (ia && m->vulns)
		return csaf_mt_fail(m, "6.1.27.3", "vulnerabilities: an informational advisory has none");
	if (!sa && !vex)
		return 1;
	if (!m->product_tree)
		return csaf_mt_fail(m, "6.1.27.4", "product_tree: a %s needs one", cat);
	if (!m->vulns)
		return csaf_mt_fail(m, "6.1.27.11", "vulnerabilities: a %s needs them", cat);
	EACH(v, m->vulns) {
		const cJSON *ps = get(v, "product_status");
		size_t j = 0;
		if (!get(v, "notes"))
			return csaf_mt_fail(m, "6.1.27.5", "vulnerabilities[%zu]: needs notes (%s)", i, cat);
		if (!ps)
			return csaf_mt_fail(m, sa ? "6.1.27.6" : "6.1.27.7", "vulnerabilities[%zu]: needs a "
				    "product_status (%s)", i, cat);
		if (vex && !get(ps, "fixed") && !get(ps, "known_affected") &&
		    !get(ps, "known_not_affected") && !get(ps, "under_investigation"))
			return csaf_mt_fail(m, "6.1.27.7", "vulnerabilities[%zu].product_status: needs "
				    "fixed, known_affected, known_not_affected or "
				    "under_investigation", i);
		if (vex && !get(v, "ids") && !get(v, "cve"))
			return csaf_mt_fail(m, "6.1.27.8", "vulnerabilities[%zu]: needs a cve or ids", i);
		if (vex)
			EACH(c, get(ps, "known_not_affected")) {
				if (cJSON_IsString(c) &&
				    !names_product(m, get(v, "threats"), "impact", c->valuestring) &&
				    !names_product(m, get(v, "flags"), NULL, c->valuestring))
					return csaf_mt_fail(m, "6.1.27.9", "vulnerabilities[%zu].product_status."
						    "known_not_affected[%zu]: no impact statement for "
						    "'%s'", i, j, q(b, c->valuestring));
				j++;
			}
		j = 0;
		if (vex)
			EACH(c, get(ps, "known_affected")) {
				if (cJSON_IsString(c) &&
				    !names_product(m, get(v, "remediations"), NULL, c->valuestring))
					return csaf_mt_fail(m, "6.1.27.10", "vulnerabilities[%zu].product_status."
						    "known_affected[%zu]: no action statement for '%s'",
						    i, j, q(b, c->valuestring));
				j++;
			}
		i++;
	}
	return 1;
}

/* 6.1.15 Translator, 6.1.28 Translation */
static int t_lang(struct csaf_mt *m)
{
	const char *pc = str(get(m->document, "publisher"), "category");
	const char *lang = str(m->document, "lang"), *src = str(m->document, "source_lang");
	if (pc && !strcmp(pc, "translator") && !get(m->document, "source_lang"))
		return csaf_mt_fail(m, "6.1.15", "document.source_lang: a translator's document needs one");
	if (lang && src && !strcmp(lang, src))
		return csaf_mt_fail(m, "6.1.28", "document.lang: the same as document.source_lang ('%s')",
			    lang);
	return 1;
}

/* ---- the entry point --------------------------------------------------------------------- */

int csaf_mt_document(struct csaf_mt *m)
{
	struct rev *revs = NULL;
	size_t n = 0;
	int r;
	if ((r = revisions(m, &revs, &n)))
		return r;
	if ((r = t_lang(m)) == 1 && (r = t_versions(m, revs, n)) == 1 &&
	    (r = t_6_1_16(m, revs, n)) == 1 && (r = t_6_1_14(m, revs, n)) == 1 &&
	    (r = t_6_1_21(m, revs, n)) == 1 && (r = t_6_1_26(m)) == 1)
		r = t_6_1_27(m);
	free(revs);
	return r;
}
