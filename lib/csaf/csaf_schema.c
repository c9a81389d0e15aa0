/*
 * csaf_schema.c - the CSAF 2.0 JSON schema, evaluated on a cJSON tree.
 *
 * The schema (the official one in its strict form, with the FIRST CVSS
 * schemas it references) is embedded by scripts/embed-schema.py.  The first
 * call compiles it, once per process, into a tree of struct sn: one node per
 * schema object, $ref resolved to the node it names, properties sorted for
 * binary search, every pattern compiled once by PCRE2 (JIT where the
 * platform has it).  Evaluation then walks the document once against that
 * tree; nothing is parsed or compiled per document.
 *
 * Keywords: type, enum, const, required, properties, additionalProperties
 * (false or a schema), items (one schema), minItems, maxItems, uniqueItems,
 * minLength, maxLength (in code points), pattern, format (date-time and uri
 * as ajv-formats checks them), minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, minProperties, maxProperties, $ref, allOf, anyOf,
 * oneOf, not.  A keyword the compiler does not know makes compilation fail,
 * so a schema update cannot silently weaken the check.
 *
 * Bounded work: each document node is checked against the schema nodes that
 * apply to it (oneOf/anyOf branches at most the schema's fan-out, 2 in
 * CSAF), uniqueItems sorts by a structural hash (O(n log n)), and PCRE2
 * runs under a match limit.  The first failure is reported as
 * "PATH: schema: RULE".
 *
 * Sections: the compiled tree; compilation; formats; evaluation.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "csaf.h"
#include "csaf_internal.h"

extern const char csaf_schema_json[];
extern const size_t csaf_schema_json_len;

/* ---- the compiled tree ------------------------------------------------------------------ */

enum { T_NULL = 1, T_BOOL = 2, T_INT = 4, T_NUM = 8, T_STR = 16, T_ARR = 32, T_OBJ = 64 };
enum { F_NONE, F_DATETIME, F_URI };

struct sn;
struct sn_prop {
	const char *name;
	struct sn *schema;
};

/* One schema object.  Limits are -1 when absent. */
struct sn {
	const cJSON *src;        /* the schema object (the embedded tree lives forever) */
	unsigned types;          /* T_* mask, 0: any */
	int format;
	int unique;
	int no_additional;       /* additionalProperties: false */
	long min_len, max_len, min_items, max_items, min_props, max_props;
	int has_min, has_max, has_xmin, has_xmax;
	double min, max, xmin, xmax;
	pcre2_code *re;
	const char *pattern;     /* as written, for the message */
	const cJSON *enumv, *constv;
	struct sn_prop *props;
	size_t nprops;
	const char **required;
	size_t nrequired;
	struct sn *additional, *items, *ref, *not_;
	struct sn **all_of, **any_of, **one_of;
	size_t nall, nany, none;
};

static struct {
	cJSON *doc;              /* the embedded JSON, parsed */
	const cJSON *schemas;    /* URL -> schema */
	struct sn *root;
	struct sn **nodes;       /* every node, for the memo */
	size_t nnodes, cap;
	pcre2_match_context *mctx;
	pcre2_code *uri;         /* the format "uri" */
	int err;                 /* compilation result, 0 or -errno */
	char why[200];
} g;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* ---- compilation ------------------------------------------------------------------------ */

static struct sn *compile(const cJSON *s, const cJSON *base);

static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g.why, sizeof(g.why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int prop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sn_prop *)a)->name, ((const struct sn_prop *)b)->name);
}

/* Resolve a $ref: "#/a/b" inside base, or an absolute URL (its "#..." after). */
static const cJSON *resolve(const char *ref, const cJSON **io_base)
{
	const cJSON *node = *io_base;
	const char *frag = strchr(ref, '#');
	if (ref[0] != '#') {
		char url[256];
		size_t n = frag ? (size_t)(frag - ref) : strlen(ref);
		if (n >= sizeof(url))
			return NULL;
		memcpy(url, ref, n);
		url[n] = '\0';
		node = cJSON_GetObjectItemCaseSensitive(g.schemas, url);
		if (!node)
			return NULL;
		*io_base = node;
	}
	if (!frag || !frag[1])
		return node;
	if (frag[1] != '/')
		return NULL;
	for (const char *p = frag + 2; node && *p;) {
		char key[128];
		size_t n = strcspn(p, "/");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		node = cJSON_GetObjectItemCaseSensitive(node, key);
		p += n + (p[n] == '/');
	}
	return node;
}

static int compile_list(const cJSON *arr, const cJSON *base, struct sn ***ret, size_t *ret_n)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	const cJSON *c;
	if (!cJSON_IsArray(arr) || n == 0)
		return fail("allOf/anyOf/oneOf: expected a non-empty array");
	if (!(*ret = calloc(n, sizeof(**ret))))
		return -ENOMEM;
	cJSON_ArrayForEach(c, arr)
		if (!((*ret)[i++] = compile(c, base)))
			return g.err ? g.err : -EINVAL;
	*ret_n = n;
	return 0;
}

static long limit(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9 ? (long)v->valuedouble
										: -2;
}

static unsigned type_bit(const char *t)
{
	static const char *const names[] = { "null", "boolean", "integer", "number",
					     "string", "array", "object" };
	for (unsigned i = 0; i < 7; i++)
		if (!strcmp(t, names[i]))
			return 1u << i;
	return 0;
}

/* One keyword of s into n.  Returns 0 or -errno with g.why set. */
static int compile_kw(struct sn *n, const cJSON *k, const cJSON *base)
{
	const char *key = k->string;
	const cJSON *c;
	size_t i = 0;
	int r;

	if (!strcmp(key, "type")) {
		if (cJSON_IsString(k))
			n->types = type_bit(k->valuestring);
		else if (cJSON_IsArray(k))
			cJSON_ArrayForEach(c, k)
				n->types |= cJSON_IsString(c) ? type_bit(c->valuestring) : 0;
		if (!n->types)
			return fail("type: unknown");
		if (n->types & T_NUM)
			n->types |= T_INT;
	} else if (!strcmp(key, "enum")) {
		n->enumv = k;
	} else if (!strcmp(key, "const")) {
		n->constv = k;
	} else if (!strcmp(key, "required")) {
		n->nrequired = (size_t)cJSON_GetArraySize(k);
		if (!(n->required = calloc(n->nrequired + 1, sizeof(char *))))
			return -ENOMEM;
		cJSON_ArrayForEach(c, k) {
			if (!cJSON_IsString(c))
				return fail("required: not a string");
			n->required[i++] = c->valuestring;
		}
	} else if (!strcmp(key, "properties")) {
		n->nprops = (size_t)cJSON_GetArraySize(k);
		if (!(n->props = calloc(n->nprops + 1, sizeof(*n->props))))
			return -ENOMEM;
		cJSON_ArrayForEach(c, k) {
			n->props[i].name = c->string;
			if (!(n->props[i++].schema = compile(c, base)))
				return g.err ? g.err : -EINVAL;
		}
		qsort(n->props, n->nprops, sizeof(*n->props), prop_cmp);
	} else if (!strcmp(key, "additionalProperties")) {
		if (cJSON_IsFalse(k))
			n->no_additional = 1;
		else if (!cJSON_IsTrue(k) && !(n->additional = compile(k, base)))
			return g.err ? g.err : -EINVAL;
	} else if (!strcmp(key, "items")) {
		if (!cJSON_IsObject(k))
			return fail("items: only one schema for all items is supported");
		if (!(n->items = compile(k, base)))
			return g.err ? g.err : -EINVAL;
	} else if (!strcmp(key, "minItems")) {
		n->min_items = limit(k);
	} else if (!strcmp(key, "maxItems")) {
		n->max_items = limit(k);
	} else if (!strcmp(key, "minLength")) {
		n->min_len = limit(k);
	} else if (!strcmp(key, "maxLength")) {
		n->max_len = limit(k);
	} else if (!strcmp(key, "minProperties")) {
		n->min_props = limit(k);
	} else if (!strcmp(key, "maxProperties")) {
		n->max_props = limit(k);
	} else if (!strcmp(key, "uniqueItems")) {
		n->unique = cJSON_IsTrue(k);
	} else if (!strcmp(key, "minimum") || !strcmp(key, "maximum") ||
		   !strcmp(key, "exclusiveMinimum") || !strcmp(key, "exclusiveMaximum")) {
		if (!cJSON_IsNumber(k))
			return fail("%s: not a number", key);
		if (key[0] == 'm' && key[1] == 'i')
			n->has_min = 1, n->min = k->valuedouble;
		else if (key[0] == 'm')
			n->has_max = 1, n->max = k->valuedouble;
		else if (key[9] == 'i')
			n->has_xmin = 1, n->xmin = k->valuedouble;
		else
			n->has_xmax = 1, n->xmax = k->valuedouble;
	} else if (!strcmp(key, "pattern")) {
		int code;
		PCRE2_SIZE off;
		n->pattern = k->valuestring;
		n->re = pcre2_compile((PCRE2_SPTR)k->valuestring, PCRE2_ZERO_TERMINATED,
				      PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
		if (!n->re)
			return fail("pattern at offset %zu: PCRE2 error %d", (size_t)off, code);
		(void)pcre2_jit_compile(n->re, PCRE2_JIT_COMPLETE); /* interpreted without JIT */
	} else if (!strcmp(key, "format")) {
		if (!strcmp(k->valuestring, "date-time"))
			n->format = F_DATETIME;
		else if (!strcmp(k->valuestring, "uri"))
			n->format = F_URI;
		else
			return fail("format '%s' is not supported", k->valuestring);
	} else if (!strcmp(key, "$ref")) {
		const cJSON *b = base, *t = resolve(k->valuestring, &b);
		if (!t)
			return fail("$ref '%s' does not resolve", k->valuestring);
		if (!(n->ref = compile(t, b)))
			return g.err ? g.err : -EINVAL;
	} else if (!strcmp(key, "allOf")) {
		if ((r = compile_list(k, base, &n->all_of, &n->nall)))
			return r;
	} else if (!strcmp(key, "anyOf")) {
		if ((r = compile_list(k, base, &n->any_of, &n->nany)))
			return r;
	} else if (!strcmp(key, "oneOf")) {
		if ((r = compile_list(k, base, &n->one_of, &n->none)))
			return r;
	} else if (!strcmp(key, "not")) {
		if (!(n->not_ = compile(k, base)))
			return g.err ? g.err : -EINVAL;
	} else if (strcmp(key, "$schema") && strcmp(key, "$id") && strcmp(key, "id") &&
		   strcmp(key, "$defs") && strcmp(key, "definitions")) {
		return fail("keyword '%s' is not supported", key);
	}
	if (n->min_len == -2 || n->max_len == -2 || n->min_items == -2 || n->max_items == -2 ||
	    n->min_props == -2 || n->max_props == -2)
		return fail("%s: not a count", key);
	return 0;
}

/* The node of schema object s (compiled at most once: the memo also ends
 * the recursion of self-referencing definitions).  NULL on failure, with
 * g.err/g.why set. */
static struct sn *compile(const cJSON *s, const cJSON *base)
{
	const cJSON *k;
	struct sn *n;
	if (!cJSON_IsObject(s)) {
		g.err = fail("a schema is not an object");
		return NULL;
	}
	for (size_t i = 0; i < g.nnodes; i++)
		if (g.nodes[i]->src == s)
			return g.nodes[i];
	if (g.nnodes == g.cap) {
		size_t cap = g.cap ? 2 * g.cap : 256;
		struct sn **nn = realloc(g.nodes, cap * sizeof(*nn));
		if (!nn) {
			g.err = -ENOMEM;
			return NULL;
		}
		g.nodes = nn;
		g.cap = cap;
	}
	if (!(n = calloc(1, sizeof(*n)))) {
		g.err = -ENOMEM;
		return NULL;
	}
	g.nodes[g.nnodes++] = n;
	n->src = s;
	n->min_len = n->max_len = n->min_items = n->max_items = n->min_props = n->max_props = -1;
	cJSON_ArrayForEach(k, s) {
		int r = compile_kw(n, k, base);
		if (r) {
			g.err = r;
			return NULL;
		}
	}
	return n;
}

static const char uri_pattern[] =
	"^[a-z][a-z0-9+.-]*:"
	"(?://(?:(?:[a-z0-9._~!$&'()*+,;=:-]|%[0-9a-f]{2})*@)?"
	"(?:\\[(?:[0-9a-f:.]+|v[0-9a-f]+\\.[a-z0-9._~!$&'()*+,;=:-]+)\\]"
	"|(?:[a-z0-9._~!$&'()*+,;=-]|%[0-9a-f]{2})*)"
	"(?::[0-9]*)?(?:/(?:[a-z0-9._~!$&'()*+,;=:@-]|%[0-9a-f]{2})*)*"
	"|/(?:(?:[a-z0-9._~!$&'()*+,;=:@-]|%[0-9a-f]{2})+"
	"(?:/(?:[a-z0-9._~!$&'()*+,;=:@-]|%[0-9a-f]{2})*)*)?"
	"|(?:[a-z0-9._~!$&'()*+,;=:@-]|%[0-9a-f]{2})+"
	"(?:/(?:[a-z0-9._~!$&'()*+,;=:@-]|%[0-9a-f]{2})*)*"
	"|)"
	"(?:\\?(?:[a-z0-9._~!$&'()*+,;=:@/?-]|%[0-9a-f]{2})*)?"
	"(?:#(?:[a-z0-9._~!$&'()*+,;=:@/?-]|%[0-9a-f]{2})*)?$";

static void compile_once(void)
{
	const cJSON *url;
	g.doc = cJSON_ParseWithLength(csaf_schema_json, csaf_schema_json_len);
	if (!g.doc) {
		g.err = fail("the embedded schema is not JSON");
		return;
	}
	g.schemas = cJSON_GetObjectItemCaseSensitive(g.doc, "schemas");
	url = cJSON_GetObjectItemCaseSensitive(g.doc, "root");
	const cJSON *root = cJSON_IsString(url) ? cJSON_GetObjectItemCaseSensitive(g.schemas,
										    url->valuestring)
						: NULL;
	if (!root) {
		g.err = fail("the embedded schema has no root");
		return;
	}
	if (!(g.mctx = pcre2_match_context_create(NULL))) {
		g.err = -ENOMEM;
		return;
	}
	pcre2_set_match_limit(g.mctx, 1000000);
	pcre2_set_depth_limit(g.mctx, 10000);
	int code;
	PCRE2_SIZE off;
	if (!(g.uri = pcre2_compile((PCRE2_SPTR)uri_pattern, PCRE2_ZERO_TERMINATED,
				    PCRE2_CASELESS | PCRE2_DOLLAR_ENDONLY, &code, &off, NULL))) {
		g.err = fail("the uri pattern does not compile (PCRE2 error %d)", code);
		return;
	}
	(void)pcre2_jit_compile(g.uri, PCRE2_JIT_COMPLETE);
	g.root = compile(root, root);
}

/* ---- formats ---------------------------------------------------------------------------- */

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!csaf_is_digit(s[i]))
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* ECMAScript white space and line terminators at p: their byte length, else 0. */
static int ecma_space(const unsigned char *p, size_t n)
{
	uint32_t cp;
	int len;
	if (*p < 0x80)
		return (*p == ' ' || (*p >= 0x09 && *p <= 0x0d)) ? 1 : 0;
	if ((len = csaf_utf8_next(p, n, &cp)) == 0)
		return 0;
	return (cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
		cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff)
		       ? len
		       : 0;
}

/* RFC 3339 date-time as ajv-formats' full mode accepts it: the string
 * splits at 't', 'T' or white space into exactly a date and a time, the
 * date exists, the time has a zone, and 60 seconds only at 23:59 UTC. */
static int fmt_datetime(const char *s)
{
	static const int days[] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t n = strlen(s), sep = n, dlen;
	int seps = 0, w;
	for (size_t i = 0; i < n; i += w ? (size_t)w : 1) {
		w = (s[i] == 't' || s[i] == 'T') ? 1 : ecma_space((const unsigned char *)s + i, n - i);
		if (w) {
			seps++;
			sep = i;
		}
	}
	if (seps != 1)
		return 0;
	dlen = sep;
	if (dlen != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2))
		return 0;
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > (mo == 2 && leap ? 29 : days[mo]))
		return 0;
	const char *t = s + sep + (s[sep] == 't' || s[sep] == 'T' ? 1 : ecma_space(
		(const unsigned char *)s + sep, n - sep));
	if (!digits(t, 2) || t[2] != ':' || !digits(t + 3, 2) || t[5] != ':' || !digits(t + 6, 2))
		return 0;
	int hr = num(t, 2), mi = num(t + 3, 2), sec = num(t + 6, 2);
	const char *z = t + 8;
	if (*z == '.') {
		if (!csaf_is_digit(z[1]))
			return 0;
		for (z++; csaf_is_digit(*z); z++)
			;
	}
	int sign = 1, tzh = 0, tzm = 0;
	if ((*z == 'z' || *z == 'Z') && !z[1]) {
		/* UTC */
	} else if ((*z == '+' || *z == '-') && digits(z + 1, 2)) {
		sign = *z == '-' ? -1 : 1;
		tzh = num(z + 1, 2);
		const char *m = z + 3 + (z[3] == ':');
		if (*m) {
			if (!digits(m, 2) || m[2])
				return 0;
			tzm = num(m, 2);
		} else if (z[3] == ':') {
			return 0;
		}
	} else {
		return 0;
	}
	if (tzh > 23 || tzm > 59)
		return 0;
	if (hr <= 23 && mi <= 59 && sec < 60)
		return 1;
	int umin = mi - tzm * sign, uhr = hr - tzh * sign - (umin < 0 ? 1 : 0);
	return (uhr == 23 || uhr == -1) && (umin == 59 || umin == -1) && sec < 61;
}

/* An RFC 3986 URI (scheme ":" hier-part, optional query and fragment, no
 * character outside the RFC's sets), which also holds a '/' or a ':'. */
static int fmt_uri(const char *s, pcre2_match_data *md)
{
	if (!g.uri || !strpbrk(s, "/:"))
		return 0;
	return pcre2_match(g.uri, (PCRE2_SPTR)s, strlen(s), 0, 0, md, g.mctx) >= 0;
}

/* ---- evaluation ------------------------------------------------------------------------- */

/* One evaluation: the path to the current node (keys or indices, rendered
 * only for the message), the match data, and whether failures are reported
 * (not inside oneOf/anyOf/not, where a failing branch is no error). */
struct ev {
	const cJSON *path[CSAF_MAX_DEPTH + 2];
	size_t idx[CSAF_MAX_DEPTH + 2];
	size_t depth;
	int quiet;
	pcre2_match_data *md;
	char *err;
	size_t errlen;
	int reported;
};

void csaf_path_render(const cJSON *const *keys, const size_t *idx, size_t depth, char *out,
		      size_t outlen)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < depth && len + 1 < outlen; i++) {
		int n;
		if (keys[i]) {
			char q[CSAF_QUOTE_BUF];
			csaf_quote_n(q, keys[i]->string, 40);
			n = snprintf(out + len, outlen - len, "%s%s", len ? "." : "", q);
		} else {
			n = snprintf(out + len, outlen - len, "[%zu]", idx[i]);
		}
		if (n < 0 || (size_t)n >= outlen - len)
			break;
		len += (size_t)n;
	}
	if (!len)
		snprintf(out, outlen, "top-level value");
}

static int report(struct ev *e, const char *fmt, ...)
{
	char path[256], msg[200];
	va_list ap;
	if (e->quiet || e->reported)
		return 0;
	e->reported = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	csaf_path_render(e->path, e->idx, e->depth, path, sizeof(path));
	csaf_errf(e->err, e->errlen, "%s: schema: %s", path, msg);
	return 0;
}

static size_t codepoints(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static unsigned json_type(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return T_NULL;
	if (cJSON_IsBool(v))
		return T_BOOL;
	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble)
			       ? T_INT | T_NUM
			       : T_NUM;
	if (cJSON_IsString(v))
		return T_STR;
	if (cJSON_IsArray(v))
		return T_ARR;
	return T_OBJ;
}

/* A structural hash: equal JSON values hash alike (object members in any order). */
static uint64_t jhash(const cJSON *v)
{
	uint64_t h = 1469598103934665603ull ^ json_type(v);
	const cJSON *c;
	if (cJSON_IsString(v)) {
		for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble == 0 ? 0 : v->valuedouble;
		uint64_t b;
		memcpy(&b, &d, sizeof(b));
		h = (h ^ b) * 1099511628211ull;
	} else if (cJSON_IsBool(v)) {
		h ^= cJSON_IsTrue(v) ? 0x55 : 0xaa;
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(c, v)
			h = (h ^ jhash(c)) * 1099511628211ull;
	} else if (cJSON_IsObject(v)) {
		uint64_t sum = 0;
		cJSON_ArrayForEach(c, v) {
			uint64_t k = 1469598103934665603ull;
			for (const unsigned char *p = (const unsigned char *)c->string; *p; p++)
				k = (k ^ *p) * 1099511628211ull;
			sum += (k ^ jhash(c)) * 0x9e3779b97f4a7c15ull;
		}
		h ^= sum;
	}
	return h;
}

struct hitem {
	uint64_t h;
	const cJSON *v;
	size_t i;
};

static int hitem_cmp(const void *a, const void *b)
{
	const struct hitem *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* 0 when all items differ, else 1 with the two indices; -ENOMEM. */
static int find_duplicate(const cJSON *arr, size_t n, size_t *ret_a, size_t *ret_b)
{
	struct hitem *h = malloc((n ? n : 1) * sizeof(*h));
	const cJSON *c;
	size_t i = 0;
	int found = 0;
	if (!h)
		return -ENOMEM;
	cJSON_ArrayForEach(c, arr) {
		h[i].h = jhash(c);
		h[i].v = c;
		h[i].i = i;
		i++;
	}
	qsort(h, n, sizeof(*h), hitem_cmp);
	for (i = 0; i + 1 < n && !found; i++)
		for (size_t j = i + 1; j < n && h[j].h == h[i].h; j++)
			if (cJSON_Compare(h[i].v, h[j].v, 1)) {
				*ret_a = h[i].i;
				*ret_b = h[j].i;
				found = 1;
				break;
			}
	free(h);
	return found;
}

static const char *type_names(unsigned t, char *buf, size_t len)
{
	static const char *const names[] = { "null", "boolean", "integer", "number",
					     "string", "array", "object" };
	size_t o = 0;
	buf[0] = '\0';
	if (t & T_NUM)
		t &= ~(unsigned)T_INT;
	for (unsigned i = 0; i < 7; i++)
		if (t & (1u << i)) {
			int n = snprintf(buf + o, len - o, "%s%s", o ? " or " : "", names[i]);
			if (n > 0 && (size_t)n < len - o)
				o += (size_t)n;
		}
	return buf;
}

static int eval(struct ev *e, const struct sn *n, const cJSON *v);

/* Evaluate v against n without reporting; 1 if valid, 0 if not, <0 error. */
static int eval_quiet(struct ev *e, const struct sn *n, const cJSON *v)
{
	int q = e->quiet, r;
	e->quiet = 1;
	r = eval(e, n, v);
	e->quiet = q;
	return r;
}

static int push(struct ev *e, const cJSON *key, size_t idx)
{
	if (e->depth >= sizeof(e->path) / sizeof(e->path[0]))
		return 0;
	e->path[e->depth] = key;
	e->idx[e->depth] = idx;
	e->depth++;
	return 1;
}

static int eval_object(struct ev *e, const struct sn *n, const cJSON *v)
{
	const cJSON *c;
	size_t count = 0;
	int r;
	for (size_t i = 0; i < n->nrequired; i++)
		if (!cJSON_GetObjectItemCaseSensitive(v, n->required[i]))
			return report(e, "required property '%s' is missing", n->required[i]);
	cJSON_ArrayForEach(c, v) {
		struct sn_prop key = { c->string, NULL }, *p;
		const struct sn *sub = NULL;
		count++;
		p = n->nprops ? bsearch(&key, n->props, n->nprops, sizeof(*p), prop_cmp) : NULL;
		if (p)
			sub = p->schema;
		else if (n->no_additional) {
			char q[CSAF_QUOTE_BUF];
			return report(e, "property '%s' is not allowed", csaf_quote_n(q, c->string, 40));
		} else
			sub = n->additional;
		if (sub) {
			int pushed = push(e, c, 0);
			r = eval(e, sub, c);
			e->depth -= (size_t)pushed;
			if (r <= 0)
				return r;
		}
	}
	if (n->min_props >= 0 && count < (size_t)n->min_props)
		return report(e, "fewer than %ld properties", n->min_props);
	if (n->max_props >= 0 && count > (size_t)n->max_props)
		return report(e, "more than %ld properties", n->max_props);
	return 1;
}

static int eval_array(struct ev *e, const struct sn *n, const cJSON *v)
{
	size_t count = (size_t)cJSON_GetArraySize(v), i = 0, a, b;
	const cJSON *c;
	int r;
	if (n->min_items >= 0 && count < (size_t)n->min_items)
		return report(e, "fewer than %ld items", n->min_items);
	if (n->max_items >= 0 && count > (size_t)n->max_items)
		return report(e, "more than %ld items", n->max_items);
	if (n->items)
		cJSON_ArrayForEach(c, v) {
			int pushed = push(e, NULL, i++);
			r = eval(e, n->items, c);
			e->depth -= (size_t)pushed;
			if (r <= 0)
				return r;
		}
	if (n->unique && count > 1) {
		if ((r = find_duplicate(v, count, &a, &b)) < 0)
			return r;
		if (r)
			return report(e, "items %zu and %zu are equal (uniqueItems)", a, b);
	}
	return 1;
}

static int eval_string(struct ev *e, const struct sn *n, const cJSON *v)
{
	const char *s = v->valuestring;
	if (n->min_len >= 0 || n->max_len >= 0) {
		size_t len = codepoints(s);
		if (n->min_len >= 0 && len < (size_t)n->min_len)
			return report(e, "shorter than %ld characters", n->min_len);
		if (n->max_len >= 0 && len > (size_t)n->max_len)
			return report(e, "longer than %ld characters", n->max_len);
	}
	if (n->re) {
		int rc = pcre2_match(n->re, (PCRE2_SPTR)s, strlen(s), 0, 0, e->md, g.mctx);
		if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		    rc == PCRE2_ERROR_JIT_STACKLIMIT)
			return report(e, "pattern '%.60s' is too costly to evaluate on this value",
				      n->pattern);
		if (rc < 0)
			return report(e, "does not match the pattern '%.80s'", n->pattern);
	}
	if (n->format == F_DATETIME && !fmt_datetime(s))
		return report(e, "not a date-time (RFC 3339, with a time zone)");
	if (n->format == F_URI && !fmt_uri(s, e->md))
		return report(e, "not a URI (RFC 3986)");
	return 1;
}

/* 1 valid, 0 invalid (reported unless quiet), <0 -errno. */
static int eval(struct ev *e, const struct sn *n, const cJSON *v)
{
	unsigned t = json_type(v);
	int r;
	char buf[64];

	if (n->types && !(n->types & t))
		return report(e, "expected %s, got %s", type_names(n->types, buf, sizeof(buf)),
			      type_names(t & T_INT ? T_INT : t, buf + 32, 32));
	if (n->constv && !cJSON_Compare(n->constv, v, 1))
		return report(e, "not the required constant value");
	if (n->enumv) {
		const cJSON *c;
		int in = 0;
		cJSON_ArrayForEach(c, n->enumv)
			if ((in = cJSON_Compare(c, v, 1)))
				break;
		if (!in)
			return report(e, "not one of the allowed values (enum)");
	}
	if (t & T_NUM) {
		double d = v->valuedouble;
		if ((n->has_min && d < n->min) || (n->has_xmin && d <= n->xmin))
			return report(e, "%g is below the minimum", d);
		if ((n->has_max && d > n->max) || (n->has_xmax && d >= n->xmax))
			return report(e, "%g is above the maximum", d);
	}
	if (t == T_STR && (r = eval_string(e, n, v)) <= 0)
		return r;
	if (t == T_OBJ && (r = eval_object(e, n, v)) <= 0)
		return r;
	if (t == T_ARR && (r = eval_array(e, n, v)) <= 0)
		return r;
	if (n->ref && (r = eval(e, n->ref, v)) <= 0)
		return r;
	for (size_t i = 0; i < n->nall; i++)
		if ((r = eval(e, n->all_of[i], v)) <= 0)
			return r;
	if (n->nany) {
		int ok = 0;
		for (size_t i = 0; i < n->nany && !ok; i++)
			if ((ok = eval_quiet(e, n->any_of[i], v)) < 0)
				return ok;
		if (!ok)
			return report(e, "matches none of the %zu allowed schemas (anyOf)", n->nany);
	}
	if (n->none) {
		int matched = 0;
		for (size_t i = 0; i < n->none; i++) {
			if ((r = eval_quiet(e, n->one_of[i], v)) < 0)
				return r;
			matched += r;
		}
		if (matched != 1)
			return report(e, "matches %d of the %zu schemas, not exactly one (oneOf)",
				      matched, n->none);
	}
	if (n->not_) {
		if ((r = eval_quiet(e, n->not_, v)) < 0)
			return r;
		if (r)
			return report(e, "matches a schema it must not match (not)");
	}
	return 1;
}

int csaf_schema_ready(char *err, size_t errlen)
{
	pthread_once(&g_once, compile_once);
	if (g.err || !g.root) {
		csaf_errf(err, errlen, "the embedded CSAF schema does not compile: %s", g.why);
		return g.err ? g.err : -EINVAL;
	}
	return 0;
}

int csaf_schema_check(const cJSON *root, char *err, size_t errlen)
{
	struct ev e;
	int r;
	if ((r = csaf_schema_ready(err, errlen)))
		return r;
	memset(&e, 0, sizeof(e));
	e.err = err;
	e.errlen = errlen;
	if (!(e.md = pcre2_match_data_create(1, NULL))) {
		csaf_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = eval(&e, g.root, root);
	pcre2_match_data_free(e.md);
	if (r < 0) {
		csaf_errf(err, errlen, "out of memory");
		return r;
	}
	return r ? 0 : -EINVAL;
}
