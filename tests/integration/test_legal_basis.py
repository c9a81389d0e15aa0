"""The legal basis texts: what a recipient, an auditor or a court reads in
user.advisoryfs.basis, in `explain` and in every ledger entry.

Every basis of the shipped policies cites public sources (articles, the
regulation with its Staatscourant reference, FIRST TLP 2.0, CSAF 2.0
sections), never a file of the advisoryfs sources; `policy check` warns about
a basis that names one; and `explain` of the demo store's permits and forbids,
at today's date and at the dates around the 2022 amendment, prints only such
texts.  The file-name pattern here is written independently of the C one
(policy/policy_basis.c), so each checks the other.
"""

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from helpers import ROOT, demo_store, ok, run
from tenantlib import mounts  # noqa: F401  (fixture)

# a word that is a path (./x, ../x, /x, ~/x, a/b/c) or a file with the
# extension of a document or a source file; URLs are sources
FILE_WORD = re.compile(
    r"""(?<![\w/.:])(?:
        (?:\.{1,2}|~)?/[\w.-]+(?:/[\w.-]+)*          # absolute or relative path
      | [\w.-]+/[\w.-]+/[\w./-]+                      # a/b/c
      | [\w-]+(?:/[\w.-]+)*\.(?:md|markdown|txt|rst|adoc|org|c|h|py|sh|json|ya?ml|toml
                             |ini|conf|cfg|html?|pdf|docx?|odt|xml|csv|in)
    )(?![\w/])""", re.X | re.I)
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)


def file_words(text):
    return FILE_WORD.findall(URL.sub(" ", text))


def shipped_policies():
    files = sorted((ROOT / "policy").glob("*.json")) + \
        sorted((ROOT / "policy" / "examples").glob("**/*.json")) + \
        sorted((ROOT / "tests" / "data" / "policy").glob("*.json"))
    assert len(files) >= 3
    return files


def bases(policy_file):
    return [(r["id"], r["basis"]) for r in json.loads(policy_file.read_text())["rules"]]


def test_the_pattern_itself():
    assert file_words("as understood (CONTEXT.md, 'public')") == ["CONTEXT.md"]
    assert file_words("SPEC.md section 3; see docs/LEDGER.md.") == ["SPEC.md", "docs/LEDGER.md"]
    assert file_words("in ./notes and /etc/x and a/b/c") == ["./notes", "/etc/x", "a/b/c"]
    for fine in ("Wbni art. 3(2)(a) and art. 20(2)(d)", "Stcrt. 2020, 4410",
                 "CSAF 2.0 section 3.2.1.12.7", "AVG/GDPR art. 6", "ncsc.nl",
                 "https://wetten.overheid.nl/BWBR0041515/2022-12-01", "TLP:AMBER+STRICT"):
        assert file_words(fine) == [], fine


@pytest.mark.parametrize("policy_file", shipped_policies(), ids=lambda p: p.name)
def test_shipped_bases_cite_sources_and_check_clean(policy_file):
    for rid, basis in bases(policy_file):
        assert basis.strip(), rid
        assert file_words(basis) == [], f"{policy_file.name}: rule {rid}: {basis}"
    p = ok("policy", "check", policy_file)
    assert "warning" not in p.stderr and p.stderr == "", p.stderr
    assert "with warnings" not in p.stdout


def test_policy_check_and_load_warn_about_a_file_basis(tmp_path):
    pol = json.loads((ROOT / "policy" / "wbni-default.json").read_text())
    pol["rules"][0]["basis"] = "as understood from CONTEXT.md, 'public'"
    pol["rules"][3]["basis"] = "see docs/law/wbni for the text"
    f = tmp_path / "p.json"
    f.write_text(json.dumps(pol))
    p = run("policy", "check", f)
    assert p.returncode == 0, p.stderr                     # a warning, not an error
    assert p.stdout == f"{f}: valid, {len(pol['rules'])} rules (with warnings)\n"
    lines = p.stderr.splitlines()
    assert lines == [
        f"advisoryfs: warning: policy check: {f}: rule '{pol['rules'][0]['id']}': its basis "
        "names a file ('CONTEXT.md'), not a public source; cite the article, the regulation "
        "or the standard",
        f"advisoryfs: warning: policy check: {f}: rule '{pol['rules'][3]['id']}': its basis "
        "names a file ('docs/law/wbni'), not a public source; cite the article, the "
        "regulation or the standard"]
    s = tmp_path / "s.db"
    ok("init", store=s)
    p = run("policy", "load", f, store=s)
    assert p.returncode == 0 and p.stdout.startswith("loaded ")
    assert len([x for x in p.stderr.splitlines() if "warning: policy load" in x]) == 2
    # and it is loaded: the warning does not block an operator
    assert json.loads(ok("policy", "show", store=s).stdout)["rules"][0]["basis"] == \
        pol["rules"][0]["basis"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_store(tmp_path_factory.mktemp("demo") / "demo.db")


def demo_ids(store):
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT tracking_id FROM advisory"))
    finally:
        con.close()


def test_explain_of_the_demo_store_prints_only_sources(demo):
    orgs = [o["slug"] for o in json.loads(ok("org", "list", "--json", store=demo).stdout)]
    orgs.append("public")
    ids = demo_ids(demo)
    assert len(orgs) > 20 and len(ids) > 100
    dates = (None, "2020-10-15", "2022-11-30", "2022-12-01")
    # every permit that decides the demo store, now and around the 2022-12-01
    # amendment, with one case of each, from the listings
    cases = {}
    for at in dates:
        for org in orgs:
            v = json.loads(ok("visible", org, "--json", *(["--at", at] if at else []),
                              store=demo).stdout)
            for a in v["advisories"]:
                for r in a["rules"]:
                    cases.setdefault(r, (org, a["tracking_id"], at))
    permits_in_use = set(cases)
    assert {"permit-public-clear", "permit-vital-government", "permit-csirt-constituency",
            "permit-oktt-constituency", "permit-oktt-constituency-no-pd"} <= permits_in_use
    # those cases, and a spread of every organisation and advisory (denials
    # among them) at each date
    todo = list(cases.values())
    for k, at in enumerate(dates):
        step = 61 if at is None else 151
        for i, org in enumerate(orgs):
            todo += [(org, adv, at) for adv in ids[(i + k) % step::step]]
    determining = {}          # rule id -> effect, of the decisions seen
    seen_bases = set()
    explained = 0
    for org, adv, at in todo:
        args = ["explain", org, adv, "--json"] + (["--at", at] if at else [])
        p = run(*args, store=demo)
        if p.returncode != 0 and "released by" in p.stderr:
            continue          # not released yet at `at`: nothing to explain
        assert p.returncode == 0, f"{args}: {p.stderr}"
        explained += 1
        e = json.loads(p.stdout)
        for r in e["rules"] + e["builtin"] + e["determining"]:
            seen_bases.add(r["basis"])
        for r in e["determining"]:
            determining[r["id"]] = r["effect"]
    assert explained > 150, explained
    permits = {r for r, eff in determining.items() if eff == "permit"}
    forbids = {r for r, eff in determining.items() if eff == "forbid"}
    assert permits_in_use <= permits, permits_in_use - permits
    assert {"forbid-withdrawn", "forbid-personal-data-without-basis"} <= forbids, forbids
    bad = {b: file_words(b) for b in seen_bases if file_words(b)}
    assert not bad, bad
    # the text form prints the same bases
    p = ok("explain", "z-cert", ids[0], store=demo)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip().startswith("basis:")]
    assert lines and all(not file_words(ln) for ln in lines), lines


def test_the_basis_attribute_on_the_mount(demo, mounts):  # noqa: F811
    m = mounts(demo, "lb")
    try:
        docs = sorted((m.mnt / "public" / "white").glob("*/*.json"))
        assert docs
        v = os.getxattr(docs[0], "user.advisoryfs.basis").decode()
        rules = dict(bases(ROOT / "policy" / "wbni-default.json"))
        assert rules["permit-public-clear"] in v
        assert file_words(v) == [], v
    finally:
        m.unmount()
