/*
 * mount_ledger.c - the disclosure ledger as the mount writes it.
 *
 * The first read of each advisory version by each recipient is written
 * to the ledger (store/ledger.c) before the read returns, so before any
 * byte of it leaves; when the entry cannot be written the read fails
 * with EIO (SPEC.md section 4).  Later reads need no entry: a set of the
 * (recipient, version) pairs already recorded, loaded when the mount
 * starts, answers them from memory, and the kernel's page cache serves
 * most of them without asking (mount_ops.c).
 *
 * Only documents (<name>.json) count.  .sha256, .sha512 and .asc hold a
 * hash of the document or a signature over it, index.txt and changes.csv
 * file names and dates, provider-metadata.json and openpgp/ the
 * publisher's details: none discloses an advisory's content.
 *
 * One writable connection, opened after the daemon forks (a SQLite
 * connection must not cross fork()), serialised by write_lock and held
 * across one BEGIN IMMEDIATE transaction; the set has its own lock, taken
 * for a few instructions, so that reads of recorded documents never wait
 * for a write.  Other processes (other mounts of the same store) may
 * record the same pair meanwhile: the store checks again inside the
 * transaction, so the ledger holds each pair once whatever the set says.
 *
 * The entry is on disk (synchronous=FULL) when the read returns.  That
 * costs an fsync per first disclosure; docs/LEDGER.md has the figures.
 *
 * Checkpoints: when the store has a signing key (`advisoryfs key`), the
 * mount signs the chain's head every -o checkpoint=SECS (60) while it
 * records, and once more at unmount, so that entries cut off the end of
 * the ledger show in `advisoryfs audit --verify`.
 *
 * Sections: the set, life cycle, recording, checkpoints.
 */
#include "mount_ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "mount_snap.h"
#include "pgp.h"
#include "util.h"

#define LEDGER_SET_MIN 1024         /* slots; a power of two */

/* ---- the set ---------------------------------------------------------------------------- */

/* Slot of (org_id, version_id) in a table of cap slots. */
static size_t ledger_slot(int64_t org_id, int64_t version_id, size_t cap)
{
	uint64_t h = (uint64_t)version_id * 0x9e3779b97f4a7c15ull ^ (uint64_t)org_id;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (size_t)h & (cap - 1);
}

/* Whether the pair is in the set.  set_lock held.  Version ids are
 * row ids, never 0: a slot with version_id 0 is free. */
static int ledger_set_has(const struct fs_ledger *lg, int64_t org_id, int64_t version_id)
{
	if (!lg->cap)
		return 0;
	for (size_t i = ledger_slot(org_id, version_id, lg->cap);; i = (i + 1) & (lg->cap - 1)) {
		const struct fs_ledger_key *k = &lg->set[i];
		if (!k->version_id)
			return 0;
		if (k->version_id == version_id && k->org_id == org_id)
			return 1;
	}
}

/* Add the pair (kept at most half full).  set_lock held.  0 or -ENOMEM;
 * a set that cannot grow only costs a transaction on the next first read. */
static int ledger_set_add(struct fs_ledger *lg, int64_t org_id, int64_t version_id)
{
	if (ledger_set_has(lg, org_id, version_id))
		return 0;
	if (2 * (lg->count + 1) > lg->cap) {
		size_t cap = lg->cap ? 2 * lg->cap : LEDGER_SET_MIN;
		struct fs_ledger_key *v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t j = 0; j < lg->cap; j++) {
			const struct fs_ledger_key *k = &lg->set[j];
			if (!k->version_id)
				continue;
			size_t i = ledger_slot(k->org_id, k->version_id, cap);
			while (v[i].version_id)
				i = (i + 1) & (cap - 1);
			v[i] = *k;
		}
		free(lg->set);
		lg->set = v;
		lg->cap = cap;
	}
	size_t i = ledger_slot(org_id, version_id, lg->cap);
	while (lg->set[i].version_id)
		i = (i + 1) & (lg->cap - 1);
	lg->set[i] = (struct fs_ledger_key){ .org_id = org_id, .version_id = version_id };
	lg->count++;
	return 0;
}

static int ledger_load_one(void *arg, int64_t org_id, int64_t version_id)
{
	return ledger_set_add(arg, org_id, version_id);
}

/* ---- life cycle ------------------------------------------------------------------------- */

int ledger_init(struct fs *fs, char *err, size_t errlen)
{
	struct fs_ledger *lg = &fs->ledger;
	struct store_ledger *l = NULL;
	int r;

	pthread_mutex_init(&lg->write_lock, NULL);
	pthread_mutex_init(&lg->set_lock, NULL);
	lg->initialised = 1;
	r = store_ledger_open(fs->store_path, 0, &l);
	if (!r)
		r = store_ledger_disclosed(l, ledger_load_one, lg);
	if (r)
		snprintf(err, errlen, "%s", l && *store_ledger_errmsg(l) ? store_ledger_errmsg(l)
									  : strerror(-r));
	store_ledger_close(l);
	return r;
}

int ledger_start(struct fs *fs)
{
	struct store_ledger *l = NULL;
	int r = store_ledger_open(fs->store_path, 0, &l);
	if (r) {
		fs_log(fs, FUSE_LOG_ERR, "%s", l ? store_ledger_errmsg(l) : strerror(-r));
		store_ledger_close(l);
		return r;
	}
	pthread_mutex_lock(&fs->ledger.write_lock);
	fs->ledger.db = l;
	pthread_mutex_unlock(&fs->ledger.write_lock);
	return 0;
}

void ledger_free(struct fs *fs)
{
	struct fs_ledger *lg = &fs->ledger;
	if (!lg->initialised)
		return;
	store_ledger_close(lg->db);
	lg->db = NULL;
	free(lg->set);
	lg->set = NULL;
	lg->cap = lg->count = 0;
	pthread_mutex_destroy(&lg->write_lock);
	pthread_mutex_destroy(&lg->set_lock);
	lg->initialised = 0;
}

/* ---- recording -------------------------------------------------------------------------- */

/* The ids of the determining rules of the document at loc, joined with
 * ","; allocated.  NULL when out of memory. */
static char *ledger_rules(const struct fs_snap *s, const struct fs_loc *loc)
{
	const struct pol_decision *d = &loc->v->docs[loc->doc].dec;
	size_t cap = 1, len = 0;
	char *b;

	for (int k = 0; k < d->nrules; k++) {
		const char *id = policy_rule_id(s->p, d->rules[k]);
		cap += id ? strlen(id) + 1 : 0;
	}
	if (!(b = malloc(cap)))
		return NULL;
	for (int k = 0; k < d->nrules; k++) {
		const char *id = policy_rule_id(s->p, d->rules[k]);
		if (!id)
			continue;
		if (len)
			b[len++] = ',';
		memcpy(b + len, id, strlen(id));
		len += strlen(id);
	}
	b[len] = 0;
	return b;
}

int fs_ledger_record(struct fs *fs, const struct fs_snap *s, const struct fs_loc *loc,
		     const void *bytes, size_t len, uid_t uid)
{
	struct fs_ledger *lg = &fs->ledger;
	const struct w_org *o = &s->w->orgs[loc->org];
	const struct w_adv *a = snap_adv(loc);
	struct store_ledger_entry e;
	int has, isnew = 0, r;
	char *rules = NULL;

	pthread_mutex_lock(&lg->set_lock);
	has = ledger_set_has(lg, o->id, a->version_id);
	pthread_mutex_unlock(&lg->set_lock);
	if (has)
		return 0;
	if (!bytes) {
		/* cannot happen (the caller always has them); no entry, no bytes */
		fs_log(fs, FUSE_LOG_ERR, "ledger: '%s' %s to %s: bytes not read", a->tracking_id,
		       a->version, o->slug);
		return -EIO;
	}

	memset(&e, 0, sizeof(e));
	e.at = au_now();
	e.recipient = o->slug;
	e.uid = (int64_t)uid;
	e.tracking_id = a->tracking_id;
	e.version = a->version;
	if (digest_sha256(bytes, len, e.sha256)) {
		fs_log(fs, FUSE_LOG_ERR, "ledger: SHA-256 failed (OpenSSL)");
		return -EIO;
	}
	if (!(rules = ledger_rules(s, loc)))
		return -ENOMEM;
	e.rules = rules;

	pthread_mutex_lock(&lg->write_lock);
	/* another thread may have recorded it while this one waited */
	pthread_mutex_lock(&lg->set_lock);
	has = ledger_set_has(lg, o->id, a->version_id);
	pthread_mutex_unlock(&lg->set_lock);
	if (has) {
		r = 0;
	} else if (!lg->db) {
		r = -EIO; /* cannot happen: opened before the request loop */
	} else if ((r = store_ledger_record(lg->db, &e, &isnew))) {
		fs_log(fs, FUSE_LOG_ERR, "refusing '%s' %s to %s (uid %u): %s", a->tracking_id,
		       a->version, o->slug, (unsigned)uid, store_ledger_errmsg(lg->db));
	} else {
		pthread_mutex_lock(&lg->set_lock);
		(void)ledger_set_add(lg, o->id, a->version_id);
		pthread_mutex_unlock(&lg->set_lock);
		lg->dirty |= isnew;
		if (isnew)
			fs_log(fs, FUSE_LOG_DEBUG, "ledger: seq %lld: '%s' %s to %s (uid %u)",
			       (long long)e.seq, a->tracking_id, a->version, o->slug, (unsigned)uid);
	}
	pthread_mutex_unlock(&lg->write_lock);
	free(rules);
	return r ? -EIO : 0;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

/*
 * Sign the head of the chain with the store's key and record it.  Returns
 * 0, -ENOENT when the store has no signing key, or -errno with a message
 * in why.  write_lock held (so no entry of this mount slips in between).
 */
static int ledger_sign_head(struct fs *fs, struct store_ledger *l, int64_t now, char *why,
			    size_t whylen)
{
	unsigned char hash[STORE_LEDGER_HASH_LEN];
	char stmt[STORE_LEDGER_STATEMENT_MAX];
	char *asc = NULL, *fpr = NULL;
	size_t asclen = 0, fprlen = 0, n;
	struct store *st = NULL;
	int64_t seq = 0;
	int r;

	if ((r = store_ledger_head(l, &seq, hash))) {
		snprintf(why, whylen, "%s", store_ledger_errmsg(l));
		return r;
	}
	if (seq == 0)
		return 0;
	n = store_ledger_statement(seq, hash, now, stmt, sizeof(stmt));
	if (!n || n >= sizeof(stmt)) {
		snprintf(why, whylen, "checkpoint statement too long");
		return -EOVERFLOW;
	}
	if ((r = fs_pool_get(fs, &st))) {
		snprintf(why, whylen, "no store connection");
		return r;
	}
	r = store_meta_get(st, STORE_META_SIGNING_FPR, &fpr, &fprlen);
	if (!r)
		r = store_sign(st, stmt, n, &asc, &asclen);
	if (r && r != -ENOENT)
		snprintf(why, whylen, "%s", r == -EIO || r == -ENOMEM || r == -EBUSY
						    ? store_errmsg(st)
						    : pgp_strerror(r));
	fs_pool_put(fs, st);
	if (!r) {
		r = store_ledger_checkpoint_add(l, seq, hash, now, fpr, asc);
		if (r == -EEXIST)
			r = 0; /* somebody signed this head already */
		else if (r)
			snprintf(why, whylen, "%s", store_ledger_errmsg(l));
		else
			fs_log(fs, FUSE_LOG_INFO, "ledger checkpoint: seq %lld signed by %s",
			       (long long)seq, fpr);
	}
	free(asc);
	free(fpr);
	return r;
}

void ledger_checkpoint(struct fs *fs, int final)
{
	struct fs_ledger *lg = &fs->ledger;
	int64_t now = au_now();
	char why[512] = "";
	int r;

	if (!lg->initialised)
		return;
	pthread_mutex_lock(&lg->write_lock);
	if (!lg->db || !lg->dirty ||
	    (!final && (!fs->checkpoint_s || now < lg->cp_last + (int64_t)fs->checkpoint_s))) {
		pthread_mutex_unlock(&lg->write_lock);
		return;
	}
	lg->cp_last = now;
	r = ledger_sign_head(fs, lg->db, now, why, sizeof(why));
	if (!r || r == -ENOENT) {
		lg->dirty = 0;
		if (lg->cp_failing)
			fs_log(fs, FUSE_LOG_NOTICE, "ledger checkpoints work again");
		lg->cp_failing = 0;
	} else if (!lg->cp_failing || final) {
		fs_log(fs, FUSE_LOG_ERR, "ledger checkpoint: %s", why);
		lg->cp_failing = 1;
	}
	pthread_mutex_unlock(&lg->write_lock);
}
