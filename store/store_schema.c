/*
 * store_schema.c - the schema, as the list of migrations that build it.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>


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
	/* 4: TLS client certificates bound to organisations (store_cert.c;
	 * docs/HTTPS.md): one organisation per certificate, found by the
	 * SHA-256 of its DER bytes, or by the SHA-1 nginx gives (IF NOT EXISTS:
	 * a store rewound to an older user_version migrates again) */
	"CREATE TABLE IF NOT EXISTS org_cert(sha256 BLOB PRIMARY KEY, sha1 BLOB NOT NULL UNIQUE,"
	"  org_id INTEGER NOT NULL REFERENCES org(id), subject TEXT NOT NULL,"
	"  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, added INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS org_cert_org ON org_cert(org_id);",
	/* 5: policies that take effect at a set moment (`policy load
	 * --effective T`); a policy without a row takes effect when it is
	 * loaded, as before.  A table of its own, not a column: IF NOT EXISTS
	 * keeps the step safe to run again */
	"CREATE TABLE IF NOT EXISTS policy_effective(policy_id INTEGER PRIMARY KEY"
	"  REFERENCES policy(id), at INTEGER NOT NULL);",
	/* 6: the remote address of a disclosure through `advisoryfs serve` (the
	 * SSH connection's peer); '' for a local mount's read, whose hash keeps
	 * the v1 encoding (docs/LEDGER.md) */
	"ALTER TABLE ledger ADD COLUMN peer TEXT NOT NULL DEFAULT '';",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Bring the schema to the newest version, one transaction per step. */
int st_migrate(struct store *st)
{
	int64_t v;
	int r = st_pragma_int(st, "PRAGMA user_version", &v);
	if (r)
		return r;
	if (v > NMIGRATIONS)
		return st_seterr(st, -EPROTO,
				 "store schema version %lld is newer than this advisoryfs (%d)",
				 (long long)v, NMIGRATIONS);
	for (int i = (int)v; i < NMIGRATIONS; i++) {
		char sql[64];
		if ((r = st_exec(st, "BEGIN IMMEDIATE")))
			return r;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
		if ((r = st_exec(st, migrations[i])) || (r = st_exec(st, sql))) {
			st_exec(st, "ROLLBACK");
			return r;
		}
		if ((r = st_exec(st, "COMMIT")))
			return r;
	}
	return 0;
}

/* The schema version this advisoryfs writes: the number of migrations. */
int st_schema_newest(void)
{
	return NMIGRATIONS;
}
