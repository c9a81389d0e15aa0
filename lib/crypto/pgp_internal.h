/*
 * pgp_internal.h - what pgp.c and pgp_armor.c share: the growable byte
 * buffer packets are built in.  Not for use outside lib/crypto.
 */
#ifndef ADVISORYFS_PGP_INTERNAL_H
#define ADVISORYFS_PGP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte string with a sticky error: build, then check b->err once. */
struct buf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

/* Append n bytes (nothing once b->err is set; -ENOMEM sets it). */
void pgp_buf_put(struct buf *b, const void *d, size_t n);
/* Append a big-endian integer; a value that does not fit sets -E2BIG. */
void pgp_buf_u8(struct buf *b, unsigned v);
void pgp_buf_u16(struct buf *b, size_t v);
void pgp_buf_u32(struct buf *b, uint64_t v);
/* Free the bytes; the buffer is empty again. */
void pgp_buf_release(struct buf *b);
/* Hand the buffer's bytes to the caller as a NUL-terminated string.
 * Returns 0 or the buffer's sticky error (then the buffer is released). */
int pgp_buf_take_string(struct buf *b, char **ret_out, size_t *ret_len);

/* The next line of text[*pos..len) without its line end and trailing
 * blanks, in *ret_line (not NUL-terminated) and *ret_n; *pos moves past
 * it.  0, or -1 at the end of the text. */
int pgp_next_line(const char *text, size_t len, size_t *pos, const char **ret_line,
		  size_t *ret_n);

#endif
