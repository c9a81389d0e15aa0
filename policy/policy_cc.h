/*
 * policy_cc.h - the policy compiler's state and what its two files share
 * (policy.c: the document, vocabulary and rules; policy_cond.c: clause
 * sets and conditions).  Private to policy/.
 *
 * Errors: the first one is recorded in the state as "<JSON path>:
 * <message>" (pol_cc_fail()) and every later step returns it.
 */
#ifndef ADVISORYFS_POLICY_CC_H
#define ADVISORYFS_POLICY_CC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "policy_internal.h"

/* A condition in disjunctive normal form: any clause holds. */
struct dnf {
	uint32_t n, cap;
	struct pol_clause *c;   /* heap */
};

struct named_state {
	const cJSON *json;
	int state;              /* 0 not compiled, 1 being compiled, 2 done */
	struct dnf dnf;
};

/* The compiler's state, for one policy_compile(). */
struct cc {
	struct policy *p;
	char *err;
	size_t errlen;
	int rc;                 /* first error, 0 if none */
	char path[512];         /* JSON path of the value being compiled */
	size_t plen;
	struct named_state named[POL_MAX_CONDS];
	int use_stack[POL_MAX_USE_DEPTH];
	int use_depth;
	uint32_t clauses_cap;
};

/* Record the first error as "<path>: <message>"; returns rc (or the
 * error recorded before). */
int pol_cc_fail(struct cc *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A user string made safe for a message: printable ASCII kept, anything
 * else '?', cut at 60 characters.  Returns buf. */
const char *pol_q(const char *s, char buf[64]);

/* The JSON path: append a string, ".key" (or ["key"] for a key that is
 * not a plain name), or "[i]"; each returns the previous length, which
 * pol_path_set() restores. */
size_t pol_path_append(struct cc *c, const char *s);
size_t pol_path_key(struct cc *c, const char *key);
size_t pol_path_idx(struct cc *c, size_t i);
void pol_path_set(struct cc *c, size_t len);

/* Zeroed memory owned by p, freed by policy_free(); NULL on out of memory. */
void *pol_alloc(struct policy *p, size_t n);

/* Refuse keys of obj outside allowed (NULL-terminated) and duplicate keys. */
int pol_check_keys(struct cc *c, const cJSON *obj, const char *const *allowed, const char *what);
/* A validity period: the optional "from" and "until" members of obj. */
int pol_get_period(struct cc *c, const cJSON *obj, int64_t *ret_from, int64_t *ret_until);

/* Free a clause set's clauses; append a clause (0 or -ENOMEM, d unchanged). */
void pol_dnf_free(struct dnf *d);
int pol_dnf_push(struct dnf *d, uint64_t must, uint64_t mustnot);

/* Compile condition object j into a tree for explain (*ret_node, in the
 * policy's arena) and its clause set (*ret_dnf, the caller frees it). */
int pol_compile_cond(struct cc *c, const cJSON *j, struct pol_node **ret_node,
		     struct dnf *ret_dnf);
/* Compile named condition idx, with its own path, detecting cycles. */
int pol_compile_named(struct cc *c, int idx);

#endif
