/*
 * check.h - the few macros the C unit tests share.
 *
 * CHECK(cond) records a failure with file and line and goes on, so one run
 * reports every broken case; check_exit() returns the process status.
 */
#ifndef ADVISORYFS_CHECK_H
#define ADVISORYFS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		check_count++;                                                          \
		if (!(cond)) {                                                          \
			check_failures++;                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                 \
		}                                                                       \
	} while (0)

#define CHECK_STR(a, b)                                                                 \
	do {                                                                            \
		const char *a_ = (a), *b_ = (b);                                        \
		check_count++;                                                          \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                \
			check_failures++;                                               \
			fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__,    \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");                \
		}                                                                       \
	} while (0)

static inline int check_exit(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
