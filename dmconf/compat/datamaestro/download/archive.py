"""``zipdownloader`` and ``tardownloader``: an archive unpacked into a folder, as in datamaestro's
``datamaestro.download.archive``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dmconf.compat.datamaestro.download import Downloader

__all__ = ["TarDownloader", "ZipDownloader", "tardownloader", "zipdownloader"]


class _ArchiveDownloader(Downloader):
    """Download an archive and unpack it into the folder ``varname`` of the dataset's folder.

    As in datamaestro, an archive whose content is one folder becomes that folder (``unwrap``).

    The function receives that folder (or ``subpath`` inside it) in the parameter ``varname``.

    Args:
        varname: the parameter name, also the folder's name (the resource key).
        url: the archive's URL.
        subpath: a folder inside the archive to hand to the function instead of its top.
        checker: a sha256 string, or datamaestro's ``HashCheck`` (sha256 or md5).
        files: datamaestro extracts only these; dmconf unpacks everything (same paths).
        sha256: the sha256 of the archive; without it, the first download logs it.
        mirrors: other URLs serving the same bytes, tried in order.
    """

    unpack = "none"

    def __init__(
        self, varname: str, url: str, subpath: str | None = None, checker: Any = None,
        files: Iterable[str] | None = None, *, sha256: str | None = None,
        mirrors: Iterable[str] = (), transient: bool = False, **_: Any,
    ) -> None:
        placeholder = Path(varname, subpath.strip("/")) if subpath else Path(varname)
        super().__init__(
            varname, varname, url, self.unpack, checker=checker, sha256=sha256,
            mirrors=mirrors, placeholder=placeholder, transient=transient, unwrap=True,
        )


class zipdownloader(_ArchiveDownloader):  # datamaestro's spelling
    __doc__ = _ArchiveDownloader.__doc__
    unpack = "unzip"


class tardownloader(_ArchiveDownloader):  # datamaestro's spelling
    __doc__ = _ArchiveDownloader.__doc__
    unpack = "untar"


TarDownloader = tardownloader  # datamaestro's class-attribute spellings
ZipDownloader = zipdownloader
