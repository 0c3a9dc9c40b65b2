"""Single-file decompressors: gunzip, bunzip2, unxz (Python's gzip, bz2 and lzma)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from dmconf.errors import UnpackError
from dmconf.unpack.base import Unpacker

OPENERS: dict[str, Callable[[Path, str], IO[bytes]]] = {
    "gunzip": gzip.open, "bunzip2": bz2.open, "unxz": lzma.open,  # type: ignore[dict-item]
}
COPY_BUFFER = 1 << 20


class StreamDecompressor(Unpacker):
    """Decompress one file into one file."""

    def __init__(self, method: str) -> None:
        self.method = method

    def unpack(self, source: Path, target: Path) -> None:
        opener = OPENERS[self.method]
        try:
            with opener(source, "rb") as compressed, open(target, "xb") as out:
                shutil.copyfileobj(compressed, out, COPY_BUFFER)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # disk full, permission denied: not the archive's fault
            raise UnpackError(
                f"{source.name}: cannot {self.method} ({exc}); the file is not a valid "
                f"{self.method[2:] if self.method != 'bunzip2' else 'bzip2'} stream",
                path=str(source),
            ) from None
