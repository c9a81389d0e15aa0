/*
 * remote_tree.h - the client's copy of the recipient's tree, as the server
 * last described it (remote_tree.c): immutable once built, reference
 * counted, replaced whole by each TREE or PATCH frame.
 */
#ifndef ADVISORYFS_REMOTE_TREE_H
#define ADVISORYFS_REMOTE_TREE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "remote_proto.h"
#include "util.h"

struct rt_xattr {
	const char *name, *value;
	uint32_t nlen, vlen;
};

struct rt_ent {
	const char *path;           /* NUL-terminated; "" for the root */
	const char *name;           /* its last component */
	uint16_t pathlen;
	uint8_t kind;               /* enum rp_kind */
	uint8_t nx;
	int64_t mtime;
	uint64_t ino;
	uint64_t size;
	unsigned char sha256[32];   /* of the bytes (computed here for an inline file) */
	const unsigned char *data;  /* RP_INLINE: the bytes */
	struct rt_xattr *x;
	uint32_t end;               /* the index after its last descendant */
	uint32_t parent;            /* its directory's index (the root: 0) */
	uint32_t nsub;              /* directories: how many subdirectories */
	uint64_t hash;              /* of the path (the index's) */
};

/* Memory that entries point into, shared by the trees that hold them. */
struct rt_mem {
	atomic_ulong refs;
	struct au_arena arena;
};
#define RT_MEMS_MAX 32      /* a tree sharing more is worth rt_compact() */

struct rt_tree {
	atomic_ulong refs;
	uint64_t gen;               /* the server's generation */
	struct rt_ent *ents;        /* sorted by rp_path_cmp(); ents[0] is the root */
	uint32_t n;
	uint32_t *slots;            /* path hash -> index + 1 */
	size_t nslots;
	struct rt_mem *mem;         /* this tree's own (mems[0]) */
	struct rt_mem **mems;       /* every memory its entries point into */
	size_t nmems;
};

/*
 * The tree m describes: a TREE frame alone, or a PATCH frame applied to
 * old (whose entries it shares, with their memory).  Checks that
 * the result is a tree (rp_check_tree()).  The caller owns one reference.
 * 0, -EBADMSG with the reason in err, -ENOMEM.
 */
int rt_build(const struct rt_tree *old, const struct rp_msg *m, struct rt_tree **ret, char *err,
	     size_t errlen);
/* The same tree (generation included) in memory of its own: for a tree
 * that shares more than RT_MEMS_MAX memories.  0 or -ENOMEM. */
int rt_compact(const struct rt_tree *t, struct rt_tree **ret);
void rt_get(struct rt_tree *t);
void rt_put(struct rt_tree *t);
/* The index of path, or -1. */
int64_t rt_find(const struct rt_tree *t, const char *path, size_t len);
/* The index of name in directory dir, or -1. */
int64_t rt_child(const struct rt_tree *t, uint32_t dir, const char *name);

#endif
