/* test_util.c - time parsing and formatting, slugs, hex, growing arrays. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static int64_t t_of(const char *s, int eod)
{
	int64_t t = -12345;
	if (au_parse_time(s, eod, &t) < 0)
		return -12345;
	return t;
}

static int64_t r_of(const char *s)
{
	int64_t t = -12345;
	if (au_parse_rfc3339(s, &t) < 0)
		return -12345;
	return t;
}

int main(void)
{
	char buf[AU_TIME_LEN];

	/* dates: start of day, or the whole day with end_of_day */
	CHECK(t_of("1970-01-01", 0) == 0);
	CHECK(t_of("1970-01-01", 1) == 86399);
	CHECK(t_of("2022-12-01", 0) == 1669852800);
	CHECK(t_of("2022-11-30", 1) == 1669852800 - 1);
	CHECK(t_of("2022-12-01T09:00:00Z", 0) == 1669852800 + 9 * 3600);
	CHECK(t_of("2022-12-01T09:00Z", 0) == 1669852800 + 9 * 3600);
	CHECK(t_of("2022-12-01T09:00:00", 0) == 1669852800 + 9 * 3600); /* UTC assumed */
	CHECK(t_of("2022-12-01T10:00:00+01:00", 0) == 1669852800 + 9 * 3600);
	CHECK(t_of("2024-02-29", 0) != -12345);
	CHECK(t_of("2023-02-29", 0) == -12345);
	CHECK(t_of("2022-13-01", 0) == -12345);
	CHECK(t_of("2022-12-32", 0) == -12345);
	CHECK(t_of("2022-12-01T24:00:00Z", 0) == -12345);
	CHECK(t_of("2022-12-01 09:00:00Z", 0) == -12345);
	CHECK(t_of("22-12-01", 0) == -12345);
	CHECK(t_of("", 0) == -12345);
	CHECK(t_of("2022-12-01T09:00:00Zjunk", 0) == -12345);
	CHECK(t_of("0000-01-01", 0) == -12345);

	/* RFC 3339: offset and seconds required, fractions truncated */
	CHECK(r_of("2021-07-21T10:00:00.000Z") == t_of("2021-07-21T10:00:00Z", 0));
	CHECK(r_of("2021-07-21T10:00:00.999999999Z") == t_of("2021-07-21T10:00:00Z", 0));
	CHECK(r_of("2021-07-21T10:00:00.1234567890Z") == -12345);
	CHECK(r_of("2021-07-21T12:00:00+02:00") == t_of("2021-07-21T10:00:00Z", 0));
	CHECK(r_of("2021-07-21T10:00:00") == -12345);
	CHECK(r_of("2021-07-21") == -12345);
	CHECK(r_of("2021-07-21T10:00Z") == -12345);
	CHECK(r_of("2016-12-31T23:59:60Z") == t_of("2016-12-31T23:59:59Z", 0));

	au_format_time(1669852800, buf);
	CHECK_STR(buf, "2022-12-01T00:00:00Z");
	au_format_time(-1, buf);
	CHECK_STR(buf, "1969-12-31T23:59:59Z");
	au_format_time(AU_T_MAX, buf);
	CHECK_STR(buf, "+inf");
	CHECK(au_year(1669852800) == 2022);
	CHECK(au_year(-1) == 1969);

	/* round trip over a range of days */
	for (int64_t t = -86400 * 365 * 3; t < 86400LL * 365 * 80; t += 86400 * 7 + 3601) {
		int64_t back;
		au_format_time(t, buf);
		CHECK(au_parse_rfc3339(buf, &back) == 0 && back == t);
	}

	CHECK(au_slug_valid("z-cert"));
	CHECK(au_slug_valid("a"));
	CHECK(!au_slug_valid(""));
	CHECK(!au_slug_valid("-x"));
	CHECK(!au_slug_valid("Z-CERT"));
	CHECK(!au_slug_valid("a/b"));
	CHECK(!au_slug_valid("a.b"));
	CHECK(!au_slug_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */

	/* before, and not a prefix: what `visible` needs between neighbours */
	CHECK(au_name_before("a-1.json", "a-2.json"));
	CHECK(au_name_before("a.json", "b"));
	CHECK(!au_name_before("a-2.json", "a-1.json"));
	CHECK(!au_name_before("a.json", "a.json"));
	CHECK(!au_name_before("a.json", "a.json-b.json")); /* a prefix */
	CHECK(!au_name_before("", "a"));
	CHECK(au_name_before("a\x7f", "a\xc3\xa9"));       /* bytes compare unsigned */

	unsigned char in[3] = { 0x00, 0xab, 0xff };
	char hex[7];
	au_hex(in, 3, hex);
	CHECK_STR(hex, "00abff");

	char small[4];
	CHECK(au_strcpy(small, sizeof(small), "abc") == 0);
	CHECK(au_strcpy(small, sizeof(small), "abcd") == -ENAMETOOLONG);

	/* au_grow: first, then doubling; unchanged when there is room or on overflow */
	size_t cap = 0;
	int *v = au_grow(NULL, &cap, 1, sizeof(int), 16);
	CHECK(v && cap == 16);
	int *same = au_grow(v, &cap, 16, sizeof(int), 16);
	CHECK(same == v && cap == 16);
	for (int i = 0; i < 16; i++)
		v[i] = i;
	v = au_grow(v, &cap, 100, sizeof(int), 16);
	CHECK(v && cap == 128 && v[15] == 15);
	CHECK(au_grow(v, &cap, SIZE_MAX / 2, sizeof(int), 16) == NULL && cap == 128);
	size_t cap0 = 0;
	char *none = au_grow(NULL, &cap0, 0, 1, 8); /* nothing needed: still a buffer */
	CHECK(none && cap0 == 8);
	free(none);
	free(v);
	char *big = au_alloc_big((size_t)5 << 20);
	CHECK(big && ((uintptr_t)big & ((2u << 20) - 1)) == 0);
	memset(big, 1, (size_t)5 << 20);
	big = realloc(big, (size_t)6 << 20);
	CHECK(big && big[(5 << 20) - 1] == 1);
	free(big);

	/* au_arena: aligned zeroed memory, packed strings, blocks that never
	 * move, a request larger than a block, blocks moved to another arena */
	struct au_arena ar = { .head = NULL, .block = 64 }, other = { .head = NULL, .block = 32 };
	char *s1 = au_arena_strndup(&ar, "abc", 3);
	char *s2 = au_arena_strndup(&ar, NULL, 0);
	CHECK(s1 && s2 && strcmp(s1, "abc") == 0 && *s2 == 0 && s2 == s1 + 4);
	unsigned char *z = au_arena_alloc(&ar, 24);
	CHECK(z && ((uintptr_t)z & 15) == 0 && z[0] == 0 && z[23] == 0);
	memset(z, 7, 24);
	char *huge = au_arena_alloc(&ar, 1000);     /* its own block */
	CHECK(huge && ((uintptr_t)huge & 15) == 0 && huge[999] == 0);
	char *after = au_arena_strndup(&ar, "defgh", 5);
	CHECK(after && strcmp(after, "defgh") == 0 && strcmp(s1, "abc") == 0 && z[23] == 7);
	char *o1 = au_arena_strndup(&other, "xyz", 3);
	au_arena_take(&ar, &other);
	CHECK(other.head == NULL && strcmp(o1, "xyz") == 0);
	CHECK(au_arena_strndup(&ar, "i", 1) != NULL);
	au_arena_take(&other, &ar);                  /* into an empty arena */
	CHECK(ar.head == NULL && other.head != NULL);
	au_arena_free(&other);
	au_arena_free(&ar);                          /* empty: nothing to do */
	CHECK(other.head == NULL);
	/* au_write_all: every byte through a pipe; a pipe without a reader fails */
	int pfd[2];
	char got[8] = { 0 };
	CHECK(pipe(pfd) == 0);
	CHECK(au_write_all(pfd[1], "abcdefg", 7) == 0 && read(pfd[0], got, 7) == 7 &&
	      strcmp(got, "abcdefg") == 0);
	close(pfd[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK(au_write_all(pfd[1], "x", 1) == -EPIPE);
	close(pfd[1]);

	/* au_store_watch_*: another file in the directory is not the store; the
	 * store's -wal file and the store itself are */
	char dir[] = "/tmp/afs-util-XXXXXX", path[64], other_file[64], wal[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s.db", dir);
	snprintf(other_file, sizeof(other_file), "%s/s.dbx", dir);
	snprintf(wal, sizeof(wal), "%s/s.db-wal", dir);
	int wfd = au_store_watch_open(path);
	CHECK(wfd >= 0);
	CHECK(au_store_watch_drain(wfd, path) == 0);             /* nothing yet */
	int fd = open(other_file, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && close(fd) == 0);
	CHECK(au_store_watch_drain(wfd, path) == 0);
	fd = open(wal, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && close(fd) == 0);
	CHECK(au_store_watch_drain(wfd, path) == 1);
	CHECK(au_store_watch_drain(wfd, path) == 0);             /* drained */
	CHECK(unlink(wal) == 0 && unlink(other_file) == 0 && rmdir(dir) == 0);
	close(wfd);
	char missing[80];
	snprintf(missing, sizeof(missing), "%s/gone/s.db", dir);
	CHECK(au_store_watch_open(missing) == -1 && errno == ENOENT);
	return check_exit("util");
}
