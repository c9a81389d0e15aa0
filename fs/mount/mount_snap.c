/*
 * mount_snap.c - snapshots: what every request of the mount decides with.
 *
 * A snapshot is the policy in force and the world loaded at one moment t,
 * plus the views (fs/view/view.h) of the recipients somebody asked about,
 * built on first use with view_build() at the same t.  Requests take the
 * current snapshot with snap_get(), use it, and drop it with snap_put();
 * the watcher (mount_watch.c) loads a new one when the store or the time
 * moves and swaps the pointer, so a request never sees half of a change.
 * When the store's only changes are withdrawals and shares, snap_patch()
 * makes the new snapshot from the old one instead: a derived world
 * (world_derive()) with those facts set as the store has them, at a new t
 * before the old snapshot's next boundary, so that nothing else can differ
 * from a full load.
 *
 * A snapshot also holds the provider values and the signing key
 * (view_provider_load()), read from the store with the world, so that
 * provider-metadata.json and openpgp/ follow `provider set` and `key`.
 *
 * This file also knows the shape of the tree (SPEC.md section 2): which
 * names a directory can hold (snap_child), whether a node is visible in a
 * snapshot and where (snap_resolve), its attributes (snap_attr), listings
 * (snap_list) and the generated files (snap_generated).
 *
 * Sections: life cycle, views, names, resolution, attributes, listings,
 * generated content.
 */
#include "mount_snap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount_tenant.h"
#include "util.h"
#include "world_build.h"

/* ---- life cycle ------------------------------------------------------------------------- */

static void snap_free(struct fs_snap *s)
{
	if (!s)
		return;
	if (s->views && s->w)
		for (uint32_t i = 0; i < s->w->norgs; i++)
			view_free(s->views[i]);
	free(s->views);
	world_free(s->w);
	policy_free(s->p);
	view_provider_release(&s->prov);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The earliest moment after s->t at which a decision or the world (a
 * scheduled version, a scheduled policy) can change with no store change. */
static int snap_boundary(struct store *st, struct fs_snap *s)
{
	int64_t next = policy_next_boundary(s->p, s->w, s->t), rel = AU_T_MAX, pol = AU_T_MAX;
	int r = store_next_release(st, s->t, &rel);
	if (!r)
		r = store_policy_next(st, s->t, &pol);  /* a scheduled policy takes effect */
	if (r)
		return r;
	next = rel < next ? rel : next;
	s->next_boundary = pol < next ? pol : next;
	return 0;
}

int snap_load(struct store *st, uint64_t gen, struct fs_snap **ret_snap)
{
	struct fs_snap *s = calloc(1, sizeof(*s));
	int r;
	if (!s)
		return -ENOMEM;
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->lock, NULL);
	s->gen = gen;
	s->t = au_now();
	/* the sequence first: a change committed meanwhile is seen again */
	if ((r = store_change_seq(st, &s->change_seq)) ||
	    (r = store_policy_get(st, s->t, &s->p, NULL, NULL)) ||
	    (r = store_world_load(st, s->p, s->t, &s->w)) || (r = snap_boundary(st, s)) ||
	    (r = view_provider_load(st, &s->prov)))
		goto fail;
	s->views = calloc(s->w->norgs ? s->w->norgs : 1, sizeof(*s->views));
	if (!s->views) {
		r = -ENOMEM;
		goto fail;
	}
	*ret_snap = s;
	return 0;
fail:
	snap_free(s);
	return r;
}

int snap_patch(struct store *st, struct fs_snap *old, uint64_t gen, struct fs_snap **ret_snap)
{
	struct store_patch pt = { 0, NULL, 0 };
	struct fs_snap *s;
	int64_t t = au_now();
	int r;

	/* a scheduled version or a decision may change at the boundary: only
	 * the store's changes are applied here */
	if (t >= old->next_boundary || t < old->t)
		return -EAGAIN;
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->lock, NULL);
	s->gen = gen;
	s->t = t;
	/* the policy first: a policy loaded after it is among the changes
	 * store_patch_read() sees, and refused there */
	if ((r = store_policy_get(st, t, &s->p, NULL, NULL)) ||
	    (r = store_patch_read(st, old->change_seq, SNAP_PATCH_MAX, &pt)))
		goto fail;
	s->change_seq = pt.seq;
	if (!(s->w = world_derive(old->w, t))) {
		r = -EAGAIN;
		goto fail;
	}
	r = store_patch_apply(s->w, &pt);
	if (r || (r = snap_boundary(st, s)) || (r = view_provider_load(st, &s->prov)))
		goto fail;
	s->views = calloc(s->w->norgs ? s->w->norgs : 1, sizeof(*s->views));
	if (!s->views) {
		r = -ENOMEM;
		goto fail;
	}
	store_patch_free(&pt);
	*ret_snap = s;
	return 0;
fail:
	store_patch_free(&pt);
	snap_free(s);
	return r;
}

struct fs_snap *snap_get(struct fs *fs)
{
	pthread_mutex_lock(&fs->snap_lock);
	struct fs_snap *s = fs->snap;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&fs->snap_lock);
	return s;
}

void snap_put(struct fs_snap *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		snap_free(s);
}

uint64_t snap_gen(struct fs *fs)
{
	pthread_mutex_lock(&fs->snap_lock);
	uint64_t g = fs->snap->gen;
	pthread_mutex_unlock(&fs->snap_lock);
	return g;
}

/* ---- views ------------------------------------------------------------------------------ */

int snap_view(struct fs_snap *s, const char *slug, uint32_t *ret_org, const struct view **ret_v)
{
	uint32_t org = world_org_find(s->w, slug);
	int r = 0;
	if (org == W_NONE || org >= s->w->norgs)
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	if (!s->views[org]) {
		struct view *v = NULL;
		r = view_build(s->p, s->w, org, s->t, &v);
		if (!r && (r = view_set_provider(v, &s->prov)))
			view_free(v);
		if (!r)
			s->views[org] = v;
	}
	const struct view *v = s->views[org];
	pthread_mutex_unlock(&s->lock);
	if (r)
		return r;
	*ret_org = org;
	*ret_v = v;
	return 0;
}

/* ---- names ------------------------------------------------------------------------------ */

static int snap_is_dir(uint8_t type)
{
	return type == FS_ROOT || type == FS_RECIP || type == FS_TLPDIR || type == FS_YEAR ||
	       type == FS_OPENPGP;
}

/* A year folder name: exactly four digits. */
static int snap_parse_year(const char *name, uint16_t *ret_year)
{
	unsigned y = 0;
	for (int i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -ENOENT;
		y = y * 10 + (unsigned)(name[i] - '0');
	}
	if (name[4])
		return -ENOENT;
	*ret_year = (uint16_t)y;
	return 0;
}

static const char *const snap_suffix[VIEW_NKINDS] = {
	[VIEW_JSON] = "", [VIEW_SHA256] = ".sha256", [VIEW_SHA512] = ".sha512", [VIEW_ASC] = ".asc",
};

int snap_child(const struct fs *fs, const struct fs_node *parent, const char *name,
	       struct fs_id *ret_id, char docbuf[FS_NAME_MAX + 1])
{
	size_t len = strlen(name);
	struct fs_id id = { .slug = parent->id.slug, .dir = parent->id.dir,
			    .year = parent->id.year };

	if (!snap_is_dir(parent->id.type))
		return -ENOTDIR;
	if (len == 0 || len > FS_NAME_MAX)
		return -ENOENT;
	switch (parent->id.type) {
	case FS_ROOT:
		if (!au_slug_valid(name))
			return -ENOENT;
		id.type = FS_RECIP;
		id.slug = name;
		break;
	case FS_RECIP: {
		int d = view_dir_find(name);
		if (strcmp(name, VIEW_PROVIDER_FILE) == 0) {
			id.type = FS_PROVIDER;
			break;
		}
		if (strcmp(name, VIEW_OPENPGP_DIR) == 0) {
			id.type = FS_OPENPGP;
			break;
		}
		if (d < 0)
			return -ENOENT;
		id.type = FS_TLPDIR;
		id.dir = (uint8_t)d;
		break;
	}
	case FS_OPENPGP:
		/* which key is decided by snap_resolve() */
		if (len <= 4 || strcmp(name + len - 4, ".asc") != 0)
			return -ENOENT;
		memcpy(docbuf, name, len + 1);
		id.type = FS_PGPKEY;
		id.docname = docbuf;
		break;
	case FS_TLPDIR:
		if (strcmp(name, "index.txt") == 0)
			id.type = FS_INDEX;
		else if (strcmp(name, "changes.csv") == 0)
			id.type = FS_CHANGES;
		else if (snap_parse_year(name, &id.year) == 0)
			id.type = FS_YEAR;
		else
			return -ENOENT;
		break;
	case FS_YEAR: {
		/* <name>.json then an optional suffix; CSAF file names hold no
		 * other dot, so the split is unambiguous */
		int kind = -1;
		size_t base = 0;
		for (int k = VIEW_NKINDS - 1; k >= 0 && kind < 0; k--) {
			size_t sl = strlen(snap_suffix[k]);
			if (len > sl + 5 && strcmp(name + len - sl, snap_suffix[k]) == 0 &&
			    strncmp(name + len - sl - 5, ".json", 5) == 0) {
				kind = k;
				base = len - sl;
			}
		}
		if (kind < 0)
			return -ENOENT;
		memcpy(docbuf, name, base);
		docbuf[base] = 0;
		id.type = FS_FILE;
		id.kind = (uint8_t)kind;
		id.docname = docbuf;
		break;
	}
	default:
		return -ENOTDIR;
	}
	(void)fs;
	*ret_id = id;
	return 0;
}

/* ---- resolution ------------------------------------------------------------------------- */

int snap_resolve(struct fs *fs, struct fs_snap *s, const struct fs_id *id, struct fs_loc *ret_loc)
{
	struct fs_loc loc = { .v = NULL, .org = W_NONE, .year = -1, .doc = -1 };
	int r;

	if (id->type == FS_ROOT) {
		*ret_loc = loc;
		return 0;
	}
	r = snap_view(s, id->slug, &loc.org, &loc.v);
	if (r == -ENOENT && id->type == FS_RECIP && fs->as_slug && strcmp(id->slug, fs->as_slug) == 0) {
		/* the root of an --as mount whose recipient is gone: empty */
		*ret_loc = loc;
		return 0;
	}
	if (r)
		return r;
	if (id->type == FS_RECIP)
		goto out;
	if (id->type == FS_PROVIDER) {
		if (!loc.v->provider_json)
			return -ENOENT;
		goto out;
	}
	if (id->type == FS_OPENPGP || id->type == FS_PGPKEY) {
		if (!loc.v->pgp_name ||
		    (id->type == FS_PGPKEY && strcmp(id->docname, loc.v->pgp_name) != 0))
			return -ENOENT;
		goto out;
	}
	if (id->dir >= VIEW_NDIRS || !loc.v->dirs[id->dir].nyears)
		return -ENOENT;
	if (id->type == FS_TLPDIR || id->type == FS_INDEX || id->type == FS_CHANGES)
		goto out;
	loc.year = view_year_find(loc.v, id->dir, id->year);
	if (loc.year < 0)
		return -ENOENT;
	if (id->type == FS_YEAR)
		goto out;
	loc.doc = view_doc_find(loc.v, loc.year, id->docname);
	if (loc.doc < 0)
		return -ENOENT;
	if (id->kind == VIEW_ASC && !snap_adv(&loc)->has_signature)
		return -ENOENT;
out:
	*ret_loc = loc;
	return 0;
}

const struct w_adv *snap_adv(const struct fs_loc *loc)
{
	return &loc->v->w->advs[loc->v->docs[loc->doc].adv];
}

/* ---- attributes ------------------------------------------------------------------------- */

static void snap_fill(const struct fs *fs, uint64_t ino, int isdir, int64_t size,
		      int64_t mtime, nlink_t nlink, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)ino;
	st->st_mode = isdir ? (S_IFDIR | 0555) : (S_IFREG | 0444);
	st->st_nlink = nlink;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_mtim.tv_sec = (time_t)mtime;
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

static void snap_attr_of(const struct fs *fs, struct fs_snap *s, const struct fs_id *id,
			 uint64_t ino, const struct fs_loc *loc, struct stat *ret_st);

void snap_attr(const struct fs *fs, struct fs_snap *s, const struct fs_id *id, uint64_t ino,
	       const struct fs_loc *loc, struct stat *ret_st)
{
	snap_attr_of(fs, s, id, ino, loc, ret_st);
	/* owners and modes of a shared mount (mount_tenant.c) */
	tenant_own(fs, s, id, loc, ret_st);
}

static void snap_attr_of(const struct fs *fs, struct fs_snap *s, const struct fs_id *id,
			 uint64_t ino, const struct fs_loc *loc, struct stat *ret_st)
{
	const struct view *v = loc->v;
	nlink_t sub = 0;

	switch (id->type) {
	case FS_ROOT: {
		/* newest inside: what the public may see, which says nothing
		 * about anybody's directory */
		uint32_t org;
		const struct view *pub = NULL;
		int64_t mtime = 0;
		if (snap_view(s, "public", &org, &pub) == 0)
			mtime = pub->mtime;
		snap_fill(fs, ino, 1, 0, mtime, (nlink_t)(2 + s->w->norgs), ret_st);
		return;
	}
	case FS_RECIP:
		if (v) {
			for (int d = 0; d < VIEW_NDIRS; d++)
				sub += v->dirs[d].nyears ? 1 : 0;
			sub += v->pgp_name ? 1 : 0;
		}
		snap_fill(fs, ino, 1, 0, v ? v->mtime : 0, 2 + sub, ret_st);
		return;
	case FS_PROVIDER:
		snap_fill(fs, ino, 0, (int64_t)v->provider_len, v->mtime, 1, ret_st);
		return;
	case FS_OPENPGP:
		snap_fill(fs, ino, 1, 0, v->pgp_mtime, 2, ret_st);
		return;
	case FS_PGPKEY:
		snap_fill(fs, ino, 0, (int64_t)v->pgp_key_len, v->pgp_mtime, 1, ret_st);
		return;
	case FS_TLPDIR:
		snap_fill(fs, ino, 1, 0, v->dirs[id->dir].mtime, 2 + v->dirs[id->dir].nyears,
			  ret_st);
		return;
	case FS_INDEX:
		snap_fill(fs, ino, 0, (int64_t)v->dirs[id->dir].index_len, v->dirs[id->dir].mtime,
			  1, ret_st);
		return;
	case FS_CHANGES:
		snap_fill(fs, ino, 0, (int64_t)v->dirs[id->dir].changes_len,
			  v->dirs[id->dir].mtime, 1, ret_st);
		return;
	case FS_YEAR: {
		const struct view_year *y = &v->years[loc->year];
		int64_t mtime = 0;
		for (uint32_t i = y->first; i < y->first + y->count; i++) {
			int64_t t = v->w->advs[v->docs[i].adv].current_release;
			if (t > mtime)
				mtime = t;
		}
		snap_fill(fs, ino, 1, 0, mtime, 2, ret_st);
		return;
	}
	case FS_FILE:
		snap_fill(fs, ino, 0, view_file_size(v, (uint32_t)loc->doc, id->kind),
			  snap_adv(loc)->current_release, 1, ret_st);
		return;
	}
}

/* ---- listings --------------------------------------------------------------------------- */

/*
 * Listings are built in two passes over the same enumeration: the first
 * counts entries and bytes, the second fills one allocation of each.
 */
struct snap_emit {
	struct fs_list *l;
	size_t n, bytes;
	int fill;
};

static void snap_emit(struct snap_emit *e, int isdir, const char *a, const char *b)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	if (e->fill) {
		char *p = e->l->buf + e->bytes;
		memcpy(p, a, la);
		if (lb)
			memcpy(p + la, b, lb);
		p[la + lb] = 0;
		e->l->ents[e->n] = (struct fs_ent){ .name = p, .len = la + lb, .isdir = (uint8_t)isdir };
	}
	e->n++;
	e->bytes += la + lb + 1;
}

static void snap_enumerate(struct fs_snap *s, const struct fs_node *n, const struct fs_loc *loc,
			   struct snap_emit *e)
{
	const struct view *v = loc->v;
	char yb[8];

	switch (n->id.type) {
	case FS_ROOT:
		for (uint32_t i = 1; i < s->w->norgs; i++)
			snap_emit(e, 1, s->w->orgs[i].slug, NULL);
		snap_emit(e, 1, "public", NULL);
		return;
	case FS_RECIP:
		if (!v)
			return;
		for (int d = 0; d < VIEW_NDIRS; d++)
			if (v->dirs[d].nyears)
				snap_emit(e, 1, view_dir_name(d), NULL);
		if (v->pgp_name)
			snap_emit(e, 1, VIEW_OPENPGP_DIR, NULL);
		if (v->provider_json)
			snap_emit(e, 0, VIEW_PROVIDER_FILE, NULL);
		return;
	case FS_OPENPGP:
		snap_emit(e, 0, v->pgp_name, NULL);
		return;
	case FS_TLPDIR: {
		const struct view_dir *vd = &v->dirs[n->id.dir];
		snap_emit(e, 0, "index.txt", NULL);
		snap_emit(e, 0, "changes.csv", NULL);
		for (uint32_t i = vd->first_year; i < vd->first_year + vd->nyears; i++) {
			snprintf(yb, sizeof(yb), "%04u", (unsigned)v->years[i].year % 10000);
			snap_emit(e, 1, yb, NULL);
		}
		return;
	}
	case FS_YEAR: {
		const struct view_year *y = &v->years[loc->year];
		for (uint32_t i = y->first; i < y->first + y->count; i++) {
			const struct w_adv *a = &v->w->advs[v->docs[i].adv];
			for (int k = 0; k < VIEW_NKINDS; k++)
				if (k != VIEW_ASC || a->has_signature)
					snap_emit(e, 0, a->filename, snap_suffix[k]);
		}
		return;
	}
	default:
		return;
	}
}

int snap_list(struct fs *fs, struct fs_snap *s, const struct fs_node *n, struct fs_list *ret)
{
	struct fs_list l = { NULL, 0, NULL };
	struct snap_emit e = { .l = &l };
	struct fs_loc loc;
	int r = snap_resolve(fs, s, &n->id, &loc);

	if (r == -ENOENT || !snap_is_dir(n->id.type)) {
		*ret = l;
		return 0;
	}
	if (r)
		return r;
	snap_enumerate(s, n, &loc, &e);
	l.ents = malloc((e.n ? e.n : 1) * sizeof(*l.ents));
	l.buf = malloc(e.bytes ? e.bytes : 1);
	if (!l.ents || !l.buf) {
		snap_list_free(&l);
		return -ENOMEM;
	}
	e = (struct snap_emit){ .l = &l, .fill = 1 };
	snap_enumerate(s, n, &loc, &e);
	l.n = e.n;
	*ret = l;
	return 0;
}

void snap_list_free(struct fs_list *l)
{
	free(l->ents);
	free(l->buf);
	l->ents = NULL;
	l->buf = NULL;
	l->n = 0;
}

/* ---- generated content ------------------------------------------------------------------ */

const char *snap_generated(const struct fs_snap *s, const struct fs_id *id,
			   const struct fs_loc *loc, char *buf, size_t buflen, size_t *ret_len)
{
	const struct view *v = loc->v;
	(void)s;
	switch (id->type) {
	case FS_INDEX:
		*ret_len = v->dirs[id->dir].index_len;
		return v->dirs[id->dir].index_txt;
	case FS_CHANGES:
		*ret_len = v->dirs[id->dir].changes_len;
		return v->dirs[id->dir].changes_csv;
	case FS_PROVIDER:
		*ret_len = v->provider_len;
		return v->provider_json;
	case FS_PGPKEY:
		*ret_len = v->pgp_key_len;
		return v->pgp_key;
	case FS_FILE:
		if (id->kind == VIEW_SHA256 || id->kind == VIEW_SHA512) {
			*ret_len = view_hash_line(v, (uint32_t)loc->doc, id->kind, buf, buflen);
			return buf;
		}
		break;
	default:
		break;
	}
	*ret_len = 0;
	return NULL;
}

/* ---- what a file holds ------------------------------------------------------------------ */

static uint64_t snap_mix(uint64_t h)
{
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/*
 * A 64-bit hash of a generated file's bytes, to tell one content from
 * another (not a defence against anybody: the bytes are ours).  Four
 * independent lanes of 8-byte words, so it runs at memory speed; the
 * length goes in too.
 */
static uint64_t snap_hash(const char *p, size_t len)
{
	uint64_t lane[4] = { 0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull,
			     0x082efa98ec4e6c89ull };
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		for (int k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * k, 8);
			lane[k] = (lane[k] ^ w) * 0x100000001b3ull;
			lane[k] ^= lane[k] >> 27;
		}
	}
	uint64_t h = snap_mix(len ^ lane[0]) ^ snap_mix(lane[1] + 1) ^ snap_mix(lane[2] + 2) ^
		     snap_mix(lane[3] + 3);
	for (; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return snap_mix(h);
}

uint64_t snap_vkey(const struct fs_snap *s, const struct fs_id *id, const struct fs_loc *loc)
{
	char buf[256];
	size_t len;

	switch (id->type) {
	case FS_FILE:
		/* a version's bytes, signature and hash lines never change */
		return (uint64_t)snap_adv(loc)->version_id;
	case FS_INDEX:
	case FS_CHANGES:
	case FS_PROVIDER:
	case FS_PGPKEY: {
		const char *c = snap_generated(s, id, loc, buf, sizeof(buf), &len);
		return snap_hash(c ? c : "", c ? len : 0);
	}
	default:
		return 0;
	}
}

int snap_current(struct fs *fs, struct fs_snap *s, const struct fs_node *n, struct fs_loc *ret_loc)
{
	int r = snap_resolve(fs, s, &n->id, ret_loc);
	if (r)
		return r;
	return snap_vkey(s, &n->id, ret_loc) == n->vkey ? 0 : -ESTALE;
}
