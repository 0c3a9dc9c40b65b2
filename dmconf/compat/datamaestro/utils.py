"""datamaestro's ``datamaestro.utils``: ``HashCheck`` and ``FileChecker``.

A checker becomes the resource's published checksum: ``HashCheck(value, hashlib.sha256)`` its
``sha256``, ``HashCheck(value)`` or ``HashCheck(value, hashlib.md5)`` its ``md5`` (datamaestro's
default, where the publisher gives nothing else). dmconf verifies either while downloading.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from dmconf.errors import DefinitionError

__all__ = ["FileChecker", "HashCheck", "checksums"]


class FileChecker:
    """Base of datamaestro's checkers."""


class HashCheck(FileChecker):
    """A published digest: ``HashCheck(value, hashlib.md5)`` (md5 is the default)."""

    def __init__(self, hashstr: str, hasher: Callable[..., Any] = hashlib.md5) -> None:
        self.hashstr = hashstr
        self.hasherfn = hasher

    @property
    def algorithm(self) -> str:
        return str(getattr(self.hasherfn(), "name", "unknown"))

    def __repr__(self) -> str:
        return f"HashCheck({self.hashstr!r}, {self.algorithm})"

    def check(self, path: Any) -> None:
        """datamaestro's check of a file (plugin code calls it on what it downloaded)."""
        from pathlib import Path

        digest = self.hasherfn()
        with Path(path).open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        actual = digest.hexdigest()
        if actual != self.hashstr.lower():
            raise ValueError(f"{path}: {self.algorithm} {actual} is not the expected "
                             f"{self.hashstr}")


def checksums(sha256: str | None, checker: Any, key: str) -> dict[str, str | None]:
    """The ``sha256`` or ``md5`` field from ``sha256=`` or a checker (a string: sha256)."""
    if checker is None or sha256 is not None:
        return {"sha256": sha256}
    if isinstance(checker, str):
        return {"sha256": checker}
    value, hasher = getattr(checker, "hashstr", None), getattr(checker, "hasherfn", None)
    algorithm = getattr(hasher() if callable(hasher) else None, "name", None)
    if isinstance(value, str) and algorithm in ("sha256", "md5"):
        return {algorithm: value}
    raise DefinitionError(
        f"resource {key!r}: dmconf verifies sha256 or md5 and cannot use the checker "
        f"{checker!r}; replace it with sha256='...' (without one, the first download prints "
        "the value to pin)"
    )
