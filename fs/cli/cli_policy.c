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
	"usage: advisoryfs -s STORE policy load FILE [--effective T]\n"
	"       advisoryfs policy check FILE\n"
	"       advisoryfs -s STORE policy show [--at T]\n"
	"       advisoryfs -s STORE policy list [--json]\n"
	"\n"
	"The sharing policy (see advisoryfs-policy(5)).\n"
	"\n"
	"  load    validate FILE and make it the policy in force, atomically; on any\n"
	"          error the policy in force stays as it was.  Who loaded it and when is\n"
	"          recorded, so old decisions are explained with the policy then in force.\n"
	"          Refused when it does not declare every role and sector in use (all\n"
	"          are named)\n"
	"  check   validate FILE only; with a store, also check that it declares every\n"
	"          role and sector the store uses.  Warns (exit status 0) about a rule\n"
	"          whose basis names a file or a path instead of a public source\n"
	"  show    print the policy in force now (or at T)\n"
	"  list    every policy loaded, when it took or takes effect, and which is in\n"
	"          force now\n"
	"\n"
	"  --effective T   load: the policy takes effect at T (not in the past); until\n"
	"                  then the one in force stays, and a running mount switches at T\n"
	"  --at T          show: the policy in force at T\n"
	"  --json          list: machine-readable output\n";

/* ---- policy list ---- */

struct plist {
	int64_t now;
	int64_t in_force;           /* id of the policy in force now */
	int json;
	cJSON *arr;
};

static int plist_row(void *arg, const struct store_policy_row *row)
{
	struct plist *pl = arg;
	struct policy *p = NULL;
	char la[AU_TIME_LEN], ea[AU_TIME_LEN], hex[65];
	const char *state = row->id == pl->in_force ? "in force"
			    : row->effective_at > pl->now ? "scheduled" : "superseded";
	/* the stored text compiled when it was loaded; its name is inside */
	int r = policy_compile(row->source, row->source_len, &p, NULL, 0);
	const char *name = r ? "(does not compile)" : policy_name(p);
	au_format_time(row->loaded_at, la);
	au_format_time(row->effective_at, ea);
	au_hex(row->sha256, 32, hex);
	if (pl->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)row->id);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "loaded_at", la);
		cJSON_AddStringToObject(o, "loaded_by", row->loaded_by);
		cJSON_AddStringToObject(o, "effective_at", ea);
		cJSON_AddBoolToObject(o, "scheduled", row->scheduled);
		cJSON_AddStringToObject(o, "state", state);
		cJSON_AddStringToObject(o, "sha256", hex);
		cJSON_AddItemToArray(pl->arr, o);
	} else {
		printf("%-4lld %-20s %-20s %-10s %-24s %s\n", (long long)row->id, ea, la, state,
		       ESC(name), ESC(row->loaded_by));
	}
	policy_free(p);
	return 0;
}

static int policy_list(struct store *st, int json)
{
	struct plist pl = { .now = au_now(), .json = json };
	struct policy *p = NULL;
	int r = store_policy_get(st, pl.now, &p, NULL, &pl.in_force);
	policy_free(p);
	if (r) {
		cmd_err("policy list: %s", store_errmsg(st));
		return 1;
	}
	if (json)
		pl.arr = cJSON_CreateArray();
	else
		printf("%-4s %-20s %-20s %-10s %-24s %s\n", "ID", "EFFECTIVE", "LOADED", "STATE",
		       "NAME", "BY");
	r = store_policy_each(st, plist_row, &pl);
	if (r)
		cmd_err("policy list: %s", store_errmsg(st));
	else if (json) {
		char *out = cJSON_Print(pl.arr);
		if (out)
			printf("%s\n", out);
		free(out);
	}
	cJSON_Delete(pl.arr);
	return r ? 1 : 0;
}

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
					     { "effective", required_argument, NULL, 'e' },
					     { "json", no_argument, NULL, 'j' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	int64_t at = au_now(), effective = AU_T_MIN;
	int c, as_json = 0, have_at = 0;
	if (cmd_want_help(argc, argv)) {
		fputs(policy_help, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("policy", "missing subcommand (load, check, show, list)");
	const char *sub = argv[1];
	if (strcmp(sub, "load") && strcmp(sub, "check") && strcmp(sub, "show") &&
	    strcmp(sub, "list"))
		return cmd_usage_error("policy", "unknown subcommand '%s'", sub);
	optind = 0;
	while ((c = cmd_next_opt("policy", argc - 1, argv + 1, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'a' && cmd_parse_time("policy", "--at", optarg, 0, &at))
			return 2;
		if (c == 'e' && cmd_parse_time("policy", "--effective", optarg, 0, &effective))
			return 2;
		have_at |= c == 'a';
		as_json |= c == 'j';
		if (c == 's')
			ctx->store_path = optarg;
	}
	int nargs = argc - 1 - optind, bare = !strcmp(sub, "show") || !strcmp(sub, "list");
	char **args = argv + 1 + optind;
	if (nargs != (bare ? 0 : 1))
		return cmd_usage_error("policy", bare ? "%s takes no FILE" : "expected one FILE",
				       sub);
	if (effective != AU_T_MIN && strcmp(sub, "load"))
		return cmd_usage_error("policy", "--effective applies to load only");
	if (have_at && strcmp(sub, "show"))
		return cmd_usage_error("policy", "--at applies to show only");
	if (as_json && strcmp(sub, "list"))
		return cmd_usage_error("policy", "--json applies to list only");
	if (!strcmp(sub, "list")) {
		struct store *st = cmd_open_store(ctx, 0);
		if (!st)
			return 1;
		int r = policy_list(st, as_json);
		store_close(st);
		return r;
	}
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
		r = store_policy_schedule(st, json, len, who, au_now(), effective);
	if (!r && !strcmp(sub, "check")) {
		store_rollback(st); /* validate against the store, change nothing */
		printf("%s: valid, %d rules, covers the store's roles and sectors%s\n",
		       ESC(args[0]), nrules, nwarn ? " (with warnings)" : "");
	} else if (!r) {
		r = store_commit(st);
		if (!r && effective != AU_T_MIN) {
			char t[AU_TIME_LEN];
			au_format_time(effective, t);
			printf("loaded %s: %d rules, in force from %s\n", ESC(args[0]), nrules, t);
		} else if (!r) {
			printf("loaded %s: %d rules\n", ESC(args[0]), nrules);
		}
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
	int c;
	memset(env, 0, sizeof(*env));
	env->at = au_now();
	optind = 0;
	while ((c = cmd_next_opt(cmd, argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'a') {
			if (cmd_parse_time(cmd, "--at", optarg, 0, &env->at))
				return 2;
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
	int r = store_policy_get(env->st, env->at, &env->p, NULL, NULL);
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
