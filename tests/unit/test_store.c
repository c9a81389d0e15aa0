/*
 * test_store.c - the store through its API, on real SQLite files: schema
 * and migrations, organisations, publishing, and the world snapshot
 * (version in force at a moment, withdrawals, shares, concerns).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "csaf.h"
#include "policy.h"
#include "store.h"
#include "util.h"

extern const char policy_default_json[];
extern const size_t policy_default_json_len;

static char path[256];

static int64_t T(const char *s)
{
	int64_t t = 0;
	if (au_parse_time(s, 0, &t) < 0)
		abort();
	return t;
}

/* A small valid CSAF document; caller frees.  Its revision history is what
 * CSAF 2.0 section 6.1 accepts: every integer version before this one (at
 * the initial date), then this one; version "0" is a draft (6.1.17). */
static char *doc(const char *id, const char *version, const char *tlp, const char *initial,
		 const char *current)
{
	char *s = NULL, hist[4096] = "";
	size_t o = 0;
	int n = strchr(version, '.') ? 0 : atoi(version);
	for (int k = 1; k < n && o + 100 < sizeof(hist); k++)
		o += (size_t)snprintf(hist + o, sizeof(hist) - o,
				      "{\"date\":\"%s\",\"number\":\"%d\",\"summary\":\"s\"},",
				      initial, k);
	if (asprintf(&s,
		     "{\"document\":{\"category\":\"csaf_base\",\"csaf_version\":\"2.0\","
		     "\"distribution\":{\"tlp\":{\"label\":\"%s\"}},"
		     "\"publisher\":{\"category\":\"coordinator\",\"name\":\"t\","
		     "\"namespace\":\"https://t.invalid\"},\"title\":\"t %s\","
		     "\"tracking\":{\"id\":\"%s\",\"status\":\"%s\",\"version\":\"%s\","
		     "\"initial_release_date\":\"%s\",\"current_release_date\":\"%s\","
		     "\"revision_history\":[%s{\"date\":\"%s\",\"number\":\"%s\","
		     "\"summary\":\"s\"}]}}}",
		     tlp, id, id, strcmp(version, "0") ? "final" : "draft", version, initial,
		     current, hist, current, version) < 0)
		abort();
	return s;
}

static int publish(struct store *st, const char *json, const char *concerns, int64_t embargo)
{
	struct store_publish pub = { .bytes = json, .len = strlen(json), .source = "test" };
	char *list[1] = { (char *)concerns };
	csaf_dist_init(&pub.dist);
	if (concerns) {
		pub.dist.concerns = list;
		pub.dist.nconcerns = 1;
	}
	pub.dist.embargo_until = embargo;
	int dup = 0;
	return store_publish(st, &pub, &dup);
}

struct cert_seen {
	int n;
	char slugs[4][16];
};

/* store_cert_list() callback: the slugs in order. */
static int cert_seen_one(void *arg, const struct store_cert *c)
{
	struct cert_seen *seen = arg;
	if (seen->n < 4)
		snprintf(seen->slugs[seen->n], sizeof(seen->slugs[0]), "%s", c->slug);
	seen->n++;
	return c->not_before == 1 && c->not_after == 2 && c->added == 3 &&
			       !strcmp(c->subject, "CN=one")
		       ? 0
		       : -EINVAL;
}

int main(void)
{
	struct store *st = NULL;
	snprintf(path, sizeof(path), "/tmp/advisoryfs-test-store-%d.db", (int)getpid());
	unlink(path);

	/* creating: a new file only */
	CHECK(store_open(path, STORE_CREATE, &st) == 0);
	CHECK(store_policy_add(st, policy_default_json, policy_default_json_len, "test", 100) == 0);
	store_close(st);
	st = NULL;
	CHECK(store_open(path, STORE_CREATE, &st) == -EEXIST);
	CHECK(strstr(store_errmsg(st), "already exists") != NULL);
	store_close(st);
	st = NULL;
	CHECK(store_open("/nonexistent/dir/x.db", 0, &st) == -ENOENT);
	store_close(st);
	st = NULL;
	CHECK(store_open(path, 0, &st) == 0);

	/* organisations */
	const char *health[] = { "health" };
	CHECK(store_org_add(st, "z-cert", "Z-CERT", health, 1, -1, -1) == 0);
	CHECK(store_org_add(st, "hospital", "Hospital", health, 1, 1001, 1001) == 0);
	CHECK(store_org_add(st, "acme", "ACME", NULL, 0, -1, -1) == 0);
	CHECK(store_org_add(st, "acme", "ACME", NULL, 0, -1, -1) == -EEXIST);
	CHECK(store_org_add(st, "public", "x", NULL, 0, -1, -1) == -EINVAL);
	CHECK(store_org_role(st, "z-cert", "csirt", T("2020-01-14"), AU_T_MAX, "Stcrt. 2020, 4410",
			     0) == 0);
	CHECK(store_org_role(st, "z-cert", "nonsense", AU_T_MIN, AU_T_MAX, NULL, 0) == -EINVAL);
	CHECK(store_org_member(st, "z-cert", "hospital", T("2020-01-14"), AU_T_MAX, 0) == 0);
	/* two roles: the world lists them by name, whatever the order they came in */
	CHECK(store_org_role(st, "acme", "vital", T("2021-01-01"), AU_T_MAX, NULL, 0) == 0);
	CHECK(store_org_role(st, "acme", "government", AU_T_MIN, T("2020-12-31"), "ref", 0) == 0);
	CHECK(store_org_member(st, "z-cert", "z-cert", AU_T_MIN, AU_T_MAX, 0) == -EINVAL);

	/* publishing: two versions, a future one, a withdrawn one, a share */
	char *a1 = doc("A-1", "1", "GREEN", "2021-01-01T00:00:00Z", "2021-01-01T00:00:00Z");
	char *a2 = doc("A-1", "2", "AMBER", "2021-01-01T00:00:00Z", "2022-06-01T00:00:00Z");
	char *b1 = doc("B-1", "1.0.0", "WHITE", "2023-01-01T00:00:00Z", "2023-01-01T00:00:00Z");
	char *c1 = doc("C-1", "1.0.0", "RED", "2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z");
	CHECK(publish(st, a1, "hospital", AU_T_MIN) == 0);
	CHECK(publish(st, a2, "acme", T("2022-07-01")) == 0);
	CHECK(publish(st, a1, NULL, AU_T_MIN) == 0);       /* stored already: unchanged */
	char *a0 = doc("A-1", "0", "GREEN", "2021-01-01T00:00:00Z", "2021-01-01T00:00:00Z");
	CHECK(publish(st, a0, NULL, AU_T_MIN) == -EINVAL); /* older than 2 */
	CHECK(strstr(store_errmsg(st), "older") != NULL);
	free(a0);
	CHECK(publish(st, b1, NULL, AU_T_MIN) == 0);
	CHECK(publish(st, c1, NULL, AU_T_MIN) == 0);
	CHECK(store_withdraw(st, "B-1", "test", T("2024-01-01")) == 0);
	CHECK(store_withdraw(st, "B-1", "test", T("2024-01-01")) == -EEXIST);
	CHECK(store_share(st, "A-1", "acme", "special", T("2023-01-01")) == 0);
	CHECK(store_share(st, "Z-9", "acme", "special", T("2023-01-01")) == -ENOENT);

	int64_t seq = 0, next = 0;
	CHECK(store_change_seq(st, &seq) == 0 && seq >= 10);
	CHECK(store_next_release(st, T("2024-01-01"), &next) == 0 && next == T("2099-01-01"));

	struct policy *p = NULL;
	CHECK(store_policy_get(st, AU_T_MAX, &p, NULL, NULL) == 0);
	int csirt = policy_role_index(p, "csirt");
	int hs = policy_sector_index(p, "health");

	/* the world as of 2022-01-01: A-1 in version 1, B-1 and C-1 not yet released */
	struct world *w = NULL;
	CHECK(store_world_load(st, p, T("2022-01-01"), &w) == 0);
	CHECK(w->norgs == 4 && w->nadvs == 1);
	CHECK_STR(w->orgs[0].slug, "public");
	CHECK_STR(w->orgs[1].slug, "acme");
	CHECK_STR(w->orgs[2].slug, "hospital");
	CHECK_STR(w->orgs[3].slug, "z-cert");
	CHECK(w->orgs[2].uid == 1001 && w->orgs[1].uid == -1);
	CHECK(w->orgs[1].nroles == 2);
	if (w->orgs[1].nroles == 2) {
		CHECK(w->orgs[1].roles[0].role == policy_role_index(p, "government"));
		CHECK(w->orgs[1].roles[0].until == T("2020-12-31"));
		CHECK_STR(w->orgs[1].roles[0].ref, "ref");
		CHECK(w->orgs[1].roles[1].role == policy_role_index(p, "vital"));
		CHECK(w->orgs[1].roles[1].ref == NULL && w->orgs[1].roles[1].from == T("2021-01-01"));
	}
	/* published in tracking id order: the file names are known to be in order */
	CHECK(w->filenames_ordered == 1);
	CHECK(w->orgs[3].nroles == 1 && w->orgs[3].roles[0].role == csirt);
	CHECK(w->orgs[3].roles[0].from == T("2020-01-14") && w->orgs[3].roles[0].until == AU_T_MAX);
	CHECK_STR(w->orgs[3].roles[0].ref, "Stcrt. 2020, 4410");
	CHECK(w->orgs[3].sectors == (uint64_t)1 << hs);
	CHECK(w->orgs[3].nmembers == 1 && w->orgs[3].members[0].org == 2);
	CHECK(w->orgs[2].nmember_of == 1 && w->orgs[2].member_of[0].org == 3);
	CHECK_STR(w->advs[0].version, "1");
	CHECK(w->advs[0].tlp == CSAF_TLP_GREEN);
	CHECK(w->advs[0].nconcerns == 1 && w->advs[0].concerns[0] == 2);
	CHECK(w->advs[0].nshares == 1 && w->advs[0].shares[0].org == 1);
	CHECK(w->advs[0].embargo_until == AU_T_MIN);
	CHECK(world_org_find(w, "z-cert") == 3 && world_org_find(w, "nope") == W_NONE);
	CHECK(world_adv_find(w, "A-1") == 0 && world_adv_find(w, "a-1.json") == 0);
	CHECK(world_adv_find(w, "B-1") == W_NONE);
	world_free(w);

	/* as of 2024-06-01: A-1 version 2 (its own metadata), B-1 withdrawn at 2024-01-01 */
	CHECK(store_world_load(st, p, T("2024-06-01"), &w) == 0);
	CHECK(w->nadvs == 2);
	uint32_t a = world_adv_find(w, "A-1"), b = world_adv_find(w, "B-1");
	CHECK(a != W_NONE && b != W_NONE);
	if (a != W_NONE && b != W_NONE) {
		CHECK_STR(w->advs[a].version, "2");
		CHECK(w->advs[a].tlp == CSAF_TLP_AMBER);
		CHECK(w->advs[a].nconcerns == 1 && w->advs[a].concerns[0] == 1);
		CHECK(w->advs[a].embargo_until == T("2022-07-01"));
		CHECK(w->advs[a].size == (int64_t)strlen(a2));
		CHECK(w->advs[b].withdrawn_at == T("2024-01-01"));
		CHECK(w->advs[b].tlp == CSAF_TLP_CLEAR);
		CHECK(w->advs[a].withdrawn_at == AU_T_MAX);
		char *bytes = NULL;
		size_t len = 0;
		CHECK(store_version_bytes(st, w->advs[a].version_id, 0, &bytes, &len) == 0);
		CHECK(len == strlen(a2) && memcmp(bytes, a2, len) == 0);
		free(bytes);
		CHECK(store_version_bytes(st, w->advs[a].version_id, 1, &bytes, &len) == -ENOENT);
	}
	world_free(w);

	/* the same world from the caller's transaction (one connection, no
	 * threads) and as a lean world (no version strings, titles, sizes or
	 * hashes; every fact a decision needs) */
	struct world *w2 = NULL, *w3 = NULL;
	CHECK(store_world_load(st, p, T("2024-06-01"), &w) == 0);
	CHECK(store_begin(st) == 0);
	CHECK(store_world_load(st, p, T("2024-06-01"), &w2) == 0);
	store_rollback(st);
	CHECK(store_world_load_opts(st, p, T("2024-06-01"), STORE_WORLD_LEAN, &w3) == 0);
	CHECK(w && w2 && w3 && w->nadvs == 2 && w2->nadvs == 2 && w3->nadvs == 2);
	for (uint32_t i = 0; w && w2 && w3 && i < w->nadvs && i < w2->nadvs && i < w3->nadvs; i++) {
		const struct w_adv *x = &w->advs[i], *y = &w2->advs[i], *z = &w3->advs[i];
		CHECK(x->id == y->id && x->version_id == y->version_id && x->size == y->size);
		CHECK(strcmp(x->version, y->version) == 0 && strcmp(x->title, y->title) == 0);
		CHECK(memcmp(x->sha256, y->sha256, 32) == 0 && memcmp(x->sha512, y->sha512, 64) == 0);
		CHECK(x->id == z->id && x->version_id == z->version_id && x->tlp == z->tlp);
		CHECK(strcmp(x->tracking_id, z->tracking_id) == 0);
		CHECK(strcmp(x->filename, z->filename) == 0);
		CHECK(x->status == z->status && x->personal_data == z->personal_data);
		CHECK(x->impact_significant == z->impact_significant && x->sectors == z->sectors);
		CHECK(x->initial_release == z->initial_release);
		CHECK(x->current_release == z->current_release);
		CHECK(x->embargo_until == z->embargo_until && x->withdrawn_at == z->withdrawn_at);
		CHECK(x->sig_size == z->sig_size && x->has_signature == z->has_signature);
		CHECK(x->nconcerns == z->nconcerns && x->nshares == z->nshares);
		CHECK_STR(z->version, "");
		CHECK_STR(z->title, "");
		CHECK(z->size == 0);
		/* a lean world's digests are all zero; a full world's are the store's */
		static const unsigned char zero[64];
		CHECK(z->sha256 && z->sha512 && memcmp(z->sha256, zero, 32) == 0 &&
		      memcmp(z->sha512, zero, 64) == 0);
		CHECK(x->sha256 && memcmp(x->sha256, zero, 32) != 0);
		CHECK(x->sha512 && memcmp(x->sha512, zero, 64) != 0);
	}
	world_free(w);
	world_free(w2);
	world_free(w3);

	/* a policy that does not declare a role in use is refused, and nothing changes */
	int64_t seq2 = 0;
	const char *small = "{\"this is\": \"not a policy\"}";
	CHECK(store_policy_add(st, small, strlen(small), "test", 200) == -EINVAL);
	CHECK(store_change_seq(st, &seq2) == 0 && seq2 == seq);

	/* the policy in force at a moment: the first one before any load */
	struct policy *p0 = NULL;
	int64_t pid = 0;
	CHECK(store_policy_get(st, 50, &p0, NULL, &pid) == 0 && pid == 1);
	policy_free(p0);

	/* scheduled policies: 2 loaded at 300 to take effect at 500, 3 loaded
	 * at 400 at once; in force: 1 until 400, 3 from 400, 2 from 500 */
	CHECK(store_policy_schedule(st, policy_default_json, policy_default_json_len, "test", 300,
				    500) == 0);
	CHECK(store_policy_add(st, policy_default_json, policy_default_json_len, "test", 400) == 0);
	static const int64_t when[][2] = { { 50, 1 }, { 399, 1 }, { 400, 3 }, { 499, 3 },
					   { 500, 2 }, { AU_T_MAX, 2 } };
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		CHECK(store_policy_get(st, when[i][0], &p0, NULL, &pid) == 0 && pid == when[i][1]);
		policy_free(p0);
	}
	next = 0;
	CHECK(store_policy_next(st, 300, &next) == 0 && next == 500);
	CHECK(store_policy_next(st, 500, &next) == 0 && next == AU_T_MAX);
	/* a moment before the load is refused */
	CHECK(store_policy_schedule(st, policy_default_json, policy_default_json_len, "test", 600,
				    599) == -EINVAL);
	CHECK(strstr(store_errmsg(st), "in the past") != NULL);
	CHECK(store_change_seq(st, &seq2) == 0 && seq2 == seq + 2);

	/* data_version moves when another connection commits */
	struct store *other = NULL;
	int64_t dv1 = 0, dv2 = 0;
	CHECK(store_open(path, 0, &other) == 0);
	CHECK(store_data_version(st, &dv1) == 0);
	CHECK(store_org_add(other, "late", "Late", NULL, 0, -1, -1) == 0);
	CHECK(store_data_version(st, &dv2) == 0 && dv2 != dv1);
	store_close(other);

	/* an advisory whose tracking id sorts first, published last: the world
	 * is still in tracking id order (from the index), its file names no
	 * longer known to be in order */
	char *o1 = doc("0-1", "1", "WHITE", "2023-02-01T00:00:00Z", "2023-02-01T00:00:00Z");
	CHECK(publish(st, o1, NULL, AU_T_MIN) == 0);
	free(o1);
	static const char *const ids[] = { "0-1", "A-1", "B-1", "C-1" };
	for (int lean = 0; lean < 2; lean++) {
		CHECK(store_world_load_opts(st, p, T("2099-06-01"), lean ? STORE_WORLD_LEAN : 0,
					    &w) == 0);
		CHECK(w->nadvs == 4 && w->filenames_ordered == 0);
		for (uint32_t i = 0; i < w->nadvs && i < 4; i++)
			CHECK_STR(w->advs[i].tracking_id, ids[i]);
		CHECK(world_adv_find(w, "C-1") == 3 && w->advs[3].tlp == CSAF_TLP_RED);
		CHECK(w->advs[0].initial_release == T("2023-02-01"));
		world_free(w);
	}

	/* client certificates: one organisation each, the SHA-1 unique too */
	struct store_cert k1 = { .subject = "CN=one", .not_before = 1, .not_after = 2, .added = 3 };
	struct store_cert k2 = k1;
	memset(k1.sha256, 0x11, sizeof(k1.sha256));
	memset(k1.sha1, 0x22, sizeof(k1.sha1));
	memset(k2.sha256, 0x33, sizeof(k2.sha256));
	memset(k2.sha1, 0x22, sizeof(k2.sha1)); /* same SHA-1, another certificate */
	CHECK(store_cert_add(st, "acme", &k1) == 0);
	CHECK(store_cert_add(st, "acme", &k1) == 0);
	CHECK(store_cert_add(st, "z-cert", &k1) == -EEXIST);
	CHECK(strstr(store_errmsg(st), "already bound to 'acme'") != NULL);
	CHECK(store_cert_add(st, "z-cert", &k2) == -EEXIST);
	CHECK(strstr(store_errmsg(st), "same SHA-1") != NULL);
	CHECK(store_cert_add(st, "nobody", &k2) == -ENOENT);
	k2.sha1[0] = 0x44;
	CHECK(store_cert_add(st, "z-cert", &k2) == 0);
	struct cert_seen seen = { 0 };
	CHECK(store_cert_list(st, cert_seen_one, &seen) == 0);
	CHECK(seen.n == 2);
	CHECK_STR(seen.slugs[0], "acme");
	CHECK_STR(seen.slugs[1], "z-cert");
	CHECK(store_cert_remove(st, "z-cert", k1.sha256) == -ENOENT);
	CHECK(store_cert_remove(st, "acme", k1.sha256) == 0);
	CHECK(store_cert_remove(st, "acme", k1.sha256) == -ENOENT);
	memset(&seen, 0, sizeof(seen));
	CHECK(store_cert_list(st, cert_seen_one, &seen) == 0 && seen.n == 1);

	policy_free(p);
	free(a1);
	free(a2);
	free(b1);
	free(c1);
	store_close(st);
	unlink(path);
	char aux[300];
	snprintf(aux, sizeof(aux), "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof(aux), "%s-shm", path);
	unlink(aux);
	return check_exit("store");
}
