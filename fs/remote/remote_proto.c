/*
 * remote_proto.c - frames of the remote-mount protocol (remote_proto.h):
 * the decoder, which a client runs on whatever the other end of its SSH
 * connection sends and so trusts nothing (every length, count and index is
 * checked before it is used; tests/fuzz/fuzz_remote.c runs it on arbitrary
 * bytes), the encoder, path order and the string interning both sides use.
 *
 * Sections: paths, decoding, encoding, interning.
 */
#include "remote_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths ------------------------------------------------------------------------------ */

int rp_path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i = 0;
	/* equal bytes decide nothing: skip them a word at a time (sorted
	 * paths share long prefixes), then compare from the first difference */
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			break;
	}
	for (; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x == y)
			continue;
		if (x == '/')
			return -1;
		if (y == '/')
			return 1;
		return x < y ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int rp_path_valid(const char *p, size_t len)
{
	size_t start = 0;
	if (len == 0)
		return 1;
	if (len > RP_PATH_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] == 0)
			return 0;
		if (i < len && p[i] != '/')
			continue;
		size_t n = i - start;
		if (n == 0 || n > RP_NAME_MAX)
			return 0;
		if (p[start] == '.' && (n == 1 || (n == 2 && p[start + 1] == '.')))
			return 0;
		start = i + 1;
	}
	return 1;
}

size_t rp_parent_len(const char *p, size_t len)
{
	while (len > 0 && p[len - 1] != '/')
		len--;
	return len ? len - 1 : 0;
}

const char *rp_base(const char *p, size_t len)
{
	size_t i = len;
	while (i > 0 && p[i - 1] != '/')
		i--;
	return p + i;
}

static int rp_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int rp_check_tree(size_t n, void (*get)(void *arg, size_t i, const char **path, size_t *len,
					int *isdir),
		  void *arg, char *err, size_t errlen)
{
	/* the directories from the root down to the last entry's parent: in
	 * rp_path_cmp() order an entry's parent is on this stack or it is
	 * absent, since everything between a directory and its descendants
	 * is its descendant too */
	size_t *stack = NULL, depth = 0, cap = 0;
	int r = 0;

	if (n == 0)
		return rp_fail(err, errlen, "a tree without its root");
	for (size_t i = 0; i < n && !r; i++) {
		const char *p;
		size_t len, plen;
		int isdir;
		get(arg, i, &p, &len, &isdir);
		if (i == 0) {
			if (len != 0 || !isdir)
				r = rp_fail(err, errlen, "the first entry is not the root directory");
		} else {
			plen = rp_parent_len(p, len);
			while (depth > 0) {
				const char *q;
				size_t qlen;
				int qdir;
				get(arg, stack[depth - 1], &q, &qlen, &qdir);
				if (qlen == plen && memcmp(q, p, plen) == 0)
					break;
				depth--;
			}
			if (depth == 0)
				r = rp_fail(err, errlen, "entry %zu has no parent directory before it", i);
		}
		if (!r && isdir) {
			if (depth == cap) {
				size_t nc = cap ? cap * 2 : 16;
				size_t *ns = realloc(stack, nc * sizeof(*ns));
				if (!ns) {
					r = -ENOMEM;
					break;
				}
				stack = ns;
				cap = nc;
			}
			stack[depth++] = i;
		}
	}
	free(stack);
	return r;
}

/* ---- decoding --------------------------------------------------------------------------- */

struct rp_rd {
	const unsigned char *p;
	size_t len, off;
	int bad;                    /* read past the end */
};

static int rp_has(struct rp_rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return 0;
	}
	return 1;
}

static uint64_t rp_get(struct rp_rd *r, int n)
{
	uint64_t v = 0;
	if (!rp_has(r, (size_t)n))
		return 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | r->p[r->off + (size_t)i];
	r->off += (size_t)n;
	return v;
}

static const unsigned char *rp_take(struct rp_rd *r, size_t n)
{
	if (!rp_has(r, n))
		return NULL;
	const unsigned char *p = r->p + r->off;
	r->off += n;
	return p;
}

/* A str16 or str32 of at most max bytes into *s; 0 or -1. */
static int rp_getstr(struct rp_rd *r, int lenbytes, size_t max, struct rp_str *s)
{
	uint64_t n = rp_get(r, lenbytes);
	if (r->bad || n > max || !rp_has(r, (size_t)n))
		return -1;
	s->p = (const char *)rp_take(r, (size_t)n);
	s->len = (uint32_t)n;
	return 0;
}

/* A count of items each at least min bytes long, at most max: the bytes
 * left must be able to hold them, so no count allocates more than the
 * frame could describe. */
static int rp_getcount(struct rp_rd *r, uint32_t max, size_t min, uint32_t *ret)
{
	uint64_t n = rp_get(r, 4);
	if (r->bad || n > max || (min && n > (r->len - r->off) / min))
		return -1;
	*ret = (uint32_t)n;
	return 0;
}

/* A text that is one line: no C0 control byte, no DEL. */
static int rp_text_ok(const struct rp_str *s)
{
	for (uint32_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/* The smallest entry: path length, kind, mtime, ino, nxattr. */
#define RP_ENT_MIN (2 + 1 + 8 + 8 + 1)

static int rp_decode_ent(struct rp_rd *r, const struct rp_msg *m, struct rp_ent *e, char *err,
			 size_t errlen, uint32_t i)
{
	memset(e, 0, sizeof(*e));
	if (rp_getstr(r, 2, RP_PATH_MAX, &e->path) || !rp_path_valid(e->path.p, e->path.len))
		return rp_fail(err, errlen, "entry %u: bad path", i);
	e->kind = (uint8_t)rp_get(r, 1);
	e->mtime = (int64_t)rp_get(r, 8);
	e->ino = rp_get(r, 8);
	if (r->bad)
		return rp_fail(err, errlen, "entry %u: truncated", i);
	switch (e->kind) {
	case RP_DIR:
		break;
	case RP_FILE:
		e->size = rp_get(r, 8);
		e->sha256 = rp_take(r, 32);
		if (r->bad || e->size > RP_FILE_MAX)
			return rp_fail(err, errlen, "entry %u: bad file", i);
		break;
	case RP_INLINE:
		e->size = rp_get(r, 8);
		if (r->bad || e->size > RP_INLINE_MAX || !(e->data = rp_take(r, (size_t)e->size)))
			return rp_fail(err, errlen, "entry %u: bad inline file", i);
		break;
	default:
		return rp_fail(err, errlen, "entry %u: unknown kind %u", i, (unsigned)e->kind);
	}
	if (e->path.len == 0 && e->kind != RP_DIR)
		return rp_fail(err, errlen, "entry %u: the root is not a directory", i);
	e->nx = (uint8_t)rp_get(r, 1);
	if (r->bad || e->nx > RP_XATTRS_MAX)
		return rp_fail(err, errlen, "entry %u: bad extended attributes", i);
	for (unsigned k = 0; k < e->nx; k++) {
		e->x[k].name = (uint32_t)rp_get(r, 4);
		e->x[k].value = (uint32_t)rp_get(r, 4);
		if (r->bad || e->x[k].name >= m->nstrs || e->x[k].value >= m->nstrs)
			return rp_fail(err, errlen, "entry %u: bad extended attribute", i);
		const struct rp_str *nm = &m->strs[e->x[k].name];
		if (nm->len < 6 || nm->len > RP_NAME_MAX || memcmp(nm->p, "user.", 5) != 0 ||
		    memchr(nm->p, 0, nm->len))
			return rp_fail(err, errlen, "entry %u: bad extended attribute name", i);
		for (unsigned j = 0; j < k; j++)
			if (e->x[j].name == e->x[k].name)
				return rp_fail(err, errlen, "entry %u: an attribute twice", i);
	}
	return 0;
}

static int rp_decode_strtab(struct rp_rd *r, struct rp_msg *m, char *err, size_t errlen)
{
	if (rp_getcount(r, RP_STRINGS_MAX, 4, &m->nstrs))
		return rp_fail(err, errlen, "bad string table");
	if (m->nstrs && !(m->strs = calloc(m->nstrs, sizeof(*m->strs))))
		return -ENOMEM;
	for (uint32_t i = 0; i < m->nstrs; i++)
		if (rp_getstr(r, 4, RP_STRING_MAX, &m->strs[i]))
			return rp_fail(err, errlen, "bad string %u", i);
	return 0;
}

static void rp_tree_get(void *arg, size_t i, const char **path, size_t *len, int *isdir)
{
	const struct rp_ent *e = &((const struct rp_msg *)arg)->ents[i];
	*path = e->path.p;
	*len = e->path.len;
	*isdir = e->kind == RP_DIR;
}

static int rp_decode_tree(struct rp_rd *r, struct rp_msg *m, char *err, size_t errlen)
{
	int x;
	m->gen = rp_get(r, 8);
	if (r->bad)
		return rp_fail(err, errlen, "truncated");
	if ((x = rp_decode_strtab(r, m, err, errlen)))
		return x;
	if (m->type == RP_PATCH) {
		if (rp_getcount(r, RP_ENTRIES_MAX, 2, &m->nremoved))
			return rp_fail(err, errlen, "bad count of removed paths");
		if (m->nremoved && !(m->removed = calloc(m->nremoved, sizeof(*m->removed))))
			return -ENOMEM;
		for (uint32_t i = 0; i < m->nremoved; i++) {
			struct rp_str *s = &m->removed[i];
			if (rp_getstr(r, 2, RP_PATH_MAX, s) || s->len == 0 ||
			    !rp_path_valid(s->p, s->len))
				return rp_fail(err, errlen, "removed path %u: bad path", i);
			if (i && rp_path_cmp(s[-1].p, s[-1].len, s->p, s->len) >= 0)
				return rp_fail(err, errlen, "removed path %u: out of order", i);
		}
	}
	if (rp_getcount(r, RP_ENTRIES_MAX, RP_ENT_MIN, &m->nents))
		return rp_fail(err, errlen, "bad count of entries");
	if (m->nents && !(m->ents = malloc((size_t)m->nents * sizeof(*m->ents))))
		return -ENOMEM;
	for (uint32_t i = 0; i < m->nents; i++) {
		struct rp_ent *e = &m->ents[i];
		if ((x = rp_decode_ent(r, m, e, err, errlen, i)))
			return x;
		if (i && rp_path_cmp(e[-1].path.p, e[-1].path.len, e->path.p, e->path.len) >= 0)
			return rp_fail(err, errlen, "entry %u: out of order", i);
	}
	if (m->type == RP_TREE)
		return rp_check_tree(m->nents, rp_tree_get, m, err, errlen);
	return 0;
}

int rp_decode(const unsigned char *frame, size_t len, int from_server, struct rp_msg *m,
	      char *err, size_t errlen)
{
	struct rp_rd r = { frame, len, 0, 0 };
	int x = 0;

	memset(m, 0, sizeof(*m));
	if (len == 0 || len > RP_FRAME_MAX)
		return rp_fail(err, errlen, "frame of %zu bytes", len);
	m->type = (uint8_t)rp_get(&r, 1);
	switch (from_server ? m->type : 0x100 | m->type) {
	case 0x100 | RP_HELLO: {
		const unsigned char *magic = rp_take(&r, RP_MAGIC_LEN);
		m->version = (uint16_t)rp_get(&r, 2);
		m->version_hi = (uint16_t)rp_get(&r, 2);
		if (r.bad || memcmp(magic, RP_MAGIC, RP_MAGIC_LEN) != 0)
			x = rp_fail(err, errlen, "not an advisoryfs remote client");
		else if (m->version > m->version_hi)
			x = rp_fail(err, errlen, "bad version range");
		break;
	}
	case 0x100 | RP_GET:
		m->id = (uint32_t)rp_get(&r, 4);
		if (rp_getstr(&r, 2, RP_PATH_MAX, &m->text) || !rp_path_valid(m->text.p, m->text.len) ||
		    !(m->sha256 = rp_take(&r, 32)))
			x = rp_fail(err, errlen, "bad request");
		break;
	case RP_WELCOME:
		m->version = (uint16_t)rp_get(&r, 2);
		if (rp_getstr(&r, 2, RP_TEXT_MAX, &m->text) || rp_getstr(&r, 2, RP_TEXT_MAX, &m->info) ||
		    m->text.len == 0 || !rp_text_ok(&m->text) || !rp_text_ok(&m->info))
			x = rp_fail(err, errlen, "bad welcome");
		break;
	case RP_ERROR:
		m->code = (uint32_t)rp_get(&r, 4);
		if (rp_getstr(&r, 2, RP_TEXT_MAX, &m->text) || m->text.len == 0 ||
		    !rp_text_ok(&m->text))
			x = rp_fail(err, errlen, "bad error message");
		break;
	case RP_TREE:
	case RP_PATCH:
		x = rp_decode_tree(&r, m, err, errlen);
		break;
	case RP_DATA:
		m->id = (uint32_t)rp_get(&r, 4);
		m->datalen = (uint32_t)rp_get(&r, 4);
		if (r.bad || m->datalen > RP_FILE_MAX || !(m->data = rp_take(&r, m->datalen)))
			x = rp_fail(err, errlen, "bad data");
		break;
	case RP_NODATA:
		m->id = (uint32_t)rp_get(&r, 4);
		m->code = (uint32_t)rp_get(&r, 4);
		if (r.bad)
			x = rp_fail(err, errlen, "bad refusal");
		break;
	default:
		x = rp_fail(err, errlen, "unexpected frame type %u", (unsigned)m->type);
		break;
	}
	if (!x && r.off != r.len)
		x = rp_fail(err, errlen, "%zu bytes after the end of a frame of type %u",
			    r.len - r.off, (unsigned)m->type);
	if (x)
		rp_msg_free(m);
	return x;
}

void rp_msg_free(struct rp_msg *m)
{
	free(m->strs);
	free(m->removed);
	free(m->ents);
	m->strs = NULL;
	m->removed = NULL;
	m->ents = NULL;
	m->nstrs = m->nremoved = m->nents = 0;
}

/* ---- encoding --------------------------------------------------------------------------- */

void rp_buf_free(struct rp_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static unsigned char *rp_room(struct rp_buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (n > b->cap - b->len) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc - b->len < n) {
			if (nc > (SIZE_MAX >> 1)) {
				b->failed = 1;
				return NULL;
			}
			nc *= 2;
		}
		unsigned char *np = realloc(b->p, nc);
		if (!np) {
			b->failed = 1;
			return NULL;
		}
		b->p = np;
		b->cap = nc;
	}
	unsigned char *p = b->p + b->len;
	b->len += n;
	return p;
}

static void rp_put(struct rp_buf *b, uint64_t v, int n)
{
	unsigned char *p = rp_room(b, (size_t)n);
	if (!p)
		return;
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

void rp_begin(struct rp_buf *b, uint8_t t)
{
	b->frame = b->len;
	rp_put(b, 0, 4);
	rp_put(b, t, 1);
}

int rp_end(struct rp_buf *b)
{
	if (b->failed)
		return -ENOMEM;
	size_t n = b->len - b->frame - 4;
	if (n > RP_FRAME_MAX) {
		b->failed = 1;
		return -EMSGSIZE;
	}
	rp_patch_u32(b, b->frame, (uint32_t)n);
	return 0;
}

void rp_u8(struct rp_buf *b, uint8_t v)
{
	rp_put(b, v, 1);
}

void rp_u16(struct rp_buf *b, uint16_t v)
{
	rp_put(b, v, 2);
}

void rp_u32(struct rp_buf *b, uint32_t v)
{
	rp_put(b, v, 4);
}

void rp_u64(struct rp_buf *b, uint64_t v)
{
	rp_put(b, v, 8);
}

void rp_bytes(struct rp_buf *b, const void *p, size_t n)
{
	unsigned char *d = rp_room(b, n);
	if (d && n)
		memcpy(d, p, n);
}

void rp_str16(struct rp_buf *b, const char *p, size_t n)
{
	if (n > 0xffff) {
		b->failed = 1;
		return;
	}
	rp_u16(b, (uint16_t)n);
	rp_bytes(b, p, n);
}

void rp_str32(struct rp_buf *b, const void *p, size_t n)
{
	if (n > 0xffffffffu) {
		b->failed = 1;
		return;
	}
	rp_u32(b, (uint32_t)n);
	rp_bytes(b, p, n);
}

void rp_patch_u32(struct rp_buf *b, size_t off, uint32_t v)
{
	if (b->failed || off + 4 > b->len)
		return;
	for (int i = 3; i >= 0; i--, v >>= 8)
		b->p[off + (size_t)i] = (unsigned char)(v & 0xff);
}

/* ---- interning -------------------------------------------------------------------------- */

static uint64_t rp_hash(const char *p, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ len;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int rp_intern_grow(struct rp_intern *in)
{
	size_t ns = in->nslots ? in->nslots * 2 : 64;
	uint32_t *slots = calloc(ns, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < in->n; i++) {
		size_t k = (size_t)rp_hash(in->strs[i].p, in->strs[i].len) & (ns - 1);
		while (slots[k])
			k = (k + 1) & (ns - 1);
		slots[k] = i + 1;
	}
	free(in->slots);
	in->slots = slots;
	in->nslots = ns;
	return 0;
}

int64_t rp_intern(struct rp_intern *in, const char *p, uint32_t len)
{
	if ((size_t)(in->n + 1) * 2 > in->nslots && rp_intern_grow(in))
		return -ENOMEM;
	size_t k = (size_t)rp_hash(p, len) & (in->nslots - 1);
	for (; in->slots[k]; k = (k + 1) & (in->nslots - 1)) {
		const struct rp_str *s = &in->strs[in->slots[k] - 1];
		if (s->len == len && (len == 0 || memcmp(s->p, p, len) == 0))
			return in->slots[k] - 1;
	}
	if (in->n == in->cap) {
		uint32_t nc = in->cap ? in->cap * 2 : 16;
		struct rp_str *ns = realloc(in->strs, (size_t)nc * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		in->strs = ns;
		in->cap = nc;
	}
	in->strs[in->n] = (struct rp_str){ p, len };
	in->slots[k] = in->n + 1;
	return in->n++;
}

int64_t rp_intern_find(const struct rp_intern *in, const char *p, uint32_t len)
{
	if (!in->nslots)
		return -1;
	size_t k = (size_t)rp_hash(p, len) & (in->nslots - 1);
	for (; in->slots[k]; k = (k + 1) & (in->nslots - 1)) {
		const struct rp_str *s = &in->strs[in->slots[k] - 1];
		if (s->len == len && (len == 0 || memcmp(s->p, p, len) == 0))
			return in->slots[k] - 1;
	}
	return -1;
}

void rp_intern_free(struct rp_intern *in)
{
	free(in->strs);
	free(in->slots);
	memset(in, 0, sizeof(*in));
}
