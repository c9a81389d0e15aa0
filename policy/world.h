/*
 * world.h - the facts a decision is made from, in memory.
 *
 * A world is a read-only snapshot of the store (organisations with their
 * dated roles and memberships, advisories with their distribution metadata,
 * withdrawals and special-case shares), with every name already turned into
 * an index: roles and sectors into the indices of the compiled policy's
 * vocabulary, organisations into indices of orgs[].  The policy engine
 * reads nothing else, so a decision needs no allocation, no SQL and no
 * string comparison.
 *
 * Built by store_world_load() (store/store.h) for one policy and one moment
 * "asof": each advisory appears in the version in force at asof (the
 * highest tracking.version whose current_release_date <= asof), and
 * advisories with no such version are left out.  Dated facts (roles,
 * memberships, embargo, withdrawal, shares) keep their dates; a decision
 * compares them with its own time t.
 *
 * Times are int64 seconds since the epoch, UTC; periods are inclusive at
 * both ends; AU_T_MIN / AU_T_MAX mark open ends.
 *
 * Ownership: everything hangs off the world and is freed by world_free().
 * A world derived from another (world_build.h) shares that world's memory
 * and keeps it alive until it is freed itself; a world is read-only once
 * built, so worlds may be read and freed from any thread.
 */
#ifndef ADVISORYFS_WORLD_H
#define ADVISORYFS_WORLD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define W_NONE UINT32_MAX
#define W_PUBLIC 0          /* orgs[0] is the public pseudo-recipient */
#define W_MAX_ROLES 32      /* roles per policy vocabulary (bitmask) */
#define W_MAX_SECTORS 64    /* sectors per policy vocabulary (bitmask) */

struct w_role {
	uint8_t role;       /* index in the policy vocabulary */
	int64_t from, until;
	const char *ref;    /* designation reference ("Stcrt. 2020, 4410"), may be NULL */
};

struct w_member {
	uint32_t org;       /* index into world.orgs */
	int64_t from, until;
};

struct w_org {
	int64_t id;         /* store row id; 0 for public */
	const char *slug;
	const char *name;
	uint64_t sectors;   /* bit i: vocabulary sector i */
	int64_t uid, gid;   /* bound account, -1 if none */
	struct w_role *roles;
	uint32_t nroles;
	struct w_member *members;   /* its constituency, when it is a schakelorganisatie */
	uint32_t nmembers;
	struct w_member *member_of; /* the schakelorganisaties it belongs to */
	uint32_t nmember_of;
};

struct w_share {
	uint32_t org;
	int64_t at;         /* when the special case was recorded */
};

/*
 * What a decision and a view read of every advisory comes first, so that
 * it shares a cache line or two: policy_decide() and view_build() go
 * through every advisory of the world.  The rest follows.
 */
struct w_adv {
	int64_t initial_release;
	int64_t current_release;
	int64_t embargo_until;  /* AU_T_MIN: no embargo */
	int64_t withdrawn_at;   /* AU_T_MAX: not withdrawn */
	uint64_t sectors;       /* concerned sectors */
	const char *filename;   /* CSAF section 5.1 name, with .json */
	uint32_t nconcerns;
	uint32_t nshares;
	uint8_t tlp;            /* enum csaf_tlp, never CSAF_TLP_NONE */
	uint8_t status;         /* enum csaf_status */
	uint8_t personal_data;
	uint8_t impact_significant;
	uint8_t has_signature;
	uint32_t *concerns;     /* concerned organisations (indices), sorted */
	struct w_share *shares; /* sorted by org */
	int64_t id;             /* store advisory id */
	int64_t version_id;     /* store version id of the version in force */
	const char *tracking_id;
	const char *version;
	const char *title;
	int64_t size;           /* bytes of the document */
	int64_t sig_size;       /* bytes of the .asc, 0 if none */
	/* the document's digests, 32 and 64 bytes, kept apart from the array
	 * (a lean world has none: all zero); NULL in worlds built without
	 * them, which readers take as all zero */
	const unsigned char *sha256;
	const unsigned char *sha512;
};

struct world {
	int64_t asof;
	struct w_org *orgs;     /* orgs[0] is "public" */
	uint32_t norgs;
	struct w_adv *advs;     /* sorted by tracking id */
	uint32_t nadvs;
	/* set by a builder that checked it: the file names of advs[] are in
	 * strcmp order too, none a prefix of the next (so a view's folders,
	 * subsequences of advs[], need no sort and no check); 0: unknown */
	int filenames_ordered;
	struct au_arena arena;  /* private to the builder */
	struct w_adopted *adopted; /* private to world.c: memory world_adopt() took */
	/* private to world.c: references (the owner's and those of worlds
	 * derived from this one), and for a derived world (world_derive())
	 * the world whose memory it shares and the advisories whose shares[]
	 * live in its own arena */
	atomic_uint refs;
	struct world *base;
	uint32_t *own_shares;
	uint32_t nown_shares;
};

/* Index of the org with this slug, or W_NONE. */
uint32_t world_org_find(const struct world *w, const char *slug);
/* Index of the advisory with this tracking id (or this file name), or W_NONE. */
uint32_t world_adv_find(const struct world *w, const char *tracking_id);
void world_free(struct world *w);

#endif
