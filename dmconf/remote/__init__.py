"""Remotes: content-addressed stores of prepared datasets, one file per kind, on fsspec.

==========================  ===============================  ============================
URL                         kind                             module
==========================  ===============================  ============================
``/path``, ``file://…``     a folder (shared disk)           :mod:`dmconf.remote.folder`
``ssh://``, ``sftp://``     SFTP through sshfs               :mod:`dmconf.remote.sftp`
``s3://``                   S3 or compatible, through s3fs  :mod:`dmconf.remote.s3`
``https://``, ``http://``   read-only web server             :mod:`dmconf.remote.https`
==========================  ===============================  ============================

Named remotes live in the settings (``remote: {lab: {url: ...}}``, written by ``dmconf remote
add``); :func:`open_remote` accepts a name or a URL. Moving data is in
:mod:`dmconf.remote.transfer` (push, pull, prepare's first source) and
:mod:`dmconf.remote.copy` (to another machine over SSH).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dmconf.errors import SettingsError

if TYPE_CHECKING:
    from dmconf.remote.base import Remote
    from dmconf.settings import Settings

__all__ = ["KINDS", "STORE", "kind_of", "open_remote"]

#: the remote that `dmconf copy` keeps inside the other machine's data folder
STORE = ".dmconf-store"

# scheme -> "module:class", imported on first use (as fsspec's registry does)
KINDS = {
    "file": "dmconf.remote.folder:FolderRemote",
    "ssh": "dmconf.remote.sftp:SFTPRemote",
    "sftp": "dmconf.remote.sftp:SFTPRemote",
    "s3": "dmconf.remote.s3:S3Remote",
    "https": "dmconf.remote.https:HTTPRemote",
    "http": "dmconf.remote.https:HTTPRemote",
}


def kind_of(url: str) -> str:
    """The scheme of a remote URL (``file`` for a plain path); SettingsError if unknown."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    if scheme not in KINDS:
        raise SettingsError(
            f"{url}: remotes are folders, ssh://, sftp://, s3:// or https:// URLs, not {scheme}://"
        )
    return scheme


def open_remote(name_or_url: str, settings: Settings) -> Remote:
    """The remote named in the settings, or an unnamed one for a URL or folder path."""
    from dmconf.settings import RemoteSettings

    config = settings.remote.get(name_or_url)
    if config is None:
        if "://" not in name_or_url and "/" not in name_or_url:
            known = ", ".join(sorted(settings.remote)) or "none"
            raise SettingsError(
                f"no remote named {name_or_url!r} (known: {known}); add one with "
                f"`dmconf remote add {name_or_url} URL`"
            )
        config = RemoteSettings(url=name_or_url)
    module, cls = KINDS[kind_of(config.url)].split(":")
    remote: Remote = getattr(importlib.import_module(module), cls)(name_or_url, config, settings)
    return remote
