"""A throwaway OpenSSH server for the poller tests: own host key, own user, loopback port.

``/usr/sbin/sshd -D -e -f CONFIG`` runs as root on a free 127.0.0.1 port with
``UsePAM no``, key (and password) authentication for one user made with ``useradd``
(``usermod -p HASH``: a locked ``!`` password would refuse even key logins), an
``AuthorizedKeysFile`` in the test's directory (``StrictModes no``) and
``internal-sftp``. Everything is removed again by :meth:`Sshd.close`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"
PASSWORD = "o2c-test-" + secrets.token_hex(8)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(*argv: str, stdin: str | None = None) -> str:
    done = subprocess.run(argv, check=True, timeout=30, capture_output=True, text=True, input=stdin)
    return done.stdout


class Sshd:
    """One running sshd and its user; build with :meth:`start`, end with :meth:`close`."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: that is 0700 root, the test user could not enter it.
        self.root = Path(tempfile.mkdtemp(prefix="o2c-sshd-"))
        self.root.chmod(0o755)
        self.user = "o2ct" + secrets.token_hex(4)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.user_made = False
        self.log = self.root / "sshd.log"

    @classmethod
    def start(cls) -> Sshd:
        server = cls()
        try:
            server._setup()
        except BaseException:
            server.close()
            raise
        return server

    def _setup(self) -> None:
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.root / "host_key"))
        self.host_key_line = " ".join((self.root / "host_key.pub").read_text().split()[:2])
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.root / "client_key"))
        self.client_key = (self.root / "client_key").read_text()
        (self.root / "authorized_keys").write_text((self.root / "client_key.pub").read_text())
        _run("useradd", "-M", "-d", str(self.root), "-s", "/usr/sbin/nologin", self.user)
        self.user_made = True
        hashed = _run("openssl", "passwd", "-6", "-stdin", stdin=PASSWORD).strip()
        _run("usermod", "-p", hashed, self.user)
        entry = pwd.getpwnam(self.user)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        config = self.root / "sshd_config"
        config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.root / 'host_key'}\n"
            "PidFile none\n"
            "UsePAM no\n"
            "StrictModes no\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication yes\n"
            "KbdInteractiveAuthentication no\n"
            f"AllowUsers {self.user}\n"
            "MaxStartups 50\n"
            "Subsystem sftp internal-sftp\n"
            "LogLevel INFO\n"
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its session children die with the group
            )
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log.read_text(errors='replace')}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError(f"sshd did not listen on {self.port}: {self.log.read_text()}")

    def folder(self, name: str) -> Path:
        """A directory owned by the test user (it may read, delete and rename there)."""
        path = self.root / name
        path.mkdir(parents=True)
        os.chown(path, self.uid, self.gid)
        return path

    def close(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            self.process = None
        if self.user_made:
            subprocess.run(["userdel", self.user], check=False, timeout=30, capture_output=True)
            self.user_made = False
        shutil.rmtree(self.root, ignore_errors=True)
