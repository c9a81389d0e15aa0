/*
 * mount_watch.c - the watcher: keeps the mount live with the kernel's
 * caches switched on (SPEC.md section 3).
 *
 * One thread, never a request handler, with its own read-only store
 * connection.  Every poll_ms (50 ms by default), and at once when inotify
 * reports a write to the store's files (then every 2 ms for a few polls,
 * since the event comes before the commit is complete), it reads PRAGMA
 * data_version, a memory read that changes when another connection
 * committed; then the store's change sequence, so a commit that changed
 * nothing visible (a future ledger write) costs no reload.  Without
 * inotify it only polls.  It also reloads when the clock reaches the
 * snapshot's next boundary (policy_next_boundary(), store_next_release(),
 * store_policy_next() for a policy scheduled with --effective):
 * an embargo ending, a designation expiring, a scheduled version being
 * released.
 *
 * A reload makes a new snapshot: when every change since the last one is
 * a withdrawal or a share and no boundary passed, by patching a copy of
 * the world (snap_patch()), else by loading it (snap_load()).  It builds
 * the views of the recipients the kernel knows nodes of and swaps the
 * snapshot in.  Then it compares each recipient's old and new view (one
 * merge of the sorted documents) and diffs, between the old snapshot and
 * the new one, deepest first, the nodes the kernel holds (pinned, so none
 * is freed under it) that the comparison leaves in question: those of
 * documents that appeared, went or changed, their year and TLP folders
 * (listings, index.txt, changes.csv), the recipient's directory and own
 * files, the root when the organisations or public's view changed; every
 * node of a recipient that cannot be compared (new, gone, bound to other
 * accounts).  What the kernel is told:
 *   - a node that stopped being visible: fuse_lowlevel_notify_inval_inode
 *     (drops cached pages, so an open file cannot serve them from the page
 *     cache) and fuse_lowlevel_notify_delete on its name;
 *   - a file node whose name now holds other content (a new version of
 *     a document, a new index.txt or changes.csv: a new node under the
 *     same name and st_ino): inval_inode (its pages) and inval_entry on
 *     its name, so the next lookup finds the new node;
 *   - a node whose size, mtime, link count, owner or mode changed
 *     (directories whose listing changed, an organisation bound to other
 *     accounts): inval_inode;
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
 * Sections: the notification queue, diffing, which nodes to diff,
 * reloading, the thread.
 */
#include "mount_watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "mount_inode.h"
#include "mount_ledger.h"
#include "mount_snap.h"
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
		case WATCH_INVAL_INODE:
			r = fuse_lowlevel_notify_inval_inode(fs->se, note->child, 0, 0);
			break;
		}
		/* ENOENT: nothing cached; ENOTEMPTY: a directory's dentry was
		 * invalidated but still had children (they have their own
		 * notes); others happen while unmounting */
		if (r && r != -ENOENT && r != -ENOTEMPTY)
			fs_log(fs, FUSE_LOG_DEBUG, "notification %d: %s", note->op, strerror(-r));
	}
}

/* ---- diffing ---------------------------------------------------------------------------- */

/*
 * The nodes deepest first, so that a directory's children go before it:
 * each depth is computed once and the nodes are bucketed by it (paths
 * are a handful of components deep).  Reorders nodes in place; 0 or
 * -ENOMEM (nodes unchanged).
 */
static int watch_order(struct fs_node **nodes, size_t n)
{
	enum { WATCH_MAX_DEPTH = 15 };
	size_t count[WATCH_MAX_DEPTH + 1] = { 0 }, at[WATCH_MAX_DEPTH + 1];
	uint8_t *depth = malloc(n ? n : 1);
	struct fs_node **out = malloc((n ? n : 1) * sizeof(*out));
	if (!depth || !out) {
		free(depth);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int d = 0;
		for (const struct fs_node *p = nodes[i]; p->parent && d < WATCH_MAX_DEPTH; p = p->parent)
			d++;
		depth[i] = (uint8_t)d;
		count[d]++;
	}
	size_t pos = 0;
	for (int d = WATCH_MAX_DEPTH; d >= 0; d--) {
		at[d] = pos;
		pos += count[d];
	}
	for (size_t i = 0; i < n; i++)
		out[at[depth[i]]++] = nodes[i];
	memcpy(nodes, out, n * sizeof(*nodes));
	free(depth);
	free(out);
	return 0;
}

static int watch_cmp_ent(const void *a, const void *b)
{
	const struct fs_ent *x = a, *y = b;
	return strcmp(x->name, y->name);
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

/*
 * What the kernel must be told about one node it holds.  A file node
 * holds one content (snap_current()): it is "current" in a snapshot when
 * its name is visible there with that content.
 */
static void watch_diff_node(struct fs *fs, struct fs_snap *o, struct fs_snap *nw,
			    struct fs_node *node, struct watch_queue *q)
{
	fuse_ino_t id = itab_nodeid(fs, node);
	struct fs_loc lo, ln;
	struct stat so, sn;
	int ro = snap_current(fs, o, node, &lo);
	int rn = snap_current(fs, nw, node, &ln);
	int changed = 0;

	if ((ro && ro != -ENOENT && ro != -ESTALE) || (rn && rn != -ENOENT && rn != -ESTALE)) {
		/* could not tell (out of memory): assume everything changed */
		watch_push(q, WATCH_INVAL_INODE, 0, id, NULL, 0);
		if (node->parent)
			watch_push(q, WATCH_INVAL_ENTRY, itab_nodeid(fs, node->parent), 0, node->name,
				   node->namelen);
		return;
	}
	if (rn) {
		/* gone, or its name holds other content (a new version, a new
		 * index.txt: a new node): drop its pages, so that a file open
		 * on it cannot serve them, and its name, so that the next
		 * lookup finds what is there now.  Once stale, a node stays
		 * stale and is not told again. */
		if (!ro && node->parent) {
			watch_push(q, WATCH_INVAL_INODE, 0, id, NULL, 0);
			if (rn == -ESTALE)
				watch_push(q, WATCH_INVAL_ENTRY, itab_nodeid(fs, node->parent), 0,
					   node->name, node->namelen);
			else
				watch_push(q, WATCH_DELETE, itab_nodeid(fs, node->parent), id,
					   node->name, node->namelen);
		}
		return;
	}
	snap_attr(fs, nw, &node->id, node->ino, &ln, &sn);
	if (ro) {
		changed = 1; /* visible again under a node the kernel kept */
	} else {
		/* same content; owner and mode may differ: a binding changed
		 * (mount_tenant.c), and the kernel checks permissions on the
		 * attributes it caches; a directory's size and times */
		snap_attr(fs, o, &node->id, node->ino, &lo, &so);
		changed = so.st_size != sn.st_size || so.st_mtime != sn.st_mtime ||
			  so.st_nlink != sn.st_nlink || so.st_uid != sn.st_uid ||
			  so.st_gid != sn.st_gid || so.st_mode != sn.st_mode;
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

/* ---- which nodes to diff --------------------------------------------------------------- */

/*
 * Which nodes can have changed.  Views are compared before nodes: one
 * merge of a recipient's old and new documents (both sorted by folder,
 * year and file name) finds the documents that appeared, went or changed
 * version or decision, and only the nodes of those documents, of their
 * year and TLP folders and of the recipient's own files are diffed.  A
 * recipient whose view is unchanged costs no node at all; one that cannot
 * be compared (gone, new, out of memory, another owner) has all its nodes
 * diffed, as before.
 */
struct watch_key {
	uint8_t dir;
	uint16_t year;
	const char *name;           /* "<name>.json", in the old or the new world */
};

struct watch_recip {
	char *slug;                 /* owned */
	int all;                    /* diff every node of the recipient */
	int any;                    /* anything changed (its own nodes are diffed) */
	unsigned dirs;              /* bit d: TLP folder d changed (listing, index, changes) */
	struct watch_key *keys;     /* documents that changed, sorted */
	size_t nkeys, cap;
};

struct watch_plan {
	struct watch_recip *v;      /* sorted by slug */
	size_t n, cap;
	int root;                   /* the root of a full mount changed */
	size_t last;                /* index of the last recipient found */
};

static int watch_cmp_key(const struct watch_key *a, const struct watch_key *b, int names)
{
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	return names ? strcmp(a->name, b->name) : 0;
}

static int watch_cmp_key_q(const void *a, const void *b)
{
	return watch_cmp_key(a, b, 1);
}

/* Whether k is among the changed documents (names) or in a changed year
 * folder (!names). */
static int watch_has_key(const struct watch_recip *rc, const struct watch_key *k, int names)
{
	size_t lo = 0, hi = rc->nkeys;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = watch_cmp_key(&rc->keys[mid], k, names);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int watch_add_key(struct watch_recip *rc, const struct view *v, uint32_t doc)
{
	const struct view_doc *d = &v->docs[doc];
	struct watch_key *k = au_grow(rc->keys, &rc->cap, rc->nkeys + 1, sizeof(*k), 16);
	if (!k)
		return -ENOMEM;
	rc->keys = k;
	rc->keys[rc->nkeys++] = (struct watch_key){ d->dir, d->year, v->w->advs[d->adv].filename };
	rc->dirs |= 1u << d->dir;
	return 0;
}

static int watch_same_decision(const struct pol_decision *a, const struct pol_decision *b)
{
	return a->permit == b->permit && a->nrules == b->nrules &&
	       memcmp(a->rules, b->rules, a->nrules * sizeof(a->rules[0])) == 0;
}

static int watch_same_bytes(const char *a, size_t la, const char *b, size_t lb)
{
	return la == lb && (la == 0 || memcmp(a, b, la) == 0);
}

/* Order of two documents of the old (a in wa) and new (b in wb) view. */
static int watch_cmp_doc(const struct view_doc *a, const struct world *wa, const struct view_doc *b,
			 const struct world *wb)
{
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	const struct w_adv *x = &wa->advs[a->adv], *y = &wb->advs[b->adv];
	/* an advisory's file name is its own (unique in the store) */
	return x->id == y->id ? 0 : strcmp(x->filename, y->filename);
}

/* Compare the recipient's two views into rc.  0 or -ENOMEM. */
static int watch_compare_views(const struct view *vo, const struct view *vn,
			       struct watch_recip *rc)
{
	uint32_t i = 0, j = 0;
	int r = 0;

	while (!r && (i < vo->ndocs || j < vn->ndocs)) {
		int c = i == vo->ndocs ? 1 : j == vn->ndocs ? -1
			: watch_cmp_doc(&vo->docs[i], vo->w, &vn->docs[j], vn->w);
		if (c < 0) {
			r = watch_add_key(rc, vo, i++);
		} else if (c > 0) {
			r = watch_add_key(rc, vn, j++);
		} else {
			const struct view_doc *a = &vo->docs[i], *b = &vn->docs[j];
			if (vo->w->advs[a->adv].version_id != vn->w->advs[b->adv].version_id ||
			    !watch_same_decision(&a->dec, &b->dec))
				r = watch_add_key(rc, vn, j);
			i++;
			j++;
		}
	}
	if (r)
		return r;
	/* generated files: the documents decide them, but compare the bytes
	 * too, it costs little and answers for anything the merge missed */
	for (int d = 0; d < VIEW_NDIRS; d++) {
		const struct view_dir *a = &vo->dirs[d], *b = &vn->dirs[d];
		if (a->nyears != b->nyears || a->mtime != b->mtime ||
		    !watch_same_bytes(a->index_txt, a->index_len, b->index_txt, b->index_len) ||
		    !watch_same_bytes(a->changes_csv, a->changes_len, b->changes_csv, b->changes_len))
			rc->dirs |= 1u << d;
	}
	if (rc->nkeys > 1)
		qsort(rc->keys, rc->nkeys, sizeof(*rc->keys), watch_cmp_key_q);
	rc->any = rc->dirs || rc->nkeys || vo->mtime != vn->mtime ||
		  !watch_same_bytes(vo->provider_json, vo->provider_len, vn->provider_json,
				    vn->provider_len) ||
		  (vo->pgp_name == NULL) != (vn->pgp_name == NULL) ||
		  (vo->pgp_name && strcmp(vo->pgp_name, vn->pgp_name) != 0) ||
		  vo->pgp_mtime != vn->pgp_mtime ||
		  !watch_same_bytes(vo->pgp_key, vo->pgp_key_len, vn->pgp_key, vn->pgp_key_len);
	return 0;
}

/*
 * Fill rc (slug set) for one recipient: compare its views in o and nw.
 * Anything that prevents a comparison makes rc->all.
 */
static void watch_plan_recip(struct fs_snap *o, struct fs_snap *nw, struct watch_recip *rc)
{
	uint32_t oo, on;
	const struct view *vo, *vn;

	if (snap_view(o, rc->slug, &oo, &vo) || snap_view(nw, rc->slug, &on, &vn) ||
	    o->w->orgs[oo].uid != nw->w->orgs[on].uid || o->w->orgs[oo].gid != nw->w->orgs[on].gid ||
	    watch_compare_views(vo, vn, rc)) {
		rc->all = rc->any = 1;
		return;
	}
}

/* The recipient entry of slug, made and planned on first use; NULL when
 * out of memory (the caller diffs the node). */
static struct watch_recip *watch_plan_find(struct watch_plan *pl, struct fs_snap *o,
					   struct fs_snap *nw, const char *slug)
{
	size_t lo = 0, hi = pl->n;
	if (pl->last < pl->n && strcmp(pl->v[pl->last].slug, slug) == 0)
		return &pl->v[pl->last];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(pl->v[mid].slug, slug);
		if (c == 0)
			return &pl->v[pl->last = mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 8;
		struct watch_recip *v = realloc(pl->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		pl->v = v;
		pl->cap = cap;
	}
	struct watch_recip rc = { .slug = strdup(slug) };
	if (!rc.slug)
		return NULL;
	watch_plan_recip(o, nw, &rc);
	memmove(&pl->v[lo + 1], &pl->v[lo], (pl->n - lo) * sizeof(*pl->v));
	pl->v[lo] = rc;
	pl->n++;
	return &pl->v[pl->last = lo];
}

static void watch_plan_free(struct watch_plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->v[i].slug);
		free(pl->v[i].keys);
	}
	free(pl->v);
}

/* Whether the root of a full mount can have changed: its listing (the
 * organisations), owners, link count, and its mtime (public's view). */
static int watch_root_changed(struct watch_plan *pl, struct fs_snap *o, struct fs_snap *nw)
{
	const struct world *a = o->w, *b = nw->w;
	if (a->norgs != b->norgs)
		return 1;
	for (uint32_t i = 0; i < a->norgs; i++)
		if (strcmp(a->orgs[i].slug, b->orgs[i].slug) != 0 || a->orgs[i].uid != b->orgs[i].uid ||
		    a->orgs[i].gid != b->orgs[i].gid)
			return 1;
	const struct watch_recip *pub = watch_plan_find(pl, o, nw, "public");
	return !pub || pub->any;
}

/* Whether node must be compared between o and nw. */
static int watch_wanted(struct fs *fs, struct watch_plan *pl, struct fs_snap *o,
			struct fs_snap *nw, const struct fs_node *node)
{
	if (node->id.type == FS_ROOT)
		return pl->root;
	const struct watch_recip *rc = watch_plan_find(pl, o, nw, node->id.slug);
	if (!rc || rc->all)
		return 1;
	if (!rc->any)
		return 0;
	struct watch_key k = { node->id.dir, node->id.year, node->id.docname };
	switch (node->id.type) {
	case FS_TLPDIR:
	case FS_INDEX:
	case FS_CHANGES:
		return node->id.dir < VIEW_NDIRS ? (rc->dirs >> node->id.dir) & 1 : 1;
	case FS_YEAR:
		return watch_has_key(rc, &k, 0);
	case FS_FILE:
		return watch_has_key(rc, &k, 1);
	default: /* the recipient's directory, provider-metadata.json, openpgp/ */
		(void)fs;
		return 1;
	}
}

/* ---- reloading -------------------------------------------------------------------------- */

/* Milliseconds of the monotonic clock (for the debug log). */
static int64_t watch_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Load a new snapshot, swap it in and tell the kernel what changed.
 * Returns 0 or -errno when the new snapshot could not be loaded (the old
 * one stays; the caller retries).
 */
static int watch_reload(struct fs *fs)
{
	struct fs_snap *old = snap_get(fs), *nw = NULL, *prev;
	struct watch_queue q = { NULL, 0, 0, 0 };
	struct watch_plan pl = { NULL, 0, 0, 0, 0 };
	struct fs_node **nodes = NULL;
	size_t nnodes = 0, nslugs = 0, ndiffed = 0;
	char **slugs = NULL;
	int r;

	int64_t t0 = watch_ms(), t1, t2;
	/* a withdrawal or a share patches the world; anything else, or a
	 * patch that fails for any reason, loads it anew */
	int patched = snap_patch(fs->watch_st, old, fs->next_gen + 1, &nw) == 0;
	if (!patched && (r = snap_load(fs->watch_st, fs->next_gen + 1, &nw))) {
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

	t1 = watch_ms();
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
	if (watch_order(nodes, nnodes))
		q.failed = 1; /* not deepest first: a directory may go before its children */
	if (fs->root->id.type == FS_ROOT)
		pl.root = watch_root_changed(&pl, old, nw);
	for (size_t i = 0; i < nnodes; i++) {
		if (!watch_wanted(fs, &pl, old, nw, nodes[i]))
			continue;
		watch_diff_node(fs, old, nw, nodes[i], &q);
		ndiffed++;
	}
	if (q.failed)
		fs_log(fs, FUSE_LOG_ERR, "out of memory: some cached names may be stale");
	t2 = watch_ms();
	fs_log(fs, FUSE_LOG_DEBUG,
	       "generation %llu (%s): %zu nodes, %zu compared, %zu notifications; "
	       "load %lld ms, compare %lld ms",
	       (unsigned long long)nw->gen, patched ? "patched" : "loaded", nnodes, ndiffed, q.n,
	       (long long)(t1 - t0), (long long)(t2 - t1));
	watch_plan_free(&pl);
	/* a barrier: a push into the page cache decided with the old snapshot
	 * ends before the invalidations go out (struct fs, push_lock) */
	pthread_mutex_lock(&fs->push_lock);
	pthread_mutex_unlock(&fs->push_lock);
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

/*
 * Sleep until the next poll, a write to the store or being told to stop;
 * 1 when stopping.  Called and returns with fs->watch_lock held.
 *
 * A write wakes the watcher at once, but the event comes with the first
 * page written, before the commit is complete (in WAL mode the commit is
 * an update of the shared-memory index after the writes); so after an
 * event the next WATCH_BURST polls come every WATCH_BURST_MS, which
 * catches the commit without waiting for the next ordinary poll.
 */
#define WATCH_BURST 10
#define WATCH_BURST_MS 2
static int watch_sleep(struct fs *fs)
{
	unsigned ms = fs->watch_burst ? WATCH_BURST_MS : fs->poll_ms;
	struct timespec ts, now;

	if (fs->watch_burst)
		fs->watch_burst--;
	watch_deadline(ms, &ts);
	if (fs->watch_wake < 0) {
		while (!fs->stop && pthread_cond_timedwait(&fs->watch_cond, &fs->watch_lock, &ts) == 0)
			;
		return fs->stop;
	}
	while (!fs->stop) {
		struct pollfd pfd[2] = { { fs->watch_wake, POLLIN, 0 }, { fs->watch_inotify, POLLIN, 0 } };
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (long)(ts.tv_sec - now.tv_sec) * 1000 + (ts.tv_nsec - now.tv_nsec) / 1000000;
		if (left < 0)
			break;
		pthread_mutex_unlock(&fs->watch_lock);
		int n = poll(pfd, fs->watch_inotify >= 0 ? 2 : 1, (int)left);
		pthread_mutex_lock(&fs->watch_lock);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((pfd[1].revents & POLLIN) && au_store_watch_drain(fs->watch_inotify, fs->store_path)) {
			fs->watch_burst = WATCH_BURST;
			break;
		}
		/* another file of the directory, or being stopped: the loop
		 * condition decides; a broken descriptor leaves polling alone */
		if (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			close(fs->watch_inotify);
			fs->watch_inotify = -1;
		}
	}
	return fs->stop;
}

static void *watch_main(void *arg)
{
	struct fs *fs = arg;
	int check_seq = 1; /* the first snapshot came from another connection */
	int failing = 0;
	int64_t last_cp = watch_ms();

	pthread_mutex_lock(&fs->watch_lock);
	while (!watch_sleep(fs)) {
		pthread_mutex_unlock(&fs->watch_lock);
		if (fs_signalled()) {
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
		/* mount_ledger.c: when due, sign the head; once per ordinary
		 * poll, not at the pace of a burst (its lock is held across
		 * ledger writes) */
		int64_t now = watch_ms();
		if (now - last_cp >= (int64_t)fs->poll_ms) {
			ledger_checkpoint(fs, 0);
			last_cp = now;
		}
		pthread_mutex_lock(&fs->watch_lock);
	}
	pthread_mutex_unlock(&fs->watch_lock);
	return NULL;
}

/*
 * The descriptors the watcher sleeps on: an eventfd to be woken for
 * stopping and an inotify watch on the store's directory (the -wal file
 * comes and goes, and in rollback mode the commit is the journal's
 * deletion).  Either may be -1: without the eventfd the watcher sleeps on
 * its condition variable, without inotify it only polls.
 */
static void watch_fds_open(struct fs *fs)
{
	fs->watch_inotify = -1;
	fs->watch_burst = 0;
	fs->watch_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fs->watch_wake < 0)
		return;
	fs->watch_inotify = au_store_watch_open(fs->store_path);
	if (fs->watch_inotify < 0)
		fs_log(fs, FUSE_LOG_DEBUG, "inotify on the directory of '%s': %s; polling only",
		       fs->store_path, strerror(errno));
}

static void watch_fds_close(struct fs *fs)
{
	if (fs->watch_inotify >= 0)
		close(fs->watch_inotify);
	if (fs->watch_wake >= 0)
		close(fs->watch_wake);
	fs->watch_inotify = fs->watch_wake = -1;
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
	watch_fds_open(fs);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = -pthread_create(&fs->watcher, NULL, watch_main, fs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		fs_log(fs, FUSE_LOG_ERR, "cannot start the watcher: %s", strerror(-r));
		watch_fds_close(fs);
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
	if (fs->watch_wake >= 0) {
		uint64_t one = 1;
		ssize_t n = write(fs->watch_wake, &one, sizeof(one));
		(void)n; /* a full counter wakes it as well */
	}
	pthread_mutex_unlock(&fs->watch_lock);
	pthread_join(fs->watcher, NULL);
	watch_fds_close(fs);
	fs->watcher_running = 0;
	store_close(fs->watch_st);
	fs->watch_st = NULL;
}
