"""The disclosure ledger (SPEC.md section 4; docs/LEDGER.md) through real mounts
and `advisoryfs audit`.

- the first read of each advisory version by each recipient is recorded, once,
  whatever the number of opens, reads and mounts; other files are not;
- the entry is in the store before the reader has a byte, and when it cannot
  be written (a trigger that refuses inserts, added with the sqlite3 tool) the
  read fails with EIO and nothing is recorded;
- `audit --verify` passes on an untouched store and names the first altered
  or missing entry after the sqlite3 tool changed or deleted one; signed
  checkpoints make a cut-off end show.

The hash of every entry is recomputed here from the encoding docs/LEDGER.md
gives, so the documentation and the program cannot drift apart.
"""

import calendar
import errno
import hashlib
import json
import os
import re
import subprocess
import threading
import time

import pytest

from helpers import make_doc, ok, run, write_doc
from tenantlib import mounts, needs_fuse, wait_for  # noqa: F401

pytestmark = needs_fuse

REFUSED = "refusing '"          # the daemon's line for a disclosure it could not record


# ---- the store -------------------------------------------------------------------------

class Store:
    ORGS = (("acme", "vital", "2020-01-01"), ("zcert", "csirt", "2020-01-14"))
    DOCS = (("T-2024-0001", "GREEN", "acme"), ("T-2024-0002", "WHITE", None),
            ("T-2023-0003", "AMBER", "zcert"), ("T-2024-0004", "RED", "acme"),
            ("T-2024-0005", "GREEN", "zcert"))

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.path = tmp_path / "s.db"
        ok("init", store=self.path)
        for slug, role, start in self.ORGS:
            ok("org", "add", slug, "--name", slug.upper(), "--sector", "health",
               store=self.path)
            ok("org", "role", slug, role, "--from", start, store=self.path)
        for tid, tlp, concerns in self.DOCS:
            self.publish(tid, tlp, concerns)

    def publish(self, tid, tlp, concerns=None, version="1.0.0",
                current="2024-03-01T10:00:00Z", signature=None):
        f = write_doc(self.dir / "src" / f"{tid}-{version}.json",
                      make_doc(tid, tlp=tlp, version=version,
                               initial="2024-03-01T10:00:00Z", current=current))
        args = ["publish", f]
        if concerns:
            args += ["--concerns", concerns]
        if signature:
            args += ["--signature", signature]
        ok(*args, store=self.path)

    def docs(self, slug):
        """The advisory documents of a recipient's view."""
        return [p for p in ok("visible", slug, store=self.path).stdout.split()
                if re.search(r"/\d{4}/[^/]+\.json$", p)]

    def sql(self, q):
        p = subprocess.run(["sqlite3", str(self.path), q], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def entries(self):
        return json.loads(ok("audit", "--json", store=self.path).stdout)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path)


SLUGS = ("acme", "zcert", "public")


def read_all(root, store, times=1):
    """Read every document of every recipient; returns {(slug, rel): bytes}."""
    got = {}
    for _ in range(times):
        for slug in SLUGS:
            for rel in store.docs(slug):
                with open(root / slug / rel, "rb") as f:
                    got[(slug, rel)] = f.read()
    return got


def epoch(t):
    return calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))


def entry_hash(e):
    """The hash of an entry from its fields, as docs/LEDGER.md defines it."""
    def i64(v):
        return v.to_bytes(8, "big", signed=True)

    def lp(s):
        b = s.encode()
        return len(b).to_bytes(4, "big") + b

    at = epoch(e["at"])
    peer = e.get("peer", "")
    data = ((b"advisoryfs ledger entry v2\0" if peer else b"advisoryfs ledger entry v1\0") +
            bytes.fromhex(e["prev_hash"]) + i64(e["seq"]) +
            i64(at) + lp(e["recipient"]) + i64(e["uid"]) + lp(e["tracking_id"]) +
            lp(e["version"]) + bytes.fromhex(e["sha256"]) + lp(",".join(e["rules"])) +
            (lp(peer) if peer else b""))
    return hashlib.sha256(data).hexdigest()


# ---- one entry per recipient and version -----------------------------------------------

def test_one_entry_per_recipient_and_version(store, mounts):
    start = int(time.time())
    m = mounts(store.path, "mnt")
    got = read_all(m.mnt, store, times=3)
    # a second mount of the same store, and reads in parallel: nothing new
    m2 = mounts(store.path, "mnt2")
    threads = [threading.Thread(target=read_all, args=(mm.mnt, store, 2))
               for mm in (m, m2, m2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    entries = store.entries()
    keys = [(e["recipient"], e["tracking_id"], e["version"]) for e in entries]
    assert len(keys) == len(set(keys)), keys
    want = set()
    for (slug, rel), data in got.items():
        want.add((slug, json.loads(data)["document"]["tracking"]["id"], "1.0.0"))
    assert set(keys) == want
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    for e in entries:
        rel = next(r for (s, r) in got if s == e["recipient"] and
                   json.loads(got[(s, r)])["document"]["tracking"]["id"] == e["tracking_id"])
        data = got[(e["recipient"], rel)]
        assert e["sha256"] == hashlib.sha256(data).hexdigest()
        assert e["uid"] == os.getuid()
        assert start <= epoch(e["at"]) <= time.time() + 1
        rules = os.getxattr(m.mnt / e["recipient"] / rel, "user.advisoryfs.rules").decode()
        assert e["rules"] == rules.split(",")
        assert entry_hash(e) == e["hash"], e
    for prev, e in zip(entries, entries[1:]):
        assert e["prev_hash"] == prev["hash"]
    assert entries[0]["prev_hash"] == "0" * 64

    # a new version is a new disclosure, once per recipient that receives it
    n = len(entries)
    store.publish("T-2024-0001", "GREEN", "acme", version="2.0.0",
                  current="2024-04-01T10:00:00Z")
    path = m.mnt / "acme" / "green" / "2024" / "t-2024-0001.json"

    def new_version():
        try:
            return b'"2.0.0"' in path.read_bytes()
        except OSError as e:
            # opened under 1.0.0, read after the switch: refused (mount_ops.c)
            assert e.errno == errno.EIO
            return False

    fresh, _ = wait_for(new_version, 5)
    assert fresh
    read_all(m.mnt, store, times=2)
    new = store.entries()[n:]
    assert sorted((e["recipient"], e["tracking_id"], e["version"]) for e in new) == sorted(
        (s, "T-2024-0001", "2.0.0") for s in SLUGS
        if any(r.endswith("t-2024-0001.json") for r in store.docs(s)))
    assert run("audit", "--verify", store=store.path).returncode == 0


def test_other_files_are_not_disclosures(store, mounts, tmp_path):
    sig = write_doc(tmp_path / "x.asc", "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n"
                    "-----END PGP SIGNATURE-----\n")
    store.publish("T-2024-0009", "WHITE", signature=sig)
    m = mounts(store.path, "mnt")
    for slug in SLUGS:
        for dp, _, files in os.walk(m.mnt / slug):
            for f in files:
                if not re.fullmatch(r"[^/]+\.json", f) or f == "provider-metadata.json":
                    with open(os.path.join(dp, f), "rb") as fh:
                        fh.read()
    assert store.entries() == []


# ---- before any byte, or not at all ----------------------------------------------------

def test_entry_exists_before_the_first_byte(store, mounts):
    m = mounts(store.path, "mnt")
    rel = store.docs("acme")[0]
    assert store.sql("SELECT count(*) FROM ledger").strip() == "0"
    fd = os.open(m.mnt / "acme" / rel, os.O_RDONLY)
    try:
        # opened, not read: nothing disclosed, nothing recorded
        assert store.sql("SELECT count(*) FROM ledger").strip() == "0"
        first = os.read(fd, 1)
        # one byte read: the entry is already committed, visible to another
        # process, with the hash of every byte of the version
        rows = store.sql("SELECT recipient, tracking_id, hex(sha256) FROM ledger").split()
        data = first
        while chunk := os.read(fd, 65536):
            data += chunk
        tid = json.loads(data)["document"]["tracking"]["id"]
        assert rows == [f"acme|{tid}|{hashlib.sha256(data).hexdigest().upper()}"]
    finally:
        os.close(fd)


def test_unwritable_ledger_means_no_bytes(store, mounts):
    m = mounts(store.path, "mnt", allow=(REFUSED,))
    first = store.docs("acme")[0]
    data = (m.mnt / "acme" / first).read_bytes()        # recorded: entry 1
    store.sql("CREATE TRIGGER no_ledger BEFORE INSERT ON ledger "
              "BEGIN SELECT RAISE(ABORT, 'ledger refused'); END")

    # every document not yet disclosed: EIO, no byte, no entry
    tried = 0
    for slug in SLUGS:
        for rel in store.docs(slug):
            if (slug, rel) == ("acme", first):
                continue
            with pytest.raises(OSError) as exc:
                with open(m.mnt / slug / rel, "rb") as f:
                    f.read()
            assert exc.value.errno == errno.EIO, (slug, rel)
            r = subprocess.run(["cat", str(m.mnt / slug / rel)], capture_output=True)
            assert r.returncode != 0 and r.stdout == b"", (slug, rel)
            tried += 1
    assert tried >= 3
    assert len(store.entries()) == 1
    # what was recorded before stays readable: no new entry is needed
    assert (m.mnt / "acme" / first).read_bytes() == data
    assert REFUSED in m.stderr()

    store.sql("DROP TRIGGER no_ledger")
    read_all(m.mnt, store)
    assert len(store.entries()) == sum(len(store.docs(s)) for s in SLUGS)
    assert run("audit", "--verify", store=store.path).returncode == 0


# ---- verification ----------------------------------------------------------------------

@pytest.fixture
def recorded(store, mounts):
    """A store whose ledger holds an entry for every document of every view
    (the mount is gone again, so copies of the file are whole)."""
    m = mounts(store.path, "mnt")
    read_all(m.mnt, store)
    m.unmount()
    n = len(store.entries())
    assert n >= 6
    return store, n


def verify(path, *extra):
    p = run("audit", "--verify", *extra, store=path)
    return p.returncode, p.stdout, p.stderr.strip()


def copy(store, name):
    dst = store.dir / name
    subprocess.run(["sqlite3", str(store.path), f".backup '{dst}'"], check=True)
    return dst


def sql(path, q):
    subprocess.run(["sqlite3", str(path), q], check=True, capture_output=True)


def test_verify_untouched(recorded):
    store, n = recorded
    rc, out, err = verify(store.path)
    assert rc == 0 and err == ""
    assert f"ledger intact: {n} entries, head seq {n}" in out
    p = run("audit", "--verify", "--json", store=store.path)
    assert p.returncode == 0
    assert json.loads(p.stdout)["intact"] is True


@pytest.mark.parametrize("change", [
    "uid = uid + 1", "at = at - 60", "recipient = recipient || 'x'",
    "tracking_id = tracking_id || 'x'", "version = version || '.1'",
    "rules = rules || ',permit-everything'", "sha256 = zeroblob(32)",
    "prev_hash = zeroblob(32)", "hash = zeroblob(32)",
])
def test_verify_names_an_altered_entry(recorded, change):
    store, n = recorded
    k = n // 2
    bad = copy(store, "bad.db")
    sql(bad, f"DROP INDEX ledger_once; UPDATE ledger SET {change} WHERE seq = {k}")
    rc, _, err = verify(bad)
    assert rc != 0
    assert err == f"advisoryfs: audit: entry {k} (seq {k}): hash does not match its fields"


def test_verify_names_a_deleted_entry(recorded):
    store, n = recorded
    k = n // 2
    bad = copy(store, "bad.db")
    sql(bad, f"DELETE FROM ledger WHERE seq = {k}")
    rc, _, err = verify(bad)
    assert rc != 0
    assert err == (f"advisoryfs: audit: entry after seq {k - 1} is missing: "
                   f"seq {k + 1} follows {k - 1}")
    bad = copy(store, "first.db")
    sql(bad, "DELETE FROM ledger WHERE seq = 1")
    rc, _, err = verify(bad)
    assert rc != 0 and err == "advisoryfs: audit: entry seq 1 is missing: the ledger starts at seq 2"


def test_verify_catches_a_rewritten_entry(recorded):
    """An entry changed and its hash recomputed (the encoding is public): the
    next entry no longer follows from it."""
    store, n = recorded
    k = n // 2
    e = store.entries()[k - 1]
    e["uid"] = 4242
    bad = copy(store, "bad.db")
    sql(bad, f"UPDATE ledger SET uid = 4242, hash = x'{entry_hash(e)}' WHERE seq = {k}")
    rc, _, err = verify(bad)
    assert rc != 0
    assert err == (f"advisoryfs: audit: entry {k + 1} (seq {k + 1}): previous hash does not "
                   f"match the hash of seq {k}")


def test_verify_refuses_values_sqlite_would_convert(recorded):
    store, n = recorded
    bad = copy(store, "bad.db")
    sql(bad, "UPDATE ledger SET uid = uid + 0.25 WHERE seq = 2")
    rc, _, err = verify(bad)
    assert rc != 0 and err == "advisoryfs: audit: entry 2 (seq 2): uid is malformed"


def test_checkpoints_show_a_cut_off_end(recorded, tmp_path):
    store, n = recorded
    # without a checkpoint a shorter chain is a good chain: the tool says so
    cut = copy(store, "cut0.db")
    sql(cut, f"DELETE FROM ledger WHERE seq > {n - 2}")
    rc, out, _ = verify(cut)
    assert rc == 0 and "no checkpoints" in out

    p = run("audit", "--checkpoint", store=store.path)
    assert p.returncode != 0 and "no signing key" in p.stderr
    keyfile = tmp_path / "signing.key"
    ok("key", "generate", "--key", keyfile, "--uid", "Test <test@example.invalid>",
       store=store.path)
    fpr = store.sql("SELECT value FROM meta WHERE key = 'signing_fpr'").strip()
    assert len(fpr) == 40
    out = ok("audit", "--checkpoint", store=store.path).stdout
    assert out.startswith(f"checkpoint at seq {n}, hash ")
    assert "has a checkpoint already" in ok("audit", "--checkpoint", store=store.path).stdout
    rc, out, err = verify(store.path)
    assert rc == 0, err
    assert f"1 checkpoints good, the last at seq {n}" in out
    assert verify(store.path, "--signer", fpr)[0] == 0
    assert verify(store.path, "--signer", fpr.lower())[0] == 0
    assert verify(store.path, "--signer", "0" * 40)[0] != 0

    cut = copy(store, "cut.db")
    sql(cut, f"DELETE FROM ledger WHERE seq > {n - 2}")
    rc, _, err = verify(cut)
    assert rc != 0
    assert err == (f"advisoryfs: audit: checkpoint at seq {n}: entry seq {n} is missing: "
                   f"the ledger was cut short (it ends at seq {n - 2})")
    forged = copy(store, "forged.db")
    sql(forged, f"UPDATE ledger_checkpoint SET at = at + 1 WHERE seq = {n}")
    rc, _, err = verify(forged)
    assert rc != 0 and err.endswith(f"checkpoint at seq {n}: the signature does not verify")


# ---- listing ---------------------------------------------------------------------------

def test_audit_lists_and_filters(recorded):
    store, n = recorded
    out = ok("audit", store=store.path).stdout.splitlines()
    assert out[0].split("\t") == ["seq", "at", "recipient", "uid", "advisory", "version",
                                  "sha256", "rules", "peer"]
    assert all(line.split("\t")[-1] == "-" for line in out[1:])   # local reads
    assert len(out) == n + 1
    everything = store.entries()
    acme = json.loads(ok("audit", "--recipient", "acme", "--json", store=store.path).stdout)
    assert acme == [e for e in everything if e["recipient"] == "acme"] and acme
    one = json.loads(ok("audit", "--advisory", "T-2024-0002", "--json",
                        store=store.path).stdout)
    assert sorted(e["recipient"] for e in one) == sorted(SLUGS)
    assert json.loads(ok("audit", "--since", "2999-01-01", "--json",
                         store=store.path).stdout) == []
    assert len(json.loads(ok("audit", "--since", "2000-01-01", "--json",
                             store=store.path).stdout)) == n
    for bad in (["--since", "yesterday"], ["--recipient", "Not A Slug"],
                ["--verify", "--checkpoint"], ["--verify", "--recipient", "acme"],
                ["--signer", "abc"], ["extra"]):
        p = run("audit", *bad, store=store.path)
        assert p.returncode == 2 and p.stderr.startswith("advisoryfs audit: "), bad


# ---- stores made before the ledger -----------------------------------------------------

def test_mount_migrates_a_store_without_ledger(store, mounts):
    store.sql("DROP TABLE ledger; DROP TABLE ledger_checkpoint; PRAGMA user_version = 1")
    p = run("audit", store=store.path)
    assert p.returncode == 1 and "has no ledger" in p.stderr
    m = mounts(store.path, "mnt")
    read_all(m.mnt, store)
    assert len(store.entries()) == sum(len(store.docs(s)) for s in SLUGS)


def test_mount_signs_checkpoints(store, mounts, tmp_path):
    """With a signing key the mount signs the head while it records (every
    -o checkpoint=SECS) and at unmount, so a cut-off end shows."""
    ok("key", "generate", "--key", tmp_path / "signing.key", "--uid",
       "Test <test@example.invalid>", store=store.path)

    def head():
        return int(store.sql("SELECT coalesce(max(seq), 0) FROM ledger"))

    def signed():
        return int(store.sql("SELECT coalesce(max(seq), 0) FROM ledger_checkpoint"))

    m = mounts(store.path, "mnt", "-o", "checkpoint=1")
    for rel in store.docs("acme"):
        (m.mnt / "acme" / rel).read_bytes()
    n = head()
    assert n == len(store.docs("acme"))
    done, took = wait_for(lambda: signed() == n, 5, step=0.05)
    assert done, took
    for slug in ("zcert", "public"):
        for rel in store.docs(slug):
            (m.mnt / slug / rel).read_bytes()
    m.unmount()
    assert signed() == head() > n
    rc, out, err = verify(store.path)
    assert rc == 0, err
    assert f"the last at seq {head()}" in out and "0 entries after it" in out
    cut = copy(store, "cut.db")
    sql(cut, f"DELETE FROM ledger WHERE seq = {head()}")
    rc, _, err = verify(cut)
    assert rc != 0 and "the ledger was cut short" in err
