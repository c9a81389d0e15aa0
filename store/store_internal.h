/*
 * store_internal.h - what the parts of store/ share with each other.
 * Nothing outside store/ includes it; store.h is the store's interface.
 */
#ifndef ADVISORYFS_STORE_INTERNAL_H
#define ADVISORYFS_STORE_INTERNAL_H

#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "world_build.h"

#define STORE_BUSY_MS 10000

struct store {
	sqlite3 *db;
	char *path;
	int in_tx;
	struct policy *policy;  /* active policy, cached for validation; NULL until needed */
	sqlite3_stmt *q_bytes[2];  /* store_version_bytes(): document, signature; kept prepared */
	char err[512];
};

/* ---- store.c: errors, statements, transactions ------------------------------- */

/* Record a message and return rc (a -errno). */
int st_seterr(struct store *st, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Translate a SQLite result code into -errno, with what failed in st. */
int st_sql_err(struct store *st, int rc, const char *what);
int st_prep(struct store *st, sqlite3_stmt **ret, const char *sql);
int st_exec(struct store *st, const char *sql);
/* A time, with AU_T_MIN/AU_T_MAX (the open ends) stored as NULL. */
void st_bind_time(sqlite3_stmt *s, int i, int64_t t);
int64_t st_col_time(sqlite3_stmt *s, int i, int64_t dflt);
/* Run a statement that returns no row (or ignore rows); finalizes it. */
int st_step_done(struct store *st, sqlite3_stmt *s, const char *what);
/* The one integer a PRAGMA (or any one-value query) returns. */
int st_pragma_int(struct store *st, const char *sql, int64_t *ret);
/* Append to the change log (inside the caller's transaction). */
int st_log_change(struct store *st, const char *kind, const char *subject);

/*
 * Run body inside a transaction unless the caller already opened one.
 * Keeps single commands atomic without making every caller manage
 * BEGIN/COMMIT.  Needs an int r in scope.
 */
#define WITH_TX(st, body)                                                                  \
	do {                                                                               \
		int own_ = !(st)->in_tx;                                                   \
		if (own_ && (r = store_begin(st)))                                         \
			return r;                                                          \
		r = (body);                                                                \
		if (own_) {                                                                \
			if (r)                                                             \
				store_rollback(st);                                        \
			else                                                               \
				r = store_commit(st);                                      \
		}                                                                          \
	} while (0)

/* ---- store_schema.c ------------------------------------------------------------- */

/* Bring the schema to the newest version, one transaction per step. */
int st_migrate(struct store *st);
/* The schema version this advisoryfs writes. */
int st_schema_newest(void);

/* ---- store_write.c ---------------------------------------------------------------- */

/* The row id of an organisation or an advisory (by tracking id or file
 * name); -ENOENT with a message when there is none. */
int st_org_id(struct store *st, const char *slug, int64_t *ret_id);
int st_advisory_id(struct store *st, const char *name, int64_t *ret_id);

/* ---- store_patch.c ---------------------------------------------------------------- */

/* The one integer (a time; NULL: AU_T_MAX) of sql, whose ?1 is bound to t:
 * the next moment after t of something (store_next_release(),
 * store_policy_next()). */
int st_next_after(struct store *st, const char *sql, int64_t t, const char *what,
		  int64_t *ret_t);

/* ---- store_scan.c: what the world's scans share --------------------------------- */

/*
 * Map from a store row id to a world index.  Row ids are INTEGER PRIMARY
 * KEYs, usually dense: then a table indexed by id - base; otherwise sorted
 * (id, index) pairs searched by bisection.
 */
struct idmap {
	int64_t base;
	uint32_t *dense;        /* ndense entries, W_NONE where no row; NULL: use ids/idx */
	uint64_t ndense;
	int64_t *ids;
	uint32_t *idx;
	uint32_t n;
};

/* Inline: the scans call it once per row. */
static inline uint32_t st_idmap_get(const struct idmap *m, int64_t id)
{
	if (m->dense) {
		/* unsigned: an id below base wraps to a large number */
		uint64_t k = (uint64_t)id - (uint64_t)m->base;
		return id >= m->base && k < m->ndense ? m->dense[k] : W_NONE;
	}
	uint32_t lo = 0, hi = m->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (m->ids[mid] == id)
			return m->idx[mid];
		if (m->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return W_NONE;
}

int st_idmap_build(struct world *w, const int64_t *ids, uint32_t n, uint32_t first,
		   struct idmap *ret);

/* The SQL function through which a scan hands its rows to C (store_scan.c). */
#define ROW_SINK_FN "advisoryfs_row"
int st_row_sink_register(sqlite3 *db);
int st_scan_rows(sqlite3 *db, const char *sql, int nargs,
		 int (*row)(void *arg, sqlite3_value **v), void *arg);

/* The integer of v, or dflt for NULL (SQL's open ends). */
static inline int64_t st_val_time(sqlite3_value *v, int64_t dflt)
{
	return sqlite3_value_type(v) == SQLITE_NULL ? dflt : sqlite3_value_int64(v);
}

/*
 * Vocabulary indices of the role or sector names a scan reads, remembered
 * by a hash of their bytes: tens of thousands of rows name a few roles or
 * sectors, and the policy finds a name by comparing it with each entry of
 * its vocabulary.  A slot holds the policy's own string, so a hit is the
 * same name: the same index.
 */
#define VOCAB_SLOTS 64
struct vocab_memo {
	const struct policy *p;
	int roles;                  /* role names, else sector names */
	struct vocab_slot {
		const char *name;       /* NULL: empty */
		int len;
		int idx;
	} slot[VOCAB_SLOTS];
};
void st_vocab_init(struct vocab_memo *m, const struct policy *p, int roles);
int st_vocab_index(struct vocab_memo *m, const unsigned char *s, int len);

/* The organisations, their sectors, roles and memberships into w; om maps
 * an org row id to its world index. */
int st_load_orgs(struct store *st, const struct policy *p, struct world *w, struct idmap *om);

#endif
