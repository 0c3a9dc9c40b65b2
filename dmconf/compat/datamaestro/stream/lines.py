"""datamaestro's line transforms (not applied by dmconf)."""

from __future__ import annotations

from dmconf.compat.datamaestro.stream import Transform

__all__ = ["Filter", "LineTransformStream", "Replace"]


class LineTransformStream(Transform):
    """A transform applied line by line."""


class Replace(LineTransformStream):
    def __init__(self, pattern: str, replacement: str) -> None:
        self.pattern, self.replacement = pattern, replacement


class Filter(LineTransformStream):
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
