/*
 * remote_sview.c - a recipient's view as the protocol's entries
 * (remote_sview.h): every directory and file of the tree the local mount
 * would show, in rp_path_cmp() order, with its size, mtime, st_ino (a keyed
 * hash of its path, stable across connections) and extended attributes;
 * documents, signatures and the larger generated files with the SHA-256
 * of their bytes, the hash files and other small generated files with the
 * bytes themselves.  What a version contributes does not change between
 * snapshots and is kept for the life of the process (struct sv_vdoc, by
 * version id): its entries with their paths, st_ino and hash lines, the
 * SHA-256 of its .asc (read once), and its attributes while the policy and
 * the determining rules stay the same; so a reload copies those entries
 * and costs a view build.  A withdrawal or a share patches the world
 * instead of loading it (sv_snap_patch(), the local mount's snap_patch()).
 * sv_encode() compares two snapshots' sorted lists in one merge.
 *
 * Sections: logging and maps, the entries of a view, snapshots, frames.
 */
#include "remote_sview.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "store.h"
#include "world_build.h"

static const char sv_xa_rules[] = "user.advisoryfs.rules";
static const char sv_xa_basis[] = "user.advisoryfs.basis";
static const char sv_xa_dist[] = "user.advisoryfs.dist";

/* ---- logging and maps ------------------------------------------------------------------- */

/* A line on stderr, which ssh hands to the client (its log). */
void sv_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("advisoryfs serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct sv_map_slot *sv_map_find(struct sv_map *m, int64_t key, int add)
{
	if (add && (m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct sv_map_slot *ns = calloc(nc, sizeof(*ns));
		if (!ns)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slots[i].key)
				continue;
			size_t k = ((uint64_t)m->slots[i].key * 0x9e3779b97f4a7c15ull) & (nc - 1);
			while (ns[k].key)
				k = (k + 1) & (nc - 1);
			ns[k] = m->slots[i];
		}
		free(m->slots);
		m->slots = ns;
		m->cap = nc;
	}
	if (!m->cap)
		return NULL;
	size_t k = ((uint64_t)key * 0x9e3779b97f4a7c15ull) & (m->cap - 1);
	for (; m->slots[k].key; k = (k + 1) & (m->cap - 1))
		if (m->slots[k].key == key)
			return &m->slots[k];
	if (!add)
		return NULL;
	m->slots[k].key = key;
	m->n++;
	return &m->slots[k];
}

void sv_cache_free(struct sv_cache *c)
{
	sv_map_free(&c->docs);
	au_arena_free(&c->keep);
	explicit_bzero(c->inokey, sizeof(c->inokey));
}

void sv_map_free(struct sv_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].str);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- the entries of a view -------------------------------------------------------------- */

/* st_ino of a path: a keyed hash (the key from the store's secret and the
 * recipient), stable across connections and reloads, never 0 or 1. */
static uint64_t sv_ino(const struct sv_cache *sv, const char *p, size_t n)
{
	uint64_t h, k0, k1;
	memcpy(&k0, sv->inokey, 8);
	memcpy(&k1, sv->inokey + 8, 8);
	h = k0 ^ (uint64_t)n;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
		h ^= h >> 32;
	}
	h ^= k1;
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h < 2 ? h + 2 : h;
}

struct sv_build {
	struct sv_cache *sv;
	struct sv_snap *s;
	size_t cap;
	int failed;
	char path[RP_PATH_MAX + 1];
};

/* Fill *e as the entry at path (parent path, '/', name; or name at the
 * top), its path in arena a.  0 or -1. */
static int sv_fill(struct sv_cache *sv, struct au_arena *a, struct sv_ent *e, const char *parent,
		   const char *name, size_t namelen, uint8_t kind, int64_t mtime)
{
	size_t pl = parent ? strlen(parent) : 0, n = pl ? pl + 1 + namelen : namelen;
	char *p;
	if (n > RP_PATH_MAX || !(p = au_arena_alloc(a, n + 1)))
		return -1;
	if (pl) {
		memcpy(p, parent, pl);
		p[pl] = '/';
		memcpy(p + pl + 1, name, namelen);
	} else {
		memcpy(p, name, namelen);
	}
	p[n] = 0;
	memset(e, 0, sizeof(*e));
	e->path = p;
	e->pathlen = (uint16_t)n;
	e->kind = kind;
	e->src = kind == RP_DIR ? SV_DIRECTORY : SV_GENERATED;
	e->mtime = mtime;
	e->ino = sv_ino(sv, p, n);
	return 0;
}

/* Room for n more entries in the snapshot's array: 0 or -1 (failed). */
static int sv_room(struct sv_build *b, size_t n)
{
	struct sv_snap *s = b->s;
	if (b->failed)
		return -1;
	if (s->n + n > b->cap) {
		const struct sv_ent **ne = au_grow(s->ents, &b->cap, s->n + n, sizeof(*ne), 1024);
		if (!ne) {
			b->failed = 1;
			return -1;
		}
		s->ents = ne;
	}
	return 0;
}

/* A new entry of the snapshot (in the snapshot's arena). */
static struct sv_ent *sv_add(struct sv_build *b, const char *parent, const char *name,
			     size_t namelen, uint8_t kind, int64_t mtime)
{
	struct sv_ent *e;
	if (sv_room(b, 1))
		return NULL;
	if (!(e = au_arena_alloc(&b->s->arena, sizeof(*e))) ||
	    sv_fill(b->sv, &b->s->arena, e, parent, name, namelen, kind, mtime)) {
		b->failed = 1;
		return NULL;
	}
	b->s->ents[b->s->n++] = e;
	return e;
}

/* A generated file: inline when small, else with the SHA-256 of its bytes. */
static void sv_generated(struct sv_build *b, const char *parent, const char *name,
			 const char *data, size_t len, int64_t mtime)
{
	struct sv_ent *e = sv_add(b, parent, name, strlen(name), RP_FILE, mtime);
	if (!e)
		return;
	e->data = data ? data : "";
	e->size = len;
	if (len <= RP_INLINE_MAX)
		e->kind = RP_INLINE;
	else if (digest_sha256(e->data, len, e->sha256))
		b->failed = 1;
}

/* The ids (or, with basis, the legal bases) of the determining rules, in
 * arena a. */
static struct rp_str sv_rules(const struct policy *p, struct au_arena *a,
			      const struct pol_decision *d, int basis, int *failed)
{
	const char *sep = basis ? "; " : ",";
	size_t len = 0;
	char buf[8192];
	for (int k = 0; k < d->nrules; k++) {
		const char *v = basis ? policy_rule_basis(p, d->rules[k]) : policy_rule_id(p, d->rules[k]);
		if (!v)
			continue;
		size_t vl = strlen(v), sl = len ? strlen(sep) : 0;
		if (len + sl + vl >= sizeof(buf))
			break;
		memcpy(buf + len, sep, sl);
		memcpy(buf + len + sl, v, vl);
		len += sl + vl;
	}
	char *c = au_arena_strndup(a, buf, len);
	if (!c)
		*failed = 1;
	return (struct rp_str){ c ? c : "", (uint32_t)len };
}

static const char *const sv_suffix[VIEW_NKINDS] = {
	[VIEW_JSON] = "", [VIEW_SHA256] = ".sha256", [VIEW_SHA512] = ".sha512", [VIEW_ASC] = ".asc",
};

/*
 * What a version contributes to every snapshot that holds it in the same
 * folder: its entries (paths, st_ino, the hash lines, the SHA-256 of its
 * .asc, read once) and, while the policy and the determining rules stay the
 * same, its attributes.  Kept for the life of the process (sv->keep), so
 * that a snapshot's entries may point into it and a reload copies them.
 */
struct sv_vdoc {
	uint8_t dir, n;
	uint16_t year;
	int64_t policy_id;          /* the attributes are this policy's ... */
	struct pol_decision dec;    /* ... for these rules */
	struct sv_ent ents[VIEW_NKINDS];
};

/* The entries of version a in folder yeardir (into sv->keep). */
static int sv_vdoc_make(struct sv_cache *sv, const struct view *v, uint32_t doc,
			const char *yeardir, struct sv_vdoc *vd)
{
	const struct w_adv *a = &v->w->advs[v->docs[doc].adv];
	static const int order[] = { VIEW_JSON, VIEW_ASC, VIEW_SHA256, VIEW_SHA512 };
	char name[RP_NAME_MAX + 1];

	vd->dir = v->docs[doc].dir;
	vd->year = v->docs[doc].year;
	vd->policy_id = -1;
	vd->n = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int k = order[i];
		if (k == VIEW_ASC && !a->has_signature)
			continue;
		int n = snprintf(name, sizeof(name), "%s%s", a->filename, sv_suffix[k]);
		struct sv_ent *e = &vd->ents[vd->n];
		if (n < 0 || (size_t)n >= sizeof(name) ||
		    sv_fill(sv, &sv->keep, e, yeardir, name, (size_t)n, RP_FILE, a->current_release))
			return -ENOMEM;
		e->size = (uint64_t)view_file_size(v, doc, k);
		e->version_id = a->version_id;
		if (k == VIEW_JSON) {
			e->src = SV_DOC;
			if (a->sha256)
				memcpy(e->sha256, a->sha256, 32);
			if (!(e->tracking_id = au_arena_strndup(&sv->keep, a->tracking_id,
								strlen(a->tracking_id))) ||
			    !(e->version = au_arena_strndup(&sv->keep, a->version, strlen(a->version))))
				return -ENOMEM;
			e->nx = 3;
			e->xn[0] = (struct rp_str){ sv_xa_rules, sizeof(sv_xa_rules) - 1 };
			e->xn[1] = (struct rp_str){ sv_xa_basis, sizeof(sv_xa_basis) - 1 };
			e->xn[2] = (struct rp_str){ sv_xa_dist, sizeof(sv_xa_dist) - 1 };
		} else if (k == VIEW_ASC) {
			char *bytes = NULL;
			size_t len = 0;
			int r = store_version_bytes(sv->watch_st, a->version_id, 1, &bytes, &len);
			if (!r && (len != (size_t)a->sig_size || digest_sha256(bytes, len, e->sha256)))
				r = -EIO;
			free(bytes);
			if (r) {
				sv_log("cannot read the signature of '%s' %s: %s", a->tracking_id,
				       a->version, store_errmsg(sv->watch_st));
				return r;
			}
			e->src = SV_ASC;
		} else {
			char line[256];
			size_t len = view_hash_line(v, doc, k, line, sizeof(line));
			char *c = au_arena_strndup(&sv->keep, line, len);
			if (!c)
				return -ENOMEM;
			e->kind = RP_INLINE;
			e->data = c;
			e->size = len;
		}
		vd->n++;
	}
	return 0;
}

/* The files of one document, in path order: .json, .asc, .sha256, .sha512. */
static void sv_doc(struct sv_build *b, const char *yeardir, uint32_t doc)
{
	struct sv_cache *sv = b->sv;
	struct sv_snap *s = b->s;
	const struct view *v = s->v;
	const struct view_doc *d = &v->docs[doc];
	const struct w_adv *a = &v->w->advs[d->adv];
	struct sv_map_slot *m = sv_map_find(&sv->docs, a->version_id, 0);
	struct sv_vdoc *vd = m ? m->ptr : NULL;

	if (b->failed)
		return;
	if (!vd || vd->dir != d->dir || vd->year != d->year) {
		/* new, or in another folder now: made again (the old one stays
		 * in sv->keep for the snapshots that point into it) */
		if (!(vd = au_arena_alloc(&sv->keep, sizeof(*vd))) ||
		    sv_vdoc_make(sv, v, doc, yeardir, vd) ||
		    !(m = sv_map_find(&sv->docs, a->version_id, 1))) {
			b->failed = 1;
			return;
		}
		m->ptr = vd;
	}
	if (vd->policy_id != s->policy_id || vd->dec.nrules != d->dec.nrules ||
	    memcmp(vd->dec.rules, d->dec.rules, d->dec.nrules * sizeof(d->dec.rules[0])) != 0) {
		/* other attributes: a new copy, since older snapshots point into this
		 * one (a new one has none yet: filled in place) */
		struct sv_vdoc *nv = vd->policy_id == -1 ? vd : au_arena_alloc(&sv->keep, sizeof(*nv));
		char *j = NULL, *c;
		size_t len = 0;
		if (!nv || view_dist_json(v, s->p, doc, &j, &len) ||
		    !(c = au_arena_strndup(&sv->keep, j, len))) {
			free(j);
			b->failed = 1;
			return;
		}
		free(j);
		if (nv != vd)
			*nv = *vd;
		nv->ents[0].xv[0] = sv_rules(s->p, &sv->keep, &d->dec, 0, &b->failed);
		nv->ents[0].xv[1] = sv_rules(s->p, &sv->keep, &d->dec, 1, &b->failed);
		nv->ents[0].xv[2] = (struct rp_str){ c, (uint32_t)len };
		nv->policy_id = s->policy_id;
		nv->dec = d->dec;
		m->ptr = vd = nv;
	}
	if (sv_room(b, vd->n))
		return;
	for (unsigned k = 0; k < vd->n; k++)
		s->ents[s->n++] = &vd->ents[k];
}

/* The top level's names, TLP folders and the other two, for their order. */
#define SV_TOP_OPENPGP VIEW_NDIRS
#define SV_TOP_PROVIDER (VIEW_NDIRS + 1)
static const char *sv_top_name(int d)
{
	return d == SV_TOP_OPENPGP ? VIEW_OPENPGP_DIR
	       : d == SV_TOP_PROVIDER ? VIEW_PROVIDER_FILE
				     : view_dir_name(d);
}

static int sv_ent_cmp(const void *x, const void *y)
{
	const struct sv_ent *a = *(const struct sv_ent *const *)x, *b = *(const struct sv_ent *const *)y;
	return rp_path_cmp(a->path, a->pathlen, b->path, b->pathlen);
}

/* Every entry of the snapshot's view, sorted. */
static int sv_entries(struct sv_cache *sv, struct sv_snap *s)
{
	struct sv_build b = { .sv = sv, .s = s };
	const struct view *v = s->v;
	int dirs[VIEW_NDIRS + 2], nd = 0;
	char tlp[16], year[32];

	/* room for all of them at once: a document has at most four files */
	if (sv_room(&b, (size_t)v->ndocs * 4 + v->nyears + 3 * VIEW_NDIRS + 8))
		return -ENOMEM;

	sv_add(&b, NULL, "", 0, RP_DIR, v->mtime);
	/* the top level in name order: amber green openpgp provider-metadata.json red white */
	for (int d = 0; d < VIEW_NDIRS; d++)
		if (v->dirs[d].nyears)
			dirs[nd++] = d;
	if (v->pgp_name)
		dirs[nd++] = SV_TOP_OPENPGP;
	if (v->provider_json)
		dirs[nd++] = SV_TOP_PROVIDER;
	for (int i = 0; i < nd; i++)
		for (int j = i + 1; j < nd; j++)
			if (strcmp(sv_top_name(dirs[j]), sv_top_name(dirs[i])) < 0) {
				int t = dirs[i];
				dirs[i] = dirs[j];
				dirs[j] = t;
			}
	for (int i = 0; i < nd && !b.failed; i++) {
		if (dirs[i] == SV_TOP_OPENPGP) {
			sv_add(&b, NULL, VIEW_OPENPGP_DIR, strlen(VIEW_OPENPGP_DIR), RP_DIR,
			       v->pgp_mtime);
			sv_generated(&b, VIEW_OPENPGP_DIR, v->pgp_name, v->pgp_key, v->pgp_key_len,
				     v->pgp_mtime);
			continue;
		}
		if (dirs[i] == SV_TOP_PROVIDER) {
			sv_generated(&b, NULL, VIEW_PROVIDER_FILE, v->provider_json, v->provider_len,
				     v->mtime);
			continue;
		}
		const struct view_dir *vd = &v->dirs[dirs[i]];
		snprintf(tlp, sizeof(tlp), "%s", view_dir_name(dirs[i]));
		sv_add(&b, NULL, tlp, strlen(tlp), RP_DIR, vd->mtime);
		for (uint32_t y = vd->first_year; y < vd->first_year + vd->nyears && !b.failed; y++) {
			const struct view_year *vy = &v->years[y];
			int64_t mtime = 0;
			for (uint32_t k = vy->first; k < vy->first + vy->count; k++) {
				int64_t t = v->w->advs[v->docs[k].adv].current_release;
				mtime = t > mtime ? t : mtime;
			}
			char yn[8];
			snprintf(yn, sizeof(yn), "%04u", (unsigned)vy->year % 10000);
			snprintf(year, sizeof(year), "%s/%s", tlp, yn);
			sv_add(&b, tlp, yn, 4, RP_DIR, mtime);
			for (uint32_t k = vy->first; k < vy->first + vy->count && !b.failed; k++)
				sv_doc(&b, year, k);
		}
		sv_generated(&b, tlp, "changes.csv", vd->changes_csv, vd->changes_len, vd->mtime);
		sv_generated(&b, tlp, "index.txt", vd->index_txt, vd->index_len, vd->mtime);
	}
	if (b.failed)
		return -ENOMEM;
	/* in order by construction; sorted only if a name broke it */
	for (size_t i = 1; i < s->n; i++)
		if (sv_ent_cmp(&s->ents[i - 1], &s->ents[i]) >= 0) {
			qsort(s->ents + 1, s->n - 1, sizeof(*s->ents), sv_ent_cmp);
			break;
		}
	for (size_t i = 1; i < s->n; i++)
		if (sv_ent_cmp(&s->ents[i - 1], &s->ents[i]) == 0)
			return -EEXIST; /* cannot happen: two files of one name */
	return 0;
}

/* ---- snapshots -------------------------------------------------------------------------- */

static void sv_snap_free(struct sv_snap *s)
{
	if (!s)
		return;
	view_free(s->v);
	world_free(s->w);
	policy_free(s->p);
	view_provider_release(&s->prov);
	free(s->ents);
	au_arena_free(&s->arena);
	free(s);
}

void sv_snap_put(struct sv_snap *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		sv_snap_free(s);
}

/*
 * Load the view of sv->slug now through sv->watch_st: 0, -ENOENT when the store has
 * no such organisation, other -errno (message in the store, or why).
 */
/* The view and its entries of a snapshot whose policy and world are set. */
static int sv_snap_finish(struct sv_cache *sv, struct sv_snap *s)
{
	struct store *st = sv->watch_st;
	int64_t rel = AU_T_MAX;
	int r;

	if ((r = store_next_release(st, s->t, &rel)) || (r = view_provider_load(st, &s->prov)))
		return r;
	s->next_boundary = policy_next_boundary(s->p, s->w, s->t);
	if (rel < s->next_boundary)
		s->next_boundary = rel;
	if ((s->org = world_org_find(s->w, sv->slug)) == W_NONE)
		return -ENOENT;
	if ((r = view_build(s->p, s->w, s->org, s->t, &s->v)) ||
	    (r = view_set_provider(s->v, &s->prov)))
		return r;
	return sv_entries(sv, s);
}

static struct sv_snap *sv_snap_new(uint64_t gen, int64_t t)
{
	struct sv_snap *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	s->gen = gen;
	s->t = t;
	s->arena.block = 1u << 20;
	return s;
}

int sv_snap_load(struct sv_cache *sv, uint64_t gen, struct sv_snap **ret)
{
	struct store *st = sv->watch_st;
	struct sv_snap *s = sv_snap_new(gen, au_now());
	int r;

	if (!s)
		return -ENOMEM;
	/* the sequence first: a change committed meanwhile is seen again */
	if ((r = store_change_seq(st, &s->change_seq)) ||
	    (r = store_policy_get(st, AU_T_MAX, &s->p, NULL, &s->policy_id)) ||
	    (r = store_world_load(st, s->p, s->t, &s->w)) || (r = sv_snap_finish(sv, s))) {
		sv_snap_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int sv_snap_patch(struct sv_cache *sv, struct sv_snap *old, uint64_t gen, struct sv_snap **ret)
{
	struct store_patch pt = { 0, NULL, 0 };
	struct store *st = sv->watch_st;
	int64_t t = au_now();
	struct sv_snap *s;
	int r;

	/* a scheduled version or a decision may change at the boundary */
	if (t >= old->next_boundary || t < old->t)
		return -EAGAIN;
	if (!(s = sv_snap_new(gen, t)))
		return -ENOMEM;
	/* the policy first: a policy loaded after it is among the changes
	 * store_patch_read() sees, and refused there */
	if ((r = store_policy_get(st, AU_T_MAX, &s->p, NULL, &s->policy_id)) ||
	    (r = store_patch_read(st, old->change_seq, SV_PATCH_MAX, &pt)))
		goto fail;
	s->change_seq = pt.seq;
	if (!(s->w = world_derive(old->w, t))) {
		r = -EAGAIN;
		goto fail;
	}
	r = store_patch_apply(s->w, &pt);
	if (r || (r = sv_snap_finish(sv, s)))
		goto fail;
	store_patch_free(&pt);
	*ret = s;
	return 0;
fail:
	store_patch_free(&pt);
	sv_snap_free(s);
	return r;
}

/* ---- frames ----------------------------------------------------------------------------- */

/* Put entry e (its xattr strings interned into in). */
static void sv_put_ent(struct rp_buf *b, struct rp_intern *in, const struct sv_ent *e)
{
	rp_str16(b, e->path, e->pathlen);
	rp_u8(b, e->kind);
	rp_u64(b, (uint64_t)e->mtime);
	rp_u64(b, e->ino);
	if (e->kind == RP_FILE) {
		rp_u64(b, e->size);
		rp_bytes(b, e->sha256, 32);
	} else if (e->kind == RP_INLINE) {
		rp_u64(b, e->size);
		rp_bytes(b, e->data, (size_t)e->size);
	}
	rp_u8(b, e->nx);
	for (unsigned k = 0; k < e->nx; k++) {
		int64_t n = rp_intern(in, e->xn[k].p, e->xn[k].len);
		int64_t v = rp_intern(in, e->xv[k].p, e->xv[k].len);
		if (n < 0 || v < 0)
			b->failed = 1;
		rp_u32(b, (uint32_t)(n < 0 ? 0 : n));
		rp_u32(b, (uint32_t)(v < 0 ? 0 : v));
	}
}

static int sv_same(const struct sv_ent *a, const struct sv_ent *b)
{
	if (a == b)
		return 1; /* the cache's entry of an unchanged version */
	if (a->kind != b->kind || a->mtime != b->mtime || a->ino != b->ino || a->size != b->size ||
	    a->nx != b->nx)
		return 0;
	if (a->kind == RP_FILE && memcmp(a->sha256, b->sha256, 32) != 0)
		return 0;
	if (a->kind == RP_INLINE && a->data != b->data &&
	    memcmp(a->data, b->data, (size_t)a->size) != 0)
		return 0;
	/* a version's cached strings are the same pointers from one snapshot to the next */
	for (unsigned k = 0; k < a->nx; k++)
		if (a->xn[k].len != b->xn[k].len || a->xv[k].len != b->xv[k].len ||
		    (a->xn[k].p != b->xn[k].p && memcmp(a->xn[k].p, b->xn[k].p, a->xn[k].len) != 0) ||
		    (a->xv[k].p != b->xv[k].p && memcmp(a->xv[k].p, b->xv[k].p, a->xv[k].len) != 0))
			return 0;
	return 1;
}

/*
 * Encode the frame that takes a client from old to nw: the whole tree
 * when old is NULL, else a PATCH (none, *ret_empty, when nothing differs).
 * The string table comes first in the frame but is known last: the
 * entries go into a buffer of their own and the frame is put together.
 */
int sv_encode(const struct sv_snap *old, const struct sv_snap *nw, struct rp_buf *out,
		     int *ret_empty)
{
	struct rp_buf rm = { 0 }, ents = { 0 };
	struct rp_intern in = { 0 };
	uint32_t nrm = 0, nents = 0;
	size_t i = 0, j = 0;
	int r;

	while (j < nw->n || (old && i < old->n)) {
		int c;
		if (!old || i >= old->n)
			c = 1;
		else if (j >= nw->n)
			c = -1;
		else
			c = sv_ent_cmp(&old->ents[i], &nw->ents[j]);
		if (c < 0) {
			rp_str16(&rm, old->ents[i]->path, old->ents[i]->pathlen);
			nrm++;
			i++;
		} else {
			if (c > 0 || !sv_same(old->ents[i], nw->ents[j])) {
				sv_put_ent(&ents, &in, nw->ents[j]);
				nents++;
			}
			if (c == 0)
				i++;
			j++;
		}
	}
	*ret_empty = old && !nrm && !nents;
	rp_begin(out, old ? RP_PATCH : RP_TREE);
	rp_u64(out, nw->gen);
	rp_u32(out, in.n);
	for (uint32_t k = 0; k < in.n; k++)
		rp_str32(out, in.strs[k].p, in.strs[k].len);
	if (old) {
		rp_u32(out, nrm);
		rp_bytes(out, rm.p, rm.len);
	}
	rp_u32(out, nents);
	rp_bytes(out, ents.p, ents.len);
	if (rm.failed || ents.failed)
		out->failed = 1;
	r = rp_end(out);
	rp_buf_free(&rm);
	rp_buf_free(&ents);
	rp_intern_free(&in);
	return r;
}

const struct sv_ent *sv_find(const struct sv_snap *s, const char *p, size_t n)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rp_path_cmp(s->ents[mid]->path, s->ents[mid]->pathlen, p, n);
		if (c == 0)
			return s->ents[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

