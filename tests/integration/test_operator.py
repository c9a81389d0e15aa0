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

from helpers import BIN, dump, new_store, ok, run

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
    exported = ok("org", "list", "--json", store=a).stdout
    b = new_store(tmp_path, "b.db")
    ok("org", "import", "-", store=b, input=exported)
    assert ok("org", "list", "--json", store=b).stdout == exported
    assert ok("org", "list", store=b).stdout == ok("org", "list", store=a).stdout
    # and again through a second generation
    c = new_store(tmp_path, "c.db")
    ok("org", "import", "-", store=c, input=ok("org", "list", "--json", store=b).stdout)
    assert ok("org", "list", "--json", store=c).stdout == exported
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
