/*
 * store_write.c - every write command: policies, organisations, their roles
 * and memberships, publishing, withdrawals and shares.  Each runs in a
 * transaction (WITH_TX) that also logs the change.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "digest.h"
#include "util.h"

/* ---- policy ------------------------------------------------------------------------ */

/*
 * The vocabulary of p must cover every role and sector the store uses.
 * -EINVAL naming every one that it does not declare (the first few, with
 * one organisation or advisory that uses each, and how many more).
 */
static int policy_covers_store(struct store *st, const struct policy *p)
{
	static const char *const qs[] = {
		"SELECT r.role, min(o.slug), count(*) FROM org_role r JOIN org o ON o.id = r.org_id "
		"GROUP BY r.role ORDER BY r.role",
		"SELECT s.sector, min(o.slug), count(*) FROM org_sector s JOIN org o ON "
		"o.id = s.org_id GROUP BY s.sector ORDER BY s.sector",
		"SELECT s.sector, min(a.tracking_id), count(*) FROM version_sector s JOIN version v "
		"ON v.id = s.version_id JOIN advisory a ON a.id = v.advisory_id GROUP BY s.sector "
		"ORDER BY s.sector",
	};
	static const char *const what[] = { "role", "sector", "sector" };
	static const char *const user[] = { "organisation", "organisation", "advisory" };
	sqlite3_str *msg = sqlite3_str_new(st->db);
	int missing = 0, r = 0;
	for (int q = 0; q < 3 && !r; q++) {
		sqlite3_stmt *s = NULL;
		int rc;
		if ((r = st_prep(st, &s, qs[q])))
			break;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(s, 0);
			const char *who = (const char *)sqlite3_column_text(s, 1);
			int64_t n = sqlite3_column_int64(s, 2);
			int ok = q == 0 ? policy_role_index(p, name) >= 0
					: policy_sector_index(p, name) >= 0;
			if (ok || missing++ >= 6)
				continue;
			sqlite3_str_appendf(msg, "%s%s '%.40s' (%s '%.40s'", missing > 1 ? "; " : "",
					    what[q], name, user[q], who);
			if (n > 1)
				sqlite3_str_appendf(msg, " and %lld more", (long long)(n - 1));
			sqlite3_str_appendf(msg, ")");
		}
		if (rc != SQLITE_DONE)
			r = st_sql_err(st, rc, "policy check");
		sqlite3_finalize(s);
	}
	char *txt = sqlite3_str_finish(msg);
	if (!r && missing)
		r = st_seterr(st, -EINVAL, "the policy does not declare %d role%s or sector%s in use: "
			      "%s%s", missing, missing == 1 ? "" : "s", missing == 1 ? "" : "s",
			      txt ? txt : "?", missing > 6 ? "; ..." : "");
	sqlite3_free(txt);
	return r;
}

/* effective: when it takes effect, or AU_T_MIN for at once (at) */
static int policy_add_tx(struct store *st, const char *json, size_t len, const char *by,
			 int64_t at, int64_t effective)
{
	struct policy *p = NULL;
	char err[256];
	int r = policy_compile(json, len, &p, err, sizeof(err));
	if (r)
		return st_seterr(st, r, "%s", err);
	r = policy_covers_store(st, p);
	policy_free(p);
	if (r)
		return r;
	sqlite3_stmt *s = NULL;
	unsigned char h[32];
	digest_sha256(json, len, h);
	if ((r = st_prep(st, &s, "INSERT INTO policy(loaded_at, loaded_by, source, sha256) "
			      "VALUES (?1, ?2, ?3, ?4)")))
		return r;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, json, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 4, h, 32, SQLITE_TRANSIENT);
	if ((r = st_step_done(st, s, "policy")))
		return r;
	if (effective != AU_T_MIN) {
		if ((r = st_prep(st, &s, "INSERT INTO policy_effective(policy_id, at) "
				      "VALUES (last_insert_rowid(), ?1)")))
			return r;
		sqlite3_bind_int64(s, 1, effective);
		if ((r = st_step_done(st, s, "policy")))
			return r;
	}
	if ((r = st_log_change(st, "policy", by)))
		return r;
	/* which policy the vocabulary checks use may have changed */
	policy_free(st->policy);
	st->policy = NULL;
	return 0;
}

int store_policy_add(struct store *st, const char *json, size_t len, const char *loaded_by,
		     int64_t at)
{
	return store_policy_schedule(st, json, len, loaded_by, at, AU_T_MIN);
}

int store_policy_schedule(struct store *st, const char *json, size_t len, const char *loaded_by,
			  int64_t at, int64_t effective)
{
	int r;
	if (effective != AU_T_MIN && effective < at)
		return st_seterr(st, -EINVAL, "the moment it takes effect is in the past (the "
				 "history of the policies in force is not rewritten)");
	WITH_TX(st, policy_add_tx(st, json, len, loaded_by, at, effective));
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
	/* the one that took effect last at or before t (of two at the same
	 * moment, the later loaded), else the first ever to take effect */
	int r = st_prep(st, &s, "SELECT id, source FROM (SELECT p.id, p.source, "
			     "coalesce(e.at, p.loaded_at) AS eff FROM policy p LEFT JOIN "
			     "policy_effective e ON e.policy_id = p.id) ORDER BY (eff <= ?1) DESC, "
			     "CASE WHEN eff <= ?1 THEN -eff ELSE eff END, "
			     "CASE WHEN eff <= ?1 THEN -id ELSE id END LIMIT 1");
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, t);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		if (rc == SQLITE_DONE)
			return st_seterr(st, -ENOENT, "the store holds no policy");
		return st_sql_err(st, rc, "policy");
	}
	int64_t id = sqlite3_column_int64(s, 0);
	const char *src = (const char *)sqlite3_column_text(s, 1);
	size_t len = (size_t)sqlite3_column_bytes(s, 1);
	struct policy *p = NULL;
	char err[256];
	r = policy_compile(src, len, &p, err, sizeof(err));
	if (r) {
		sqlite3_finalize(s);
		return st_seterr(st, r, "stored policy %lld: %s", (long long)id, err);
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

/* The policy of the vocabulary checks, compiled once per handle: the last
 * to take effect (a scheduled one when there is one; `policy load` made
 * sure that it declares everything in use). */
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
int st_org_id(struct store *st, const char *slug, int64_t *ret_id)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT id FROM org WHERE slug = ?1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		r = st_seterr(st, -ENOENT, "no organisation '%s'", slug);
	else
		r = st_sql_err(st, rc, "org");
	sqlite3_finalize(s);
	return r;
}

static int check_sector(struct store *st, const struct policy *p, const char *sector)
{
	if (policy_sector_index(p, sector) < 0)
		return st_seterr(st, -EINVAL, "unknown sector '%s' (the policy declares the "
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
		return st_seterr(st, -EINVAL, "invalid slug '%s' (1-64 of a-z, 0-9 and '-', not "
				 "starting with '-')", slug);
	if (strcmp(slug, "public") == 0)
		return st_seterr(st, -EINVAL, "the slug 'public' is reserved for the public view");
	if (!*name || strlen(name) > 256)
		return st_seterr(st, -EINVAL, "name must be 1-256 bytes");
	if ((r = active_policy(st, &p)))
		return r;
	for (size_t i = 0; i < nsectors; i++)
		if ((r = check_sector(st, p, sectors[i])))
			return r;
	if (st_org_id(st, slug, &id) == 0)
		return st_seterr(st, -EEXIST, "organisation '%s' already exists", slug);
	if ((r = st_prep(st, &s, "INSERT INTO org(slug, name, uid, gid, created) "
			      "VALUES (?1, ?2, ?3, ?4, ?5)")))
		return r;
	sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	if (uid >= 0)
		sqlite3_bind_int64(s, 3, uid);
	if (gid >= 0)
		sqlite3_bind_int64(s, 4, gid);
	sqlite3_bind_int64(s, 5, au_now());
	if ((r = st_step_done(st, s, "org add")))
		return r;
	id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < nsectors; i++) {
		if ((r = st_prep(st, &s, "INSERT OR IGNORE INTO org_sector(org_id, sector) "
				      "VALUES (?1, ?2)")))
			return r;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, sectors[i], -1, SQLITE_STATIC);
		if ((r = st_step_done(st, s, "org sector")))
			return r;
	}
	return st_log_change(st, "org", slug);
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
	if ((r = st_org_id(st, slug, &id)))
		return r;
	if ((r = st_prep(st, &s, "UPDATE org SET uid = ?2, gid = ?3 WHERE id = ?1")))
		return r;
	sqlite3_bind_int64(s, 1, id);
	if (uid >= 0)
		sqlite3_bind_int64(s, 2, uid);
	if (gid >= 0)
		sqlite3_bind_int64(s, 3, gid);
	if ((r = st_step_done(st, s, "org bind")))
		return r;
	return st_log_change(st, "org", slug);
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

	if ((r = st_org_id(st, slug, &id)))
		return r;
	if (remove) {
		if ((r = st_prep(st, &s, "DELETE FROM org_role WHERE org_id = ?1 AND role = ?2")))
			return r;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
		if ((r = st_step_done(st, s, "org role")))
			return r;
		if (sqlite3_changes(st->db) == 0)
			return st_seterr(st, -ENOENT, "'%s' has no role '%s'", slug, role);
	} else {
		if ((r = active_policy(st, &p)))
			return r;
		if (policy_role_index(p, role) < 0)
			return st_seterr(st, -EINVAL, "unknown role '%s' (the active policy declares "
					 "the roles; see 'advisoryfs policy show')", role);
		if (from != AU_T_MIN && until != AU_T_MAX && from > until)
			return st_seterr(st, -EINVAL, "--from is after --until");
		if (ref && strlen(ref) > 1024)
			return st_seterr(st, -E2BIG, "--ref longer than 1024 bytes");
		if ((r = st_prep(st, &s, "INSERT INTO org_role(org_id, role, from_t, until_t, ref) "
				      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(org_id, role) DO "
				      "UPDATE SET from_t = ?3, until_t = ?4, "
				      "ref = coalesce(?5, ref)")))
			return r;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
		st_bind_time(s, 3, from);
		st_bind_time(s, 4, until);
		if (ref)
			sqlite3_bind_text(s, 5, ref, -1, SQLITE_STATIC);
		if ((r = st_step_done(st, s, "org role")))
			return r;
	}
	return st_log_change(st, "role", slug);
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

	if ((r = st_org_id(st, schakel, &sid)) || (r = st_org_id(st, member, &mid)))
		return r;
	if (sid == mid)
		return st_seterr(st, -EINVAL, "an organisation cannot be a member of itself");
	if (remove) {
		if ((r = st_prep(st, &s, "DELETE FROM membership WHERE schakel_id = ?1 AND "
				      "member_id = ?2")))
			return r;
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int64(s, 2, mid);
		if ((r = st_step_done(st, s, "org member")))
			return r;
		if (sqlite3_changes(st->db) == 0)
			return st_seterr(st, -ENOENT, "'%s' is not a member of '%s'", member, schakel);
	} else {
		if (from != AU_T_MIN && until != AU_T_MAX && from > until)
			return st_seterr(st, -EINVAL, "--from is after --until");
		if ((r = st_prep(st, &s, "INSERT INTO membership(schakel_id, member_id, from_t, "
				      "until_t) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE "
				      "SET from_t = ?3, until_t = ?4")))
			return r;
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int64(s, 2, mid);
		st_bind_time(s, 3, from);
		st_bind_time(s, 4, until);
		if ((r = st_step_done(st, s, "org member")))
			return r;
	}
	char subject[140];
	snprintf(subject, sizeof(subject), "%s/%s", schakel, member);
	return st_log_change(st, "member", subject);
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
			  int *ret_withdrawn, int64_t *ret_current)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT a.id, v.version, v.seq, v.sha256, "
			     "(SELECT 1 FROM withdrawal w WHERE w.advisory_id = a.id), v.current_release "
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
		*ret_current = sqlite3_column_int64(s, 5);
		if (!*ret_version)
			r = -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		r = st_sql_err(st, rc, "publish");
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
	int r = st_prep(st, &s, "SELECT sha256 FROM version WHERE advisory_id = ?1 AND version = ?2");
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
		r = st_sql_err(st, rc, "publish");
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
		if ((r = st_org_id(st, d->concerns[i], &oid)))
			return st_seterr(st, r, "concerns: no organisation '%s'", d->concerns[i]);
		if ((r = st_prep(st, &s, "INSERT OR IGNORE INTO version_concern(version_id, org_id) "
				      "VALUES (?1, ?2)")))
			return r;
		sqlite3_bind_int64(s, 1, vid);
		sqlite3_bind_int64(s, 2, oid);
		if ((r = st_step_done(st, s, "concerns")))
			return r;
	}
	for (size_t i = 0; i < d->nsectors; i++) {
		if ((r = check_sector(st, p, d->sectors[i])))
			return r;
		if ((r = st_prep(st, &s, "INSERT OR IGNORE INTO version_sector(version_id, sector) "
				      "VALUES (?1, ?2)")))
			return r;
		sqlite3_bind_int64(s, 1, vid);
		sqlite3_bind_text(s, 2, d->sectors[i], -1, SQLITE_STATIC);
		if ((r = st_step_done(st, s, "sectors")))
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
	int64_t adv = 0, prev_seq = 0, prev_current = 0, vid;
	int withdrawn = 0, r;

	if ((r = active_policy(st, &p)))
		return r;
	if ((r = csaf_parse_opts(pub->bytes, pub->len, CSAF_CONFORM, &doc, err, sizeof(err))))
		return st_seterr(st, r, "%s", err);

	/* TLP: the document's label, which --tlp may only tighten */
	enum csaf_tlp tlp = doc.tlp;
	if (pub->dist.tlp != CSAF_TLP_NONE) {
		if (doc.tlp != CSAF_TLP_NONE && pub->dist.tlp < doc.tlp) {
			r = st_seterr(st, -EINVAL, "TLP:%s would loosen the document's TLP:%s "
				      "(a TLP may only be tightened)", csaf_tlp_name(pub->dist.tlp),
				      csaf_tlp_name(doc.tlp));
			goto out;
		}
		tlp = pub->dist.tlp;
	}
	if (tlp == CSAF_TLP_NONE) {
		r = st_seterr(st, -EINVAL, "no TLP: document.distribution.tlp.label is absent and no "
			      "--tlp was given");
		goto out;
	}
	if (pub->signature && !looks_like_signature(pub->signature, pub->siglen)) {
		r = st_seterr(st, -EINVAL, "signature is not an ASCII-armoured OpenPGP signature "
			      "(at most 64 KiB)");
		goto out;
	}
	if (pub->dist.nconcerns > CSAF_MAX_CONCERNS || pub->dist.nsectors > CSAF_MAX_SECTORS) {
		r = st_seterr(st, -E2BIG, "more than %u concerned organisations or %u sectors",
			      CSAF_MAX_CONCERNS, CSAF_MAX_SECTORS);
		goto out;
	}

	digest_sha256(pub->bytes, pub->len, h256);
	digest_sha512(pub->bytes, pub->len, h512);

	if ((r = latest_version(st, doc.tracking_id, &adv, &prev_version, &prev_seq, prev_hash,
				&withdrawn, &prev_current)))
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
			r = st_seterr(st, -EINVAL, "version '%s' of '%s' is already stored%s",
				      doc.version, doc.tracking_id, same ? "" : " with different bytes");
			goto out;
		}
		if (withdrawn) {
			r = st_seterr(st, -EINVAL, "advisory '%s' was withdrawn", doc.tracking_id);
			goto out;
		}
		if (csaf_version_cmp(doc.version, prev_version, &cmp) < 0) {
			r = st_seterr(st, -EINVAL, "version '%s' of '%s' cannot be ordered against "
				      "stored version '%s' (integer and semantic versioning mixed)",
				      doc.version, doc.tracking_id, prev_version);
			goto out;
		}
		if (cmp == 0) { /* equal precedence, other spelling (build metadata) */
			r = st_seterr(st, -EINVAL, "version '%s' of '%s' is already stored with "
				      "different bytes", doc.version, doc.tracking_id);
			goto out;
		}
		if (cmp < 0) {
			r = st_seterr(st, -EINVAL, "version '%s' of '%s' is older than the stored "
				      "version '%s'", doc.version, doc.tracking_id, prev_version);
			goto out;
		}
		/* mirrors (rsync -a) notice a new version by its mtime, which is the
		 * current_release_date: it must move, or the old hash files stay */
		if (doc.current_release <= prev_current) {
			char a[AU_TIME_LEN], b[AU_TIME_LEN];
			au_format_time(doc.current_release, a);
			au_format_time(prev_current, b);
			r = st_seterr(st, -EINVAL, "document.tracking.current_release_date: version "
				      "'%s' of '%s' is dated %s, not later than %s, the date of "
				      "version '%s' it replaces (mirrors would keep the old hash "
				      "files)", doc.version, doc.tracking_id, a, b, prev_version);
			goto out;
		}
	} else {
		if ((r = st_prep(st, &s, "SELECT tracking_id FROM advisory WHERE filename = ?1")))
			goto out;
		sqlite3_bind_text(s, 1, doc.filename, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			r = st_seterr(st, -EEXIST, "tracking id '%s' maps to the file name '%s' of "
				      "advisory '%s'", doc.tracking_id, doc.filename,
				      (const char *)sqlite3_column_text(s, 0));
			sqlite3_finalize(s);
			goto out;
		}
		sqlite3_finalize(s);
		if ((r = st_prep(st, &s, "INSERT INTO advisory(tracking_id, filename, created) "
				      "VALUES (?1, ?2, ?3)")))
			goto out;
		sqlite3_bind_text(s, 1, doc.tracking_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, doc.filename, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, au_now());
		if ((r = st_step_done(st, s, "advisory")))
			goto out;
		adv = sqlite3_last_insert_rowid(st->db);
	}

	if ((r = st_prep(st, &s, "INSERT INTO version(advisory_id, seq, version, title, publisher, "
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
	st_bind_time(s, 10, pub->dist.embargo_until);
	sqlite3_bind_int64(s, 11, doc.initial_release);
	sqlite3_bind_int64(s, 12, doc.current_release);
	sqlite3_bind_int64(s, 13, (sqlite3_int64)pub->len);
	sqlite3_bind_int64(s, 14, pub->signature ? (sqlite3_int64)pub->siglen : 0);
	sqlite3_bind_blob(s, 15, h256, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 16, h512, 64, SQLITE_STATIC);
	sqlite3_bind_int64(s, 17, au_now());
	if (pub->source)
		sqlite3_bind_text(s, 18, pub->source, -1, SQLITE_STATIC);
	if ((r = st_step_done(st, s, "version")))
		goto out;
	vid = sqlite3_last_insert_rowid(st->db);

	if ((r = st_prep(st, &s, "INSERT INTO version_blob(version_id, bytes, signature) "
			      "VALUES (?1, ?2, ?3)")))
		goto out;
	sqlite3_bind_int64(s, 1, vid);
	sqlite3_bind_blob64(s, 2, pub->bytes, pub->len, SQLITE_STATIC);
	if (pub->signature)
		sqlite3_bind_blob64(s, 3, pub->signature, pub->siglen, SQLITE_STATIC);
	if ((r = st_step_done(st, s, "version bytes")))
		goto out;
	if ((r = publish_dist(st, p, vid, &pub->dist)))
		goto out;
	r = st_log_change(st, "publish", doc.tracking_id);
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
int st_advisory_id(struct store *st, const char *name, int64_t *ret_id)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT id FROM advisory WHERE tracking_id = ?1 OR filename = ?1 "
			     "OR filename = ?1 || '.json' LIMIT 1");
	if (r)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		r = st_seterr(st, -ENOENT, "no advisory '%s'", name);
	else
		r = st_sql_err(st, rc, "advisory");
	sqlite3_finalize(s);
	return r;
}

static int withdraw_tx(struct store *st, const char *id, const char *reason, int64_t at)
{
	sqlite3_stmt *s = NULL;
	int64_t adv;
	int r;
	if ((r = st_advisory_id(st, id, &adv)))
		return r;
	if ((r = st_prep(st, &s, "INSERT INTO withdrawal(advisory_id, at, reason) "
			      "VALUES (?1, ?2, ?3)")))
		return r;
	sqlite3_bind_int64(s, 1, adv);
	sqlite3_bind_int64(s, 2, at);
	if (reason)
		sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	if ((r = st_step_done(st, s, "withdraw")))
		return r == -EEXIST ? st_seterr(st, r, "advisory '%s' is already withdrawn", id) : r;
	return st_log_change(st, "withdraw", id);
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
		return st_seterr(st, -EINVAL, "a special case needs a --reason");
	if (strlen(reason) > 4096)
		return st_seterr(st, -E2BIG, "--reason longer than 4096 bytes");
	if ((r = st_advisory_id(st, id, &adv)) || (r = st_org_id(st, slug, &org)))
		return r;
	if ((r = st_prep(st, &s, "INSERT INTO share(advisory_id, org_id, reason, at) "
			      "VALUES (?1, ?2, ?3, ?4)")))
		return r;
	sqlite3_bind_int64(s, 1, adv);
	sqlite3_bind_int64(s, 2, org);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, at);
	if ((r = st_step_done(st, s, "share")))
		return r == -EEXIST ? st_seterr(st, r, "'%s' is already shared with '%s'", id, slug)
				    : r;
	char subject[400];
	snprintf(subject, sizeof(subject), "%s/%s", id, slug);
	return st_log_change(st, "share", subject);
}

int store_share(struct store *st, const char *tracking_id, const char *slug, const char *reason,
		int64_t at)
{
	int r;
	WITH_TX(st, share_tx(st, tracking_id, slug, reason, at));
	return r;
}

int store_policy_next(struct store *st, int64_t t, int64_t *ret_t)
{
	return st_next_after(st, "SELECT min(at) FROM policy_effective WHERE at > ?1", t,
			     "next policy", ret_t);
}

int store_policy_each(struct store *st,
		      int (*fn)(void *arg, const struct store_policy_row *row), void *arg)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT p.id, p.loaded_at, p.loaded_by, coalesce(e.at, "
			     "p.loaded_at), e.at IS NOT NULL, p.source, p.sha256 FROM policy p "
			     "LEFT JOIN policy_effective e ON e.policy_id = p.id ORDER BY p.id");
	int rc;
	if (r)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_policy_row row = {
			.id = sqlite3_column_int64(s, 0),
			.loaded_at = sqlite3_column_int64(s, 1),
			.loaded_by = (const char *)sqlite3_column_text(s, 2),
			.effective_at = sqlite3_column_int64(s, 3),
			.scheduled = sqlite3_column_int(s, 4),
			.source = (const char *)sqlite3_column_text(s, 5),
			.source_len = (size_t)sqlite3_column_bytes(s, 5),
			.sha256 = sqlite3_column_blob(s, 6),
		};
		if (!row.loaded_by || !row.source || sqlite3_column_bytes(s, 6) != 32) {
			r = st_seterr(st, -EIO, "policy %lld: a damaged row", (long long)row.id);
			break;
		}
		if ((r = fn(arg, &row)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = st_sql_err(st, rc, "policy");
	sqlite3_finalize(s);
	return r;
}
