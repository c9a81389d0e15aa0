/*
 * remote_proto.h - the remote-mount protocol between `advisoryfs serve`
 * (the server, an SSH forced command) and `advisoryfs mount --remote`
 * (the client): frames, their encoding and a decoder that checks every
 * bound (remote_proto.c; docs/DESIGN.md, "The remote mount", writes the
 * protocol out).
 *
 * A frame is a 4-byte big-endian length L (1 <= L <= RP_FRAME_MAX), then L
 * bytes: a type byte and the payload.  Integers are big-endian; a str16 is
 * a 2-byte length and the bytes, a str32 a 4-byte length and the bytes; no
 * string is NUL-terminated on the wire.
 *
 *   client -> server
 *     HELLO   magic[8] "AFSREMOT", u16 lowest version, u16 highest version
 *     GET     u32 id, str16 path, sha256[32]    the file at path with that content
 *   server -> client
 *     WELCOME u16 version, str16 recipient slug, str16 server ("advisoryfs 0.1.0")
 *     ERROR   u32 errno, str16 message          fatal: the server exits after it
 *     TREE    u64 generation, strtab, u32 n, entry * n        the whole tree
 *     PATCH   u64 generation, strtab, u32 nremoved, str16 path * nremoved,
 *             u32 n, entry * n                  what changed since the last frame
 *     DATA    u32 id, str32 bytes               the answer to GET id
 *     NODATA  u32 id, u32 errno                 GET id refused (ENOENT: not in the
 *                                               view; ESTALE: other content now)
 *
 *   strtab = u32 count, str32 * count          (the extended attributes' names
 *                                               and values of the frame)
 *   entry  = str16 path, u8 kind, i64 mtime, u64 st_ino,
 *            kind FILE:   u64 size, sha256[32]            (bytes fetched with GET)
 *            kind INLINE: u64 size, size bytes            (the content itself)
 *            u8 nxattr, (u32 name, u32 value) * nxattr   (indices into strtab)
 *
 * Paths are relative to the recipient's directory ("" is that directory
 * itself, "white/2024/x.json" a document), components of 1 to RP_NAME_MAX
 * bytes without '/', NUL, "." or "..".  The entries of a frame are sorted
 * by rp_path_cmp() (a directory comes right before what it holds), with no
 * name twice; in a whole tree every entry but the root has its parent
 * directory before it.
 */
#ifndef ADVISORYFS_REMOTE_PROTO_H
#define ADVISORYFS_REMOTE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define RP_MAGIC "AFSREMOT"
#define RP_MAGIC_LEN 8
#define RP_VERSION 1                 /* the one version this advisoryfs speaks */

/* Bounds: a frame that breaks one is refused whole. */
#define RP_FRAME_MAX (256u << 20)    /* one frame, type byte included */
#define RP_FILE_MAX (64u << 20)      /* one file (DATA); above CSAF_MAX_DOC_BYTES */
#define RP_INLINE_MAX 4096u          /* a file whose bytes come with the listing */
#define RP_PATH_MAX 1024u
#define RP_NAME_MAX 255u
#define RP_ENTRIES_MAX (1u << 22)    /* entries of one frame */
#define RP_STRINGS_MAX (1u << 20)    /* strtab strings of one frame */
#define RP_STRING_MAX 65536u         /* one strtab string (Linux's XATTR_SIZE_MAX) */
#define RP_XATTRS_MAX 8u             /* extended attributes of one entry */
#define RP_TEXT_MAX 1024u            /* an ERROR message, a slug, a server name */

enum rp_type {
	RP_HELLO = 1,
	RP_WELCOME = 2,
	RP_ERROR = 3,
	RP_TREE = 4,
	RP_PATCH = 5,
	RP_GET = 6,
	RP_DATA = 7,
	RP_NODATA = 8,
};

enum rp_kind { RP_DIR = 1, RP_FILE = 2, RP_INLINE = 3 };

struct rp_str {
	const char *p;              /* not NUL-terminated */
	uint32_t len;
};

struct rp_xattr {
	uint32_t name, value;       /* indices into the frame's strtab */
};

/* One entry of a TREE or PATCH frame; pointers into the frame. */
struct rp_ent {
	struct rp_str path;
	uint8_t kind;               /* enum rp_kind */
	uint8_t nx;
	int64_t mtime;
	uint64_t ino;
	uint64_t size;              /* files */
	const unsigned char *sha256;    /* RP_FILE: 32 bytes */
	const unsigned char *data;      /* RP_INLINE: size bytes */
	struct rp_xattr x[RP_XATTRS_MAX];
};

/* A decoded frame.  Pointers refer into the frame's bytes, which must
 * outlive it; the arrays are allocated (rp_msg_free()). */
struct rp_msg {
	uint8_t type;
	uint16_t version, version_hi;   /* WELCOME: version; HELLO: the range */
	uint32_t id;                /* GET, DATA, NODATA */
	uint32_t code;              /* ERROR, NODATA: an errno value */
	struct rp_str text;         /* WELCOME: slug; ERROR: message; GET: path */
	struct rp_str info;         /* WELCOME: server name */
	const unsigned char *sha256;    /* GET */
	const unsigned char *data;  /* DATA */
	uint32_t datalen;
	uint64_t gen;               /* TREE, PATCH */
	struct rp_str *strs;        /* TREE, PATCH: the strtab */
	uint32_t nstrs;
	struct rp_str *removed;     /* PATCH */
	uint32_t nremoved;
	struct rp_ent *ents;        /* TREE, PATCH */
	uint32_t nents;
};

/*
 * Decode one frame (type byte and payload, without the length) of len
 * bytes into *m, checking every bound and rule above.  from_server: the
 * frames a client accepts (WELCOME, ERROR, TREE, PATCH, DATA, NODATA);
 * else those a server accepts (HELLO, GET).  Returns 0, or -EBADMSG with
 * a one-line reason in err (then *m holds nothing to free), -ENOMEM.
 */
int rp_decode(const unsigned char *frame, size_t len, int from_server, struct rp_msg *m,
	      char *err, size_t errlen);
void rp_msg_free(struct rp_msg *m);

/* Order of paths: byte order, except that '/' sorts before every other
 * byte, so that a directory's descendants follow it without a gap. */
int rp_path_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Whether p is a valid path ("" or components as above, within RP_PATH_MAX). */
int rp_path_valid(const char *p, size_t len);
/* Length of the parent's path of a non-empty path p (0 for a top-level name). */
size_t rp_parent_len(const char *p, size_t len);
/* The last component of p. */
const char *rp_base(const char *p, size_t len);

/*
 * Whether n entries sorted by rp_path_cmp() form a tree: the first is ""
 * (a directory), and each other entry's parent is a directory among the
 * entries before it.  get(arg, i, ...) yields entry i's path and whether
 * it is a directory.  Returns 0 or -EBADMSG with the reason in err.
 */
int rp_check_tree(size_t n, void (*get)(void *arg, size_t i, const char **path, size_t *len,
					int *isdir),
		  void *arg, char *err, size_t errlen);

/* ---- encoding ---------------------------------------------------------------------------- */

/* A growing buffer of frames; a failed allocation sticks (failed), and the
 * frame is not to be sent. */
struct rp_buf {
	unsigned char *p;
	size_t len, cap;
	size_t frame;               /* offset of the open frame's length */
	int failed;
};

void rp_buf_free(struct rp_buf *b);
/* Start a frame of type t at the end of b. */
void rp_begin(struct rp_buf *b, uint8_t t);
/* Finish the open frame (its length); -EMSGSIZE over RP_FRAME_MAX, -ENOMEM. */
int rp_end(struct rp_buf *b);
void rp_u8(struct rp_buf *b, uint8_t v);
void rp_u16(struct rp_buf *b, uint16_t v);
void rp_u32(struct rp_buf *b, uint32_t v);
void rp_u64(struct rp_buf *b, uint64_t v);
void rp_bytes(struct rp_buf *b, const void *p, size_t n);
void rp_str16(struct rp_buf *b, const char *p, size_t n);
void rp_str32(struct rp_buf *b, const void *p, size_t n);
/* Overwrite 4 bytes at off (a count written before it was known). */
void rp_patch_u32(struct rp_buf *b, size_t off, uint32_t v);

/*
 * Strings interned by content: each distinct (bytes, length) gets the next
 * index.  Used for the strtab of a frame (the server) and for the values a
 * client tree keeps once.  Pointers are not copied: the caller keeps the
 * bytes alive.
 */
struct rp_intern {
	struct rp_str *strs;        /* by index */
	uint32_t n, cap;
	uint32_t *slots;            /* open addressing: index + 1, 0 free */
	size_t nslots;
};
/* The index of (p, len), added when new; -ENOMEM. */
int64_t rp_intern(struct rp_intern *in, const char *p, uint32_t len);
/* The index of (p, len), or -1. */
int64_t rp_intern_find(const struct rp_intern *in, const char *p, uint32_t len);
void rp_intern_free(struct rp_intern *in);

#endif
