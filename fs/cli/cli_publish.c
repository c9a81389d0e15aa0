/*
 * cli_publish.c - `advisoryfs publish`, `import`, `withdraw` and `share`:
 * the commands that put advisories into the store and take them out of
 * every view.
 *
 * Sections: publish and import; withdraw and share.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "csaf.h"
#include "digest.h"
#include "pgp.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "view.h"

/* ---- publish and import ---------------------------------------------------------------- */

static const char publish_help[] =
	"usage: advisoryfs -s STORE publish FILE... [--tlp LABEL] [--concerns SLUG,...]\n"
	"              [--sectors S,...] [--personal-data] [--impact significant]\n"
	"              [--embargo-until T] [--signature FILE.asc] [--check]\n"
	"              [--dry-run [--json]]\n"
	"\n"
	"Validate CSAF 2.0 documents and store them, byte for byte.  All or nothing:\n"
	"if any FILE is refused, nothing is stored.  A document must pass the CSAF 2.0\n"
	"JSON schema (strict: no unknown members) and the mandatory tests of section\n"
	"6.1; each refusal names the file, the JSON path and the rule.  A newer\n"
	"tracking.version of a stored id replaces what views serve and needs a later\n"
	"current_release_date; the same version with other bytes, an older version,\n"
	"or an id whose CSAF file name is taken are refused.\n"
	"\n"
	"  --check                validate only: the same checks and report against\n"
	"                         the store, which is left untouched\n"
	"  --tlp LABEL            CLEAR, GREEN, AMBER, AMBER+STRICT or RED; may only\n"
	"                         tighten the document's own label (needed when it has none)\n"
	"  --concerns SLUG,...    organisations the advisory concerns\n"
	"  --sectors S,...        sectors it concerns (the policy's vocabulary)\n"
	"  --personal-data        it carries personal data (IP or e-mail addresses,\n"
	"                         credentials)\n"
	"  --impact significant   significant consequences for continuity of service\n"
	"  --embargo-until T      visible to nobody before T\n"
	"  --signature FILE.asc   the publisher's OpenPGP signature (one FILE only)\n"
	"  --dry-run              validate, and print for each document who may receive\n"
	"                         it the moment it is released (as 'recipients'); store\n"
	"                         nothing\n"
	"  --json                 with --dry-run: the reports as a JSON array\n";

/*
 * Without a publisher's signature, sign with the store's own key if one is
 * configured ('advisoryfs key generate').  Returns 0 (pub->signature set
 * to an allocated signature in *ret_own, or left NULL when there is no
 * key) or -errno with a message in why.
 */
static int sign_if_unsigned(struct store *st, struct store_publish *pub, char **ret_own,
			    char *why, size_t whylen)
{
	size_t len = 0;
	*ret_own = NULL;
	if (pub->signature)
		return 0;
	int r = store_sign(st, pub->bytes, pub->len, ret_own, &len);
	if (r == -ENOENT)
		return 0;
	if (r) {
		snprintf(why, whylen, "signing with the store's key: %s", pgp_strerror(r));
		return r;
	}
	pub->signature = *ret_own;
	pub->siglen = len;
	return 0;
}

/* Split "a,b,c" into a malloc'ed array of strdup'ed strings in d. */
static int split_list(const char *s, char ***ret, size_t *ret_n, size_t max, const char *what)
{
	char *copy = strdup(s), *save = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*ret_n >= max) {
			cmd_err("publish: more than %zu %s (the limit)", max, what);
			free(copy);
			return -E2BIG;
		}
		char **n = realloc(*ret, (*ret_n + 1) * sizeof(char *));
		if (!n) {
			free(copy);
			return -ENOMEM;
		}
		*ret = n;
		if (!(n[(*ret_n)++] = strdup(tok))) {
			(*ret_n)--;
			free(copy);
			return -ENOMEM;
		}
	}
	free(copy);
	return 0;
}

int cli_publish(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tlp", required_argument, NULL, 'T' },
		{ "concerns", required_argument, NULL, 'c' },
		{ "sectors", required_argument, NULL, 'S' },
		{ "personal-data", no_argument, NULL, 'p' },
		{ "impact", required_argument, NULL, 'i' },
		{ "embargo-until", required_argument, NULL, 'e' },
		{ "signature", required_argument, NULL, 'g' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'C' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_publish pub = { 0 };
	const char *sigfile = NULL;
	int c, rc = 1, dry_run = 0, json = 0, check = 0;
	char **ids = NULL; /* dry run: tracking id and version of each FILE */

	if (cmd_want_help(argc, argv)) {
		fputs(publish_help, stdout);
		return 0;
	}
	csaf_dist_init(&pub.dist);
	optind = 0;
	while ((c = cmd_next_opt("publish", argc, argv, "s:h", lo)) != -1) {
		switch (c) {
		case '?':
			rc = 2;
			goto out;
		case 'T':
			pub.dist.tlp = csaf_tlp_parse(optarg);
			if (pub.dist.tlp == CSAF_TLP_NONE) {
				rc = cmd_usage_error("publish", "--tlp: unknown label '%s' (CLEAR, "
						     "GREEN, AMBER, AMBER+STRICT, RED)", optarg);
				goto out;
			}
			break;
		case 'c':
			if (split_list(optarg, &pub.dist.concerns, &pub.dist.nconcerns,
				       CSAF_MAX_CONCERNS, "concerned organisations"))
				goto out;
			break;
		case 'S':
			if (split_list(optarg, &pub.dist.sectors, &pub.dist.nsectors,
				       CSAF_MAX_SECTORS, "sectors"))
				goto out;
			break;
		case 'p':
			pub.dist.personal_data = 1;
			break;
		case 'i':
			if (strcmp(optarg, "significant") && strcmp(optarg, "none")) {
				rc = cmd_usage_error("publish", "--impact: expected 'significant' "
						     "or 'none', got '%s'", optarg);
				goto out;
			}
			pub.dist.impact_significant = !strcmp(optarg, "significant");
			break;
		case 'e':
			if (cmd_parse_time("publish", "--embargo-until", optarg, 0,
					   &pub.dist.embargo_until)) {
				rc = 2;
				goto out;
			}
			break;
		case 'g':
			sigfile = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'C':
			check = 1;
			break;
		case 's':
			ctx->store_path = optarg;
			break;
		}
	}
	for (size_t i = 0; i < pub.dist.nconcerns; i++)
		if (!au_slug_valid(pub.dist.concerns[i])) {
			rc = cmd_usage_error("publish", "--concerns: invalid slug '%s'",
					     pub.dist.concerns[i]);
			goto out;
		}
	if (optind >= argc) {
		rc = cmd_usage_error("publish", "no FILE given");
		goto out;
	}
	if (json && !dry_run) {
		rc = cmd_usage_error("publish", "--json needs --dry-run");
		goto out;
	}
	if (dry_run && !(ids = calloc(2 * (size_t)(argc - optind), sizeof(char *))))
		goto out;
	if (sigfile && argc - optind > 1) {
		rc = cmd_usage_error("publish", "--signature applies to one FILE only");
		goto out;
	}

	char *sig = NULL, why[128];
	size_t siglen = 0;
	if (sigfile) {
		int r = cmd_read_file(sigfile, 64 * 1024, &sig, &siglen);
		if (r) {
			cmd_err("publish: %s: %s", ESC(sigfile), cmd_read_error(r, 64 * 1024, why,
								      sizeof(why)));
			goto out;
		}
		pub.signature = sig;
		pub.siglen = siglen;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st) {
		free(sig);
		goto out;
	}
	int r = store_begin(st), failed = 0, published = 0, same = 0;
	if (r) {
		cmd_err("publish: %s", store_errmsg(st));
		failed = 1;
	}
	for (int i = optind; !r && i < argc; i++) {
		char *bytes = NULL;
		size_t len = 0;
		int dup = 0;
		int e = cmd_read_file(argv[i], CSAF_MAX_DOC_BYTES, &bytes, &len);
		if (e) {
			cmd_err("publish: %s: %s", ESC(argv[i]), cmd_read_error(e, CSAF_MAX_DOC_BYTES, why,
								      sizeof(why)));
			failed++;
			continue;
		}
		pub.bytes = bytes;
		pub.len = len;
		pub.source = argv[i];
		char *own_sig = NULL;
		pub.signature = sig;
		pub.siglen = siglen;
		if ((e = sign_if_unsigned(st, &pub, &own_sig, why, sizeof(why)))) {
			cmd_err("publish: %s: %s", ESC(argv[i]), why);
			failed++;
			free(bytes);
			continue;
		}
		/* a savepoint per file, so that a refused file leaves nothing behind
		 * that could confuse the checks of the next one */
		if ((e = store_savepoint(st, 0)) == 0) {
			e = store_publish(st, &pub, &dup);
			if (store_savepoint(st, e ? 2 : 1) && !e)
				e = -EIO;
		}
		if (!e && dry_run) {
			struct csaf_doc doc;
			char err[256];
			if ((e = csaf_parse(bytes, len, &doc, err, sizeof(err))) == 0) {
				size_t k = 2 * (size_t)(i - optind);
				ids[k] = strdup(doc.tracking_id);
				ids[k + 1] = strdup(doc.version);
				csaf_doc_release(&doc);
				if (!ids[k] || !ids[k + 1])
					e = -ENOMEM;
			}
		}
		if (e) {
			cmd_err("publish: %s: %s", ESC(argv[i]), store_errmsg(st));
			failed++;
		} else if (dup) {
			same++;
		} else {
			published++;
		}
		free(own_sig);
		free(bytes);
	}
	if (!r && !failed && dry_run) {
		/* decided inside the transaction, which sees the documents; then
		 * rolled back, so that nothing is stored */
		cJSON *arr = json ? cJSON_CreateArray() : NULL;
		for (int i = 0; i < argc - optind && !failed; i++) {
			if (i && !json)
				printf("\n");
			failed = cli_dry_run_report(st, "publish", ids[2 * i], ids[2 * i + 1], json,
						    arr);
		}
		store_rollback(st);
		if (arr && !failed) {
			char *out = cJSON_Print(arr);
			if (out)
				printf("%s\n", out);
			free(out);
		}
		cJSON_Delete(arr);
		if (!failed && !json)
			printf("\ndry run: %d document%s valid, nothing stored\n", argc - optind,
			       argc - optind == 1 ? "" : "s");
		store_close(st);
		free(sig);
		rc = failed ? 1 : 0;
		goto out;
	}
	if (!r && check) {
		store_rollback(st);
		if (failed && argc - optind > 1)
			cmd_err("publish: --check: %d of %d refused", failed, argc - optind);
		else if (!failed)
			printf("checked %d document%s: %s %s\n", argc - optind,
			       argc - optind == 1 ? "" : "s",
			       argc - optind == 1 ? "it conforms" : "they conform",
			       same ? "(already stored unchanged)" : "and would be published");
		store_close(st);
		free(sig);
		rc = failed ? 1 : 0;
		goto out;
	}
	if (!r && failed) {
		store_rollback(st);
		if (argc - optind > 1) /* with one FILE its own line says it all */
			cmd_err("publish: nothing was stored (%d of %d refused)", failed,
				argc - optind);
	} else if (!r && (r = store_commit(st))) {
		cmd_err("publish: %s", store_errmsg(st));
		failed = 1;
	}
	if (!failed)
		printf("published %d document%s%s\n", published, published == 1 ? "" : "s",
		       same ? " (some were already stored unchanged)" : "");
	store_close(st);
	free(sig);
	rc = failed ? 1 : 0;
out:
	for (int i = 0; ids && i < 2 * (argc - optind); i++)
		free(ids[i]);
	free(ids);
	csaf_dist_release(&pub.dist);
	return rc;
}

static const char import_help[] =
	"usage: advisoryfs -s STORE import DIR [--quiet] [--dry-run [--json]]\n"
	"\n"
	"Publish every CSAF document under DIR (recursively; a received CSAF provider\n"
	"tree imports as it is).  For each FILE.json it reads the companions\n"
	"FILE.json.asc (signature), FILE.json.dist.json (distribution metadata: tlp,\n"
	"concerns, sectors, personal_data, impact, embargo_until) and, when present,\n"
	"checks FILE.json.sha256 and FILE.json.sha512 against the bytes.\n"
	"Versions of one id are published in version order.  Each document is\n"
	"stored completely or not at all; the others go on.  Provider metadata and\n"
	"ROLIE feeds are skipped.  Prints a line per file and a summary; exits 1 if\n"
	"anything was refused.\n"
	"\n"
	"  --quiet     only refused files and the summary\n"
	"  --dry-run   validate everything, print for each document who may receive\n"
	"              it the moment it is released; store nothing\n"
	"  --json      with --dry-run: the reports as a JSON array\n";

struct imp_file {
	char *path;
	char *tracking_id; /* NULL when the document is already refused */
	char *version;
	char *refusal;
	int stored;        /* published or already stored: a dry run reports it */
};

struct imp {
	struct imp_file *files;
	size_t n, cap;
	int err;
};

static struct imp *imp_walk; /* nftw has no user pointer; single-threaded */

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int imp_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct imp *im = imp_walk;
	if (type != FTW_F || !S_ISREG(sb->st_mode) || !has_suffix(path, ".json") ||
	    has_suffix(path, ".dist.json"))
		return 0;
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 256;
		struct imp_file *nf = realloc(im->files, cap * sizeof(*nf));
		if (!nf) {
			im->err = -ENOMEM;
			return 1;
		}
		im->files = nf;
		im->cap = cap;
	}
	struct imp_file *f = &im->files[im->n];
	memset(f, 0, sizeof(*f));
	if (!(f->path = strdup(path))) {
		im->err = -ENOMEM;
		return 1;
	}
	im->n++;
	return 0;
}

/* Order: by tracking id, then by version; refused files first (reported early). */
static int cmp_imp(const void *a, const void *b)
{
	const struct imp_file *x = a, *y = b;
	if (!x->tracking_id || !y->tracking_id) {
		if (!x->tracking_id && !y->tracking_id)
			return strcmp(x->path, y->path);
		return x->tracking_id ? 1 : -1;
	}
	int c = strcmp(x->tracking_id, y->tracking_id), v;
	if (c)
		return c;
	if (csaf_version_cmp(x->version, y->version, &v) == 0 && v)
		return v;
	return strcmp(x->path, y->path);
}

/* Is this JSON a CSAF provider-metadata, aggregator or ROLIE feed file? */
static int is_csaf_metadata(const char *bytes, size_t len)
{
	cJSON *j = cJSON_ParseWithLengthOpts(bytes, len, NULL, 0);
	int yes = 0;
	if (j && cJSON_IsObject(j) && !cJSON_GetObjectItemCaseSensitive(j, "document"))
		yes = cJSON_GetObjectItemCaseSensitive(j, "feed") ||
		      cJSON_GetObjectItemCaseSensitive(j, "canonical_url") ||
		      cJSON_GetObjectItemCaseSensitive(j, "aggregator") ||
		      cJSON_GetObjectItemCaseSensitive(j, "distributions");
	cJSON_Delete(j);
	return yes;
}

/*
 * Check FILE.sha256 / FILE.sha512 companions, if any, against the
 * document's bytes.  Returns 0 or -EINVAL with a reason in why.
 */
static int check_hash_file(const char *path, const char *suffix, const char *bytes, size_t len,
			   char *why, size_t whylen)
{
	char hp[PATH_MAX], *txt = NULL;
	size_t tlen;
	if (snprintf(hp, sizeof(hp), "%s%s", path, suffix) >= (int)sizeof(hp))
		return 0;
	if (access(hp, F_OK) != 0)
		return 0;
	if (cmd_read_file(hp, 4096, &txt, &tlen)) {
		snprintf(why, whylen, "%s: unreadable", suffix + 1);
		return -EINVAL;
	}
	unsigned char md[DIGEST_SHA512_LEN];
	size_t mdlen = DIGEST_SHA512_LEN;
	char hex[2 * DIGEST_SHA512_LEN + 1];
	if (strcmp(suffix, ".sha256") == 0) {
		mdlen = DIGEST_SHA256_LEN;
		digest_sha256(bytes, len, md);
	} else {
		digest_sha512(bytes, len, md);
	}
	au_hex(md, mdlen, hex);
	int ok = tlen >= 2 * mdlen && strncasecmp(txt, hex, 2 * mdlen) == 0;
	free(txt);
	if (!ok) {
		snprintf(why, whylen, "the bytes do not match %s", suffix + 1);
		return -EINVAL;
	}
	return 0;
}

/* Publish one import file (inside a savepoint).  Returns 0/1 dup/-err. */
static int import_one(struct store *st, struct imp_file *f, char *why, size_t whylen, int *ret_dup,
		      int *ret_skipped)
{
	char *bytes = NULL, *sig = NULL, *dist = NULL, *own_sig = NULL, cp[PATH_MAX];
	size_t len = 0, siglen = 0, distlen = 0;
	struct store_publish pub = { 0 };
	int r;

	csaf_dist_init(&pub.dist);
	*ret_skipped = 0;
	if ((r = cmd_read_file(f->path, CSAF_MAX_DOC_BYTES, &bytes, &len))) {
		cmd_read_error(r, CSAF_MAX_DOC_BYTES, why, whylen);
		goto out;
	}
	if (snprintf(cp, sizeof(cp), "%s.asc", f->path) < (int)sizeof(cp) &&
	    access(cp, F_OK) == 0 && (r = cmd_read_file(cp, 64 * 1024, &sig, &siglen))) {
		char e[128];
		snprintf(why, whylen, ".asc: %s", cmd_read_error(r, 64 * 1024, e, sizeof(e)));
		goto out;
	}
	if (snprintf(cp, sizeof(cp), "%s.dist.json", f->path) < (int)sizeof(cp) &&
	    access(cp, F_OK) == 0) {
		char err[256];
		if ((r = cmd_read_file(cp, CSAF_MAX_DIST_BYTES, &dist, &distlen))) {
			char e[128];
			snprintf(why, whylen, ".dist.json: %s",
				 cmd_read_error(r, CSAF_MAX_DIST_BYTES, e, sizeof(e)));
			goto out;
		}
		if ((r = csaf_dist_parse(dist, distlen, &pub.dist, err, sizeof(err)))) {
			snprintf(why, whylen, ".dist.json: %s", err);
			goto out;
		}
	}
	if ((r = check_hash_file(f->path, ".sha256", bytes, len, why, whylen)) ||
	    (r = check_hash_file(f->path, ".sha512", bytes, len, why, whylen)))
		goto out;
	pub.bytes = bytes;
	pub.len = len;
	pub.signature = sig;
	pub.siglen = siglen;
	pub.source = f->path;
	if ((r = sign_if_unsigned(st, &pub, &own_sig, why, whylen)))
		goto out;
	if ((r = store_publish(st, &pub, ret_dup))) {
		if (r == -EINVAL && is_csaf_metadata(bytes, len)) {
			*ret_skipped = 1;
			r = 0;
		} else {
			snprintf(why, whylen, "%s", store_errmsg(st));
		}
	}
out:
	csaf_dist_release(&pub.dist);
	free(bytes);
	free(sig);
	free(own_sig);
	free(dist);
	return r;
}

/* import --dry-run: the recipients of each document it would store,
 * inside the transaction that sees them.  Returns an exit code. */
static int import_dry_run_report(struct store *st, const struct imp *im, int json)
{
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	int rc = 0;
	for (size_t i = 0; i < im->n && !rc; i++) {
		const struct imp_file *f = &im->files[i];
		if (!f->stored)
			continue;
		if (!json)
			printf("\n%s:\n", ESC(f->path));
		rc = cli_dry_run_report(st, "import", f->tracking_id, f->version, json, arr);
	}
	if (arr && !rc) {
		char *out = cJSON_Print(arr);
		if (out)
			printf("%s\n", out);
		free(out);
	}
	cJSON_Delete(arr);
	if (!json && !rc)
		printf("\n");
	return rc;
}

int cli_import(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "quiet", no_argument, NULL, 'q' },
					     { "dry-run", no_argument, NULL, 'n' },
					     { "json", no_argument, NULL, 'j' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	struct imp im = { 0 };
	int quiet = 0, c, rc = 1, dry_run = 0, json = 0;
	if (cmd_want_help(argc, argv)) {
		fputs(import_help, stdout);
		return 0;
	}
	optind = 0;
	while ((c = cmd_next_opt("import", argc, argv, "s:hq", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'q')
			quiet = 1;
		else if (c == 'n')
			dry_run = 1;
		else if (c == 'j')
			json = quiet = 1;
		else if (c == 's')
			ctx->store_path = optarg;
	}
	if (argc - optind != 1)
		return cmd_usage_error("import", "expected one DIR");
	if (json && !dry_run)
		return cmd_usage_error("import", "--json needs --dry-run");
	const char *dir = argv[optind];
	struct stat sb;
	int st_ok = stat(dir, &sb) == 0;
	if (!st_ok || !S_ISDIR(sb.st_mode)) {
		cmd_err("import: %s: %s", ESC(dir), st_ok ? "not a directory" : strerror(errno));
		return 1;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;

	imp_walk = &im;
	if (nftw(dir, imp_visit, 32, FTW_PHYS) != 0 || im.err) {
		cmd_err("import: %s: %s", ESC(dir), strerror(im.err ? -im.err : errno));
		goto out;
	}
	/* pass 1: identify each document, so versions go in order */
	for (size_t i = 0; i < im.n; i++) {
		struct imp_file *f = &im.files[i];
		char *bytes = NULL, err[300];
		size_t len;
		struct csaf_doc doc;
		int r = cmd_read_file(f->path, CSAF_MAX_DOC_BYTES, &bytes, &len);
		if (r)
			f->refusal = strdup(cmd_read_error(r, CSAF_MAX_DOC_BYTES, err, sizeof(err)));
		else if (csaf_parse(bytes, len, &doc, err, sizeof(err)) == 0) {
			f->tracking_id = strdup(doc.tracking_id);
			f->version = strdup(doc.version);
			csaf_doc_release(&doc);
		} else if (is_csaf_metadata(bytes, len)) {
			f->refusal = strdup("-"); /* skipped, not refused */
		} else {
			f->refusal = strdup(err);
		}
		free(bytes);
	}
	qsort(im.files, im.n, sizeof(*im.files), cmp_imp);

	/* pass 2: publish, a savepoint per document, a commit every batch */
	int tty = isatty(STDERR_FILENO), published = 0, same = 0, refused = 0, skipped = 0;
	int r = store_begin(st);
	for (size_t i = 0; !r && i < im.n; i++) {
		struct imp_file *f = &im.files[i];
		char why[512];
		int dup = 0, skip = 0, e;
		if (tty && (i % 16 == 0 || i + 1 == im.n))
			fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", i + 1, im.n, ESC(f->path));
		if (f->refusal && !strcmp(f->refusal, "-")) {
			skip = 1;
			e = 0;
		} else if (f->refusal) {
			snprintf(why, sizeof(why), "%s", f->refusal);
			e = -EINVAL;
		} else if ((e = store_savepoint(st, 0)) == 0) {
			e = import_one(st, f, why, sizeof(why), &dup, &skip);
			if (store_savepoint(st, e ? 2 : 1) && !e) {
				snprintf(why, sizeof(why), "%s", store_errmsg(st));
				e = -EIO;
			}
		} else {
			snprintf(why, sizeof(why), "%s", store_errmsg(st));
		}
		if (tty && !quiet)
			fprintf(stderr, "\r\033[K");
		f->stored = !e && !skip;
		if (e) {
			refused++;
			if (json)
				cmd_err("import: %s: %s", ESC(f->path), why);
			else
				printf("refused    %s: %s\n", ESC(f->path), why);
		} else if (skip) {
			skipped++;
			if (!quiet)
				printf("skipped    %s: CSAF metadata, not a document\n", ESC(f->path));
		} else if (dup) {
			same++;
			if (!quiet)
				printf("unchanged  %s (%s %s)\n", ESC(f->path), f->tracking_id, f->version);
		} else {
			published++;
			if (!quiet)
				printf("published  %s (%s %s)\n", ESC(f->path), f->tracking_id, f->version);
		}
		if ((i + 1) % 256 == 0 && !dry_run) {
			if ((r = store_commit(st)) == 0)
				r = store_begin(st);
		}
		fflush(stdout);
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (!r && dry_run) {
		rc = import_dry_run_report(st, &im, json);
		store_rollback(st);
		if (!rc && !json)
			printf("dry run: %d valid, %d refused, %d skipped; nothing stored\n",
			       published + same, refused, skipped);
		rc = rc || refused ? 1 : 0;
		goto out;
	}
	if (!r)
		r = store_commit(st);
	if (r) {
		cmd_err("import: %s", store_errmsg(st));
		goto out;
	}
	printf("%d published, %d unchanged, %d refused, %d skipped\n", published, same, refused,
	       skipped);
	rc = refused ? 1 : 0;
out:
	for (size_t i = 0; i < im.n; i++) {
		free(im.files[i].path);
		free(im.files[i].tracking_id);
		free(im.files[i].version);
		free(im.files[i].refusal);
	}
	free(im.files);
	store_close(st);
	return rc;
}

/* ---- withdraw and share ---------------------------------------------------------------- */

static const char withdraw_help[] =
	"usage: advisoryfs -s STORE withdraw ID [--reason TEXT]\n"
	"\n"
	"Withdraw an advisory (by tracking id or file name): from now on it leaves\n"
	"every view.  Its versions stay in the store, and 'visible --at' an earlier\n"
	"moment still shows it.\n"
	"\n"
	"  --reason TEXT   why, for the record\n";

static const char share_help[] =
	"usage: advisoryfs -s STORE share ID SLUG --reason TEXT\n"
	"\n"
	"Record a special-case decision to share advisory ID directly with the\n"
	"organisation SLUG (Wbni art. 3(2)(e) from 2022-12-01).  The policy decides\n"
	"what the record allows; the reason is kept with it.\n"
	"\n"
	"  --reason TEXT   the grounds for the decision (required)\n";

/* withdraw and share share their shape: ID [SLUG] --reason */
static int withdraw_or_share(struct cmd_ctx *ctx, int argc, char **argv, int share)
{
	static const struct option lo[] = { { "reason", required_argument, NULL, 'r' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *cmd = share ? "share" : "withdraw", *reason = NULL;
	int c;
	if (cmd_want_help(argc, argv)) {
		fputs(share ? share_help : withdraw_help, stdout);
		return 0;
	}
	optind = 0;
	while ((c = cmd_next_opt(cmd, argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'r')
			reason = optarg;
		else if (c == 's')
			ctx->store_path = optarg;
	}
	if (argc - optind != (share ? 2 : 1))
		return cmd_usage_error(cmd, share ? "expected ID and SLUG" : "expected one ID");
	if (share && !reason)
		return cmd_usage_error(cmd, "--reason is required");
	if (reason && strlen(reason) > 4096) {
		cmd_err("%s: --reason longer than 4096 bytes (the limit)", cmd);
		return 1;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;
	int r = share ? store_share(st, argv[optind], argv[optind + 1], reason, au_now())
		      : store_withdraw(st, argv[optind], reason, au_now());
	if (r)
		cmd_err("%s: %s", cmd, store_errmsg(st));
	store_close(st);
	return r ? 1 : 0;
}

int cli_withdraw(struct cmd_ctx *ctx, int argc, char **argv)
{
	return withdraw_or_share(ctx, argc, argv, 0);
}

int cli_share(struct cmd_ctx *ctx, int argc, char **argv)
{
	return withdraw_or_share(ctx, argc, argv, 1);
}
