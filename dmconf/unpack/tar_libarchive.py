"""Tar archives parsed by libarchive (``libarchive-c``, in dmconf's ``fast`` extra), in C.

libarchive only parses here; it never writes a file. It is handed the stream ``tarfile`` would
read (the archive's decompressed bytes: ISA-L's gzip where installed, bz2, lzma, or the file
itself), with the tar format alone enabled and no decompression filter of its own, so a zip,
cpio or 7z archive, or a stream compressed twice, is not a valid tar archive (an ISO image, 32
KiB of zeros first, is an empty one, as for ``tarfile``). Each entry
becomes a :class:`tarfile.TarInfo` (name, type, size, mode, link target) and its data is read
through :meth:`LibarchiveTar.extractfile`: :class:`LibarchiveTar` has the part of
``tarfile.TarFile``'s stream-mode interface that :class:`~dmconf.unpack.tar.Untar` uses, which
writes every member through the same checks as one parsed by ``tarfile``.

Where libarchive's reading could differ from ``tarfile``'s it says so with a warning (a pax name,
link target or owner it could not convert from UTF-8, a malformed pax attribute or ACL): then
:class:`Differs` is raised and ``Untar`` starts over with ``tarfile``. An error (a damaged header,
data shorter than its header says, a stream that fails to inflate) is a
:class:`tarfile.ReadError` with libarchive's message, or what the stream raised.

libarchive-c finds the library with ``ctypes.util.find_library``, which runs ``ldconfig`` (60-70
ms); :func:`binding` first tries the library's usual names with ``dlopen`` and hands the one that
loads to libarchive-c (``$LIBARCHIVE``, which libarchive-c reads, is set during its import only).
"""

from __future__ import annotations

import ctypes
import os
import sys
import tarfile
import threading
from functools import cache
from typing import IO, Any

__all__ = ["Differs", "LibarchiveTar", "binding"]

SONAMES = ("libarchive.so.13", "libarchive.13.dylib")
BLOCK = 1 << 16  # bytes handed to libarchive per read
EOF, OK, WARN = 1, 0, -20  # archive.h's return codes
TYPES = {0o040000: tarfile.DIRTYPE, 0o120000: tarfile.SYMTYPE, 0o020000: tarfile.CHRTYPE,
         0o060000: tarfile.BLKTYPE, 0o010000: tarfile.FIFOTYPE, 0o100000: tarfile.REGTYPE}
SPECIAL = b"?"  # any other type (a socket): neither file, folder nor link, so refused
KEPT = 64  # blocks of the stream kept for reading header blocks again (4 MiB)
EXTENSIONS = (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.XGLTYPE,
              tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
KNOWN = (*tarfile.REGULAR_TYPES, tarfile.LNKTYPE, tarfile.SYMTYPE, tarfile.CHRTYPE,
         tarfile.BLKTYPE, tarfile.DIRTYPE, tarfile.FIFOTYPE)  # both parsers read them alike
_IMPORT = threading.Lock()


class Differs(Exception):
    """libarchive would read the archive otherwise than ``tarfile``, which reads it instead."""


class Binding:
    """libarchive-c's functions, and four bound again without its error check, which raises
    on errors and logs warnings: here a warning's code must be seen, and nothing logged."""

    def __init__(self, ffi: Any) -> None:
        self.ffi = ffi
        self.next_header = self._raw("read_next_header2", [ctypes.c_void_p] * 2, ctypes.c_int)
        self.read_data = self._raw("read_data", [ctypes.c_void_p, ctypes.c_void_p,
                                                 ctypes.c_size_t], ctypes.c_ssize_t)
        self.set_options = self._raw("read_set_options", [ctypes.c_void_p, ctypes.c_char_p],
                                     ctypes.c_int)
        self.header_position = self._raw("read_header_position", [ctypes.c_void_p],
                                         ctypes.c_int64)

    def _raw(self, name: str, argtypes: list[Any], restype: Any) -> Any:
        function = self.ffi.libarchive["archive_" + name]  # a new object: libarchive-c's stays
        function.argtypes, function.restype = argtypes, restype
        return function


@cache
def binding() -> Binding | None:
    """libarchive, or ``None`` when libarchive-c or the library itself is missing."""
    try:
        if "libarchive.ffi" in sys.modules or "LIBARCHIVE" in os.environ:
            from libarchive import ffi
        else:
            ffi = _import(_soname())
        return Binding(ffi)
    except (ImportError, OSError, AttributeError):  # AttributeError: no such function
        return None


def _soname() -> str:
    for name in SONAMES:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return name
    raise OSError("libarchive is not installed")


def _import(soname: str) -> Any:
    with _IMPORT:
        os.environ["LIBARCHIVE"] = soname
        try:
            from libarchive import ffi
        finally:
            del os.environ["LIBARCHIVE"]
    return ffi


class LibarchiveTar:
    """The tar archive in ``stream``, read by libarchive; iterate, then :meth:`close`."""

    def __init__(self, stream: IO[bytes]) -> None:
        lib = binding()
        if lib is None:
            raise OSError("libarchive is not installed")
        self._lib, ffi = lib, lib.ffi
        self._stream = stream
        self._failure: BaseException | None = None
        self._seen = _Window()  # the stream's last blocks, as handed to libarchive
        self._data_buffer = ctypes.create_string_buffer(BLOCK)  # what it hands out
        self._output = ctypes.cast(self._data_buffer, ctypes.c_void_p)
        self._callback = ffi.READ_CALLBACK(self._read)  # referenced while libarchive reads
        self._left = 0  # bytes of the current member's data not read yet
        self._entry = self._archive = None
        try:
            self._archive = ffi.read_new()
            ffi.read_support_format_tar(self._archive)  # tar only: no other format is tried
            lib.set_options(self._archive, b"tar:!mac-ext")  # ._ files are files (macOS' default)
            self._entry = ffi.entry_new()
            ffi.read_open(self._archive, None, ffi.NO_OPEN_CB, self._callback, ffi.NO_CLOSE_CB)
        except Exception as exc:
            self.close()
            self._raise(exc)

    def __iter__(self) -> Any:
        while True:
            code = self._lib.next_header(self._archive, self._entry)
            if code == EOF and self._failure is None:
                return
            if code == WARN and self._failure is None:
                raise Differs(self._message(None))
            if code != OK:
                self._raise()  # what the stream raised, else libarchive's error
            member = self._member()
            self._same_as_tarfile(member)
            yield member

    def extractfile(self, member: tarfile.TarInfo) -> _Data:
        """The data of ``member``, the entry just read (as ``tarfile`` in stream mode)."""
        return _Data(self)

    def close(self) -> None:
        ffi = self._lib.ffi
        if self._archive is not None:
            ffi.read_free(self._archive)
            self._archive = None
        if self._entry is not None:
            ffi.entry_free(self._entry)
            self._entry = None

    def __enter__(self) -> LibarchiveTar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _member(self) -> tarfile.TarInfo:
        ffi, entry = self._lib.ffi, self._entry
        info = tarfile.TarInfo(os.fsdecode(ffi.entry_pathname(entry) or b""))
        info.mode = ffi.entry_perm(entry)
        hardlink = ffi.entry_hardlink(entry)
        if hardlink is not None:  # before the type: libarchive gives a hard link one
            info.type, info.linkname = tarfile.LNKTYPE, os.fsdecode(hardlink)
        else:
            info.type = TYPES.get(ffi.entry_filetype(entry) & 0o170000, SPECIAL)
        if info.type == tarfile.REGTYPE:
            info.size = ffi.entry_size(entry)
        elif info.type == tarfile.SYMTYPE:
            info.linkname = os.fsdecode(ffi.entry_symlink(entry) or b"")
        elif info.type == tarfile.DIRTYPE:
            info.name = info.name.rstrip("/")  # as tarfile names a folder
        self._left = info.size
        return info

    def _data(self, size: int) -> bytes:
        """Up to ``size`` bytes of the current member's data (``b""`` at its end)."""
        size = min(size, self._left, BLOCK)
        if size <= 0:
            return b""
        got = self._lib.read_data(self._archive, self._output, size)
        if got < 0:
            self._raise()
        if got == 0:
            raise tarfile.ReadError("unexpected end of data")
        self._left -= got
        return ctypes.string_at(self._output, got)

    def _same_as_tarfile(self, member: tarfile.TarInfo) -> None:
        """Raise :class:`Differs` where ``tarfile`` would read this entry otherwise.

        libarchive says nothing of these, so its header blocks are read here (from
        :func:`archive_read_header_position`): a pax value holding a NUL byte (libarchive's
        name stops there, tarfile's holds it and is refused), a global pax header (tarfile
        applies it to the members after it, libarchive ignores it), a type tarfile does not
        know (libarchive makes a file or folder of it, tarfile refuses it), a size on a link,
        folder or device (tarfile reads no data after it; libarchive may, as pax allows for a
        hard link), a folder given as a file whose name ends in ``/``.
        """
        position = self._lib.header_position(self._archive)
        sized = False  # whether a pax header gives a size
        while True:
            block = self._seen.at(position, 512)
            kind = block[156:157]
            try:
                size = tarfile.nti(block[124:136])  # type: ignore[attr-defined]
            except tarfile.TarError:
                raise Differs("a size tarfile cannot read") from None
            if kind not in EXTENSIONS:
                break
            if kind == tarfile.XGLTYPE:
                raise Differs("a global pax header")
            if kind in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
                records = self._seen.at(position + 512, size)
                if b"\0" in records:
                    raise Differs("a pax value holds a NUL byte")
                sized = sized or b" size=" in records
            position += 512 + -(-size // 512) * 512
        if kind not in KNOWN:
            raise Differs(f"type {kind!r}")
        regular = kind in tarfile.REGULAR_TYPES
        if not regular and (size or sized):  # tarfile reads no data after it, libarchive may
            raise Differs(f"type {kind!r} with a size")
        if regular != (member.type == tarfile.REGTYPE):
            raise Differs(f"type {kind!r} read as {member.type!r}")

    def _read(self, archive: object, context: object, pointer: Any) -> int:
        """libarchive's read callback: the next block of the stream. What the stream raises
        is kept and raised again once libarchive returns (a callback must not raise)."""
        try:
            block = self._stream.read(BLOCK)
        except BaseException as exc:  # raised again by _raise: a callback must not raise
            self._failure = exc
            return -1
        ctypes.cast(pointer, ctypes.POINTER(ctypes.c_void_p))[0] = self._seen.add(block)
        return len(block)

    def _raise(self, cause: Exception | None = None) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        raise tarfile.ReadError(self._message(cause)) from None

    def _message(self, cause: Exception | None) -> str:
        if cause is not None:
            return str(getattr(cause, "msg", cause))
        text = self._lib.ffi.error_string(self._archive) if self._archive is not None else None
        return os.fsdecode(text) if text else "libarchive failed without saying why"


class _Window:
    """The last blocks of the stream handed to libarchive, kept alive (libarchive reads the
    last one in place) and readable by their offset in the stream."""

    def __init__(self) -> None:
        self._blocks: list[tuple[int, bytes]] = []
        self._end = 0

    def add(self, block: bytes) -> int | None:
        """Keep ``block``; return its address for libarchive."""
        self._blocks.append((self._end, block))
        self._end += len(block)
        if len(self._blocks) > KEPT:
            del self._blocks[0]
        return ctypes.cast(ctypes.c_char_p(block), ctypes.c_void_p).value

    def at(self, offset: int, size: int) -> bytes:
        """``size`` bytes of the stream from ``offset``; :class:`Differs` when they are no
        longer (or not yet) kept."""
        pieces, end = [], offset + size
        for start, block in reversed(self._blocks):
            if start < end and offset < start + len(block):
                pieces.append(block[max(offset - start, 0):end - start])
            if start <= offset:
                break
        data = b"".join(reversed(pieces))
        if len(data) != size:
            raise Differs("a header too long to check")
        return data


class _Data:
    """The current member's data, read in blocks (``tarfile.ExFileObject``'s ``read``)."""

    def __init__(self, archive: LibarchiveTar) -> None:
        self._archive = archive

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._archive._left
        pieces = []
        while size > 0 and (piece := self._archive._data(size)):
            pieces.append(piece)
            size -= len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)
