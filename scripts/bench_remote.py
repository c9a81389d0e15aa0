"""scripts/bench's remote part: the remote mount (`advisoryfs mount --remote`) over
loopback SSH as a fourth file system, next to Debian's sshfs mounting the same SLUG/
directory (the local advisoryfs mount) through SFTP on the same sshd.

An sshd is started on a free 127.0.0.1 port with a host key and authorized_keys of
its own (one key whose forced command is `advisoryfs -s STORE serve --as SLUG`, one
plain key for sshfs's sftp subsystem); both clients use the same ssh options.  Cold
means a fresh mount after sync + drop_caches, as for the others.  Targets (issue 14):
faster than sshfs on every row; cat warm and rsync no-change within 1.5x of the local
mount; revocation p99 within 100 ms.
"""

import os
import shlex
import shutil
import socket
import statistics
import subprocess
import time

# (key, label, target ratio to the local advisoryfs mount or None)
OPS = [
    ("ls_cold", "ls -lR (cold)", None),
    ("ls_warm", "ls -lR (warm)", None),
    ("cat_cold", "cat every file (cold)", None),
    ("cat_warm", "cat every file (warm)", 1.5),
    ("rsync_first", "rsync -a first copy", None),
    ("rsync_again", "rsync -a no-change pass", 1.5),
]


class Sshd:
    def __init__(self, work, log):
        self.dir = os.path.join(work, "sshd")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        os.makedirs("/run/sshd", exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.hostkey = self.keygen("host")
        self.auth = os.path.join(self.dir, "authorized_keys")
        open(self.auth, "w").close()
        self.cfg = os.path.join(self.dir, "sshd_config")
        with open(self.cfg, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\n"
                    "PidFile %s/sshd.pid\nUsePAM no\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                    "StrictModes no\nUseDNS no\nLogLevel ERROR\nSubsystem sftp internal-sftp\n" %
                    (self.port, self.hostkey, self.auth, self.dir))
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        self.proc = subprocess.Popen([sshd, "-D", "-e", "-f", self.cfg], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.monotonic()
        while time.monotonic() - t < 20:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    if s.recv(4).startswith(b"SSH"):
                        break
            except OSError:
                time.sleep(0.02)
        log("sshd on 127.0.0.1:%d" % self.port)

    def keygen(self, name):
        path = os.path.join(self.dir, "id_" + name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
        return path

    def key(self, name, command=None):
        k = self.keygen(name)
        pub = open(k + ".pub").read().strip()
        with open(self.auth, "a") as f:
            f.write(('command="%s",restrict %s\n' % (command, pub)) if command else pub + "\n")
        return k

    def ssh(self, key):
        """One ssh command line for both clients (no blanks inside a word, no commas)."""
        return ("ssh -F /dev/null -i %s -p %d -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "
                "-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR "
                "-o Compression=no -T -x" % (key, self.port))

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class RemoteSystems:
    """The remote mount and sshfs of one recipient's directory."""

    def __init__(self, bench, afs, slug, local_mnt, mnt_dir, work):
        self.b, self.afs, self.slug, self.local = bench, afs, slug, local_mnt
        self.sshd = Sshd(work, bench.log)
        self.rkey = self.sshd.key("remote", "%s -s %s serve --as %s" % (afs.bin, afs.store, slug))
        self.skey = self.sshd.key("sshfs")
        self.paths = {"remote": os.path.join(mnt_dir, "remote"),
                      "sshfs": os.path.join(mnt_dir, "sshfs")}
        self.dst = os.path.join(mnt_dir, "dst-remote")
        for p in list(self.paths.values()) + [self.dst]:
            os.makedirs(p, exist_ok=True)
        self.pid = None
        self.mount("remote")
        self.mount("sshfs")

    def mount(self, name):
        b, path = self.b, self.paths[name]
        t = b.now()
        if name == "remote":
            cmd = [self.afs.bin, "mount", path, "--remote", "root@127.0.0.1", "-o",
                   "ssh_command=" + self.sshd.ssh(self.rkey)]
        else:
            cmd = ["sshfs", "root@127.0.0.1:%s" % self.local, path, "-o",
                   "ro,ssh_command=" + self.sshd.ssh(self.skey)]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
        if p.returncode != 0:
            b.die("%s mount failed: %s" % (name, p.stderr.decode("utf-8", "replace")))
        b.MOUNTS.append(path)
        while not b.mounted(path):
            if b.now() - t > 60:
                b.die("%s did not mount" % name)
            time.sleep(0.001)
        os.listdir(path)
        if name == "remote":
            self.pid = b.find_daemon(self.afs.bin, path)
        return b.now() - t

    def cold(self, name):
        self.b.unmount(self.paths[name], self.pid if name == "remote" else None)
        self.b.drop_caches()
        self.mount(name)

    def run(self, name, key):
        sh, path = self.b.sh, self.paths[name]
        if key in ("ls_cold", "ls_warm"):
            return sh("ls -lR . > /dev/null", cwd=path)[0]
        if key in ("cat_cold", "cat_warm"):
            return sh("find . -type f -print0 | xargs -0 cat > /dev/null", cwd=path)[0]
        if key == "rsync_first":
            dst = os.path.join(self.dst, name)
            shutil.rmtree(dst, ignore_errors=True)
            return sh("rsync -a ./ %s/" % shlex.quote(dst), cwd=path)[0]
        if key == "rsync_again":
            return sh("rsync -a ./ %s/" % shlex.quote(os.path.join(self.dst, name)), cwd=path)[0]
        raise KeyError(key)

    def close(self):
        for name, path in self.paths.items():
            self.b.unmount(path, self.pid if name == "remote" else None)
        shutil.rmtree(self.dst, ignore_errors=True)
        self.sshd.close()


def compare(rs, local_run, local_cold, repeat, log, fmt_s):
    """Each op on the local mount, the remote mount and sshfs, alternating."""
    names = ["advisoryfs", "remote", "sshfs"]
    res = {k: {n: [] for n in names} for k, _, _ in OPS}
    for rep in range(repeat):
        order = names[rep % 3:] + names[:rep % 3]
        for name in order:
            runner = local_run if name == "advisoryfs" else (lambda k, n=name: rs.run(n, k))
            cold = local_cold if name == "advisoryfs" else (lambda n=name: rs.cold(n))
            for keys in (("ls_cold", "ls_warm"), ("cat_cold", "cat_warm", "rsync_first",
                                                  "rsync_again")):
                cold()
                for key in keys:
                    res[key][name].append(runner(key))
        log("remote repetition %d/%d: %s" % (rep + 1, repeat, ", ".join(
            "%s %s/%s/%s" % (k, fmt_s(res[k]["advisoryfs"][-1]), fmt_s(res[k]["remote"][-1]),
                             fmt_s(res[k]["sshfs"][-1])) for k, _, _ in OPS)))
    return res


def report(res, rev, w, fmt_s, pct, verdict):
    w("")
    w("remote mount over loopback SSH (advisoryfs mount --remote) against sshfs of the same "
      "SLUG/ directory (the local mount) through SFTP on the same sshd; medians")
    hdr = "%-30s %10s %9s %9s %8s %8s %7s  %s" % (
        "operation", "advisoryfs", "remote", "sshfs", "rem/afs", "rem/ssh", "target", "verdict")
    w(hdr)
    w("-" * len(hdr))
    for key, label, target in OPS:
        med = {n: statistics.median(v) for n, v in res[key].items()}
        ra = med["remote"] / med["advisoryfs"]
        rs = med["remote"] / med["sshfs"]
        ok_t = target is None or ra <= target
        why = ([] if ok_t else ["ratio > %.1fx" % target]) + ([] if rs < 1 else ["not faster than sshfs"])
        w("%-30s %10s %9s %9s %7.2fx %7.2fx %7s  %s%s" % (
            label, fmt_s(med["advisoryfs"]), fmt_s(med["remote"]), fmt_s(med["sshfs"]), ra, rs,
            "<=%.1fx" % target if target else "-", verdict(ok_t and rs < 1),
            " (%s)" % ", ".join(why) if why else ""))
    w("all runs (s), advisoryfs | remote | sshfs:")
    for key, label, _ in OPS:
        w("  %-28s %s" % (label, " | ".join(" ".join("%.3f" % x for x in res[key][n])
                                            for n in ("advisoryfs", "remote", "sshfs"))))
    if rev:
        w("remote revocation latency (%d withdrawals, reader stats the cached path on the remote "
          "mount): from withdraw exit to ENOENT p50 %s, p99 %s, max %s%s  target p99 <= 100 ms: %s" % (
              rev["n"], fmt_s(pct(rev["exit"], 50)), fmt_s(pct(rev["exit"], 99)),
              fmt_s(max(rev["exit"])),
              "; %d timed out (10 s)" % rev["timeouts"] if rev["timeouts"] else "",
              verdict(pct(rev["exit"], 99) <= 0.1)))
