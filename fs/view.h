/*
 * view.h - one recipient's directory, computed: what SPEC.md section 2
 * says the directory holds, for a recipient at a moment, under a policy.
 *
 * A view is immutable once built; the mount builds a new one when the
 * world or the time moves and swaps it in.  `advisoryfs visible` prints
 * view_paths() of the same view, so the mount and the command agree by
 * construction.
 *
 * Layout:  <tlpdir>/index.txt, <tlpdir>/changes.csv,
 *          <tlpdir>/<year>/<name>.json[.sha256|.sha512|.asc]
 * Only TLP folders that hold something exist.
 */
#ifndef ADVISORYFS_VIEW_H
#define ADVISORYFS_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "world.h"

enum view_tlpdir { VIEW_WHITE, VIEW_GREEN, VIEW_AMBER, VIEW_RED, VIEW_NDIRS };

/* Kinds of file per advisory. */
enum view_kind { VIEW_JSON, VIEW_SHA256, VIEW_SHA512, VIEW_ASC, VIEW_NKINDS };

struct view_doc {
	uint32_t adv;               /* index into world.advs */
	uint16_t year;              /* UTC year of initial_release_date */
	uint8_t dir;                /* enum view_tlpdir */
	struct pol_decision dec;    /* the permit and its determining rules */
};

struct view_year {
	uint16_t year;
	uint32_t first, count;      /* range of view.docs */
};

struct view_dir {
	uint32_t first_year, nyears; /* range of view.years; nyears 0: folder absent */
	char *index_txt;            /* generated, exact bytes */
	size_t index_len;
	char *changes_csv;
	size_t changes_len;
	int64_t mtime;              /* newest current_release_date inside */
};

struct view {
	const struct world *w;      /* not owned */
	uint32_t org;
	int64_t t;
	struct view_doc *docs;      /* sorted by dir, year, file name */
	uint32_t ndocs;
	struct view_year *years;    /* sorted by dir, year */
	uint32_t nyears;
	struct view_dir dirs[VIEW_NDIRS];
	int64_t mtime;              /* newest current_release_date of any doc */
};

/*
 * Build the view of recipient org (index into w->orgs) at time t.  The
 * caller owns *ret_view (view_free()); w and p must outlive it only while
 * building, except that the view keeps the pointer w (docs refer to it).
 * Returns 0 or -ENOMEM.
 */
int view_build(const struct policy *p, const struct world *w, uint32_t org, int64_t t,
	       struct view **ret_view);
void view_free(struct view *v);

/* Folder name of a dir ("white", ...). */
const char *view_dir_name(int dir);
/* Dir index for a folder name, or -1. */
int view_dir_find(const char *name);
/* Range lookup: index into v->years of (dir, year), or -1. */
int view_year_find(const struct view *v, int dir, int year);
/* Index into v->docs of file name (without suffix) within a year, or -1. */
int view_doc_find(const struct view *v, int year_idx, const char *filename);

/*
 * Content of a generated per-document file (.sha256 or .sha512):
 * "<hex>  <name>.json\n".  Writes into buf (at least 200 bytes) and
 * returns the length.
 */
size_t view_hash_line(const struct view *v, uint32_t doc, int kind, char *buf, size_t buflen);

/* Size of each kind of file of a doc (exact, known before any read). */
int64_t view_file_size(const struct view *v, uint32_t doc, int kind);

/* Print every file path of the view, one per line, sorted (the output of
 * `advisoryfs visible`).  JSON (array of objects) when json is set. */
int view_print(const struct view *v, const struct policy *p, int json, FILE *f);

#endif
