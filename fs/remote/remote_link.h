/*
 * remote_link.h - the client's connection to the server (remote_link.c):
 * an ssh(1) child whose stdin and stdout carry the protocol, the
 * handshake, the requests waiting for their answers, and reconnection
 * with backoff when the child goes.
 */
#ifndef ADVISORYFS_REMOTE_LINK_H
#define ADVISORYFS_REMOTE_LINK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "remote_proto.h"

/* What the link tells its owner (remote_mount.c), from its reader thread. */
struct rl_ops {
	/* A TREE or PATCH frame: frame (len bytes, malloc'ed) and m decoded
	 * from it both become the callee's (rp_msg_free(), free()).  first: the
	 * TREE of a new connection. */
	void (*tree)(void *arg, unsigned char *frame, struct rp_msg *m, int first);
	/* The connection went (the owner serves what it has, for a while). */
	void (*down)(void *arg);
	/* A line the link or ssh wants logged (level: a syslog level). */
	void (*log)(void *arg, int level, const char *line);
};

struct rl_req;

struct rl_link {
	/* constant */
	char **argv;                /* ssh ... HOST advisoryfs serve */
	const char *host;
	const struct rl_ops *ops;
	void *arg;

	pthread_mutex_t lock;       /* everything below but the write lock's */
	pthread_cond_t cond;        /* CLOCK_MONOTONIC: answers, connection changes */
	pid_t pid;                  /* the ssh child, 0: none */
	int to_fd, from_fd, err_fd; /* its stdin, stdout, stderr; -1: none */
	uint64_t epoch;             /* counts connections; a request is sent once per epoch */
	int connected;              /* handshake done, reader running on this epoch */
	uint32_t next_id;
	struct rl_req *reqs;        /* waiting for an answer */
	int stop;
	pthread_t reader;
	int reader_running;
	char why[512];              /* the last line ssh or the server said */
	pthread_mutex_t wlock;      /* to_fd: one frame at a time */

	/* the reader's buffered input */
	unsigned char *in;
	size_t inlen, incap;
};

/*
 * Set the link up to run "ssh_command HOST advisoryfs serve" (ssh_command
 * split at blanks; NULL: the default ssh(1) invocation).  0 or -ENOMEM.
 */
int rl_init(struct rl_link *l, const char *ssh_command, const char *host,
	    const struct rl_ops *ops, void *arg);
void rl_free(struct rl_link *l);

/*
 * Connect for the first time, in the caller's thread: start ssh, send
 * HELLO, wait for WELCOME and the tree.  0 with the TREE frame in
 * *ret_frame and *ret_m (the caller's); else -errno with one line for the
 * user in err (the server's ERROR, ssh's complaint, or what went wrong).
 */
int rl_connect(struct rl_link *l, unsigned char **ret_frame, struct rp_msg *ret_m, char *err,
	       size_t errlen);
/* Start the reader thread (after rl_connect() succeeded): it reads frames
 * until the connection goes, then reconnects with backoff.  0 or -errno. */
int rl_start(struct rl_link *l);
/* Stop the reader, end ssh, wake every waiting request (they fail). */
void rl_stop(struct rl_link *l);

/*
 * GET path with content sha256: the bytes (malloc'ed) in *ret, *ret_len.
 * Waits while there is no connection, for at most wait_ms in all without
 * one, and sends the request again on a new connection.  0; -ENOENT or
 * -ESTALE when the server refused it (not in the view, other content);
 * -EIO (no connection in time, stopped).
 */
int rl_get(struct rl_link *l, const char *path, size_t pathlen, const unsigned char sha256[32],
	   int64_t wait_ms, unsigned char **ret, size_t *ret_len);

#endif
