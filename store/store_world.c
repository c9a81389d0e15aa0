/*
 * store_world.c - the world snapshot: the advisories and their versions,
 * scanned on a second connection while the first reads the organisations,
 * and assembled into the arrays the policy engine decides over.
 */
#include "store_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <sqlite3.h>

#include "util.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int cmp_share(const void *a, const void *b)
{
	const struct w_share *x = a, *y = b;
	return (x->org > y->org) - (x->org < y->org);
}

/*
 * The advisories, then the versions: each one a sequential scan of its
 * table, or of the index version_world that holds every column of a lean
 * scan (one read of each page, no per-row b-tree descent).  The versions
 * released after asof are left out in C, not by a WHERE: one comparison
 * less for SQLite per row, and no index on current_release can turn the
 * scan into a lookup per row.  The version in force (highest seq) is
 * chosen afterwards.
 */
#define ADV_SQL "SELECT count(" ROW_SINK_FN "(?1, id, tracking_id, filename)) FROM advisory"
#define ADV_NARGS 3
#define ADV_ORDER_SQL "SELECT id FROM advisory ORDER BY tracking_id"
#define VERSION_SQL(more)                                                                  \
	"SELECT count(" ROW_SINK_FN "(?1, advisory_id, seq, id, tlp, status, personal_data,"  \
	" impact_significant, embargo_until, initial_release, current_release, sig_size"    \
	more ")) FROM version"
#define VERSION_NARGS(lean) ((lean) ? 11 : 16)
#define VERSION_SQL_MORE ", size, sha256, sha512, version, title"

/* One released version as the version scan read it (VERSION_SQL): what a
 * lean world needs, 64 bytes; the rest apart (struct vdigest, vmore). */
struct vrow {
	int64_t adv_id, seq, version_id;
	int64_t embargo_until, initial_release, current_release, sig_size;
	uint8_t tlp, status, personal_data, impact_significant;
};

/* The rest of a version, when the world is not lean: its digests (the
 * world keeps these rows, which its advisories point into) and the rest. */
struct vdigest {
	unsigned char sha256[32], sha512[64];
};
struct vmore {
	int64_t size;
	size_t soff;                /* the version string at soff in vscan.str, then */
	int vlen;                   /* the title, each followed by a NUL */
};

/*
 * The scan of the version table (or of its index version_world): every
 * version released by asof, kept whole (the version in force of each
 * advisory is chosen afterwards).  It needs nothing else of the world, so
 * that it can run on a connection and in a thread of its own
 * (struct scan_job) while the store's connection reads the rest.
 */
struct vscan {
	int64_t asof;
	int lean;
	struct vrow *row;
	size_t n, cap;
	struct vdigest *digest;     /* per row; NULL when lean */
	struct vmore *more;
	char *str;                  /* the version strings and titles (NUL-terminated) */
	size_t len, cap_str;
};

/*
 * The number of rows a scan of table will likely return, to size its
 * arrays at once: the highest row id (ids are usually dense), 0 when
 * unknown or implausible.  sql is "SELECT max(id) FROM <table>".
 */
static size_t scan_hint(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t m = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		m = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return m > 0 && m <= (1 << 24) ? (size_t)m : 0;
}

static void vscan_release(struct vscan *vs)
{
	free(vs->row);
	free(vs->digest);
	free(vs->more);
	free(vs->str);
	vs->row = NULL;
	vs->digest = NULL;
	vs->more = NULL;
	vs->str = NULL;
	vs->n = vs->cap = vs->len = vs->cap_str = 0;
}

/* Room for one more row and need bytes of strings; 0 or -ENOMEM. */
static int vscan_room(struct vscan *vs, size_t need)
{
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? 2 * vs->cap : 1024;
		struct vrow *nr = realloc(vs->row, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		vs->row = nr;
		if (!vs->lean) {
			struct vdigest *nd = realloc(vs->digest, cap * sizeof(*nd));
			if (!nd)
				return -ENOMEM;
			vs->digest = nd;
			struct vmore *nm = realloc(vs->more, cap * sizeof(*nm));
			if (!nm)
				return -ENOMEM;
			vs->more = nm;
		}
		vs->cap = cap;
	}
	if (!need)
		return 0;
	char *nb = au_grow(vs->str, &vs->cap_str, vs->len + need, 1, 1 << 16);
	if (!nb)
		return -ENOMEM;
	vs->str = nb;
	return 0;
}

/* One row of VERSION_SQL into vs: SQLITE_OK or SQLITE_NOMEM. */
static int vscan_row(void *arg, sqlite3_value **v)
{
	struct vscan *vs = arg;
	const unsigned char *vstr = NULL, *t = NULL;
	int vlen = 0, tlen = 0;
	int64_t current_release = sqlite3_value_int64(v[9]);
	if (current_release > vs->asof || sqlite3_value_type(v[9]) == SQLITE_NULL)
		return SQLITE_OK; /* not released by asof (NULL: never, as SQL has it) */
	if (!vs->lean) {
		vstr = sqlite3_value_text(v[14]);
		vlen = sqlite3_value_bytes(v[14]);
		t = sqlite3_value_text(v[15]);
		tlen = sqlite3_value_bytes(v[15]);
	}
	if ((!vstr && vlen) || (!t && tlen) ||
	    vscan_room(vs, vs->lean ? 0 : (size_t)vlen + (size_t)tlen + 2))
		return SQLITE_NOMEM;
	struct vrow *x = &vs->row[vs->n];
	x->adv_id = sqlite3_value_int64(v[0]);
	x->seq = sqlite3_value_int64(v[1]);
	x->version_id = sqlite3_value_int64(v[2]);
	x->tlp = (uint8_t)sqlite3_value_int(v[3]);
	x->status = (uint8_t)sqlite3_value_int(v[4]);
	x->personal_data = (uint8_t)sqlite3_value_int(v[5]);
	x->impact_significant = (uint8_t)sqlite3_value_int(v[6]);
	x->embargo_until = st_val_time(v[7], AU_T_MIN);
	x->initial_release = sqlite3_value_int64(v[8]);
	x->current_release = current_release;
	x->sig_size = sqlite3_value_int64(v[10]);
	if (!vs->lean) {
		struct vmore *m = &vs->more[vs->n];
		struct vdigest *d = &vs->digest[vs->n];
		m->size = sqlite3_value_int64(v[11]);
		m->soff = vs->len;
		m->vlen = vlen;
		memset(d, 0, sizeof(*d));
		if (sqlite3_value_bytes(v[12]) == 32)
			memcpy(d->sha256, sqlite3_value_blob(v[12]), 32);
		if (sqlite3_value_bytes(v[13]) == 64)
			memcpy(d->sha512, sqlite3_value_blob(v[13]), 64);
		char *p = vs->str + vs->len;
		if (vlen)
			memcpy(p, vstr, (size_t)vlen);
		p[vlen] = 0;
		if (tlen)
			memcpy(p + vlen + 1, t, (size_t)tlen);
		p[vlen + 1 + tlen] = 0;
		vs->len += (size_t)vlen + (size_t)tlen + 2;
	}
	vs->n++;
	return SQLITE_OK;
}

/* Run the scan on db, inside the caller's read transaction.  A SQLite
 * result code: SQLITE_DONE when complete, SQLITE_NOMEM when out of memory. */
static int vscan_run(sqlite3 *db, void *arg)
{
	struct vscan *vs = arg;
	size_t hint = vs->cap ? 0 : scan_hint(db, "SELECT max(id) FROM version");
	if (hint) {
		vs->row = au_alloc_big(hint * sizeof(*vs->row));
		if (!vs->lean) {
			vs->digest = au_alloc_big(hint * sizeof(*vs->digest));
			vs->more = au_alloc_big(hint * sizeof(*vs->more));
		}
		if (!vs->row || (!vs->lean && (!vs->digest || !vs->more)))
			return SQLITE_NOMEM;
		vs->cap = hint;
	}
	return st_scan_rows(db, vs->lean ? VERSION_SQL("") : VERSION_SQL(VERSION_SQL_MORE),
			    VERSION_NARGS(vs->lean), vscan_row, vs);
}

/*
 * What identifies the state of the store a read transaction sees, for
 * two connections to check that they read the same: every write of the
 * store logs a change, and the highest version id catches a version that
 * was added some other way.
 */
#define MARK_SQL                                                                           \
	"SELECT (SELECT coalesce(max(seq), 0) FROM change_log),"                            \
	" (SELECT coalesce(max(id), 0) FROM version)"

static int read_mark(sqlite3 *db, int64_t mark[2])
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, MARK_SQL, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		mark[0] = sqlite3_column_int64(s, 0);
		mark[1] = sqlite3_column_int64(s, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Rows of a table that links versions or advisories to something. */
struct links {
	struct link {
		int64_t key;            /* version or advisory id */
		int64_t val;            /* sector index, organisation id */
		int64_t at;
	} *row;
	size_t n, cap;
};

static int links_add(struct links *l, int64_t key, int64_t val, int64_t at)
{
	struct link *nr = au_grow(l->row, &l->cap, l->n + 1, sizeof(*nr), 1024);
	if (!nr)
		return -ENOMEM;
	l->row = nr;
	l->row[l->n++] = (struct link){ key, val, at };
	return 0;
}

/* Strings of the advisory scan, which runs before the world exists
 * (the world takes the blocks: world_adopt_arena()); the first block is
 * sized from the number of advisories. */
#define STRBLOCK_MIN (256u << 10)
/*
 * Every advisory in row id order (ADV_SQL), already as the world's
 * advisories (id, tracking id and file name, no version in force yet, not
 * withdrawn) in memory that the world adopts: the scan runs in a thread
 * of its own before the world exists, and a copy would cost as much
 * again.  And the sectors and concerned organisations of every version
 * and the special-case shares, as row ids (sectors as indices of p's
 * vocabulary).
 */
struct ascan {
	const struct policy *p;
	struct w_adv *adv;
	int64_t *ids;               /* adv[i].id, for the id map */
	size_t n, cap;
	int sorted;                 /* adv[] in tracking id order too */
	int names_before;           /* and each file name au_name_before() the next */
	struct au_arena str;        /* the tracking ids and file names */
	struct links sectors, concerns, shares;
};

static void ascan_release(struct ascan *as)
{
	const struct policy *p = as->p;
	free(as->adv);
	free(as->ids);
	au_arena_free(&as->str);
	free(as->sectors.row);
	free(as->concerns.row);
	free(as->shares.row);
	memset(as, 0, sizeof(*as));
	as->p = p;
}

/* A copy of a string of the scan (STRBLOCK_MIN above). */
static char *ascan_str(struct ascan *as, const void *s, size_t len)
{
	size_t first = as->cap * 40;
	as->str.block = !as->str.head && first > STRBLOCK_MIN ? first : STRBLOCK_MIN;
	return au_arena_strndup(&as->str, s, len);
}

/* Room for one more advisory; 0 or -ENOMEM. */
static int ascan_room(struct ascan *as)
{
	if (as->n < as->cap)
		return 0;
	size_t cap = as->cap ? 2 * as->cap : 1024;
	struct w_adv *na = realloc(as->adv, cap * sizeof(*na));
	if (!na)
		return -ENOMEM;
	as->adv = na;
	int64_t *ni = realloc(as->ids, cap * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	as->ids = ni;
	as->cap = cap;
	return 0;
}

/* What a links scan reads: sql's rows into l, the second value a sector
 * name to map when sectors is set. */
struct links_scan {
	struct links *l;
	int three;                  /* a third value (a time) */
	struct vocab_memo *sectors; /* NULL: the second value is an id */
};

static int links_row(void *arg, sqlite3_value **v)
{
	struct links_scan *ls = arg;
	int64_t val;
	if (ls->sectors) {
		int si = st_vocab_index(ls->sectors, sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
		if (si < 0 || si >= W_MAX_SECTORS)
			return SQLITE_OK;
		val = si;
	} else {
		val = sqlite3_value_int64(v[1]);
	}
	if (links_add(ls->l, sqlite3_value_int64(v[0]), val, ls->three ? sqlite3_value_int64(v[2]) : 0))
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

/* Run sql (count(advisoryfs_row(?1, key, val[, at])): two or three
 * integer values; with sectors, the second is a sector name) into l.  A
 * SQLite result code, SQLITE_DONE when complete. */
static int links_run(sqlite3 *db, const char *sql, int three, const struct policy *sectors,
		     struct links *l)
{
	struct vocab_memo memo;
	struct links_scan ls = { l, three, sectors ? &memo : NULL };
	if (sectors)
		st_vocab_init(&memo, sectors, 0);
	return st_scan_rows(db, sql, three ? 3 : 2, links_row, &ls);
}

/* One row of ADV_SQL into as: SQLITE_OK or SQLITE_NOMEM. */
static int ascan_row(void *arg, sqlite3_value **v)
{
	struct ascan *as = arg;
	const char *tid = (const char *)sqlite3_value_text(v[1]);
	size_t tlen = (size_t)sqlite3_value_bytes(v[1]);
	const char *fn = (const char *)sqlite3_value_text(v[2]);
	size_t flen = (size_t)sqlite3_value_bytes(v[2]);
	/* a first block for about 40 bytes of tracking id and file name each */
	char *t = (tid || !tlen) ? ascan_str(as, tid, tlen) : NULL;
	char *f = t && (fn || !flen) ? ascan_str(as, fn, flen) : NULL;
	if (!f || ascan_room(as))
		return SQLITE_NOMEM;
	int64_t id = sqlite3_value_int64(v[0]);
	if (as->n && as->sorted && strcmp(as->adv[as->n - 1].tracking_id, t) >= 0)
		as->sorted = 0;
	if (as->n && as->names_before && !au_name_before(as->adv[as->n - 1].filename, f))
		as->names_before = 0;
	as->adv[as->n] = (struct w_adv){ .id = id, .tracking_id = t, .filename = f,
					 .withdrawn_at = AU_T_MAX };
	as->ids[as->n++] = id;
	return SQLITE_OK;
}

/* As vscan_run(), for the advisories. */
static int ascan_run(sqlite3 *db, void *arg)
{
	struct ascan *as = arg;
	size_t hint = as->cap ? 0 : scan_hint(db, "SELECT max(id) FROM advisory");
	if (hint) {
		as->adv = au_alloc_big(hint * sizeof(*as->adv));
		as->ids = au_alloc_big(hint * sizeof(*as->ids));
		if (!as->adv || !as->ids)
			return SQLITE_NOMEM;
		as->cap = hint;
	}
	as->sorted = as->names_before = 1;
	int rc = st_scan_rows(db, ADV_SQL, ADV_NARGS, ascan_row, as);
	if (rc == SQLITE_DONE)
		rc = links_run(db, "SELECT count(" ROW_SINK_FN "(?1, version_id, sector))"
			       " FROM version_sector", 0, as->p, &as->sectors);
	if (rc == SQLITE_DONE)
		rc = links_run(db, "SELECT count(" ROW_SINK_FN "(?1, version_id, org_id))"
			       " FROM version_concern", 0, NULL, &as->concerns);
	if (rc == SQLITE_DONE)
		rc = links_run(db, "SELECT count(" ROW_SINK_FN "(?1, advisory_id, org_id, at))"
			       " FROM share", 1, NULL, &as->shares);
	return rc;
}

/*
 * A scan run in a thread of its own on a read-only connection of its own
 * (store_world_load_opts()); its rows are taken only if that connection
 * saw the state of the store the store's connection sees (job_take()).
 */
struct scan_job {
	int (*run)(sqlite3 *db, void *arg); /* vscan_run() or ascan_run() */
	void *arg;
	const char *path;           /* the database; NULL: the job does not run */
	int running;
	pthread_t thread;
	int64_t mark[2];            /* read_mark() of its read transaction */
	int rc;                     /* SQLITE_OK when the scan completed */
};

static void *job_thread(void *arg)
{
	struct scan_job *j = arg;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = st_row_sink_register(db);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, STORE_BUSY_MS);
		/* a sequential scan reads each page once: a small page cache does,
		 * and spares the memory (and the page faults) of the default 2 MiB */
		rc = sqlite3_exec(db, "PRAGMA cache_size = -256; BEGIN", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK && (rc = read_mark(db, j->mark)) == SQLITE_OK)
		rc = j->run(db, j->arg);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_close(db); /* also ends the read transaction */
	j->rc = rc;
	return NULL;
}

static void job_start(struct scan_job *j, const char *path)
{
	j->path = path;
	j->running = path && pthread_create(&j->thread, NULL, job_thread, j) == 0;
	if (!j->running)
		j->path = NULL;
}

static void job_join(struct scan_job *j)
{
	if (j->running) {
		pthread_join(j->thread, NULL);
		j->running = 0;
	}
}

/* Wait for the job: 1 when its rows are to be used, 0 when the caller
 * must scan again (on the store's connection, in its read transaction). */
static int job_take(struct store *st, struct scan_job *j)
{
	int64_t m[2] = { 0, 0 };
	job_join(j);
	return j->path && j->rc == SQLITE_OK && read_mark(st->db, m) == SQLITE_OK &&
	       m[0] == j->mark[0] && m[1] == j->mark[1];
}

/* The scans of a world load. */
struct world_scans {
	struct ascan a;
	struct vscan v;
	struct scan_job aj, vj;
};

/*
 * Put w->advs[0..n) in tracking id order (as SQLite's ORDER BY, BINARY
 * collation), which the index on tracking_id gives without reading the
 * table; seq[] and vid[] follow.  am maps advisory ids to the positions
 * before, and after, the reordering.  0 or -errno.
 */
static int advs_reorder(struct store *st, struct world *w, uint32_t n, struct idmap *am,
			int64_t *seq, int64_t *vid)
{
	sqlite3_stmt *s = NULL;
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order)), *pos = NULL, k = 0;
	struct w_adv *tmp = malloc((n ? n : 1) * sizeof(*tmp));
	int64_t *tseq = malloc((n ? n : 1) * sizeof(*tseq));
	int64_t *tvid = malloc((n ? n : 1) * sizeof(*tvid));
	int r, rc;
	if (!order || !tmp || !tseq || !tvid) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = st_prep(st, &s, ADV_ORDER_SQL)))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < n) {
		uint32_t i = st_idmap_get(am, sqlite3_column_int64(s, 0));
		if (i != W_NONE)
			order[k++] = i;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		r = st_sql_err(st, rc, "advisories");
		goto out;
	}
	if (k != n) {
		/* the same read transaction: both scans see the same rows */
		r = st_seterr(st, -EIO, "advisories: the tracking id index disagrees with the table");
		goto out;
	}
	/* pos is the inverse of order, to renumber the map */
	pos = malloc((n ? n : 1) * sizeof(*pos));
	if (!pos) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		tmp[i] = w->advs[order[i]];
		tseq[i] = seq[order[i]];
		tvid[i] = vid[order[i]];
		pos[order[i]] = i;
	}
	memcpy(w->advs, tmp, n * sizeof(*tmp));
	memcpy(seq, tseq, n * sizeof(*seq));
	memcpy(vid, tvid, n * sizeof(*vid));
	if (am->dense) {
		for (uint64_t j = 0; j < am->ndense; j++)
			if (am->dense[j] != W_NONE)
				am->dense[j] = pos[am->dense[j]];
	} else {
		for (uint32_t j = 0; j < am->n; j++)
			am->idx[j] = pos[am->idx[j]];
	}
out:
	sqlite3_finalize(s);
	free(order);
	free(pos);
	free(tmp);
	free(tseq);
	free(tvid);
	return r;
}

/*
 * Rows (advisory index, payload) gathered from one scan, then grouped by
 * advisory with a counting sort: the per-advisory lists are carved out of
 * one block of the arena, and only the advisories that have a list are
 * touched (a pass over every advisory would sweep the whole array).
 */
struct adv_rows {
	struct adv_row { uint32_t adv, org; int64_t at; } *row;
	size_t n, cap;
};

static int adv_rows_add(struct adv_rows *rs, uint32_t adv, uint32_t org, int64_t at)
{
	struct adv_row *nr = au_grow(rs->row, &rs->cap, rs->n + 1, sizeof(*nr), 1024);
	if (!nr)
		return -ENOMEM;
	rs->row = nr;
	rs->row[rs->n++] = (struct adv_row){ adv, org, at };
	return 0;
}

/* The rows grouped: start[i]..start[i + 1] are advisory i's, in rs order
 * (*ret_start has w->nadvs + 1 entries; the caller frees it). */
static int adv_rows_group(const struct world *w, const struct adv_rows *rs, uint32_t **ret_start,
			  uint32_t **ret_order)
{
	uint32_t *start = calloc((size_t)w->nadvs + 2, sizeof(*start));
	uint32_t *order = malloc((rs->n ? rs->n : 1) * sizeof(*order));
	if (!start || !order) {
		free(start);
		free(order);
		return -ENOMEM;
	}
	for (size_t k = 0; k < rs->n; k++)
		start[rs->row[k].adv + 2]++;
	for (uint32_t i = 2; i < w->nadvs + 2; i++)
		start[i] += start[i - 1];
	for (size_t k = 0; k < rs->n; k++)
		order[start[rs->row[k].adv + 1]++] = (uint32_t)k;
	*ret_start = start;
	*ret_order = order;
	return 0;
}

/*
 * Concerned organisations (keys mapped by vm: versions) or special-case
 * shares (by am: advisories) from the rows in l, as sorted lists of the
 * advisories.  0 or -ENOMEM.
 */
static int load_lists(struct world *w, const struct links *l, const struct idmap *keys,
		      const struct idmap *om, int shares)
{
	struct adv_rows rs = { 0 };
	uint32_t *start = NULL, *order = NULL;
	int r = 0;
	for (size_t k = 0; k < l->n; k++) {
		uint32_t ai = st_idmap_get(keys, l->row[k].key);
		uint32_t oi = st_idmap_get(om, l->row[k].val);
		if (ai != W_NONE && oi != W_NONE && (r = adv_rows_add(&rs, ai, oi, l->row[k].at)))
			goto out;
	}
	if (!rs.n)
		goto out;
	void *all = world_alloc(w, rs.n * (shares ? sizeof(struct w_share) : sizeof(uint32_t)));
	if (!all || adv_rows_group(w, &rs, &start, &order)) {
		r = -ENOMEM;
		goto out;
	}
	uint32_t *conc = all;
	struct w_share *shr = all;
	for (size_t k = 0; k < rs.n; k++) {
		if (shares)
			shr[k] = (struct w_share){ rs.row[order[k]].org, rs.row[order[k]].at };
		else
			conc[k] = rs.row[order[k]].org;
	}
	for (uint32_t i = 0; i < w->nadvs; i++) {
		uint32_t n = start[i + 1] - start[i];
		if (!n)
			continue;
		struct w_adv *a = &w->advs[i];
		if (shares) {
			a->shares = shr + start[i];
			a->nshares = n;
			if (n > 1)
				qsort(a->shares, n, sizeof(struct w_share), cmp_share);
		} else {
			a->concerns = conc + start[i];
			a->nconcerns = n;
			if (n > 1)
				qsort(a->concerns, n, sizeof(uint32_t), cmp_u32);
		}
	}
out:
	free(rs.row);
	free(start);
	free(order);
	return r;
}

/*
 * Hand the advisories of as and their strings to w (as w->advs, as->n of
 * them).  0 or -ENOMEM; either way as frees whatever it still holds.
 */
static int ascan_adopt(struct world *w, struct ascan *as)
{
	if (!as->adv && !(as->adv = malloc(sizeof(*as->adv))))
		return -ENOMEM;
	if (world_adopt(w, as->adv))
		return -ENOMEM;
	w->advs = as->adv;
	as->adv = NULL;
	world_adopt_arena(w, &as->str);
	return 0;
}

/* What a lean world has instead of digests. */
static const unsigned char no_digest[64];

/*
 * The versions of vs into the advisories of w (am: their ids): each
 * advisory gets the highest seq released by asof, seq[] and vid[] its
 * seq and version id so far; the strings and digests of the versions
 * stay where the scan put them, in the world.  0 or -ENOMEM.
 */
static int apply_versions(struct world *w, struct vscan *vs, const struct idmap *am,
			  int64_t *seq, int64_t *vid)
{
	for (size_t k = 0; k < vs->n; k++) {
		const struct vrow *x = &vs->row[k];
		uint32_t i = st_idmap_get(am, x->adv_id);
		if (i == W_NONE || x->seq <= seq[i])
			continue;
		struct w_adv *a = &w->advs[i];
		seq[i] = x->seq;
		vid[i] = x->version_id;
		a->version_id = x->version_id;
		a->tlp = x->tlp;
		a->status = x->status;
		a->personal_data = x->personal_data;
		a->impact_significant = x->impact_significant;
		a->embargo_until = x->embargo_until;
		a->initial_release = x->initial_release;
		a->current_release = x->current_release;
		a->sig_size = x->sig_size;
		a->has_signature = x->sig_size > 0;
		if (vs->lean) {
			a->version = a->title = "";
			a->sha256 = a->sha512 = no_digest;
		} else {
			const struct vmore *m = &vs->more[k];
			a->size = m->size;
			a->version = vs->str + m->soff;
			a->title = a->version + m->vlen + 1;
			a->sha256 = vs->digest[k].sha256;
			a->sha512 = vs->digest[k].sha512;
		}
	}
	if (vs->str) {
		if (world_adopt(w, vs->str))
			return -ENOMEM;
		vs->str = NULL;
	}
	if (vs->digest) {
		if (world_adopt(w, vs->digest))
			return -ENOMEM;
		vs->digest = NULL;
	}
	return 0;
}

/*
 * The advisories and their versions in force, from the scans of ws:
 * those of the threads (job_take()), else run here.
 */
static int load_advs(struct store *st, struct world *w, const struct idmap *om,
		     struct world_scans *ws)
{
	struct ascan *as = &ws->a;
	sqlite3_stmt *s = NULL;
	uint32_t n, *pos = NULL;
	int64_t *seq = NULL, *vid = NULL;
	struct idmap vm, am;
	int r, rc;

	/* every advisory, in row id order; whether that is tracking id order too */
	if (!job_take(st, &ws->aj)) {
		ascan_release(as);
		if ((rc = ascan_run(st->db, as)) != SQLITE_DONE) {
			r = rc == SQLITE_NOMEM ? -ENOMEM : st_sql_err(st, rc, "advisories");
			goto out;
		}
	}
	if (as->n >= UINT32_MAX) {
		r = st_seterr(st, -EFBIG, "advisories: more than the world can hold");
		goto out;
	}
	n = (uint32_t)as->n;
	seq = malloc((n + 1) * sizeof(*seq));
	vid = malloc((n + 1) * sizeof(*vid));
	if (!seq || !vid) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = ascan_adopt(w, as)) || (r = st_idmap_build(w, as->ids, n, 0, &am)))
		goto out;
	/* (dropping the unreleased ones below keeps the order) */
	w->filenames_ordered = as->sorted && as->names_before;
	for (uint32_t i = 0; i < n; i++) {
		seq[i] = INT64_MIN; /* no version released by asof (yet) */
		vid[i] = 0;
	}

	/* withdrawals */
	if ((r = st_prep(st, &s, "SELECT advisory_id, at FROM withdrawal")))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint32_t i = st_idmap_get(&am, sqlite3_column_int64(s, 0));
		if (i != W_NONE)
			w->advs[i].withdrawn_at = sqlite3_column_int64(s, 1);
	}
	if (rc != SQLITE_DONE) {
		r = st_sql_err(st, rc, "withdrawals");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;

	/* the versions */
	if (!job_take(st, &ws->vj)) {
		vscan_release(&ws->v);
		if ((rc = vscan_run(st->db, &ws->v)) != SQLITE_DONE) {
			r = rc == SQLITE_NOMEM ? -ENOMEM : st_sql_err(st, rc, "versions");
			goto out;
		}
	}
	if ((r = apply_versions(w, &ws->v, &am, seq, vid)))
		goto out;

	if (!as->sorted && (r = advs_reorder(st, w, n, &am, seq, vid)))
		goto out;

	/* keep the released ones, in order */
	uint32_t k = 0;
	while (k < n && seq[k] != INT64_MIN)
		k++;
	w->nadvs = k;
	if (k < n) {
		/* old index -> new, to renumber the map */
		if (!(pos = malloc(n * sizeof(*pos)))) {
			r = -ENOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (i < k) {
				pos[i] = i;
			} else if (seq[i] == INT64_MIN) {
				pos[i] = W_NONE;
			} else {
				pos[i] = w->nadvs;
				w->advs[w->nadvs] = w->advs[i];
				vid[w->nadvs++] = vid[i];
			}
		}
		if (am.dense) {
			for (uint64_t j = 0; j < am.ndense; j++)
				if (am.dense[j] != W_NONE)
					am.dense[j] = pos[am.dense[j]];
		} else {
			for (uint32_t j = 0; j < am.n; j++)
				am.idx[j] = pos[am.idx[j]];
		}
	}
	if ((r = st_idmap_build(w, vid, w->nadvs, 0, &vm)))
		goto out;

	/* sectors of the versions in force, concerned organisations, shares */
	for (size_t j = 0; j < as->sectors.n; j++) {
		uint32_t ai = st_idmap_get(&vm, as->sectors.row[j].key);
		if (ai != W_NONE)
			w->advs[ai].sectors |= (uint64_t)1 << as->sectors.row[j].val;
	}
	if ((r = load_lists(w, &as->concerns, &vm, om, 0)) ||
	    (r = load_lists(w, &as->shares, &am, om, 1)))
		goto out;
out:
	sqlite3_finalize(s);
	free(seq);
	free(vid);
	free(pos);
	return r;
}

int store_world_load(struct store *st, const struct policy *p, int64_t asof,
		     struct world **ret_world)
{
	return store_world_load_opts(st, p, asof, 0, ret_world);
}

int store_world_load_opts(struct store *st, const struct policy *p, int64_t asof, unsigned flags,
			  struct world **ret_world)
{
	struct world *w = world_new();
	struct world_scans ws = { .v = { .asof = asof, .lean = !!(flags & STORE_WORLD_LEAN) },
				  .aj = { .run = ascan_run },
				  .vj = { .run = vscan_run } };
	struct idmap om;
	int r;
	if (!w)
		return -ENOMEM;
	ws.a.p = p;
	ws.aj.arg = &ws.a;
	ws.vj.arg = &ws.v;
	w->asof = asof;
	/* one read transaction, so the snapshot is consistent */
	int own = !st->in_tx;
	if (own && (r = st_exec(st, "BEGIN")))
		goto fail;
	/*
	 * The scans of the advisory and version tables, most of the load, run
	 * on read-only connections of their own in two more threads while
	 * this one reads the organisations; load_advs() takes their rows only
	 * if their read transactions saw the same state of the store as this
	 * one (else it scans again here).  Not inside the caller's
	 * transaction: another connection would not see its uncommitted writes.
	 */
	int64_t m[2];
	if (own && read_mark(st->db, m) == SQLITE_OK) {
		/* this connection's read transaction has started, before theirs:
		 * a commit in between shows as a different mark */
		const char *path = sqlite3_db_filename(st->db, "main");
		if (path && *path) { /* not a temporary or in-memory database */
			job_start(&ws.vj, path);
			job_start(&ws.aj, path);
		}
	}
	r = st_load_orgs(st, p, w, &om);
	if (!r)
		r = load_advs(st, w, &om, &ws);
	/* when load_advs() did not get that far */
	job_join(&ws.aj);
	job_join(&ws.vj);
	if (own)
		sqlite3_exec(st->db, r ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	ascan_release(&ws.a);
	vscan_release(&ws.v);
	if (r)
		goto fail;
	*ret_world = w;
	return 0;
fail:
	if (r == -ENOMEM)
		st_seterr(st, r, "out of memory loading the store");
	world_free(w);
	return r;
}
