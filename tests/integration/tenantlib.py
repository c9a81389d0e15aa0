"""Helpers of the multi-tenant and ledger tests (test_tenants.py, test_ledger.py):
real local accounts, a foreground mount that always unmounts, and a probe that
runs as another account and reports what it could reach.

Accounts are made with `useradd --system --no-create-home` under unique names
(afs-t-<random>-<n>) and removed again with userdel, even when a test fails.
Commands run as them through `setpriv --reuid --regid --clear-groups` (or
--groups for supplementary groups).
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from helpers import BIN, wait_for  # noqa: F401  (tests import it from here)

FUSERMOUNT = shutil.which("fusermount3")
SETPRIV = shutil.which("setpriv")
USERADD = shutil.which("useradd")

needs_fuse = [
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
    pytest.mark.skipif(FUSERMOUNT is None, reason="no fusermount3"),
]
needs_accounts = [
    pytest.mark.skipif(os.geteuid() != 0, reason="making local accounts needs root"),
    pytest.mark.skipif(SETPRIV is None or USERADD is None, reason="no setpriv or useradd"),
]


class Mount:
    """A foreground advisoryfs mount.  unmount() checks the daemon's exit
    and that it wrote nothing on stderr but lines matching `allow`."""

    def __init__(self, store, mnt, *extra, logdir):
        self.mnt = Path(mnt)
        self.mnt.mkdir(parents=True, exist_ok=True)
        self.err = open(Path(logdir) / f"{self.mnt.name}-{secrets.token_hex(3)}.stderr", "w+")
        cmd = [BIN, "-s", str(store), "mount", str(self.mnt), "-f", *extra]
        self.done = False
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        wait_for(lambda: os.path.ismount(self.mnt) or self.proc.poll() is not None, 10)
        if not os.path.ismount(self.mnt):
            err = self.stderr()  # before kill(), which closes the file
            self.kill()
            raise AssertionError(f"mount failed: {err}")

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def unmount(self, check=True, allow=()):
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
            bad = [l for l in err.splitlines() if not any(a in l for a in allow)]
            assert not bad, f"unexpected stderr from the daemon: {err}"


@pytest.fixture
def mounts(tmp_path):
    """Mounts made by a test, on mountpoints every account can reach (the
    test's tmp_path is root's alone); all unmounted at the end."""
    base = Path(tempfile.mkdtemp(prefix="afs-tn-", dir="/tmp"))
    base.chmod(0o755)
    made = []

    def make(store, name, *extra, allow=()):
        m = Mount(store, base / name, *extra, logdir=tmp_path)
        m.allow = allow
        made.append(m)
        return m

    yield make
    failures = []
    for m in made:
        try:
            m.unmount(allow=m.allow)
        except AssertionError as e:
            failures.append(str(e))
    shutil.rmtree(base, ignore_errors=True)
    assert not failures, failures


class Account:
    def __init__(self, name):
        self.name = name
        self.uid = int(subprocess.run(["id", "-u", name], capture_output=True, text=True,
                                      check=True).stdout)
        self.gid = int(subprocess.run(["id", "-g", name], capture_output=True, text=True,
                                      check=True).stdout)
        self.groups = []    # supplementary groups to run with

    def cmd(self, *argv):
        """argv run as this account (real and effective ids, no other groups)."""
        groups = (["--groups", ",".join(str(g) for g in self.groups)] if self.groups
                  else ["--clear-groups"])
        return [SETPRIV, f"--reuid={self.uid}", f"--regid={self.gid}", *groups, *argv]

    def run(self, *argv, **kw):
        return subprocess.run(self.cmd(*argv), capture_output=True, text=True, **kw)

    def probe(self, ops):
        """Run the probe as this account; ops is a list of [op, path]."""
        p = subprocess.run(self.cmd(sys.executable, "-c", PROBE), input=json.dumps(ops),
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)


@pytest.fixture
def accounts():
    """accounts(n): n new local accounts, each with its own group; removed
    (with their groups) at the end."""
    tag = secrets.token_hex(3)
    made, groups = [], []

    def make(n):
        out = []
        for _ in range(n):
            name = f"afs-t-{tag}-{len(made)}"
            subprocess.run([USERADD, "--system", "--no-create-home", "--user-group",
                            "--shell", "/usr/sbin/nologin", name], check=True,
                           capture_output=True)
            made.append(name)
            out.append(Account(name))
        return out

    def group():
        name = f"afs-t-{tag}-g{len(groups)}"
        subprocess.run(["groupadd", "--system", name], check=True, capture_output=True)
        groups.append(name)
        return int(subprocess.run(["getent", "group", name], capture_output=True, text=True,
                                  check=True).stdout.split(":")[2])

    make.group = group
    yield make
    for name in made:
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)  # if userdel left it
    for name in groups:
        subprocess.run(["groupdel", name], capture_output=True)


# The probe: reads [op, path] pairs as JSON on stdin and prints, for each,
# [errno, result]: stat -> [0, [mode, uid, gid]], read -> [0, sha256 hex],
# list -> [0, sorted names], walk -> [0, sorted relative file paths],
# open -> [0, null] (opens and closes).  errno 0 means success.
PROBE = r"""
import errno, hashlib, json, os, sys
out = []
for op, path in json.load(sys.stdin):
    try:
        if op == "stat":
            st = os.stat(path)
            res = [st.st_mode, st.st_uid, st.st_gid]
        elif op == "read":
            with open(path, "rb") as f:
                res = hashlib.sha256(f.read()).hexdigest()
        elif op == "open":
            os.close(os.open(path, os.O_RDONLY))
            res = None
        elif op == "list":
            res = sorted(os.listdir(path))
        elif op == "walk":
            res = []
            def onerr(e):
                raise e
            for d, dirs, files in os.walk(path, onerror=onerr):
                for f in files:
                    res.append(os.path.relpath(os.path.join(d, f), path))
            res.sort()
        else:
            raise SystemExit("bad op " + op)
        out.append([0, res])
    except OSError as e:
        out.append([e.errno, None])
print(json.dumps(out))
"""
