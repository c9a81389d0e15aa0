/*
 * mount_inode.h - the inode table: nodeid = pointer to the node, lookup counts
 * (mount_inode.c).
 */
#ifndef ADVISORYFS_MOUNT_INODE_H
#define ADVISORYFS_MOUNT_INODE_H

#include "mount_fs.h"

int itab_init(struct fs_itab *t);
/* Free every node (at unmount) and the table. */
void itab_destroy(struct fs_itab *t);
/* The node of a nodeid (FUSE_ROOT_ID is fs->root). */
struct fs_node *itab_node(struct fs *fs, fuse_ino_t ino);
/* The nodeid of a node. */
fuse_ino_t itab_nodeid(const struct fs *fs, const struct fs_node *n);
/* Make the root node.  0 or -ENOMEM. */
int itab_make_root(struct fs *fs);
/* Find or create the child (parent, name) described by id holding the
 * content vkey with attributes st, and add one lookup.  0 or -ENOMEM. */
int itab_lookup(struct fs *fs, struct fs_node *parent, const char *name, const struct fs_id *id,
		uint64_t vkey, const struct stat *st, struct fs_node **ret_node);
/* The st_ino the child (parent, name) described by id has or would have,
 * without making a node.  0 or -errno. */
int itab_child_ino(const struct fs *fs, const struct fs_node *parent, const char *name,
		   const struct fs_id *id, uint64_t *ret_ino);
/* Drop n lookups; frees the node (and parents) once unreferenced. */
void itab_forget(struct fs *fs, struct fs_node *node, uint64_t n);
/* Pin every node in the table; the caller owns the array and calls
 * itab_unpin_all().  0 or -ENOMEM. */
int itab_pin_all(struct fs *fs, struct fs_node ***ret_nodes, size_t *ret_n);
void itab_unpin_all(struct fs *fs, struct fs_node **nodes, size_t n);
/* Pin one node (it stays allocated until itab_unpin()). */
void itab_pin(struct fs *fs, struct fs_node *node);
void itab_unpin(struct fs *fs, struct fs_node *node);
/* Distinct recipient slugs with a node in the table (malloc'd array of
 * pointers to strdup'd slugs).  0 or -ENOMEM. */
int itab_recipients(struct fs *fs, char ***ret_slugs, size_t *ret_n);

#endif
