"""datamaestro's API on dmconf: what ``dmconf port`` rewrites ``datamaestro`` imports to.

Modules mirror datamaestro's: :mod:`.definitions` (``@dataset``, ``Dataset``, tags),
:mod:`.download` (resources), :mod:`.data` (types), :mod:`.utils` (``HashCheck``),
:mod:`.context`, :mod:`.annotations.agreement`, :mod:`.stream`, :mod:`.record`,
:mod:`.variants`; :mod:`.ids` holds datamaestro's id rule, :mod:`.repository` lists the
definitions of a ported plugin without importing them, :mod:`.port` rewrites a plugin.
Everything builds dmconf's one model of a definition (:class:`dmconf.definition.
DatasetDefinition`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Context", "Dataset", "Repository", "dataset", "metadata", "prepare_dataset"]


def __getattr__(name: str) -> Any:  # datamaestro's top-level names, imported on use
    if name in ("Context", "prepare_dataset", "get_dataset", "Repository", "BaseRepository"):
        from dmconf.compat.datamaestro import context

        return getattr(context, {"get_dataset": "find_dataset"}.get(name, name), object)
    if name in ("dataset", "Dataset", "metadata"):
        from dmconf.compat.datamaestro import definitions

        return getattr(definitions, name)
    if name == "Base":
        from dmconf.compat.datamaestro.data import Base

        return Base
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
