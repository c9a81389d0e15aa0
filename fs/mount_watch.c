/*
 * mount_watch.c - the watcher: keeps the mount live with the kernel's
 * caches switched on (SPEC.md section 3).
 *
 * One thread, never a request handler, with its own read-only store
 * connection.  Every poll_ms (50 ms by default) it reads PRAGMA
 * data_version, a memory read that changes when another connection
 * committed; then the store's change sequence, so a commit that changed
 * nothing visible (a future ledger write) costs no reload.  It also
 * reloads when the clock reaches the snapshot's next boundary
 * (policy_next_boundary(), store_next_release()): an embargo ending, a
 * designation expiring, a scheduled version being released.
 *
 * A reload loads a new snapshot, builds the views of the recipients the
 * kernel knows nodes of, swaps the snapshot in, and then diffs every node
 * the kernel holds (pinned, so none is freed under it) between the old
 * snapshot and the new one, deepest first:
 *   - a node that stopped being visible: fuse_lowlevel_notify_inval_inode
 *     (drops cached pages, so an open file cannot serve them from the page
 *     cache) and fuse_lowlevel_notify_delete on its name;
 *   - a node whose size, mtime, link count, owner, mode or content
 *     changed (a new version of a document: same path, same inode, new
 *     bytes; index.txt, changes.csv, directories whose listing changed;
 *     an organisation bound to other accounts): inval_inode;
 *   - a directory's names that appeared: inval_entry, to drop the
 *     negative dentries the kernel may cache for them.
 * -ENOENT from a notification only means the kernel had nothing cached.
 *
 * No lock is held while notifying: the kernel may hold a directory lock
 * while it waits for our answer to a lookup or readdir in that directory,
 * and an inval_entry on that directory waits for that lock; the handler
 * answering it may need any of our locks.  The nodes are pinned (a
 * reference count, not a lock), so their nodeids stay valid throughout.
 *
 * Shutdown: SIGINT/SIGTERM/SIGHUP only set a flag (mount.c).  The watcher
 * notices it, finishes any notifications while the request loop still
 * runs (so none can wait for a request nobody will answer), ends the
 * session and wakes the main thread; the main thread then stops the
 * watcher and unmounts.
 *
 * Sections: the notification queue, diffing, reloading, the thread.
 */
#include "mount.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* ---- the notification queue ------------------------------------------------------------- */

enum watch_op { WATCH_INVAL_ENTRY, WATCH_DELETE, WATCH_INVAL_INODE };

struct watch_note {
	uint8_t op;                 /* enum watch_op */
	fuse_ino_t parent, child;
	char *name;                 /* owned; NULL for WATCH_INVAL_INODE */
	size_t len;
};

struct watch_queue {
	struct watch_note *v;
	size_t n, cap;
	int failed;                 /* out of memory: some notification is missing */
};

static void watch_push(struct watch_queue *q, enum watch_op op, fuse_ino_t parent,
		       fuse_ino_t child, const char *name, size_t len)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64;
		struct watch_note *v = realloc(q->v, cap * sizeof(*v));
		if (!v) {
			q->failed = 1;
			return;
		}
		q->v = v;
		q->cap = cap;
	}
	struct watch_note *note = &q->v[q->n];
	note->op = (uint8_t)op;
	note->parent = parent;
	note->child = child;
	note->name = NULL;
	note->len = len;
	if (name && !(note->name = strndup(name, len))) {
		q->failed = 1;
		return;
	}
	q->n++;
}

static void watch_queue_free(struct watch_queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i].name);
	free(q->v);
}

/* Send every notification; none of our locks is held here. */
static void watch_send(struct fs *fs, const struct watch_queue *q)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct watch_note *note = &q->v[i];
		int r = 0;
		switch (note->op) {
		case WATCH_INVAL_ENTRY:
			r = fuse_lowlevel_notify_inval_entry(fs->se, note->parent, note->name,
							     note->len);
			break;
		case WATCH_DELETE:
			r = fuse_lowlevel_notify_delete(fs->se, note->parent, note->child, note->name,
							note->len);
			if (r == -ENOSYS)
				r = fuse_lowlevel_notify_inval_entry(fs->se, note->parent,
								     note->name, note->len);
			break;
		case WATCH_INVAL_INODE: {
			r = fuse_lowlevel_notify_inval_inode(fs->se, note->child, 0, 0);
			/* the kernel holds neither size nor pages of it now (the
			 * node is pinned, so the pointer is valid) */
			struct fs_node *nd = itab_node(fs, note->child);
			atomic_store(&nd->seen_version, 0);
			atomic_store(&nd->cached_version, 0);
			break;
		}
		}
		/* ENOENT: nothing cached; ENOTEMPTY: a directory's dentry was
		 * invalidated but still had children (they have their own
		 * notes); others happen while unmounting */
		if (r && r != -ENOENT && r != -ENOTEMPTY)
			fs_log(fs, FUSE_LOG_DEBUG, "notification %d: %s", note->op, strerror(-r));
	}
}

/* ---- diffing ---------------------------------------------------------------------------- */

static int watch_depth(const struct fs_node *n)
{
	int d = 0;
	for (; n->parent; n = n->parent)
		d++;
	return d;
}

/* Deepest first, so that a directory's children go before it. */
static int watch_cmp_depth(const void *a, const void *b)
{
	int da = watch_depth(*(struct fs_node *const *)a);
	int db = watch_depth(*(struct fs_node *const *)b);
	return db - da;
}

static int watch_cmp_ent(const void *a, const void *b)
{
	const struct fs_ent *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Whether a file's content differs between two snapshots where it is visible in both. */
static int watch_content_differs(const struct fs_snap *o, const struct fs_snap *nw,
				 const struct fs_node *node, const struct fs_loc *lo,
				 const struct fs_loc *ln)
{
	char bo[256], bn[256];
	size_t lenA, lenB;

	if (node->id.type == FS_FILE && (node->id.kind == VIEW_JSON || node->id.kind == VIEW_ASC))
		return snap_adv(lo)->version_id != snap_adv(ln)->version_id;
	if (node->id.type != FS_FILE && node->id.type != FS_INDEX && node->id.type != FS_CHANGES &&
	    node->id.type != FS_PROVIDER && node->id.type != FS_PGPKEY)
		return 0;
	const char *a = snap_generated(o, node, lo, bo, sizeof(bo), &lenA);
	const char *b = snap_generated(nw, node, ln, bn, sizeof(bn), &lenB);
	return lenA != lenB || (lenA && memcmp(a, b, lenA) != 0);
}

/*
 * Names a directory node gained from o to nw go to q as inval_entry (their
 * negative dentries).  Returns 1 when the listing changed at all, 0 when
 * not, -ENOMEM.
 */
static int watch_diff_listing(struct fs *fs, struct fs_snap *o, struct fs_snap *nw,
			      struct fs_node *node, struct watch_queue *q)
{
	struct fs_list lo = { NULL, 0, NULL }, ln = { NULL, 0, NULL };
	fuse_ino_t id = itab_nodeid(fs, node);
	size_t i = 0, j = 0;
	int changed = 0, r;

	if ((r = snap_list(fs, o, node, &lo)) || (r = snap_list(fs, nw, node, &ln)))
		goto out;
	qsort(lo.ents, lo.n, sizeof(*lo.ents), watch_cmp_ent);
	qsort(ln.ents, ln.n, sizeof(*ln.ents), watch_cmp_ent);
	while (i < lo.n || j < ln.n) {
		int c = i == lo.n ? 1 : j == ln.n ? -1 : strcmp(lo.ents[i].name, ln.ents[j].name);
		if (c < 0) {
			changed = 1; /* gone: its node, if any, has its own note */
			i++;
		} else if (c > 0) {
			changed = 1;
			watch_push(q, WATCH_INVAL_ENTRY, id, 0, ln.ents[j].name, ln.ents[j].len);
			j++;
		} else {
			i++;
			j++;
		}
	}
	r = changed;
out:
	snap_list_free(&lo);
	snap_list_free(&ln);
	return r;
}

/* What the kernel must be told about one node it holds. */
static void watch_diff_node(struct fs *fs, struct fs_snap *o, struct fs_snap *nw,
			    struct fs_node *node, struct watch_queue *q)
{
	fuse_ino_t id = itab_nodeid(fs, node);
	struct fs_loc lo, ln;
	struct stat so, sn;
	int ro = snap_resolve(fs, o, &node->id, &lo);
	int rn = snap_resolve(fs, nw, &node->id, &ln);
	int changed = 0;

	if ((ro && ro != -ENOENT) || (rn && rn != -ENOENT)) {
		/* could not tell (out of memory): assume everything changed */
		watch_push(q, WATCH_INVAL_INODE, 0, id, NULL, 0);
		if (node->parent)
			watch_push(q, WATCH_INVAL_ENTRY, itab_nodeid(fs, node->parent), 0, node->name,
				   node->namelen);
		return;
	}
	if (rn) {
		if (!ro && node->parent) {
			watch_push(q, WATCH_INVAL_INODE, 0, id, NULL, 0);
			watch_push(q, WATCH_DELETE, itab_nodeid(fs, node->parent), id, node->name,
				   node->namelen);
		}
		return;
	}
	snap_attr(fs, nw, node, &ln, &sn);
	if (ro) {
		changed = 1; /* visible again under a node the kernel kept */
	} else {
		snap_attr(fs, o, node, &lo, &so);
		/* owner and mode too: a binding changed (mount_tenant.c), and the
		 * kernel checks permissions on the attributes it caches */
		changed = so.st_size != sn.st_size || so.st_mtime != sn.st_mtime ||
			  so.st_nlink != sn.st_nlink || so.st_uid != sn.st_uid ||
			  so.st_gid != sn.st_gid || so.st_mode != sn.st_mode ||
			  watch_content_differs(o, nw, node, &lo, &ln);
	}
	if (S_ISDIR(sn.st_mode)) {
		int lr = watch_diff_listing(fs, o, nw, node, q);
		if (lr != 0)
			changed = 1;
		if (lr < 0)
			q->failed = 1;
	}
	if (changed)
		watch_push(q, WATCH_INVAL_INODE, 0, id, NULL, 0);
}

/* ---- reloading -------------------------------------------------------------------------- */

/*
 * Load a new snapshot, swap it in and tell the kernel what changed.
 * Returns 0 or -errno when the new snapshot could not be loaded (the old
 * one stays; the caller retries).
 */
static int watch_reload(struct fs *fs)
{
	struct fs_snap *old = snap_get(fs), *nw = NULL, *prev;
	struct watch_queue q = { NULL, 0, 0, 0 };
	struct fs_node **nodes = NULL;
	size_t nnodes = 0, nslugs = 0;
	char **slugs = NULL;
	int r;

	if ((r = snap_load(fs->watch_st, fs->next_gen + 1, &nw))) {
		snap_put(old);
		return r;
	}
	fs->next_gen++;
	/* views in use are ready before anybody asks for them */
	if (itab_recipients(fs, &slugs, &nslugs) == 0) {
		for (size_t i = 0; i < nslugs; i++) {
			uint32_t org;
			const struct view *v;
			(void)snap_view(nw, slugs[i], &org, &v);
			free(slugs[i]);
		}
		free(slugs);
	}

	pthread_mutex_lock(&fs->snap_lock);
	prev = fs->snap;
	fs->snap = nw;
	pthread_mutex_unlock(&fs->snap_lock);
	snap_put(prev);

	/* after the swap: a node made by a request that decided with the old
	 * snapshot and did not redo it is in the table by now (mount_ops.c) */
	if ((r = itab_pin_all(fs, &nodes, &nnodes))) {
		fs_log(fs, FUSE_LOG_ERR, "cannot tell the kernel what changed: %s", strerror(-r));
		snap_put(old);
		return 0;
	}
	qsort(nodes, nnodes, sizeof(*nodes), watch_cmp_depth);
	for (size_t i = 0; i < nnodes; i++)
		watch_diff_node(fs, old, nw, nodes[i], &q);
	if (q.failed)
		fs_log(fs, FUSE_LOG_ERR, "out of memory: some cached names may be stale");
	fs_log(fs, FUSE_LOG_DEBUG, "generation %llu: %zu nodes, %zu notifications",
	       (unsigned long long)nw->gen, nnodes, q.n);
	watch_send(fs, &q);
	watch_queue_free(&q);
	itab_unpin_all(fs, nodes, nnodes);
	snap_put(old);
	return 0;
}

/* One poll: reload when the store or the clock moved. */
static void watch_tick(struct fs *fs, int *check_seq, int *failing)
{
	struct fs_snap *s = snap_get(fs);
	int64_t dv, seq;
	int reload = 0;

	if (store_data_version(fs->watch_st, &dv) == 0 && dv != fs->last_dv) {
		fs->last_dv = dv;
		*check_seq = 1;
	}
	if (*check_seq && store_change_seq(fs->watch_st, &seq) == 0) {
		*check_seq = 0;
		reload = seq != s->change_seq;
	}
	if (au_now() >= s->next_boundary)
		reload = 1;
	snap_put(s);
	if (!reload)
		return;
	int r = watch_reload(fs);
	if (r) {
		/* keep serving the last snapshot; say so once per streak */
		if (!*failing)
			fs_log(fs, FUSE_LOG_ERR, "reloading the store: %s", store_errmsg(fs->watch_st));
		*failing = 1;
		*check_seq = 1;
	} else if (*failing) {
		fs_log(fs, FUSE_LOG_NOTICE, "reloading the store works again");
		*failing = 0;
	}
}

/* ---- the thread ------------------------------------------------------------------------- */

static void watch_deadline(unsigned ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Sleep until the next poll or until told to stop; 1 when stopping.
 * Called and returns with fs->watch_lock held. */
static int watch_sleep(struct fs *fs)
{
	struct timespec ts;
	watch_deadline(fs->poll_ms, &ts);
	while (!fs->stop && pthread_cond_timedwait(&fs->watch_cond, &fs->watch_lock, &ts) == 0)
		;
	return fs->stop;
}

static void *watch_main(void *arg)
{
	struct fs *fs = arg;
	int check_seq = 1; /* the first snapshot came from another connection */
	int failing = 0;

	pthread_mutex_lock(&fs->watch_lock);
	while (!watch_sleep(fs)) {
		pthread_mutex_unlock(&fs->watch_lock);
		if (mount_signalled()) {
			/* end the loop, then wake the main thread out of its wait
			 * until it comes to stop us: a signal that arrives just
			 * before it blocks would be lost, so repeat */
			fuse_session_exit(fs->se);
			pthread_mutex_lock(&fs->watch_lock);
			while (!fs->stop) {
				pthread_kill(fs->main_thread, SIGTERM);
				watch_sleep(fs);
			}
			break;
		}
		watch_tick(fs, &check_seq, &failing);
		ledger_checkpoint(fs, 0); /* mount_ledger.c: when due, sign the head */
		pthread_mutex_lock(&fs->watch_lock);
	}
	pthread_mutex_unlock(&fs->watch_lock);
	return NULL;
}

int watch_start(struct fs *fs)
{
	sigset_t block, old;
	int r = store_open(fs->store_path, STORE_RDONLY, &fs->watch_st);
	if (!r)
		r = store_data_version(fs->watch_st, &fs->last_dv);
	if (r) {
		fs_log(fs, FUSE_LOG_ERR, "%s", fs->watch_st ? store_errmsg(fs->watch_st) : strerror(-r));
		store_close(fs->watch_st);
		fs->watch_st = NULL;
		return r;
	}
	/* signals go to the main thread, which waits in the request loop */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = -pthread_create(&fs->watcher, NULL, watch_main, fs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		fs_log(fs, FUSE_LOG_ERR, "cannot start the watcher: %s", strerror(-r));
		store_close(fs->watch_st);
		fs->watch_st = NULL;
		return r;
	}
	fs->watcher_running = 1;
	return 0;
}

void watch_stop(struct fs *fs)
{
	if (!fs->watcher_running)
		return;
	pthread_mutex_lock(&fs->watch_lock);
	fs->stop = 1;
	pthread_cond_broadcast(&fs->watch_cond);
	pthread_mutex_unlock(&fs->watch_lock);
	pthread_join(fs->watcher, NULL);
	fs->watcher_running = 0;
	store_close(fs->watch_st);
	fs->watch_st = NULL;
}
