"""A dataset built from another one (datamaestro's ``reference``).

While a definition is built, the data object a referenced dataset gives (and every object inside
it) is remembered with the id and attribute path it came from. Dumping the definition's ``data``
then writes a node ``{_dataset: ID}`` (``_part: documents`` for an object inside it) instead of
copying the other dataset's paths, and preparing the definition prepares that dataset first
(:func:`dmconf.data.registry.build` resolves the node).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

__all__ = ["DATASET_KEY", "PART_KEY", "Found", "collecting", "mark"]

DATASET_KEY = "_dataset"
PART_KEY = "_part"


class Found:
    """Objects that come from other datasets, by identity."""

    def __init__(self) -> None:
        self._origins: dict[int, tuple[BaseModel, str, str]] = {}

    def mark(self, obj: BaseModel, dataset_id: str, part: str = "") -> None:
        """Remember ``obj`` (and what it holds) as part ``part`` of ``dataset_id``."""
        if id(obj) in self._origins:  # the innermost dataset that gave it wins
            return
        self._origins[id(obj)] = (obj, dataset_id, part)
        for name in type(obj).model_fields:
            value = getattr(obj, name, None)
            child = f"{part}.{name}" if part else name
            if isinstance(value, BaseModel):
                self.mark(value, dataset_id, child)

    def node(self, obj: BaseModel) -> dict[str, str] | None:
        """The ``data`` node standing for ``obj``, or None when it is the definition's own."""
        found = self._origins.get(id(obj))
        if found is None or found[0] is not obj:
            return None
        node = {DATASET_KEY: found[1]}
        if found[2]:
            node[PART_KEY] = found[2]
        return node


_current: contextvars.ContextVar[Found | None] = contextvars.ContextVar("references", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[Found]:
    """Collect references while one definition is built (nested builds share the outer one)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    found = Found()
    token = _current.set(found)
    try:
        yield found
    finally:
        _current.reset(token)


def mark(obj: Any, dataset_id: str) -> Any:
    """Mark the data object of a referenced dataset in the definition being built."""
    found = _current.get()
    if found is not None and isinstance(obj, BaseModel):
        found.mark(obj, dataset_id)
    return obj
