"""Shared helpers for the integration tests: run the real advisoryfs binary,
make CSAF documents, read the store with Python's own sqlite3 module."""

import copy
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("ADVISORYFS_BIN", str(ROOT / "build" / "fs" / "advisoryfs"))
SHARED_CSAF = ROOT.parent / "shared" / "csaf"
DATA = ROOT / "tests" / "data"


def wait_for(pred, timeout, step=0.005):
    """Poll pred until it returns a true value; returns (value, seconds waited)."""
    start = time.monotonic()
    while True:
        v = pred()
        el = time.monotonic() - start
        if v or el > timeout:
            return v, el
        time.sleep(step)


def wait_until(pred, timeout, step=0.005):
    """Poll pred until it returns a true value; returns that value (or the
    last false one at the timeout)."""
    return wait_for(pred, timeout, step)[0]


def csaf_dir():
    """The real CSAF corpus: ../shared/csaf, else the copies in tests/data/csaf."""
    if (SHARED_CSAF / "advisories").is_dir():
        return SHARED_CSAF
    return DATA / "csaf"


def npm_ci():
    """tests/validator's node_modules from the lockfile, once (skips the test
    when the npm registry cannot be reached)."""
    import pytest
    validator = ROOT / "tests" / "validator"
    if (validator / "node_modules" / "@secvisogram" / "csaf-validator-lib").is_dir():
        return
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=validator, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        pytest.skip(f"npm ci failed (no registry?): {p.stderr.strip()[-300:]}")


def run(*args, store=None, check=False, input=None, env=None, timeout=120):
    """Run advisoryfs; returns CompletedProcess with text output."""
    cmd = [BIN]
    if store is not None:
        cmd += ["-s", str(store)]
    cmd += [str(a) for a in args]
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, input=input, env=e,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr}")
    return p


def ok(*args, store=None, **kw):
    return run(*args, store=store, check=True, **kw)


def demo_store(store, *extra):
    """Build the demo store (scripts/demo-store) at store with the binary under test."""
    p = subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "demo-store"), "--bin", BIN,
                        "--store", str(store), "--force", *map(str, extra)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return store


BASE_DOC = {
    "document": {
        "category": "csaf_base",
        "csaf_version": "2.0",
        "distribution": {"tlp": {"label": "GREEN", "url": "https://www.first.org/tlp/"}},
        "lang": "en",
        "publisher": {
            "category": "coordinator",
            "name": "advisoryfs test suite",
            "namespace": "https://test.example.invalid",
        },
        "title": "Test advisory",
        "tracking": {
            "current_release_date": "2024-03-01T10:00:00Z",
            "id": "TEST-2024-0001",
            "initial_release_date": "2024-03-01T10:00:00Z",
            "revision_history": [
                {"date": "2024-03-01T10:00:00Z", "number": "1.0.0", "summary": "Initial."}
            ],
            "status": "final",
            "version": "1.0.0",
        },
    }
}


def revision_history(version, initial, current):
    """A history that CSAF 2.0 section 6.1 accepts for version: every major
    version before it (6.1.21: none missing) at the initial release date,
    then version itself at the current one (6.1.16: the latest)."""
    semver = "." in version
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    hist = [{"date": initial, "number": f"{k}.0.0" if semver else str(k),
             "summary": f"Revision {k}"} for k in range(1, major)]
    return hist + [{"date": current, "number": version, "summary": "Revision " + version}]


def make_doc(tracking_id="TEST-2024-0001", version="1.0.0", tlp="GREEN",
             initial="2024-03-01T10:00:00Z", current=None, status="final", title=None,
             pad=0):
    """A minimal valid CSAF 2.0 document as a dict.  tlp=None leaves the label out."""
    d = copy.deepcopy(BASE_DOC)
    t = d["document"]["tracking"]
    t["id"] = tracking_id
    t["version"] = version
    t["status"] = status
    t["initial_release_date"] = initial
    t["current_release_date"] = current or initial
    t["revision_history"] = revision_history(version, initial, current or initial)
    if title:
        d["document"]["title"] = title
    if tlp is None:
        del d["document"]["distribution"]
    else:
        d["document"]["distribution"]["tlp"]["label"] = tlp
    if pad:
        d["document"]["notes"] = [{"category": "general", "text": "x" * pad}]
    return d


def write_doc(path, doc):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(doc, indent=2).encode() if not isinstance(doc, (bytes, str)) else (
        doc.encode() if isinstance(doc, str) else doc)
    path.write_bytes(data)
    return path


def dump(store):
    """The store's whole content as SQL text (sqlite3 .dump), for before/after checks."""
    p = subprocess.run(["sqlite3", str(store), ".dump"], capture_output=True, text=True,
                       check=True)
    return p.stdout


def db(store):
    c = sqlite3.connect(str(store))
    return c


def stored_bytes(store, tracking_id):
    """Bytes of every stored version of tracking_id, oldest first."""
    with db(store) as c:
        rows = c.execute(
            "SELECT b.bytes FROM advisory a JOIN version v ON v.advisory_id = a.id "
            "JOIN version_blob b ON b.version_id = v.id WHERE a.tracking_id = ? "
            "ORDER BY v.seq", (tracking_id,)).fetchall()
    return [bytes(r[0]) for r in rows]


def new_store(tmp_path, name="s.db"):
    store = tmp_path / name
    ok("init", store=store)
    return store


def provider_validator(schema_dir=None):
    """A jsonschema validator for the CSAF 2.0 provider schema, with the CSAF
    schema it refers to for the publisher (from schema_dir, default
    csaf_dir()/schema).  Skips the test without python3-jsonschema."""
    import pytest
    jsonschema = pytest.importorskip("jsonschema")
    schema_dir = Path(schema_dir) if schema_dir else csaf_dir() / "schema"
    provider = json.loads((schema_dir / "provider_json_schema.json").read_text())
    csaf = json.loads((schema_dir / "csaf_json_schema.json").read_text())
    cls = jsonschema.validators.validator_for(provider)
    try:
        from referencing import Registry, Resource
        reg = Registry().with_resources([(s["$id"], Resource.from_contents(s))
                                         for s in (provider, csaf)])
        return cls(provider, registry=reg, format_checker=cls.FORMAT_CHECKER)
    except ImportError:  # jsonschema < 4.18 (Debian 12): RefResolver
        res = jsonschema.RefResolver.from_schema(provider, store={csaf["$id"]: csaf})
        return cls(provider, resolver=res, format_checker=cls.FORMAT_CHECKER)
