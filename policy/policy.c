/*
 * policy.c - compile a JSON policy document into bit tables; the
 * vocabulary and rule accessors; policy_free().
 *
 * The syntax and meaning are documented in docs/advisoryfs-policy.5; the
 * compiled form in policy_internal.h.  Compilation is all-or-nothing: the
 * first error stops it, is reported with the JSON path of the offending
 * value, and frees everything built so far.
 *
 * Sections: arena; error paths; input checks (size, NUL, UTF-8, depth);
 * clause sets (DNF); conditions; rules; vocabulary; policy_compile;
 * accessors.
 */
#include "policy.h"
#include "policy_internal.h"
#include "util.h"
#include "csaf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pol_builtin_id[POL_NBUILTIN] = {
	"builtin:not-released",
	"builtin:embargo",
	"builtin:withdrawn",
};

const char *const pol_builtin_basis[POL_NBUILTIN] = {
	"advisoryfs built-in guard (SPEC.md section 3): an advisory is visible to nobody before "
	"its initial_release_date",
	"advisoryfs built-in guard (SPEC.md section 3): an advisory under embargo is visible to "
	"nobody before the embargo ends",
	"advisoryfs built-in guard (SPEC.md section 3): a withdrawn advisory leaves every view",
};

/* Indexed by enum csaf_tlp and enum csaf_status. */
const char *const pol_tlp_names[POL_NTLP] = { "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED" };
const char *const pol_status_names[POL_NSTATUS] = { "draft", "interim", "final" };

/* The key under which each atom is written in a condition. */
const char *const pol_atom_keys[PA_NATOMS] = {
	[PA_ROLE] = "role",
	[PA_SECTOR] = "sector",
	[PA_PUBLIC] = "public",
	[PA_REACHED_BY] = "reached_by",
	[PA_TIME] = "time",
	[PA_TLP] = "tlp",
	[PA_STATUS] = "status",
	[PA_PD] = "personal_data",
	[PA_IMPACT] = "impact_significant",
	[PA_GENERAL] = "general",
	[PA_ADV_SECTOR] = "advisory_sector",
	[PA_RELEASED] = "released",
	[PA_EMBARGOED] = "embargoed",
	[PA_WITHDRAWN] = "withdrawn",
	[PA_SHARED] = "shared_with_recipient",
	[PA_SELF] = "concerns_self",
	[PA_CSECTOR] = "concerns_sector",
	[PA_ORG_IN_SECTOR] = "concerns_org_in_sector",
	[PA_MEMBER] = "concerns_member",
};

/* Fixed fact bit of each boolean atom (-1: parameterised or one-hot). */
static const int atom_fixed_bit[PA_NATOMS] = {
	[PA_ROLE] = -1,
	[PA_SECTOR] = -1,
	[PA_PUBLIC] = PF_PUBLIC,
	[PA_REACHED_BY] = -1,
	[PA_TIME] = -1,
	[PA_TLP] = -1,
	[PA_STATUS] = -1,
	[PA_PD] = PF_PD,
	[PA_IMPACT] = PF_IMPACT,
	[PA_GENERAL] = PF_GENERAL,
	[PA_ADV_SECTOR] = -1,
	[PA_RELEASED] = PF_RELEASED,
	[PA_EMBARGOED] = PF_EMBARGOED,
	[PA_WITHDRAWN] = PF_WITHDRAWN,
	[PA_SHARED] = PF_SHARED,
	[PA_SELF] = PF_SELF,
	[PA_CSECTOR] = PF_CSECTOR,
	[PA_ORG_IN_SECTOR] = PF_ORG_IN_SECTOR,
	[PA_MEMBER] = PF_MEMBER,
};

/* ---- arena: everything of a compiled policy but its clause table ---- */

#define PA_BLOCK 16384

/* Zeroed memory owned by p, freed by policy_free(); NULL on out of memory. */
static void *pa_alloc(struct policy *p, size_t n)
{
	return au_arena_alloc(&p->arena, n);
}

static char *pa_strdup(struct policy *p, const char *s)
{
	return au_arena_strndup(&p->arena, s, strlen(s));
}

/* ---- compiler state and error paths ---- */

struct dnf {
	uint32_t n, cap;
	struct pol_clause *c;   /* heap */
};

struct named_state {
	const cJSON *json;
	int state;              /* 0 not compiled, 1 being compiled, 2 done */
	struct dnf dnf;
};

struct cc {
	struct policy *p;
	char *err;
	size_t errlen;
	int rc;                 /* first error, 0 if none */
	char path[512];
	size_t plen;
	struct named_state named[POL_MAX_CONDS];
	int use_stack[POL_MAX_USE_DEPTH];
	int use_depth;
	uint32_t clauses_cap;
};

/* Record the first error as "<path>: <message>"; returns rc. */
__attribute__((format(printf, 3, 4))) static int cc_fail(struct cc *c, int rc, const char *fmt,
							 ...)
{
	if (c->rc)
		return c->rc;
	c->rc = rc;
	if (c->err && c->errlen) {
		char msg[384];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
	}
	return rc;
}

/* A user string made safe for a message: printable ASCII kept, anything
 * else '?', cut at 60 characters. */
static const char *q(const char *s, char buf[64])
{
	size_t i = 0;
	for (; s[i] && i < 60; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] && i == 60)
		buf[i - 1] = buf[i - 2] = buf[i - 3] = '.';
	buf[i] = '\0';
	return buf;
}

/* Append s to the path; returns the previous length for path_set().  A
 * path too long for the buffer is cut (the message stays readable). */
static size_t path_append(struct cc *c, const char *s)
{
	size_t old = c->plen, n = strlen(s), room = sizeof(c->path) - 1 - c->plen;
	if (n > room)
		n = room;
	memcpy(c->path + c->plen, s, n);
	c->plen += n;
	c->path[c->plen] = '\0';
	return old;
}

static int key_plain(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
		      *k == '_' || *k == '-'))
			return 0;
	return 1;
}

/* ".key", or ["key"] (with '"' and '\\' escaped) for a key that is not a
 * plain name. */
static size_t path_key(struct cc *c, const char *key)
{
	char qb[64], b[140];
	q(key, qb);
	if (key_plain(key) && strlen(key) < 60) {
		size_t old = path_append(c, ".");
		path_append(c, qb);
		return old;
	}
	size_t n = 0;
	b[n++] = '[';
	b[n++] = '"';
	for (const char *s = qb; *s; s++) {
		if (*s == '"' || *s == '\\')
			b[n++] = '\\';
		b[n++] = *s;
	}
	b[n++] = '"';
	b[n++] = ']';
	b[n] = '\0';
	return path_append(c, b);
}

static size_t path_idx(struct cc *c, size_t i)
{
	char b[32];
	snprintf(b, sizeof(b), "[%zu]", i);
	return path_append(c, b);
}

static void path_set(struct cc *c, size_t len)
{
	c->plen = len;
	c->path[len] = '\0';
}

/* ---- input checks ---- */

/* Line and column (1-based) of byte offset off. */
static void line_col(const char *s, size_t off, size_t *ret_line, size_t *ret_col)
{
	size_t line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	*ret_line = line;
	*ret_col = col;
}

/* Length of the valid UTF-8 sequence at s[0..left), or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF refused). */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char b = s[0];
	size_t n;
	uint32_t cp, min;
	if (b < 0x80)
		return 1;
	if ((b & 0xe0) == 0xc0) {
		n = 2;
		cp = b & 0x1f;
		min = 0x80;
	} else if ((b & 0xf0) == 0xe0) {
		n = 3;
		cp = b & 0x0f;
		min = 0x800;
	} else if ((b & 0xf8) == 0xf0) {
		n = 4;
		cp = b & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Refuse, before cJSON sees the text, what it would accept or mishandle:
 * NUL bytes, invalid UTF-8, "\u0000" escapes (cJSON would cut the string
 * there) and nesting deeper than POL_MAX_DEPTH.  Returns 0 or -EINVAL.
 */
static int check_text(struct cc *c, const char *json, size_t len)
{
	const unsigned char *s = (const unsigned char *)json;
	int depth = 0, in_str = 0;
	size_t line, col;
	for (size_t i = 0; i < len;) {
		unsigned char b = s[i];
		const char *why = NULL;
		if (b == 0) {
			why = "NUL byte";
		} else if (b >= 0x80) {
			size_t n = utf8_len(s + i, len - i);
			if (!n)
				why = "invalid UTF-8";
			else {
				i += n;
				continue;
			}
		} else if (in_str) {
			if (b == '"') {
				in_str = 0;
			} else if (b == '\\' && i + 1 < len) {
				if (s[i + 1] == 'u' && len - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0)
					why = "\\u0000 in a string";
				else
					i++; /* the escaped character */
			}
		} else if (b == '"') {
			in_str = 1;
		} else if (b == '{' || b == '[') {
			if (++depth > POL_MAX_DEPTH) {
				line_col(json, i, &line, &col);
				return cc_fail(c, -EINVAL, "nesting deeper than %d levels at line %zu, column %zu",
					       POL_MAX_DEPTH, line, col);
			}
		} else if (b == '}' || b == ']') {
			depth--;
		}
		if (why) {
			line_col(json, i, &line, &col);
			return cc_fail(c, -EINVAL, "%s at line %zu, column %zu", why, line, col);
		}
		i++;
	}
	return 0;
}

/* ---- clause sets: a condition in disjunctive normal form ---- */

static void dnf_free(struct dnf *d)
{
	free(d->c);
	d->c = NULL;
	d->n = d->cap = 0;
}

/* Append a clause; 0 or -ENOMEM (d unchanged). */
static int dnf_push(struct dnf *d, uint64_t must, uint64_t mustnot)
{
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 4;
		struct pol_clause *nc = realloc(d->c, cap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		d->c = nc;
		d->cap = cap;
	}
	d->c[d->n].must = must;
	d->c[d->n].mustnot = mustnot;
	d->n++;
	return 0;
}

/* dst := src; 0 or -ENOMEM. */
static int dnf_copy(struct dnf *dst, const struct dnf *src)
{
	dst->n = 0;
	for (uint32_t i = 0; i < src->n; i++)
		if (dnf_push(dst, src->c[i].must, src->c[i].mustnot))
			return -ENOMEM;
	return 0;
}

static int popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

/*
 * Bring a clause into canonical form, using that TLP and status are
 * one-hot: a group with one must bit needs no mustnot bits, a group with
 * every bit but one excluded is that one bit.  Returns 0 if the clause can
 * never hold.
 */
static int clause_norm(struct pol_clause *k)
{
	static const uint64_t groups[2] = { PF_TLP_MASK, PF_STATUS_MASK };
	if (k->must & k->mustnot)
		return 0;
	for (int g = 0; g < 2; g++) {
		uint64_t G = groups[g];
		uint64_t m = k->must & G;
		if (popcount64(m) > 1)
			return 0;
		if (m) {
			k->mustnot &= ~G;
			continue;
		}
		uint64_t left = G & ~k->mustnot;
		if (!left)
			return 0;
		if (popcount64(left) == 1) {
			k->must |= left;
			k->mustnot &= ~G;
		}
	}
	return 1;
}

/* Whether clause a holds whenever b holds (a is weaker). */
static int clause_implied(const struct pol_clause *a, const struct pol_clause *b)
{
	static const uint64_t groups[2] = { PF_TLP_MASK, PF_STATUS_MASK };
	uint64_t bnot = b->mustnot;
	for (int g = 0; g < 2; g++)
		if (b->must & groups[g])
			bnot |= groups[g] & ~b->must;
	return (a->must & ~b->must) == 0 && (a->mustnot & ~bnot) == 0;
}

/* Drop impossible, duplicate and implied clauses. */
static void dnf_simplify(struct dnf *d)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < d->n; i++)
		if (clause_norm(&d->c[i]))
			d->c[n++] = d->c[i];
	d->n = n;
	for (uint32_t i = 0; i < d->n; i++) {
		int drop = 0;
		for (uint32_t j = 0; j < d->n && !drop; j++) {
			if (i == j || !clause_implied(&d->c[j], &d->c[i]))
				continue;
			/* of two equal clauses keep the first */
			if (!clause_implied(&d->c[i], &d->c[j]) || j < i)
				drop = 1;
		}
		if (drop) {
			d->c[i] = d->c[--d->n];
			i--;
		}
	}
}

static int dnf_check(struct cc *c, const struct dnf *d)
{
	if (d->n > POL_MAX_CLAUSES)
		return cc_fail(c, -E2BIG, "condition expands to more than %d alternatives",
			       POL_MAX_CLAUSES);
	return 0;
}

/* a := a or b */
static int dnf_or(struct cc *c, struct dnf *a, const struct dnf *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (dnf_push(a, b->c[i].must, b->c[i].mustnot))
			return cc_fail(c, -ENOMEM, "out of memory");
	dnf_simplify(a);
	return dnf_check(c, a);
}

/* a := a and b */
static int dnf_and(struct cc *c, struct dnf *a, const struct dnf *b)
{
	struct dnf r = { 0 };
	for (uint32_t i = 0; i < a->n; i++)
		for (uint32_t j = 0; j < b->n; j++) {
			struct pol_clause k = { a->c[i].must | b->c[j].must,
						a->c[i].mustnot | b->c[j].mustnot };
			if (!clause_norm(&k))
				continue;
			if (dnf_push(&r, k.must, k.mustnot)) {
				dnf_free(&r);
				return cc_fail(c, -ENOMEM, "out of memory");
			}
		}
	dnf_simplify(&r);
	dnf_free(a);
	*a = r;
	return dnf_check(c, a);
}

/* a := not a (De Morgan: the product of the negated clauses) */
static int dnf_not(struct cc *c, struct dnf *a)
{
	struct dnf r = { 0 }, neg = { 0 };
	int rc = 0;
	if (dnf_push(&r, 0, 0)) /* true */
		return cc_fail(c, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < a->n && !rc; i++) {
		neg.n = 0;
		for (int b = 0; b < PF_NBITS && !rc; b++) {
			if (a->c[i].must & PF_BIT(b))
				rc = dnf_push(&neg, 0, PF_BIT(b));
			else if (a->c[i].mustnot & PF_BIT(b))
				rc = dnf_push(&neg, PF_BIT(b), 0);
		}
		if (rc)
			rc = cc_fail(c, -ENOMEM, "out of memory");
		else
			rc = dnf_and(c, &r, &neg);
	}
	dnf_free(&neg);
	if (rc) {
		dnf_free(&r);
		return rc;
	}
	dnf_free(a);
	*a = r;
	return 0;
}

/* ---- conditions ---- */

/* Whether s is 1..max of [a-z0-9-] not starting with '-' or, with
 * upper_dot, of [A-Za-z0-9._-] starting with a letter or digit. */
static int valid_name(const char *s, size_t max, int upper_dot)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9') ||
	      (upper_dot && s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')
			continue;
		if (upper_dot && ((ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_'))
			continue;
		return 0;
	}
	return 1;
}

/* Refuse keys outside allowed (NULL-terminated) and duplicate keys.  The
 * duplicate check is quadratic but runs only over known keys: the first
 * unknown key stops it. */
static int check_keys(struct cc *c, const cJSON *obj, const char *const *allowed, const char *what)
{
	char b[64];
	for (const cJSON *it = obj->child; it; it = it->next) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, it->string) == 0;
		size_t m = path_key(c, it->string);
		if (!ok)
			return cc_fail(c, -EINVAL, "unknown %s '%s'", what, q(it->string, b));
		for (const cJSON *pr = obj->child; pr != it; pr = pr->next)
			if (strcmp(pr->string, it->string) == 0)
				return cc_fail(c, -EINVAL, "duplicate key '%s'", q(it->string, b));
		path_set(c, m);
	}
	return 0;
}

/* A string of 1..max bytes; *ret points into the JSON. */
static int get_text(struct cc *c, const cJSON *j, size_t max, const char **ret)
{
	if (!cJSON_IsString(j))
		return cc_fail(c, -EINVAL, "expected a string");
	size_t n = strlen(j->valuestring);
	if (n == 0)
		return cc_fail(c, -EINVAL, "empty string");
	if (n > max)
		return cc_fail(c, -E2BIG, "longer than %zu bytes", max);
	/* texts reach explain output, extended attributes and the ledger:
	 * no control characters that could forge lines or steer a terminal */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)j->valuestring[i];
		if (ch < 0x20 || ch == 0x7f)
			return cc_fail(c, -EINVAL, "control character (byte 0x%02x) at offset %zu", ch,
				       i);
	}
	*ret = j->valuestring;
	return 0;
}

/* "notes": a string or an array of strings, copied into the policy. */
static int get_notes(struct cc *c, const cJSON *j, const char ***ret_notes, uint32_t *ret_n)
{
	const char *s;
	if (cJSON_IsString(j)) {
		const char **v = pa_alloc(c->p, sizeof(*v));
		if (get_text(c, j, POL_MAX_TEXT, &s))
			return c->rc;
		if (!v || !(v[0] = pa_strdup(c->p, s)))
			return cc_fail(c, -ENOMEM, "out of memory");
		*ret_notes = v;
		*ret_n = 1;
		return 0;
	}
	if (!cJSON_IsArray(j))
		return cc_fail(c, -EINVAL, "expected a string or an array of strings");
	int n = cJSON_GetArraySize(j);
	if (n > POL_MAX_NOTES)
		return cc_fail(c, -E2BIG, "more than %d notes", POL_MAX_NOTES);
	const char **v = pa_alloc(c->p, sizeof(*v) * (size_t)(n ? n : 1));
	if (!v)
		return cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = path_idx(c, (size_t)i);
		if (get_text(c, it, POL_MAX_TEXT, &s))
			return c->rc;
		if (!(v[i] = pa_strdup(c->p, s)))
			return cc_fail(c, -ENOMEM, "out of memory");
		path_set(c, m);
	}
	*ret_notes = v;
	*ret_n = (uint32_t)n;
	return 0;
}

/* A date or date-time; until with a bare date means the end of that day. */
static int get_time(struct cc *c, const cJSON *j, int end_of_day, int64_t *ret_t)
{
	char b[64];
	if (!cJSON_IsString(j))
		return cc_fail(c, -EINVAL, "expected a date (YYYY-MM-DD) or date-time string");
	if (au_parse_time(j->valuestring, end_of_day, ret_t))
		return cc_fail(c, -EINVAL, "bad date '%s'", q(j->valuestring, b));
	return 0;
}

/* A validity period: optional "from" and "until" members of obj. */
static int get_period(struct cc *c, const cJSON *obj, int64_t *ret_from, int64_t *ret_until)
{
	int64_t from = AU_T_MIN, until = AU_T_MAX;
	const cJSON *jf = cJSON_GetObjectItemCaseSensitive(obj, "from");
	const cJSON *ju = cJSON_GetObjectItemCaseSensitive(obj, "until");
	size_t m;
	if (jf) {
		m = path_key(c, "from");
		if (get_time(c, jf, 0, &from))
			return c->rc;
		path_set(c, m);
	}
	if (ju) {
		m = path_key(c, "until");
		if (get_time(c, ju, 1, &until))
			return c->rc;
		if (from > until)
			return cc_fail(c, -EINVAL, "'until' is before 'from'");
		path_set(c, m);
	}
	*ret_from = from;
	*ret_until = until;
	return 0;
}

enum set_kind { SET_ROLE, SET_SECTOR, SET_TLP, SET_STATUS };

/* Index of a name of kind k (role, sector, TLP label, status), or -1. */
static int set_lookup(const struct policy *p, enum set_kind k, const char *s)
{
	switch (k) {
	case SET_ROLE:
		return policy_role_index(p, s);
	case SET_SECTOR:
		return policy_sector_index(p, s);
	case SET_TLP:
		if (strcmp(s, "WHITE") == 0)
			return 0;
		for (int i = 0; i < POL_NTLP; i++)
			if (strcmp(s, pol_tlp_names[i]) == 0)
				return i;
		return -1;
	case SET_STATUS:
		for (int i = 0; i < POL_NSTATUS; i++)
			if (strcmp(s, pol_status_names[i]) == 0)
				return i;
		return -1;
	}
	return -1;
}

/* A name or a non-empty array of names of one kind, as a bit set. */
static int get_set(struct cc *c, const cJSON *j, enum set_kind k, uint64_t *ret_set)
{
	static const char *const what[] = { "role", "sector", "label", "status" };
	char b[64];
	uint64_t set = 0;
	if (cJSON_IsString(j)) {
		int i = set_lookup(c->p, k, j->valuestring);
		if (i < 0)
			return cc_fail(c, -EINVAL, "unknown %s '%s'", what[k], q(j->valuestring, b));
		*ret_set = (uint64_t)1 << i;
		return 0;
	}
	if (!cJSON_IsArray(j) || !j->child)
		return cc_fail(c, -EINVAL, "expected a %s name or a non-empty array of them", what[k]);
	size_t idx = 0;
	for (const cJSON *it = j->child; it; it = it->next, idx++) {
		size_t m = path_idx(c, idx);
		if (!cJSON_IsString(it))
			return cc_fail(c, -EINVAL, "expected a %s name", what[k]);
		int i = set_lookup(c->p, k, it->valuestring);
		if (i < 0)
			return cc_fail(c, -EINVAL, "unknown %s '%s'", what[k], q(it->valuestring, b));
		set |= (uint64_t)1 << i;
		path_set(c, m);
	}
	*ret_set = set;
	return 0;
}

/* The fact bit of a parameterised atom, shared by equal atoms. */
static int dyn_bit(struct cc *c, uint8_t atom, uint64_t set, int64_t from, int64_t until,
		   uint8_t *ret_bit)
{
	struct policy *p = c->p;
	for (int i = 0; i < p->ndyn; i++) {
		const struct pol_dyn *d = &p->dyn[i];
		if (d->atom == atom && d->set == set && d->from == from && d->until == until) {
			*ret_bit = (uint8_t)(PF_DYN0 + i);
			return 0;
		}
	}
	if (p->ndyn == PF_NBITS - PF_DYN0)
		return cc_fail(c, -E2BIG,
			       "more than %d distinct role, sector, reached_by, advisory_sector and "
			       "time conditions",
			       PF_NBITS - PF_DYN0);
	struct pol_dyn *d = &p->dyn[p->ndyn];
	d->atom = atom;
	d->set = set;
	d->from = from;
	d->until = until;
	uint64_t bit = PF_BIT(PF_DYN0 + p->ndyn);
	if (atom == PA_ADV_SECTOR)
		p->dyn_advisory |= bit;
	else
		p->dyn_recipient |= bit;
	*ret_bit = (uint8_t)(PF_DYN0 + p->ndyn);
	p->ndyn++;
	return 0;
}

static int compile_cond(struct cc *c, const cJSON *j, struct pol_node **ret_node,
			struct dnf *ret_dnf);
static int compile_named(struct cc *c, int idx);

/* A node in the policy's arena; NULL (error recorded) on out of memory. */
static struct pol_node *node_new(struct cc *c, uint8_t op, const char *key)
{
	struct pol_node *n = pa_alloc(c->p, sizeof(*n));
	if (!n) {
		cc_fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	n->op = op;
	n->key = key;
	n->cond = -1;
	return n;
}

static int atom_of_key(const char *key)
{
	for (int a = 0; a < PA_NATOMS; a++)
		if (strcmp(pol_atom_keys[a], key) == 0)
			return a;
	return -1;
}

/* A leaf: key names the atom, j its parameter. */
static int compile_atom(struct cc *c, int atom, const cJSON *j, struct pol_node *n,
			struct dnf *ret_dnf)
{
	n->op = PN_ATOM;
	n->atom = (uint8_t)atom;
	n->want = 1;
	n->from = AU_T_MIN;
	n->until = AU_T_MAX;
	int rc = 0;
	switch (atom) {
	case PA_ROLE:
	case PA_REACHED_BY:
		rc = get_set(c, j, SET_ROLE, &n->set);
		break;
	case PA_SECTOR:
	case PA_ADV_SECTOR:
		rc = get_set(c, j, SET_SECTOR, &n->set);
		break;
	case PA_TLP:
		rc = get_set(c, j, SET_TLP, &n->set);
		break;
	case PA_STATUS:
		rc = get_set(c, j, SET_STATUS, &n->set);
		break;
	case PA_TIME:
		if (!cJSON_IsObject(j))
			return cc_fail(c, -EINVAL, "expected an object with \"from\" and/or \"until\"");
		{
			static const char *const keys[] = { "from", "until", NULL };
			if (check_keys(c, j, keys, "key"))
				return c->rc;
			if (!j->child)
				return cc_fail(c, -EINVAL, "expected \"from\" and/or \"until\"");
			rc = get_period(c, j, &n->from, &n->until);
		}
		break;
	default:
		if (!cJSON_IsBool(j))
			return cc_fail(c, -EINVAL, "expected true or false");
		n->want = cJSON_IsTrue(j) ? 1 : 0;
		break;
	}
	if (rc)
		return rc;

	uint64_t must = 0, mustnot = 0;
	if (atom == PA_TLP) {
		mustnot = PF_TLP_MASK & ~(n->set << PF_TLP0);
	} else if (atom == PA_STATUS) {
		mustnot = PF_STATUS_MASK & ~(n->set << PF_STATUS0);
	} else if (atom_fixed_bit[atom] >= 0) {
		n->bit = (uint8_t)atom_fixed_bit[atom];
		if (n->want)
			must = PF_BIT(n->bit);
		else
			mustnot = PF_BIT(n->bit);
	} else {
		if (dyn_bit(c, n->atom, n->set, n->from, n->until, &n->bit))
			return c->rc;
		must = PF_BIT(n->bit);
	}
	ret_dnf->n = 0;
	if (dnf_push(ret_dnf, must, mustnot))
		return cc_fail(c, -ENOMEM, "out of memory");
	dnf_simplify(ret_dnf);
	return 0;
}

/* One member of a condition object: a combinator or an atom. */
static int compile_entry(struct cc *c, const cJSON *it, struct pol_node **ret_node,
			 struct dnf *ret_dnf)
{
	char b[64];
	const char *key = it->string;
	struct pol_node *n = node_new(c, PN_ATOM, key);
	if (!n)
		return c->rc;

	if (strcmp(key, "all") == 0 || strcmp(key, "any") == 0) {
		int all = key[1] == 'l';
		n->op = all ? PN_ALL : PN_ANY;
		if (!cJSON_IsArray(it) || !it->child)
			return cc_fail(c, -EINVAL, "expected a non-empty array of conditions");
		uint32_t k = (uint32_t)cJSON_GetArraySize(it);
		n->kids = pa_alloc(c->p, sizeof(*n->kids) * k);
		if (!n->kids)
			return cc_fail(c, -ENOMEM, "out of memory");
		ret_dnf->n = 0;
		if (all && dnf_push(ret_dnf, 0, 0))
			return cc_fail(c, -ENOMEM, "out of memory");
		struct dnf sub = { 0 };
		size_t idx = 0;
		for (const cJSON *e = it->child; e; e = e->next, idx++) {
			size_t m = path_idx(c, idx);
			if (compile_cond(c, e, &n->kids[n->nkids], &sub) ||
			    (all ? dnf_and(c, ret_dnf, &sub) : dnf_or(c, ret_dnf, &sub))) {
				dnf_free(&sub);
				return c->rc;
			}
			n->nkids++;
			path_set(c, m);
		}
		dnf_free(&sub);
	} else if (strcmp(key, "not") == 0) {
		n->op = PN_NOT;
		n->kids = pa_alloc(c->p, sizeof(*n->kids));
		if (!n->kids)
			return cc_fail(c, -ENOMEM, "out of memory");
		if (compile_cond(c, it, &n->kids[0], ret_dnf) || dnf_not(c, ret_dnf))
			return c->rc;
		n->nkids = 1;
	} else if (strcmp(key, "use") == 0) {
		n->op = PN_USE;
		if (!cJSON_IsString(it))
			return cc_fail(c, -EINVAL, "expected the name of a condition");
		int idx = -1;
		for (int i = 0; i < c->p->nconds && idx < 0; i++)
			if (strcmp(c->p->conds[i].name, it->valuestring) == 0)
				idx = i;
		if (idx < 0)
			return cc_fail(c, -EINVAL, "unknown condition '%s'", q(it->valuestring, b));
		if (c->named[idx].state == 1) {
			char chain[256];
			size_t cl = 0;
			int from = 0;
			while (c->use_stack[from] != idx)
				from++;
			for (int i = from; i < c->use_depth; i++) {
				int w = snprintf(chain + cl, sizeof(chain) - cl, "%s -> ",
						 q(c->p->conds[c->use_stack[i]].name, b));
				if (w < 0 || (size_t)w >= sizeof(chain) - cl)
					break;
				cl += (size_t)w;
			}
			return cc_fail(c, -EINVAL, "cycle in named conditions: %s%s", chain,
				       q(it->valuestring, b));
		}
		if (c->named[idx].state == 0 && compile_named(c, idx))
			return c->rc;
		n->cond = idx;
		if (dnf_copy(ret_dnf, &c->named[idx].dnf))
			return cc_fail(c, -ENOMEM, "out of memory");
	} else {
		int atom = atom_of_key(key);
		if (atom < 0)
			return cc_fail(c, -EINVAL, "unknown condition '%s'", q(key, b));
		if (compile_atom(c, atom, it, n, ret_dnf))
			return c->rc;
	}
	*ret_node = n;
	return 0;
}

/* Index of a condition key: an atom (0..PA_NATOMS-1) or a combinator
 * (PA_NATOMS + 0..3: all, any, not, use); -1 if unknown. */
static int cond_key(const char *key)
{
	static const char *const comb[] = { "all", "any", "not", "use" };
	int a = atom_of_key(key);
	if (a >= 0)
		return a;
	for (int i = 0; i < 4; i++)
		if (strcmp(comb[i], key) == 0)
			return PA_NATOMS + i;
	return -1;
}

/* A condition object: its members, all of which must hold. */
static int compile_cond(struct cc *c, const cJSON *j, struct pol_node **ret_node,
			struct dnf *ret_dnf)
{
	if (!cJSON_IsObject(j))
		return cc_fail(c, -EINVAL, "expected a condition object");
	if (!j->child)
		return cc_fail(c, -EINVAL, "empty condition");
	uint32_t k = 0, seen = 0;
	char b[64];
	/* Unknown and duplicate keys (cJSON keeps both copies, a reader would
	 * see one).  The known keys are few, so a bit per key finds duplicates
	 * in linear time. */
	for (const cJSON *it = j->child; it; it = it->next, k++) {
		int key = cond_key(it->string);
		if (key < 0 || (seen >> key & 1)) {
			path_key(c, it->string);
			if (key < 0)
				return cc_fail(c, -EINVAL, "unknown condition '%s'", q(it->string, b));
			return cc_fail(c, -EINVAL, "duplicate key '%s'", q(it->string, b));
		}
		seen |= (uint32_t)1 << key;
	}
	if (k == 1) {
		size_t m = path_key(c, j->child->string);
		if (compile_entry(c, j->child, ret_node, ret_dnf))
			return c->rc;
		path_set(c, m);
		return 0;
	}
	struct pol_node *n = node_new(c, PN_ALL, NULL);
	if (!n)
		return c->rc;
	n->kids = pa_alloc(c->p, sizeof(*n->kids) * k);
	if (!n->kids)
		return cc_fail(c, -ENOMEM, "out of memory");
	ret_dnf->n = 0;
	if (dnf_push(ret_dnf, 0, 0))
		return cc_fail(c, -ENOMEM, "out of memory");
	struct dnf sub = { 0 };
	for (const cJSON *it = j->child; it; it = it->next) {
		size_t m = path_key(c, it->string);
		if (compile_entry(c, it, &n->kids[n->nkids], &sub) || dnf_and(c, ret_dnf, &sub)) {
			dnf_free(&sub);
			return c->rc;
		}
		n->nkids++;
		path_set(c, m);
	}
	dnf_free(&sub);
	*ret_node = n;
	return 0;
}

/* Compile named condition idx, with its own path, detecting cycles. */
static int compile_named(struct cc *c, int idx)
{
	struct named_state *ns = &c->named[idx];
	if (c->use_depth == POL_MAX_USE_DEPTH)
		return cc_fail(c, -E2BIG, "named conditions nested more than %d deep",
			       POL_MAX_USE_DEPTH);
	char saved[sizeof(c->path)];
	size_t saved_len = c->plen;
	memcpy(saved, c->path, c->plen + 1);
	path_set(c, 0);
	path_append(c, "$.conditions");
	path_key(c, c->p->conds[idx].name);

	ns->state = 1;
	c->use_stack[c->use_depth++] = idx;
	if (compile_cond(c, ns->json, &c->p->conds[idx].node, &ns->dnf))
		return c->rc;
	c->use_depth--;
	ns->state = 2;

	memcpy(c->path, saved, saved_len + 1);
	c->plen = saved_len;
	return 0;
}

/* ---- vocabulary ---- */

/* "roles" or "sectors": names, or objects {"name", "description", "notes"}. */
static int compile_names(struct cc *c, const cJSON *j, int max, const char ***ret_names,
			 int *ret_n)
{
	static const char *const keys[] = { "name", "description", "notes", NULL };
	char b[64];
	if (!cJSON_IsArray(j))
		return cc_fail(c, -EINVAL, "expected an array of names");
	int n = cJSON_GetArraySize(j);
	if (n > max)
		return cc_fail(c, -E2BIG, "more than %d names", max);
	const char **v = pa_alloc(c->p, sizeof(*v) * (size_t)(n ? n : 1));
	if (!v)
		return cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = path_idx(c, (size_t)i);
		const cJSON *nm = it;
		if (cJSON_IsObject(it)) {
			if (check_keys(c, it, keys, "key"))
				return c->rc;
			nm = cJSON_GetObjectItemCaseSensitive(it, "name");
			if (!nm)
				return cc_fail(c, -EINVAL, "missing \"name\"");
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "description");
			const cJSON *no = cJSON_GetObjectItemCaseSensitive(it, "notes");
			const char *s;
			const char **notes;
			uint32_t nn;
			size_t m2;
			if (d) {
				m2 = path_key(c, "description");
				if (get_text(c, d, POL_MAX_TEXT, &s))
					return c->rc;
				path_set(c, m2);
			}
			if (no) {
				m2 = path_key(c, "notes");
				if (get_notes(c, no, &notes, &nn))
					return c->rc;
				path_set(c, m2);
			}
			path_key(c, "name");
		}
		if (!cJSON_IsString(nm))
			return cc_fail(c, -EINVAL, "expected a name");
		if (!valid_name(nm->valuestring, POL_MAX_NAME, 0))
			return cc_fail(c, -EINVAL,
				       "bad name '%s' (1-%d of a-z, 0-9, '-', not starting with '-')",
				       q(nm->valuestring, b), POL_MAX_NAME);
		for (int k = 0; k < i; k++)
			if (strcmp(v[k], nm->valuestring) == 0)
				return cc_fail(c, -EINVAL, "duplicate name '%s'", q(nm->valuestring, b));
		if (!(v[i] = pa_strdup(c->p, nm->valuestring)))
			return cc_fail(c, -ENOMEM, "out of memory");
		path_set(c, m);
	}
	*ret_names = v;
	*ret_n = n;
	return 0;
}

/* "vocabulary": roles and sectors, both required. */
static int compile_vocabulary(struct cc *c, const cJSON *j)
{
	static const char *const keys[] = { "roles", "sectors", "notes", NULL };
	if (!cJSON_IsObject(j))
		return cc_fail(c, -EINVAL, "expected an object");
	if (check_keys(c, j, keys, "key"))
		return c->rc;
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "roles");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sectors");
	const cJSON *no = cJSON_GetObjectItemCaseSensitive(j, "notes");
	size_t m;
	if (!r)
		return cc_fail(c, -EINVAL, "missing \"roles\"");
	if (!s)
		return cc_fail(c, -EINVAL, "missing \"sectors\"");
	m = path_key(c, "roles");
	if (compile_names(c, r, W_MAX_ROLES, &c->p->roles, &c->p->nroles))
		return c->rc;
	path_set(c, m);
	m = path_key(c, "sectors");
	if (compile_names(c, s, W_MAX_SECTORS, &c->p->sectors, &c->p->nsectors))
		return c->rc;
	path_set(c, m);
	if (no) {
		const char **notes;
		uint32_t nn;
		m = path_key(c, "notes");
		if (get_notes(c, no, &notes, &nn))
			return c->rc;
		path_set(c, m);
	}
	return 0;
}

/* "conditions": name -> condition; compiled in document order (a "use"
 * of a later one compiles that one first). */
static int compile_conditions(struct cc *c, const cJSON *j)
{
	char b[64];
	if (!cJSON_IsObject(j))
		return cc_fail(c, -EINVAL, "expected an object of named conditions");
	int n = cJSON_GetArraySize(j);
	if (n > POL_MAX_CONDS)
		return cc_fail(c, -E2BIG, "more than %d named conditions", POL_MAX_CONDS);
	c->p->conds = pa_alloc(c->p, sizeof(*c->p->conds) * (size_t)(n ? n : 1));
	if (!c->p->conds)
		return cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = path_key(c, it->string);
		if (!valid_name(it->string, POL_MAX_ID, 1))
			return cc_fail(c, -EINVAL,
				       "bad condition name '%s' (1-%d of A-Z, a-z, 0-9, '.', '_', '-')",
				       q(it->string, b), POL_MAX_ID);
		for (int k = 0; k < i; k++)
			if (strcmp(c->p->conds[k].name, it->string) == 0)
				return cc_fail(c, -EINVAL, "duplicate condition name '%s'",
					       q(it->string, b));
		path_set(c, m);
		if (!(c->p->conds[i].name = pa_strdup(c->p, it->string)))
			return cc_fail(c, -ENOMEM, "out of memory");
		c->named[i].json = it;
		c->p->nconds = i + 1;
	}
	for (i = 0; i < n; i++)
		if (c->named[i].state == 0 && compile_named(c, i))
			return c->rc;
	return 0;
}

/* ---- rules ---- */

/* One rule into *r (zeroed, in the arena) and its clauses appended to
 * the policy's clause table.  Returns 0 or the recorded error. */
static int compile_rule(struct cc *c, const cJSON *j, struct pol_rule *r)
{
	static const char *const keys[] = { "id",    "effect", "basis", "description",
					    "notes", "from",   "until", "when", NULL };
	char b[64];
	const char *s;
	size_t m;
	if (!cJSON_IsObject(j))
		return cc_fail(c, -EINVAL, "expected a rule object");
	if (check_keys(c, j, keys, "key"))
		return c->rc;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	const cJSON *eff = cJSON_GetObjectItemCaseSensitive(j, "effect");
	const cJSON *basis = cJSON_GetObjectItemCaseSensitive(j, "basis");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
	const cJSON *notes = cJSON_GetObjectItemCaseSensitive(j, "notes");
	const cJSON *when = cJSON_GetObjectItemCaseSensitive(j, "when");
	if (!id)
		return cc_fail(c, -EINVAL, "missing \"id\"");
	if (!eff)
		return cc_fail(c, -EINVAL, "missing \"effect\"");
	if (!basis)
		return cc_fail(c, -EINVAL, "missing \"basis\"");

	m = path_key(c, "id");
	if (get_text(c, id, POL_MAX_ID, &s))
		return c->rc;
	if (!valid_name(s, POL_MAX_ID, 1))
		return cc_fail(c, -EINVAL, "bad rule id '%s' (1-%d of A-Z, a-z, 0-9, '.', '_', '-')",
			       q(s, b), POL_MAX_ID);
	for (const struct pol_rule *o = c->p->rules; o < r; o++)
		if (strcmp(o->id, s) == 0)
			return cc_fail(c, -EINVAL, "duplicate rule id '%s'", q(s, b));
	if (!(r->id = pa_strdup(c->p, s)))
		return cc_fail(c, -ENOMEM, "out of memory");
	path_set(c, m);

	m = path_key(c, "effect");
	if (!cJSON_IsString(eff) ||
	    (strcmp(eff->valuestring, "permit") != 0 && strcmp(eff->valuestring, "forbid") != 0))
		return cc_fail(c, -EINVAL, "expected \"permit\" or \"forbid\"");
	r->forbid = eff->valuestring[0] == 'f';
	path_set(c, m);

	m = path_key(c, "basis");
	if (get_text(c, basis, POL_MAX_TEXT, &s))
		return c->rc;
	if (!(r->basis = pa_strdup(c->p, s)))
		return cc_fail(c, -ENOMEM, "out of memory");
	path_set(c, m);

	if (desc) {
		m = path_key(c, "description");
		if (get_text(c, desc, POL_MAX_TEXT, &s))
			return c->rc;
		if (!(r->description = pa_strdup(c->p, s)))
			return cc_fail(c, -ENOMEM, "out of memory");
		path_set(c, m);
	}
	if (notes) {
		m = path_key(c, "notes");
		if (get_notes(c, notes, &r->notes, &r->nnotes))
			return c->rc;
		path_set(c, m);
	}
	if (get_period(c, j, &r->from, &r->until))
		return c->rc;

	struct dnf d = { 0 };
	if (when) {
		m = path_key(c, "when");
		if (compile_cond(c, when, &r->when, &d)) {
			dnf_free(&d);
			return c->rc;
		}
		path_set(c, m);
	} else if (dnf_push(&d, 0, 0)) {
		return cc_fail(c, -ENOMEM, "out of memory");
	}

	struct policy *p = c->p;
	if (p->nclauses + d.n > c->clauses_cap) {
		uint32_t cap = c->clauses_cap ? c->clauses_cap * 2 : 64;
		while (cap < p->nclauses + d.n)
			cap *= 2;
		struct pol_clause *nc = realloc(p->clauses, cap * sizeof(*nc));
		if (!nc) {
			dnf_free(&d);
			return cc_fail(c, -ENOMEM, "out of memory");
		}
		p->clauses = nc;
		c->clauses_cap = cap;
	}
	r->first = p->nclauses;
	r->nclauses = d.n;
	r->all_must = r->all_mustnot = ~(uint64_t)0;
	for (uint32_t i = 0; i < d.n; i++) {
		r->all_must &= d.c[i].must;
		r->all_mustnot &= d.c[i].mustnot;
		p->clauses[p->nclauses++] = d.c[i];
	}
	dnf_free(&d);
	return 0;
}

static int compile_rules(struct cc *c, const cJSON *j)
{
	if (!cJSON_IsArray(j))
		return cc_fail(c, -EINVAL, "expected an array of rules");
	int n = cJSON_GetArraySize(j);
	if (n > POL_MAX_RULES)
		return cc_fail(c, -E2BIG, "more than %d rules", POL_MAX_RULES);
	c->p->rules = pa_alloc(c->p, sizeof(*c->p->rules) * (size_t)(n ? n : 1));
	if (!c->p->rules)
		return cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = path_idx(c, (size_t)i);
		if (compile_rule(c, it, &c->p->rules[i]))
			return c->rc;
		c->p->nrules = i + 1;
		path_set(c, m);
	}
	return 0;
}

/* ---- policy_compile ---- */

/* The whole document, in a fixed order (vocabulary, conditions, rules) so
 * that names are declared before they are used, whatever the key order. */
static int compile_doc(struct cc *c, const cJSON *root)
{
	static const char *const keys[] = { "format", "name",	    "description", "notes",
					    "vocabulary", "conditions", "rules",	 NULL };
	const char *s;
	size_t m;
	if (!cJSON_IsObject(root))
		return cc_fail(c, -EINVAL, "expected a policy object");
	if (check_keys(c, root, keys, "key"))
		return c->rc;
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
	const cJSON *notes = cJSON_GetObjectItemCaseSensitive(root, "notes");
	const cJSON *voc = cJSON_GetObjectItemCaseSensitive(root, "vocabulary");
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(root, "conditions");
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");

	if (fmt) {
		m = path_key(c, "format");
		if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 1.0)
			return cc_fail(c, -EINVAL, "unsupported format (this engine reads format 1)");
		path_set(c, m);
	}
	if (name) {
		m = path_key(c, "name");
		if (get_text(c, name, POL_MAX_TEXT, &s))
			return c->rc;
		if (!(c->p->name = pa_strdup(c->p, s)))
			return cc_fail(c, -ENOMEM, "out of memory");
		path_set(c, m);
	}
	if (desc) {
		m = path_key(c, "description");
		if (get_text(c, desc, POL_MAX_TEXT, &s))
			return c->rc;
		path_set(c, m);
	}
	if (notes) {
		const char **nv;
		uint32_t nn;
		m = path_key(c, "notes");
		if (get_notes(c, notes, &nv, &nn))
			return c->rc;
		path_set(c, m);
	}
	if (!voc)
		return cc_fail(c, -EINVAL, "missing \"vocabulary\"");
	if (!rules)
		return cc_fail(c, -EINVAL, "missing \"rules\"");
	m = path_key(c, "vocabulary");
	if (compile_vocabulary(c, voc))
		return c->rc;
	path_set(c, m);
	if (conds) {
		m = path_key(c, "conditions");
		if (compile_conditions(c, conds))
			return c->rc;
		path_set(c, m);
	}
	m = path_key(c, "rules");
	if (compile_rules(c, rules))
		return c->rc;
	path_set(c, m);
	return 0;
}

int policy_compile(const char *json, size_t len, struct policy **ret_policy, char *err,
		   size_t errlen)
{
	struct cc c;
	cJSON *root = NULL;
	const char *end = NULL;
	size_t line, col;

	memset(&c, 0, sizeof(c));
	c.err = err;
	c.errlen = errlen;
	path_append(&c, "$");
	if (err && errlen)
		err[0] = '\0';
	if (!json)
		return cc_fail(&c, -EINVAL, "no policy text");
	if (len > POL_MAX_BYTES)
		return cc_fail(&c, -E2BIG, "policy larger than %u bytes", POL_MAX_BYTES);
	if (check_text(&c, json, len))
		return c.rc;

	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root) {
		size_t off = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
		line_col(json, off, &line, &col);
		return cc_fail(&c, -EINVAL, "invalid JSON at line %zu, column %zu", line, col);
	}
	for (size_t off = (size_t)(end - json); off < len; off++) {
		char ch = json[off];
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
			line_col(json, off, &line, &col);
			cJSON_Delete(root);
			return cc_fail(&c, -EINVAL, "text after the JSON value at line %zu, column %zu",
				       line, col);
		}
	}

	c.p = calloc(1, sizeof(*c.p));
	if (!c.p) {
		cJSON_Delete(root);
		return cc_fail(&c, -ENOMEM, "out of memory");
	}
	c.p->arena.block = PA_BLOCK;
	int rc = compile_doc(&c, root);
	for (int i = 0; i < POL_MAX_CONDS; i++)
		dnf_free(&c.named[i].dnf);
	cJSON_Delete(root);
	if (rc) {
		policy_free(c.p);
		return rc;
	}
	*ret_policy = c.p;
	return 0;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	au_arena_free(&p->arena);
	free(p->clauses);
	free(p);
}

/* ---- accessors ---- */

int policy_role_index(const struct policy *p, const char *name)
{
	for (int i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i], name) == 0)
			return i;
	return -1;
}

int policy_sector_index(const struct policy *p, const char *name)
{
	for (int i = 0; i < p->nsectors; i++)
		if (strcmp(p->sectors[i], name) == 0)
			return i;
	return -1;
}

const char *policy_role_name(const struct policy *p, int i)
{
	return i >= 0 && i < p->nroles ? p->roles[i] : NULL;
}

const char *policy_sector_name(const struct policy *p, int i)
{
	return i >= 0 && i < p->nsectors ? p->sectors[i] : NULL;
}

int policy_nroles(const struct policy *p)
{
	return p->nroles;
}

int policy_nsectors(const struct policy *p)
{
	return p->nsectors;
}

int policy_nrules(const struct policy *p)
{
	return p->nrules;
}

const char *policy_rule_id(const struct policy *p, int rule)
{
	if (rule >= 0 && rule < p->nrules)
		return p->rules[rule].id;
	if (rule >= p->nrules && rule < p->nrules + POL_NBUILTIN)
		return pol_builtin_id[rule - p->nrules];
	return NULL;
}

const char *policy_rule_basis(const struct policy *p, int rule)
{
	if (rule >= 0 && rule < p->nrules)
		return p->rules[rule].basis;
	if (rule >= p->nrules && rule < p->nrules + POL_NBUILTIN)
		return pol_builtin_basis[rule - p->nrules];
	return NULL;
}

int policy_rule_is_forbid(const struct policy *p, int rule)
{
	if (rule >= 0 && rule < p->nrules)
		return p->rules[rule].forbid;
	if (rule >= p->nrules && rule < p->nrules + POL_NBUILTIN)
		return 1;
	return -1;
}

int policy_rule_find(const struct policy *p, const char *id)
{
	for (int i = 0; i < p->nrules + POL_NBUILTIN; i++)
		if (strcmp(policy_rule_id(p, i), id) == 0)
			return i;
	return -1;
}
