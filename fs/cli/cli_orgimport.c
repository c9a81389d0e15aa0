/*
 * cli_orgimport.c - `advisoryfs org import FILE|-`: many organisations at
 * once, with their sectors, bindings, dated roles and memberships, from a
 * CSV file (a spreadsheet's export) or from the JSON that `org list --json`
 * prints (so a list exported from one store loads into another).
 *
 * All or nothing: the whole file is checked first (every error reported
 * with its line and field, not only the first), then written in one
 * transaction, a savepoint per organisation so that a refusal by the store
 * still lets the rest be checked; one error and the transaction is rolled
 * back, leaving the store as it was.
 *
 * Sections: the parsed entries; CSV (records, cells); JSON; writing to the
 * store; the command.
 *
 * Limits: the input is at most OI_MAX_BYTES, at most OI_MAX_ORGS
 * organisations, OI_MAX_FIELDS columns; every string is checked by the
 * store's own rules (slug, name 1-256 bytes, ref 1024 bytes).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "policy.h"
#include "store.h"
#include "util.h"

#define OI_MAX_BYTES (64u << 20)
#define OI_MAX_ORGS 200000
#define OI_MAX_FIELDS 16
#define OI_MAX_ITEMS 64        /* sectors, roles or memberships in one cell */
#define OI_MAX_REPORTED 200    /* error lines printed; the count is always exact */

/* ---- the parsed entries -------------------------------------------------------------- */

struct oi_role {
	const char *role;
	int64_t from, until;
	const char *ref;            /* NULL: none */
	char field[40];             /* "roles" item or JSON path, for messages */
};

struct oi_pair {
	const char *schakel, *member;
	int64_t from, until;
	int line;
	int bad;                    /* refused while parsing: not written */
	char field[40];
};

/* A certificate binding, as `org list --json` prints it (JSON only). */
struct oi_cert {
	struct store_cert c;
	char field[40];
};

struct oi_org {
	int line;                   /* where its record (CSV) or object (JSON) starts */
	const char *slug, *name;
	const char *sectors[OI_MAX_ITEMS];
	size_t nsectors;
	int64_t uid, gid;           /* -1: not bound */
	size_t role0, nroles;       /* its roles in oi.roles */
	size_t cert0, ncerts;       /* its certificates in oi.certs */
	int bad;                    /* refused while parsing: not written */
};

struct oi {
	const char *src;            /* the file name, or "-" (stdin), for messages */
	const struct policy *p;     /* the active policy's vocabulary */
	struct au_arena strs;       /* every string of the entries */
	struct oi_org *orgs;
	size_t norgs, corgs;
	struct oi_role *roles;
	size_t nroles, croles;
	struct oi_pair *pairs;
	size_t npairs, cpairs;
	struct oi_cert *certs;
	size_t ncerts, ccerts;
	long nerr;
};

/* One error: "advisoryfs: org import: SRC:LINE: FIELD: why" (the first
 * OI_MAX_REPORTED of them; all are counted). */
__attribute__((format(printf, 4, 5))) static void oi_err(struct oi *x, int line, const char *field,
							 const char *fmt, ...)
{
	if (x->nerr++ >= OI_MAX_REPORTED)
		return;
	char why[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (field && *field)
		cmd_err("org import: %s:%d: %s: %s", ESC(x->src), line, ESC(field), ESC(why));
	else
		cmd_err("org import: %s:%d: %s", ESC(x->src), line, ESC(why));
}

static const char *oi_strdup(struct oi *x, const char *s, size_t len)
{
	return au_arena_strndup(&x->strs, s, len);
}

static struct oi_org *oi_new_org(struct oi *x, int line)
{
	struct oi_org *n = au_grow(x->orgs, &x->corgs, x->norgs + 1, sizeof(*n), 256);
	if (!n)
		return NULL;
	x->orgs = n;
	struct oi_org *o = &x->orgs[x->norgs++];
	memset(o, 0, sizeof(*o));
	o->line = line;
	o->uid = o->gid = -1;
	o->role0 = x->nroles;
	return o;
}

static struct oi_role *oi_new_role(struct oi *x)
{
	struct oi_role *n = au_grow(x->roles, &x->croles, x->nroles + 1, sizeof(*n), 256);
	if (!n)
		return NULL;
	x->roles = n;
	memset(&n[x->nroles], 0, sizeof(*n));
	return &n[x->nroles++];
}

static struct oi_cert *oi_new_cert(struct oi *x)
{
	struct oi_cert *n = au_grow(x->certs, &x->ccerts, x->ncerts + 1, sizeof(*n), 16);
	if (!n)
		return NULL;
	x->certs = n;
	memset(&n[x->ncerts], 0, sizeof(*n));
	return &n[x->ncerts++];
}

static struct oi_pair *oi_new_pair(struct oi *x)
{
	struct oi_pair *n = au_grow(x->pairs, &x->cpairs, x->npairs + 1, sizeof(*n), 256);
	if (!n)
		return NULL;
	x->pairs = n;
	memset(&n[x->npairs], 0, sizeof(*n));
	return &n[x->npairs++];
}

/* Checks of one value that the store would also make, here so that the
 * message names the line and the field. */
static void oi_check_slug(struct oi *x, int line, const char *field, const char *slug)
{
	if (!au_slug_valid(slug))
		oi_err(x, line, field, "invalid slug '%s' (1-64 of a-z, 0-9 and '-', not starting "
		       "with '-')", slug);
	else if (!strcmp(slug, "public"))
		oi_err(x, line, field, "the slug 'public' is reserved for the public view");
}

/* A time of a period; empty or NULL is the open end.  0, or -1 after
 * reporting the error. */
static int oi_time(struct oi *x, int line, const char *field, const char *s, int end_of_day,
		   int64_t *ret)
{
	if (!s || !*s) {
		*ret = end_of_day ? AU_T_MAX : AU_T_MIN;
		return 0;
	}
	if (au_parse_time(s, end_of_day, ret) < 0) {
		oi_err(x, line, field, "not a time: '%s' (use 2022-12-01 or 2022-12-01T09:00:00Z)", s);
		return -1;
	}
	return 0;
}

static void oi_check_period(struct oi *x, int line, const char *field, int64_t from,
			    int64_t until)
{
	if (from != AU_T_MIN && until != AU_T_MAX && from > until)
		oi_err(x, line, field, "'from' is after 'until'");
}

static void oi_check_role(struct oi *x, int line, const struct oi_role *r)
{
	if (policy_role_index(x->p, r->role) < 0)
		oi_err(x, line, r->field, "unknown role '%s' (the active policy declares the roles; "
		       "see 'advisoryfs policy show')", r->role);
	if (r->ref && strlen(r->ref) > 1024)
		oi_err(x, line, r->field, "ref longer than 1024 bytes");
	oi_check_period(x, line, r->field, r->from, r->until);
}

static void oi_check_sector(struct oi *x, int line, const char *field, const char *sector)
{
	if (policy_sector_index(x->p, sector) < 0)
		oi_err(x, line, field, "unknown sector '%s' (the policy declares the sectors; see "
		       "'advisoryfs policy show')", sector);
}

static void oi_check_name(struct oi *x, int line, const char *name)
{
	if (!name || !*name || strlen(name) > 256)
		oi_err(x, line, "name", "must be 1-256 bytes");
}

/* After parsing the last organisation (and the memberships from p0 on):
 * when it brought errors, neither it nor they are written (the store would
 * only refuse them again), but the rest still is, for its errors. */
static void oi_mark(struct oi *x, long nerr_before, size_t p0)
{
	if (x->nerr == nerr_before)
		return;
	x->orgs[x->norgs - 1].bad = 1;
	for (size_t i = p0; i < x->npairs; i++)
		x->pairs[i].bad = 1;
}

/* ---- CSV ------------------------------------------------------------------------------ */

/*
 * RFC 4180 records: fields separated by ',', optionally in double quotes
 * (a quote inside doubled), records ended by LF or CRLF; a quoted field may
 * hold commas and line breaks.  A UTF-8 byte order mark at the start is
 * skipped (spreadsheets write one).
 */
struct csv {
	const char *p, *end;
	int line;                   /* the line p is on */
	char *buf;                  /* one field, unquoted */
	size_t cap;
};

/*
 * The next record into fields[] (arena copies), *ret_n of them, and the
 * line it starts on.  Returns 1 for a record, 0 at the end, -1 after
 * reporting a malformed one (the rest of the file is then not read: where
 * a quote ends is no longer known).
 */
static int csv_record(struct oi *x, struct csv *c, const char **fields, int *ret_n, int *ret_line)
{
	int n = 0;
	if (c->p >= c->end)
		return 0;
	*ret_line = c->line;
	for (;;) {
		size_t len = 0;
		int quoted = 0;
		if (c->p < c->end && *c->p == '"') {
			quoted = 1;
			c->p++;
		}
		for (;;) {
			if (c->p >= c->end) {
				if (quoted) {
					oi_err(x, *ret_line, NULL, "a quoted field is not closed");
					return -1;
				}
				break;
			}
			char ch = *c->p;
			if (ch == '\0') {
				oi_err(x, c->line, NULL, "a NUL byte (not a text file)");
				return -1;
			}
			if (quoted && ch == '"') {
				if (c->p + 1 < c->end && c->p[1] == '"') {
					c->p++;
				} else {
					c->p++;
					quoted = 0;
					if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
					    *c->p != '\r') {
						oi_err(x, c->line, NULL, "text after a closing quote");
						return -1;
					}
					continue;
				}
			} else if (!quoted && (ch == ',' || ch == '\n' ||
					       (ch == '\r' && c->p + 1 < c->end && c->p[1] == '\n'))) {
				break;
			}
			if (ch == '\n')
				c->line++;
			char *nb = au_grow(c->buf, &c->cap, len + 2, 1, 256);
			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->buf[len++] = ch;
			c->p++;
		}
		if (n == OI_MAX_FIELDS) {
			oi_err(x, *ret_line, NULL, "more than %d fields", OI_MAX_FIELDS);
			return -1;
		}
		if (!(fields[n++] = oi_strdup(x, c->buf, len)))
			return -ENOMEM;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		break;
	}
	*ret_n = n;
	return 1;
}

/*
 * The encoding of a multi-valued cell (docs/advisoryfs.1, "org import"):
 * items separated by ';', the parts of an item by '|', a backslash takes
 * the next character literally (\; \| \\); spaces around items and parts
 * are dropped.  Splits cell into at most max items of at most 4 parts
 * each into parts[0..max] (max + 1 rows: the row after the last takes the
 * parts of an item too many); arena copies, unescaped, a missing part "".  Returns the item
 * count, or -1 for too many items or parts (reported).
 */
static int csv_split(struct oi *x, int line, const char *field, const char *cell,
		     const char *parts[][4], int max)
{
	int n = 0, k = 0;
	size_t len = strlen(cell);
	char *tmp = malloc(len + 1);
	if (!tmp)
		return -ENOMEM;
	size_t t = 0;
	int any = 0;
	for (size_t i = 0;; i++) {
		char ch = i < len ? cell[i] : '\0';
		if (ch == '\\' && i + 1 < len) {
			tmp[t++] = cell[++i];
			any = 1;
			continue;
		}
		if (ch == '|' || ch == ';' || ch == '\0') {
			/* the part ends: trim it */
			size_t a = 0, b = t;
			while (a < b && (tmp[a] == ' ' || tmp[a] == '\t'))
				a++;
			while (b > a && (tmp[b - 1] == ' ' || tmp[b - 1] == '\t'))
				b--;
			if (b > a)
				any = 1;
			if (k == 4) {
				oi_err(x, line, field, "item %d has more than 4 parts", n + 1);
				free(tmp);
				return -1;
			}
			if (!(parts[n][k++] = oi_strdup(x, tmp + a, b - a))) {
				free(tmp);
				return -ENOMEM;
			}
			t = 0;
			if (ch == '|')
				continue;
			/* the item ends; an empty one (";;", or an empty cell) is dropped */
			if (any) {
				if (n == max) {
					oi_err(x, line, field, "more than %d items", max);
					free(tmp);
					return -1;
				}
				for (; k < 4; k++)
					parts[n][k] = "";
				n++;
			}
			k = 0;
			any = 0;
			if (ch == '\0')
				break;
			continue;
		}
		tmp[t++] = ch;
	}
	free(tmp);
	return n;
}

enum { COL_SLUG, COL_NAME, COL_SECTORS, COL_UID, COL_GID, COL_ROLES, COL_MEMBERS, COL_MEMBER_OF,
       NCOLS };
static const char *const col_names[NCOLS] = { "slug",  "name",    "sectors",  "uid",
					      "gid",   "roles",   "members",  "member_of" };

static int csv_id(struct oi *x, int line, const char *field, const char *s, int64_t *ret)
{
	char *end;
	if (!*s) {
		*ret = -1;
		return 0;
	}
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > (long long)UINT32_MAX - 1) {
		oi_err(x, line, field, "not an account number: '%s'", s);
		return -1;
	}
	*ret = v;
	return 0;
}

/* A membership cell (members or member_of) of org o into x->pairs. */
static int csv_pairs(struct oi *x, const struct oi_org *o, const char *cell, int member_of)
{
	const char *parts[OI_MAX_ITEMS + 1][4];
	const char *field = col_names[member_of ? COL_MEMBER_OF : COL_MEMBERS];
	int n = csv_split(x, o->line, field, cell, parts, OI_MAX_ITEMS);
	if (n < 0)
		return n == -1 ? 0 : n;
	for (int i = 0; i < n; i++) {
		struct oi_pair *pr = oi_new_pair(x);
		if (!pr)
			return -ENOMEM;
		pr->line = o->line;
		snprintf(pr->field, sizeof(pr->field), "%s item %d", field, i + 1);
		pr->schakel = member_of ? parts[i][0] : o->slug;
		pr->member = member_of ? o->slug : parts[i][0];
		if (*parts[i][3])
			oi_err(x, o->line, pr->field, "a membership has 3 parts: SLUG|FROM|UNTIL");
		oi_check_slug(x, o->line, pr->field, parts[i][0]);
		if (!oi_time(x, o->line, pr->field, parts[i][1], 0, &pr->from) &&
		    !oi_time(x, o->line, pr->field, parts[i][2], 1, &pr->until))
			oi_check_period(x, o->line, pr->field, pr->from, pr->until);
	}
	return 0;
}

/* One CSV data record into x (errors reported); 0 or -ENOMEM. */
static int csv_org(struct oi *x, const int *col, const char **f, int nf, int line)
{
	const char *cell[NCOLS];
	for (int k = 0; k < NCOLS; k++)
		cell[k] = col[k] >= 0 && col[k] < nf ? f[col[k]] : "";
	struct oi_org *o = oi_new_org(x, line);
	if (!o)
		return -ENOMEM;
	o->slug = cell[COL_SLUG];
	o->name = cell[COL_NAME];
	oi_check_slug(x, line, "slug", o->slug);
	oi_check_name(x, line, o->name);
	csv_id(x, line, "uid", cell[COL_UID], &o->uid);
	csv_id(x, line, "gid", cell[COL_GID], &o->gid);

	const char *parts[OI_MAX_ITEMS + 1][4];
	int n = csv_split(x, line, "sectors", cell[COL_SECTORS], parts, OI_MAX_ITEMS);
	if (n < -1)
		return n;
	for (int i = 0; i < n; i++) {
		if (*parts[i][1])
			oi_err(x, line, "sectors", "a sector is one name, without '|'");
		oi_check_sector(x, line, "sectors", parts[i][0]);
		o->sectors[o->nsectors++] = parts[i][0];
	}
	n = csv_split(x, line, "roles", cell[COL_ROLES], parts, OI_MAX_ITEMS);
	if (n < -1)
		return n;
	for (int i = 0; i < n; i++) {
		struct oi_role *r = oi_new_role(x);
		if (!r)
			return -ENOMEM;
		o->nroles++;
		snprintf(r->field, sizeof(r->field), "roles item %d", i + 1);
		r->role = parts[i][0];
		r->ref = *parts[i][3] ? parts[i][3] : NULL;
		if (!oi_time(x, line, r->field, parts[i][1], 0, &r->from) &&
		    !oi_time(x, line, r->field, parts[i][2], 1, &r->until))
			oi_check_role(x, line, r);
	}
	int r;
	if ((r = csv_pairs(x, o, cell[COL_MEMBERS], 0)) || (r = csv_pairs(x, o, cell[COL_MEMBER_OF], 1)))
		return r;
	return 0;
}

/* A whole CSV file into x; 0 or -ENOMEM (errors in the input are
 * reported and counted in x->nerr). */
static int csv_parse(struct oi *x, const char *text, size_t len)
{
	struct csv c = { .p = text, .end = text + len, .line = 1 };
	const char *f[OI_MAX_FIELDS];
	int col[NCOLS], nf = 0, line = 0, r;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		c.p += 3;
	for (int k = 0; k < NCOLS; k++)
		col[k] = -1;
	r = csv_record(x, &c, f, &nf, &line);
	if (r <= 0) {
		if (r == 0)
			oi_err(x, 1, NULL, "empty file: the first line must be the header");
		free(c.buf);
		return r == -ENOMEM ? r : 0;
	}
	int nhead = nf;
	for (int i = 0; i < nf; i++) {
		int k = 0;
		while (k < NCOLS && strcmp(f[i], col_names[k]))
			k++;
		if (k == NCOLS)
			oi_err(x, line, f[i], "unknown column (the header names slug, name, sectors, "
			       "uid, gid, roles, members, member_of)");
		else if (col[k] >= 0)
			oi_err(x, line, f[i], "column given twice");
		else
			col[k] = i;
	}
	if (col[COL_SLUG] < 0 || col[COL_NAME] < 0)
		oi_err(x, line, col[COL_SLUG] < 0 ? "slug" : "name", "the header has no such column");
	if (x->nerr) {
		free(c.buf);
		return 0;
	}
	while ((r = csv_record(x, &c, f, &nf, &line)) == 1) {
		if (nf == 1 && !*f[0])
			continue;   /* a blank line */
		if (x->norgs == OI_MAX_ORGS) {
			oi_err(x, line, NULL, "more than %d organisations", OI_MAX_ORGS);
			break;
		}
		if (nf != nhead)
			oi_err(x, line, NULL, "%d field%s, the header has %d", nf, nf == 1 ? "" : "s",
			       nhead);
		long before = x->nerr;
		size_t p0 = x->npairs;
		if ((r = csv_org(x, col, f, nf, line)))
			break;
		oi_mark(x, before, p0);
	}
	free(c.buf);
	return r == -ENOMEM ? r : 0;
}

/* ---- JSON ----------------------------------------------------------------------------- */

/*
 * The line on which each element of the top-level array starts: cJSON
 * keeps no positions, so a scan that knows strings and nesting finds them.
 * Fills lines[0..max) and returns the number found.
 */
static size_t json_element_lines(const char *s, size_t len, int *lines, size_t max)
{
	int line = 1, depth = 0, instr = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '\n')
			line++;
		if (instr) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				instr = 0;
			continue;
		}
		if (ch == '"') {
			instr = 1;
			if (depth == 1 && n < max)
				lines[n++] = line;
		} else if (ch == '[' || ch == '{') {
			if (depth == 1 && n < max)
				lines[n++] = line;
			depth++;
		} else if (ch == ']' || ch == '}') {
			depth--;
		} else if (depth == 1 && ch != ',' && ch != ' ' && ch != '\t' && ch != '\n' &&
			   ch != '\r') {
			/* a number, true, false or null: its first character only */
			if (n < max && (i == 0 || strchr(",[ \t\r\n", s[i - 1])))
				lines[n++] = line;
		}
	}
	return n;
}

/* A string member (NULL when absent or JSON null, else it must be a string). */
static const char *json_str(struct oi *x, int line, const cJSON *o, const char *key,
			    const char *path, int required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v)) {
		if (required)
			oi_err(x, line, path, "missing");
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		oi_err(x, line, path, "must be a string");
		return NULL;
	}
	return oi_strdup(x, v->valuestring, strlen(v->valuestring));
}

/* Every key of o must be one of keys. */
static void json_keys(struct oi *x, int line, const cJSON *o, const char *prefix,
		      const char *const *keys)
{
	for (const cJSON *it = o->child; it; it = it->next) {
		int k = 0;
		while (keys[k] && strcmp(keys[k], it->string))
			k++;
		if (!keys[k]) {
			char path[96];
			snprintf(path, sizeof(path), "%s%.60s", prefix, it->string);
			oi_err(x, line, path, "unknown field");
		}
	}
}

static const cJSON *json_array(struct oi *x, int line, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsArray(v)) {
		oi_err(x, line, key, "must be an array");
		return NULL;
	}
	if (cJSON_GetArraySize(v) > OI_MAX_ITEMS) {
		oi_err(x, line, key, "more than %d items", OI_MAX_ITEMS);
		return NULL;
	}
	return v;
}

static void json_id(struct oi *x, int line, const cJSON *o, const char *key, int64_t *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*ret = -1;
	if (!v || cJSON_IsNull(v))
		return;
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (d < 0 || d > (double)UINT32_MAX - 1 || d != (double)(int64_t)d) {
		oi_err(x, line, key, "must be an account number or null");
		return;
	}
	*ret = (int64_t)d;
}

/* A period's "from" and "until" members (at path). */
static int json_period(struct oi *x, int line, const cJSON *o, const char *path, int64_t *from,
		       int64_t *until)
{
	char pf[64], pu[64];
	snprintf(pf, sizeof(pf), "%s.from", path);
	snprintf(pu, sizeof(pu), "%s.until", path);
	const char *f = json_str(x, line, o, "from", pf, 0), *u = json_str(x, line, o, "until", pu, 0);
	if (oi_time(x, line, pf, f, 0, from) || oi_time(x, line, pu, u, 1, until))
		return -1;
	oi_check_period(x, line, path, *from, *until);
	return 0;
}

/* An organisation's "certificates": the bindings by their recorded facts
 * (fingerprints, subject, validity), so a list moves between stores. */
static int json_certs(struct oi *x, int line, const cJSON *jo, struct oi_org *o)
{
	static const char *const cert_keys[] = { "sha256", "sha1", "subject", "not_before",
						 "not_after", NULL };
	const cJSON *a = json_array(x, line, jo, "certificates"), *it;
	int i = 0;
	o->cert0 = x->ncerts;
	cJSON_ArrayForEach(it, a) {
		struct oi_cert *c = oi_new_cert(x);
		if (!c)
			return -ENOMEM;
		o->ncerts++;
		snprintf(c->field, sizeof(c->field), "certificates[%d]", i++);
		if (!cJSON_IsObject(it)) {
			oi_err(x, line, c->field, "must be an object");
			continue;
		}
		char pre[56], p256[56], p1[56], ps[56], pb[56], pa[56];
		snprintf(pre, sizeof(pre), "%s.", c->field);
		snprintf(p256, sizeof(p256), "%s.sha256", c->field);
		snprintf(p1, sizeof(p1), "%s.sha1", c->field);
		snprintf(ps, sizeof(ps), "%s.subject", c->field);
		snprintf(pb, sizeof(pb), "%s.not_before", c->field);
		snprintf(pa, sizeof(pa), "%s.not_after", c->field);
		json_keys(x, line, it, pre, cert_keys);
		const char *h256 = json_str(x, line, it, "sha256", p256, 1);
		const char *h1 = json_str(x, line, it, "sha1", p1, 1);
		const char *b = json_str(x, line, it, "not_before", pb, 1);
		const char *e = json_str(x, line, it, "not_after", pa, 1);
		c->c.subject = json_str(x, line, it, "subject", ps, 1);
		if (h256 && au_unhex(h256, c->c.sha256, sizeof(c->c.sha256)))
			oi_err(x, line, p256, "must be 64 hex digits");
		if (h1 && au_unhex(h1, c->c.sha1, sizeof(c->c.sha1)))
			oi_err(x, line, p1, "must be 40 hex digits");
		if (b)
			oi_time(x, line, pb, b, 0, &c->c.not_before);
		if (e)
			oi_time(x, line, pa, e, 0, &c->c.not_after);
		if (!c->c.subject)
			c->c.subject = "";
	}
	return 0;
}

/* One element of the array (an organisation, as `org list --json` prints it). */
static int json_org(struct oi *x, const cJSON *jo, int line)
{
	static const char *const org_keys[] = { "slug", "name", "sectors", "uid", "gid",
						"roles", "members", "certificates", NULL };
	static const char *const role_keys[] = { "role", "from", "until", "ref", NULL };
	static const char *const member_keys[] = { "member", "from", "until", NULL };
	if (!cJSON_IsObject(jo)) {
		oi_err(x, line, NULL, "an organisation must be a JSON object");
		return 0;
	}
	struct oi_org *o = oi_new_org(x, line);
	if (!o)
		return -ENOMEM;
	json_keys(x, line, jo, "", org_keys);
	o->slug = json_str(x, line, jo, "slug", "slug", 1);
	o->name = json_str(x, line, jo, "name", "name", 1);
	if (o->slug)
		oi_check_slug(x, line, "slug", o->slug);
	else
		o->slug = "";
	if (o->name)
		oi_check_name(x, line, o->name);
	json_id(x, line, jo, "uid", &o->uid);
	json_id(x, line, jo, "gid", &o->gid);

	const cJSON *a = json_array(x, line, jo, "sectors"), *it;
	int i = 0;
	cJSON_ArrayForEach(it, a) {
		char path[32];
		snprintf(path, sizeof(path), "sectors[%d]", i++);
		if (!cJSON_IsString(it)) {
			oi_err(x, line, path, "must be a string");
			continue;
		}
		oi_check_sector(x, line, path, it->valuestring);
		if (!(o->sectors[o->nsectors++] = oi_strdup(x, it->valuestring,
							       strlen(it->valuestring))))
			return -ENOMEM;
	}
	a = json_array(x, line, jo, "roles");
	i = 0;
	cJSON_ArrayForEach(it, a) {
		struct oi_role *r = oi_new_role(x);
		if (!r)
			return -ENOMEM;
		o->nroles++;
		snprintf(r->field, sizeof(r->field), "roles[%d]", i++);
		if (!cJSON_IsObject(it)) {
			oi_err(x, line, r->field, "must be an object");
			r->role = "";
			continue;
		}
		char pre[48], pr[48], pref[48];
		snprintf(pre, sizeof(pre), "%s.", r->field);
		snprintf(pr, sizeof(pr), "%s.role", r->field);
		snprintf(pref, sizeof(pref), "%s.ref", r->field);
		json_keys(x, line, it, pre, role_keys);
		r->role = json_str(x, line, it, "role", pr, 1);
		r->ref = json_str(x, line, it, "ref", pref, 0);
		if (!r->role)
			r->role = "";
		else if (!json_period(x, line, it, r->field, &r->from, &r->until))
			oi_check_role(x, line, r);
	}
	a = json_array(x, line, jo, "members");
	i = 0;
	cJSON_ArrayForEach(it, a) {
		struct oi_pair *pr = oi_new_pair(x);
		if (!pr)
			return -ENOMEM;
		pr->line = line;
		pr->schakel = o->slug;
		snprintf(pr->field, sizeof(pr->field), "members[%d]", i++);
		if (!cJSON_IsObject(it)) {
			oi_err(x, line, pr->field, "must be an object");
			pr->member = "";
			continue;
		}
		char pre[48], pm[48];
		snprintf(pre, sizeof(pre), "%s.", pr->field);
		snprintf(pm, sizeof(pm), "%s.member", pr->field);
		json_keys(x, line, it, pre, member_keys);
		pr->member = json_str(x, line, it, "member", pm, 1);
		if (!pr->member)
			pr->member = "";
		else
			oi_check_slug(x, line, pm, pr->member);
		json_period(x, line, it, pr->field, &pr->from, &pr->until);
	}
	return json_certs(x, line, jo, o);
}

static int json_parse(struct oi *x, const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		int line = 1;
		for (const char *q = text; end && q < end && q < text + len; q++)
			line += *q == '\n';
		oi_err(x, line, NULL, "not valid JSON");
		return 0;
	}
	if (!cJSON_IsArray(root)) {
		oi_err(x, 1, NULL, "the JSON must be an array of organisations (as 'org list "
		       "--json' prints)");
		cJSON_Delete(root);
		return 0;
	}
	int n = cJSON_GetArraySize(root), r = 0;
	if (n > OI_MAX_ORGS) {
		oi_err(x, 1, NULL, "more than %d organisations", OI_MAX_ORGS);
		cJSON_Delete(root);
		return 0;
	}
	int *lines = calloc((size_t)n + 1, sizeof(int));
	if (!lines) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	size_t found = json_element_lines(text, len, lines, (size_t)n);
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, root) {
		long before = x->nerr;
		size_t p0 = x->npairs, o0 = x->norgs;
		if ((r = json_org(x, it, (size_t)i < found ? lines[i] : 1)))
			break;
		if (x->norgs > o0)
			oi_mark(x, before, p0);
		i++;
	}
	free(lines);
	cJSON_Delete(root);
	return r;
}

/* ---- writing to the store -------------------------------------------------------------- */

static int cmp_org_slug(const void *a, const void *b)
{
	const struct oi_org *x = *(struct oi_org *const *)a, *y = *(struct oi_org *const *)b;
	int c = strcmp(x->slug, y->slug);
	return c ? c : x->line - y->line;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct oi_pair *x = *(struct oi_pair *const *)a, *y = *(struct oi_pair *const *)b;
	int c = strcmp(x->schakel, y->schakel);
	if (!c)
		c = strcmp(x->member, y->member);
	return c ? c : x->line - y->line;
}

/* Slugs and memberships given twice in the file. */
static int oi_check_twice(struct oi *x)
{
	size_t n = x->norgs > x->npairs ? x->norgs : x->npairs;
	const void **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < x->norgs; i++)
		v[i] = &x->orgs[i];
	qsort(v, x->norgs, sizeof(*v), cmp_org_slug);
	for (size_t i = 1; i < x->norgs; i++) {
		const struct oi_org *a = v[i - 1];
		struct oi_org *b = (struct oi_org *)v[i];
		if (*b->slug && !strcmp(a->slug, b->slug)) {
			oi_err(x, b->line, "slug", "'%s' is given twice (first on line %d)", b->slug,
			       a->line);
			b->bad = 1;
		}
	}
	for (size_t i = 0; i < x->npairs; i++)
		v[i] = &x->pairs[i];
	qsort(v, x->npairs, sizeof(*v), cmp_pair);
	for (size_t i = 1; i < x->npairs; i++) {
		const struct oi_pair *a = v[i - 1];
		struct oi_pair *b = (struct oi_pair *)v[i];
		if (*b->member && !strcmp(a->schakel, b->schakel) && !strcmp(a->member, b->member)) {
			oi_err(x, b->line, b->field, "membership of '%s' in '%s' is given twice "
			       "(first on line %d)", b->member, b->schakel, a->line);
			b->bad = 1;
		}
	}
	free(v);
	return 0;
}

/* Write everything in one transaction: organisations (each in a
 * savepoint), then memberships, which may name organisations of later
 * lines.  Commits only when nothing was refused. */
static int oi_write(struct oi *x, struct store *st, int tty)
{
	int r = store_begin(st);
	if (r) {
		cmd_err("org import: %s", store_errmsg(st));
		return r;
	}
	size_t total = x->norgs + x->npairs, done = 0;
	for (size_t i = 0; i < x->norgs; i++, done++) {
		const struct oi_org *o = &x->orgs[i];
		if (tty && (done % 64 == 0))
			fprintf(stderr, "\r\033[K[%zu/%zu] org import: %.60s", done + 1, total,
				ESC(o->slug));
		if (o->bad)
			continue;
		if ((r = store_savepoint(st, 0)))
			break;
		const char *field = "slug";
		int e = store_org_add(st, o->slug, o->name, o->sectors, o->nsectors, o->uid, o->gid);
		for (size_t k = 0; !e && k < o->nroles; k++) {
			const struct oi_role *ro = &x->roles[o->role0 + k];
			field = ro->field;
			e = store_org_role(st, o->slug, ro->role, ro->from, ro->until, ro->ref, 0);
		}
		for (size_t k = 0; !e && k < o->ncerts; k++) {
			struct store_cert c = x->certs[o->cert0 + k].c;
			field = x->certs[o->cert0 + k].field;
			c.added = au_now();
			e = store_cert_add(st, o->slug, &c);
		}
		if (e) {
			if (tty)
				fprintf(stderr, "\r\033[K");
			oi_err(x, o->line, field, "%s", store_errmsg(st));
		}
		if ((r = store_savepoint(st, e ? 2 : 1)))
			break;
	}
	for (size_t i = 0; !r && i < x->npairs; i++, done++) {
		const struct oi_pair *pr = &x->pairs[i];
		if (tty && (done % 64 == 0))
			fprintf(stderr, "\r\033[K[%zu/%zu] org import: %.30s/%.30s", done + 1, total,
				ESC(pr->schakel), ESC(pr->member));
		if (pr->bad)
			continue;
		if ((r = store_savepoint(st, 0)))
			break;
		int e = store_org_member(st, pr->schakel, pr->member, pr->from, pr->until, 0);
		if (e) {
			if (tty)
				fprintf(stderr, "\r\033[K");
			oi_err(x, pr->line, pr->field, "%s", store_errmsg(st));
		}
		if ((r = store_savepoint(st, e ? 2 : 1)))
			break;
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (r) {
		cmd_err("org import: %s", store_errmsg(st));
		store_rollback(st);
		return r;
	}
	if (x->nerr) {
		store_rollback(st);
		return 0;
	}
	if ((r = store_commit(st)))
		cmd_err("org import: %s", store_errmsg(st));
	return r;
}

/* ---- the command ------------------------------------------------------------------------ */

static const char org_import_help[] =
	"usage: advisoryfs -s STORE org import [--format csv|json] FILE|-\n"
	"\n"
	"Register many organisations at once, with sectors, account bindings, dated\n"
	"roles and memberships: from CSV (a header line naming the columns slug, name,\n"
	"sectors, uid, gid, roles, members, member_of; slug and name are required) or\n"
	"from JSON as 'org list --json' prints it (with the TLS client certificates\n"
	"bound to each, by their fingerprints).  - reads standard input.  All or\n"
	"nothing: every error is reported with its line and field, and one error\n"
	"leaves the store unchanged.\n"
	"\n"
	"A cell holds several values separated by ';', the parts of one by '|':\n"
	"  sectors     energy;water\n"
	"  roles       ROLE|FROM|UNTIL|REF;...  e.g. csirt|2020-01-14||Stcrt. 2020, 4410\n"
	"  members     SLUG|FROM|UNTIL;...      this organisation's constituency\n"
	"  member_of   SLUG|FROM|UNTIL;...      the schakelorganisaties it belongs to\n"
	"An empty FROM or UNTIL is the open end; '\\' takes the next character\n"
	"literally (\\; \\| \\\\).\n"
	"\n"
	"  --format F   csv or json (default: json when the input starts with '[')\n";

int cli_org_import(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "format", required_argument, NULL, 'F' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *format = NULL;
	int c, rc = 1;
	if (cmd_want_help(argc, argv)) {
		fputs(org_import_help, stdout);
		return 0;
	}
	optind = 0;
	while ((c = cmd_next_opt("org import", argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'F')
			format = optarg;
		else if (c == 's')
			ctx->store_path = optarg;
	}
	if (format && strcmp(format, "csv") && strcmp(format, "json"))
		return cmd_usage_error("org import", "--format: csv or json, not '%s'", format);
	if (argc - optind != 1)
		return cmd_usage_error("org import", "expected one FILE (or - for standard input)");
	const char *file = argv[optind];

	char *text = NULL, why[128];
	size_t len = 0;
	int r = !strcmp(file, "-") ? cmd_read_stdin(OI_MAX_BYTES, &text, &len)
				   : cmd_read_file(file, OI_MAX_BYTES, &text, &len);
	if (r) {
		cmd_err("org import: %s: %s", ESC(file), cmd_read_error(r, OI_MAX_BYTES, why,
									 sizeof(why)));
		return 1;
	}
	struct store *st = cmd_open_store(ctx, 0);
	struct policy *p = NULL;
	struct oi x = { .src = !strcmp(file, "-") ? "(stdin)" : file };
	if (!st)
		goto out;
	if ((r = store_policy_get(st, AU_T_MAX, &p, NULL, NULL))) {
		cmd_err("org import: %s", store_errmsg(st));
		goto out;
	}
	x.p = p;
	if (!format) {
		size_t i = 0;
		while (i < len && strchr(" \t\r\n", text[i]))
			i++;
		format = i < len && text[i] == '[' ? "json" : "csv";
	}
	r = !strcmp(format, "json") ? json_parse(&x, text, len) : csv_parse(&x, text, len);
	if (!r)
		r = oi_check_twice(&x);
	if (!r)
		r = oi_write(&x, st, isatty(STDERR_FILENO));
	if (r == -ENOMEM)
		cmd_err("org import: out of memory");
	if (r)
		goto out;
	if (x.nerr) {
		if (x.nerr > OI_MAX_REPORTED)
			cmd_err("org import: %s: %ld more errors not shown", ESC(x.src),
				x.nerr - OI_MAX_REPORTED);
		cmd_err("org import: %s: %ld error%s, nothing imported", ESC(x.src), x.nerr,
			x.nerr == 1 ? "" : "s");
		goto out;
	}
	printf("imported %zu organisation%s, %zu role%s, %zu membership%s\n", x.norgs,
	       x.norgs == 1 ? "" : "s", x.nroles, x.nroles == 1 ? "" : "s", x.npairs,
	       x.npairs == 1 ? "" : "s");
	rc = 0;
out:
	free(x.orgs);
	free(x.roles);
	free(x.pairs);
	free(x.certs);
	au_arena_free(&x.strs);
	policy_free(p);
	store_close(st);
	free(text);
	return rc;
}
