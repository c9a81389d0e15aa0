/*
 * mount_tenant.c - a mount shared by several accounts (-o allow_other):
 * who is asking, what they may see, and the owners and modes that make
 * the kernel enforce the same answer from its own caches.
 *
 * docs/MULTITENANT.md has the reasoning; in short:
 *   - the kernel shares its dentry, attribute and page caches between
 *     users, so the daemon cannot rely on being asked.  Every directory of
 *     an organisation, and everything below it, is owned by the accounts
 *     bound to it (org bind --uid/--gid) with mode 0500 (0550 with a
 *     group; files 0400/0440), and the mount always runs with
 *     default_permissions: the kernel itself refuses another account
 *     traversal into it, whatever it has cached.  public/ and the root
 *     are 0555.  An organisation bound to no account belongs to the
 *     mounting account (root, normally).
 *   - which names the root holds depends on the caller, so the names of
 *     the root (public/ aside) are given to the kernel with an entry
 *     timeout of 0, positive and negative alike: every walk through them
 *     asks the daemon, which answers per caller (ENOENT to a stranger),
 *     and root listings are never cached by the kernel (no
 *     FOPEN_CACHE_DIR) and are filtered per request.
 *   - the daemon's answer mirrors the kernel's check on the directory's
 *     owner, group and mode exactly (tenant_may()), root excepted; so a
 *     name is listed and found exactly when it can be entered.
 * Without allow_other only the mounting account can reach the mount at
 * all (the kernel refuses everybody else, root included), and nothing
 * here changes anything: fs->shared is 0.
 *
 * Sections: callers, decisions, attributes.
 */
#include "mount_tenant.h"

#include <stdlib.h>
#include <string.h>


/* ---- callers ---------------------------------------------------------------------------- */

void tenant_caller_init(struct fs_caller *c, fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	c->req = req;
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->ngroups = -1;
	c->groups = c->small;
}

void tenant_caller_release(struct fs_caller *c)
{
	if (c->groups != c->small)
		free(c->groups);
	c->groups = c->small;
	c->ngroups = -1;
}

/*
 * Whether the caller is in group g: its (filesystem) group or one of its
 * supplementary groups, as the kernel's permission check counts them.
 * The supplementary groups are read once per request, and only when
 * needed (libfuse reads them from /proc).  When they cannot be read, only
 * the primary group counts: the answer can then only be "no" where the
 * kernel would say "yes", never the other way round.
 */
static int tenant_in_group(struct fs_caller *c, gid_t g)
{
	if (c->gid == g)
		return 1;
	if (c->ngroups < 0) {
		int n = fuse_req_getgroups(c->req, FS_CALLER_GROUPS, c->small);
		if (n > FS_CALLER_GROUPS) {
			gid_t *v = malloc((size_t)n * sizeof(*v));
			int m = v ? fuse_req_getgroups(c->req, n, v) : -1;
			if (m >= 0 && m <= n) {
				c->groups = v;
				n = m;
			} else {
				free(v);
				n = FS_CALLER_GROUPS; /* the first ones were read */
			}
		}
		c->ngroups = n < 0 ? 0 : n;
	}
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return 1;
	return 0;
}

/* ---- decisions -------------------------------------------------------------------------- */

int tenant_may(const struct fs *fs, const struct fs_snap *s, struct fs_caller *c, uint32_t org)
{
	if (!fs->shared || c->uid == 0 || org == W_PUBLIC)
		return 1;
	if (org == W_NONE || org >= s->w->norgs)
		return c->uid == fs->uid; /* an --as recipient that is gone: the mounting account's */
	const struct w_org *o = &s->w->orgs[org];
	uid_t owner = o->uid >= 0 ? (uid_t)o->uid : fs->uid;
	if (c->uid == owner)
		return 1;
	return o->gid >= 0 && tenant_in_group(c, (gid_t)o->gid);
}

int tenant_may_enter(const struct fs *fs, const struct fs_snap *s, struct fs_caller *c,
		     const struct fs_node *parent, const char *name)
{
	if (!fs->shared || parent != fs->root)
		return 1;
	if (parent->id.type == FS_ROOT) {
		uint32_t org = world_org_find(s->w, name);
		/* a name that is nobody's resolves to ENOENT for everybody */
		return org == W_NONE || tenant_may(fs, s, c, org);
	}
	return tenant_may(fs, s, c, world_org_find(s->w, parent->id.slug));
}

int tenant_may_loc(const struct fs *fs, const struct fs_snap *s, struct fs_caller *c,
		   const struct fs_node *n, const struct fs_loc *loc)
{
	if (!fs->shared || n->id.type == FS_ROOT)
		return 1;
	return tenant_may(fs, s, c, loc->org);
}

double tenant_entry_timeout(const struct fs *fs, const struct fs_node *parent, const char *name)
{
	if (fs->shared && parent == fs->root && parent->id.type == FS_ROOT &&
	    strcmp(name, "public") != 0)
		return 0.0;
	return fs->timeout;
}

/* ---- attributes ------------------------------------------------------------------------- */

void tenant_own(const struct fs *fs, const struct fs_snap *s, const struct fs_id *id,
		const struct fs_loc *loc, struct stat *st)
{
	uid_t uid = fs->uid;
	gid_t gid = fs->gid;
	int group = 0;

	if (!fs->shared)
		return;
	if (id->type == FS_ROOT) {
		/* how many organisations there are is nobody's business */
		st->st_nlink = 1;
		return;
	}
	if (loc->org == W_PUBLIC)
		return;
	if (loc->org != W_NONE && loc->org < s->w->norgs) {
		const struct w_org *o = &s->w->orgs[loc->org];
		if (o->uid >= 0)
			uid = (uid_t)o->uid;
		if (o->gid >= 0) {
			gid = (gid_t)o->gid;
			group = 1;
		}
	}
	st->st_uid = uid;
	st->st_gid = gid;
	if (S_ISDIR(st->st_mode))
		st->st_mode = S_IFDIR | 0500 | (group ? 0050 : 0);
	else
		st->st_mode = S_IFREG | 0400 | (group ? 0040 : 0);
}
