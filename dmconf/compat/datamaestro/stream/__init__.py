"""datamaestro's stream transforms: ``Gunzip`` is ``unpack: gunzip``, ``Replace`` and ``Filter``
(:mod:`.lines`) are a resource's ``lines`` steps; others are run by datamaestro only."""

from __future__ import annotations

from typing import Any

__all__ = ["Transform", "TransformList", "line_steps"]


class Transform:
    """A transformation of a downloaded stream."""


class TransformList(Transform):
    def __init__(self, *transforms: Transform) -> None:
        self.transforms = list(transforms)


def line_steps(transforms: Any) -> tuple[bool, list[dict[str, str]]] | None:
    """``transforms`` as (whether it decompresses gzip first, the ``lines`` steps): a
    ``Gunzip`` at the front then ``Replace``/``Filter`` transforms; ``None`` for others."""
    from dmconf.compat.datamaestro.stream.compress import Gunzip
    from dmconf.compat.datamaestro.stream.lines import LineTransformStream

    items = transforms.transforms if isinstance(transforms, TransformList) else [transforms]
    gunzip = bool(items) and isinstance(items[0], Gunzip)
    rest = items[1:] if gunzip else items
    steps = [item.step() for item in rest if isinstance(item, LineTransformStream)]
    return None if len(steps) != len(rest) else (gunzip, steps)
