/*
 * cli_provider.c - `advisoryfs provider`: who publishes the trees.
 *
 *   provider set [--base-url URL] [--publisher-name NAME] [--namespace URL]
 *                [--category CAT] [--contact TEXT] [--issuing-authority TEXT]
 *   provider show [SLUG] [--json]
 *   provider reset
 *
 * Every recipient's directory holds a CSAF 2.0 provider-metadata.json
 * (fs/view/view.c, view_set_provider()) made from these values, kept in the
 * store's meta table (keys VIEW_META_* of fs/view/view.h), and from the
 * store's signing key ('advisoryfs key').  A value never set has a
 * default that says so (publisher "advisoryfs (publisher not
 * configured)", base URL https://advisories.invalid/csaf).  Each write is
 * a logged change, so running mounts pick it up within a second.
 *
 * Sections: checks of the values; set and reset; show; cli_provider().
 * A boundary like cmd.c: errors are printed once, as
 * "advisoryfs: provider SUB: <why>".
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "view.h"

#define PROVIDER_VALUE_MAX 1024 /* bytes of any one value */

/* The CSAF 2.0 publisher categories (document.publisher.category). */
static const char *const provider_categories[] = {
	"coordinator", "discoverer", "other", "translator", "user", "vendor",
};

static const char provider_help[] =
	"usage: advisoryfs -s STORE provider set [--base-url URL] [--publisher-name NAME]\n"
	"                  [--namespace URL] [--category CAT] [--contact TEXT]\n"
	"                  [--issuing-authority TEXT]\n"
	"       advisoryfs -s STORE provider show [SLUG] [--json]\n"
	"       advisoryfs -s STORE provider reset\n"
	"       advisoryfs -s STORE provider nginx-conf --mount DIR --server-name NAME\n"
	"                  --listen ADDR:PORT --cert FILE --key FILE --ca FILE [--crl FILE]\n"
	"                  [--map-dir DIR] [--access-log FILE]\n"
	"       advisoryfs -s STORE provider nginx-map --mount DIR [--map-dir DIR]\n"
	"                  [--watch [--interval MS]]\n"
	"\n"
	"The CSAF provider every recipient's tree describes in its\n"
	"provider-metadata.json (role csaf_trusted_provider): the publisher and the\n"
	"base URL under which the trees are served, BASE/<recipient>/.  The signing\n"
	"key ('advisoryfs key') is listed there and served under openpgp/.\n"
	"\n"
	"  set                     change the values given, in one transaction;\n"
	"                          an empty --contact or --issuing-authority removes it\n"
	"    --base-url URL        http(s) URL of the folder holding the recipients'\n"
	"                          trees (default " VIEW_DEFAULT_BASE_URL ")\n"
	"    --publisher-name NAME publisher.name (default \"" VIEW_DEFAULT_PUBLISHER "\")\n"
	"    --namespace URL       publisher.namespace (default " VIEW_DEFAULT_NAMESPACE ")\n"
	"    --category CAT        publisher.category: coordinator, discoverer, other,\n"
	"                          translator, user or vendor (default " VIEW_DEFAULT_CATEGORY
	")\n"
	"    --contact TEXT        publisher.contact_details\n"
	"    --issuing-authority TEXT  publisher.issuing_authority\n"
	"  show                    the values (\"(default)\" where never set)\n"
	"  show SLUG               SLUG's provider-metadata.json as the mount serves it now\n"
	"    --json                the values as a JSON object\n"
	"  reset                   back to the defaults\n"
	"  nginx-conf              print an nginx server block (for http {}) serving the\n"
	"                          mount DIR over HTTPS, the client certificate choosing\n"
	"                          the tree ('org cert'), and write the map once\n"
	"    --cert, --key FILE    the server's certificate and key\n"
	"    --ca FILE             the CA that signs client certificates\n"
	"    --crl FILE            its certificate revocation list\n"
	"    --map-dir DIR         fingerprint-to-tree links nginx reads per request\n"
	"                          (default " "/var/lib/advisoryfs/nginx-map" ")\n"
	"    --access-log FILE     an access log naming each request's tree\n"
	"  nginx-map               bring the map in line with the bound certificates;\n"
	"    --watch               and keep it so, after every change to the store,\n"
	"                          until SIGTERM (the advisoryfs-nginx-map unit)\n"
	"    --interval MS         how often --watch looks (default 100)\n"
	"                          See docs/HTTPS.md.\n"
	"\n"
	"Example:\n"
	"  advisoryfs -s ncsc.db provider set --base-url https://csaf.ncsc.example/trees \\\n"
	"      --publisher-name NCSC-NL --namespace https://www.ncsc.nl --category coordinator \\\n"
	"      --contact cert@ncsc.example\n";

/* ---- checks of the values ------------------------------------------------------------------ */

/* Whether s is valid UTF-8 (no overlong forms, no surrogates) without
 * control characters. */
static int provider_text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p, n, cp;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		p += n + 1;
	}
	return 1;
}

/*
 * Whether s is an absolute http(s) URL we can put in JSON and in a path
 * without surprises: the scheme, a host, then printable ASCII without
 * space, quotes, angle brackets, backslash, ^, ` and braces.
 */
static int provider_url_ok(const char *s)
{
	const char *rest;
	if (!strncmp(s, "https://", 8))
		rest = s + 8;
	else if (!strncmp(s, "http://", 7))
		rest = s + 7;
	else
		return 0;
	if (!*rest || *rest == '/')
		return 0;
	for (const char *p = s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			return 0;
	return 1;
}

/* One value given on the command line. */
struct provider_arg {
	const char *opt;     /* "--base-url" */
	const char *key;     /* meta key */
	char *value;         /* NULL: not given; owned */
	int url, category, may_be_empty;
};

/* Check and normalise one value (trailing '/' of the base URL).  Prints
 * and returns -1 when it is refused. */
static int provider_check(struct provider_arg *a)
{
	size_t len = strlen(a->value);
	if (len > PROVIDER_VALUE_MAX) {
		cmd_err("provider set: %s: longer than %d bytes", a->opt, PROVIDER_VALUE_MAX);
		return -1;
	}
	if (len == 0) {
		if (a->may_be_empty)
			return 0;
		cmd_err("provider set: %s: must not be empty", a->opt);
		return -1;
	}
	if (a->url) {
		if (!strcmp(a->opt, "--base-url"))
			while (len > 0 && a->value[len - 1] == '/')
				a->value[--len] = 0;
		if (!provider_url_ok(a->value)) {
			cmd_err("provider set: %s: not an absolute http(s) URL: '%s'", a->opt,
				a->value);
			return -1;
		}
		return 0;
	}
	if (a->category) {
		for (size_t i = 0; i < sizeof(provider_categories) / sizeof(*provider_categories);
		     i++)
			if (!strcmp(a->value, provider_categories[i]))
				return 0;
		cmd_err("provider set: %s: '%s' is not a CSAF publisher category (coordinator, "
			"discoverer, other, translator, user, vendor)",
			a->opt, a->value);
		return -1;
	}
	if (!provider_text_ok(a->value)) {
		cmd_err("provider set: %s: must be UTF-8 without control characters", a->opt);
		return -1;
	}
	return 0;
}

/* ---- set and reset ------------------------------------------------------------------------- */

/*
 * Write the given values (reset: delete all of them) in one transaction.
 * Returns the exit code.
 */
static int provider_write(const struct cmd_ctx *ctx, const char *sub, struct provider_arg *args,
			  size_t n, int reset)
{
	struct store *st = cmd_open_store(ctx, 0);
	int r;
	if (!st)
		return 1;
	r = store_begin(st);
	for (size_t i = 0; !r && i < n; i++) {
		const char *v = args[i].value;
		if (reset)
			r = store_meta_set(st, args[i].key, NULL, 0);
		else if (v)
			r = store_meta_set(st, args[i].key, *v ? v : NULL, strlen(v));
	}
	if (!r)
		r = store_commit(st);
	else
		store_rollback(st);
	if (r)
		cmd_err("provider %s: %s", sub, store_errmsg(st));
	store_close(st);
	return r ? 1 : 0;
}

/* ---- show ---------------------------------------------------------------------------------- */

/* Whether meta key is set in st: 1, 0, or -errno. */
static int provider_is_set(struct store *st, const char *key)
{
	char *v = NULL;
	size_t len;
	int r = store_meta_get(st, key, &v, &len);
	free(v);
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

/* The values, as text or as a JSON object.  Returns the exit code. */
static int provider_show_values(struct store *st, struct provider_arg *args, size_t n, int json)
{
	struct view_provider prov;
	int rc = 1, oom = 1;
	if (view_provider_load(st, &prov)) {
		cmd_err("provider show: %s", store_errmsg(st));
		return 1;
	}
	const char *vals[] = { prov.base_url, prov.publisher_name, prov.namespace_url,
			       prov.category, prov.contact, prov.issuing_authority };
	cJSON *o = json ? cJSON_CreateObject() : NULL;
	if (json && !o)
		goto out;
	for (size_t i = 0; i < n && i < sizeof(vals) / sizeof(*vals); i++) {
		int set = provider_is_set(st, args[i].key);
		if (set < 0) {
			cmd_err("provider show: %s", store_errmsg(st));
			oom = 0;
			goto out;
		}
		const char *name = args[i].opt + 2;
		if (json) {
			cJSON *item = vals[i] ? cJSON_CreateString(vals[i]) : cJSON_CreateNull();
			if (!item || !cJSON_AddItemToObject(o, name, item)) {
				cJSON_Delete(item);
				goto out;
			}
		} else {
			printf("%-18s %s%s\n", name, vals[i] ? vals[i] : "(none)",
			       set || !vals[i] ? "" : "  (default)");
		}
	}
	if (json) {
		cJSON *fpr = prov.pubkey ? cJSON_CreateString(prov.fpr) : cJSON_CreateNull();
		if (!fpr || !cJSON_AddItemToObject(o, "signing-key", fpr)) {
			cJSON_Delete(fpr);
			goto out;
		}
		char *text = cJSON_Print(o);
		if (!text)
			goto out;
		printf("%s\n", text);
		free(text);
	} else {
		printf("%-18s %s\n", "signing-key", prov.pubkey ? prov.fpr : "(none)");
	}
	rc = 0;
out:
	if (rc && oom)
		cmd_err("provider show: out of memory");
	cJSON_Delete(o);
	view_provider_release(&prov);
	return rc;
}

/* SLUG's provider-metadata.json as the mount serves it now. */
static int provider_show_document(struct store *st, const char *slug)
{
	struct view_provider prov;
	struct policy *p = NULL;
	struct world *w = NULL;
	struct view *v = NULL;
	int64_t now = au_now();
	int rc = 1, r;

	if (view_provider_load(st, &prov)) {
		cmd_err("provider show: %s", store_errmsg(st));
		return 1;
	}
	r = store_policy_get(st, AU_T_MAX, &p, NULL, NULL);
	if (!r)
		r = store_world_load(st, p, now, &w);
	if (r) {
		cmd_err("provider show: %s", store_errmsg(st));
		goto out;
	}
	uint32_t org = world_org_find(w, slug);
	if (org == W_NONE) {
		cmd_err("provider show: no organisation '%s'", slug);
		goto out;
	}
	r = view_build(p, w, org, now, &v);
	if (!r)
		r = view_set_provider(v, &prov);
	if (r) {
		cmd_err("provider show: %s", strerror(-r));
		goto out;
	}
	fwrite(v->provider_json, 1, v->provider_len, stdout);
	rc = 0;
out:
	view_free(v);
	world_free(w);
	policy_free(p);
	view_provider_release(&prov);
	return rc;
}

/* ---- cli_provider -------------------------------------------------------------------------- */

int cli_provider(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "base-url", required_argument, NULL, 0 },
					     { "publisher-name", required_argument, NULL, 1 },
					     { "namespace", required_argument, NULL, 2 },
					     { "category", required_argument, NULL, 3 },
					     { "contact", required_argument, NULL, 4 },
					     { "issuing-authority", required_argument, NULL, 5 },
					     { "json", no_argument, NULL, 'j' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	struct provider_arg args[] = {
		{ "--base-url", VIEW_META_BASE_URL, NULL, 1, 0, 0 },
		{ "--publisher-name", VIEW_META_PUBLISHER, NULL, 0, 0, 0 },
		{ "--namespace", VIEW_META_NAMESPACE, NULL, 1, 0, 0 },
		{ "--category", VIEW_META_CATEGORY, NULL, 0, 1, 0 },
		{ "--contact", VIEW_META_CONTACT, NULL, 0, 0, 1 },
		{ "--issuing-authority", VIEW_META_AUTHORITY, NULL, 0, 0, 1 },
	};
	const size_t nargs = sizeof(args) / sizeof(*args);
	int c, json = 0, given = 0, rc = 2;
	char cmd[32];

	if (cmd_want_help(argc, argv)) {
		fputs(provider_help, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("provider", "missing subcommand (set, show, reset, nginx-conf, nginx-map)");
	const char *sub = argv[1];
	if (!strcmp(sub, "nginx-conf") || !strcmp(sub, "nginx-map"))
		return cli_https(ctx, argc, argv);
	if (strcmp(sub, "set") && strcmp(sub, "show") && strcmp(sub, "reset"))
		return cmd_usage_error("provider", "unknown subcommand '%s'", sub);
	snprintf(cmd, sizeof(cmd), "provider %s", sub);

	optind = 0;
	while ((c = cmd_next_opt(cmd, argc - 1, argv + 1, "s:h", lo)) != -1) {
		if (c == '?')
			goto out;
		if (c == 's') {
			ctx->store_path = optarg;
		} else if (c == 'j') {
			json = 1;
		} else if (c >= 0 && (size_t)c < nargs) {
			free(args[c].value);
			if (!(args[c].value = strdup(optarg))) {
				cmd_err("%s: out of memory", cmd);
				rc = 1;
				goto out;
			}
			given = 1;
		}
	}
	int nrest = argc - 1 - optind;
	char **rest = argv + 1 + optind;

	if (!strcmp(sub, "set")) {
		if (nrest)
			rc = cmd_usage_error(cmd, "unexpected argument '%s'", rest[0]);
		else if (!given)
			rc = cmd_usage_error(cmd, "nothing to set (see --help)");
		else if (json)
			rc = cmd_usage_error(cmd, "unknown option '--json'");
		else {
			rc = 1;
			for (size_t i = 0; i < nargs; i++)
				if (args[i].value && provider_check(&args[i]))
					goto out;
			rc = provider_write(ctx, "set", args, nargs, 0);
		}
		goto out;
	}
	if (given) {
		rc = cmd_usage_error(cmd, "values are given to 'provider set' only");
		goto out;
	}
	if (!strcmp(sub, "reset")) {
		if (nrest)
			rc = cmd_usage_error(cmd, "unexpected argument '%s'", rest[0]);
		else if (json)
			rc = cmd_usage_error(cmd, "unknown option '--json'");
		else
			rc = provider_write(ctx, "reset", args, nargs, 1);
		goto out;
	}
	if (nrest > 1) {
		rc = cmd_usage_error(cmd, "expected at most one SLUG");
		goto out;
	}
	if (nrest == 1 && json) {
		rc = cmd_usage_error(cmd, "--json is for the values, not for a SLUG");
		goto out;
	}
	struct store *st = cmd_open_store(ctx, STORE_RDONLY);
	if (!st) {
		rc = 1;
		goto out;
	}
	rc = nrest ? provider_show_document(st, rest[0]) : provider_show_values(st, args, nargs, json);
	store_close(st);
out:
	for (size_t i = 0; i < nargs; i++)
		free(args[i].value);
	return rc;
}
