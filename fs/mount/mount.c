/*
 * mount.c - `advisoryfs mount` and the mount(8) form: options, the life of
 * the FUSE session, the pool of reader connections.
 *
 *   advisoryfs [-s STORE] mount MOUNTPOINT [--as SLUG] [-f] [-d] [-o OPT,...]
 *   advisoryfs STORE MOUNTPOINT [-o OPT,...]     (fstab: type fuse.advisoryfs)
 *
 * The mount is always read-only, yet needs write access to the store:
 * the disclosure ledger is written on the first open of each document by
 * each recipient (mount_ledger.c).  With -o allow_other several accounts
 * share it (mount_tenant.c, docs/MULTITENANT.md).  Everything that can
 * fail for a reason
 * the user can fix (options, the store, the recipient) is checked before
 * the daemon forks, so the error reaches the terminal; SQLite connections
 * are opened only after the fork (a connection must not cross fork()).
 * The daemon logs through fuse_log() only (to syslog once daemonized),
 * errors always, the rest with -d.
 *
 * The other files of the mount are described in mount_fs.h, where the
 * lock order is written down.
 *
 * Sections: the filesystem state, options, the commands.
 */
#include "mount.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <fuse_opt.h>

#include "cmd.h"
#include "mount_fs.h"
#include "mount_inode.h"
#include "mount_ledger.h"
#include "mount_ops.h"
#include "mount_snap.h"
#include "mount_watch.h"
#include "util.h"

/* ---- the filesystem state --------------------------------------------------------------- */

/* Free the state; accepts NULL.  Every connection is idle by now. */
static void mount_fs_free(struct fs *fs)
{
	if (!fs)
		return;
	for (unsigned i = 0; i < fs->pool.nidle; i++)
		store_close(fs->pool.idle[i]);
	fsop_release_all(fs);
	snap_put(fs->snap);
	itab_destroy(&fs->itab);
	free(fs->root);
	explicit_bzero(fs->secret, sizeof(fs->secret));
	pthread_mutex_destroy(&fs->pool.lock);
	pthread_cond_destroy(&fs->pool.cond);
	pthread_mutex_destroy(&fs->snap_lock);
	pthread_mutex_destroy(&fs->handles_lock);
	pthread_mutex_destroy(&fs->push_lock);
	pthread_mutex_destroy(&fs->watch_lock);
	pthread_cond_destroy(&fs->watch_cond);
	ledger_free(fs);
	free(fs->store_path);
	free(fs->as_slug);
	free(fs);
}

/*
 * Make the state of a mount of store (an absolute path): read the store's
 * secret and the first snapshot through a connection closed again before
 * returning, and check the recipient.  Errors are printed (this runs
 * before the daemon forks).  Returns 0 or 1.
 */
static int mount_fs_new(const char *store, const char *as, double timeout, unsigned poll_ms,
			unsigned conns, int debug, int shared, struct fs **ret_fs)
{
	char why[512];
	struct fs *fs = calloc(1, sizeof(*fs));
	struct store *st = NULL;
	pthread_condattr_t ca;
	int r;

	if (!fs) {
		cmd_err("mount: out of memory");
		return 1;
	}
	pthread_mutex_init(&fs->pool.lock, NULL);
	pthread_cond_init(&fs->pool.cond, NULL);
	pthread_mutex_init(&fs->snap_lock, NULL);
	pthread_mutex_init(&fs->handles_lock, NULL);
	pthread_mutex_init(&fs->push_lock, NULL);
	pthread_mutex_init(&fs->watch_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->watch_cond, &ca);
	pthread_condattr_destroy(&ca);
	fs->pool.max = conns;
	fs->timeout = timeout;
	fs->poll_ms = poll_ms;
	fs->debug = debug;
	fs->shared = shared;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->next_gen = 1;
	if (!(fs->store_path = strdup(store)) || (as && !(fs->as_slug = strdup(as))) ||
	    itab_init(&fs->itab)) {
		cmd_err("mount: out of memory");
		goto fail;
	}

	/* writable: brings an older store's schema up to date (the readers
	 * need it), and the ledger must be writable anyway */
	r = store_open(store, 0, &st);
	if (!r)
		r = store_meta_key(st, fs->secret);
	if (!r)
		r = snap_load(st, fs->next_gen, &fs->snap);
	if (r) {
		cmd_err("mount: %s", st ? store_errmsg(st) : strerror(-r));
		goto fail;
	}
	store_close(st);
	st = NULL;
	if (ledger_init(fs, why, sizeof(why))) {
		cmd_err("mount: %s", why);
		goto fail;
	}
	if (as && world_org_find(fs->snap->w, as) == W_NONE) {
		cmd_err("mount: no organisation '%s'", as);
		goto fail;
	}
	if (itab_make_root(fs)) {
		cmd_err("mount: cannot make the root: out of memory or OpenSSL failure");
		goto fail;
	}
	*ret_fs = fs;
	return 0;
fail:
	store_close(st);
	mount_fs_free(fs);
	return 1;
}

/* ---- options ---------------------------------------------------------------------------- */

struct mount_opts {
	char *as;
	char *store;
	double timeout;
	unsigned poll_ms;
	unsigned conns;
	unsigned checkpoint;    /* seconds between signed ledger checkpoints */
	int shared;             /* -o allow_other was given */
	int help;
	char *bad;              /* the first unknown command-line option */
};

enum { MOUNT_KEY_HELP, MOUNT_KEY_IGNORE, MOUNT_KEY_SHARED };

#define MOUNT_OPT(t, field) { t, offsetof(struct mount_opts, field), 1 }

static const struct fuse_opt mount_opt_spec[] = {
	MOUNT_OPT("--as %s", as),
	MOUNT_OPT("--as=%s", as),
	MOUNT_OPT("as=%s", as),
	MOUNT_OPT("-s %s", store),
	MOUNT_OPT("--store %s", store),
	MOUNT_OPT("--store=%s", store),
	MOUNT_OPT("timeout=%lf", timeout),
	MOUNT_OPT("poll_ms=%u", poll_ms),
	MOUNT_OPT("conns=%u", conns),
	MOUNT_OPT("checkpoint=%u", checkpoint),
	FUSE_OPT_KEY("allow_other", MOUNT_KEY_SHARED),
	FUSE_OPT_KEY("-h", MOUNT_KEY_HELP),
	FUSE_OPT_KEY("--help", MOUNT_KEY_HELP),
	/* always read-only, nosuid and nodev; fstab words that mean nothing
	 * to a FUSE mount (mount(8) passes "dev,suid" to helpers as root) */
	FUSE_OPT_KEY("rw", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("dev", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("suid", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("defaults", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("auto", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("noauto", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("user", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("nouser", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("users", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("owner", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("group", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("_netdev", MOUNT_KEY_IGNORE),
	FUSE_OPT_KEY("nofail", MOUNT_KEY_IGNORE),
	FUSE_OPT_END
};

static int mount_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct mount_opts *o = data;
	(void)outargs;
	switch (key) {
	case MOUNT_KEY_HELP:
		o->help = 1;
		return 0;
	case MOUNT_KEY_IGNORE:
		return 0;
	case MOUNT_KEY_SHARED:
		o->shared = 1;
		return 1; /* for libfuse too */
	case FUSE_OPT_KEY_OPT:
		/* systemd's and mount(8)'s comments */
		if (strncmp(arg, "x-", 2) == 0 || strncmp(arg, "comment=", 8) == 0)
			return 0;
		/* libfuse's own command-line options; any -o option goes on to
		 * libfuse, which refuses what it does not know */
		if (arg[0] == '-' && strcmp(arg, "-f") != 0 && strcmp(arg, "-d") != 0 &&
		    strcmp(arg, "-V") != 0 && strcmp(arg, "--version") != 0) {
			if (!o->bad)
				o->bad = strdup(arg);
			return 0;
		}
		return 1;
	default:
		return 1;
	}
}

static void mount_help(void)
{
	printf("usage: advisoryfs [-s STORE] mount MOUNTPOINT [--as SLUG] [-f] [-d] [-o OPT,...]\n"
	       "       advisoryfs STORE MOUNTPOINT [-o OPT,...]    (mount(8): type fuse.advisoryfs)\n"
	       "\n"
	       "Mount the advisories of STORE, read-only, as CSAF provider trees: without\n"
	       "--as the root holds one directory per organisation plus public/; with --as\n"
	       "the root is that recipient's directory.  A change to the store, or the\n"
	       "passing of a moment that changes what may be shared, shows within a second.\n"
	       "\n"
	       "advisoryfs options:\n"
	       "    --as SLUG, -o as=SLUG  serve only SLUG's directory ('public': what anyone\n"
	       "                           may receive)\n"
	       "    -s, --store STORE      the store (default: $ADVISORYFS_STORE); note that\n"
	       "                           -s is not libfuse's single-threaded mode here\n"
	       "    -o timeout=SECS        how long the kernel caches names and attributes\n"
	       "                           (default: %.0f)\n"
	       "    -o poll_ms=MS          how often the store is checked for changes\n"
	       "                           (default: %d)\n"
	       "    -o conns=N             SQLite connections for readers (default: %d,\n"
	       "                           at most %d)\n"
	       "    -o checkpoint=SECS     sign the disclosure ledger's head this often\n"
	       "                           while recording, and at unmount, when the\n"
	       "                           store has a signing key (default: %d; 0: only\n"
	       "                           at unmount)\n"
	       "    -o allow_other         several accounts share the mount: each sees\n"
	       "                           public/ and the organisations bound to it\n"
	       "                           ('org bind'), root sees everything; with --as,\n"
	       "                           only SLUG's accounts and root may enter\n"
	       "    -f                     stay in the foreground\n"
	       "    -d                     debug output (implies -f)\n"
	       "    -h, --help             this help\n"
	       "The first open of each document by each recipient is written to the\n"
	       "disclosure ledger ('advisoryfs audit') before it succeeds, so the store\n"
	       "must be writable by the mounting account.\n"
	       "Always mounted read-only, nosuid and nodev.  Accepted and ignored: rw, dev,\n"
	       "suid, and the fstab words defaults, auto, noauto, user, nouser, users, owner,\n"
	       "group, _netdev, nofail, x-* and comment=*.\n"
	       "\n"
	       "fstab example:\n"
	       "    /srv/ncsc.db  /srv/advisories  fuse.advisoryfs  ro,allow_other,nofail  0 0\n"
	       "\n"
	       "FUSE options:\n",
	       FS_DEFAULT_TIMEOUT, FS_DEFAULT_POLL_MS, FS_DEFAULT_CONNS, FS_MAX_CONNS,
	       FS_DEFAULT_CHECKPOINT);
	fflush(stdout);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* Add "-o fsname=<store>" with the commas of the path escaped. */
static int mount_add_fsname(struct fuse_args *args, const char *store)
{
	char *opt = NULL, *val = NULL;
	int r = -1;
	if (asprintf(&val, "fsname=%s", store) < 0)
		return -1;
	if (fuse_opt_add_opt_escaped(&opt, val) == 0 && fuse_opt_add_arg(args, "-o") == 0 &&
	    fuse_opt_add_arg(args, opt) == 0)
		r = 0;
	free(val);
	free(opt);
	return r;
}

/* ---- the commands ----------------------------------------------------------------------- */

/*
 * Parse, check, mount, serve until unmounted or signalled, clean up.
 * fstab_store is the store of the mount(8) form (else -s or ctx).
 * Returns the exit code.
 */
static int mount_run(struct cmd_ctx *ctx, const char *fstab_store, int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct mount_opts o = { .timeout = FS_DEFAULT_TIMEOUT, .poll_ms = FS_DEFAULT_POLL_MS,
				.conns = FS_DEFAULT_CONNS, .checkpoint = FS_DEFAULT_CHECKPOINT };
	struct fuse_cmdline_opts c;
	struct sigaction old_sigs[FS_NSIGS];
	struct fuse_session *se = NULL;
	struct fs *fs = NULL;
	const char *path;
	char *store = NULL;
	int rc = 1, mounted = 0, sigs = 0, syslogging = 0;

	memset(&c, 0, sizeof(c));
	if (fuse_opt_add_arg(&args, "advisoryfs"))
		goto oom;
	for (int i = 1; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i]))
			goto oom;
	if (fuse_opt_parse(&args, &o, mount_opt_spec, mount_opt_proc) == -1) {
		rc = cmd_usage_error("mount", "bad option");
		goto out;
	}
	if (o.bad) {
		rc = cmd_usage_error("mount", "unknown option '%s'", o.bad);
		goto out;
	}
	if (o.help) {
		mount_help();
		rc = 0;
		goto out;
	}
	if (fuse_parse_cmdline(&args, &c) != 0) {
		rc = cmd_usage_error("mount", "bad arguments");
		goto out;
	}
	if (c.show_version) {
		printf("advisoryfs 0.1.0\n");
		fuse_lowlevel_version();
		rc = 0;
		goto out;
	}
	if (!c.mountpoint) {
		rc = cmd_usage_error("mount", "expected MOUNTPOINT");
		goto out;
	}
	if (o.poll_ms < 1 || o.poll_ms > 10000) {
		rc = cmd_usage_error("mount", "poll_ms must be 1 to 10000");
		goto out;
	}
	if (o.conns < 1 || o.conns > FS_MAX_CONNS) {
		rc = cmd_usage_error("mount", "conns must be 1 to %d", FS_MAX_CONNS);
		goto out;
	}
	if (o.checkpoint > 86400) {
		rc = cmd_usage_error("mount", "checkpoint must be 0 to 86400 seconds");
		goto out;
	}
	if (!(o.timeout >= 0 && o.timeout <= 365.0 * 86400)) {
		rc = cmd_usage_error("mount", "timeout must be 0 to 31536000 seconds");
		goto out;
	}
	if (o.as && !au_slug_valid(o.as)) {
		rc = cmd_usage_error("mount", "'%s' is not an organisation slug", o.as);
		goto out;
	}
	path = fstab_store ? fstab_store : o.store;
	if (!path && !(path = cmd_need_store(ctx)))
		goto out;
	/* the daemon changes to / */
	if (!(store = realpath(path, NULL))) {
		cmd_err("mount: '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fuse_opt_add_arg(&args, "-oro,nosuid,nodev,default_permissions") ||
	    mount_add_fsname(&args, store))
		goto oom;

	if ((rc = mount_fs_new(store, o.as, o.timeout, o.poll_ms, o.conns, c.debug, o.shared, &fs)))
		goto out;
	fs->checkpoint_s = o.checkpoint;
	rc = 1;
	/* libfuse reports its own errors (unknown options, mount failures) */
	if (!(se = fuse_session_new(&args, &fsop_ops, sizeof(fsop_ops), fs)))
		goto out;
	fs->se = se;
	fs_signals_install(old_sigs);
	sigs = 1;
	if (fuse_session_mount(se, c.mountpoint) != 0)
		goto out;
	mounted = 1;
	if (fuse_daemonize(c.foreground) != 0)
		goto out;
	if (!c.foreground) {
		openlog("advisoryfs", LOG_PID, LOG_DAEMON);
		fuse_set_log_func(fs_syslog);
		syslogging = 1;
	}
	fs->main_thread = pthread_self();
	if (ledger_start(fs) || watch_start(fs))
		goto out;
	fs_log(fs, FUSE_LOG_INFO, "serving '%s' at '%s'", store, c.mountpoint);

	/* libfuse's defaults unless -o clone_fd or -o max_idle_threads= was given
	 * (its "unset" value would be refused with a warning) */
	struct fuse_loop_config cfg = { .clone_fd = c.clone_fd,
					.max_idle_threads = c.max_idle_threads };
	int custom = c.clone_fd || c.max_idle_threads <= 100000;
	rc = fuse_session_loop_mt(se, custom ? &cfg : NULL) ? 1 : 0;
	goto out;

oom:
	cmd_err("mount: out of memory");
	rc = 1;
out:
	if (fs) {
		watch_stop(fs); /* before unmounting: see mount_watch.c */
		ledger_checkpoint(fs, 1); /* what this mount recorded, signed */
	}
	if (mounted)
		fuse_session_unmount(se);
	if (sigs)
		fs_signals_restore(old_sigs);
	if (se)
		fuse_session_destroy(se);
	mount_fs_free(fs);
	if (syslogging) {
		fuse_set_log_func(NULL);
		closelog();
	}
	free(store);
	free(c.mountpoint);
	free(o.as);
	free(o.store);
	free(o.bad);
	fuse_opt_free_args(&args);
	return rc;
}

int mount_main(struct cmd_ctx *ctx, int argc, char **argv)
{
	return mount_run(ctx, NULL, argc, argv);
}

int mount_main_fstab(int argc, char **argv)
{
	struct cmd_ctx ctx = { .store_path = argv[0] };
	return mount_run(&ctx, argv[0], argc, argv);
}
