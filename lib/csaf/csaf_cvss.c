/*
 * csaf_cvss.c - 6.1.9 Invalid CVSS computation: the scores (and for CVSS v3
 * the severities) given next to a vector string are the ones its metrics
 * compute to.
 *
 * The formulas are those of FIRST's specifications: CVSS v2.0 (section 3.2,
 * with the reference validator's integer-scaled environmental equation),
 * CVSS v3.0 (section 8, Roundup as the smallest number of one decimal not
 * below its input) and CVSS v3.1 (section 7 and Appendix A, Roundup over an
 * integer of five decimals).  Every operation is done in IEEE double in the
 * order that the reference calculators use, and each score is rounded to one
 * decimal the way ECMAScript's toFixed(1) rounds (exact decimal value, ties
 * away from zero), so that both agree bit for bit.
 *
 * When does the test apply (the reference validator's choices): CVSS v2 when
 * the vector holds AV, AC, Au, C, I and A as consecutive metrics in that
 * order (the later value of a repeated metric counts); CVSS v3 when version
 * is 3.0 or 3.1, no metric is repeated and every base metric is given.  A
 * score or severity that is absent is not checked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "csaf_internal.h"

/* ECMAScript Math.round: the nearest integer, ties towards +infinity. */
static double js_round(double x)
{
	double f = floor(x);
	return x - f >= 0.5 ? f + 1 : f;
}

/* Number(x.toFixed(1)): x rounded to one decimal on its exact decimal value,
 * ties away from zero. */
static double js_fixed1(double x)
{
	char buf[400];
	int neg = x < 0;
	if (!isfinite(x) || fabs(x) >= 1e15)
		return x;
	snprintf(buf, sizeof(buf), "%.60f", fabs(x));
	char *dot = strchr(buf, '.');
	if (!dot)
		return x;
	double n = strtod(buf, NULL);
	n = floor(n) * 10 + (dot[1] - '0') + (dot[2] >= '5' ? 1 : 0);
	n /= 10;
	return neg ? -n : n;
}

/* ---- CVSS v2 ----------------------------------------------------------------------------- */

struct v2_weight {
	const char *key, *val;
	double w;
};

static const struct v2_weight v2_weights[] = {
	{ "AV", "L", 0.395 },  { "AV", "A", 0.646 },  { "AV", "N", 1.0 },    { "AC", "H", 0.35 },
	{ "AC", "M", 0.61 },   { "AC", "L", 0.71 },   { "Au", "M", 0.45 },   { "Au", "S", 0.56 },
	{ "Au", "N", 0.704 },  { "C", "N", 0.0 },     { "C", "P", 0.275 },   { "C", "C", 0.66 },
	{ "I", "N", 0.0 },     { "I", "P", 0.275 },   { "I", "C", 0.66 },    { "A", "N", 0.0 },
	{ "A", "P", 0.275 },   { "A", "C", 0.66 },    { "E", "U", 0.85 },    { "E", "POC", 0.9 },
	{ "E", "F", 0.95 },    { "E", "H", 1.0 },     { "E", "ND", 1.0 },    { "RL", "OF", 0.87 },
	{ "RL", "TF", 0.9 },   { "RL", "W", 0.95 },   { "RL", "U", 1.0 },    { "RL", "ND", 1.0 },
	{ "RC", "UC", 0.9 },   { "RC", "UR", 0.95 },  { "RC", "C", 1.0 },    { "RC", "ND", 1.0 },
	{ "CDP", "N", 0.0 },   { "CDP", "L", 0.1 },   { "CDP", "LM", 0.3 },  { "CDP", "MH", 0.4 },
	{ "CDP", "H", 0.5 },   { "CDP", "ND", 0.0 },  { "TD", "N", 0.0 },    { "TD", "L", 0.25 },
	{ "TD", "M", 0.75 },   { "TD", "H", 1.0 },    { "TD", "ND", 1.0 },   { "CR", "L", 0.5 },
	{ "CR", "M", 1.0 },    { "CR", "H", 1.51 },   { "CR", "ND", 1.0 },   { "IR", "L", 0.5 },
	{ "IR", "M", 1.0 },    { "IR", "H", 1.51 },   { "IR", "ND", 1.0 },   { "AR", "L", 0.5 },
	{ "AR", "M", 1.0 },    { "AR", "H", 1.51 },   { "AR", "ND", 1.0 },
};

/* A vector split into its metrics (at most 64 are looked at). */
struct vec {
	size_t n;
	struct {
		const char *k, *v;
		size_t kl, vl;
	} m[64];
};

static void vec_split(struct vec *v, const char *s)
{
	v->n = 0;
	while (*s && v->n < sizeof(v->m) / sizeof(*v->m)) {
		size_t len = strcspn(s, "/");
		const char *colon = memchr(s, ':', len);
		if (colon) {
			v->m[v->n].k = s;
			v->m[v->n].kl = (size_t)(colon - s);
			v->m[v->n].v = colon + 1;
			v->m[v->n].vl = len - v->m[v->n].kl - 1;
			v->n++;
		}
		s += len;
		if (*s)
			s++;
	}
}

static int is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && !strncmp(s, lit, n);
}

/* The value of metric key (the last one given), or NULL; its length in *len. */
static const char *vec_get(const struct vec *v, const char *key, size_t *len)
{
	for (size_t i = v->n; i-- > 0;)
		if (is(v->m[i].k, v->m[i].kl, key)) {
			*len = v->m[i].vl;
			return v->m[i].v;
		}
	return NULL;
}

/* The weight of a v2 metric: the default ND when absent, 0 for an unknown value. */
static double v2w(const struct vec *v, const char *key)
{
	size_t len;
	const char *val = vec_get(v, key, &len);
	if (!val)
		val = "ND", len = 2;
	for (size_t i = 0; i < sizeof(v2_weights) / sizeof(*v2_weights); i++)
		if (!strcmp(v2_weights[i].key, key) && is(val, len, v2_weights[i].val))
			return v2_weights[i].w;
	return 0;
}

/* AV, AC, Au, C, I, A next to each other, in this order. */
static int v2_applies(const struct vec *v)
{
	static const char *const base[] = { "AV", "AC", "Au", "C", "I", "A" };
	for (size_t i = 0; i + 6 <= v->n; i++) {
		size_t j = 0;
		while (j < 6 && is(v->m[i + j].k, v->m[i + j].kl, base[j]))
			j++;
		if (j == 6)
			return 1;
	}
	return 0;
}

static double mkint(double x)
{
	return js_round(x * 1000);
}

static double mkflt(double x)
{
	return x / 1000;
}

static double quick_round(double x)
{
	return js_round(x * 10) / 10;
}

/* Base, temporal and environmental score of a v2 vector. */
static void v2_scores(const struct vec *v, double out[3])
{
	double c = v2w(v, "C"), i = v2w(v, "I"), a = v2w(v, "A");
	double av = v2w(v, "AV"), ac = v2w(v, "AC"), au = v2w(v, "Au");
	double e = v2w(v, "E"), rl = v2w(v, "RL"), rc = v2w(v, "RC");

	double impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a));
	double expl = 20 * av * ac * au;
	out[0] = js_fixed1(((0.6 * impact) + (0.4 * expl) - 1.5) * (impact == 0 ? 0 : 1.176));
	out[1] = js_fixed1(out[0] * e * rl * rc);

	/* environmental: the equations on values scaled to integers of three decimals */
	double imp = 10.41 * mkflt(mkint(1.0) - mkint(mkflt(mkint(1.0) - mkint(c)) *
						     mkflt(mkint(1.0) - mkint(i)) *
						     mkflt(mkint(1.0) - mkint(a))));
	double ex = 20.0 * ac * au * av;
	double fimp = imp > 0 ? 1.176 : 0;
	double base = quick_round(mkflt(mkint(0.6 * imp) + mkint(0.4 * ex) - mkint(1.5)) * fimp);
	size_t len;
	if (!vec_get(v, "CDP", &len) && !vec_get(v, "TD", &len) && !vec_get(v, "CR", &len) &&
	    !vec_get(v, "IR", &len) && !vec_get(v, "AR", &len)) {
		out[2] = base;
		return;
	}
	double adj = fmin(10, 10.41 * mkflt(mkint(1.0) -
					    mkint(mkflt(mkint(1.0) - mkint(c * v2w(v, "CR"))) *
						  (mkflt(mkint(1.0) - mkint(i * v2w(v, "IR"))) *
						   mkflt(mkint(1.0) - mkint(a * v2w(v, "AR")))))));
	double adj_base = quick_round(mkflt(mkint(0.6 * adj) + mkint(0.4 * ex) - mkint(1.5)) * fimp);
	double adj_temp = quick_round(adj_base * e * rl * rc);
	out[2] = quick_round(mkflt(mkint(adj_temp) +
				   mkint(mkflt(mkint(10) - mkint(adj_temp)) * v2w(v, "CDP"))) *
			     v2w(v, "TD"));
}

/* ---- CVSS v3.0 and v3.1 ------------------------------------------------------------------ */

static const char *const v3_keys[] = { "AV", "AC", "PR", "UI", "S", "C", "I", "A",
				       "E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC",
				       "MPR", "MUI", "MS", "MC", "MI", "MA" };
enum { AV, AC, PR, UI, S, C, I, A, E, RL, RC, CR, IR, AR, MAV, MAC, MPR, MUI, MS, MC, MI, MA, NKEYS };

/* Weight of value ch among vals (a letter each) with weights w, or -1. */
static double pick(char ch, const char *vals, const double *w)
{
	const char *p = strchr(vals, ch);
	return ch && p ? w[p - vals] : -1;
}

static double w_av(char ch)
{
	return pick(ch, "NALP", (const double[]){ 0.85, 0.62, 0.55, 0.2 });
}

static double w_ac(char ch)
{
	return pick(ch, "HL", (const double[]){ 0.44, 0.77 });
}

static double w_pr(char ch, char scope)
{
	return scope == 'C' ? pick(ch, "NLH", (const double[]){ 0.85, 0.68, 0.5 })
			    : pick(ch, "NLH", (const double[]){ 0.85, 0.62, 0.27 });
}

static double w_ui(char ch)
{
	return pick(ch, "NR", (const double[]){ 0.85, 0.62 });
}

static double w_s(char ch)
{
	return pick(ch, "UC", (const double[]){ 6.42, 7.52 });
}

static double w_cia(char ch)
{
	return pick(ch, "NLH", (const double[]){ 0, 0.22, 0.56 });
}

static double roundup(double x, int v31)
{
	if (!v31)
		return ceil(x * 10) / 10;
	double n = js_round(x * 100000);
	if (fmod(n, 10000) == 0)
		return n / 100000;
	return (floor(n / 10000) + 1) / 10;
}

/* Base, temporal and environmental scores of a v3 vector (after
 * "CVSS:3.x/"); 0 when the calculator refuses it. */
static int v3_scores(const struct vec *v, int v31, double out[3])
{
	char m[NKEYS] = { 0 };
	for (size_t i = 0; i < v->n; i++) {
		size_t k;
		for (k = 0; k < NKEYS; k++)
			if (is(v->m[i].k, v->m[i].kl, v3_keys[k]))
				break;
		if (k == NKEYS || v->m[i].vl != 1)
			return 0; /* the schema's pattern rules this out */
		if (m[k])
			return 0; /* a metric given twice */
		m[k] = v->m[i].v[0];
	}
	for (size_t k = E; k < NKEYS; k++)
		if (!m[k])
			m[k] = 'X';
	for (size_t k = AV; k <= A; k++)
		if (!m[k])
			return 0;
	double wav = w_av(m[AV]), wac = w_ac(m[AC]), wpr = w_pr(m[PR], m[S]), wui = w_ui(m[UI]);
	double ws = w_s(m[S]), wc = w_cia(m[C]), wi = w_cia(m[I]), wa = w_cia(m[A]);
	double we = pick(m[E], "XUPFH", (const double[]){ 1, 0.91, 0.94, 0.97, 1 });
	double wrl = pick(m[RL], "XOTWU", (const double[]){ 1, 0.95, 0.96, 0.97, 1 });
	double wrc = pick(m[RC], "XURC", (const double[]){ 1, 0.92, 0.96, 1 });
	static const double ciar[] = { 1, 0.5, 1, 1.5 };
	double wcr = pick(m[CR], "XLMH", ciar), wir = pick(m[IR], "XLMH", ciar);
	double war = pick(m[AR], "XLMH", ciar);
	char ms = m[MS] != 'X' ? m[MS] : m[S];
	double wmav = w_av(m[MAV] != 'X' ? m[MAV] : m[AV]);
	double wmac = w_ac(m[MAC] != 'X' ? m[MAC] : m[AC]);
	double wmpr = w_pr(m[MPR] != 'X' ? m[MPR] : m[PR], ms);
	double wmui = w_ui(m[MUI] != 'X' ? m[MUI] : m[UI]);
	double wms = w_s(ms);
	double wmc = w_cia(m[MC] != 'X' ? m[MC] : m[C]);
	double wmi = w_cia(m[MI] != 'X' ? m[MI] : m[I]);
	double wma = w_cia(m[MA] != 'X' ? m[MA] : m[A]);
	if (wav < 0 || wac < 0 || wpr < 0 || wui < 0 || ws < 0 || wc < 0 || wi < 0 || wa < 0 ||
	    we < 0 || wrl < 0 || wrc < 0 || wcr < 0 || wir < 0 || war < 0 || wmav < 0 ||
	    wmac < 0 || wmpr < 0 || wmui < 0 || wms < 0 || wmc < 0 || wmi < 0 || wma < 0)
		return 0;

	double iss = 1 - ((1 - wc) * (1 - wi) * (1 - wa)), impact, base;
	if (m[S] == 'U')
		impact = ws * iss;
	else
		impact = ws * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15);
	double expl = 8.22 * wav * wac * wpr * wui;
	if (impact <= 0)
		base = 0;
	else if (m[S] == 'U')
		base = roundup(fmin(expl + impact, 10), v31);
	else
		base = roundup(fmin(1.08 * (expl + impact), 10), v31);
	double temporal = roundup(base * we * wrl * wrc, v31);

	double miss = fmin(1 - ((1 - wmc * wcr) * (1 - wmi * wir) * (1 - wma * war)), 0.915);
	double mimpact, env;
	int unchanged = ms == 'U';
	if (unchanged)
		mimpact = wms * miss;
	else if (v31)
		mimpact = wms * (miss - 0.029) - 3.25 * pow(miss * 0.9731 - 0.02, 13);
	else
		mimpact = wms * (miss - 0.029) - 3.25 * pow(miss - 0.02, 15);
	double mexpl = 8.22 * wmav * wmac * wmpr * wmui;
	if (mimpact <= 0)
		env = 0;
	else if (unchanged)
		env = roundup(roundup(fmin(mimpact + mexpl, 10), v31) * we * wrl * wrc, v31);
	else
		env = roundup(roundup(fmin(1.08 * (mimpact + mexpl), 10), v31) * we * wrl * wrc, v31);
	out[0] = js_fixed1(base);
	out[1] = js_fixed1(temporal);
	out[2] = js_fixed1(env);
	return 1;
}

/* The qualitative rating of a v3 score (CVSS v3.1 section 5). */
static const char *severity(double s)
{
	return s == 0 ? "NONE" : s < 4 ? "LOW" : s < 7 ? "MEDIUM" : s < 9 ? "HIGH" : "CRITICAL";
}

/* ---- the test ---------------------------------------------------------------------------- */

int csaf_cvss_check(const char *vector, int version, double out[3])
{
	struct vec v;
	if (version == 2) {
		vec_split(&v, vector);
		if (!v2_applies(&v))
			return 0;
		v2_scores(&v, out);
		return 1;
	}
	const char *prefix = version == 31 ? "CVSS:3.1/" : "CVSS:3.0/";
	if (strncmp(vector, prefix, strlen(prefix)))
		return 0;
	vec_split(&v, vector + strlen(prefix));
	return v3_scores(&v, version == 31, out);
}

static const char *const score_names[] = { "baseScore", "temporalScore", "environmentalScore" };
static const char *const severity_names[] = { "baseSeverity", "temporalSeverity",
					      "environmentalSeverity" };

static int one(struct csaf_mt *m, const cJSON *cvss, int version, size_t vi, size_t si,
	       const char *which)
{
	const char *vec = str(cvss, "vectorString");
	double want[3];
	if (!vec || !csaf_cvss_check(vec, version, want))
		return 1;
	for (int k = 0; k < 3; k++) {
		const cJSON *have = get(cvss, score_names[k]);
		if (cJSON_IsNumber(have) && have->valuedouble != want[k])
			return csaf_mt_fail(m, "6.1.9", "vulnerabilities[%zu].scores[%zu].%s.%s: %g, "
					    "but the vector string computes to %.1f", vi, si, which,
					    score_names[k], have->valuedouble, want[k]);
		const char *sev = version == 2 ? NULL : str(cvss, severity_names[k]);
		if (sev && strcmp(sev, severity(want[k])))
			return csaf_mt_fail(m, "6.1.9", "vulnerabilities[%zu].scores[%zu].%s.%s: '%s', "
					    "but the vector string computes to %.1f (%s)", vi, si,
					    which, severity_names[k], sev, want[k], severity(want[k]));
	}
	return 1;
}

/* 6.1.9 Invalid CVSS computation */
int csaf_mt_cvss_scores(struct csaf_mt *m)
{
	return csaf_mt_each_cvss(m, one);
}
