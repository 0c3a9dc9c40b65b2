"""sha256 while writing, and after the fact."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

__all__ = ["HashingWriter", "file_sha256", "tree_sha256"]

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


def tree_sha256(folder: Path, skip: str | None = None) -> str:
    """One sha256 for a folder: each entry's relative path, kind and content (or link target).

    What ``dmconf verify`` compares for unpacked archives. Sorted, so independent of the order
    in which the file system lists entries. Entries at the top whose name starts with ``skip``
    are left out (dmconf's own files in a derived output).
    """
    import os

    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        if skip and root == str(folder):
            dirs[:] = [d for d in dirs if not d.startswith(skip)]
            files = [f for f in files if not f.startswith(skip)]
        dirs.sort()
        base = Path(root)
        for name in sorted([*dirs, *files]):
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                digest.update(f"L {rel}\0{os.readlink(path)}\n".encode("utf-8", "surrogateescape"))
            elif path.is_dir():
                digest.update(f"D {rel}\n".encode("utf-8", "surrogateescape"))
            else:
                digest.update(f"F {rel}\0{file_sha256(path)}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
