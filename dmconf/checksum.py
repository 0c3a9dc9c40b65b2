"""sha256 while writing, and after the fact."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

__all__ = ["HashingWriter", "file_sha256"]

READ_SIZE = 1 << 20


class HashingWriter:
    """A binary stream wrapper that hashes (sha256) and counts what is written through it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.out.write(data)

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(READ_SIZE):
            digest.update(chunk)
    return digest.hexdigest()
