/*
 * remote_sview.h - the server's side of a remote mount: a recipient's view
 * as the sorted list of entries the protocol describes, its snapshots and
 * the frames that carry it (remote_sview.c, for remote_serve.c).
 */
#ifndef ADVISORYFS_REMOTE_SVIEW_H
#define ADVISORYFS_REMOTE_SVIEW_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "remote_proto.h"
#include "util.h"
#include "view.h"
#include "world.h"

struct store;

/* Where an entry's bytes come from. */
enum sv_src { SV_DIRECTORY, SV_GENERATED, SV_DOC, SV_ASC };

struct sv_ent {
	const char *path;           /* in the snapshot's arena, or the cache's */
	uint16_t pathlen;
	uint8_t kind;               /* enum rp_kind */
	uint8_t src;                /* enum sv_src */
	uint8_t nx;
	int64_t mtime;
	uint64_t ino;
	uint64_t size;
	unsigned char sha256[32];   /* RP_FILE */
	const char *data;           /* SV_GENERATED: the bytes (in the view or the arena) */
	int64_t version_id;         /* SV_DOC, SV_ASC */
	const char *tracking_id;    /* SV_DOC: for the ledger (the cache's copies) */
	const char *version;
	struct rp_str xn[3], xv[3]; /* extended attributes; xv[0]: the rule ids */
};

struct sv_snap {
	atomic_ulong refs;
	uint64_t gen;
	int64_t t, change_seq, next_boundary, policy_id;
	struct policy *p;
	struct world *w;
	struct view *v;
	struct view_provider prov;
	uint32_t org;
	const struct sv_ent **ents; /* sorted; a document's point into the cache (never
				     * changed once made), the others into the arena */
	size_t n;
	struct au_arena arena;
};

/* A map from a store row id to a value (open addressing, at most half full). */
struct sv_map_slot {
	int64_t key;                /* 0: free (row ids start at 1) */
	unsigned char sha[32];
	char *str;                  /* freed with the map */
	size_t len;
	void *ptr;                  /* not freed with the map */
};
struct sv_map {
	struct sv_map_slot *slots;
	size_t cap, n;
};

/* What building a snapshot needs and keeps from one to the next (the
 * watcher's: one thread). */
struct sv_cache {
	struct store *watch_st;     /* the connection snapshots are loaded through */
	const char *slug;           /* the recipient */
	unsigned char inokey[32];   /* st_ino key: HMAC of the store's secret and the slug */
	struct sv_map docs;         /* version id -> what it contributes (remote_sview.c) */
	struct au_arena keep;       /* what docs point to: freed with the cache */
};
void sv_cache_free(struct sv_cache *c);

/* A line on stderr, which ssh hands to the client (its log). */
void sv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The slot of key in m (added, zeroed, when add is set and it is new); NULL
 * when absent or out of memory. */
struct sv_map_slot *sv_map_find(struct sv_map *m, int64_t key, int add);
void sv_map_free(struct sv_map *m);

/*
 * Load the view of c->slug now: the active policy, the world, the view and
 * its entries, in a snapshot with one reference.  0; -ENOENT when the
 * store has no such organisation; other -errno (message in the store).
 */
int sv_snap_load(struct sv_cache *c, uint64_t gen, struct sv_snap **ret);
/*
 * A snapshot made from old and the withdrawals and shares committed since
 * (at most SV_PATCH_MAX), without loading the world again (a derived
 * world, as the local mount's snap_patch()).  -EAGAIN when the changes or
 * the time do not allow it (load instead); other -errno.
 */
#define SV_PATCH_MAX 64
int sv_snap_patch(struct sv_cache *c, struct sv_snap *old, uint64_t gen, struct sv_snap **ret);
void sv_snap_put(struct sv_snap *s);
/* The entry of path p in s, or NULL. */
const struct sv_ent *sv_find(const struct sv_snap *s, const char *p, size_t n);
/*
 * Append to out the frame that takes a client from old to nw: the whole
 * tree (TREE) when old is NULL, else a PATCH, or nothing (*ret_empty) when
 * no entry differs.  0, -ENOMEM, -EMSGSIZE.
 */
int sv_encode(const struct sv_snap *old, const struct sv_snap *nw, struct rp_buf *out,
	      int *ret_empty);

#endif
