/*
 * test_view.c - a recipient's directory computed from a real store: folder
 * and year layout, index.txt and changes.csv bytes, hash lines, sizes, and
 * the paths `visible` prints.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "csaf.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "view.h"
#include "world_build.h"

extern const char policy_default_json[];
extern const size_t policy_default_json_len;

static char *doc(const char *id, const char *tlp, const char *initial, const char *current)
{
	char *s = NULL;
	if (asprintf(&s,
		     "{\"document\":{\"category\":\"csaf_base\",\"csaf_version\":\"2.0\","
		     "\"distribution\":{\"tlp\":{\"label\":\"%s\"}},"
		     "\"publisher\":{\"category\":\"coordinator\",\"name\":\"t\","
		     "\"namespace\":\"https://t.invalid\"},\"title\":\"t\","
		     "\"tracking\":{\"id\":\"%s\",\"status\":\"final\",\"version\":\"1\","
		     "\"initial_release_date\":\"%s\",\"current_release_date\":\"%s\","
		     "\"revision_history\":[{\"date\":\"%s\",\"number\":\"1\","
		     "\"summary\":\"s\"}]}}}",
		     tlp, id, initial, current, current) < 0)
		abort();
	return s;
}

int main(void)
{
	char path[128];
	struct store *st = NULL;
	snprintf(path, sizeof(path), "/tmp/advisoryfs-test-view-%d.db", (int)getpid());
	unlink(path);
	CHECK(store_open(path, STORE_CREATE, &st) == 0);
	CHECK(store_policy_add(st, policy_default_json, policy_default_json_len, "t", 0) == 0);

	struct { const char *id, *tlp, *initial, *current; } docs[] = {
		{ "X-2", "WHITE", "2023-05-01T00:00:00Z", "2024-01-02T00:00:00Z" },
		{ "X-1", "WHITE", "2023-04-01T00:00:00Z", "2023-04-01T00:00:00Z" },
		{ "Y-1", "WHITE", "2024-02-01T12:30:00Z", "2024-02-01T12:30:00Z" },
		{ "G-1", "GREEN", "2024-02-01T12:30:00Z", "2024-02-01T12:30:00Z" },
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *d = doc(docs[i].id, docs[i].tlp, docs[i].initial, docs[i].current);
		struct store_publish pub = { .bytes = d, .len = strlen(d), .source = "t" };
		int dup;
		csaf_dist_init(&pub.dist);
		CHECK(store_publish(st, &pub, &dup) == 0);
		free(d);
	}

	struct policy *p = NULL;
	struct world *w = NULL;
	struct view *v = NULL;
	int64_t now;
	CHECK(au_parse_time("2025-01-01", 0, &now) == 0);
	CHECK(store_policy_get(st, AU_T_MAX, &p, NULL, NULL) == 0);
	CHECK(store_world_load(st, p, now, &w) == 0);
	CHECK(view_build(p, w, W_PUBLIC, now, &v) == 0);

	/* the public sees the three CLEAR documents, not the GREEN one */
	CHECK(v->ndocs == 3);
	CHECK(v->dirs[VIEW_WHITE].nyears == 2 && v->dirs[VIEW_GREEN].nyears == 0);
	CHECK(v->dirs[VIEW_AMBER].nyears == 0 && v->dirs[VIEW_RED].nyears == 0);
	CHECK_STR(v->dirs[VIEW_WHITE].index_txt, "2023/x-1.json\n2023/x-2.json\n2024/y-1.json\n");
	CHECK(v->dirs[VIEW_WHITE].index_len == strlen(v->dirs[VIEW_WHITE].index_txt));
	CHECK_STR(v->dirs[VIEW_WHITE].changes_csv,
		  "\"2024/y-1.json\",\"2024-02-01T12:30:00Z\"\n"
		  "\"2023/x-2.json\",\"2024-01-02T00:00:00Z\"\n"
		  "\"2023/x-1.json\",\"2023-04-01T00:00:00Z\"\n");
	int y2023 = view_year_find(v, VIEW_WHITE, 2023);
	CHECK(y2023 >= 0 && view_year_find(v, VIEW_WHITE, 2022) == -1);
	CHECK(view_year_find(v, VIEW_GREEN, 2024) == -1);
	int d = view_doc_find(v, y2023, "x-2.json");
	CHECK(d >= 0 && view_doc_find(v, y2023, "y-1.json") == -1);
	if (d >= 0) {
		char line[256], hex[129];
		unsigned char md[64];
		unsigned int n = 0;
		const struct w_adv *a = &w->advs[v->docs[d].adv];
		char *bytes = NULL;
		size_t len = 0;
		CHECK(store_version_bytes(st, a->version_id, 0, &bytes, &len) == 0);
		EVP_Digest(bytes, len, md, &n, EVP_sha256(), NULL);
		au_hex(md, n, hex);
		size_t l = view_hash_line(v, (uint32_t)d, VIEW_SHA256, line, sizeof(line));
		CHECK(l == (size_t)view_file_size(v, (uint32_t)d, VIEW_SHA256));
		CHECK(strncmp(line, hex, 64) == 0 && strcmp(line + 64, "  x-2.json\n") == 0);
		EVP_Digest(bytes, len, md, &n, EVP_sha512(), NULL);
		au_hex(md, n, hex);
		l = view_hash_line(v, (uint32_t)d, VIEW_SHA512, line, sizeof(line));
		CHECK(l == (size_t)view_file_size(v, (uint32_t)d, VIEW_SHA512));
		CHECK(strncmp(line, hex, 128) == 0);
		CHECK(view_file_size(v, (uint32_t)d, VIEW_JSON) == (int64_t)len);
		CHECK(view_file_size(v, (uint32_t)d, VIEW_ASC) == 0);
		CHECK(v->docs[d].dec.permit && v->docs[d].dec.nrules >= 1);
		free(bytes);
	}
	CHECK(v->dirs[VIEW_WHITE].mtime == w->advs[world_adv_find(w, "Y-1")].current_release);

	/* visible's output: every file, sorted */
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	CHECK(view_print(v, p, 0, f) == 0);
	fclose(f);
	CHECK_STR(out, "white/2023/x-1.json\nwhite/2023/x-1.json.sha256\nwhite/2023/x-1.json.sha512\n"
		       "white/2023/x-2.json\nwhite/2023/x-2.json.sha256\nwhite/2023/x-2.json.sha512\n"
		       "white/2024/y-1.json\nwhite/2024/y-1.json.sha256\nwhite/2024/y-1.json.sha512\n"
		       "white/changes.csv\nwhite/index.txt\n");
	free(out);
	view_free(v);

	/* a file name that is a prefix of the next one: `visible` cannot take
	 * the order from the layout ("a.json.sha256" sorts after
	 * "a.json-b.json"), so it sorts; the same with the names only */
	struct world *hw = world_new();
	CHECK(hw != NULL);
	if (hw) {
		static const char *const names[] = { "a.json", "a.json-b.json" };
		hw->asof = now;
		hw->orgs = world_alloc(hw, sizeof(struct w_org));
		hw->advs = world_alloc(hw, 2 * sizeof(struct w_adv));
		CHECK(hw->orgs && hw->advs);
		hw->norgs = 1;
		hw->orgs[0].slug = "public";
		hw->orgs[0].name = "the public";
		hw->orgs[0].uid = hw->orgs[0].gid = -1;
		for (uint32_t i = 0; hw->advs && i < 2; i++) {
			struct w_adv *a = &hw->advs[hw->nadvs++];
			a->id = a->version_id = i + 1;
			a->tracking_id = i ? "A-2" : "A-1";
			a->version = "1";
			a->filename = names[i];
			a->title = "t";
			a->tlp = CSAF_TLP_CLEAR;
			a->status = CSAF_STATUS_FINAL;
			a->initial_release = a->current_release = now - 86400 * 100;
			a->embargo_until = AU_T_MIN;
			a->withdrawn_at = AU_T_MAX;
			a->has_signature = i == 0;
			a->sig_size = i == 0 ? 100 : 0;
		}
		for (int names_only = 0; names_only < 2; names_only++) {
			CHECK(view_build_opts(p, hw, W_PUBLIC, now, names_only ? VIEW_NAMES_ONLY : 0,
					      &v) == 0);
			CHECK(v->ndocs == 2);
			CHECK((v->dirs[VIEW_WHITE].index_txt == NULL) == names_only);
			f = open_memstream(&out, &outlen);
			CHECK(view_print(v, p, 0, f) == 0);
			fclose(f);
			CHECK_STR(out, "white/2024/a.json\nwhite/2024/a.json-b.json\n"
				       "white/2024/a.json-b.json.sha256\nwhite/2024/a.json-b.json.sha512\n"
				       "white/2024/a.json.asc\nwhite/2024/a.json.sha256\n"
				       "white/2024/a.json.sha512\nwhite/changes.csv\nwhite/index.txt\n");
			CHECK(v->names_ordered == 0);
			free(out);
			view_free(v);
		}
		/* names in order: listed from the layout, whether the world
		 * vouches for the order (no check) or not (checked) */
		hw->advs[1].filename = "b.json";
		for (int vouch = 0; vouch < 2; vouch++) {
			hw->filenames_ordered = vouch;
			CHECK(view_build_opts(p, hw, W_PUBLIC, now, VIEW_NAMES_ONLY, &v) == 0);
			CHECK(v->ndocs == 2 && v->names_ordered == 1);
			f = open_memstream(&out, &outlen);
			CHECK(view_print(v, p, 0, f) == 0);
			fclose(f);
			CHECK_STR(out, "white/2024/a.json\nwhite/2024/a.json.asc\n"
				       "white/2024/a.json.sha256\nwhite/2024/a.json.sha512\n"
				       "white/2024/b.json\nwhite/2024/b.json.sha256\n"
				       "white/2024/b.json.sha512\nwhite/changes.csv\nwhite/index.txt\n");
			CHECK(v->mtime == hw->advs[0].current_release);
			free(out);
			view_free(v);
		}
		world_free(hw);
	}

	/* a world large enough to be decided in chunks by two threads: the
	 * same documents, in the same order, with the same decisions as
	 * deciding one advisory after the other */
	enum { BIG = 40000 };
	struct world *bw = world_new();
	CHECK(bw != NULL);
	if (bw) {
		bw->asof = now;
		bw->orgs = world_alloc(bw, sizeof(struct w_org));
		bw->advs = world_alloc(bw, BIG * sizeof(struct w_adv));
		char *names = world_alloc(bw, BIG * 16);
		CHECK(bw->orgs && bw->advs && names);
		bw->norgs = 1;
		bw->orgs[0].slug = "public";
		bw->orgs[0].name = "the public";
		bw->orgs[0].uid = bw->orgs[0].gid = -1;
		for (uint32_t i = 0; bw->advs && names && i < BIG; i++) {
			struct w_adv *a = &bw->advs[bw->nadvs++];
			char *name = names + 16 * i;
			snprintf(name, 16, "b-%05u.json", i);
			a->id = a->version_id = i + 1;
			a->tracking_id = a->filename = name;
			a->version = a->title = "";
			/* CLEAR or RED in runs of varying length, over three years */
			a->tlp = (i / 7 + i / 1000) % 3 ? CSAF_TLP_CLEAR : CSAF_TLP_RED;
			a->status = CSAF_STATUS_FINAL;
			a->initial_release = now - 86400 * (int64_t)(100 + i % 900);
			a->current_release = a->initial_release + i % 5000;
			a->embargo_until = AU_T_MIN;
			a->withdrawn_at = AU_T_MAX;
		}
		bw->filenames_ordered = 1;
		struct pol_rctx ctx;
		policy_rctx_init(p, bw, W_PUBLIC, now, &ctx);
		CHECK(view_build_opts(p, bw, W_PUBLIC, now, VIEW_NAMES_ONLY, &v) == 0);
		uint32_t k = 0, bad = 0;
		int64_t newest = 0;
		for (uint32_t i = 0; i < bw->nadvs; i++) {
			struct pol_decision dec;
			policy_decide(p, &ctx, i, &dec);
			if (!dec.permit)
				continue;
			newest = bw->advs[i].current_release > newest ? bw->advs[i].current_release
								       : newest;
			/* in world order within each year folder */
			int y = view_year_find(v, VIEW_WHITE, au_year(bw->advs[i].initial_release));
			int at = y < 0 ? -1 : view_doc_find(v, y, bw->advs[i].filename);
			if (at < 0 || v->docs[at].adv != i || v->docs[at].dec.nrules != dec.nrules ||
			    memcmp(v->docs[at].dec.rules, dec.rules, dec.nrules * sizeof(dec.rules[0])))
				bad++;
			k++;
		}
		CHECK(k > 10000 && v->ndocs == k && bad == 0);
		CHECK(v->names_ordered == 1 && v->mtime == newest);
		CHECK(v->mtime == v->dirs[VIEW_WHITE].mtime && v->dirs[VIEW_RED].nyears == 0);
		view_free(v);
		world_free(bw);
	}

	/* before any release, the view is empty and has no folders */
	int64_t early;
	CHECK(au_parse_time("2020-01-01", 0, &early) == 0);
	CHECK(view_build(p, w, W_PUBLIC, early, &v) == 0);
	CHECK(v->ndocs == 0 && v->nyears == 0);
	view_free(v);

	world_free(w);
	policy_free(p);
	store_close(st);
	char aux[160];
	unlink(path);
	snprintf(aux, sizeof(aux), "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof(aux), "%s-shm", path);
	unlink(aux);
	return check_exit("view");
}
