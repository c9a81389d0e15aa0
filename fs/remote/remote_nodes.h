/*
 * remote_nodes.h - what the files of the remote mount's client share
 * (private to fs/remote/): its state, the nodes the kernel holds, the
 * cache of fetched bytes, attributes (remote_nodes.c).  remote_mount.c has
 * the FUSE operations and the command, remote_apply.c applies the
 * server's changes and tells the kernel; remote_mount.c's file comment
 * describes the whole and the lock order.
 */
#ifndef ADVISORYFS_REMOTE_NODES_H
#define ADVISORYFS_REMOTE_NODES_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include <fuse_lowlevel.h>

#include "remote_link.h"
#include "remote_proto.h"
#include "remote_tree.h"

struct rm_node {
	struct rm_node *hnext;      /* itab chain */
	struct rm_node *lru_prev, *lru_next;
	uint64_t nlookup, refs;     /* itab lock */
	uint64_t ino, size;
	int64_t mtime;
	uint8_t isdir;
	unsigned char sha[32];      /* the content (zeros: a directory) */
	size_t pathlen;
	char path[];
};

struct rm_blob {                /* a cached file's bytes, by content */
	struct rm_blob *hnext, *prev, *next;
	unsigned char sha[32];
	unsigned char *data;
	size_t len;
};

struct rm_frame {               /* a frame waiting for the applier */
	struct rm_frame *next;
	unsigned char *bytes;
	struct rp_msg m;
	int first;
};

struct rm {
	/* constant */
	struct fuse_session *se;
	const char *host;
	double timeout;
	unsigned max_stale;
	size_t cache_size;
	uid_t uid;
	gid_t gid;
	int debug;
	int timing;                 /* $ADVISORYFS_REMOTE_TIMING: how long applying takes */
	struct rm_node *root;
	struct rl_link link;

	pthread_mutex_t tree_lock;
	struct rt_tree *tree;       /* tree_lock */

	pthread_mutex_t itab_lock;
	struct rm_node **buckets;   /* itab_lock */
	size_t nbuckets, nnodes;

	pthread_mutex_t cache_lock;
	struct rm_blob **cbuckets;  /* cache_lock; a power of two */
	size_t ncbuckets, cached;
	struct rm_blob lru;         /* list head: lru.next newest */

	pthread_mutex_t q_lock;
	pthread_cond_t q_cond;      /* CLOCK_MONOTONIC */
	struct rm_frame *q_head, **q_tail;
	int q_stop;
	pthread_t applier;
	int applier_running;

	pthread_mutex_t state_lock;
	int up;                     /* the current connection's tree is applied */
	int64_t down_ms;            /* when it went (up == 0) */
	int dropped;                /* the kernel's caches were dropped for staleness */
};


/* Logging through fuse_log() (syslog once a daemon); LOG_DEBUG only with -d. */
void rm_log(struct rm *rm, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int64_t rm_ms(void);
/* Whether requests must fail: disconnected for longer than max_stale. */
int rm_stale(struct rm *rm);
/* The current tree, with a reference (rt_put()); its generation. */
struct rt_tree *rm_tree(struct rm *rm);
uint64_t rm_gen(struct rm *rm);

uint64_t rm_hash(const char *p, size_t n);
struct rm_node *rm_node(struct rm *rm, fuse_ino_t ino);
fuse_ino_t rm_nodeid(struct rm *rm, const struct rm_node *n);
/* The node of entry e with one lookup added (made when new).  NULL: ENOMEM. */
struct rm_node *rm_lookup_node(struct rm *rm, const struct rt_ent *e);
void rm_forget_node(struct rm *rm, struct rm_node *n, uint64_t count);
/* Every node, pinned; the caller unpins them with rm_unpin_all(). */
struct rm_node **rm_pin_all(struct rm *rm, size_t *ret_n);
/* The nodes of the given paths (any content), pinned likewise. */
struct rm_node **rm_pin_paths(struct rm *rm, const struct rp_intern *paths, size_t *ret_n);
void rm_unpin_all(struct rm *rm, struct rm_node **v, size_t n);
/* The node of directory path, if the kernel holds one (not pinned). */
struct rm_node *rm_dir_node(struct rm *rm, const char *path, size_t len);

/* The cache of fetched bytes, by content. */
unsigned char *rm_cache_get(struct rm *rm, const unsigned char *sha, size_t *ret_len);
void rm_cache_put(struct rm *rm, const unsigned char *sha, const unsigned char *data, size_t len);
void rm_cache_drop(struct rm *rm, const unsigned char *sha);

/* The attributes of entry e. */
void rm_attr(struct rm *rm, const struct rt_ent *e, struct stat *st);
/* Whether node n still holds the content of t's entry at its path (its
 * index in *ret_i): 0, -ENOENT, -ESTALE. */
int rm_current(const struct rt_tree *t, const struct rm_node *n, int64_t *ret_i);

struct rm *rm_new(void);
void rm_free(struct rm *rm);

#endif
