/*
 * remote_serve.c - `advisoryfs serve --as SLUG`: the server of a remote
 * mount, run by sshd as the forced command of the recipient's key, with
 * the protocol of remote_proto.h on stdin and stdout (stderr goes back to
 * the client's ssh, which logs it).
 *
 * It computes SLUG's view with fs/view/ exactly as the local mount does
 * (the active policy, the world at now, view_build(), view_set_provider())
 * and describes it as a sorted list of entries: every directory and file
 * with its size, mtime, st_ino and extended attributes; documents,
 * signatures and the larger generated files with the SHA-256 of their
 * bytes (the client fetches them with GET and checks them), the hash files
 * and other small generated files with their bytes.  After the handshake
 * it sends the whole list (TREE), then, whenever the store commits a
 * change or the clock passes a boundary of the snapshot (an embargo
 * ending, a role's end, a scheduled version: policy_next_boundary(),
 * store_next_release()), computes the list again and sends what differs
 * (PATCH).  The watcher that notices this is the local mount's, smaller:
 * PRAGMA data_version every poll_ms, inotify on the store's directory with
 * a burst of 2 ms polls after a write.
 *
 * A GET is answered from the current snapshot only: a path that is not in
 * the view, or holds other content now, is refused (NODATA), so nothing
 * outside SLUG's current view is ever sent.  The first read of each
 * document version is written to the disclosure ledger, with the SSH
 * connection's remote address (SSH_CONNECTION) as its peer, before the
 * bytes are sent (docs/LEDGER.md).
 *
 * Threads: the main thread reads requests and answers them; the watcher
 * rebuilds and sends changes.  out_lock keeps their frames whole on
 * stdout; snap_lock guards the pointer to the current snapshot (reference
 * counted); the caches (signature hashes, distribution metadata) belong to
 * the watcher.
 *
 * Sections: state, output, the entries of a view, snapshots, changes,
 * requests, the watcher, the command.
 */
#include "remote.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "digest.h"
#include "remote_proto.h"
#include "remote_sview.h"
#include "store.h"
#include "util.h"
#include "view.h"

#define SV_POLL_MS 50
#define SV_BURST 10
#define SV_BURST_MS 2
#define SV_REQ_MAX (RP_PATH_MAX + 64)   /* the largest frame a client sends */


/* ---- state ------------------------------------------------------------------------------ */

struct sv {
	const char *store_path;
	char peer[128];
	uid_t uid;
	unsigned poll_ms;
	struct sv_cache c;          /* the watcher's: its connection, the recipient, caches */

	pthread_mutex_t out_lock;   /* stdout: one frame at a time */
	int out_failed;             /* protected by out_lock: the client is gone */

	pthread_mutex_t snap_lock;
	struct sv_snap *snap;       /* protected by snap_lock */

	struct store *st;           /* main thread: bytes of documents */
	struct store_ledger *ledger;    /* main thread */
	struct sv_map disclosed;    /* main thread: versions already in the ledger */

	/* the watcher */
	int64_t last_dv;
	int wake, inotify;
	unsigned burst;
	pthread_t watcher;
	int watcher_running;
	atomic_int stop;
};

/* ---- output ----------------------------------------------------------------------------- */

/* Send the frames of b whole.  -EPIPE once the client is gone. */
static int sv_send(struct sv *sv, const struct rp_buf *b)
{
	int r;
	if (b->failed)
		return -ENOMEM;
	pthread_mutex_lock(&sv->out_lock);
	r = sv->out_failed ? -EPIPE : (au_write_all(STDOUT_FILENO, b->p, b->len) ? -EPIPE : 0);
	if (r)
		sv->out_failed = 1;
	pthread_mutex_unlock(&sv->out_lock);
	return r;
}

static int sv_send_error(struct sv *sv, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An ERROR frame (the client prints it) and the same on stderr. */
static int sv_send_error(struct sv *sv, int code, const char *fmt, ...)
{
	char msg[RP_TEXT_MAX];
	struct rp_buf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	sv_log("%s", msg);
	rp_begin(&b, RP_ERROR);
	rp_u32(&b, (uint32_t)code);
	rp_str16(&b, msg, strlen(msg));
	rp_end(&b);
	sv_send(sv, &b);
	rp_buf_free(&b);
	return 1;
}

/* One frame from fd into buf (at most max bytes): its length, or 0 at the
 * end of input, -EBADMSG for a frame out of bounds, -EIO. */
static ssize_t sv_read_frame(int fd, unsigned char *buf, size_t max)
{
	unsigned char hdr[4];
	size_t got = 0, need = 4;
	unsigned char *dst = hdr;
	for (int part = 0; part < 2; part++) {
		while (got < need) {
			ssize_t n = read(fd, dst + got, need - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -EIO;
			if (n == 0)
				return part == 0 && got == 0 ? 0 : -EIO;
			got += (size_t)n;
		}
		if (part == 0) {
			need = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
			if (need == 0 || need > max)
				return -EBADMSG;
			got = 0;
			dst = buf;
		}
	}
	return (ssize_t)need;
}

/* ---- snapshots -------------------------------------------------------------------------- */

static struct sv_snap *sv_snap_get(struct sv *sv)
{
	pthread_mutex_lock(&sv->snap_lock);
	struct sv_snap *s = sv->snap;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&sv->snap_lock);
	return s;
}

/* ---- requests --------------------------------------------------------------------------- */

/* Record the first read of the document e (bytes already checked). */
static int sv_record(struct sv *sv, const struct sv_snap *s, const struct sv_ent *e,
		     const unsigned char sha[32])
{
	struct store_ledger_entry le;
	int isnew = 0, r;

	if (sv_map_find(&sv->disclosed, e->version_id, 0))
		return 0;
	memset(&le, 0, sizeof(le));
	le.at = au_now();
	le.recipient = s->w->orgs[s->org].slug;
	le.uid = (int64_t)sv->uid;
	le.tracking_id = e->tracking_id;
	le.version = e->version;
	memcpy(le.sha256, sha, 32);
	le.rules = e->xv[0].p;  /* the rule ids, joined with "," */
	le.peer = sv->peer;
	if ((r = store_ledger_record(sv->ledger, &le, &isnew))) {
		sv_log("refusing '%s' %s to %s (%s): %s", e->tracking_id, e->version, le.recipient,
		       sv->peer, store_ledger_errmsg(sv->ledger));
		return -EIO;
	}
	if (!sv_map_find(&sv->disclosed, e->version_id, 1))
		return -ENOMEM;
	return 0;
}

static void sv_nodata(struct sv *sv, uint32_t id, int code)
{
	struct rp_buf b = { 0 };
	rp_begin(&b, RP_NODATA);
	rp_u32(&b, id);
	rp_u32(&b, (uint32_t)code);
	rp_end(&b);
	sv_send(sv, &b);
	rp_buf_free(&b);
}

/* Answer GET id path sha: the bytes if the current view holds that content there. */
static void sv_get(struct sv *sv, const struct rp_msg *m)
{
	struct sv_snap *s = sv_snap_get(sv);
	const struct sv_ent *e = sv_find(s, m->text.p, m->text.len);
	unsigned char sha[32];
	char *bytes = NULL;
	const char *p = NULL;
	size_t len = 0;
	int code = 0;

	if (!e || e->kind == RP_DIR) {
		code = ENOENT;
	} else if (e->src == SV_DOC || e->src == SV_ASC) {
		if (memcmp(e->sha256, m->sha256, 32) != 0)
			code = ESTALE;
		else if (store_version_bytes(sv->st, e->version_id, e->src == SV_ASC, &bytes, &len))
			code = EIO, sv_log("reading '%.*s': %s", (int)e->pathlen, e->path,
					  store_errmsg(sv->st));
		p = bytes;
	} else {
		p = e->data;
		len = (size_t)e->size;
		if (e->kind == RP_FILE && memcmp(e->sha256, m->sha256, 32) != 0)
			code = ESTALE;
	}
	if (!code && (len != e->size || digest_sha256(p, len, sha) ||
		      memcmp(sha, m->sha256, 32) != 0))
		code = e->kind == RP_INLINE ? ESTALE : EIO;
	if (code == EIO)
		sv_log("'%.*s': the bytes do not match the listing", (int)e->pathlen, e->path);
	if (!code && e->src == SV_DOC && sv_record(sv, s, e, sha))
		code = EIO;
	if (code) {
		sv_nodata(sv, m->id, code);
	} else {
		struct rp_buf b = { 0 };
		rp_begin(&b, RP_DATA);
		rp_u32(&b, m->id);
		rp_str32(&b, p, len);
		rp_end(&b);
		sv_send(sv, &b);
		rp_buf_free(&b);
	}
	free(bytes);
	sv_snap_put(s);
}

/* ---- the watcher ------------------------------------------------------------------------ */

static int64_t sv_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until the next poll (shorter after a write to the store) or the stop. */
static void sv_sleep(struct sv *sv, int64_t until_boundary_ms)
{
	int64_t ms = sv->burst ? SV_BURST_MS : sv->poll_ms;
	if (sv->burst)
		sv->burst--;
	if (until_boundary_ms >= 0 && until_boundary_ms < ms)
		ms = until_boundary_ms;
	int64_t end = sv_ms() + ms;
	while (!atomic_load(&sv->stop)) {
		struct pollfd pfd[2] = { { sv->wake, POLLIN, 0 }, { sv->inotify, POLLIN, 0 } };
		int64_t left = end - sv_ms();
		if (left < 0)
			return;
		int n = poll(pfd, sv->inotify >= 0 ? 2 : 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (pfd[0].revents)
			return;
		if ((pfd[1].revents & POLLIN) && au_store_watch_drain(sv->inotify, sv->store_path)) {
			sv->burst = SV_BURST;
			return;
		}
		if (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			close(sv->inotify);
			sv->inotify = -1;
		}
	}
}

/* Load the view again, swap it in, send what changed.  0 or -errno. */
static int sv_reload(struct sv *sv)
{
	struct sv_snap *old = sv_snap_get(sv), *nw = NULL;
	struct rp_buf b = { 0 };
	int empty = 0, r;

	int64_t t0 = sv_ms();
	/* a withdrawal or a share patches the world; anything else loads it */
	r = sv_snap_patch(&sv->c, old, old->gen + 1, &nw);
	if (r)
		r = sv_snap_load(&sv->c, old->gen + 1, &nw);
	if (r) {
		sv_snap_put(old);
		return r;
	}
	int64_t t1 = sv_ms();
	r = sv_encode(old, nw, &b, &empty);
	if (getenv("ADVISORYFS_SERVE_TIMING"))
		sv_log("reload: load %lld ms, encode %lld ms, %zu entries, %zu bytes",
		       (long long)(t1 - t0), (long long)(sv_ms() - t1), nw->n, b.len);
	/* swap first: a request for what the change removed is refused from now on */
	pthread_mutex_lock(&sv->snap_lock);
	sv->snap = nw;
	pthread_mutex_unlock(&sv->snap_lock);
	sv_snap_put(old); /* the reference taken above */
	sv_snap_put(old); /* the one sv->snap held */
	if (!r && !empty)
		r = sv_send(sv, &b);
	rp_buf_free(&b);
	return r == -EPIPE ? r : 0;
}

static void *sv_watch(void *arg)
{
	struct sv *sv = arg;
	int check_seq = 1, failing = 0;

	while (!atomic_load(&sv->stop)) {
		struct sv_snap *s = sv_snap_get(sv);
		int64_t now = au_now(), dv, seq;
		int64_t until = s->next_boundary >= AU_T_MAX / 2 ? -1
			      : s->next_boundary <= now ? 0 : (s->next_boundary - now) * 1000;
		int reload = 0;
		sv_snap_put(s);
		if (until != 0)
			sv_sleep(sv, until);
		if (atomic_load(&sv->stop))
			break;
		s = sv_snap_get(sv);
		if (store_data_version(sv->c.watch_st, &dv) == 0 && dv != sv->last_dv) {
			sv->last_dv = dv;
			check_seq = 1;
		}
		if (check_seq && store_change_seq(sv->c.watch_st, &seq) == 0) {
			check_seq = 0;
			reload = seq != s->change_seq;
		}
		if (au_now() >= s->next_boundary)
			reload = 1;
		sv_snap_put(s);
		if (!reload)
			continue;
		int r = sv_reload(sv);
		if (r == -EPIPE)
			break;
		if (r) {
			if (!failing)
				sv_log("reloading the store: %s",
				       r == -ENOENT ? "the recipient is gone" : store_errmsg(sv->c.watch_st));
			failing = 1;
			check_seq = 1;
			sv_sleep(sv, 1000);
		} else {
			failing = 0;
		}
	}
	return NULL;
}

static void sv_watch_fds(struct sv *sv)
{
	sv->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sv->inotify = au_store_watch_open(sv->store_path);
}

/* ---- the command ------------------------------------------------------------------------ */

static const char sv_help[] =
	"usage: advisoryfs -s STORE serve --as SLUG [--poll-ms MS]\n"
	"\n"
	"The server of a remote mount ('advisoryfs mount MOUNTPOINT --remote HOST' on\n"
	"the recipient's host): speaks advisoryfs's remote protocol on standard input\n"
	"and output and serves SLUG's directory, live, exactly as the local mount\n"
	"computes it.  Run it as the forced command of the recipient's key in\n"
	"~/.ssh/authorized_keys, never by hand:\n"
	"\n"
	"  command=\"advisoryfs -s /var/lib/advisoryfs/ncsc.db serve --as z-cert\",restrict ssh-ed25519 AAAA...\n"
	"\n"
	"The first read of each document version is written to the disclosure ledger\n"
	"with the SSH connection's remote address (SSH_CONNECTION) before its bytes\n"
	"leave, so the store must be writable by the account.  docs/REMOTE.md.\n"
	"\n"
	"  --as SLUG      the recipient whose view is served ('public': what anyone may see)\n"
	"  --poll-ms MS   how often the store is checked for changes (default 50)\n";

static int sv_disclosed(void *arg, int64_t org_id, int64_t version_id)
{
	struct sv *sv = ((void **)arg)[0];
	int64_t want = *(int64_t *)((void **)arg)[1];
	if (org_id == want && !sv_map_find(&sv->disclosed, version_id, 1))
		return -ENOMEM;
	return 0;
}

/* The peer for the ledger: the client address of SSH_CONNECTION. */
static void sv_peer(struct sv *sv)
{
	const char *c = getenv("SSH_CONNECTION");
	size_t n = c ? strcspn(c, " ") : 0;
	if (!c || n == 0 || n >= sizeof(sv->peer)) {
		snprintf(sv->peer, sizeof(sv->peer), "stdio");
		return;
	}
	memcpy(sv->peer, c, n);
	sv->peer[n] = 0;
	for (char *p = sv->peer; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			*p = '?';
}

/* The handshake: HELLO in, WELCOME (or ERROR) out.  0 or the exit code. */
static int sv_hello(struct sv *sv)
{
	unsigned char buf[SV_REQ_MAX];
	struct rp_msg m;
	char why[256];
	ssize_t n = sv_read_frame(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0) {
		cmd_err("serve: %s", n == 0 ? "no client on standard input (run it as an SSH "
						"forced command: docs/REMOTE.md)"
					     : "standard input does not speak advisoryfs's remote "
					       "protocol");
		return 1;
	}
	if (rp_decode(buf, (size_t)n, 0, &m, why, sizeof(why)) || m.type != RP_HELLO) {
		cmd_err("serve: standard input does not speak advisoryfs's remote protocol");
		return 1;
	}
	if (m.version > RP_VERSION || m.version_hi < RP_VERSION)
		return sv_send_error(sv, EPROTONOSUPPORT,
				     "the client speaks protocol versions %u to %u, this server "
				     "version %d: install matching advisoryfs versions",
				     (unsigned)m.version, (unsigned)m.version_hi, RP_VERSION);
	return 0;
}

static int sv_welcome(struct sv *sv)
{
	struct rp_buf b = { 0 };
	static const char me[] = "advisoryfs 0.1.0";
	struct sv_snap *s = sv->snap;
	int empty, r;
	rp_begin(&b, RP_WELCOME);
	rp_u16(&b, RP_VERSION);
	rp_str16(&b, sv->c.slug, strlen(sv->c.slug));
	rp_str16(&b, me, sizeof(me) - 1);
	rp_end(&b);
	r = sv_encode(NULL, s, &b, &empty);
	if (!r)
		r = sv_send(sv, &b);
	else
		sv_send_error(sv, -r, "the view is too large for one frame: %s", strerror(-r));
	rp_buf_free(&b);
	return r ? 1 : 0;
}

static void sv_free(struct sv *sv)
{
	if (sv->watcher_running) {
		uint64_t one = 1;
		atomic_store(&sv->stop, 1);
		if (sv->wake >= 0 && write(sv->wake, &one, sizeof(one)) < 0)
			(void)0;
		pthread_join(sv->watcher, NULL);
	}
	if (sv->wake >= 0)
		close(sv->wake);
	if (sv->inotify >= 0)
		close(sv->inotify);
	sv_snap_put(sv->snap);
	store_ledger_close(sv->ledger);
	store_close(sv->st);
	store_close(sv->c.watch_st);
	sv_map_free(&sv->disclosed);
	sv_cache_free(&sv->c);
	pthread_mutex_destroy(&sv->out_lock);
	pthread_mutex_destroy(&sv->snap_lock);
}

int remote_serve_main(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as", required_argument, NULL, 'a' },
		{ "poll-ms", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sv sv = { .wake = -1, .inotify = -1, .poll_ms = SV_POLL_MS, .uid = getuid() };
	unsigned char secret[32];
	const char *path;
	int c, rc = 1, r;

	if (cmd_want_help(argc, argv)) {
		fputs(sv_help, stdout);
		return 0;
	}
	optind = 0;
	while ((c = cmd_next_opt("serve", argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'a':
			sv.c.slug = optarg;
			break;
		case 'p': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v < 1 || v > 10000)
				return cmd_usage_error("serve", "--poll-ms must be 1 to 10000");
			sv.poll_ms = (unsigned)v;
			break;
		}
		default:
			return 2;
		}
	}
	if (optind < argc)
		return cmd_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	if (!sv.c.slug)
		return cmd_usage_error("serve", "--as SLUG is required: serve runs as the forced "
					       "command of a recipient's key (docs/REMOTE.md)");
	if (!au_slug_valid(sv.c.slug))
		return cmd_usage_error("serve", "'%s' is not an organisation slug", sv.c.slug);
	if (!(path = cmd_need_store(ctx)))
		return 1;
	sv.store_path = path;
	pthread_mutex_init(&sv.out_lock, NULL);
	pthread_mutex_init(&sv.snap_lock, NULL);
	signal(SIGPIPE, SIG_IGN);
	sv_peer(&sv);

	if ((rc = sv_hello(&sv)))
		goto out;
	rc = 1;
	/* writable: migrates an older store, and the ledger is written */
	if ((r = store_open(path, 0, &sv.st)) || (r = store_meta_key(sv.st, secret))) {
		sv_send_error(&sv, -r, "%s", sv.st ? store_errmsg(sv.st) : strerror(-r));
		goto out;
	}
	if (digest_hmac_sha256(secret, sizeof(secret), sv.c.slug, strlen(sv.c.slug), sv.c.inokey)) {
		sv_send_error(&sv, EIO, "HMAC-SHA256 failed (OpenSSL)");
		goto out;
	}
	explicit_bzero(secret, sizeof(secret));
	if ((r = store_open(path, STORE_RDONLY, &sv.c.watch_st)) ||
	    (r = store_data_version(sv.c.watch_st, &sv.last_dv))) {
		sv_send_error(&sv, -r, "%s", sv.c.watch_st ? store_errmsg(sv.c.watch_st) : strerror(-r));
		goto out;
	}
	r = sv_snap_load(&sv.c, 1, &sv.snap);
	if (r == -ENOENT) {
		sv_send_error(&sv, ENOENT, "no organisation '%s' on this server", sv.c.slug);
		goto out;
	}
	if (r) {
		sv_send_error(&sv, -r, "%s", r == -ENOMEM ? "out of memory" : store_errmsg(sv.c.watch_st));
		goto out;
	}
	if ((r = store_ledger_open(path, 0, &sv.ledger))) {
		sv_send_error(&sv, -r, "%s", sv.ledger ? store_ledger_errmsg(sv.ledger) : strerror(-r));
		goto out;
	}
	{
		int64_t org_id = sv.snap->w->orgs[sv.snap->org].id;
		void *arg[2] = { &sv, &org_id };
		if (store_ledger_disclosed(sv.ledger, sv_disclosed, arg)) {
			sv_send_error(&sv, EIO, "%s", store_ledger_errmsg(sv.ledger));
			goto out;
		}
	}
	if (sv_welcome(&sv))
		goto out;
	sv_watch_fds(&sv);
	{
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		r = pthread_create(&sv.watcher, NULL, sv_watch, &sv);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r) {
			sv_log("cannot start the watcher: %s", strerror(r));
			goto out;
		}
		sv.watcher_running = 1;
	}
	/* requests until the client goes (end of input) */
	for (;;) {
		static unsigned char buf[SV_REQ_MAX];
		struct rp_msg m;
		char why[256];
		ssize_t n = sv_read_frame(STDIN_FILENO, buf, sizeof(buf));
		if (n == 0) {
			rc = 0;
			break;
		}
		if (n < 0 || rp_decode(buf, (size_t)n, 0, &m, why, sizeof(why)) || m.type != RP_GET) {
			sv_log("a request that breaks the protocol: %s", n < 0 ? "bad frame" : why);
			break;
		}
		sv_get(&sv, &m);
		rp_msg_free(&m);
		pthread_mutex_lock(&sv.out_lock);
		int gone = sv.out_failed;
		pthread_mutex_unlock(&sv.out_lock);
		if (gone) {
			rc = 0;
			break;
		}
	}
out:
	sv_free(&sv);
	return rc;
}
