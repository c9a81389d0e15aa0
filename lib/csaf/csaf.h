/*
 * csaf.h - what advisoryfs needs to know about a CSAF 2.0 document.
 *
 * csaf_parse() checks a document against the publishing rules of SPEC.md
 * section 1 (required fields and their types, RFC 3339 dates, TLP) and the
 * input limits below, and extracts the fields the store and the policy use.
 * It never modifies or re-serialises the bytes: the store keeps the input
 * exactly as given.
 *
 * csaf_filename() is the file-name rule of CSAF 2.0 section 5.1.
 * csaf_version_cmp() orders tracking.version values (integer or semver).
 * csaf_dist_parse() reads a FILE.json.dist.json companion (distribution
 * metadata, the same fields as the publish flags).
 */
#ifndef ADVISORYFS_CSAF_H
#define ADVISORYFS_CSAF_H

#include <stddef.h>
#include <stdint.h>

/* Input limits; every refusal names the limit it hit. */
#define CSAF_MAX_DOC_BYTES   (16u << 20) /* one document */
#define CSAF_MAX_DEPTH       64          /* JSON nesting */
#define CSAF_MAX_STRING      (1u << 20)  /* any JSON string, bytes */
#define CSAF_MAX_ID_LEN      256         /* tracking.id, tracking.version */
#define CSAF_MAX_TITLE_LEN   4096
#define CSAF_MAX_CONCERNS    256         /* concerned organisations per document */
#define CSAF_MAX_SECTORS     64          /* sectors per document */
#define CSAF_MAX_DIST_BYTES  (64u << 10) /* a .dist.json file */
#define CSAF_MAX_FILENAME    255         /* CSAF file name incl. ".json" */

/* TLP labels in tightening order; CSAF's WHITE is CLEAR. */
enum csaf_tlp {
	CSAF_TLP_NONE = -1,
	CSAF_TLP_CLEAR = 0,
	CSAF_TLP_GREEN = 1,
	CSAF_TLP_AMBER = 2,
	CSAF_TLP_AMBER_STRICT = 3,
	CSAF_TLP_RED = 4,
};

enum csaf_status {
	CSAF_STATUS_DRAFT = 0,
	CSAF_STATUS_INTERIM = 1,
	CSAF_STATUS_FINAL = 2,
};

/* Fields extracted from a valid document.  Strings are NUL-terminated
 * copies owned by the struct; release with csaf_doc_release(). */
struct csaf_doc {
	char *tracking_id;
	char *version;       /* tracking.version as written */
	char *title;
	char *publisher;     /* document.publisher.name */
	char *category;      /* document.category */
	enum csaf_status status;
	enum csaf_tlp tlp;   /* CSAF_TLP_NONE when the document has no label */
	int64_t initial_release;
	int64_t current_release;
	char filename[CSAF_MAX_FILENAME + 1]; /* section 5.1 name, with ".json" */
};

/*
 * Validate bytes[0..len) and fill ret_doc.  On failure returns -EINVAL
 * (or -E2BIG for a limit) and writes a one-line reason, without the file
 * name, into err (e.g. "document.tracking.version: missing").
 */
int csaf_parse(const char *bytes, size_t len, struct csaf_doc *ret_doc, char *err, size_t errlen);

/*
 * csaf_parse() with flags.  CSAF_CONFORM also checks, on the same parsed
 * tree, the CSAF 2.0 JSON schema (its strict form: no unknown members) and
 * the mandatory tests of section 6.1; the first failure is reported as
 * "PATH: schema: RULE" or "PATH: 6.1.N: WHY".  This is what publish and
 * import require.
 */
#define CSAF_CONFORM 1u
int csaf_parse_opts(const char *bytes, size_t len, unsigned flags, struct csaf_doc *ret_doc,
		    char *err, size_t errlen);
void csaf_doc_release(struct csaf_doc *doc);

/*
 * CSAF 2.0 section 5.1: lowercase tracking.id, replace every run of
 * characters outside [+\-a-z0-9] with one '_', append ".json".
 * Returns 0, -EINVAL for an empty id, or -ENAMETOOLONG.
 */
int csaf_filename(const char *tracking_id, char *out, size_t outlen);

/*
 * Order two tracking.version values: both integer ("1", "12"), or both
 * semantic versions ("1.0.0", "1.0.0-rc.1+build") by semver precedence.
 * Returns 0 and sets *ret_cmp to <0, 0, >0; -EINVAL if either is not a
 * valid version or the two use different schemes.  Equal precedence with
 * different build metadata compares equal.
 */
int csaf_version_cmp(const char *a, const char *b, int *ret_cmp);
/* 1 when v is a valid CSAF version string (integer or semver), else 0. */
int csaf_version_valid(const char *v);

/* TLP from a label: "CLEAR"/"WHITE", "GREEN", "AMBER", "AMBER+STRICT",
 * "RED", case-insensitive.  Returns CSAF_TLP_NONE if unknown. */
enum csaf_tlp csaf_tlp_parse(const char *label);
/* Canonical label ("CLEAR", ..., "AMBER+STRICT", "RED"). */
const char *csaf_tlp_name(enum csaf_tlp tlp);
/* Folder of SPEC.md section 2: white, green, amber (also AMBER+STRICT), red.
 * NULL for CSAF_TLP_NONE or a value outside the enum. */
const char *csaf_tlp_dir(enum csaf_tlp tlp);
const char *csaf_status_name(enum csaf_status s);

/* Distribution metadata: publish flags, or a .dist.json file.  Strings
 * owned by the struct; release with csaf_dist_release(). */
struct csaf_dist {
	enum csaf_tlp tlp;          /* CSAF_TLP_NONE: not given */
	char **concerns;            /* organisation slugs */
	size_t nconcerns;
	char **sectors;
	size_t nsectors;
	int personal_data;          /* 0/1 */
	int impact_significant;     /* 0/1 */
	int64_t embargo_until;      /* AU_T_MIN: none */
};

/*
 * Parse a .dist.json document:
 *   {"tlp": "AMBER+STRICT", "concerns": ["acme"], "sectors": ["health"],
 *    "personal_data": true, "impact": "significant",
 *    "embargo_until": "2024-05-01T00:00:00Z"}
 * every key optional; unknown keys, wrong types, bad slugs, bad times and
 * exceeded limits are refused with the key named in err.  Returns 0 or
 * -EINVAL/-E2BIG.  ret_dist is initialised by this function; on failure
 * it is left initialised and empty, so csaf_dist_release() is always safe.
 */
int csaf_dist_parse(const char *bytes, size_t len, struct csaf_dist *ret_dist, char *err,
		    size_t errlen);
void csaf_dist_init(struct csaf_dist *d);
void csaf_dist_release(struct csaf_dist *d);

#endif
