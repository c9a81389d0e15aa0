/*
 * policy_cond.c - conditions of the policy language compiled to clause
 * sets: each condition becomes a disjunction of (must, must-not) pairs of
 * fact bits (disjunctive normal form), simplified as it is built.
 *
 * Sections: clause sets; conditions.  The compiler's state and the
 * helpers it shares with policy.c are in policy_cc.h.
 */
#include "policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_cc.h"
#include "policy_internal.h"
#include "util.h"

/* Fixed fact bit of each boolean atom (-1: parameterised or one-hot). */
static const int atom_fixed_bit[PA_NATOMS] = {
	[PA_ROLE] = -1,
	[PA_SECTOR] = -1,
	[PA_PUBLIC] = PF_PUBLIC,
	[PA_REACHED_BY] = -1,
	[PA_TIME] = -1,
	[PA_TLP] = -1,
	[PA_STATUS] = -1,
	[PA_PD] = PF_PD,
	[PA_IMPACT] = PF_IMPACT,
	[PA_GENERAL] = PF_GENERAL,
	[PA_ADV_SECTOR] = -1,
	[PA_RELEASED] = PF_RELEASED,
	[PA_EMBARGOED] = PF_EMBARGOED,
	[PA_WITHDRAWN] = PF_WITHDRAWN,
	[PA_SHARED] = PF_SHARED,
	[PA_SELF] = PF_SELF,
	[PA_CSECTOR] = PF_CSECTOR,
	[PA_ORG_IN_SECTOR] = PF_ORG_IN_SECTOR,
	[PA_MEMBER] = PF_MEMBER,
};

/* ---- clause sets: a condition in disjunctive normal form ---- */

void pol_dnf_free(struct dnf *d)
{
	free(d->c);
	d->c = NULL;
	d->n = d->cap = 0;
}

/* Append a clause; 0 or -ENOMEM (d unchanged). */
int pol_dnf_push(struct dnf *d, uint64_t must, uint64_t mustnot)
{
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 4;
		struct pol_clause *nc = realloc(d->c, cap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		d->c = nc;
		d->cap = cap;
	}
	d->c[d->n].must = must;
	d->c[d->n].mustnot = mustnot;
	d->n++;
	return 0;
}

/* dst := src; 0 or -ENOMEM. */
static int dnf_copy(struct dnf *dst, const struct dnf *src)
{
	dst->n = 0;
	for (uint32_t i = 0; i < src->n; i++)
		if (pol_dnf_push(dst, src->c[i].must, src->c[i].mustnot))
			return -ENOMEM;
	return 0;
}

static int popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

/*
 * Bring a clause into canonical form, using that TLP and status are
 * one-hot: a group with one must bit needs no mustnot bits, a group with
 * every bit but one excluded is that one bit.  Returns 0 if the clause can
 * never hold.
 */
static int clause_norm(struct pol_clause *k)
{
	static const uint64_t groups[2] = { PF_TLP_MASK, PF_STATUS_MASK };
	if (k->must & k->mustnot)
		return 0;
	for (int g = 0; g < 2; g++) {
		uint64_t G = groups[g];
		uint64_t m = k->must & G;
		if (popcount64(m) > 1)
			return 0;
		if (m) {
			k->mustnot &= ~G;
			continue;
		}
		uint64_t left = G & ~k->mustnot;
		if (!left)
			return 0;
		if (popcount64(left) == 1) {
			k->must |= left;
			k->mustnot &= ~G;
		}
	}
	return 1;
}

/* Whether clause a holds whenever b holds (a is weaker). */
static int clause_implied(const struct pol_clause *a, const struct pol_clause *b)
{
	static const uint64_t groups[2] = { PF_TLP_MASK, PF_STATUS_MASK };
	uint64_t bnot = b->mustnot;
	for (int g = 0; g < 2; g++)
		if (b->must & groups[g])
			bnot |= groups[g] & ~b->must;
	return (a->must & ~b->must) == 0 && (a->mustnot & ~bnot) == 0;
}

/* Drop impossible, duplicate and implied clauses. */
static void dnf_simplify(struct dnf *d)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < d->n; i++)
		if (clause_norm(&d->c[i]))
			d->c[n++] = d->c[i];
	d->n = n;
	for (uint32_t i = 0; i < d->n; i++) {
		int drop = 0;
		for (uint32_t j = 0; j < d->n && !drop; j++) {
			if (i == j || !clause_implied(&d->c[j], &d->c[i]))
				continue;
			/* of two equal clauses keep the first */
			if (!clause_implied(&d->c[i], &d->c[j]) || j < i)
				drop = 1;
		}
		if (drop) {
			d->c[i] = d->c[--d->n];
			i--;
		}
	}
}

static int dnf_check(struct cc *c, const struct dnf *d)
{
	if (d->n > POL_MAX_CLAUSES)
		return pol_cc_fail(c, -E2BIG, "condition expands to more than %d alternatives",
			       POL_MAX_CLAUSES);
	return 0;
}

/* a := a or b */
static int dnf_or(struct cc *c, struct dnf *a, const struct dnf *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (pol_dnf_push(a, b->c[i].must, b->c[i].mustnot))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
	dnf_simplify(a);
	return dnf_check(c, a);
}

/* a := a and b */
static int dnf_and(struct cc *c, struct dnf *a, const struct dnf *b)
{
	struct dnf r = { 0 };
	for (uint32_t i = 0; i < a->n; i++)
		for (uint32_t j = 0; j < b->n; j++) {
			struct pol_clause k = { a->c[i].must | b->c[j].must,
						a->c[i].mustnot | b->c[j].mustnot };
			if (!clause_norm(&k))
				continue;
			if (pol_dnf_push(&r, k.must, k.mustnot)) {
				pol_dnf_free(&r);
				return pol_cc_fail(c, -ENOMEM, "out of memory");
			}
		}
	dnf_simplify(&r);
	pol_dnf_free(a);
	*a = r;
	return dnf_check(c, a);
}

/* a := not a (De Morgan: the product of the negated clauses) */
static int dnf_not(struct cc *c, struct dnf *a)
{
	struct dnf r = { 0 }, neg = { 0 };
	int rc = 0;
	if (pol_dnf_push(&r, 0, 0)) /* true */
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < a->n && !rc; i++) {
		neg.n = 0;
		for (int b = 0; b < PF_NBITS && !rc; b++) {
			if (a->c[i].must & PF_BIT(b))
				rc = pol_dnf_push(&neg, 0, PF_BIT(b));
			else if (a->c[i].mustnot & PF_BIT(b))
				rc = pol_dnf_push(&neg, PF_BIT(b), 0);
		}
		if (rc)
			rc = pol_cc_fail(c, -ENOMEM, "out of memory");
		else
			rc = dnf_and(c, &r, &neg);
	}
	pol_dnf_free(&neg);
	if (rc) {
		pol_dnf_free(&r);
		return rc;
	}
	pol_dnf_free(a);
	*a = r;
	return 0;
}


enum set_kind { SET_ROLE, SET_SECTOR, SET_TLP, SET_STATUS };

/* Index of a name of kind k (role, sector, TLP label, status), or -1. */
static int set_lookup(const struct policy *p, enum set_kind k, const char *s)
{
	switch (k) {
	case SET_ROLE:
		return policy_role_index(p, s);
	case SET_SECTOR:
		return policy_sector_index(p, s);
	case SET_TLP:
		if (strcmp(s, "WHITE") == 0)
			return 0;
		for (int i = 0; i < POL_NTLP; i++)
			if (strcmp(s, pol_tlp_names[i]) == 0)
				return i;
		return -1;
	case SET_STATUS:
		for (int i = 0; i < POL_NSTATUS; i++)
			if (strcmp(s, pol_status_names[i]) == 0)
				return i;
		return -1;
	}
	return -1;
}

/* A name or a non-empty array of names of one kind, as a bit set. */
static int get_set(struct cc *c, const cJSON *j, enum set_kind k, uint64_t *ret_set)
{
	static const char *const what[] = { "role", "sector", "label", "status" };
	char b[64];
	uint64_t set = 0;
	if (cJSON_IsString(j)) {
		int i = set_lookup(c->p, k, j->valuestring);
		if (i < 0)
			return pol_cc_fail(c, -EINVAL, "unknown %s '%s'", what[k], pol_q(j->valuestring, b));
		*ret_set = (uint64_t)1 << i;
		return 0;
	}
	if (!cJSON_IsArray(j) || !j->child)
		return pol_cc_fail(c, -EINVAL, "expected a %s name or a non-empty array of them", what[k]);
	size_t idx = 0;
	for (const cJSON *it = j->child; it; it = it->next, idx++) {
		size_t m = pol_path_idx(c, idx);
		if (!cJSON_IsString(it))
			return pol_cc_fail(c, -EINVAL, "expected a %s name", what[k]);
		int i = set_lookup(c->p, k, it->valuestring);
		if (i < 0)
			return pol_cc_fail(c, -EINVAL, "unknown %s '%s'", what[k], pol_q(it->valuestring, b));
		set |= (uint64_t)1 << i;
		pol_path_set(c, m);
	}
	*ret_set = set;
	return 0;
}

/* The fact bit of a parameterised atom, shared by equal atoms. */
static int dyn_bit(struct cc *c, uint8_t atom, uint64_t set, int64_t from, int64_t until,
		   uint8_t *ret_bit)
{
	struct policy *p = c->p;
	for (int i = 0; i < p->ndyn; i++) {
		const struct pol_dyn *d = &p->dyn[i];
		if (d->atom == atom && d->set == set && d->from == from && d->until == until) {
			*ret_bit = (uint8_t)(PF_DYN0 + i);
			return 0;
		}
	}
	if (p->ndyn == PF_NBITS - PF_DYN0)
		return pol_cc_fail(c, -E2BIG,
			       "more than %d distinct role, sector, reached_by, advisory_sector and "
			       "time conditions",
			       PF_NBITS - PF_DYN0);
	struct pol_dyn *d = &p->dyn[p->ndyn];
	d->atom = atom;
	d->set = set;
	d->from = from;
	d->until = until;
	uint64_t bit = PF_BIT(PF_DYN0 + p->ndyn);
	if (atom == PA_ADV_SECTOR)
		p->dyn_advisory |= bit;
	else
		p->dyn_recipient |= bit;
	*ret_bit = (uint8_t)(PF_DYN0 + p->ndyn);
	p->ndyn++;
	return 0;
}

/* A node in the policy's arena; NULL (error recorded) on out of memory. */
static struct pol_node *node_new(struct cc *c, uint8_t op, const char *key)
{
	struct pol_node *n = pol_alloc(c->p, sizeof(*n));
	if (!n) {
		pol_cc_fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	n->op = op;
	n->key = key;
	n->cond = -1;
	return n;
}

static int atom_of_key(const char *key)
{
	for (int a = 0; a < PA_NATOMS; a++)
		if (strcmp(pol_atom_keys[a], key) == 0)
			return a;
	return -1;
}

/* A leaf: key names the atom, j its parameter. */
static int compile_atom(struct cc *c, int atom, const cJSON *j, struct pol_node *n,
			struct dnf *ret_dnf)
{
	n->op = PN_ATOM;
	n->atom = (uint8_t)atom;
	n->want = 1;
	n->from = AU_T_MIN;
	n->until = AU_T_MAX;
	int rc = 0;
	switch (atom) {
	case PA_ROLE:
	case PA_REACHED_BY:
		rc = get_set(c, j, SET_ROLE, &n->set);
		break;
	case PA_SECTOR:
	case PA_ADV_SECTOR:
		rc = get_set(c, j, SET_SECTOR, &n->set);
		break;
	case PA_TLP:
		rc = get_set(c, j, SET_TLP, &n->set);
		break;
	case PA_STATUS:
		rc = get_set(c, j, SET_STATUS, &n->set);
		break;
	case PA_TIME:
		if (!cJSON_IsObject(j))
			return pol_cc_fail(c, -EINVAL, "expected an object with \"from\" and/or \"until\"");
		{
			static const char *const keys[] = { "from", "until", NULL };
			if (pol_check_keys(c, j, keys, "key"))
				return c->rc;
			if (!j->child)
				return pol_cc_fail(c, -EINVAL, "expected \"from\" and/or \"until\"");
			rc = pol_get_period(c, j, &n->from, &n->until);
		}
		break;
	default:
		if (!cJSON_IsBool(j))
			return pol_cc_fail(c, -EINVAL, "expected true or false");
		n->want = cJSON_IsTrue(j) ? 1 : 0;
		break;
	}
	if (rc)
		return rc;

	uint64_t must = 0, mustnot = 0;
	if (atom == PA_TLP) {
		mustnot = PF_TLP_MASK & ~(n->set << PF_TLP0);
	} else if (atom == PA_STATUS) {
		mustnot = PF_STATUS_MASK & ~(n->set << PF_STATUS0);
	} else if (atom_fixed_bit[atom] >= 0) {
		n->bit = (uint8_t)atom_fixed_bit[atom];
		if (n->want)
			must = PF_BIT(n->bit);
		else
			mustnot = PF_BIT(n->bit);
	} else {
		if (dyn_bit(c, n->atom, n->set, n->from, n->until, &n->bit))
			return c->rc;
		must = PF_BIT(n->bit);
	}
	ret_dnf->n = 0;
	if (pol_dnf_push(ret_dnf, must, mustnot))
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	dnf_simplify(ret_dnf);
	return 0;
}

/* One member of a condition object: a combinator or an atom. */
static int compile_entry(struct cc *c, const cJSON *it, struct pol_node **ret_node,
			 struct dnf *ret_dnf)
{
	char b[64];
	const char *key = it->string;
	struct pol_node *n = node_new(c, PN_ATOM, key);
	if (!n)
		return c->rc;

	if (strcmp(key, "all") == 0 || strcmp(key, "any") == 0) {
		int all = key[1] == 'l';
		n->op = all ? PN_ALL : PN_ANY;
		if (!cJSON_IsArray(it) || !it->child)
			return pol_cc_fail(c, -EINVAL, "expected a non-empty array of conditions");
		uint32_t k = (uint32_t)cJSON_GetArraySize(it);
		n->kids = pol_alloc(c->p, sizeof(*n->kids) * k);
		if (!n->kids)
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		ret_dnf->n = 0;
		if (all && pol_dnf_push(ret_dnf, 0, 0))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		struct dnf sub = { 0 };
		size_t idx = 0;
		for (const cJSON *e = it->child; e; e = e->next, idx++) {
			size_t m = pol_path_idx(c, idx);
			if (pol_compile_cond(c, e, &n->kids[n->nkids], &sub) ||
			    (all ? dnf_and(c, ret_dnf, &sub) : dnf_or(c, ret_dnf, &sub))) {
				pol_dnf_free(&sub);
				return c->rc;
			}
			n->nkids++;
			pol_path_set(c, m);
		}
		pol_dnf_free(&sub);
	} else if (strcmp(key, "not") == 0) {
		n->op = PN_NOT;
		n->kids = pol_alloc(c->p, sizeof(*n->kids));
		if (!n->kids)
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		if (pol_compile_cond(c, it, &n->kids[0], ret_dnf) || dnf_not(c, ret_dnf))
			return c->rc;
		n->nkids = 1;
	} else if (strcmp(key, "use") == 0) {
		n->op = PN_USE;
		if (!cJSON_IsString(it))
			return pol_cc_fail(c, -EINVAL, "expected the name of a condition");
		int idx = -1;
		for (int i = 0; i < c->p->nconds && idx < 0; i++)
			if (strcmp(c->p->conds[i].name, it->valuestring) == 0)
				idx = i;
		if (idx < 0)
			return pol_cc_fail(c, -EINVAL, "unknown condition '%s'", pol_q(it->valuestring, b));
		if (c->named[idx].state == 1) {
			char chain[256];
			size_t cl = 0;
			int from = 0;
			while (c->use_stack[from] != idx)
				from++;
			for (int i = from; i < c->use_depth; i++) {
				int w = snprintf(chain + cl, sizeof(chain) - cl, "%s -> ",
						 pol_q(c->p->conds[c->use_stack[i]].name, b));
				if (w < 0 || (size_t)w >= sizeof(chain) - cl)
					break;
				cl += (size_t)w;
			}
			return pol_cc_fail(c, -EINVAL, "cycle in named conditions: %s%s", chain,
				       pol_q(it->valuestring, b));
		}
		if (c->named[idx].state == 0 && pol_compile_named(c, idx))
			return c->rc;
		n->cond = idx;
		if (dnf_copy(ret_dnf, &c->named[idx].dnf))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
	} else {
		int atom = atom_of_key(key);
		if (atom < 0)
			return pol_cc_fail(c, -EINVAL, "unknown condition '%s'", pol_q(key, b));
		if (compile_atom(c, atom, it, n, ret_dnf))
			return c->rc;
	}
	*ret_node = n;
	return 0;
}

/* Index of a condition key: an atom (0..PA_NATOMS-1) or a combinator
 * (PA_NATOMS + 0..3: all, any, not, use); -1 if unknown. */
static int cond_key(const char *key)
{
	static const char *const comb[] = { "all", "any", "not", "use" };
	int a = atom_of_key(key);
	if (a >= 0)
		return a;
	for (int i = 0; i < 4; i++)
		if (strcmp(comb[i], key) == 0)
			return PA_NATOMS + i;
	return -1;
}

/* A condition object: its members, all of which must hold. */
int pol_compile_cond(struct cc *c, const cJSON *j, struct pol_node **ret_node,
		     struct dnf *ret_dnf)
{
	if (!cJSON_IsObject(j))
		return pol_cc_fail(c, -EINVAL, "expected a condition object");
	if (!j->child)
		return pol_cc_fail(c, -EINVAL, "empty condition");
	uint32_t k = 0, seen = 0;
	char b[64];
	/* Unknown and duplicate keys (cJSON keeps both copies, a reader would
	 * see one).  The known keys are few, so a bit per key finds duplicates
	 * in linear time. */
	for (const cJSON *it = j->child; it; it = it->next, k++) {
		int key = cond_key(it->string);
		if (key < 0 || (seen >> key & 1)) {
			pol_path_key(c, it->string);
			if (key < 0)
				return pol_cc_fail(c, -EINVAL, "unknown condition '%s'", pol_q(it->string, b));
			return pol_cc_fail(c, -EINVAL, "duplicate key '%s'", pol_q(it->string, b));
		}
		seen |= (uint32_t)1 << key;
	}
	if (k == 1) {
		size_t m = pol_path_key(c, j->child->string);
		if (compile_entry(c, j->child, ret_node, ret_dnf))
			return c->rc;
		pol_path_set(c, m);
		return 0;
	}
	struct pol_node *n = node_new(c, PN_ALL, NULL);
	if (!n)
		return c->rc;
	n->kids = pol_alloc(c->p, sizeof(*n->kids) * k);
	if (!n->kids)
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	ret_dnf->n = 0;
	if (pol_dnf_push(ret_dnf, 0, 0))
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	struct dnf sub = { 0 };
	for (const cJSON *it = j->child; it; it = it->next) {
		size_t m = pol_path_key(c, it->string);
		if (compile_entry(c, it, &n->kids[n->nkids], &sub) || dnf_and(c, ret_dnf, &sub)) {
			pol_dnf_free(&sub);
			return c->rc;
		}
		n->nkids++;
		pol_path_set(c, m);
	}
	pol_dnf_free(&sub);
	*ret_node = n;
	return 0;
}

/* Compile named condition idx, with its own path, detecting cycles. */
int pol_compile_named(struct cc *c, int idx)
{
	struct named_state *ns = &c->named[idx];
	if (c->use_depth == POL_MAX_USE_DEPTH)
		return pol_cc_fail(c, -E2BIG, "named conditions nested more than %d deep",
			       POL_MAX_USE_DEPTH);
	char saved[sizeof(c->path)];
	size_t saved_len = c->plen;
	memcpy(saved, c->path, c->plen + 1);
	pol_path_set(c, 0);
	pol_path_append(c, "$.conditions");
	pol_path_key(c, c->p->conds[idx].name);

	ns->state = 1;
	c->use_stack[c->use_depth++] = idx;
	if (pol_compile_cond(c, ns->json, &c->p->conds[idx].node, &ns->dnf))
		return c->rc;
	c->use_depth--;
	ns->state = 2;

	memcpy(c->path, saved, saved_len + 1);
	c->plen = saved_len;
	return 0;
}
