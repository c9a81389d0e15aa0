/*
 * remote_apply.c - the applier thread of the remote mount's client: each
 * TREE or PATCH frame the link hands over becomes the new tree
 * (rt_build()), swapped in, and the kernel is told what changed for the
 * nodes it holds (remote_mount.c's file comment has the table); past
 * max_stale without a connection it drops the kernel's caches of every
 * node, so that each request reaches the mount and fails with EIO.
 */
#include "remote_apply.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "remote_nodes.h"

/* ---- applying changes ------------------------------------------------------------------- */

static int rm_node_cmp(const void *x, const void *y)
{
	const struct rm_node *a = *(struct rm_node *const *)x, *b = *(struct rm_node *const *)y;
	/* deepest first (a longer path sorts first among relatives) */
	int c = rp_path_cmp(b->path, b->pathlen, a->path, a->pathlen);
	return c;
}

/*
 * Tell the kernel how the tree went from o to nw, for the nodes it holds
 * (pinned in nodes[], sorted deepest first): each node whose path went,
 * changed content, or whose directory's listing or attributes changed.
 */
static void rm_notify(struct rm *rm, const struct rt_tree *o, const struct rt_tree *nw,
		      struct rm_node **nodes, size_t nn)
{
	for (size_t k = 0; k < nn; k++) {
		struct rm_node *n = nodes[k];
		int64_t oi = rt_find(o, n->path, n->pathlen), ni = rt_find(nw, n->path, n->pathlen);
		const struct rt_ent *oe = oi >= 0 ? &o->ents[oi] : NULL;
		const struct rt_ent *ne = ni >= 0 ? &nw->ents[ni] : NULL;
		size_t plen = n->pathlen ? rp_parent_len(n->path, n->pathlen) : 0;
		const char *name = rp_base(n->path, n->pathlen);
		struct rm_node *parent = n->pathlen ? rm_dir_node(rm, n->path, plen) : NULL;
		fuse_ino_t id = rm_nodeid(rm, n), pid = parent ? rm_nodeid(rm, parent) : 0;
		int mine = !n->isdir ? (oe && oe->kind != RP_DIR && !memcmp(oe->sha256, n->sha, 32))
				     : (oe && oe->kind == RP_DIR);

		if (!ne || (ne->kind == RP_DIR) != n->isdir) {
			/* the name went (or is something else now) */
			fuse_lowlevel_notify_inval_inode(rm->se, id, 0, 0);
			if (pid && mine)
				fuse_lowlevel_notify_delete(rm->se, pid, id, name, strlen(name));
			else if (pid)
				fuse_lowlevel_notify_inval_entry(rm->se, pid, name, strlen(name));
			continue;
		}
		if (!n->isdir && memcmp(ne->sha256, n->sha, 32) != 0) {
			/* other content under the name: a new node for it */
			fuse_lowlevel_notify_inval_inode(rm->se, id, 0, 0);
			if (pid && mine)
				fuse_lowlevel_notify_inval_entry(rm->se, pid, name, strlen(name));
			continue;
		}
		if (!oe || oe->mtime != ne->mtime || oe->ino != ne->ino || oe->size != ne->size ||
		    oe->nsub != ne->nsub)
			fuse_lowlevel_notify_inval_inode(rm->se, id, 0, 0);
		if (n->isdir && oe) {
			/* names that appeared (a negative entry may be cached) or went:
			 * the listing the kernel keeps is dropped with the inode */
			int changed = 0;
			for (uint32_t i = (uint32_t)ni + 1; i < ne->end; i = nw->ents[i].end)
				if (rt_child(o, (uint32_t)oi, nw->ents[i].name) < 0) {
					changed = 1;
					fuse_lowlevel_notify_inval_entry(rm->se, id, nw->ents[i].name,
									 strlen(nw->ents[i].name));
				}
			for (uint32_t i = (uint32_t)oi + 1; !changed && i < oe->end; i = o->ents[i].end)
				if (rt_child(nw, (uint32_t)ni, o->ents[i].name) < 0)
					changed = 1;
			if (changed)
				fuse_lowlevel_notify_inval_inode(rm->se, id, 0, 0);
		}
	}
}

/* Drop the kernel's caches of every node: past max_stale nothing may be
 * answered from them. */
static void rm_drop_all(struct rm *rm)
{
	size_t nn = 0;
	struct rm_node **nodes = rm_pin_all(rm, &nn);
	if (!nodes)
		return;
	qsort(nodes, nn, sizeof(*nodes), rm_node_cmp);
	for (size_t k = 0; k < nn; k++) {
		struct rm_node *n = nodes[k];
		fuse_lowlevel_notify_inval_inode(rm->se, rm_nodeid(rm, n), 0, 0);
		if (n->pathlen) {
			struct rm_node *p = rm_dir_node(rm, n->path, rp_parent_len(n->path, n->pathlen));
			const char *name = rp_base(n->path, n->pathlen);
			if (p)
				fuse_lowlevel_notify_inval_entry(rm->se, rm_nodeid(rm, p), name,
								 strlen(name));
		}
	}
	rm_unpin_all(rm, nodes, nn);
}

/* Apply one frame: the new tree, swapped in, then the kernel told. */
static void rm_apply(struct rm *rm, struct rm_frame *f)
{
	struct rt_tree *o = rm_tree(rm), *nw = NULL;
	char why[256];
	size_t nn = 0;
	int64_t t0 = rm_ms();
	int r = rt_build(f->first ? NULL : o, &f->m, &nw, why, sizeof(why));
	int64_t t1 = rm_ms();

	if (r) {
		rm_log(rm, LOG_ERR, "%s: a change that cannot be applied (%s): reconnecting",
		       rm->host, r == -ENOMEM ? "out of memory" : why);
		pthread_mutex_lock(&rm->link.lock);
		if (rm->link.pid > 0)
			kill(rm->link.pid, SIGTERM);
		pthread_mutex_unlock(&rm->link.lock);
		rt_put(o);
		return;
	}
	/* generations of this mount only move forward, whatever the server's */
	nw->gen = o->gen + 1;
	pthread_mutex_lock(&rm->tree_lock);
	struct rt_tree *prev = rm->tree;
	rm->tree = nw;
	pthread_mutex_unlock(&rm->tree_lock);
	rt_put(prev);
	if (f->first) {
		pthread_mutex_lock(&rm->state_lock);
		rm->up = 1;
		rm->dropped = 0;
		pthread_mutex_unlock(&rm->state_lock);
	}
	/* a PATCH names what changed: only nodes at those paths or their
	 * directories are compared (a TREE: every node) */
	struct rp_intern only = { 0 };
	int filter = !f->first;
	for (uint32_t i = 0; filter && i < f->m.nremoved + f->m.nents; i++) {
		const struct rp_str *p = i < f->m.nremoved ? &f->m.removed[i]
							     : &f->m.ents[i - f->m.nremoved].path;
		if (rp_intern(&only, p->p, p->len) < 0 ||
		    (p->len && rp_intern(&only, p->p, (uint32_t)rp_parent_len(p->p, p->len)) < 0))
			filter = 0;
	}
	/* bytes of files that went or changed leave the cache */
	if (filter) {
		for (uint32_t k = 0; k < only.n; k++) {
			int64_t i = rt_find(o, only.strs[k].p, only.strs[k].len);
			if (i < 0 || o->ents[i].kind != RP_FILE)
				continue;
			int64_t j = rt_find(nw, only.strs[k].p, only.strs[k].len);
			if (j < 0 || memcmp(nw->ents[j].sha256, o->ents[i].sha256, 32) != 0)
				rm_cache_drop(rm, o->ents[i].sha256);
		}
	} else {
		for (uint32_t i = 0; i < o->n; i++) {
			const struct rt_ent *e = &o->ents[i];
			if (e->kind != RP_FILE)
				continue;
			int64_t k = rt_find(nw, e->path, e->pathlen);
			if (k < 0 || memcmp(nw->ents[k].sha256, e->sha256, 32) != 0)
				rm_cache_drop(rm, e->sha256);
		}
	}
	struct rm_node **nodes = filter ? rm_pin_paths(rm, &only, &nn) : rm_pin_all(rm, &nn);
	if (nodes) {
		/* deepest first */
		qsort(nodes, nn, sizeof(*nodes), rm_node_cmp);
		rm_notify(rm, o, nw, nodes, nn);
		rm_unpin_all(rm, nodes, nn);
	} else {
		rm_log(rm, LOG_ERR, "out of memory: cached names may be stale");
	}
	rp_intern_free(&only);
	rm_log(rm, rm->timing ? LOG_NOTICE : LOG_DEBUG,
	       "generation %llu: %u entries, %zu nodes; build %lld ms, notify %lld ms",
	       (unsigned long long)nw->gen, nw->n, nn, (long long)(t1 - t0),
	       (long long)(rm_ms() - t1));
	rt_put(o);
}

void *rm_applier(void *arg)
{
	struct rm *rm = arg;
	pthread_mutex_lock(&rm->q_lock);
	for (;;) {
		while (!rm->q_head && !rm->q_stop) {
			pthread_mutex_lock(&rm->state_lock);
			int armed = !rm->up && !rm->dropped;
			int64_t due = rm->down_ms + (int64_t)rm->max_stale * 1000 + 1;
			pthread_mutex_unlock(&rm->state_lock);
			if (armed && rm_ms() >= due) {
				pthread_mutex_lock(&rm->state_lock);
				rm->dropped = 1;
				pthread_mutex_unlock(&rm->state_lock);
				pthread_mutex_unlock(&rm->q_lock);
				rm_log(rm, LOG_ERR, "%s: no connection for %u s: every request fails "
				       "with EIO until it is back", rm->host, rm->max_stale);
				rm_drop_all(rm);
				pthread_mutex_lock(&rm->q_lock);
				continue;
			}
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t wait = armed ? due - rm_ms() : 60000;
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&rm->q_cond, &rm->q_lock, &ts);
		}
		if (rm->q_stop)
			break;
		struct rm_frame *f = rm->q_head;
		rm->q_head = f->next;
		if (!rm->q_head)
			rm->q_tail = &rm->q_head;
		pthread_mutex_unlock(&rm->q_lock);
		rm_apply(rm, f);
		rp_msg_free(&f->m);
		free(f->bytes);
		free(f);
		pthread_mutex_lock(&rm->q_lock);
		if (!rm->q_head) {
			/* idle: a tree sharing many generations' memory is copied into
			 * one (the same content and generation: nothing to tell) */
			pthread_mutex_unlock(&rm->q_lock);
			struct rt_tree *t = rm_tree(rm), *c = NULL;
			if (t->nmems > RT_MEMS_MAX && rt_compact(t, &c) == 0) {
				pthread_mutex_lock(&rm->tree_lock);
				int same = rm->tree == t;
				if (same)
					rm->tree = c;
				pthread_mutex_unlock(&rm->tree_lock);
				if (same)
					rt_put(t); /* the pointer's reference */
				else
					rt_put(c);
			}
			rt_put(t);
			pthread_mutex_lock(&rm->q_lock);
		}
	}
	pthread_mutex_unlock(&rm->q_lock);
	return NULL;
}

/* The link's callbacks (its reader thread). */
static void rm_on_tree(void *arg, unsigned char *frame, struct rp_msg *m, int first)
{
	struct rm *rm = arg;
	struct rm_frame *f = calloc(1, sizeof(*f));
	if (!f) {
		rp_msg_free(m);
		free(frame);
		return;
	}
	f->bytes = frame;
	f->m = *m;
	f->first = first;
	pthread_mutex_lock(&rm->q_lock);
	*rm->q_tail = f;
	rm->q_tail = &f->next;
	pthread_cond_signal(&rm->q_cond);
	pthread_mutex_unlock(&rm->q_lock);
}

static void rm_on_down(void *arg)
{
	struct rm *rm = arg;
	pthread_mutex_lock(&rm->state_lock);
	if (rm->up) {
		rm->up = 0;
		rm->down_ms = rm_ms();
	}
	pthread_mutex_unlock(&rm->state_lock);
	pthread_mutex_lock(&rm->q_lock);
	pthread_cond_signal(&rm->q_cond);
	pthread_mutex_unlock(&rm->q_lock);
}

static void rm_on_log(void *arg, int level, const char *line)
{
	rm_log(arg, level, "%s", line);
}

const struct rl_ops rm_link_ops = { rm_on_tree, rm_on_down, rm_on_log };

