/*
 * fuzz_remote.c - the remote mount client's frame parser, rp_decode()
 * (fs/remote/remote_proto.c), and the tree it builds, rt_build()
 * (fs/remote/remote_tree.c), on arbitrary bytes: what a server, or anybody
 * on the other end of the SSH connection, could send.
 *
 * The input is one frame without its length (the type byte and the
 * payload), decoded as a client decodes the server's frames and as a
 * server decodes a client's.  On success every bound of remote_proto.h
 * holds: counts, lengths, paths (valid, sorted, no name twice), kinds,
 * sizes, attribute indices; a TREE is a tree, and rt_build() makes of it
 * a tree whose every entry is found again by path, whose parents and
 * subtree ends nest; a PATCH is applied to a small fixed tree and either
 * refused (-EBADMSG, one line) or gives such a tree, which rt_compact()
 * copies into one memory as the same tree.  On failure the
 * message is one line and the message owns nothing.
 */
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#include "remote_proto.h"
#include "remote_tree.h"

static void check_tree(const struct rt_tree *t)
{
	FZ_CHECK(t->n >= 1 && t->ents[0].pathlen == 0 && t->ents[0].kind == RP_DIR);
	for (uint32_t i = 0; i < t->n; i++) {
		const struct rt_ent *e = &t->ents[i];
		FZ_CHECK(rp_path_valid(e->path, e->pathlen));
		FZ_CHECK(e->path[e->pathlen] == 0);
		FZ_CHECK(rt_find(t, e->path, e->pathlen) == (int64_t)i);
		FZ_CHECK(e->end > i && e->end <= t->n);
		if (i) {
			const struct rt_ent *p = &t->ents[e->parent];
			FZ_CHECK(e->parent < i && p->kind == RP_DIR && e->end <= p->end);
			FZ_CHECK(rp_path_cmp(t->ents[i - 1].path, t->ents[i - 1].pathlen, e->path,
					     e->pathlen) < 0);
			FZ_CHECK(rt_child(t, e->parent, e->name) == (int64_t)i);
		}
		if (e->kind != RP_DIR)
			FZ_CHECK(e->end == i + 1);
		if (e->kind == RP_INLINE)
			FZ_CHECK(e->size <= RP_INLINE_MAX && e->data);
		FZ_CHECK(e->nx <= RP_XATTRS_MAX);
		for (unsigned k = 0; k < e->nx; k++)
			FZ_CHECK(e->x[k].nlen > 5 && memcmp(e->x[k].name, "user.", 5) == 0);
	}
}

static void check_msg(const struct rp_msg *m)
{
	FZ_CHECK(m->nents <= RP_ENTRIES_MAX && m->nstrs <= RP_STRINGS_MAX);
	for (uint32_t i = 0; i < m->nstrs; i++)
		FZ_CHECK(m->strs[i].len <= RP_STRING_MAX);
	for (uint32_t i = 0; i < m->nremoved; i++) {
		FZ_CHECK(m->removed[i].len > 0 && rp_path_valid(m->removed[i].p, m->removed[i].len));
		if (i)
			FZ_CHECK(rp_path_cmp(m->removed[i - 1].p, m->removed[i - 1].len,
					     m->removed[i].p, m->removed[i].len) < 0);
	}
	for (uint32_t i = 0; i < m->nents; i++) {
		const struct rp_ent *e = &m->ents[i];
		FZ_CHECK(rp_path_valid(e->path.p, e->path.len));
		FZ_CHECK(e->kind == RP_DIR || e->kind == RP_FILE || e->kind == RP_INLINE);
		FZ_CHECK(e->kind != RP_FILE || (e->sha256 && e->size <= RP_FILE_MAX));
		FZ_CHECK(e->kind != RP_INLINE || (e->data && e->size <= RP_INLINE_MAX));
		FZ_CHECK(e->nx <= RP_XATTRS_MAX);
		for (unsigned k = 0; k < e->nx; k++)
			FZ_CHECK(e->x[k].name < m->nstrs && e->x[k].value < m->nstrs);
		if (i)
			FZ_CHECK(rp_path_cmp(m->ents[i - 1].path.p, m->ents[i - 1].path.len,
					     e->path.p, e->path.len) < 0);
	}
}

/* The tree a PATCH is tried against: a root, white/, white/2024/, one file. */
static struct rt_tree *base_tree(void)
{
	static const unsigned char frame[] = {
		RP_TREE, 0, 0, 0, 0, 0, 0, 0, 1,  /* generation 1 */
		0, 0, 0, 0,                       /* no strings */
		0, 0, 0, 4,                       /* four entries */
		0, 0, RP_DIR, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0,
		0, 5, 'w', 'h', 'i', 't', 'e', RP_DIR, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 3, 0,
		0, 10, 'w', 'h', 'i', 't', 'e', '/', '2', '0', '2', '4', RP_DIR, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0,
		0, 17, 'w', 'h', 'i', 't', 'e', '/', '2', '0', '2', '4', '/', 'a', '.', 'j', 's',
		'o', 'n', RP_INLINE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0,
		0, 0, 0, 2, '{', '}', 0,
	};
	struct rp_msg m;
	struct rt_tree *t = NULL;
	char err[256];
	FZ_CHECK(rp_decode(frame, sizeof(frame), 1, &m, err, sizeof(err)) == 0);
	FZ_CHECK(rt_build(NULL, &m, &t, err, sizeof(err)) == 0);
	rp_msg_free(&m);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int from_server = 1; from_server >= 0; from_server--) {
		struct rp_msg m;
		char err[256];
		memset(&m, 0x5a, sizeof(m));
		memset(err, 0, sizeof(err));
		int r = rp_decode(data, size, from_server, &m, err, sizeof(err));
		if (r) {
			FZ_CHECK(r == -EBADMSG || r == -ENOMEM);
			FZ_CHECK(m.strs == NULL && m.removed == NULL && m.ents == NULL);
			if (r == -EBADMSG)
				FZ_CHECK(fz_one_line(err, sizeof(err)));
			continue;
		}
		FZ_CHECK(size >= 1 && m.type == data[0]);
		if (from_server)
			FZ_CHECK(m.type != RP_HELLO && m.type != RP_GET);
		else
			FZ_CHECK(m.type == RP_HELLO || m.type == RP_GET);
		check_msg(&m);
		if (m.type == RP_TREE || m.type == RP_PATCH) {
			struct rt_tree *base = m.type == RP_PATCH ? base_tree() : NULL, *t = NULL;
			r = rt_build(base, &m, &t, err, sizeof(err));
			if (m.type == RP_TREE)
				FZ_CHECK(r == 0 || r == -ENOMEM);
			if (r == 0) {
				struct rt_tree *c = NULL;
				check_tree(t);
				if (rt_compact(t, &c) == 0) {
					FZ_CHECK(c->n == t->n && c->gen == t->gen && c->nmems == 1);
					check_tree(c);
					rt_put(c);
				}
				rt_put(t);
			} else {
				FZ_CHECK(r == -EBADMSG || r == -ENOMEM);
				if (r == -EBADMSG)
					FZ_CHECK(fz_one_line(err, sizeof(err)));
			}
			rt_put(base);
		}
		if (m.type == RP_DATA)
			FZ_CHECK(m.datalen <= RP_FILE_MAX && m.data);
		rp_msg_free(&m);
		FZ_CHECK(m.ents == NULL && m.strs == NULL && m.removed == NULL);
	}
	return 0;
}
