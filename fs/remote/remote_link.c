/*
 * remote_link.c - the client's connection (remote_link.h).
 *
 * The transport is ssh(1), run as a child with three pipes: its stdin
 * takes our frames, its stdout brings the server's, its stderr what ssh
 * (or the server, through it) has to say, logged line by line and kept for
 * the error message.  So the user's OpenSSH set-up applies unchanged: keys,
 * agent, known_hosts, ~/.ssh/config.  The remote command asked for is
 * "advisoryfs serve"; the server's key must force the real one
 * (`advisoryfs -s STORE serve --as SLUG`), and without that the remote
 * shell's complaint is what the user reads.
 *
 * One reader thread owns the connection's input: it hands TREE and PATCH
 * frames to the owner (ops->tree), answers waiting requests with DATA and
 * NODATA, and when the input ends (ssh killed, network gone: ssh's
 * ServerAlive notices) it tells the owner (ops->down), ends the child and
 * starts another with a backoff of 0.2 s doubling to 10 s, until it has a
 * new handshake and tree.  Requests wait across that, and are sent again
 * on the new connection.
 *
 * Locks: wlock (held while writing a frame to ssh's stdin, and by the
 * reader while it closes the descriptors) before lock (everything else;
 * never held across a read or a write).
 *
 * Sections: processes, input, requests, the reader, set-up.
 */
#include "remote_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define RL_HANDSHAKE_MS 60000       /* ssh's own ConnectTimeout comes first */
#define RL_BACKOFF_MIN_MS 200
#define RL_BACKOFF_MAX_MS 10000
#define RL_DEFAULT_SSH "ssh -o BatchMode=yes -o ServerAliveInterval=15 " \
	"-o ServerAliveCountMax=3 -o ConnectTimeout=20 -T -x"

struct rl_req {
	struct rl_req *next;
	uint32_t id;
	uint64_t sent;              /* the epoch it was sent on (0: not yet) */
	int done, code;
	unsigned char *data;
	size_t len;
};

static int64_t rl_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rl_deadline(int64_t ms_from_now, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms_from_now / 1000);
	ts->tv_nsec += (long)(ms_from_now % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void rl_log(struct rl_link *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rl_log(struct rl_link *l, int level, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (l->ops && l->ops->log)
		l->ops->log(l->arg, level, line);
}

/* ---- processes -------------------------------------------------------------------------- */

static int rl_spawn(struct rl_link *l, char *err, size_t errlen)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* its own process group: a ^C at the terminal is the mount's to handle */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(er[1], 2) < 0)
			_exit(127);
		execvp(l->argv[0], l->argv);
		dprintf(2, "advisoryfs-exec: cannot run '%s': %s\n", l->argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(er[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(er[0], F_SETFL, O_NONBLOCK);
	pthread_mutex_lock(&l->lock);
	l->pid = pid;
	l->to_fd = in[1];
	l->from_fd = out[0];
	l->err_fd = er[0];
	l->inlen = 0;
	pthread_mutex_unlock(&l->lock);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	return -EIO;
}

/* Close the pipes and reap the child (SIGTERM, then SIGKILL after 2 s).
 * The child's wait status, or -1. */
static int rl_end_child(struct rl_link *l)
{
	int status = -1;
	pthread_mutex_lock(&l->wlock);
	pthread_mutex_lock(&l->lock);
	pid_t pid = l->pid;
	int fds[3] = { l->to_fd, l->from_fd, l->err_fd };
	l->to_fd = l->from_fd = l->err_fd = -1;
	l->pid = 0;
	l->connected = 0;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_unlock(&l->wlock);
	/* stdin first: ssh sends the end of input on and ends */
	if (fds[0] >= 0)
		close(fds[0]);
	if (pid > 0) {
		int64_t t0 = rl_ms();
		int killed = 0;
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid || (w < 0 && errno != EINTR))
				break;
			if (!killed && rl_ms() - t0 > 500) {
				kill(pid, SIGTERM);
				killed = 1;
			} else if (killed == 1 && rl_ms() - t0 > 2500) {
				kill(pid, SIGKILL);
				killed = 2;
			}
			usleep(2000);
		}
	}
	if (fds[1] >= 0)
		close(fds[1]);
	if (fds[2] >= 0)
		close(fds[2]);
	return status;
}

/* ---- input ------------------------------------------------------------------------------ */

/* Log ssh's stderr, line by line, keeping the last as the reason. */
static int rl_drain_err(struct rl_link *l, int fd)
{
	char buf[2048];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	buf[n] = 0;
	for (char *line = buf, *nl; *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		else
			nl = line + strlen(line);
		for (char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		size_t len = strlen(line);
		while (len && line[len - 1] == ' ')
			line[--len] = 0;
		if (!len)
			continue;
		/* the first connection's go into its error message instead */
		if (l->reader_running)
			rl_log(l, LOG_WARNING, "%s: %s", l->host, line);
		pthread_mutex_lock(&l->lock);
		snprintf(l->why, sizeof(l->why), "%s", line);
		pthread_mutex_unlock(&l->lock);
	}
	return 0;
}

/*
 * The next frame from the server: 0 with it in *ret (malloc'ed, *ret_len
 * bytes: type and payload); -EPIPE at the end of input, -ETIMEDOUT after
 * timeout_ms (-1: none), -EBADMSG for a length out of bounds, -EINTR when
 * stopped.
 */
static int rl_read_frame(struct rl_link *l, int64_t timeout_ms, unsigned char **ret,
			 size_t *ret_len)
{
	int64_t end = timeout_ms < 0 ? -1 : rl_ms() + timeout_ms;
	int from = l->from_fd, errfd = l->err_fd;

	for (;;) {
		if (l->inlen >= 4) {
			size_t need = (size_t)l->in[0] << 24 | (size_t)l->in[1] << 16 |
				      (size_t)l->in[2] << 8 | l->in[3];
			if (need == 0 || need > RP_FRAME_MAX)
				return -EBADMSG;
			if (l->inlen >= need + 4) {
				unsigned char *f = malloc(need);
				if (!f)
					return -ENOMEM;
				memcpy(f, l->in + 4, need);
				memmove(l->in, l->in + 4 + need, l->inlen - 4 - need);
				l->inlen -= 4 + need;
				*ret = f;
				*ret_len = need;
				return 0;
			}
			if (l->incap < need + 4) {
				unsigned char *ni = realloc(l->in, need + 4);
				if (!ni)
					return -ENOMEM;
				l->in = ni;
				l->incap = need + 4;
			}
		} else if (l->incap < 65536) {
			unsigned char *ni = realloc(l->in, 65536);
			if (!ni)
				return -ENOMEM;
			l->in = ni;
			l->incap = 65536;
		}
		pthread_mutex_lock(&l->lock);
		int stop = l->stop;
		pthread_mutex_unlock(&l->lock);
		if (stop)
			return -EINTR;
		struct pollfd pfd[2] = { { from, POLLIN, 0 }, { errfd, POLLIN, 0 } };
		int64_t left = end < 0 ? 1000 : end - rl_ms();
		if (end >= 0 && left <= 0)
			return -ETIMEDOUT;
		int n = poll(pfd, errfd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			return -EPIPE;
		if (n <= 0)
			continue;
		if (errfd >= 0 && pfd[1].revents) {
			if (rl_drain_err(l, errfd) < 0)
				errfd = -1;
		}
		if (pfd[0].revents) {
			ssize_t r = read(from, l->in + l->inlen, l->incap - l->inlen);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				/* what ssh said last comes before its end */
				while (errfd >= 0 && rl_drain_err(l, errfd) == 0) {
					struct pollfd e = { errfd, POLLIN, 0 };
					if (poll(&e, 1, 100) <= 0)
						break;
				}
				return -EPIPE;
			}
			if (r > 0)
				l->inlen += (size_t)r;
		}
	}
}

/* Write the frames of b on the connection of epoch (none: -EPIPE). */
static int rl_send(struct rl_link *l, const struct rp_buf *b, uint64_t epoch)
{
	int r = -EPIPE;
	if (b->failed)
		return -ENOMEM;
	pthread_mutex_lock(&l->wlock);
	pthread_mutex_lock(&l->lock);
	int fd = l->epoch == epoch ? l->to_fd : -1;
	pthread_mutex_unlock(&l->lock);
	if (fd >= 0)
		r = au_write_all(fd, b->p, b->len) ? -EPIPE : 0;
	pthread_mutex_unlock(&l->wlock);
	return r;
}

/* What the user reads when a connection could not be made. */
static void rl_why(struct rl_link *l, int status, const char *what, char *err, size_t errlen)
{
	char said[600];
	pthread_mutex_lock(&l->lock);
	snprintf(said, sizeof(said), "%s", l->why);
	pthread_mutex_unlock(&l->lock);
	if (what) {
		snprintf(err, errlen, "%s: %s", l->host, what);
	} else if (!strncmp(said, "advisoryfs-exec: ", 17)) {
		snprintf(err, errlen, "%s (ssh_command)", said + 17);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 255) {
		snprintf(err, errlen, "ssh to %s failed%s%s", l->host, *said ? ": " : "", said);
	} else {
		snprintf(err, errlen,
			 "%s did not start advisoryfs's server: the key needs the forced command "
			 "'advisoryfs -s STORE serve --as SLUG' in authorized_keys (docs/REMOTE.md)%s%s",
			 l->host, *said ? "; the server said: " : "", said);
	}
}

/*
 * Start ssh and run the handshake.  0 with the TREE frame; else -errno
 * with the reason in err (the child is ended).
 */
static int rl_handshake(struct rl_link *l, unsigned char **ret_frame, struct rp_msg *ret_m,
			char *err, size_t errlen)
{
	struct rp_buf b = { 0 };
	unsigned char *f = NULL;
	struct rp_msg m;
	char why[256], what[RP_TEXT_MAX + 64] = "";
	size_t len;
	int r, welcomed = 0;

	pthread_mutex_lock(&l->lock);
	l->why[0] = 0;
	pthread_mutex_unlock(&l->lock);
	if ((r = rl_spawn(l, err, errlen)))
		return r;
	rp_begin(&b, RP_HELLO);
	rp_bytes(&b, RP_MAGIC, RP_MAGIC_LEN);
	rp_u16(&b, RP_VERSION);
	rp_u16(&b, RP_VERSION);
	rp_end(&b);
	pthread_mutex_lock(&l->lock);
	uint64_t epoch = ++l->epoch;
	pthread_mutex_unlock(&l->lock);
	rl_send(l, &b, epoch); /* a failure shows as the end of input */
	rp_buf_free(&b);
	int64_t end = rl_ms() + RL_HANDSHAKE_MS;
	for (;;) {
		r = rl_read_frame(l, end - rl_ms(), &f, &len);
		if (r == -EPIPE || r == -EINTR)
			break;
		if (r == -ETIMEDOUT) {
			snprintf(what, sizeof(what), "no answer within %d s", RL_HANDSHAKE_MS / 1000);
			break;
		}
		if (r == 0 && (r = rp_decode(f, len, 1, &m, why, sizeof(why))) == -EBADMSG)
			snprintf(what, sizeof(what), "does not speak advisoryfs's remote protocol (%s)",
				 why);
		else if (r == -EBADMSG)
			snprintf(what, sizeof(what), "does not speak advisoryfs's remote protocol");
		if (r) {
			if (!*what)
				snprintf(what, sizeof(what), "%s", strerror(-r));
			break;
		}
		if (m.type == RP_ERROR) {
			snprintf(what, sizeof(what), "%.*s",
				 (int)(m.text.len < RP_TEXT_MAX ? m.text.len : RP_TEXT_MAX), m.text.p);
			r = -(int)(m.code ? m.code : EPROTO);
			if (r >= 0 || r < -4095)
				r = -EPROTO;
		} else if (!welcomed && m.type == RP_WELCOME) {
			if (m.version != RP_VERSION) {
				snprintf(what, sizeof(what), "the server speaks protocol version %u, "
					 "this client %d", (unsigned)m.version, RP_VERSION);
				r = -EPROTONOSUPPORT;
			} else {
				welcomed = 1;
				rp_msg_free(&m);
				free(f);
				f = NULL;
				continue;
			}
		} else if (welcomed && m.type == RP_TREE) {
			*ret_frame = f;
			*ret_m = m;
			pthread_mutex_lock(&l->lock);
			l->connected = 1;
			pthread_cond_broadcast(&l->cond);
			pthread_mutex_unlock(&l->lock);
			return 0;
		} else {
			snprintf(what, sizeof(what), "sent frame type %u during the handshake",
				 (unsigned)m.type);
			r = -EPROTO;
		}
		rp_msg_free(&m);
		break;
	}
	free(f);
	int status = rl_end_child(l);
	rl_why(l, status, *what ? what : NULL, err, errlen);
	return r ? r : -EIO;
}

/* ---- requests --------------------------------------------------------------------------- */

int rl_get(struct rl_link *l, const char *path, size_t pathlen, const unsigned char sha256[32],
	   int64_t wait_ms, unsigned char **ret, size_t *ret_len)
{
	struct rl_req q = { .done = 0 };
	int64_t down_since = -1;
	int r;

	pthread_mutex_lock(&l->lock);
	q.id = ++l->next_id;
	q.next = l->reqs;
	l->reqs = &q;
	while (!q.done && !l->stop) {
		if (l->connected && q.sent != l->epoch) {
			struct rp_buf b = { 0 };
			uint64_t e = l->epoch;
			q.sent = e;
			down_since = -1;
			pthread_mutex_unlock(&l->lock);
			rp_begin(&b, RP_GET);
			rp_u32(&b, q.id);
			rp_str16(&b, path, pathlen);
			rp_bytes(&b, sha256, 32);
			rp_end(&b);
			r = rl_send(l, &b, e);
			rp_buf_free(&b);
			pthread_mutex_lock(&l->lock);
			if (r == -ENOMEM)
				break;
			continue;
		}
		struct timespec ts;
		if (!l->connected) {
			int64_t now = rl_ms();
			if (down_since < 0)
				down_since = now;
			if (now - down_since >= wait_ms)
				break;
			rl_deadline(wait_ms - (now - down_since), &ts);
		} else {
			rl_deadline(1000, &ts);
		}
		pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	}
	for (struct rl_req **p = &l->reqs; *p; p = &(*p)->next)
		if (*p == &q) {
			*p = q.next;
			break;
		}
	pthread_mutex_unlock(&l->lock);
	if (!q.done) {
		free(q.data);
		return -EIO;
	}
	if (q.code) {
		free(q.data);
		return q.code == ENOENT || q.code == ESTALE ? -q.code : -EIO;
	}
	*ret = q.data;
	*ret_len = q.len;
	return 0;
}

/* A DATA or NODATA frame for request id. */
static void rl_answer(struct rl_link *l, const struct rp_msg *m)
{
	unsigned char *copy = NULL;
	if (m->type == RP_DATA && !(copy = malloc(m->datalen ? m->datalen : 1)))
		return; /* the request waits on; out of memory all the same */
	if (copy && m->datalen)
		memcpy(copy, m->data, m->datalen);
	pthread_mutex_lock(&l->lock);
	for (struct rl_req *q = l->reqs; q; q = q->next) {
		if (q->id != m->id || q->done)
			continue;
		q->done = 1;
		q->code = m->type == RP_NODATA ? (int)(m->code ? m->code : EIO) : 0;
		q->data = copy;
		q->len = m->datalen;
		copy = NULL;
		break;
	}
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	free(copy);
}

/* ---- the reader ------------------------------------------------------------------------- */

/* Frames until the connection ends or breaks the protocol. */
static void rl_pump(struct rl_link *l)
{
	for (;;) {
		unsigned char *f = NULL;
		size_t len;
		struct rp_msg m;
		char why[256];
		int r = rl_read_frame(l, -1, &f, &len);
		if (r) {
			if (r == -EBADMSG || r == -ENOMEM)
				rl_log(l, LOG_ERR, "%s: %s", l->host,
				       r == -ENOMEM ? "out of memory" : "a frame out of bounds");
			return;
		}
		if ((r = rp_decode(f, len, 1, &m, why, sizeof(why)))) {
			rl_log(l, LOG_ERR, "%s: a frame that breaks the protocol: %s", l->host,
			       r == -ENOMEM ? "out of memory" : why);
			free(f);
			return;
		}
		switch (m.type) {
		case RP_TREE:
		case RP_PATCH:
			l->ops->tree(l->arg, f, &m, 0);
			continue; /* both are the callee's now */
		case RP_DATA:
		case RP_NODATA:
			rl_answer(l, &m);
			break;
		case RP_ERROR:
			rl_log(l, LOG_ERR, "%s: %.*s", l->host, (int)m.text.len, m.text.p);
			break;
		default:
			rl_log(l, LOG_ERR, "%s: unexpected frame type %u", l->host, (unsigned)m.type);
			rp_msg_free(&m);
			free(f);
			return;
		}
		rp_msg_free(&m);
		free(f);
	}
}

static void *rl_main(void *arg)
{
	struct rl_link *l = arg;
	int64_t backoff = RL_BACKOFF_MIN_MS;

	for (;;) {
		rl_pump(l);
		int status = rl_end_child(l);
		pthread_mutex_lock(&l->lock);
		int stop = l->stop;
		pthread_mutex_unlock(&l->lock);
		if (stop)
			break;
		rl_log(l, LOG_WARNING, "%s: connection lost (%s); reconnecting", l->host,
		       status < 0 ? "no ssh"
		       : WIFEXITED(status) ? "ssh exited"
					   : "ssh was killed");
		l->ops->down(l->arg);
		for (;;) {
			char err[1024];
			unsigned char *f = NULL;
			struct rp_msg m;
			struct timespec ts;
			rl_deadline(backoff, &ts);
			pthread_mutex_lock(&l->lock);
			while (!l->stop && pthread_cond_timedwait(&l->cond, &l->lock, &ts) == 0)
				;
			stop = l->stop;
			pthread_mutex_unlock(&l->lock);
			if (stop)
				return NULL;
			if (rl_handshake(l, &f, &m, err, sizeof(err)) == 0) {
				rl_log(l, LOG_NOTICE, "%s: connected again", l->host);
				l->ops->tree(l->arg, f, &m, 1);
				backoff = RL_BACKOFF_MIN_MS;
				break;
			}
			rl_log(l, LOG_WARNING, "%s; trying again in %.1f s", err,
			       (double)(backoff * 2 > RL_BACKOFF_MAX_MS ? RL_BACKOFF_MAX_MS
									: backoff * 2) / 1000);
			backoff = backoff * 2 > RL_BACKOFF_MAX_MS ? RL_BACKOFF_MAX_MS : backoff * 2;
		}
	}
	return NULL;
}

/* ---- set-up ----------------------------------------------------------------------------- */

int rl_init(struct rl_link *l, const char *ssh_command, const char *host,
	    const struct rl_ops *ops, void *arg)
{
	const char *cmd = ssh_command && *ssh_command ? ssh_command : RL_DEFAULT_SSH;
	pthread_condattr_t ca;
	size_t n = 0, cap = 8;
	char *copy, *save = NULL;

	memset(l, 0, sizeof(*l));
	l->to_fd = l->from_fd = l->err_fd = -1;
	l->host = host;
	l->ops = ops;
	l->arg = arg;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->wlock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!(copy = strdup(cmd)) || !(l->argv = calloc(cap, sizeof(*l->argv)))) {
		free(copy);
		return -ENOMEM;
	}
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n + 4 >= cap) {
			char **na = realloc(l->argv, cap * 2 * sizeof(*na));
			if (!na) {
				free(copy);
				return -ENOMEM;
			}
			l->argv = na;
			cap *= 2;
		}
		if (!(l->argv[n++] = strdup(w))) {
			free(copy);
			return -ENOMEM;
		}
	}
	free(copy);
	if (n == 0)
		return -EINVAL;
	if (!(l->argv[n++] = strdup(host)) || !(l->argv[n++] = strdup("advisoryfs")) ||
	    !(l->argv[n++] = strdup("serve")))
		return -ENOMEM;
	l->argv[n] = NULL;
	return 0;
}

void rl_free(struct rl_link *l)
{
	if (l->argv)
		for (char **a = l->argv; *a; a++)
			free(*a);
	free(l->argv);
	free(l->in);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->wlock);
	pthread_cond_destroy(&l->cond);
	memset(l, 0, sizeof(*l));
}

int rl_connect(struct rl_link *l, unsigned char **ret_frame, struct rp_msg *ret_m, char *err,
	       size_t errlen)
{
	return rl_handshake(l, ret_frame, ret_m, err, errlen);
}

int rl_start(struct rl_link *l)
{
	sigset_t block, old;
	int r;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = -pthread_create(&l->reader, NULL, rl_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!r)
		l->reader_running = 1;
	return r;
}

void rl_stop(struct rl_link *l)
{
	pthread_mutex_lock(&l->lock);
	l->stop = 1;
	if (l->pid > 0)
		kill(l->pid, SIGTERM);
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (l->reader_running) {
		pthread_join(l->reader, NULL);
		l->reader_running = 0;
	}
	rl_end_child(l);
}
