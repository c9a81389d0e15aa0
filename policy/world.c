/*
 * world.c - lookups in, and the memory of, a world snapshot.
 *
 * Everything a world holds lives in one arena: a chain of large blocks,
 * freed together by world_free().  Builders (store_world_load, tests)
 * allocate with world_alloc() / world_strdup().  A derived world (the
 * mount's patch for a withdrawal or a share) has its own advisories and
 * borrows the rest from the world it was loaded as, which a reference
 * count keeps alive.
 */
#include "world.h"
#include "world_build.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Memory handed over by world_adopt(), listed in the arena itself. */
struct w_adopted {
	struct w_adopted *next;
	void *p;
};

/* World blocks are AU_BIG (2 MiB) or more (au_arena's default), backed
 * by huge pages where the kernel can: a page fault per block instead of
 * one per 4 KiB when it is first written. */
void *world_alloc(struct world *w, size_t n)
{
	return au_arena_alloc(&w->arena, n);
}

char *world_strdup(struct world *w, const char *s)
{
	return au_arena_strndup(&w->arena, s, strlen(s));
}

int world_adopt(struct world *w, void *p)
{
	struct w_adopted *a = au_arena_alloc(&w->arena, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->p = p;
	a->next = w->adopted;
	w->adopted = a;
	return 0;
}

void world_adopt_arena(struct world *w, struct au_arena *from)
{
	au_arena_take(&w->arena, from);
}

struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(struct world));
	if (w)
		atomic_init(&w->refs, 1);
	return w;
}

/* Drops one reference; the last one frees the arena and the reference
 * on the base world. */
void world_free(struct world *w)
{
	if (!w || atomic_fetch_sub(&w->refs, 1) != 1)
		return;
	for (struct w_adopted *a = w->adopted; a; a = a->next)
		free(a->p);
	au_arena_free(&w->arena);
	world_free(w->base);
	free(w);
}

struct world *world_derive(struct world *base, int64_t asof)
{
	struct world *root = base->base ? base->base : base;
	struct world *w;

	if (base->nown_shares > WORLD_MAX_OWN_SHARES || !(w = world_new()))
		return NULL;
	w->asof = asof;
	w->orgs = base->orgs;
	w->norgs = base->norgs;
	w->nadvs = base->nadvs;
	w->filenames_ordered = base->filenames_ordered;
	w->advs = world_alloc(w, (base->nadvs ? base->nadvs : 1) * sizeof(*w->advs));
	if (!w->advs)
		goto fail;
	memcpy(w->advs, base->advs, base->nadvs * sizeof(*w->advs));
	/* shares lists base patched live in base's arena, which this world
	 * does not keep: copy them into its own */
	if (base->nown_shares) {
		w->own_shares = world_alloc(w, base->nown_shares * sizeof(*w->own_shares));
		if (!w->own_shares)
			goto fail;
		for (uint32_t k = 0; k < base->nown_shares; k++) {
			struct w_adv *a = &w->advs[base->own_shares[k]];
			struct w_share *v = NULL;
			if (a->nshares && !(v = world_alloc(w, a->nshares * sizeof(*v))))
				goto fail;
			if (a->nshares)
				memcpy(v, a->shares, a->nshares * sizeof(*v));
			a->shares = v;
			w->own_shares[k] = base->own_shares[k];
		}
		w->nown_shares = base->nown_shares;
	}
	atomic_fetch_add(&root->refs, 1);
	w->base = root;
	return w;
fail:
	world_free(w);
	return NULL;
}

int world_set_shares(struct world *w, uint32_t i, const struct w_share *shares, uint32_t n)
{
	struct w_share *v = NULL;
	uint32_t k;

	if (!w->base || i >= w->nadvs)
		return -EINVAL;
	for (k = 0; k < w->nown_shares && w->own_shares[k] != i; k++)
		;
	if (k == w->nown_shares) {
		if (w->nown_shares >= WORLD_MAX_OWN_SHARES)
			return -E2BIG;
		/* the list grows in the arena: copy it to a larger block */
		uint32_t *nv = world_alloc(w, (w->nown_shares + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		if (w->nown_shares)
			memcpy(nv, w->own_shares, w->nown_shares * sizeof(*nv));
		nv[w->nown_shares] = i;
		w->own_shares = nv;
		w->nown_shares++;
	}
	if (n && !(v = world_alloc(w, n * sizeof(*v))))
		return -ENOMEM;
	if (n)
		memcpy(v, shares, n * sizeof(*v));
	w->advs[i].shares = v;
	w->advs[i].nshares = n;
	return 0;
}

uint32_t world_org_find(const struct world *w, const char *slug)
{
	/* orgs[1..] are sorted by slug; orgs[0] is public */
	if (strcmp(slug, "public") == 0)
		return W_PUBLIC;
	uint32_t lo = 1, hi = w->norgs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->orgs[mid].slug, slug);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return W_NONE;
}

uint32_t world_adv_find(const struct world *w, const char *id)
{
	uint32_t lo = 0, hi = w->nadvs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->advs[mid].tracking_id, id);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* a file name ("ncsc-2024-0123.json" or without .json) also names it */
	for (uint32_t i = 0; i < w->nadvs; i++) {
		const char *fn = w->advs[i].filename;
		size_t n = strlen(id);
		if (strcmp(fn, id) == 0 || (strncmp(fn, id, n) == 0 && strcmp(fn + n, ".json") == 0))
			return i;
	}
	return W_NONE;
}
