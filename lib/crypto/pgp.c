/*
 * pgp.c - OpenPGP keys and detached signatures with OpenSSL (see pgp.h).
 *
 * What is written, byte by byte, is what RFC 4880 and RFC 9580 describe
 * for v4 keys of algorithm 22 (EdDSALegacy) on Ed25519, the only form
 * GnuPG 2.2 reads for Ed25519.  Two things about that algorithm are easy
 * to get wrong: Ed25519 signs the hash value (not the message), and r and
 * s are the two 32-byte halves of the Ed25519 signature written as MPIs,
 * so a half that starts with zero bytes is written shorter, with its exact
 * bit count, and padded back when read.
 *
 * Sections: errors; packets and MPIs; keys (generate, save, load, free); signatures (make, check); the
 * public key block (write, read).
 *
 * Sizes: a key file is at most PGP_KEYFILE_MAX bytes; armoured input is
 * parsed in place and never larger than the caller's buffer; packets we
 * read must be fully inside it (no partial lengths).
 */
#include "pgp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "pgp_internal.h"
#include "util.h"

/* Largest key file we read: three short lines and a PKCS#8 PEM of ~120 bytes. */
#define PGP_KEYFILE_MAX 4096
#define PGP_KEYFILE_MAGIC "advisoryfs-openpgp-key 1"

/* OpenPGP numbers (RFC 4880 9.1, 9.4; RFC 9580 9.1). */
#define ALGO_EDDSA_LEGACY 22
#define HASH_SHA256       8
#define HASH_SHA512       10
#define TAG_SIGNATURE     2
#define TAG_PUBLIC_KEY    6
#define TAG_USER_ID       13
#define SIG_BINARY        0x00
#define SIG_POSITIVE_CERT 0x13
#define SUB_CREATED       2
#define SUB_ISSUER        16
#define SUB_KEY_FLAGS     27
#define SUB_ISSUER_FPR    33
#define KEY_FLAG_CERTIFY  0x01
#define KEY_FLAG_SIGN     0x02

/* 1.3.6.1.4.1.11591.15.1, DER without tag and length (RFC 9580 9.2). */
static const unsigned char ed25519_oid[] = { 0x2b, 0x06, 0x01, 0x04, 0x01,
					     0xda, 0x47, 0x0f, 0x01 };

struct pgp_key {
	EVP_PKEY *pkey;            /* Ed25519; private only if has_private */
	int has_private;
	uint32_t created;
	char uid[PGP_UID_MAX + 1];
	unsigned char pub[32];     /* the raw public point */
	unsigned char fpr[PGP_FPR_LEN];
};

/* A byte range hashed ahead of a signature's own fields. */
struct seg {
	const void *p;
	size_t n;
};

/* ---- errors ------------------------------------------------------------------------ */

/*
 * The one translation of OpenSSL's results: 1 is success, anything else
 * (0, or a negative "not supported") becomes -EIO.  OpenSSL's error queue
 * is emptied so that a failure here leaves nothing behind for a later,
 * unrelated call to misread.
 */
static int ossl(int ok)
{
	if (ok == 1)
		return 0;
	ERR_clear_error();
	return -EIO;
}

const char *pgp_strerror(int r)
{
	switch (r) {
	case -EPERM:
		return "unsafe key file: it must be a regular file owned by you that group and "
		       "others cannot read or write (chmod 600)";
	case -ELOOP:
		return "key file is a symbolic link (refused)";
	case -EACCES:
		return "key file: permission denied";
	case -EBADMSG:
		return "malformed or unsupported OpenPGP data or key file";
	case -ENOKEY:
		return "signing key unavailable: the key file is missing or holds another key "
		       "than the store records (see 'advisoryfs key show')";
	case -EKEYREJECTED:
		return "bad signature";
	case -EEXIST:
		return "file exists (a key file is never overwritten)";
	case -EIO:
		return "OpenSSL failed (or an I/O error)";
	default:
		return strerror(r < 0 ? -r : r);
	}
}

/* ---- packets and MPIs ------------------------------------------------------------------ */

size_t pgp_mpi_encode(const unsigned char *in, size_t n, unsigned char *out)
{
	while (n && in[0] == 0) {
		in++;
		n--;
	}
	size_t bits = 0;
	if (n) {
		unsigned top = in[0];
		bits = (n - 1) * 8;
		while (top) {
			bits++;
			top >>= 1;
		}
	}
	out[0] = (unsigned char)(bits >> 8);
	out[1] = (unsigned char)bits;
	if (n)
		memcpy(out + 2, in, n);
	return n + 2;
}

/* A packet in the OpenPGP (new) format: tag, length, body. */
static void put_packet(struct buf *b, unsigned tag, const struct buf *body)
{
	size_t n = body->len;
	pgp_buf_u8(b, 0xc0 | tag);
	if (n < 192) {
		pgp_buf_u8(b, (unsigned)n);
	} else if (n < 8384) {
		pgp_buf_u8(b, (unsigned)(((n - 192) >> 8) + 192));
		pgp_buf_u8(b, (unsigned)((n - 192) & 0xff));
	} else {
		pgp_buf_u8(b, 0xff);
		pgp_buf_u32(b, n);
	}
	pgp_buf_put(b, body->p, n);
	if (body->err && !b->err)
		b->err = body->err;
}

/* A subpacket (RFC 4880 5.2.3.1); ours are all shorter than 192 bytes. */
static void put_subpacket(struct buf *b, unsigned type, const void *d, size_t n)
{
	pgp_buf_u8(b, (unsigned)(n + 1));
	pgp_buf_u8(b, type);
	pgp_buf_put(b, d, n);
}

/* A reader over bytes; every get fails once past the end. */
struct rd {
	const unsigned char *p;
	size_t n, off;
};

static int rd_bytes(struct rd *r, size_t n, const unsigned char **ret)
{
	if (n > r->n - r->off)
		return -EBADMSG;
	*ret = r->p + r->off;
	r->off += n;
	return 0;
}

static int rd_u8(struct rd *r, unsigned *ret)
{
	const unsigned char *p;
	if (rd_bytes(r, 1, &p))
		return -EBADMSG;
	*ret = p[0];
	return 0;
}

static int rd_u16(struct rd *r, size_t *ret)
{
	const unsigned char *p;
	if (rd_bytes(r, 2, &p))
		return -EBADMSG;
	*ret = (size_t)p[0] << 8 | p[1];
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *ret)
{
	const unsigned char *p;
	if (rd_bytes(r, 4, &p))
		return -EBADMSG;
	*ret = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

/*
 * Read one packet header (either format) and return its tag and body.
 * Partial and indeterminate lengths are refused (-EBADMSG); so is a body
 * that runs past the end.
 */
static int rd_packet(struct rd *r, unsigned *ret_tag, struct rd *ret_body)
{
	unsigned h, tag, c;
	size_t n;
	uint32_t n32;
	const unsigned char *body;

	if (rd_u8(r, &h) || !(h & 0x80))
		return -EBADMSG;
	if (h & 0x40) {
		tag = h & 0x3f;
		if (rd_u8(r, &c))
			return -EBADMSG;
		if (c < 192) {
			n = c;
		} else if (c < 224) {
			unsigned c2;
			if (rd_u8(r, &c2))
				return -EBADMSG;
			n = ((size_t)(c - 192) << 8) + c2 + 192;
		} else if (c == 255) {
			if (rd_u32(r, &n32))
				return -EBADMSG;
			n = n32;
		} else {
			return -EBADMSG;
		}
	} else {
		tag = (h >> 2) & 0x0f;
		switch (h & 3) {
		case 0:
			if (rd_u8(r, &c))
				return -EBADMSG;
			n = c;
			break;
		case 1:
			if (rd_u16(r, &n))
				return -EBADMSG;
			break;
		case 2:
			if (rd_u32(r, &n32))
				return -EBADMSG;
			n = n32;
			break;
		default:
			return -EBADMSG;
		}
	}
	if (rd_bytes(r, n, &body))
		return -EBADMSG;
	*ret_tag = tag;
	*ret_body = (struct rd){ .p = body, .n = n };
	return 0;
}

/*
 * Read an MPI of at most max bytes, right-aligned into out[0..max) (the
 * EdDSA halves come back to their fixed 32 bytes).  The bit count must be
 * exact: the first byte nonzero with its top bit where the count says.
 */
static int rd_mpi(struct rd *r, unsigned char *out, size_t max)
{
	size_t bits, n;
	const unsigned char *p;
	if (rd_u16(r, &bits))
		return -EBADMSG;
	n = (bits + 7) / 8;
	if (n > max || rd_bytes(r, n, &p))
		return -EBADMSG;
	if (n && (p[0] >> ((bits - 1) % 8)) != 1)
		return -EBADMSG;
	memset(out, 0, max - n);
	memcpy(out + (max - n), p, n);
	return 0;
}

/* ---- keys --------------------------------------------------------------------------- */

/* 1..PGP_UID_MAX bytes of well-formed UTF-8 without control characters. */
static int uid_valid(const char *uid)
{
	const unsigned char *s = (const unsigned char *)uid;
	size_t n = strlen(uid);
	if (n == 0 || n > PGP_UID_MAX)
		return 0;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t more;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80)
			more = 0;
		else if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3;
		else
			return 0;
		if (more > n - i - 1)
			return 0;
		for (size_t k = 1; k <= more; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += more + 1;
	}
	return 1;
}

/* The public key packet's body (RFC 4880 5.5.2, RFC 9580 5.5.5.5). */
static void key_body(const struct pgp_key *key, struct buf *b)
{
	unsigned char point[33], mpi[35];
	point[0] = 0x40; /* native point format */
	memcpy(point + 1, key->pub, 32);
	pgp_buf_u8(b, 4);
	pgp_buf_u32(b, key->created);
	pgp_buf_u8(b, ALGO_EDDSA_LEGACY);
	pgp_buf_u8(b, sizeof(ed25519_oid));
	pgp_buf_put(b, ed25519_oid, sizeof(ed25519_oid));
	pgp_buf_put(b, mpi, pgp_mpi_encode(point, sizeof(point), mpi));
}

/*
 * Fill in pub and fpr from pkey.  Fingerprint: SHA-1 over 0x99, the
 * two-byte body length and the public key packet body.
 */
static int key_complete(struct pgp_key *key)
{
	size_t n = sizeof(key->pub);
	struct buf b = { 0 };
	unsigned int fl = 0;
	int r = ossl(EVP_PKEY_get_raw_public_key(key->pkey, key->pub, &n));
	if (r)
		return r;
	if (n != 32)
		return -EBADMSG;
	pgp_buf_u8(&b, 0x99);
	pgp_buf_u16(&b, 0); /* length, filled in below */
	key_body(key, &b);
	if (b.err) {
		r = b.err;
		pgp_buf_release(&b);
		return r;
	}
	b.p[1] = (unsigned char)((b.len - 3) >> 8);
	b.p[2] = (unsigned char)(b.len - 3);
	r = ossl(EVP_Digest(b.p, b.len, key->fpr, &fl, EVP_sha1(), NULL));
	pgp_buf_release(&b);
	if (!r && fl != PGP_FPR_LEN)
		r = -EIO;
	return r;
}

/* An empty key (NULL if out of memory). */
static struct pgp_key *key_new(uint32_t created, const char *uid)
{
	struct pgp_key *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->created = created;
	memcpy(k->uid, uid, strlen(uid) + 1); /* length checked by uid_valid() */
	return k;
}

void pgp_key_free(struct pgp_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey); /* OpenSSL clears the private scalar */
	explicit_bzero(key, sizeof(*key));
	free(key);
}

int pgp_key_generate(const char *uid, uint32_t created, struct pgp_key **ret_key)
{
	EVP_PKEY_CTX *ctx = NULL;
	struct pgp_key *k = NULL;
	int r;

	if (!uid || !uid_valid(uid))
		return -EINVAL;
	k = key_new(created, uid);
	if (!k)
		return -ENOMEM;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	r = ctx ? ossl(EVP_PKEY_keygen_init(ctx)) : -ENOMEM;
	if (!r)
		r = ossl(EVP_PKEY_keygen(ctx, &k->pkey));
	if (!r)
		r = key_complete(k);
	EVP_PKEY_CTX_free(ctx);
	if (r) {
		pgp_key_free(k);
		return r;
	}
	k->has_private = 1;
	*ret_key = k;
	return 0;
}

const char *pgp_key_uid(const struct pgp_key *key)
{
	return key->uid;
}

uint32_t pgp_key_created(const struct pgp_key *key)
{
	return key->created;
}

void pgp_fingerprint(const struct pgp_key *key, unsigned char ret_fpr[PGP_FPR_LEN])
{
	memcpy(ret_fpr, key->fpr, PGP_FPR_LEN);
}

void pgp_fingerprint_hex(const struct pgp_key *key, char buf[PGP_FPR_HEX_LEN])
{
	static const char hex[] = "0123456789ABCDEF";
	for (int i = 0; i < PGP_FPR_LEN; i++) {
		buf[2 * i] = hex[key->fpr[i] >> 4];
		buf[2 * i + 1] = hex[key->fpr[i] & 15];
	}
	buf[2 * PGP_FPR_LEN] = '\0';
}

/*
 * The private key as PKCS#8 PEM, in a BIO of OpenSSL's secure memory (its
 * buffer is cleared when freed).  *ret_bio is the caller's.
 */
static int key_pem(const struct pgp_key *key, BIO **ret_bio, const char **ret_pem,
		   size_t *ret_n)
{
	char *pem = NULL;
	BIO *bio = BIO_new(BIO_s_secmem());
	if (!bio)
		return -ENOMEM;
	int r = ossl(PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL));
	long n = r ? 0 : BIO_get_mem_data(bio, &pem);
	if (!r && (n <= 0 || !pem))
		r = -EIO;
	if (r) {
		BIO_free(bio);
		return r;
	}
	*ret_bio = bio;
	*ret_pem = pem;
	*ret_n = (size_t)n;
	return 0;
}

int pgp_key_save(const struct pgp_key *key, const char *path)
{
	char head[PGP_UID_MAX + 64];
	BIO *bio = NULL;
	const char *pem = NULL;
	size_t pemlen = 0;
	int fd = -1, r;

	if (!key->has_private)
		return -EINVAL;
	int n = snprintf(head, sizeof(head), PGP_KEYFILE_MAGIC "\ncreated %u\nuid %s\n\n",
			 (unsigned)key->created, key->uid);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	r = key_pem(key, &bio, &pem, &pemlen);
	if (r)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	/* the umask can only take bits away; make sure the owner can read it */
	if (fchmod(fd, 0600) < 0)
		r = -errno;
	if (!r)
		r = au_write_all(fd, head, (size_t)n);
	if (!r)
		r = au_write_all(fd, pem, pemlen);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r)
		unlink(path); /* ours: O_EXCL made it */
out:
	BIO_free(bio);
	return r;
}

/* A passphrase callback that refuses, so that PEM never prompts on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * Open a key file the way signify does: no symbolic links, no FIFOs or
 * devices (O_NONBLOCK, then a regular-file check), owned by us, mode
 * 0600 or tighter.  Returns the descriptor or -errno.
 */
static int open_private(const char *path, struct stat *ret_sb)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -ELOOP : -errno;
	if (fstat(fd, ret_sb) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(ret_sb->st_mode) || ret_sb->st_uid != geteuid() ||
	    (ret_sb->st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Parse "created N" (N fits in 32 bits, decimal, no sign). */
static int parse_created(const char *s, size_t n, uint32_t *ret)
{
	uint64_t v = 0;
	if (n < 9 || memcmp(s, "created ", 8))
		return -EBADMSG;
	for (size_t i = 8; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || (i > 8 && s[8] == '0'))
			return -EBADMSG;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 0xffffffffu)
			return -EBADMSG;
	}
	*ret = (uint32_t)v;
	return 0;
}

/* The key file's text (NUL-terminated, text[len] == 0) into a key. */
static int parse_keyfile(char *text, size_t len, struct pgp_key **ret_key)
{
	size_t pos = 0, n;
	const char *line;
	char uid[PGP_UID_MAX + 1];
	uint32_t created;
	struct pgp_key *k = NULL;
	BIO *bio = NULL;
	int r = -EBADMSG;

	if (pgp_next_line(text, len, &pos, &line, &n) || n != strlen(PGP_KEYFILE_MAGIC) ||
	    memcmp(line, PGP_KEYFILE_MAGIC, n))
		return -EBADMSG;
	if (pgp_next_line(text, len, &pos, &line, &n) || parse_created(line, n, &created))
		return -EBADMSG;
	if (pgp_next_line(text, len, &pos, &line, &n) || n < 5 || n - 4 > PGP_UID_MAX ||
	    memcmp(line, "uid ", 4))
		return -EBADMSG;
	memcpy(uid, line + 4, n - 4);
	uid[n - 4] = '\0';
	if (!uid_valid(uid))
		return -EBADMSG;
	if (pgp_next_line(text, len, &pos, &line, &n) || n != 0)
		return -EBADMSG;

	k = key_new(created, uid);
	if (!k)
		return -ENOMEM;
	bio = BIO_new_mem_buf(text + pos, (int)(len - pos));
	if (!bio) {
		r = -ENOMEM;
		goto out;
	}
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!k->pkey || !EVP_PKEY_is_a(k->pkey, "ED25519")) {
		ERR_clear_error();
		r = -EBADMSG;
		goto out;
	}
	r = key_complete(k);
	if (r)
		goto out;
	k->has_private = 1;
	*ret_key = k;
	k = NULL;
out:
	BIO_free(bio);
	pgp_key_free(k);
	return r;
}

int pgp_key_load(const char *path, struct pgp_key **ret_key)
{
	struct stat sb;
	char *text = NULL;
	size_t len = 0;
	int r = 0;
	int fd = open_private(path, &sb);
	if (fd < 0)
		return fd;
	if (sb.st_size > PGP_KEYFILE_MAX) {
		close(fd);
		return -EBADMSG;
	}
	text = malloc(PGP_KEYFILE_MAX + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while (!r) {
		ssize_t got = read(fd, text + len, PGP_KEYFILE_MAX + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			r = -errno;
		else if (got == 0)
			break;
		else if ((len += (size_t)got) > PGP_KEYFILE_MAX)
			r = -EBADMSG; /* grew while we read it */
	}
	close(fd);
	if (!r) {
		text[len] = '\0';
		r = parse_keyfile(text, len, ret_key);
	}
	OPENSSL_cleanse(text, PGP_KEYFILE_MAX + 1);
	free(text);
	return r;
}

/* ---- signatures --------------------------------------------------------------------------- */

static const EVP_MD *hash_md(unsigned algo)
{
	return algo == HASH_SHA512 ? EVP_sha512() : algo == HASH_SHA256 ? EVP_sha256() : NULL;
}

/*
 * The digest a v4 signature covers (RFC 4880 5.2.4): the signed segments,
 * then the hashed part of the signature packet (version through hashed
 * subpackets), then 0x04 0xff and that part's length in four bytes.
 */
static int sig_digest(unsigned algo, const struct seg *segs, size_t nsegs,
		      const unsigned char *hashed, size_t hashedlen, unsigned char *ret_md,
		      unsigned int *ret_mdlen)
{
	unsigned char trailer[6] = { 4, 0xff, (unsigned char)(hashedlen >> 24),
				     (unsigned char)(hashedlen >> 16),
				     (unsigned char)(hashedlen >> 8), (unsigned char)hashedlen };
	const EVP_MD *md = hash_md(algo);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = ctx ? 0 : -ENOMEM;
	if (!md)
		r = -EBADMSG;
	if (!r)
		r = ossl(EVP_DigestInit_ex(ctx, md, NULL));
	for (size_t i = 0; !r && i < nsegs; i++)
		if (segs[i].n)
			r = ossl(EVP_DigestUpdate(ctx, segs[i].p, segs[i].n));
	if (!r)
		r = ossl(EVP_DigestUpdate(ctx, hashed, hashedlen));
	if (!r)
		r = ossl(EVP_DigestUpdate(ctx, trailer, sizeof(trailer)));
	if (!r)
		r = ossl(EVP_DigestFinal_ex(ctx, ret_md, ret_mdlen));
	EVP_MD_CTX_free(ctx);
	return r;
}

/*
 * Append a v4 signature packet of the given type over segs to out, made by
 * key at `when` with SHA-512.  Key flags are added for a self-certification.
 */
static int sig_make(const struct pgp_key *key, unsigned type, uint32_t when,
		    const struct seg *segs, size_t nsegs, struct buf *out)
{
	struct buf sub = { 0 }, body = { 0 };
	unsigned char t[4] = { (unsigned char)(when >> 24), (unsigned char)(when >> 16),
			       (unsigned char)(when >> 8), (unsigned char)when };
	unsigned char ifpr[1 + PGP_FPR_LEN], md[EVP_MAX_MD_SIZE], sig[64], mpi[34];
	unsigned char flags = KEY_FLAG_SIGN | KEY_FLAG_CERTIFY;
	unsigned int mdlen = 0;
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = NULL;
	int r;

	if (!key->has_private)
		return -EINVAL;
	ifpr[0] = 4;
	memcpy(ifpr + 1, key->fpr, PGP_FPR_LEN);
	put_subpacket(&sub, SUB_CREATED, t, 4);
	put_subpacket(&sub, SUB_ISSUER_FPR, ifpr, sizeof(ifpr));
	if (type == SIG_POSITIVE_CERT)
		put_subpacket(&sub, SUB_KEY_FLAGS, &flags, 1);

	pgp_buf_u8(&body, 4);
	pgp_buf_u8(&body, type);
	pgp_buf_u8(&body, ALGO_EDDSA_LEGACY);
	pgp_buf_u8(&body, HASH_SHA512);
	pgp_buf_u16(&body, sub.len);
	pgp_buf_put(&body, sub.p, sub.len);
	r = sub.err ? sub.err : body.err;
	if (!r)
		r = sig_digest(HASH_SHA512, segs, nsegs, body.p, body.len, md, &mdlen);
	if (r)
		goto out;

	/* EdDSALegacy: Ed25519 over the hash value itself, no further hashing */
	ctx = EVP_MD_CTX_new();
	r = ctx ? ossl(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey)) : -ENOMEM;
	if (!r)
		r = ossl(EVP_DigestSign(ctx, sig, &siglen, md, mdlen));
	if (!r && siglen != sizeof(sig))
		r = -EIO;
	if (r)
		goto out;

	/* unhashed: the 8-byte issuer key id (low 64 bits of the fingerprint) */
	pgp_buf_u16(&body, 10);
	put_subpacket(&body, SUB_ISSUER, key->fpr + PGP_FPR_LEN - 8, 8);
	pgp_buf_put(&body, md, 2);
	pgp_buf_put(&body, mpi, pgp_mpi_encode(sig, 32, mpi));
	pgp_buf_put(&body, mpi, pgp_mpi_encode(sig + 32, 32, mpi));
	put_packet(out, TAG_SIGNATURE, &body);
	r = out->err;
out:
	EVP_MD_CTX_free(ctx);
	pgp_buf_release(&sub);
	pgp_buf_release(&body);
	return r;
}

int pgp_sign_detached(const struct pgp_key *key, const void *data, size_t len, uint32_t when,
		      char **ret_out, size_t *ret_len)
{
	struct buf pkt = { 0 };
	struct seg s = { data, len };
	int r = sig_make(key, SIG_BINARY, when, &s, 1, &pkt);
	if (!r)
		r = pgp_armor("PGP SIGNATURE", pkt.p, pkt.len, ret_out, ret_len);
	pgp_buf_release(&pkt);
	return r;
}

/* Subpackets of one area: the creation time and the issuer, if present. */
struct sig_info {
	int have_created, have_fpr, have_keyid;
	uint32_t created;
	unsigned char fpr[PGP_FPR_LEN], keyid[8];
};

/*
 * Read a subpacket area.  Unknown subpackets are skipped unless marked
 * critical (RFC 4880 5.2.3.1), which makes the signature unreadable to us.
 * Only the hashed area may give the creation time.
 */
static int rd_subpackets(struct rd *area, int hashed, struct sig_info *si)
{
	while (area->off < area->n) {
		unsigned c, type;
		size_t n;
		const unsigned char *d;
		uint32_t n32;
		if (rd_u8(area, &c))
			return -EBADMSG;
		if (c < 192) {
			n = c;
		} else if (c < 255) {
			unsigned c2;
			if (rd_u8(area, &c2))
				return -EBADMSG;
			n = ((size_t)(c - 192) << 8) + c2 + 192;
		} else {
			if (rd_u32(area, &n32))
				return -EBADMSG;
			n = n32;
		}
		if (n == 0 || rd_u8(area, &type) || rd_bytes(area, n - 1, &d))
			return -EBADMSG;
		n--;
		int critical = type & 0x80;
		type &= 0x7f;
		if (type == SUB_CREATED && hashed && n == 4) {
			si->created = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
				      (uint32_t)d[2] << 8 | d[3];
			si->have_created = 1;
		} else if (type == SUB_ISSUER_FPR && n == 1 + PGP_FPR_LEN && d[0] == 4) {
			memcpy(si->fpr, d + 1, PGP_FPR_LEN);
			si->have_fpr = 1;
		} else if (type == SUB_ISSUER && n == 8) {
			memcpy(si->keyid, d, 8);
			si->have_keyid = 1;
		} else if (type == SUB_KEY_FLAGS && n >= 1) {
			/* meaningful on a self-signature; nothing to check here */
		} else if (critical) {
			return -EBADMSG;
		}
	}
	return 0;
}

/*
 * Check the signature packet body pkt (of a type in [type_lo, type_hi])
 * over segs with key.  Returns 0, -EBADMSG, -ENOKEY or -EKEYREJECTED as
 * pgp_verify_detached() documents.
 */
static int sig_check(const struct pgp_key *key, struct rd *pkt, unsigned type_lo,
		     unsigned type_hi, const struct seg *segs, size_t nsegs,
		     uint32_t *ret_created)
{
	struct sig_info si = { 0 };
	unsigned ver, type, algo, halgo;
	size_t hlen, ulen;
	const unsigned char *hashed, *unhashed, *left;
	unsigned char sig[64], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	int r;

	size_t start = pkt->off;
	if (rd_u8(pkt, &ver) || ver != 4 || rd_u8(pkt, &type) || type < type_lo ||
	    type > type_hi || rd_u8(pkt, &algo) || algo != ALGO_EDDSA_LEGACY ||
	    rd_u8(pkt, &halgo) || !hash_md(halgo) || rd_u16(pkt, &hlen) ||
	    rd_bytes(pkt, hlen, &hashed))
		return -EBADMSG;
	size_t hashed_end = pkt->off;
	struct rd ha = { .p = hashed, .n = hlen };
	if (rd_subpackets(&ha, 1, &si) || rd_u16(pkt, &ulen) || rd_bytes(pkt, ulen, &unhashed))
		return -EBADMSG;
	struct rd ua = { .p = unhashed, .n = ulen };
	if (rd_subpackets(&ua, 0, &si) || rd_bytes(pkt, 2, &left) || rd_mpi(pkt, sig, 32) ||
	    rd_mpi(pkt, sig + 32, 32) || pkt->off != pkt->n || !si.have_created)
		return -EBADMSG;
	if ((si.have_fpr && memcmp(si.fpr, key->fpr, PGP_FPR_LEN)) ||
	    (si.have_keyid && memcmp(si.keyid, key->fpr + PGP_FPR_LEN - 8, 8)))
		return -ENOKEY;

	r = sig_digest(halgo, segs, nsegs, pkt->p + start, hashed_end - start, md, &mdlen);
	if (r)
		return r;
	if (memcmp(md, left, 2))
		return -EKEYREJECTED;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	r = ossl(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey));
	if (!r)
		r = ossl(EVP_DigestVerify(ctx, sig, sizeof(sig), md, mdlen)) ? -EKEYREJECTED : 0;
	EVP_MD_CTX_free(ctx);
	if (!r && ret_created)
		*ret_created = si.created;
	return r;
}

int pgp_verify_detached(const struct pgp_key *key, const void *data, size_t len,
			const char *asc, size_t asclen, uint32_t *ret_created)
{
	unsigned char *bin = NULL;
	size_t binlen = 0;
	unsigned tag;
	struct rd all, pkt;
	struct seg s = { data, len };
	int r = pgp_dearmor("PGP SIGNATURE", asc, asclen, &bin, &binlen);
	if (r)
		return r;
	all = (struct rd){ .p = bin, .n = binlen };
	r = rd_packet(&all, &tag, &pkt);
	if (!r && (tag != TAG_SIGNATURE || all.off != all.n))
		r = -EBADMSG;
	if (!r)
		r = sig_check(key, &pkt, SIG_BINARY, SIG_BINARY, &s, 1, ret_created);
	free(bin);
	return r;
}

/* ---- the public key block ------------------------------------------------------------------ */

/*
 * What a certification covers (RFC 4880 5.2.4): 0x99, length, key packet
 * body; 0xb4, four-byte length, user id.  The two headers go in hdr[8].
 */
static void cert_segs(const unsigned char *keybody, size_t keylen, const char *uid,
		      unsigned char hdr[8], struct seg segs[4])
{
	size_t ulen = strlen(uid);
	hdr[0] = 0x99;
	hdr[1] = (unsigned char)(keylen >> 8);
	hdr[2] = (unsigned char)keylen;
	hdr[3] = 0xb4;
	hdr[4] = (unsigned char)(ulen >> 24);
	hdr[5] = (unsigned char)(ulen >> 16);
	hdr[6] = (unsigned char)(ulen >> 8);
	hdr[7] = (unsigned char)ulen;
	segs[0] = (struct seg){ hdr, 3 };
	segs[1] = (struct seg){ keybody, keylen };
	segs[2] = (struct seg){ hdr + 3, 5 };
	segs[3] = (struct seg){ uid, ulen };
}

int pgp_public_key_armored(const struct pgp_key *key, char **ret_out, size_t *ret_len)
{
	struct buf kb = { 0 }, ub = { 0 }, out = { 0 };
	unsigned char hdr[8];
	struct seg segs[4];
	int r;

	if (!key->has_private)
		return -EINVAL;
	key_body(key, &kb);
	pgp_buf_put(&ub, key->uid, strlen(key->uid));
	r = kb.err ? kb.err : ub.err;
	if (!r) {
		put_packet(&out, TAG_PUBLIC_KEY, &kb);
		put_packet(&out, TAG_USER_ID, &ub);
		cert_segs(kb.p, kb.len, key->uid, hdr, segs);
		r = out.err ? out.err : sig_make(key, SIG_POSITIVE_CERT, key->created, segs, 4, &out);
	}
	if (!r)
		r = pgp_armor("PGP PUBLIC KEY BLOCK", out.p, out.len, ret_out, ret_len);
	pgp_buf_release(&kb);
	pgp_buf_release(&ub);
	pgp_buf_release(&out);
	return r;
}

/* The public key packet body into k (created, pkey, pub, fpr). */
static int rd_key_body(struct rd *body, struct pgp_key *k)
{
	unsigned ver, algo, oidlen;
	const unsigned char *oid;
	unsigned char point[33];
	if (rd_u8(body, &ver) || ver != 4 || rd_u32(body, &k->created) || rd_u8(body, &algo) ||
	    algo != ALGO_EDDSA_LEGACY || rd_u8(body, &oidlen) || oidlen != sizeof(ed25519_oid) ||
	    rd_bytes(body, oidlen, &oid) || memcmp(oid, ed25519_oid, oidlen) ||
	    rd_mpi(body, point, sizeof(point)) || point[0] != 0x40 || body->off != body->n)
		return -EBADMSG;
	k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, point + 1, 32);
	if (!k->pkey) {
		ERR_clear_error();
		return -EBADMSG;
	}
	return key_complete(k);
}

int pgp_key_from_public(const char *armored, size_t len, struct pgp_key **ret_key)
{
	unsigned char *bin = NULL, hdr[8];
	size_t binlen = 0;
	struct rd all, kp, up, sp;
	struct seg segs[4];
	unsigned tag;
	struct pgp_key *k = NULL;
	int r = pgp_dearmor("PGP PUBLIC KEY BLOCK", armored, len, &bin, &binlen);
	if (r)
		return r;
	all = (struct rd){ .p = bin, .n = binlen };
	k = calloc(1, sizeof(*k));
	if (!k) {
		r = -ENOMEM;
		goto out;
	}
	r = -EBADMSG;
	if (rd_packet(&all, &tag, &kp) || tag != TAG_PUBLIC_KEY || rd_key_body(&kp, k))
		goto out;
	if (rd_packet(&all, &tag, &up) || tag != TAG_USER_ID || up.n > PGP_UID_MAX)
		goto out;
	memcpy(k->uid, up.p, up.n);
	k->uid[up.n] = '\0';
	if (!uid_valid(k->uid))
		goto out;
	if (rd_packet(&all, &tag, &sp) || tag != TAG_SIGNATURE || all.off != all.n)
		goto out;
	cert_segs(kp.p, kp.n, k->uid, hdr, segs);
	r = sig_check(k, &sp, 0x10, 0x13, segs, 4, NULL);
	if (r)
		goto out;
	*ret_key = k;
	k = NULL;
out:
	pgp_key_free(k);
	free(bin);
	return r == -EKEYREJECTED || r == -ENOKEY ? -EBADMSG : r;
}

/* ---- small helpers -------------------------------------------------------------------- */

int pgp_time_now(uint32_t *ret)
{
	int64_t t = au_now();
	if (t < 0 || t > (int64_t)UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)t;
	return 0;
}

int pgp_fpr_matches(const struct pgp_key *key, const char *hex)
{
	char mine[PGP_FPR_HEX_LEN];
	pgp_fingerprint_hex(key, mine);
	return strlen(hex) == PGP_FPR_HEX_LEN - 1 && !strcasecmp(mine, hex);
}
