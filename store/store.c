/*
 * store.c - the SQLite store: connection, errors, statements, transactions.
 *
 * The store is split by what a maintainer changes together (docs/DESIGN.md):
 * this file opens and closes a store and runs statements and transactions;
 * store_schema.c holds the migrations; store_write.c every write command;
 * store_blob.c the document bytes and the meta table; store_scan.c and
 * store_world.c build the world snapshot; store_patch.c what changed since
 * a change_log position.  store_internal.h is what they share.
 *
 * Every write runs inside a transaction that also appends to change_log,
 * so a reader that sees PRAGMA data_version move finds out what changed
 * with one indexed query.  Document bytes live in version_blob, apart
 * from the metadata, so that building a world never reads a blob page.
 *
 * Error convention: functions return 0 or -errno and leave a one-line
 * message in st->err; SQLite result codes are translated once, in
 * st_sql_err().
 */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "util.h"

#define STORE_APP_ID 0x41445653 /* "ADVS" */

/* ---- connection and errors ---------------------------------------------- */

/* Record a message and return rc (a -errno). */
int st_seterr(struct store *st, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return rc;
}

int store_sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EILSEQ;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	default:
		return -EIO;
	}
}

/* Translate a SQLite result code into -errno, recording SQLite's message. */
int st_sql_err(struct store *st, int rc, const char *what)
{
	return st_seterr(st, store_sqlite_errno(rc), "%s: %s", what,
			 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

const char *store_errmsg(const struct store *st)
{
	return st->err;
}

const char *store_path(const struct store *st)
{
	return st->path;
}

/* Prepare a statement; on failure records the error. */
int st_prep(struct store *st, sqlite3_stmt **ret, const char *sql)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, ret, NULL);
	if (rc != SQLITE_OK)
		return st_sql_err(st, rc, "prepare");
	return 0;
}

/* Execute literal SQL (schema, pragmas). */
int st_exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return st_sql_err(st, rc, "sql");
	return 0;
}

void st_bind_time(sqlite3_stmt *s, int i, int64_t t)
{
	if (t == AU_T_MIN || t == AU_T_MAX)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, t);
}

int64_t st_col_time(sqlite3_stmt *s, int i, int64_t dflt)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(s, i);
}

/* Run a statement that returns no row (or ignore rows); finalizes it. */
int st_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : st_sql_err(st, rc, what);
	sqlite3_finalize(s);
	return r;
}

/* The one integer a PRAGMA (or any one-value query) returns. */
int st_pragma_int(struct store *st, const char *sql, int64_t *ret)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, sql);
	if (r)
		return r;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0);
	else
		r = st_sql_err(st, rc, sql);
	sqlite3_finalize(s);
	return r;
}

/*
 * Explain why an existing store could not be read (the first statement on
 * a WAL store writes its -shm file): a full or read-only filesystem says
 * so, anything else keeps SQLite's words.  Returns the -errno to report.
 */
static int open_failure(struct store *st, const char *path, int r)
{
	char dir[PATH_MAX];
	struct statvfs sv;
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + (slash == path) : 0;
	if (n >= sizeof(dir))
		n = sizeof(dir) - 1;
	if (!slash)
		dir[n++] = '.';
	else
		memcpy(dir, path, n);
	dir[n] = '\0';
	if (statvfs(dir, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return st_seterr(st, -EROFS, "%s: the store's filesystem is read-only", path);
	if (statvfs(dir, &sv) == 0 && sv.f_bavail == 0)
		return st_seterr(st, -ENOSPC, "%s: no space left on the device holding the store",
				 path);
	char keep[sizeof(st->err)];
	memcpy(keep, st->err, sizeof(keep));
	return st_seterr(st, r, "%s: cannot open the store: %s", path, keep);
}

int store_open(const char *path, int flags, struct store **ret_st)
{
	struct store *st = calloc(1, sizeof(*st));
	int r, created = 0;
	if (!st)
		return -ENOMEM;
	if (!(st->path = strdup(path))) {
		free(st);
		return -ENOMEM;
	}
	*ret_st = st; /* so that the caller can read the message; freed below on error */

	if (flags & STORE_CREATE) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			r = st_seterr(st, -errno, "%s: %s", path,
				      errno == EEXIST ? "already exists (init refuses an existing file)"
						   : strerror(errno));
			goto fail;
		}
		close(fd);
		created = 1;
	} else {
		struct stat sb;
		if (stat(path, &sb) < 0) {
			r = st_seterr(st, -errno, "%s: %s", path,
				      errno == ENOENT ? "no store here (create one with 'advisoryfs init')"
						   : strerror(errno));
			goto fail;
		}
		if (!S_ISREG(sb.st_mode)) {
			r = st_seterr(st, -EINVAL, "%s: not a regular file", path);
			goto fail;
		}
	}

	int oflags = (flags & STORE_RDONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc = sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = st_sql_err(st, rc, path);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	if ((rc = st_row_sink_register(st->db)) != SQLITE_OK) {
		r = st_sql_err(st, rc, path);
		goto fail;
	}

	int64_t app = 0, uv = 0;
	if ((r = st_pragma_int(st, "PRAGMA application_id", &app)) ||
	    (r = st_pragma_int(st, "PRAGMA user_version", &uv))) {
		if (r == -EILSEQ)
			st_seterr(st, r, "%s: not an advisoryfs store (not a SQLite database)", path);
		else
			r = open_failure(st, path, r);
		goto fail;
	}
	if (created) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_APP_ID);
		if ((r = st_exec(st, "PRAGMA journal_mode = WAL")) || (r = st_exec(st, sql)))
			goto fail;
	} else if (app != STORE_APP_ID) {
		r = st_seterr(st, -EINVAL, "%s: not an advisoryfs store", path);
		goto fail;
	}
	if ((r = st_exec(st, "PRAGMA foreign_keys = ON")) ||
	    (r = st_exec(st, "PRAGMA synchronous = NORMAL")))
		goto fail;
	if (!(flags & STORE_RDONLY) && (r = st_migrate(st)))
		goto fail;
	if ((flags & STORE_RDONLY) && uv != st_schema_newest()) {
		r = st_seterr(st, -EPROTO, "%s: store schema version %lld, expected %d (run any "
				 "advisoryfs write command once to migrate)", path, (long long)uv,
				 st_schema_newest());
		goto fail;
	}
	if (created) {
		unsigned char key[32];
		sqlite3_stmt *s = NULL;
		if (RAND_bytes(key, sizeof(key)) != 1) {
			r = st_seterr(st, -EIO, "random bytes: OpenSSL RAND_bytes failed");
			goto fail;
		}
		if ((r = st_prep(st, &s, "INSERT INTO meta(key, value) VALUES ('ino_key', ?1)")))
			goto fail;
		sqlite3_bind_blob(s, 1, key, sizeof(key), SQLITE_TRANSIENT);
		if ((r = st_step_done(st, s, "meta")))
			goto fail;
	}
	return 0;

fail:
	/* keep the message; the caller calls store_close() */
	if (created && st->db) {
		sqlite3_close(st->db);
		st->db = NULL;
		unlink(path);
	}
	return r;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	policy_free(st->policy);
	sqlite3_finalize(st->q_bytes[0]);
	sqlite3_finalize(st->q_bytes[1]);
	if (st->db)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* ---- transactions ------------------------------------------------------------ */

int store_begin(struct store *st)
{
	if (st->in_tx)
		return st_seterr(st, -EBUSY, "transaction already open");
	int r = st_exec(st, "BEGIN IMMEDIATE");
	if (!r)
		st->in_tx = 1;
	return r;
}

int store_commit(struct store *st)
{
	if (!st->in_tx)
		return st_seterr(st, -EINVAL, "no transaction open");
	int r = st_exec(st, "COMMIT");
	if (r) {
		char keep[sizeof(st->err)];
		memcpy(keep, st->err, sizeof(keep));
		store_rollback(st);
		memcpy(st->err, keep, sizeof(keep));
		return r;
	}
	st->in_tx = 0;
	return 0;
}

void store_rollback(struct store *st)
{
	if (st->in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
}

int store_savepoint(struct store *st, int op)
{
	static const char *const sql[] = { "SAVEPOINT doc", "RELEASE doc",
					   "ROLLBACK TO doc; RELEASE doc" };
	return st_exec(st, sql[op]);
}

/* Append to the change log (inside the caller's transaction). */
int st_log_change(struct store *st, const char *kind, const char *subject)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "INSERT INTO change_log(at, kind, subject) VALUES (?1, ?2, ?3)");
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, au_now());
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, subject, -1, SQLITE_TRANSIENT);
	return st_step_done(st, s, "change_log");
}
