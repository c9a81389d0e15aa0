/*
 * main.c - the advisoryfs program: global options and the subcommand table.
 *
 *   advisoryfs [-s STORE] COMMAND [ARGS...]
 *   advisoryfs STORE MOUNTPOINT [-o OPT,...]      (mount(8) form, fstab)
 *
 * The store comes from -s/--store (before or after the command), else
 * $ADVISORYFS_STORE.  Exit codes: 0 success, 1 failure, 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "mount.h"
#include "remote.h"

/* `mount`: the local mount, or with --remote the remote mount's client. */
static int cli_mount(struct cmd_ctx *ctx, int argc, char **argv)
{
	return remote_wanted(argc, argv) ? remote_mount_main(ctx, argc, argv)
					 : mount_main(ctx, argc, argv);
}

struct command {
	const char *name;
	int (*fn)(struct cmd_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cli_init, "create an empty store holding the default policy" },
	{ "org", cli_org, "organisations: add, role, member, bind, cert, list, import" },
	{ "publish", cli_publish, "validate and store advisories (all or nothing)" },
	{ "import", cli_import, "publish every document of a directory tree" },
	{ "withdraw", cli_withdraw, "withdraw an advisory from every view" },
	{ "share", cli_share, "record a special-case decision to share with one organisation" },
	{ "policy", cli_policy, "load (now or from a set date), check, show or list the policies" },
	{ "visible", cli_visible, "list what a recipient's directory holds" },
	{ "explain", cli_explain, "explain the decision for a recipient and an advisory" },
	{ "recipients", cli_recipients, "who may receive an advisory, and why the others may not" },
	{ "audit", cli_audit, "the disclosure ledger: list entries, verify the chain" },
	{ "key", cli_key, "the OpenPGP signing key: generate, show, export, sign, forget" },
	{ "provider", cli_provider, "the CSAF provider: publisher and base URL of the trees" },
	{ "mount", cli_mount, "mount the per-recipient trees (or, --remote, one over SSH)" },
	{ "serve", remote_serve_main, "serve one recipient's tree to a remote mount (SSH)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: advisoryfs [-s STORE] COMMAND [ARGS...]\n"
		   "       advisoryfs STORE MOUNTPOINT [-o OPT,...]\n"
		   "\n"
		   "Serve security advisories (CSAF 2.0) to each recipient exactly as the law\n"
		   "allows: a SQLite store, a policy engine, and a FUSE filesystem with one\n"
		   "CSAF provider tree per recipient.\n"
		   "\n"
		   "Options:\n"
		   "  -s, --store PATH   the store (default: $ADVISORYFS_STORE)\n"
		   "  -h, --help         this help; 'advisoryfs COMMAND --help' for a command\n"
		   "  -V, --version      print the version\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nTimes are ISO 8601 in UTC: 2022-12-01 or 2022-12-01T09:00:00Z.\n"
		   "Example:\n"
		   "  advisoryfs -s ncsc.db init\n"
		   "  advisoryfs -s ncsc.db org add z-cert --name Z-CERT --sector health\n"
		   "  advisoryfs -s ncsc.db org role z-cert csirt --from 2020-01-14 "
		   "--ref 'Stcrt. 2020, 4410'\n"
		   "  advisoryfs -s ncsc.db publish ncsc-2024-0123.json --concerns z-cert\n"
		   "  advisoryfs -s ncsc.db visible z-cert\n"
		   "  advisoryfs -s ncsc.db mount /srv/advisories\n");
}

int main(int argc, char **argv)
{
	struct cmd_ctx ctx = { .store_path = getenv("ADVISORYFS_STORE") };
	int i = 1;

	if (ctx.store_path && !*ctx.store_path)
		ctx.store_path = NULL;
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("advisoryfs 0.1.0\n");
			return 0;
		}
		if (!strcmp(a, "-s") || !strcmp(a, "--store")) {
			if (i + 1 >= argc)
				return cmd_usage_error(NULL, "option '%s' needs a PATH", a);
			ctx.store_path = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strncmp(a, "--store=", 8)) {
			ctx.store_path = a + 8;
			i++;
			continue;
		}
		return cmd_usage_error(NULL, "unknown option '%s'", a);
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		char *hargv[] = { argv[i + 1], (char *)"--help", NULL };
		for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
			if (!strcmp(commands[c].name, argv[i + 1]))
				return commands[c].fn(&ctx, 2, hargv);
		return cmd_usage_error(NULL, "unknown command '%s'", argv[i + 1]);
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(commands[c].name, argv[i])) {
			ctx.cmd = commands[c].name;
			return commands[c].fn(&ctx, argc - i, argv + i);
		}
	/* mount(8) form of a remote mount: advisoryfs ssh://[USER@]HOST MOUNTPOINT [-o ...] */
	if (i == 1 && argc >= 3 && !strncmp(argv[1], "ssh://", 6))
		return remote_mount_fstab(argc - 1, argv + 1);
	/* mount(8) form: advisoryfs STORE MOUNTPOINT [-o ...] */
	if (i == 1 && argc >= 3 && (strchr(argv[1], '/') != NULL || access(argv[1], F_OK) == 0))
		return mount_main_fstab(argc - 1, argv + 1);
	return cmd_usage_error(NULL, "unknown command '%s'", argv[i]);
}
