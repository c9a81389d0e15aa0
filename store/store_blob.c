/*
 * store_blob.c - the bytes of a version (document and signature) and the
 * meta table (keys, settings).
 */
#include "store_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>


/* ---- bytes -------------------------------------------------------------------------------- */

int store_version_bytes(struct store *st, int64_t version_id, int signature, char **ret_bytes,
			size_t *ret_len)
{
	/* called for every file a mount serves: the statement stays prepared */
	sqlite3_stmt **q = &st->q_bytes[signature ? 1 : 0];
	int r = 0;
	if (!*q && (r = st_prep(st, q, signature ? "SELECT signature FROM version_blob WHERE version_id = ?1"
					      : "SELECT bytes FROM version_blob WHERE version_id = ?1")))
		return r;
	sqlite3_stmt *s = *q;
	sqlite3_bind_int64(s, 1, version_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		char *b = malloc(n ? n : 1);
		if (!b) {
			r = -ENOMEM;
		} else {
			memcpy(b, sqlite3_column_blob(s, 0), n);
			*ret_bytes = b;
			*ret_len = n;
		}
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		r = st_seterr(st, -ENOENT, "no bytes for version %lld", (long long)version_id);
	} else {
		r = st_sql_err(st, rc, "bytes");
	}
	/* ends the read transaction: a kept statement must not hold one */
	sqlite3_reset(s);
	return r;
}

int store_meta_get(struct store *st, const char *key, char **ret_value, size_t *ret_len)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT value FROM meta WHERE key = ?1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		char *v = malloc(n + 1);
		if (!v) {
			r = -ENOMEM;
		} else {
			if (n)
				memcpy(v, sqlite3_column_blob(s, 0), n);
			v[n] = '\0';
			*ret_value = v;
			*ret_len = n;
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : st_sql_err(st, rc, "meta");
	}
	sqlite3_finalize(s);
	return r;
}

static int meta_set_tx(struct store *st, const char *key, const void *value, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, value ? "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"
				   : "DELETE FROM meta WHERE key = ?1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_blob64(s, 2, value, len, SQLITE_STATIC);
	if ((r = st_step_done(st, s, "meta")))
		return r;
	return st_log_change(st, "meta", key);
}

int store_meta_set(struct store *st, const char *key, const void *value, size_t len)
{
	int r;
	WITH_TX(st, meta_set_tx(st, key, value, len));
	return r;
}

int store_meta_key(struct store *st, unsigned char ret_key[32])
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT value FROM meta WHERE key = 'ino_key'");
	if (r)
		return r;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32)
		memcpy(ret_key, sqlite3_column_blob(s, 0), 32);
	else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? st_seterr(st, -EILSEQ, "store has no key")
							  : st_sql_err(st, rc, "meta");
	sqlite3_finalize(s);
	return r;
}

int store_version_release(struct store *st, const char *tracking_id, const char *version,
			  int64_t *ret_t)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT max(v.initial_release, v.current_release, "
			     "coalesce(v.embargo_until, v.initial_release)) FROM version v "
			     "JOIN advisory a ON a.id = v.advisory_id "
			     "WHERE a.tracking_id = ?1 AND v.version = ?2");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, tracking_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, version, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_t = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		r = st_seterr(st, -ENOENT, "no version '%s' of '%s'", version, tracking_id);
	else
		r = st_sql_err(st, rc, "version");
	sqlite3_finalize(s);
	return r;
}
