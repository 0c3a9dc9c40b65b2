"""``untar``: plain, gzip, bzip2 and xz tar archives (``tarfile``, one pass over the archive).

Members are checked by :mod:`dmconf.unpack.members` and, where the interpreter has it, by
``tarfile``'s ``data`` filter (feature-detected: ``tarfile.data_filter``), which also refuses
device files and drops set-uid bits. Without it (Python < 3.11.4) the same checks are made here.
Modes follow the umask: an archive's 0600 or 0777 never decides who can read a shared dataset.
"""

from __future__ import annotations

import logging
import tarfile
import zlib
from pathlib import Path
from typing import Any

from dmconf.checksum import tree_sha256
from dmconf.errors import UnpackError
from dmconf.unpack.base import Unpacker
from dmconf.unpack.members import check_inside, check_link, check_name, folder_umask

__all__ = ["HAS_DATA_FILTER", "Untar"]

log = logging.getLogger("dmconf")

HAS_DATA_FILTER = hasattr(tarfile, "data_filter")
CORRUPT = (tarfile.TarError, EOFError, zlib.error, ValueError)
# Members were checked above; say so where tarfile asks for a filter (it warns otherwise).
TRUSTED: dict[str, Any] = {"filter": "fully_trusted"} if HAS_DATA_FILTER else {}


class Untar(Unpacker):
    """Extract a tar archive into a new folder."""

    makes_folder = True

    def __init__(self, use_data_filter: bool = HAS_DATA_FILTER) -> None:
        self.use_data_filter = use_data_filter

    def unpack(self, source: Path, target: Path) -> str:
        target.mkdir()
        umask = folder_umask(target)
        try:
            with tarfile.open(source, "r:*") as tar:
                if self.use_data_filter:
                    tar.extractall(target, filter=_filter(source, umask))
                else:
                    for member in tar:
                        tar.extract(_checked(source, member, target, umask), target, **TRUSTED)
        except UnpackError:
            raise
        except tarfile.FilterError as exc:  # refused by the data filter
            name = exc.tarinfo.name
            raise UnpackError(
                f"{source.name}: refusing to extract member {name!r}: {exc}; nothing was "
                "written outside the dataset's folder", path=str(source), member=name,
            ) from None
        except CORRUPT as exc:
            raise UnpackError(
                f"{source.name}: not a valid tar archive ({exc})", path=str(source)
            ) from None
        return tree_sha256(target)


def _mode(member: tarfile.TarInfo, umask: int) -> int:
    executable = member.isdir() or bool(member.mode & 0o111)
    return (0o777 if executable else 0o666) & ~umask


def _filter(source: Path, umask: int) -> Any:
    def check(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
        log.debug("%s: extracting %s", source.name, member.name)
        check_name(source, member.name)
        checked = tarfile.data_filter(member, dest)
        if checked.isfile() or checked.isdir():
            checked = checked.replace(mode=_mode(checked, umask), deep=False)
        return checked

    return check


def _checked(source: Path, member: tarfile.TarInfo, root: Path, umask: int) -> tarfile.TarInfo:
    """The data filter's checks, for interpreters without it."""
    log.debug("%s: extracting %s", source.name, member.name)
    check_name(source, member.name)
    check_inside(source, member.name, root)
    if member.issym() or member.islnk():
        check_link(source, member.name, member.linkname, root, hard=member.islnk())
    elif not (member.isfile() or member.isdir()):
        raise UnpackError(
            f"{source.name}: refusing to extract member {member.name!r}: it is a device or "
            "pipe, not a file", path=str(source), member=member.name,
        )
    member.mode = _mode(member, umask)
    member.uid = member.gid = 0  # no chown to the archive's owners
    member.uname = member.gname = ""
    return member
