"""datamaestro's stream transforms; dmconf applies ``Gunzip`` (as ``unpack: gunzip``) only."""

from __future__ import annotations

from typing import Any

__all__ = ["Transform", "TransformList", "only_gunzip"]


class Transform:
    """A transformation of a downloaded stream."""


class TransformList(Transform):
    def __init__(self, *transforms: Transform) -> None:
        self.transforms = list(transforms)


def only_gunzip(transforms: Any) -> bool:
    """Whether ``transforms`` is just decompressing gzip (what ``unpack: gunzip`` does)."""
    from dmconf.compat.datamaestro.stream.compress import Gunzip

    if isinstance(transforms, TransformList):
        return len(transforms.transforms) == 1 and only_gunzip(transforms.transforms[0])
    return isinstance(transforms, Gunzip)
