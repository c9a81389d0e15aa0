/*
 * view.c - compute one recipient's directory (SPEC.md section 2).
 *
 * view_build() asks the policy about every advisory of the world, keeps
 * the permitted ones, sorts them into TLP folders and year folders, and
 * generates each folder's index.txt and changes.csv.  Everything a
 * listing, a lookup or a getattr needs is then a binary search or an
 * array index; sizes of generated files are exact before any read.
 *
 * view_set_provider() adds the CSAF provider's own files to a view:
 * provider-metadata.json, generated per recipient from the provider
 * values of the store (view_provider_load()), and openpgp/ with the
 * store's public key.
 */
#include "view.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "csaf.h"
#include "pgp.h"
#include "store.h"
#include "util.h"

static const char *const dir_names[VIEW_NDIRS] = { "white", "green", "amber", "red" };

const char *view_dir_name(int dir)
{
	return dir >= 0 && dir < VIEW_NDIRS ? dir_names[dir] : NULL;
}

int view_dir_find(const char *name)
{
	for (int i = 0; i < VIEW_NDIRS; i++)
		if (strcmp(name, dir_names[i]) == 0)
			return i;
	return -1;
}

static int tlp_dir(int tlp)
{
	switch (tlp) {
	case CSAF_TLP_CLEAR:
		return VIEW_WHITE;
	case CSAF_TLP_GREEN:
		return VIEW_GREEN;
	case CSAF_TLP_AMBER:
	case CSAF_TLP_AMBER_STRICT:
		return VIEW_AMBER;
	default:
		return VIEW_RED;
	}
}

/* Comparators get the world through qsort_r's argument (view_build runs
 * in many threads at once). */
static int cmp_doc(const void *a, const void *b, void *arg)
{
	const struct world *sort_world = arg;
	const struct view_doc *x = a, *y = b;
	if (x->dir != y->dir)
		return x->dir - y->dir;
	if (x->year != y->year)
		return x->year - y->year;
	return strcmp(sort_world->advs[x->adv].filename, sort_world->advs[y->adv].filename);
}

/* One line of changes.csv: the document's release and where its path is. */
struct change_key {
	int64_t release;
	const char *filename;
	uint32_t len;               /* strlen(filename) */
	uint16_t year;
};

/*
 * Sort keys[0..n) by release, newest first, keeping the order of equal
 * releases: an LSD radix sort on the bits in which the releases differ,
 * eight at a time.  The keys come in (year, file name) order, so the
 * result is changes.csv's order (newest first, then path) without a
 * comparison.  tmp holds n keys.
 */
static void sort_changes(struct change_key *keys, struct change_key *tmp, uint32_t n)
{
	uint64_t differ = 0;
	/* newest first is ascending order of ~(release with its sign bit flipped) */
#define CHANGE_KEY(k) (~((uint64_t)(k).release ^ ((uint64_t)1 << 63)))
	for (uint32_t i = 1; i < n; i++)
		differ |= CHANGE_KEY(keys[i]) ^ CHANGE_KEY(keys[0]);
	for (int shift = 0; shift < 64; shift += 8) {
		uint32_t count[257] = { 0 };
		if (!((differ >> shift) & 0xff))
			continue;
		for (uint32_t i = 0; i < n; i++)
			count[((CHANGE_KEY(keys[i]) >> shift) & 0xff) + 1]++;
		for (int b = 1; b <= 256; b++)
			count[b] += count[b - 1];
		for (uint32_t i = 0; i < n; i++)
			tmp[count[(CHANGE_KEY(keys[i]) >> shift) & 0xff]++] = keys[i];
		memcpy(keys, tmp, n * sizeof(*keys));
	}
#undef CHANGE_KEY
}

/* Append "YYYY/" (year < 10000, as %04u) and name; returns the new end. */
static char *put_path(char *p, unsigned year, const char *name, size_t len)
{
	p[0] = (char)('0' + year / 1000 % 10);
	p[1] = (char)('0' + year / 100 % 10);
	p[2] = (char)('0' + year / 10 % 10);
	p[3] = (char)('0' + year % 10);
	p[4] = '/';
	memcpy(p + 5, name, len);
	return p + 5 + len;
}

/*
 * Dates already formatted, by day (direct-mapped): the folders of a view
 * share their days, and a changes.csv has many documents a day.
 */
#define DATE_CACHE 4096
struct date_cache {
	int64_t day[DATE_CACHE];    /* INT64_MIN: empty */
	char date[DATE_CACHE][AU_TIME_LEN];
};

/*
 * au_format_time(t) into out (room for AU_TIME_LEN bytes), formatting
 * each day's date once.  Returns the length.
 */
static size_t put_time(char *out, int64_t t, struct date_cache *dc)
{
	/* far outside any real date (and the open ends): no day arithmetic */
	if (t < -((int64_t)1 << 60) || t > ((int64_t)1 << 60)) {
		au_format_time(t, out);
		return strlen(out);
	}
	int64_t d = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	size_t slot = (size_t)((uint64_t)d % DATE_CACHE);
	char *date = dc->date[slot];
	if (dc->day[slot] != d) {
		au_format_time(d * 86400, date);
		dc->day[slot] = d;
	}
	size_t len = strlen(date);
	memcpy(out, date, len + 1);
	/* "YYYY-MM-DDT00:00:00Z": the time of day goes in; anything else
	 * (out of range) is the same for the whole day */
	if (len == 20 && date[10] == 'T') {
		int64_t sec = t - d * 86400;
		unsigned hh = (unsigned)(sec / 3600), mm = (unsigned)(sec / 60 % 60),
			 ss = (unsigned)(sec % 60);
		out[11] = (char)('0' + hh / 10);
		out[12] = (char)('0' + hh % 10);
		out[14] = (char)('0' + mm / 10);
		out[15] = (char)('0' + mm % 10);
		out[17] = (char)('0' + ss / 10);
		out[18] = (char)('0' + ss % 10);
	}
	return len;
}

/* Generate index.txt and changes.csv of one folder. */
static int gen_dir(struct view *v, struct view_dir *d, uint32_t first, uint32_t count,
		   struct date_cache *dc)
{
	const struct world *w = v->w;
	size_t ilen = 0, clen = 0;
	struct change_key *order = malloc((count ? count : 1) * 2 * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (uint32_t i = first; i < first + count; i++) {
		const struct w_adv *a = &w->advs[v->docs[i].adv];
		size_t n = strlen(a->filename);
		ilen += 5 + n + 1;                     /* "2024/" name "\n" */
		clen += 1 + 5 + n + 3 + AU_TIME_LEN + 2; /* "\"2024/name\",\"<time>\"\n" */
		order[i - first] = (struct change_key){ a->current_release, a->filename,
							(uint32_t)n, v->docs[i].year };
		if (a->current_release > d->mtime)
			d->mtime = a->current_release;
	}
	d->index_txt = malloc(ilen + 1);
	d->changes_csv = malloc(clen + 1);
	if (!d->index_txt || !d->changes_csv) {
		free(order);
		return -ENOMEM;
	}
	char *p = d->index_txt;
	for (uint32_t i = 0; i < count; i++) {
		p = put_path(p, order[i].year, order[i].filename, order[i].len);
		*p++ = '\n';
	}
	*p = 0;
	d->index_len = (size_t)(p - d->index_txt);
	sort_changes(order, order + count, count);
	p = d->changes_csv;
	for (uint32_t i = 0; i < count; i++) {
		*p++ = '"';
		p = put_path(p, order[i].year, order[i].filename, order[i].len);
		memcpy(p, "\",\"", 3);
		p += 3;
		p += put_time(p, order[i].release, dc);
		memcpy(p, "\"\n", 2);
		p += 2;
	}
	*p = 0;
	d->changes_len = (size_t)(p - d->changes_csv);
	free(order);
	return 0;
}

/*
 * Check the file names of the folder docs[0..n) and sort them if need be:
 * 1 when each one sorts before the next without being a prefix of it
 * (what view_print() needs), else 0.
 */
static int sort_folder(const struct world *w, struct view_doc *docs, size_t n)
{
	int sorted = 1, before = 1;
	for (size_t i = 1; i < n && sorted; i++) {
		const char *x = w->advs[docs[i - 1].adv].filename, *y = w->advs[docs[i].adv].filename;
		if (au_name_before(x, y))
			continue;
		before = 0;
		sorted = strcmp(x, y) <= 0;
	}
	if (sorted)
		return before;
	qsort_r(docs, n, sizeof(*docs), cmp_doc, (void *)w);
	for (size_t i = 1; i < n; i++)
		if (!au_name_before(w->advs[docs[i - 1].adv].filename, w->advs[docs[i].adv].filename))
			return 0;
	return 1;
}

/*
 * Sort v->docs by (dir, year, file name): a stable distribution into the
 * (dir, year) folders, then a sort of each folder only if its file names
 * are not in order already.  They usually are: the world is in tracking
 * id order, which is file name order for ids in one style, so a build
 * costs a pass instead of n log n comparisons that each chase two
 * advisories.  The same pass finds whether v->names_ordered holds.
 * Returns 0 or -ENOMEM.
 */
static int sort_docs(struct view *v, unsigned ymin, unsigned ymax)
{
	const struct world *w = v->w;
	v->names_ordered = 1;
	if (v->ndocs < 2)
		return 0;
	size_t span = ymax - ymin + 1, nb = VIEW_NDIRS * span;
	uint32_t *start = calloc(nb + 1, sizeof(*start));
	struct view_doc *out = au_alloc_big(v->ndocs * sizeof(*out));
	if (!start || !out) {
		free(start);
		free(out);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < v->ndocs; i++)
		start[v->docs[i].dir * span + (v->docs[i].year - ymin) + 1]++;
	for (size_t b = 1; b <= nb; b++)
		start[b] += start[b - 1];
	for (uint32_t i = 0; i < v->ndocs; i++) {
		const struct view_doc *d = &v->docs[i];
		out[start[d->dir * span + (d->year - ymin)]++] = *d;
	}
	/* start[b] is now the end of folder b, and the start of folder b + 1;
	 * a folder of a world whose file names are all in order is in order */
	for (size_t b = 0, lo = 0; b < nb && !w->filenames_ordered; lo = start[b++])
		if (!sort_folder(w, out + lo, start[b] - lo))
			v->names_ordered = 0;
	free(start);
	free(v->docs);
	v->docs = out;
	return 0;
}

/*
 * The advisories are decided in chunks of DECIDE_CHUNK, taken in turn by
 * the threads that decide (the caller's, and for a large world one more):
 * whichever thread runs takes the next chunk, so a helper that starts
 * late costs nothing, and the permitted ones of chunk c go to
 * out[c * DECIDE_CHUNK..] (ndocs[c] of them), to be moved together in
 * chunk order afterwards: the same docs in the same order as one loop.
 */
#define DECIDE_CHUNK 4096u
struct decide_work {
	const struct policy *p;
	const struct pol_rctx *ctx;
	const struct world *w;
	struct view_doc *out;
	uint32_t *ndocs;            /* per chunk */
	uint32_t nchunks;
	atomic_uint next;           /* the next chunk to take */
};

/* What one thread found in the chunks it decided. */
struct decide_job {
	struct decide_work *work;
	unsigned ymin, ymax;        /* year range of its docs */
	int64_t mtime[VIEW_NDIRS];  /* newest current_release in each folder, or 0 */
};

/* From this many advisories on, a view is decided in two threads. */
#define VIEW_PARALLEL_MIN 32768

static void decide_chunks(struct decide_job *j)
{
	struct decide_work *k = j->work;
	const struct w_adv *advs = k->w->advs;
	unsigned c;
	while ((c = atomic_fetch_add(&k->next, 1)) < k->nchunks) {
		uint32_t lo = c * DECIDE_CHUNK, n = 0;
		uint32_t hi = k->w->nadvs - lo > DECIDE_CHUNK ? lo + DECIDE_CHUNK : k->w->nadvs;
		struct view_doc *out = k->out + lo;
		for (uint32_t i = lo; i < hi; i++) {
			struct view_doc *d = &out[n];
			policy_decide(k->p, k->ctx, i, &d->dec);
			if (!d->dec.permit)
				continue;
			int y = au_year(advs[i].initial_release);
			d->adv = i;
			d->year = (uint16_t)(y < 0 ? 0 : y > 9999 ? 9999 : y);
			d->dir = (uint8_t)tlp_dir(advs[i].tlp);
			j->ymin = d->year < j->ymin ? d->year : j->ymin;
			j->ymax = d->year > j->ymax ? d->year : j->ymax;
			int64_t rel = advs[i].current_release;
			j->mtime[d->dir] = rel > j->mtime[d->dir] ? rel : j->mtime[d->dir];
			n++;
		}
		k->ndocs[c] = n;
	}
}

static void *decide_thread(void *arg)
{
	decide_chunks(arg);
	return NULL;
}

/*
 * Decide every advisory of v's world for ctx into v->docs (v->ndocs),
 * in world order; the year range and the folders' times into *ret.
 * 0 or -ENOMEM.
 */
static int decide_all(struct view *v, const struct policy *p, const struct pol_rctx *ctx,
		      struct decide_job *ret)
{
	const struct world *w = v->w;
	struct decide_work work = { p, ctx, w, v->docs, NULL, 0, 0 };
	struct decide_job one = { &work, 9999, 0, { 0 } }, two = one;
	work.nchunks = (w->nadvs + DECIDE_CHUNK - 1) / DECIDE_CHUNK;
	if (!(work.ndocs = calloc(work.nchunks + 1, sizeof(*work.ndocs))))
		return -ENOMEM;
	atomic_init(&work.next, 0);
	pthread_t helper;
	int par = w->nadvs >= VIEW_PARALLEL_MIN &&
		  pthread_create(&helper, NULL, decide_thread, &two) == 0;
	decide_chunks(&one);
	if (par) {
		pthread_join(helper, NULL);
		one.ymin = two.ymin < one.ymin ? two.ymin : one.ymin;
		one.ymax = two.ymax > one.ymax ? two.ymax : one.ymax;
		for (int dir = 0; dir < VIEW_NDIRS; dir++)
			one.mtime[dir] = two.mtime[dir] > one.mtime[dir] ? two.mtime[dir] : one.mtime[dir];
	}
	v->ndocs = 0;
	for (uint32_t c = 0; c < work.nchunks; c++) {
		if (c * DECIDE_CHUNK != v->ndocs)
			memmove(v->docs + v->ndocs, v->docs + c * DECIDE_CHUNK,
				work.ndocs[c] * sizeof(*v->docs));
		v->ndocs += work.ndocs[c];
	}
	free(work.ndocs);
	*ret = one;
	return 0;
}

int view_build(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
	       struct view **ret_view)
{
	return view_build_opts(p, w, org, t, 0, ret_view);
}

int view_build_opts(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
		    unsigned flags, struct view **ret_view)
{
	struct view *v = calloc(1, sizeof(*v));
	struct pol_rctx ctx;
	int r = -ENOMEM;
	if (!v)
		return -ENOMEM;
	v->w = w;
	v->org = org;
	v->t = t;
	v->docs = au_alloc_big((w->nadvs ? w->nadvs : 1) * sizeof(*v->docs));
	if (!v->docs)
		goto fail;

	policy_rctx_init(p, w, org, t, &ctx);
	struct decide_job one;
	if ((r = decide_all(v, p, &ctx, &one)))
		goto fail;
	unsigned ymin = one.ymin, ymax = one.ymax;
	if ((r = sort_docs(v, ymin, ymax)))
		goto fail;
	r = -ENOMEM;

	v->years = malloc((v->ndocs ? v->ndocs : 1) * sizeof(*v->years));
	if (!v->years)
		goto fail;
	for (uint32_t i = 0; i < v->ndocs; i++) {
		struct view_doc *d = &v->docs[i];
		struct view_year *y = v->nyears ? &v->years[v->nyears - 1] : NULL;
		if (!y || d->year != y->year || d->dir != v->docs[y->first].dir) {
			y = &v->years[v->nyears++];
			y->year = d->year;
			y->first = i;
			y->count = 0;
			if (v->dirs[d->dir].nyears == 0)
				v->dirs[d->dir].first_year = v->nyears - 1;
			v->dirs[d->dir].nyears++;
		}
		y->count++;
	}
	if (flags & VIEW_NAMES_ONLY) {
		/* no index.txt or changes.csv, but the folders' times all the same */
		for (int dir = 0; dir < VIEW_NDIRS; dir++) {
			v->dirs[dir].mtime = one.mtime[dir];
			v->mtime = one.mtime[dir] > v->mtime ? one.mtime[dir] : v->mtime;
		}
		*ret_view = v;
		return 0;
	}
	struct date_cache *dc = v->ndocs ? malloc(sizeof(*dc)) : NULL;
	if (v->ndocs && !dc)
		goto fail;
	for (size_t i = 0; dc && i < DATE_CACHE; i++)
		dc->day[i] = INT64_MIN;
	for (int dir = 0; dir < VIEW_NDIRS; dir++) {
		struct view_dir *vd = &v->dirs[dir];
		if (!vd->nyears)
			continue;
		const struct view_year *fy = &v->years[vd->first_year];
		const struct view_year *ly = &v->years[vd->first_year + vd->nyears - 1];
		if ((r = gen_dir(v, vd, fy->first, ly->first + ly->count - fy->first, dc))) {
			free(dc);
			goto fail;
		}
		if (vd->mtime > v->mtime)
			v->mtime = vd->mtime;
	}
	free(dc);
	*ret_view = v;
	return 0;
fail:
	view_free(v);
	return r;
}

void view_free(struct view *v)
{
	if (!v)
		return;
	for (int i = 0; i < VIEW_NDIRS; i++) {
		free(v->dirs[i].index_txt);
		free(v->dirs[i].changes_csv);
	}
	free(v->provider_json);
	free(v->pgp_name);
	free(v->pgp_key);
	free(v->docs);
	free(v->years);
	free(v);
}

/* ---- the provider's files ---------------------------------------------------------------- */

void view_provider_release(struct view_provider *prov)
{
	if (!prov)
		return;
	free(prov->base_url);
	free(prov->publisher_name);
	free(prov->namespace_url);
	free(prov->category);
	free(prov->contact);
	free(prov->issuing_authority);
	free(prov->pubkey);
	memset(prov, 0, sizeof(*prov));
}

/*
 * One meta value into *ret (allocated), or a copy of def when it is not
 * set (NULL def: *ret stays NULL).  0 or -errno.
 */
static int provider_value(struct store *st, const char *key, const char *def, char **ret)
{
	size_t len = 0;
	int r = store_meta_get(st, key, ret, &len);
	if (r == -ENOENT) {
		*ret = NULL;
		if (def && !(*ret = strdup(def)))
			return -ENOMEM;
		return 0;
	}
	return r;
}

/* Whether the stored public key parses and is the one signing_fpr names;
 * its creation time in *ret_created. */
static int provider_key_ok(const struct view_provider *prov, int64_t *ret_created)
{
	struct pgp_key *key = NULL;
	char hex[PGP_FPR_HEX_LEN];
	int ok = 0;
	if (pgp_key_from_public(prov->pubkey, prov->pubkey_len, &key) == 0) {
		pgp_fingerprint_hex(key, hex);
		ok = strcmp(hex, prov->fpr) == 0;
		*ret_created = pgp_key_created(key);
	}
	pgp_key_free(key);
	return ok;
}

int view_provider_load(struct store *st, struct view_provider *ret)
{
	struct view_provider prov;
	char *fpr = NULL;
	size_t len = 0;
	int r;

	memset(&prov, 0, sizeof(prov));
	if ((r = provider_value(st, VIEW_META_BASE_URL, VIEW_DEFAULT_BASE_URL, &prov.base_url)) ||
	    (r = provider_value(st, VIEW_META_PUBLISHER, VIEW_DEFAULT_PUBLISHER,
				&prov.publisher_name)) ||
	    (r = provider_value(st, VIEW_META_NAMESPACE, VIEW_DEFAULT_NAMESPACE,
				&prov.namespace_url)) ||
	    (r = provider_value(st, VIEW_META_CATEGORY, VIEW_DEFAULT_CATEGORY, &prov.category)) ||
	    (r = provider_value(st, VIEW_META_CONTACT, NULL, &prov.contact)) ||
	    (r = provider_value(st, VIEW_META_AUTHORITY, NULL, &prov.issuing_authority)))
		goto fail;
	/* the key: both values, or none */
	r = store_meta_get(st, STORE_META_SIGNING_FPR, &fpr, &len);
	if (r == 0 && len == PGP_FPR_HEX_LEN - 1) {
		memcpy(prov.fpr, fpr, len + 1);
		r = store_meta_get(st, STORE_META_SIGNING_PUBKEY, &prov.pubkey, &prov.pubkey_len);
		if (r == 0 && !provider_key_ok(&prov, &prov.key_created)) {
			free(prov.pubkey);
			prov.pubkey = NULL;
			prov.pubkey_len = 0;
		}
	}
	free(fpr);
	if (r && r != -ENOENT)
		goto fail;
	if (!prov.pubkey)
		prov.fpr[0] = 0;
	*ret = prov;
	return 0;
fail:
	view_provider_release(&prov);
	return r;
}

/* BASE/<slug>/<rest> as a new cJSON string, or NULL. */
static cJSON *provider_url(const struct view_provider *prov, const char *slug, const char *rest)
{
	char *u = NULL;
	if (asprintf(&u, "%s/%s/%s", prov->base_url, slug, rest) < 0)
		return NULL;
	cJSON *j = cJSON_CreateString(u);
	free(u);
	return j;
}

/* Add item to parent under name; false (and item freed) when either is NULL. */
static int provider_add(cJSON *parent, const char *name, cJSON *item)
{
	if (!parent || !item) {
		cJSON_Delete(item);
		return 0;
	}
	return cJSON_AddItemToObject(parent, name, item) ? 1 : (cJSON_Delete(item), 0);
}

static void json_put(char *out, size_t *o, char c)
{
	if (out)
		out[*o] = c;
	(*o)++;
}

/*
 * Indent compact JSON (cJSON_PrintUnformatted) by two spaces per level,
 * one member per line, into out (NULL: only count).  Returns the length.
 */
static size_t json_indent(const char *in, char *out)
{
	size_t o = 0;
	int depth = 0, str = 0;
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (str) {
			json_put(out, &o, c);
			if (c == '\\' && p[1])
				json_put(out, &o, *++p);
			else if (c == '"')
				str = 0;
			continue;
		}
		if (c == '}' || c == ']')
			depth--;
		if (c == '}' || c == ']' || (c != ',' && p > in && (p[-1] == '{' || p[-1] == '['))) {
			json_put(out, &o, '\n');
			for (int i = 0; i < 2 * depth; i++)
				json_put(out, &o, ' ');
		}
		json_put(out, &o, c);
		if (c == '"')
			str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == ':')
			json_put(out, &o, ' ');
		else if (c == ',') {
			json_put(out, &o, '\n');
			for (int i = 0; i < 2 * depth; i++)
				json_put(out, &o, ' ');
		}
	}
	return o;
}

/* The provider-metadata.json document of v (caller frees), or NULL. */
static char *provider_json(const struct view *v, const struct view_provider *prov)
{
	const char *slug = v->w->orgs[v->org].slug;
	int public = v->org == W_PUBLIC;
	char t[AU_TIME_LEN], *out = NULL;
	int ok = 1;

	au_format_time(v->mtime, t);
	cJSON *doc = cJSON_CreateObject();
	ok = ok && provider_add(doc, "canonical_url", provider_url(prov, slug, VIEW_PROVIDER_FILE));
	cJSON *dists = NULL;
	for (int d = 0; ok && d < VIEW_NDIRS; d++) {
		if (!v->dirs[d].nyears)
			continue;
		char rest[16];
		snprintf(rest, sizeof(rest), "%s/", dir_names[d]);
		cJSON *one = cJSON_CreateObject();
		if (!dists && !(dists = cJSON_CreateArray()))
			ok = 0;
		ok = ok && provider_add(one, "directory_url", provider_url(prov, slug, rest));
		ok = ok && dists && cJSON_AddItemToArray(dists, one);
		if (!ok)
			cJSON_Delete(one);
	}
	/* the schema wants at least one item: without a folder, no key */
	if (dists)
		ok = provider_add(doc, "distributions", dists) && ok;
	ok = ok && provider_add(doc, "last_updated", cJSON_CreateString(t));
	/* a tree for one recipient is not for aggregators, the public one is */
	ok = ok && provider_add(doc, "list_on_CSAF_aggregators", cJSON_CreateBool(public));
	ok = ok && provider_add(doc, "metadata_version", cJSON_CreateString("2.0"));
	ok = ok && provider_add(doc, "mirror_on_CSAF_aggregators", cJSON_CreateBool(public));
	if (ok && prov->pubkey) {
		char rest[64];
		snprintf(rest, sizeof(rest), "%s/%s.asc", VIEW_OPENPGP_DIR, prov->fpr);
		cJSON *keys = cJSON_CreateArray(), *key = cJSON_CreateObject();
		ok = provider_add(key, "fingerprint", cJSON_CreateString(prov->fpr)) &&
		     provider_add(key, "url", provider_url(prov, slug, rest));
		if (ok && keys && key && cJSON_AddItemToArray(keys, key))
			key = NULL;
		else
			ok = 0;
		cJSON_Delete(key);
		ok = provider_add(doc, "public_openpgp_keys", keys) && ok;
	}
	cJSON *pub = cJSON_CreateObject();
	ok = ok && provider_add(pub, "category", cJSON_CreateString(prov->category));
	if (ok && prov->contact)
		ok = provider_add(pub, "contact_details", cJSON_CreateString(prov->contact));
	if (ok && prov->issuing_authority)
		ok = provider_add(pub, "issuing_authority",
				  cJSON_CreateString(prov->issuing_authority));
	ok = ok && provider_add(pub, "name", cJSON_CreateString(prov->publisher_name));
	ok = ok && provider_add(pub, "namespace", cJSON_CreateString(prov->namespace_url));
	ok = provider_add(doc, "publisher", pub) && ok;
	ok = ok && provider_add(doc, "role", cJSON_CreateString("csaf_trusted_provider"));
	char *compact = ok ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON_Delete(doc);
	if (!compact)
		return NULL;
	size_t len = json_indent(compact, NULL);
	if ((out = malloc(len + 1))) {
		json_indent(compact, out);
		out[len] = 0;
	}
	free(compact);
	return out;
}

int view_set_provider(struct view *v, const struct view_provider *prov)
{
	char *json = provider_json(v, prov);
	size_t len;
	if (!json)
		return -ENOMEM;
	/* one line feed at the end, like every other text file of the tree */
	len = strlen(json);
	char *nl = realloc(json, len + 2);
	if (!nl) {
		free(json);
		return -ENOMEM;
	}
	nl[len++] = '\n';
	nl[len] = 0;
	v->provider_json = nl;
	v->provider_len = len;
	if (!prov->pubkey)
		return 0;
	if (asprintf(&v->pgp_name, "%s.asc", prov->fpr) < 0) {
		v->pgp_name = NULL;
		return -ENOMEM;
	}
	if (!(v->pgp_key = malloc(prov->pubkey_len ? prov->pubkey_len : 1))) {
		free(v->pgp_name);
		v->pgp_name = NULL;
		return -ENOMEM;
	}
	memcpy(v->pgp_key, prov->pubkey, prov->pubkey_len);
	v->pgp_key_len = prov->pubkey_len;
	v->pgp_mtime = prov->key_created;
	return 0;
}

int view_dist_json(const struct view *v, const struct policy *p, uint32_t doc, char **ret,
		   size_t *ret_len)
{
	const struct w_adv *a = &v->w->advs[v->docs[doc].adv];
	cJSON *j = cJSON_CreateObject(), *sectors = NULL;
	int ok = provider_add(j, "tlp", cJSON_CreateString(csaf_tlp_name(a->tlp))) &&
		 provider_add(j, "personal_data", cJSON_CreateBool(a->personal_data));
	if (ok && a->impact_significant)
		ok = provider_add(j, "impact", cJSON_CreateString("significant"));
	for (int i = 0; ok && i < policy_nsectors(p) && i < 64; i++) {
		if (!(a->sectors & ((uint64_t)1 << i)))
			continue;
		if (!sectors && !(sectors = cJSON_CreateArray()))
			ok = 0;
		cJSON *name = cJSON_CreateString(policy_sector_name(p, i));
		if (ok && name && cJSON_AddItemToArray(sectors, name))
			continue;
		cJSON_Delete(name);
		ok = 0;
	}
	if (sectors)
		ok = provider_add(j, "sectors", sectors) && ok;
	char *out = ok ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	if (!out)
		return -ENOMEM;
	*ret = out;
	*ret_len = strlen(out);
	return 0;
}

/* ---- lookups ------------------------------------------------------------------------------ */

int view_year_find(const struct view *v, int dir, int year)
{
	if (dir < 0 || dir >= VIEW_NDIRS)
		return -1;
	const struct view_dir *d = &v->dirs[dir];
	for (uint32_t i = d->first_year; i < d->first_year + d->nyears; i++)
		if (v->years[i].year == year)
			return (int)i;
	return -1;
}

int view_doc_find(const struct view *v, int year_idx, const char *filename)
{
	if (year_idx < 0 || (uint32_t)year_idx >= v->nyears)
		return -1;
	const struct view_year *y = &v->years[year_idx];
	uint32_t lo = y->first, hi = y->first + y->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v->w->advs[v->docs[mid].adv].filename, filename);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* A world built without digests has NULL for them: all zero. */
static const unsigned char no_hash[64];

static const unsigned char *adv_sha256(const struct w_adv *a)
{
	return a->sha256 ? a->sha256 : no_hash;
}

static const unsigned char *adv_sha512(const struct w_adv *a)
{
	return a->sha512 ? a->sha512 : no_hash;
}

size_t view_hash_line(const struct view *v, uint32_t doc, int kind, char *buf, size_t buflen)
{
	const struct w_adv *a = &v->w->advs[v->docs[doc].adv];
	char hex[129];
	if (kind == VIEW_SHA256)
		au_hex(adv_sha256(a), 32, hex);
	else
		au_hex(adv_sha512(a), 64, hex);
	int n = snprintf(buf, buflen, "%s  %s\n", hex, a->filename);
	return n < 0 || (size_t)n >= buflen ? 0 : (size_t)n;
}

int64_t view_file_size(const struct view *v, uint32_t doc, int kind)
{
	const struct w_adv *a = &v->w->advs[v->docs[doc].adv];
	switch (kind) {
	case VIEW_JSON:
		return a->size;
	case VIEW_SHA256:
		return 64 + 2 + (int64_t)strlen(a->filename) + 1;
	case VIEW_SHA512:
		return 128 + 2 + (int64_t)strlen(a->filename) + 1;
	case VIEW_ASC:
		return a->sig_size;
	}
	return 0;
}

/* ---- visible's listing -------------------------------------------------------------------- */

/*
 * `visible` lists every path of a view in strcmp order.  The layout gives
 * that order without sorting: the top-level names in name order; in a TLP
 * folder its years ("2024/" < "changes.csv" < "index.txt"); in a year the
 * documents in file name order (as v->docs are), each followed by its
 * suffixes ("" < ".asc" < ".sha256" < ".sha512").  The last step needs
 * every file name to sort before the next one of its year without being a
 * prefix of it, which CSAF file names ([+-a-z0-9_] and ".json") always
 * satisfy; view_build() checks it (v->names_ordered, for free when the
 * world vouches for its file names) and view_print() sorts the paths when
 * it does not hold.
 */
struct lister {
	FILE *f;
	int json;
	size_t n;                   /* paths listed so far */
	char *buf;                  /* the line being made */
	size_t cap;
	char *out;                  /* plain output not yet written (LISTER_OUT bytes) */
	size_t nout;
	char **paths;               /* collect mode (NULL f): copies, to be sorted */
	size_t npaths, cap_paths;
};

/* Print a JSON string of len bytes with the escapes JSON requires. */
static void json_strn(FILE *f, const char *s, size_t len)
{
	const char *run = s, *end = s + len;
	fputc('"', f);
	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		fwrite(run, 1, (size_t)(s - run), f);
		run = s + 1;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else
			fprintf(f, "\\u%04x", c);
	}
	fwrite(run, 1, (size_t)(s - run), f);
	fputc('"', f);
}

static void json_str(FILE *f, const char *s)
{
	json_strn(f, s, strlen(s));
}

/* Make room for n bytes in l->buf; 0 or -ENOMEM. */
static int lister_room(struct lister *l, size_t n)
{
	char *nb = au_grow(l->buf, &l->cap, n, 1, 512);
	if (!nb)
		return -ENOMEM;
	l->buf = nb;
	return 0;
}

#define LISTER_OUT (64u << 10)

static void lister_flush(struct lister *l)
{
	if (l->nout)
		fwrite(l->out, 1, l->nout, l->f);
	l->nout = 0;
}

/* List the path of len bytes in l->buf, which has room for one byte more. */
static int lister_emit(struct lister *l, size_t len)
{
	if (!l->f) {
		if (l->npaths == l->cap_paths) {
			size_t cap = l->cap_paths ? 2 * l->cap_paths : 256;
			char **np = realloc(l->paths, cap * sizeof(*np));
			if (!np)
				return -ENOMEM;
			l->paths = np;
			l->cap_paths = cap;
		}
		if (!(l->paths[l->npaths] = strndup(l->buf, len)))
			return -ENOMEM;
		l->npaths++;
	} else if (l->json) {
		fputs(l->n ? "," : "", l->f);
		json_strn(l->f, l->buf, len);
	} else if (l->out && len < LISTER_OUT) {
		/* lines are many and short: one fwrite per LISTER_OUT bytes */
		if (LISTER_OUT - l->nout < len + 1)
			lister_flush(l);
		memcpy(l->out + l->nout, l->buf, len);
		l->out[l->nout + len] = '\n';
		l->nout += len + 1;
	} else {
		lister_flush(l);
		l->buf[len] = '\n';
		fwrite(l->buf, 1, len + 1, l->f);
	}
	l->n++;
	return 0;
}

/* List the path made of a and b. */
static int lister_path2(struct lister *l, const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	int r = lister_room(l, al + bl + 1);
	if (r)
		return r;
	memcpy(l->buf, a, al);
	memcpy(l->buf + al, b, bl);
	return lister_emit(l, al + bl);
}

static const char *const list_sfx[] = { "", ".asc", ".sha256", ".sha512" };
static const size_t list_sfxlen[] = { 0, 4, 7, 7 };

/*
 * The lines of one document straight into l->out (plain output; the
 * caller made sure that 4 * (len + 8) bytes fit in it): the path of len
 * bytes in path (without the suffix), then the path with each suffix.  A
 * year holds tens of thousands of these lines, each a copy of the first
 * with another ending.
 */
static void lister_doc(struct lister *l, const char *path, size_t len, int has_sig)
{
	if (LISTER_OUT - l->nout < 4 * (len + 8))
		lister_flush(l);
	char *p = l->out + l->nout, *first = p;
	memcpy(p, path, len);
	p += len;
	*p++ = '\n';
	for (int k = 1; k < 4; k++) {
		if (k == 1 && !has_sig)
			continue;
		memcpy(p, first, len);
		p += len;
		memcpy(p, list_sfx[k], list_sfxlen[k]);
		p += list_sfxlen[k];
		*p++ = '\n';
	}
	l->n += has_sig ? 4 : 3;
	l->nout = (size_t)(p - l->out);
}

/*
 * Ask for the advisory of docs[i + LIST_AHEAD] and then the name of
 * docs[i + LIST_AHEAD / 2] before the listing reads them: a folder's
 * advisories lie far apart in the world, and the listing would otherwise
 * wait for memory twice per document (its advisory, then its name).
 */
#define LIST_AHEAD 16
static inline void list_prefetch(const struct w_adv *advs, const struct view_doc *docs,
				 uint32_t i, uint32_t end)
{
	if (i + LIST_AHEAD < end)
		__builtin_prefetch(&advs[docs[i + LIST_AHEAD].adv].filename);
	if (i + LIST_AHEAD / 2 < end)
		__builtin_prefetch(advs[docs[i + LIST_AHEAD / 2].adv].filename);
}

/* The paths of one TLP folder: its years with their documents, then the
 * two generated files. */
static int list_dir(struct lister *l, const struct view *v, int dir)
{
	const struct view_dir *vd = &v->dirs[dir];
	const char *name = dir_names[dir];
	size_t nlen = strlen(name);
	/* plain output goes straight into the output buffer */
	int direct = l->f && !l->json && l->out;
	int r;
	for (uint32_t yi = vd->first_year; yi < vd->first_year + vd->nyears; yi++) {
		const struct view_year *y = &v->years[yi];
		for (uint32_t i = y->first; i < y->first + y->count; i++) {
			const struct w_adv *a = &v->w->advs[v->docs[i].adv];
			list_prefetch(v->w->advs, v->docs, i, y->first + y->count);
			size_t flen = strlen(a->filename), base = nlen + 1 + 5 + flen;
			if ((r = lister_room(l, base + 8)))
				return r;
			memcpy(l->buf, name, nlen);
			l->buf[nlen] = '/';
			put_path(l->buf + nlen + 1, y->year, a->filename, flen);
			if (direct && 4 * (base + 8) <= LISTER_OUT) {
				lister_doc(l, l->buf, base, a->has_signature);
				continue;
			}
			for (int k = 0; k < 4; k++) {
				if (k == 1 && !a->has_signature)
					continue;
				memcpy(l->buf + base, list_sfx[k], list_sfxlen[k]);
				if ((r = lister_emit(l, base + list_sfxlen[k])))
					return r;
			}
		}
	}
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "%s/", name);
	if ((r = lister_path2(l, prefix, "changes.csv")) || (r = lister_path2(l, prefix, "index.txt")))
		return r;
	return 0;
}

/* The top-level entries of a view, listed in name order. */
struct list_top {
	const char *name;
	int dir;                    /* enum view_tlpdir, or one of the two below */
};

enum { LIST_PROVIDER = -1, LIST_OPENPGP = -2 };

static int cmp_top(const void *a, const void *b)
{
	return strcmp(((const struct list_top *)a)->name, ((const struct list_top *)b)->name);
}

/* Every path of v, in the order described above.  0 or -ENOMEM. */
static int list_paths(struct lister *l, const struct view *v)
{
	struct list_top top[VIEW_NDIRS + 2];
	int ntop = 0, r = 0;
	for (int dir = 0; dir < VIEW_NDIRS; dir++)
		if (v->dirs[dir].nyears)
			top[ntop++] = (struct list_top){ dir_names[dir], dir };
	if (v->provider_json)
		top[ntop++] = (struct list_top){ VIEW_PROVIDER_FILE, LIST_PROVIDER };
	if (v->pgp_name)
		top[ntop++] = (struct list_top){ VIEW_OPENPGP_DIR, LIST_OPENPGP };
	qsort(top, (size_t)ntop, sizeof(top[0]), cmp_top);
	for (int i = 0; i < ntop && !r; i++) {
		if (top[i].dir >= 0)
			r = list_dir(l, v, top[i].dir);
		else if (top[i].dir == LIST_OPENPGP)
			r = lister_path2(l, VIEW_OPENPGP_DIR "/", v->pgp_name);
		else
			r = lister_path2(l, VIEW_PROVIDER_FILE, "");
	}
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The paths in order: listed straight to the output when the layout gives
 * the order, else collected, sorted, then listed.
 */
static int print_paths(const struct view *v, FILE *f, int json)
{
	struct lister l = { .f = f, .json = json };
	int r;
	/* without the buffer (out of memory), each line is written by itself */
	if (!json)
		l.out = malloc(LISTER_OUT);
	if (v->names_ordered) {
		r = list_paths(&l, v);
		goto out;
	}
	l.f = NULL;
	if ((r = list_paths(&l, v)))
		goto out;
	qsort(l.paths, l.npaths, sizeof(char *), cmp_str);
	l.f = f;
	l.n = 0;
	for (size_t i = 0; i < l.npaths && !r; i++) {
		size_t len = strlen(l.paths[i]);
		if (!(r = lister_room(&l, len + 1))) {
			memcpy(l.buf, l.paths[i], len);
			r = lister_emit(&l, len);
		}
	}
out:
	if (l.f)
		lister_flush(&l);
	free(l.out);
	for (size_t i = 0; i < l.npaths; i++)
		free(l.paths[i]);
	free(l.paths);
	free(l.buf);
	return r;
}

int view_print(const struct view *v, const struct policy *p, int json, FILE *f)
{
	const struct world *w = v->w;
	if (!json)
		return print_paths(v, f, 0);
	char t[AU_TIME_LEN];
	au_format_time(v->t, t);
	fprintf(f, "{\"recipient\":");
	json_str(f, w->orgs[v->org].slug);
	fprintf(f, ",\"at\":\"%s\",\"files\":[", t);
	int r = print_paths(v, f, 1);
	if (r)
		return r;
	fprintf(f, "],\"advisories\":[");
	for (uint32_t i = 0; i < v->ndocs; i++) {
		const struct view_doc *d = &v->docs[i];
		const struct w_adv *a = &w->advs[d->adv];
		char hex[65], path[320];
		au_hex(adv_sha256(a), 32, hex);
		snprintf(path, sizeof(path), "%s/%04u/%s", dir_names[d->dir], d->year, a->filename);
		fputs(i ? "," : "", f);
		fprintf(f, "{\"path\":");
		json_str(f, path);
		fprintf(f, ",\"tracking_id\":");
		json_str(f, a->tracking_id);
		fprintf(f, ",\"version\":");
		json_str(f, a->version);
		fprintf(f, ",\"tlp\":\"%s\",\"size\":%lld,\"sha256\":\"%s\",\"rules\":[",
			csaf_tlp_name(a->tlp), (long long)a->size, hex);
		for (int k = 0; k < d->dec.nrules; k++) {
			fputs(k ? "," : "", f);
			json_str(f, policy_rule_id(p, d->dec.rules[k]));
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]}\n");
	return 0;
}
