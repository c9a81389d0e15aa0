"""Differential test of the policy engine against Cedar, on the default policy.

tests/cedar/diff.mjs generates random worlds and (recipient, advisory, t)
cases concentrated on the seconds around every boundary, has the real
engine decide them (tests/cedar/engine_cases.c, path in
ADVISORYFS_CEDAR_DRIVER, set by meson) and Cedar decide them with the
hand translation tests/cedar/wbni.cedar over the facts of
tests/cedar/facts.mjs, and compares the decisions and determining rules.

The Cedar package (@cedar-policy/cedar-wasm, pinned in
tests/cedar/package-lock.json) is installed into tests/cedar/node_modules
with npm ci when it is missing.  Nothing is built here.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CEDAR = ROOT / "tests" / "cedar"
POLICY = ROOT / "policy" / "wbni-default.json"
MIN_CASES = 10_000


def driver():
    path = os.environ.get("ADVISORYFS_CEDAR_DRIVER")
    if path:
        assert os.access(path, os.X_OK), f"ADVISORYFS_CEDAR_DRIVER={path} is not executable"
        return path
    default = ROOT / "build" / "tests" / "engine_cases"
    if not default.exists():
        pytest.skip("no engine_cases driver: set ADVISORYFS_CEDAR_DRIVER (meson test does)")
    return str(default)


@pytest.fixture(scope="module")
def node():
    exe = shutil.which("node")
    assert exe, "node is required (scripts/install-deps installs it)"
    if not (CEDAR / "node_modules" / "@cedar-policy" / "cedar-wasm").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is required to install @cedar-policy/cedar-wasm"
        p = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=CEDAR, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"npm ci failed:\n{p.stdout}\n{p.stderr}"
    return exe


def run_diff(node, policy, *extra):
    p = subprocess.run([node, str(CEDAR / "diff.mjs"), "--driver", driver(),
                        "--policy", str(policy), *extra],
                       capture_output=True, text=True, timeout=600)
    m = re.search(r"^cases (\d+), disagreements (\d+)$", p.stdout, re.M)
    assert m, f"diff.mjs exited {p.returncode} without a summary:\n{p.stdout}\n{p.stderr}"
    return p, int(m.group(1)), int(m.group(2))


def test_engine_agrees_with_cedar(node):
    """At least 10,000 cases from 40 worlds: no disagreement in decision or
    determining rules, and every rule of the policy determined some
    decision (--require-coverage), so that no rule went untested."""
    p, cases, disagreements = run_diff(node, POLICY, "--worlds", "40", "--cases", "300",
                                       "--seed", "1", "--require-coverage")
    print(p.stdout)
    assert cases >= MIN_CASES
    assert disagreements == 0, p.stdout
    assert p.returncode == 0, p.stdout + p.stderr


def _shift_oktt_by_one_second(pol):
    rule = next(r for r in pol["rules"] if r["id"] == "permit-oktt-constituency")
    rule["from"] = "2022-12-01T00:00:01Z"


def _drop_general(pol):
    alts = pol["conditions"]["own-sector-or-general"]["any"]
    alts[:] = [a for a in alts if "general" not in a]


@pytest.mark.parametrize("mutate", [_shift_oktt_by_one_second, _drop_general],
                         ids=["date-one-second-late", "condition-dropped"])
def test_a_changed_policy_is_noticed(node, tmp_path, mutate):
    """The comparison has teeth: the engine running a slightly changed copy of
    the default policy (a rule starting one second late, an alternative of a
    named condition dropped) disagrees with the unchanged Cedar translation."""
    pol = json.loads(POLICY.read_text())
    mutate(pol)
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(pol))
    p, cases, disagreements = run_diff(node, changed, "--worlds", "40", "--cases", "300",
                                       "--seed", "1", "--show", "1")
    assert cases >= MIN_CASES
    assert disagreements > 0, p.stdout
    assert p.returncode == 1
