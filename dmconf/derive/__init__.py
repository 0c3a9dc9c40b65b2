"""Derived datasets: typed datasets made from others by a registered step, cached by content.

One concept per module:

- :mod:`~dmconf.derive.spec`: the ``derive:`` block of a definition (inputs, step, params);
- :mod:`~dmconf.derive.base`: steps, the :func:`step` decorator and how a name finds one;
- :mod:`~dmconf.derive.key`: the key of an output (a canonical document's sha256);
- :mod:`~dmconf.derive.build`: building an output once, atomically, under a lock; verifying it;
- :mod:`~dmconf.derive.gc`: removing outputs no definition references;
- one module per bundled step: :mod:`~dmconf.derive.idx_npy` (IDX to ``.npy``) and
  :mod:`~dmconf.derive.csv_parquet` (CSV to Parquet, the ``parquet`` extra).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dmconf.derive.base import NoParams, Step, find_step, step

__all__ = ["NoParams", "Step", "find_step", "step"]


def __getattr__(name: str) -> Any:
    """The names of :mod:`~dmconf.derive.base`, imported when first asked for: every
    definition imports :mod:`~dmconf.derive.spec` (this package), few use a step."""
    if name in __all__:
        from dmconf.derive import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
