/*
 * test_csaf.c - lib/csaf: real CSAF documents, the section 5.1 file-name
 * cases, each required field, each input limit, dates, version ordering,
 * TLP labels and .dist.json companions.
 *
 * The corpus is SOURCE_ROOT/../shared/csaf when present (79 real documents
 * plus a synthetic one), else the copies under tests/data/csaf; the copies
 * are always checked too.  Documents are handed to csaf_parse() in buffers
 * of exactly their length, so that AddressSanitizer catches any read past
 * the end.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "csaf.h"
#include "util.h"

#define SHARED_CSAF SOURCE_ROOT "/../shared/csaf"
#define LOCAL_CSAF SOURCE_ROOT "/tests/data/csaf"

/* Real documents that we refuse on purpose, and why (the message must
 * contain the reason).  rhba-2023_0564.json is a test fixture with empty
 * publisher.name, title, tracking.id and revision number. */
static const struct {
	const char *name, *reason;
} known_refused[] = {
	{ "rhba-2023_0564.json", "document.publisher.name: empty" },
};

/* A minimal valid document that the field tests mutate. */
static const char base_doc[] =
	"{\"document\": {"
	"\"category\": \"csaf_base\", \"csaf_version\": \"2.0\","
	"\"publisher\": {\"category\": \"coordinator\", \"name\": \"Example CSIRT\","
	" \"namespace\": \"https://csirt.example\"},"
	"\"title\": \"Example advisory\","
	"\"distribution\": {\"tlp\": {\"label\": \"GREEN\"}},"
	"\"tracking\": {\"id\": \"EX-2024-0001\", \"status\": \"final\", \"version\": \"2\","
	" \"initial_release_date\": \"2024-03-01T10:00:00Z\","
	" \"current_release_date\": \"2024-03-02T10:00:00Z\","
	" \"revision_history\": ["
	"  {\"date\": \"2024-03-01T10:00:00Z\", \"number\": \"1\", \"summary\": \"Initial\"},"
	"  {\"date\": \"2024-03-02T10:00:00Z\", \"number\": \"2\", \"summary\": \"Update\"}]}}}";

/* ------------------------------------------------------------------ */
/* helpers                                                              */

/* Read a file into a buffer of exactly its size (no NUL after it). */
static int read_all(const char *path, char **ret_buf, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	char *buf;
	if (!f)
		return -errno;
	if (fstat(fileno(f), &sb) < 0 || sb.st_size < 0) {
		fclose(f);
		return -EIO;
	}
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf || fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*ret_buf = buf;
	*ret_len = (size_t)sb.st_size;
	return 0;
}

static int is_dir(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Every byte printable, no newline: a message fit for one log line. */
static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* csaf_parse on an exact-length copy of s[0..len).  Returns its result;
 * err receives the message. */
static int parse_n(const char *s, size_t len, struct csaf_doc *doc, char *err, size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	int r;
	memcpy(copy, s, len);
	err[0] = '\0';
	r = csaf_parse(copy, len, doc, err, errlen);
	free(copy);
	return r;
}

static int refused_n_at(const char *s, size_t len, int want_r, const char *want_msg, int line)
{
	struct csaf_doc doc, before;
	char err[300];
	memset(&doc, 0xab, sizeof(doc));
	before = doc;
	int r = parse_n(s, len, &doc, err, sizeof(err));
	int ok = r == want_r && strstr(err, want_msg) && one_line(err) &&
		 memcmp(&doc, &before, sizeof(doc)) == 0;
	if (!ok) {
		fprintf(stderr, "line %d: want %d '%s', got %d '%s'%s\n", line, want_r, want_msg,
			r, err, memcmp(&doc, &before, sizeof(doc)) ? " (ret_doc written)" : "");
		if (r == 0)
			csaf_doc_release(&doc);
	}
	return ok;
}

static int accepted_n_at(const char *s, size_t len, struct csaf_doc *ret_doc, int line)
{
	struct csaf_doc doc;
	char err[300];
	int r = parse_n(s, len, &doc, err, sizeof(err));
	if (r) {
		fprintf(stderr, "line %d: refused (%d): %s\n", line, r, err);
		return 0;
	}
	if (ret_doc)
		*ret_doc = doc;
	else
		csaf_doc_release(&doc);
	return 1;
}

#define REFUSED(s, r, msg) CHECK(refused_n_at((s), strlen(s), (r), (msg), __LINE__))
#define REFUSED_N(s, n, r, msg) CHECK(refused_n_at((s), (n), (r), (msg), __LINE__))
#define ACCEPTED(s) CHECK(accepted_n_at((s), strlen(s), NULL, __LINE__))

/*
 * base_doc with the member at path ("document.tracking.id",
 * "document.tracking.revision_history.0.date") replaced by the JSON text
 * value, or deleted when value is NULL.  Returns an allocated string.
 */
static char *mutate(const char *path, const char *value)
{
	cJSON *root = cJSON_Parse(base_doc), *parent = root;
	char buf[256], *save = NULL, *tok, *last = NULL, *out;
	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		if (last) {
			parent = cJSON_IsArray(parent) ? cJSON_GetArrayItem(parent, atoi(last))
						       : cJSON_GetObjectItemCaseSensitive(parent, last);
			if (!parent) {
				fprintf(stderr, "mutate: no %s\n", path);
				exit(2);
			}
		}
		last = tok;
	}
	if (cJSON_IsArray(parent)) {
		if (value)
			cJSON_ReplaceItemInArray(parent, atoi(last), cJSON_Parse(value));
		else
			cJSON_DeleteItemFromArray(parent, atoi(last));
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
		if (value) {
			cJSON *v = cJSON_Parse(value);
			if (!v) {
				fprintf(stderr, "mutate: bad value %s\n", value);
				exit(2);
			}
			cJSON_AddItemToObject(parent, last, v);
		}
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static int mut_refused_at(const char *path, const char *value, int want_r, const char *msg,
			  int line)
{
	char *s = mutate(path, value);
	int ok = refused_n_at(s, strlen(s), want_r, msg, line);
	free(s);
	return ok;
}

static int mut_accepted_at(const char *path, const char *value, struct csaf_doc *ret_doc,
			   int line)
{
	char *s = mutate(path, value);
	int ok = accepted_n_at(s, strlen(s), ret_doc, line);
	free(s);
	return ok;
}

#define MUT_REFUSED(p, v, msg) CHECK(mut_refused_at((p), (v), -EINVAL, (msg), __LINE__))
#define MUT_REFUSED_BIG(p, v, msg) CHECK(mut_refused_at((p), (v), -E2BIG, (msg), __LINE__))
#define MUT_ACCEPTED(p, v) CHECK(mut_accepted_at((p), (v), NULL, __LINE__))

/* A JSON string literal of n copies of c (allocated). */
static char *json_string_of(size_t n, char c)
{
	char *s = malloc(n + 3);
	s[0] = '"';
	memset(s + 1, c, n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

/* ------------------------------------------------------------------ */
/* the corpus                                                           */

/* One row of SOURCES.md: what its authors recorded about a document. */
struct source_row {
	char file[256], id[300], tlp[16], status[16];
};

static struct source_row *sources;
static size_t nsources;

/* Load the table of SOURCES.md (absent: no cross-check). */
static void load_sources(const char *root)
{
	char path[512], line[2048];
	snprintf(path, sizeof(path), "%s/SOURCES.md", root);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *cell[9], *p = line + 1;
		int n = 0;
		if (strncmp(line, "| advisories/", 13) != 0)
			continue;
		while (n < 9 && p) {
			char *bar = strchr(p, '|');
			cell[n++] = p;
			if (bar)
				*bar = '\0';
			p = bar ? bar + 1 : NULL;
		}
		if (n < 8)
			continue;
		struct source_row *nr = realloc(sources, (nsources + 1) * sizeof(*sources));
		if (!nr)
			break;
		sources = nr;
		struct source_row *row = &sources[nsources++];
		char *fields[4] = { cell[0], cell[4], cell[5], cell[6] };
		char *dst[4] = { row->file, row->id, row->tlp, row->status };
		size_t dl[4] = { sizeof(row->file), sizeof(row->id), sizeof(row->tlp),
				 sizeof(row->status) };
		for (int k = 0; k < 4; k++) {
			char *a = fields[k], *b;
			while (*a == ' ')
				a++;
			b = a + strlen(a);
			while (b > a && b[-1] == ' ')
				b--;
			size_t l = (size_t)(b - a) < dl[k] ? (size_t)(b - a) : dl[k] - 1;
			memcpy(dst[k], a, l);
			dst[k][l] = '\0';
		}
	}
	fclose(f);
}

static const struct source_row *source_of(const char *relpath)
{
	for (size_t i = 0; i < nsources; i++)
		if (strcmp(sources[i].file, relpath) == 0)
			return &sources[i];
	return NULL;
}

/* nftw has no user pointer: the walk's state. */
static struct {
	size_t root_len;
	int parsed, skipped, refused;
} walk;

static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base, *dot = strrchr(base, '.');
	char *buf;
	size_t len;
	(void)sb;
	if (type != FTW_F || !dot || strcmp(dot, ".json") != 0)
		return 0;
	if (read_all(path, &buf, &len)) {
		CHECK(!"readable");
		return 0;
	}
	/* provider metadata and ROLIE feeds live beside the documents */
	cJSON *j = cJSON_ParseWithLength(buf, len);
	int is_doc = j && cJSON_GetObjectItemCaseSensitive(j, "document");
	const char *id = NULL;
	if (is_doc) {
		cJSON *tr = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j, "document"), "tracking");
		cJSON *idj = cJSON_GetObjectItemCaseSensitive(tr, "id");
		id = cJSON_IsString(idj) ? idj->valuestring : NULL;
	}
	if (!is_doc) {
		walk.skipped++;
		cJSON_Delete(j);
		free(buf);
		return 0;
	}

	struct csaf_doc doc;
	char err[300];
	int r = csaf_parse(buf, len, &doc, err, sizeof(err));
	const char *expect = NULL;
	for (size_t i = 0; i < sizeof(known_refused) / sizeof(known_refused[0]); i++)
		if (strcmp(base, known_refused[i].name) == 0)
			expect = known_refused[i].reason;
	if (expect) {
		walk.refused++;
		CHECK(r == -EINVAL && strstr(err, expect));
		if (r == 0)
			csaf_doc_release(&doc);
		else
			printf("  refused as expected: %s: %s\n", base, err);
	} else if (r) {
		fprintf(stderr, "%s: refused: %s\n", path, err);
		CHECK(!"a real document parses");
	} else {
		char name[CSAF_MAX_FILENAME + 1];
		walk.parsed++;
		CHECK(id && strcmp(doc.tracking_id, id) == 0);
		CHECK(csaf_filename(doc.tracking_id, name, sizeof(name)) == 0);
		CHECK_STR(doc.filename, name);
		CHECK(csaf_version_valid(doc.version));
		CHECK(doc.current_release >= doc.initial_release);
		CHECK(doc.title[0] && doc.publisher[0] && doc.category[0]);
		const struct source_row *row = source_of(path + walk.root_len + 1);
		if (row) {
			const char *tlp = doc.tlp == CSAF_TLP_NONE	 ? "None"
					  : doc.tlp == CSAF_TLP_CLEAR ? "WHITE"
								      : csaf_tlp_name(doc.tlp);
			CHECK_STR(doc.tracking_id, row->id);
			CHECK_STR(tlp, row->tlp);
			CHECK_STR(csaf_status_name(doc.status), row->status);
		}
		csaf_doc_release(&doc);
		csaf_doc_release(&doc); /* a second release is harmless */
	}
	cJSON_Delete(j);
	free(buf);
	return 0;
}

/* Parse every document under root/advisories (and root/synthetic). */
static void test_corpus(const char *root, int expect_min)
{
	char path[512];
	memset(&walk, 0, sizeof(walk));
	walk.root_len = strlen(root);
	snprintf(path, sizeof(path), "%s/advisories", root);
	CHECK(nftw(path, visit, 16, FTW_PHYS) == 0);
	snprintf(path, sizeof(path), "%s/synthetic", root);
	if (is_dir(path))
		CHECK(nftw(path, visit, 16, FTW_PHYS) == 0);
	printf("  %s: %d documents parsed, %d refused as expected, %d non-documents skipped\n",
	       root, walk.parsed, walk.refused, walk.skipped);
	CHECK(walk.parsed >= expect_min);
}

/* The official section 5.1 cases: a valid file is named after its id. */
static void test_filename_dir(const char *root, const char *sub, int valid)
{
	char dir[512], path[800];
	snprintf(dir, sizeof(dir), "%s/filename-tests/%s", root, sub);
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;
	CHECK(dp != NULL);
	while (dp && (de = readdir(dp))) {
		const char *line = de->d_name;
		char *buf, name[CSAF_MAX_FILENAME + 1];
		size_t len;
		struct csaf_doc doc;
		char err[300];
		if (line[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		if (read_all(path, &buf, &len)) {
			CHECK(!"readable");
			continue;
		}
		cJSON *j = cJSON_ParseWithLength(buf, len);
		cJSON *id = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(j, "document"), "tracking"),
			"id");
		CHECK(cJSON_IsString(id));
		if (cJSON_IsString(id)) {
			CHECK(csaf_filename(id->valuestring, name, sizeof(name)) == 0);
			if (valid)
				CHECK_STR(name, line);
			else
				CHECK(strcmp(name, line) != 0);
		}
		/* each case is also a complete, valid document */
		int r = csaf_parse(buf, len, &doc, err, sizeof(err));
		CHECK(r == 0);
		if (r == 0) {
			if (valid)
				CHECK_STR(doc.filename, line);
			csaf_doc_release(&doc);
		}
		cJSON_Delete(j);
		free(buf);
		n++;
	}
	if (dp)
		closedir(dp);
	CHECK(n == 3);
}

/* ------------------------------------------------------------------ */
/* file names                                                           */

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '_';
}

static const char *fname(const char *id)
{
	static char out[CSAF_MAX_FILENAME + 1];
	if (csaf_filename(id, out, sizeof(out)))
		return "(error)";
	return out;
}

static void test_filename(void)
{
	char big[400], out[CSAF_MAX_FILENAME + 1];

	CHECK_STR(fname("RHSA-2019:1862"), "rhsa-2019_1862.json");
	CHECK_STR(fname("OASIS: #/CSAF_TC-CSAF_2.0-2021-5-1-13"),
		  "oasis_csaf_tc-csaf_2_0-2021-5-1-13.json");
	CHECK_STR(fname("a+b-c"), "a+b-c.json");
	CHECK_STR(fname("../x"), "_x.json");
	CHECK_STR(fname("a/b"), "a_b.json");
	CHECK_STR(fname("."), "_.json");
	CHECK_STR(fname("x."), "x_.json");
	CHECK_STR(fname(".hidden"), "_hidden.json");
	CHECK_STR(fname("a \t\n b"), "a_b.json");
	CHECK_STR(fname("-"), "-.json");
	CHECK_STR(fname("\xc3\x84rger"), "_rger.json");                /* Ä */
	CHECK_STR(fname("\xe2\x84\xaa-1"), "k-1.json");                /* KELVIN SIGN */
	CHECK_STR(fname("\xc4\xb0x"), "i_x.json");                     /* I WITH DOT ABOVE */
	CHECK_STR(fname("a\xff\xfe" "b"), "a_b.json");                 /* invalid bytes */
	CHECK(csaf_filename("", out, sizeof(out)) == -EINVAL);
	CHECK(csaf_filename(NULL, out, sizeof(out)) == -EINVAL);

	/* 250 characters + ".json" = 255 fits, one more does not */
	memset(big, 'a', 251);
	big[250] = '\0';
	CHECK(csaf_filename(big, out, sizeof(out)) == 0 && strlen(out) == CSAF_MAX_FILENAME);
	big[250] = 'a';
	big[251] = '\0';
	CHECK(csaf_filename(big, out, sizeof(out)) == -ENAMETOOLONG);
	CHECK(csaf_filename("abc", out, 8) == -ENAMETOOLONG);
	CHECK(csaf_filename("abc", out, 9) == 0);
	/* runs merge, so a long id of separators is short */
	memset(big, '/', 399);
	big[399] = '\0';
	CHECK_STR(fname(big), "_.json");

	/* whatever the id: only [+-a-z0-9_], never '/', never a leading '.' */
	uint32_t seed = 12345;
	for (int i = 0; i < 20000; i++) {
		char id[40];
		size_t n = 1 + (seed >> 8) % 38;
		for (size_t k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			id[k] = (char)(1 + (seed >> 16) % 255);
		}
		id[n] = '\0';
		CHECK(csaf_filename(id, out, sizeof(out)) == 0);
		size_t ol = strlen(out);
		int ok = ol > 5 && out[0] != '.' && strcmp(out + ol - 5, ".json") == 0;
		for (size_t k = 0; k + 5 < ol; k++)
			ok &= name_char(out[k]);
		CHECK(ok && !strchr(out, '/'));
	}
}

/* ------------------------------------------------------------------ */
/* required fields                                                      */

static void test_fields(void)
{
	struct csaf_doc doc;
	char *s;

	/* the base document and its extracted fields */
	CHECK(mut_accepted_at("document.title", "\"Example advisory\"", &doc, __LINE__));
	CHECK_STR(doc.tracking_id, "EX-2024-0001");
	CHECK_STR(doc.version, "2");
	CHECK_STR(doc.title, "Example advisory");
	CHECK_STR(doc.publisher, "Example CSIRT");
	CHECK_STR(doc.category, "csaf_base");
	CHECK_STR(doc.filename, "ex-2024-0001.json");
	CHECK(doc.status == CSAF_STATUS_FINAL);
	CHECK(doc.tlp == CSAF_TLP_GREEN);
	CHECK(doc.initial_release == 1709287200);
	CHECK(doc.current_release == 1709287200 + 86400);
	csaf_doc_release(&doc);

	MUT_REFUSED("document", NULL, "document: missing");
	MUT_REFUSED("document", "[]", "document: expected an object, got an array");
	REFUSED("[1]", -EINVAL, "top-level value: expected an object, got an array");

	MUT_REFUSED("document.category", NULL, "document.category: missing");
	MUT_REFUSED("document.category", "5", "document.category: expected a string, got a number");
	MUT_REFUSED("document.category", "\"\"", "document.category: empty");
	MUT_ACCEPTED("document.category", "\"csaf_vex\"");

	MUT_REFUSED("document.csaf_version", NULL, "document.csaf_version: missing");
	MUT_REFUSED("document.csaf_version", "2.0", "expected a string, got a number");
	MUT_REFUSED("document.csaf_version", "\"2.1\"",
		    "document.csaf_version: expected '2.0', got '2.1'");

	MUT_REFUSED("document.publisher", NULL, "document.publisher: missing");
	MUT_REFUSED("document.publisher", "\"x\"", "document.publisher: expected an object");
	MUT_REFUSED("document.publisher.category", NULL, "document.publisher.category: missing");
	MUT_REFUSED("document.publisher.category", "\"owner\"",
		    "document.publisher.category: unknown category 'owner'");
	MUT_ACCEPTED("document.publisher.category", "\"vendor\"");
	MUT_REFUSED("document.publisher.name", NULL, "document.publisher.name: missing");
	MUT_REFUSED("document.publisher.name", "\"\"", "document.publisher.name: empty");
	MUT_REFUSED("document.publisher.name", "null", "expected a string, got null");
	MUT_REFUSED("document.publisher.namespace", NULL, "document.publisher.namespace: missing");
	MUT_REFUSED("document.publisher.namespace", "\"csirt.example\"",
		    "document.publisher.namespace: not a URI: 'csirt.example'");
	MUT_ACCEPTED("document.publisher.namespace", "\"urn:example:csirt\"");

	MUT_REFUSED("document.title", NULL, "document.title: missing");
	MUT_REFUSED("document.title", "true", "document.title: expected a string, got a boolean");
	MUT_REFUSED("document.title", "\"\"", "document.title: empty");
	s = json_string_of(CSAF_MAX_TITLE_LEN, 't');
	MUT_ACCEPTED("document.title", s);
	free(s);
	s = json_string_of(CSAF_MAX_TITLE_LEN + 1, 't');
	MUT_REFUSED_BIG("document.title", s, "document.title: 4097 bytes (limit 4096)");
	free(s);

	MUT_REFUSED("document.tracking", NULL, "document.tracking: missing");
	MUT_REFUSED("document.tracking", "[]", "document.tracking: expected an object");

	MUT_REFUSED("document.tracking.id", NULL, "document.tracking.id: missing");
	MUT_REFUSED("document.tracking.id", "7", "document.tracking.id: expected a string");
	MUT_REFUSED("document.tracking.id", "\"\"", "document.tracking.id: empty");
	MUT_REFUSED("document.tracking.id", "\"a\\nb\"",
		    "document.tracking.id: control or formatting character U+000A in 'a\\nb'");
	MUT_REFUSED("document.tracking.id", "\"a\\u0085b\"", "U+0085");
	MUT_REFUSED("document.tracking.id", "\"a\\u202eb\"", "U+202E in 'a\\u202eb'");
	MUT_REFUSED("document.tracking.id", "\" x\"", "leading or trailing space");
	MUT_REFUSED("document.tracking.id", "\"x \"", "leading or trailing space");
	s = json_string_of(CSAF_MAX_ID_LEN + 1, 'i');
	MUT_REFUSED_BIG("document.tracking.id", s, "document.tracking.id: 257 bytes (limit 256)");
	free(s);
	s = json_string_of(CSAF_MAX_FILENAME - 4, 'i');
	MUT_REFUSED_BIG("document.tracking.id", s, "file name would exceed 255 bytes");
	free(s);
	s = json_string_of(CSAF_MAX_FILENAME - 5, 'i');
	MUT_ACCEPTED("document.tracking.id", s);
	free(s);
	CHECK(mut_accepted_at("document.tracking.id", "\"../../etc/passwd\"", &doc, __LINE__));
	CHECK_STR(doc.filename, "_etc_passwd.json");
	csaf_doc_release(&doc);

	MUT_REFUSED("document.tracking.status", NULL, "document.tracking.status: missing");
	MUT_REFUSED("document.tracking.status", "1", "document.tracking.status: expected a string");
	MUT_REFUSED("document.tracking.status", "\"published\"",
		    "document.tracking.status: unknown status 'published'");
	MUT_REFUSED("document.tracking.status", "\"Final\"", "unknown status 'Final'");
	CHECK(mut_accepted_at("document.tracking.status", "\"draft\"", &doc, __LINE__));
	CHECK(doc.status == CSAF_STATUS_DRAFT);
	csaf_doc_release(&doc);
	CHECK(mut_accepted_at("document.tracking.status", "\"interim\"", &doc, __LINE__));
	CHECK(doc.status == CSAF_STATUS_INTERIM);
	csaf_doc_release(&doc);

	MUT_REFUSED("document.tracking.version", NULL, "document.tracking.version: missing");
	MUT_REFUSED("document.tracking.version", "2", "document.tracking.version: expected a string");
	MUT_REFUSED("document.tracking.version", "\"01\"",
		    "document.tracking.version: not an integer or semantic version: '01'");
	MUT_REFUSED("document.tracking.version", "\"1.0\"", "not an integer or semantic version");
	MUT_REFUSED("document.tracking.version", "\"\"", "document.tracking.version: empty");
	MUT_ACCEPTED("document.tracking.version", "\"1.0.0-rc.1+build.5\"");
	s = json_string_of(CSAF_MAX_ID_LEN + 1, '9');
	MUT_REFUSED_BIG("document.tracking.version", s, "(limit 256)");
	free(s);

	/* dates */
	MUT_REFUSED("document.tracking.initial_release_date", NULL,
		    "document.tracking.initial_release_date: missing");
	MUT_REFUSED("document.tracking.initial_release_date", "\"2024-13-01\"",
		    "document.tracking.initial_release_date: not an RFC 3339 date-time: "
		    "'2024-13-01'");
	MUT_REFUSED("document.tracking.initial_release_date", "\"2024-13-01T10:00:00Z\"",
		    "not an RFC 3339 date-time");
	MUT_REFUSED("document.tracking.initial_release_date", "\"2024-03-01T10:00:00\"",
		    "not an RFC 3339 date-time: '2024-03-01T10:00:00'"); /* no offset */
	MUT_REFUSED("document.tracking.initial_release_date", "\"2023-02-29T10:00:00Z\"",
		    "not an RFC 3339 date-time");
	MUT_REFUSED("document.tracking.initial_release_date", "20240301", "expected a string");
	CHECK(mut_accepted_at("document.tracking.initial_release_date", "\"2024-02-29T10:00:00Z\"",
			      &doc, __LINE__)); /* leap day */
	CHECK(doc.initial_release == 1709287200 - 86400);
	csaf_doc_release(&doc);
	CHECK(mut_accepted_at("document.tracking.initial_release_date",
			      "\"2024-03-01T10:00:00.123456Z\"", &doc, __LINE__));
	CHECK(doc.initial_release == 1709287200);
	csaf_doc_release(&doc);
	CHECK(mut_accepted_at("document.tracking.initial_release_date",
			      "\"2024-03-01T12:00:00+02:00\"", &doc, __LINE__));
	CHECK(doc.initial_release == 1709287200);
	csaf_doc_release(&doc);
	MUT_REFUSED("document.tracking.current_release_date", NULL,
		    "document.tracking.current_release_date: missing");
	MUT_REFUSED("document.tracking.current_release_date", "\"2024-02-29T10:00:00Z\"",
		    "document.tracking.current_release_date: '2024-02-29T10:00:00Z' is before "
		    "initial_release_date '2024-03-01T10:00:00Z'");
	/* the same instant written with an offset is not earlier */
	MUT_ACCEPTED("document.tracking.current_release_date", "\"2024-03-01T11:00:00+01:00\"");

	MUT_REFUSED("document.tracking.revision_history", NULL,
		    "document.tracking.revision_history: missing");
	MUT_REFUSED("document.tracking.revision_history", "{}",
		    "document.tracking.revision_history: expected an array, got an object");
	MUT_REFUSED("document.tracking.revision_history", "[]",
		    "document.tracking.revision_history: empty");
	MUT_REFUSED("document.tracking.revision_history", "[1]",
		    "document.tracking.revision_history[0]: expected an object, got a number");
	MUT_REFUSED("document.tracking.revision_history.1.date", NULL,
		    "document.tracking.revision_history[1].date: missing");
	MUT_REFUSED("document.tracking.revision_history.1.date", "\"yesterday\"",
		    "document.tracking.revision_history[1].date: not an RFC 3339 date-time: "
		    "'yesterday'");
	MUT_REFUSED("document.tracking.revision_history.0.number", NULL,
		    "document.tracking.revision_history[0].number: missing");
	MUT_REFUSED("document.tracking.revision_history.0.number", "\"v1\"",
		    "document.tracking.revision_history[0].number: not an integer or semantic "
		    "version: 'v1'");
	MUT_REFUSED("document.tracking.revision_history.0.number", "1", "expected a string");
	MUT_REFUSED("document.tracking.revision_history.0.summary", NULL,
		    "document.tracking.revision_history[0].summary: missing");
	MUT_REFUSED("document.tracking.revision_history.0.summary", "\"\"",
		    "document.tracking.revision_history[0].summary: empty");
	MUT_ACCEPTED("document.tracking.revision_history.0",
		     "{\"date\": \"2024-03-01T10:00:00Z\", \"number\": \"1.0.0-alpha\","
		     " \"summary\": \"x\", \"legacy_version\": \"0.9\"}");

	/* TLP */
	static const struct {
		const char *label;
		enum csaf_tlp tlp;
	} labels[] = { { "\"WHITE\"", CSAF_TLP_CLEAR },
		       { "\"GREEN\"", CSAF_TLP_GREEN },
		       { "\"AMBER\"", CSAF_TLP_AMBER },
		       { "\"RED\"", CSAF_TLP_RED } };
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		CHECK(mut_accepted_at("document.distribution.tlp.label", labels[i].label, &doc,
				      __LINE__));
		CHECK(doc.tlp == labels[i].tlp);
		csaf_doc_release(&doc);
	}
	MUT_REFUSED("document.distribution.tlp.label", "\"PURPLE\"",
		    "document.distribution.tlp.label: unknown label 'PURPLE' (CSAF 2.0 labels "
		    "are WHITE, GREEN, AMBER and RED)");
	MUT_REFUSED("document.distribution.tlp.label", "\"CLEAR\"", "unknown label 'CLEAR'");
	MUT_REFUSED("document.distribution.tlp.label", "\"AMBER+STRICT\"", "unknown label");
	MUT_REFUSED("document.distribution.tlp.label", "\"white\"", "unknown label 'white'");
	MUT_REFUSED("document.distribution.tlp.label", "3", "expected a string");
	MUT_REFUSED("document.distribution.tlp.label", NULL,
		    "document.distribution.tlp.label: missing");
	MUT_REFUSED("document.distribution.tlp", "\"RED\"",
		    "document.distribution.tlp: expected an object, got a string");
	MUT_REFUSED("document.distribution", "[]", "document.distribution: expected an object");
	CHECK(mut_accepted_at("document.distribution", NULL, &doc, __LINE__));
	CHECK(doc.tlp == CSAF_TLP_NONE);
	csaf_doc_release(&doc);
	CHECK(mut_accepted_at("document.distribution", "{\"text\": \"share freely\"}", &doc,
			      __LINE__));
	CHECK(doc.tlp == CSAF_TLP_NONE);
	csaf_doc_release(&doc);

	/* an error message stays one printable line, values truncated */
	{
		char err[300];
		s = mutate("document.tracking.version",
			   "\"\\u0001\\u0002\\n\\u001b[31m'quote'\\\\ "
			   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			   "\"");
		CHECK(parse_n(s, strlen(s), &doc, err, sizeof(err)) == -EINVAL);
		CHECK(one_line(err));
		CHECK(strstr(err, "'\\x01\\x02\\n\\x1b[31m\\'quote\\'\\\\ xxx"));
		CHECK(strstr(err, "x...'"));
		CHECK(strlen(err) < 200);
		free(s);
		/* no room for a message is not a crash */
		s = mutate("document.title", NULL);
		CHECK(csaf_parse(s, strlen(s), &doc, NULL, 0) == -EINVAL);
		CHECK(csaf_parse(s, strlen(s), &doc, err, 1) == -EINVAL && err[0] == '\0');
		CHECK(csaf_parse(s, strlen(s), &doc, err, 12) == -EINVAL &&
		      strcmp(err, "document.ti") == 0);
		free(s);
	}
}

/* ------------------------------------------------------------------ */
/* limits and malformed input                                           */

/* base_doc with a member "x": inner inserted at the start of the root. */
static char *with_extra(const char *inner)
{
	size_t il = strlen(inner);
	char *s = malloc(il + sizeof(base_doc) + 8), *p = s;
	memcpy(p, "{\"x\": ", 6);
	p += 6;
	memcpy(p, inner, il);
	p += il;
	memcpy(p, ", ", 2);
	memcpy(p + 2, base_doc + 1, sizeof(base_doc) - 1); /* with its NUL */
	return s;
}

/* base_doc with raw bytes in place of the title's text.  Returns the
 * length; *ret_off is the offset of the bytes. */
static size_t with_title_bytes(char *out, size_t outlen, const char *bytes, size_t *ret_off)
{
	const char *t = strstr(base_doc, "Example advisory");
	size_t pre = (size_t)(t - base_doc), bl = strlen(bytes);
	size_t post = strlen(t + 16);
	if (pre + bl + post + 1 > outlen)
		return 0;
	memcpy(out, base_doc, pre);
	memcpy(out + pre, bytes, bl);
	memcpy(out + pre + bl, t + 16, post + 1);
	*ret_off = pre;
	return pre + bl + post;
}

static void test_limits(void)
{
	char *s, *big, buf[2048], want[120];
	size_t n, off;

	/* size: exactly the limit parses (whitespace pads it), one more byte does not */
	big = malloc(CSAF_MAX_DOC_BYTES + 1);
	memcpy(big, base_doc, strlen(base_doc));
	memset(big + strlen(base_doc), ' ', CSAF_MAX_DOC_BYTES + 1 - strlen(base_doc));
	CHECK(accepted_n_at(big, CSAF_MAX_DOC_BYTES, NULL, __LINE__));
	REFUSED_N(big, CSAF_MAX_DOC_BYTES + 1, -E2BIG,
		  "document too large: 16777217 bytes (limit 16777216)");
	free(big);

	/* depth: the root object is level 1, so "x" holds 63 or 64 arrays */
	for (int levels = 63; levels <= 64; levels++) {
		char nest[200];
		memset(nest, '[', (size_t)levels);
		memset(nest + levels, ']', (size_t)levels);
		nest[2 * levels] = '\0';
		s = with_extra(nest);
		if (levels == 63)
			ACCEPTED(s);
		else
			REFUSED(s, -E2BIG, "nesting deeper than 64 levels at byte offset 69");
		free(s);
	}
	/* far deeper than cJSON's own limit of 1000: our scan refuses first */
	big = malloc(200001);
	memset(big, '[', 100000);
	memset(big + 100000, ']', 100000);
	REFUSED_N(big, 200000, -E2BIG, "nesting deeper than 64 levels at byte offset 64");
	free(big);
	/* brackets and escaped quotes inside strings are not nesting */
	s = json_string_of(500, '[');
	big = with_extra(s);
	ACCEPTED(big);
	free(big);
	free(s);
	s = with_extra("\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"");
	ACCEPTED(s);
	free(s);

	/* any string: CSAF_MAX_STRING bytes is fine, one more is not */
	s = json_string_of(CSAF_MAX_STRING, 's');
	big = with_extra(s);
	ACCEPTED(big);
	free(big);
	free(s);
	s = json_string_of(CSAF_MAX_STRING + 1, 's');
	big = with_extra(s);
	REFUSED(big, -E2BIG, "x: string of 1048577 bytes (limit 1048576)");
	free(big);
	/* ... also deep inside, and as a key */
	big = malloc(CSAF_MAX_STRING + 200);
	snprintf(big, CSAF_MAX_STRING + 200, "[1, {\"k\": [%s]}]", s);
	{
		char *doc2 = with_extra(big);
		REFUSED(doc2, -E2BIG, "x[1].k[0]: string of 1048577 bytes");
		free(doc2);
		snprintf(big, CSAF_MAX_STRING + 200, "{%s: 1}", s);
		doc2 = with_extra(big);
		REFUSED(doc2, -E2BIG, "x: key of 1048577 bytes (limit 1048576)");
		free(doc2);
	}
	free(big);
	free(s);

	/* NUL bytes, raw or escaped */
	memcpy(buf, base_doc, sizeof(base_doc));
	off = (size_t)(strstr(base_doc, "Example advisory") - base_doc) + 3;
	buf[off] = '\0';
	snprintf(want, sizeof(want), "NUL byte at byte offset %zu", off);
	REFUSED_N(buf, sizeof(base_doc) - 1, -EINVAL, want);
	n = with_title_bytes(buf, sizeof(buf), "Ex\\u0000ploit", &off);
	snprintf(want, sizeof(want), "escaped NUL (\\u0000) at byte offset %zu", off + 2);
	REFUSED_N(buf, n, -EINVAL, want);
	n = with_title_bytes(buf, sizeof(buf), "Ex\\\\u0000ploit", &off); /* a backslash, then text */
	CHECK(accepted_n_at(buf, n, NULL, __LINE__));

	/* UTF-8: well-formed accepted, every ill-formed kind refused where it starts */
	static const char *const good_utf8[] = { "caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80",
						 "\xf4\x8f\xbf\xbf", "\xef\xbf\xbd" };
	for (size_t i = 0; i < sizeof(good_utf8) / sizeof(good_utf8[0]); i++) {
		n = with_title_bytes(buf, sizeof(buf), good_utf8[i], &off);
		CHECK(accepted_n_at(buf, n, NULL, __LINE__));
	}
	static const char *const bad_utf8[] = {
		"ab\xc0\xaf",         /* overlong '/' */
		"ab\xc1\xbf",         /* overlong */
		"ab\xe0\x80\xaf",     /* overlong, 3 bytes */
		"ab\xf0\x80\x80\xaf", /* overlong, 4 bytes */
		"ab\xed\xa0\x80",     /* surrogate D800 */
		"ab\xed\xbf\xbf",     /* surrogate DFFF */
		"ab\xf4\x90\x80\x80", /* above U+10FFFF */
		"ab\xf5\x80\x80\x80", /* F5 never appears */
		"ab\xff",             /* FF never appears */
		"ab\x80",             /* lone continuation byte */
		"ab\xc3",             /* truncated, then '"' */
		"ab\xe2\x82",         /* truncated */
		"ab\xf0\x9f\x98",     /* truncated */
		"ab\xc3\xc3\xa9",     /* lead byte followed by a lead byte */
	};
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		n = with_title_bytes(buf, sizeof(buf), bad_utf8[i], &off);
		snprintf(want, sizeof(want), "invalid UTF-8 at byte offset %zu (byte 0x%02x)",
			 off + 2, (unsigned char)bad_utf8[i][2]);
		REFUSED_N(buf, n, -EINVAL, want);
	}
	/* a document that ends in the middle of a sequence */
	REFUSED_N("{\"a\": \"\xe2\x82", 9, -EINVAL, "invalid UTF-8 at byte offset 7");

	/* control bytes: raw inside a string, or between tokens */
	n = with_title_bytes(buf, sizeof(buf), "a\tb", &off);
	snprintf(want, sizeof(want), "control character 0x09 inside a string at byte offset %zu",
		 off + 1);
	REFUSED_N(buf, n, -EINVAL, want);
	REFUSED("{\x01}", -EINVAL, "control character 0x01 at byte offset 1");
	REFUSED("{\"a\":\x7f" "1}", -EINVAL, "control character 0x7f at byte offset 5");

	/* truncation: every proper prefix is refused, without reading past it */
	size_t bl = strlen(base_doc);
	int all = 1;
	for (size_t cut = 0; cut < bl; cut++) {
		struct csaf_doc doc;
		char err[300];
		int r = parse_n(base_doc, cut, &doc, err, sizeof(err));
		if (r != -EINVAL || !one_line(err)) {
			fprintf(stderr, "prefix %zu: %d %s\n", cut, r, err);
			all = 0;
		}
		if (r == 0)
			csaf_doc_release(&doc);
	}
	CHECK(all);
	REFUSED_N(base_doc, 0, -EINVAL, "empty input");
	REFUSED_N(base_doc, 100, -EINVAL, "truncated JSON: input ends with 3 unclosed");
	off = (size_t)(strstr(base_doc, "Example advisory") - base_doc) + 3;
	REFUSED_N(base_doc, off, -EINVAL, "truncated JSON: input ends inside a string");

	/* not JSON, or more than one value */
	REFUSED("{\"document\": nope}", -EINVAL, "invalid JSON at byte offset 13");
	REFUSED("{\"a\": 1]", -EINVAL, "invalid JSON at byte offset 7");
	snprintf(buf, sizeof(buf), "%s x", base_doc);
	snprintf(want, sizeof(want), "unexpected data after the JSON value at byte offset %zu",
		 strlen(base_doc) + 1);
	REFUSED(buf, -EINVAL, want);
	snprintf(buf, sizeof(buf), "%s {}", base_doc);
	REFUSED(buf, -EINVAL, "unexpected data after the JSON value");
	snprintf(buf, sizeof(buf), "\n\t %s \r\n", base_doc);
	ACCEPTED(buf);

	/* duplicate keys: readers disagree on which one counts */
	snprintf(buf, sizeof(buf), "{\"document\": {}, %s", base_doc + 1);
	REFUSED(buf, -EINVAL, "top-level value: duplicate key 'document'");
	s = with_extra("{\"a\": [{\"b\": 1, \"c\": 2, \"b\": 3}]}");
	REFUSED(s, -EINVAL, "x.a[0]: duplicate key 'b'");
	free(s);
	s = with_extra("{\"a\": 1, \"\\u0061\": 2}"); /* the same name, escaped */
	REFUSED(s, -EINVAL, "x: duplicate key 'a'");
	free(s);
}

/* ------------------------------------------------------------------ */
/* versions                                                             */

static int vcmp(const char *a, const char *b)
{
	int c = 99;
	if (csaf_version_cmp(a, b, &c))
		return 99;
	return c;
}

static void test_versions(void)
{
	static const char *const ints[] = { "0", "1", "2", "10", "11", "99", "100",
					    "18446744073709551615", "18446744073709551616",
					    "99999999999999999999999999999999999999" };
	static const char *const sems[] = {
		"0.0.0",           "0.0.1",           "0.1.0",         "0.9.99",
		"1.0.0-0",         "1.0.0-1",         "1.0.0-2",       "1.0.0-10",
		"1.0.0-a",         "1.0.0-alpha",     "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta",      "1.0.0-beta.2",    "1.0.0-beta.11", "1.0.0-rc.1",
		"1.0.0",           "1.0.1",           "1.0.10",        "1.1.0",
		"1.10.0",          "2.0.0-rc.1",      "2.0.0",         "10.0.0",
		"18446744073709551616.0.0",
	};
	static const char *const valid[] = { "0", "7", "1.0.0", "1.0.0-rc.1+build.5",
					     "1.0.0+001", "1.0.0-x-y.z", "1.0.0-0a",
					     "1.0.0--", "1.0.0-alpha+exp.sha.5114f85" };
	static const char *const invalid[] = {
		"",        "01",      "00",       "-1",         "+1",        " 1",
		"1 ",      "1.0",     "1.0.0.0",  "v1",         "1.0.0-",    "1.0.0+",
		"1.0.0-01", "1.01.0", "01.0.0",   "1.0.0-a..b", "1.0.0-a_b", "1.0.0+a+b",
		"1.0.0-a.", "1..0",   "1.0.0 ",   "1.0.0-\xc3\xa9", "0x10",  "1e3",
	};
	size_t ni = sizeof(ints) / sizeof(ints[0]), ns = sizeof(sems) / sizeof(sems[0]);
	int all = 1;

	for (size_t i = 0; i < ni; i++)
		for (size_t j = 0; j < ni; j++) {
			int c = vcmp(ints[i], ints[j]);
			all &= i < j ? c < 0 : i > j ? c > 0 : c == 0;
		}
	CHECK(all);
	all = 1;
	for (size_t i = 0; i < ns; i++)
		for (size_t j = 0; j < ns; j++) {
			int c = vcmp(sems[i], sems[j]);
			int ok = i < j ? c < 0 : i > j ? c > 0 : c == 0;
			if (!ok)
				fprintf(stderr, "version %s vs %s: %d\n", sems[i], sems[j], c);
			all &= ok;
		}
	CHECK(all);
	CHECK(vcmp("1", "2") < 0 && vcmp("2", "10") < 0 && vcmp("10", "2") > 0);
	CHECK(vcmp("1.0.0-alpha", "1.0.0-alpha.1") < 0);
	CHECK(vcmp("1.0.0-alpha.1", "1.0.0-beta") < 0);
	CHECK(vcmp("1.0.0-beta", "1.0.0") < 0);
	CHECK(vcmp("1.0.0", "1.0.1") < 0);
	CHECK(vcmp("1.0.1", "2.0.0") < 0);
	/* build metadata does not count */
	CHECK(vcmp("1.0.0+a", "1.0.0+b") == 0);
	CHECK(vcmp("1.0.0-rc.1+x", "1.0.0-rc.1") == 0);
	CHECK(vcmp("1.0.0+zzz", "1.0.1+aaa") < 0);
	/* mixed schemes and invalid versions: -EINVAL, *ret_cmp untouched */
	int c = 42;
	CHECK(csaf_version_cmp("1", "1.0.0", &c) == -EINVAL && c == 42);
	CHECK(csaf_version_cmp("1.0.0", "1", &c) == -EINVAL && c == 42);
	CHECK(csaf_version_cmp("01", "1", &c) == -EINVAL && c == 42);
	CHECK(csaf_version_cmp(NULL, "1", &c) == -EINVAL && c == 42);
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		CHECK(csaf_version_valid(valid[i]));
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (csaf_version_valid(invalid[i]))
			fprintf(stderr, "version '%s' accepted\n", invalid[i]);
		CHECK(!csaf_version_valid(invalid[i]));
	}
	CHECK(!csaf_version_valid(NULL));
	for (size_t i = 0; i < ni; i++)
		CHECK(csaf_version_valid(ints[i]));
	for (size_t i = 0; i < ns; i++)
		CHECK(csaf_version_valid(sems[i]));
}

/* ------------------------------------------------------------------ */
/* TLP and status                                                       */

static void test_tlp(void)
{
	CHECK(csaf_tlp_parse("CLEAR") == CSAF_TLP_CLEAR);
	CHECK(csaf_tlp_parse("WHITE") == CSAF_TLP_CLEAR);
	CHECK(csaf_tlp_parse("white") == CSAF_TLP_CLEAR);
	CHECK(csaf_tlp_parse("Green") == CSAF_TLP_GREEN);
	CHECK(csaf_tlp_parse("AMBER") == CSAF_TLP_AMBER);
	CHECK(csaf_tlp_parse("amber+strict") == CSAF_TLP_AMBER_STRICT);
	CHECK(csaf_tlp_parse("RED") == CSAF_TLP_RED);
	CHECK(csaf_tlp_parse("PURPLE") == CSAF_TLP_NONE);
	CHECK(csaf_tlp_parse("TLP:RED") == CSAF_TLP_NONE);
	CHECK(csaf_tlp_parse("AMBER+") == CSAF_TLP_NONE);
	CHECK(csaf_tlp_parse("") == CSAF_TLP_NONE);
	CHECK(csaf_tlp_parse(NULL) == CSAF_TLP_NONE);
	CHECK(CSAF_TLP_CLEAR < CSAF_TLP_GREEN && CSAF_TLP_GREEN < CSAF_TLP_AMBER &&
	      CSAF_TLP_AMBER < CSAF_TLP_AMBER_STRICT && CSAF_TLP_AMBER_STRICT < CSAF_TLP_RED);

	CHECK_STR(csaf_tlp_name(CSAF_TLP_CLEAR), "CLEAR");
	CHECK_STR(csaf_tlp_name(CSAF_TLP_GREEN), "GREEN");
	CHECK_STR(csaf_tlp_name(CSAF_TLP_AMBER), "AMBER");
	CHECK_STR(csaf_tlp_name(CSAF_TLP_AMBER_STRICT), "AMBER+STRICT");
	CHECK_STR(csaf_tlp_name(CSAF_TLP_RED), "RED");
	CHECK_STR(csaf_tlp_name(CSAF_TLP_NONE), "NONE");
	CHECK_STR(csaf_tlp_name((enum csaf_tlp)9), "?");
	for (int t = CSAF_TLP_CLEAR; t <= CSAF_TLP_RED; t++)
		CHECK(csaf_tlp_parse(csaf_tlp_name((enum csaf_tlp)t)) == (enum csaf_tlp)t);

	CHECK_STR(csaf_tlp_dir(CSAF_TLP_CLEAR), "white");
	CHECK_STR(csaf_tlp_dir(CSAF_TLP_GREEN), "green");
	CHECK_STR(csaf_tlp_dir(CSAF_TLP_AMBER), "amber");
	CHECK_STR(csaf_tlp_dir(CSAF_TLP_AMBER_STRICT), "amber");
	CHECK_STR(csaf_tlp_dir(CSAF_TLP_RED), "red");
	CHECK(csaf_tlp_dir(CSAF_TLP_NONE) == NULL);
	CHECK(csaf_tlp_dir((enum csaf_tlp)5) == NULL);

	CHECK_STR(csaf_status_name(CSAF_STATUS_DRAFT), "draft");
	CHECK_STR(csaf_status_name(CSAF_STATUS_INTERIM), "interim");
	CHECK_STR(csaf_status_name(CSAF_STATUS_FINAL), "final");
	CHECK_STR(csaf_status_name((enum csaf_status)3), "?");
}

/* ------------------------------------------------------------------ */
/* .dist.json                                                           */

static int dist_n(const char *s, size_t len, struct csaf_dist *d, char *err, size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	int r;
	memcpy(copy, s, len);
	err[0] = '\0';
	r = csaf_dist_parse(copy, len, d, err, errlen);
	free(copy);
	return r;
}

static int dist_refused_at(const char *s, size_t len, int want_r, const char *msg, int line)
{
	struct csaf_dist d;
	char err[300];
	memset(&d, 0x5a, sizeof(d)); /* not initialised: the parser must do it */
	int r = dist_n(s, len, &d, err, sizeof(err));
	int ok = r == want_r && strstr(err, msg) && one_line(err) && d.tlp == CSAF_TLP_NONE &&
		 d.concerns == NULL && d.nconcerns == 0 && d.sectors == NULL && d.nsectors == 0 &&
		 d.embargo_until == AU_T_MIN;
	if (!ok)
		fprintf(stderr, "line %d: want %d '%s', got %d '%s'\n", line, want_r, msg, r, err);
	csaf_dist_release(&d);
	return ok;
}

#define DIST_REFUSED(s, msg) CHECK(dist_refused_at((s), strlen(s), -EINVAL, (msg), __LINE__))
#define DIST_REFUSED_BIG(s, msg) CHECK(dist_refused_at((s), strlen(s), -E2BIG, (msg), __LINE__))

/* A .dist.json with n distinct slugs under key (allocated). */
static char *dist_with_n(const char *key, size_t n)
{
	size_t cap = 64 + n * 12, o;
	char *s = malloc(cap);
	o = (size_t)snprintf(s, cap, "{\"%s\": [", key);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s\"org-%zu\"", i ? "," : "", i);
	snprintf(s + o, cap - o, "]}");
	return s;
}

static void test_dist(void)
{
	struct csaf_dist d;
	char err[300], *s;
	const char *t, *full = "{\"tlp\": \"AMBER+STRICT\", \"concerns\": [\"acme\", \"z-cert\"],"
			   " \"sectors\": [\"health\"], \"personal_data\": true,"
			   " \"impact\": \"significant\", \"embargo_until\": \"2024-05-01T00:00:00Z\"}";

	CHECK(dist_n(full, strlen(full), &d, err, sizeof(err)) == 0);
	CHECK(d.tlp == CSAF_TLP_AMBER_STRICT);
	CHECK(d.nconcerns == 2 && strcmp(d.concerns[0], "acme") == 0 &&
	      strcmp(d.concerns[1], "z-cert") == 0);
	CHECK(d.nsectors == 1 && strcmp(d.sectors[0], "health") == 0);
	CHECK(d.personal_data == 1 && d.impact_significant == 1);
	CHECK(d.embargo_until == 1714521600);
	csaf_dist_release(&d);
	CHECK(d.concerns == NULL && d.nconcerns == 0 && d.tlp == CSAF_TLP_NONE);
	csaf_dist_release(&d); /* twice is harmless */
	csaf_dist_release(NULL);

	/* every key is optional */
	CHECK(dist_n("{}", 2, &d, err, sizeof(err)) == 0);
	CHECK(d.tlp == CSAF_TLP_NONE && d.nconcerns == 0 && d.nsectors == 0 && !d.personal_data &&
	      !d.impact_significant && d.embargo_until == AU_T_MIN);
	csaf_dist_release(&d);
	t = "{\"tlp\": \"white\", \"personal_data\": false, \"impact\": \"none\","
	    " \"embargo_until\": \"2024-05-01\", \"concerns\": [], \"sectors\": []}";
	CHECK(dist_n(t, strlen(t), &d, err, sizeof(err)) == 0);
	CHECK(d.tlp == CSAF_TLP_CLEAR && !d.personal_data && !d.impact_significant &&
	      d.embargo_until == 1714521600 && d.nconcerns == 0 && d.nsectors == 0);
	csaf_dist_release(&d);
	t = "{\"embargo_until\": \"2024-05-01T02:00:00+02:00\"}";
	CHECK(dist_n(t, strlen(t), &d, err, sizeof(err)) == 0 && d.embargo_until == 1714521600);
	csaf_dist_release(&d);

	DIST_REFUSED("{\"tlpp\": \"RED\"}", "unknown key 'tlpp'");
	DIST_REFUSED("{\"TLP\": \"RED\"}", "unknown key 'TLP'");
	DIST_REFUSED("{\"tlp\": 3}", "tlp: expected a string, got a number");
	DIST_REFUSED("{\"tlp\": \"PURPLE\"}", "tlp: unknown label 'PURPLE'");
	DIST_REFUSED("{\"tlp\": null}", "tlp: expected a string, got null");
	DIST_REFUSED("{\"concerns\": \"acme\"}", "concerns: expected an array, got a string");
	DIST_REFUSED("{\"concerns\": [1]}", "concerns[0]: expected a string, got a number");
	DIST_REFUSED("{\"concerns\": [\"acme\", \"ACME\"]}", "concerns[1]: not a slug");
	DIST_REFUSED("{\"concerns\": [\"-x\"]}", "concerns[0]: not a slug");
	DIST_REFUSED("{\"concerns\": [\"\"]}", "concerns[0]: not a slug");
	DIST_REFUSED("{\"concerns\": [\"a b\"]}", "concerns[0]: not a slug");
	DIST_REFUSED("{\"concerns\": [\"acme\", \"b\", \"acme\"]}", "concerns[2]: duplicate 'acme'");
	DIST_REFUSED("{\"sectors\": [\"health\", \"Health\"]}", "sectors[1]: not a slug");
	DIST_REFUSED("{\"sectors\": [\"health\", \"health\"]}", "sectors[1]: duplicate");
	DIST_REFUSED("{\"sectors\": {}}", "sectors: expected an array");
	DIST_REFUSED("{\"personal_data\": \"yes\"}", "personal_data: expected a boolean, got a string");
	DIST_REFUSED("{\"personal_data\": 1}", "personal_data: expected a boolean, got a number");
	DIST_REFUSED("{\"impact\": \"high\"}", "impact: expected 'significant' or 'none', got 'high'");
	DIST_REFUSED("{\"impact\": true}", "impact: expected a string");
	DIST_REFUSED("{\"embargo_until\": \"tomorrow\"}", "embargo_until: not a time");
	DIST_REFUSED("{\"embargo_until\": \"2024-02-30\"}", "embargo_until: not a time");
	DIST_REFUSED("{\"embargo_until\": 1714521600}", "embargo_until: expected a string");
	DIST_REFUSED("[]", "top-level value: expected an object, got an array");
	DIST_REFUSED("{\"tlp\": \"RED\", \"tlp\": \"CLEAR\"}", "duplicate key 'tlp'");
	/* an error after an allocating key leaks nothing (LeakSanitizer, valgrind) */
	DIST_REFUSED("{\"concerns\": [\"acme\"], \"sectors\": [\"x\"], \"impact\": 1}",
		     "impact: expected a string");
	DIST_REFUSED("{\"tlp\": \"RED\"", "truncated JSON");
	DIST_REFUSED("{\"tlp\": \"RED\"} x", "unexpected data after the JSON value");
	DIST_REFUSED("", "empty input");
	CHECK(dist_refused_at("{\"tlp\": \"R\0D\"}", 14, -EINVAL, "NUL byte at byte offset 10",
			      __LINE__));
	DIST_REFUSED("{\"tlp\": \"R\xc0\x80" "D\"}", "invalid UTF-8 at byte offset 10");
	DIST_REFUSED("{\"tlp\": \"R\\u0000D\"}", "escaped NUL");
	{
		char deep[200];
		snprintf(deep, sizeof(deep), "{\"sectors\": %.*s%.*s}", 64,
			 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 64,
			 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
		DIST_REFUSED_BIG(deep, "nesting deeper than 64 levels");
	}

	/* counts: the limit passes, one more is refused */
	s = dist_with_n("concerns", CSAF_MAX_CONCERNS);
	CHECK(dist_n(s, strlen(s), &d, err, sizeof(err)) == 0 && d.nconcerns == CSAF_MAX_CONCERNS);
	csaf_dist_release(&d);
	free(s);
	s = dist_with_n("concerns", CSAF_MAX_CONCERNS + 1);
	DIST_REFUSED_BIG(s, "concerns: 257 entries (limit 256)");
	free(s);
	s = dist_with_n("sectors", CSAF_MAX_SECTORS);
	CHECK(dist_n(s, strlen(s), &d, err, sizeof(err)) == 0 && d.nsectors == CSAF_MAX_SECTORS);
	csaf_dist_release(&d);
	free(s);
	s = dist_with_n("sectors", CSAF_MAX_SECTORS + 1);
	DIST_REFUSED_BIG(s, "sectors: 65 entries (limit 64)");
	free(s);

	/* size: padded to the limit passes, one byte more does not */
	s = malloc(CSAF_MAX_DIST_BYTES + 1);
	memset(s, ' ', CSAF_MAX_DIST_BYTES + 1);
	memcpy(s, "{}", 2);
	CHECK(dist_n(s, CSAF_MAX_DIST_BYTES, &d, err, sizeof(err)) == 0);
	csaf_dist_release(&d);
	CHECK(dist_refused_at(s, CSAF_MAX_DIST_BYTES + 1, -E2BIG,
			      "distribution metadata too large: 65537 bytes (limit 65536)",
			      __LINE__));
	free(s);
}

int main(void)
{
	int shared = is_dir(SHARED_CSAF);
	const char *root = shared ? SHARED_CSAF : LOCAL_CSAF;

	printf("corpus: %s\n", root);
	load_sources(root);
	if (shared)
		CHECK(nsources >= 79);
	test_corpus(root, shared ? 79 : 4);
	test_filename_dir(root, "valid", 1);
	test_filename_dir(root, "invalid", 0);
	if (shared) { /* the copies must stay good too */
		test_corpus(LOCAL_CSAF, 4);
		test_filename_dir(LOCAL_CSAF, "valid", 1);
		test_filename_dir(LOCAL_CSAF, "invalid", 0);
	}
	free(sources);

	test_filename();
	test_fields();
	test_limits();
	test_versions();
	test_tlp();
	test_dist();
	return check_exit("test_csaf");
}
