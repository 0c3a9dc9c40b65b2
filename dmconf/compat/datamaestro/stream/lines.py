"""datamaestro's line transforms, as a resource's ``lines`` steps (:mod:`dmconf.unpack.lines`)."""

from __future__ import annotations

from dmconf.compat.datamaestro.stream import Transform

__all__ = ["Filter", "LineTransformStream", "Replace"]


class LineTransformStream(Transform):
    """A transform applied line by line."""

    def step(self) -> dict[str, str]:
        """The ``lines`` step that does the same."""
        raise NotImplementedError(f"{type(self).__name__} has no dmconf step")


class Replace(LineTransformStream):
    def __init__(self, pattern: str, replacement: str) -> None:
        self.pattern, self.replacement = pattern, replacement

    def step(self) -> dict[str, str]:
        return {"replace": self.pattern, "by": self.replacement}


class Filter(LineTransformStream):
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def step(self) -> dict[str, str]:
        return {"keep": self.pattern}  # datamaestro's Filter keeps the lines that match
