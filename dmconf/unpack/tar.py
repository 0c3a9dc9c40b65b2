"""``untar``: plain, gzip, bzip2 and xz tar archives, read in one pass.

``tarfile`` parses the archive; dmconf writes every member itself through
:class:`~dmconf.unpack.extraction.Extraction`, which never relies on ``realpath`` or on the
interpreter's ``data`` filter being current. Where the interpreter has that filter
(``tarfile.data_filter``), it also runs, as a second opinion. Devices and FIFOs are refused.
The compressed stream is read to its end after the last member, so a truncated or corrupt
``.tar.xz`` fails instead of extracting half of the archive silently.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import tarfile
import zlib
from pathlib import Path
from typing import IO, Any

from dmconf.checksum import tree_sha256
from dmconf.errors import UnpackError
from dmconf.unpack.base import Unpacker
from dmconf.unpack.extraction import Extraction
from dmconf.unpack.limits import DEFAULT, Limits
from dmconf.unpack.members import check_name, refuse

__all__ = ["HAS_DATA_FILTER", "Untar", "decompressed"]

log = logging.getLogger("dmconf")

HAS_DATA_FILTER = hasattr(tarfile, "data_filter")
CORRUPT = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, ValueError, gzip.BadGzipFile)
MAGIC: dict[bytes, Any] = {
    b"\x1f\x8b": lambda raw: gzip.GzipFile(fileobj=raw), b"BZh": bz2.BZ2File,
    b"\xfd7zXZ\x00": lzma.LZMAFile,
}


class Untar(Unpacker):
    """Extract a tar archive into a new folder."""

    makes_folder = True

    def __init__(self, use_data_filter: bool = HAS_DATA_FILTER, limits: Limits = DEFAULT) -> None:
        self.use_data_filter = use_data_filter
        self.limits = limits

    def unpack(self, source: Path, target: Path) -> str:
        extraction = Extraction(source, target, source.stat().st_size, self.limits)
        try:
            with open(source, "rb") as raw, decompressed(raw) as stream:
                with tarfile.open(fileobj=stream, mode="r|") as tar:
                    for member in tar:
                        self._extract(tar, member, extraction, str(target))
                while stream.read(1 << 20):  # to the end: a truncated stream raises here
                    pass
        except UnpackError:
            raise
        except tarfile.FilterError as exc:  # refused by the interpreter's data filter
            raise refuse(source, exc.tarinfo.name, str(exc)) from None
        except CORRUPT as exc:
            raise UnpackError(
                f"{source.name}: not a valid tar archive ({exc})", path=str(source)
            ) from None
        extraction.finish()
        return tree_sha256(target)

    def _extract(self, tar: tarfile.TarFile, member: tarfile.TarInfo, into: Extraction,
                 dest: str) -> None:
        log.debug("%s: extracting %s", into.archive.name, member.name)
        check_name(into.archive, member.name)  # dmconf's own verdict comes first
        if self.use_data_filter and member.name.strip("/"):
            tarfile.data_filter(member, dest)
        if member.isdir():
            into.directory(member.name)
        elif member.isfile():
            data = tar.extractfile(member)
            assert data is not None  # a regular file always has data
            into.file(member.name, data, bool(member.mode & 0o111))
        elif member.issym():
            into.symlink(member.name, member.linkname)
        elif member.islnk():
            into.hardlink(member.name, member.linkname)
        else:
            raise refuse(into.archive, member.name, "it is a device or pipe, not a file")


def decompressed(raw: IO[bytes]) -> Any:
    """The archive's decompressed stream (by magic number), or the file itself."""
    head = raw.read(6)
    raw.seek(0)
    for magic, opener in MAGIC.items():
        if head.startswith(magic):
            return opener(raw)
    return raw
