/*
 * cli_recipients.c - `advisoryfs recipients`: who may receive an advisory
 * at a moment, and why the others may not; and the same report for the
 * documents of `publish --dry-run` and `import --dry-run`, at the moment
 * each would be released.
 *
 * The decisions are view_recipients()' (fs/view/), the engine's one path
 * that the mount and `visible` take too.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "csaf.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "view_recipients.h"

static cJSON *rules_json(const struct policy *p, const struct pol_decision *d)
{
	cJSON *arr = cJSON_CreateArray();
	for (uint16_t i = 0; arr && i < d->nrules; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", policy_rule_id(p, d->rules[i]));
		const char *basis = policy_rule_basis(p, d->rules[i]);
		if (basis)
			cJSON_AddStringToObject(x, "basis", basis);
		else
			cJSON_AddNullToObject(x, "basis");
		cJSON_AddItemToArray(arr, x);
	}
	return arr;
}

static cJSON *report_json(const struct policy *p, const struct world *w,
			  const struct view_recipients *r, int64_t policy_id)
{
	const struct w_adv *a = &w->advs[r->adv];
	char t[AU_TIME_LEN];
	au_format_time(r->t, t);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "advisory", a->tracking_id);
	cJSON_AddStringToObject(o, "version", a->version);
	cJSON_AddStringToObject(o, "tlp", csaf_tlp_name(a->tlp));
	cJSON_AddStringToObject(o, "at", t);
	cJSON_AddStringToObject(o, "policy", policy_name(p));
	cJSON_AddNumberToObject(o, "policy_id", (double)policy_id);
	cJSON_AddNumberToObject(o, "organisations", r->norgs);
	cJSON_AddNumberToObject(o, "may_receive", r->nok);
	cJSON_AddNumberToObject(o, "may_not", r->norgs - r->nok);
	cJSON *ok = cJSON_AddArrayToObject(o, "recipients");
	for (uint32_t i = 0; i < r->nok; i++) {
		const struct w_org *org = &w->orgs[r->ok[i].org];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "slug", org->slug);
		cJSON_AddStringToObject(x, "name", org->name);
		cJSON_AddItemToObject(x, "rules", rules_json(p, &r->ok[i].dec));
		cJSON_AddItemToArray(ok, x);
	}
	cJSON *bl = cJSON_AddArrayToObject(o, "blocked");
	for (uint32_t i = 0; i < r->nblocked; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "count", r->blocked[i].count);
		cJSON_AddItemToObject(x, "rules", rules_json(p, &r->blocked[i].dec));
		cJSON_AddStringToObject(x, "example", w->orgs[r->blocked[i].first_org].slug);
		cJSON_AddItemToArray(bl, x);
	}
	return o;
}

static void rules_text(const struct policy *p, const struct pol_decision *d, const char *indent,
		       FILE *f)
{
	for (uint16_t i = 0; i < d->nrules; i++) {
		const char *basis = policy_rule_basis(p, d->rules[i]);
		fprintf(f, "%s%s", indent, policy_rule_id(p, d->rules[i]));
		if (basis)
			fprintf(f, ": %s", basis);
		fputc('\n', f);
	}
}

static void report_text(const struct policy *p, const struct world *w,
			const struct view_recipients *r, FILE *f)
{
	const struct w_adv *a = &w->advs[r->adv];
	char t[AU_TIME_LEN];
	au_format_time(r->t, t);
	fprintf(f, "%s version %s (TLP:%s) at %s under policy %s\n", a->tracking_id, a->version,
		csaf_tlp_name(a->tlp), t, policy_name(p));
	fprintf(f, "may receive: %u of %u recipients\n", r->nok, r->norgs);
	for (uint32_t i = 0; i < r->nok; i++) {
		fprintf(f, "  %s\n", w->orgs[r->ok[i].org].slug);
		rules_text(p, &r->ok[i].dec, "    ", f);
	}
	fprintf(f, "may not: %u\n", r->norgs - r->nok);
	for (uint32_t i = 0; i < r->nblocked; i++) {
		const struct view_blocked *b = &r->blocked[i];
		fprintf(f, "  %u blocked by ", b->count);
		if (!b->dec.nrules) {
			fprintf(f, "no permit (default deny)");
		} else {
			for (uint16_t k = 0; k < b->dec.nrules; k++)
				fprintf(f, "%s%s", k ? ", " : "", policy_rule_id(p, b->dec.rules[k]));
		}
		fprintf(f, " (e.g. %s)\n", w->orgs[b->first_org].slug);
	}
}

int cli_recipients_report(struct store *st, const char *cmd, const char *id, int64_t t,
			  int json, struct cJSON *arr)
{
	struct policy *p = NULL;
	struct world *w = NULL;
	struct view_recipients r = { 0 };
	int64_t policy_id = 0;
	int rc = 1, e;
	if ((e = store_policy_get(st, t, &p, NULL, &policy_id)) ||
	    (e = store_world_load(st, p, t, &w))) {
		cmd_err("%s: %s", cmd, store_errmsg(st));
		goto out;
	}
	uint32_t adv = world_adv_find(w, id);
	if (adv == W_NONE) {
		char tt[AU_TIME_LEN];
		au_format_time(t, tt);
		cmd_err("%s: no advisory '%s' released by %s", cmd, id, tt);
		goto out;
	}
	if ((e = view_recipients(p, w, adv, t, &r))) {
		cmd_err("%s: %s", cmd, strerror(-e));
		goto out;
	}
	if (json) {
		cJSON *o = report_json(p, w, &r, policy_id);
		if (arr) {
			cJSON_AddItemToArray(arr, o);
		} else {
			char *s = cJSON_Print(o);
			if (s)
				printf("%s\n", s);
			free(s);
			cJSON_Delete(o);
		}
	} else {
		report_text(p, w, &r, stdout);
	}
	rc = 0;
out:
	view_recipients_release(&r);
	world_free(w);
	policy_free(p);
	return rc;
}

int cli_dry_run_report(struct store *st, const char *cmd, const char *tracking_id,
		       const char *version, int json, struct cJSON *arr)
{
	int64_t t;
	if (store_version_release(st, tracking_id, version, &t)) {
		cmd_err("%s: %s", cmd, store_errmsg(st));
		return 1;
	}
	int64_t now = au_now();
	return cli_recipients_report(st, cmd, tracking_id, t > now ? t : now, json, arr);
}

static const char recipients_help[] =
	"usage: advisoryfs -s STORE recipients ID [--at T] [--json]\n"
	"\n"
	"Every recipient (organisation, or 'public') that may receive advisory ID\n"
	"(tracking id or file name) at T, each with the rules that permit it and\n"
	"their legal basis, and how many may not, grouped by the rules that block\n"
	"them.  The same decisions as the mount and 'visible'.\n"
	"\n"
	"  --at T    as of moment T: the policy, roles, memberships and the version\n"
	"            of ID in force then (default: now)\n"
	"  --json    machine-readable output\n";

int cli_recipients(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "at", required_argument, NULL, 'a' },
					     { "json", no_argument, NULL, 'j' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	int64_t at = au_now();
	int json = 0, c;
	if (cmd_want_help(argc, argv)) {
		fputs(recipients_help, stdout);
		return 0;
	}
	optind = 0;
	while ((c = cmd_next_opt("recipients", argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'a' && cmd_parse_time("recipients", "--at", optarg, 0, &at))
			return 2;
		if (c == 'j')
			json = 1;
		if (c == 's')
			ctx->store_path = optarg;
	}
	if (argc - optind != 1)
		return cmd_usage_error("recipients", "expected one ID");
	struct store *st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;
	int rc = cli_recipients_report(st, "recipients", argv[optind], at, json, NULL);
	store_close(st);
	return rc;
}
