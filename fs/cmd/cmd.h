/*
 * cmd.h - what every entry point of the advisoryfs program shares (the
 * subcommands in fs/cli/, the mount's in fs/mount/): the one-line error
 * form "advisoryfs: <what>: <why>", usage errors and --help, options and
 * times, opening the store, bounded reads of input files.
 *
 * An entry point takes the arguments after its own name (argv[0] is the
 * subcommand name, for getopt) and the global options already parsed
 * (struct cmd_ctx), and returns the process exit code: 0 success, 1
 * failure, 2 usage error.  Errors are printed once, at that boundary.
 */
#ifndef ADVISORYFS_CMD_H
#define ADVISORYFS_CMD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct cmd_ctx {
	const char *store_path;  /* --store / -s / $ADVISORYFS_STORE, may be NULL */
	const char *cmd;         /* the subcommand's name, for messages */
};

/* Print "advisoryfs: <fmt>\n" to stderr. */
void cmd_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the one-line usage error and the hint to run --help; returns 2. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when argv[1..] asks for --help (or -h) before any "--". */
int cmd_want_help(int argc, char **argv);

/* str with control bytes and '\\' written as \xNN into buf, so that a
 * file name cannot forge output lines or steer a terminal.  Returns buf. */
const char *cmd_esc(const char *str, char *buf, size_t buflen);
#define ESC(s) cmd_esc((s), (char[4096 * 4 + 1]){ 0 }, 4096 * 4 + 1)

/* The store path or an error message (returns NULL after printing). */
const char *cmd_need_store(const struct cmd_ctx *ctx);

struct store;
struct option;
/* Open the store named by ctx (store_open flags); prints the error and
 * returns NULL on failure.  The caller closes it with store_close(). */
struct store *cmd_open_store(const struct cmd_ctx *ctx, int flags);
/* getopt_long for subcommand cmd: an unknown option or a missing argument
 * prints one line and the help hint and returns '?' (exit 2); else the
 * option, or -1 at the end.  Reset with optind = 0 before the first call. */
int cmd_next_opt(const char *cmd, int argc, char **argv, const char *shortopts,
		 const struct option *longopts);
/* Parse the time val of option opt (SPEC.md section 1; end_of_day for
 * --until); prints the error and returns -1 for a bad time, else 0. */
int cmd_parse_time(const char *cmd, const char *opt, const char *val, int end_of_day,
		   int64_t *ret);
/* Who is acting, for the policy history: "alice" or "root (sudo from alice)". */
void cmd_actor(char *buf, size_t len);
/* Read a regular file of at most max bytes (a FIFO or device is refused,
 * never waited on).  *ret is allocated and NUL-terminated.  0, -E2BIG,
 * -EISDIR, -EINVAL (not a regular file) or -errno. */
int cmd_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* The same for standard input (a pipe or a terminal too). */
int cmd_read_stdin(size_t max, char **ret, size_t *ret_len);
/* A cmd_read_file() failure in words, written into buf. */
const char *cmd_read_error(int r, size_t max, char *buf, size_t buflen);

#endif
