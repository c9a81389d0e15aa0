/*
 * remote_mount.c - `advisoryfs mount MOUNTPOINT --remote [USER@]HOST`: a
 * FUSE mount of what `advisoryfs serve` on HOST serves (docs/REMOTE.md),
 * with no store on this host.
 *
 * The tree comes whole with the connection and changes with every PATCH
 * the server pushes (remote_tree.c); each request of the kernel is
 * answered from the current tree, without a round trip, except the first
 * READ of a document or other large file, which fetches its bytes (GET),
 * checks them against the SHA-256 of the listing before a byte is
 * returned, and keeps them in a bounded cache (-o cache_size).  So the
 * kernel may cache names, attributes and listings for a day (-o timeout):
 * the applier thread tells it of every change at once, the way the local
 * mount's watcher does (fuse_lowlevel_notify_inval_inode/_entry/_delete):
 *
 *   a name that went            inval_inode (pages and attributes) and delete
 *   a file whose content changed  inval_inode of the old node, inval_entry of the name
 *   a directory whose listing or attributes changed   inval_inode
 *   a name that appeared        inval_entry (a cached negative entry)
 *
 * Nodes are the local mount's design: the nodeid is a pointer to a node
 * that names a path and holds one content (a file's SHA-256), counted by
 * the kernel's lookups; a READ serves its node's content only while the
 * current tree still holds that content at that path, else EIO, so an
 * open file of a revoked or superseded document fails instead of serving
 * it.  OPEN is answered ENOSYS (no handles, the page cache kept).
 *
 * Connection lost (remote_link.c reconnects with backoff): what the mount
 * had is served for at most -o max_stale seconds (default 60), never a
 * deletion it did not hear of; past that, every request fails with EIO
 * and the kernel's caches are dropped (so a cached stat fails too), until
 * the link is back and its tree has been applied: the tree converges,
 * revocations included, before anything is served again.
 *
 * Locks, in order: a directory handle's, tree_lock (the pointer), itab
 * (nodes), cache, queue (the applier's), state (up, down_ms).  None is
 * held across a reply or a notification.
 *
 * Sections: state, nodes, the cache, attributes, operations, applying
 * changes, options, the command.
 */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <fuse_opt.h>

#include "cmd.h"
#include "digest.h"
#include "remote_apply.h"
#include "remote_link.h"
#include "remote_nodes.h"
#include "remote_proto.h"
#include "remote_tree.h"
#include "util.h"

#define RM_DEFAULT_TIMEOUT 86400.0
#define RM_DEFAULT_MAX_STALE 60
#define RM_DEFAULT_CACHE (64u << 20)
#define RM_RETRIES 16

/* ---- operations ------------------------------------------------------------------------- */

static struct rm *rm_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The entry for name in the directory of node p in tree t: 0 with e->ino
 * the child's nodeid (a lookup added) or 0 (a negative entry), or -errno. */
static int rm_entry(struct rm *rm, struct rt_tree *t, struct rm_node *p, const char *name,
		    struct fuse_entry_param *e)
{
	int64_t di, ci;
	memset(e, 0, sizeof(*e));
	e->entry_timeout = rm->timeout;
	e->attr_timeout = rm->timeout;
	if (!p->isdir)
		return -ENOTDIR;
	if (rm_current(t, p, &di))
		return 0; /* the directory went: nothing in it */
	if ((ci = rt_child(t, (uint32_t)di, name)) < 0)
		return 0;
	struct rm_node *n = rm_lookup_node(rm, &t->ents[ci]);
	if (!n)
		return -ENOMEM;
	rm_attr(rm, &t->ents[ci], &e->attr);
	e->ino = rm_nodeid(rm, n);
	return 0;
}

static void rm_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rm *rm = rm_of(req);
	struct rm_node *p = rm_node(rm, parent);
	struct fuse_entry_param e;
	int r;

	if (rm_stale(rm)) {
		fuse_reply_err(req, EIO);
		return;
	}
	for (int tries = 0;; tries++) {
		struct rt_tree *t = rm_tree(rm);
		uint64_t gen = t->gen;
		r = rm_entry(rm, t, p, name, &e);
		rt_put(t);
		if (r || tries >= RM_RETRIES || rm_gen(rm) == gen)
			break;
		if (e.ino)
			rm_forget_node(rm, rm_node(rm, e.ino), 1);
	}
	if (r)
		fuse_reply_err(req, -r);
	else if (fuse_reply_entry(req, &e) != 0 && e.ino)
		rm_forget_node(rm, rm_node(rm, e.ino), 1);
}

static void rm_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct rm *rm = rm_of(req);
	rm_forget_node(rm, rm_node(rm, ino), nlookup);
	fuse_reply_none(req);
}

static void rm_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	struct rm *rm = rm_of(req);
	for (size_t i = 0; i < count; i++)
		rm_forget_node(rm, rm_node(rm, f[i].ino), f[i].nlookup);
	fuse_reply_none(req);
}

static void rm_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rm *rm = rm_of(req);
	struct rm_node *n = rm_node(rm, ino);
	struct rt_tree *t;
	struct stat st;
	int64_t i;
	int r;

	(void)fi;
	if (rm_stale(rm)) {
		fuse_reply_err(req, EIO);
		return;
	}
	t = rm_tree(rm);
	r = rm_current(t, n, &i);
	if (!r) {
		rm_attr(rm, &t->ents[i], &st);
		fuse_reply_attr(req, &st, rm->timeout);
	} else if (!n->isdir) {
		/* an open file whose name went or moved on: what was opened, uncached */
		struct rt_ent e = { .kind = RP_FILE, .ino = n->ino, .size = n->size,
				    .mtime = n->mtime };
		rm_attr(rm, &e, &st);
		fuse_reply_attr(req, &st, 0);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	rt_put(t);
}

static void rm_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = RP_NAME_MAX };
	(void)ino;
	fuse_reply_statfs(req, &sv);
}

/* An open directory: the names of its listing, from one tree. */
struct rm_dh {
	pthread_mutex_t lock;
	struct rt_tree *t;          /* the tree the listing is from */
	uint32_t *kids;             /* entry indices of t */
	size_t n;
};

/* The listing of node n in t into dh (empty when n is not current). */
static int rm_list(struct rt_tree *t, const struct rm_node *n, struct rm_dh *dh)
{
	int64_t di;
	size_t cnt = 0;
	free(dh->kids);
	dh->kids = NULL;
	dh->n = 0;
	if (dh->t)
		rt_put(dh->t);
	rt_get(t);
	dh->t = t;
	if (rm_current(t, n, &di))
		return 0;
	const struct rt_ent *d = &t->ents[di];
	for (uint32_t i = (uint32_t)di + 1; i < d->end; i = t->ents[i].end)
		cnt++;
	if (!(dh->kids = malloc((cnt ? cnt : 1) * sizeof(*dh->kids))))
		return -ENOMEM;
	for (uint32_t i = (uint32_t)di + 1; i < d->end; i = t->ents[i].end)
		dh->kids[dh->n++] = i;
	return 0;
}

static void rm_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rm *rm = rm_of(req);
	struct rm_node *n = rm_node(rm, ino);
	struct rm_dh *dh;
	struct rt_tree *t;
	int64_t di;
	int r;

	if (rm_stale(rm)) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (!n->isdir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (!(dh = calloc(1, sizeof(*dh)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_init(&dh->lock, NULL);
	t = rm_tree(rm);
	r = rm_current(t, n, &di);
	if (!r)
		r = rm_list(t, n, dh);
	rt_put(t);
	if (r) {
		if (dh->t)
			rt_put(dh->t);
		free(dh->kids);
		pthread_mutex_destroy(&dh->lock);
		free(dh);
		fuse_reply_err(req, r == -ESTALE ? ENOENT : -r);
		return;
	}
	fi->cache_readdir = fi->keep_cache = 1;
	fi->fh = (uint64_t)(uintptr_t)dh;
	if (fuse_reply_open(req, fi) != 0) {
		rt_put(dh->t);
		free(dh->kids);
		pthread_mutex_destroy(&dh->lock);
		free(dh);
	}
}

static void rm_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi, int plus)
{
	struct rm *rm = rm_of(req);
	struct rm_node *n = rm_node(rm, ino);
	struct rm_dh *dh = (struct rm_dh *)(uintptr_t)fi->fh;
	struct rm_node **added = NULL;
	size_t pos = 0, nadded = 0;
	char *buf;
	int r = 0;

	if (rm_stale(rm)) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (!(buf = malloc(size ? size : 1))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&dh->lock);
	for (int tries = 0;; tries++) {
		struct rt_tree *t = rm_tree(rm);
		uint64_t gen = t->gen;
		pos = nadded = 0;
		if (dh->t != t && (r = rm_list(t, n, dh))) {
			rt_put(t);
			break;
		}
		free(added);
		if (plus && !(added = malloc((dh->n + 1) * sizeof(*added)))) {
			r = -ENOMEM;
			rt_put(t);
			break;
		}
		for (off_t i = off < 0 ? 0 : off; i < (off_t)dh->n + 2; i++) {
			size_t rem = size - pos, ent;
			if (i < 2) {
				struct fuse_entry_param e = { .ino = 0 };
				e.attr.st_mode = S_IFDIR;
				e.attr.st_ino = (ino_t)(i == 0 ? n->ino : 0);
				const char *name = i == 0 ? "." : "..";
				ent = plus ? fuse_add_direntry_plus(req, buf + pos, rem, name, &e, i + 1)
					   : fuse_add_direntry(req, buf + pos, rem, name, &e.attr, i + 1);
			} else {
				const struct rt_ent *c = &t->ents[dh->kids[i - 2]];
				if (plus) {
					struct fuse_entry_param e = { .ino = 0 };
					struct rm_node *cn = rm_lookup_node(rm, c);
					if (!cn) {
						r = -ENOMEM;
						break;
					}
					e.ino = rm_nodeid(rm, cn);
					e.entry_timeout = e.attr_timeout = rm->timeout;
					rm_attr(rm, c, &e.attr);
					ent = fuse_add_direntry_plus(req, buf + pos, rem, c->name, &e, i + 1);
					if (ent > rem) {
						rm_forget_node(rm, cn, 1);
						break;
					}
					added[nadded++] = cn;
				} else {
					struct stat st;
					rm_attr(rm, c, &st);
					ent = fuse_add_direntry(req, buf + pos, rem, c->name, &st, i + 1);
				}
			}
			if (ent > rem)
				break;
			pos += ent;
		}
		rt_put(t);
		if (!plus || (r && !pos) || tries >= RM_RETRIES || rm_gen(rm) == gen)
			break;
		for (size_t k = 0; k < nadded; k++)
			rm_forget_node(rm, added[k], 1);
		nadded = 0;
		r = 0;
	}
	pthread_mutex_unlock(&dh->lock);
	if (r && !pos) {
		fuse_reply_err(req, -r);
		for (size_t k = 0; k < nadded; k++)
			rm_forget_node(rm, added[k], 1);
	} else if (fuse_reply_buf(req, buf, pos) != 0) {
		for (size_t k = 0; k < nadded; k++)
			rm_forget_node(rm, added[k], 1);
	}
	free(added);
	free(buf);
}

static void rm_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	rm_readdir_common(req, ino, size, off, fi, 0);
}

static void rm_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	rm_readdir_common(req, ino, size, off, fi, 1);
}

static void rm_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rm_dh *dh = (struct rm_dh *)(uintptr_t)fi->fh;
	(void)ino;
	if (dh->t)
		rt_put(dh->t);
	free(dh->kids);
	pthread_mutex_destroy(&dh->lock);
	free(dh);
	fuse_reply_err(req, 0);
}

static void rm_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/* no handles: see the file-top comment (and the local mount's) */
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

/*
 * READ: the bytes of the node's content while the current tree holds it
 * at its path; fetched once (GET), checked against the listing's SHA-256
 * before any byte is returned, then cached.
 */
static void rm_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct rm *rm = rm_of(req);
	struct rm_node *n = rm_node(rm, ino);
	unsigned char *data = NULL, sha[32];
	const unsigned char *p = NULL;
	size_t len = 0;
	struct rt_tree *t;
	int64_t i;
	int r;

	(void)fi;
	if (n->isdir) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (rm_stale(rm)) {
		fuse_reply_err(req, EIO);
		return;
	}
	t = rm_tree(rm);
	r = rm_current(t, n, &i);
	if (r) {
		rm_log(rm, LOG_DEBUG, "read of '%s' refused: no longer in the view", n->path);
		r = -EIO;
	} else if (t->ents[i].kind == RP_INLINE) {
		p = t->ents[i].data;
		len = (size_t)t->ents[i].size;
	} else if ((data = rm_cache_get(rm, n->sha, &len))) {
		p = data;
	} else {
		r = rl_get(&rm->link, n->path, n->pathlen, n->sha, (int64_t)rm->max_stale * 1000,
			   &data, &len);
		if (r == 0 && (len != n->size || digest_sha256(data, len, sha) ||
			       memcmp(sha, n->sha, 32) != 0)) {
			rm_log(rm, LOG_ERR, "'%s': the bytes %s sent do not match the listing's "
			       "SHA-256: refused", n->path, rm->host);
			r = -EIO;
		}
		if (r == 0)
			rm_cache_put(rm, n->sha, data, len);
		else if (r != -EIO)
			rm_log(rm, LOG_DEBUG, "read of '%s': the server refused it (%s)", n->path,
			       strerror(-r));
		if (r == 0) {
			/* revoked while the bytes travelled: none of them leaves */
			struct rt_tree *now = rm_tree(rm);
			int64_t k;
			if (rm_current(now, n, &k))
				r = -EIO;
			rt_put(now);
		}
		p = data;
		r = r ? -EIO : 0;
	}
	if (r)
		fuse_reply_err(req, -r);
	else if (off < 0 || (uint64_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, (const char *)p + off,
			       len - (size_t)off < size ? len - (size_t)off : size);
	free(data);
	rt_put(t);
}

static void rm_reply_xattr(fuse_req_t req, const char *data, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

static void rm_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct rm *rm = rm_of(req);
	struct rm_node *n = rm_node(rm, ino);
	struct rt_tree *t;
	int64_t i;

	if (rm_stale(rm)) {
		fuse_reply_err(req, EIO);
		return;
	}
	t = rm_tree(rm);
	if (rm_current(t, n, &i)) {
		fuse_reply_err(req, ENOENT);
	} else if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, EOPNOTSUPP); /* as the local mount: ls -l stops asking */
	} else {
		const struct rt_ent *e = &t->ents[i];
		unsigned k;
		for (k = 0; k < e->nx; k++)
			if (strlen(name) == e->x[k].nlen && memcmp(name, e->x[k].name, e->x[k].nlen) == 0)
				break;
		if (k == e->nx)
			fuse_reply_err(req, ENODATA);
		else
			rm_reply_xattr(req, e->x[k].value, e->x[k].vlen, size);
	}
	rt_put(t);
}

static void rm_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct rm *rm = rm_of(req);
	struct rm_node *n = rm_node(rm, ino);
	char buf[RP_XATTRS_MAX * (RP_NAME_MAX + 1)];
	size_t len = 0;
	struct rt_tree *t;
	int64_t i;

	if (rm_stale(rm)) {
		fuse_reply_err(req, EIO);
		return;
	}
	t = rm_tree(rm);
	if (rm_current(t, n, &i)) {
		fuse_reply_err(req, ENOENT);
	} else {
		const struct rt_ent *e = &t->ents[i];
		for (unsigned k = 0; k < e->nx; k++) {
			memcpy(buf + len, e->x[k].name, e->x[k].nlen);
			len += e->x[k].nlen;
			buf[len++] = 0;
		}
		rm_reply_xattr(req, buf, len, size);
	}
	rt_put(t);
}

static void rm_op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
}

static const struct fuse_lowlevel_ops rm_ops = {
	.init = rm_op_init,
	.lookup = rm_op_lookup,
	.forget = rm_op_forget,
	.forget_multi = rm_op_forget_multi,
	.getattr = rm_op_getattr,
	.statfs = rm_op_statfs,
	.opendir = rm_op_opendir,
	.readdir = rm_op_readdir,
	.readdirplus = rm_op_readdirplus,
	.releasedir = rm_op_releasedir,
	.open = rm_op_open,
	.read = rm_op_read,
	.getxattr = rm_op_getxattr,
	.listxattr = rm_op_listxattr,
};

/* ---- options ---------------------------------------------------------------------------- */

struct rm_opts {
	char *remote;
	char *ssh_command;
	char *cache_size;
	unsigned max_stale;
	double timeout;
	int help;
	char *bad;
};

enum { RM_KEY_HELP, RM_KEY_IGNORE };

#define RM_OPT(t, field) { t, offsetof(struct rm_opts, field), 1 }

static const struct fuse_opt rm_opt_spec[] = {
	RM_OPT("--remote %s", remote),
	RM_OPT("--remote=%s", remote),
	RM_OPT("remote=%s", remote),
	RM_OPT("ssh_command=%s", ssh_command),
	RM_OPT("max_stale=%u", max_stale),
	RM_OPT("cache_size=%s", cache_size),
	RM_OPT("timeout=%lf", timeout),
	FUSE_OPT_KEY("-h", RM_KEY_HELP),
	FUSE_OPT_KEY("--help", RM_KEY_HELP),
	FUSE_OPT_KEY("rw", RM_KEY_IGNORE),
	FUSE_OPT_KEY("dev", RM_KEY_IGNORE),
	FUSE_OPT_KEY("suid", RM_KEY_IGNORE),
	FUSE_OPT_KEY("defaults", RM_KEY_IGNORE),
	FUSE_OPT_KEY("auto", RM_KEY_IGNORE),
	FUSE_OPT_KEY("noauto", RM_KEY_IGNORE),
	FUSE_OPT_KEY("user", RM_KEY_IGNORE),
	FUSE_OPT_KEY("nouser", RM_KEY_IGNORE),
	FUSE_OPT_KEY("users", RM_KEY_IGNORE),
	FUSE_OPT_KEY("owner", RM_KEY_IGNORE),
	FUSE_OPT_KEY("group", RM_KEY_IGNORE),
	FUSE_OPT_KEY("_netdev", RM_KEY_IGNORE),
	FUSE_OPT_KEY("nofail", RM_KEY_IGNORE),
	FUSE_OPT_END
};

static int rm_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct rm_opts *o = data;
	(void)outargs;
	switch (key) {
	case RM_KEY_HELP:
		o->help = 1;
		return 0;
	case RM_KEY_IGNORE:
		return 0;
	case FUSE_OPT_KEY_OPT:
		if (strncmp(arg, "x-", 2) == 0 || strncmp(arg, "comment=", 8) == 0)
			return 0;
		if (arg[0] == '-' && strcmp(arg, "-f") != 0 && strcmp(arg, "-d") != 0) {
			if (!o->bad)
				o->bad = strdup(arg);
			return 0;
		}
		return 1;
	default:
		return 1;
	}
}

static void rm_help(void)
{
	printf("usage: advisoryfs mount MOUNTPOINT --remote [USER@]HOST [-f] [-d] [-o OPT,...]\n"
	       "       advisoryfs ssh://[USER@]HOST MOUNTPOINT [-o OPT,...]   (mount(8), fstab)\n"
	       "\n"
	       "Mount, read-only, the tree HOST serves to this host's key: exactly what\n"
	       "the recipient's directory holds on HOST, live (a withdrawal, a new version,\n"
	       "an embargo ending show at once), with no store here.  HOST runs\n"
	       "'advisoryfs -s STORE serve --as SLUG' as the forced command of the key\n"
	       "(docs/REMOTE.md); the connection is ssh(1), with its keys, agent,\n"
	       "known_hosts and ~/.ssh/config.\n"
	       "\n"
	       "options:\n"
	       "    --remote [USER@]HOST    where the tree comes from\n"
	       "    -o ssh_command=CMD      how to run ssh (split at blanks; HOST and the\n"
	       "                            command 'advisoryfs serve' are added; default:\n"
	       "                            ssh -o BatchMode=yes -o ServerAliveInterval=15\n"
	       "                            -o ServerAliveCountMax=3 -o ConnectTimeout=20 -T -x)\n"
	       "    -o max_stale=SECS       without a connection, serve what was there for\n"
	       "                            this long, then fail every request with EIO\n"
	       "                            until it is back (default: %d)\n"
	       "    -o cache_size=BYTES     documents kept in memory after their first read\n"
	       "                            (K, M, G suffixes; default: 64M)\n"
	       "    -o timeout=SECS         how long the kernel caches names and attributes\n"
	       "                            (default: %.0f; the server pushes every change)\n"
	       "    -o allow_other          other accounts may read the mount\n"
	       "    -f                      stay in the foreground\n"
	       "    -d                      debug output (implies -f)\n"
	       "    -h, --help              this help\n"
	       "Always mounted read-only, nosuid and nodev.  Accepted and ignored: rw, dev,\n"
	       "suid, and the fstab words defaults, auto, noauto, user, nouser, users, owner,\n"
	       "group, _netdev, nofail, x-* and comment=*.\n"
	       "\n"
	       "fstab example:\n"
	       "    ssh://advisories@dist.example  /srv/advisories  fuse.advisoryfs  ro,_netdev,nofail  0 0\n"
	       "\n"
	       "FUSE options:\n",
	       RM_DEFAULT_MAX_STALE, RM_DEFAULT_TIMEOUT);
	fflush(stdout);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* "64M" and the like; 0 for a bad size. */
static size_t rm_parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned long long mul = 1;
	if (end == s)
		return 0;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10;
	else if (*end == 'm' || *end == 'M')
		mul = 1ull << 20;
	else if (*end == 'g' || *end == 'G')
		mul = 1ull << 30;
	else if (*end)
		return 0;
	if (*end && end[1])
		return 0;
	if (v > (unsigned long long)SIZE_MAX / mul)
		return 0;
	return (size_t)(v * mul);
}

/* ---- the command ------------------------------------------------------------------------ */

/*
 * Fork: the parent waits for the child's word (one byte: 0 mounted, 1
 * failed; nothing: it died) and exits with it, so that every error up to
 * the mount reaches the terminal from the child, which goes on as the
 * daemon.  Returns in the child the descriptor to write the word to (-1
 * in the foreground).
 */
static int rm_daemonize(int foreground)
{
	int p[2];
	if (foreground)
		return -1;
	if (pipe2(p, O_CLOEXEC)) {
		cmd_err("mount: pipe: %s", strerror(errno));
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		cmd_err("mount: fork: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		unsigned char word = 1;
		close(p[1]);
		while (read(p[0], &word, 1) < 0 && errno == EINTR)
			;
		_exit(word == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void rm_daemon_ready(int fd)
{
	unsigned char word = 0;
	if (fd < 0)
		return;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	if (chdir("/"))
		(void)0;
	if (write(fd, &word, 1) < 0)
		(void)0;
	close(fd);
}

static void rm_syslog(enum fuse_log_level level, const char *fmt, va_list ap)
{
	vsyslog((int)level, fmt, ap);
}

static int rm_run(int argc, char **argv, const char *fstab_host)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct rm_opts o = { .max_stale = RM_DEFAULT_MAX_STALE, .timeout = RM_DEFAULT_TIMEOUT };
	struct fuse_cmdline_opts c;
	struct rm *rm = NULL;
	struct fuse_session *se = NULL;
	unsigned char *frame = NULL;
	struct rp_msg m;
	char err[1536], why[256];
	int rc = 1, mounted = 0, sigs = 0, linked = 0, word = -1, syslogging = 0;

	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	/* a write to an ssh that has gone is an error to handle, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if (fuse_opt_add_arg(&args, "advisoryfs"))
		goto oom;
	for (int i = 1; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i]))
			goto oom;
	if (fuse_opt_parse(&args, &o, rm_opt_spec, rm_opt_proc) == -1) {
		rc = cmd_usage_error("mount", "bad option");
		goto out;
	}
	if (o.bad) {
		rc = cmd_usage_error("mount", "unknown option '%s'", o.bad);
		goto out;
	}
	if (o.help) {
		rm_help();
		rc = 0;
		goto out;
	}
	if (fstab_host && !o.remote && !(o.remote = strdup(fstab_host)))
		goto oom;
	if (fuse_parse_cmdline(&args, &c) != 0) {
		rc = cmd_usage_error("mount", "bad arguments");
		goto out;
	}
	if (!c.mountpoint) {
		rc = cmd_usage_error("mount", "expected MOUNTPOINT");
		goto out;
	}
	if (!o.remote || !*o.remote || o.remote[0] == '-' || strpbrk(o.remote, " \t\n/")) {
		rc = cmd_usage_error("mount", "--remote needs [USER@]HOST");
		goto out;
	}
	if (o.max_stale > 86400 * 30) {
		rc = cmd_usage_error("mount", "max_stale must be 0 to 2592000 seconds");
		goto out;
	}
	if (!(o.timeout >= 0 && o.timeout <= 365.0 * 86400)) {
		rc = cmd_usage_error("mount", "timeout must be 0 to 31536000 seconds");
		goto out;
	}
	if (!(rm = rm_new()))
		goto oom;
	rm->host = o.remote;
	rm->timeout = o.timeout;
	rm->max_stale = o.max_stale;
	rm->cache_size = RM_DEFAULT_CACHE;
	if (o.cache_size && !(rm->cache_size = rm_parse_size(o.cache_size))) {
		rc = cmd_usage_error("mount", "cache_size must be a size such as 64M");
		goto out;
	}
	rm->uid = getuid();
	rm->gid = getgid();
	rm->debug = c.debug;
	rm->timing = getenv("ADVISORYFS_REMOTE_TIMING") != NULL;
	if (rl_init(&rm->link, o.ssh_command, o.remote, &rm_link_ops, rm)) {
		rc = cmd_usage_error("mount", "bad ssh_command");
		goto out;
	}
	linked = 1;
	if (fuse_opt_add_arg(&args, "-oro,nosuid,nodev,default_permissions,fsname=advisoryfs-remote"))
		goto oom;

	word = rm_daemonize(c.foreground);
	/* the tree first: an unreachable or refusing server is an error now */
	if (rl_connect(&rm->link, &frame, &m, err, sizeof(err))) {
		cmd_err("mount: %s", err);
		goto out;
	}
	int r = rt_build(NULL, &m, &rm->tree, why, sizeof(why));
	rp_msg_free(&m);
	free(frame);
	frame = NULL;
	if (r) {
		cmd_err("mount: %s: a tree that cannot be served: %s", o.remote,
			r == -ENOMEM ? "out of memory" : why);
		goto out;
	}
	rm->root->ino = rm->tree->ents[0].ino;
	rm->up = 1;
	if (!(se = fuse_session_new(&args, &rm_ops, sizeof(rm_ops), rm)))
		goto out;
	rm->se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	sigs = 1;
	if (fuse_session_mount(se, c.mountpoint) != 0)
		goto out;
	mounted = 1;
	if (word >= 0) {
		openlog("advisoryfs", LOG_PID, LOG_DAEMON);
		fuse_set_log_func(rm_syslog);
		syslogging = 1;
	}
	if (pthread_create(&rm->applier, NULL, rm_applier, rm) == 0)
		rm->applier_running = 1;
	if (!rm->applier_running || rl_start(&rm->link)) {
		cmd_err("mount: cannot start a thread");
		goto out;
	}
	rm_daemon_ready(word);
	word = -1;
	rm_log(rm, LOG_INFO, "serving %s at '%s'", o.remote, c.mountpoint);
	struct fuse_loop_config cfg = { .clone_fd = c.clone_fd,
					.max_idle_threads = c.max_idle_threads };
	int custom = c.clone_fd || c.max_idle_threads <= 100000;
	rc = fuse_session_loop_mt(se, custom ? &cfg : NULL) ? 1 : 0;
	goto out;

oom:
	cmd_err("mount: out of memory");
	rc = 1;
out:
	if (linked)
		rl_stop(&rm->link);
	if (rm && rm->applier_running) {
		pthread_mutex_lock(&rm->q_lock);
		rm->q_stop = 1;
		pthread_cond_signal(&rm->q_cond);
		pthread_mutex_unlock(&rm->q_lock);
		pthread_join(rm->applier, NULL);
	}
	if (mounted)
		fuse_session_unmount(se);
	if (sigs)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	if (linked)
		rl_free(&rm->link);
	rm_free(rm);
	if (syslogging) {
		fuse_set_log_func(NULL);
		closelog();
	}
	if (word >= 0) {
		unsigned char fail = 1;
		if (write(word, &fail, 1) < 0)
			(void)0;
		close(word);
	}
	rp_msg_free(&m);
	free(frame);
	free(c.mountpoint);
	free(o.remote);
	free(o.ssh_command);
	free(o.cache_size);
	free(o.bad);
	fuse_opt_free_args(&args);
	return rc;
}

int remote_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--remote") || !strncmp(argv[i], "--remote=", 9))
			return 1;
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			/* an fstab's -o remote=HOST */
			const char *s = argv[i + 1];
			if (!strncmp(s, "remote=", 7) || strstr(s, ",remote="))
				return 1;
		}
	}
	return 0;
}

int remote_mount_main(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	return rm_run(argc, argv, NULL);
}

int remote_mount_fstab(int argc, char **argv)
{
	const char *host = argv[0] + strlen("ssh://");
	size_t n = strlen(host);
	char buf[512];
	if (n == 0 || n >= sizeof(buf))
		return cmd_usage_error("mount", "'%s': expected ssh://[USER@]HOST", argv[0]);
	memcpy(buf, host, n + 1);
	if (buf[n - 1] == '/')
		buf[n - 1] = 0;
	return rm_run(argc, argv, buf);
}
