/*
 * bench_policy.c - decisions per second of the default policy on a random
 * world of 10,000 organisations and 100,000 advisories, on one core.
 *
 * Not a test and not built by meson.  Build and run by hand:
 *
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -Istore -Ipolicy \
 *       -DSOURCE_ROOT='"'$PWD'"' store/util.c policy/world.c policy/policy*.c \
 *       tests/unit/bench_policy.c -lcjson -o /tmp/bench_policy && /tmp/bench_policy
 *
 * The world: ~5% vital providers, ~1% central government, 4 CSIRTs, 40
 * OKTTs, the rest other providers; each organisation a member of 0-2
 * OKTTs with dated memberships; advisories of every TLP, 30% with personal
 * data, concerning 0-3 organisations and sometimes a sector, some under
 * embargo, withdrawn or shared.  Each measured pass is what a listing
 * does: policy_rctx_init() once for a recipient, then policy_decide() for
 * every advisory.
 */
#include "policy.h"
#include "world.h"
#include "world_build.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NORGS 10000
#define NADVS 100000
#define NOKTT 40
#define NCSIRT 4

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
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

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t day(const char *s)
{
	int64_t t = 0;
	au_parse_time(s, 0, &t);
	return t;
}

static struct world *make_world(const struct policy *p)
{
	struct world *w = world_new();
	int vital = policy_role_index(p, "vital"), gov = policy_role_index(p, "government");
	int csirt = policy_role_index(p, "csirt"), oktt = policy_role_index(p, "oktt");
	int other = policy_role_index(p, "other");
	int ns = policy_nsectors(p);
	int64_t t0 = day("2018-01-01"), span = day("2025-01-01") - t0;

	w->norgs = NORGS;
	w->orgs = xalloc(w, sizeof(*w->orgs) * NORGS);
	w->orgs[0].slug = "public";
	w->orgs[0].uid = w->orgs[0].gid = -1;
	uint32_t *nmem = calloc(NORGS, sizeof(uint32_t));
	for (uint32_t i = 1; i < NORGS; i++) {
		struct w_org *o = &w->orgs[i];
		char s[32];
		snprintf(s, sizeof(s), "org-%05u", i);
		o->slug = world_strdup(w, s);
		o->id = i;
		o->uid = o->gid = -1;
		o->sectors = (uint64_t)1 << (rnd() % (uint64_t)ns);
		o->roles = xalloc(w, sizeof(*o->roles) * 2);
		o->nroles = 1;
		int role;
		if (i <= NCSIRT)
			role = csirt;
		else if (i <= NCSIRT + NOKTT)
			role = oktt;
		else if (rnd() % 100 < 5)
			role = vital;
		else if (rnd() % 100 < 1)
			role = gov;
		else
			role = other;
		o->roles[0].role = (uint8_t)role;
		o->roles[0].from = role == csirt ? day("2020-01-14") : t0 + (int64_t)(rnd() % (uint64_t)span);
		o->roles[0].until = rnd() % 10 ? AU_T_MAX : o->roles[0].from + 400 * 86400;
		o->member_of = xalloc(w, sizeof(struct w_member) * 2);
		uint32_t k = (uint32_t)(rnd() % 3);
		for (uint32_t m = 0; m < k && i > NCSIRT + NOKTT; m++) {
			uint32_t s2 = 1 + (uint32_t)(rnd() % (NCSIRT + NOKTT));
			struct w_member *x = &o->member_of[o->nmember_of++];
			x->org = s2;
			x->from = t0 + (int64_t)(rnd() % (uint64_t)span);
			x->until = rnd() % 4 ? AU_T_MAX : x->from + 300 * 86400;
			nmem[s2]++;
		}
	}
	for (uint32_t i = 0; i < NORGS; i++)
		w->orgs[i].members = xalloc(w, sizeof(struct w_member) * nmem[i]);
	for (uint32_t i = 1; i < NORGS; i++)
		for (uint32_t m = 0; m < w->orgs[i].nmember_of; m++) {
			struct w_member x = w->orgs[i].member_of[m];
			struct w_org *s2 = &w->orgs[x.org];
			x.org = i;
			s2->members[s2->nmembers++] = x;
		}
	free(nmem);

	w->nadvs = NADVS;
	w->advs = xalloc(w, sizeof(*w->advs) * NADVS);
	for (uint32_t i = 0; i < NADVS; i++) {
		struct w_adv *a = &w->advs[i];
		char s[32];
		snprintf(s, sizeof(s), "NCSC-%07u", i);
		a->tracking_id = world_strdup(w, s);
		a->version = "1";
		a->filename = a->tracking_id;
		a->tlp = (uint8_t)(rnd() % 5);
		a->status = (uint8_t)(rnd() % 20 ? 2 : rnd() % 2);
		a->personal_data = rnd() % 10 < 3;
		a->impact_significant = rnd() % 4 == 0;
		a->initial_release = a->current_release = t0 + (int64_t)(rnd() % (uint64_t)span);
		a->embargo_until = rnd() % 20 == 0 ? a->initial_release + 86400 : AU_T_MIN;
		a->withdrawn_at = rnd() % 50 == 0 ? a->initial_release + 90 * 86400 : AU_T_MAX;
		a->sectors = rnd() % 4 == 0 ? (uint64_t)1 << (rnd() % (uint64_t)ns) : 0;
		a->nconcerns = (uint32_t)(rnd() % 4);
		a->concerns = xalloc(w, sizeof(uint32_t) * 4);
		for (uint32_t k = 0; k < a->nconcerns; k++) {
			uint32_t c = 1 + (uint32_t)(rnd() % (NORGS - 1));
			for (uint32_t m = 0; m < k; m++)
				if (a->concerns[m] == c)
					c = 0;
			if (!c) {
				a->nconcerns = k;
				break;
			}
			a->concerns[k] = c;
		}
		qsort(a->concerns, a->nconcerns, sizeof(uint32_t), cmp_u32);
		a->shares = xalloc(w, sizeof(struct w_share));
		if (rnd() % 50 == 0) {
			a->nshares = 1;
			a->shares[0].org = 1 + (uint32_t)(rnd() % (NORGS - 1));
			a->shares[0].at = a->initial_release + 86400;
		}
	}
	return w;
}

int main(int argc, char **argv)
{
	FILE *f = fopen(SOURCE_ROOT "/policy/wbni-default.json", "rb");
	static char text[POL_MAX_BYTES + 1];
	char err[512];
	struct policy *p = NULL;
	if (!f) {
		perror("wbni-default.json");
		return 1;
	}
	size_t len = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (policy_compile(text, len, &p, err, sizeof(err))) {
		fprintf(stderr, "policy: %s\n", err);
		return 1;
	}
	struct world *w = make_world(p);
	int passes = argc > 1 ? atoi(argv[1]) : 100;
	int64_t ts[] = { day("2020-10-15"), day("2022-11-30") + 86399, day("2022-12-01"),
			 day("2024-06-01") };

	/* warm-up */
	struct pol_rctx ctx;
	struct pol_decision d;
	uint64_t permits = 0, total = 0;
	policy_rctx_init(p, w, 1, ts[3], &ctx);
	for (uint32_t a = 0; a < w->nadvs; a++)
		policy_decide(p, &ctx, a, &d);

	double t_start = now();
	for (int i = 0; i < passes; i++) {
		uint32_t org = i % 10 == 0 ? (uint32_t)(rnd() % (NCSIRT + NOKTT + 1))
					   : (uint32_t)(rnd() % NORGS);
		policy_rctx_init(p, w, org, ts[i % 4], &ctx);
		for (uint32_t a = 0; a < w->nadvs; a++) {
			policy_decide(p, &ctx, a, &d);
			permits += (uint64_t)d.permit;
		}
		total += w->nadvs;
	}
	double el = now() - t_start;

	double t2 = now();
	for (int i = 0; i < 100000; i++)
		policy_rctx_init(p, w, (uint32_t)(rnd() % NORGS), ts[i % 4], &ctx);
	double el2 = now() - t2;

	printf("world: %u organisations, %u advisories; policy: %d rules\n", w->norgs, w->nadvs,
	       policy_nrules(p));
	printf("decisions: %llu in %.3f s = %.2f million/s (%.1f ns each); permits: %llu\n",
	       (unsigned long long)total, el, (double)total / el / 1e6, el * 1e9 / (double)total,
	       (unsigned long long)permits);
	printf("policy_rctx_init: %.2f us each\n", el2 * 1e6 / 100000);
	world_free(w);
	policy_free(p);
	return 0;
}
