/*
 * policy_explain.c - explain one decision so that a lawyer can check it.
 *
 * The explanation is built once as a cJSON tree (the --json output) and the
 * text form is rendered from that tree, so both always say the same thing.
 * It lists the recipient's dated roles and memberships, the advisory's
 * distribution facts, then every rule: its effect, legal basis, notes,
 * whether it was in force at t and, for every condition, whether it held
 * and the facts behind it; then the built-in guards, the outcome and the
 * determining rules.  The outcome is policy_decide()'s; the per-rule
 * evaluation walks the condition tree over the same fact vector, so the
 * two can be compared (tests/unit/test_policy.c does).
 *
 * Sections: text helpers; facts of one atom; condition trees; rules and
 * header; text rendering; policy_explain.
 */
#include "policy.h"
#include "policy_internal.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EX_LIST_MAX 20  /* items of a list printed before "and N more" */

struct ex {
	const struct policy *p;
	const struct world *w;
	uint32_t org;
	const struct w_org *o;
	const struct w_adv *a;
	int64_t t;
	uint64_t f;             /* full fact vector */
	char tt[AU_TIME_LEN];   /* t, formatted */
	int oom;
	/* Named conditions: each is written out once per rule, and its value
	 * (fixed for one explanation) computed once; without this a chain of
	 * conditions that each use the next several times would explode. */
	int8_t cond_value[POL_MAX_CONDS];   /* -1 unknown, else 0/1 */
	uint64_t cond_shown;                /* written out in the current rule */
};

/* ---- text helpers ---- */

struct sb {
	char buf[2048];
	size_t n;
};

/* Append to sb; output that does not fit is cut and marked with "...". */
__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *s, const char *fmt, ...)
{
	size_t room = sizeof(s->buf) - s->n;
	if (room <= 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->buf + s->n, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		s->n = sizeof(s->buf) - 1;
		memcpy(s->buf + s->n - 3, "...", 3);
	} else {
		s->n += (size_t)n;
	}
}

static void sb_init(struct sb *s)
{
	s->n = 0;
	s->buf[0] = '\0';
}

/* A period bound: a date alone when it falls on a day boundary (start of
 * day for from, last second for until), else the full time; "open". */
static const char *fmt_bound(int64_t t, int is_until, char buf[AU_TIME_LEN])
{
	if (t == AU_T_MIN || t == AU_T_MAX) {
		snprintf(buf, AU_TIME_LEN, "open");
		return buf;
	}
	au_format_time(t, buf);
	int64_t s = is_until ? t + 1 : t;
	if (((s % 86400) + 86400) % 86400 == 0 && strlen(buf) == AU_TIME_LEN - 1)
		buf[10] = '\0';
	return buf;
}

static void sb_period(struct sb *s, int64_t from, int64_t until)
{
	char b1[AU_TIME_LEN], b2[AU_TIME_LEN];
	if (from == AU_T_MIN && until == AU_T_MAX)
		sb_printf(s, "always");
	else if (until == AU_T_MAX)
		sb_printf(s, "from %s", fmt_bound(from, 0, b1));
	else if (from == AU_T_MIN)
		sb_printf(s, "until %s", fmt_bound(until, 1, b2));
	else
		sb_printf(s, "from %s until %s", fmt_bound(from, 0, b1), fmt_bound(until, 1, b2));
}

static const char *period_state(int64_t t, int64_t from, int64_t until)
{
	if (t < from)
		return "not yet in force";
	if (t > until)
		return "ended";
	return "in force";
}

static void sb_names(struct sb *s, const struct policy *p, int roles, uint64_t set)
{
	int first = 1;
	for (int i = 0; i < 64; i++) {
		if (!(set >> i & 1))
			continue;
		const char *nm = roles ? policy_role_name(p, i) : policy_sector_name(p, i);
		sb_printf(s, "%s%s", first ? "" : ", ", nm ? nm : "?");
		first = 0;
	}
	if (first)
		sb_printf(s, "none");
}

static void sb_labels(struct sb *s, const char *const *names, int n, uint64_t set)
{
	int first = 1;
	for (int i = 0; i < n; i++)
		if (set >> i & 1) {
			sb_printf(s, "%s%s", first ? "" : ", ", names[i]);
			first = 0;
		}
}

static const char *slug(const struct ex *e, uint32_t o)
{
	return o < e->w->norgs ? e->w->orgs[o].slug : "?";
}

static void sb_concerns(struct sb *s, const struct ex *e)
{
	const struct w_adv *a = e->a;
	if (!a->nconcerns) {
		sb_printf(s, "none");
		return;
	}
	for (uint32_t i = 0; i < a->nconcerns && i < EX_LIST_MAX; i++)
		sb_printf(s, "%s%s", i ? ", " : "", slug(e, a->concerns[i]));
	if (a->nconcerns > EX_LIST_MAX)
		sb_printf(s, " and %u more", a->nconcerns - EX_LIST_MAX);
}

/* ---- facts of one atom ---- */

/* The fact an atom tests, before its required value is applied. */
static int atom_fact(const struct ex *e, const struct pol_node *n)
{
	if (n->atom == PA_TLP)
		return ((e->f >> PF_TLP0) & n->set) != 0;
	if (n->atom == PA_STATUS)
		return ((e->f >> PF_STATUS0) & n->set) != 0;
	return (e->f >> n->bit) & 1;
}

/* "recipient holds role csirt at T" and its facts, into s. */
static void atom_text(const struct ex *e, const struct pol_node *n, int fact, struct sb *s)
{
	const struct policy *p = e->p;
	const struct w_org *o = e->o;
	const struct w_adv *a = e->a;
	const int64_t t = e->t;
	char b1[AU_TIME_LEN];
	int many = __builtin_popcountll(n->set) > 1, cnt = 0;
	const char *yn = fact ? "yes" : "no";

	switch (n->atom) {
	case PA_ROLE:
		sb_printf(s, "recipient holds %s ", many ? "one of the roles" : "role");
		sb_names(s, p, 1, n->set);
		sb_printf(s, " at %s: %s (", e->tt, yn);
		if (e->org == W_PUBLIC) {
			sb_printf(s, "the public holds no role)");
			break;
		}
		for (uint32_t i = 0; i < o->nroles; i++) {
			const struct w_role *r = &o->roles[i];
			if (r->role >= 64 || !(n->set >> r->role & 1))
				continue;
			sb_printf(s, "%s%s ", cnt++ ? "; " : "", policy_role_name(p, r->role));
			sb_period(s, r->from, r->until);
			if (r->ref)
				sb_printf(s, ", ref %s", r->ref);
			sb_printf(s, ": %s at t", period_state(t, r->from, r->until));
		}
		if (!cnt) {
			sb_printf(s, "no grant of ");
			sb_names(s, p, 1, n->set);
		}
		sb_printf(s, ")");
		break;
	case PA_SECTOR:
		sb_printf(s, "recipient is in %s ", many ? "one of the sectors" : "sector");
		sb_names(s, p, 0, n->set);
		sb_printf(s, ": %s (recipient sectors: ", yn);
		sb_names(s, p, 0, e->org == W_PUBLIC ? 0 : o->sectors);
		sb_printf(s, ")");
		break;
	case PA_PUBLIC:
		sb_printf(s, "recipient is the public: %s (recipient: %s)", yn, o->slug);
		break;
	case PA_REACHED_BY:
		sb_printf(s, "recipient is at %s a member of an organisation that holds %s ", e->tt,
			  many ? "one of the roles" : "role");
		sb_names(s, p, 1, n->set);
		sb_printf(s, " at that time: %s (", yn);
		for (uint32_t i = 0; e->org != W_PUBLIC && i < o->nmember_of; i++) {
			const struct w_member *m = &o->member_of[i];
			if (cnt == EX_LIST_MAX) {
				sb_printf(s, "; and %u more", o->nmember_of - i);
				break;
			}
			sb_printf(s, "%smember of %s ", cnt++ ? "; " : "", slug(e, m->org));
			sb_period(s, m->from, m->until);
			sb_printf(s, ": %s at t", period_state(t, m->from, m->until));
			if (m->org < e->w->norgs)
				sb_printf(s, ", %s %s the role at t", slug(e, m->org),
					  pol_holds_role(&e->w->orgs[m->org], n->set, t) ? "holds"
											   : "does not hold");
		}
		if (!cnt)
			sb_printf(s, "member of no organisation");
		sb_printf(s, ")");
		break;
	case PA_TIME:
		sb_printf(s, "time %s lies in the period ", e->tt);
		sb_period(s, n->from, n->until);
		sb_printf(s, ": %s", yn);
		break;
	case PA_TLP:
		sb_printf(s, "advisory TLP is %s", many ? "one of " : "");
		sb_labels(s, pol_tlp_names, POL_NTLP, n->set);
		sb_printf(s, ": %s (TLP:%s)", yn,
			  pol_tlp_names[a->tlp < POL_NTLP ? a->tlp : POL_NTLP - 1]);
		break;
	case PA_STATUS:
		sb_printf(s, "advisory status is %s", many ? "one of " : "");
		sb_labels(s, pol_status_names, POL_NSTATUS, n->set);
		sb_printf(s, ": %s (status: %s)", yn,
			  pol_status_names[a->status < POL_NSTATUS ? a->status : 0]);
		break;
	case PA_PD:
		sb_printf(s, "advisory carries personal data: %s", yn);
		break;
	case PA_IMPACT:
		sb_printf(s, "advisory reports a (possibly) significant impact on continuity of "
			     "service: %s",
			  yn);
		break;
	case PA_GENERAL:
		sb_printf(s, "advisory is general, concerning no organisation and no sector: %s "
			     "(concerns: ",
			  yn);
		sb_concerns(s, e);
		sb_printf(s, "; sectors: ");
		sb_names(s, p, 0, a->sectors);
		sb_printf(s, ")");
		break;
	case PA_ADV_SECTOR:
		sb_printf(s, "advisory concerns %s ", many ? "one of the sectors" : "sector");
		sb_names(s, p, 0, n->set);
		sb_printf(s, ": %s (advisory sectors: ", yn);
		sb_names(s, p, 0, a->sectors);
		sb_printf(s, ")");
		break;
	case PA_RELEASED:
		sb_printf(s, "advisory is released at %s: %s (initial release %s)", e->tt, yn,
			  fmt_bound(a->initial_release, 0, b1));
		break;
	case PA_EMBARGOED:
		sb_printf(s, "advisory is under embargo at %s: %s (", e->tt, yn);
		if (a->embargo_until == AU_T_MIN) {
			sb_printf(s, "no embargo)");
		} else {
			au_format_time(a->embargo_until, b1);
			sb_printf(s, "embargo ends at %s)", b1);
		}
		break;
	case PA_WITHDRAWN:
		sb_printf(s, "advisory is withdrawn at %s: %s (", e->tt, yn);
		if (a->withdrawn_at == AU_T_MAX) {
			sb_printf(s, "not withdrawn)");
		} else {
			au_format_time(a->withdrawn_at, b1);
			sb_printf(s, "withdrawn at %s)", b1);
		}
		break;
	case PA_SHARED:
		sb_printf(s, "a special-case share of this advisory with the recipient was recorded "
			     "by %s: %s (",
			  e->tt, yn);
		for (uint32_t i = 0; i < a->nshares; i++) {
			if (a->shares[i].org != e->org)
				continue;
			au_format_time(a->shares[i].at, b1);
			sb_printf(s, "%sshare recorded at %s%s", cnt++ ? "; " : "", b1,
				  a->shares[i].at <= t ? "" : ", after t");
		}
		if (!cnt)
			sb_printf(s, "no share with this recipient recorded");
		sb_printf(s, ")");
		break;
	case PA_SELF:
		sb_printf(s, "advisory concerns the recipient itself: %s (concerns: ", yn);
		sb_concerns(s, e);
		sb_printf(s, ")");
		break;
	case PA_CSECTOR:
		sb_printf(s, "advisory concerns a sector of the recipient: %s (advisory sectors: ", yn);
		sb_names(s, p, 0, a->sectors);
		sb_printf(s, "; recipient sectors: ");
		sb_names(s, p, 0, e->org == W_PUBLIC ? 0 : o->sectors);
		sb_printf(s, ")");
		break;
	case PA_ORG_IN_SECTOR:
		sb_printf(s, "advisory concerns an organisation in a sector of the recipient: %s (",
			  yn);
		if (!a->nconcerns)
			sb_printf(s, "concerns: none");
		for (uint32_t i = 0; i < a->nconcerns && i < EX_LIST_MAX; i++) {
			uint32_t c = a->concerns[i];
			sb_printf(s, "%s%s in ", i ? "; " : "concerns: ", slug(e, c));
			sb_names(s, p, 0, c < e->w->norgs ? e->w->orgs[c].sectors : 0);
		}
		if (a->nconcerns > EX_LIST_MAX)
			sb_printf(s, "; and %u more", a->nconcerns - EX_LIST_MAX);
		sb_printf(s, "; recipient sectors: ");
		sb_names(s, p, 0, e->org == W_PUBLIC ? 0 : o->sectors);
		sb_printf(s, ")");
		break;
	case PA_MEMBER: {
		sb_printf(s, "advisory concerns an organisation in the recipient's constituency at %s: "
			     "%s (concerns: ",
			  e->tt, yn);
		sb_concerns(s, e);
		for (uint32_t i = 0; i < a->nconcerns && i < EX_LIST_MAX; i++) {
			uint32_t c = a->concerns[i];
			if (c >= e->w->norgs)
				continue;
			const struct w_org *co = &e->w->orgs[c];
			for (uint32_t k = 0; k < co->nmember_of; k++) {
				const struct w_member *m = &co->member_of[k];
				if (m->org != e->org)
					continue;
				sb_printf(s, "; %s is a member of %s ", co->slug, o->slug);
				sb_period(s, m->from, m->until);
				sb_printf(s, ": %s at t", period_state(t, m->from, m->until));
			}
		}
		uint32_t nm = 0;
		for (uint32_t i = 0; e->org != W_PUBLIC && i < o->nmembers; i++)
			if (o->members[i].from <= t && t <= o->members[i].until)
				nm++;
		if (nm)
			sb_printf(s, "; constituency of %s at t: %u member%s)", o->slug, nm,
				  nm == 1 ? "" : "s");
		else
			sb_printf(s, "; constituency of %s at t: none)", o->slug);
		break;
	}
	default:
		sb_printf(s, "unknown condition");
		break;
	}
}

/* ---- condition trees ---- */

/* A new object under parent (an object when key is set, else an array);
 * NULL, with e->oom set, when parent is NULL or memory runs out. */
static cJSON *jobj(struct ex *e, cJSON *parent, const char *key)
{
	if (!parent) {
		e->oom = 1;
		return NULL;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !(key ? cJSON_AddItemToObject(parent, key, o) : cJSON_AddItemToArray(parent, o))) {
		cJSON_Delete(o);
		e->oom = 1;
		return NULL;
	}
	return o;
}

static cJSON *jarr(struct ex *e, cJSON *parent, const char *key)
{
	cJSON *o = cJSON_CreateArray();
	if (!o || !parent || !cJSON_AddItemToObject(parent, key, o)) {
		cJSON_Delete(o);
		e->oom = 1;
		return NULL;
	}
	return o;
}

static void jstr(struct ex *e, cJSON *o, const char *key, const char *v)
{
	if (!o)
		return;
	if (!(v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key)))
		e->oom = 1;
}

static void jbool(struct ex *e, cJSON *o, const char *key, int v)
{
	if (o && !cJSON_AddBoolToObject(o, key, v))
		e->oom = 1;
}

static void jastr(struct ex *e, cJSON *arr, const char *v)
{
	cJSON *s = cJSON_CreateString(v ? v : "?");
	if (!arr || !s || !cJSON_AddItemToArray(arr, s)) {
		cJSON_Delete(s);
		e->oom = 1;
	}
}

/* A bound as JSON: the formatted time or null when open. */
static void jtime(struct ex *e, cJSON *o, const char *key, int64_t t, int is_until)
{
	char b[AU_TIME_LEN];
	jstr(e, o, key, t == AU_T_MIN || t == AU_T_MAX ? NULL : fmt_bound(t, is_until, b));
}

/* The parameter of an atom as written (names, bool, or a period). */
static void jparam(struct ex *e, cJSON *o, const struct pol_node *n)
{
	cJSON *arr;
	switch (n->atom) {
	case PA_ROLE:
	case PA_REACHED_BY:
	case PA_SECTOR:
	case PA_ADV_SECTOR:
	case PA_TLP:
	case PA_STATUS:
		if (!(arr = jarr(e, o, "value")))
			return;
		for (int i = 0; i < 64; i++) {
			if (!(n->set >> i & 1))
				continue;
			if (n->atom == PA_TLP)
				jastr(e, arr, pol_tlp_names[i]);
			else if (n->atom == PA_STATUS)
				jastr(e, arr, pol_status_names[i]);
			else if (n->atom == PA_SECTOR || n->atom == PA_ADV_SECTOR)
				jastr(e, arr, policy_sector_name(e->p, i));
			else
				jastr(e, arr, policy_role_name(e->p, i));
		}
		break;
	case PA_TIME:
		if (!(arr = jobj(e, o, "value")))
			return;
		jtime(e, arr, "from", n->from, 0);
		jtime(e, arr, "until", n->until, 1);
		break;
	default:
		jbool(e, o, "value", n->want);
		break;
	}
}

/* Evaluate node n into a new JSON object under parent; returns whether it holds. */
static int node_explain(struct ex *e, const struct pol_node *n, cJSON *parent, const char *key)
{
	cJSON *o = jobj(e, parent, key);
	int v = 0;
	switch (n->op) {
	case PN_ATOM: {
		struct sb s;
		sb_init(&s);
		int fact = atom_fact(e, n);
		v = n->want ? fact : !fact;
		atom_text(e, n, fact, &s);
		jstr(e, o, "condition", pol_atom_keys[n->atom]);
		jparam(e, o, n);
		jbool(e, o, "holds", v);
		jstr(e, o, "facts", s.buf);
		break;
	}
	case PN_ALL:
	case PN_ANY: {
		jstr(e, o, "op", n->op == PN_ALL ? "all" : "any");
		cJSON *arr = o ? jarr(e, o, "conditions") : NULL;
		v = n->op == PN_ALL;
		for (uint32_t i = 0; i < n->nkids; i++) {
			int kv = node_explain(e, n->kids[i], arr, NULL);
			v = n->op == PN_ALL ? v && kv : v || kv;
		}
		jbool(e, o, "holds", v);
		break;
	}
	case PN_NOT:
		jstr(e, o, "op", "not");
		v = !node_explain(e, n->kids[0], o, "condition");
		jbool(e, o, "holds", v);
		break;
	case PN_USE:
		jstr(e, o, "op", "use");
		jstr(e, o, "name", e->p->conds[n->cond].name);
		if ((e->cond_shown >> n->cond & 1) && e->cond_value[n->cond] >= 0) {
			v = e->cond_value[n->cond];
			jbool(e, o, "see_above", 1);
		} else {
			e->cond_shown |= (uint64_t)1 << n->cond;
			v = node_explain(e, e->p->conds[n->cond].node, o, "condition");
			e->cond_value[n->cond] = (int8_t)v;
		}
		jbool(e, o, "holds", v);
		break;
	}
	return v;
}

/* ---- rules and header ---- */

static void explain_header(struct ex *e, cJSON *root)
{
	const struct policy *p = e->p;
	const struct w_org *o = e->o;
	const struct w_adv *a = e->a;
	char b[AU_TIME_LEN];

	jstr(e, root, "at", e->tt);
	jstr(e, root, "policy", p->name);
	cJSON *r = jobj(e, root, "recipient");
	jstr(e, r, "slug", o->slug);
	jstr(e, r, "name", o->name);
	jbool(e, r, "public", e->org == W_PUBLIC);
	cJSON *arr = r ? jarr(e, r, "roles") : NULL;
	for (uint32_t i = 0; e->org != W_PUBLIC && i < o->nroles; i++) {
		const struct w_role *ro = &o->roles[i];
		cJSON *x = jobj(e, arr, NULL);
		jstr(e, x, "role", policy_role_name(p, ro->role));
		jtime(e, x, "from", ro->from, 0);
		jtime(e, x, "until", ro->until, 1);
		jstr(e, x, "ref", ro->ref);
		jstr(e, x, "at_t", period_state(e->t, ro->from, ro->until));
	}
	arr = r ? jarr(e, r, "sectors") : NULL;
	for (int i = 0; i < 64; i++)
		if (e->org != W_PUBLIC && (o->sectors >> i & 1))
			jastr(e, arr, policy_sector_name(p, i) ? policy_sector_name(p, i) : "?");
	arr = r ? jarr(e, r, "member_of") : NULL;
	for (uint32_t i = 0; e->org != W_PUBLIC && i < o->nmember_of; i++) {
		const struct w_member *m = &o->member_of[i];
		cJSON *x = jobj(e, arr, NULL);
		jstr(e, x, "org", slug(e, m->org));
		jtime(e, x, "from", m->from, 0);
		jtime(e, x, "until", m->until, 1);
		jstr(e, x, "at_t", period_state(e->t, m->from, m->until));
	}

	cJSON *ad = jobj(e, root, "advisory");
	jstr(e, ad, "id", a->tracking_id);
	jstr(e, ad, "version", a->version);
	jstr(e, ad, "title", a->title);
	jstr(e, ad, "tlp", pol_tlp_names[a->tlp < POL_NTLP ? a->tlp : POL_NTLP - 1]);
	jstr(e, ad, "status", pol_status_names[a->status < POL_NSTATUS ? a->status : 0]);
	jbool(e, ad, "personal_data", a->personal_data != 0);
	jbool(e, ad, "impact_significant", a->impact_significant != 0);
	au_format_time(a->initial_release, b);
	jstr(e, ad, "initial_release", b);
	au_format_time(a->current_release, b);
	jstr(e, ad, "current_release", b);
	if (a->embargo_until == AU_T_MIN)
		jstr(e, ad, "embargo_until", NULL);
	else {
		au_format_time(a->embargo_until, b);
		jstr(e, ad, "embargo_until", b);
	}
	if (a->withdrawn_at == AU_T_MAX)
		jstr(e, ad, "withdrawn_at", NULL);
	else {
		au_format_time(a->withdrawn_at, b);
		jstr(e, ad, "withdrawn_at", b);
	}
	arr = ad ? jarr(e, ad, "concerns") : NULL;
	for (uint32_t i = 0; i < a->nconcerns; i++)
		jastr(e, arr, slug(e, a->concerns[i]));
	arr = ad ? jarr(e, ad, "sectors") : NULL;
	for (int i = 0; i < 64; i++)
		if (a->sectors >> i & 1)
			jastr(e, arr, policy_sector_name(p, i) ? policy_sector_name(p, i) : "?");
}

static void explain_rules(struct ex *e, cJSON *root)
{
	const struct policy *p = e->p;
	cJSON *arr = jarr(e, root, "rules");
	for (int r = 0; r < p->nrules; r++) {
		const struct pol_rule *ru = &p->rules[r];
		cJSON *x = jobj(e, arr, NULL);
		struct sb s;
		jstr(e, x, "id", ru->id);
		jstr(e, x, "effect", ru->forbid ? "forbid" : "permit");
		jstr(e, x, "basis", ru->basis);
		if (ru->description)
			jstr(e, x, "description", ru->description);
		cJSON *na = x ? jarr(e, x, "notes") : NULL;
		for (uint32_t i = 0; i < ru->nnotes; i++)
			jastr(e, na, ru->notes[i]);
		jtime(e, x, "from", ru->from, 0);
		jtime(e, x, "until", ru->until, 1);
		int inforce = ru->from <= e->t && e->t <= ru->until;
		jbool(e, x, "in_force", inforce);
		sb_init(&s);
		sb_period(&s, ru->from, ru->until);
		jstr(e, x, "validity", s.buf);
		int holds = 1;
		e->cond_shown = 0;
		if (ru->when)
			holds = node_explain(e, ru->when, x, "condition");
		else
			jstr(e, x, "condition", NULL);
		jbool(e, x, "condition_holds", holds);
		jbool(e, x, "applies", inforce && holds);
	}
}

static void explain_outcome(struct ex *e, cJSON *root)
{
	const struct policy *p = e->p;
	const struct w_adv *a = e->a;
	char b[AU_TIME_LEN];
	struct sb s;
	cJSON *arr = jarr(e, root, "builtin");
	for (int i = 0; i < POL_NBUILTIN; i++) {
		cJSON *x = jobj(e, arr, NULL);
		int v = 0;
		sb_init(&s);
		if (i == POL_BUILTIN_NOT_RELEASED) {
			v = !(e->f & PF_BIT(PF_RELEASED));
			au_format_time(a->initial_release, b);
			sb_printf(&s, "advisory is not yet released at %s: %s (initial release %s)",
				  e->tt, v ? "yes" : "no", b);
		} else if (i == POL_BUILTIN_EMBARGO) {
			v = (e->f & PF_BIT(PF_EMBARGOED)) != 0;
			sb_printf(&s, "advisory is under embargo at %s: %s (", e->tt, v ? "yes" : "no");
			if (a->embargo_until == AU_T_MIN) {
				sb_printf(&s, "no embargo)");
			} else {
				au_format_time(a->embargo_until, b);
				sb_printf(&s, "embargo ends at %s)", b);
			}
		} else {
			v = (e->f & PF_BIT(PF_WITHDRAWN)) != 0;
			sb_printf(&s, "advisory is withdrawn at %s: %s (", e->tt, v ? "yes" : "no");
			if (a->withdrawn_at == AU_T_MAX) {
				sb_printf(&s, "not withdrawn)");
			} else {
				au_format_time(a->withdrawn_at, b);
				sb_printf(&s, "withdrawn at %s)", b);
			}
		}
		jstr(e, x, "id", pol_builtin_id[i]);
		jstr(e, x, "basis", pol_builtin_basis[i]);
		jbool(e, x, "applies", v);
		jstr(e, x, "facts", s.buf);
	}

	struct pol_rctx ctx;
	struct pol_decision d;
	policy_rctx_init(p, e->w, e->org, e->t, &ctx);
	policy_decide(p, &ctx, (uint32_t)(e->a - e->w->advs), &d);
	jstr(e, root, "decision", d.permit ? "permit" : "deny");
	const char *reason;
	if (d.permit)
		reason = "a permit applies and no forbid applies";
	else if (!d.nrules)
		reason = "no permit applies (default deny)";
	else if (d.rules[0] < p->nrules)
		reason = "a forbid applies (a forbid wins over any permit)";
	else
		reason = "a built-in guard applies";
	jstr(e, root, "reason", reason);
	arr = jarr(e, root, "determining");
	for (int i = 0; i < d.nrules; i++) {
		cJSON *x = jobj(e, arr, NULL);
		jstr(e, x, "id", policy_rule_id(p, d.rules[i]));
		jstr(e, x, "effect", policy_rule_is_forbid(p, d.rules[i]) ? "forbid" : "permit");
		jstr(e, x, "basis", policy_rule_basis(p, d.rules[i]));
	}
}

/* ---- text rendering (from the JSON tree) ---- */

/* A string member, or NULL. */
static const char *js(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* A string member, "open" when null or absent (period bounds). */
static const char *jopen(const cJSON *o, const char *key)
{
	const char *s = js(o, key);
	return s ? s : "open";
}

/* A string member that is always set; "?" guards against a bug. */
static const char *jm(const cJSON *o, const char *key)
{
	const char *s = js(o, key);
	return s ? s : "?";
}

static int jb(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void render_node(const cJSON *n, int indent, FILE *f)
{
	const char *op = js(n, "op");
	fprintf(f, "%*s[%s] ", indent, "", jb(n, "holds") ? "yes" : "no ");
	if (!op) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(n, "value");
		fprintf(f, "%s", jm(n, "facts"));
		if (cJSON_IsFalse(v))
			fprintf(f, "; required: no");
		fprintf(f, "\n");
		return;
	}
	if (strcmp(op, "use") == 0) {
		if (jb(n, "see_above")) {
			fprintf(f, "condition \"%s\" (as above)\n", jm(n, "name"));
			return;
		}
		fprintf(f, "condition \"%s\":\n", jm(n, "name"));
		render_node(cJSON_GetObjectItemCaseSensitive(n, "condition"), indent + 2, f);
	} else if (strcmp(op, "not") == 0) {
		fprintf(f, "not:\n");
		render_node(cJSON_GetObjectItemCaseSensitive(n, "condition"), indent + 2, f);
	} else {
		fprintf(f, "%s of:\n", op);
		const cJSON *k;
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(n, "conditions"))
			render_node(k, indent + 2, f);
	}
}

static void render_text(const cJSON *root, FILE *f)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "recipient");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "advisory");
	const cJSON *x;
	const char *at = jm(root, "at");

	fprintf(f, "decision at %s", at);
	if (js(root, "policy"))
		fprintf(f, " under policy %s", js(root, "policy"));
	fprintf(f, "\n\nrecipient: %s", jm(r, "slug"));
	if (js(r, "name"))
		fprintf(f, " (%s)", js(r, "name"));
	fprintf(f, "%s\n", jb(r, "public") ? ", the public: holds no role" : "");
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "roles"))
	{
		fprintf(f, "  role %s from %s until %s", jm(x, "role"),
			jopen(x, "from"), jopen(x, "until"));
		if (js(x, "ref"))
			fprintf(f, ", ref %s", js(x, "ref"));
		fprintf(f, ": %s at %s\n", jm(x, "at_t"), at);
	}
	fprintf(f, "  sectors:");
	int none = 1;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "sectors"))
	{
		fprintf(f, "%s %s", none ? "" : ",", x->valuestring);
		none = 0;
	}
	fprintf(f, "%s\n", none ? " none" : "");
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "member_of"))
		fprintf(f, "  member of %s from %s until %s: %s at %s\n", jm(x, "org"),
			jopen(x, "from"), jopen(x, "until"),
			jm(x, "at_t"), at);

	fprintf(f, "\nadvisory: %s version %s", jm(a, "id"), jm(a, "version"));
	if (js(a, "title"))
		fprintf(f, " \"%s\"", js(a, "title"));
	fprintf(f, "\n  TLP:%s, status %s, personal data: %s, significant impact: %s\n",
		jm(a, "tlp"), jm(a, "status"), jb(a, "personal_data") ? "yes" : "no",
		jb(a, "impact_significant") ? "yes" : "no");
	fprintf(f, "  initial release %s, current release %s, embargo until %s, withdrawn %s\n",
		jm(a, "initial_release"), jm(a, "current_release"),
		js(a, "embargo_until") ? js(a, "embargo_until") : "none",
		js(a, "withdrawn_at") ? js(a, "withdrawn_at") : "no");
	fprintf(f, "  concerns:");
	none = 1;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(a, "concerns"))
	{
		fprintf(f, "%s %s", none ? "" : ",", x->valuestring);
		none = 0;
	}
	fprintf(f, "%s; sectors:", none ? " none" : "");
	none = 1;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(a, "sectors"))
	{
		fprintf(f, "%s %s", none ? "" : ",", x->valuestring);
		none = 0;
	}
	fprintf(f, "%s\n", none ? " none" : "");

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "rules"))
	{
		const cJSON *nt;
		fprintf(f, "\nrule %s (%s)\n  basis: %s\n", jm(x, "id"), jm(x, "effect"),
			jm(x, "basis"));
		if (js(x, "description"))
			fprintf(f, "  description: %s\n", js(x, "description"));
		cJSON_ArrayForEach(nt, cJSON_GetObjectItemCaseSensitive(x, "notes"))
			fprintf(f, "  note: %s\n", nt->valuestring);
		fprintf(f, "  in force at %s: %s (%s)\n", at, jb(x, "in_force") ? "yes" : "no",
			jm(x, "validity"));
		const cJSON *cond = cJSON_GetObjectItemCaseSensitive(x, "condition");
		if (cJSON_IsObject(cond)) {
			fprintf(f, "  condition:\n");
			render_node(cond, 4, f);
		} else {
			fprintf(f, "  condition: none (always holds)\n");
		}
		fprintf(f, "  => %s\n", jb(x, "applies") ? "applies" : "does not apply");
	}

	fprintf(f, "\nbuilt-in guards (not part of the policy, cannot be lifted):\n");
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "builtin"))
		fprintf(f, "  %s: %s\n", jm(x, "id"), jm(x, "facts"));

	fprintf(f, "\noutcome: %s\nreason: %s\n",
		strcmp(jm(root, "decision"), "permit") == 0 ? "PERMIT" : "DENY", jm(root, "reason"));
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(root, "determining");
	if (cJSON_GetArraySize(det)) {
		fprintf(f, "determining rules:\n");
		cJSON_ArrayForEach(x, det)
			fprintf(f, "  %s (%s): %s\n", jm(x, "id"), jm(x, "effect"), jm(x, "basis"));
	} else {
		fprintf(f, "determining rules: none\n");
	}
}

/* ---- policy_explain ---- */

int policy_explain(const struct policy *p, const struct world *w, uint32_t org, uint32_t adv,
		   int64_t t, int json, FILE *f)
{
	struct ex e;
	struct pol_rctx ctx;
	int rc = 0;

	if (!p || !w || !f || org >= w->norgs || adv >= w->nadvs)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	memset(e.cond_value, -1, sizeof(e.cond_value));
	e.p = p;
	e.w = w;
	e.org = org;
	e.o = &w->orgs[org];
	e.a = &w->advs[adv];
	e.t = t;
	au_format_time(t, e.tt);
	policy_rctx_init(p, w, org, t, &ctx);
	e.f = pol_facts_full(p, &ctx, adv);

	cJSON *root = cJSON_CreateObject();
	if (!root)
		return -ENOMEM;
	explain_header(&e, root);
	explain_rules(&e, root);
	explain_outcome(&e, root);
	if (e.oom) {
		rc = -ENOMEM;
		goto out;
	}
	if (json) {
		char *s = cJSON_Print(root);
		if (!s) {
			rc = -ENOMEM;
			goto out;
		}
		fputs(s, f);
		fputc('\n', f);
		cJSON_free(s);
	} else {
		render_text(root, f);
	}
	if (ferror(f))
		rc = -EIO;
out:
	cJSON_Delete(root);
	return rc;
}
