/*
 * mount_snap.h - snapshots of the world and the views of recipients; resolving nodes,
 * listings and attributes in a snapshot (mount_snap.c).
 */
#ifndef ADVISORYFS_MOUNT_SNAP_H
#define ADVISORYFS_MOUNT_SNAP_H

#include "mount_fs.h"

/* Load a new snapshot from st (active policy, world at now).  The caller
 * owns one reference.  Returns 0 or -errno (message in the store). */
int snap_load(struct store *st, uint64_t gen, struct fs_snap **ret_snap);
/* A new snapshot made from old and the withdrawals and shares committed
 * since (at most SNAP_PATCH_MAX), without loading the world again.  The
 * caller owns one reference.  -EAGAIN when the changes or the time do not
 * allow it (use snap_load()); other -errno (message in the store). */
#define SNAP_PATCH_MAX 64
int snap_patch(struct store *st, struct fs_snap *old, uint64_t gen, struct fs_snap **ret_snap);
/* The current snapshot, with a reference the caller drops with snap_put(). */
struct fs_snap *snap_get(struct fs *fs);
void snap_put(struct fs_snap *s);
/* The current generation. */
uint64_t snap_gen(struct fs *fs);
/* The view of recipient slug in s, built on first use; its index in
 * *ret_org.  -ENOENT when the world has no such recipient, -ENOMEM. */
int snap_view(struct fs_snap *s, const char *slug, uint32_t *ret_org, const struct view **ret_v);
/* Whether id is visible in s; where.  0, -ENOENT, -ENOMEM. */
int snap_resolve(struct fs *fs, struct fs_snap *s, const struct fs_id *id, struct fs_loc *ret_loc);
/* Attributes of node id, numbered ino, resolved at loc. */
void snap_attr(const struct fs *fs, struct fs_snap *s, const struct fs_id *id, uint64_t ino,
	       const struct fs_loc *loc, struct stat *ret_st);
/* Parse one name below parent into *ret_id (docbuf holds the docname).
 * Purely syntactic: -ENOENT for a name that cannot exist, -ENOTDIR. */
int snap_child(const struct fs *fs, const struct fs_node *parent, const char *name,
	       struct fs_id *ret_id, char docbuf[FS_NAME_MAX + 1]);
/* Listing of a directory node in s; an invisible directory lists empty.
 * The caller frees it with snap_list_free().  0 or -ENOMEM. */
int snap_list(struct fs *fs, struct fs_snap *s, const struct fs_node *n, struct fs_list *ret);
void snap_list_free(struct fs_list *l);
/* Generated content of a file in s (index, changes, hash line, provider
 * metadata, public key): pointer
 * into the view or into buf (at least 256 bytes).  Not for documents. */
const char *snap_generated(const struct fs_snap *s, const struct fs_id *id,
			   const struct fs_loc *loc, char *buf, size_t buflen, size_t *ret_len);
/* What the file id resolved at loc holds (struct fs_node's vkey): a
 * stored file's version id, a hash of a generated file's bytes, 0 for a
 * directory. */
uint64_t snap_vkey(const struct fs_snap *s, const struct fs_id *id, const struct fs_loc *loc);
/* Resolve node n in s and check that its name still holds the node's
 * content: 0, -ENOENT (not visible), -ESTALE (visible with other
 * content: a newer node has the name), -ENOMEM. */
int snap_current(struct fs *fs, struct fs_snap *s, const struct fs_node *n, struct fs_loc *ret_loc);
/* The world advisory of a resolved FS_FILE node. */
const struct w_adv *snap_adv(const struct fs_loc *loc);

#endif
