"""advisoryfs accepts exactly the documents that the reference CSAF 2.0
validator accepts: the BSI's @secvisogram/csaf-validator-lib (strict: the
CSAF 2.0 JSON schema with no unknown members, and every mandatory test of
section 6.1), run by tests/validator/validate.mjs.

Compared: the valid/invalid verdict on every document of tests/data and of
the demo corpus, and on generated mutations of the valid ones, each with
one thing broken (a wrong type, a broken pattern or format, an unknown enum
value, a missing member, an unknown member, a duplicate product id, a
dangling reference, a version without its revision), plus mutations aimed
at each mandatory test that advisoryfs implements (6.1.9: scores, severities
and vectors changed apart).  Not generated: language tags that are
well-formed but not registered (6.1.12), the test advisoryfs lacks with
6.1.13 (purl grammar), and dates written with a space instead of 'T'
(valid RFC 3339 for the reference; the publishing rules of SPEC.md, which
advisoryfs applies before the schema, require the 'T' in the dates they read).  advisoryfs's verdict is
that of `publish --check` (the real binary, the real store, left
untouched).  Every mutant gets a tracking id of its own, so that the one
transaction of --check does not compare the mutants with each other.

Skipped without node or npm (the validator's node_modules are installed
from the lockfile by `npm ci` when missing).
"""

import copy
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import BIN, ROOT, dump, new_store, npm_ci

CORPORA = [ROOT / "tests" / "data" / "csaf" / "advisories", ROOT / "scripts" / "demo-data"]
MUTANTS_PER_DOC = 60
SEED = 16

pytestmark = pytest.mark.skipif(not (shutil.which("node") and shutil.which("npm")),
                                reason="no node or npm")


def reference(paths):
    """{path: (verdict, failed tests)} from one run of the reference validator."""
    p = subprocess.run(["node", str(ROOT / "tests" / "validator" / "validate.mjs")],
                       input="\n".join(map(str, paths)), capture_output=True, text=True,
                       timeout=900, cwd=ROOT / "tests" / "validator")
    out = {}
    for line in p.stdout.splitlines():
        path, verdict, failed = line.split("\t")
        out[path] = ("invalid" if verdict == "unreadable" else verdict, failed)
    assert len(out) == len(paths), p.stdout[-2000:] + p.stderr[-2000:]
    return out


def ours(store, paths):
    """{path: (verdict, message)} from publish --check over all paths in one run."""
    refused = {}
    for i in range(0, len(paths), 500):
        chunk = [str(x) for x in paths[i:i + 500]]
        p = subprocess.run([BIN, "-s", str(store), "publish", "--check", "--tlp", "RED", *chunk],
                           capture_output=True, text=True, timeout=900)
        assert p.returncode in (0, 1), p.stderr[-2000:]
        for line in p.stderr.splitlines():
            for f in chunk:
                prefix = f"advisoryfs: publish: {f}: "
                if line.startswith(prefix):
                    refused[f] = line[len(prefix):]
    return {str(x): ("invalid", refused[str(x)]) if str(x) in refused else ("valid", "")
            for x in paths}


def corpus():
    files = []
    for d in CORPORA:
        for dirpath, _, names in os.walk(d):
            files += [Path(dirpath, n) for n in names
                      if n.endswith(".json") and not n.endswith(".dist.json")]
    return sorted(files)


# ---- mutations ------------------------------------------------------------------------------

def walk(node, path=()):
    """Every (path, value) below node."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))


def at(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def put(doc, path, value):
    at(doc, path[:-1])[path[-1]] = value


WRONG = {str: [7, True, None, ["x"]], int: ["7", [1]], float: ["7.5", {}], bool: ["true", 1],
         list: [{}, "x", 1], dict: [[], "x", 0], type(None): ["x"]}
BAD_STRINGS = ["", " leading space", "trailing space ", "CVE-ABC", "CWE-0x", "not a uri",
               "2024-13-45T00:00:00Z", "2024-02-30T10:00:00Z", "2024-03-01T10:00:00",
               "no_such_value", "pkg:nope", "-x-", "1.0", "01",
               "CVSS:3.1/AV:X", "x" * 3, "ftp://example.com/a b", "urn:x", "\u00a0x"]


def product_ids(doc):
    return [v for p, v in walk(doc) if p and p[-1] == "product_id" and isinstance(v, str)]


def ref_lists(doc):
    """Paths of every list of product references."""
    keys = {"product_ids", "products", "first_affected", "first_fixed", "fixed",
            "known_affected", "known_not_affected", "last_affected", "recommended",
            "under_investigation"}
    return [p for p, v in walk(doc) if p and p[-1] in keys and isinstance(v, list) and v]


def generic(doc, rnd):
    """One random field broken (or changed) in one of the ways of the issue."""
    nodes = [(p, v) for p, v in walk(doc) if p]
    kind = rnd.choice(["type", "string", "string", "delete", "unknown", "enum", "dup", "dangle",
                       "version"])
    p, v = rnd.choice(nodes)
    if kind == "type":
        put(doc, p, rnd.choice(WRONG[type(v)]))
    elif kind == "string":
        # not the language tags: 6.1.12 (tags against the IANA registry) is not
        # implemented, so a well-formed but unregistered tag would disagree
        strings = [(p, v) for p, v in nodes if isinstance(v, str) and
                   p[-1] not in ("lang", "source_lang")]
        p, _ = rnd.choice(strings)
        put(doc, p, rnd.choice(BAD_STRINGS))
    elif kind == "delete":
        members = [(p, v) for p, v in nodes if isinstance(p[-1], str)]
        p, _ = rnd.choice(members)
        del at(doc, p[:-1])[p[-1]]
    elif kind == "unknown":
        objs = [p for p, v in walk(doc) if isinstance(v, dict)]
        at(doc, rnd.choice(objs))["x_unknown"] = 1
    elif kind == "enum":
        enums = [(p, v) for p, v in nodes if isinstance(v, str) and p[-1] in
                 ("category", "status", "label", "baseSeverity", "attackVector", "label",
                  "algorithm", "party", "relationship", "version")]
        if not enums:
            return False
        p, _ = rnd.choice(enums)
        put(doc, p, rnd.choice(["no_such_value", "FINAL", "Vendor"]))
    elif kind == "dup":
        ids = [p for p, v in walk(doc) if p and p[-1] == "product_id"]
        if len(ids) < 2:
            return False
        a, b = rnd.sample(ids, 2)
        put(doc, a, at(doc, b))
    elif kind == "dangle":
        lists = ref_lists(doc)
        if not lists:
            return False
        p = rnd.choice(lists)
        at(doc, p)[rnd.randrange(len(at(doc, p)))] = "CSAFPID-NOT-DEFINED"
    elif kind == "version":
        t = doc["document"]["tracking"]
        t["version"] = "99.0.0" if "." in t["version"] else "99"
    return True


def vulns(doc):
    return doc.get("vulnerabilities") or []


def first_vuln(doc):
    v = vulns(doc)
    return v[0] if v else None


def m_6_1_6(doc, rnd):
    v = first_vuln(doc)
    if not v or not v.get("product_status"):
        return False
    ids = [x for l in v["product_status"].values() for x in l]
    if not ids:
        return False
    ps = v["product_status"]
    key = "known_not_affected" if "known_not_affected" not in ps else "known_affected"
    ps.setdefault(key, [])
    if ids[0] not in ps[key]:
        ps[key].append(ids[0])
    return True


def m_6_1_7(doc, rnd):
    v = first_vuln(doc)
    if not v or not v.get("scores"):
        return False
    v["scores"].append(copy.deepcopy(v["scores"][0]))
    return True


def m_6_1_3(doc, rnd):
    rels = (doc.get("product_tree") or {}).get("relationships")
    if not rels:
        return False
    rels[0]["product_reference"] = rels[0]["full_product_name"]["product_id"]
    return True


def m_6_1_4(doc, rnd):
    v = first_vuln(doc)
    if not v or not v.get("remediations"):
        return False
    v["remediations"][0]["group_ids"] = ["CSAFGID-NOT-DEFINED"]
    return True


def m_6_1_5(doc, rnd):
    pt = doc.get("product_tree")
    ids = product_ids(doc)
    if not pt or len(ids) < 2:
        return False
    pt["product_groups"] = [{"group_id": "G-1", "product_ids": ids[:2]},
                            {"group_id": "G-1", "product_ids": ids[:2]}]
    return True


def m_6_1_10(doc, rnd):
    for v in vulns(doc):
        for sc in v.get("scores") or []:
            c = sc.get("cvss_v3") or sc.get("cvss_v2")
            if not c:
                continue
            key = "attackVector" if "attackVector" in c else "accessVector"
            if key not in c:
                return False
            c[key] = "PHYSICAL" if c[key] != "PHYSICAL" and key == "attackVector" else (
                "LOCAL" if c[key] != "LOCAL" else "NETWORK")
            return True
    return False


def m_6_1_9(doc, rnd):
    """A score (or v3 severity) next to its vector changed, or the vector
    changed under its scores, or temporal/environmental metrics added."""
    cs = [c for v in vulns(doc) for sc in v.get("scores") or []
          for c in (sc.get("cvss_v3"), sc.get("cvss_v2")) if c]
    if not cs:
        return False
    c = rnd.choice(cs)
    v3 = c["vectorString"].startswith("CVSS:3")
    how = rnd.choice(["base", "base", "severity", "temporal", "environmental", "vector"])
    if how == "base":
        c["baseScore"] = round(min(10.0, max(0.0, c["baseScore"] + rnd.choice([-0.1, 0.1, 1.0]))), 1)
    elif how == "severity" and v3:
        c["baseSeverity"] = rnd.choice(["NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"])
    elif how == "temporal":
        c["vectorString"] += "/E:U/RL:O/RC:U" if v3 else "/E:U/RL:OF/RC:UC"
        c["temporalScore"] = rnd.choice([c["baseScore"], round(c["baseScore"] * 0.8, 1), 0.0])
        if v3 and rnd.random() < 0.5:
            c["temporalSeverity"] = rnd.choice(["LOW", "MEDIUM", "HIGH"])
    elif how == "environmental":
        c["vectorString"] += (rnd.choice(["/CR:H/IR:H/AR:H", "/MS:C/MC:H", "/MAV:P/MPR:H", "/MS:U"])
                              if v3 else rnd.choice(["/CDP:H/TD:H", "/CR:L/IR:L/AR:L/TD:M",
                                                     "/CDP:LM/TD:L/CR:H/IR:M/AR:ND"]))
        c["environmentalScore"] = rnd.choice([c["baseScore"], round(c["baseScore"] * 0.5, 1),
                                              10.0, 0.0])
        if v3 and rnd.random() < 0.5:
            c["environmentalSeverity"] = rnd.choice(["LOW", "MEDIUM", "HIGH", "CRITICAL"])
    else:
        vec = c["vectorString"]
        swaps = [("C:H", "C:L"), ("AV:N", "AV:L"), ("AC:L", "AC:H"), ("C:P", "C:C"), ("Au:N", "Au:S")]
        for a, b in rnd.sample(swaps, len(swaps)):
            if "/" + a in vec:
                c["vectorString"] = vec.replace("/" + a, "/" + b, 1)
                # keep 6.1.10 (properties agree with the vector) out of the way
                for k in [k for k in c if k not in ("version", "vectorString") and
                          not k.endswith(("Score", "Severity"))]:
                    del c[k]
                break
    return True


def m_6_1_11(doc, rnd):
    v = [x for x in vulns(doc) if "cwe" in x]
    if not v:
        return False
    v[0]["cwe"] = rnd.choice([{"id": "CWE-79", "name": "Cross-site Scripting"},
                              {"id": "CWE-999999", "name": "No such weakness"},
                              {"id": v[0]["cwe"]["id"], "name": v[0]["cwe"]["name"] + "."}])
    return True


def m_6_1_15(doc, rnd):
    doc["document"]["publisher"]["category"] = "translator"
    doc["document"].pop("source_lang", None)
    return True


def m_6_1_28(doc, rnd):
    doc["document"]["lang"] = "en"
    doc["document"]["source_lang"] = "en"
    return True


def m_revisions(which):
    def m(doc, rnd):
        t = doc["document"]["tracking"]
        h = t["revision_history"]
        semver = "." in t["version"]
        if which == "6.1.14":
            if len(h) < 2:
                return False
            h[0]["number"], h[-1]["number"] = h[-1]["number"], h[0]["number"]
        elif which == "6.1.17":
            t["version"] = "0.9.0" if semver else "0"
            h.append({"date": t["current_release_date"], "number": t["version"],
                      "summary": "x"})
        elif which == "6.1.18":
            h.insert(0, {"date": h[0]["date"], "number": "0.9.0" if semver else "0",
                         "summary": "x"})
        elif which == "6.1.19":
            if not semver:
                return False
            h.append({"date": t["current_release_date"], "number": t["version"] + "-rc.1",
                      "summary": "x"})
        elif which == "6.1.20":
            if not semver:
                return False
            t["version"] += "-rc.1"
        elif which == "6.1.21":
            h.append({"date": "2099-01-01T00:00:00Z", "number": "40.0.0" if semver else "40",
                      "summary": "x"})
        elif which == "6.1.22":
            h.append(copy.deepcopy(h[-1]))
        elif which == "6.1.30":
            h.append({"date": h[0]["date"], "number": "1" if semver else "1.0.0",
                      "summary": "x"})
        return True
    return m


def m_6_1_23(doc, rnd):
    v = vulns(doc)
    if len(v) < 1 or "cve" not in v[0]:
        return False
    v.append(copy.deepcopy(v[0]))
    return True


def m_6_1_24(doc, rnd):
    v = first_vuln(doc)
    if not v:
        return False
    inv = {"date": "2024-01-01T00:00:00Z", "party": "vendor", "status": "completed"}
    inv2 = dict(inv, status="open")
    for x in vulns(doc):
        x.setdefault("involvements", [])
    v["involvements"] += [inv, inv2]
    return True


def m_6_1_25(doc, rnd):
    pt = doc.get("product_tree") or {}
    fpn = pt.get("full_product_names")
    if not fpn:
        return False
    h = {"file_hashes": [{"algorithm": "sha256", "value": "a" * 64},
                         {"algorithm": "sha256", "value": "b" * 64}], "filename": "x.bin"}
    fpn[0].setdefault("product_identification_helper", {})["hashes"] = [h]
    return True


def m_category(value):
    def m(doc, rnd):
        doc["document"]["category"] = value
        return True
    return m


def m_6_1_27_x(change):
    def m(doc, rnd):
        cat = doc["document"]["category"]
        if change == "notes" and cat in ("csaf_security_advisory", "csaf_vex") and vulns(doc):
            vulns(doc)[0].pop("notes", None)
        elif change == "status" and vulns(doc):
            vulns(doc)[0].pop("product_status", None)
        elif change == "ids" and cat == "csaf_vex" and vulns(doc):
            vulns(doc)[0].pop("cve", None)
            vulns(doc)[0].pop("ids", None)
        elif change == "tree" and cat in ("csaf_security_advisory", "csaf_vex"):
            doc.pop("product_tree", None)
        elif change == "vulns" and cat in ("csaf_security_advisory", "csaf_vex"):
            doc.pop("vulnerabilities", None)
        elif change == "informational":
            doc["document"]["category"] = "csaf_informational_advisory"
        elif change == "incident":
            doc["document"]["category"] = "csaf_security_incident_response"
            doc["document"]["notes"] = [{"category": "legal_disclaimer", "text": "t"}]
        elif change == "vex-impact" and cat == "csaf_vex" and vulns(doc):
            v = vulns(doc)[0]
            if not (v.get("product_status") or {}).get("known_not_affected"):
                return False
            v.pop("threats", None)
            v.pop("flags", None)
        elif change == "vex-action" and cat == "csaf_vex" and vulns(doc):
            v = vulns(doc)[0]
            if not (v.get("product_status") or {}).get("known_affected"):
                return False
            v.pop("remediations", None)
        else:
            return False
        return True
    return m


def m_6_1_29(doc, rnd):
    if not vulns(doc) or not all(v.get("remediations") for v in vulns(doc)):
        return False
    r = vulns(doc)[0]["remediations"][0]
    r.pop("product_ids", None)
    r.pop("group_ids", None)
    return True


def m_6_1_31(doc, rnd):
    branches = [v for p, v in walk(doc) if isinstance(v, dict) and
                v.get("category") == "product_version" and "name" in v]
    if not branches:
        return False
    rnd.choice(branches)["name"] = rnd.choice(["<= 4.2", "prior to 4.2", "all versions",
                                               "4.2 and later"])
    return True


def m_flags(kind):
    def m(doc, rnd):
        ids = product_ids(doc)
        if not vulns(doc) or not ids:
            return False
        for v in vulns(doc):
            v.setdefault("flags", [])
        f = {"label": "component_not_present", "product_ids": [ids[0]]}
        if kind == "6.1.32":
            vulns(doc)[0]["flags"].append({"label": "component_not_present"})
        else:
            vulns(doc)[0]["flags"] += [f, dict(f, label="vulnerable_code_not_present")]
        return True
    return m


TARGETED = [("6.1.3", m_6_1_3), ("6.1.4", m_6_1_4), ("6.1.5", m_6_1_5), ("6.1.6", m_6_1_6),
            ("6.1.7", m_6_1_7), ("6.1.9", m_6_1_9), ("6.1.9", m_6_1_9),
            ("6.1.9", m_6_1_9), ("6.1.10", m_6_1_10), ("6.1.11", m_6_1_11), ("6.1.15", m_6_1_15), ("6.1.28", m_6_1_28),
            ("6.1.23", m_6_1_23), ("6.1.24", m_6_1_24), ("6.1.25", m_6_1_25),
            ("6.1.26", m_category("csaf_ vex")), ("6.1.26", m_category("Security-Advisory")),
            ("6.1.26", m_category("csaf_other")), ("6.1.29", m_6_1_29), ("6.1.31", m_6_1_31),
            ("6.1.32", m_flags("6.1.32")), ("6.1.33", m_flags("6.1.33"))]
TARGETED += [(t, m_revisions(t)) for t in ("6.1.14", "6.1.17", "6.1.18", "6.1.19", "6.1.20", "6.1.21",
                                            "6.1.22", "6.1.30")]
TARGETED += [("6.1.27", m_6_1_27_x(c)) for c in ("notes", "status", "ids", "tree", "vulns",
                                                 "informational", "incident", "vex-impact",
                                                 "vex-action")]
# what advisoryfs implements, each to be hit by at least one mutant
IMPLEMENTED = ["6_1_1", "6_1_2", "6_1_3", "6_1_4", "6_1_5", "6_1_6", "6_1_7", "6_1_9", "6_1_10", "6_1_11", "6_1_14",
               "6_1_15", "6_1_16", "6_1_17", "6_1_18", "6_1_19", "6_1_20", "6_1_21", "6_1_22", "6_1_23",
               "6_1_24", "6_1_25", "6_1_26", "6_1_27_1", "6_1_27_2", "6_1_27_3", "6_1_27_4",
               "6_1_27_5", "6_1_27_6", "6_1_27_7", "6_1_27_8", "6_1_27_9", "6_1_27_10",
               "6_1_27_11", "6_1_28", "6_1_29", "6_1_30", "6_1_31", "6_1_32", "6_1_33"]


def mutants(bases, out, rnd):
    """Write the mutants of each base document into out; returns their paths."""
    paths = []
    for n, base in enumerate(bases):
        doc0 = json.loads(base.read_bytes())
        made = 0
        plan = [m for _, m in TARGETED] + [generic] * (MUTANTS_PER_DOC - len(TARGETED))
        for i, mutate in enumerate(plan):
            doc = copy.deepcopy(doc0)
            if not mutate(doc, rnd):
                continue
            try:
                doc["document"]["tracking"]["id"] = f"MUT-{n}-{i}"
            except (KeyError, TypeError):
                pass
            path = out / f"m{n:03d}-{i:03d}.json"
            path.write_text(json.dumps(doc))
            paths.append(path)
            made += 1
    return paths


def disagreements(ref, mine):
    return [f"{p}: reference {ref[p][0]} ({ref[p][1]}), advisoryfs {mine[p][0]} ({mine[p][1]})"
            for p in ref if ref[p][0] != mine[p][0]]


def test_corpus_same_verdict(tmp_path):
    npm_ci()
    files = corpus()
    assert len(files) > 70
    store = new_store(tmp_path)
    before = dump(store)
    ref, mine = reference(files), ours(store, files)
    assert dump(store) == before
    bad = disagreements(ref, mine)
    assert not bad, "\n".join(bad)
    # the corpus holds both verdicts
    assert {v for v, _ in ref.values()} == {"valid", "invalid"}


def test_mutations_same_verdict(tmp_path):
    npm_ci()
    files = corpus()
    ref0 = reference(files)
    bases = [f for f in files if ref0[str(f)][0] == "valid" and f.stat().st_size < 200_000]
    out = tmp_path / "mutants"
    out.mkdir()
    paths = mutants(bases, out, random.Random(SEED))
    assert len(paths) >= 2000, len(paths)
    store = new_store(tmp_path)
    before = dump(store)
    ref, mine = reference(paths), ours(store, paths)
    assert dump(store) == before
    bad = disagreements(ref, {str(k): v for k, v in mine.items()})
    assert not bad, f"{len(bad)} of {len(paths)} disagree:\n" + "\n".join(bad[:40])
    verdicts = [v for v, _ in ref.values()]
    assert verdicts.count("invalid") > len(paths) // 3
    assert verdicts.count("valid") > 100
    # every mandatory test advisoryfs implements is hit, and the schema too
    failed = ",".join(f for _, f in ref.values())
    missing = [t for t in IMPLEMENTED if f"mandatoryTest_{t}," not in failed + ","]
    assert not missing, missing
    assert "csaf_2_0_strict" in failed
    # and each refusal names its rule: the schema or the test's number
    for p, (v, msg) in mine.items():
        if v == "invalid":
            assert ": schema: " in msg or ": 6.1." in msg or msg, (p, msg)
