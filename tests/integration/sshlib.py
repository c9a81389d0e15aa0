"""Helpers of the remote-mount tests (test_remote.py, test_valgrind.py): a real
OpenSSH server that the test starts on a free loopback port, with its own host
key, config and authorized_keys (one key per recipient, each with the forced
command `advisoryfs -s STORE serve --as SLUG`), and remote mounts through it
that always unmount.

sshd runs as root (the tests do), accepts only keys, and only from 127.0.0.1;
it is stopped at the end of the test, also when it fails.
"""

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from helpers import BIN, wait_for

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
SSH = shutil.which("ssh")
SSH_KEYGEN = shutil.which("ssh-keygen")
FUSERMOUNT = shutil.which("fusermount3")

needs_sshd = [
    pytest.mark.skipif(os.geteuid() != 0, reason="sshd for the tests runs as root"),
    pytest.mark.skipif(SSHD is None or SSH is None or SSH_KEYGEN is None,
                       reason="no OpenSSH (scripts/install-deps installs it)"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
    pytest.mark.skipif(FUSERMOUNT is None, reason="no fusermount3"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path):
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f",
                    str(path)], check=True)
    return path


class Sshd:
    """An sshd on 127.0.0.1:port.  key(name, command) makes a client key and
    authorizes it (with a forced command unless command is None)."""

    def __init__(self, d):
        self.dir = Path(d)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.hostkey = keygen(self.dir / "host_ed25519")
        self.auth = self.dir / "authorized_keys"
        self.auth.write_text("")
        self.auth.chmod(0o600)
        self.config = self.dir / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.hostkey}\n"
            f"AuthorizedKeysFile {self.auth}\nPidFile {self.dir / 'sshd.pid'}\n"
            "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\n"
            "UseDNS no\nLogLevel ERROR\nMaxStartups 100:30:200\nMaxSessions 100\n"
            f"Subsystem sftp internal-sftp\n")
        self.log = open(self.dir / "sshd.log", "a")
        self.proc = None
        os.makedirs("/run/sshd", exist_ok=True)   # its privilege separation directory
        self.start()

    def key(self, name, command):
        k = keygen(self.dir / f"id_{name}")
        pub = (self.dir / f"id_{name}.pub").read_text().strip()
        line = f'command="{command}",restrict {pub}\n' if command is not None else pub + "\n"
        with open(self.auth, "a") as f:
            f.write(line)
        return k

    def serve_command(self, store, slug, prefix=""):
        return f"{prefix}{BIN} -s {store} serve --as {slug}"

    def ssh_command(self, key, extra=""):
        """The -o ssh_command= of a mount with this key (no blanks inside a word)."""
        return (f"{SSH} -F /dev/null -i {key} -p {self.port} -o IdentitiesOnly=yes "
                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                "-o BatchMode=yes -o LogLevel=ERROR -o ServerAliveInterval=5 "
                f"-o ServerAliveCountMax=2 -o ConnectTimeout=10 -T -x {extra}").strip()

    def start(self):
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)],
                                     stdout=self.log, stderr=self.log)

        def up():
            if self.proc.poll() is not None:
                return True
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    return s.recv(4).startswith(b"SSH")
            except OSError:
                return False
        wait_for(up, 20, 0.02)
        assert self.proc.poll() is None, (self.dir / "sshd.log").read_text()

    def stop(self):
        """Stop listening (sessions already open live on in their own processes)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        self.log.close()


def children(pid):
    """Pids of the direct children of pid."""
    p = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


class RemoteMount:
    """A foreground remote mount (`advisoryfs mount MNT --remote root@127.0.0.1 -f`)."""

    def __init__(self, mnt, ssh_command, *opts, logdir, prefix=(), host="root@127.0.0.1"):
        self.mnt = Path(mnt)
        self.mnt.mkdir(parents=True, exist_ok=True)
        self.errpath = Path(logdir) / f"{self.mnt.name}-{secrets.token_hex(3)}.stderr"
        self.err = open(self.errpath, "w+")
        o = ",".join(["ssh_command=" + ssh_command.replace(",", "\\,")] + list(opts))
        cmd = [*prefix, BIN, "mount", str(self.mnt), "--remote", host, "-f", "-o", o]
        self.done = False
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        wait_for(lambda: os.path.ismount(self.mnt) or self.proc.poll() is not None,
                 120 if prefix else 30)
        if not os.path.ismount(self.mnt):
            err = self.stderr()
            self.kill()
            raise AssertionError(f"remote mount failed: {err}")

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def ssh_pids(self):
        return [p for p in children(self.proc.pid)
                if Path(f"/proc/{p}/comm").exists() and
                Path(f"/proc/{p}/comm").read_text().strip() == "ssh"]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.path.ismount(self.mnt):
            subprocess.run([FUSERMOUNT, "-uz", str(self.mnt)], capture_output=True)
        self.err.close()

    def unmount(self, check=True, timeout=30):
        if self.done:
            return 0
        self.done = True
        if os.path.ismount(self.mnt):
            if subprocess.run([FUSERMOUNT, "-u", str(self.mnt)],
                              capture_output=True).returncode != 0:
                time.sleep(0.5)
                subprocess.run([FUSERMOUNT, "-uz", str(self.mnt)], capture_output=True)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("the remote mount's daemon did not exit after unmounting")
        err = self.stderr()
        self.err.close()
        if check:
            assert rc == 0, f"remote mount exited {rc}: {err}"
        return rc
