"""The mount (SPEC.md sections 2, 3 and 4) through the real program, a real
store made with the command line, and a real FUSE mount.

Every test mounts in the foreground as a child process, polls for the mount
instead of sleeping, always unmounts in cleanup (fusermount3 -u, then -uz
when busy) and fails when the daemon wrote anything on stderr.  The module
is skipped where FUSE cannot be used (no /dev/fuse, no fusermount3).

Live tests keep the names in the kernel's caches (a thread stats them in a
loop, the mount caches entries and attributes for a day) and require every
change to show within 1 second of the command that made it, or of the
moment that made it (an embargo ending).
"""

import ctypes
import errno
import filecmp
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers import BIN, csaf_dir, make_doc, ok, run, wait_for, write_doc

FUSERMOUNT = shutil.which("fusermount3")
LIVE_LIMIT = 1.0  # SPEC.md section 3: within 1 second

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
    pytest.mark.skipif(FUSERMOUNT is None, reason="no fusermount3"),
]


# ---- helpers ---------------------------------------------------------------------------

def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    """Seconds since the epoch of an RFC 3339 time (fractions kept)."""
    return datetime.fromisoformat(re.sub(r"Z$", "+00:00", s)).timestamp()


def exists(p):
    try:
        os.stat(p)
        return True
    except FileNotFoundError:
        return False


def tree(root):
    """Every file below root, relative, sorted (the form of `advisoryfs visible`)."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in files:
            out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def visible(store, slug):
    return sorted(ok("visible", slug, store=store).stdout.split())


def tlp_dirs(root):
    """The TLP folders of a recipient's directory (not provider-metadata.json, openpgp/)."""
    return [d for d in os.listdir(root) if d in ("white", "green", "amber", "red")]


def is_doc(rel):
    """Whether a path of a tree is an advisory (not the provider's metadata)."""
    return rel.endswith(".json") and os.path.basename(rel) != "provider-metadata.json"


def errno_of(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


class Mount:
    """A foreground advisoryfs mount; unmount() checks the daemon's exit and stderr."""

    def __init__(self, store, mnt, *extra, args=None):
        self.mnt = Path(mnt)
        self.mnt.mkdir(parents=True, exist_ok=True)
        self.err = open(self.mnt.parent / f"{self.mnt.name}.stderr", "w+")
        cmd = args or [BIN, "-s", str(store), "mount", str(self.mnt), "-f", *extra]
        self.done = False
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        mounted, _ = wait_for(lambda: os.path.ismount(self.mnt) or self.proc.poll() is not None,
                              10)
        if not os.path.ismount(self.mnt):
            self.kill()
            raise AssertionError(f"mount failed: {self.stderr()}")

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def unmount(self, check=True):
        """Unmount (lazily when busy) and wait for the daemon; with check,
        require a clean exit and an empty stderr."""
        if self.done:
            return
        self.done = True
        if os.path.ismount(self.mnt):
            if subprocess.run([FUSERMOUNT, "-u", str(self.mnt)],
                              capture_output=True).returncode != 0:
                subprocess.run([FUSERMOUNT, "-uz", str(self.mnt)], capture_output=True)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("the daemon did not exit after unmounting")
        err = self.stderr()
        self.err.close()
        if check:
            assert rc == 0, f"daemon exited {rc}: {err}"
            assert err == "", f"unexpected stderr from the daemon: {err}"


@pytest.fixture
def mounts():
    """Mounts made by a test; all unmounted at the end, even on failure."""
    made = []

    def make(*a, **kw):
        m = Mount(*a, **kw)
        made.append(m)
        return m

    yield make
    failures = []
    for m in made:
        try:
            m.unmount()
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, failures


class Cacher:
    """Keeps names in the kernel's caches: stats them in a loop."""

    def __init__(self, *paths):
        self.paths = paths
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            for p in self.paths:
                try:
                    os.stat(p)
                except OSError:
                    pass
            time.sleep(0.001)

    def close(self):
        self.stop = True
        self.t.join()


# ---- the store -------------------------------------------------------------------------

SIG = ("-----BEGIN PGP SIGNATURE-----\n\n"
       "iHUEABYKAB0WIQTestTestTestTestTestTestTestTestTestAAKCRDummyDummy\n"
       "=abcd\n-----END PGP SIGNATURE-----\n")


class World:
    """A store with organisations, roles, a membership and advisories."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.store = tmp_path / "s.db"
        self.docs = {}      # tracking id -> source file
        ok("init", store=self.store)
        for slug, name in (("acme", "Acme Hospital"), ("zcert", "Z-CERT"), ("dtc", "DTC")):
            ok("org", "add", slug, "--name", name, "--sector", "health", store=self.store)
        ok("org", "role", "acme", "vital", "--from", "2020-01-01", store=self.store)
        ok("org", "role", "zcert", "csirt", "--from", "2020-01-14", store=self.store)
        ok("org", "role", "dtc", "oktt", "--from", "2022-12-01", store=self.store)
        ok("org", "member", "dtc", "acme", "--from", "2023-01-01", store=self.store)
        self.publish("TEST-2024-0001", tlp="GREEN", concerns="acme")
        self.publish("TEST-2024-0002", tlp="WHITE")
        self.publish("TEST-2023-0003", tlp="AMBER", concerns="zcert",
                     initial="2023-06-01T08:00:00Z")
        self.publish("TEST-2024-0004", tlp="RED", concerns="acme", signature=True,
                     initial="2024-05-02T12:00:00Z")
        real = csaf_dir() / "advisories"
        for f, extra in ((real / "bsi-wid" / "wid-sec-w-2024-0001.json",
                          ["--tlp", "GREEN", "--concerns", "acme"]),
                         (real / "oasis-examples" / "bsi-2022-0001.json", [])):
            if f.exists():
                ok("publish", f, *extra, store=self.store)
                self.docs[json.loads(f.read_bytes())["document"]["tracking"]["id"]] = f

    def publish(self, tid, tlp, concerns=None, initial="2024-03-01T10:00:00Z", current=None,
                version="1.0.0", signature=False, extra=(), pad=0):
        f = write_doc(self.dir / "src" / f"{tid}-{version}.json",
                      make_doc(tid, version=version, tlp=tlp, initial=initial,
                               current=current, title=f"Advisory {tid}", pad=pad))
        args = ["publish", f]
        if concerns:
            args += ["--concerns", concerns]
        if signature:
            sig = write_doc(self.dir / "src" / f"{tid}-{version}.json.asc", SIG)
            args += ["--signature", sig]
        ok(*args, *extra, store=self.store)
        self.docs[tid] = f
        return f


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def doc_path(root, tid, tlpdir, year):
    name = re.sub(r"[^+\-a-z0-9]+", "_", tid.lower()) + ".json"
    return Path(root) / tlpdir / str(year) / name


# ---- the tree --------------------------------------------------------------------------

def test_tree_equals_visible(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    assert sorted(os.listdir(m.mnt)) == ["acme", "dtc", "public", "zcert"]
    for slug in ("acme", "zcert", "dtc", "public"):
        assert tree(m.mnt / slug) == visible(world.store, slug), slug
    # at least something to look at, and not everything everywhere
    assert "green/2024/test-2024-0001.json" in tree(m.mnt / "acme")
    assert "green/2024/test-2024-0001.json" not in tree(m.mnt / "public")
    assert "red/2024/test-2024-0004.json.asc" in tree(m.mnt / "acme")


def test_as_recipient_root(world, mounts, tmp_path):
    full = mounts(world.store, tmp_path / "full")
    m = mounts(world.store, tmp_path / "acme", "--as", "acme")
    assert tree(m.mnt) == visible(world.store, "acme")
    # the same file has the same inode number in both mounts
    for rel in tree(m.mnt):
        assert os.stat(m.mnt / rel).st_ino == os.stat(full.mnt / "acme" / rel).st_ino, rel
    p = mounts(world.store, tmp_path / "pub", "-o", "as=public")
    assert tree(p.mnt) == visible(world.store, "public")


def test_bytes_sizes_and_modes(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    seen = 0
    for rel in tree(acme):
        st = os.stat(acme / rel)
        data = (acme / rel).read_bytes()
        assert st.st_size == len(data), rel
        assert st.st_mode & 0o7777 == 0o444, rel
        if is_doc(rel):
            tid = json.loads(data)["document"]["tracking"]["id"]
            assert filecmp.cmp(acme / rel, world.docs[tid], shallow=False), rel
            cur = json.loads(data)["document"]["tracking"]["current_release_date"]
            assert int(st.st_mtime) == int(parse_time(cur)), rel
            seen += 1
        if rel.endswith(".asc"):
            assert data == SIG.encode()
    assert seen >= 3
    for d, dirs, _ in os.walk(acme):
        for x in dirs:
            assert os.stat(os.path.join(d, x)).st_mode & 0o7777 == 0o555
    # directories: mtime is the newest inside
    green = acme / "green"
    newest = max(os.stat(green / r).st_mtime for r in tree(green) if r.endswith(".json"))
    assert os.stat(green).st_mtime == newest


def test_hash_files_check(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    years = {os.path.dirname(r) for r in tree(m.mnt) if is_doc(r)}
    assert years
    for y in years:
        d = m.mnt / y
        for tool, ext in (("sha256sum", "sha256"), ("sha512sum", "sha512")):
            files = sorted(f for f in os.listdir(d) if f.endswith("." + ext))
            p = subprocess.run([tool, "-c", *files], cwd=d, capture_output=True, text=True)
            assert p.returncode == 0, (y, p.stdout, p.stderr)
            assert p.stdout.count(": OK") == len(files)


def test_index_and_changes(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    checked = 0
    for slug in ("acme", "zcert", "dtc", "public"):
        for tlp in tlp_dirs(m.mnt / slug):
            d = m.mnt / slug / tlp
            docs = sorted(r for r in tree(d) if r.endswith(".json"))
            assert (d / "index.txt").read_text().splitlines() == docs
            rows = [re.fullmatch(r'"([^"]+)","([^"]+)"', line)
                    for line in (d / "changes.csv").read_text().splitlines()]
            assert all(rows), (d / "changes.csv").read_text()
            assert sorted(r.group(1) for r in rows) == docs
            times = [r.group(2) for r in rows]
            assert times == sorted(times, reverse=True)
            for r in rows:
                doc = json.loads((d / r.group(1)).read_bytes())
                cur = doc["document"]["tracking"]["current_release_date"]
                assert int(parse_time(cur)) == int(parse_time(r.group(2)))
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.group(2))
            checked += 1
    assert checked >= 4


def test_xattrs(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    f = doc_path(m.mnt / "acme", "TEST-2024-0001", "green", 2024)
    assert sorted(os.listxattr(f)) == ["user.advisoryfs.basis", "user.advisoryfs.dist",
                                       "user.advisoryfs.rules"]
    rules = os.getxattr(f, "user.advisoryfs.rules").decode()
    basis = os.getxattr(f, "user.advisoryfs.basis").decode()
    ex = json.loads(ok("visible", "acme", "--json", store=world.store).stdout)
    want = [a["rules"] for a in ex["advisories"] if a["tracking_id"] == "TEST-2024-0001"][0]
    assert rules.split(",") == want
    assert basis and "Wbni" in basis
    assert len(basis.split("; ")) >= len(want)
    # nothing on other files, and ENODATA for other names
    for other in (str(f) + ".sha256", f.parent, m.mnt / "acme" / "green" / "index.txt"):
        assert os.listxattr(other) == []
        assert errno_of(os.getxattr, other, "user.advisoryfs.rules") == errno.ENODATA
    assert errno_of(os.getxattr, f, "user.other") == errno.ENODATA
    # other namespaces are not supported (so ls -l and cp -a stop asking for
    # the rest of the file system instead of asking once per file)
    for name in ("security.selinux", "system.posix_acl_access", "trusted.x"):
        assert errno_of(os.getxattr, f, name) == errno.EOPNOTSUPP

    # the size query and ERANGE, through the C interface
    libc = ctypes.CDLL(None, use_errno=True)
    libc.getxattr.restype = ctypes.c_ssize_t
    libc.listxattr.restype = ctypes.c_ssize_t
    path, name = str(f).encode(), b"user.advisoryfs.rules"
    n = libc.getxattr(path, name, None, ctypes.c_size_t(0))
    assert n == len(rules.encode())
    buf = ctypes.create_string_buffer(n)
    assert libc.getxattr(path, name, buf, ctypes.c_size_t(n - 1)) == -1
    assert ctypes.get_errno() == errno.ERANGE
    assert libc.getxattr(path, name, buf, ctypes.c_size_t(n)) == n
    assert buf.raw[:n].decode() == rules
    n = libc.listxattr(path, None, ctypes.c_size_t(0))
    assert n == len(b"user.advisoryfs.rules\0user.advisoryfs.basis\0user.advisoryfs.dist\0")
    buf = ctypes.create_string_buffer(n)
    assert libc.listxattr(path, buf, ctypes.c_size_t(n - 1)) == -1
    assert ctypes.get_errno() == errno.ERANGE


def test_invisible_is_enoent(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    pub, acme = m.mnt / "public", m.mnt / "acme"
    # exists for acme, not for public: same relative path
    assert exists(doc_path(acme, "TEST-2024-0001", "green", 2024))
    invisible = [doc_path(pub, "TEST-2024-0001", "green", 2024), pub / "green",
                 pub / "green" / "index.txt", pub / "red",
                 doc_path(acme, "TEST-2023-0003", "amber", 2023), acme / "amber",
                 m.mnt / "nobody", acme / "white" / "1999", acme / "purple",
                 doc_path(acme, "TEST-2024-0001", "green", 2023),
                 str(doc_path(acme, "TEST-2024-0002", "white", 2024)) + ".asc",
                 acme / "green" / "2024" / "nothing.json"]
    assert "amber/2023/test-2023-0003.json" not in visible(world.store, "acme")
    for p in invisible:
        assert errno_of(os.stat, p) == errno.ENOENT, p
        assert errno_of(os.open, p, os.O_RDONLY) == errno.ENOENT, p
        assert errno_of(os.listdir, p) == errno.ENOENT, p
        assert errno_of(os.getxattr, p, "user.advisoryfs.rules") == errno.ENOENT, p
    # twice: a cached negative entry says the same
    for p in invisible:
        assert errno_of(os.stat, p) == errno.ENOENT, p
    listing = set(os.listdir(pub))
    assert "green" not in listing and "red" not in listing
    assert "test-2024-0001.json" not in "".join(
        (pub / t / "index.txt").read_text() + (pub / t / "changes.csv").read_text()
        for t in tlp_dirs(pub))
    # read-only
    f = doc_path(acme, "TEST-2024-0001", "green", 2024)
    assert errno_of(os.open, f, os.O_WRONLY) in (errno.EROFS, errno.EACCES)
    assert errno_of(os.mkdir, acme / "new") in (errno.EROFS, errno.EACCES)


TOOLS = ("ls", "find", "grep", "jq", "stat", "getfattr", "tar", "cp", "du")


@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS),
                    reason="one of " + ", ".join(TOOLS) + " is missing")
def test_tools(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    files = tree(acme)

    def sh(*cmd, **kw):
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
        assert p.returncode == 0, (cmd, p.stdout, p.stderr)
        assert p.stderr == "", (cmd, p.stderr)
        return p.stdout

    sh("ls", "-laR", m.mnt)
    assert sorted(os.path.relpath(x, acme) for x in
                  sh("find", acme, "-type", "f").split()) == files
    jsons = sorted(f for f in files if is_doc(f))
    assert sorted(os.path.relpath(x, acme) for x in
                  sh("grep", "-rl", '"csaf_version"', acme).split()) == jsons
    for f in jsons:
        tid = sh("jq", "-r", ".document.tracking.id", acme / f).strip()
        assert f.endswith(re.sub(r"[^+\-a-z0-9]+", "_", tid.lower()) + ".json")
        st = os.stat(acme / f)
        assert sh("stat", "-c", "%s %Y %i", acme / f).split() == \
            [str(st.st_size), str(int(st.st_mtime)), str(st.st_ino)]
        out = sh("getfattr", "-d", "-m", "-", "--absolute-names", acme / f)
        assert "user.advisoryfs.rules=" in out and "user.advisoryfs.basis=" in out
    total = sum(os.stat(acme / f).st_size for f in files)
    assert sh("du", "-sb", acme).split()[0] == str(total)

    # tar: no "file changed as we read it", same bytes back
    sh("tar", "-cf", tmp_path / "a.tar", "-C", m.mnt, "acme")
    with tarfile.open(tmp_path / "a.tar") as t:
        t.extractall(tmp_path / "untar")
    assert tree(tmp_path / "untar" / "acme") == files
    # cp -a: same tree, bytes and times
    sh("cp", "-a", acme, tmp_path / "copy")
    assert tree(tmp_path / "copy") == files
    for f in files:
        assert filecmp.cmp(acme / f, tmp_path / "copy" / f, shallow=False)
        assert int(os.stat(tmp_path / "copy" / f).st_mtime) == int(os.stat(acme / f).st_mtime)


def test_remount_same_inodes_and_times(world, mounts, tmp_path):
    def survey(root):
        out = {}
        for d, dirs, fs in os.walk(root):
            for x in dirs + fs:
                st = os.stat(os.path.join(d, x))
                out[os.path.relpath(os.path.join(d, x), root)] = (st.st_ino, st.st_mtime_ns,
                                                                  st.st_size)
        return out

    m = mounts(world.store, tmp_path / "mnt")
    first = survey(m.mnt)
    m.unmount()
    # the same store, moved: the key is in the store, not in its path
    moved = tmp_path / "moved.db"
    os.rename(world.store, moved)
    m2 = mounts(moved, tmp_path / "mnt")
    assert survey(m2.mnt) == first
    inos = [v[0] for v in first.values()]
    assert len(set(inos)) == len(inos)


# ---- live visibility -------------------------------------------------------------------

def assert_follows(root, store, slug, gone=(), appeared=(), limit=LIVE_LIMIT, start=None):
    """Within limit seconds (of start, default now), the tree under root equals
    `visible slug`, the gone paths give ENOENT and the appeared ones exist."""
    start = start if start is not None else time.monotonic()
    want = visible(store, slug)

    def ok_now():
        return (all(not exists(root / p) for p in gone)
                and all(exists(root / p) for p in appeared)
                and tree(root) == want)   # also a change with no named path

    done, _ = wait_for(ok_now, limit + 1)
    took = time.monotonic() - start
    assert done, f"not reflected after {took:.2f}s: gone {gone}, appeared {appeared}"
    assert took <= limit, f"reflected only after {took:.2f}s"
    assert tree(root) == want
    for tlp in tlp_dirs(root):
        docs = sorted(r for r in tree(root / tlp) if r.endswith(".json"))
        assert (root / tlp / "index.txt").read_text().splitlines() == docs
        assert sorted(line.split('"')[1] for line in
                      (root / tlp / "changes.csv").read_text().splitlines()) == docs
    return took


def test_live_withdraw(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    rel = "green/2024/test-2024-0001.json"
    f = acme / rel
    assert rel in visible(world.store, "acme")
    (acme / "green" / "index.txt").read_text()
    fd = os.open(f, os.O_RDONLY)
    assert os.pread(fd, 100, 0)
    # opened again after its first disclosure: its bytes are fetched at the
    # first read, which must fail all the same after the withdrawal
    fd2 = os.open(f, os.O_RDONLY)
    try:
        c = Cacher(f, str(f) + ".sha256", acme / "green" / "index.txt", acme / "green")
        try:
            ok("withdraw", "TEST-2024-0001", store=world.store)
            t0 = time.monotonic()
            assert_follows(acme, world.store, "acme", gone=[rel, rel + ".sha256"], start=t0)
            # an open file stops serving bytes, cached pages included
            err, took = wait_for(lambda: errno_of(os.pread, fd, 100, 0) == errno.EIO, 1.0)
            assert err, "read of a revoked file still succeeds"
            assert errno_of(os.pread, fd2, 100, 0) == errno.EIO
            for slug in ("zcert", "dtc"):
                assert tree(m.mnt / slug) == visible(world.store, slug)
        finally:
            c.close()
    finally:
        os.close(fd)
        os.close(fd2)


def test_live_share_then_withdraw(world, mounts, tmp_path):
    """A special-case share, then a withdrawal, each alone in its poll: the
    mount patches its snapshot instead of loading the world again.  A name
    the kernel cached as absent appears, index.txt and changes.csv follow,
    and it goes again; the other recipients' trees keep matching."""
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    rel = "amber/2023/test-2023-0003.json"
    assert rel not in visible(world.store, "acme")
    assert rel in visible(world.store, "zcert")
    assert not exists(acme / rel) and not exists(acme / rel)  # a cached negative entry
    c = Cacher(acme / rel, acme / "amber", acme / "amber" / "index.txt")
    try:
        ok("share", "TEST-2023-0003", "acme", "--reason", "need to know", store=world.store)
        t0 = time.monotonic()
        assert rel in visible(world.store, "acme")
        assert_follows(acme, world.store, "acme", appeared=[rel, rel + ".sha256"], start=t0)
        assert filecmp.cmp(acme / rel, world.docs["TEST-2023-0003"], shallow=False)
        ok("withdraw", "TEST-2023-0003", store=world.store)
        t0 = time.monotonic()
        assert_follows(acme, world.store, "acme", gone=[rel, rel + ".sha256"], start=t0)
        assert_follows(m.mnt / "zcert", world.store, "zcert", gone=[rel], start=t0)
        for slug in ("dtc", "public"):
            assert tree(m.mnt / slug) == visible(world.store, slug)
    finally:
        c.close()


def test_live_role_ends(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    rel = "red/2024/test-2024-0004.json"
    assert rel in visible(world.store, "acme")
    c = Cacher(acme / rel, acme / "red", acme / "red" / "index.txt")
    try:
        ok("org", "role", "acme", "vital", "--until", "2021-01-01", store=world.store)
        t0 = time.monotonic()
        vis = visible(world.store, "acme")
        gone = [p for p in ("green/2024/test-2024-0001.json", rel) if p not in vis]
        assert gone, "the role's end changed nothing for acme"
        assert_follows(acme, world.store, "acme", gone=gone, start=t0)
    finally:
        c.close()


def test_live_membership_removed(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    dtc = m.mnt / "dtc"
    rel = "green/2024/test-2024-0001.json"
    assert rel in visible(world.store, "dtc")
    c = Cacher(dtc / rel, dtc / "green" / "2024")
    try:
        ok("org", "member", "dtc", "acme", "--remove", store=world.store)
        t0 = time.monotonic()
        assert rel not in visible(world.store, "dtc")
        assert_follows(dtc, world.store, "dtc", gone=[rel], start=t0)
    finally:
        c.close()


def test_live_stricter_policy(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    zcert = m.mnt / "zcert"
    before = visible(world.store, "zcert")
    assert any(is_doc(p) and not p.startswith("white/") for p in before)
    policy = json.loads(ok("policy", "show", store=world.store).stdout)
    policy["rules"] = [r for r in policy["rules"] if r["id"] != "permit-csirt-constituency"]
    pf = tmp_path / "strict.json"
    pf.write_text(json.dumps(policy))
    paths = [zcert / p for p in before]
    c = Cacher(*paths)
    try:
        ok("policy", "load", pf, store=world.store)
        t0 = time.monotonic()
        after = visible(world.store, "zcert")
        gone = [p for p in before if p not in after]
        assert gone
        assert_follows(zcert, world.store, "zcert", gone=gone, start=t0)
    finally:
        c.close()


def test_live_publish_appears(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    rel = "amber/2024/test-2024-0099.json"
    # cached negative entries for the name and the folder
    for p in (acme / rel, acme / "amber"):
        assert not exists(p) and not exists(p)
    c = Cacher(acme / rel, acme / "amber")
    try:
        world.publish("TEST-2024-0099", tlp="AMBER", concerns="acme")
        t0 = time.monotonic()
        assert rel in visible(world.store, "acme")
        assert_follows(acme, world.store, "acme", appeared=[rel, rel + ".sha512"], start=t0)
        assert filecmp.cmp(acme / rel, world.docs["TEST-2024-0099"], shallow=False)
    finally:
        c.close()


def test_live_org_added(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    new = m.mnt / "newco"
    assert not exists(new) and not exists(new)  # a cached negative entry
    c = Cacher(new, m.mnt)
    try:
        ok("org", "add", "newco", "--name", "New Co", store=world.store)
        t0 = time.monotonic()
        found, _ = wait_for(lambda: exists(new) and "newco" in os.listdir(m.mnt), 2)
        took = time.monotonic() - t0
        assert found and took <= LIVE_LIMIT, f"new organisation after {took:.2f}s"
        assert tree(new) == visible(world.store, "newco")
    finally:
        c.close()


def test_live_churn(world, mounts, tmp_path):
    """Readers walk and read the tree while advisories come and go; nothing
    but ENOENT (a name gone meanwhile) or EIO (a file revoked while open)
    may fail, and at the end the mount agrees with the store."""
    m = mounts(world.store, tmp_path / "mnt")
    stop = time.monotonic() + 3
    problems = []

    def reader():
        while time.monotonic() < stop:
            for d, dirs, files in os.walk(m.mnt):
                for f in files:
                    try:
                        data = Path(d, f).read_bytes()
                        if f.endswith(".json"):
                            json.loads(data)
                    except OSError as e:
                        if e.errno not in (errno.ENOENT, errno.EIO):
                            problems.append(f"{d}/{f}: {e}")
                    except ValueError as e:
                        problems.append(f"{d}/{f}: torn read: {e}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    i = 0
    while time.monotonic() < stop:
        tid = f"CHURN-2024-{i:04d}"
        world.publish(tid, tlp=["WHITE", "GREEN", "AMBER"][i % 3], concerns="acme")
        if i % 2:
            ok("withdraw", tid, store=world.store)
        i += 1
    for t in threads:
        t.join()
    assert not problems, problems[:5]
    assert_follows(m.mnt / "acme", world.store, "acme")
    assert_follows(m.mnt / "public", world.store, "public")


def test_live_new_version_replaces(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    rel = "green/2024/test-2024-0001.json"
    old = (acme / rel).read_bytes()
    ino = os.stat(acme / rel).st_ino
    c = Cacher(acme / rel, acme / (rel + ".sha256"))
    try:
        src = world.publish("TEST-2024-0001", tlp="GREEN", concerns="acme", version="2.0.0",
                            current="2024-04-01T10:00:00Z")
        t0 = time.monotonic()
        def changed():
            # a file opened just before the swap and read just after
            # fails with EIO (it no longer holds the version in force)
            try:
                return (acme / rel).read_bytes() != old
            except OSError as e:
                assert e.errno == errno.EIO
                return False

        done, took = wait_for(changed, LIVE_LIMIT + 1)
        took = time.monotonic() - t0
        assert done and took <= LIVE_LIMIT, f"new version after {took:.2f}s"
        assert filecmp.cmp(acme / rel, src, shallow=False)
        assert os.stat(acme / rel).st_size == src.stat().st_size
        assert os.stat(acme / rel).st_ino == ino
        p = subprocess.run(["sha256sum", "-c", "test-2024-0001.json.sha256"],
                           cwd=acme / "green" / "2024", capture_output=True)
        assert p.returncode == 0
    finally:
        c.close()


def read_rest(fd, off):
    """Read fd from off to its end; (bytes, errno of the read that failed or None)."""
    data = b""
    while True:
        try:
            chunk = os.pread(fd, 1 << 20, off + len(data))
        except OSError as e:
            return data, e.errno
        if not chunk:
            return data, None
        data += chunk


def test_open_file_keeps_one_version(world, mounts, tmp_path):
    """A file open across a new version and a withdrawal gives bytes of the
    version it was opened on, or EIO: never a mix of two versions, though no
    handle holds it (the mount answers no OPEN; its node holds one version,
    mount_ops.c).  fstat through it still describes what was opened."""
    tid = "BIG-2024-0001"
    old = world.publish(tid, tlp="GREEN", concerns="acme", pad=700_000).read_bytes()
    m = mounts(world.store, tmp_path / "mnt")
    f = doc_path(m.mnt / "acme", tid, "green", 2024)
    assert os.stat(f).st_size == len(old) > 640 * 1024   # several READs
    fd = os.open(f, os.O_RDONLY)
    try:
        head = os.pread(fd, 4096, 0)
        assert head == old[:4096]
        ino = os.fstat(fd).st_ino
        new = world.publish(tid, tlp="GREEN", concerns="acme", version="2.0.0",
                            current="2024-04-01T10:00:00Z", pad=700_001).read_bytes()

        def by_name():
            try:
                return f.read_bytes() == new
            except OSError as e:
                assert e.errno == errno.EIO   # opened on 1.0.0, read after the switch
                return False

        done, took = wait_for(by_name, LIVE_LIMIT + 1)
        assert done, f"new version not served after {took:.2f}s"
        st = os.stat(f)
        assert (st.st_size, st.st_ino) == (len(new), ino)
        # the old file: the rest of 1.0.0 as far as the kernel still had it,
        # then EIO; not a byte of 2.0.0
        rest, err = read_rest(fd, 4096)
        assert head + rest == old[:4096 + len(rest)]
        assert err == errno.EIO or head + rest == old
        assert err == errno.EIO, "the old version's uncached bytes were served"
        assert os.fstat(fd).st_size == len(old)
        # withdrawn: the name goes, the open file describes what it was; the
        # hash line, pushed into the page cache by the listing, goes too
        os.listdir(f.parent)
        fd2 = os.open(f, os.O_RDONLY)
        fd3 = os.open(str(f) + ".sha256", os.O_RDONLY)
        try:
            assert os.pread(fd2, 10, 0) == new[:10]
            assert os.pread(fd3, 64, 0) == hashlib.sha256(new).hexdigest().encode()
            ok("withdraw", tid, store=world.store)
            gone, took = wait_for(lambda: not os.path.exists(f), LIVE_LIMIT + 1)
            assert gone, f"withdrawn document still there after {took:.2f}s"
            assert os.fstat(fd2).st_size == len(new)
            assert read_rest(fd2, 0) == (b"", errno.EIO)
            assert read_rest(fd3, 0) == (b"", errno.EIO)
        finally:
            os.close(fd2)
            os.close(fd3)
    finally:
        os.close(fd)


def test_hash_files_come_with_the_listing(world, tmp_path):
    """A listing (readdirplus) pushes the one-line .sha256 and .sha512 files
    into the kernel's page cache: reading them sends the daemon no READ,
    a document still does (its first read is a disclosure), and the bytes
    are the hash lines of the versions served."""
    m = Mount(world.store, tmp_path / "mnt", "-d")
    try:
        year = m.mnt / "acme" / "green" / "2024"
        names = os.listdir(year)
        hashes = sorted(n for n in names if n.endswith((".sha256", ".sha512")))
        docs = sorted(n for n in names if n.endswith(".json"))
        assert hashes and docs
        reads = lambda: m.stderr().count("opcode: READ ")
        # the push happens after the reply to the listing's last (empty)
        # call, which may come back first: give it time (not timed itself)
        time.sleep(0.5)
        before = reads()
        lines = {n: (year / n).read_text() for n in hashes}
        assert reads() == before, "a pushed hash file was read from the daemon"
        data = {n: (year / n).read_bytes() for n in docs}
        assert reads() >= before + len(docs)
        for n in docs:
            assert lines[n + ".sha256"] == f"{hashlib.sha256(data[n]).hexdigest()}  {n}\n"
            assert lines[n + ".sha512"] == f"{hashlib.sha512(data[n]).hexdigest()}  {n}\n"
    finally:
        m.unmount(check=False)


def test_live_embargo_ends_without_store_change(world, mounts, tmp_path):
    m = mounts(world.store, tmp_path / "mnt")
    acme = m.mnt / "acme"
    rel = "green/2024/test-2024-0077.json"
    until = int(time.time()) + 3
    world.publish("TEST-2024-0077", tlp="GREEN", concerns="acme",
                  extra=["--embargo-until", iso(until)])
    assert rel not in visible(world.store, "acme")
    c = Cacher(acme / rel, acme / "green" / "2024")
    try:
        while time.time() < until - 0.2:
            assert not exists(acme / rel), "visible before the embargo ended"
            time.sleep(0.02)
        found, _ = wait_for(lambda: exists(acme / rel), until + LIVE_LIMIT + 1 - time.time())
        late = time.time() - until
        assert found, "still embargoed"
        assert late <= LIVE_LIMIT, f"embargo ended {late:.2f}s late"
        assert "2024/test-2024-0077.json" in (acme / "green" / "index.txt").read_text().split()
        assert tree(acme) == visible(world.store, "acme")
    finally:
        c.close()


# ---- the command and its life cycle ----------------------------------------------------

def test_help_lists_options():
    p = run("mount", "--help")
    assert p.returncode == 0
    for o in ("--as SLUG", "timeout=", "poll_ms=", "-f", "-d", "FUSE options:"):
        assert o in p.stdout, o
    assert "max_idle_threads" in p.stdout  # libfuse's own help follows


def test_usage_errors(world, tmp_path):
    (tmp_path / "mnt").mkdir()
    p = run("mount", store=world.store)
    assert p.returncode == 2 and "MOUNTPOINT" in p.stderr
    p = run("mount", tmp_path / "mnt", "--bogus", store=world.store)
    assert p.returncode == 2 and "--bogus" in p.stderr
    p = run("mount", tmp_path / "mnt", "--as", "nobody", store=world.store)
    assert p.returncode == 1
    assert p.stderr.strip() == "advisoryfs: mount: no organisation 'nobody'"
    p = run("mount", tmp_path / "mnt", store=tmp_path / "none.db")
    assert p.returncode == 1 and p.stderr.startswith("advisoryfs: mount:")
    assert not os.path.ismount(tmp_path / "mnt")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_unmounts(world, tmp_path, sig):
    m = Mount(world.store, tmp_path / "mnt")
    try:
        assert tree(m.mnt / "acme")
        m.proc.send_signal(sig)
        rc = m.proc.wait(timeout=10)
        assert rc == 0
        assert not os.path.ismount(m.mnt)
        assert m.stderr() == ""
    finally:
        m.unmount(check=False)


def daemon_pids(mnt):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = (Path("/proc") / d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(mnt).encode() in cmd and any(c.endswith(b"advisoryfs") for c in cmd[:1]):
                pids.append(int(d))
    return pids


def unmount_daemon(mnt):
    if os.path.ismount(mnt):
        if subprocess.run([FUSERMOUNT, "-u", str(mnt)], capture_output=True).returncode:
            subprocess.run([FUSERMOUNT, "-uz", str(mnt)], capture_output=True)
    gone, _ = wait_for(lambda: not daemon_pids(mnt), 10, 0.02)
    assert gone, "the daemon did not exit after unmounting"


def test_daemon_mode(world, tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        p = run("mount", mnt, "--as", "acme", store=world.store)
        assert p.returncode == 0 and p.stderr == "" and p.stdout == ""
        assert os.path.ismount(mnt)
        assert tree(mnt) == visible(world.store, "acme")
        opts = [line.split()[3] for line in Path("/proc/mounts").read_text().splitlines()
                if line.split()[1] == str(mnt)][0].split(",")
        assert "ro" in opts
    finally:
        unmount_daemon(mnt)
    assert not os.path.ismount(mnt)


@pytest.fixture
def path_with_advisoryfs(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "advisoryfs").symlink_to(os.path.abspath(BIN))
    return f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}"


MOUNT_FUSE3 = shutil.which("mount.fuse3") or (
    "/sbin/mount.fuse3" if os.path.exists("/sbin/mount.fuse3") else None)


@pytest.mark.skipif(MOUNT_FUSE3 is None, reason="no mount.fuse3")
@pytest.mark.skipif(os.geteuid() != 0, reason="mount(8) form needs root")
def test_fstab_form_via_mount_fuse3(world, tmp_path, path_with_advisoryfs):
    """What mount(8) runs for an fstab line of type fuse.advisoryfs."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = dict(os.environ, PATH=path_with_advisoryfs)
    try:
        p = subprocess.run([MOUNT_FUSE3, str(world.store), str(mnt), "-t", "fuse.advisoryfs",
                            "-o", "rw,dev,suid,noatime,as=zcert,x-systemd.automount,nofail"],
                           env=env, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert p.stderr == ""
        line = [x.split() for x in Path("/proc/mounts").read_text().splitlines()
                if x.split()[1] == str(mnt)][0]
        assert line[0] == str(world.store) and line[2] == "fuse.advisoryfs"
        opts = line[3].split(",")
        assert "ro" in opts and "nosuid" in opts and "nodev" in opts
        assert tree(mnt) == visible(world.store, "zcert")
    finally:
        unmount_daemon(mnt)


@pytest.mark.skipif(os.geteuid() != 0, reason="mount(8) needs root")
def test_fstab_form_via_mount(world, tmp_path):
    """`mount -t fuse.advisoryfs STORE MNT -o ro`.  mount(8) runs its helpers
    without PATH, so /bin/sh looks in /usr/local/sbin and friends: the test
    puts a symlink to the binary under test there for its duration, and skips
    when the name is taken by something else."""
    link = Path("/usr/local/sbin/advisoryfs")
    if not shutil.which("mount") or not os.path.exists("/sbin/mount.fuse"):
        pytest.skip("no mount(8) or mount.fuse helper")
    if os.path.lexists(link) and os.path.realpath(link) != os.path.realpath(BIN):
        pytest.skip(f"{link} is another advisoryfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    made = False
    try:
        if not os.path.lexists(link):
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.realpath(BIN))
            made = True
        p = subprocess.run(["mount", "-t", "fuse.advisoryfs", str(world.store), str(mnt),
                            "-o", "ro"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert tree(mnt / "public") == visible(world.store, "public")
        p = subprocess.run([FUSERMOUNT, "-u", str(mnt)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert not os.path.ismount(mnt)
    finally:
        unmount_daemon(mnt)
        if made:
            link.unlink()
