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

#endif
