"""The remote mount (docs/REMOTE.md) over a real sshd that the test starts on a
free loopback port, with one key per recipient whose forced command is
`advisoryfs -s STORE serve --as SLUG`:

- each recipient's remote mount holds exactly its server-side view: the same
  tree, bytes, hashes, index.txt, changes.csv, provider metadata, public key
  and attributes as the local mount's SLUG/ (and `visible SLUG`);
- live, with the kernel's caches on: a withdrawal, a role ending, a new
  version and an embargo ending each show within a second; an open
  descriptor of a revoked document then reads EIO;
- rsync -a --delete, sha256sum -c, gpg --verify and jq work through it;
- the server writes the ledger entry of each first read, with the SSH peer's
  address, and `audit --verify` holds;
- killing ssh with sshd gone: what was there is served for max_stale seconds,
  then EIO (never ENOENT), and after the link returns the tree converges
  (revocations included) before anything is served;
- a key that sshd refuses, a key without the forced command, an unknown
  recipient, a server of another protocol version: one line and exit 1.
"""

import errno
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import BIN, make_doc, ok, run, wait_for, write_doc
from sshlib import RemoteMount, Sshd, needs_sshd

pytestmark = needs_sshd

ORGS = (("acme", "vital", "2020-01-01"), ("zcert", "csirt", "2020-01-14"),
        ("dtc", "oktt", "2021-09-13"))
DOCS = (("R-2024-0001", "GREEN", "acme"), ("R-2024-0002", "WHITE", None),
        ("R-2023-0003", "AMBER", "zcert"), ("R-2024-0004", "RED", "acme"),
        ("R-2024-0005", "GREEN", "zcert"), ("R-2022-0006", "AMBER", "acme"),
        ("R-2024-0007", "WHITE", "zcert"))
GPG = shutil.which("gpg")


class World:
    """A store with a signing key and provider values, its sshd and keys."""

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        # under /tmp with short paths: sshd's forced command carries them
        self.store = self.tmp / "s.db"
        self.src = self.tmp / "src"
        ok("init", store=self.store)
        ok("key", "generate", "--key", self.tmp / "sign.key", "--uid",
           "Test NCSC <cert@ncsc.example>", store=self.store)
        ok("provider", "set", "--base-url", "https://advisories.example/csaf", store=self.store)
        for slug, role, start in ORGS:
            ok("org", "add", slug, "--name", slug.upper(), "--sector", "health", store=self.store)
            ok("org", "role", slug, role, "--from", start, store=self.store)
        ok("org", "member", "dtc", "acme", "--from", "2021-09-13", store=self.store)
        for tid, tlp, concerns in DOCS:
            self.publish(tid, tlp, concerns)
        self.sshd = Sshd(self.tmp / "sshd")
        self.keys = {}
        for slug in ("acme", "zcert", "public"):
            self.keys[slug] = self.sshd.key(slug, self.sshd.serve_command(self.store, slug))
        self.mounts = []

    def publish(self, tid, tlp, concerns=None, version="1.0.0", embargo=None, pad=2000,
                current="2024-03-01T10:00:00Z"):
        f = write_doc(self.src / f"{tid}-{version}.json",
                      make_doc(tid, tlp=tlp, version=version, initial="2024-03-01T10:00:00Z",
                               current=current, pad=pad))
        args = ["publish", f]
        if concerns:
            args += ["--concerns", concerns]
        if embargo:
            args += ["--embargo-until", embargo]
        ok(*args, store=self.store)
        return f

    def remote(self, slug, *opts, name=None, key=None):
        m = RemoteMount(self.tmp / (name or f"r-{slug}"),
                        self.sshd.ssh_command(key or self.keys[slug]), *opts, logdir=self.tmp)
        self.mounts.append(m)
        return m

    def local(self, *extra, name="local"):
        mnt = self.tmp / name
        mnt.mkdir(exist_ok=True)
        ok("mount", mnt, *extra, store=self.store)
        self.locals = getattr(self, "locals", []) + [mnt]
        return mnt

    def close(self):
        """Unmount everything; the remote mounts' daemons must exit 0 without a
        sanitizer's report."""
        bad = []
        for m in self.mounts:
            try:
                rc = m.unmount(check=False)
                err = m.errpath.read_text()
                if rc != 0 or "Sanitizer" in err or "runtime error" in err:
                    bad.append(f"{m.mnt}: exit {rc}: {err[-3000:]}")
            except AssertionError as e:
                bad.append(str(e))
        for mnt in getattr(self, "locals", []):
            subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)
        self.sshd.close()
        return bad


@pytest.fixture
def world():
    d = Path("/tmp") / f"afs-rm-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    d.mkdir()
    w = World(d)
    yield w
    bad = w.close()
    shutil.rmtree(d, ignore_errors=True)
    assert not bad, bad


def snapshot(root):
    """{relative path: (kind, size, mtime, bytes or None, xattrs)} of a tree."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = Path(d) / n
            rel = str(p.relative_to(root))
            st = os.lstat(p)
            xa = {a: os.getxattr(p, a) for a in sorted(os.listxattr(p))}
            data = p.read_bytes() if p.is_file() else None
            out[rel] = ("d" if p.is_dir() else "f", st.st_size if p.is_file() else 0,
                        int(st.st_mtime), oct(st.st_mode), st.st_nlink, data, xa)
    return out


def gone(path):
    try:
        os.stat(path)
        return False
    except FileNotFoundError:
        return True


# ---- the same tree ------------------------------------------------------------------------

def test_two_recipients_see_exactly_their_server_side_view(world):
    local = world.local()
    for slug in ("acme", "zcert"):
        m = world.remote(slug)
        remote, server = snapshot(m.mnt), snapshot(local / slug)
        assert remote.keys() == server.keys()
        for k in server:
            assert remote[k] == server[k], k
        # every kind of file is there
        names = "\n".join(remote)
        for part in ("provider-metadata.json", "openpgp/", "/index.txt", "/changes.csv",
                     ".json.sha256", ".json.sha512", ".json.asc"):
            assert part in names, part
        visible = ok("visible", slug, store=world.store).stdout.split()
        files = sorted(k for k, v in remote.items() if v[0] == "f")
        assert files == sorted(visible)
    # the two trees differ (zcert's AMBER is not acme's)
    assert snapshot(world.mounts[0].mnt).keys() != snapshot(world.mounts[1].mnt).keys()


def test_tools_work_through_it(world, tmp_path):
    m = world.remote("acme")
    dst = tmp_path / "copy"
    r = subprocess.run(["rsync", "-a", "--delete", f"{m.mnt}/", f"{dst}/"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert snapshot(dst).keys() == snapshot(m.mnt).keys()
    years = [p for p in m.mnt.glob("*/[0-9][0-9][0-9][0-9]")]
    assert years
    for y in years:
        r = subprocess.run("sha256sum -c --quiet -- *.sha256 && sha512sum -c --quiet -- *.sha512",
                           shell=True, cwd=y, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    doc = next(m.mnt.glob("green/2024/*.json"))
    r = subprocess.run(["jq", "-r", ".document.tracking.id", str(doc)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout.strip().startswith("R-2024-"), r.stderr
    if GPG:
        home = tmp_path / "gnupg"
        home.mkdir(mode=0o700)
        key = next(m.mnt.glob("openpgp/*.asc"))
        g = ["gpg", "--homedir", str(home), "--batch", "--quiet"]
        assert subprocess.run(g + ["--import", str(key)], capture_output=True).returncode == 0
        for asc in m.mnt.glob("*/*/*.json.asc"):
            r = subprocess.run(g + ["--verify", str(asc), str(asc)[:-4]], capture_output=True,
                               text=True)
            assert r.returncode == 0, r.stderr


def test_the_server_records_each_first_read_with_the_peer(world):
    m = world.remote("acme")
    docs = sorted(m.mnt.glob("*/*/*.json"))
    assert docs
    for _ in range(3):
        for d in docs:
            d.read_bytes()
    entries = json.loads(ok("audit", "--json", store=world.store).stdout)
    assert len(entries) == len(docs)
    assert {e["recipient"] for e in entries} == {"acme"}
    assert {e["peer"] for e in entries} == {"127.0.0.1"}
    got = {e["sha256"] for e in entries}
    assert got == {hashlib.sha256(d.read_bytes()).hexdigest() for d in docs}
    assert run("audit", "--verify", store=world.store).returncode == 0
    # hash files, signatures and listings are no disclosure
    for p in m.mnt.rglob("*"):
        if p.is_file() and not p.name.endswith(".json"):
            p.read_bytes()
    assert len(json.loads(ok("audit", "--json", store=world.store).stdout)) == len(docs)


# ---- errors at mount time ------------------------------------------------------------------

def mount_fails(world, key, name, *opts):
    mnt = world.tmp / name
    mnt.mkdir()
    p = subprocess.run([BIN, "mount", str(mnt), "--remote", "root@127.0.0.1", "-o",
                        ",".join(["ssh_command=" + world.sshd.ssh_command(key), *opts])],
                       capture_output=True, text=True, timeout=60)
    assert not os.path.ismount(mnt)
    return p


def test_refused_by_ssh(world):
    stranger = world.tmp / "sshd" / "id_stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True)
    p = mount_fails(world, stranger, "refused")
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("advisoryfs: mount: ssh to "), p.stderr
    assert "Permission denied" in lines[0]


def test_no_forced_command(world):
    key = world.sshd.key("plain", None)
    p = mount_fails(world, key, "plain")
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "forced command" in lines[0], p.stderr


def test_unknown_recipient(world):
    key = world.sshd.key("nosuch", world.sshd.serve_command(world.store, "nosuch"))
    p = mount_fails(world, key, "nosuch")
    assert p.returncode == 1
    assert p.stderr.strip() == ("advisoryfs: mount: root@127.0.0.1: no organisation 'nosuch' "
                                "on this server"), p.stderr


def test_other_protocol_version(world, tmp_path):
    """A server that answers HELLO with its own version: the client's line."""
    fake = tmp_path / "fake_server.py"
    fake.write_text(
        "import struct, sys\n"
        "sys.stdin.buffer.read(4 + 13)\n"
        "slug = b'acme'; me = b'advisoryfs 9.0'\n"
        "p = b'\\x02' + struct.pack('>H', 7) + struct.pack('>H', len(slug)) + slug + "
        "struct.pack('>H', len(me)) + me\n"
        "sys.stdout.buffer.write(struct.pack('>I', len(p)) + p); sys.stdout.flush()\n"
        "sys.stdin.buffer.read()\n")
    mnt = tmp_path / "fake"
    mnt.mkdir()
    p = subprocess.run([BIN, "mount", str(mnt), "--remote", "somewhere", "-o",
                        f"ssh_command={sys.executable} {fake}"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1
    assert p.stderr.strip() == ("advisoryfs: mount: somewhere: the server speaks protocol "
                                "version 7, this client 1"), p.stderr


def test_serve_refuses_another_client_version(world):
    hello = b"\x01" + b"AFSREMOT" + (2).to_bytes(2, "big") + (3).to_bytes(2, "big")
    p = subprocess.run([BIN, "-s", str(world.store), "serve", "--as", "acme"],
                       input=len(hello).to_bytes(4, "big") + hello, capture_output=True,
                       timeout=30)
    assert p.returncode == 1
    n = int.from_bytes(p.stdout[:4], "big")
    frame = p.stdout[4:4 + n]
    assert frame[0] == 3    # ERROR
    msg = frame[7:].decode()
    assert "protocol versions 2 to 3" in msg and "version 1" in msg, msg
    # and something that is not a client at all
    p = subprocess.run([BIN, "-s", str(world.store), "serve", "--as", "acme"],
                       input=b"hello\n", capture_output=True, timeout=30)
    assert p.returncode == 1 and p.stdout == b""
    assert "does not speak" in p.stderr.decode()
    p = run("serve", store=world.store)
    assert p.returncode == 2 and "--as SLUG is required" in p.stderr


# ---- live ---------------------------------------------------------------------------------

def within(pred, seconds=1.0):
    v, el = wait_for(pred, seconds + 2, 0.005)
    assert v, f"not within {seconds + 2} s"
    assert el <= seconds, f"took {el:.3f} s"
    return el


def test_changes_show_within_a_second(world):
    m = world.remote("acme")
    mnt = m.mnt
    # everything listed and stat'ed: the kernel caches names and attributes
    snapshot(mnt)
    doc = mnt / "green" / "2024" / "r-2024-0001.json"
    held = os.open(doc, os.O_RDONLY)
    try:
        assert os.pread(held, 64, 0)
        # a withdrawal
        ok("withdraw", "R-2024-0001", store=world.store)
        within(lambda: gone(doc))
        assert not doc.parent.exists() or "r-2024-0001.json" not in os.listdir(doc.parent)
        # an open descriptor of it reads EIO (its pages dropped with its name)
        within(lambda: errno_of(lambda: os.pread(held, 64, 0)) == errno.EIO, 1.0)
    finally:
        os.close(held)
    # a new version: other bytes under the same name
    other = mnt / "amber" / "2024" / "r-2022-0006.json"
    before = other.read_bytes()
    f = world.publish("R-2022-0006", "AMBER", "acme", version="2.0.0",
                      current="2024-04-01T10:00:00Z")
    within(lambda: other.read_bytes() == f.read_bytes())
    assert before != f.read_bytes()
    assert (mnt / "amber" / "2024" / "r-2022-0006.json.sha256").read_text().split()[0] == \
        hashlib.sha256(f.read_bytes()).hexdigest()
    assert "2.0.0" not in before.decode() and "r-2022-0006.json" in \
        (mnt / "amber" / "index.txt").read_text()
    # an embargo ending: published now, visible two seconds later
    t_end = time.time() + 3
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_end))
    world.publish("R-2024-0008", "GREEN", "acme", embargo=until)
    emb = mnt / "green" / "2024" / "r-2024-0008.json"
    assert gone(emb)
    wait_for(lambda: time.time() >= int(t_end), 10, 0.01)
    within(emb.exists)
    # a role ending: acme stops being vital in two seconds; what it saw as vital goes
    t_end = time.time() + 3
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_end))
    ok("org", "role", "acme", "vital", "--from", "2020-01-01", "--until", until,
       store=world.store)
    red = mnt / "red" / "2024" / "r-2024-0004.json"
    assert red.exists()
    wait_for(lambda: time.time() >= int(t_end) + 1, 10, 0.01)
    within(lambda: gone(red))
    assert not (mnt / "red").exists()
    # the public part remains (acme is still a recipient of TLP:CLEAR)
    assert (mnt / "white").is_dir()


# ---- the link lost -------------------------------------------------------------------------

def errno_of(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return e.errno


def test_lost_link_serves_then_fails_with_eio_then_converges(world, tmp_path):
    local = world.local("--as", "acme", name="local-acme")
    m = world.remote("acme", "max_stale=3")
    before = snapshot(m.mnt)
    files = [m.mnt / k for k, v in before.items() if v[0] == "f"]
    dirs = [m.mnt / k for k, v in before.items() if v[0] == "d"]
    dst = tmp_path / "copy"
    assert subprocess.run(["rsync", "-a", "--delete", f"{m.mnt}/", f"{dst}/"]).returncode == 0
    ncopied = sum(1 for _ in dst.rglob("*"))
    pids = m.ssh_pids()
    assert pids, "no ssh child"
    world.sshd.stop()
    for p in pids:
        os.kill(p, 9)
    t_lost = time.monotonic()
    revoked = m.mnt / "white" / "2024" / "r-2024-0007.json"
    ok("withdraw", "R-2024-0007", store=world.store)
    # within max_stale: what was there, as it was (no deletion invented)
    assert revoked.read_bytes() == before["white/2024/r-2024-0007.json"][5]
    assert sorted(os.listdir(m.mnt)) == sorted(k for k in before if "/" not in k)
    for f in files[:5]:
        assert f.stat().st_size == before[str(f.relative_to(m.mnt))][1]
    # past it: every request fails with EIO, cached or not, and never ENOENT
    wait_for(lambda: time.monotonic() - t_lost > 3.5, 10, 0.05)
    codes = {errno_of(lambda p=p: os.stat(p)) for p in files + dirs}
    codes |= {errno_of(lambda p=p: os.listdir(p)) for p in dirs + [m.mnt]}
    codes |= {errno_of(lambda p=p: p.read_bytes()) for p in files[:10]}
    codes.add(errno_of(lambda: os.stat(m.mnt / "green" / "no-such-name")))
    assert codes == {errno.EIO}, codes
    r = subprocess.run(["rsync", "-a", "--delete", f"{m.mnt}/", f"{dst}/"], capture_output=True,
                       text=True)
    assert r.returncode != 0
    assert sum(1 for _ in dst.rglob("*")) == ncopied, "rsync --delete deleted the copy"
    # the link returns: the tree converges before anything is served
    world.sshd.start()

    def converged():
        try:
            return snapshot(m.mnt) == snapshot(local)
        except OSError:
            return False
    assert wait_for(converged, 30, 0.1)[0], m.stderr()
    assert gone(revoked)
    assert "connection lost" in m.stderr() and "connected again" in m.stderr()
