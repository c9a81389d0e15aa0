/*
 * policy.h - the policy engine: compile a JSON policy, decide, explain.
 *
 * A policy is a JSON document (syntax in docs/advisoryfs-policy.5): a
 * vocabulary of roles and sectors and a list of rules, each with an id, an
 * effect (permit or forbid), a legal basis and an optional validity period,
 * and conditions over the recipient, the advisory and the time.  Default
 * deny; a forbid wins over any permit; a decision names the rules that
 * determined it (the forbids that blocked it, else the permits that
 * allowed it).
 *
 * policy_compile() turns the JSON into tables of bitmasks; policy_decide()
 * then evaluates without allocating, locking or comparing strings, and is
 * safe to call from many threads at once on the same compiled policy and
 * world (both are read-only after construction).
 */
#ifndef ADVISORYFS_POLICY_H
#define ADVISORYFS_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "world.h"

#define POL_MAX_BYTES   (1u << 20)  /* policy document */
#define POL_MAX_RULES   256
#define POL_MAX_DET     16          /* determining rule ids kept per decision */

struct policy;

/*
 * Compile a policy document of len bytes (no NUL needed or allowed inside).
 * On error returns -EINVAL (-E2BIG for a limit, -ENOMEM), leaves
 * *ret_policy untouched and writes "<json path>: <why>" into err, for
 * example "$.rules[3].when.tlp: unknown label 'PURPLE'" (err may be NULL).
 * The caller owns *ret_policy and frees it with policy_free(), which
 * accepts NULL.  Syntax, semantics and limits: advisoryfs-policy(5).
 */
int policy_compile(const char *json, size_t len, struct policy **ret_policy, char *err,
		   size_t errlen);
void policy_free(struct policy *p);

/* Vocabulary: index of a role or sector name, or -1 when undeclared. */
int policy_role_index(const struct policy *p, const char *name);
int policy_sector_index(const struct policy *p, const char *name);
const char *policy_role_name(const struct policy *p, int i);
const char *policy_sector_name(const struct policy *p, int i);
int policy_nroles(const struct policy *p);
int policy_nsectors(const struct policy *p);
/* Both lists are closed: org role, org add --sector and publish refuse a
 * name the active policy does not declare. */

/*
 * Rules, by index 0..policy_nrules()-1, followed by the built-in guards of
 * SPEC.md section 3 at indices policy_nrules() + POL_BUILTIN_*: they are
 * forbids that no policy can lift, with ids "builtin:not-released",
 * "builtin:embargo" and "builtin:withdrawn".  id and basis return NULL and
 * is_forbid -1 for any other index.  Strings are owned by the policy.
 */
#define POL_BUILTIN_NOT_RELEASED 0  /* t < initial_release */
#define POL_BUILTIN_EMBARGO      1  /* t < embargo_until */
#define POL_BUILTIN_WITHDRAWN    2  /* t >= withdrawn_at */
/* The policy's "name", or "(unnamed)"; owned by the policy. */
const char *policy_name(const struct policy *p);
int policy_nrules(const struct policy *p);
const char *policy_rule_id(const struct policy *p, int rule);
const char *policy_rule_basis(const struct policy *p, int rule);
int policy_rule_is_forbid(const struct policy *p, int rule);
/*
 * Whether a basis text names a file or a path (CONTEXT.md, docs/x, ./y)
 * instead of a public source: 1 with the word copied into what (truncated
 * to whatlen), else 0.  URLs and section numbers are sources.  `policy
 * check` warns about such a basis; it is not an error.
 */
int policy_basis_names_file(const char *basis, char *what, size_t whatlen);
/* Index of the rule (or built-in guard) with this id, or -1. */
int policy_rule_find(const struct policy *p, const char *id);

/*
 * Per-recipient facts at time t, computed once and reused for every
 * advisory of a listing.  Fixed size, no heap; the constituency of a
 * schakelorganisatie is looked up in the world through the recipient.
 * Valid for the policy and world it was made with, while both live.
 */
struct pol_rctx {
	const struct world *w;
	uint32_t org;
	int64_t t;
	uint32_t roles;          /* roles held at t */
	uint64_t sectors;
	uint64_t rule_active[(POL_MAX_RULES + 63) / 64]; /* rules valid at t */
	uint32_t flags;          /* engine-private */
	uint64_t facts;          /* engine-private: fact bits known from recipient and t */
	uint64_t rule_live[(POL_MAX_RULES + 63) / 64];   /* engine-private: valid at t and
	                                                    satisfiable by this recipient */
};

/* Fill *ret_ctx for recipient org (index into w->orgs) at t.  Cannot fail:
 * an org index out of range gives a context under which every decision
 * is deny.  The public pseudo-recipient (orgs[0]) is given no role, no
 * sector and no membership, whatever the world says. */
void policy_rctx_init(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
		      struct pol_rctx *ret_ctx);

struct pol_decision {
	int permit;              /* 1 permit, 0 deny */
	uint16_t nrules;         /* determining rules (forbids if denied by one) */
	uint16_t rules[POL_MAX_DET];
};

/*
 * Decide whether advisory adv (index into w->advs) may be shared with the
 * recipient of ctx at ctx->t.  No allocation, thread-safe.
 *
 * Determining rules, in rule order, at most POL_MAX_DET (more are left
 * out): if a policy forbid applies, deny and every forbid that applies;
 * else if a built-in guard applies, deny and those guards; else if a
 * permit applies, permit and every permit that applies; else deny with
 * nrules 0 (default deny).  An adv out of range is denied with nrules 0.
 */
void policy_decide(const struct policy *p, const struct pol_rctx *ctx, uint32_t adv,
		   struct pol_decision *ret_dec);

/*
 * Explain a decision for a lawyer: the recipient's dated roles and
 * memberships, the advisory's facts, every rule (effect, basis, notes,
 * whether it was in force at t), each condition with the facts that made
 * it true or false, the built-in guards, and the outcome with the
 * determining rules (those of policy_decide()).  Text to f, or JSON when
 * json is set (format in advisoryfs-policy(5)).  Returns 0, -EINVAL for an
 * org or adv out of range, -ENOMEM, or -EIO when writing to f failed.
 */
int policy_explain(const struct policy *p, const struct world *w, uint32_t org, uint32_t adv,
		   int64_t t, int json, FILE *f);

/*
 * The next moment after t at which any decision for this world could
 * change with no store change: a rule's or a time condition's validity
 * start or end, a role's or membership's start or end (an inclusive
 * period [from, until] changes at from and at until + 1), an embargo's
 * end, a withdrawal or share time, an initial or current release date.
 * Returns AU_T_MAX if none.  w may be NULL (the policy's dates only).
 */
int64_t policy_next_boundary(const struct policy *p, const struct world *w, int64_t t);

#endif
