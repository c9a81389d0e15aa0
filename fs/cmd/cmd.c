/*
 * cmd.c - what every entry point of the program shares: the one-line
 * error form, usage errors and --help, option parsing, times given on the
 * command line, opening the store, and bounded reads of input files.
 *
 * The subcommands themselves live in fs/cli/ (and the mount's in
 * fs/mount/mount.c); they are the boundary where store/ and policy/
 * errors (-errno with a message) are printed, once, through cmd_err().
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

/* ---- shared helpers ------------------------------------------------------------ */

void cmd_err(const char *fmt, ...)
{
	va_list ap;
	fputs("advisoryfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "advisoryfs%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'advisoryfs%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return 2;
}

const char *cmd_esc(const char *str, char *buf, size_t buflen)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)str; *p && o + 5 < buflen; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hx[*p >> 4];
			buf[o++] = hx[*p & 15];
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o] = '\0';
	return buf;
}

const char *cmd_need_store(const struct cmd_ctx *ctx)
{
	if (!ctx->store_path)
		cmd_err("no store: give -s PATH or set ADVISORYFS_STORE");
	return ctx->store_path;
}

struct store *cmd_open_store(const struct cmd_ctx *ctx, int flags)
{
	struct store *st = NULL;
	const char *path = cmd_need_store(ctx);
	if (!path)
		return NULL;
	if (store_open(path, flags, &st) < 0) {
		if (ctx->cmd)
			cmd_err("%s: %s", ctx->cmd, st ? store_errmsg(st) : "out of memory");
		else
			cmd_err("%s", st ? store_errmsg(st) : "out of memory");
		store_close(st);
		return NULL;
	}
	return st;
}

/*
 * Parse options with getopt_long; unknown options and missing arguments
 * print one line and the help hint.  Returns the option, -1 at the end, or
 * '?' after printing (the caller returns 2).
 */
int cmd_next_opt(const char *cmd, int argc, char **argv, const char *shortopts,
		    const struct option *longopts)
{
	char so[32];
	snprintf(so, sizeof(so), ":%s", shortopts); /* ':' reports missing arguments */
	opterr = 0;
	int c = getopt_long(argc, argv, so, longopts, NULL);
	if (c == ':') {
		if (optopt)
			cmd_usage_error(cmd, "option '-%c' needs an argument", optopt);
		else
			cmd_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		if (optopt)
			cmd_usage_error(cmd, "unknown option '-%c'", optopt);
		else
			cmd_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return '?';
	}
	return c;
}

int cmd_parse_time(const char *cmd, const char *opt, const char *val, int end_of_day,
		   int64_t *ret)
{
	if (au_parse_time(val, end_of_day, ret) < 0) {
		cmd_err("%s: %s: not a time: '%s' (use 2022-12-01 or 2022-12-01T09:00:00Z)", cmd,
			opt, val);
		return -1;
	}
	return 0;
}

/* Read fd to its end, at most max bytes, into an allocated NUL-terminated
 * buffer (first cap bytes).  The caller closes fd.  0, -E2BIG or -errno. */
static int read_all(int fd, size_t cap, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return -E2BIG;
		}
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int cmd_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	/* O_NONBLOCK: opening a FIFO must not hang; only regular files are read */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		int e = S_ISDIR(sb.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return e;
	}
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return -E2BIG;
	}
	int r = read_all(fd, (size_t)sb.st_size + 1, max, ret, ret_len);
	close(fd);
	return r;
}

int cmd_read_stdin(size_t max, char **ret, size_t *ret_len)
{
	return read_all(STDIN_FILENO, 65536, max, ret, ret_len);
}

const char *cmd_read_error(int r, size_t max, char *buf, size_t buflen)
{
	if (r == -E2BIG)
		snprintf(buf, buflen, "larger than the limit of %zu bytes", max);
	else if (r == -EINVAL)
		snprintf(buf, buflen, "not a regular file");
	else
		snprintf(buf, buflen, "%s", strerror(-r));
	return buf;
}

void cmd_actor(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	if (sudo && *sudo)
		snprintf(buf, len, "%s (sudo from %s)", pw ? pw->pw_name : "?", sudo);
	else if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)getuid());
}

int cmd_want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}
