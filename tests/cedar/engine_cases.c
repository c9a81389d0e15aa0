/*
 * engine_cases.c - run the real policy engine on the cases of a JSON file,
 * for the differential test against Cedar (tests/cedar/diff.mjs) and the
 * benchmark (scripts/bench-policy).
 *
 *   engine_cases POLICY.json CASES.json
 *
 * CASES.json is {"worlds": [WORLD, ...]}, each WORLD an object
 *
 *   {"orgs": [ORG, ...], "advs": [ADV, ...], "cases": [[org, adv, t], ...]}
 *
 *   ORG  {"slug": s, "sectors": [name...],
 *         "roles": [{"role": name, "from": T, "until": T}...],
 *         "member_of": [{"org": index, "from": T, "until": T}...]}
 *   ADV  {"id": s, "tlp": 0-4, "status": 0-2, "personal_data": b,
 *         "impact": b, "initial_release": t, "embargo_until": T,
 *         "withdrawn_at": T, "concerns": [index...], "sectors": [name...],
 *         "shares": [{"org": index, "at": t}...]}
 *
 * where t is seconds since the epoch and T is t or null (an open end; for
 * embargo_until and withdrawn_at: none).  orgs[0] must be the public
 * pseudo-recipient "public"; orgs[1..] must be sorted by slug and advs by
 * id (world_build.h): the file's indices are the world's indices, so the
 * driver checks this order rather than sorting.  It sorts concerns and
 * shares itself (that changes no index).  Roles and sectors are names of
 * the policy's vocabulary.
 *
 * Output, one line per case, in file order:
 *
 *   WORLD CASE permit|deny ID,ID,...     (or "-" for no determining rule)
 *
 * with the determining rules in the order policy_decide() reports them.
 * Exit status 0, or 1 with a message on stderr for any malformed input.
 */
#include "policy.h"
#include "world.h"
#include "world_build.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("engine_cases: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("%s: cannot open", path);
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	if (!buf)
		die("out of memory");
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				die("out of memory");
			buf = nb;
		}
	}
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

static void *xalloc(struct world *w, size_t n)
{
	void *p = world_alloc(w, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static const cJSON *member(const cJSON *obj, const char *key, const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		die("%s: missing \"%s\"", where, key);
	return v;
}

static const cJSON *array(const cJSON *obj, const char *key, const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return NULL; /* absent: empty */
	if (!cJSON_IsArray(v))
		die("%s.%s: not an array", where, key);
	return v;
}

/* A whole number of seconds (exact in a double up to 2^53). */
static int64_t num(const cJSON *v, const char *where)
{
	if (!cJSON_IsNumber(v))
		die("%s: not a number", where);
	double d = v->valuedouble;
	if (d < -9007199254740992.0 || d > 9007199254740992.0 || d != (double)(int64_t)d)
		die("%s: not an integer in range", where);
	return (int64_t)d;
}

/* A time or null (then open_value). */
static int64_t time_or(const cJSON *obj, const char *key, int64_t open_value, const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v || cJSON_IsNull(v))
		return open_value;
	return num(v, where);
}

static int flag(const cJSON *obj, const char *key, const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		die("%s.%s: not a boolean", where, key);
	return cJSON_IsTrue(v);
}

static uint32_t index_in(const cJSON *v, uint32_t n, const char *where)
{
	int64_t i = num(v, where);
	if (i < 0 || (uint64_t)i >= n)
		die("%s: index %lld out of range", where, (long long)i);
	return (uint32_t)i;
}

static uint64_t sector_mask(const struct policy *p, const cJSON *arr, const char *where)
{
	uint64_t m = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, arr)
	{
		if (!cJSON_IsString(s))
			die("%s: sector is not a string", where);
		int i = policy_sector_index(p, s->valuestring);
		if (i < 0)
			die("%s: sector '%s' not in the policy's vocabulary", where, s->valuestring);
		m |= (uint64_t)1 << i;
	}
	return m;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static int cmp_share(const void *x, const void *y)
{
	const struct w_share *a = x, *b = y;
	if (a->org != b->org)
		return a->org < b->org ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

static const char *str(const cJSON *obj, const char *key, const char *where)
{
	const cJSON *v = member(obj, key, where);
	if (!cJSON_IsString(v))
		die("%s.%s: not a string", where, key);
	return v->valuestring;
}

static void build_orgs(const struct policy *p, struct world *w, const cJSON *jorgs, int wi)
{
	char where[96];
	int n = cJSON_GetArraySize(jorgs);
	if (n < 1)
		die("worlds[%d].orgs: empty (orgs[0] must be public)", wi);
	w->norgs = (uint32_t)n;
	w->orgs = xalloc(w, sizeof(*w->orgs) * (size_t)n);
	uint32_t *nmem = calloc((size_t)n, sizeof(uint32_t));
	if (!nmem)
		die("out of memory");

	const cJSON *jo = jorgs->child; /* walked in step: cJSON arrays are lists */
	for (int i = 0; i < n; i++, jo = jo->next) {
		struct w_org *o = &w->orgs[i];
		snprintf(where, sizeof(where), "worlds[%d].orgs[%d]", wi, i);
		if (!cJSON_IsObject(jo))
			die("%s: not an object", where);
		o->slug = world_strdup(w, str(jo, "slug", where));
		o->name = o->slug;
		o->id = i;
		o->uid = o->gid = -1;
		if (i == 0) {
			if (strcmp(o->slug, "public") != 0)
				die("%s: orgs[0] must be \"public\"", where);
			continue; /* the public holds nothing (world_build.h) */
		}
		if (i > 1 && strcmp(w->orgs[i - 1].slug, o->slug) >= 0)
			die("%s: slugs must be strictly increasing", where);
		o->sectors = sector_mask(p, array(jo, "sectors", where), where);

		const cJSON *jr = array(jo, "roles", where), *x;
		o->roles = xalloc(w, sizeof(*o->roles) * (size_t)cJSON_GetArraySize(jr));
		cJSON_ArrayForEach(x, jr)
		{
			struct w_role *r = &o->roles[o->nroles++];
			int ri = policy_role_index(p, str(x, "role", where));
			if (ri < 0)
				die("%s: role not in the policy's vocabulary", where);
			r->role = (uint8_t)ri;
			r->from = time_or(x, "from", AU_T_MIN, where);
			r->until = time_or(x, "until", AU_T_MAX, where);
		}

		const cJSON *jm = array(jo, "member_of", where);
		o->member_of = xalloc(w, sizeof(*o->member_of) * (size_t)cJSON_GetArraySize(jm));
		cJSON_ArrayForEach(x, jm)
		{
			struct w_member *m = &o->member_of[o->nmember_of++];
			m->org = index_in(member(x, "org", where), (uint32_t)n, where);
			if (m->org == W_PUBLIC)
				die("%s: membership of the public", where);
			m->from = time_or(x, "from", AU_T_MIN, where);
			m->until = time_or(x, "until", AU_T_MAX, where);
			nmem[m->org]++;
		}
	}
	/* The reverse relation: each schakelorganisatie's constituency. */
	for (int i = 0; i < n; i++)
		w->orgs[i].members = xalloc(w, sizeof(struct w_member) * nmem[i]);
	for (uint32_t i = 1; i < (uint32_t)n; i++)
		for (uint32_t k = 0; k < w->orgs[i].nmember_of; k++) {
			struct w_member m = w->orgs[i].member_of[k];
			struct w_org *s = &w->orgs[m.org];
			m.org = i;
			s->members[s->nmembers++] = m;
		}
	free(nmem);
}

static void build_advs(const struct policy *p, struct world *w, const cJSON *jadvs, int wi)
{
	char where[96];
	int n = cJSON_GetArraySize(jadvs);
	w->nadvs = (uint32_t)n;
	w->advs = xalloc(w, sizeof(*w->advs) * (size_t)n);
	const cJSON *ja = jadvs->child;
	for (int i = 0; i < n; i++, ja = ja->next) {
		struct w_adv *a = &w->advs[i];
		snprintf(where, sizeof(where), "worlds[%d].advs[%d]", wi, i);
		if (!cJSON_IsObject(ja))
			die("%s: not an object", where);
		a->id = i + 1;
		a->version_id = i + 1;
		a->tracking_id = world_strdup(w, str(ja, "id", where));
		if (i > 0 && strcmp(w->advs[i - 1].tracking_id, a->tracking_id) >= 0)
			die("%s: ids must be strictly increasing", where);
		a->version = "1";
		a->filename = a->tracking_id;
		a->title = a->tracking_id;
		int64_t tlp = num(member(ja, "tlp", where), where);
		int64_t status = num(member(ja, "status", where), where);
		if (tlp < 0 || tlp > 4 || status < 0 || status > 2)
			die("%s: tlp or status out of range", where);
		a->tlp = (uint8_t)tlp;
		a->status = (uint8_t)status;
		a->personal_data = (uint8_t)flag(ja, "personal_data", where);
		a->impact_significant = (uint8_t)flag(ja, "impact", where);
		a->initial_release = a->current_release =
			num(member(ja, "initial_release", where), where);
		a->embargo_until = time_or(ja, "embargo_until", AU_T_MIN, where);
		a->withdrawn_at = time_or(ja, "withdrawn_at", AU_T_MAX, where);
		a->sectors = sector_mask(p, array(ja, "sectors", where), where);

		const cJSON *jc = array(ja, "concerns", where), *x;
		a->concerns = xalloc(w, sizeof(uint32_t) * (size_t)cJSON_GetArraySize(jc));
		cJSON_ArrayForEach(x, jc)
		{
			uint32_t o = index_in(x, w->norgs, where);
			for (uint32_t k = 0; k < a->nconcerns; k++)
				if (a->concerns[k] == o)
					die("%s: organisation %u concerned twice", where, o);
			a->concerns[a->nconcerns++] = o;
		}
		qsort(a->concerns, a->nconcerns, sizeof(uint32_t), cmp_u32);

		const cJSON *js = array(ja, "shares", where);
		a->shares = xalloc(w, sizeof(struct w_share) * (size_t)cJSON_GetArraySize(js));
		cJSON_ArrayForEach(x, js)
		{
			struct w_share *s = &a->shares[a->nshares++];
			s->org = index_in(member(x, "org", where), w->norgs, where);
			s->at = num(member(x, "at", where), where);
		}
		qsort(a->shares, a->nshares, sizeof(struct w_share), cmp_share);
	}
}

static void run_cases(const struct policy *p, const struct world *w, const cJSON *jcases, int wi)
{
	char where[96];
	const cJSON *c;
	int ci = 0;
	cJSON_ArrayForEach(c, jcases)
	{
		snprintf(where, sizeof(where), "worlds[%d].cases[%d]", wi, ci);
		if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != 3)
			die("%s: not [org, adv, t]", where);
		uint32_t org = index_in(cJSON_GetArrayItem(c, 0), w->norgs, where);
		uint32_t adv = index_in(cJSON_GetArrayItem(c, 1), w->nadvs, where);
		int64_t t = num(cJSON_GetArrayItem(c, 2), where);

		struct pol_rctx ctx;
		struct pol_decision d;
		policy_rctx_init(p, w, org, t, &ctx);
		policy_decide(p, &ctx, adv, &d);
		printf("%d %d %s ", wi, ci, d.permit ? "permit" : "deny");
		if (!d.nrules)
			putchar('-');
		for (uint16_t i = 0; i < d.nrules; i++)
			printf("%s%s", i ? "," : "", policy_rule_id(p, d.rules[i]));
		putchar('\n');
		ci++;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: engine_cases POLICY.json CASES.json\n");
		return 2;
	}
	size_t plen, clen;
	char *ptext = slurp(argv[1], &plen);
	char err[512];
	struct policy *p = NULL;
	if (policy_compile(ptext, plen, &p, err, sizeof(err)))
		die("%s: %s", argv[1], err);
	free(ptext);

	char *ctext = slurp(argv[2], &clen);
	cJSON *doc = cJSON_ParseWithLength(ctext, clen);
	free(ctext);
	if (!doc)
		die("%s: invalid JSON", argv[2]);
	const cJSON *worlds = cJSON_GetObjectItemCaseSensitive(doc, "worlds");
	if (!cJSON_IsArray(worlds))
		die("%s: no \"worlds\" array", argv[2]);

	static char outbuf[1 << 16];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	const cJSON *jw;
	int wi = 0;
	cJSON_ArrayForEach(jw, worlds)
	{
		char where[32];
		snprintf(where, sizeof(where), "worlds[%d]", wi);
		struct world *w = world_new();
		if (!w)
			die("out of memory");
		w->asof = AU_T_MAX;
		const cJSON *jorgs = member(jw, "orgs", where);
		const cJSON *jadvs = member(jw, "advs", where);
		if (!cJSON_IsArray(jorgs) || !cJSON_IsArray(jadvs))
			die("%s: orgs and advs must be arrays", where);
		build_orgs(p, w, jorgs, wi);
		build_advs(p, w, jadvs, wi);
		const cJSON *jcases = array(jw, "cases", where);
		run_cases(p, w, jcases, wi);
		world_free(w);
		wi++;
	}
	cJSON_Delete(doc);
	policy_free(p);
	if (fflush(stdout) || ferror(stdout))
		die("write error");
	return 0;
}
