/*
 * cli_audit.c - `advisoryfs audit`: the disclosure ledger.
 *
 *   audit [--recipient SLUG] [--advisory ID] [--since T] [--json]   list entries
 *   audit --verify [--signer FPR] [--json]                          check the chain
 *   audit --checkpoint                                              sign the head
 *
 * The ledger is written by mounts (fs/mount/mount_ledger.c) and read here
 * through store/ledger.c; docs/LEDGER.md describes the entries, the hash
 * chain and the checkpoints.  Listing and verifying open the store
 * read-only, so an auditor can work on a copy.  A checkpoint is signed
 * with the store's OpenPGP key (`advisoryfs key generate`), loaded by
 * store_sign() with its usual checks on the key file.
 *
 * This is a boundary like cmd.c: errors are printed once, as
 * "advisoryfs: audit: <why>".
 *
 * Sections: helpers; listing; verifying; checkpoints; cli_audit().
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "pgp.h"
#include "store.h"
#include "util.h"

static const char audit_help[] =
	"usage: advisoryfs -s STORE audit [--recipient SLUG] [--advisory ID] [--since T] [--json]\n"
	"       advisoryfs -s STORE audit --verify [--signer FPR] [--json]\n"
	"       advisoryfs -s STORE audit --checkpoint\n"
	"\n"
	"The disclosure ledger: one entry for the first read of each advisory\n"
	"version by each recipient, written by the mount (or by 'serve' for a\n"
	"remote mount) before any byte left (time, recipient, reading uid, advisory\n"
	"id, version, SHA-256 of the bytes, the rules that permitted it, and the\n"
	"SSH peer's address of a remote read, '-' for a local one), each entry\n"
	"chained to the one before with SHA-256.\n"
	"\n"
	"  (no action)      list entries, oldest first, tab-separated with a header\n"
	"  --recipient SLUG only entries of this recipient ('public': the public view)\n"
	"  --advisory ID    only entries of this tracking id\n"
	"  --since T        only entries at or after T\n"
	"  --verify         check the whole chain and every checkpoint; names the first\n"
	"                   altered or missing entry and exits 1\n"
	"  --signer FPR     with --verify: checkpoints must be signed by this key\n"
	"                   (40 hex digits, as 'advisoryfs key show' prints it)\n"
	"  --checkpoint     sign the chain's head with the store's key (see 'advisoryfs\n"
	"                   key'), so that entries cut off the end before it show\n"
	"  --json           machine-readable output (list, verify)\n";

/* ---- helpers ---------------------------------------------------------------------------- */

/* Open the ledger of the store named by ctx; prints the error. */
static struct store_ledger *audit_open(const struct cmd_ctx *ctx, int flags)
{
	struct store_ledger *l = NULL;
	const char *path = cmd_need_store(ctx);
	if (!path)
		return NULL;
	int r = store_ledger_open(path, flags, &l);
	if (r) {
		cmd_err("audit: %s", l ? store_ledger_errmsg(l) : strerror(-r));
		store_ledger_close(l);
		return NULL;
	}
	return l;
}

static void audit_hex(const unsigned char *h, char out[2 * STORE_LEDGER_HASH_LEN + 1])
{
	au_hex(h, STORE_LEDGER_HASH_LEN, out);
}

/* ---- listing ---------------------------------------------------------------------------- */

struct audit_list {
	cJSON *arr;                 /* --json; else text to stdout */
	int failed;                 /* out of memory building JSON */
};

static int audit_print_entry(void *arg, const struct store_ledger_entry *e)
{
	struct audit_list *al = arg;
	char t[AU_TIME_LEN], sha[65], prev[65], hash[65];

	au_format_time(e->at, t);
	au_hex(e->sha256, sizeof(e->sha256), sha);
	audit_hex(e->prev_hash, prev);
	audit_hex(e->hash, hash);
	if (!al->arr) {
		printf("%lld\t%s\t%s\t%lld\t%s\t%s\t%s\t%s\t%s\n", (long long)e->seq, t,
		       e->recipient, (long long)e->uid, e->tracking_id, e->version, sha, e->rules,
		       e->peer && *e->peer ? e->peer : "-");
		return 0;
	}
	cJSON *o = cJSON_CreateObject(), *rules = cJSON_CreateArray();
	if (!o || !rules) {
		cJSON_Delete(o);
		cJSON_Delete(rules);
		al->failed = 1;
		return -ENOMEM;
	}
	cJSON_AddItemToArray(al->arr, o);
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	cJSON_AddStringToObject(o, "at", t);
	cJSON_AddStringToObject(o, "recipient", e->recipient);
	cJSON_AddNumberToObject(o, "uid", (double)e->uid);
	cJSON_AddStringToObject(o, "tracking_id", e->tracking_id);
	cJSON_AddStringToObject(o, "version", e->version);
	cJSON_AddStringToObject(o, "sha256", sha);
	cJSON_AddStringToObject(o, "peer", e->peer ? e->peer : "");
	/* the ids, split again: rule ids hold no ',' (policy ids are names) */
	const char *p = e->rules;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *id = strndup(p, n);
		if (id)
			cJSON_AddItemToArray(rules, cJSON_CreateString(id));
		else
			al->failed = 1;
		free(id);
		p += n + (end ? 1 : 0);
	}
	cJSON_AddItemToObject(o, "rules", rules);
	cJSON_AddStringToObject(o, "prev_hash", prev);
	cJSON_AddStringToObject(o, "hash", hash);
	return 0;
}

static int audit_list(struct store_ledger *l, const struct store_ledger_filter *f, int json)
{
	struct audit_list al = { .arr = json ? cJSON_CreateArray() : NULL };
	int r;

	if (json && !al.arr) {
		cmd_err("audit: out of memory");
		return 1;
	}
	if (!json)
		printf("seq\tat\trecipient\tuid\tadvisory\tversion\tsha256\trules\tpeer\n");
	r = store_ledger_each(l, f, audit_print_entry, &al);
	if (r || al.failed) {
		cmd_err("audit: %s", r && r != -ENOMEM ? store_ledger_errmsg(l) : "out of memory");
		cJSON_Delete(al.arr);
		return 1;
	}
	if (json) {
		char *out = cJSON_Print(al.arr);
		cJSON_Delete(al.arr);
		if (!out) {
			cmd_err("audit: out of memory");
			return 1;
		}
		printf("%s\n", out);
		free(out);
	}
	return 0;
}

/* ---- verifying -------------------------------------------------------------------------- */

static int audit_verify(struct store_ledger *l, const char *signer, int json)
{
	struct store_ledger_report rep;
	char head[65];
	int r = store_ledger_verify(l, signer, &rep);

	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *out = NULL;
		if (o) {
			cJSON_AddBoolToObject(o, "intact", r == 0);
			if (r) {
				cJSON_AddStringToObject(o, "error", store_ledger_errmsg(l));
			} else {
				audit_hex(rep.head_hash, head);
				cJSON_AddNumberToObject(o, "entries", (double)rep.entries);
				cJSON_AddNumberToObject(o, "head_seq", (double)rep.head_seq);
				cJSON_AddStringToObject(o, "head_hash", head);
				cJSON_AddNumberToObject(o, "checkpoints", (double)rep.checkpoints);
				cJSON_AddNumberToObject(o, "checkpoint_seq",
							(double)rep.checkpoint_seq);
				if (rep.checkpoints)
					cJSON_AddStringToObject(o, "signer", rep.signer);
				else
					cJSON_AddNullToObject(o, "signer");
			}
			out = cJSON_Print(o);
			cJSON_Delete(o);
		}
		if (out)
			printf("%s\n", out);
		free(out);
	}
	if (r) {
		cmd_err("audit: %s", store_ledger_errmsg(l));
		return 1;
	}
	if (json)
		return 0;
	audit_hex(rep.head_hash, head);
	printf("ledger intact: %lld entries, head seq %lld, hash %s\n", (long long)rep.entries,
	       (long long)rep.head_seq, head);
	if (rep.checkpoints)
		printf("%lld checkpoints good, the last at seq %lld, signed by %s; %lld entries "
		       "after it\n",
		       (long long)rep.checkpoints, (long long)rep.checkpoint_seq, rep.signer,
		       (long long)(rep.head_seq - rep.checkpoint_seq));
	else if (rep.entries)
		printf("no checkpoints: entries cut off the end would not show "
		       "(see 'advisoryfs audit --checkpoint')\n");
	return 0;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

/*
 * Sign the head with the store's key and record it.  The key is the one
 * publish signs with (store_sign(), store/store_sign.c); its
 * fingerprint is the store's "signing_fpr".
 */
static int audit_checkpoint(const struct cmd_ctx *ctx, struct store_ledger *l)
{
	unsigned char hash[STORE_LEDGER_HASH_LEN];
	char stmt[STORE_LEDGER_STATEMENT_MAX], hex[65];
	char *asc = NULL, *fpr = NULL;
	size_t asclen = 0, fprlen = 0, n;
	struct store *st = NULL;
	int64_t seq = 0, at = au_now();
	int r, rc = 1;

	if ((r = store_ledger_head(l, &seq, hash))) {
		cmd_err("audit: %s", store_ledger_errmsg(l));
		return 1;
	}
	if (seq == 0) {
		printf("the ledger is empty: nothing to sign\n");
		return 0;
	}
	if (!(st = cmd_open_store(ctx, STORE_RDONLY)))
		goto out;
	n = store_ledger_statement(seq, hash, at, stmt, sizeof(stmt));
	if (!n || n >= sizeof(stmt)) {
		cmd_err("audit: checkpoint statement too long");
		goto out;
	}
	r = store_meta_get(st, STORE_META_SIGNING_FPR, &fpr, &fprlen);
	if (!r)
		r = store_sign(st, stmt, n, &asc, &asclen);
	if (r == -ENOENT) {
		cmd_err("audit: checkpoint: the store has no signing key (make one with "
			"'advisoryfs key generate')");
		goto out;
	}
	if (r) {
		cmd_err("audit: checkpoint: %s", r == -EIO || r == -ENOMEM || r == -EBUSY
							 ? store_errmsg(st)
							 : pgp_strerror(r));
		goto out;
	}
	r = store_ledger_checkpoint_add(l, seq, hash, at, fpr, asc);
	if (r == -EEXIST) {
		printf("seq %lld has a checkpoint already\n", (long long)seq);
		rc = 0;
		goto out;
	}
	if (r) {
		cmd_err("audit: %s", store_ledger_errmsg(l));
		goto out;
	}
	audit_hex(hash, hex);
	printf("checkpoint at seq %lld, hash %s, signed by %s\n", (long long)seq, hex, fpr);
	rc = 0;
out:
	free(asc);
	free(fpr);
	store_close(st);
	return rc;
}

/* ---- cli_audit() ------------------------------------------------------------------------ */

int cli_audit(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "recipient", required_argument, NULL, 'r' },
		{ "advisory", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 't' },
		{ "signer", required_argument, NULL, 'k' },
		{ "verify", no_argument, NULL, 'v' },
		{ "checkpoint", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_ledger_filter f = { .recipient = NULL, .tracking_id = NULL,
					 .since = AU_T_MIN };
	const char *signer = NULL;
	int verify = 0, checkpoint = 0, json = 0, c, rc;

	optind = 0;
	while ((c = cmd_next_opt("audit", argc, argv, "s:h", lo)) != -1) {
		switch (c) {
		case '?':
			return 2;
		case 'h':
			fputs(audit_help, stdout);
			return 0;
		case 'r':
			if (strcmp(optarg, "public") != 0 && !au_slug_valid(optarg))
				return cmd_usage_error("audit", "'%s' is not an organisation slug",
						       optarg);
			f.recipient = optarg;
			break;
		case 'a':
			f.tracking_id = optarg;
			break;
		case 't':
			if (au_parse_time(optarg, 0, &f.since) < 0)
				return cmd_usage_error("audit", "--since: not a time: '%s' (use "
						       "2022-12-01 or 2022-12-01T09:00:00Z)", optarg);
			break;
		case 'k':
			signer = optarg;
			if (strlen(signer) != 40 || strspn(signer, "0123456789abcdefABCDEF") != 40)
				return cmd_usage_error("audit", "--signer: not a fingerprint (40 hex "
						       "digits): '%s'", signer);
			break;
		case 'v':
			verify = 1;
			break;
		case 'c':
			checkpoint = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			ctx->store_path = optarg;
			break;
		}
	}
	if (optind != argc)
		return cmd_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	if (verify + checkpoint > 1)
		return cmd_usage_error("audit", "--verify and --checkpoint do not go together");
	if ((verify || checkpoint) && (f.recipient || f.tracking_id || f.since != AU_T_MIN))
		return cmd_usage_error("audit", "--recipient, --advisory and --since only "
						"filter the list");
	if (signer && !verify)
		return cmd_usage_error("audit", "--signer goes with --verify");
	if (checkpoint && json)
		return cmd_usage_error("audit", "--checkpoint has no --json output");

	struct store_ledger *l = audit_open(ctx, checkpoint ? 0 : STORE_RDONLY);
	if (!l)
		return 1;
	if (verify)
		rc = audit_verify(l, signer, json);
	else if (checkpoint)
		rc = audit_checkpoint(ctx, l);
	else
		rc = audit_list(l, &f, json);
	store_ledger_close(l);
	return rc;
}
