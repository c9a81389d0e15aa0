/*
 * fuzz.h - what the fuzz targets of tests/fuzz share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput() and nothing else that
 * is visible.  The same file links either with libFuzzer (clang
 * -fsanitize=fuzzer, scripts/fuzz) or with replay.c (any compiler, the
 * normal and ASan test builds), which feeds it every file of a corpus.
 *
 * A target checks the documented contract of the function under test and
 * aborts with a message on the first violation, so that both libFuzzer
 * and the replay report it as a crash with the input that caused it.
 */
#ifndef ADVISORYFS_FUZZ_H
#define ADVISORYFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with file, line and the failed condition. */
#define FZ_CHECK(cond)                                                                     \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
				#cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

/*
 * A message meant for one line of a terminal: NUL-terminated within cap
 * bytes, non-empty, without C0 controls or DEL.  Returns 1 if so.
 */
static inline int fz_one_line(const char *msg, size_t cap)
{
	size_t i;
	for (i = 0; i < cap && msg[i]; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return i > 0 && i < cap;
}

/*
 * A CSAF 2.0 section 5.1 file name as csaf_filename() promises it: 1 to
 * limit bytes, ending in ".json" after a non-empty stem of [+\-a-z0-9_]
 * with no run of two '_' (a run of other characters becomes one '_'), so
 * no '/', no leading '.', no "..".  Returns 1 if so.
 */
static inline int fz_csaf_name_ok(const char *name, size_t limit)
{
	size_t n = 0, stem;
	while (name[n])
		n++;
	if (n > limit || n <= 5)
		return 0;
	stem = n - 5;
	if (name[stem] != '.' || name[stem + 1] != 'j' || name[stem + 2] != 's' ||
	    name[stem + 3] != 'o' || name[stem + 4] != 'n')
		return 0;
	for (size_t i = 0; i < stem; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			 c == '-' || c == '_';
		if (!ok || (c == '_' && i > 0 && name[i - 1] == '_'))
			return 0;
	}
	return 1;
}

#endif
