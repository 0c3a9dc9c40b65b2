"""A remote in a local folder (a shared disk, a mounted NFS export): ``/path`` or ``file:///path``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dmconf.remote.base import Remote

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["FolderRemote"]


class FolderRemote(Remote):
    kind = "folder"

    def _root(self, url: str) -> str:
        path = url[len("file://"):] if url.startswith("file://") else url
        return Path(path).expanduser().absolute().as_posix()

    def _open_fs(self) -> AbstractFileSystem:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()  # its mv is a rename within one file system
