"""``unzip``: zip archives (``zipfile`` reads them, :mod:`dmconf.unpack.extraction` writes).

``zipfile`` quietly rewrites ``..`` and absolute names; dmconf refuses them instead. Symbolic
links stored by Info-ZIP are made as links when they stay inside the folder and refused
otherwise (``zipfile`` alone would write the link's target as a file's content). Encrypted
members are refused with a line that says so (dmconf has no password to give).
"""

from __future__ import annotations

import logging
import stat
import zipfile
import zlib
from pathlib import Path

from dmconf.errors import UnpackError
from dmconf.unpack.base import Unpacker
from dmconf.unpack.extraction import Extraction
from dmconf.unpack.limits import DEFAULT, Limits
from dmconf.unpack.members import check_name, refuse

__all__ = ["Unzip"]

log = logging.getLogger("dmconf")

CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError,
           ValueError)
MAX_LINK = 4096  # bytes of a symlink's target


class Unzip(Unpacker):
    """Extract a zip archive into a new folder."""

    makes_folder = True

    def __init__(self, limits: Limits = DEFAULT) -> None:
        self.limits = limits

    def unpack(self, source: Path, target: Path) -> str:
        with Extraction(source, target, source.stat().st_size, self.limits) as extraction:
            try:
                with zipfile.ZipFile(source) as archive:
                    members = archive.infolist()
                    self.limits.check(source.name, sum(i.file_size for i in members),
                                      source.stat().st_size, len(members))
                    for info in members:
                        _extract(archive, info, extraction)
            except UnpackError:
                raise
            except CORRUPT as exc:
                raise UnpackError(
                    f"{source.name}: not a valid zip archive ({exc})", path=str(source)
                ) from None
            extraction.finish()
            return extraction.digest()


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, into: Extraction) -> None:
    name = info.orig_filename  # zipfile cuts the name at a NUL byte; the check must see it
    log.debug("%s: extracting %s", into.name, name)
    check_name(into.archive, name)
    if info.flag_bits & 0x1:
        raise refuse(into.archive, name, "it is encrypted, and dmconf has no password; use an "
                     "unencrypted copy of the archive")
    mode = info.external_attr >> 16
    if info.is_dir():
        into.directory(name)
    elif stat.S_ISLNK(mode):
        if info.file_size > MAX_LINK:
            raise refuse(into.archive, name, "its link target is too long")
        into.symlink(name, archive.read(info).decode("utf-8", "surrogateescape"))
    else:
        with archive.open(info) as data:
            into.file(name, data, bool(mode & 0o111))
