"""The external CSAF 2.0 validator gives the same verdict on every document
read through the mount as on its source file.

The validator is the BSI's @secvisogram/csaf-validator-lib (npm), run with
its mandatory preset (the strict CSAF 2.0 schema and every mandatory test of
section 6.1) by tests/validator/validate.mjs.  Its node_modules are installed
from the lockfile with `npm ci` when missing (git-ignored).  The demo store
is built with scripts/demo-store; the view with the most documents is read
through a real mount.  Skipped without /dev/fuse, node or npm.
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers import BIN, ROOT, demo_store, npm_ci

FUSERMOUNT = shutil.which("fusermount3")
VALIDATOR = ROOT / "tests" / "validator"

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
    pytest.mark.skipif(FUSERMOUNT is None, reason="no fusermount3"),
    pytest.mark.skipif(not (shutil.which("node") and shutil.which("npm")),
                       reason="no node or npm"),
]


def validate(paths):
    """{path: (verdict, failed tests)} from one run of the validator."""
    p = subprocess.run(["node", str(VALIDATOR / "validate.mjs")], input="\n".join(map(str, paths)),
                       capture_output=True, text=True, timeout=300, cwd=VALIDATOR)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    out = {}
    for line in p.stdout.splitlines():
        path, verdict, failed = line.split("\t")
        out[path] = (verdict, failed)
    assert len(out) == len(set(map(str, paths))), p.stdout[-2000:]
    return out


def sources(dirs):
    """{(tracking id, version): path} of every CSAF document under dirs."""
    found = {}
    for d in dirs:
        for dirpath, _, files in os.walk(d):
            for f in files:
                if not f.endswith(".json"):
                    continue
                p = Path(dirpath, f)
                try:
                    t = json.loads(p.read_bytes())["document"]["tracking"]
                except (ValueError, KeyError, TypeError):
                    continue
                found[(t["id"], t["version"])] = p
    return found


def test_same_verdict_through_the_mount(tmp_path):
    npm_ci()
    store, work = tmp_path / "demo.db", tmp_path / "work"
    demo_store(store, "--work", work)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    err = open(tmp_path / "mount.stderr", "w+")
    proc = subprocess.Popen([BIN, "-s", str(store), "mount", str(mnt), "-f"],
                            stdout=subprocess.DEVNULL, stderr=err)
    try:
        end = time.monotonic() + 10
        while not os.path.ismount(mnt) and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.01)
        assert os.path.ismount(mnt), "mount failed"
        # the view with the most documents
        views = {}
        for slug in os.listdir(mnt):
            views[slug] = [Path(d, f) for d, _, fs in os.walk(mnt / slug) for f in fs
                           if f.endswith(".json") and f != "provider-metadata.json"]
        slug = max(views, key=lambda s: (len(views[s]), s))
        served = sorted(views[slug])
        assert len(served) >= 50
        src = sources([ROOT / "scripts" / "demo-data", work])
        pairs = []
        for f in served:
            data = f.read_bytes()
            t = json.loads(data)["document"]["tracking"]
            s = src[(t["id"], t["version"])]
            assert s.read_bytes() == data, f       # byte for byte
            pairs.append((f, s))
        verdicts = validate([x for pair in pairs for x in pair])
        for f, s in pairs:
            assert verdicts[str(f)] == verdicts[str(s)], (f, s)
        valid = sum(verdicts[str(f)][0] == "valid" for f, _ in pairs)
        assert valid > 0, "the validator found no valid document at all"
    finally:
        if os.path.ismount(mnt) and subprocess.run([FUSERMOUNT, "-u", str(mnt)],
                                                   capture_output=True).returncode != 0:
            subprocess.run([FUSERMOUNT, "-uz", str(mnt)], capture_output=True)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        err.seek(0)
        msg = err.read()
        err.close()
    assert rc == 0 and msg == "", msg
