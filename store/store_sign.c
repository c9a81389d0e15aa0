/*
 * store_sign.c - detached OpenPGP signatures with the store's signing key
 * (for publish, import, `key sign` and the ledger's checkpoints).
 *
 * The key stays in its own file; the store records where it is and which
 * key it must be (the meta values STORE_META_SIGNING_*, written by
 * `advisoryfs key generate`).  The packets are built by lib/crypto/pgp.c.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pgp.h"

/* The key loaded for signing, kept for the life of the process. */
static struct {
	pthread_mutex_t lock;
	struct pgp_key *key; /* protected by lock */
	char *path;          /* protected by lock: the file key came from */
} signer = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * See store.h.  The store is read on every call (two meta values), so a key
 * forgotten or replaced in the store takes effect at once; the key file is
 * read again only when the store names another one.
 */
int store_sign(struct store *st, const char *data, size_t len, char **ret_asc, size_t *ret_len)
{
	char *path = NULL, *fpr = NULL;
	size_t n;
	uint32_t when;
	int r = store_meta_get(st, STORE_META_SIGNING_PATH, &path, &n);
	if (r)
		return r;
	r = store_meta_get(st, STORE_META_SIGNING_FPR, &fpr, &n);
	if (r == -ENOENT)
		r = -ENOKEY; /* a path without a fingerprint: not ours, refuse */
	if (!r)
		r = pgp_time_now(&when);
	if (r)
		goto out;

	pthread_mutex_lock(&signer.lock);
	if (!signer.key || strcmp(signer.path, path) != 0) {
		struct pgp_key *k = NULL;
		r = pgp_key_load(path, &k);
		if (r == -ENOENT)
			r = -ENOKEY;
		if (!r) {
			pgp_key_free(signer.key);
			free(signer.path);
			signer.key = k;
			signer.path = path;
			path = NULL;
		}
	}
	if (!r && !pgp_fpr_matches(signer.key, fpr))
		r = -ENOKEY;
	if (!r)
		r = pgp_sign_detached(signer.key, data, len, when, ret_asc, ret_len);
	pthread_mutex_unlock(&signer.lock);
out:
	free(path);
	free(fpr);
	return r;
}
