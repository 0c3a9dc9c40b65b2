"""Opening dmconf's own files (partials, their metadata, state, temporaries) in a folder that
others may write: never through a symbolic link, never anything but a regular file.

A group-writable data folder lets any member plant ``.payload.123@host.part -> ~victim/.bashrc``;
``O_NOFOLLOW`` makes the open fail instead of appending to the victim's file, and the error
says what was found. Reads are capped, so a planted multi-gigabyte state file costs nothing.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, cast

from dmconf.errors import StorageError

__all__ = ["foreign", "open_own", "read_own", "write_own"]

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
MODES = {"rb": os.O_RDONLY, "ab": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
         "wb": os.O_WRONLY | os.O_TRUNC | os.O_CREAT, "xb": os.O_WRONLY | os.O_CREAT | os.O_EXCL}
MAX_READ = 16 << 20  # metadata and state files are a few kB


def foreign(path: Path | str, what: str) -> StorageError:
    return StorageError(
        path=str(path), errno=errno.ELOOP,
        reason=f"it is {what}, not a file dmconf made (someone sharing the data folder may "
        "have put it there)",
    )


def open_own(path: Path, mode: str) -> BinaryIO:
    """Open one of dmconf's own files (``rb``, ``ab``, ``wb``, ``xb``) without following links."""
    try:
        fd = os.open(path, MODES[mode] | NOFOLLOW, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise foreign(path, "a symbolic link") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise foreign(path, "not a regular file")
        return cast(BinaryIO, open(fd, "wb" if mode == "xb" else mode))
    except BaseException:
        os.close(fd)
        raise


def read_own(path: Path) -> bytes | None:
    """The content of one of dmconf's small files, or None when it does not exist."""
    try:
        with open_own(path, "rb") as stream:
            return stream.read(MAX_READ)
    except FileNotFoundError:
        return None


def write_own(path: Path, data: bytes) -> None:
    """Write one of dmconf's small files (replacing its content, never through a link)."""
    with open_own(path, "wb") as stream:
        stream.write(data)
