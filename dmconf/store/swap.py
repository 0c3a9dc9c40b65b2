"""Putting a verified copy at its final name with no moment where the name is missing.

Where locks do not work (issue 15's file systems, a lock disabled), another process may be
handing out the path of the copy being replaced: renaming the old copy aside and then the new
one in leaves a window in which that path does not exist. A folder is therefore swapped in with
one ``renameat2(RENAME_EXCHANGE)`` (Linux 3.15+, glibc 2.28+; ext4, xfs, btrfs, tmpfs...), and a
file with one ``os.replace``; the old copy is removed afterwards. Where the exchange is not
supported (NFS, other systems), the rename-aside fallback is used.

Python's standard library has no ``renameat2``; the call is made through ``ctypes`` (the PyPI
``renameat2`` package is a thin wrapper of the same call, not worth a dependency).
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

__all__ = ["exchange", "replace_in_place"]

AT_FDCWD = -100
RENAME_EXCHANGE = 1 << 1
UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV})

_renameat2: ctypes._NamedFuncPointer | None
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
    _renameat2.restype = ctypes.c_int
except (AttributeError, OSError):  # not glibc, or an older one
    _renameat2 = None


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing names atomically; False where the system or file system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second),
                  RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def replace_in_place(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``, which exists; remove the old copy afterwards.

    ``target`` names a file or a folder at every moment: a file is replaced by ``os.replace``,
    a folder (or a file by a folder) is exchanged. A link at ``target`` is renamed, never
    followed.
    """
    from dmconf.fetch.download import remove_path

    if not new.is_dir() and not target.is_dir():
        os.replace(new, target)
        return
    if exchange(new, target):
        remove_path(new)  # the old copy, now under the temporary name
        return
    aside = new.with_name(new.name + ".stale")
    os.replace(target, aside)
    try:
        os.replace(new, target)
    finally:
        remove_path(aside)
