/*
 * cmd.c - the subcommands of advisoryfs (all but mount, in mount.c).
 *
 * Sections: shared helpers (errors, options, files); init; org; publish
 * and import; withdraw and share; policy; visible and explain.
 *
 * This is the boundary: store/ and policy/ return -errno with a message,
 * and this file prints it once, as "advisoryfs: <what>: <why>".
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "csaf.h"
#include "pgp.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "view.h"

extern const char policy_default_json[];
extern const size_t policy_default_json_len;

/* ---- shared helpers ------------------------------------------------------------ */

void cmd_err(const char *fmt, ...)
{
	va_list ap;
	fputs("advisoryfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "advisoryfs%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'advisoryfs%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return 2;
}

const char *cmd_esc(const char *str, char *buf, size_t buflen)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)str; *p && o + 5 < buflen; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hx[*p >> 4];
			buf[o++] = hx[*p & 15];
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o] = '\0';
	return buf;
}

const char *cmd_need_store(const struct cmd_ctx *ctx)
{
	if (!ctx->store_path)
		cmd_err("no store: give -s PATH or set ADVISORYFS_STORE");
	return ctx->store_path;
}

struct store *cmd_open_store(const struct cmd_ctx *ctx, int flags)
{
	struct store *st = NULL;
	const char *path = cmd_need_store(ctx);
	if (!path)
		return NULL;
	if (store_open(path, flags, &st) < 0) {
		if (ctx->cmd)
			cmd_err("%s: %s", ctx->cmd, st ? store_errmsg(st) : "out of memory");
		else
			cmd_err("%s", st ? store_errmsg(st) : "out of memory");
		store_close(st);
		return NULL;
	}
	return st;
}

/*
 * Parse options with getopt_long; unknown options and missing arguments
 * print one line and the help hint.  Returns the option, -1 at the end, or
 * '?' after printing (the caller returns 2).
 */
int cmd_next_opt(const char *cmd, int argc, char **argv, const char *shortopts,
		    const struct option *longopts)
{
	char so[32];
	snprintf(so, sizeof(so), ":%s", shortopts); /* ':' reports missing arguments */
	opterr = 0;
	int c = getopt_long(argc, argv, so, longopts, NULL);
	if (c == ':') {
		if (optopt)
			cmd_usage_error(cmd, "option '-%c' needs an argument", optopt);
		else
			cmd_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		if (optopt)
			cmd_usage_error(cmd, "unknown option '-%c'", optopt);
		else
			cmd_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return '?';
	}
	return c;
}

/* Reset getopt for a subcommand's argv. */
static void opt_reset(void)
{
	optind = 0;
}

static int parse_time_opt(const char *cmd, const char *opt, const char *val, int end_of_day,
			  int64_t *ret)
{
	if (au_parse_time(val, end_of_day, ret) < 0) {
		cmd_err("%s: %s: not a time: '%s' (use 2022-12-01 or 2022-12-01T09:00:00Z)", cmd,
			opt, val);
		return -1;
	}
	return 0;
}

int cmd_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	/* O_NONBLOCK: opening a FIFO must not hang; only regular files are read */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		int e = S_ISDIR(sb.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return e;
	}
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return -E2BIG;
	}
	size_t cap = (size_t)sb.st_size + 1, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			close(fd);
			return -E2BIG;
		}
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

const char *cmd_read_error(int r, size_t max, char *buf, size_t buflen)
{
	if (r == -E2BIG)
		snprintf(buf, buflen, "larger than the limit of %zu bytes", max);
	else if (r == -EINVAL)
		snprintf(buf, buflen, "not a regular file");
	else
		snprintf(buf, buflen, "%s", strerror(-r));
	return buf;
}

/* Who is acting, for the policy history: "alice" or "root (sudo from alice)". */
static void actor(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	if (sudo && *sudo)
		snprintf(buf, len, "%s (sudo from %s)", pw ? pw->pw_name : "?", sudo);
	else if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)getuid());
}

int cmd_want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* ---- init ------------------------------------------------------------------------------ */

static const char init_help[] =
	"usage: advisoryfs -s STORE init [--policy FILE]\n"
	"\n"
	"Create a new, empty store at STORE holding the default policy (the Wbni\n"
	"rules; see 'advisoryfs policy show').  Refuses an existing file.\n"
	"\n"
	"  --policy FILE   start with this policy instead of the default\n";

int cmd_init(struct cmd_ctx *ctx, int argc, char **argv)
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
	opt_reset();
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
	actor(who, sizeof(who));
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
	"       advisoryfs -s STORE org list [--json]\n"
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
	"  list     organisations with roles and memberships\n"
	"\n"
	"  --from T      start of the period (default: open); a date means 00:00:00Z\n"
	"  --until T     end of the period, inclusive (default: open); a date means the\n"
	"                whole day\n"
	"  --ref TEXT    the designation's reference, e.g. 'Stcrt. 2020, 4410'\n"
	"  --remove      delete the role or membership\n"
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

static int org_list(struct store *st, int json)
{
	struct policy *p = NULL;
	struct world *w = NULL;
	int r = store_policy_get(st, AU_T_MAX, &p, NULL, NULL);
	if (!r)
		r = store_world_load(st, p, au_now(), &w);
	if (r) {
		cmd_err("org list: %s", store_errmsg(st));
		policy_free(p);
		return 1;
	}
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	for (uint32_t i = 1; i < w->norgs; i++) {
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
			for (uint32_t k = 0; k < o->nmembers; k++) {
				cJSON *x = cJSON_CreateObject();
				cJSON_AddStringToObject(x, "member", w->orgs[o->members[k].org].slug);
				json_period(x, o->members[k].from, o->members[k].until);
				cJSON_AddItemToArray(jm, x);
			}
			cJSON_AddItemToObject(jo, "members", jm);
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
		for (uint32_t k = 0; k < o->nmember_of; k++) {
			printf("  member of %s ", w->orgs[o->member_of[k].org].slug);
			print_period(stdout, o->member_of[k].from, o->member_of[k].until);
			printf("\n");
		}
	}
	if (json) {
		char *out = cJSON_Print(arr);
		if (out)
			printf("%s\n", out);
		free(out);
		cJSON_Delete(arr);
	}
	world_free(w);
	policy_free(p);
	return 0;
}

int cmd_org(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },  { "sector", required_argument, NULL, 'S' },
		{ "uid", required_argument, NULL, 'u' },   { "gid", required_argument, NULL, 'g' },
		{ "from", required_argument, NULL, 'f' },  { "until", required_argument, NULL, 't' },
		{ "ref", required_argument, NULL, 'r' },   { "remove", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },        { "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 }
	};
	const char *name = NULL, *ref = NULL, *sectors[CSAF_MAX_SECTORS];
	size_t nsectors = 0;
	int64_t uid = -1, gid = -1, from = AU_T_MIN, until = AU_T_MAX;
	int remove = 0, json = 0, c, have_uid = 0, have_gid = 0;

	if (cmd_want_help(argc, argv)) {
		fputs(org_help, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("org", "missing subcommand (add, role, member, bind, list)");
	const char *sub = argv[1];
	char cmdname[32];
	snprintf(cmdname, sizeof(cmdname), "org %s", sub);
	if (strcmp(sub, "add") && strcmp(sub, "role") && strcmp(sub, "member") &&
	    strcmp(sub, "bind") && strcmp(sub, "list"))
		return cmd_usage_error("org", "unknown subcommand '%s'", sub);
	opt_reset();
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
			if (parse_time_opt(cmdname, "--from", optarg, 0, &from))
				return 2;
			break;
		case 't':
			if (parse_time_opt(cmdname, "--until", optarg, 1, &until))
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
		case 's':
			ctx->store_path = optarg;
			break;
		}
	}
	char **args = argv + 1 + optind;
	int nargs = argc - 1 - optind;
	int want = !strcmp(sub, "list") ? 0 : (!strcmp(sub, "add") || !strcmp(sub, "bind")) ? 1 : 2;
	if (nargs != want)
		return cmd_usage_error(cmdname, "expected %d argument%s, got %d", want,
				       want == 1 ? "" : "s", nargs);
	if (!strcmp(sub, "add") && !name)
		return cmd_usage_error(cmdname, "--name is required");
	if (!strcmp(sub, "bind") && !have_uid && !have_gid)
		return cmd_usage_error(cmdname, "give --uid and/or --gid");

	struct store *st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;
	int r = 0;
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

/* ---- publish and import ---------------------------------------------------------------- */

static const char publish_help[] =
	"usage: advisoryfs -s STORE publish FILE... [--tlp LABEL] [--concerns SLUG,...]\n"
	"              [--sectors S,...] [--personal-data] [--impact significant]\n"
	"              [--embargo-until T] [--signature FILE.asc]\n"
	"\n"
	"Validate CSAF 2.0 documents and store them, byte for byte.  All or nothing:\n"
	"if any FILE is refused, nothing is stored.  A newer tracking.version of a\n"
	"stored id replaces what views serve; the same version with other bytes, an\n"
	"older version, or an id whose CSAF file name is taken are refused.\n"
	"\n"
	"  --tlp LABEL            CLEAR, GREEN, AMBER, AMBER+STRICT or RED; may only\n"
	"                         tighten the document's own label (needed when it has none)\n"
	"  --concerns SLUG,...    organisations the advisory concerns\n"
	"  --sectors S,...        sectors it concerns (the policy's vocabulary)\n"
	"  --personal-data        it carries personal data (IP or e-mail addresses,\n"
	"                         credentials)\n"
	"  --impact significant   significant consequences for continuity of service\n"
	"  --embargo-until T      visible to nobody before T\n"
	"  --signature FILE.asc   the publisher's OpenPGP signature (one FILE only)\n";

/*
 * Without a publisher's signature, sign with the store's own key if one is
 * configured ('advisoryfs key generate').  Returns 0 (pub->signature set
 * to an allocated signature in *ret_own, or left NULL when there is no
 * key) or -errno with a message in why.
 */
static int sign_if_unsigned(struct store *st, struct store_publish *pub, char **ret_own,
			    char *why, size_t whylen)
{
	size_t len = 0;
	*ret_own = NULL;
	if (pub->signature)
		return 0;
	int r = pgp_sign_for_store(st, pub->bytes, pub->len, ret_own, &len);
	if (r == -ENOENT)
		return 0;
	if (r) {
		snprintf(why, whylen, "signing with the store's key: %s", pgp_strerror(r));
		return r;
	}
	pub->signature = *ret_own;
	pub->siglen = len;
	return 0;
}

/* Split "a,b,c" into a malloc'ed array of strdup'ed strings in d. */
static int split_list(const char *s, char ***ret, size_t *ret_n, size_t max, const char *what)
{
	char *copy = strdup(s), *save = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*ret_n >= max) {
			cmd_err("publish: more than %zu %s (the limit)", max, what);
			free(copy);
			return -E2BIG;
		}
		char **n = realloc(*ret, (*ret_n + 1) * sizeof(char *));
		if (!n) {
			free(copy);
			return -ENOMEM;
		}
		*ret = n;
		if (!(n[(*ret_n)++] = strdup(tok))) {
			(*ret_n)--;
			free(copy);
			return -ENOMEM;
		}
	}
	free(copy);
	return 0;
}

int cmd_publish(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tlp", required_argument, NULL, 'T' },
		{ "concerns", required_argument, NULL, 'c' },
		{ "sectors", required_argument, NULL, 'S' },
		{ "personal-data", no_argument, NULL, 'p' },
		{ "impact", required_argument, NULL, 'i' },
		{ "embargo-until", required_argument, NULL, 'e' },
		{ "signature", required_argument, NULL, 'g' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_publish pub = { 0 };
	const char *sigfile = NULL;
	int c, rc = 1;

	if (cmd_want_help(argc, argv)) {
		fputs(publish_help, stdout);
		return 0;
	}
	csaf_dist_init(&pub.dist);
	opt_reset();
	while ((c = cmd_next_opt("publish", argc, argv, "s:h", lo)) != -1) {
		switch (c) {
		case '?':
			rc = 2;
			goto out;
		case 'T':
			pub.dist.tlp = csaf_tlp_parse(optarg);
			if (pub.dist.tlp == CSAF_TLP_NONE) {
				rc = cmd_usage_error("publish", "--tlp: unknown label '%s' (CLEAR, "
						     "GREEN, AMBER, AMBER+STRICT, RED)", optarg);
				goto out;
			}
			break;
		case 'c':
			if (split_list(optarg, &pub.dist.concerns, &pub.dist.nconcerns,
				       CSAF_MAX_CONCERNS, "concerned organisations"))
				goto out;
			break;
		case 'S':
			if (split_list(optarg, &pub.dist.sectors, &pub.dist.nsectors,
				       CSAF_MAX_SECTORS, "sectors"))
				goto out;
			break;
		case 'p':
			pub.dist.personal_data = 1;
			break;
		case 'i':
			if (strcmp(optarg, "significant") && strcmp(optarg, "none")) {
				rc = cmd_usage_error("publish", "--impact: expected 'significant' "
						     "or 'none', got '%s'", optarg);
				goto out;
			}
			pub.dist.impact_significant = !strcmp(optarg, "significant");
			break;
		case 'e':
			if (parse_time_opt("publish", "--embargo-until", optarg, 0,
					   &pub.dist.embargo_until)) {
				rc = 2;
				goto out;
			}
			break;
		case 'g':
			sigfile = optarg;
			break;
		case 's':
			ctx->store_path = optarg;
			break;
		}
	}
	for (size_t i = 0; i < pub.dist.nconcerns; i++)
		if (!au_slug_valid(pub.dist.concerns[i])) {
			rc = cmd_usage_error("publish", "--concerns: invalid slug '%s'",
					     pub.dist.concerns[i]);
			goto out;
		}
	if (optind >= argc) {
		rc = cmd_usage_error("publish", "no FILE given");
		goto out;
	}
	if (sigfile && argc - optind > 1) {
		rc = cmd_usage_error("publish", "--signature applies to one FILE only");
		goto out;
	}

	char *sig = NULL, why[128];
	size_t siglen = 0;
	if (sigfile) {
		int r = cmd_read_file(sigfile, 64 * 1024, &sig, &siglen);
		if (r) {
			cmd_err("publish: %s: %s", ESC(sigfile), cmd_read_error(r, 64 * 1024, why,
								      sizeof(why)));
			goto out;
		}
		pub.signature = sig;
		pub.siglen = siglen;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st) {
		free(sig);
		goto out;
	}
	int r = store_begin(st), failed = 0, published = 0, same = 0;
	if (r) {
		cmd_err("publish: %s", store_errmsg(st));
		failed = 1;
	}
	for (int i = optind; !r && i < argc; i++) {
		char *bytes = NULL;
		size_t len = 0;
		int dup = 0;
		int e = cmd_read_file(argv[i], CSAF_MAX_DOC_BYTES, &bytes, &len);
		if (e) {
			cmd_err("publish: %s: %s", ESC(argv[i]), cmd_read_error(e, CSAF_MAX_DOC_BYTES, why,
								      sizeof(why)));
			failed++;
			continue;
		}
		pub.bytes = bytes;
		pub.len = len;
		pub.source = argv[i];
		char *own_sig = NULL;
		pub.signature = sig;
		pub.siglen = siglen;
		if ((e = sign_if_unsigned(st, &pub, &own_sig, why, sizeof(why)))) {
			cmd_err("publish: %s: %s", ESC(argv[i]), why);
			failed++;
			free(bytes);
			continue;
		}
		/* a savepoint per file, so that a refused file leaves nothing behind
		 * that could confuse the checks of the next one */
		if ((e = store_savepoint(st, 0)) == 0) {
			e = store_publish(st, &pub, &dup);
			if (store_savepoint(st, e ? 2 : 1) && !e)
				e = -EIO;
		}
		if (e) {
			cmd_err("publish: %s: %s", ESC(argv[i]), store_errmsg(st));
			failed++;
		} else if (dup) {
			same++;
		} else {
			published++;
		}
		free(own_sig);
		free(bytes);
	}
	if (!r && failed) {
		store_rollback(st);
		if (argc - optind > 1) /* with one FILE its own line says it all */
			cmd_err("publish: nothing was stored (%d of %d refused)", failed,
				argc - optind);
	} else if (!r && (r = store_commit(st))) {
		cmd_err("publish: %s", store_errmsg(st));
		failed = 1;
	}
	if (!failed)
		printf("published %d document%s%s\n", published, published == 1 ? "" : "s",
		       same ? " (some were already stored unchanged)" : "");
	store_close(st);
	free(sig);
	rc = failed ? 1 : 0;
out:
	csaf_dist_release(&pub.dist);
	return rc;
}

static const char import_help[] =
	"usage: advisoryfs -s STORE import DIR [--quiet]\n"
	"\n"
	"Publish every CSAF document under DIR (recursively; a received CSAF provider\n"
	"tree imports as it is).  For each FILE.json it reads the companions\n"
	"FILE.json.asc (signature), FILE.json.dist.json (distribution metadata: tlp,\n"
	"concerns, sectors, personal_data, impact, embargo_until) and, when present,\n"
	"checks FILE.json.sha256 and FILE.json.sha512 against the bytes.\n"
	"Versions of one id are published in version order.  Each document is\n"
	"stored completely or not at all; the others go on.  Provider metadata and\n"
	"ROLIE feeds are skipped.  Prints a line per file and a summary; exits 1 if\n"
	"anything was refused.\n"
	"\n"
	"  --quiet   only refused files and the summary\n";

struct imp_file {
	char *path;
	char *tracking_id; /* NULL when the document is already refused */
	char *version;
	char *refusal;
};

struct imp {
	struct imp_file *files;
	size_t n, cap;
	int err;
};

static struct imp *imp_walk; /* nftw has no user pointer; single-threaded */

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int imp_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct imp *im = imp_walk;
	if (type != FTW_F || !S_ISREG(sb->st_mode) || !has_suffix(path, ".json") ||
	    has_suffix(path, ".dist.json"))
		return 0;
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 256;
		struct imp_file *nf = realloc(im->files, cap * sizeof(*nf));
		if (!nf) {
			im->err = -ENOMEM;
			return 1;
		}
		im->files = nf;
		im->cap = cap;
	}
	struct imp_file *f = &im->files[im->n];
	memset(f, 0, sizeof(*f));
	if (!(f->path = strdup(path))) {
		im->err = -ENOMEM;
		return 1;
	}
	im->n++;
	return 0;
}

/* Order: by tracking id, then by version; refused files first (reported early). */
static int cmp_imp(const void *a, const void *b)
{
	const struct imp_file *x = a, *y = b;
	if (!x->tracking_id || !y->tracking_id) {
		if (!x->tracking_id && !y->tracking_id)
			return strcmp(x->path, y->path);
		return x->tracking_id ? 1 : -1;
	}
	int c = strcmp(x->tracking_id, y->tracking_id), v;
	if (c)
		return c;
	if (csaf_version_cmp(x->version, y->version, &v) == 0 && v)
		return v;
	return strcmp(x->path, y->path);
}

/* Is this JSON a CSAF provider-metadata, aggregator or ROLIE feed file? */
static int is_csaf_metadata(const char *bytes, size_t len)
{
	cJSON *j = cJSON_ParseWithLengthOpts(bytes, len, NULL, 0);
	int yes = 0;
	if (j && cJSON_IsObject(j) && !cJSON_GetObjectItemCaseSensitive(j, "document"))
		yes = cJSON_GetObjectItemCaseSensitive(j, "feed") ||
		      cJSON_GetObjectItemCaseSensitive(j, "canonical_url") ||
		      cJSON_GetObjectItemCaseSensitive(j, "aggregator") ||
		      cJSON_GetObjectItemCaseSensitive(j, "distributions");
	cJSON_Delete(j);
	return yes;
}

/*
 * Check FILE.sha256 / FILE.sha512 companions, if any, against the
 * document's bytes.  Returns 0 or -EINVAL with a reason in why.
 */
static int check_hash_file(const char *path, const char *suffix, const char *bytes, size_t len,
			   char *why, size_t whylen)
{
	char hp[PATH_MAX], *txt = NULL;
	size_t tlen;
	if (snprintf(hp, sizeof(hp), "%s%s", path, suffix) >= (int)sizeof(hp))
		return 0;
	if (access(hp, F_OK) != 0)
		return 0;
	if (cmd_read_file(hp, 4096, &txt, &tlen)) {
		snprintf(why, whylen, "%s: unreadable", suffix + 1);
		return -EINVAL;
	}
	unsigned char md[64];
	unsigned int mdlen = 0;
	char hex[129];
	EVP_Digest(bytes, len, md, &mdlen,
		   strcmp(suffix, ".sha256") == 0 ? EVP_sha256() : EVP_sha512(), NULL);
	au_hex(md, mdlen, hex);
	int ok = tlen >= 2 * mdlen && strncasecmp(txt, hex, 2 * mdlen) == 0;
	free(txt);
	if (!ok) {
		snprintf(why, whylen, "the bytes do not match %s", suffix + 1);
		return -EINVAL;
	}
	return 0;
}

/* Publish one import file (inside a savepoint).  Returns 0/1 dup/-err. */
static int import_one(struct store *st, struct imp_file *f, char *why, size_t whylen, int *ret_dup,
		      int *ret_skipped)
{
	char *bytes = NULL, *sig = NULL, *dist = NULL, *own_sig = NULL, cp[PATH_MAX];
	size_t len = 0, siglen = 0, distlen = 0;
	struct store_publish pub = { 0 };
	int r;

	csaf_dist_init(&pub.dist);
	*ret_skipped = 0;
	if ((r = cmd_read_file(f->path, CSAF_MAX_DOC_BYTES, &bytes, &len))) {
		cmd_read_error(r, CSAF_MAX_DOC_BYTES, why, whylen);
		goto out;
	}
	if (snprintf(cp, sizeof(cp), "%s.asc", f->path) < (int)sizeof(cp) &&
	    access(cp, F_OK) == 0 && (r = cmd_read_file(cp, 64 * 1024, &sig, &siglen))) {
		char e[128];
		snprintf(why, whylen, ".asc: %s", cmd_read_error(r, 64 * 1024, e, sizeof(e)));
		goto out;
	}
	if (snprintf(cp, sizeof(cp), "%s.dist.json", f->path) < (int)sizeof(cp) &&
	    access(cp, F_OK) == 0) {
		char err[256];
		if ((r = cmd_read_file(cp, CSAF_MAX_DIST_BYTES, &dist, &distlen))) {
			char e[128];
			snprintf(why, whylen, ".dist.json: %s",
				 cmd_read_error(r, CSAF_MAX_DIST_BYTES, e, sizeof(e)));
			goto out;
		}
		if ((r = csaf_dist_parse(dist, distlen, &pub.dist, err, sizeof(err)))) {
			snprintf(why, whylen, ".dist.json: %s", err);
			goto out;
		}
	}
	if ((r = check_hash_file(f->path, ".sha256", bytes, len, why, whylen)) ||
	    (r = check_hash_file(f->path, ".sha512", bytes, len, why, whylen)))
		goto out;
	pub.bytes = bytes;
	pub.len = len;
	pub.signature = sig;
	pub.siglen = siglen;
	pub.source = f->path;
	if ((r = sign_if_unsigned(st, &pub, &own_sig, why, whylen)))
		goto out;
	if ((r = store_publish(st, &pub, ret_dup))) {
		if (r == -EINVAL && is_csaf_metadata(bytes, len)) {
			*ret_skipped = 1;
			r = 0;
		} else {
			snprintf(why, whylen, "%s", store_errmsg(st));
		}
	}
out:
	csaf_dist_release(&pub.dist);
	free(bytes);
	free(sig);
	free(own_sig);
	free(dist);
	return r;
}

int cmd_import(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "quiet", no_argument, NULL, 'q' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	struct imp im = { 0 };
	int quiet = 0, c, rc = 1;
	if (cmd_want_help(argc, argv)) {
		fputs(import_help, stdout);
		return 0;
	}
	opt_reset();
	while ((c = cmd_next_opt("import", argc, argv, "s:hq", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'q')
			quiet = 1;
		else if (c == 's')
			ctx->store_path = optarg;
	}
	if (argc - optind != 1)
		return cmd_usage_error("import", "expected one DIR");
	const char *dir = argv[optind];
	struct stat sb;
	int st_ok = stat(dir, &sb) == 0;
	if (!st_ok || !S_ISDIR(sb.st_mode)) {
		cmd_err("import: %s: %s", ESC(dir), st_ok ? "not a directory" : strerror(errno));
		return 1;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;

	imp_walk = &im;
	if (nftw(dir, imp_visit, 32, FTW_PHYS) != 0 || im.err) {
		cmd_err("import: %s: %s", ESC(dir), strerror(im.err ? -im.err : errno));
		goto out;
	}
	/* pass 1: identify each document, so versions go in order */
	for (size_t i = 0; i < im.n; i++) {
		struct imp_file *f = &im.files[i];
		char *bytes = NULL, err[300];
		size_t len;
		struct csaf_doc doc;
		int r = cmd_read_file(f->path, CSAF_MAX_DOC_BYTES, &bytes, &len);
		if (r)
			f->refusal = strdup(cmd_read_error(r, CSAF_MAX_DOC_BYTES, err, sizeof(err)));
		else if (csaf_parse(bytes, len, &doc, err, sizeof(err)) == 0) {
			f->tracking_id = strdup(doc.tracking_id);
			f->version = strdup(doc.version);
			csaf_doc_release(&doc);
		} else if (is_csaf_metadata(bytes, len)) {
			f->refusal = strdup("-"); /* skipped, not refused */
		} else {
			f->refusal = strdup(err);
		}
		free(bytes);
	}
	qsort(im.files, im.n, sizeof(*im.files), cmp_imp);

	/* pass 2: publish, a savepoint per document, a commit every batch */
	int tty = isatty(STDERR_FILENO), published = 0, same = 0, refused = 0, skipped = 0;
	int r = store_begin(st);
	for (size_t i = 0; !r && i < im.n; i++) {
		struct imp_file *f = &im.files[i];
		char why[512];
		int dup = 0, skip = 0, e;
		if (tty && (i % 16 == 0 || i + 1 == im.n))
			fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", i + 1, im.n, ESC(f->path));
		if (f->refusal && !strcmp(f->refusal, "-")) {
			skip = 1;
			e = 0;
		} else if (f->refusal) {
			snprintf(why, sizeof(why), "%s", f->refusal);
			e = -EINVAL;
		} else if ((e = store_savepoint(st, 0)) == 0) {
			e = import_one(st, f, why, sizeof(why), &dup, &skip);
			if (store_savepoint(st, e ? 2 : 1) && !e) {
				snprintf(why, sizeof(why), "%s", store_errmsg(st));
				e = -EIO;
			}
		} else {
			snprintf(why, sizeof(why), "%s", store_errmsg(st));
		}
		if (tty && !quiet)
			fprintf(stderr, "\r\033[K");
		if (e) {
			refused++;
			printf("refused    %s: %s\n", ESC(f->path), why);
		} else if (skip) {
			skipped++;
			if (!quiet)
				printf("skipped    %s: CSAF metadata, not a document\n", ESC(f->path));
		} else if (dup) {
			same++;
			if (!quiet)
				printf("unchanged  %s (%s %s)\n", ESC(f->path), f->tracking_id, f->version);
		} else {
			published++;
			if (!quiet)
				printf("published  %s (%s %s)\n", ESC(f->path), f->tracking_id, f->version);
		}
		if ((i + 1) % 256 == 0) {
			if ((r = store_commit(st)) == 0)
				r = store_begin(st);
		}
		fflush(stdout);
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (!r)
		r = store_commit(st);
	if (r) {
		cmd_err("import: %s", store_errmsg(st));
		goto out;
	}
	printf("%d published, %d unchanged, %d refused, %d skipped\n", published, same, refused,
	       skipped);
	rc = refused ? 1 : 0;
out:
	for (size_t i = 0; i < im.n; i++) {
		free(im.files[i].path);
		free(im.files[i].tracking_id);
		free(im.files[i].version);
		free(im.files[i].refusal);
	}
	free(im.files);
	store_close(st);
	return rc;
}

/* ---- withdraw and share ---------------------------------------------------------------- */

static const char withdraw_help[] =
	"usage: advisoryfs -s STORE withdraw ID [--reason TEXT]\n"
	"\n"
	"Withdraw an advisory (by tracking id or file name): from now on it leaves\n"
	"every view.  Its versions stay in the store, and 'visible --at' an earlier\n"
	"moment still shows it.\n"
	"\n"
	"  --reason TEXT   why, for the record\n";

static const char share_help[] =
	"usage: advisoryfs -s STORE share ID SLUG --reason TEXT\n"
	"\n"
	"Record a special-case decision to share advisory ID directly with the\n"
	"organisation SLUG (Wbni art. 3(2)(e) from 2022-12-01).  The policy decides\n"
	"what the record allows; the reason is kept with it.\n"
	"\n"
	"  --reason TEXT   the grounds for the decision (required)\n";

/* withdraw and share share their shape: ID [SLUG] --reason */
static int withdraw_or_share(struct cmd_ctx *ctx, int argc, char **argv, int share)
{
	static const struct option lo[] = { { "reason", required_argument, NULL, 'r' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *cmd = share ? "share" : "withdraw", *reason = NULL;
	int c;
	if (cmd_want_help(argc, argv)) {
		fputs(share ? share_help : withdraw_help, stdout);
		return 0;
	}
	opt_reset();
	while ((c = cmd_next_opt(cmd, argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'r')
			reason = optarg;
		else if (c == 's')
			ctx->store_path = optarg;
	}
	if (argc - optind != (share ? 2 : 1))
		return cmd_usage_error(cmd, share ? "expected ID and SLUG" : "expected one ID");
	if (share && !reason)
		return cmd_usage_error(cmd, "--reason is required");
	if (reason && strlen(reason) > 4096) {
		cmd_err("%s: --reason longer than 4096 bytes (the limit)", cmd);
		return 1;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st)
		return 1;
	int r = share ? store_share(st, argv[optind], argv[optind + 1], reason, au_now())
		      : store_withdraw(st, argv[optind], reason, au_now());
	if (r)
		cmd_err("%s: %s", cmd, store_errmsg(st));
	store_close(st);
	return r ? 1 : 0;
}

int cmd_withdraw(struct cmd_ctx *ctx, int argc, char **argv)
{
	return withdraw_or_share(ctx, argc, argv, 0);
}

int cmd_share(struct cmd_ctx *ctx, int argc, char **argv)
{
	return withdraw_or_share(ctx, argc, argv, 1);
}

/* ---- policy ------------------------------------------------------------------------------ */

static const char policy_help[] =
	"usage: advisoryfs -s STORE policy load FILE\n"
	"       advisoryfs policy check FILE\n"
	"       advisoryfs -s STORE policy show [--at T]\n"
	"\n"
	"The sharing policy (see advisoryfs-policy(5)).\n"
	"\n"
	"  load    validate FILE and make it the active policy, atomically; on any\n"
	"          error the active policy stays as it was.  Who loaded it and when is\n"
	"          recorded, so old decisions are explained with the policy then in force\n"
	"  check   validate FILE only; with a store, also check that it declares every\n"
	"          role and sector the store uses\n"
	"  show    print the active policy (or the one in force at T)\n";

int cmd_policy(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = { { "at", required_argument, NULL, 'a' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	int64_t at = AU_T_MAX;
	int c;
	if (cmd_want_help(argc, argv)) {
		fputs(policy_help, stdout);
		return 0;
	}
	if (argc < 2)
		return cmd_usage_error("policy", "missing subcommand (load, check, show)");
	const char *sub = argv[1];
	if (strcmp(sub, "load") && strcmp(sub, "check") && strcmp(sub, "show"))
		return cmd_usage_error("policy", "unknown subcommand '%s'", sub);
	opt_reset();
	while ((c = cmd_next_opt("policy", argc - 1, argv + 1, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'a' && parse_time_opt("policy", "--at", optarg, 0, &at))
			return 2;
		if (c == 's')
			ctx->store_path = optarg;
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (nargs != (!strcmp(sub, "show") ? 0 : 1))
		return cmd_usage_error("policy", !strcmp(sub, "show") ? "show takes no FILE"
								    : "expected one FILE");
	if (!strcmp(sub, "show")) {
		struct store *st = cmd_open_store(ctx, 0);
		struct policy *p = NULL;
		char *src = NULL;
		if (!st)
			return 1;
		int r = store_policy_get(st, at, &p, &src, NULL);
		if (r)
			cmd_err("policy show: %s", store_errmsg(st));
		else
			fputs(src, stdout);
		free(src);
		policy_free(p);
		store_close(st);
		return r ? 1 : 0;
	}

	char *json = NULL, why[128], err[512];
	size_t len = 0;
	int r = cmd_read_file(args[0], POL_MAX_BYTES, &json, &len);
	if (r) {
		cmd_err("policy %s: %s: %s", sub, ESC(args[0]),
			cmd_read_error(r, POL_MAX_BYTES, why, sizeof(why)));
		return 1;
	}
	struct policy *p = NULL;
	if ((r = policy_compile(json, len, &p, err, sizeof(err)))) {
		cmd_err("policy %s: %s: %s", sub, ESC(args[0]), err);
		free(json);
		return 1;
	}
	int nrules = policy_nrules(p);
	policy_free(p);
	if (!strcmp(sub, "check") && !ctx->store_path) {
		printf("%s: valid, %d rules\n", ESC(args[0]), nrules);
		free(json);
		return 0;
	}
	struct store *st = cmd_open_store(ctx, 0);
	if (!st) {
		free(json);
		return 1;
	}
	char who[128];
	actor(who, sizeof(who));
	r = store_begin(st);
	if (!r)
		r = store_policy_add(st, json, len, who, au_now());
	if (!r && !strcmp(sub, "check")) {
		store_rollback(st); /* validate against the store, change nothing */
		printf("%s: valid, %d rules, covers the store's roles and sectors\n", ESC(args[0]),
		       nrules);
	} else if (!r) {
		r = store_commit(st);
		if (!r)
			printf("loaded %s: %d rules\n", ESC(args[0]), nrules);
	} else {
		store_rollback(st);
	}
	if (r)
		cmd_err("policy %s: %s: %s", sub, ESC(args[0]), store_errmsg(st));
	store_close(st);
	free(json);
	return r ? 1 : 0;
}

/* ---- visible and explain ---------------------------------------------------------------- */

static const char visible_help[] =
	"usage: advisoryfs -s STORE visible SLUG [--at T] [--json]\n"
	"\n"
	"Print the paths that SLUG's directory holds (what the mount shows under\n"
	"SLUG/, provider-metadata.json and openpgp/ included), one per line, sorted.\n"
	"SLUG 'public' is the public view.\n"
	"\n"
	"  --at T    as of moment T: the policy, roles, memberships, embargoes,\n"
	"            withdrawals and special cases in force at T, applied to the\n"
	"            advisories released by T (default: now)\n"
	"  --json    an object with the files and, per advisory, its path, tracking\n"
	"            id, version, TLP, size, sha256 and the permitting rules\n";

static const char explain_help[] =
	"usage: advisoryfs -s STORE explain SLUG ID [--at T] [--json]\n"
	"\n"
	"Explain whether advisory ID (tracking id or file name) may be shared with\n"
	"SLUG: each rule of the policy in force, whether it applied and the facts\n"
	"that made each condition true or false, the decision, and the rules that\n"
	"determined it with their legal basis.\n"
	"\n"
	"  --at T    decide as of moment T (default: now)\n"
	"  --json    machine-readable output\n";

/* Shared by visible and explain: options, store, policy and world at T. */
struct decide_env {
	struct store *st;
	struct policy *p;
	struct world *w;
	int64_t at;
	int json;
	uint32_t org;
};

/* lean: a lean world (STORE_WORLD_LEAN) will do unless --json is given */
static int decide_env_open(struct cmd_ctx *ctx, const char *cmd, int argc, char **argv,
			   int nargs, int lean, struct decide_env *env, char ***ret_args)
{
	static const struct option lo[] = { { "at", required_argument, NULL, 'a' },
					     { "json", no_argument, NULL, 'j' },
					     { "store", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	int c, have_at = 0;
	memset(env, 0, sizeof(*env));
	env->at = au_now();
	opt_reset();
	while ((c = cmd_next_opt(cmd, argc, argv, "s:h", lo)) != -1) {
		if (c == '?')
			return 2;
		if (c == 'a') {
			if (parse_time_opt(cmd, "--at", optarg, 0, &env->at))
				return 2;
			have_at = 1;
		} else if (c == 'j') {
			env->json = 1;
		} else if (c == 's') {
			ctx->store_path = optarg;
		}
	}
	if (argc - optind != nargs)
		return cmd_usage_error(cmd, nargs == 1 ? "expected SLUG" : "expected SLUG and ID");
	*ret_args = argv + optind;
	if (!(env->st = cmd_open_store(ctx, 0)))
		return 1;
	int r = store_policy_get(env->st, have_at ? env->at : AU_T_MAX, &env->p, NULL, NULL);
	if (!r)
		r = store_world_load_opts(env->st, env->p, env->at,
					  lean && !env->json ? STORE_WORLD_LEAN : 0, &env->w);
	if (r) {
		cmd_err("%s: %s", cmd, store_errmsg(env->st));
		return 1;
	}
	const char *slug = (*ret_args)[0];
	env->org = world_org_find(env->w, slug);
	if (env->org == W_NONE) {
		cmd_err("%s: no organisation '%s'", cmd, slug);
		return 1;
	}
	return 0;
}

static void decide_env_close(struct decide_env *env)
{
	world_free(env->w);
	policy_free(env->p);
	store_close(env->st);
}

int cmd_visible(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct decide_env env;
	char **args;
	if (cmd_want_help(argc, argv)) {
		fputs(visible_help, stdout);
		return 0;
	}
	/* the paths need no titles, sizes or hashes: a lean world is faster */
	int rc = decide_env_open(ctx, "visible", argc, argv, 1, 1, &env, &args);
	if (rc == 0) {
		/* the provider's files as the mount serves them (the provider
		 * values and the key are the current ones, also with --at) */
		struct view_provider prov;
		struct view *v = NULL;
		int r = view_provider_load(env.st, &prov);
		if (r) {
			cmd_err("visible: %s", store_errmsg(env.st));
			decide_env_close(&env);
			return 1;
		}
		r = view_build_opts(env.p, env.w, env.org, env.at, env.json ? 0 : VIEW_NAMES_ONLY,
				    &v);
		if (!r)
			r = view_set_provider(v, &prov);
		if (!r)
			r = view_print(v, env.p, env.json, stdout);
		if (r) {
			cmd_err("visible: %s", strerror(-r));
			rc = 1;
		}
		view_free(v);
		view_provider_release(&prov);
	}
	decide_env_close(&env);
	return rc;
}

int cmd_explain(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct decide_env env;
	char **args;
	if (cmd_want_help(argc, argv)) {
		fputs(explain_help, stdout);
		return 0;
	}
	int rc = decide_env_open(ctx, "explain", argc, argv, 2, 0, &env, &args);
	if (rc == 0) {
		uint32_t adv = world_adv_find(env.w, args[1]);
		if (adv == W_NONE) {
			char t[AU_TIME_LEN];
			au_format_time(env.at, t);
			cmd_err("explain: no advisory '%s' released by %s", args[1], t);
			rc = 1;
		} else {
			int r = policy_explain(env.p, env.w, env.org, adv, env.at, env.json, stdout);
			if (r) {
				cmd_err("explain: %s", strerror(-r));
				rc = 1;
			}
		}
	}
	decide_env_close(&env);
	return rc;
}
