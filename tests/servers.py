"""Real servers for remote tests, started by the suite on 127.0.0.1.

- :class:`Sshd`: OpenSSH's ``sshd`` on a free loopback port, with its own config file, a
  generated host key and one authorized client key. Clients find the key, the host key and the
  port through a home folder of their own (``HOME``), as a user's ``~/.ssh`` would hold them.
- :class:`MotoS3`: ``moto``'s S3 server (``moto_server``) as a subprocess.

Both are skipped with the reason when they cannot start (no sshd installed, not root...).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(argv: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server whose output goes to ``log`` (a pipe nobody reads would fill up)."""
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    """Wait (bounded) until ``port`` accepts connections; fail with the server's output."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"{what} exited with {process.returncode}: {output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {START_TIMEOUT}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class Sshd:
    """A running sshd: ``home`` holds the client's ``.ssh`` (key, known_hosts, config)."""

    port: int
    home: Path
    data: Path  # the data folder of dmconf run over ssh
    alias: str = "dmconf-test"  # a Host entry of home/.ssh/config naming 127.0.0.1:port

    def url(self, path: str) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{path}"


def start_sshd(folder: Path) -> tuple[Sshd, subprocess.Popen[bytes]]:
    """Start sshd as root with its own config; raise pytest.skip when it cannot run here."""
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} is not installed (apt-get install openssh-server; .ci/run does)")
    if os.geteuid() != 0:
        pytest.skip("sshd needs root to switch to the logged-in user")
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("ssh-keygen is not installed (openssh-client)")
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    for key in (folder / "host_key", ssh / "id_ed25519"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True,
                       timeout=30)
    (folder / "authorized_keys").write_text((ssh / "id_ed25519.pub").read_text())
    port = free_port()
    host_key = (folder / "host_key.pub").read_text().split()
    (ssh / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (ssh / "config").write_text(
        f"Host dmconf-test\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
        f"  IdentityFile {ssh / 'id_ed25519'}\n  UserKnownHostsFile {ssh / 'known_hosts'}\n"
    )
    config = folder / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}",
        f"PidFile {folder / 'sshd.pid'}", f"AuthorizedKeysFile {folder / 'authorized_keys'}",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no",
        "Subsystem sftp internal-sftp",
        # the other side of `dmconf copy` runs with no settings file of this machine's user,
        # and its own data folder
        f"SetEnv DMCONF_SETTINGS=/dev/null DMCONF_DATA={folder / 'remote-data'}", "",
    ]))
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    log = folder / "sshd.log"
    process = launch([SSHD, "-D", "-e", "-f", str(config)], log)
    try:
        wait_for_port(port, process, "sshd", log)
    except RuntimeError as exc:
        pytest.skip(f"sshd could not be started here: {exc}")
    return Sshd(port, home, folder / "remote-data"), process


@dataclass
class MotoS3:
    endpoint: str

    def options(self) -> dict[str, str]:
        return {"endpoint_url": self.endpoint}


def start_moto(folder: Path) -> tuple[MotoS3, subprocess.Popen[bytes]]:
    exe = Path(sys.executable).with_name("moto_server")
    if not exe.exists():
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    log = folder / "moto.log"
    process = launch([str(exe), "-H", "127.0.0.1", "-p", str(port)], log, cwd=folder)
    wait_for_port(port, process, "moto_server", log)
    return MotoS3(f"http://127.0.0.1:{port}"), process


AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}
