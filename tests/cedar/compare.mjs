// compare.mjs - compare one decision of the engine with Cedar's answer for
// the same case (used by diff.mjs and bench.mjs).

export const BUILTINS = ["builtin:not-released", "builtin:embargo", "builtin:withdrawn"];
const isBuiltin = (id) => id.startsWith("builtin:");

// What the engine must report, from Cedar's answer.  Cedar lists every
// forbid that holds, the built-in guards (forbids in wbni.cedar) among
// them; the engine names the guards only when no forbid of the policy
// applies (advisoryfs-policy(5), "Built-in guards").  So when Cedar's
// reasons hold a policy forbid, its builtin: ids are dropped.  Permits
// and default deny need no adjustment.  Compared as sets: Cedar's order
// is unspecified; the engine's own order is checked separately.
export function expectedIds(answer) {
  const ids = answer.reason;
  if (answer.decision === "deny" && ids.some((id) => !isBuiltin(id)))
    return ids.filter((id) => !isBuiltin(id)).sort();
  return [...ids].sort();
}

function sameSet(a, sortedB) {
  const x = [...a].sort();
  return x.length === sortedB.length && x.every((v, i) => v === sortedB[i]);
}

// null if they agree, else why not.  eng: {decision, ids} as engine_cases
// prints it; ced: loadPolicy().authorize*() answer; order: Map id -> the
// rule's position (the policy's rules, then BUILTINS).
export function disagreement(eng, ced, order) {
  if (!eng) return "the engine printed no line for this case";
  if (ced.errors.length) return "Cedar reported evaluation errors";
  if (eng.decision !== ced.decision) return "the decisions differ";
  if (!sameSet(eng.ids, expectedIds(ced))) return "the determining rules differ";
  if (eng.ids.some((id, i) => i > 0 && !(order.get(eng.ids[i - 1]) < order.get(id))))
    return "the engine's determining rules are not in policy order";
  return null;
}

// engine_cases output -> engine[world][case] = {decision, ids}
export function parseEngineOutput(text) {
  const engine = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [wi, ci, decision, ids] = line.split(" ");
    (engine[+wi] ??= [])[+ci] = { decision, ids: ids === "-" ? [] : ids.split(",") };
  }
  return engine;
}
