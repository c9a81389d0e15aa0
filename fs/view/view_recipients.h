/*
 * view_recipients.h - the other direction of a view: for one advisory at
 * a moment, every organisation whose directory holds it, and why the
 * others' do not (`advisoryfs recipients`, `publish --dry-run`).
 *
 * Decided exactly as view_build() decides each document of a directory
 * (policy_rctx_init() for the organisation at t, then policy_decide()), so
 * that an organisation is listed here exactly when `visible` and the mount
 * show it the advisory.
 */
#ifndef ADVISORYFS_VIEW_RECIPIENTS_H
#define ADVISORYFS_VIEW_RECIPIENTS_H

#include <stdint.h>

#include "policy.h"
#include "world.h"

struct view_recipient {
	uint32_t org;               /* index into world.orgs (0: the public view) */
	struct pol_decision dec;    /* the permit and its determining rules */
};

/* Those that may not, grouped by the rules that blocked them: the same
 * determining rules (dec.nrules 0: no permit applies, default deny). */
struct view_blocked {
	struct pol_decision dec;
	uint32_t count;
	uint32_t first_org;         /* one of them, the first by slug */
};

struct view_recipients {
	uint32_t adv;
	int64_t t;
	uint32_t norgs;             /* every recipient decided, the public view included */
	struct view_recipient *ok;  /* in world order (public first, then by slug) */
	uint32_t nok;
	struct view_blocked *blocked;   /* most blocked first */
	uint32_t nblocked;
};

/*
 * Decide advisory adv (index into w->advs) for every recipient of w at t.
 * 0 with *ret filled (view_recipients_release()), -EINVAL for an adv out
 * of range, -ENOMEM.
 */
int view_recipients(const struct policy *p, const struct world *w, uint32_t adv, int64_t t,
		    struct view_recipients *ret);
void view_recipients_release(struct view_recipients *r);

#endif
