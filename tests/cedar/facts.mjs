// facts.mjs - the primitive dated facts of one (recipient, advisory, t),
// written from the definitions in advisoryfs-policy(5), independently of
// the C engine, as the Cedar request of wbni.cedar (model:
// wbni.cedarschema).
//
// Only what Cedar cannot express is computed here: it has no quantifier
// over a set and no notion of a dated relation, so this layer resolves
//   - the roles a recipient holds at t (a role's period contains t),
//   - reached_by: the roles held at t by the organisations the recipient
//     is a member of at t,
//   - for concerns_member: the organisations some concerned organisation
//     is a member of at t (Cedar then asks whether the recipient is one),
//   - for concerns_org_in_sector: the union of the concerned organisations'
//     sectors (Cedar intersects it with the recipient's),
//   - for shared_with_recipient: the earliest share with the recipient
//     (Cedar compares it with now).
// The public pseudo-recipient (orgs[0]) holds no role, sector or
// membership, whatever the world says.
//
// World format: the one engine_cases.c reads (see there); times are
// seconds since the epoch, null for an open end.

export const TLP = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
export const STATUS = ["draft", "interim", "final"];

// Periods are inclusive at both ends; null is open.
export function inPeriod(t, from, until) {
  return (from === null || from === undefined || from <= t) &&
         (until === null || until === undefined || t <= until);
}

function rolesAt(org, t) {
  const s = new Set();
  for (const r of org.roles ?? []) if (inPeriod(t, r.from, r.until)) s.add(r.role);
  return s;
}

const recipientUid = (org) => ({ type: "Recipient", id: org.slug });
const entityRef = (org) => ({ __entity: recipientUid(org) });

// The Cedar request (principal, action, resource, context, entities) for
// recipient orgs[oi], advisory advs[ai], at t.
export function cedarRequest(world, oi, ai, t) {
  const org = world.orgs[oi], adv = world.advs[ai];
  const isPublic = oi === 0;

  let roles = new Set(), reached = new Set(), sectors = [];
  if (!isPublic) {
    roles = rolesAt(org, t);
    sectors = org.sectors ?? [];
    for (const m of org.member_of ?? [])
      if (inPeriod(t, m.from, m.until))
        for (const r of rolesAt(world.orgs[m.org], t)) reached.add(r);
  }

  const concerned = (adv.concerns ?? []).map((c) => world.orgs[c]);
  const orgSectors = new Set();
  const constituencies = new Map();
  for (const [k, c] of (adv.concerns ?? []).entries()) {
    if (c === 0) continue; // the public has no sector and no membership
    for (const s of concerned[k].sectors ?? []) orgSectors.add(s);
    for (const m of concerned[k].member_of ?? [])
      if (inPeriod(t, m.from, m.until)) constituencies.set(m.org, world.orgs[m.org]);
  }

  let sharedSince = null;
  for (const s of adv.shares ?? [])
    if (s.org === oi && (sharedSince === null || s.at < sharedSince)) sharedSince = s.at;

  const resourceAttrs = {
    tlp: TLP[adv.tlp],
    status: STATUS[adv.status],
    personal_data: !!adv.personal_data,
    impact_significant: !!adv.impact,
    initial_release: adv.initial_release,
    sectors: adv.sectors ?? [],
    concerns: concerned.map(entityRef),
    concerned_org_sectors: [...orgSectors],
  };
  if (adv.embargo_until !== null && adv.embargo_until !== undefined)
    resourceAttrs.embargo_until = adv.embargo_until;
  if (adv.withdrawn_at !== null && adv.withdrawn_at !== undefined)
    resourceAttrs.withdrawn_at = adv.withdrawn_at;

  const context = { now: t, constituencies_concerned: [...constituencies.values()].map(entityRef) };
  if (sharedSince !== null) context.shared_since = sharedSince;

  const principal = recipientUid(org);
  const resource = { type: "Advisory", id: adv.id };
  return {
    principal,
    action: { type: "Action", id: "receive" },
    resource,
    context,
    entities: [
      { uid: principal, parents: [],
        attrs: { is_public: isPublic, sectors, roles: [...roles], reached_by: [...reached] } },
      { uid: resource, parents: [], attrs: resourceAttrs },
    ],
  };
}
