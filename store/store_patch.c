/*
 * store_patch.c - change notification: the data version, the change_log
 * position, the next scheduled release, and the changes since a position
 * that a loaded world can take without a reload.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "util.h"

/* ---- change notification ------------------------------------------------------------------- */

int store_data_version(struct store *st, int64_t *ret_v)
{
	return st_pragma_int(st, "PRAGMA data_version", ret_v);
}

int store_change_seq(struct store *st, int64_t *ret_seq)
{
	return st_pragma_int(st, "SELECT coalesce(max(seq), 0) FROM change_log", ret_seq);
}

int st_next_after(struct store *st, const char *sql, int64_t t, const char *what,
		  int64_t *ret_t)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, sql);
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, t);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_t = st_col_time(s, 0, AU_T_MAX);
	else
		r = st_sql_err(st, rc, what);
	sqlite3_finalize(s);
	return r;
}

int store_next_release(struct store *st, int64_t t, int64_t *ret_t)
{
	return st_next_after(st, "SELECT min(current_release) FROM version WHERE "
			     "current_release > ?1", t, "next release", ret_t);
}

/* ---- changes a loaded world can take without a reload ----------------------------------- */

void store_patch_free(struct store_patch *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->advs[i].shares);
	free(p->advs);
	memset(p, 0, sizeof(*p));
}

/* One advisory's withdrawal and shares from the store into w.  -EAGAIN
 * when a share names an organisation w does not know. */
static int patch_apply_adv(struct world *w, const struct store_patch_adv *pa)
{
	struct w_share small[16], *v = small;
	uint32_t i, n = 0;
	int r = 0;

	for (i = 0; i < w->nadvs && w->advs[i].id != pa->adv_id; i++)
		;
	if (i == w->nadvs)
		return 0; /* no version in force: not in the world */
	w->advs[i].withdrawn_at = pa->withdrawn_at;
	if (pa->nshares == w->advs[i].nshares && pa->nshares == 0)
		return 0;
	if (pa->nshares > sizeof(small) / sizeof(small[0]) &&
	    !(v = malloc(pa->nshares * sizeof(*v))))
		return -ENOMEM;
	for (size_t k = 0; k < pa->nshares && !r; k++) {
		uint32_t o;
		for (o = 0; o < w->norgs && w->orgs[o].id != pa->shares[k].org_id; o++)
			;
		if (o == w->norgs || o == W_PUBLIC) {
			r = -EAGAIN;
			break;
		}
		/* sorted by org (world_build.h), one share per organisation */
		uint32_t j = n;
		for (; j > 0 && v[j - 1].org > o; j--)
			v[j] = v[j - 1];
		v[j] = (struct w_share){ o, pa->shares[k].at };
		n++;
	}
	if (!r)
		r = world_set_shares(w, i, v, n);
	if (v != small)
		free(v);
	return r == -E2BIG ? -EAGAIN : r;
}

int store_patch_apply(struct world *w, const struct store_patch *pt)
{
	int r = 0;

	for (size_t i = 0; i < pt->n && !r; i++)
		r = patch_apply_adv(w, &pt->advs[i]);
	return r;
}

/*
 * Add the current withdrawal and shares of every advisory that name names
 * (as `withdraw` and `share` resolve it) to ret.  -EAGAIN when it names
 * none.  0 or -errno.
 */
static int patch_add_name(struct store *st, const char *name, struct store_patch *ret)
{
	sqlite3_stmt *s = NULL, *q = NULL;
	int r, rc, found = 0;

	if ((r = st_prep(st, &s, "SELECT a.id, w.at FROM advisory a LEFT JOIN withdrawal w"
			      " ON w.advisory_id = a.id WHERE a.tracking_id = ?1 OR a.filename = ?1"
			      " OR a.filename = ?1 || '.json'")) ||
	    (r = st_prep(st, &q, "SELECT org_id, at FROM share WHERE advisory_id = ?1")))
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_patch_adv *a, *v = realloc(ret->advs, (ret->n + 1) * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		ret->advs = v;
		a = &v[ret->n++];
		memset(a, 0, sizeof(*a));
		a->adv_id = sqlite3_column_int64(s, 0);
		a->withdrawn_at = st_col_time(s, 1, AU_T_MAX);
		found = 1;
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, a->adv_id);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			struct store_patch_share *sv = realloc(a->shares, (a->nshares + 1) * sizeof(*sv));
			if (!sv) {
				r = -ENOMEM;
				goto out;
			}
			a->shares = sv;
			sv[a->nshares].org_id = sqlite3_column_int64(q, 0);
			sv[a->nshares].at = sqlite3_column_int64(q, 1);
			a->nshares++;
		}
		if (rc != SQLITE_DONE) {
			r = st_sql_err(st, rc, "share");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = st_sql_err(st, rc, "advisory");
	else if (!found)
		r = -EAGAIN;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(s);
	return r;
}

static int patch_read(struct store *st, int64_t seq, size_t max, struct store_patch *ret)
{
	sqlite3_stmt *s = NULL;
	size_t n = 0;
	int r, rc;

	if ((r = st_prep(st, &s, "SELECT seq, kind, subject FROM change_log WHERE seq > ?1 ORDER BY seq")))
		return r;
	sqlite3_bind_int64(s, 1, seq);
	ret->seq = seq;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 1);
		const char *subject = (const char *)sqlite3_column_text(s, 2);
		char name[400];
		ret->seq = sqlite3_column_int64(s, 0);
		if (++n > max || !kind || !subject) {
			r = -EAGAIN;
			break;
		}
		size_t len = strlen(subject);
		if (strcmp(kind, "withdraw") == 0) {
			if (len >= sizeof(name)) {
				r = -EAGAIN;
				break;
			}
			memcpy(name, subject, len + 1);
		} else if (strcmp(kind, "share") == 0) {
			/* "<advisory>/<slug>", cut to 399 bytes: a slug has no '/' */
			const char *slash = strrchr(subject, '/');
			if (!slash || len >= sizeof(name) - 1) {
				r = -EAGAIN;
				break;
			}
			memcpy(name, subject, (size_t)(slash - subject));
			name[slash - subject] = 0;
		} else {
			r = -EAGAIN;
			break;
		}
		if ((r = patch_add_name(st, name, ret)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = st_sql_err(st, rc, "change_log");
	sqlite3_finalize(s);
	return r;
}

int store_patch_read(struct store *st, int64_t seq, size_t max, struct store_patch *ret)
{
	struct store_patch p = { 0, NULL, 0 };
	int own = !st->in_tx, r;

	/* one read transaction: the facts are those of the sequence returned */
	if (own && (r = st_exec(st, "BEGIN")))
		return r;
	r = patch_read(st, seq, max, &p);
	if (own)
		sqlite3_exec(st->db, r ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	if (r) {
		store_patch_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}
