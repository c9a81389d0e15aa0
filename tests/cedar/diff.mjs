#!/usr/bin/env node
// diff.mjs - differential test of the advisoryfs policy engine against
// Cedar, on the default policy.
//
//   node diff.mjs --driver PATH [--policy policy/wbni-default.json]
//                 [--worlds 40] [--cases 300] [--seed 1] [--show 10]
//                 [--keep FILE] [--require-coverage]
//
// Generates --worlds random worlds (seeded: world k uses seed + k), each
// with 20-60 organisations (dated roles and memberships, sectors from the
// policy's vocabulary) and 30-80 advisories (every TLP, status, personal
// data, impact, embargoes, withdrawals, concerns, sectors, dated shares),
// and --cases (recipient, advisory, t) cases per world with t mostly at,
// one second before or one second after a boundary that matters for that
// case (a rule's date, a role's or membership's start or end, a release,
// embargo, withdrawal or share).  The real engine decides every case
// (engine_cases, given by --driver); Cedar decides the same case with
// wbni.cedar and the facts of facts.mjs.  Both the decision and the
// determining rules must agree.
//
// Prints "cases N, disagreements M", how often each rule determined a
// decision, and the first --show disagreements in detail; exits 1 on any
// disagreement (or, with --require-coverage, if some rule of the policy
// never determined a decision), 2 on a usage or setup error.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { loadPolicy } from "./cedar.mjs";
import { BUILTINS, disagreement, parseEngineOutput } from "./compare.mjs";
import { cedarRequest } from "./facts.mjs";

const here = dirname(fileURLToPath(import.meta.url));

// ---- options ----

function parseArgs(argv) {
  const o = { policy: resolve(here, "../../policy/wbni-default.json"), worlds: 40, cases: 300,
              seed: 1, show: 10, keep: null, driver: null, requireCoverage: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--driver": o.driver = v(); break;
      case "--policy": o.policy = v(); break;
      case "--worlds": o.worlds = +v(); break;
      case "--cases": o.cases = +v(); break;
      case "--seed": o.seed = +v(); break;
      case "--show": o.show = +v(); break;
      case "--keep": o.keep = v(); break;
      case "--require-coverage": o.requireCoverage = true; break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!o.driver) usage("--driver is required");
  for (const k of ["worlds", "cases", "seed", "show"])
    if (!Number.isInteger(o[k]) || o[k] < 0) usage(`--${k} must be a whole number`);
  return o;
}

function usage(msg) {
  console.error(`diff.mjs: ${msg}\nusage: node diff.mjs --driver PATH [--policy FILE] ` +
                "[--worlds N] [--cases N] [--seed N] [--show N] [--keep FILE] [--require-coverage]");
  process.exit(2);
}

// ---- a seeded generator (mulberry32) ----

function rng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  const pick = (arr) => arr[Math.floor(next() * arr.length)];
  const chance = (p) => next() < p;
  // weights: [[value, weight], ...]
  const weighted = (pairs) => {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let x = next() * total;
    for (const [v, w] of pairs) if ((x -= w) < 0) return v;
    return pairs[pairs.length - 1][0];
  };
  const sample = (arr, k) => {
    const a = [...arr];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a.slice(0, k);
  };
  return { next, int, pick, chance, weighted, sample };
}

// ---- worlds ----

const DAY = 86400;
const LO = Date.UTC(2017, 0, 1) / 1000, HI = Date.UTC(2026, 11, 31) / 1000;
// The dates of the default policy, and the days around them.
const POLICY_DATES = [
  Date.UTC(2018, 10, 9) / 1000,        // 2018-11-09 Wbni
  Date.UTC(2020, 0, 14) / 1000,        // 2020-01-14 CSIRT regulation
  Date.UTC(2022, 11, 1) / 1000 - 1,    // 2022-11-30T23:59:59 end of the old text
  Date.UTC(2022, 11, 1) / 1000,        // 2022-12-01 amended Wbni
];

function genWorld(r, vocab) {
  // A time: near a policy date (exact second, one second off, a day off)
  // or anywhere in 2017-2026.
  const time = () => r.chance(0.35)
    ? r.pick(POLICY_DATES) + r.pick([-DAY, -1, 0, 0, 0, 1, DAY, r.int(-400, 400) * DAY])
    : r.int(LO, HI);
  const from = () => (r.chance(0.25) ? null : time());
  const until = (f) => {
    if (r.chance(0.55)) return null;
    if (f !== null && r.chance(0.03)) return f; // a single second
    let u = time();
    if (f !== null && u < f) u = f + r.int(0, 3 * 365) * DAY + r.int(0, DAY - 1);
    return u;
  };

  const sectors = r.sample(vocab.sectors, r.int(4, 8)); // a few, so that they overlap
  const nOrgs = r.int(20, 60);
  const orgs = [{ slug: "public", sectors: [], roles: [], member_of: [] }];
  for (let i = 1; i < nOrgs; i++) {
    const nsec = r.weighted([[0, 10], [1, 60], [2, 30]]);
    const nroles = r.weighted([[0, 10], [1, 60], [2, 25], [3, 5]]);
    const roles = [];
    for (let k = 0; k < nroles; k++) {
      const role = r.weighted([["vital", 20], ["government", 10], ["csirt", 12], ["oktt", 18],
                               ["other", 35], ["essential", 3], ["important", 2]]);
      const f = role === "csirt" && r.chance(0.3) ? POLICY_DATES[1] : from();
      roles.push({ role, from: f, until: until(f) });
    }
    orgs.push({ slug: `org-${String(i).padStart(3, "0")}`, sectors: r.sample(sectors, nsec),
                roles, member_of: [] });
  }
  const schakels = orgs.map((o, i) => i).filter(
    (i) => i > 0 && orgs[i].roles.some((x) => x.role === "oktt" || x.role === "csirt"));
  for (let i = 1; i < nOrgs; i++) {
    const n = r.weighted([[0, 20], [1, 40], [2, 30], [3, 10]]);
    for (let k = 0; k < n; k++) {
      const s = schakels.length && r.chance(0.7) ? r.pick(schakels) : r.int(1, nOrgs - 1);
      if (s === i) continue;
      const f = from();
      orgs[i].member_of.push({ org: s, from: f, until: until(f) });
    }
  }

  const nAdvs = r.int(30, 80);
  const advs = [];
  for (let i = 0; i < nAdvs; i++) {
    // Half released early, so that most boundaries of a case fall after the
    // release (before it, builtin:not-released decides everything).
    const rel = r.chance(0.5) ? r.int(LO - 365 * DAY, POLICY_DATES[0]) : time();
    const nconc = r.weighted([[0, 25], [1, 40], [2, 25], [3, 10]]);
    const nsec = r.weighted([[0, 65], [1, 25], [2, 10]]);
    const nshares = r.weighted([[0, 70], [1, 22], [2, 8]]);
    const concerns = r.sample([...Array(nOrgs - 1).keys()].map((x) => x + 1), nconc);
    const shares = [];
    // A few shares name the public: the store cannot record one, but the
    // policy's "public": false conditions are only exercised that way.
    for (let k = 0; k < nshares; k++)
      shares.push({ org: r.chance(0.04) ? 0
                       : r.chance(0.5) && concerns.length ? r.pick(concerns) : r.int(1, nOrgs - 1),
                    at: r.chance(0.5) ? rel + r.int(-DAY, 90 * DAY) : time() });
    advs.push({
      id: `NCSC-2024-${String(i + 1).padStart(4, "0")}`,
      tlp: r.weighted([[0, 22], [1, 25], [2, 25], [3, 14], [4, 14]]),
      status: r.weighted([[0, 8], [1, 17], [2, 75]]),
      personal_data: r.chance(0.3),
      impact: r.chance(0.35),
      initial_release: rel,
      embargo_until: r.chance(0.15) ? (r.chance(0.5) ? rel + r.int(-DAY, 30 * DAY) : time()) : null,
      withdrawn_at: r.chance(0.1) ? (r.chance(0.5) ? rel + r.int(0, 730) * DAY : time()) : null,
      concerns,
      sectors: r.sample(sectors, nsec),
      shares,
    });
  }
  return { orgs, advs, cases: [] };
}

// The moments at which a decision for (org, adv) can change.
function boundaries(w, oi, ai) {
  const b = [...POLICY_DATES];
  const period = (x) => {
    if (x.from !== null) b.push(x.from);
    if (x.until !== null) b.push(x.until + 1);
  };
  const org = w.orgs[oi], adv = w.advs[ai];
  for (const x of org.roles) period(x);
  for (const m of org.member_of) {
    period(m);
    for (const x of w.orgs[m.org].roles) period(x);
  }
  for (const c of adv.concerns)
    for (const m of w.orgs[c].member_of) if (m.org === oi) period(m);
  b.push(adv.initial_release);
  if (adv.embargo_until !== null) b.push(adv.embargo_until);
  if (adv.withdrawn_at !== null) b.push(adv.withdrawn_at);
  for (const s of adv.shares) if (s.org === oi) b.push(s.at);
  return b;
}

function genCases(r, w, n) {
  const nOrgs = w.orgs.length;
  for (let k = 0; k < n; k++) {
    const ai = r.int(0, w.advs.length - 1), adv = w.advs[ai];
    const schakelsOfConcerned = adv.concerns.flatMap((c) => w.orgs[c].member_of.map((m) => m.org));
    const how = r.weighted([["public", 8], ["concerned", 35], ["schakel", 20], ["shared", 7],
                            ["any", 30]]);
    let oi;
    if (how === "public") oi = 0;
    else if (how === "concerned" && adv.concerns.length) oi = r.pick(adv.concerns);
    else if (how === "schakel" && schakelsOfConcerned.length) oi = r.pick(schakelsOfConcerned);
    else if (how === "shared" && adv.shares.length) oi = r.pick(adv.shares).org;
    else oi = r.int(1, nOrgs - 1);
    // at a boundary, or anywhere (mostly after the release: before it,
    // builtin:not-released decides everything)
    const t = r.chance(0.75) ? r.pick(boundaries(w, oi, ai)) + r.pick([-1, 0, 1])
            : r.chance(0.7) ? r.int(Math.max(LO, adv.initial_release),
                                    Math.max(HI, adv.initial_release))
            : r.int(LO, HI);
    w.cases.push([oi, ai, t]);
  }
}

// ---- reporting ----

function iso(t) {
  const d = new Date(t * 1000);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace(".000Z", "Z");
}

function describe(w, c, req, eng, ced, why) {
  const [oi, ai, t] = c;
  const adv = w.advs[ai];
  const lines = [
    `  ${why}`,
    `  recipient ${w.orgs[oi].slug} (index ${oi}), advisory ${adv.id} (index ${ai}), t ${t} (${iso(t)})`,
    `  engine: ${eng.decision} [${eng.ids.join(", ")}]`,
    `  cedar:  ${ced.decision} [${ced.reason.join(", ")}]` +
      (ced.errors.length ? ` errors: ${JSON.stringify(ced.errors)}` : ""),
    `  recipient facts: ${JSON.stringify(req.entities[0].attrs)}`,
    `  advisory facts:  ${JSON.stringify(req.entities[1].attrs)}`,
    `  context:         ${JSON.stringify(req.context)}`,
    `  recipient in world: ${JSON.stringify(w.orgs[oi])}`,
  ];
  return lines.join("\n");
}

// ---- main ----

function main() {
  const o = parseArgs(process.argv.slice(2));
  const policyJson = JSON.parse(readFileSync(o.policy, "utf8"));
  const ruleIds = policyJson.rules.map((x) => x.id);
  const order = new Map([...ruleIds, ...BUILTINS].map((id, i) => [id, i]));
  const vocab = { sectors: policyJson.vocabulary.sectors.map((x) => x.name ?? x) };

  const cedar = loadPolicy();
  const cedarIds = new Set(cedar.ids);
  const want = new Set([...ruleIds, ...BUILTINS]);
  const missing = [...want].filter((id) => !cedarIds.has(id));
  const extra = [...cedarIds].filter((id) => !want.has(id));
  if (missing.length || extra.length) {
    console.error(`diff.mjs: wbni.cedar does not match ${o.policy}: ` +
                  `missing [${missing.join(", ")}], extra [${extra.join(", ")}]`);
    process.exit(2);
  }

  // Generate.
  const worlds = [];
  for (let k = 0; k < o.worlds; k++) {
    const r = rng(o.seed * 1000003 + k);
    const w = genWorld(r, vocab);
    genCases(r, w, o.cases);
    worlds.push(w);
  }

  // The engine.
  const dir = o.keep ? null : mkdtempSync(join(tmpdir(), "advisoryfs-cedar-"));
  const file = o.keep ?? join(dir, "cases.json");
  writeFileSync(file, JSON.stringify({ worlds }));
  const t0 = performance.now();
  const run = spawnSync(o.driver, [o.policy, file], { encoding: "utf8", maxBuffer: 1 << 30 });
  const engineMs = performance.now() - t0;
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (run.error || run.status !== 0) {
    console.error(`diff.mjs: ${o.driver} failed: ${run.error ?? run.stderr}`);
    process.exit(2);
  }
  const engine = parseEngineOutput(run.stdout);

  // Cedar, and the comparison.
  let cases = 0, disagreements = 0, cedarMs = 0;
  const shown = [];
  const determining = new Map([...want].map((id) => [id, 0]));
  const cedarFired = new Map([...want].map((id) => [id, 0]));
  const decisions = { permit: 0, deny: 0, "deny (default)": 0 };
  worlds.forEach((w, wi) => {
    w.cases.forEach((c, ci) => {
      cases++;
      const req = cedarRequest(w, c[0], c[1], c[2]);
      const t1 = performance.now();
      const ced = cedar.authorizePreparsed(req);
      cedarMs += performance.now() - t1;
      const eng = engine[wi]?.[ci];
      const why = disagreement(eng, ced, order);
      if (why) {
        disagreements++;
        if (shown.length < o.show)
          shown.push(`world ${wi} case ${ci} (again: --seed ${o.seed} --worlds ${wi + 1} ` +
                     `--cases ${o.cases} --keep FILE):\n` +
                     describe(w, c, req, eng ?? { decision: "?", ids: [] }, ced, why));
        return;
      }
      for (const id of ced.reason) cedarFired.set(id, cedarFired.get(id) + 1);
      for (const id of eng.ids) determining.set(id, determining.get(id) + 1);
      if (eng.decision === "permit") decisions.permit++;
      else if (eng.ids.length) decisions.deny++;
      else decisions["deny (default)"]++;
    });
  });

  console.log(`cases ${cases}, disagreements ${disagreements}`);
  console.log(`worlds ${o.worlds} (seed ${o.seed}); decisions: permit ${decisions.permit}, ` +
              `deny by a rule ${decisions.deny}, default deny ${decisions["deny (default)"]}`);
  console.log(`engine (whole driver run, world building included) ${engineMs.toFixed(0)} ms; ` +
              `Cedar (isAuthorized calls only) ${cedarMs.toFixed(0)} ms`);
  console.log("rule: times determining in the engine / times holding in Cedar");
  for (const id of want)
    console.log(`  ${id.padEnd(36)} ${String(determining.get(id)).padStart(6)} / ` +
                `${String(cedarFired.get(id)).padStart(6)}`);
  const uncovered = ruleIds.filter((id) => determining.get(id) === 0);
  const unfired = [...want].filter((id) => cedarFired.get(id) === 0);
  if (uncovered.length) console.log(`policy rules that never determined a decision: ${uncovered.join(", ")}`);
  if (unfired.length) console.log(`Cedar policies that never held: ${unfired.join(", ")}`);
  if (shown.length) console.log(`\nfirst ${shown.length} disagreement(s):\n${shown.join("\n\n")}`);

  if (disagreements) process.exit(1);
  if (o.requireCoverage && (uncovered.length || unfired.length)) process.exit(1);
}

main();
