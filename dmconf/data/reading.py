"""Reading prepared files lazily: opening them, optional libraries, and line-keyed lookups.

Every data type reads its files only when asked, and streams them: the first rows of a huge
corpus cost one read of its first kilobytes. Lookups by key (document id, word) scan the file
once, remembering where each line starts, then seek straight to a line.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Generic, TypeVar, cast

from dmconf.errors import DataFormatError, MissingExtra, NotPrepared

__all__ = ["LineLookup", "json_line", "open_binary", "open_text", "require"]

T = TypeVar("T")


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional library, or say which dmconf extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(module=module, extra=extra, purpose=purpose) from None


def _missing(path: Path) -> NotPrepared:
    return NotPrepared(
        f"{path} does not exist: prepare the dataset first (dmconf prepare ID)", path=str(path)
    )


@contextlib.contextmanager
def open_text(path: Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Open a prepared text file (gzipped if its name ends in ``.gz``); a missing file is
    :class:`NotPrepared`."""
    try:
        if path.suffix == ".gz":
            stream: IO[str] = gzip.open(  # noqa: SIM115
                path, "rt", encoding=encoding, errors="replace", newline="")
        else:
            stream = open(path, encoding=encoding, errors="replace", newline="")  # noqa: SIM115
    except FileNotFoundError:  # only the open is guarded: errors of the caller pass through
        raise _missing(path) from None
    with stream:
        yield stream


@contextlib.contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """Open a prepared file for reading bytes (gunzipped if its name ends in ``.gz``: seeking
    then decompresses from the start, so lookups in gzipped files are slow); a missing file is
    :class:`NotPrepared`."""
    try:
        if path.suffix == ".gz":
            stream = cast(IO[bytes], gzip.GzipFile(path, "rb"))
        else:
            stream = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise _missing(path) from None
    with stream:
        yield stream


def json_line(path: Path, number: int, line: str | bytes) -> dict[str, Any]:
    """One JSON Lines record, or a :class:`DataFormatError` naming the file and line."""
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise DataFormatError(f"{path}, line {number}: not JSON ({exc})", path=str(path)) from None
    if not isinstance(value, dict):
        raise DataFormatError(f"{path}, line {number}: expected a JSON object", path=str(path))
    return value


class LineLookup(Mapping[str, T], Generic[T]):
    """A read-only mapping from a key to the record on one line of a file.

    The first access scans the file once, keeping the byte offset of each key's line (about
    100 bytes of memory a key); each lookup then seeks to the line and parses only it.
    ``key`` gives a line's key (or ``None`` to skip it); ``parse`` turns the line into a record.
    """

    def __init__(
        self, path: Path, key: Callable[[int, bytes], str | None],
        parse: Callable[[int, bytes], T], skip: int = 0,
    ) -> None:
        self.path, self._key, self._parse, self._skip = path, key, parse, skip
        self._offsets: dict[str, tuple[int, int]] | None = None

    def _index(self) -> dict[str, tuple[int, int]]:
        if self._offsets is None:
            offsets: dict[str, tuple[int, int]] = {}
            with open_binary(self.path) as stream:
                position = 0
                for number, line in enumerate(stream, 1):
                    if number > self._skip and line.strip():
                        key = self._key(number, line)
                        if key is not None:
                            offsets.setdefault(key, (position, number))
                    position += len(line)
            self._offsets = offsets
        return self._offsets

    def __getitem__(self, key: str) -> T:
        position, number = self._index()[key]
        with open_binary(self.path) as stream:
            stream.seek(position)
            return self._parse(number, stream.readline())

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def __contains__(self, key: object) -> bool:
        return key in self._index()
