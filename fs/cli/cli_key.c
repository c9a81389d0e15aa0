/*
 * cli_key.c - `advisoryfs key`: the store's OpenPGP signing key.
 *
 *   key generate --key FILE --uid "NAME <email>"   new Ed25519 key, file mode 0600
 *   key show | export | forget
 *   key sign [--write] FILE...                     detached .asc signatures
 *
 * The key itself stays in its file (see lib/crypto/pgp.h for the format and the
 * checks on loading); the store only records where it is and what it is,
 * in three meta values: "signing_key_path" (absolute), "signing_fpr" (40
 * uppercase hex digits) and "signing_pubkey" (the armoured public key that
 * views serve under openpgp/).  Forgetting removes those, never the file.
 *
 * Sections: the subcommands; cli_key().  Signing with the store's key
 * for publish, import, `key sign` and ledger checkpoints is store_sign()
 * (store/store_sign.c).
 *
 * This is a boundary like cmd.c: store/ and pgp.c return -errno, and this
 * file prints the error once, as "advisoryfs: key SUB: <why>".
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "pgp.h"
#include "store.h"
#include "util.h"

#define META_PATH   STORE_META_SIGNING_PATH
#define META_FPR    STORE_META_SIGNING_FPR
#define META_PUBKEY STORE_META_SIGNING_PUBKEY

/* Largest file `key sign` reads into memory (CSAF documents are far smaller). */
#define KEY_SIGN_MAX ((size_t)64 << 20)

/* ---- subcommands --------------------------------------------------------------------------- */

static const char key_help[] =
	"usage: advisoryfs -s STORE key generate --key FILE --uid 'NAME <EMAIL>'\n"
	"       advisoryfs -s STORE key show\n"
	"       advisoryfs -s STORE key export\n"
	"       advisoryfs -s STORE key sign [--write] FILE...\n"
	"       advisoryfs -s STORE key forget\n"
	"\n"
	"The store's OpenPGP signing key (Ed25519).  When a publisher supplies no\n"
	"FILE.json.asc, publish and import sign the document with this key, and\n"
	"every view serves the public key under openpgp/, so 'gpg --verify' works.\n"
	"\n"
	"  generate  make a new key in FILE (mode 0600; an existing FILE is never\n"
	"            overwritten) and record it in the store\n"
	"  show      fingerprint, user id, key file and the armoured public key\n"
	"  export    the armoured public key only (for 'gpg --import')\n"
	"  sign      print FILE's armoured detached signature; with --write, write\n"
	"            FILE.asc beside each FILE instead\n"
	"  forget    remove the store's reference to the key (the file stays)\n"
	"\n"
	"'advisoryfs key SUBCOMMAND --help' describes each.\n";

static const char generate_help[] =
	"usage: advisoryfs -s STORE key generate --key FILE --uid 'NAME <EMAIL>'\n"
	"\n"
	"Make a new Ed25519 OpenPGP key, write it to FILE and record in the store\n"
	"its absolute path, fingerprint and public key.  FILE is created with mode\n"
	"0600 and must not exist; the key is refused later if group or others can\n"
	"read or write it, or if it is not owned by the user who signs.  A store\n"
	"holds one key: run 'advisoryfs key forget' before making another.\n"
	"\n"
	"  --key FILE     where to write the private key (required)\n"
	"  --uid TEXT     the OpenPGP user id, e.g. 'NCSC <cert@example.nl>'\n"
	"                 (required; 1-256 bytes of UTF-8, no control characters)\n";

static const char show_help[] =
	"usage: advisoryfs -s STORE key show\n"
	"\n"
	"Print the signing key's fingerprint, user id, creation time, key file and\n"
	"whether that file can be used, then the armoured public key.\n";

static const char export_help[] =
	"usage: advisoryfs -s STORE key export\n"
	"\n"
	"Print the armoured public key of the store's signing key, as served under\n"
	"openpgp/ in every view; 'gpg --import' reads it.\n";

static const char sign_help[] =
	"usage: advisoryfs -s STORE key sign FILE\n"
	"       advisoryfs -s STORE key sign --write FILE...\n"
	"\n"
	"Sign files with the store's key: an ASCII-armoured detached OpenPGP\n"
	"signature (SHA-512, Ed25519) that 'gpg --verify FILE.asc FILE' checks.\n"
	"\n"
	"  --write, -w   write FILE.asc beside each FILE (never overwriting one)\n"
	"                instead of printing the signature of one FILE\n";

static const char forget_help[] =
	"usage: advisoryfs -s STORE key forget\n"
	"\n"
	"Remove the store's reference to its signing key: from then on, documents\n"
	"published without a signature are served without one.  The key file is\n"
	"left in place; delete it yourself if it is no longer wanted.\n";

/* generate: the key file first, then the store; undo the file if the store fails. */
static int key_generate(struct cmd_ctx *ctx, const char *file, const char *uid)
{
	struct store *st = NULL;
	struct pgp_key *key = NULL;
	char *abspath = NULL, *pub = NULL, *old = NULL, fpr[PGP_FPR_HEX_LEN];
	size_t publen = 0, oldlen = 0;
	uint32_t now;
	int created = 0, ret = 1, r;

	st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;
	r = store_meta_get(st, META_FPR, &old, &oldlen);
	if (r == 0) {
		cmd_err("key generate: the store already has a signing key (%s); run "
			"'advisoryfs key forget' first",
			old);
		goto out;
	}
	if (r != -ENOENT) {
		cmd_err("key generate: %s", store_errmsg(st));
		goto out;
	}
	if ((r = pgp_time_now(&now))) {
		cmd_err("key generate: the clock is outside OpenPGP's range of times");
		goto out;
	}
	r = pgp_key_generate(uid, now, &key);
	if (r == -EINVAL) {
		cmd_err("key generate: --uid: must be 1-%d bytes of UTF-8 without control "
			"characters",
			PGP_UID_MAX);
		goto out;
	}
	if (!r)
		r = pgp_public_key_armored(key, &pub, &publen);
	if (r) {
		cmd_err("key generate: %s", pgp_strerror(r));
		goto out;
	}
	if ((r = pgp_key_save(key, file))) {
		cmd_err("key generate: '%s': %s", file, pgp_strerror(r));
		goto out;
	}
	created = 1;
	abspath = realpath(file, NULL);
	if (!abspath) {
		cmd_err("key generate: '%s': %s", file, strerror(errno));
		goto out;
	}
	pgp_fingerprint_hex(key, fpr);
	r = store_begin(st);
	if (r) {
		cmd_err("key generate: %s", store_errmsg(st));
		goto out;
	}
	/* again, inside the transaction: another generate may have won meanwhile */
	r = store_meta_get(st, META_FPR, &old, &oldlen);
	if (r != -ENOENT) {
		store_rollback(st);
		if (r == 0)
			cmd_err("key generate: the store already has a signing key (%s); run "
				"'advisoryfs key forget' first",
				old);
		else
			cmd_err("key generate: %s", store_errmsg(st));
		goto out;
	}
	r = store_meta_set(st, META_PATH, abspath, strlen(abspath));
	if (!r)
		r = store_meta_set(st, META_FPR, fpr, strlen(fpr));
	if (!r)
		r = store_meta_set(st, META_PUBKEY, pub, publen);
	if (!r)
		r = store_commit(st);
	else
		store_rollback(st);
	if (r) {
		cmd_err("key generate: %s", store_errmsg(st));
		goto out;
	}
	printf("created %s\nfingerprint %s\n", abspath, fpr);
	ret = 0;
out:
	if (ret && created)
		unlink(file);
	free(old);
	free(pub);
	free(abspath);
	pgp_key_free(key);
	store_close(st);
	return ret;
}

/*
 * The store's public key (and, if asked, path and fingerprint), or an
 * error printed for sub.  Returns 0 or 1.  The caller frees the strings.
 */
static int key_get_meta(struct store *st, const char *sub, char **ret_pub, size_t *ret_publen,
			char **ret_path, char **ret_fpr)
{
	char *pub = NULL, *path = NULL, *fpr = NULL;
	size_t n = 0, publen = 0;
	int r = store_meta_get(st, META_PUBKEY, &pub, &publen);
	if (!r && ret_path)
		r = store_meta_get(st, META_PATH, &path, &n);
	if (!r && ret_fpr)
		r = store_meta_get(st, META_FPR, &fpr, &n);
	if (r) {
		if (r == -ENOENT)
			cmd_err("key %s: the store has no signing key (make one with "
				"'advisoryfs key generate')",
				sub);
		else
			cmd_err("key %s: %s", sub, store_errmsg(st));
		free(pub);
		free(path);
		free(fpr);
		return 1;
	}
	*ret_pub = pub;
	*ret_publen = publen;
	if (ret_path)
		*ret_path = path;
	if (ret_fpr)
		*ret_fpr = fpr;
	return 0;
}

static int key_show(struct cmd_ctx *ctx, int export_only)
{
	const char *sub = export_only ? "export" : "show";
	struct store *st = cmd_open_store(ctx, STORE_RDONLY);
	struct pgp_key *pub = NULL, *priv = NULL;
	char *armored = NULL, *path = NULL, *fpr = NULL, when[AU_TIME_LEN];
	size_t len = 0;
	int ret = 1;

	if (!st)
		return 1;
	if (key_get_meta(st, sub, &armored, &len, export_only ? NULL : &path,
			 export_only ? NULL : &fpr))
		goto out;
	if (export_only) {
		fwrite(armored, 1, len, stdout);
		ret = 0;
		goto out;
	}
	int r = pgp_key_from_public(armored, len, &pub);
	if (r) {
		cmd_err("key show: the store's signing_pubkey: %s", pgp_strerror(r));
		goto out;
	}
	au_format_time(pgp_key_created(pub), when);
	printf("fingerprint: %s\n", fpr);
	printf("uid:         %s\n", pgp_key_uid(pub));
	printf("created:     %s\n", when);
	printf("key file:    %s\n", path);
	r = pgp_key_load(path, &priv);
	if (!r && !pgp_fpr_matches(priv, fpr))
		r = -ENOKEY;
	if (!pgp_fpr_matches(pub, fpr))
		printf("status:      unusable: the store's public key and fingerprint differ\n");
	else if (r)
		printf("status:      unusable: %s\n", pgp_strerror(r));
	else
		printf("status:      usable\n");
	printf("\n");
	fwrite(armored, 1, len, stdout);
	ret = 0;
out:
	pgp_key_free(priv);
	pgp_key_free(pub);
	free(armored);
	free(path);
	free(fpr);
	store_close(st);
	return ret;
}

static int key_forget(struct cmd_ctx *ctx)
{
	struct store *st = cmd_open_store(ctx, 0);
	char *pub = NULL, *path = NULL, *fpr = NULL;
	size_t len = 0;
	int ret = 1, r;

	if (!st)
		return 1;
	if (key_get_meta(st, "forget", &pub, &len, &path, &fpr))
		goto out;
	r = store_begin(st);
	if (!r)
		r = store_meta_set(st, META_PATH, NULL, 0);
	if (!r)
		r = store_meta_set(st, META_FPR, NULL, 0);
	if (!r)
		r = store_meta_set(st, META_PUBKEY, NULL, 0);
	if (!r)
		r = store_commit(st);
	else
		store_rollback(st);
	if (r) {
		cmd_err("key forget: %s", store_errmsg(st));
		goto out;
	}
	printf("forgot signing key %s (the key file %s is left in place)\n", fpr, path);
	ret = 0;
out:
	free(pub);
	free(path);
	free(fpr);
	store_close(st);
	return ret;
}

/* Write FILE.asc beside file, never replacing one.  Returns 0 or -errno. */
static int write_asc(const char *file, const char *asc, size_t len)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s.asc", file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		      0644);
	if (fd < 0)
		return -errno;
	int r = 0;
	while (!r && len) {
		ssize_t w = write(fd, asc, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
		} else {
			asc += w;
			len -= (size_t)w;
		}
	}
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r)
		unlink(path);
	return r;
}

static int key_sign(struct cmd_ctx *ctx, int write, int nfiles, char **files)
{
	struct store *st = cmd_open_store(ctx, STORE_RDONLY);
	int ret = 0;
	if (!st)
		return 1;
	for (int i = 0; i < nfiles && !ret; i++) {
		char *data = NULL, *asc = NULL;
		size_t len = 0, asclen = 0;
		int r = cmd_read_file(files[i], KEY_SIGN_MAX, &data, &len);
		if (r) {
			if (r == -E2BIG)
				cmd_err("key sign: '%s': larger than the limit of %zu bytes",
					files[i], KEY_SIGN_MAX);
			else
				cmd_err("key sign: '%s': %s", files[i], strerror(-r));
			ret = 1;
			break;
		}
		r = store_sign(st, data, len, &asc, &asclen);
		if (r == -ENOENT)
			cmd_err("key sign: the store has no signing key (make one with "
				"'advisoryfs key generate')");
		else if (r)
			cmd_err("key sign: %s", pgp_strerror(r));
		else if (write && (r = write_asc(files[i], asc, asclen)))
			cmd_err("key sign: '%s.asc': %s", files[i],
				r == -EEXIST ? "exists (not overwritten)" : strerror(-r));
		else if (!write)
			fwrite(asc, 1, asclen, stdout);
		ret = r ? 1 : 0;
		free(asc);
		free(data);
	}
	store_close(st);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_err("key sign: writing the signature: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}

/* ---- cli_key ------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	const char *help;
} key_subs[] = {
	{ "generate", generate_help }, { "show", show_help },	  { "export", export_help },
	{ "sign", sign_help },	       { "forget", forget_help },
};

int cli_key(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "key", required_argument, NULL, 'k' },
					     { "uid", required_argument, NULL, 'u' },
					     { "write", no_argument, NULL, 'w' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *help = NULL, *file = NULL, *uid = NULL;
	char cmd[32];
	int c, write = 0;

	if (argc >= 2)
		for (size_t i = 0; i < sizeof(key_subs) / sizeof(key_subs[0]); i++)
			if (!strcmp(argv[1], key_subs[i].name))
				help = key_subs[i].help;
	if (cmd_want_help(argc, argv)) {
		fputs(help ? help : key_help, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("key",
				       "missing subcommand (generate, show, export, sign, forget)");
	if (!help)
		return cmd_usage_error("key", "unknown subcommand '%s'", argv[1]);
	const char *sub = argv[1];
	int n = snprintf(cmd, sizeof(cmd), "key %s", sub);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return cmd_usage_error("key", "unknown subcommand '%s'", sub);

	optind = 0;
	while ((c = cmd_next_opt(cmd, argc - 1, argv + 1, "s:hw", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 's')
			ctx->store_path = optarg;
		else if (c == 'k' && !strcmp(sub, "generate"))
			file = optarg;
		else if (c == 'u' && !strcmp(sub, "generate"))
			uid = optarg;
		else if (c == 'w' && !strcmp(sub, "sign"))
			write = 1;
		else if (c == 'k' || c == 'u' || c == 'w')
			return cmd_usage_error(cmd, "unknown option '%s'",
					       c == 'k' ? "--key" : c == 'u' ? "--uid" : "--write");
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;

	if (!strcmp(sub, "sign")) {
		if (nargs < 1 || (!write && nargs != 1))
			return cmd_usage_error(cmd, write ? "expected FILE..." : "expected one FILE");
		return key_sign(ctx, write, nargs, args);
	}
	if (nargs != 0)
		return cmd_usage_error(cmd, "unexpected argument '%s'", args[0]);
	if (!strcmp(sub, "generate")) {
		if (!file)
			return cmd_usage_error(cmd, "--key FILE is required");
		if (!uid)
			return cmd_usage_error(cmd, "--uid is required");
		return key_generate(ctx, file, uid);
	}
	if (!strcmp(sub, "forget"))
		return key_forget(ctx);
	return key_show(ctx, !strcmp(sub, "export"));
}
