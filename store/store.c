/*
 * store.c - the SQLite store: schema, migrations, writes, snapshots.
 *
 * Sections: connection and errors; migrations; transactions; policy;
 * organisations; publishing; withdrawals and shares; bytes; the world
 * snapshot; change notification.
 *
 * Every write runs inside a transaction that also appends to change_log,
 * so a reader that sees PRAGMA data_version move finds out what changed
 * with one indexed query.  Document bytes live in version_blob, apart
 * from the metadata, so that building a world never reads a blob page.
 *
 * Error convention: functions return 0 or -errno and leave a one-line
 * message in st->err; SQLite result codes are translated once, in
 * sql_err().
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "util.h"
#include "world_build.h"

#define STORE_APP_ID 0x41445653 /* "ADVS" */
#define STORE_BUSY_MS 10000

struct store {
	sqlite3 *db;
	char *path;
	int in_tx;
	struct policy *policy;  /* active policy, cached for validation; NULL until needed */
	sqlite3_stmt *q_bytes[2];  /* store_version_bytes(): document, signature; kept prepared */
	char err[512];
};

/* ---- connection and errors ---------------------------------------------- */

static int seterr(struct store *st, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a message and return rc (a -errno). */
static int seterr(struct store *st, int rc, const char *fmt, ...)
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
static int sql_err(struct store *st, int rc, const char *what)
{
	return seterr(st, store_sqlite_errno(rc), "%s: %s", what,
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
static int prep(struct store *st, sqlite3_stmt **ret, const char *sql)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, ret, NULL);
	if (rc != SQLITE_OK)
		return sql_err(st, rc, "prepare");
	return 0;
}

/* Execute literal SQL (schema, pragmas). */
static int exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sql_err(st, rc, "sql");
	return 0;
}

static void bind_time(sqlite3_stmt *s, int i, int64_t t)
{
	if (t == AU_T_MIN || t == AU_T_MAX)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, t);
}

static int64_t col_time(sqlite3_stmt *s, int i, int64_t dflt)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(s, i);
}

/* Run a statement that returns no row (or ignore rows); finalizes it. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sql_err(st, rc, what);
	sqlite3_finalize(s);
	return r;
}

/* ---- migrations ------------------------------------------------------------ */

/*
 * Each entry moves the schema from version i to i+1.  Never edit a
 * migration that has shipped; add a new one.
 */
static const char *const migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE org(id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL, uid INTEGER, gid INTEGER, created INTEGER NOT NULL);"
	"CREATE TABLE org_sector(org_id INTEGER NOT NULL REFERENCES org(id),"
	"  sector TEXT NOT NULL, PRIMARY KEY(org_id, sector)) WITHOUT ROWID;"
	"CREATE TABLE org_role(org_id INTEGER NOT NULL REFERENCES org(id), role TEXT NOT NULL,"
	"  from_t INTEGER, until_t INTEGER, ref TEXT, PRIMARY KEY(org_id, role)) WITHOUT ROWID;"
	"CREATE TABLE membership(schakel_id INTEGER NOT NULL REFERENCES org(id),"
	"  member_id INTEGER NOT NULL REFERENCES org(id), from_t INTEGER, until_t INTEGER,"
	"  PRIMARY KEY(schakel_id, member_id), CHECK(schakel_id <> member_id)) WITHOUT ROWID;"
	"CREATE INDEX membership_member ON membership(member_id);"
	"CREATE TABLE advisory(id INTEGER PRIMARY KEY, tracking_id TEXT NOT NULL UNIQUE,"
	"  filename TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);"
	"CREATE TABLE version(id INTEGER PRIMARY KEY,"
	"  advisory_id INTEGER NOT NULL REFERENCES advisory(id), seq INTEGER NOT NULL,"
	"  version TEXT NOT NULL, title TEXT NOT NULL, publisher TEXT NOT NULL,"
	"  tlp INTEGER NOT NULL, status INTEGER NOT NULL, personal_data INTEGER NOT NULL,"
	"  impact_significant INTEGER NOT NULL, embargo_until INTEGER,"
	"  initial_release INTEGER NOT NULL, current_release INTEGER NOT NULL,"
	"  size INTEGER NOT NULL, sig_size INTEGER NOT NULL, sha256 BLOB NOT NULL,"
	"  sha512 BLOB NOT NULL, published_at INTEGER NOT NULL, source TEXT,"
	"  UNIQUE(advisory_id, version), UNIQUE(advisory_id, seq));"
	"CREATE INDEX version_release ON version(current_release);"
	"CREATE TABLE version_blob(version_id INTEGER PRIMARY KEY REFERENCES version(id),"
	"  bytes BLOB NOT NULL, signature BLOB);"
	"CREATE TABLE version_concern(version_id INTEGER NOT NULL REFERENCES version(id),"
	"  org_id INTEGER NOT NULL REFERENCES org(id), PRIMARY KEY(version_id, org_id)) WITHOUT ROWID;"
	"CREATE TABLE version_sector(version_id INTEGER NOT NULL REFERENCES version(id),"
	"  sector TEXT NOT NULL, PRIMARY KEY(version_id, sector)) WITHOUT ROWID;"
	"CREATE TABLE withdrawal(advisory_id INTEGER PRIMARY KEY REFERENCES advisory(id),"
	"  at INTEGER NOT NULL, reason TEXT);"
	"CREATE TABLE share(advisory_id INTEGER NOT NULL REFERENCES advisory(id),"
	"  org_id INTEGER NOT NULL REFERENCES org(id), reason TEXT NOT NULL, at INTEGER NOT NULL,"
	"  PRIMARY KEY(advisory_id, org_id)) WITHOUT ROWID;"
	"CREATE TABLE policy(id INTEGER PRIMARY KEY, loaded_at INTEGER NOT NULL,"
	"  loaded_by TEXT NOT NULL, source TEXT NOT NULL, sha256 BLOB NOT NULL);"
	"CREATE TABLE change_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, subject TEXT NOT NULL);",
	/* 2: the disclosure ledger, hash-chained, and signed checkpoints of its
	 * head (store/ledger.c; docs/LEDGER.md) */
	"CREATE TABLE ledger(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	"  recipient TEXT NOT NULL, uid INTEGER NOT NULL, tracking_id TEXT NOT NULL,"
	"  version TEXT NOT NULL, sha256 BLOB NOT NULL, rules TEXT NOT NULL,"
	"  prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE UNIQUE INDEX ledger_once ON ledger(recipient, tracking_id, version);"
	"CREATE TABLE ledger_checkpoint(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	"  hash BLOB NOT NULL, signer TEXT NOT NULL, signature TEXT NOT NULL);",
	/* 3: every column a decision needs of a version, so that a lean world
	 * (STORE_WORLD_LEAN: `visible`) reads this index instead of the table,
	 * a tenth of its pages */
	"CREATE INDEX IF NOT EXISTS version_world ON version(advisory_id, seq, current_release,"
	"  tlp, status, personal_data, impact_significant, embargo_until, initial_release,"
	"  sig_size);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int pragma_int(struct store *st, const char *sql, int64_t *ret)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, sql);
	if (r)
		return r;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0);
	else
		r = sql_err(st, rc, sql);
	sqlite3_finalize(s);
	return r;
}

/* Bring the schema to the newest version, one transaction per step. */
static int migrate(struct store *st)
{
	int64_t v;
	int r = pragma_int(st, "PRAGMA user_version", &v);
	if (r)
		return r;
	if (v > NMIGRATIONS)
		return seterr(st, -EPROTO,
			      "store schema version %lld is newer than this advisoryfs (%d)",
			      (long long)v, NMIGRATIONS);
	for (int i = (int)v; i < NMIGRATIONS; i++) {
		char sql[64];
		if ((r = exec(st, "BEGIN IMMEDIATE")))
			return r;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
		if ((r = exec(st, migrations[i])) || (r = exec(st, sql))) {
			exec(st, "ROLLBACK");
			return r;
		}
		if ((r = exec(st, "COMMIT")))
			return r;
	}
	return 0;
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
		return seterr(st, -EROFS, "%s: the store's filesystem is read-only", path);
	if (statvfs(dir, &sv) == 0 && sv.f_bavail == 0)
		return seterr(st, -ENOSPC, "%s: no space left on the device holding the store",
			      path);
	char keep[sizeof(st->err)];
	memcpy(keep, st->err, sizeof(keep));
	return seterr(st, r, "%s: cannot open the store: %s", path, keep);
}

static int row_sink_register(sqlite3 *db); /* the world snapshot's scans */

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
			r = seterr(st, -errno, "%s: %s", path,
				   errno == EEXIST ? "already exists (init refuses an existing file)"
						   : strerror(errno));
			goto fail;
		}
		close(fd);
		created = 1;
	} else {
		struct stat sb;
		if (stat(path, &sb) < 0) {
			r = seterr(st, -errno, "%s: %s", path,
				   errno == ENOENT ? "no store here (create one with 'advisoryfs init')"
						   : strerror(errno));
			goto fail;
		}
		if (!S_ISREG(sb.st_mode)) {
			r = seterr(st, -EINVAL, "%s: not a regular file", path);
			goto fail;
		}
	}

	int oflags = (flags & STORE_RDONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc = sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(st, rc, path);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	if ((rc = row_sink_register(st->db)) != SQLITE_OK) {
		r = sql_err(st, rc, path);
		goto fail;
	}

	int64_t app = 0, uv = 0;
	if ((r = pragma_int(st, "PRAGMA application_id", &app)) ||
	    (r = pragma_int(st, "PRAGMA user_version", &uv))) {
		if (r == -EILSEQ)
			seterr(st, r, "%s: not an advisoryfs store (not a SQLite database)", path);
		else
			r = open_failure(st, path, r);
		goto fail;
	}
	if (created) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_APP_ID);
		if ((r = exec(st, "PRAGMA journal_mode = WAL")) || (r = exec(st, sql)))
			goto fail;
	} else if (app != STORE_APP_ID) {
		r = seterr(st, -EINVAL, "%s: not an advisoryfs store", path);
		goto fail;
	}
	if ((r = exec(st, "PRAGMA foreign_keys = ON")) ||
	    (r = exec(st, "PRAGMA synchronous = NORMAL")))
		goto fail;
	if (!(flags & STORE_RDONLY) && (r = migrate(st)))
		goto fail;
	if ((flags & STORE_RDONLY) && uv != NMIGRATIONS) {
		r = seterr(st, -EPROTO, "%s: store schema version %lld, expected %d (run any "
			   "advisoryfs write command once to migrate)", path, (long long)uv,
			   NMIGRATIONS);
		goto fail;
	}
	if (created) {
		unsigned char key[32];
		sqlite3_stmt *s = NULL;
		if (RAND_bytes(key, sizeof(key)) != 1) {
			r = seterr(st, -EIO, "random bytes: OpenSSL RAND_bytes failed");
			goto fail;
		}
		if ((r = prep(st, &s, "INSERT INTO meta(key, value) VALUES ('ino_key', ?1)")))
			goto fail;
		sqlite3_bind_blob(s, 1, key, sizeof(key), SQLITE_TRANSIENT);
		if ((r = step_done(st, s, "meta")))
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
		return seterr(st, -EBUSY, "transaction already open");
	int r = exec(st, "BEGIN IMMEDIATE");
	if (!r)
		st->in_tx = 1;
	return r;
}

int store_commit(struct store *st)
{
	if (!st->in_tx)
		return seterr(st, -EINVAL, "no transaction open");
	int r = exec(st, "COMMIT");
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
	return exec(st, sql[op]);
}

/* Append to the change log (inside the caller's transaction). */
static int log_change(struct store *st, const char *kind, const char *subject)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "INSERT INTO change_log(at, kind, subject) VALUES (?1, ?2, ?3)");
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, au_now());
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, subject, -1, SQLITE_TRANSIENT);
	return step_done(st, s, "change_log");
}

/*
 * Run fn inside a transaction unless the caller already opened one.
 * Keeps single commands atomic without making every caller manage
 * BEGIN/COMMIT.
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

/* ---- policy ------------------------------------------------------------------------ */

static void sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

static void sha512(const void *data, size_t len, unsigned char out[64])
{
	unsigned int n = 64;
	EVP_Digest(data, len, out, &n, EVP_sha512(), NULL);
}

/* The vocabulary of p must cover every role and sector the store uses. */
static int policy_covers_store(struct store *st, const struct policy *p)
{
	static const char *const qs[] = {
		"SELECT r.role, o.slug FROM org_role r JOIN org o ON o.id = r.org_id",
		"SELECT s.sector, o.slug FROM org_sector s JOIN org o ON o.id = s.org_id",
		"SELECT s.sector, a.tracking_id FROM version_sector s JOIN version v ON "
		"v.id = s.version_id JOIN advisory a ON a.id = v.advisory_id",
	};
	for (int q = 0; q < 3; q++) {
		sqlite3_stmt *s = NULL;
		int r = prep(st, &s, qs[q]), rc;
		if (r)
			return r;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(s, 0);
			const char *who = (const char *)sqlite3_column_text(s, 1);
			int ok = q == 0 ? policy_role_index(p, name) >= 0
					: policy_sector_index(p, name) >= 0;
			if (!ok) {
				r = seterr(st, -EINVAL, "%s '%s' is used by %s '%s' but the policy "
					   "does not declare it", q == 0 ? "role" : "sector", name,
					   q == 2 ? "advisory" : "organisation", who);
				break;
			}
		}
		if (!r && rc != SQLITE_DONE)
			r = sql_err(st, rc, "policy check");
		sqlite3_finalize(s);
		if (r)
			return r;
	}
	return 0;
}

static int policy_add_tx(struct store *st, const char *json, size_t len, const char *by,
			 int64_t at)
{
	struct policy *p = NULL;
	char err[256];
	int r = policy_compile(json, len, &p, err, sizeof(err));
	if (r)
		return seterr(st, r, "%s", err);
	if ((r = policy_covers_store(st, p))) {
		policy_free(p);
		return r;
	}
	sqlite3_stmt *s = NULL;
	unsigned char h[32];
	sha256(json, len, h);
	if ((r = prep(st, &s, "INSERT INTO policy(loaded_at, loaded_by, source, sha256) "
			      "VALUES (?1, ?2, ?3, ?4)"))) {
		policy_free(p);
		return r;
	}
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, json, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 4, h, 32, SQLITE_TRANSIENT);
	if ((r = step_done(st, s, "policy")) || (r = log_change(st, "policy", by))) {
		policy_free(p);
		return r;
	}
	policy_free(st->policy);
	st->policy = p;
	return 0;
}

int store_policy_add(struct store *st, const char *json, size_t len, const char *loaded_by,
		     int64_t at)
{
	int r;
	WITH_TX(st, policy_add_tx(st, json, len, loaded_by, at));
	if (r) {
		/* the cached policy may be the rejected one's predecessor; drop it */
		policy_free(st->policy);
		st->policy = NULL;
	}
	return r;
}

int store_policy_get(struct store *st, int64_t t, struct policy **ret_policy, char **ret_source,
		     int64_t *ret_policy_id)
{
	sqlite3_stmt *s = NULL;
	/* the last one loaded at or before t, else the first one ever loaded */
	int r = prep(st, &s, "SELECT id, source FROM policy ORDER BY "
			     "(loaded_at <= ?1) DESC, "
			     "CASE WHEN loaded_at <= ?1 THEN -id ELSE id END LIMIT 1");
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, t);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		if (rc == SQLITE_DONE)
			return seterr(st, -ENOENT, "the store holds no policy");
		return sql_err(st, rc, "policy");
	}
	int64_t id = sqlite3_column_int64(s, 0);
	const char *src = (const char *)sqlite3_column_text(s, 1);
	size_t len = (size_t)sqlite3_column_bytes(s, 1);
	struct policy *p = NULL;
	char err[256];
	r = policy_compile(src, len, &p, err, sizeof(err));
	if (r) {
		sqlite3_finalize(s);
		return seterr(st, r, "stored policy %lld: %s", (long long)id, err);
	}
	if (ret_source) {
		char *copy = malloc(len + 1);
		if (!copy) {
			sqlite3_finalize(s);
			policy_free(p);
			return -ENOMEM;
		}
		memcpy(copy, src, len);
		copy[len] = '\0';
		*ret_source = copy;
	}
	sqlite3_finalize(s);
	if (ret_policy_id)
		*ret_policy_id = id;
	*ret_policy = p;
	return 0;
}

/* The active policy, compiled once per handle (for vocabulary checks). */
static int active_policy(struct store *st, const struct policy **ret)
{
	if (!st->policy) {
		int r = store_policy_get(st, AU_T_MAX, &st->policy, NULL, NULL);
		if (r)
			return r;
	}
	*ret = st->policy;
	return 0;
}

/* ---- organisations ------------------------------------------------------------------ */

/* Row id of an organisation, or -ENOENT with a message. */
static int org_id(struct store *st, const char *slug, int64_t *ret_id)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT id FROM org WHERE slug = ?1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		r = seterr(st, -ENOENT, "no organisation '%s'", slug);
	else
		r = sql_err(st, rc, "org");
	sqlite3_finalize(s);
	return r;
}

static int check_sector(struct store *st, const struct policy *p, const char *sector)
{
	if (policy_sector_index(p, sector) < 0)
		return seterr(st, -EINVAL, "unknown sector '%s' (the policy declares the "
			      "sectors; see 'advisoryfs policy show')", sector);
	return 0;
}

static int org_add_tx(struct store *st, const char *slug, const char *name,
		      const char *const *sectors, size_t nsectors, int64_t uid, int64_t gid)
{
	const struct policy *p;
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r;

	if (!au_slug_valid(slug))
		return seterr(st, -EINVAL, "invalid slug '%s' (1-64 of a-z, 0-9 and '-', not "
			      "starting with '-')", slug);
	if (strcmp(slug, "public") == 0)
		return seterr(st, -EINVAL, "the slug 'public' is reserved for the public view");
	if (!*name || strlen(name) > 256)
		return seterr(st, -EINVAL, "name must be 1-256 bytes");
	if ((r = active_policy(st, &p)))
		return r;
	for (size_t i = 0; i < nsectors; i++)
		if ((r = check_sector(st, p, sectors[i])))
			return r;
	if (org_id(st, slug, &id) == 0)
		return seterr(st, -EEXIST, "organisation '%s' already exists", slug);
	if ((r = prep(st, &s, "INSERT INTO org(slug, name, uid, gid, created) "
			      "VALUES (?1, ?2, ?3, ?4, ?5)")))
		return r;
	sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	if (uid >= 0)
		sqlite3_bind_int64(s, 3, uid);
	if (gid >= 0)
		sqlite3_bind_int64(s, 4, gid);
	sqlite3_bind_int64(s, 5, au_now());
	if ((r = step_done(st, s, "org add")))
		return r;
	id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < nsectors; i++) {
		if ((r = prep(st, &s, "INSERT OR IGNORE INTO org_sector(org_id, sector) "
				      "VALUES (?1, ?2)")))
			return r;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, sectors[i], -1, SQLITE_STATIC);
		if ((r = step_done(st, s, "org sector")))
			return r;
	}
	return log_change(st, "org", slug);
}

int store_org_add(struct store *st, const char *slug, const char *name, const char *const *sectors,
		  size_t nsectors, int64_t uid, int64_t gid)
{
	int r;
	WITH_TX(st, org_add_tx(st, slug, name, sectors, nsectors, uid, gid));
	return r;
}

static int org_bind_tx(struct store *st, const char *slug, int64_t uid, int64_t gid)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r;
	if ((r = org_id(st, slug, &id)))
		return r;
	if ((r = prep(st, &s, "UPDATE org SET uid = ?2, gid = ?3 WHERE id = ?1")))
		return r;
	sqlite3_bind_int64(s, 1, id);
	if (uid >= 0)
		sqlite3_bind_int64(s, 2, uid);
	if (gid >= 0)
		sqlite3_bind_int64(s, 3, gid);
	if ((r = step_done(st, s, "org bind")))
		return r;
	return log_change(st, "org", slug);
}

int store_org_bind(struct store *st, const char *slug, int64_t uid, int64_t gid)
{
	int r;
	WITH_TX(st, org_bind_tx(st, slug, uid, gid));
	return r;
}

static int org_role_tx(struct store *st, const char *slug, const char *role, int64_t from,
		       int64_t until, const char *ref, int remove)
{
	const struct policy *p;
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r;

	if ((r = org_id(st, slug, &id)))
		return r;
	if (remove) {
		if ((r = prep(st, &s, "DELETE FROM org_role WHERE org_id = ?1 AND role = ?2")))
			return r;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
		if ((r = step_done(st, s, "org role")))
			return r;
		if (sqlite3_changes(st->db) == 0)
			return seterr(st, -ENOENT, "'%s' has no role '%s'", slug, role);
	} else {
		if ((r = active_policy(st, &p)))
			return r;
		if (policy_role_index(p, role) < 0)
			return seterr(st, -EINVAL, "unknown role '%s' (the active policy declares "
				      "the roles; see 'advisoryfs policy show')", role);
		if (from != AU_T_MIN && until != AU_T_MAX && from > until)
			return seterr(st, -EINVAL, "--from is after --until");
		if (ref && strlen(ref) > 1024)
			return seterr(st, -E2BIG, "--ref longer than 1024 bytes");
		if ((r = prep(st, &s, "INSERT INTO org_role(org_id, role, from_t, until_t, ref) "
				      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(org_id, role) DO "
				      "UPDATE SET from_t = ?3, until_t = ?4, "
				      "ref = coalesce(?5, ref)")))
			return r;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
		bind_time(s, 3, from);
		bind_time(s, 4, until);
		if (ref)
			sqlite3_bind_text(s, 5, ref, -1, SQLITE_STATIC);
		if ((r = step_done(st, s, "org role")))
			return r;
	}
	return log_change(st, "role", slug);
}

int store_org_role(struct store *st, const char *slug, const char *role, int64_t from,
		   int64_t until, const char *ref, int remove)
{
	int r;
	WITH_TX(st, org_role_tx(st, slug, role, from, until, ref, remove));
	return r;
}

static int org_member_tx(struct store *st, const char *schakel, const char *member, int64_t from,
			 int64_t until, int remove)
{
	sqlite3_stmt *s = NULL;
	int64_t sid, mid;
	int r;

	if ((r = org_id(st, schakel, &sid)) || (r = org_id(st, member, &mid)))
		return r;
	if (sid == mid)
		return seterr(st, -EINVAL, "an organisation cannot be a member of itself");
	if (remove) {
		if ((r = prep(st, &s, "DELETE FROM membership WHERE schakel_id = ?1 AND "
				      "member_id = ?2")))
			return r;
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int64(s, 2, mid);
		if ((r = step_done(st, s, "org member")))
			return r;
		if (sqlite3_changes(st->db) == 0)
			return seterr(st, -ENOENT, "'%s' is not a member of '%s'", member, schakel);
	} else {
		if (from != AU_T_MIN && until != AU_T_MAX && from > until)
			return seterr(st, -EINVAL, "--from is after --until");
		if ((r = prep(st, &s, "INSERT INTO membership(schakel_id, member_id, from_t, "
				      "until_t) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE "
				      "SET from_t = ?3, until_t = ?4")))
			return r;
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int64(s, 2, mid);
		bind_time(s, 3, from);
		bind_time(s, 4, until);
		if ((r = step_done(st, s, "org member")))
			return r;
	}
	char subject[140];
	snprintf(subject, sizeof(subject), "%s/%s", schakel, member);
	return log_change(st, "member", subject);
}

int store_org_member(struct store *st, const char *schakel, const char *member, int64_t from,
		     int64_t until, int remove)
{
	int r;
	WITH_TX(st, org_member_tx(st, schakel, member, from, until, remove));
	return r;
}

/* ---- publishing ------------------------------------------------------------------------ */

static int looks_like_signature(const char *sig, size_t len)
{
	static const char head[] = "-----BEGIN PGP SIGNATURE-----";
	if (len < sizeof(head) - 1 || len > 64 * 1024)
		return 0;
	if (memcmp(sig, head, sizeof(head) - 1) != 0)
		return 0;
	return memchr(sig, '\0', len) == NULL &&
	       memmem(sig, len, "-----END PGP SIGNATURE-----", 27) != NULL;
}

/*
 * The latest stored version of an advisory.  *ret_id is 0 when the id is
 * new.  ret_version is a malloc'ed copy (caller frees) when found.
 */
static int latest_version(struct store *st, const char *tracking_id, int64_t *ret_adv,
			  char **ret_version, int64_t *ret_seq, unsigned char ret_hash[32],
			  int *ret_withdrawn)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT a.id, v.version, v.seq, v.sha256, "
			     "(SELECT 1 FROM withdrawal w WHERE w.advisory_id = a.id) "
			     "FROM advisory a JOIN version v ON v.advisory_id = a.id "
			     "WHERE a.tracking_id = ?1 ORDER BY v.seq DESC LIMIT 1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, tracking_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	*ret_adv = 0;
	if (rc == SQLITE_ROW) {
		*ret_adv = sqlite3_column_int64(s, 0);
		*ret_version = strdup((const char *)sqlite3_column_text(s, 1));
		*ret_seq = sqlite3_column_int64(s, 2);
		memcpy(ret_hash, sqlite3_column_blob(s, 3), 32);
		*ret_withdrawn = sqlite3_column_type(s, 4) != SQLITE_NULL;
		if (!*ret_version)
			r = -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		r = sql_err(st, rc, "publish");
	}
	sqlite3_finalize(s);
	return r;
}

/*
 * Is version v of advisory adv stored?  *ret_same: -1 no, 1 with the same
 * SHA-256 as h, 0 with other bytes.
 */
static int version_stored(struct store *st, int64_t adv, const char *v, const unsigned char h[32],
			  int *ret_same)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT sha256 FROM version WHERE advisory_id = ?1 AND version = ?2");
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, adv);
	sqlite3_bind_text(s, 2, v, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_same = sqlite3_column_bytes(s, 0) == 32 &&
			    memcmp(sqlite3_column_blob(s, 0), h, 32) == 0;
	else if (rc == SQLITE_DONE)
		*ret_same = -1;
	else
		r = sql_err(st, rc, "publish");
	sqlite3_finalize(s);
	return r;
}

/* Insert the version's concerned organisations and sectors. */
static int publish_dist(struct store *st, const struct policy *p, int64_t vid,
			const struct csaf_dist *d)
{
	sqlite3_stmt *s = NULL;
	int r;
	for (size_t i = 0; i < d->nconcerns; i++) {
		int64_t oid;
		if ((r = org_id(st, d->concerns[i], &oid)))
			return seterr(st, r, "concerns: no organisation '%s'", d->concerns[i]);
		if ((r = prep(st, &s, "INSERT OR IGNORE INTO version_concern(version_id, org_id) "
				      "VALUES (?1, ?2)")))
			return r;
		sqlite3_bind_int64(s, 1, vid);
		sqlite3_bind_int64(s, 2, oid);
		if ((r = step_done(st, s, "concerns")))
			return r;
	}
	for (size_t i = 0; i < d->nsectors; i++) {
		if ((r = check_sector(st, p, d->sectors[i])))
			return r;
		if ((r = prep(st, &s, "INSERT OR IGNORE INTO version_sector(version_id, sector) "
				      "VALUES (?1, ?2)")))
			return r;
		sqlite3_bind_int64(s, 1, vid);
		sqlite3_bind_text(s, 2, d->sectors[i], -1, SQLITE_STATIC);
		if ((r = step_done(st, s, "sectors")))
			return r;
	}
	return 0;
}

static int publish_tx(struct store *st, const struct store_publish *pub, int *ret_dup)
{
	struct csaf_doc doc;
	const struct policy *p;
	sqlite3_stmt *s = NULL;
	char err[300], *prev_version = NULL;
	unsigned char h256[32], h512[64], prev_hash[32];
	int64_t adv = 0, prev_seq = 0, vid;
	int withdrawn = 0, r;

	if ((r = active_policy(st, &p)))
		return r;
	if ((r = csaf_parse(pub->bytes, pub->len, &doc, err, sizeof(err))))
		return seterr(st, r, "%s", err);

	/* TLP: the document's label, which --tlp may only tighten */
	enum csaf_tlp tlp = doc.tlp;
	if (pub->dist.tlp != CSAF_TLP_NONE) {
		if (doc.tlp != CSAF_TLP_NONE && pub->dist.tlp < doc.tlp) {
			r = seterr(st, -EINVAL, "TLP:%s would loosen the document's TLP:%s "
				   "(a TLP may only be tightened)", csaf_tlp_name(pub->dist.tlp),
				   csaf_tlp_name(doc.tlp));
			goto out;
		}
		tlp = pub->dist.tlp;
	}
	if (tlp == CSAF_TLP_NONE) {
		r = seterr(st, -EINVAL, "no TLP: document.distribution.tlp.label is absent and no "
			   "--tlp was given");
		goto out;
	}
	if (pub->signature && !looks_like_signature(pub->signature, pub->siglen)) {
		r = seterr(st, -EINVAL, "signature is not an ASCII-armoured OpenPGP signature "
			   "(at most 64 KiB)");
		goto out;
	}
	if (pub->dist.nconcerns > CSAF_MAX_CONCERNS || pub->dist.nsectors > CSAF_MAX_SECTORS) {
		r = seterr(st, -E2BIG, "more than %u concerned organisations or %u sectors",
			   CSAF_MAX_CONCERNS, CSAF_MAX_SECTORS);
		goto out;
	}

	sha256(pub->bytes, pub->len, h256);
	sha512(pub->bytes, pub->len, h512);

	if ((r = latest_version(st, doc.tracking_id, &adv, &prev_version, &prev_seq, prev_hash,
				&withdrawn)))
		goto out;
	if (adv) {
		int cmp, same = -1;
		/* this very version already stored (not necessarily the latest):
		 * unchanged if the bytes agree, refused if not */
		if ((r = version_stored(st, adv, doc.version, h256, &same)))
			goto out;
		if (same == 1 && ret_dup) {
			*ret_dup = 1;
			goto out;
		}
		if (same >= 0) {
			r = seterr(st, -EINVAL, "version '%s' of '%s' is already stored%s",
				   doc.version, doc.tracking_id, same ? "" : " with different bytes");
			goto out;
		}
		if (withdrawn) {
			r = seterr(st, -EINVAL, "advisory '%s' was withdrawn", doc.tracking_id);
			goto out;
		}
		if (csaf_version_cmp(doc.version, prev_version, &cmp) < 0) {
			r = seterr(st, -EINVAL, "version '%s' of '%s' cannot be ordered against "
				   "stored version '%s' (integer and semantic versioning mixed)",
				   doc.version, doc.tracking_id, prev_version);
			goto out;
		}
		if (cmp == 0) { /* equal precedence, other spelling (build metadata) */
			r = seterr(st, -EINVAL, "version '%s' of '%s' is already stored with "
				   "different bytes", doc.version, doc.tracking_id);
			goto out;
		}
		if (cmp < 0) {
			r = seterr(st, -EINVAL, "version '%s' of '%s' is older than the stored "
				   "version '%s'", doc.version, doc.tracking_id, prev_version);
			goto out;
		}
	} else {
		if ((r = prep(st, &s, "SELECT tracking_id FROM advisory WHERE filename = ?1")))
			goto out;
		sqlite3_bind_text(s, 1, doc.filename, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			r = seterr(st, -EEXIST, "tracking id '%s' maps to the file name '%s' of "
				   "advisory '%s'", doc.tracking_id, doc.filename,
				   (const char *)sqlite3_column_text(s, 0));
			sqlite3_finalize(s);
			goto out;
		}
		sqlite3_finalize(s);
		if ((r = prep(st, &s, "INSERT INTO advisory(tracking_id, filename, created) "
				      "VALUES (?1, ?2, ?3)")))
			goto out;
		sqlite3_bind_text(s, 1, doc.tracking_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, doc.filename, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, au_now());
		if ((r = step_done(st, s, "advisory")))
			goto out;
		adv = sqlite3_last_insert_rowid(st->db);
	}

	if ((r = prep(st, &s, "INSERT INTO version(advisory_id, seq, version, title, publisher, "
			      "tlp, status, personal_data, impact_significant, embargo_until, "
			      "initial_release, current_release, size, sig_size, sha256, sha512, "
			      "published_at, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
			      "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)")))
		goto out;
	sqlite3_bind_int64(s, 1, adv);
	sqlite3_bind_int64(s, 2, prev_seq + 1);
	sqlite3_bind_text(s, 3, doc.version, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, doc.title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, doc.publisher, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, tlp);
	sqlite3_bind_int(s, 7, doc.status);
	sqlite3_bind_int(s, 8, pub->dist.personal_data ? 1 : 0);
	sqlite3_bind_int(s, 9, pub->dist.impact_significant ? 1 : 0);
	bind_time(s, 10, pub->dist.embargo_until);
	sqlite3_bind_int64(s, 11, doc.initial_release);
	sqlite3_bind_int64(s, 12, doc.current_release);
	sqlite3_bind_int64(s, 13, (sqlite3_int64)pub->len);
	sqlite3_bind_int64(s, 14, pub->signature ? (sqlite3_int64)pub->siglen : 0);
	sqlite3_bind_blob(s, 15, h256, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 16, h512, 64, SQLITE_STATIC);
	sqlite3_bind_int64(s, 17, au_now());
	if (pub->source)
		sqlite3_bind_text(s, 18, pub->source, -1, SQLITE_STATIC);
	if ((r = step_done(st, s, "version")))
		goto out;
	vid = sqlite3_last_insert_rowid(st->db);

	if ((r = prep(st, &s, "INSERT INTO version_blob(version_id, bytes, signature) "
			      "VALUES (?1, ?2, ?3)")))
		goto out;
	sqlite3_bind_int64(s, 1, vid);
	sqlite3_bind_blob64(s, 2, pub->bytes, pub->len, SQLITE_STATIC);
	if (pub->signature)
		sqlite3_bind_blob64(s, 3, pub->signature, pub->siglen, SQLITE_STATIC);
	if ((r = step_done(st, s, "version bytes")))
		goto out;
	if ((r = publish_dist(st, p, vid, &pub->dist)))
		goto out;
	r = log_change(st, "publish", doc.tracking_id);
	if (!r && ret_dup)
		*ret_dup = 0;
out:
	free(prev_version);
	csaf_doc_release(&doc);
	return r;
}

int store_publish(struct store *st, const struct store_publish *pub, int *ret_dup)
{
	int r;
	WITH_TX(st, publish_tx(st, pub, ret_dup));
	return r;
}

/* Row id of an advisory named by tracking id or file name. */
static int advisory_id(struct store *st, const char *name, int64_t *ret_id)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT id FROM advisory WHERE tracking_id = ?1 OR filename = ?1 "
			     "OR filename = ?1 || '.json' LIMIT 1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		r = seterr(st, -ENOENT, "no advisory '%s'", name);
	else
		r = sql_err(st, rc, "advisory");
	sqlite3_finalize(s);
	return r;
}

static int withdraw_tx(struct store *st, const char *id, const char *reason, int64_t at)
{
	sqlite3_stmt *s = NULL;
	int64_t adv;
	int r;
	if ((r = advisory_id(st, id, &adv)))
		return r;
	if ((r = prep(st, &s, "INSERT INTO withdrawal(advisory_id, at, reason) "
			      "VALUES (?1, ?2, ?3)")))
		return r;
	sqlite3_bind_int64(s, 1, adv);
	sqlite3_bind_int64(s, 2, at);
	if (reason)
		sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	if ((r = step_done(st, s, "withdraw")))
		return r == -EEXIST ? seterr(st, r, "advisory '%s' is already withdrawn", id) : r;
	return log_change(st, "withdraw", id);
}

int store_withdraw(struct store *st, const char *tracking_id, const char *reason, int64_t at)
{
	int r;
	WITH_TX(st, withdraw_tx(st, tracking_id, reason, at));
	return r;
}

static int share_tx(struct store *st, const char *id, const char *slug, const char *reason,
		    int64_t at)
{
	sqlite3_stmt *s = NULL;
	int64_t adv, org;
	int r;
	if (!reason || !*reason)
		return seterr(st, -EINVAL, "a special case needs a --reason");
	if (strlen(reason) > 4096)
		return seterr(st, -E2BIG, "--reason longer than 4096 bytes");
	if ((r = advisory_id(st, id, &adv)) || (r = org_id(st, slug, &org)))
		return r;
	if ((r = prep(st, &s, "INSERT INTO share(advisory_id, org_id, reason, at) "
			      "VALUES (?1, ?2, ?3, ?4)")))
		return r;
	sqlite3_bind_int64(s, 1, adv);
	sqlite3_bind_int64(s, 2, org);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, at);
	if ((r = step_done(st, s, "share")))
		return r == -EEXIST ? seterr(st, r, "'%s' is already shared with '%s'", id, slug)
				    : r;
	char subject[400];
	snprintf(subject, sizeof(subject), "%s/%s", id, slug);
	return log_change(st, "share", subject);
}

int store_share(struct store *st, const char *tracking_id, const char *slug, const char *reason,
		int64_t at)
{
	int r;
	WITH_TX(st, share_tx(st, tracking_id, slug, reason, at));
	return r;
}

/* ---- bytes -------------------------------------------------------------------------------- */

int store_version_bytes(struct store *st, int64_t version_id, int signature, char **ret_bytes,
			size_t *ret_len)
{
	/* called for every file a mount serves: the statement stays prepared */
	sqlite3_stmt **q = &st->q_bytes[signature ? 1 : 0];
	int r = 0;
	if (!*q && (r = prep(st, q, signature ? "SELECT signature FROM version_blob WHERE version_id = ?1"
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
		r = seterr(st, -ENOENT, "no bytes for version %lld", (long long)version_id);
	} else {
		r = sql_err(st, rc, "bytes");
	}
	/* ends the read transaction: a kept statement must not hold one */
	sqlite3_reset(s);
	return r;
}

int store_meta_get(struct store *st, const char *key, char **ret_value, size_t *ret_len)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT value FROM meta WHERE key = ?1");
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
		r = rc == SQLITE_DONE ? -ENOENT : sql_err(st, rc, "meta");
	}
	sqlite3_finalize(s);
	return r;
}

static int meta_set_tx(struct store *st, const char *key, const void *value, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, value ? "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"
				   : "DELETE FROM meta WHERE key = ?1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_blob64(s, 2, value, len, SQLITE_STATIC);
	if ((r = step_done(st, s, "meta")))
		return r;
	return log_change(st, "meta", key);
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
	int r = prep(st, &s, "SELECT value FROM meta WHERE key = 'ino_key'");
	if (r)
		return r;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32)
		memcpy(ret_key, sqlite3_column_blob(s, 0), 32);
	else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? seterr(st, -EILSEQ, "store has no key")
							  : sql_err(st, rc, "meta");
	sqlite3_finalize(s);
	return r;
}

/* ---- the world snapshot --------------------------------------------------------------------- */

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

static uint32_t idmap_get(const struct idmap *m, int64_t id)
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
static int idmap_build(struct world *w, const int64_t *ids, uint32_t n, uint32_t first,
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
#define ROW_SINK_FN "advisoryfs_row"
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
static int row_sink_register(sqlite3 *db)
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
static int scan_rows(sqlite3 *db, const char *sql, int nargs,
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

/* The integer of v, or dflt for NULL (SQL's open ends). */
static int64_t val_time(sqlite3_value *v, int64_t dflt)
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

static void vocab_init(struct vocab_memo *m, const struct policy *p, int roles)
{
	memset(m, 0, sizeof(*m));
	m->p = p;
	m->roles = roles;
}

/* The vocabulary index of the len bytes at s (SQLite's text, NUL after
 * them), as policy_role_index() or policy_sector_index() of s; -1 when
 * not in the vocabulary or s is NULL. */
static int vocab_index(struct vocab_memo *m, const unsigned char *s, int len)
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
	int r = prep(st, &s, sql);
	if (r)
		return r;
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, asof);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = (uint32_t)sqlite3_column_int64(s, 0);
	else
		r = sql_err(st, rc, "count");
	sqlite3_finalize(s);
	return r;
}

static int cmp_org_slug(const void *a, const void *b)
{
	return strcmp(((const struct w_org *)a)->slug, ((const struct w_org *)b)->slug);
}

/*
 * What load_orgs() reads, row by row (scan_rows()): the organisations,
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
	o->uid = val_time(v[3], -1);
	o->gid = val_time(v[4], -1);
	if (!o->slug || !o->name)
		return SQLITE_NOMEM;
	w->norgs++;
	return SQLITE_OK;
}

/* org_id, sector */
static int org_sector_row(void *arg, sqlite3_value **v)
{
	struct orgs_scan *os = arg;
	uint32_t oi = idmap_get(os->om, sqlite3_value_int64(v[0]));
	int si = vocab_index(&os->vocab, sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
	if (oi != W_NONE && si >= 0 && si < W_MAX_SECTORS)
		os->w->orgs[oi].sectors |= (uint64_t)1 << si;
	return SQLITE_OK;
}

/* org_id, role, from_t, until_t, ref */
static int org_role_row(void *arg, sqlite3_value **v)
{
	struct orgs_scan *os = arg;
	uint32_t oi = idmap_get(os->om, sqlite3_value_int64(v[0]));
	int ri = vocab_index(&os->vocab, sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
	if (oi == W_NONE || ri < 0)
		return SQLITE_OK;
	const char *ref = NULL;
	if (sqlite3_value_type(v[4]) != SQLITE_NULL) {
		const unsigned char *t = sqlite3_value_text(v[4]);
		if (!t || !(ref = pool_strn(os->w, t, sqlite3_value_bytes(v[4]))))
			return SQLITE_NOMEM;
	}
	return orgs_link_add(os, (struct org_link){ oi, (uint32_t)ri, val_time(v[2], AU_T_MIN),
						    val_time(v[3], AU_T_MAX), ref });
}

/* schakel_id, member_id, from_t, until_t */
static int membership_row(void *arg, sqlite3_value **v)
{
	struct orgs_scan *os = arg;
	uint32_t si = idmap_get(os->om, sqlite3_value_int64(v[0]));
	uint32_t mi = idmap_get(os->om, sqlite3_value_int64(v[1]));
	if (si == W_NONE || mi == W_NONE)
		return SQLITE_OK;
	return orgs_link_add(os, (struct org_link){ si, mi, val_time(v[2], AU_T_MIN),
						    val_time(v[3], AU_T_MAX), NULL });
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
	return rc == SQLITE_NOMEM ? -ENOMEM : sql_err(st, rc, what);
}

static int load_orgs(struct store *st, const struct policy *p, struct world *w, struct idmap *om)
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
	r = scan_err(st, scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, id, slug, name, uid, gid))"
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
	if ((r = idmap_build(w, ids, w->norgs - 1, 1, om)))
		goto out;

	vocab_init(&os.vocab, p, 0);
	r = scan_err(st, scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, org_id, sector))"
				   " FROM org_sector", 2, org_sector_row, &os), "sectors");
	if (r)
		goto out;

	/* roles (group_roles() puts each organisation's in name order) */
	vocab_init(&os.vocab, p, 1);
	r = scan_err(st, scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, org_id, role, from_t,"
				   " until_t, ref)) FROM org_role", 5, org_role_row, &os), "roles");
	if (r || (r = group_roles(w, p, &os)))
		goto out;

	/* memberships, in both directions */
	os.n = 0;
	r = scan_err(st, scan_rows(st->db, "SELECT count(" ROW_SINK_FN "(?1, schakel_id, member_id,"
				   " from_t, until_t)) FROM membership", 4, membership_row, &os),
		     "memberships");
	if (!r)
		r = group_members(w, &os);
out:
	free(os.row);
	free(ids);
	return r;
}

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
	x->embargo_until = val_time(v[7], AU_T_MIN);
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
	return scan_rows(db, vs->lean ? VERSION_SQL("") : VERSION_SQL(VERSION_SQL_MORE),
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
		int si = vocab_index(ls->sectors, sqlite3_value_text(v[1]), sqlite3_value_bytes(v[1]));
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
		vocab_init(&memo, sectors, 0);
	return scan_rows(db, sql, three ? 3 : 2, links_row, &ls);
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
	int rc = scan_rows(db, ADV_SQL, ADV_NARGS, ascan_row, as);
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
		rc = row_sink_register(db);
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
	if ((r = prep(st, &s, ADV_ORDER_SQL)))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < n) {
		uint32_t i = idmap_get(am, sqlite3_column_int64(s, 0));
		if (i != W_NONE)
			order[k++] = i;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		r = sql_err(st, rc, "advisories");
		goto out;
	}
	if (k != n) {
		/* the same read transaction: both scans see the same rows */
		r = seterr(st, -EIO, "advisories: the tracking id index disagrees with the table");
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
		uint32_t ai = idmap_get(keys, l->row[k].key);
		uint32_t oi = idmap_get(om, l->row[k].val);
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
		uint32_t i = idmap_get(am, x->adv_id);
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
			r = rc == SQLITE_NOMEM ? -ENOMEM : sql_err(st, rc, "advisories");
			goto out;
		}
	}
	if (as->n >= UINT32_MAX) {
		r = seterr(st, -EFBIG, "advisories: more than the world can hold");
		goto out;
	}
	n = (uint32_t)as->n;
	seq = malloc((n + 1) * sizeof(*seq));
	vid = malloc((n + 1) * sizeof(*vid));
	if (!seq || !vid) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = ascan_adopt(w, as)) || (r = idmap_build(w, as->ids, n, 0, &am)))
		goto out;
	/* (dropping the unreleased ones below keeps the order) */
	w->filenames_ordered = as->sorted && as->names_before;
	for (uint32_t i = 0; i < n; i++) {
		seq[i] = INT64_MIN; /* no version released by asof (yet) */
		vid[i] = 0;
	}

	/* withdrawals */
	if ((r = prep(st, &s, "SELECT advisory_id, at FROM withdrawal")))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint32_t i = idmap_get(&am, sqlite3_column_int64(s, 0));
		if (i != W_NONE)
			w->advs[i].withdrawn_at = sqlite3_column_int64(s, 1);
	}
	if (rc != SQLITE_DONE) {
		r = sql_err(st, rc, "withdrawals");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;

	/* the versions */
	if (!job_take(st, &ws->vj)) {
		vscan_release(&ws->v);
		if ((rc = vscan_run(st->db, &ws->v)) != SQLITE_DONE) {
			r = rc == SQLITE_NOMEM ? -ENOMEM : sql_err(st, rc, "versions");
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
	if ((r = idmap_build(w, vid, w->nadvs, 0, &vm)))
		goto out;

	/* sectors of the versions in force, concerned organisations, shares */
	for (size_t j = 0; j < as->sectors.n; j++) {
		uint32_t ai = idmap_get(&vm, as->sectors.row[j].key);
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
	if (own && (r = exec(st, "BEGIN")))
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
	r = load_orgs(st, p, w, &om);
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
		seterr(st, r, "out of memory loading the store");
	world_free(w);
	return r;
}

/* ---- change notification ------------------------------------------------------------------- */

int store_data_version(struct store *st, int64_t *ret_v)
{
	return pragma_int(st, "PRAGMA data_version", ret_v);
}

int store_change_seq(struct store *st, int64_t *ret_seq)
{
	return pragma_int(st, "SELECT coalesce(max(seq), 0) FROM change_log", ret_seq);
}

int store_next_release(struct store *st, int64_t t, int64_t *ret_t)
{
	sqlite3_stmt *s = NULL;
	int r = prep(st, &s, "SELECT min(current_release) FROM version WHERE current_release > ?1");
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, t);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_t = col_time(s, 0, AU_T_MAX);
	else
		r = sql_err(st, rc, "next release");
	sqlite3_finalize(s);
	return r;
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

/*
 * Add the current withdrawal and shares of every advisory that name names
 * (as `withdraw` and `share` resolve it) to ret.  -EAGAIN when it names
 * none.  0 or -errno.
 */
static int patch_add_name(struct store *st, const char *name, struct store_patch *ret)
{
	sqlite3_stmt *s = NULL, *q = NULL;
	int r, rc, found = 0;

	if ((r = prep(st, &s, "SELECT a.id, w.at FROM advisory a LEFT JOIN withdrawal w"
			      " ON w.advisory_id = a.id WHERE a.tracking_id = ?1 OR a.filename = ?1"
			      " OR a.filename = ?1 || '.json'")) ||
	    (r = prep(st, &q, "SELECT org_id, at FROM share WHERE advisory_id = ?1")))
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
		a->withdrawn_at = col_time(s, 1, AU_T_MAX);
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
			r = sql_err(st, rc, "share");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = sql_err(st, rc, "advisory");
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

	if ((r = prep(st, &s, "SELECT seq, kind, subject FROM change_log WHERE seq > ?1 ORDER BY seq")))
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
		r = sql_err(st, rc, "change_log");
	sqlite3_finalize(s);
	return r;
}

int store_patch_read(struct store *st, int64_t seq, size_t max, struct store_patch *ret)
{
	struct store_patch p = { 0, NULL, 0 };
	int own = !st->in_tx, r;

	/* one read transaction: the facts are those of the sequence returned */
	if (own && (r = exec(st, "BEGIN")))
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
