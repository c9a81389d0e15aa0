"""The HTTPS row of scripts/bench (docs/HTTPS.md): Debian's nginx in front of the
mount, against the same nginx serving a tmpfs copy of the same view, in one run.

  setup        a local account for nginx's workers, bound to the recipient by
               group (docs/HTTPS.md, "Accounts"); a full `-o allow_other` mount of
               the store; the recipient's tree copied to a tmpfs with its owner
               and modes; a CA, a server certificate and a client certificate
               bound to the recipient (`org cert`), made with openssl; one nginx
               (2 workers) with two server blocks printed by `provider
               nginx-conf`, one on the mount and one on the copy, on free
               127.0.0.1 ports
  fetch        every file of the view (documents, .sha256, .sha512, .asc,
               index.txt, changes.csv, provider-metadata.json, the key) fetched
               by 16 curl clients at once, each over one keep-alive connection
               with the client certificate; one pass over each first, reported
               apart (the copy to tmpfs read every document once, so the
               ledger, docs/LEDGER.md, holds them all by then, and the mount's
               page cache too), then the two alternate, --repeat times
  revocation   small advisories the recipient sees, withdrawn one by one with
               the real CLI while a client polls the URL over a keep-alive
               connection; latency from the withdraw process's exit to the
               first 404

Used by scripts/bench (standard library only); `env` carries bench's helpers.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import threading
import time

CLIENTS = 16


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ssl(*args):
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _issue(d, ca, name, cn, server=False):
    key, csr, pem, ext = (os.path.join(d, name + x) for x in (".key", ".csr", ".pem", ".ext"))
    _ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
         "-out", csr, "-subj", "/CN=" + cn)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n" + ("subjectAltName=DNS:%s,IP:127.0.0.1\n" % cn
                                                 if server else "extendedKeyUsage=clientAuth\n"))
    _ssl("x509", "-req", "-in", csr, "-CA", ca + ".pem", "-CAkey", ca + ".key",
         "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", ext)
    return pem, key


class Https:
    def __init__(self, env, afs, slug, work):
        self.env, self.afs, self.slug = env, afs, slug
        self.d = os.path.join(work, "https")
        shutil.rmtree(self.d, ignore_errors=True)
        os.makedirs(self.d)
        os.chmod(self.d, 0o755)
        self.user = "afs-bench-www-%d" % os.getpid()
        self.nginx = self.watch = None
        self.host = "csaf.bench"

    # -- set-up and clean-up --------------------------------------------------------------

    def setup(self):
        env, d = self.env, self.d
        subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", "--shell",
                        "/usr/sbin/nologin", self.user], check=True, capture_output=True)
        self.gid = int(subprocess.run(["id", "-g", self.user], capture_output=True, text=True,
                                      check=True).stdout)
        self.uid = int(subprocess.run(["id", "-u", self.user], capture_output=True, text=True,
                                      check=True).stdout)
        self.old_bind = None
        for o in json.loads(self.afs("org", "list", "--json").stdout):
            if o["slug"] == self.slug:
                self.old_bind = o["gid"]
        self.afs("org", "bind", self.slug, "--gid", self.gid)
        self.mnt = os.path.join(d, "mnt")
        os.makedirs(self.mnt)
        p = self.afs("mount", self.mnt, "-o", "allow_other")
        env.MOUNTS.append(self.mnt)
        t = time.monotonic()
        while not env.mounted(self.mnt):
            if time.monotonic() - t > 30:
                env.die("the HTTPS mount did not come up")
            time.sleep(0.01)
        del p
        self.copy = os.path.join(d, "tmpfs")
        os.makedirs(self.copy)
        env.sh("mount -t tmpfs -o size=50%% bench-https %s" % self.copy)
        env.MOUNTS.append(self.copy)
        t, _ = env.sh("cp -a %s %s/" % (os.path.join(self.mnt, self.slug), self.copy))
        env.log("https: copied the view to tmpfs in %.1f s" % t)
        ca = os.path.join(d, "ca")
        _ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj", "/CN=bench CA")
        self.ca = ca + ".pem"
        self.server = _issue(d, ca, "server", self.host, server=True)
        self.client = _issue(d, ca, "client", self.slug + "-client")
        self.afs("org", "cert", self.slug, "--add", self.client[0])
        self.ports = {"advisoryfs": _free_port(), "tmpfs": _free_port()}
        confs = []
        for name, root in (("advisoryfs", self.mnt), ("tmpfs", self.copy)):
            p = self.afs("provider", "nginx-conf", "--mount", root, "--server-name", self.host,
                         "--listen", "127.0.0.1:%d" % self.ports[name], "--cert", self.server[0],
                         "--key", self.server[1], "--ca", self.ca,
                         "--map-dir", os.path.join(d, "map-" + name))
            confs.append(p.stdout.decode())
        os.makedirs(os.path.join(d, "logs"))
        with open(os.path.join(d, "advisoryfs.conf"), "w") as f:
            f.write("\n".join(confs))
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write("user %s;\nworker_processes 2;\npid %s/nginx.pid;\n"
                    "error_log %s/logs/error.log;\nevents { worker_connections 1024; }\n"
                    "http {\n    access_log off;\n    sendfile on;\n"
                    "    keepalive_requests 1000000;\n    include %s/advisoryfs.conf;\n}\n"
                    % (self.user, d, d, d))
        self.nginx = subprocess.Popen(["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"),
                                       "-g", "daemon off;"], stderr=subprocess.PIPE)
        self.watch = subprocess.Popen(self.afs.argv("provider", "nginx-map", "--mount", self.mnt,
                                                    "--map-dir", os.path.join(d, "map-advisoryfs"),
                                                    "--watch"))
        for port in self.ports.values():
            t = time.monotonic()
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if self.nginx.poll() is not None or time.monotonic() - t > 10:
                        env.die("nginx did not start: %s" % self.nginx.stderr.read().decode())
                    time.sleep(0.02)
        self.paths = ["/%s/%s" % (self.slug, p) for p in
                      self.afs("visible", self.slug).stdout.decode().split()]

    def close(self):
        """Undo whatever setup() did, also after a failure half-way."""
        for p in (self.watch, self.nginx):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        for mp in (getattr(self, "copy", None), getattr(self, "mnt", None)):
            if mp:
                self.env.unmount(mp)
        if hasattr(self, "gid"):
            self.afs("org", "bind", self.slug, "--gid",
                     -1 if self.old_bind is None else self.old_bind, check=False)
        if hasattr(self, "client"):
            self.afs("org", "cert", self.slug, "--remove", self.client[0], check=False)
        subprocess.run(["userdel", self.user], capture_output=True)
        subprocess.run(["groupdel", self.user], capture_output=True)
        shutil.rmtree(self.d, ignore_errors=True)

    # -- the whole view, 16 clients ---------------------------------------------------------

    def fetch_all(self, name):
        """Seconds for CLIENTS curl processes, each fetching its share of the view
        over one keep-alive connection; every answer must be 200."""
        base = "https://%s:%d" % (self.host, self.ports[name])
        cfgs = []
        for i in range(CLIENTS):
            cfg = os.path.join(self.d, "urls-%s-%d" % (name, i))
            with open(cfg, "w") as f:
                for p in self.paths[i::CLIENTS]:
                    f.write('url = "%s%s"\noutput = "/dev/null"\n' % (base, p))
            cfgs.append(cfg)
        argv = ["curl", "-sS", "--http1.1", "--cacert", self.ca, "--cert", self.client[0],
                "--key", self.client[1], "--resolve", "%s:%d:127.0.0.1" % (self.host,
                                                                           self.ports[name]),
                "-w", "%{http_code} %{num_connects}\\n"]
        t = time.monotonic()
        procs = [subprocess.Popen(argv + ["-K", c], stdout=subprocess.PIPE) for c in cfgs]
        outs = [p.communicate()[0].decode().split("\n") for p in procs]
        el = time.monotonic() - t
        codes = [l.split() for o in outs for l in o if l]
        if len(codes) != len(self.paths) or any(c[0] != "200" for c in codes):
            bad = [c for c in codes if c[0] != "200"][:5]
            self.env.die("https fetch from %s: %d of %d answers, not all 200: %s"
                         % (name, len(codes), len(self.paths), bad))
        connects = sum(int(c[1]) for c in codes)
        if connects > CLIENTS:
            self.env.die("https fetch: %d connections for %d clients (no keep-alive)"
                         % (connects, CLIENTS))
        return el

    def compare(self, repeat):
        first = {n: self.fetch_all(n) for n in ("advisoryfs", "tmpfs")}
        runs = {"advisoryfs": [], "tmpfs": []}
        for _ in range(repeat):
            for n in ("tmpfs", "advisoryfs"):
                runs[n].append(self.fetch_all(n))
        return dict(first=first, runs=runs, files=len(self.paths),
                    bytes=sum(os.path.getsize(os.path.join(self.copy, p.lstrip("/")))
                              for p in self.paths))

    # -- revocation to 404 ------------------------------------------------------------------

    def _conn(self, name):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.load_cert_chain(*self.client)
        ctx.check_hostname = False
        return http.client.HTTPSConnection("127.0.0.1", self.ports[name], context=ctx,
                                           timeout=10)

    def _status(self, conn, path):
        """The status of GET path over conn; when nginx closed the connection, once
        more over a new one (counted in self.reconnects)."""
        for attempt in (0, 1):
            try:
                conn.request("GET", path, headers={"Host": self.host})
                r = conn.getresponse()
                r.read()
                return r.status
            except (http.client.RemoteDisconnected, ConnectionError):
                if attempt:
                    raise
                self.reconnects += 1
                conn.close()  # http.client connects again on the next request

    def revocation(self, ids, names, year_dir):
        """ids are published advisories the recipient sees at white/<year>/<name>."""
        conn = self._conn("advisoryfs")
        self.reconnects = 0
        paths = ["/%s/white/%s/%s" % (self.slug, year_dir, n) for n in names]
        t = time.monotonic()
        while not all(self._status(conn, p) == 200 for p in paths[-3:]):
            if time.monotonic() - t > 30:
                self.env.die("https: the published advisories did not appear")
            time.sleep(0.05)
        lat, timeouts, self.reconnects = [], 0, 0
        for tid, path in zip(ids, paths):
            if self._status(conn, path) != 200:
                self.env.die("https: %s is not served before its withdrawal" % path)
            done = [None]
            proc = subprocess.Popen(self.afs.argv("withdraw", tid), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

            def waiter(p=proc, box=done):
                p.wait()
                box[0] = time.monotonic()
            th = threading.Thread(target=waiter)
            th.start()
            t0 = time.monotonic()
            t1 = None
            while time.monotonic() - t0 < 10:
                if self._status(conn, path) == 404:
                    t1 = time.monotonic()
                    break
            th.join()
            if t1 is None:
                timeouts += 1
                t1 = time.monotonic()
            lat.append(max(0.0, t1 - done[0]))
        conn.close()
        return dict(n=len(ids), exit=lat, timeouts=timeouts, reconnects=self.reconnects)


def run(env, afs, slug, work, repeat, publish_revocable):
    """The HTTPS phase; publish_revocable() publishes the advisories the
    revocation part withdraws and returns (ids, names, year)."""
    for tool in ("nginx", "curl", "openssl", "useradd"):
        if not shutil.which(tool):
            env.log("https: %s not found (scripts/install-deps installs it): skipped" % tool)
            return None
    h = Https(env, afs, slug, work)
    try:
        h.setup()
        env.log("https: %d files of %s, %d clients, %d runs each" % (len(h.paths), slug,
                                                                     CLIENTS, repeat))
        res = h.compare(repeat)
        ids, names, year = publish_revocable()
        env.log("https: revocation, %d withdrawals" % len(ids))
        res["revocation"] = h.revocation(ids, names, year)
    finally:
        h.close()
    return res


def report(h, pct, fmt_s, verdict):
    """The report's lines for the HTTPS phase."""
    if not h:
        return ["https: skipped"]
    a, t = statistics.median(h["runs"]["advisoryfs"]), statistics.median(h["runs"]["tmpfs"])
    r = h["revocation"]
    return [
        "https (nginx, %d keep-alive clients with a client certificate, the whole view: %d files, "
        "%.1f MB): tmpfs copy %s, mount %s, ratio %.2fx  target <= 1.5x: %s" % (
            CLIENTS, h["files"], h["bytes"] / 1e6, fmt_s(t), fmt_s(a), a / t,
            verdict(a / t <= 1.5)),
        "  runs (s): tmpfs %s | mount %s; first pass, not in the ratio: "
        "tmpfs %s, mount %s" % (
            " ".join("%.3f" % x for x in h["runs"]["tmpfs"]),
            " ".join("%.3f" % x for x in h["runs"]["advisoryfs"]),
            fmt_s(h["first"]["tmpfs"]), fmt_s(h["first"]["advisoryfs"])),
        "https revocation to 404 (%d withdrawals, a keep-alive client polls the URL): from "
        "withdraw exit p50 %s, p99 %s, max %s%s  target p99 <= 100 ms: %s" % (
            r["n"], fmt_s(pct(r["exit"], 50)), fmt_s(pct(r["exit"], 99)), fmt_s(max(r["exit"])),
            ("; %d timed out (10 s)" % r["timeouts"] if r["timeouts"] else "") +
            ("; nginx closed the connection %d times" % r["reconnects"] if r["reconnects"]
             else ""),
            verdict(pct(r["exit"], 99) <= 0.1)),
    ]
