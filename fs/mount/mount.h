/*
 * mount.h - the local mount, for the command line: `advisoryfs mount` and
 * the mount(8) form of an fstab line (fs/mount/mount.c).
 *
 * The parts of the mount and the order of their locks are described in
 * mount_fs.h.
 */
#ifndef ADVISORYFS_MOUNT_H
#define ADVISORYFS_MOUNT_H

struct cmd_ctx;

/* `advisoryfs mount MOUNTPOINT [--as SLUG] [-f] [-d] [-o OPT,...]`: the
 * arguments after "mount"; returns the exit code (0, 1, 2 usage). */
int mount_main(struct cmd_ctx *ctx, int argc, char **argv);
/* The mount(8) form `advisoryfs STORE MOUNTPOINT [-o OPT,...]`: argv[0]
 * is the store path. */
int mount_main_fstab(int argc, char **argv);

#endif
