/*
 * test_pgp.c - unit tests of lib/crypto/pgp.c: CRC-24 and armour, MPIs, key
 * files (modes, refusals, round trip), signatures checked by our own
 * parser, including ones whose r or s starts with zero bytes.  That gpg
 * accepts what we write is tested in tests/integration/test_pgp.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pgp.h"

static char dir[] = "/tmp/test_pgp.XXXXXX";

/* dir/name into buf (PATH_MAX-ish); aborts the test on truncation. */
static const char *path_in(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "path too long\n");
		exit(1);
	}
	return buf;
}

static void test_crc24_and_armor(void)
{
	unsigned char *bin = NULL;
	size_t n = 0, len = 0;
	char *text = NULL;

	/* the catalogue check value of CRC-24/OPENPGP, and its initial value */
	CHECK(pgp_crc24("123456789", 9) == 0x21cf02);
	CHECK(pgp_crc24("", 0) == 0xb704ce);

	CHECK(pgp_armor("PGP SIGNATURE", (const unsigned char *)"123456789", 9, &text, &len) == 0);
	CHECK_STR(text, "-----BEGIN PGP SIGNATURE-----\n\nMTIzNDU2Nzg5\n=Ic8C\n"
			"-----END PGP SIGNATURE-----\n");
	CHECK(len == strlen(text));
	CHECK(pgp_dearmor("PGP SIGNATURE", text, len, &bin, &n) == 0);
	CHECK(n == 9 && bin && !memcmp(bin, "123456789", 9));
	free(bin);
	bin = NULL;
	/* wrong type, corrupted checksum, corrupted data */
	CHECK(pgp_dearmor("PGP MESSAGE", text, len, &bin, &n) == -EBADMSG);
	text[45] = 'J'; /* the "=Ic8C" line becomes "=Jc8C" */
	CHECK(pgp_dearmor("PGP SIGNATURE", text, len, &bin, &n) == -EBADMSG);
	text[45] = 'I';
	text[31] = 'N';
	CHECK(pgp_dearmor("PGP SIGNATURE", text, len, &bin, &n) == -EBADMSG);
	free(text);

	/* padding, CRLF line ends, headers and text around the block */
	const char *crlf = "junk\r\n-----BEGIN PGP SIGNATURE-----\r\nComment: x\r\n\r\n"
			   "AQI=\r\n-----END PGP SIGNATURE-----\r\ntrailing\r\n";
	CHECK(pgp_dearmor("PGP SIGNATURE", crlf, strlen(crlf), &bin, &n) == 0);
	CHECK(n == 2 && bin && bin[0] == 1 && bin[1] == 2);
	free(bin);
	bin = NULL;
	/* data after padding, and a bad character, are refused */
	const char *bad1 = "-----BEGIN PGP SIGNATURE-----\n\nAQI=AQI=\n-----END PGP SIGNATURE-----\n";
	const char *bad2 = "-----BEGIN PGP SIGNATURE-----\n\nAQ*=\n-----END PGP SIGNATURE-----\n";
	CHECK(pgp_dearmor("PGP SIGNATURE", bad1, strlen(bad1), &bin, &n) == -EBADMSG);
	CHECK(pgp_dearmor("PGP SIGNATURE", bad2, strlen(bad2), &bin, &n) == -EBADMSG);

	/* long input: lines of 64 characters */
	unsigned char big[100];
	for (int i = 0; i < 100; i++)
		big[i] = (unsigned char)i;
	CHECK(pgp_armor("PGP SIGNATURE", big, sizeof(big), &text, &len) == 0);
	CHECK(strstr(text, "\n\n") && strchr(strstr(text, "\n\n") + 2, '\n') -
					      (strstr(text, "\n\n") + 2) == 64);
	CHECK(pgp_dearmor("PGP SIGNATURE", text, len, &bin, &n) == 0);
	CHECK(n == sizeof(big) && bin && !memcmp(bin, big, n));
	free(bin);
	free(text);
}

static void test_mpi(void)
{
	unsigned char out[40];
	static const unsigned char one[] = { 0, 0, 1 };
	static const unsigned char v1ff[] = { 0x01, 0xff };
	static const unsigned char v80[] = { 0x80 };
	static const unsigned char zero[] = { 0, 0, 0 };
	static const unsigned char v7f00[] = { 0x00, 0x7f, 0x00 };
	unsigned char point[33] = { 0x40 };

	CHECK(pgp_mpi_encode(one, 3, out) == 3 && !memcmp(out, "\x00\x01\x01", 3));
	CHECK(pgp_mpi_encode(v1ff, 2, out) == 4 && !memcmp(out, "\x00\x09\x01\xff", 4));
	CHECK(pgp_mpi_encode(v80, 1, out) == 3 && !memcmp(out, "\x00\x08\x80", 3));
	CHECK(pgp_mpi_encode(zero, 3, out) == 2 && !memcmp(out, "\x00\x00", 2));
	CHECK(pgp_mpi_encode(v7f00, 3, out) == 4 && !memcmp(out, "\x00\x0f\x7f\x00", 4));
	/* an Ed25519 point with its 0x40 prefix: 263 bits */
	CHECK(pgp_mpi_encode(point, 33, out) == 35 && out[0] == 0x01 && out[1] == 0x07);
}

static void test_uid(void)
{
	struct pgp_key *k = NULL;
	char longuid[PGP_UID_MAX + 2];
	memset(longuid, 'a', sizeof(longuid) - 1);
	longuid[sizeof(longuid) - 1] = '\0';

	CHECK(pgp_key_generate("", 1, &k) == -EINVAL);
	CHECK(pgp_key_generate("a\nb", 1, &k) == -EINVAL);
	CHECK(pgp_key_generate("a\x7f", 1, &k) == -EINVAL);
	CHECK(pgp_key_generate("bad \xc3(", 1, &k) == -EINVAL);
	CHECK(pgp_key_generate("overlong \xc0\xaf", 1, &k) == -EINVAL);
	CHECK(pgp_key_generate(longuid, 1, &k) == -EINVAL);
	CHECK(k == NULL);
	CHECK(pgp_key_generate("Z\xc3\xbcrich CERT <cert@example.org>", 1, &k) == 0);
	CHECK_STR(pgp_key_uid(k), "Z\xc3\xbcrich CERT <cert@example.org>");
	pgp_key_free(k);
	pgp_key_free(NULL);
}

static void test_keyfile(void)
{
	struct pgp_key *k = NULL, *l = NULL;
	char p[512], p2[512], a[PGP_FPR_HEX_LEN], b[PGP_FPR_HEX_LEN];
	struct stat sb;

	CHECK(pgp_key_generate("Test <test@example.org>", 1700000000, &k) == 0);
	if (!k)
		return;
	path_in(p, sizeof(p), "key");
	mode_t old = umask(0);
	CHECK(pgp_key_save(k, p) == 0);
	umask(old);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600);
	/* never overwritten, nor through a symbolic link */
	CHECK(pgp_key_save(k, p) == -EEXIST);
	path_in(p2, sizeof(p2), "link");
	CHECK(symlink(p, p2) == 0);
	CHECK(pgp_key_save(k, p2) == -EEXIST);
	CHECK(pgp_key_load(p2, &l) == -ELOOP);

	CHECK(pgp_key_load(p, &l) == 0);
	if (l) {
		pgp_fingerprint_hex(k, a);
		pgp_fingerprint_hex(l, b);
		CHECK_STR(a, b);
		CHECK(strlen(a) == 40);
		CHECK_STR(pgp_key_uid(l), "Test <test@example.org>");
		CHECK(pgp_key_created(l) == 1700000000);
		/* the loaded key signs what the original verifies */
		char *asc = NULL;
		size_t asclen = 0;
		CHECK(pgp_sign_detached(l, "x", 1, 1700000001, &asc, &asclen) == 0);
		CHECK(asc && pgp_verify_detached(k, "x", 1, asc, asclen, NULL) == 0);
		free(asc);
		/* the same public key block from both */
		char *pa = NULL, *pb = NULL;
		size_t la = 0, lb = 0;
		CHECK(pgp_public_key_armored(k, &pa, &la) == 0);
		CHECK(pgp_public_key_armored(l, &pb, &lb) == 0);
		CHECK(pa && pb && la == lb && !memcmp(pa, pb, la));
		free(pa);
		free(pb);
		pgp_key_free(l);
		l = NULL;
	}

	/* any mode that lets group or others read or write is refused; 0400 is fine */
	static const mode_t bad[] = { 0644, 0640, 0604, 0620, 0602, 0660, 0601, 0610 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(chmod(p, bad[i]) == 0);
		CHECK(pgp_key_load(p, &l) == -EPERM);
		CHECK(l == NULL);
	}
	CHECK(chmod(p, 0400) == 0);
	CHECK(pgp_key_load(p, &l) == 0);
	pgp_key_free(l);
	l = NULL;

	/* not a regular file: a FIFO must not block the load */
	path_in(p2, sizeof(p2), "fifo");
	CHECK(mkfifo(p2, 0600) == 0);
	CHECK(pgp_key_load(p2, &l) == -EPERM);
	unlink(p2);
	path_in(p2, sizeof(p2), "missing");
	CHECK(pgp_key_load(p2, &l) == -ENOENT);

	/* malformed files */
	static const char *const texts[] = {
		"",
		"advisoryfs-openpgp-key 2\ncreated 1\nuid x\n\n",
		"advisoryfs-openpgp-key 1\ncreated -1\nuid x\n\n",
		"advisoryfs-openpgp-key 1\ncreated 4294967296\nuid x\n\n",
		"advisoryfs-openpgp-key 1\ncreated 1\nuid x\n\nnot pem\n",
		"advisoryfs-openpgp-key 1\ncreated 1\nuid x\n\n-----BEGIN PRIVATE KEY-----\n"
		"MC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char name[32];
		int nn = snprintf(name, sizeof(name), "bad%zu", i);
		CHECK(nn > 0 && (size_t)nn < sizeof(name));
		path_in(p2, sizeof(p2), name);
		int fd = open(p2, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		CHECK(fd >= 0);
		if (fd < 0)
			continue;
		CHECK(write(fd, texts[i], strlen(texts[i])) == (ssize_t)strlen(texts[i]));
		close(fd);
		CHECK(pgp_key_load(p2, &l) == -EBADMSG);
		unlink(p2);
	}

	path_in(p2, sizeof(p2), "link");
	unlink(p2);
	unlink(p);
	pgp_key_free(k);
}

/* The bit counts of r and s in a signature we made (layout of sig_make). */
static int sig_mpi_bits(const char *asc, size_t len, unsigned *ret_r, unsigned *ret_s)
{
	unsigned char *bin = NULL;
	size_t n = 0;
	if (pgp_dearmor("PGP SIGNATURE", asc, len, &bin, &n))
		return -1;
	/* header(2) v,type,algo,hash(4) hashed(2+29) unhashed(2+10) left(2) */
	size_t off = 2 + 4 + 2 + 29 + 2 + 10 + 2;
	int r = -1;
	if (n > off + 2) {
		unsigned rb = (unsigned)bin[off] << 8 | bin[off + 1];
		size_t soff = off + 2 + (rb + 7) / 8;
		if (n > soff + 2) {
			*ret_r = rb;
			*ret_s = (unsigned)bin[soff] << 8 | bin[soff + 1];
			r = 0;
		}
	}
	free(bin);
	return r;
}

static void test_sign_verify(void)
{
	struct pgp_key *k = NULL, *other = NULL, *pub = NULL;
	char *asc = NULL, *pk = NULL;
	size_t asclen = 0, pklen = 0;
	uint32_t when = 0;
	static const char doc[] = "{\"document\": {\"title\": \"x\"}}\n";

	CHECK(pgp_key_generate("Signer <s@example.org>", 1600000000, &k) == 0);
	CHECK(pgp_key_generate("Other <o@example.org>", 1600000000, &other) == 0);
	if (!k || !other)
		goto out;
	CHECK(pgp_sign_detached(k, doc, strlen(doc), 1700000000, &asc, &asclen) == 0);
	if (!asc)
		goto out;
	CHECK(!strncmp(asc, "-----BEGIN PGP SIGNATURE-----\n\n", 31));
	CHECK(asclen > 30 && !strcmp(asc + asclen - 28, "-----END PGP SIGNATURE-----\n"));
	CHECK(pgp_verify_detached(k, doc, strlen(doc), asc, asclen, &when) == 0);
	CHECK(when == 1700000000);
	/* one changed byte, a missing byte, another key, not a signature */
	char changed[sizeof(doc)];
	memcpy(changed, doc, sizeof(doc));
	changed[5] ^= 1;
	CHECK(pgp_verify_detached(k, changed, strlen(changed), asc, asclen, NULL) ==
	      -EKEYREJECTED);
	CHECK(pgp_verify_detached(k, doc, strlen(doc) - 1, asc, asclen, NULL) == -EKEYREJECTED);
	CHECK(pgp_verify_detached(other, doc, strlen(doc), asc, asclen, NULL) == -ENOKEY);
	CHECK(pgp_verify_detached(k, doc, strlen(doc), "junk", 4, NULL) == -EBADMSG);
	/* an empty document can be signed too */
	free(asc);
	asc = NULL;
	CHECK(pgp_sign_detached(k, "", 0, 1, &asc, &asclen) == 0);
	CHECK(asc && pgp_verify_detached(k, "", 0, asc, asclen, NULL) == 0);

	/* the public key block parses back, verifies its self-signature, and verifies */
	CHECK(pgp_public_key_armored(k, &pk, &pklen) == 0);
	if (!pk)
		goto out;
	CHECK(!strncmp(pk, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n", 38));
	CHECK(pgp_key_from_public(pk, pklen, &pub) == 0);
	if (pub) {
		char a[PGP_FPR_HEX_LEN], b[PGP_FPR_HEX_LEN];
		pgp_fingerprint_hex(k, a);
		pgp_fingerprint_hex(pub, b);
		CHECK_STR(a, b);
		CHECK_STR(pgp_key_uid(pub), "Signer <s@example.org>");
		CHECK(pgp_key_created(pub) == 1600000000);
		CHECK(pgp_verify_detached(pub, "", 0, asc, asclen, NULL) == 0);
		char *x = NULL;
		size_t xl = 0;
		CHECK(pgp_sign_detached(pub, "", 0, 1, &x, &xl) == -EINVAL);
		CHECK(pgp_public_key_armored(pub, &x, &xl) == -EINVAL);
		CHECK(x == NULL);
	}
	/* the key packet, byte by byte: v4, time, algo 22, the Ed25519 OID, 263-bit point */
	unsigned char *bin = NULL;
	size_t n = 0;
	CHECK(pgp_dearmor("PGP PUBLIC KEY BLOCK", pk, pklen, &bin, &n) == 0);
	if (bin) {
		static const unsigned char head[] = { 0xc6, 51, 4, 0x5f, 0x5e, 0x10, 0x00, 22, 9,
						      0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47,
						      0x0f, 0x01, 0x01, 0x07, 0x40 };
		CHECK(n > sizeof(head) && !memcmp(bin, head, sizeof(head)));
		/* then the user id packet */
		CHECK(n > 55 && bin[53] == 0xcd && bin[54] == strlen("Signer <s@example.org>"));
		/* a flipped bit in the self-signature is noticed */
		bin[n - 3] ^= 0x10;
		char *t = NULL;
		size_t tl = 0;
		struct pgp_key *bad = NULL;
		CHECK(pgp_armor("PGP PUBLIC KEY BLOCK", bin, n, &t, &tl) == 0);
		CHECK(t && pgp_key_from_public(t, tl, &bad) == -EBADMSG);
		CHECK(bad == NULL);
		free(t);
		free(bin);
	}

	/*
	 * r and s are the halves of the Ed25519 signature; about one in 128
	 * signatures has a half that starts with a zero byte, written as a
	 * shorter MPI.  Find some and check they still verify.
	 */
	int found_r = 0, found_s = 0;
	for (uint32_t t = 1; t < 20000 && (found_r < 2 || found_s < 2); t++) {
		unsigned rb = 0, sb = 0;
		free(asc);
		asc = NULL;
		if (pgp_sign_detached(k, doc, strlen(doc), t, &asc, &asclen) ||
		    sig_mpi_bits(asc, asclen, &rb, &sb)) {
			CHECK(0);
			break;
		}
		if (rb > 256 || sb > 256)
			CHECK(0);
		if (rb > 248 && sb > 248)
			continue;
		found_r += rb <= 248;
		found_s += sb <= 248;
		CHECK(pgp_verify_detached(k, doc, strlen(doc), asc, asclen, &when) == 0);
		CHECK(when == t);
		CHECK(pgp_verify_detached(pub, doc, strlen(doc), asc, asclen, NULL) == 0);
	}
	CHECK(found_r >= 2 && found_s >= 2);
out:
	free(asc);
	free(pk);
	pgp_key_free(pub);
	pgp_key_free(k);
	pgp_key_free(other);
}

static void test_strerror(void)
{
	CHECK(strstr(pgp_strerror(-EPERM), "chmod 600") != NULL);
	CHECK_STR(pgp_strerror(-ENOENT), strerror(ENOENT));
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_crc24_and_armor();
	test_mpi();
	test_uid();
	test_keyfile();
	test_sign_verify();
	test_strerror();
	if (rmdir(dir) < 0)
		perror(dir);
	return check_exit("pgp");
}
