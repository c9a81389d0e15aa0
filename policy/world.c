/*
 * world.c - lookups in, and the memory of, a world snapshot.
 *
 * Everything a world holds lives in one arena: a chain of large blocks,
 * freed together by world_free().  Builders (store_world_load, tests)
 * allocate with world_alloc() / world_strdup().
 */
#include "world.h"
#include "world_build.h"

#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void *world_alloc(struct world *w, size_t n)
{
	struct arena_block *b = w->arena;
	n = (n + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > (1u << 20) ? n : (1u << 20);
		struct arena_block *nb = malloc(sizeof(*nb) + cap);
		if (!nb)
			return NULL;
		nb->next = b;
		nb->used = 0;
		nb->cap = cap;
		w->arena = b = nb;
	}
	void *p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *world_strdup(struct world *w, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = world_alloc(w, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

struct world *world_new(void)
{
	return calloc(1, sizeof(struct world));
}

void world_free(struct world *w)
{
	if (!w)
		return;
	struct arena_block *b = w->arena;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(w);
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
