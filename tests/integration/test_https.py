"""The CSAF trusted provider over HTTPS (docs/HTTPS.md): TLS client
certificates bound to organisations (`org cert`), and Debian's nginx in front
of a real mount, each certificate choosing its organisation's tree.

Certificates and the CA are made with openssl in the test.  nginx runs on
127.0.0.1 on a free port with its own prefix and configuration in a temporary
directory and is stopped in cleanup; every mount is unmounted in cleanup.
Everything is checked with curl.  The nginx tests skip without /dev/fuse,
nginx, curl or root (the nginx workers run as a local account made for the
test, bound to the organisations by group as docs/HTTPS.md says).
"""

import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from helpers import BIN, DATA, make_doc, ok, provider_validator, run, wait_for, write_doc
from tenantlib import accounts, mounts, needs_accounts, needs_fuse  # noqa: F401

OPENSSL = "openssl"


# ---- certificates made with openssl --------------------------------------------------------

class CA:
    """A CA with its key, signing client and server certificates, and a CRL."""

    def __init__(self, d):
        self.d = Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        self.key, self.pem = self.d / "ca.key", self.d / "ca.pem"
        self._ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", self.key, "-out", self.pem, "-days", "30",
                  "-subj", "/O=advisoryfs test/CN=Test client CA",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        # the minimal `openssl ca` database, for revocation and the CRL
        (self.d / "index.txt").write_text("")
        (self.d / "crlnumber").write_text("01\n")
        (self.d / "ca.cnf").write_text(
            "[ca]\ndefault_ca = test\n[test]\n"
            f"database = {self.d}/index.txt\ncrlnumber = {self.d}/crlnumber\n"
            f"certificate = {self.pem}\nprivate_key = {self.key}\n"
            "default_md = sha256\ndefault_crl_days = 30\n")
        self.serial = 0x1000

    def _ssl(self, *args):
        subprocess.run([OPENSSL, *map(str, args)], check=True, capture_output=True)

    def issue(self, name, cn, server=False, days=10):
        """A certificate (and its key) for cn, signed by this CA; returns
        (pem path, key path)."""
        key, csr, pem = (self.d / f"{name}.key", self.d / f"{name}.csr",
                         self.d / f"{name}.pem")
        self._ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", f"/O={cn} org/CN={cn}")
        ext = self.d / f"{name}.ext"
        ext.write_text("basicConstraints=CA:FALSE\n" + (
            f"subjectAltName=DNS:{cn},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n" if server
            else "extendedKeyUsage=clientAuth\n"))
        self.serial += 1
        self._ssl("x509", "-req", "-in", csr, "-CA", self.pem, "-CAkey", self.key,
                  "-set_serial", self.serial, "-out", pem, "-days", days, "-extfile", ext)
        # `openssl ca -revoke` needs the certificate in its database
        return pem, key

    def crl(self, revoked=()):
        """Write the CRL revoking the given certificates; returns its path."""
        (self.d / "index.txt").write_text("")
        for pem in revoked:
            self._ssl("ca", "-config", self.d / "ca.cnf", "-revoke", pem)
        out = self.d / "crl.pem"
        self._ssl("ca", "-config", self.d / "ca.cnf", "-gencrl", "-out", out)
        return out


def fingerprint(pem, md="sha256"):
    out = subprocess.run([OPENSSL, "x509", "-in", str(pem), "-noout", "-fingerprint", f"-{md}"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1].replace(":", "").lower()


@pytest.fixture
def ca(tmp_path):
    return CA(tmp_path / "ca")


def make_store(tmp_path, slugs=("acme", "beta", "gamma")):
    store = tmp_path / "s.db"
    ok("init", store=store)
    for s in slugs:
        ok("org", "add", s, "--name", s.upper(), store=store)
    return store


def org_certs(store):
    """{slug: [certificate objects]} from `org list --json`."""
    return {o["slug"]: o["certificates"]
            for o in json.loads(ok("org", "list", "--json", store=store).stdout)}


# ---- org cert ------------------------------------------------------------------------------

def test_cert_add_list_remove(tmp_path, ca):
    store = make_store(tmp_path)
    pem, _ = ca.issue("acme1", "acme-client")
    p = ok("org", "cert", "acme", "--add", pem, store=store)
    sha256, sha1 = fingerprint(pem), fingerprint(pem, "sha1")
    assert sha256 in p.stdout
    certs = org_certs(store)
    assert certs["beta"] == [] and certs["gamma"] == []
    [c] = certs["acme"]
    assert c["sha256"] == sha256 and c["sha1"] == sha1
    assert c["subject"] == "CN=acme-client,O=acme-client org"
    dates = subprocess.run([OPENSSL, "x509", "-in", str(pem), "-noout", "-dates"],
                           check=True, capture_output=True, text=True).stdout
    assert c["not_before"] < c["not_after"]
    for field in ("notBefore", "notAfter"):
        when = dates.split(field + "=")[1].splitlines()[0]
        t = datetime.datetime.strptime(when, "%b %d %H:%M:%S %Y GMT")
        assert c["not_before" if field == "notBefore" else "not_after"] == \
            t.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = ok("org", "list", store=store).stdout
    assert f"cert SHA256:{sha256}" in text and "CN=acme-client" in text
    # adding it again to the same organisation changes nothing
    ok("org", "cert", "acme", "--add", pem, store=store)
    assert len(org_certs(store)["acme"]) == 1
    # removing by fingerprint, with colons and the SHA256: prefix, or by file
    colons = ":".join(sha256[i:i + 2] for i in range(0, 64, 2)).upper()
    ok("org", "cert", "acme", "--remove", "SHA256:" + colons, store=store)
    assert org_certs(store)["acme"] == []
    ok("org", "cert", "acme", "--add", pem, store=store)
    ok("org", "cert", "acme", "--remove", pem, store=store)
    assert org_certs(store)["acme"] == []
    p = run("org", "cert", "acme", "--remove", sha256, store=store)
    assert p.returncode == 1
    assert p.stderr == f"advisoryfs: org cert: 'acme' has no certificate SHA256:{sha256}\n"


def test_cert_bound_to_two_organisations_refused(tmp_path, ca):
    store = make_store(tmp_path)
    pem, _ = ca.issue("shared", "shared-client")
    ok("org", "cert", "acme", "--add", pem, store=store)
    p = run("org", "cert", "beta", "--add", pem, store=store)
    assert p.returncode == 1
    assert p.stderr.startswith(f"advisoryfs: org cert: certificate SHA256:{fingerprint(pem)} "
                               "is already bound to 'acme'"), p.stderr
    assert len(p.stderr.splitlines()) == 1
    certs = org_certs(store)
    assert len(certs["acme"]) == 1 and certs["beta"] == []
    # removing it from another organisation does not touch acme's binding
    assert run("org", "cert", "beta", "--remove", pem, store=store).returncode == 1
    assert len(org_certs(store)["acme"]) == 1
    # once removed there, beta may have it
    ok("org", "cert", "acme", "--remove", pem, store=store)
    ok("org", "cert", "beta", "--add", pem, store=store)
    assert org_certs(store)["acme"] == [] and len(org_certs(store)["beta"]) == 1


def test_cert_refusals(tmp_path, ca):
    store = make_store(tmp_path)
    pem, key = ca.issue("c", "client")
    cases = [
        (["org", "cert", "nobody", "--add", pem], 1, "advisoryfs: org cert: no organisation 'nobody'\n"),
        (["org", "cert", "acme", "--add", ca.pem], 1,
         f"advisoryfs: org cert: {ca.pem}: a CA certificate, not a client's\n"),
        (["org", "cert", "acme", "--add", key], 1,
         f"advisoryfs: org cert: {key}: not a PEM certificate\n"),
        (["org", "cert", "acme", "--add", tmp_path / "missing.pem"], 1, None),
        (["org", "cert", "acme"], 2, None),
        (["org", "cert", "acme", "--add", pem, "--remove", pem], 2, None),
        (["org", "cert", "--add", pem], 2, None),
    ]
    both = tmp_path / "two.pem"
    both.write_bytes(pem.read_bytes() + ca.pem.read_bytes())
    cases.append((["org", "cert", "acme", "--add", both], 1,
                  f"advisoryfs: org cert: {both}: more than one certificate "
                  "(give the client's own only)\n"))
    for args, rc, err in cases:
        p = run(*args, store=store)
        assert p.returncode == rc, (args, p.stderr)
        if err is not None:
            assert p.stderr == err, (args, p.stderr)
        assert p.stdout == ""
    assert all(v == [] for v in org_certs(store).values())
    assert "org cert SLUG --add FILE.pem" in ok("org", "--help").stdout


# ---- nginx in front of the mount -----------------------------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
CURL = shutil.which("curl")
GPG = shutil.which("gpg")
needs_nginx = needs_fuse + needs_accounts + [
    pytest.mark.skipif(NGINX is None, reason="no nginx"),
    pytest.mark.skipif(CURL is None, reason="no curl"),
]
LIVE_LIMIT = 1.0  # SPEC.md section 3: a change reaches every reader within a second
HOST = "csaf.test"
WHO = ("acme", "beta", "gamma")


def free_port():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def visible(store, slug):
    return set(ok("visible", slug, store=store).stdout.split())


class Site:
    """A store with three organisations, a mount, Debian's nginx in front of it
    with the configuration `provider nginx-conf` printed, and `provider nginx-map
    --watch` keeping the certificate map; the nginx workers run as a local
    account bound to every organisation by group (docs/HTTPS.md)."""

    # (tracking id, TLP, concerns): each organisation sees its own AMBER/RED
    # documents, the GREEN one concerning it and the public ones
    DOCS = (("T-2024-0001", "WHITE", None), ("T-2023-0002", "WHITE", None),
            ("T-2024-0003", "AMBER", "acme"), ("T-2024-0004", "RED", "acme"),
            ("T-2024-0005", "GREEN", "beta"), ("T-2023-0006", "AMBER", "beta"),
            ("T-2024-0007", "AMBER", "gamma"), ("T-2024-0008", "GREEN", "gamma"),
            ("T-2024-0009", "AMBER", "acme"))

    def __init__(self, tmp, ca, www, make_mount, crl=False):
        self.tmp, self.ca, self.www = tmp, ca, www
        self.store = tmp / "s.db"
        self.port = free_port()
        self.base = f"https://{HOST}:{self.port}"
        s = self.store
        ok("init", store=s)
        ok("key", "generate", "--key", tmp / "sign.key", "--uid", "NCSC test <cert@ncsc.test>",
           store=s)
        ok("provider", "set", "--base-url", self.base, "--publisher-name", "NCSC test",
           "--namespace", "https://ncsc.test", "--category", "coordinator", store=s)
        for slug in WHO:
            ok("org", "add", slug, "--name", slug.upper(), store=s)
            ok("org", "role", slug, "vital", "--from", "2020-01-01", store=s)
            ok("org", "bind", slug, "--gid", str(www.gid), store=s)
        for tid, tlp, concerns in self.DOCS:
            self.publish(tid, tlp, concerns)
        self.certs = {}
        for slug in WHO + ("stranger",):
            self.certs[slug] = ca.issue(slug, f"{slug}-client")
            if slug != "stranger":
                ok("org", "cert", slug, "--add", self.certs[slug][0], store=s)
        self.server = ca.issue("server", HOST, server=True)
        self.mount = make_mount(s, "mnt", "-o", "allow_other")
        self.mapdir = Path(self.mount.mnt).parent / "map"
        self.prefix = tmp / "nginx"
        (self.prefix / "logs").mkdir(parents=True)
        self.crl = ca.crl() if crl else None
        self.configure()
        self.nginx = self.watch = None

    def start(self):
        """Start nginx and the map's watcher (close() stops them)."""
        www, s = self.www, self.store
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            f"user {www.name};\nworker_processes 2;\npid {self.prefix}/nginx.pid;\n"
            f"error_log {self.prefix}/logs/error.log info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log {self.prefix}/logs/access.log;\n"
            f"    include {self.prefix}/advisoryfs.conf;\n}}\n")
        self.nginx = subprocess.Popen([NGINX, "-p", str(self.prefix), "-c", str(conf),
                                       "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
        self.watch = subprocess.Popen(
            [BIN, "-s", str(s), "provider", "nginx-map", "--mount", str(self.mount.mnt),
             "--map-dir", str(self.mapdir), "--watch"], stderr=subprocess.PIPE, text=True)
        assert wait_for(self.up, 10)[0], self.nginx_log()

    def publish(self, tid, tlp, concerns, version="1.0.0", current=None, pad=0):
        f = write_doc(self.tmp / "src" / f"{tid}-{version}.json",
                      make_doc(tid, version=version, tlp=tlp, current=current, pad=pad))
        ok("publish", f, *(["--concerns", concerns] if concerns else []), store=self.store)

    def configure(self):
        """Write advisoryfs.conf with `provider nginx-conf` (which writes the map)."""
        args = ["provider", "nginx-conf", "--mount", self.mount.mnt, "--server-name", HOST,
                "--listen", f"127.0.0.1:{self.port}", "--cert", self.server[0],
                "--key", self.server[1], "--ca", self.ca.pem, "--map-dir", self.mapdir,
                "--access-log", self.prefix / "logs" / "advisoryfs.log"]
        if self.crl:
            args += ["--crl", self.crl]
        p = ok(*args, store=self.store)
        assert p.stderr == "", p.stderr
        (self.prefix / "advisoryfs.conf").write_text(p.stdout)

    def up(self):
        if self.nginx.poll() is not None:
            return True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def nginx_log(self):
        p = self.prefix / "logs" / "error.log"
        return p.read_text() if p.exists() else ""

    def reload(self):
        """SIGHUP and wait until the new workers answer (their pids change)."""
        old = self.workers()
        self.nginx.send_signal(signal.SIGHUP)
        assert wait_for(lambda: self.workers() and not (self.workers() & old), 10)[0]

    def workers(self):
        out = subprocess.run(["pgrep", "-P", str(self.nginx.pid)], capture_output=True,
                             text=True).stdout
        return set(out.split())

    def close(self):
        for p in (self.watch, self.nginx):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        err = self.watch.stderr.read() if self.watch else ""
        assert err == "", err

    def curl_args(self, who):
        a = [CURL, "-sS", "--http1.1", "--cacert", str(self.ca.pem),
             "--resolve", f"{HOST}:{self.port}:127.0.0.1"]
        if who is not None:
            pem, key = self.certs[who]
            a += ["--cert", str(pem), "--key", str(key)]
        return a

    def get(self, who, path, headers=()):
        """(status, headers dict, body bytes) of one GET."""
        hdr = self.tmp / "hdr"
        a = self.curl_args(who) + ["-D", str(hdr), "-o", "-"]
        for h in headers:
            a += ["-H", h]
        p = subprocess.run(a + [self.base + path], capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        lines = hdr.read_text().splitlines()
        status = int(lines[0].split()[1])
        hd = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hd[k.strip().lower()] = v.strip()
        return status, hd, p.stdout

    def get_many(self, who, paths):
        """{path: (status, body)} for many GETs over one curl, keep-alive."""
        out = self.tmp / "many"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        cfg = []
        for i, path in enumerate(paths):
            cfg.append(f'url = "{self.base}{path}"\noutput = "{out}/{i}"\n')
        (self.tmp / "curl.cfg").write_text("".join(cfg))
        p = subprocess.run(self.curl_args(who) + ["-K", str(self.tmp / "curl.cfg"), "-w",
                                                   "%{http_code}\\n"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        codes = p.stdout.split()
        assert len(codes) == len(paths)
        return {path: (int(codes[i]), (out / str(i)).read_bytes() if (out / str(i)).exists()
                       else b"") for i, path in enumerate(paths)}


def nginx_test(f):
    for m in needs_nginx:
        f = m(f)
    return f


@pytest.fixture
def site(tmp_path, ca, accounts, mounts):  # noqa: F811
    [www] = accounts(1)
    made = []

    def make(**kw):
        st = Site(tmp_path, ca, www, mounts, **kw)
        made.append(st)
        st.start()
        return st
    yield make
    for st in made:
        st.close()


def check_view(st, who, slug, validator):
    """Everything the caller `who` (None: no certificate) can reach is exactly
    slug's view: the provider metadata, every index.txt/changes.csv entry with
    its hash files, and nothing of another organisation.  Returns the fetched
    documents' paths."""
    status, _, body = st.get(who, "/.well-known/csaf/provider-metadata.json")
    assert status == 200, (who, body)
    pm = json.loads(body)
    assert not sorted(e.message for e in validator.iter_errors(pm)), who
    assert pm["canonical_url"] == f"{st.base}/{slug}/provider-metadata.json"
    view = visible(st.store, slug)
    folders = sorted({p.split("/")[0] for p in view if p.count("/") == 2})
    assert sorted(d["directory_url"] for d in pm["distributions"]) == \
        sorted(f"{st.base}/{slug}/{f}/" for f in folders), who
    # the canonical URL and the key it names fetch too, with the same bytes
    assert st.get(who, f"/{slug}/provider-metadata.json")[2] == body
    key = pm["public_openpgp_keys"][0]["url"]
    assert key.startswith(st.base + f"/{slug}/openpgp/")
    assert st.get(who, key[len(st.base):])[0] == 200
    reached = set()
    for d in pm["distributions"]:
        url = d["directory_url"][len(st.base):]
        got = st.get_many(who, [url + "index.txt", url + "changes.csv"])
        assert all(v[0] == 200 for v in got.values()), (who, url)
        index = got[url + "index.txt"][1].decode().split()
        changes = [line.split(",")[0].strip('"')
                   for line in got[url + "changes.csv"][1].decode().splitlines()]
        assert sorted(index) == sorted(changes)
        paths = []
        for rel in index:
            paths += [url + rel, url + rel + ".sha256", url + rel + ".sha512", url + rel + ".asc"]
        got = st.get_many(who, paths)
        for rel in index:
            doc = got[url + rel]
            assert doc[0] == 200, (who, rel)
            name = rel.split("/")[-1]
            assert got[url + rel + ".sha256"] == \
                (200, f"{hashlib.sha256(doc[1]).hexdigest()}  {name}\n".encode())
            assert got[url + rel + ".sha512"] == \
                (200, f"{hashlib.sha512(doc[1]).hexdigest()}  {name}\n".encode())
            assert got[url + rel + ".asc"][0] == 200
            reached.add(url[len(slug) + 2:] + rel)
    assert reached == {p for p in view if p.endswith(".json") and p.count("/") == 2}, who
    return reached


@nginx_test
def test_https_each_certificate_its_tree(site, tmp_path):
    st = site()
    v = provider_validator(DATA / "csaf" / "schema")  # the copy in tests/data
    views = {}
    for who, slug in (("acme", "acme"), ("beta", "beta"), ("gamma", "gamma"),
                      (None, "public"), ("stranger", "public")):
        views[who] = check_view(st, who, slug, v)
    # exactly the caller's view: every other organisation's paths are 404,
    # the same as a name that never existed, and never 403
    for who in WHO:
        others = [f"/{o}/{p}" for o in WHO if o != who for p in views[o]]
        others += [f"/{o}/provider-metadata.json" for o in WHO if o != who]
        others += [f"/{who}/white/2024/nonexistent.json"]
        others += [f"/{o}/" for o in WHO if o != who]
        others += [f"/{o}/amber{x}" for o in WHO if o != who for x in ("/", "")]
        others += ["/", "/_self/provider-metadata.json", "/_public/public/index.txt",
                   f"/{who}/../beta/provider-metadata.json", "/.well-known/csaf/",
                   "/nope/index.txt"]
        others += [f"/{o}%2fprovider-metadata.json" for o in WHO if o != who]
        got = st.get_many(who, others)
        assert {p: c for p, (c, _) in got.items() if c != 404 and "/../beta/" not in p} == {}
        if who != "beta":
            assert got[f"/{who}/../beta/provider-metadata.json"][0] == 404
    got = st.get_many(None, [f"/{o}/{p}" for o in WHO for p in views[o]])
    assert {c for c, _ in got.values()} == {404}
    # directory listings (CSAF 2.0 requirement 14): the caller's own folders,
    # with exactly the names its view holds there, no redirect
    for who in WHO:
        for d in ("", "amber/", "amber/2024/"):
            status, hdr, body = st.get(who, f"/{who}/{d}")
            assert status == 200, (who, d)
            names = set(re.findall(r'<a href="([^"?]+)"', body.decode())) - {"../"}
            want = {p[len(d):].split("/")[0] + ("/" if "/" in p[len(d):] else "")
                    for p in visible(st.store, who) if p.startswith(d)}
            assert names == want, (who, d, names, want)
        # the slashless form of one's own folder redirects (relative Location), of
        # another organisation's it is 404 like everything else
        status, hdr, _ = st.get(who, f"/{who}/amber")
        assert status == 301 and hdr["location"] == f"/{who}/amber/"
    # the public tree is everyone's, under /public/
    assert st.get("acme", "/public/provider-metadata.json")[0] == 200
    # a write is refused as nothing there: 404
    p = subprocess.run(st.curl_args("acme") + ["-X", "POST", "-o", "/dev/null", "-w",
                                                "%{http_code}", st.base + "/acme/index.txt"],
                       capture_output=True, text=True)
    assert p.stdout == "404"
    # the ledger: each organisation's documents recorded as read by nginx's
    # account, under the organisation the certificate was bound to
    entries = json.loads(ok("audit", "--json", store=st.store).stdout)
    got = {(e["recipient"], e["tracking_id"]) for e in entries}
    for who, slug in (("acme", "acme"), ("beta", "beta"), ("gamma", "gamma"), (None, "public")):
        ids = {json.loads(st.get(who, "/" + slug + "/" + p)[2])["document"]["tracking"]["id"]
               for p in views[who]}
        assert {t for r, t in got if r == slug} == ids, slug
    assert {e["uid"] for e in entries} == {st.www.uid}


@pytest.mark.skipif(GPG is None, reason="no gpg")
@nginx_test
def test_https_signatures_verify_with_gpg(site, tmp_path):
    st = site()
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home), LC_ALL="C")
    pub = tmp_path / "pub.asc"
    pub.write_text(ok("key", "export", store=st.store).stdout)
    subprocess.run([GPG, "--batch", "--import", str(pub)], env=env, check=True,
                   capture_output=True)
    checked = 0
    for who, slug in (("acme", "acme"), (None, "public")):
        for rel in sorted(visible(st.store, slug)):
            if not rel.endswith(".json") or rel.count("/") != 2:
                continue
            doc, asc = tmp_path / "doc.json", tmp_path / "doc.json.asc"
            doc.write_bytes(st.get(who, f"/{slug}/{rel}")[2])
            asc.write_bytes(st.get(who, f"/{slug}/{rel}.asc")[2])
            p = subprocess.run([GPG, "--batch", "--status-fd", "1", "--verify", str(asc),
                                str(doc)], env=env, capture_output=True, text=True)
            assert p.returncode == 0 and "[GNUPG:] GOODSIG" in p.stdout, (rel, p.stderr)
            # and a changed byte does not verify
            doc.write_bytes(doc.read_bytes().replace(b"Test", b"Tost", 1))
            assert subprocess.run([GPG, "--batch", "--verify", str(asc), str(doc)], env=env,
                                  capture_output=True).returncode != 0
            checked += 1
    assert checked >= 5


# ---- liveness: withdrawals, new versions, certificate changes, revocation -------------------

class KeepAlive:
    """One keep-alive HTTPS connection as `who`, for polling without a new
    handshake per request."""

    def __init__(self, st, who):
        ctx = ssl.create_default_context(cafile=str(st.ca.pem))
        if who is not None:
            ctx.load_cert_chain(*map(str, st.certs[who]))
        ctx.check_hostname = False  # the certificate names HOST; we connect to 127.0.0.1
        self.conn = http.client.HTTPSConnection("127.0.0.1", st.port, context=ctx, timeout=10)
        self.host = f"{HOST}:{st.port}"
        self.closed = 0   # connections nginx closed under us (allow_close)

    def get(self, path, headers=None, allow_close=False):
        """(status, headers, body).  nginx keeps the connection open (up to
        its keepalive_requests), except (allow_close) when a revocation lands
        between its open and its read of a file: the mount then fails the
        read with EIO and nginx closes the connection before any byte of
        the document; that is counted and the request made
        again on a new connection."""
        try:
            self.conn.request("GET", path, headers={"Host": self.host, **(headers or {})})
            r = self.conn.getresponse()
            body = r.read()
        except (http.client.RemoteDisconnected, ConnectionError, http.client.IncompleteRead):
            if not allow_close:
                raise
            self.closed += 1
            self.conn.close()
            return self.get(path, headers)
        if r.will_close:  # keepalive_requests (1000) reached: a new connection next
            self.conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def close(self):
        self.conn.close()


def until_status(conn, path, want, timeout):
    """Seconds until GET path answers want on conn (None at the timeout)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout + 1:
        if conn.get(path, allow_close=True)[0] == want:
            return time.monotonic() - start
        time.sleep(0.005)
    return None


@nginx_test
def test_https_withdrawal_is_404_within_a_second(site):
    st = site()
    doc = "/acme/amber/2024/t-2024-0003.json"
    conns = {who: KeepAlive(st, who) for who in ("acme", None)}
    a = conns["acme"]
    assert a.get(doc)[0] == 200
    assert a.get("/acme/amber/index.txt")[2].decode().split().count("2024/t-2024-0003.json") == 1
    _, idx_hdr, _ = a.get("/acme/amber/index.txt")
    ok("withdraw", "T-2024-0003", "--reason", "test", store=st.store)
    waited = until_status(a, doc, 404, LIVE_LIMIT)
    assert waited is not None and waited < LIVE_LIMIT, waited
    # on the same connection and on new ones: gone from the documents, the
    # hash files and the indexes, and the index's validators changed with it
    for path in (doc, doc + ".sha256", doc + ".sha512", doc + ".asc"):
        assert a.get(path)[0] == 404
        assert st.get("acme", path)[0] == 404
    status, hdr, body = a.get("/acme/amber/index.txt",
                              {"If-None-Match": idx_hdr["etag"]})
    assert status == 200 and "t-2024-0003" not in body.decode()
    assert hdr["etag"] != idx_hdr["etag"]
    assert "t-2024-0003" not in st.get("acme", "/acme/amber/changes.csv")[2].decode()
    # a public document too, for the caller without a certificate
    pub = "/public/white/2024/t-2024-0001.json"
    assert conns[None].get(pub)[0] == 200
    ok("withdraw", "T-2024-0001", "--reason", "test", store=st.store)
    waited = until_status(conns[None], pub, 404, LIVE_LIMIT)
    assert waited is not None and waited < LIVE_LIMIT, waited
    assert st.get("acme", pub)[0] == 404
    # a connection cut off by a revocation is the mount refusing the bytes
    if any(c.closed for c in conns.values()):
        assert "failed (5: Input/output error) while sending response" in st.nginx_log()
    for c in conns.values():
        c.close()


@nginx_test
def test_https_conditional_get_fetches_the_new_version(site):
    st = site()
    doc = "/acme/amber/2024/t-2024-0009.json"
    a = KeepAlive(st, "acme")
    status, hdr, old = a.get(doc)
    assert status == 200 and "etag" in hdr and "last-modified" in hdr
    assert hdr["cache-control"] == "private, no-cache"
    # unchanged: both validators say so
    assert a.get(doc, {"If-None-Match": hdr["etag"]})[0] == 304
    assert a.get(doc, {"If-Modified-Since": hdr["last-modified"]})[0] == 304
    st.publish("T-2024-0009", "AMBER", "acme", version="2.0.0", current="2024-05-01T10:00:00Z")
    assert wait_for(lambda: a.get(doc)[2] != old, LIVE_LIMIT)[0]
    for cond in ({"If-None-Match": hdr["etag"]}, {"If-Modified-Since": hdr["last-modified"]}):
        status, new_hdr, new = a.get(doc, cond)
        assert status == 200, cond
        assert json.loads(new)["document"]["tracking"]["version"] == "2.0.0"
        assert new_hdr["etag"] != hdr["etag"]
        assert new_hdr["last-modified"] != hdr["last-modified"]
        assert a.get(doc + ".sha256")[2].split()[0].decode() == hashlib.sha256(new).hexdigest()
    # the same with curl
    status, _, body = st.get("acme", doc, headers=[f"If-None-Match: {hdr['etag']}"])
    assert status == 200 and body == new
    status, _, body = st.get("acme", doc, headers=[f"If-Modified-Since: {hdr['last-modified']}"])
    assert status == 200 and body == new
    status, new_hdr, _ = st.get("acme", doc)
    assert st.get("acme", doc, headers=[f"If-None-Match: {new_hdr['etag']}"])[0] == 304
    a.close()


@nginx_test
def test_https_certificate_changes_within_a_second(site):
    st = site()
    own = "/acme/amber/2024/t-2024-0003.json"
    well_known = "/.well-known/csaf/provider-metadata.json"

    def canonical(conn):
        return json.loads(conn.get(well_known)[2])["canonical_url"]

    a, s = KeepAlive(st, "acme"), KeepAlive(st, "stranger")
    assert a.get(own)[0] == 200
    assert canonical(s) == f"{st.base}/public/provider-metadata.json"
    # unbound: acme's certificate gets the public tree at once
    ok("org", "cert", "acme", "--remove", st.certs["acme"][0], store=st.store)
    waited = until_status(a, own, 404, LIVE_LIMIT)
    assert waited is not None and waited < LIVE_LIMIT, waited
    assert canonical(a) == f"{st.base}/public/provider-metadata.json"
    assert a.get("/public/white/2024/t-2024-0001.json")[0] == 200
    # bound to another organisation: that tree and no other
    ok("org", "cert", "gamma", "--add", st.certs["acme"][0], store=st.store)
    ok("org", "cert", "beta", "--add", st.certs["stranger"][0], store=st.store)
    for conn, slug in ((a, "gamma"), (s, "beta")):
        assert wait_for(lambda: canonical(conn) == f"{st.base}/{slug}/provider-metadata.json",
                        LIVE_LIMIT)[0], slug
    assert a.get(own)[0] == 404
    assert a.get("/gamma/amber/2024/t-2024-0007.json")[0] == 200
    assert s.get("/beta/amber/2024/t-2023-0006.json")[0] == 200
    assert s.get("/gamma/amber/2024/t-2024-0007.json")[0] == 404
    names = sorted(os.listdir(st.mapdir))
    assert names == sorted(["_public", fingerprint(st.certs["acme"][0], "sha1"),
                            fingerprint(st.certs["stranger"][0], "sha1"),
                            fingerprint(st.certs["beta"][0], "sha1"),
                            fingerprint(st.certs["gamma"][0], "sha1")])
    a.close()
    s.close()


@nginx_test
def test_https_revoked_certificate_is_refused(site):
    st = site(crl=True)
    assert st.get("beta", "/beta/provider-metadata.json")[0] == 200
    # revoke beta's certificate: a new CRL at the same path, nginx reloaded
    st.ca.crl(revoked=[st.certs["beta"][0]])
    st.reload()
    for path in ("/beta/provider-metadata.json", "/public/provider-metadata.json",
                 "/.well-known/csaf/provider-metadata.json"):
        status, _, body = st.get("beta", path)
        assert status == 400 and b"The SSL certificate error" in body, (path, status)
    assert "client SSL certificate verify error: (23:certificate revoked)" in st.nginx_log()
    # the others are served as before, a certificate from another CA is refused too
    assert st.get("acme", "/acme/provider-metadata.json")[0] == 200
    assert st.get(None, "/public/provider-metadata.json")[0] == 200
    other = CA(st.tmp / "other-ca")
    st.certs["forged"] = other.issue("forged", "acme-client")
    assert st.get("forged", "/acme/provider-metadata.json")[0] == 400
    # nothing was disclosed to the revoked certificate: no ledger entry
    assert st.get("beta", "/beta/amber/2024/t-2023-0006.json")[0] == 400
    entries = json.loads(ok("audit", "--json", store=st.store).stdout)
    assert [e for e in entries if e["recipient"] == "beta"] == []
    assert st.get("acme", "/acme/amber/2024/t-2024-0003.json")[0] == 200
    entries = json.loads(ok("audit", "--json", store=st.store).stdout)
    assert [(e["recipient"], e["tracking_id"]) for e in entries] == [("acme", "T-2024-0003")]


def test_nginx_conf_refusals(tmp_path, ca):
    store = make_store(tmp_path)
    srv, key = ca.issue("server", HOST, server=True)
    mnt, mapdir = tmp_path / "mnt", tmp_path / "map"
    mnt.mkdir()
    base = ["provider", "nginx-conf", "--mount", mnt, "--server-name", HOST,
            "--listen", "127.0.0.1:8443", "--cert", srv, "--key", key, "--ca", ca.pem,
            "--map-dir", mapdir]
    p = ok(*base, store=store)
    # the base URL is not this server's: said once, and the block is printed
    assert p.stderr == ("advisoryfs: provider nginx-conf: warning: the base URL is "
                        "https://advisories.invalid/csaf, so provider-metadata.json points "
                        f"there; run 'advisoryfs provider set --base-url https://{HOST}:8443'\n")
    assert f"listen 127.0.0.1:8443 ssl;" in p.stdout and "ssl_crl" not in p.stdout
    assert sorted(os.listdir(mapdir)) == ["_public"]
    assert os.readlink(mapdir / "_public" / "public") == f"{mnt}/public"
    ok("provider", "set", "--base-url", f"https://{HOST}:8443", store=store)
    assert ok(*base, store=store).stderr == ""
    cases = [
        (["--listen", "127.0.0.1"], "--listen: not ADDR:PORT: '127.0.0.1'"),
        (["--listen", "127.0.0.1:99999"], "--listen: not ADDR:PORT"),
        (["--server-name", "a;b"], "--server-name: not a host name"),
        (["--cert", tmp_path / "nope.pem"], "No such file or directory"),
        (["--mount", "relative/dir"], "give an absolute path"),
        (["--crl", tmp_path / "nope.crl"], "No such file or directory"),
        (["--watch"], "--watch is for 'provider nginx-map'"),
    ]
    bad = tmp_path / "we$ird"
    bad.mkdir()
    cases.append((["--mount", bad], "a path nginx's configuration cannot hold"))
    for extra, why in cases:
        args = list(base)
        for i in range(0, len(extra) - 1, 2):
            if extra[i] in args:
                args[args.index(extra[i]) + 1] = extra[i + 1]
            else:
                args += extra[i:i + 2]
        if len(extra) % 2:
            args.append(extra[-1])
        p = run(*args, store=store)
        assert p.returncode in (1, 2) and why in p.stderr and p.stdout == "", (extra, p.stderr)
    p = run("provider", "nginx-map", "--mount", mnt, "--map-dir", mapdir, "--ca", ca.pem,
            store=store)
    assert p.returncode == 2


def test_nginx_map_follows_bindings(tmp_path, ca):
    """The map without nginx: one directory per bound certificate, whole."""
    store = make_store(tmp_path)
    mnt, mapdir = "/srv/advisories", tmp_path / "map"
    pems = {s: ca.issue(s, s + "-client")[0] for s in ("acme", "beta")}
    for s, pem in pems.items():
        ok("org", "cert", s, "--add", pem, store=store)
    (mapdir / ".new-leftover").mkdir(parents=True)
    (mapdir / ("0" * 40)).mkdir()
    (mapdir / ("1" * 40)).symlink_to("/")  # not ours: taken away, not followed
    ok("provider", "nginx-map", "--mount", mnt, "--map-dir", mapdir, store=store)
    fps = {s: fingerprint(p, "sha1") for s, p in pems.items()}
    assert sorted(os.listdir(mapdir)) == sorted(["_public", *fps.values()])
    for s, fp in fps.items():
        d = mapdir / fp
        assert sorted(os.listdir(d)) == sorted(["_self", s, "public"])
        assert os.readlink(d / s) == os.readlink(d / "_self") == f"{mnt}/{s}"
        assert os.readlink(d / "public") == f"{mnt}/public"
    ok("org", "cert", "acme", "--remove", pems["acme"], store=store)
    ok("org", "cert", "gamma", "--add", pems["acme"], store=store)
    ok("provider", "nginx-map", "--mount", mnt, "--map-dir", mapdir, store=store)
    assert os.readlink(mapdir / fps["acme"] / "_self") == f"{mnt}/gamma"
    assert not (mapdir / fps["acme"] / "acme").exists()
