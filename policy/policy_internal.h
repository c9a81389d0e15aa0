/*
 * policy_internal.h - the compiled form of a policy, shared by the files of
 * the policy engine (policy.c: compiler and accessors; policy_eval.c:
 * decisions and time boundaries; policy_explain.c: explanations).  Not
 * part of the engine's interface: nothing outside policy/ includes it.
 *
 * A decision works on one 64-bit fact vector per (recipient, advisory, t):
 *
 *   bits  0..4   TLP, one-hot (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)
 *   bits  5..7   status, one-hot (draft, interim, final)
 *   bits  8..13  personal_data, impact_significant, general, released,
 *                embargoed, withdrawn
 *   bits 14..18  concerns_self, concerns_sector, concerns_org_in_sector,
 *                concerns_member, shared_with_recipient
 *   bit  19      public
 *   bits 20..63  "dynamic" atoms, one per distinct parameterised condition
 *                of the policy (role set, sector set, reached_by set, time
 *                range: known from the recipient and t; advisory_sector
 *                set: known from the advisory)
 *
 * Each rule is compiled into a disjunction of clauses; a clause holds when
 * every bit of must is set and no bit of mustnot is.  The TLP and status
 * groups are one-hot, so "tlp is one of S" is the single clause "none of
 * the other labels", and the compiler uses that to drop impossible clauses.
 */
#ifndef ADVISORYFS_POLICY_INTERNAL_H
#define ADVISORYFS_POLICY_INTERNAL_H

#include <stdint.h>

#include "policy.h"
#include "util.h"

/* Limits of a policy document (docs/advisoryfs-policy.5, LIMITS). */
#define POL_MAX_DEPTH      32   /* JSON nesting */
#define POL_MAX_CLAUSES    64   /* clauses of one rule or named condition, after expansion */
#define POL_MAX_CONDS      64   /* named conditions */
#define POL_MAX_USE_DEPTH  16   /* chain of "use" references */
#define POL_MAX_ID         64   /* rule id, condition name */
#define POL_MAX_NAME       32   /* role and sector names */
#define POL_MAX_TEXT       4096 /* basis, description, one note */
#define POL_MAX_NOTES      32   /* notes per object */
#define POL_NBUILTIN       3

/* Fixed fact bits. */
enum pol_fact {
	PF_TLP0 = 0,
	PF_STATUS0 = 5,
	PF_PD = 8,
	PF_IMPACT = 9,
	PF_GENERAL = 10,
	PF_RELEASED = 11,
	PF_EMBARGOED = 12,
	PF_WITHDRAWN = 13,
	PF_SELF = 14,
	PF_CSECTOR = 15,
	PF_ORG_IN_SECTOR = 16,
	PF_MEMBER = 17,
	PF_SHARED = 18,
	PF_PUBLIC = 19,
	PF_DYN0 = 20,
	PF_NBITS = 64,
};

#define PF_BIT(b) ((uint64_t)1 << (b))
#define PF_TLP_MASK ((uint64_t)0x1f << PF_TLP0)
#define PF_STATUS_MASK ((uint64_t)0x7 << PF_STATUS0)
#define POL_NTLP 5
#define POL_NSTATUS 3

/* Atoms: the leaves of a condition. */
enum pol_atom {
	PA_ROLE,            /* set of roles; recipient holds one at t */
	PA_SECTOR,          /* set of sectors; recipient has one */
	PA_PUBLIC,          /* bool */
	PA_REACHED_BY,      /* set of roles; member at t of an org holding one at t */
	PA_TIME,            /* from <= t <= until */
	PA_TLP,             /* set of TLP labels */
	PA_STATUS,          /* set of statuses */
	PA_PD,
	PA_IMPACT,
	PA_GENERAL,
	PA_ADV_SECTOR,      /* set of sectors; advisory concerns one */
	PA_RELEASED,
	PA_EMBARGOED,
	PA_WITHDRAWN,
	PA_SHARED,
	PA_SELF,
	PA_CSECTOR,
	PA_ORG_IN_SECTOR,
	PA_MEMBER,
	PA_NATOMS,
};

/* Condition tree, kept for explanations (decisions use the clauses). */
enum pol_op { PN_ALL, PN_ANY, PN_NOT, PN_USE, PN_ATOM };

struct pol_node {
	uint8_t op;              /* enum pol_op */
	uint8_t atom;            /* PN_ATOM: enum pol_atom */
	uint8_t want;            /* boolean atoms: the value required */
	uint8_t bit;             /* PN_ATOM: its fact bit */
	uint64_t set;            /* role, sector, TLP or status set */
	int64_t from, until;     /* PA_TIME */
	const char *key;         /* the JSON key it was written under, or NULL */
	int cond;                /* PN_USE: index of the named condition */
	uint32_t nkids;
	struct pol_node **kids;  /* PN_ALL/PN_ANY: nkids; PN_NOT: 1 */
};

struct pol_clause {
	uint64_t must, mustnot;
};

/* A dynamic atom (fact bit PF_DYN0 + index). */
struct pol_dyn {
	uint8_t atom;            /* PA_ROLE, PA_SECTOR, PA_REACHED_BY, PA_TIME, PA_ADV_SECTOR */
	uint64_t set;
	int64_t from, until;
};

struct pol_rule {
	const char *id;
	const char *basis;
	const char *description; /* may be NULL */
	const char **notes;
	uint32_t nnotes;
	int forbid;
	int64_t from, until;     /* validity, inclusive; AU_T_MIN/AU_T_MAX open */
	struct pol_node *when;   /* NULL: always */
	uint32_t first, nclauses; /* range of policy.clauses */
	/* the fact bits every one of its clauses requires set, and clear: a
	 * decision whose facts miss one of them needs no look at the clauses
	 * (a rule expanded to 46 clauses, each with personal data, is one
	 * test for an advisory without) */
	uint64_t all_must, all_mustnot;
};

struct pol_named {
	const char *name;
	struct pol_node *node;
};

struct policy {
	const char *name;        /* may be NULL */
	const char **roles;
	int nroles;
	const char **sectors;
	int nsectors;
	struct pol_named *conds;
	int nconds;
	struct pol_rule *rules;
	int nrules;
	struct pol_clause *clauses;  /* all rules' clauses, heap */
	uint32_t nclauses;
	struct pol_dyn dyn[PF_NBITS - PF_DYN0];
	int ndyn;
	uint64_t dyn_recipient;  /* dynamic bits known from the recipient and t */
	uint64_t dyn_advisory;   /* dynamic bits known from the advisory */
	struct au_arena arena;   /* every string, node and table above, but clauses */
};

/* pol_rctx.flags */
#define PR_INVALID            (1u << 31)  /* org out of range: deny all */

/* policy_eval.c */
/* Fact vector of advisory adv for the recipient of ctx at ctx->t, with every
 * fact computed (policy_decide computes some lazily); for policy_explain. */
uint64_t pol_facts_full(const struct policy *p, const struct pol_rctx *ctx, uint32_t adv);
/* Whether org holds a role of set at t. */
int pol_holds_role(const struct w_org *o, uint64_t set, int64_t t);

/* policy.c */
/* Ids of the built-in guards, by index 0..POL_NBUILTIN-1. */
extern const char *const pol_builtin_id[POL_NBUILTIN];
extern const char *const pol_builtin_basis[POL_NBUILTIN];
extern const char *const pol_tlp_names[POL_NTLP];
extern const char *const pol_status_names[POL_NSTATUS];
extern const char *const pol_atom_keys[PA_NATOMS];

#endif
