"""Faults: what happens when things break underneath advisoryfs (SPEC.md section 4:
no wrong data, no lost or half-written publish).

- The mount daemon is killed (SIGKILL) while readers are busy: every read either
  fails (ENOTCONN, EIO) or returns exactly the published bytes; the dead mount
  can be unmounted with fusermount3 -u and mounted again.
- The filesystem holding the store fills up (a small tmpfs), at several points:
  publish fails with one line on stderr, stores nothing, the store passes
  PRAGMA integrity_check, and publishing works again once there is room.
- The store becomes read-only (tmpfs remounted ro; chmod when not root):
  publish fails cleanly and changes nothing.
- Concurrent publishers: 8 processes at once, each publishing 25 distinct
  advisories (one process per document, and one process with all 25): SQLite's
  busy timeout absorbs the contention, no publish is lost, no error is printed.

Not here: "first reads fail closed because the ledger cannot be written" (SPEC.md
section 4) belongs to the ledger's own tests.
"""

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest

from helpers import BIN, make_doc, ok, run, wait_until, write_doc

FUSERMOUNT = shutil.which("fusermount3")
HAVE_FUSE = os.path.exists("/dev/fuse") and FUSERMOUNT is not None
ROOT = os.geteuid() == 0
# What a read of a dead FUSE mount may fail with: ENOTCONN once the connection is
# gone, ECONNABORTED for a request the kernel aborted in flight, EIO.
DEAD = (errno.ENOTCONN, errno.EIO, errno.ECONNABORTED)


def one_line_error(p):
    """A clean failure: non-zero exit, stderr one line 'advisoryfs: what: why'."""
    assert p.returncode != 0, p
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert re.fullmatch(r"advisoryfs: \S.*: \S.*", lines[0]), p.stderr
    return lines[0]


def integrity(store):
    with closing(sqlite3.connect(str(store))) as c:
        return [r[0] for r in c.execute("PRAGMA integrity_check")]


def stored_bytes(store, tracking_id):
    """Bytes of every stored version of tracking_id, oldest first (read with sqlite3)."""
    with closing(sqlite3.connect(str(store))) as c:
        rows = c.execute(
            "SELECT b.bytes FROM advisory a JOIN version v ON v.advisory_id = a.id "
            "JOIN version_blob b ON b.version_id = v.id WHERE a.tracking_id = ? "
            "ORDER BY v.seq", (tracking_id,)).fetchall()
    return [bytes(r[0]) for r in rows]


def visible(store, slug="public"):
    return ok("visible", slug, store=store).stdout.split()


# ---- SIGKILL of the mount daemon while readers read -----------------------------------

def unmount(mnt):
    if os.path.ismount(mnt):
        if subprocess.run([FUSERMOUNT, "-u", str(mnt)], capture_output=True).returncode:
            subprocess.run([FUSERMOUNT, "-uz", str(mnt)], capture_output=True)


def start_mount(store, mnt):
    err = open(str(mnt) + ".stderr", "w+")
    proc = subprocess.Popen([BIN, "-s", str(store), "mount", str(mnt), "-f"],
                            stdout=subprocess.DEVNULL, stderr=err)
    if not wait_until(lambda: os.path.ismount(mnt) or proc.poll() is not None, 10) \
            or not os.path.ismount(mnt):
        proc.kill()
        proc.wait()
        err.seek(0)
        raise AssertionError(f"mount failed: {err.read()}")
    return proc, err


@pytest.mark.skipif(not HAVE_FUSE, reason="no /dev/fuse or fusermount3")
@pytest.mark.parametrize("reads_before", [1, 40, 150])
def test_sigkill_daemon_while_reading(tmp_path, reads_before):
    store = tmp_path / "s.db"
    ok("init", store=store)
    ok("org", "add", "acme", "--name", "Acme", "--sector", "health", store=store)
    ok("org", "role", "acme", "vital", store=store)
    want = {}   # path under the mount -> the bytes it must hold
    for i in range(12):
        tid = f"KILL-2024-{i:04d}"
        f = write_doc(tmp_path / "src" / f"{i}.json",
                      make_doc(tid, tlp="WHITE" if i % 2 else "GREEN",
                               pad=[10, 5000, 150000, 400000][i % 4]))
        ok("publish", f, "--concerns", "acme", store=store)
        data = f.read_bytes()
        name = tid.lower() + ".json"
        for who in (["acme", "public"] if i % 2 else ["acme"]):
            d = f"{who}/{'white' if i % 2 else 'green'}/2024/"
            want[d + name] = data
            want[d + name + ".sha256"] = f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc, err = start_mount(store, mnt)
    wrong, errors, reads = [], [], [0]
    stop = threading.Event()

    def read_all(fd):
        # The pages are dropped after each read, so that every read asks the
        # daemon (a file served from the page cache needs no daemon, and
        # would read fine after the kill): the kill then lands during reads.
        chunks, off = [], 0
        try:
            while True:
                b = os.pread(fd, 65536, off)
                if not b:
                    break
                chunks.append(b)
                off += len(b)
        finally:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return b"".join(chunks)

    def reader(k):
        paths = sorted(want)
        fds = {}
        i = k
        while not stop.is_set():
            rel = paths[i % len(paths)]
            i += 1
            try:
                # half the readers keep their files open across the kill
                if k % 2:
                    fd = fds.get(rel)
                    if fd is None:
                        fd = fds[rel] = os.open(mnt / rel, os.O_RDONLY)
                    data = read_all(fd)
                else:
                    fd = os.open(mnt / rel, os.O_RDONLY)
                    try:
                        data = read_all(fd)
                    finally:
                        os.close(fd)
                if data != want[rel]:
                    wrong.append((rel, len(data), len(want[rel])))
                reads[0] += 1
            except OSError as e:
                errors.append(e.errno)
                if e.errno not in DEAD:
                    wrong.append((rel, f"unexpected {errno.errorcode.get(e.errno)}"))
        for fd in fds.values():
            try:
                os.close(fd)
            except OSError:
                pass

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    try:
        for t in threads:
            t.start()
        assert wait_until(lambda: reads[0] >= reads_before, 30), "the readers did not get going"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed_at = reads[0]
        # the readers go on against the dead mount for a while
        assert wait_until(lambda: len(errors) >= 20, 10), "no reader saw the daemon die"
        stop.set()
        for t in threads:
            t.join(timeout=20)
        assert not wrong, wrong[:10]
        assert set(errors) <= set(DEAD), errors
        # the dead mount: ENOTCONN, until fusermount3 -u
        with pytest.raises(OSError) as e:
            os.listdir(mnt)
        assert e.value.errno == errno.ENOTCONN
        p = subprocess.run([FUSERMOUNT, "-u", str(mnt)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert not os.path.ismount(mnt)
        assert killed_at >= reads_before
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        unmount(mnt)
        err.close()
    # a new mount of the same store works and serves the same bytes
    proc, err = start_mount(store, mnt)
    try:
        for rel, data in want.items():
            assert (mnt / rel).read_bytes() == data, rel
        assert {x for x in os.listdir(mnt / "public") if not x.endswith(".json")} == {"white"}
    finally:
        unmount(mnt)
        assert proc.wait(timeout=10) == 0
        err.seek(0)
        assert err.read() == ""
        err.close()
    assert integrity(store) == ["ok"]


# ---- a store on a small filesystem -----------------------------------------------------

@pytest.fixture
def small_fs(tmp_path):
    """A 2 MiB tmpfs (root), or skip."""
    if not ROOT or not shutil.which("mount"):
        pytest.skip("needs root to mount a small tmpfs")
    d = tmp_path / "small"
    d.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(d)],
                       capture_output=True, text=True)
    if p.returncode:
        pytest.skip(f"cannot mount a tmpfs: {p.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], capture_output=True)
        if os.path.ismount(d):
            subprocess.run(["umount", "-l", str(d)], capture_output=True)


def fill(d, leave):
    """Fill the filesystem of d until leave bytes are free; returns the filler."""
    filler = d / "filler"
    st = os.statvfs(d)
    n = max(0, st.f_bavail * st.f_frsize - leave)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while n > 0 or leave == 0:   # leave 0: to the last block
            w = os.write(fd, b"\0" * min(n or 4096, 1 << 20))
            n -= w
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)
    return filler


def small_store(d, tmp_path):
    store = d / "s.db"
    ok("init", store=store)
    ok("org", "add", "acme", "--name", "Acme", store=store)
    ok("publish", write_doc(tmp_path / "first.json", make_doc("FULL-2024-0000", tlp="WHITE")),
       store=store)
    return store


def dump(store):
    with closing(sqlite3.connect(str(store))) as c:
        return "\n".join(c.iterdump())


@pytest.mark.parametrize("leave_kib", [0, 16, 64, 200])
def test_store_full(small_fs, tmp_path, leave_kib):
    store = small_store(small_fs, tmp_path)
    before = visible(store)
    doc = write_doc(tmp_path / "big.json", make_doc("FULL-2024-0001", tlp="WHITE", pad=300000))
    filler = fill(small_fs, leave_kib * 1024)
    p = run("publish", doc, "--concerns", "acme", store=store)
    one_line_error(p)
    # the copy of the store as it is on the full disk: consistent, without the document
    snap = tmp_path / "snap"
    snap.mkdir()
    for f in small_fs.glob("s.db*"):
        shutil.copy(f, snap / f.name)
    assert integrity(snap / "s.db") == ["ok"]
    assert stored_bytes(snap / "s.db", "FULL-2024-0001") == []
    filler.unlink()
    assert integrity(store) == ["ok"]
    assert visible(store) == before
    assert stored_bytes(store, "FULL-2024-0001") == []
    # with room again, the store works
    ok("publish", doc, "--concerns", "acme", store=store)
    assert stored_bytes(store, "FULL-2024-0001") == [doc.read_bytes()]
    assert "white/2024/full-2024-0001.json" in visible(store)
    assert integrity(store) == ["ok"]


def test_store_full_message_names_the_cause(small_fs, tmp_path):
    """A store on a full filesystem: the one error line names the command and
    the cause (it used to be 'PRAGMA application_id: disk I/O error')."""
    store = small_store(small_fs, tmp_path)
    doc = write_doc(tmp_path / "big.json", make_doc("FULL-2024-0001", tlp="WHITE", pad=300000))
    fill(small_fs, 0)
    line = one_line_error(run("publish", doc, store=store))
    assert line.startswith("advisoryfs: publish: ")
    assert re.search(r"full|space", line, re.I), line


def test_store_read_only(tmp_path):
    """Read-only: the tmpfs remounted ro (root), else the store and its folder
    made read-only with chmod (which root would ignore)."""
    d = tmp_path / "ro"
    d.mkdir()
    mounted = False
    if ROOT and shutil.which("mount"):
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs",
                                  str(d)], capture_output=True).returncode == 0
    if not mounted and ROOT:
        pytest.skip("root, and no tmpfs to remount read-only (chmod does not bind root)")
    try:
        store = small_store(d, tmp_path)
        before = dump(store)
        vis = visible(store)
        doc = write_doc(tmp_path / "new.json", make_doc("RO-2024-0001", tlp="WHITE"))
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True)
        else:
            for f in d.iterdir():
                f.chmod(0o444)
            d.chmod(0o555)
        p = run("publish", doc, store=store)
        assert p.returncode != 0
        lines = p.stderr.splitlines()
        # one line; a refused document may add publish's summary line
        assert len(lines) == 1 or (len(lines) == 2 and "nothing was stored" in lines[1]), \
            p.stderr
        assert all(x.startswith("advisoryfs: ") for x in lines), p.stderr
        for cmd in (["withdraw", "FULL-2024-0000"], ["org", "add", "x", "--name", "X"],
                    ["org", "role", "acme", "vital"]):
            q = run(*cmd, store=store)
            assert q.returncode != 0 and q.stderr.startswith("advisoryfs: "), (cmd, q.stderr)
        if mounted:
            subprocess.run(["mount", "-o", "remount,rw", str(d)], check=True)
        else:
            d.chmod(0o755)
            for f in d.iterdir():
                f.chmod(0o600)
        assert dump(store) == before
        assert integrity(store) == ["ok"]
        assert visible(store) == vis
        ok("publish", doc, store=store)
        assert "white/2024/ro-2024-0001.json" in visible(store)
    finally:
        if mounted:
            subprocess.run(["umount", str(d)], capture_output=True)


# ---- concurrent publishers -------------------------------------------------------------

def publishers(tmp_path, per_document):
    store = tmp_path / "s.db"
    ok("init", store=store)
    ok("org", "add", "acme", "--name", "Acme", store=store)
    docs = {}
    for w in range(8):
        for i in range(25):
            tid = f"BUSY-{2016 + w}-{i:04d}"
            docs[tid] = write_doc(tmp_path / "src" / f"w{w}" / f"{i}.json",
                                  make_doc(tid, tlp="WHITE", initial=f"{2016 + w}-03-01T10:00:00Z",
                                           pad=i * 40))
    start = threading.Barrier(8)

    def worker(w):
        files = [docs[f"BUSY-{2016 + w}-{i:04d}"] for i in range(25)]
        start.wait()
        out = []
        batches = [[f] for f in files] if per_document else [files]
        for b in batches:
            p = subprocess.run([BIN, "-s", str(store), "publish", *map(str, b), "--concerns",
                                "acme"], capture_output=True, text=True, timeout=120)
            out.append((p.returncode, p.stderr))
        return out

    with ThreadPoolExecutor(8) as ex:
        results = [r for rs in ex.map(worker, range(8)) for r in rs]
    assert [r for r in results if r != (0, "")] == []
    vis = set(visible(store, "acme"))
    for tid, f in docs.items():
        year = tid.split("-")[1]
        assert f"white/{year}/{tid.lower()}.json" in vis, tid
        assert stored_bytes(store, tid) == [f.read_bytes()], tid
    with closing(sqlite3.connect(str(store))) as c:
        assert c.execute("SELECT count(*) FROM advisory").fetchone()[0] == 200
        assert c.execute("SELECT count(*) FROM version").fetchone()[0] == 200
    assert integrity(store) == ["ok"]
    # and the index of every year holds its 25 documents
    listing = json.loads(ok("visible", "public", "--json", store=store).stdout)
    assert len(listing["advisories"]) == 200


def test_concurrent_publishers_one_document_each(tmp_path):
    publishers(tmp_path, per_document=True)


def test_concurrent_publishers_25_documents_each(tmp_path):
    publishers(tmp_path, per_document=False)
