/*
 * mount_fs.c - what every part of the mount uses: logging (to stderr, or
 * to syslog once daemonized), the signals that end a mount, and the pool
 * of read-only store connections that requests borrow.
 *
 * Sections: logging, signals, the connection pool.
 */
#include "mount_fs.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

/* ---- logging ---------------------------------------------------------------------------- */

void fs_log(const struct fs *fs, enum fuse_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > FUSE_LOG_WARNING && !(fs && fs->debug))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* a truncated log line is still a log line */
	va_end(ap);
	fuse_log(level, "advisoryfs: %s\n", msg);
}

void fs_syslog(enum fuse_log_level level, const char *fmt, va_list ap)
{
	vsyslog((int)level, fmt, ap);
}

/* ---- signals ---------------------------------------------------------------------------- */

/*
 * The only static state of the mount: a signal handler cannot reach
 * fuse_req_userdata().  The watcher polls it (mount_watch.c explains why
 * the handler does not end the session itself).
 */
static volatile sig_atomic_t fs_sig;

static void fs_on_signal(int sig)
{
	(void)sig;
	fs_sig = 1;
}

int fs_signalled(void)
{
	return fs_sig != 0;
}

static const int fs_sigs[FS_NSIGS] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

void fs_signals_install(struct sigaction old[FS_NSIGS])
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the request loop must leave its sem_wait() */
	for (size_t i = 0; i < FS_NSIGS; i++) {
		sa.sa_handler = fs_sigs[i] == SIGPIPE ? SIG_IGN : fs_on_signal;
		sigaction(fs_sigs[i], &sa, &old[i]);
	}
}

void fs_signals_restore(const struct sigaction old[FS_NSIGS])
{
	for (size_t i = 0; i < FS_NSIGS; i++)
		sigaction(fs_sigs[i], &old[i], NULL);
}

/* ---- the connection pool ---------------------------------------------------------------- */

int fs_pool_get(struct fs *fs, struct store **ret_st)
{
	struct fs_pool *p = &fs->pool;
	struct store *st = NULL;
	int r;

	pthread_mutex_lock(&p->lock);
	while (!p->nidle && p->nopen >= p->max)
		pthread_cond_wait(&p->cond, &p->lock);
	if (p->nidle) {
		*ret_st = p->idle[--p->nidle];
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	p->nopen++;
	pthread_mutex_unlock(&p->lock);

	/* open outside the lock: it reads the file */
	r = store_open(fs->store_path, STORE_RDONLY, &st);
	if (r) {
		fs_log(fs, FUSE_LOG_ERR, "%s", st ? store_errmsg(st) : strerror(-r));
		store_close(st);
		pthread_mutex_lock(&p->lock);
		p->nopen--;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		return r;
	}
	*ret_st = st;
	return 0;
}

void fs_pool_put(struct fs *fs, struct store *st)
{
	struct fs_pool *p = &fs->pool;
	pthread_mutex_lock(&p->lock);
	p->idle[p->nidle++] = st;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}
