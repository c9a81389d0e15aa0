/*
 * csaf.c - CSAF 2.0 documents: validation, file names, versions, TLP and
 * distribution metadata (.dist.json).
 *
 * Sections (file names, versions, TLP and status are in csaf_name.c):
 *   messages     one-line error text; values quoted, truncated and escaped
 *   UTF-8        a strict decoder shared by the scan, messages and names
 *   raw scan     size, NUL, UTF-8, control bytes and nesting depth, checked
 *                on the bytes before cJSON sees them
 *   tree checks  string lengths and duplicate keys over the parsed tree
 *   documents    csaf_parse()
 *   .dist.json   csaf_dist_parse()
 *
 * No state of our own: every function may be called from any thread.  One
 * caveat: on a parse failure cJSON itself stores the error position in a
 * global; we never read it (errors are located through the end pointer of
 * cJSON_ParseWithLengthOpts), so at worst two failing parses race on that
 * one write.
 */
#include "csaf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csaf_internal.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* messages                                                             */


void csaf_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Code points that must not reach a terminal or log line verbatim: C0 and
 * C1 controls, DEL, line/paragraph separators, bidi overrides, BOM. */
static int csaf_cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xfeff;
}

/*
 * Render s for use inside '...' in a message: at most maxchars characters
 * (then "..."), with quote, backslash and unsafe characters escaped, so the
 * result is one printable line whatever s holds (invalid UTF-8 included).
 * out must hold CSAF_QUOTE_BUF bytes and maxchars <= CSAF_QUOTE_CHARS.
 * Returns out.
 */
const char *csaf_quote_n(char out[CSAF_QUOTE_BUF], const char *s, size_t maxchars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, chars = 0;

	while (i < n) {
		char tmp[12];
		size_t tl, adv = 1;
		uint32_t cp = p[i];
		int k = 1;

		if (chars == maxchars) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (p[i] >= 0x80 && (k = csaf_utf8_next(p + i, n - i, &cp)) > 0)
			adv = (size_t)k;
		if (k == 0)
			snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]); /* invalid byte */
		else if (cp == '\n')
			snprintf(tmp, sizeof(tmp), "\\n");
		else if (cp == '\t')
			snprintf(tmp, sizeof(tmp), "\\t");
		else if (cp == '\r')
			snprintf(tmp, sizeof(tmp), "\\r");
		else if (cp == '\'' || cp == '\\')
			snprintf(tmp, sizeof(tmp), "\\%c", (char)cp);
		else if (cp < 0x80 && csaf_cp_unsafe(cp))
			snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)cp);
		else if (csaf_cp_unsafe(cp))
			snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)cp);
		else {
			memcpy(tmp, s + i, adv);
			tmp[adv] = '\0';
		}
		tl = strlen(tmp);
		if (o + tl + 4 > CSAF_QUOTE_BUF)
			break; /* cannot happen for maxchars <= CSAF_QUOTE_CHARS */
		memcpy(out + o, tmp, tl);
		o += tl;
		i += adv;
		chars++;
	}
	out[o] = '\0';
	return out;
}

static const char *csaf_quote(char out[CSAF_QUOTE_BUF], const char *s)
{
	return csaf_quote_n(out, s, CSAF_QUOTE_CHARS);
}

/* "an object", "a string", ... for "expected X, got Y" messages. */
static const char *csaf_type_name(const cJSON *j)
{
	if (cJSON_IsObject(j))
		return "an object";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "null";
	return "an unknown value";
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                                */

/*
 * Decode one UTF-8 sequence at p (n bytes available).  Returns its length
 * (1-4) and sets *ret_cp, or 0 for anything RFC 3629 forbids: stray
 * continuation bytes, truncated sequences, overlong forms, surrogates,
 * code points above U+10FFFF.
 */
int csaf_utf8_next(const unsigned char *p, size_t n, uint32_t *ret_cp)
{
	uint32_t cp;
	size_t need;
	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*ret_cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		cp = p[0] & 0x07;
	} else {
		return 0; /* continuation byte, C0/C1 (overlong), F5-FF */
	}
	if (n < need + 1)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return (int)need + 1;
}

/* ------------------------------------------------------------------ */
/* raw scan                                                             */

/* What the scan saw at the end of the input, to explain a parse error. */
struct csaf_scan_end {
	int in_string;
	size_t open; /* unclosed '{' / '[' */
};

/*
 * Check the raw bytes before parsing: length <= maxlen (else -E2BIG), no
 * NUL byte and no "\u0000" escape (either would cut a C string short, so
 * that what we check is not what a reader sees), strictly valid UTF-8, no
 * control bytes other than JSON whitespace, and nesting of at most
 * CSAF_MAX_DEPTH (-E2BIG).  Brackets inside strings do not count.  what
 * names the input in the size message.  Returns 0 and fills *ret_end, or
 * -EINVAL/-E2BIG with a message naming the byte offset.
 */
static int csaf_scan(const char *bytes, size_t len, size_t maxlen, const char *what,
		     struct csaf_scan_end *ret_end, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)bytes;
	size_t depth = 0, i = 0;
	int in_str = 0, escaped = 0;

	if (len > maxlen) {
		csaf_errf(err, errlen, "%s too large: %zu bytes (limit %zu)", what, len, maxlen);
		return -E2BIG;
	}
	while (i < len) {
		unsigned char c = p[i];
		if (c == 0) {
			csaf_errf(err, errlen, "NUL byte at byte offset %zu", i);
			return -EINVAL;
		}
		if (c >= 0x80) {
			uint32_t cp;
			int n = csaf_utf8_next(p + i, len - i, &cp);
			if (n == 0) {
				csaf_errf(err, errlen, "invalid UTF-8 at byte offset %zu (byte 0x%02x)",
					  i, c);
				return -EINVAL;
			}
			i += (size_t)n;
			escaped = 0;
			continue;
		}
		if (in_str) {
			if (escaped) {
				escaped = 0;
			} else if (c == '\\') {
				escaped = 1;
				if (len - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0) {
					csaf_errf(err, errlen,
						  "escaped NUL (\\u0000) at byte offset %zu", i);
					return -EINVAL;
				}
			} else if (c == '"') {
				in_str = 0;
			} else if (c < 0x20 || c == 0x7f) {
				csaf_errf(err, errlen,
					  "control character 0x%02x inside a string at byte offset %zu",
					  c, i);
				return -EINVAL;
			}
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > CSAF_MAX_DEPTH) {
				csaf_errf(err, errlen,
					  "nesting deeper than %d levels at byte offset %zu",
					  CSAF_MAX_DEPTH, i);
				return -E2BIG;
			}
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
		} else if ((c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') ||
			   c == 0x7f) {
			/* cJSON would skip these as whitespace; JSON does not */
			csaf_errf(err, errlen, "control character 0x%02x at byte offset %zu", c, i);
			return -EINVAL;
		}
		i++;
	}
	ret_end->in_string = in_str;
	ret_end->open = depth;
	return 0;
}

/*
 * Scan and parse bytes[0..len) as one JSON value with nothing but
 * whitespace after it.  Returns 0 and the tree in *ret_root (the caller
 * owns it: cJSON_Delete), or -EINVAL/-E2BIG/-ENOMEM with a message.
 */
static int csaf_json_parse(const char *bytes, size_t len, size_t maxlen, const char *what,
			   cJSON **ret_root, char *err, size_t errlen)
{
	struct csaf_scan_end end_state = { 0, 0 };
	const char *end = NULL;
	cJSON *root;
	int r;

	if (!bytes && len > 0) {
		csaf_errf(err, errlen, "no input");
		return -EINVAL;
	}
	if ((r = csaf_scan(bytes, len, maxlen, what, &end_state, err, errlen)))
		return r;
	if (len == 0) {
		csaf_errf(err, errlen, "empty input");
		return -EINVAL;
	}
	/* The end pointer, not cJSON_GetErrorPtr() (a global), locates errors.
	 * require_null_terminated is 0: our input has no NUL after it. */
	root = cJSON_ParseWithLengthOpts(bytes, len, &end, 0);
	if (!root) {
		size_t off = end && end >= bytes && end <= bytes + len ? (size_t)(end - bytes) : 0;
		if (end_state.in_string)
			csaf_errf(err, errlen,
				  "truncated JSON: input ends inside a string (error at byte "
				  "offset %zu)",
				  off);
		else if (end_state.open)
			csaf_errf(err, errlen,
				  "truncated JSON: input ends with %zu unclosed object(s) or "
				  "array(s) (error at byte offset %zu)",
				  end_state.open, off);
		else
			csaf_errf(err, errlen, "invalid JSON at byte offset %zu", off);
		return -EINVAL;
	}
	size_t off = end && end >= bytes && end <= bytes + len ? (size_t)(end - bytes) : len;
	while (off < len && (bytes[off] == ' ' || bytes[off] == '\t' || bytes[off] == '\n' ||
			     bytes[off] == '\r'))
		off++;
	if (off != len) {
		csaf_errf(err, errlen, "unexpected data after the JSON value at byte offset %zu",
			  off);
		cJSON_Delete(root);
		return -EINVAL;
	}
	*ret_root = root;
	return 0;
}

/* ------------------------------------------------------------------ */
/* tree checks                                                          */

/* A JSON path being built while walking the tree, e.g. "document.notes[2]". */
struct csaf_path {
	char buf[256];
	size_t len;
};

/* Append ".key" (or "key" at the top) or "[i]"; truncates silently (the
 * path only serves messages).  Returns the previous length, for pop. */
static size_t csaf_path_push(struct csaf_path *pa, const char *key, size_t index)
{
	size_t old = pa->len, room = sizeof(pa->buf) - pa->len;
	char q[CSAF_QUOTE_BUF];
	int n;
	if (key)
		n = snprintf(pa->buf + pa->len, room, "%s%s", pa->len ? "." : "",
			     csaf_quote_n(q, key, 40));
	else
		n = snprintf(pa->buf + pa->len, room, "[%zu]", index);
	if (n < 0 || (size_t)n >= room)
		pa->len = sizeof(pa->buf) - 1;
	else
		pa->len += (size_t)n;
	return old;
}

static void csaf_path_pop(struct csaf_path *pa, size_t old)
{
	pa->len = old;
	pa->buf[old] = '\0';
}

static const char *csaf_path_str(const struct csaf_path *pa)
{
	return pa->len ? pa->buf : "top-level value";
}

static int csaf_strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Refuse an object with two members of the same name: cJSON would return
 * the first, other readers often the last, so the document would mean
 * different things to different tools.  Returns 0, -EINVAL or -ENOMEM.
 */
static int csaf_check_dup_keys(const cJSON *obj, const struct csaf_path *pa, char *err,
			       size_t errlen)
{
	const cJSON *c;
	const char **keys;
	size_t n = 0, i = 0;
	int r = 0;

	cJSON_ArrayForEach(c, obj)
		n++;
	if (n < 2)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys) {
		csaf_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cJSON_ArrayForEach(c, obj)
		keys[i++] = c->string ? c->string : "";
	qsort(keys, n, sizeof(*keys), csaf_strptr_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(keys[i - 1], keys[i]) == 0) {
			char q[CSAF_QUOTE_BUF];
			csaf_errf(err, errlen, "%s: duplicate key '%s'", csaf_path_str(pa),
				  csaf_quote(q, keys[i]));
			r = -EINVAL;
			break;
		}
	}
	free(keys);
	return r;
}

/*
 * Walk the tree: every string value and key at most CSAF_MAX_STRING bytes
 * (-E2BIG), no duplicate keys (-EINVAL).  Recursion is bounded by the depth
 * scan.  The message names the JSON path.
 */
static int csaf_walk(const cJSON *node, struct csaf_path *pa, char *err, size_t errlen)
{
	const cJSON *c;
	size_t idx = 0;
	int r;

	if (cJSON_IsString(node)) {
		size_t n = strlen(node->valuestring);
		if (n > CSAF_MAX_STRING) {
			csaf_errf(err, errlen, "%s: string of %zu bytes (limit %u)",
				  csaf_path_str(pa), n, CSAF_MAX_STRING);
			return -E2BIG;
		}
		return 0;
	}
	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return 0;
	if (cJSON_IsObject(node) && (r = csaf_check_dup_keys(node, pa, err, errlen)))
		return r;
	cJSON_ArrayForEach(c, node) {
		size_t old;
		if (cJSON_IsObject(node)) {
			size_t kn = c->string ? strlen(c->string) : 0;
			if (kn > CSAF_MAX_STRING) {
				csaf_errf(err, errlen, "%s: key of %zu bytes (limit %u)",
					  csaf_path_str(pa), kn, CSAF_MAX_STRING);
				return -E2BIG;
			}
			old = csaf_path_push(pa, c->string ? c->string : "", 0);
		} else {
			old = csaf_path_push(pa, NULL, idx);
		}
		r = csaf_walk(c, pa, err, errlen);
		csaf_path_pop(pa, old);
		if (r)
			return r;
		idx++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* documents                                                            */

/*
 * Member key of obj, which must exist and have one of the cJSON types in
 * want.  path is the member's full JSON path, for the message.  Returns 0
 * and *ret_item (borrowed from the tree), or -EINVAL.
 */
static int csaf_member(const cJSON *obj, const char *key, const char *path, int want,
		       const cJSON **ret_item, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it) {
		csaf_errf(err, errlen, "%s: missing", path);
		return -EINVAL;
	}
	if (!(it->type & 0xff & want)) {
		const char *exp = want == cJSON_Object  ? "an object"
				  : want == cJSON_Array ? "an array"
							: "a string";
		csaf_errf(err, errlen, "%s: expected %s, got %s", path, exp, csaf_type_name(it));
		return -EINVAL;
	}
	*ret_item = it;
	return 0;
}

/* A string member; with nonempty set, "" is refused.  Returns 0 and the
 * string (borrowed) or -EINVAL. */
static int csaf_string(const cJSON *obj, const char *key, const char *path, int nonempty,
		       const char **ret_s, char *err, size_t errlen)
{
	const cJSON *it;
	int r = csaf_member(obj, key, path, cJSON_String, &it, err, errlen);
	if (r)
		return r;
	if (nonempty && it->valuestring[0] == '\0') {
		csaf_errf(err, errlen, "%s: empty", path);
		return -EINVAL;
	}
	*ret_s = it->valuestring;
	return 0;
}

/* An RFC 3339 date-time member whose UTC instant lies in the years
 * 0001-9999.  Returns 0 and the time, or -EINVAL. */
static int csaf_date(const cJSON *obj, const char *key, const char *path, int64_t *ret_t,
		     const char **ret_s, char *err, size_t errlen)
{
	const char *s;
	char q[CSAF_QUOTE_BUF];
	int64_t t;
	int r = csaf_string(obj, key, path, 0, &s, err, errlen);
	if (r)
		return r;
	if (au_parse_rfc3339(s, &t)) {
		csaf_errf(err, errlen, "%s: not an RFC 3339 date-time: '%s'", path,
			  csaf_quote(q, s));
		return -EINVAL;
	}
	/* An offset can carry 0001-01-01 or 9999-12-31 across the range that
	 * the year folders and au_format_time() handle. */
	if (au_year(t) < 1 || au_year(t) > 9999) {
		csaf_errf(err, errlen, "%s: '%s' is outside the years 0001-9999 in UTC", path,
			  csaf_quote(q, s));
		return -EINVAL;
	}
	*ret_t = t;
	if (ret_s)
		*ret_s = s;
	return 0;
}

/* A version member (integer or semver, at most CSAF_MAX_ID_LEN bytes). */
static int csaf_version_member(const cJSON *obj, const char *key, const char *path,
			       const char **ret_s, char *err, size_t errlen)
{
	const char *s;
	char q[CSAF_QUOTE_BUF];
	int r = csaf_string(obj, key, path, 1, &s, err, errlen);
	if (r)
		return r;
	if (strlen(s) > CSAF_MAX_ID_LEN) {
		csaf_errf(err, errlen, "%s: %zu bytes (limit %d)", path, strlen(s),
			  CSAF_MAX_ID_LEN);
		return -E2BIG;
	}
	if (!csaf_version_valid(s)) {
		csaf_errf(err, errlen,
			  "%s: not an integer or semantic version: '%s'", path, csaf_quote(q, s));
		return -EINVAL;
	}
	*ret_s = s;
	return 0;
}

/* Index of s in the NULL-terminated list, or -1. */
static int csaf_lookup(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

/*
 * document.publisher: category from the CSAF 2.0 list, a non-empty name
 * and a namespace that looks like an absolute URI (scheme ':' rest).
 */
static int csaf_check_publisher(const cJSON *doc, const char **ret_name, char *err,
				size_t errlen)
{
	static const char *const cats[] = { "coordinator", "discoverer", "other",
					     "translator",  "user",       "vendor", NULL };
	const cJSON *pub;
	const char *cat, *name, *ns;
	char q[CSAF_QUOTE_BUF];
	size_t i = 0;
	int r;

	if ((r = csaf_member(doc, "publisher", "document.publisher", cJSON_Object, &pub, err,
			     errlen)) ||
	    (r = csaf_string(pub, "category", "document.publisher.category", 1, &cat, err,
			     errlen)))
		return r;
	if (csaf_lookup(cat, cats) < 0) {
		csaf_errf(err, errlen,
			  "document.publisher.category: unknown category '%s' (expected "
			  "coordinator, discoverer, other, translator, user or vendor)",
			  csaf_quote(q, cat));
		return -EINVAL;
	}
	if ((r = csaf_string(pub, "name", "document.publisher.name", 1, &name, err, errlen)) ||
	    (r = csaf_string(pub, "namespace", "document.publisher.namespace", 1, &ns, err,
			     errlen)))
		return r;
	if ((ns[0] >= 'a' && ns[0] <= 'z') || (ns[0] >= 'A' && ns[0] <= 'Z'))
		while ((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= 'A' && ns[i] <= 'Z') ||
		       csaf_is_digit(ns[i]) || ns[i] == '+' || ns[i] == '-' || ns[i] == '.')
			i++;
	if (i == 0 || ns[i] != ':' || ns[i + 1] == '\0') {
		csaf_errf(err, errlen, "document.publisher.namespace: not a URI: '%s'",
			  csaf_quote(q, ns));
		return -EINVAL;
	}
	*ret_name = name;
	return 0;
}

/*
 * document.tracking.id: non-empty, at most CSAF_MAX_ID_LEN bytes, no
 * control characters, no leading or trailing white space (the schema's
 * pattern), no bidi or line-separator characters (which would make a
 * listing lie about the id), and a section 5.1 file name that fits.  Fills ret_filename.
 */
static int csaf_check_id(const char *id, char ret_filename[CSAF_MAX_FILENAME + 1], char *err,
			 size_t errlen)
{
	const char *path = "document.tracking.id";
	const unsigned char *p = (const unsigned char *)id;
	size_t n = strlen(id), i = 0;
	char q[CSAF_QUOTE_BUF];
	int r;

	if (n == 0) {
		csaf_errf(err, errlen, "%s: empty", path);
		return -EINVAL;
	}
	if (n > CSAF_MAX_ID_LEN) {
		csaf_errf(err, errlen, "%s: %zu bytes (limit %d)", path, n, CSAF_MAX_ID_LEN);
		return -E2BIG;
	}
	while (i < n) {
		uint32_t cp;
		int k = csaf_utf8_next(p + i, n - i, &cp);
		if (k == 0) { /* cannot happen after the scan; stay safe */
			csaf_errf(err, errlen, "%s: invalid UTF-8", path);
			return -EINVAL;
		}
		if (csaf_cp_unsafe(cp)) {
			csaf_errf(err, errlen, "%s: control or formatting character U+%04X in '%s'",
				  path, (unsigned)cp, csaf_quote(q, id));
			return -EINVAL;
		}
		i += (size_t)k;
	}
	if (id[0] == ' ' || id[n - 1] == ' ') {
		csaf_errf(err, errlen, "%s: leading or trailing space in '%s'", path,
			  csaf_quote(q, id));
		return -EINVAL;
	}
	r = csaf_filename(id, ret_filename, CSAF_MAX_FILENAME + 1);
	if (r == -ENAMETOOLONG) {
		csaf_errf(err, errlen, "%s: its file name would exceed %d bytes: '%s'", path,
			  CSAF_MAX_FILENAME, csaf_quote(q, id));
		return -E2BIG;
	}
	if (r) {
		csaf_errf(err, errlen, "%s: no file name can be made from '%s'", path,
			  csaf_quote(q, id));
		return -EINVAL;
	}
	return 0;
}

/* Each revision_history entry: an object with date, number and summary. */
static int csaf_check_revisions(const cJSON *tracking, char *err, size_t errlen)
{
	const cJSON *rh, *e;
	size_t i = 0;
	int r;

	if ((r = csaf_member(tracking, "revision_history", "document.tracking.revision_history",
			     cJSON_Array, &rh, err, errlen)))
		return r;
	if (cJSON_GetArraySize(rh) == 0) {
		csaf_errf(err, errlen, "document.tracking.revision_history: empty");
		return -EINVAL;
	}
	cJSON_ArrayForEach(e, rh) {
		char p[128], pd[160], pn[160], ps[160];
		const char *s;
		int64_t t;
		snprintf(p, sizeof(p), "document.tracking.revision_history[%zu]", i);
		if (!cJSON_IsObject(e)) {
			csaf_errf(err, errlen, "%s: expected an object, got %s", p,
				  csaf_type_name(e));
			return -EINVAL;
		}
		snprintf(pd, sizeof(pd), "%s.date", p);
		snprintf(pn, sizeof(pn), "%s.number", p);
		snprintf(ps, sizeof(ps), "%s.summary", p);
		if ((r = csaf_date(e, "date", pd, &t, NULL, err, errlen)) ||
		    (r = csaf_version_member(e, "number", pn, &s, err, errlen)) ||
		    (r = csaf_string(e, "summary", ps, 1, &s, err, errlen)))
			return r;
		i++;
	}
	return 0;
}

/* document.distribution.tlp.label, if any: a CSAF 2.0 label (exact case). */
static int csaf_check_tlp(const cJSON *doc, enum csaf_tlp *ret_tlp, char *err, size_t errlen)
{
	static const char *const labels[] = { "WHITE", "GREEN", "AMBER", "RED", NULL };
	static const enum csaf_tlp values[] = { CSAF_TLP_CLEAR, CSAF_TLP_GREEN, CSAF_TLP_AMBER,
						CSAF_TLP_RED };
	const cJSON *dist, *tlp;
	const char *label;
	char q[CSAF_QUOTE_BUF];
	int r, i;

	if (!cJSON_GetObjectItemCaseSensitive(doc, "distribution")) {
		*ret_tlp = CSAF_TLP_NONE;
		return 0;
	}
	if ((r = csaf_member(doc, "distribution", "document.distribution", cJSON_Object, &dist,
			     err, errlen)))
		return r;
	if (!cJSON_GetObjectItemCaseSensitive(dist, "tlp")) {
		*ret_tlp = CSAF_TLP_NONE;
		return 0;
	}
	if ((r = csaf_member(dist, "tlp", "document.distribution.tlp", cJSON_Object, &tlp, err,
			     errlen)) ||
	    (r = csaf_string(tlp, "label", "document.distribution.tlp.label", 0, &label, err,
			     errlen)))
		return r;
	if ((i = csaf_lookup(label, labels)) < 0) {
		csaf_errf(err, errlen,
			  "document.distribution.tlp.label: unknown label '%s' (CSAF 2.0 labels "
			  "are WHITE, GREEN, AMBER and RED)",
			  csaf_quote(q, label));
		return -EINVAL;
	}
	*ret_tlp = values[i];
	return 0;
}

/* Borrowed values found by csaf_check_doc(), copied only at the end. */
struct csaf_found {
	const char *id, *version, *title, *publisher, *category;
	enum csaf_status status;
	enum csaf_tlp tlp;
	int64_t initial, current;
	char filename[CSAF_MAX_FILENAME + 1];
};

/* The required fields of SPEC.md section 1 over a parsed tree.  Fills *f
 * with pointers into root.  Returns 0, -EINVAL or -E2BIG. */
static int csaf_check_doc(const cJSON *root, struct csaf_found *f, char *err, size_t errlen)
{
	static const char *const statuses[] = { "draft", "interim", "final", NULL };
	const cJSON *doc, *tracking;
	const char *s, *init_s, *cur_s;
	char q[CSAF_QUOTE_BUF], q2[CSAF_QUOTE_BUF];
	int r, i;

	if (!cJSON_IsObject(root)) {
		csaf_errf(err, errlen, "top-level value: expected an object, got %s",
			  csaf_type_name(root));
		return -EINVAL;
	}
	if ((r = csaf_member(root, "document", "document", cJSON_Object, &doc, err, errlen)) ||
	    (r = csaf_string(doc, "category", "document.category", 1, &f->category, err,
			     errlen)) ||
	    (r = csaf_string(doc, "csaf_version", "document.csaf_version", 0, &s, err, errlen)))
		return r;
	if (strcmp(s, "2.0") != 0) {
		csaf_errf(err, errlen, "document.csaf_version: expected '2.0', got '%s'",
			  csaf_quote(q, s));
		return -EINVAL;
	}
	if ((r = csaf_check_publisher(doc, &f->publisher, err, errlen)) ||
	    (r = csaf_string(doc, "title", "document.title", 1, &f->title, err, errlen)))
		return r;
	if (strlen(f->title) > CSAF_MAX_TITLE_LEN) {
		csaf_errf(err, errlen, "document.title: %zu bytes (limit %d)", strlen(f->title),
			  CSAF_MAX_TITLE_LEN);
		return -E2BIG;
	}

	if ((r = csaf_member(doc, "tracking", "document.tracking", cJSON_Object, &tracking, err,
			     errlen)) ||
	    (r = csaf_string(tracking, "id", "document.tracking.id", 0, &f->id, err, errlen)) ||
	    (r = csaf_check_id(f->id, f->filename, err, errlen)) ||
	    (r = csaf_string(tracking, "status", "document.tracking.status", 0, &s, err, errlen)))
		return r;
	if ((i = csaf_lookup(s, statuses)) < 0) {
		csaf_errf(err, errlen,
			  "document.tracking.status: unknown status '%s' (expected draft, "
			  "interim or final)",
			  csaf_quote(q, s));
		return -EINVAL;
	}
	f->status = (enum csaf_status)i;
	if ((r = csaf_version_member(tracking, "version", "document.tracking.version",
				     &f->version, err, errlen)) ||
	    (r = csaf_date(tracking, "initial_release_date",
			   "document.tracking.initial_release_date", &f->initial, &init_s, err,
			   errlen)) ||
	    (r = csaf_date(tracking, "current_release_date",
			   "document.tracking.current_release_date", &f->current, &cur_s, err,
			   errlen)))
		return r;
	if (f->current < f->initial) {
		csaf_errf(err, errlen,
			  "document.tracking.current_release_date: '%s' is before "
			  "initial_release_date '%s'",
			  csaf_quote_n(q, cur_s, 40), csaf_quote_n(q2, init_s, 40));
		return -EINVAL;
	}
	if ((r = csaf_check_revisions(tracking, err, errlen)))
		return r;
	return csaf_check_tlp(doc, &f->tlp, err, errlen);
}

void csaf_doc_release(struct csaf_doc *doc)
{
	if (!doc)
		return;
	free(doc->tracking_id);
	free(doc->version);
	free(doc->title);
	free(doc->publisher);
	free(doc->category);
	doc->tracking_id = doc->version = doc->title = doc->publisher = doc->category = NULL;
}

/*
 * Order of checks: size, raw bytes (NUL, UTF-8, depth), JSON syntax,
 * string lengths and duplicate keys over the whole tree, required fields.
 * The first failure is reported.  On success the caller owns the copies in
 * *ret_doc (csaf_doc_release); on failure nothing is allocated and
 * *ret_doc is not touched.  -ENOMEM if a copy cannot be made.
 */
int csaf_parse(const char *bytes, size_t len, struct csaf_doc *ret_doc, char *err, size_t errlen)
{
	return csaf_parse_opts(bytes, len, 0, ret_doc, err, errlen);
}

int csaf_parse_opts(const char *bytes, size_t len, unsigned flags, struct csaf_doc *ret_doc,
		    char *err, size_t errlen)
{
	struct csaf_path pa = { { 0 }, 0 };
	struct csaf_found f;
	struct csaf_doc d = { 0 };
	cJSON *root = NULL;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = csaf_json_parse(bytes, len, CSAF_MAX_DOC_BYTES, "document", &root, err,
				 errlen)))
		return r;
	if ((r = csaf_walk(root, &pa, err, errlen)) || (r = csaf_check_doc(root, &f, err, errlen)))
		goto out;
	if ((flags & CSAF_CONFORM) && ((r = csaf_schema_check(root, err, errlen)) ||
				       (r = csaf_mandatory_check(root, err, errlen))))
		goto out;

	d.tracking_id = strdup(f.id);
	d.version = strdup(f.version);
	d.title = strdup(f.title);
	d.publisher = strdup(f.publisher);
	d.category = strdup(f.category);
	if (!d.tracking_id || !d.version || !d.title || !d.publisher || !d.category) {
		csaf_doc_release(&d);
		csaf_errf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	d.status = f.status;
	d.tlp = f.tlp;
	d.initial_release = f.initial;
	d.current_release = f.current;
	memcpy(d.filename, f.filename, sizeof(d.filename));
	*ret_doc = d;
out:
	cJSON_Delete(root);
	return r;
}

/* ------------------------------------------------------------------ */
/* .dist.json                                                           */

void csaf_dist_init(struct csaf_dist *d)
{
	memset(d, 0, sizeof(*d));
	d->tlp = CSAF_TLP_NONE;
	d->concerns = NULL;
	d->sectors = NULL;
	d->embargo_until = AU_T_MIN;
}

static void csaf_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Frees what d owns and leaves it as csaf_dist_init() does; NULL is fine. */
void csaf_dist_release(struct csaf_dist *d)
{
	if (!d)
		return;
	csaf_strv_free(d->concerns, d->nconcerns);
	csaf_strv_free(d->sectors, d->nsectors);
	csaf_dist_init(d);
}

/*
 * A list of slugs under key: an array of at most max distinct strings,
 * each valid for au_slug_valid().  Returns 0 with an allocated array of
 * allocated copies in *ret_v / *ret_n (the caller frees them), or
 * -EINVAL/-E2BIG/-ENOMEM with the key named.
 */
static int csaf_slug_list(const cJSON *arr, const char *key, size_t max, char ***ret_v,
			  size_t *ret_n, char *err, size_t errlen)
{
	const cJSON *e;
	char **v = NULL, q[CSAF_QUOTE_BUF];
	size_t n, i = 0;

	if (!cJSON_IsArray(arr)) {
		csaf_errf(err, errlen, "%s: expected an array, got %s", key, csaf_type_name(arr));
		return -EINVAL;
	}
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > max) {
		csaf_errf(err, errlen, "%s: %zu entries (limit %zu)", key, n, max);
		return -E2BIG;
	}
	if (n == 0) {
		*ret_v = NULL;
		*ret_n = 0;
		return 0;
	}
	v = calloc(n, sizeof(*v));
	if (!v)
		goto nomem;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsString(e)) {
			csaf_errf(err, errlen, "%s[%zu]: expected a string, got %s", key, i,
				  csaf_type_name(e));
			goto invalid;
		}
		if (!au_slug_valid(e->valuestring)) {
			csaf_errf(err, errlen,
				  "%s[%zu]: not a slug (1-64 of a-z, 0-9 and '-', not starting "
				  "with '-'): '%s'",
				  key, i, csaf_quote(q, e->valuestring));
			goto invalid;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(v[k], e->valuestring) == 0) {
				csaf_errf(err, errlen, "%s[%zu]: duplicate '%s'", key, i,
					  csaf_quote(q, e->valuestring));
				goto invalid;
			}
		}
		if (!(v[i] = strdup(e->valuestring)))
			goto nomem;
		i++;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
nomem:
	csaf_strv_free(v, i);
	csaf_errf(err, errlen, "out of memory");
	return -ENOMEM;
invalid:
	csaf_strv_free(v, i);
	return -EINVAL;
}

/* One top-level member of a .dist.json into d.  Returns 0 or -errno. */
static int csaf_dist_member(const cJSON *it, struct csaf_dist *d, char *err, size_t errlen)
{
	const char *key = it->string ? it->string : "";
	char q[CSAF_QUOTE_BUF];

	if (strcmp(key, "concerns") == 0)
		return csaf_slug_list(it, key, CSAF_MAX_CONCERNS, &d->concerns, &d->nconcerns, err,
				      errlen);
	if (strcmp(key, "sectors") == 0)
		return csaf_slug_list(it, key, CSAF_MAX_SECTORS, &d->sectors, &d->nsectors, err,
				      errlen);
	if (strcmp(key, "personal_data") == 0) {
		if (!cJSON_IsBool(it)) {
			csaf_errf(err, errlen, "personal_data: expected a boolean, got %s",
				  csaf_type_name(it));
			return -EINVAL;
		}
		d->personal_data = cJSON_IsTrue(it) ? 1 : 0;
		return 0;
	}
	if (strcmp(key, "tlp") != 0 && strcmp(key, "impact") != 0 &&
	    strcmp(key, "embargo_until") != 0) {
		csaf_errf(err, errlen,
			  "unknown key '%s' (expected tlp, concerns, sectors, personal_data, "
			  "impact or embargo_until)",
			  csaf_quote(q, key));
		return -EINVAL;
	}
	if (!cJSON_IsString(it)) {
		csaf_errf(err, errlen, "%s: expected a string, got %s", key, csaf_type_name(it));
		return -EINVAL;
	}
	const char *s = it->valuestring;
	if (strcmp(key, "tlp") == 0) {
		if ((d->tlp = csaf_tlp_parse(s)) == CSAF_TLP_NONE) {
			csaf_errf(err, errlen,
				  "tlp: unknown label '%s' (expected CLEAR, WHITE, GREEN, AMBER, "
				  "AMBER+STRICT or RED)",
				  csaf_quote(q, s));
			return -EINVAL;
		}
	} else if (strcmp(key, "impact") == 0) {
		if (strcmp(s, "significant") != 0 && strcmp(s, "none") != 0) {
			csaf_errf(err, errlen,
				  "impact: expected 'significant' or 'none', got '%s'",
				  csaf_quote(q, s));
			return -EINVAL;
		}
		d->impact_significant = strcmp(s, "significant") == 0;
	} else if (au_parse_time(s, 0, &d->embargo_until)) {
		csaf_errf(err, errlen,
			  "embargo_until: not a time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ): '%s'",
			  csaf_quote(q, s));
		return -EINVAL;
	}
	return 0;
}

/*
 * Parse a .dist.json (format in csaf.h).  On success *ret_dist holds the
 * values and owns its strings (csaf_dist_release).  On failure it is left
 * as csaf_dist_init() makes it, owning nothing, so that releasing it is
 * always safe; the message names the key.
 */
int csaf_dist_parse(const char *bytes, size_t len, struct csaf_dist *ret_dist, char *err,
		    size_t errlen)
{
	struct csaf_path pa = { { 0 }, 0 };
	struct csaf_dist d;
	const cJSON *it;
	cJSON *root = NULL;
	int r;

	csaf_dist_init(&d);
	if ((r = csaf_json_parse(bytes, len, CSAF_MAX_DIST_BYTES, "distribution metadata", &root,
				 err, errlen)))
		goto fail;
	if (!cJSON_IsObject(root)) {
		csaf_errf(err, errlen, "top-level value: expected an object, got %s",
			  csaf_type_name(root));
		r = -EINVAL;
		goto fail;
	}
	if ((r = csaf_walk(root, &pa, err, errlen)))
		goto fail;
	cJSON_ArrayForEach(it, root) {
		if ((r = csaf_dist_member(it, &d, err, errlen)))
			goto fail;
	}
	cJSON_Delete(root);
	*ret_dist = d;
	return 0;
fail:
	cJSON_Delete(root);
	csaf_dist_release(&d);
	csaf_dist_init(ret_dist);
	return r;
}
