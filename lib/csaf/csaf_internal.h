/*
 * csaf_internal.h - what the files of lib/csaf share.  Not for use
 * outside lib/csaf.
 */
#ifndef ADVISORYFS_CSAF_INTERNAL_H
#define ADVISORYFS_CSAF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode one UTF-8 sequence at p (n bytes available).  Returns its length
 * (1-4) and sets *ret_cp, or 0 for anything RFC 3629 forbids: stray
 * continuation bytes, truncated sequences, overlong forms, surrogates,
 * code points above U+10FFFF (csaf.c).
 */
int csaf_utf8_next(const unsigned char *p, size_t n, uint32_t *ret_cp);

static inline int csaf_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

#endif
