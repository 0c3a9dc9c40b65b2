"""``dmconf copy``: put prepared datasets on another machine over SSH, prepared there.

``dmconf copy ID... [user@]host[:DATAFOLDER]`` (or ``ssh://user@host:port/DATAFOLDER``) pushes
each dataset to a remote store inside the other machine's data folder
(``DATAFOLDER/.dmconf-store``, over SFTP), then runs ``dmconf pull ID@DIGEST`` there, which
verifies every blob again and leaves the dataset prepared. The store stays, so the next copy of
a new version sends only the files that changed. Without DATAFOLDER, the other machine's own
data folder is asked for (``dmconf where``). Keys, ``~/.ssh/config`` and known hosts are read
as OpenSSH reads them; the host key is always checked.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dmconf.errors import RemoteError, SettingsError
from dmconf.remote import STORE
from dmconf.remote.sftp import SFTPRemote, ssh_options
from dmconf.remote.transfer import push

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["copy", "parse_destination"]

log = logging.getLogger("dmconf")



def parse_destination(destination: str) -> tuple[str, str | None]:
    """``user@host:/data`` -> (``ssh://user@host``, ``/data``); ssh:// URLs are accepted too."""
    if destination.startswith(("ssh://", "sftp://")):
        rest = destination.split("://", 1)[1]
        authority, slash, path = rest.partition("/")
        return f"ssh://{authority}", f"/{path}" if slash and path else None
    host, _, folder = destination.partition(":")
    if not host or "/" in host:
        raise SettingsError(f"{destination!r}: expected [USER@]HOST[:DATAFOLDER]")
    if folder and not folder.startswith("/"):
        raise SettingsError(f"{destination!r}: DATAFOLDER must be an absolute path")
    return f"ssh://{host}", folder or None


def copy(
    definitions: Iterable[DatasetDefinition], destination: str, settings: Settings, *,
    dmconf: str = "dmconf", force: bool = False,
) -> list[str]:
    """Push each dataset to the other machine and prepare it there; ``ID@DIGEST`` lines."""
    from dmconf.settings import RemoteSettings

    base, folder = parse_destination(destination)
    options = ssh_options(base, {}, settings.connect_timeout)
    if folder is None:
        folder = _run(options, [dmconf, "where"], destination).strip().splitlines()[-1]
    env = f"DMCONF_DATA={shlex.quote(folder)}"
    store = f"{folder.rstrip('/')}/{STORE}"
    remote = SFTPRemote(destination, RemoteSettings(url=base + quote(store)), settings)
    done = []
    for definition in definitions:
        pushed = push(definition, settings, remote, force=force)
        log.info("%s: %d of %d blob(s) sent to %s; preparing there", definition.id, pushed.sent,
                 pushed.blobs, destination)
        reference = f"{definition.id}@{pushed.digest}"
        _run(options, ["env", env, dmconf, "pull", reference, "-r", store], destination)
        done.append(reference)
    return done


def _run(options: dict[str, Any], argv: list[str], where: str) -> str:
    """Run ``argv`` on the other machine; its stdout, or RemoteError with its last error line."""
    import asyncssh

    command = " ".join(shlex.quote(arg) for arg in argv)
    options = dict(options)
    options["connect_timeout"] = options.pop("timeout", None)  # sshfs's name for it

    async def run() -> Any:
        async with asyncssh.connect(**options) as connection:
            return await connection.run(command, check=False)

    try:
        result = asyncio.run(run())
    except (OSError, asyncssh.Error) as exc:
        raise RemoteError(f"{where}: cannot run {argv[0]} over ssh: {exc}", remote=where) from exc
    for line in str(result.stderr or "").splitlines():
        log.debug("%s: %s", where, line)
    if result.exit_status != 0:
        last = (str(result.stderr or "").strip().splitlines() or ["no message"])[-1]
        raise RemoteError(
            f"{where}: `{command}` failed (exit {result.exit_status}): {last}", remote=where)
    return str(result.stdout or "")
