/*
 * bench_policy.c - decisions per second of the default policy on a random
 * world of 10,000 organisations and 100,000 advisories, on one core.
 *
 * Not a test.  Built by meson when registered, or by hand:
 *
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -Ilib/util -Ilib/csaf -Ipolicy \
 *       -DSOURCE_ROOT='"'$PWD'"' lib/util/util.c lib/csaf/csaf.c lib/csaf/csaf_name.c policy/world.c \
 *       policy/policy.c policy/policy_cond.c policy/policy_eval.c policy/policy_explain.c \
 *       -Ifs/view fs/view/view_recipients.c tests/unit/bench_policy.c -lcjson -o /tmp/bench_policy && /tmp/bench_policy
 *
 *   bench_policy [--passes N] [--sample N] [--export FILE] [--policy FILE]
 *
 * The world: ~5% vital providers, ~1% central government, 4 CSIRTs, 40
 * OKTTs, the rest other providers; each organisation a member of 0-2
 * OKTTs with dated memberships; advisories of every TLP, 30% with personal
 * data, concerning 0-3 organisations and sometimes a sector, some under
 * embargo, withdrawn or shared.
 *
 * Two rates.  "listing": each measured pass is what a listing does,
 * policy_rctx_init() once for a recipient, then policy_decide() for every
 * advisory (--passes passes, default 100).  "sample": --sample random
 * (recipient, advisory, t) cases (default 20,000), each decided on its
 * own with policy_rctx_init() + policy_decide(), repeated to about ten
 * million decisions.  --export FILE writes the world and the sample in the
 * JSON format of tests/cedar/engine_cases.c, so that scripts/bench-policy
 * can time Cedar on exactly the same cases and check that the two agree.
 * Rates are per CPU-second of the thread (wall rates are printed too).
 * Then "recipients": view_recipients() (fs/view/, what `advisoryfs
 * recipients` and `publish --dry-run` run) for 50 random advisories, each
 * decided for all 10,000 organisations: the median and the slowest, in ms.
 * The last lines are machine-readable: "rate listing N", "rate sample N"
 * (decisions per CPU-second).
 */
#include "policy.h"
#include "view_recipients.h"
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

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: the rates are per CPU-second, so that a machine
 * busy with other work does not halve them. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* ---- export (the format of tests/cedar/engine_cases.c) ---- */

struct bcase {
	uint32_t org, adv;
	int64_t t;
};

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A time, or null for an open end (or no embargo / no withdrawal). */
static void put_time(FILE *f, int64_t t)
{
	if (t == AU_T_MIN || t == AU_T_MAX)
		fputs("null", f);
	else
		fprintf(f, "%lld", (long long)t);
}

static void put_sectors(FILE *f, const struct policy *p, uint64_t m)
{
	int first = 1;
	fputc('[', f);
	for (int i = 0; i < policy_nsectors(p); i++)
		if (m & ((uint64_t)1 << i)) {
			if (!first)
				fputc(',', f);
			put_str(f, policy_sector_name(p, i));
			first = 0;
		}
	fputc(']', f);
}

static int export_world(const char *path, const struct policy *p, const struct world *w,
			const struct bcase *cases, size_t ncases)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fputs("{\"worlds\":[{\"orgs\":[", f);
	for (uint32_t i = 0; i < w->norgs; i++) {
		const struct w_org *o = &w->orgs[i];
		fprintf(f, "%s\n{\"slug\":", i ? "," : "");
		put_str(f, o->slug);
		fputs(",\"sectors\":", f);
		put_sectors(f, p, i ? o->sectors : 0);
		fputs(",\"roles\":[", f);
		for (uint32_t k = 0; i && k < o->nroles; k++) {
			fprintf(f, "%s{\"role\":", k ? "," : "");
			put_str(f, policy_role_name(p, o->roles[k].role));
			fputs(",\"from\":", f);
			put_time(f, o->roles[k].from);
			fputs(",\"until\":", f);
			put_time(f, o->roles[k].until);
			fputc('}', f);
		}
		fputs("],\"member_of\":[", f);
		for (uint32_t k = 0; i && k < o->nmember_of; k++) {
			fprintf(f, "%s{\"org\":%u,\"from\":", k ? "," : "", o->member_of[k].org);
			put_time(f, o->member_of[k].from);
			fputs(",\"until\":", f);
			put_time(f, o->member_of[k].until);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("],\"advs\":[", f);
	for (uint32_t i = 0; i < w->nadvs; i++) {
		const struct w_adv *a = &w->advs[i];
		fprintf(f, "%s\n{\"id\":", i ? "," : "");
		put_str(f, a->tracking_id);
		fprintf(f, ",\"tlp\":%u,\"status\":%u,\"personal_data\":%s,\"impact\":%s,"
			   "\"initial_release\":%lld,\"embargo_until\":",
			a->tlp, a->status, a->personal_data ? "true" : "false",
			a->impact_significant ? "true" : "false", (long long)a->initial_release);
		put_time(f, a->embargo_until);
		fputs(",\"withdrawn_at\":", f);
		put_time(f, a->withdrawn_at);
		fputs(",\"concerns\":[", f);
		for (uint32_t k = 0; k < a->nconcerns; k++)
			fprintf(f, "%s%u", k ? "," : "", a->concerns[k]);
		fputs("],\"sectors\":", f);
		put_sectors(f, p, a->sectors);
		fputs(",\"shares\":[", f);
		for (uint32_t k = 0; k < a->nshares; k++)
			fprintf(f, "%s{\"org\":%u,\"at\":%lld}", k ? "," : "", a->shares[k].org,
				(long long)a->shares[k].at);
		fputs("]}", f);
	}
	fputs("],\"cases\":[", f);
	for (size_t i = 0; i < ncases; i++)
		fprintf(f, "%s\n[%u,%u,%lld]", i ? "," : "", cases[i].org, cases[i].adv,
			(long long)cases[i].t);
	fputs("]}]}\n", f);
	if (fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_policy [--passes N] [--sample N] [--export FILE] "
			"[--policy FILE] [PASSES]\n");
	exit(2);
}

int main(int argc, char **argv)
{
#ifdef SOURCE_ROOT
	const char *policy_path = SOURCE_ROOT "/policy/wbni-default.json";
#else
	const char *policy_path = NULL;
#endif
	const char *export_path = NULL;
	int passes = 100;
	long nsample = 20000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 < argc && strcmp(a, "--passes") == 0)
			passes = atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(a, "--sample") == 0)
			nsample = atol(argv[++i]);
		else if (i + 1 < argc && strcmp(a, "--export") == 0)
			export_path = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--policy") == 0)
			policy_path = argv[++i];
		else if (a[0] >= '0' && a[0] <= '9')
			passes = atoi(a);
		else
			usage();
	}
	if (!policy_path || passes < 1 || nsample < 1)
		usage();

	FILE *f = fopen(policy_path, "rb");
	static char text[POL_MAX_BYTES + 1];
	char err[512];
	struct policy *p = NULL;
	if (!f) {
		perror(policy_path);
		return 1;
	}
	size_t len = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (policy_compile(text, len, &p, err, sizeof(err))) {
		fprintf(stderr, "policy: %s\n", err);
		return 1;
	}
	struct world *w = make_world(p);
	int64_t ts[] = { day("2020-10-15"), day("2022-11-30") + 86399, day("2022-12-01"),
			 day("2024-06-01") };

	/* The sample: recipients and moments drawn as the listing passes draw
	 * them, each with a random advisory. */
	struct bcase *cases = malloc(sizeof(*cases) * (size_t)nsample);
	if (!cases) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (long i = 0; i < nsample; i++) {
		cases[i].org = i % 10 == 0 ? (uint32_t)(rnd() % (NCSIRT + NOKTT + 1))
					   : (uint32_t)(rnd() % NORGS);
		cases[i].adv = (uint32_t)(rnd() % NADVS);
		cases[i].t = ts[rnd() % 4];
	}
	if (export_path && export_world(export_path, p, w, cases, (size_t)nsample))
		return 1;

	/* warm-up */
	struct pol_rctx ctx;
	struct pol_decision d;
	uint64_t permits = 0, total = 0;
	policy_rctx_init(p, w, 1, ts[3], &ctx);
	for (uint32_t a = 0; a < w->nadvs; a++)
		policy_decide(p, &ctx, a, &d);

	double t_start = now(), c_start = cpu_now();
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
	double el = now() - t_start, cel = cpu_now() - c_start;

	/* The sample, each case on its own, repeated to ~10 million decisions. */
	long reps = 10000000 / nsample > 0 ? 10000000 / nsample : 1;
	uint64_t spermits = 0, stotal = 0;
	double t3 = now(), c3 = cpu_now();
	for (long r = 0; r < reps; r++)
		for (long i = 0; i < nsample; i++) {
			policy_rctx_init(p, w, cases[i].org, cases[i].t, &ctx);
			policy_decide(p, &ctx, cases[i].adv, &d);
			spermits += (uint64_t)d.permit;
		}
	stotal = (uint64_t)reps * (uint64_t)nsample;
	double el3 = now() - t3, cel3 = cpu_now() - c3;

	double t2 = now();
	for (int i = 0; i < 100000; i++)
		policy_rctx_init(p, w, (uint32_t)(rnd() % NORGS), ts[i % 4], &ctx);
	double el2 = now() - t2;

	/* who may receive one advisory: every organisation decided for it */
	enum { NREC = 50 };
	double rec_ms[NREC];
	uint32_t rec_ok = 0;
	for (int i = 0; i < NREC; i++) {
		struct view_recipients vr;
		uint32_t adv = (uint32_t)(rnd() % NADVS);
		double t4 = now();
		if (view_recipients(p, w, adv, ts[i % 4], &vr)) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		rec_ms[i] = (now() - t4) * 1e3;
		rec_ok += vr.nok;
		view_recipients_release(&vr);
	}
	qsort(rec_ms, NREC, sizeof(double), cmp_double);

	printf("world: %u organisations, %u advisories; policy: %d rules\n", w->norgs, w->nadvs,
	       policy_nrules(p));
	printf("decisions: %llu in %.3f s (%.3f s CPU) = %.2f million/s per CPU-second "
	       "(%.1f ns each; %.2f million/s wall); permits: %llu\n",
	       (unsigned long long)total, el, cel, (double)total / cel / 1e6,
	       cel * 1e9 / (double)total, (double)total / el / 1e6, (unsigned long long)permits);
	printf("sample: %ld cases x %ld, each policy_rctx_init + policy_decide: %.2f million/s "
	       "per CPU-second (%.1f ns each; %.2f million/s wall); permits per pass: %llu\n",
	       nsample, reps, (double)stotal / cel3 / 1e6, cel3 * 1e9 / (double)stotal,
	       (double)stotal / el3 / 1e6, (unsigned long long)(spermits / (uint64_t)reps));
	printf("policy_rctx_init: %.2f us each\n", el2 * 1e6 / 100000);
	printf("recipients: one advisory for all %u organisations (view_recipients), %d "
	       "advisories: median %.2f ms, slowest %.2f ms; %u recipients in all\n", w->norgs,
	       NREC, rec_ms[NREC / 2], rec_ms[NREC - 1], rec_ok);
	printf("rate listing %.0f\n", (double)total / cel);
	printf("rate sample %.0f\n", (double)stotal / cel3);
	free(cases);
	world_free(w);
	policy_free(p);
	return 0;
}
