"""A remote reached over SSH (SFTP): ``ssh://user@host[:port]/path`` or ``sftp://...``.

Uses ``sshfs`` (asyncssh). Keys, ``~/.ssh/config`` and ``~/.ssh/known_hosts`` are read as
OpenSSH reads them; unlike sshfs's default, the server's host key is always checked against
known_hosts (set ``options: {known_hosts: FILE}`` to use another file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from dmconf.errors import SettingsError
from dmconf.remote.base import Remote

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["SFTPRemote", "ssh_options"]


class SFTPRemote(Remote):
    kind = "ssh"
    extra = "ssh"

    def _root(self, url: str) -> str:
        path = unquote(urlsplit(url).path)
        if not path.startswith("/") or path == "/":
            raise SettingsError(f"remote {self.name!r}: {url} needs an absolute folder after the "
                                "host (ssh://user@host/srv/dmconf)")
        return path.rstrip("/")

    def _open_fs(self) -> AbstractFileSystem:
        from sshfs import SSHFileSystem

        # A fresh connection per remote: fsspec's instance cache would skip the host key check
        # of a connection made earlier in the process, with other keys or known hosts.
        return SSHFileSystem(skip_instance_cache=True,
                             **ssh_options(self.url, self.options, self.settings.connect_timeout))


def ssh_options(url: str, options: dict[str, Any], timeout: float) -> dict[str, Any]:
    """asyncssh connection options for ``url``: host, port and user, then ``options``."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise SettingsError(f"{url}: no host (expected ssh://user@host/path)")
    found: dict[str, Any] = {"host": parts.hostname, "timeout": timeout}
    if parts.port:
        found["port"] = parts.port
    if parts.username:
        found["username"] = unquote(parts.username)
    found["known_hosts"] = ()  # asyncssh's default: ~/.ssh/known_hosts (sshfs would pass None)
    found.update(options)
    return found
