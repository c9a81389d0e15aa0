/*
 * remote_apply.h - applying the server's changes (remote_apply.c).
 */
#ifndef ADVISORYFS_REMOTE_APPLY_H
#define ADVISORYFS_REMOTE_APPLY_H

#include "remote_link.h"

/* The applier thread's function (arg: the struct rm). */
void *rm_applier(void *arg);
/* The link's callbacks: frames to the applier, the connection's end. */
extern const struct rl_ops rm_link_ops;

#endif
