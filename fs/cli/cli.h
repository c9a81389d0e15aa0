/*
 * cli.h - the subcommands of the advisoryfs program (fs/cli/), for the
 * table in main.c.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand
 * name, for getopt) and the global options already parsed, and returns the
 * process exit code: 0 success, 1 failure, 2 usage error (fs/cmd/cmd.h).
 */
#ifndef ADVISORYFS_CLI_H
#define ADVISORYFS_CLI_H

#include <stdint.h>

struct cmd_ctx;

/* cli_org.c: init; org add|role|member|bind|list */
int cli_init(struct cmd_ctx *ctx, int argc, char **argv);
int cli_org(struct cmd_ctx *ctx, int argc, char **argv);
/* cli_orgimport.c: org import (argv[0] is "import") */
int cli_org_import(struct cmd_ctx *ctx, int argc, char **argv);
/* cli_publish.c */
int cli_publish(struct cmd_ctx *ctx, int argc, char **argv);
int cli_import(struct cmd_ctx *ctx, int argc, char **argv);
int cli_withdraw(struct cmd_ctx *ctx, int argc, char **argv);
int cli_share(struct cmd_ctx *ctx, int argc, char **argv);
/* cli_policy.c: policy load|check|show; visible; explain */
int cli_policy(struct cmd_ctx *ctx, int argc, char **argv);
int cli_visible(struct cmd_ctx *ctx, int argc, char **argv);
int cli_explain(struct cmd_ctx *ctx, int argc, char **argv);
/* cli_audit.c: the disclosure ledger */
int cli_audit(struct cmd_ctx *ctx, int argc, char **argv);
/* cli_key.c: the store's OpenPGP signing key */
int cli_key(struct cmd_ctx *ctx, int argc, char **argv);
/* cli_provider.c: `advisoryfs provider set|show|reset` */
int cli_provider(struct cmd_ctx *ctx, int argc, char **argv);
/* cli_https.c: `advisoryfs provider nginx-conf|nginx-map` (argv[1] names which) */
int cli_https(struct cmd_ctx *ctx, int argc, char **argv);

/* cli_recipients.c: recipients ID; the report of publish/import --dry-run */
struct store;
struct cJSON;
int cli_recipients(struct cmd_ctx *ctx, int argc, char **argv);
/* Print who may receive advisory id at t (text, or JSON: added to arr when
 * arr is set, else printed).  Returns an exit code, errors printed. */
int cli_recipients_report(struct store *st, const char *cmd, const char *id, int64_t t,
			  int json, struct cJSON *arr);
/* The same at the moment that stored version is released (not before now). */
int cli_dry_run_report(struct store *st, const char *cmd, const char *tracking_id,
		       const char *version, int json, struct cJSON *arr);

#endif
