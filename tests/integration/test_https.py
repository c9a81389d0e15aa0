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
import json
import subprocess
from pathlib import Path

import pytest

from helpers import ok, run

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
