"""A catalogue of hostile inputs, through the real program (SPEC.md sections 1
and 4): malformed and oversized documents, tricky tracking ids, special files,
bad distribution metadata and signatures, and broken policies.

Each refused case is one row of a table: (name, setup, command, expected
message fragment).  setup(tmp_path) writes the input files and returns a dict
of paths that fill the {placeholders} of the command.  The program must
refuse within a time limit (no hang on a FIFO, no quadratic blow-up on a huge
array), exit non-zero, print exactly one line `advisoryfs: ...` naming the
reason, and leave the store byte for byte as it was (helpers.dump before and
after).  An import reports a refused file on its per-file report instead
(stdout, `refused    PATH: REASON`), so its rows are checked there.

Rows in KNOWN_BUG would be strict xfails for a bug reported and not yet
fixed; the table is empty because every bug this catalogue found is fixed.
"""

import json
import os
import re
import subprocess
from collections import namedtuple
from pathlib import Path

import pytest

from helpers import BIN, dump, make_doc, new_store, ok, run, write_doc

# Every command must give up within this many seconds (the ASan build included).
LIMIT = 60

# publish with several FILEs adds a summary line after the per-file ones.
PUBLISH_SUMMARY = re.compile(r"^advisoryfs: publish: nothing was stored \(\d+ of \d+ refused\)$")

# Cases that exposed a bug stay here, fixed; a case that fails again is a
# regression.  (Fixed: FIFOs are refused without waiting, devices are "not a
# regular file", file names are escaped in every message, policy texts refuse
# control characters, a refused publish prints one line.)
KNOWN_BUG = {}


# ---- building inputs -----------------------------------------------------------------

def doc_bytes(**kw):
    return json.dumps(make_doc(**kw), indent=2).encode()


def doc_with(path_value, **kw):
    """A valid document as JSON text with one member replaced by raw JSON text:
    path_value = ("title", '"..."') sets document.title to that text."""
    d = make_doc(**kw)
    key, raw = path_value
    marker = "@@HOSTILE@@"
    node = d["document"]
    parts = key.split(".")
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = marker
    text = json.dumps(d).encode()
    return text.replace(json.dumps(marker).encode(), raw)


def title_bytes(raw):
    """A valid document whose title string holds the raw bytes."""
    return doc_with(("title", b'"' + raw + b'"'))


def one(name, data):
    """setup: one document FILE named name."""
    def setup(tmp):
        return {"doc": write_doc(tmp / name, data)}
    return setup


def import_dir(files):
    """setup: an import DIR holding {relative name: bytes}; FIFOs where the
    value is None."""
    def setup(tmp):
        d = tmp / "in"
        d.mkdir()
        for rel, data in files.items():
            p = d / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if data is None:
                os.mkfifo(p)
            else:
                p.write_bytes(data)
        return {"dir": d}
    return setup


def with_dist(dist):
    """An import DIR: a valid document and its .dist.json (bytes or an object)."""
    raw = dist if isinstance(dist, bytes) else json.dumps(dist).encode()
    return import_dir({"x.json": doc_bytes(tracking_id="DIST-2024-0001"),
                       "x.json.dist.json": raw})


def fifo(name):
    def setup(tmp):
        p = tmp / name
        os.mkfifo(p)
        return {"fifo": p, "doc": write_doc(tmp / "ok.json", doc_bytes(tracking_id="OK-1"))}
    return setup


def directory(tmp):
    (tmp / "adir.json").mkdir()
    return {"path": tmp / "adir.json"}


def device(tmp):
    return {"path": "/dev/zero"}


def symlink_loop(tmp):
    a, b = tmp / "loop-a", tmp / "loop-b"
    a.symlink_to(b)
    b.symlink_to(a)
    return {"dir": a}


def signature(data):
    def setup(tmp):
        return {"doc": write_doc(tmp / "s.json", doc_bytes(tracking_id="SIG-2024-0001")),
                "asc": write_doc(tmp / "s.json.asc", data)}
    return setup


# ---- policies ---------------------------------------------------------------------------

POLICY = {
    "vocabulary": {"roles": ["csirt", "oktt"], "sectors": ["health"]},
    "conditions": {"mine": {"concerns_self": True}},
    "rules": [
        {"id": "public", "effect": "permit", "basis": "TLP:CLEAR",
         "when": {"tlp": "CLEAR", "status": "final"}},
        {"id": "csirt", "effect": "permit", "basis": "art. 3", "from": "2020-01-14",
         "when": {"role": "csirt", "use": "mine"}},
    ],
}


def policy(mutate=None, raw=None):
    """setup: a policy FILE, POLICY changed by mutate(p), or raw bytes."""
    def setup(tmp):
        if raw is not None:
            data = raw
        else:
            p = json.loads(json.dumps(POLICY))
            mutate(p)
            data = json.dumps(p, indent=1).encode()
        return {"policy": write_doc(tmp / "policy.json", data)}
    return setup


def set_rule(i, key, value):
    def f(p):
        p["rules"][i][key] = value
    return f


def cycle(p):
    p["conditions"] = {"a": {"use": "b"}, "b": {"not": {"use": "c"}}, "c": {"any": [
        {"use": "a"}, {"tlp": "RED"}]}}
    p["rules"][1]["when"] = {"use": "a"}


def big_policy():
    p = json.loads(json.dumps(POLICY))
    p["notes"] = ["n" * 4000] * 600  # ~2.4 MB
    return json.dumps(p).encode()


# ---- the catalogue ------------------------------------------------------------------------

Case = namedtuple("Case", "name setup cmd expect limit", defaults=[LIMIT])

# A FIFO nobody writes to: a correct program refuses it at once, a wrong one
# blocks forever; a short limit keeps the known bugs below cheap.
FIFO_LIMIT = 5

NUMBERS = b"[" + b",".join([b"0"] * 1_000_000) + b"]"


def doc_top(**members):
    """A valid document with top-level members added (product_tree, vulnerabilities)."""
    d = make_doc()
    d.update(members)
    return json.dumps(d).encode()


TREE = {"full_product_names": [{"name": "A 1.0", "product_id": "P1"},
                               {"name": "B 2.0", "product_id": "P2"}]}

CASES = [
    # JSON structure and size
    Case("truncated-json", one("t.json", doc_bytes()[:200]), ["publish", "{doc}"],
         "truncated JSON"),
    Case("truncated-in-string", one("t.json", doc_bytes()[:120]), ["publish", "{doc}"],
         "truncated JSON"),
    Case("nested-10000", one("n.json", doc_with(("title", b"[" * 10000 + b"]" * 10000))),
         ["publish", "{doc}"], "nesting deeper than 64 levels"),
    Case("nested-10000-bare", one("n.json", b"[" * 10000 + b"]" * 10000), ["publish", "{doc}"],
         "nesting deeper than 64 levels"),
    Case("string-2mb", one("s.json", title_bytes(b"x" * (2 << 20))), ["publish", "{doc}"],
         "string of 2097152 bytes (limit 1048576)"),
    Case("key-2mb", one("k.json", doc_with(("notes", b'{"' + b"k" * (2 << 20) + b'": 1}'))),
         ["publish", "{doc}"], "key of 2097152 bytes"),
    Case("array-1e6-numbers", one("a.json", doc_with(("tracking.revision_history", NUMBERS))),
         ["publish", "{doc}"], "revision_history[0]: expected an object, got a number"),
    Case("array-1e6-top-level", one("a.json", NUMBERS), ["publish", "{doc}"],
         "top-level value: expected an object, got an array"),
    Case("over-16mib", one("big.json", doc_bytes(pad=17 << 20)), ["publish", "{doc}"],
         "larger than the limit of 16777216 bytes"),
    Case("duplicate-key", one("d.json", doc_with(("title", b'"a", "title": "b"'))),
         ["publish", "{doc}"], "duplicate key 'title'"),
    Case("trailing-data", one("t.json", doc_bytes() + b"\n{}"), ["publish", "{doc}"],
         "unexpected data after the JSON value"),
    Case("empty-file", one("e.json", b""), ["publish", "{doc}"], "empty input"),
    Case("whitespace-only", one("w.json", b" \n\t "), ["publish", "{doc}"], "invalid JSON"),
    # bytes
    Case("nul-byte", one("z.json", title_bytes(b"a\x00b")), ["publish", "{doc}"],
         "NUL byte at byte offset"),
    Case("escaped-nul", one("z.json", title_bytes(b"a\\u0000b")), ["publish", "{doc}"],
         "escaped NUL"),
    Case("utf8-overlong", one("u.json", title_bytes(b"\xc0\xaf")), ["publish", "{doc}"],
         "invalid UTF-8"),
    Case("utf8-overlong-3", one("u.json", title_bytes(b"\xe0\x80\xaf")), ["publish", "{doc}"],
         "invalid UTF-8"),
    Case("utf8-surrogate", one("u.json", title_bytes(b"\xed\xa0\x80")), ["publish", "{doc}"],
         "invalid UTF-8"),
    Case("utf8-lone-continuation", one("u.json", title_bytes(b"\x80")), ["publish", "{doc}"],
         "invalid UTF-8"),
    Case("utf8-above-10ffff", one("u.json", title_bytes(b"\xf4\x90\x80\x80")),
         ["publish", "{doc}"], "invalid UTF-8"),
    Case("utf8-truncated", one("u.json", title_bytes(b"\xe2\x82")), ["publish", "{doc}"],
         "invalid UTF-8"),
    Case("escaped-lone-surrogate", one("u.json", title_bytes(b"\\udc00")),
         ["publish", "{doc}"], "invalid JSON"),
    Case("control-char-in-string", one("c.json", title_bytes(b"a\x1bb")), ["publish", "{doc}"],
         "control character 0x1b"),
    # dates
    Case("date-year-0000", one("d.json", doc_bytes(initial="0000-01-01T00:00:00Z")),
         ["publish", "{doc}"], "initial_release_date: not an RFC 3339 date-time"),
    Case("date-year-10000", one("d.json", doc_bytes(current="10000-01-01T00:00:00Z")),
         ["publish", "{doc}"], "current_release_date: not an RFC 3339 date-time"),
    Case("date-month-13", one("d.json", doc_bytes(initial="2024-13-01T00:00:00Z")),
         ["publish", "{doc}"], "not an RFC 3339 date-time: '2024-13-01T00:00:00Z'"),
    Case("date-feb-30", one("d.json", doc_bytes(initial="2023-02-30T00:00:00Z")),
         ["publish", "{doc}"], "not an RFC 3339 date-time: '2023-02-30T00:00:00Z'"),
    Case("date-feb-29-non-leap", one("d.json", doc_bytes(initial="2023-02-29T00:00:00Z")),
         ["publish", "{doc}"], "not an RFC 3339 date-time"),
    Case("date-hour-24", one("d.json", doc_bytes(initial="2024-01-01T24:00:00Z")),
         ["publish", "{doc}"], "not an RFC 3339 date-time"),
    Case("date-no-offset", one("d.json", doc_bytes(initial="2024-01-01T10:00:00")),
         ["publish", "{doc}"], "not an RFC 3339 date-time"),
    Case("date-offset-into-year-0", one("d.json", doc_bytes(initial="0001-01-01T00:00:00+01:00")),
         ["publish", "{doc}"], "initial_release_date: '0001-01-01T00:00:00+01:00' is outside"),
    Case("date-offset-into-year-10000",
         one("d.json", doc_bytes(current="9999-12-31T23:59:59-01:00")),
         ["publish", "{doc}"], "is outside the years 0001-9999 in UTC"),
    Case("date-current-before-initial",
         one("d.json", doc_bytes(initial="2024-03-02T00:00:00Z", current="2024-03-01T00:00:00Z")),
         ["publish", "{doc}"], "is before initial_release_date"),
    # tracking ids and TLP
    Case("id-control-char", one("i.json", doc_bytes(tracking_id="A\x1b[2JB")),
         ["publish", "{doc}"], "control or formatting character U+001B"),
    Case("id-newline", one("i.json", doc_bytes(tracking_id="A\nB")), ["publish", "{doc}"],
         "control or formatting character U+000A"),
    Case("id-bidi-override", one("i.json", doc_bytes(tracking_id="A\u202eB")),
         ["publish", "{doc}"], "U+202E"),
    Case("id-empty", one("i.json", doc_bytes(tracking_id="")), ["publish", "{doc}"],
         "document.tracking.id: empty"),
    Case("id-too-long", one("i.json", doc_bytes(tracking_id="A" * 300)), ["publish", "{doc}"],
         "document.tracking.id: 300 bytes (limit 256)"),
    Case("id-collides-with-stored", one("i.json", doc_bytes(tracking_id="base-2024-0001")),
         ["publish", "{doc}"], "maps to the file name 'base-2024-0001.json'"),
    Case("tlp-unknown", one("t.json", doc_bytes(tlp="PURPLE")), ["publish", "{doc}"],
         "unknown label 'PURPLE'"),
    Case("tlp-wrong-case", one("t.json", doc_bytes(tlp="green")), ["publish", "{doc}"],
         "unknown label 'green'"),
    Case("tlp-none", one("t.json", doc_bytes(tlp=None)), ["publish", "{doc}"], "no TLP"),
    Case("tlp-flag-loosens", one("t.json", doc_bytes(tlp="RED")),
         ["publish", "{doc}", "--tlp", "GREEN"], "would loosen"),
    Case("version-bogus", one("v.json", doc_bytes(version="1.0")), ["publish", "{doc}"],
         "not an integer or semantic version"),
    # the CSAF 2.0 schema (strict) and the mandatory tests of section 6.1
    Case("schema-cve-pattern", one("s.json", doc_top(vulnerabilities=[{"cve": "CVE-ABC"}])),
         ["publish", "{doc}"], "vulnerabilities[0].cve: schema: does not match the pattern"),
    Case("schema-unknown-member", one("s.json", doc_with(("colour", b'"red"'))),
         ["publish", "{doc}"], "document: schema: property 'colour' is not allowed"),
    Case("schema-unknown-top-level", one("s.json", doc_top(extra=1)), ["publish", "{doc}"],
         "top-level value: schema: property 'extra' is not allowed"),
    Case("schema-wrong-type", one("s.json", doc_with(("lang", b"5"))), ["publish", "{doc}"],
         "document.lang: schema: expected string, got integer"),
    Case("schema-enum", one("s.json", doc_with(("notes", b'[{"category": "king", "text": "t"}]'))),
         ["publish", "{doc}"], "document.notes[0].category: schema: not one of the allowed"),
    Case("schema-uri", one("s.json", doc_with(("references", b'[{"url": "not a uri", '
                                                             b'"summary": "s"}]'))),
         ["publish", "{doc}"], "document.references[0].url: schema: not a URI"),
    Case("schema-date-time", one("s.json", doc_with(
        ("tracking.generator", b'{"date": "2024-02-30T00:00:00Z", "engine": {"name": "x"}}'))),
         ["publish", "{doc}"], "document.tracking.generator.date: schema: not a date-time"),
    Case("schema-unique-items", one("s.json", doc_with(("tracking.aliases", b'["a", "a"]'))),
         ["publish", "{doc}"], "document.tracking.aliases: schema: items 0 and 1 are equal"),
    Case("schema-min-items", one("s.json", doc_with(("notes", b"[]"))), ["publish", "{doc}"],
         "document.notes: schema: fewer than 1 items"),
    Case("schema-min-length", one("s.json", doc_with(("lang", b'""'))), ["publish", "{doc}"],
         "document.lang: schema:"),
    Case("schema-cvss-range", one("s.json", doc_top(product_tree=TREE, vulnerabilities=[{
        "scores": [{"products": ["P1"], "cvss_v3": {
            "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "baseScore": 11, "baseSeverity": "CRITICAL"}}]}])), ["publish", "{doc}"],
         "vulnerabilities[0].scores[0].cvss_v3: schema: matches 0 of the 2 schemas"),
    Case("schema-deep-branches", one("s.json", doc_top(product_tree={"branches": [
        json.loads('{"category": "vendor", "name": "v", "branches": [' * 20 + '{"category":'
                   ' "vendor", "name": "v"}' + "]}" * 20)]})), ["publish", "{doc}"],
         "schema: fewer than 3 properties"),
    Case("mandatory-duplicate-product-id", one("s.json", doc_top(product_tree={
        "full_product_names": [{"name": "A", "product_id": "P1"},
                               {"name": "B", "product_id": "P1"}]})), ["publish", "{doc}"],
         "product_tree: 6.1.2: product id 'P1' is defined more than once"),
    Case("mandatory-dangling-reference", one("s.json", doc_top(product_tree=TREE, vulnerabilities=[
        {"product_status": {"fixed": ["P9"]}}])), ["publish", "{doc}"],
         "vulnerabilities[0].product_status.fixed[0]: 6.1.1: product id 'P9' is referenced"),
    Case("mandatory-circular-relationship", one("s.json", doc_top(product_tree=dict(TREE, relationships=[
        {"category": "installed_on", "product_reference": "R1",
         "relates_to_product_reference": "P2", "full_product_name": {"name": "R", "product_id": "R1"}}]))),
         ["publish", "{doc}"], "6.1.3: product id 'R1' is defined in terms of itself"),
    Case("mandatory-contradicting-status", one("s.json", doc_top(product_tree=TREE, vulnerabilities=[
        {"product_status": {"fixed": ["P1"], "known_affected": ["P1"]}}])), ["publish", "{doc}"],
         "vulnerabilities[0].product_status: 6.1.6: product 'P1' is both"),
    Case("mandatory-cvss-score-not-computed", one("s.json", doc_top(product_tree=TREE, vulnerabilities=[{
        "scores": [{"products": ["P1"], "cvss_v3": {
            "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "baseScore": 10.0, "baseSeverity": "CRITICAL"}}]}])), ["publish", "{doc}"],
         "vulnerabilities[0].scores[0].cvss_v3.baseScore: 6.1.9: 10, but the vector string "
         "computes to 9.8"),
    Case("mandatory-version-without-revision", one("s.json",
                                                   doc_with(("tracking.version", b'"9.0.0"'))),
         ["publish", "{doc}"], "document.tracking.version: 6.1.16: '9.0.0' is not the latest"),
    Case("mandatory-prohibited-category", one("s.json", doc_with(("category", b'"csaf_other"'))),
         ["publish", "{doc}"], "document.category: 6.1.26: 'csaf_other' uses the reserved prefix"),
    Case("mandatory-profile-needs-tree", one("s.json", doc_with(("category",
                                                                 b'"csaf_security_advisory"'))),
         ["publish", "{doc}"], "product_tree: 6.1.27.4"),
    Case("new-version-not-later", one("v.json", doc_bytes(tracking_id="BASE-2024-0001",
                                                          version="2.0.0")),
         ["publish", "{doc}"], "not later than 2024-03-01T10:00:00Z"),
    Case("check-refuses-alike", one("s.json", doc_top(vulnerabilities=[{"cve": "CVE-ABC"}])),
         ["publish", "--check", "{doc}"], "vulnerabilities[0].cve: schema:"),
    # special files
    Case("directory-as-file", directory, ["publish", "{path}"], "Is a directory"),
    Case("device-as-file", device, ["publish", "{path}"], "not a regular file", FIFO_LIMIT),
    Case("fifo-as-file", fifo("f.json"), ["publish", "{fifo}"], "not a regular file",
         FIFO_LIMIT),
    Case("fifo-signature", fifo("f.asc"), ["publish", "{doc}", "--signature", "{fifo}"],
         "not a regular file", FIFO_LIMIT),
    Case("path-with-escape", one("e\x1b[2Jx.json", b"{"), ["publish", "{doc}"],
         "truncated JSON"),
    Case("missing-file", lambda tmp: {"path": tmp / "nope.json"}, ["publish", "{path}"],
         "No such file or directory"),
    Case("import-symlink-loop", symlink_loop, ["import", "{dir}"],
         "Too many levels of symbolic links"),
    Case("import-not-a-dir", one("x.json", doc_bytes()), ["import", "{doc}"],
         "not a directory"),
    # signatures
    Case("asc-not-a-signature", signature(b"hello, I am a signature\n"),
         ["publish", "{doc}", "--signature", "{asc}"], "not an ASCII-armoured OpenPGP"),
    Case("asc-header-only", signature(b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n"),
         ["publish", "{doc}", "--signature", "{asc}"], "not an ASCII-armoured OpenPGP"),
    Case("asc-too-big", signature(b"-----BEGIN PGP SIGNATURE-----\n" + b"A" * 70000),
         ["publish", "{doc}", "--signature", "{asc}"], "larger than the limit of 65536 bytes"),
    # policies
    Case("policy-unknown-attribute",
         policy(set_rule(0, "when", {"tlp": "CLEAR", "colour": "red"})),
         ["policy", "load", "{policy}"], "$.rules[0].when"),
    Case("policy-unknown-rule-key", policy(set_rule(1, "effekt", "permit")),
         ["policy", "load", "{policy}"], "$.rules[1]"),
    Case("policy-unknown-role", policy(set_rule(1, "when", {"role": "king"})),
         ["policy", "load", "{policy}"], "$.rules[1].when.role: unknown role 'king'"),
    Case("policy-until-before-from", policy(set_rule(1, "until", "2019-01-01")),
         ["policy", "load", "{policy}"], "$.rules[1].until"),
    Case("policy-bad-date", policy(set_rule(1, "from", "2020-02-30")),
         ["policy", "load", "{policy}"], "$.rules[1].from"),
    Case("policy-duplicate-id", policy(set_rule(1, "id", "public")),
         ["policy", "load", "{policy}"], "duplicate rule id 'public'"),
    Case("policy-builtin-id", policy(set_rule(1, "id", "builtin:embargo")),
         ["policy", "load", "{policy}"], "$.rules[1].id"),
    Case("policy-cycle", policy(cycle), ["policy", "load", "{policy}"],
         "cycle in named conditions"),
    Case("policy-unknown-condition", policy(set_rule(1, "when", {"use": "nope"})),
         ["policy", "load", "{policy}"], "$.rules[1].when.use"),
    Case("policy-basis-control-chars", policy(set_rule(0, "basis", "TLP\x1b[2J\nforged line")),
         ["policy", "load", "{policy}"], "$.rules[0].basis"),
    Case("policy-bad-json", policy(raw=b'{"vocabulary": {"roles": [}'),
         ["policy", "load", "{policy}"], "invalid JSON"),
    Case("policy-empty", policy(raw=b""), ["policy", "load", "{policy}"], "$"),
    Case("policy-nested-10000", policy(raw=b"[" * 10000 + b"]" * 10000),
         ["policy", "load", "{policy}"], "deeper than 32"),
    Case("policy-nul", policy(raw=json.dumps(POLICY).encode().replace(b"TLP:", b"TLP\x00")),
         ["policy", "load", "{policy}"], "NUL"),
    Case("policy-invalid-utf8",
         policy(raw=json.dumps(POLICY).encode().replace(b"TLP", b"\xc0\xaf")),
         ["policy", "load", "{policy}"], "UTF-8"),
    Case("policy-2mb", policy(raw=big_policy()), ["policy", "load", "{policy}"],
         "larger than the limit of 1048576 bytes"),
    Case("policy-check-cycle", policy(cycle), ["policy", "check", "{policy}"],
         "cycle in named conditions"),
    Case("policy-directory", directory, ["policy", "load", "{path}"], "Is a directory"),
    Case("fifo-policy", fifo("p.json"), ["policy", "load", "{fifo}"], "not a regular file",
         FIFO_LIMIT),
    # import: refusals on the per-file report
    Case("import-dist-unknown-key", with_dist({"tlp": "RED", "colour": "red"}),
         ["import", "{dir}"], ".dist.json: unknown key 'colour'"),
    Case("import-dist-wrong-type", with_dist({"personal_data": "yes"}), ["import", "{dir}"],
         ".dist.json: personal_data: expected a boolean, got a string"),
    Case("import-dist-concerns-not-array", with_dist({"concerns": "acme"}), ["import", "{dir}"],
         ".dist.json: concerns: expected an array, got a string"),
    Case("import-dist-300-concerns", with_dist({"concerns": ["o-%d" % i for i in range(300)]}),
         ["import", "{dir}"], ".dist.json: concerns: 300 entries (limit 256)"),
    Case("import-dist-slash-slug", with_dist({"concerns": ["acme/../x"]}), ["import", "{dir}"],
         ".dist.json: concerns[0]: not a slug"),
    Case("import-dist-bad-tlp", with_dist({"tlp": "PURPLE"}), ["import", "{dir}"],
         ".dist.json: tlp: unknown label 'PURPLE'"),
    Case("import-dist-bad-json", with_dist(b'{"tlp": '), ["import", "{dir}"],
         ".dist.json: truncated JSON"),
    Case("import-dist-unknown-org", with_dist({"concerns": ["nobody"]}), ["import", "{dir}"],
         "concerns: no organisation 'nobody'"),
    Case("import-asc-not-a-signature",
         import_dir({"x.json": doc_bytes(tracking_id="ASC-1"), "x.json.asc": b"junk"}),
         ["import", "{dir}"], "not an ASCII-armoured OpenPGP"),
    Case("import-sha256-mismatch",
         import_dir({"x.json": doc_bytes(tracking_id="SHA-1"),
                     "x.json.sha256": b"00" * 32 + b"  x.json\n"}),
         ["import", "{dir}"], "do not match sha256"),
    Case("import-fifo-asc", import_dir({"x.json": doc_bytes(tracking_id="F-1"),
                                        "x.json.asc": None}),
         ["import", "{dir}"], "not a regular file", FIFO_LIMIT),
    Case("import-fifo-dist", import_dir({"x.json": doc_bytes(tracking_id="F-2"),
                                         "x.json.dist.json": None}),
         ["import", "{dir}"], "not a regular file", FIFO_LIMIT),
    Case("import-path-with-newline",
         import_dir({"a\npublished  FAKE-1.json (FAKE-1 1).json": b"{"}), ["import", "{dir}"],
         "truncated JSON"),
    Case("import-nul-byte", import_dir({"x.json": title_bytes(b"\x00")}), ["import", "{dir}"],
         "NUL byte"),
    Case("import-schema-invalid",
         import_dir({"x.json": doc_top(vulnerabilities=[{"cve": "CVE-ABC"}])}),
         ["import", "{dir}"], "vulnerabilities[0].cve: schema: does not match the pattern"),
    Case("import-mandatory-invalid", import_dir({"x.json": doc_top(product_tree={
        "full_product_names": [{"name": "A", "product_id": "P1"},
                               {"name": "B", "product_id": "P1"}]})}),
         ["import", "{dir}"], "6.1.2: product id 'P1' is defined more than once"),
]


def params():
    out = []
    for c in CASES:
        marks = []
        if c.name in KNOWN_BUG:
            marks.append(pytest.mark.xfail(strict=True, reason="reported: " + KNOWN_BUG[c.name]))
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


@pytest.fixture
def store(tmp_path):
    """A store with an organisation and one published advisory, so that an
    unchanged dump means something."""
    s = new_store(tmp_path)
    ok("org", "add", "acme", "--name", "ACME", store=s)
    write_doc(tmp_path / "base.json", make_doc(tracking_id="BASE-2024-0001"))
    ok("publish", tmp_path / "base.json", store=s)
    return s


def run_limited(args, store, limit=LIMIT):
    try:
        return run(*args, store=store, timeout=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"advisoryfs {' '.join(map(str, args))} did not finish within {limit} s")


def error_line(p):
    """The one error line of a failed command (see PUBLISH_SUMMARY)."""
    lines = [ln for ln in p.stderr.splitlines() if not PUBLISH_SUMMARY.match(ln)]
    assert len(lines) == 1, f"expected one error line, got:\n{p.stderr}"
    return lines[0]


def assert_printable(line):
    assert not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in line), repr(line)


@pytest.mark.parametrize("case", params())
def test_hostile(tmp_path, store, case):
    files = tmp_path / "in-case"
    files.mkdir()
    paths = case.setup(files)
    args = [str(a).format(**{k: str(v) for k, v in paths.items()}) for a in case.cmd]
    before = dump(store)
    p = run_limited(args, store, case.limit)
    assert p.returncode != 0, (p.stdout, p.stderr)
    if args[0] == "import" and "dir" in paths and Path(paths["dir"]).is_dir() \
            and not Path(paths["dir"]).is_symlink():
        refused = [ln for ln in p.stdout.splitlines() if ln.startswith("refused ")]
        assert len(refused) == 1, p.stdout
        assert case.expect in refused[0], (case.expect, p.stdout)
        assert_printable(refused[0])
        assert p.stdout.splitlines()[-1].endswith("1 refused, 0 skipped"), p.stdout
    else:
        line = error_line(p)
        what = " ".join(args[:2]) if args[0] == "policy" else args[0]
        assert line.startswith(f"advisoryfs: {what}: "), line
        assert case.expect in line, (case.expect, line)
        assert_printable(line)
    assert dump(store) == before, "a refused input changed the store"


# ---- ids that are legal but hostile to paths: stored under a safe name ----------------

SAFE_NAMES = [
    ("A/B", "a_b.json"),
    ("../../etc/passwd", "_etc_passwd.json"),
    ("..", "_.json"),
    (".hidden", "_hidden.json"),
    ("a\\b", "a_b.json"),
    ("NCSC 2024 \u212a\u0130", "ncsc_2024_ki_.json"),
    ("caf\u00e9/..%2f", "caf_2f.json"),
]


@pytest.mark.parametrize("tracking_id,name", SAFE_NAMES, ids=[n for _, n in SAFE_NAMES])
def test_path_like_id_gets_safe_name(tmp_path, tracking_id, name):
    s = new_store(tmp_path)
    doc = write_doc(tmp_path / "d.json", make_doc(tracking_id=tracking_id, tlp="WHITE"))
    ok("publish", doc, store=s)
    files = ok("visible", "public", "--at", "2025-01-01", store=s).stdout.split()
    assert f"white/2024/{name}" in files, files
    for f in files:
        assert ".." not in f.split("/") and not f.startswith("/"), f


def test_ids_colliding_after_file_name_rule(tmp_path):
    """"A/B" and "a_b" map to the same file name: the second is refused and
    the store keeps the first alone."""
    s = new_store(tmp_path)
    write_doc(tmp_path / "1.json", make_doc(tracking_id="A/B"))
    write_doc(tmp_path / "2.json", make_doc(tracking_id="a_b"))
    ok("publish", tmp_path / "1.json", store=s)
    before = dump(s)
    p = run_limited(["publish", tmp_path / "2.json"], s)
    assert p.returncode == 1
    line = error_line(p)
    assert "tracking id 'a_b' maps to the file name 'a_b.json' of advisory 'A/B'" in line, line
    assert dump(s) == before
    # both in one invocation: all or nothing
    t = new_store(tmp_path, "t.db")
    before = dump(t)
    p = run_limited(["publish", tmp_path / "1.json", tmp_path / "2.json"], t)
    assert p.returncode == 1 and "maps to the file name" in p.stderr
    assert dump(t) == before


def test_import_skips_symlink_loops_inside(tmp_path):
    """Symlinks inside an import DIR (loops, links out of the tree) are not
    followed: the walk ends, and only the real document is published."""
    s = new_store(tmp_path)
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    write_doc(d / "sub" / "real.json", make_doc(tracking_id="REAL-1"))
    (d / "sub" / "self").symlink_to("..")
    (d / "a.json").symlink_to("b.json")
    (d / "b.json").symlink_to("a.json")
    (d / "outside.json").symlink_to(tmp_path / "elsewhere.json")
    write_doc(tmp_path / "elsewhere.json", make_doc(tracking_id="OUTSIDE-1"))
    p = run_limited(["import", d], s)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[-1] == "1 published, 0 unchanged, 0 refused, 0 skipped"
    assert "OUTSIDE-1" not in dump(s)


def test_huge_valid_array_is_accepted_quickly(tmp_path):
    """1,000,000 names in a member the publishing rules do not look at, within
    the 16 MiB limit: a valid document (the schema and every mandatory test
    pass over it), stored byte for byte, in reasonable time."""
    s = new_store(tmp_path)
    names = b"[" + b",".join([b'"n"'] * 1_000_000) + b"]"
    data = doc_with(("acknowledgments", b'[{"names": ' + names + b"}]"))
    assert len(data) < 16 << 20
    doc = write_doc(tmp_path / "big.json", data)
    p = run_limited(["publish", doc], s)
    assert p.returncode == 0, p.stderr


def test_publish_refusal_is_one_line(tmp_path):
    s = new_store(tmp_path)
    p = run_limited(["publish", write_doc(tmp_path / "e.json", b"")], s)
    assert p.returncode == 1
    assert len(p.stderr.splitlines()) == 1, p.stderr


def test_failed_policy_load_keeps_active_policy(tmp_path):
    s = new_store(tmp_path)
    shown = ok("policy", "show", store=s).stdout
    bad = write_doc(tmp_path / "p.json", json.dumps({"vocabulary": {"roles": []}, "rules": [
        {"id": "x", "effect": "permit", "basis": "b", "when": {"role": "king"}}]}))
    p = run_limited(["policy", "load", bad], s)
    assert p.returncode == 1
    assert ok("policy", "show", store=s).stdout == shown
