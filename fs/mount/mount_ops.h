/*
 * mount_ops.h - the FUSE low-level operations (mount_ops.c).
 */
#ifndef ADVISORYFS_MOUNT_OPS_H
#define ADVISORYFS_MOUNT_OPS_H

#include "mount_fs.h"

extern const struct fuse_lowlevel_ops fsop_ops;
/* Free the handles the kernel never released (after the session ended). */
void fsop_release_all(struct fs *fs);

#endif
