"""Checks that keep archive members inside their folder, shared by the tar and zip unpackers.

An archive member is refused, with an error naming the archive and the member, when its name is
absolute or has a ``..`` component, when it would land outside the folder (through a link
extracted earlier), or when it is a link pointing outside the folder. Refusing is stricter than
``tarfile``'s ``data`` filter, which strips a leading ``/`` instead: a dataset archive with such
names is broken or hostile, and silently moving files elsewhere hides that.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from dmconf.errors import UnpackError

__all__ = ["check_inside", "check_link", "check_name", "folder_umask"]

DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(archive: Path, member: str, why: str) -> UnpackError:
    return UnpackError(
        f"{archive.name}: refusing to extract member {member!r}: {why}; nothing was written "
        "outside the dataset's folder. The archive is damaged or hostile: check its source",
        path=str(archive), member=member,
    )


def check_name(archive: Path, member: str) -> None:
    """Refuse absolute names and names with a ``..`` component (``/`` or ``\\`` separated)."""
    if member.startswith(("/", "\\")) or DRIVE.match(member):
        raise _refuse(archive, member, "its path is absolute")
    if ".." in re.split(r"[/\\]", member):
        raise _refuse(archive, member, "its path goes up with '..'")


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def check_inside(archive: Path, member: str, root: Path) -> None:
    """Refuse a member whose path, following links already extracted, leaves ``root``."""
    real_root = os.path.realpath(root)
    if not _inside(real_root, os.path.realpath(os.path.join(real_root, member))):
        raise _refuse(archive, member, "it would be written outside its folder (through a link)")


def check_link(archive: Path, member: str, link: str, root: Path, *, hard: bool) -> None:
    """Refuse a link whose target is absolute or resolves outside ``root``.

    A symlink's target is relative to the member's folder, a hard link's to the archive root.
    """
    if link.startswith(("/", "\\")) or DRIVE.match(link):
        raise _refuse(archive, member, f"it links to the absolute path {link!r}")
    real_root = os.path.realpath(root)
    base = real_root if hard else os.path.dirname(os.path.join(real_root, member))
    if not _inside(real_root, os.path.realpath(os.path.join(base, link))):
        raise _refuse(archive, member, f"it links to {link!r}, outside its folder")


def folder_umask(folder: Path) -> int:
    """The umask in force, read from a folder just created with mode 0o777.

    ``os.umask`` can only be read by setting it, which races with other threads creating files.
    """
    return 0o777 & ~stat.S_IMODE(os.stat(folder).st_mode)
