"""The command line and the publishing rules, through the real program and a
real SQLite store (SPEC.md section 1)."""

import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import (BIN, csaf_dir, db, dump, make_doc, new_store, ok, run, stored_bytes,
                     write_doc)

COMMANDS = ["init", "org", "publish", "import", "withdraw", "share", "policy", "visible",
            "explain", "key", "provider", "audit", "mount", "serve"]


# ---- help and usage ------------------------------------------------------------------

def test_help():
    p = ok("--help")
    assert p.stdout.startswith("usage: advisoryfs")
    for c in COMMANDS:
        assert f"  {c} " in p.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_subcommand_help(cmd):
    p = run(cmd, "--help")
    assert p.returncode == 0, p.stderr
    assert "usage:" in p.stdout
    assert "-" in p.stdout
    # help and 'help CMD' agree
    q = run("help", cmd)
    assert q.returncode == 0 and "usage:" in q.stdout


@pytest.mark.parametrize("args", [["--bogus"], ["init", "--bogus"], ["org", "add", "--bogus"],
                                  ["publish", "--bogus"], ["import", "--frobnicate"],
                                  ["visible", "x", "--bogus"], ["policy", "show", "--bogus"],
                                  ["withdraw", "--bogus"], ["explain", "--x"]])
def test_wrong_option(tmp_path, args):
    p = run(*args, store=tmp_path / "none.db")
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert len(lines) == 2, p.stderr
    assert lines[0].startswith("advisoryfs")
    assert any(o in lines[0] for o in ("--bogus", "--frobnicate", "--x"))
    assert lines[1].startswith("Try 'advisoryfs") and lines[1].endswith("--help'.")


def test_no_store(tmp_path):
    env = {"ADVISORYFS_STORE": ""}
    p = run("org", "list", env=env)
    assert p.returncode == 1
    assert p.stderr.strip() == "advisoryfs: no store: give -s PATH or set ADVISORYFS_STORE"
    # the environment variable works
    store = new_store(tmp_path)
    p = run("org", "list", env={"ADVISORYFS_STORE": str(store)})
    assert p.returncode == 0, p.stderr


def test_init_refuses_existing(tmp_path):
    store = new_store(tmp_path)
    before = store.read_bytes()
    p = run("init", store=store)
    assert p.returncode == 1
    assert "already exists" in p.stderr and len(p.stderr.splitlines()) == 1
    assert store.read_bytes() == before
    other = tmp_path / "plain.txt"
    other.write_text("not a store")
    p = run("org", "list", store=other)
    assert p.returncode == 1 and "not an advisoryfs store" in p.stderr
    assert other.read_text() == "not a store"
    assert (os.stat(store).st_mode & 0o777) == 0o600


# ---- organisations -------------------------------------------------------------------

def test_org_commands(tmp_path):
    s = new_store(tmp_path)
    ok("org", "add", "z-cert", "--name", "Z-CERT", "--sector", "health", store=s)
    ok("org", "role", "z-cert", "csirt", "--from", "2020-01-14", "--ref", "Stcrt. 2020, 4410",
       store=s)
    ok("org", "add", "hospital-a", "--name", "Hospital A", "--sector", "health", store=s)
    ok("org", "member", "z-cert", "hospital-a", "--from", "2020-01-14", store=s)
    refusals = [
        (["org", "add", "Bad_Slug", "--name", "x"], "invalid slug"),
        (["org", "add", "public", "--name", "x"], "reserved"),
        (["org", "add", "z-cert", "--name", "again"], "already exists"),
        (["org", "add", "x1", "--name", "x", "--sector", "astrology"], "unknown sector"),
        (["org", "role", "z-cert", "wizard"], "unknown role 'wizard'"),
        (["org", "role", "nobody", "csirt"], "no organisation 'nobody'"),
        (["org", "role", "z-cert", "csirt", "--from", "2021-01-01", "--until", "2020-01-01"],
         "--from is after --until"),
        (["org", "member", "z-cert", "z-cert"], "member of itself"),
        (["org", "member", "z-cert", "nobody"], "no organisation 'nobody'"),
        (["org", "role", "hospital-a", "vital", "--remove"], "has no role"),
    ]
    for args, msg in refusals:
        before = dump(s)
        p = run(*args, store=s)
        assert p.returncode == 1, args
        assert msg in p.stderr and len(p.stderr.splitlines()) == 1, (args, p.stderr)
        assert p.stderr.startswith("advisoryfs: org ")
        assert dump(s) == before, args
    p = run("org", "role", "z-cert", "csirt", "--from", "yesterday", store=s)
    assert p.returncode == 2 and "not a time" in p.stderr

    # running role again changes the dates: --until ends it
    ok("org", "role", "z-cert", "csirt", "--until", "2030-12-31", store=s)
    orgs = json.loads(ok("org", "list", "--json", store=s).stdout)
    z = next(o for o in orgs if o["slug"] == "z-cert")
    assert z["sectors"] == ["health"]
    assert z["roles"] == [{"role": "csirt", "from": None, "until": "2030-12-31T23:59:59Z",
                           "ref": "Stcrt. 2020, 4410"}]
    assert z["members"][0]["member"] == "hospital-a"
    ok("org", "member", "z-cert", "hospital-a", "--remove", store=s)
    ok("org", "role", "z-cert", "csirt", "--remove", store=s)
    z = next(o for o in json.loads(ok("org", "list", "--json", store=s).stdout)
             if o["slug"] == "z-cert")
    assert z["roles"] == [] and z["members"] == []
    ok("org", "bind", "z-cert", "--uid", "1234", "--gid", "1234", store=s)
    z = next(o for o in json.loads(ok("org", "list", "--json", store=s).stdout)
             if o["slug"] == "z-cert")
    assert z["uid"] == 1234 and z["gid"] == 1234
    text = ok("org", "list", store=s).stdout
    assert "z-cert\tZ-CERT" in text


# ---- publishing rules ----------------------------------------------------------------

def publish_refused(store, args, msg, tmp_path):
    """publish must fail with one line naming msg, and change nothing."""
    before = dump(store)
    p = run("publish", *args, store=store)
    assert p.returncode == 1, (args, p.stdout, p.stderr)
    first = p.stderr.splitlines()[0]
    assert first.startswith("advisoryfs: publish: "), p.stderr
    assert msg in first, (msg, p.stderr)
    assert dump(store) == before
    return p


def test_required_fields(tmp_path):
    s = new_store(tmp_path)
    fields = [
        ("document", "category"), ("document", "csaf_version"), ("document", "publisher"),
        ("document", "title"), ("document", "tracking"),
        ("tracking", "id"), ("tracking", "status"), ("tracking", "version"),
        ("tracking", "initial_release_date"), ("tracking", "current_release_date"),
        ("tracking", "revision_history"),
    ]
    for i, (parent, field) in enumerate(fields):
        d = make_doc(f"REQ-{i}")
        obj = d["document"] if parent == "document" else d["document"]["tracking"]
        del obj[field]
        f = write_doc(tmp_path / f"req-{i}.json", d)
        publish_refused(s, [f], field, tmp_path)
        # accepted when present
        good = write_doc(tmp_path / f"req-ok-{i}.json", make_doc(f"REQ-{i}"))
        ok("publish", good, store=s)

    bad_values = [
        (lambda d: d["document"].__setitem__("csaf_version", "2.1"), "csaf_version"),
        (lambda d: d["document"].__setitem__("title", 42), "title"),
        (lambda d: d["document"]["tracking"].__setitem__("status", "published"), "status"),
        (lambda d: d["document"]["tracking"].__setitem__("version", "01"), "version"),
        (lambda d: d["document"]["tracking"].__setitem__("initial_release_date",
                                                         "2024-13-01T00:00:00Z"),
         "initial_release_date"),
        (lambda d: d["document"]["tracking"].__setitem__("current_release_date", "yesterday"),
         "current_release_date"),
        (lambda d: d["document"]["tracking"].__setitem__("revision_history", []),
         "revision_history"),
        (lambda d: d["document"]["tracking"].__setitem__("id", ""), "id"),
        (lambda d: d["document"]["distribution"]["tlp"].__setitem__("label", "PURPLE"),
         "PURPLE"),
    ]
    for i, (mutate, msg) in enumerate(bad_values):
        d = make_doc(f"BAD-{i}")
        mutate(d)
        f = write_doc(tmp_path / f"bad-{i}.json", d)
        publish_refused(s, [f], msg, tmp_path)

    f = write_doc(tmp_path / "notjson.json", "{ this is not json")
    publish_refused(s, [f], "notjson.json", tmp_path)


def test_tlp_rules(tmp_path):
    s = new_store(tmp_path)
    nolabel = write_doc(tmp_path / "nolabel.json", make_doc("TLP-1", tlp=None))
    publish_refused(s, [nolabel], "no TLP", tmp_path)
    ok("publish", nolabel, "--tlp", "AMBER", store=s)

    amber = write_doc(tmp_path / "amber.json", make_doc("TLP-2", tlp="AMBER"))
    publish_refused(s, [amber, "--tlp", "GREEN"], "loosen", tmp_path)
    publish_refused(s, [amber, "--tlp", "CLEAR"], "loosen", tmp_path)
    ok("publish", amber, "--tlp", "AMBER+STRICT", store=s)

    white = write_doc(tmp_path / "white.json", make_doc("TLP-3", tlp="WHITE"))
    ok("publish", white, "--tlp", "CLEAR", store=s)  # WHITE is CLEAR: not a loosening

    p = run("publish", white, "--tlp", "PURPLE", store=s)
    assert p.returncode == 2 and "unknown label" in p.stderr
    with db(s) as c:
        tlps = dict(c.execute("SELECT a.tracking_id, v.tlp FROM advisory a JOIN version v "
                              "ON v.advisory_id = a.id").fetchall())
    assert tlps == {"TLP-1": 2, "TLP-2": 3, "TLP-3": 0}


def test_versions_and_bytes(tmp_path):
    s = new_store(tmp_path)
    v1 = write_doc(tmp_path / "v1.json", make_doc("VER-1", "1.0.0"))
    v2 = write_doc(tmp_path / "v2.json", make_doc("VER-1", "2.0.0",
                                                  current="2024-04-01T10:00:00Z"))
    v1b = write_doc(tmp_path / "v1b.json", make_doc("VER-1", "1.0.0", title="Other bytes"))
    ok("publish", v1, store=s)
    # same version, same bytes: accepted as unchanged
    p = ok("publish", v1, store=s)
    assert "already stored unchanged" in p.stdout
    publish_refused(s, [v1b], "already stored with different bytes", tmp_path)
    ok("publish", v2, store=s)
    publish_refused(s, [v1b], "already stored with different bytes", tmp_path)
    v15 = write_doc(tmp_path / "v15.json", make_doc("VER-1", "1.5.0"))
    publish_refused(s, [v15], "older than the stored version '2.0.0'", tmp_path)
    p = ok("publish", v1, store=s)  # an old version, re-published unchanged, is fine
    assert "already stored unchanged" in p.stdout
    assert stored_bytes(s, "VER-1") == [v1.read_bytes(), v2.read_bytes()]
    # integer versioning cannot follow semantic versioning
    v3 = write_doc(tmp_path / "v3.json", make_doc("VER-1", "3"))
    publish_refused(s, [v3], "cannot be ordered", tmp_path)
    # integer versions order numerically
    for n in ["1", "2", "10"]:
        ok("publish", write_doc(tmp_path / f"int{n}.json",
                                make_doc("INT-1", n, current=f"2024-03-{int(n) + 1:02d}T10:00:00Z")),
           store=s)
    publish_refused(s, [write_doc(tmp_path / "int9.json", make_doc("INT-1", "9"))], "older",
                    tmp_path)

    # hashes are of the exact bytes, and odd formatting is kept
    raw = json.dumps(make_doc("RAW-1"), indent=None, separators=(",", ":")) + "\n\n"
    f = write_doc(tmp_path / "raw.json", raw)
    ok("publish", f, store=s)
    assert stored_bytes(s, "RAW-1") == [f.read_bytes()]
    import hashlib
    with db(s) as c:
        h = c.execute("SELECT v.sha256, v.sha512, v.size FROM version v JOIN advisory a ON "
                      "a.id = v.advisory_id WHERE a.tracking_id = 'RAW-1'").fetchone()
    assert bytes(h[0]) == hashlib.sha256(f.read_bytes()).digest()
    assert bytes(h[1]) == hashlib.sha512(f.read_bytes()).digest()
    assert h[2] == len(f.read_bytes())


def test_new_version_needs_a_later_date(tmp_path):
    """A newer tracking.version whose current_release_date did not move would
    keep the mtime of the document and its hash files, so mirrors (rsync -a)
    would keep the old hash files: refused, with the reason, store unchanged."""
    s = new_store(tmp_path)
    ok("publish", write_doc(tmp_path / "v1.json", make_doc("DATE-1", "1.0.0",
                                                           current="2024-03-05T10:00:00Z")),
       store=s)
    before = dump(s)
    for i, cur in enumerate(["2024-03-05T10:00:00Z", "2024-03-04T10:00:00Z"]):
        v2 = write_doc(tmp_path / f"v2-{i}.json", make_doc("DATE-1", "2.0.0", current=cur))
        p = publish_refused(s, [v2], "not later than 2024-03-05T10:00:00Z", tmp_path)
        assert "document.tracking.current_release_date" in p.stderr, p.stderr
        assert "mirrors would keep the old hash files" in p.stderr, p.stderr
    assert dump(s) == before
    ok("publish", write_doc(tmp_path / "v2.json", make_doc("DATE-1", "2.0.0",
                                                           current="2024-03-05T10:00:01Z")),
       store=s)


def test_publish_check_validates_only(tmp_path):
    """publish --check: the same checks and the same one-line report as
    publish, and the store is left as it was (accepted or refused)."""
    s = new_store(tmp_path)
    good = write_doc(tmp_path / "good.json", make_doc("CHK-1"))
    d = make_doc("CHK-2")
    d["vulnerabilities"] = [{"cve": "CVE-ABC"}]
    bad = write_doc(tmp_path / "bad.json", d)
    before = dump(s)
    p = ok("publish", "--check", good, store=s)
    assert p.stdout == "checked 1 document: it conforms and would be published\n", p.stdout
    assert dump(s) == before
    p = run("publish", "--check", bad, store=s)
    q = run("publish", bad, store=s)
    assert p.returncode == q.returncode == 1
    assert p.stderr == q.stderr, (p.stderr, q.stderr)
    assert p.stderr.startswith(f"advisoryfs: publish: {bad}: vulnerabilities[0].cve: schema: "
                               "does not match the pattern"), p.stderr
    assert len(p.stderr.splitlines()) == 1
    assert dump(s) == before
    p = run("publish", "--check", good, bad, store=s)
    assert p.returncode == 1 and "--check: 1 of 2 refused" in p.stderr, p.stderr
    assert dump(s) == before
    ok("publish", good, store=s)
    p = ok("publish", "--check", good, store=s)
    assert "already stored unchanged" in p.stdout, p.stdout


def test_filename_collision(tmp_path):
    s = new_store(tmp_path)
    a = write_doc(tmp_path / "a.json", make_doc("ACME:2024/1"))
    b = write_doc(tmp_path / "b.json", make_doc("acme_2024_1"))
    ok("publish", a, store=s)
    publish_refused(s, [b], "maps to the file name 'acme_2024_1.json'", tmp_path)
    with db(s) as c:
        assert c.execute("SELECT filename FROM advisory").fetchall() == [("acme_2024_1.json",)]


def test_all_or_nothing(tmp_path):
    s = new_store(tmp_path)
    ok("org", "add", "acme", "--name", "ACME", store=s)
    good = write_doc(tmp_path / "good.json", make_doc("AON-1"))
    good2 = write_doc(tmp_path / "good2.json", make_doc("AON-2"))
    bad = write_doc(tmp_path / "bad.json", make_doc("AON-3", tlp=None))
    p = publish_refused(s, [good, bad, good2], "bad.json", tmp_path)
    assert "nothing was stored" in p.stderr
    publish_refused(s, [good, "--concerns", "nobody"], "no organisation 'nobody'", tmp_path)
    publish_refused(s, [good, "--sectors", "astrology"], "unknown sector", tmp_path)
    publish_refused(s, [good, "--signature", str(good)], "signature", tmp_path)
    ok("publish", good, good2, "--concerns", "acme", "--sectors", "health,energy",
       "--personal-data", "--impact", "significant", "--embargo-until", "2030-01-01", store=s)
    with db(s) as c:
        rows = c.execute("SELECT a.tracking_id, v.personal_data, v.impact_significant, "
                         "v.embargo_until FROM advisory a JOIN version v ON "
                         "v.advisory_id = a.id ORDER BY 1").fetchall()
        assert rows == [("AON-1", 1, 1, 1893456000), ("AON-2", 1, 1, 1893456000)]
        assert c.execute("SELECT count(*) FROM version_concern").fetchone()[0] == 2
        assert c.execute("SELECT count(*) FROM version_sector").fetchone()[0] == 4


def test_limits(tmp_path):
    s = new_store(tmp_path)
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.write(b"{" + b" " * (16 * 1024 * 1024 + 10) + b"}")
    publish_refused(s, [big], "16777216", tmp_path)
    deep = write_doc(tmp_path / "deep.json", '{"a":' * 100 + "1" + "}" * 100)
    publish_refused(s, [deep], "deep", tmp_path)
    longstr = make_doc("LONG-1")
    longstr["document"]["notes"] = [{"category": "general", "text": "x" * ((1 << 20) + 1)}]
    publish_refused(s, [write_doc(tmp_path / "long.json", longstr)], "long", tmp_path)
    nul = write_doc(tmp_path / "nul.json", json.dumps(make_doc("NUL-1")).encode() + b"\0")
    publish_refused(s, [nul], "NUL", tmp_path)
    bad_utf8 = json.dumps(make_doc("UTF-1", title="caf\u00e9"), ensure_ascii=False).encode().replace(
        "é".encode(), b"\xc3\x28")
    publish_refused(s, [write_doc(tmp_path / "utf8.json", bad_utf8)], "UTF-8", tmp_path)
    many = ",".join(f"org{i}" for i in range(300))
    p = run("publish", str(tmp_path / "x.json"), "--concerns", many, store=s)
    assert p.returncode != 0 and "256" in p.stderr


# ---- the real corpus -----------------------------------------------------------------

def sources_validity():
    """file -> 'valid'/'invalid' from csaf/SOURCES.md (the official validator's verdict)."""
    table = {}
    src = csaf_dir() / "SOURCES.md"
    if not src.exists():
        return table
    for line in src.read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 8 and cells[1].startswith("advisories/"):
            table[cells[1]] = cells[-2]
    return table


def test_real_documents(tmp_path):
    base = csaf_dir()
    docs = sorted(p for p in (base / "advisories").rglob("*.json")
                  if not p.name.endswith(".dist.json"))
    validity = sources_validity()
    assert docs
    s = new_store(tmp_path)
    published, refused = [], []
    # older versions first (multiple-versions/15 before /29)
    docs.sort(key=lambda p: (p.name, len(str(p)), str(p)))
    for d in docs:
        rel = str(d.relative_to(base))
        p = run("publish", d, "--tlp", "CLEAR", store=s)
        if p.returncode == 0:
            published.append(rel)
            continue
        lines = p.stderr.splitlines()
        assert lines[0].startswith(f"advisoryfs: publish: {d}: "), p.stderr
        refused.append((rel, lines[0]))
    for rel, why in refused:
        # only what the official validator also rejects, or what is not a CSAF document
        assert validity.get(rel) in ("invalid", None), (rel, why)
    for rel, verdict in validity.items():
        if verdict == "valid":
            assert rel in published, (rel, dict(refused).get(rel))
    # the stored bytes of each published document equal the source file
    with db(s) as c:
        rows = c.execute("SELECT v.source, b.bytes FROM version v JOIN version_blob b ON "
                         "b.version_id = v.id").fetchall()
    assert len(rows) == len(published)
    for source, blob in rows:
        assert Path(source).read_bytes() == bytes(blob), source


def test_filename_cases():
    """CSAF 2.0 section 5.1: the official valid names are what the store computes."""
    base = csaf_dir() / "filename-tests"
    for f in (base / "valid").glob("*.json"):
        tid = json.loads(f.read_text())["document"]["tracking"]["id"]
        assert expected_name(tid) == f.name
    for f in (base / "invalid").glob("*.json"):
        tid = json.loads(f.read_text())["document"]["tracking"]["id"]
        assert expected_name(tid) != f.name


def expected_name(tid):
    return re.sub(r"[^+\-a-z0-9]+", "_", tid.lower()) + ".json"


def test_filename_computed_by_store(tmp_path):
    s = new_store(tmp_path)
    base = csaf_dir() / "filename-tests"
    for f in sorted((base / "valid").glob("*.json")) + sorted((base / "invalid").glob("*.json")):
        run("publish", f, "--tlp", "CLEAR", store=s)
    with db(s) as c:
        names = {r[0]: r[1] for r in c.execute("SELECT tracking_id, filename FROM advisory")}
    for f in (base / "valid").glob("*.json"):
        tid = json.loads(f.read_text())["document"]["tracking"]["id"]
        assert names.get(tid) == f.name
    for f in (base / "invalid").glob("*.json"):
        tid = json.loads(f.read_text())["document"]["tracking"]["id"]
        if tid in names:
            assert names[tid] != f.name and names[tid] == expected_name(tid)


# ---- import --------------------------------------------------------------------------

def test_import_tree(tmp_path):
    s = new_store(tmp_path)
    ok("org", "add", "acme", "--name", "ACME", store=s)
    tree = tmp_path / "tree"
    base = csaf_dir() / "advisories"
    # a received CSAF provider tree imports as it is (with .asc and .sha512 companions)
    cisa = base / "cisa" / "IT"
    (tree / "cisa").mkdir(parents=True)
    subprocess.run(["cp", "-a", str(cisa) + "/.", str(tree / "cisa")], check=True)
    # documents with distribution metadata
    write_doc(tree / "gen" / "a.json", make_doc("IMP-1", tlp="AMBER"))
    (tree / "gen" / "a.json.dist.json").write_text(json.dumps(
        {"tlp": "AMBER+STRICT", "concerns": ["acme"], "sectors": ["health"],
         "personal_data": True, "impact": "significant",
         "embargo_until": "2030-01-01T00:00:00Z"}))
    write_doc(tree / "gen" / "b" / "v2.json", make_doc("IMP-2", "2",
                                                        current="2024-05-01T00:00:00Z"))
    write_doc(tree / "gen" / "a" / "v1.json", make_doc("IMP-2", "1"))
    write_doc(tree / "gen" / "bad.json", make_doc("IMP-3", tlp=None))
    write_doc(tree / "gen" / "baddist.json", make_doc("IMP-4"))
    (tree / "gen" / "baddist.json.dist.json").write_text('{"colour": "blue"}')
    p = run("import", tree, store=s)
    assert p.returncode == 1, p.stdout + p.stderr
    out = p.stdout.splitlines()
    assert out[-1] == "7 published, 0 unchanged, 2 refused, 1 skipped", p.stdout
    assert any(l.startswith("refused    ") and "bad.json: no TLP" in l for l in out)
    assert any(l.startswith("refused    ") and "colour" in l for l in out)
    assert any(l.startswith("skipped    ") and "feed" in l for l in out)
    with db(s) as c:
        row = c.execute("SELECT v.tlp, v.personal_data, v.impact_significant, v.embargo_until "
                        "FROM version v JOIN advisory a ON a.id = v.advisory_id WHERE "
                        "a.tracking_id = 'IMP-1'").fetchone()
        assert row == (3, 1, 1, 1893456000)
        sigs = c.execute("SELECT count(*) FROM version_blob WHERE signature IS NOT NULL"
                         ).fetchone()[0]
        assert sigs == 4
    # versions went in version order, though v2 sorted first by path
    assert [b for b in stored_bytes(s, "IMP-2")] == [
        (tree / "gen" / "a" / "v1.json").read_bytes(), (tree / "gen" / "b" / "v2.json").read_bytes()]
    # a second import changes nothing and says so
    before = dump(s)
    p = run("import", tree, store=s)
    assert p.stdout.splitlines()[-1] == "0 published, 7 unchanged, 2 refused, 1 skipped"
    # a .sha512 that does not match refuses the document
    t2 = tmp_path / "t2"
    write_doc(t2 / "c.json", make_doc("IMP-5"))
    (t2 / "c.json.sha512").write_text("00" * 64 + "  c.json\n")
    p = run("import", t2, store=s)
    assert p.returncode == 1 and "do not match" in p.stdout
    assert dump(s) == before


def test_import_killed(tmp_path):
    """SIGKILL at random moments: the store stays consistent, each document whole or absent."""
    tree = tmp_path / "tree"
    docs = {}
    for i in range(300):
        tid = f"KILL-{i:04d}"
        f = write_doc(tree / f"{i % 7}" / f"k{i}.json", make_doc(tid, pad=random.randint(100, 20000)))
        docs[tid] = f.read_bytes()
    # how long one whole import takes here, so that kills land inside it
    probe = tmp_path / "probe.db"
    ok("init", store=probe)
    t0 = time.monotonic()
    ok("import", "--quiet", tree, store=probe)
    full = time.monotonic() - t0
    s = new_store(tmp_path)
    rng = random.Random(7)
    kills = rounds = 0
    while kills < 50 and rounds < 300:
        rounds += 1
        p = subprocess.Popen([BIN, "-s", str(s), "import", "--quiet", str(tree)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, full * 0.9))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        with db(s) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert c.execute("PRAGMA foreign_key_check").fetchall() == []
            rows = c.execute("SELECT a.tracking_id, b.bytes, v.size FROM advisory a JOIN "
                             "version v ON v.advisory_id = a.id JOIN version_blob b ON "
                             "b.version_id = v.id").fetchall()
            n_adv = c.execute("SELECT count(*) FROM advisory").fetchone()[0]
            n_ver = c.execute("SELECT count(*) FROM version").fetchone()[0]
        assert n_adv == n_ver == len(rows)
        for tid, blob, size in rows:
            assert bytes(blob) == docs[tid] and size == len(docs[tid])
        if n_adv == len(docs):
            # all in: start again with a fresh store so that kills keep landing mid-import
            s.unlink()
            for suffix in ("-wal", "-shm"):
                Path(str(s) + suffix).unlink(missing_ok=True)
            ok("init", store=s)
    assert kills >= 50
    p = run("import", "--quiet", tree, store=s)
    assert p.returncode == 0, p.stdout
    with db(s) as c:
        assert c.execute("SELECT count(*) FROM advisory").fetchone()[0] == len(docs)


# ---- withdraw and share --------------------------------------------------------------

def test_withdraw_share(tmp_path):
    s = new_store(tmp_path)
    ok("org", "add", "acme", "--name", "ACME", store=s)
    ok("publish", write_doc(tmp_path / "w.json", make_doc("WD-1")), store=s)
    p = run("withdraw", "NOPE-1", store=s)
    assert p.returncode == 1 and p.stderr.strip() == "advisoryfs: withdraw: no advisory 'NOPE-1'"
    p = run("share", "WD-1", "acme", store=s)
    assert p.returncode == 2 and "--reason is required" in p.stderr
    ok("share", "WD-1", "acme", "--reason", "art. 3(2)(e): significant impact", store=s)
    p = run("share", "WD-1", "acme", "--reason", "again", store=s)
    assert p.returncode == 1 and "already shared" in p.stderr
    ok("withdraw", "wd-1.json", "--reason", "superseded", store=s)
    p = run("withdraw", "WD-1", store=s)
    assert p.returncode == 1 and "already withdrawn" in p.stderr
    # a withdrawn id cannot be published again
    v2 = write_doc(tmp_path / "w2.json", make_doc("WD-1", "2.0.0"))
    publish_refused(s, [v2], "withdrawn", tmp_path)
    with db(s) as c:
        kinds = [r[0] for r in c.execute("SELECT kind FROM change_log ORDER BY seq")]
    assert kinds == ["policy", "org", "publish", "share", "withdraw"]
