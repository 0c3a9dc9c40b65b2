"""``concat``: a tar archive's regular files, in archive order, joined into one file.

What datamaestro's ``concatdownload`` makes of TREC's relevance judgements (``qrels.*.tar.gz``
holding one file per part): a member whose name ends in ``.gz`` is decompressed on the way, as
datamaestro does. Directories are skipped; links, devices and FIFOs are refused (nothing is
ever written but the one output file, so a member's name cannot reach outside the folder, but a
link in a file of judgements is a malformed archive all the same). The output is read and
written in pieces, under the same size and ratio limits as every other unpack step.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
from pathlib import Path
from typing import IO

from dmconf.errors import UnpackError
from dmconf.store.ownfiles import open_own
from dmconf.unpack.base import Unpacker
from dmconf.unpack.limits import DEFAULT, Limits
from dmconf.unpack.members import check_name, refuse
from dmconf.unpack.tar import CORRUPT, decompressed

__all__ = ["Concat"]

PIECE = 1 << 20


class Concat(Unpacker):
    """Join the regular files of a tar archive (``.gz`` ones decompressed) into one file."""

    def __init__(self, limits: Limits = DEFAULT) -> None:
        self.limits = limits

    def unpack(self, source: Path, target: Path) -> str:
        consumed, digest = source.stat().st_size, hashlib.sha256()
        produced = members = 0
        try:
            with open(source, "rb") as raw, decompressed(raw) as stream, \
                    tarfile.open(fileobj=stream, mode="r|") as tar, open_own(target, "wb") as out:
                for member in tar:
                    check_name(source, member.name)
                    members += 1
                    self.limits.check(source.name, produced, consumed, members)
                    if member.isdir():
                        continue
                    if not member.isfile():
                        raise refuse(source, member.name, "only regular files can be joined")
                    data = tar.extractfile(member)
                    assert data is not None  # a regular file always has data
                    reader: IO[bytes] | gzip.GzipFile = (
                        gzip.GzipFile(fileobj=data) if member.name.endswith(".gz") else data)
                    while piece := reader.read(PIECE):
                        produced += len(piece)
                        self.limits.check(source.name, produced, consumed, members)
                        digest.update(piece)
                        out.write(piece)
                while stream.read(PIECE):  # to the end: a truncated stream raises here
                    pass
        except UnpackError:
            raise
        except CORRUPT as exc:
            raise UnpackError(
                f"{source.name}: not a valid tar archive of files to join ({exc})",
                path=str(source)) from None
        return digest.hexdigest()
