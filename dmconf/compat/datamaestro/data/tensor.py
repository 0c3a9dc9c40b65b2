"""datamaestro's ``datamaestro.data.tensor``."""

from __future__ import annotations

from dmconf.compat.datamaestro.data import File
from dmconf.data.tensor import IDX as CoreIDX

__all__ = ["IDX"]


class IDX(File, CoreIDX):
    """An IDX tensor file (see :class:`dmconf.data.tensor.IDX`)."""
