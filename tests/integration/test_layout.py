"""The tree keeps the architecture (docs/DESIGN.md, "The tree").

Reads the rule table in docs/DESIGN.md and checks the sources against it:
every #include "x.h" names one header of the project and points down the
table (a folder includes its own headers and those of the folders it may
use, and what they may use); a folder's private headers stay in it; no two
source files include each other's names round a cycle; no file is longer
than the limit unless DESIGN.md says why; each folder's meson library links
only the libraries of folders it may use; README.md's layout table names
the same folders.  A violation is reported with the file and line.
"""
import pathlib
import re
import shutil
import fnmatch

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("lib", "policy", "store", "fs", "tests")
SKIP_PARTS = {"node_modules", "corpus", "data", "crashes"}
LINE_LIMIT = 1200
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def tree_rules(root):
    """{folder: (set of folders it names, [private header globs])} from the
    table under "## The tree" in docs/DESIGN.md."""
    text = (root / "docs" / "DESIGN.md").read_text()
    m = re.search(r"^## The tree\n(.*?)(?=^## )", text, re.M | re.S)
    assert m, "docs/DESIGN.md has no '## The tree' section"
    rules = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        folder = cells[0].strip("`").rstrip("/")
        uses = set(re.findall(r"`([^`]+)`", cells[2]))
        uses = {u.rstrip("/") for u in uses}
        private = re.findall(r"`([^`]+)`", cells[3])
        rules[folder] = (uses, private)
    assert rules, "the rule table of docs/DESIGN.md's '## The tree' is empty"
    return rules


def closure(rules):
    """{folder: every folder it may include from}: its own, those it names,
    and theirs; "everything" names every folder."""
    out = {}

    def walk(f, seen):
        for u in rules[f][0]:
            if u == "everything":
                seen.update(rules)
            elif u not in seen:
                assert u in rules, "DESIGN.md: %s may use %s, which has no row" % (f, u)
                seen.add(u)
                walk(u, seen)
        return seen

    for f in rules:
        out[f] = walk(f, {f})
    return out


def folder_of(rel, rules):
    """The table's folder holding rel (the longest matching prefix), or None."""
    best = None
    for f in rules:
        if rel == f or rel.startswith(f + "/"):
            if best is None or len(f) > len(best):
                best = f
    return best


def sources(root):
    for d in SOURCE_DIRS:
        for p in sorted((root / d).rglob("*")):
            if p.suffix in (".c", ".h") and not SKIP_PARTS & set(p.relative_to(root).parts):
                yield p


def check_includes(root):
    """A list of violations of the rule (file:line: why)."""
    rules = tree_rules(root)
    may = closure(rules)
    headers = {}
    for p in sources(root):
        if p.suffix == ".h":
            headers.setdefault(p.name, []).append(p)
    bad = []
    for name, ps in headers.items():
        if len(ps) > 1:
            bad.append("header name %s is not unique: %s" %
                       (name, ", ".join(str(p.relative_to(root)) for p in ps)))
    for p in sources(root):
        rel = str(p.relative_to(root))
        src = folder_of(rel, rules)
        if src is None:
            bad.append("%s: in no folder of docs/DESIGN.md's tree" % rel)
            continue
        text = p.read_text()
        for m in INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            inc = m.group(1)
            where = "%s:%d" % (rel, line)
            if "/" in inc:
                bad.append('%s: #include "%s": by bare name, the build gives the folders' %
                           (where, inc))
                continue
            found = [h for h in headers.get(inc, []) if h.parent == p.parent] or headers.get(inc)
            if not found:
                bad.append('%s: #include "%s": no such header in the tree' % (where, inc))
                continue
            hrel = str(found[0].relative_to(root))
            dst = folder_of(hrel, rules)
            if dst not in may[src]:
                bad.append("%s: %s may not include %s (%s)" % (where, src, hrel, dst))
            elif dst != src and any(fnmatch.fnmatch(inc, g) for g in rules[dst][1]):
                bad.append("%s: %s is private to %s" % (where, hrel, dst))
    return bad


def module_of(p, root):
    """A module is a .c file with its header x.h and the headers x_*.h of its
    folder that have no .c of their own (policy.c with policy_internal.h,
    world.c with world_build.h); any other header is a module by itself."""
    stem = p.with_suffix("")
    if p.suffix == ".h" and not stem.with_suffix(".c").exists():
        parts = stem.name.split("_")
        for k in range(len(parts) - 1, 0, -1):
            owner = p.parent / ("_".join(parts[:k]) + ".c")
            if owner.exists():
                stem = owner.with_suffix("")
                break
    return str(stem.relative_to(root))


def module_graph(root):
    """Edges between modules from the #include lines."""
    headers = {p.name: p for p in sources(root) if p.suffix == ".h"}
    edges = {}
    for p in sources(root):
        me = module_of(p, root)
        for inc in INCLUDE.findall(p.read_text()):
            h = headers.get(inc)
            if h is None:
                continue
            to = module_of(h, root)
            if to != me:
                edges.setdefault(me, set()).add(to)
    return edges


def find_cycle(edges):
    """One cycle as a list of modules, or None."""
    state = {}

    def visit(n, path):
        state[n] = 1
        path.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                c = visit(m, path)
                if c:
                    return c
        path.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            c = visit(n, [])
            if c:
                return c
    return None


def long_file_exceptions(root):
    text = (root / "docs" / "DESIGN.md").read_text()
    m = re.search(r"^### Longer files\n(.*?)(?=^#)", text, re.M | re.S)
    return set(re.findall(r"^- `([^`]+)`", m.group(1), re.M)) if m else set()


def long_files(root):
    allowed = long_file_exceptions(root)
    out = []
    for d in SOURCE_DIRS + ("scripts",):
        for p in sorted((root / d).rglob("*")):
            rel = p.relative_to(root)
            if not p.is_file() or SKIP_PARTS & set(rel.parts):
                continue
            if p.suffix not in (".c", ".h", ".py", ".mjs", ".sh", "") or p.name == "meson.build":
                continue
            try:
                n = p.read_text().count("\n")
            except UnicodeDecodeError:
                continue
            if n > LINE_LIMIT and str(rel) not in allowed:
                out.append("%s: %d lines" % (rel, n))
    return out


def meson_links(root):
    """Violations of the rule by the meson libraries' dependencies."""
    rules = tree_rules(root)
    may = closure(rules)
    dep_folder = {}
    for f in rules:
        mb = root / f / "meson.build"
        if mb.exists():
            for name in re.findall(r"^(\w+_dep)\s*=\s*declare_dependency", mb.read_text(), re.M):
                dep_folder[name] = f
    bad = []
    for f in rules:
        mb = root / f / "meson.build"
        if not mb.exists():
            continue
        for lst in re.findall(r"dependencies\s*:\s*\[([^\]]*)\]|dependencies\s*:\s*(\w+)",
                              mb.read_text()):
            for dep in re.findall(r"\w+", " ".join(lst)):
                g = dep_folder.get(dep)
                if g is not None and g not in may[f]:
                    bad.append("%s/meson.build links %s (%s), which %s may not use" %
                               (f, dep, g, f))
    return bad


def readme_folders(root):
    text = (root / "README.md").read_text()
    m = re.search(r"^## Layout\n(.*?)(?=^## )", text, re.M | re.S)
    assert m, "README.md has no '## Layout' section"
    return {c.strip("`").rstrip("/") for c in re.findall(r"^\| (`[^`]+`) \|", m.group(1), re.M)}


# ---- the tests -------------------------------------------------------------------------


def test_includes_follow_the_rule():
    bad = check_includes(ROOT)
    assert not bad, "\n".join(bad)


def test_no_include_cycle_between_files():
    c = find_cycle(module_graph(ROOT))
    assert c is None, "include cycle: " + " -> ".join(c)


def test_no_file_over_the_limit_unless_designed():
    bad = long_files(ROOT)
    assert not bad, "over %d lines and not under DESIGN.md's 'Longer files':\n%s" % (
        LINE_LIMIT, "\n".join(bad))


def test_meson_libraries_link_only_what_they_may():
    bad = meson_links(ROOT)
    assert not bad, "\n".join(bad)


def test_readme_layout_matches_design():
    design = {f for f in tree_rules(ROOT) if f != "tests"} | {"tests"}
    assert readme_folders(ROOT) == design


# ---- the checks catch what they are for ------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    """A copy of the sources and the two documents the checks read."""
    for d in SOURCE_DIRS:
        shutil.copytree(ROOT / d, tmp_path / d,
                        ignore=shutil.ignore_patterns("node_modules", "corpus", "data"))
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "DESIGN.md", tmp_path / "docs")
    shutil.copy(ROOT / "README.md", tmp_path)
    (tmp_path / "scripts").mkdir()
    return tmp_path


def add_include(path, header):
    text = path.read_text()
    i = text.index("#include")
    path.write_text(text[:i] + '#include "%s"\n' % header + text[i:])


def test_check_sees_an_upward_include(tree):
    assert check_includes(tree) == []
    add_include(tree / "lib" / "util" / "util.c", "store.h")
    bad = check_includes(tree)
    assert len(bad) == 1 and "lib/util may not include store/store.h" in bad[0]


def test_check_sees_a_private_header_used_outside(tree):
    add_include(tree / "fs" / "cli" / "cli_org.c", "store_internal.h")
    bad = check_includes(tree)
    assert len(bad) == 1 and "private to store" in bad[0]


def test_check_sees_a_path_include_and_an_unknown_header(tree):
    add_include(tree / "policy" / "world.c", "../lib/util/util.h")
    add_include(tree / "policy" / "world.c", "nowhere.h")
    bad = check_includes(tree)
    assert any("by bare name" in b for b in bad) and any("no such header" in b for b in bad)


def test_check_sees_a_cycle(tree):
    assert find_cycle(module_graph(tree)) is None
    add_include(tree / "lib" / "util" / "util.c", "csaf.h")  # csaf.c includes util.h
    c = find_cycle(module_graph(tree))
    assert c and "lib/util/util" in c and "lib/csaf/csaf" in c


def test_check_sees_a_long_file_and_a_wrong_link(tree):
    (tree / "fs" / "view" / "long.c").write_text("/* */\n" * (LINE_LIMIT + 1))
    assert long_files(tree) == ["fs/view/long.c: %d lines" % (LINE_LIMIT + 1)]
    mb = tree / "lib" / "util" / "meson.build"
    mb.write_text(mb.read_text().replace("include_directories : util_inc)",
                                         "include_directories : util_inc, dependencies : [store_dep])", 1))
    assert meson_links(tree) == ["lib/util/meson.build links store_dep (store), which lib/util may not use"]
