/*
 * test_policy.c - unit tests of the policy engine and the default policy.
 *
 * Small worlds are built in C (with the invariants of world_build.h), the
 * default policy is loaded from SOURCE_ROOT/policy/wbni-default.json, and
 * every permit and forbid of it is checked where it just applies and
 * where it just does not, with the determining rule ids, at boundary
 * seconds.  Then: the Pulse Secure scenario of seeds/, built-in guards,
 * compile errors with their JSON paths, explanations (text and JSON, and
 * a cross-check of the explained rule evaluation against policy_decide on
 * random worlds), policy_next_boundary, and adding a regime as data.
 *
 * A plain program: each failed check prints its line; exit status 1 if any
 * failed.  Run it under ASan or valgrind for leaks.
 */
#include "policy.h"
#include "world.h"
#include "world_build.h"
#include "util.h"
#include "csaf.h"
#include "check.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the project root"
#endif

/* ---- helpers ---- */

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char tmp[4096];
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		memcpy(buf + len, tmp, n);
		len += n;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	*ret_len = len;
	return buf;
}

static struct policy *load_default(void)
{
	size_t len;
	char err[512];
	struct policy *p = NULL;
	char *s = read_file(SOURCE_ROOT "/policy/wbni-default.json", &len);
	if (!s) {
		fprintf(stderr, "cannot read the default policy\n");
		exit(1);
	}
	int rc = policy_compile(s, len, &p, err, sizeof(err));
	free(s);
	if (rc) {
		fprintf(stderr, "default policy: %s\n", err);
		exit(1);
	}
	return p;
}

static struct policy *compile_str(const char *s)
{
	char err[512];
	struct policy *p = NULL;
	if (policy_compile(s, strlen(s), &p, err, sizeof(err))) {
		fprintf(stderr, "compile: %s\n", err);
		exit(1);
	}
	return p;
}

/* A time; a date alone is the start of the day. */
static int64_t T(const char *s)
{
	int64_t t;
	if (au_parse_time(s, 0, &t)) {
		fprintf(stderr, "bad test time %s\n", s);
		exit(1);
	}
	return t;
}

/* A date alone as the end of that day (an inclusive "until"). */
static int64_t TU(const char *s)
{
	int64_t t;
	if (au_parse_time(s, 1, &t)) {
		fprintf(stderr, "bad test time %s\n", s);
		exit(1);
	}
	return t;
}

/* ---- world builder ---- */

#define B_ORGS 64
#define B_ADVS 64
#define B_MEMS 128

struct b_role {
	const char *role;
	int64_t from, until;
	const char *ref;
};

struct b_org {
	const char *slug;
	const char *sectors[4];
	struct b_role roles[4];
	int nroles;
};

struct b_mem {
	const char *schakel, *member;
	int64_t from, until;
};

struct b_share {
	const char *org;
	int64_t at;
};

struct b_adv {
	const char *id;
	int tlp, status, pd, impact;
	int64_t initial, embargo, withdrawn;
	const char *concerns[4];
	const char *sectors[4];
	struct b_share shares[4];
};

struct builder {
	const struct policy *p;
	struct b_org orgs[B_ORGS];
	int norgs;
	struct b_mem mems[B_MEMS];
	int nmems;
	struct b_adv advs[B_ADVS];
	int nadvs;
};

static struct b_org *b_org(struct builder *b, const char *slug, const char *sector)
{
	struct b_org *o = &b->orgs[b->norgs++];
	memset(o, 0, sizeof(*o));
	o->slug = slug;
	o->sectors[0] = sector;
	return o;
}

static void b_role(struct b_org *o, const char *role, int64_t from, int64_t until, const char *ref)
{
	struct b_role *r = &o->roles[o->nroles++];
	r->role = role;
	r->from = from;
	r->until = until;
	r->ref = ref;
}

static void b_member(struct builder *b, const char *schakel, const char *member, int64_t from,
		     int64_t until)
{
	struct b_mem *m = &b->mems[b->nmems++];
	m->schakel = schakel;
	m->member = member;
	m->from = from;
	m->until = until;
}

/* An advisory with defaults: GREEN, final, no personal data, no impact,
 * released 2018-01-01, no embargo, not withdrawn, concerns nobody. */
static struct b_adv *b_adv(struct builder *b, const char *id)
{
	struct b_adv *a = &b->advs[b->nadvs++];
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->tlp = CSAF_TLP_GREEN;
	a->status = CSAF_STATUS_FINAL;
	a->initial = T("2018-01-01");
	a->embargo = AU_T_MIN;
	a->withdrawn = AU_T_MAX;
	return a;
}

static int cmp_org(const void *x, const void *y)
{
	const struct b_org *a = *(const struct b_org *const *)x, *b = *(const struct b_org *const *)y;
	return strcmp(a->slug, b->slug);
}

static int cmp_adv(const void *x, const void *y)
{
	const struct b_adv *a = *(const struct b_adv *const *)x, *b = *(const struct b_adv *const *)y;
	return strcmp(a->id, b->id);
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static int cmp_share(const void *x, const void *y)
{
	const struct w_share *a = x, *b = y;
	return a->org < b->org ? -1 : a->org > b->org;
}

static uint64_t b_sectors(const struct builder *b, const char *const *names, int n)
{
	uint64_t m = 0;
	for (int i = 0; i < n && names[i]; i++) {
		int k = policy_sector_index(b->p, names[i]);
		if (k < 0) {
			fprintf(stderr, "unknown sector %s\n", names[i]);
			exit(1);
		}
		m |= (uint64_t)1 << k;
	}
	return m;
}

static void *xalloc(struct world *w, size_t n)
{
	void *p = world_alloc(w, n ? n : 1);
	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

/* Build the world: orgs sorted by slug after "public", advisories by id. */
static struct world *b_build(const struct builder *b)
{
	struct world *w = world_new();
	const struct b_org *orgs[B_ORGS];
	if (!w)
		exit(1);
	for (int i = 0; i < b->norgs; i++)
		orgs[i] = &b->orgs[i];
	qsort(orgs, (size_t)b->norgs, sizeof(orgs[0]), cmp_org);
	w->norgs = (uint32_t)b->norgs + 1;
	w->orgs = xalloc(w, sizeof(*w->orgs) * w->norgs);
	w->orgs[0].slug = world_strdup(w, "public");
	w->orgs[0].name = world_strdup(w, "the public");
	w->orgs[0].uid = w->orgs[0].gid = -1;
	for (uint32_t k = 1; k < w->norgs; k++) {
		const struct b_org *o = orgs[k - 1];
		struct w_org *wo = &w->orgs[k];
		wo->id = k;
		wo->slug = world_strdup(w, o->slug);
		wo->name = world_strdup(w, o->slug);
		wo->uid = wo->gid = -1;
		wo->sectors = b_sectors(b, o->sectors, 4);
		wo->nroles = (uint32_t)o->nroles;
		wo->roles = xalloc(w, sizeof(*wo->roles) * (size_t)o->nroles);
		for (int i = 0; i < o->nroles; i++) {
			int r = policy_role_index(b->p, o->roles[i].role);
			if (r < 0) {
				fprintf(stderr, "unknown role %s\n", o->roles[i].role);
				exit(1);
			}
			wo->roles[i].role = (uint8_t)r;
			wo->roles[i].from = o->roles[i].from;
			wo->roles[i].until = o->roles[i].until;
			wo->roles[i].ref = o->roles[i].ref ? world_strdup(w, o->roles[i].ref) : NULL;
		}
	}
	/* memberships: both directions */
	for (int i = 0; i < b->nmems; i++) {
		uint32_t s = world_org_find(w, b->mems[i].schakel);
		uint32_t m = world_org_find(w, b->mems[i].member);
		if (s == W_NONE || m == W_NONE) {
			fprintf(stderr, "bad membership\n");
			exit(1);
		}
		w->orgs[s].nmembers++;
		w->orgs[m].nmember_of++;
	}
	for (uint32_t k = 0; k < w->norgs; k++) {
		w->orgs[k].members = xalloc(w, sizeof(struct w_member) * w->orgs[k].nmembers);
		w->orgs[k].member_of = xalloc(w, sizeof(struct w_member) * w->orgs[k].nmember_of);
		w->orgs[k].nmembers = w->orgs[k].nmember_of = 0;
	}
	for (int i = 0; i < b->nmems; i++) {
		uint32_t s = world_org_find(w, b->mems[i].schakel);
		uint32_t m = world_org_find(w, b->mems[i].member);
		struct w_member x = { m, b->mems[i].from, b->mems[i].until };
		w->orgs[s].members[w->orgs[s].nmembers++] = x;
		x.org = s;
		w->orgs[m].member_of[w->orgs[m].nmember_of++] = x;
	}
	/* advisories, sorted by id */
	const struct b_adv *advs[B_ADVS];
	for (int i = 0; i < b->nadvs; i++)
		advs[i] = &b->advs[i];
	qsort(advs, (size_t)b->nadvs, sizeof(advs[0]), cmp_adv);
	w->nadvs = (uint32_t)b->nadvs;
	w->advs = xalloc(w, sizeof(*w->advs) * w->nadvs);
	for (uint32_t k = 0; k < w->nadvs; k++) {
		const struct b_adv *a = advs[k];
		struct w_adv *wa = &w->advs[k];
		char fn[128];
		snprintf(fn, sizeof(fn), "%s.json", a->id);
		wa->id = k + 1;
		wa->version_id = k + 1;
		wa->tracking_id = world_strdup(w, a->id);
		wa->version = world_strdup(w, "1");
		wa->filename = world_strdup(w, fn);
		wa->title = world_strdup(w, a->id);
		wa->tlp = (uint8_t)a->tlp;
		wa->status = (uint8_t)a->status;
		wa->personal_data = (uint8_t)a->pd;
		wa->impact_significant = (uint8_t)a->impact;
		wa->initial_release = wa->current_release = a->initial;
		wa->embargo_until = a->embargo;
		wa->withdrawn_at = a->withdrawn;
		wa->sectors = b_sectors(b, a->sectors, 4);
		for (int i = 0; i < 4 && a->concerns[i]; i++)
			wa->nconcerns++;
		wa->concerns = xalloc(w, sizeof(uint32_t) * wa->nconcerns);
		for (uint32_t i = 0; i < wa->nconcerns; i++) {
			wa->concerns[i] = world_org_find(w, a->concerns[i]);
			if (wa->concerns[i] == W_NONE) {
				fprintf(stderr, "bad concern %s\n", a->concerns[i]);
				exit(1);
			}
		}
		qsort(wa->concerns, wa->nconcerns, sizeof(uint32_t), cmp_u32);
		for (int i = 0; i < 4 && a->shares[i].org; i++)
			wa->nshares++;
		wa->shares = xalloc(w, sizeof(struct w_share) * wa->nshares);
		for (uint32_t i = 0; i < wa->nshares; i++) {
			wa->shares[i].org = world_org_find(w, a->shares[i].org);
			wa->shares[i].at = a->shares[i].at;
		}
		qsort(wa->shares, wa->nshares, sizeof(struct w_share), cmp_share);
	}
	return w;
}

/* ---- decisions ---- */

/* Check the decision for (slug, advisory id) at t: permit or not, and the
 * determining rule ids, comma-separated in rule order ("" for none). */
static void expect_at(const struct policy *p, const struct world *w, const char *slug,
		      const char *id, int64_t t, int permit, const char *ids, int line)
{
	uint32_t org = world_org_find(w, slug), adv = world_adv_find(w, id);
	char got[1024] = "", tb[AU_TIME_LEN];
	size_t n = 0;
	check_count++;
	if (org == W_NONE || adv == W_NONE) {
		check_failures++;
		fprintf(stderr, "%s:%d: no org %s or advisory %s\n", __FILE__, line, slug, id);
		return;
	}
	struct pol_rctx ctx;
	struct pol_decision d;
	policy_rctx_init(p, w, org, t, &ctx);
	policy_decide(p, &ctx, adv, &d);
	for (int i = 0; i < d.nrules; i++) {
		int k = snprintf(got + n, sizeof(got) - n, "%s%s", i ? "," : "",
				 policy_rule_id(p, d.rules[i]));
		if (k > 0 && (size_t)k < sizeof(got) - n)
			n += (size_t)k;
	}
	if (d.permit != permit || strcmp(got, ids) != 0) {
		check_failures++;
		au_format_time(t, tb);
		fprintf(stderr, "%s:%d: %s / %s at %s: got %s [%s], expected %s [%s]\n", __FILE__,
			line, slug, id, tb, d.permit ? "permit" : "deny", got,
			permit ? "permit" : "deny", ids);
	}
}

#define PERMIT 1
#define DENY 0
#define EXPECT(p, w, slug, id, t, permit, ids) expect_at(p, w, slug, id, t, permit, ids, __LINE__)

/* ---- the default policy, rule by rule ---- */

static void test_vocabulary(const struct policy *p)
{
	static const char *const roles[] = { "vital", "government", "csirt", "oktt", "other",
					     "essential", "important" };
	static const char *const sectors[] = {
		"energy",	  "drinking-water", "water-management", "telecom",
		"digital-infrastructure", "finance", "transport", "health",
		"government",	  "municipalities", "education-research", "food",
		"chemicals",	  "nuclear",	    "defence",		"logistics",
		"manufacturing",  "retail",	    "political",	"other"
	};
	CHECK(policy_nroles(p) == 7);
	for (int i = 0; i < 7; i++) {
		CHECK(policy_role_index(p, roles[i]) == i);
		CHECK(strcmp(policy_role_name(p, i), roles[i]) == 0);
	}
	CHECK(policy_role_index(p, "king") == -1);
	CHECK(policy_role_name(p, 7) == NULL);
	CHECK(policy_nsectors(p) == 20);
	for (int i = 0; i < 20; i++)
		CHECK(policy_sector_index(p, sectors[i]) == i);
	CHECK(policy_sector_index(p, "space") == -1);

	int n = policy_nrules(p);
	CHECK(n == 13);
	CHECK(strcmp(policy_rule_id(p, n + POL_BUILTIN_NOT_RELEASED), "builtin:not-released") == 0);
	CHECK(strcmp(policy_rule_id(p, n + POL_BUILTIN_EMBARGO), "builtin:embargo") == 0);
	CHECK(strcmp(policy_rule_id(p, n + POL_BUILTIN_WITHDRAWN), "builtin:withdrawn") == 0);
	CHECK(policy_rule_id(p, n + 3) == NULL && policy_rule_id(p, -1) == NULL);
	CHECK(policy_rule_basis(p, n + 1) != NULL && policy_rule_is_forbid(p, n + 2) == 1);
	CHECK(policy_rule_is_forbid(p, n + 3) == -1);
	CHECK(policy_rule_find(p, "builtin:embargo") == n + 1);
	CHECK(policy_rule_find(p, "permit-csirt-constituency") >= 0);
	CHECK(policy_rule_find(p, "nope") == -1);
	for (int i = 0; i < n; i++) {
		const char *b = policy_rule_basis(p, i);
		CHECK(b && *b);
		CHECK(policy_rule_is_forbid(p, i) == (strncmp(policy_rule_id(p, i), "forbid-", 7) == 0));
	}
	int r = policy_rule_find(p, "permit-csirt-constituency");
	CHECK(r >= 0 && strstr(policy_rule_basis(p, r), "Stcrt. 2020, 4410"));
	CHECK(strstr(policy_rule_basis(p, policy_rule_find(p, "permit-oktt-constituency")),
		     "20(2)(d)"));
	CHECK(strstr(policy_rule_basis(p, policy_rule_find(p, "permit-other-direct")), "3(2)(e)"));
}

/* A world for the rule-by-rule checks. */
static struct world *rules_world(const struct policy *p)
{
	static struct builder b;
	memset(&b, 0, sizeof(b));
	b.p = p;
	struct b_org *o;
	o = b_org(&b, "energy-co", "energy");
	b_role(o, "vital", T("2015-01-01"), TU("2023-12-31"), "Besluit vitale aanbieders");
	o = b_org(&b, "energy-two", "energy");
	b_role(o, "vital", T("2015-01-01"), AU_T_MAX, NULL);
	o = b_org(&b, "ministry", "government");
	b_role(o, "government", T("2015-01-01"), AU_T_MAX, NULL);
	o = b_org(&b, "z-cert", "health");
	b_role(o, "csirt", T("2020-01-14"), TU("2030-12-31"), "Stcrt. 2020, 4410");
	o = b_org(&b, "dtc", NULL);
	b_role(o, "oktt", T("2021-09-13"), AU_T_MAX, "OKTT status");
	o = b_org(&b, "old-isac", NULL);
	b_role(o, "oktt", T("2019-01-01"), TU("2021-12-31"), NULL);
	o = b_org(&b, "acme-bv", "manufacturing"); /* member of dtc */
	b_role(o, "other", T("2015-01-01"), AU_T_MAX, NULL);
	o = b_org(&b, "lone-co", "retail"); /* no schakelorganisatie */
	b_role(o, "other", T("2015-01-01"), AU_T_MAX, NULL);
	o = b_org(&b, "former-co", "retail"); /* its isac lost OKTT status */
	b_role(o, "other", T("2015-01-01"), AU_T_MAX, NULL);
	o = b_org(&b, "supplier", "manufacturing"); /* member of z-cert */
	b_role(o, "other", T("2015-01-01"), AU_T_MAX, NULL);
	o = b_org(&b, "clinic", "health"); /* in z-cert's sector */
	b_role(o, "other", T("2015-01-01"), AU_T_MAX, NULL);
	b_member(&b, "dtc", "acme-bv", T("2021-09-13"), AU_T_MAX);
	b_member(&b, "old-isac", "former-co", T("2019-01-01"), AU_T_MAX);
	b_member(&b, "z-cert", "supplier", T("2021-01-01"), TU("2025-06-30"));

	struct b_adv *a;
	a = b_adv(&b, "CLEAR-GENERAL"); /* public */
	a->tlp = CSAF_TLP_CLEAR;
	a = b_adv(&b, "CLEAR-INTERIM");
	a->tlp = CSAF_TLP_CLEAR;
	a->status = CSAF_STATUS_INTERIM;
	a = b_adv(&b, "CLEAR-PD");
	a->tlp = CSAF_TLP_CLEAR;
	a->pd = 1;
	a = b_adv(&b, "GREEN-GENERAL");
	a = b_adv(&b, "GREEN-ENERGY");
	a->sectors[0] = "energy";
	a = b_adv(&b, "GREEN-HEALTH");
	a->sectors[0] = "health";
	a = b_adv(&b, "AMBER-ENERGY-CO");
	a->tlp = CSAF_TLP_AMBER;
	a->concerns[0] = "energy-co";
	a = b_adv(&b, "PD-ENERGY-CO");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->concerns[0] = "energy-co";
	a = b_adv(&b, "PD-ENERGY-SECTOR");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->sectors[0] = "energy";
	a = b_adv(&b, "GREEN-SUPPLIER");
	a->concerns[0] = "supplier";
	a = b_adv(&b, "PD-CLINIC");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->concerns[0] = "clinic";
	a = b_adv(&b, "GREEN-ACME");
	a->concerns[0] = "acme-bv";
	a = b_adv(&b, "PD-ACME");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->impact = 1;
	a->concerns[0] = "acme-bv";
	a = b_adv(&b, "PD-LONE-IMPACT");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->impact = 1;
	a->concerns[0] = "lone-co";
	a = b_adv(&b, "PD-LONE");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->concerns[0] = "lone-co";
	a = b_adv(&b, "AMBER-LONE");
	a->tlp = CSAF_TLP_AMBER;
	a->concerns[0] = "lone-co";
	a = b_adv(&b, "PD-FORMER-IMPACT");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->impact = 1;
	a->concerns[0] = "former-co";
	a = b_adv(&b, "SHARED-LONE"); /* GREEN, concerns the energy sector, shared with lone-co */
	a->sectors[0] = "energy";
	a->shares[0].org = "lone-co";
	a->shares[0].at = T("2022-12-05T10:00:00Z");
	a->shares[1].org = "acme-bv";
	a->shares[1].at = T("2021-03-01");
	a = b_adv(&b, "DRAFT-ENERGY-CO");
	a->status = CSAF_STATUS_DRAFT;
	a->concerns[0] = "energy-co";
	a = b_adv(&b, "INTERIM-ENERGY-CO");
	a->status = CSAF_STATUS_INTERIM;
	a->concerns[0] = "energy-co";
	a = b_adv(&b, "WITHDRAWN-ENERGY");
	a->sectors[0] = "energy";
	a->withdrawn = T("2023-03-01T12:00:00Z");
	a = b_adv(&b, "EMBARGO-ENERGY");
	a->sectors[0] = "energy";
	a->embargo = T("2023-04-01T09:30:00Z");
	a = b_adv(&b, "FUTURE-ENERGY");
	a->sectors[0] = "energy";
	a->initial = T("2023-05-01T08:00:00Z");
	a = b_adv(&b, "RED-ENERGY-CO");
	a->tlp = CSAF_TLP_RED;
	a->concerns[0] = "energy-co";
	a->sectors[0] = "energy";
	a = b_adv(&b, "RED-SUPPLIER-SHARED");
	a->tlp = CSAF_TLP_RED;
	a->concerns[0] = "supplier";
	a->shares[0].org = "z-cert";
	a->shares[0].at = T("2023-01-10");
	a = b_adv(&b, "STRICT-ENERGY-CO");
	a->tlp = CSAF_TLP_AMBER_STRICT;
	a->concerns[0] = "energy-co";
	a->sectors[0] = "energy";
	a = b_adv(&b, "STRICT-SUPPLIER");
	a->tlp = CSAF_TLP_AMBER_STRICT;
	a->concerns[0] = "supplier";
	a->shares[0].org = "lone-co";
	a->shares[0].at = T("2023-01-10");
	return b_build(&b);
}

static void test_default_rules(const struct policy *p)
{
	struct world *w = rules_world(p);
	const int64_t t0 = T("2023-01-15T12:00:00Z"); /* an ordinary day after the amendment */

	/* permit-public-clear */
	EXPECT(p, w, "public", "CLEAR-GENERAL", t0, PERMIT, "permit-public-clear");
	EXPECT(p, w, "lone-co", "CLEAR-GENERAL", t0, PERMIT, "permit-public-clear");
	EXPECT(p, w, "energy-co", "CLEAR-GENERAL", t0, PERMIT,
	       "permit-public-clear,permit-vital-government");
	EXPECT(p, w, "public", "CLEAR-GENERAL", T("2018-06-01"), PERMIT, "permit-public-clear");
	EXPECT(p, w, "public", "CLEAR-INTERIM", t0, DENY, "");
	EXPECT(p, w, "public", "GREEN-GENERAL", t0, DENY, "");
	EXPECT(p, w, "public", "CLEAR-PD", t0, DENY, "forbid-personal-data-without-basis");
	/* a recipient whose only permit is the CLEAR rule gets nothing GREEN or above */
	EXPECT(p, w, "lone-co", "GREEN-GENERAL", t0, DENY, "");
	EXPECT(p, w, "lone-co", "GREEN-ENERGY", t0, DENY, "");

	/* permit-vital-government: own systems, own sector, general; from 2018-11-09 */
	EXPECT(p, w, "energy-co", "GREEN-ENERGY", T("2018-11-09T00:00:00Z"), PERMIT,
	       "permit-vital-government");
	EXPECT(p, w, "energy-co", "GREEN-ENERGY", T("2018-11-08T23:59:59Z"), DENY, "");
	EXPECT(p, w, "energy-co", "GREEN-GENERAL", t0, PERMIT, "permit-vital-government");
	EXPECT(p, w, "energy-co", "AMBER-ENERGY-CO", t0, PERMIT, "permit-vital-government");
	EXPECT(p, w, "energy-co", "GREEN-HEALTH", t0, DENY, "");
	EXPECT(p, w, "energy-two", "AMBER-ENERGY-CO", t0, DENY, "");
	EXPECT(p, w, "ministry", "GREEN-GENERAL", t0, PERMIT, "permit-vital-government");
	EXPECT(p, w, "ministry", "GREEN-ENERGY", t0, DENY, "");
	/* the vital role's last second and the second after */
	EXPECT(p, w, "energy-co", "GREEN-ENERGY", TU("2023-12-31"), PERMIT,
	       "permit-vital-government");
	EXPECT(p, w, "energy-co", "GREEN-ENERGY", T("2024-01-01"), DENY, "");
	EXPECT(p, w, "energy-two", "GREEN-ENERGY", T("2024-01-01"), PERMIT,
	       "permit-vital-government");

	/* permit-csirt-constituency: from the designation, 2020-01-14 00:00:00 */
	EXPECT(p, w, "z-cert", "GREEN-HEALTH", T("2020-01-14T00:00:00Z"), PERMIT,
	       "permit-csirt-constituency");
	EXPECT(p, w, "z-cert", "GREEN-HEALTH", T("2020-01-13T23:59:59Z"), DENY, "");
	/* the designation's last day */
	EXPECT(p, w, "z-cert", "GREEN-HEALTH", T("2030-12-31T23:59:59Z"), PERMIT,
	       "permit-csirt-constituency");
	EXPECT(p, w, "z-cert", "GREEN-HEALTH", T("2031-01-01T00:00:00Z"), DENY, "");
	EXPECT(p, w, "z-cert", "GREEN-ENERGY", t0, DENY, "");
	EXPECT(p, w, "z-cert", "GREEN-GENERAL", t0, DENY, "");
	/* constituency by membership: member from 2021-01-01 until 2025-06-30 */
	EXPECT(p, w, "z-cert", "GREEN-SUPPLIER", T("2021-01-01"), PERMIT,
	       "permit-csirt-constituency");
	EXPECT(p, w, "z-cert", "GREEN-SUPPLIER", T("2020-12-31T23:59:59Z"), DENY, "");
	EXPECT(p, w, "z-cert", "GREEN-SUPPLIER", TU("2025-06-30"), PERMIT,
	       "permit-csirt-constituency");
	EXPECT(p, w, "z-cert", "GREEN-SUPPLIER", T("2025-07-01"), DENY, "");
	/* constituency by a concerned organisation's sector, personal data included */
	EXPECT(p, w, "z-cert", "PD-CLINIC", T("2020-10-15"), PERMIT, "permit-csirt-constituency");
	EXPECT(p, w, "dtc", "PD-CLINIC", t0, DENY, "forbid-personal-data-without-basis");

	/* permit-oktt-constituency-no-pd until 2022-11-30, then permit-oktt-constituency */
	EXPECT(p, w, "dtc", "GREEN-ACME", T("2022-11-30T23:59:59Z"), PERMIT,
	       "permit-oktt-constituency-no-pd");
	EXPECT(p, w, "dtc", "GREEN-ACME", T("2022-12-01T00:00:00Z"), PERMIT,
	       "permit-oktt-constituency");
	EXPECT(p, w, "dtc", "GREEN-ACME", T("2021-09-13"), PERMIT, "permit-oktt-constituency-no-pd");
	EXPECT(p, w, "dtc", "GREEN-ACME", T("2021-09-12T23:59:59Z"), DENY, "");
	EXPECT(p, w, "dtc", "GREEN-SUPPLIER", t0, DENY, "");
	EXPECT(p, w, "dtc", "GREEN-ENERGY", t0, DENY, "");
	/* personal data: no basis until 2022-11-30, a basis from 2022-12-01 */
	EXPECT(p, w, "dtc", "PD-ACME", T("2022-11-30T23:59:59Z"), DENY,
	       "forbid-personal-data-without-basis");
	EXPECT(p, w, "dtc", "PD-ACME", T("2022-12-01T00:00:00Z"), PERMIT,
	       "permit-oktt-constituency");

	/* permit-other-direct: concerned, significant impact, no OKTT reaches it */
	EXPECT(p, w, "lone-co", "PD-LONE-IMPACT", T("2022-12-01T00:00:00Z"), PERMIT,
	       "permit-other-direct");
	EXPECT(p, w, "lone-co", "PD-LONE-IMPACT", T("2022-11-30T23:59:59Z"), DENY,
	       "forbid-personal-data-without-basis");
	EXPECT(p, w, "lone-co", "PD-LONE", t0, DENY, "forbid-personal-data-without-basis");
	EXPECT(p, w, "lone-co", "AMBER-LONE", t0, DENY, "");
	EXPECT(p, w, "acme-bv", "PD-ACME", t0, DENY, "forbid-personal-data-without-basis");
	/* former-co's schakelorganisatie lost its OKTT role after 2021-12-31 */
	EXPECT(p, w, "former-co", "PD-FORMER-IMPACT", t0, PERMIT, "permit-other-direct");

	/* permit-special-case: recorded share, from 2022-12-01 */
	EXPECT(p, w, "lone-co", "SHARED-LONE", T("2022-12-05T10:00:00Z"), PERMIT,
	       "permit-special-case");
	EXPECT(p, w, "lone-co", "SHARED-LONE", T("2022-12-05T09:59:59Z"), DENY, "");
	EXPECT(p, w, "acme-bv", "SHARED-LONE", T("2022-12-01T00:00:00Z"), PERMIT,
	       "permit-special-case");
	EXPECT(p, w, "acme-bv", "SHARED-LONE", T("2022-11-30T23:59:59Z"), DENY, "");
	EXPECT(p, w, "energy-two", "SHARED-LONE", t0, PERMIT, "permit-vital-government");
	EXPECT(p, w, "dtc", "SHARED-LONE", t0, DENY, "");

	/* forbid-draft */
	EXPECT(p, w, "energy-co", "DRAFT-ENERGY-CO", t0, DENY, "forbid-draft");
	EXPECT(p, w, "energy-co", "INTERIM-ENERGY-CO", t0, PERMIT, "permit-vital-government");

	/* forbid-withdrawn: at the withdrawal second */
	EXPECT(p, w, "energy-two", "WITHDRAWN-ENERGY", T("2023-03-01T11:59:59Z"), PERMIT,
	       "permit-vital-government");
	EXPECT(p, w, "energy-two", "WITHDRAWN-ENERGY", T("2023-03-01T12:00:00Z"), DENY,
	       "forbid-withdrawn");

	/* forbid-embargo: ends at embargo_until itself */
	EXPECT(p, w, "energy-two", "EMBARGO-ENERGY", T("2023-04-01T09:29:59Z"), DENY,
	       "forbid-embargo");
	EXPECT(p, w, "energy-two", "EMBARGO-ENERGY", T("2023-04-01T09:30:00Z"), PERMIT,
	       "permit-vital-government");
	/* an embargo forbid fires for everyone, also without a permit */
	EXPECT(p, w, "public", "EMBARGO-ENERGY", T("2023-04-01T09:29:59Z"), DENY,
	       "forbid-embargo");

	/* not yet released: the built-in guard (no policy forbid fires) */
	EXPECT(p, w, "energy-two", "FUTURE-ENERGY", T("2023-05-01T07:59:59Z"), DENY,
	       "builtin:not-released");
	EXPECT(p, w, "energy-two", "FUTURE-ENERGY", T("2023-05-01T08:00:00Z"), PERMIT,
	       "permit-vital-government");

	/* forbid-red-unnamed: the concerned organisation, or a share, names it */
	EXPECT(p, w, "energy-co", "RED-ENERGY-CO", t0, PERMIT, "permit-vital-government");
	EXPECT(p, w, "energy-two", "RED-ENERGY-CO", t0, DENY, "forbid-red-unnamed");
	EXPECT(p, w, "z-cert", "RED-SUPPLIER-SHARED", T("2023-01-10"), PERMIT,
	       "permit-csirt-constituency,permit-special-case");
	EXPECT(p, w, "z-cert", "RED-SUPPLIER-SHARED", T("2023-01-09T23:59:59Z"), DENY,
	       "forbid-red-unnamed");

	/* forbid-amber-strict-not-self */
	EXPECT(p, w, "energy-co", "STRICT-ENERGY-CO", t0, PERMIT, "permit-vital-government");
	EXPECT(p, w, "energy-two", "STRICT-ENERGY-CO", t0, DENY, "forbid-amber-strict-not-self");
	EXPECT(p, w, "z-cert", "STRICT-SUPPLIER", t0, DENY, "forbid-amber-strict-not-self");
	EXPECT(p, w, "lone-co", "STRICT-SUPPLIER", t0, DENY, "forbid-amber-strict-not-self");

	/* forbid-personal-data-without-basis */
	EXPECT(p, w, "energy-co", "PD-ENERGY-CO", t0, PERMIT, "permit-vital-government");
	EXPECT(p, w, "energy-co", "PD-ENERGY-SECTOR", t0, DENY,
	       "forbid-personal-data-without-basis");
	EXPECT(p, w, "energy-two", "PD-ENERGY-CO", t0, DENY, "forbid-personal-data-without-basis");

	/* roles and rules outside their dates: nothing held, nothing in force */
	EXPECT(p, w, "old-isac", "GREEN-ACME", t0, DENY, "");
	world_free(w);
}

/* ---- the Pulse Secure scenario of seeds/ (2020-10 and 2022-12) ---- */

static void test_pulse_secure(const struct policy *p)
{
	static struct builder b;
	memset(&b, 0, sizeof(b));
	b.p = p;
	struct b_org *o;
	o = b_org(&b, "dtc", NULL);
	b_role(o, "oktt", T("2021-09-13"), AU_T_MAX, "OKTT status, September 2021");
	o = b_org(&b, "z-cert", "health");
	b_role(o, "csirt", T("2020-01-14"), AU_T_MAX, "Stcrt. 2020, 4410");
	b_role(o, "oktt", T("2022-12-01"), AU_T_MAX, NULL);
	o = b_org(&b, "surfcert", "education-research");
	b_role(o, "csirt", T("2020-01-14"), AU_T_MAX, "Stcrt. 2020, 4410");
	o = b_org(&b, "energy-co", "energy");
	b_role(o, "vital", T("2018-11-09"), AU_T_MAX, NULL);
	o = b_org(&b, "ministry", "government");
	b_role(o, "government", T("2018-11-09"), AU_T_MAX, NULL);
	/* a non-vital healthcare company, member of the DTC from 2021-09-13 */
	o = b_org(&b, "care-bv", "health");
	b_role(o, "other", T("2018-11-09"), AU_T_MAX, NULL);
	b_member(&b, "dtc", "care-bv", T("2021-09-13"), AU_T_MAX);
	/* a manufacturer the DTC does not reach */
	o = b_org(&b, "metal-bv", "manufacturing");
	b_role(o, "other", T("2018-11-09"), AU_T_MAX, NULL);

	/* leaked VPN passwords: personal data, AMBER, an incident concerning care-bv */
	struct b_adv *a = b_adv(&b, "NCSC-2020-0042");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->impact = 1;
	a->initial = T("2020-10-14T12:00:00Z");
	a->concerns[0] = "care-bv";
	a->shares[0].org = "care-bv";
	a->shares[0].at = T("2022-12-02T09:00:00Z");
	a = b_adv(&b, "NCSC-2020-0043");
	a->tlp = CSAF_TLP_AMBER;
	a->pd = 1;
	a->impact = 1;
	a->initial = T("2020-10-14T12:00:00Z");
	a->concerns[0] = "metal-bv";
	struct world *w = b_build(&b);

	const int64_t oct = T("2020-10-15");
	const char *pd = "forbid-personal-data-without-basis";
	/* 2020-10-15: only the designated CSIRT that covers the company */
	EXPECT(p, w, "z-cert", "NCSC-2020-0042", oct, PERMIT, "permit-csirt-constituency");
	EXPECT(p, w, "surfcert", "NCSC-2020-0042", oct, DENY, pd);
	EXPECT(p, w, "dtc", "NCSC-2020-0042", oct, DENY, pd);
	EXPECT(p, w, "care-bv", "NCSC-2020-0042", oct, DENY, pd);
	EXPECT(p, w, "energy-co", "NCSC-2020-0042", oct, DENY, pd);
	EXPECT(p, w, "ministry", "NCSC-2020-0042", oct, DENY, pd);
	EXPECT(p, w, "public", "NCSC-2020-0042", oct, DENY, pd);
	EXPECT(p, w, "metal-bv", "NCSC-2020-0043", oct, DENY, pd);
	/* the day before the amendment: the DTC, now an OKTT, still may not */
	EXPECT(p, w, "dtc", "NCSC-2020-0042", T("2022-11-30T23:59:59Z"), DENY, pd);
	/* 2022-12-01: its OKTT may, and the company directly only without a
	 * schakelorganisatie or by a recorded special case */
	EXPECT(p, w, "dtc", "NCSC-2020-0042", T("2022-12-01"), PERMIT, "permit-oktt-constituency");
	EXPECT(p, w, "z-cert", "NCSC-2020-0042", T("2022-12-01"), PERMIT,
	       "permit-csirt-constituency");
	EXPECT(p, w, "care-bv", "NCSC-2020-0042", T("2022-12-01"), DENY, pd);
	EXPECT(p, w, "care-bv", "NCSC-2020-0042", T("2022-12-02T09:00:00Z"), PERMIT,
	       "permit-special-case");
	EXPECT(p, w, "metal-bv", "NCSC-2020-0043", T("2022-12-01"), PERMIT, "permit-other-direct");
	EXPECT(p, w, "dtc", "NCSC-2020-0043", T("2022-12-01"), DENY, pd);
	EXPECT(p, w, "energy-co", "NCSC-2020-0042", T("2022-12-01"), DENY, pd);

	/* the explanation of the 2020 refusal names the facts */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK(policy_explain(p, w, world_org_find(w, "dtc"), world_adv_find(w, "NCSC-2020-0042"),
			     oct, 0, f) == 0);
	fclose(f);
	CHECK(strstr(buf, "rule permit-oktt-constituency (permit)") != NULL);
	CHECK(strstr(buf, "recipient holds role oktt at 2020-10-15T00:00:00Z: no (oktt from "
			  "2021-09-13, ref OKTT status, September 2021: not yet in force at t)") != NULL);
	CHECK(strstr(buf, "advisory concerns an organisation in the recipient's constituency at "
			  "2020-10-15T00:00:00Z: no (concerns: care-bv; care-bv is a member of dtc "
			  "from 2021-09-13: not yet in force at t; constituency of dtc at t: none)") !=
	      NULL);
	CHECK(strstr(buf, "outcome: DENY") != NULL);
	CHECK(strstr(buf, "forbid-personal-data-without-basis (forbid): Wbni art. 20") != NULL);
	if (check_failures)
		fputs(buf, stderr);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	CHECK(policy_explain(p, w, world_org_find(w, "z-cert"),
			     world_adv_find(w, "NCSC-2020-0042"), oct, 0, f) == 0);
	fclose(f);
	CHECK(strstr(buf, "recipient holds role csirt at 2020-10-15T00:00:00Z: yes (csirt from "
			  "2020-01-14, ref Stcrt. 2020, 4410: in force at t)") != NULL);
	CHECK(strstr(buf, "in force at 2020-10-15T00:00:00Z: yes (from 2020-01-14)") != NULL);
	CHECK(strstr(buf, "outcome: PERMIT") != NULL);
	CHECK(strstr(buf, "determining rules:\n  permit-csirt-constituency (permit): Wbni art. "
			  "3(2)(c)") != NULL);
	CHECK(strstr(buf, "builtin:embargo: advisory is under embargo at 2020-10-15T00:00:00Z: no "
			  "(no embargo)") != NULL);
	free(buf);
	world_free(w);
}

/* ---- built-in guards ---- */

static void test_builtin(void)
{
	struct policy *p = compile_str(
		"{\"vocabulary\":{\"roles\":[],\"sectors\":[\"x\"]},"
		"\"rules\":[{\"id\":\"all\",\"effect\":\"permit\",\"basis\":\"test\"}]}");
	static struct builder b;
	memset(&b, 0, sizeof(b));
	b.p = p;
	b_org(&b, "org", NULL);
	struct b_adv *a = b_adv(&b, "A");
	a->initial = T("2024-01-01");
	a->embargo = T("2024-02-01");
	a->withdrawn = T("2024-03-01");
	struct world *w = b_build(&b);
	EXPECT(p, w, "org", "A", T("2023-12-31T23:59:59Z"), DENY,
	       "builtin:not-released,builtin:embargo");
	EXPECT(p, w, "org", "A", T("2024-01-01"), DENY, "builtin:embargo");
	EXPECT(p, w, "org", "A", T("2024-02-01") - 1, DENY, "builtin:embargo");
	EXPECT(p, w, "org", "A", T("2024-02-01"), PERMIT, "all");
	EXPECT(p, w, "public", "A", T("2024-02-29T23:59:59Z"), PERMIT, "all");
	EXPECT(p, w, "org", "A", T("2024-03-01"), DENY, "builtin:withdrawn");
	/* out of range: deny, no rules */
	struct pol_rctx ctx;
	struct pol_decision d;
	policy_rctx_init(p, w, 99, T("2024-02-10"), &ctx);
	policy_decide(p, &ctx, 0, &d);
	CHECK(!d.permit && d.nrules == 0);
	policy_rctx_init(p, w, 1, T("2024-02-10"), &ctx);
	policy_decide(p, &ctx, 99, &d);
	CHECK(!d.permit && d.nrules == 0);
	world_free(w);
	policy_free(p);
}

/* ---- compile errors ---- */

static void expect_error(const char *json, size_t len, int rc_want, const char *msg, int line)
{
	char err[512];
	struct policy *p = (struct policy *)&err; /* must stay untouched */
	struct policy *const sentinel = p;
	int rc = policy_compile(json, len, &p, err, sizeof(err));
	check_count++;
	if (rc != rc_want || strcmp(err, msg) != 0 || (rc && p != sentinel) ||
	    (!rc && p == sentinel)) {
		check_failures++;
		fprintf(stderr, "%s:%d: got %d \"%s\", expected %d \"%s\"\n", __FILE__, line, rc, err,
			rc_want, msg);
	}
	if (rc == 0 && p != sentinel)
		policy_free(p);
}

#define ERR(json, rc, msg) expect_error(json, strlen(json), rc, msg, __LINE__)
#define VOC "\"vocabulary\":{\"roles\":[\"csirt\",\"oktt\"],\"sectors\":[\"health\"]}"
#define R0 "{\"id\":\"r0\",\"effect\":\"permit\",\"basis\":\"b\"}"
#define RULES(...) "{" VOC ",\"rules\":[" __VA_ARGS__ "]}"

static void test_errors(void)
{
	ERR(RULES(R0 "," R0), -EINVAL, "$.rules[1].id: duplicate rule id 'r0'");
	ERR(RULES(R0 ",{\"id\":\"r1\",\"effect\":\"permit\",\"basis\":\"b\"},"
		      "{\"id\":\"r2\",\"effect\":\"permit\",\"basis\":\"b\"},"
		      "{\"id\":\"r3\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"tlp\":\"PURPLE\"}}"),
	    -EINVAL, "$.rules[3].when.tlp: unknown label 'PURPLE'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"tlp\":[\"RED\",\"purple\"]}}"),
	    -EINVAL, "$.rules[0].when.tlp[1]: unknown label 'purple'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"colour\":1}"), -EINVAL,
	    "$.rules[0].colour: unknown key 'colour'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"colour\":1}}"),
	    -EINVAL, "$.rules[0].when.colour: unknown condition 'colour'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"role\":\"king\"}}"),
	    -EINVAL, "$.rules[0].when.role: unknown role 'king'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"any\":[{\"sector\":"
		  "\"health\"},{\"reached_by\":[\"oktt\",\"vital\"]}]}}"),
	    -EINVAL, "$.rules[0].when.any[1].reached_by[1]: unknown role 'vital'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"sector\":\"energy\"}}"),
	    -EINVAL, "$.rules[0].when.sector: unknown sector 'energy'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"status\":\"final \"}}"),
	    -EINVAL, "$.rules[0].when.status: unknown status 'final '");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"from\":\"2022-13-01\"}"),
	    -EINVAL, "$.rules[0].from: bad date '2022-13-01'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"until\":\"2022-02-30\"}"),
	    -EINVAL, "$.rules[0].until: bad date '2022-02-30'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"from\":20220101}"), -EINVAL,
	    "$.rules[0].from: expected a date (YYYY-MM-DD) or date-time string");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"from\":\"2022-12-01\","
		  "\"until\":\"2022-11-30\"}"),
	    -EINVAL, "$.rules[0].until: 'until' is before 'from'");
	/* a one-day rule is fine: until a date means its whole day */
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"from\":\"2022-12-01\","
		  "\"until\":\"2022-12-01\"}"),
	    0, "");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"time\":{\"from\":"
		  "\"2022-12-02T00:00:00Z\",\"until\":\"2022-12-01\"}}}"),
	    -EINVAL, "$.rules[0].when.time.until: 'until' is before 'from'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"time\":{}}}"),
	    -EINVAL, "$.rules[0].when.time: expected \"from\" and/or \"until\"");
	ERR(RULES("{\"id\":\"\",\"effect\":\"permit\",\"basis\":\"b\"}"), -EINVAL,
	    "$.rules[0].id: empty string");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"\"}"), -EINVAL,
	    "$.rules[0].basis: empty string");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\"}"), -EINVAL, "$.rules[0]: missing \"basis\"");
	ERR(RULES("{\"id\":\"builtin:x\",\"effect\":\"permit\",\"basis\":\"b\"}"), -EINVAL,
	    "$.rules[0].id: bad rule id 'builtin:x' (1-64 of A-Z, a-z, 0-9, '.', '_', '-')");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"allow\",\"basis\":\"b\"}"), -EINVAL,
	    "$.rules[0].effect: expected \"permit\" or \"forbid\"");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{}}"), -EINVAL,
	    "$.rules[0].when: empty condition");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"all\":[]}}"),
	    -EINVAL, "$.rules[0].when.all: expected a non-empty array of conditions");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"general\":1}}"),
	    -EINVAL, "$.rules[0].when.general: expected true or false");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"role\":\"csirt\","
		  "\"role\":\"oktt\"}}"),
	    -EINVAL, "$.rules[0].when.role: duplicate key 'role'");
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"basis\":\"c\"}"), -EINVAL,
	    "$.rules[0].basis: duplicate key 'basis'");
	ERR("{" VOC ",\"rules\":{}}", -EINVAL, "$.rules: expected an array of rules");
	ERR("[]", -EINVAL, "$: expected a policy object");
	ERR("{\"rules\":[]}", -EINVAL, "$: missing \"vocabulary\"");
	ERR("{" VOC ",\"rules\":[],\"format\":2}", -EINVAL,
	    "$.format: unsupported format (this engine reads format 1)");
	ERR("{" VOC ",\"rules\":[],\"extra\":true}", -EINVAL, "$.extra: unknown key 'extra'");
	ERR("{\"vocabulary\":{\"roles\":[\"csirt\",\"csirt\"],\"sectors\":[]},\"rules\":[]}", -EINVAL,
	    "$.vocabulary.roles[1]: duplicate name 'csirt'");
	ERR("{\"vocabulary\":{\"roles\":[\"Csirt\"],\"sectors\":[]},\"rules\":[]}", -EINVAL,
	    "$.vocabulary.roles[0]: bad name 'Csirt' (1-32 of a-z, 0-9, '-', not starting with '-')");
	ERR("{\"vocabulary\":{\"roles\":[{\"name\":\"x\",\"colour\":1}],\"sectors\":[]},\"rules\":[]}",
	    -EINVAL, "$.vocabulary.roles[0].colour: unknown key 'colour'");
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[],\"a\\\"b\":1}", -EINVAL,
	    "$[\"a\\\"b\"]: unknown key 'a\"b'");

	/* named conditions: unknown, cycles */
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"use\":\"nope\"}}"),
	    -EINVAL, "$.rules[0].when.use: unknown condition 'nope'");
	ERR("{" VOC ",\"conditions\":{\"a\":{\"use\":\"b\"},\"b\":{\"not\":{\"use\":\"a\"}}},"
	    "\"rules\":[]}",
	    -EINVAL, "$.conditions.b.not.use: cycle in named conditions: a -> b -> a");
	ERR("{" VOC ",\"conditions\":{\"a\":{\"any\":[{\"general\":true},{\"use\":\"a\"}]}},"
	    "\"rules\":[]}",
	    -EINVAL, "$.conditions.a.any[1].use: cycle in named conditions: a -> a");
	ERR("{" VOC ",\"conditions\":{\"a\":{\"tlp\":\"PURPLE\"}},\"rules\":[" R0 "]}", -EINVAL,
	    "$.conditions.a.tlp: unknown label 'PURPLE'");
	ERR("{" VOC ",\"conditions\":{\"a b\":{\"general\":true}},\"rules\":[]}", -EINVAL,
	    "$.conditions[\"a b\"]: bad condition name 'a b' (1-64 of A-Z, a-z, 0-9, '.', '_', '-')");
	/* a diamond is not a cycle */
	ERR("{" VOC ",\"conditions\":{\"a\":{\"use\":\"b\",\"not\":{\"use\":\"c\"}},"
	    "\"b\":{\"use\":\"c\"},\"c\":{\"general\":true}},\"rules\":[]}",
	    0, "");

	/* text: NUL, UTF-8, \u0000, depth, syntax, trailing text */
	{
		static const char nul[] = "{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[]}\0";
		expect_error(nul, sizeof(nul) - 1, -EINVAL, "$: NUL byte at line 1, column 52",
			     __LINE__);
	}
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[],\"name\":\"\xff\"}", -EINVAL,
	    "$: invalid UTF-8 at line 1, column 60");
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[],\"name\":\"\xc0\xaf\"}", -EINVAL,
	    "$: invalid UTF-8 at line 1, column 60");
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[],\"name\":\"\xed\xa0\x80\"}",
	    -EINVAL, "$: invalid UTF-8 at line 1, column 60");
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\n\"rules\":[],\"name\":\"a\\u0000b\"}",
	    -EINVAL, "$: \\u0000 in a string at line 2, column 21");
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[],\"name\":\"caf\xc3\xa9 \\u00e9\"}",
	    0, "");
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\n \"rules\":[,]}", -EINVAL,
	    "$: invalid JSON at line 2, column 11");
	ERR("{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[]} x", -EINVAL,
	    "$: text after the JSON value at line 1, column 53");
	ERR("", -EINVAL, "$: invalid JSON at line 1, column 1");
	{
		char deep[2048];
		size_t n = 0;
		n += (size_t)snprintf(deep + n, sizeof(deep) - n,
				      "{" VOC ",\"rules\":[{\"id\":\"r\",\"effect\":\"permit\",\"basis\":"
				      "\"b\",\"when\":");
		for (int i = 0; i < 30; i++)
			n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"not\":");
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"general\":true}");
		for (int i = 0; i < 30; i++)
			deep[n++] = '}';
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "}]}");
		char err[512];
		struct policy *p = NULL;
		int rc = policy_compile(deep, n, &p, err, sizeof(err));
		CHECK(rc == -EINVAL);
		CHECK(strncmp(err, "$: nesting deeper than 32 levels at line 1, column ", 51) == 0);
	}

	/* limits */
	{
		size_t cap = 300 * 64 + 256, n = 0;
		char *s = malloc(cap);
		n += (size_t)snprintf(s + n, cap - n, "{" VOC ",\"rules\":[");
		for (int i = 0; i <= POL_MAX_RULES; i++)
			n += (size_t)snprintf(s + n, cap - n,
					      "%s{\"id\":\"r%d\",\"effect\":\"permit\",\"basis\":\"b\"}",
					      i ? "," : "", i);
		n += (size_t)snprintf(s + n, cap - n, "]}");
		expect_error(s, n, -E2BIG, "$.rules: more than 256 rules", __LINE__);
		free(s);
	}
	{
		size_t n = POL_MAX_BYTES + 1;
		char *s = malloc(n);
		memset(s, ' ', n);
		s[0] = '{';
		s[n - 1] = '}';
		expect_error(s, n, -E2BIG, "$: policy larger than 1048576 bytes", __LINE__);
		free(s);
	}
	{
		char s[4096];
		size_t n = 0;
		n += (size_t)snprintf(s + n, sizeof(s) - n, "{\"vocabulary\":{\"roles\":[");
		for (int i = 0; i <= W_MAX_ROLES; i++)
			n += (size_t)snprintf(s + n, sizeof(s) - n, "%s\"r%d\"", i ? "," : "", i);
		n += (size_t)snprintf(s + n, sizeof(s) - n, "],\"sectors\":[]},\"rules\":[]}");
		expect_error(s, n, -E2BIG, "$.vocabulary.roles: more than 32 names", __LINE__);
	}
	/* 2^7 alternatives */
	ERR(RULES("{\"id\":\"r\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"all\":["
		  "{\"any\":[{\"personal_data\":true},{\"impact_significant\":true}]},"
		  "{\"any\":[{\"general\":true},{\"released\":true}]},"
		  "{\"any\":[{\"embargoed\":true},{\"withdrawn\":true}]},"
		  "{\"any\":[{\"shared_with_recipient\":true},{\"concerns_self\":true}]},"
		  "{\"any\":[{\"concerns_sector\":true},{\"concerns_org_in_sector\":true}]},"
		  "{\"any\":[{\"concerns_member\":true},{\"public\":true}]},"
		  "{\"any\":[{\"role\":\"csirt\"},{\"role\":\"oktt\"}]}]}}"),
	    -E2BIG, "$.rules[0].when.all[6]: condition expands to more than 64 alternatives");
	{
		char s[8192];
		size_t n = 0;
		n += (size_t)snprintf(s + n, sizeof(s) - n,
				      "{" VOC ",\"rules\":[{\"id\":\"r\",\"effect\":\"permit\","
				      "\"basis\":\"b\",\"when\":{\"not\":{\"all\":[");
		for (int i = 0; i < 45; i++)
			n += (size_t)snprintf(s + n, sizeof(s) - n,
					      "%s{\"time\":{\"from\":\"2000-01-%02dT00:00:%02dZ\"}}",
					      i ? "," : "", i % 28 + 1, i);
		n += (size_t)snprintf(s + n, sizeof(s) - n, "]}}}]}");
		expect_error(s, n, -E2BIG,
			     "$.rules[0].when.not.all[44].time: more than 44 distinct role, sector, "
			     "reached_by, advisory_sector and time conditions",
			     __LINE__);
	}
}

/* ---- explanations ---- */

static void test_explain_json(const struct policy *p)
{
	struct world *w = rules_world(p);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(policy_explain(p, w, world_org_find(w, "lone-co"), world_adv_find(w, "PD-LONE-IMPACT"),
			     T("2022-12-01"), 1, f) == 0);
	fclose(f);
	cJSON *j = cJSON_Parse(buf);
	CHECK(j != NULL);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "decision");
	CHECK(cJSON_IsString(d) && strcmp(d->valuestring, "permit") == 0);
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(j, "determining");
	CHECK(cJSON_GetArraySize(det) == 1);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(det, 0), "id");
	CHECK(cJSON_IsString(id) && strcmp(id->valuestring, "permit-other-direct") == 0);
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(j, "rules");
	CHECK(cJSON_GetArraySize(rules) == policy_nrules(p));
	const cJSON *r;
	cJSON_ArrayForEach(r, rules)
	{
		CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "id")));
		CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "basis")));
		CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "in_force")));
		CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "applies")));
	}
	CHECK(strstr(buf, "\"facts\":\t\"recipient is at 2022-12-01T00:00:00Z a member of an "
			  "organisation that holds role oktt at that time: no (member of no "
			  "organisation)\"") != NULL);
	cJSON_Delete(j);
	free(buf);

	/* text: rules not in force say so; conditions with "required: no" */
	buf = NULL;
	f = open_memstream(&buf, &len);
	CHECK(policy_explain(p, w, world_org_find(w, "dtc"), world_adv_find(w, "GREEN-ACME"),
			     T("2022-11-30T23:59:59Z"), 0, f) == 0);
	fclose(f);
	CHECK(strstr(buf, "rule permit-oktt-constituency (permit)\n  basis: Wbni art. 3(2)(a) and "
			  "art. 20(2)(d)") != NULL);
	CHECK(strstr(buf, "in force at 2022-11-30T23:59:59Z: no (from 2022-12-01)") != NULL);
	CHECK(strstr(buf, "in force at 2022-11-30T23:59:59Z: yes (from 2018-11-09 until "
			  "2022-11-30)") != NULL);
	CHECK(strstr(buf, "[yes] advisory carries personal data: no; required: no") != NULL);
	CHECK(strstr(buf, "condition \"oktt-constituency\":") != NULL);
	CHECK(strstr(buf, "acme-bv is a member of dtc from 2021-09-13: in force at t; "
			  "constituency of dtc at t: 1 member)") != NULL);
	CHECK(strstr(buf, "outcome: PERMIT") != NULL);
	CHECK(strstr(buf, "note: Uncertain: whether a regulation designating OKTTs") != NULL);
	free(buf);

	CHECK(policy_explain(p, w, 999, 0, 0, 0, stdout) == -EINVAL);
	CHECK(policy_explain(p, w, 0, 999, 0, 0, stdout) == -EINVAL);
	world_free(w);

	/* named conditions that each use the next four times: 4^12 leaves if
	 * written out in full; each is written once per rule instead */
	char src[4096];
	size_t n = 0;
	n += (size_t)snprintf(src + n, sizeof(src) - n,
			      "{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"conditions\":{");
	for (int i = 0; i < 12; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n,
				      "\"c%d\":{\"all\":[{\"use\":\"c%d\"},{\"use\":\"c%d\"},"
				      "{\"use\":\"c%d\"},{\"use\":\"c%d\"}]},",
				      i, i + 1, i + 1, i + 1, i + 1);
	n += (size_t)snprintf(src + n, sizeof(src) - n,
			      "\"c12\":{\"general\":true}},\"rules\":[{\"id\":\"r\",\"effect\":"
			      "\"permit\",\"basis\":\"b\",\"when\":{\"use\":\"c0\"}}]}");
	struct policy *q = compile_str(src);
	static struct builder b;
	memset(&b, 0, sizeof(b));
	b.p = q;
	b_adv(&b, "A");
	w = b_build(&b);
	EXPECT(q, w, "public", "A", T("2024-01-01"), PERMIT, "r");
	buf = NULL;
	f = open_memstream(&buf, &len);
	CHECK(policy_explain(q, w, 0, 0, T("2024-01-01"), 0, f) == 0);
	fclose(f);
	CHECK(strstr(buf, "[yes] condition \"c11\" (as above)") != NULL);
	CHECK(len < 20000);
	free(buf);
	world_free(w);
	policy_free(q);
}

/* Deterministic pseudo-random numbers (xorshift). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int64_t rnd_time(void)
{
	static const char *const days[] = { "2018-11-09", "2020-01-14", "2021-09-13",
					    "2022-11-30", "2022-12-01", "2024-06-01" };
	int64_t t = T(days[rnd() % 6]);
	switch (rnd() % 4) {
	case 0:
		return t - 1;
	case 1:
		return t;
	case 2:
		return t + 86399;
	default:
		return t + (int64_t)(rnd() % (400 * 86400)) - 200 * 86400;
	}
}

/* A random world over policy p's vocabulary. */
static struct world *random_world(const struct policy *p, uint32_t norgs, uint32_t nadvs,
				  uint32_t max_concerns)
{
	struct world *w = world_new();
	int nr = policy_nroles(p), ns = policy_nsectors(p);
	w->norgs = norgs;
	w->orgs = xalloc(w, sizeof(*w->orgs) * norgs);
	w->orgs[0].slug = "public";
	w->orgs[0].uid = w->orgs[0].gid = -1;
	uint32_t *nmem = calloc(norgs, sizeof(uint32_t));
	struct w_member *tmp = calloc(norgs * 3, sizeof(struct w_member));
	uint32_t *tmp_m = calloc(norgs * 3, sizeof(uint32_t));
	uint32_t ntmp = 0;
	for (uint32_t i = 1; i < norgs; i++) {
		struct w_org *o = &w->orgs[i];
		char s[32];
		snprintf(s, sizeof(s), "org-%06u", i);
		o->slug = world_strdup(w, s);
		o->id = i;
		o->uid = o->gid = -1;
		o->sectors = ns ? (uint64_t)1 << (rnd() % (uint64_t)ns) : 0;
		if (ns && rnd() % 4 == 0)
			o->sectors |= (uint64_t)1 << (rnd() % (uint64_t)ns);
		o->nroles = nr ? (uint32_t)(rnd() % 3) : 0;
		o->roles = xalloc(w, sizeof(*o->roles) * (o->nroles + 1));
		for (uint32_t k = 0; k < o->nroles; k++) {
			o->roles[k].role = (uint8_t)(rnd() % (uint64_t)nr);
			o->roles[k].from = rnd() % 3 ? rnd_time() : AU_T_MIN;
			o->roles[k].until = rnd() % 3 ? AU_T_MAX : o->roles[k].from + 86400 * 400;
			if (o->roles[k].from == AU_T_MIN)
				o->roles[k].until = AU_T_MAX;
		}
		uint32_t nm = (uint32_t)(rnd() % 3);
		for (uint32_t k = 0; k < nm; k++) {
			uint32_t s2 = 1 + (uint32_t)(rnd() % (norgs - 1));
			if (s2 == i)
				continue;
			tmp[ntmp].org = s2;
			tmp[ntmp].from = rnd() % 2 ? rnd_time() : AU_T_MIN;
			tmp[ntmp].until = rnd() % 2 ? AU_T_MAX : rnd_time();
			if (tmp[ntmp].until < tmp[ntmp].from)
				tmp[ntmp].until = AU_T_MAX;
			tmp_m[ntmp] = i;
			nmem[s2]++;
			ntmp++;
		}
	}
	for (uint32_t i = 0; i < norgs; i++) {
		w->orgs[i].members = xalloc(w, sizeof(struct w_member) * (nmem[i] + 1));
		w->orgs[i].member_of = xalloc(w, sizeof(struct w_member) * 3);
	}
	for (uint32_t k = 0; k < ntmp; k++) {
		struct w_org *s2 = &w->orgs[tmp[k].org], *m = &w->orgs[tmp_m[k]];
		struct w_member x = tmp[k];
		m->member_of[m->nmember_of++] = x;
		x.org = tmp_m[k];
		s2->members[s2->nmembers++] = x;
	}
	free(nmem);
	free(tmp);
	free(tmp_m);

	w->nadvs = nadvs;
	w->advs = xalloc(w, sizeof(*w->advs) * nadvs);
	for (uint32_t i = 0; i < nadvs; i++) {
		struct w_adv *a = &w->advs[i];
		char s[32];
		snprintf(s, sizeof(s), "ADV-%07u", i);
		a->tracking_id = world_strdup(w, s);
		a->version = "1";
		a->filename = a->tracking_id;
		a->tlp = (uint8_t)(rnd() % 5);
		a->status = (uint8_t)(rnd() % 8 ? 2 : rnd() % 2);
		a->personal_data = rnd() % 3 == 0;
		a->impact_significant = rnd() % 3 == 0;
		a->initial_release = a->current_release = rnd_time() - 86400 * 300;
		a->embargo_until = rnd() % 6 == 0 ? rnd_time() : AU_T_MIN;
		a->withdrawn_at = rnd() % 10 == 0 ? rnd_time() : AU_T_MAX;
		a->sectors = ns && rnd() % 3 == 0 ? (uint64_t)1 << (rnd() % (uint64_t)ns) : 0;
		a->nconcerns = (uint32_t)(rnd() % (max_concerns + 1));
		a->concerns = xalloc(w, sizeof(uint32_t) * (a->nconcerns + 1));
		for (uint32_t k = 0; k < a->nconcerns; k++) {
			uint32_t c = 1 + (uint32_t)(rnd() % (norgs - 1));
			int dup = 0;
			for (uint32_t m = 0; m < k; m++)
				dup |= a->concerns[m] == c;
			if (dup) {
				a->nconcerns = k;
				break;
			}
			a->concerns[k] = c;
		}
		qsort(a->concerns, a->nconcerns, sizeof(uint32_t), cmp_u32);
		a->nshares = rnd() % 5 == 0 ? 1 : 0;
		a->shares = xalloc(w, sizeof(struct w_share) * 2);
		if (a->nshares) {
			a->shares[0].org = 1 + (uint32_t)(rnd() % (norgs - 1));
			a->shares[0].at = rnd_time();
		}
	}
	return w;
}

/*
 * The explained evaluation (condition trees) against policy_decide (the
 * compiled clauses): recompute the outcome from the explanation's
 * per-rule "applies" and built-in guards and compare.
 */
static void cross_check(const struct policy *p, const struct world *w, int samples)
{
	int mismatches = 0;
	for (int s = 0; s < samples; s++) {
		uint32_t org = (uint32_t)(rnd() % w->norgs), adv = (uint32_t)(rnd() % w->nadvs);
		int64_t t = rnd_time();
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (policy_explain(p, w, org, adv, t, 1, f)) {
			fclose(f);
			free(buf);
			mismatches++;
			continue;
		}
		fclose(f);
		cJSON *j = cJSON_Parse(buf);
		int nf = 0, np = 0, nb = 0, i = 0;
		uint16_t forb[POL_MAX_RULES], perm[POL_MAX_RULES], bi[3];
		const cJSON *r;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "rules"))
		{
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "applies"))) {
				if (policy_rule_is_forbid(p, i))
					forb[nf++] = (uint16_t)i;
				else
					perm[np++] = (uint16_t)i;
			}
			i++;
		}
		i = 0;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "builtin"))
		{
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "applies")))
				bi[nb++] = (uint16_t)(policy_nrules(p) + i);
			i++;
		}
		cJSON_Delete(j);
		free(buf);

		int permit = !nf && !nb && np;
		const uint16_t *want = nf ? forb : nb ? bi : np ? perm : NULL;
		int nwant = nf ? nf : nb ? nb : np;
		if (nwant > POL_MAX_DET)
			nwant = POL_MAX_DET;
		struct pol_rctx ctx;
		struct pol_decision d;
		policy_rctx_init(p, w, org, t, &ctx);
		policy_decide(p, &ctx, adv, &d);
		int same = d.permit == permit && d.nrules == nwant;
		for (int k = 0; same && k < nwant; k++)
			same = d.rules[k] == want[k];
		if (!same && mismatches++ < 5)
			fprintf(stderr, "cross-check: org %u adv %u t %lld differs\n", org, adv,
				(long long)t);
	}
	CHECK(mismatches == 0);
}

static void test_cross_check(const struct policy *def)
{
	struct world *w = random_world(def, 40, 80, 3);
	cross_check(def, w, 3000);
	world_free(w);

	/* a policy exercising every atom, negations and named conditions */
	struct policy *p = compile_str(
		"{\"vocabulary\":{\"roles\":[\"a\",\"b\",\"c\"],\"sectors\":[\"x\",\"y\",\"z\"]},"
		"\"conditions\":{\"n1\":{\"any\":[{\"role\":[\"a\",\"b\"]},{\"advisory_sector\":\"y\"}]},"
		"\"n2\":{\"not\":{\"all\":[{\"use\":\"n1\"},{\"tlp\":[\"GREEN\",\"RED\"]}]}}},"
		"\"rules\":["
		"{\"id\":\"p1\",\"effect\":\"permit\",\"basis\":\"b\",\"when\":{\"use\":\"n2\","
		"\"status\":[\"final\",\"interim\"]}},"
		"{\"id\":\"p2\",\"effect\":\"permit\",\"basis\":\"b\",\"from\":\"2021-01-01\",\"when\":"
		"{\"any\":[{\"concerns_member\":true,\"reached_by\":\"c\"},{\"concerns_org_in_sector\":"
		"true},{\"sector\":\"z\",\"concerns_sector\":true}]}},"
		"{\"id\":\"p3\",\"effect\":\"permit\",\"basis\":\"b\",\"until\":\"2022-11-30\",\"when\":"
		"{\"not\":{\"any\":[{\"public\":true},{\"general\":true},{\"time\":{\"from\":"
		"\"2020-01-14\",\"until\":\"2021-09-13\"}}]}}},"
		"{\"id\":\"f1\",\"effect\":\"forbid\",\"basis\":\"b\",\"when\":{\"not\":{\"any\":["
		"{\"tlp\":\"CLEAR\"},{\"concerns_self\":true},{\"shared_with_recipient\":true},"
		"{\"role\":\"c\"}]},\"personal_data\":true}},"
		"{\"id\":\"f2\",\"effect\":\"forbid\",\"basis\":\"b\",\"when\":{\"all\":[{\"not\":"
		"{\"impact_significant\":true}},{\"not\":{\"released\":true}}]}},"
		"{\"id\":\"f3\",\"effect\":\"forbid\",\"basis\":\"b\",\"from\":\"2022-12-01\",\"when\":"
		"{\"any\":[{\"embargoed\":true,\"tlp\":\"AMBER\"},{\"withdrawn\":true,\"status\":"
		"\"final\"}]}}]}");
	w = random_world(p, 40, 80, 3);
	cross_check(p, w, 3000);
	world_free(w);
	policy_free(p);
}

/* ---- next boundary ---- */

static void test_next_boundary(const struct policy *p)
{
	static struct builder b;
	memset(&b, 0, sizeof(b));
	b.p = p;
	struct world *empty = b_build(&b);
	/* the default policy's own dates */
	CHECK(policy_next_boundary(p, empty, T("2017-01-01")) == T("2018-11-09"));
	CHECK(policy_next_boundary(p, empty, T("2018-11-09")) == T("2020-01-14"));
	CHECK(policy_next_boundary(p, empty, T("2020-01-14") - 1) == T("2020-01-14"));
	CHECK(policy_next_boundary(p, empty, T("2022-11-30T12:00:00Z")) == T("2022-12-01"));
	CHECK(policy_next_boundary(p, empty, T("2022-12-01")) == AU_T_MAX);
	world_free(empty);

	memset(&b, 0, sizeof(b));
	b.p = p;
	struct b_org *o = b_org(&b, "org", NULL);
	b_role(o, "csirt", T("2024-01-10"), TU("2024-01-20"), NULL);
	b_org(&b, "isac", NULL);
	b_member(&b, "isac", "org", T("2024-02-01"), TU("2024-02-10"));
	struct b_adv *a = b_adv(&b, "A");
	a->initial = T("2024-03-01T10:00:00Z");
	a->embargo = T("2024-03-02T10:00:00Z");
	a->withdrawn = T("2024-03-05T10:00:00Z");
	a->shares[0].org = "org";
	a->shares[0].at = T("2024-03-03T10:00:00Z");
	struct world *w = b_build(&b);
	int64_t t = T("2023-06-01");
	const char *want[] = { "2024-01-10",	       "2024-01-21",	       "2024-02-01",
			       "2024-02-11",	       "2024-03-01T10:00:00Z", "2024-03-02T10:00:00Z",
			       "2024-03-03T10:00:00Z", "2024-03-05T10:00:00Z" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int64_t n = policy_next_boundary(p, w, t);
		CHECK(n == T(want[i]));
		if (n != T(want[i]))
			fprintf(stderr, "  boundary %zu: got %lld\n", i, (long long)n);
		t = n;
	}
	CHECK(policy_next_boundary(p, w, t) == AU_T_MAX);
	/* a boundary is strictly after t */
	CHECK(policy_next_boundary(p, w, T("2024-01-10") - 1) == T("2024-01-10"));
	world_free(w);

	/* time conditions of a policy are boundaries too */
	struct policy *q = compile_str(
		"{\"vocabulary\":{\"roles\":[],\"sectors\":[]},\"rules\":[{\"id\":\"r\",\"effect\":"
		"\"permit\",\"basis\":\"b\",\"when\":{\"time\":{\"from\":\"2030-01-01\",\"until\":"
		"\"2030-06-30\"}}}]}");
	CHECK(policy_next_boundary(q, NULL, T("2029-01-01")) == T("2030-01-01"));
	CHECK(policy_next_boundary(q, NULL, T("2030-01-01")) == T("2030-07-01"));
	policy_free(q);
}

/* ---- a new regime as data: the Cbw ---- */

/* The steps of the default policy's note, done to its JSON: end the art.
 * 3(1) rule the day before, add a Cbw rule from the (hypothetical) date. */
static void test_cbw_as_data(void)
{
	size_t len;
	char err[512];
	char *s = read_file(SOURCE_ROOT "/policy/wbni-default.json", &len);
	CHECK(s != NULL);
	if (!s)
		return;
	cJSON *doc = cJSON_ParseWithLength(s, len);
	free(s);
	CHECK(doc != NULL);
	cJSON *rules = cJSON_GetObjectItemCaseSensitive(doc, "rules"), *r;
	cJSON_ArrayForEach(r, rules)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		if (strcmp(id->valuestring, "permit-vital-government") == 0)
			cJSON_AddStringToObject(r, "until", "2026-08-14");
	}
	cJSON *cbw = cJSON_Parse(
		"{\"id\":\"permit-cbw-essential-important\",\"effect\":\"permit\","
		"\"basis\":\"Cyberbeveiligingswet (hypothetical example for the test)\","
		"\"from\":\"2026-08-15\",\"when\":{\"role\":[\"essential\",\"important\"],"
		"\"use\":\"own-sector-or-general\"}}");
	cJSON_AddItemToArray(rules, cbw);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	struct policy *p = NULL;
	int rc = policy_compile(text, strlen(text), &p, err, sizeof(err));
	cJSON_free(text);
	CHECK(rc == 0);
	if (rc) {
		fprintf(stderr, "cbw: %s\n", err);
		return;
	}
	static struct builder b;
	memset(&b, 0, sizeof(b));
	b.p = p;
	struct b_org *o = b_org(&b, "water-co", "drinking-water");
	b_role(o, "vital", T("2018-11-09"), AU_T_MAX, NULL);
	b_role(o, "essential", T("2026-08-15"), AU_T_MAX, "Cbw");
	struct b_adv *a = b_adv(&b, "A");
	a->sectors[0] = "drinking-water";
	struct world *w = b_build(&b);
	EXPECT(p, w, "water-co", "A", TU("2026-08-14"), PERMIT, "permit-vital-government");
	EXPECT(p, w, "water-co", "A", T("2026-08-15"), PERMIT, "permit-cbw-essential-important");
	world_free(w);
	policy_free(p);
}

/* ---- the man page's example, as a fixture ---- */

static void test_example_fixture(void)
{
	size_t len;
	char err[512];
	char *s = read_file(SOURCE_ROOT "/tests/data/policy/example-isac.json", &len);
	CHECK(s != NULL);
	if (!s)
		return;
	struct policy *p = NULL;
	int rc = policy_compile(s, len, &p, err, sizeof(err));
	free(s);
	CHECK(rc == 0);
	if (rc) {
		fprintf(stderr, "example-isac.json: %s\n", err);
		return;
	}
	static struct builder b;
	memset(&b, 0, sizeof(b));
	b.p = p;
	struct b_org *o = b_org(&b, "isac-e", "energy");
	b_role(o, "isac", AU_T_MIN, AU_T_MAX, NULL);
	b_org(&b, "plant", "finance");
	b_member(&b, "isac-e", "plant", T("2024-02-01"), AU_T_MAX);
	struct b_adv *a = b_adv(&b, "E");
	a->sectors[0] = "energy";
	a = b_adv(&b, "P");
	a->tlp = CSAF_TLP_AMBER;
	a->concerns[0] = "plant";
	a = b_adv(&b, "D");
	a->tlp = CSAF_TLP_CLEAR;
	a->status = CSAF_STATUS_DRAFT;
	struct world *w = b_build(&b);
	EXPECT(p, w, "isac-e", "E", T("2024-01-01"), PERMIT, "isac-sector");
	EXPECT(p, w, "isac-e", "E", T("2023-12-31T23:59:59Z"), DENY, "");
	EXPECT(p, w, "isac-e", "P", T("2024-01-31T23:59:59Z"), DENY, "");
	EXPECT(p, w, "isac-e", "P", T("2024-02-01"), PERMIT, "isac-sector");
	EXPECT(p, w, "public", "D", T("2024-02-01"), DENY, "no-drafts");
	world_free(w);
	policy_free(p);
}

int main(void)
{
	struct policy *p = load_default();
	test_vocabulary(p);
	test_default_rules(p);
	test_pulse_secure(p);
	test_builtin();
	test_errors();
	test_explain_json(p);
	test_cross_check(p);
	test_next_boundary(p);
	test_cbw_as_data();
	test_example_fixture();
	policy_free(p);
	return check_exit("test_policy");
}
