"""Distribution with real clients: rsync (daemon and SSH), gpg, a JSON-schema
validator, the CSAF conformance checker, tiered NCSC -> OKTT -> member
distribution, and `meson install`.

Each test builds its stores with the real command line, mounts them in the
foreground (polling for the mount, unmounting in cleanup, failing on any
daemon stderr) and drives the real programs: rsync --daemon and sshd on
127.0.0.1 with free ports, gpg with a private home, scripts/distribute and
scripts/check-csaf-tree.  Skipped without /dev/fuse; the SSH test is skipped
when sshd is not installed or does not start.
"""

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from helpers import (BIN, ROOT, csaf_dir, demo_store, make_doc, ok, provider_validator, run,
                     write_doc)

FUSERMOUNT = shutil.which("fusermount3")
SCHEMA_DIR = csaf_dir() / "schema"  # ../shared, else the copies in tests/data
DISTRIBUTE = ROOT / "scripts" / "distribute"
CHECKER = ROOT / "scripts" / "check-csaf-tree"
TLPS = ("white", "green", "amber", "red")
BASE = "https://csaf.ncsc.test/trees"

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
    pytest.mark.skipif(FUSERMOUNT is None, reason="no fusermount3"),
    pytest.mark.skipif(shutil.which("rsync") is None, reason="no rsync"),
]


# ---- helpers ---------------------------------------------------------------------------

def wait_for(pred, timeout, step=0.01):
    """Poll pred until true or timeout.  EIO counts as 'not yet': a read of a
    generated file that overlaps the mount's switch to a new snapshot fails
    rather than mix old and new content (docs/DESIGN.md)."""
    end = time.monotonic() + timeout
    while True:
        try:
            v = pred()
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            v = False
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


def tree(root):
    """Every file below root, relative, sorted (the form of `advisoryfs visible`)."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        out += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(out)


def visible(store, slug):
    return sorted(ok("visible", slug, store=store).stdout.split())


def docs_of(paths):
    """The advisories among a tree's paths."""
    return sorted(p for p in paths if re.fullmatch(r"(white|green|amber|red)/\d{4}/[^/]+\.json", p))


def same_tree(a, b):
    """Trees a and b hold the same files with the same bytes and mtimes."""
    ta, tb = tree(a), tree(b)
    assert ta == tb
    for rel in ta:
        assert (Path(a) / rel).read_bytes() == (Path(b) / rel).read_bytes(), rel
        assert int(os.stat(Path(a) / rel).st_mtime) == int(os.stat(Path(b) / rel).st_mtime), rel


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    def up():
        if proc.poll() is not None:
            return True
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False
    wait_for(up, timeout, 0.02)
    return proc.poll() is None


def sh(*cmd, check=True, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)
    if check:
        assert p.returncode == 0, (cmd, p.returncode, p.stdout, p.stderr)
    return p


class Mount:
    """A foreground advisoryfs mount; unmount() checks the daemon's exit and stderr."""

    def __init__(self, store, mnt, *extra):
        self.mnt = Path(mnt)
        self.mnt.mkdir(parents=True, exist_ok=True)
        self.err = open(self.mnt.parent / f"{self.mnt.name}.stderr", "w+")
        self.proc = subprocess.Popen([BIN, "-s", str(store), "mount", str(self.mnt), "-f",
                                      *extra], stdout=subprocess.DEVNULL, stderr=self.err)
        self.done = False
        wait_for(lambda: os.path.ismount(self.mnt) or self.proc.poll() is not None, 10)
        if not os.path.ismount(self.mnt):
            self.unmount(check=False)
            raise AssertionError(f"mount failed: {self.stderr()}")

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def unmount(self, check=True):
        if self.done:
            return
        self.done = True
        if os.path.ismount(self.mnt) and subprocess.run(
                [FUSERMOUNT, "-u", str(self.mnt)], capture_output=True).returncode != 0:
            subprocess.run([FUSERMOUNT, "-uz", str(self.mnt)], capture_output=True)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the daemon did not exit after unmounting")
        err = self.stderr()
        self.err.close()
        if check:
            assert rc == 0 and err == "", f"daemon exited {rc}: {err}"


class Daemons:
    """Mounts, rsync daemons and sshds of a test, all ended in cleanup."""

    def __init__(self):
        self.mounts, self.procs = [], []

    def mount(self, *a):
        m = Mount(*a)
        self.mounts.append(m)
        return m

    def rsyncd(self, tmp, modules):
        """rsync --daemon on 127.0.0.1 serving the rsyncd.conf text modules."""
        port = free_port()
        conf = tmp / f"rsyncd-{port}.conf"
        conf.write_text(f"port = {port}\naddress = 127.0.0.1\npid file = {tmp}/rsyncd-{port}.pid\n"
                        f"uid = {os.getuid()}\ngid = {os.getgid()}\n"
                        f"log file = {tmp}/rsyncd-{port}.log\n" + modules)
        p = subprocess.Popen(["rsync", "--daemon", "--no-detach", f"--config={conf}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(p)
        if not wait_port(port, p):
            raise AssertionError(f"rsync --daemon did not start: {p.stderr.read()}")
        return f"rsync://127.0.0.1:{port}"

    def start(self, cmd, port):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(p)
        return p if wait_port(port, p) else None

    def close(self):
        failures = []
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for m in self.mounts:
            try:
                m.unmount()
            except AssertionError as e:
                failures.append(str(e))
        assert not failures, failures


@pytest.fixture
def daemons():
    d = Daemons()
    yield d
    d.close()


# ---- the NCSC's store ------------------------------------------------------------------

class Ncsc:
    """A store with a signing key, a configured provider, a schakelorganisatie
    (dtc) with two members, a CSIRT, and advisories of every TLP, with and
    without personal data, some tightened by --tlp beyond their CSAF label."""

    DOCS = [
        # id, CSAF label, publish flags, (effective TLP, personal data, sectors)
        ("NCSC-2024-0001", "WHITE", []),
        ("NCSC-2024-0002", "GREEN", ["--concerns", "beta"]),
        ("NCSC-2024-0003", "WHITE", ["--tlp", "GREEN", "--concerns", "acme"]),
        ("NCSC-2024-0004", "AMBER", ["--concerns", "beta", "--sectors", "food"]),
        ("NCSC-2024-0005", "AMBER", ["--concerns", "beta"]),
        ("NCSC-2024-0006", "AMBER", ["--concerns", "beta", "--personal-data"]),
        ("NCSC-2024-0007", "AMBER", ["--tlp", "AMBER+STRICT", "--concerns", "dtc,beta"]),
        ("NCSC-2024-0008", "RED", ["--concerns", "dtc,beta"]),
        ("NCSC-2024-0009", "AMBER", ["--tlp", "RED", "--concerns", "dtc,acme"]),
        ("NCSC-2024-0010", "GREEN", ["--concerns", "hospital", "--sectors", "health"]),
        ("NCSC-2024-0011", "AMBER", ["--concerns", "acme", "--sectors", "food"]),
    ]

    def __init__(self, tmp):
        self.dir = tmp
        self.store = tmp / "ncsc.db"
        self.src = {}
        s = self.store
        ok("init", store=s)
        ok("key", "generate", "--key", tmp / "ncsc.key", "--uid", "NCSC test <cert@ncsc.test>",
           store=s)
        ok("provider", "set", "--base-url", BASE + "/", "--publisher-name", "NCSC test",
           "--namespace", "https://ncsc.test", "--category", "coordinator",
           "--contact", "cert@ncsc.test", store=s)
        for slug, name, sector in (("dtc", "DTC", "digital-infrastructure"),
                                   ("acme", "Acme Foods", "food"), ("beta", "Beta Foods", "food"),
                                   ("zcert", "Z-CERT", "health"),
                                   ("hospital", "Hospital", "health")):
            ok("org", "add", slug, "--name", name, "--sector", sector, store=s)
        ok("org", "role", "dtc", "oktt", "--from", "2021-09-13", "--ref", "OKTT status", store=s)
        ok("org", "role", "zcert", "csirt", "--from", "2020-01-14", store=s)
        for m in ("acme", "beta"):
            ok("org", "role", m, "other", "--from", "2020-01-01", store=s)
            ok("org", "member", "dtc", m, "--from", "2021-09-13", store=s)
        ok("org", "role", "hospital", "other", "--from", "2020-01-01", store=s)
        ok("org", "member", "zcert", "hospital", "--from", "2020-01-14", store=s)
        for i, (tid, label, flags) in enumerate(self.DOCS):
            self.publish(tid, label, flags, initial=f"2024-03-{i + 1:02d}T10:00:00Z")

    def publish(self, tid, label, flags, initial, version="1.0.0", current=None, pad=0):
        f = write_doc(self.dir / "src" / f"{tid}-{version}.json",
                      make_doc(tid, version=version, tlp=label, initial=initial, current=current,
                               title=f"Advisory {tid}", pad=pad))
        ok("publish", f, *flags, store=self.store)
        self.src[tid] = f
        return f


@pytest.fixture
def ncsc(tmp_path):
    return Ncsc(tmp_path)


def follow(mnt, store, slug, timeout=3):
    """Wait until the mounted tree of slug equals `visible slug`."""
    want = visible(store, slug)
    assert wait_for(lambda: tree(mnt) == want, timeout), (tree(mnt), want)


# ---- provider-metadata.json and openpgp/ -----------------------------------------------

def test_provider_metadata(ncsc, daemons, tmp_path):
    m = daemons.mount(ncsc.store, tmp_path / "mnt")
    v = provider_validator()
    fpr = ok("key", "show", store=ncsc.store).stdout.split("fingerprint:")[1].split()[0]
    newest = {}
    for slug in ("public", "dtc", "acme", "beta", "zcert", "hospital"):
        root = m.mnt / slug
        assert tree(root) == visible(ncsc.store, slug), slug
        raw = (root / "provider-metadata.json").read_bytes()
        assert os.stat(root / "provider-metadata.json").st_size == len(raw)
        pm = json.loads(raw)
        errors = sorted(e.message for e in v.iter_errors(pm))
        assert not errors, (slug, errors)
        assert pm["canonical_url"] == f"{BASE}/{slug}/provider-metadata.json"
        assert pm["role"] == "csaf_trusted_provider"
        assert pm["publisher"] == {"category": "coordinator", "name": "NCSC test",
                                   "namespace": "https://ncsc.test",
                                   "contact_details": "cert@ncsc.test"}
        folders = [d for d in TLPS if (root / d).is_dir()]
        assert [d["directory_url"] for d in pm["distributions"]] == \
            [f"{BASE}/{slug}/{d}/" for d in folders]
        assert pm["public_openpgp_keys"] == [
            {"fingerprint": fpr, "url": f"{BASE}/{slug}/openpgp/{fpr}.asc"}]
        assert os.listdir(root / "openpgp") == [f"{fpr}.asc"]
        assert (root / "openpgp" / f"{fpr}.asc").read_text() == \
            ok("key", "export", store=ncsc.store).stdout
        # last_updated: the newest document of the view
        times = [json.loads((root / p).read_bytes())["document"]["tracking"]
                 ["current_release_date"] for p in docs_of(tree(root))]
        assert pm["last_updated"] == max(times)
        assert pm["list_on_CSAF_aggregators"] is (slug == "public")
        newest[slug] = pm["last_updated"]
    # only what the recipient may see: the public's metadata names no other folder
    assert [d["directory_url"] for d in
            json.loads((m.mnt / "public" / "provider-metadata.json").read_text())
            ["distributions"]] == [f"{BASE}/public/white/"]

    # a change of the provider values shows in the running mount
    ok("provider", "set", "--base-url", "https://mirror.test/csaf", "--contact", "",
       store=ncsc.store)
    pmf = m.mnt / "dtc" / "provider-metadata.json"
    assert wait_for(lambda: "mirror.test" in pmf.read_text(), 3)
    pm = json.loads(pmf.read_text())
    assert pm["canonical_url"] == "https://mirror.test/csaf/dtc/provider-metadata.json"
    assert "contact_details" not in pm["publisher"]
    assert not list(v.iter_errors(pm))
    # without a key: no openpgp/, no public_openpgp_keys
    ok("key", "forget", store=ncsc.store)
    assert wait_for(lambda: not (m.mnt / "dtc" / "openpgp").exists(), 3)
    assert "public_openpgp_keys" not in json.loads(pmf.read_text())
    assert tree(m.mnt / "dtc") == visible(ncsc.store, "dtc")
    # the defaults, valid too
    ok("provider", "reset", store=ncsc.store)
    assert wait_for(lambda: "advisories.invalid" in pmf.read_text(), 3)
    assert not list(v.iter_errors(json.loads(pmf.read_text())))


def test_provider_command_errors(ncsc):
    for args, msg in ((["--base-url", "ftp://x"], "not an absolute http(s) URL"),
                      (["--base-url", "https://a b"], "not an absolute http(s) URL"),
                      (["--namespace", "x"], "not an absolute http(s) URL"),
                      (["--category", "bogus"], "not a CSAF publisher category"),
                      (["--publisher-name", ""], "must not be empty"),
                      (["--publisher-name", "a\x01b"], "without control characters")):
        p = run("provider", "set", *args, store=ncsc.store)
        assert p.returncode == 1 and msg in p.stderr, (args, p.stderr)
    assert run("provider", "set", store=ncsc.store).returncode == 2
    assert run("provider", "show", "nobody", store=ncsc.store).returncode == 1
    shown = ok("provider", "show", "--json", store=ncsc.store).stdout
    assert json.loads(shown)["base-url"] == BASE
    assert json.loads(ok("provider", "show", "dtc", store=ncsc.store).stdout)["canonical_url"] \
        == f"{BASE}/dtc/provider-metadata.json"


# ---- signatures ------------------------------------------------------------------------

def gpg_home(tmp, keyfile):
    home = tmp / "gnupg"
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home), LC_ALL="C")
    sh("gpg", "--batch", "--import", keyfile, env=env)
    return env


@pytest.mark.skipif(shutil.which("gpg") is None, reason="no gpg")
def test_signatures_verify_with_gpg(ncsc, daemons, tmp_path):
    m = daemons.mount(ncsc.store, tmp_path / "mnt")
    root = m.mnt / "dtc"
    (key,) = (root / "openpgp").iterdir()
    env = gpg_home(tmp_path, key)
    sigs = [p for p in tree(root) if p.endswith(".json.asc")]
    assert len(sigs) == len(docs_of(tree(root))) >= 8
    for rel in sigs:
        p = sh("gpg", "--batch", "--status-fd", "1", "--verify", root / rel, root / rel[:-4],
               env=env)
        assert "[GNUPG:] VALIDSIG " + key.name[:-4] in p.stdout, rel
    # a copy with one byte changed does not verify
    doc = docs_of(tree(root))[0]
    copy = tmp_path / "copy.json"
    data = bytearray((root / doc).read_bytes())
    copy.write_bytes(data)
    sh("gpg", "--batch", "--verify", root / (doc + ".asc"), copy, env=env)
    i = data.index(b"Advisory")
    data[i] ^= 0x20
    copy.write_bytes(data)
    p = sh("gpg", "--batch", "--verify", root / (doc + ".asc"), copy, env=env, check=False)
    assert p.returncode != 0 and "BAD signature" in p.stderr


# ---- rsync -----------------------------------------------------------------------------

def change_the_world(ncsc):
    """A withdrawal, a membership ending and a new version; returns the
    dtc paths that must be gone and the replaced document's path."""
    s = ncsc.store
    before = visible(s, "dtc")
    ok("withdraw", "NCSC-2024-0005", "--reason", "wrong", store=s)
    # acme leaves the DTC's constituency: what concerns only acme goes
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    ok("org", "member", "dtc", "acme", "--until", yesterday, store=s)
    ncsc.publish("NCSC-2024-0002", "GREEN", ["--concerns", "beta"],
                 initial="2024-03-02T10:00:00Z", version="2.0.0",
                 current="2024-06-01T10:00:00Z", pad=500)
    after = visible(s, "dtc")
    gone = sorted(set(before) - set(after))
    assert "amber/2024/ncsc-2024-0005.json" in gone          # withdrawn
    assert "green/2024/ncsc-2024-0003.json" in gone          # membership ended
    assert "green/2024/ncsc-2024-0002.json" in after
    return gone, "green/2024/ncsc-2024-0002.json"


def test_rsync_daemon(ncsc, daemons, tmp_path):
    m = daemons.mount(ncsc.store, tmp_path / "mnt")
    conf = sh(DISTRIBUTE, "rsyncd-conf", "--mount", m.mnt).stdout
    assert "[dtc]" in conf and f"path = {m.mnt}/dtc" in conf and "read only = yes" in conf
    url = daemons.rsyncd(tmp_path, conf)
    dst = tmp_path / "copy"
    sh("rsync", "-a", "--delete", f"{url}/dtc/", dst)
    same_tree(m.mnt / "dtc", dst)
    assert tree(dst) == visible(ncsc.store, "dtc")
    old = (dst / "green/2024/ncsc-2024-0002.json").read_bytes()

    gone, replaced = change_the_world(ncsc)
    follow(m.mnt / "dtc", ncsc.store, "dtc")
    p = sh("rsync", "-a", "--delete", "--itemize-changes", f"{url}/dtc/", dst)
    same_tree(m.mnt / "dtc", dst)
    assert tree(dst) == visible(ncsc.store, "dtc")
    for rel in gone:
        assert not (dst / rel).exists()
        assert f"*deleting   {rel}" in p.stdout
    assert (dst / replaced).read_bytes() != old
    assert json.loads((dst / replaced).read_bytes())["document"]["tracking"]["version"] == "2.0.0"
    # a module per organisation: nothing of another one, nothing unlisted
    assert sh("rsync", f"{url}/", check=False).stdout.strip() == ""
    other = tmp_path / "other"
    sh("rsync", "-a", f"{url}/zcert/", other)
    assert tree(other) == visible(ncsc.store, "zcert")


def test_distribute_push_and_pull(ncsc, daemons, tmp_path):
    m = daemons.mount(ncsc.store, tmp_path / "mnt")
    out = tmp_path / "pushed"
    sh(DISTRIBUTE, "push", "--mount", m.mnt, "--to", out)
    assert sorted(os.listdir(out)) == sorted(os.listdir(m.mnt))
    for slug in os.listdir(m.mnt):
        same_tree(m.mnt / slug, out / slug)
    # {slug} in the destination; --only
    sh(DISTRIBUTE, "push", "--mount", m.mnt, "--only", "dtc,beta", "--to",
       str(tmp_path / "t") + "/{slug}-tree")
    assert sorted(os.listdir(tmp_path / "t")) == ["beta-tree", "dtc-tree"]
    # an --as mount is one recipient
    a = daemons.mount(ncsc.store, tmp_path / "as", "--as", "beta")
    sh(DISTRIBUTE, "push", "--mount", a.mnt, "--to", tmp_path / "as-out")
    same_tree(a.mnt, tmp_path / "as-out" / "beta")
    # pull one module, then every listed one
    conf = sh(DISTRIBUTE, "rsyncd-conf", "--mount", m.mnt).stdout.replace("list = no",
                                                                          "list = yes")
    url = daemons.rsyncd(tmp_path, conf)
    sh(DISTRIBUTE, "pull", "--from", f"{url}/dtc/", "--to", tmp_path / "one")
    same_tree(m.mnt / "dtc", tmp_path / "one")
    sh(DISTRIBUTE, "pull", "--from", f"{url}/", "--to", tmp_path / "all")
    assert sorted(os.listdir(tmp_path / "all")) == sorted(os.listdir(m.mnt))
    # changes arrive as deletions and replacements
    change_the_world(ncsc)
    follow(m.mnt / "dtc", ncsc.store, "dtc")
    sh(DISTRIBUTE, "pull", "--from", f"{url}/dtc/", "--to", tmp_path / "one")
    same_tree(m.mnt / "dtc", tmp_path / "one")
    # usage
    p = sh(DISTRIBUTE, "pull", "--to", tmp_path, check=False)
    assert p.returncode == 2 and "--from" in p.stderr
    assert sh(DISTRIBUTE, "--help").stdout.startswith("usage: distribute")
    assert sh(DISTRIBUTE, "frobnicate", check=False).returncode == 2


def sshd_or_skip(daemons, tmp_path, authorized):
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd) or not shutil.which("ssh"):
        pytest.skip("no sshd (Debian: openssh-server) or ssh")
    if os.getuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation
    d = tmp_path / "ssh"
    d.mkdir()
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d / "host")
    port = free_port()
    (d / "authorized_keys").write_text(authorized)
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\n"
        f"AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\nLogLevel ERROR\n")
    p = daemons.start([sshd, "-D", "-e", "-f", d / "sshd_config"], port)
    if p is None:
        pytest.skip("sshd did not start")
    return port


def test_rsync_over_ssh_forced_command(ncsc, daemons, tmp_path):
    m = daemons.mount(ncsc.store, tmp_path / "mnt")
    keys = {}
    for name in ("rrsync", "fixed"):
        k = tmp_path / f"id-{name}"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k)
        keys[name] = k
    rrsync = shutil.which("rrsync") or "/usr/bin/rrsync"
    if not os.path.exists(rrsync):
        pytest.skip("no rrsync")
    # the server side of `rsync -a --delete` of this rsync version
    probe = subprocess.run(["rsync", "-a", "--delete", "-e", "sh -c 'echo \"$@\" >&2' --",
                            "x:", str(tmp_path / "probe")], capture_output=True, text=True)
    server = probe.stderr.splitlines()[0].split(" ", 1)[1].rsplit(" ", 1)[0]
    assert server.startswith("rsync --server --sender ")
    # authorized_keys: one key per organisation, each forced to its own tree
    pub = {n: Path(str(k) + ".pub").read_text() for n, k in keys.items()}
    authorized = (f'command="{rrsync} -ro {m.mnt}/dtc",restrict {pub["rrsync"]}'
                  f'command="{server} {m.mnt}/beta/",restrict {pub["fixed"]}')
    port = sshd_or_skip(daemons, tmp_path, authorized)
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()

    def ssh_cmd(key):
        return (f"ssh -p {port} -i {key} -o BatchMode=yes -o IdentitiesOnly=yes "
                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")

    def pull(key, dst, src=""):
        return sh("rsync", "-a", "--delete", "-e", ssh_cmd(key), f"{user}@127.0.0.1:{src}", dst,
                  check=False)

    p = pull(keys["rrsync"], tmp_path / "dtc")
    assert p.returncode == 0, p.stderr
    same_tree(m.mnt / "dtc", tmp_path / "dtc")
    p = pull(keys["fixed"], tmp_path / "beta")
    assert p.returncode == 0, p.stderr
    same_tree(m.mnt / "beta", tmp_path / "beta")
    # after the changes, the copy follows: deletions and the new version
    gone, replaced = change_the_world(ncsc)
    follow(m.mnt / "dtc", ncsc.store, "dtc")
    assert pull(keys["rrsync"], tmp_path / "dtc").returncode == 0
    same_tree(m.mnt / "dtc", tmp_path / "dtc")
    assert not any((tmp_path / "dtc" / g).exists() for g in gone)
    # the key reaches its own tree only: no shell, no way out of the tree
    p = sh(*ssh_cmd(keys["rrsync"]).split(), f"{user}@127.0.0.1", "cat /etc/passwd",
           check=False)
    assert p.returncode != 0 and "root:" not in p.stdout
    p = pull(keys["rrsync"], tmp_path / "escape", "../beta/")
    assert p.returncode != 0 or not docs_of(tree(tmp_path / "escape"))
    # scripts/distribute pulls the same way
    d = sh(DISTRIBUTE, "pull", "--from", f"{user}@127.0.0.1:", "--to", tmp_path / "dist",
           env=dict(os.environ, RSYNC_RSH=ssh_cmd(keys["rrsync"])))
    same_tree(m.mnt / "dtc", tmp_path / "dist")
    assert d.stderr == ""


# ---- tiered distribution: NCSC -> OKTT -> member ---------------------------------------

ONWARD = ROOT / "policy" / "oktt-onward.json"


def oktt_store(tmp, name="oktt.db"):
    """The DTC's own store: its onward policy, two members (food sector)."""
    s = tmp / name
    ok("init", store=s)
    ok("policy", "load", ONWARD, store=s)
    ok("org", "add", "beta", "--name", "Beta Foods", "--sector", "food", store=s)
    ok("org", "add", "gamma", "--name", "Gamma Logistics", "--sector", "logistics", store=s)
    for m in ("beta", "gamma"):
        ok("org", "role", m, "member", "--from", "2021-09-13", store=s)
    return s


def test_tiered_ncsc_oktt_member(ncsc, daemons, tmp_path):
    """The DTC rsyncs its tree from the NCSC (with extended attributes),
    imports it into its own store and serves its members with its onward
    policy: a member sees exactly the NCSC documents the DTC may pass on,
    byte for byte, with the NCSC's signatures verifying."""
    m = daemons.mount(ncsc.store, tmp_path / "ncsc")
    conf = sh(DISTRIBUTE, "rsyncd-conf", "--mount", m.mnt, "--only", "dtc").stdout
    url = daemons.rsyncd(tmp_path, conf)
    received = tmp_path / "received"
    sh(DISTRIBUTE, "pull", "--from", f"{url}/dtc/", "--to", received, "--xattrs")
    same_tree(m.mnt / "dtc", received)
    ncsc_view = json.loads(ok("visible", "dtc", "--json", store=ncsc.store).stdout)
    tlp = {a["path"]: a["tlp"] for a in ncsc_view["advisories"]}
    assert {"AMBER", "AMBER+STRICT", "RED", "GREEN", "CLEAR"} <= set(tlp.values())
    for path, label in tlp.items():
        dist = json.loads(os.getxattr(received / path, "user.advisoryfs.dist"))
        assert dist["tlp"] == label

    s = oktt_store(tmp_path)
    # the DTC decides that beta needs NCSC-2024-0005 and its personal data (0006)
    p = sh(DISTRIBUTE, "import", "--from", received, "--store", s, "--bin", BIN, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    ok("share", "NCSC-2024-0005", "beta", "--reason", "need to know: their VPN", store=s)
    ok("share", "NCSC-2024-0006", "beta", "--reason", "need to know: their accounts", store=s)
    o = daemons.mount(s, tmp_path / "oktt")

    pd = {"amber/2024/ncsc-2024-0006.json"}
    food = {"amber/2024/ncsc-2024-0004.json", "amber/2024/ncsc-2024-0011.json"}
    shared = {"amber/2024/ncsc-2024-0005.json", "amber/2024/ncsc-2024-0006.json"}

    def may_pass(path, member):
        t = tlp[path]
        if t in ("AMBER+STRICT", "RED"):
            return False
        if path in pd and not (member == "beta" and path in shared):
            return False
        if t == "AMBER":
            return member == "beta" and (path in food or path in shared)
        return True

    for member in ("beta", "gamma"):
        root = o.mnt / member
        want = sorted(p for p in tlp if may_pass(p, member))
        assert docs_of(tree(root)) == want, member
        assert tree(root) == visible(s, member)
        for rel in want:
            # the NCSC's bytes, hashes and signature
            for suffix in ("", ".sha256", ".sha512", ".asc"):
                assert (root / (rel + suffix)).read_bytes() == \
                    (m.mnt / "dtc" / (rel + suffix)).read_bytes(), rel + suffix
    beta = docs_of(tree(o.mnt / "beta"))
    assert "amber/2024/ncsc-2024-0007.json" not in beta          # AMBER+STRICT
    assert not any(p.startswith("red/") for p in beta)          # RED, also tightened
    assert "amber/2024/ncsc-2024-0006.json" in beta             # personal data, decided

    if shutil.which("gpg"):
        (key,) = (received / "openpgp").iterdir()                # the NCSC's key
        env = gpg_home(tmp_path, key)
        for rel in beta:
            sh("gpg", "--batch", "--verify", o.mnt / "beta" / (rel + ".asc"),
               o.mnt / "beta" / rel, env=env)

    # a withdrawal at the NCSC reaches the member as a deletion
    ok("withdraw", "NCSC-2024-0004", store=ncsc.store)
    follow(m.mnt / "dtc", ncsc.store, "dtc")
    sh(DISTRIBUTE, "pull", "--from", f"{url}/dtc/", "--to", received, "--xattrs")
    p = sh(DISTRIBUTE, "import", "--from", received, "--store", s, "--bin", BIN)
    assert "withdrawn  ncsc-2024-0004.json" in p.stdout
    gone = o.mnt / "beta" / "amber/2024/ncsc-2024-0004.json"
    assert wait_for(lambda: not gone.exists(), 3)
    assert tree(o.mnt / "beta") == visible(s, "beta")

    # fail-closed: received without extended attributes, amber/ is AMBER+STRICT
    # and everything carries personal data: nothing of amber/ goes on
    plain = tmp_path / "plain"
    sh("rsync", "-a", "--delete", f"{url}/dtc/", plain)
    s2 = oktt_store(tmp_path, "oktt2.db")
    p = sh(DISTRIBUTE, "import", "--from", plain, "--store", s2, "--bin", BIN)
    assert "had no user.advisoryfs.dist" in p.stderr
    ok("share", "NCSC-2024-0005", "beta", "--reason", "need to know", store=s2)
    ok("share", "NCSC-2024-0002", "beta", "--reason", "need to know", store=s2)
    # only the GREEN document the DTC decided on (personal data is assumed)
    assert docs_of(visible(s2, "beta")) == ["green/2024/ncsc-2024-0002.json"]
    assert docs_of(visible(s2, "gamma")) == []


# ---- the conformance checker -----------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_store(tmp_path_factory.mktemp("demo") / "demo.db")


def test_checker_passes_every_demo_view(demo, daemons, tmp_path):
    m = daemons.mount(demo, tmp_path / "mnt")
    views = sorted(m.mnt.iterdir())
    assert len(views) > 20
    p = sh(CHECKER, "--quiet", "--base-url", "https://advisories.invalid/csaf", *views,
           check=False)
    assert p.returncode == 0 and p.stdout == "", p.stdout
    # and the provider metadata of every view validates against the schema
    v = provider_validator()
    for root in views:
        pm = json.loads((root / "provider-metadata.json").read_bytes())
        assert not list(v.iter_errors(pm)), root


def test_checker_finds_problems(ncsc, daemons, tmp_path):
    m = daemons.mount(ncsc.store, tmp_path / "mnt")
    good = tmp_path / "good"
    sh("rsync", "-a", f"{m.mnt}/dtc/", good)
    p = sh(CHECKER, "--gpg", good)
    assert p.stdout.startswith(f"{good}: ok: ")

    def broken(name, damage):
        t = tmp_path / name
        shutil.copytree(good, t)
        for d, _, _ in os.walk(t):
            os.chmod(d, 0o755)
        damage(t)
        r = sh(CHECKER, "--gpg", t, check=False)
        assert r.returncode == 1, (name, r.stdout)
        return r.stdout

    def edit(path, fn):
        os.chmod(path, 0o644)
        path.write_bytes(fn(path.read_bytes()))

    doc = "green/2024/ncsc-2024-0002.json"
    out = broken("hash", lambda t: edit(t / doc, lambda b: b.replace(b"Advisory", b"advisory")))
    assert "sha256 does not match" in out and "gpg --verify fails" in out
    out = broken("index", lambda t: edit(t / "green/index.txt", lambda b: b + b"2024/x.json\n"))
    assert "lists '2024/x.json'" in out
    out = broken("order", lambda t: edit(t / "amber/changes.csv",
                                         lambda b: b"".join(reversed(b.splitlines(True)))))
    assert "not newest first" in out
    out = broken("quotes", lambda t: edit(t / "green/changes.csv",
                                          lambda b: b.replace(b'"', b"", 2)))
    assert "each in double quotes" in out
    out = broken("name", lambda t: os.rename(t / doc, t / "green/2024/other.json"))
    assert "file name is not ncsc-2024-0002.json" in out
    out = broken("year", lambda t: shutil.move(t / "green/2024", t / "green/2023"))
    assert "initial_release_date is in 2024" in out
    out = broken("provider", lambda t: (t / "provider-metadata.json").unlink())
    assert "provider-metadata.json: missing" in out
    out = broken("dist", lambda t: shutil.rmtree(t / "red"))
    assert "no folder red/" in out
    out = broken("stray", lambda t: (t / "green" / "notes.txt").write_text("x"))
    assert "not part of a TLP folder" in out


# ---- packaging -------------------------------------------------------------------------

def test_meson_install(tmp_path):
    build = Path(BIN).resolve().parents[1]
    if not (build / "meson-info").is_dir() or not shutil.which("meson"):
        pytest.skip("not run from a meson build directory")
    dest = tmp_path / "dest"
    p = subprocess.run(["meson", "install", "-C", str(build), "--no-rebuild", "--destdir",
                        str(dest)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    info = json.loads((build / "meson-info" / "intro-buildoptions.json").read_text())
    prefix = next(o["value"] for o in info if o["name"] == "prefix").lstrip("/")
    files = set(tree(dest))
    want = {f"{prefix}/bin/advisoryfs",
            f"{prefix}/share/advisoryfs/wbni-default.json",
            f"{prefix}/share/advisoryfs/oktt-onward.json",
            f"{prefix}/share/man/man1/advisoryfs.1",
            f"{prefix}/share/man/man5/advisoryfs-policy.5",
            f"{prefix}/lib/systemd/system/advisoryfs@.service"}
    assert want <= files, sorted(want - files)
    unit = (dest / prefix / "lib/systemd/system/advisoryfs@.service").read_text()
    assert f"ExecStart=/{prefix}/bin/advisoryfs " in unit
    page = dest / prefix / "share/man/man1/advisoryfs.1"
    man = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                         env=dict(os.environ, MANWIDTH="80"))
    if man.returncode == 0:
        assert "provider" in man.stdout and man.stderr == "", man.stderr
