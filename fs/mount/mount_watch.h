/*
 * mount_watch.h - the watcher thread: reload on a store change or a time boundary,
 * compare, tell the kernel (mount_watch.c).
 */
#ifndef ADVISORYFS_MOUNT_WATCH_H
#define ADVISORYFS_MOUNT_WATCH_H

#include "mount_fs.h"

/* Open the watcher's connection and start the thread.  0 or -errno. */
int watch_start(struct fs *fs);
/* Stop and join the thread; closes its connection. */
void watch_stop(struct fs *fs);

#endif
