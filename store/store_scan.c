/*
 * store_scan.c - the machinery of the world snapshot's scans (row ids to
 * world indices, rows handed to C through an SQL function, vocabulary
 * lookups) and the organisations' part of a world.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "util.h"

static int cmp_pair(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/*
 * Build an idmap in the world's arena that maps ids[i] to first + i, for
 * i < n (ids unique).  Ids spanning at most four times n (plus a little)
 * get the dense table, which costs 4 bytes per id of the span; others are
 * sorted (id, index) pairs, which usually are in order already.  0 or
 * -ENOMEM.
 */
int st_idmap_build(struct world *w, const int64_t *ids, uint32_t n, uint32_t first,
		   struct idmap *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!n)
		return 0;
	int64_t lo = ids[0], hi = ids[0];
	for (uint32_t i = 1; i < n; i++) {
		lo = ids[i] < lo ? ids[i] : lo;
		hi = ids[i] > hi ? ids[i] : hi;
	}
	/* the span in unsigned arithmetic: ids may be any int64 */
	uint64_t span = (uint64_t)hi - (uint64_t)lo;
	if (span < 4 * (uint64_t)n + 64) {
		ret->base = lo;
		ret->ndense = span + 1;
		if (!(ret->dense = world_alloc(w, ret->ndense * sizeof(uint32_t))))
			return -ENOMEM;
		memset(ret->dense, 0xff, ret->ndense * sizeof(uint32_t)); /* W_NONE */
		for (uint32_t i = 0; i < n; i++)
			ret->dense[(uint64_t)ids[i] - (uint64_t)lo] = first + i;
		return 0;
	}
	int64_t *pairs = malloc(2 * (size_t)n * sizeof(*pairs));
	ret->ids = world_alloc(w, n * sizeof(int64_t));
	ret->idx = world_alloc(w, n * sizeof(uint32_t));
	if (!pairs || !ret->ids || !ret->idx) {
		free(pairs);
		return -ENOMEM;
	}
	int sorted = 1;
	for (uint32_t i = 0; i < n; i++) {
		pairs[2 * i] = ids[i];
		pairs[2 * i + 1] = first + i;
		sorted = sorted && (i == 0 || ids[i - 1] < ids[i]);
	}
	if (!sorted)
		qsort(pairs, n, 2 * sizeof(int64_t), cmp_pair);
	for (uint32_t i = 0; i < n; i++) {
		ret->ids[i] = pairs[2 * i];
		ret->idx[i] = (uint32_t)pairs[2 * i + 1];
	}
	ret->n = n;
	free(pairs);
	return 0;
}

/* A copy of the len bytes at s, NUL-terminated, in the world's memory,
 * packed without alignment (a NULL s with len 0, SQLite's empty value,
 * gives ""); NULL on out of memory. */
static char *pool_strn(struct world *w, const unsigned char *s, int len)
{
	return au_arena_strndup(&w->arena, s, (size_t)len);
}

/*
 * Scans hand their rows to C through an SQL function instead of being
 * stepped through: "SELECT count(advisoryfs_row(?1, a, b, ...)) FROM t"
 * runs a whole scan in one sqlite3_step() and calls the sink bound to ?1
 * (sqlite3_bind_pointer()) with each row's values.  Reading 100,000 rows
 * one sqlite3_step() and one sqlite3_column_*() call per value at a time
 * costs about half as much again as the scan itself.
 */
#define ROW_SINK_TYPE "advisoryfs_row_sink"
struct row_sink {
	/* one row's values; SQLITE_OK, or an error code that ends the scan */
	int (*row)(void *arg, sqlite3_value **v);
	void *arg;
	int nargs;                  /* values per row */
};

static void row_sink_call(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct row_sink *rs = sqlite3_value_pointer(argv[0], ROW_SINK_TYPE);
	if (!rs || argc - 1 != rs->nargs) {
		sqlite3_result_error(ctx, ROW_SINK_FN ": not called by a scan", -1);
		return;
	}
	int rc = rs->row(rs->arg, argv + 1);
	if (rc == SQLITE_NOMEM)
		sqlite3_result_error_nomem(ctx);
	else if (rc != SQLITE_OK)
		sqlite3_result_error_code(ctx, rc);
}

/* Make the sink function known to db (every connection that loads a
 * world: the store's and the scans' own).  A SQLite result code. */
int st_row_sink_register(sqlite3 *db)
{
	/* direct only: no view or trigger of a store file can call it */
	return sqlite3_create_function_v2(db, ROW_SINK_FN, -1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
					  NULL, row_sink_call, NULL, NULL, NULL);
}

/*
 * Run sql, whose one result is count(advisoryfs_row(?1, <nargs values>)),
 * with each row to row(arg, values).  A SQLite result code: SQLITE_DONE
 * when the scan is complete.
 */
int st_scan_rows(sqlite3 *db, const char *sql, int nargs,
		 int (*row)(void *arg, sqlite3_value **v), void *arg)
{
	struct row_sink rs = { row, arg, nargs };
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_pointer(s, 1, &rs, ROW_SINK_TYPE, NULL);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;
	sqlite3_finalize(s);
	return rc;
}



void st_vocab_init(struct vocab_memo *m, const struct policy *p, int roles)
{
	memset(m, 0, sizeof(*m));
	m->p = p;
	m->roles = roles;
}

/* The vocabulary index of the len bytes at s (SQLite's text, NUL after
 * them), as policy_role_index() or policy_sector_index() of s; -1 when
 * not in the vocabulary or s is NULL. */
int st_vocab_index(struct vocab_memo *m, const unsigned char *s, int len)
{
	if (!s)
		return -1;
	unsigned h = (unsigned)len;
	for (int i = 0; i < len; i++)
		h = h * 31 + s[i];
	struct vocab_slot *e = &m->slot[h % VOCAB_SLOTS];
	if (e->name && e->len == len && memcmp(e->name, s, (size_t)len) == 0)
		return e->idx;
	const char *name;
	int idx;
	if (m->roles) {
		idx = policy_role_index(m->p, (const char *)s);
		name = policy_role_name(m->p, idx);
	} else {
		idx = policy_sector_index(m->p, (const char *)s);
		name = policy_sector_name(m->p, idx);
	}
	/* a name with a NUL inside matches by its first part: not kept */
	if (name && strlen(name) == (size_t)len)
		*e = (struct vocab_slot){ name, len, idx };
	return idx;
}

static int count_rows(struct store *st, const char *sql, int64_t asof, uint32_t *ret)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, sql);
	if (r)
		return r;
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, asof);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = (uint32_t)sqlite3_column_int64(s, 0);
	else
		r = st_sql_err(st, rc, "count");
	sqlite3_finalize(s);
	return r;
}

static int cmp_org_slug(const void *a, const void *b)
{
	return strcmp(((const struct w_org *)a)->slug, ((const struct w_org *)b)->slug);
}

/*
 * What st_load_orgs() reads, row by row (st_scan_rows()): the organisations,
 * then their sectors, then their roles and memberships, which are kept
 * in rows to be grouped by organisation afterwards.
 */
struct orgs_scan {
	struct world *w;
	const struct idmap *om;
	uint32_t cap;               /* room in w->orgs */
	struct vocab_memo vocab;    /* the sectors, then the roles */
	struct org_link {
		uint32_t org, val;      /* organisation; its role, or the member */
		int64_t from, until;
		const char *ref;        /* a role's designation reference, or NULL */
	} *row;
	size_t n, cap_rows;
};

static int orgs_link_add(struct orgs_scan *os, struct org_link l)
{
	struct org_link *nr = au_grow(os->row, &os->cap_rows, os->n + 1, sizeof(*nr), 1024);
	if (!nr)
		return SQLITE_NOMEM;
	os->row = nr;
	os->row[os->n++] = l;
	return SQLITE_OK;
}

/* id, slug, name, uid, gid */
static int org_row(void *arg, sqlite3_value **v)
{
	struct orgs_scan *os = arg;
	struct world *w = os->w;
	if (w->norgs > os->cap) /* not counted: the same read transaction, so never */
		return SQLITE_OK;
	struct w_org *o = &w->orgs[w->norgs];
	o->id = sqlite3_value_int64(v[0]);
	o->slug = pool_strn(w, sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
	o->name = pool_strn(w, sqlite3_value_text(v[2]), sqlite3_value_bytes(v[2]));
	o->uid = st_val_time(v[3], -1);
	o->gid = st_val_time(v[4], -1);
	if (!o->slug || !o->name)
		return SQLITE_NOMEM;
	w->norgs++;
	return SQLITE_OK;
}

/* org_id, sector */
static int org_sector_row(void *arg, sqlite3_value **v)
{
	struct orgs_scan *os = arg;
	uint32_t oi = st_idmap_get(os->om, sqlite3_value_int64(v[0]));
	int si = st_vocab_index(&os->vocab, sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
	if (oi != W_NONE && si >= 0 && si < W_MAX_SECTORS)
		os->w->orgs[oi].sectors |= (uint64_t)1 << si;
	return SQLITE_OK;
}

/* org_id, role, from_t, until_t, ref */
static int org_role_row(void *arg, sqlite3_value **v)
{
	struct orgs_scan *os = arg;
	uint32_t oi = st_idmap_get(os->om, sqlite3_value_int64(v[0]));
	int ri = st_vocab_index(&os->vocab, sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
	if (oi == W_NONE || ri < 0)
		return SQLITE_OK;
	const char *ref = NULL;
	if (sqlite3_value_type(v[4]) != SQLITE_NULL) {
		const unsigned char *t = sqlite3_value_text(v[4]);
		if (!t || !(ref = pool_strn(os->w, t, sqlite3_value_bytes(v[4]))))
			return SQLITE_NOMEM;
	}
	return orgs_link_add(os, (struct org_link){ oi, (uint32_t)ri, st_val_time(v[2], AU_T_MIN),
						    st_val_time(v[3], AU_T_MAX), ref });
}

/* schakel_id, member_id, from_t, until_t */
static int membership_row(void *arg, sqlite3_value **v)
{
	struct orgs_scan *os = arg;
	uint32_t si = st_idmap_get(os->om, sqlite3_value_int64(v[0]));
	uint32_t mi = st_idmap_get(os->om, sqlite3_value_int64(v[1]));
	if (si == W_NONE || mi == W_NONE)
		return SQLITE_OK;
	return orgs_link_add(os, (struct org_link){ si, mi, st_val_time(v[2], AU_T_MIN),
						    st_val_time(v[3], AU_T_MAX), NULL });
}

/*
 * The roles in os->row into their organisations, each organisation's in
 * the order of their names (as a scan of the table's key gives them, and
 * as `explain` lists them).  0 or -ENOMEM.
 */
static int group_roles(struct world *w, const struct policy *p, const struct orgs_scan *os)
{
	struct w_role *all = os->n ? world_alloc(w, os->n * sizeof(*all)) : NULL;
	if (os->n && !all)
		return -ENOMEM;
	for (size_t k = 0; k < os->n; k++)
		w->orgs[os->row[k].org].nroles++;
	for (uint32_t i = 0; i < w->norgs; i++) {
		struct w_org *o = &w->orgs[i];
		if (o->nroles) {
			o->roles = all;
			all += o->nroles;
			o->nroles = 0;
		}
	}
	for (size_t k = 0; k < os->n; k++) {
		const struct org_link *l = &os->row[k];
		struct w_org *o = &w->orgs[l->org];
		/* an insertion: organisations hold a role or two */
		uint32_t j = o->nroles++;
		const char *name = policy_role_name(p, (int)l->val);
		for (; j > 0 && strcmp(policy_role_name(p, o->roles[j - 1].role), name) > 0; j--)
			o->roles[j] = o->roles[j - 1];
		o->roles[j] = (struct w_role){ (uint8_t)l->val, l->from, l->until, l->ref };
	}
	return 0;
}

/* The memberships in os->row (in row order) into both organisations. */
static int group_members(struct world *w, const struct orgs_scan *os)
{
	struct w_member *all = os->n ? world_alloc(w, 2 * os->n * sizeof(*all)) : NULL;
	if (os->n && !all)
		return -ENOMEM;
	for (size_t k = 0; k < os->n; k++) {
		w->orgs[os->row[k].org].nmembers++;
		w->orgs[os->row[k].val].nmember_of++;
	}
	for (uint32_t i = 0; i < w->norgs; i++) {
		struct w_org *o = &w->orgs[i];
		if (o->nmembers) {
			o->members = all;
			all += o->nmembers;
			o->nmembers = 0;
		}
		if (o->nmember_of) {
			o->member_of = all;
			all += o->nmember_of;
			o->nmember_of = 0;
		}
	}
	for (size_t k = 0; k < os->n; k++) {
		const struct org_link *l = &os->row[k];
		struct w_org *so = &w->orgs[l->org], *mo = &w->orgs[l->val];
		so->members[so->nmembers++] = (struct w_member){ l->val, l->from, l->until };
		mo->member_of[mo->nmember_of++] = (struct w_member){ l->org, l->from, l->until };
	}
	return 0;
}

/* The error of a scan of what: 0, or -errno with the message in st. */
static int scan_err(struct store *st, int rc, const char *what)
{
	if (rc == SQLITE_DONE)
		return 0;
	return rc == SQLITE_NOMEM ? -ENOMEM : st_sql_err(st, rc, what);
}

int st_load_orgs(struct store *st, const struct policy *p, struct world *w, struct idmap *om)
{
	struct orgs_scan os = { .w = w, .om = om };
	uint32_t n = 0;
	int64_t *ids = NULL;
	int r;

	if ((r = count_rows(st, "SELECT count(*) FROM org", 0, &n)))
		return r;
	w->orgs = world_alloc(w, (n + 1) * sizeof(struct w_org));
	ids = malloc((n + 1) * sizeof(int64_t));
	if (!w->orgs || !ids) {
		r = -ENOMEM;
		goto out;
	}
	w->orgs[0].slug = "public";
	w->orgs[0].name = "the public";
	w->orgs[0].uid = w->orgs[0].gid = -1;
	w->norgs = 1;
	os.cap = n;
	/* in row id order (a sequential scan), sorted by slug below if need be:
	 * ORDER BY slug would look every row up from the index */
	r = scan_err(st, st_scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, id, slug, name, uid, gid))"
				      " FROM org", 5, org_row, &os), "orgs");
	if (r)
		goto out;
	for (uint32_t i = 2; i < w->norgs; i++)
		if (strcmp(w->orgs[i - 1].slug, w->orgs[i].slug) > 0) {
			qsort(w->orgs + 1, w->norgs - 1, sizeof(struct w_org), cmp_org_slug);
			break;
		}
	for (uint32_t i = 1; i < w->norgs; i++)
		ids[i - 1] = w->orgs[i].id;
	if ((r = st_idmap_build(w, ids, w->norgs - 1, 1, om)))
		goto out;

	st_vocab_init(&os.vocab, p, 0);
	r = scan_err(st, st_scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, org_id, sector))"
				      " FROM org_sector", 2, org_sector_row, &os), "sectors");
	if (r)
		goto out;

	/* roles (group_roles() puts each organisation's in name order) */
	st_vocab_init(&os.vocab, p, 1);
	r = scan_err(st, st_scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, org_id, role, from_t,"
				      " until_t, ref)) FROM org_role", 5, org_role_row, &os), "roles");
	if (r || (r = group_roles(w, p, &os)))
		goto out;

	/* memberships, in both directions */
	os.n = 0;
	r = scan_err(st, st_scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, schakel_id, member_id,"
				      " from_t, until_t)) FROM membership", 4, membership_row, &os),
		     "memberships");
	if (!r)
		r = group_members(w, &os);
out:
	free(os.row);
	free(ids);
	return r;
}
