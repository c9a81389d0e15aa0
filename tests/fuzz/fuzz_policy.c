/*
 * fuzz_policy.c - policy_compile() on arbitrary bytes, then decisions and
 * explanations over a tiny fixed world.
 *
 * On failure: -EINVAL, -E2BIG or -ENOMEM, the output pointer untouched,
 * and a one-line "$<path>: <why>" message (also with err NULL).
 *
 * On success: the accessors agree with each other (unique rule ids that
 * policy_rule_find() finds again, vocabulary names that map back to their
 * index, the built-in guards after the rules), and over a small world of
 * four organisations and four advisories at five moments every decision
 * keeps the contract of policy.h (a permit is determined by permits only;
 * a deny by forbids only or by built-in guards only; rule order; at most
 * POL_MAX_DET), policy_next_boundary() lies ahead, and policy_explain()
 * succeeds in text and JSON.  The JSON explanation evaluates the rules'
 * condition trees as written, while policy_decide() uses the compiled
 * clauses: at one of the moments, the outcome recomputed from the
 * explanation's per-rule "applies" must equal the decision (a
 * differential test of the compiler's normal form).
 *
 * The world has a fixed shape; its role and sector indices are folded into
 * the compiled policy's vocabulary (a store only builds worlds whose
 * indices name the policy's roles and sectors).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "policy.h"
#include "util.h"
#include "world.h"
#include "world_build.h"

#define DAY 86400

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so that the world needs no parsing. */
static int64_t days(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int64_t T(int y, unsigned m, unsigned d)
{
	return days(y, m, d) * DAY;
}

/* Zeroed world memory; aborts on exhaustion (a fuzzing artefact, not a
 * finding). */
static void *walloc(struct world *w, size_t n)
{
	void *p = world_alloc(w, n ? n : 1);
	FZ_CHECK(p != NULL);
	return p;
}

static const char *wstr(struct world *w, const char *s)
{
	char *p = world_strdup(w, s);
	FZ_CHECK(p != NULL);
	return p;
}

enum { O_PUBLIC, O_ACME, O_DTC, O_ZCERT, NORGS };
enum { NADVS = 4 };

/*
 * The world, with role index i folded to i % nroles (no roles at all when
 * the vocabulary has none) and sector bits masked to the vocabulary.
 * The caller frees it with world_free().
 */
static struct world *build_world(const struct policy *p)
{
	const int nroles = policy_nroles(p), nsectors = policy_nsectors(p);
	const uint64_t smask = nsectors >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << nsectors) - 1;
	struct world *w = world_new();
	FZ_CHECK(w != NULL);

	w->asof = T(2030, 1, 1);
	w->norgs = NORGS;
	w->orgs = walloc(w, sizeof(*w->orgs) * NORGS);
	static const char *const slugs[NORGS] = { "public", "acme", "dtc", "z-cert" };
	for (int i = 0; i < NORGS; i++) {
		w->orgs[i].id = i;
		w->orgs[i].slug = wstr(w, slugs[i]);
		w->orgs[i].name = wstr(w, slugs[i]);
		w->orgs[i].uid = w->orgs[i].gid = -1;
	}

	/* dated roles, by role index before folding */
	const struct {
		int org, role;
		int64_t from, until;
	} roles[] = {
		{ O_ACME, 4, AU_T_MIN, AU_T_MAX },
		{ O_ACME, 0, T(2019, 1, 1), T(2023, 1, 1) - 1 },
		{ O_DTC, 3, T(2021, 9, 13), AU_T_MAX },
		{ O_ZCERT, 2, T(2020, 1, 14), T(2030, 1, 1) },
		{ O_ZCERT, 1, T(2015, 1, 1), AU_T_MAX },
	};
	for (size_t i = 0; nroles > 0 && i < sizeof(roles) / sizeof(roles[0]); i++) {
		struct w_org *o = &w->orgs[roles[i].org];
		if (!o->roles)
			o->roles = walloc(w, sizeof(*o->roles) * 4);
		struct w_role *r = &o->roles[o->nroles++];
		r->role = (uint8_t)(roles[i].role % nroles);
		r->from = roles[i].from;
		r->until = roles[i].until;
		r->ref = roles[i].role == 2 ? wstr(w, "Stcrt. 2020, 4410") : NULL;
	}
	w->orgs[O_ACME].sectors = (((uint64_t)1 << 0) | ((uint64_t)1 << 7)) & smask;
	w->orgs[O_ZCERT].sectors = ((uint64_t)1 << 7) & smask;

	/* memberships: acme in dtc from 2021-09-13; z-cert in dtc during 2019 */
	struct w_member *mem = walloc(w, sizeof(*mem) * 2);
	mem[0] = (struct w_member){ O_ACME, T(2021, 9, 13), AU_T_MAX };
	mem[1] = (struct w_member){ O_ZCERT, T(2019, 1, 1), T(2019, 12, 31) };
	w->orgs[O_DTC].members = mem;
	w->orgs[O_DTC].nmembers = 2;
	struct w_member *of = walloc(w, sizeof(*of) * 2);
	of[0] = (struct w_member){ O_DTC, T(2021, 9, 13), AU_T_MAX };
	of[1] = (struct w_member){ O_DTC, T(2019, 1, 1), T(2019, 12, 31) };
	w->orgs[O_ACME].member_of = &of[0];
	w->orgs[O_ACME].nmember_of = 1;
	w->orgs[O_ZCERT].member_of = &of[1];
	w->orgs[O_ZCERT].nmember_of = 1;

	/* advisories, sorted by tracking id */
	w->nadvs = NADVS;
	w->advs = walloc(w, sizeof(*w->advs) * NADVS);
	for (uint32_t i = 0; i < NADVS; i++) {
		struct w_adv *a = &w->advs[i];
		char id[16], fn[32];
		snprintf(id, sizeof(id), "ADV-%u", i + 1);
		snprintf(fn, sizeof(fn), "adv-%u.json", i + 1);
		a->id = a->version_id = i + 1;
		a->tracking_id = wstr(w, id);
		a->version = wstr(w, "1");
		a->filename = wstr(w, fn);
		a->title = wstr(w, id);
		a->embargo_until = AU_T_MIN;
		a->withdrawn_at = AU_T_MAX;
		a->size = 100;
	}
	struct w_adv *a = w->advs;
	/* ADV-1: CLEAR, final, general */
	a[0].tlp = 0;
	a[0].status = 2;
	a[0].initial_release = a[0].current_release = T(2020, 1, 1);
	/* ADV-2: AMBER, interim, personal data, about acme and sector 7,
	 * embargoed until noon on 2022-12-01, shared with z-cert in 2023 */
	a[1].tlp = 2;
	a[1].status = 1;
	a[1].personal_data = 1;
	a[1].initial_release = T(2022, 6, 1);
	a[1].current_release = T(2022, 7, 1);
	a[1].embargo_until = T(2022, 12, 1) + 12 * 3600;
	a[1].sectors = ((uint64_t)1 << 7) & smask;
	a[1].concerns = walloc(w, sizeof(uint32_t));
	a[1].concerns[0] = O_ACME;
	a[1].nconcerns = 1;
	a[1].shares = walloc(w, sizeof(struct w_share));
	a[1].shares[0] = (struct w_share){ O_ZCERT, T(2023, 1, 1) };
	a[1].nshares = 1;
	/* ADV-3: RED, draft, significant impact, about dtc and z-cert,
	 * withdrawn mid-2024, shared with acme in 2021 */
	a[2].tlp = 4;
	a[2].status = 0;
	a[2].impact_significant = 1;
	a[2].initial_release = a[2].current_release = T(2021, 1, 1);
	a[2].withdrawn_at = T(2024, 6, 1);
	a[2].concerns = walloc(w, sizeof(uint32_t) * 2);
	a[2].concerns[0] = O_DTC;
	a[2].concerns[1] = O_ZCERT;
	a[2].nconcerns = 2;
	a[2].shares = walloc(w, sizeof(struct w_share));
	a[2].shares[0] = (struct w_share){ O_ACME, T(2021, 1, 1) };
	a[2].nshares = 1;
	/* ADV-4: AMBER+STRICT, final, about acme and sector 0, released in 2026 */
	a[3].tlp = 3;
	a[3].status = 2;
	a[3].initial_release = a[3].current_release = T(2026, 1, 1);
	a[3].sectors = (uint64_t)1 & smask;
	a[3].concerns = walloc(w, sizeof(uint32_t));
	a[3].concerns[0] = O_ACME;
	a[3].nconcerns = 1;
	a[3].has_signature = 1;
	a[3].sig_size = 10;
	return w;
}

/* The accessors of a compiled policy agree with each other. */
static void check_accessors(const struct policy *p)
{
	const int n = policy_nrules(p);
	FZ_CHECK(n >= 0 && n <= POL_MAX_RULES);
	FZ_CHECK(policy_nroles(p) >= 0 && policy_nroles(p) <= W_MAX_ROLES);
	FZ_CHECK(policy_nsectors(p) >= 0 && policy_nsectors(p) <= W_MAX_SECTORS);
	for (int i = 0; i < n; i++) {
		const char *id = policy_rule_id(p, i), *basis = policy_rule_basis(p, i);
		FZ_CHECK(id != NULL && basis != NULL);
		FZ_CHECK(id[0] != '\0' && strlen(id) <= 64 && strncmp(id, "builtin:", 8) != 0);
		FZ_CHECK(basis[0] != '\0');
		FZ_CHECK(policy_rule_is_forbid(p, i) == 0 || policy_rule_is_forbid(p, i) == 1);
		FZ_CHECK(policy_rule_find(p, id) == i); /* ids are unique */
	}
	for (int k = 0; k < 3; k++) {
		const char *id = policy_rule_id(p, n + k);
		FZ_CHECK(id != NULL && strncmp(id, "builtin:", 8) == 0);
		FZ_CHECK(policy_rule_is_forbid(p, n + k) == 1);
		FZ_CHECK(policy_rule_find(p, id) == n + k);
	}
	FZ_CHECK(policy_rule_id(p, n + 3) == NULL && policy_rule_id(p, -1) == NULL);
	FZ_CHECK(policy_rule_basis(p, n + 3) == NULL && policy_rule_is_forbid(p, -1) == -1);
	for (int i = 0; i < policy_nroles(p); i++) {
		const char *name = policy_role_name(p, i);
		FZ_CHECK(name != NULL && policy_role_index(p, name) == i);
	}
	for (int i = 0; i < policy_nsectors(p); i++) {
		const char *name = policy_sector_name(p, i);
		FZ_CHECK(name != NULL && policy_sector_index(p, name) == i);
	}
	FZ_CHECK(policy_role_index(p, "no such role, not a valid name") == -1);
}

/* A decision keeps the contract of policy_decide(). */
static void check_decision(const struct policy *p, const struct pol_decision *d)
{
	const int n = policy_nrules(p);
	FZ_CHECK(d->permit == 0 || d->permit == 1);
	FZ_CHECK(d->nrules <= POL_MAX_DET);
	for (int i = 0; i < d->nrules; i++) {
		int r = d->rules[i];
		FZ_CHECK(r < n + 3);
		FZ_CHECK(i == 0 || d->rules[i - 1] < r);
		if (d->permit)
			FZ_CHECK(r < n && policy_rule_is_forbid(p, r) == 0);
		else
			FZ_CHECK(policy_rule_is_forbid(p, r) == 1);
		/* a deny is determined by policy forbids or by guards, not both */
		FZ_CHECK((r < n) == (d->rules[0] < n));
	}
	FZ_CHECK(!d->permit || d->nrules > 0);
}

static FILE *devnull(void)
{
	static FILE *f;
	if (!f)
		f = fopen("/dev/null", "w");
	FZ_CHECK(f != NULL);
	return f;
}

/*
 * Explain (org, adv, t) as JSON and recompute the outcome from the
 * per-rule "applies" of the explanation: the forbids if any apply, else
 * the built-in guards that apply, else the permits.  It must equal d.
 */
static void cross_check(const struct policy *p, const struct world *w, uint32_t org,
			uint32_t adv, int64_t t, const struct pol_decision *d)
{
	uint16_t forbids[POL_MAX_DET], guards[3], permits[POL_MAX_DET];
	int nf = 0, ng = 0, np = 0, i = 0, permit;
	char *buf = NULL;
	size_t len = 0;
	const cJSON *r;
	FILE *f = open_memstream(&buf, &len);

	FZ_CHECK(f != NULL);
	FZ_CHECK(policy_explain(p, w, org, adv, t, 1, f) == 0);
	FZ_CHECK(fclose(f) == 0);
	cJSON *j = cJSON_ParseWithLength(buf, len);
	FZ_CHECK(j != NULL);
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(j, "rules");
	FZ_CHECK(cJSON_GetArraySize(rules) == policy_nrules(p));
	cJSON_ArrayForEach(r, rules) {
		const cJSON *applies = cJSON_GetObjectItemCaseSensitive(r, "applies");
		FZ_CHECK(cJSON_IsBool(applies));
		if (cJSON_IsTrue(applies)) {
			if (policy_rule_is_forbid(p, i)) {
				if (nf < POL_MAX_DET)
					forbids[nf] = (uint16_t)i;
				nf++;
			} else {
				if (np < POL_MAX_DET)
					permits[np] = (uint16_t)i;
				np++;
			}
		}
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "builtin")) {
		FZ_CHECK(i < 3);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "applies")))
			guards[ng++] = (uint16_t)(policy_nrules(p) + i);
		i++;
	}
	const cJSON *dec = cJSON_GetObjectItemCaseSensitive(j, "decision");
	FZ_CHECK(cJSON_IsString(dec));
	FZ_CHECK(strcmp(dec->valuestring, d->permit ? "permit" : "deny") == 0);
	cJSON_Delete(j);
	free(buf);

	const uint16_t *want = nf ? forbids : ng ? guards : np ? permits : NULL;
	int nwant = nf ? nf : ng ? ng : np;
	permit = !nf && !ng && np;
	if (nwant > POL_MAX_DET)
		nwant = POL_MAX_DET;
	if (d->permit != permit || d->nrules != nwant ||
	    (nwant && memcmp(d->rules, want, (size_t)nwant * sizeof(want[0])) != 0)) {
		fprintf(stderr,
			"decision of the compiled clauses (permit=%d, %d rules) differs from the "
			"explained condition trees (permit=%d, %d rules) for org %u adv %u at %lld\n",
			d->permit, d->nrules, permit, nwant, org, adv, (long long)t);
		for (int k = 0; k < d->nrules; k++)
			fprintf(stderr, "  decided: %s\n", policy_rule_id(p, d->rules[k]));
		for (int k = 0; k < nwant; k++)
			fprintf(stderr, "  explained: %s\n", policy_rule_id(p, want[k]));
		FZ_CHECK(!"decide and explain disagree");
	}
}

/*
 * Decide for every recipient and advisory at five moments.  Explanations
 * cost far more than decisions, so only at the moment picked by seed (a
 * corpus covers all five): the JSON cross-check for every pair, the text
 * for one advisory per recipient.
 */
static void check_world(const struct policy *p, size_t seed)
{
	static const int moments[][3] = {
		{ 2019, 6, 1 }, { 2021, 10, 1 }, { 2022, 12, 1 }, { 2023, 6, 1 }, { 2027, 1, 1 },
	};
	struct world *w = build_world(p);

	for (size_t m = 0; m < sizeof(moments) / sizeof(moments[0]); m++) {
		const int64_t t = T(moments[m][0], (unsigned)moments[m][1],
				    (unsigned)moments[m][2]);
		const int64_t next = policy_next_boundary(p, w, t);
		FZ_CHECK(next > t);
		for (uint32_t org = 0; org <= NORGS; org++) {
			struct pol_rctx ctx;
			policy_rctx_init(p, w, org, t, &ctx);
			for (uint32_t adv = 0; adv <= NADVS; adv++) {
				struct pol_decision d;
				policy_decide(p, &ctx, adv, &d);
				check_decision(p, &d);
				if (org == NORGS || adv == NADVS) {
					/* out of range: deny, no rules, explain refuses */
					FZ_CHECK(!d.permit && d.nrules == 0);
					FZ_CHECK(policy_explain(p, w, org, adv, t, 0, devnull()) ==
						 -EINVAL);
					continue;
				}
				/* the built-in guards hold whatever the policy says */
				const struct w_adv *a = &w->advs[adv];
				if (d.permit)
					FZ_CHECK(a->initial_release <= t && t >= a->embargo_until &&
						 t < a->withdrawn_at);
				if (m != seed % 5)
					continue;
				cross_check(p, w, org, adv, t, &d);
				if (adv == org)
					FZ_CHECK(policy_explain(p, w, org, adv, t, 0, devnull()) ==
						 0);
			}
		}
	}
	world_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char sentinel_obj;
	struct policy *const sentinel = (struct policy *)(void *)&sentinel_obj;
	struct policy *p = sentinel;
	char err[512];
	int r;

	memset(err, 0, sizeof(err));
	r = policy_compile((const char *)data, size, &p, err, sizeof(err));
	if (r) {
		FZ_CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
		FZ_CHECK(p == sentinel);
		FZ_CHECK(fz_one_line(err, sizeof(err)));
		FZ_CHECK(err[0] == '$');
		/* err may be NULL: the same verdict without a message */
		FZ_CHECK(policy_compile((const char *)data, size, &p, NULL, 0) == r);
		FZ_CHECK(p == sentinel);
		return 0;
	}
	FZ_CHECK(p != NULL && p != sentinel);
	check_accessors(p);
	check_world(p, size);
	policy_free(p);
	return 0;
}
