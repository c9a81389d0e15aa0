/*
 * ledger.c - the disclosure ledger: who received which advisory version,
 * when, under which rules, chained with SHA-256 (SPEC.md section 4).
 *
 * Each entry carries the hash of the entry before it and a hash over its
 * own fields in a canonical encoding (ledger_encode() below; docs/LEDGER.md
 * writes it out), so changing, inserting or deleting an entry anywhere
 * but at the end breaks the chain where it happened.  Cutting entries off
 * the end leaves a shorter, intact chain: checkpoints, the head signed
 * with the store's OpenPGP key, catch that for everything up to the last
 * checkpoint.
 *
 * This file keeps its own SQLite connection (struct store_ledger) rather
 * than borrowing struct store's: the mount writes the ledger from request
 * threads beside a read-only pool, and wants synchronous=FULL for it alone
 * (a ledger entry must be durable before the bytes it records are
 * returned; the rest of the store is content with NORMAL).  The schema is
 * migration 2 of store/store_schema.c.
 *
 * Sections: connection and errors; the canonical encoding; appending;
 * reading; checkpoints; verification.
 */
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "pgp.h"
#include "util.h"

#define LEDGER_APP_ID 0x41445653 /* "ADVS", as store.c */
#define LEDGER_SCHEMA 2          /* the migration that made the ledger */
#define LEDGER_SCHEMA_PEER 6     /* the migration that added ledger.peer */
#define LEDGER_BUSY_MS 10000

static const char ledger_domain[] = "advisoryfs ledger entry v1";
static const char ledger_domain_v2[] = "advisoryfs ledger entry v2";   /* with a peer */
static const char ledger_cp_domain[] = "advisoryfs ledger checkpoint v1";

struct store_ledger {
	sqlite3 *db;
	int rdonly;
	int has_peer;               /* the store has ledger.peer (schema 6 or later) */
	/* the statements of the append path, prepared once (writable only) */
	sqlite3_stmt *q_exists, *q_head, *q_insert;
	char err[512];
};

/* ---- connection and errors -------------------------------------------------------------- */

static int ledger_seterr(struct store_ledger *l, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a message and return rc (a -errno). */
static int ledger_seterr(struct store_ledger *l, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* Translate a SQLite result code (store_sqlite_errno) and keep SQLite's message. */
static int ledger_sql_err(struct store_ledger *l, int rc, const char *what)
{
	int e = store_sqlite_errno(rc);
	return ledger_seterr(l, e, "ledger: %s: %s", what,
			     l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
}

const char *store_ledger_errmsg(const struct store_ledger *l)
{
	return l->err;
}

static int ledger_prep(struct store_ledger *l, sqlite3_stmt **ret, const char *sql)
{
	int rc = sqlite3_prepare_v2(l->db, sql, -1, ret, NULL);
	return rc == SQLITE_OK ? 0 : ledger_sql_err(l, rc, "prepare");
}

static int ledger_exec(struct store_ledger *l, const char *sql)
{
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : ledger_sql_err(l, rc, sql);
}

/* One integer from a PRAGMA or a query. */
static int ledger_int(struct store_ledger *l, const char *sql, int64_t *ret)
{
	sqlite3_stmt *s = NULL;
	int r = ledger_prep(l, &s, sql);
	if (r)
		return r;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0);
	else
		r = ledger_sql_err(l, rc, sql);
	sqlite3_finalize(s);
	return r;
}

int store_ledger_open(const char *path, int flags, struct store_ledger **ret_l)
{
	struct store_ledger *l = calloc(1, sizeof(*l));
	int64_t app = 0, uv = 0;
	struct stat sb;
	int r, rc;

	if (!l)
		return -ENOMEM;
	*ret_l = l; /* for the message; the caller closes it */
	l->rdonly = (flags & STORE_RDONLY) != 0;
	if (stat(path, &sb) < 0)
		return ledger_seterr(l, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return ledger_seterr(l, -EINVAL, "%s: not a regular file", path);
	rc = sqlite3_open_v2(path, &l->db,
			     (l->rdonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		return ledger_sql_err(l, rc, path);
	sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS);
	sqlite3_extended_result_codes(l->db, 1);
	if ((r = ledger_int(l, "PRAGMA application_id", &app)) ||
	    (r = ledger_int(l, "PRAGMA user_version", &uv)))
		return r == -EILSEQ ? ledger_seterr(l, r, "%s: not an advisoryfs store", path) : r;
	if (app != LEDGER_APP_ID)
		return ledger_seterr(l, -EINVAL, "%s: not an advisoryfs store", path);
	if (uv < LEDGER_SCHEMA)
		return ledger_seterr(l, -EPROTO,
				     "%s: store schema version %lld has no ledger (run any "
				     "advisoryfs write command once to migrate)",
				     path, (long long)uv);
	l->has_peer = uv >= LEDGER_SCHEMA_PEER;
	if (l->rdonly)
		return 0;
	if (!l->has_peer)
		return ledger_seterr(l, -EPROTO,
				     "%s: store schema version %lld is older than this advisoryfs "
				     "(run any advisoryfs write command once to migrate)",
				     path, (long long)uv);
	/* SQLite opens a file it may not write read-only without a word */
	if (sqlite3_db_readonly(l->db, "main") == 1)
		return ledger_seterr(l, -EROFS, "%s: not writable: the disclosure ledger cannot "
				     "be written", path);
	if ((r = ledger_exec(l, "PRAGMA synchronous = FULL")) ||
	    (r = ledger_prep(l, &l->q_exists,
			     "SELECT seq FROM ledger WHERE recipient = ?1 AND tracking_id = ?2"
			     " AND version = ?3")) ||
	    (r = ledger_prep(l, &l->q_head,
			     "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")) ||
	    (r = ledger_prep(l, &l->q_insert,
			     "INSERT INTO ledger(seq, at, recipient, uid, tracking_id, version,"
			     " sha256, rules, prev_hash, hash, peer)"
			     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")))
		return r;
	return 0;
}

void store_ledger_close(struct store_ledger *l)
{
	if (!l)
		return;
	sqlite3_finalize(l->q_exists);
	sqlite3_finalize(l->q_head);
	sqlite3_finalize(l->q_insert);
	if (l->db)
		sqlite3_close(l->db);
	free(l);
}

/* ---- the canonical encoding ------------------------------------------------------------- */

/*
 * The hash input of an entry, fed to the digest field by field:
 *
 *   "advisoryfs ledger entry v1" NUL
 *   prev_hash (32 bytes)
 *   seq, at, uid: 8 bytes each, big-endian two's complement
 *   recipient, tracking_id, version: each a 4-byte big-endian length, then the bytes
 *   sha256 (32 bytes)
 *   rules: 4-byte length, then the bytes
 *
 * in the order prev_hash, seq, at, recipient, uid, tracking_id, version,
 * sha256, rules.  Fixed-size fields and length prefixes leave no two
 * entries with the same encoding.
 *
 * An entry with a peer (a read through `advisoryfs serve`: the SSH
 * connection's remote address) is encoded as v2: the domain
 * "advisoryfs ledger entry v2" NUL, the same fields, then peer as a 4-byte
 * length and its bytes.  An entry without one (a local mount's read) keeps
 * v1, so ledgers written before the field existed still verify; blanking
 * a peer changes the encoding's domain and so the hash.
 */
static int ledger_put(EVP_MD_CTX *c, const void *p, size_t n)
{
	return EVP_DigestUpdate(c, p, n) == 1 ? 0 : -EIO;
}

static int ledger_put_i64(EVP_MD_CTX *c, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	for (int i = 7; i >= 0; i--, u >>= 8)
		b[i] = (unsigned char)(u & 0xff);
	return ledger_put(c, b, sizeof(b));
}

static int ledger_put_str(EVP_MD_CTX *c, const char *s, size_t n)
{
	unsigned char b[4];
	if (n > UINT32_MAX)
		return -EOVERFLOW;
	b[0] = (unsigned char)(n >> 24);
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
	int r = ledger_put(c, b, sizeof(b));
	return r || !n ? r : ledger_put(c, s, n);
}

/* The hash with explicit string lengths (the verifier's strings come from
 * SQLite with their lengths). */
static int ledger_hash_n(const struct store_ledger_entry *e, size_t recipient_len,
			 size_t tracking_len, size_t version_len, size_t rules_len, size_t peer_len,
			 unsigned char ret_hash[STORE_LEDGER_HASH_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int len = 0;
	int r = -EIO;

	if (!c)
		return -ENOMEM;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto out;
	if ((r = peer_len ? ledger_put(c, ledger_domain_v2, sizeof(ledger_domain_v2))
			  : ledger_put(c, ledger_domain, sizeof(ledger_domain))) ||
	    (r = ledger_put(c, e->prev_hash, STORE_LEDGER_HASH_LEN)) ||
	    (r = ledger_put_i64(c, e->seq)) || (r = ledger_put_i64(c, e->at)) ||
	    (r = ledger_put_str(c, e->recipient, recipient_len)) ||
	    (r = ledger_put_i64(c, e->uid)) ||
	    (r = ledger_put_str(c, e->tracking_id, tracking_len)) ||
	    (r = ledger_put_str(c, e->version, version_len)) ||
	    (r = ledger_put(c, e->sha256, sizeof(e->sha256))) ||
	    (r = ledger_put_str(c, e->rules, rules_len)) ||
	    (peer_len && (r = ledger_put_str(c, e->peer, peer_len))))
		goto out;
	r = EVP_DigestFinal_ex(c, ret_hash, &len) == 1 && len == STORE_LEDGER_HASH_LEN ? 0 : -EIO;
out:
	EVP_MD_CTX_free(c);
	return r;
}

int store_ledger_hash(const struct store_ledger_entry *e,
		      unsigned char ret_hash[STORE_LEDGER_HASH_LEN])
{
	return ledger_hash_n(e, strlen(e->recipient), strlen(e->tracking_id), strlen(e->version),
			     strlen(e->rules), e->peer ? strlen(e->peer) : 0, ret_hash);
}

/* ---- appending -------------------------------------------------------------------------- */

/* The body of store_ledger_record(), inside its transaction. */
static int ledger_append_tx(struct store_ledger *l, struct store_ledger_entry *e, int *ret_new)
{
	int rc, r;

	sqlite3_bind_text(l->q_exists, 1, e->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->q_exists, 2, e->tracking_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->q_exists, 3, e->version, -1, SQLITE_STATIC);
	rc = sqlite3_step(l->q_exists);
	if (rc == SQLITE_ROW) {
		*ret_new = 0;
		return 0;
	}
	if (rc != SQLITE_DONE)
		return ledger_sql_err(l, rc, "lookup");

	memset(e->prev_hash, 0, sizeof(e->prev_hash));
	e->seq = 1;
	rc = sqlite3_step(l->q_head);
	if (rc == SQLITE_ROW) {
		int64_t head = sqlite3_column_int64(l->q_head, 0);
		if (sqlite3_column_type(l->q_head, 1) != SQLITE_BLOB ||
		    sqlite3_column_bytes(l->q_head, 1) != STORE_LEDGER_HASH_LEN)
			return ledger_seterr(l, -EILSEQ, "ledger: the hash of seq %lld (the head) "
					     "is malformed; run 'advisoryfs audit --verify'",
					     (long long)head);
		memcpy(e->prev_hash, sqlite3_column_blob(l->q_head, 1), STORE_LEDGER_HASH_LEN);
		e->seq = head + 1;
	} else if (rc != SQLITE_DONE) {
		return ledger_sql_err(l, rc, "head");
	}
	if ((r = store_ledger_hash(e, e->hash)))
		return ledger_seterr(l, r, "ledger: SHA-256 failed (OpenSSL)");

	sqlite3_stmt *s = l->q_insert;
	sqlite3_bind_int64(s, 1, e->seq);
	sqlite3_bind_int64(s, 2, e->at);
	sqlite3_bind_text(s, 3, e->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, e->uid);
	sqlite3_bind_text(s, 5, e->tracking_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, e->version, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, e->sha256, sizeof(e->sha256), SQLITE_STATIC);
	sqlite3_bind_text(s, 8, e->rules, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 9, e->prev_hash, STORE_LEDGER_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 10, e->hash, STORE_LEDGER_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, e->peer ? e->peer : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		return ledger_sql_err(l, rc, "insert");
	*ret_new = 1;
	return 0;
}

static void ledger_reset(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int store_ledger_record(struct store_ledger *l, struct store_ledger_entry *e, int *ret_new)
{
	int isnew = 0, r;

	if (l->rdonly)
		return ledger_seterr(l, -EROFS, "ledger: opened read-only");
	if ((r = ledger_exec(l, "BEGIN IMMEDIATE")))
		return r;
	r = ledger_append_tx(l, e, &isnew);
	ledger_reset(l->q_exists);
	ledger_reset(l->q_head);
	ledger_reset(l->q_insert);
	if (!r)
		r = ledger_exec(l, "COMMIT");
	if (r) {
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	*ret_new = isnew;
	return 0;
}

/* ---- reading ---------------------------------------------------------------------------- */

int store_ledger_disclosed(struct store_ledger *l,
			   int (*fn)(void *arg, int64_t org_id, int64_t version_id), void *arg)
{
	sqlite3_stmt *s = NULL;
	int r = ledger_prep(l, &s,
			    "SELECT CASE WHEN l.recipient = 'public' THEN 0 ELSE o.id END, v.id"
			    " FROM ledger l JOIN advisory a ON a.tracking_id = l.tracking_id"
			    " JOIN version v ON v.advisory_id = a.id AND v.version = l.version"
			    " LEFT JOIN org o ON o.slug = l.recipient"
			    " WHERE l.recipient = 'public' OR o.id IS NOT NULL");
	int rc;
	if (r)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1))))
			break;
	if (!r && rc != SQLITE_DONE)
		r = ledger_sql_err(l, rc, "disclosed");
	sqlite3_finalize(s);
	return r;
}

#define LEDGER_COLUMNS \
	"seq, at, recipient, uid, tracking_id, version, sha256, rules, prev_hash, hash"
/* the peer, as column 10: a store older than schema 6 has none */
#define LEDGER_PEER(l) ((l)->has_peer ? ", peer" : ", ''")

/* Copy a blob column of n bytes into out; zeros when it has another size. */
static void ledger_col_blob(sqlite3_stmt *s, int i, unsigned char *out, size_t n)
{
	if (sqlite3_column_type(s, i) == SQLITE_BLOB && (size_t)sqlite3_column_bytes(s, i) == n)
		memcpy(out, sqlite3_column_blob(s, i), n);
	else
		memset(out, 0, n);
}

static const char *ledger_col_text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? t : "";
}

/* A row of LEDGER_COLUMNS into *e (strings point into the statement). */
static void ledger_row(sqlite3_stmt *s, struct store_ledger_entry *e)
{
	e->seq = sqlite3_column_int64(s, 0);
	e->at = sqlite3_column_int64(s, 1);
	e->recipient = ledger_col_text(s, 2);
	e->uid = sqlite3_column_int64(s, 3);
	e->tracking_id = ledger_col_text(s, 4);
	e->version = ledger_col_text(s, 5);
	ledger_col_blob(s, 6, e->sha256, sizeof(e->sha256));
	e->rules = ledger_col_text(s, 7);
	ledger_col_blob(s, 8, e->prev_hash, STORE_LEDGER_HASH_LEN);
	ledger_col_blob(s, 9, e->hash, STORE_LEDGER_HASH_LEN);
	e->peer = ledger_col_text(s, 10);
}

int store_ledger_each(struct store_ledger *l, const struct store_ledger_filter *f,
		      int (*fn)(void *arg, const struct store_ledger_entry *e), void *arg)
{
	sqlite3_stmt *s = NULL;
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT " LEDGER_COLUMNS "%s FROM ledger"
		 " WHERE (?1 IS NULL OR recipient = ?1) AND (?2 IS NULL OR tracking_id = ?2)"
		 " AND at >= ?3 ORDER BY seq", LEDGER_PEER(l));
	int r = ledger_prep(l, &s, sql);
	int rc;
	if (r)
		return r;
	if (f && f->recipient)
		sqlite3_bind_text(s, 1, f->recipient, -1, SQLITE_STATIC);
	if (f && f->tracking_id)
		sqlite3_bind_text(s, 2, f->tracking_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, f ? f->since : AU_T_MIN);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_ledger_entry e;
		ledger_row(s, &e);
		if ((r = fn(arg, &e)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = ledger_sql_err(l, rc, "list");
	sqlite3_finalize(s);
	return r;
}

int store_ledger_head(struct store_ledger *l, int64_t *ret_seq,
		      unsigned char ret_hash[STORE_LEDGER_HASH_LEN])
{
	sqlite3_stmt *s = NULL;
	int r = ledger_prep(l, &s, "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1");
	if (r)
		return r;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_seq = sqlite3_column_int64(s, 0);
		ledger_col_blob(s, 1, ret_hash, STORE_LEDGER_HASH_LEN);
	} else if (rc == SQLITE_DONE) {
		*ret_seq = 0;
		memset(ret_hash, 0, STORE_LEDGER_HASH_LEN);
	} else {
		r = ledger_sql_err(l, rc, "head");
	}
	sqlite3_finalize(s);
	return r;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

size_t store_ledger_statement(int64_t seq, const unsigned char hash[STORE_LEDGER_HASH_LEN],
			      int64_t at, char *buf, size_t buflen)
{
	char hex[2 * STORE_LEDGER_HASH_LEN + 1], t[AU_TIME_LEN];
	au_hex(hash, STORE_LEDGER_HASH_LEN, hex);
	au_format_time(at, t);
	int n = snprintf(buf, buflen, "%s\nseq %lld\nhash %s\nat %s\n", ledger_cp_domain,
			 (long long)seq, hex, t);
	return n < 0 ? 0 : (size_t)n;
}

int store_ledger_checkpoint_add(struct store_ledger *l, int64_t seq,
				const unsigned char hash[STORE_LEDGER_HASH_LEN], int64_t at,
				const char *signer_fpr, const char *signature)
{
	sqlite3_stmt *s = NULL;
	int r = ledger_prep(l, &s,
			    "INSERT INTO ledger_checkpoint(seq, at, hash, signer, signature)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)");
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, at);
	sqlite3_bind_blob(s, 3, hash, STORE_LEDGER_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, signer_fpr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, signature, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		r = (rc & 0xff) == SQLITE_CONSTRAINT
			    ? ledger_seterr(l, -EEXIST, "ledger: seq %lld has a checkpoint already",
					    (long long)seq)
			    : ledger_sql_err(l, rc, "checkpoint");
	sqlite3_finalize(s);
	return r;
}

/* ---- verification ----------------------------------------------------------------------- */

/* Whether column i holds what the schema says; the verifier refuses a
 * value SQLite would silently convert (a REAL uid hashes like an integer). */
static int ledger_col_is(sqlite3_stmt *s, int i, int type, int bytes)
{
	return sqlite3_column_type(s, i) == type &&
	       (bytes < 0 || sqlite3_column_bytes(s, i) == bytes);
}

/* Check one row against the one before it; a message naming it on failure. */
static int ledger_check_row(struct store_ledger *l, sqlite3_stmt *s, int64_t n, int64_t prev_seq,
			    const unsigned char prev_hash[STORE_LEDGER_HASH_LEN])
{
	static const char *const names[] = { "seq", "at", "recipient", "uid", "tracking_id",
					     "version", "sha256", "rules", "prev_hash", "hash",
					     "peer" };
	static const int types[] = { SQLITE_INTEGER, SQLITE_INTEGER, SQLITE_TEXT, SQLITE_INTEGER,
				     SQLITE_TEXT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_TEXT,
				     SQLITE_BLOB, SQLITE_BLOB, SQLITE_TEXT };
	static const int sizes[] = { -1, -1, -1, -1, -1, -1, 32, -1, 32, 32, -1 };
	struct store_ledger_entry e;
	unsigned char h[STORE_LEDGER_HASH_LEN];
	int64_t seq = sqlite3_column_int64(s, 0);
	int r;

	if (seq != prev_seq + 1) {
		if (prev_seq == 0)
			return ledger_seterr(l, -EBADMSG, "entry seq 1 is missing: the ledger "
					     "starts at seq %lld", (long long)seq);
		return ledger_seterr(l, -EBADMSG, "entry after seq %lld is missing: seq %lld "
				     "follows %lld", (long long)prev_seq, (long long)seq,
				     (long long)prev_seq);
	}
	for (int i = 0; i < 11; i++)
		if (!ledger_col_is(s, i, types[i], sizes[i]))
			return ledger_seterr(l, -EBADMSG, "entry %lld (seq %lld): %s is malformed",
					     (long long)n, (long long)seq, names[i]);
	ledger_row(s, &e);
	r = ledger_hash_n(&e, (size_t)sqlite3_column_bytes(s, 2), (size_t)sqlite3_column_bytes(s, 4),
			  (size_t)sqlite3_column_bytes(s, 5), (size_t)sqlite3_column_bytes(s, 7),
			  (size_t)sqlite3_column_bytes(s, 10), h);
	if (r)
		return ledger_seterr(l, r, "SHA-256 failed (OpenSSL)");
	if (memcmp(h, e.hash, sizeof(h)) != 0)
		return ledger_seterr(l, -EBADMSG, "entry %lld (seq %lld): hash does not match its "
				     "fields", (long long)n, (long long)seq);
	if (memcmp(e.prev_hash, prev_hash, STORE_LEDGER_HASH_LEN) != 0) {
		if (prev_seq == 0)
			return ledger_seterr(l, -EBADMSG, "entry %lld (seq %lld): the first entry's "
					     "previous hash is not zero", (long long)n,
					     (long long)seq);
		return ledger_seterr(l, -EBADMSG, "entry %lld (seq %lld): previous hash does not "
				     "match the hash of seq %lld", (long long)n, (long long)seq,
				     (long long)prev_seq);
	}
	return 0;
}

/* The chain from seq 1 to the head. */
static int ledger_verify_chain(struct store_ledger *l, struct store_ledger_report *rep)
{
	sqlite3_stmt *s = NULL;
	unsigned char prev[STORE_LEDGER_HASH_LEN] = { 0 };
	int64_t n = 0, prev_seq = 0;
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT " LEDGER_COLUMNS "%s FROM ledger ORDER BY seq",
		 LEDGER_PEER(l));
	int r = ledger_prep(l, &s, sql);
	int rc;
	if (r)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		if ((r = ledger_check_row(l, s, n, prev_seq, prev)))
			break;
		prev_seq = sqlite3_column_int64(s, 0);
		memcpy(prev, sqlite3_column_blob(s, 9), sizeof(prev));
	}
	if (!r && rc != SQLITE_DONE)
		r = ledger_sql_err(l, rc, "verify");
	sqlite3_finalize(s);
	if (!r) {
		rep->entries = n;
		rep->head_seq = prev_seq;
		memcpy(rep->head_hash, prev, sizeof(prev));
	}
	return r;
}

/* The store's signing key (public part) from its meta values, or NULL
 * with -ENOENT when the store has none. */
static int ledger_signing_key(struct store_ledger *l, struct pgp_key **ret_key)
{
	sqlite3_stmt *s = NULL;
	int r = ledger_prep(l, &s, "SELECT value FROM meta WHERE key = 'signing_pubkey'");
	if (r)
		return r;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		r = pgp_key_from_public((const char *)sqlite3_column_blob(s, 0),
					(size_t)sqlite3_column_bytes(s, 0), ret_key);
		if (r)
			ledger_seterr(l, r, "the store's signing key does not parse: %s",
				      pgp_strerror(r));
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : ledger_sql_err(l, rc, "meta");
	}
	sqlite3_finalize(s);
	return r;
}

/* Every checkpoint: a head of the (verified) chain, signed. */
static int ledger_verify_checkpoints(struct store_ledger *l, const char *signer,
				     struct store_ledger_report *rep)
{
	sqlite3_stmt *s = NULL, *h = NULL;
	struct pgp_key *key = NULL;
	char fpr[PGP_FPR_HEX_LEN] = "";
	int r, rc, have_key = 0;

	if ((r = ledger_prep(l, &s, "SELECT seq, at, hash, signer, signature FROM "
				    "ledger_checkpoint ORDER BY seq")) ||
	    (r = ledger_prep(l, &h, "SELECT hash FROM ledger WHERE seq = ?1")))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0), at = sqlite3_column_int64(s, 1);
		unsigned char hash[STORE_LEDGER_HASH_LEN];
		char stmt[STORE_LEDGER_STATEMENT_MAX];
		const char *by = ledger_col_text(s, 3);

		if (!ledger_col_is(s, 2, SQLITE_BLOB, STORE_LEDGER_HASH_LEN) ||
		    !ledger_col_is(s, 3, SQLITE_TEXT, -1) || !ledger_col_is(s, 4, SQLITE_TEXT, -1)) {
			r = ledger_seterr(l, -EBADMSG, "checkpoint at seq %lld: malformed",
					  (long long)seq);
			break;
		}
		memcpy(hash, sqlite3_column_blob(s, 2), sizeof(hash));
		if (seq < 1 || seq > rep->head_seq) {
			r = ledger_seterr(l, -EBADMSG, "checkpoint at seq %lld: entry seq %lld is "
					  "missing: the ledger was cut short (it ends at seq %lld)",
					  (long long)seq, (long long)seq, (long long)rep->head_seq);
			break;
		}
		sqlite3_bind_int64(h, 1, seq);
		rc = sqlite3_step(h);
		int same = rc == SQLITE_ROW && ledger_col_is(h, 0, SQLITE_BLOB, STORE_LEDGER_HASH_LEN) &&
			   memcmp(sqlite3_column_blob(h, 0), hash, sizeof(hash)) == 0;
		sqlite3_reset(h);
		if (!same) {
			r = ledger_seterr(l, -EBADMSG, "checkpoint at seq %lld: the entry at seq %lld "
					  "is not the one that was signed", (long long)seq,
					  (long long)seq);
			break;
		}
		if (!have_key) {
			r = ledger_signing_key(l, &key);
			if (r == -ENOENT)
				r = ledger_seterr(l, -EBADMSG, "checkpoint at seq %lld: the store has "
						  "no signing key to check it with", (long long)seq);
			if (r)
				break;
			pgp_fingerprint_hex(key, fpr);
			have_key = 1;
			if (signer && strcasecmp(signer, fpr) != 0) {
				r = ledger_seterr(l, -EBADMSG, "the store's signing key is %s, not %s",
						  fpr, signer);
				break;
			}
		}
		if (strcasecmp(by, fpr) != 0) {
			r = ledger_seterr(l, -EBADMSG, "checkpoint at seq %lld: signed by %s, not by "
					  "the store's signing key %s", (long long)seq, by, fpr);
			break;
		}
		size_t n = store_ledger_statement(seq, hash, at, stmt, sizeof(stmt));
		if (!n || n >= sizeof(stmt) ||
		    pgp_verify_detached(key, stmt, n, ledger_col_text(s, 4),
					(size_t)sqlite3_column_bytes(s, 4), NULL) != 0) {
			r = ledger_seterr(l, -EBADMSG, "checkpoint at seq %lld: the signature does "
					  "not verify", (long long)seq);
			break;
		}
		rep->checkpoints++;
		rep->checkpoint_seq = seq;
	}
	if (!r && rc != SQLITE_DONE)
		r = ledger_sql_err(l, rc, "checkpoints");
	if (!r && rep->checkpoints)
		snprintf(rep->signer, sizeof(rep->signer), "%s", fpr);
out:
	pgp_key_free(key);
	sqlite3_finalize(h);
	sqlite3_finalize(s);
	return r;
}

int store_ledger_verify(struct store_ledger *l, const char *signer,
			struct store_ledger_report *ret)
{
	struct store_ledger_report rep;
	int r;

	memset(&rep, 0, sizeof(rep));
	/* one read transaction: a writer appending meanwhile is not seen halfway */
	if ((r = ledger_exec(l, "BEGIN")))
		return r;
	r = ledger_verify_chain(l, &rep);
	if (!r)
		r = ledger_verify_checkpoints(l, signer, &rep);
	sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
	if (!r && ret)
		*ret = rep;
	return r;
}
