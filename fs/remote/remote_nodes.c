/*
 * remote_nodes.c - the remote mount client's state (remote_nodes.h): the
 * nodes the kernel holds (nodeid = pointer; found by path and content),
 * the bounded cache of fetched bytes (by SHA-256, oldest out first), the
 * attributes of an entry, and the state's life cycle.
 */
#include "remote_nodes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

void rm_log(struct rm *rm, int level, const char *fmt, ...)
{
	va_list ap;
	if (level >= LOG_DEBUG && !rm->debug)
		return;
	va_start(ap, fmt);
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fuse_log((enum fuse_log_level)level, "%s\n", line);
}

int64_t rm_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether requests must fail: disconnected for longer than max_stale. */
int rm_stale(struct rm *rm)
{
	pthread_mutex_lock(&rm->state_lock);
	int stale = !rm->up && rm_ms() - rm->down_ms > (int64_t)rm->max_stale * 1000;
	pthread_mutex_unlock(&rm->state_lock);
	return stale;
}

struct rt_tree *rm_tree(struct rm *rm)
{
	pthread_mutex_lock(&rm->tree_lock);
	struct rt_tree *t = rm->tree;
	rt_get(t);
	pthread_mutex_unlock(&rm->tree_lock);
	return t;
}

uint64_t rm_gen(struct rm *rm)
{
	pthread_mutex_lock(&rm->tree_lock);
	uint64_t g = rm->tree->gen;
	pthread_mutex_unlock(&rm->tree_lock);
	return g;
}

/* ---- nodes ------------------------------------------------------------------------------ */

uint64_t rm_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

struct rm_node *rm_node(struct rm *rm, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? rm->root : (struct rm_node *)(uintptr_t)ino;
}

fuse_ino_t rm_nodeid(struct rm *rm, const struct rm_node *n)
{
	return n == rm->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

static int rm_itab_grow(struct rm *rm)
{
	size_t nb = rm->nbuckets ? rm->nbuckets * 2 : 1024;
	struct rm_node **b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < rm->nbuckets; i++)
		for (struct rm_node *n = rm->buckets[i], *next; n; n = next) {
			next = n->hnext;
			size_t k = (size_t)rm_hash(n->path, n->pathlen) & (nb - 1);
			n->hnext = b[k];
			b[k] = n;
		}
	free(rm->buckets);
	rm->buckets = b;
	rm->nbuckets = nb;
	return 0;
}

/* The node of entry e with one lookup added (made when new).  NULL: ENOMEM. */
struct rm_node *rm_lookup_node(struct rm *rm, const struct rt_ent *e)
{
	int isdir = e->kind == RP_DIR;
	static const unsigned char zero[32];
	const unsigned char *sha = isdir ? zero : e->sha256;
	struct rm_node *n;

	if (e->pathlen == 0)
		return rm->root;
	pthread_mutex_lock(&rm->itab_lock);
	size_t k = (size_t)rm_hash(e->path, e->pathlen) & (rm->nbuckets - 1);
	for (n = rm->buckets[k]; n; n = n->hnext)
		if (n->pathlen == e->pathlen && memcmp(n->path, e->path, e->pathlen) == 0 &&
		    n->isdir == isdir && memcmp(n->sha, sha, 32) == 0)
			break;
	if (!n && (n = calloc(1, sizeof(*n) + e->pathlen + 1))) {
		memcpy(n->path, e->path, e->pathlen);
		n->pathlen = e->pathlen;
		n->isdir = (uint8_t)isdir;
		memcpy(n->sha, sha, 32);
		n->ino = e->ino;
		n->size = e->size;
		n->mtime = e->mtime;
		n->hnext = rm->buckets[k];
		rm->buckets[k] = n;
		if (++rm->nnodes > rm->nbuckets)
			(void)rm_itab_grow(rm);
	}
	if (n)
		n->nlookup++;
	pthread_mutex_unlock(&rm->itab_lock);
	return n;
}

/* Unlink and free n when nothing holds it.  itab_lock held. */
static void rm_maybe_free(struct rm *rm, struct rm_node *n)
{
	if (n == rm->root || n->nlookup || n->refs)
		return;
	size_t k = (size_t)rm_hash(n->path, n->pathlen) & (rm->nbuckets - 1);
	for (struct rm_node **p = &rm->buckets[k]; *p; p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			break;
		}
	rm->nnodes--;
	free(n);
}

void rm_forget_node(struct rm *rm, struct rm_node *n, uint64_t count)
{
	pthread_mutex_lock(&rm->itab_lock);
	n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
	rm_maybe_free(rm, n);
	pthread_mutex_unlock(&rm->itab_lock);
}

/* Every node, pinned (the caller unpins with rm_unpin_all()). */
struct rm_node **rm_pin_all(struct rm *rm, size_t *ret_n)
{
	pthread_mutex_lock(&rm->itab_lock);
	struct rm_node **v = malloc((rm->nnodes + 2) * sizeof(*v));
	size_t n = 0;
	if (v)
		v[n++] = rm->root; /* not in the table; never freed */
	if (v)
		for (size_t i = 0; i < rm->nbuckets; i++)
			for (struct rm_node *x = rm->buckets[i]; x; x = x->hnext) {
				x->refs++;
				v[n++] = x;
			}
	pthread_mutex_unlock(&rm->itab_lock);
	*ret_n = n;
	return v;
}

struct rm_node **rm_pin_paths(struct rm *rm, const struct rp_intern *paths, size_t *ret_n)
{
	size_t n = 0, cap = 64;
	struct rm_node **v = malloc(cap * sizeof(*v));
	if (!v)
		return NULL;
	pthread_mutex_lock(&rm->itab_lock);
	for (uint32_t i = 0; i < paths->n; i++) {
		const struct rp_str *p = &paths->strs[i];
		if (p->len == 0) {
			struct rm_node *x = rm->root;
			if (n == cap) {
				struct rm_node **nv = realloc(v, cap * 2 * sizeof(*v));
				if (!nv)
					goto oom;
				v = nv;
				cap *= 2;
			}
			x->refs++;
			v[n++] = x;
			continue;
		}
		size_t k = (size_t)rm_hash(p->p, p->len) & (rm->nbuckets - 1);
		for (struct rm_node *x = rm->buckets[k]; x; x = x->hnext) {
			if (x->pathlen != p->len || memcmp(x->path, p->p, p->len) != 0)
				continue;
			if (n == cap) {
				struct rm_node **nv = realloc(v, cap * 2 * sizeof(*v));
				if (!nv)
					goto oom;
				v = nv;
				cap *= 2;
			}
			x->refs++;
			v[n++] = x;
		}
	}
	pthread_mutex_unlock(&rm->itab_lock);
	*ret_n = n;
	return v;
oom:
	for (size_t i = 0; i < n; i++)
		v[i]->refs--; /* none can have gone: the lock is held */
	pthread_mutex_unlock(&rm->itab_lock);
	free(v);
	return NULL;
}

void rm_unpin_all(struct rm *rm, struct rm_node **v, size_t n)
{
	pthread_mutex_lock(&rm->itab_lock);
	for (size_t i = 0; i < n; i++) {
		v[i]->refs--;
		rm_maybe_free(rm, v[i]);
	}
	pthread_mutex_unlock(&rm->itab_lock);
	free(v);
}

/* The node of directory path, if the kernel holds one (not pinned: only
 * its nodeid is used, for a notification the kernel may find stale). */
struct rm_node *rm_dir_node(struct rm *rm, const char *path, size_t len)
{
	static const unsigned char zero[32];
	struct rm_node *n;
	if (len == 0)
		return rm->root;
	pthread_mutex_lock(&rm->itab_lock);
	size_t k = (size_t)rm_hash(path, len) & (rm->nbuckets - 1);
	for (n = rm->buckets[k]; n; n = n->hnext)
		if (n->isdir && n->pathlen == len && memcmp(n->path, path, len) == 0 &&
		    memcmp(n->sha, zero, 32) == 0)
			break;
	pthread_mutex_unlock(&rm->itab_lock);
	return n;
}

/* ---- the cache -------------------------------------------------------------------------- */

static size_t rm_cslot(struct rm *rm, const unsigned char *sha)
{
	uint64_t h;
	memcpy(&h, sha, 8);
	return (size_t)h & (rm->ncbuckets - 1);
}

static void rm_cache_unlink(struct rm *rm, struct rm_blob *b)
{
	for (struct rm_blob **p = &rm->cbuckets[rm_cslot(rm, b->sha)]; *p; p = &(*p)->hnext)
		if (*p == b) {
			*p = b->hnext;
			break;
		}
	b->prev->next = b->next;
	b->next->prev = b->prev;
	rm->cached -= b->len;
	free(b->data);
	free(b);
}

/* A copy of the cached bytes of sha (the caller frees it), or NULL. */
unsigned char *rm_cache_get(struct rm *rm, const unsigned char *sha, size_t *ret_len)
{
	unsigned char *copy = NULL;
	pthread_mutex_lock(&rm->cache_lock);
	for (struct rm_blob *b = rm->cbuckets[rm_cslot(rm, sha)]; b; b = b->hnext) {
		if (memcmp(b->sha, sha, 32) != 0)
			continue;
		if ((copy = malloc(b->len ? b->len : 1))) {
			memcpy(copy, b->data, b->len);
			*ret_len = b->len;
		}
		/* the newest now */
		b->prev->next = b->next;
		b->next->prev = b->prev;
		b->next = rm->lru.next;
		b->prev = &rm->lru;
		rm->lru.next->prev = b;
		rm->lru.next = b;
		break;
	}
	pthread_mutex_unlock(&rm->cache_lock);
	return copy;
}

/* Keep a copy of data as the bytes of sha, dropping the oldest beyond the bound. */
void rm_cache_put(struct rm *rm, const unsigned char *sha, const unsigned char *data,
			 size_t len)
{
	struct rm_blob *b = calloc(1, sizeof(*b));
	if (!b || !(b->data = malloc(len ? len : 1))) {
		free(b);
		return;
	}
	memcpy(b->sha, sha, 32);
	memcpy(b->data, data, len);
	b->len = len;
	pthread_mutex_lock(&rm->cache_lock);
	for (struct rm_blob *o = rm->cbuckets[rm_cslot(rm, sha)]; o; o = o->hnext)
		if (memcmp(o->sha, sha, 32) == 0) {
			rm_cache_unlink(rm, o);
			break;
		}
	size_t k = rm_cslot(rm, sha);
	b->hnext = rm->cbuckets[k];
	rm->cbuckets[k] = b;
	b->next = rm->lru.next;
	b->prev = &rm->lru;
	rm->lru.next->prev = b;
	rm->lru.next = b;
	rm->cached += len;
	while (rm->cached > rm->cache_size && rm->lru.prev != b)
		rm_cache_unlink(rm, rm->lru.prev);
	pthread_mutex_unlock(&rm->cache_lock);
}

/* Forget the bytes of sha (a revoked or replaced file). */
void rm_cache_drop(struct rm *rm, const unsigned char *sha)
{
	pthread_mutex_lock(&rm->cache_lock);
	for (struct rm_blob *b = rm->cbuckets[rm_cslot(rm, sha)]; b; b = b->hnext)
		if (memcmp(b->sha, sha, 32) == 0) {
			rm_cache_unlink(rm, b);
			break;
		}
	pthread_mutex_unlock(&rm->cache_lock);
}

/* ---- attributes ------------------------------------------------------------------------- */

void rm_attr(struct rm *rm, const struct rt_ent *e, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)e->ino;
	st->st_mode = e->kind == RP_DIR ? (S_IFDIR | 0555) : (S_IFREG | 0444);
	st->st_nlink = e->kind == RP_DIR ? (nlink_t)(2 + e->nsub) : 1;
	st->st_uid = rm->uid;
	st->st_gid = rm->gid;
	st->st_size = (off_t)e->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((e->size + 511) / 512);
	st->st_mtim.tv_sec = (time_t)e->mtime;
	st->st_atim = st->st_ctim = st->st_mtim;
}

/* Whether node n still holds the content of entry index i of t. */
int rm_current(const struct rt_tree *t, const struct rm_node *n, int64_t *ret_i)
{
	int64_t i = rt_find(t, n->path, n->pathlen);
	if (i < 0)
		return -ENOENT;
	const struct rt_ent *e = &t->ents[i];
	if ((e->kind == RP_DIR) != n->isdir || (!n->isdir && memcmp(e->sha256, n->sha, 32) != 0))
		return -ESTALE;
	*ret_i = i;
	return 0;
}

/* ---- life cycle ----------------------------------------------------------------------- */

void rm_free(struct rm *rm)
{
	if (!rm)
		return;
	if (rm->tree)
		rt_put(rm->tree);
	for (size_t i = 0; i < rm->nbuckets; i++)
		for (struct rm_node *n = rm->buckets[i], *next; n; n = next) {
			next = n->hnext;
			free(n);
		}
	free(rm->buckets);
	while (rm->lru.next && rm->lru.next != &rm->lru)
		rm_cache_unlink(rm, rm->lru.next);
	free(rm->cbuckets);
	for (struct rm_frame *f = rm->q_head, *next; f; f = next) {
		next = f->next;
		rp_msg_free(&f->m);
		free(f->bytes);
		free(f);
	}
	free(rm->root);
	pthread_mutex_destroy(&rm->tree_lock);
	pthread_mutex_destroy(&rm->itab_lock);
	pthread_mutex_destroy(&rm->cache_lock);
	pthread_mutex_destroy(&rm->q_lock);
	pthread_cond_destroy(&rm->q_cond);
	pthread_mutex_destroy(&rm->state_lock);
	free(rm);
}

struct rm *rm_new(void)
{
	struct rm *rm = calloc(1, sizeof(*rm));
	pthread_condattr_t ca;
	if (!rm)
		return NULL;
	pthread_mutex_init(&rm->tree_lock, NULL);
	pthread_mutex_init(&rm->itab_lock, NULL);
	pthread_mutex_init(&rm->cache_lock, NULL);
	pthread_mutex_init(&rm->q_lock, NULL);
	pthread_mutex_init(&rm->state_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rm->q_cond, &ca);
	pthread_condattr_destroy(&ca);
	rm->q_tail = &rm->q_head;
	rm->lru.next = rm->lru.prev = &rm->lru;
	rm->ncbuckets = 4096;
	rm->cbuckets = calloc(rm->ncbuckets, sizeof(*rm->cbuckets));
	rm->root = calloc(1, sizeof(*rm->root) + 1);
	if (!rm->cbuckets || !rm->root || rm_itab_grow(rm)) {
		rm_free(rm);
		return NULL;
	}
	rm->root->isdir = 1;
	return rm;
}

