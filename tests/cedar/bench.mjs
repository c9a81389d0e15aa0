#!/usr/bin/env node
// bench.mjs - Cedar's decisions per second on the cases of a JSON file
// exported by bench_policy --export (the same world and cases the C
// engine is timed on), for scripts/bench-policy.
//
//   node bench.mjs CASES.json [--engine ENGINE_OUTPUT] [--warmup N]
//
// The Cedar requests (facts.mjs) are built before timing; what is timed
// is statefulIsAuthorized() with the policy set parsed once, Cedar's
// fastest path in @cedar-policy/cedar-wasm.  With --engine (the output of
// engine_cases on the same file) every case is also compared, as in
// diff.mjs.  Machine-readable lines: with --engine "agreement N/M", then
// "rate cedar N" (decisions per CPU-second, authorization only) and
// "rate cedar-with-facts N" (the fact layer's CPU time added).
import { readFileSync } from "node:fs";

import { loadPolicy, cedar as wasm } from "./cedar.mjs";
import { BUILTINS, disagreement, parseEngineOutput } from "./compare.mjs";
import { cedarRequest } from "./facts.mjs";

const args = process.argv.slice(2);
let file = null, engineFile = null, warmup = 2000;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--engine" && i + 1 < args.length) engineFile = args[++i];
  else if (args[i] === "--warmup" && i + 1 < args.length) warmup = +args[++i];
  else if (!file) file = args[i];
  else {
    console.error("usage: node bench.mjs CASES.json [--engine ENGINE_OUTPUT] [--warmup N]");
    process.exit(2);
  }
}
if (!file) {
  console.error("usage: node bench.mjs CASES.json [--engine ENGINE_OUTPUT] [--warmup N]");
  process.exit(2);
}

const doc = JSON.parse(readFileSync(file, "utf8"));
const w = doc.worlds[0];
const policy = loadPolicy();

const f0 = process.cpuUsage();
const reqs = w.cases.map(([o, a, t]) => cedarRequest(w, o, a, t));
const f1 = process.cpuUsage(f0);
const factsMs = (f1.user + f1.system) / 1000;

for (let i = 0; i < Math.min(warmup, reqs.length); i++) policy.authorizePreparsed(reqs[i]);

// Timed in CPU time of the process (user + system), like bench_policy,
// so that other work on the machine does not count; wall time printed too.
const answers = new Array(reqs.length);
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < reqs.length; i++) answers[i] = policy.authorizePreparsed(reqs[i]);
const c1 = process.cpuUsage(c0);
const authWallMs = performance.now() - t0;
const authMs = (c1.user + c1.system) / 1000;

const n = reqs.length;
let permits = 0;
for (const a of answers) if (a.decision === "permit") permits++;
console.log(`cedar ${wasm.getCedarVersion()} (@cedar-policy/cedar-wasm), node ${process.version}`);
console.log(`world: ${w.orgs.length} organisations, ${w.advs.length} advisories; ` +
            `${n} cases, ${permits} permits`);
console.log(`cedar: ${n} decisions in ${(authWallMs / 1000).toFixed(3)} s ` +
            `(${(authMs / 1000).toFixed(3)} s CPU) = ${(n / authMs * 1000).toFixed(0)}/s per ` +
            `CPU-second (${(authMs * 1000 / n).toFixed(1)} us each; ` +
            `${(n / authWallMs * 1000).toFixed(0)}/s wall); ` +
            `fact layer ${(factsMs * 1000 / n).toFixed(1)} us CPU each`);

if (engineFile) {
  const policyIds = JSON.parse(readFileSync(new URL("../../policy/wbni-default.json", import.meta.url)))
    .rules.map((r) => r.id);
  const order = new Map([...policyIds, ...BUILTINS].map((id, i) => [id, i]));
  const engine = parseEngineOutput(readFileSync(engineFile, "utf8"));
  let agree = 0, shown = 0;
  for (let i = 0; i < n; i++) {
    const why = disagreement(engine[0]?.[i], answers[i], order);
    if (!why) agree++;
    else if (shown++ < 5)
      console.log(`disagreement, case ${i} ${JSON.stringify(w.cases[i])}: ${why}; engine ` +
                  `${JSON.stringify(engine[0]?.[i])}, cedar ${JSON.stringify(answers[i])}`);
  }
  console.log(`agreement ${agree}/${n}`);
}
console.log(`rate cedar ${(n / authMs * 1000).toFixed(0)}`);
console.log(`rate cedar-with-facts ${(n / (authMs + factsMs) * 1000).toFixed(0)}`);
