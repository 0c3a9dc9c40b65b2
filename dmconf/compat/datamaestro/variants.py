"""datamaestro's dataset variants (``id[axis=value]``): declared, not offered by dmconf.

A ported dataset with variants is its default variant; the axes are kept for reading.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AxesVariants", "Axis", "Variants"]


class Variants:
    """The variant space of a dataset."""


class Axis:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


class AxesVariants(Variants):
    def __init__(self, **axes: Axis) -> None:
        self.axes = axes
