/*
 * pgp.h - OpenPGP signatures made with OpenSSL (RFC 4880, RFC 9580).
 *
 * advisoryfs signs advisories it serves with its own Ed25519 key when the
 * publisher supplied no .asc.  The format is the one GnuPG 2.2 (Debian 12)
 * reads: a v4 key of algorithm 22 (EdDSALegacy, curve Ed25519), v4
 * signatures with SHA-512, ASCII armour with its CRC-24 line.
 *
 * The private key lives in a small file of our own (mode 0600): three
 * header lines (format, creation time, user id), a blank line, and the key
 * as PKCS#8 PEM.  pgp_key_load() refuses a file that group or others can
 * read or write, that the caller does not own, or that is a symbolic link.
 *
 * Conventions of the tree: functions return 0 or -errno; ret_* outputs are
 * written only on success; the caller owns whatever is documented as
 * allocated.  pgp_strerror() turns the codes of this module into a line
 * for the user.  No function here prints or logs.
 */
#ifndef ADVISORYFS_PGP_H
#define ADVISORYFS_PGP_H

#include <stddef.h>
#include <stdint.h>

struct pgp_key;  /* an Ed25519 key with its creation time and user id */
struct store;

#define PGP_FPR_LEN     20  /* v4 fingerprint: SHA-1 */
#define PGP_FPR_HEX_LEN 41  /* 40 uppercase hex digits and NUL, as gpg prints it */
#define PGP_UID_MAX     256 /* bytes of a user id (UTF-8, no control characters) */

/*
 * Make a new Ed25519 key with user id uid (1..PGP_UID_MAX bytes of UTF-8
 * without control characters, e.g. "NCSC <cert@example.nl>") created at
 * `created` (seconds since the epoch).  *ret_key is the caller's: free it
 * with pgp_key_free().  -EINVAL for a bad uid, -ENOMEM, -EIO if OpenSSL fails.
 */
int pgp_key_generate(const char *uid, uint32_t created, struct pgp_key **ret_key);

/*
 * Write the private key to a new file at path, mode 0600, created with
 * O_EXCL|O_NOFOLLOW: an existing file (or symbolic link) is never
 * overwritten (-EEXIST).  On any failure the partly written file is
 * removed.  Buffers that held the private key are wiped.
 */
int pgp_key_save(const struct pgp_key *key, const char *path);

/*
 * Read a key written by pgp_key_save().  -EPERM when the file is not a
 * regular file owned by the effective user or is accessible to group or
 * others; -ELOOP for a symbolic link; -EBADMSG for a malformed file;
 * -ENOENT and other -errno from open/read.  Buffers are wiped.
 */
int pgp_key_load(const char *path, struct pgp_key **ret_key);

/*
 * Parse an armoured transferable public key as made by
 * pgp_public_key_armored() (Ed25519, one user id) into a public-only key:
 * it can verify and report its fingerprint and uid, not sign (-EINVAL).
 * The self-signature is checked.  -EBADMSG if malformed or unsupported.
 */
int pgp_key_from_public(const char *armored, size_t len, struct pgp_key **ret_key);

/* Free a key and wipe its private part; NULL is fine. */
void pgp_key_free(struct pgp_key *key);

/* The key's user id (owned by the key), creation time and fingerprint. */
const char *pgp_key_uid(const struct pgp_key *key);
uint32_t pgp_key_created(const struct pgp_key *key);
void pgp_fingerprint(const struct pgp_key *key, unsigned char ret_fpr[PGP_FPR_LEN]);
/* Uppercase hex fingerprint into buf (PGP_FPR_HEX_LEN bytes). */
void pgp_fingerprint_hex(const struct pgp_key *key, char buf[PGP_FPR_HEX_LEN]);

/*
 * The armoured transferable public key ("-----BEGIN PGP PUBLIC KEY
 * BLOCK-----"): key packet, user id packet, positive self-certification.
 * *ret_out is allocated and NUL-terminated (*ret_len excludes the NUL).
 * Needs the private key (-EINVAL for a public-only key).
 */
int pgp_public_key_armored(const struct pgp_key *key, char **ret_out, size_t *ret_len);

/*
 * An armoured detached signature ("-----BEGIN PGP SIGNATURE-----") of
 * data, a binary-document signature (type 0x00) with SHA-512 made at
 * `when`.  *ret_out is allocated and NUL-terminated.  -EINVAL for a
 * public-only key, -ENOMEM, -EIO if OpenSSL fails.
 */
int pgp_sign_detached(const struct pgp_key *key, const void *data, size_t len, uint32_t when,
		      char **ret_out, size_t *ret_len);

/*
 * Check an armoured detached signature of data made by key: 0 when good;
 * -EBADMSG when it is not one well-formed v4 EdDSA signature we can read;
 * -ENOKEY when it names another issuer; -EKEYREJECTED when it does not
 * verify (data or signature changed).  Optional ret_created receives the
 * signature's creation time on success.
 */
int pgp_verify_detached(const struct pgp_key *key, const void *data, size_t len,
			const char *asc, size_t asclen, uint32_t *ret_created);

/* The time for a signature, now: OpenPGP keeps 32 unsigned bits of
 * seconds.  0, or -ERANGE outside them. */
int pgp_time_now(uint32_t *ret);

/* Whether hex is the fingerprint of key (case-insensitive). */
int pgp_fpr_matches(const struct pgp_key *key, const char *hex);


/* A line for the user about an error of this module ("unsafe key file: ..."). */
const char *pgp_strerror(int r);

/* ---- building blocks, exposed for the unit tests ---- */

/* CRC-24 of RFC 4880 6.1 (the armour checksum). */
uint32_t pgp_crc24(const void *data, size_t len);

/*
 * Encode the big-endian unsigned number in[0..n) as an OpenPGP MPI (2-byte
 * bit count, then the bytes without leading zero bytes) into out (room for
 * n + 2 bytes).  Returns the number of bytes written.
 */
size_t pgp_mpi_encode(const unsigned char *in, size_t n, unsigned char *out);

/*
 * ASCII armour: the block type ("PGP SIGNATURE", "PGP PUBLIC KEY BLOCK"),
 * base64 in lines of 64 and the "=" CRC-24 line.  *ret_out allocated and
 * NUL-terminated.  Dearmour takes the first block of that type, checks the
 * CRC-24 if present and returns the binary (allocated) or -EBADMSG.
 */
int pgp_armor(const char *type, const unsigned char *data, size_t len, char **ret_out,
	      size_t *ret_len);
int pgp_dearmor(const char *type, const char *text, size_t len, unsigned char **ret_data,
		size_t *ret_len);

#endif
