"""Checks of archive member names, shared by the tar and zip unpackers.

A member is refused, with an error naming the archive and the member, when its name is absolute,
has a ``..`` component or a NUL byte. Refusing is stricter than ``tarfile``'s ``data`` filter,
which strips a leading ``/`` instead: a dataset archive with such names is broken or hostile,
and silently moving files elsewhere hides that. Where a member lands, and where links point, is
checked by :mod:`dmconf.unpack.extraction` on the real tree.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from dmconf.errors import UnpackError

__all__ = ["check_name", "folder_umask", "refuse"]

DRIVE = re.compile(r"^[A-Za-z]:")


def refuse(archive: Path, member: str, why: str) -> UnpackError:
    """The error for a hostile member; the caller removes the half-extracted folder."""
    return UnpackError(
        f"{archive.name}: refusing to extract member {member!r}: {why}; nothing was written "
        "outside the dataset's folder. The archive is damaged or hostile: check its source",
        path=str(archive), member=member,
    )


def check_name(archive: Path, member: str) -> None:
    """Refuse absolute names, ``..`` components (``/`` or ``\\`` separated) and NUL bytes."""
    if "\0" in member:
        raise refuse(archive, member, "its name holds a NUL byte")
    if member.startswith(("/", "\\")) or (member[1:2] == ":" and DRIVE.match(member)):
        raise refuse(archive, member, "its path is absolute")
    if ".." in member and ".." in re.split(r"[/\\]", member):  # the split only if it may
        raise refuse(archive, member, "its path goes up with '..'")


def folder_umask(folder: Path) -> int:
    """The umask in force, read from a folder just created with mode 0o777.

    ``os.umask`` can only be read by setting it, which races with other threads creating files.
    """
    return 0o777 & ~stat.S_IMODE(os.stat(folder).st_mode)
