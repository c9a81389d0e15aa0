/*
 * view.c - compute one recipient's directory (SPEC.md section 2).
 *
 * view_build() asks the policy about every advisory of the world, keeps
 * the permitted ones, sorts them into TLP folders and year folders, and
 * generates each folder's index.txt and changes.csv.  Everything a
 * listing, a lookup or a getattr needs is then a binary search or an
 * array index; sizes of generated files are exact before any read.
 */
#include "view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csaf.h"
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

/* changes.csv order: newest current_release_date first, then path. */
static int cmp_change(const void *a, const void *b, void *arg)
{
	const struct world *sort_world = arg;
	const struct view_doc *x = *(const struct view_doc *const *)a;
	const struct view_doc *y = *(const struct view_doc *const *)b;
	int64_t tx = sort_world->advs[x->adv].current_release;
	int64_t ty = sort_world->advs[y->adv].current_release;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	if (x->year != y->year)
		return x->year - y->year;
	return strcmp(sort_world->advs[x->adv].filename, sort_world->advs[y->adv].filename);
}

/* Generate index.txt and changes.csv of one folder. */
static int gen_dir(struct view *v, struct view_dir *d, uint32_t first, uint32_t count)
{
	const struct world *w = v->w;
	size_t ilen = 0, clen = 0;
	for (uint32_t i = first; i < first + count; i++) {
		size_t n = strlen(w->advs[v->docs[i].adv].filename);
		ilen += 5 + n + 1;                     /* "2024/" name "\n" */
		clen += 1 + 5 + n + 3 + 20 + 2;        /* "\"2024/name\",\"<time>\"\n" */
	}
	d->index_txt = malloc(ilen + 1);
	d->changes_csv = malloc(clen + 1);
	const struct view_doc **order = malloc((count ? count : 1) * sizeof(*order));
	if (!d->index_txt || !d->changes_csv || !order) {
		free(order);
		return -ENOMEM;
	}
	char *p = d->index_txt;
	for (uint32_t i = first; i < first + count; i++) {
		const struct w_adv *a = &w->advs[v->docs[i].adv];
		p += sprintf(p, "%04u/%s\n", v->docs[i].year, a->filename);
		order[i - first] = &v->docs[i];
		if (a->current_release > d->mtime)
			d->mtime = a->current_release;
	}
	d->index_len = (size_t)(p - d->index_txt);
	qsort_r(order, count, sizeof(*order), cmp_change, (void *)w);
	p = d->changes_csv;
	for (uint32_t i = 0; i < count; i++) {
		const struct w_adv *a = &w->advs[order[i]->adv];
		char t[AU_TIME_LEN];
		au_format_time(a->current_release, t);
		p += sprintf(p, "\"%04u/%s\",\"%s\"\n", order[i]->year, a->filename, t);
	}
	d->changes_len = (size_t)(p - d->changes_csv);
	free(order);
	return 0;
}

int view_build(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
	       struct view **ret_view)
{
	struct view *v = calloc(1, sizeof(*v));
	struct pol_rctx ctx;
	int r = -ENOMEM;
	if (!v)
		return -ENOMEM;
	v->w = w;
	v->org = org;
	v->t = t;
	v->docs = malloc((w->nadvs ? w->nadvs : 1) * sizeof(*v->docs));
	if (!v->docs)
		goto fail;

	policy_rctx_init(p, w, org, t, &ctx);
	for (uint32_t i = 0; i < w->nadvs; i++) {
		struct view_doc *d = &v->docs[v->ndocs];
		policy_decide(p, &ctx, i, &d->dec);
		if (!d->dec.permit)
			continue;
		int y = au_year(w->advs[i].initial_release);
		d->adv = i;
		d->year = (uint16_t)(y < 0 ? 0 : y > 9999 ? 9999 : y);
		d->dir = (uint8_t)tlp_dir(w->advs[i].tlp);
		v->ndocs++;
	}
	qsort_r(v->docs, v->ndocs, sizeof(*v->docs), cmp_doc, (void *)w);

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
	for (int dir = 0; dir < VIEW_NDIRS; dir++) {
		struct view_dir *vd = &v->dirs[dir];
		if (!vd->nyears)
			continue;
		const struct view_year *fy = &v->years[vd->first_year];
		const struct view_year *ly = &v->years[vd->first_year + vd->nyears - 1];
		if ((r = gen_dir(v, vd, fy->first, ly->first + ly->count - fy->first)))
			goto fail;
		if (vd->mtime > v->mtime)
			v->mtime = vd->mtime;
	}
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
	free(v->docs);
	free(v->years);
	free(v);
}

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

size_t view_hash_line(const struct view *v, uint32_t doc, int kind, char *buf, size_t buflen)
{
	const struct w_adv *a = &v->w->advs[v->docs[doc].adv];
	char hex[129];
	if (kind == VIEW_SHA256)
		au_hex(a->sha256, 32, hex);
	else
		au_hex(a->sha512, 64, hex);
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

static const char *const kind_suffix[VIEW_NKINDS] = { "", ".sha256", ".sha512", ".asc" };

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print a JSON string with the escapes JSON requires. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int view_print(const struct view *v, const struct policy *p, int json, FILE *f)
{
	const struct world *w = v->w;
	size_t cap = (size_t)v->ndocs * VIEW_NKINDS + 2 * VIEW_NDIRS, n = 0;
	char **paths = calloc(cap ? cap : 1, sizeof(char *));
	int r = 0;
	if (!paths)
		return -ENOMEM;
	for (int dir = 0; dir < VIEW_NDIRS; dir++) {
		if (!v->dirs[dir].nyears)
			continue;
		if (asprintf(&paths[n++], "%s/index.txt", dir_names[dir]) < 0 ||
		    asprintf(&paths[n++], "%s/changes.csv", dir_names[dir]) < 0) {
			paths[--n] = NULL;
			r = -ENOMEM;
			goto out;
		}
	}
	for (uint32_t i = 0; i < v->ndocs; i++) {
		const struct view_doc *d = &v->docs[i];
		const struct w_adv *a = &w->advs[d->adv];
		for (int k = 0; k < VIEW_NKINDS; k++) {
			if (k == VIEW_ASC && !a->has_signature)
				continue;
			if (asprintf(&paths[n++], "%s/%04u/%s%s", dir_names[d->dir], d->year,
				     a->filename, kind_suffix[k]) < 0) {
				paths[--n] = NULL;
				r = -ENOMEM;
				goto out;
			}
		}
	}
	qsort(paths, n, sizeof(char *), cmp_str);
	if (!json) {
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s\n", paths[i]);
		goto out;
	}
	char t[AU_TIME_LEN];
	au_format_time(v->t, t);
	fprintf(f, "{\"recipient\":");
	json_str(f, w->orgs[v->org].slug);
	fprintf(f, ",\"at\":\"%s\",\"files\":[", t);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, paths[i]);
	}
	fprintf(f, "],\"advisories\":[");
	for (uint32_t i = 0; i < v->ndocs; i++) {
		const struct view_doc *d = &v->docs[i];
		const struct w_adv *a = &w->advs[d->adv];
		char hex[65], path[320];
		au_hex(a->sha256, 32, hex);
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
out:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return r;
}
