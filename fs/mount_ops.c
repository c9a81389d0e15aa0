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
 * Reads: an open file holds the version it serves (a document version
 * never changes; its bytes are fetched at the first READ, or at open for
 * a first disclosure, which the ledger hashes; generated files are copied
 * at open).  Each read checks that the
 * recipient's current view still holds that file in that version (or, for
 * a generated file, with those bytes); if not, the read fails with EIO:
 * read(2) has no "no such file" and the file was visible when opened, but
 * no byte of a revoked file may leave after the revocation.  The kernel's
 * cached pages of such a file are dropped by the watcher; before reading
 * from its cache the kernel asks for the attributes through the open
 * file, which then fail with EIO too (a stat by name gives ENOENT).
 *
 * A shared mount (-o allow_other) answers the names under its root per
 * caller and gives the kernel zero entry timeouts for them; owners and
 * modes make the kernel refuse the rest (mount_tenant.c).  Opening a
 * document records its first disclosure to the recipient in the ledger
 * before the open succeeds (mount_ledger.c).
 *
 * Sections: helpers, entries, attributes, directories, files, extended
 * attributes, the ops table.
 */
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#define FSOP_RETRIES 16             /* redo a lookup at most this often while the world moves */
#define FSOP_XATTR_MAX 65536        /* XATTR_SIZE_MAX of Linux */

static const char fsop_xa_rules[] = "user.advisoryfs.rules";
static const char fsop_xa_basis[] = "user.advisoryfs.basis";
static const char fsop_xa_dist[] = "user.advisoryfs.dist";   /* view_dist_json() */

/*
 * An open file.  Reference counted: the kernel sends RELEASE as soon as it
 * has taken the reply of the last READ, which can be before the thread
 * that sent that reply returns from writev(); a read holds a reference.
 */
/* Every open handle is on fs->handles until released (see fsop_release_all). */
struct fsop_handle {
	struct fsop_handle *prev, *next;  /* protected by fs->handles_lock */
	int isdir;
};

struct fsop_fh {
	struct fsop_handle h;       /* first: the list links */
	atomic_uint refs;
	struct fs_node *node;       /* kept by the kernel while the file is open */
	atomic_uint_fast64_t gen;   /* generation at the last successful check */
	int64_t version_id;         /* documents and signatures */
	pthread_mutex_t lock;       /* protects data of a stored file until it is fetched */
	char *data;                 /* what the file serves; owned; a stored file's
				     * bytes are fetched at the first READ */
	size_t len;                 /* its length (a stored file's size at open) */
	struct stat st;             /* its attributes when it was opened */
};

/* An open directory. */
struct fsop_dh {
	struct fsop_handle h;       /* first: the list links */
	pthread_mutex_t lock;
	struct fs_list list;        /* protected by lock */
	uint64_t gen;               /* snapshot the list comes from: protected by lock */
};

/* ---- helpers ---------------------------------------------------------------------------- */

/* Put h on the list of open handles (before the reply that hands it out). */
static void fsop_handle_link(struct fs *fs, struct fsop_handle *h, int isdir)
{
	h->isdir = isdir;
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

/* The kernel is about to cache n's size and mtime as they are at loc. */
static void fsop_note_seen(struct fs_node *n, const struct fs_loc *loc)
{
	if (fsop_is_stored(n))
		atomic_store(&n->seen_version, snap_adv(loc)->version_id);
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
	if ((r = itab_lookup(fs, parent, name, &id, &n)))
		return r;
	snap_attr(fs, s, n, &loc, &e->attr);
	fsop_note_seen(n, &loc);
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

/* The attributes an open handle of n was opened with: 0, or -ENOENT. */
static int fsop_open_attr(struct fs *fs, const struct fs_node *n, struct stat *ret_st)
{
	int r = -ENOENT;
	pthread_mutex_lock(&fs->handles_lock);
	for (const struct fsop_handle *h = fs->handles; h; h = h->next) {
		const struct fsop_fh *fh = (const struct fsop_fh *)h;
		if (!h->isdir && fh->node == n) {
			*ret_st = fh->st;
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&fs->handles_lock);
	return r;
}

static void fsop_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fs_snap *s = snap_get(fs);
	struct fs_loc loc;
	struct stat st;
	int r = snap_resolve(fs, s, &n->id, &loc);

	/* through an open file (the kernel asks before reading from its
	 * cache): a revoked file's reads fail with EIO, as in fsop_read() */
	if (r == -ENOENT && fi)
		r = -EIO;
	/* fstat(2) of a file opened before it was revoked (the kernel passes
	 * no handle then): like an unlinked open file, it still describes
	 * what was opened, uncached; its reads fail all the same.  Nobody
	 * else reaches the node: its name is gone from the kernel. */
	if (r == -ENOENT && fsop_open_attr(fs, n, &st) == 0) {
		fuse_reply_attr(req, &st, 0);
	} else if (r) {
		fuse_reply_err(req, -r);
	} else {
		snap_attr(fs, s, n, &loc, &st);
		fsop_note_seen(n, &loc);
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
	fsop_handle_link(fs, &dh->h, 1);
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

/*
 * readdir and readdirplus.  The listing comes from the snapshot of the
 * last call; it is made again when the world moved, so a listing never
 * shows what the current view does not hold (offsets may then shift, as
 * in any directory changed while being read).  Entries of readdirplus add
 * a lookup each; when the generation moved while they were made, they
 * are taken back and made again (see the file-top comment).
 */
static void fsop_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
				struct fuse_file_info *fi, int plus)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fsop_dh *dh = (struct fsop_dh *)(uintptr_t)fi->fh;
	struct fs_node **added = NULL;
	size_t pos = 0, nadded = 0;
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
	pthread_mutex_unlock(&dh->lock);
	tenant_caller_release(&c);
	if (r && !pos) {
		fuse_reply_err(req, -r);
	} else if (fuse_reply_buf(req, buf, pos) != 0) {
		for (size_t k = 0; k < nadded; k++)
			itab_forget(fs, added[k], 1);
	}
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
	(void)ino;
	fsop_handle_unlink(fsop_fs(req), &dh->h);
	snap_list_free(&dh->list);
	pthread_mutex_destroy(&dh->lock);
	free(dh);
	fuse_reply_err(req, 0);
}

/* ---- files ------------------------------------------------------------------------------ */

static void fsop_fh_free(struct fsop_fh *fh)
{
	pthread_mutex_destroy(&fh->lock);
	free(fh->data);
	free(fh);
}

static void fsop_fh_put(struct fsop_fh *fh)
{
	if (!fh || atomic_fetch_sub(&fh->refs, 1) != 1)
		return;
	fsop_fh_free(fh);
}

/*
 * Fetch the stored bytes of fh's version (fh->lock held, or fh not yet
 * shared) through a pooled connection.  They must be as long as the size
 * the kernel was given at open.  0 or -EIO (logged).
 */
static int fsop_fh_fetch(struct fs *fs, struct fsop_fh *fh)
{
	const struct fs_node *n = fh->node;
	struct store *st = NULL;
	char *b = NULL;
	size_t len = 0;
	int r;

	if (mount_pool_get(fs, &st))
		return -EIO;
	r = store_version_bytes(st, fh->version_id, n->id.kind == VIEW_ASC, &b, &len);
	if (r)
		fs_log(fs, FUSE_LOG_ERR, "reading version %lld of '%s': %s",
		       (long long)fh->version_id, n->name, store_errmsg(st));
	mount_pool_put(fs, st);
	if (!r && len != fh->len) {
		fs_log(fs, FUSE_LOG_ERR, "version %lld of '%s': %zu bytes stored, %zu expected",
		       (long long)fh->version_id, n->name, len, fh->len);
		r = -EIO;
	}
	if (r) {
		free(b);
		return -EIO;
	}
	fh->data = b;
	return 0;
}

/*
 * Fill fh with what the file serves in snapshot s at loc (fh->st already
 * set): for a document or signature its version, and its bytes only when
 * now is needed (first a document's first disclosure to its recipient,
 * whose ledger entry holds their hash; otherwise the first READ fetches
 * them, and an open the kernel serves from its page cache costs no store
 * read); for a generated file a copy of its content.  0 or -errno.
 */
static int fsop_fh_fill(struct fs *fs, struct fs_snap *s, const struct fs_loc *loc,
			struct fsop_fh *fh)
{
	const struct fs_node *n = fh->node;

	if (fsop_is_stored(n)) {
		fh->version_id = snap_adv(loc)->version_id;
		fh->len = (size_t)fh->st.st_size;
		if (n->id.kind == VIEW_JSON && !fs_ledger_has(fs, s, loc))
			return fsop_fh_fetch(fs, fh);
		return 0;
	}
	char buf[256];
	size_t len;
	const char *c = snap_generated(s, n, loc, buf, sizeof(buf), &len);
	if (!(fh->data = malloc(len ? len : 1)))
		return -ENOMEM;
	if (len)
		memcpy(fh->data, c, len);
	fh->len = len;
	return 0;
}

static void fsop_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fsop_fs(req);
	struct fs_node *n = itab_node(fs, ino);
	struct fsop_fh *fh;
	struct fs_snap *s;
	struct fs_loc loc;
	struct fs_caller c;
	int r;

	if (fsop_is_dir(n)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (!(fh = calloc(1, sizeof(*fh)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	atomic_init(&fh->refs, 1);
	pthread_mutex_init(&fh->lock, NULL);
	fh->node = n;
	tenant_caller_init(&c, req);
	s = snap_get(fs);
	atomic_init(&fh->gen, s->gen);
	r = snap_resolve(fs, s, &n->id, &loc);
	/* the kernel's permission check came first; this one holds even if not */
	if (!r && !tenant_may_loc(fs, s, &c, n, &loc))
		r = -ENOENT;
	if (!r) {
		snap_attr(fs, s, n, &loc, &fh->st);
		r = fsop_fh_fill(fs, s, &loc, fh);
	}
	/* a document's first disclosure to its recipient is in the ledger
	 * before the open succeeds, so before any byte can be read; no entry,
	 * no bytes (SPEC.md section 4) */
	/* a new version arrived after the kernel cached this file's size (the
	 * watcher has not told it yet): serving the new bytes under the old
	 * size would hand out a torn document, so the open fails instead; it
	 * succeeds again once the kernel has dropped or refreshed the size */
	if (!r && fsop_is_stored(n)) {
		int64_t seen = atomic_load(&n->seen_version);
		if (seen && seen != fh->version_id)
			r = -EIO;
	}
	if (!r && n->id.type == FS_FILE && n->id.kind == VIEW_JSON &&
	    fs_ledger_record(fs, s, &loc, fh->data, fh->len, c.uid))
		r = -EIO;
	snap_put(s);
	tenant_caller_release(&c);
	if (r) {
		fsop_fh_put(fh);
		fuse_reply_err(req, -r);
		return;
	}
	/* a version's bytes never change: keep the page cache when it holds
	 * this version (or generated content the watcher keeps current) */
	fi->keep_cache = !fsop_is_stored(n) ||
			 atomic_exchange(&n->cached_version, fh->version_id) == fh->version_id;
	fi->fh = (uint64_t)(uintptr_t)fh;
	fsop_handle_link(fs, &fh->h, 0);
	if (fuse_reply_open(req, fi) != 0) {
		fsop_handle_unlink(fs, &fh->h);
		fsop_fh_put(fh);
	}
}

/* Whether fh may still serve its bytes under snapshot s: 0 or -EIO. */
static int fsop_fh_check(struct fs *fs, struct fs_snap *s, const struct fsop_fh *fh)
{
	const struct fs_node *n = fh->node;
	struct fs_loc loc;
	char buf[256];
	size_t len;

	if (snap_resolve(fs, s, &n->id, &loc))
		return -EIO;
	if (fsop_is_stored(n))
		return snap_adv(&loc)->version_id == fh->version_id ? 0 : -EIO;
	const char *c = snap_generated(s, n, &loc, buf, sizeof(buf), &len);
	return len == fh->len && (!len || memcmp(c, fh->data, len) == 0) ? 0 : -EIO;
}

static void fsop_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fsop_fs(req);
	struct fsop_fh *fh = (struct fsop_fh *)(uintptr_t)fi->fh;
	struct fs_snap *s = snap_get(fs);
	int r = 0;

	(void)ino;
	atomic_fetch_add(&fh->refs, 1);
	if (atomic_load(&fh->gen) != s->gen) {
		r = fsop_fh_check(fs, s, fh);
		if (r)
			fs_log(fs, FUSE_LOG_DEBUG, "read of '%s' refused: no longer visible",
			       fh->node->name);
		else
			atomic_store(&fh->gen, s->gen);
	}
	snap_put(s);
	if (!r && fsop_is_stored(fh->node)) {
		pthread_mutex_lock(&fh->lock);
		if (!fh->data)
			r = fsop_fh_fetch(fs, fh);
		pthread_mutex_unlock(&fh->lock);
	}
	if (r) {
		fuse_reply_err(req, -r);
	} else if (off < 0 || (uint64_t)off >= fh->len) {
		fuse_reply_buf(req, NULL, 0);
	} else {
		size_t n = fh->len - (size_t)off;
		fuse_reply_buf(req, fh->data + off, n < size ? n : size);
	}
	fsop_fh_put(fh);
}

static void fsop_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsop_fh *fh = (struct fsop_fh *)(uintptr_t)fi->fh;
	(void)ino;
	fsop_handle_unlink(fsop_fs(req), &fh->h);
	fsop_fh_put(fh);
	fuse_reply_err(req, 0);
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
		if (h->isdir) {
			struct fsop_dh *dh = (struct fsop_dh *)h;
			snap_list_free(&dh->list);
			pthread_mutex_destroy(&dh->lock);
			free(dh);
		} else {
			fsop_fh_free((struct fsop_fh *)h);
		}
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
	.release = fsop_release,
	.getxattr = fsop_getxattr,
	.listxattr = fsop_listxattr,
};
