"""A leak search by property-based testing (SPEC.md section 4: a recipient sees
nothing it may not receive, and everything it may).

Hypothesis generates worlds: organisations with sectors, dated roles and dated
memberships; advisories with every distribution attribute (TLP from the
document's label tightened by --tlp, status, personal data, impact, concerned
organisations and sectors, embargo, release dates, several versions with their
own metadata, signatures, refused versions, withdrawals, special-case shares).
Each world is built with the real command line in a fresh store, mounted once in
the multi-recipient form, and every recipient's tree (paths, bytes, hash files,
index.txt, changes.csv, sizes, mtimes, the rules attribute) is compared with an
independent model of the default policy written below from
docs/advisoryfs-policy.5 and policy/wbni-default.json.  `advisoryfs visible
--json` is compared too, now and at a few exact seconds (just before and at a
boundary of the world: a role's end, an embargo, a release, a withdrawal...),
which is where the historic rules (before 2022-12-01) are exercised.

The model never asks advisoryfs for a decision.  It reads only what the store
recorded about the moment of a withdrawal or a share (the real time of the
command, which the test cannot choose), and checks that it lies within the
command's run.

Time: the mount decides at the real current time, so facts near "now" are at
least five minutes from it (a comparison cannot straddle them); exact-second
checks go through `visible --at`.  A comparison is repeated if a change moment
of the world falls inside it anyway.

The views also hold provider-metadata.json (docs/DISTRIBUTION.md), checked as
JSON: it names exactly the recipient's TLP folders and the newest date of its
own documents.  Every name another view could hold gives ENOENT.

Environment: ADVISORYFS_LEAK_EXAMPLES (default 200) sets the number of generated
worlds; the search is derandomized (the same worlds on every run) and keeps no
example database.  ADVISORYFS_LEAK_SEED=N searches other worlds,
ADVISORYFS_LEAK_SHRINK=1 shrinks a failing one (minutes), ADVISORYFS_LEAK_STATS=1
prints how often each rule decided and what the commands cost.  Failing examples
found are kept in REGRESSIONS below.
"""

import collections
import dataclasses
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from helpers import BIN, revision_history

FUSERMOUNT = shutil.which("fusermount3")
HAVE_FUSE = os.path.exists("/dev/fuse") and FUSERMOUNT is not None
# A sanitizer build (scripts/test runs the suite on one too) starts each process
# about four times slower: it runs a smaller search, the normal build the 200 worlds
# the acceptance asks for.
SANITIZED = b"__asan_init" in Path(BIN).read_bytes() if os.path.exists(BIN) else False
EXAMPLES = int(os.environ.get("ADVISORYFS_LEAK_EXAMPLES", "50" if SANITIZED else "200"))
MIN_WORLDS = min(200, EXAMPLES)
# ADVISORYFS_LEAK_SEED=N searches other worlds (the default is derandomized: the same
# worlds on every run, so CI is reproducible).
SEED_ENV = os.environ.get("ADVISORYFS_LEAK_SEED")
SEED = seed(int(SEED_ENV)) if SEED_ENV else (lambda f: f)
# Shrinking a failing world takes minutes (every step builds and mounts a world): in CI
# the first failing world is reported as generated; ADVISORYFS_LEAK_SHRINK=1 shrinks it.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + (
    [Phase.shrink] if os.environ.get("ADVISORYFS_LEAK_SHRINK") else [])


# ---- time ------------------------------------------------------------------------------

def ts(s):
    """Epoch seconds of an ISO time written by this file (UTC)."""
    if len(s) == 10:
        s += "T00:00:00Z"
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


DAY = 86400
# The default policy's dates (policy/wbni-default.json), read by hand.
WBNI = ts("2018-11-09")            # permit-vital-government, oktt-no-pd from
CSIRT_REG = ts("2020-01-14")       # permit-csirt-constituency from; pd basis csirt
OLD_TEXT_END = ts("2022-11-30") + DAY - 1   # permit-oktt-constituency-no-pd until (whole day)
AMENDMENT = ts("2022-12-01")       # permit-oktt-constituency, other-direct, special-case

# Anchors of generated times: the legal boundaries and "now" (the real time at
# which the world is built).
ANCHORS = {"wbni": WBNI, "csirt": CSIRT_REG, "pulse": ts("2020-10-15"), "amend": AMENDMENT}
ABS_DELTAS = [-30 * DAY, -DAY, -1, 0, 1, DAY, 365 * DAY]
# no generated fact is nearer than 300 s to "now": a comparison at the real time
# cannot straddle one
NOW_DELTAS = [-400 * DAY, -10 * DAY, -3600, -300, 300, 3600, 10 * DAY]


@dataclass(frozen=True)
class T:
    """A generated time: anchor + delta seconds; fmt 'date' writes a date alone
    on the command line (when the time is midnight)."""
    anchor: str
    delta: int = 0
    fmt: str = "Z"


def value(t: T, now):
    return (now if t.anchor == "now" else ANCHORS[t.anchor]) + t.delta


def cli_time(t: T, now, until=False):
    """(text for the command line, the moment the model reads from it).  A date
    alone is the start of the day, for --until the whole day (SPEC.md 1)."""
    v = value(t, now)
    if t.fmt == "date" and v % DAY == 0:
        return iso(v)[:10], v + DAY - 1 if until else v
    return iso(v), v


def doc_time(v, fmt):
    """An RFC 3339 time for a CSAF document, in one of several spellings."""
    if fmt == "+02:00" or fmt == "-05:00":
        off = 7200 if fmt == "+02:00" else -5 * 3600
        return datetime.fromtimestamp(v + off, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + fmt
    if fmt == "frac":
        return iso(v)[:-1] + ".000Z"
    return iso(v)


# ---- the generated world ---------------------------------------------------------------

SLUGS = ["acme", "zcert", "dtc", "ibd", "surfcert", "water-co", "food-bv", "party-x",
         "isac-fin", "min-bzk"]
SECTORS = ["health", "energy", "finance", "food", "municipalities"]   # policy vocabulary
TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]             # strictness order
LABEL_OF = {"CLEAR": "WHITE", "GREEN": "GREEN", "AMBER": "AMBER", "RED": "RED"}


@dataclass(frozen=True)
class Period:
    start: Optional[T] = None
    end: Optional[T] = None


@dataclass(frozen=True)
class Grant:
    """A role, or a membership, recorded with dates; before: an earlier grant of
    the same pair that the final one replaces ('redate') or that is then
    removed ('remove')."""
    period: Period = Period()
    before: Optional[str] = None
    earlier: Period = Period()


@dataclass(frozen=True)
class Org:
    slug: str
    sectors: tuple = ()
    roles: tuple = ()          # ((role, Grant), ...)


@dataclass(frozen=True)
class Member:
    schakel: str
    member: str
    grant: Grant = Grant()


@dataclass(frozen=True)
class Version:
    tlp: str = "GREEN"         # effective TLP wanted
    label: Optional[str] = "GREEN"   # the CSAF label in the document (None: absent)
    flag: Optional[str] = None       # --tlp / dist.json tlp
    refuse: Optional[str] = None     # None, 'loosen', 'nolabel', 'dates'
    status: str = "final"
    personal_data: bool = False
    impact: bool = False
    concerns: tuple = ()
    sectors: tuple = ()
    embargo: Optional[T] = None
    initial: T = T("amend", DAY)
    current: T = T("amend", DAY)
    date_fmt: str = "Z"
    signature: bool = False
    pad: int = 0


@dataclass(frozen=True)
class Advisory:
    tid: str
    versions: tuple
    withdraw: bool = False
    shares: tuple = ()
    via_publish: bool = False  # publish with flags instead of import


@dataclass(frozen=True)
class World:
    orgs: tuple
    members: tuple = ()
    advisories: tuple = ()
    at: tuple = ()             # ((kind, index, delta), ...): seconds checked with --at


ALL_TIMES = ([T(a, d, f) for a in sorted(ANCHORS) for d in ABS_DELTAS for f in ("Z", "date")]
             + [T("now", d) for d in NOW_DELTAS])

# Strategies are built once: building them inside the draws costs more than the
# draws (a world is a few hundred draws, and the search runs hundreds of worlds).
TIMES = st.sampled_from(ALL_TIMES)
WEIGHT = {k: st.integers(0, k) for k in range(1, 4)}
PICK3 = st.lists(st.integers(0, 9), max_size=3)   # up to 3 of a list, by index
PICK2 = st.lists(st.integers(0, 9), max_size=2)


def maybe(draw, strategy, none_weight=1):
    """None (none_weight times as often as a value), or a value."""
    return None if draw(WEIGHT[none_weight]) else draw(strategy)


def pick(draw, picker, items):
    """A few distinct items of a list (first drawn first)."""
    out = []
    for i in draw(picker):
        if items[i % len(items)] not in out:
            out.append(items[i % len(items)])
    return tuple(out)


@st.composite
def periods(draw):
    # open ends are common: more roles and memberships in force, more to share
    return Period(maybe(draw, TIMES), maybe(draw, TIMES, 2))


BEFORE = st.sampled_from([None, None, None, "redate", "remove"])


@st.composite
def grants(draw):
    period = draw(PERIODS)
    before = draw(BEFORE)
    return Grant(period, before, draw(PERIODS) if before else Period())


PERIODS = periods()
GRANTS = grants()
TLP_S = st.sampled_from(TLPS)
LABELS = {tlp: st.sampled_from([lab for t, lab in LABEL_OF.items()
                                if TLPS.index(t) <= TLPS.index(tlp)] + [None]) for tlp in TLPS}
SAME_FLAG = {tlp: st.sampled_from([None, None, tlp, "WHITE" if tlp == "CLEAR" else tlp])
             for tlp in TLPS}
REFUSE = st.sampled_from([None] * 12 + ["loosen", "nolabel", "dates"])
STATUS = st.sampled_from(["final"] * 5 + ["interim", "draft"])
PD = st.sampled_from([False, False, True])
BOOL = st.booleans()
DATE_FMT = st.sampled_from(["Z", "Z", "Z", "+02:00", "-05:00", "frac"])
PAD = st.sampled_from([0, 0, 0, 0, 100, 5000, 140000])


def draw_version(draw, slugs):
    tlp = draw(TLP_S)
    label = draw(LABELS[tlp])
    label_tlp = {v: k for k, v in LABEL_OF.items()}.get(label)
    # the flag: optional when the label says it already, else needed to tighten
    flag = draw(SAME_FLAG[tlp]) if label_tlp == tlp else tlp
    refuse = draw(REFUSE)
    if refuse == "loosen" and label_tlp not in (None, "CLEAR"):
        flag = TLPS[TLPS.index(label_tlp) - 1]
    elif refuse == "loosen":
        refuse = None
    if refuse == "nolabel":
        label, flag = None, None
    initial = draw(TIMES)
    current = maybe(draw, TIMES) or initial
    return Version(
        tlp=tlp, label=label, flag=flag, refuse=refuse,
        status=draw(STATUS), personal_data=draw(PD), impact=draw(BOOL),
        concerns=pick(draw, PICK3, slugs), sectors=pick(draw, PICK2, SECTORS),
        embargo=maybe(draw, TIMES, 3), initial=initial, current=current,
        date_fmt=draw(DATE_FMT), signature=draw(BOOL), pad=draw(PAD))


TID_FORMS = ["NCSC-2024-{:04d}", "WID-SEC-W-2024-{:04d}", "RHSA-2024:{:04d}",
             "cisco-sa-ios {} xe", "Ac.Me/{}"]
TID_S = st.sampled_from(TID_FORMS)
SLUGS_S = st.lists(st.sampled_from(SLUGS), min_size=2, max_size=8, unique=True)
# the roles with a constituency come up more often: they are where the law is subtle
ROLE_S = st.sampled_from(["vital", "government", "csirt", "csirt", "oktt", "oktt", "oktt",
                          "other", "other"])
N_ROLES = st.integers(0, 2)
N_MEMBERS = st.integers(0, 8)
N_ADVS = st.integers(1, 10)
N_VERSIONS = st.integers(1, 3)
IDX = st.integers(0, 9)
WITHDRAW = st.sampled_from([False] * 5 + [True])
VIA_PUBLISH = st.sampled_from([False] * 7 + [True])
# --at moments: a change moment of the world (index), or a legal boundary, or the
# second before either
LEGAL = [WBNI, CSIRT_REG, ANCHORS["pulse"], AMENDMENT]
AT = st.lists(st.tuples(st.sampled_from(["world", "world", "legal"]), st.integers(0, 10 ** 6),
                        st.sampled_from([-1, 0])), min_size=1, max_size=3)


@st.composite
def worlds(draw):
    slugs = draw(SLUGS_S)
    orgs = []
    for s in slugs:
        sectors = pick(draw, PICK2, SECTORS)
        roles = {}
        for _ in range(draw(N_ROLES)):
            roles.setdefault(draw(ROLE_S), draw(GRANTS))
        orgs.append(Org(s, sectors, tuple(roles.items())))
    # memberships: mostly of an organisation that has a constituency role
    schakels = [o.slug for o in orgs if {"oktt", "csirt"} & {r for r, _ in o.roles}] or slugs
    members = {}
    for _ in range(draw(N_MEMBERS)):
        pool = schakels if draw(WEIGHT[3]) else slugs
        a, b = pool[draw(IDX) % len(pool)], slugs[draw(IDX) % len(slugs)]
        g = draw(GRANTS)
        if a != b:
            members.setdefault((a, b), g)
    # concerned organisations: often a member of some constituency
    in_constituency = sorted({b for _, b in members}) or slugs
    advs = []
    for i in range(draw(N_ADVS)):
        tid = draw(TID_S).format(i + 1)
        vs = tuple(draw_version(draw, slugs if draw(BOOL) else in_constituency)
                   for _ in range(draw(N_VERSIONS)))
        advs.append(Advisory(tid, vs, withdraw=draw(WITHDRAW), shares=pick(draw, PICK2, slugs),
                             via_publish=draw(VIA_PUBLISH)))
    return World(tuple(orgs), tuple(Member(a, b, g) for (a, b), g in members.items()),
                 tuple(advs), tuple(draw(AT)))


# ---- what the store holds after the build (the model's input) --------------------------

NEG, POS = float("-inf"), float("inf")


@dataclass
class RVersion:
    version: str
    tlp: str
    status: str
    personal_data: bool
    impact: bool
    concerns: frozenset
    sectors: frozenset
    embargo: Optional[int]
    initial: int
    current: int
    data: bytes
    sig: Optional[bytes]


@dataclass
class RAdv:
    tid: str
    filename: str
    versions: list              # stored versions, in publishing order
    withdrawn_at: Optional[int] = None
    shares: dict = field(default_factory=dict)   # slug -> moment recorded


@dataclass
class RWorld:
    now: int
    sectors: dict               # slug -> set of sectors
    roles: dict                 # slug -> {role: (from, until)}
    members: dict               # (schakel, member) -> (from, until)
    advs: list


def csaf_filename(tid):
    """CSAF 2.0 section 5.1: lower case, every run of characters outside
    [+-a-z0-9] replaced by one '_', then '.json'."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tid.lower()) + ".json"


# ---- the model of the default policy ---------------------------------------------------

class Facts:
    """The facts of advisoryfs-policy(5) for one recipient (a slug, or None for
    the public), one advisory in the version v in force, at t."""

    def __init__(self, w, r, adv, v, t):
        self.w, self.r, self.adv, self.v, self.t = w, r, adv, v, t
        self.public = r is None
        self.my_sectors = set() if self.public else w.sectors[r]

    def role(self, *names):
        if self.public:
            return False
        return any(lo <= self.t <= hi for role, (lo, hi) in self.w.roles[self.r].items()
                   if role in names)

    def held_by(self, org, *names):
        return any(lo <= self.t <= hi for role, (lo, hi) in self.w.roles[org].items()
                   if role in names)

    def members_now(self):
        return {m for (s, m), (lo, hi) in self.w.members.items()
                if s == self.r and lo <= self.t <= hi}

    def reached_by(self, *names):
        if self.public:
            return False
        return any(m == self.r and lo <= self.t <= hi and self.held_by(s, *names)
                   for (s, m), (lo, hi) in self.w.members.items())

    # advisory facts
    @property
    def tlp(self):
        return self.v.tlp

    @property
    def personal_data(self):
        return self.v.personal_data

    def general(self):
        return not self.v.concerns and not self.v.sectors

    def embargoed(self):
        return self.v.embargo is not None and self.t < self.v.embargo

    def withdrawn(self):
        return self.adv.withdrawn_at is not None and self.adv.withdrawn_at <= self.t

    # relations
    def concerns_self(self):
        return not self.public and self.r in self.v.concerns

    def concerns_sector(self):
        return bool(self.v.sectors & self.my_sectors)

    def concerns_org_in_sector(self):
        return any(self.w.sectors[c] & self.my_sectors for c in self.v.concerns)

    def concerns_member(self):
        return not self.public and bool(self.v.concerns & self.members_now())

    def shared_with_recipient(self):
        return not self.public and self.adv.shares.get(self.r, POS) <= self.t


# named conditions of wbni-default.json
def own_sector_or_general(f):
    return f.concerns_self() or f.concerns_sector() or f.general()


def csirt_constituency(f):
    return f.concerns_member() or f.concerns_sector() or f.concerns_org_in_sector()


def oktt_constituency(f):
    return f.concerns_member()


def direct_route_3_2_e(f):
    return (f.role("other") and f.concerns_self() and f.v.impact
            and not f.reached_by("oktt"))


def named_recipient(f):
    return f.concerns_self() or f.shared_with_recipient()


def personal_data_basis(f):
    return ((f.role("csirt") and csirt_constituency(f) and f.t >= CSIRT_REG)
            or (f.role("oktt") and oktt_constituency(f) and f.t >= AMENDMENT)
            or (direct_route_3_2_e(f) and f.t >= AMENDMENT)
            or (f.shared_with_recipient() and not f.public and f.t >= AMENDMENT)
            or (f.role("vital", "government") and f.concerns_self()))


# permits, in the order of the rules array
def permit_public_clear(f):
    return f.tlp == "CLEAR" and f.v.status == "final" and not f.personal_data


def permit_vital_government(f):
    return f.t >= WBNI and f.role("vital", "government") and own_sector_or_general(f)


def permit_csirt_constituency(f):
    return f.t >= CSIRT_REG and f.role("csirt") and csirt_constituency(f)


def permit_oktt_constituency_no_pd(f):
    return (WBNI <= f.t <= OLD_TEXT_END and f.role("oktt") and oktt_constituency(f)
            and not f.personal_data)


def permit_oktt_constituency(f):
    return f.t >= AMENDMENT and f.role("oktt") and oktt_constituency(f)


def permit_other_direct(f):
    return f.t >= AMENDMENT and direct_route_3_2_e(f)


def permit_special_case(f):
    return f.t >= AMENDMENT and f.shared_with_recipient() and not f.public


# forbids (always in force)
def forbid_draft(f):
    return f.v.status == "draft"


def forbid_withdrawn(f):
    return f.withdrawn()


def forbid_embargo(f):
    return f.embargoed()


def forbid_red_unnamed(f):
    return f.tlp == "RED" and not named_recipient(f)


def forbid_amber_strict_not_self(f):
    return f.tlp == "AMBER+STRICT" and not f.concerns_self()


def forbid_personal_data_without_basis(f):
    return f.personal_data and not personal_data_basis(f)


PERMITS = [("permit-public-clear", permit_public_clear),
           ("permit-vital-government", permit_vital_government),
           ("permit-csirt-constituency", permit_csirt_constituency),
           ("permit-oktt-constituency-no-pd", permit_oktt_constituency_no_pd),
           ("permit-oktt-constituency", permit_oktt_constituency),
           ("permit-other-direct", permit_other_direct),
           ("permit-special-case", permit_special_case)]
FORBIDS = [("forbid-draft", forbid_draft),
           ("forbid-withdrawn", forbid_withdrawn),
           ("forbid-embargo", forbid_embargo),
           ("forbid-red-unnamed", forbid_red_unnamed),
           ("forbid-amber-strict-not-self", forbid_amber_strict_not_self),
           ("forbid-personal-data-without-basis", forbid_personal_data_without_basis)]


def builtin_guards(f):
    out = []
    if f.t < f.v.initial:
        out.append("builtin:not-released")
    if f.embargoed():
        out.append("builtin:embargo")
    if f.withdrawn():
        out.append("builtin:withdrawn")
    return out


def decide(f):
    """(permit, determining rules): forbids, then guards, then permits, else deny."""
    forbids = [rid for rid, rule in FORBIDS if rule(f)]
    for rid in forbids:
        STATS[rid] += 1
    if forbids:
        return False, forbids
    guards = builtin_guards(f)
    for rid in guards:
        STATS[rid] += 1
    if guards:
        return False, guards
    permits = [rid for rid, rule in PERMITS if rule(f)]
    for rid in permits:
        STATS[rid] += 1
    return bool(permits), permits


def in_force(adv, t):
    """The version served at t: the last published whose current_release_date
    is at or before t (world.h); None when there is none."""
    ok_ = [v for v in adv.versions if v.current <= t]
    return ok_[-1] if ok_ else None


TLP_DIR = {"CLEAR": "white", "GREEN": "green", "AMBER": "amber", "AMBER+STRICT": "amber",
           "RED": "red"}


# provider-metadata.json (docs/DISTRIBUTION.md): the defaults, as no world sets them
BASE_URL = "https://advisories.invalid/csaf"
PUBLISHER = {"category": "coordinator", "name": "advisoryfs (publisher not configured)",
             "namespace": "https://advisories.invalid"}
FOLDERS = ["white", "green", "amber", "red"]


class ProviderMetadata:
    """The expected provider-metadata.json of a view, compared as JSON: it names
    exactly the recipient's TLP folders, and its last_updated is the newest
    current_release_date of the view (no folder, no date of anything else)."""

    def __init__(self, slug, folders, newest):
        self.slug, self.folders, self.newest = slug, folders, newest

    def mismatch(self, data):
        try:
            got = json.loads(data)
        except ValueError as e:
            return f"not JSON: {e}"
        want = {"canonical_url": f"{BASE_URL}/{self.slug}/provider-metadata.json",
                "list_on_CSAF_aggregators": self.slug == "public",
                "metadata_version": "2.0",
                "mirror_on_CSAF_aggregators": self.slug == "public",
                "publisher": PUBLISHER,
                "role": "csaf_trusted_provider"}
        dists = got.pop("distributions", [])
        last = got.pop("last_updated", None)
        if got != want:
            return f"{got} != {want}"
        urls = [d.get("directory_url") for d in dists]
        want_urls = [f"{BASE_URL}/{self.slug}/{f}/" for f in FOLDERS if f in self.folders]
        if sorted(urls) != sorted(want_urls) or any(len(d) != 1 for d in dists):
            return f"distributions {dists} != {want_urls}"
        if self.newest is not None and last != iso(self.newest):
            return f"last_updated {last} != {iso(self.newest)}"
        if self.newest is None and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", last or ""):
            return f"last_updated {last!r}"
        return None

    def __repr__(self):
        return f"ProviderMetadata({self.slug!r}, {sorted(self.folders)}, {self.newest})"


def same(want, got):
    """Does a file's content meet what the model expects (bytes, or a checker)?"""
    if isinstance(want, ProviderMetadata):
        return want.mismatch(got) is None
    return want == got


def expected_view(w, r, t):
    """What recipient r (a slug, None: the public) holds at t (SPEC.md section 2,
    docs/DISTRIBUTION.md): {relative path: bytes or checker}, and for each
    document {path: (permitting rule ids, the version served)}."""
    files, docs, folders = {}, {}, {}
    for adv in w.advs:
        v = in_force(adv, t)
        if v is None:
            continue
        permit, why = decide(Facts(w, r, adv, v, t))
        if not permit:
            continue
        year = datetime.fromtimestamp(v.initial, timezone.utc).year
        folder = TLP_DIR[v.tlp]
        rel = f"{year:04d}/{adv.filename}"
        path = f"{folder}/{rel}"
        files[path] = v.data
        files[path + ".sha256"] = f"{hashlib.sha256(v.data).hexdigest()}  {adv.filename}\n".encode()
        files[path + ".sha512"] = f"{hashlib.sha512(v.data).hexdigest()}  {adv.filename}\n".encode()
        if v.sig is not None:
            files[path + ".asc"] = v.sig
        docs[path] = (why, v)
        folders.setdefault(folder, []).append((rel, v.current))
    for folder, entries in folders.items():
        files[f"{folder}/index.txt"] = "".join(f"{rel}\n" for rel, _ in sorted(entries)).encode()
        newest = sorted(entries, key=lambda d: (-d[1], d[0]))
        files[f"{folder}/changes.csv"] = "".join(
            f'"{rel}","{iso(cur)}"\n' for rel, cur in newest).encode()
    newest = max((v.current for _, v in docs.values()), default=None)
    files["provider-metadata.json"] = ProviderMetadata(r or "public", set(folders), newest)
    return files, docs


def expected_dist(v):
    """The user.advisoryfs.dist attribute (docs/DISTRIBUTION.md): the effective TLP
    and the personal-data mark, impact and sectors when set; never the concerned
    organisations."""
    d = {"tlp": v.tlp, "personal_data": v.personal_data}
    if v.impact:
        d["impact"] = "significant"
    if v.sectors:
        d["sectors"] = sorted(v.sectors)
    return d


# ---- building a world with the real command line ----------------------------------------

STATS = collections.Counter()


def cli(store, *args, expect_ok=True):
    cmd = [BIN, "-s", str(store), *[str(a) for a in args]]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    STATS["cli " + str(args[0])] += 1
    STATS["cli-ms " + str(args[0])] += int((time.monotonic() - t0) * 1000)
    if expect_ok and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr}")
    return p


def make_doc(tid, version, v: Version, now, seq):
    initial, current = value(v.initial, now), value(v.current, now)
    if v.refuse == "dates":
        initial, current = max(initial, current) + 1, min(initial, current)
    else:
        initial, current = min(initial, current), max(initial, current)
    d = {"document": {
        "category": "csaf_base",
        "csaf_version": "2.0",
        "lang": "en",
        "publisher": {"category": "coordinator", "name": "advisoryfs leak search",
                      "namespace": "https://leaks.example.invalid"},
        "title": f"Leak search {tid} version {version}",
        "tracking": {
            "id": tid, "status": v.status, "version": version,
            "initial_release_date": doc_time(initial, v.date_fmt),
            "current_release_date": doc_time(current, v.date_fmt),
            "revision_history": revision_history(version, doc_time(initial, v.date_fmt),
                                                 doc_time(current, v.date_fmt))}}}
    if v.label is not None:
        d["document"]["distribution"] = {"tlp": {"label": v.label,
                                                 "url": "https://www.first.org/tlp/"}}
    if v.pad:
        d["document"]["notes"] = [{"category": "general", "text": "x" * v.pad}]
    return json.dumps(d, indent=2).encode(), initial, current


def signature(tid, version):
    body = hashlib.sha256(f"{tid} {version}".encode()).hexdigest()
    return (f"-----BEGIN PGP SIGNATURE-----\n\n{body}\n=leak\n"
            f"-----END PGP SIGNATURE-----\n").encode()


POOL = ThreadPoolExecutor(4)


def in_parallel(jobs):
    """Run jobs (each a list of command lines, run in order) concurrently: the
    commands of one job depend on each other, those of different jobs do not.
    Concurrent writers are part of the product's contract (SQLite's busy
    timeout absorbs them); it also makes a world four times faster to build."""
    for f in [POOL.submit(lambda job=job: [fn() for fn in job]) for job in jobs if job]:
        f.result()


def dated(period, now):
    """--from/--until arguments of a period, and the period as the model reads
    it.  Bounds drawn in the wrong order are swapped (the command refuses them)."""
    a, b = period.start, period.end
    lo = cli_time(a, now)[1] if a is not None else NEG
    hi = cli_time(b, now, until=True)[1] if b is not None else POS
    if lo > hi:
        a, b = b, a
        lo, hi = cli_time(a, now)[1], cli_time(b, now, until=True)[1]
    args = []
    if a is not None:
        args += ["--from", cli_time(a, now)[0]]
    if b is not None:
        args += ["--until", cli_time(b, now, until=True)[0]]
    return args, (lo, hi)


def grant_job(store, base_args, g, now):
    """The commands recording a role or a membership (an earlier grant that the
    final one replaces, or that is removed), and its period (None: removed)."""
    job = []
    if g.before:
        job.append(lambda: cli(store, *base_args, *dated(g.earlier, now)[0]))
        if g.before == "remove":
            job.append(lambda: cli(store, *base_args, "--remove"))
            return job, None
    args, span = dated(g.period, now)
    job.append(lambda: cli(store, *base_args, *args))
    return job, span


def build(world: World, base: Path):
    """Make the store with the real program; return (store, RWorld, change moments)."""
    store = base / "s.db"
    now = int(time.time())
    cli(store, "init")
    rw = RWorld(now=now, sectors={}, roles={}, members={}, advs=[])

    jobs = []
    for o in world.orgs:
        args = ["org", "add", o.slug, "--name", f"Organisation {o.slug}"]
        for s in o.sectors:
            args += ["--sector", s]
        jobs.append([lambda args=args: cli(store, *args)])
        rw.sectors[o.slug] = set(o.sectors)
        rw.roles[o.slug] = {}
    in_parallel(jobs)

    jobs = []
    for o in world.orgs:
        for role, g in o.roles:
            job, span = grant_job(store, ["org", "role", o.slug, role], g, now)
            jobs.append(job)
            if span is not None:
                rw.roles[o.slug][role] = span
    for m in world.members:
        job, span = grant_job(store, ["org", "member", m.schakel, m.member], m.grant, now)
        jobs.append(job)
        if span is not None:
            rw.members[(m.schakel, m.member)] = span

    src = base / "src"
    src.mkdir()
    to_import, refused_files = 0, []
    for i, adv in enumerate(world.advisories):
        radv = RAdv(adv.tid, csaf_filename(adv.tid), [])
        rw.advs.append(radv)
        job = []
        d = src / f"a{i}" if not adv.via_publish else base / "publish" / f"a{i}"
        d.mkdir(parents=True)
        last_current = None
        for j, v in enumerate(adv.versions):
            version = f"{j + 1}.0.0"
            data, initial, current = make_doc(adv.tid, version, v, now, j)
            # a newer version must carry a later current_release_date
            if v.refuse is None and last_current is not None and current <= last_current:
                v = dataclasses.replace(v, refuse="not later")
            if v.refuse is None:
                last_current = current
            f = d / f"v{j + 1}.json"
            f.write_bytes(data)
            sig = signature(adv.tid, version) if v.signature else None
            emb_text, emb = cli_time(v.embargo, now) if v.embargo is not None else (None, None)
            if adv.via_publish:
                args = ["publish", f]
                if v.flag:
                    args += ["--tlp", v.flag]
                if v.concerns:
                    args += ["--concerns", ",".join(v.concerns)]
                if v.sectors:
                    args += ["--sectors", ",".join(v.sectors)]
                if v.personal_data:
                    args.append("--personal-data")
                if v.impact:
                    args += ["--impact", "significant"]
                if emb_text:
                    args += ["--embargo-until", emb_text]
                if sig is not None:
                    (d / f"v{j + 1}.sig").write_bytes(sig)
                    args += ["--signature", d / f"v{j + 1}.sig"]
                job.append(lambda args=args, v=v, f=f: publish(store, args, v, f))
            else:
                dist = {"personal_data": v.personal_data,
                        "impact": "significant" if v.impact else "none"}
                if v.flag:
                    dist["tlp"] = v.flag
                if v.concerns:
                    dist["concerns"] = list(v.concerns)
                if v.sectors:
                    dist["sectors"] = list(v.sectors)
                if emb_text:
                    dist["embargo_until"] = emb_text
                (d / f"v{j + 1}.json.dist.json").write_text(json.dumps(dist))
                if sig is not None:
                    (d / f"v{j + 1}.json.asc").write_bytes(sig)
                to_import += 1
                if v.refuse:
                    refused_files.append(f"a{i}/v{j + 1}.json")
            if v.refuse is None:
                radv.versions.append(RVersion(
                    version=version, tlp=v.tlp, status=v.status,
                    personal_data=v.personal_data, impact=v.impact,
                    concerns=frozenset(v.concerns), sectors=frozenset(v.sectors),
                    embargo=emb, initial=initial, current=current, data=data, sig=sig))
        jobs.append(job)
    if to_import:
        jobs.append([lambda: import_(store, src, to_import, refused_files)])
    in_parallel(jobs)

    stored = {a.tid for a in rw.advs if a.versions}
    jobs = []
    for adv in world.advisories:
        if adv.tid not in stored:
            continue
        job = [lambda adv=adv, s=s: cli(store, "share", adv.tid, s, "--reason",
                                        "special case (leak search)") for s in adv.shares]
        if adv.withdraw:
            job.append(lambda adv=adv: cli(store, "withdraw", adv.tid))
        jobs.append(job)
    in_parallel(jobs)
    after = int(time.time())
    rw.advs = [a for a in rw.advs if a.versions]
    by_tid = {a.tid: a for a in rw.advs}
    # The moments of the shares and withdrawals: the store records the real time of
    # the command, which the model needs (nothing else is read from the store).
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as c:
        for tid, at in c.execute("SELECT a.tracking_id, w.at FROM withdrawal w "
                                 "JOIN advisory a ON a.id = w.advisory_id"):
            assert now <= at <= after, (tid, at, now, after)
            by_tid[tid].withdrawn_at = at
        for tid, slug, at in c.execute("SELECT a.tracking_id, o.slug, s.at FROM share s "
                                       "JOIN advisory a ON a.id = s.advisory_id "
                                       "JOIN org o ON o.id = s.org_id"):
            assert now <= at <= after, (tid, at, now, after)
            by_tid[tid].shares[slug] = at
    assert {a.tid for a in rw.advs if a.withdrawn_at is not None} == \
        {adv.tid for adv in world.advisories if adv.withdraw} & stored
    assert {(a.tid, s) for a in rw.advs for s in a.shares} == \
        {(adv.tid, s) for adv in world.advisories for s in adv.shares if adv.tid in stored}
    return store, rw, change_moments(rw)


def publish(store, args, v, f):
    p = cli(store, *args, expect_ok=v.refuse is None)
    if v.refuse:
        assert p.returncode != 0, f"publish of a refused version succeeded: {v}"
        lines = p.stderr.splitlines()
        assert lines and all(x.startswith("advisoryfs: ") for x in lines), p.stderr
        assert str(f) in lines[0], p.stderr


def import_(store, src, n, refused_files):
    p = cli(store, "import", src, "--quiet", expect_ok=False)
    out = p.stdout + p.stderr
    assert p.returncode == (1 if refused_files else 0), f"import exited {p.returncode}: {out}"
    m = re.search(r"(\d+) published, (\d+) unchanged, (\d+) refused", out)
    assert m, out
    assert (int(m.group(1)), int(m.group(3))) == (n - len(refused_files), len(refused_files)), out
    for f in refused_files:
        assert f in out, (f, out)


def change_moments(w):
    """Every moment at which a decision of the model can change."""
    out = {WBNI, CSIRT_REG, OLD_TEXT_END + 1, AMENDMENT, w.now}
    for spans in list(w.roles.values()):
        for lo, hi in spans.values():
            out |= {x for x in (lo, hi + 1) if abs(x) != POS}
    for lo, hi in w.members.values():
        out |= {x for x in (lo, hi + 1) if abs(x) != POS}
    for a in w.advs:
        out |= {x for x in (a.withdrawn_at,) if x is not None}
        out |= set(a.shares.values())
        for v in a.versions:
            out |= {v.initial, v.current}
            if v.embargo is not None:
                out.add(v.embargo)
    return sorted(out)


# ---- comparing -------------------------------------------------------------------------

def explain(store, slug, tid, at=None):
    args = ["explain", slug, tid, "--json"] + (["--at", iso(at)] if at is not None else [])
    p = cli(store, *args, expect_ok=False)
    try:
        j = json.loads(p.stdout)
        return f"{j.get('decision')} {j.get('determining')}"
    except ValueError:
        return p.stderr.strip()


def describe(store, w, slug, t, missing, extra, differ, at):
    """A readable account of a difference, with the model's and the engine's reasons."""
    lines = [f"recipient {slug} at {iso(t)}:"]
    tid_of = {a.filename: a.tid for a in w.advs}
    for kind, paths in (("MISSING (model permits)", missing), ("LEAKED (model denies)", extra),
                        ("DIFFERENT CONTENT", differ)):
        for p in sorted(paths)[:8]:
            name = p.split("/")[-1]
            base = re.sub(r"\.(sha256|sha512|asc)$", "", name)
            why = ""
            if base in tid_of:
                adv = next(a for a in w.advs if a.filename == base)
                v = in_force(adv, t)
                model = decide(Facts(w, None if slug == "public" else slug, adv, v, t)) \
                    if v else "not in force"
                why = f" model={model} engine={explain(store, slug, tid_of[base], at)}"
            lines.append(f"  {kind}: {p}{why}")
    return "\n".join(lines)


def visible_json(store, slug, at):
    args = ["visible", slug, "--json"] + (["--at", iso(at)] if at is not None else [])
    return json.loads(cli(store, *args).stdout)


def compare_visible(store, w, checks):
    """`advisoryfs visible SLUG --json [--at T]` against the model at t, for each
    (slug, t, at) of checks (the commands run concurrently)."""
    results = list(POOL.map(lambda c: visible_json(store, c[0], c[2]), checks))
    for (slug, t, at), got in zip(checks, results):
        want, docs = expected_view(w, None if slug == "public" else slug, t)
        files = set(got["files"])
        assert got["files"] == sorted(got["files"]), "visible: not sorted"
        if files != set(want):
            raise AssertionError("visible --json differs from the model\n" + describe(
                store, w, slug, t, set(want) - files, files - set(want), (), at))
        by_path = {a["path"]: a for a in got["advisories"]}
        assert set(by_path) == set(docs), (slug, sorted(by_path), sorted(docs))
        for path, (rules, v) in docs.items():
            a = by_path[path]
            assert a["rules"] == rules, (slug, iso(t), path, a["rules"], rules)
            assert a["sha256"] == hashlib.sha256(v.data).hexdigest(), (slug, path)
            assert (a["size"], a["version"], a["tlp"]) == (len(v.data), v.version, v.tlp), \
                (slug, path, a)


def walk(root):
    """{relative path: bytes} of every file below root, and the stats."""
    out, stats = {}, {}
    def fail(e):
        raise e

    for d, dirs, files in os.walk(root, onerror=fail):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            with open(p, "rb") as fh:
                out[rel] = fh.read()
            stats[rel] = os.stat(p)
    return out, stats


def compare_mount(store, w, mnt, t):
    slugs = sorted(w.sectors)
    assert sorted(os.listdir(mnt)) == sorted(slugs + ["public"])
    for slug in slugs + ["public"]:
        got, stats = walk(mnt / slug)
        want, docs = expected_view(w, None if slug == "public" else slug, t)
        differ = {p for p in set(got) & set(want) if not same(want[p], got[p])}
        if set(got) != set(want) or differ:
            raise AssertionError("the mount differs from the model\n" + describe(
                store, w, slug, t, set(want) - set(got), set(got) - set(want), differ, None)
                + "".join(f"\n  {p}: {want[p].mismatch(got[p])}" for p in differ
                          if isinstance(want[p], ProviderMetadata)))
        for rel, st_ in stats.items():
            assert st_.st_size == len(got[rel]), (slug, rel)
        for path, (rules, v) in docs.items():
            xa = os.getxattr(mnt / slug / path, "user.advisoryfs.rules").decode()
            assert xa.split(",") == rules, (slug, path, xa, rules)
            dist = json.loads(os.getxattr(mnt / slug / path, "user.advisoryfs.dist"))
            if "sectors" in dist:
                dist["sectors"] = sorted(dist["sectors"])
            assert dist == expected_dist(v), (slug, path, dist, expected_dist(v))
            assert int(stats[path].st_mtime) == v.current, (slug, path)
        # every name another recipient might see, or this one at another moment:
        # invisible is nonexistent (ENOENT), never EACCES
        for p in sorted(candidates(w) - set(want) - {os.path.dirname(x) for x in want}):
            try:
                os.lstat(mnt / slug / p)
                raise AssertionError(f"{slug}/{p} exists but the model says it may not")
            except FileNotFoundError:
                pass


def candidates(w):
    """Every path any view of the world could hold (each stored version, any
    folder), folders and year folders included."""
    out = set()
    for folder in FOLDERS:
        out |= {folder, f"{folder}/index.txt", f"{folder}/changes.csv"}
    for a in w.advs:
        for v in a.versions:
            year = datetime.fromtimestamp(v.initial, timezone.utc).year
            for folder in FOLDERS:
                base = f"{folder}/{year:04d}/{a.filename}"
                out |= {f"{folder}/{year:04d}", base, base + ".sha256", base + ".sha512",
                        base + ".asc"}
    return out


class Mount:
    """advisoryfs -s STORE mount MNT -f in the background; always unmounted."""

    def __init__(self, store, mnt):
        self.mnt = mnt
        mnt.mkdir()
        self.err = tempfile.TemporaryFile(dir=mnt.parent)
        self.proc = subprocess.Popen([BIN, "-s", str(store), "mount", str(mnt), "-f"],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 10
        while not os.path.ismount(mnt):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"mount failed: {self.stderr()}")
            time.sleep(0.002)

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def close(self):
        if os.path.ismount(self.mnt):
            if subprocess.run([FUSERMOUNT, "-u", str(self.mnt)],
                              capture_output=True).returncode != 0:
                subprocess.run([FUSERMOUNT, "-uz", str(self.mnt)], capture_output=True)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the daemon did not exit after unmounting")
        err = self.stderr()
        self.err.close()
        assert rc in (0, None) and err == "", f"daemon exited {rc}: {err}"


def scratch():
    """A scratch directory, on tmpfs when there is one (the store syncs a lot)."""
    shm = "/dev/shm"
    d = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="advisoryfs-leaks-", dir=d))


def during(moments, fn, tries=3):
    """Run a comparison at the real current time; repeat it when a change moment
    of the world fell inside it (the model's answer would be ambiguous)."""
    for _ in range(tries):
        a = int(time.time())
        fn(a)
        b = int(time.time())
        if not any(a < x <= b for x in moments):
            return
    raise AssertionError("a change moment fell inside every comparison")


WORLDS_RUN = {"mounted": 0, "checked": 0}


def check_world(world: World, mount=True):
    base = scratch()
    try:
        t0 = time.monotonic()
        store, w, moments = build(world, base)
        slugs = sorted(w.sectors) + ["public"]
        t1 = time.monotonic()
        STATS["phase-ms build"] += int((t1 - t0) * 1000)
        # exact seconds: just before and at change moments of the world
        at = []
        for kind, idx, delta in world.at:
            pool = moments if kind == "world" else LEGAL
            at.append(pool[idx % len(pool)] + delta)
        compare_visible(store, w, [(s, t, t) for t in at for s in slugs])
        during(moments, lambda t: compare_visible(store, w, [(s, t, None) for s in slugs]))
        t2 = time.monotonic()
        STATS["phase-ms visible"] += int((t2 - t1) * 1000)
        if mount and HAVE_FUSE:
            m = Mount(store, base / "mnt")
            try:
                during(moments, lambda t: compare_mount(store, w, m.mnt, t))
            finally:
                m.close()
            WORLDS_RUN["mounted"] += 1
            STATS["phase-ms mount"] += int((time.monotonic() - t2) * 1000)
        WORLDS_RUN["checked"] += 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---- the search ------------------------------------------------------------------------

@pytest.mark.skipif(not HAVE_FUSE, reason="no /dev/fuse or fusermount3")
@SEED
@settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED_ENV is None, database=None,
          print_blob=True, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(worlds())
def test_leak_search(world):
    check_world(world)


@pytest.mark.skipif(not HAVE_FUSE, reason="no /dev/fuse or fusermount3")
def test_leak_search_ran_enough():
    """The acceptance asks for at least 200 mounted worlds in CI."""
    if WORLDS_RUN["mounted"] == 0:
        pytest.skip("the leak search did not run in this session")
    if os.environ.get("ADVISORYFS_LEAK_STATS"):
        print("\n" + "\n".join(f"{k}: {v}" for k, v in sorted(STATS.items())))
    assert WORLDS_RUN["mounted"] >= MIN_WORLDS, WORLDS_RUN


# ---- regression cases ------------------------------------------------------------------
# Worlds written by hand for the cases the law turns on.  The search has found no
# difference so far (4,200 worlds with three seeds); a failing example it finds goes
# here, as pytest.param(World(...), marks=pytest.mark.xfail(reason=diagnosis)) until
# advisoryfs is fixed.

PULSE = World(
    orgs=(Org("food-bv", ("food",), (("other", Grant()),)),
          Org("dtc", (), (("oktt", Grant(Period(T("pulse", 365 * DAY)))),)),
          Org("zcert", ("health",), (("csirt", Grant(Period(T("csirt", 0, "date")))),)),
          Org("acme", ("health",), (("vital", Grant(Period(T("wbni")))),))),
    members=(Member("dtc", "food-bv", Grant(Period(T("pulse", 365 * DAY)))),
             Member("zcert", "food-bv", Grant(Period(T("csirt"), T("amend", -1))))),
    advisories=(
        Advisory("NCSC-2020-0042", (Version(tlp="AMBER", label="AMBER", personal_data=True,
                                            concerns=("food-bv",), initial=T("pulse", -DAY),
                                            current=T("pulse", -DAY)),)),
        Advisory("NCSC-2023-0001", (Version(tlp="AMBER+STRICT", label="AMBER",
                                            flag="AMBER+STRICT", impact=True,
                                            concerns=("food-bv",), initial=T("amend", DAY),
                                            current=T("amend", DAY)),), shares=("food-bv",)),
        Advisory("NCSC-2023-0002", (Version(tlp="RED", label="RED", concerns=("acme",),
                                            signature=True),), shares=("zcert",)),
    ),
    at=(("legal", 2, 0), ("legal", 3, -1), ("legal", 3, 0)))

# Boundaries at the exact second: the amendment, a role ending at the end of a day
# (--until with a date alone), an embargo ending, a version not yet in force now.
BOUNDARIES = World(
    orgs=(Org("dtc", (), (("oktt", Grant(Period(T("wbni"), T("amend", -DAY, "date")),
                                           before="redate")),)),
          Org("acme", ("energy",), (("other", Grant(Period(T("amend")))),)),
          Org("ibd", ("municipalities",), (("csirt", Grant(before="remove")),))),
    members=(Member("dtc", "acme", Grant(Period(T("amend", -30 * DAY)))),),
    advisories=(
        Advisory("NCSC-2022-0100", (
            Version(tlp="GREEN", label="GREEN", concerns=("acme",), initial=T("amend", -DAY),
                    current=T("amend", -DAY), embargo=T("amend", 0)),
            Version(tlp="AMBER", label="GREEN", flag="AMBER", concerns=("acme",),
                    personal_data=True, initial=T("amend", -DAY), current=T("now", 3600),
                    date_fmt="+02:00"))),
        Advisory("Ac.Me/7", (Version(tlp="CLEAR", label="WHITE", initial=T("now", -3600),
                                     current=T("now", -300), date_fmt="-05:00"),),
                 withdraw=True),
        Advisory("RHSA-2024:0009", (Version(tlp="CLEAR", label=None, flag="WHITE",
                                            initial=T("amend", 365 * DAY), pad=140000,
                                            current=T("now", -300)),), via_publish=True),
    ),
    at=(("legal", 3, -1), ("legal", 3, 0), ("world", 4, 0), ("world", 9, -1)))

REGRESSIONS = [
    pytest.param(PULSE, id="pulse-secure"),
    pytest.param(BOUNDARIES, id="boundaries"),
]


@pytest.mark.skipif(not HAVE_FUSE, reason="no /dev/fuse or fusermount3")
@pytest.mark.parametrize("world", REGRESSIONS)
def test_regression(world):
    check_world(world)


def test_model_pulse_secure():
    """The model itself, on the case of CONTEXT.md (no advisoryfs involved): in
    October 2020 only the CSIRT covering the company could receive the AMBER
    advisory with leaked passwords; from 2022-12-01 the DTC could too."""
    v = RVersion("1", "AMBER", "final", True, False, frozenset({"food-bv"}), frozenset(),
                 None, ts("2020-10-14"), ts("2020-10-14"), b"{}", None)
    adv = RAdv("NCSC-2020-0042", "ncsc-2020-0042.json", [v])
    w = RWorld(now=0, sectors={"food-bv": {"food"}, "dtc": set(), "zcert": {"health"}},
               roles={"food-bv": {"other": (NEG, POS)}, "dtc": {"oktt": (ts("2021-09-13"), POS)},
                      "zcert": {"csirt": (CSIRT_REG, POS)}},
               members={("dtc", "food-bv"): (ts("2021-09-13"), POS),
                        ("zcert", "food-bv"): (CSIRT_REG, POS)},
               advs=[adv])

    def who(t):
        return sorted(r for r in ["food-bv", "dtc", "zcert", None]
                      if decide(Facts(w, r, adv, v, t))[0])
    assert who(ts("2020-10-15")) == ["zcert"]
    assert who(OLD_TEXT_END) == ["zcert"]
    assert who(AMENDMENT) == ["dtc", "zcert"]
    assert decide(Facts(w, "dtc", adv, v, OLD_TEXT_END)) == \
        (False, ["forbid-personal-data-without-basis"])
