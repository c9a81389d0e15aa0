"""Multi-tenant mounts (SPEC.md section 4; docs/MULTITENANT.md): one
`-o allow_other` mount shared by real local accounts bound to organisations.

Each account sees exactly its own directory and public/; an unbound account
sees public/ only; root sees everything.  The kernel shares its caches between
users, so the tests make one account use its tree first (dentries, attributes
and pages cached) and then check that another account reaches nothing of it:
every stat, open, listing and read of every path fails with ENOENT, and no
listing shows the other organisation's name.

Accounts are made and removed per test (tenantlib.accounts); every mount is
unmounted in cleanup.  Skipped without /dev/fuse, or when not root (making
accounts needs it).
"""

import errno
import json
import os
import subprocess
import threading

import pytest

from helpers import make_doc, ok, run, write_doc
from tenantlib import mounts, accounts, needs_accounts, needs_fuse, wait_for  # noqa: F401

pytestmark = needs_fuse + needs_accounts

LIVE_LIMIT = 1.0  # SPEC.md section 3


class Store:
    """Organisations with roles, and advisories that give each a different view:
    acme (vital) and zcert (csirt) see TLP:GREEN/AMBER/RED documents concerning
    them, dtc (oktt) sees little beyond the public, ghost is bound to nobody."""

    ORGS = (("acme", "vital", "2020-01-01"), ("zcert", "csirt", "2020-01-14"),
            ("dtc", "oktt", "2022-12-01"), ("ghost", "vital", "2020-01-01"))
    DOCS = (("T-2024-0001", "GREEN", "acme"), ("T-2024-0002", "WHITE", None),
            ("T-2023-0003", "AMBER", "zcert"), ("T-2024-0004", "RED", "acme"),
            ("T-2024-0005", "GREEN", "dtc"), ("T-2024-0006", "AMBER", "dtc"),
            ("T-2024-0007", "GREEN", "ghost"))

    def __init__(self, tmp_path):
        self.path = tmp_path / "s.db"
        ok("init", store=self.path)
        for slug, role, start in self.ORGS:
            ok("org", "add", slug, "--name", slug.upper(), "--sector", "health",
               store=self.path)
            ok("org", "role", slug, role, "--from", start, store=self.path)
        for tid, tlp, concerns in self.DOCS:
            f = write_doc(tmp_path / "src" / f"{tid}.json", make_doc(tid, tlp=tlp))
            ok("publish", f, *(["--concerns", concerns] if concerns else []), store=self.path)

    def bind(self, slug, uid=None, gid=None):
        args = ["org", "bind", slug]
        if uid is not None:
            args += ["--uid", str(uid)]
        if gid is not None:
            args += ["--gid", str(gid)]
        ok(*args, store=self.path)

    def visible(self, slug):
        return sorted(ok("visible", slug, store=self.path).stdout.split())


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path)


def paths_of(slug, files):
    """Every path of a recipient's tree under the mount root: its directory,
    each folder and each file, relative to the mountpoint."""
    out = {slug}
    for f in files:
        parts = f.split("/")
        for i in range(1, len(parts) + 1):
            out.add("/".join([slug, *parts[:i]]))
    return sorted(out)


def is_dir_path(slug, files, p):
    rel = p[len(slug) + 1:]
    return p == slug or any(f.startswith(rel + "/") for f in files)


def test_each_account_sees_its_own_and_public(store, mounts, accounts):
    a, z, d, stranger = accounts(4)
    store.bind("acme", a.uid, a.gid)
    store.bind("zcert", z.uid, z.gid)
    store.bind("dtc", d.uid, d.gid)
    m = mounts(store.path, "mnt", "-o", "allow_other")

    assert sorted(os.listdir(m.mnt)) == ["acme", "dtc", "ghost", "public", "zcert"]
    for acct, slug in ((a, "acme"), (z, "zcert"), (d, "dtc")):
        (top, walk_own, walk_pub) = acct.probe([["list", str(m.mnt)],
                                                ["walk", str(m.mnt / slug)],
                                                ["walk", str(m.mnt / "public")]])
        assert top == [0, sorted([slug, "public"])], (slug, top)
        assert walk_own == [0, store.visible(slug)], slug
        assert walk_pub == [0, store.visible("public")], slug
    top, pub = stranger.probe([["list", str(m.mnt)], ["walk", str(m.mnt / "public")]])
    assert top == [0, ["public"]]
    assert pub == [0, store.visible("public")]
    # an organisation bound to nobody is root's alone
    for acct in (a, z, d, stranger):
        assert acct.probe([["stat", str(m.mnt / "ghost")]]) == [[errno.ENOENT, None]]
    # root sees everything
    for slug in ("acme", "zcert", "dtc", "ghost", "public"):
        got = sorted(os.path.relpath(os.path.join(dp, f), m.mnt / slug)
                     for dp, _, fs in os.walk(m.mnt / slug) for f in fs)
        assert got == store.visible(slug), slug


def test_nothing_of_another_after_it_was_used(store, mounts, accounts):
    """A lists and reads its whole tree, and keeps stat'ing it from another
    process meanwhile (the kernel's caches are warm, for A and for root);
    B's stat, open, listing and read of every one of A's paths fail with
    ENOENT, and B's listings never show A's name."""
    a, b = accounts(2)
    store.bind("acme", a.uid, a.gid)
    store.bind("zcert", b.uid, b.gid)
    m = mounts(store.path, "mnt", "-o", "allow_other")
    files = store.visible("acme")
    paths = paths_of("acme", files)

    ops = [["walk", str(m.mnt / "acme")], ["list", str(m.mnt)]]
    ops += [["read", str(m.mnt / "acme" / f)] for f in files]
    ops += [["stat", str(m.mnt / p)] for p in paths]
    res = a.probe(ops)
    assert all(e == 0 for e, _ in res), res
    assert res[0][1] == files
    # root, too, has been there
    for f in files:
        (m.mnt / "acme" / f).read_bytes()

    # A keeps the names hot while B tries
    script = ("import os, sys\n"
              "paths = sys.argv[1:]\n"
              "while True:\n"
              "    for p in paths:\n"
              "        try: os.stat(p)\n"
              "        except OSError: pass\n")
    hot = subprocess.Popen(a.cmd("/usr/bin/python3", "-c", script,
                                 *[str(m.mnt / p) for p in paths]))
    try:
        for _ in range(3):
            ops = []
            for p in paths:
                ops.append(["stat", str(m.mnt / p)])
                ops.append(["open", str(m.mnt / p)])
                if is_dir_path("acme", files, p):
                    ops.append(["list", str(m.mnt / p)])
                else:
                    ops.append(["read", str(m.mnt / p)])
            res = b.probe(ops)
            for (op, p), (e, _) in zip(ops, res):
                assert e == errno.ENOENT, (op, p, e)
            top, own = b.probe([["list", str(m.mnt)], ["walk", str(m.mnt / "zcert")]])
            assert top == [0, ["public", "zcert"]]
            assert own == [0, store.visible("zcert")]
    finally:
        hot.kill()
        hot.wait()
    # what the kernel told B is no different from a name that never existed
    nosuch = b.probe([["stat", str(m.mnt / "nosuch")], ["stat", str(m.mnt / "acme")]])
    assert nosuch == [[errno.ENOENT, None], [errno.ENOENT, None]]


def test_owners_and_modes(store, mounts, accounts):
    a, z = accounts(2)
    store.bind("acme", a.uid, a.gid)      # an account and its group
    store.bind("zcert", z.uid)            # an account only
    m = mounts(store.path, "mnt", "-o", "allow_other")
    root = os.stat(m.mnt)
    assert root.st_mode & 0o7777 == 0o555
    assert root.st_nlink == 1             # says nothing about how many there are

    def check(slug, uid, gid, dmode, fmode):
        for dp, dirs, files in os.walk(m.mnt / slug):
            st = os.stat(dp)
            assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (uid, gid, dmode), dp
            for f in files:
                st = os.stat(os.path.join(dp, f))
                assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (uid, gid, fmode), f

    check("acme", a.uid, a.gid, 0o550, 0o440)
    check("zcert", z.uid, os.getgid(), 0o500, 0o400)
    check("ghost", os.getuid(), os.getgid(), 0o500, 0o400)
    check("public", os.getuid(), os.getgid(), 0o555, 0o444)


def test_group_binding_counts_supplementary_groups(store, mounts, accounts):
    """An organisation bound to a group: its members get in, by their primary
    or a supplementary group; the daemon answers as the kernel checks."""
    member, other = accounts(2)
    g = accounts.group()
    member.groups = [g]
    store.bind("dtc", gid=g)
    m = mounts(store.path, "mnt", "-o", "allow_other")
    assert member.probe([["list", str(m.mnt)], ["walk", str(m.mnt / "dtc")]]) == [
        [0, ["dtc", "public"]], [0, store.visible("dtc")]]
    assert other.probe([["list", str(m.mnt)], ["stat", str(m.mnt / "dtc")]]) == [
        [0, ["public"]], [errno.ENOENT, None]]


def test_as_recipient(store, mounts, accounts):
    """--as SLUG with allow_other: only SLUG's accounts and root get in; the
    mountpoint is SLUG's directory, so the kernel refuses the others."""
    a, b = accounts(2)
    store.bind("acme", a.uid, a.gid)
    m = mounts(store.path, "acme", "--as", "acme", "-o", "allow_other")
    assert a.probe([["walk", str(m.mnt)]]) == [[0, store.visible("acme")]]
    files = store.visible("acme")
    res = b.probe([["list", str(m.mnt)]] + [["stat", str(m.mnt / f)] for f in files] +
                  [["read", str(m.mnt / f)] for f in files])
    assert res[0][0] in (errno.EACCES, errno.ENOENT)      # the mountpoint itself
    assert all(e in (errno.EACCES, errno.ENOENT) for e, _ in res[1:]), res
    assert all(r is None for _, r in res)
    st = os.stat(m.mnt)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (a.uid, a.gid, 0o550)
    # the public view: everybody
    p = mounts(store.path, "pub", "--as", "public", "-o", "allow_other")
    for acct in (a, b):
        assert acct.probe([["walk", str(p.mnt)]]) == [[0, store.visible("public")]]


def test_rebinding_takes_effect_live(store, mounts, accounts):
    """Binding acme to another account: within a second the old one loses it,
    even through a working directory it holds inside, and the new one gets it."""
    old, new = accounts(2)
    store.bind("acme", old.uid, old.gid)
    m = mounts(store.path, "mnt", "-o", "allow_other")
    green = m.mnt / "acme" / "green"
    script = ("import os, sys\n"
              "os.chdir(sys.argv[1])\n"
              "print(len(os.listdir('.')), flush=True)\n"
              "for line in sys.stdin:\n"
              "    try:\n"
              "        os.listdir('.'); print(0, flush=True)\n"
              "    except OSError as e:\n"
              "        print(e.errno, flush=True)\n")
    p = subprocess.Popen(old.cmd("/usr/bin/python3", "-c", script, str(green)),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert int(p.stdout.readline()) > 0
        assert new.probe([["list", str(m.mnt)]]) == [[0, ["public"]]]
        store.bind("acme", new.uid, new.gid)

        def old_refused():
            p.stdin.write("\n")
            p.stdin.flush()
            return int(p.stdout.readline()) == errno.EACCES

        refused, took = wait_for(old_refused, 5, step=0.02)
        assert refused and took <= LIVE_LIMIT, took
        assert old.probe([["list", str(m.mnt)], ["stat", str(green)]]) == [
            [0, ["public"]], [errno.ENOENT, None]]
        assert new.probe([["list", str(m.mnt)], ["walk", str(m.mnt / "acme")]]) == [
            [0, ["acme", "public"]], [0, store.visible("acme")]]
    finally:
        p.kill()
        p.wait()


def test_ledger_records_the_reading_account(store, mounts, accounts):
    a, z = accounts(2)
    store.bind("acme", a.uid, a.gid)
    store.bind("zcert", z.uid, z.gid)
    m = mounts(store.path, "mnt", "-o", "allow_other")
    docs = {slug: [f for f in store.visible(slug) if f.endswith(".json")
                   and f != "provider-metadata.json"] for slug in ("acme", "zcert")}
    for acct, slug in ((a, "acme"), (z, "zcert")):
        res = acct.probe([["read", str(m.mnt / slug / f)] for f in docs[slug]] * 2)
        assert all(e == 0 for e, _ in res)
    entries = json.loads(ok("audit", "--json", store=store.path).stdout)
    by = {}
    for e in entries:
        by.setdefault(e["recipient"], []).append(e["uid"])
    assert sorted(by) == ["acme", "zcert"]
    assert by["acme"] == [a.uid] * len(docs["acme"])
    assert by["zcert"] == [z.uid] * len(docs["zcert"])
    assert run("audit", "--verify", store=store.path).returncode == 0


def test_concurrent_accounts(store, mounts, accounts):
    """Three accounts walking and reading at once, each only ever its own."""
    accts = accounts(3)
    slugs = ("acme", "zcert", "dtc")
    for acct, slug in zip(accts, slugs):
        store.bind(slug, acct.uid, acct.gid)
    m = mounts(store.path, "mnt", "-o", "allow_other")
    results = {}

    def work(acct, slug):
        ops = []
        for _ in range(5):
            ops += [["list", str(m.mnt)], ["walk", str(m.mnt / slug)]]
            ops += [["stat", str(m.mnt / o)] for o in slugs if o != slug]
        results[slug] = (ops, acct.probe(ops))

    threads = [threading.Thread(target=work, args=(a, s)) for a, s in zip(accts, slugs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for slug in slugs:
        ops, res = results[slug]
        for (op, p), (e, r) in zip(ops, res):
            if op == "list":
                assert (e, r) == (0, sorted([slug, "public"])), slug
            elif op == "walk":
                assert (e, r) == (0, store.visible(slug)), slug
            else:
                assert e == errno.ENOENT, (slug, p)
