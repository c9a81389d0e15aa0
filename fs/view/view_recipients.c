/*
 * view_recipients.c - who may receive one advisory at a moment
 * (view_recipients.h): every recipient of the world decided with the
 * engine's one path, the refusals counted by their blocking rules.
 */
#include "view_recipients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int same_rules(const struct pol_decision *a, const struct pol_decision *b)
{
	return a->nrules == b->nrules && !memcmp(a->rules, b->rules, a->nrules * sizeof(a->rules[0]));
}

static int cmp_blocked(const void *a, const void *b)
{
	const struct view_blocked *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->first_org < y->first_org ? -1 : x->first_org > y->first_org;
}

int view_recipients(const struct policy *p, const struct world *w, uint32_t adv, int64_t t,
		    struct view_recipients *ret)
{
	struct view_recipients r = { .adv = adv, .t = t, .norgs = w->norgs };
	size_t cap_ok = 0, cap_bl = 0;
	if (adv >= w->nadvs)
		return -EINVAL;
	for (uint32_t org = 0; org < w->norgs; org++) {
		struct pol_rctx ctx;
		struct pol_decision dec;
		policy_rctx_init(p, w, org, t, &ctx);
		policy_decide(p, &ctx, adv, &dec);
		if (dec.permit) {
			struct view_recipient *n = au_grow(r.ok, &cap_ok, r.nok + 1, sizeof(*n), 64);
			if (!n)
				goto nomem;
			r.ok = n;
			r.ok[r.nok++] = (struct view_recipient){ org, dec };
			continue;
		}
		/* few distinct groups: a policy has a handful of forbids */
		uint32_t g = 0;
		while (g < r.nblocked && !same_rules(&r.blocked[g].dec, &dec))
			g++;
		if (g == r.nblocked) {
			struct view_blocked *n = au_grow(r.blocked, &cap_bl, r.nblocked + 1,
							 sizeof(*n), 16);
			if (!n)
				goto nomem;
			r.blocked = n;
			r.blocked[r.nblocked++] = (struct view_blocked){ dec, 0, org };
		}
		r.blocked[g].count++;
	}
	if (r.nblocked > 1)
		qsort(r.blocked, r.nblocked, sizeof(*r.blocked), cmp_blocked);
	*ret = r;
	return 0;
nomem:
	view_recipients_release(&r);
	return -ENOMEM;
}

void view_recipients_release(struct view_recipients *r)
{
	if (!r)
		return;
	free(r->ok);
	free(r->blocked);
	r->ok = NULL;
	r->blocked = NULL;
	r->nok = r->nblocked = 0;
}
