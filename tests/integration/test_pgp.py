"""`advisoryfs key`: OpenPGP signatures made with OpenSSL that GnuPG accepts.

A key is generated through the real program in a temporary store, exported,
imported into a temporary GNUPGHOME, and `gpg --verify` checks what
`advisoryfs key sign` writes: good as made, bad after one changed byte, also
for real CSAF documents and for signatures whose r or s is a shorter MPI.
"""

import base64
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from helpers import BIN, csaf_dir, db, new_store, ok, run

GPG = shutil.which("gpg")
needs_gpg = pytest.mark.skipif(GPG is None, reason="gpg (GnuPG) is not installed")

UID = "advisoryfs test <cert@test.example.invalid>"


# ---- helpers ---------------------------------------------------------------------------------

def meta(store, key):
    with db(store) as c:
        row = c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    v = row[0]
    return v.decode() if isinstance(v, bytes) else v


def gpg(home, *args, check=True):
    """Run gpg in its own home; returns (returncode, status lines, stderr)."""
    cmd = [GPG, "--homedir", str(home), "--batch", "--no-tty", "--no-autostart",
           "--status-fd", "1", *[str(a) for a in args]]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr}")
    status = [line[len("[GNUPG:] "):] for line in p.stdout.splitlines()
              if line.startswith("[GNUPG:] ")]
    return p.returncode, status, p.stderr


def verify(home, asc, data):
    """gpg --verify: (good, status lines).  Good means exit 0, GOODSIG and VALIDSIG."""
    rc, status, _ = gpg(home, "--verify", asc, data, check=False)
    good = rc == 0 and any(s.startswith("GOODSIG ") for s in status) and any(
        s.startswith("VALIDSIG ") for s in status)
    return good, status


def dearmor(text):
    """The binary inside one ASCII armour block (the CRC line is left to gpg)."""
    lines = text.strip().splitlines()
    assert lines[0].startswith("-----BEGIN PGP ")
    body = lines[lines.index("") + 1:]
    data = "".join(line for line in body if not line.startswith(("=", "-----")))
    return base64.b64decode(data)


def mpi_bits(asc_text):
    """Bit counts of r and s in one of our v4 EdDSA signature packets."""
    b = dearmor(asc_text)
    assert b[0] == 0xC2 and b[1] < 192 and len(b) == 2 + b[1]
    p = b[2:]
    assert p[0] == 4 and p[2] == 22
    off = 4
    off += 2 + int.from_bytes(p[off:off + 2], "big")   # hashed subpackets
    off += 2 + int.from_bytes(p[off:off + 2], "big")   # unhashed subpackets
    off += 2                                           # left 16 bits of the hash
    rbits = int.from_bytes(p[off:off + 2], "big")
    rlen = (rbits + 7) // 8
    r = p[off + 2:off + 2 + rlen]
    off += 2 + rlen
    sbits = int.from_bytes(p[off:off + 2], "big")
    slen = (sbits + 7) // 8
    s = p[off + 2:off + 2 + slen]
    assert off + 2 + slen == len(p)
    # the counts are exact: no leading zero byte, top bit where the count says
    for bits, v in ((rbits, r), (sbits, s)):
        assert v[0] != 0 and int.from_bytes(v, "big").bit_length() == bits
    return rbits, sbits


@pytest.fixture
def keyed(tmp_path):
    """A store with a signing key: (store, key file, fingerprint)."""
    store = new_store(tmp_path)
    keyfile = tmp_path / "signing.key"
    p = ok("key", "generate", "--key", keyfile, "--uid", UID, store=store)
    fpr = meta(store, "signing_fpr")
    assert f"fingerprint {fpr}" in p.stdout
    return store, keyfile, fpr


@pytest.fixture
def gnupg(tmp_path, keyed):
    """A GNUPGHOME holding the store's public key, as a recipient would."""
    if GPG is None:
        pytest.skip("gpg (GnuPG) is not installed")
    store, _, _ = keyed
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    pub = tmp_path / "advisoryfs.asc"
    pub.write_text(ok("key", "export", store=store).stdout)
    gpg(home, "--import", pub)
    return home


# ---- key generate ----------------------------------------------------------------------------

def test_generate_records_key(keyed):
    store, keyfile, fpr = keyed
    st = keyfile.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()
    assert len(fpr) == 40 and all(c in "0123456789ABCDEF" for c in fpr)
    path = meta(store, "signing_key_path")
    assert os.path.isabs(path) and Path(path) == keyfile.resolve()
    pub = meta(store, "signing_pubkey")
    assert pub.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
    assert pub.endswith("-----END PGP PUBLIC KEY BLOCK-----\n")
    # the private key file does not end up in the store
    assert "PRIVATE KEY" not in pub and "PRIVATE" not in path


def test_generate_mode_despite_umask(tmp_path):
    store = new_store(tmp_path)
    keyfile = tmp_path / "k.key"
    old = os.umask(0)
    try:
        ok("key", "generate", "--key", keyfile, "--uid", UID, store=store)
    finally:
        os.umask(old)
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600


def test_generate_refuses_existing_file(tmp_path, keyed):
    _, keyfile, _ = keyed
    before = keyfile.read_bytes()
    other = new_store(tmp_path, "other.db")
    p = run("key", "generate", "--key", keyfile, "--uid", UID, store=other)
    assert p.returncode == 1
    assert p.stderr.startswith("advisoryfs: key generate: ")
    assert "exists" in p.stderr
    assert keyfile.read_bytes() == before
    assert meta(other, "signing_fpr") is None
    # nor through a symbolic link to a new name
    link = tmp_path / "link.key"
    link.symlink_to(tmp_path / "nowhere.key")
    p = run("key", "generate", "--key", link, "--uid", UID, store=other)
    assert p.returncode == 1 and not (tmp_path / "nowhere.key").exists()


def test_generate_refuses_second_key_in_store(tmp_path, keyed):
    store, _, fpr = keyed
    p = run("key", "generate", "--key", tmp_path / "second.key", "--uid", UID, store=store)
    assert p.returncode == 1
    assert p.stderr.startswith("advisoryfs: key generate: ") and fpr in p.stderr
    assert not (tmp_path / "second.key").exists()
    assert meta(store, "signing_fpr") == fpr


@pytest.mark.parametrize("uid", ["", "two\nlines", "bad \xff utf-8".encode("latin-1")])
def test_generate_bad_uid(tmp_path, uid):
    store = new_store(tmp_path)
    cmd = [BIN, "-s", str(store), "key", "generate", "--key", str(tmp_path / "k.key"), "--uid", uid]
    p = subprocess.run(cmd, capture_output=True)
    assert p.returncode == 1
    assert p.stderr.startswith(b"advisoryfs: key generate: --uid: ")
    assert not (tmp_path / "k.key").exists()


def test_generate_usage(tmp_path):
    store = new_store(tmp_path)
    p = run("key", "generate", "--uid", UID, store=store)
    assert p.returncode == 2 and "--key" in p.stderr
    p = run("key", "generate", "--key", tmp_path / "k", store=store)
    assert p.returncode == 2 and "--uid" in p.stderr


# ---- gpg accepts what we write ---------------------------------------------------------------

@needs_gpg
def test_gpg_imports_key(gnupg, keyed):
    _, _, fpr = keyed
    p = subprocess.run([GPG, "--homedir", str(gnupg), "--batch", "--no-autostart",
                        "--with-colons", "--check-sigs"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    rows = [line.split(":") for line in out.splitlines()]
    pub = [r for r in rows if r[0] == "pub"]
    assert len(pub) == 1
    assert pub[0][3] == "22"            # EdDSA
    assert "s" in pub[0][11] and "c" in pub[0][11]  # can sign and certify
    assert pub[0][16] == "ed25519"
    assert [r[9] for r in rows if r[0] == "fpr"][0] == fpr
    assert [r[9] for r in rows if r[0] == "uid"] == [UID]
    # the self-signature checks: "sig" with validity "!"
    sigs = [r for r in rows if r[0] == "sig"]
    assert len(sigs) == 1 and sigs[0][1] == "!" and sigs[0][10] == "13x"


@needs_gpg
def test_sign_verify_and_tamper(tmp_path, keyed, gnupg):
    store, _, fpr = keyed
    f = tmp_path / "doc.json"
    f.write_bytes(b'{"document": {"title": "signed by advisoryfs"}}\n')
    asc = tmp_path / "doc.json.asc"
    asc.write_text(ok("key", "sign", f, store=store).stdout)
    assert asc.read_text().startswith("-----BEGIN PGP SIGNATURE-----\n")
    good, status = verify(gnupg, asc, f)
    assert good, status
    validsig = [s for s in status if s.startswith("VALIDSIG ")][0].split()
    assert validsig[1] == fpr and validsig[-1] == fpr
    assert validsig[7] == "22" and validsig[8] == "10"  # EdDSA, SHA-512

    data = bytearray(f.read_bytes())
    data[10] ^= 0x01
    f.write_bytes(bytes(data))
    good, status = verify(gnupg, asc, f)
    assert not good
    assert any(s.startswith("BADSIG ") for s in status), status


@needs_gpg
def test_sign_write_and_empty_file(tmp_path, keyed, gnupg):
    store, _, _ = keyed
    files = [tmp_path / "a.json", tmp_path / "empty.json"]
    files[0].write_bytes(b"a" * 100000)
    files[1].write_bytes(b"")
    p = ok("key", "sign", "--write", *files, store=store)
    assert p.stdout == ""
    for f in files:
        asc = Path(str(f) + ".asc")
        assert verify(gnupg, asc, f)[0]
    # an existing .asc is never overwritten
    before = Path(str(files[0]) + ".asc").read_bytes()
    p = run("key", "sign", "-w", files[0], store=store)
    assert p.returncode == 1 and "exists" in p.stderr
    assert Path(str(files[0]) + ".asc").read_bytes() == before


@needs_gpg
def test_sign_real_csaf(tmp_path, keyed, gnupg):
    store, _, _ = keyed
    src = sorted((csaf_dir() / "advisories").rglob("*.json"))
    if not src:
        pytest.skip("no CSAF corpus")
    # a few from each provider
    picked, seen = [], {}
    for s in src:
        provider = s.relative_to(csaf_dir() / "advisories").parts[0]
        if seen.get(provider, 0) < 2:
            seen[provider] = seen.get(provider, 0) + 1
            picked.append(s)
    out = tmp_path / "csaf"
    out.mkdir()
    copies = []
    for i, s in enumerate(picked):
        c = out / f"{i}-{s.name}"
        shutil.copyfile(s, c)
        copies.append(c)
    ok("key", "sign", "--write", *copies, store=store)
    for c in copies:
        good, status = verify(gnupg, Path(str(c) + ".asc"), c)
        assert good, (c, status)
    # the bytes are signed exactly: a changed byte in a real document is caught
    data = bytearray(copies[0].read_bytes())
    data[len(data) // 2] ^= 0x20
    copies[0].write_bytes(bytes(data))
    good, status = verify(gnupg, Path(str(copies[0]) + ".asc"), copies[0])
    assert not good and any(s.startswith("BADSIG ") for s in status)


@needs_gpg
def test_short_mpis(tmp_path, keyed, gnupg):
    """About 1 in 128 signatures has r or s starting with a zero byte: the MPI
    is then shorter, with its exact bit count.  gpg must accept those too."""
    store, _, _ = keyed
    d = tmp_path / "many"
    d.mkdir()
    files = []
    for i in range(1500):
        f = d / f"{i}.txt"
        f.write_text(f"document {i}\n")
        files.append(f)
    ok("key", "sign", "--write", *files, store=store)
    short = []
    for f in files:
        r, s = mpi_bits(Path(str(f) + ".asc").read_text())
        assert r <= 256 and s <= 256
        if r <= 248 or s <= 248:
            short.append(f)
    assert short, "no signature with a short r or s among 1500"
    for f in short[:12] + files[:3]:
        good, status = verify(gnupg, Path(str(f) + ".asc"), f)
        assert good, (f, mpi_bits(Path(str(f) + ".asc").read_text()), status)


# ---- show, export, forget, refusals ----------------------------------------------------------

def test_show_and_export(keyed):
    store, keyfile, fpr = keyed
    p = ok("key", "show", store=store)
    assert f"fingerprint: {fpr}\n" in p.stdout
    assert f"uid:         {UID}\n" in p.stdout
    assert f"key file:    {keyfile.resolve()}\n" in p.stdout
    assert "status:      usable\n" in p.stdout
    e = ok("key", "export", store=store).stdout
    assert e == meta(store, "signing_pubkey")
    assert p.stdout.endswith(e)


def test_unsafe_key_file_refused(tmp_path, keyed):
    store, keyfile, _ = keyed
    f = tmp_path / "x"
    f.write_text("x")
    for mode in (0o644, 0o640, 0o620, 0o602):
        keyfile.chmod(mode)
        p = run("key", "sign", f, store=store)
        assert p.returncode == 1 and p.stdout == ""
        assert p.stderr.startswith("advisoryfs: key sign: unsafe key file"), p.stderr
        assert "status:      unusable: unsafe key file" in ok("key", "show",
                                                                store=store).stdout
    keyfile.chmod(0o600)
    ok("key", "sign", f, store=store)
    # a symbolic link in place of the key file
    moved = tmp_path / "moved.key"
    keyfile.rename(moved)
    keyfile.symlink_to(moved)
    p = run("key", "sign", f, store=store)
    assert p.returncode == 1 and "symbolic link" in p.stderr
    # the file gone entirely
    keyfile.unlink()
    p = run("key", "sign", f, store=store)
    assert p.returncode == 1 and "signing key unavailable" in p.stderr


def test_other_key_in_place_refused(tmp_path, keyed):
    store, keyfile, _ = keyed
    other = new_store(tmp_path, "other.db")
    k2 = tmp_path / "k2.key"
    ok("key", "generate", "--key", k2, "--uid", UID, store=other)
    keyfile.unlink()
    k2.rename(keyfile)
    f = tmp_path / "x"
    f.write_text("x")
    p = run("key", "sign", f, store=store)
    assert p.returncode == 1 and "signing key unavailable" in p.stderr


def test_forget(keyed, tmp_path):
    store, keyfile, fpr = keyed
    p = ok("key", "forget", store=store)
    assert fpr in p.stdout
    assert keyfile.exists()
    for k in ("signing_key_path", "signing_fpr", "signing_pubkey"):
        assert meta(store, k) is None
    for sub in ("show", "export", "forget"):
        p = run("key", sub, store=store)
        assert p.returncode == 1
        assert p.stderr == (f"advisoryfs: key {sub}: the store has no signing key "
                            "(make one with 'advisoryfs key generate')\n")
    f = tmp_path / "x"
    f.write_text("x")
    p = run("key", "sign", f, store=store)
    assert p.returncode == 1 and "no signing key" in p.stderr
    # a new key can be made after forgetting
    ok("key", "generate", "--key", tmp_path / "new.key", "--uid", UID, store=store)
    assert meta(store, "signing_fpr") not in (None, fpr)


# ---- help and usage --------------------------------------------------------------------------

@pytest.mark.parametrize("sub", [None, "generate", "show", "export", "sign", "forget"])
def test_help(sub):
    args = ["key"] + ([sub] if sub else []) + ["--help"]
    p = ok(*args)
    assert p.stdout.startswith("usage: advisoryfs")
    if sub:
        assert f"key {sub}" in p.stdout.splitlines()[0]
    if sub == "generate":
        assert "--key FILE" in p.stdout and "--uid" in p.stdout and "0600" in p.stdout
    q = ok("help", "key")
    assert q.stdout.startswith("usage: advisoryfs") and "generate" in q.stdout


@pytest.mark.parametrize("args", [["key", "generate", "--bogus"], ["key", "show", "--bogus"],
                                  ["key", "show", "--uid", "x"], ["key", "frobnicate"],
                                  ["key"], ["key", "sign"], ["key", "sign", "a", "b"],
                                  ["key", "export", "extra"]])
def test_usage_errors(tmp_path, args):
    p = run(*args, store=tmp_path / "none.db")
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert len(lines) == 2, p.stderr
    assert lines[0].startswith("advisoryfs key")
    assert lines[1].startswith("Try 'advisoryfs key") and lines[1].endswith("--help'.")
