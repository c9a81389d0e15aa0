/*
 * util.h - small helpers shared by every module of advisoryfs.
 *
 * Sections: time (ISO 8601 / RFC 3339 parsing and formatting, all UTC,
 * int64 seconds since the epoch), hex encoding, bounded string copies,
 * allocators, descriptors (whole writes, watching a store file).
 *
 * Conventions of the whole tree: functions return 0 or -errno; output
 * parameters are named ret_* and written only on success; the caller owns
 * whatever a function documents as "allocated".
 */
#ifndef ADVISORYFS_UTIL_H
#define ADVISORYFS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Open ends of a validity period. */
#define AU_T_MIN INT64_MIN
#define AU_T_MAX INT64_MAX

/* Length of a formatted time "YYYY-MM-DDTHH:MM:SSZ" plus NUL. */
#define AU_TIME_LEN 21

/*
 * Parse a command-line time: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS][.frac](Z|+hh:mm|-hh:mm)".
 * A date alone means the start of the day, or with end_of_day the last
 * second of that day (the inclusive --until rule of SPEC.md section 1).
 * A time without an offset is taken as UTC.  Returns 0 or -EINVAL.
 */
int au_parse_time(const char *s, int end_of_day, int64_t *ret_t);

/*
 * Parse an RFC 3339 date-time as CSAF requires ("2024-03-01T10:00:00Z",
 * "2021-07-21T10:00:00.000Z", "2024-03-01T10:00:00+02:00").  A date or a
 * missing offset is refused.  Fractions of a second are truncated.
 * Years 0001-9999 only.  Returns 0 or -EINVAL.
 */
int au_parse_rfc3339(const char *s, int64_t *ret_t);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into buf (AU_TIME_LEN bytes). */
void au_format_time(int64_t t, char buf[AU_TIME_LEN]);

/* UTC year of t. */
int au_year(int64_t t);

/* Current time in seconds (CLOCK_REALTIME). */
int64_t au_now(void);

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void au_hex(const unsigned char *in, size_t n, char *out);
/* The n bytes of the 2n hex digits of s (either case); -1 (out untouched
 * or partly written) when s is not exactly that. */
int au_unhex(const char *s, unsigned char *out, size_t n);

/* strlcpy-like copy; returns -ENAMETOOLONG (and writes nothing) if src
 * does not fit, else 0. */
int au_strcpy(char *dst, size_t dstlen, const char *src);

/* Whether x sorts before y (strcmp) and is not a prefix of it: the order
 * in which `visible` can list a folder's file names, each followed by its
 * companions' names (x, x.asc, x.sha256, ... before y), without a sort. */
int au_name_before(const char *x, const char *y);

/* Valid organisation slug: 1-64 of [a-z0-9-], not starting with '-'. */
int au_slug_valid(const char *s);

/*
 * Room for at least need elements (at least one) of elem bytes in v
 * (capacity *cap, 0 for none yet): v itself when it has it, else v
 * reallocated to the first of first, 2 first, 4 first... that fits, and
 * *cap updated.  NULL when out of memory (v and *cap unchanged).
 */
void *au_grow(void *v, size_t *cap, size_t need, size_t elem, size_t first);

/*
 * n bytes for a large array, freed with free() (and grown with realloc()):
 * AU_BIG-aligned and advised for huge pages when n is AU_BIG or more, so
 * one page fault per 2 MiB instead of one per 4 KiB.  The advice is a hint.
 */
#define AU_BIG (2u << 20)
void *au_alloc_big(size_t n);

/*
 * A bump allocator: blocks (from au_alloc_big(), so huge pages for the
 * large ones) that never move, so pointers into them stay valid, all
 * freed at once.  Not thread-safe.  Zero-initialise; block is the size of
 * a new block's data (0: AU_BIG in all; a larger request gets a block of
 * its own size), and may change between calls.
 */
struct au_block;
struct au_arena {
	struct au_block *head;      /* the block being filled */
	size_t block;
};
/* n zeroed bytes aligned to 16; NULL when out of memory. */
void *au_arena_alloc(struct au_arena *a, size_t n);
/* A NUL-terminated copy of the len bytes at s (s may be NULL when len is
 * 0), packed without alignment; NULL when out of memory. */
char *au_arena_strndup(struct au_arena *a, const void *s, size_t len);
/* Move every block of from into a (behind the block a is filling);
 * from is left empty. */
void au_arena_take(struct au_arena *a, struct au_arena *from);
void au_arena_free(struct au_arena *a);

/* ---- descriptors ---- */

/* write(2) all n bytes, retrying after EINTR and short writes.  0; -errno,
 * or -EPIPE when write(2) wrote nothing. */
int au_write_all(int fd, const void *p, size_t n);

/*
 * A non-blocking inotify descriptor watching the directory of the SQLite
 * file path (its -wal and -journal files come and go, and in rollback mode
 * a commit is the journal's deletion); -1 with errno set when it cannot.
 */
int au_store_watch_open(const char *path);
/* Drain fd (from au_store_watch_open()): 1 when an event named path or
 * one of its companions "path-..." or events were lost, else 0. */
int au_store_watch_drain(int fd, const char *path);

#endif
