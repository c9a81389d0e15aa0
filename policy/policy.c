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
 * common values; vocabulary; rules; policy_compile; accessors.  Clause
 * sets and conditions are compiled in policy_cond.c; what the two files
 * share is in policy_cc.h.
 */
#include "policy.h"
#include "policy_cc.h"
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
	"CSAF 2.0 section 3.2.1.12.5 (document.tracking.initial_release_date); advisoryfs "
	"guard, our reading and not a statutory text: an advisory is provided to no one before "
	"its initial release date",
	"Our reading, not a statutory text (advisoryfs guard): an embargo agreed in coordinated "
	"vulnerability disclosure binds the NCSC; the advisory is provided to no one before the "
	"embargo ends",
	"Our reading, not a statutory text (advisoryfs guard): an advisory the NCSC has withdrawn "
	"is provided to no one from the withdrawal on",
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

/* ---- arena: everything of a compiled policy but its clause table ---- */

#define PA_BLOCK 16384

/* Zeroed memory owned by p, freed by policy_free(); NULL on out of memory. */
void *pol_alloc(struct policy *p, size_t n)
{
	return au_arena_alloc(&p->arena, n);
}

static char *pol_strdup(struct policy *p, const char *s)
{
	return au_arena_strndup(&p->arena, s, strlen(s));
}

/* ---- compiler state and error paths ---- */

/* Record the first error as "<path>: <message>"; returns rc. */
__attribute__((format(printf, 3, 4))) int pol_cc_fail(struct cc *c, int rc, const char *fmt,
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
const char *pol_q(const char *s, char buf[64])
{
	size_t i = 0;
	for (; s[i] && i < 60; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] && i == 60)
		buf[i - 1] = buf[i - 2] = buf[i - 3] = '.';
	buf[i] = '\0';
	return buf;
}

/* Append s to the path; returns the previous length for pol_path_set().  A
 * path too long for the buffer is cut (the message stays readable). */
size_t pol_path_append(struct cc *c, const char *s)
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
size_t pol_path_key(struct cc *c, const char *key)
{
	char qb[64], b[140];
	pol_q(key, qb);
	if (key_plain(key) && strlen(key) < 60) {
		size_t old = pol_path_append(c, ".");
		pol_path_append(c, qb);
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
	return pol_path_append(c, b);
}

size_t pol_path_idx(struct cc *c, size_t i)
{
	char b[32];
	snprintf(b, sizeof(b), "[%zu]", i);
	return pol_path_append(c, b);
}

void pol_path_set(struct cc *c, size_t len)
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
				return pol_cc_fail(c, -EINVAL, "nesting deeper than %d levels at line %zu, column %zu",
					       POL_MAX_DEPTH, line, col);
			}
		} else if (b == '}' || b == ']') {
			depth--;
		}
		if (why) {
			line_col(json, i, &line, &col);
			return pol_cc_fail(c, -EINVAL, "%s at line %zu, column %zu", why, line, col);
		}
		i++;
	}
	return 0;
}

/* ---- common values: names, keys, texts, times ---- */

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
int pol_check_keys(struct cc *c, const cJSON *obj, const char *const *allowed, const char *what)
{
	char b[64];
	for (const cJSON *it = obj->child; it; it = it->next) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, it->string) == 0;
		size_t m = pol_path_key(c, it->string);
		if (!ok)
			return pol_cc_fail(c, -EINVAL, "unknown %s '%s'", what, pol_q(it->string, b));
		for (const cJSON *pr = obj->child; pr != it; pr = pr->next)
			if (strcmp(pr->string, it->string) == 0)
				return pol_cc_fail(c, -EINVAL, "duplicate key '%s'", pol_q(it->string, b));
		pol_path_set(c, m);
	}
	return 0;
}

/* A string of 1..max bytes; *ret points into the JSON. */
static int get_text(struct cc *c, const cJSON *j, size_t max, const char **ret)
{
	if (!cJSON_IsString(j))
		return pol_cc_fail(c, -EINVAL, "expected a string");
	size_t n = strlen(j->valuestring);
	if (n == 0)
		return pol_cc_fail(c, -EINVAL, "empty string");
	if (n > max)
		return pol_cc_fail(c, -E2BIG, "longer than %zu bytes", max);
	/* texts reach explain output, extended attributes and the ledger:
	 * no control characters that could forge lines or steer a terminal */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)j->valuestring[i];
		if (ch < 0x20 || ch == 0x7f)
			return pol_cc_fail(c, -EINVAL, "control character (byte 0x%02x) at offset %zu", ch,
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
		const char **v = pol_alloc(c->p, sizeof(*v));
		if (get_text(c, j, POL_MAX_TEXT, &s))
			return c->rc;
		if (!v || !(v[0] = pol_strdup(c->p, s)))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		*ret_notes = v;
		*ret_n = 1;
		return 0;
	}
	if (!cJSON_IsArray(j))
		return pol_cc_fail(c, -EINVAL, "expected a string or an array of strings");
	int n = cJSON_GetArraySize(j);
	if (n > POL_MAX_NOTES)
		return pol_cc_fail(c, -E2BIG, "more than %d notes", POL_MAX_NOTES);
	const char **v = pol_alloc(c->p, sizeof(*v) * (size_t)(n ? n : 1));
	if (!v)
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = pol_path_idx(c, (size_t)i);
		if (get_text(c, it, POL_MAX_TEXT, &s))
			return c->rc;
		if (!(v[i] = pol_strdup(c->p, s)))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		pol_path_set(c, m);
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
		return pol_cc_fail(c, -EINVAL, "expected a date (YYYY-MM-DD) or date-time string");
	if (au_parse_time(j->valuestring, end_of_day, ret_t))
		return pol_cc_fail(c, -EINVAL, "bad date '%s'", pol_q(j->valuestring, b));
	return 0;
}

/* A validity period: optional "from" and "until" members of obj. */
int pol_get_period(struct cc *c, const cJSON *obj, int64_t *ret_from, int64_t *ret_until)
{
	int64_t from = AU_T_MIN, until = AU_T_MAX;
	const cJSON *jf = cJSON_GetObjectItemCaseSensitive(obj, "from");
	const cJSON *ju = cJSON_GetObjectItemCaseSensitive(obj, "until");
	size_t m;
	if (jf) {
		m = pol_path_key(c, "from");
		if (get_time(c, jf, 0, &from))
			return c->rc;
		pol_path_set(c, m);
	}
	if (ju) {
		m = pol_path_key(c, "until");
		if (get_time(c, ju, 1, &until))
			return c->rc;
		if (from > until)
			return pol_cc_fail(c, -EINVAL, "'until' is before 'from'");
		pol_path_set(c, m);
	}
	*ret_from = from;
	*ret_until = until;
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
		return pol_cc_fail(c, -EINVAL, "expected an array of names");
	int n = cJSON_GetArraySize(j);
	if (n > max)
		return pol_cc_fail(c, -E2BIG, "more than %d names", max);
	const char **v = pol_alloc(c->p, sizeof(*v) * (size_t)(n ? n : 1));
	if (!v)
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = pol_path_idx(c, (size_t)i);
		const cJSON *nm = it;
		if (cJSON_IsObject(it)) {
			if (pol_check_keys(c, it, keys, "key"))
				return c->rc;
			nm = cJSON_GetObjectItemCaseSensitive(it, "name");
			if (!nm)
				return pol_cc_fail(c, -EINVAL, "missing \"name\"");
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "description");
			const cJSON *no = cJSON_GetObjectItemCaseSensitive(it, "notes");
			const char *s;
			const char **notes;
			uint32_t nn;
			size_t m2;
			if (d) {
				m2 = pol_path_key(c, "description");
				if (get_text(c, d, POL_MAX_TEXT, &s))
					return c->rc;
				pol_path_set(c, m2);
			}
			if (no) {
				m2 = pol_path_key(c, "notes");
				if (get_notes(c, no, &notes, &nn))
					return c->rc;
				pol_path_set(c, m2);
			}
			pol_path_key(c, "name");
		}
		if (!cJSON_IsString(nm))
			return pol_cc_fail(c, -EINVAL, "expected a name");
		if (!valid_name(nm->valuestring, POL_MAX_NAME, 0))
			return pol_cc_fail(c, -EINVAL,
				       "bad name '%s' (1-%d of a-z, 0-9, '-', not starting with '-')",
				       pol_q(nm->valuestring, b), POL_MAX_NAME);
		for (int k = 0; k < i; k++)
			if (strcmp(v[k], nm->valuestring) == 0)
				return pol_cc_fail(c, -EINVAL, "duplicate name '%s'", pol_q(nm->valuestring, b));
		if (!(v[i] = pol_strdup(c->p, nm->valuestring)))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		pol_path_set(c, m);
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
		return pol_cc_fail(c, -EINVAL, "expected an object");
	if (pol_check_keys(c, j, keys, "key"))
		return c->rc;
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "roles");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sectors");
	const cJSON *no = cJSON_GetObjectItemCaseSensitive(j, "notes");
	size_t m;
	if (!r)
		return pol_cc_fail(c, -EINVAL, "missing \"roles\"");
	if (!s)
		return pol_cc_fail(c, -EINVAL, "missing \"sectors\"");
	m = pol_path_key(c, "roles");
	if (compile_names(c, r, W_MAX_ROLES, &c->p->roles, &c->p->nroles))
		return c->rc;
	pol_path_set(c, m);
	m = pol_path_key(c, "sectors");
	if (compile_names(c, s, W_MAX_SECTORS, &c->p->sectors, &c->p->nsectors))
		return c->rc;
	pol_path_set(c, m);
	if (no) {
		const char **notes;
		uint32_t nn;
		m = pol_path_key(c, "notes");
		if (get_notes(c, no, &notes, &nn))
			return c->rc;
		pol_path_set(c, m);
	}
	return 0;
}

/* "conditions": name -> condition; compiled in document order (a "use"
 * of a later one compiles that one first). */
static int compile_conditions(struct cc *c, const cJSON *j)
{
	char b[64];
	if (!cJSON_IsObject(j))
		return pol_cc_fail(c, -EINVAL, "expected an object of named conditions");
	int n = cJSON_GetArraySize(j);
	if (n > POL_MAX_CONDS)
		return pol_cc_fail(c, -E2BIG, "more than %d named conditions", POL_MAX_CONDS);
	c->p->conds = pol_alloc(c->p, sizeof(*c->p->conds) * (size_t)(n ? n : 1));
	if (!c->p->conds)
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = pol_path_key(c, it->string);
		if (!valid_name(it->string, POL_MAX_ID, 1))
			return pol_cc_fail(c, -EINVAL,
				       "bad condition name '%s' (1-%d of A-Z, a-z, 0-9, '.', '_', '-')",
				       pol_q(it->string, b), POL_MAX_ID);
		for (int k = 0; k < i; k++)
			if (strcmp(c->p->conds[k].name, it->string) == 0)
				return pol_cc_fail(c, -EINVAL, "duplicate condition name '%s'",
					       pol_q(it->string, b));
		pol_path_set(c, m);
		if (!(c->p->conds[i].name = pol_strdup(c->p, it->string)))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		c->named[i].json = it;
		c->p->nconds = i + 1;
	}
	for (i = 0; i < n; i++)
		if (c->named[i].state == 0 && pol_compile_named(c, i))
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
		return pol_cc_fail(c, -EINVAL, "expected a rule object");
	if (pol_check_keys(c, j, keys, "key"))
		return c->rc;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	const cJSON *eff = cJSON_GetObjectItemCaseSensitive(j, "effect");
	const cJSON *basis = cJSON_GetObjectItemCaseSensitive(j, "basis");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
	const cJSON *notes = cJSON_GetObjectItemCaseSensitive(j, "notes");
	const cJSON *when = cJSON_GetObjectItemCaseSensitive(j, "when");
	if (!id)
		return pol_cc_fail(c, -EINVAL, "missing \"id\"");
	if (!eff)
		return pol_cc_fail(c, -EINVAL, "missing \"effect\"");
	if (!basis)
		return pol_cc_fail(c, -EINVAL, "missing \"basis\"");

	m = pol_path_key(c, "id");
	if (get_text(c, id, POL_MAX_ID, &s))
		return c->rc;
	if (!valid_name(s, POL_MAX_ID, 1))
		return pol_cc_fail(c, -EINVAL, "bad rule id '%s' (1-%d of A-Z, a-z, 0-9, '.', '_', '-')",
			       pol_q(s, b), POL_MAX_ID);
	for (const struct pol_rule *o = c->p->rules; o < r; o++)
		if (strcmp(o->id, s) == 0)
			return pol_cc_fail(c, -EINVAL, "duplicate rule id '%s'", pol_q(s, b));
	if (!(r->id = pol_strdup(c->p, s)))
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	pol_path_set(c, m);

	m = pol_path_key(c, "effect");
	if (!cJSON_IsString(eff) ||
	    (strcmp(eff->valuestring, "permit") != 0 && strcmp(eff->valuestring, "forbid") != 0))
		return pol_cc_fail(c, -EINVAL, "expected \"permit\" or \"forbid\"");
	r->forbid = eff->valuestring[0] == 'f';
	pol_path_set(c, m);

	m = pol_path_key(c, "basis");
	if (get_text(c, basis, POL_MAX_TEXT, &s))
		return c->rc;
	if (!(r->basis = pol_strdup(c->p, s)))
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	pol_path_set(c, m);

	if (desc) {
		m = pol_path_key(c, "description");
		if (get_text(c, desc, POL_MAX_TEXT, &s))
			return c->rc;
		if (!(r->description = pol_strdup(c->p, s)))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		pol_path_set(c, m);
	}
	if (notes) {
		m = pol_path_key(c, "notes");
		if (get_notes(c, notes, &r->notes, &r->nnotes))
			return c->rc;
		pol_path_set(c, m);
	}
	if (pol_get_period(c, j, &r->from, &r->until))
		return c->rc;

	struct dnf d = { 0 };
	if (when) {
		m = pol_path_key(c, "when");
		if (pol_compile_cond(c, when, &r->when, &d)) {
			pol_dnf_free(&d);
			return c->rc;
		}
		pol_path_set(c, m);
	} else if (pol_dnf_push(&d, 0, 0)) {
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	}

	struct policy *p = c->p;
	if (p->nclauses + d.n > c->clauses_cap) {
		uint32_t cap = c->clauses_cap ? c->clauses_cap * 2 : 64;
		while (cap < p->nclauses + d.n)
			cap *= 2;
		struct pol_clause *nc = realloc(p->clauses, cap * sizeof(*nc));
		if (!nc) {
			pol_dnf_free(&d);
			return pol_cc_fail(c, -ENOMEM, "out of memory");
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
	pol_dnf_free(&d);
	return 0;
}

static int compile_rules(struct cc *c, const cJSON *j)
{
	if (!cJSON_IsArray(j))
		return pol_cc_fail(c, -EINVAL, "expected an array of rules");
	int n = cJSON_GetArraySize(j);
	if (n > POL_MAX_RULES)
		return pol_cc_fail(c, -E2BIG, "more than %d rules", POL_MAX_RULES);
	c->p->rules = pol_alloc(c->p, sizeof(*c->p->rules) * (size_t)(n ? n : 1));
	if (!c->p->rules)
		return pol_cc_fail(c, -ENOMEM, "out of memory");
	int i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		size_t m = pol_path_idx(c, (size_t)i);
		if (compile_rule(c, it, &c->p->rules[i]))
			return c->rc;
		c->p->nrules = i + 1;
		pol_path_set(c, m);
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
		return pol_cc_fail(c, -EINVAL, "expected a policy object");
	if (pol_check_keys(c, root, keys, "key"))
		return c->rc;
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
	const cJSON *notes = cJSON_GetObjectItemCaseSensitive(root, "notes");
	const cJSON *voc = cJSON_GetObjectItemCaseSensitive(root, "vocabulary");
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(root, "conditions");
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");

	if (fmt) {
		m = pol_path_key(c, "format");
		if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 1.0)
			return pol_cc_fail(c, -EINVAL, "unsupported format (this engine reads format 1)");
		pol_path_set(c, m);
	}
	if (name) {
		m = pol_path_key(c, "name");
		if (get_text(c, name, POL_MAX_TEXT, &s))
			return c->rc;
		if (!(c->p->name = pol_strdup(c->p, s)))
			return pol_cc_fail(c, -ENOMEM, "out of memory");
		pol_path_set(c, m);
	}
	if (desc) {
		m = pol_path_key(c, "description");
		if (get_text(c, desc, POL_MAX_TEXT, &s))
			return c->rc;
		pol_path_set(c, m);
	}
	if (notes) {
		const char **nv;
		uint32_t nn;
		m = pol_path_key(c, "notes");
		if (get_notes(c, notes, &nv, &nn))
			return c->rc;
		pol_path_set(c, m);
	}
	if (!voc)
		return pol_cc_fail(c, -EINVAL, "missing \"vocabulary\"");
	if (!rules)
		return pol_cc_fail(c, -EINVAL, "missing \"rules\"");
	m = pol_path_key(c, "vocabulary");
	if (compile_vocabulary(c, voc))
		return c->rc;
	pol_path_set(c, m);
	if (conds) {
		m = pol_path_key(c, "conditions");
		if (compile_conditions(c, conds))
			return c->rc;
		pol_path_set(c, m);
	}
	m = pol_path_key(c, "rules");
	if (compile_rules(c, rules))
		return c->rc;
	pol_path_set(c, m);
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
	pol_path_append(&c, "$");
	if (err && errlen)
		err[0] = '\0';
	if (!json)
		return pol_cc_fail(&c, -EINVAL, "no policy text");
	if (len > POL_MAX_BYTES)
		return pol_cc_fail(&c, -E2BIG, "policy larger than %u bytes", POL_MAX_BYTES);
	if (check_text(&c, json, len))
		return c.rc;

	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root) {
		size_t off = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
		line_col(json, off, &line, &col);
		return pol_cc_fail(&c, -EINVAL, "invalid JSON at line %zu, column %zu", line, col);
	}
	for (size_t off = (size_t)(end - json); off < len; off++) {
		char ch = json[off];
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
			line_col(json, off, &line, &col);
			cJSON_Delete(root);
			return pol_cc_fail(&c, -EINVAL, "text after the JSON value at line %zu, column %zu",
				       line, col);
		}
	}

	c.p = calloc(1, sizeof(*c.p));
	if (!c.p) {
		cJSON_Delete(root);
		return pol_cc_fail(&c, -ENOMEM, "out of memory");
	}
	c.p->arena.block = PA_BLOCK;
	int rc = compile_doc(&c, root);
	for (int i = 0; i < POL_MAX_CONDS; i++)
		pol_dnf_free(&c.named[i].dnf);
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

const char *policy_name(const struct policy *p)
{
	return p->name ? p->name : "(unnamed)";
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
