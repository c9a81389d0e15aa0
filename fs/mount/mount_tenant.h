/*
 * mount_tenant.h - callers of a shared mount (-o allow_other): what each may see,
 * owners and modes, entry timeouts (mount_tenant.c, docs/MULTITENANT.md).
 */
#ifndef ADVISORYFS_MOUNT_TENANT_H
#define ADVISORYFS_MOUNT_TENANT_H

#include "mount_fs.h"

void tenant_caller_init(struct fs_caller *c, fuse_req_t req);
void tenant_caller_release(struct fs_caller *c);
/* Whether c may see recipient org (index into s->w->orgs; W_NONE for an
 * --as recipient that is gone).  Always 1 unless fs->shared. */
int tenant_may(const struct fs *fs, const struct fs_snap *s, struct fs_caller *c, uint32_t org);
/* Whether c may see name under parent: only names under the root depend
 * on the caller. */
int tenant_may_enter(const struct fs *fs, const struct fs_snap *s, struct fs_caller *c,
		     const struct fs_node *parent, const char *name);
/* Whether c may use node n, resolved at loc (open, opendir). */
int tenant_may_loc(const struct fs *fs, const struct fs_snap *s, struct fs_caller *c,
		   const struct fs_node *n, const struct fs_loc *loc);
/* Entry timeout (positive and negative) for name under parent. */
double tenant_entry_timeout(const struct fs *fs, const struct fs_node *parent, const char *name);
/* Owner, group and mode of a shared mount's node (snap_attr() calls it). */
void tenant_own(const struct fs *fs, const struct fs_snap *s, const struct fs_id *id,
		const struct fs_loc *loc, struct stat *st);

#endif
