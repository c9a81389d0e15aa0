/*
 * mount_fs.h - what the files of the advisoryfs mount share (private to
 * fs/mount/): the state of a mount and its nodes, snapshots, pool, ledger
 * and callers, with the lock that protects each field; logging, signals
 * and the connection pool (mount_fs.c).  Each part declares its functions
 * in a header of its own, which includes only this one; mount.h is what
 * the command line sees.
 *
 * The mount is split by concern, one prefix per file:
 *   mount.c        command line, session life cycle, mount_main*()      mount_
 *   mount_fs.c     logging, signals, the pool of reader connections    fs_
 *   mount_snap.c   snapshots of the world, per-recipient views,
 *                  resolving a node in a snapshot, listings, attrs      snap_
 *   mount_inode.c  the inode table (nodeid = pointer, lookup counts)   itab_
 *   mount_ops.c    the FUSE low-level operations                      fsop_
 *   mount_watch.c  the watcher thread: reload, diff, notify kernel     watch_
 *   mount_tenant.c callers of a shared mount (allow_other): what each
 *                  may see, owners and modes, entry timeouts           tenant_
 *   mount_ledger.c the disclosure ledger: first reads recorded         ledger_
 *
 * Locks (the one place where their order is written down):
 *
 *   dh->lock           one open directory's listing (mount_ops.c)
 *   fs->ledger.write_lock  the ledger connection, across one transaction
 *   fs->ledger.set_lock    the set of disclosures already recorded
 *   fs->push_lock      pushing hash files into the page cache (mount_ops.c)
 *   fs->snap_lock      the pointer fs->snap (and so the generation)
 *   snap->lock         the lazily built views of one snapshot
 *   fs->itab.lock      the inode table: hash chains, nlookup, refs
 *   fs->pool.lock      the idle SQLite connections of readers
 *   fs->handles_lock   the list of open directory handles
 *   fs->watch_lock     the watcher's sleep and stop flag
 *
 *   Order: a lock may only be taken while holding locks above it in this
 *   list.  In practice dh->lock, fs->ledger.write_lock and fs->push_lock
 *   are the only ones ever held while taking another (a readdir resolves
 *   and looks up entries under its directory's lock; a ledger write checks
 *   and fills the set under the write lock; a push takes the snapshot and
 *   resolves under the push lock); the others are leaves, held for a few
 *   instructions or, for snap->lock, one view_build().  The write lock is
 *   held across one SQLite transaction (an fsync), never while resolving;
 *   a checkpoint takes a pool connection under it (no request holds a
 *   pool connection while waiting for the write lock).
 *   Nothing is held across a fuse_reply_*() or a fuse_lowlevel_notify_*()
 *   call: a notification can wait in the kernel for a request on the same
 *   directory (lookup, readdir) to be answered, and that request's handler
 *   may need any of these locks.  The one exception is push_lock across
 *   fuse_lowlevel_notify_store(), which waits at most for a READ of the
 *   same page; no READ takes push_lock, and the watcher holds nothing else
 *   when it takes it.
 *
 * Lifetimes: a snapshot is reference counted (snap_get()/snap_put()); a
 * request holds one reference for its duration, so the watcher can swap
 * in a new one at any time.  Nodes live while the kernel holds a lookup
 * count on them, while a child node exists (a child holds a reference on
 * its parent) or while the watcher pins them for a notification.
 */
#ifndef ADVISORYFS_MOUNT_FS_H
#define ADVISORYFS_MOUNT_FS_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>

#include "csaf.h"
#include "policy.h"
#include "store.h"
#include "view.h"
#include "world.h"

#define FS_KEY_LEN 16            /* per-node chaining key, from HMAC-SHA256 */
#define FS_NAME_MAX 255          /* longest name we ever produce or accept */
#define FS_DEFAULT_TIMEOUT 86400.0
#define FS_DEFAULT_POLL_MS 50
#define FS_DEFAULT_CONNS 8
#define FS_MAX_CONNS 64
#define FS_DEFAULT_CHECKPOINT 60 /* seconds between signed ledger checkpoints */

enum fs_type {
	FS_ROOT,        /* root of a full mount: one directory per recipient */
	FS_RECIP,       /* a recipient's directory (the root with --as) */
	FS_TLPDIR,      /* white/ green/ amber/ red/ */
	FS_INDEX,       /* <tlpdir>/index.txt */
	FS_CHANGES,     /* <tlpdir>/changes.csv */
	FS_YEAR,        /* <tlpdir>/<year>/ */
	FS_FILE,        /* <year>/<name>.json[.sha256|.sha512|.asc] */
	FS_PROVIDER,    /* <recipient>/provider-metadata.json */
	FS_OPENPGP,     /* <recipient>/openpgp/ (only with a signing key) */
	FS_PGPKEY,      /* openpgp/<FINGERPRINT>.asc */
};

/*
 * What a node stands for, independent of any snapshot: enough to find it
 * again in any view.  Strings point into the node (or, while a lookup is
 * being decided, into the parent node and the caller's buffer).
 */
struct fs_id {
	uint8_t type;           /* enum fs_type */
	uint8_t dir;            /* enum view_tlpdir (FS_TLPDIR and below) */
	uint8_t kind;           /* enum view_kind (FS_FILE) */
	uint16_t year;          /* FS_YEAR, FS_FILE */
	const char *slug;       /* recipient (FS_RECIP and below) */
	const char *docname;    /* FS_FILE: "<name>.json"; FS_PGPKEY: "<FPR>.asc" */
};

struct fs_node {
	struct fs_node *hnext;  /* hash chain: protected by fs->itab.lock */
	uint64_t nlookup;       /* kernel's lookup count: protected by fs->itab.lock */
	uint64_t refs;          /* children + pins: protected by fs->itab.lock */
	/* constant after creation: */
	struct fs_node *parent; /* NULL for the root; holds a ref on it */
	uint64_t ino;           /* st_ino: keyed hash, stable across mounts */
	/*
	 * A file node stands for one content: the version of a document (its
	 * bytes, signature and hash lines) or the exact bytes of a generated
	 * file (a hash of them).  A name whose content changes gets a new node
	 * (same st_ino), so a node's bytes never change and no handle is
	 * needed to read them whole (mount_ops.c).  0 for directories.  The
	 * attributes are those of that content, for a stat through a file
	 * whose name has moved on.
	 */
	uint64_t vkey;
	int64_t size, mtime;
	uint32_t mode, uid, gid;
	unsigned char key[FS_KEY_LEN];
	struct fs_id id;
	size_t namelen;
	char name[];            /* last component ("" for the root); then slug, docname */
};

struct fs_itab {
	pthread_mutex_t lock;
	struct fs_node **buckets;   /* protected by lock */
	size_t nbuckets;            /* protected by lock; a power of two */
	size_t count;               /* protected by lock */
};

/*
 * One snapshot: the active policy and the world at time t, and the views
 * of the recipients somebody asked about.  Immutable once published,
 * except views[], which fill in lazily.
 */
struct fs_snap {
	atomic_ulong refs;
	uint64_t gen;               /* changes whenever the world or the time moves */
	int64_t t;                  /* decisions are made at t; world asof t */
	int64_t change_seq;         /* store change_log sequence the world reflects */
	int64_t next_boundary;      /* the watcher rebuilds when the clock reaches it */
	struct policy *p;
	struct world *w;
	struct view_provider prov;  /* provider values and key, read with the world */
	pthread_mutex_t lock;
	struct view **views;        /* [w->norgs]: protected by lock, built lazily */
};

/* Where a node is in one snapshot (after snap_resolve()). */
struct fs_loc {
	const struct view *v;       /* NULL for FS_ROOT */
	uint32_t org;               /* W_NONE for FS_ROOT */
	int year;                   /* index into v->years, or -1 */
	int doc;                    /* index into v->docs, or -1 */
};

/* A directory listing (names in their readdir order). */
struct fs_ent {
	const char *name;
	size_t len;
	uint8_t isdir;
};
struct fs_list {
	struct fs_ent *ents;
	size_t n;
	char *buf;                  /* the names */
};

/* Reader connections to the store: a store handle is single-threaded. */
struct fs_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct store *idle[FS_MAX_CONNS];   /* protected by lock */
	unsigned nidle;                     /* protected by lock */
	unsigned nopen;                     /* protected by lock */
	unsigned max;                       /* constant */
};

/* The disclosure ledger of a mount (mount_ledger.c). */
struct fs_ledger_key {
	int64_t org_id;             /* store row id of the recipient; 0 for public */
	int64_t version_id;         /* store row id of the version; 0: a free slot */
};
struct fs_ledger {
	int initialised;            /* locks made (main thread only) */
	pthread_mutex_t write_lock;
	struct store_ledger *db;    /* protected by write_lock; NULL until ledger_start() */
	int dirty;                  /* protected by write_lock: recorded since the last checkpoint */
	int64_t cp_last;            /* protected by write_lock: last checkpoint attempt */
	int cp_failing;             /* protected by write_lock: said so once already */
	pthread_mutex_t set_lock;
	struct fs_ledger_key *set;  /* protected by set_lock: open addressing, at most half full */
	size_t cap, count;          /* protected by set_lock */
};

/* Who a request comes from (mount_tenant.c); lives for one request. */
#define FS_CALLER_GROUPS 32
struct fs_caller {
	fuse_req_t req;
	uid_t uid;
	gid_t gid;
	int ngroups;                /* supplementary groups; -1 until needed */
	gid_t *groups;              /* small, or allocated when there are more */
	gid_t small[FS_CALLER_GROUPS];
};

struct fs {
	/* constant once the session runs: */
	struct fuse_session *se;
	char *store_path;           /* absolute (the daemon chdirs to /) */
	char *as_slug;              /* NULL: the full tree */
	double timeout;             /* entry, negative entry and attribute timeout */
	unsigned poll_ms;
	int debug;
	uid_t uid;
	gid_t gid;
	int shared;                 /* -o allow_other: several accounts (mount_tenant.c) */
	unsigned checkpoint_s;      /* sign the ledger's head this often (0: only at exit) */
	unsigned char secret[32];   /* store_meta_key(); wiped at exit */
	struct fs_node *root;

	struct fs_itab itab;
	struct fs_pool pool;
	struct fs_ledger ledger;

	/* open directory handles the kernel has not released yet, freed at exit if it
	 * never does (an aborted connection sends no RELEASE): mount_ops.c */
	pthread_mutex_t handles_lock;
	void *handles;              /* protected by handles_lock */

	/* held by a push of file contents into the kernel's page cache
	 * (fuse_lowlevel_notify_store(), mount_ops.c), from the check that
	 * the node is current to the notification; the watcher takes it once
	 * after swapping in a snapshot and before telling the kernel, so no
	 * push decided with the old snapshot lands after its invalidations */
	pthread_mutex_t push_lock;

	pthread_mutex_t snap_lock;
	struct fs_snap *snap;       /* protected by snap_lock */
	uint64_t next_gen;          /* watcher only */

	/* the watcher */
	pthread_t main_thread;      /* runs the request loop; woken with SIGTERM */
	pthread_t watcher;
	int watcher_running;        /* main thread only */
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_cond;  /* CLOCK_MONOTONIC */
	int stop;                   /* protected by watch_lock */
	struct store *watch_st;     /* watcher thread only (main before it starts) */
	int64_t last_dv;            /* watcher only */
	/* set by watch_start(), closed by watch_stop() after the join: an
	 * eventfd watch_stop() writes to wake the watcher's poll() (constant;
	 * -1: it sleeps on watch_cond), and an inotify descriptor on the
	 * store's directory (watcher only; -1: polling only) */
	int watch_wake;
	int watch_inotify;
	unsigned watch_burst;       /* watcher only: short polls left after a store event */
};


/* Logging: errors and warnings always, the rest with -d. */
void fs_log(const struct fs *fs, enum fuse_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A fuse_log() function that writes to syslog (fuse_log levels are syslog's). */
void fs_syslog(enum fuse_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* SIGINT, SIGTERM and SIGHUP ask the mount to end (fs_signalled()), SIGPIPE
 * is ignored; the handlers are installed for the life of the session and
 * the previous ones put back after it. */
#define FS_NSIGS 4
void fs_signals_install(struct sigaction old[FS_NSIGS]);
void fs_signals_restore(const struct sigaction old[FS_NSIGS]);
/* Whether SIGINT, SIGTERM or SIGHUP asked the mount to end. */
int fs_signalled(void);

/* A reader connection from the pool (blocks while all are busy): 0 or
 * -errno (logged).  Give it back with fs_pool_put(). */
int fs_pool_get(struct fs *fs, struct store **ret_st);
void fs_pool_put(struct fs *fs, struct store *st);

#endif
