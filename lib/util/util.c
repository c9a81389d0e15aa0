/*
 * util.c - time parsing and formatting, hex, bounded copies, allocators,
 * descriptors.
 *
 * Time is int64 seconds since 1970-01-01T00:00:00Z everywhere; conversion
 * to and from civil dates uses the days-from-civil algorithm so that no
 * timezone state (TZ, mktime) is ever consulted.
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = (int)(y + (m <= 2));
	*ret_m = m;
	*ret_d = d;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
	static const unsigned dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Read exactly n decimal digits at *p; advance *p. */
static int digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -EINVAL;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

/*
 * Common parser.  allow_date: a bare date is accepted; require_offset: the
 * time must carry Z or an offset; end_of_day applies to bare dates only.
 */
static int parse_iso(const char *s, int allow_date, int require_offset, int end_of_day,
		     int64_t *ret_t)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -EINVAL;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
		return -EINVAL;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	if (*p == '\0') {
		if (!allow_date)
			return -EINVAL;
		*ret_t = days * 86400 + (end_of_day ? 86399 : 0);
		return 0;
	}
	if (*p != 'T' && *p != 't')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &se))
			return -EINVAL;
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			for (int n = 0; *p >= '0' && *p <= '9'; p++)
				if (++n > 9)
					return -EINVAL;
		}
	} else if (require_offset) {
		return -EINVAL; /* RFC 3339 requires seconds */
	}
	if (h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	if (se == 60)
		se = 59; /* a leap second is read as the second before it */
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else if (require_offset) {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	*ret_t = days * 86400 + h * 3600 + mi * 60 + se - off;
	return 0;
}

int au_parse_time(const char *s, int end_of_day, int64_t *ret_t)
{
	return parse_iso(s, 1, 0, end_of_day, ret_t);
}

int au_parse_rfc3339(const char *s, int64_t *ret_t)
{
	return parse_iso(s, 0, 1, 0, ret_t);
}

void au_format_time(int64_t t, char buf[AU_TIME_LEN])
{
	if (t == AU_T_MIN || t == AU_T_MAX) {
		snprintf(buf, AU_TIME_LEN, "%s", t == AU_T_MIN ? "-inf" : "+inf");
		return;
	}
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(buf, AU_TIME_LEN, "%s", "out-of-range");
		return;
	}
	/* y, m, d and secs are in range here; the wide buffer only quiets
	 * -Wformat-truncation, which cannot see that */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60));
	memcpy(buf, tmp, AU_TIME_LEN - 1);
	buf[AU_TIME_LEN - 1] = '\0';
}

int au_year(int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	return y;
}

int64_t au_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int au_name_before(const char *x, const char *y)
{
	while (*x && *x == *y) {
		x++;
		y++;
	}
	return *x && (unsigned char)*x < (unsigned char)*y;
}

void au_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int au_unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int au_strcpy(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);
	if (n >= dstlen)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

int au_slug_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

/* ---- memory ----------------------------------------------------------------------------- */

void *au_grow(void *v, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (!need)
		need = 1;   /* so that NULL always means out of memory */
	if (need <= *cap && v)
		return v;
	size_t c = *cap ? *cap : (first ? first : 1);
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (elem && c > SIZE_MAX / elem)
		return NULL;
	void *nv = realloc(v, c * elem);
	if (!nv)
		return NULL;
	*cap = c;
	return nv;
}

struct au_block {
	struct au_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

/* n bytes at a multiple of align (a power of two) in a's blocks. */
static void *au_arena_bump(struct au_arena *a, size_t n, size_t align)
{
	struct au_block *b = a->head;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
	if (!b || at > b->cap || b->cap - at < n) {
		size_t cap = a->block ? a->block : AU_BIG - sizeof(*b);
		cap = n > cap ? n : cap;
		struct au_block *nb = au_alloc_big(sizeof(*nb) + cap);
		if (!nb)
			return NULL;
		nb->next = b;
		nb->used = 0;
		nb->cap = cap;
		a->head = b = nb;
		at = 0;
	}
	b->used = at + n;
	return b->data + at;
}

void *au_arena_alloc(struct au_arena *a, size_t n)
{
	void *p = au_arena_bump(a, n, 16);
	if (p)
		memset(p, 0, n);
	return p;
}

char *au_arena_strndup(struct au_arena *a, const void *s, size_t len)
{
	char *p = au_arena_bump(a, len + 1, 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = 0;
	return p;
}

void au_arena_take(struct au_arena *a, struct au_arena *from)
{
	struct au_block *last = from->head;
	if (!last)
		return;
	while (last->next)
		last = last->next;
	if (a->head) {
		last->next = a->head->next;
		a->head->next = from->head;
	} else {
		a->head = from->head;
	}
	from->head = NULL;
}

void au_arena_free(struct au_arena *a)
{
	struct au_block *b = a->head;
	while (b) {
		struct au_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
}

void *au_alloc_big(size_t n)
{
	void *p = NULL;
	if (n < AU_BIG)
		return malloc(n ? n : 1);
	if (posix_memalign(&p, AU_BIG, n))
		return NULL;
	madvise(p, n & ~(size_t)(AU_BIG - 1), MADV_HUGEPAGE);
	return p;
}

/* ---- descriptors ---- */

int au_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EPIPE;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int au_store_watch_open(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;

	if (len >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (len) {
		memcpy(dir, path, len);
		dir[len] = 0;
	} else {
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	}
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd >= 0 && inotify_add_watch(fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE |
						      IN_DELETE | IN_MOVED_TO) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int au_store_watch_drain(int fd, const char *path)
{
	_Alignas(struct inotify_event) char buf[4096];
	const char *base = strrchr(path, '/');
	size_t blen;
	int hit = 0;
	ssize_t n;

	base = base ? base + 1 : path;
	blen = strlen(base);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_Q_OVERFLOW) ||
			    (ev->len && strncmp(ev->name, base, blen) == 0 &&
			     (ev->name[blen] == 0 || ev->name[blen] == '-')))
				hit = 1;
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}
