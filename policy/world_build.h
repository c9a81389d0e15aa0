/*
 * world_build.h - for code that constructs worlds (the store, tests).
 *
 * Invariants a builder must establish (the engine relies on them):
 *   orgs[0] is the public pseudo-recipient (slug "public", id 0, no roles);
 *   orgs[1..norgs) sorted by slug (strcmp); advs sorted by tracking_id;
 *   each adv's concerns[] sorted ascending, shares[] sorted by org;
 *   members[] / member_of[] may be in any order.
 */
#ifndef ADVISORYFS_WORLD_BUILD_H
#define ADVISORYFS_WORLD_BUILD_H

#include <stddef.h>

#include "world.h"

/* A new, empty world (no orgs); NULL on out of memory. */
struct world *world_new(void);
/* Zeroed memory owned by the world; NULL on out of memory. */
void *world_alloc(struct world *w, size_t n);
char *world_strdup(struct world *w, const char *s);
/*
 * Hand p (from malloc() or au_alloc_big()) to w, which frees it with
 * itself: for arrays a builder filled before the world took them (the
 * store's scans run in threads of their own).  0, or -ENOMEM and p is
 * still the caller's.
 */
int world_adopt(struct world *w, void *p);
/* Move the blocks of an arena a builder filled (strings) into w. */
void world_adopt_arena(struct world *w, struct au_arena *from);

/*
 * A copy of base at asof that may be patched where withdrawals and shares
 * change it: its own advs[] (a copy of base's, same order), organisations,
 * strings and concerns shared with base (or with the world base itself
 * shares them with, so derivations do not chain), which it keeps alive.
 * Returns NULL on out of memory or when base already carries more than
 * WORLD_MAX_OWN_SHARES patched shares lists (load the world anew then).
 * The caller owns the result (world_free()).
 */
#define WORLD_MAX_OWN_SHARES 4096
struct world *world_derive(struct world *base, int64_t asof);
/*
 * Replace the shares of advs[i] of a derived world with a copy of
 * shares[0..n) (sorted by org, the builder's invariant).  0, -ENOMEM,
 * -E2BIG (too many patched lists), -EINVAL (not a derived world).
 */
int world_set_shares(struct world *w, uint32_t i, const struct w_share *shares, uint32_t n);

#endif
