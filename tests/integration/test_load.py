"""Load: 16 `rsync -a` clients of 16 recipients against one mount while
advisories are published, replaced and withdrawn (scripts/load, small).

The engine and the invariants are scripts/load's (read its header): rsync
exits 0, or 24/23 only for files that truly left the view or changed while
it copied; no copy ever holds a path, a document's bytes or a hash line that
its recipient's view did not hold at some moment of the run (every view
between two changes is recorded with `advisoryfs visible --json`); a document
and its .sha256 disagree only when the advisory got a new version during the
run; after the load, one quiet pass gives exactly the final view with every
hash matching; the daemon exits 0 and writes nothing on stderr.  The large
run is `scripts/load` itself (docs/SECURITY.md records its last result).
"""

import importlib.machinery
import importlib.util
import os
import shutil
import sys

import pytest

from helpers import BIN, ROOT

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
    pytest.mark.skipif(shutil.which("fusermount3") is None, reason="no fusermount3"),
    pytest.mark.skipif(shutil.which("rsync") is None, reason="no rsync"),
    pytest.mark.skipif(os.geteuid() != 0, reason="reads every recipient's directory as root"),
]


def load_engine():
    sys.dont_write_bytecode = True
    loader = importlib.machinery.SourceFileLoader("afs_load", str(ROOT / "scripts" / "load"))
    spec = importlib.util.spec_from_loader("afs_load", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def test_sixteen_rsync_clients_under_changes(tmp_path):
    engine = load_engine()
    problems, stats = engine.run_load(BIN, str(tmp_path), ndocs=300, nclients=16, rounds=2,
                                      seed=7, change_pause=0.02, min_changes=6)
    print(stats)
    assert not problems, "\n".join(problems[:50])
    assert stats["passes"] >= 32
    # the run was meaningful: changes of every kind while clients copied
    assert stats["changes_during_copy"] >= 6, stats
    assert stats["publish"] and stats["version"] and stats["withdraw"], stats
    assert stats["seconds"] < 60, stats
