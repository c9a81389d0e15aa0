/*
 * bench_csaf.c - the cost of validating a CSAF document, for scripts/bench.
 *
 *   bench_csaf DIR [ROUNDS]
 *
 * Reads every FILE.json under DIR (not .dist.json) into memory, then times
 * ROUNDS passes (default 3) of csaf_parse() (the publishing rules: JSON,
 * limits, required fields) and of csaf_parse_opts(CSAF_CONFORM) (the same
 * plus the CSAF 2.0 schema and the mandatory tests), and prints one line:
 *
 *   N documents, B bytes: rules X us/document, conform Y us/document
 *   (schema + 6.1: Z us/document)
 *
 * Files that are refused (provider metadata, feeds, invalid documents) are
 * left out and counted.  The first call compiles the schema, before the
 * clock starts, as a long import pays it once.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csaf.h"

struct doc {
	char *bytes;
	size_t len;
	char *path;
};

static struct doc *docs;
static size_t ndocs, cap, skipped;

static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t n = strlen(path);
	(void)ftw;
	if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".json") ||
	    (n >= 10 && !strcmp(path + n - 10, ".dist.json")))
		return 0;
	if (ndocs == cap) {
		cap = cap ? 2 * cap : 1024;
		if (!(docs = realloc(docs, cap * sizeof(*docs))))
			return 1;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return 1;
	struct doc *d = &docs[ndocs++];
	d->len = (size_t)sb->st_size;
	d->bytes = malloc(d->len ? d->len : 1);
	d->path = strdup(path);
	if (!d->bytes || !d->path || fread(d->bytes, 1, d->len, f) != d->len) {
		fclose(f);
		return 1;
	}
	fclose(f);
	/* not a document a publisher would import (provider metadata, feeds): left out */
	struct csaf_doc doc;
	if (csaf_parse_opts(d->bytes, d->len, CSAF_CONFORM, &doc, NULL, 0) != 0) {
		free(d->bytes);
		free(d->path);
		ndocs--;
		skipped++;
		return 0;
	}
	csaf_doc_release(&doc);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds for one pass over every document with flags; -1 on a refusal. */
static double pass(unsigned flags)
{
	double t0 = now();
	for (size_t i = 0; i < ndocs; i++) {
		struct csaf_doc d;
		char err[512];
		if (csaf_parse_opts(docs[i].bytes, docs[i].len, flags, &d, err, sizeof(err))) {
			fprintf(stderr, "bench_csaf: %s: %s\n", docs[i].path, err);
			return -1;
		}
		csaf_doc_release(&d);
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	size_t bytes = 0;
	if (argc < 2 || rounds < 1) {
		fprintf(stderr, "usage: bench_csaf DIR [ROUNDS]\n");
		return 2;
	}
	if (nftw(argv[1], visit, 32, FTW_PHYS) != 0 || ndocs == 0) {
		fprintf(stderr, "bench_csaf: %s: no documents read\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < ndocs; i++)
		bytes += docs[i].len;
	if (pass(CSAF_CONFORM) < 0) /* compiles the schema, warms the caches */
		return 1;
	double best_rules = 1e9, best_conform = 1e9;
	for (int r = 0; r < rounds; r++) {
		double a = pass(0), b = pass(CSAF_CONFORM);
		if (a < 0 || b < 0)
			return 1;
		best_rules = a < best_rules ? a : best_rules;
		best_conform = b < best_conform ? b : best_conform;
	}
	printf("%zu documents (%zu refused files left out), %zu bytes: rules %.1f us/document, conform %.1f us/document "
	       "(schema + 6.1: %.1f us/document)\n",
	       ndocs, skipped, bytes, best_rules * 1e6 / (double)ndocs, best_conform * 1e6 / (double)ndocs,
	       (best_conform - best_rules) * 1e6 / (double)ndocs);
	for (size_t i = 0; i < ndocs; i++) {
		free(docs[i].bytes);
		free(docs[i].path);
	}
	free(docs);
	return 0;
}
