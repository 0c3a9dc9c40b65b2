"""``untar``: plain, gzip, bzip2 and xz tar archives, read in one pass.

``tarfile`` parses the archive; dmconf writes every member itself through
:class:`~dmconf.unpack.extraction.Extraction`, which never relies on ``realpath`` or on the
interpreter's ``data`` filter being current. Where the interpreter has that filter
(``tarfile.data_filter``), it also runs, as a second opinion, on every member but one kind
whose verdict is known without it (:meth:`Untar._second_opinion`). Devices and FIFOs are
refused. Each member is written as soon as it is parsed, on the parsing thread: a second
thread writing the members (issue 14's first pass) cost twice the time on an idle machine,
its hand-offs and the GIL taken back after each system call outweighing the parse it
overlapped (BENCHMARKS.md, *tar.gz of 10,000 files*). The compressed stream is read to its
end after the last member, so a truncated or corrupt ``.tar.xz`` fails instead of extracting
half of the archive silently.

Two parsers give the members: libarchive's, in C (:mod:`~dmconf.unpack.tar_libarchive`, where
``libarchive-c`` and the library are installed: the ``fast`` extra), else ``tarfile``'s, in
pure Python; both read the same decompressed stream and hand their members to the same checks.
An archive libarchive warns about is read again by ``tarfile`` (:class:`Differs`).
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import shutil
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from dmconf.errors import UnpackError
from dmconf.unpack.base import Unpacker
from dmconf.unpack.extraction import Extraction
from dmconf.unpack.limits import DEFAULT, Limits
from dmconf.unpack.members import check_name, refuse
from dmconf.unpack.tar_libarchive import Differs, LibarchiveTar, binding

__all__ = ["HAS_DATA_FILTER", "PARSERS", "Untar", "decompressed"]

log = logging.getLogger("dmconf")

HAS_DATA_FILTER = hasattr(tarfile, "data_filter")
PARSERS = ("libarchive", "tarfile")
PARSER: str | None = None  # which parser Untar uses when not told: None for the fastest here


def _gzip() -> tuple[Any, tuple[type[Exception], ...]]:
    """ISA-L's gzip reader where ``isal`` is installed (the ``fast`` extra), else gzip's."""
    try:
        from isal import igzip, isal_zlib
    except ImportError:  # pragma: no cover - depends on what is installed
        return gzip.GzipFile, ()
    error: type[Exception] = isal_zlib.error  # type: ignore[assignment]  # typed as a value
    return igzip.IGzipFile, (error,)


GZIP, GZIP_ERRORS = _gzip()
CORRUPT: tuple[type[Exception], ...] = (
    tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, ValueError, gzip.BadGzipFile,
    *GZIP_ERRORS)
MAGIC: dict[bytes, Any] = {
    b"\x1f\x8b": lambda raw: GZIP(fileobj=raw), b"BZh": bz2.BZ2File,
    b"\xfd7zXZ\x00": lzma.LZMAFile,
}


class Untar(Unpacker):
    """Extract a tar archive into a new folder."""

    makes_folder = True

    def __init__(self, use_data_filter: bool = HAS_DATA_FILTER, limits: Limits = DEFAULT,
                 parser: str | None = None) -> None:
        self.use_data_filter = use_data_filter
        self.limits = limits
        self.parser = parser  # one of PARSERS; None: PARSER, else libarchive where installed

    def unpack(self, source: Path, target: Path) -> str:
        parser = self.parser or PARSER or ("libarchive" if binding() else "tarfile")
        if parser == "libarchive":
            try:
                return self._unpack(source, target, LibarchiveTar)
            except Differs as exc:  # what tarfile would read may differ: it reads it
                log.debug("%s: libarchive says %s; reading it with tarfile", source.name, exc)
                shutil.rmtree(target)
        return self._unpack(source, target, _tarfile)

    def _unpack(self, source: Path, target: Path, reader: Callable[[IO[bytes]], Any]) -> str:
        dest = str(target)
        vouched: set[str] = {""}  # folders the data filter has seen (the root: itself)
        with Extraction(source, target, source.stat().st_size, self.limits) as extraction:
            try:
                with open(source, "rb") as raw, decompressed(raw) as stream, reader(
                        stream) as tar:
                    for member in tar:
                        data = tar.extractfile(member) if member.isfile() else None
                        self._extract(member, data, extraction, dest, vouched)
                    extraction.drain(stream)  # to the end: a truncated stream raises here
            except UnpackError:
                raise
            except tarfile.FilterError as exc:  # refused by the interpreter's data filter
                raise refuse(source, exc.tarinfo.name, str(exc)) from None
            except CORRUPT as exc:
                raise UnpackError(
                    f"{source.name}: not a valid tar archive ({exc})", path=str(source)
                ) from None
            extraction.finish()
            return extraction.digest()

    def _extract(self, member: tarfile.TarInfo, data: IO[bytes] | None, into: Extraction,
                 dest: str, vouched: set[str]) -> None:
        """Write one member, before the next is parsed."""
        log.debug("%s: extracting %s", into.name, member.name)
        taken = None
        if self.use_data_filter and member.name.strip("/"):
            taken = self._second_opinion(into.archive, member, dest, vouched)
        if member.isdir():
            into.directory(member.name)
        elif member.isfile():
            assert data is not None
            into.file(member.name, data, bool(member.mode & 0o111), taken, member.size)
        elif member.issym():
            into.symlink(member.name, member.linkname)
        elif member.islnk():
            into.hardlink(member.name, member.linkname)
        else:
            raise refuse(into.archive, member.name, "it is a device or pipe, not a file")

    @staticmethod
    def _second_opinion(archive: Path, member: tarfile.TarInfo, dest: str, vouched: set[str]
                        ) -> Callable[[], object]:
        """Run the interpreter's ``data`` filter on ``member``, unless its verdict is known.

        It is known for a regular file created under a free name in a folder the filter has
        vouched for (``realpath`` of the folder inside ``dest``): the filter's only refusals
        for such a member are an absolute name (which :func:`check_name` refused first) and a
        ``realpath`` outside ``dest``, and the ``realpath`` of a free name is its folder's
        plus the name. Folders are never removed or replaced during an extraction (a member
        reusing a folder's name is refused), so a folder vouched for stays so. Returns what
        runs the filter on the member if its name turns out to be taken (the last member of a
        name wins: the filter then sees the earlier one, possibly a link).
        """
        def run() -> object:
            check_name(archive, member.name)  # dmconf's own verdict comes first
            return tarfile.data_filter(member, dest)

        folder = "/".join(p for p in member.name.split("/")[:-1] if p not in ("", "."))
        if folder not in vouched:
            check_name(archive, member.name)
            info = tarfile.TarInfo(folder + "/")
            info.type = tarfile.DIRTYPE
            try:
                tarfile.data_filter(info, dest)
            except tarfile.FilterError as exc:  # said about the member that needs the folder
                raise refuse(archive, member.name, str(exc)) from None
            vouched.add(folder)
            run()  # the first member of a folder is always seen
        elif not member.isfile():
            run()
        return run


def _tarfile(stream: IO[bytes]) -> tarfile.TarFile:
    return tarfile.open(fileobj=stream, mode="r|")


def decompressed(raw: IO[bytes]) -> Any:
    """The archive's decompressed stream (by magic number), or the file itself."""
    head = raw.read(6)
    raw.seek(0)
    for magic, opener in MAGIC.items():
        if head.startswith(magic):
            return opener(raw)
    return raw
