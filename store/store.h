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
/* The one translation of a SQLite result code into -errno (store.c and
 * ledger.c): BUSY/LOCKED -EBUSY, FULL -ENOSPC, READONLY -EROFS, ... */
int store_sqlite_errno(int rc);
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

/* The meta values naming the store's OpenPGP signing key: the key file
 * (absolute path), its fingerprint (40 uppercase hex digits) and the
 * armoured public key that views serve under openpgp/ (cli_key.c). */
#define STORE_META_SIGNING_PATH   "signing_key_path"
#define STORE_META_SIGNING_FPR    "signing_fpr"
#define STORE_META_SIGNING_PUBKEY "signing_pubkey"

/*
 * Sign data with the store's key (store_sign.c): the meta values
 * STORE_META_SIGNING_PATH and _FPR (written by 'advisoryfs key generate')
 * name the key file and its fingerprint.  Returns -ENOENT when the store
 * has no signing key (publish then serves no .asc); 0 with an allocated
 * armoured signature in *ret_asc otherwise.  A key that cannot be used is
 * an error, never a silent skip: -ENOKEY when the key file is missing or
 * holds another key than the fingerprint; pgp_key_load()'s errors (-EPERM
 * unsafe mode or owner, -ELOOP, -EACCES, -EBADMSG); a failing store read
 * as store_meta_get() returns it.  pgp_strerror() words them all.  The key
 * is loaded once per process and cached (guarded by a mutex; loaded again
 * if the store names another file); the store is read on every call, so
 * 'key forget' takes effect at once.
 */
int store_sign(struct store *st, const char *data, size_t len, char **ret_asc, size_t *ret_len);

/* ---- policy ---- */
/* Record and activate a policy (source text kept verbatim), loaded at at.
 * Refused (-EINVAL, naming them) when it does not declare every role and
 * sector the store uses. */
int store_policy_add(struct store *st, const char *json, size_t len, const char *loaded_by,
		     int64_t at);
/* The same, to take effect at effective (AU_T_MIN: at once).  Before
 * that moment the policy in force stays; a moment before at is refused
 * (-EINVAL).  Logged as a change when it is loaded, not when it takes
 * effect: a mount switches at the time boundary store_policy_next() gives. */
int store_policy_schedule(struct store *st, const char *json, size_t len, const char *loaded_by,
			  int64_t at, int64_t effective);
/* The earliest moment after t at which a scheduled policy takes effect,
 * AU_T_MAX if none. */
int store_policy_next(struct store *st, int64_t t, int64_t *ret_t);
/* Every policy ever loaded, in load order (the strings live until fn
 * returns).  Stops at and returns fn's first non-zero result. */
struct store_policy_row {
	int64_t id;
	int64_t loaded_at;
	const char *loaded_by;
	int64_t effective_at;       /* when it takes (or took) effect */
	int scheduled;              /* loaded with --effective */
	const char *source;
	size_t source_len;
	const unsigned char *sha256;
};
int store_policy_each(struct store *st,
		      int (*fn)(void *arg, const struct store_policy_row *row), void *arg);
/* The compiled policy in force at t: the one that took effect last at or
 * before t (of two that took effect at the same moment, the later loaded;
 * a policy loaded without --effective takes effect when it is loaded),
 * else the first ever to take effect; AU_T_MAX for the last to take
 * effect (the vocabulary of the checks).  The caller frees it.
 * ret_source (optional) receives the text, caller frees. */
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

/* ---- client certificates (store_cert.c) ---- */
/*
 * TLS client certificates bound to organisations, for the HTTPS provider
 * (docs/HTTPS.md).  A certificate (its SHA-256 over the DER bytes) is
 * bound to at most one organisation.  These writes append no change_log
 * row: they change no view, so a mount does not reload for them; what
 * follows them (`provider nginx-map --watch`) polls store_data_version().
 */
struct store_cert {
	unsigned char sha256[32];
	unsigned char sha1[20];     /* what nginx's $ssl_client_fingerprint shows */
	const char *slug;           /* the organisation it is bound to (list only) */
	const char *subject;        /* RFC 2253 */
	int64_t not_before, not_after, added;
};
/* Bind c to slug.  0 (also when it is bound to slug already); -ENOENT no
 * such organisation; -EEXIST bound to another organisation, or another
 * certificate has the same SHA-1; -E2BIG subject over 512 bytes. */
int store_cert_add(struct store *st, const char *slug, const struct store_cert *c);
/* Unbind the certificate with this SHA-256 from slug; -ENOENT when slug
 * has none such. */
int store_cert_remove(struct store *st, const char *slug, const unsigned char sha256[32]);
/* Call fn for every bound certificate, by slug then SHA-256, in one read
 * transaction; the strings live until fn returns.  Stops at and returns
 * fn's first non-zero result. */
int store_cert_list(struct store *st, int (*fn)(void *arg, const struct store_cert *c),
		    void *arg);

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

/* The moment version of tracking_id becomes visible to anyone at all:
 * the latest of its initial and current release dates and its embargo's
 * end (`publish --dry-run` decides its recipients then).  -ENOENT when
 * that version is not stored (message in the store). */
int store_version_release(struct store *st, const char *tracking_id, const char *version,
			  int64_t *ret_t);

/* Bytes of a stored version (document or signature).  Caller frees. */
int store_version_bytes(struct store *st, int64_t version_id, int signature, char **ret_bytes,
			size_t *ret_len);

/* ---- snapshots for the policy engine ---- */
/*
 * Build the world as of asof for policy p (see policy/world.h), in one read
 * transaction (or in the caller's).  Outside a caller's transaction, two
 * scans run in two threads of their own, each on a read-only connection of
 * its own, joined before it returns.  The caller owns *ret_world
 * (world_free()).  0 or -errno with the message in the store.
 */
int store_world_load(struct store *st, const struct policy *p, int64_t asof,
		     struct world **ret_world);
/*
 * The same, with flags: STORE_WORLD_LEAN leaves out what neither a
 * decision nor a path needs: each advisory's version string and title
 * are "", its size 0 and its hashes zero (`visible` without --json).
 */
#define STORE_WORLD_LEAN 1
int store_world_load_opts(struct store *st, const struct policy *p, int64_t asof, unsigned flags,
			  struct world **ret_world);

/* ---- change notification ---- */
/* PRAGMA data_version of this connection: changes when another connection commits. */
int store_data_version(struct store *st, int64_t *ret_v);
/* Highest change_log sequence number. */
int store_change_seq(struct store *st, int64_t *ret_seq);
/* The earliest current_release_date of any stored version after t (a
 * scheduled document or version becomes visible then), AU_T_MAX if none. */
int store_next_release(struct store *st, int64_t t, int64_t *ret_t);

/*
 * What the changes logged after a sequence did, when a loaded world can
 * take them without being loaded again: every change is a withdrawal or a
 * special-case share.  For each advisory they name, its withdrawal and
 * all its shares as the store has them now.
 */
struct store_patch_share {
	int64_t org_id;
	int64_t at;
};
struct store_patch_adv {
	int64_t adv_id;             /* advisory row id */
	int64_t withdrawn_at;       /* AU_T_MAX: not withdrawn */
	struct store_patch_share *shares;   /* in no particular order */
	size_t nshares;
};
struct store_patch {
	int64_t seq;                /* the change sequence these facts are at */
	struct store_patch_adv *advs;   /* an advisory may come more than once */
	size_t n;
};
/*
 * Read, in one read transaction, the changes logged after seq.  0 with
 * *ret filled (the caller frees it with store_patch_free()); -EAGAIN when
 * some change is of another kind, names no advisory or there are more
 * than max (load the world anew); other -errno (message in the store).
 */
int store_patch_read(struct store *st, int64_t seq, size_t max, struct store_patch *ret);
void store_patch_free(struct store_patch *p);
/*
 * Apply p to w, a world_derive() copy: each advisory's withdrawal and
 * shares as p has them.  0; -EAGAIN when a share names an organisation w
 * does not know or the shares do not fit (load the world anew); -ENOMEM.
 */
int store_patch_apply(struct world *w, const struct store_patch *p);

/* ---- the disclosure ledger (store/ledger.c) ---- */
/*
 * An append-only, hash-chained record of the first disclosure of each
 * advisory version to each recipient (SPEC.md section 4; docs/LEDGER.md
 * gives the canonical encoding that store_ledger_hash() implements).
 *
 * The ledger has its own connection to the store file, apart from struct
 * store: a mount keeps one writable ledger connection beside its read-only
 * pool, with synchronous=FULL, so that an entry is on disk before the bytes
 * it records leave.  Ledger writes append no change_log row (they change no
 * view; a mount's watcher must not reload for them).  A handle is used by
 * one thread at a time.  Functions return 0 or -errno and leave a one-line
 * message (store_ledger_errmsg()).
 */
struct store_ledger;

#define STORE_LEDGER_HASH_LEN 32

struct store_ledger_entry {
	int64_t seq;                /* 1, 2, ...: the position in the chain */
	int64_t at;                 /* when (seconds since the epoch, UTC) */
	const char *recipient;      /* organisation slug, or "public" */
	int64_t uid;                /* the account that read */
	const char *tracking_id;
	const char *version;        /* tracking.version */
	unsigned char sha256[32];   /* of the bytes disclosed */
	const char *rules;          /* ids of the determining rules, joined with "," */
	const char *peer;           /* the SSH connection's remote address of a read
				     * through `advisoryfs serve`; "" or NULL: a local read */
	unsigned char prev_hash[STORE_LEDGER_HASH_LEN];  /* entry seq-1's hash; zeros for seq 1 */
	unsigned char hash[STORE_LEDGER_HASH_LEN];       /* store_ledger_hash() of this entry */
};

/* Open the ledger of the store at path (flags: 0 or STORE_RDONLY).  The
 * store must be at schema version 2 or later (any write command, or a
 * mount, migrates it).  On failure *ret_l is set when there is a message
 * to read; the caller closes it. */
int store_ledger_open(const char *path, int flags, struct store_ledger **ret_l);
void store_ledger_close(struct store_ledger *l);
const char *store_ledger_errmsg(const struct store_ledger *l);

/* The hash of e: SHA-256 over its canonical encoding (every field but
 * hash, prev_hash included; v2 with the peer when it has one).  -EIO if
 * OpenSSL fails. */
int store_ledger_hash(const struct store_ledger_entry *e,
		      unsigned char ret_hash[STORE_LEDGER_HASH_LEN]);

/*
 * Append e unless (recipient, tracking_id, version) is already recorded,
 * in one BEGIN IMMEDIATE transaction (so several processes may write):
 * fills e->seq, e->prev_hash and e->hash from the chain's head.  *ret_new
 * is 1 when appended, 0 when it was there already.  Returns 0 or -errno
 * (then nothing was written).
 */
int store_ledger_record(struct store_ledger *l, struct store_ledger_entry *e, int *ret_new);

/* Call fn for each recorded (organisation row id, version row id) pair;
 * the public pseudo-recipient is organisation 0.  Stops at and returns
 * fn's first non-zero result. */
int store_ledger_disclosed(struct store_ledger *l,
			   int (*fn)(void *arg, int64_t org_id, int64_t version_id), void *arg);

/* Entries in seq order, optionally only one recipient's, one advisory's,
 * or those at or after since (AU_T_MIN: all).  The strings live until fn
 * returns.  Stops at and returns fn's first non-zero result. */
struct store_ledger_filter {
	const char *recipient;      /* NULL: any */
	const char *tracking_id;    /* NULL: any */
	int64_t since;
};
int store_ledger_each(struct store_ledger *l, const struct store_ledger_filter *f,
		      int (*fn)(void *arg, const struct store_ledger_entry *e), void *arg);

/* The head of the chain: its seq (0 when empty) and hash (zeros when empty). */
int store_ledger_head(struct store_ledger *l, int64_t *ret_seq,
		      unsigned char ret_hash[STORE_LEDGER_HASH_LEN]);

/*
 * Checkpoints: the head (seq, hash) at a moment, signed with the store's
 * OpenPGP key (`advisoryfs key`), so that cutting entries off the end of
 * the ledger shows.  store_ledger_statement() writes the exact text that
 * is signed into buf and returns its length (or the length it needs,
 * snprintf-style).
 */
#define STORE_LEDGER_STATEMENT_MAX 256
size_t store_ledger_statement(int64_t seq, const unsigned char hash[STORE_LEDGER_HASH_LEN],
			      int64_t at, char *buf, size_t buflen);
/* Record a checkpoint; -EEXIST when that head already has one. */
int store_ledger_checkpoint_add(struct store_ledger *l, int64_t seq,
				const unsigned char hash[STORE_LEDGER_HASH_LEN], int64_t at,
				const char *signer_fpr, const char *signature);

/*
 * Check the whole chain, then every checkpoint.  Returns 0 when intact;
 * -EBADMSG naming the first bad entry or checkpoint in the message
 * ("entry 17 (seq 17): hash does not match its fields", "entry after seq
 * 16 is missing: seq 18 follows 16", "checkpoint at seq 40: entry seq 40
 * is missing: the ledger was cut short"); other -errno when it could not
 * be read.  With signer (40 hex digits), checkpoints must be signed by that
 * key.  *ret (optional) says what was checked.
 */
struct store_ledger_report {
	int64_t entries;
	int64_t head_seq;
	unsigned char head_hash[STORE_LEDGER_HASH_LEN];
	int64_t checkpoints;
	int64_t checkpoint_seq;     /* the last checkpoint's seq, 0 if none */
	char signer[41];            /* fingerprint that signed them, "" if none */
};
int store_ledger_verify(struct store_ledger *l, const char *signer,
			struct store_ledger_report *ret);

#endif
