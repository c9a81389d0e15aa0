/*
 * cli_https.c - `advisoryfs provider nginx-conf` and `provider nginx-map`:
 * the CSAF trusted provider over HTTPS, nginx in front of a mount, the
 * TLS client certificate choosing the tree (docs/HTTPS.md).
 *
 *   provider nginx-conf --mount DIR --server-name NAME --listen ADDR:PORT
 *                       --cert FILE --key FILE --ca FILE [--crl FILE]
 *                       [--map-dir DIR]
 *   provider nginx-map  --mount DIR [--map-dir DIR] [--watch [--interval MS]]
 *
 * The map is a directory nginx reads per request, never cached (no
 * open_file_cache), so a change needs no reload:
 *
 *   MAP/_public/public -> DIR/public      MAP/<sha1>/<slug>  -> DIR/<slug>
 *   MAP/_public/_self  -> DIR/public      MAP/<sha1>/public  -> DIR/public
 *                                         MAP/<sha1>/_self   -> DIR/<slug>
 *
 * where <sha1> is nginx's $ssl_client_fingerprint (SHA-1 of the DER
 * certificate, lower-case hex) of a certificate bound to <slug>.  The
 * server block picks MAP/<sha1> when the certificate verified and that
 * directory exists, else MAP/_public, and serves the request path below
 * it: /<slug>/... reaches the caller's own tree, /public/... the public
 * one, anything else does not exist (404).  Slugs are [a-z0-9-], so no
 * slug is "_self" or "_public".
 *
 * Each fingerprint's directory is made whole under a temporary name and
 * renamed into place, and taken away by renaming it aside before it is
 * emptied, so nginx sees either the whole binding or none.  A binding
 * that changes organisation is removed, then made again: in between the
 * certificate gets the public tree, never another organisation's.
 * nginx-map --watch polls the store's data version (a memory read) every
 * --interval milliseconds (100) and syncs on every commit.
 *
 * Sections: the map, the server block, cli_https().
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"
#include "util.h"
#include "view.h"

#define HTTPS_DEFAULT_MAP_DIR "/var/lib/advisoryfs/nginx-map"
#define HTTPS_MAX_CERTS       100000  /* bindings one map holds */
#define HTTPS_SELF            "_self"
#define HTTPS_PUBLIC          "_public"

/* ---- the map ----------------------------------------------------------------------------- */

struct https_bind {
	char fp[41];    /* SHA-1, lower-case hex */
	char slug[65];
	int present;    /* found in the map directory, pointing right */
};

struct https_binds {
	struct https_bind *v;
	size_t n, cap;
};

static int https_collect(void *arg, const struct store_cert *c)
{
	struct https_binds *b = arg;
	if (b->n == HTTPS_MAX_CERTS)
		return -E2BIG;
	struct https_bind *v = au_grow(b->v, &b->cap, b->n + 1, sizeof(*v), 64);
	if (!v)
		return -ENOMEM;
	b->v = v;
	struct https_bind *x = &b->v[b->n++];
	au_hex(c->sha1, sizeof(c->sha1), x->fp);
	snprintf(x->slug, sizeof(x->slug), "%s", c->slug ? c->slug : "");
	x->present = 0;
	return 0;
}

static int is_fp_name(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 40;
}

/* Remove the directory name of dirfd and the links in it (no deeper); a
 * name that is not a directory (nobody's but ours to put there) is
 * unlinked. */
static int https_rmdir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

/* Take name out of the map at once (renamed aside), then delete it. */
static int https_retire(int dirfd, const char *name)
{
	char aside[96];
	snprintf(aside, sizeof(aside), ".old-%s-%ld", name, (long)getpid());
	if (renameat(dirfd, name, dirfd, aside) < 0)
		return errno == ENOENT ? 0 : -errno;
	return https_rmdir(dirfd, aside);
}

/* Whether name/_self of dirfd is a link to want. */
static int https_points_to(int dirfd, const char *name, const char *want)
{
	char path[128], got[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" HTTPS_SELF, name);
	ssize_t n = readlinkat(dirfd, path, got, sizeof(got) - 1);
	if (n < 0)
		return 0;
	got[n] = 0;
	return !strcmp(got, want);
}

/*
 * Make name in dirfd holding the links own -> mount/slug (when own is not
 * NULL), public -> mount/public and _self -> mount/slug: built under a
 * temporary name, then renamed into place (name must not exist).
 */
static int https_make(int dirfd, const char *name, const char *mount, const char *own)
{
	char tmp[96], target[PATH_MAX + 80], pub[PATH_MAX + 16];
	int fd = -1, r = 0;

	snprintf(tmp, sizeof(tmp), ".new-%s-%ld", name, (long)getpid());
	https_rmdir(dirfd, tmp);
	if (mkdirat(dirfd, tmp, 0755) < 0)
		return -errno;
	if ((fd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = -errno;
		goto fail;
	}
	snprintf(pub, sizeof(pub), "%s/public", mount);
	snprintf(target, sizeof(target), "%s/%s", mount, own ? own : "public");
	if ((own && symlinkat(target, fd, own) < 0) || symlinkat(pub, fd, "public") < 0 ||
	    symlinkat(target, fd, HTTPS_SELF) < 0 || fchmod(fd, 0755) < 0) {
		r = -errno;
		goto fail;
	}
	close(fd);
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	https_rmdir(dirfd, tmp);
	return r;
}

/*
 * Bring the map directory in line with the store's certificates for the
 * mount at mount (absolute).  Returns 0, or -errno with a message in err.
 * *ret_n (optional) receives the number of bindings.
 */
static int https_sync(struct store *st, const char *mount, const char *mapdir, char *err,
		      size_t errlen, size_t *ret_n)
{
	struct https_binds b = { 0 };
	char want[PATH_MAX + 80];
	DIR *d = NULL;
	int dirfd = -1, r;

	if ((r = store_cert_list(st, https_collect, &b))) {
		snprintf(err, errlen, "%s", r == -ENOMEM ? "out of memory"
					    : r == -E2BIG ? "more than 100000 certificates"
							  : store_errmsg(st));
		goto out;
	}
	/* nginx's workers must read it whatever our umask: 0755 when we make it */
	int made = mkdir(mapdir, 0755) == 0;
	if ((!made && errno != EEXIST) || (made && chmod(mapdir, 0755) < 0)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", mapdir, strerror(-r));
		goto out;
	}
	if ((dirfd = open(mapdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(dup(dirfd)))) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", mapdir, strerror(-r));
		goto out;
	}
	/* what is there: keep what is right, retire the rest */
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		if (!strncmp(name, ".new-", 5) || !strncmp(name, ".old-", 5)) {
			https_rmdir(dirfd, name); /* left by a process that died */
			continue;
		}
		if (!is_fp_name(name))
			continue;
		struct https_bind *x = NULL;
		for (size_t i = 0; i < b.n && !x; i++)
			if (!strcmp(b.v[i].fp, name))
				x = &b.v[i];
		if (x) {
			snprintf(want, sizeof(want), "%s/%s", mount, x->slug);
			if (https_points_to(dirfd, name, want)) {
				x->present = 1;
				continue;
			}
		}
		if ((r = https_retire(dirfd, name))) {
			snprintf(err, errlen, "%s/%s: %s", mapdir, name, strerror(-r));
			goto out;
		}
	}
	snprintf(want, sizeof(want), "%s/public", mount);
	if (!https_points_to(dirfd, HTTPS_PUBLIC, want) &&
	    ((r = https_retire(dirfd, HTTPS_PUBLIC)) ||
	     (r = https_make(dirfd, HTTPS_PUBLIC, mount, NULL)))) {
		snprintf(err, errlen, "%s/" HTTPS_PUBLIC ": %s", mapdir, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < b.n; i++)
		if (!b.v[i].present && (r = https_make(dirfd, b.v[i].fp, mount, b.v[i].slug))) {
			snprintf(err, errlen, "%s/%s: %s", mapdir, b.v[i].fp, strerror(-r));
			goto out;
		}
	if (ret_n)
		*ret_n = b.n;
	r = 0;
out:
	if (d)
		closedir(d);
	if (dirfd >= 0)
		close(dirfd);
	free(b.v);
	return r;
}

static volatile sig_atomic_t https_stop;

static void https_on_signal(int sig)
{
	(void)sig;
	https_stop = 1;
}

/*
 * Sync, then (watch) keep syncing after every commit to the store until
 * SIGTERM or SIGINT.  A failed sync while watching is reported and tried
 * again at the next interval.  Returns the exit code.
 */
static int https_map(struct store *st, const char *mount, const char *mapdir, int watch,
		     long interval_ms)
{
	char err[PATH_MAX + 256];
	int64_t seen = -1, v;
	size_t n = 0;
	int failing = 0;

	if (https_sync(st, mount, mapdir, err, sizeof(err), &n)) {
		cmd_err("provider nginx-map: %s", err);
		return 1;
	}
	if (!watch)
		return 0;
	struct sigaction sa = { .sa_handler = https_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	store_data_version(st, &seen);
	while (!https_stop) {
		struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		if (https_stop || store_data_version(st, &v) || (v == seen && !failing))
			continue;
		seen = v;
		if (https_sync(st, mount, mapdir, err, sizeof(err), &n)) {
			if (!failing)
				cmd_err("provider nginx-map: %s (trying again)", err);
			failing = 1;
		} else {
			failing = 0;
		}
	}
	return 0;
}

/* ---- the server block ---------------------------------------------------------------------- */

/* Whether s can stand in the printed configuration inside double quotes:
 * no quote, backslash, '$' (nginx expands variables), ';', braces or
 * control characters. */
static int https_conf_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("\"\\$;{}'#", *p))
			return 0;
	return *s != 0;
}

/* opt's value as an absolute path into out (PATH_MAX): resolved when it
 * exists (must_exist: it has to), else as given when absolute.  Prints
 * the error; 0 or the exit code. */
static int https_path(const char *cmd, const char *opt, const char *val, int must_exist,
		      char *out)
{
	if (!val)
		return cmd_usage_error(cmd, "%s is required", opt);
	if (!realpath(val, out)) {
		if (must_exist || errno != ENOENT || val[0] != '/') {
			cmd_err("%s: %s %s: %s", cmd, opt, ESC(val),
				errno == ENOENT && !must_exist ? "give an absolute path"
							      : strerror(errno));
			return 1;
		}
		if (snprintf(out, PATH_MAX, "%s", val) >= PATH_MAX) {
			cmd_err("%s: %s: path too long", cmd, opt);
			return 1;
		}
	}
	if (!https_conf_safe(out)) {
		cmd_err("%s: %s %s: a path nginx's configuration cannot hold", cmd, opt, ESC(out));
		return 1;
	}
	return 0;
}

/* ADDR:PORT (ADDR an IPv4 address, [IPv6] or a host name); the port into
 * *ret_port.  0 or -1. */
static int https_listen_ok(const char *s, long *ret_port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	if (!colon || colon == s)
		return -1;
	for (const char *p = s; p < colon; p++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:[]",
			    *p))
			return -1;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return -1;
	*ret_port = port;
	return 0;
}

static int https_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return 0;
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-", *p))
			return 0;
	return 1;
}

struct https_conf {
	const char *server_name, *listen;
	long port;
	char mount[PATH_MAX], mapdir[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX],
		crl[PATH_MAX], log[PATH_MAX];
	int have_crl, have_log;
};

/* Print the map and server blocks (for nginx's http {} context). */
static void https_print_conf(FILE *f, const struct https_conf *c)
{
	/* variable names must be unique in http {}: one set per server block */
	char tag[300];
	size_t t = 0;
	for (const char *p = c->server_name; *p && t < 256; p++)
		tag[t++] = (*p == '.' || *p == '-') ? '_' : *p;
	snprintf(tag + t, sizeof(tag) - t, "_%d", (int)(c->port & 0xffff));

	fprintf(f,
		"# advisoryfs: the CSAF trusted provider over HTTPS (docs/HTTPS.md), made by\n"
		"# 'advisoryfs provider nginx-conf'.  Goes in nginx's http {} context, e.g. as\n"
		"# /etc/nginx/conf.d/advisoryfs.conf.  The TLS client certificate chooses the\n"
		"# tree: the map directory %s, kept current by\n"
		"# 'advisoryfs provider nginx-map --watch', holds one directory per bound\n"
		"# certificate (nginx's SHA-1 fingerprint) linking to its organisation's tree\n"
		"# in the mount %s; every other caller gets the public tree.\n"
		"# nginx's workers must be able to read the mount (docs/HTTPS.md, \"Accounts\").\n\n",
		c->mapdir, c->mount);
	fprintf(f,
		"map \"$ssl_client_verify:$ssl_client_fingerprint\" $advisoryfs_fp_%s {\n"
		"    \"~^SUCCESS:(?<advisoryfs_sha1_%s>[0-9a-f]{40})$\" $advisoryfs_sha1_%s;\n"
		"    default \"-\";\n"
		"}\n\n",
		tag, tag, tag);
	fprintf(f,
		"log_format advisoryfs_%s '$remote_addr [$time_iso8601] \"$request\" $status '\n"
		"    '$body_bytes_sent tree=$advisoryfs_tree_%s verify=$ssl_client_verify';\n\n",
		tag, tag);
	fprintf(f,
		"server {\n"
		"    listen %s ssl;\n"
		"    server_name %s;\n",
		c->listen, c->server_name);
	if (c->have_log)
		fprintf(f, "    access_log \"%s\" advisoryfs_%s;\n", c->log, tag);
	fprintf(f,
		"\n"
		"    ssl_certificate \"%s\";\n"
		"    ssl_certificate_key \"%s\";\n"
		"    ssl_protocols TLSv1.2 TLSv1.3;\n"
		"    # client certificates: optional, so that callers without one get the public\n"
		"    # tree; one that does not verify (unknown CA, expired, revoked) is refused\n"
		"    # before any request is served\n"
		"    ssl_client_certificate \"%s\";\n"
		"    ssl_verify_client optional;\n"
		"    ssl_verify_depth 2;\n",
		c->cert, c->key, c->ca);
	if (c->have_crl)
		fprintf(f,
			"    # read at start and reload: 'systemctl reload nginx' after each new CRL\n"
			"    ssl_crl \"%s\";\n",
			c->crl);
	fprintf(f,
		"\n"
		"    # the caller's tree: MAP/<fingerprint> when its certificate is bound, else\n"
		"    # MAP/_public; looked up on every request\n"
		"    set $advisoryfs_tree_%s " HTTPS_PUBLIC ";\n"
		"    if (-d \"%s/$advisoryfs_fp_%s\") {\n"
		"        set $advisoryfs_tree_%s $advisoryfs_fp_%s;\n"
		"    }\n"
		"    root \"%s/$advisoryfs_tree_%s\";\n\n",
		tag, c->mapdir, tag, tag, tag, c->mapdir, tag);
	fprintf(f,
		"    # nothing cached past a change: no open-file cache, validators that follow\n"
		"    # the content (size and mtime), conditional requests answered exactly\n"
		"    open_file_cache off;\n"
		"    etag on;\n"
		"    if_modified_since exact;\n"
		"    add_header Cache-Control \"private, no-cache\" always;\n"
		"    disable_symlinks off;\n"
		"    absolute_redirect off;\n"
		"    server_tokens off;\n"
		"    log_not_found off;\n"
		"    charset utf-8;\n"
		"    default_type application/octet-stream;\n"
		"    types {\n"
		"        application/json json;\n"
		"        text/plain txt sha256 sha512;\n"
		"        text/csv csv;\n"
		"        application/pgp-signature asc;\n"
		"    }\n\n"
		"    # outside the caller's view is 404, exactly like a name that does not\n"
		"    # exist, never 403; the caller's own folders are listed (CSAF 2.0\n"
		"    # requirement 14), the top of the map is not\n"
		"    error_page 403 = @advisoryfs_404;\n"
		"    location @advisoryfs_404 {\n"
		"        return 404;\n"
		"    }\n"
		"    location = /.well-known/csaf/provider-metadata.json {\n"
		"        try_files /" HTTPS_SELF "/provider-metadata.json =404;\n"
		"    }\n"
		"    location ^~ /_ {\n"
		"        return 404;\n"
		"    }\n"
		"    location = / {\n"
		"        return 404;\n"
		"    }\n"
		"    location / {\n"
		"        limit_except GET {\n"
		"            deny all;\n"
		"        }\n"
		"        # no try_files: the open itself answers, a missing name is 404\n"
		"        # (one path walk through the mount per request, not two)\n"
		"        autoindex on;\n"
		"    }\n"
		"}\n");
}

/* ---- cli_https() ----------------------------------------------------------------------------- */

int cli_https(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mount", required_argument, NULL, 'm' },   { "server-name", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' },  { "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },     { "ca", required_argument, NULL, 'a' },
		{ "crl", required_argument, NULL, 'r' },     { "map-dir", required_argument, NULL, 'M' },
		{ "watch", no_argument, NULL, 'w' },         { "interval", required_argument, NULL, 'i' },
		{ "store", required_argument, NULL, 's' },   { "help", no_argument, NULL, 'h' },
		{ "access-log", required_argument, NULL, 'L' }, { NULL, 0, NULL, 0 }
	};
	const char *sub = argv[1], *mount = NULL, *mapdir = HTTPS_DEFAULT_MAP_DIR, *cert = NULL,
		   *key = NULL, *ca = NULL, *crl = NULL, *log = NULL;
	struct https_conf conf = { 0 };
	int conf_mode = !strcmp(sub, "nginx-conf"), watch = 0, c, r;
	long interval = 100;
	char cmd[32], *end;

	snprintf(cmd, sizeof(cmd), "provider %s", sub);
	optind = 0;
	while ((c = cmd_next_opt(cmd, argc - 1, argv + 1, "s:h", lo)) != -1) {
		switch (c) {
		case '?':
			return 2;
		case 'm':
			mount = optarg;
			break;
		case 'n':
			conf.server_name = optarg;
			break;
		case 'l':
			conf.listen = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'a':
			ca = optarg;
			break;
		case 'r':
			crl = optarg;
			break;
		case 'L':
			log = optarg;
			break;
		case 'M':
			mapdir = optarg;
			break;
		case 'w':
			watch = 1;
			break;
		case 'i':
			errno = 0;
			interval = strtol(optarg, &end, 10);
			if (errno || *end || interval < 1 || interval > 10000)
				return cmd_usage_error(cmd, "--interval: 1-10000 milliseconds, not '%s'",
						       optarg);
			break;
		case 's':
			ctx->store_path = optarg;
			break;
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	if (conf_mode && watch)
		return cmd_usage_error(cmd, "--watch is for 'provider nginx-map'");
	if (!conf_mode && (conf.server_name || conf.listen || cert || key || ca || crl || log))
		return cmd_usage_error(cmd, "nginx-map takes --mount, --map-dir, --watch, --interval");
	if ((r = https_path(cmd, "--mount", mount, 0, conf.mount)) ||
	    (r = https_path(cmd, "--map-dir", mapdir, 0, conf.mapdir)))
		return r;
	if (conf_mode) {
		if (!conf.server_name || !https_name_ok(conf.server_name))
			return cmd_usage_error(cmd, conf.server_name ? "--server-name: not a host name: '%s'"
								     : "--server-name is required%s",
					       conf.server_name ? conf.server_name : "");
		if (!conf.listen || https_listen_ok(conf.listen, &conf.port) < 0)
			return cmd_usage_error(cmd, conf.listen ? "--listen: not ADDR:PORT: '%s'"
								: "--listen is required%s",
					       conf.listen ? conf.listen : "");
		if ((r = https_path(cmd, "--cert", cert, 1, conf.cert)) ||
		    (r = https_path(cmd, "--key", key, 1, conf.key)) ||
		    (r = https_path(cmd, "--ca", ca, 1, conf.ca)) ||
		    (crl && (r = https_path(cmd, "--crl", crl, 1, conf.crl))))
			return r;
		conf.have_crl = crl != NULL;
		if (log && (r = https_path(cmd, "--access-log", log, 0, conf.log)))
			return r;
		conf.have_log = log != NULL;
	}
	struct store *st = cmd_open_store(ctx, STORE_RDONLY);
	if (!st)
		return 1;
	if (!conf_mode) {
		r = https_map(st, conf.mount, conf.mapdir, watch, interval);
		store_close(st);
		return r;
	}
	/* the map first, so that the printed block works as soon as it is loaded */
	char err[PATH_MAX + 256];
	if (https_sync(st, conf.mount, conf.mapdir, err, sizeof(err), NULL)) {
		cmd_err("%s: %s", cmd, err);
		store_close(st);
		return 1;
	}
	/* provider-metadata.json names URLs under the base URL: say when they
	 * are not this server's */
	struct view_provider prov;
	if (view_provider_load(st, &prov) == 0) {
		char want[400];
		if (conf.port == 443)
			snprintf(want, sizeof(want), "https://%s", conf.server_name);
		else
			snprintf(want, sizeof(want), "https://%s:%ld", conf.server_name, conf.port);
		if (strcmp(prov.base_url, want))
			fprintf(stderr,
				"advisoryfs: %s: warning: the base URL is %s, so provider-metadata.json "
				"points there; run 'advisoryfs provider set --base-url %s'\n",
				cmd, prov.base_url, want);
		view_provider_release(&prov);
	}
	store_close(st);
	https_print_conf(stdout, &conf);
	return fflush(stdout) == 0 ? 0 : 1;
}
