/*
 * cli_org.c - `advisoryfs init` and `advisoryfs org`: the store and its
 * organisations, their dated roles, constituencies, account bindings and
 * TLS client certificates (docs/HTTPS.md).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "csaf.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "view.h"
#include "x509.h"

extern const char policy_default_json[];
extern const size_t policy_default_json_len;

/* ---- init ------------------------------------------------------------------------------ */

static const char init_help[] =
	"usage: advisoryfs -s STORE init [--policy FILE]\n"
	"\n"
	"Create a new, empty store at STORE holding the default policy (the Wbni\n"
	"rules; see 'advisoryfs policy show').  Refuses an existing file.\n"
	"\n"
	"  --policy FILE   start with this policy instead of the default\n";

int cli_init(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "policy", required_argument, NULL, 'p' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *policy_file = NULL;
	int c;
	if (cmd_want_help(argc, argv)) {
		fputs(init_help, stdout);
		return 0;
	}
	optind = 0;
	while ((c = cmd_next_opt("init", argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'p')
			policy_file = optarg;
		else if (c == 's')
			ctx->store_path = optarg;
	}
	if (optind != argc)
		return cmd_usage_error("init", "unexpected argument '%s'", argv[optind]);

	char *json = NULL, why[128];
	size_t len = 0;
	if (policy_file) {
		int r = cmd_read_file(policy_file, POL_MAX_BYTES, &json, &len);
		if (r) {
			cmd_err("init: %s: %s", ESC(policy_file), cmd_read_error(r, POL_MAX_BYTES, why,
									sizeof(why)));
			return 1;
		}
	}
	struct store *st = cmd_open_store(ctx, STORE_CREATE);
	if (!st) {
		free(json);
		return 1;
	}
	char who[128];
	cmd_actor(who, sizeof(who));
	int r = store_policy_add(st, json ? json : policy_default_json,
				 json ? len : policy_default_json_len, who, au_now());
	if (r) {
		cmd_err("init: %s: %s", policy_file ? ESC(policy_file) : "default policy",
			store_errmsg(st));
		store_close(st);
		unlink(ctx->store_path);
		free(json);
		return 1;
	}
	printf("created %s\n", ctx->store_path);
	store_close(st);
	free(json);
	return 0;
}

/* ---- org ---------------------------------------------------------------------------------- */

static const char org_help[] =
	"usage: advisoryfs -s STORE org add SLUG --name NAME [--sector S]... [--uid N] [--gid N]\n"
	"       advisoryfs -s STORE org role SLUG ROLE [--from T] [--until T] [--ref TEXT] "
	"[--remove]\n"
	"       advisoryfs -s STORE org member SCHAKEL MEMBER [--from T] [--until T] [--remove]\n"
	"       advisoryfs -s STORE org bind SLUG [--uid N] [--gid N]\n"
	"       advisoryfs -s STORE org cert SLUG --add FILE.pem | --remove FPR|FILE.pem\n"
	"       advisoryfs -s STORE org list [--json]\n"
	"       advisoryfs -s STORE org import [--format csv|json] FILE|-\n"
	"\n"
	"Organisations that may receive advisories, with their dated roles and the\n"
	"constituencies of schakelorganisaties.\n"
	"\n"
	"  add      register an organisation; SLUG is 1-64 of a-z, 0-9, '-' ('public'\n"
	"           is reserved); sectors must be declared by the policy\n"
	"  role     grant a dated role (designation); roles are the policy's vocabulary\n"
	"           (default: vital, government, csirt, oktt, other).  Running it again\n"
	"           for the same pair changes the dates, so --until ends a role\n"
	"  member   dated membership of MEMBER in the constituency of SCHAKEL\n"
	"  bind     bind local accounts (uid, gid) to the organisation for multi-tenant\n"
	"           mounts; --uid -1 / --gid -1 removes a binding\n"
	"  cert     bind a TLS client certificate to the organisation (HTTPS, see\n"
	"           'advisoryfs provider nginx-conf'), or remove it; a certificate is\n"
	"           bound to one organisation at most.  Its SHA-256 and SHA-1\n"
	"           fingerprints (of the DER bytes), subject and validity are kept\n"
	"  list     organisations with roles, memberships and certificates\n"
	"  import   many at once, from CSV or from 'org list --json' (all or nothing;\n"
	"           'org import --help' gives the columns)\n"
	"\n"
	"  --from T      start of the period (default: open); a date means 00:00:00Z\n"
	"  --until T     end of the period, inclusive (default: open); a date means the\n"
	"                whole day\n"
	"  --ref TEXT    the designation's reference, e.g. 'Stcrt. 2020, 4410'\n"
	"  --remove      delete the role or membership\n"
	"  --add FILE    (cert) the PEM certificate to bind\n"
	"  --remove FPR  (cert) its SHA-256 fingerprint (hex, colons allowed) or the\n"
	"                PEM file\n"
	"  --json        machine-readable output (list)\n";

static int parse_id(const char *s, int64_t *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < -1 || v > UINT32_MAX - 1)
		return -1;
	*ret = v;
	return 0;
}

static void print_period(FILE *f, int64_t from, int64_t until)
{
	char a[AU_TIME_LEN], b[AU_TIME_LEN];
	au_format_time(from, a);
	au_format_time(until, b);
	fprintf(f, "%s .. %s", from == AU_T_MIN ? "(open)" : a, until == AU_T_MAX ? "(open)" : b);
}

static void json_period(cJSON *o, int64_t from, int64_t until)
{
	char a[AU_TIME_LEN], b[AU_TIME_LEN];
	au_format_time(from, a);
	au_format_time(until, b);
	if (from == AU_T_MIN)
		cJSON_AddNullToObject(o, "from");
	else
		cJSON_AddStringToObject(o, "from", a);
	if (until == AU_T_MAX)
		cJSON_AddNullToObject(o, "until");
	else
		cJSON_AddStringToObject(o, "until", b);
}

/* ---- certificates ------------------------------------------------------------------------ */

/* Every bound certificate, read once for `org list`. */
struct cert_set {
	struct cert_row {
		struct store_cert c;
		char slug[65];
		char subject[X509_SUBJECT_MAX];
	} *v;
	size_t n, cap;
};

static int cert_collect(void *arg, const struct store_cert *c)
{
	struct cert_set *set = arg;
	struct cert_row *v = au_grow(set->v, &set->cap, set->n + 1, sizeof(*v), 16);
	if (!v)
		return -ENOMEM;
	set->v = v;
	struct cert_row *row = &set->v[set->n++];
	row->c = *c;
	snprintf(row->slug, sizeof(row->slug), "%s", c->slug ? c->slug : "");
	snprintf(row->subject, sizeof(row->subject), "%s", c->subject);
	row->c.slug = row->slug;
	row->c.subject = row->subject;
	return 0;
}

/* The certificates of slug, printed under its line of `org list`. */
static void cert_print(const struct cert_set *set, const char *slug, cJSON *jo)
{
	cJSON *arr = jo ? cJSON_AddArrayToObject(jo, "certificates") : NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct store_cert *c = &set->v[i].c;
		char a[AU_TIME_LEN], b[AU_TIME_LEN], h256[65], h1[41];
		if (strcmp(c->slug, slug))
			continue;
		au_hex(c->sha256, sizeof(c->sha256), h256);
		au_hex(c->sha1, sizeof(c->sha1), h1);
		au_format_time(c->not_before, a);
		au_format_time(c->not_after, b);
		if (!jo) {
			printf("  cert SHA256:%s  %s  valid %s .. %s\n", h256, c->subject, a, b);
			continue;
		}
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "sha256", h256);
		cJSON_AddStringToObject(x, "sha1", h1);
		cJSON_AddStringToObject(x, "subject", c->subject);
		cJSON_AddStringToObject(x, "not_before", a);
		cJSON_AddStringToObject(x, "not_after", b);
		cJSON_AddItemToArray(arr, x);
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/*
 * A SHA-256 fingerprint as `org cert --remove` takes it: 64 hex digits,
 * optionally in pairs separated by ':', optionally after "SHA256:".
 * 0 with ret_fp filled, -1 when s is not one.
 */
static int parse_fp(const char *s, unsigned char ret_fp[32])
{
	unsigned char fp[32];
	size_t n = 0;
	if (!strncasecmp(s, "sha256:", 7))
		s += 7;
	for (const char *p = s; *p; p++) {
		if (*p == ':' && p > s && p[1] && p[-1] != ':')
			continue;
		int hi = hexval(*p), lo = p[1] ? hexval(p[1]) : -1;
		if (hi < 0 || lo < 0 || n == sizeof(fp))
			return -1;
		fp[n++] = (unsigned char)(hi << 4 | lo);
		p++;
	}
	if (n != sizeof(fp))
		return -1;
	memcpy(ret_fp, fp, sizeof(fp));
	return 0;
}

/* Read and parse the PEM certificate at path; prints the error. */
static int cert_read(const char *cmdname, const char *path, struct x509_info *ret)
{
	char *pem = NULL, why[128];
	size_t len = 0;
	int r = cmd_read_file(path, X509_PEM_MAX, &pem, &len);
	if (r) {
		cmd_err("%s: %s: %s", cmdname, ESC(path),
			cmd_read_error(r, X509_PEM_MAX, why, sizeof(why)));
		return 1;
	}
	r = x509_parse_pem(pem, len, ret);
	free(pem);
	if (r) {
		cmd_err("%s: %s: %s", cmdname, ESC(path),
			r == -EINVAL ? "more than one certificate (give the client's own only)"
			: r == -E2BIG ? "certificate subject too long"
			: r == -EBADMSG ? "not a PEM certificate"
					: "OpenSSL failed to read the certificate");
		return 1;
	}
	return 0;
}

/* `org cert SLUG --add FILE | --remove FPR|FILE`. */
static int org_cert(struct store *st, const char *slug, const char *add, const char *rm)
{
	struct x509_info x;
	unsigned char fp[32];
	char hex[65];
	int r;

	if (rm) {
		if (parse_fp(rm, fp) < 0) {
			if (cert_read("org cert", rm, &x))
				return 1;
			memcpy(fp, x.sha256, sizeof(fp));
		}
		if ((r = store_cert_remove(st, slug, fp))) {
			cmd_err("org cert: %s", store_errmsg(st));
			return 1;
		}
		au_hex(fp, sizeof(fp), hex);
		printf("removed certificate SHA256:%s from %s\n", hex, slug);
		return 0;
	}
	if (cert_read("org cert", add, &x))
		return 1;
	if (x.is_ca) {
		cmd_err("org cert: %s: a CA certificate, not a client's", ESC(add));
		return 1;
	}
	struct store_cert c = { .subject = x.subject, .not_before = x.not_before,
				.not_after = x.not_after, .added = au_now() };
	memcpy(c.sha256, x.sha256, sizeof(c.sha256));
	memcpy(c.sha1, x.sha1, sizeof(c.sha1));
	if ((r = store_cert_add(st, slug, &c))) {
		cmd_err("org cert: %s", store_errmsg(st));
		return 1;
	}
	au_hex(x.sha256, sizeof(x.sha256), hex);
	printf("bound certificate SHA256:%s (%s) to %s\n", hex, x.subject, slug);
	if (x.not_after < au_now())
		fprintf(stderr, "advisoryfs: org cert: warning: the certificate has expired\n");
	return 0;
}

/* Memberships by the other organisation's slug: the table's order follows
 * row ids, which differ between stores holding the same organisations. */
static int cmp_member_slug(const void *a, const void *b, void *arg)
{
	const struct w_member *x = a, *y = b;
	const struct world *w = arg;
	return strcmp(w->orgs[x->org].slug, w->orgs[y->org].slug);
}

/* A copy of m[0..n) sorted by slug (the caller frees it), NULL when out
 * of memory. */
static struct w_member *sorted_members(const struct world *w, const struct w_member *m,
				       uint32_t n)
{
	struct w_member *c = malloc((n ? n : 1) * sizeof(*c));
	if (!c)
		return NULL;
	if (n)
		memcpy(c, m, n * sizeof(*c));
	qsort_r(c, n, sizeof(*c), cmp_member_slug, (void *)w);
	return c;
}

static int org_list(struct store *st, int json)
{
	struct cert_set certs = { 0 };
	struct policy *p = NULL;
	struct world *w = NULL;
	int r = store_policy_get(st, AU_T_MAX, &p, NULL, NULL);
	if (!r)
		r = store_world_load(st, p, au_now(), &w);
	if (!r)
		r = store_cert_list(st, cert_collect, &certs);
	if (r) {
		cmd_err("org list: %s", r == -ENOMEM ? "out of memory" : store_errmsg(st));
		world_free(w);
		policy_free(p);
		free(certs.v);
		return 1;
	}
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	int oom = 0;
	for (uint32_t i = 1; i < w->norgs && !oom; i++) {
		const struct w_org *o = &w->orgs[i];
		if (json) {
			cJSON *jo = cJSON_CreateObject(), *js = cJSON_CreateArray(),
			      *jr = cJSON_CreateArray(), *jm = cJSON_CreateArray();
			cJSON_AddItemToArray(arr, jo);
			cJSON_AddStringToObject(jo, "slug", o->slug);
			cJSON_AddStringToObject(jo, "name", o->name);
			for (int s = 0; s < W_MAX_SECTORS; s++)
				if (o->sectors & ((uint64_t)1 << s))
					cJSON_AddItemToArray(js, cJSON_CreateString(
									 policy_sector_name(p, s)));
			cJSON_AddItemToObject(jo, "sectors", js);
			if (o->uid >= 0)
				cJSON_AddNumberToObject(jo, "uid", (double)o->uid);
			else
				cJSON_AddNullToObject(jo, "uid");
			if (o->gid >= 0)
				cJSON_AddNumberToObject(jo, "gid", (double)o->gid);
			else
				cJSON_AddNullToObject(jo, "gid");
			for (uint32_t k = 0; k < o->nroles; k++) {
				cJSON *x = cJSON_CreateObject();
				cJSON_AddStringToObject(x, "role",
							policy_role_name(p, o->roles[k].role));
				json_period(x, o->roles[k].from, o->roles[k].until);
				if (o->roles[k].ref)
					cJSON_AddStringToObject(x, "ref", o->roles[k].ref);
				cJSON_AddItemToArray(jr, x);
			}
			cJSON_AddItemToObject(jo, "roles", jr);
			struct w_member *ms = sorted_members(w, o->members, o->nmembers);
			oom |= !ms;
			for (uint32_t k = 0; ms && k < o->nmembers; k++) {
				cJSON *x = cJSON_CreateObject();
				cJSON_AddStringToObject(x, "member", w->orgs[ms[k].org].slug);
				json_period(x, ms[k].from, ms[k].until);
				cJSON_AddItemToArray(jm, x);
			}
			free(ms);
			cJSON_AddItemToObject(jo, "members", jm);
			cert_print(&certs, o->slug, jo);
			continue;
		}
		printf("%s\t%s", o->slug, o->name);
		for (int s = 0, first = 1; s < W_MAX_SECTORS; s++)
			if (o->sectors & ((uint64_t)1 << s)) {
				printf("%s%s", first ? "\tsectors: " : ",", policy_sector_name(p, s));
				first = 0;
			}
		if (o->uid >= 0 || o->gid >= 0)
			printf("\tuid %lld gid %lld", (long long)o->uid, (long long)o->gid);
		printf("\n");
		for (uint32_t k = 0; k < o->nroles; k++) {
			printf("  role %s ", policy_role_name(p, o->roles[k].role));
			print_period(stdout, o->roles[k].from, o->roles[k].until);
			if (o->roles[k].ref)
				printf("  (%s)", o->roles[k].ref);
			printf("\n");
		}
		struct w_member *ms = sorted_members(w, o->member_of, o->nmember_of);
		oom |= !ms;
		for (uint32_t k = 0; ms && k < o->nmember_of; k++) {
			printf("  member of %s ", w->orgs[ms[k].org].slug);
			print_period(stdout, ms[k].from, ms[k].until);
			printf("\n");
		}
		free(ms);
		cert_print(&certs, o->slug, NULL);
	}
	if (oom) {
		cmd_err("org list: out of memory");
	} else if (json) {
		char *out = cJSON_Print(arr);
		if (out)
			printf("%s\n", out);
		free(out);
	}
	cJSON_Delete(arr);
	world_free(w);
	policy_free(p);
	free(certs.v);
	return oom ? 1 : 0;
}

int cli_org(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },  { "sector", required_argument, NULL, 'S' },
		{ "uid", required_argument, NULL, 'u' },   { "gid", required_argument, NULL, 'g' },
		{ "from", required_argument, NULL, 'f' },  { "until", required_argument, NULL, 't' },
		{ "ref", required_argument, NULL, 'r' },   { "remove", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },        { "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },        { "add", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char *name = NULL, *ref = NULL, *sectors[CSAF_MAX_SECTORS], *add = NULL;
	size_t nsectors = 0;
	int64_t uid = -1, gid = -1, from = AU_T_MIN, until = AU_T_MAX;
	int remove = 0, json = 0, c, have_uid = 0, have_gid = 0;

	if (cmd_want_help(argc, argv)) {
		fputs(org_help, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("org", "missing subcommand (add, role, member, bind, cert, list, "
					       "import)");
	const char *sub = argv[1] ? argv[1] : ""; /* argc >= 2: never NULL; GCC cannot tell */
	char cmdname[32];
	snprintf(cmdname, sizeof(cmdname), "org %s", sub);
	if (!strcmp(sub, "import"))
		return cli_org_import(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "add") && strcmp(sub, "role") && strcmp(sub, "member") &&
	    strcmp(sub, "bind") && strcmp(sub, "cert") && strcmp(sub, "list"))
		return cmd_usage_error("org", "unknown subcommand '%s'", sub);
	optind = 0;
	/* `org cert SLUG --remove FPR`: --remove takes an argument there */
	const char *cert_rm = NULL;
	if (!strcmp(sub, "cert"))
		for (int i = 2; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--remove")) {
				cert_rm = argv[i + 1];
				memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) * sizeof(*argv));
				argc -= 2;
				break;
			}
	while ((c = cmd_next_opt("org", argc - 1, argv + 1, "s:h", lo)) != -1) {
		switch (c) {
		case '?':
			return 2;
		case 'n':
			name = optarg;
			break;
		case 'S':
			if (nsectors == CSAF_MAX_SECTORS) {
				cmd_err("org add: more than %d sectors", CSAF_MAX_SECTORS);
				return 1;
			}
			sectors[nsectors++] = optarg;
			break;
		case 'u':
		case 'g':
			if (parse_id(optarg, c == 'u' ? &uid : &gid) < 0)
				return cmd_usage_error("org", "--%s: not a number: '%s'",
						       c == 'u' ? "uid" : "gid", optarg);
			*(c == 'u' ? &have_uid : &have_gid) = 1;
			break;
		case 'f':
			if (cmd_parse_time(cmdname, "--from", optarg, 0, &from))
				return 2;
			break;
		case 't':
			if (cmd_parse_time(cmdname, "--until", optarg, 1, &until))
				return 2;
			break;
		case 'r':
			ref = optarg;
			break;
		case 'R':
			remove = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'a':
			add = optarg;
			break;
		case 's':
			ctx->store_path = optarg;
			break;
		}
	}
	char **args = argv + 1 + optind;
	int nargs = argc - 1 - optind;
	int want = !strcmp(sub, "list")                                                   ? 0
		   : (!strcmp(sub, "add") || !strcmp(sub, "bind") || !strcmp(sub, "cert")) ? 1
											     : 2;
	if (nargs != want)
		return cmd_usage_error(cmdname, "expected %d argument%s, got %d", want,
				       want == 1 ? "" : "s", nargs);
	if (!strcmp(sub, "add") && !name)
		return cmd_usage_error(cmdname, "--name is required");
	if (!strcmp(sub, "bind") && !have_uid && !have_gid)
		return cmd_usage_error(cmdname, "give --uid and/or --gid");
	if (!strcmp(sub, "cert") && !add == !cert_rm)
		return cmd_usage_error(cmdname, "give one of --add FILE.pem or --remove FPR");
	if (strcmp(sub, "cert") && add)
		return cmd_usage_error(cmdname, "--add is for 'org cert'");

	struct store *st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;
	int r = 0;
	if (!strcmp(sub, "cert")) {
		r = org_cert(st, args[0], add, cert_rm);
		store_close(st);
		return r;
	}
	if (!strcmp(sub, "list")) {
		r = org_list(st, json);
		store_close(st);
		return r;
	}
	if (!strcmp(sub, "add"))
		r = store_org_add(st, args[0], name, sectors, nsectors, uid, gid);
	else if (!strcmp(sub, "role"))
		r = store_org_role(st, args[0], args[1], from, until, ref, remove);
	else if (!strcmp(sub, "member"))
		r = store_org_member(st, args[0], args[1], from, until, remove);
	else
		r = store_org_bind(st, args[0], uid, gid);
	if (r)
		cmd_err("%s: %s", cmdname, store_errmsg(st));
	store_close(st);
	return r ? 1 : 0;
}
