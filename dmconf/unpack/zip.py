"""``unzip``: zip archives (``zipfile``), with the same member checks as tar.

``zipfile`` quietly rewrites ``..`` and absolute names; dmconf refuses them instead (see
:mod:`dmconf.unpack.members`). Symbolic links stored by Info-ZIP are made as links when they
stay inside the folder and refused otherwise (``zipfile`` alone would write the link's target as
a file's content). Files get the umask's mode, as ``zipfile`` creates them.
"""

from __future__ import annotations

import logging
import os
import stat
import zipfile
import zlib
from pathlib import Path

from dmconf.checksum import tree_sha256
from dmconf.errors import UnpackError
from dmconf.unpack.base import Unpacker
from dmconf.unpack.members import check_inside, check_link, check_name

__all__ = ["Unzip"]

log = logging.getLogger("dmconf")

CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError)


class Unzip(Unpacker):
    """Extract a zip archive into a new folder."""

    makes_folder = True

    def unpack(self, source: Path, target: Path) -> str:
        target.mkdir()
        try:
            with zipfile.ZipFile(source) as archive:
                for info in archive.infolist():
                    log.debug("%s: extracting %s", source.name, info.filename)
                    check_name(source, info.filename)
                    check_inside(source, info.filename, target)
                    if stat.S_ISLNK(info.external_attr >> 16):
                        link = archive.read(info).decode("utf-8", "surrogateescape")
                        check_link(source, info.filename, link, target, hard=False)
                        path = target / info.filename
                        path.parent.mkdir(parents=True, exist_ok=True)
                        os.symlink(link, path)
                    else:
                        archive.extract(info, target)
        except UnpackError:
            raise
        except CORRUPT as exc:
            raise UnpackError(
                f"{source.name}: not a valid zip archive ({exc})", path=str(source)
            ) from None
        return tree_sha256(target)
