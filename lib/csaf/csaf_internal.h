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

struct cJSON;

/* Write a message into err (if there is room for one); never fails. */
void csaf_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Quoted values show at most this many characters. */
#define CSAF_QUOTE_CHARS 60
/* Worst case: every character escaped as \uXXXX, plus "..." and NUL. */
#define CSAF_QUOTE_BUF (CSAF_QUOTE_CHARS * 6 + 4)
/*
 * s as one printable line, without quotes: at most maxchars characters
 * (then "..."), quote, backslash and unsafe characters escaped, invalid
 * UTF-8 shown as \xNN.  out holds CSAF_QUOTE_BUF bytes, maxchars <=
 * CSAF_QUOTE_CHARS.  Returns out (csaf.c).
 */
const char *csaf_quote_n(char out[CSAF_QUOTE_BUF], const char *s, size_t maxchars);

/*
 * The CSAF 2.0 JSON schema (strict form) over a parsed document
 * (csaf_schema.c).  Returns 0, -EINVAL with "PATH: schema: RULE" in err,
 * or -ENOMEM.  The schema is compiled on the first call, once per process
 * (thread-safe).
 */
int csaf_schema_check(const struct cJSON *root, char *err, size_t errlen);
/* 0 when the embedded schema compiles, else -errno and why in err. */
int csaf_schema_ready(char *err, size_t errlen);

/*
 * The mandatory tests of CSAF 2.0 section 6.1 that apply (csaf_mandatory.c),
 * over a document the schema accepted.  Returns 0, -EINVAL with
 * "PATH: 6.1.N: WHY" in err, or -ENOMEM.
 */
int csaf_mandatory_check(const struct cJSON *root, char *err, size_t errlen);

/* "a.b[2].c" from a path of member items (keys[i]->string) and indices
 * (keys[i] == NULL: idx[i]); "top-level value" when empty. */
void csaf_path_render(const struct cJSON *const *keys, const size_t *idx, size_t depth,
		      char *out, size_t outlen);

static inline int csaf_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ---- shared by the mandatory tests (csaf_mandatory.c, csaf_mandatory_doc.c) ---- */

#include <cjson/cJSON.h>

struct id_ref;

/* One run of the mandatory tests over a schema-valid document. */
struct csaf_mt {
	const cJSON *root, *document, *tracking, *product_tree, *vulns;
	struct id_ref *pids; /* product ids defined, sorted */
	size_t npids, cap;
	char *err;
	size_t errlen;
};

/* cJSON_ArrayForEach that accepts an absent (NULL) array */
#define EACH(c, arr) for ((c) = csaf_mt_child(arr); (c); (c) = (c)->next)

static inline const cJSON *csaf_mt_child(const cJSON *arr)
{
	return arr ? arr->child : NULL;
}

static inline const cJSON *get(const cJSON *o, const char *k)
{
	return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* Member k of o if it is a string, else NULL. */
static inline const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return v && cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An id quoted for a message (buf: CSAF_QUOTE_BUF bytes). */
static inline const char *q(char *buf, const char *s)
{
	return csaf_quote_n(buf, s, 40);
}

/* Write "PATH: TEST: WHY" into m->err (fmt gives "PATH: WHY"); returns 0,
 * the failing result of a test. */
int csaf_mt_fail(struct csaf_mt *m, const char *test, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The product_ids of product group gid, or NULL. */
const cJSON *csaf_mt_group_products(struct csaf_mt *m, const char *gid);
/* 1 when the array arr holds the string s. */
int csaf_mt_in_strings(const cJSON *arr, const char *s);
/* The document-level tests (csaf_mandatory_doc.c): 6.1.14 to 6.1.22, 6.1.26
 * to 6.1.28, 6.1.30.  1 passes, 0 fails (message written), -ENOMEM. */
int csaf_mt_document(struct csaf_mt *m);
/* fn over each cvss_v2 (version 2) and each cvss_v3 of version 3.0 or 3.1
 * (30, 31) of every score; stops at the first result other than 1
 * (csaf_mandatory.c). */
typedef int csaf_cvss_fn(struct csaf_mt *m, const cJSON *cvss, int version, size_t vi,
			 size_t si, const char *which);
int csaf_mt_each_cvss(struct csaf_mt *m, csaf_cvss_fn *fn);
/* 6.1.9, the scores computed from each CVSS vector (csaf_cvss.c).  1, 0 or -ENOMEM. */
int csaf_mt_cvss_scores(struct csaf_mt *m);
/* The base, temporal and environmental scores of a CVSS vector string
 * (version 2, 30 or 31) into out, as the reference calculators compute them;
 * 0 when the reference does not compute them (the test does not apply). */
int csaf_cvss_check(const char *vector, int version, double out[3]);

#endif
