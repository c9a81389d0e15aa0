/*
 * cli_policy.c - `advisoryfs policy`, `visible` and `explain`: the active
 * policy, and the decisions it makes, without a mount.
 *
 * Sections: policy; visible and explain.
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
#include "policy.h"
#include "store.h"
#include "util.h"
#include "view.h"

/* ---- policy ------------------------------------------------------------------------------ */

static const char policy_help[] =
	"usage: advisoryfs -s STORE policy load FILE\n"
	"       advisoryfs policy check FILE\n"
	"       advisoryfs -s STORE policy show [--at T]\n"
	"\n"
	"The sharing policy (see advisoryfs-policy(5)).\n"
	"\n"
	"  load    validate FILE and make it the active policy, atomically; on any\n"
	"          error the active policy stays as it was.  Who loaded it and when is\n"
	"          recorded, so old decisions are explained with the policy then in force\n"
	"  check   validate FILE only; with a store, also check that it declares every\n"
	"          role and sector the store uses.  Warns (exit status 0) about a rule\n"
	"          whose basis names a file or a path instead of a public source\n"
	"  show    print the active policy (or the one in force at T)\n";

/* A basis that names a file (CONTEXT.md, a path) is not a source a
 * recipient can follow: warn, rule by rule; the policy stays valid. */
static int warn_file_bases(const char *sub, const char *file, const struct policy *p)
{
	int n = 0;
	char what[256];
	for (int i = 0; i < policy_nrules(p); i++) {
		if (!policy_basis_names_file(policy_rule_basis(p, i), what, sizeof(what)))
			continue;
		cmd_err("warning: policy %s: %s: rule '%s': its basis names a file ('%s'), not a "
			"public source; cite the article, the regulation or the standard",
			sub, ESC(file), ESC(policy_rule_id(p, i)), ESC(what));
		n++;
	}
	return n;
}

int cli_policy(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "at", required_argument, NULL, 'a' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	int64_t at = AU_T_MAX;
	int c;
	if (cmd_want_help(argc, argv)) {
		fputs(policy_help, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("policy", "missing subcommand (load, check, show)");
	const char *sub = argv[1];
	if (strcmp(sub, "load") && strcmp(sub, "check") && strcmp(sub, "show"))
		return cmd_usage_error("policy", "unknown subcommand '%s'", sub);
	optind = 0;
	while ((c = cmd_next_opt("policy", argc - 1, argv + 1, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'a' && cmd_parse_time("policy", "--at", optarg, 0, &at))
			return 2;
		if (c == 's')
			ctx->store_path = optarg;
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (nargs != (!strcmp(sub, "show") ? 0 : 1))
		return cmd_usage_error("policy", !strcmp(sub, "show") ? "show takes no FILE"
								    : "expected one FILE");
	if (!strcmp(sub, "show")) {
		struct store *st = cmd_open_store(ctx, 0);
		struct policy *p = NULL;
		char *src = NULL;
		if (!st)
			return 1;
		int r = store_policy_get(st, at, &p, &src, NULL);
		if (r)
			cmd_err("policy show: %s", store_errmsg(st));
		else
			fputs(src, stdout);
		free(src);
		policy_free(p);
		store_close(st);
		return r ? 1 : 0;
	}

	char *json = NULL, why[128], err[512];
	size_t len = 0;
	int r = cmd_read_file(args[0], POL_MAX_BYTES, &json, &len);
	if (r) {
		cmd_err("policy %s: %s: %s", sub, ESC(args[0]),
			cmd_read_error(r, POL_MAX_BYTES, why, sizeof(why)));
		return 1;
	}
	struct policy *p = NULL;
	if ((r = policy_compile(json, len, &p, err, sizeof(err)))) {
		cmd_err("policy %s: %s: %s", sub, ESC(args[0]), err);
		free(json);
		return 1;
	}
	int nrules = policy_nrules(p);
	int nwarn = warn_file_bases(sub, args[0], p);
	policy_free(p);
	if (!strcmp(sub, "check") && !ctx->store_path) {
		printf("%s: valid, %d rules%s\n", ESC(args[0]), nrules,
		       nwarn ? " (with warnings)" : "");
		free(json);
		return 0;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st) {
		free(json);
		return 1;
	}
	char who[128];
	cmd_actor(who, sizeof(who));
	r = store_begin(st);
	if (!r)
		r = store_policy_add(st, json, len, who, au_now());
	if (!r && !strcmp(sub, "check")) {
		store_rollback(st); /* validate against the store, change nothing */
		printf("%s: valid, %d rules, covers the store's roles and sectors%s\n",
		       ESC(args[0]), nrules, nwarn ? " (with warnings)" : "");
	} else if (!r) {
		r = store_commit(st);
		if (!r)
			printf("loaded %s: %d rules\n", ESC(args[0]), nrules);
	} else {
		store_rollback(st);
	}
	if (r)
		cmd_err("policy %s: %s: %s", sub, ESC(args[0]), store_errmsg(st));
	store_close(st);
	free(json);
	return r ? 1 : 0;
}

/* ---- visible and explain ---------------------------------------------------------------- */

static const char visible_help[] =
	"usage: advisoryfs -s STORE visible SLUG [--at T] [--json]\n"
	"\n"
	"Print the paths that SLUG's directory holds (what the mount shows under\n"
	"SLUG/, provider-metadata.json and openpgp/ included), one per line, sorted.\n"
	"SLUG 'public' is the public view.\n"
	"\n"
	"  --at T    as of moment T: the policy, roles, memberships, embargoes,\n"
	"            withdrawals and special cases in force at T, applied to the\n"
	"            advisories released by T (default: now)\n"
	"  --json    an object with the files and, per advisory, its path, tracking\n"
	"            id, version, TLP, size, sha256 and the permitting rules\n";

static const char explain_help[] =
	"usage: advisoryfs -s STORE explain SLUG ID [--at T] [--json]\n"
	"\n"
	"Explain whether advisory ID (tracking id or file name) may be shared with\n"
	"SLUG: each rule of the policy in force, whether it applied and the facts\n"
	"that made each condition true or false, the decision, and the rules that\n"
	"determined it with their legal basis.\n"
	"\n"
	"  --at T    decide as of moment T (default: now)\n"
	"  --json    machine-readable output\n";

/* Shared by visible and explain: options, store, policy and world at T. */
struct decide_env {
	struct store *st;
	struct policy *p;
	struct world *w;
	int64_t at;
	int json;
	uint32_t org;
};

/* lean: a lean world (STORE_WORLD_LEAN) will do unless --json is given */
static int decide_env_open(struct cmd_ctx *ctx, const char *cmd, int argc, char **argv,
			   int nargs, int lean, struct decide_env *env, char ***ret_args)
{
	static const struct option lo[] = { { "at", required_argument, NULL, 'a' },
					     { "json", no_argument, NULL, 'j' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	int c, have_at = 0;
	memset(env, 0, sizeof(*env));
	env->at = au_now();
	optind = 0;
	while ((c = cmd_next_opt(cmd, argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'a') {
			if (cmd_parse_time(cmd, "--at", optarg, 0, &env->at))
				return 2;
			have_at = 1;
		} else if (c == 'j') {
			env->json = 1;
		} else if (c == 's') {
			ctx->store_path = optarg;
		}
	}
	if (argc - optind != nargs)
		return cmd_usage_error(cmd, nargs == 1 ? "expected SLUG" : "expected SLUG and ID");
	*ret_args = argv + optind;
	if (!(env->st = cmd_open_store(ctx, 0)))
		return 1;
	int r = store_policy_get(env->st, have_at ? env->at : AU_T_MAX, &env->p, NULL, NULL);
	if (!r)
		r = store_world_load_opts(env->st, env->p, env->at,
					  lean && !env->json ? STORE_WORLD_LEAN : 0, &env->w);
	if (r) {
		cmd_err("%s: %s", cmd, store_errmsg(env->st));
		return 1;
	}
	const char *slug = (*ret_args)[0];
	env->org = world_org_find(env->w, slug);
	if (env->org == W_NONE) {
		cmd_err("%s: no organisation '%s'", cmd, slug);
		return 1;
	}
	return 0;
}

static void decide_env_close(struct decide_env *env)
{
	world_free(env->w);
	policy_free(env->p);
	store_close(env->st);
}

int cli_visible(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct decide_env env;
	char **args;
	if (cmd_want_help(argc, argv)) {
		fputs(visible_help, stdout);
		return 0;
	}
	/* the paths need no titles, sizes or hashes: a lean world is faster */
	int rc = decide_env_open(ctx, "visible", argc, argv, 1, 1, &env, &args);
	if (rc == 0) {
		/* the provider's files as the mount serves them (the provider
		 * values and the key are the current ones, also with --at) */
		struct view_provider prov;
		struct view *v = NULL;
		int r = view_provider_load(env.st, &prov);
		if (r) {
			cmd_err("visible: %s", store_errmsg(env.st));
			decide_env_close(&env);
			return 1;
		}
		r = view_build_opts(env.p, env.w, env.org, env.at, env.json ? 0 : VIEW_NAMES_ONLY,
				    &v);
		if (!r)
			r = view_set_provider(v, &prov);
		if (!r)
			r = view_print(v, env.p, env.json, stdout);
		if (r) {
			cmd_err("visible: %s", strerror(-r));
			rc = 1;
		}
		view_free(v);
		view_provider_release(&prov);
	}
	decide_env_close(&env);
	return rc;
}

int cli_explain(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct decide_env env;
	char **args;
	if (cmd_want_help(argc, argv)) {
		fputs(explain_help, stdout);
		return 0;
	}
	int rc = decide_env_open(ctx, "explain", argc, argv, 2, 0, &env, &args);
	if (rc == 0) {
		uint32_t adv = world_adv_find(env.w, args[1]);
		if (adv == W_NONE) {
			char t[AU_TIME_LEN];
			au_format_time(env.at, t);
			cmd_err("explain: no advisory '%s' released by %s", args[1], t);
			rc = 1;
		} else {
			int r = policy_explain(env.p, env.w, env.org, adv, env.at, env.json, stdout);
			if (r) {
				cmd_err("explain: %s", strerror(-r));
				rc = 1;
			}
		}
	}
	decide_env_close(&env);
	return rc;
}
