/*
 * csaf_mandatory.c - the mandatory tests of CSAF 2.0 section 6.1, over a
 * document that the schema accepted (csaf_schema.c), so every member read
 * here has the type the schema gives it.
 *
 * Each test is one function t_6_1_N() that returns 1 (passes), 0 (fails,
 * with "PATH: 6.1.N: WHY" written once into the context) or -ENOMEM.  The
 * product and group ids are collected once into sorted arrays, so every
 * lookup is a binary search: the work is O(n log n) in the document.
 *
 * Where section 6.1 leaves a choice (which entry of a revision history is
 * the latest when two share a date, whether a test applies when part of
 * its input is absent), the choice is the one of the reference validator,
 * @secvisogram/csaf-validator-lib 2.0.10, so that both agree on every
 * document (tests/integration/test_conformance.py checks it).
 *
 * 6.1.8 is part of the schema (the CVSS schemas are embedded); 6.1.9 (the
 * scores a CVSS vector computes to) is in csaf_cvss.c; 6.1.11 reads the CWE
 * catalogue embedded from tests/data/csaf/cwe.tsv.  Not implemented: 6.1.12
 * (language tags against the IANA registry), 6.1.13 (purl grammar beyond the
 * schema's pattern).
 *
 * Sections: context and ids; product tree tests; vulnerability tests;
 * revision history tests; profile tests; the entry point.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "csaf.h"
#include "csaf_internal.h"
#include "util.h"

/* ---- context and ids -------------------------------------------------------------------- */

struct id_ref {
	const char *id;
	size_t order; /* position of definition, for stable sorting */
};

/* Write "PATH: 6.1.N: WHY" (fmt gives "PATH: WHY" with the path first);
 * returns 0, the failing result. */
int csaf_mt_fail(struct csaf_mt *m, const char *test, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *colon = strstr(msg, ": ");
	if (colon)
		csaf_errf(m->err, m->errlen, "%.*s: %s: %s", (int)(colon - msg), msg, test,
			  colon + 2);
	else
		csaf_errf(m->err, m->errlen, "%s: %s", test, msg);
	return 0;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct id_ref *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int add_id(struct csaf_mt *m, const char *id)
{
	if (!id)
		return 0;
	if (m->npids == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct id_ref *n = realloc(m->pids, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->pids = n;
		m->cap = cap;
	}
	m->pids[m->npids].id = id;
	m->pids[m->npids].order = m->npids;
	m->npids++;
	return 0;
}

static int collect_branches(struct csaf_mt *m, const cJSON *branches)
{
	const cJSON *b;
	int r;
	EACH(b, branches) {
		if ((r = add_id(m, str(get(b, "product"), "product_id"))))
			return r;
		if ((r = collect_branches(m, get(b, "branches"))))
			return r;
	}
	return 0;
}

/* Every product id defined: full_product_names, relationships, branches. */
static int collect_pids(struct csaf_mt *m)
{
	const cJSON *c;
	int r;
	EACH(c, get(m->product_tree, "full_product_names"))
		if ((r = add_id(m, str(c, "product_id"))))
			return r;
	EACH(c, get(m->product_tree, "relationships"))
		if ((r = add_id(m, str(get(c, "full_product_name"), "product_id"))))
			return r;
	if ((r = collect_branches(m, get(m->product_tree, "branches"))))
		return r;
	if (m->npids)
		qsort(m->pids, m->npids, sizeof(*m->pids), ref_cmp);
	return 0;
}

static int defined(const struct id_ref *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v[mid].id, id);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The product_ids of group gid, or NULL. */
const cJSON *csaf_mt_group_products(struct csaf_mt *m, const char *gid)
{
	const cJSON *g;
	EACH(g, get(m->product_tree, "product_groups")) {
		const char *id = str(g, "group_id");
		if (id && !strcmp(id, gid))
			return get(g, "product_ids");
	}
	return NULL;
}

int csaf_mt_in_strings(const cJSON *arr, const char *s)
{
	const cJSON *c;
	EACH(c, arr)
		if (cJSON_IsString(c) && !strcmp(c->valuestring, s))
			return 1;
	return 0;
}

/* ---- product tree tests ------------------------------------------------------------------ */

static const char *const status_lists[] = { "first_affected", "first_fixed", "fixed",
					    "known_affected", "known_not_affected",
					    "last_affected", "recommended", "under_investigation" };

/* Check every string of arr against the defined product ids. */
static int refs_defined(struct csaf_mt *m, const cJSON *arr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The path (fmt) is formatted only for the message, not for every list. */
static int refs_defined(struct csaf_mt *m, const cJSON *arr, const char *fmt, ...)
{
	const cJSON *c;
	size_t i = 0;
	char b[CSAF_QUOTE_BUF], path[160];
	va_list ap;
	EACH(c, arr) {
		if (cJSON_IsString(c) && !defined(m->pids, m->npids, c->valuestring)) {
			va_start(ap, fmt);
			vsnprintf(path, sizeof(path), fmt, ap);
			va_end(ap);
			return csaf_mt_fail(m, "6.1.1", "%s[%zu]: product id '%s' is referenced but "
					    "not defined", path, i, q(b, c->valuestring));
		}
		i++;
	}
	return 1;
}

/* 6.1.1 Missing Definition of Product ID */
static int t_6_1_1(struct csaf_mt *m)
{
	const cJSON *c, *v;
	size_t i = 0, j;
	char b[CSAF_QUOTE_BUF];
	int r;
	EACH(c, get(m->product_tree, "product_groups")) {
		if ((r = refs_defined(m, get(c, "product_ids"),
				      "product_tree.product_groups[%zu].product_ids", i)) != 1)
			return r;
		i++;
	}
	i = 0;
	EACH(c, get(m->product_tree, "relationships")) {
		static const char *const keys[] = { "product_reference",
						    "relates_to_product_reference" };
		for (j = 0; j < 2; j++) {
			const char *id = str(c, keys[j]);
			if (id && !defined(m->pids, m->npids, id))
				return csaf_mt_fail(m, "6.1.1", "product_tree.relationships[%zu].%s: product "
					    "id '%s' is referenced but not defined", i, keys[j],
					    q(b, id));
		}
		i++;
	}
	i = 0;
	EACH(v, m->vulns) {
		static const char *const lists[][2] = { { "remediations", "product_ids" },
							{ "scores", "products" },
							{ "threats", "product_ids" },
							{ "flags", "product_ids" } };
		for (j = 0; j < sizeof(status_lists) / sizeof(*status_lists); j++) {
			if ((r = refs_defined(m, get(get(v, "product_status"), status_lists[j]),
					      "vulnerabilities[%zu].product_status.%s", i,
					      status_lists[j])) != 1)
				return r;
		}
		for (j = 0; j < 4; j++) {
			size_t k = 0;
			EACH(c, get(v, lists[j][0])) {
				if ((r = refs_defined(m, get(c, lists[j][1]),
						      "vulnerabilities[%zu].%s[%zu].%s", i, lists[j][0], k,
						      lists[j][1])) != 1)
					return r;
				k++;
			}
		}
		i++;
	}
	return 1;
}

/* 6.1.2 Multiple Definition of Product ID */
static int t_6_1_2(struct csaf_mt *m)
{
	char b[CSAF_QUOTE_BUF];
	for (size_t i = 1; i < m->npids; i++)
		if (!strcmp(m->pids[i - 1].id, m->pids[i].id))
			return csaf_mt_fail(m, "6.1.2", "product_tree: product id '%s' is defined more than once",
				    q(b, m->pids[i].id));
	return 1;
}

/* The relationship whose full_product_name defines id (the first), or -1. */
static long rel_defining(const cJSON *rels, const char *id)
{
	const cJSON *c;
	long i = 0;
	if (!id)
		return -1;
	EACH(c, rels) {
		const char *d = str(get(c, "full_product_name"), "product_id");
		if (d && !strcmp(d, id))
			return i;
		i++;
	}
	return -1;
}

/* 6.1.3 Circular Definition of Product ID: a relationship that builds on
 * itself through product_reference / relates_to_product_reference. */
static int t_6_1_3(struct csaf_mt *m)
{
	const cJSON *rels = get(m->product_tree, "relationships"), *c;
	size_t n = (size_t)cJSON_GetArraySize(rels), i = 0;
	long *edge;
	unsigned char *color;
	size_t *stack;
	int result = 1;
	if (!n)
		return 1;
	edge = calloc(2 * n, sizeof(*edge));
	color = calloc(n, 1);
	stack = calloc(2 * n + 1, sizeof(*stack));
	if (!edge || !color || !stack) {
		free(edge);
		free(color);
		free(stack);
		return -ENOMEM;
	}
	EACH(c, rels) {
		edge[2 * i] = rel_defining(rels, str(c, "product_reference"));
		edge[2 * i + 1] = rel_defining(rels, str(c, "relates_to_product_reference"));
		i++;
	}
	/* iterative DFS, colour 1 on the current path, 2 done; stack holds
	 * node * 3 + next edge to try */
	for (size_t s = 0; s < n && result == 1; s++) {
		size_t sp = 0;
		if (color[s])
			continue;
		stack[sp++] = s * 3;
		color[s] = 1;
		while (sp && result == 1) {
			size_t top = stack[sp - 1], node = top / 3, e = top % 3;
			if (e == 2) {
				color[node] = 2;
				sp--;
				continue;
			}
			stack[sp - 1]++;
			long t = edge[2 * node + e];
			if (t < 0)
				continue;
			if (color[t] == 1)
				result = csaf_mt_fail(m, "6.1.3", "product_tree.relationships[%ld]: product id "
					      "'%s' is defined in terms of itself", t,
					      str(get(cJSON_GetArrayItem(rels, (int)t),
						      "full_product_name"), "product_id"));
			else if (!color[t]) {
				color[t] = 1;
				stack[sp++] = (size_t)t * 3;
			}
		}
	}
	free(edge);
	free(color);
	free(stack);
	return result;
}

/* 6.1.4 Missing Definition of Product Group ID, 6.1.5 Multiple Definition */
static int t_6_1_4_5(struct csaf_mt *m)
{
	const cJSON *g, *v, *c, *id;
	size_t i = 0, j, n = 0;
	char b[CSAF_QUOTE_BUF];
	struct id_ref *gids;
	int r = 1;
	EACH(g, get(m->product_tree, "product_groups"))
		n++;
	gids = calloc(n ? n : 1, sizeof(*gids));
	if (!gids)
		return -ENOMEM;
	n = 0;
	EACH(g, get(m->product_tree, "product_groups"))
		if (str(g, "group_id")) {
			gids[n].id = str(g, "group_id");
			gids[n].order = n;
			n++;
		}
	qsort(gids, n, sizeof(*gids), ref_cmp);
	for (j = 1; j < n && r == 1; j++)
		if (!strcmp(gids[j - 1].id, gids[j].id))
			r = csaf_mt_fail(m, "6.1.5", "product_tree.product_groups: group id '%s' is defined "
				 "more than once", q(b, gids[j].id));
	EACH(v, m->vulns) {
		static const char *const lists[] = { "remediations", "threats", "flags" };
		for (j = 0; j < 3 && r == 1; j++) {
			size_t k = 0;
			EACH(c, get(v, lists[j])) {
				size_t l = 0;
				EACH(id, get(c, "group_ids")) {
					if (r == 1 && cJSON_IsString(id) &&
					    !defined(gids, n, id->valuestring))
						r = csaf_mt_fail(m, "6.1.4", "vulnerabilities[%zu].%s[%zu]."
							 "group_ids[%zu]: group id '%s' is referenced "
							 "but not defined", i, lists[j], k, l,
							 q(b, id->valuestring));
					l++;
				}
				k++;
			}
		}
		i++;
	}
	free(gids);
	return r;
}

/* ---- vulnerability tests ----------------------------------------------------------------- */

struct tagged {
	const char *id;
	const char *tag;
	size_t order;
};

static int tagged_cmp(const void *a, const void *b)
{
	const struct tagged *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (!c)
		c = strcmp(x->tag, y->tag);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* 6.1.6 Contradicting Product Status */
static int t_6_1_6(struct csaf_mt *m)
{
	static const struct {
		const char *list, *group;
	} map[] = { { "first_affected", "affected" }, { "known_affected", "affected" },
		    { "last_affected", "affected" },  { "known_not_affected", "not affected" },
		    { "first_fixed", "fixed" },        { "fixed", "fixed" },
		    { "under_investigation", "under investigation" } };
	const cJSON *v, *c;
	size_t i = 0;
	char b[CSAF_QUOTE_BUF];
	EACH(v, m->vulns) {
		const cJSON *ps = get(v, "product_status");
		size_t n = 0, k = 0;
		for (size_t j = 0; j < sizeof(map) / sizeof(*map); j++)
			n += (size_t)cJSON_GetArraySize(get(ps, map[j].list));
		if (n > 1) {
			struct tagged *t = calloc(n, sizeof(*t));
			if (!t)
				return -ENOMEM;
			for (size_t j = 0; j < sizeof(map) / sizeof(*map); j++)
				EACH(c, get(ps, map[j].list))
					if (cJSON_IsString(c)) {
						t[k].id = c->valuestring;
						t[k].tag = map[j].group;
						t[k].order = k;
						k++;
					}
			qsort(t, k, sizeof(*t), tagged_cmp);
			for (size_t j = 1; j < k; j++)
				if (!strcmp(t[j - 1].id, t[j].id) && strcmp(t[j - 1].tag, t[j].tag)) {
					int r = csaf_mt_fail(m, "6.1.6", "vulnerabilities[%zu].product_status: "
						     "product '%s' is both %s and %s", i,
						     q(b, t[j].id), t[j - 1].tag, t[j].tag);
					free(t);
					return r;
				}
			free(t);
		}
		i++;
	}
	return 1;
}

/* 6.1.7 Multiple Scores with same Version per Product */
static int t_6_1_7(struct csaf_mt *m)
{
	const cJSON *v, *s, *p;
	size_t i = 0;
	char b[CSAF_QUOTE_BUF];
	EACH(v, m->vulns) {
		size_t n = 0, k = 0;
		EACH(s, get(v, "scores"))
			n += 2 * (size_t)cJSON_GetArraySize(get(s, "products"));
		if (n > 1) {
			struct tagged *t = calloc(n, sizeof(*t));
			if (!t)
				return -ENOMEM;
			EACH(s, get(v, "scores")) {
				const char *v2 = str(get(s, "cvss_v2"), "version");
				const char *v3 = str(get(s, "cvss_v3"), "version");
				EACH(p, get(s, "products")) {
					if (!cJSON_IsString(p))
						continue;
					if (v2)
						t[k] = (struct tagged){ p->valuestring, v2, k }, k++;
					if (v3)
						t[k] = (struct tagged){ p->valuestring, v3, k }, k++;
				}
			}
			qsort(t, k, sizeof(*t), tagged_cmp);
			for (size_t j = 1; j < k; j++)
				if (!strcmp(t[j - 1].id, t[j].id) && !strcmp(t[j - 1].tag, t[j].tag)) {
					int r = csaf_mt_fail(m, "6.1.7", "vulnerabilities[%zu].scores: product "
						     "'%s' has more than one CVSS %s score", i,
						     q(b, t[j].id), t[j].tag);
					free(t);
					return r;
				}
			free(t);
		}
		i++;
	}
	return 1;
}

/* 6.1.10 Inconsistent CVSS: each metric of the vector string and its
 * property agree.  The tables name each property, its abbreviation in the
 * vector and its values with theirs (CVSS v3.0/v3.1 and v2.0 specifications,
 * as the reference validator maps them). */
struct cvss_metric {
	const char *attr, *key;
	const char *vals[16]; /* name, abbreviation, ..., NULL */
};

static const struct cvss_metric cvss3_metrics[] = {
	{ "attackVector", "AV",
	  { "NETWORK", "N", "ADJACENT_NETWORK", "A", "LOCAL", "L", "PHYSICAL", "P", NULL } },
	{ "attackComplexity", "AC", { "HIGH", "H", "LOW", "L", NULL } },
	{ "privilegesRequired", "PR", { "NONE", "N", "LOW", "L", "HIGH", "H", NULL } },
	{ "userInteraction", "UI", { "NONE", "N", "REQUIRED", "R", NULL } },
	{ "scope", "S", { "UNCHANGED", "U", "CHANGED", "C", NULL } },
	{ "confidentialityImpact", "C", { "NONE", "N", "LOW", "L", "HIGH", "H", NULL } },
	{ "integrityImpact", "I", { "NONE", "N", "LOW", "L", "HIGH", "H", NULL } },
	{ "availabilityImpact", "A", { "NONE", "N", "LOW", "L", "HIGH", "H", NULL } },
	{ "exploitCodeMaturity", "E",
	  { "UNPROVEN", "U", "PROOF_OF_CONCEPT", "P", "FUNCTIONAL", "F", "HIGH", "H",
	    "NOT_DEFINED", "X", NULL } },
	{ "remediationLevel", "RL",
	  { "OFFICIAL_FIX", "O", "TEMPORARY_FIX", "T", "WORKAROUND", "W", "UNAVAILABLE", "U",
	    "NOT_DEFINED", "X", NULL } },
	{ "reportConfidence", "RC",
	  { "UNKNOWN", "U", "REASONABLE", "R", "CONFIRMED", "C", "NOT_DEFINED", "X", NULL } },
	{ "confidentialityRequirement", "CR",
	  { "LOW", "L", "MEDIUM", "M", "HIGH", "H", "NOT_DEFINED", "X", NULL } },
	{ "integrityRequirement", "IR",
	  { "LOW", "L", "MEDIUM", "M", "HIGH", "H", "NOT_DEFINED", "X", NULL } },
	{ "availabilityRequirement", "AR",
	  { "LOW", "L", "MEDIUM", "M", "HIGH", "H", "NOT_DEFINED", "X", NULL } },
	{ "modifiedAttackVector", "MAV",
	  { "NETWORK", "N", "ADJACENT_NETWORK", "A", "LOCAL", "L", "PHYSICAL", "P", "NOT_DEFINED",
	    "X", NULL } },
	{ "modifiedAttackComplexity", "MAC", { "HIGH", "H", "LOW", "L", "NOT_DEFINED", "X", NULL } },
	{ "modifiedPrivilegesRequired", "MPR",
	  { "HIGH", "H", "LOW", "L", "NONE", "N", "NOT_DEFINED", "X", NULL } },
	{ "modifiedUserInteraction", "MUI", { "NONE", "N", "REQUIRED", "R", "NOT_DEFINED", "X", NULL } },
	{ "modifiedScope", "MS", { "UNCHANGED", "U", "CHANGED", "C", "NOT_DEFINED", "X", NULL } },
	{ "modifiedConfidentialityImpact", "MC",
	  { "HIGH", "H", "LOW", "L", "NONE", "N", "NOT_DEFINED", "X", NULL } },
	{ "modifiedIntegrityImpact", "MI",
	  { "HIGH", "H", "LOW", "L", "NONE", "N", "NOT_DEFINED", "X", NULL } },
	{ "modifiedAvailabilityImpact", "MA",
	  { "HIGH", "H", "LOW", "L", "NONE", "N", "NOT_DEFINED", "X", NULL } },
	{ NULL, NULL, { NULL } },
};
static const struct cvss_metric cvss2_metrics[] = {
	{ "accessVector", "AV", { "NETWORK", "N", "ADJACENT_NETWORK", "A", "LOCAL", "L", NULL } },
	{ "accessComplexity", "AC", { "HIGH", "H", "MEDIUM", "M", "LOW", "L", NULL } },
	{ "authentication", "Au", { "MULTIPLE", "M", "SINGLE", "S", "NONE", "N", NULL } },
	{ "confidentialityImpact", "C", { "NONE", "N", "PARTIAL", "P", "COMPLETE", "C", NULL } },
	{ "integrityImpact", "I", { "NONE", "N", "PARTIAL", "P", "COMPLETE", "C", NULL } },
	{ "availabilityImpact", "A", { "NONE", "N", "PARTIAL", "P", "COMPLETE", "C", NULL } },
	{ "exploitability", "E",
	  { "UNPROVEN", "U", "PROOF_OF_CONCEPT", "POC", "FUNCTIONAL", "F", "HIGH", "H",
	    "NOT_DEFINED", "ND", NULL } },
	{ "remediationLevel", "RL",
	  { "OFFICIAL_FIX", "OF", "TEMPORARY_FIX", "TF", "WORKAROUND", "W", "UNAVAILABLE", "U",
	    "NOT_DEFINED", "ND", NULL } },
	{ "reportConfidence", "RC",
	  { "UNCONFIRMED", "UC", "UNCORROBORATED", "UR", "CONFIRMED", "C", "NOT_DEFINED", "ND",
	    NULL } },
	{ "collateralDamagePotential", "CDP",
	  { "NONE", "N", "LOW", "L", "LOW_MEDIUM", "LM", "MEDIUM_HIGH", "MH", "HIGH", "H",
	    "NOT_DEFINED", "ND", NULL } },
	{ "targetDistribution", "TD",
	  { "NONE", "N", "LOW", "L", "MEDIUM", "M", "HIGH", "H", "NOT_DEFINED", "ND", NULL } },
	{ "confidentialityRequirement", "CR",
	  { "LOW", "L", "MEDIUM", "M", "HIGH", "H", "NOT_DEFINED", "ND", NULL } },
	{ "integrityRequirement", "IR",
	  { "LOW", "L", "MEDIUM", "M", "HIGH", "H", "NOT_DEFINED", "ND", NULL } },
	{ "availabilityRequirement", "AR",
	  { "LOW", "L", "MEDIUM", "M", "HIGH", "H", "NOT_DEFINED", "ND", NULL } },
	{ NULL, NULL, { NULL } },
};

static int cvss_consistent(struct csaf_mt *m, const cJSON *cvss, const struct cvss_metric *map,
			   int skip_first, size_t vi, size_t si, const char *which)
{
	const char *vec = str(cvss, "vectorString");
	if (!vec)
		return 1;
	for (const char *p = vec; *p;) {
		size_t n = strcspn(p, "/");
		if (skip_first) {
			skip_first = 0;
		} else {
			const char *colon = memchr(p, ':', n);
			if (colon) {
				size_t kl = (size_t)(colon - p), vl = strcspn(colon + 1, ":/");
				for (const struct cvss_metric *e = map; e->attr; e++) {
					if (strlen(e->key) != kl || strncmp(e->key, p, kl))
						continue;
					const char *have = str(cvss, e->attr), *want = NULL;
					for (size_t k = 0; e->vals[k]; k += 2)
						if (strlen(e->vals[k + 1]) == vl &&
						    !strncmp(e->vals[k + 1], colon + 1, vl)) {
							want = e->vals[k];
							break;
						}
					if (have && want && strcmp(have, want))
						return csaf_mt_fail(m, "6.1.10", "vulnerabilities[%zu]."
								    "scores[%zu].%s.%s: '%s' is not the "
								    "vector string's %.*s", vi, si, which,
								    e->attr, have, (int)n, p);
					break;
				}
			}
		}
		p += n;
		if (*p)
			p++;
	}
	return 1;
}

/* fn over every CVSS object of every score: cvss_v2 (version 2), cvss_v3 of
 * version 3.0 or 3.1 (30, 31); stops at the first result other than 1. */
int csaf_mt_each_cvss(struct csaf_mt *m, csaf_cvss_fn *fn)
{
	const cJSON *v, *s;
	size_t i = 0;
	int r;
	EACH(v, m->vulns) {
		size_t j = 0;
		EACH(s, get(v, "scores")) {
			const cJSON *v3 = get(s, "cvss_v3");
			const char *ver = str(v3, "version");
			if (get(s, "cvss_v2") && (r = fn(m, get(s, "cvss_v2"), 2, i, j, "cvss_v2")) != 1)
				return r;
			if (ver && (!strcmp(ver, "3.1") || !strcmp(ver, "3.0")) &&
			    (r = fn(m, v3, !strcmp(ver, "3.1") ? 31 : 30, i, j, "cvss_v3")) != 1)
				return r;
			j++;
		}
		i++;
	}
	return 1;
}

static int consistent(struct csaf_mt *m, const cJSON *cvss, int version, size_t vi, size_t si,
		      const char *which)
{
	return version == 2 ? cvss_consistent(m, cvss, cvss2_metrics, 0, vi, si, which)
			    : cvss_consistent(m, cvss, cvss3_metrics, 1, vi, si, which);
}

static int t_6_1_10(struct csaf_mt *m)
{
	return csaf_mt_each_cvss(m, consistent);
}

extern const char csaf_cwe_tsv[];
extern const size_t csaf_cwe_tsv_len;

/* 6.1.11 CWE: the id is in the catalogue, with exactly that name */
static int t_6_1_11(struct csaf_mt *m)
{
	const cJSON *v;
	size_t i = 0;
	char b[CSAF_QUOTE_BUF];
	EACH(v, m->vulns) {
		const char *id = str(get(v, "cwe"), "id"), *name = str(get(v, "cwe"), "name");
		if (id && name && strlen(id) < 16) {
			char key[20];
			const char *line = NULL;
			size_t klen = (size_t)snprintf(key, sizeof(key), "%s\t", id);
			for (const char *p = csaf_cwe_tsv; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
				if (!strncmp(p, key, klen)) {
					line = p + klen;
					break;
				}
			if (!line)
				return csaf_mt_fail(m, "6.1.11", "vulnerabilities[%zu].cwe.id: '%s' is "
						    "not in the CWE catalogue", i, q(b, id));
			if (strncmp(line, name, strcspn(line, "\n")) || strlen(name) != strcspn(line, "\n"))
				return csaf_mt_fail(m, "6.1.11", "vulnerabilities[%zu].cwe.name: not the "
						    "name of %s ('%.*s')", i, id, (int)strcspn(line, "\n"),
						    line);
		}
		i++;
	}
	return 1;
}

/* Two equal strings (member key of each element of arr, or the elements
 * themselves when key is NULL): 1 and the later index, else 0. */
static int dup_string(const cJSON *arr, const char *key, size_t *ret_i)
{
	const cJSON *a, *b;
	size_t i = 0;
	EACH(a, arr) {
		const char *x = key ? str(a, key) : (cJSON_IsString(a) ? a->valuestring : NULL);
		size_t j = 0;
		if (x)
			for (b = arr->child; b && b != a; b = b->next, j++) {
				const char *y = key ? str(b, key)
						    : (cJSON_IsString(b) ? b->valuestring : NULL);
				if (y && !strcmp(x, y)) {
					*ret_i = i;
					return 1;
				}
			}
		i++;
	}
	return 0;
}

/* 6.1.23 Multiple Use of Same CVE (quadratic only in the number of
 * vulnerabilities, so sorted) */
static int t_6_1_23(struct csaf_mt *m)
{
	const cJSON *v;
	size_t n = 0, k = 0;
	char b[CSAF_QUOTE_BUF];
	int r = 1;
	EACH(v, m->vulns)
		n++;
	if (n < 2)
		return 1;
	struct id_ref *c = calloc(n, sizeof(*c));
	if (!c)
		return -ENOMEM;
	EACH(v, m->vulns) {
		if (str(v, "cve")) {
			c[k].id = str(v, "cve");
			c[k].order = k;
			k++;
		}
	}
	qsort(c, k, sizeof(*c), ref_cmp);
	for (size_t j = 1; j < k && r == 1; j++)
		if (!strcmp(c[j - 1].id, c[j].id))
			r = csaf_mt_fail(m, "6.1.23", "vulnerabilities: '%s' is used by more than one "
				 "vulnerability", q(b, c[j].id));
	free(c);
	return r;
}

/* 6.1.24 Multiple Definition in Involvements (the reference validator
 * applies it only when every vulnerability has involvements) */
static int t_6_1_24(struct csaf_mt *m)
{
	const cJSON *v, *a, *b;
	size_t i = 0;
	EACH(v, m->vulns)
		if (!cJSON_IsArray(get(v, "involvements")))
			return 1;
	EACH(v, m->vulns) {
		size_t j = 0;
		EACH(a, get(v, "involvements")) {
			const char *da = str(a, "date"), *pa = str(a, "party");
			if (da && pa)
				for (b = get(v, "involvements")->child; b != a; b = b->next) {
					const char *db = str(b, "date"), *pb = str(b, "party");
					if (db && pb && !strcmp(da, db) && !strcmp(pa, pb))
						return csaf_mt_fail(m, "6.1.24", "vulnerabilities[%zu]."
							    "involvements[%zu]: party '%s' at '%s' "
							    "twice", i, j, pa, da);
				}
			j++;
		}
		i++;
	}
	return 1;
}

/* 6.1.25 Multiple Use of Same Hash Algorithm, in one product's helper */
static int hashes_ok(struct csaf_mt *m, const cJSON *product, const char *path)
{
	const cJSON *h;
	size_t i = 0, k;
	EACH(h, get(get(product, "product_identification_helper"), "hashes")) {
		if (dup_string(get(h, "file_hashes"), "algorithm", &k))
			return csaf_mt_fail(m, "6.1.25", "%s.product_identification_helper.hashes[%zu]."
				    "file_hashes[%zu]: a second hash with the same algorithm", path,
				    i, k);
		i++;
	}
	return 1;
}

static int branch_walk(struct csaf_mt *m, const cJSON *branches, char *path, size_t plen, size_t room,
		       int (*fn)(struct csaf_mt *, const cJSON *branch, const char *path))
{
	const cJSON *b;
	size_t i = 0;
	int r;
	EACH(b, branches) {
		int n = snprintf(path + plen, room - plen, ".branches[%zu]", i++);
		size_t nl = n > 0 && (size_t)n < room - plen ? plen + (size_t)n : plen;
		if ((r = fn(m, b, path)) != 1)
			return r;
		if ((r = branch_walk(m, get(b, "branches"), path, nl, room, fn)) != 1)
			return r;
		path[plen] = '\0';
	}
	return 1;
}

static int branch_hashes(struct csaf_mt *m, const cJSON *b, const char *path)
{
	char p[300];
	snprintf(p, sizeof(p), "%s.product", path);
	return hashes_ok(m, get(b, "product"), p);
}

static int t_6_1_25(struct csaf_mt *m)
{
	const cJSON *c;
	size_t i = 0;
	char p[300];
	int r;
	EACH(c, get(m->product_tree, "full_product_names")) {
		snprintf(p, sizeof(p), "product_tree.full_product_names[%zu]", i++);
		if ((r = hashes_ok(m, c, p)) != 1)
			return r;
	}
	i = 0;
	EACH(c, get(m->product_tree, "relationships")) {
		snprintf(p, sizeof(p), "product_tree.relationships[%zu].full_product_name", i++);
		if ((r = hashes_ok(m, get(c, "full_product_name"), p)) != 1)
			return r;
	}
	snprintf(p, sizeof(p), "product_tree");
	return branch_walk(m, get(m->product_tree, "branches"), p, strlen(p), sizeof(p),
			   branch_hashes);
}

/* 6.1.31 Version Range in Product Version */
static int branch_range(struct csaf_mt *m, const cJSON *b, const char *path)
{
	static const char *const words[] = { "after", "all", "before", "earlier",
					     "later", "prior", "versions" };
	const char *cat = str(b, "category"), *name = str(b, "name");
	if (!cat || strcmp(cat, "product_version") || !name)
		return 1;
	if (strstr(name, "<") || strstr(name, ">"))
		return csaf_mt_fail(m, "6.1.31", "%s.name: a version range ('%s') in a product_version",
			    path, name);
	for (const char *p = name; *p;) {
		size_t n = 0;
		while (p[n] && p[n] != ' ' && (p[n] < '\t' || p[n] > '\r'))
			n++;
		for (size_t w = 0; w < sizeof(words) / sizeof(*words); w++)
			if (n == strlen(words[w]) && !strncasecmp(p, words[w], n))
				return csaf_mt_fail(m, "6.1.31", "%s.name: a version range ('%s') in a "
					    "product_version", path, name);
		p += n;
		if (*p)
			p++;
	}
	return 1;
}

static int t_6_1_31(struct csaf_mt *m)
{
	char p[300] = "product_tree";
	if (!cJSON_IsArray(get(m->product_tree, "branches")))
		return 1;
	return branch_walk(m, get(m->product_tree, "branches"), p, strlen(p), sizeof(p),
			   branch_range);
}

/* 6.1.29 Remediation without Product Reference, 6.1.32 Flag without
 * Product Reference: like the reference validator, only when every
 * vulnerability has the list. */
static int without_products(struct csaf_mt *m, const char *list, const char *test)
{
	const cJSON *v, *c;
	size_t i = 0;
	if (!cJSON_IsArray(m->vulns))
		return 1;
	EACH(v, m->vulns)
		if (!cJSON_IsArray(get(v, list)))
			return 1;
	EACH(v, m->vulns) {
		size_t j = 0;
		EACH(c, get(v, list)) {
			if (!get(c, "group_ids") && !get(c, "product_ids"))
				return csaf_mt_fail(m, test, "vulnerabilities[%zu].%s[%zu]: names no product "
					    "(neither product_ids nor group_ids)", i, list, j);
			j++;
		}
		i++;
	}
	return 1;
}

/* 6.1.33 Multiple Flags with VEX Justification Codes per Product (the
 * reference validator: when every vulnerability has flags and the product
 * groups carry nothing but group_id and product_ids) */
static int t_6_1_33(struct csaf_mt *m)
{
	const cJSON *v, *f, *g, *c;
	size_t i = 0;
	char b[CSAF_QUOTE_BUF];
	if (!m->product_tree || !cJSON_IsArray(m->vulns))
		return 1;
	EACH(g, get(m->product_tree, "product_groups"))
		EACH(c, g)
			if (strcmp(c->string, "group_id") && strcmp(c->string, "product_ids"))
				return 1;
	EACH(v, m->vulns)
		if (!cJSON_IsArray(get(v, "flags")))
			return 1;
	EACH(v, m->vulns) {
		size_t n = 0, k = 0, j = 0;
		EACH(f, get(v, "flags")) {
			n += (size_t)cJSON_GetArraySize(get(f, "product_ids"));
			EACH(c, get(f, "group_ids"))
				if (cJSON_IsString(c))
					n += (size_t)cJSON_GetArraySize(
						csaf_mt_group_products(m, c->valuestring));
		}
		if (n < 2) {
			i++;
			continue;
		}
		struct tagged *t = calloc(n, sizeof(*t));
		if (!t)
			return -ENOMEM;
		EACH(f, get(v, "flags")) {
			/* tag: the flag's index, so one flag naming a product twice
			 * (through a group) counts too, as in the reference */
			EACH(c, get(f, "product_ids"))
				if (cJSON_IsString(c))
					t[k++] = (struct tagged){ c->valuestring, "", j };
			EACH(g, get(f, "group_ids"))
				if (cJSON_IsString(g))
					EACH(c, csaf_mt_group_products(m, g->valuestring))
						if (cJSON_IsString(c))
							t[k++] = (struct tagged){ c->valuestring, "",
										  j };
			j++;
		}
		qsort(t, k, sizeof(*t), tagged_cmp);
		for (size_t x = 1; x < k; x++)
			if (!strcmp(t[x - 1].id, t[x].id)) {
				int r = csaf_mt_fail(m, "6.1.33", "vulnerabilities[%zu].flags: product '%s' "
					     "has more than one VEX justification", i, q(b, t[x].id));
				free(t);
				return r;
			}
		free(t);
		i++;
	}
	return 1;
}

/* ---- the entry point --------------------------------------------------------------------- */

int csaf_mandatory_check(const cJSON *root, char *err, size_t errlen)
{
	struct csaf_mt m = { 0 };
	int r;

	m.root = root;
	m.document = get(root, "document");
	m.tracking = get(m.document, "tracking");
	m.product_tree = get(root, "product_tree");
	m.vulns = get(root, "vulnerabilities");
	m.err = err;
	m.errlen = errlen;
	if ((r = collect_pids(&m)))
		goto out;
	if ((r = t_6_1_1(&m)) != 1 || (r = t_6_1_2(&m)) != 1 || (r = t_6_1_3(&m)) != 1 ||
	    (r = t_6_1_4_5(&m)) != 1 || (r = t_6_1_6(&m)) != 1 || (r = t_6_1_7(&m)) != 1 ||
	    (r = csaf_mt_cvss_scores(&m)) != 1 ||
	    (r = t_6_1_10(&m)) != 1 || (r = t_6_1_11(&m)) != 1 ||
	    (r = csaf_mt_document(&m)) != 1 || (r = t_6_1_23(&m)) != 1 ||
	    (r = t_6_1_24(&m)) != 1 || (r = t_6_1_25(&m)) != 1 ||
	    (r = without_products(&m, "remediations", "6.1.29")) != 1 ||
	    (r = t_6_1_31(&m)) != 1 || (r = without_products(&m, "flags", "6.1.32")) != 1 ||
	    (r = t_6_1_33(&m)) != 1)
		goto out;
out:
	free(m.pids);
	if (r == -ENOMEM)
		csaf_errf(err, errlen, "out of memory");
	return r == 1 ? 0 : r == 0 ? -EINVAL : r;
}
