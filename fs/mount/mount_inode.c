/*
 * mount_inode.c - the inode table of the advisoryfs mount.
 *
 * As in libfuse's passthrough_ll, the nodeid the kernel gets is the
 * address of our node, and the node lives exactly as long as someone
 * needs it: the kernel (lookup count, dropped by forget), a child node (a
 * child keeps its parent, so the path above any known node stays known)
 * or the watcher (a pin while it diffs and notifies).  Nodes are found by
 * (parent, name, content), one path component at a time; nothing here
 * ever builds a path string.  A file's name whose content changed (a new
 * version, a new index.txt) gets a new node beside the old one, which
 * lives on while the kernel holds it (an open file) and serves nothing
 * but its own content.
 *
 * A node's st_ino is a keyed hash: HMAC-SHA256 under the store's secret
 * (store_meta_key()) of the parent's key and the name, chained from the
 * recipient directory, whose key depends on its slug alone.  So the same
 * path of the same recipient has the same inode number in every mount of
 * the same store (with or without --as, wherever the store file is moved),
 * and the number says nothing about what exists besides it.
 *
 * Sections: keys, the hash table, node life cycle, walks for the watcher.
 */
#include "mount_inode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define ITAB_MIN_BUCKETS 256

/* ---- keys ------------------------------------------------------------------------------- */

/*
 * HMAC-SHA256 under the store's secret of a domain label and up to two
 * parts, truncated to FS_KEY_LEN bytes.  Returns 0, or -EIO when OpenSSL
 * fails.
 */
static int itab_hmac(const struct fs *fs, const char *label, const void *a, size_t alen,
		     const void *b, size_t blen, unsigned char ret_key[FS_KEY_LEN])
{
	unsigned char msg[64 + FS_KEY_LEN + FS_NAME_MAX + 2];
	unsigned char out[DIGEST_SHA256_LEN];
	size_t llen = strlen(label), n = 0;

	if (llen + 1 + alen + 1 + blen > sizeof(msg))
		return -ENAMETOOLONG;
	memcpy(msg + n, label, llen + 1); /* the NUL separates the domain */
	n += llen + 1;
	if (alen)
		memcpy(msg + n, a, alen);
	n += alen;
	msg[n++] = 0;
	if (blen)
		memcpy(msg + n, b, blen);
	n += blen;
	if (digest_hmac_sha256(fs->secret, sizeof(fs->secret), msg, n, out))
		return -EIO;
	memcpy(ret_key, out, FS_KEY_LEN);
	return 0;
}

/* st_ino from a key: never 0 (no inode) nor 1 (looks like a root). */
static uint64_t itab_ino_of(const unsigned char key[FS_KEY_LEN])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | key[i];
	return v < 2 ? v + 2 : v;
}

/* The key of a node from its parent's and its own identity. */
static int itab_key(const struct fs *fs, const struct fs_node *parent, const char *name,
		    const struct fs_id *id, unsigned char ret_key[FS_KEY_LEN])
{
	if (id->type == FS_ROOT)
		return itab_hmac(fs, "advisoryfs/root", NULL, 0, NULL, 0, ret_key);
	if (id->type == FS_RECIP)
		return itab_hmac(fs, "advisoryfs/recipient", id->slug, strlen(id->slug), NULL, 0,
				 ret_key);
	return itab_hmac(fs, "advisoryfs/child", parent->key, FS_KEY_LEN, name, strlen(name),
			 ret_key);
}

int itab_child_ino(const struct fs *fs, const struct fs_node *parent, const char *name,
		   const struct fs_id *id, uint64_t *ret_ino)
{
	unsigned char key[FS_KEY_LEN];
	int r = itab_key(fs, parent, name, id, key);
	if (r)
		return r;
	*ret_ino = itab_ino_of(key);
	return 0;
}

/* ---- the hash table --------------------------------------------------------------------- */

static size_t itab_hash(const struct fs_node *parent, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

int itab_init(struct fs_itab *t)
{
	t->buckets = calloc(ITAB_MIN_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = ITAB_MIN_BUCKETS;
	t->count = 0;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

/* Find (parent, name, vkey); called with t->lock held. */
static struct fs_node *itab_find_locked(struct fs_itab *t, const struct fs_node *parent,
					const char *name, uint64_t vkey)
{
	struct fs_node *n = t->buckets[itab_hash(parent, name) & (t->nbuckets - 1)];
	for (; n; n = n->hnext)
		if (n->parent == parent && n->vkey == vkey && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

/* Double the buckets once the table is fuller than one node per bucket;
 * on allocation failure keep the longer chains.  t->lock held. */
static void itab_grow_locked(struct fs_itab *t)
{
	if (t->count <= t->nbuckets)
		return;
	size_t nb = t->nbuckets * 2;
	struct fs_node **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct fs_node *n = t->buckets[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			size_t h = itab_hash(n->parent, n->name) & (nb - 1);
			n->hnext = b[h];
			b[h] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

static void itab_unlink_locked(struct fs_itab *t, struct fs_node *node)
{
	struct fs_node **pp = &t->buckets[itab_hash(node->parent, node->name) & (t->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == node) {
			*pp = node->hnext;
			t->count--;
			return;
		}
	}
}

/* ---- node life cycle -------------------------------------------------------------------- */

/*
 * Allocate a node for (parent, name, id), copying the name, the slug of a
 * recipient node and the docname of a file node into the node itself.
 * Other nodes share their recipient's slug (the parent outlives them).
 * Returns NULL on failure (out of memory, or OpenSSL failing).
 */
static struct fs_node *itab_node_new(const struct fs *fs, struct fs_node *parent, const char *name,
				     const struct fs_id *id, uint64_t vkey, const struct stat *st)
{
	size_t nlen = strlen(name);
	size_t slen = id->type == FS_RECIP ? strlen(id->slug) + 1 : 0;
	size_t dlen = id->type == FS_FILE || id->type == FS_PGPKEY ? strlen(id->docname) + 1 : 0;
	struct fs_node *n = calloc(1, sizeof(*n) + nlen + 1 + slen + dlen);
	if (!n)
		return NULL;
	if (itab_key(fs, parent, name, id, n->key)) {
		free(n);
		return NULL;
	}
	n->ino = itab_ino_of(n->key);
	n->vkey = vkey;
	if (st) {
		n->size = (int64_t)st->st_size;
		n->mtime = (int64_t)st->st_mtim.tv_sec;
		n->mode = (uint32_t)st->st_mode;
		n->uid = (uint32_t)st->st_uid;
		n->gid = (uint32_t)st->st_gid;
	}
	n->parent = parent;
	n->id = *id;
	n->namelen = nlen;
	memcpy(n->name, name, nlen + 1);
	char *tail = n->name + nlen + 1;
	if (slen) {
		memcpy(tail, id->slug, slen);
		n->id.slug = tail;
		tail += slen;
	} else if (parent) {
		n->id.slug = parent->id.slug;
	}
	if (dlen) {
		memcpy(tail, id->docname, dlen);
		n->id.docname = tail;
	} else {
		n->id.docname = NULL;
	}
	return n;
}

int itab_make_root(struct fs *fs)
{
	struct fs_id id = { .type = fs->as_slug ? FS_RECIP : FS_ROOT, .slug = fs->as_slug };
	struct fs_node *root = itab_node_new(fs, NULL, "", &id, 0, NULL);
	if (!root)
		return -ENOMEM;
	root->nlookup = 1; /* the kernel's, never forgotten */
	fs->root = root;
	return 0;
}

struct fs_node *itab_node(struct fs *fs, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return fs->root;
	return (struct fs_node *)(uintptr_t)ino;
}

fuse_ino_t itab_nodeid(const struct fs *fs, const struct fs_node *n)
{
	return n == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* Free node and every ancestor that nothing needs any more.  t->lock held. */
static void itab_release_locked(struct fs *fs, struct fs_node *n)
{
	while (n && n != fs->root && n->nlookup == 0 && n->refs == 0) {
		struct fs_node *parent = n->parent;
		itab_unlink_locked(&fs->itab, n);
		free(n);
		n = parent;
		if (n)
			n->refs--;
	}
}

int itab_lookup(struct fs *fs, struct fs_node *parent, const char *name, const struct fs_id *id,
		uint64_t vkey, const struct stat *st, struct fs_node **ret_node)
{
	struct fs_itab *t = &fs->itab;
	struct fs_node *n, *fresh;

	pthread_mutex_lock(&t->lock);
	n = itab_find_locked(t, parent, name, vkey);
	if (n) {
		n->nlookup++;
		pthread_mutex_unlock(&t->lock);
		*ret_node = n;
		return 0;
	}
	pthread_mutex_unlock(&t->lock);

	/* the HMAC is computed outside the lock; a racing lookup may win */
	fresh = itab_node_new(fs, parent, name, id, vkey, st);
	if (!fresh)
		return -ENOMEM;
	pthread_mutex_lock(&t->lock);
	n = itab_find_locked(t, parent, name, vkey);
	if (!n) {
		n = fresh;
		fresh = NULL;
		size_t h = itab_hash(parent, name) & (t->nbuckets - 1);
		n->hnext = t->buckets[h];
		t->buckets[h] = n;
		t->count++;
		parent->refs++;
		itab_grow_locked(t);
	}
	n->nlookup++;
	pthread_mutex_unlock(&t->lock);
	free(fresh);
	*ret_node = n;
	return 0;
}

void itab_forget(struct fs *fs, struct fs_node *node, uint64_t nlookup)
{
	if (node == fs->root)
		return;
	pthread_mutex_lock(&fs->itab.lock);
	if (nlookup > node->nlookup) {
		fs_log(fs, FUSE_LOG_ERR, "forget of %llu lookups on a node with %llu",
		       (unsigned long long)nlookup, (unsigned long long)node->nlookup);
		nlookup = node->nlookup;
	}
	node->nlookup -= nlookup;
	itab_release_locked(fs, node);
	pthread_mutex_unlock(&fs->itab.lock);
}

void itab_destroy(struct fs_itab *t)
{
	if (!t->buckets)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct fs_node *n = t->buckets[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			free(n);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	pthread_mutex_destroy(&t->lock);
}

/* ---- walks for the watcher -------------------------------------------------------------- */

int itab_pin_all(struct fs *fs, struct fs_node ***ret_nodes, size_t *ret_n)
{
	struct fs_itab *t = &fs->itab;
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	struct fs_node **v = malloc((t->count + 1) * sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&t->lock);
		return -ENOMEM;
	}
	v[n++] = fs->root; /* never freed, needs no pin */
	for (size_t i = 0; i < t->nbuckets; i++) {
		for (struct fs_node *node = t->buckets[i]; node; node = node->hnext) {
			node->refs++;
			v[n++] = node;
		}
	}
	pthread_mutex_unlock(&t->lock);
	*ret_nodes = v;
	*ret_n = n;
	return 0;
}

void itab_unpin_all(struct fs *fs, struct fs_node **nodes, size_t n)
{
	pthread_mutex_lock(&fs->itab.lock);
	for (size_t i = 0; i < n; i++) {
		if (nodes[i] == fs->root)
			continue;
		nodes[i]->refs--;
		itab_release_locked(fs, nodes[i]);
	}
	pthread_mutex_unlock(&fs->itab.lock);
	free(nodes);
}

void itab_pin(struct fs *fs, struct fs_node *node)
{
	pthread_mutex_lock(&fs->itab.lock);
	node->refs++;
	pthread_mutex_unlock(&fs->itab.lock);
}

void itab_unpin(struct fs *fs, struct fs_node *node)
{
	pthread_mutex_lock(&fs->itab.lock);
	node->refs--;
	itab_release_locked(fs, node);
	pthread_mutex_unlock(&fs->itab.lock);
}

int itab_recipients(struct fs *fs, char ***ret_slugs, size_t *ret_n)
{
	struct fs_itab *t = &fs->itab;
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof(*v));
	int r = 0;
	if (!v)
		return -ENOMEM;
	pthread_mutex_lock(&t->lock);
	if (fs->root->id.type == FS_RECIP && !(v[n++] = strdup(fs->root->id.slug)))
		r = -ENOMEM;
	for (size_t i = 0; i < t->nbuckets && !r; i++) {
		for (struct fs_node *node = t->buckets[i]; node && !r; node = node->hnext) {
			if (node->id.type != FS_RECIP)
				continue;
			if (n == cap) {
				char **nv = realloc(v, 2 * cap * sizeof(*v));
				if (!nv) {
					r = -ENOMEM;
					break;
				}
				v = nv;
				cap *= 2;
			}
			if (!(v[n++] = strdup(node->id.slug)))
				r = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (r) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*ret_slugs = v;
	*ret_n = n;
	return 0;
}
