// cedar.mjs - load wbni.cedar into Cedar (@cedar-policy/cedar-wasm 4.x)
// and authorize requests made by facts.mjs.
//
// Cedar names the policies of a policy-set text policy0, policy1, ...
// whatever their @id annotation, so the text is split into its policies
// and passed as a map from each policy's @id to its text: Cedar's
// diagnostics.reason then lists the same ids as the JSON policy.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const cedar = require("@cedar-policy/cedar-wasm/nodejs");

function fail(what, errors) {
  const msg = (errors ?? []).map((e) => e.message + (e.help ? ` (${e.help})` : "")).join("; ");
  throw new Error(`${what}: ${msg}`);
}

// Returns { ids: [...], authorize(request) -> {decision: "permit" | "deny",
// reason: [id...], errors: [...]} }.
export function loadPolicy(policyPath = join(here, "wbni.cedar"),
                           schemaPath = join(here, "wbni.cedarschema")) {
  const text = readFileSync(policyPath, "utf8");
  const schema = readFileSync(schemaPath, "utf8");

  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== "success") fail(policyPath, parts.errors);
  const policies = {};
  for (const p of parts.policies) {
    const j = cedar.policyToJson(p);
    if (j.type !== "success") fail(policyPath, j.errors);
    const id = j.json.annotations?.id;
    if (!id) throw new Error(`${policyPath}: a policy without @id: ${p.slice(0, 60)}`);
    if (id in policies) throw new Error(`${policyPath}: duplicate @id ${id}`);
    policies[id] = p;
  }

  const v = cedar.validate({ schema, policies: { staticPolicies: policies },
                             validationSettings: { mode: "strict" } });
  if (v.type !== "success") fail(`${policyPath} against ${schemaPath}`, v.errors);
  if (v.validationErrors.length)
    fail(`${policyPath} against ${schemaPath}`, v.validationErrors.map((e) => ({
      message: `${e.policyId}: ${e.error.message}` })));

  const psetId = "wbni";
  const pre = cedar.preparsePolicySet(psetId, { staticPolicies: policies });
  if (pre.type !== "success") fail(policyPath, pre.errors);

  function answer(a) {
    if (a.type !== "success") fail("isAuthorized", a.errors);
    const r = a.response;
    // Cedar says allow/deny; the engine permit/deny.
    return { decision: r.decision === "allow" ? "permit" : r.decision,
             reason: r.diagnostics.reason, errors: r.diagnostics.errors };
  }
  return {
    ids: Object.keys(policies),
    // Plain isAuthorized: parses the policy set on every call.
    authorize(req) {
      return answer(cedar.isAuthorized({ ...req, policies: { staticPolicies: policies } }));
    },
    // The policy set parsed once (statefulIsAuthorized); the same answers.
    authorizePreparsed(req) {
      return answer(cedar.statefulIsAuthorized({ ...req, preparsedPolicySetId: psetId }));
    },
  };
}
