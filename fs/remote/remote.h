/*
 * remote.h - the remote mount, for the command line (docs/REMOTE.md):
 *
 *   advisoryfs [-s STORE] serve --as SLUG     (remote_serve.c)
 *       the server side: an SSH forced command that speaks the protocol of
 *       remote_proto.h on stdin and stdout and serves SLUG's view;
 *   advisoryfs mount MOUNTPOINT --remote [USER@]HOST [-f] [-d] [-o OPT,...]
 *   advisoryfs ssh://[USER@]HOST MOUNTPOINT [-o OPT,...]    (mount(8), fstab)
 *       the client (remote_mount.c): a FUSE mount of what the server
 *       serves, over ssh(1), with no store on this host.
 */
#ifndef ADVISORYFS_REMOTE_H
#define ADVISORYFS_REMOTE_H

struct cmd_ctx;

/* The arguments after "serve"; returns the exit code (0, 1, 2 usage). */
int remote_serve_main(struct cmd_ctx *ctx, int argc, char **argv);
/* The arguments after "mount" (one of them is --remote); the exit code. */
int remote_mount_main(struct cmd_ctx *ctx, int argc, char **argv);
/* The mount(8) form: argv[0] is "ssh://[USER@]HOST", argv[1] the mount point. */
int remote_mount_fstab(int argc, char **argv);
/* Whether the arguments after "mount" ask for a remote mount (--remote). */
int remote_wanted(int argc, char **argv);

#endif
