/*
 * view.h - one recipient's directory, computed: what SPEC.md section 2
 * says the directory holds, for a recipient at a moment, under a policy.
 *
 * A view is immutable once built; the mount builds a new one when the
 * world or the time moves and swaps it in.  `advisoryfs visible` prints
 * view_print() of the same view, so the mount and the command agree by
 * construction.
 *
 * Layout:  <tlpdir>/index.txt, <tlpdir>/changes.csv,
 *          <tlpdir>/<year>/<name>.json[.sha256|.sha512|.asc]
 *          provider-metadata.json, openpgp/<FINGERPRINT>.asc
 * Only TLP folders that hold something exist.  The last two come with
 * view_set_provider() (the mount and `visible` always call it); openpgp/
 * only when the store has a signing key.
 */
#ifndef ADVISORYFS_VIEW_H
#define ADVISORYFS_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "world.h"

enum view_tlpdir { VIEW_WHITE, VIEW_GREEN, VIEW_AMBER, VIEW_RED, VIEW_NDIRS };

/* Kinds of file per advisory. */
enum view_kind { VIEW_JSON, VIEW_SHA256, VIEW_SHA512, VIEW_ASC, VIEW_NKINDS };

struct view_doc {
	uint32_t adv;               /* index into world.advs */
	uint16_t year;              /* UTC year of initial_release_date */
	uint8_t dir;                /* enum view_tlpdir */
	struct pol_decision dec;    /* the permit and its determining rules */
};

struct view_year {
	uint16_t year;
	uint32_t first, count;      /* range of view.docs */
};

struct view_dir {
	uint32_t first_year, nyears; /* range of view.years; nyears 0: folder absent */
	char *index_txt;            /* generated, exact bytes */
	size_t index_len;
	char *changes_csv;
	size_t changes_len;
	int64_t mtime;              /* newest current_release_date inside */
};

/*
 * Who publishes the trees, from the store's meta values (set with
 * `advisoryfs provider set`, defaults otherwise) and the store's signing
 * key: what every view's provider-metadata.json and openpgp/ say.  Read
 * with view_provider_load() once per mount snapshot or command; every
 * string is owned (view_provider_release()).
 */
struct view_provider {
	char *base_url;             /* the trees are at BASE/<recipient>/; no trailing '/' */
	char *publisher_name;
	char *namespace_url;
	char *category;             /* CSAF publisher category ("coordinator", ...) */
	char *contact;              /* contact_details; NULL: none */
	char *issuing_authority;    /* NULL: none */
	char *pubkey;               /* armoured public key; NULL: no signing key */
	size_t pubkey_len;
	char fpr[41];               /* its fingerprint (40 uppercase hex); "" without a key */
	int64_t key_created;        /* the key's creation time: mtime of openpgp/ */
};

/* Meta keys of the provider values and their defaults. */
#define VIEW_META_BASE_URL      "provider_base_url"
#define VIEW_META_PUBLISHER     "provider_publisher_name"
#define VIEW_META_NAMESPACE     "provider_namespace"
#define VIEW_META_CATEGORY      "provider_category"
#define VIEW_META_CONTACT       "provider_contact"
#define VIEW_META_AUTHORITY     "provider_issuing_authority"
#define VIEW_DEFAULT_BASE_URL   "https://advisories.invalid/csaf"
#define VIEW_DEFAULT_PUBLISHER  "advisoryfs (publisher not configured)"
#define VIEW_DEFAULT_NAMESPACE  "https://advisories.invalid"
#define VIEW_DEFAULT_CATEGORY   "coordinator"
#define VIEW_PROVIDER_FILE      "provider-metadata.json"
#define VIEW_OPENPGP_DIR        "openpgp"

struct store;

/*
 * Read the provider values and the signing key from st into *ret (every
 * field set; defaults for values never set).  A stored public key that
 * does not parse or does not match signing_fpr is left out (no openpgp/):
 * `advisoryfs key show` reports it.  Returns 0 or -errno (message in the
 * store); on failure *ret holds nothing to release.
 */
int view_provider_load(struct store *st, struct view_provider *ret);
void view_provider_release(struct view_provider *prov);

struct view {
	const struct world *w;      /* not owned */
	uint32_t org;
	int64_t t;
	struct view_doc *docs;      /* sorted by dir, year, file name */
	uint32_t ndocs;
	struct view_year *years;    /* sorted by dir, year */
	uint32_t nyears;
	struct view_dir dirs[VIEW_NDIRS];
	int64_t mtime;              /* newest current_release_date of any doc */
	/* set by view_set_provider(); NULL/0 before */
	char *provider_json;        /* provider-metadata.json, exact bytes */
	size_t provider_len;
	char *pgp_name;             /* "<FINGERPRINT>.asc"; NULL: no openpgp/ */
	char *pgp_key;              /* the armoured public key it holds */
	size_t pgp_key_len;
	int64_t pgp_mtime;          /* the key's creation time */
	/* set by view_build(): every file name sorts before the next one of
	 * its year without being a prefix of it (view_print() relies on it) */
	int names_ordered;
};

/*
 * Build the view of recipient org (index into w->orgs) at time t.  The
 * caller owns *ret_view (view_free()); w and p must outlive it only while
 * building, except that the view keeps the pointer w (docs refer to it).
 * Returns 0 or -ENOMEM.
 */
int view_build(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
	       struct view **ret_view);
/*
 * The same, with flags: VIEW_NAMES_ONLY leaves out the contents of the
 * generated index.txt and changes.csv (NULL, length 0): a view for
 * view_print() without --json, which lists names only.  Every other
 * field, the documents, the decisions and the times, is as view_build()
 * makes it.
 */
#define VIEW_NAMES_ONLY 1
int view_build_opts(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
		    unsigned flags, struct view **ret_view);
void view_free(struct view *v);

/*
 * Add provider-metadata.json (CSAF 2.0 section 7.1.20, role
 * csaf_trusted_provider) and, with a key, openpgp/<FINGERPRINT>.asc to a
 * built view: canonical_url BASE/<recipient>/provider-metadata.json, one
 * distribution per TLP folder the view holds, last_updated = v->mtime.
 * Call once, before the view is shared.  Returns 0 or -ENOMEM.
 */
int view_set_provider(struct view *v, const struct view_provider *prov);

/*
 * The distribution metadata of a document, in the syntax of a .dist.json
 * companion: {"tlp":"AMBER+STRICT","personal_data":false} plus "impact"
 * and "sectors" when set.  It is what the mount shows as the extended
 * attribute user.advisoryfs.dist, so that a recipient who passes a
 * document on (an OKTT importing its received tree) knows its effective
 * TLP, which CSAF 2.0's labels cannot say.  The caller frees *ret (NUL-
 * terminated).  Returns 0 or -ENOMEM.
 */
int view_dist_json(const struct view *v, const struct policy *p, uint32_t doc, char **ret,
		   size_t *ret_len);

/* Folder name of a dir ("white", ...). */
const char *view_dir_name(int dir);
/* Dir index for a folder name, or -1. */
int view_dir_find(const char *name);
/* Range lookup: index into v->years of (dir, year), or -1. */
int view_year_find(const struct view *v, int dir, int year);
/* Index into v->docs of file name (without suffix) within a year, or -1. */
int view_doc_find(const struct view *v, int year_idx, const char *filename);

/*
 * Content of a generated per-document file (.sha256 or .sha512):
 * "<hex>  <name>.json\n".  Writes into buf (at least 200 bytes) and
 * returns the length.
 */
size_t view_hash_line(const struct view *v, uint32_t doc, int kind, char *buf, size_t buflen);

/* Size of each kind of file of a doc (exact, known before any read). */
int64_t view_file_size(const struct view *v, uint32_t doc, int kind);

/* Print every file path of the view, one per line, sorted (the output of
 * `advisoryfs visible`).  JSON (array of objects) when json is set. */
int view_print(const struct view *v, const struct policy *p, int json, FILE *f);

#endif
