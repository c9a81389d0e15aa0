/*
 * policy_eval.c - decisions: recipient contexts, the fact vector of one
 * (recipient, advisory, t), rule matching, and the next time boundary.
 *
 * The hot path is policy_decide(): it reads the compiled policy and the
 * world, both read-only, and writes only its result, so any number of
 * threads may call it at once.  It allocates nothing and compares no
 * strings.  Everything that depends only on the recipient and t (roles
 * held, memberships, the rules in force, time conditions) was folded by
 * policy_rctx_init() into the context, including which rules can still
 * apply to this recipient at all (rule_live), so an advisory costs a few
 * loads, one pass over the live rules' clauses, and walks the concerned
 * organisations, memberships or shares only when a clause that could
 * otherwise hold needs them.
 */
#include "policy.h"
#include "policy_internal.h"
#include "util.h"

#include <string.h>

static inline int in_period(int64_t t, int64_t from, int64_t until)
{
	return from <= t && t <= until;
}

/* Bitmask of the roles (< W_MAX_ROLES) org holds at t. */
static uint32_t roles_at(const struct w_org *o, int64_t t)
{
	uint32_t m = 0;
	for (uint32_t i = 0; i < o->nroles; i++) {
		const struct w_role *r = &o->roles[i];
		if (r->role < W_MAX_ROLES && in_period(t, r->from, r->until))
			m |= (uint32_t)1 << r->role;
	}
	return m;
}

int pol_holds_role(const struct w_org *o, uint64_t set, int64_t t)
{
	return (roles_at(o, t) & set) != 0;
}

/* Roles held at t by the organisations org is, at t, a member of. */
static uint32_t reached_roles(const struct world *w, const struct w_org *o, int64_t t)
{
	uint32_t m = 0;
	for (uint32_t i = 0; i < o->nmember_of; i++) {
		const struct w_member *mb = &o->member_of[i];
		if (mb->org < w->norgs && in_period(t, mb->from, mb->until))
			m |= roles_at(&w->orgs[mb->org], t);
	}
	return m;
}

void policy_rctx_init(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
		      struct pol_rctx *ret_ctx)
{
	struct pol_rctx c;
	memset(&c, 0, sizeof(c));
	c.w = w;
	c.org = org;
	c.t = t;
	if (!w || org >= w->norgs) {
		c.flags = PR_INVALID;
		*ret_ctx = c;
		return;
	}
	const struct w_org *o = &w->orgs[org];
	uint32_t reached = 0;
	if (org != W_PUBLIC) {
		c.roles = roles_at(o, t);
		c.sectors = o->sectors;
		reached = reached_roles(w, o, t);
	}

	uint64_t f = org == W_PUBLIC ? PF_BIT(PF_PUBLIC) : 0;
	for (int i = 0; i < p->ndyn; i++) {
		const struct pol_dyn *d = &p->dyn[i];
		int v = 0;
		switch (d->atom) {
		case PA_ROLE:
			v = (c.roles & d->set) != 0;
			break;
		case PA_SECTOR:
			v = (c.sectors & d->set) != 0;
			break;
		case PA_REACHED_BY:
			v = (reached & d->set) != 0;
			break;
		case PA_TIME:
			v = in_period(t, d->from, d->until);
			break;
		default:
			break; /* advisory atoms: per decision */
		}
		if (v)
			f |= PF_BIT(PF_DYN0 + i);
	}
	c.facts = f;

	/* A clause can still hold for this recipient if its recipient bits agree. */
	uint64_t rmask = PF_BIT(PF_PUBLIC) | p->dyn_recipient;
	for (int r = 0; r < p->nrules; r++) {
		const struct pol_rule *ru = &p->rules[r];
		if (!in_period(t, ru->from, ru->until))
			continue;
		c.rule_active[r / 64] |= (uint64_t)1 << (r % 64);
		int live = 0;
		for (uint32_t i = 0; i < ru->nclauses; i++) {
			const struct pol_clause *k = &p->clauses[ru->first + i];
			if ((k->must & rmask & ~f) || (k->mustnot & rmask & f))
				continue;
			live = 1;
			break;
		}
		if (live)
			c.rule_live[r / 64] |= (uint64_t)1 << (r % 64);
	}
	*ret_ctx = c;
}

/* Whether the sorted array a[0..n) holds x. */
static int sorted_has(const uint32_t *a, uint32_t n, uint32_t x)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a[mid] == x)
			return 1;
		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Whether a share of a with org was recorded at or before t (shares are
 * sorted by org; one org may have several). */
static int shared_with(const struct w_adv *a, uint32_t org, int64_t t)
{
	uint32_t lo = 0, hi = a->nshares;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a->shares[mid].org < org)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < a->nshares && a->shares[i].org == org; i++)
		if (a->shares[i].at <= t)
			return 1;
	return 0;
}

/* Fact bits computed only when a clause needs them (see policy_decide). */
#define PF_LAZY (PF_BIT(PF_SELF) | PF_BIT(PF_ORG_IN_SECTOR) | PF_BIT(PF_MEMBER) | PF_BIT(PF_SHARED))

/*
 * The facts of advisory a that cost a few loads: TLP, status, flags,
 * dates, concerned sectors, plus the recipient's facts from ctx.  An
 * out-of-range TLP reads as RED and an out-of-range status as draft, the
 * most restrictive values, so that the one-hot encoding always holds.
 */
static inline uint64_t cheap_facts(const struct pol_rctx *ctx, const struct w_adv *a)
{
	const int64_t t = ctx->t;
	unsigned tlp = a->tlp < POL_NTLP ? a->tlp : POL_NTLP - 1;
	unsigned st = a->status < POL_NSTATUS ? a->status : 0;
	uint64_t f = ctx->facts | PF_BIT(PF_TLP0 + tlp) | PF_BIT(PF_STATUS0 + st);

	if (a->personal_data)
		f |= PF_BIT(PF_PD);
	if (a->impact_significant)
		f |= PF_BIT(PF_IMPACT);
	if (!a->nconcerns && !a->sectors)
		f |= PF_BIT(PF_GENERAL);
	if (t >= a->initial_release)
		f |= PF_BIT(PF_RELEASED);
	if (t < a->embargo_until)
		f |= PF_BIT(PF_EMBARGOED);
	if (t >= a->withdrawn_at)
		f |= PF_BIT(PF_WITHDRAWN);
	if (a->sectors & ctx->sectors)
		f |= PF_BIT(PF_CSECTOR);
	return f;
}

/*
 * The facts among want (a subset of PF_LAZY and the advisory's dynamic
 * bits) that hold: they walk the concerned organisations, their
 * memberships or the shares.
 */
static uint64_t lazy_facts(const struct policy *p, const struct pol_rctx *ctx,
			   const struct w_adv *a, uint64_t want)
{
	const struct world *w = ctx->w;
	const int64_t t = ctx->t;
	uint64_t f = 0;

	if ((want & PF_BIT(PF_SELF)) && sorted_has(a->concerns, a->nconcerns, ctx->org))
		f |= PF_BIT(PF_SELF);
	if ((want & PF_BIT(PF_ORG_IN_SECTOR)) && ctx->sectors) {
		for (uint32_t i = 0; i < a->nconcerns; i++) {
			uint32_t o = a->concerns[i];
			if (o < w->norgs && (w->orgs[o].sectors & ctx->sectors)) {
				f |= PF_BIT(PF_ORG_IN_SECTOR);
				break;
			}
		}
	}
	if (want & PF_BIT(PF_MEMBER)) {
		for (uint32_t i = 0; i < a->nconcerns && !(f & PF_BIT(PF_MEMBER)); i++) {
			uint32_t o = a->concerns[i];
			if (o >= w->norgs)
				continue;
			const struct w_org *co = &w->orgs[o];
			for (uint32_t k = 0; k < co->nmember_of; k++) {
				const struct w_member *m = &co->member_of[k];
				if (m->org == ctx->org && in_period(t, m->from, m->until)) {
					f |= PF_BIT(PF_MEMBER);
					break;
				}
			}
		}
	}
	if ((want & PF_BIT(PF_SHARED)) && shared_with(a, ctx->org, t))
		f |= PF_BIT(PF_SHARED);
	if (want & p->dyn_advisory) {
		for (int i = 0; i < p->ndyn; i++)
			if ((want & PF_BIT(PF_DYN0 + i)) && (a->sectors & p->dyn[i].set))
				f |= PF_BIT(PF_DYN0 + i);
	}
	return f;
}

uint64_t pol_facts_full(const struct policy *p, const struct pol_rctx *ctx, uint32_t adv)
{
	const struct w_adv *a = &ctx->w->advs[adv];
	return cheap_facts(ctx, a) | lazy_facts(p, ctx, a, PF_LAZY | p->dyn_advisory);
}

/*
 * Decide with lazily computed facts: a clause is first tested on the bits
 * already known; only if that part holds are the relations it still
 * needs computed (once per decision).  Most clauses fail on a cheap bit
 * (TLP, personal data, a role), so most decisions never walk the
 * concerned organisations.  The result is the same as testing every
 * clause against the full fact vector.
 */
void policy_decide(const struct policy *p, const struct pol_rctx *ctx, uint32_t adv,
		   struct pol_decision *ret_dec)
{
	struct pol_decision d;
	uint16_t permits[POL_MAX_DET];
	uint16_t np = 0;
	int nforbid = 0, permit = 0;

	d.permit = 0;
	d.nrules = 0;
	if ((ctx->flags & PR_INVALID) || adv >= ctx->w->nadvs) {
		*ret_dec = d;
		return;
	}
	const struct w_adv *a = &ctx->w->advs[adv];
	uint64_t f = cheap_facts(ctx, a);
	uint64_t known = ~(PF_LAZY | p->dyn_advisory);

	for (int wi = 0; wi < (POL_MAX_RULES + 63) / 64; wi++) {
		uint64_t bits = ctx->rule_live[wi];
		while (bits) {
			int r = wi * 64 + __builtin_ctzll(bits);
			bits &= bits - 1;
			const struct pol_rule *ru = &p->rules[r];
			const struct pol_clause *k = p->clauses + ru->first;
			int match = 0;
			if ((f & ru->all_must & known) != (ru->all_must & known) ||
			    (f & ru->all_mustnot & known))
				continue; /* no clause can hold */
			for (uint32_t i = 0; i < ru->nclauses && !match; i++) {
				uint64_t must = k[i].must, mustnot = k[i].mustnot;
				if ((f & must & known) != (must & known) || (f & mustnot & known))
					continue;
				uint64_t miss = (must | mustnot) & ~known;
				if (miss) {
					f |= lazy_facts(p, ctx, a, miss);
					known |= miss;
				}
				match = (f & must) == must && !(f & mustnot);
			}
			if (!match)
				continue;
			if (ru->forbid) {
				nforbid = 1;
				if (d.nrules < POL_MAX_DET)
					d.rules[d.nrules++] = (uint16_t)r;
			} else {
				permit = 1;
				if (np < POL_MAX_DET)
					permits[np++] = (uint16_t)r;
			}
		}
	}
	if (nforbid) {
		*ret_dec = d;
		return;
	}
	if (!(f & PF_BIT(PF_RELEASED)))
		d.rules[d.nrules++] = (uint16_t)(p->nrules + POL_BUILTIN_NOT_RELEASED);
	if (f & PF_BIT(PF_EMBARGOED))
		d.rules[d.nrules++] = (uint16_t)(p->nrules + POL_BUILTIN_EMBARGO);
	if (f & PF_BIT(PF_WITHDRAWN))
		d.rules[d.nrules++] = (uint16_t)(p->nrules + POL_BUILTIN_WITHDRAWN);
	if (d.nrules || !permit) {
		*ret_dec = d;
		return;
	}
	d.permit = 1;
	d.nrules = np;
	memcpy(d.rules, permits, np * sizeof(permits[0]));
	*ret_dec = d;
}

/* ---- time boundaries ---- */

static void bnd(int64_t *best, int64_t t, int64_t b)
{
	if (b > t && b < *best)
		*best = b;
}

/* An inclusive period changes at from and just after until. */
static void bnd_period(int64_t *best, int64_t t, int64_t from, int64_t until)
{
	if (from != AU_T_MIN)
		bnd(best, t, from);
	if (until != AU_T_MAX)
		bnd(best, t, until + 1);
}

int64_t policy_next_boundary(const struct policy *p, const struct world *w, int64_t t)
{
	int64_t best = AU_T_MAX;
	if (p) {
		for (int r = 0; r < p->nrules; r++)
			bnd_period(&best, t, p->rules[r].from, p->rules[r].until);
		for (int i = 0; i < p->ndyn; i++)
			if (p->dyn[i].atom == PA_TIME)
				bnd_period(&best, t, p->dyn[i].from, p->dyn[i].until);
	}
	if (!w)
		return best;
	for (uint32_t o = 0; o < w->norgs; o++) {
		const struct w_org *org = &w->orgs[o];
		for (uint32_t i = 0; i < org->nroles; i++)
			bnd_period(&best, t, org->roles[i].from, org->roles[i].until);
		for (uint32_t i = 0; i < org->nmember_of; i++)
			bnd_period(&best, t, org->member_of[i].from, org->member_of[i].until);
		for (uint32_t i = 0; i < org->nmembers; i++)
			bnd_period(&best, t, org->members[i].from, org->members[i].until);
	}
	for (uint32_t i = 0; i < w->nadvs; i++) {
		const struct w_adv *a = &w->advs[i];
		bnd(&best, t, a->initial_release);
		bnd(&best, t, a->current_release);
		if (a->embargo_until != AU_T_MIN)
			bnd(&best, t, a->embargo_until);
		if (a->withdrawn_at != AU_T_MAX)
			bnd(&best, t, a->withdrawn_at);
		for (uint32_t k = 0; k < a->nshares; k++)
			bnd(&best, t, a->shares[k].at);
	}
	return best;
}
