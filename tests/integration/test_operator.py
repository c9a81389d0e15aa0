"""The operator's day (issue 17): organisations in bulk (`org import`), who will
receive an advisory (`recipients`, `publish --dry-run`, `import --dry-run`), and
policies that take effect at a set moment (`policy load --effective`).

Every check drives the real binary against a real store; "nothing stored" is
checked by comparing the store's whole dump (helpers.dump) before and after."""

import json
import os
import pty
import subprocess
import threading
import time

import pytest

from helpers import BIN, db, dump, make_doc, new_store, ok, run, wait_for, write_doc

# ---- org import ---------------------------------------------------------------------

HEADER = "slug,name,sectors,uid,gid,roles,members,member_of\n"


def thousand_csv():
    """1,000 organisations: CSIRTs with a reference holding a comma, OKTTs with
    constituencies, vital providers with sectors and ended roles, bound accounts."""
    lines = [HEADER]
    for i in range(1000):
        slug = f"org-{i:04d}"
        kind = i % 4
        if kind == 0:
            roles = f'"csirt|2020-01-14||Stcrt. 2020, 4410;oktt|2022-12-01"'
            members = f"org-{i + 1:04d}|2021-01-01;org-{i + 2:04d}"
        elif kind == 1:
            roles = "vital|2019-01-01|2030-12-31|Besluit vitaal"
            members = ""
        elif kind == 2:
            roles = "other"
            members = ""
        else:
            roles = "government|2020-01-01|2022-11-30"
            members = ""
        sectors = ["energy;drinking-water", "health", "", "finance"][kind]
        uid = str(20000 + i) if i % 10 == 0 else ""
        member_of = "org-0000|2022-01-01|2024-12-31" if kind == 3 and i > 3 else ""
        lines.append(f"{slug},Organisation {i},{sectors},{uid},,{roles},{members},{member_of}\n")
    return "".join(lines)


def test_org_import_1000_from_csv(tmp_path):
    store = new_store(tmp_path)
    src = tmp_path / "orgs.csv"
    src.write_text(thousand_csv())
    p = ok("org", "import", src, store=store)
    assert "imported 1000 organisations" in p.stdout
    assert p.stderr == ""  # no terminal, no progress
    orgs = json.loads(ok("org", "list", "--json", store=store).stdout)
    assert len(orgs) == 1000
    by = {o["slug"]: o for o in orgs}
    z = by["org-0000"]
    assert z["roles"] == [
        {"role": "csirt", "from": "2020-01-14T00:00:00Z", "until": None,
         "ref": "Stcrt. 2020, 4410"},
        {"role": "oktt", "from": "2022-12-01T00:00:00Z", "until": None}]
    assert z["uid"] == 20000 and z["gid"] is None
    assert {"member": "org-0001", "from": "2021-01-01T00:00:00Z", "until": None} in z["members"]
    # member_of lines land on the schakel's side, with the inclusive --until day
    assert {"member": "org-0007", "from": "2022-01-01T00:00:00Z",
            "until": "2024-12-31T23:59:59Z"} in z["members"]
    assert z["sectors"] == ["energy", "drinking-water"]
    assert by["org-0001"]["sectors"] == ["health"]
    assert by["org-0003"]["roles"][0]["until"] == "2022-11-30T23:59:59Z"


def test_org_import_refused_file_changes_nothing(tmp_path):
    store = new_store(tmp_path)
    ok("org", "add", "z-cert", "--name", "Z-CERT", store=store)
    before = dump(store)
    src = tmp_path / "bad.csv"
    good = thousand_csv().splitlines(keepends=True)
    # 999 good lines, then errors on known lines and fields
    text = "".join(good[:500]) + \
        "Bad Slug,X,,,,,,\n" + \
        "ok-1,Fine,nosuch,,,,,\n" + \
        "ok-2,Fine,,,,wizard,,\n" + \
        "ok-3,Fine,,,,vital|2022-12-01|2021-01-01,,\n" + \
        "ok-4,Fine,,abc,,,,\n" + \
        "ok-5,Fine,,,,,ghost,\n" + \
        "z-cert,Again,,,,,,\n" + \
        "".join(good[500:])
    src.write_text(text)
    p = run("org", "import", src, store=store)
    assert p.returncode == 1
    err = p.stderr.splitlines()
    expect = [
        (501, "slug", "invalid slug 'Bad Slug'"),
        (502, "sectors", "unknown sector 'nosuch'"),
        (503, "roles item 1", "unknown role 'wizard'"),
        (504, "roles item 1", "'from' is after 'until'"),
        (505, "uid", "not an account number: 'abc'"),
        (506, "members item 1", "no organisation 'ghost'"),
        (507, "slug", "organisation 'z-cert' already exists"),
    ]
    for line, field, why in expect:
        want = f"advisoryfs: org import: {src}:{line}: {field}: {why}"
        assert any(e.startswith(want) for e in err), (want, err)
    assert err[-1] == f"advisoryfs: org import: {src}: 7 errors, nothing imported"
    assert dump(store) == before, "a refused import changed the store"

    # malformed files: a quote never closed, an unknown column, bad JSON
    for name, data, where in [
            ("q.csv", HEADER + 'a,"open\nb,c\n', ":2: a quoted field is not closed"),
            ("h.csv", "slug,name,colour\n", ":1: colour: unknown column"),
            ("j.json", '[{"slug": "a", "name": "A"},\n {"slug": "b", "name": 7}]',
             ":2: name: must be a string"),
            ("k.json", '[{"slug": "a", "name": "A", "roles": [{"role": "vital", '
             '"from": "yesterday"}]}]', ":1: roles[0].from: not a time: 'yesterday'")]:
        f = tmp_path / name
        f.write_text(data)
        p = run("org", "import", f, store=store)
        assert p.returncode == 1 and where in p.stderr, (name, p.stderr)
        assert dump(store) == before


def test_org_import_round_trip_is_byte_identical(tmp_path):
    a = new_store(tmp_path, "a.db")
    # built by hand, in an order unlike the slugs', so row ids differ from slug order
    for slug, name in [("zz-last", "Z"), ("dtc", "Digital Trust Center"), ("m-member", "M"),
                       ("a-first", "A \"quoted\", with comma")]:
        ok("org", "add", slug, "--name", name, store=a)
    ok("org", "add", "bound", "--name", "Bound", "--sector", "energy", "--sector", "drinking-water",
       "--uid", "4242", "--gid", "77", store=a)
    ok("org", "role", "dtc", "oktt", "--from", "2021-09-01", "--ref", "OKTT; status | x",
       store=a)
    ok("org", "role", "bound", "vital", "--from", "2020-01-01T08:30:00Z", "--until",
       "2025-06-30", store=a)
    ok("org", "role", "bound", "government", store=a)
    ok("org", "member", "dtc", "zz-last", "--from", "2022-01-01", store=a)
    ok("org", "member", "dtc", "a-first", "--until", "2023-01-01", store=a)
    ok("org", "member", "dtc", "m-member", store=a)
    # a TLS client certificate bound to dtc (org cert, docs/HTTPS.md) moves with it
    ca, cert = tmp_path / "ca", tmp_path / "dtc.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{ca}.key", "-out",
                    f"{ca}.pem", "-subj", "/CN=test CA", "-days", "30"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", tmp_path / "dtc.key", "-out", tmp_path / "dtc.csr",
                    "-subj", "/CN=dtc/O=Digital Trust Center"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", tmp_path / "dtc.csr", "-CA", f"{ca}.pem",
                    "-CAkey", f"{ca}.key", "-CAcreateserial", "-out", cert, "-days", "30"],
                   check=True, capture_output=True)
    ok("org", "cert", "dtc", "--add", cert, store=a)
    exported = ok("org", "list", "--json", store=a).stdout
    certs = {o["slug"]: o["certificates"] for o in json.loads(exported)}
    assert len(certs["dtc"]) == 1 and certs["bound"] == []
    b = new_store(tmp_path, "b.db")
    ok("org", "import", "-", store=b, input=exported)
    assert ok("org", "list", "--json", store=b).stdout == exported
    assert ok("org", "list", store=b).stdout == ok("org", "list", store=a).stdout
    # and again through a second generation
    c = new_store(tmp_path, "c.db")
    ok("org", "import", "-", store=c, input=ok("org", "list", "--json", store=b).stdout)
    assert ok("org", "list", "--json", store=c).stdout == exported
    # a malformed fingerprint names its field, and nothing is stored
    bad = exported.replace(certs["dtc"][0]["sha1"], "not-hex")
    d = new_store(tmp_path, "d.db")
    before = dump(d)
    p = run("org", "import", "-", store=d, input=bad)
    assert p.returncode == 1 and "certificates[0].sha1: must be 40 hex digits" in p.stderr
    assert dump(d) == before
    # importing the same list again is refused as a whole
    before = dump(b)
    p = run("org", "import", "-", store=b, input=exported)
    assert p.returncode == 1 and "already exists" in p.stderr
    assert dump(b) == before


def test_org_import_progress_only_on_a_terminal(tmp_path):
    store = new_store(tmp_path)
    src = tmp_path / "orgs.csv"
    src.write_text(thousand_csv())
    master, slave = pty.openpty()
    chunks = []

    def drain():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        p = subprocess.run([BIN, "-s", str(store), "org", "import", str(src)],
                           stdout=subprocess.PIPE, stderr=slave, timeout=120)
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    assert p.returncode == 0
    tty = b"".join(chunks)
    assert b"org import: org-0" in tty and b"[1/" in tty
    assert b"\r" in tty
    assert b"imported 1000" in p.stdout


# ---- recipients and dry runs --------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "demo-store"),
                        "--bin", BIN, "--store", str(d / "demo.db"), "--force"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return d / "demo.db"


def visible_map(store, slug, at):
    """{tracking id: permitting rules} of what slug's directory holds at `at`."""
    v = json.loads(ok("visible", slug, "--at", at, "--json", store=store).stdout)
    return {a["tracking_id"]: a["rules"] for a in v["advisories"]}


def test_recipients_agrees_with_visible_on_the_demo_store(demo):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with db(demo) as c:
        ids = [r[0] for r in c.execute("SELECT tracking_id FROM advisory ORDER BY 1")]
    slugs = ["public"] + [o["slug"] for o in
                          json.loads(ok("org", "list", "--json", store=demo).stdout)]
    assert len(ids) > 150 and len(slugs) > 30
    for at in (now, "2020-10-15", "2022-11-30", "2022-12-01"):
        seen = {s: visible_map(demo, s, at) for s in slugs}
        released = 0
        for tid in ids:
            p = run("recipients", tid, "--at", at, "--json", store=demo)
            if p.returncode:
                assert "no advisory" in p.stderr and "released by" in p.stderr, p.stderr
                assert not any(tid in seen[s] for s in slugs), (tid, at)
                continue
            released += 1
            r = json.loads(p.stdout)
            assert r["organisations"] == len(slugs)
            got = {x["slug"]: [y["id"] for y in x["rules"]] for x in r["recipients"]}
            want = {s: seen[s][tid] for s in slugs if tid in seen[s]}
            assert got == want, (tid, at)
            assert r["may_receive"] + r["may_not"] == len(slugs)
            assert sum(b["count"] for b in r["blocked"]) == r["may_not"]
            assert all(x["basis"] for x in sum((x["rules"] for x in r["recipients"]), []))
        assert released > (20 if at == "2020-10-15" else 100)
    # the text form of one, against the JSON form
    r = json.loads(ok("recipients", "NCSC-2022-0080", "--json", store=demo).stdout)
    text = ok("recipients", "NCSC-2022-0080", store=demo).stdout
    assert f"may receive: {r['may_receive']} of {r['organisations']} recipients" in text
    for x in r["recipients"]:
        assert f"\n  {x['slug']}\n" in text
    for b in r["blocked"]:
        assert f"  {b['count']} blocked by " in text


def test_publish_dry_run_stores_nothing_and_tells_who(tmp_path):
    store = new_store(tmp_path)
    ok("org", "add", "z-cert", "--name", "Z-CERT", "--sector", "health", store=store)
    ok("org", "role", "z-cert", "csirt", "--from", "2020-01-14", store=store)
    ok("org", "add", "umc", "--name", "UMC", "--sector", "health", store=store)
    ok("org", "member", "z-cert", "umc", store=store)
    ok("org", "add", "shop", "--name", "Shop", store=store)
    a = write_doc(tmp_path / "a.json", make_doc("NCSC-2024-0001", tlp="AMBER"))
    b = write_doc(tmp_path / "b.json", make_doc("NCSC-2031-0002", tlp="GREEN",
                                                 initial="2031-05-01T08:00:00Z"))
    before = dump(store)
    p = ok("publish", "--dry-run", "--json", a, b, "--concerns", "umc", "--personal-data",
           store=store)
    assert dump(store) == before, "publish --dry-run changed the store"
    reports = json.loads(p.stdout)
    assert [r["advisory"] for r in reports] == ["NCSC-2024-0001", "NCSC-2031-0002"]
    # decided at the moment each is released: now for the first, its date for the second
    assert reports[1]["at"] == "2031-05-01T08:00:00Z"
    assert reports[0]["at"] >= time.strftime("%Y-%m-%dT", time.gmtime())
    for r in reports:
        assert [x["slug"] for x in r["recipients"]] == ["z-cert"]
        assert r["may_not"] == 3
    p = ok("publish", "--dry-run", a, "--concerns", "umc", "--personal-data", store=store)
    assert "dry run: 1 document valid, nothing stored" in p.stdout
    assert "  z-cert\n    permit-csirt-constituency: " in p.stdout
    assert dump(store) == before
    # a refused document: refused as publish refuses it, and nothing stored
    p = run("publish", "--dry-run", a, "--concerns", "nobody", store=store)
    assert p.returncode == 1 and "nobody" in p.stderr
    assert dump(store) == before
    # the real publish, then `recipients` at the same moment says the same
    ok("publish", b, "--concerns", "umc", "--personal-data", store=store)
    r = json.loads(ok("recipients", "NCSC-2031-0002", "--at", "2031-05-01T08:00:00Z", "--json",
                      store=store).stdout)
    assert r == reports[1]


def test_import_dry_run_stores_nothing(tmp_path):
    store = new_store(tmp_path)
    ok("org", "add", "dtc", "--name", "DTC", store=store)
    ok("org", "role", "dtc", "oktt", "--from", "2021-09-01", store=store)
    ok("org", "add", "acme", "--name", "Acme", store=store)
    ok("org", "member", "dtc", "acme", store=store)
    tree = tmp_path / "tree"
    write_doc(tree / "x.json", make_doc("NCSC-2024-0100", tlp="AMBER"))
    (tree / "x.json.dist.json").write_text(json.dumps({"concerns": ["acme"]}))
    write_doc(tree / "y.json", make_doc("NCSC-2024-0101", tlp="WHITE"))
    write_doc(tree / "bad.json", {"document": {}})
    before = dump(store)
    p = run("import", "--dry-run", tree, store=store)
    assert p.returncode == 1  # bad.json is refused, as import would refuse it
    assert "refused    " in p.stdout and "bad.json" in p.stdout
    assert "dry run: 2 valid, 1 refused, 0 skipped; nothing stored" in p.stdout
    assert dump(store) == before, "import --dry-run changed the store"
    (tree / "bad.json").unlink()
    reports = json.loads(ok("import", "--dry-run", "--json", tree, store=store).stdout)
    assert dump(store) == before
    by = {r["advisory"]: r for r in reports}
    assert [x["slug"] for x in by["NCSC-2024-0100"]["recipients"]] == ["dtc"]
    assert by["NCSC-2024-0101"]["may_receive"] == 3  # public, dtc, acme


# ---- policies that take effect at a set moment ----------------------------------------

EXAMPLE = os.path.join(ROOT, "policy", "examples", "cbw-transition.json")
DEFAULT = os.path.join(ROOT, "policy", "wbni-default.json")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def regime_store(tmp_path):
    """A Wbni vital provider and a Cbw essential entity of the same sector, and an
    AMBER advisory about the sector."""
    store = new_store(tmp_path)
    ok("org", "add", "tennet", "--name", "TenneT", "--sector", "energy", store=store)
    ok("org", "role", "tennet", "vital", "--from", "2019-07-01", store=store)
    ok("org", "add", "eneco", "--name", "Eneco", "--sector", "energy", store=store)
    ok("org", "role", "eneco", "essential", "--from", "2026-01-01", store=store)
    f = write_doc(tmp_path / "grid.json", make_doc("NCSC-2024-0200", tlp="AMBER"))
    ok("publish", f, "--sectors", "energy", store=store)
    return store


def explained_policy(store, slug, tid, at):
    e = json.loads(ok("explain", slug, tid, "--at", at, "--json", store=store).stdout)
    return e["policy"], e


def test_policy_effective_later_keeps_the_current_one_until_then(tmp_path):
    store = regime_store(tmp_path)
    t = int(time.time()) + 3600
    p = ok("policy", "load", EXAMPLE, "--effective", iso(t), store=store)
    assert f"in force from {iso(t)}" in p.stdout
    # now: the Wbni policy; from t on: the Cbw one, for show, visible, explain, recipients
    assert json.loads(ok("policy", "show", store=store).stdout)["name"] == "wbni-default"
    assert json.loads(ok("policy", "show", "--at", iso(t - 1), store=store).stdout)["name"] == \
        "wbni-default"
    assert json.loads(ok("policy", "show", "--at", iso(t), store=store).stdout)["name"] == \
        "cbw-transition"
    doc = "amber/2024/ncsc-2024-0200.json"
    assert doc in ok("visible", "tennet", store=store).stdout.split()
    assert doc in ok("visible", "tennet", "--at", iso(t - 1), store=store).stdout.split()
    assert doc not in ok("visible", "tennet", "--at", iso(t), store=store).stdout.split()
    assert doc in ok("visible", "eneco", "--at", iso(t), store=store).stdout.split()
    assert doc not in ok("visible", "eneco", store=store).stdout.split()
    name, e = explained_policy(store, "tennet", "NCSC-2024-0200", iso(t - 1))
    assert name == "wbni-default" and e["decision"] == "permit"
    name, e = explained_policy(store, "tennet", "NCSC-2024-0200", iso(t))
    assert name == "cbw-transition" and e["decision"] == "deny"
    name, e = explained_policy(store, "eneco", "NCSC-2024-0200", iso(t))
    assert name == "cbw-transition"
    assert [r["id"] for r in e["determining"]] == ["permit-cbw-entities"]
    r = json.loads(ok("recipients", "NCSC-2024-0200", "--at", iso(t), "--json",
                      store=store).stdout)
    assert r["policy"] == "cbw-transition" and [x["slug"] for x in r["recipients"]] == ["eneco"]
    # the history and what is scheduled
    rows = json.loads(ok("policy", "list", "--json", store=store).stdout)
    assert [(x["name"], x["state"], x["scheduled"]) for x in rows] == [
        ("wbni-default", "in force", False), ("cbw-transition", "scheduled", True)]
    assert rows[1]["effective_at"] == iso(t)
    text = ok("policy", "list", store=store).stdout.splitlines()
    assert text[0].split() == ["ID", "EFFECTIVE", "LOADED", "STATE", "NAME", "BY"]
    assert "scheduled" in text[2] and "cbw-transition" in text[2] and iso(t) in text[2]
    # a moment in the past is refused: the history is not rewritten
    before = dump(store)
    p = run("policy", "load", EXAMPLE, "--effective", "2020-01-01", store=store)
    assert p.returncode == 1 and "in the past" in p.stderr
    assert dump(store) == before


def test_policy_load_names_every_undeclared_role_and_sector(tmp_path):
    store = regime_store(tmp_path)
    ok("org", "add", "grid-ops", "--name", "Grid", "--sector", "energy", store=store)
    pol = json.load(open(DEFAULT))
    pol["vocabulary"]["roles"] = [r for r in pol["vocabulary"]["roles"]
                                  if r["name"] not in ("essential", "vital")]
    pol["vocabulary"]["sectors"] = [s for s in pol["vocabulary"]["sectors"] if s != "energy"]
    pol["rules"] = [r for r in pol["rules"] if r["id"] != "permit-vital-government"]
    for c in pol["conditions"]["personal-data-basis"]["any"]:
        if c.get("role") == ["vital", "government"]:
            c["role"] = ["government"]
    f = tmp_path / "narrow.json"
    f.write_text(json.dumps(pol))
    assert ok("policy", "check", f).returncode == 0  # valid on its own
    before = dump(store)
    for extra in ([], ["--effective", iso(int(time.time()) + 3600)]):
        p = run("policy", "load", f, *extra, store=store)
        assert p.returncode == 1
        err = p.stderr
        assert "does not declare 4 roles or sectors in use" in err, err
        assert "role 'essential' (organisation 'eneco')" in err
        assert "role 'vital' (organisation 'tennet')" in err
        assert "sector 'energy' (organisation 'eneco' and 2 more)" in err
        assert "sector 'energy' (advisory 'NCSC-2024-0200')" in err
        assert dump(store) == before


try:
    from test_mount import FUSERMOUNT, LIVE_LIMIT, Cacher, Mount, exists
except Exception:  # the mount tests' module needs nothing else; be safe
    FUSERMOUNT = None


@pytest.mark.skipif(not os.path.exists("/dev/fuse") or FUSERMOUNT is None,
                    reason="no /dev/fuse or fusermount3")
def test_scheduled_policy_switches_a_running_mount(tmp_path):
    store = regime_store(tmp_path)
    m = Mount(store, tmp_path / "mnt")
    c = None
    try:
        rel = os.path.join("amber", "2024", "ncsc-2024-0200.json")
        tennet, eneco = m.mnt / "tennet" / rel, m.mnt / "eneco" / rel
        assert exists(tennet) and not exists(eneco)
        c = Cacher(tennet, eneco, tennet.parent, eneco.parent)
        t = int(time.time()) + 2     # two seconds ahead
        ok("policy", "load", EXAMPLE, "--effective", iso(t), store=store)
        before = dump(store)         # from here on the store does not change
        while time.time() < t - 0.2:
            assert exists(tennet) and not exists(eneco), "switched before its moment"
            time.sleep(0.02)
        done, _ = wait_for(lambda: not exists(tennet) and exists(eneco),
                           t + LIVE_LIMIT + 1 - time.time())
        late = time.time() - t
        assert done, "the mount did not switch to the scheduled policy"
        assert late <= LIVE_LIMIT, f"switched {late:.2f}s after its moment"
        assert not exists(m.mnt / "tennet" / "amber")   # it held that one advisory only
        assert "2024/ncsc-2024-0200.json" in \
            (m.mnt / "eneco" / "amber" / "index.txt").read_text().split()
        # the ledger records the rules of the policy in force at the read
        assert eneco.read_bytes().startswith(b"{")
        assert os.getxattr(eneco, "user.advisoryfs.rules") == b"permit-cbw-entities"
        entries = json.loads(ok("audit", "--json", store=store).stdout)
        mine = [x for x in entries if x["recipient"] == "eneco"]
        assert [x["rules"] for x in mine] == [["permit-cbw-entities"]]
        # explain before and after names the policy in force then
        assert explained_policy(store, "tennet", "NCSC-2024-0200", iso(t - 1))[0] == \
            "wbni-default"
        assert explained_policy(store, "tennet", "NCSC-2024-0200", iso(t))[0] == \
            "cbw-transition"
        c.close()
        c = None
        # nothing but the ledger entry of that read changed in the store
        after = "\n".join(x for x in dump(store).splitlines() if not x.startswith(
            "INSERT INTO ledger"))
        assert after == "\n".join(x for x in before.splitlines()
                                  if not x.startswith("INSERT INTO ledger"))
    finally:
        if c:
            c.close()
        m.unmount()


# ---- org import against hostile input ------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CELL = st.lists(st.sampled_from(list('ab-09|;\\," \n\r\t') + ["\x00", "\u00e9", "energy",
                                                                  "vital", "2022-12-01"]),
                max_size=12).map("".join)


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=9), max_size=6),
       header=st.sampled_from([HEADER, "slug,name\n", "slug,name,roles,members\n", ""]),
       raw=st.binary(max_size=64))
def test_org_import_hostile_input_fails_closed(tmp_path_factory, rows, header, raw):
    d = tmp_path_factory.mktemp("h")
    store = new_store(d)
    ok("org", "add", "keep", "--name", "Keep", store=store)
    before = dump(store)
    for data in ((header + "\n".join(",".join(r) for r in rows)).encode(), raw,
                 b"[" + raw, json.dumps([dict(zip(["slug", "name", "roles", "members"], r))
                                         for r in rows]).encode()):
        f = d / "in"
        f.write_bytes(data)
        p = subprocess.run([BIN, "-s", str(store), "org", "import", str(f)],
                           capture_output=True, timeout=60)
        assert p.returncode in (0, 1), (data, p.returncode, p.stderr)
        err = p.stderr.decode(errors="replace").splitlines()
        assert all(e.startswith("advisoryfs: org import: ") for e in err), err
        if p.returncode:
            assert err and err[-1].endswith("nothing imported") or "out of memory" in err[-1]
            assert dump(store) == before
        else:
            assert p.stderr == b""
            before = dump(store)
