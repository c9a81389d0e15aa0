/*
 * remote_tree.c - the client's tree (remote_tree.h): built from a TREE
 * frame, or from the previous tree and a PATCH frame (a merge of two sorted
 * lists: the old entries less the removed and replaced paths, and the
 * frame's), then checked to be a tree, indexed by path (a hash table) and
 * by structure (each entry's parent, the end of its subtree, its
 * subdirectories).  What an entry points to lives in memory the tree holds
 * a reference on (struct rt_mem): its own, for the frame's entries, and the
 * old tree's, whose unchanged entries it shares, so a PATCH costs a copy of
 * the entry array, not of their bytes; rt_compact() copies a tree that
 * shares too many into one memory again (remote_apply.c does, when idle).  The frame can go once the
 * tree is built; the extended attributes' strings of a frame are kept once
 * (rp_intern()).
 */
#include "remote_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

static uint64_t rt_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h ^ (h >> 31);
}

void rt_get(struct rt_tree *t)
{
	atomic_fetch_add(&t->refs, 1);
}

void rt_put(struct rt_tree *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->ents);
	free(t->slots);
	for (size_t i = 0; i < t->nmems; i++)
		if (atomic_fetch_sub(&t->mems[i]->refs, 1) == 1) {
			au_arena_free(&t->mems[i]->arena);
			free(t->mems[i]);
		}
	free(t->mems);
	free(t);
}

int64_t rt_find(const struct rt_tree *t, const char *path, size_t len)
{
	size_t k = (size_t)rt_hash(path, len) & (t->nslots - 1);
	for (; t->slots[k]; k = (k + 1) & (t->nslots - 1)) {
		const struct rt_ent *e = &t->ents[t->slots[k] - 1];
		if (e->pathlen == len && memcmp(e->path, path, len) == 0)
			return t->slots[k] - 1;
	}
	return -1;
}

int64_t rt_child(const struct rt_tree *t, uint32_t dir, const char *name)
{
	const struct rt_ent *d = &t->ents[dir];
	size_t nl = strlen(name), pl = d->pathlen;
	char buf[RP_PATH_MAX + 1];
	if (d->kind != RP_DIR || nl == 0 || nl > RP_NAME_MAX || strchr(name, '/') ||
	    pl + 1 + nl > RP_PATH_MAX)
		return -1;
	if (pl) {
		memcpy(buf, d->path, pl);
		buf[pl] = '/';
		memcpy(buf + pl + 1, name, nl);
		return rt_find(t, buf, pl + 1 + nl);
	}
	return rt_find(t, name, nl);
}

/* ---- building --------------------------------------------------------------------------- */

struct rt_builder {
	struct rt_tree *t;
	struct rp_intern in;        /* strings of this tree (their bytes in its arena) */
	size_t cap;
	int failed;
};

/* A copy of (p, n) in the tree, kept once. */
static const char *rt_str(struct rt_builder *b, const char *p, uint32_t n)
{
	uint32_t before = b->in.n;
	int64_t i = rp_intern(&b->in, p, n);
	if (i < 0) {
		b->failed = 1;
		return "";
	}
	if (b->in.n != before) {
		/* new: the table points at the caller's bytes until copied */
		char *c = au_arena_strndup(&b->t->mem->arena, p, n);
		if (!c) {
			b->failed = 1;
			b->in.strs[i].p = "";
			return "";
		}
		b->in.strs[i].p = c;
	}
	return b->in.strs[i].p;
}

static struct rt_ent *rt_push(struct rt_builder *b)
{
	struct rt_tree *t = b->t;
	if (t->n == b->cap) {
		struct rt_ent *ne = au_grow(t->ents, &b->cap, (size_t)t->n + 1, sizeof(*ne), 1024);
		if (!ne) {
			b->failed = 1;
			return NULL;
		}
		t->ents = ne;
	}
	struct rt_ent *e = &t->ents[t->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* An entry of the old tree, copied. */
static void rt_copy(struct rt_builder *b, const struct rt_ent *o)
{
	struct rt_ent *e = rt_push(b);
	if (!e)
		return;
	*e = *o;
	char *p = au_arena_strndup(&b->t->mem->arena, o->path, o->pathlen);
	if (!p) {
		b->failed = 1;
		return;
	}
	e->path = p;
	e->name = rp_base(p, o->pathlen);
	if (o->kind == RP_INLINE) {
		unsigned char *d = au_arena_alloc(&b->t->mem->arena, (size_t)o->size + 1);
		if (!d) {
			b->failed = 1;
			return;
		}
		memcpy(d, o->data, (size_t)o->size);
		e->data = d;
	}
	e->x = NULL;
	if (o->nx) {
		e->x = au_arena_alloc(&b->t->mem->arena, o->nx * sizeof(*e->x));
		if (!e->x) {
			b->failed = 1;
			e->nx = 0;
			return;
		}
		for (unsigned k = 0; k < o->nx; k++) {
			e->x[k].name = rt_str(b, o->x[k].name, o->x[k].nlen);
			e->x[k].nlen = o->x[k].nlen;
			e->x[k].value = rt_str(b, o->x[k].value, o->x[k].vlen);
			e->x[k].vlen = o->x[k].vlen;
		}
	}
}

/* An entry of the frame m. */
static void rt_take(struct rt_builder *b, const struct rp_msg *m, const struct rp_ent *f)
{
	struct rt_ent *e = rt_push(b);
	if (!e)
		return;
	char *p = au_arena_strndup(&b->t->mem->arena, f->path.p, f->path.len);
	if (!p) {
		b->failed = 1;
		return;
	}
	e->path = p;
	e->pathlen = (uint16_t)f->path.len;
	e->name = rp_base(p, f->path.len);
	e->hash = rt_hash(p, f->path.len);
	e->kind = f->kind;
	e->mtime = f->mtime;
	e->ino = f->ino;
	e->size = f->size;
	if (f->kind == RP_FILE) {
		memcpy(e->sha256, f->sha256, 32);
	} else if (f->kind == RP_INLINE) {
		unsigned char *d = au_arena_alloc(&b->t->mem->arena, (size_t)f->size + 1);
		if (!d || digest_sha256(f->data, (size_t)f->size, e->sha256)) {
			b->failed = 1;
			return;
		}
		memcpy(d, f->data, (size_t)f->size);
		e->data = d;
	}
	if (f->nx) {
		e->x = au_arena_alloc(&b->t->mem->arena, f->nx * sizeof(*e->x));
		if (!e->x) {
			b->failed = 1;
			return;
		}
		e->nx = f->nx;
		for (unsigned k = 0; k < f->nx; k++) {
			const struct rp_str *n = &m->strs[f->x[k].name], *v = &m->strs[f->x[k].value];
			e->x[k].name = rt_str(b, n->p, n->len);
			e->x[k].nlen = n->len;
			e->x[k].value = rt_str(b, v->p, v->len);
			e->x[k].vlen = v->len;
		}
	}
}

static void rt_get_path(void *arg, size_t i, const char **path, size_t *len, int *isdir)
{
	const struct rt_ent *e = &((const struct rt_tree *)arg)->ents[i];
	*path = e->path;
	*len = e->pathlen;
	*isdir = e->kind == RP_DIR;
}

/* Parents, subtree ends, subdirectory counts and the hash index. */
static int rt_index(struct rt_tree *t)
{
	uint32_t *stack = malloc(((size_t)t->n + 1) * sizeof(*stack));
	size_t depth = 0;

	if (!stack)
		return -ENOMEM;
	t->nslots = 64;
	while (t->nslots < (size_t)t->n * 2)
		t->nslots *= 2;
	if (!(t->slots = calloc(t->nslots, sizeof(*t->slots)))) {
		free(stack);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->n; i++)
		t->ents[i].nsub = 0; /* entries shared with the old tree bring theirs */
	for (uint32_t i = 0; i < t->n; i++) {
		struct rt_ent *e = &t->ents[i];
		/* close the directories this entry is not in (rp_check_tree() said
		 * that its parent is on the stack) */
		while (depth > 0) {
			struct rt_ent *d = &t->ents[stack[depth - 1]];
			size_t pl = d->pathlen;
			if (i > 0 && (pl == 0 || (e->pathlen > pl && e->path[pl] == '/' &&
						  memcmp(e->path, d->path, pl) == 0)))
				break;
			d->end = i;
			depth--;
		}
		e->parent = depth ? stack[depth - 1] : 0;
		if (i > 0 && e->kind == RP_DIR)
			t->ents[e->parent].nsub++;
		e->end = i + 1;
		if (e->kind == RP_DIR)
			stack[depth++] = i;
		size_t k = (size_t)e->hash & (t->nslots - 1);
		while (t->slots[k])
			k = (k + 1) & (t->nslots - 1);
		t->slots[k] = i + 1;
	}
	while (depth > 0)
		t->ents[stack[--depth]].end = t->n;
	free(stack);
	return 0;
}

int rt_build(const struct rt_tree *old, const struct rp_msg *m, struct rt_tree **ret, char *err,
	     size_t errlen)
{
	struct rt_tree *t = calloc(1, sizeof(*t));
	struct rt_builder b = { .t = t };
	int r;

	if (!t)
		return -ENOMEM;
	atomic_init(&t->refs, 1);
	t->gen = m->gen;
	int share = m->type == RP_PATCH && old;
	size_t nm = 1 + (share ? old->nmems : 0);
	if (!(t->mem = calloc(1, sizeof(*t->mem))) || !(t->mems = calloc(nm, sizeof(*t->mems)))) {
		free(t->mem);
		free(t->mems);
		free(t);
		return -ENOMEM;
	}
	atomic_init(&t->mem->refs, 1);
	t->mem->arena.block = 1u << 20;
	t->mems[t->nmems++] = t->mem;
	for (size_t i = 0; share && i < old->nmems; i++) {
		atomic_fetch_add(&old->mems[i]->refs, 1);
		t->mems[t->nmems++] = old->mems[i];
	}
	if (m->type == RP_PATCH && !old) {
		snprintf(err, errlen, "a change before the tree");
		rt_put(t);
		return -EBADMSG;
	}
	if (m->type == RP_TREE) {
		for (uint32_t j = 0; j < m->nents && !b.failed; j++)
			rt_take(&b, m, &m->ents[j]);
	} else {
		/* old less the removed paths, merged with the frame's entries
		 * (which replace old ones of the same path) */
		uint32_t i = 0, j = 0, k = 0;
		while (!b.failed && (i < old->n || j < m->nents)) {
			const struct rt_ent *o = i < old->n ? &old->ents[i] : NULL;
			const struct rp_ent *f = j < m->nents ? &m->ents[j] : NULL;
			if (o) {
				while (k < m->nremoved &&
				       rp_path_cmp(m->removed[k].p, m->removed[k].len, o->path,
						   o->pathlen) < 0)
					k++;
				if (k < m->nremoved &&
				    rp_path_cmp(m->removed[k].p, m->removed[k].len, o->path,
						o->pathlen) == 0) {
					i++;
					continue;
				}
			}
			int c = !o ? 1 : !f ? -1 : rp_path_cmp(o->path, o->pathlen, f->path.p, f->path.len);
			if (c < 0) {
				if (share) {
					struct rt_ent *e = rt_push(&b);
					if (e)
						*e = *o; /* its bytes stay where they are */
				} else {
					rt_copy(&b, o);
				}
				i++;
			} else {
				rt_take(&b, m, f);
				j++;
				i += c == 0;
			}
		}
	}
	rp_intern_free(&b.in);
	if (b.failed) {
		rt_put(t);
		return -ENOMEM;
	}
	if ((r = rp_check_tree(t->n, rt_get_path, t, err, errlen)) || (r = rt_index(t))) {
		rt_put(t);
		return r;
	}
	*ret = t;
	return 0;
}

int rt_compact(const struct rt_tree *t, struct rt_tree **ret)
{
	struct rt_tree *c = calloc(1, sizeof(*c));
	struct rt_builder b = { .t = c };
	int r;

	if (!c)
		return -ENOMEM;
	atomic_init(&c->refs, 1);
	c->gen = t->gen;
	if (!(c->mem = calloc(1, sizeof(*c->mem))) || !(c->mems = calloc(1, sizeof(*c->mems)))) {
		free(c->mem);
		free(c);
		return -ENOMEM;
	}
	atomic_init(&c->mem->refs, 1);
	c->mem->arena.block = 1u << 20;
	c->mems[c->nmems++] = c->mem;
	for (uint32_t i = 0; i < t->n && !b.failed; i++)
		rt_copy(&b, &t->ents[i]);
	rp_intern_free(&b.in);
	if (b.failed || (r = rt_index(c))) {
		rt_put(c);
		return -ENOMEM;
	}
	(void)r;
	*ret = c;
	return 0;
}
