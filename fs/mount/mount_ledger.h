/*
 * mount_ledger.h - the disclosure ledger of a mount: first reads recorded before a
 * byte is returned (mount_ledger.c, docs/LEDGER.md).
 */
#ifndef ADVISORYFS_MOUNT_LEDGER_H
#define ADVISORYFS_MOUNT_LEDGER_H

#include "mount_fs.h"

/* Before the daemon forks: make the locks, check that the ledger can be
 * written and load what it holds.  0, or -errno with a line in err. */
int ledger_init(struct fs *fs, char *err, size_t errlen);
/* After the fork, before requests: open the ledger's connection.  0 or
 * -errno (logged). */
int ledger_start(struct fs *fs);
/* Close and free (accepts a ledger never initialised). */
void ledger_free(struct fs *fs);
/* Sign the ledger's head with the store's key when this mount recorded
 * something since the last checkpoint, every fs->checkpoint_s seconds (the
 * watcher calls it on each poll) or now with final (at unmount).  Quiet
 * when the store has no signing key; errors are logged. */
void ledger_checkpoint(struct fs *fs, int final);
/*
 * Record the disclosure of the document at loc (resolved in s: an
 * FS_FILE of kind VIEW_JSON) with the bytes served, read by uid, unless
 * its recipient already received that version.  Called by read, before
 * any byte is returned.  0, or -EIO (logged) / -ENOMEM: the read fails.
 */
int fs_ledger_record(struct fs *fs, const struct fs_snap *s, const struct fs_loc *loc,
		     const void *bytes, size_t len, uid_t uid);

#endif
