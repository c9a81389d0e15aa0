/*
 * store.h - the SQLite store of advisoryfs.
 *
 * One SQLite file holds organisations (dated roles, dated constituency
 * memberships, account bindings), advisories with every version's exact
 * bytes and hashes, distribution metadata, withdrawals, special-case
 * shares, the policies loaded over time, the disclosure ledger and a
 * change log.  Schema changes go through numbered migrations recorded in
 * PRAGMA user_version.  The connection runs in WAL mode with a busy
 * timeout and foreign keys on.
 *
 * Change notification: every committed change appends a row to change_log
 * in the same transaction.  A running mount polls PRAGMA data_version
 * (a memory read of the WAL index, no I/O when nothing changed) and, when
 * it moved, reads the change_log rows after the last sequence it saw.
 *
 * All functions return 0 or -errno; on failure they leave a one-line
 * message in the store (store_errmsg()).  A store handle is used by one
 * thread at a time.
 */
#ifndef ADVISORYFS_STORE_H
#define ADVISORYFS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "csaf.h"
#include "policy.h"
#include "world.h"

struct store;

/* Open flags. */
#define STORE_CREATE   1  /* create a new store; fails with -EEXIST if PATH exists */
#define STORE_RDONLY   2  /* read-only connection (mount readers) */

int store_open(const char *path, int flags, struct store **ret_st);
void store_close(struct store *st);
const char *store_errmsg(const struct store *st);
const char *store_path(const struct store *st);

/* Transactions (BEGIN IMMEDIATE ... COMMIT); nested calls are refused. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Savepoint around one document inside a transaction (import):
 * op 0 opens, 1 releases (keeps), 2 rolls back to it and releases. */
int store_savepoint(struct store *st, int op);

/* The store's 32-byte secret (made at init), for unguessable stable
 * inode numbers. */
int store_meta_key(struct store *st, unsigned char ret_key[32]);

/* Small named values kept in the store (meta table).  get: caller frees
 * *ret_value (NUL-terminated for convenience); -ENOENT when absent.
 * set: value NULL deletes.  Each set is logged as a change. */
int store_meta_get(struct store *st, const char *key, char **ret_value, size_t *ret_len);
int store_meta_set(struct store *st, const char *key, const void *value, size_t len);

/* ---- policy ---- */
/* Record and activate a policy (source text kept verbatim). */
int store_policy_add(struct store *st, const char *json, size_t len, const char *loaded_by,
		     int64_t at);
/* The compiled policy in force at t (the last one loaded at or before t,
 * else the first one ever loaded); AU_T_MAX for the active one.  The caller
 * frees it.  ret_source (optional) receives the text, caller frees. */
int store_policy_get(struct store *st, int64_t t, struct policy **ret_policy, char **ret_source,
		     int64_t *ret_policy_id);

/* ---- organisations ---- */
int store_org_add(struct store *st, const char *slug, const char *name, const char *const *sectors,
		  size_t nsectors, int64_t uid, int64_t gid);
int store_org_bind(struct store *st, const char *slug, int64_t uid, int64_t gid);
int store_org_role(struct store *st, const char *slug, const char *role, int64_t from,
		   int64_t until, const char *ref, int remove);
int store_org_member(struct store *st, const char *schakel, const char *member, int64_t from,
		     int64_t until, int remove);

/* ---- advisories ---- */
struct store_publish {
	const char *bytes;          /* the document, stored unchanged */
	size_t len;
	const char *signature;      /* .asc bytes or NULL */
	size_t siglen;
	struct csaf_dist dist;      /* from flags or .dist.json */
	const char *source;         /* file name, for messages */
};
/*
 * Validate and store one document inside the caller's transaction.
 * Returns 0; -EINVAL with a reason naming the rule for a refused document;
 * other -errno for store failures.  With ret_dup set, the exact same
 * version with the same bytes already stored is reported as *ret_dup = 1
 * and not an error (re-import of a received tree).
 */
int store_publish(struct store *st, const struct store_publish *pub, int *ret_dup);
int store_withdraw(struct store *st, const char *tracking_id, const char *reason, int64_t at);
int store_share(struct store *st, const char *tracking_id, const char *slug, const char *reason,
		int64_t at);

/* Bytes of a stored version (document or signature).  Caller frees. */
int store_version_bytes(struct store *st, int64_t version_id, int signature, char **ret_bytes,
			size_t *ret_len);

/* ---- snapshots for the policy engine ---- */
/* Build the world as of asof for policy p (see policy/world.h). */
int store_world_load(struct store *st, const struct policy *p, int64_t asof,
		     struct world **ret_world);

/* ---- change notification ---- */
/* PRAGMA data_version of this connection: changes when another connection commits. */
int store_data_version(struct store *st, int64_t *ret_v);
/* Highest change_log sequence number. */
int store_change_seq(struct store *st, int64_t *ret_seq);
/* The earliest current_release_date of any stored version after t (a
 * scheduled document or version becomes visible then), AU_T_MAX if none. */
int store_next_release(struct store *st, int64_t t, int64_t *ret_t);

#endif
