/*
 * pgp_armor.c - the byte buffer OpenPGP packets are built in, and ASCII
 * armour (RFC 4880 section 6: base64 with a CRC-24 checksum).
 *
 * Sections: byte buffer; CRC-24, base64 and armour.
 */
#include "pgp.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgp_internal.h"

/* ---- byte buffer --------------------------------------------------------------------- */

void pgp_buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->err || n == 0)
		return;
	if (n > SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

void pgp_buf_u8(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	pgp_buf_put(b, &c, 1);
}

void pgp_buf_u16(struct buf *b, size_t v)
{
	unsigned char c[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	if (v > 0xffff && !b->err)
		b->err = -E2BIG;
	pgp_buf_put(b, c, 2);
}

void pgp_buf_u32(struct buf *b, uint64_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	if (v > 0xffffffffu && !b->err)
		b->err = -E2BIG;
	pgp_buf_put(b, c, 4);
}

void pgp_buf_release(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

int pgp_buf_take_string(struct buf *b, char **ret_out, size_t *ret_len)
{
	pgp_buf_u8(b, 0);
	if (b->err) {
		int r = b->err;
		pgp_buf_release(b);
		return r;
	}
	*ret_out = (char *)b->p;
	*ret_len = b->len - 1;
	*b = (struct buf){ 0 };
	return 0;
}

/* ---- CRC-24, base64 and armour ---------------------------------------------------------- */

uint32_t pgp_crc24(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xb704ceu;
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)p[i] << 16;
		for (int k = 0; k < 8; k++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864cfbu;
		}
	}
	return crc & 0xffffffu;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(struct buf *b, const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		char q[4] = { b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
			      i + 1 < n ? b64chars[(v >> 6) & 63] : '=',
			      i + 2 < n ? b64chars[v & 63] : '=' };
		pgp_buf_put(b, q, 4);
	}
}

static int b64_value(char c)
{
	const char *s = c ? strchr(b64chars, c) : NULL;
	return s ? (int)(s - b64chars) : -1;
}

int pgp_armor(const char *type, const unsigned char *data, size_t len, char **ret_out,
	      size_t *ret_len)
{
	struct buf b = { 0 };
	uint32_t crc = pgp_crc24(data, len);
	unsigned char c[3] = { (unsigned char)(crc >> 16), (unsigned char)(crc >> 8),
			       (unsigned char)crc };

	pgp_buf_put(&b, "-----BEGIN ", 11);
	pgp_buf_put(&b, type, strlen(type));
	pgp_buf_put(&b, "-----\n\n", 7);
	for (size_t i = 0; i < len; i += 48) {
		b64_encode(&b, data + i, len - i < 48 ? len - i : 48);
		pgp_buf_u8(&b, '\n');
	}
	pgp_buf_u8(&b, '=');
	b64_encode(&b, c, 3);
	pgp_buf_put(&b, "\n-----END ", 10);
	pgp_buf_put(&b, type, strlen(type));
	pgp_buf_put(&b, "-----\n", 6);
	return pgp_buf_take_string(&b, ret_out, ret_len);
}

int pgp_next_line(const char *text, size_t len, size_t *pos, const char **ret_line,
		  size_t *ret_n)
{
	if (*pos >= len)
		return -1;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*ret_line = s;
	*ret_n = n;
	return 0;
}

/* Is line[0..n) exactly "-----<what> <type>-----"? */
static int is_armor_line(const char *line, size_t n, const char *what, const char *type)
{
	size_t w = strlen(what), t = strlen(type);
	return n == 5 + w + 1 + t + 5 && !memcmp(line, "-----", 5) &&
	       !memcmp(line + 5, what, w) && line[5 + w] == ' ' &&
	       !memcmp(line + 6 + w, type, t) && !memcmp(line + 6 + w + t, "-----", 5);
}

/*
 * Decode base64 text in line[0..n) into b, carrying a partial quartet in
 * *acc / *nacc across lines.  *ended is set once padding was seen; data
 * after padding is refused.  Returns 0 or -EBADMSG.
 */
static int b64_decode_line(struct buf *b, const char *line, size_t n, uint32_t *acc,
			   int *nacc, int *ended)
{
	for (size_t i = 0; i < n; i++) {
		if (line[i] == '=') {
			/* "xx==" or "xxx=": padding closes the quartet */
			if (*nacc < 2)
				return -EBADMSG;
			if (*nacc == 2) {
				if (i + 1 >= n || line[i + 1] != '=')
					return -EBADMSG;
				i++;
				pgp_buf_u8(b, *acc >> 4);
			} else {
				pgp_buf_u8(b, *acc >> 10);
				pgp_buf_u8(b, *acc >> 2);
			}
			*acc = 0;
			*nacc = 0;
			*ended = 1;
			continue;
		}
		int v = b64_value(line[i]);
		if (v < 0 || *ended)
			return -EBADMSG;
		*acc = (*acc << 6) | (uint32_t)v;
		if (++*nacc == 4) {
			pgp_buf_u8(b, *acc >> 16);
			pgp_buf_u8(b, *acc >> 8);
			pgp_buf_u8(b, *acc);
			*acc = 0;
			*nacc = 0;
		}
	}
	return 0;
}

int pgp_dearmor(const char *type, const char *text, size_t len, unsigned char **ret_data,
		size_t *ret_len)
{
	struct buf b = { 0 };
	size_t pos = 0, n;
	const char *line;
	int r = -EBADMSG, found = 0, ended = 0, nacc = 0, have_crc = 0;
	uint32_t acc = 0, crc = 0;

	while (!found && pgp_next_line(text, len, &pos, &line, &n) == 0)
		found = is_armor_line(line, n, "BEGIN", type);
	if (!found)
		return -EBADMSG;
	/* armour headers ("Key: value") up to the blank line */
	for (;;) {
		if (pgp_next_line(text, len, &pos, &line, &n) < 0)
			goto out;
		if (n == 0)
			break;
		if (!memchr(line, ':', n))
			goto out;
	}
	for (;;) {
		if (pgp_next_line(text, len, &pos, &line, &n) < 0)
			goto out;
		if (is_armor_line(line, n, "END", type))
			break;
		if (have_crc)
			goto out; /* only the END line may follow the checksum */
		if (n == 5 && line[0] == '=') {
			struct buf c = { 0 };
			uint32_t a = 0;
			int na = 0, e = 0;
			if (b64_decode_line(&c, line + 1, 4, &a, &na, &e) < 0 || c.err ||
			    c.len != 3 || na) {
				pgp_buf_release(&c);
				goto out;
			}
			crc = (uint32_t)c.p[0] << 16 | (uint32_t)c.p[1] << 8 | c.p[2];
			pgp_buf_release(&c);
			have_crc = 1;
			continue;
		}
		if (b64_decode_line(&b, line, n, &acc, &nacc, &ended) < 0)
			goto out;
	}
	if (nacc != 0)
		goto out;
	if (b.err) {
		r = b.err;
		goto out;
	}
	if (b.len == 0 || (have_crc && pgp_crc24(b.p, b.len) != crc))
		goto out;
	*ret_data = b.p;
	*ret_len = b.len;
	return 0;
out:
	pgp_buf_release(&b);
	return r;
}
