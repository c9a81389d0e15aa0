/*
 * mount_ops.c - the FUSE low-level operations of advisoryfs.
 *
 * Every request takes the current snapshot (mount_snap.c), decides with it
 * alone and drops it.  Names are resolved one component at a time against
 * the parent node; anything the recipient may not receive resolves to
 * ENOENT, never EACCES, and is absent from every listing.
 *
 * Caching: entries, negative entries and attributes are cached by the
 * kernel for fs->timeout (a day by default), files are opened with
 * keep_cache and directories with cache_readdir (but the root of a shared
 * mount), so repeated access costs little here; the watcher
 * (mount_watch.c) tells the kernel exactly what changed.  Two races with
 * the watcher are closed here:
 *   - a lookup (or readdirplus) that decided with a snapshot that was
 *     replaced before it returned could hand the kernel a stale entry
 *     after the watcher already diffed; so an entry is made (node in the
 *     table) before the generation is checked again, and the lookup is
 *     redone when it moved.  If the check passes, the swap comes later
 *     and the watcher's diff sees the node (or, for a negative entry, the
 *     parent's listing);
 *   - stale attributes are not a problem: the kernel drops a getattr
 *     reply that crosses an invalidation (attr_version).
 *
 * Files are not opened here: OPEN is answered ENOSYS, after which the
 * kernel opens every file of the mount without asking and sends no
 * RELEASE either (with the page cache kept), so a file read from the
 * kernel's cache costs no request at all.  What a handle would give, a
 * file that does not change under its reader, comes from the nodes: a
 * file node holds one content (mount_inode.c, snap_current()), and a new
 * version or a new index.txt is a new node under the same name.  A READ
 * serves the bytes of its node's content, checked against the current
 * view: a node whose name was revoked or moved on to other content fails
 * with EIO (read(2) has no "no such file" and the file was visible when
 * opened, but no byte of a revoked file may leave after the revocation),
 * so a reader gets one version whole or an error, never parts of two.
 * The kernel's cached pages of such a node are dropped by the watcher.
 * A stat through such a file still describes what was opened, uncached
 * (like an unlinked open file); a stat by name gives ENOENT or the new
 * node.  A document's bytes are fetched for each READ the kernel sends
 * (one per file for most: reads from its page cache send none).
 *
 * A shared mount (-o allow_other) answers the names under its root per
 * caller and gives the kernel zero entry timeouts for them; owners and
 * modes make the kernel refuse the rest (mount_tenant.c).  The first read
 * of a document records its first disclosure to the recipient in the
 * ledger before any byte is returned (mount_ledger.c).
 *
 * Sections: helpers, entries, attributes, directories, files, extended
 * attributes, the ops table.
 */
#include "mount_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "mount_inode.h"
#include "mount_ledger.h"
#include "mount_snap.h"
#include "mount_tenant.h"

#define FSOP_RETRIES 16             /* redo a lookup at most this often while the world moves */
#define FSOP_XATTR_MAX 65536        /* XATTR_SIZE_MAX of Linux */

static const char fsop_xa_rules[] = "user.advisoryfs.rules";
static const char fsop_xa_basis[] = "user.advisoryfs.basis";
static const char fsop_xa_dist[] = "user.advisoryfs.dist";   /* view_dist_json() */

/* Every open directory is on fs->handles until released (see fsop_release_all). */
struct fsop_handle {
	struct fsop_handle *prev, *next;  /* protected by fs->handles_lock */
};

/* An open directory. */
struct fsop_dh {
	struct fsop_handle h;       /* first: the list links */
	pthread_mutex_t lock;
	struct fs_list list;        /* protected by lock */
	uint64_t gen;               /* snapshot the list comes from: protected by lock */
	struct fs_node **push;      /* hash files of the last readdirplus reply, pinned,
				     * to push at the next call: protected by lock */
	size_t npush;
};

/* ---- helpers ---------------------------------------------------------------------------- */

/* Put h on the list of open handles (before the reply that hands it out). */
static void fsop_handle_link(struct fs *fs, struct fsop_handle *h)
{
	pthread_mutex_lock(&fs->handles_lock);
	h->prev = NULL;
	h->next = fs->handles;
	if (h->next)
		h->next->prev = h;
	fs->handles = h;
	pthread_mutex_unlock(&fs->handles_lock);
}

static void fsop_handle_unlink(struct fs *fs, struct fsop_handle *h)
{
	pthread_mutex_lock(&fs->handles_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		fs->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
	pthread_mutex_unlock(&fs->handles_lock);
}

static struct fs *fsop_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static int fsop_is_dir(const struct fs_node *n)
{
	return n->id.type == FS_ROOT || n->id.type == FS_RECIP || n->id.type == FS_TLPDIR ||
	       n->id.type == FS_YEAR || n->id.type == FS_OPENPGP;
}

/* Documents and signatures come from the store; the rest is generated. */
static int fsop_is_stored(const struct fs_node *n)
{
	return n->id.type == FS_FILE && (n->id.kind == VIEW_JSON || n->id.kind == VIEW_ASC);
}

/* ---- entries ---------------------------------------------------------------------------- */

/*
 * Decide the entry for name under parent in snapshot s for caller c.
 * Returns 0 with e->ino the child's nodeid (one lookup added) or 0 for a
 * negative entry (cached like a positive one: the watcher invalidates it
 * when the name appears; in a shared mount, names under the root are not
 * cached at all, see mount_tenant.c); or -errno.
 */
static int fsop_entry(struct fs *fs, struct fs_snap *s, struct fs_caller *c,
		      struct fs_node *parent, const char *name, struct fuse_entry_param *e)
{
	char docbuf[FS_NAME_MAX + 1];
	struct fs_id id;
	struct fs_loc loc;
	struct fs_node *n;
	int r;

	memset(e, 0, sizeof(*e));
	e->entry_timeout = tenant_entry_timeout(fs, parent, name);
	e->attr_timeout = fs->timeout;
	r = snap_child(fs, parent, name, &id, docbuf);
	if (!r && !tenant_may_enter(fs, s, c, parent, name))
		r = -ENOENT; /* another organisation's: as if it did not exist */
	if (!r)
		r = snap_resolve(fs, s, &id, &loc);
	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	/* the attributes first: a new node keeps those of its content (its
	 * st_ino, a keyed hash, is computed only when the node is new) */
	snap_attr(fs, s, &id, 0, &loc, &e->attr);
	if ((r = itab_lookup(fs, parent, name, &id, snap_vkey(s, &id, &loc), &e->attr, &n)))
		return r;
	e->attr.st_ino = (ino_t)n->ino;
	e->ino = itab_nodeid(fs, n);
	return 0;
}

static void fsop_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *p = itab_node(fs, parent);
	struct fuse_entry_param e;
	struct fs_caller c;
	int r;

	tenant_caller_init(&c, req);
	for (int tries = 0;; tries++) {
		struct fs_snap *s = snap_get(fs);
		uint64_t gen = s->gen;
		r = fsop_entry(fs, s, &c, p, name, &e);
		snap_put(s);
		if (r || tries >= FSOP_RETRIES || snap_gen(fs) == gen)
			break;
		if (e.ino)
			itab_forget(fs, itab_node(fs, e.ino), 1);
	}
	tenant_caller_release(&c);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	/* a reply the kernel refused (interrupted) added no lookup */
	if (fuse_reply_entry(req, &e) != 0 && e.ino)
		itab_forget(fs, itab_node(fs, e.ino), 1);
}

static void fsop_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = fsop_fs(req);
	itab_forget(fs, itab_node(fs, ino), nlookup);
	fuse_reply_none(req);
}

static void fsop_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fsop_fs(req);
	for (size_t i = 0; i < count; i++)
		itab_forget(fs, itab_node(fs, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

/* ---- attributes ------------------------------------------------------------------------- */

static void fsop_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fs_snap *s = snap_get(fs);
	struct fs_loc loc;
	struct stat st;
	int r = snap_current(fs, s, n, &loc);

	(void)fi;
	if ((r == -ENOENT || r == -ESTALE) && n->vkey) {
		/* a file whose name was revoked or holds other content now: only
		 * an open file still reaches this node (the watcher took it from
		 * the kernel's names), and, like an unlinked open file, it still
		 * describes what was opened, uncached; its reads fail with EIO */
		memset(&st, 0, sizeof(st));
		st.st_ino = (ino_t)n->ino;
		st.st_mode = (mode_t)n->mode;
		st.st_nlink = 1;
		st.st_uid = (uid_t)n->uid;
		st.st_gid = (gid_t)n->gid;
		st.st_size = (off_t)n->size;
		st.st_blksize = 4096;
		st.st_blocks = (blkcnt_t)((n->size + 511) / 512);
		st.st_mtim.tv_sec = (time_t)n->mtime;
		st.st_atim = st.st_ctim = st.st_mtim;
		fuse_reply_attr(req, &st, 0);
	} else if (r) {
		fuse_reply_err(req, r == -ESTALE ? ENOENT : -r);
	} else {
		snap_attr(fs, s, &n->id, n->ino, &loc, &st);
		fuse_reply_attr(req, &st, fs->timeout);
	}
	snap_put(s);
}

static void fsop_statfs(fuse_req_t req, fuse_ino_t ino)
{
	/* nothing here that counts anybody's files */
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = FS_NAME_MAX };
	(void)ino;
	fuse_reply_statfs(req, &sv);
}

/* ---- directories ------------------------------------------------------------------------ */

static void fsop_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fs_snap *s;
	struct fsop_dh *dh;
	struct fs_loc loc;
	struct fs_caller c;
	int r;

	if (!fsop_is_dir(n)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (!(dh = calloc(1, sizeof(*dh)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_init(&dh->lock, NULL);
	tenant_caller_init(&c, req);
	s = snap_get(fs);
	r = snap_resolve(fs, s, &n->id, &loc);
	/* the kernel's permission check came first; this one holds even if not */
	if (!r && !tenant_may_loc(fs, s, &c, n, &loc))
		r = -ENOENT;
	if (!r)
		r = snap_list(fs, s, n, &dh->list);
	dh->gen = s->gen;
	snap_put(s);
	tenant_caller_release(&c);
	if (r) {
		pthread_mutex_destroy(&dh->lock);
		free(dh);
		fuse_reply_err(req, -r);
		return;
	}
	/* the kernel keeps listings (the watcher's inval_inode of a directory
	 * whose listing changed drops them), except the root's in a shared
	 * mount, whose names depend on who reads them */
	fi->cache_readdir = fi->keep_cache = !(fs->shared && n == fs->root);
	fi->fh = (uint64_t)(uintptr_t)dh;
	fsop_handle_link(fs, &dh->h);
	if (fuse_reply_open(req, fi) != 0) {
		fsop_handle_unlink(fs, &dh->h);
		snap_list_free(&dh->list);
		pthread_mutex_destroy(&dh->lock);
		free(dh);
	}
}

/* d_ino of an entry of a plain readdir: the st_ino a lookup would give. */
static ino_t fsop_child_ino(struct fs *fs, struct fs_node *parent, const char *name)
{
	char docbuf[FS_NAME_MAX + 1];
	struct fs_id id;
	uint64_t ino;
	if (snap_child(fs, parent, name, &id, docbuf) || itab_child_ino(fs, parent, name, &id, &ino))
		return 0;
	return (ino_t)ino;
}

/* Whether n is a hash file (.sha256, .sha512): one line, no disclosure. */
static int fsop_is_hashline(const struct fs_node *n)
{
	return n->id.type == FS_FILE && (n->id.kind == VIEW_SHA256 || n->id.kind == VIEW_SHA512);
}

/*
 * Put the contents of the hash files nodes[] into the kernel's page cache
 * (fuse_lowlevel_notify_store()), and unpin them.  They are a third of a
 * tree's files and each one line long, so whoever lists a year folder is
 * about to read them or does not mind: `cat`, `grep -r`, `rsync` and
 * `sha256sum -c` of a listed tree then send a READ per document only.  A
 * node's content never changes (mount_inode.c), so the pages are right for
 * as long as the node is current; one that is no longer current in the
 * snapshot taken under fs->push_lock is skipped, and the watcher's
 * invalidations come after that lock (see struct fs), so a push never
 * lands after the invalidation of what it pushed.  Called after a reply,
 * with no other lock held; the kernel's store waits at most for a READ of
 * the same page, which never takes push_lock.
 */
static void fsop_push(struct fs *fs, struct fs_node **nodes, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&fs->push_lock);
	struct fs_snap *s = snap_get(fs);
	for (size_t i = 0; i < n; i++) {
		struct fs_loc loc;
		char buf[256];
		size_t len;
		if (snap_current(fs, s, nodes[i], &loc))
			continue;
		const char *c = snap_generated(s, &nodes[i]->id, &loc, buf, sizeof(buf), &len);
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);
		bv.buf[0].mem = (void *)(uintptr_t)c;
		/* -ENOENT: the kernel has forgotten the inode meanwhile */
		(void)fuse_lowlevel_notify_store(fs->se, itab_nodeid(fs, nodes[i]), 0, &bv, 0);
	}
	snap_put(s);
	pthread_mutex_unlock(&fs->push_lock);
	for (size_t i = 0; i < n; i++)
		itab_unpin(fs, nodes[i]);
}

/*
 * readdir and readdirplus.  The listing comes from the snapshot of the
 * last call; it is made again when the world moved, so a listing never
 * shows what the current view does not hold (offsets may then shift, as
 * in any directory changed while being read).  Entries of readdirplus add
 * a lookup each; when the generation moved while they were made, they
 * are taken back and made again (see the file-top comment).  The hash
 * files of a readdirplus reply are pushed into the page cache (fsop_push)
 * at the directory's next call, after its reply: the kernel makes its
 * inodes from a reply when the reader takes it, so only by then do they
 * exist; the kernel always asks once more, until a reply comes back empty.
 */
static void fsop_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
				struct fuse_file_info *fi, int plus)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fsop_dh *dh = (struct fsop_dh *)(uintptr_t)fi->fh;
	struct fs_node **added = NULL, **push = NULL, **topush = NULL;
	size_t pos = 0, nadded = 0, npush = 0;
	char *buf = malloc(size ? size : 1);
	struct fs_caller c;
	int r = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	tenant_caller_init(&c, req);
	pthread_mutex_lock(&dh->lock);
	for (int tries = 0;; tries++) {
		struct fs_snap *s = snap_get(fs);
		uint64_t gen = s->gen;
		pos = 0;
		nadded = 0;
		if (dh->gen != gen) {
			struct fs_list l;
			if ((r = snap_list(fs, s, n, &l))) {
				snap_put(s);
				break;
			}
			snap_list_free(&dh->list);
			dh->list = l;
			dh->gen = gen;
		}
		free(added);
		added = NULL;
		if (plus && !(added = malloc((dh->list.n + 1) * sizeof(*added)))) {
			r = -ENOMEM;
			snap_put(s);
			break;
		}
		for (off_t i = off < 0 ? 0 : off; i < (off_t)dh->list.n + 2; i++) {
			size_t rem = size - pos, ent;
			const char *name;
			/* filtered per request: the listing is the opener's, the
			 * reader may be another (a passed descriptor) */
			if (i >= 2 && !tenant_may_enter(fs, s, &c, n, dh->list.ents[i - 2].name))
				continue; /* another organisation's name */
			if (i < 2) {
				const struct fs_node *d = i == 0 || !n->parent ? n : n->parent;
				struct fuse_entry_param e = { .ino = 0 };
				name = i == 0 ? "." : "..";
				e.attr.st_ino = (ino_t)d->ino;
				e.attr.st_mode = S_IFDIR;
				ent = plus ? fuse_add_direntry_plus(req, buf + pos, rem, name, &e, i + 1)
					   : fuse_add_direntry(req, buf + pos, rem, name, &e.attr, i + 1);
			} else if (plus) {
				struct fuse_entry_param e;
				name = dh->list.ents[i - 2].name;
				if ((r = fsop_entry(fs, s, &c, n, name, &e)))
					break;
				if (!e.ino)
					continue; /* cannot happen: the list is from s, filtered */
				ent = fuse_add_direntry_plus(req, buf + pos, rem, name, &e, i + 1);
				if (ent > rem) {
					itab_forget(fs, itab_node(fs, e.ino), 1);
					break;
				}
				added[nadded++] = itab_node(fs, e.ino);
			} else {
				const struct fs_ent *de = &dh->list.ents[i - 2];
				struct stat st = { .st_mode = de->isdir ? S_IFDIR : S_IFREG };
				st.st_ino = fsop_child_ino(fs, n, de->name);
				ent = fuse_add_direntry(req, buf + pos, rem, de->name, &st, i + 1);
			}
			if (ent > rem)
				break;
			pos += ent;
		}
		snap_put(s);
		if (!plus || (r && !pos) || tries >= FSOP_RETRIES || snap_gen(fs) == gen)
			break;
		for (size_t k = 0; k < nadded; k++)
			itab_forget(fs, added[k], 1);
		nadded = 0;
		r = 0;
	}
	/* this reply's hash files are pushed at the next call; the last
	 * reply's now (its inodes exist: the kernel asked again) */
	topush = dh->push;
	npush = dh->npush;
	dh->push = NULL;
	dh->npush = 0;
	if (plus && nadded && (push = malloc(nadded * sizeof(*push)))) {
		size_t k2 = 0;
		for (size_t k = 0; k < nadded; k++) {
			if (fsop_is_hashline(added[k])) {
				itab_pin(fs, added[k]);
				push[k2++] = added[k];
			}
		}
		dh->push = push;
		dh->npush = k2;
	}
	pthread_mutex_unlock(&dh->lock);
	tenant_caller_release(&c);
	if (r && !pos) {
		fuse_reply_err(req, -r);
	} else if (fuse_reply_buf(req, buf, pos) != 0) {
		for (size_t k = 0; k < nadded; k++)
			itab_forget(fs, added[k], 1);
	}
	fsop_push(fs, topush, npush);
	free(topush);
	free(added);
	free(buf);
}

static void fsop_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi)
{
	fsop_readdir_common(req, ino, size, off, fi, 0);
}

static void fsop_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			     struct fuse_file_info *fi)
{
	fsop_readdir_common(req, ino, size, off, fi, 1);
}

static void fsop_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsop_dh *dh = (struct fsop_dh *)(uintptr_t)fi->fh;
	struct fs *fs = fsop_fs(req);
	(void)ino;
	fsop_handle_unlink(fs, &dh->h);
	/* closed before the listing's end: what was not pushed stays unread */
	for (size_t k = 0; k < dh->npush; k++)
		itab_unpin(fs, dh->push[k]);
	free(dh->push);
	snap_list_free(&dh->list);
	pthread_mutex_destroy(&dh->lock);
	free(dh);
	fuse_reply_err(req, 0);
}

/* ---- files ------------------------------------------------------------------------------ */

/*
 * OPEN: not implemented, on purpose (see the file-top comment).  Writes
 * never get here (the mount is read-only) and the kernel's permission
 * check on the owners and modes came first; the checks a handle would
 * carry are made by every READ.
 */
static void fsop_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

/*
 * The stored bytes of node n (a document or signature: its version's)
 * through a pooled connection, as long as the size the kernel was given.
 * The caller frees *ret.  0 or -EIO (logged).
 */
static int fsop_fetch(struct fs *fs, const struct fs_node *n, char **ret, size_t *ret_len)
{
	struct store *st = NULL;
	char *b = NULL;
	size_t len = 0;
	int r;

	if (fs_pool_get(fs, &st))
		return -EIO;
	r = store_version_bytes(st, (int64_t)n->vkey, n->id.kind == VIEW_ASC, &b, &len);
	if (r)
		fs_log(fs, FUSE_LOG_ERR, "reading version %llu of '%s': %s",
		       (unsigned long long)n->vkey, n->name, store_errmsg(st));
	fs_pool_put(fs, st);
	if (!r && len != (size_t)n->size) {
		fs_log(fs, FUSE_LOG_ERR, "version %llu of '%s': %zu bytes stored, %lld expected",
		       (unsigned long long)n->vkey, n->name, len, (long long)n->size);
		r = -EIO;
	}
	if (r) {
		free(b);
		return -EIO;
	}
	*ret = b;
	*ret_len = len;
	return 0;
}

/*
 * READ: the bytes of the node's content, if its name still holds that
 * content for this caller (else EIO).  A document's first read by its
 * recipient is recorded in the ledger, with the hash of the bytes, before
 * any of them is returned; no entry, no bytes (SPEC.md section 4).
 */
static void fsop_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fs_snap *s = snap_get(fs);
	struct fs_caller c;
	struct fs_loc loc;
	char buf[256], *data = NULL;
	const char *p = NULL;
	size_t len = 0;
	int r;

	(void)fi;
	tenant_caller_init(&c, req);
	r = fsop_is_dir(n) ? -EISDIR : snap_current(fs, s, n, &loc);
	/* the kernel's permission check came first; this one holds even if not */
	if (!r && !tenant_may_loc(fs, s, &c, n, &loc))
		r = -ENOENT;
	if (r == -ENOENT || r == -ESTALE) {
		fs_log(fs, FUSE_LOG_DEBUG, "read of '%s' refused: no longer visible", n->name);
		r = -EIO;
	}
	if (!r && fsop_is_stored(n)) {
		r = fsop_fetch(fs, n, &data, &len);
		if (!r && n->id.kind == VIEW_JSON && fs_ledger_record(fs, s, &loc, data, len, c.uid))
			r = -EIO;
		p = data;
	} else if (!r) {
		p = snap_generated(s, &n->id, &loc, buf, sizeof(buf), &len);
	}
	if (r)
		fuse_reply_err(req, -r);
	else if (off < 0 || (uint64_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, p + off, len - (size_t)off < size ? len - (size_t)off : size);
	free(data);
	snap_put(s);
	tenant_caller_release(&c);
}

/*
 * Free every handle the kernel never released.  Called once the session
 * has ended and no request runs: a connection that is aborted or torn
 * down while files are open sends no RELEASE for them.
 */
void fsop_release_all(struct fs *fs)
{
	struct fsop_handle *h = fs->handles, *next;
	for (; h; h = next) {
		next = h->next;
		struct fsop_dh *dh = (struct fsop_dh *)h;
		free(dh->push); /* the nodes go with the table */
		snap_list_free(&dh->list);
		pthread_mutex_destroy(&dh->lock);
		free(dh);
	}
	fs->handles = NULL;
}

/* ---- extended attributes ---------------------------------------------------------------- */

/* Answer a getxattr/listxattr of size: the size query, ERANGE, or the bytes. */
static void fsop_reply_xattr(fuse_req_t req, const char *data, size_t len, size_t size)
{
	if (len > FSOP_XATTR_MAX)
		fuse_reply_err(req, E2BIG);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

/*
 * The value of user.advisoryfs.rules (ids joined with ",") or, with
 * basis, user.advisoryfs.basis (legal bases joined with "; ") of the
 * document at loc.  The caller frees *ret.  0 or -ENOMEM.
 */
static int fsop_xattr_value(const struct fs_snap *s, const struct fs_loc *loc, int basis,
			    char **ret, size_t *ret_len)
{
	const struct pol_decision *d = &loc->v->docs[loc->doc].dec;
	const char *sep = basis ? "; " : ",";
	size_t cap = 1, len = 0;
	char *b;

	for (int k = 0; k < d->nrules; k++) {
		const char *v = basis ? policy_rule_basis(s->p, d->rules[k])
				      : policy_rule_id(s->p, d->rules[k]);
		cap += v ? strlen(v) + strlen(sep) : 0;
	}
	if (!(b = malloc(cap)))
		return -ENOMEM;
	for (int k = 0; k < d->nrules; k++) {
		const char *v = basis ? policy_rule_basis(s->p, d->rules[k])
				      : policy_rule_id(s->p, d->rules[k]);
		if (!v)
			continue;
		if (len) {
			memcpy(b + len, sep, strlen(sep));
			len += strlen(sep);
		}
		memcpy(b + len, v, strlen(v));
		len += strlen(v);
	}
	b[len] = 0;
	*ret = b;
	*ret_len = len;
	return 0;
}

static void fsop_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fs_snap *s = snap_get(fs);
	struct fs_loc loc;
	char *val = NULL;
	size_t len = 0;
	int r = snap_resolve(fs, s, &n->id, &loc), which = -1;

	/* only the user namespace exists here: "not supported" (rather than
	 * "no such attribute") for security.selinux, system.posix_acl_* and
	 * the like lets ls -l, cp -a and friends stop asking for the rest of
	 * the file system; the kernel caches no extended attribute, so each
	 * question would be a round trip per file */
	if (!r && strncmp(name, "user.", 5) != 0)
		r = -EOPNOTSUPP;
	if (!strcmp(name, fsop_xa_rules))
		which = 0;
	else if (!strcmp(name, fsop_xa_basis))
		which = 1;
	else if (!strcmp(name, fsop_xa_dist))
		which = 2;
	if (!r && (which < 0 || n->id.type != FS_FILE || n->id.kind != VIEW_JSON))
		r = -ENODATA;
	if (!r && which == 2)
		r = view_dist_json(loc.v, s->p, (uint32_t)loc.doc, &val, &len);
	else if (!r)
		r = fsop_xattr_value(s, &loc, which, &val, &len);
	snap_put(s);
	if (r)
		fuse_reply_err(req, -r);
	else
		fsop_reply_xattr(req, val, len, size);
	free(val);
}

static void fsop_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	static const char names[] =
		"user.advisoryfs.rules\0user.advisoryfs.basis\0user.advisoryfs.dist";
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fs_snap *s = snap_get(fs);
	struct fs_loc loc;
	int r = snap_resolve(fs, s, &n->id, &loc);

	snap_put(s);
	if (r)
		fuse_reply_err(req, -r);
	else if (n->id.type == FS_FILE && n->id.kind == VIEW_JSON)
		fsop_reply_xattr(req, names, sizeof(names), size);
	else
		fsop_reply_xattr(req, NULL, 0, size);
}

/* ---- the ops table ---------------------------------------------------------------------- */

static void fsop_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* read-only: nothing to write back; listings with attributes, always:
	 * the kernel's adaptive mode would fall back to plain READDIR for
	 * find(1) and the like, and then pay a LOOKUP per name opened later */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
}

const struct fuse_lowlevel_ops fsop_ops = {
	.init = fsop_init,
	.lookup = fsop_lookup,
	.forget = fsop_forget,
	.forget_multi = fsop_forget_multi,
	.getattr = fsop_getattr,
	.statfs = fsop_statfs,
	.opendir = fsop_opendir,
	.readdir = fsop_readdir,
	.readdirplus = fsop_readdirplus,
	.releasedir = fsop_releasedir,
	.open = fsop_open,
	.read = fsop_read,
	.getxattr = fsop_getxattr,
	.listxattr = fsop_listxattr,
};
