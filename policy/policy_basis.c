/*
 * A rule's basis is the project's public statement of why a disclosure was
 * lawful: it travels in user.advisoryfs.basis, in explain and in every
 * ledger entry.  It must cite a public source (an article, a regulation
 * with its Staatscourant reference, FIRST TLP 2.0, a CSAF 2.0 section),
 * never a file of the advisoryfs sources, which means nothing to a
 * recipient, an auditor or a court.  policy_basis_names_file() finds the
 * word that names a file or a path, for `policy check` to warn about.
 */
#include "policy.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Extensions of documents and sources; digits are not among them, so
 * "3.2.1.12.7" and "art. 3.1" stay citations. */
static const char *const file_ext[] = {
	"md",  "markdown", "txt",  "rst", "adoc", "org",  "c",    "h",   "py",
	"sh",  "json",     "yaml", "yml", "toml", "ini",  "conf", "cfg", "html",
	"htm", "pdf",      "doc",  "docx", "odt", "xml",  "csv",  "in",  NULL,
};

static int opening(int c)
{
	return c == '(' || c == '[' || c == '{' || c == '\'' || c == '"' || c == '`' || c == '<';
}

static int closing(int c)
{
	return c == ')' || c == ']' || c == '}' || c == '\'' || c == '"' || c == '`' ||
	       c == '>' || c == ',' || c == ';' || c == ':' || c == '.' || c == '!' || c == '?';
}

/* One word, without the punctuation around it (*wp, *np are narrowed to
 * it): does it name a file? */
static int word_names_file(const char **wp, size_t *np)
{
	const char *w = *wp;
	size_t n = *np;
	while (n && opening((unsigned char)*w))
		w++, n--;
	while (n && closing((unsigned char)w[n - 1]))
		n--;
	*wp = w;
	*np = n;
	if (!n || memmem(w, n, "://", 3))
		return 0; /* a URL is a public source */
	if (w[0] == '/' || (n > 1 && w[0] == '~' && w[1] == '/') ||
	    (n > 2 && !memcmp(w, "./", 2)) || (n > 3 && !memcmp(w, "../", 3)))
		return 1;
	size_t slashes = 0, dot = n;
	for (size_t i = 0; i < n; i++) {
		slashes += w[i] == '/';
		if (w[i] == '.')
			dot = i;
	}
	if (slashes >= 2)
		return 1; /* a/b/c */
	if (dot == 0 || dot >= n - 1)
		return 0;
	size_t elen = n - dot - 1;
	for (const char *const *e = file_ext; *e; e++)
		if (strlen(*e) == elen && !strncasecmp(w + dot + 1, *e, elen))
			return isalnum((unsigned char)w[dot - 1]) || w[dot - 1] == '_' ||
			       w[dot - 1] == '-';
	return 0;
}

int policy_basis_names_file(const char *basis, char *what, size_t whatlen)
{
	const char *s = basis;
	while (*s) {
		while (*s && isspace((unsigned char)*s))
			s++;
		const char *w = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		size_t n = (size_t)(s - w);
		if (n && word_names_file(&w, &n)) {
			if (whatlen) {
				size_t k = n < whatlen - 1 ? n : whatlen - 1;
				memcpy(what, w, k);
				what[k] = '\0';
			}
			return 1;
		}
	}
	return 0;
}
