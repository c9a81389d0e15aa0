/*
 * store_cert.c - TLS client certificates bound to organisations (table
 * org_cert, migration 4), for the HTTPS provider (docs/HTTPS.md).
 *
 * A certificate is known by the SHA-256 of its DER bytes (the primary
 * key: bound to one organisation at most) and by its SHA-1, which is what
 * nginx's $ssl_client_fingerprint gives; the SHA-1 is unique too, so a
 * second certificate with the same SHA-1 cannot be bound and the name
 * nginx matches on stays unambiguous.  No change_log row: binding a
 * certificate changes no view (the mount must not reload for it).
 *
 * Sections: binding, listing.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "util.h"
#include "x509.h"

/* ---- binding ------------------------------------------------------------------------ */

/* The slug of the organisation the certificate with this SHA-256 (col
 * "sha256") or SHA-1 (col "sha1") is bound to, into out; -ENOENT when
 * none. */
static int cert_owner(struct store *st, const char *sql, const unsigned char *fp, size_t fplen,
		      char *out, size_t outlen)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, sql);
	if (r)
		return r;
	sqlite3_bind_blob(s, 1, fp, (int)fplen, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *slug = (const char *)sqlite3_column_text(s, 0);
		snprintf(out, outlen, "%s", slug ? slug : "");
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = st_sql_err(st, rc, "org_cert");
	}
	sqlite3_finalize(s);
	return r;
}

static int cert_add_tx(struct store *st, const char *slug, const struct store_cert *c)
{
	char owner[128], hex[65];
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r;

	if ((r = st_org_id(st, slug, &id)))
		return r;
	if (strlen(c->subject) >= X509_SUBJECT_MAX)
		return st_seterr(st, -E2BIG, "certificate subject longer than %d bytes",
				 X509_SUBJECT_MAX - 1);
	au_hex(c->sha256, sizeof(c->sha256), hex);
	r = cert_owner(st, "SELECT o.slug FROM org_cert c JOIN org o ON o.id = c.org_id "
			   "WHERE c.sha256 = ?1", c->sha256, sizeof(c->sha256), owner, sizeof(owner));
	if (r == 0 && !strcmp(owner, slug))
		return 0;
	if (r == 0)
		return st_seterr(st, -EEXIST, "certificate SHA256:%s is already bound to '%s' "
				 "(a certificate chooses one organisation; remove it there first)",
				 hex, owner);
	if (r != -ENOENT)
		return r;
	r = cert_owner(st, "SELECT o.slug FROM org_cert c JOIN org o ON o.id = c.org_id "
			   "WHERE c.sha1 = ?1", c->sha1, sizeof(c->sha1), owner, sizeof(owner));
	if (r == 0)
		return st_seterr(st, -EEXIST, "another certificate with the same SHA-1 is bound to "
				 "'%s': nginx could not tell the two apart", owner);
	if (r != -ENOENT)
		return r;
	if ((r = st_prep(st, &s, "INSERT INTO org_cert(sha256, sha1, org_id, subject, not_before, "
			      "not_after, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")))
		return r;
	sqlite3_bind_blob(s, 1, c->sha256, sizeof(c->sha256), SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, c->sha1, sizeof(c->sha1), SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	sqlite3_bind_text(s, 4, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, c->not_before);
	sqlite3_bind_int64(s, 6, c->not_after);
	sqlite3_bind_int64(s, 7, c->added);
	return st_step_done(st, s, "org_cert");
}

int store_cert_add(struct store *st, const char *slug, const struct store_cert *c)
{
	int r;
	WITH_TX(st, cert_add_tx(st, slug, c));
	return r;
}

static int cert_remove_tx(struct store *st, const char *slug, const unsigned char sha256[32])
{
	sqlite3_stmt *s = NULL;
	char hex[65];
	int64_t id;
	int r;

	if ((r = st_org_id(st, slug, &id)))
		return r;
	if ((r = st_prep(st, &s, "DELETE FROM org_cert WHERE sha256 = ?1 AND org_id = ?2")))
		return r;
	sqlite3_bind_blob(s, 1, sha256, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	if ((r = st_step_done(st, s, "org_cert")))
		return r;
	if (sqlite3_changes(st->db) == 0) {
		au_hex(sha256, 32, hex);
		return st_seterr(st, -ENOENT, "'%s' has no certificate SHA256:%s", slug, hex);
	}
	return 0;
}

int store_cert_remove(struct store *st, const char *slug, const unsigned char sha256[32])
{
	int r;
	WITH_TX(st, cert_remove_tx(st, slug, sha256));
	return r;
}

/* ---- listing ------------------------------------------------------------------------ */

int store_cert_list(struct store *st, int (*fn)(void *arg, const struct store_cert *c),
		    void *arg)
{
	sqlite3_stmt *s = NULL;
	int r = st_prep(st, &s, "SELECT c.sha256, c.sha1, o.slug, c.subject, c.not_before, "
				"c.not_after, c.added FROM org_cert c JOIN org o ON o.id = c.org_id "
				"ORDER BY o.slug, c.sha256");
	int rc;
	if (r)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_cert c;
		const void *a = sqlite3_column_blob(s, 0), *b = sqlite3_column_blob(s, 1);
		if (!a || !b || sqlite3_column_bytes(s, 0) != 32 || sqlite3_column_bytes(s, 1) != 20) {
			r = st_seterr(st, -EBADMSG, "org_cert: a fingerprint is malformed");
			break;
		}
		memcpy(c.sha256, a, 32);
		memcpy(c.sha1, b, 20);
		c.slug = (const char *)sqlite3_column_text(s, 2);
		c.subject = (const char *)sqlite3_column_text(s, 3);
		if (!c.subject)
			c.subject = "";
		c.not_before = sqlite3_column_int64(s, 4);
		c.not_after = sqlite3_column_int64(s, 5);
		c.added = sqlite3_column_int64(s, 6);
		if ((r = fn(arg, &c)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = st_sql_err(st, rc, "org_cert");
	sqlite3_finalize(s);
	return r;
}
