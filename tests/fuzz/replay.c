/*
 * replay.c - run a fuzz target over its corpus without libFuzzer.
 *
 *   replay_NAME DIR_OR_FILE...
 *
 * Links with one tests/fuzz/fuzz_NAME.c and calls its
 * LLVMFuzzerTestOneInput() on every regular file of each directory (not
 * recursively, in name order, skipping names that start with '.') and on
 * each file named directly, so the normal and sanitizer builds of the
 * test suite check every corpus and regression input with any compiler.
 *
 * Each input is copied into a heap block of exactly its size, as
 * libFuzzer does, so that reading past the end is an ASan error.  A
 * target reports a violation by aborting, which fails the test with the
 * name of the input printed just before.  Exit status: 0 when every input
 * ran; 1 when an argument cannot be read or names no input at all (a
 * wrong path must not pass as an empty corpus); 2 for usage.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest input replayed: above every target's -max_len in scripts/fuzz. */
#define REPLAY_MAX_BYTES (64u << 20)

/*
 * Read the regular file path into a malloc'ed block of exactly its size
 * (one byte for an empty file).  Returns 0, or -errno with nothing
 * allocated; -EFBIG above REPLAY_MAX_BYTES, -EINVAL for a non-regular file.
 */
static int read_input(const char *path, uint8_t **ret_buf, size_t *ret_len)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((uint64_t)sb.st_size > REPLAY_MAX_BYTES) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break; /* shrank while we read: replay what is there */
		len += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

/* Run one file through the target.  Returns 0 or -errno (reported). */
static int replay_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = read_input(path, &buf, &len);
	if (r) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
		return r;
	}
	/* printed first, so that a crash names its input */
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Replay every regular file of dir in name order.  Adds the count to
 * *ret_n.  Returns 0 or -errno (reported).
 */
static int replay_dir(const char *dir, size_t *ret_n)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (!d) {
		r = -errno;
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(-r));
		return r;
	}
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				r = -errno;
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		if (!(names[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r)
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(-r));
	else if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; !r && i < n; i++) {
		char path[PATH_MAX];
		struct stat sb;
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir, names[i]);
			r = -ENAMETOOLONG;
		} else if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
			continue; /* subdirectories and the like are not inputs */
		} else if ((r = replay_file(path)) == 0) {
			(*ret_n)++;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	size_t total = 0;
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		size_t n = 0;
		if (stat(argv[i], &sb) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (replay_dir(argv[i], &n))
				failed = 1;
			else if (n == 0) {
				fprintf(stderr, "replay: %s: no inputs\n", argv[i]);
				failed = 1;
			}
		} else if (replay_file(argv[i]) == 0) {
			n = 1;
		} else {
			failed = 1;
		}
		total += n;
	}
	printf("replayed %zu input%s\n", total, total == 1 ? "" : "s");
	return failed;
}
